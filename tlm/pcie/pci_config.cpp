#include "tlm/pcie/pci_config.h"

#include "abi/aax_regs.h"

namespace accelvp {

pci_config::pci_config(uint64_t bar2_size, unsigned msix_vectors, bool bar2_64bit)
    : bar2_size_(bar2_size), msix_vectors_(msix_vectors), bar2_64bit_(bar2_64bit) {
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
}

bool pci_config::read(uint32_t off, unsigned len, uint32_t& val) const {
    if ((len != 1 && len != 2 && len != 4) || off % len || off + len > size) {
        val = 0xFFFFFFFFu;
        return false;
    }
    val = get(off, len);
    return true;
}

bool pci_config::write(uint32_t off, unsigned len, uint32_t val) {
    if ((len != 1 && len != 2 && len != 4) || off % len || off + len > size) return false;
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
