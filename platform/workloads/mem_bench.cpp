#include "platform/workloads/mem_bench.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "abi/aax_queue.h"
#include "platform/chip/chip.h"
#include "platform/host/cmdbuf.h"
#include "platform/host/uapi.h"
#include "platform/workloads/jobs.h"
#include "tlm/dma/dma_engine.h"
#include "tlm/core/keys.h"

namespace accelvp {

namespace {

// Deterministic generator for the random pattern (same seed, same addresses).
struct rng {
    uint64_t s;
    uint64_t next() {
        s += 0x9E3779B97F4A7C15ull;
        uint64_t x = s;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
        return x ^ (x >> 31);
    }
};

// Sum of read latency and count over the DRAM channels (zero for the simple model).
std::pair<double, uint64_t> read_latency(const chip& soc) {
    const dram_memory* dram = soc.devmem->dram();
    if (!dram) return {0.0, 0};
    const dram_system& sys = dram->system();
    double sum = 0;
    uint64_t n = 0;
    for (uint32_t i = 0; i < sys.channels(); ++i) {
        sum += sys.channel(i).read_latency_sum_ns();
        n += sys.channel(i).reads_done();
    }
    return {sum, n};
}

constexpr uint32_t random_rows = 64;  // rows per random-gather packet

} // namespace

std::string mem_bench::name() const {
    return k_ == kind::stream ? "mem-stream" : k_ == kind::random ? "mem-random" : "mem-strided";
}

std::string mem_bench::description() const {
    switch (k_) {
    case kind::stream: return "sequential device-memory bandwidth through all DMA engines (read, write or copy)";
    case kind::random: return "random device-memory accesses through all DMA engines (read or 50/50 read-write)";
    default: break;
    }
    return "strided device-memory accesses through all DMA engines (workload.stride)";
}

const param_table<mem_bench_params>& mem_bench::table() const {
    using P = mem_bench_params;
    auto common_head = [](param_table<P> t) {
        return t.integer("bytes", &P::bytes, 4096, 1ll << 36, "device-memory bytes to move (each direction)", "bytes");
    };
    auto timeout = [](param_table<P>& t) {
        t.real("timeout_ms", &P::timeout_ms, 0.001, 1e9, "host wait limit per job (simulated time)", "ms");
    };
    static const auto stream = [&] {
        auto t = common_head({}).string("op", &P::op, "read (memory -> SRAM), write (SRAM -> memory) or copy",
                                        {"read", "write", "copy"});
        timeout(t);
        return t;
    }();
    static const auto random = [&] {
        auto t = common_head({})
                     .string("mix", &P::mix, "read only, or mixed: 50/50 reads and writes", {"read", "mixed"})
                     .integer("span", &P::span, 1 << 20, 1ll << 40, "random addresses fall in this many bytes", "bytes")
                     .integer("access", &P::access, 32, 1 << 20, "bytes per access (one DMA row)", "bytes");
        timeout(t);
        return t;
    }();
    static const auto strided = [&] {
        auto t = common_head({})
                     .string("op", &P::op, "read (memory -> SRAM) or write (SRAM -> memory)", {"read", "write"})
                     .integer("access", &P::access, 32, 1 << 20, "bytes per access (one DMA row)", "bytes")
                     .integer("stride", &P::stride, 32, 1ll << 30, "bytes between the starts of consecutive accesses",
                              "bytes");
        timeout(t);
        return t;
    }();
    return k_ == kind::stream ? stream : k_ == kind::random ? random : strided;
}

void mem_bench::validate(const params& p, const config&) const {
    if (k_ == kind::stream) return;
    const uint64_t bytes = p.bytes, access = p.access;
    if (access > bytes)
        throw config_error(fmt::format("config error: workload.access = {} is larger than workload.bytes = {}: the "
                                       "workload would move no access at all (workload.access must be <= "
                                       "workload.bytes)",
                                       access, bytes));
    if (k_ == kind::random && access > p.span)
        throw config_error(fmt::format("config error: workload.access = {} is larger than workload.span = {} "
                                       "(workload.access must be <= workload.span)",
                                       access, p.span));
}

namespace {
int fail(workload_context& ctx, const std::string& what, int rc) {
    ctx.error = fmt::format("{}: {}", what, std::strerror(-rc));
    return 1;
}
} // namespace

int mem_bench::plan(workload_context& ctx, const params& p, state& st) {
    auto& dev = ctx.dev;
    uapi::info_args info;
    if (int rc = dev.get_info(info)) return fail(ctx, "querying the device", rc);
    const uint32_t engines = static_cast<uint32_t>(ctx.soc.dma.size());
    const uint32_t E = st.engines = std::max(1u, std::min(engines, info.queues));
    const uint64_t bytes = p.bytes;
    const uint64_t access = k_ == kind::stream ? 0 : p.access;
    const uint64_t stride = k_ == kind::strided ? p.stride : 0;
    const std::string op = st.op = k_ == kind::random ? (p.mix == "mixed" ? "mixed" : "read") : p.op;
    const uint64_t accesses = st.accesses = access ? bytes / access : 0;

    // Device-memory buffer(s): what the pattern touches.
    uint64_t span = bytes;
    if (k_ == kind::strided) span = (accesses ? accesses - 1 : 0) * stride + access;
    if (k_ == kind::random) span = p.span;
    uapi::bo_create_args buf{span * (op == "copy" ? 2 : 1), uapi::BO_DEVICE};
    if (int rc = dev.bo_create(buf)) return fail(ctx, fmt::format("allocating {} bytes of device memory", buf.size), rc);
    const uint64_t mem = buf.device_va;
    // SRAM: one window per engine, reused (overwritten) packet after packet.
    const uint64_t sram = ctx.soc.shared_sram_base(), win = (ctx.soc.sram0.get_params().size / E) & ~uint64_t{4095};

    // Packets per queue. With several engines, a barrier first (each queue adds 1 to the
    // last semaphore, then waits for all E): the engines start together instead of one
    // doorbell apart, so their streams stay in the same DRAM rows instead of thrashing them.
    // Streams repeat the barrier before every SRAM window (round k waits for E * (k + 1)), so
    // an engine that finished its window early does not run ahead into other DRAM rows.
    std::vector<cmdbuf_builder>& cb = st.cb;
    cb.resize(E);
    const bool barrier = E > 1 && info.semaphores > 0;
    const uint16_t sem = static_cast<uint16_t>(info.semaphores ? info.semaphores - 1 : 0);
    auto sync_round = [&](uint32_t e, uint64_t round) {
        if (barrier) cb[e].sem_signal(sem, 1).sem_wait(sem, static_cast<uint32_t>(E * (round + 1)));
    };
    if (k_ != kind::stream)
        for (uint32_t e = 0; e < E; ++e) sync_round(e, 0);
    rng r{ctx.seed};
    if (k_ == kind::stream) {
        // Engines interleave at chunk granularity (engine e takes chunks e, e + E, ...: one
        // 2-D packet per SRAM window), so at any time they all stream through neighbouring
        // addresses -- the same DRAM rows -- as one sequential stream would.
        const uint64_t chunk = ctx.soc.dma[0]->get_params().burst_bytes;
        const uint64_t chunks = (bytes + chunk - 1) / chunk;
        const uint64_t per_win = std::max<uint64_t>(1, win / chunk);
        // Every queue joins every round's barrier, also one whose chunks ran out a round early.
        const uint64_t rounds = ((chunks + E - 1) / E + per_win - 1) / per_win;
        for (uint32_t e = 0; e < E; ++e) {
            const uint64_t mine = chunks > e ? (chunks - e + E - 1) / E : 0;  // chunks e, e + E, ...
            for (uint64_t k = 0; k < rounds * per_win; k += per_win) {
                sync_round(e, k / per_win);
                if (k >= mine) continue;
                const uint32_t rows = static_cast<uint32_t>(std::min(per_win, mine - k));
                const uint64_t off = (k * E + e) * chunk;
                if (op == "read")
                    cb[e].copy_2d(mem + off, sram + e * win, chunk, rows, E * chunk, chunk);
                else if (op == "write")
                    cb[e].copy_2d(sram + e * win, mem + off, chunk, rows, chunk, E * chunk);
                else
                    cb[e].copy_2d(mem + off, mem + span + off, chunk, rows, E * chunk, E * chunk);
            }
        }
    } else {
        const uint64_t rows_per_win = std::max<uint64_t>(1, win / access);
        uint64_t done = 0;
        for (uint64_t p = 0; done < accesses; ++p) {
            const uint32_t e = static_cast<uint32_t>(p % E);
            const uint64_t s_win = sram + e * win;
            if (k_ == kind::strided) {
                // One 2-D packet per SRAM window of rows.
                const uint64_t rows = std::min<uint64_t>({rows_per_win, accesses - done, 0xFFFFFFFFull});
                const uint64_t a = mem + done * stride;
                if (op == "read")
                    cb[e].copy_2d(a, s_win, access, static_cast<uint32_t>(rows), stride, access);
                else
                    cb[e].copy_2d(s_win, a, access, static_cast<uint32_t>(rows), access, stride);
                done += rows;
                continue;
            }
            // Random: the DMA has no gather list, so each packet gathers random_rows rows from a
            // random base with a random stride (an odd number of 4 KiB pages plus one access):
            // every row opens a new DRAM row, as with independent random addresses, while the
            // engine keeps a packet's rows in flight.
            const uint64_t rows = std::min<uint64_t>({random_rows, rows_per_win, accesses - done});
            const uint64_t rs = 4096 * (1 + 2 * (r.next() % 64)) + access;
            const uint64_t reach = (rows - 1) * rs + access;
            const uint64_t a = mem + (reach < span ? (r.next() % (span - reach)) / access * access : 0);
            const bool write = op == "mixed" && (p / E) % 2 == 1;
            if (!write)
                cb[e].copy_2d(a, s_win, access, static_cast<uint32_t>(rows), rs, access);
            else
                cb[e].copy_2d(s_win, a, access, static_cast<uint32_t>(rows), access, rs);
            done += rows;
        }
    }

    return 0;
}

int mem_bench::submit(workload_context& ctx, const params& p, state& st) {
    auto& dev = ctx.dev;
    const config& c = ctx.cfg;
    const uint32_t E = st.engines;
    const uint64_t bytes = p.bytes, access = k_ == kind::stream ? 0 : p.access, accesses = st.accesses;
    const std::string& op = st.op;
    std::vector<cmdbuf_builder>& cb = st.cb;

    // Submit every queue's work (command buffers of at most AAX_MAX_CMDBUF_SIZE), then wait.
    const auto lat0 = read_latency(ctx.soc);
    std::vector<uapi::submit_args> subs;
    for (uint32_t e = 0; e < E; ++e) {
        if (cb[e].size() == 0) continue;
        if (cb[e].size() > AAX_MAX_CMDBUF_SIZE) {
            ctx.error = "too many packets for one command buffer: lower workload.bytes";
            return 1;
        }
        uapi::bo_create_args cmd{cb[e].size(), uapi::BO_DEVICE};
        if (int rc = dev.bo_create(cmd)) return fail(ctx, "allocating a command buffer", rc);
        std::unique_ptr<uapi::mapping> m;
        dev.bo_mmap(cmd.handle, m);
        m->write(0, cb[e].bytes().data(), cb[e].size());
        uapi::submit_args sub;
        sub.queue = e;
        sub.cmdbuf_handle = cmd.handle;
        sub.cmdbuf_size = cb[e].size();
        subs.push_back(sub);
    }
    for (auto& sub : subs)
        if (int rc = dev.submit(sub)) return fail(ctx, "submitting a job", rc);
    std::vector<uint32_t> seqs;
    for (const auto& sub : subs) seqs.push_back(sub.seq);
    const job_wait jw = wait_jobs(dev, seqs, static_cast<uint64_t>(p.timeout_ms * 1e6));
    if (jw.rc) {
        ctx.error = fmt::format("job on queue {} failed: {} ({})", subs[jw.failed].queue,
                                aax_status_name(jw.failed_wait.status), std::strerror(-jw.rc));
        return 1;
    }
    const uint64_t t0 = jw.start_ns, t1 = jw.end_ns;
    const auto lat1 = read_latency(ctx.soc);

    const uint64_t moved = k_ == kind::stream ? bytes * (op == "copy" ? 2 : 1) : accesses * access;
    const double ns = t1 > t0 ? static_cast<double>(t1 - t0) : 0.0;
    // The memory system's figure is timed over the engines' work: from the first DMA packet
    // (all queues start together after the barrier) to the end of the last. The job span
    // adds the host's submissions one after the other and the scheduler's completions.
    // Only this workload uses the engines in a run; should anything have before its jobs
    // started, the job span is used.
    uint64_t b0 = ~uint64_t{0}, b1 = 0;
    for (const auto& d : ctx.soc.dma) {
        b0 = std::min(b0, d->span_begin_ps());
        b1 = std::max(b1, d->span_end_ps());
    }
    const double dma_ns = b1 > b0 && b0 >= t0 * 1000 ? static_cast<double>(b1 - b0) / 1000.0 : ns;
    const double bw = dma_ns > 0 ? static_cast<double>(moved) / dma_ns : 0.0;
    const double job_bw = ns > 0 ? static_cast<double>(moved) / ns : 0.0;
    const double peak = ctx.soc.devmem_peak() / 1e9;
    const double path = std::min(peak, ctx.soc.dma[0]->peak_bytes_per_s() * E / 1e9);
    ctx.summary["op"] = op;
    ctx.summary["bytes"] = moved;
    ctx.summary["engines"] = E;
    ctx.summary["device_ns"] = ns;
    ctx.summary["bandwidth_gbps"] = bw;
    ctx.summary["peak_gbps"] = peak;
    ctx.summary["efficiency"] = peak > 0 ? bw / peak : 0.0;
    ctx.summary["dma_ns"] = dma_ns;
    ctx.summary["job_bandwidth_gbps"] = job_bw;
    ctx.summary["job_efficiency"] = peak > 0 ? job_bw / peak : 0.0;
    ctx.summary["path_peak_gbps"] = path;
    const uint64_t nr = lat1.second - lat0.second;
    ctx.summary["avg_read_latency_ns"] =
        ctx.soc.devmem->dram() ? (nr ? (lat1.first - lat0.first) / static_cast<double>(nr) : 0.0)
                             : c.get(keys::mem::latency_ns);
    ctx.summary["cycles"] = static_cast<uint64_t>(ns * ctx.soc.freq_hz() / 1e9 + 0.5);
    return 0;
}

int mem_bench::verify(workload_context&, const params&, state&) { return 0; }

} // namespace accelvp
