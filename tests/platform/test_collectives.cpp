// Collective library (platform/system/collectives.h): nccl-tests' figures, alpha-beta
// bounds, and every generated schedule executed on a pure host model of the chips (many
// interleavings) ending with the right data on every chip.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "platform/system/collectives.h"
#include "tlm/core/config.h"

using namespace accelvp;

TEST_CASE("collectives: busbw factors are nccl-tests' definitions", "[collectives]") {
    CHECK(busbw_factor(coll_kind::all_reduce, 8) == Approx(2.0 * 7 / 8));
    CHECK(busbw_factor(coll_kind::all_gather, 8) == Approx(7.0 / 8));
    CHECK(busbw_factor(coll_kind::reduce_scatter, 4) == Approx(3.0 / 4));
    CHECK(busbw_factor(coll_kind::all_to_all, 3) == Approx(2.0 / 3));
    CHECK(busbw_factor(coll_kind::broadcast, 16) == 1.0);
    CHECK(algbw(1'000'000, 1e-3) == Approx(1e9));
    CHECK(busbw(coll_kind::all_reduce, 4, 1'000'000, 1e-3) == Approx(1.5e9));
}

TEST_CASE("collectives: alpha-beta lower bounds follow the formulas", "[collectives]") {
    const alpha_beta m{1e-6, 50e9};
    const uint64_t S = 64ull << 20;
    const double s = static_cast<double>(S) / 50e9;
    CHECK(lower_bound_s(coll_kind::all_reduce, coll_algo::ring, 8, S, m) == Approx(14e-6 + 2.0 * 7 / 8 * s));
    CHECK(lower_bound_s(coll_kind::all_gather, coll_algo::ring, 8, S, m) == Approx(7e-6 + 7.0 / 8 * s));
    CHECK(lower_bound_s(coll_kind::reduce_scatter, coll_algo::tree, 8, S, m) == Approx(3e-6 + 7.0 / 8 * s));
    CHECK(lower_bound_s(coll_kind::all_reduce, coll_algo::tree, 5, S, m) == Approx(6e-6 + 2.0 * 4 / 5 * s));
    CHECK(lower_bound_s(coll_kind::broadcast, coll_algo::ring, 4, S, m) == Approx(3e-6 + s));
    CHECK(lower_bound_s(coll_kind::broadcast, coll_algo::tree, 4, S, m) == Approx(2 * (1e-6 + s)));
    CHECK(lower_bound_s(coll_kind::all_to_all, coll_algo::tree, 8, S, m) == Approx(3e-6 + 1.5 * s));
    CHECK(lower_bound_s(coll_kind::all_reduce, coll_algo::ring, 1, S, m) == 0);
    // busbw at the ring bound approaches the link bandwidth for large messages.
    const double t = lower_bound_s(coll_kind::all_reduce, coll_algo::ring, 8, 1ull << 34, m);
    CHECK(busbw(coll_kind::all_reduce, 8, 1ull << 34, t) == Approx(50e9).epsilon(1e-3));
}

namespace {
constexpr uint64_t buf = 0x100, out = 0x100000;  // out: all_to_all destination

// Integer-valued floats: every summation order gives the same bits.
std::vector<std::vector<uint8_t>> make_memories(uint32_t n, uint64_t bytes, uint32_t seed, bool ints) {
    std::mt19937 g(seed);
    std::vector<std::vector<uint8_t>> mem(n, std::vector<uint8_t>(out + bytes + 64));
    for (auto& m : mem)
        for (uint64_t o = 0; o + 4 <= bytes; o += 4) {
            if (ints) {
                const int32_t v = static_cast<int32_t>(g());
                std::memcpy(&m[buf + o], &v, 4);
            } else {
                const float v = static_cast<float>(static_cast<int>(g() % 2001) - 1000);
                std::memcpy(&m[buf + o], &v, 4);
            }
        }
    for (auto& m : mem)
        for (uint64_t o = bytes & ~3ull; o < bytes; ++o) m[buf + o] = static_cast<uint8_t>(g());
    return mem;
}


// Runs request r on topology t with several interleavings; checks the data. Returns failures.
uint64_t run_and_check(coll_request r, const topology& t, uint32_t seed) {
    const uint32_t n = t.chips;
    const bool ints = r.dtype == AAX_COLL_DT_INT32;
    const auto init = make_memories(n, r.bytes, seed, ints);
    auto mem = init;
    r.sem_base = 4;
    const schedule s = make_schedule(r, t);
    const std::string err = execute_schedule(s, t, mem, r.sem_base, seed);
    if (!err.empty()) {
        UNSCOPED_INFO(err);
        return 1;
    }
    auto slice = [&](const std::vector<std::vector<uint8_t>>& m, uint64_t at) {
        std::vector<std::vector<uint8_t>> v;
        for (const auto& x : m) v.emplace_back(x.begin() + static_cast<ptrdiff_t>(at), x.begin() + static_cast<ptrdiff_t>(at + r.bytes));
        return v;
    };
    const uint64_t bad = count_mismatches(r, slice(init, buf), slice(mem, buf), slice(mem, out));
    return bad;
}
} // namespace

TEST_CASE("collectives: ring schedules leave the right data on 2 3 4 8 chips and odd sizes", "[collectives]") {
    for (uint32_t n : {2u, 3u, 4u, 8u}) {
        const topology t = topology::build("ring", n);
        for (coll_kind k : {coll_kind::all_reduce, coll_kind::reduce_scatter, coll_kind::all_gather, coll_kind::broadcast})
            for (uint64_t bytes : {4ull, 12ull, 4004ull, 4ull * 1001, 65536ull})
                for (uint32_t chunks : {1u, 3u})
                    for (uint32_t seed : {1u, 2u, 3u}) {
                        coll_request r;
                        r.kind = k;
                        r.buf = buf;
                        r.bytes = k == coll_kind::all_gather || k == coll_kind::broadcast ? bytes + 3 : bytes;
                        r.chunks = chunks;
                        r.root = n - 1;
                        INFO(name_of(k) << " n=" << n << " bytes=" << r.bytes << " chunks=" << chunks << " seed=" << seed);
                        CHECK(run_and_check(r, t, seed) == 0);
                    }
    }
}

TEST_CASE("collectives: ring schedules run on 2D tori along a snake cycle", "[collectives][torus]") {
    // 2x4, 4x2, 3x4 and 4x3 tori (an even side makes a cycle without wrap-around links).
    for (auto [x, y] : {std::pair{2u, 4u}, {4u, 2u}, {3u, 4u}, {4u, 3u}}) {
        const topology t = topology::build("torus2d", x * y, x, y);
        for (coll_kind k : {coll_kind::all_reduce, coll_kind::reduce_scatter, coll_kind::all_gather, coll_kind::broadcast})
            for (uint64_t bytes : {12ull, 4004ull}) {
                coll_request r;
                r.kind = k;
                r.buf = buf;
                r.bytes = k == coll_kind::all_gather || k == coll_kind::broadcast ? bytes + 3 : bytes;
                r.root = 5;
                INFO(name_of(k) << " torus " << x << "x" << y << " bytes=" << r.bytes);
                CHECK(run_and_check(r, t, 7) == 0);
            }
    }
    // 3x3: no cycle without wrap-around is built; the missing link is reported.
    coll_request r;
    r.buf = buf;
    r.bytes = 4096;
    CHECK_THROWS_WITH(make_schedule(r, topology::build("torus2d", 9, 3, 3)), Catch::Contains("needs a direct link"));
}

TEST_CASE("collectives: int32 max all_reduce and tree schedules", "[collectives]") {
    for (uint32_t n : {2u, 4u, 8u}) {
        const topology fc = topology::build("fully_connected", n);
        const topology sw = topology::build("switch", n);
        for (coll_kind k : {coll_kind::all_reduce, coll_kind::reduce_scatter, coll_kind::all_gather})
            for (uint64_t bytes : {4ull, 4ull * 1001, 65536ull})
                for (uint32_t seed : {1u, 2u, 3u}) {
                    coll_request r;
                    r.kind = k;
                    r.algo = coll_algo::tree;
                    r.buf = buf;
                    r.bytes = bytes;
                    INFO(name_of(k) << " tree n=" << n << " bytes=" << bytes << " seed=" << seed);
                    CHECK(run_and_check(r, seed % 2 ? fc : sw, seed) == 0);
                }
        coll_request r;
        r.buf = buf;
        r.bytes = 4 * 777;
        r.dtype = AAX_COLL_DT_INT32;
        r.red = AAX_COLL_RED_MAX;
        CHECK(run_and_check(r, topology::build("ring", n), 7) == 0);
        r.algo = coll_algo::tree;
        CHECK(run_and_check(r, fc, 8) == 0);
    }
}

TEST_CASE("collectives: all_to_all moves every block to its chip", "[collectives]") {
    for (uint32_t n : {2u, 3u, 4u, 8u})
        for (uint32_t seed : {1u, 2u}) {
            coll_request r;
            r.kind = coll_kind::all_to_all;
            r.buf = buf;
            r.out = out;
            r.bytes = n * 333;
            INFO("n=" << n);
            CHECK(run_and_check(r, topology::build(n <= 3 ? "ring" : "fully_connected", n), seed) == 0);
        }
}

TEST_CASE("collectives: impossible requests are config errors", "[collectives]") {
    coll_request r;
    r.buf = buf;
    r.bytes = 4096;
    r.algo = coll_algo::tree;
    CHECK_THROWS_WITH(make_schedule(r, topology::build("fully_connected", 3)), Catch::Contains("power-of-two"));
    CHECK_THROWS_WITH(make_schedule(r, topology::build("ring", 8)), Catch::Contains("direct link from chip 0"));
    r.algo = coll_algo::ring;
    CHECK_THROWS_WITH(make_schedule(r, topology::build("custom", 3, 0, 0, "0.0-1.1 1.0-2.1")),
                      Catch::Contains("direct link from chip 2 to chip 0"));
    r.bytes = 4094;
    CHECK_THROWS_WITH(make_schedule(r, topology::build("ring", 4)), Catch::Contains("4-byte elements"));
    r.kind = coll_kind::all_to_all;
    r.bytes = 4096;
    CHECK_THROWS_WITH(make_schedule(r, topology::build("ring", 4)), Catch::Contains("direct link"));
    r.bytes = 4097;
    CHECK_THROWS_WITH(make_schedule(r, topology::build("fully_connected", 4)), Catch::Contains("divisible"));
}

TEST_CASE("collectives: one chip's stream alone equals its stream in the whole schedule, and the check throws the same",
          "[collectives]") {
    // make_chip_schedule (built one chip at a time by a large system) and check_schedule (the
    // config-time check, recording nothing) against make_schedule.
    struct cas {
        const char* topo;
        uint32_t chips;
        coll_kind kind;
        coll_algo algo;
        uint64_t bytes;
        uint32_t chunks;
    };
    const cas cases[] = {
        {"ring", 5, coll_kind::all_reduce, coll_algo::ring, 4004, 1},
        {"ring", 4, coll_kind::all_reduce, coll_algo::ring, 65536, 3},
        {"torus2d", 8, coll_kind::all_gather, coll_algo::ring, 4096, 2},
        {"fully_connected", 8, coll_kind::all_reduce, coll_algo::tree, 8192, 1},
        {"fully_connected", 4, coll_kind::reduce_scatter, coll_algo::tree, 4096, 1},
        {"ring", 6, coll_kind::broadcast, coll_algo::ring, 10000, 4},
        {"switch", 4, coll_kind::all_to_all, coll_algo::ring, 4096, 1},
    };
    auto same = [](const sched_op& a, const sched_op& b) {
        return a.kind == b.kind && std::memcmp(&a.pkt, &b.pkt, sizeof(a.pkt)) == 0 && a.sem == b.sem &&
               a.value == b.value && a.src == b.src && a.dst == b.dst && a.bytes == b.bytes;
    };
    for (const cas& c : cases) {
        coll_request r;
        r.buf = buf;
        r.out = buf + (1u << 20);
        r.kind = c.kind;
        r.algo = c.algo;
        r.bytes = c.bytes;
        r.chunks = c.chunks;
        r.root = 1;
        const topology t = topology::build(c.topo, c.chips);
        const schedule whole = make_schedule(r, t);
        CHECK_NOTHROW(check_schedule(r, t));
        size_t ops = 0;
        for (uint32_t i = 0; i < c.chips; ++i) {
            const std::vector<sched_op> one = make_chip_schedule(r, t, i);
            INFO(c.topo << " " << name_of(c.kind) << " chip " << i);
            REQUIRE(one.size() == whole.per_chip[i].size());
            for (size_t k = 0; k < one.size(); ++k) CHECK(same(one[k], whole.per_chip[i][k]));
            ops += one.size();
        }
        CHECK(ops > c.chips);  // every chip has a stream
    }
    coll_request r;
    r.buf = buf;
    r.bytes = 4096;
    r.algo = coll_algo::tree;
    CHECK_THROWS_WITH(check_schedule(r, topology::build("ring", 8)), Catch::Contains("direct link from chip 0"));
    r.algo = coll_algo::ring;
    CHECK_THROWS_WITH(check_schedule(r, topology::build("custom", 3, 0, 0, "0.0-1.1 1.0-2.1")),
                      Catch::Contains("direct link from chip 2 to chip 0"));
    r.kind = coll_kind::all_to_all;
    r.bytes = 4097;
    CHECK_THROWS_WITH(check_schedule(r, topology::build("fully_connected", 4)), Catch::Contains("divisible"));
}

TEST_CASE("collectives: a schedule serialises to COLL and SEM_WAIT packets", "[collectives]") {
    coll_request r;
    r.buf = buf;
    r.bytes = 4096;
    const schedule s = make_schedule(r, topology::build("ring", 4));
    // Ring all_reduce per chip: 3 + 3 transfers, 3 + 3 waits (2 in-loop + 1 final per phase).
    REQUIRE(s.per_chip[0].size() == 12);
    const std::vector<uint8_t> bytes = to_packets(s.per_chip[0]);
    CHECK(bytes.size() == 6 * sizeof(aax_pkt_coll) + 6 * sizeof(aax_pkt_sem_wait));
    aax_pkt_coll first;
    std::memcpy(&first, bytes.data(), sizeof(first));
    CHECK(first.hdr.opcode == AAX_OP_COLL);
    CHECK(first.hdr.size_qw == AAX_PKT_COLL_QW);
    CHECK((first.hdr.param & 0xFF) == AAX_COLL_REDUCE);
    CHECK(first.port == 0);
    CHECK(first.bytes == 1024);
    CHECK(first.local_addr == buf + 3 * 1024);  // chip 0 starts with segment n-1
    CHECK(s.sems == 2);
}

TEST_CASE("collectives: the executor catches a schedule without its waits", "[collectives]") {
    // Guard against a checker that cannot fail: dropping the SEM_WAITs of a ring all_reduce
    // lets chips forward partial sums too early, which some interleaving must expose.
    coll_request r;
    r.buf = buf;
    r.bytes = 4 * 64;
    const topology t = topology::build("ring", 4);
    schedule s = make_schedule(r, t);
    for (auto& ops : s.per_chip) {
        std::vector<sched_op> kept;
        for (const auto& o : ops)
            if (o.kind != sched_op::wait) kept.push_back(o);
        ops = kept;
    }
    int wrong_runs = 0;
    for (uint32_t seed = 1; seed <= 10; ++seed) {
        auto mem = make_memories(4, r.bytes, seed, false);
        const auto init = mem;
        REQUIRE(execute_schedule(s, t, mem, 0, seed).empty());
        float want = 0, got;
        for (uint32_t c = 0; c < 4; ++c) {
            float v;
            std::memcpy(&v, &init[c][buf], 4);
            want += v;
        }
        bool ok = true;
        for (uint32_t c = 0; c < 4; ++c) {
            std::memcpy(&got, &mem[c][buf], 4);
            ok = ok && got == want;
        }
        wrong_runs += !ok;
    }
    CHECK(wrong_runs > 0);
    // ... and a missing signal deadlocks instead of hanging.
    schedule d = make_schedule(r, t);
    d.per_chip[1].erase(d.per_chip[1].begin());  // chip 1's first transfer never happens
    auto mem = make_memories(4, r.bytes, 1, false);
    const std::string err = execute_schedule(d, t, mem, 0, 1);
    INFO(err);
    CHECK(err.rfind("deadlock: chip", 0) == 0);
}

TEST_CASE("collectives: the data checker counts each wrong element", "[collectives]") {
    coll_request r;
    r.bytes = 16;
    const std::vector<std::vector<uint8_t>> before{std::vector<uint8_t>(16, 0), std::vector<uint8_t>(16, 0)};
    auto after = before;
    CHECK(count_mismatches(r, before, after, after) == 0);  // 0 + 0 = 0 everywhere
    after[1][5] = 1;
    CHECK(count_mismatches(r, before, after, after) == 1);
    r.kind = coll_kind::reduce_scatter;  // chip 1 owns bytes 8..15 only: byte 5 is not checked
    CHECK(count_mismatches(r, before, after, after) == 0);
    after[0][15] = 1;  // ... and chip 0 owns 0..7
    CHECK(count_mismatches(r, before, after, after) == 0);
    after[0][3] = 1;
    CHECK(count_mismatches(r, before, after, after) == 1);
}
