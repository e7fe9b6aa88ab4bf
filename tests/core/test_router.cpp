// Unit tests of the address router (tlm/core/router.h): decode and translation, decode
// misses, overlap checks, hop latency, DMI and invalidation translation, debug transport.
//
// Each test case elaborates its own small model once, at the top, and calls sc_start at
// most once: the initiator's thread performs the accesses and records what happened,
// and the checks run after simulation.
#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "tlm/core/config.h"
#include "tlm/core/router.h"
#include "tlm/core/stats.h"
#include "tlm/mem/memory.h"

using sc_core::SC_NS;
using sc_core::sc_time;
using Catch::Matchers::Contains;

namespace {

// Records every access it sees; memory-like storage; grants DMI on a configurable region.
struct test_target : sc_core::sc_module {
    tlm_utils::simple_target_socket<test_target> socket;
    std::vector<unsigned char> mem = std::vector<unsigned char>(0x10000, 0);
    std::vector<uint64_t> addresses;      // b_transport offsets seen
    std::vector<uint64_t> dbg_addresses;  // transport_dbg offsets seen
    std::vector<uint64_t> dmi_addresses;  // get_direct_mem_ptr offsets seen
    sc_time latency = sc_time(10, SC_NS);
    bool grant_dmi = true;
    uint64_t dmi_start = 0, dmi_end = 0xFFFF;
    sc_time dmi_latency = sc_time(7, SC_NS);

    explicit test_target(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
        socket.register_b_transport(this, &test_target::b_transport);
        socket.register_transport_dbg(this, &test_target::transport_dbg);
        socket.register_get_direct_mem_ptr(this, &test_target::get_direct_mem_ptr);
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
        addresses.push_back(t.get_address());
        const uint64_t a = t.get_address();
        if (a + t.get_data_length() > mem.size()) {
            t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return;
        }
        if (t.is_read()) std::memcpy(t.get_data_ptr(), &mem[a], t.get_data_length());
        if (t.is_write()) std::memcpy(&mem[a], t.get_data_ptr(), t.get_data_length());
        delay += latency;
        t.set_response_status(tlm::TLM_OK_RESPONSE);
    }
    unsigned transport_dbg(tlm::tlm_generic_payload& t) {
        dbg_addresses.push_back(t.get_address());
        const uint64_t a = t.get_address();
        if (a + t.get_data_length() > mem.size()) return 0;
        if (t.is_read()) std::memcpy(t.get_data_ptr(), &mem[a], t.get_data_length());
        if (t.is_write()) std::memcpy(&mem[a], t.get_data_ptr(), t.get_data_length());
        return t.get_data_length();
    }
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) {
        dmi_addresses.push_back(t.get_address());
        if (!grant_dmi) return false;
        dmi.set_dmi_ptr(&mem[dmi_start]);
        dmi.set_start_address(dmi_start);
        dmi.set_end_address(dmi_end);
        dmi.allow_read_write();
        dmi.set_read_latency(dmi_latency);
        dmi.set_write_latency(dmi_latency);
        return true;
    }
    void invalidate(uint64_t start, uint64_t end) { socket->invalidate_direct_mem_ptr(start, end); }
};

struct access {
    tlm::tlm_response_status status;
    sc_time delay;
    uint64_t address_after;  // the payload's address when the call returned
};

struct dmi_result {
    bool ok;
    uint64_t start, end;
    unsigned char* ptr;
    sc_time read_latency, write_latency;
};

// Runs `body` in a thread; records the invalidations it receives.
struct test_initiator : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<test_initiator> socket;
    std::function<void(test_initiator&)> body;
    std::vector<std::pair<uint64_t, uint64_t>> invalidations;
    bool finished = false;

    SC_HAS_PROCESS(test_initiator);
    explicit test_initiator(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
        socket.register_invalidate_direct_mem_ptr(this, &test_initiator::invalidate);
        SC_THREAD(run);
    }
    void run() {
        if (body) body(*this);
        finished = true;
    }
    void invalidate(sc_dt::uint64 s, sc_dt::uint64 e) { invalidations.emplace_back(s, e); }

    access transport(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len) {
        tlm::tlm_generic_payload t;
        t.set_command(cmd);
        t.set_address(addr);
        t.set_data_ptr(static_cast<unsigned char*>(data));
        t.set_data_length(len);
        t.set_streaming_width(len);
        t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        sc_time delay = sc_core::SC_ZERO_TIME;
        socket->b_transport(t, delay);
        return {t.get_response_status(), delay, t.get_address()};
    }
    access write32(uint64_t addr, uint32_t v) { return transport(tlm::TLM_WRITE_COMMAND, addr, &v, 4); }
    access read32(uint64_t addr, uint32_t& v) { return transport(tlm::TLM_READ_COMMAND, addr, &v, 4); }
    unsigned dbg(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len) {
        tlm::tlm_generic_payload t;
        t.set_command(cmd);
        t.set_address(addr);
        t.set_data_ptr(static_cast<unsigned char*>(data));
        t.set_data_length(len);
        t.set_streaming_width(len);
        return socket->transport_dbg(t);
    }
    dmi_result dmi(uint64_t addr) {
        tlm::tlm_generic_payload t;
        t.set_command(tlm::TLM_READ_COMMAND);
        t.set_address(addr);
        tlm::tlm_dmi d;
        const bool ok = socket->get_direct_mem_ptr(t, d);
        return {ok, d.get_start_address(), d.get_end_address(), d.get_dmi_ptr(), d.get_read_latency(),
                d.get_write_latency()};
    }
};

uint64_t stat_count(const sc_core::sc_object& comp, const std::string& name) {
    const auto j = accelvp::global_stats().to_json(0);
    REQUIRE(j.contains(comp.name()));
    REQUIRE(j[comp.name()].contains(name));
    return j[comp.name()][name].get<uint64_t>();
}

template <typename F>
std::string config_error_of(F&& f) {
    try {
        f();
    } catch (const accelvp::config_error& e) {
        return e.what();
    } catch (const std::exception& e) {
        FAIL("expected accelvp::config_error, got: " << e.what());
    }
    FAIL("expected accelvp::config_error, nothing was thrown");
    return {};
}

} // namespace

TEST_CASE("router: decode() finds the range containing an address, nothing in the gaps", "[router]") {
    test_target a("a"), b("b");
    accelvp::router r("bus");
    r.add_target("regs", 0x1000, 0x1000, a.socket);
    r.add_target("dram", 0x4000, 0x2000, b.socket);
    r.map("regs_alias", 0x10000, 0x100, 0);

    REQUIRE(r.ranges().size() == 3);
    CHECK(r.ranges()[0].name == "regs");  // sorted by base
    CHECK(r.ranges()[1].name == "dram");
    CHECK(r.ranges()[2].name == "regs_alias");

    CHECK(r.decode(0x0) == nullptr);
    CHECK(r.decode(0xFFF) == nullptr);
    REQUIRE(r.decode(0x1000) != nullptr);
    CHECK(r.decode(0x1000)->name == "regs");
    CHECK(r.decode(0x1000)->port == 0);
    CHECK(r.decode(0x1FFF)->name == "regs");
    CHECK(r.decode(0x2000) == nullptr);
    CHECK(r.decode(0x3FFF) == nullptr);
    CHECK(r.decode(0x4000)->name == "dram");
    CHECK(r.decode(0x4000)->port == 1);
    CHECK(r.decode(0x5FFF)->name == "dram");
    CHECK(r.decode(0x6000) == nullptr);
    CHECK(r.decode(0x10000)->name == "regs_alias");
    CHECK(r.decode(0x10000)->port == 0);
    CHECK(r.decode(0x100FF)->name == "regs_alias");
    CHECK(r.decode(0x10100) == nullptr);
    CHECK(r.decode(~0ull) == nullptr);
}

TEST_CASE("router: overlapping ranges are a config_error naming both ranges", "[router]") {
    test_target a("a"), b("b"), c("c");
    accelvp::router r("bus");
    r.add_target("regs", 0x1000, 0x1000, a.socket);
    r.add_target("dram", 0x4000, 0x2000, b.socket);

    const std::string via_add = config_error_of([&] { r.add_target("rom", 0x1800, 0x1000, c.socket); });
    CHECK_THAT(via_add, Contains("'rom' [0x1800, 0x2800)"));
    CHECK_THAT(via_add, Contains("overlaps 'regs' [0x1000, 0x2000)"));
    CHECK_THAT(via_add, Contains("bus"));

    const std::string via_map = config_error_of([&] { r.map("big", 0x0, 0x10000, 0); });
    CHECK_THAT(via_map, Contains("'big' [0x0, 0x10000)"));
    CHECK_THAT(via_map, Contains("overlaps '"));

    const std::string inside = config_error_of([&] { r.map("inner", 0x4800, 0x10, 0); });
    CHECK_THAT(inside, Contains("'inner' [0x4800, 0x4810) overlaps 'dram' [0x4000, 0x6000)"));

    const std::string last_byte = config_error_of([&] { r.map("tail", 0x5FFF, 0x1, 0); });
    CHECK_THAT(last_byte, Contains("overlaps 'dram'"));

    CHECK_THAT(config_error_of([&] { r.map("empty", 0x8000, 0, 0); }), Contains("'empty' of bus has size 0"));
    CHECK_THAT(config_error_of([&] { r.map("wrap", ~0ull - 0xF, 0x100, 0); }), Contains("'wrap' of bus wraps around"));

    // Adjacent ranges are fine.
    r.map("before", 0x0, 0x1000, 0);
    r.map("between", 0x2000, 0x2000, 1);
    CHECK(r.ranges().size() == 4);
    CHECK(r.decode(0x2000)->name == "between");
    CHECK(r.decode(0x3FFF)->name == "between");
}

TEST_CASE("router: a target sees the offset in its range and data and hop latency pass through", "[router]") {
    test_target a("a"), b("b");
    accelvp::router r("bus", sc_time(5, SC_NS));
    test_initiator init("init");
    r.add_target("regs", 0x1000, 0x1000, a.socket);
    r.add_target("dram", 0x4000, 0x2000, b.socket);
    r.map("dram_alias", 0x100000, 0x2000, 1);
    init.socket.bind(r.target_socket);

    std::vector<access> acc;
    uint32_t v1 = 0, v2 = 0;
    init.body = [&](test_initiator& i) {
        acc.push_back(i.write32(0x1010, 0xCAFEF00D));
        acc.push_back(i.write32(0x5FFC, 0x12345678));
        acc.push_back(i.read32(0x1010, v1));
        acc.push_back(i.read32(0x101FFC, v2));  // alias of 0x5FFC
    };
    sc_core::sc_start();
    REQUIRE(init.finished);

    REQUIRE(acc.size() == 4);
    for (const auto& x : acc) {
        CHECK(x.status == tlm::TLM_OK_RESPONSE);
        CHECK(x.delay == sc_time(15, SC_NS));  // target 10 ns + hop 5 ns
    }
    CHECK(acc[0].address_after == 0x1010);  // the initiator's address is restored
    CHECK(acc[3].address_after == 0x101FFC);
    CHECK(a.addresses == std::vector<uint64_t>{0x10, 0x10});
    CHECK(b.addresses == std::vector<uint64_t>{0x1FFC, 0x1FFC});
    CHECK(v1 == 0xCAFEF00D);
    CHECK(v2 == 0x12345678);
    uint32_t in_a = 0;
    std::memcpy(&in_a, &a.mem[0x10], 4);
    CHECK(in_a == 0xCAFEF00D);
    CHECK(stat_count(r, "transactions") == 4);
    CHECK(stat_count(r, "decode_errors") == 0);
}

TEST_CASE("router: misses below, between and above the ranges and straddling accesses are address errors",
          "[router]") {
    test_target a("a"), b("b");
    accelvp::router r("bus", sc_time(5, SC_NS));
    test_initiator init("init");
    r.add_target("regs", 0x1000, 0x1000, a.socket);
    r.add_target("dram", 0x4000, 0x2000, b.socket);
    init.socket.bind(r.target_socket);

    std::vector<access> miss;
    access ok_last{}, ok_first{};
    init.body = [&](test_initiator& i) {
        miss.push_back(i.write32(0x0, 1));            // below
        miss.push_back(i.write32(0xFFC, 1));          // just below
        miss.push_back(i.write32(0x2000, 1));         // between
        miss.push_back(i.write32(0x3FFC, 1));         // just below the second
        miss.push_back(i.write32(0x6000, 1));         // just above
        miss.push_back(i.write32(0xFFFF0000ull, 1));  // far above
        uint64_t buf = 0;
        miss.push_back(i.transport(tlm::TLM_WRITE_COMMAND, 0x1FFC, &buf, 8));  // straddles the end of regs
        miss.push_back(i.transport(tlm::TLM_READ_COMMAND, 0x5FFE, &buf, 4));   // straddles the end of dram
        miss.push_back(i.transport(tlm::TLM_READ_COMMAND, 0xFFE, &buf, 4));    // starts before regs
        ok_last = i.transport(tlm::TLM_WRITE_COMMAND, 0x1FF8, &buf, 8);        // ends exactly at the end
        ok_first = i.write32(0x4000, 7);
    };
    sc_core::sc_start();
    REQUIRE(init.finished);

    REQUIRE(miss.size() == 9);
    for (size_t k = 0; k < miss.size(); ++k) {
        INFO("miss #" << k);
        CHECK(miss[k].status == tlm::TLM_ADDRESS_ERROR_RESPONSE);
        CHECK(miss[k].delay == sc_core::SC_ZERO_TIME);
    }
    CHECK(ok_last.status == tlm::TLM_OK_RESPONSE);
    CHECK(ok_first.status == tlm::TLM_OK_RESPONSE);
    // The targets saw only the two accesses that decoded.
    CHECK(a.addresses == std::vector<uint64_t>{0xFF8});
    CHECK(b.addresses == std::vector<uint64_t>{0x0});
    CHECK(stat_count(r, "decode_errors") == 9);
    CHECK(stat_count(r, "transactions") == 2);
}

TEST_CASE("router: debug transport passes through translated and misses return 0 bytes", "[router]") {
    test_target a("a"), b("b");
    accelvp::router r("bus", sc_time(5, SC_NS));
    test_initiator init("init");
    r.add_target("regs", 0x1000, 0x1000, a.socket);
    r.add_target("dram", 0x4000, 0x2000, b.socket);
    init.socket.bind(r.target_socket);

    unsigned wrote = 0, read = 0, missed = 0, straddled = 0;
    unsigned char out[16], in[16] = {};
    for (unsigned k = 0; k < 16; ++k) out[k] = static_cast<unsigned char>(0xA0 + k);
    init.body = [&](test_initiator& i) {
        wrote = i.dbg(tlm::TLM_WRITE_COMMAND, 0x4010, out, 16);
        read = i.dbg(tlm::TLM_READ_COMMAND, 0x4010, in, 16);
        missed = i.dbg(tlm::TLM_READ_COMMAND, 0x3000, in, 4);
        straddled = i.dbg(tlm::TLM_READ_COMMAND, 0x1FFE, in, 4);
    };
    sc_core::sc_start();
    REQUIRE(init.finished);

    CHECK(wrote == 16);
    CHECK(read == 16);
    CHECK(std::memcmp(in, out, 16) == 0);
    CHECK(std::memcmp(&b.mem[0x10], out, 16) == 0);
    CHECK(b.dbg_addresses == std::vector<uint64_t>{0x10, 0x10});
    CHECK(missed == 0);
    CHECK(straddled == 0);
    CHECK(a.dbg_addresses.empty());
    CHECK(b.addresses.empty());  // debug accesses are not b_transport
    CHECK(stat_count(r, "transactions") == 0);
}

TEST_CASE("router: DMI grants are translated to router addresses, clipped to the range, hop added",
          "[router][dmi]") {
    test_target a("a"), b("b");
    accelvp::router r("bus", sc_time(5, SC_NS));
    test_initiator init("init");
    r.add_target("regs", 0x1000, 0x1000, a.socket);  // a grants [0, 0xFFFF]: wider than the range
    r.add_target("dram", 0x4000, 0x2000, b.socket);
    init.socket.bind(r.target_socket);

    dmi_result clipped{}, inner{}, beyond{}, refused{}, miss{};
    init.body = [&](test_initiator& i) {
        clipped = i.dmi(0x1010);
        b.dmi_start = 0x1000;
        b.dmi_end = 0x17FF;
        inner = i.dmi(0x5100);
        b.dmi_start = 0x3000;  // starts beyond the 0x2000-byte range
        b.dmi_end = 0x3FFF;
        beyond = i.dmi(0x4000);
        b.grant_dmi = false;
        refused = i.dmi(0x4000);
        miss = i.dmi(0x3000);
    };
    sc_core::sc_start();
    REQUIRE(init.finished);

    CHECK(a.dmi_addresses == std::vector<uint64_t>{0x10});
    CHECK(b.dmi_addresses == std::vector<uint64_t>{0x1100, 0x0, 0x0});

    REQUIRE(clipped.ok);
    CHECK(clipped.start == 0x1000);
    CHECK(clipped.end == 0x1FFF);
    CHECK(clipped.ptr == a.mem.data());
    CHECK(clipped.read_latency == sc_time(12, SC_NS));
    CHECK(clipped.write_latency == sc_time(12, SC_NS));

    REQUIRE(inner.ok);
    CHECK(inner.start == 0x5000);
    CHECK(inner.end == 0x57FF);
    CHECK(inner.ptr == &b.mem[0x1000]);

    CHECK_FALSE(beyond.ok);
    CHECK_FALSE(refused.ok);
    CHECK_FALSE(miss.ok);
}

TEST_CASE("router: invalidate_direct_mem_ptr from a target reaches the initiator translated and clipped",
          "[router][dmi]") {
    test_target a("a"), b("b");
    accelvp::router r("bus");
    test_initiator init("init");
    r.add_target("regs", 0x1000, 0x1000, a.socket);
    r.add_target("dram", 0x4000, 0x2000, b.socket);
    r.map("regs_alias", 0x10000, 0x100, 0);
    init.socket.bind(r.target_socket);

    using span = std::pair<uint64_t, uint64_t>;
    std::vector<std::vector<span>> seen;
    init.body = [&](test_initiator& i) {
        auto step = [&](test_target& t, uint64_t s, uint64_t e) {
            i.invalidations.clear();
            t.invalidate(s, e);
            seen.push_back(i.invalidations);
        };
        step(a, 0x10, 0x1F);       // inside both windows onto a
        step(a, 0x80, 0x2FFF);     // clipped at the end of both windows
        step(a, 0x500, 0x600);     // beyond the alias window: regs only
        step(b, 0x0, ~0ull);       // everything of b
        step(b, 0x2000, 0x3000);   // beyond b's range: nothing
    };
    sc_core::sc_start();
    REQUIRE(init.finished);

    REQUIRE(seen.size() == 5);
    CHECK(seen[0] == std::vector<span>{{0x1010, 0x101F}, {0x10010, 0x1001F}});
    CHECK(seen[1] == std::vector<span>{{0x1080, 0x1FFF}, {0x10080, 0x100FF}});
    CHECK(seen[2] == std::vector<span>{{0x1500, 0x1600}});
    CHECK(seen[3] == std::vector<span>{{0x4000, 0x5FFF}});
    CHECK(seen[4].empty());
}

TEST_CASE("router: an accelvp::memory behind the router is reached by b_transport and clipped DMI",
          "[router][dmi]") {
    accelvp::memory::params p;
    p.size = 4ull << 20;
    p.bandwidth_gbps = 100;  // 64 bytes take 640 ps
    p.latency_ns = 100;
    accelvp::memory mem("mem", p);
    accelvp::router r("bus", sc_time(5, SC_NS));
    test_initiator init("init");
    r.add_target("window", 0x80000000ull, 0x1000, mem.socket);  // a 4 KiB window onto the memory
    r.map("full", 0x90000000ull, 4ull << 20, 0);                // all of it
    init.socket.bind(r.target_socket);

    unsigned char pattern[64], back[64] = {}, via_dmi[8] = {1, 2, 3, 4, 5, 6, 7, 8}, back_dmi[8] = {};
    for (unsigned k = 0; k < 64; ++k) pattern[k] = static_cast<unsigned char>(k * 7 + 1);
    access wr{}, rd{}, rd_dmi{}, outside{};
    dmi_result window{}, page1{};
    init.body = [&](test_initiator& i) {
        wr = i.transport(tlm::TLM_WRITE_COMMAND, 0x80000100ull, pattern, 64);
        window = i.dmi(0x80000100ull);
        page1 = i.dmi(0x90100010ull);
        if (window.ok) std::memcpy(window.ptr + 0x200, via_dmi, 8);
        rd = i.transport(tlm::TLM_READ_COMMAND, 0x90000100ull, back, 64);
        rd_dmi = i.transport(tlm::TLM_READ_COMMAND, 0x80000200ull, back_dmi, 8);
        outside = i.transport(tlm::TLM_READ_COMMAND, 0x80001000ull, back_dmi, 8);
    };
    sc_core::sc_start();
    REQUIRE(init.finished);

    CHECK(wr.status == tlm::TLM_OK_RESPONSE);
    // hop 5 ns, then the bus for 640 ps, then the 100 ns access latency.
    CHECK(wr.delay == sc_time::from_value(5000 + 640 + 100000));
    CHECK(rd.status == tlm::TLM_OK_RESPONSE);
    CHECK(std::memcmp(back, pattern, 64) == 0);

    REQUIRE(window.ok);
    CHECK(window.start == 0x80000000ull);  // the memory grants its 1 MiB page; clipped to the window
    CHECK(window.end == 0x80000FFFull);
    CHECK(window.ptr == mem.store().page_ptr(0));
    CHECK(std::memcmp(window.ptr + 0x100, pattern, 64) == 0);
    CHECK(window.read_latency == sc_time(105, SC_NS));

    REQUIRE(page1.ok);
    CHECK(page1.start == 0x90100000ull);
    CHECK(page1.end == 0x901FFFFFull);
    CHECK(page1.ptr == mem.store().page_ptr(1ull << 20));

    CHECK(rd_dmi.status == tlm::TLM_OK_RESPONSE);
    CHECK(std::memcmp(back_dmi, via_dmi, 8) == 0);
    CHECK(outside.status == tlm::TLM_ADDRESS_ERROR_RESPONSE);

    CHECK(stat_count(mem, "bytes_written") == 64);
    CHECK(stat_count(mem, "bytes_read") == 72);
    CHECK(stat_count(r, "decode_errors") == 1);
    CHECK(stat_count(r, "transactions") == 3);
}
