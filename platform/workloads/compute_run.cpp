#include "platform/workloads/compute_run.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "platform/chip/chip.h"
#include "platform/workloads/jobs.h"
#include "tlm/core/keys.h"

namespace accelvp {

std::vector<uint8_t> make_operand(num::dtype t, uint64_t count, uint64_t seed, float lo, float hi) {
    std::mt19937_64 rng(seed);
    std::vector<uint8_t> out(count * num::dtype_size(t));
    if (t == num::dtype::int8) {
        for (auto& b : out) b = static_cast<uint8_t>(rng());
        return out;
    }
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> f(count);
    for (auto& x : f) x = d(rng);
    num::from_f32(t, f.data(), out.data(), count);
    return out;
}

compute_runner::compute_runner(workload_context& ctx) : ctx_(ctx), p_(compute_params::from_config(ctx.cfg)) {
    uapi::info_args info;
    ctx.dev.get_info(info);
    rings_ = info.queues;
    for (uint32_t i = 0; i < p_.clusters; ++i) srams_.push_back(ctx.soc.sram_addr(i));
    mach_.mem_gbps = ctx.soc.devmem_peak() / 1e9;
    mach_.dma_gbps = ctx.cfg.get(keys::dma::bandwidth_gbps);
    mach_.dma_engines = static_cast<uint32_t>(ctx.cfg.get(keys::dma::engines));
    mach_.sram_port_gbps = p_.sram_bytes_per_cycle * p_.freq_mhz * 1e-3;
    mach_.dma_setup_ns = ctx.cfg.get(keys::dma::setup_ns);
    mach_.round_trip_ns = ctx.cfg.get(keys::mem::latency_ns) + 2 * ctx.cfg.get(keys::chip::noc_hop_ns);
    mach_.burst_bytes = static_cast<uint32_t>(ctx.cfg.get(keys::dma::burst_bytes));
    mach_.max_outstanding = static_cast<uint32_t>(ctx.cfg.get(keys::dma::max_outstanding));
    mach_.packet_ns = ctx.cfg.get(keys::qman::decode_ns);
    mach_.sem_ns = ctx.cfg.get(keys::sync::op_ns);
    calibrate_jobs();
}

// The control path the tiler weighs against spreading a GEMM thin (gemm_machine::job_ns,
// job_latency_ns), measured on the device in use rather than assumed: with a control core the
// per-job cost is the firmware's instructions and register accesses. Two rounds of NOP jobs,
// each submitted together and awaited as a phase's jobs are, timed by their completion
// records: one job alone (its span is job_latency_ns), then one on each ring a GEMM phase can
// use (n jobs span job_latency_ns + (n - 1) job_ns). A failure leaves both 0 (the tiler then
// weighs the packets only); the phases that follow report device errors.
void compute_runner::calibrate_jobs() {
    auto& dev = ctx_.dev;
    cmdbuf_builder cb;
    cb.nop();
    auto round = [&](uint32_t n, double& span) {
        std::vector<uint32_t> seqs;
        for (uint32_t r = 0; r < n; ++r) {
            uint32_t seq = 0;
            std::string what;
            if (submit_stream(r, cb, seq, what)) return false;
            seqs.push_back(seq);
        }
        const job_wait jw = wait_jobs(dev, seqs, static_cast<uint64_t>(ctx_.cfg.get_real("workload.timeout_ms") * 1e6));
        for (uint32_t h : bo_handles_) dev.bo_free(h);
        bo_handles_.clear();
        span = static_cast<double>(jw.span_ns());
        return jw.rc == 0;
    };
    double one = 0, all = 0;
    if (!round(1, one)) return;
    const uint32_t n = 2 * std::min<uint32_t>(p_.clusters, rings_ / 2);  // a phase's rings
    if (n > 1 && !round(n, all)) return;
    mach_.job_latency_ns = one;
    mach_.job_ns = n > 1 ? std::max(0.0, all - one) / (n - 1) : 0.0;
}

int compute_runner::fail(const std::string& what, int rc) {
    ctx_.error = fmt::format("{}: {}", what, std::strerror(-rc));
    return 1;
}

int compute_runner::alloc(device_buffer& b, uint64_t bytes, const std::string& what) {
    uapi::bo_create_args a{bytes, uapi::BO_DEVICE};
    if (int rc = ctx_.dev.bo_create(a))
        return fail(fmt::format("allocating {} bytes of device memory for {}", bytes, what), rc);
    b.va = a.device_va;
    b.size = bytes;
    ctx_.dev.bo_mmap(a.handle, b.map);
    return 0;
}

int compute_runner::write(device_buffer& b, const std::vector<uint8_t>& data, const std::string& what) {
    const int rc = ctx_.functional ? b.map->write(0, data.data(), data.size()) : b.map->write_timing_only(0, b.size);
    return rc ? fail("writing " + what, rc) : 0;
}

int compute_runner::read(device_buffer& b, std::vector<uint8_t>& out) {
    out.resize(b.size);
    return b.map->peek(0, out.data(), out.size()) ? fail("reading back results", -EIO) : 0;
}

int compute_runner::run_gemm(const std::string& phase, const gemm_problem& g, gemm_tiling want) {
    gemm_plan plan;
    try {
        plan = plan_gemm(p_, g, srams_, rings_, 0, want, mach_);
        if (!gemm_dtype_) gemm_dtype_ = g.dtype;  // the peak is the matrix engine's rate for the workload's type
    } catch (const std::exception& ex) {
        ctx_.error = fmt::format("tiling the GEMM of phase {}: {}", phase, ex.what());
        return 1;
    }
    return run(phase, plan);
}

int compute_runner::run_vec(const std::string& phase, const vec_program& v) {
    gemm_plan plan;
    try {
        plan = plan_vec(p_, v, srams_, rings_);
    } catch (const std::exception& ex) {
        ctx_.error = fmt::format("planning vector phase {}: {}", phase, ex.what());
        return 1;
    }
    return run(phase, plan);
}

int compute_runner::submit_stream(uint32_t ring, const cmdbuf_builder& cb, uint32_t& seq, std::string& what) {
    auto& dev = ctx_.dev;
    uapi::bo_create_args cmd{cb.size(), uapi::BO_DEVICE};
    if (int rc = dev.bo_create(cmd)) {
        what = "allocating a command buffer";
        return rc;
    }
    bo_handles_.push_back(cmd.handle);
    std::unique_ptr<uapi::mapping> map;
    dev.bo_mmap(cmd.handle, map);
    map->write(0, cb.bytes().data(), cb.size());
    uapi::submit_args sub;
    sub.queue = ring;
    sub.cmdbuf_handle = cmd.handle;
    sub.cmdbuf_size = cb.size();
    if (int rc = dev.submit(sub)) {
        what = fmt::format("submitting ring {}", ring);
        return rc;
    }
    seq = sub.seq;
    return 0;
}

int compute_runner::plan_gemm_only(const std::string& phase, const gemm_problem& g, gemm_plan& out) {
    try {
        out = plan_gemm(p_, g, srams_, rings_, 0, {}, mach_);
        if (!gemm_dtype_) gemm_dtype_ = g.dtype;
    } catch (const std::exception& ex) {
        ctx_.error = fmt::format("tiling the GEMM of phase {}: {}", phase, ex.what());
        return 1;
    }
    return 0;
}

void compute_runner::reserve_rings(uint32_t n) { rings_ = rings_ > n ? rings_ - n : 1; }

int compute_runner::run(const std::string& phase, const gemm_plan& plan) {
    if (int rc = start(phase, plan)) return rc;
    return finish();
}

int compute_runner::start(const std::string& phase, const gemm_plan& plan) {
    // One job per ring; all submitted, then all awaited (finish()).
    pending_seqs_.clear();
    pending_phase_ = phase;
    pending_ = &plan;
    for (uint32_t r = 0; r < plan.streams.size(); ++r) {
        const cmdbuf_builder& cb = plan.streams[r];
        if (cb.size() == 0) continue;
        uint32_t seq = 0;
        std::string what;
        if (int rc = submit_stream(r, cb, seq, what)) return fail(what, rc);
        pending_seqs_.push_back(seq);
    }
    return 0;
}

int compute_runner::finish() {
    auto& dev = ctx_.dev;
    const config& c = ctx_.cfg;
    const gemm_plan& plan = *pending_;
    const std::string phase = pending_phase_;
    const std::vector<uint32_t> seqs = std::move(pending_seqs_);
    pending_seqs_.clear();
    const job_wait jw = wait_jobs(dev, seqs, static_cast<uint64_t>(c.get_real("workload.timeout_ms") * 1e6));
    if (jw.rc) {
        ctx_.error = fmt::format("{} job failed: {}", phase, job_failure(dev, jw.rc, jw.failed_wait));
        return 1;
    }
    const uint64_t t0 = jw.start_ns, t1 = jw.end_ns;
    // Command buffers are not reused: free them so long layers do not run out of device memory.
    for (uint32_t h : bo_handles_) dev.bo_free(h);
    bo_handles_.clear();
    if (!seqs.empty()) {
        device_ns_ += static_cast<double>(t1 - t0);
        phase_ns_[phase] += static_cast<double>(t1 - t0);
        t_first_ = std::min(t_first_, t0);
        t_last_ = std::max(t_last_, t1);
    }

    // Analytic time of each resource in this phase; summed over phases (they run one after another).
    const double f = p_.freq_hz();
    uint64_t busiest = 0;
    for (uint32_t i = 0; i < plan.clusters; ++i) {
        uint64_t cyc = plan.cluster_cycles.at(i);
        if (i < plan.cluster_vec_cycles.size()) cyc = std::max(cyc, plan.cluster_vec_cycles[i]);
        busiest = std::max(busiest, cyc);
    }
    const uint64_t max_sram = plan.cluster_sram_bytes.empty()
                                  ? 0
                                  : *std::max_element(plan.cluster_sram_bytes.begin(), plan.cluster_sram_bytes.end());
    engine_cycles_max_ += busiest;
    clusters_used_ = std::max(clusters_used_, plan.clusters);
    t_compute_ += static_cast<double>(busiest) / f * 1e9;  // busiest engine, fill/drain included
    t_sram_ += static_cast<double>(max_sram) / (p_.sram_bytes_per_cycle * f) * 1e9;
    // Device memory at the peak of the model in the run (the DRAM model's organisation with
    // mem.model=dram, else mem.bandwidth_gbps).
    const double mem_gbps = ctx_.soc.devmem_peak() / 1e9;
    t_hbm_ += static_cast<double>(plan.hbm_bytes) / mem_gbps;
    // DMA: each engine runs its packets one at a time (ring r's on engine r % dma.engines); a
    // packet pays its setup and one memory round trip, then streams at the slowest of its
    // datapath, the memory, the SRAM port, and what max_outstanding bursts in flight cover
    // over a round trip (Little's law; bursts never cross a row). The busiest engine bounds.
    std::vector<double> engine_ns(mach_.dma_engines, 0.0);
    for (const auto& d : plan.dmas) engine_ns[d.ring % engine_ns.size()] += mach_.dma_packet_ns(d.bytes, d.row_bytes);
    t_dma_ += *std::max_element(engine_ns.begin(), engine_ns.end());
    hbm_bytes_ += plan.hbm_bytes;
    gemm_packets_ += plan.gemm_packets;
    vec_packets_ += plan.vec_packets;
    dma_packets_ += plan.dma_packets;
    last_ = plan;
    return 0;
}

void compute_runner::summarize(nlohmann::json& s, double flops) const {
    const double ns = device_ns_;
    // Peak of the clusters the plans could use, at the matrix engine's rate for the GEMM inputs.
    const uint32_t used = clusters_used_ ? clusters_used_ : p_.clusters;
    const double peak = 2.0 * p_.peak_macs_per_s(gemm_dtype_.value_or(AAX_DT_BF16)) * used;
    const double f = p_.freq_hz();
    struct bound_time {
        const char* what;
        double ns;
    };
    const bound_time times[] = {{"compute", t_compute_}, {"SRAM", t_sram_}, {"HBM", t_hbm_}, {"DMA", t_dma_}};
    const bound_time* top = &times[0];
    for (const auto& t : times)
        if (t.ns > top->ns) top = &t;
    s["gemm_packets"] = gemm_packets_;
    s["vec_packets"] = vec_packets_;
    s["dma_packets"] = dma_packets_;
    s["device_ns"] = ns;
    s["cycles"] = static_cast<uint64_t>(ns * f / 1e9 + 0.5);
    s["engine_cycles_max"] = engine_cycles_max_;
    s["flops"] = flops;
    s["tflops"] = ns > 0 ? flops / ns / 1e3 : 0.0;
    s["peak_tflops"] = peak / 1e12;
    s["peak_dtype"] = num::dtype_name(static_cast<num::dtype>(gemm_dtype_.value_or(AAX_DT_BF16)));
    s["clusters_used"] = used;
    s["utilization"] = ns > 0 ? flops / ns * 1e9 / peak : 0.0;
    s["hbm_bytes"] = hbm_bytes_;
    s["hbm_bandwidth_gbps"] = ns > 0 ? static_cast<double>(hbm_bytes_) / ns : 0.0;
    for (const auto& t : times) s[fmt::format("t_{}_ns", t.what)] = t.ns;
    // Far above every resource: per-packet and per-job overheads and pipeline ramp dominate.
    s["bound"] = ns > 2 * top->ns ? "host" : top->what;
    if (phase_ns_.size() > 1) {
        s["span_ns"] = static_cast<double>(t_last_ - t_first_);  // with the host's gaps between phases
        for (const auto& [name, t] : phase_ns_) s["phase_ns"][name] = t;
    }
}

} // namespace accelvp
