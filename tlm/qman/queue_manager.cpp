#include "tlm/qman/queue_manager.h"

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/format.h>

#include "abi/aax_boot.h"
#include "abi/aax_regs.h"
#include "tlm/core/log.h"
#include "tlm/core/register_firewall.h"
#include "tlm/core/timeline.h"
#include "tlm/core/trace.h"

namespace accelvp {

const param_table<queue_manager::params>& queue_manager::params::table() {
    static const auto t =
        param_table<params>()
            .integer("rings", &params::rings, 1, AAX_MAX_RINGS, "submission rings (hardware streams)")
            .integer("cqs", &params::cqs, 1, AAX_MAX_CQS, "completion queues")
            .real("decode_ns", &params::decode_ns, 0, 1e6, "packet decode and dispatch cost", "ns")
            .real("job_ns", &params::job_ns, 0, 1e6, "per-job cost: descriptor checks, scheduling", "ns");
    return t;
}

void queue_manager::declare(param_schema& s, const std::string& prefix) { params::table().declare(s, prefix); }

queue_manager::params queue_manager::from_config(const config& c, const std::string& prefix) {
    return params::table().load(c, prefix);
}

queue_manager::queue_manager(sc_core::sc_module_name name, const params& p)
    : sc_module(name), reg_socket("reg_socket"), bus_socket("bus_socket"), dma_socket("dma_socket"),
      sync_socket("sync_socket"), compute_socket("compute_socket"), coll_socket("coll_socket"), irq_out("irq_out"),
      mmu_ctx("mmu_ctx"), reset_in("reset_in"), fw_reg_socket("fw_reg_socket"), fw_irq_out("fw_irq_out"), uq_socket("uq_socket"), p_(p),
      regs_(this->name(), AAX_QM_WINDOW_BASE), cqs_(p.cqs), fw_regs_(std::string(this->name()) + ".fw", AAX_FW_WINDOW_BASE),
      uq_regs_(std::string(this->name()) + ".uq", AAX_UQ_WINDOW_BASE) {
    reg_socket.register_b_transport(this, &queue_manager::reg_b_transport);
    reg_socket.register_transport_dbg(this, &queue_manager::reg_dbg);
    fw_reg_socket.register_b_transport(this, &queue_manager::fw_reg_b_transport);
    fw_reg_socket.register_transport_dbg(this, &queue_manager::fw_reg_dbg);
    uq_socket.register_b_transport(this, &queue_manager::uq_b_transport);
    uq_socket.register_transport_dbg(this, &queue_manager::uq_dbg);
    reset_in.bind(*this);
    engine_sockets_[static_cast<size_t>(engine_port::dma)] = &dma_socket;
    engine_sockets_[static_cast<size_t>(engine_port::sync)] = &sync_socket;
    engine_sockets_[static_cast<size_t>(engine_port::compute)] = &compute_socket;
    engine_sockets_[static_cast<size_t>(engine_port::coll)] = &coll_socket;

    for (unsigned r = 0; r < p.rings; ++r) {
        rings_.push_back(std::make_unique<ring_state>());
        rings_.back()->track = tracer::instance().track(std::string(this->name()) + ".ring" + std::to_string(r));
        ring_state& R = *rings_.back();
        for (stat_base* s : std::initializer_list<stat_base*>{&R.jobs, &R.packets, &R.doorbells, &R.depth_sum, &R.depth_max})
            stats_.add("ring" + std::to_string(r), *s);
    }
    declare_host_registers();
    declare_uq_registers();

    for (unsigned op = 0; op < AAX_OP_COUNT; ++op) {
        per_opcode_.push_back(std::make_unique<counter>(std::string("packets_") + aax_opcode_name(op),
                                                        std::string("packets with opcode ") + aax_opcode_name(op)));
        stats_.add(*per_opcode_.back());
    }
    stats_.add({&jobs_, &failed_, &packets_, &cmdbufs_, &cq_overflows_, &job_ns_});

    if (p.firmware) {
        // An engine queue's thread is spawned at its first START (spawn_eq_thread): a chip of
        // a large system that only runs collectives uses one of its 16 queues, and every
        // SystemC thread is a stack and two memory mappings (the kernel allows ~65 000).
        declare_fw_registers();
    } else {
        for (unsigned r = 0; r < p.rings; ++r)
            sc_core::sc_spawn([this, r] { ring_thread(r); }, sc_core::sc_gen_unique_name("ring_thread"));
    }
}

void queue_manager::ring_reset_request(unsigned r) {
    ring_state& R = *rings_[r];
    R.reset_pending = true;
    abort_ev_.notify(sc_core::SC_ZERO_TIME);
    R.reset_tail = R.tail;  // the jobs queued now are dropped; later submissions survive
    if (p_.firmware) {
        // The firmware aborts the running job, drops it and clears BUSY, which resets the ring.
        fw_resets_->set(fw_resets_->get() | 1u << r);
        fw_raise(AAX_FW_INT_RESET);
    }
}

queue_manager::~queue_manager() = default;  // stats_ unregisters the stats

uint64_t queue_manager::ring_reg(unsigned r, uint32_t off) const { return regs_[AAX_RING_BASE(r) + off].get(); }
uint64_t queue_manager::cq_reg(unsigned c, uint32_t off) const { return regs_[AAX_CQ_BASE(c) + off].get(); }

uint64_t queue_manager::ring_base(unsigned r) const { return ring_reg(r, AAX_RING_BASE_LO); }

uint32_t queue_manager::ring_entries(unsigned r) const {
    const uint32_t l = ring_reg(r, AAX_RING_SIZE_LOG2);
    return (l >= 1 && l <= 16) ? (1u << l) : 0;
}

void queue_manager::reset_ring(unsigned r) {
    ring_state& R = *rings_[r];
    R.head = R.reset_pending ? R.reset_tail : R.tail;
    if (fw_resets_) fw_resets_->set(fw_resets_->get() & ~(1u << r));  // done: a later job on the ring is not the reset's to drop
    R.error = false;
    R.last_error = 0;
    R.reset_pending = false;
}

void queue_manager::soft_reset() {
    regs_.reset();
    for (unsigned r = 0; r < rings_.size(); ++r) {
        ring_state& R = *rings_[r];
        R.head = R.tail = R.jobs_done = 0;
        R.error = false;
        R.last_error = 0;
        if (R.busy && !p_.firmware) {
            R.reset_pending = true;
            R.reset_tail = 0;
            abort_ev_.notify(sc_core::SC_ZERO_TIME);
        }
        R.kick.notify(sc_core::SC_ZERO_TIME);
    }
    for (auto& c : cqs_) c = cq_state{};
    uq_pending_ = 0;
    if (p_.firmware) {
        // Running command buffers stop at their next packet; the firmware drops them.
        for (auto& R : rings_) R->reset_pending = false;
        for (auto& Q : eqs_)
            if (Q->busy) Q->abort = true;
        abort_ev_.notify(sc_core::SC_ZERO_TIME);
        fw_doorbells_->set(0);
        fw_resets_->set(AAX_FW_RESETS_SOFT);
        ++epoch_;
        fw_raise(AAX_FW_INT_RESET);
    }
}

uint8_t queue_manager::bus(tlm::tlm_command cmd, uint64_t addr, void* data, uint32_t len, sc_core::sc_time& delay,
                           uint16_t asid) {
    tlm::tlm_generic_payload t;
    init_payload(t, cmd, addr, data, len);
    asid_ext space;  // a job-named address: through the job's MMU context (the QM's MMU port)
    space.asid = asid;
    extension_guard<asid_ext> g(t, asid ? &space : nullptr);
    ecc_ext ecc;  // a command buffer or descriptor on a word with an uncorrectable error
    extension_guard<ecc_ext> ge(t, cmd == tlm::TLM_READ_COMMAND ? &ecc : nullptr);
    bus_socket->b_transport(t, delay);
    if (t.get_response_status() == tlm::TLM_OK_RESPONSE) return AAX_OK;
    if (space.fault) return AAX_ERR_MMU_FAULT;
    if (ecc.uncorrectable) return AAX_ERR_ECC_UE;
    return t.get_response_status() == tlm::TLM_ADDRESS_ERROR_RESPONSE ? AAX_ERR_BAD_ADDRESS : AAX_ERR_BUS;
}

// The address space of the addresses a job names in its packets (FENCE, MSG, JUMP/CALL
// targets): the job's context, except on a privileged (kernel) ring, whose packets are
// physical. Without an MMU every job is physical.
uint16_t queue_manager::job_space(unsigned r) const {
    // (A user ring is never PRIV-privileged: the kernel does not set PRIV on it, and its
    // jobs' context is checked against RING_ASID before they run.)
    if (!mmu_ctx.size() || (ring_reg(r, AAX_RING_CTRL) & AAX_RING_CTRL_PRIV)) return 0;
    return rings_[r]->asid;
}

void queue_manager::raise_cq(unsigned r) {
    const unsigned c = (ring_reg(r, AAX_RING_CTRL) & AAX_RING_CTRL_CQ_MASK) >> AAX_RING_CTRL_CQ_SHIFT;
    if (c < cqs_.size() && (cq_reg(c, AAX_CQ_CTRL) & AAX_CQ_CTRL_IRQ_EN)) irq_out->raise(AAX_IRQ_CQ_SHIFT + c);
}

void queue_manager::record_error(unsigned r, uint32_t job_id, const failure& f) {
    reg& count = regs_[AAX_REG_ERR_COUNT];
    if (count.get() != 0xFFFFFFFFu) count.set(count.get() + 1);  // saturating
    AVP_LOG(info, name(), "ring {} job {} stopped: {} at offset {} (opcode {}, addr 0x{:x})", r, job_id,
            aax_status_name(f.status), f.offset, aax_opcode_name(f.opcode), f.addr);
    reg& status = regs_[AAX_REG_ERR_STATUS];
    if (!(status.get() & AAX_ERR_STATUS_VALID)) {  // keep the first error until the host clears it
        status.set(AAX_ERR_STATUS_VALID | f.status | (r & 0xFF) << 8 | static_cast<uint32_t>(f.opcode) << 16);
        regs_[AAX_REG_ERR_JOB_ID].set(job_id);
        regs_[AAX_REG_ERR_OFFSET].set(f.offset);
        regs_[AAX_REG_ERR_ADDR_LO].set(f.addr);
    }
    tracer::instance().instant(rings_[r]->track, std::string("error ") + aax_status_name(f.status),
                               sc_core::sc_time_stamp());
    irq_out->raise(AAX_IRQ_LINE_ERROR);
}

} // namespace accelvp
