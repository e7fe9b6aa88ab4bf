// Link model (tlm/link/link.h): transfer time = latency + wire bytes / wire rate exactly,
// credits stall a fast sender, bit errors resend deterministically, a down link reports
// AAX_ERR_LINK_DOWN instead of hanging.
#include <catch2/catch.hpp>

#include "abi/aax_queue.h"
#include "tlm/core/config.h"
#include "tlm/core/timeline.h"
#include "tlm/link/link.h"

using namespace accelvp;

namespace {
// 4 lanes x 25 Gb/s, no coding loss: 12.5 GB/s = 80 ps per byte, so every duration is exact.
link_params simple() {
    link_params p;
    p.port_class = "custom";
    p.lanes = 4;
    p.lane_gbps = 25;
    p.encoding = 1.0;
    p.mtu = 1000;
    p.header_bytes = 50;
    p.latency_ns = 300;
    p.credits = 0;
    p.resolve_class();
    return p;
}
constexpr uint64_t ps_per_byte = 80;
} // namespace

TEST_CASE("link: a transfer takes latency plus wire bytes over the wire rate", "[link]") {
    link_channel ch("", simple());
    // 2500 bytes: packets of 1000, 1000, 500 payload, each + 50 header.
    const link_result r = ch.send(1000, 2500);
    CHECK(r.status == AAX_OK);
    CHECK(r.bytes == 2500);
    const uint64_t wire = 2500 + 3 * 50;
    CHECK(r.done_ps == 1000 + wire * ps_per_byte + 300'000);
    CHECK(r.first_ps == 1000 + 1050 * ps_per_byte + 300'000);
    CHECK(ch.packets() == 3);
    CHECK(ch.busy_ps() == wire * ps_per_byte);
    // A second transfer presented earlier than the transmitter is free queues behind (FCFS).
    const link_result r2 = ch.send(0, 100);
    CHECK(r2.done_ps == 1000 + (wire + 150) * ps_per_byte + 300'000);
}

TEST_CASE("link: port classes give the Ethernet data rates", "[link]") {
    for (auto [cls, gbps] : {std::pair<const char*, double>{"100g", 100}, {"200g", 200}, {"400g", 400}, {"800g", 800}}) {
        link_params p;
        p.port_class = cls;
        p.resolve_class();
        INFO(cls);
        CHECK(p.wire_bytes_per_s() == Approx(gbps * 1e9 / 8).epsilon(1e-12));
    }
    link_params bad;
    bad.port_class = "custom";
    CHECK_THROWS_AS(bad.resolve_class(), config_error);
}

TEST_CASE("link: credits stall a sender faster than the receiver drains", "[link]") {
    link_params p = simple();
    p.credits = 4;
    p.drain_gbps = 12.5 * 1000 / 1050 / 4;  // a quarter of the wire's payload rate
    link_channel ch("", p);
    const uint64_t n = 40;
    const link_result r = ch.send(0, n * 1000);
    REQUIRE(r.status == AAX_OK);
    const uint64_t drain_ps = transfer_ps(1000, p.drain_gbps * 1e9);
    // Steady state is the receiver's drain: the last packet drains (n-1) drain times after
    // the first one arrived, give or take the credit round trip in the pipeline.
    const uint64_t first_arrive = 1050 * ps_per_byte + 300'000;
    CHECK(r.done_ps == first_arrive + n * drain_ps);
    CHECK(ch.credit_stall_ps() > 0);
    // Without the credit limit the same receiver only delays delivery, never the sender.
    p.credits = 0;
    link_channel free_ch("", p);
    const link_result r0 = free_ch.send(0, n * 1000);
    CHECK(r0.done_ps == r.done_ps);
    CHECK(free_ch.credit_stall_ps() == 0);
    CHECK(free_ch.busy_ps() == n * 1050 * ps_per_byte);
}

TEST_CASE("link: the credit round trip limits a small receive buffer", "[link]") {
    link_params p = simple();
    p.credits = 2;  // 2 packets in flight per round trip of 2 x 300 ns + one packet time
    link_channel ch("", p);
    const uint64_t n = 20;
    const link_result r = ch.send(0, n * 1000);
    const uint64_t s = 1050 * ps_per_byte, L = 300'000;
    // Packet k >= 2 starts when packet k-2 has arrived and its credit came back: every
    // pair of packets costs one round trip s + 2L; the last one arrives s + L after it starts.
    const uint64_t period = s + 2 * L;
    CHECK(r.done_ps == (n / 2 - 1) * period + s + s + L);
    CHECK(ch.credit_stall_ps() == (n / 2 - 1) * (period - 2 * s));
}

TEST_CASE("link: bit errors resend packets deterministically and cost their time", "[link]") {
    link_params p = simple();
    p.ber = 2e-5;  // a 1050-byte packet is corrupted with probability ~15.5 %
    p.seed = 42;
    const uint64_t n = 400;
    link_channel a("", p), b("", p);
    const link_result ra = a.send(0, n * 1000);
    const link_result rb = b.send(0, n * 1000);
    REQUIRE(ra.status == AAX_OK);
    CHECK(a.retransmits() == b.retransmits());
    CHECK(ra.done_ps == rb.done_ps);
    CHECK(a.retransmits() > 35);
    CHECK(a.retransmits() < 95);
    // Each resend holds the transmitter for the NAK round trip (2 x latency) and one more packet time.
    const uint64_t s = 1050 * ps_per_byte, L = 300'000;
    CHECK(ra.done_ps == n * s + L + a.retransmits() * (2 * L + s));
    link_params q = p;
    q.seed = 43;
    link_channel c("", q);
    c.send(0, n * 1000);
    CHECK(c.retransmits() != a.retransmits());
}

TEST_CASE("link: a down link reports LINK_DOWN and never hangs", "[link]") {
    link_params p = simple();
    p.down_at_ns = 500;  // mid-way through the 8th packet of the first transfer
    link_channel ch("", p);
    const link_result r = ch.send(0, 10'000);
    CHECK(r.status == AAX_ERR_LINK_DOWN);
    const uint64_t s = 1050 * ps_per_byte;
    CHECK(r.bytes == 1000 * (500'000 / s + 1));  // packets that started before the link went down
    CHECK(r.done_ps >= 500'000);
    const link_result later = ch.send(2'000'000, 64);
    CHECK(later.status == AAX_ERR_LINK_DOWN);
    CHECK(later.bytes == 0);
    CHECK(later.done_ps == 2'000'000);

    // A link so noisy that a packet never gets through goes down after max_retries resends.
    link_params noisy = simple();
    noisy.ber = 0.01;
    noisy.max_retries = 3;
    link_channel n("", noisy);
    const link_result rn = n.send(0, 100'000);
    CHECK(rn.status == AAX_ERR_LINK_DOWN);
    CHECK(n.retransmits() == 4);
}

TEST_CASE("link: a switch path adds the downlink and its latency", "[link]") {
    link_params p = simple();
    link_channel up("", p, 200'000), down("", p);
    const link_result r = link_channel::send({&up, &down}, 0, 2000);
    const uint64_t s = 1050 * ps_per_byte, L = 300'000;
    // Store-and-forward per packet: packet 2 leaves the switch when it has arrived there.
    CHECK(r.done_ps == 2 * s + (L + 200'000) + s + L);
}
