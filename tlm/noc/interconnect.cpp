#include "tlm/noc/interconnect.h"

#include <cstdlib>

#include <fmt/format.h>

#include "tlm/core/trace.h"

namespace accelvp {

namespace {
// The chip's endpoints and their default attach points on the default 4 x 4 mesh: PCIe
// and the host window in one corner, the control blocks next to it, DMA engines in the
// middle, SRAM towards the compute side, device memory (HBM stacks) along the east edge.
const std::pair<const char*, const char*> default_positions[] = {
    {"pcie", "0,0"},  {"host_window", "0,0"},         {"regs", "0,1"},
    {"qman", "0,1"},  {"cpu", "0,1"},                 {"dma", "1,1;2,1;1,2;2,2"},
    {"sram", "1,3"},  {"devmem", "3,0;3,1;3,2;3,3"},
};
} // namespace

const param_table<noc_params>& noc_params::table() {
    using P = noc_params;
    static const auto t =
        param_table<P>()
            .string("topology", &P::topology,
                    "chip interconnect: crossbar (one switch, 1 hop) or mesh2d (W x H routers, XY routing)",
                    {"crossbar", "mesh2d"})
            .real("link_gbps", &P::link_gbps, 0, 1e6,
                  "bandwidth of each link and endpoint port, each direction (0 = unlimited: no contention)", "GB/s")
            .integer("mesh_w", &P::mesh_w, 1, 64, "mesh2d: routers along x")
            .integer("mesh_h", &P::mesh_h, 1, 64, "mesh2d: routers along y")
            .integer("interleave_bytes", &P::interleave_bytes, 64, 1ll << 30,
                     "a target with several attach points takes (offset / this) % points", "bytes")
            .boolean("dmi", &P::dmi,
                     "pass DMI through (fast ISS/host accesses; they bypass the links -- false for exact contention)");
    return t;
}

void interconnect::declare(param_schema& s, const std::string& prefix) {
    noc_params::table().declare(s, prefix);
    // One key per attachable endpoint (a family the table cannot list: names from default_positions).
    for (const auto& [name, pos] : default_positions)
        s.string(prefix + ".pos." + name, pos, fmt::format("attach points 'x,y;x,y' of {} on the mesh", name));
}

noc_params interconnect::from_config(const config& c, const std::string& prefix, double hop_ns) {
    auto p = noc_params::table().load(c, prefix);
    p.hop_ns = hop_ns;
    for (const auto& [name, pos] : default_positions) p.positions.emplace_back(name, c.get_string(prefix + ".pos." + name));
    return p;
}

std::vector<noc_coord> interconnect::parse_points(const std::string& text, const std::string& key) {
    std::vector<noc_coord> out;
    size_t i = 0;
    while (i <= text.size()) {
        const size_t e = std::min(text.find(';', i), text.size());
        const std::string item = text.substr(i, e - i);
        unsigned x = 0, y = 0;
        char tail = 0;
        if (std::sscanf(item.c_str(), " %u , %u %c", &x, &y, &tail) != 2)
            throw config_error(fmt::format("config error: {} = '{}': expected attach points 'x,y' separated by ';'",
                                           key, text));
        out.push_back({x, y});
        i = e + 1;
    }
    return out;
}

interconnect::interconnect(sc_core::sc_module_name name, const params& p)
    : router(name, sc_core::sc_time(p.hop_ns, sc_core::SC_NS)), p_(p), mesh_(p.topology == "mesh2d") {
    if (!mesh_ && p.topology != "crossbar")
        throw config_error(fmt::format("config error: noc.topology = '{}': expected crossbar or mesh2d", p.topology));
    if (mesh_) links_.resize(static_cast<size_t>(p.mesh_w) * p.mesh_h * 4, timeline(p.link_gbps * 1e9));
    if (tracer::instance().enabled()) trace_bw_ = std::make_unique<trace_rate>(this->name());
    for (const auto& [ename, text] : p.positions) {
        const auto pts = parse_points(text, "noc.pos." + ename);
        const uint32_t e = endpoint_of(ename);
        ep_[e].points.clear();
        for (const noc_coord& c : pts) {
            if (mesh_ && (c.x >= p.mesh_w || c.y >= p.mesh_h))
                throw config_error(fmt::format("config error: noc.pos.{} = '{}': ({},{}) is outside the {} x {} mesh",
                                               ename, text, c.x, c.y, p.mesh_w, p.mesh_h));
            ep_[e].points.push_back({c, static_cast<uint32_t>(links_.size())});
            links_.resize(links_.size() + 2, timeline(p.link_gbps * 1e9));
        }
    }
    stats_.add({&bytes_, &contention_ns_, &hops_});
}

interconnect::~interconnect() = default;

uint32_t interconnect::endpoint_of(const std::string& ename) {
    for (uint32_t i = 0; i < ep_.size(); ++i)
        if (ep_[i].name == ename) return i;
    ep_.push_back({ename, {}});
    ep_.back().points.push_back({{0, 0}, static_cast<uint32_t>(links_.size())});
    links_.resize(links_.size() + 2, timeline(p_.link_gbps * 1e9));
    return static_cast<uint32_t>(ep_.size() - 1);
}

void interconnect::end_of_elaboration() { resolve(); }

void interconnect::resolve() {
    init_ep_.clear();
    init_pt_.clear();
    // Initiators: "dma3" is point 3 of endpoint "dma"; unnamed ones sit at (0, 0).
    for (size_t i = 0; i < target_socket.size(); ++i) {
        std::string n = i < initiators_.size() ? initiators_[i] : fmt::format("initiator{}", i);
        size_t k = n.size();
        while (k > 0 && n[k - 1] >= '0' && n[k - 1] <= '9') --k;
        uint32_t idx = 0;
        if (k < n.size() && k > 0) {
            idx = static_cast<uint32_t>(std::strtoul(n.c_str() + k, nullptr, 10));
            n.resize(k);
        }
        const uint32_t e = endpoint_of(n);
        init_ep_.push_back(e);
        init_pt_.push_back(idx % static_cast<uint32_t>(ep_[e].points.size()));
    }
    port_ep_.assign(initiator_socket.size(), 0);
    for (const auto& r : ranges()) port_ep_[r.port] = endpoint_of(r.name);
    resolved_ = true;
}

uint32_t interconnect::hops(const noc_coord& a, const noc_coord& b) const {
    if (!mesh_) return 1;
    const auto d = [](uint32_t u, uint32_t v) { return u > v ? u - v : v - u; };
    return d(a.x, b.x) + d(a.y, b.y) + 1;
}

size_t interconnect::path_links(const noc_coord& a, const noc_coord& b) const { return hops(a, b) + 1; }

uint32_t interconnect::route(const attach& a, const attach& b) {
    path_.clear();
    path_.push_back(a.link);  // endpoint a -> its router (or the switch)
    if (mesh_) {
        // XY: along x to b's column, then along y. Directions: 0 +x, 1 -x, 2 +y, 3 -y.
        noc_coord c = a.at;
        while (c.x != b.at.x) {
            const bool east = b.at.x > c.x;
            path_.push_back(node(c) * 4 + (east ? 0 : 1));
            c.x = east ? c.x + 1 : c.x - 1;
        }
        while (c.y != b.at.y) {
            const bool south = b.at.y > c.y;
            path_.push_back(node(c) * 4 + (south ? 2 : 3));
            c.y = south ? c.y + 1 : c.y - 1;
        }
    }
    path_.push_back(b.link + 1);  // router -> endpoint b
    return hops(a.at, b.at);
}

uint64_t interconnect::transfer(uint64_t bytes, uint64_t t_ps) {
    bytes_ += bytes;
    if (trace_bw_) trace_bw(bytes, t_ps);
    if (p_.link_gbps <= 0 || bytes == 0) return t_ps;  // unlimited: nothing to reserve
    const uint64_t dur = transfer_ps(bytes, p_.link_gbps * 1e9);
    uint64_t start = t_ps, waited = 0;
    for (const uint32_t l : path_) {
        timeline& k = links_[l];
        const uint64_t s = std::max(start, k.free_at());
        waited += s - start;
        k.reserve_for(s, dur);
        start = s;  // cut-through: the next link starts no earlier than this one
    }
    contention_ns_ += waited / 1000;
    return start + dur;
}

// Tracing: the NoC's payload bandwidth, and each limited link's (a counter track per link that
// carried traffic: "<noc>.link<i>", i as in path_links: mesh links node * 4 + direction first).
void interconnect::trace_bw(uint64_t bytes, uint64_t t_ps) {
    trace_bw_->add(t_ps, bytes);
    if (p_.link_gbps <= 0) return;
    if (trace_links_.size() < links_.size()) trace_links_.resize(links_.size());
    for (const uint32_t l : path_) {
        if (!trace_links_[l]) trace_links_[l] = std::make_unique<trace_rate>(fmt::format("{}.link{}", name(), l));
        trace_links_[l]->add(std::max(t_ps, links_[l].free_at()), bytes);
    }
}

const interconnect::attach& interconnect::target_point(unsigned port, uint64_t addr) const {
    const endpoint& e = ep_[port_ep_[port]];
    if (e.points.size() == 1) return e.points[0];
    const range* r = decode(addr);
    const uint64_t off = r ? addr - r->base : 0;
    return e.points[(off / p_.interleave_bytes) % e.points.size()];
}

const interconnect::attach& interconnect::initiator_point(int id) const {
    const size_t i = static_cast<size_t>(id);
    return ep_[init_ep_[i]].points[init_pt_[i]];
}

void interconnect::before_target(int id, unsigned port, tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    if (!resolved_) resolve();  // used before elaboration ended (unit tests)
    const attach& a = initiator_point(id);
    const attach& b = target_point(port, t.get_address());
    if (t.is_write()) {
        const uint32_t h = route(a, b);
        hops_.sample(h);
        const uint64_t at = transfer(t.get_data_length(), abs_ps(delay));
        delay = offset_to(at) + hop_ * h;
    } else {  // a read's request is latency only; its data comes back in after_target
        const uint32_t h = hops(b.at, a.at);
        hops_.sample(h);
        delay += hop_ * h;
    }
}

void interconnect::after_target(int id, unsigned port, tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    if (!t.is_read() || t.get_response_status() != tlm::TLM_OK_RESPONSE) return;
    // Routed again: the target may have used the interconnect meanwhile.
    route(target_point(port, t.get_address()), initiator_point(id));
    delay = offset_to(transfer(t.get_data_length(), abs_ps(delay)));
}

} // namespace accelvp
