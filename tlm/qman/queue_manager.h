// Queue manager: fetches jobs from submission rings in device memory, fetches each
// job's command buffer, decodes its packets in order and dispatches them -- DMA to the
// DMA engine, SEM_* to the sync block, FENCE and MSG itself -- then writes a completion
// record into the ring's completion queue and raises its interrupt.
//
// Programmer's view: BAR0 0x1000-0x3FFF (rings, error record, completion queues,
// doorbells; abi/aax_regs.h). Each ring is an independent hardware stream with its own
// SystemC thread, woken by its doorbell: one event per job and per packet, none per cycle.
//
// Two schedulers (params::firmware):
//  - hardware: each ring has a SystemC thread that fetches, checks and runs its jobs and
//    writes their completion records itself;
//  - firmware (a chip with a control core): the control-core firmware schedules. The QM
//    then only keeps the host-visible registers, tells the firmware about doorbells and
//    resets through its interrupt controller (MEIP), and offers one *engine queue* per
//    ring that runs a command buffer the firmware hands it (abi/aax_sched.h, BAR0
//    0xA000-0xAFFF). Packet execution is the same code in both.
//
// Guest input is untrusted: a bad descriptor, packet or address stops *that ring* with
// an error record (ERR_*), an error completion record and the error interrupt. The ring
// stays stopped until the host resets it (RING_CTRL.RESET), which drops the jobs still
// queued on it; other rings keep running.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/passthrough_target_socket.h>

#include "abi/aax_queue.h"
#include "abi/aax_regs.h"
#include "abi/aax_sched.h"
#include "tlm/core/params.h"
#include "tlm/core/extensions.h"
#include "tlm/core/register_bank.h"
#include "tlm/core/stats.h"

namespace accelvp {

class queue_manager : public sc_core::sc_module, public reset_if {
public:
    static constexpr uint32_t bar_base = AAX_QM_WINDOW_BASE;  // this block's window in BAR0
    static constexpr uint32_t bar_size = AAX_QM_WINDOW_SIZE;

    tlm_utils::passthrough_target_socket<queue_manager> reg_socket;
    // Rings, command buffers, CQs (physical) and the addresses jobs name (FENCE, MSG,
    // JUMP/CALL targets: with asid_ext, so an MMU port on this socket translates them).
    tlm_utils::simple_initiator_socket<queue_manager> bus_socket;
    tlm_utils::simple_initiator_socket<queue_manager> dma_socket;   // DMA packets
    tlm_utils::simple_initiator_socket<queue_manager> sync_socket;  // SEM_SIGNAL / SEM_WAIT
    tlm_utils::simple_initiator_socket<queue_manager> compute_socket;  // GEMM / VEC (tlm/compute router)
    tlm_utils::simple_initiator_socket<queue_manager> coll_socket;  // COLL (collective engine)
    sc_core::sc_port<irq_if> irq_out;
    sc_core::sc_port<mmu_context_if, 1, sc_core::SC_ZERO_OR_MORE_BOUND> mmu_ctx;  // bound when there is an MMU
    sc_core::sc_export<reset_if> reset_in;
    // Firmware scheduler only: the firmware's register window and its interrupt (MEIP).
    tlm_utils::passthrough_target_socket<queue_manager> fw_reg_socket;
    sc_core::sc_port<irq_level_if, 1, sc_core::SC_ZERO_OR_MORE_BOUND> fw_irq_out;
    static constexpr uint32_t fw_bar_base = AAX_FW_WINDOW_BASE;
    static constexpr uint32_t fw_bar_size = AAX_FW_WINDOW_SIZE;
    static constexpr unsigned fw_irq_line = 11;  // RISC-V machine external interrupt (mip.MEIP)
    // The user-queue doorbell page (BAR0 AAX_UQ_WINDOW_BASE, abi/aax_regs.h AAX_UQ_*): a
    // doorbell there makes the QM read the ring's aax_uq_header and act on it.
    // (May stay unbound: a test bench of the QM alone has no BAR0 router.)
    tlm_utils::passthrough_target_socket_optional<queue_manager> uq_socket;
    static constexpr uint32_t uq_bar_base = AAX_UQ_WINDOW_BASE;
    static constexpr uint32_t uq_bar_size = AAX_UQ_WINDOW_SIZE;

    struct params {
        uint32_t rings = 4;
        uint32_t cqs = 4;
        double decode_ns = 4;     // per packet
        double job_ns = 50;       // per job: descriptor checks, scheduling (hardware scheduler)
        bool firmware = false;    // the control-core firmware schedules (engine queues)
        uint64_t regs_base = 0;   // chip bus address of BAR0 register space (WREG)
        static const param_table<params>& table();  // the parameters: key, member, range, unit, description
    };
    static void declare(param_schema& s, const std::string& prefix);
    static params from_config(const config& c, const std::string& prefix);

    queue_manager(sc_core::sc_module_name name, const params& p);
    ~queue_manager() override;

    const params& get_params() const { return p_; }
    // Debugger view of a ring (docs/debugging.md "State dump"): its registers' state and the
    // packet it is running (or last ran), with no side effect.
    struct ring_view {
        unsigned ring = 0;
        uint32_t head = 0, tail = 0, jobs_done = 0;
        bool busy = false, error = false;
        uint8_t last_error = 0;
        uint64_t cmdbuf_addr = 0;     // the command buffer of the packet below
        uint32_t offset = 0;          // the packet's offset in it
        std::vector<uint8_t> packet;  // empty: the ring has run no packet
    };
    std::vector<ring_view> debug_rings() const;
    // Command-stream breakpoints (docs/debugging.md#command-stream-breakpoints): a ring stops
    // before the packet with index `packet` of a job (0 = its first packet; -1 any) and/or with
    // opcode `opcode` (-1 any), on ring `ring` (-1 any). At a hit the hook runs; the ring then
    // stays stopped (the rest of the chip runs on) until release_ring(), if the hook left it held.
    struct packet_break {
        int ring = -1;
        int64_t packet = -1;
        int opcode = -1;
    };
    void set_packet_breaks(std::vector<packet_break> b) { breaks_ = std::move(b); }
    const std::vector<packet_break>& packet_breaks() const { return breaks_; }
    // hook(ring, packet index in the job, offset in its buffer, opcode).
    void set_break_hook(std::function<void(unsigned, uint32_t, uint32_t, uint8_t)> f) { break_hook_ = std::move(f); }
    bool ring_held(unsigned r) const { return r < rings_.size() && rings_[r]->held; }
    // Let a held ring go on; with `step`, it stops again before its next packet.
    void release_ring(unsigned r, bool step = false);
    // The trace track of the control core (docs/profiling.md): the firmware's job dispatch and
    // completion, as this block sees the firmware's register writes, go there.
    void set_firmware_track(const std::string& name) { fw_track_name_ = name; }
    // Fault injection (fault.fw_crash_*): called when the firmware starts an engine queue.
    void set_eq_start_hook(std::function<void()> f) { eq_start_hook_ = std::move(f); }
    // Hardware performance counters (platform/chip/perf_counters.h): per-ring and total figures.
    struct ring_counts {
        uint64_t jobs, packets, doorbells, depth_sum, depth_max;
    };
    ring_counts ring_perf(unsigned r) const {
        const ring_state& R = *rings_[r];
        return {R.jobs.get(), R.packets.get(), R.doorbells.get(), R.depth_sum.get(), R.depth_max_window};
    }
    void ring_perf_restart_max() {
        for (auto& R : rings_) R->depth_max_window = 0;
    }
    uint64_t packets() const { return packets_.get(); }
    // The cluster SRAM windows (chip bus base, size): a VF buffer's write there sets
    // AAX_FW_EQ_SRAM in its engine queue's status (SR-IOV SRAM scrubbing).
    void set_sram_windows(std::vector<std::pair<uint64_t, uint64_t>> w) { sram_windows_ = std::move(w); }

private:
    struct ring_state {
        uint32_t head = 0, tail = 0, jobs_done = 0;
        uint32_t reset_tail = 0;  // TAIL when a reset of the busy ring was requested
        bool error = false, busy = false, reset_pending = false;
        uint8_t last_error = 0;
        uint16_t asid = 0;  // address space of the current job
        bool vf = false;    // the current job is an SR-IOV VF's (AAX_FW_EQ_ASID_VF): compute allowed in its space
        bool vf_sram = false;  // ... and it wrote cluster SRAM (AAX_FW_EQ_SRAM)
        sc_core::sc_event kick;
        int track = 0;
        std::vector<uint8_t> cmdbuf;  // the fetched command buffer of the current job
        const bool* stop = nullptr;   // the running command buffer's abort flag (engines see it)
        // The packet being run (debug_rings): its buffer, that buffer's address, its offset.
        const std::vector<uint8_t>* cur_buf = nullptr;
        uint64_t cur_addr = 0;
        uint32_t cur_off = 0;
        // Command-stream breakpoints.
        uint32_t job_packets = 0;  // packets of the current job so far
        bool held = false, step = false;
        sc_core::sc_event release_ev;
        // Per-ring stats (board.chip.qman.ringN), read by the performance counters too.
        counter jobs{"jobs", "jobs completed (JOBS_DONE increments, either scheduler)"};
        counter packets{"packets", "packets executed"};
        counter doorbells{"doorbells", "doorbells accepted (queue-depth samples)"};
        counter depth_sum{"queue_depth_sum", "jobs queued (TAIL - HEAD) after each doorbell, summed"};
        counter depth_max{"queue_depth_max", "most jobs queued after a doorbell"};
        uint64_t depth_max_window = 0;  // the performance counters' high-water mark (cleared by them)
        // Tracing only: the current job's flow, and when the firmware began dispatching
        // (EQ CMDBUF write) and completing (its EQ status read, or BUSY) a job of this ring.
        uint64_t flow = 0;
        uint32_t trace_job = 0;
        uint64_t disp_ps = 0, mark_ps = 0;
        bool done_unread = false;  // the engine queue finished; the firmware has not looked yet
    };
    std::string fw_track_name_;
    int fw_track_ = -1;
    int fw_track();
    // The flow key of ring r's job `job_id` (tracer::flow_id): the board, the ring's base, the id.
    std::string flow_key(unsigned r, uint32_t job_id) const;
    // Tracing: a flow step ('s' if the job has no flow yet) on `track` at `at`.
    uint64_t flow_step(unsigned r, uint32_t job_id, int track, uint64_t at_ps);
    void trace_fw_dispatch(unsigned q);
    void trace_fw_complete(unsigned r);
    std::vector<packet_break> breaks_;
    std::function<void(unsigned, uint32_t, uint32_t, uint8_t)> break_hook_;
    void check_break(unsigned r, uint8_t opcode, uint32_t off, sc_core::sc_time& delay);
    std::string packet_trace_args(unsigned r, const aax_pkt_hdr& h, const uint8_t* pkt, uint32_t len,
                                  uint8_t status) const;
    struct cq_state {
        uint32_t tail = 0;
        uint32_t overflows = 0;
        bool phase = true;  // first pass writes PHASE = 1
    };
    static constexpr uint8_t job_level = AAX_ERR_OPCODE_JOB;  // error opcode field: not a packet
    struct failure {
        uint8_t status = AAX_OK;
        uint32_t offset = 0;
        uint8_t opcode = 0;
        uint64_t addr = 0;
    };
    // An engine queue of the firmware scheduler: runs one command buffer at a time.
    struct engine_queue {
        bool busy = false, abort = false;
        bool restart = false;  // a START that came while an aborted buffer was still finishing
        bool sram = false;     // AAX_FW_EQ_SRAM of the last buffer
        failure result;
        uint32_t done = 0;
        bool spawned = false;  // its thread exists (spawned at the queue's first START)
        sc_core::sc_event start;
        std::vector<uint8_t> cmdbuf;
    };

    // Packet routing (the table op_table_ in qm_packets.cpp): the engine port that runs an
    // opcode, or none (the QM runs it: `local`), or control (JUMP/CALL/RET: run_cmdbuf).
    enum class engine_port : uint8_t { none, control, dma, sync, compute, coll, count };
    using op_handler = uint8_t (queue_manager::*)(unsigned r, const aax_pkt_hdr& h, const uint8_t* pkt,
                                                  sc_core::sc_time& delay, uint64_t& err_addr);
    struct op_route {
        uint8_t opcode;
        uint32_t qw;         // required size_qw; 0: any
        engine_port port;
        bool physical_only;  // the engine's addresses are physical: refused (PRIV) to a job in an address space
        op_handler local;    // port none: the QM's own implementation
    };
    static const op_route op_table_[];
    static const op_route* route(uint8_t opcode);  // null: no such opcode
    uint8_t op_nop(unsigned r, const aax_pkt_hdr& h, const uint8_t* pkt, sc_core::sc_time& delay, uint64_t& err_addr);
    uint8_t op_fence(unsigned r, const aax_pkt_hdr& h, const uint8_t* pkt, sc_core::sc_time& delay, uint64_t& err_addr);
    uint8_t op_wreg(unsigned r, const aax_pkt_hdr& h, const uint8_t* pkt, sc_core::sc_time& delay, uint64_t& err_addr);
    uint8_t op_msg(unsigned r, const aax_pkt_hdr& h, const uint8_t* pkt, sc_core::sc_time& delay, uint64_t& err_addr);

    void soft_reset() override;
    void ring_thread(unsigned r);
    failure run_job(unsigned r, const aax_job_desc& d, sc_core::sc_time& delay);
    // Fetches and runs a command buffer for ring r's hardware stream; stops early when
    // `stop` becomes true (ABORTED) or, with a deadline and check_deadline, past it.
    failure run_cmdbuf(unsigned r, uint64_t addr, uint32_t size, uint64_t deadline_ps, bool check_deadline,
                       const bool& stop, std::vector<uint8_t>& buf, sc_core::sc_time& delay);
    void eq_thread(unsigned q);
    void spawn_eq_thread(unsigned q);
    void declare_host_registers();  // qm_registers.cpp
    void declare_uq_registers();
    // A new TAIL for ring r (a kernel doorbell's value, a user queue's header wptr): checked,
    // sampled for the counters, and handed to the scheduler.
    void accept_tail(unsigned r, uint32_t v);
    bool user_ring(unsigned r) const { return ring_reg(r, AAX_RING_ASID) & AAX_RING_ASID_USER; }
    void uq_thread();  // reads the headers of user rings whose doorbell rang
    void uq_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& d) { uq_regs_.b_transport(t, d); }
    unsigned uq_dbg(tlm::tlm_generic_payload& t) { return uq_regs_.transport_dbg(t); }
    void declare_fw_registers();
    void fw_raise(uint32_t bits);
    void fw_update_irq();
    void ring_reset_request(unsigned r);
    uint64_t eq_reg(unsigned q, uint32_t off) const { return fw_regs_[AAX_FW_EQ(q) + off].get(); }
    void fw_reg_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& d) { fw_regs_.b_transport(t, d); }
    unsigned fw_reg_dbg(tlm::tlm_generic_payload& t) { return fw_regs_.transport_dbg(t); }
    failure run_packet(unsigned r, const uint8_t* pkt, uint32_t len, uint64_t deadline_ps, sc_core::sc_time& delay);
    // A bus access; asid != 0: a job-named address, translated in that context (an MMU fault
    // is AAX_ERR_MMU_FAULT).
    uint8_t bus(tlm::tlm_command cmd, uint64_t addr, void* data, uint32_t len, sc_core::sc_time& delay, uint16_t asid = 0);
    uint16_t job_space(unsigned r) const;
    uint8_t dispatch(tlm_utils::simple_initiator_socket<queue_manager>& s, unsigned r, const uint8_t* pkt, uint32_t len,
                     uint64_t deadline_ps, sc_core::sc_time& delay, uint64_t& err_addr);
    void complete(unsigned r, const aax_job_desc& d, const failure& f, uint64_t ts_start, sc_core::sc_time& delay);
    void record_error(unsigned r, uint32_t job_id, const failure& f);
    void raise_cq(unsigned r);
    uint64_t ring_base(unsigned r) const;
    void reset_ring(unsigned r);
    // The value of ring r's / CQ c's register at `off` (AAX_RING_* / AAX_CQ_*; 64-bit for BASE_LO).
    uint64_t ring_reg(unsigned r, uint32_t off) const;
    uint64_t cq_reg(unsigned c, uint32_t off) const;
    uint32_t ring_entries(unsigned r) const;
    void reg_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& d) { regs_.b_transport(t, d); }
    unsigned reg_dbg(tlm::tlm_generic_payload& t) { return regs_.transport_dbg(t); }

    params p_;
    // The initiator socket of each engine_port (null for none/control).
    std::array<tlm_utils::simple_initiator_socket<queue_manager>*, static_cast<size_t>(engine_port::count)> engine_sockets_{};
    register_bank regs_;
    std::vector<std::unique_ptr<ring_state>> rings_;
    std::vector<cq_state> cqs_;
    register_bank fw_regs_;
    register_bank uq_regs_;
    std::vector<std::pair<uint64_t, uint64_t>> sram_windows_;
    bool writes_sram(const aax_pkt_hdr& h, const uint8_t* pkt, uint32_t len) const;
    uint32_t uq_pending_ = 0;  // user rings whose doorbell rang, header not read yet
    bool uq_started_ = false;  // uq_thread and the uq stats exist from the first user doorbell on
    sc_core::sc_event uq_ev_;
    counter uq_doorbells_{"uq_doorbells", "user-queue doorbells acted on (header read)"};
    counter uq_ignored_{"uq_doorbells_ignored", "user-queue doorbells of rings that are disabled or not user rings"};
    std::vector<std::unique_ptr<engine_queue>> eqs_;
    // The firmware window's interrupt and request bits (registers of fw_regs_; null without firmware).
    reg* fw_pending_ = nullptr;
    reg* fw_enable_ = nullptr;
    reg* fw_doorbells_ = nullptr;
    reg* fw_resets_ = nullptr;
    uint32_t epoch_ = 0, fw_epoch_ = 0;  // soft resets so far; the epoch the firmware acts in
    bool fw_current() const { return fw_epoch_ == epoch_; }
    bool fw_level_ = false;

    counter jobs_{"jobs", "jobs completed successfully by the hardware scheduler (cpu.enabled=false)"};
    counter failed_{"jobs_failed", "jobs that stopped their ring with an error"};
    // Notified whenever an abort flag (a ring's reset_pending, an engine queue's abort) is set, so
    // an engine blocked in a wait (SEM_WAIT) sees the abort without polling.
    sc_core::sc_event abort_ev_;
    counter packets_{"packets", "packets executed"};
    counter cmdbufs_{"eq_cmdbufs", "command buffers the firmware ran on the engine queues (firmware scheduler)"};
    counter cq_overflows_{"cq_overflows", "completion records dropped (CQ full, bad size, misaligned base, failed write)"};
    std::vector<std::unique_ptr<counter>> per_opcode_;
    std::function<void()> eq_start_hook_;
    log2_histogram job_ns_{"job_latency_ns", "job start to completion record (ns), power-of-two buckets"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

} // namespace accelvp
