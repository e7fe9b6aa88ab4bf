// Unit tests of the register-bank helper (tlm/core/register_bank.h). The bank is a
// plain object: its TLM entry points are called directly, no SystemC module is built.
#include <catch2/catch.hpp>

#include <cstring>
#include <stdexcept>
#include <vector>

#include <systemc>
#include <tlm>

#include "tlm/core/register_bank.h"

using accelvp::reg_access;
using accelvp::register_bank;
using sc_core::SC_NS;
using sc_core::sc_time;

namespace {

struct result {
    tlm::tlm_response_status status = tlm::TLM_INCOMPLETE_RESPONSE;
    uint32_t data = 0;
    sc_time delay = sc_core::SC_ZERO_TIME;
};

struct access_opts {
    unsigned length = 4;
    unsigned streaming_width = 0;  // 0 = length
    unsigned char* byte_enable = nullptr;
    unsigned byte_enable_length = 0;
};

result transport(register_bank& b, tlm::tlm_command cmd, uint64_t addr, uint32_t wdata = 0,
                 const access_opts& o = {}) {
    unsigned char buf[8] = {0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE};  // reads must overwrite
    if (cmd == tlm::TLM_WRITE_COMMAND) std::memcpy(buf, &wdata, 4);
    tlm::tlm_generic_payload t;
    t.set_command(cmd);
    t.set_address(addr);
    t.set_data_ptr(buf);
    t.set_data_length(o.length);
    t.set_streaming_width(o.streaming_width ? o.streaming_width : o.length);
    t.set_byte_enable_ptr(o.byte_enable);
    t.set_byte_enable_length(o.byte_enable_length);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    result r;
    b.b_transport(t, r.delay);
    r.status = t.get_response_status();
    CHECK(t.get_address() == addr);  // never modified
    std::memcpy(&r.data, buf, 4);
    return r;
}

result read(register_bank& b, uint64_t addr, const access_opts& o = {}) {
    return transport(b, tlm::TLM_READ_COMMAND, addr, 0, o);
}
result write(register_bank& b, uint64_t addr, uint32_t v, const access_opts& o = {}) {
    return transport(b, tlm::TLM_WRITE_COMMAND, addr, v, o);
}

// Debug transport; returns the byte count and the data word.
std::pair<unsigned, uint32_t> debug(register_bank& b, tlm::tlm_command cmd, uint64_t addr, uint32_t wdata = 0,
                                    unsigned length = 4) {
    unsigned char buf[8] = {};
    std::memcpy(buf, &wdata, 4);
    tlm::tlm_generic_payload t;
    t.set_command(cmd);
    t.set_address(addr);
    t.set_data_ptr(buf);
    t.set_data_length(length);
    t.set_streaming_width(length);
    const unsigned n = b.transport_dbg(t);
    uint32_t v = 0;
    std::memcpy(&v, buf, 4);
    return {n, v};
}

// CTRL rw @0x0, STATUS ro @0x4, DOORBELL wo @0x8, IRQ_STATUS w1c @0xC, ID ro @0x100.
void populate(register_bank& b) {
    b.add("CTRL", 0x0, 0x00000001, reg_access::rw);
    b.add("STATUS", 0x4, 0x00000080, reg_access::ro);
    b.add("DOORBELL", 0x8, 0x00000000, reg_access::wo);
    b.add("IRQ_STATUS", 0xC, 0x000000F0, reg_access::w1c);
    b.add("ID", 0x100, 0xA11CE001, reg_access::ro);
}

} // namespace

TEST_CASE("regbank: registers read their reset values", "[regbank]") {
    register_bank b("chip.test");
    populate(b);
    CHECK(b.size() == 5);
    CHECK(read(b, 0x0).data == 0x00000001);
    CHECK(read(b, 0x4).data == 0x00000080);
    CHECK(read(b, 0xC).data == 0x000000F0);
    const result id = read(b, 0x100);
    CHECK(id.status == tlm::TLM_OK_RESPONSE);
    CHECK(id.data == 0xA11CE001);
    CHECK(b.peek(0x8) == 0);
    CHECK(b.peek(0x100) == 0xA11CE001);
    CHECK(b.peek(0x200) == 0);  // no register: peek gives 0
    CHECK(b.at("ID").offset == 0x100);
    CHECK(b.find(0x4)->name == "STATUS");
    CHECK(b.find(0x10) == nullptr);
    CHECK_THROWS_AS(b.at("NOPE"), std::logic_error);
}

TEST_CASE("regbank: a read-write register stores what is written", "[regbank]") {
    register_bank b("chip.test");
    populate(b);
    CHECK(write(b, 0x0, 0xDEADBEEF).status == tlm::TLM_OK_RESPONSE);
    CHECK(read(b, 0x0).data == 0xDEADBEEF);
    CHECK(b.peek(0x0) == 0xDEADBEEF);
    CHECK(b.at("CTRL").value == 0xDEADBEEF);
}

TEST_CASE("regbank: writing a read-only register is a command error and leaves it unchanged", "[regbank]") {
    register_bank b("chip.test");
    populate(b);
    int writes_seen = 0;
    b.at("STATUS").write_cb([&](uint32_t) { ++writes_seen; });
    const result w = write(b, 0x4, 0xFFFFFFFF);
    CHECK(w.status == tlm::TLM_COMMAND_ERROR_RESPONSE);
    CHECK(writes_seen == 0);
    CHECK(b.peek(0x4) == 0x80);
    CHECK(read(b, 0x4).data == 0x80);
    CHECK(write(b, 0x100, 0).status == tlm::TLM_COMMAND_ERROR_RESPONSE);
    CHECK(b.peek(0x100) == 0xA11CE001);
}

TEST_CASE("regbank: reading a write-only register is a command error but writing it works", "[regbank]") {
    register_bank b("chip.test");
    populate(b);
    uint32_t last = 0;
    b.at("DOORBELL").write_cb([&](uint32_t v) { last = v; });
    const result r = read(b, 0x8);
    CHECK(r.status == tlm::TLM_COMMAND_ERROR_RESPONSE);
    CHECK(r.data == 0xEEEEEEEE);  // the data buffer is not touched
    CHECK(write(b, 0x8, 0x1234).status == tlm::TLM_OK_RESPONSE);
    CHECK(last == 0x1234);
    CHECK(b.peek(0x8) == 0x1234);
    CHECK(read(b, 0x8).status == tlm::TLM_COMMAND_ERROR_RESPONSE);
}

TEST_CASE("regbank: a write-1-to-clear register clears only the written bits", "[regbank]") {
    register_bank b("chip.test");
    populate(b);  // IRQ_STATUS resets to 0xF0
    std::vector<uint32_t> written;
    b.at("IRQ_STATUS").write_cb([&](uint32_t v) { written.push_back(v); });

    CHECK(write(b, 0xC, 0x30).status == tlm::TLM_OK_RESPONSE);
    CHECK(read(b, 0xC).data == 0xC0);
    CHECK(write(b, 0xC, 0x0F).status == tlm::TLM_OK_RESPONSE);  // bits not set: no change
    CHECK(read(b, 0xC).data == 0xC0);
    CHECK(write(b, 0xC, 0x0).status == tlm::TLM_OK_RESPONSE);
    CHECK(read(b, 0xC).data == 0xC0);
    // The model sets bits directly; a later 1 clears only that one.
    b.at("IRQ_STATUS").value |= 0x3;
    CHECK(write(b, 0xC, 0x41).status == tlm::TLM_OK_RESPONSE);
    CHECK(read(b, 0xC).data == 0x82);
    CHECK(write(b, 0xC, 0xFFFFFFFF).status == tlm::TLM_OK_RESPONSE);
    CHECK(read(b, 0xC).data == 0);
    // on_write sees the bits the host wrote, not the resulting value.
    CHECK(written == std::vector<uint32_t>{0x30, 0x0F, 0x0, 0x41, 0xFFFFFFFF});
}

TEST_CASE("regbank: read and write callbacks are called with the right values", "[regbank]") {
    register_bank b("chip.test");
    populate(b);
    uint32_t live = 7;
    int reads = 0;
    std::vector<std::pair<uint32_t, uint32_t>> writes;  // (written, value seen by the callback)
    auto& head = b.add("HEAD", 0x20, 0, reg_access::ro).read_cb([&] {
        ++reads;
        return live;
    });
    CHECK(head.name == "HEAD");
    b.add("TAIL", 0x24, 0, reg_access::rw).write_cb([&](uint32_t v) { writes.emplace_back(v, b.peek(0x24)); });

    CHECK(read(b, 0x20).data == 7);
    live = 42;
    CHECK(read(b, 0x20).data == 42);
    CHECK(reads == 2);
    CHECK(b.peek(0x20) == 0);  // the callback value is not stored

    CHECK(write(b, 0x24, 5).status == tlm::TLM_OK_RESPONSE);
    CHECK(write(b, 0x24, 0xABCD).status == tlm::TLM_OK_RESPONSE);
    // Called after the write was applied.
    REQUIRE(writes.size() == 2);
    CHECK(writes[0] == std::make_pair(5u, 5u));
    CHECK(writes[1] == std::make_pair(0xABCDu, 0xABCDu));
    // A failed access calls nothing.
    CHECK(write(b, 0x20, 1).status == tlm::TLM_COMMAND_ERROR_RESPONSE);
    CHECK(write(b, 0x26, 1).status == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    CHECK(reads == 2);
    CHECK(writes.size() == 2);
}

TEST_CASE("regbank: an offset with no register is an address error", "[regbank]") {
    register_bank b("chip.test");
    populate(b);
    for (uint64_t a : {0x10ull, 0xFCull, 0x104ull, 0x1000ull, 0x100000000ull, 0xFFFFFFFFFFFFFFFCull}) {
        INFO("address 0x" << std::hex << a);
        CHECK(read(b, a).status == tlm::TLM_ADDRESS_ERROR_RESPONSE);
        CHECK(write(b, a, 1).status == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    }
    CHECK(b.size() == 5);  // nothing was created
}

TEST_CASE("regbank: a misaligned address is an address error", "[regbank]") {
    register_bank b("chip.test");
    populate(b);
    for (uint64_t a : {0x1ull, 0x2ull, 0x3ull, 0x101ull}) {
        INFO("address 0x" << std::hex << a);
        CHECK(read(b, a).status == tlm::TLM_ADDRESS_ERROR_RESPONSE);
        CHECK(write(b, a, 0xFFFFFFFF).status == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    }
    CHECK(b.peek(0x0) == 1);
    CHECK_THROWS_AS(b.add("ODD", 0x32, 0, reg_access::rw), std::logic_error);
}

TEST_CASE("regbank: 1-, 2- and 8-byte accesses and short streaming widths are burst errors", "[regbank]") {
    register_bank b("chip.test");
    populate(b);
    for (unsigned len : {1u, 2u, 8u}) {
        INFO("length " << len);
        access_opts o;
        o.length = len;
        CHECK(read(b, 0x0, o).status == tlm::TLM_BURST_ERROR_RESPONSE);
        CHECK(write(b, 0x0, 0x55, o).status == tlm::TLM_BURST_ERROR_RESPONSE);
    }
    access_opts narrow;
    narrow.streaming_width = 2;
    CHECK(write(b, 0x0, 0x55, narrow).status == tlm::TLM_BURST_ERROR_RESPONSE);
    CHECK(b.peek(0x0) == 1);
}

TEST_CASE("regbank: byte enables are a byte-enable error", "[regbank]") {
    register_bank b("chip.test");
    populate(b);
    unsigned char be[4] = {0xFF, 0xFF, 0xFF, 0xFF};
    access_opts o;
    o.byte_enable = be;
    o.byte_enable_length = 4;
    CHECK(read(b, 0x0, o).status == tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    CHECK(write(b, 0x0, 0x55, o).status == tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    CHECK(b.peek(0x0) == 1);
}

TEST_CASE("regbank: an ignore command is a command error", "[regbank]") {
    register_bank b("chip.test");
    populate(b);
    CHECK(transport(b, tlm::TLM_IGNORE_COMMAND, 0x0).status == tlm::TLM_COMMAND_ERROR_RESPONSE);
}

TEST_CASE("regbank: debug reads see on_read's live value but run no read side effect", "[regbank]") {
    register_bank b("chip.test");
    populate(b);
    int reads = 0, effects = 0, writes = 0;
    b.add("LIVE", 0x40, 0x11, reg_access::ro)
        .read_cb([&] {
            ++reads;
            return 0x99u;
        })
        .read_effect_cb([&] { ++effects; });
    b.at("CTRL").write_cb([&](uint32_t) { ++writes; });

    CHECK(debug(b, tlm::TLM_READ_COMMAND, 0x40) == std::make_pair(4u, 0x99u));
    CHECK(reads == 1);
    CHECK(effects == 0);
    CHECK(read(b, 0x40).data == 0x99);
    CHECK(reads == 2);
    CHECK(effects == 1);

    // Debug writes set the raw value, even of a read-only register, with no side effects.
    CHECK(debug(b, tlm::TLM_WRITE_COMMAND, 0x4, 0x1234).first == 4);
    CHECK(b.peek(0x4) == 0x1234);
    CHECK(debug(b, tlm::TLM_WRITE_COMMAND, 0x0, 0x77).first == 4);
    CHECK(b.peek(0x0) == 0x77);
    CHECK(writes == 0);
    CHECK(debug(b, tlm::TLM_WRITE_COMMAND, 0xC, 0xF0).first == 4);  // raw, not w1c
    CHECK(b.peek(0xC) == 0xF0);

    // Errors give 0 bytes.
    CHECK(debug(b, tlm::TLM_READ_COMMAND, 0x44).first == 0);
    CHECK(debug(b, tlm::TLM_READ_COMMAND, 0x2).first == 0);
    CHECK(debug(b, tlm::TLM_READ_COMMAND, 0x0, 0, 8).first == 0);
}

TEST_CASE("regbank: read and write latencies are added to the delay", "[regbank]") {
    register_bank b("chip.test");
    populate(b);
    CHECK(read(b, 0x0).delay == sc_core::SC_ZERO_TIME);
    b.set_latency(sc_time(3, SC_NS), sc_time(5, SC_NS));
    CHECK(read(b, 0x0).delay == sc_time(3, SC_NS));
    CHECK(write(b, 0x0, 1).delay == sc_time(5, SC_NS));

    // Added to what the initiator already has.
    unsigned char buf[4] = {};
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_READ_COMMAND);
    t.set_address(0x4);
    t.set_data_ptr(buf);
    t.set_data_length(4);
    t.set_streaming_width(4);
    sc_time delay(10, SC_NS);
    b.b_transport(t, delay);
    CHECK(t.get_response_status() == tlm::TLM_OK_RESPONSE);
    CHECK(delay == sc_time(13, SC_NS));
}

TEST_CASE("regbank: a duplicate offset is a logic_error naming both registers", "[regbank]") {
    register_bank b("chip.blk");
    populate(b);
    try {
        b.add("CTRL2", 0x0, 0, reg_access::rw);
        FAIL("no exception");
    } catch (const std::logic_error& e) {
        const std::string msg = e.what();
        CHECK_THAT(msg, Catch::Matchers::Contains("chip.blk"));
        CHECK_THAT(msg, Catch::Matchers::Contains("CTRL2"));
        CHECK_THAT(msg, Catch::Matchers::Contains("CTRL"));
    }
    CHECK(b.size() == 5);
    CHECK(b.find(0x0)->name == "CTRL");
    CHECK(b.find(0x0)->value == 1);
}

TEST_CASE("regbank: reset() restores every register's reset value", "[regbank]") {
    register_bank b("chip.test");
    populate(b);
    write(b, 0x0, 0xFFFF);
    write(b, 0x8, 0x1);
    write(b, 0xC, 0xF0);
    debug(b, tlm::TLM_WRITE_COMMAND, 0x100, 0);
    CHECK(b.peek(0x0) == 0xFFFF);
    CHECK(b.peek(0xC) == 0);
    b.reset();
    CHECK(b.peek(0x0) == 0x1);
    CHECK(b.peek(0x4) == 0x80);
    CHECK(b.peek(0x8) == 0x0);
    CHECK(b.peek(0xC) == 0xF0);
    CHECK(b.peek(0x100) == 0xA11CE001);
    CHECK(read(b, 0x0).data == 1);
}

TEST_CASE("regbank: a writable mask keeps the other bits; a W1C mask clears the bits written as 1", "[regbank]") {
    register_bank b("chip.test");
    int writes = 0;
    // [7:0] read-write, [15:8] write-1-to-clear, [31:16] read-only (reset 0xABCD....).
    b.add("MIXED", 0x0, 0xABCD0F00, reg_access::rw).mask(0xFF).w1c(0xFF00).write_cb([&](uint32_t v) {
        ++writes;
        CHECK(v == 0xFFFF0355);  // the hook sees the word written, after the masks were applied
        CHECK(b.peek(0x0) == 0xABCD0C55);
    });
    CHECK(write(b, 0x0, 0xFFFF0355).status == tlm::TLM_OK_RESPONSE);
    CHECK(writes == 1);
    CHECK(read(b, 0x0).data == 0xABCD0C55);
    b.reset();
    CHECK(b.peek(0x0) == 0xABCD0F00);
    // The model's own set() ignores the masks.
    b[0x0].set(0x12345678);
    CHECK(read(b, 0x0).data == 0x12345678);
}

TEST_CASE("regbank: a 64-bit register is two 32-bit words that share one value", "[regbank]") {
    register_bank b("chip.test");
    std::vector<uint32_t> written;
    b.add64("BASE", 0x8, 0x1122334455667788ull, reg_access::rw).write_cb([&](uint32_t v) { written.push_back(v); });
    b.add("NEXT", 0x10, 0, reg_access::rw);
    CHECK(read(b, 0x8).data == 0x55667788);
    CHECK(read(b, 0xC).data == 0x11223344);
    CHECK(write(b, 0xC, 0xCAFEF00D).status == tlm::TLM_OK_RESPONSE);
    CHECK(b[0x8].get() == 0xCAFEF00D55667788ull);
    CHECK(b[0xC].get() == 0xCAFEF00D55667788ull);  // either word finds the register
    CHECK(write(b, 0x8, 0x1).status == tlm::TLM_OK_RESPONSE);
    CHECK(b[0x8].get() == 0xCAFEF00D00000001ull);
    CHECK(written == std::vector<uint32_t>{0xCAFEF00D, 0x1});
    CHECK(b.peek(0xC) == 0xCAFEF00D);
    CHECK(read(b, 0x0, {8}).status == tlm::TLM_BURST_ERROR_RESPONSE);  // still 32-bit accesses only
    // A register overlapping either word is refused.
    CHECK_THROWS_AS(b.add("IN_HI", 0xC, 0, reg_access::rw), std::logic_error);
    CHECK_THROWS_AS(b.add64("ACROSS", 0x4, 0, reg_access::rw), std::logic_error);
    // on_read gives the whole value; each word reads its half.
    b.add64("LIVE", 0x20, 0, reg_access::ro).read_cb([] { return 0x0000000A0000000Bull; });
    CHECK(read(b, 0x20).data == 0xB);
    CHECK(read(b, 0x24).data == 0xA);
}

TEST_CASE("regbank: a bank with a base takes ABI addresses; the bus offsets are relative to the window", "[regbank]") {
    register_bank b("chip.win", 0x1000);
    b.add("A", 0x1004, 7, reg_access::rw);
    CHECK(b.find(0x1004)->offset == 0x4);
    CHECK(b.find(0x4) == nullptr);
    CHECK(read(b, 0x4).data == 7);  // the router delivers window offsets
    CHECK(write(b, 0x4, 9).status == tlm::TLM_OK_RESPONSE);
    CHECK(b.peek(0x1004) == 9);
    CHECK(b[0x1004].get() == 9);
    CHECK_THROWS_AS(b[0x1008], std::logic_error);
    CHECK_THROWS_AS(b.add("BELOW", 0xFFC, 0, reg_access::rw), std::logic_error);
}

TEST_CASE("regbank: a write hook may take the value before the write (which bits changed)", "[regbank]") {
    register_bank b("chip.test");
    std::vector<std::pair<uint32_t, uint64_t>> seen;  // (written, before)
    auto& mask = b.add("MASK", 0x40, 0xFFFFFFFF, reg_access::rw).mask(0xFF).write_cb([&](uint32_t w, uint64_t before) {
        seen.emplace_back(w, before);
    });
    CHECK(write(b, 0x40, 0x0F).status == tlm::TLM_OK_RESPONSE);
    CHECK(mask.get() == 0xFFFFFF0F);  // bits outside the writable mask kept
    CHECK(write(b, 0x40, 0xF0).status == tlm::TLM_OK_RESPONSE);
    CHECK(mask.get() == 0xFFFFFFF0);
    // The bits a write cleared: before & ~after.
    CHECK(seen == std::vector<std::pair<uint32_t, uint64_t>>{{0x0F, 0xFFFFFFFF}, {0xF0, 0xFFFFFF0F}});
    // A debug write changes the value but calls no hook.
    tlm::tlm_generic_payload t;
    uint32_t v = 0x12;
    t.set_command(tlm::TLM_WRITE_COMMAND);
    t.set_address(0x40);
    t.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
    t.set_data_length(4);
    t.set_streaming_width(4);
    CHECK(b.transport_dbg(t) == 4);
    CHECK(mask.get() == 0x12);  // the raw word, no mask
    CHECK(seen.size() == 2);
}
