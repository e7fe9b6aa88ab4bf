#include "platform/memsim/memsim.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <ostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "platform/memsim/trace_reader.h"
#include "platform/sim/simulation.h"
#include "tlm/core/config.h"
#include "tlm/core/stats.h"
#include "tlm/mem/dram_memory.h"
#include "tlm/core/keys.h"

namespace accelvp {

namespace {
// Trace cycles above this are refused: times stay far from 64-bit overflow whatever the
// clock (2^48 cycles of 10 ns is 2.8e15 ns, still exact in a double's 53 bits).
constexpr uint64_t max_trace_cycle = uint64_t{1} << 48;
} // namespace

namespace {
// Threads that run one job (a function of the thread's index) all at once, round after
// round: post() starts a round, wait() waits until every thread has finished it.
class worker_pool {
public:
    worker_pool(unsigned n, std::function<void(unsigned)> job) : job_(std::move(job)) {
        for (unsigned i = 0; i < n; ++i) th_.emplace_back([this, i] { run(i); });
    }
    ~worker_pool() {
        {
            std::lock_guard<std::mutex> l(m_);
            stop_ = true;
            ++round_;
        }
        start_.notify_all();
        for (std::thread& t : th_) t.join();
    }
    worker_pool(const worker_pool&) = delete;
    worker_pool& operator=(const worker_pool&) = delete;
    void post() {
        {
            std::lock_guard<std::mutex> l(m_);
            busy_ = static_cast<unsigned>(th_.size());
            ++round_;
        }
        start_.notify_all();
    }
    void wait() {
        std::unique_lock<std::mutex> l(m_);
        done_.wait(l, [this] { return busy_ == 0; });
    }

private:
    void run(unsigned i) {
        uint64_t seen = 0;
        for (;;) {
            {
                std::unique_lock<std::mutex> l(m_);
                start_.wait(l, [&] { return round_ != seen; });
                seen = round_;
                if (stop_) return;
            }
            job_(i);
            std::lock_guard<std::mutex> l(m_);
            if (--busy_ == 0) done_.notify_one();
        }
    }
    std::function<void(unsigned)> job_;
    std::mutex m_;
    std::condition_variable start_, done_;
    uint64_t round_ = 0;
    unsigned busy_ = 0;
    bool stop_ = false;
    std::vector<std::thread> th_;  // last: started once the rest is ready
};
} // namespace

unsigned memsim_threads(unsigned requested, uint32_t channels) {
    unsigned n = requested;
    if (n == 0) n = std::min(std::max(std::thread::hardware_concurrency(), 1u), 8u);
    return std::max(1u, std::min<unsigned>(n, channels));
}

CLI::App* add_memsim_command(CLI::App& app, memsim_options& o) {
    auto* cmd = app.add_subcommand("memsim", "drive the DRAM model alone from a trace of '<hex address> <READ|WRITE> "
                                             "<cycle>' lines and report bandwidth, latency and speed");
    cmd->add_option("-c,--config", o.config, "preset name (edge, inference, training) or YAML file")
        ->capture_default_str();
    cmd->add_option("--trace", o.trace_file, "the request trace")->required();
    cmd->add_option("--stats", o.stats_file, "write the stats JSON here");
    cmd->add_option("-p,--param", o.overrides, "override a parameter (mem.*): -p key=value (repeatable)")
        ->type_name("KEY=VALUE");
    cmd->add_option("--issue-width", o.issue_width,
                    "in-order front end: at most N requests enter per cycle, a full channel queue stalls the whole "
                    "trace (default 0: each channel admits its own requests)")
        ->check(CLI::Range(0u, 1u << 20));
    cmd->add_option("--request-bytes", o.request_bytes,
                    "bytes of one trace request (a power of two): larger than the device burst, it is split into "
                    "bursts; smaller, consecutive requests to the same burst merge (default: one burst)")
        ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 30));
    cmd->add_option("--threads", o.threads,
                    "threads simulating the channels with per-channel front ends: the main thread and N-1 workers "
                    "(0: one per host CPU, at most 8; the results do not depend on it)")
        ->check(CLI::Range(0u, 256u));
    cmd->add_flag("-q,--quiet", o.quiet, "print nothing on success");
    cmd->add_flag("--json", o.json, "print the stats JSON on stdout instead of the table");
    return cmd;
}

int run_memsim(const memsim_options& o, std::ostream& out, nlohmann::json* stats_out) {
    const auto wall0 = std::chrono::steady_clock::now();
    const param_schema schema = build_schema("");
    run_options ro;
    ro.config = o.config;
    ro.overrides = o.overrides;
    const config cfg = load_config(schema, ro);
    const dram_params p = dram_params::from_config(cfg, "mem");
    if (!o.stats_file.empty()) {
        std::FILE* f = std::fopen(o.stats_file.c_str(), "a");
        if (!f) throw config_error("usage error: cannot write output file '" + o.stats_file + "'");
        std::fclose(f);
    }
    trace_reader in(o.trace_file);

    auto sys = std::make_unique<dram_system>("memsim.mem", p);
    const uint64_t size = p.org.size;
    uint64_t n = 0, reads = 0, writes = 0, first_cycle = 0, admit = 0, last_done = 0;
    // Per channel: the admission time of its last request (per-channel front ends).
    std::vector<uint64_t> ch_admit(sys->channels(), 0);
    uint32_t issued_this_cycle = 0;  // --issue-width: requests entered at cycle `admit`
    uint64_t addr, cycle;
    bool write;
    dram_completion c;
    const uint64_t burst = p.burst_bytes();
    const uint64_t req_bytes = o.request_bytes ? o.request_bytes : burst;
    if (req_bytes & (req_bytes - 1))
        throw config_error(fmt::format("usage error: --request-bytes = {} is not a power of two", req_bytes));
    uint64_t bursts = 0, last_burst = ~uint64_t{0};
    bool last_write = false;
    const bool merge = req_bytes < burst;
    // Per-channel front ends (the default): the channels are independent -- a channel's
    // requests enter it in trace order, each no earlier than its cycle, the channel's previous
    // request and the channel's last decision -- so the trace is read in blocks and each
    // block's requests are fed channel by channel, the channels split over worker threads
    // while this thread reads the next block. Every channel sees exactly the enqueues and
    // decisions it sees when fed request by request in trace order, whatever the number of
    // threads, so the results are identical (docs/memory.md#speed).
    const uint32_t nch = sys->channels();
    const unsigned workers = o.issue_width ? 0 : memsim_threads(o.threads, nch);
    constexpr size_t block_bursts = size_t{1} << 15;  // 1 MiB of requests: stays in the L2
    std::vector<std::vector<dram_request>> block[2];  // per channel: one block fed, one read
    int cur = 0;                                      // the block being read
    size_t buffered = 0;
    if (!o.issue_width)
        for (auto& b : block) b.resize(nch);
    std::vector<uint64_t> worker_done(std::max(workers, 1u), 0);  // per worker: its last data beat
    std::vector<std::exception_ptr> worker_error(std::max(workers, 1u));
    // The next channel of the block a worker takes: channels are handed out one at a time, so
    // a worker whose channels had little work in this block takes more (a fixed split left
    // each worker idle a quarter of the time on random traces). Which worker feeds a channel
    // does not matter: a block is fed whole before the next (pool.wait()).
    std::atomic<uint32_t> next_channel{0};
    auto feed = [&](std::vector<std::vector<dram_request>>& blk, unsigned w, unsigned nw) {
        try {
            dram_completion cw;
            uint64_t done = worker_done[w];
            for (uint32_t ci = nw == 1 ? 0 : next_channel.fetch_add(1, std::memory_order_relaxed); ci < nch;
                 ci = nw == 1 ? ci + 1 : next_channel.fetch_add(1, std::memory_order_relaxed)) {
                std::vector<dram_request>& v = blk[ci];
                if (v.empty()) continue;
                dram_channel& ch = sys->channel(ci);
                uint64_t prev = ch_admit[ci];
                for (dram_request r : v) {
                    while (!ch.can_accept(r.write))
                        if (ch.step(cw)) done = std::max(done, cw.done);
                    r.arrival = std::max({r.arrival, prev, ch.now()});  // arrival: the trace cycle until here
                    prev = r.arrival;
                    ch.enqueue(r);
                }
                ch_admit[ci] = prev;
                v.clear();
            }
            worker_done[w] = done;
        } catch (...) {
            worker_error[w] = std::current_exception();
        }
    };
    std::vector<std::vector<dram_request>>* posted = nullptr;  // the block the workers feed
    auto rethrow = [&] {
        for (std::exception_ptr& e : worker_error)
            if (e) std::rethrow_exception(e);
    };
    // Declared after everything the workers use: destroyed (joined) first, however this
    // function is left (a trace error while they run).
    // N feeding threads: N - 1 in the pool and this one, which joins in feeding a block once
    // it has read the next (no more threads than cores: a third thread on two cores only
    // time-sliced them).
    worker_pool pool(workers <= 1 ? 0 : workers - 1, [&](unsigned w) { feed(*posted, w, workers); });
    auto finish_posted = [&] {  // this thread feeds what the pool has not taken, then waits for it
        if (posted) feed(*posted, workers - 1, workers);
        pool.wait();
    };
    auto flush_block = [&] {  // feed the block read so far; with threads, read on meanwhile
        if (workers <= 1) {  // no thread: this one feeds, then reads on
            feed(block[cur], 0, 1);
            rethrow();
        } else {
            finish_posted();
            rethrow();
            posted = &block[cur];
            next_channel.store(0, std::memory_order_relaxed);  // published by post()'s lock
            pool.post();
            cur ^= 1;
        }
        buffered = 0;
    };
    auto submit = [&](uint64_t a, bool write, uint64_t cycle) {
        const dram_coord co = sys->mapping().decode(a);
        const uint32_t ci = sys->mapping().controller_of(co);
        if (!o.issue_width) {  // arrival = the trace cycle until fed
            dram_system::fill_request(co, write, cycle, block[cur][ci].emplace_back());
            if (++buffered == block_bursts) flush_block();
            return;
        }
        dram_request r;
        dram_system::fill_request(co, write, cycle, r);
        dram_channel& ch = sys->channel(ci);
        while (!ch.can_accept(write))
            if (ch.step(c)) last_done = std::max(last_done, c.done);
        // In order: no earlier than the previous request, N per cycle, after the room.
        uint64_t t = std::max({cycle, admit, ch.now()});
        if (t == admit && issued_this_cycle >= o.issue_width) ++t;
        issued_this_cycle = t == admit ? issued_this_cycle + 1 : 1;
        admit = t;
        r.arrival = t;
        ch.enqueue(r);
    };
    const auto sim0 = std::chrono::steady_clock::now();
    while (in.next(addr, write, cycle)) {
        if (addr >= size)
            throw config_error(fmt::format("trace error: {}:{}: address 0x{:x} is beyond mem.size = 0x{:x}",
                                           o.trace_file, in.line(), addr, size));
        if (cycle > max_trace_cycle)
            throw config_error(fmt::format("trace error: {}:{}: cycle {} is beyond the largest accepted cycle {} (2^48)",
                                           o.trace_file, in.line(), cycle, max_trace_cycle));
        if (n == 0) first_cycle = admit = cycle;
        ++n;
        (write ? writes : reads) += 1;
        const uint64_t first = addr & ~(req_bytes - 1);
        for (uint64_t a = first & ~(burst - 1); a < first + req_bytes; a += burst) {
            if (merge && a == last_burst && write == last_write) continue;  // merged with the previous request
            if (a >= size)
                throw config_error(fmt::format("trace error: {}:{}: the {}-byte request at 0x{:x} ends beyond "
                                               "mem.size = 0x{:x}",
                                               o.trace_file, in.line(), req_bytes, addr, size));
            last_burst = a;
            last_write = write;
            ++bursts;
            submit(a, write, cycle);
        }
    }
    if (!o.issue_width) {
        if (buffered) flush_block();
        if (workers > 1) finish_posted();
        rethrow();
        for (const uint64_t d : worker_done) last_done = std::max(last_done, d);
    }
    if (n == 0)
        throw config_error("usage error: trace file '" + o.trace_file +
                           "' holds no requests (only blank or comment lines); expected '<hex address> <READ|WRITE> "
                           "<cycle>' lines");
    for (uint32_t i = 0; i < sys->channels(); ++i) {
        dram_channel& ch = sys->channel(i);
        while (!ch.idle())
            if (ch.step(c)) last_done = std::max(last_done, c.done);
    }
    const auto wall1 = std::chrono::steady_clock::now();
    const double sim_wall = std::chrono::duration<double>(wall1 - sim0).count();
    const double wall = std::chrono::duration<double>(wall1 - wall0).count();

    const double tck_ns = p.t.tCK_ps / 1000.0;
    const uint64_t span = last_done > first_cycle ? last_done - first_cycle : 0;
    const double sim_ns = static_cast<double>(last_done) * tck_ns;
    const double span_ns = static_cast<double>(span) * tck_ns;
    uint64_t bytes = 0, hits = 0, misses = 0, conflicts = 0, refreshes = 0;
    double lat_sum = 0;
    uint64_t lat_n = 0;
    for (uint32_t i = 0; i < sys->channels(); ++i) {
        const dram_channel& ch = sys->channel(i);
        bytes += ch.bytes_read() + ch.bytes_written();
        hits += ch.row_hits();
        misses += ch.row_misses();
        conflicts += ch.row_conflicts();
        refreshes += ch.refreshes();
        lat_sum += ch.read_latency_sum_ns();
        lat_n += ch.reads_done();
    }
    const double bw = span_ns > 0 ? static_cast<double>(bytes) / span_ns : 0.0;
    const double peak = p.peak_bytes_per_s() / 1e9;

    nlohmann::json summary;
    summary["requests"] = n;
    summary["reads"] = reads;
    summary["writes"] = writes;
    summary["bursts"] = bursts;
    summary["bytes"] = bytes;
    summary["standard"] = p.standard;
    summary["cycles"] = span;
    summary["bandwidth_gbps"] = bw;
    summary["peak_gbps"] = peak;
    summary["efficiency"] = peak > 0 ? bw / peak : 0.0;
    summary["avg_read_latency_ns"] = lat_n ? lat_sum / static_cast<double>(lat_n) : 0.0;
    const uint64_t acc = hits + misses + conflicts;
    summary["row_hit_rate"] = acc ? static_cast<double>(hits) / static_cast<double>(acc) : 0.0;
    summary["refreshes"] = refreshes;
    summary["requests_per_wall_s"] = sim_wall > 0 ? static_cast<double>(n) / sim_wall : 0.0;
    summary["simulated_ns"] = sim_ns;

    nlohmann::json st;
    st["schema_version"] = 1;
    st["config"] = cfg.to_json();
    st["workload"] = {{"name", "memsim"}, {"trace", o.trace_file}, {"params", nlohmann::json::object()},
                      {"verified", nullptr}};
    st["simulated_ns"] = sim_ns;
    st["wall_s"] = wall;
    st["summary"] = summary;
    st["components"] = global_stats().to_json(sim_ns * 1e-9);
    st["host"] = global_stats().host_json();
    sys.reset();

    if (!o.stats_file.empty()) {
        std::FILE* f = std::fopen(o.stats_file.c_str(), "w");
        const std::string text = st.dump(2) + "\n";
        if (!f || std::fwrite(text.data(), 1, text.size(), f) != text.size()) {
            if (f) std::fclose(f);
            throw config_error("usage error: cannot write stats file '" + o.stats_file + "'");
        }
        std::fclose(f);
    }
    if (o.json) {
        out << st.dump(2) << "\n";
    } else if (!o.quiet) {
        out << fmt::format("accelvp {} | memsim {} | config {} | {} x{} stacks x{} channels\n", ACCELVP_VERSION,
                           o.trace_file, cfg.get(keys::preset::name), p.standard, p.org.stacks, p.org.channels);
        size_t width = 10;
        for (const auto& [k, v] : summary.items()) width = std::max(width, k.size());
        out << fmt::format("  {:<{}}  {}\n", "metric", width, "value");
        out << fmt::format("  {:-<{}}  {:-<16}\n", "", width, "");
        for (const auto& [k, v] : summary.items()) {
            std::string s;
            if (v.is_number_float()) {
                const double d = v.get<double>();
                s = std::abs(d) >= 1e4 ? fmt::format("{:.0f}", d) : fmt::format("{:.4f}", d);
            } else {
                s = v.is_string() ? v.get<std::string>() : v.dump();
            }
            out << fmt::format("  {:<{}}  {}\n", k, width, s);
        }
        out << fmt::format("  simulated: {:.3f} us   wall: {:.3f} s\n", sim_ns / 1000.0, wall);
    }
    if (stats_out) *stats_out = std::move(st);
    return exit_ok;
}

} // namespace accelvp
