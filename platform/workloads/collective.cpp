#include "platform/workloads/collective.h"
#include "platform/workloads/jobs.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ostream>

#include <fmt/format.h>
#include <systemc>

#include "platform/host/cmdbuf.h"
#include "tlm/core/timeline.h"
#include "tlm/link/link.h"
#include "tlm/core/keys.h"

namespace accelvp {

const param_table<collective_params>& collective_params::table() {
    using P = collective_params;
    static const auto t =
        param_table<P>()
            .string("op", &P::op, "collective to run",
                    {"all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast"})
            .integer("bytes", &P::bytes, 1, 1ll << 40, "size in nccl-tests' sense (per-chip buffer)", "bytes")
            .string("algorithm", &P::algorithm, "ring, tree (recursive halving-doubling) or auto (by size)",
                    {"ring", "tree", "auto"})
            .integer("chunks", &P::chunks, 0, 4096,
                     "pieces per step, each signalled (0: auto -- 1 for ring steps, which keep every link busy "
                     "anyway; pieces of >= 512 KiB, at most 64, for the broadcast chain)")
            .integer("root", &P::root, 0, 4095, "broadcast: the root chip")
            .real("timeout_ms", &P::timeout_ms, 0.001, 1e9, "host wait limit per job (simulated time)", "ms")
            .string("sweep", &P::sweep,
                    "size sweep MIN:MAX[:FACTOR] (e.g. 8B:1GiB), an nccl-tests-style table of every size "
                    "MIN, MIN x FACTOR, ... <= MAX (FACTOR 2 by default); empty: one run of workload.bytes");
    return t;
}

void declare_collective(param_schema& s) { collective_params::table().declare(s, "workload"); }

std::vector<uint64_t> collective_sizes(const config& c, uint32_t chips) {
    const collective_params p = collective_params::table().load(c, "workload");
    const coll_kind k = parse_coll_kind(p.op);
    // What a schedule can split: whole fp32 elements for a reduction, n blocks for all_to_all.
    const bool reduces = k == coll_kind::all_reduce || k == coll_kind::reduce_scatter;
    const uint64_t unit = k == coll_kind::all_to_all ? std::max<uint32_t>(chips, 1) : reduces ? 4 : 1;
    const std::string& text = p.sweep;
    if (text.empty()) return {p.bytes};
    const char* form = "MIN:MAX or MIN:MAX:FACTOR, e.g. 8B:1GiB or 1KiB:64MiB:4";
    std::vector<std::string> parts;
    for (size_t pos = 0;;) {
        const size_t colon = text.find(':', pos);
        parts.push_back(text.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos));
        if (colon == std::string::npos) break;
        pos = colon + 1;
    }
    if (parts.size() < 2 || parts.size() > 3)
        throw config_error(fmt::format("config error: workload.sweep = '{}' is not of the form {}", text, form));
    param_spec size_spec;
    size_spec.key = "workload.sweep";
    size_spec.type = param_type::integer;
    size_spec.min = 1;
    size_spec.max = static_cast<double>(1ll << 40);
    auto parse = [&](std::string t) {
        // Sizes as nccl-tests and the docs write them: a trailing B ("8B", "64MiB") is fine.
        if (!t.empty() && (t.back() == 'B' || t.back() == 'b') && (t.size() < 2 || !std::isalpha(static_cast<unsigned char>(t[t.size() - 2]))))
            t.pop_back();
        return static_cast<uint64_t>(parse_integer(size_spec, t));
    };
    const uint64_t lo = parse(parts[0]), hi = parse(parts[1]);
    uint64_t factor = 2;
    if (parts.size() == 3) {
        param_spec f = size_spec;
        f.max = 1024;
        factor = static_cast<uint64_t>(parse_integer(f, parts[2]));
        if (factor < 2)
            throw config_error(fmt::format("config error: workload.sweep = '{}': the factor must be >= 2 ({})", text, form));
    }
    if (lo > hi)
        throw config_error(fmt::format("config error: workload.sweep = '{}': MIN is above MAX ({})", text, form));
    std::vector<uint64_t> sizes;
    for (uint64_t v = lo; v <= hi; v *= factor) {
        const uint64_t sz = std::max(unit, v / unit * unit);
        if (sizes.empty() || sizes.back() != sz) sizes.push_back(sz);
        if (v > hi / factor) break;
    }
    return sizes;
}

namespace {
coll_request request_of(const collective_params& p, const topology& t, uint64_t bytes) {
    coll_request r;
    r.kind = parse_coll_kind(p.op);
    r.bytes = bytes;
    r.algo = p.algorithm == "auto" ? choose_algorithm(r.kind, t, r.bytes) : parse_coll_algo(p.algorithm);
    r.chunks = p.chunks;
    if (!r.chunks)  // a broadcast chain only pipelines with pieces; every piece costs a step's latency
        r.chunks = r.kind == coll_kind::broadcast ? static_cast<uint32_t>(std::clamp<uint64_t>(r.bytes >> 19, 1, 64)) : 1;
    r.root = p.root;
    return r;
}

bool schedulable(coll_request r, const topology& t) {
    try {
        check_schedule(r, t);
        return true;
    } catch (const config_error&) {
        return false;
    }
}
} // namespace

void check_collective(const config& c) {
    const collective_params p = collective_params::table().load(c, "workload");
    const topology t = topology::from_config(c);
    if (t.chips < 2)
        throw config_error(fmt::format("config error: workload collective needs system.chips >= 2 (it is {}); "
                                       "e.g. -p system.chips=8",
                                       t.chips));
    if (p.root >= t.chips)
        throw config_error(fmt::format("config error: workload.root = {} but system.chips = {} (valid: 0 .. {})",
                                       p.root, t.chips, t.chips - 1));
    for (const uint64_t bytes : collective_sizes(c, t.chips)) {
        const coll_request r = request_of(p, t, bytes);
        try {
            check_schedule(r, t);
        } catch (const config_error& e) {
            // Name what would work: the algorithms this topology runs, the topologies this algorithm runs.
            std::string algos, topos;
            for (const coll_algo a : {coll_algo::ring, coll_algo::tree}) {
                coll_request q = r;
                q.algo = a;
                if (schedulable(q, t)) algos += fmt::format("{}{}", algos.empty() ? "" : ", ", name_of(a));
            }
            for (const char* kind : {"ring", "fully_connected", "torus2d", "switch"}) {
                try {
                    if (schedulable(r, topology::build(kind, t.chips, 0, 0, "")))
                        topos += fmt::format("{}{}", topos.empty() ? "" : ", ", kind);
                } catch (const config_error&) {
                }
            }
            std::string msg = e.what();
            if (msg.rfind("config error: ", 0) == 0) msg = msg.substr(14);
            throw config_error(fmt::format(
                "config error: workload.op = {} with workload.algorithm = {}{} cannot run on system.topology = {} "
                "with system.chips = {}: {}; valid workload.algorithm here: {}; system.topology values that run {} {}: {}",
                name_of(r.kind), p.algorithm,
                p.algorithm == "auto" ? fmt::format(" (here {})", name_of(r.algo)) : "", t.kind,
                t.chips, msg, algos.empty() ? "none" : algos, name_of(r.algo), name_of(r.kind),
                topos.empty() ? "none" : topos));
        }
    }
}

alpha_beta alpha_beta_of(const config& c) {
    const link_params lp = link_params::from_config(c, "link");
    alpha_beta m;
    m.bytes_per_s = lp.payload_bytes_per_s();
    m.alpha_s = (lp.latency_ns + c.get(keys::coll::setup_ns) +
                 (c.get(keys::system::topology) == "switch" ? lp.switch_hop_ns : 0.0)) *
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

namespace {
// One collective of `bytes` on the idle system, in the steps of every workload (plan, submit,
// verify; validate is check_collective, at config time), then its buffers are freed.
struct collective_state {
    coll_request r;
    bool a2a = false;
    // The same buffers on every chip: identical allocation order gives identical addresses.
    struct chip_bufs {
        uapi::bo_create_args buf, out, cmd;
        std::unique_ptr<uapi::mapping> buf_map, out_map, cmd_map;
    };
    std::vector<chip_bufs> b;
    std::vector<std::vector<uint8_t>> before;  // each chip's input (functional mode)
};

int fail(system_context& ctx, const std::string& why, int rc = 0) {
    ctx.error = rc ? fmt::format("{}: {}", why, std::strerror(-rc)) : why;
    return 1;
}

// Buffers, inputs and each chip's command stream.
int plan_one(system_context& ctx, const collective_params& p, uint64_t bytes, collective_state& st) {
    const auto n = static_cast<uint32_t>(ctx.devs.size());
    coll_request& r = st.r;
    r = request_of(p, ctx.topo, bytes);
    if (r.root >= n) return fail(ctx, fmt::format("workload.root = {} but the system has {} chips", r.root, n));
    const bool a2a = st.a2a = r.kind == coll_kind::all_to_all;
    auto& b = st.b;
    b.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
        b[i].buf.size = r.bytes;
        if (int rc = ctx.devs[i]->bo_create(b[i].buf))
            return fail(ctx, fmt::format("chip {}: allocating the buffer", i), rc);
        if (a2a) {
            b[i].out.size = r.bytes;
            if (int rc = ctx.devs[i]->bo_create(b[i].out))
                return fail(ctx, fmt::format("chip {}: allocating the output", i), rc);
        }
        if (b[i].buf.device_va != b[0].buf.device_va || b[i].out.device_va != b[0].out.device_va)
            return fail(ctx, "the buffers landed at different device addresses on different chips");
        ctx.devs[i]->bo_mmap(b[i].buf.handle, b[i].buf_map);
        if (a2a) ctx.devs[i]->bo_mmap(b[i].out.handle, b[i].out_map);
    }
    r.buf = b[0].buf.device_va;
    r.out = b[0].out.device_va;
    try {
        check_schedule(r, ctx.topo);
    } catch (const config_error& e) {
        return fail(ctx, e.what());
    }

    st.before.resize(ctx.functional ? n : 0);
    std::vector<cmdbuf_builder> cbs(n);
    for (uint32_t i = 0; i < n; ++i) {
        if (ctx.functional) st.before[i] = make_data(r.bytes, ctx.seed * 1000003 + i);
        cmdbuf_builder& cb = cbs[i];
        // One chip's stream at a time: all of a 1024-chip ring all_reduce's are ~330 MB.
        const std::vector<uint8_t> pk = to_packets(make_chip_schedule(r, ctx.topo, i));
        if (pk.empty()) cb.nop();
        else cb.bytes().insert(cb.bytes().end(), pk.begin(), pk.end());
        b[i].cmd.size = cb.size();
        if (int rc2 = ctx.devs[i]->bo_create(b[i].cmd))
            return fail(ctx, fmt::format("chip {}: allocating the commands", i), rc2);
        ctx.devs[i]->bo_mmap(b[i].cmd.handle, b[i].cmd_map);
    }
    // Each chip sits on its own host and PCIe link: the hosts write their chip's input and
    // commands at the same time (one host thread per chip), so the set-up's simulated time
    // does not grow with the number of chips (every chip's firmware ticks through it).
    std::vector<int> rcs(n, 0);
    std::vector<const char*> what(n, "");
    uint32_t left = n;
    sc_core::sc_event all_written;
    for (uint32_t i = 0; i < n; ++i) {
        sc_core::sc_spawn(
            [&, i] {
                rcs[i] = ctx.functional ? b[i].buf_map->write(0, st.before[i].data(), r.bytes)
                                        : b[i].buf_map->write_timing_only(0, r.bytes);
                what[i] = "writing the input";
                if (!rcs[i]) {
                    rcs[i] = b[i].cmd_map->write(0, cbs[i].bytes().data(), cbs[i].size());
                    what[i] = "writing the commands";
                }
                std::vector<uint8_t>().swap(cbs[i].bytes());  // in device memory now
                if (--left == 0) all_written.notify(sc_core::SC_ZERO_TIME);
            },
            sc_core::sc_gen_unique_name("coll_host_write"));
    }
    if (n) sc_core::wait(all_written);
    for (uint32_t i = 0; i < n; ++i)
        if (rcs[i]) return fail(ctx, fmt::format("chip {}: {}", i, what[i]), rcs[i]);
    return 0;
}

// Submit on every chip, then wait for all of them; the figures go to `row`.
int submit_one(system_context& ctx, const collective_params& p, collective_state& st, nlohmann::json& row) {
    const auto n = static_cast<uint32_t>(ctx.devs.size());
    const coll_request& r = st.r;
    const auto timeout_ns = static_cast<uint64_t>(p.timeout_ms * 1e6);
    std::vector<uint32_t> seq(n);
    for (uint32_t i = 0; i < n; ++i) {
        uapi::submit_args sub;
        sub.cmdbuf_handle = st.b[i].cmd.handle;
        sub.cmdbuf_size = static_cast<uint32_t>(st.b[i].cmd.size);
        sub.flags = AAX_JOB_TIMESTAMP;
        if (int rc = ctx.devs[i]->submit(sub))
            return fail(ctx, fmt::format("chip {}: submitting the collective", i), rc);
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
            errors += fmt::format("{}chip {}: {} at packet offset {}", errors.empty() ? "" : "; ", i,
                                  wait_failure(rc, w), w.err_offset);
            continue;
        }
        first = std::min(first, w.ts_start_ns);
        last = std::max(last, w.ts_end_ns);
    }
    if (!errors.empty()) return fail(ctx, "collective failed: " + errors);

    const double secs = static_cast<double>(last - first) * 1e-9;
    const alpha_beta m = alpha_beta_of(ctx.cfg);
    const double bound = lower_bound_s(r.kind, r.algo, n, r.bytes, m);
    row["op"] = name_of(r.kind);
    row["algorithm"] = name_of(r.algo);
    row["chips"] = n;
    row["bytes"] = r.bytes;
    row["time_us"] = secs * 1e6;
    row["algbw_gbps"] = algbw(r.bytes, secs) * 1e-9;
    row["busbw_gbps"] = busbw(r.kind, n, r.bytes, secs) * 1e-9;
    row["bound_us"] = bound * 1e6;
    row["bound_busbw_gbps"] = busbw(r.kind, n, r.bytes, bound) * 1e-9;
    row["bound_ratio"] = secs > 0 ? bound / secs : 0.0;
    return 0;
}

// Functional mode: every chip's result against the host's; a verification goes to ctx.verified.
int verify_one(system_context& ctx, collective_state& st) {
    const auto n = static_cast<uint32_t>(ctx.devs.size());
    const coll_request& r = st.r;
    std::vector<std::vector<uint8_t>> after(n, std::vector<uint8_t>(r.bytes)), out(st.a2a ? n : 0);
    for (uint32_t i = 0; i < n; ++i) {
        if (st.b[i].buf_map->peek(0, after[i].data(), r.bytes)) return fail(ctx, "reading back the buffers", -EIO);
        if (st.a2a) {
            out[i].resize(r.bytes);
            if (st.b[i].out_map->peek(0, out[i].data(), r.bytes)) return fail(ctx, "reading back the outputs", -EIO);
        }
    }
    const uint64_t bad = count_mismatches(r, st.before, after, st.a2a ? out : after);
    ctx.verified = bad == 0 && ctx.verified.value_or(true);
    if (bad) return fail(ctx, fmt::format("verification failed: {} mismatching elements", bad));
    return 0;
}

// Free everything, so that a sweep's sizes do not add up in device memory.
void free_one(system_context& ctx, collective_state& st) {
    for (uint32_t i = 0; i < st.b.size(); ++i) {
        auto& b = st.b[i];
        b.buf_map.reset();
        b.out_map.reset();
        b.cmd_map.reset();
        ctx.devs[i]->bo_free(b.buf.handle);
        if (st.a2a) ctx.devs[i]->bo_free(b.out.handle);
        ctx.devs[i]->bo_free(b.cmd.handle);
    }
}

int run_one(system_context& ctx, const collective_params& p, uint64_t bytes, nlohmann::json& row) {
    collective_state st;
    if (plan_one(ctx, p, bytes, st) || submit_one(ctx, p, st, row) || (ctx.functional && verify_one(ctx, st))) return 1;
    free_one(ctx, st);
    return 0;
}
} // namespace

int run_collective(system_context& ctx) {
    const collective_params p = collective_params::table().load(ctx.cfg, "workload");
    const std::vector<uint64_t> sizes = collective_sizes(ctx.cfg, static_cast<uint32_t>(ctx.devs.size()));
    nlohmann::json rows = nlohmann::json::array();
    if (sizes.size() > 1) {
        // A warm-up round, not reported (as nccl-tests' warm-up iterations): the first
        // collective of a run pays one-time costs (the firmware's first bus-window moves).
        nlohmann::json warm;
        if (run_one(ctx, p, sizes.front(), warm)) return 1;
    }
    for (const uint64_t bytes : sizes) {
        nlohmann::json row;
        if (run_one(ctx, p, bytes, row)) {
            if (sizes.size() > 1) ctx.error = fmt::format("size {}: {}", bytes, ctx.error);
            return 1;
        }
        rows.push_back(row);
    }
    ctx.summary = rows.back();
    if (sizes.size() > 1) ctx.summary["sweep"] = rows;
    return 0;
}

void print_collective_sweep(const nlohmann::json& sweep, std::ostream& out) {
    out << fmt::format("  {:>12} {:>13} {:>11} {:>11} {:>13} {:>8}\n", "size (B)", "time (us)", "algbw GB/s",
                       "busbw GB/s", "bound busbw", "ratio");
    for (const auto& r : sweep)
        out << fmt::format("  {:>12} {:>13.3f} {:>11.3f} {:>11.3f} {:>13.3f} {:>8.3f}\n", r["bytes"].get<uint64_t>(),
                           r["time_us"].get<double>(), r["algbw_gbps"].get<double>(), r["busbw_gbps"].get<double>(),
                           r["bound_busbw_gbps"].get<double>(), r["bound_ratio"].get<double>());
}

std::string collective_workload::description() const {
    return "a collective (workload.op) on system.chips chips over links: nccl-tests algbw/busbw against the "
           "alpha-beta bound; workload.sweep=8B:1GiB for a size table";
}

void collective_workload::declare(param_schema& s) const {
    system_board::declare(s);
    declare_collective(s);
}

int collective_workload::run(workload_context& ctx) {
    ctx.error = "the collective workload runs on a system_board (several chips), not on one chip";
    return 1;
}

} // namespace accelvp
