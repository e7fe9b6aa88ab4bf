// The data-parallel training step (train_step.h, docs/models.md "Training step").
#include "platform/workloads/train_step.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <numeric>

#include <fmt/format.h>

#include "platform/host/cmdbuf.h"
#include "platform/system/collectives.h"
#include "platform/workloads/collective.h"
#include "platform/workloads/compute_run.h"
#include "platform/workloads/jobs.h"
#include "platform/workloads/model.h"

namespace accelvp {

const param_table<train_step_params>& train_step_params::table() {
    using P = train_step_params;
    static const auto t =
        param_table<P>()
            .string("layers", &P::layers,
                    "layer-list YAML file (docs/models.md): its matmul and conv layers are the step's GEMMs; empty: "
                    "a stack of workload.depth GEMM layers")
            .integer("depth", &P::depth, 1, 4096, "built-in stack: layers")
            .integer("hidden", &P::hidden, 1, 1 << 16, "built-in stack: width (each weight is hidden x hidden)")
            .integer("rows", &P::rows, 1, 1 << 24, "built-in stack: activation rows per chip (tokens or samples)")
            .integer("batch", &P::batch, 1, 4096, "layer list: copies of its input batch on each chip")
            .string("dtype", &P::dtype, "element type of the GEMM operands", {"fp32", "bf16", "fp16"})
            .real("bucket_mb", &P::bucket_mb, 0, 1e6,
                  "gradient bucket: an all-reduce starts when this many MB of gradients are ready (PyTorch DDP: "
                  "25); 0: one all-reduce per layer",
                  "MB")
            .string("algorithm", &P::algorithm, "all-reduce algorithm: ring, tree or auto (by size)",
                    {"ring", "tree", "auto"})
            .string("compute_chips", &P::compute_chips,
                    "chips whose GEMMs are simulated: all; first (chip 0 runs them, the others' identical "
                    "data-parallel compute is not simulated, docs/models.md); auto: all in functional mode, first "
                    "in timing mode",
                    {"all", "first", "auto"})
            .real("timeout_ms", &P::timeout_ms, 0.001, 1e9, "host wait limit per job (simulated time)", "ms");
    return t;
}

namespace {
uint64_t prod(const std::vector<uint64_t>& v, size_t from, size_t to) {
    uint64_t r = 1;
    for (size_t i = from; i < to && i < v.size(); ++i) r *= v[i];
    return r;
}
} // namespace

std::vector<train_gemm> train_layers(const train_step_params& p) {
    std::vector<train_gemm> out;
    if (p.layers.empty()) {
        for (uint64_t i = 0; i < p.depth; ++i) out.push_back({fmt::format("fc{}", i), 1, p.rows, p.hidden, p.hidden, 1});
        return out;
    }
    const model::graph g = model::load_layer_list(p.layers);
    for (const model::layer& l : g.layers) {
        if (l.kind == model::op_kind::matmul) {
            const auto& a = g.tensors[l.in[0]].shape;
            const auto& b = g.tensors[l.in[1]].shape;
            train_gemm t;
            t.name = l.name;
            if (g.tensors[l.in[1]].param) {
                t.m = prod(a, 0, a.size() - 1) * p.batch;
                t.k = a.back();
                t.n = l.trans_b ? b[0] : b[1];
                t.weight = 1;
            } else {
                t.batch = prod(a, 0, a.size() - 2) * p.batch;
                t.m = a[a.size() - 2];
                t.k = a.back();
                t.n = l.trans_b ? b[b.size() - 2] : b.back();
                t.weight = -1;
            }
            out.push_back(t);
        } else if (l.kind == model::op_kind::conv) {
            const auto& w = g.tensors[l.in[1]].shape;    // [K, C, R, S]
            const auto& y = g.tensors[l.out].shape;      // [N, K, P, Q]
            out.push_back({l.name, 1, w[0], w[1] * w[2] * w[3], y[0] * y[2] * y[3] * p.batch, 0});
        }
    }
    if (out.empty())
        throw config_error(fmt::format("config error: workload.layers = {}: no matmul or conv layer (the training "
                                       "step runs the model's GEMMs)",
                                       p.layers));
    return out;
}

std::string train_step_workload::description() const {
    return "data-parallel training step on system.chips chips: forward and backward GEMMs on every chip, gradient "
           "all-reduce in buckets overlapped with the backward pass; step time, exposed communication";
}

void train_step_workload::declare(param_schema& s) const {
    system_board::declare(s);
    train_step_params::table().declare(s, "workload");
}

namespace {
coll_algo algo_for(const train_step_params& p, const topology& t, uint64_t bytes) {
    return p.algorithm == "auto" ? choose_algorithm(coll_kind::all_reduce, t, bytes) : parse_coll_algo(p.algorithm);
}

// Gradient buckets: layers in reverse order, a bucket closed once it holds bucket_mb.
struct bucket {
    size_t first_layer = 0, last_layer = 0;  // in backward order: last_layer closes it (the lowest index)
    uint64_t off = 0, bytes = 0;             // in the gradient region
};

std::vector<bucket> make_buckets(const std::vector<train_gemm>& L, double bucket_mb, std::vector<uint64_t>& grad_off,
                                 uint64_t& total) {
    std::vector<bucket> b;
    grad_off.assign(L.size(), 0);
    total = 0;
    const auto limit = static_cast<uint64_t>(bucket_mb * 1e6);
    bucket cur;
    bool open = false;
    for (size_t i = L.size(); i-- > 0;) {
        const uint64_t bytes = L[i].weight_elems() * 4;
        if (!bytes) continue;
        if (!open) cur = bucket{i, i, total, 0}, open = true;
        grad_off[i] = total;
        total += bytes;
        cur.bytes += bytes;
        cur.last_layer = i;
        if (cur.bytes >= limit) b.push_back(cur), open = false;
    }
    if (open) b.push_back(cur);
    return b;
}
} // namespace

void train_step_workload::check(const config& c) const {
    const train_step_params p = train_step_params::table().load(c, "workload");
    num::dtype dt;
    num::parse_dtype(p.dtype, dt);
    const std::vector<train_gemm> L = train_layers(p);
    if (p.compute_chips == "first" && c.get_string("sim.mode") == "functional")
        throw config_error("config error: workload.compute_chips = first needs --mode timing: functional mode checks "
                           "every chip's reduced gradients, so every chip computes them (workload.compute_chips = all "
                           "or auto)");
    const topology t = topology::from_config(c);
    std::vector<uint64_t> off;
    uint64_t total = 0;
    const std::vector<bucket> B = make_buckets(L, p.bucket_mb, off, total);
    if (t.chips < 2) return;
    for (const bucket& b : B) {
        coll_request r;
        r.kind = coll_kind::all_reduce;
        r.bytes = b.bytes;
        r.algo = algo_for(p, t, b.bytes);
        try {
            make_schedule(r, t);
        } catch (const config_error& e) {
            std::string msg = e.what();
            if (msg.rfind("config error: ", 0) == 0) msg = msg.substr(14);
            throw config_error(fmt::format("config error: workload.algorithm = {}: the gradient all-reduce cannot run "
                                           "on system.topology = {} with system.chips = {}: {}",
                                           p.algorithm, t.kind, t.chips, msg));
        }
    }
}

int train_step_workload::run(workload_context& ctx) {
    ctx.error = "the train-step workload runs on a system_board (system.chips chips), not on one chip";
    return 1;
}

namespace {

struct chip_state {
    std::unique_ptr<workload_context> wctx;
    std::unique_ptr<compute_runner> rt;
    // Per layer: A, B, C, dC, AT (A transposed, for the gradient of B), dA, dB.
    struct bufs {
        device_buffer a, b, c, dc, at, da, db;
    };
    std::vector<bufs> l;
    std::vector<gemm_plan> fwd, bwd_a, bwd_b;  // per layer (empty streams: not run)
};

int fail(system_context& ctx, const std::string& why, int rc = 0) {
    ctx.error = rc ? fmt::format("{}: {}", why, std::strerror(-rc)) : why;
    return 1;
}

double now_ns() { return sc_core::sc_time_stamp().to_seconds() * 1e9; }

// Small integers (-2 .. 2) in dtype t: every product and sum of the step's GEMMs and of the
// all-reduce is an exact integer in fp32, so the reduced gradient does not depend on the order.
std::vector<float> int_data(uint64_t count, uint64_t seed) {
    std::vector<float> v(count);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (auto& x : v) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x = static_cast<float>(static_cast<int>(s % 5) - 2);
    }
    return v;
}

std::vector<uint8_t> to_bytes(num::dtype t, const std::vector<float>& f, uint64_t pad) {
    std::vector<uint8_t> out(f.size() * num::dtype_size(t) + pad, 0);
    num::from_f32(t, f.data(), out.data(), f.size());
    return out;
}

constexpr uint64_t kSlack = 256;
constexpr uint16_t kSemBase = 512;  // the collectives' semaphores, above the GEMM plans' (8 per cluster from 0)

} // namespace

int train_step_workload::run_system(system_context& ctx) {
    const train_step_params p = train_step_params::table().load(ctx.cfg, "workload");
    const std::vector<train_gemm> L = train_layers(p);
    num::dtype dt;
    num::parse_dtype(p.dtype, dt);
    const uint64_t e = num::dtype_size(dt);
    const auto n = static_cast<uint32_t>(ctx.devs.size());
    const bool all = p.compute_chips == "all" || (p.compute_chips == "auto" && ctx.functional);
    const uint32_t nc = all ? n : 1;  // chips whose GEMMs run
    const auto timeout_ns = static_cast<uint64_t>(p.timeout_ms * 1e6);

    // The gradient region first, on every chip: the same device address everywhere (the
    // collectives address the peers' buffers with it).
    std::vector<uint64_t> grad_off;
    uint64_t grad_bytes = 0;
    const std::vector<bucket> B = make_buckets(L, p.bucket_mb, grad_off, grad_bytes);
    std::vector<uapi::bo_create_args> grad(n);
    std::vector<std::unique_ptr<uapi::mapping>> grad_map(n);
    for (uint32_t c = 0; c < n; ++c) {
        grad[c].size = std::max<uint64_t>(grad_bytes, 4);
        if (int rc = ctx.devs[c]->bo_create(grad[c]))
            return fail(ctx, fmt::format("chip {}: allocating {} bytes of gradients", c, grad_bytes), rc);
        if (grad[c].device_va != grad[0].device_va)
            return fail(ctx, "the gradient buffers landed at different device addresses on different chips");
        ctx.devs[c]->bo_mmap(grad[c].handle, grad_map[c]);
    }
    const uint64_t gva = grad[0].device_va;

    // Compute: a runner per computing chip, the last ring left to the collectives (also on one
    // chip, so that a scaling table compares like with like).
    std::vector<chip_state> cs(nc);
    uapi::info_args info;
    ctx.devs[0]->get_info(info);
    const uint32_t coll_ring = info.queues - 1;
    for (uint32_t c = 0; c < nc; ++c) {
        cs[c].wctx = std::make_unique<workload_context>(*ctx.devs[c], ctx.cfg, *ctx.chips[c]);
        cs[c].wctx->functional = ctx.functional;
        cs[c].wctx->seed = ctx.seed;
        cs[c].rt = std::make_unique<compute_runner>(*cs[c].wctx);
        if (info.queues > 1) cs[c].rt->reserve_rings(1);
    }
    const uint8_t dtc = static_cast<uint8_t>(dt);
    // Host copies for the functional check: per chip and layer, A (or AT), B and dC.
    struct host_data {
        std::vector<float> a, b, dc;
    };
    std::vector<std::vector<host_data>> hd(ctx.functional ? nc : 0, std::vector<host_data>(L.size()));
    double flops = 0;
    for (uint32_t c = 0; c < nc; ++c) {
        compute_runner& rt = *cs[c].rt;
        cs[c].l.resize(L.size());
        cs[c].fwd.resize(L.size());
        cs[c].bwd_a.resize(L.size());
        cs[c].bwd_b.resize(L.size());
        for (size_t i = 0; i < L.size(); ++i) {
            const train_gemm& g = L[i];
            auto& b = cs[c].l[i];
            const uint64_t nb = g.batch;
            const std::string what = g.name;
            // Which gradients run: the weight's always; the input's except for the first layer.
            const bool grad_a = g.weight == 0 || g.weight < 0 || i > 0;
            const bool grad_b = g.weight == 1 || g.weight < 0 || i > 0;
            if (rt.alloc(b.a, nb * g.m * g.k * e + kSlack, what) || rt.alloc(b.b, nb * g.k * g.n * e + kSlack, what) ||
                rt.alloc(b.c, nb * g.m * g.n * 4 + kSlack, what) || rt.alloc(b.dc, nb * g.m * g.n * e + kSlack, what) ||
                rt.alloc(b.at, nb * g.k * g.m * e + kSlack, what) ||
                (g.weight != 0 && grad_a && rt.alloc(b.da, nb * g.m * g.k * 4 + kSlack, what)) ||
                (g.weight != 1 && grad_b && rt.alloc(b.db, nb * g.k * g.n * 4 + kSlack, what)))
                return fail(ctx, fmt::format("chip {}: {}", c, ctx.error));
            if (ctx.functional) {
                const uint64_t seed = (ctx.seed * 1000003 + c) * 4099 + i * 8;
                host_data& h = hd[c][i];
                h.a = int_data(nb * g.m * g.k, seed);
                h.b = int_data(nb * g.k * g.n, seed + 1);
                h.dc = int_data(nb * g.m * g.n, seed + 2);
                std::vector<float> at(h.a.size());
                for (uint64_t q = 0; q < nb; ++q)
                    for (uint64_t r = 0; r < g.m; ++r)
                        for (uint64_t s = 0; s < g.k; ++s) at[q * g.m * g.k + s * g.m + r] = h.a[q * g.m * g.k + r * g.k + s];
                if (rt.write(b.a, to_bytes(dt, h.a, kSlack), "A") || rt.write(b.b, to_bytes(dt, h.b, kSlack), "B") ||
                    rt.write(b.dc, to_bytes(dt, h.dc, kSlack), "dC") || rt.write(b.at, to_bytes(dt, at, kSlack), "AT"))
                    return fail(ctx, fmt::format("chip {}: {}", c, ctx.error));
            }
            // Forward C = A B; gradient of A: dC B^T (B read transposed); of B: A^T dC.
            gemm_problem f;
            f.m = g.m, f.n = g.n, f.k = g.k, f.dtype = dtc, f.a = b.a.va, f.b = b.b.va, f.c = b.c.va;
            f.batch = nb, f.stride_a = g.m * g.k * e, f.stride_b = g.k * g.n * e, f.stride_c = g.m * g.n * 4;
            if (rt.plan_gemm_only(g.name + ".fwd", f, cs[c].fwd[i])) return fail(ctx, ctx.error);
            if (c == 0) flops += g.fwd_flops();
            if (grad_a) {
                gemm_problem d;
                d.m = g.m, d.n = g.k, d.k = g.n, d.dtype = dtc, d.a = b.dc.va, d.b = b.b.va, d.b_trans = true;
                d.c = g.weight == 0 ? gva + grad_off[i] : b.da.va;
                d.batch = nb, d.stride_a = g.m * g.n * e, d.stride_b = g.k * g.n * e, d.stride_c = g.m * g.k * 4;
                if (rt.plan_gemm_only(g.name + ".grad_a", d, cs[c].bwd_a[i])) return fail(ctx, ctx.error);
                if (c == 0) flops += g.fwd_flops();
            }
            if (grad_b) {
                gemm_problem d;
                d.m = g.k, d.n = g.n, d.k = g.m, d.dtype = dtc, d.a = b.at.va, d.b = b.dc.va;
                d.c = g.weight == 1 ? gva + grad_off[i] : b.db.va;
                d.batch = nb, d.stride_a = g.m * g.k * e, d.stride_b = g.m * g.n * e, d.stride_c = g.k * g.n * 4;
                if (rt.plan_gemm_only(g.name + ".grad_b", d, cs[c].bwd_b[i])) return fail(ctx, ctx.error);
                if (c == 0) flops += g.fwd_flops();
            }
        }
    }

    // The all-reduce of each bucket: command streams built up front (as a communicator's setup).
    struct coll_job {
        coll_request r;
        std::vector<uapi::bo_create_args> cmd;
        std::vector<uint32_t> seq;
    };
    std::vector<coll_job> cj(n > 1 ? B.size() : 0);
    const alpha_beta ab = alpha_beta_of(ctx.cfg);
    double comm_bound_s = 0;
    for (size_t k = 0; k < cj.size(); ++k) {
        coll_request& r = cj[k].r;
        r.kind = coll_kind::all_reduce;
        r.algo = algo_for(p, ctx.topo, B[k].bytes);
        r.buf = gva + B[k].off;
        r.bytes = B[k].bytes;
        // Consecutive buckets alternate between two semaphore sets: a chip that starts the next
        // all-reduce early never signals a semaphore its neighbour still waits on for this one.
        r.sem_base = static_cast<uint16_t>(kSemBase + (k % 2) * 64);
        schedule s;
        try {
            s = make_schedule(r, ctx.topo);
        } catch (const config_error& ex) {
            return fail(ctx, ex.what());
        }
        if (s.sems > 64) return fail(ctx, fmt::format("the all-reduce schedule needs {} semaphores (at most 64)", s.sems));
        comm_bound_s += lower_bound_s(r.kind, r.algo, n, r.bytes, ab);
        cj[k].cmd.resize(n);
        cj[k].seq.assign(n, 0);
        for (uint32_t c = 0; c < n; ++c) {
            cmdbuf_builder cb;
            const std::vector<uint8_t> pk = to_packets(s.per_chip[c]);
            if (pk.empty()) cb.nop();
            else cb.bytes().insert(cb.bytes().end(), pk.begin(), pk.end());
            cj[k].cmd[c].size = cb.size();
            if (int rc = ctx.devs[c]->bo_create(cj[k].cmd[c]))
                return fail(ctx, fmt::format("chip {}: allocating the all-reduce commands", c), rc);
            std::unique_ptr<uapi::mapping> m;
            ctx.devs[c]->bo_mmap(cj[k].cmd[c].handle, m);
            m->write(0, cb.bytes().data(), cb.size());
        }
    }

    // ---- the step ----
    // Per layer on chip 0: device time and the analytic resource times (forward + backward).
    struct layer_rec {
        double ns = 0, flops = 0, hbm = 0, t[4] = {0, 0, 0, 0};
    };
    std::vector<layer_rec> rec(L.size());
    const char* res_names[] = {"compute", "SRAM", "HBM", "DMA"};
    nlohmann::json before, after;
    cs[0].rt->summarize(before, 0);
    auto run_all = [&](std::vector<gemm_plan> chip_state::*which, size_t i, const char* what) -> int {
        if ((cs[0].*which)[i].streams.empty()) return 0;
        const std::string ph = L[i].name + "." + what;
        for (uint32_t c = 0; c < nc; ++c)
            if (cs[c].rt->start(ph, (cs[c].*which)[i])) return fail(ctx, fmt::format("chip {}: {}", c, ctx.error));
        for (uint32_t c = 0; c < nc; ++c)
            if (cs[c].rt->finish()) return fail(ctx, fmt::format("chip {}: {}", c, ctx.error));
        after = nlohmann::json();
        cs[0].rt->summarize(after, 0);
        auto d = [&](const char* k) { return after.value(k, 0.0) - before.value(k, 0.0); };
        rec[i].ns += d("device_ns");
        rec[i].hbm += d("hbm_bytes");
        for (int r = 0; r < 4; ++r) rec[i].t[r] += d(fmt::format("t_{}_ns", res_names[r]).c_str());
        rec[i].flops += L[i].fwd_flops();
        before = after;
        return 0;
    };
    struct bucket_rec {
        double ready_ns = 0, start_ns = 0, end_ns = 0;
    };
    std::vector<bucket_rec> br(cj.size());
    const double t0 = now_ns();
    for (size_t i = 0; i < L.size(); ++i)
        if (run_all(&chip_state::fwd, i, "fwd")) return 1;
    const double t_fwd = now_ns();
    size_t next_bucket = 0;
    for (size_t i = L.size(); i-- > 0;) {
        // The weight's gradient first: its all-reduce can start while the input's gradient runs.
        const bool w_is_a = L[i].weight == 0;
        if (run_all(w_is_a ? &chip_state::bwd_a : &chip_state::bwd_b, i, w_is_a ? "grad_w" : "grad_b")) return 1;
        if (next_bucket < cj.size() && B[next_bucket].last_layer == i) {
            coll_job& j = cj[next_bucket];
            br[next_bucket].ready_ns = now_ns() - t0;
            for (uint32_t c = 0; c < n; ++c) {
                uapi::submit_args sub;
                sub.queue = coll_ring;
                sub.cmdbuf_handle = j.cmd[c].handle;
                sub.cmdbuf_size = static_cast<uint32_t>(j.cmd[c].size);
                sub.flags = AAX_JOB_TIMESTAMP;
                if (int rc = ctx.devs[c]->submit(sub))
                    return fail(ctx, fmt::format("chip {}: submitting the all-reduce of bucket {}", c, next_bucket), rc);
                j.seq[c] = sub.seq;
            }
            ++next_bucket;
        }
        if (run_all(w_is_a ? &chip_state::bwd_b : &chip_state::bwd_a, i, w_is_a ? "grad_x" : "grad_x")) return 1;
    }
    const double t_bwd = now_ns();
    double comm_ns = 0;
    std::string errors;
    for (size_t k = 0; k < cj.size(); ++k) {
        uint64_t first = UINT64_MAX, last = 0;
        for (uint32_t c = 0; c < n; ++c) {
            uapi::wait_args w;
            w.seq = cj[k].seq[c];
            w.timeout_ns = timeout_ns;
            if (const int rc = ctx.devs[c]->wait(w)) {
                errors += fmt::format("{}chip {} bucket {}: {}", errors.empty() ? "" : "; ", c, k, wait_failure(rc, w));
                continue;
            }
            first = std::min(first, w.ts_start_ns);
            last = std::max(last, w.ts_end_ns);
        }
        if (last > first) {
            br[k].start_ns = static_cast<double>(first);
            br[k].end_ns = static_cast<double>(last);
            comm_ns += static_cast<double>(last - first);
        }
    }
    if (!errors.empty()) return fail(ctx, "gradient all-reduce failed: " + errors);
    const double t_end = now_ns();

    // ---- summary ----
    const double step = t_end - t0, compute = t_bwd - t0, exposed = t_end - t_bwd;
    auto& sm = ctx.summary;
    sm["model"] = p.layers.empty() ? fmt::format("gemm-stack-{}x{}", p.depth, p.hidden) : p.layers;
    sm["chips"] = n;
    sm["compute_chips"] = nc;
    sm["gemm_layers"] = L.size();
    uint64_t weights = 0;
    for (const auto& g : L) weights += g.weight_elems();
    sm["weights"] = weights;
    sm["dtype"] = num::dtype_name(dt);
    sm["gradient_bytes"] = grad_bytes;
    sm["buckets"] = n > 1 ? B.size() : 0;
    sm["step_us"] = step / 1e3;
    sm["forward_us"] = (t_fwd - t0) / 1e3;
    sm["backward_us"] = (t_bwd - t_fwd) / 1e3;
    sm["compute_us"] = compute / 1e3;
    sm["comm_us"] = comm_ns / 1e3;
    sm["comm_bound_us"] = comm_bound_s * 1e6;
    sm["exposed_comm_us"] = exposed / 1e3;
    sm["overlap"] = comm_ns > 0 ? 1.0 - std::min(exposed, comm_ns) / comm_ns : 0.0;
    sm["flops_per_chip"] = flops;
    sm["tflops_per_chip"] = step > 0 ? flops / step / 1e3 : 0.0;
    sm["system_tflops"] = step > 0 ? flops * n / step / 1e3 : 0.0;
    sm["steps_per_s"] = step > 0 ? 1e9 / step : 0.0;
    nlohmann::json cr;
    cs[0].rt->summarize(cr, flops);
    sm["peak_tflops"] = cr.value("peak_tflops", 0.0);
    sm["utilization"] = step > 0 && sm["peak_tflops"].get<double>() > 0
                            ? flops / step / 1e3 / sm["peak_tflops"].get<double>()
                            : 0.0;
    sm["device_ns"] = cr.value("device_ns", 0.0);
    sm["hbm_bytes"] = cr.value("hbm_bytes", 0.0);
    nlohmann::json bj = nlohmann::json::array();
    for (size_t k = 0; k < cj.size(); ++k)
        bj.push_back({{"layers", fmt::format("{}..{}", L[B[k].first_layer].name, L[B[k].last_layer].name)},
                      {"bytes", B[k].bytes},
                      {"ready_us", br[k].ready_ns / 1e3},
                      {"start_us", (br[k].start_ns - t0) / 1e3},
                      {"end_us", (br[k].end_ns - t0) / 1e3},
                      {"algorithm", name_of(cj[k].r.algo)}});
    sm["bucket_table"] = bj;
    const double peak = sm["peak_tflops"].get<double>() * 1e12;
    nlohmann::json layers = nlohmann::json::array();
    for (size_t i = 0; i < L.size(); ++i) {
        const auto& g = L[i];
        const char* bound = "none";
        double top = 0;
        for (int r = 0; r < 4; ++r)
            if (rec[i].t[r] > top) top = rec[i].t[r], bound = res_names[r];
        if (rec[i].ns > 2 * top && rec[i].ns > 0) bound = "host";
        layers.push_back({{"name", g.name},
                          {"op", g.weight == 0 ? "conv" : "matmul"},
                          {"shape", g.batch > 1 ? fmt::format("{}x{}x{}x{}", g.batch, g.m, g.k, g.n)
                                                : fmt::format("{}x{}x{}", g.m, g.k, g.n)},
                          {"device_ns", rec[i].ns},
                          {"flops", rec[i].flops},
                          {"utilization", rec[i].ns > 0 && peak > 0 ? rec[i].flops / rec[i].ns * 1e9 / peak : 0.0},
                          {"bound", bound},
                          {"hbm_bytes", rec[i].hbm}});
    }
    sm["layers"] = layers;

    // ---- functional: every chip's reduced weight gradients against the host's sum ----
    if (ctx.functional) {
        std::vector<float> want(grad_bytes / 4, 0.0f);
        for (uint32_t c = 0; c < nc; ++c)
            for (size_t i = 0; i < L.size(); ++i) {
                const train_gemm& g = L[i];
                if (g.weight < 0) continue;
                const host_data& h = hd[c][i];
                float* w = want.data() + grad_off[i] / 4;
                if (g.weight == 1)  // dW[k, n] = sum_m A[m, k] dC[m, n]
                    for (uint64_t r = 0; r < g.m; ++r)
                        for (uint64_t s = 0; s < g.k; ++s)
                            for (uint64_t q = 0; q < g.n; ++q) w[s * g.n + q] += h.a[r * g.k + s] * h.dc[r * g.n + q];
                else  // dW[m, k] = sum_j dC[m, j] B[k, j]
                    for (uint64_t r = 0; r < g.m; ++r)
                        for (uint64_t s = 0; s < g.k; ++s)
                            for (uint64_t q = 0; q < g.n; ++q) w[r * g.k + s] += h.dc[r * g.n + q] * h.b[s * g.n + q];
            }
        std::vector<float> got(want.size());
        uint64_t checked = 0;
        for (uint32_t c = 0; c < n; ++c) {
            if (grad_map[c]->peek(0, got.data(), got.size() * 4)) return fail(ctx, "reading back the gradients", -EIO);
            for (size_t x = 0; x < want.size(); ++x)
                if (got[x] != want[x]) {
                    ctx.verified = false;
                    return fail(ctx, fmt::format("verification failed: chip {}: reduced gradient element {} is {}, the "
                                                 "host's sum over {} chips is {}",
                                                 c, x, got[x], nc, want[x]));
                }
            checked += want.size();
        }
        sm["gradients_verified"] = checked;
        ctx.verified = true;
    }
    (void)hd;
    return 0;
}

} // namespace accelvp
