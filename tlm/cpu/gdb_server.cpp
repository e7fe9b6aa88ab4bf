#include "tlm/cpu/gdb_server.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "tlm/core/log.h"

namespace accelvp {

namespace {

constexpr unsigned reg_pc = 32;
constexpr unsigned reg_csr0 = 65;  // GDB's RISC-V numbering: CSR n is register 65 + n
constexpr unsigned max_packet = 0x4000;
constexpr uint32_t max_mem_chunk = 0x1000;  // bytes per m/M (the hex stays within max_packet)

// Machine-mode CSRs the target description lists (the core implements them all).
constexpr struct {
    const char* name;
    uint32_t addr;
} csrs[] = {
    {"mstatus", 0x300}, {"misa", 0x301},     {"mie", 0x304},     {"mtvec", 0x305},   {"mscratch", 0x340},
    {"mepc", 0x341},    {"mcause", 0x342},   {"mtval", 0x343},   {"mip", 0x344},     {"mcycle", 0xB00},
    {"minstret", 0xB02}, {"mcycleh", 0xB80}, {"minstreth", 0xB82}, {"mvendorid", 0xF11}, {"marchid", 0xF12},
    {"mimpid", 0xF13},  {"mhartid", 0xF14},
};

const char* const xreg_names[32] = {"zero", "ra", "sp", "gp", "tp",  "t0",  "t1", "t2", "fp", "s1", "a0",
                                    "a1",   "a2", "a3", "a4", "a5",  "a6",  "a7", "s2", "s3", "s4", "s5",
                                    "s6",   "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string to_hex(const void* data, size_t n) {
    static const char digits[] = "0123456789abcdef";
    const auto* p = static_cast<const uint8_t*>(data);
    std::string s;
    s.reserve(2 * n);
    for (size_t i = 0; i < n; ++i) {
        s += digits[p[i] >> 4];
        s += digits[p[i] & 15];
    }
    return s;
}

std::string hex_of_text(const std::string& t) { return to_hex(t.data(), t.size()); }

// Hex pairs -> bytes; false on an odd length or a bad digit.
bool from_hex(const std::string& h, std::string& out) {
    if (h.size() % 2) return false;
    out.clear();
    for (size_t i = 0; i < h.size(); i += 2) {
        const int hi = hex_digit(h[i]), lo = hex_digit(h[i + 1]);
        if (hi < 0 || lo < 0) return false;
        out += static_cast<char>(hi << 4 | lo);
    }
    return true;
}

// A 32-bit register as GDB wants it: 8 hex digits, little-endian byte order.
std::string reg_hex(uint32_t v) {
    const uint8_t b[4] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
                          static_cast<uint8_t>(v >> 24)};
    return to_hex(b, 4);
}

bool parse_reg_hex(const std::string& h, uint32_t& v) {
    std::string b;
    if (h.size() != 8 || !from_hex(h, b)) return false;
    v = 0;
    for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(b[static_cast<size_t>(i)]);
    return true;
}

// Parse a hex number at s[pos..], advancing pos; false if there is none (or it overflows 64 bits).
bool parse_num(const std::string& s, size_t& pos, uint64_t& v) {
    const size_t start = pos;
    v = 0;
    while (pos < s.size() && hex_digit(s[pos]) >= 0) {
        if (pos - start >= 16) return false;
        v = v << 4 | static_cast<uint64_t>(hex_digit(s[pos]));
        ++pos;
    }
    return pos > start;
}

bool expect(const std::string& s, size_t& pos, char c) {
    if (pos >= s.size() || s[pos] != c) return false;
    ++pos;
    return true;
}

} // namespace

gdb_server::gdb_server(rv32_core& core, uint16_t port) : core_(core) {
    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_ < 0) throw std::runtime_error(fmt::format("gdb: socket: {}", std::strerror(errno)));
    const int one = 1;
    ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // 127.0.0.1 only: the stub gives full control of the host process
    if (::bind(listen_, reinterpret_cast<const sockaddr*>(&a), sizeof a) < 0 || ::listen(listen_, 1) < 0) {
        const std::string err = std::strerror(errno);
        ::close(listen_);
        listen_ = -1;
        throw std::runtime_error(fmt::format("gdb: cannot listen on 127.0.0.1:{}: {}", port, err));
    }
    socklen_t len = sizeof a;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    core_.attach_debugger(this);
    core_.debug_break();  // wait for GDB before the first instruction
}

gdb_server::~gdb_server() {
    close_connection();
    if (listen_ >= 0) ::close(listen_);
}

bool gdb_server::accept_connection() {
    for (;;) {
        const int fd = ::accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
            const int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            conn_ = fd;
            no_ack_ = no_ack_after_reply_ = false;
            awaiting_stop_ = false;
            in_.clear();
            in_pos_ = 0;
            AVP_LOG(info, core_.name(), "gdb: connected on 127.0.0.1:{}", port_);
            return true;
        }
        if (errno != EINTR) {
            AVP_LOG(error, core_.name(), "gdb: accept: {}", std::strerror(errno));
            return false;
        }
    }
}

void gdb_server::close_connection() {
    if (conn_ >= 0) ::close(conn_);
    conn_ = -1;
}

void gdb_server::detach() {
    close_connection();
    core_.clear_breakpoints();
    core_.attach_debugger(nullptr);
}

void gdb_server::program_exited(int exit_code) {
    if (conn_ >= 0 && awaiting_stop_) send_packet(fmt::format("W{:02x}", exit_code & 0xFF));
    awaiting_stop_ = false;
    close_connection();
}

// ---------------------------------------------------------------------------------------
// Transport

int gdb_server::get_char() {
    if (in_pos_ == in_.size()) {
        in_.clear();
        in_pos_ = 0;
        if (conn_ < 0) return -1;
        char buf[4096];
        ssize_t n;
        do n = ::recv(conn_, buf, sizeof buf, 0);
        while (n < 0 && errno == EINTR);
        if (n <= 0) return -1;
        in_.assign(buf, static_cast<size_t>(n));
    }
    return static_cast<uint8_t>(in_[in_pos_++]);
}

bool gdb_server::send_raw(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::send(conn_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

bool gdb_server::read_packet(std::string& payload) {
    for (;;) {
        int c = get_char();
        if (c < 0) return false;
        if (c != '$') continue;  // acks, a stray interrupt byte while stopped: ignore
        payload.clear();
        uint8_t sum = 0;
        while ((c = get_char()) >= 0 && c != '#') {
            payload += static_cast<char>(c);
            sum = static_cast<uint8_t>(sum + c);
        }
        const int h = c < 0 ? -1 : get_char(), l = h < 0 ? -1 : get_char();
        if (l < 0) return false;
        const int got = hex_digit(static_cast<char>(h)) * 16 + hex_digit(static_cast<char>(l));
        if (no_ack_) return true;
        if (hex_digit(static_cast<char>(h)) >= 0 && hex_digit(static_cast<char>(l)) >= 0 && got == sum) {
            if (!send_raw("+")) return false;
            // Binary data (X packets) is escaped with '}': we refuse X, so nothing to undo.
            return true;
        }
        if (!send_raw("-")) return false;  // bad checksum: ask again
    }
}

bool gdb_server::send_packet(const std::string& payload) {
    uint8_t sum = 0;
    std::string frame = "$";
    for (char c : payload) {
        if (c == '$' || c == '#' || c == '}' || c == '*') {  // escape
            frame += '}';
            sum = static_cast<uint8_t>(sum + '}');
            c = static_cast<char>(c ^ 0x20);
        }
        frame += c;
        sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
    }
    frame += fmt::format("#{:02x}", sum);
    for (int attempt = 0; attempt < 16; ++attempt) {
        if (!send_raw(frame)) return false;
        if (no_ack_) return true;
        for (;;) {
            const int c = get_char();
            if (c < 0) return false;
            if (c == '+') return true;
            if (c == '-') break;  // resend
        }
    }
    return false;
}

bool gdb_server::interrupt_requested() {
    if (conn_ < 0) return false;
    pollfd p{conn_, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    char buf[256];
    const ssize_t n = ::recv(conn_, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        AVP_LOG(warn, core_.name(), "gdb: connection lost while running; the program runs on without GDB");
        detach();
        return false;
    }
    bool stop = false;
    for (ssize_t i = 0; i < n; ++i) {
        if (buf[i] == '\x03')
            stop = true;
        else
            in_ += buf[i];  // keep anything else for the packet reader
    }
    return stop;
}

// ---------------------------------------------------------------------------------------
// Run control

rv32_debugger_if::resume gdb_server::stopped(stop_reason why) {
    if (conn_ < 0) {
        if (!accept_connection()) {
            detach();
            return resume::run;
        }
    }
    signal_ = why == stop_reason::interrupt ? 2 : 5;
    watch_stop_ = why == stop_reason::watchpoint;
    if (awaiting_stop_) {
        awaiting_stop_ = false;
        if (!send_packet(stop_reply())) {
            detach();
            return resume::run;
        }
    }
    std::string pkt, reply;
    for (;;) {
        if (!read_packet(pkt)) {
            AVP_LOG(warn, core_.name(), "gdb: connection lost; the program runs on without GDB");
            detach();
            return resume::run;
        }
        reply.clear();
        const action a = handle(pkt, reply);
        switch (a) {
        case action::none:
            if (!send_packet(reply)) {
                detach();
                return resume::run;
            }
            if (no_ack_after_reply_) no_ack_ = true;
            no_ack_after_reply_ = false;
            break;
        case action::run:
        case action::step:
            awaiting_stop_ = true;
            return a == action::run ? resume::run : resume::step;
        case action::detach:
            send_packet("OK");
            detach();
            return resume::run;
        case action::kill:
            detach();
            return resume::kill;
        }
    }
}

std::string gdb_server::stop_reply() const {
    if (watch_stop_) {  // GDB reads the watched address and kind from the stop reply
        const auto& w = core_.last_watch();
        const char* kind = w.kind == rv32_core::watch_kind::write  ? "watch"
                           : w.kind == rv32_core::watch_kind::read ? "rwatch"
                                                                   : "awatch";
        return fmt::format("T{:02x}{}:{:x};thread:1;", signal_, kind, w.addr);
    }
    return fmt::format("T{:02x}thread:1;", signal_);
}

// ---------------------------------------------------------------------------------------
// Packets

bool gdb_server::read_register(unsigned n, uint32_t& v) const {
    if (n < 32) {
        v = core_.reg(n);
        return true;
    }
    if (n == reg_pc) {
        v = core_.pc();
        return true;
    }
    if (n >= reg_csr0 && n < reg_csr0 + 4096) return core_.read_csr(n - reg_csr0, v);
    return false;
}

bool gdb_server::write_register(unsigned n, uint32_t v) {
    if (n < 32) {
        core_.set_reg(n, v);  // x0 stays zero
        return true;
    }
    if (n == reg_pc) {
        core_.set_pc(v & ~1u);
        return true;
    }
    return false;  // CSRs: read-only from GDB
}

std::string gdb_server::read_memory(uint32_t addr, uint32_t len) {
    std::string data(len, '\0');
    unsigned n = core_.debug_read(addr, data.data(), len);
    if (n < len) {  // a range the bus cannot serve in one piece: byte by byte up to the first hole
        n = 0;
        while (n < len && core_.debug_read(addr + n, &data[n], 1) == 1) ++n;
    }
    data.resize(n);
    return data;
}

bool gdb_server::write_memory(uint32_t addr, const std::string& bytes) {
    const auto len = static_cast<unsigned>(bytes.size());
    if (core_.debug_write(addr, bytes.data(), len) == len) return true;
    for (unsigned i = 0; i < len; ++i)
        if (core_.debug_write(addr + i, &bytes[i], 1) != 1) return false;
    return true;
}

std::string gdb_server::target_xml() const {
    std::string x = "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n"
                    "<architecture>riscv:rv32</architecture>\n<feature name=\"org.gnu.gdb.riscv.cpu\">\n";
    for (unsigned i = 0; i < 32; ++i) {
        const char* type = i == 1 ? "code_ptr" : (i == 2 || i == 8) ? "data_ptr" : "int";
        x += fmt::format("  <reg name=\"{}\" bitsize=\"32\" type=\"{}\" regnum=\"{}\"/>\n", xreg_names[i], type, i);
    }
    x += fmt::format("  <reg name=\"pc\" bitsize=\"32\" type=\"code_ptr\" regnum=\"{}\"/>\n</feature>\n", reg_pc);
    x += "<feature name=\"org.gnu.gdb.riscv.csr\">\n";
    for (const auto& c : csrs)
        x += fmt::format("  <reg name=\"{}\" bitsize=\"32\" type=\"int\" regnum=\"{}\"/>\n", c.name, reg_csr0 + c.addr);
    x += "</feature>\n</target>\n";
    return x;
}

std::string gdb_server::monitor(const std::string& cmd) {
    std::string c = cmd;
    while (!c.empty() && (c.back() == ' ' || c.back() == '\n')) c.pop_back();
    while (!c.empty() && c.front() == ' ') c.erase(c.begin());
    if (c == "help" || c.empty())
        return "accelvp monitor commands:\n"
               "  monitor help   this list\n"
               "  monitor time   simulated time (the core's local time and the SystemC kernel's), cycles, "
               "instructions retired\n" +
               (monitor_ext_ ? monitor_ext_("help").value_or("") : std::string());
    if (c == "time") {
        const double core_ns = core_.local_time().to_seconds() * 1e9;
        const double kernel_ns = sc_core::sc_time_stamp().to_seconds() * 1e9;
        return fmt::format("simulated time: {:.3f} ns (core local time; SystemC kernel at {:.3f} ns)\n"
                           "cycles: {}, instructions retired: {}\n",
                           core_ns, kernel_ns, core_.cycles(), core_.instructions());
    }
    if (monitor_ext_)
        if (auto r = monitor_ext_(c)) return *r;
    return fmt::format("unknown monitor command '{}'; try 'monitor help'\n", c);
}

gdb_server::action gdb_server::handle(const std::string& pkt, std::string& reply) {
    if (pkt.empty()) return action::none;
    size_t pos = 1;
    uint64_t a = 0, b = 0;
    switch (pkt[0]) {
    case '?':
        reply = stop_reply();
        return action::none;
    case 'g':
        for (unsigned i = 0; i <= reg_pc; ++i) {
            uint32_t v = 0;
            read_register(i, v);
            reply += reg_hex(v);
        }
        return action::none;
    case 'G': {
        if (pkt.size() < 1 + 8 * (reg_pc + 1)) {
            reply = "E01";
            return action::none;
        }
        for (unsigned i = 0; i <= reg_pc; ++i) {
            uint32_t v = 0;
            if (!parse_reg_hex(pkt.substr(1 + 8 * i, 8), v)) {
                reply = "E01";
                return action::none;
            }
            write_register(i, v);
        }
        reply = "OK";
        return action::none;
    }
    case 'p': {
        uint32_t v = 0;
        reply = parse_num(pkt, pos, a) && a <= UINT32_MAX && read_register(static_cast<unsigned>(a), v) ? reg_hex(v)
                                                                                                     : "E01";
        return action::none;
    }
    case 'P': {
        uint32_t v = 0;
        const bool ok = parse_num(pkt, pos, a) && expect(pkt, pos, '=') && parse_reg_hex(pkt.substr(pos), v) &&
                        a <= UINT32_MAX && write_register(static_cast<unsigned>(a), v);
        reply = ok ? "OK" : "E01";
        return action::none;
    }
    case 'm': {
        if (!parse_num(pkt, pos, a) || !expect(pkt, pos, ',') || !parse_num(pkt, pos, b) || a > UINT32_MAX) {
            reply = "E01";
            return action::none;
        }
        const uint32_t len = static_cast<uint32_t>(std::min<uint64_t>({b, max_mem_chunk, (uint64_t{1} << 32) - a}));
        const std::string data = read_memory(static_cast<uint32_t>(a), len);
        reply = data.empty() && len ? "E14" : to_hex(data.data(), data.size());
        return action::none;
    }
    case 'M': {
        std::string bytes;
        const bool ok = parse_num(pkt, pos, a) && expect(pkt, pos, ',') && parse_num(pkt, pos, b) &&
                        expect(pkt, pos, ':') && from_hex(pkt.substr(pos), bytes) && bytes.size() == b &&
                        a + b <= (uint64_t{1} << 32) && write_memory(static_cast<uint32_t>(a), bytes);
        reply = ok ? "OK" : "E14";
        return action::none;
    }
    case 'Z':
    case 'z': {
        // Z0 software and Z1 hardware breakpoints are the same thing here; Z2/Z3/Z4 are
        // write/read/access watchpoints of `kind` bytes.
        if (pkt.size() < 2 || pkt[1] < '0' || pkt[1] > '4') return action::none;  // unsupported
        const char type = pkt[1];
        uint64_t len = 1;
        pos = 2;
        if (!expect(pkt, pos, ',') || !parse_num(pkt, pos, a) || a > UINT32_MAX ||
            (type >= '2' && (!expect(pkt, pos, ',') || !parse_num(pkt, pos, len) || len == 0 || len > 4096))) {
            reply = "E01";
            return action::none;
        }
        const bool add = pkt[0] == 'Z';
        if (type <= '1') {
            if (add) core_.add_breakpoint(static_cast<uint32_t>(a));
            else core_.remove_breakpoint(static_cast<uint32_t>(a));
        } else {
            const auto kind = type == '2'   ? rv32_core::watch_kind::write
                              : type == '3' ? rv32_core::watch_kind::read
                                            : rv32_core::watch_kind::access;
            if (add) core_.add_watchpoint(static_cast<uint32_t>(a), static_cast<uint32_t>(len), kind);
            else core_.remove_watchpoint(static_cast<uint32_t>(a), static_cast<uint32_t>(len), kind);
        }
        reply = "OK";
        return action::none;
    }
    case 'c':
    case 's':
        if (parse_num(pkt, pos, a)) core_.set_pc(static_cast<uint32_t>(a) & ~1u);  // resume at an address
        return pkt[0] == 'c' ? action::run : action::step;
    case 'D':
        return action::detach;
    case 'k':
        return action::kill;
    case 'H':
    case 'T':  // thread selection / is the thread alive: there is one thread
        reply = "OK";
        return action::none;
    default:
        break;
    }
    if (pkt.rfind("qSupported", 0) == 0) {
        reply = fmt::format("PacketSize={:x};qXfer:features:read+;QStartNoAckMode+", max_packet);
    } else if (pkt == "QStartNoAckMode") {
        reply = "OK";  // still acknowledged; from then on neither side acks
        no_ack_after_reply_ = true;
    } else if (pkt == "qAttached") {
        reply = "1";  // attached to a running program: GDB detaches (not kills) when it quits
    } else if (pkt == "qC") {
        reply = "QC1";
    } else if (pkt == "qfThreadInfo") {
        reply = "m1";
    } else if (pkt == "qsThreadInfo") {
        reply = "l";
    } else if (pkt.rfind("qXfer:features:read:", 0) == 0) {
        pos = pkt.find(':', 20);
        const std::string annex = pkt.substr(20, pos == std::string::npos ? std::string::npos : pos - 20);
        if (annex != "target.xml" || pos == std::string::npos) {
            reply = "E00";
            return action::none;
        }
        ++pos;
        if (!parse_num(pkt, pos, a) || !expect(pkt, pos, ',') || !parse_num(pkt, pos, b)) {
            reply = "E01";
            return action::none;
        }
        const std::string xml = target_xml();
        if (a >= xml.size()) {
            reply = "l";
        } else {
            const size_t n = std::min<uint64_t>({b, xml.size() - a, max_packet / 2});
            reply = (a + n >= xml.size() ? "l" : "m") + xml.substr(a, n);
        }
    } else if (pkt.rfind("qRcmd,", 0) == 0) {
        std::string cmd;
        if (!from_hex(pkt.substr(6), cmd)) {
            reply = "E01";
            return action::none;
        }
        const std::string out = monitor(cmd);
        if (!send_packet("O" + hex_of_text(out))) return action::detach;
        reply = "OK";
    }
    // Anything else (vCont?, vMustReplyEmpty, qOffsets, qSymbol, qTStatus, X, watchpoints...):
    // the empty reply says "not supported".
    return action::none;
}

} // namespace accelvp
