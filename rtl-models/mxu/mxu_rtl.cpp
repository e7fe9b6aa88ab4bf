#include "mxu_rtl.h"

#include <stdexcept>

#include "Vmxu_os_tile.h"
#include "Vmxu_tile.h"
#include "Vmxu_tile__Dpi.h"
#include "verilated.h"

namespace accelvp::rtl {

const uint32_t mxu_rtl::max_rows = ACCELVP_RTL_MXU_ROWS;
const uint32_t mxu_rtl::max_cols = ACCELVP_RTL_MXU_COLS;
const uint32_t mxu_rtl::acc_rows = ACCELVP_RTL_MXU_ACC_ROWS;

namespace {
// The backend of the tile being clocked (one at a time: the simulation is single-threaded).
sram_backend* g_sram = nullptr;
} // namespace

struct mxu_rtl::impl {
    VerilatedContext ctx;
    Vmxu_tile top{&ctx, "mxu_tile"};
    Vmxu_os_tile os{&ctx, "mxu_os_tile"};
};

mxu_rtl::mxu_rtl() : d_(std::make_unique<impl>()) {
    auto reset = [this](auto& t) {
        t.rst_n = 0;
        t.start = 0;
        t.clk = 0;
        for (int i = 0; i < 2; ++i) tick(t);
        t.rst_n = 1;
        tick(t);
    };
    reset(d_->top);
    reset(d_->os);
}

mxu_rtl::~mxu_rtl() {
    d_->top.final();
    d_->os.final();
}

template <class M> void mxu_rtl::tick(M& t) {
    t.clk = 0;
    t.eval();
    t.clk = 1;
    t.eval();
    ++clocks_;
}

const char* mxu_rtl::unsupported(const mxu_config& cfg, const mxu_job& job) {
    if (cfg.rows < 1 || cfg.rows > max_rows) return "array_rows outside the RTL array";
    if (cfg.cols < 1 || cfg.cols > max_cols) return "array_cols outside the RTL array";
    if (!job.os && job.k > cfg.rows && job.m > acc_rows) return "m above the accumulator buffer with more than one k-block";
    if (job.m == 0 || job.n == 0 || job.k == 0) return "empty GEMM";
    return nullptr;
}

uint64_t mxu_rtl::run(const mxu_config& cfg, const mxu_job& job, sram_backend* sram) {
    if (const char* why = unsupported(cfg, job)) throw std::invalid_argument(std::string("mxu_rtl: ") + why);
    if (job.os) return run_model(d_->os, cfg, job, sram);
    d_->top.cfg_exit_tap = cfg.exit_tap;
    return run_model(d_->top, cfg, job, sram);
}

template <class M> uint64_t mxu_rtl::run_model(M& t, const mxu_config& cfg, const mxu_job& job, sram_backend* sram) {
    t.cfg_m = job.m;
    t.cfg_n = job.n;
    t.cfg_k = job.k;
    t.cfg_a = job.a_addr;
    t.cfg_b = job.b_addr;
    t.cfg_c = job.c_addr;
    t.cfg_lda = job.lda;
    t.cfg_ldb = job.ldb;
    t.cfg_ldc = job.ldc;
    t.cfg_acc = job.accumulate;
    t.cfg_btrans = job.b_trans;
    t.cfg_data = job.data && sram;
    t.cfg_rows = cfg.rows;
    t.cfg_cols = cfg.cols;
    t.cfg_ib = job.in_bytes;
    t.cfg_ob = job.out_bytes;
    t.cfg_bpc = cfg.sram_bytes_per_cycle;
    t.cfg_setup = cfg.setup_cycles;
    g_sram = sram;
    t.start = 1;
    tick(t);
    t.start = 0;
    while (!t.done) tick(t);
    g_sram = nullptr;
    return t.cycles;
}

} // namespace accelvp::rtl

// DPI-C: the tile's SRAM model.
int mxu_sram_rd8(long long addr) {
    return accelvp::rtl::g_sram ? accelvp::rtl::g_sram->rd8(static_cast<uint64_t>(addr)) : 0;
}
int mxu_sram_rd32(long long addr) {
    return accelvp::rtl::g_sram ? static_cast<int>(accelvp::rtl::g_sram->rd32(static_cast<uint64_t>(addr))) : 0;
}
void mxu_sram_wr32(long long addr, int data) {
    if (accelvp::rtl::g_sram) accelvp::rtl::g_sram->wr32(static_cast<uint64_t>(addr), static_cast<uint32_t>(data));
}
