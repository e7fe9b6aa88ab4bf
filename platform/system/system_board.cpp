#include "platform/system/system_board.h"

#include <cstring>

#include <fmt/format.h>

#include "abi/aax_regs.h"
#include "platform/system/board.h"
#include "tlm/core/fault.h"
#include "tlm/core/keys.h"

namespace accelvp {

const param_table<system_board::params>& system_board::params::table() {
    static const auto t = param_table<params>().string(
        "down_port", &params::down_port,
        "with link.down_at_ns: the port 'c.p' (chip c port p, both directions) that goes down; empty: every port");
    return t;
}

void system_board::declare(param_schema& s) {
    topology::declare(s);
    link_params::declare(s, "link");
    params::table().declare(s, "link");
}

system_board::node::node(sc_core::sc_module_name name, const config& c)
    : sc_module(name), host("host", c), soc("chip", c), drv(host, c, std::string(this->name()) + ".driver") {
    soc.pcie.to_host.bind(host.bus.target_socket);
    host.bus.add_target("bar0", host.bar0(), AAX_BAR0_SIZE, soc.pcie.bar0_socket);
    host.bus.add_target("bar2", host.bar2(), c.get(keys::mem::size), soc.pcie.bar2_socket);
}

namespace {
// "c.p" -> port; empty -> nullopt (every port).
std::optional<port_ref> parse_port(const std::string& text) {
    if (text.empty()) return std::nullopt;
    const auto w = parse_wiring(text + "-0.0");  // reuse the wiring parser for "c.p"
    if (w.size() != 1) throw config_error("config error: link.down_port = '" + text + "' is not of the form c.p");
    return w[0].a;
}
} // namespace

system_board::system_board(sc_core::sc_module_name name, const config& c, body_fn body)
    : sc_module(name), cfg_(c), body_(std::move(body)), topo_(topology::from_config(c)) {
    link_params lp = link_params::from_config(c, "link");
    // Fault injection (docs/security.md): extra bit errors drawn from sim.seed, a link-down event.
    const fault_params faults = fault_params::from_config(c);
    std::string down_port = params::table().load(c, "link").down_port;
    if (faults.link_ber > 0) {
        lp.ber += faults.link_ber;
        lp.seed = fault_stream(faults.seed, "link").next();
    }
    if (faults.link_down_at_ns >= 0) {
        lp.down_at_ns = faults.link_down_at_ns;
        down_port = faults.link_down_port;
    }
    const std::optional<port_ref> down = parse_port(down_port);
    if (down && (down->chip >= topo_.chips || down->port >= std::max<uint32_t>(topo_.ports, 1)))
        throw config_error(fmt::format("config error: link.down_port = {}.{}: no such port", down->chip, down->port));
    for (uint32_t i = 0; i < topo_.chips; ++i)
        nodes.push_back(std::make_unique<node>(fmt::format("node{}", i).c_str(), c));
    // One channel per direction of every wire; the down event only on the named port's wire.
    auto make = [&](const std::string& nm, bool goes_down, uint64_t extra_ps) {
        link_params p = lp;
        if (!goes_down) p.down_at_ns = -1;
        channels_.push_back(std::make_unique<link_channel>(nm, p, extra_ps));
        return channels_.back().get();
    };
    auto name_of_port = [&](const port_ref& e) {
        return e.chip == switch_chip ? fmt::format("{}.switch.port{}", this->name(), e.port)
                                     : fmt::format("{}.link{}", nodes[e.chip]->soc.name(), e.port);
    };
    tx_.assign(topo_.chips, std::vector<link_channel*>(topo_.ports, nullptr));
    std::vector<link_channel*> downlink(topo_.chips, nullptr);
    const auto hop_ps = static_cast<uint64_t>(lp.switch_hop_ns * 1000.0 + 0.5);
    for (const wire& w : topo_.wires) {
        const bool hit = !down || *down == w.a || *down == w.b;
        if (w.b.chip == switch_chip) {  // chip port 0 <-> switch port i
            link_channel* up = make(name_of_port(w.a), hit, hop_ps);
            for (uint32_t p = 0; p < topo_.ports; ++p) tx_[w.a.chip][p] = up;
            downlink[w.a.chip] = make(name_of_port(w.b), hit, 0);
        } else {
            tx_[w.a.chip][w.a.port] = make(name_of_port(w.a), hit, 0);
            tx_[w.b.chip][w.b.port] = make(name_of_port(w.b), hit, 0);
        }
    }
    for (uint32_t i = 0; i < topo_.chips; ++i)
        for (uint32_t p = 0; p < topo_.ports; ++p) {
            const topology::route& r = topo_.routes[i][p];
            if (r.peer_chip == topology::none) continue;
            std::vector<link_channel*> path{tx_[i][p]};
            if (r.via_switch) path.push_back(downlink[r.peer_chip]);
            nodes[i]->soc.coll.connect(p, path, &nodes[r.peer_chip]->soc.coll, r.peer_port);
        }
    SC_HAS_PROCESS(system_board);
    SC_THREAD(main_thread);
}

system_board::~system_board() {
    // Newest chip first: the kernel's port and export registries look a port up from their
    // end, so tearing down the oldest first would cost O(ports) per port (quadratic in chips).
    while (!nodes.empty()) nodes.pop_back();
}

void system_board::main_thread() {
    std::vector<std::unique_ptr<uapi::device>> devs;
    system_context ctx(cfg_, topo_);
    for (size_t i = 0; i < nodes.size() && error_.empty(); ++i) {
        if (int rc = nodes[i]->drv.probe()) {
            error_ = fmt::format("chip {}: driver probe failed: {}", i, std::strerror(-rc));
            break;
        }
        int err = 0;
        devs.push_back(uapi::device::open(nodes[i]->drv, &err, true));
        if (!devs.back()) error_ = fmt::format("chip {}: open: {}", i, std::strerror(-err));
        else {
            ctx.devs.push_back(devs.back().get());
            ctx.chips.push_back(&nodes[i]->soc);
        }
    }
    if (error_.empty()) {
        ctx.functional = cfg_.get(keys::sim::mode) == "functional";
        ctx.seed = cfg_.get(keys::sim::seed);
        exit_code_ = body_ ? body_(ctx) : 0;
        summary_ = ctx.summary;
        verified_ = ctx.verified;
        error_ = ctx.error;
        if (exit_code_ != 0 && error_.empty()) error_ = "workload failed";
    }
    devs.clear();
    done_ = true;
    if (kill_at_end_) kill_threads(this, sc_core::sc_get_current_process_handle());
    sc_core::sc_stop();
}

} // namespace accelvp
