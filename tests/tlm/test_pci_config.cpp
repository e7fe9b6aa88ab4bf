// PCI configuration space of the PCIe function (tlm/pcie/pci_config.h): identity, BAR
// sizing, BAR decode, the MSI-X capability, INTx status.
#include <catch2/catch.hpp>

#include "abi/aax_regs.h"
#include "tlm/pcie/pci_config.h"

using accelvp::pci_config;

namespace {
uint32_t rd(const pci_config& c, uint32_t off, unsigned len = 4) {
    uint32_t v = 0;
    REQUIRE(c.read(off, len, v));
    return v;
}
} // namespace

TEST_CASE("pci config: identity, class 0x12, header type 0, capability list", "[pcie][pci_config]") {
    pci_config c(256ull << 20, 18);
    CHECK(rd(c, 0x00) == (AAX_PCI_DEVICE_ID << 16 | AAX_PCI_VENDOR_ID));
    CHECK(rd(c, 0x00, 2) == AAX_PCI_VENDOR_ID);
    CHECK(rd(c, 0x02, 2) == AAX_PCI_DEVICE_ID);
    CHECK(rd(c, 0x08) == (0x12u << 24 | AAX_PCI_REVISION));  // class 0x12, subclass 0, prog-if 0
    CHECK(rd(c, 0x0A, 2) == 0x1200u);
    CHECK(rd(c, 0x0E, 1) == 0);
    CHECK((rd(c, 0x06, 2) & 0x10u) != 0);  // capabilities list
    CHECK(rd(c, 0x34, 1) == pci_config::msix_cap);
    CHECK(rd(c, 0x3D, 1) == 1);  // INTA
    CHECK(rd(c, 0x2C) == (AAX_PCI_DEVICE_ID << 16 | AAX_PCI_VENDOR_ID));
    // Unaligned, oversize or out-of-range accesses read all ones and are refused.
    uint32_t v = 0;
    CHECK_FALSE(c.read(0x01, 2, v));
    CHECK(v == 0xFFFFFFFFu);
    CHECK_FALSE(c.read(0x100, 4, v));
    CHECK_FALSE(c.read(0x00, 3, v));
    CHECK_FALSE(c.write(0xFE, 4, 0));
}

TEST_CASE("pci config: BAR sizing and programming, 32-bit BAR0 and 64-bit prefetchable BAR2", "[pcie][pci_config]") {
    pci_config c(256ull << 20, 18);
    CHECK(rd(c, 0x10) == 0);            // 32-bit memory, not prefetchable
    CHECK(rd(c, 0x18) == 0xCu);         // 64-bit, prefetchable
    // Sizing: all ones, read back, restore.
    c.write(0x10, 4, 0xFFFFFFFFu);
    CHECK(rd(c, 0x10) == ~(AAX_BAR0_SIZE - 1));
    c.write(0x18, 4, 0xFFFFFFFFu);
    c.write(0x1C, 4, 0xFFFFFFFFu);
    const uint64_t lo = rd(c, 0x18), hi = rd(c, 0x1C);
    CHECK((lo & 0xFu) == 0xCu);
    const uint64_t mask = (hi << 32) | (lo & ~0xFull);
    CHECK(~mask + 1 == (256ull << 20));  // size from the mask
    CHECK(rd(c, 0x14) == 0);             // BAR1 unimplemented: reads zero even after all ones
    c.write(0x14, 4, 0xFFFFFFFFu);
    CHECK(rd(c, 0x14) == 0);
    // Program and decode (memory decoding off: nothing decodes).
    c.write(0x10, 4, 0xFE000000u);
    c.write(0x18, 4, 0x00000000u);
    c.write(0x1C, 4, 0x00000008u);  // 0x8_0000_0000
    CHECK(c.bar_address(0) == 0xFE000000u);
    CHECK(c.bar_address(2) == 0x800000000ull);
    unsigned bar = 9;
    uint64_t off = 0;
    CHECK_FALSE(c.decode(0xFE000010u, bar, off));
    c.write(0x04, 2, pci_config::cmd_memory | pci_config::cmd_master);
    REQUIRE(c.decode(0xFE000010u, bar, off));
    CHECK(bar == 0);
    CHECK(off == 0x10);
    REQUIRE(c.decode(0x800000000ull + (256ull << 20) - 8, bar, off));
    CHECK(bar == 2);
    CHECK(off == (256ull << 20) - 8);
    CHECK_FALSE(c.decode(0x800000000ull + (256ull << 20), bar, off));
    CHECK_FALSE(c.decode(0xFE000000u + AAX_BAR0_SIZE, bar, off));
    // Read-only fields ignore writes.
    c.write(0x00, 4, 0x12345678u);
    CHECK(rd(c, 0x00, 2) == AAX_PCI_VENDOR_ID);
    c.reset();
    CHECK(c.bar_address(0) == 0);
    CHECK(rd(c, 0x04, 2) == 0);
}

TEST_CASE("pci config: MSI-X capability points at the BAR0 table and PBA, enable is writable", "[pcie][pci_config]") {
    pci_config c(1ull << 30, 18);
    const uint32_t cap = pci_config::msix_cap;
    CHECK(rd(c, cap, 1) == 0x11u);  // MSI-X
    CHECK(rd(c, cap + 1, 1) == 0);  // last capability
    CHECK((rd(c, cap + 2, 2) & 0x7FFu) == 17u);  // table size - 1
    CHECK(rd(c, cap + 4) == AAX_MSIX_ENTRY(0));  // offset 0x8000, BIR 0
    CHECK(rd(c, cap + 8) == AAX_MSIX_PBA(0));    // offset 0x9000, BIR 0
    CHECK_FALSE(c.msix_enabled());
    c.write(cap + 2, 2, 0x8000u | 0x7FFu);  // enable; the table size is read-only
    CHECK(c.msix_enabled());
    CHECK((rd(c, cap + 2, 2) & 0x7FFu) == 17u);
    // INTx status follows the level; INTx disable is in the command register.
    CHECK(c.intx_enabled());
    c.set_intx_level(true);
    CHECK((rd(c, 0x06, 2) & 0x8u) != 0);
    c.write(0x04, 2, pci_config::cmd_intx_disable);
    CHECK_FALSE(c.intx_enabled());
    c.set_intx_level(false);
    CHECK((rd(c, 0x06, 2) & 0x8u) == 0);
}
