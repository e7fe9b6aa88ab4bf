#include "platform/qemu/mpqemu.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

namespace accelvp::mpqemu {

const char* cmd_name(int32_t c) {
    static const char* const names[] = {"SYNC_SYSMEM", "RET",      "PCI_CFGWRITE", "PCI_CFGREAD",
                                        "BAR_WRITE",   "BAR_READ", "SET_IRQFD",    "DEVICE_RESET"};
    return c >= 0 && c < CMD_MAX ? names[c] : "UNKNOWN";
}

namespace {
constexpr size_t hdr_size = 16;  // int32 cmd, 4 bytes padding, uint64 size

bool read_full(int fd, void* buf, size_t n, bool eof_ok_at_start) {
    auto* p = static_cast<uint8_t*>(buf);
    size_t got = 0;
    while (got < n) {
        const ssize_t r = ::read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw protocol_error(fmt::format("socket read failed: {}", std::strerror(errno)));
        if (r == 0) {
            if (got == 0 && eof_ok_at_start) return false;
            throw protocol_error(fmt::format("truncated message: {} of {} bytes", got, n));
        }
        got += static_cast<size_t>(r);
    }
    return true;
}

// Expected payload size and fd count per command.
void check(const message& m) {
    uint64_t want = 0;
    unsigned fds_min = 0, fds_max = 0;
    switch (m.cmd) {
    case SYNC_SYSMEM: want = sizeof(sync_sysmem), fds_min = 1, fds_max = max_fds; break;
    case RET: want = sizeof(uint64_t); break;
    case PCI_CFGWRITE:
    case PCI_CFGREAD: want = sizeof(pci_conf); break;
    case BAR_WRITE:
    case BAR_READ: want = sizeof(bar_access); break;
    case SET_IRQFD: want = 0, fds_min = fds_max = 2; break;
    case DEVICE_RESET: want = 0; break;
    default: throw protocol_error(fmt::format("malformed message: unknown command {}", m.cmd));
    }
    if (m.size != want)
        throw protocol_error(fmt::format("malformed message: {} with payload size {} (expected {})", cmd_name(m.cmd),
                                         m.size, want));
    if (m.fds.size() < fds_min || m.fds.size() > fds_max)
        throw protocol_error(fmt::format("malformed message: {} with {} file descriptors (expected {}{})",
                                         cmd_name(m.cmd), m.fds.size(), fds_min,
                                         fds_max != fds_min ? fmt::format("..{}", fds_max) : ""));
    if (m.cmd == PCI_CFGREAD || m.cmd == PCI_CFGWRITE) {
        const int32_t l = m.data.conf.len;
        if (l != 1 && l != 2 && l != 4)
            throw protocol_error(fmt::format("malformed message: {} of length {} (expected 1, 2 or 4)",
                                             cmd_name(m.cmd), l));
    }
    if (m.cmd == BAR_READ || m.cmd == BAR_WRITE) {
        const uint32_t s = m.data.bar.size;
        if (s != 1 && s != 2 && s != 4 && s != 8)
            throw protocol_error(fmt::format("malformed message: {} of size {} (expected 1, 2, 4 or 8)",
                                             cmd_name(m.cmd), s));
    }
}
} // namespace

bool receive(int fd, message& m) {
    uint8_t hdr[hdr_size];
    alignas(struct cmsghdr) char ctrl[CMSG_SPACE(sizeof(int) * max_fds)];
    struct iovec iov {hdr, hdr_size};
    struct msghdr mh {};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctrl;
    mh.msg_controllen = sizeof(ctrl);
    ssize_t r;
    do r = ::recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    if (r < 0) throw protocol_error(fmt::format("socket read failed: {}", std::strerror(errno)));
    if (r == 0) return false;
    m = message{};
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; ++i) {
            int f;
            std::memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            m.fds.push_back(f);
        }
    }
    auto close_fds = [&] {
        for (int f : m.fds) ::close(f);
        m.fds.clear();
    };
    try {
        if (mh.msg_flags & MSG_CTRUNC) throw protocol_error("malformed message: too many file descriptors");
        if (static_cast<size_t>(r) < hdr_size) read_full(fd, hdr + r, hdr_size - static_cast<size_t>(r), false);
        std::memcpy(&m.cmd, hdr, 4);
        std::memcpy(&m.size, hdr + 8, 8);
        if (m.cmd < 0 || m.cmd >= CMD_MAX)
            throw protocol_error(fmt::format("malformed message: unknown command {}", m.cmd));
        if (m.size > sizeof(m.data))
            throw protocol_error(fmt::format("malformed message: {} with payload size {} (at most {})",
                                             cmd_name(m.cmd), m.size, sizeof(m.data)));
        if (m.size) read_full(fd, m.data.raw, m.size, false);
        check(m);
    } catch (...) {
        close_fds();
        throw;
    }
    return true;
}

void reply(int fd, uint64_t value) {
    uint8_t buf[hdr_size + 8] = {};
    const int32_t c = RET;
    const uint64_t size = 8;
    std::memcpy(buf, &c, 4);
    std::memcpy(buf + 8, &size, 8);
    std::memcpy(buf + 16, &value, 8);
    size_t off = 0;
    while (off < sizeof(buf)) {
        const ssize_t w = ::send(fd, buf + off, sizeof(buf) - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) throw protocol_error(fmt::format("socket write failed: {}", std::strerror(errno)));
        off += static_cast<size_t>(w);
    }
}

} // namespace accelvp::mpqemu
