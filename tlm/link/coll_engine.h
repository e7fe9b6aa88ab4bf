// Collective (NIC) engine: executes AAX COLL packets (abi/aax_queue.h) over the chip's
// link ports -- SEND / RECV (two-sided, into a buffer the receiver posted), RDMA_WRITE,
// a remote semaphore SIGNAL and REDUCE (the peer combines the data into its memory).
//
// Programmer's view: a command socket taking aax_pkt_coll from a queue manager (a TLM
// WRITE of the packet bytes with a command_ext, exactly like dma_engine), a bus
// initiator socket towards this chip's interconnect, and link ports wired at elaboration
// to a peer chip's engine (connect()). The peer side of a transfer (memory writes,
// reads of REDUCE, the semaphore add) goes through the *peer's* bus socket, so it meets
// the peer's memory and semaphores like any other initiator of that chip.
//
// Timing: the data moves in chunks of `chunk_bytes`, up to `max_outstanding` in flight:
// local read (bus), link transfer (link_channel: packets, credits, errors; no SystemC
// event per packet), then at the peer a write (RDMA_WRITE, SEND) or read + combine on the
// peer's reduction path (a timeline at `reduce_gbps`) + write (REDUCE). Resources are
// timelines, so chunks pipeline; the engine lets simulated time catch up with each step
// (a few SystemC waits per chunk) so both chips' memories see its accesses in time. A
// semaphore signal travels as one more small packet behind the data and is applied when
// it arrives (the engine waits until then, so a SEM_WAIT on the peer never sees it early).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/passthrough_target_socket.h>

#include "abi/aax_queue.h"
#include "tlm/core/keys.h"
#include "tlm/core/params.h"
#include "tlm/core/stats.h"
#include "tlm/core/timeline.h"
#include "tlm/link/link.h"

namespace accelvp {

class coll_engine : public sc_core::sc_module {
public:
    tlm_utils::passthrough_target_socket<coll_engine> cmd_socket;
    tlm_utils::simple_initiator_socket<coll_engine> bus_socket;

    struct params {
        uint32_t chunk_bytes = 64 * 1024;
        uint32_t max_outstanding = 4;   // chunks in flight (read, on the link, written at the peer)
        double setup_ns = 50;           // per packet: decode, address generation, doorbell to the NIC
        double reduce_gbps = 400;       // reduction datapath of the receiving engine
        double recv_timeout_us = 1e6;   // a SEND waits at most this long for the peer's RECV
        uint64_t regs_base = 0x100'0000'0000ull;  // chip bus address of BAR0 space (semaphores)
        bool timing_only = false;
        static const param_table<params>& table();  // the parameters: key, member, range, unit, description
    };
    static void declare(param_schema& s, const std::string& prefix);
    static params from_config(const config& c, const std::string& prefix);

    coll_engine(sc_core::sc_module_name name, const params& p);
    ~coll_engine() override;

    // Wire local `port` to `peer`'s port `peer_port` through `path` (the channels a packet
    // crosses: one for a direct link, uplink + downlink through a switch). Elaboration only.
    void connect(unsigned port, std::vector<link_channel*> path, coll_engine* peer, unsigned peer_port);
    unsigned ports() const { return static_cast<unsigned>(ports_.size()); }
    // The transmit channel of `port` (the first of its path; null when the port is not wired).
    const link_channel* port_link(unsigned port) const {
        return port < ports_.size() && !ports_[port].path.empty() ? ports_[port].path[0] : nullptr;
    }

    struct result {
        uint8_t status = AAX_OK;
        uint64_t error_addr = 0;
    };
    // Field checks independent of wiring and addresses: AAX_OK, BAD_PARAM or UNSUPPORTED.
    static uint8_t validate(const aax_pkt_coll& p);

    // Element-wise dst = dst (red) src over `bytes` (a multiple of the element size).
    // TODO(numerics): bf16/fp16 and the rounding rules of the numerics library.
    static void combine(uint8_t* dst, const uint8_t* src, uint64_t bytes, unsigned dtype, unsigned red);

private:
    struct wire {
        std::vector<link_channel*> path;
        coll_engine* peer = nullptr;
        unsigned peer_port = 0;
    };
    struct posted_recv {
        uint64_t addr, bytes;
        uint16_t sem;
        uint32_t sem_value;
        bool signal;
        uint64_t at;  // when it was posted (ps)
    };

    // A step of a transfer's chunk (stream()): read locally, cross the link, land at the peer.
    enum class stage : uint8_t { read, link, peer };
    struct step {
        uint64_t t, seq, off;
        uint32_t slot, len;
        stage what;
        bool operator>(const step& o) const { return t != o.t ? t > o.t : seq > o.seq; }
    };

    void cmd_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    result execute(const aax_pkt_coll& p, sc_core::sc_time& delay, uint64_t deadline_ps);
    result stream(const aax_pkt_coll& p, const wire& w, uint64_t dst_addr, bool reduce, uint64_t t0,
                  uint64_t& done, uint64_t deadline_ps);
    uint8_t bus_access(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, uint32_t len, sc_core::sc_time& delay,
                       uint64_t& error_addr);
    uint8_t sem_add(uint16_t sem, uint32_t value);  // on this chip, at the current time

    params p_;
    sc_core::sc_mutex busy_lock_;
    sc_core::sc_event posted_ev_;
    std::vector<wire> ports_;
    std::vector<std::deque<posted_recv>> posted_;  // per port: receives waiting for a SEND
    timeline reduce_path_;
    std::unique_ptr<uint8_t[]> buf_, peer_buf_;  // chunk_bytes x max_outstanding, chunk_bytes
    std::vector<step> steps_;                      // stream()'s heap of pending steps, kept for its capacity
    int track_ = 0;

    counter commands_{"commands", "COLL packets executed"};
    counter errors_{"errors", "COLL packets that failed"};
    counter bytes_sent_{"bytes_sent", "payload bytes this engine sent over its ports"};
    counter bytes_reduced_{"bytes_reduced", "bytes combined into this chip's memory by peers' REDUCE"};
    counter signals_{"signals", "semaphore signals applied on this chip by links"};
    rate busy_{"busy", "time the engine had a packet in progress", 1e-12, "utilization"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

} // namespace accelvp
