// Banked SRAM (tlm/mem/sram.h): bank conflicts, port limits and beat counts against the
// analytic cycle formulas of the header, and data through the TLM socket.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>

#include "tlm/core/extensions.h"
#include "tlm/core/stats.h"
#include "tlm/mem/sram.h"

using namespace accelvp;

namespace {

// 4 banks x 16 B at 1 GHz (1 cycle = 1000 ps), 2 cycles pipeline.
sram::params small(uint32_t ports = 2) {
    sram::params p;
    p.size = 1 << 16;
    p.banks = 4;
    p.bank_width = 16;
    p.ports = ports;
    p.freq_mhz = 1000;
    p.latency_cycles = 2;
    return p;
}

struct initiator : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<initiator> socket{"socket"};
    explicit initiator(sc_core::sc_module_name n) : sc_module(n) {}
    tlm::tlm_response_status go(tlm::tlm_command cmd, uint64_t addr, void* data, uint32_t len, sc_core::sc_time& d) {
        tlm::tlm_generic_payload t;
        init_payload(t, cmd, addr, data, len);
        socket->b_transport(t, d);
        return t.get_response_status();
    }
};

} // namespace

TEST_CASE("SRAM accesses to the same bank serialize and count conflict cycles", "[sram]") {
    sram m("m", small());
    // Bank of a byte = (addr / 16) % 4: 0x00 and 0x40 are both bank 0.
    CHECK(m.access(0x00, 16, 0) == 3000);  // 1 beat + 2 cycles latency
    CHECK(m.access(0x40, 16, 0) == 4000);  // waits one cycle for bank 0
    CHECK(m.bank_conflict_cycles() == 1);
}

TEST_CASE("SRAM accesses to different banks overlap up to the port count", "[sram]") {
    sram m("m", small(2));
    CHECK(m.access(0x00, 16, 0) == 3000);
    CHECK(m.access(0x10, 16, 0) == 3000);  // bank 1, second port: in parallel
    CHECK(m.access(0x20, 16, 0) == 4000);  // bank 2 is free but both ports are busy one cycle
    CHECK(m.bank_conflict_cycles() == 0);
    sram one("one", small(1));
    CHECK(one.access(0x00, 16, 0) == 3000);
    CHECK(one.access(0x10, 16, 0) == 4000);  // one port: serialized without a bank conflict
    CHECK(one.bank_conflict_cycles() == 0);
}

TEST_CASE("SRAM large and unaligned accesses spread their beats over the banks", "[sram]") {
    sram m("m", small());
    // 256 B at 0x08 touches 17 beats (0x00..0x100): bank 0 serves 5, banks 1-3 serve 4.
    CHECK(m.access(0x08, 256, 0) == (5 + 2) * 1000);
    // Arrival between clock edges starts at the next edge; bank 1 is busy until cycle 4.
    CHECK(m.access(0x10, 16, 1500) == (4 + 1 + 2) * 1000);
    CHECK(m.bank_conflict_cycles() == 2);
}

TEST_CASE("SRAM moves data through the socket and rejects bad accesses", "[sram]") {
    initiator ini("ini");
    sram m("m", small());
    ini.socket.bind(m.socket);
    std::vector<uint8_t> src(100), dst(100, 0);
    for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 7 + 1);
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    REQUIRE(ini.go(tlm::TLM_WRITE_COMMAND, 0x30, src.data(), 100, d) == tlm::TLM_OK_RESPONSE);
    // 100 B at 0x30: beats 3..9 (7 beats) from bank 3: banks 3, 0, 1 serve 2, bank 2 serves 1.
    CHECK(d.value() == (2 + 2) * 1000ull);
    d = sc_core::SC_ZERO_TIME;
    REQUIRE(ini.go(tlm::TLM_READ_COMMAND, 0x30, dst.data(), 100, d) == tlm::TLM_OK_RESPONSE);
    CHECK(dst == src);
    d = sc_core::SC_ZERO_TIME;
    CHECK(ini.go(tlm::TLM_READ_COMMAND, (1 << 16) - 4, dst.data(), 8, d) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    // DMI sees the same bytes.
    tlm::tlm_generic_payload t;
    init_payload(t, tlm::TLM_READ_COMMAND, 0x30, dst.data(), 4);
    tlm::tlm_dmi dmi;
    REQUIRE(ini.socket->get_direct_mem_ptr(t, dmi));
    CHECK(std::memcmp(dmi.get_dmi_ptr() + 0x30 - dmi.get_start_address(), src.data(), 100) == 0);
    CHECK(dmi.get_read_latency().value() == 3000ull);
    auto* s = dynamic_cast<const counter*>(global_stats().find("m", "bytes_written"));
    REQUIRE(s);
    CHECK(s->get() == 100);
}
