#include "vpu_rtl.h"

#include <stdexcept>
#include <string>

#include "Vvpu_cluster.h"
#include "Vvpu_cluster__Dpi.h"
#include "verilated.h"

namespace accelvp::rtl {

const uint32_t vpu_rtl::max_lanes = ACCELVP_RTL_VPU_LANES;
const uint32_t vpu_rtl::max_depth = ACCELVP_RTL_VPU_DEPTH;

namespace {
// The backend of the cluster being clocked (one at a time: the simulation is single-threaded).
vpu_sram* g_sram = nullptr;
} // namespace

struct vpu_rtl::impl {
    VerilatedContext ctx;
    Vvpu_cluster top{&ctx, "vpu_cluster"};
};

vpu_rtl::vpu_rtl() : d_(std::make_unique<impl>()) {
    auto& t = d_->top;
    t.rst_n = 0;
    t.start = 0;
    t.clk = 0;
    t.cfg_depth = 1;
    t.cfg_lanes = 1;
    for (int i = 0; i < 2; ++i) tick();
    t.rst_n = 1;
    tick();
}

vpu_rtl::~vpu_rtl() { d_->top.final(); }

void vpu_rtl::tick() {
    auto& t = d_->top;
    t.clk = 0;
    t.eval();
    t.clk = 1;
    t.eval();
    ++clocks_;
}

bool vpu_rtl::implements(uint32_t op) { return op == 0 || op == 1 || op == 3 || op == 4 || op == 9 || op == 10; }

const char* vpu_rtl::unsupported(const vpu_config& cfg, const vpu_job& job) {
    if (cfg.lanes < 1 || cfg.lanes > max_lanes) return "vector_lanes outside the RTL lane cluster";
    if (cfg.depth < 1 || cfg.depth > max_depth) return "vector_depth outside the RTL pipeline";
    if (!implements(job.op)) return "op not implemented by the lane cluster";
    if (job.rows == 0 || job.cols == 0) return "empty operation";
    if (job.bmode > vpu_job::b_col || job.in > vpu_job::in_fp32 || job.out > vpu_job::out_bf16)
        return "bad operand mode";
    return nullptr;
}

uint64_t vpu_rtl::run(const vpu_config& cfg, const vpu_job& job, vpu_sram* sram) {
    if (const char* why = unsupported(cfg, job)) throw std::invalid_argument(std::string("vpu_rtl: ") + why);
    auto& t = d_->top;
    t.cfg_op = job.op;
    t.cfg_bmode = job.bmode;
    t.cfg_rows = job.rows;
    t.cfg_cols = job.cols;
    t.cfg_a = job.a_addr;
    t.cfg_b = job.b_addr;
    t.cfg_y = job.y_addr;
    t.cfg_lda = job.lda;
    t.cfg_ldb = job.ldb;
    t.cfg_ldy = job.ldy;
    t.cfg_scalar = job.scalar;
    t.cfg_in = job.in;
    t.cfg_out = job.out;
    t.cfg_data = job.data && sram;
    t.cfg_lanes = cfg.lanes;
    t.cfg_depth = cfg.depth;
    t.cfg_ib = job.in_bytes;
    t.cfg_ob = job.out_bytes;
    t.cfg_bpc = cfg.sram_bytes_per_cycle;
    t.cfg_setup = cfg.setup_cycles;
    g_sram = sram;
    t.start = 1;
    tick();
    t.start = 0;
    while (!t.done) tick();
    g_sram = nullptr;
    return t.cycles;
}

} // namespace accelvp::rtl

// DPI-C: the cluster's SRAM model.
int vpu_sram_rd8(long long addr) {
    return accelvp::rtl::g_sram ? accelvp::rtl::g_sram->rd8(static_cast<uint64_t>(addr)) : 0;
}
void vpu_sram_wr(long long addr, int nbytes, int data) {
    if (accelvp::rtl::g_sram)
        accelvp::rtl::g_sram->wr(static_cast<uint64_t>(addr), static_cast<unsigned>(nbytes), static_cast<uint32_t>(data));
}
