// PCI configuration space of the chip's PCIe function (type 0 header, 256 bytes).
//
//   0x00 vendor AAX_PCI_VENDOR_ID, device AAX_PCI_DEVICE_ID (abi/aax_regs.h)
//   0x04 command (memory space, bus master, INTx disable writable), status (capability
//        list; interrupt status = the INTx level)
//   0x08 revision AAX_PCI_REVISION, class 0x12 (processing accelerator), subclass 0, prog-if 0
//   0x10 BAR0: 32-bit memory, non-prefetchable, AAX_BAR0_SIZE (registers, MSI-X table)
//   0x18 BAR2: 64-bit memory, prefetchable (device memory window), power-of-two size
//        (or 32-bit prefetchable on request: QEMU 7.2's proxy maps every BAR as 32-bit)
//   0x2C subsystem vendor/device (same IDs), 0x34 capability pointer, 0x3C line (RW), 0x3D pin = INTA
//   0x40 MSI-X capability: table at BAR0 0x8000, PBA at BAR0 0x9000 (abi/aax_regs.h)
//
// With SR-IOV (max_vfs > 0) config space is PCIe's 4 KiB and holds the SR-IOV extended
// capability at 0x100 (abi/aax_sriov.h): TotalVFs = InitialVFs = max_vfs, NumVFs and VF
// Enable / VF MSE writable, VF BAR0 (32-bit, AAX_BAR0_SIZE per VF) and VF BAR2/3 (64-bit
// prefetchable, vf_bar2_size per VF), VF k at VF BARn + k * size.
//
// BAR sizing works as on hardware: the address bits below the size read as zero, so
// writing all ones and reading back gives ~(size - 1) | type bits.
#pragma once

#include <array>
#include <cstdint>

namespace accelvp {

class pci_config {
public:
    static constexpr unsigned size = 256;       // conventional config space (no VFs)
    static constexpr unsigned ext_size = 4096;  // PCIe extended config space (with VFs)
    static constexpr uint32_t msix_cap = 0x40;
    // Command register bits.
    static constexpr uint16_t cmd_memory = 1u << 1, cmd_master = 1u << 2, cmd_intx_disable = 1u << 10;

    // bar2_64bit false: BAR2 is a 32-bit prefetchable BAR (hosts that cannot map 64-bit BARs).
    pci_config(uint64_t bar2_size, unsigned msix_vectors, bool bar2_64bit = true, unsigned max_vfs = 0,
               uint64_t vf_bar2_size = 0);

    // Config read/write of len 1, 2 or 4 bytes at off (naturally aligned, < 256, or < 4096 with VFs). A read
    // outside that returns all ones; such a write is ignored. Returns false for them.
    bool read(uint32_t off, unsigned len, uint32_t& val) const;
    bool write(uint32_t off, unsigned len, uint32_t val);

    // The base address the host programmed into BAR0 or BAR2 (0 if unprogrammed or the
    // BAR is not a memory BAR of this function).
    uint64_t bar_address(unsigned bar) const;
    uint64_t bar_size(unsigned bar) const;
    // Which BAR an address falls in (memory decoding must be on); offset within it.
    bool decode(uint64_t addr, unsigned& bar, uint64_t& offset) const;

    uint16_t command() const { return static_cast<uint16_t>(get(0x04, 2)); }
    bool msix_enabled() const { return get(msix_cap + 2, 2) & 0x8000u; }
    bool msix_function_masked() const { return get(msix_cap + 2, 2) & 0x4000u; }
    // INTx: the level the function drives (reflected in status bit 3) and whether
    // the command register lets it out.
    void set_intx_level(bool on);
    bool intx_level() const { return get(0x06, 2) & 0x8u; }
    bool intx_enabled() const { return !(command() & cmd_intx_disable); }
    // SR-IOV: VFs the host enabled (NumVFs while VF Enable is set, else 0), and where VF k's
    // BAR0 / BAR2 window is (0: unprogrammed or VF memory space off).
    unsigned max_vfs() const { return max_vfs_; }
    unsigned vfs_enabled() const;
    uint64_t vf_bar_address(unsigned bar, unsigned vf) const;
    uint64_t vf_bar2_size() const { return vf_bar2_size_; }
    // Back to the power-on state (BARs unprogrammed, MSI-X disabled).
    void reset();

private:
    uint32_t get(uint32_t off, unsigned len) const;
    void put(uint32_t off, unsigned len, uint32_t v);
    unsigned limit() const { return max_vfs_ ? ext_size : size; }
    std::array<uint8_t, ext_size> bytes_{};
    std::array<uint8_t, ext_size> wmask_{};  // writable bits
    uint64_t bar2_size_;
    unsigned msix_vectors_;
    bool bar2_64bit_;
    unsigned max_vfs_;
    uint64_t vf_bar2_size_;
};

} // namespace accelvp
