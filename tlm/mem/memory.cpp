#include "tlm/mem/memory.h"

#include "tlm/core/trace.h"

#include "tlm/mem/store_target.h"

#include <cstring>

namespace accelvp {

const param_table<memory::params>& memory::params::table() {
    static const auto t =
        param_table<params>()
            .integer("size", &params::size, 4096, 1ll << 46, "capacity", "bytes")
            .real("bandwidth_gbps", &params::bandwidth_gbps, 0.1, 100000,
                  "peak data bandwidth (reads and writes share it)", "GB/s")
            .real("latency_ns", &params::latency_ns, 0, 100000, "access latency added to every transaction", "ns")
            .boolean("dmi", &params::dmi, "grant direct memory interface pointers");
    return t;
}

void memory::declare(param_schema& s, const std::string& prefix, const params& d) {
    params::table().declare(s, prefix, d);
}

memory::params memory::from_config(const config& c, const std::string& prefix) {
    return params::table().load(c, prefix);
}

memory::memory(sc_core::sc_module_name name, const params& p)
    : sc_module(name), socket("socket"), p_(p), store_(p.size), bus_(p.bandwidth_gbps * 1e9),
      latency_(sc_core::sc_time(p.latency_ns, sc_core::SC_NS)) {
    socket.register_b_transport(this, &memory::b_transport);
    socket.register_transport_dbg(this, &memory::transport_dbg);
    socket.register_get_direct_mem_ptr(this, &memory::get_direct_mem_ptr);
    auto& st = global_stats();
    for (stat_base* s : std::initializer_list<stat_base*>{&reads_, &writes_, &bytes_read_, &bytes_written_, &errors_,
                                                          &access_ns_, &busy_})
        st.add(this->name(), *s);
    if (tracer::instance().enabled()) trace_bw_ = std::make_unique<trace_rate>(this->name());
}

memory::~memory() = default;  // stats_ unregisters the stats

bool memory::check(tlm::tlm_generic_payload& t) { return store_check(store_, t); }

void memory::b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    if (!check(t)) {
        ++errors_;
        return;
    }
    const uint64_t n = t.get_data_length();
    const uint64_t arrival = abs_ps(delay);
    const uint64_t done = bus_.reserve(arrival, n) + latency_.value();
    busy_ += static_cast<double>(transfer_ps(n, bus_.bandwidth()));
    if (trace_bw_) trace_bw_->add(done - latency_.value(), n);
    access_ns_.sample(static_cast<double>(done - arrival) / 1000.0);
    if (ecc_ && !ecc_->access(t)) {  // uncorrectable: the read took its time, no data
        delay = offset_to(done);
        return;
    }
    store_complete(store_, t, delay, done, p_.dmi, reads_, writes_, bytes_read_, bytes_written_);
}

unsigned memory::transport_dbg(tlm::tlm_generic_payload& t) { return store_transport_dbg(store_, t); }

bool memory::get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) {
    return p_.dmi && store_dmi(store_, t.get_address(), dmi, latency_);
}

} // namespace accelvp
