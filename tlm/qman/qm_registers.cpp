// Queue manager: the register maps -- the host's (BAR0 0x1000-0x3FFF: rings, error record,
// mailbox, CQs, doorbells) and the firmware scheduling window (BAR0 0xA000-0xAFFF).
#include "tlm/qman/queue_manager.h"

#include <algorithm>

#include "abi/aax_boot.h"
#include "tlm/core/trace.h"

namespace accelvp {

void queue_manager::declare_host_registers() {
    for (unsigned r = 0; r < rings_.size(); ++r) {
        ring_state& R = *rings_[r];
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
            .write_cb([this, r](uint32_t v) { accept_tail(r, v); });
        // A user ring's header (RING_ASID USER): read at each of its user doorbells.
        regs_.add64(n + "uq_hdr", b + AAX_RING_UQ_HDR_LO, 0, reg_access::rw);
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

    for (unsigned c = 0; c < cqs_.size(); ++c) {
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
}

void queue_manager::accept_tail(unsigned r, uint32_t v) {
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
    // Queue depth after the doorbell (the performance counters' sample).
    const uint64_t depth = (v + n - R.head) % n;
    ++R.doorbells;
    R.depth_sum += depth;
    if (depth > R.depth_max.get()) R.depth_max += depth - R.depth_max.get();
    R.depth_max_window = std::max(R.depth_max_window, depth);
    if (p_.firmware) {
        fw_doorbells_->set(fw_doorbells_->get() | 1u << r);
        fw_raise(AAX_FW_INT_DOORBELL);
    } else {
        R.kick.notify(sc_core::SC_ZERO_TIME);
    }
}

// The user-queue doorbell page: one write-only doorbell per ring, and the page's ID.
void queue_manager::declare_uq_registers() {
    uq_regs_.add("uq_id", AAX_REG_UQ_ID, AAX_UQ_ID_MAGIC, reg_access::ro);
    for (unsigned r = 0; r < rings_.size(); ++r)
        uq_regs_.add("uq_doorbell" + std::to_string(r), AAX_UQ_DOORBELL(r), 0, reg_access::wo).write_cb([this, r](uint32_t) {
            if (!uq_started_) {  // (only runs with user queues have the thread and the stats)
                uq_started_ = true;
                stats_.add({&uq_doorbells_, &uq_ignored_});
                sc_core::sc_spawn([this] { uq_thread(); }, "uq_thread");
            }
            if (!(ring_reg(r, AAX_RING_CTRL) & AAX_RING_CTRL_EN) || !user_ring(r)) {
                ++uq_ignored_;
                return;
            }
            uq_pending_ |= 1u << r;
            uq_ev_.notify(sc_core::SC_ZERO_TIME);
        });
}

// Reads the header of each user ring whose doorbell rang (the owner's memory, at the address
// the kernel programmed) and applies it: the CQ's HEAD, then the TAIL as a doorbell would. A
// header the QM cannot read stops the ring with BAD_ADDRESS (ERR_ADDR = the header address).
void queue_manager::uq_thread() {
    for (;;) {
        while (!uq_pending_) sc_core::wait(uq_ev_);
        for (unsigned r = 0; r < rings_.size(); ++r) {
            if (!(uq_pending_ & (1u << r))) continue;
            uq_pending_ &= ~(1u << r);
            const uint64_t hdr = ring_reg(r, AAX_RING_UQ_HDR_LO);
            aax_uq_header h{};
            sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
            const uint8_t st = hdr % AAX_UQ_HEADER_SIZE ? static_cast<uint8_t>(AAX_ERR_BAD_PARAM)
                                                        : bus(tlm::TLM_READ_COMMAND, hdr, &h, 8, delay);
            sc_core::wait(delay);
            // Revoked or reset while the header was read: nothing to do.
            if (!(ring_reg(r, AAX_RING_CTRL) & AAX_RING_CTRL_EN) || !user_ring(r)) continue;
            ++uq_doorbells_;
            if (st != AAX_OK) {
                ring_state& R = *rings_[r];
                failure f;
                f.status = st;
                f.opcode = job_level;
                f.addr = hdr;
                R.error = true;
                R.last_error = f.status;
                record_error(r, 0, f);
                continue;
            }
            const unsigned c = (ring_reg(r, AAX_RING_CTRL) & AAX_RING_CTRL_CQ_MASK) >> AAX_RING_CTRL_CQ_SHIFT;
            if (c < cqs_.size()) regs_[AAX_CQ_BASE(c) + AAX_CQ_HEAD].set(h.cq_head);
            accept_tail(r, h.wptr);
        }
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
                if (tracer::instance().enabled()) trace_fw_complete(r);
                const uint32_t e = ring_entries(r);
                R.head = e ? v % e : 0;
                // A user ring's doorbells share one header read, so the firmware may see one
                // doorbell for several jobs: while the ring has more, the QM rings again (a job
                // that took no engine queue -- AAX_JOB_NULL -- would otherwise wait for the
                // owner's next doorbell). Kernel rings: one doorbell per job, as before.
                if (R.head != R.tail && user_ring(r) && (ring_reg(r, AAX_RING_CTRL) & AAX_RING_CTRL_EN)) {
                    fw_doorbells_->set(fw_doorbells_->get() | 1u << r);
                    fw_raise(AAX_FW_INT_DOORBELL);
                }
            });
        fw_regs_.add(n + "state", o + AAX_FW_RING_STATE, 0, reg_access::rw)
            .read_cb([&R] {
                return (R.busy ? AAX_FW_RING_BUSY : 0u) | (R.error ? AAX_FW_RING_ERROR : 0u) |
                       static_cast<uint32_t>(R.last_error) << AAX_FW_RING_CODE_SHIFT;
            })
            .write_cb([this, r, &R](uint32_t v) {
                if (!fw_current()) return;
                if ((v & AAX_FW_RING_BUSY) && !R.busy && tracer::instance().enabled()) R.mark_ps = sc_core::sc_time_stamp().value();
                R.busy = v & AAX_FW_RING_BUSY;
                R.error = v & AAX_FW_RING_ERROR;
                R.last_error = static_cast<uint8_t>(v >> AAX_FW_RING_CODE_SHIFT);
                if (!R.busy && R.reset_pending) reset_ring(r);  // the firmware dropped the job: reset now
            });
        fw_regs_.add(n + "jobs_done", o + AAX_FW_RING_JOBS_DONE, 0, reg_access::rw)
            .read_cb([&R] { return R.jobs_done; })
            .write_cb([this, &R](uint32_t v) {
                if (!fw_current()) return;
                R.jobs += static_cast<uint32_t>(v - R.jobs_done);  // the firmware counts a job done
                R.jobs_done = v;
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
        fw_regs_.add64(n + "cmdbuf", o + AAX_FW_EQ_CMDBUF_LO, 0, reg_access::rw).write_cb([this, q](uint32_t) {
            if (tracer::instance().enabled() && !rings_[q]->disp_ps) rings_[q]->disp_ps = sc_core::sc_time_stamp().value();
        });
        fw_regs_.add64(n + "deadline", o + AAX_FW_EQ_DEADLINE_LO, 0, reg_access::rw);
        for (auto [name, off] : {std::pair{"size", AAX_FW_EQ_SIZE}, {"ring", AAX_FW_EQ_RING}, {"tag", AAX_FW_EQ_TAG},
                                 {"asid", AAX_FW_EQ_ASID}})
            fw_regs_.add(n + name, o + off, 0, reg_access::rw);
        fw_regs_.add(n + "ctrl", o + AAX_FW_EQ_CTRL, 0, reg_access::wo).write_cb([this, q, &Q](uint32_t v) {
            if ((v & AAX_FW_EQ_ABORT) && Q.busy) {
                Q.abort = true;
                abort_ev_.notify(sc_core::SC_ZERO_TIME);
            }
            if ((v & AAX_FW_EQ_START) && !Q.busy && fw_current()) {  // a START while busy is ignored
                Q.busy = true;
                Q.abort = false;
                if (!Q.spawned) spawn_eq_thread(q);
                Q.start.notify(sc_core::SC_ZERO_TIME);
                if (tracer::instance().enabled()) trace_fw_dispatch(q);
                if (eq_start_hook_) eq_start_hook_();
            } else if ((v & AAX_FW_EQ_START) && Q.busy && Q.abort && fw_current()) {
                // A re-booted firmware starting a queue whose aborted buffer (a soft reset's)
                // is still finishing: it starts as soon as that one has stopped.
                Q.restart = true;
                if (eq_start_hook_) eq_start_hook_();
            }
        });
        fw_regs_.add(n + "status", o + AAX_FW_EQ_STATUS, 0, reg_access::ro).read_cb([this, q, &Q] {
            if (!Q.busy && tracer::instance().enabled()) {  // the firmware takes up a finished job (trace)
                unsigned r = static_cast<unsigned>(eq_reg(q, AAX_FW_EQ_RING));
                if (r >= rings_.size()) r = q;
                if (rings_[r]->done_unread) {
                    rings_[r]->done_unread = false;
                    rings_[r]->mark_ps = sc_core::sc_time_stamp().value();
                }
            }
            return (Q.busy ? AAX_FW_EQ_BUSY : 0u) | (!Q.busy && Q.sram ? AAX_FW_EQ_SRAM : 0u) |
                   static_cast<uint32_t>(Q.result.status) << AAX_FW_EQ_CODE_SHIFT;
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

} // namespace accelvp
