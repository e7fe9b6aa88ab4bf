#include "platform/workloads/soak.h"

#include <cerrno>
#include <chrono>
#include <deque>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "abi/aax_queue.h"
#include "platform/chip/chip.h"
#include "platform/host/cmdbuf.h"
#include "platform/host/uapi.h"
#include "platform/workloads/dma_copy.h"

namespace accelvp {

namespace {
struct context {
    std::unique_ptr<uapi::device> owned;
    uapi::device* dev = nullptr;
    unsigned queue = 0;
    uapi::bo_create_args src, dst, cmd;
    std::unique_ptr<uapi::mapping> src_map, dst_map, cmd_map;
    std::deque<std::pair<uint64_t, uint32_t>> pending;  // (job, attempts so far)
};

int make_bo(uapi::device& dev, uapi::bo_create_args& a, std::unique_ptr<uapi::mapping>& m, uint64_t size) {
    a = uapi::bo_create_args{};
    a.size = size;
    if (int rc = dev.bo_create(a)) return rc;
    return dev.bo_mmap(a.handle, m);
}
} // namespace

soak_result run_soak(uapi::device& dev0, const chip& soc, const soak_options& o) {
    soak_result res;
    const uint64_t t0 = sc_core::sc_time_stamp().value();
    std::vector<context> ctxs(o.contexts);
    const uint64_t slot_cmd = 64;  // one DMA packet, padded
    for (unsigned c = 0; c < o.contexts; ++c) {
        context& x = ctxs[c];
        if (c == 0) {
            x.dev = &dev0;
        } else {
            int err = 0;
            x.owned = uapi::device::open(dev0.drv(), &err);
            if (!x.owned) {
                res.error = fmt::format("open context {}: {}", c, err);
                return res;
            }
            x.dev = x.owned.get();
        }
        uapi::info_args info;
        x.dev->get_info(info);
        x.queue = c % std::max<uint32_t>(1, info.queues);
        const uint64_t n = static_cast<uint64_t>(o.window) * o.bytes;
        if (make_bo(*x.dev, x.src, x.src_map, n) || make_bo(*x.dev, x.dst, x.dst_map, n) ||
            make_bo(*x.dev, x.cmd, x.cmd_map, o.window * slot_cmd)) {
            res.error = fmt::format("context {}: cannot allocate its buffers", c);
            return res;
        }
        // Slot s copies src slot s to dst slot s: the command buffers never change.
        for (uint32_t s = 0; s < o.window; ++s) {
            cmdbuf_builder b;
            b.copy(x.src.device_va + static_cast<uint64_t>(s) * o.bytes, x.dst.device_va + static_cast<uint64_t>(s) * o.bytes,
                   o.bytes);
            b.nop(1);
            x.cmd_map->write(s * slot_cmd, b.bytes().data(), b.bytes().size());
        }
    }
    for (uint64_t j = 0; j < o.jobs; ++j) ctxs[j % o.contexts].pending.emplace_back(j, 0);

    std::vector<uint8_t> expect(o.bytes), got(o.bytes), zero(o.bytes, 0);
    const auto job_seed = [&](uint64_t job, uint32_t attempt) { return o.seed * 1000003ull + job * 17 + attempt; };
    struct inflight {
        unsigned ctx;
        uint32_t slot;
        uint64_t job;
        uint32_t attempt;
        uint32_t seq;
    };
    for (;;) {
        std::vector<inflight> round;
        for (unsigned c = 0; c < o.contexts; ++c) {
            context& x = ctxs[c];
            for (uint32_t s = 0; s < o.window && !x.pending.empty(); ++s) {
                const auto [job, attempt] = x.pending.front();
                x.pending.pop_front();
                if (o.verify) {
                    fill_pattern(expect.data(), 0, o.bytes, job_seed(job, attempt));
                    x.src_map->write(static_cast<uint64_t>(s) * o.bytes, expect.data(), o.bytes);
                    x.dst_map->write(static_cast<uint64_t>(s) * o.bytes, zero.data(), o.bytes);
                }
                uapi::submit_args a;
                a.queue = x.queue;
                a.cmdbuf_handle = x.cmd.handle;
                a.cmdbuf_offset = static_cast<uint32_t>(s * slot_cmd);
                a.cmdbuf_size = static_cast<uint32_t>(sizeof(aax_pkt_dma) + 8);
                a.timeout_us = o.timeout_us;
                if (const int rc = x.dev->submit(a)) {
                    res.error = fmt::format("job {}: submit failed ({})", job, rc);
                    ++res.unexpected;
                    continue;
                }
                round.push_back(inflight{c, s, job, attempt, a.seq});
            }
        }
        if (round.empty()) break;
        for (const inflight& f : round) {
            context& x = ctxs[f.ctx];
            uapi::wait_args w;
            w.seq = f.seq;
            w.timeout_ns = 100'000'000;  // 100 ms of simulated time: far beyond any job here
            const int rc = x.dev->wait(w);
            if (rc == -ETIMEDOUT && w.status == AAX_OK) {
                ++res.lost;
                if (res.error.empty()) res.error = fmt::format("job {} (context {}) never completed", f.job, f.ctx);
                continue;
            }
            if (w.status == AAX_ERR_ABORTED && f.attempt < o.retries) {  // collateral of another job's failure
                ++res.retried;
                x.pending.emplace_front(f.job, f.attempt + 1);
                continue;
            }
            ++res.jobs;
            ++res.by_status[w.status];
            if (w.status == AAX_OK) {
                if (o.verify) {
                    fill_pattern(expect.data(), 0, o.bytes, job_seed(f.job, f.attempt));
                    x.dst_map->peek(static_cast<uint64_t>(f.slot) * o.bytes, got.data(), o.bytes);
                    if (got != expect) {
                        ++res.corrupted;
                        if (res.error.empty())
                            res.error = fmt::format("job {} (context {}) completed OK with wrong data", f.job, f.ctx);
                        continue;
                    }
                }
                ++res.ok;
            } else if (w.status != AAX_ERR_ECC_UE && w.status != AAX_ERR_TIMEOUT && w.status != AAX_ERR_ABORTED) {
                ++res.unexpected;
                if (res.error.empty())
                    res.error = fmt::format("job {} (context {}) failed with {}, which no injected fault explains", f.job,
                                            f.ctx, aax_status_name(w.status));
            }
        }
    }
    res.sim_ms = static_cast<double>(sc_core::sc_time_stamp().value() - t0) / 1e9;
    driver& drv = dev0.drv();
    res.device_resets = drv.device_resets();
    res.resubmitted = drv.jobs_resubmitted();
    if (soc.devmem->ecc()) {
        res.ecc_corrected = soc.devmem->ecc()->corrected();
        res.ecc_uncorrectable = soc.devmem->ecc()->uncorrectable();
    }
    res.hangs = 0;
    for (const auto& e : soc.dma) res.hangs += e->hangs();
    res.fw_crashes = soc.fw_crashes_injected();
    return res;
}

const param_table<soak_params>& soak_params::table() {
    using P = soak_params;
    static const auto t =
        param_table<P>()
            .integer("jobs", &P::jobs, 1, 100'000'000, "jobs to run (spread round-robin over the contexts)")
            .integer("contexts", &P::contexts, 1, 16, "contexts: device files, each on its own queue")
            .integer("bytes", &P::bytes, 8, 1 << 24, "bytes each job copies (one DMA packet)", "bytes")
            .integer("window", &P::window, 1, 64, "jobs in flight per context")
            .integer("timeout_us", &P::timeout_us, 1, 1'000'000'000, "device-side timeout of each job", "us")
            .integer("retries", &P::retries, 0, 100, "resubmissions of a job that completed ABORTED");
    return t;
}

int soak_workload::plan(workload_context& ctx, const params& p, state& st) {
    soak_options& o = st.o;
    o.jobs = p.jobs;
    o.contexts = p.contexts;
    o.bytes = p.bytes;
    o.window = p.window;
    o.timeout_us = p.timeout_us;
    o.retries = p.retries;
    o.seed = ctx.seed;
    o.verify = ctx.functional;
    return 0;
}

int soak_workload::submit(workload_context& ctx, const params&, state& st) {
    const auto wall0 = std::chrono::steady_clock::now();
    st.r = run_soak(ctx.dev, ctx.soc, st.o);
    const soak_result& r = st.r;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    auto& s = ctx.summary;
    s["jobs"] = r.jobs;
    s["ok"] = r.ok;
    s["lost"] = r.lost;
    s["corrupted"] = r.corrupted;
    s["unexpected"] = r.unexpected;
    s["retried_aborted"] = r.retried;
    s["failed_ecc_ue"] = r.by_status[AAX_ERR_ECC_UE];
    s["failed_timeout"] = r.by_status[AAX_ERR_TIMEOUT];
    s["failed_aborted"] = r.by_status[AAX_ERR_ABORTED];
    s["device_resets"] = r.device_resets;
    s["jobs_resubmitted"] = r.resubmitted;
    s["ecc_corrected"] = r.ecc_corrected;
    s["ecc_uncorrectable"] = r.ecc_uncorrectable;
    s["engine_hangs"] = r.hangs;
    s["fw_crashes"] = r.fw_crashes;
    s["sim_ms"] = r.sim_ms;
    s["wall_s"] = wall;
    // Lost or unexplained jobs fail a timing run too (it checks completions, not data).
    return ctx.functional ? 0 : verify(ctx, soak_params{}, st);
}

int soak_workload::verify(workload_context& ctx, const params&, state& st) {
    if (ctx.functional) ctx.verified = st.r.clean();
    if (!st.r.clean()) {
        ctx.error = st.r.error.empty() ? "soak: lost, corrupted or unexplained jobs" : "soak: " + st.r.error;
        return 1;
    }
    return 0;
}

} // namespace accelvp
