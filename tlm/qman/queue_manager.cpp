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

// Packet routing: which unit runs each opcode. Adding an engine op is one row here (its
// opcode and size from abi/aax_queue.h, the engine port that runs it) plus its
// implementation in the engine; an op the queue manager runs itself names its handler.
const queue_manager::op_route queue_manager::op_table_[] = {
    // opcode             size (qw; 0: any)      runs on               physical only  QM handler
    {AAX_OP_NOP,          0,                     engine_port::none,    false,         &queue_manager::op_nop},
    {AAX_OP_WREG,         AAX_PKT_WREG_QW,       engine_port::none,    false,         &queue_manager::op_wreg},
    {AAX_OP_DMA,          AAX_PKT_DMA_QW,        engine_port::dma,     false,         nullptr},
    // The compute clusters and the collective engine are not behind the MMU: their
    // addresses (cluster SRAM offsets, local/remote bus addresses) are physical, so a job
    // in an address space may not use them (docs/security.md).
    {AAX_OP_GEMM,         AAX_PKT_GEMM_QW,       engine_port::compute, true,          nullptr},
    {AAX_OP_VEC,          AAX_PKT_VEC_QW,        engine_port::compute, true,          nullptr},
    {AAX_OP_SEM_SIGNAL,   AAX_PKT_SEM_SIGNAL_QW, engine_port::sync,    false,         nullptr},
    {AAX_OP_SEM_WAIT,     AAX_PKT_SEM_WAIT_QW,   engine_port::sync,    false,         nullptr},
    {AAX_OP_FENCE,        AAX_PKT_FENCE_QW,      engine_port::none,    false,         &queue_manager::op_fence},
    {AAX_OP_MSG,          AAX_PKT_MSG_QW,        engine_port::none,    false,         &queue_manager::op_msg},
    // Control transfers: run_cmdbuf follows them (no handler, no engine).
    {AAX_OP_JUMP,         AAX_PKT_JUMP_QW,       engine_port::control, false,         nullptr},
    {AAX_OP_CALL,         AAX_PKT_CALL_QW,       engine_port::control, false,         nullptr},
    {AAX_OP_RET,          AAX_PKT_RET_QW,        engine_port::control, false,         nullptr},
    {AAX_OP_COLL,         AAX_PKT_COLL_QW,       engine_port::coll,    true,          nullptr},
};

const queue_manager::op_route* queue_manager::route(uint8_t opcode) {
    // Indexed once by opcode; an opcode with no row (none below AAX_OP_COUNT today) is
    // reserved for later device versions.
    static const auto by_opcode = [] {
        std::array<const op_route*, 256> t{};
        for (const op_route& r : op_table_) t[r.opcode] = &r;
        return t;
    }();
    return by_opcode[opcode];
}

void queue_manager::declare(param_schema& s, const std::string& prefix) {
    const params d;
    s.integer(prefix + ".rings", d.rings, 1, AAX_MAX_RINGS, "submission rings (hardware streams)");
    s.integer(prefix + ".cqs", d.cqs, 1, AAX_MAX_CQS, "completion queues");
    s.real(prefix + ".decode_ns", d.decode_ns, 0, 1e6, "packet decode and dispatch cost", "ns");
    s.real(prefix + ".job_ns", d.job_ns, 0, 1e6, "per-job cost: descriptor checks, scheduling", "ns");
}

queue_manager::params queue_manager::from_config(const config& c, const std::string& prefix) {
    params p;
    p.rings = static_cast<uint32_t>(c.get_uint(prefix + ".rings"));
    p.cqs = static_cast<uint32_t>(c.get_uint(prefix + ".cqs"));
    p.decode_ns = c.get_real(prefix + ".decode_ns");
    p.job_ns = c.get_real(prefix + ".job_ns");
    return p;
}

queue_manager::queue_manager(sc_core::sc_module_name name, const params& p)
    : sc_module(name), reg_socket("reg_socket"), bus_socket("bus_socket"), dma_socket("dma_socket"),
      sync_socket("sync_socket"), compute_socket("compute_socket"), coll_socket("coll_socket"), irq_out("irq_out"),
      mmu_ctx("mmu_ctx"), reset_in("reset_in"), fw_reg_socket("fw_reg_socket"), fw_irq_out("fw_irq_out"), p_(p),
      regs_(this->name(), AAX_QM_WINDOW_BASE), cqs_(p.cqs), fw_regs_(std::string(this->name()) + ".fw", AAX_FW_WINDOW_BASE) {
    reg_socket.register_b_transport(this, &queue_manager::reg_b_transport);
    reg_socket.register_transport_dbg(this, &queue_manager::reg_dbg);
    fw_reg_socket.register_b_transport(this, &queue_manager::fw_reg_b_transport);
    fw_reg_socket.register_transport_dbg(this, &queue_manager::fw_reg_dbg);
    reset_in.bind(*this);
    engine_sockets_[static_cast<size_t>(engine_port::dma)] = &dma_socket;
    engine_sockets_[static_cast<size_t>(engine_port::sync)] = &sync_socket;
    engine_sockets_[static_cast<size_t>(engine_port::compute)] = &compute_socket;
    engine_sockets_[static_cast<size_t>(engine_port::coll)] = &coll_socket;

    for (unsigned r = 0; r < p.rings; ++r) {
        rings_.push_back(std::make_unique<ring_state>());
        ring_state& R = *rings_.back();
        const uint32_t b = AAX_RING_BASE(r);
        const std::string n = "ring" + std::to_string(r) + ".";
        // Moving or resizing a ring restarts its indices (a busy ring at the next packet boundary).
        auto regeometry = [this, r](uint32_t) {
            ring_state& S = *rings_[r];
            if (S.busy) {
                ring_reset_request(r);
                return;
            }
            S.head = S.tail = 0;
            S.error = false;
            S.last_error = 0;
        };
        regs_.add64(n + "base", b + AAX_RING_BASE_LO, 0, reg_access::rw).write_cb(regeometry);
        regs_.add(n + "size_log2", b + AAX_RING_SIZE_LOG2, 0, reg_access::rw).write_cb(regeometry);
        regs_.add(n + "asid", b + AAX_RING_ASID, 0, reg_access::rw);
        // RESET is self-clearing: not writable, its write is the hook's to act on.
        regs_.add(n + "ctrl", b + AAX_RING_CTRL, 0, reg_access::rw).mask(~uint64_t{AAX_RING_CTRL_RESET}).write_cb([this, r](uint32_t v) {
            if (v & AAX_RING_CTRL_RESET) {
                if (rings_[r]->busy)
                    ring_reset_request(r);  // the running job is dropped at the next packet boundary
                else
                    reset_ring(r);
            }
            rings_[r]->kick.notify(sc_core::SC_ZERO_TIME);
        });
        regs_.add(n + "head", b + AAX_RING_HEAD, 0, reg_access::ro).read_cb([&R] { return R.head; });
        regs_.add(n + "tail", b + AAX_RING_TAIL, 0, reg_access::ro).read_cb([&R] { return R.tail; });
        regs_.add(n + "status", b + AAX_RING_STATUS, AAX_RING_STATUS_IDLE, reg_access::ro).read_cb([&R] {
            uint32_t s = static_cast<uint32_t>(R.last_error) << AAX_RING_STATUS_CODE_SHIFT;
            if (R.error) s |= AAX_RING_STATUS_ERROR;
            if (!R.busy && R.head == R.tail) s |= AAX_RING_STATUS_IDLE;
            return s;
        });
        regs_.add(n + "jobs_done", b + AAX_RING_JOBS_DONE, 0, reg_access::ro).read_cb([&R] { return R.jobs_done; });
        regs_.add("doorbell" + std::to_string(r), AAX_DOORBELL(r), 0, reg_access::wo)
            .write_cb([this, r](uint32_t v) {
                ring_state& R = *rings_[r];
                const uint32_t n = ring_entries(r);
                if (!(ring_reg(r, AAX_RING_CTRL) & AAX_RING_CTRL_EN)) return;  // disabled: ignored
                if (n == 0 || v >= n) {
                    // An impossible tail is guest error: stop the ring and report it.
                    failure f;
                    f.status = AAX_ERR_BAD_PARAM;
                    f.opcode = job_level;
                    f.addr = v;
                    R.error = true;
                    R.last_error = f.status;
                    record_error(r, 0, f);
                    return;
                }
                R.tail = v;
                if (p_.firmware) {
                    fw_doorbells_->set(fw_doorbells_->get() | 1u << r);
                    fw_raise(AAX_FW_INT_DOORBELL);
                } else {
                    R.kick.notify(sc_core::SC_ZERO_TIME);
                }
            });
        R.track = tracer::instance().track(std::string(this->name()) + ".ring" + std::to_string(r));
    }

    // The error record: VALID in ERR_STATUS says it holds an error; writing VALID clears it.
    regs_.add("err_status", AAX_REG_ERR_STATUS, 0, reg_access::w1c).write_cb([this](uint32_t w) {
        if (w & AAX_ERR_STATUS_VALID)
            for (uint32_t a : {AAX_REG_ERR_STATUS, AAX_REG_ERR_JOB_ID, AAX_REG_ERR_OFFSET, AAX_REG_ERR_ADDR_LO})
                regs_[a].set(0);
    });
    // Firmware mailbox: exists with the firmware scheduler only (else writes are ignored).
    regs_.add("mbox_h2f", AAX_REG_MBOX_H2F, 0, reg_access::wo).write_cb([this](uint32_t v) {
        if (!p_.firmware) return;
        // The message and the reply live in the firmware's window (not reset by a soft reset).
        fw_regs_[AAX_FW_MBOX_H2F].set(v);
        reg& f2h = fw_regs_[AAX_FW_MBOX_F2H];
        f2h.set(f2h.get() & ~uint64_t{AAX_MBOX_REPLY});  // the previous reply is stale now
        fw_raise(AAX_FW_INT_MAILBOX);
    });
    regs_.add("mbox_f2h", AAX_REG_MBOX_F2H, 0, reg_access::ro).read_cb([this] { return fw_regs_.peek(AAX_FW_MBOX_F2H); });
    regs_.add("err_job_id", AAX_REG_ERR_JOB_ID, 0, reg_access::ro);
    regs_.add("err_offset", AAX_REG_ERR_OFFSET, 0, reg_access::ro);
    regs_.add64("err_addr", AAX_REG_ERR_ADDR_LO, 0, reg_access::ro);
    regs_.add("err_count", AAX_REG_ERR_COUNT, 0, reg_access::ro);

    for (unsigned c = 0; c < p.cqs; ++c) {
        const uint32_t b = AAX_CQ_BASE(c);
        const std::string n = "cq" + std::to_string(c) + ".";
        // Moving or resizing a CQ restarts it: tail 0, phase 1 (the host zeroes the memory).
        auto restart = [this, c](uint32_t) { cqs_[c] = cq_state{}; };
        regs_.add64(n + "base", b + AAX_CQ_BASE_LO, 0, reg_access::rw).write_cb(restart);
        regs_.add(n + "size_log2", b + AAX_CQ_SIZE_LOG2, 0, reg_access::rw).write_cb(restart);
        regs_.add(n + "head", b + AAX_CQ_HEAD, 0, reg_access::rw);
        regs_.add(n + "tail", b + AAX_CQ_TAIL, 0, reg_access::ro).read_cb([this, c] { return cqs_[c].tail; });
        regs_.add(n + "ctrl", b + AAX_CQ_CTRL, 0, reg_access::rw);
        regs_.add(n + "overflows", b + AAX_CQ_OVERFLOWS, 0, reg_access::ro).read_cb([this, c] {
            return cqs_[c].overflows;
        });
    }

    for (unsigned op = 0; op < AAX_OP_COUNT; ++op) {
        per_opcode_.push_back(std::make_unique<counter>(std::string("packets_") + aax_opcode_name(op),
                                                        std::string("packets with opcode ") + aax_opcode_name(op)));
        global_stats().add(this->name(), *per_opcode_.back());
    }
    for (stat_base* s : std::initializer_list<stat_base*>{&jobs_, &failed_, &packets_, &cmdbufs_, &cq_overflows_, &job_ns_})
        global_stats().add(this->name(), *s);

    if (p.firmware) {
        declare_fw_registers();
        for (unsigned q = 0; q < p.rings; ++q)
            sc_core::sc_spawn([this, q] { eq_thread(q); }, sc_core::sc_gen_unique_name("eq_thread"));
    } else {
        for (unsigned r = 0; r < p.rings; ++r)
            sc_core::sc_spawn([this, r] { ring_thread(r); }, sc_core::sc_gen_unique_name("ring_thread"));
    }
}

void queue_manager::declare_fw_registers() {
    fw_pending_ = &fw_regs_.add("int_pending", AAX_FW_INT_PENDING, 0, reg_access::w1c).write_cb([this](uint32_t) {
        fw_update_irq();
    });
    fw_enable_ = &fw_regs_.add("int_enable", AAX_FW_INT_ENABLE, 0, reg_access::rw).write_cb([this](uint32_t) {
        fw_update_irq();
    });
    fw_doorbells_ = &fw_regs_.add("doorbells", AAX_FW_DOORBELLS, 0, reg_access::w1c);
    fw_resets_ = &fw_regs_.add("resets", AAX_FW_RESETS, 0, reg_access::w1c);

    fw_regs_.add("epoch", AAX_FW_EPOCH, 0, reg_access::rw)
        .read_cb([this] { return epoch_; })
        .write_cb([this](uint32_t v) { fw_epoch_ = v; });
    fw_regs_.add("mbox_h2f", AAX_FW_MBOX_H2F, 0, reg_access::ro);  // the host's MBOX_H2F writes it
    // The reply the host reads in MBOX_F2H, marked fresh.
    fw_regs_.add("mbox_f2h", AAX_FW_MBOX_F2H, 0, reg_access::wo).write_cb([this](uint32_t v) {
        fw_regs_[AAX_FW_MBOX_F2H].set(v | AAX_MBOX_REPLY);
        irq_out->raise(AAX_IRQ_LINE_EVENT);
    });

    for (unsigned r = 0; r < rings_.size(); ++r) {
        ring_state& R = *rings_[r];
        const uint32_t o = AAX_FW_RING(r);
        const std::string n = "ring" + std::to_string(r) + ".";
        fw_regs_.add(n + "head", o + AAX_FW_RING_HEAD, 0, reg_access::rw)
            .read_cb([&R] { return R.head; })
            .write_cb([this, r, &R](uint32_t v) {
                if (!fw_current()) return;
                const uint32_t e = ring_entries(r);
                R.head = e ? v % e : 0;
            });
        fw_regs_.add(n + "state", o + AAX_FW_RING_STATE, 0, reg_access::rw)
            .read_cb([&R] {
                return (R.busy ? AAX_FW_RING_BUSY : 0u) | (R.error ? AAX_FW_RING_ERROR : 0u) |
                       static_cast<uint32_t>(R.last_error) << AAX_FW_RING_CODE_SHIFT;
            })
            .write_cb([this, r, &R](uint32_t v) {
                if (!fw_current()) return;
                R.busy = v & AAX_FW_RING_BUSY;
                R.error = v & AAX_FW_RING_ERROR;
                R.last_error = static_cast<uint8_t>(v >> AAX_FW_RING_CODE_SHIFT);
                if (!R.busy && R.reset_pending) reset_ring(r);  // the firmware dropped the job: reset now
            });
        fw_regs_.add(n + "jobs_done", o + AAX_FW_RING_JOBS_DONE, 0, reg_access::rw)
            .read_cb([&R] { return R.jobs_done; })
            .write_cb([this, &R](uint32_t v) {
                if (fw_current()) R.jobs_done = v;
            });
    }
    for (unsigned c = 0; c < cqs_.size(); ++c) {
        const uint32_t o = AAX_FW_CQ(c);
        const std::string n = "cq" + std::to_string(c) + ".";
        fw_regs_.add(n + "tail", o + AAX_FW_CQ_TAIL, 0, reg_access::rw)
            .read_cb([this, c] { return cqs_[c].tail | (cqs_[c].phase ? AAX_FW_CQ_PHASE : 0u); })
            .write_cb([this, c](uint32_t v) {
                if (!fw_current()) return;
                cqs_[c].tail = v & 0xFFFF;
                cqs_[c].phase = v & AAX_FW_CQ_PHASE;
            });
        fw_regs_.add(n + "overflows", o + AAX_FW_CQ_OVERFLOWS, 0, reg_access::rw)
            .read_cb([this, c] { return cqs_[c].overflows; })
            .write_cb([this, c](uint32_t v) {
                if (!fw_current()) return;
                cq_overflows_ += v - std::min(v, cqs_[c].overflows);
                cqs_[c].overflows = v;
            });
    }
    fw_regs_.add("err_job_id", AAX_FW_ERR_JOB_ID, 0, reg_access::rw);
    fw_regs_.add("err_offset", AAX_FW_ERR_OFFSET, 0, reg_access::rw);
    fw_regs_.add64("err_addr", AAX_FW_ERR_ADDR_LO, 0, reg_access::rw);
    fw_regs_.add("err_report", AAX_FW_ERR_REPORT, 0, reg_access::wo).write_cb([this](uint32_t v) {
        const unsigned r = (v >> 8) & 0xFF;
        if (r >= rings_.size() || !fw_current()) return;
        failure f;
        f.status = static_cast<uint8_t>(v);
        f.opcode = static_cast<uint8_t>(v >> 16);
        f.offset = fw_regs_.peek(AAX_FW_ERR_OFFSET);
        f.addr = fw_regs_[AAX_FW_ERR_ADDR_LO].get();
        ++failed_;
        record_error(r, fw_regs_.peek(AAX_FW_ERR_JOB_ID), f);
    });

    for (unsigned q = 0; q < rings_.size(); ++q) {
        eqs_.push_back(std::make_unique<engine_queue>());
        engine_queue& Q = *eqs_.back();
        const uint32_t o = AAX_FW_EQ(q);
        const std::string n = "eq" + std::to_string(q) + ".";
        fw_regs_.add64(n + "cmdbuf", o + AAX_FW_EQ_CMDBUF_LO, 0, reg_access::rw);
        fw_regs_.add64(n + "deadline", o + AAX_FW_EQ_DEADLINE_LO, 0, reg_access::rw);
        for (auto [name, off] : {std::pair{"size", AAX_FW_EQ_SIZE}, {"ring", AAX_FW_EQ_RING}, {"tag", AAX_FW_EQ_TAG},
                                 {"asid", AAX_FW_EQ_ASID}})
            fw_regs_.add(n + name, o + off, 0, reg_access::rw);
        fw_regs_.add(n + "ctrl", o + AAX_FW_EQ_CTRL, 0, reg_access::wo).write_cb([this, &Q](uint32_t v) {
            if ((v & AAX_FW_EQ_ABORT) && Q.busy) Q.abort = true;
            if ((v & AAX_FW_EQ_START) && !Q.busy && fw_current()) {  // a START while busy is ignored
                Q.busy = true;
                Q.abort = false;
                Q.start.notify(sc_core::SC_ZERO_TIME);
                if (eq_start_hook_) eq_start_hook_();
            } else if ((v & AAX_FW_EQ_START) && Q.busy && Q.abort && fw_current()) {
                // A re-booted firmware starting a queue whose aborted buffer (a soft reset's)
                // is still finishing: it starts as soon as that one has stopped.
                Q.restart = true;
                if (eq_start_hook_) eq_start_hook_();
            }
        });
        fw_regs_.add(n + "status", o + AAX_FW_EQ_STATUS, 0, reg_access::ro).read_cb([&Q] {
            return (Q.busy ? AAX_FW_EQ_BUSY : 0u) | static_cast<uint32_t>(Q.result.status) << AAX_FW_EQ_CODE_SHIFT;
        });
        fw_regs_.add(n + "err_offset", o + AAX_FW_EQ_ERR_OFFSET, 0, reg_access::ro).read_cb([&Q] {
            return Q.result.offset;
        });
        fw_regs_.add(n + "err_opcode", o + AAX_FW_EQ_ERR_OPCODE, 0, reg_access::ro).read_cb([&Q] {
            return static_cast<uint32_t>(Q.result.opcode);
        });
        fw_regs_.add64(n + "err_addr", o + AAX_FW_EQ_ERR_ADDR_LO, 0, reg_access::ro).read_cb([&Q] { return Q.result.addr; });
        fw_regs_.add(n + "done", o + AAX_FW_EQ_DONE, 0, reg_access::ro).read_cb([&Q] { return Q.done; });
    }
}

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

void queue_manager::ring_reset_request(unsigned r) {
    ring_state& R = *rings_[r];
    R.reset_pending = true;
    R.reset_tail = R.tail;  // the jobs queued now are dropped; later submissions survive
    if (p_.firmware) {
        // The firmware aborts the running job, drops it and clears BUSY, which resets the ring.
        fw_resets_->set(fw_resets_->get() | 1u << r);
        fw_raise(AAX_FW_INT_RESET);
    }
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
        rings_[ring]->asid = static_cast<uint16_t>(eq_reg(q, AAX_FW_EQ_ASID));  // the firmware checked it
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

queue_manager::~queue_manager() { global_stats().remove_component(name()); }

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
        }
        R.kick.notify(sc_core::SC_ZERO_TIME);
    }
    for (auto& c : cqs_) c = cq_state{};
    if (p_.firmware) {
        // Running command buffers stop at their next packet; the firmware drops them.
        for (auto& R : rings_) R->reset_pending = false;
        for (auto& Q : eqs_)
            if (Q->busy) Q->abort = true;
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
    if (!mmu_ctx.size() || (ring_reg(r, AAX_RING_CTRL) & AAX_RING_CTRL_PRIV)) return 0;
    return rings_[r]->asid;
}

uint8_t queue_manager::dispatch(tlm_utils::simple_initiator_socket<queue_manager>& s, unsigned r, const uint8_t* pkt,
                                uint32_t len, uint64_t deadline_ps, sc_core::sc_time& delay, uint64_t& err_addr) {
    tlm::tlm_generic_payload t;
    command_ext ext;
    ext.deadline_ps = deadline_ps;
    ext.stream = r;
    ext.asid = rings_[r]->asid;
    ext.abort = rings_[r]->stop;
    ext.fw_watchdog = p_.firmware;
    std::vector<uint8_t> copy(pkt, pkt + len);  // engines get their own copy of the packet
    init_payload(t, tlm::TLM_WRITE_COMMAND, 0, copy.data(), len);
    extension_guard<command_ext> g(t, &ext);
    s->b_transport(t, delay);
    if (t.get_response_status() != tlm::TLM_OK_RESPONSE) return AAX_ERR_BUS;
    err_addr = ext.error_addr;
    return ext.status;
}

void queue_manager::raise_cq(unsigned r) {
    const unsigned c = (ring_reg(r, AAX_RING_CTRL) & AAX_RING_CTRL_CQ_MASK) >> AAX_RING_CTRL_CQ_SHIFT;
    if (c < cqs_.size() && (cq_reg(c, AAX_CQ_CTRL) & AAX_CQ_CTRL_IRQ_EN)) irq_out->raise(AAX_IRQ_CQ_SHIFT + c);
}

queue_manager::failure queue_manager::run_packet(unsigned r, const uint8_t* pkt, uint32_t len, uint64_t deadline_ps,
                                                 sc_core::sc_time& delay) {
    failure f;
    aax_pkt_hdr h;
    std::memcpy(&h, pkt, sizeof(h));
    f.opcode = h.opcode;
    if (h.opcode >= AAX_OP_COUNT) {
        f.status = AAX_ERR_BAD_OPCODE;
        return f;
    }
    const op_route* rt = route(h.opcode);
    const uint32_t want = rt ? rt->qw : 0;
    if (want && h.size_qw != want) {
        f.status = AAX_ERR_BAD_LENGTH;
        return f;
    }
    if (h.flags & ~AAX_PKT_F_IRQ) {
        f.status = AAX_ERR_BAD_PARAM;
        return f;
    }
    const uint64_t start = abs_ps(delay);
    delay += sc_core::sc_time(p_.decode_ns, sc_core::SC_NS);
    if (!rt || rt->port == engine_port::control) {
        f.status = AAX_ERR_UNSUPPORTED;  // reserved for later device versions
    } else if (rt->port == engine_port::none) {
        f.status = (this->*rt->local)(r, h, pkt, delay, f.addr);
    } else if (rt->physical_only && job_space(r)) {
        f.status = AAX_ERR_PRIV;
    } else {
        f.status = dispatch(*engine_sockets_[static_cast<unsigned>(rt->port)], r, pkt, len, deadline_ps, delay, f.addr);
    }
    ++packets_;
    ++*per_opcode_[h.opcode];
    if (tracer::instance().enabled())
        tracer::instance().slice(rings_[r]->track, aax_opcode_name(h.opcode), ps(start), ps(abs_ps(delay) - start),
                                 "packet", fmt::format(R"({{"status":"{}"}})", aax_status_name(f.status)));
    if (f.status == AAX_OK && (h.flags & AAX_PKT_F_IRQ)) {
        sc_core::wait(delay);
        delay = sc_core::SC_ZERO_TIME;
        raise_cq(r);
    }
    return f;
}

uint8_t queue_manager::op_nop(unsigned, const aax_pkt_hdr&, const uint8_t*, sc_core::sc_time&, uint64_t&) {
    return AAX_OK;
}

uint8_t queue_manager::op_fence(unsigned r, const aax_pkt_hdr& h, const uint8_t* pkt, sc_core::sc_time& delay,
                                uint64_t& err_addr) {
    // Packets of one ring retire in order in this version, so all prior work is done here;
    // the write lands after it.
    aax_pkt_fence p;
    std::memcpy(&p, pkt, sizeof(p));
    if (h.param & ~(AAX_FENCE_WRITE_VALUE | AAX_FENCE_WRITE_TS)) return AAX_ERR_BAD_PARAM;
    uint64_t v = p.value;
    if (h.param & AAX_FENCE_WRITE_TS) v = abs_ps(delay) / 1000;
    uint8_t st = AAX_OK;
    if (h.param) st = bus(tlm::TLM_WRITE_COMMAND, p.addr, &v, 8, delay, job_space(r));
    if (st) err_addr = p.addr;
    return st;
}

uint8_t queue_manager::op_wreg(unsigned r, const aax_pkt_hdr& h, const uint8_t* pkt, sc_core::sc_time& delay,
                               uint64_t& err_addr) {
    aax_pkt_wreg p;
    std::memcpy(&p, pkt, sizeof(p));
    if (!(ring_reg(r, AAX_RING_CTRL) & AAX_RING_CTRL_PRIV) || aax_in_fw_window(p.offset)) return AAX_ERR_PRIV;
    if (h.param != 0 || p.offset % 4 || p.offset >= AAX_BAR0_SIZE) return AAX_ERR_BAD_PARAM;
    // The kernel made this ring privileged: the write goes past the register firewall.
    tlm::tlm_generic_payload t;
    uint32_t v = p.value;
    init_payload(t, tlm::TLM_WRITE_COMMAND, p_.regs_base + p.offset, &v, 4);
    privileged_ext mark;
    extension_guard<privileged_ext> g(t, &mark);
    bus_socket->b_transport(t, delay);
    if (t.get_response_status() != tlm::TLM_OK_RESPONSE) {
        err_addr = p.offset;
        return AAX_ERR_BAD_ADDRESS;
    }
    return AAX_OK;
}

uint8_t queue_manager::op_msg(unsigned r, const aax_pkt_hdr& h, const uint8_t* pkt, sc_core::sc_time& delay,
                              uint64_t& err_addr) {
    aax_pkt_msg p;
    std::memcpy(&p, pkt, sizeof(p));
    if (h.param != 0) return AAX_ERR_BAD_PARAM;
    uint32_t v = p.value;
    const uint8_t st = bus(tlm::TLM_WRITE_COMMAND, p.addr, &v, 4, delay, job_space(r));
    if (st) err_addr = p.addr;
    return st;
}

queue_manager::failure queue_manager::run_job(unsigned r, const aax_job_desc& d, sc_core::sc_time& delay) {
    ring_state& R = *rings_[r];
    failure f;
    f.opcode = job_level;
    if ((d.flags & ~AAX_JOB_FLAGS_VALID) || d.cmdbuf_size == 0 || d.cmdbuf_size % 8 ||
        d.cmdbuf_size > AAX_MAX_CMDBUF_SIZE || d.cmdbuf_addr % 8) {
        f.status = AAX_ERR_BAD_JOB;
        return f;
    }
    // ASID 0 is physical; another needs an enabled MMU context, and RING_ASID != 0 pins the ring to one.
    const uint32_t ring_asid = ring_reg(r, AAX_RING_ASID);
    if ((d.asid != 0 && !(mmu_ctx.size() && mmu_ctx->context_enabled(d.asid))) || (ring_asid && ring_asid != d.asid)) {
        f.status = AAX_ERR_BAD_ASID;
        return f;
    }
    R.asid = d.asid;
    delay += sc_core::sc_time(p_.job_ns, sc_core::SC_NS);
    if (d.flags & AAX_JOB_NULL) return f;
    const uint64_t deadline = d.timeout_us ? abs_ps(delay) + static_cast<uint64_t>(d.timeout_us) * 1000000ull : 0;
    return run_cmdbuf(r, d.cmdbuf_addr, d.cmdbuf_size, deadline, true, R.reset_pending, R.cmdbuf, delay);
}

queue_manager::failure queue_manager::run_cmdbuf(unsigned r, uint64_t addr, uint32_t size, uint64_t deadline,
                                                 bool check_deadline, const bool& stop, std::vector<uint8_t>& buf,
                                                 sc_core::sc_time& delay) {
    rings_[r]->stop = &stop;  // engines see it: a hung engine gives up when it is set
    // The buffer being executed, and where CALLs return to (JUMP/CALL/RET).
    struct frame {
        uint64_t addr;
        uint32_t size, off;
        uint16_t space;  // address space of addr: 0 for the job's own buffer (the kernel's), else the job's
    };
    std::vector<frame> calls;
    uint32_t transfers = 0;
    failure f;
    const auto enter = [&](uint64_t a, uint32_t n, uint8_t opcode, uint16_t space) {  // fetch a buffer
        f = failure{};
        f.opcode = opcode;
        if (n == 0 || n % 8 || n > AAX_MAX_CMDBUF_SIZE || a % 8) {
            f.status = opcode == job_level ? AAX_ERR_BAD_JOB : AAX_ERR_BAD_PARAM;
            return false;
        }
        buf.resize(n);
        f.status = bus(tlm::TLM_READ_COMMAND, a, buf.data(), n, delay, space);
        if (f.status) f.addr = a;
        return f.status == AAX_OK;
    };
    uint64_t cur = addr;
    uint32_t cur_size = size;
    uint16_t cur_space = 0;  // the descriptor's buffer: physical (the driver placed it)
    if (!enter(cur, cur_size, job_level, cur_space)) return f;
    for (uint32_t off = 0;;) {
        if (off >= cur_size) {  // end of a buffer: return from a CALL, or the job is done
            if (calls.empty()) break;
            const frame back = calls.back();
            calls.pop_back();
            cur = back.addr;
            cur_size = back.size;
            off = back.off;
            cur_space = back.space;
            if (!enter(cur, cur_size, AAX_OP_RET, cur_space)) return f;
            continue;
        }
        aax_pkt_hdr h;
        std::memcpy(&h, buf.data() + off, sizeof(h));
        const uint64_t len = static_cast<uint64_t>(h.size_qw) * 8;
        const op_route* rt = route(h.opcode);
        const bool control = rt && rt->port == engine_port::control;
        if (h.size_qw == 0 || len > cur_size - off) {
            f = failure{};
            f.status = AAX_ERR_BAD_LENGTH;
        } else if (control) {
            f = failure{};
            if (h.size_qw != rt->qw) f.status = AAX_ERR_BAD_LENGTH;
            else if (h.flags || h.param) f.status = AAX_ERR_BAD_PARAM;
            else if (++transfers > AAX_MAX_CONTROL_TRANSFERS) f.status = AAX_ERR_BAD_PARAM;  // a loop
            else if (h.opcode == AAX_OP_CALL && calls.size() >= AAX_MAX_CALL_DEPTH) f.status = AAX_ERR_BAD_PARAM;
            delay += sc_core::sc_time(p_.decode_ns, sc_core::SC_NS);
            ++packets_;
            ++*per_opcode_[h.opcode];
        } else {
            f = run_packet(r, buf.data() + off, static_cast<uint32_t>(len), deadline, delay);
        }
        f.offset = off;
        f.opcode = h.opcode;
        if (f.status) return f;
        if (control) {
            if (h.opcode == AAX_OP_RET) {
                off = cur_size;  // as if the buffer ended here
                continue;
            }
            aax_pkt_jump j;
            std::memcpy(&j, buf.data() + off, sizeof(j));
            if (h.opcode == AAX_OP_CALL) calls.push_back({cur, cur_size, off + static_cast<uint32_t>(len), cur_space});
            const uint32_t at = off;
            const uint16_t space = job_space(r);  // a job-named buffer: through the job's context
            if (!enter(j.addr, j.size, h.opcode, space)) {
                f.offset = at;
                if (!f.addr && f.status == AAX_ERR_BAD_PARAM) f.addr = j.addr;
                return f;
            }
            cur = j.addr;
            cur_size = j.size;
            cur_space = space;
            off = 0;
        } else {
            off += static_cast<uint32_t>(len);
        }
        // Packet boundary: let simulated time catch up so other rings and the host
        // interleave at packet granularity, and honour resets and deadlines.
        sc_core::wait(delay);
        delay = sc_core::SC_ZERO_TIME;
        if (stop) {
            f.status = AAX_ERR_ABORTED;
            return f;
        }
        if (check_deadline && deadline && sc_core::sc_time_stamp().value() > deadline) {
            f.status = AAX_ERR_TIMEOUT;
            return f;
        }
    }
    return failure{};
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
    }
}

} // namespace accelvp
