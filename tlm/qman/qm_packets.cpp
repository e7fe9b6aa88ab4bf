// Queue manager: the packet interpreter -- the opcode routing table, command buffers
// (JUMP/CALL/RET), packet checks, dispatch to the engines and the packets the queue manager
// runs itself (NOP, FENCE, WREG, MSG). Shared by both schedulers.
#include "tlm/qman/queue_manager.h"

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/format.h>

#include "abi/aax_sched.h"
#include "tlm/core/log.h"
#include "tlm/core/payload_pool.h"
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

uint8_t queue_manager::dispatch(tlm_utils::simple_initiator_socket<queue_manager>& s, unsigned r, const uint8_t* pkt,
                                uint32_t len, uint64_t deadline_ps, sc_core::sc_time& delay, uint64_t& err_addr) {
    const pooled_payload pt;
    tlm::tlm_generic_payload& t = *pt;
    command_ext ext;
    ext.deadline_ps = deadline_ps;
    ext.stream = r;
    ext.asid = rings_[r]->asid;
    ext.abort = rings_[r]->stop;
    ext.abort_ev = &abort_ev_;
    ext.fw_watchdog = p_.firmware;
    ext.flow = rings_[r]->flow;
    // Engines get their own copy of the packet (on the stack: packets are small, and a heap
    // copy per packet showed in large systems' profiles).
    uint8_t small[256];
    std::vector<uint8_t> large;
    uint8_t* copy = small;
    if (len > sizeof(small)) {
        large.assign(pkt, pkt + len);
        copy = large.data();
    } else {
        std::memcpy(small, pkt, len);
    }
    init_payload(t, tlm::TLM_WRITE_COMMAND, 0, copy, len);
    extension_guard<command_ext> g(t, &ext);
    s->b_transport(t, delay);
    if (t.get_response_status() != tlm::TLM_OK_RESPONSE) return AAX_ERR_BUS;
    err_addr = ext.error_addr;
    return ext.status;
}

namespace {
// The largest single read of a command-buffer fetch (run_cmdbuf).
constexpr uint32_t cmdbuf_fetch_chunk = 64u << 10;

template <class T>
T as(const uint8_t* pkt, uint32_t len) {
    T v{};
    std::memcpy(&v, pkt, std::min<size_t>(len, sizeof v));
    return v;
}
} // namespace

// The arguments of a packet's trace slice (docs/profiling.md): opcode, where it is (command
// buffer and offset), the status, and the fields that say what it did.
std::string queue_manager::packet_trace_args(unsigned r, const aax_pkt_hdr& h, const uint8_t* pkt, uint32_t len,
                                             uint8_t status) const {
    const ring_state& R = *rings_[r];
    std::string a = fmt::format(R"({{"status":"{}","opcode":"{}","ring":{},"cmdbuf":"0x{:x}","offset":"0x{:x}")",
                                aax_status_name(status), aax_opcode_name(h.opcode), r, R.cur_addr, R.cur_off);
    switch (h.opcode) {
    case AAX_OP_DMA: {
        const auto d = as<aax_pkt_dma>(pkt, len);
        a += fmt::format(R"(,"src":"0x{:x}","dst":"0x{:x}","bytes":{},"width":{},"height":{})", d.src, d.dst,
                         d.width * d.height, d.width, d.height);
        break;
    }
    case AAX_OP_GEMM: {
        const auto g = as<aax_pkt_gemm>(pkt, len);
        a += fmt::format(R"(,"cluster":{},"m":{},"n":{},"k":{},"dtype_in":"{}","dtype_out":"{}","macs":{})", g.cluster,
                         g.m, g.n, g.k, aax_dtype_name(g.dtype_in), aax_dtype_name(g.dtype_out),
                         uint64_t{g.m} * g.n * g.k);
        break;
    }
    case AAX_OP_VEC: {
        const auto v = as<aax_pkt_vec>(pkt, len);
        a += fmt::format(R"(,"cluster":{},"op":"{}","rows":{},"cols":{},"dtype":"{}")", v.cluster, aax_vec_op_name(v.op),
                         v.rows, v.cols, aax_dtype_name(v.dtype));
        break;
    }
    case AAX_OP_SEM_SIGNAL: a += fmt::format(R"(,"sem":{})", as<aax_pkt_sem_signal>(pkt, len).sem); break;
    case AAX_OP_SEM_WAIT: a += fmt::format(R"(,"sem":{})", as<aax_pkt_sem_wait>(pkt, len).sem); break;
    case AAX_OP_COLL: {
        const auto c = as<aax_pkt_coll>(pkt, len);
        a += fmt::format(R"(,"port":{},"bytes":{})", c.port, c.bytes);
        break;
    }
    default: break;
    }
    return a + "}";
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
    } else if (rt->physical_only && job_space(r) && !(rt->port == engine_port::compute && rings_[r]->vf)) {
        // (A VF's compute packets run in its context: the firmware time-slices the VFs, so
        // cluster SRAM holds one VF's data at a time -- docs/virtualization.md.)
        f.status = AAX_ERR_PRIV;
    } else {
        f.status = dispatch(*engine_sockets_[static_cast<unsigned>(rt->port)], r, pkt, len, deadline_ps, delay, f.addr);
        if (rings_[r]->vf && !rings_[r]->vf_sram && writes_sram(h, pkt, len)) rings_[r]->vf_sram = true;
    }
    ++packets_;
    ++rings_[r]->packets;
    ++*per_opcode_[h.opcode];
    if (tracer::instance().enabled())
        tracer::instance().slice(rings_[r]->track, aax_opcode_name(h.opcode), ps(start), ps(abs_ps(delay) - start),
                                 "packet", packet_trace_args(r, h, pkt, len, f.status));
    if (f.status == AAX_OK && (h.flags & AAX_PKT_F_IRQ)) {
        sc_core::wait(delay);
        delay = sc_core::SC_ZERO_TIME;
        raise_cq(r);
    }
    return f;
}

// Does this packet write cluster SRAM? GEMM and VEC results land there; a DMA when its
// destination rows overlap a window (a VF's contexts map SRAM at its own addresses).
bool queue_manager::writes_sram(const aax_pkt_hdr& h, const uint8_t* pkt, uint32_t len) const {
    if (h.opcode == AAX_OP_GEMM || h.opcode == AAX_OP_VEC) return true;
    if (h.opcode != AAX_OP_DMA) return false;
    const auto d = as<aax_pkt_dma>(pkt, len);
    if (d.width == 0 || d.height == 0) return false;
    const uint64_t end = d.dst + (d.height - 1ull) * d.dst_stride + d.width;  // one past the last byte
    for (const auto& [b, n] : sram_windows_)
        if (d.dst < b + n && end > b) return true;
    return false;
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
    // Lets simulated time catch up with `delay`, then honours a reset and the job's deadline:
    // at packet boundaries and between the reads of a long fetch. AAX_OK to go on.
    const auto catch_up = [&]() -> uint8_t {
        sc_core::wait(delay);
        delay = sc_core::SC_ZERO_TIME;
        if (stop) return AAX_ERR_ABORTED;
        if (check_deadline && deadline && sc_core::sc_time_stamp().value() > deadline) return AAX_ERR_TIMEOUT;
        return AAX_OK;
    };
    const auto enter = [&](uint64_t a, uint32_t n, uint8_t opcode, uint16_t space) {  // fetch a buffer
        f = failure{};
        f.opcode = opcode;
        if (n == 0 || n % 8 || n > AAX_MAX_CMDBUF_SIZE || a % 8) {
            f.status = opcode == job_level ? AAX_ERR_BAD_JOB : AAX_ERR_BAD_PARAM;
            return false;
        }
        buf.resize(n);
        // Fetched in chunks with the reset and deadline checked between them, as at packet
        // boundaries: one read of a 16 MiB buffer over PCIe takes milliseconds, and a job's
        // timeout must not wait for it (fuzz_cmdbuf finding 5). A buffer of up to one chunk
        // is one read, as before.
        for (uint32_t done = 0; done < n; done += cmdbuf_fetch_chunk) {
            if (done && (f.status = catch_up()) != AAX_OK) return false;
            const uint32_t part = std::min(cmdbuf_fetch_chunk, n - done);
            f.status = bus(tlm::TLM_READ_COMMAND, a + done, buf.data() + done, part, delay, space);
            if (f.status) {
                f.addr = a + done;
                return false;
            }
        }
        return true;
    };
    uint64_t cur = addr;
    uint32_t cur_size = size;
    // The descriptor's buffer: physical (the driver placed it), except on a user ring, whose
    // owner names it in the job's context (abi/aax_regs.h AAX_RING_ASID_USER).
    uint16_t cur_space = user_ring(r) ? job_space(r) : 0;
    rings_[r]->job_packets = 0;
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
        ring_state& RS = *rings_[r];
        RS.cur_buf = &buf;
        RS.cur_addr = cur;
        RS.cur_off = off;
        AVP_LOG(debug, name(), "ring {} packet +0x{:x} of 0x{:x}: {} ({} qw)", r, off, cur, aax_opcode_name(h.opcode),
                h.size_qw);
        if (!breaks_.empty() || RS.step) check_break(r, h.opcode, off, delay);
        ++RS.job_packets;
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
            ++RS.packets;
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
        if ((f.status = catch_up()) != AAX_OK) return f;
    }
    return failure{};
}

} // namespace accelvp

namespace accelvp {

std::vector<queue_manager::ring_view> queue_manager::debug_rings() const {
    std::vector<ring_view> out;
    for (unsigned r = 0; r < rings_.size(); ++r) {
        const ring_state& R = *rings_[r];
        ring_view v;
        v.ring = r;
        v.head = R.head;
        v.tail = R.tail;
        v.jobs_done = R.jobs_done;
        v.busy = R.busy;
        v.error = R.error;
        v.last_error = R.last_error;
        if (R.cur_buf && R.cur_off + 8 <= R.cur_buf->size()) {
            aax_pkt_hdr h;
            std::memcpy(&h, R.cur_buf->data() + R.cur_off, sizeof(h));
            const size_t n = std::min<size_t>(std::max<size_t>(size_t{h.size_qw} * 8, 8), R.cur_buf->size() - R.cur_off);
            v.packet.assign(R.cur_buf->begin() + R.cur_off, R.cur_buf->begin() + R.cur_off + n);
            v.cmdbuf_addr = R.cur_addr;
            v.offset = R.cur_off;
        }
        out.push_back(std::move(v));
    }
    return out;
}

} // namespace accelvp

namespace accelvp {

void queue_manager::check_break(unsigned r, uint8_t opcode, uint32_t off, sc_core::sc_time& delay) {
    ring_state& R = *rings_[r];
    bool hit = R.step;
    for (const auto& b : breaks_)
        hit |= (b.ring < 0 || static_cast<unsigned>(b.ring) == r) &&
               (b.packet < 0 || static_cast<uint64_t>(b.packet) == R.job_packets) && (b.opcode < 0 || b.opcode == opcode);
    if (!hit) return;
    R.step = false;
    R.held = true;
    if (break_hook_) break_hook_(r, R.job_packets, off, opcode);
    if (!R.held) return;  // the hook let it go on at once (a printing breakpoint)
    sc_core::wait(delay);  // the ring stops at the simulated time it reached
    delay = sc_core::SC_ZERO_TIME;
    while (R.held) sc_core::wait(R.release_ev);
}

void queue_manager::release_ring(unsigned r, bool step) {
    if (r >= rings_.size()) return;
    ring_state& R = *rings_[r];
    R.step = step;
    if (R.held) {
        R.held = false;
        R.release_ev.notify(sc_core::SC_ZERO_TIME);
    }
}

} // namespace accelvp
