#include "platform/qemu/qemu_bridge.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <iostream>
#include <memory>

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <systemc>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/passthrough_target_socket.h>

#include "abi/aax_queue.h"
#include "abi/aax_regs.h"
#include "platform/chip/chip.h"
#include "platform/host/capture.h"
#include "platform/host/driver.h"
#include "platform/host/host_system.h"
#include "platform/qemu/mpqemu.h"
#include "platform/qemu/qemu_board.h"
#include "platform/qemu/qemu_vfs.h"
#include "platform/workloads/cmdstream.h"
#include "tlm/core/extensions.h"
#include "tlm/cpu/gdb_server.h"
#include "tlm/core/log.h"
#include "tlm/core/stats.h"
#include "tlm/core/timeline.h"
#include "tlm/core/keys.h"

namespace accelvp {

namespace {
using qemu_dev::qemu_board;

// The ivshmem server protocol (QEMU docs/specs/ivshmem-spec.rst): little-endian int64
// messages, an fd attached with SCM_RIGHTS: version 0, the client's id, -1 with the shared
// memory, then (id, eventfd) per interrupt vector of that id. One client (QEMU), id 0,
// one vector, 1 MiB of shared memory nobody uses. Returns our end of the vector's eventfd.
int serve_ivshmem(int sock) {
    auto send = [sock](int64_t v, int fd) {
        struct msghdr mh {};
        struct iovec iov {&v, sizeof(v)};
        alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        if (fd >= 0) {
            mh.msg_control = ctl;
            mh.msg_controllen = sizeof(ctl);
            struct cmsghdr* c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        if (::sendmsg(sock, &mh, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof(v)))
            throw std::runtime_error(fmt::format("ivshmem server: sendmsg: {}", std::strerror(errno)));
    };
    const int shm = ::memfd_create("accelvp-ivshmem", MFD_CLOEXEC);
    if (shm < 0 || ::ftruncate(shm, 1 << 20) != 0)
        throw std::runtime_error(fmt::format("ivshmem server: memfd: {}", std::strerror(errno)));
    const int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) throw std::runtime_error(fmt::format("ivshmem server: eventfd: {}", std::strerror(errno)));
    send(0, -1);   // protocol version
    send(0, -1);   // the client's id
    send(-1, shm); // shared memory
    send(0, efd);  // vector 0 of client 0: QEMU raises MSI-X vector 0 when it is signalled
    ::close(shm);
    return efd;
}

// accelvp qemu --capture: what the VP sees of the guest driver's submissions. At each
// doorbell, before the chip sees it, the ring's new slots (descriptors in device memory or
// guest RAM), their command buffers and the buffers those name are read with debugger
// accesses; the completion queues are watched for the records the device writes (job_id,
// status, timestamps), and the job's buffers are read again then. Nothing here takes
// simulated time.
class guest_capture {
public:
    guest_capture(qemu_board& b, uint64_t max_jobs) : b_(b), rec_(true), max_jobs_(max_jobs) {
        rd_ = [this](uint64_t a, uint8_t* p, size_t n) { return b_.bus_peek(a, p, n); };
        b_.on_doorbell = [this](unsigned r, uint32_t tail) { doorbell(r, tail); };
        b_.ram.on_write = [this](uint64_t gpa, uint64_t n) { written(gpa, n); };
    }
    ~guest_capture() {
        b_.on_doorbell = nullptr;
        b_.ram.on_write = nullptr;
    }
    capture_recorder& recorder() { return rec_; }

private:
    uint32_t reg(uint32_t off) { return b_.reg_peek(off); }
    uint64_t reg64(uint32_t lo) { return reg(lo) | static_cast<uint64_t>(reg(lo + 4)) << 32; }
    void doorbell(unsigned r, uint32_t tail) {
        if (r >= AAX_MAX_RINGS) return;
        const uint32_t rb = AAX_RING_BASE(r);
        const uint32_t log2 = reg(rb + AAX_RING_SIZE_LOG2);
        if (log2 < 1 || log2 > 16) return;
        const uint32_t n = 1u << log2;
        const uint32_t old = reg(rb + AAX_RING_TAIL);
        if (tail >= n || old >= n) return;  // the device refuses it: nothing runs
        // The ring's completion queue: watched from now on (records land in guest RAM).
        const uint32_t c = (reg(rb + AAX_RING_CTRL) & AAX_RING_CTRL_CQ_MASK) >> AAX_RING_CTRL_CQ_SHIFT;
        if (c < AAX_MAX_RINGS) {
            const uint32_t cl = reg(AAX_CQ_BASE(c) + AAX_CQ_SIZE_LOG2);
            const uint64_t base = reg64(AAX_CQ_BASE(c) + AAX_CQ_BASE_LO);
            if (cl >= 1 && cl <= 16 && base >= b_.soc.host_window_base())
                cqs_[c] = {base - b_.soc.host_window_base(), uint64_t{AAX_CQ_ENTRY_SIZE} << cl};
        }
        const uint64_t ring = reg64(rb + AAX_RING_BASE_LO);
        for (uint32_t s = old; s != tail; s = (s + 1) % n) {
            if (max_jobs_ && rec_.bus_jobs() >= max_jobs_) return;
            aax_job_desc d{};
            if (!b_.bus_peek(ring + uint64_t{s} * AAX_JOB_DESC_SIZE, reinterpret_cast<uint8_t*>(&d), sizeof d)) return;
            rec_.bus_job(rd_, r, d.cmdbuf_addr, d.cmdbuf_size, d.flags, d.timeout_us, d.asid, d.job_id);
        }
    }
    // A completion record is complete when its word 1 (ring, status, flags with PHASE) is
    // written: the firmware writes it last, the hardware scheduler all 32 bytes at once.
    void written(uint64_t gpa, uint64_t n) {
        for (const auto& [c, q] : cqs_) {
            const auto [base, size] = q;
            if (gpa + n <= base || gpa >= base + size) continue;
            const uint64_t first = (std::max(gpa, base) - base) / AAX_CQ_ENTRY_SIZE;
            const uint64_t last = (std::min(gpa + n, base + size) - 1 - base) / AAX_CQ_ENTRY_SIZE;
            for (uint64_t e = first; e <= last; ++e) {
                const uint64_t w1 = base + e * AAX_CQ_ENTRY_SIZE + 4;
                if (w1 < gpa || w1 >= gpa + n) continue;
                aax_cq_entry ce{};
                if (!b_.ram.peek(base + e * AAX_CQ_ENTRY_SIZE, &ce, sizeof ce)) continue;
                const bool ts = ce.flags & AAX_CQE_TS_VALID;
                rec_.bus_complete(rd_, ce.ring, ce.job_id, ce.status, ts ? ce.ts_start : 0, ts ? ce.ts_end : 0);
            }
        }
    }

    qemu_board& b_;
    capture_recorder rec_;
    capture_recorder::bus_reader rd_;
    uint64_t max_jobs_;
    std::map<uint32_t, std::pair<uint64_t, uint64_t>> cqs_;  // CQ -> (gpa, bytes)
};

uint64_t parse_size(const std::string& s) {
    size_t pos = 0;
    uint64_t v = 0;
    try {
        v = std::stoull(s, &pos);
    } catch (...) {
        pos = 0;
    }
    const std::string unit = s.substr(pos);
    const uint64_t mul = unit.empty() || unit == "M" ? 1ull << 20 : unit == "G" ? 1ull << 30 : 0;
    if (pos == 0 || mul == 0 || v == 0)
        throw config_error(fmt::format("usage error: --guest-mem '{}': expected a size like 512M or 1G", s));
    return v * mul;
}
} // namespace

CLI::App* add_qemu_command(CLI::App& app, qemu_options& o) {
    auto* q = app.add_subcommand("qemu", "boot a Linux guest in QEMU (TCG) with the chip as a PCI device behind QEMU's "
                                         "multi-process proxy; the real kernel driver drives it (docs/linux-driver.md)");
    q->add_option("-c,--config", o.run.config, "preset name (edge, inference, training) or YAML file")
        ->capture_default_str();
    q->add_option("-p,--param", o.run.overrides, "override a parameter: -p key=value (repeatable)")
        ->type_name("KEY=VALUE");
    q->add_option("--kernel", o.kernel, "guest kernel (bzImage), e.g. from tools/guest/build.sh")->required();
    q->add_option("--initrd", o.initrd, "guest initramfs (cpio)")->required();
    q->add_option("--append", o.append, "guest kernel command line")->capture_default_str();
    q->add_option("--guest-mem", o.guest_mem, "guest RAM (a shared memfd), e.g. 512M, 1G")->capture_default_str();
    q->add_option("--qemu", o.qemu, "QEMU binary")->capture_default_str();
    q->add_option("--time-ratio", o.time_ratio,
                  "simulated seconds per wall second the device may run ahead to (0 = free-running)")
        ->check(CLI::Range(0.0, 1e6))
        ->capture_default_str();
    q->add_option("--stats", o.run.stats_file, "write the stats JSON here when the run ends");
    q->add_option("--gdb", o.gdb_port, "serve GDB for the firmware core on 127.0.0.1:PORT; the core waits for it when "
                                       "the driver releases it from reset (0 = any port)")
        ->check(CLI::Range(0, 65535))
        ->type_name("PORT");
    q->add_option("--irq-channel", o.irq_channel,
                  "interrupt side channel: ivshmem (an ivshmem-doorbell device whose MSI-X vector accelvp signals with "
                  "every INTx assertion; QEMU delivers the proxy's INTx only with KVM) or none")
        ->check(CLI::IsMember({"ivshmem", "none"}))
        ->capture_default_str();
    q->add_option("--capture", o.capture_file,
                  "record the jobs the guest's driver submits (ring slots, command buffers, the buffers they name) "
                  "as a capture `accelvp replay` runs in-process (docs/debugging.md#capture-and-replay)")
        ->type_name("FILE");
    q->add_option("--capture-jobs", o.capture_jobs, "with --capture: only the first N jobs (0 = all)")
        ->type_name("N")
        ->capture_default_str();
    q->add_option("--vfs", o.vfs,
                  "SR-IOV: boot N guests, each with its own virtual function of one chip (the PF stays in accelvp: "
                  "its driver enables the VFs); guest k's command line gets aax.vf=k (docs/virtualization.md)")
        ->check(CLI::Range(0, 8))
        ->type_name("N");
    q->add_option("--vf-console", o.vf_console,
                  "with --vfs: write guest k's serial console to this file, {vf} replaced by k (default: all on stdout)")
        ->type_name("FILE");
    q->add_flag("-q,--quiet", o.run.quiet, "print no summary at the end");
    q->add_option("qemu_args", o.extra, "extra QEMU arguments, after --");
    q->footer("Example: accelvp qemu -c edge --kernel build/guest/vmlinuz --initrd build/guest/initrd.cpio.gz "
              "--stats s.json -- -smp 1");
    return q;
}

namespace {
// Starts QEMU with the proxy's socket as fd 3 and the interrupt side channel's as fd 4.
pid_t spawn_qemu(const std::vector<std::string>& args, int proxy_fd, int side_fd) {
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    if (pid == 0) {
        const int proxy = ::fcntl(proxy_fd, F_DUPFD_CLOEXEC, 10);
        const int irq = side_fd >= 0 ? ::fcntl(side_fd, F_DUPFD_CLOEXEC, 10) : -1;
        if (proxy < 0 || ::dup2(proxy, 3) < 0) _exit(127);
        if (irq >= 0 && ::dup2(irq, 4) < 0) _exit(127);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execvp(argv[0], argv.data());
        std::fprintf(stderr, "accelvp qemu: cannot run %s: %s\n", argv[0], std::strerror(errno));
        _exit(127);
    }
    return pid;
}

// accelvp qemu --vfs N: N guests on the VFs of one chip (platform/qemu/qemu_vfs.h).
int run_qemu_vfs(const qemu_options& o, const config& cfg, uint64_t guest_mem, std::ostream& out) {
    using qemu_dev::vf_board;
    const auto wall0 = std::chrono::steady_clock::now();
    const unsigned n = o.vfs;
    struct guest {
        int sock = -1, qemu_end = -1, side = -1, side_qemu = -1;
        pid_t pid = -1;
        int status = 0;
        bool exited = false;
    };
    std::vector<guest> g(n);
    std::vector<int> socks;
    for (auto& x : g) {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            throw std::runtime_error(fmt::format("socketpair: {}", std::strerror(errno)));
        x.sock = sv[0];
        x.qemu_end = sv[1];
        socks.push_back(x.sock);
        if (o.irq_channel == "ivshmem") {
            int side[2];
            if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, side) != 0)
                throw std::runtime_error(fmt::format("socketpair: {}", std::strerror(errno)));
            x.side = side[0];
            x.side_qemu = side[1];
        }
    }
    auto top = std::make_unique<vf_board>("vf_board", cfg, socks, guest_mem);
    // The PF first: probe, firmware boot, SR-IOV enable (simulated time, no guest yet).
    const sc_core::sc_time setup_limit(10, sc_core::SC_SEC);
    while (top->setup_rc == 1 && sc_core::sc_time_stamp() < setup_limit) sc_core::sc_start(sc_core::sc_time(100, sc_core::SC_US));
    if (top->setup_rc != 0) {
        const std::string e = top->setup_rc == 1 ? "the PF's set-up did not finish" : top->setup_error;
        std::cerr << "accelvp qemu: error: " << e << "\n";
        for (auto& x : g)
            for (int f : {x.sock, x.qemu_end, x.side, x.side_qemu})
                if (f >= 0) ::close(f);
        return exit_device_error;
    }
    const double setup_ms = sc_core::sc_time_stamp().to_seconds() * 1e3;
    auto serial = [&](unsigned k) {
        if (o.vf_console.empty()) return std::string("stdio");
        std::string f = o.vf_console;
        for (size_t p = f.find("{vf}"); p != std::string::npos; p = f.find("{vf}")) f.replace(p, 4, std::to_string(k));
        return "file:" + f;
    };
    for (unsigned k = 0; k < n; ++k) {
        guest& x = g[k];
        if (x.side >= 0) top->ports[k]->set_side_channel(serve_ivshmem(x.side));
        std::vector<std::string> args{o.qemu,
                                      "-machine", "q35,memory-backend=mem",
                                      "-accel", "tcg",
                                      "-object", fmt::format("memory-backend-memfd,id=mem,size={},share=on", guest_mem),
                                      "-m", std::to_string(guest_mem >> 20) + "M",
                                      "-nographic", "-no-reboot", "-nodefaults", "-serial", serial(k),
                                      "-device", "x-pci-proxy-dev,id=aax0,fd=3",
                                      "-kernel", o.kernel, "-initrd", o.initrd,
                                      "-append", fmt::format("{} aax.vf={}", o.append, k)};
        if (x.side_qemu >= 0)
            for (const char* a : {"-chardev", "socket,id=aaxirq,fd=4", "-device", "ivshmem-doorbell,chardev=aaxirq,vectors=1"})
                args.push_back(a);
        for (const auto& e : o.extra) args.push_back(e);
        x.pid = spawn_qemu(args, x.qemu_end, x.side_qemu);
        ::close(x.qemu_end);
        x.qemu_end = -1;
        if (x.side_qemu >= 0) ::close(x.side_qemu);
        x.side_qemu = -1;
    }

    std::string error;
    const double ratio = o.time_ratio;
    const sc_core::sc_time slice(1, sc_core::SC_US), idle_slice(100, sc_core::SC_US);
    const sc_core::sc_time limit(cfg.get(keys::sim::max_time_ms), sc_core::SC_MS);
    auto guest_start = std::chrono::steady_clock::now();
    const double sim0 = sc_core::sc_time_stamp().to_seconds();
    bool started = false;
    auto busy = [&] {
        for (auto& p : top->ports)
            if (!p->ended && p->busy()) return true;
        return false;
    };
    for (;;) {
        unsigned live = 0;
        for (auto& p : top->ports) {
            if (!p->error.empty() && error.empty()) error = fmt::format("guest {}: {}", p->index(), p->error);
            live += !p->ended;
        }
        if (!error.empty() || live == 0) break;
        const bool active = busy() || sc_core::sc_pending_activity();
        int timeout_ms = -1;
        bool may_run = active;
        if (active && ratio > 0) {
            const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - guest_start).count();
            const double allowed = started ? sim0 + wall * ratio : sim0;
            const double now = sc_core::sc_time_stamp().to_seconds();
            if (now >= allowed && !busy()) {
                may_run = false;
                timeout_ms = started ? std::max(1, static_cast<int>((now - allowed) / ratio * 1e3)) : -1;
            }
        }
        if (may_run) timeout_ms = 0;
        std::vector<struct pollfd> pf;
        std::vector<unsigned> who;
        for (auto& p : top->ports)
            if (!p->ended) {
                pf.push_back({p->sock(), POLLIN, 0});
                who.push_back(p->index());
            }
        const int r = ::poll(pf.data(), pf.size(), timeout_ms);
        if (r < 0 && errno != EINTR) {
            error = fmt::format("poll: {}", std::strerror(errno));
            break;
        }
        for (size_t i = 0; r > 0 && i < pf.size(); ++i) {
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            auto& p = *top->ports[who[i]];
            mpqemu::message m;
            try {
                if (!mpqemu::receive(p.sock(), m)) {
                    p.ended = true;
                    p.end_reason = "QEMU closed the socket";
                    continue;
                }
                if (!started && (m.cmd == mpqemu::PCI_CFGREAD || m.cmd == mpqemu::PCI_CFGWRITE)) {
                    started = true;
                    guest_start = std::chrono::steady_clock::now();
                }
                if (!p.handle(m)) {
                    p.ended = true;
                    p.end_reason = "the guest reset the device";
                    ::kill(g[p.index()].pid, SIGTERM);
                }
            } catch (const mpqemu::protocol_error& e) {
                error = fmt::format("guest {}: {}", p.index(), e.what());
            }
            for (int f : m.fds) ::close(f);
        }
        if (may_run || busy()) {
            if (sc_core::sc_time_stamp() >= limit) {
                error = fmt::format("simulated-time limit sim.max_time_ms = {} reached", cfg.get(keys::sim::max_time_ms));
                break;
            }
            sc_core::sc_time step = slice;
            if (!busy()) {
                step = idle_slice;
                if (ratio > 0) {
                    const double wall =
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - guest_start).count();
                    const double ahead = sim0 + wall * ratio - sc_core::sc_time_stamp().to_seconds();
                    step = std::max(slice, std::min(idle_slice, sc_core::sc_time(std::max(0.0, ahead), sc_core::SC_SEC)));
                }
            }
            sc_core::sc_start(step);
        }
    }
    int rc_all = 0;
    nlohmann::json guests = nlohmann::json::array();
    for (unsigned k = 0; k < n; ++k) {
        guest& x = g[k];
        auto& p = *top->ports[k];
        if (!error.empty()) ::kill(x.pid, SIGTERM);
        ::close(x.sock);
        if (x.side >= 0) ::close(x.side);
        ::waitpid(x.pid, &x.status, 0);
        const int qrc = WIFEXITED(x.status) ? WEXITSTATUS(x.status) : 128 + WTERMSIG(x.status);
        const bool reset_end = p.end_reason == "the guest reset the device";
        if (!(qrc == 0 || reset_end)) rc_all = 1;
        guests.push_back({{"vf", k},
                          {"qemu_exit_status", qrc},
                          {"end", p.end_reason.empty() ? "stopped" : p.end_reason},
                          {"mmio_round_trips", p.round_trips()},
                          {"irq_signals", p.irq_signals()},
                          {"msix_accesses_dropped", p.dropped_msix()},
                          {"bad_dma", p.ram.bad_accesses()},
                          {"vf_errors", top->soc.pcie.vf_errors(k)},
                          {"vf_msis", top->soc.pcie.vf_msis(k)},
                          {"vf_flrs", top->soc.pcie.vf_flrs(k)},
                          {"msix_restores", p.msix_restores()},
                          {"vf_msis_at_restore", p.msis_at_last_restore()}});
    }
    const double sim_ns = static_cast<double>(sc_core::sc_time_stamp().value()) / 1000.0;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    nlohmann::json st;
    st["schema_version"] = 1;
    st["config"] = cfg.to_json();
    st["workload"] = {{"name", "qemu"}, {"params", nlohmann::json::object()}, {"verified", nullptr}};
    st["simulated_ns"] = sim_ns;
    st["wall_s"] = wall;
    st["summary"] = {{"simulated_ns", sim_ns}, {"vfs", n}, {"pf_setup_ms", setup_ms}};
    st["qemu"] = {{"guests", guests}, {"time_ratio", ratio}};
    st["components"] = global_stats().to_json(sim_ns * 1e-9);
    st["host"] = global_stats().host_json();
    if (!error.empty()) st["error"] = error;
    if (!o.run.stats_file.empty()) {
        std::ofstream f(o.run.stats_file);
        f << st.dump(2) << "\n";
    }
    if (!error.empty()) std::cerr << "accelvp qemu: error: " << error << "\n";
    if (!o.run.quiet) {
        out << fmt::format("accelvp qemu: {} guests on {} VFs of one chip | PF set-up {:.3f} ms | simulated {:.3f} ms | "
                           "wall {:.1f} s\n",
                           n, n, setup_ms, sim_ns / 1e6, wall);
        for (const auto& x : guests)
            out << fmt::format("  VF {}: {} (QEMU exit status {}) | {} MMIO round trips | {} interrupts | {} device "
                               "errors\n",
                               x["vf"].get<unsigned>(), x["end"].get<std::string>(), x["qemu_exit_status"].get<int>(),
                               x["mmio_round_trips"].get<uint64_t>(), x["irq_signals"].get<uint64_t>(),
                               x["vf_errors"].get<uint64_t>());
    }
    top.reset();
    return error.empty() && rc_all == 0 ? exit_ok : exit_device_error;
}
} // namespace

int run_qemu(const qemu_options& o, std::ostream& out) {
    const auto wall0 = std::chrono::steady_clock::now();
    const param_schema schema = build_schema("");
    run_options ro = o.run;
    // Behind the proxy: the Linux driver boots the firmware, and BAR2 is a 32-bit window
    // (QEMU 7.2's proxy maps each BAR dword as its own 32-bit BAR).
    auto has = [&](const std::string& key) {
        for (const auto& ov : ro.overrides)
            if (ov.rfind(key + "=", 0) == 0) return true;
        return false;
    };
    std::vector<std::string> defaults;
    if (!has("cpu.enabled")) defaults.push_back("cpu.enabled=true");
    if (!has("pcie.bar2_64bit") && !o.vfs) defaults.push_back("pcie.bar2_64bit=false");
    if (!has("pcie.bar2_size") && !o.vfs) defaults.push_back("pcie.bar2_size=268435456");
    if (!has("mmu.enabled") && o.vfs) defaults.push_back("mmu.enabled=true");
    // Simulated time follows the guest's wall time: no limit unless asked for.
    if (!has("sim.max_time_ms")) defaults.push_back("sim.max_time_ms=1000000000");
    ro.overrides.insert(ro.overrides.begin(), defaults.begin(), defaults.end());
    const config cfg = load_config(schema, ro);
    set_log_level(parse_log_level(cfg.get(keys::sim::log_level)));
    const uint64_t guest_mem = parse_size(o.guest_mem);
    for (const auto& f : {o.kernel, o.initrd})
        if (::access(f.c_str(), R_OK) != 0) throw config_error(fmt::format("usage error: cannot read '{}'", f));
    for (const auto& f : {o.run.stats_file, o.capture_file}) {
        if (f.empty()) continue;
        std::ofstream probe(f, std::ios::app);
        if (!probe) throw config_error("usage error: cannot write output file '" + f + "'");
    }
    if (o.capture_jobs && o.capture_file.empty())
        throw config_error("usage error: --capture-jobs needs --capture FILE");
    if (o.vfs) {
        if (!o.capture_file.empty()) throw config_error("usage error: --capture is not available with --vfs");
        if (o.gdb_port >= 0) throw config_error("usage error: --gdb is not available with --vfs");
        return run_qemu_vfs(o, cfg, guest_mem, out);
    }

    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        throw std::runtime_error(fmt::format("socketpair: {}", std::strerror(errno)));
    // QEMU's end must survive exec: dup it without CLOEXEC in the child.
    std::vector<std::string> args{o.qemu,
                                  "-machine", "q35,memory-backend=mem",
                                  "-accel", "tcg",
                                  "-object", fmt::format("memory-backend-memfd,id=mem,size={},share=on", guest_mem),
                                  "-m", std::to_string(guest_mem >> 20) + "M",
                                  "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
                                  "-device", "x-pci-proxy-dev,id=aax0,fd=3",
                                  "-kernel", o.kernel, "-initrd", o.initrd, "-append", o.append};
    int side[2] = {-1, -1};
    if (o.irq_channel == "ivshmem") {
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, side) != 0)
            throw std::runtime_error(fmt::format("socketpair: {}", std::strerror(errno)));
        for (const char* a : {"-chardev", "socket,id=aaxirq,fd=4", "-device", "ivshmem-doorbell,chardev=aaxirq,vectors=1"})
            args.push_back(a);
    }
    for (const auto& e : o.extra) args.push_back(e);
    const int sock = sv[0];

    auto top = std::make_unique<qemu_board>("qemu_board", cfg, sock);
    std::unique_ptr<guest_capture> capture;
    if (!o.capture_file.empty()) capture = std::make_unique<guest_capture>(*top, o.capture_jobs);
    if (side[0] >= 0) top->set_side_channel(serve_ivshmem(side[0]));  // queued before QEMU reads it
    // GDB on the firmware core while the guest runs: while GDB holds the core stopped, no
    // simulated time passes and the guest's MMIO accesses wait.
    std::unique_ptr<gdb_server> gdb;
    if (o.gdb_port >= 0) {
        if (!top->soc.cpu) throw config_error("usage error: --gdb needs a control core (cpu.enabled=true)");
        try {
            gdb = std::make_unique<gdb_server>(top->soc.cpu->core, static_cast<uint16_t>(o.gdb_port));
        } catch (const std::runtime_error& e) {
            throw config_error(std::string("usage error: --gdb: ") + e.what());
        }
        std::cerr << fmt::format("accelvp qemu: GDB stub on 127.0.0.1:{} (gdb-multiarch -ex 'target remote "
                                 "127.0.0.1:{}' {})\n",
                                 gdb->port(), gdb->port(), cfg.get(keys::host::driver_firmware))
                  << std::flush;
    }
    sc_core::sc_start(sc_core::SC_ZERO_TIME);

    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    if (pid == 0) {
        ::close(sv[0]);
        // Out of the way first (either could be fd 3 or 4), then to 3 and 4 without CLOEXEC.
        const int proxy = ::fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
        const int irq = side[1] >= 0 ? ::fcntl(side[1], F_DUPFD_CLOEXEC, 10) : -1;
        if (proxy < 0 || ::dup2(proxy, 3) < 0) _exit(127);
        if (irq >= 0 && ::dup2(irq, 4) < 0) _exit(127);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execvp(argv[0], argv.data());
        std::fprintf(stderr, "accelvp qemu: cannot run %s: %s\n", argv[0], std::strerror(errno));
        _exit(127);
    }
    ::close(sv[1]);
    if (side[1] >= 0) ::close(side[1]);  // side[0] stays open: QEMU's chardev would see a hang-up

    std::string end_reason, error;
    const double ratio = o.time_ratio;
    const sc_core::sc_time slice(1, sc_core::SC_US), idle_slice(100, sc_core::SC_US);
    const sc_core::sc_time limit(cfg.get(keys::sim::max_time_ms), sc_core::SC_MS);
    auto guest_start = std::chrono::steady_clock::now();
    bool started = false;  // the guest's first config access: pacing starts there
    for (;;) {
        if (!top->error.empty()) {
            error = top->error;
            break;
        }
        const bool active = top->busy() || sc_core::sc_pending_activity();
        int timeout_ms = -1;
        bool may_run = active;
        if (active && ratio > 0) {
            const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - guest_start).count();
            const double allowed = started ? wall * ratio : 0.0;
            const double now = sc_core::sc_time_stamp().to_seconds();
            if (now >= allowed && !top->busy()) {
                may_run = false;
                timeout_ms = started ? std::max(1, static_cast<int>((now - allowed) / ratio * 1e3)) : -1;
            }
        }
        if (may_run) timeout_ms = 0;
        struct pollfd pf[2] = {{sock, POLLIN, 0}, {top->resample_fd(), POLLIN, 0}};
        const int n = ::poll(pf, top->resample_fd() >= 0 ? 2 : 1, timeout_ms);
        if (n < 0 && errno != EINTR) {
            error = fmt::format("poll: {}", std::strerror(errno));
            break;
        }
        if (n > 0 && (pf[1].revents & POLLIN)) top->resample();
        if (n > 0 && (pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            mpqemu::message m;
            try {
                if (!mpqemu::receive(sock, m)) {
                    end_reason = "QEMU closed the socket";
                    break;
                }
                if (!started && (m.cmd == mpqemu::PCI_CFGREAD || m.cmd == mpqemu::PCI_CFGWRITE)) {
                    started = true;
                    guest_start = std::chrono::steady_clock::now();
                }
                if (!top->handle(m)) {
                    end_reason = "the guest reset the device";
                    break;
                }
            } catch (const mpqemu::protocol_error& e) {
                error = e.what();
                break;
            }
            for (int f : m.fds) ::close(f);
        }
        if (may_run || top->busy()) {
            if (sc_core::sc_time_stamp() >= limit) {
                error = fmt::format("simulated-time limit sim.max_time_ms = {} reached", cfg.get(keys::sim::max_time_ms));
                break;
            }
            // A BAR access in flight: fine steps, so its answer goes out as soon as the
            // model has it. Otherwise larger steps, up to what the pacing allows.
            sc_core::sc_time step = slice;
            if (!top->busy()) {
                step = idle_slice;
                if (ratio > 0) {
                    const double wall =
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - guest_start).count();
                    const double ahead = wall * ratio - sc_core::sc_time_stamp().to_seconds();
                    step = std::max(slice, std::min(idle_slice, sc_core::sc_time(std::max(0.0, ahead), sc_core::SC_SEC)));
                }
            }
            sc_core::sc_start(step);
        }
    }
    // QEMU: let it finish on its own after a clean close; stop it after an error.
    int status = 0;
    const bool reset_end = end_reason == "the guest reset the device";
    if (!error.empty() || reset_end) ::kill(pid, SIGTERM);
    ::close(sock);
    if (side[0] >= 0) ::close(side[0]);
    ::waitpid(pid, &status, 0);
    const int qemu_rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (end_reason.empty()) end_reason = error.empty() ? "ended" : "protocol error";

    const double sim_ns = static_cast<double>(sc_core::sc_time_stamp().value()) / 1000.0;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    const double guest_wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - guest_start).count();
    nlohmann::json st;
    st["schema_version"] = 1;
    st["config"] = cfg.to_json();
    st["workload"] = {{"name", "qemu"}, {"params", nlohmann::json::object()}, {"verified", nullptr}};
    st["simulated_ns"] = sim_ns;
    st["wall_s"] = wall;
    st["summary"] = {{"simulated_ns", sim_ns},
                     {"mmio_round_trips", top->round_trips()},
                     {"mmio_reads", top->reads()},
                     {"mmio_round_trips_per_wall_s", guest_wall > 0 ? top->round_trips() / guest_wall : 0.0},
                     {"bad_dma", top->ram.bad_accesses()}};
    st["qemu"] = {{"exit_status", qemu_rc}, {"end", end_reason}, {"time_ratio", ratio}};
    st["components"] = global_stats().to_json(sim_ns * 1e-9);
    st["host"] = global_stats().host_json();
    if (!error.empty()) st["error"] = error;
    std::string capture_msg;
    if (capture) {
        auto& rec = capture->recorder();
        rec.bus_finish(top->soc.host_window_base());
        cmdstream::capture_header h;
        h.workload = "qemu";
        h.config = o.run.config;
        // The run's configuration as the chip had it (the bridge's defaults included: the
        // control core runs the firmware), but the simulated-time limit of a guest session.
        for (const auto& ov : ro.overrides)
            if (ov.rfind("workload.", 0) != 0 && ov.rfind("sim.max_time_ms=", 0) != 0) h.overrides.push_back(ov);
        std::string text = cmdstream::capture_text(rec, h);
        nlohmann::json skipped = nlohmann::json::array();
        if (!rec.skipped().empty()) text += "# jobs the guest submitted that this capture does not replay:\n";
        for (const auto& sk : rec.skipped()) {
            text += fmt::format("#   ring {} job_id {}: {}\n", sk.ring, sk.job_id, sk.why);
            skipped.push_back({{"ring", sk.ring}, {"job_id", sk.job_id}, {"why", sk.why}});
        }
        size_t jobs = 0;
        for (const auto& s : rec.steps()) jobs += s.kind == capture_recorder::step::job;
        std::ofstream f(o.capture_file);
        f << text;
        f.close();
        if (!f) {
            if (error.empty()) error = "cannot write capture file '" + o.capture_file + "'";
        } else {
            capture_msg = fmt::format("accelvp qemu: captured {} of the guest's {} jobs to {}{}\n", jobs,
                                      rec.bus_jobs(), o.capture_file,
                                      rec.skipped().empty() ? "" : fmt::format(" ({} not replayable: see the file's end)",
                                                                               rec.skipped().size()));
        }
        st["capture"] = {{"file", o.capture_file}, {"jobs", jobs}, {"seen", rec.bus_jobs()}, {"skipped", skipped}};
        capture.reset();
    }
    if (!o.run.stats_file.empty()) {
        std::ofstream f(o.run.stats_file);
        f << st.dump(2) << "\n";
    }
    if (gdb) gdb->program_exited(error.empty() ? 0 : 1);
    gdb.reset();
    if (!error.empty()) std::cerr << "accelvp qemu: error: " << error << "\n";
    if (!o.run.quiet) out << capture_msg;
    if (!o.run.quiet)
        out << fmt::format("accelvp qemu: {} (QEMU exit status {}) | simulated {:.3f} ms | wall {:.1f} s | {} MMIO "
                           "round trips ({:.0f}/s)\n",
                           end_reason, qemu_rc, sim_ns / 1e6, wall, top->round_trips(),
                           guest_wall > 0 ? top->round_trips() / guest_wall : 0.0);
    top.reset();
    return error.empty() && (qemu_rc == 0 || reset_end) ? exit_ok : exit_device_error;
}

} // namespace accelvp
