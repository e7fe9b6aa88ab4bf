#include "tlm/mem/sram.h"

#include <fmt/format.h>

#include "tlm/mem/store_target.h"

namespace accelvp {

const param_table<sram_params>& sram_params::table() {
    static const auto t =
        param_table<sram_params>()
            .integer("size", &sram_params::size, 4096, 1ll << 36, "capacity", "bytes")
            .integer("banks", &sram_params::banks, 1, 1024,
                     "banks; addresses interleave across them every bank_width bytes")
            .integer("bank_width", &sram_params::bank_width, 1, 4096, "bytes one bank reads or writes per cycle",
                     "bytes")
            .integer("ports", &sram_params::ports, 1, 64, "access ports: transactions served at the same time")
            .real("freq_mhz", &sram_params::freq_mhz, 1, 10000, "SRAM clock", "MHz")
            .integer("latency_cycles", &sram_params::latency_cycles, 0, 1000,
                     "bank-to-port pipeline latency per access", "cycles")
            .boolean("dmi", &sram_params::dmi,
                     "grant direct memory interface pointers (their users bypass bank timing)");
    return t;
}

void sram::declare(param_schema& s, const std::string& prefix, const params& d) {
    params::table().declare(s, prefix, d);
}

sram::params sram::from_config(const config& c, const std::string& prefix) {
    return params::table().load(c, prefix);
}

sram::sram(sc_core::sc_module_name name, const params& p)
    : sc_module(name), socket("socket"), p_(p), store_(p.size),
      period_ps_(static_cast<uint64_t>(1e6 / p.freq_mhz + 0.5)), bank_(p.banks), port_(p.ports), beats_(p.banks, 0) {
    if (p.banks == 0 || p.bank_width == 0 || p.ports == 0 || period_ps_ == 0)
        throw config_error(fmt::format("config error: {}: banks, bank_width, ports and the clock must be non-zero",
                                       this->name()));
    socket.register_b_transport(this, &sram::b_transport);
    socket.register_transport_dbg(this, &sram::transport_dbg);
    socket.register_get_direct_mem_ptr(this, &sram::get_direct_mem_ptr);
    auto& st = global_stats();
    for (stat_base* s : std::initializer_list<stat_base*>{&reads_, &writes_, &bytes_read_, &bytes_written_, &errors_,
                                                          &conflict_cycles_, &port_wait_cycles_, &access_ns_})
        st.add(this->name(), *s);
}

sram::~sram() = default;  // stats_ unregisters the stats

uint64_t sram::access(uint64_t addr, uint64_t len, uint64_t arrival_ps) {
    const uint64_t arrival = (arrival_ps + period_ps_ - 1) / period_ps_;  // next cycle edge
    // The earliest-free port (lowest index on ties, so the choice is deterministic).
    size_t pi = 0;
    for (size_t i = 1; i < port_.size(); ++i)
        if (port_[i].free_at() < port_[pi].free_at()) pi = i;
    const uint64_t start = std::max(arrival, port_[pi].free_at());
    port_wait_cycles_ += start - arrival;

    // Beats per bank: whole rounds over all banks, then a partial run of banks.
    const uint64_t w = p_.bank_width, nb = p_.banks;
    const uint64_t first = addr / w, last = (addr + (len ? len : 1) - 1) / w;
    const uint64_t beats = last - first + 1;
    const uint64_t rounds = beats / nb, rest = beats % nb;
    const uint32_t b0 = static_cast<uint32_t>(first % nb);
    uint64_t end = start, conflict = 0;
    const uint64_t touched = rounds ? nb : rest;
    for (uint64_t i = 0; i < touched; ++i) {
        const uint32_t b = static_cast<uint32_t>((b0 + i) % nb);
        const uint64_t n = rounds + (i < rest ? 1 : 0);
        const uint64_t bank_start = std::max(start, bank_[b].free_at());
        conflict = std::max(conflict, bank_start - start);
        end = std::max(end, bank_[b].reserve_for(start, n));
    }
    conflict_cycles_ += conflict;
    port_[pi].reserve_for(start, end - start);
    return (end + p_.latency_cycles) * period_ps_;
}

void sram::b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    if (!store_check(store_, t)) {
        ++errors_;
        return;
    }
    const uint64_t a = t.get_address(), n = t.get_data_length();
    const uint64_t arrival = abs_ps(delay);
    const uint64_t done = access(a, n, arrival);
    access_ns_.sample(static_cast<double>(done - arrival) / 1000.0);
    store_complete(store_, t, delay, done, p_.dmi, reads_, writes_, bytes_read_, bytes_written_);
}

unsigned sram::transport_dbg(tlm::tlm_generic_payload& t) { return store_transport_dbg(store_, t); }

bool sram::get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) {
    return p_.dmi && store_dmi(store_, t.get_address(), dmi, ps((1 + p_.latency_cycles) * period_ps_));
}

} // namespace accelvp
