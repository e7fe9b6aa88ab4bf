// Queue manager: the hardware scheduler (cpu.enabled=false) -- one thread per ring that
// fetches, checks and runs its jobs and writes their completion records.
#include "tlm/qman/queue_manager.h"

#include <fmt/format.h>

#include "tlm/core/timeline.h"
#include "tlm/core/trace.h"

namespace accelvp {

queue_manager::failure queue_manager::run_job(unsigned r, const aax_job_desc& d, sc_core::sc_time& delay) {
    ring_state& R = *rings_[r];
    failure f;
    f.opcode = job_level;
    if ((d.flags & ~AAX_JOB_FLAGS_VALID) || d.cmdbuf_size == 0 || d.cmdbuf_size % 8 ||
        d.cmdbuf_size > AAX_MAX_CMDBUF_SIZE || d.cmdbuf_addr % 8) {
        f.status = AAX_ERR_BAD_JOB;
        return f;
    }
    // ASID 0 is physical; another needs an enabled MMU context, and RING_ASID != 0 pins the ring
    // to one. A user ring (RING_ASID USER) runs only jobs of its (nonzero) context and writes no
    // descriptor fence.
    const uint32_t pin = ring_reg(r, AAX_RING_ASID);
    const bool user = pin & AAX_RING_ASID_USER;
    const uint32_t ring_asid = user ? (pin & AAX_RING_ASID_MASK) : pin;
    if (user && (d.flags & AAX_JOB_WRITE_FENCE)) {
        f.status = AAX_ERR_BAD_JOB;
        return f;
    }
    if ((d.asid != 0 && !(mmu_ctx.size() && mmu_ctx->context_enabled(d.asid))) || (ring_asid && ring_asid != d.asid) ||
        (user && d.asid == 0)) {
        f.status = AAX_ERR_BAD_ASID;
        return f;
    }
    R.asid = d.asid;
    delay += sc_core::sc_time(p_.job_ns, sc_core::SC_NS);
    if (d.flags & AAX_JOB_NULL) return f;
    const uint64_t deadline = d.timeout_us ? abs_ps(delay) + static_cast<uint64_t>(d.timeout_us) * 1000000ull : 0;
    return run_cmdbuf(r, d.cmdbuf_addr, d.cmdbuf_size, deadline, true, R.reset_pending, R.cmdbuf, delay);
}

void queue_manager::complete(unsigned r, const aax_job_desc& d, const failure& f_in, uint64_t ts_start,
                             sc_core::sc_time& delay) {
    ring_state& R = *rings_[r];
    failure f = f_in;
    if (f.status == AAX_OK && (d.flags & AAX_JOB_WRITE_FENCE)) {
        uint64_t v = d.fence_value;
        f.status = bus(tlm::TLM_WRITE_COMMAND, d.fence_addr, &v, 8, delay);
        if (f.status) {
            f.addr = d.fence_addr;
            f.opcode = job_level;
            f.offset = 0;
        }
    }
    const unsigned c = (ring_reg(r, AAX_RING_CTRL) & AAX_RING_CTRL_CQ_MASK) >> AAX_RING_CTRL_CQ_SHIFT;
    if (c >= cqs_.size() && f.status == AAX_OK) {
        // The ring names a CQ that does not exist: the job cannot report; make it an error.
        f.status = AAX_ERR_BAD_PARAM;
        f.opcode = job_level;
        f.offset = 0;
        f.addr = c;
    }
    if (c < cqs_.size() && (cq_reg(c, AAX_CQ_CTRL) & AAX_CQ_CTRL_EN)) {
        cq_state& C = cqs_[c];
        const uint32_t l = cq_reg(c, AAX_CQ_SIZE_LOG2);
        const uint32_t n = (l >= 1 && l <= 16) ? 1u << l : 0;
        if (C.tail >= n) C = cq_state{};
        if (n == 0 || (C.tail + 1) % n == cq_reg(c, AAX_CQ_HEAD) % n) {
            ++C.overflows;
            ++cq_overflows_;
        } else {
            aax_cq_entry e{};
            e.job_id = d.job_id;
            e.ring = static_cast<uint16_t>(r);
            e.status = f.status;
            e.flags = (C.phase ? AAX_CQE_PHASE : 0) | ((d.flags & AAX_JOB_TIMESTAMP) ? AAX_CQE_TS_VALID : 0);
            e.err_offset = f.status == AAX_OK ? 0 : f.offset;
            e.err_info = f.status == AAX_OK ? 0 : f.opcode;
            if (d.flags & AAX_JOB_TIMESTAMP) {
                e.ts_start = ts_start;
                e.ts_end = abs_ps(delay) / 1000;
            }
            const uint64_t base = cq_reg(c, AAX_CQ_BASE_LO);
            const uint8_t wst = base % AAX_CQ_ENTRY_SIZE
                                    ? static_cast<uint8_t>(AAX_ERR_BAD_PARAM)
                                    : bus(tlm::TLM_WRITE_COMMAND, base + static_cast<uint64_t>(C.tail) * AAX_CQ_ENTRY_SIZE,
                                          &e, sizeof(e), delay);
            if (wst != AAX_OK) {
                // The record is lost (the slot stays unwritten); the error below reports the job.
                ++C.overflows;
                ++cq_overflows_;
                if (f.status == AAX_OK) {
                    f.status = wst;
                    f.addr = base;
                    f.opcode = job_level;
                    f.offset = 0;
                }
            } else if (++C.tail == n) {
                C.tail = 0;
                C.phase = !C.phase;
            }
        }
    }
    const uint32_t n = ring_entries(r);
    R.head = n ? (R.head + 1) % n : 0;
    sc_core::wait(delay);
    delay = sc_core::SC_ZERO_TIME;
    job_ns_.sample(static_cast<double>(sc_core::sc_time_stamp().value() / 1000 - ts_start));
    if (tracer::instance().enabled())
        tracer::instance().slice(R.track, fmt::format("job {}", d.job_id), ps(ts_start * 1000),
                                 ps(sc_core::sc_time_stamp().value() - ts_start * 1000), "job",
                                 fmt::format(R"({{"status":"{}"}})", aax_status_name(f.status)));
    if (f.status == AAX_OK) {
        ++R.jobs_done;
        ++R.jobs;
        ++jobs_;
        if (d.flags & AAX_JOB_IRQ) raise_cq(r);
    } else {
        ++failed_;
        R.error = true;
        R.last_error = f.status;
        record_error(r, d.job_id, f);
    }
}

void queue_manager::ring_thread(unsigned r) {
    ring_state& R = *rings_[r];
    for (;;) {
        while (!((ring_reg(r, AAX_RING_CTRL) & AAX_RING_CTRL_EN) && !R.error && R.head != R.tail)) sc_core::wait(R.kick);
        R.busy = true;
        sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
        const uint64_t ts_start = sc_core::sc_time_stamp().value() / 1000;
        aax_job_desc d{};
        failure f;
        const uint32_t entries = ring_entries(r);
        if (entries == 0 || R.head >= entries) R.head = 0;  // geometry changed under us
        const uint64_t slot = ring_base(r) + static_cast<uint64_t>(R.head) * AAX_JOB_DESC_SIZE;
        f.status = slot % AAX_JOB_DESC_SIZE ? static_cast<uint8_t>(AAX_ERR_BAD_PARAM)
                                            : bus(tlm::TLM_READ_COMMAND, slot, &d, sizeof(d), delay);
        if (f.status) {
            f.addr = slot;
            f.opcode = job_level;
        } else {
            if (tracer::instance().enabled()) R.flow = flow_step(r, d.job_id, R.track, ts_start * 1000 + 1);
            f = run_job(r, d, delay);
        }
        sc_core::wait(delay);
        delay = sc_core::SC_ZERO_TIME;
        if (R.reset_pending || f.status == AAX_ERR_ABORTED) {
            // Reset while running: drop the job silently; the driver completes it as aborted.
            reset_ring(r);
        } else {
            complete(r, d, f, ts_start, delay);
            if (R.reset_pending) reset_ring(r);  // a reset that arrived while the record was written
        }
        R.busy = false;
        R.flow = 0;
    }
}

} // namespace accelvp
