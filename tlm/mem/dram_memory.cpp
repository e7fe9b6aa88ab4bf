#include "tlm/mem/dram_memory.h"

#include "tlm/mem/store_target.h"

#include <algorithm>

#include "tlm/core/extensions.h"
#include "tlm/core/timeline.h"
#include "tlm/core/trace.h"

namespace accelvp {

dram_system::dram_system(const std::string& name, const dram_params& p) : p_(p), map_(p.mapping, p) {
    p_.validate();
    const uint32_t n = p_.controllers();
    for (uint32_t i = 0; i < n; ++i)
        ch_.push_back(std::make_unique<dram_channel>(p_, name.empty() ? "" : name + ".ch" + std::to_string(i)));
    // Tracing: each channel's data bandwidth as a counter track (docs/profiling.md).
    if (tracer::instance().enabled() && !name.empty())
        for (uint32_t i = 0; i < n; ++i) trace_.push_back(std::make_unique<trace_rate>(name + ".ch" + std::to_string(i)));
}

dram_system::~dram_system() = default;

uint64_t dram_system::idle_read_ps() const {
    return static_cast<uint64_t>(p_.t.tRCD + p_.t.tCL + p_.t.burst_cycles()) * p_.t.tCK_ps;
}

void dram_system::step(uint32_t ci) {
    dram_completion c;
    if (ch_[ci]->step(c)) {
        if (!trace_.empty()) trace_[ci]->add(c.done * p_.t.tCK_ps, p_.burst_bytes());
        if (c.tag && !c.write) {
            read_state& r = reads_[c.tag - 1];
            --r.pending[ci];
            r.done = std::max(r.done, c.done);
        }
    }
}

uint32_t dram_system::submit_read(uint64_t addr, uint64_t len, uint64_t arrival) {
    uint32_t id;
    if (free_reads_.empty()) {
        id = static_cast<uint32_t>(reads_.size());
        reads_.emplace_back();
        reads_.back().pending.assign(ch_.size(), 0);
    } else {
        id = free_reads_.back();
        free_reads_.pop_back();
    }
    read_state& r = reads_[id];
    r.done = arrival;
    uint64_t start = arrival;  // no burst issues before its channel's last decision
    const uint64_t bb = p_.burst_bytes();
    const uint64_t end = addr + std::max<uint64_t>(len, 1);
    for (uint64_t a = addr & ~(bb - 1); a < end; a += bb) {
        uint32_t ci;
        dram_request q = make_request(a, false, arrival, ci);
        q.tag = id + 1;
        dram_channel& ch = *ch_[ci];
        while (!ch.can_accept(false)) step(ci);
        if (r.pending[ci]++ == 0) r.touched.push_back(ci);
        start = std::max(start, ch.now());
        ch.enqueue(q);
    }
    r.bound = start + p_.t.tCL + p_.t.burst_cycles();
    return id;
}

uint64_t dram_system::complete_read(uint32_t id) {
    read_state& r = reads_[id];
    for (const uint32_t ci : r.touched)
        while (r.pending[ci] > 0) step(ci);
    r.touched.clear();
    free_reads_.push_back(id);
    return r.done;
}

uint64_t dram_system::access(uint64_t addr, uint64_t len, bool write, uint64_t arrival) {
    if (!write) return complete_read(submit_read(addr, len, arrival));
    const uint64_t bb = p_.burst_bytes();
    const uint64_t end = addr + std::max<uint64_t>(len, 1);
    uint64_t done = arrival;
    for (uint64_t a = addr & ~(bb - 1); a < end; a += bb) {
        uint32_t ci;
        const dram_request r = make_request(a, true, arrival, ci);  // tag 0: nobody waits for it
        dram_channel& ch = *ch_[ci];
        while (!ch.can_accept(true)) step(ci);
        done = std::max(done, ch.now());  // back-pressure of a full write queue
        ch.enqueue(r);
    }
    return done;
}

void dram_system::flush() {
    for (uint32_t ci = 0; ci < ch_.size(); ++ci)
        while (!ch_[ci]->idle()) step(ci);
}

dram_memory::dram_memory(sc_core::sc_module_name name, const dram_params& p)
    : sc_module(name), socket("socket"), p_(p), store_(p.org.size), sys_(this->name(), p),
      dmi_latency_(ps(sys_.idle_read_ps())) {
    socket.register_b_transport(this, &dram_memory::b_transport);
    socket.register_transport_dbg(this, &dram_memory::transport_dbg);
    socket.register_get_direct_mem_ptr(this, &dram_memory::get_direct_mem_ptr);
    auto& st = global_stats();
    for (stat_base* s : std::initializer_list<stat_base*>{&reads_, &writes_, &errors_, &access_ns_, &split_reads_})
        st.add(this->name(), *s);
}

dram_memory::~dram_memory() = default;  // stats_ unregisters the stats

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
    const uint64_t arrival_ck = (arrival + tck - 1) / tck;
    auto* split = write ? nullptr : t.get_extension<split_read_ext>();
    uint64_t done;  // ps the initiator is told: the data's last beat, or a split read's bound
    if (split && split->can_defer(this)) {
        // Queue the read now, tell the initiator a lower bound; it completes it later.
        const uint32_t id = sys_.submit_read(a, n, arrival_ck);
        if (split_arrival_ps_.size() <= id) split_arrival_ps_.resize(id + 1);
        split_arrival_ps_[id] = arrival;
        done = sys_.read_bound(id) * tck;
        split->target = this;
        split->ticket[split->parts++] = id;
        split->bound_ps = std::max(split->bound_ps, done);
        ++split_reads_;
    } else {
        done = sys_.access(a, n, write, arrival_ck) * tck;
        access_ns_.sample(static_cast<double>(done - std::min(done, arrival)) / 1000.0);
    }
    if (ecc_ && !ecc_->access(t)) {  // uncorrectable: the read took its time, no data
        delay = offset_to(done);
        return;
    }
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

uint64_t dram_memory::complete_split_read(uint64_t ticket) {
    const uint32_t id = static_cast<uint32_t>(ticket);
    const uint64_t done = sys_.complete_read(id) * p_.t.tCK_ps;
    access_ns_.sample(static_cast<double>(done - std::min(done, split_arrival_ps_[id])) / 1000.0);
    return done;
}

unsigned dram_memory::transport_dbg(tlm::tlm_generic_payload& t) { return store_transport_dbg(store_, t); }

bool dram_memory::get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) {
    return p_.dmi && store_dmi(store_, t.get_address(), dmi, dmi_latency_);
}

} // namespace accelvp
