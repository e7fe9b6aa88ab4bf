// Stimulus tests of the device control block (tlm/ctrl/device_ctrl.h) bound alone: a register
// initiator on reg_socket (BAR0 offsets 0x0000-0x0FFF), interrupt lines raised on irq_in, an
// MSI-X sink on msi_out, reset sinks on reset_out and a control-core stub on core_out. Checks
// the register table of docs/abi.md (reset values, RO/WO/W1C rules, unmapped offsets), the
// timestamp and its latch, the interrupt summary (masking, one message per event, one message
// per line on unmask, line -> vector mapping), soft reset and the control-core registers.
#include <catch2/catch.hpp>

#include <utility>
#include <vector>

#include "abi/aax_boot.h"
#include "abi/aax_regs.h"
#include "stimulus_stubs.h"
#include "tlm/core/stats.h"
#include "tlm/ctrl/device_ctrl.h"

using namespace accelvp;

namespace {

device_ctrl::caps dcaps() {
    device_ctrl::caps c;
    c.rings = 4;
    c.cqs = 4;
    c.dma_engines = 1;
    c.msix_vectors = 18;
    c.semaphores = 1024;
    c.devmem_base = 0x0000004000000000ull;
    c.devmem_size = 0x0000000180000000ull;  // 6 GiB
    c.host_window = 0x0000100000000000ull;
    c.control_core = true;
    c.mmu = false;
    return c;
}

struct core_stub : sc_core::sc_module, core_ctrl_if {
    sc_core::sc_export<core_ctrl_if> in{"in"};
    std::vector<std::pair<bool, uint32_t>> runs;
    std::vector<uint64_t> windows;
    explicit core_stub(sc_core::sc_module_name n) : sc_module(n) { in.bind(*this); }
    void core_run(bool run, uint32_t entry) override { runs.emplace_back(run, entry); }
    void core_window(uint64_t a) override { windows.push_back(a); }
};

struct bench {
    stim::initiator host{"host"};
    device_ctrl ctrl;
    stim::irq_sink msi{"msi"};
    stim::reset_sink rst0{"rst0"}, rst1{"rst1"};
    explicit bench(const device_ctrl::caps& c = dcaps()) : ctrl("ctrl", c) {
        host.socket.bind(ctrl.reg_socket);
        ctrl.msi_out.bind(msi.in);
        ctrl.reset_out.bind(rst0.in);
        ctrl.reset_out.bind(rst1.in);
    }
    void raise(unsigned line) { ctrl.irq_in->raise(line); }
    std::vector<unsigned> vectors() const {
        std::vector<unsigned> v;
        for (const auto& g : msi.got) v.push_back(g.first);
        return v;
    }
};

} // namespace

TEST_CASE("device_ctrl stimulus: reset values of the register table", "[device_ctrl][stimulus]") {
    bench b;
    stim::run([&] {
        CHECK(b.host.read32(AAX_REG_ID) == 0x41415831u);
        CHECK(b.host.read32(AAX_REG_VERSION) == 0x00000002u);
        CHECK(b.host.read32(AAX_REG_CAPS0) == 0x12010404u);  // the example of docs/abi.md
        CHECK(b.host.read32(AAX_REG_CAPS1) == 0x00010400u);  // 1024 semaphores, control core, no MMU
        CHECK(b.host.read32(AAX_REG_DEV_STATUS) == AAX_DEV_STATUS_READY);
        CHECK(b.host.read32(AAX_REG_TIMESTAMP_HI) == 0);
        CHECK(b.host.read32(AAX_REG_DEVMEM_SIZE_LO) == 0x80000000u);
        CHECK(b.host.read32(AAX_REG_DEVMEM_SIZE_HI) == 0x1u);
        CHECK(b.host.read32(AAX_REG_HOST_WIN_LO) == 0);
        CHECK(b.host.read32(AAX_REG_HOST_WIN_HI) == 0x1000u);
        CHECK(b.host.read32(AAX_REG_SCRATCH) == 0);
        CHECK(b.host.read32(AAX_REG_DEVMEM_BASE_LO) == 0);
        CHECK(b.host.read32(AAX_REG_DEVMEM_BASE_HI) == 0x40u);
        CHECK(b.host.read32(AAX_REG_BOOT_STATUS) == AAX_BOOT_RESET);
        CHECK(b.host.read32(AAX_REG_CORE_ENTRY) == AAX_CORE_DEVMEM_WINDOW);
        for (uint32_t off : {AAX_REG_BOOT_ERR, AAX_REG_BOOT_PARAMS_LO, AAX_REG_BOOT_PARAMS_HI, AAX_REG_CORE_CTRL,
                             AAX_REG_FW_VERSION, AAX_REG_HEARTBEAT, AAX_REG_CORE_WIN_LO, AAX_REG_CORE_WIN_HI}) {
            INFO("offset 0x" << std::hex << off);
            CHECK(b.host.read32(off) == 0);
        }
        CHECK(b.host.read32(AAX_REG_IRQ_STATUS) == 0);
        CHECK(b.host.read32(AAX_REG_IRQ_MASK) == 0xFFFFFFFFu);
        CHECK(b.host.read32(AAX_REG_IRQ_RAW) == 0);
    });
}

TEST_CASE("device_ctrl stimulus: CAPS1 reports the MMU; CAPS0 fields are 8 bits", "[device_ctrl][stimulus]") {
    device_ctrl::caps c = dcaps();
    c.control_core = false;
    c.mmu = true;
    c.semaphores = 8;
    c.rings = 16;
    c.cqs = 2;
    c.dma_engines = 16;
    c.msix_vectors = 64;
    bench b(c);
    stim::run([&] {
        CHECK(b.host.read32(AAX_REG_CAPS1) == (8u | AAX_CAPS1_MMU));
        CHECK(b.host.read32(AAX_REG_CAPS0) == 0x40100210u);
    });
}

TEST_CASE("device_ctrl stimulus: RO writes and WO reads are command errors that change nothing; holes are address errors",
          "[device_ctrl][stimulus]") {
    bench b;
    stim::run([&] {
        for (uint32_t off : {AAX_REG_ID, AAX_REG_VERSION, AAX_REG_CAPS0, AAX_REG_CAPS1, AAX_REG_DEV_STATUS,
                             AAX_REG_TIMESTAMP_LO, AAX_REG_TIMESTAMP_HI, AAX_REG_DEVMEM_SIZE_LO, AAX_REG_HOST_WIN_HI,
                             AAX_REG_DEVMEM_BASE_HI, AAX_REG_IRQ_RAW}) {
            INFO("offset 0x" << std::hex << off);
            CHECK(b.host.write32(off, 0x12345678) == tlm::TLM_COMMAND_ERROR_RESPONSE);
        }
        CHECK(b.host.read32(AAX_REG_ID) == AAX_ID_MAGIC);
        CHECK(b.host.read32(AAX_REG_DEVMEM_BASE_HI) == 0x40u);
        CHECK(b.host.read32(AAX_REG_IRQ_RAW) == 0);
        CHECK(b.host.status_of_read(AAX_REG_RESET) == tlm::TLM_COMMAND_ERROR_RESPONSE);
        CHECK(b.host.status_of_read(AAX_REG_FW_IRQ) == tlm::TLM_COMMAND_ERROR_RESPONSE);
        for (uint32_t off : {0x003Cu, 0x0040u, 0x00FCu, 0x012Cu, 0x01FCu, 0x020Cu, 0x0FFCu}) {
            INFO("offset 0x" << std::hex << off);
            CHECK(b.host.status_of_read(off) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
            CHECK(b.host.write32(off, 1) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
        }
        CHECK(b.host.status_of_read(AAX_REG_SCRATCH + 1) == tlm::TLM_ADDRESS_ERROR_RESPONSE);  // unaligned
        uint64_t wide = 0;
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        CHECK(b.host.go(tlm::TLM_READ_COMMAND, AAX_REG_ID, &wide, 8, d) == tlm::TLM_BURST_ERROR_RESPONSE);
        CHECK(b.host.write32(AAX_REG_SCRATCH, 0x5A5AA5A5) == tlm::TLM_OK_RESPONSE);
        CHECK(b.host.read32(AAX_REG_SCRATCH) == 0x5A5AA5A5u);
    });
    CHECK(b.msi.got.empty());
    CHECK(b.rst0.resets == 0);
}

TEST_CASE("device_ctrl stimulus: TIMESTAMP is device ns; reading LO latches HI", "[device_ctrl][stimulus]") {
    bench b;
    std::vector<uint32_t> v;
    stim::run([&] {
        sc_core::wait(sc_core::sc_time(1234567, sc_core::SC_PS));
        v.push_back(b.host.read32(AAX_REG_TIMESTAMP_LO));  // 1234 ns
        v.push_back(b.host.read32(AAX_REG_TIMESTAMP_HI));
        sc_core::wait(sc_core::sc_time(5, sc_core::SC_SEC));  // 5e9 + 1234 ns = 0x1_2A05_F6D2
        v.push_back(b.host.read32(AAX_REG_TIMESTAMP_HI));     // not latched yet: still 0
        v.push_back(b.host.read32(AAX_REG_TIMESTAMP_LO));
        v.push_back(b.host.read32(AAX_REG_TIMESTAMP_HI));
        b.host.write32(AAX_REG_RESET, AAX_RESET_SOFT);  // a soft reset does not restart it
        sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));
        v.push_back(b.host.read32(AAX_REG_TIMESTAMP_LO));
    });
    const uint64_t t = 5000000000ull + 1234;
    CHECK(v == std::vector<uint32_t>{1234, 0, 0, static_cast<uint32_t>(t), static_cast<uint32_t>(t >> 32),
                                     static_cast<uint32_t>(t + 1000)});
}

TEST_CASE("device_ctrl stimulus: a masked line only sets RAW; unmasking sends its vector once", "[device_ctrl][stimulus]") {
    bench b;
    std::vector<uint32_t> st;
    stim::run([&] {
        b.raise(AAX_IRQ_LINE_ERROR);
        b.raise(AAX_IRQ_LINE_ERROR);
        b.raise(AAX_IRQ_CQ_SHIFT + 3);
        st.push_back(b.host.read32(AAX_REG_IRQ_RAW));
        st.push_back(b.host.read32(AAX_REG_IRQ_STATUS));
        sc_core::wait(sc_core::sc_time(10, sc_core::SC_NS));
        // Unmask ERROR and CQ 3 (and EVENT, which has no event): one message each.
        b.host.write32(AAX_REG_IRQ_MASK, ~(AAX_IRQ_ERROR | AAX_IRQ_CQ(3) | AAX_IRQ_EVENT));
        st.push_back(b.host.read32(AAX_REG_IRQ_STATUS));
        // Writing the same mask again sends nothing.
        b.host.write32(AAX_REG_IRQ_MASK, ~(AAX_IRQ_ERROR | AAX_IRQ_CQ(3) | AAX_IRQ_EVENT));
        // Masking a line hides it from STATUS but not from RAW.
        b.host.write32(AAX_REG_IRQ_MASK, ~(AAX_IRQ_ERROR | AAX_IRQ_EVENT));
        st.push_back(b.host.read32(AAX_REG_IRQ_STATUS));
        st.push_back(b.host.read32(AAX_REG_IRQ_RAW));
    });
    CHECK(st == std::vector<uint32_t>{AAX_IRQ_ERROR | AAX_IRQ_CQ(3), 0, AAX_IRQ_ERROR | AAX_IRQ_CQ(3), AAX_IRQ_ERROR,
                                      AAX_IRQ_ERROR | AAX_IRQ_CQ(3)});
    // Vectors in line order: ERROR -> 1, CQ 3 -> 5, both at the mask write (10 ns).
    REQUIRE(b.msi.got.size() == 2);
    CHECK(b.msi.got[0] == std::make_pair(1u, uint64_t{10000}));
    CHECK(b.msi.got[1] == std::make_pair(5u, uint64_t{10000}));
}

TEST_CASE("device_ctrl stimulus: every event on an unmasked line sends one message; STATUS is W1C",
          "[device_ctrl][stimulus]") {
    bench b;
    std::vector<uint32_t> st;
    stim::run([&] {
        b.host.write32(AAX_REG_IRQ_MASK, 0);
        b.raise(AAX_IRQ_CQ_SHIFT);
        b.raise(AAX_IRQ_CQ_SHIFT);  // already set in RAW: still a message
        b.raise(AAX_IRQ_LINE_MMU);
        st.push_back(b.host.read32(AAX_REG_IRQ_STATUS));
        // Write 1s clear those bits only; writing 0s does nothing.
        b.host.write32(AAX_REG_IRQ_STATUS, AAX_IRQ_CQ(0));
        st.push_back(b.host.read32(AAX_REG_IRQ_STATUS));
        b.host.write32(AAX_REG_IRQ_STATUS, 0);
        st.push_back(b.host.read32(AAX_REG_IRQ_RAW));
        b.host.write32(AAX_REG_IRQ_STATUS, 0xFFFFFFFF);
        st.push_back(b.host.read32(AAX_REG_IRQ_RAW));
    });
    CHECK(st == std::vector<uint32_t>{AAX_IRQ_CQ(0) | AAX_IRQ_MMU, AAX_IRQ_MMU, AAX_IRQ_MMU, 0});
    CHECK(b.vectors() == std::vector<unsigned>{2, 2, 1});
}

TEST_CASE("device_ctrl stimulus: line to MSI-X vector mapping; FW_IRQ raises a line", "[device_ctrl][stimulus]") {
    CHECK(device_ctrl::vector_for_line(AAX_IRQ_LINE_EVENT) == AAX_MSIX_VEC_EVENT);
    CHECK(device_ctrl::vector_for_line(AAX_IRQ_LINE_ERROR) == AAX_MSIX_VEC_ERROR);
    CHECK(device_ctrl::vector_for_line(AAX_IRQ_LINE_MMU) == AAX_MSIX_VEC_ERROR);
    CHECK(device_ctrl::vector_for_line(AAX_IRQ_LINE_BOOT) == AAX_MSIX_VEC_EVENT);
    for (unsigned l = 4; l < 16; ++l) CHECK(device_ctrl::vector_for_line(l) == AAX_MSIX_VEC_EVENT);
    for (unsigned c = 0; c < 16; ++c) CHECK(device_ctrl::vector_for_line(AAX_IRQ_CQ_SHIFT + c) == 2 + c);
    bench b;
    std::vector<uint32_t> raw;
    stim::run([&] {
        b.host.write32(AAX_REG_IRQ_MASK, 0);
        CHECK(b.host.write32(AAX_REG_FW_IRQ, AAX_IRQ_LINE_BOOT) == tlm::TLM_OK_RESPONSE);
        CHECK(b.host.write32(AAX_REG_FW_IRQ, AAX_IRQ_CQ_SHIFT + 15) == tlm::TLM_OK_RESPONSE);
        CHECK(b.host.write32(AAX_REG_FW_IRQ, 32) == tlm::TLM_OK_RESPONSE);  // no such line: ignored
        raw.push_back(b.host.read32(AAX_REG_IRQ_RAW));
    });
    CHECK(raw[0] == (AAX_IRQ_BOOT | AAX_IRQ_CQ(15)));
    CHECK(b.vectors() == std::vector<unsigned>{0, 17});
}

TEST_CASE("device_ctrl stimulus: soft reset masks every line, clears RAW, fans out, keeps SCRATCH; other values are ignored",
          "[device_ctrl][stimulus]") {
    bench b;
    std::vector<uint32_t> v;
    unsigned after_bad = 99;
    stim::run([&] {
        b.host.write32(AAX_REG_SCRATCH, 0xCAFE);
        b.host.write32(AAX_REG_IRQ_MASK, 0);
        b.raise(AAX_IRQ_LINE_ERROR);
        b.host.write32(AAX_REG_RESET, 0x3);  // not AAX_RESET_SOFT
        after_bad = b.rst0.resets;
        v.push_back(b.host.read32(AAX_REG_IRQ_RAW));
        b.host.write32(AAX_REG_RESET, AAX_RESET_SOFT);
        v.push_back(b.host.read32(AAX_REG_IRQ_RAW));
        v.push_back(b.host.read32(AAX_REG_IRQ_MASK));
        v.push_back(b.host.read32(AAX_REG_SCRATCH));
        b.raise(AAX_IRQ_LINE_ERROR);  // masked again: no message
        v.push_back(b.host.read32(AAX_REG_IRQ_STATUS));
    });
    CHECK(after_bad == 0);
    CHECK(v == std::vector<uint32_t>{AAX_IRQ_ERROR, 0, 0xFFFFFFFFu, 0xCAFE, 0});
    CHECK(b.rst0.resets == 1);
    CHECK(b.rst1.resets == 1);
    CHECK(b.vectors() == std::vector<unsigned>{1});  // only the event before the reset
}

TEST_CASE("device_ctrl stimulus: CORE_CTRL runs and holds the core, CORE_WIN moves its window", "[device_ctrl][stimulus]") {
    bench b;
    core_stub core("core");
    b.ctrl.core_out.bind(core.in);
    std::vector<uint32_t> boot;
    stim::run([&] {
        b.host.write32(AAX_REG_CORE_ENTRY, 0x80001000u);
        b.host.write32(AAX_REG_CORE_CTRL, AAX_CORE_RUN);
        b.host.write32(AAX_REG_BOOT_STATUS, AAX_BOOT_READY);  // the firmware's write
        boot.push_back(b.host.read32(AAX_REG_BOOT_STATUS));
        b.host.write32(AAX_REG_CORE_CTRL, 0);  // hold in reset: BOOT_STATUS back to RESET
        boot.push_back(b.host.read32(AAX_REG_BOOT_STATUS));
        b.host.write32(AAX_REG_CORE_WIN_LO, 0x00200000u);
        b.host.write32(AAX_REG_CORE_WIN_HI, 0x40u);
    });
    CHECK(core.runs == std::vector<std::pair<bool, uint32_t>>{{true, 0x80001000u}, {false, 0x80001000u}});
    CHECK(boot == std::vector<uint32_t>{AAX_BOOT_READY, AAX_BOOT_RESET});
    CHECK(core.windows == std::vector<uint64_t>{0x00200000u, 0x0000004000200000ull});
}
