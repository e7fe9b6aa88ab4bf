#include "tlm/link/link.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "abi/aax_queue.h"
#include "tlm/core/timeline.h"
#include "tlm/core/trace.h"

namespace accelvp {

namespace {
constexpr uint64_t never = std::numeric_limits<uint64_t>::max();

struct port_class_figures {
    const char* name;
    uint32_t lanes;
    double lane_gbps, encoding;
};
// Ethernet PHYs (IEEE 802.3): 100GBASE-CR4 (4 x 25.78125 Gb/s NRZ, 64b/66b), 200GBASE-CR4 and
// 400GBASE-CR4 / 800GBASE-CR8 (PAM4 lanes of 53.125 / 106.25 Gb/s, 64b/66b + RS(544,514) FEC):
// encoding is MAC data rate / signalling rate.
constexpr port_class_figures classes[] = {
    {"100g", 4, 25.78125, 64.0 / 66.0},
    {"200g", 4, 53.125, 200.0 / 212.5},
    {"400g", 4, 106.25, 400.0 / 425.0},
    {"800g", 8, 106.25, 800.0 / 850.0},
};

uint64_t splitmix64(uint64_t& s) {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
uint64_t fnv1a(const std::string& s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    return h;
}
uint64_t ns_to_ps(double ns) { return static_cast<uint64_t>(std::llround(ns * 1000.0)); }
} // namespace

const param_table<link_params>& link_params::table() {
    static const auto t = [] {
        std::vector<std::string> names{"custom"};
        for (const auto& k : classes) names.push_back(k.name);
        using P = link_params;
        return param_table<P>()
            .string("class", &P::port_class,
                    "port class: lanes, lane rate and encoding of an Ethernet-class PHY (custom: set all three)", names)
            .integer("lanes", &P::lanes, 0, 64, "serdes lanes per port (0: from link.class)")
            .real("lane_gbps", &P::lane_gbps, 0, 1000, "signalling rate per lane (0: from link.class)", "Gb/s")
            .real("encoding", &P::encoding, 0, 1,
                  "line code and FEC efficiency, data bits per line bit (0: from link.class)")
            .integer("mtu", &P::mtu, 64, 1 << 20, "payload bytes per packet", "bytes")
            .integer("header_bytes", &P::header_bytes, 0, 4096, "per-packet overhead on the wire", "bytes")
            .real("latency_ns", &P::latency_ns, 0, 1e7, "one-way latency: serdes, FEC, MAC, cable", "ns")
            .real("switch_hop_ns", &P::switch_hop_ns, 0, 1e7, "added latency per switch on the path", "ns")
            .integer("credits", &P::credits, 0, 1 << 20, "receiver buffer in packets (0: unlimited)")
            .real("drain_gbps", &P::drain_gbps, 0, 1e6, "receiver drain rate (0: instantaneous)", "GB/s")
            .real("ber", &P::ber, 0, 0.01, "injected bit error rate (corrupted packets are resent)")
            .integer("seed", &P::seed, 0, INT64_MAX, "seed of the bit error injection")
            .real("retry_ns", &P::retry_ns, 0, 1e9, "resend delay of a corrupted packet (0: 2 x latency)", "ns")
            .integer("max_retries", &P::max_retries, 0, 1000, "resends of one packet before the link is declared down")
            .real("down_at_ns", &P::down_at_ns, -1, 1e15, "time the link goes down (-1: never)", "ns");
    }();
    return t;
}

void link_params::declare(param_schema& s, const std::string& prefix) { table().declare(s, prefix); }

link_params link_params::from_config(const config& c, const std::string& prefix) {
    auto p = table().load(c, prefix);
    p.resolve_class();
    return p;
}

void link_params::resolve_class() {
    for (const auto& k : classes) {
        if (port_class != k.name) continue;
        if (!lanes) lanes = k.lanes;
        if (lane_gbps <= 0) lane_gbps = k.lane_gbps;
        if (encoding <= 0) encoding = k.encoding;
    }
    if (!lanes || lane_gbps <= 0 || encoding <= 0)
        throw config_error("config error: link.class = custom needs link.lanes, link.lane_gbps and link.encoding > 0");
}

link_channel::link_channel(std::string name, const link_params& p, uint64_t extra_latency_ps)
    : name_(std::move(name)), p_(p), wire_bps_(p.wire_bytes_per_s()), drain_bps_(p.drain_gbps * 1e9),
      latency_ps_(ns_to_ps(p.latency_ns) + extra_latency_ps),
      retry_ps_(p.retry_ns > 0 ? ns_to_ps(p.retry_ns) : 2 * ns_to_ps(p.latency_ns)),
      down_at_(p.down_at_ns >= 0 ? ns_to_ps(p.down_at_ns) : never), rng_(p.seed ^ fnv1a(name_)),
      credit_ring_(p.credits, 0) {
    if (p_.ber > 0) p_err_full_ = -std::expm1(8.0 * (p_.mtu + p_.header_bytes) * std::log1p(-p_.ber));
    ser_full_ = transfer_ps(p_.mtu + p_.header_bytes, wire_bps_);
    drain_full_ = transfer_ps(p_.mtu, drain_bps_);
    if (!name_.empty())
        stats_.add({&bytes_, &wire_bytes_, &packets_, &retransmits_, &stall_ps_, &failures_, &busy_, &throughput_});
}

link_channel::~link_channel() = default;  // stats_ unregisters the stats

bool link_channel::corrupted(uint32_t wire_bytes) {
    if (p_.ber <= 0) return false;
    const double p = wire_bytes == p_.mtu + p_.header_bytes ? p_err_full_
                                                            : -std::expm1(8.0 * wire_bytes * std::log1p(-p_.ber));
    const double u = static_cast<double>(splitmix64(rng_) >> 11) * 0x1.0p-53;
    return u < p;
}

uint64_t link_channel::packet(uint64_t ready, uint32_t payload, uint64_t& arrive) {
    const uint32_t wire = payload + p_.header_bytes;
    const uint64_t ser = payload == p_.mtu ? ser_full_ : transfer_ps(wire, wire_bps_);
    // Credit: the buffer slot of the packet `credits` places back must have been drained
    // and its credit returned over the reverse direction (one latency).
    uint64_t credit = 0;
    if (p_.credits && credit_fill_ == p_.credits) credit = credit_ring_[credit_head_] + latency_ps_;
    const uint64_t unblocked = std::max(ready, tx_free_);
    const uint64_t start = std::max(unblocked, credit);
    if (start >= down_at_) return never;
    if (start > unblocked) stall_ps_ += start - unblocked;
    uint64_t end = start + ser;
    uint32_t tries = 0;
    while (corrupted(wire)) {
        ++retransmits_;
        wire_bytes_ += wire;
        if (++tries > p_.max_retries || end + retry_ps_ >= down_at_) {
            // Too many resends: the link is declared down (the sender knows at `end`).
            down_at_ = std::min(down_at_, end);
            busy_ += static_cast<double>(end - start);
            busy_ps_ += end - start;
            tx_free_ = end;
            return never;
        }
        end += retry_ps_ + ser;  // the transmitter waits for the NAK, then resends
    }
    busy_ += static_cast<double>(end - start);
    busy_ps_ += end - start;
    tx_free_ = end;
    arrive = end + latency_ps_;
    const uint64_t drain_start = std::max(arrive, drain_free_);
    const uint64_t drained = drain_start + (payload == p_.mtu ? drain_full_ : transfer_ps(payload, drain_bps_));
    drain_free_ = drained;
    if (p_.credits) {
        if (credit_fill_ < p_.credits) {
            size_t slot = credit_head_ + credit_fill_;
            if (slot >= p_.credits) slot -= p_.credits;
            credit_ring_[slot] = drained;
            ++credit_fill_;
        } else {
            credit_ring_[credit_head_] = drained;  // the oldest slot was consumed above
            if (++credit_head_ == p_.credits) credit_head_ = 0;
        }
    }
    wire_bytes_ += wire;
    bytes_ += payload;
    throughput_ += payload;
    ++packets_;
    return drained;
}

link_result link_channel::send(const std::vector<link_channel*>& path, uint64_t arrival_ps, uint64_t bytes) {
    link_result r;
    r.done_ps = r.first_ps = arrival_ps;
    if (path.empty()) return r;
    const uint32_t mtu = path.front()->p_.mtu;
    // Tracing: a slice per transfer on each channel's track, from its first packet's start
    // to its last one's end on that channel's wire (docs/profiling.md).
    std::vector<uint64_t> traced_from;
    if (tracer::instance().enabled()) traced_from.assign(path.size(), never);
    auto trace = [&] {
        for (size_t i = 0; i < traced_from.size(); ++i) {
            link_channel* ch = path[i];
            if (ch->name_.empty() || traced_from[i] == never || ch->tx_free_ <= traced_from[i]) continue;
            if (ch->track_ < 0) ch->track_ = tracer::instance().track(ch->name_);
            tracer::instance().slice(ch->track_, "xfer", ps(traced_from[i]), ps(ch->tx_free_ - traced_from[i]), "link",
                                     fmt::format(R"({{"bytes":{},"status":"{}"}})", r.bytes, aax_status_name(r.status)));
        }
    };
    uint64_t off = 0;
    while (off < bytes) {
        const auto len = static_cast<uint32_t>(std::min<uint64_t>(mtu, bytes - off));
        uint64_t t = arrival_ps, arrive = 0;
        for (size_t i = 0; i < path.size(); ++i) {
            link_channel* ch = path[i];
            const uint64_t sent_from = std::max(t, ch->tx_free_);
            if (!traced_from.empty() && traced_from[i] == never) traced_from[i] = sent_from;
            t = ch->packet(t, len, arrive);
            if (t == never) {
                ++ch->failures_;
                r.status = AAX_ERR_LINK_DOWN;
                r.done_ps = std::max({r.done_ps, sent_from, std::min(ch->down_at_, ch->tx_free_)});
                trace();
                return r;
            }
        }
        if (off == 0) r.first_ps = t;
        r.done_ps = t;
        off += len;
        r.bytes = off;
    }
    trace();
    return r;
}

} // namespace accelvp
