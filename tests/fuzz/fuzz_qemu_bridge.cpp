// libFuzzer target: QEMU multi-process proxy messages (platform/qemu/mpqemu.h) into the
// device side of `accelvp qemu` (platform/qemu/qemu_board.h), without QEMU.
//
// The board (chip + guest RAM + dispatcher) is elaborated once per process. Per input a
// fresh socket pair is put in place of the board's socket (dup2 on the same descriptor);
// the input is cut into messages, each sent with one sendmsg as QEMU does:
//   1 control byte   bits 0-1: how many file descriptors ride along (SCM_RIGHTS), 0..3;
//                    bits 2-3: which kind: a 1 MiB memfd (guest RAM), an eventfd, a pipe's
//                    read end, /dev/null (the last three cannot be mapped: bad SYNC_SYSMEM fds)
//   16-byte header   int32 command, 4 bytes padding, uint64 payload size (as QEMU sends it)
//   payload          `size` bytes, or what is left of the input (a truncated message)
// then the sending side is shut down. The loop receives and dispatches every message as
// run_qemu() does, runs the simulation while BAR accesses are in flight, and stops at the
// end of the stream, at the first protocol error (the run would end there with that
// message) or when the guest resets the device after using it. A finding: a crash, a
// sanitizer report, an exception other than mpqemu::protocol_error, a BAR access still in
// flight after 10 ms of simulated time, or a protocol_error with an empty message.
// Between inputs the device is soft-reset (AAX_REG_RESET), its config space cleared and
// guest RAM unmapped, so one input does not change the next one's start.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sanitizer/lsan_interface.h>
#include <systemc>

#include "abi/aax_encode.h"
#include "abi/aax_queue.h"
#include "abi/aax_regs.h"
#include "platform/qemu/mpqemu.h"
#include "platform/qemu/qemu_board.h"
#include "platform/sim/simulation.h"
#include "tlm/core/log.h"

using namespace accelvp;

int sc_main(int, char**) { return 0; }  // libsystemc wants one; libFuzzer's main runs

namespace {

[[noreturn]] void finding(const std::string& what) {
    std::fprintf(stderr, "fuzz_qemu_bridge: FINDING: %s\n", what.c_str());
    std::fflush(stderr);
    std::abort();
}

qemu_dev::qemu_board* top = nullptr;
int board_fd = -1;  // the descriptor the board reads and answers on
int pool[4] = {-1, -1, -1, -1};  // memfd, eventfd, pipe read end, /dev/null
constexpr uint32_t BAR0_ADDR = 0xC0000000u, BAR2_ADDR = 0x80000000u;

void send_chunk(int fd, const uint8_t* p, size_t n, unsigned nfds, unsigned kind) {
    struct iovec iov {const_cast<uint8_t*>(p), n};
    struct msghdr mh {};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    alignas(struct cmsghdr) char ctrl[CMSG_SPACE(sizeof(int) * 3)] = {};
    if (nfds) {
        int fds[3];
        for (unsigned i = 0; i < nfds; ++i) fds[i] = pool[kind];
        mh.msg_control = ctrl;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        std::memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    if (::sendmsg(fd, &mh, MSG_NOSIGNAL) != static_cast<ssize_t>(n)) finding("sendmsg to the socket pair failed");
}

// Between inputs: the device as after power-up, as far as messages can change it.
void reset_board() {
    using namespace tlm;
    if (top->busy()) finding("a BAR access is still in flight at the end of an input");
    uint32_t soft = AAX_RESET_SOFT;
    tlm_generic_payload t;
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    init_payload(t, TLM_WRITE_COMMAND, AAX_REG_RESET, &soft, 4);
    top->bar0->b_transport(t, d);
    for (uint32_t off : {0x04u, 0x10u, 0x14u, 0x18u, 0x1Cu, 0x20u, 0x24u, 0x3Cu})
        top->soc.pcie.cfg_write(off, off == 0x04 ? 2 : 4, 0);
    top->soc.pcie.cfg_write(pci_config::msix_cap + 2, 2, 0);
    std::vector<int> none;
    top->ram.set_regions(mpqemu::sync_sysmem{}, none);
    top->new_session();
    sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_US));
}

// Valid messages: the start-up sequence QEMU and the guest's driver produce, and the
// malformed ones of tests/platform/test_mpqemu.cpp.
void write_seeds(const std::string& dir) {
    struct msg {
        uint8_t ctl;
        int32_t cmd;
        std::vector<uint8_t> payload;
    };
    auto pl = [](const auto& v) {
        std::vector<uint8_t> b(sizeof(v));
        std::memcpy(b.data(), &v, sizeof(v));
        return b;
    };
    auto cfg = [&](int32_t c, uint32_t addr, uint32_t val, int32_t len) {
        return msg{0, c, pl(mpqemu::pci_conf{addr, val, len})};
    };
    auto bar = [&](int32_t c, uint64_t addr, uint64_t val, uint32_t size) {
        mpqemu::bar_access b{};
        b.addr = addr;
        b.val = val;
        b.size = size;
        b.memory = 1;
        return msg{0, c, pl(b)};
    };
    auto put = [&](const std::string& name, const std::vector<msg>& ms) {
        std::ofstream f(dir + "/" + name, std::ios::binary);
        for (const msg& m : ms) {
            f.put(static_cast<char>(m.ctl));
            uint8_t h[16] = {};
            const uint64_t size = m.payload.size();
            std::memcpy(h, &m.cmd, 4);
            std::memcpy(h + 8, &size, 8);
            f.write(reinterpret_cast<const char*>(h), 16);
            f.write(reinterpret_cast<const char*>(m.payload.data()), static_cast<std::streamsize>(size));
        }
    };
    using namespace mpqemu;
    sync_sysmem s{};
    s.sizes[0] = 1 << 20;
    const std::vector<msg> boot = {
        {0, DEVICE_RESET, {}},
        {1, SYNC_SYSMEM, pl(s)},    // one memfd region at gpa 0
        {2 | 4, SET_IRQFD, {}},     // two eventfds
        cfg(PCI_CFGREAD, 0x00, 0, 4),
        cfg(PCI_CFGWRITE, 0x10, 0xFFFFFFFFu, 4),  // BAR sizing
        cfg(PCI_CFGREAD, 0x10, 0, 4),
        cfg(PCI_CFGWRITE, 0x10, BAR0_ADDR, 4),
        cfg(PCI_CFGWRITE, 0x18, BAR2_ADDR, 4),
        cfg(PCI_CFGWRITE, 0x04, 0x6, 2),  // memory space + bus master
        bar(BAR_READ, BAR0_ADDR + AAX_REG_ID, 0, 4),
        bar(BAR_WRITE, BAR0_ADDR + AAX_REG_SCRATCH, 0x5A5AA5A5u, 4),
        bar(BAR_READ, BAR0_ADDR + AAX_REG_SCRATCH, 0, 4),
        bar(BAR_WRITE, BAR2_ADDR + 0x1000, 0x1122334455667788ull, 8),
        bar(BAR_READ, BAR2_ADDR + 0x1000, 0, 8),
        bar(BAR_READ, BAR2_ADDR + 0x1004, 0, 2),
    };
    put("boot", boot);
    std::vector<msg> ring = boot;
    // Then the guest uses the device and resets it: the run ends there.
    for (const msg& m : {bar(BAR_WRITE, BAR0_ADDR + AAX_RING_BASE(0) + AAX_RING_CTRL, 1, 4),
                         bar(BAR_WRITE, BAR0_ADDR + AAX_REG_IRQ_MASK, 0, 4), {0, DEVICE_RESET, {}}})
        ring.push_back(m);
    put("ring_reset", ring);
    // The guest's driver sets up ring 0 and CQ 0 and runs one job: a DMA fill of guest RAM
    // at gpa 0x1000 (device bus address host window + gpa), 64 bytes.
    auto dma_job = [&](uint64_t gpa) {
        const uint64_t win = 1ull << 48, ring = 0x10000, cmd = 0x20000;
        std::vector<msg> v;
        auto w32 = [&](uint32_t off, uint32_t val) { v.push_back(bar(BAR_WRITE, BAR0_ADDR + off, val, 4)); };
        auto dev = [&](uint64_t off, const void* p, size_t n) {
            for (size_t i = 0; i < n; i += 8) {
                uint64_t q = 0;
                std::memcpy(&q, static_cast<const uint8_t*>(p) + i, std::min<size_t>(8, n - i));
                v.push_back(bar(BAR_WRITE, BAR2_ADDR + off + i, q, 8));
            }
        };
        const aax_pkt_dma fill = aax_make_fill(win + gpa, 64, 1, 0, 0xA5A5A5A5u);
        dev(cmd, &fill, sizeof(fill));
        aax_job_desc d{};
        d.cmdbuf_addr = cmd;
        d.cmdbuf_size = sizeof(fill);
        d.job_id = 1;
        dev(ring, &d, sizeof(d));
        w32(AAX_CQ_BASE(0) + AAX_CQ_BASE_HI, static_cast<uint32_t>((win + 0x8000) >> 32));
        w32(AAX_CQ_BASE(0) + AAX_CQ_BASE_LO, static_cast<uint32_t>(win + 0x8000));
        w32(AAX_CQ_BASE(0) + AAX_CQ_SIZE_LOG2, 4);
        w32(AAX_CQ_BASE(0) + AAX_CQ_CTRL, AAX_CQ_CTRL_EN);
        w32(AAX_RING_BASE(0) + AAX_RING_BASE_LO, static_cast<uint32_t>(ring));
        w32(AAX_RING_BASE(0) + AAX_RING_SIZE_LOG2, 4);
        w32(AAX_RING_BASE(0) + AAX_RING_CTRL, AAX_RING_CTRL_EN);
        w32(AAX_DOORBELL(0), 1);
        v.push_back(bar(BAR_READ, BAR0_ADDR + AAX_RING_BASE(0) + AAX_RING_STATUS, 0, 4));
        return v;
    };
    {
        std::vector<msg> v = boot;
        for (const msg& m : dma_job(0x1000)) v.push_back(m);
        put("dma_to_guest", v);
        // The same with a region that claims 16 MiB of the 1 MiB memfd, and the fill at 2 MiB.
        sync_sysmem big16{};
        big16.sizes[0] = 16 << 20;
        v = {{1, SYNC_SYSMEM, pl(big16)}};
        for (size_t i = 3; i < boot.size(); ++i) v.push_back(boot[i]);
        for (const msg& m : dma_job(2 << 20)) v.push_back(m);
        put("dma_past_memfd", v);
    }
    put("bad_fds", {{1 | 8, SYNC_SYSMEM, pl(s)}, {1 | 12, SYNC_SYSMEM, pl(s)}, {3 | 4, SYNC_SYSMEM, pl(s)},
                    {2 | 8, SET_IRQFD, {}}, cfg(PCI_CFGREAD, 0, 0, 4)});
    sync_sysmem big{};
    big.sizes[0] = 1ull << 40;
    big.offsets[0] = -4096;
    put("sysmem_sizes", {{1, SYNC_SYSMEM, pl(big)}, {0, SYNC_SYSMEM, pl(s)}});
    put("malformed", {{0, BAR_READ, std::vector<uint8_t>(16)}, {0, 42, {}}});
    put("cfg_len", {cfg(PCI_CFGREAD, 0, 0, 3)});
    put("ret", {{0, RET, std::vector<uint8_t>(8)}});
    put("truncated", {{0, BAR_WRITE, std::vector<uint8_t>(24)}});
    std::printf("fuzz_qemu_bridge: seeds written to %s\n", dir.c_str());
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
    setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 1);
    sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    static const param_schema schema = build_schema("");
    run_options o;
    o.config = "edge";
    // As run_qemu() sets it up (a 32-bit 256 MiB BAR2), with the hardware scheduler: no
    // firmware to boot, so every input starts from the same device. 16 semaphores (as
    // fuzz_cmdbuf): the soft reset between inputs walks every semaphore register, which
    // with the preset's count was a tenth of the time per input.
    o.overrides = {"cpu.enabled=false", "pcie.bar2_64bit=false", "pcie.bar2_size=268435456", "mem.size=268435456",
                   "sync.count=16", "sim.log_level=error"};
    static const config cfg = load_config(schema, o);
    set_log_level(log_level::error);
    __lsan_disable();  // the board, allocated once (also from SystemC's coroutine stacks)
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) finding("socketpair");
    board_fd = sv[0];
    ::close(sv[1]);
    top = new qemu_dev::qemu_board("qemu_board", cfg, board_fd);  // never destroyed
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
    __lsan_enable();
    pool[0] = ::memfd_create("guest-ram", MFD_CLOEXEC);
    if (pool[0] < 0 || ::ftruncate(pool[0], 1 << 20) != 0) finding("memfd");
    pool[1] = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) finding("pipe");
    pool[2] = p[0];
    pool[3] = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int i = 1; i < *argc; ++i) {
        const std::string a = (*argv)[i];
        if (a.rfind("-seed_corpus=", 0) == 0) {
            write_seeds(a.substr(13));
            std::exit(0);
        }
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) finding("socketpair");
    if (::dup2(sv[0], board_fd) < 0) finding("dup2");
    ::close(sv[0]);
    const int peer = sv[1];
    size_t i = 0;
    while (i < size) {
        const uint8_t ctl = data[i++];
        const size_t hdr = std::min<size_t>(16, size - i);
        uint64_t len = 0;
        if (hdr == 16) std::memcpy(&len, data + i + 8, 8);
        const size_t n = hdr + static_cast<size_t>(std::min<uint64_t>(len, size - i - hdr));
        if (n == 0) break;
        send_chunk(peer, data + i, n, ctl & 3, (ctl >> 2) & 3);
        i += n;
    }
    ::shutdown(peer, SHUT_WR);
    for (;;) {
        mpqemu::message m;
        try {
            if (!mpqemu::receive(board_fd, m)) break;  // end of the stream
            const bool go_on = top->handle(m);
            for (int f : m.fds) ::close(f);
            m.fds.clear();
            // BAR accesses run in simulated time; 10 ms without an answer is a hang.
            for (int step = 0; top->busy(); ++step) {
                if (step == 10000) finding("a BAR access took more than 10 ms of simulated time");
                sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_US));
            }
            if (!go_on) break;  // the guest reset the device after using it: the run ends
        } catch (const mpqemu::protocol_error& e) {
            for (int f : m.fds) ::close(f);
            if (std::strlen(e.what()) == 0) finding("a protocol error without a message");
            break;  // the run ends with this error
        }
    }
    if (!top->error.empty()) top->error.clear();  // a reply the closed peer did not take
    ::close(peer);
    reset_board();
    return 0;
}
