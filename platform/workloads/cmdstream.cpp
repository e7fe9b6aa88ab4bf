#include "platform/workloads/cmdstream.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "abi/aax_regs.h"
#include "platform/chip/chip.h"
#include "platform/host/capture.h"
#include "platform/host/driver.h"
#include "platform/tools/cmdasm.h"
#include "platform/workloads/dma_copy.h"
#include "platform/workloads/jobs.h"

namespace accelvp {
namespace cmdstream {

namespace {

std::string trim(const std::string& s) {
    const size_t a = s.find_first_not_of(" \t\r");
    if (a == std::string::npos) return "";
    return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string t; in >> t;) out.push_back(t);
    return out;
}

bool parse_u64(const std::string& s, uint64_t& v) {
    if (s.empty()) return false;
    size_t pos = 0;
    try {
        v = std::stoull(s, &pos, s.size() > 2 && (s[1] == 'x' || s[1] == 'X') ? 16 : 10);
    } catch (...) {
        return false;
    }
    return pos == s.size() && s[0] != '-' && s[0] != '+';
}

// A size: a number with an optional KiB/MiB/GiB (or K/M/G) suffix.
bool parse_size(const std::string& s, uint64_t& v) {
    static const std::pair<const char*, uint64_t> units[] = {{"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30},
                                                            {"K", 1ull << 10},   {"M", 1ull << 20},   {"G", 1ull << 30}};
    for (const auto& [u, mul] : units) {
        const size_t n = std::strlen(u);
        if (s.size() > n && s.compare(s.size() - n, n, u) == 0) {
            uint64_t base = 0;
            if (!parse_u64(s.substr(0, s.size() - n), base) || base > UINT64_MAX / mul) return false;
            v = base * mul;
            return true;
        }
    }
    return parse_u64(s, v);
}

const char* spec_help = "zero, byte:V, u32:V, u64:V, pattern:SEED, copy:BUF[+OFF], fnv64:V (.expect only)";

std::string b64_encode(const uint8_t* p, size_t n) {
    static const char* tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((n + 2) / 3 * 4);
    for (size_t i = 0; i < n; i += 3) {
        const uint32_t v = uint32_t{p[i]} << 16 | (i + 1 < n ? uint32_t{p[i + 1]} << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        out += tab[v >> 18];
        out += tab[(v >> 12) & 63];
        out += i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out += i + 2 < n ? tab[v & 63] : '=';
    }
    return out;
}

bool b64_decode(const std::string& s, std::vector<uint8_t>& out) {
    auto val = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    if (s.size() % 4) return false;
    out.clear();
    for (size_t i = 0; i < s.size(); i += 4) {
        int v[4];
        for (int k = 0; k < 4; ++k) v[k] = s[i + k] == '=' && i + 4 == s.size() && k >= 2 ? -2 : val(s[i + k]);
        if (v[0] < 0 || v[1] < 0 || v[2] == -1 || v[3] == -1 || (v[2] == -2 && v[3] != -2)) return false;
        const uint32_t w = uint32_t(v[0]) << 18 | uint32_t(v[1]) << 12 | uint32_t(std::max(v[2], 0)) << 6 |
                           uint32_t(std::max(v[3], 0));
        out.push_back(uint8_t(w >> 16));
        if (v[2] >= 0) out.push_back(uint8_t(w >> 8));
        if (v[3] >= 0) out.push_back(uint8_t(w));
    }
    return true;
}

// Fields of packets that hold device bus addresses (docs/cmdasm.md): relocated by a capture.
bool is_address_field(const std::string& mnemonic, const std::string& f) {
    if (mnemonic == "dma") return f == "src" || f == "dst";
    if (mnemonic == "fence" || mnemonic == "msg" || mnemonic == "jump" || mnemonic == "call") return f == "addr";
    if (mnemonic == "coll") return f == "local";
    return false;
}

class parser {
public:
    parser(const std::string& text, const std::string& file) : file_(file) {
        p_.file = file;
        std::istringstream in(text);
        for (std::string l; std::getline(in, l);) lines_.push_back(l);
    }

    program run() {
        // Pass 1: buffer names (a packet may name a buffer declared further down).
        for (size_t i = 0; i < lines_.size(); ++i) {
            const auto t = split(code(i));
            if (!t.empty() && t[0] == ".buffer") declare_buffer(static_cast<int>(i + 1), t);
        }
        resolve_inits();
        // Pass 2: everything else, in order.
        for (size_t i = 0; i < lines_.size(); ++i) {
            const int ln = static_cast<int>(i + 1);
            const std::string c = code(i);
            const auto t = split(c);
            if (t.empty() || t[0] == ".buffer") continue;
            if (t[0][0] == '.' && t[0] != ".raw" && t[0] != ".byte") {
                directive(ln, t);
                continue;
            }
            if (!cur_) new_job(0, false, 0, 0);
            p_.jobs[*cur_].packets.emplace_back(ln, c);
        }
        // Inits that copy a buffer must not go round in a circle.
        for (size_t b = 0; b < p_.buffers.size(); ++b) {
            size_t at = b;
            for (size_t hops = 0; p_.buffers[at].init.kind == value_spec::copy; ++hops) {
                at = p_.buffers[at].init.buf;
                if (hops > p_.buffers.size()) {
                    err(p_.buffers[b].line, fmt::format("init of '{}' copies itself (a circle of copy: inits)",
                                                        p_.buffers[b].name));
                    break;
                }
            }
        }
        // Assemble every job with the buffers at 0: the assembler's own errors, with their lines.
        const std::vector<uint64_t> zero(p_.buffers.size(), 0);
        for (const auto& j : p_.jobs) {
            try {
                (void)assemble_job(p_, j, zero);
            } catch (const cmdasm::asm_error& e) {
                for (const auto& l : e.lines()) errors_.push_back(l);
            }
        }
        if (p_.jobs.empty() && errors_.empty()) err(0, "no packets: a command-stream file needs at least one job");
        if (!errors_.empty()) {
            std::stable_sort(errors_.begin(), errors_.end(), [this](const std::string& a, const std::string& b) {
                return line_of(a) < line_of(b);
            });
            throw cmdasm::asm_error(errors_);
        }
        return std::move(p_);
    }

private:
    int line_of(const std::string& e) const {
        const size_t c = e.find(':', file_.size());
        return c == file_.size() ? std::atoi(e.c_str() + c + 1) : 0;
    }
    std::string code(size_t i) const {
        std::string l = lines_[i];
        if (const size_t h = l.find('#'); h != std::string::npos) l.resize(h);
        return trim(l);
    }
    void err(int ln, const std::string& msg) { errors_.push_back(fmt::format("{}:{}: {}", file_, ln, msg)); }

    std::optional<size_t> buffer_index(const std::string& name) const {
        for (size_t i = 0; i < p_.buffers.size(); ++i)
            if (p_.buffers[i].name == name) return i;
        return std::nullopt;
    }
    std::string buffer_names() const {
        std::string s;
        for (const auto& b : p_.buffers) s += (s.empty() ? "" : ", ") + b.name;
        return s.empty() ? "(none declared)" : s;
    }
    // NAME[+OFF]
    bool buffer_ref(int ln, const std::string& what, const std::string& s, size_t& buf, uint64_t& off) {
        const size_t plus = s.find('+');
        const std::string name = s.substr(0, plus);
        off = 0;
        if (plus != std::string::npos && !parse_size(s.substr(plus + 1), off)) {
            err(ln, fmt::format("{}: offset '{}' is not a number", what, s.substr(plus + 1)));
            return false;
        }
        const auto i = buffer_index(name);
        if (!i) {
            err(ln, fmt::format("{}: unknown buffer '{}'; declared: {}", what, name, buffer_names()));
            return false;
        }
        buf = *i;
        return true;
    }
    bool spec(int ln, const std::string& what, const std::string& s, value_spec& v) {
        const size_t colon = s.find(':');
        const std::string k = s.substr(0, colon), arg = colon == std::string::npos ? "" : s.substr(colon + 1);
        auto number = [&](uint64_t max) {
            if (!parse_u64(arg, v.value) || v.value > max) {
                err(ln, fmt::format("{}: '{}' needs a number 0 .. {:#x} after '{}:'", what, s, max, k));
                return false;
            }
            return true;
        };
        if (k == "zero" && colon == std::string::npos) return v.kind = value_spec::zero, true;
        if (k == "byte") return v.kind = value_spec::byte, number(0xFF);
        if (k == "u32") return v.kind = value_spec::u32, number(0xFFFFFFFFull);
        if (k == "u64") return v.kind = value_spec::u64, number(UINT64_MAX);
        if (k == "pattern") return v.kind = value_spec::pattern, number(UINT64_MAX);
        if (k == "fnv64") {
            if (what.rfind(".expect", 0) != 0) {
                err(ln, fmt::format("{}: fnv64: (a hash of the contents) is only for .expect", what));
                return false;
            }
            return v.kind = value_spec::fnv64, number(UINT64_MAX);
        }
        if (k == "copy") {
            v.kind = value_spec::copy;
            return buffer_ref(ln, what, arg, v.buf, v.offset);
        }
        err(ln, fmt::format("{}: '{}' is not a contents spec; valid: {}", what, s, spec_help));
        return false;
    }

    void declare_buffer(int ln, const std::vector<std::string>& t) {
        if (t.size() < 3) {
            err(ln, ".buffer: expected '.buffer NAME SIZE [host|device] [init=SPEC]'");
            return;
        }
        buffer_decl b;
        b.name = t[1];
        b.line = ln;
        const bool ident = std::all_of(b.name.begin(), b.name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        }) && !std::isdigit(static_cast<unsigned char>(b.name[0]));
        if (!ident) err(ln, fmt::format(".buffer: name '{}' is not an identifier (letters, digits, _)", b.name));
        if (buffer_index(b.name)) {
            err(ln, fmt::format(".buffer: '{}' declared twice", b.name));
            return;
        }
        if (!parse_size(t[2], b.size) || b.size == 0)
            err(ln, fmt::format(".buffer {}: size '{}' is not a positive number (bytes, or with KiB/MiB/GiB)", b.name,
                                t[2]));
        p_.buffers.push_back(b);
        pending_init_.push_back({});
        for (size_t k = 3; k < t.size(); ++k) {
            if (t[k] == "host" || t[k] == "device") p_.buffers.back().host = t[k] == "host";
            else if (t[k].rfind("init=", 0) == 0) pending_init_.back() = {ln, t[k].substr(5)};
            else err(ln, fmt::format(".buffer {}: unknown attribute '{}'; valid: host, device, init=SPEC", b.name, t[k]));
        }
    }

    void new_job(int ln, bool queue_given, uint32_t queue, uint32_t timeout_us) {
        job_decl j;
        j.line = ln;
        j.queue_given = queue_given;
        j.queue = queue;
        j.timeout_us = timeout_us;
        cur_ = p_.jobs.size();
        p_.jobs.push_back(j);
        step s;
        s.kind = step::job;
        s.index = *cur_;
        p_.steps.push_back(std::move(s));
    }

    void directive(int ln, const std::vector<std::string>& t) {
        const std::string& d = t[0];
        if (d == ".job") {
            bool qg = false;
            uint64_t q = 0, to = 0;
            for (size_t k = 1; k < t.size(); ++k) {
                const size_t eq = t[k].find('=');
                const std::string f = t[k].substr(0, eq), v = eq == std::string::npos ? "" : t[k].substr(eq + 1);
                if (f == "queue") {
                    qg = true;
                    if (!parse_u64(v, q) || q >= AAX_MAX_RINGS)
                        err(ln, fmt::format(".job: queue={} is out of range [0, {}]", v, AAX_MAX_RINGS - 1));
                } else if (f == "timeout_us") {
                    if (!parse_u64(v, to) || to > UINT32_MAX)
                        err(ln, fmt::format(".job: timeout_us={} is out of range [0, 4294967295]", v));
                } else if (f == "vm") {
                    err(ln, ".job: jobs in a VM address space (vm=) cannot run from a file: its addresses are "
                            "device virtual addresses; capture with mmu.enabled=false");
                } else {
                    err(ln, fmt::format(".job: unknown field '{}'; valid: queue, timeout_us", f));
                }
            }
            new_job(ln, qg, static_cast<uint32_t>(q), static_cast<uint32_t>(to));
        } else if (d == ".wait") {
            if (t.size() != 1) err(ln, ".wait takes no arguments");
            cur_.reset();
            p_.steps.push_back(step{step::wait, 0, 0, {}});
        } else if (d == ".expect") {
            if (t.size() != 4) {
                err(ln, fmt::format(".expect: expected '.expect BUF[+OFF] SIZE SPEC' (SPEC: {})", spec_help));
                return;
            }
            expect_decl e;
            e.line = ln;
            if (!buffer_ref(ln, ".expect", t[1], e.buf, e.offset)) return;
            if (!parse_size(t[2], e.size) || e.size == 0) {
                err(ln, fmt::format(".expect: size '{}' is not a positive number", t[2]));
                return;
            }
            if (!spec(ln, ".expect", t[3], e.spec)) return;
            const auto& b = p_.buffers[e.buf];
            if (e.offset > b.size || e.size > b.size - e.offset) {
                err(ln, fmt::format(".expect: [{:#x}, +{:#x}) is outside buffer '{}' ({} bytes)", e.offset, e.size,
                                    b.name, b.size));
                return;
            }
            if (!check_copy(ln, ".expect", e.spec, e.size)) return;
            p_.expects.push_back(e);
        } else if (d == ".data") {
            step s;
            s.kind = step::data;
            if (t.size() != 4) {
                err(ln, ".data: expected '.data BUF OFFSET BASE64'");
                return;
            }
            uint64_t off = 0;
            if (!buffer_ref(ln, ".data", t[1], s.index, off)) return;
            if (!parse_u64(t[2], s.offset)) {
                err(ln, fmt::format(".data: offset '{}' is not a number", t[2]));
                return;
            }
            s.offset += off;
            if (!b64_decode(t[3], s.bytes)) {
                err(ln, ".data: the bytes are not valid base64");
                return;
            }
            const auto& b = p_.buffers[s.index];
            if (s.offset > b.size || s.bytes.size() > b.size - s.offset) {
                err(ln, fmt::format(".data: {} bytes at {:#x} do not fit in buffer '{}' ({} bytes)", s.bytes.size(),
                                    s.offset, b.name, b.size));
                return;
            }
            cur_.reset();
            p_.steps.push_back(std::move(s));
        } else if (d == ".capture") {
            for (size_t k = 1; k < t.size(); ++k) {
                const size_t eq = t[k].find('=');
                const std::string f = t[k].substr(0, eq), v = eq == std::string::npos ? "" : t[k].substr(eq + 1);
                uint64_t n = 0;
                if (f == "version") {
                    if (!parse_u64(v, n) || n == 0 || n > static_cast<uint64_t>(capture_version))
                        err(ln, fmt::format(".capture: version {} is not supported (this accelvp reads 1 .. {})", v,
                                            capture_version));
                    p_.capture_version = static_cast<int>(n);
                } else if (f == "workload") {
                    p_.capture_workload = v;
                }
            }
        } else if (d == ".config") {
            if (t.size() == 2) p_.capture_config = t[1];
            else err(ln, ".config: expected '.config PRESET-OR-FILE'");
        } else if (d == ".override") {
            if (t.size() == 2 && t[1].find('=') != std::string::npos) p_.capture_overrides.push_back(t[1]);
            else err(ln, ".override: expected '.override KEY=VALUE'");
        } else if (d == ".captured") {
            captured_job c;
            for (size_t k = 1; k < t.size(); ++k) {
                const size_t eq = t[k].find('=');
                const std::string f = t[k].substr(0, eq), v = eq == std::string::npos ? "" : t[k].substr(eq + 1);
                uint64_t n = 0;
                if (!parse_u64(v, n)) continue;
                if (f == "queue") c.queue = static_cast<uint32_t>(n);
                else if (f == "status") c.status = static_cast<int>(n);
                else if (f == "start_ns") c.start_ns = n;
                else if (f == "end_ns") c.end_ns = n;
            }
            p_.captured.push_back(c);
        } else {
            err(ln, fmt::format("unknown directive '{}'; valid: .buffer, .job, .wait, .expect, .data, .capture, "
                                ".config, .override, .captured (packets: docs/cmdasm.md)",
                                d));
        }
    }

    bool check_copy(int ln, const std::string& what, const value_spec& v, uint64_t size) {
        if (v.kind != value_spec::copy) return true;
        const auto& src = p_.buffers[v.buf];
        if (v.offset > src.size || size > src.size - v.offset) {
            err(ln, fmt::format("{}: copy:{}+{:#x} of {} bytes is outside buffer '{}' ({} bytes)", what, src.name,
                                v.offset, size, src.name, src.size));
            return false;
        }
        return true;
    }

public:
    // Inits are resolved after pass 1 (they may name any buffer).
    void resolve_inits() {
        for (size_t i = 0; i < p_.buffers.size(); ++i) {
            const auto& [ln, s] = pending_init_[i];
            if (s.empty()) continue;
            value_spec v;
            if (spec(ln, ".buffer " + p_.buffers[i].name + " init", s, v) &&
                check_copy(ln, ".buffer " + p_.buffers[i].name + " init", v, p_.buffers[i].size))
                p_.buffers[i].init = v;
        }
    }

private:
    std::string file_;
    std::vector<std::string> lines_;
    program p_;
    std::vector<std::string> errors_;
    std::optional<size_t> cur_;
    std::vector<std::pair<int, std::string>> pending_init_;
};

} // namespace

program parse(const std::string& text, const std::string& file) {
    return parser(text, file).run();
}

program load(const std::string& path, const std::string& key) {
    if (path.empty())
        throw config_error(fmt::format("config error: {} is empty; give a command-stream file (docs/debugging.md)", key));
    std::ifstream f(path, std::ios::binary);
    if (!f)
        throw config_error(fmt::format("config error: {} = '{}': cannot read the file: {}", key, path,
                                       std::strerror(errno)));
    std::stringstream ss;
    ss << f.rdbuf();
    try {
        return parse(ss.str(), path);
    } catch (const cmdasm::asm_error& e) {
        std::string msg = fmt::format("config error: {} = '{}' has {} error(s):", key, path, e.lines().size());
        for (const auto& l : e.lines()) msg += "\n  " + l;
        throw config_error(msg);
    }
}

std::vector<uint8_t> assemble_job(const program& p, const job_decl& j, const std::vector<uint64_t>& va,
                                  std::vector<std::pair<uint32_t, int>>* lines) {
    // The job's packet lines with @NAME[+OFF] replaced, at their own line numbers.
    std::string text;
    int at = 1;
    std::vector<std::pair<int, std::string>> resolved;
    std::vector<std::string> errors;
    for (const auto& [ln, src] : j.packets) {
        std::string out;
        for (const auto& tok : split(src)) {
            const size_t eq = tok.find('=');
            std::string t = tok;
            if (eq != std::string::npos && eq + 1 < tok.size() && tok[eq + 1] == '@') {
                const std::string ref = tok.substr(eq + 2);
                const size_t plus = ref.find('+');
                const std::string name = ref.substr(0, plus);
                uint64_t off = 0;
                size_t bi = SIZE_MAX;
                for (size_t i = 0; i < p.buffers.size(); ++i)
                    if (p.buffers[i].name == name) bi = i;
                std::string names;
                for (const auto& b : p.buffers) names += (names.empty() ? "" : ", ") + b.name;
                t = tok.substr(0, eq + 1) + "0";  // assembled anyway, for the assembler's own errors
                if (bi == SIZE_MAX) {
                    errors.push_back(fmt::format("{}:{}: unknown buffer '@{}'; declared: {}", p.file, ln, name,
                                                 names.empty() ? "(none)" : names));
                } else if (plus != std::string::npos && !parse_size(ref.substr(plus + 1), off)) {
                    errors.push_back(
                        fmt::format("{}:{}: '@{}': offset '{}' is not a number", p.file, ln, ref, ref.substr(plus + 1)));
                } else if (off > p.buffers[bi].size) {
                    errors.push_back(fmt::format("{}:{}: '@{}': offset {:#x} is past the end of '{}' ({} bytes)",
                                                 p.file, ln, ref, off, name, p.buffers[bi].size));
                } else {
                    t = fmt::format("{}={:#x}", tok.substr(0, eq), va[bi] + off);
                }
            }
            out += (out.empty() ? "" : " ") + t;
        }
        for (; at < ln; ++at) text += "\n";
        text += out + "\n";
        ++at;
        resolved.emplace_back(ln, out);
    }
    std::vector<uint8_t> bytes;
    try {
        bytes = cmdasm::assemble(text, p.file);
    } catch (const cmdasm::asm_error& e) {
        errors.insert(errors.end(), e.lines().begin(), e.lines().end());
    }
    if (!errors.empty()) throw cmdasm::asm_error(errors);
    if (lines) {
        lines->clear();
        uint32_t off = 0;
        for (const auto& [ln, t] : resolved) {
            lines->emplace_back(off, ln);
            off += static_cast<uint32_t>(cmdasm::assemble(t, p.file).size());
        }
    }
    return bytes;
}

uint64_t fnv64(const uint8_t* p, size_t n, uint64_t h) {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

void fill(const program& p, const value_spec& v, uint64_t offset, uint8_t* out, uint64_t len) {
    switch (v.kind) {
    case value_spec::fnv64: std::memset(out, 0, len); break;  // not bytes: verify() hashes instead
    case value_spec::zero: std::memset(out, 0, len); break;
    case value_spec::byte: std::memset(out, static_cast<int>(v.value), len); break;
    case value_spec::u32:
    case value_spec::u64: {
        const unsigned w = v.kind == value_spec::u32 ? 4 : 8;
        for (uint64_t i = 0; i < len; ++i) out[i] = static_cast<uint8_t>(v.value >> (8 * ((offset + i) % w)));
        break;
    }
    case value_spec::pattern: fill_pattern(out, offset, len, v.value); break;
    case value_spec::copy: fill(p, p.buffers[v.buf].init, v.offset + offset, out, len); break;
    }
}

std::string capture_text(const capture_recorder& r, const capture_header& h) {
    std::string out;
    out += "# accelvp command-stream capture: `accelvp replay FILE` runs it again, `accelvp run -w cmdstream\n"
           "# -p workload.file=FILE` too (docs/debugging.md#capture-and-replay).\n";
    out += fmt::format(".capture version={} workload={}\n", capture_version, h.workload);
    out += fmt::format(".config {}\n", h.config);
    for (const auto& o : h.overrides) out += ".override " + o + "\n";
    const auto& bufs = r.buffers();
    auto name = [](size_t i) { return fmt::format("b{}", i); };
    for (size_t i = 0; i < bufs.size(); ++i)
        if (bufs[i].used)
            out += fmt::format(".buffer {} {} {}   # captured at {:#x}\n", name(i), bufs[i].size,
                               bufs[i].host ? "host" : "device", bufs[i].va);
    std::map<size_t, std::vector<uint8_t>> last;  // what the file has put in each buffer so far
    constexpr size_t chunk = 3 * 16384;
    const auto& steps = r.steps();
    size_t jobs = 0;
    std::vector<const capture_recorder::step*> job_steps;
    for (size_t si = 0; si < steps.size(); ++si) {
        const auto& s = steps[si];
        if (s.kind == capture_recorder::step::data) {
            auto& prev = last[s.buf];
            if (prev.empty()) prev.assign(s.bytes.size(), 0);
            for (size_t off = 0; off < s.bytes.size(); off += chunk) {
                const size_t n = std::min(chunk, s.bytes.size() - off);
                if (std::equal(s.bytes.begin() + off, s.bytes.begin() + off + n, prev.begin() + off)) continue;
                out += fmt::format(".data {} {:#x} {}\n", name(s.buf), off, b64_encode(s.bytes.data() + off, n));
            }
            prev = s.bytes;
        } else if (s.kind == capture_recorder::step::wait) {
            // Only between jobs: a wait after the last job adds nothing.
            bool later_job = false;
            for (size_t k = si + 1; k < steps.size(); ++k) later_job |= steps[k].kind == capture_recorder::step::job;
            if (later_job && jobs > 0) out += ".wait\n";
        } else {
            out += fmt::format(".job queue={}{}\n", s.queue, s.timeout_us ? fmt::format(" timeout_us={}", s.timeout_us) : "");
            if (s.vm_id) out += fmt::format("# this job ran in VM address space {}: its addresses are device VAs\n", s.vm_id);
            // Disassemble, then write each address that falls in a captured buffer as @bN+OFF.
            const std::string text = cmdasm::disassemble(s.cmds);
            std::istringstream in(text);
            for (std::string line; std::getline(in, line);) {
                const auto toks = split(line);
                std::string o;
                for (const auto& t : toks) {
                    std::string w = t;
                    const size_t eq = t.find('=');
                    uint64_t v = 0;
                    if (s.vm_id == 0 && eq != std::string::npos && !toks.empty() &&
                        is_address_field(toks[0], t.substr(0, eq)) && parse_u64(t.substr(eq + 1), v)) {
                        for (size_t i = 0; i < bufs.size(); ++i)
                            if (bufs[i].used && v - bufs[i].va < bufs[i].size &&
                                (r.find(v) == i || r.find(v) == SIZE_MAX)) {
                                w = v == bufs[i].va ? fmt::format("{}=@{}", t.substr(0, eq), name(i))
                                                    : fmt::format("{}=@{}+{:#x}", t.substr(0, eq), name(i), v - bufs[i].va);
                                break;
                            }
                    }
                    o += (o.empty() ? "" : " ") + w;
                }
                out += o + "\n";
            }
            if (s.vm_id) out += fmt::format(".job vm={}   # (not replayable: see above)\n", s.vm_id);
            job_steps.push_back(&s);
            ++jobs;
        }
    }
    if (!r.final_contents().empty())
        out += "# each buffer's contents at the end of the captured run (checked in functional mode)\n";
    for (const auto& [i, bytes] : r.final_contents())
        out += fmt::format(".expect {} {} fnv64:{:#x}\n", name(i), bytes.size(), fnv64(bytes.data(), bytes.size()));
    out += "# device timestamps of each job in the captured run (accelvp replay compares with them)\n";
    for (size_t i = 0; i < job_steps.size(); ++i) {
        const auto& s = *job_steps[i];
        if (!s.waited) {
            out += fmt::format("# job {}: never waited for: no timestamps\n", i);
            continue;
        }
        out += fmt::format(".captured job={} queue={} status={} start_ns={} end_ns={}\n", i, s.queue, s.status,
                           s.ts_start_ns, s.ts_end_ns);
    }
    return out;
}

} // namespace cmdstream

const param_table<cmdstream_params>& cmdstream_params::table() {
    static const auto t =
        param_table<cmdstream_params>()
            .string("file", &cmdstream_params::file,
                    "command-stream text file: packets (docs/cmdasm.md) with .buffer/.job/.expect/.wait/.data lines "
                    "(docs/debugging.md)")
            .integer("queue", &cmdstream_params::queue, 0, AAX_MAX_RINGS - 1,
                     "submission queue of the packets before the first .job (and of .job lines without queue=)")
            .real("timeout_ms", &cmdstream_params::timeout_ms, 0.001, 1e9, "host wait limit per job (simulated time)",
                  "ms");
    return t;
}

void cmdstream_workload::validate(const params& p, const config& c) const {
    (void)c;
    (void)cmdstream::load(p.file);
}

namespace {
int fail(workload_context& ctx, const std::string& what, int rc) {
    ctx.error = fmt::format("{}: {}", what, std::strerror(-rc));
    return 1;
}
// Where the host CPU reaches a buffer (debugger writes and reads: no simulated time).
uint64_t cpu_addr(driver& drv, const uapi::bo_create_args& b) {
    return (b.flags & uapi::BO_HOST) ? b.device_va - drv.info().host_window : drv.device_to_bar2(b.device_va);
}
constexpr uint64_t chunk_bytes = 4 << 20;
} // namespace

int cmdstream_workload::plan(workload_context& ctx, const params& p, state& st) {
    st.prog = cmdstream::load(p.file);
    auto& dev = ctx.dev;
    auto& drv = dev.drv();
    for (const auto& b : st.prog.buffers) {
        uapi::bo_create_args a{b.size, b.host ? uapi::BO_HOST : uapi::BO_DEVICE};
        if (int rc = dev.bo_create(a))
            return fail(ctx, fmt::format("{}:{}: allocating buffer '{}' ({} bytes of {} memory)", st.prog.file, b.line,
                                         b.name, b.size, b.host ? "host" : "device"),
                        rc);
        st.bos.push_back(a);
        st.va.push_back(a.device_va);
    }
    // Initial contents: debugger writes, no simulated time (the jobs alone are timed).
    if (ctx.functional) {
        std::vector<uint8_t> buf;
        for (size_t i = 0; i < st.prog.buffers.size(); ++i) {
            const auto& b = st.prog.buffers[i];
            if (b.init.kind == cmdstream::value_spec::zero) continue;
            for (uint64_t off = 0; off < b.size; off += chunk_bytes) {
                buf.resize(static_cast<size_t>(std::min(chunk_bytes, b.size - off)));
                cmdstream::fill(st.prog, b.init, off, buf.data(), buf.size());
                if (!drv.host().cpu.poke(cpu_addr(drv, st.bos[i]) + off, buf.data(), buf.size()))
                    return fail(ctx, fmt::format("writing buffer '{}'", b.name), -EIO);
            }
        }
    }
    // Command buffers: written through the BAR like a runtime does.
    for (const auto& j : st.prog.jobs) {
        st.lines.emplace_back();
        const std::vector<uint8_t> bytes = cmdstream::assemble_job(st.prog, j, st.va, &st.lines.back());
        uapi::bo_create_args cmd{bytes.size(), uapi::BO_DEVICE};
        if (int rc = dev.bo_create(cmd)) return fail(ctx, "allocating a command buffer", rc);
        st.maps.emplace_back();
        dev.bo_mmap(cmd.handle, st.maps.back());
        if (int rc = st.maps.back()->write(0, bytes.data(), bytes.size()))
            return fail(ctx, "writing a command buffer", rc);
        uapi::submit_args sub;
        sub.queue = j.queue_given ? j.queue : p.queue;
        sub.cmdbuf_handle = cmd.handle;
        sub.cmdbuf_size = static_cast<uint32_t>(bytes.size());
        sub.timeout_us = j.timeout_us;
        st.subs.push_back(sub);
    }
    return 0;
}

int cmdstream_workload::submit(workload_context& ctx, const params& p, state& st) {
    auto& dev = ctx.dev;
    auto& drv = dev.drv();
    const uint64_t timeout_ns = static_cast<uint64_t>(p.timeout_ms * 1e6);
    std::vector<size_t> pending;  // jobs submitted, not yet waited for
    std::vector<uapi::wait_args> waits(st.subs.size());
    nlohmann::json jobs = nlohmann::json::array();
    auto job_line = [&](size_t j, uint32_t off) {
        int line = 0;
        for (const auto& [o, l] : st.lines[j])
            if (o <= off) line = l;
        return line;
    };
    auto wait_all = [&]() -> int {
        for (size_t j : pending) {
            auto& w = waits[j];
            w.seq = st.subs[j].seq;
            w.timeout_ns = timeout_ns;
            if (const int rc = dev.wait(w)) {
                const auto& jd = st.prog.jobs[j];
                std::string where = fmt::format("job {} (queue {}{})", j, st.subs[j].queue,
                                                jd.line ? fmt::format(", .job at line {}", jd.line) : "");
                if (w.status != AAX_OK && rc != -ETIMEDOUT)
                    where += fmt::format(" failed at packet +{:#x} ({}:{})", w.err_offset, st.prog.file,
                                         job_line(j, w.err_offset));
                ctx.error = where + ": " + job_failure(dev, rc, w);
                return 1;
            }
        }
        pending.clear();
        return 0;
    };
    for (const auto& s : st.prog.steps) {
        if (s.kind == cmdstream::step::data) {
            if (ctx.functional &&
                !drv.host().cpu.poke(cpu_addr(drv, st.bos[s.index]) + s.offset, s.bytes.data(), s.bytes.size()))
                return fail(ctx, fmt::format("writing .data into '{}'", st.prog.buffers[s.index].name), -EIO);
        } else if (s.kind == cmdstream::step::wait) {
            if (int rc = wait_all()) return rc;
        } else {
            auto& sub = st.subs[s.index];
            if (int rc = dev.submit(sub)) {
                uapi::info_args info;
                dev.get_info(info);
                if (sub.queue >= info.queues)
                    return fail(ctx,
                                fmt::format("submitting job {}: queue {} does not exist; this device has queues 0 .. "
                                            "{} (host.driver.rings)",
                                            s.index, sub.queue, info.queues - 1),
                                rc);
                return fail(ctx, fmt::format("submitting job {} on queue {}", s.index, sub.queue), rc);
            }
            pending.push_back(s.index);
        }
    }
    if (int rc = wait_all()) return rc;
    uint64_t t0 = UINT64_MAX, t1 = 0, packets = 0;
    for (size_t j = 0; j < st.subs.size(); ++j) {
        t0 = std::min(t0, waits[j].ts_start_ns);
        t1 = std::max(t1, waits[j].ts_end_ns);
        packets += st.prog.jobs[j].packets.size();
        jobs.push_back({{"queue", st.subs[j].queue},
                        {"line", st.prog.jobs[j].line},
                        {"packets", st.prog.jobs[j].packets.size()},
                        {"start_ns", waits[j].ts_start_ns},
                        {"end_ns", waits[j].ts_end_ns},
                        {"device_ns", waits[j].ts_end_ns - waits[j].ts_start_ns}});
    }
    const double device_ns = t1 > t0 ? static_cast<double>(t1 - t0) : 0.0;
    ctx.summary["file"] = st.prog.file;
    ctx.summary["jobs"] = st.subs.size();
    ctx.summary["packets"] = packets;
    ctx.summary["device_ns"] = device_ns;
    ctx.summary["cycles"] = static_cast<uint64_t>(device_ns * ctx.soc.freq_hz() / 1e9 + 0.5);
    ctx.summary["expects"] = st.prog.expects.size();
    ctx.summary["job_list"] = jobs;
    return 0;
}

int cmdstream_workload::verify(workload_context& ctx, const params& p, state& st) {
    (void)p;
    auto& drv = ctx.dev.drv();
    if (st.prog.expects.empty()) return 0;  // nothing declared: verified stays "not applicable"
    std::vector<uint8_t> want, got;
    for (const auto& e : st.prog.expects) {
        const auto& b = st.prog.buffers[e.buf];
        if (e.spec.kind == cmdstream::value_spec::fnv64) {
            uint64_t h = 0xcbf29ce484222325ull;
            for (uint64_t off = 0; off < e.size; off += chunk_bytes) {
                got.resize(static_cast<size_t>(std::min(chunk_bytes, e.size - off)));
                if (!drv.host().cpu.peek(cpu_addr(drv, st.bos[e.buf]) + e.offset + off, got.data(), got.size()))
                    return fail(ctx, fmt::format("reading back buffer '{}'", b.name), -EIO);
                h = cmdstream::fnv64(got.data(), got.size(), h);
            }
            if (h != e.spec.value) {
                ctx.verified = false;
                ctx.error = fmt::format("{}:{}: .expect failed: {}+{:#x} ({} bytes) hashes to fnv64:{:#x}, expected "
                                        "fnv64:{:#x}",
                                        st.prog.file, e.line, b.name, e.offset, e.size, h, e.spec.value);
                return 1;
            }
            continue;
        }
        for (uint64_t off = 0; off < e.size; off += chunk_bytes) {
            const size_t n = static_cast<size_t>(std::min(chunk_bytes, e.size - off));
            want.resize(n);
            got.resize(n);
            cmdstream::fill(st.prog, e.spec, off, want.data(), n);
            if (!drv.host().cpu.peek(cpu_addr(drv, st.bos[e.buf]) + e.offset + off, got.data(), n))
                return fail(ctx, fmt::format("reading back buffer '{}'", b.name), -EIO);
            if (want != got) {
                size_t i = 0;
                while (want[i] == got[i]) ++i;
                ctx.verified = false;
                ctx.error = fmt::format("{}:{}: .expect failed: {}+{:#x} is 0x{:02x}, expected 0x{:02x}", st.prog.file,
                                        e.line, b.name, e.offset + off + i, got[i], want[i]);
                return 1;
            }
        }
    }
    ctx.verified = true;
    return 0;
}

} // namespace accelvp
