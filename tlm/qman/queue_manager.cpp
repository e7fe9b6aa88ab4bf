#include "tlm/qman/queue_manager.h"

#include <cstring>

#include <fmt/format.h>

#include "abi/aax_regs.h"
#include "tlm/core/log.h"
#include "tlm/core/timeline.h"
#include "tlm/core/trace.h"

namespace accelvp {

namespace {
constexpr uint32_t expected_qw(uint8_t op) {
    switch (op) {
    case AAX_OP_DMA: return AAX_PKT_DMA_QW;
    case AAX_OP_SEM_SIGNAL: return AAX_PKT_SEM_SIGNAL_QW;
    case AAX_OP_SEM_WAIT: return AAX_PKT_SEM_WAIT_QW;
    case AAX_OP_FENCE: return AAX_PKT_FENCE_QW;
    case AAX_OP_MSG: return AAX_PKT_MSG_QW;
    default: return 0;  // NOP: any length >= 1
    }
}
} // namespace

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
      sync_socket("sync_socket"), irq_out("irq_out"), reset_in("reset_in"), p_(p), regs_(this->name()), cqs_(p.cqs) {
    reg_socket.register_b_transport(this, &queue_manager::reg_b_transport);
    reg_socket.register_transport_dbg(this, &queue_manager::reg_dbg);
    reset_in.bind(*this);

    for (unsigned r = 0; r < p.rings; ++r) {
        rings_.push_back(std::make_unique<ring_state>());
        ring_state& R = *rings_.back();
        const uint32_t b = AAX_RING_BASE(r) - bar_base;
        const std::string n = "ring" + std::to_string(r) + ".";
        // Moving or resizing a ring restarts its indices (a busy ring at the next packet boundary).
        auto regeometry = [this, r](uint32_t) {
            ring_state& S = *rings_[r];
            if (S.busy) {
                S.reset_pending = true;
                return;
            }
            S.head = S.tail = 0;
            S.error = false;
            S.last_error = 0;
        };
        regs_.add(n + "base_lo", b + AAX_RING_BASE_LO, 0, reg_access::rw).write_cb(regeometry);
        regs_.add(n + "base_hi", b + AAX_RING_BASE_HI, 0, reg_access::rw).write_cb(regeometry);
        regs_.add(n + "size_log2", b + AAX_RING_SIZE_LOG2, 0, reg_access::rw).write_cb(regeometry);
        regs_.add(n + "asid", b + AAX_RING_ASID, 0, reg_access::rw);
        regs_.add(n + "ctrl", b + AAX_RING_CTRL, 0, reg_access::rw).write_cb([this, r, b](uint32_t v) {
            if (v & AAX_RING_CTRL_RESET) {
                regs_.find(b + AAX_RING_CTRL)->value = v & ~AAX_RING_CTRL_RESET;  // self-clearing
                if (rings_[r]->busy)
                    rings_[r]->reset_pending = true;  // the ring thread aborts at the next packet boundary
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
        regs_.add("doorbell" + std::to_string(r), AAX_DOORBELL(r) - bar_base, 0, reg_access::wo)
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
                R.kick.notify(sc_core::SC_ZERO_TIME);
            });
        R.track = tracer::instance().track(std::string(this->name()) + ".ring" + std::to_string(r));
    }

    regs_.add("err_status", AAX_REG_ERR_STATUS - bar_base, 0, reg_access::w1c).write_cb([this](uint32_t w) {
        if (w & AAX_ERR_STATUS_VALID) {
            err_valid_ = false;
            for (uint32_t off : {AAX_REG_ERR_STATUS, AAX_REG_ERR_JOB_ID, AAX_REG_ERR_OFFSET, AAX_REG_ERR_ADDR_LO,
                                 AAX_REG_ERR_ADDR_HI})
                regs_.find(off - bar_base)->value = 0;
        }
    });
    regs_.add("err_job_id", AAX_REG_ERR_JOB_ID - bar_base, 0, reg_access::ro);
    regs_.add("err_offset", AAX_REG_ERR_OFFSET - bar_base, 0, reg_access::ro);
    regs_.add("err_addr_lo", AAX_REG_ERR_ADDR_LO - bar_base, 0, reg_access::ro);
    regs_.add("err_addr_hi", AAX_REG_ERR_ADDR_HI - bar_base, 0, reg_access::ro);
    regs_.add("err_count", AAX_REG_ERR_COUNT - bar_base, 0, reg_access::ro).read_cb([this] { return err_count_; });

    for (unsigned c = 0; c < p.cqs; ++c) {
        const uint32_t b = AAX_CQ_BASE(c) - bar_base;
        const std::string n = "cq" + std::to_string(c) + ".";
        // Moving or resizing a CQ restarts it: tail 0, phase 1 (the host zeroes the memory).
        auto restart = [this, c](uint32_t) { cqs_[c] = cq_state{}; };
        regs_.add(n + "base_lo", b + AAX_CQ_BASE_LO, 0, reg_access::rw).write_cb(restart);
        regs_.add(n + "base_hi", b + AAX_CQ_BASE_HI, 0, reg_access::rw).write_cb(restart);
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
    for (stat_base* s : std::initializer_list<stat_base*>{&jobs_, &failed_, &packets_, &cq_overflows_, &job_ns_})
        global_stats().add(this->name(), *s);

    for (unsigned r = 0; r < p.rings; ++r)
        sc_core::sc_spawn([this, r] { ring_thread(r); }, sc_core::sc_gen_unique_name("ring_thread"));
}

queue_manager::~queue_manager() { global_stats().remove_component(name()); }

uint32_t queue_manager::ring_reg(unsigned r, uint32_t off) const { return regs_.peek(AAX_RING_BASE(r) - bar_base + off); }
uint32_t queue_manager::cq_reg(unsigned c, uint32_t off) const { return regs_.peek(AAX_CQ_BASE(c) - bar_base + off); }

uint64_t queue_manager::ring_base(unsigned r) const {
    return ring_reg(r, AAX_RING_BASE_LO) | static_cast<uint64_t>(ring_reg(r, AAX_RING_BASE_HI)) << 32;
}

uint32_t queue_manager::ring_entries(unsigned r) const {
    const uint32_t l = ring_reg(r, AAX_RING_SIZE_LOG2);
    return (l >= 1 && l <= 16) ? (1u << l) : 0;
}

void queue_manager::reset_ring(unsigned r) {
    ring_state& R = *rings_[r];
    R.head = R.tail;
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
        if (R.busy) R.reset_pending = true;
        R.kick.notify(sc_core::SC_ZERO_TIME);
    }
    for (auto& c : cqs_) c = cq_state{};
    err_valid_ = false;
    err_count_ = 0;
}

uint8_t queue_manager::bus(tlm::tlm_command cmd, uint64_t addr, void* data, uint32_t len, sc_core::sc_time& delay) {
    tlm::tlm_generic_payload t;
    init_payload(t, cmd, addr, data, len);
    bus_socket->b_transport(t, delay);
    if (t.get_response_status() == tlm::TLM_OK_RESPONSE) return AAX_OK;
    return t.get_response_status() == tlm::TLM_ADDRESS_ERROR_RESPONSE ? AAX_ERR_BAD_ADDRESS : AAX_ERR_BUS;
}

uint8_t queue_manager::dispatch(tlm_utils::simple_initiator_socket<queue_manager>& s, unsigned r, const uint8_t* pkt,
                                uint32_t len, uint64_t deadline_ps, sc_core::sc_time& delay, uint64_t& err_addr) {
    tlm::tlm_generic_payload t;
    command_ext ext;
    ext.deadline_ps = deadline_ps;
    ext.stream = r;
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
    const uint32_t want = expected_qw(h.opcode);
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
    switch (h.opcode) {
    case AAX_OP_NOP: break;
    case AAX_OP_DMA: f.status = dispatch(dma_socket, r, pkt, len, deadline_ps, delay, f.addr); break;
    case AAX_OP_SEM_SIGNAL:
    case AAX_OP_SEM_WAIT: f.status = dispatch(sync_socket, r, pkt, len, deadline_ps, delay, f.addr); break;
    case AAX_OP_FENCE: {
        // Packets of one ring retire in order in this version, so all prior work is
        // done here; the write lands after it.
        aax_pkt_fence p;
        std::memcpy(&p, pkt, sizeof(p));
        if (h.param & ~(AAX_FENCE_WRITE_VALUE | AAX_FENCE_WRITE_TS)) {
            f.status = AAX_ERR_BAD_PARAM;
            break;
        }
        uint64_t v = p.value;
        if (h.param & AAX_FENCE_WRITE_TS) v = abs_ps(delay) / 1000;
        if (h.param) f.status = bus(tlm::TLM_WRITE_COMMAND, p.addr, &v, 8, delay);
        if (f.status) f.addr = p.addr;
        break;
    }
    case AAX_OP_MSG: {
        aax_pkt_msg p;
        std::memcpy(&p, pkt, sizeof(p));
        if (h.param != 0) {
            f.status = AAX_ERR_BAD_PARAM;
            break;
        }
        uint32_t v = p.value;
        f.status = bus(tlm::TLM_WRITE_COMMAND, p.addr, &v, 4, delay);
        if (f.status) f.addr = p.addr;
        break;
    }
    default: f.status = AAX_ERR_UNSUPPORTED; break;  // reserved for later device versions
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

queue_manager::failure queue_manager::run_job(unsigned r, const aax_job_desc& d, sc_core::sc_time& delay) {
    ring_state& R = *rings_[r];
    failure f;
    f.opcode = job_level;
    if ((d.flags & ~AAX_JOB_FLAGS_VALID) || d.cmdbuf_size == 0 || d.cmdbuf_size % 8 ||
        d.cmdbuf_size > AAX_MAX_CMDBUF_SIZE || d.cmdbuf_addr % 8) {
        f.status = AAX_ERR_BAD_JOB;
        return f;
    }
    if (d.asid != 0 || ring_reg(r, AAX_RING_ASID) != 0) {
        f.status = AAX_ERR_BAD_ASID;
        return f;
    }
    delay += sc_core::sc_time(p_.job_ns, sc_core::SC_NS);
    if (d.flags & AAX_JOB_NULL) return f;
    const uint64_t deadline = d.timeout_us ? abs_ps(delay) + static_cast<uint64_t>(d.timeout_us) * 1000000ull : 0;

    R.cmdbuf.resize(d.cmdbuf_size);
    f.status = bus(tlm::TLM_READ_COMMAND, d.cmdbuf_addr, R.cmdbuf.data(), d.cmdbuf_size, delay);
    if (f.status) {
        f.addr = d.cmdbuf_addr;
        return f;
    }
    for (uint32_t off = 0; off < d.cmdbuf_size;) {
        aax_pkt_hdr h;
        std::memcpy(&h, R.cmdbuf.data() + off, sizeof(h));
        const uint64_t len = static_cast<uint64_t>(h.size_qw) * 8;
        if (h.size_qw == 0 || len > d.cmdbuf_size - off) {
            f.status = AAX_ERR_BAD_LENGTH;
        } else {
            f = run_packet(r, R.cmdbuf.data() + off, static_cast<uint32_t>(len), deadline, delay);
        }
        f.offset = off;
        f.opcode = h.opcode;
        if (f.status) return f;
        // Packet boundary: let simulated time catch up so other rings and the host
        // interleave at packet granularity, and honour resets and deadlines.
        sc_core::wait(delay);
        delay = sc_core::SC_ZERO_TIME;
        if (R.reset_pending) {
            f.status = AAX_ERR_ABORTED;
            return f;
        }
        if (deadline && sc_core::sc_time_stamp().value() > deadline) {
            f.status = AAX_ERR_TIMEOUT;
            return f;
        }
        off += static_cast<uint32_t>(len);
    }
    return f;
}

void queue_manager::record_error(unsigned r, uint32_t job_id, const failure& f) {
    if (err_count_ != 0xFFFFFFFFu) ++err_count_;
    AVP_LOG(info, name(), "ring {} job {} stopped: {} at offset {} (opcode {}, addr 0x{:x})", r, job_id,
            aax_status_name(f.status), f.offset, aax_opcode_name(f.opcode), f.addr);
    if (!err_valid_) {  // keep the first error until the host clears it
        err_valid_ = true;
        regs_.find(AAX_REG_ERR_STATUS - bar_base)->value =
            AAX_ERR_STATUS_VALID | f.status | (r & 0xFF) << 8 | static_cast<uint32_t>(f.opcode) << 16;
        regs_.find(AAX_REG_ERR_JOB_ID - bar_base)->value = job_id;
        regs_.find(AAX_REG_ERR_OFFSET - bar_base)->value = f.offset;
        regs_.find(AAX_REG_ERR_ADDR_LO - bar_base)->value = static_cast<uint32_t>(f.addr);
        regs_.find(AAX_REG_ERR_ADDR_HI - bar_base)->value = static_cast<uint32_t>(f.addr >> 32);
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
            const uint64_t base = cq_reg(c, AAX_CQ_BASE_LO) | static_cast<uint64_t>(cq_reg(c, AAX_CQ_BASE_HI)) << 32;
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
