// QEMU multi-process proxy messages (platform/qemu/mpqemu.h): framing, file descriptors,
// and the malformed messages that must end a run with an error naming them.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "platform/qemu/mpqemu.h"
#include "platform/qemu/qemu_board.h"
#include "platform/sim/simulation.h"
#include "tlm/core/log.h"

using namespace accelvp;

namespace {
struct pair_fds {
    int a = -1, b = -1;
    pair_fds() {
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        a = sv[0];
        b = sv[1];
    }
    ~pair_fds() {
        ::close(a);
        if (b >= 0) ::close(b);
    }
};

// Sends header + payload in one sendmsg, with fds as SCM_RIGHTS (as QEMU does).
void send_msg(int fd, int32_t cmd, const void* payload, uint64_t size, const std::vector<int>& fds = {}) {
    std::vector<uint8_t> buf(16 + size, 0);
    std::memcpy(buf.data(), &cmd, 4);
    std::memcpy(buf.data() + 8, &size, 8);
    if (size) std::memcpy(buf.data() + 16, payload, size);
    struct iovec iov {buf.data(), buf.size()};
    struct msghdr mh {};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    alignas(struct cmsghdr) char ctrl[CMSG_SPACE(sizeof(int) * 8)] = {};
    if (!fds.empty()) {
        mh.msg_control = ctrl;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    REQUIRE(::sendmsg(fd, &mh, 0) == static_cast<ssize_t>(buf.size()));
}

std::string error_of(int fd) {
    mpqemu::message m;
    try {
        mpqemu::receive(fd, m);
    } catch (const mpqemu::protocol_error& e) {
        return e.what();
    }
    return "";
}
} // namespace

TEST_CASE("mpqemu: config and BAR messages parse; RET replies carry 64 bits", "[qemu][mpqemu]") {
    pair_fds p;
    mpqemu::pci_conf c{0x10, 0xFFFFFFFFu, 4};
    send_msg(p.b, mpqemu::PCI_CFGWRITE, &c, sizeof(c));
    mpqemu::bar_access b{};
    b.addr = 0xC0000030;
    b.size = 4;
    b.memory = 1;
    send_msg(p.b, mpqemu::BAR_READ, &b, sizeof(b));
    send_msg(p.b, mpqemu::DEVICE_RESET, nullptr, 0);
    mpqemu::message m;
    REQUIRE(mpqemu::receive(p.a, m));
    CHECK(m.cmd == mpqemu::PCI_CFGWRITE);
    CHECK(m.data.conf.addr == 0x10);
    CHECK(m.data.conf.val == 0xFFFFFFFFu);
    CHECK(m.data.conf.len == 4);
    REQUIRE(mpqemu::receive(p.a, m));
    CHECK(m.cmd == mpqemu::BAR_READ);
    CHECK(m.data.bar.addr == 0xC0000030u);
    CHECK(m.data.bar.size == 4);
    REQUIRE(mpqemu::receive(p.a, m));
    CHECK(m.cmd == mpqemu::DEVICE_RESET);
    mpqemu::reply(p.a, 0x1122334455667788ull);
    uint8_t r[24];
    REQUIRE(::read(p.b, r, sizeof(r)) == 24);
    int32_t cmd;
    uint64_t size, val;
    std::memcpy(&cmd, r, 4);
    std::memcpy(&size, r + 8, 8);
    std::memcpy(&val, r + 16, 8);
    CHECK(cmd == mpqemu::RET);
    CHECK(size == 8);
    CHECK(val == 0x1122334455667788ull);
    ::close(p.b);
    p.b = -1;
    CHECK_FALSE(mpqemu::receive(p.a, m));  // clean end of stream
}

TEST_CASE("mpqemu: SYNC_SYSMEM and SET_IRQFD bring their file descriptors", "[qemu][mpqemu]") {
    pair_fds p;
    int ev[2];
    REQUIRE(::pipe(ev) == 0);
    mpqemu::sync_sysmem s{};
    s.gpas[0] = 0;
    s.sizes[0] = 1 << 20;
    send_msg(p.b, mpqemu::SYNC_SYSMEM, &s, sizeof(s), {ev[0]});
    send_msg(p.b, mpqemu::SET_IRQFD, nullptr, 0, {ev[0], ev[1]});
    mpqemu::message m;
    REQUIRE(mpqemu::receive(p.a, m));
    CHECK(m.cmd == mpqemu::SYNC_SYSMEM);
    REQUIRE(m.fds.size() == 1);
    CHECK(m.data.sysmem.sizes[0] == (1u << 20));
    for (int f : m.fds) ::close(f);
    REQUIRE(mpqemu::receive(p.a, m));
    CHECK(m.cmd == mpqemu::SET_IRQFD);
    CHECK(m.fds.size() == 2);
    for (int f : m.fds) ::close(f);
    ::close(ev[0]);
    ::close(ev[1]);
}

TEST_CASE("mpqemu: malformed messages are errors naming the message", "[qemu][mpqemu]") {
    {
        pair_fds p;
        uint8_t junk[16] = {};
        send_msg(p.b, mpqemu::BAR_READ, junk, sizeof(junk));
        CHECK(error_of(p.a) == "malformed message: BAR_READ with payload size 16 (expected 24)");
    }
    {
        pair_fds p;
        send_msg(p.b, 42, nullptr, 0);
        CHECK(error_of(p.a) == "malformed message: unknown command 42");
    }
    {
        pair_fds p;
        send_msg(p.b, mpqemu::SET_IRQFD, nullptr, 0);
        CHECK(error_of(p.a) == "malformed message: SET_IRQFD with 0 file descriptors (expected 2)");
    }
    {
        pair_fds p;
        mpqemu::pci_conf c{0, 0, 3};
        send_msg(p.b, mpqemu::PCI_CFGREAD, &c, sizeof(c));
        CHECK(error_of(p.a) == "malformed message: PCI_CFGREAD of length 3 (expected 1, 2 or 4)");
    }
    {
        pair_fds p;
        mpqemu::bar_access b{};
        b.size = 16;
        send_msg(p.b, mpqemu::BAR_WRITE, &b, sizeof(b));
        CHECK(error_of(p.a) == "malformed message: BAR_WRITE of size 16 (expected 1, 2, 4 or 8)");
    }
    {
        pair_fds p;
        uint8_t big[8] = {};
        send_msg(p.b, mpqemu::PCI_CFGREAD, big, 0);  // header claims 0: wrong for the command
        CHECK(error_of(p.a) == "malformed message: PCI_CFGREAD with payload size 0 (expected 12)");
    }
    {
        pair_fds p;  // header says 24 bytes follow, 4 arrive, then the peer closes
        uint8_t buf[20] = {};
        const int32_t cmd = mpqemu::BAR_WRITE;
        const uint64_t size = 24;
        std::memcpy(buf, &cmd, 4);
        std::memcpy(buf + 8, &size, 8);
        REQUIRE(::write(p.b, buf, sizeof(buf)) == 20);
        ::close(p.b);
        p.b = -1;
        CHECK(error_of(p.a) == "truncated message: 4 of 24 bytes");
    }
}

// Found by fuzz_qemu_bridge (seed dma_past_memfd): a SYNC_SYSMEM region larger than what its
// file holds was mapped as announced, and the first device access past the file's end
// killed the simulator with SIGBUS. Such a region is now refused (an error naming it); the
// device's access there is an address error (a recorded device error), not a signal.
TEST_CASE("qemu: a SYNC_SYSMEM region past the end of its memfd is refused, not mapped", "[qemu][mpqemu]") {
    const param_schema schema = build_schema("");
    run_options o;
    o.config = "edge";
    o.overrides = {"cpu.enabled=false"};
    const config cfg = load_config(schema, o);
    set_log_level(log_level::error);
    pair_fds p;
    qemu_dev::qemu_board top("qemu_board", cfg, p.a);
    const int fd = ::memfd_create("guest-ram", 0);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, 1 << 20) == 0);
    mpqemu::message m;
    m.cmd = mpqemu::SYNC_SYSMEM;
    m.size = sizeof(mpqemu::sync_sysmem);
    m.data.sysmem.gpas[0] = 0;
    m.data.sysmem.sizes[0] = 1 << 20;  // the whole file: mapped
    m.data.sysmem.gpas[1] = 1 << 30;
    m.data.sysmem.sizes[1] = 16 << 20;  // 16 MiB of a 1 MiB file: refused
    m.data.sysmem.gpas[2] = 2 << 30;
    m.data.sysmem.sizes[2] = 4096;
    m.data.sysmem.offsets[2] = 1 << 20;  // starts at the file's end: refused
    m.data.sysmem.gpas[3] = 3ull << 30;
    m.data.sysmem.sizes[3] = 4096;
    m.data.sysmem.offsets[3] = -4096;  // negative offset: refused
    for (int i = 0; i < 4; ++i) m.fds.push_back(::dup(fd));
    ::close(fd);
    REQUIRE(top.handle(m));
    CHECK(m.fds.empty());  // taken (and closed) by the board
    CHECK(top.ram.mapped_regions() == 1);
    CHECK(top.ram.mapped(0, 1 << 20));
    CHECK_FALSE(top.ram.mapped((1 << 30) + (2 << 20), 8));  // where the SIGBUS was
    CHECK_FALSE(top.ram.mapped(1 << 30, 8));
}
