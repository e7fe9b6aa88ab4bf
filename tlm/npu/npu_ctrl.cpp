#include "tlm/npu/npu_ctrl.h"

#include <cstring>
#include <vector>

#include "abi/aax_encode.h"
#include "abi/aax_queue.h"
#include "tlm/core/log.h"

namespace accelvp {

namespace {
// Bytes per element of an aax_dtype (0: not a type).
uint32_t elem_bytes(uint32_t dt) {
    switch (dt) {
    case AAX_DT_FP32:
    case AAX_DT_INT32: return 4;
    case AAX_DT_BF16:
    case AAX_DT_FP16: return 2;
    case AAX_DT_FP8_E4M3:
    case AAX_DT_FP8_E5M2:
    case AAX_DT_INT8: return 1;
    default: return 0;
    }
}
constexpr uint32_t max_dim = 1u << 16;  // any one dimension; the SRAM bounds the rest
constexpr uint32_t stage_align = 64;
} // namespace

const param_table<npu_ctrl::params>& npu_ctrl::params::table() {
    static const auto t =
        param_table<params>()
            .real("job_ns", &params::job_ns, 0, 1e6, "per job: register decode, address checks, sequencing", "ns")
            .real("window_latency_ns", &params::window_latency_ns, 0, 1e6,
                  "per CPU access through the NPU SRAM window (bus protocol and clock crossing)", "ns")
            .real("window_ns_per_word", &params::window_ns_per_word, 0, 1e6,
                  "per 32-bit word of a CPU access through the SRAM window", "ns");
    return t;
}

void npu_ctrl::declare(param_schema& s, const std::string& prefix) { params::table().declare(s, prefix); }

npu_ctrl::params npu_ctrl::from_config(const config& c, const std::string& prefix) {
    return params::table().load(c, prefix);
}

npu_ctrl::npu_ctrl(sc_core::sc_module_name name, const params& p)
    : sc_module(name), reg_socket("reg_socket"), window_socket("window_socket"), window_out("window_out"),
      compute_socket("compute_socket"), dma_socket("dma_socket"), irq_out("irq_out"), p_(p), regs_(this->name(), 0) {
    reg_socket.register_b_transport(this, &npu_ctrl::reg_b_transport);
    reg_socket.register_transport_dbg(this, &npu_ctrl::reg_transport_dbg);
    window_socket.register_b_transport(this, &npu_ctrl::window_b_transport);
    window_socket.register_transport_dbg(this, &npu_ctrl::window_transport_dbg);

    regs_.add("id", AAX_SOC_NPU_ID, AAX_SOC_NPU_ID_VALUE, reg_access::ro);
    regs_.add("version", AAX_SOC_NPU_VERSION, AAX_SOC_NPU_VERSION_VALUE, reg_access::ro);
    regs_.add("caps", AAX_SOC_NPU_CAPS, p_.has_dma ? AAX_SOC_CAPS_DMA : 0, reg_access::ro);
    regs_.add("sram_size", AAX_SOC_NPU_SRAM_SIZE, p_.sram_size, reg_access::ro);
    regs_.add("ctrl", AAX_SOC_NPU_CTRL, 0, reg_access::wo)
        .mask(AAX_SOC_CTRL_START | AAX_SOC_CTRL_START_LIST)
        .write_cb([this](uint32_t v) {
        if (!(v & (AAX_SOC_CTRL_START | AAX_SOC_CTRL_START_LIST))) return;
        regs_[AAX_SOC_NPU_CTRL].set(0);
        if (busy_) {  // the running job goes on; the refused start is reported at once
            regs_[AAX_SOC_NPU_ERR_CODE].set(AAX_SOC_ERR_BUSY);
            regs_[AAX_SOC_NPU_ERR_ADDR].set(0);
            regs_[AAX_SOC_NPU_STATUS].set(regs_[AAX_SOC_NPU_STATUS].get() | AAX_SOC_STATUS_ERROR);
            regs_[AAX_SOC_NPU_IRQ_STATUS].set(regs_[AAX_SOC_NPU_IRQ_STATUS].get() | AAX_SOC_IRQ_ERROR);
            ++errors_;
            update_irq();
            return;
        }
        busy_ = true;
        list_ = (v & AAX_SOC_CTRL_START_LIST) != 0;  // START_LIST wins when both are written
        regs_[AAX_SOC_NPU_LIST_INDEX].set(0);
        regs_[AAX_SOC_NPU_STATUS].set(AAX_SOC_STATUS_BUSY);
        regs_[AAX_SOC_NPU_ERR_CODE].set(0);
        regs_[AAX_SOC_NPU_ERR_ADDR].set(0);
        start_ev_.notify(sc_core::SC_ZERO_TIME);
    });
    regs_.add("status", AAX_SOC_NPU_STATUS, 0, reg_access::ro);
    regs_.add("err_code", AAX_SOC_NPU_ERR_CODE, 0, reg_access::ro);
    regs_.add("err_addr", AAX_SOC_NPU_ERR_ADDR, 0, reg_access::ro);
    regs_.add("irq_en", AAX_SOC_NPU_IRQ_EN, 0, reg_access::rw)
        .mask(AAX_SOC_IRQ_DONE | AAX_SOC_IRQ_ERROR)
        .write_cb([this](uint32_t) { update_irq(); });
    regs_.add("irq_status", AAX_SOC_NPU_IRQ_STATUS, 0, reg_access::w1c)
        .w1c(AAX_SOC_IRQ_DONE | AAX_SOC_IRQ_ERROR)
        .write_cb([this](uint32_t) { update_irq(); });
    regs_.add("jobs", AAX_SOC_NPU_JOBS, 0, reg_access::ro).read_cb([this] { return jobs_.get() & 0xFFFFFFFFu; });
    regs_.add("op", AAX_SOC_NPU_OP, 0, reg_access::rw);
    regs_.add("dtype_in", AAX_SOC_NPU_DTYPE_IN, AAX_DT_INT8, reg_access::rw);
    regs_.add("dtype_out", AAX_SOC_NPU_DTYPE_OUT, AAX_DT_INT32, reg_access::rw);
    regs_.add("m", AAX_SOC_NPU_M, 0, reg_access::rw);
    regs_.add("n", AAX_SOC_NPU_N, 0, reg_access::rw);
    regs_.add("k", AAX_SOC_NPU_K, 0, reg_access::rw);
    regs_.add("src0", AAX_SOC_NPU_SRC0, 0, reg_access::rw);
    regs_.add("src1", AAX_SOC_NPU_SRC1, 0, reg_access::rw);
    regs_.add("dst", AAX_SOC_NPU_DST, 0, reg_access::rw);
    regs_.add("scalar", AAX_SOC_NPU_SCALAR, 0x3F800000u, reg_access::rw);
    regs_.add("list_addr", AAX_SOC_NPU_LIST_ADDR, 0, reg_access::rw);
    regs_.add("list_count", AAX_SOC_NPU_LIST_COUNT, 0, reg_access::rw);
    regs_.add("list_index", AAX_SOC_NPU_LIST_INDEX, 0, reg_access::ro);

    stats_.add({&jobs_, &errors_, &window_bytes_, &window_accesses_, &dma_bytes_, &packets_, &lists_, &fetch_bytes_});
    SC_HAS_PROCESS(npu_ctrl);
    SC_THREAD(job_thread);
}

void npu_ctrl::reg_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) { regs_.b_transport(t, delay); }
unsigned npu_ctrl::reg_transport_dbg(tlm::tlm_generic_payload& t) { return regs_.transport_dbg(t); }

void npu_ctrl::window_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    const uint64_t off = t.get_address();
    const uint32_t len = t.get_data_length();
    if (off >= p_.sram_size || len > p_.sram_size - off) {
        t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    const uint64_t words = (len + 3) / 4;
    delay += sc_core::sc_time(p_.window_latency_ns + p_.window_ns_per_word * static_cast<double>(words), sc_core::SC_NS);
    t.set_address(p_.sram_base + off);
    window_out->b_transport(t, delay);
    t.set_address(off);
    t.set_dmi_allowed(false);  // never DMI: every CPU access pays the window
    if (t.is_response_ok()) {
        window_bytes_ += len;
        ++window_accesses_;
    }
}

unsigned npu_ctrl::window_transport_dbg(tlm::tlm_generic_payload& t) {
    const uint64_t off = t.get_address();
    if (off >= p_.sram_size) return 0;
    if (t.get_data_length() > p_.sram_size - off) t.set_data_length(static_cast<unsigned>(p_.sram_size - off));
    t.set_address(p_.sram_base + off);
    const unsigned n = window_out->transport_dbg(t);
    t.set_address(off);
    return n;
}

void npu_ctrl::update_irq() {
    const bool level = (regs_[AAX_SOC_NPU_IRQ_STATUS].get() & regs_[AAX_SOC_NPU_IRQ_EN].get()) != 0;
    if (level == irq_level_) return;
    irq_level_ = level;
    if (irq_out.size()) irq_out->set_level(p_.irq_line, level);
}

void npu_ctrl::job_thread() {
    for (;;) {
        wait(start_ev_);
        const uint64_t t0 = sc_core::sc_time_stamp().value();
        wait(sc_core::sc_time(p_.job_ns, sc_core::SC_NS));
        failure f{AAX_SOC_ERR_NONE, 0};
        uint32_t code = AAX_SOC_ERR_NONE;
        if (list_) {
            code = run_list(f);
        } else {
            const auto r = [this](uint32_t a) { return static_cast<uint32_t>(regs_[a].get()); };
            aax_soc_job j{};
            j.op = r(AAX_SOC_NPU_OP);
            j.dtype_in = r(AAX_SOC_NPU_DTYPE_IN);
            j.dtype_out = r(AAX_SOC_NPU_DTYPE_OUT);
            j.m = r(AAX_SOC_NPU_M);
            j.n = r(AAX_SOC_NPU_N);
            j.k = r(AAX_SOC_NPU_K);
            j.src0 = r(AAX_SOC_NPU_SRC0);
            j.src1 = r(AAX_SOC_NPU_SRC1);
            j.dst = r(AAX_SOC_NPU_DST);
            j.scalar = r(AAX_SOC_NPU_SCALAR);
            code = run_job(j, f);
            ++jobs_;
        }
        busy_ps_ += sc_core::sc_time_stamp().value() - t0;
        busy_ = false;
        if (code != AAX_SOC_ERR_NONE) {
            ++errors_;
            regs_[AAX_SOC_NPU_ERR_CODE].set(f.code);
            regs_[AAX_SOC_NPU_ERR_ADDR].set(f.addr & 0xFFFFFFFFu);
            regs_[AAX_SOC_NPU_STATUS].set(AAX_SOC_STATUS_ERROR);
            regs_[AAX_SOC_NPU_IRQ_STATUS].set(regs_[AAX_SOC_NPU_IRQ_STATUS].get() | AAX_SOC_IRQ_ERROR);
            AVP_LOG(debug, name(), "job failed: code {} addr 0x{:x}", f.code, f.addr);
        } else {
            regs_[AAX_SOC_NPU_STATUS].set(AAX_SOC_STATUS_DONE);
            regs_[AAX_SOC_NPU_IRQ_STATUS].set(regs_[AAX_SOC_NPU_IRQ_STATUS].get() | AAX_SOC_IRQ_DONE);
        }
        update_irq();
    }
}

// Where an operand lives: in the SRAM window (used in place) or, with a DMA engine, in DRAM
// (given a staging slot in the upper half of the SRAM).
uint32_t npu_ctrl::place(operand& o, uint64_t& cursor, failure& f) {
    const uint64_t a = o.addr;
    if (a >= p_.sram_base && a - p_.sram_base <= p_.sram_size && o.bytes <= p_.sram_size - (a - p_.sram_base)) {
        o.sram = static_cast<uint32_t>(a - p_.sram_base);
        return AAX_SOC_ERR_NONE;
    }
    if (p_.has_dma && a >= p_.dram_base && a - p_.dram_base <= p_.dram_size &&
        o.bytes <= p_.dram_size - (a - p_.dram_base)) {
        cursor = (cursor + stage_align - 1) / stage_align * stage_align;
        if (cursor + o.bytes > p_.sram_size) {
            f = {AAX_SOC_ERR_NO_SPACE, cursor + o.bytes - AAX_SOC_STAGING_OFFSET(p_.sram_size)};
            return f.code;
        }
        o.sram = static_cast<uint32_t>(cursor);
        o.staged = true;
        cursor += o.bytes;
        return AAX_SOC_ERR_NONE;
    }
    f = {AAX_SOC_ERR_BAD_ADDRESS, a};
    return f.code;
}

uint32_t npu_ctrl::send(tlm_utils::simple_initiator_socket<npu_ctrl>& s, const void* pkt, uint32_t len,
                        uint64_t& err) {
    tlm::tlm_generic_payload t;
    command_ext ext;
    std::vector<uint8_t> copy(static_cast<const uint8_t*>(pkt), static_cast<const uint8_t*>(pkt) + len);
    init_payload(t, tlm::TLM_WRITE_COMMAND, 0, copy.data(), len);
    extension_guard<command_ext> g(t, &ext);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    s->b_transport(t, delay);
    wait(delay);  // the engine's work is done when its annotated time has passed
    ++packets_;
    if (t.get_response_status() != tlm::TLM_OK_RESPONSE) return AAX_ERR_BUS;
    err = ext.error_addr;
    return ext.status;
}

uint32_t npu_ctrl::dma(uint64_t src, uint64_t dst, uint64_t bytes, failure& f) {
    const aax_pkt_dma pkt = aax_make_copy_2d(src, dst, bytes, 1, 0, 0);
    uint64_t err = 0;
    const uint32_t st = send(dma_socket, &pkt, sizeof pkt, err);
    if (st != AAX_OK) {
        f = {AAX_SOC_ERR_BUS, err};
        return f.code;
    }
    dma_bytes_ += bytes;
    return AAX_SOC_ERR_NONE;
}

uint32_t npu_ctrl::vec(uint8_t op, uint8_t dt, uint8_t dt_out, uint32_t rows, uint32_t cols, uint32_t s0,
                       uint32_t s0_stride, uint32_t s1, uint32_t s1_stride, uint32_t d, uint32_t d_stride,
                       uint32_t param, uint32_t scalar, failure& f) {
    aax_pkt_vec v;
    std::memset(&v, 0, sizeof v);
    v.hdr = aax_make_hdr(AAX_OP_VEC, AAX_PKT_VEC_QW, param);
    v.op = op;
    v.dtype = dt;
    v.dtype_out = dt_out;
    v.rows = rows;
    v.cols = cols;
    v.src0 = s0;
    v.src0_stride = s0_stride;
    v.src1 = s1;
    v.src1_stride = s1_stride;
    v.dst = d;
    v.dst_stride = d_stride;
    v.scalar = scalar;
    uint64_t err = 0;
    const uint32_t st = send(compute_socket, &v, sizeof v, err);
    if (st != AAX_OK) {
        f = {AAX_SOC_ERR_ENGINE, st};
        return f.code;
    }
    return AAX_SOC_ERR_NONE;
}

bool npu_ctrl::reachable(uint64_t a, uint64_t bytes) const {
    const bool in_sram = a >= p_.sram_base && a - p_.sram_base <= p_.sram_size && bytes <= p_.sram_size - (a - p_.sram_base);
    const bool in_dram =
        p_.has_dma && a >= p_.dram_base && a - p_.dram_base <= p_.dram_size && bytes <= p_.dram_size - (a - p_.dram_base);
    return in_sram || in_dram;
}

uint32_t npu_ctrl::run_list(failure& f) {
    const uint32_t addr = static_cast<uint32_t>(regs_[AAX_SOC_NPU_LIST_ADDR].get());
    const uint32_t count = static_cast<uint32_t>(regs_[AAX_SOC_NPU_LIST_COUNT].get());
    if (count == 0 || count > AAX_SOC_LIST_MAX) {
        f = {AAX_SOC_ERR_BAD_LIST, count};
        return f.code;
    }
    if (addr % 4 || !reachable(addr, uint64_t{count} * sizeof(aax_soc_job))) {
        f = {AAX_SOC_ERR_BAD_LIST, addr};
        return f.code;
    }
    ++lists_;
    const bool from_dram = !(addr >= p_.sram_base && addr - p_.sram_base < p_.sram_size);
    for (uint32_t i = 0; i < count; ++i) {
        regs_[AAX_SOC_NPU_LIST_INDEX].set(i);
        // Fetch the entry: from the SRAM inside the IP, or from DRAM over the master port.
        aax_soc_job j{};
        const uint32_t ea = addr + i * static_cast<uint32_t>(sizeof j);
        tlm::tlm_generic_payload t;
        init_payload(t, tlm::TLM_READ_COMMAND, ea, &j, sizeof j);
        sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
        window_out->b_transport(t, delay);
        wait(delay);
        if (!t.is_response_ok()) {
            f = {AAX_SOC_ERR_BUS, ea};
            return f.code;
        }
        if (from_dram) fetch_bytes_ += sizeof j;
        const uint32_t code = run_job(j, f);
        ++jobs_;
        if (code != AAX_SOC_ERR_NONE) return code;
    }
    return AAX_SOC_ERR_NONE;
}

uint32_t npu_ctrl::run_job(const aax_soc_job& j, failure& f) {
    const uint32_t op = j.op, dt = j.dtype_in, dt_out = j.dtype_out;
    const uint32_t m = j.m, n = j.n, k = j.k;
    if (op == AAX_SOC_OP_NONE || op >= AAX_SOC_OP_COUNT) {
        f = {AAX_SOC_ERR_BAD_OP, op};
        return f.code;
    }
    const uint32_t ein = elem_bytes(dt), eout = elem_bytes(dt_out);
    if (!ein || (op == AAX_SOC_OP_GEMM && dt == AAX_DT_INT32)) {
        f = {AAX_SOC_ERR_BAD_DTYPE, dt};
        return f.code;
    }
    if (!eout) {
        f = {AAX_SOC_ERR_BAD_DTYPE, dt_out};
        return f.code;
    }
    // Shape checks: every dimension the op uses in [1, max_dim]; pooling needs even H and W.
    const bool uses_k = op == AAX_SOC_OP_GEMM || op == AAX_SOC_OP_MAXPOOL;
    for (uint32_t d : {m, n, uses_k ? k : 1u}) {
        if (d == 0 || d > max_dim) {
            f = {AAX_SOC_ERR_BAD_SHAPE, d};
            return f.code;
        }
    }
    if (op == AAX_SOC_OP_MAXPOOL && (m % 2 || n % 2)) {
        f = {AAX_SOC_ERR_BAD_SHAPE, m % 2 ? m : n};
        return f.code;
    }
    if (op == AAX_SOC_OP_MAXPOOL && dt_out != dt) {
        f = {AAX_SOC_ERR_BAD_DTYPE, dt_out};
        return f.code;
    }

    operand a, b, c;
    a.addr = j.src0;
    b.addr = j.src1;
    c.addr = j.dst;
    const uint64_t M = m, N = n, K = k;
    bool two_sources = false;
    switch (op) {
    case AAX_SOC_OP_GEMM:
        a.bytes = M * K * ein;
        b.bytes = K * N * ein;
        c.bytes = M * N * eout;
        two_sources = true;
        break;
    case AAX_SOC_OP_MAXPOOL:
        a.bytes = M * N * K * ein;
        c.bytes = (M / 2) * (N / 2) * K * eout;
        break;
    case AAX_SOC_OP_ADD:
        two_sources = true;
        b.bytes = M * N * ein;
        a.bytes = M * N * ein;
        c.bytes = M * N * eout;
        break;
    default:
        a.bytes = M * N * ein;
        c.bytes = M * N * eout;
        break;
    }
    uint64_t cursor = AAX_SOC_STAGING_OFFSET(p_.sram_size);
    if (place(a, cursor, f) || (two_sources && place(b, cursor, f)) || place(c, cursor, f)) return f.code;

    // Stage the DRAM sources in.
    for (const operand* o : {&a, two_sources ? &b : nullptr}) {
        if (o && o->staged && dma(o->addr, p_.sram_base + o->sram, o->bytes, f)) return f.code;
    }
    // Compute.
    switch (op) {
    case AAX_SOC_OP_GEMM: {
        const aax_pkt_gemm g = aax_make_gemm(0, static_cast<uint8_t>(dt), static_cast<uint8_t>(dt_out), m, n, k,
                                             a.sram, b.sram, c.sram, 0);
        uint64_t err = 0;
        const uint32_t st = send(compute_socket, &g, sizeof g, err);
        if (st != AAX_OK) {
            f = {AAX_SOC_ERR_ENGINE, st};
            return f.code;
        }
        break;
    }
    case AAX_SOC_OP_RELU:
        if (vec(AAX_VEC_RELU, dt, dt_out, m, n, a.sram, 0, 0, 0, c.sram, 0, 0, 0, f)) return f.code;
        break;
    case AAX_SOC_OP_SCALE:
        if (vec(AAX_VEC_MUL, dt, dt_out, m, n, a.sram, 0, 0, 0, c.sram, 0, AAX_VEC_B_SCALAR, j.scalar, f))
            return f.code;
        break;
    case AAX_SOC_OP_ADD:
        if (vec(AAX_VEC_ADD, dt, dt_out, m, n, a.sram, 0, b.sram, 0, c.sram, 0, 0, 0, f)) return f.code;
        break;
    case AAX_SOC_OP_MAXPOOL: {
        // Output row oh (W/2 pixels of C channels) is the max of four strided views of input
        // rows 2oh and 2oh+1: three VEC MAX packets, the first two sources then the result.
        const uint32_t row = n * k * ein;  // bytes of one input image row
        const uint32_t pix = k * ein;
        for (uint32_t oh = 0; oh < m / 2; ++oh) {
            const uint32_t in0 = a.sram + 2 * oh * row, in1 = in0 + row;
            const uint32_t out = c.sram + oh * (n / 2) * k * eout;
            if (vec(AAX_VEC_MAX, dt, dt, n / 2, k, in0, 2 * k, in0 + pix, 2 * k, out, k, 0, 0, f) ||
                vec(AAX_VEC_MAX, dt, dt, n / 2, k, out, k, in1, 2 * k, out, k, 0, 0, f) ||
                vec(AAX_VEC_MAX, dt, dt, n / 2, k, out, k, in1 + pix, 2 * k, out, k, 0, 0, f))
                return f.code;
        }
        break;
    }
    default: break;
    }
    // Write a DRAM result back.
    if (c.staged && dma(p_.sram_base + c.sram, c.addr, c.bytes, f)) return f.code;
    return AAX_SOC_ERR_NONE;
}

} // namespace accelvp
