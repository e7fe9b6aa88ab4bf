#include "tlm/mem/dram_memory.h"

#include "tlm/mem/store_target.h"

#include <algorithm>

#include "tlm/core/extensions.h"
#include "tlm/core/timeline.h"

namespace accelvp {

dram_system::dram_system(const std::string& name, const dram_params& p) : p_(p), map_(p.mapping, p) {
    p_.validate();
    const uint32_t n = p_.controllers();
    for (uint32_t i = 0; i < n; ++i)
        ch_.push_back(std::make_unique<dram_channel>(p_, name.empty() ? "" : name + ".ch" + std::to_string(i)));
    outstanding_.assign(n, 0);
}

uint64_t dram_system::idle_read_ps() const {
    return static_cast<uint64_t>(p_.t.tRCD + p_.t.tCL + p_.t.burst_cycles()) * p_.t.tCK_ps;
}

uint64_t dram_system::access(uint64_t addr, uint64_t len, bool write, uint64_t arrival) {
    const uint64_t bb = p_.burst_bytes();
    const uint64_t end = addr + std::max<uint64_t>(len, 1);
    const uint64_t tag = next_tag_++;
    uint64_t done = arrival;
    dram_completion c;
    auto account = [&](uint32_t ci) {
        if (c.tag == tag && !c.write) {
            --outstanding_[ci];
            done = std::max(done, c.done);
        }
    };
    for (uint64_t a = addr & ~(bb - 1); a < end; a += bb) {
        uint32_t ci;
        dram_request r = make_request(a, write, arrival, ci);
        r.tag = tag;
        dram_channel& ch = *ch_[ci];
        while (!ch.can_accept(write))
            if (ch.step(c)) account(ci);
        if (write) {
            done = std::max(done, ch.now());  // back-pressure of a full write queue
        } else if (outstanding_[ci]++ == 0) {
            touched_.push_back(ci);
        }
        ch.enqueue(r);
    }
    for (uint32_t ci : touched_) {
        dram_channel& ch = *ch_[ci];
        while (outstanding_[ci] > 0)
            if (ch.step(c)) account(ci);
    }
    touched_.clear();
    return done;
}

void dram_system::flush() {
    dram_completion c;
    for (auto& ch : ch_)
        while (!ch->idle()) ch->step(c);
}

dram_memory::dram_memory(sc_core::sc_module_name name, const dram_params& p)
    : sc_module(name), socket("socket"), p_(p), store_(p.org.size), sys_(this->name(), p),
      dmi_latency_(ps(sys_.idle_read_ps())) {
    socket.register_b_transport(this, &dram_memory::b_transport);
    socket.register_transport_dbg(this, &dram_memory::transport_dbg);
    socket.register_get_direct_mem_ptr(this, &dram_memory::get_direct_mem_ptr);
    auto& st = global_stats();
    for (stat_base* s : std::initializer_list<stat_base*>{&reads_, &writes_, &errors_, &access_ns_})
        st.add(this->name(), *s);
}

dram_memory::~dram_memory() { global_stats().remove_component(name()); }

bool dram_memory::check(tlm::tlm_generic_payload& t) { return store_check(store_, t); }

void dram_memory::b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    if (!check(t)) {
        ++errors_;
        return;
    }
    // Time-ordered mode: catch up with the caller's local time first, so transactions of
    // several initiators reach the controllers in global time order (each is scheduled when
    // presented; a late-presented earlier arrival would otherwise queue behind later ones).
    if (time_ordered_ && delay > sc_core::SC_ZERO_TIME &&
        sc_core::sc_get_current_process_handle().proc_kind() == sc_core::SC_THREAD_PROC_) {
        sc_core::wait(delay);
        delay = sc_core::SC_ZERO_TIME;
    }
    const uint64_t a = t.get_address(), n = t.get_data_length();
    const uint64_t tck = p_.t.tCK_ps;
    const uint64_t arrival = abs_ps(delay);
    const bool write = t.is_write();
    if (!write && !t.is_read()) {  // TLM_IGNORE_COMMAND: nothing to do
        t.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
    }
    const uint64_t done = sys_.access(a, n, write, (arrival + tck - 1) / tck) * tck;
    access_ns_.sample(static_cast<double>(done - std::min(done, arrival)) / 1000.0);
    if (write) {
        ++writes_;
        if (!is_timing_only(t)) store_.write(a, t.get_data_ptr(), n);
    } else {
        ++reads_;
        if (!is_timing_only(t)) store_.read(a, t.get_data_ptr(), n);
    }
    delay = offset_to(done);
    t.set_dmi_allowed(p_.dmi);
    t.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned dram_memory::transport_dbg(tlm::tlm_generic_payload& t) { return store_transport_dbg(store_, t); }

bool dram_memory::get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) {
    return p_.dmi && store_dmi(store_, t.get_address(), dmi, dmi_latency_);
}

} // namespace accelvp
