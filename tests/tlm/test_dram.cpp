// Timing rules of the DRAM model on hand-built request sequences (tlm/mem/dram_*): each
// latency or command time is checked against the analytic sum of the standard's
// parameters. These drive dram_channel / dram_system directly (no SystemC).
#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "tlm/core/config.h"
#include "tlm/mem/address_mapping.h"
#include "tlm/mem/dram_controller.h"
#include "tlm/mem/dram_memory.h"

using namespace accelvp;

namespace {

dram_params hbm(const std::string& refresh = "none", const std::string& sched = "frfcfs") {
    dram_params p = dram_params::of_standard("HBM2E");
    p.refresh = refresh;
    p.scheduler = sched;
    p.org.size = 1ull << 30;
    return p;
}

dram_request rd(uint64_t arrival, uint32_t row, uint16_t bg = 0, uint16_t bank = 0, uint16_t pc = 0,
                uint64_t tag = 0) {
    dram_request r;
    r.arrival = arrival;
    r.row = row;
    r.bg = bg;
    r.bank = bank;
    r.pc = pc;
    r.tag = tag;
    return r;
}
dram_request wr(uint64_t arrival, uint32_t row, uint16_t bg = 0, uint16_t bank = 0, uint64_t tag = 0) {
    dram_request r = rd(arrival, row, bg, bank, 0, tag);
    r.write = true;
    return r;
}

// The 8-channel HBM2 of issue 20 (DRAMSim3's HBM2_8Gb_x128 timing: tCK 1 ns, 128-bit
// channels, BL4, 4 x 4 banks), refresh off so latencies are the timing sums alone.
dram_params hbm2_ref() {
    dram_params p = hbm();
    p.org.pseudo_channels = 1;
    p.org.width_bits = 128;
    p.org.row_bytes = 1024;
    auto& t = p.t;
    t.tCK_ps = 1000;
    t.BL = 4;
    t.beats_per_ck = 2;
    t.tRCD = 14, t.tRP = 14, t.tCL = 14, t.tWL = 4, t.tRAS = 34, t.tRC = 48;
    t.tCCD_S = 1, t.tCCD_L = 2, t.tRRD_S = 4, t.tRRD_L = 6, t.tFAW = 30;
    t.tWTR_S = 6, t.tWTR_L = 8, t.tRTP = 4, t.tWR = 16, t.tRTW = 14;
    return p;
}

std::vector<dram_completion> drain(dram_channel& ch) {
    std::vector<dram_completion> out;
    dram_completion c;
    while (!ch.idle())
        if (ch.step(c)) out.push_back(c);
    return out;
}

std::vector<uint64_t> times_of(const std::vector<dram_cmd_record>& log, dram_cmd cmd) {
    std::vector<uint64_t> v;
    for (const auto& r : log)
        if (r.cmd == cmd) v.push_back(r.t);
    return v;
}

} // namespace

TEST_CASE("DRAM row hit miss and conflict latencies equal the timing sums", "[dram]") {
    const dram_params p = hbm();
    const auto& t = p.t;
    const uint64_t bl = t.burst_cycles();
    dram_channel ch(p, "");

    ch.enqueue(rd(0, 7));  // closed bank: ACT, RD
    auto c = drain(ch);
    REQUIRE(c.size() == 1);
    CHECK(c[0].done - c[0].arrival == t.tRCD + t.tCL + bl);

    ch.enqueue(rd(1000, 7));  // same row still open: RD only
    c = drain(ch);
    REQUIRE(c.size() == 1);
    CHECK(c[0].done - c[0].arrival == t.tCL + bl);

    ch.enqueue(rd(2000, 9));  // another row open: PRE, ACT, RD
    c = drain(ch);
    REQUIRE(c.size() == 1);
    CHECK(c[0].done - c[0].arrival == t.tRP + t.tRCD + t.tCL + bl);

    CHECK(ch.row_misses() == 1);
    CHECK(ch.row_hits() == 1);
    CHECK(ch.row_conflicts() == 1);
}

TEST_CASE("DRAM precharge waits for tRAS after an activate", "[dram]") {
    const dram_params p = hbm();
    const auto& t = p.t;
    dram_channel ch(p, "");
    std::vector<dram_cmd_record> log;
    ch.set_command_log(&log);
    ch.enqueue(rd(0, 1));
    ch.enqueue(rd(0, 2));  // conflict right behind: PRE no earlier than ACT + tRAS
    drain(ch);
    const auto pre = times_of(log, dram_cmd::PRE);
    const auto act = times_of(log, dram_cmd::ACT);
    REQUIRE(pre.size() == 1);
    REQUIRE(act.size() == 2);
    CHECK(pre[0] == act[0] + t.tRAS);
    CHECK(act[1] == std::max<uint64_t>(pre[0] + t.tRP, act[0] + t.tRC));
}

TEST_CASE("DRAM tFAW allows at most four activates per window", "[dram]") {
    const dram_params p = hbm();
    const auto& t = p.t;
    dram_channel ch(p, "");
    std::vector<dram_cmd_record> log;
    ch.set_command_log(&log);
    // Eight banks of one pseudo-channel, spread over the bank groups (tRRD_S apart).
    for (uint16_t i = 0; i < 8; ++i) ch.enqueue(rd(0, 1, i % 4, i / 4));
    drain(ch);
    const auto act = times_of(log, dram_cmd::ACT);
    REQUIRE(act.size() == 8);
    const uint64_t s = t.tRRD_S;
    const std::vector<uint64_t> want = {0, s, 2 * s, 3 * s, t.tFAW, t.tFAW + s, t.tFAW + 2 * s, t.tFAW + 3 * s};
    CHECK(act == want);
    for (size_t i = 4; i < act.size(); ++i) CHECK(act[i] >= act[i - 4] + t.tFAW);
}

TEST_CASE("DRAM all-bank refresh blocks the pseudo-channel for tRFC", "[dram]") {
    const dram_params p = hbm("all_bank");
    const auto& t = p.t;
    dram_channel ch(p, "");
    std::vector<dram_cmd_record> log;
    ch.set_command_log(&log);
    // Pseudo-channel 0 refreshes first at tREFI, pseudo-channel 1 half an interval later.
    const uint64_t due = t.tREFI;
    ch.enqueue(rd(due + 5, 3, 1, 2, 0, 1));  // pc 0: waits for the refresh
    ch.enqueue(rd(due + 5, 3, 1, 2, 1, 2));  // pc 1: not refreshing yet
    auto c = drain(ch);
    REQUIRE(c.size() == 2);
    const auto ref = times_of(log, dram_cmd::REF);
    REQUIRE(!ref.empty());
    CHECK(ref[0] == due);
    for (const auto& x : c) {
        if (x.tag == 1)
            CHECK(x.done == due + t.tRFC + t.tRCD + t.tCL + t.burst_cycles());
        else
            CHECK(x.done == due + 5 + t.tRCD + t.tCL + t.burst_cycles());
    }
    CHECK(ch.refreshes() >= 1);
}

TEST_CASE("DRAM per-bank refresh blocks only the refreshed bank for tRFCpb", "[dram]") {
    const dram_params p = hbm("per_bank");
    const auto& t = p.t;
    dram_channel ch(p, "");
    std::vector<dram_cmd_record> log;
    ch.set_command_log(&log);
    const uint64_t due = t.tREFI / p.banks_per_pc();
    ch.enqueue(rd(due + 1, 3, 1, 1, 0, 1));  // bank 5: busy, so the refresh takes an idle bank (bank 0)
    auto c = drain(ch);
    REQUIRE(c.size() == 1);
    CHECK(c[0].done == due + 1 + t.tRCD + t.tCL + t.burst_cycles());
    REQUIRE(!log.empty());
    CHECK(log[0].cmd == dram_cmd::REFpb);
    CHECK(log[0].t == due);
    CHECK(log[0].bg == 0);
    CHECK(log[0].bank == 0);
    ch.enqueue(rd(due + 2, 3, 0, 0, 0, 2));  // the refreshed bank: ACT only after tRFCpb
    c = drain(ch);
    REQUIRE(c.size() == 1);
    CHECK(c[0].done == due + t.tRFCpb + t.tRCD + t.tCL + t.burst_cycles());
}

TEST_CASE("DRAM write to read turnaround waits tWTR", "[dram]") {
    const dram_params p = hbm();
    const auto& t = p.t;
    const uint64_t bl = t.burst_cycles();
    dram_channel ch(p, "");
    std::vector<dram_cmd_record> log;
    ch.set_command_log(&log);
    ch.enqueue(rd(0, 4, 0, 0));  // open row 4 in bank groups 0 and 1
    ch.enqueue(rd(0, 4, 1, 0));
    drain(ch);

    ch.enqueue(wr(500, 4, 0, 0));
    drain(ch);
    ch.enqueue(rd(501, 4, 0, 0));  // same bank group: tWTR_L
    drain(ch);
    auto w = times_of(log, dram_cmd::WR), r = times_of(log, dram_cmd::RD);
    REQUIRE(w.size() == 1);
    CHECK(w[0] == 500);
    CHECK(r.back() == w[0] + t.tWL + bl + t.tWTR_L);

    ch.enqueue(wr(1000, 4, 0, 0));
    drain(ch);
    ch.enqueue(rd(1001, 4, 1, 0));  // other bank group: tWTR_S
    drain(ch);
    w = times_of(log, dram_cmd::WR);
    r = times_of(log, dram_cmd::RD);
    CHECK(r.back() == w.back() + t.tWL + bl + t.tWTR_S);
}

TEST_CASE("DRAM read to write turnaround waits tRTW", "[dram]") {
    const dram_params p = hbm();
    const auto& t = p.t;
    dram_channel ch(p, "");
    std::vector<dram_cmd_record> log;
    ch.set_command_log(&log);
    ch.enqueue(rd(0, 4));
    drain(ch);
    ch.enqueue(rd(500, 4));
    drain(ch);
    ch.enqueue(wr(501, 4));
    drain(ch);
    CHECK(times_of(log, dram_cmd::WR).back() == times_of(log, dram_cmd::RD).back() + t.tRTW);
}

TEST_CASE("DRAM FR-FCFS picks a row hit over an older miss", "[dram]") {
    const dram_params p = hbm();
    dram_channel ch(p, "");
    ch.enqueue(rd(0, 1));
    drain(ch);
    ch.enqueue(rd(1000, 2, 0, 0, 0, 10));  // older, other row
    ch.enqueue(rd(1000, 1, 0, 0, 0, 11));  // younger, open row
    const auto c = drain(ch);
    REQUIRE(c.size() == 2);
    CHECK(c[0].tag == 11);
    CHECK(c[0].done - 1000 == p.t.tCL + p.t.burst_cycles());
    CHECK(c[1].tag == 10);
}

TEST_CASE("DRAM FCFS serves the older miss before a younger hit", "[dram]") {
    const dram_params p = hbm("none", "fcfs");
    dram_channel ch(p, "");
    ch.enqueue(rd(0, 1));
    drain(ch);
    ch.enqueue(rd(1000, 2, 0, 0, 0, 10));
    ch.enqueue(rd(1000, 1, 0, 0, 0, 11));
    const auto c = drain(ch);
    REQUIRE(c.size() == 2);
    CHECK(c[0].tag == 10);
    CHECK(c[1].tag == 11);
}

TEST_CASE("DRAM closed page policy precharges after each access", "[dram]") {
    dram_params p = hbm();
    p.page_policy = "closed";
    const auto& t = p.t;
    dram_channel ch(p, "");
    ch.enqueue(rd(0, 1));
    drain(ch);
    ch.enqueue(rd(1000, 1));  // same row, but closed meanwhile: a miss, not a hit
    const auto c = drain(ch);
    REQUIRE(c.size() == 1);
    CHECK(c[0].done - 1000 == t.tRCD + t.tCL + t.burst_cycles());
    CHECK(ch.row_misses() == 2);
    CHECK(ch.row_hits() == 0);
}

TEST_CASE("DRAM write drain holds writes until the high watermark", "[dram]") {
    dram_params p = hbm();
    p.write_high = 4;
    p.write_low = 1;
    dram_channel ch(p, "");
    // Reads and three writes queued: reads go first, writes wait (below the watermark).
    for (uint64_t i = 0; i < 3; ++i) ch.enqueue(wr(0, 1, 0, 0, 100 + i));
    for (uint64_t i = 0; i < 3; ++i) ch.enqueue(rd(0, 1, 1, 0, 0, i));
    const auto c = drain(ch);
    REQUIRE(c.size() == 6);
    for (size_t i = 0; i < 3; ++i) CHECK_FALSE(c[i].write);
    for (size_t i = 3; i < 6; ++i) CHECK(c[i].write);
}

TEST_CASE("DRAM address mapping decodes channel-interleaved addresses", "[dram]") {
    dram_params p = hbm();  // 1 stack, 8 channels, 2 pseudo-channels, 4x4 banks, 1 KiB rows, 32 B bursts
    const address_mapping m(p.mapping, p);
    auto d = [&](uint64_t a) { return m.decode(a); };
    CHECK(d(0).channel == 0);
    CHECK(d(32).channel == 1);
    CHECK(d(31).channel == 0);
    CHECK(d(7 * 32).channel == 7);
    CHECK(d(8 * 32).pc == 1);
    CHECK(d(8 * 32).channel == 0);
    CHECK(d(16 * 32).bg == 1);
    CHECK(d(64 * 32).col == 1);
    CHECK(d(64 * 32 * 32).bank == 1);
    CHECK(d(64 * 32 * 32 * 4).row == 1);
    const dram_coord x = d(0x12345660);
    CHECK(x.channel == ((0x12345660 >> 5) & 7));
    CHECK(x.row == (0x12345660ull >> 18));

    // Split fields and another order.
    const address_mapping m2("ro-ba-co:3-bg-co:2-pc-ch", p);
    CHECK(m2.decode(16 * 32).col == 1);
    CHECK(m2.decode(64 * 32).bg == 1);
    CHECK(m2.decode(256 * 32).col == 4);

    // Six stacks: mixed radix.
    p.org.stacks = 6;
    p.org.size = 6ull << 30;
    const address_mapping m6(p.mapping, p);
    CHECK(m6.decode(16 * 32).stack == 1);
    CHECK(m6.decode(5 * 16 * 32).stack == 5);
    CHECK(m6.decode(6 * 16 * 32).stack == 0);
    CHECK(m6.decode(6 * 16 * 32).bg == 1);
    CHECK(m6.controller_of(m6.decode(5 * 16 * 32 + 3 * 32)) == 5 * 8 + 3);

    CHECK_THROWS_AS(address_mapping("ro-ba-bg-pc-ch", p), config_error);   // no column
    CHECK_THROWS_AS(address_mapping("ro-ba-co-bg-xx-ch", p), config_error);
    CHECK_THROWS_AS(address_mapping("ro-ba-co:9-bg-st-pc-ch", p), config_error);  // 512 columns > 32
}

TEST_CASE("DRAM standards give the published peak bandwidth", "[dram]") {
    CHECK(dram_params::of_standard("HBM2E").peak_bytes_per_s() == Approx(409.6e9));
    CHECK(dram_params::of_standard("HBM3").peak_bytes_per_s() == Approx(819.2e9));
    dram_params l = dram_params::of_standard("LPDDR5");
    CHECK(l.peak_bytes_per_s() == Approx(25.6e9));  // 2 x16 channels
    for (const char* s : {"HBM2E", "HBM3", "LPDDR5"}) CHECK(dram_params::of_standard(s).burst_bytes() == 32);
}

TEST_CASE("DRAM system splits a large transfer into bursts over all channels", "[dram]") {
    dram_params p = hbm("per_bank");
    dram_system sys("", p);
    const uint64_t done = sys.access(0, 1 << 20, false, 0);  // 1 MiB: 32768 bursts
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < sys.channels(); ++i) bytes += sys.channel(i).bytes_read();
    CHECK(bytes == 1u << 20);
    // Streamed at close to the peak: 1 MiB at 409.6 GB/s is 2560 ns = 4096 cycles.
    const double ns = static_cast<double>(done) * p.t.tCK_ps / 1000.0;
    CHECK(ns >= 2560.0);
    CHECK(ns < 2560.0 / 0.85);
}

TEST_CASE("DRAM split reads queued together let FR-FCFS serve row hits first", "[dram]") {
    // Three one-burst reads to one bank: row 0, row 1, row 0. One at a time (access), each is
    // scheduled alone: hit... conflict, conflict. Submitted together (the front end of split
    // reads), the scheduler sees the second row-0 read behind the first and serves it before
    // the row-1 read: one conflict instead of two, so everything ends earlier.
    const dram_params p = hbm();
    dram_system probe("", p);
    // The smallest address steps that change only the row, or only the column.
    uint64_t row_step = 0, col_step = 0;
    for (unsigned b = 5; b < 40; ++b) {
        const dram_coord c = probe.mapping().decode(1ull << b);
        if (c.bank || c.bg || c.pc || c.channel || c.stack) continue;
        if (!row_step && c.row && !c.col) row_step = 1ull << b;
        if (!col_step && c.col && !c.row) col_step = 1ull << b;
    }
    REQUIRE(row_step != 0);
    REQUIRE(col_step != 0);
    const uint64_t addr[3] = {0, row_step, col_step};  // row 0, row 1, row 0 (next column)

    dram_system serial("", p);
    uint64_t serial_end = 0;
    for (const uint64_t a : addr) serial_end = std::max(serial_end, serial.access(a, 32, false, 0));

    dram_system split("", p);
    std::vector<uint32_t> tickets;
    for (const uint64_t a : addr) tickets.push_back(split.submit_read(a, 32, 0));
    CHECK(split.reads_in_flight() == 3);
    uint64_t split_end = 0;
    for (const uint32_t t : tickets) {
        const uint64_t bound = split.read_bound(t);
        const uint64_t done = split.complete_read(t);
        CHECK(done >= bound);  // the bound handed to the initiator is a lower bound
        split_end = std::max(split_end, done);
    }
    CHECK(split.reads_in_flight() == 0);
    const uint32_t ch = split.mapping().controller_of(split.mapping().decode(0));
    CHECK(serial.channel(ch).row_conflicts() == 2);
    CHECK(split.channel(ch).row_conflicts() == 1);
    // One conflict (tRP + tRCD) less.
    CHECK(serial_end - split_end >= static_cast<uint64_t>(p.t.tRP + p.t.tRCD) - 2 * p.t.burst_cycles());
}

TEST_CASE("DRAM split reads completed out of order report their own bursts", "[dram]") {
    // Two 4 KiB reads over all channels, completed in the opposite order: each completion
    // waits only for its own bursts and both are at least their bounds.
    const dram_params p = hbm();
    dram_system sys("", p);
    const uint32_t a = sys.submit_read(0, 4096, 0), b = sys.submit_read(4096, 4096, 10);
    const uint64_t db = sys.complete_read(b), da = sys.complete_read(a);
    CHECK(db >= sys.read_bound(b));
    CHECK(da >= sys.read_bound(a));
    CHECK(da <= db);  // a arrived first and FR-FCFS keeps row-hit streams in order
    dram_system ref("", p);
    CHECK(ref.access(0, 4096, false, 0) == da);  // a alone ends as it does with b behind it
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < sys.channels(); ++i) bytes += sys.channel(i).bytes_read();
    CHECK(bytes == 8192);
}

// ---- impossible refresh timings (docs/security.md) --------------------------------

TEST_CASE("DRAM per-bank refresh leaving the banks no time is refused at config time", "[dram][config]") {
    dram_params p = hbm("per_bank");
    p.t.tREFIpb = 1;
    CHECK_THROWS_WITH(p.validate(),
                      "config error: mem.dram.tREFIpb = 1: each of the 16 banks of a pseudo-channel is refreshed every "
                      "16 cycles, which must be at least 2 x (mem.dram.tRFCpb + mem.dram.tRC) = 666: the banks would "
                      "have too little time to serve requests");
    // With tRFCpb = 10: 2 x (10 + 77) = 174 cycles per bank round at least.
    p.t.tRFCpb = 10;
    p.t.tREFIpb = 10;  // 160 cycles per bank round
    CHECK_THROWS_AS(p.validate(), config_error);
    p.t.tREFIpb = 11;  // 176, and one refresh (10) ends within the interval
    CHECK_NOTHROW(p.validate());
    p.t.tRFCpb = 256;
    // Derived from tREFI when tREFIpb is 0.
    p.t.tREFIpb = 0;
    p.t.tREFI = 600;
    CHECK_THROWS_WITH(p.validate(), Catch::Matchers::StartsWith("config error: mem.dram.tREFI = 600 / 16 banks = 37: "));
    // More refresh commands than half the row-command slots.
    p = hbm("per_bank");
    p.t.tRFCpb = 1;
    p.t.tRAS = p.t.tRC = 1;
    p.t.tREFIpb = 3;
    CHECK_THROWS_WITH(p.validate(), "config error: mem.dram.tREFIpb = 3: per-bank refreshes of the 2 pseudo-channels "
                                    "would take more than half of the row-command slots; the interval must be at "
                                    "least 4");
    p = hbm("all_bank");
    p.t.tREFI = p.t.tRFC;
    CHECK_THROWS_WITH(p.validate(), "config error: mem.dram.tREFI = 720 must be at least 2 x (mem.dram.tRFC + "
                                    "mem.dram.tRC) = 1594: all-bank refresh would leave the banks too little time to "
                                    "serve requests");
    p.t.tREFI = 1594;
    CHECK_NOTHROW(p.validate());
}

namespace {
// 64 reads, four to a bank, rows alternating (row misses and conflicts), all queued at once.
size_t serve_conflicting_reads(const dram_params& p) {
    dram_channel ch(p, "");
    dram_channel::set_time_limit_ns(1e7);  // a livelock ends as dram_time_limit, not a hung test
    size_t served = 0;
    dram_completion c;
    for (uint32_t i = 0; i < 64; ++i) {
        while (!ch.can_accept(false))
            if (ch.step(c)) ++served;
        ch.enqueue(rd(0, i % 2 + i / 32 * 2, static_cast<uint16_t>(i % 4), static_cast<uint16_t>(i / 4 % 4), 0, i + 1));
    }
    served += drain(ch).size();
    dram_channel::set_time_limit_ns(1e300);
    return served;
}
} // namespace

TEST_CASE("DRAM refresh at the edge of the accepted range still serves every request", "[dram]") {
    dram_params p = hbm("per_bank");
    p.t.tRFCpb = 10;
    p.t.tREFIpb = 11;  // the smallest accepted: each bank refreshing about half of its time
    REQUIRE_NOTHROW(p.validate());
    CHECK(serve_conflicting_reads(p) == 64);
    p = hbm("all_bank");
    p.t.tREFI = 2 * (p.t.tRFC + p.t.tRC);
    REQUIRE_NOTHROW(p.validate());
    CHECK(serve_conflicting_reads(p) == 64);
}

TEST_CASE("DRAM controller stops at the simulated-time limit instead of spinning in refresh", "[dram]") {
    dram_params p = hbm("per_bank");
    p.t.tREFIpb = 1;  // refused by validate(); built directly, it would refresh forever
    dram_channel ch(p, "");
    dram_channel::set_time_limit_ns(1e6);  // 1 ms
    ch.enqueue(rd(0, 3));
    CHECK_THROWS_AS(drain(ch), dram_time_limit);
    CHECK(static_cast<double>(ch.now()) * p.t.tCK_ps / 1000.0 > 1e6);
    CHECK(static_cast<double>(ch.now()) * p.t.tCK_ps / 1000.0 < 1.01e6);
    dram_channel::set_time_limit_ns(1e300);
}

// Issue 20, item 1: the cycle-10 read to row 1 must not wait for a row-0 hit that only
// arrives at cycle 1000. Row 0: ACT 0, RD 14, data to 30. Row 1: PRE at tRAS = 34, ACT 48,
// RD 62, data to 78 (68 after its arrival). The late row-0 read: PRE 1000, ACT 1014,
// RD 1028, data to 1044.
TEST_CASE("DRAM scheduler does not wait for a row hit that arrives later", "[dram][causal]") {
    const dram_params p = hbm2_ref();
    dram_channel ch(p, "");
    std::vector<dram_cmd_record> log;
    ch.set_command_log(&log);
    ch.enqueue(rd(0, 0, 0, 0, 0, 1));
    ch.enqueue(rd(10, 1, 0, 0, 0, 2));
    ch.enqueue(rd(1000, 0, 0, 0, 0, 3));  // queued ahead of its arrival
    const auto c = drain(ch);
    REQUIRE(c.size() == 3);
    CHECK(c[0].tag == 1);
    CHECK(c[0].done - c[0].arrival == 30);
    CHECK(c[1].tag == 2);
    CHECK(c[1].done - c[1].arrival == 68);
    CHECK(c[2].tag == 3);
    CHECK(c[2].done - c[2].arrival == 44);
    CHECK(times_of(log, dram_cmd::PRE) == std::vector<uint64_t>{34, 1000});
    CHECK(times_of(log, dram_cmd::ACT) == std::vector<uint64_t>{0, 48, 1014});
}

// Issue 20, item 1: 32 writes arriving at cycle 5000 must not put the channel in write mode
// before they arrive. Two reads to two banks: ACT 0 / RD 14 / data 30, ACT 10 / RD 24 / data 40.
TEST_CASE("DRAM write drain counts only writes that have arrived", "[dram][causal]") {
    const dram_params p = hbm2_ref();
    dram_channel ch(p, "");
    ch.enqueue(rd(0, 0, 0, 0, 0, 1));
    ch.enqueue(rd(10, 0, 1, 0, 0, 2));
    for (uint32_t i = 0; i < 32; ++i) ch.enqueue(wr(5000, i, static_cast<uint16_t>(i % 4), static_cast<uint16_t>(i / 4 % 4), 100 + i));
    CHECK_FALSE(ch.can_accept(true));  // the writes hold their queue entries already
    const auto c = drain(ch);
    REQUIRE(c.size() == 34);
    CHECK(c[0].tag == 1);
    CHECK(c[0].done - c[0].arrival == 30);
    CHECK(c[1].tag == 2);
    CHECK(c[1].done - c[1].arrival == 30);
    for (size_t i = 2; i < c.size(); ++i) {
        CHECK(c[i].write);
        CHECK(c[i].done > 5000);
    }
}

// Per-bank command queues of one entry: the row-1 hit queued behind the row-2 request waits
// in the transaction queue, so FR-FCFS cannot pull it forward. Without command queues it
// goes second (RD at 14 + tCCD_L = 16, data to 32).
TEST_CASE("DRAM per-bank command queues hide requests waiting in the transaction queue", "[dram][queues]") {
    for (const uint32_t depth : {0u, 1u}) {
        dram_params p = hbm2_ref();
        p.bank_queue_depth = depth;
        dram_channel ch(p, "");
        ch.enqueue(rd(0, 1, 0, 0, 0, 1));
        ch.enqueue(rd(0, 2, 0, 0, 0, 2));
        ch.enqueue(rd(0, 1, 0, 0, 0, 3));
        const auto c = drain(ch);
        REQUIRE(c.size() == 3);
        std::vector<uint64_t> tags, done;
        for (const auto& x : c) {
            tags.push_back(x.tag);
            done.push_back(x.done);
        }
        if (depth == 0) {
            CHECK(tags == std::vector<uint64_t>{1, 3, 2});
            CHECK(done == std::vector<uint64_t>{30, 32, 78});  // row 2: PRE 34, ACT 48, RD 62
        } else {
            CHECK(tags == std::vector<uint64_t>{1, 2, 3});
            CHECK(done == std::vector<uint64_t>{30, 78, 126});  // row 1 again: PRE 82 (tRAS), ACT 96, RD 110
        }
    }
}

TEST_CASE("DRAM per-bank command queues: capacity is the transaction queue plus the command queues", "[dram][queues]") {
    dram_params p = hbm2_ref();
    p.queue_depth = 4;
    p.bank_queue_depth = 2;
    dram_channel ch(p, "");
    // Two banks x 2 command entries, then 4 transaction-queue entries for bank 0.
    for (uint16_t i = 0; i < 4; ++i) ch.enqueue(rd(0, i, 0, static_cast<uint16_t>(i % 2)));
    for (uint16_t i = 0; i < 4; ++i) {
        CHECK(ch.can_accept(false));
        ch.enqueue(rd(0, 10 + i));
    }
    CHECK_FALSE(ch.can_accept(false));
    CHECK(ch.can_accept(true));
    CHECK(drain(ch).size() == 8);
}

// FR-FCFS age cap: with mem.dram.row_hit_cap = 1 one younger row hit may pass the bank's
// oldest request (row 2), then it goes; without a cap both row-1 hits go first.
TEST_CASE("DRAM FR-FCFS row-hit cap bounds how often the oldest request is bypassed", "[dram][queues]") {
    for (const uint32_t cap : {0u, 1u}) {
        dram_params p = hbm2_ref();
        p.row_hit_cap = cap;
        dram_channel ch(p, "");
        ch.enqueue(rd(0, 1, 0, 0, 0, 1));
        ch.enqueue(rd(0, 2, 0, 0, 0, 2));
        ch.enqueue(rd(0, 1, 0, 0, 0, 3));
        ch.enqueue(rd(0, 1, 0, 0, 0, 4));
        std::vector<uint64_t> tags, done;
        for (const auto& x : drain(ch)) {
            tags.push_back(x.tag);
            done.push_back(x.done);
        }
        if (cap == 0) {
            CHECK(tags == std::vector<uint64_t>{1, 3, 4, 2});
            CHECK(done == std::vector<uint64_t>{30, 32, 34, 78});
        } else {
            CHECK(tags == std::vector<uint64_t>{1, 3, 2, 4});
            CHECK(done == std::vector<uint64_t>{30, 32, 78, 126});
        }
    }
}

TEST_CASE("DRAM command queues too large for the slot index are refused at config time", "[dram][config]") {
    dram_params p = hbm2_ref();
    p.bank_queue_depth = 1024;  // 2 x 16 banks x 1024 + 64 > 32767
    try {
        p.validate();
        FAIL("accepted");
    } catch (const config_error& e) {
        CHECK(std::string(e.what()).find("mem.dram.bank_queue_depth = 1024") != std::string::npos);
    }
}

// A write drain (4 writes to bank group 0, high watermark 4) lets the read waiting on
// bank group 1, whose open row is another, precharge and activate meanwhile: PRE 1001
// (the row bus after the writes' ACT at 1000), ACT 1015 (tRP), RD at 1030 (tRCD gives 1029,
// the third write's data end 1024 + tWTR_S gives 1030), data to 1046. Held back until
// the drain ended (third WR at 1018), it took PRE 1018, ACT 1032, RD 1046, data to 1062.
TEST_CASE("DRAM write drain does not hold back row commands for waiting reads", "[dram][drain]") {
    dram_params p = hbm2_ref();
    p.write_high = 4;
    p.write_low = 1;
    dram_channel ch(p, "");
    std::vector<dram_cmd_record> log;
    ch.set_command_log(&log);
    ch.enqueue(rd(0, 9, 1, 0));  // opens row 9 in bank group 1
    drain(ch);
    log.clear();
    for (uint64_t i = 0; i < 4; ++i) ch.enqueue(wr(1000, 1, 0, 0, 100 + i));
    ch.enqueue(rd(1000, 5, 1, 0, 0, 7));
    const auto c = drain(ch);
    REQUIRE(c.size() == 5);
    bool found = false;
    for (const auto& x : c)
        if (x.tag == 7) {
            found = true;
            CHECK(x.done == 1046);
            CHECK(x.done - x.arrival == 46);
        }
    CHECK(found);
    CHECK(times_of(log, dram_cmd::PRE) == std::vector<uint64_t>{1001});
    CHECK(times_of(log, dram_cmd::ACT) == std::vector<uint64_t>{1000, 1015});
    CHECK(times_of(log, dram_cmd::WR) == std::vector<uint64_t>{1014, 1016, 1018, 1044});  // 4th: tRTW after the RD
    CHECK(times_of(log, dram_cmd::RD) == std::vector<uint64_t>{1030});
}

// Read after write: a read of a burst with a write queued is answered from the write queue
// one cycle after it arrives; a read of another burst goes to the DRAM.
TEST_CASE("DRAM read after a queued write is forwarded from the write queue", "[dram][drain]") {
    const dram_params p = hbm2_ref();
    dram_channel ch(p, "");
    ch.enqueue(wr(0, 3, 0, 0, 1));
    ch.enqueue(rd(10, 3, 0, 0, 0, 7));  // same row and column
    ch.enqueue(rd(10, 4, 0, 0, 0, 8));  // another row of the bank
    const auto c = drain(ch);
    REQUIRE(c.size() == 3);
    int seen = 0;
    for (const auto& x : c) {
        if (x.tag == 7) {
            ++seen;
            CHECK(x.arrival == 10);
            CHECK(x.done == 11);
        }
        if (x.tag == 8) {
            ++seen;
            CHECK(x.done - x.arrival > 30);  // PRE, ACT, RD
        }
    }
    CHECK(seen == 2);
    CHECK(ch.reads_forwarded() == 1);
    CHECK(ch.reads_done() == 2);
    CHECK(ch.read_latency_sum_ns() > 31.0);
}

TEST_CASE("DRAM standards as data: every table validates and gives its peak bandwidth", "[dram][standards]") {
    const std::vector<std::pair<const char*, double>> peaks = {
        {"HBM2", 256e9},     {"HBM2E", 409.6e9},         {"HBM3", 819.2e9}, {"HBM3E", 32 * 32 / (2 * 417e-12)},
        {"DDR4", 64 / (4 * 833e-12)}, {"DDR5", 2 * 64 / (8 * 416e-12)}, {"LPDDR5", 25.6e9},
        {"LPDDR5X", 2 * 32 / (2 * 937e-12)}, {"GDDR6", 512e9}};
    REQUIRE(dram_standards().size() == peaks.size());
    for (const auto& [name, peak] : peaks) {
        dram_params p = dram_params::of_standard(name);
        CHECK(p.peak_bytes_per_s() == Approx(peak));
        CHECK_NOTHROW(p.validate());
        CHECK(p.refresh == (std::string(name).rfind("DDR", 0) == 0 ? "all_bank" : "per_bank"));
    }
}

// The ns timings follow the clock: HBM2E at tCK 1 ns is the HBM2 core (14 ns = 14 cycles,
// per-bank refresh 160 ns against tREFI / 16 = 243 cycles), clock-given values (tCCD) stay.
TEST_CASE("DRAM timings in ns are converted with the configured clock", "[dram][standards]") {
    const dram_standard* s = find_dram_standard("HBM2E");
    REQUIRE(s);
    CHECK(s->t.tRCD == 23);  // 14 ns at 625 ps, JEDEC rounding
    const dram_timing t = s->at_clock(1000);
    CHECK(t.tCK_ps == 1000);
    CHECK(t.tRCD == 14);
    CHECK(t.tCL == 14);
    CHECK(t.tWL == 4);
    CHECK(t.tRC == 48);
    CHECK(t.tRFCpb == 160);
    CHECK(t.tREFI == 3900);
    CHECK(t.tCCD_L == 4);  // in clocks
    CHECK(t.tRTW == 14 + 2 + 2 - 4);
    dram_params p = dram_params::of_standard("HBM2E");
    p.t = t;
    p.refresh = "per_bank";
    CHECK_NOTHROW(p.validate());
    // tRC = tRAS + tRP where the standard says so (LPDDR5: 34 + 15), also at another clock.
    const dram_standard* l = find_dram_standard("LPDDR5");
    CHECK(l->t.tRC == 49);
    const dram_timing lt = l->at_clock(1000);
    CHECK(lt.tRAS == 42);
    CHECK(lt.tRC == 42 + 18);
}

TEST_CASE("DRAM config check refuses impossible refresh and timing combinations", "[dram][config]") {
    dram_params p = dram_params::of_standard("DDR4");
    p.refresh = "per_bank";
    CHECK_THROWS_WITH(p.validate(), "config error: mem.dram.refresh = per_bank: DDR4 has no per-bank refresh "
                                    "(mem.dram.tRFCpb = 0); use all_bank or none, or set mem.dram.tRFCpb");
    p = hbm("per_bank");
    p.t.tREFIpb = 250;  // 16 x 250 leaves room, but one refresh (256) outlasts the interval
    CHECK_THROWS_WITH(p.validate(), "config error: mem.dram.tRFCpb = 256 is not below tREFIpb = 250 "
                                    "(mem.dram.tREFIpb): per-bank refresh would never end");
    p = hbm();
    p.t.tRAS = p.t.tRCD - 1;
    CHECK_THROWS_WITH(p.validate(), Catch::Matchers::StartsWith("config error: mem.dram.tRAS = 22 is less than tRCD = 23"));
}

namespace {
dram_params ddr4_ranks(uint32_t ranks, const std::string& refresh = "none") {
    dram_params p = dram_params::of_standard("DDR4");
    p.org.ranks = ranks;
    p.refresh = refresh;
    return p;
}
} // namespace

// tFAW and tRRD are per rank: eight ACTs to eight closed banks, four per rank, all fit before
// tFAW (26) with two ranks; with the eight banks in one rank the fifth waits for tFAW.
TEST_CASE("DRAM ranks have their own tFAW window", "[dram][ranks]") {
    for (const uint32_t ranks : {1u, 2u}) {
        const dram_params p = ddr4_ranks(ranks);
        dram_channel ch(p, "");
        std::vector<dram_cmd_record> log;
        ch.set_command_log(&log);
        for (uint16_t i = 0; i < 8; ++i)
            ch.enqueue(ranks == 2 ? rd(0, 1, static_cast<uint16_t>(i % 4), 0, static_cast<uint16_t>(i / 4))
                                  : rd(0, 1, static_cast<uint16_t>(i % 4), static_cast<uint16_t>(i / 4)));
        drain(ch);
        const auto acts = times_of(log, dram_cmd::ACT);
        REQUIRE(acts.size() == 8);
        if (ranks == 2) {
            CHECK(acts.back() < p.t.tFAW);
        } else {
            CHECK(acts[4] >= acts[0] + p.t.tFAW);
        }
    }
}

// Reads of two ranks sharing the data bus: the second waits the burst (4) plus tRTRS (2);
// two bank groups of one rank only tCCD_S (4).
TEST_CASE("DRAM column commands of different ranks keep tRTRS apart", "[dram][ranks]") {
    for (const bool other_rank : {false, true}) {
        const dram_params p = ddr4_ranks(2);
        dram_channel ch(p, "");
        std::vector<dram_cmd_record> log;
        ch.set_command_log(&log);
        const uint16_t pc = other_rank ? 1 : 0, bg = other_rank ? 0 : 1;
        ch.enqueue(rd(0, 1, 0, 0, 0));
        ch.enqueue(rd(0, 1, bg, 0, pc));
        drain(ch);
        ch.enqueue(rd(1000, 1, 0, 0, 0, 1));
        ch.enqueue(rd(1000, 1, bg, 0, pc, 2));
        drain(ch);
        const auto r = times_of(log, dram_cmd::RD);
        REQUIRE(r.size() == 4);
        CHECK(r[2] == 1000);
        CHECK(r[3] == (other_rank ? 1000 + 4 + 2 : 1000 + 4));
    }
}

// All-bank refresh per rank, staggered: rank 0 refreshes at tREFI (9364), rank 1 half an
// interval later; rank 0's refresh (tRFC 421) delays only rank 0's read: rank 1 ACT 9370,
// RD 9386, data to 9406; rank 0 ACT 9785, RD 9801, data to 9821.
TEST_CASE("DRAM refresh is per rank and staggered", "[dram][ranks]") {
    const dram_params p = ddr4_ranks(2, "all_bank");
    REQUIRE(p.t.tREFI == 9364);
    REQUIRE(p.t.tRFC == 421);
    dram_channel ch(p, "");
    std::vector<dram_cmd_record> log;
    ch.set_command_log(&log);
    ch.enqueue(rd(9370, 1, 0, 0, 1, 1));
    ch.enqueue(rd(9370, 1, 0, 0, 0, 2));
    const auto c = drain(ch);
    REQUIRE(c.size() == 2);
    CHECK(c[0].tag == 1);
    CHECK(c[0].done == 9406);
    CHECK(c[1].tag == 2);
    CHECK(c[1].done == 9821);
    std::vector<std::pair<uint64_t, uint16_t>> refs;
    for (const auto& r : log)
        if (r.cmd == dram_cmd::REF) refs.push_back({r.t, r.pc});
    REQUIRE(refs.size() >= 1);
    CHECK(refs[0] == std::pair<uint64_t, uint16_t>{9364, 0});
    dram_channel ch2(p, "");
    log.clear();
    ch2.set_command_log(&log);
    ch2.enqueue(rd(14100, 1, 0, 0, 1, 3));
    drain(ch2);
    refs.clear();
    for (const auto& r : log)
        if (r.cmd == dram_cmd::REF) refs.push_back({r.t, r.pc});
    REQUIRE(refs.size() == 2);
    CHECK(refs[1] == std::pair<uint64_t, uint16_t>{9364 + 9364 / 2, 1});
}

// A request admitted because it arrives by the decision time must not move a decision before
// its arrival. Write drain at 2 writes: one write at cycle 0, reads keeping the channel in
// read mode (the next read command is legal at 14), the second write at cycle 10. Before it
// arrives the channel has nothing to do (one write: read mode, the only read waits for tRCD);
// at 10 the drain starts, so the first write's ACT is at 10, not at 4 (tRRD_S after the read's
// ACT, as if the second write had been known at 4).
TEST_CASE("DRAM a request admitted at the decision time does not move the decision before its arrival",
          "[dram][causal]") {
    dram_params p = hbm2_ref();
    p.write_high = 2;
    p.write_low = 0;
    dram_channel ch(p, "");
    std::vector<dram_cmd_record> log;
    ch.set_command_log(&log);
    ch.enqueue(rd(0, 0, 0, 0, 0, 1));
    ch.enqueue(wr(0, 0, 1, 0, 100));
    ch.enqueue(rd(1, 1, 0, 0, 0, 2));
    ch.enqueue(wr(10, 0, 2, 0, 101));
    const auto c = drain(ch);
    REQUIRE(c.size() == 4);
    const auto acts = times_of(log, dram_cmd::ACT);
    REQUIRE(acts.size() >= 3);
    CHECK(acts[0] == 0);
    CHECK(acts[1] == 10);  // the first write's bank, once the second write has arrived
    for (const auto& r : log)
        if (r.bg != 0) CHECK(r.t >= 10);  // no command for a write before the second one arrives
}
