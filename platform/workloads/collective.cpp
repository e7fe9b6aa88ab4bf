#include "platform/workloads/collective.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "platform/host/cmdbuf.h"
#include "tlm/core/timeline.h"
#include "tlm/link/link.h"

namespace accelvp {

void declare_collective(param_schema& s) {
    s.string("workload.op", "all_reduce", "collective to run",
             {"all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast"});
    s.integer("workload.bytes", 64ll << 20, 1, 1ll << 40, "size in nccl-tests' sense (per-chip buffer)", "bytes");
    s.string("workload.algorithm", "auto", "ring, tree (recursive halving-doubling) or auto (by size)",
             {"ring", "tree", "auto"});
    s.integer("workload.chunks", 0, 0, 4096,
              "pieces per step, each signalled (0: auto -- 1 for ring steps, which keep every link busy "
              "anyway; pieces of >= 512 KiB, at most 64, for the broadcast chain)");
    s.integer("workload.root", 0, 0, 4095, "broadcast: the root chip");
    s.real("workload.timeout_ms", 60000, 0.001, 1e9, "host wait limit per job (simulated time)", "ms");
}

alpha_beta alpha_beta_of(const config& c) {
    const link_params lp = link_params::from_config(c, "link");
    alpha_beta m;
    m.bytes_per_s = lp.payload_bytes_per_s();
    m.alpha_s = (lp.latency_ns + c.get_real("coll.setup_ns") +
                 (c.get_string("system.topology") == "switch" ? lp.switch_hop_ns : 0.0)) *
                1e-9;
    return m;
}

coll_algo choose_algorithm(coll_kind k, const topology& t, uint64_t bytes) {
    const uint32_t n = t.chips;
    if (k == coll_kind::broadcast || k == coll_kind::all_to_all || n < 2 || (n & (n - 1))) return coll_algo::ring;
    for (uint32_t i = 0; i < n; ++i)
        for (uint32_t d = 1; d < n; d <<= 1)
            if (t.port_to(i, i ^ d) < 0) return coll_algo::ring;
    // Below ~64 KiB per chip the 2(n-1) steps of the ring cost more than its bandwidth saves.
    return bytes <= (64u << 10) ? coll_algo::tree : coll_algo::ring;
}

namespace {
uint64_t splitmix64(uint64_t& s) {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
// Integer-valued floats in [-1000, 1000]: sums are exact in any order (n <= 4096).
std::vector<uint8_t> make_data(uint64_t bytes, uint64_t seed) {
    std::vector<uint8_t> v(bytes);
    uint64_t s = seed;
    for (uint64_t o = 0; o + 4 <= bytes; o += 4) {
        const float f = static_cast<float>(static_cast<int>(splitmix64(s) % 2001) - 1000);
        std::memcpy(&v[o], &f, 4);
    }
    for (uint64_t o = bytes & ~3ull; o < bytes; ++o) v[o] = static_cast<uint8_t>(splitmix64(s));
    return v;
}
} // namespace

int run_collective(system_context& ctx) {
    const config& c = ctx.cfg;
    const auto n = static_cast<uint32_t>(ctx.devs.size());
    auto fail = [&](const std::string& why, int rc = 0) {
        ctx.error = rc ? fmt::format("{}: {}", why, std::strerror(-rc)) : why;
        return 1;
    };
    coll_request r;
    r.kind = parse_coll_kind(c.get_string("workload.op"));
    r.bytes = c.get_uint("workload.bytes");
    const std::string algo = c.get_string("workload.algorithm");
    r.algo = algo == "auto" ? choose_algorithm(r.kind, ctx.topo, r.bytes) : parse_coll_algo(algo);
    r.chunks = static_cast<uint32_t>(c.get_uint("workload.chunks"));
    if (!r.chunks)  // a broadcast chain only pipelines with pieces; every piece costs a step's latency
        r.chunks = r.kind == coll_kind::broadcast ? static_cast<uint32_t>(std::clamp<uint64_t>(r.bytes >> 19, 1, 64)) : 1;
    r.root = static_cast<uint32_t>(c.get_uint("workload.root"));
    if (r.root >= n) return fail(fmt::format("workload.root = {} but the system has {} chips", r.root, n));
    const bool a2a = r.kind == coll_kind::all_to_all;

    // The same buffers on every chip: identical allocation order gives identical addresses.
    struct chip_bufs {
        uapi::bo_create_args buf, out, cmd;
        std::unique_ptr<uapi::mapping> buf_map, out_map, cmd_map;
    };
    std::vector<chip_bufs> b(n);
    for (uint32_t i = 0; i < n; ++i) {
        b[i].buf.size = r.bytes;
        if (int rc = ctx.devs[i]->bo_create(b[i].buf)) return fail(fmt::format("chip {}: allocating the buffer", i), rc);
        if (a2a) {
            b[i].out.size = r.bytes;
            if (int rc = ctx.devs[i]->bo_create(b[i].out)) return fail(fmt::format("chip {}: allocating the output", i), rc);
        }
        if (b[i].buf.device_va != b[0].buf.device_va || b[i].out.device_va != b[0].out.device_va)
            return fail("the buffers landed at different device addresses on different chips");
        ctx.devs[i]->bo_mmap(b[i].buf.handle, b[i].buf_map);
        if (a2a) ctx.devs[i]->bo_mmap(b[i].out.handle, b[i].out_map);
    }
    r.buf = b[0].buf.device_va;
    r.out = b[0].out.device_va;
    schedule s;
    try {
        s = make_schedule(r, ctx.topo);
    } catch (const config_error& e) {
        return fail(e.what());
    }

    std::vector<std::vector<uint8_t>> before(ctx.functional ? n : 0);
    for (uint32_t i = 0; i < n; ++i) {
        int rc = 0;
        if (ctx.functional) {
            before[i] = make_data(r.bytes, ctx.seed * 1000003 + i);
            rc = b[i].buf_map->write(0, before[i].data(), r.bytes);
        } else {
            rc = b[i].buf_map->write_timing_only(0, r.bytes);
        }
        if (rc) return fail(fmt::format("chip {}: writing the input", i), rc);
        cmdbuf_builder cb;
        const std::vector<uint8_t> pk = to_packets(s.per_chip[i]);
        if (pk.empty()) cb.nop();
        else cb.bytes().insert(cb.bytes().end(), pk.begin(), pk.end());
        b[i].cmd.size = cb.size();
        if (int rc2 = ctx.devs[i]->bo_create(b[i].cmd)) return fail(fmt::format("chip {}: allocating the commands", i), rc2);
        ctx.devs[i]->bo_mmap(b[i].cmd.handle, b[i].cmd_map);
        b[i].cmd_map->write(0, cb.bytes().data(), cb.size());
    }

    // Submit on every chip, then wait for all of them.
    const auto timeout_ns = static_cast<uint64_t>(c.get_real("workload.timeout_ms") * 1e6);
    std::vector<uint32_t> seq(n);
    for (uint32_t i = 0; i < n; ++i) {
        uapi::submit_args sub;
        sub.cmdbuf_handle = b[i].cmd.handle;
        sub.cmdbuf_size = static_cast<uint32_t>(b[i].cmd.size);
        sub.flags = AAX_JOB_TIMESTAMP;
        if (int rc = ctx.devs[i]->submit(sub)) return fail(fmt::format("chip {}: submitting the collective", i), rc);
        seq[i] = sub.seq;
    }
    uint64_t first = UINT64_MAX, last = 0;
    std::string errors;
    for (uint32_t i = 0; i < n; ++i) {
        uapi::wait_args w;
        w.seq = seq[i];
        w.timeout_ns = timeout_ns;
        const int rc = ctx.devs[i]->wait(w);
        if (rc) {
            const std::string why = rc == -ETIMEDOUT && w.status == AAX_OK ? "the host wait timed out"
                                                                          : aax_status_name(w.status);
            errors += fmt::format("{}chip {}: {} at packet offset {}", errors.empty() ? "" : "; ", i, why, w.err_offset);
            continue;
        }
        first = std::min(first, w.ts_start_ns);
        last = std::max(last, w.ts_end_ns);
    }
    if (!errors.empty()) return fail("collective failed: " + errors);

    const double secs = static_cast<double>(last - first) * 1e-9;
    const alpha_beta m = alpha_beta_of(c);
    const double bound = lower_bound_s(r.kind, r.algo, n, r.bytes, m);
    ctx.summary["op"] = name_of(r.kind);
    ctx.summary["algorithm"] = name_of(r.algo);
    ctx.summary["chips"] = n;
    ctx.summary["bytes"] = r.bytes;
    ctx.summary["time_us"] = secs * 1e6;
    ctx.summary["algbw_gbps"] = algbw(r.bytes, secs) * 1e-9;
    ctx.summary["busbw_gbps"] = busbw(r.kind, n, r.bytes, secs) * 1e-9;
    ctx.summary["bound_us"] = bound * 1e6;
    ctx.summary["bound_busbw_gbps"] = busbw(r.kind, n, r.bytes, bound) * 1e-9;
    ctx.summary["busbw_vs_bound"] = secs > 0 ? bound / secs : 0.0;

    if (ctx.functional) {
        std::vector<std::vector<uint8_t>> after(n, std::vector<uint8_t>(r.bytes)), out(a2a ? n : 0);
        for (uint32_t i = 0; i < n; ++i) {
            if (b[i].buf_map->peek(0, after[i].data(), r.bytes)) return fail("reading back the buffers", -EIO);
            if (a2a) {
                out[i].resize(r.bytes);
                if (b[i].out_map->peek(0, out[i].data(), r.bytes)) return fail("reading back the outputs", -EIO);
            }
        }
        const uint64_t bad = count_mismatches(r, before, after, a2a ? out : after);
        ctx.verified = bad == 0;
        if (bad) return fail(fmt::format("verification failed: {} mismatching elements", bad));
    }
    return 0;
}

} // namespace accelvp
