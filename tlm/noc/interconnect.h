// Chip interconnect (NoC) with links, hops and contention: a drop-in for the chip's
// address router (same sockets, add_target, address map, DMI and debug pass-through).
//
// Topologies (noc.topology):
//   crossbar  every endpoint has one port into and one port out of a single switch: a
//             transfer crosses the source's out-link and the destination's in-link, 1 hop
//   mesh2d    a W x H grid of routers with a link each way between neighbours; endpoints
//             attach to routers at configured coordinates (noc.pos.<endpoint>); XY routing
//             (first along x, then along y); hops = |dx| + |dy| + 1 (routers crossed)
//
// An endpoint may attach at several points ("3,0;3,1;3,2;3,3": device memory with its
// stacks along one edge); a target transfer picks the attach point by address,
// (offset / noc.interleave_bytes) % points, an initiator by its index (dma0, dma1, ...).
//
// Timing of a transaction (ps; resource timelines, no event per flit):
//   - hop latency: hops x chip.noc_hop_ns, added once per transaction before it reaches
//     the target (it stands for the router pipeline of the round trip; the crossbar with
//     1 hop then equals the old fixed-latency router exactly)
//   - data: the payload crosses every link of its path -- initiator to target for a
//     write, target to initiator for a read's data -- each link a timeline at
//     noc.link_gbps that the transfer holds for bytes / bandwidth (cut-through: link j
//     starts no earlier than link j-1 did). A write's data crosses before it reaches the
//     target, a read's after the target answered. Two transfers sharing a link serialize.
//     noc.link_gbps = 0 means unlimited: no serialization, no contention (the default, so
//     the crossbar is the old router).
//
// DMI (noc.dmi): passed through (with one hop latency added) when true, the default, so
// the ISS and the host model keep their fast paths; DMI accesses bypass the links, so set
// it false when link contention must be exact (every access then uses b_transport).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tlm/core/params.h"
#include "tlm/core/router.h"
#include "tlm/core/stats.h"
#include "tlm/core/timeline.h"

namespace accelvp {

struct noc_coord {
    uint32_t x = 0, y = 0;
    bool operator==(const noc_coord& o) const { return x == o.x && y == o.y; }
};

struct noc_params {
    std::string topology = "crossbar";  // crossbar | mesh2d
    double hop_ns = 2;
    double link_gbps = 0;               // 0 = unlimited
    uint32_t mesh_w = 4, mesh_h = 4;
    uint64_t interleave_bytes = 4096;   // attach-point interleave of multi-point targets
    bool dmi = true;
    // Endpoint name -> attach points "x,y;x,y" (names without a trailing index: "dma").
    std::vector<std::pair<std::string, std::string>> positions;
    // The parameters: key, member, range, unit, description (the pos.* family is declared by interconnect).
    static const param_table<noc_params>& table();
};

class interconnect : public router {
public:
    using params = noc_params;
    // Declares <prefix>.topology, .link_gbps, .mesh_w, .mesh_h, .interleave_bytes, .dmi
    // and <prefix>.pos.<endpoint> for the chip's endpoints. The hop latency is the
    // caller's (the chip keeps chip.noc_hop_ns).
    static void declare(param_schema& s, const std::string& prefix);
    static params from_config(const config& c, const std::string& prefix, double hop_ns);
    // Attach points from "x,y;x,y"; throws config_error naming `key`.
    static std::vector<noc_coord> parse_points(const std::string& text, const std::string& key);

    interconnect(sc_core::sc_module_name name, const params& p);
    ~interconnect() override;

    // Bind an initiator socket and name it (its attach point comes from the positions).
    template <typename Socket>
    void add_initiator(const std::string& endpoint, Socket& s) {
        s.bind(target_socket);
        initiators_.push_back(endpoint);
    }

    // An endpoint whose initiators keep DMI even with noc.dmi = false: the control core,
    // whose instruction and data traffic stands for its local caches, not NoC traffic.
    void always_dmi(const std::string& endpoint) { always_dmi_.push_back(endpoint); }

    const params& get_params() const { return p_; }
    // Routers crossed between two attach points.
    uint32_t hops(const noc_coord& a, const noc_coord& b) const;
    // Directed links of the path from an attach point of endpoint `a` to one of `b`
    // (endpoint out-link, router links, endpoint in-link).
    size_t path_links(const noc_coord& a, const noc_coord& b) const;

private:
    void before_target(int initiator, unsigned port, tlm::tlm_generic_payload& t, sc_core::sc_time& delay) override;
    void after_target(int initiator, unsigned port, tlm::tlm_generic_payload& t, sc_core::sc_time& delay) override;
    bool dmi_enabled(int initiator) const override {
        if (p_.dmi) return true;
        if (initiator < 0 || static_cast<size_t>(initiator) >= initiators_.size()) return false;
        for (const auto& e : always_dmi_)
            if (initiators_[initiator] == e) return true;
        return false;
    }
    void end_of_elaboration() override;
    void resolve();  // endpoints of the bound initiators and target ports
    std::vector<std::string> always_dmi_;
    struct attach {
        noc_coord at;
        uint32_t link;  // its out-link; link + 1 is its in-link
    };
    struct endpoint {
        std::string name;
        std::vector<attach> points;
    };
    uint32_t endpoint_of(const std::string& name);  // adds an unplaced one at (0, 0)
    const attach& target_point(unsigned port, uint64_t addr) const;
    const attach& initiator_point(int id) const;
    uint32_t node(const noc_coord& c) const { return c.y * p_.mesh_w + c.x; }
    // The path's links into path_; returns the hop count.
    uint32_t route(const attach& a, const attach& b);
    // Move `bytes` over path_ from t_ps: each link held for bytes / bandwidth, cut-through;
    // returns when the last byte leaves the last link.
    uint64_t transfer(uint64_t bytes, uint64_t t_ps);

    params p_;
    bool mesh_;
    std::vector<endpoint> ep_;
    std::vector<std::string> initiators_;   // by target-socket index
    std::vector<uint32_t> init_ep_;         // by target-socket index: endpoint, point
    std::vector<uint32_t> init_pt_;
    std::vector<uint32_t> port_ep_;         // by initiator-socket port: endpoint
    std::vector<timeline> links_;           // mesh links first (node * 4 + direction)
    std::vector<uint32_t> path_;            // scratch
    bool resolved_ = false;
    std::unique_ptr<class trace_rate> trace_bw_;                 // tracing only
    std::vector<std::unique_ptr<class trace_rate>> trace_links_;
    void trace_bw(uint64_t bytes, uint64_t t_ps);

    counter bytes_{"bytes", "payload bytes carried over the links"};
    counter contention_ns_{"contention_ns", "time transfers waited for busy links (ns, summed)"};
    average hops_{"hops", "routers crossed per transaction"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

} // namespace accelvp
