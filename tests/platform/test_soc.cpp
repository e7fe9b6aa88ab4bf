// The NPU as an SoC IP (docs/edge.md): its job registers driven by a test initiator on a
// system bus with DRAM, with and without its DMA engine; bit-exact results against a host
// reference, exact error codes with their interrupt, the SRAM window's cost; and whole runs
// of the sample application on the application CPU (run_soc) in both modes.
#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <sstream>
#include <vector>

#include <catch2/catch.hpp>

#include "abi/aax_queue.h"
#include "abi/aax_soc.h"
#include "platform/soc/npu_ip.h"
#include "platform/soc/soc.h"
#include "tlm/core/build_paths.h"
#include "tlm/core/config.h"
#include "tlm/core/log.h"
#include "tlm/core/router.h"
#include "tlm/mem/memory.h"

using namespace accelvp;

namespace {

// System bus + DRAM + the NPU IP + a test initiator standing for the application CPU.
class soc_tb : public sc_core::sc_module, public irq_level_if {
public:
    tlm_utils::simple_initiator_socket<soc_tb> cpu;
    sc_core::sc_export<irq_level_if> irq_in;

    static config make_config(const std::vector<std::string>& overrides) {
        static const param_schema schema = soc_schema();
        config c(schema);
        c.load_yaml_file(std::string(ACCELVP_SOURCE_DIR) + "/configs/edge-soc.yaml");
        for (const auto& o : overrides) c.apply_override(o);
        c.validate();
        return c;
    }

    soc_tb(sc_core::sc_module_name n, const std::vector<std::string>& overrides)
        : sc_module(n), cpu("cpu"), irq_in("irq_in"), cfg_(make_config(overrides)), bus_("bus"),
          dram_("dram", memory::from_config(cfg_, "soc.dram")), npu_("npu", cfg_, layout_of(cfg_)) {
        set_log_level(log_level::error);
        irq_in.bind(*this);
        cpu.bind(bus_.target_socket);
        npu_.master().bind(bus_.target_socket);
        bus_.add_target("npu_regs", AAX_SOC_NPU_REGS_BASE, AAX_SOC_NPU_REGS_SIZE, npu_.reg_target());
        bus_.add_target("npu_sram", AAX_SOC_NPU_SRAM_BASE, npu_.sram_bytes(), npu_.window_target());
        bus_.add_target("dram", AAX_SOC_DRAM_BASE, memory::from_config(cfg_, "soc.dram").size, dram_.socket);
        npu_.irq().bind(irq_in);
        SC_HAS_PROCESS(soc_tb);
        SC_THREAD(main);
    }

    std::function<void()> body;
    bool finished = false;
    bool irq = false;
    unsigned irq_edges = 0;
    sc_core::sc_event irq_ev;

    // Timed 32-bit accesses, as the CPU makes them (the test thread waits for each).
    uint32_t rd(uint32_t a) {
        uint32_t v = 0;
        access(tlm::TLM_READ_COMMAND, a, &v, 4);
        return v;
    }
    void wr(uint32_t a, uint32_t v) { access(tlm::TLM_WRITE_COMMAND, a, &v, 4); }
    tlm::tlm_response_status access(tlm::tlm_command cmd, uint32_t a, void* p, unsigned len) {
        tlm::tlm_generic_payload t;
        init_payload(t, cmd, a, p, len);
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        cpu->b_transport(t, d);
        wait(d);
        return t.get_response_status();
    }
    uint32_t npu(uint32_t off) { return rd(AAX_SOC_NPU_REGS_BASE + off); }
    void npu(uint32_t off, uint32_t v) { wr(AAX_SOC_NPU_REGS_BASE + off, v); }
    // DRAM contents without simulated time (the host side of the test).
    void poke(uint32_t a, const void* p, size_t n) { dram_.store().write(a - AAX_SOC_DRAM_BASE, p, n); }
    void peek(uint32_t a, void* p, size_t n) { dram_.store().read(a - AAX_SOC_DRAM_BASE, p, n); }

    void job(uint32_t op, uint32_t dt_in, uint32_t dt_out, uint32_t m, uint32_t n, uint32_t k, uint32_t s0, uint32_t s1,
             uint32_t d, uint32_t scalar = 0x3F800000u) {
        npu(AAX_SOC_NPU_OP, op);
        npu(AAX_SOC_NPU_DTYPE_IN, dt_in);
        npu(AAX_SOC_NPU_DTYPE_OUT, dt_out);
        npu(AAX_SOC_NPU_M, m);
        npu(AAX_SOC_NPU_N, n);
        npu(AAX_SOC_NPU_K, k);
        npu(AAX_SOC_NPU_SRC0, s0);
        npu(AAX_SOC_NPU_SRC1, s1);
        npu(AAX_SOC_NPU_DST, d);
        npu(AAX_SOC_NPU_SCALAR, scalar);
    }
    // START, wait for the interrupt (at most 1 ms), acknowledge it; returns the IRQ bits.
    uint32_t run_job() {
        npu(AAX_SOC_NPU_CTRL, AAX_SOC_CTRL_START);
        if (!irq) wait(sc_core::sc_time(1, sc_core::SC_MS), irq_ev);
        if (!irq) return 0;
        const uint32_t s = npu(AAX_SOC_NPU_IRQ_STATUS);
        npu(AAX_SOC_NPU_IRQ_STATUS, s);
        return s;
    }

    npu_ip& ip() { return npu_; }

private:
    static npu_ip::layout layout_of(const config& c) {
        npu_ip::layout l;
        l.dram_size = memory::from_config(c, "soc.dram").size;
        return l;
    }
    void set_level(unsigned line, bool level) override {
        CHECK(line == 11u);
        if (level && !irq) ++irq_edges;
        irq = level;
        irq_ev.notify(sc_core::SC_ZERO_TIME);
    }
    void main() {
        body();
        finished = true;
        sc_core::sc_stop();
    }
    config cfg_;
    router bus_;
    memory dram_;
    npu_ip npu_;
};

std::vector<int8_t> rand_i8(size_t n, uint32_t seed) {
    std::vector<int8_t> v(n);
    for (auto& x : v) {
        seed = seed * 1103515245u + 12345u;
        x = static_cast<int8_t>(static_cast<int>((seed >> 16) % 256) - 128);
    }
    return v;
}

// GEMM (int8 -> int32) then ReLU, operands at the given addresses; compares with a host reference.
void gemm_relu(soc_tb& tb, uint32_t a_addr, uint32_t b_addr, uint32_t c_addr, bool via_window, uint64_t& job_ps) {
    const uint32_t M = 24, N = 20, K = 40;
    const auto A = rand_i8(M * K, 7), B = rand_i8(K * N, 9);
    std::vector<int32_t> ref(M * N);
    for (uint32_t i = 0; i < M; ++i)
        for (uint32_t j = 0; j < N; ++j) {
            int32_t s = 0;
            for (uint32_t k = 0; k < K; ++k) s += int32_t{A[i * K + k]} * B[k * N + j];
            ref[i * N + j] = s < 0 ? 0 : s;
        }
    const auto put = [&](uint32_t addr, const void* p, size_t n) {
        if (!via_window) return tb.poke(addr, p, n);
        for (size_t o = 0; o < n; o += 4) {
            uint32_t w = 0;
            std::memcpy(&w, static_cast<const uint8_t*>(p) + o, std::min<size_t>(4, n - o));
            tb.wr(static_cast<uint32_t>(addr + o), w);
        }
    };
    put(a_addr, A.data(), A.size());
    put(b_addr, B.data(), B.size());
    const uint64_t t0 = sc_core::sc_time_stamp().value();
    tb.job(AAX_SOC_OP_GEMM, AAX_DT_INT8, AAX_DT_INT32, M, N, K, a_addr, b_addr, c_addr);
    CHECK(tb.run_job() == AAX_SOC_IRQ_DONE);
    CHECK(tb.npu(AAX_SOC_NPU_STATUS) == AAX_SOC_STATUS_DONE);
    tb.job(AAX_SOC_OP_RELU, AAX_DT_INT32, AAX_DT_INT32, M, N, 0, c_addr, 0, c_addr);
    CHECK(tb.run_job() == AAX_SOC_IRQ_DONE);
    job_ps = sc_core::sc_time_stamp().value() - t0;
    CHECK_FALSE(tb.irq);  // acknowledged
    std::vector<int32_t> got(M * N);
    if (via_window) {
        for (size_t i = 0; i < got.size(); ++i) got[i] = static_cast<int32_t>(tb.rd(c_addr + 4 * static_cast<uint32_t>(i)));
    } else {
        tb.peek(c_addr, got.data(), got.size() * 4);
    }
    CHECK(got == ref);
}

} // namespace

TEST_CASE("soc: with its DMA engine the NPU runs GEMM + ReLU on DRAM operands, bit-exact", "[soc]") {
    soc_tb tb("tb", {});
    uint64_t ps = 0;
    tb.body = [&] {
        CHECK(tb.npu(AAX_SOC_NPU_ID) == AAX_SOC_NPU_ID_VALUE);
        CHECK(tb.npu(AAX_SOC_NPU_CAPS) == AAX_SOC_CAPS_DMA);
        CHECK(tb.npu(AAX_SOC_NPU_SRAM_SIZE) == 512u * 1024u);
        tb.npu(AAX_SOC_NPU_IRQ_EN, AAX_SOC_IRQ_DONE | AAX_SOC_IRQ_ERROR);
        gemm_relu(tb, AAX_SOC_DRAM_BASE + 0x1000, AAX_SOC_DRAM_BASE + 0x3000, AAX_SOC_DRAM_BASE + 0x5000, false, ps);
    };
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_SEC));
    REQUIRE(tb.finished);
    CHECK(tb.irq_edges == 2);
    CHECK(tb.ip().ctrl.jobs() == 2);
    // GEMM: A (960 B) and B (800 B) in, C (1920 B) out; ReLU: C in and out again.
    CHECK(tb.ip().ctrl.dma_bytes() == 960 + 800 + 1920 + 2 * 1920);
    CHECK(tb.ip().ctrl.window_bytes() == 0);
    CHECK(ps > 0);
}

TEST_CASE("soc: without DMA the CPU fills the SRAM window, bit-exact, and every access costs time", "[soc]") {
    soc_tb tb("tb", {"dma.engines=0"});
    uint64_t ps = 0, write_ps = 0;
    tb.body = [&] {
        CHECK(tb.npu(AAX_SOC_NPU_CAPS) == 0u);
        tb.npu(AAX_SOC_NPU_IRQ_EN, AAX_SOC_IRQ_DONE | AAX_SOC_IRQ_ERROR);
        const uint64_t t0 = sc_core::sc_time_stamp().value();
        tb.wr(AAX_SOC_NPU_SRAM_BASE, 0x12345678u);
        write_ps = sc_core::sc_time_stamp().value() - t0;
        CHECK(tb.rd(AAX_SOC_NPU_SRAM_BASE) == 0x12345678u);
        gemm_relu(tb, AAX_SOC_NPU_SRAM_BASE + 0x1000, AAX_SOC_NPU_SRAM_BASE + 0x3000, AAX_SOC_NPU_SRAM_BASE + 0x5000,
                  true, ps);
    };
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_SEC));
    REQUIRE(tb.finished);
    // window_latency_ns 20 + window_ns_per_word 2, at least (plus the SRAM's own cycle).
    CHECK(write_ps >= 22000);
    CHECK(tb.ip().ctrl.dma_bytes() == 0);
    CHECK(tb.ip().ctrl.window_bytes() == 4 + 4 + 960 + 800 + 4 * 480);
    CHECK(tb.irq_edges == 2);
}

TEST_CASE("soc: bad register values end the job with an error code, ERR_ADDR and the error interrupt", "[soc]") {
    soc_tb tb("tb", {});
    struct outcome {
        uint32_t irq, status, code, addr;
    };
    std::vector<outcome> got;
    tb.body = [&] {
        tb.npu(AAX_SOC_NPU_IRQ_EN, AAX_SOC_IRQ_DONE | AAX_SOC_IRQ_ERROR);
        const uint32_t S = AAX_SOC_NPU_SRAM_BASE;
        auto go = [&] {
            const uint32_t irq = tb.run_job();
            got.push_back({irq, tb.npu(AAX_SOC_NPU_STATUS), tb.npu(AAX_SOC_NPU_ERR_CODE), tb.npu(AAX_SOC_NPU_ERR_ADDR)});
        };
        tb.job(0, AAX_DT_INT8, AAX_DT_INT32, 4, 4, 4, S, S, S);  // no op
        go();
        tb.job(77, AAX_DT_INT8, AAX_DT_INT32, 4, 4, 4, S, S, S);
        go();
        tb.job(AAX_SOC_OP_GEMM, AAX_DT_INT8, AAX_DT_INT32, 4, 0, 4, S, S, S);  // N = 0
        go();
        tb.job(AAX_SOC_OP_GEMM, AAX_DT_INT8, AAX_DT_INT32, 4, 70000, 4, S, S, S);  // too large
        go();
        tb.job(AAX_SOC_OP_MAXPOOL, AAX_DT_INT32, AAX_DT_INT32, 4, 5, 8, S, 0, S);  // odd width
        go();
        tb.job(AAX_SOC_OP_GEMM, AAX_DT_INT32, AAX_DT_INT32, 4, 4, 4, S, S, S);  // int32 GEMM inputs
        go();
        tb.job(AAX_SOC_OP_RELU, AAX_DT_INT8, 42, 4, 4, 0, S, 0, S);  // no such type
        go();
        tb.job(AAX_SOC_OP_GEMM, AAX_DT_INT8, AAX_DT_INT32, 4, 4, 4, 0x40000000u, S, S);  // unmapped
        go();
        tb.job(AAX_SOC_OP_RELU, AAX_DT_INT32, AAX_DT_INT32, 4, 4, 0, S + 512u * 1024u - 8, 0, S);  // past the SRAM end
        go();
        tb.job(AAX_SOC_OP_RELU, AAX_DT_INT32, AAX_DT_INT32, 1024, 1024, 0, AAX_SOC_DRAM_BASE, 0, S);  // 4 MiB staged
        go();
        tb.job(AAX_SOC_OP_RELU, AAX_DT_INT32, AAX_DT_INT32, 4, 4, 0, 0xFFFFFFF0u, 0, S);  // wraps 32 bits
        go();
        // START while a job runs: BUSY at once, the running job still completes.
        tb.job(AAX_SOC_OP_RELU, AAX_DT_INT32, AAX_DT_INT32, 64, 64, 0, S, 0, S);
        tb.npu(AAX_SOC_NPU_CTRL, AAX_SOC_CTRL_START);
        tb.npu(AAX_SOC_NPU_CTRL, AAX_SOC_CTRL_START);
        got.push_back({tb.npu(AAX_SOC_NPU_IRQ_STATUS), tb.npu(AAX_SOC_NPU_STATUS), tb.npu(AAX_SOC_NPU_ERR_CODE), 0});
        tb.npu(AAX_SOC_NPU_IRQ_STATUS, AAX_SOC_IRQ_ERROR);
        wait(sc_core::sc_time(100, sc_core::SC_US));
        got.push_back({tb.npu(AAX_SOC_NPU_IRQ_STATUS), tb.npu(AAX_SOC_NPU_STATUS), 0, 0});
        tb.npu(AAX_SOC_NPU_IRQ_STATUS, AAX_SOC_IRQ_DONE);
        // With IRQ_EN clear, an error is recorded but the line stays low.
        tb.npu(AAX_SOC_NPU_IRQ_EN, 0);
        tb.job(77, AAX_DT_INT8, AAX_DT_INT32, 4, 4, 4, S, S, S);
        tb.npu(AAX_SOC_NPU_CTRL, AAX_SOC_CTRL_START);
        wait(sc_core::sc_time(10, sc_core::SC_US));
        got.push_back({tb.npu(AAX_SOC_NPU_IRQ_STATUS), tb.npu(AAX_SOC_NPU_STATUS), tb.npu(AAX_SOC_NPU_ERR_CODE),
                       tb.irq ? 1u : 0u});
    };
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_SEC));
    REQUIRE(tb.finished);
    const uint32_t E = AAX_SOC_IRQ_ERROR, ES = AAX_SOC_STATUS_ERROR;
    const std::vector<std::vector<uint32_t>> want = {
        {E, ES, AAX_SOC_ERR_BAD_OP, 0},
        {E, ES, AAX_SOC_ERR_BAD_OP, 77},
        {E, ES, AAX_SOC_ERR_BAD_SHAPE, 0},
        {E, ES, AAX_SOC_ERR_BAD_SHAPE, 70000},
        {E, ES, AAX_SOC_ERR_BAD_SHAPE, 5},
        {E, ES, AAX_SOC_ERR_BAD_DTYPE, AAX_DT_INT32},
        {E, ES, AAX_SOC_ERR_BAD_DTYPE, 42},
        {E, ES, AAX_SOC_ERR_BAD_ADDRESS, 0x40000000u},
        {E, ES, AAX_SOC_ERR_BAD_ADDRESS, AAX_SOC_NPU_SRAM_BASE + 512u * 1024u - 8},
        {E, ES, AAX_SOC_ERR_NO_SPACE, 4u << 20},
        {E, ES, AAX_SOC_ERR_BAD_ADDRESS, 0xFFFFFFF0u},
        {E, AAX_SOC_STATUS_BUSY | ES, AAX_SOC_ERR_BUSY, 0},
        {AAX_SOC_IRQ_DONE, AAX_SOC_STATUS_DONE, 0, 0},
        {E, ES, AAX_SOC_ERR_BAD_OP, 0},
    };
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        INFO("case " << i);
        CHECK(got[i].irq == want[i][0]);
        CHECK(got[i].status == want[i][1]);
        CHECK(got[i].code == want[i][2]);
        CHECK(got[i].addr == want[i][3]);
    }
    CHECK(tb.ip().ctrl.errors() == 13);
}

TEST_CASE("soc: without DMA a DRAM operand is BAD_ADDRESS", "[soc]") {
    soc_tb tb("tb", {"dma.engines=0"});
    uint32_t irq = 0, code = 0, addr = 0;
    tb.body = [&] {
        tb.npu(AAX_SOC_NPU_IRQ_EN, AAX_SOC_IRQ_ERROR);
        tb.job(AAX_SOC_OP_RELU, AAX_DT_INT32, AAX_DT_INT32, 4, 4, 0, AAX_SOC_DRAM_BASE + 64, 0, AAX_SOC_NPU_SRAM_BASE);
        irq = tb.run_job();
        code = tb.npu(AAX_SOC_NPU_ERR_CODE);
        addr = tb.npu(AAX_SOC_NPU_ERR_ADDR);
    };
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_SEC));
    REQUIRE(tb.finished);
    CHECK(irq == AAX_SOC_IRQ_ERROR);
    CHECK(code == AAX_SOC_ERR_BAD_ADDRESS);
    CHECK(addr == AAX_SOC_DRAM_BASE + 64);
}

TEST_CASE("soc: a command list runs its entries in order with one interrupt, and a bad entry stops it", "[soc]") {
    soc_tb tb("tb", {});
    struct outcome {
        uint32_t irq, status, code, addr, index, jobs;
    };
    std::vector<outcome> got;
    std::vector<int32_t> c(16);
    tb.body = [&] {
        tb.npu(AAX_SOC_NPU_IRQ_EN, AAX_SOC_IRQ_DONE | AAX_SOC_IRQ_ERROR);
        const uint32_t S = AAX_SOC_NPU_SRAM_BASE;
        auto go = [&] {
            tb.npu(AAX_SOC_NPU_CTRL, AAX_SOC_CTRL_START_LIST);
            if (!tb.irq) wait(sc_core::sc_time(1, sc_core::SC_MS), tb.irq_ev);
            const uint32_t irq = tb.npu(AAX_SOC_NPU_IRQ_STATUS);
            tb.npu(AAX_SOC_NPU_IRQ_STATUS, irq);
            got.push_back({irq, tb.npu(AAX_SOC_NPU_STATUS), tb.npu(AAX_SOC_NPU_ERR_CODE), tb.npu(AAX_SOC_NPU_ERR_ADDR),
                           tb.npu(AAX_SOC_NPU_LIST_INDEX), tb.npu(AAX_SOC_NPU_JOBS)});
        };
        // x (4x4 int32 in DRAM) -> ADD x + x -> RELU -> DRAM; x = -8 .. 7.
        std::vector<int32_t> x(16);
        for (int i = 0; i < 16; ++i) x[static_cast<size_t>(i)] = i - 8;
        const uint32_t X = AAX_SOC_DRAM_BASE + 0x100, Y = AAX_SOC_DRAM_BASE + 0x200, L = AAX_SOC_DRAM_BASE + 0x1000;
        tb.poke(X, x.data(), 64);
        aax_soc_job list[3] = {};
        list[0] = {AAX_SOC_OP_ADD, AAX_DT_INT32, AAX_DT_INT32, 4, 4, 0, X, X, S + 0x100, 0, {}};
        list[1] = {AAX_SOC_OP_RELU, AAX_DT_INT32, AAX_DT_INT32, 4, 4, 0, S + 0x100, 0, Y, 0, {}};
        list[2] = {AAX_SOC_OP_RELU, AAX_DT_INT32, AAX_DT_INT32, 4, 0, 0, S, 0, S, 0, {}};  // bad shape
        tb.poke(L, list, sizeof list);
        tb.npu(AAX_SOC_NPU_LIST_ADDR, L);
        tb.npu(AAX_SOC_NPU_LIST_COUNT, 2);
        go();                                       // 0: both entries, one DONE interrupt
        tb.peek(Y, c.data(), 64);
        tb.npu(AAX_SOC_NPU_LIST_COUNT, 3);
        go();                                       // 1: entries 0, 1 run, entry 2 fails
        tb.npu(AAX_SOC_NPU_LIST_COUNT, 0);
        go();                                       // 2: empty list
        tb.npu(AAX_SOC_NPU_LIST_COUNT, AAX_SOC_LIST_MAX + 1);
        go();                                       // 3: too long
        tb.npu(AAX_SOC_NPU_LIST_COUNT, 2);
        tb.npu(AAX_SOC_NPU_LIST_ADDR, 0x40000000u);
        go();                                       // 4: out of reach
        tb.npu(AAX_SOC_NPU_LIST_ADDR, S + 512u * 1024u - 64);
        go();                                       // 5: runs past the SRAM end
    };
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_SEC));
    REQUIRE(tb.finished);
    std::vector<int32_t> want(16);
    for (int i = 0; i < 16; ++i) want[static_cast<size_t>(i)] = std::max(0, 2 * (i - 8));
    CHECK(c == want);
    const uint32_t E = AAX_SOC_IRQ_ERROR, ES = AAX_SOC_STATUS_ERROR;
    const std::vector<std::vector<uint32_t>> expect = {
        {AAX_SOC_IRQ_DONE, AAX_SOC_STATUS_DONE, 0, 0, 1, 2},
        {E, ES, AAX_SOC_ERR_BAD_SHAPE, 0, 2, 5},
        {E, ES, AAX_SOC_ERR_BAD_LIST, 0, 0, 5},
        {E, ES, AAX_SOC_ERR_BAD_LIST, AAX_SOC_LIST_MAX + 1, 0, 5},
        {E, ES, AAX_SOC_ERR_BAD_LIST, 0x40000000u, 0, 5},
        {E, ES, AAX_SOC_ERR_BAD_LIST, AAX_SOC_NPU_SRAM_BASE + 512u * 1024u - 64, 0, 5},
    };
    REQUIRE(got.size() == expect.size());
    for (size_t i = 0; i < expect.size(); ++i) {
        INFO("case " << i);
        CHECK(got[i].irq == expect[i][0]);
        CHECK(got[i].status == expect[i][1]);
        CHECK(got[i].code == expect[i][2]);
        CHECK(got[i].addr == expect[i][3]);
        CHECK(got[i].index == expect[i][4]);
        CHECK(got[i].jobs == expect[i][5]);
    }
    CHECK(tb.irq_edges == 6);
    CHECK(tb.ip().ctrl.fetch_bytes() == 5 * 64);
}

#ifdef ACCELVP_FIRMWARE_ELF
namespace {
nlohmann::json run_app(std::vector<std::string> overrides) {
    run_options o;
    o.config = std::string(ACCELVP_SOURCE_DIR) + "/configs/edge-soc.yaml";
    o.workload = "soc-app";
    o.quiet = true;
    overrides.push_back(std::string("soc.app=") + ACCELVP_FIRMWARE_ELF);
    // The sample application is built beside the firmware.
    std::string& app = overrides.back();
    app.replace(app.rfind("accelvp-fw.elf"), std::string("accelvp-fw.elf").size(), "edge-soc-app.elf");
    o.overrides = overrides;
    std::ostringstream out;
    const run_result r = run_soc(o, out);
    INFO(r.error);
    CHECK(r.exit_code == 0);
    return r.stats["summary"];
}
} // namespace

TEST_CASE("soc: the application CPU runs the CNN on the NPU with its DMA, bit-exact", "[soc][app]") {
    const auto s = run_app({});
    CHECK(s["status"] == "pass");
    CHECK(s["dma"] == true);
    CHECK(s["mismatches"] == 0);
    CHECK(s["error_tests"] == 4);
    CHECK(s["npu_jobs"] == 14);  // 4 error tests + 5 layers job by job + 5 as a command list
    CHECK(s["irqs"] == 10);      // one per job, one for the whole list
    CHECK(s["copy_instructions"] == 0);
    CHECK(s["list_copy_instructions"] == 0);
    CHECK(s["window_bytes"] == 0);
    // Per inference: im2col 18432 + conv weights 1152 + FC weights 10240 in, 40 bytes of result
    // out; twice. The list (5 x 64 bytes) is fetched from DRAM.
    CHECK(s["dma_bytes"] == 2 * (18432 + 1152 + 10240 + 40));
    CHECK(s["fetch_bytes"] == 320);
    // The DMA phase is far below the CPU-copy figure of the next case (the DMA mode's bound).
    CHECK(s["npu_phase_ns"].get<double>() < 20000);
    CHECK(s["list_phase_ns"].get<double>() < 20000);
}

TEST_CASE("soc: the application CPU copies through the SRAM window without DMA, bit-exact and slower", "[soc][app]") {
    const auto s = run_app({"dma.engines=0"});
    CHECK(s["status"] == "pass");
    CHECK(s["dma"] == false);
    CHECK(s["mismatches"] == 0);
    CHECK(s["error_tests"] == 4);
    CHECK(s["dma_bytes"] == 0);
    CHECK(s["fetch_bytes"] == 0);  // the list is copied into the SRAM (and fetched there)
    CHECK(s["window_bytes"] == 2 * (18432 + 1152 + 10240 + 40) + 320);
    CHECK(s["list_copy_instructions"].get<double>() > s["copy_instructions"].get<double>());
    // One store or load per word through the window, each at least window latency + a word.
    const double words = (18432 + 1152 + 10240 + 40) / 4.0;
    CHECK(s["npu_phase_ns"].get<double>() > words * 22);
    CHECK(s["copy_instructions"].get<double>() >= words * 3);
}
#endif
