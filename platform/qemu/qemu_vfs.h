// accelvp qemu --vfs N (docs/virtualization.md "SR-IOV through QEMU"): one simulated chip
// whose SR-IOV virtual functions are served to N QEMU guests, one x-pci-proxy-dev per VF.
//
// The PF stays in-process: accelvp's own driver model (platform/host/driver.cpp) probes the
// PF, boots the SR-IOV firmware, enables N VFs in config space and calls sriov_enable (VF k:
// ring k + 1, a device-memory partition from the top of device memory the size of the VF's
// BAR2 as its guest sees it, its guest's RAM as its VM memory, a share from host.vm_shares),
// as the PF driver of a hypervisor host would. QEMU 7.2's proxy is a conventional PCI device
// (no extended config space, so no SR-IOV capability a guest PF driver could use), which is
// why the PF is not in a guest.
//
// Each guest sees its VF as a PCI function of its own (device ID AAX_PCI_VF_DEVICE_ID, BAR0 the
// VF's register window, BAR2 a 32-bit window of its partition) that the aax module drives as
// it drives the PF (no control core, no MMU: CAPS1 = 0). Like a hypervisor, accelvp owns the
// VF's MSI-X table: it points each vector at a per-VF MSI page of the in-process host and turns
// every message into that guest's interrupt (the proxy's INTx eventfd and the ivshmem side
// channel); the guest's accesses to the table are dropped. Guest k's RAM is VM k's memory: the
// chip reaches it at host address vm_host_base(k) (the VF's MMU context maps it there).
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <systemc>
#include <tlm_utils/simple_initiator_socket.h>

#include "platform/chip/chip.h"
#include "platform/host/driver.h"
#include "platform/host/host_system.h"
#include "platform/qemu/mpqemu.h"
#include "platform/qemu/qemu_board.h"
#include "tlm/pcie/pci_config.h"

namespace accelvp::qemu_dev {

// One guest's proxy device: VF k.
class vf_port : public sc_core::sc_module {
public:
    tlm_utils::simple_initiator_socket<vf_port> bus;  // into the host bus (VF BARs)
    guest_ram ram;
    msi_receiver msi;  // the VF's MSI-X vectors all point here
    vf_port(sc_core::sc_module_name name, const config& c, unsigned k, int sock, uint64_t vf_bar0, uint64_t vf_bar2,
            uint64_t bar2_window, unsigned vectors, uint64_t vm_host_base);
    ~vf_port() override;
    bool handle(mpqemu::message& m);  // false: this guest reset the device after using it
    bool busy() const { return !pending_.empty() || in_flight_; }
    void set_side_channel(int efd) { side_fd_ = efd; }
    int sock() const { return sock_; }
    unsigned index() const { return k_; }
    uint64_t round_trips() const { return bar_reads_ + bar_writes_; }
    uint64_t irq_signals() const { return irq_signals_; }
    uint64_t dropped_msix() const { return dropped_msix_; }
    // The hypervisor's part of the VF's MSI-X table (the guest's own table writes are dropped):
    // every vector to `msi_addr`, data = the vector. Written at set-up, and again when the VF's
    // function-level reset count moves (an FLR masks the table; a host re-programs it, as
    // vfio's interrupt set-up does), checked after each of the guest's BAR accesses, so before
    // the guest can re-enable a ring. From an SC_THREAD.
    void program_msix(uint64_t msi_addr);
    std::function<uint64_t()> flr_count;  // this VF's FLRs at the endpoint (set by vf_board)
    uint64_t msix_restores() const { return msix_restores_; }
    uint64_t msis_at_last_restore() const { return msis_at_restore_; }
    std::function<uint64_t()> msi_count;  // this VF's MSI-X messages at the endpoint (set by vf_board)
    std::string error;  // a socket failure (bar_thread)
    bool ended = false;
    std::string end_reason;

private:
    void bar_thread();
    void irq_thread();
    void signal();
    unsigned k_;
    int sock_;
    uint64_t vf_bar0_, vf_bar2_;  // this VF's BARs on the host bus
    uint64_t host_win_;           // HOST_WIN as this guest reads it
    pci_config cfg_;
    int irqfd_ = -1, resamplefd_ = -1, side_fd_ = -1;
    bool used_ = false, in_flight_ = false;
    std::deque<mpqemu::bar_access> pending_;
    std::deque<int32_t> pending_cmd_;
    sc_core::sc_event ev_;
    uint64_t bar_reads_ = 0, bar_writes_ = 0, irq_signals_ = 0, dropped_msix_ = 0;
    unsigned vectors_;
    uint64_t msi_addr_ = 0, flrs_seen_ = 0, msix_restores_ = 0, msis_at_restore_ = 0;
};

// The chip, the in-process host with the PF driver, and the VF ports.
class vf_board : public sc_core::sc_module {
public:
    vf_board(sc_core::sc_module_name name, const config& c, const std::vector<int>& socks, uint64_t guest_mem);
    ~vf_board() override;
    host_system host;
    chip soc;
    driver drv;
    std::vector<std::unique_ptr<vf_port>> ports;
    // Set by the set-up thread: 0 when the PF probed and the VFs are enabled, else -errno.
    int setup_rc = 1;  // 1: not done yet
    std::string setup_error;
    static uint64_t vm_host_base(unsigned k) { return (1ull << 40) + (uint64_t{k} << 36); }
    uint64_t vf_bar0_base() const { return host.bar0() + 0x100000; }
    uint64_t vf_bar2_base() const { return host.bar2() + (1ull << 42); }
    static constexpr uint64_t bar2_window = 256ull << 20;  // what a guest maps of its partition

private:
    void setup_thread();
    uint64_t guest_mem_;
};

} // namespace accelvp::qemu_dev
