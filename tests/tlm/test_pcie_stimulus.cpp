// Stimulus tests of the PCIe endpoint (tlm/pcie/pcie_endpoint.h) bound alone: host initiators on
// BAR0 and BAR2, a device-side initiator on from_chip, another on the MSI-X table socket, a
// memory stub as host memory (to_host) and one as the chip (to_chip: device memory at
// devmem_base and the register space at regs_base). Timing is checked against the link formula:
// each direction a timeline at lanes x rate x coding, a transfer pays its bytes plus one TLP
// overhead per max_payload (a read request is one header-only TLP) plus the one-way latency;
// writes are posted. Gen1 x4 gives exactly 1 GB/s (1 ns per byte on the wire).
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "abi/aax_regs.h"
#include "stimulus_stubs.h"
#include "tlm/core/stats.h"
#include "tlm/pcie/pcie_endpoint.h"

using namespace accelvp;

namespace {

constexpr uint64_t kDevmem = 0x0000004000000000ull;  // chip address of BAR2 offset 0
constexpr uint64_t kRegs = kDevmem + 0x80000;          // chip address of BAR0 (same stub, above BAR2)
constexpr uint64_t kOvh = 24, kLat = 100000;           // TLP overhead bytes, one-way latency (ps)

pcie_endpoint::params pparams(unsigned vectors = 18) {
    pcie_endpoint::params p;
    p.gen = 1;
    p.lanes = 4;
    p.max_payload = 128;
    p.tlp_overhead_bytes = kOvh;
    p.latency_ns = 100;
    p.msix_vectors = vectors;
    p.regs_base = kRegs;
    p.devmem_base = kDevmem;
    p.devmem_size = 0x80000;
    return p;
}

// Wire time (ps) of `bytes` payload: 1000 ps per byte incl. one overhead per 128 bytes.
uint64_t wire(uint64_t bytes) { return 1000 * (bytes + (bytes == 0 ? 1 : (bytes + 127) / 128) * kOvh); }

struct bench {
    stim::initiator bar0{"bar0"}, bar2{"bar2"}, dev{"dev"}, msix{"msix"};
    pcie_endpoint ep;
    stim::mem_stub host{"host", 0, 1u << 20};
    stim::mem_stub chip;
    explicit bench(unsigned vectors = 18, uint64_t chip_latency_ps = 0)
        : ep("pcie", pparams(vectors)), chip("chip", kDevmem, 0x90000, chip_latency_ps) {
        REQUIRE(pcie_endpoint::raw_bytes_per_s(ep.get_params()) == 1e9);
        bar0.socket.bind(ep.bar0_socket);
        bar2.socket.bind(ep.bar2_socket);
        dev.socket.bind(ep.from_chip);
        msix.socket.bind(ep.msix_socket);
        ep.to_host.bind(host.socket);
        ep.to_chip.bind(chip.socket);
    }
    static uint64_t entry(unsigned v, uint32_t field) { return AAX_MSIX_ENTRY(v) - AAX_MSIX_WINDOW_BASE + field; }
    static uint64_t pba(unsigned w) { return AAX_MSIX_PBA(w) - AAX_MSIX_WINDOW_BASE; }
};

uint64_t stat(const char* name) {
    auto* s = dynamic_cast<const counter*>(global_stats().find("pcie", name));
    REQUIRE(s);
    return s->get();
}

} // namespace

TEST_CASE("pcie stimulus: link bandwidth from generation, lanes and coding; effective after TLP overhead",
          "[pcie][stimulus]") {
    pcie_endpoint::params p = pparams();
    CHECK(pcie_endpoint::raw_bytes_per_s(p) == 1e9);  // 2.5 GT/s x 8b/10b x 4 lanes / 8
    CHECK(pcie_endpoint::effective_bytes_per_s(p) == Approx(1e9 * 128 / 152));
    p.gen = 4;
    p.lanes = 16;
    CHECK(pcie_endpoint::raw_bytes_per_s(p) == Approx(16e9 * 128 / 130 * 16 / 8));
    p.gen = 6;
    CHECK(pcie_endpoint::raw_bytes_per_s(p) == Approx(64e9 * 242 / 256 * 16 / 8));
}

TEST_CASE("pcie stimulus: a BAR2 write is posted: free after serialization, lands one latency later", "[pcie][stimulus]") {
    bench b;
    std::vector<uint8_t> src(300);
    for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 29 + 3);
    std::vector<uint64_t> d;
    stim::run([&] {
        sc_core::sc_time t = sc_core::SC_ZERO_TIME;
        REQUIRE(b.bar2.go(tlm::TLM_WRITE_COMMAND, 0x1000, src.data(), 300, t) == tlm::TLM_OK_RESPONSE);
        d.push_back(t.value());
        t = sc_core::SC_ZERO_TIME;  // a second write queues behind the first on the h2d direction
        REQUIRE(b.bar2.go(tlm::TLM_WRITE_COMMAND, 0x2000, src.data(), 128, t) == tlm::TLM_OK_RESPONSE);
        d.push_back(t.value());
    });
    CHECK(d == std::vector<uint64_t>{wire(300), wire(300) + wire(128)});  // 372 ns, 372 + 152 ns
    REQUIRE(b.chip.log.size() == 2);
    CHECK(b.chip.log[0].addr == kDevmem + 0x1000);
    CHECK(b.chip.log[0].arrive_ps == wire(300) + kLat);
    CHECK(b.chip.log[1].arrive_ps == wire(300) + wire(128) + kLat);
    CHECK(std::memcmp(b.chip.at(kDevmem + 0x1000), src.data(), 300) == 0);
    CHECK(stat("tlps") == 3 + 1);
    CHECK(stat("bytes_h2d") == 428);
}

TEST_CASE("pcie stimulus: a BAR2 read is a header-only request one way and the data completion back",
          "[pcie][stimulus]") {
    bench b(18, 50000);  // the chip answers after 50 ns
    for (unsigned i = 0; i < 300; ++i) b.chip.bytes[0x400 + i] = static_cast<uint8_t>(i ^ 0x5A);
    std::vector<uint8_t> dst(300, 0);
    uint64_t done = 0;
    stim::run([&] {
        sc_core::sc_time t = sc_core::SC_ZERO_TIME;
        REQUIRE(b.bar2.go(tlm::TLM_READ_COMMAND, 0x400, dst.data(), 300, t) == tlm::TLM_OK_RESPONSE);
        done = stim::now_ps() + t.value();
    });
    REQUIRE(b.chip.log.size() == 1);
    CHECK(b.chip.log[0].arrive_ps == wire(0) + kLat);                   // 124 ns
    CHECK(done == wire(0) + kLat + 50000 + wire(300) + kLat);           // + 50 + 372 + 100 = 646 ns
    CHECK(std::memcmp(dst.data(), b.chip.at(kDevmem + 0x400), 300) == 0);
    CHECK(stat("bytes_d2h") == 300);  // a read's data travels device to host
}

TEST_CASE("pcie stimulus: a device read's request queues behind its earlier writes on d2h, the data comes back h2d",
          "[pcie][stimulus]") {
    bench b;
    std::vector<uint8_t> src(256, 0xE7), dst(64, 0);
    for (unsigned i = 0; i < 64; ++i) b.host.bytes[0x9000 + i] = static_cast<uint8_t>(i + 1);
    std::vector<uint64_t> d;
    stim::run([&] {
        sc_core::sc_time t = sc_core::SC_ZERO_TIME;
        REQUIRE(b.dev.go(tlm::TLM_WRITE_COMMAND, 0x8000, src.data(), 256, t) == tlm::TLM_OK_RESPONSE);
        d.push_back(t.value());
        t = sc_core::SC_ZERO_TIME;
        REQUIRE(b.dev.go(tlm::TLM_READ_COMMAND, 0x9000, dst.data(), 64, t) == tlm::TLM_OK_RESPONSE);
        d.push_back(t.value());
    });
    // The write: 2 TLPs, 256 + 48 ns on d2h. The read's header-only request follows it on d2h
    // (304 + 24 ns, lands 100 ns later); its 64-byte completion crosses h2d: + 88 + 100 ns.
    CHECK(d == std::vector<uint64_t>{wire(256), wire(256) + wire(0) + kLat + wire(64) + kLat});
    REQUIRE(b.host.log.size() == 2);
    CHECK(b.host.log[0].addr == 0x8000);  // host addresses pass unchanged
    CHECK(b.host.log[0].arrive_ps == wire(256) + kLat);
    CHECK(b.host.log[1].arrive_ps == wire(256) + wire(0) + kLat);  // 428 ns: behind the write
    CHECK(std::memcmp(b.host.at(0x8000), src.data(), 256) == 0);
    CHECK(std::memcmp(dst.data(), b.host.at(0x9000), 64) == 0);
    CHECK(stat("bytes_d2h") == 256);  // the device's write
    CHECK(stat("bytes_h2d") == 64);   // the read's completion
}

TEST_CASE("pcie stimulus: BAR0 writes are posted and applied when they land; a read waits for them", "[pcie][stimulus]") {
    bench b(18, 50000);
    uint32_t v = 0;
    uint64_t write_free = 0, read_done = 0;
    stim::run([&] {
        sc_core::sc_time t = sc_core::SC_ZERO_TIME;
        uint32_t w = 0x5A5AA5A5;
        REQUIRE(b.bar0.go(tlm::TLM_WRITE_COMMAND, AAX_REG_SCRATCH, &w, 4, t) == tlm::TLM_OK_RESPONSE);
        write_free = t.value();
        CHECK(b.chip.log.empty());  // not applied yet: it is on the wire
        t = sc_core::SC_ZERO_TIME;
        REQUIRE(b.bar0.go(tlm::TLM_READ_COMMAND, AAX_REG_SCRATCH, &v, 4, t) == tlm::TLM_OK_RESPONSE);
        read_done = stim::now_ps() + t.value();
    });
    CHECK(write_free == wire(4));  // 28 ns
    REQUIRE(b.chip.log.size() == 2);
    const auto& w = b.chip.log[0];
    const auto& r = b.chip.log[1];
    CHECK(w.write);
    CHECK(w.addr == kRegs + AAX_REG_SCRATCH);
    CHECK(w.now_ps == wire(4) + kLat);  // applied at its arrival (128 ns)
    CHECK(w.privileged);                // the host's BAR0 path passes the register firewall
    CHECK_FALSE(r.write);
    CHECK(r.privileged);
    // The read's request follows the write on h2d: 28 + 24 + 100 = 152 ns at the chip.
    CHECK(r.now_ps == wire(4) + wire(0) + kLat);
    CHECK(read_done == wire(4) + wire(0) + kLat + 50000 + wire(4) + kLat);  // + 50 + 28 + 100 = 330 ns
    CHECK(v == 0x5A5AA5A5u);
}

TEST_CASE("pcie stimulus: BAR0 and BAR2 decode: out of range, firmware window, chip errors", "[pcie][stimulus]") {
    bench b;
    b.chip.faults.push_back({kRegs + 0xB000, kRegs + 0xC000, tlm::TLM_ADDRESS_ERROR_RESPONSE});
    b.chip.put<uint32_t>(kRegs + 0xA004, 0x11111111);
    std::vector<tlm::tlm_response_status> s;
    uint32_t fw = 0xFFFFFFFF;
    stim::run([&] {
        uint32_t v = 7;
        sc_core::sc_time t = sc_core::SC_ZERO_TIME;
        s.push_back(b.bar0.go(tlm::TLM_READ_COMMAND, AAX_BAR0_SIZE, &v, 4, t));
        s.push_back(b.bar0.go(tlm::TLM_WRITE_COMMAND, AAX_BAR0_SIZE + 0x30, &v, 4, t));
        s.push_back(b.bar2.go(tlm::TLM_READ_COMMAND, 0x80000, &v, 4, t));  // = devmem_size
        s.push_back(b.bar2.go(tlm::TLM_WRITE_COMMAND, 0x7FFFC, &v, 4, t)); // last word: fine
        s.push_back(b.bar0.go(tlm::TLM_READ_COMMAND, 0xB000, &v, 4, t));   // the chip says address error
        t = sc_core::SC_ZERO_TIME;
        s.push_back(b.bar0.go(tlm::TLM_READ_COMMAND, 0xA004, &fw, 4, t));  // firmware window: reads 0
        s.push_back(b.bar0.go(tlm::TLM_WRITE_COMMAND, 0xA004, &v, 4, t));  // ... writes dropped
        sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));
    });
    CHECK(s == std::vector<tlm::tlm_response_status>{tlm::TLM_ADDRESS_ERROR_RESPONSE, tlm::TLM_ADDRESS_ERROR_RESPONSE,
                                                     tlm::TLM_ADDRESS_ERROR_RESPONSE, tlm::TLM_OK_RESPONSE,
                                                     tlm::TLM_ADDRESS_ERROR_RESPONSE, tlm::TLM_OK_RESPONSE,
                                                     tlm::TLM_OK_RESPONSE});
    CHECK(fw == 0);
    CHECK(b.chip.get<uint32_t>(kRegs + 0xA004) == 0x11111111u);
    for (const auto& a : b.chip.log) CHECK(a.addr != kRegs + 0xA004);  // never forwarded
    CHECK(b.chip.log.size() == 2);  // the BAR2 write and the failed register read
    CHECK(stat("errors") == 4);
}

TEST_CASE("pcie stimulus: MSI-X table reset values and access rules", "[pcie][stimulus]") {
    bench b(40);  // 40 vectors: two PBA words
    stim::run([&] {
        for (unsigned v : {0u, 17u, 39u}) {
            INFO("vector " << v);
            CHECK(b.msix.read32(bench::entry(v, AAX_MSIX_ADDR_LO)) == 0);
            CHECK(b.msix.read32(bench::entry(v, AAX_MSIX_ADDR_HI)) == 0);
            CHECK(b.msix.read32(bench::entry(v, AAX_MSIX_DATA)) == 0);
            CHECK(b.msix.read32(bench::entry(v, AAX_MSIX_CTRL)) == 1);  // masked
        }
        CHECK(b.msix.read32(bench::pba(0)) == 0);
        CHECK(b.msix.read32(bench::pba(1)) == 0);
        CHECK(b.msix.status_of_read(bench::pba(2)) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
        CHECK(b.msix.status_of_read(bench::entry(40, AAX_MSIX_CTRL)) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
        CHECK(b.msix.write32(bench::pba(0), 1) == tlm::TLM_COMMAND_ERROR_RESPONSE);  // RO
        CHECK(b.msix.write32(bench::entry(39, AAX_MSIX_DATA), 0xFEED) == tlm::TLM_OK_RESPONSE);
        CHECK(b.msix.read32(bench::entry(39, AAX_MSIX_DATA)) == 0xFEEDu);
    });
}

TEST_CASE("pcie stimulus: an MSI-X message is a posted write of DATA to ADDR behind earlier device writes",
          "[pcie][stimulus]") {
    bench b;
    std::vector<uint8_t> payload(1024, 0x42);
    stim::run([&] {
        b.msix.write32(bench::entry(3, AAX_MSIX_ADDR_LO), 0xFF000);
        b.msix.write32(bench::entry(3, AAX_MSIX_ADDR_HI), 0);
        b.msix.write32(bench::entry(3, AAX_MSIX_DATA), 0xABCD0003);
        b.msix.write32(bench::entry(3, AAX_MSIX_CTRL), 0);
        // A completion record (1 KiB here) then its interrupt, both at t = 0.
        sc_core::sc_time t = sc_core::SC_ZERO_TIME;
        REQUIRE(b.dev.go(tlm::TLM_WRITE_COMMAND, 0x4000, payload.data(), 1024, t) == tlm::TLM_OK_RESPONSE);
        b.ep.msi_in->raise(3);
        sc_core::wait(sc_core::sc_time(10, sc_core::SC_US));
    });
    REQUIRE(b.host.log.size() == 2);
    CHECK(b.host.log[0].arrive_ps == wire(1024) + kLat);              // 1216 + 100 ns
    CHECK(b.host.log[1].addr == 0xFF000);
    CHECK(b.host.log[1].len == 4);
    CHECK(b.host.log[1].arrive_ps == wire(1024) + wire(4) + kLat);   // queued behind it: 1344 ns
    CHECK(b.host.get<uint32_t>(0xFF000) == 0xABCD0003u);
    CHECK(stat("msi_sent") == 1);
}

TEST_CASE("pcie stimulus: a masked vector sets its pending bit and fires once when unmasked; unknown vectors drop",
          "[pcie][stimulus]") {
    bench b(40);
    std::vector<uint32_t> pba;
    size_t before_unmask = 99;
    uint64_t unmask_at = 0;
    stim::run([&] {
        b.msix.write32(bench::entry(34, AAX_MSIX_ADDR_LO), 0x100);
        b.msix.write32(bench::entry(34, AAX_MSIX_DATA), 34);
        b.ep.msi_in->raise(34);  // masked (reset value)
        b.ep.msi_in->raise(34);  // still one pending bit
        b.ep.msi_in->raise(40);  // no such vector: dropped
        sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));
        pba.push_back(b.msix.read32(bench::pba(0)));
        pba.push_back(b.msix.read32(bench::pba(1)));
        before_unmask = b.host.log.size();
        unmask_at = stim::now_ps();
        b.msix.write32(bench::entry(34, AAX_MSIX_CTRL), 0);
        pba.push_back(b.msix.read32(bench::pba(1)));
        b.msix.write32(bench::entry(34, AAX_MSIX_CTRL), 1);  // re-mask and unmask: nothing pending, nothing sent
        b.msix.write32(bench::entry(34, AAX_MSIX_CTRL), 0);
        sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));
    });
    CHECK(before_unmask == 0);
    CHECK(pba == std::vector<uint32_t>{0, 1u << 2, 0});
    REQUIRE(b.host.log.size() == 1);
    CHECK(b.host.log[0].addr == 0x100);
    CHECK(b.host.log[0].arrive_ps == unmask_at + wire(4) + kLat);
    CHECK(b.host.get<uint32_t>(0x100) == 34u);
    CHECK(stat("msi_masked") == 2);
    CHECK(stat("msi_sent") == 1);
}

// MSI-X messages are posted writes: back-to-back messages are spaced by their 28 ns of wire time,
// not by the link latency (128 ns here; the endpoint once waited for each message to land
// before sending the next, throttling an interrupt storm to one message per latency).
TEST_CASE("pcie stimulus: back-to-back MSI-X messages are pipelined on the link like other posted writes",
          "[pcie][stimulus]") {
    bench b;
    stim::run([&] {
        for (unsigned v : {3u, 4u}) {
            b.msix.write32(bench::entry(v, AAX_MSIX_ADDR_LO), 0xFF000 + 4 * v);
            b.msix.write32(bench::entry(v, AAX_MSIX_DATA), v);
            b.msix.write32(bench::entry(v, AAX_MSIX_CTRL), 0);
        }
        b.ep.msi_in->raise(3);
        b.ep.msi_in->raise(4);
        sc_core::wait(sc_core::sc_time(10, sc_core::SC_US));
    });
    REQUIRE(b.host.log.size() == 2);
    CHECK(b.host.log[0].arrive_ps == wire(4) + kLat);      // 128 ns
    CHECK(b.host.log[1].arrive_ps == 2 * wire(4) + kLat);  // 156 ns: right behind it on the wire
    CHECK(b.host.get<uint32_t>(0xFF010) == 4u);
}
