// Queue manager: fetches jobs from submission rings in device memory, fetches each
// job's command buffer, decodes its packets in order and dispatches them -- DMA to the
// DMA engine, SEM_* to the sync block, FENCE and MSG itself -- then writes a completion
// record into the ring's completion queue and raises its interrupt.
//
// Programmer's view: BAR0 0x1000-0x3FFF (rings, error record, completion queues,
// doorbells; abi/aax_regs.h). Each ring is an independent hardware stream with its own
// SystemC thread, woken by its doorbell: one event per job and per packet, none per cycle.
//
// Guest input is untrusted: a bad descriptor, packet or address stops *that ring* with
// an error record (ERR_*), an error completion record and the error interrupt. The ring
// stays stopped until the host resets it (RING_CTRL.RESET), which drops the jobs still
// queued on it; other rings keep running.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "abi/aax_queue.h"
#include "tlm/core/config.h"
#include "tlm/core/extensions.h"
#include "tlm/core/register_bank.h"
#include "tlm/core/stats.h"

namespace accelvp {

class queue_manager : public sc_core::sc_module, public reset_if {
public:
    static constexpr uint32_t bar_base = 0x1000;  // this block's window in BAR0

    tlm_utils::simple_target_socket<queue_manager> reg_socket;
    tlm_utils::simple_initiator_socket<queue_manager> bus_socket;   // rings, command buffers, CQs
    tlm_utils::simple_initiator_socket<queue_manager> dma_socket;   // DMA packets
    tlm_utils::simple_initiator_socket<queue_manager> sync_socket;  // SEM_SIGNAL / SEM_WAIT
    sc_core::sc_port<irq_if> irq_out;
    sc_core::sc_export<reset_if> reset_in;

    struct params {
        uint32_t rings = 4;
        uint32_t cqs = 4;
        double decode_ns = 4;     // per packet
        double job_ns = 50;       // per job: descriptor checks, scheduling
    };
    static void declare(param_schema& s, const std::string& prefix);
    static params from_config(const config& c, const std::string& prefix);

    queue_manager(sc_core::sc_module_name name, const params& p);
    ~queue_manager() override;

    const params& get_params() const { return p_; }

private:
    struct ring_state {
        uint32_t head = 0, tail = 0, jobs_done = 0;
        bool error = false, busy = false, reset_pending = false;
        uint8_t last_error = 0;
        sc_core::sc_event kick;
        int track = 0;
        std::vector<uint8_t> cmdbuf;  // the fetched command buffer of the current job
    };
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

    void soft_reset() override;
    void ring_thread(unsigned r);
    failure run_job(unsigned r, const aax_job_desc& d, sc_core::sc_time& delay);
    failure run_packet(unsigned r, const uint8_t* pkt, uint32_t len, uint64_t deadline_ps, sc_core::sc_time& delay);
    uint8_t bus(tlm::tlm_command cmd, uint64_t addr, void* data, uint32_t len, sc_core::sc_time& delay);
    uint8_t dispatch(tlm_utils::simple_initiator_socket<queue_manager>& s, unsigned r, const uint8_t* pkt, uint32_t len,
                     uint64_t deadline_ps, sc_core::sc_time& delay, uint64_t& err_addr);
    void complete(unsigned r, const aax_job_desc& d, const failure& f, uint64_t ts_start, sc_core::sc_time& delay);
    void record_error(unsigned r, uint32_t job_id, const failure& f);
    void raise_cq(unsigned r);
    uint64_t ring_base(unsigned r) const;
    void reset_ring(unsigned r);
    uint32_t ring_reg(unsigned r, uint32_t off) const;
    uint32_t cq_reg(unsigned c, uint32_t off) const;
    uint32_t ring_entries(unsigned r) const;
    void reg_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& d) { regs_.b_transport(t, d); }
    unsigned reg_dbg(tlm::tlm_generic_payload& t) { return regs_.transport_dbg(t); }

    params p_;
    register_bank regs_;
    std::vector<std::unique_ptr<ring_state>> rings_;
    std::vector<cq_state> cqs_;
    bool err_valid_ = false;
    uint32_t err_count_ = 0;

    counter jobs_{"jobs", "jobs completed successfully"};
    counter failed_{"jobs_failed", "jobs that stopped their ring with an error"};
    counter packets_{"packets", "packets executed"};
    counter cq_overflows_{"cq_overflows", "completion records dropped (CQ full, bad size, misaligned base, failed write)"};
    std::vector<std::unique_ptr<counter>> per_opcode_;
    log2_histogram job_ns_{"job_latency_ns", "job start to completion record (ns), power-of-two buckets"};
};

} // namespace accelvp
