#include "tlm/sync/semaphores.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "abi/aax_regs.h"
#include "tlm/core/log.h"
#include "tlm/core/timeline.h"

namespace accelvp {

const param_table<semaphores::params>& semaphores::params::table() {
    static const auto t =
        param_table<params>()
            .integer("count", &params::count, 1, AAX_MAX_SEMS, "number of semaphores")
            .real("wait_timeout_us", &params::wait_timeout_us, 1, 1e9,
                  "device limit on one SEM_WAIT before it fails with SEM_TIMEOUT", "us")
            .real("op_ns", &params::op_ns, 0, 10000, "cost of a signal or a satisfied wait", "ns");
    return t;
}

void semaphores::declare(param_schema& s, const std::string& prefix) { params::table().declare(s, prefix); }

semaphores::params semaphores::from_config(const config& c, const std::string& prefix) {
    return params::table().load(c, prefix);
}

semaphores::semaphores(sc_core::sc_module_name name, const params& p)
    : sc_module(name), reg_socket("reg_socket"), cmd_socket("cmd_socket"), reset_in("reset_in"), p_(p),
      sem_(p.count, 0) {
    reg_socket.register_b_transport(this, &semaphores::reg_b_transport);
    reg_socket.register_transport_dbg(this, &semaphores::reg_transport_dbg);
    cmd_socket.register_b_transport(this, &semaphores::cmd_b_transport);
    reset_in.bind(*this);
    stats_.add({&signals_, &waits_, &timeouts_, &aborted_, &errors_, &wait_ns_});
}

semaphores::~semaphores() = default;  // stats_ unregisters the stats

void semaphores::soft_reset() {
    std::fill(sem_.begin(), sem_.end(), 0u);
    changed();
}

tlm::tlm_response_status semaphores::reg_access(tlm::tlm_generic_payload& t, bool debug) {
    if (t.get_byte_enable_ptr()) return tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE;
    if (t.get_data_length() != 4 || t.get_streaming_width() < 4) return tlm::TLM_BURST_ERROR_RESPONSE;
    const uint64_t addr = t.get_address() + AAX_SYNC_WINDOW_BASE;  // offsets in the window
    if (addr % 4 != 0) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    const bool add = addr >= AAX_SEM_ADD(0);
    const uint64_t s = (addr - (add ? AAX_SEM_ADD(0) : AAX_SEM(0))) / 4;
    if (s >= p_.count) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    if (t.is_read()) {
        if (add) return tlm::TLM_COMMAND_ERROR_RESPONSE;  // write-only
        std::memcpy(t.get_data_ptr(), &sem_[s], 4);
    } else if (t.is_write()) {
        uint32_t v = 0;
        std::memcpy(&v, t.get_data_ptr(), 4);
        if (debug) {  // debug writes set the raw value, no side effects (SEM_ADD keeps none)
            if (!add) sem_[s] = v;
        } else if (add) {
            set(static_cast<uint32_t>(s), get(static_cast<uint32_t>(s)) + v);
            ++signals_;
            changed();
        } else {
            sem_[s] = v;
            changed();
        }
    } else {
        return tlm::TLM_COMMAND_ERROR_RESPONSE;
    }
    return tlm::TLM_OK_RESPONSE;
}

void semaphores::reg_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time&) {
    const auto st = reg_access(t, false);
    t.set_response_status(st);
    // Register-access trace: -p log.regs=debug (docs/debugging.md), as register_bank logs it.
    if (st == tlm::TLM_OK_RESPONSE && static_cast<int>(max_log_level()) >= static_cast<int>(log_level::debug) &&
        log_enabled(log_level::debug, "regs")) {
        uint32_t v = 0;
        std::memcpy(&v, t.get_data_ptr(), 4);
        const uint64_t addr = t.get_address() + AAX_SYNC_WINDOW_BASE;
        const bool add = addr >= AAX_SEM_ADD(0);
        log_write(log_level::debug, "regs",
                  fmt::format("{} {} 0x{:x} {}{} = 0x{:08x}", name(), t.is_read() ? "read " : "write", addr,
                              add ? "sem_add" : "sem", (addr - (add ? AAX_SEM_ADD(0) : AAX_SEM(0))) / 4, v));
    }
    if (st != tlm::TLM_OK_RESPONSE)
        AVP_LOG(debug, name(), "register access error at 0x{:x}: {}", t.get_address() + AAX_SYNC_WINDOW_BASE,
                t.get_response_string());
}

bool semaphores::holds(const aax_pkt_sem_wait& p) const {
    const uint32_t v = get(p.sem);
    switch (p.cond) {
    case AAX_SEM_GE: return v >= p.value;
    case AAX_SEM_EQ: return v == p.value;
    default: return v != 0;  // AAX_SEM_NZ
    }
}

uint8_t semaphores::signal(const aax_pkt_sem_signal& p) {
    if (p.sem >= p_.count || p.mode > AAX_SEM_MODE_ADD) return AAX_ERR_BAD_PARAM;
    set(p.sem, p.mode == AAX_SEM_MODE_SET ? p.value : get(p.sem) + p.value);
    ++signals_;
    changed();
    return AAX_OK;
}

uint8_t semaphores::wait_for(const aax_pkt_sem_wait& p, uint64_t deadline_ps, const bool* abort,
                             const sc_core::sc_event* abort_ev) {
    if (p.sem >= p_.count || p.cond > AAX_SEM_NZ) return AAX_ERR_BAD_PARAM;
    ++waits_;
    const uint64_t start = sc_core::sc_time_stamp().value();
    const uint64_t limit = start + static_cast<uint64_t>(p_.wait_timeout_us * 1e6);
    const bool job_deadline_first = deadline_ps && deadline_ps < limit;
    const uint64_t until = job_deadline_first ? deadline_ps : limit;
    while (!holds(p)) {
        const uint64_t now = sc_core::sc_time_stamp().value();
        // The scheduler gave up on the job (its watchdog, a ring or device reset): the wait
        // ends now, or the queue would stay busy until the semaphore limit.
        if (abort && *abort) {
            ++aborted_;
            wait_ns_.sample(static_cast<double>(now - start) / 1000.0);
            return AAX_ERR_ABORTED;
        }
        if (now >= until) {
            ++timeouts_;
            wait_ns_.sample(static_cast<double>(now - start) / 1000.0);
            return job_deadline_first ? AAX_ERR_TIMEOUT : AAX_ERR_SEM_TIMEOUT;
        }
        if (abort_ev)
            sc_core::wait(ps(until - now), changed_ev_ | *abort_ev);
        else
            sc_core::wait(ps(until - now), changed_ev_);
    }
    if (p.dec) set(p.sem, get(p.sem) - p.value);
    wait_ns_.sample(static_cast<double>(sc_core::sc_time_stamp().value() - start) / 1000.0);
    return AAX_OK;
}

void semaphores::cmd_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    auto* ext = t.get_extension<command_ext>();
    if (!t.is_write() || !ext || t.get_data_length() < sizeof(aax_pkt_hdr)) {
        t.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    // Signals and waits act on shared state: bring the caller's local time up to date
    // first so their order across queues follows simulated time.
    sc_core::wait(delay);
    delay = sc_core::SC_ZERO_TIME;
    aax_pkt_hdr hdr;
    std::memcpy(&hdr, t.get_data_ptr(), sizeof(hdr));
    // A known opcode of the wrong size is a length error, not an unknown opcode (the queue
    // manager checks sizes first; this block does not rely on it).
    const bool sem_op = hdr.opcode == AAX_OP_SEM_SIGNAL || hdr.opcode == AAX_OP_SEM_WAIT;
    uint8_t st = sem_op ? AAX_ERR_BAD_LENGTH : AAX_ERR_BAD_OPCODE;
    if (hdr.opcode == AAX_OP_SEM_SIGNAL && t.get_data_length() == sizeof(aax_pkt_sem_signal)) {
        aax_pkt_sem_signal p;
        std::memcpy(&p, t.get_data_ptr(), sizeof(p));
        st = signal(p);
    } else if (hdr.opcode == AAX_OP_SEM_WAIT && t.get_data_length() == sizeof(aax_pkt_sem_wait)) {
        aax_pkt_sem_wait p;
        std::memcpy(&p, t.get_data_ptr(), sizeof(p));
        st = wait_for(p, ext->deadline_ps, ext->abort, ext->abort_ev);
    }
    if (st == AAX_ERR_BAD_PARAM || st == AAX_ERR_BAD_OPCODE || st == AAX_ERR_BAD_LENGTH) ++errors_;
    delay += sc_core::sc_time(p_.op_ns, sc_core::SC_NS);
    ext->status = st;
    t.set_response_status(tlm::TLM_OK_RESPONSE);
}

} // namespace accelvp
