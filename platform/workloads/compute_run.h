// Shared host side of the compute workloads (gemm, conv2d, attention, transformer-layer):
// device buffers, seeded operands, running compiler-lite plans phase by phase (all rings of a
// phase submitted, then all awaited) and the summary figures with the analytic time of each
// resource and the bound (docs/compute.md, "GEMM workload and compiler-lite").
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "platform/host/uapi.h"
#include "platform/runtime/gemm_tiler.h"
#include "platform/runtime/vec_tiler.h"
#include "platform/workloads/workload.h"
#include "tlm/compute/numerics.h"

namespace accelvp {

// Seeded values of type t: floats uniform in [lo, hi) rounded to t, int8 all codes.
std::vector<uint8_t> make_operand(num::dtype t, uint64_t count, uint64_t seed, float lo = -2.0f, float hi = 2.0f);

struct device_buffer {
    uint64_t va = 0, size = 0;
    std::unique_ptr<uapi::mapping> map;
};

class compute_runner {
public:
    explicit compute_runner(workload_context& ctx);
    const compute_params& params() const { return p_; }

    // Each returns 0, or 1 with ctx.error set (the workload returns it).
    int alloc(device_buffer& b, uint64_t bytes, const std::string& what);
    // Functional mode: the bytes; timing mode: only the write's timing (data may be empty).
    int write(device_buffer& b, const std::vector<uint8_t>& data, const std::string& what);
    int read(device_buffer& b, std::vector<uint8_t>& out);  // functional mode only
    // Plans (throw std::invalid_argument on impossible shapes; run_* report it as ctx.error).
    int run_gemm(const std::string& phase, const gemm_problem& g, gemm_tiling want = {});
    int run_vec(const std::string& phase, const vec_program& v);
    int run(const std::string& phase, const gemm_plan& plan);
    // run() in two halves, so that the host can keep jobs of several devices (chips) in flight:
    // start() submits the plan's jobs, finish() waits for them and accounts the phase. `plan`
    // must live until finish().
    int start(const std::string& phase, const gemm_plan& plan);
    int finish();
    // The plan run_gemm would run, without running it.
    int plan_gemm_only(const std::string& phase, const gemm_problem& g, gemm_plan& out);
    // Leave the last n rings to someone else (a collective's jobs): plans use the others.
    void reserve_rings(uint32_t n);
    uint32_t rings() const { return rings_; }

    // Summary: flops, tflops, peak_tflops, utilization, hbm_bandwidth_gbps, cycles, bound, the
    // analytic time of each resource (summed over phases) and, with more than one phase kind,
    // `phase_ns` (device time per phase name).
    void summarize(nlohmann::json& s, double flops) const;
    const gemm_plan& last_plan() const { return last_; }
    const gemm_machine& machine() const { return mach_; }

private:
    workload_context& ctx_;
    compute_params p_;
    std::vector<uint64_t> srams_;
    gemm_machine mach_;  // memory side of the chip, for the tiler
    uint32_t rings_ = 1;
    gemm_plan last_;
    const gemm_plan* pending_ = nullptr;  // start() .. finish()
    std::string pending_phase_;
    std::vector<uint32_t> pending_seqs_;
    double device_ns_ = 0;
    uint64_t t_first_ = UINT64_MAX, t_last_ = 0;
    std::map<std::string, double> phase_ns_;
    std::vector<uint32_t> bo_handles_;
    double t_compute_ = 0, t_sram_ = 0, t_hbm_ = 0, t_dma_ = 0;
    std::optional<uint8_t> gemm_dtype_;  // input type of the first GEMM phase
    uint32_t clusters_used_ = 0;         // most clusters any phase's plan used
    uint64_t hbm_bytes_ = 0, gemm_packets_ = 0, vec_packets_ = 0, dma_packets_ = 0, engine_cycles_max_ = 0;
    int fail(const std::string& what, int rc);
    void calibrate_jobs();  // gemm_machine::job_ns and job_latency_ns, measured with NOP jobs
    // Puts `cb` in a new device BO (freed with the phase's others) and submits it on `ring`.
    // Returns 0 and the job's seq, or the failing call's rc with `what` naming the step.
    int submit_stream(uint32_t ring, const cmdbuf_builder& cb, uint32_t& seq, std::string& what);
};

} // namespace accelvp
