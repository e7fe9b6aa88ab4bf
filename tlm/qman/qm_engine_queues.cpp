// Queue manager: the firmware scheduler's engine queues (one per ring, each runs the command
// buffer the firmware hands it) and the firmware's interrupt (MEIP).
#include "abi/aax_sriov.h"
#include "tlm/qman/queue_manager.h"

#include <fmt/format.h>

#include "tlm/core/timeline.h"
#include "tlm/core/trace.h"

namespace accelvp {

void queue_manager::fw_raise(uint32_t bits) {
    fw_pending_->set(fw_pending_->get() | bits);
    fw_update_irq();
}

void queue_manager::fw_update_irq() {
    const bool level = (fw_pending_->get() & fw_enable_->get()) != 0;
    if (level == fw_level_) return;
    fw_level_ = level;
    if (fw_irq_out.size()) fw_irq_out->set_level(fw_irq_line, level);
}

void queue_manager::eq_thread(unsigned q) {
    engine_queue& Q = *eqs_[q];
    for (;;) {
        while (!Q.busy) sc_core::wait(Q.start);
        sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
        const uint64_t t0 = sc_core::sc_time_stamp().value();
        const uint64_t addr = eq_reg(q, AAX_FW_EQ_CMDBUF_LO);
        const uint64_t deadline_ns = eq_reg(q, AAX_FW_EQ_DEADLINE_LO);
        unsigned ring = eq_reg(q, AAX_FW_EQ_RING);
        if (ring >= rings_.size()) ring = q;
        const uint32_t size = eq_reg(q, AAX_FW_EQ_SIZE);
        const uint64_t space = eq_reg(q, AAX_FW_EQ_ASID);
        rings_[ring]->asid = static_cast<uint16_t>(space);  // the firmware checked it
        rings_[ring]->vf = (space & AAX_FW_EQ_ASID_VF) != 0;
        // The firmware's watchdog enforces the job timeout (ABORT); engines stop waiting at the
        // deadline. A bad buffer geometry (a firmware bug) fails as BAD_JOB in run_cmdbuf.
        const failure f = run_cmdbuf(ring, addr, size, deadline_ns * 1000, false, Q.abort, Q.cmdbuf, delay);
        sc_core::wait(delay);
        if (tracer::instance().enabled())  // the firmware tags the buffer with the job id
            tracer::instance().slice(rings_[ring]->track, fmt::format("job {}", eq_reg(q, AAX_FW_EQ_TAG)), ps(t0),
                                     ps(sc_core::sc_time_stamp().value() - t0), "job",
                                     fmt::format(R"({{"status":"{}"}})", aax_status_name(f.status)));
        Q.result = f;
        ++cmdbufs_;
        Q.busy = false;
        Q.abort = false;
        ++Q.done;
        if (Q.restart) {  // the new START, taken now; its completion raises the interrupt
            Q.restart = false;
            Q.busy = true;
            Q.result = failure{};
            continue;
        }
        fw_raise(AAX_FW_INT_EQ(q));
    }
}

} // namespace accelvp
