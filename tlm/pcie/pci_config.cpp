#include "tlm/pcie/pci_config.h"

#include "abi/aax_regs.h"
#include "abi/aax_sriov.h"

namespace accelvp {

pci_config::pci_config(uint64_t bar2_size, unsigned msix_vectors, bool bar2_64bit, unsigned max_vfs,
                       uint64_t vf_bar2_size)
    : bar2_size_(bar2_size), msix_vectors_(msix_vectors), bar2_64bit_(bar2_64bit), max_vfs_(max_vfs),
      vf_bar2_size_(vf_bar2_size) {
    reset();
}

uint32_t pci_config::get(uint32_t off, unsigned len) const {
    uint32_t v = 0;
    for (unsigned i = 0; i < len; ++i) v |= static_cast<uint32_t>(bytes_[off + i]) << (8 * i);
    return v;
}

void pci_config::put(uint32_t off, unsigned len, uint32_t v) {
    for (unsigned i = 0; i < len; ++i) bytes_[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

void pci_config::reset() {
    bytes_.fill(0);
    wmask_.fill(0);
    auto wm = [this](uint32_t off, unsigned len, uint32_t m) {
        for (unsigned i = 0; i < len; ++i) wmask_[off + i] = static_cast<uint8_t>(m >> (8 * i));
    };
    put(0x00, 2, AAX_PCI_VENDOR_ID);
    put(0x02, 2, AAX_PCI_DEVICE_ID);
    wm(0x04, 2, cmd_memory | cmd_master | cmd_intx_disable);
    put(0x06, 2, 1u << 4);  // capability list
    put(0x08, 1, AAX_PCI_REVISION);
    put(0x09, 3, AAX_PCI_CLASS << 16);  // prog-if 0, subclass 0, class 0x12
    put(0x0E, 1, 0);                    // header type 0, single function
    // BAR0: 32-bit non-prefetchable memory.
    put(0x10, 4, 0);
    wm(0x10, 4, ~(AAX_BAR0_SIZE - 1));
    // BAR2/3: 64-bit prefetchable memory (or BAR2 alone, 32-bit prefetchable).
    const uint64_t m2 = ~(bar2_size_ - 1);
    put(0x18, 4, (bar2_64bit_ ? 0x4u : 0x0u) | 0x8u);
    wm(0x18, 4, static_cast<uint32_t>(m2) & ~0xFu);
    if (bar2_64bit_) wm(0x1C, 4, static_cast<uint32_t>(m2 >> 32));
    put(0x2C, 2, AAX_PCI_VENDOR_ID);
    put(0x2E, 2, AAX_PCI_DEVICE_ID);
    put(0x34, 1, msix_cap);
    wm(0x3C, 1, 0xFF);   // interrupt line: for the OS
    put(0x3D, 1, 1);     // INTA
    // MSI-X: ID 0x11, last capability; table size N-1, enable (bit 15) and function mask (bit 14) writable.
    put(msix_cap + 0, 1, 0x11);
    put(msix_cap + 1, 1, 0);
    put(msix_cap + 2, 2, (msix_vectors_ - 1) & 0x7FFu);
    wm(msix_cap + 2, 2, 0xC000u);
    put(msix_cap + 4, 4, AAX_MSIX_ENTRY(0) | 0u);  // table: BAR0 (BIR 0)
    put(msix_cap + 8, 4, AAX_MSIX_PBA(0) | 0u);    // PBA: BAR0
    if (!max_vfs_) return;
    // SR-IOV extended capability (PCIe base spec 9.3.3), the only extended capability.
    const uint32_t c = AAX_SRIOV_CAP;
    put(c, 4, AAX_SRIOV_CAP_ID | 1u << 16);  // version 1, next 0
    put(c + 0x04, 4, 0);                      // SR-IOV capabilities: no migration
    wm(c + AAX_SRIOV_CTRL, 2, AAX_SRIOV_CTRL_VFE | AAX_SRIOV_CTRL_MSE);
    put(c + AAX_SRIOV_INITIAL_VFS, 2, max_vfs_);
    put(c + AAX_SRIOV_TOTAL_VFS, 2, max_vfs_);
    wm(c + AAX_SRIOV_NUM_VFS, 2, 0xFFFF);
    put(c + AAX_SRIOV_VF_OFFSET, 2, 1);
    put(c + AAX_SRIOV_VF_STRIDE, 2, 1);
    put(c + AAX_SRIOV_VF_DEVICE, 2, AAX_PCI_VF_DEVICE_ID);
    put(c + AAX_SRIOV_PAGE_SIZES, 4, 1);  // 4 KiB
    put(c + AAX_SRIOV_SYS_PAGE_SIZE, 4, 1);
    wm(c + AAX_SRIOV_SYS_PAGE_SIZE, 4, 1);
    wm(c + AAX_SRIOV_VF_BAR(0), 4, ~(AAX_BAR0_SIZE - 1));
    const uint64_t m = ~(vf_bar2_size_ - 1);
    put(c + AAX_SRIOV_VF_BAR(2), 4, 0x4u | 0x8u);
    wm(c + AAX_SRIOV_VF_BAR(2), 4, static_cast<uint32_t>(m) & ~0xFu);
    wm(c + AAX_SRIOV_VF_BAR(3), 4, static_cast<uint32_t>(m >> 32));
}

unsigned pci_config::vfs_enabled() const {
    if (!max_vfs_ || !(get(AAX_SRIOV_CAP + AAX_SRIOV_CTRL, 2) & AAX_SRIOV_CTRL_VFE)) return 0;
    const unsigned n = get(AAX_SRIOV_CAP + AAX_SRIOV_NUM_VFS, 2);
    return n > max_vfs_ ? 0 : n;  // an impossible NumVFs enables none
}

uint64_t pci_config::vf_bar_address(unsigned bar, unsigned vf) const {
    if (vf >= vfs_enabled() || !(get(AAX_SRIOV_CAP + AAX_SRIOV_CTRL, 2) & AAX_SRIOV_CTRL_MSE)) return 0;
    const uint32_t c = AAX_SRIOV_CAP;
    if (bar == 0) {
        const uint64_t b = get(c + AAX_SRIOV_VF_BAR(0), 4) & ~0xFu;
        return b ? b + static_cast<uint64_t>(vf) * AAX_BAR0_SIZE : 0;
    }
    if (bar == 2) {
        const uint64_t b = (get(c + AAX_SRIOV_VF_BAR(2), 4) & ~0xFu) | static_cast<uint64_t>(get(c + AAX_SRIOV_VF_BAR(3), 4)) << 32;
        return b ? b + vf * vf_bar2_size_ : 0;
    }
    return 0;
}

bool pci_config::read(uint32_t off, unsigned len, uint32_t& val) const {
    if ((len != 1 && len != 2 && len != 4) || off % len || off >= limit() || len > limit() - off) {
        val = 0xFFFFFFFFu;
        return false;
    }
    val = get(off, len);
    return true;
}

bool pci_config::write(uint32_t off, unsigned len, uint32_t val) {
    if ((len != 1 && len != 2 && len != 4) || off % len || off >= limit() || len > limit() - off) return false;
    for (unsigned i = 0; i < len; ++i) {
        const uint8_t m = wmask_[off + i];
        const uint8_t b = static_cast<uint8_t>(val >> (8 * i));
        bytes_[off + i] = static_cast<uint8_t>((bytes_[off + i] & ~m) | (b & m));
    }
    return true;
}

uint64_t pci_config::bar_size(unsigned bar) const {
    return bar == 0 ? AAX_BAR0_SIZE : bar == 2 ? bar2_size_ : 0;
}

uint64_t pci_config::bar_address(unsigned bar) const {
    if (bar == 0) return get(0x10, 4) & ~0xFu;
    if (bar == 2) return (get(0x18, 4) & ~0xFu) | (bar2_64bit_ ? static_cast<uint64_t>(get(0x1C, 4)) << 32 : 0);
    return 0;
}

bool pci_config::decode(uint64_t addr, unsigned& bar, uint64_t& offset) const {
    if (!(command() & cmd_memory)) return false;
    for (unsigned b : {0u, 2u}) {
        const uint64_t base = bar_address(b);
        if (base != 0 && addr >= base && addr - base < bar_size(b)) {
            bar = b;
            offset = addr - base;
            return true;
        }
    }
    return false;
}

void pci_config::set_intx_level(bool on) {
    uint32_t st = get(0x06, 2);
    put(0x06, 2, on ? (st | 0x8u) : (st & ~0x8u));
}

} // namespace accelvp
