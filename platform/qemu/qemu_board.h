// The device side of `accelvp qemu` (qemu_bridge.cpp) without QEMU: the chip, guest RAM
// (the memfd regions of SYNC_SYSMEM) and the dispatcher of the multi-process proxy's
// messages (handle(); BAR accesses applied in simulated time by bar_thread). In a header so
// that tests and the fuzz target fuzz_qemu_bridge (tests/fuzz/) drive the same code with
// messages of their own.
#pragma once

#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <systemc>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/passthrough_target_socket.h>

#include "abi/aax_regs.h"
#include "platform/chip/chip.h"
#include "platform/qemu/mpqemu.h"
#include "tlm/core/extensions.h"
#include "tlm/core/keys.h"
#include "tlm/core/log.h"
#include "tlm/core/stats.h"
#include "tlm/core/timeline.h"
#include "tlm/mem/memory.h"

namespace accelvp::qemu_dev {

constexpr const char* kName = "qemu";

// Guest RAM as the device sees it: the memfd regions the proxy announced, mapped into this
// process. An access outside them (or straddling two) is an address error: the chip
// records a device error; the VP does not crash.
class guest_ram : public sc_core::sc_module {
public:
    tlm_utils::passthrough_target_socket<guest_ram> socket;
    guest_ram(sc_core::sc_module_name name, const memory::params& p, double hop_ns)
        : sc_module(name), socket("socket"), bus_(p.bandwidth_gbps * 1e9), latency_(p.latency_ns, sc_core::SC_NS),
          hop_(hop_ns, sc_core::SC_NS) {
        socket.register_b_transport(this, &guest_ram::b_transport);
        socket.register_transport_dbg(this, &guest_ram::transport_dbg);
        stats_.add({&bytes_read_, &bytes_written_, &bad_, &regions_});
    }
    ~guest_ram() override { unmap(); }
    // Replaces the regions (SYNC_SYSMEM). Takes ownership of the fds (closed after mmap).
    // A region must lie within its file: a mapping past the end of a memfd maps, and the
    // first device access there is a SIGBUS that kills the simulator (fuzz_qemu_bridge found
    // it). Such a region, a negative offset, or a file that is not a regular file (memfd) is
    // refused with an error naming it; accesses there are address errors like any other.
    void set_regions(const mpqemu::sync_sysmem& s, std::vector<int>& fds) {
        unmap();
        for (size_t i = 0; i < fds.size(); ++i) {
            const uint64_t size = s.sizes[i];
            const int64_t off = s.offsets[i];
            struct stat st {};
            std::string why;
            if (size == 0) {
                why = "empty";
            } else if (::fstat(fds[i], &st) != 0) {
                why = std::strerror(errno);
            } else if (!S_ISREG(st.st_mode)) {
                why = "not a memory file";
            } else if (off < 0 || static_cast<uint64_t>(off) > static_cast<uint64_t>(st.st_size) ||
                       size > static_cast<uint64_t>(st.st_size) - static_cast<uint64_t>(off)) {
                why = fmt::format("offset {} + size {} is past the end of its {}-byte file", off, size, st.st_size);
            }
            void* p = MAP_FAILED;
            if (why.empty()) {
                p = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], off);
                if (p == MAP_FAILED) why = std::strerror(errno);
            }
            if (p == MAP_FAILED) {
                AVP_LOG(error, kName, "cannot map guest RAM region {} ({} bytes at gpa 0x{:x}): {}", i, size, s.gpas[i],
                        why);
            } else {
                regions_list_.push_back({s.gpas[i], static_cast<size_t>(size), static_cast<uint8_t*>(p)});
                AVP_LOG(info, kName, "guest RAM region: gpa 0x{:x} +0x{:x}", s.gpas[i], size);
            }
            ::close(fds[i]);
        }
        fds.clear();
        ++regions_;
    }
    uint64_t bad_accesses() const { return static_cast<uint64_t>(bad_.get()); }
    // Debugger access to guest RAM (no time, no stats): false outside the mapped regions.
    bool peek(uint64_t gpa, void* p, uint64_t n) const {
        const uint8_t* src = find(gpa, n);
        if (!src) return false;
        std::memcpy(p, src, n);
        return true;
    }
    // Called after each device write that reached guest RAM (accelvp qemu --capture watches
    // the completion queues with it); unset: nothing is called.
    std::function<void(uint64_t gpa, uint64_t n)> on_write;
    size_t mapped_regions() const { return regions_list_.size(); }
    bool mapped(uint64_t gpa, uint64_t n) const { return find(gpa, n) != nullptr; }

private:
    struct region {
        uint64_t gpa, size;
        uint8_t* ptr;
    };
    void unmap() {
        for (auto& r : regions_list_) ::munmap(r.ptr, r.size);
        regions_list_.clear();
    }
    uint8_t* find(uint64_t a, uint64_t n) const {
        for (const auto& r : regions_list_)
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
        if (on_write && t.is_write()) on_write(t.get_address(), t.get_data_length());
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
          bar2("bar2"), sock_(sock), devmem_base_(c.get(keys::addr::devmem_base)) {
        soc.pcie.to_host.bind(ram.socket);
        bar0.bind(soc.pcie.bar0_socket);
        bar2.bind(soc.pcie.bar2_socket);
        soc.pcie.set_intx_sink([this](bool on) {
            if (on) signal_irq();
        });
        stats_.add({&cfg_reads_, &cfg_writes_, &bar_reads_, &bar_writes_, &unmapped_, &irq_signals_, &resamples_,
                    &resets_, &read_ns_, &side_signals_});
        SC_HAS_PROCESS(qemu_board);
        SC_THREAD(bar_thread);
    }
    ~qemu_board() override {
        for (int f : {irqfd_, resamplefd_, side_fd_})
            if (f >= 0) ::close(f);
    }
    // The ivshmem-doorbell vector's eventfd (ours): every INTx assertion also signals it.
    void set_side_channel(int efd) { side_fd_ = efd; }

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
    // Forget the guest, as when QEMU starts anew: not yet used, no interrupt eventfds
    // (fuzz_qemu_bridge runs one session per input on one board).
    void new_session() {
        used_ = false;
        for (int* f : {&irqfd_, &resamplefd_})
            if (*f >= 0) {
                ::close(*f);
                *f = -1;
            }
    }
    int resample_fd() const { return resamplefd_; }
    // QEMU signalled the resample eventfd (the guest's EOI): re-assert a line still high.
    void resample() {
        uint64_t v;
        while (::read(resamplefd_, &v, sizeof(v)) == static_cast<ssize_t>(sizeof(v))) ++resamples_;
        if (soc.pcie.intx_asserted()) signal_irq();
    }
    // Called before a guest write to a doorbell (BAR0 AAX_DOORBELL(r)) reaches the chip, with
    // the ring and the new tail (accelvp qemu --capture reads the ring's new slots there).
    std::function<void(unsigned ring, uint32_t tail)> on_doorbell;
    // Debugger reads (no simulated time): a BAR0 register, and a device bus address (device
    // memory through BAR2's window, or guest RAM through the host window).
    uint32_t reg_peek(uint32_t off) {
        uint32_t v = 0;
        tlm::tlm_generic_payload t;
        init_payload(t, tlm::TLM_READ_COMMAND, off, &v, 4);
        return bar0->transport_dbg(t) == 4 ? v : 0xFFFFFFFFu;
    }
    bool bus_peek(uint64_t addr, uint8_t* p, uint64_t n) {
        const uint64_t hw = soc.host_window_base();
        if (addr >= hw) return ram.peek(addr - hw, p, n);
        const uint64_t base = devmem_base_;
        if (addr < base) return false;
        for (uint64_t done = 0; done < n;) {  // in pieces: a debug transport may stop short
            const unsigned len = static_cast<unsigned>(std::min<uint64_t>(n - done, 1u << 20));
            tlm::tlm_generic_payload t;
            init_payload(t, tlm::TLM_READ_COMMAND, addr - base + done, p + done, len);
            if (bar2->transport_dbg(t) != len) return false;
            done += len;
        }
        return true;
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
        if (side_fd_ >= 0) {
            const uint64_t one = 1;
            if (::write(side_fd_, &one, sizeof(one)) == static_cast<ssize_t>(sizeof(one))) ++side_signals_;
        }
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
                if (!is_read && bar == 0 && on_doorbell && off >= AAX_DOORBELL(0) &&
                    off < AAX_DOORBELL(AAX_MAX_RINGS) && (off - AAX_DOORBELL(0)) % 8 == 0)
                    on_doorbell(static_cast<unsigned>((off - AAX_DOORBELL(0)) / 8), static_cast<uint32_t>(val));
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
    uint64_t devmem_base_ = 0;
    int irqfd_ = -1, resamplefd_ = -1, side_fd_ = -1;
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
    counter side_signals_{"side_signals", "INTx assertions also sent as the ivshmem-doorbell MSI-X vector"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{"qemu"};
};

} // namespace accelvp::qemu_dev
