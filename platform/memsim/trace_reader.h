// The memsim trace parser (docs/memory.md): '<hex address> <READ|WRITE> <cycle>' lines,
// streamed in 4 MiB chunks. Separate from memsim.cpp so the fuzz target (tests/fuzz)
// builds it without SystemC.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <sys/stat.h>

#include "tlm/core/config.h"

namespace accelvp {

// Streaming reader of trace lines, in large chunks (the trace can be GBs).
class trace_reader {
public:
    explicit trace_reader(const std::string& path)
        : path_(path), f_(std::fopen(path.c_str(), "rb")), own_(true), buffer_bytes_(default_buffer_bytes) {
        if (!f_) throw config_error("usage error: cannot read trace file '" + path + "'");
        struct stat st;
        if (fstat(fileno(f_), &st) == 0 && S_ISDIR(st.st_mode)) {
            std::fclose(f_);
            f_ = nullptr;
            throw config_error("usage error: trace file '" + path + "' is a directory; --trace takes a file");
        }
        init();
    }
    // Reads an open stream (not closed here); `name` names it in messages. The buffer is
    // also the longest line.
    trace_reader(std::FILE* f, const std::string& name, size_t buffer_bytes = default_buffer_bytes)
        : path_(name), f_(f), own_(false), buffer_bytes_(std::max<size_t>(buffer_bytes, 64)) {
        init();
    }
    static constexpr size_t default_buffer_bytes = size_t{1} << 22;
    void init() {
        buf_.resize(buffer_bytes_);
        for (unsigned i = 0; i < 256; ++i)
            hex_[i] = static_cast<uint8_t>(i >= '0' && i <= '9'   ? i - '0'
                                           : i >= 'a' && i <= 'f' ? i - 'a' + 10
                                           : i >= 'A' && i <= 'F' ? i - 'A' + 10
                                                                  : 255);
    }
    ~trace_reader() {
        if (f_ && own_) std::fclose(f_);
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
        if (end_ == buf_.size()) {  // one line fills the buffer: no request is that long
            ++line_;
            throw config_error(fmt::format("trace error: {}:{}: line longer than {} bytes", path_, line_,
                                           buffer_bytes_));
        }
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
    bool own_;
    size_t buffer_bytes_;
    uint8_t hex_[256];
    std::vector<char> buf_;
    size_t pos_ = 0, end_ = 0, safe_ = 0;
    bool eof_ = false;
    uint64_t line_ = 0;
};

} // namespace accelvp
