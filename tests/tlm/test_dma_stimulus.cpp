// Stimulus tests of the DMA engine (tlm/dma/dma_engine.h) bound alone: a test initiator sends
// aax_pkt_dma packets on the command socket, the bus socket goes to a memory stub with a
// fixed latency and unlimited bandwidth. Timing is checked against the engine's formula
// (setup, then bursts of at most burst_bytes paced at the datapath rate, each a read, a
// datapath pass of len/bandwidth and a write, max_outstanding in flight); data bit-exact for
// linear, 2-D and fill transfers; the status codes of docs/abi.md for bad fields, bus errors
// and the job deadline.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "stimulus_stubs.h"
#include "tlm/core/stats.h"
#include "tlm/dma/dma_engine.h"

using namespace accelvp;

namespace {

constexpr uint64_t kSrc = 0x10000, kDst = 0x80000;

// 64 GB/s: a 1024-byte burst takes exactly 16 ns on the datapath.
dma_engine::params dparams(uint32_t outstanding, uint32_t burst = 1024) {
    dma_engine::params p;
    p.burst_bytes = burst;
    p.max_outstanding = outstanding;
    p.bandwidth_gbps = 64;
    p.setup_ns = 20;
    p.split_reads = true;  // the stub does not split reads: they complete at once
    return p;
}

aax_pkt_dma copy_pkt(uint64_t src, uint64_t dst, uint64_t width, uint32_t height = 1, uint64_t ss = 0,
                     uint64_t ds = 0) {
    aax_pkt_dma p{};
    p.hdr.opcode = AAX_OP_DMA;
    p.hdr.size_qw = AAX_PKT_DMA_QW;
    p.src = src;
    p.dst = dst;
    p.width = width;
    p.height = height;
    p.src_stride = ss;
    p.dst_stride = ds;
    return p;
}

struct bench {
    stim::initiator ini{"ini"};
    dma_engine dma;
    stim::mem_stub mem;
    bench(const dma_engine::params& p, uint64_t latency_ps) : dma("dma", p), mem("mem", 0, 1u << 20, latency_ps) {
        ini.socket.bind(dma.cmd_socket);
        dma.bus_socket.bind(mem.socket);
        for (size_t i = 0; i < mem.bytes.size(); ++i) mem.bytes[i] = static_cast<uint8_t>((i * 131) >> 3);
    }
    std::vector<stim::access> reads() const { return filter(false); }
    std::vector<stim::access> writes() const { return filter(true); }
    std::vector<stim::access> filter(bool w) const {
        std::vector<stim::access> v;
        for (const auto& a : mem.log)
            if (a.write == w) v.push_back(a);
        return v;
    }
};

uint64_t stat(const char* name) {
    auto* s = dynamic_cast<const counter*>(global_stats().find("dma", name));
    REQUIRE(s);
    return s->get();
}

} // namespace

TEST_CASE("DMA stimulus: a bandwidth-bound copy takes setup + bytes/bandwidth, cut into bursts", "[dma][stimulus]") {
    bench b(dparams(4), 0);
    stim::initiator::cmd_result r;
    std::vector<uint8_t> expect(b.mem.at(kSrc), b.mem.at(kSrc) + 10000);
    stim::run([&] { r = b.ini.command(copy_pkt(kSrc, kDst, 10000)); });
    REQUIRE(r.response == tlm::TLM_OK_RESPONSE);
    CHECK(r.status == AAX_OK);
    // 9 bursts of 1024 B (16 ns each) + 784 B (12.25 ns), back to back after 20 ns setup.
    CHECK(r.delay.value() == 20000 + 9 * 16000 + 12250);
    const auto rd = b.reads(), wr = b.writes();
    REQUIRE(rd.size() == 10);
    REQUIRE(wr.size() == 10);
    for (unsigned k = 0; k < 10; ++k) {
        CHECK(rd[k].addr == kSrc + 1024 * k);
        CHECK(wr[k].addr == kDst + 1024 * k);
        CHECK(rd[k].len == (k < 9 ? 1024u : 784u));
        CHECK(wr[k].len == rd[k].len);
        CHECK(rd[k].arrive_ps == 20000 + 16000 * k);  // requests paced at the datapath rate
        CHECK(wr[k].arrive_ps == 20000 + 16000 * k + (k < 9 ? 16000 : 12250));
        CHECK(rd[k].asid == 0);  // a physical job's accesses carry no address space
    }
    CHECK(std::memcmp(b.mem.at(kDst), expect.data(), expect.size()) == 0);
    CHECK(b.mem.get<uint8_t>(kDst + 10000) == static_cast<uint8_t>(((kDst + 10000) * 131) >> 3));  // no overrun
    CHECK(stat("bursts") == 10);
    CHECK(stat("bytes") == 10000);
    CHECK(stat("commands") == 1);
    CHECK(b.dma.span_begin_ps() == 0);
    CHECK(b.dma.span_end_ps() == r.delay.value());
}

TEST_CASE("DMA stimulus: one burst in flight serializes read latency, datapath and write latency", "[dma][stimulus]") {
    bench b(dparams(1), 100000);  // 100 ns per memory access
    stim::initiator::cmd_result r;
    stim::run([&] { r = b.ini.command(copy_pkt(kSrc, kDst, 4096)); });
    REQUIRE(r.status == AAX_OK);
    // 4 bursts x (100 read + 16 datapath + 100 write) after 20 ns setup.
    CHECK(r.delay.value() == 20000 + 4 * (2 * 100000 + 16000));
    CHECK(std::memcmp(b.mem.at(kDst), b.mem.at(kSrc), 4096) == 0);
}

TEST_CASE("DMA stimulus: max_outstanding bursts overlap their latencies", "[dma][stimulus]") {
    // Latency-bound with two in flight: bursts pair up; each pair costs 2L + b, the last
    // burst of a pair ends one datapath slot b after the first: S + 2(2L + b) + b.
    bench b(dparams(2), 100000);
    stim::initiator::cmd_result r;
    stim::run([&] { r = b.ini.command(copy_pkt(kSrc, kDst, 4096)); });
    REQUIRE(r.status == AAX_OK);
    CHECK(r.delay.value() == 20000 + 2 * (2 * 100000 + 16000) + 16000);
    const auto rd = b.reads();
    REQUIRE(rd.size() == 4);
    CHECK(rd[0].arrive_ps == 20000);
    CHECK(rd[1].arrive_ps == 20000 + 16000);
    CHECK(rd[2].arrive_ps == 20000 + 216000);  // slot 0 is free again after its write
    CHECK(rd[3].arrive_ps == 20000 + 216000 + 16000);
    CHECK(std::memcmp(b.mem.at(kDst), b.mem.at(kSrc), 4096) == 0);
}

TEST_CASE("DMA stimulus: enough bursts in flight hide the latency: S + 2L + n*b", "[dma][stimulus]") {
    bench b(dparams(16), 100000);  // 16 x 16 ns >= 2 x 100 + 16 ns: paced by the datapath
    stim::initiator::cmd_result r;
    stim::run([&] { r = b.ini.command(copy_pkt(kSrc, kDst, 20 * 1024)); });
    REQUIRE(r.status == AAX_OK);
    CHECK(r.delay.value() == 20000 + 2 * 100000 + 20 * 16000);
    CHECK(std::memcmp(b.mem.at(kDst), b.mem.at(kSrc), 20 * 1024) == 0);
}

TEST_CASE("DMA stimulus: a 2-D copy moves each row at its strides, bursts never cross a row", "[dma][stimulus]") {
    bench b(dparams(4, 64), 0);
    stim::initiator::cmd_result r;
    std::vector<uint8_t> before(b.mem.bytes);
    // 5 rows of 100 B; source rows overlap (stride 60 < width, allowed), destination stride 200.
    stim::run([&] { r = b.ini.command(copy_pkt(kSrc, kDst, 100, 5, 60, 200)); });
    REQUIRE(r.status == AAX_OK);
    for (uint64_t row = 0; row < 5; ++row) {
        CHECK(std::memcmp(b.mem.at(kDst + row * 200), &before[kSrc + row * 60], 100) == 0);
        // The 100 bytes between destination rows are untouched.
        CHECK(std::memcmp(b.mem.at(kDst + row * 200 + 100), &before[kDst + row * 200 + 100], 100) == 0);
    }
    const auto rd = b.reads();
    REQUIRE(rd.size() == 10);  // 64 + 36 per row
    for (unsigned k = 0; k < 10; ++k) {
        CHECK(rd[k].addr == kSrc + (k / 2) * 60 + (k % 2) * 64);
        CHECK(rd[k].len == (k % 2 ? 36u : 64u));
    }
    // Datapath time: per row 64 B (1 ns) + 36 B (562.5 ps, rounded up to 563).
    CHECK(r.delay.value() == 20000 + 5 * (1000 + 563));
}

TEST_CASE("DMA stimulus: a fill writes the pattern little-endian, restarting each row, and reads nothing",
          "[dma][stimulus]") {
    bench b(dparams(4, 66), 0);  // 66-byte bursts: the pattern phase must carry across bursts
    std::vector<uint8_t> before(b.mem.bytes);
    aax_pkt_dma p = copy_pkt(0xFFFFFFFFFFFFFFF0ull, kDst, 200, 3, 0, 256);  // src ignored with FILL
    p.hdr.param = AAX_DMA_FILL;
    p.fill = 0xDDCCBBAA;
    stim::initiator::cmd_result r;
    stim::run([&] { r = b.ini.command(p); });
    REQUIRE(r.status == AAX_OK);
    CHECK(b.reads().empty());
    const uint8_t pat[4] = {0xAA, 0xBB, 0xCC, 0xDD};
    for (uint64_t row = 0; row < 3; ++row) {
        for (uint64_t i = 0; i < 200; ++i) {
            INFO("row " << row << " byte " << i);
            REQUIRE(b.mem.get<uint8_t>(kDst + row * 256 + i) == pat[i % 4]);
        }
        CHECK(std::memcmp(b.mem.at(kDst + row * 256 + 200), &before[kDst + row * 256 + 200], 56) == 0);
    }
    CHECK(b.writes().size() == 3 * 4);  // 66 + 66 + 66 + 2 per row
}

TEST_CASE("DMA stimulus: bad packet fields give BAD_PARAM without a bus access", "[dma][stimulus]") {
    bench b(dparams(4), 0);
    std::vector<uint8_t> st;
    stim::run([&] {
        auto go = [&](aax_pkt_dma p) { st.push_back(b.ini.command(p).status); };
        go(copy_pkt(kSrc, kDst, 0));                   // width 0
        go(copy_pkt(kSrc, kDst, 16, 0));               // height 0
        aax_pkt_dma p = copy_pkt(kSrc, kDst, 16);
        p.hdr.param = 2;                               // a param bit other than FILL
        go(p);
        go(copy_pkt(kSrc, kDst, 16, 2, 16, 15));       // dst_stride < width with 2 rows
        go(copy_pkt(kSrc, ~uint64_t{0} - 7, 16));      // destination range past 2^64
        go(copy_pkt(~uint64_t{0} - 7, kDst, 16));      // source range past 2^64
        go(copy_pkt(kSrc, kDst, 8, 3, 1ull << 63, 8)); // source rows past 2^64
        p = copy_pkt(~uint64_t{0} - 7, kDst, 16);      // ... but a FILL ignores its source
        p.hdr.param = AAX_DMA_FILL;
        go(p);
        go(copy_pkt(kSrc, kDst, 16, 2, 0, 16));        // dst_stride == width: fine
    });
    CHECK(st == std::vector<uint8_t>{AAX_ERR_BAD_PARAM, AAX_ERR_BAD_PARAM, AAX_ERR_BAD_PARAM, AAX_ERR_BAD_PARAM,
                                     AAX_ERR_BAD_PARAM, AAX_ERR_BAD_PARAM, AAX_ERR_BAD_PARAM, AAX_OK, AAX_OK});
    CHECK(b.reads().size() == 2);   // only the last copy reads
    CHECK(b.writes().size() == 3);  // the fill and the copy
    CHECK(stat("errors") == 7);
}

TEST_CASE("DMA stimulus: a decode error stops the copy with BAD_ADDRESS at the failing burst", "[dma][stimulus]") {
    bench b(dparams(1), 0);
    b.mem.faults.push_back({kSrc + 3 * 1024 + 100, kSrc + 3 * 1024 + 101, tlm::TLM_ADDRESS_ERROR_RESPONSE});
    std::vector<uint8_t> dst_before(b.mem.at(kDst), b.mem.at(kDst) + 8192);
    stim::initiator::cmd_result r;
    stim::run([&] { r = b.ini.command(copy_pkt(kSrc, kDst, 8192)); });
    CHECK(r.response == tlm::TLM_OK_RESPONSE);
    CHECK(r.status == AAX_ERR_BAD_ADDRESS);
    CHECK(r.error_addr == kSrc + 3 * 1024);  // the start of the failing burst
    // Bursts before it are written, nothing after.
    CHECK(std::memcmp(b.mem.at(kDst), b.mem.at(kSrc), 3 * 1024) == 0);
    CHECK(std::memcmp(b.mem.at(kDst + 3 * 1024), &dst_before[3 * 1024], 5 * 1024) == 0);
    CHECK(b.writes().size() == 3);
    CHECK(stat("errors") == 1);
}

TEST_CASE("DMA stimulus: another error response on a write gives BUS with the burst's destination", "[dma][stimulus]") {
    bench b(dparams(1), 0);
    b.mem.faults.push_back({kDst + 1024, kDst + 2048, tlm::TLM_GENERIC_ERROR_RESPONSE});
    stim::initiator::cmd_result r;
    stim::run([&] { r = b.ini.command(copy_pkt(kSrc, kDst, 4096)); });
    CHECK(r.status == AAX_ERR_BUS);
    CHECK(r.error_addr == kDst + 1024);
}

TEST_CASE("DMA stimulus: the job deadline stops the transfer with TIMEOUT at the deadline", "[dma][stimulus]") {
    bench b(dparams(1), 100000);  // each burst 216 ns after 20 ns setup
    std::vector<uint8_t> dst_before(b.mem.at(kDst), b.mem.at(kDst) + 8192);
    stim::initiator::cmd_result r;
    stim::run([&] { r = b.ini.command(copy_pkt(kSrc, kDst, 8192), /*deadline_ps=*/500000); });
    CHECK(r.status == AAX_ERR_TIMEOUT);
    CHECK(r.delay.value() == 500000);  // the command ends at the deadline
    // Two bursts were written (done at 236 and 452 ns); the third's read was issued but not written.
    CHECK(b.writes().size() == 2);
    CHECK(b.reads().size() == 3);
    CHECK(std::memcmp(b.mem.at(kDst), b.mem.at(kSrc), 2048) == 0);
    CHECK(std::memcmp(b.mem.at(kDst + 2048), &dst_before[2048], 8192 - 2048) == 0);
}

TEST_CASE("DMA stimulus: a job's address space goes on every bus access", "[dma][stimulus]") {
    bench b(dparams(2), 0);
    stim::initiator::cmd_result r;
    stim::run([&] { r = b.ini.command(copy_pkt(kSrc, kDst, 3000), 0, /*asid=*/7); });
    REQUIRE(r.status == AAX_OK);
    REQUIRE(b.mem.log.size() == 6);
    for (const auto& a : b.mem.log) CHECK(a.asid == 7);
}

TEST_CASE("DMA stimulus: the command socket takes only a WRITE of one packet with a command extension",
          "[dma][stimulus]") {
    bench b(dparams(2), 0);
    const aax_pkt_dma p = copy_pkt(kSrc, kDst, 64);
    std::vector<tlm::tlm_response_status> resp;
    stim::run([&] {
        uint8_t longer[sizeof(p) + 8] = {};
        std::memcpy(longer, &p, sizeof(p));
        resp.push_back(b.ini.command_bytes(&p, sizeof(p) - 8).response);
        resp.push_back(b.ini.command_bytes(longer, sizeof(longer)).response);
        resp.push_back(b.ini.command_bytes(&p, sizeof(p), 0, 0, sc_core::SC_ZERO_TIME, /*with_ext=*/false).response);
        aax_pkt_dma q = p;
        tlm::tlm_generic_payload t;
        command_ext ext;
        init_payload(t, tlm::TLM_READ_COMMAND, 0, &q, sizeof(q));
        extension_guard<command_ext> g(t, &ext);
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        b.ini.socket->b_transport(t, d);
        resp.push_back(t.get_response_status());
    });
    for (auto s : resp) CHECK(s == tlm::TLM_COMMAND_ERROR_RESPONSE);
    CHECK(b.mem.log.empty());
}

TEST_CASE("DMA stimulus: timing mode moves no data and takes the same time", "[dma][stimulus]") {
    dma_engine::params p = dparams(2);
    p.timing_only = true;
    bench b(p, 100000);
    std::vector<uint8_t> dst_before(b.mem.at(kDst), b.mem.at(kDst) + 4096);
    stim::initiator::cmd_result r;
    stim::run([&] { r = b.ini.command(copy_pkt(kSrc, kDst, 4096)); });
    REQUIRE(r.status == AAX_OK);
    CHECK(r.delay.value() == 20000 + 2 * (2 * 100000 + 16000) + 16000);  // as in functional mode
    CHECK(std::memcmp(b.mem.at(kDst), dst_before.data(), 4096) == 0);
    for (const auto& a : b.mem.log) CHECK(a.timing_only);
}

// docs/abi.md: packets on one engine are pipelined -- a second packet arriving while the first
// is in flight starts its setup and its read requests once the first has issued its last read
// request (its reads are paced behind the first's read requests, the requests_ timeline), while
// the first's writes drain. Here: first = 20 + 2 x 100 + 4 x 16 = 284 ns; the second ends at
// 348 ns (one that waited for the first's last write would end at 568 ns). The `busy` stat is
// the union of the two intervals (it once added both, 632 ns for 348 ns of wall time).
TEST_CASE("DMA stimulus: a second packet on a busy engine is pipelined behind the first", "[dma][stimulus]") {
    bench b(dparams(4), 100000);
    stim::initiator::cmd_result r1, r2;
    sc_core::sc_spawn(
        [&] {
            sc_core::wait(sc_core::SC_ZERO_TIME);  // one delta after the first packet, at t = 0
            r2 = b.ini.command(copy_pkt(kSrc + 0x8000, kDst + 0x8000, 4096));
        },
        "ring1");
    stim::run([&] { r1 = b.ini.command(copy_pkt(kSrc, kDst, 4096)); });
    REQUIRE(r1.status == AAX_OK);
    REQUIRE(r2.status == AAX_OK);
    CHECK(r1.delay.value() == 284000);
    CHECK(std::memcmp(b.mem.at(kDst + 0x8000), b.mem.at(kSrc + 0x8000), 4096) == 0);
    CHECK(r2.delay.value() == 348000);
    auto* busy = dynamic_cast<const rate*>(global_stats().find("dma", "busy"));
    REQUIRE(busy);
    CHECK(b.dma.span_end_ps() - b.dma.span_begin_ps() == 348000);
    CHECK(busy->total() == 348000.0);
}
