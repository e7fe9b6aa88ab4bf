#include "platform/memsim/memsim.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <ostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "platform/sim/simulation.h"
#include "tlm/core/config.h"
#include "tlm/core/stats.h"
#include "tlm/mem/dram_memory.h"

namespace accelvp {

CLI::App* add_memsim_command(CLI::App& app, memsim_options& o) {
    auto* cmd = app.add_subcommand("memsim", "drive the DRAM model alone from a trace of '<hex address> <READ|WRITE> "
                                             "<cycle>' lines and report bandwidth, latency and speed");
    cmd->add_option("-c,--config", o.config, "preset name (edge, inference, training) or YAML file")
        ->capture_default_str();
    cmd->add_option("--trace", o.trace_file, "the request trace")->required();
    cmd->add_option("--stats", o.stats_file, "write the stats JSON here");
    cmd->add_option("-p,--param", o.overrides, "override a parameter (mem.*): -p key=value (repeatable)")
        ->type_name("KEY=VALUE");
    cmd->add_flag("-q,--quiet", o.quiet, "print nothing on success");
    cmd->add_flag("--json", o.json, "print the stats JSON on stdout instead of the table");
    return cmd;
}

namespace {

// Streaming reader of trace lines, in large chunks (the trace can be GBs).
class trace_reader {
public:
    explicit trace_reader(const std::string& path) : path_(path), f_(std::fopen(path.c_str(), "rb")) {
        if (!f_) throw config_error("usage error: cannot read trace file '" + path + "'");
        buf_.resize(1 << 22);
        for (unsigned i = 0; i < 256; ++i)
            hex_[i] = static_cast<uint8_t>(i >= '0' && i <= '9'   ? i - '0'
                                           : i >= 'a' && i <= 'f' ? i - 'a' + 10
                                           : i >= 'A' && i <= 'F' ? i - 'A' + 10
                                                                  : 255);
    }
    ~trace_reader() {
        if (f_) std::fclose(f_);
    }
    trace_reader(const trace_reader&) = delete;
    trace_reader& operator=(const trace_reader&) = delete;

    // Next request; false at the end of the file.
    bool next(uint64_t& addr, bool& write, uint64_t& cycle) {
        for (;;) {
            // Fast path: a well-formed line ("0x<hex> READ|WRITE <dec>\n") parsed in one
            // pass. Below safe_ every line ends with '\n' in the buffer, so no bounds checks.
            if (pos_ < safe_ && fast(addr, write, cycle)) return true;
            const char* nl = static_cast<const char*>(std::memchr(buf_.data() + pos_, '\n', end_ - pos_));
            if (!nl) {
                if (!refill()) {
                    if (pos_ == end_) return false;
                    nl = buf_.data() + end_;  // last line without a newline
                } else {
                    continue;
                }
            }
            const char* p = buf_.data() + pos_;
            const char* e = nl;
            pos_ = static_cast<size_t>(nl - buf_.data()) + (nl < buf_.data() + end_ ? 1 : 0);
            ++line_;
            if (e > p && e[-1] == '\r') --e;
            if (parse(p, e, addr, write, cycle)) return true;
        }
    }
    uint64_t line() const { return line_; }

private:
    // The common line shape only; anything else (comments, blanks, '\r', tabs, upper-case
    // hex prefix, errors) is left to parse() from the same position.
    bool fast(uint64_t& addr, bool& write, uint64_t& cycle) {
        const char* p = buf_.data() + pos_;
        if (p[0] == '0' && p[1] == 'x') p += 2;
        uint64_t a = 0;
        int digits = 0;
        for (unsigned v; (v = hex_[static_cast<unsigned char>(*p)]) < 16; ++p) {
            a = a << 4 | v;
            ++digits;
        }
        if (digits == 0 || digits > 16 || *p != ' ') return false;
        ++p;
        // Short-circuit compares: never read past the line's '\n'.
        if (p[0] == 'R' && p[1] == 'E' && p[2] == 'A' && p[3] == 'D' && p[4] == ' ') {
            write = false;
            p += 5;
        } else if (p[0] == 'W' && p[1] == 'R' && p[2] == 'I' && p[3] == 'T' && p[4] == 'E' && p[5] == ' ') {
            write = true;
            p += 6;
        } else {
            return false;
        }
        uint64_t c = 0;
        digits = 0;
        for (; static_cast<unsigned>(*p - '0') < 10; ++p) {
            c = c * 10 + static_cast<unsigned>(*p - '0');
            ++digits;
        }
        if (digits == 0 || digits > 19 || *p != '\n') return false;
        pos_ = static_cast<size_t>(p + 1 - buf_.data());
        ++line_;
        addr = a;
        cycle = c;
        return true;
    }
    bool refill() {
        if (eof_) return false;
        if (pos_ > 0) {
            std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
            end_ -= pos_;
            pos_ = 0;
        }
        if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);  // a very long line
        const size_t n = std::fread(buf_.data() + end_, 1, buf_.size() - end_, f_);
        if (n == 0) eof_ = true;
        end_ += n;
        // Lines up to the last newline are complete; the fast path reads only those.
        safe_ = end_;
        while (safe_ > 0 && buf_[safe_ - 1] != '\n') --safe_;
        return n > 0;
    }
    [[noreturn]] void bad(const char* p, const char* e, const std::string& what) const {
        std::string text(p, static_cast<size_t>(std::min<ptrdiff_t>(e - p, 80)));
        throw config_error(fmt::format("trace error: {}:{}: {}; expected '<hex address> <READ|WRITE> <cycle>', got '{}'",
                                       path_, line_, what, text));
    }
    static bool blank(char c) { return c == ' ' || c == '\t'; }
    // Returns false for a blank or comment line.
    bool parse(const char* p, const char* e, uint64_t& addr, bool& write, uint64_t& cycle) const {
        const char* const line = p;
        while (p < e && blank(*p)) ++p;
        if (p == e || *p == '#') return false;
        if (e - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) p += 2;
        uint64_t a = 0;
        int digits = 0;
        for (unsigned v; p < e && (v = hex_[static_cast<unsigned char>(*p)]) < 16; ++p, ++digits) {
            if (digits == 16) bad(line, e, "address too large");
            a = a << 4 | v;
        }
        if (digits == 0) bad(line, e, "no hex address");
        if (p == e || !blank(*p)) bad(line, e, "bad address");
        while (p < e && blank(*p)) ++p;
        const char* w = p;
        while (p < e && !blank(*p)) ++p;
        const size_t wl = static_cast<size_t>(p - w);
        if (wl == 4 && (std::memcmp(w, "READ", 4) == 0 || std::memcmp(w, "read", 4) == 0))
            write = false;
        else if (wl == 5 && (std::memcmp(w, "WRITE", 5) == 0 || std::memcmp(w, "write", 5) == 0))
            write = true;
        else
            bad(line, e, wl ? "the command must be READ or WRITE" : "no command");
        while (p < e && blank(*p)) ++p;
        uint64_t c = 0;
        digits = 0;
        for (; p < e && *p >= '0' && *p <= '9'; ++p, ++digits) {
            if (digits == 19) bad(line, e, "cycle too large");
            c = c * 10 + static_cast<unsigned>(*p - '0');
        }
        if (digits == 0) bad(line, e, "no decimal issue cycle");
        while (p < e && blank(*p)) ++p;
        if (p != e) bad(line, e, "unexpected text after the cycle");
        addr = a;
        cycle = c;
        return true;
    }

    std::string path_;
    std::FILE* f_;
    uint8_t hex_[256];
    std::vector<char> buf_;
    size_t pos_ = 0, end_ = 0, safe_ = 0;
    bool eof_ = false;
    uint64_t line_ = 0;
};

} // namespace

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
    uint64_t addr, cycle;
    bool write;
    dram_completion c;
    const auto sim0 = std::chrono::steady_clock::now();
    while (in.next(addr, write, cycle)) {
        if (addr >= size)
            throw config_error(fmt::format("trace error: {}:{}: address 0x{:x} is beyond mem.size = 0x{:x}",
                                           o.trace_file, in.line(), addr, size));
        if (n == 0) first_cycle = admit = cycle;
        ++n;
        (write ? writes : reads) += 1;
        uint32_t ci;
        dram_request r = sys->make_request(addr, write, std::max(cycle, admit), ci);
        dram_channel& ch = sys->channel(ci);
        while (!ch.can_accept(write))
            if (ch.step(c)) last_done = std::max(last_done, c.done);
        r.arrival = std::max(r.arrival, ch.now());
        admit = r.arrival;
        ch.enqueue(r);
    }
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
                           o.trace_file, cfg.get_string("preset.name"), p.standard, p.org.stacks, p.org.channels);
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
