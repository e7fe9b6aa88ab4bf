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

int queue_manager::fw_track() {
    if (fw_track_ < 0) fw_track_ = tracer::instance().track(fw_track_name_.empty() ? std::string(name()) + ".firmware" : fw_track_name_);
    return fw_track_;
}

std::string queue_manager::flow_key(unsigned r, uint32_t job_id) const {
    // The board: this block's name without ".chip.qman" (the driver's: its host's without ".host").
    std::string scope = name();
    for (int i = 0; i < 2; ++i)
        if (const size_t dot = scope.rfind('.'); dot != std::string::npos) scope.resize(dot);
    return fmt::format("{}/{:x}/{}", scope, ring_base(r), job_id);
}

uint64_t queue_manager::flow_step(unsigned r, uint32_t job_id, int track, uint64_t at_ps) {
    bool created = false;
    const uint64_t id = tracer::instance().flow_id(flow_key(r, job_id), true, &created);
    tracer::instance().flow_event(created ? 's' : 't', track, id, ps(at_ps));
    return id;
}

// The firmware started engine queue q: a "dispatch" slice on the firmware's track, from its
// first EQ register write to START, and the job's flow through it.
void queue_manager::trace_fw_dispatch(unsigned q) {
    unsigned r = static_cast<unsigned>(eq_reg(q, AAX_FW_EQ_RING));
    if (r >= rings_.size()) r = q;
    ring_state& R = *rings_[r];
    const uint64_t now = sc_core::sc_time_stamp().value();
    const uint64_t begin = R.disp_ps && R.disp_ps < now ? R.disp_ps : now - std::min<uint64_t>(now, 1000);
    const uint32_t job = static_cast<uint32_t>(eq_reg(q, AAX_FW_EQ_TAG));
    tracer::instance().slice(fw_track(), fmt::format("dispatch job {}", job), ps(begin), ps(now - begin), "firmware",
                             fmt::format(R"({{"ring":{},"job":{},"cmdbuf":"0x{:x}","size":{}}})", r, job,
                                         eq_reg(q, AAX_FW_EQ_CMDBUF_LO), eq_reg(q, AAX_FW_EQ_SIZE)));
    R.flow = flow_step(r, job, fw_track(), begin + (now - begin) / 2);
    R.trace_job = job;
    R.disp_ps = 0;
}

// The firmware moved ring r's HEAD: it completed the job there. A "complete" slice on its
// track from when it took up the job's outcome (its EQ status read; BUSY for a job that never
// reached an engine queue) to the HEAD write, and the job's flow through it if still open.
void queue_manager::trace_fw_complete(unsigned r) {
    ring_state& R = *rings_[r];
    const uint64_t now = sc_core::sc_time_stamp().value();
    const uint64_t begin = R.mark_ps && R.mark_ps < now ? R.mark_ps : now - std::min<uint64_t>(now, 1000);
    // The job at HEAD (a debugger read: no time, no side effect).
    aax_job_desc d{};
    tlm::tlm_generic_payload t;
    init_payload(t, tlm::TLM_READ_COMMAND, ring_base(r) + static_cast<uint64_t>(R.head) * AAX_JOB_DESC_SIZE,
                 reinterpret_cast<uint8_t*>(&d), sizeof(d));
    if (bus_socket->transport_dbg(t) != sizeof(d)) d.job_id = R.trace_job;
    tracer::instance().slice(fw_track(), fmt::format("complete job {}", d.job_id), ps(begin), ps(now - begin),
                             "firmware", fmt::format(R"({{"ring":{},"job":{}}})", r, d.job_id));
    // (No arrow if the host took the job's completion record already: the firmware writes it
    // before HEAD, and the host may see it first.)
    if (const uint64_t id = tracer::instance().flow_id(flow_key(r, d.job_id), false))
        tracer::instance().flow_event('t', fw_track(), id, ps(begin + (now - begin) / 2));
    R.flow = 0;
    R.mark_ps = 0;
}

// Waits for the START's notification like a thread that was there all along: not run at
// once (dont_initialize), it wakes on `start` in the next delta, where the old one did.
void queue_manager::spawn_eq_thread(unsigned q) {
    engine_queue& Q = *eqs_[q];
    Q.spawned = true;
    sc_core::sc_spawn_options o;
    o.dont_initialize();
    o.set_sensitivity(&Q.start);
    sc_core::sc_spawn([this, q] { eq_thread(q); }, sc_core::sc_gen_unique_name("eq_thread"), &o);
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
        rings_[ring]->vf_sram = false;
        // The firmware's watchdog enforces the job timeout (ABORT); engines stop waiting at the
        // deadline. A bad buffer geometry (a firmware bug) fails as BAD_JOB in run_cmdbuf.
        const failure f = run_cmdbuf(ring, addr, size, deadline_ns * 1000, false, Q.abort, Q.cmdbuf, delay);
        sc_core::wait(delay);
        if (tracer::instance().enabled()) {  // the firmware tags the buffer with the job id
            tracer::instance().slice(rings_[ring]->track, fmt::format("job {}", eq_reg(q, AAX_FW_EQ_TAG)), ps(t0),
                                     ps(sc_core::sc_time_stamp().value() - t0), "job",
                                     fmt::format(R"({{"status":"{}"}})", aax_status_name(f.status)));
            if (rings_[ring]->flow) tracer::instance().flow_event('t', rings_[ring]->track, rings_[ring]->flow, ps(t0 + 1));
            rings_[ring]->done_unread = true;
        }
        Q.result = f;
        Q.sram = rings_[ring]->vf_sram;
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
