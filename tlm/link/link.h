// Scale-out link model: one direction of a chip-to-chip port (Ethernet/ICI class).
//
// A `link_channel` is the transmit side of a port plus the peer's receive buffer:
//   - wire rate = lanes x lane_gbps x encoding efficiency (bytes/s = that / 8);
//   - a transfer of S bytes is cut into packets of at most `mtu` payload bytes, each
//     carrying `header_bytes` of overhead on the wire;
//   - each packet reaches the receiver `latency_ns` (serdes + cable [+ switch hop]) after
//     its last byte left the transmitter (store-and-forward per packet);
//   - credit-based flow control: the receiver buffer holds `credits` packets; packet k
//     may start only once packet k-credits has been drained by the receiver (at
//     `drain_gbps`) and its credit has travelled back (`latency_ns`);
//   - injected bit errors (`ber`, deterministic from `seed`): a corrupted packet is sent
//     again after `retry_ns` (the NAK round trip), holding the transmitter (go-back-N
//     style, conservative); more than `max_retries` in a row take the link down;
//   - link down at `down_at_ns`: a packet that would start at or after it is not sent
//     and the transfer ends at once with AAX_ERR_LINK_DOWN (never a hang).
// No SystemC event anywhere: a transfer is a loop of integer arithmetic per packet
// over the channel's state (transmitter free time, receiver drain free time and a ring
// of the last `credits` drain times -- the buffer occupancy timeline).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tlm/core/params.h"
#include "tlm/core/stats.h"

namespace accelvp {

struct link_params {
    // Port class (IEEE 802.3 style figures, docs/links.md); lanes, lane_gbps and encoding
    // of 0 take the class's values.
    std::string port_class = "400g";
    uint32_t lanes = 0;
    double lane_gbps = 0;        // signalling rate per lane
    double encoding = 0;         // line-code / FEC efficiency (payload bits per line bit)
    uint32_t mtu = 4096;         // payload bytes per packet
    uint32_t header_bytes = 82;  // per packet on the wire (RoCE v2 headers 62 + preamble/IFG 20)
    double latency_ns = 250;     // one way: serdes + FEC + MAC at both ends + cable
    double switch_hop_ns = 300;  // added per switch on the path
    uint32_t credits = 64;       // receiver buffer in packets (0 = unlimited)
    double drain_gbps = 0;       // receiver drain rate in GB/s (0 = instantaneous)
    double ber = 0;              // bit error rate
    uint64_t seed = 1;
    double retry_ns = 0;         // resend delay after a corrupted packet (0 = 2 x latency)
    uint32_t max_retries = 8;    // consecutive failures of one packet before the link goes down
    double down_at_ns = -1;      // link-down time (< 0: never)

    static const param_table<link_params>& table();  // the parameters: key, member, range, unit, description
    static void declare(param_schema& s, const std::string& prefix);
    static link_params from_config(const config& c, const std::string& prefix);
    // Fill lanes/lane_gbps/encoding left at 0 from port_class; throws config_error.
    void resolve_class();

    double wire_bytes_per_s() const { return lanes * lane_gbps * 1e9 / 8.0 * encoding; }
    // Payload rate of full packets: what a long transfer can reach.
    double payload_bytes_per_s() const {
        return wire_bytes_per_s() * static_cast<double>(mtu) / static_cast<double>(mtu + header_bytes);
    }
};

// Outcome of one transfer.
struct link_result {
    uint8_t status = 0;      // AAX_OK or AAX_ERR_LINK_DOWN
    uint64_t first_ps = 0;   // first packet delivered to the receiver
    uint64_t done_ps = 0;    // last packet delivered (or, on failure, when the sender knew)
    uint64_t bytes = 0;      // payload bytes delivered
};

class link_channel {
public:
    // `name` is the stats group (e.g. "system.chip0.link.port1.tx"); empty: no stats.
    link_channel(std::string name, const link_params& p, uint64_t extra_latency_ps = 0);
    ~link_channel();
    link_channel(const link_channel&) = delete;
    link_channel& operator=(const link_channel&) = delete;

    const link_params& params() const { return p_; }
    const std::string& name() const { return name_; }
    uint64_t latency_ps() const { return latency_ps_; }
    // Take the link down from absolute time t (ps).
    void set_down_at(uint64_t t) { down_at_ = t; }
    bool down_at(uint64_t t) const { return t >= down_at_; }

    // Send `bytes` becoming available to the transmitter at `arrival_ps` through a path of
    // channels (several for a switch: sender uplink, switch downlink). Packets are
    // presented in order; state persists across calls (FCFS like a timeline).
    static link_result send(const std::vector<link_channel*>& path, uint64_t arrival_ps, uint64_t bytes);
    link_result send(uint64_t arrival_ps, uint64_t bytes) { return send({this}, arrival_ps, bytes); }

    // Counters (also in the stats registry).
    uint64_t retransmits() const { return retransmits_.get(); }
    uint64_t credit_stall_ps() const { return stall_ps_.get(); }
    uint64_t payload_bytes() const { return bytes_.get(); }
    uint64_t packets() const { return packets_.get(); }
    uint64_t busy_ps() const { return busy_ps_; }

private:
    // One packet of `payload` bytes ready at `ready`: returns its delivery time at the
    // receiver (after draining), or UINT64_MAX when the link is (or goes) down; `arrive`
    // gets the time it was fully in the receiver buffer.
    uint64_t packet(uint64_t ready, uint32_t payload, uint64_t& arrive);
    bool corrupted(uint32_t wire_bytes);

    std::string name_;
    link_params p_;
    double wire_bps_, drain_bps_;
    uint64_t latency_ps_, retry_ps_;
    uint64_t down_at_;
    double p_err_full_ = 0;     // corruption probability of a full packet (cached)
    // Serialisation and drain times of a full packet (cached: the 128-bit division of
    // transfer_ps was a fifth of a packet's cost, and almost every packet is full).
    uint64_t ser_full_ = 0, drain_full_ = 0;
    uint64_t rng_;
    uint64_t tx_free_ = 0, drain_free_ = 0, busy_ps_ = 0;
    int track_ = -1;  // trace track (tracing only)
    std::vector<uint64_t> credit_ring_;  // drain times of the last `credits` packets
    size_t credit_head_ = 0, credit_fill_ = 0;

    counter bytes_{"bytes", "payload bytes delivered"};
    counter wire_bytes_{"wire_bytes", "bytes sent on the wire, headers and resends included"};
    counter packets_{"packets", "packets delivered"};
    counter retransmits_{"retransmits", "packets sent again after an injected bit error"};
    counter stall_ps_{"credit_stall_ps", "time the transmitter waited for a receiver credit (ps)"};
    counter failures_{"link_down_errors", "transfers that failed because the link was down"};
    rate busy_{"busy", "transmitter busy time (headers, resends included)", 1e-12, "utilization"};
    rate throughput_{"bandwidth", "payload bytes per simulated second over the run", 1e-9, "gbps"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{name_};
};

} // namespace accelvp
