// Stimulus tests of the simple memory (tlm/mem/memory.h) bound alone to a test initiator:
// timing against its formula (arrival, FCFS on one shared data bus for bytes/bandwidth rounded
// up to a ps, plus a fixed latency), bit-exact data, the error responses of bad accesses,
// timing-only transactions, debug transport and DMI grants.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "stimulus_stubs.h"
#include "tlm/core/stats.h"
#include "tlm/mem/memory.h"

using namespace accelvp;

namespace {

// 2 GB/s: 500 ps per byte; 10 ns latency; 4 MiB.
memory::params mparams(double gbps = 2, double lat_ns = 10, bool dmi = true) {
    memory::params p;
    p.size = 4u << 20;
    p.bandwidth_gbps = gbps;
    p.latency_ns = lat_ns;
    p.dmi = dmi;
    return p;
}

uint64_t stat(const char* comp, const char* name) {
    auto* s = dynamic_cast<const counter*>(global_stats().find(comp, name));
    REQUIRE(s);
    return s->get();
}

} // namespace

TEST_CASE("memory stimulus: an access takes bytes/bandwidth on the shared bus plus the latency, FCFS", "[memory][stimulus]") {
    stim::initiator ini("ini");
    memory m("m", mparams());
    ini.socket.bind(m.socket);
    std::vector<uint8_t> buf(1000, 0xA5);

    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    REQUIRE(ini.go(tlm::TLM_WRITE_COMMAND, 0x1000, buf.data(), 1000, d) == tlm::TLM_OK_RESPONSE);
    CHECK(d.value() == 1000 * 500 + 10000);  // 500 ns on the bus + 10 ns
    // A read arriving at the same time waits for the bus (reads and writes share it).
    d = sc_core::SC_ZERO_TIME;
    REQUIRE(ini.go(tlm::TLM_READ_COMMAND, 0x1000, buf.data(), 1000, d) == tlm::TLM_OK_RESPONSE);
    CHECK(d.value() == 2 * 1000 * 500 + 10000);
    // One arriving after the bus is free does not wait: arrival + transfer + latency.
    d = sc_core::sc_time(2, sc_core::SC_US);
    REQUIRE(ini.go(tlm::TLM_READ_COMMAND, 0x0, buf.data(), 4, d) == tlm::TLM_OK_RESPONSE);
    CHECK(d.value() == 2000000 + 4 * 500 + 10000);
    // The latency does not hold the bus: the next access starts when the previous one's data is done.
    d = sc_core::sc_time(2, sc_core::SC_US);
    REQUIRE(ini.go(tlm::TLM_WRITE_COMMAND, 0x0, buf.data(), 4, d) == tlm::TLM_OK_RESPONSE);
    CHECK(d.value() == 2000000 + 8 * 500 + 10000);
}

TEST_CASE("memory stimulus: transfer time is rounded up to a whole ps", "[memory][stimulus]") {
    stim::initiator ini("ini");
    memory m("m", mparams(3, 0));  // 3 GB/s: 7 bytes take 2333.3 ps -> 2334
    ini.socket.bind(m.socket);
    uint8_t b[7] = {};
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    REQUIRE(ini.go(tlm::TLM_READ_COMMAND, 0, b, 7, d) == tlm::TLM_OK_RESPONSE);
    CHECK(d.value() == 2334);
    d = sc_core::SC_ZERO_TIME;
    REQUIRE(ini.go(tlm::TLM_READ_COMMAND, 0, b, 3, d) == tlm::TLM_OK_RESPONSE);
    CHECK(d.value() == 2334 + 1000);
}

TEST_CASE("memory stimulus: data is bit-exact, untouched memory reads zero", "[memory][stimulus]") {
    stim::initiator ini("ini");
    memory m("m", mparams());
    ini.socket.bind(m.socket);
    // Straddle the 1 MiB page boundary of the sparse store.
    const uint64_t a = (1u << 20) - 37;
    std::vector<uint8_t> src(301), dst(301, 0xFF), zero(64, 0xFF);
    for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 13 + 5);
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    REQUIRE(ini.go(tlm::TLM_WRITE_COMMAND, a, src.data(), 301, d) == tlm::TLM_OK_RESPONSE);
    REQUIRE(ini.go(tlm::TLM_READ_COMMAND, a, dst.data(), 301, d) == tlm::TLM_OK_RESPONSE);
    CHECK(dst == src);
    REQUIRE(ini.go(tlm::TLM_READ_COMMAND, 3u << 20, zero.data(), 64, d) == tlm::TLM_OK_RESPONSE);
    CHECK(zero == std::vector<uint8_t>(64, 0));
    // The last byte of the memory is addressable.
    uint8_t last = 0x77;
    REQUIRE(ini.go(tlm::TLM_WRITE_COMMAND, (4u << 20) - 1, &last, 1, d) == tlm::TLM_OK_RESPONSE);
    CHECK(stat("m", "bytes_written") == 302);
    CHECK(stat("m", "bytes_read") == 365);
    CHECK(stat("m", "reads") == 2);
    CHECK(stat("m", "writes") == 2);
}

TEST_CASE("memory stimulus: out of range, byte enables and short streaming width are rejected without bus time",
          "[memory][stimulus]") {
    stim::initiator ini("ini");
    memory m("m", mparams());
    ini.socket.bind(m.socket);
    uint8_t b[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    // Past the end, straddling the end, and an address whose end wraps around 2^64.
    CHECK(ini.go(tlm::TLM_READ_COMMAND, 4u << 20, b, 1, d) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    CHECK(ini.go(tlm::TLM_WRITE_COMMAND, (4u << 20) - 4, b, 8, d) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    CHECK(ini.go(tlm::TLM_READ_COMMAND, ~uint64_t{0} - 2, b, 8, d) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    {
        tlm::tlm_generic_payload t;
        uint8_t be[8] = {0xFF, 0, 0xFF, 0, 0xFF, 0, 0xFF, 0};
        init_payload(t, tlm::TLM_WRITE_COMMAND, 0, b, 8);
        t.set_byte_enable_ptr(be);
        t.set_byte_enable_length(8);
        ini.socket->b_transport(t, d);
        CHECK(t.get_response_status() == tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    }
    {
        tlm::tlm_generic_payload t;
        init_payload(t, tlm::TLM_WRITE_COMMAND, 0, b, 8);
        t.set_streaming_width(4);
        ini.socket->b_transport(t, d);
        CHECK(t.get_response_status() == tlm::TLM_BURST_ERROR_RESPONSE);
    }
    CHECK(d == sc_core::SC_ZERO_TIME);  // rejected accesses take no time
    CHECK(stat("m", "errors") == 5);
    CHECK(stat("m", "writes") == 0);
    // Nothing was written by the rejected writes, and they did not occupy the bus.
    uint8_t r[8] = {0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE};
    REQUIRE(ini.go(tlm::TLM_READ_COMMAND, 0, r, 8, d) == tlm::TLM_OK_RESPONSE);
    CHECK(d.value() == 8 * 500 + 10000);
    CHECK(std::vector<uint8_t>(r, r + 8) == std::vector<uint8_t>(8, 0));
}

TEST_CASE("memory stimulus: timing-only accesses cost the same time and move no data", "[memory][stimulus]") {
    stim::initiator ini("ini");
    memory m("m", mparams());
    ini.socket.bind(m.socket);
    std::vector<uint8_t> src(256, 0x3C), dst(256, 0x11);
    tlm::tlm_generic_payload t;
    timing_only_ext tx;
    init_payload(t, tlm::TLM_WRITE_COMMAND, 0x100, src.data(), 256);
    extension_guard<timing_only_ext> g(t, &tx);
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    ini.socket->b_transport(t, d);
    REQUIRE(t.get_response_status() == tlm::TLM_OK_RESPONSE);
    CHECK(d.value() == 256 * 500 + 10000);
    init_payload(t, tlm::TLM_READ_COMMAND, 0x100, dst.data(), 256);
    d = sc_core::SC_ZERO_TIME;
    ini.socket->b_transport(t, d);
    REQUIRE(t.get_response_status() == tlm::TLM_OK_RESPONSE);
    CHECK(d.value() == 2 * 256 * 500 + 10000);
    CHECK(dst == std::vector<uint8_t>(256, 0x11));  // the read moved nothing
    uint8_t probe[4] = {0xFF, 0xFF, 0xFF, 0xFF};
    REQUIRE(ini.debug(tlm::TLM_READ_COMMAND, 0x100, probe, 4) == 4);
    CHECK(std::vector<uint8_t>(probe, probe + 4) == std::vector<uint8_t>(4, 0));  // nor the write
    CHECK(stat("m", "bytes_written") == 256);  // but both are counted
    CHECK(stat("m", "bytes_read") == 256);
}

TEST_CASE("memory stimulus: debug transport is untimed and clipped; DMI grants the 1 MiB page with the latency",
          "[memory][stimulus]") {
    stim::initiator ini("ini");
    memory m("m", mparams(2, 10, true));
    ini.socket.bind(m.socket);
    uint8_t w[16];
    for (int i = 0; i < 16; ++i) w[i] = static_cast<uint8_t>(0xC0 + i);
    CHECK(ini.debug(tlm::TLM_WRITE_COMMAND, (4u << 20) - 8, w, 16) == 8);  // clipped at the end
    CHECK(ini.debug(tlm::TLM_WRITE_COMMAND, 4u << 20, w, 16) == 0);
    uint8_t r[8] = {};
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    REQUIRE(ini.go(tlm::TLM_READ_COMMAND, (4u << 20) - 8, r, 8, d) == tlm::TLM_OK_RESPONSE);
    CHECK(std::memcmp(r, w, 8) == 0);
    CHECK(stat("m", "reads") == 1);  // debug accesses are not counted

    tlm::tlm_generic_payload t;
    init_payload(t, tlm::TLM_READ_COMMAND, (1u << 20) + 0x1234, r, 4);
    tlm::tlm_dmi dmi;
    REQUIRE(ini.socket->get_direct_mem_ptr(t, dmi));
    CHECK(dmi.get_start_address() == (1u << 20));
    CHECK(dmi.get_end_address() == (2u << 20) - 1);
    CHECK(dmi.is_read_write_allowed());
    CHECK(dmi.get_read_latency().value() == 10000);
    CHECK(dmi.get_write_latency().value() == 10000);
    dmi.get_dmi_ptr()[0x1234] = 0x5A;  // a DMI store is visible to transactions
    uint8_t v = 0;
    REQUIRE(ini.go(tlm::TLM_READ_COMMAND, (1u << 20) + 0x1234, &v, 1, d) == tlm::TLM_OK_RESPONSE);
    CHECK(v == 0x5A);
    // b_transport hints DMI on success.
    tlm::tlm_generic_payload h;
    init_payload(h, tlm::TLM_READ_COMMAND, 0, &v, 1);
    ini.socket->b_transport(h, d);
    CHECK(h.is_dmi_allowed());
}

TEST_CASE("memory stimulus: with dmi=false no DMI is granted or hinted", "[memory][stimulus]") {
    stim::initiator ini("ini");
    memory m("m", mparams(2, 10, false));
    ini.socket.bind(m.socket);
    uint8_t v = 0;
    tlm::tlm_generic_payload t;
    init_payload(t, tlm::TLM_READ_COMMAND, 0x40, &v, 1);
    tlm::tlm_dmi dmi;
    CHECK_FALSE(ini.socket->get_direct_mem_ptr(t, dmi));
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    ini.socket->b_transport(t, d);
    REQUIRE(t.get_response_status() == tlm::TLM_OK_RESPONSE);
    CHECK_FALSE(t.is_dmi_allowed());
}
