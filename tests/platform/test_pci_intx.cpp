// The PCIe endpoint's config space on a whole board, and INTx for hosts without MSI-X
// (the QEMU proxy path): every interrupt event asserts the line while MSI-X is disabled
// in config space; the line follows IRQ_STATUS.
#include "tests/platform/harness.h"

using namespace accelvp;

TEST_CASE("pcie: config space of the board's endpoint; INTx follows IRQ_STATUS", "[pcie][intx]") {
    test::harness h({"pcie.bar2_size=268435456"});
    std::vector<int> edges;
    uint32_t id = 0, bar2_lo = 0, bar2_hi = 0, st_on = 0, st_off = 0;
    bool masked_asserted = true;
    h.run([&](uapi::device& dev, workload_context&) {
        auto& ep = dev.drv().host().cpu;  // MMIO from the host CPU thread
        pcie_endpoint& pcie = h.top().soc.pcie;
        pcie.cfg_read(0, 4, id);
        pcie.cfg_write(0x18, 4, 0xFFFFFFFFu);
        pcie.cfg_write(0x1C, 4, 0xFFFFFFFFu);
        pcie.cfg_read(0x18, 4, bar2_lo);
        pcie.cfg_read(0x1C, 4, bar2_hi);
        pcie.set_intx_sink([&](bool on) { edges.push_back(on ? 1 : 0); });
        const uint64_t bar0 = dev.drv().host().bar0();
        ep.mmio_write32(bar0 + AAX_REG_FW_IRQ, AAX_IRQ_CQ_SHIFT);  // CQ 0 line: unmasked by the driver
        uint32_t v = 0;
        ep.mmio_read32(bar0 + AAX_REG_IRQ_STATUS, v);  // orders after the write
        pcie.cfg_read(0x06, 2, st_on);
        ep.mmio_write32(bar0 + AAX_REG_IRQ_STATUS, v);  // W1C: the line drops
        ep.mmio_read32(bar0 + AAX_REG_IRQ_STATUS, v);
        pcie.cfg_read(0x06, 2, st_off);
        // A masked line does not assert.
        ep.mmio_write32(bar0 + AAX_REG_FW_IRQ, AAX_IRQ_LINE_BOOT);
        ep.mmio_read32(bar0 + AAX_REG_IRQ_STATUS, v);
        masked_asserted = pcie.intx_asserted();
    });
    REQUIRE(h.finished());
    CHECK(id == (AAX_PCI_DEVICE_ID << 16 | AAX_PCI_VENDOR_ID));
    CHECK((bar2_lo & 0xFu) == 0xCu);
    CHECK((~((uint64_t(bar2_hi) << 32) | (bar2_lo & ~0xFu)) + 1) == (256ull << 20));
    CHECK(edges == std::vector<int>{1, 0});
    CHECK((st_on & 0x8u) != 0);
    CHECK((st_off & 0x8u) == 0);
    CHECK_FALSE(masked_asserted);
}
