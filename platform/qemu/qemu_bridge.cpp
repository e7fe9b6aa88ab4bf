#include "platform/qemu/qemu_bridge.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <systemc>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "abi/aax_regs.h"
#include "platform/chip/chip.h"
#include "platform/host/driver.h"
#include "platform/host/host_system.h"
#include "platform/qemu/mpqemu.h"
#include "tlm/core/extensions.h"
#include "tlm/cpu/gdb_server.h"
#include "tlm/core/log.h"
#include "tlm/core/stats.h"
#include "tlm/core/timeline.h"
#include "tlm/core/keys.h"

namespace accelvp {

namespace {
const char* kName = "qemu";

// Guest RAM as the device sees it: the memfd regions the proxy announced, mapped into this
// process. An access outside them (or straddling two) is an address error: the chip
// records a device error; the VP does not crash.
class guest_ram : public sc_core::sc_module {
public:
    tlm_utils::simple_target_socket<guest_ram> socket;
    guest_ram(sc_core::sc_module_name name, const memory::params& p, double hop_ns)
        : sc_module(name), socket("socket"), bus_(p.bandwidth_gbps * 1e9), latency_(p.latency_ns, sc_core::SC_NS),
          hop_(hop_ns, sc_core::SC_NS) {
        socket.register_b_transport(this, &guest_ram::b_transport);
        socket.register_transport_dbg(this, &guest_ram::transport_dbg);
        stats_.add({&bytes_read_, &bytes_written_, &bad_, &regions_});
    }
    ~guest_ram() override { unmap(); }
    // Replaces the regions (SYNC_SYSMEM). Takes ownership of the fds (closed after mmap).
    void set_regions(const mpqemu::sync_sysmem& s, std::vector<int>& fds) {
        unmap();
        for (size_t i = 0; i < fds.size(); ++i) {
            const auto size = static_cast<size_t>(s.sizes[i]);
            void* p = size ? ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], s.offsets[i]) : MAP_FAILED;
            if (p == MAP_FAILED) {
                AVP_LOG(error, kName, "cannot map guest RAM region {} ({} bytes at gpa 0x{:x}): {}", i, size, s.gpas[i],
                        std::strerror(errno));
            } else {
                regions_list_.push_back({s.gpas[i], size, static_cast<uint8_t*>(p)});
                AVP_LOG(info, kName, "guest RAM region: gpa 0x{:x} +0x{:x}", s.gpas[i], size);
            }
            ::close(fds[i]);
        }
        fds.clear();
        ++regions_;
    }
    uint64_t bad_accesses() const { return static_cast<uint64_t>(bad_.get()); }

private:
    struct region {
        uint64_t gpa, size;
        uint8_t* ptr;
    };
    void unmap() {
        for (auto& r : regions_list_) ::munmap(r.ptr, r.size);
        regions_list_.clear();
    }
    uint8_t* find(uint64_t a, uint64_t n) {
        for (auto& r : regions_list_)
            if (a >= r.gpa && n <= r.size && a - r.gpa <= r.size - n) return r.ptr + (a - r.gpa);
        return nullptr;
    }
    bool copy(tlm::tlm_generic_payload& t) {
        const uint64_t n = t.get_data_length();
        uint8_t* p = find(t.get_address(), n);
        if (!p || t.get_byte_enable_ptr()) {
            t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return false;
        }
        if (t.is_write())
            std::memcpy(p, t.get_data_ptr(), n);
        else
            std::memcpy(t.get_data_ptr(), p, n);
        t.set_response_status(tlm::TLM_OK_RESPONSE);
        return true;
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
        if (!copy(t)) {
            if ((++bad_).get() <= 8)
                AVP_LOG(warn, kName, "device {} of {} bytes at guest address 0x{:x} is outside guest RAM",
                        t.is_write() ? "write" : "read", t.get_data_length(), t.get_address());
            return;
        }
        (t.is_write() ? bytes_written_ : bytes_read_) += t.get_data_length();
        // The in-process host's timing: one fabric hop, then the DRAM bus and latency.
        const uint64_t arrival = abs_ps(delay) + hop_.value();
        delay = offset_to(bus_.reserve(arrival, t.get_data_length()) + latency_.value());
    }
    unsigned transport_dbg(tlm::tlm_generic_payload& t) { return copy(t) ? t.get_data_length() : 0; }

    std::vector<region> regions_list_;
    timeline bus_;
    sc_core::sc_time latency_, hop_;
    counter bytes_read_{"bytes_read", "bytes the device read from guest RAM"};
    counter bytes_written_{"bytes_written", "bytes the device wrote to guest RAM"};
    counter bad_{"bad_accesses", "device accesses outside guest RAM (device errors)"};
    counter regions_{"memory_syncs", "guest memory maps received (SYNC_SYSMEM)"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

// The chip and guest RAM, and the thread that applies BAR accesses in simulated time.
class qemu_board : public sc_core::sc_module {
public:
    qemu_board(sc_core::sc_module_name name, const config& c, int sock)
        : sc_module(name), soc("chip", c),
          ram("guest_ram", memory::from_config(c, "host.mem"), c.get(keys::host::bus_hop_ns)), bar0("bar0"),
          bar2("bar2"), sock_(sock) {
        soc.pcie.to_host.bind(ram.socket);
        bar0.bind(soc.pcie.bar0_socket);
        bar2.bind(soc.pcie.bar2_socket);
        soc.pcie.set_intx_sink([this](bool on) {
            if (on) signal_irq();
        });
        stats_.add({&cfg_reads_, &cfg_writes_, &bar_reads_, &bar_writes_, &unmapped_, &irq_signals_, &resamples_,
                    &resets_, &read_ns_});
        SC_HAS_PROCESS(qemu_board);
        SC_THREAD(bar_thread);
    }
    ~qemu_board() override {
        for (int f : {irqfd_, resamplefd_})
            if (f >= 0) ::close(f);
    }

    // Messages that need no simulated time are answered here; BAR accesses are queued
    // for bar_thread. Returns false when the run should end (device reset after use).
    bool handle(mpqemu::message& m) {
        using namespace mpqemu;
        switch (m.cmd) {
        case SYNC_SYSMEM: ram.set_regions(m.data.sysmem, m.fds); return true;
        case SET_IRQFD:
            for (int f : {irqfd_, resamplefd_})
                if (f >= 0) ::close(f);
            irqfd_ = m.fds[0];
            resamplefd_ = m.fds[1];
            m.fds.clear();
            ::fcntl(resamplefd_, F_SETFL, ::fcntl(resamplefd_, F_GETFL) | O_NONBLOCK);
            if (soc.pcie.intx_asserted()) signal_irq();
            return true;
        case PCI_CFGREAD: {
            uint32_t v = 0xFFFFFFFFu;
            soc.pcie.cfg_read(m.data.conf.addr, static_cast<unsigned>(m.data.conf.len), v);
            ++cfg_reads_;
            reply(sock_, v);
            return true;
        }
        case PCI_CFGWRITE:
            soc.pcie.cfg_write(m.data.conf.addr, static_cast<unsigned>(m.data.conf.len), m.data.conf.val);
            ++cfg_writes_;
            if (soc.pcie.config_space().command() & pci_config::cmd_memory) used_ = true;
            reply(sock_, 0);
            return true;
        case BAR_READ:
        case BAR_WRITE:
            pending_.push_back(m.data.bar);
            pending_cmd_.push_back(m.cmd);
            ev_.notify(sc_core::SC_ZERO_TIME);
            return true;
        case DEVICE_RESET:
            ++resets_;
            reply(sock_, 0);
            // QEMU resets every device at machine start: only a reset after the guest used
            // the device ends the run.
            return !used_;
        case RET: throw protocol_error("malformed message: unexpected RET from QEMU");
        default: throw protocol_error(fmt::format("malformed message: unknown command {}", m.cmd));
        }
    }
    bool busy() const { return !pending_.empty() || in_flight_; }
    int resample_fd() const { return resamplefd_; }
    // QEMU signalled the resample eventfd (the guest's EOI): re-assert a line still high.
    void resample() {
        uint64_t v;
        while (::read(resamplefd_, &v, sizeof(v)) == static_cast<ssize_t>(sizeof(v))) ++resamples_;
        if (soc.pcie.intx_asserted()) signal_irq();
    }
    uint64_t round_trips() const { return static_cast<uint64_t>(bar_reads_.get() + bar_writes_.get()); }
    uint64_t reads() const { return static_cast<uint64_t>(bar_reads_.get()); }
    std::string error;  // set by bar_thread on a socket failure

    chip soc;
    guest_ram ram;
    tlm_utils::simple_initiator_socket<qemu_board> bar0, bar2;

private:
    void signal_irq() {
        ++irq_signals_;
        if (irqfd_ < 0) return;
        const uint64_t one = 1;
        if (::write(irqfd_, &one, sizeof(one)) != static_cast<ssize_t>(sizeof(one)))
            AVP_LOG(warn, kName, "INTx eventfd write failed: {}", std::strerror(errno));
    }
    void bar_thread() {
        for (;;) {
            while (pending_.empty()) sc_core::wait(ev_);
            const mpqemu::bar_access a = pending_.front();
            const int32_t cmd = pending_cmd_.front();
            pending_.pop_front();
            pending_cmd_.pop_front();
            in_flight_ = true;
            const bool is_read = cmd == mpqemu::BAR_READ;
            uint64_t val = is_read ? 0 : a.val;
            unsigned bar = 0;
            uint64_t off = 0;
            sc_core::sc_time d = sc_core::SC_ZERO_TIME;
            bool ok = false;
            const uint64_t t0 = sc_core::sc_time_stamp().value();
            if (a.memory && soc.pcie.config_space().decode(a.addr, bar, off)) {
                tlm::tlm_response_status st;
                {  // no payload may live across wait()
                    tlm::tlm_generic_payload t;
                    init_payload(t, is_read ? tlm::TLM_READ_COMMAND : tlm::TLM_WRITE_COMMAND, off, &val, a.size);
                    (bar == 0 ? bar0 : bar2)->b_transport(t, d);
                    st = t.get_response_status();
                }
                ok = st == tlm::TLM_OK_RESPONSE;
            } else {
                ++unmapped_;
            }
            if (!ok && is_read) val = ~0ull >> (64 - 8 * a.size);  // what a failed read returns on PCIe
            try {
                if (is_read) {
                    ++bar_reads_;
                    sc_core::wait(d);  // answered when the model has produced the value
                    read_ns_.sample(static_cast<double>(sc_core::sc_time_stamp().value() - t0) / 1000.0);
                    mpqemu::reply(sock_, val);
                } else {
                    ++bar_writes_;
                    mpqemu::reply(sock_, 0);  // posted: the guest goes on
                    sc_core::wait(d);        // the link is busy meanwhile
                }
            } catch (const mpqemu::protocol_error& e) {
                error = e.what();
            }
            in_flight_ = false;
        }
    }

    int sock_;
    int irqfd_ = -1, resamplefd_ = -1;
    bool used_ = false;
    bool in_flight_ = false;
    std::deque<mpqemu::bar_access> pending_;
    std::deque<int32_t> pending_cmd_;
    sc_core::sc_event ev_;
    counter cfg_reads_{"cfg_reads", "config-space reads"};
    counter cfg_writes_{"cfg_writes", "config-space writes"};
    counter bar_reads_{"bar_reads", "BAR reads (MMIO round trips the guest waited for)"};
    counter bar_writes_{"bar_writes", "BAR writes"};
    counter unmapped_{"unmapped", "BAR accesses at addresses no BAR decodes (reads return all ones)"};
    counter irq_signals_{"irq_signals", "INTx assertions sent to QEMU's eventfd"};
    counter resamples_{"resamples", "INTx resample notifications from QEMU"};
    counter resets_{"device_resets", "DEVICE_RESET messages"};
    average read_ns_{"bar_read_ns", "simulated time of a BAR read (ns)"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{"qemu"};
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
    q->add_flag("-q,--quiet", o.run.quiet, "print no summary at the end");
    q->add_option("qemu_args", o.extra, "extra QEMU arguments, after --");
    q->footer("Example: accelvp qemu -c edge --kernel build/guest/vmlinuz --initrd build/guest/initrd.cpio.gz "
              "--stats s.json -- -smp 1");
    return q;
}

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
    if (!has("pcie.bar2_64bit")) defaults.push_back("pcie.bar2_64bit=false");
    if (!has("pcie.bar2_size")) defaults.push_back("pcie.bar2_size=268435456");
    // Simulated time follows the guest's wall time: no limit unless asked for.
    if (!has("sim.max_time_ms")) defaults.push_back("sim.max_time_ms=1000000000");
    ro.overrides.insert(ro.overrides.begin(), defaults.begin(), defaults.end());
    const config cfg = load_config(schema, ro);
    set_log_level(parse_log_level(cfg.get(keys::sim::log_level)));
    const uint64_t guest_mem = parse_size(o.guest_mem);
    for (const auto& f : {o.kernel, o.initrd})
        if (::access(f.c_str(), R_OK) != 0) throw config_error(fmt::format("usage error: cannot read '{}'", f));
    if (!o.run.stats_file.empty()) {
        std::ofstream probe(o.run.stats_file, std::ios::app);
        if (!probe) throw config_error("usage error: cannot write output file '" + o.run.stats_file + "'");
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
    for (const auto& e : o.extra) args.push_back(e);
    const int sock = sv[0];

    auto top = std::make_unique<qemu_board>("qemu_board", cfg, sock);
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
        if (::dup2(sv[1], 3) < 0) _exit(127);
        if (sv[1] != 3) ::close(sv[1]);
        ::fcntl(3, F_SETFD, 0);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execvp(argv[0], argv.data());
        std::fprintf(stderr, "accelvp qemu: cannot run %s: %s\n", argv[0], std::strerror(errno));
        _exit(127);
    }
    ::close(sv[1]);

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
    if (!o.run.stats_file.empty()) {
        std::ofstream f(o.run.stats_file);
        f << st.dump(2) << "\n";
    }
    if (gdb) gdb->program_exited(error.empty() ? 0 : 1);
    gdb.reset();
    if (!error.empty()) std::cerr << "accelvp qemu: error: " << error << "\n";
    if (!o.run.quiet)
        out << fmt::format("accelvp qemu: {} (QEMU exit status {}) | simulated {:.3f} ms | wall {:.1f} s | {} MMIO "
                           "round trips ({:.0f}/s)\n",
                           end_reason, qemu_rc, sim_ns / 1e6, wall, top->round_trips(),
                           guest_wall > 0 ? top->round_trips() / guest_wall : 0.0);
    top.reset();
    return error.empty() && (qemu_rc == 0 || reset_end) ? exit_ok : exit_device_error;
}

} // namespace accelvp
