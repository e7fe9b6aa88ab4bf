#include "platform/system/topology.h"
#include "tlm/core/keys.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace accelvp {

std::string to_string(const port_ref& p) {
    return p.chip == switch_chip ? fmt::format("switch port {}", p.port) : fmt::format("chip {} port {}", p.chip, p.port);
}

const param_table<topology::params>& topology::params::table() {
    static const auto t =
        param_table<params>()
            .integer("chips", &params::chips, 1, 4096, "chips in the system")
            .string("topology", &params::kind, "how the chips' link ports are wired",
                    {"ring", "fully_connected", "torus2d", "switch", "custom"})
            .integer("torus_x", &params::torus_x, 0, 4096,
                     "torus2d: chips along x (0: the largest divisor <= sqrt(chips))")
            .integer("torus_y", &params::torus_y, 0, 4096, "torus2d: chips along y (0: chips / torus_x)")
            .string("wiring", &params::wiring,
                    "custom: wires 'a.p-b.q' (chip a port p to chip b port q), separated by commas or blanks");
    return t;
}

void topology::declare(param_schema& s) { params::table().declare(s, "system"); }

topology topology::from_config(const config& c) {
    const auto p = params::table().load(c, "system");
    return build(p.kind, p.chips, p.torus_x, p.torus_y, p.wiring);
}

std::vector<wire> parse_wiring(const std::string& text) {
    std::vector<wire> out;
    size_t i = 0;
    auto skip = [&] {
        while (i < text.size() && (std::isspace(static_cast<unsigned char>(text[i])) || text[i] == ',' || text[i] == ';'))
            ++i;
    };
    auto number = [&](const std::string& entry) {
        if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i])))
            throw config_error(fmt::format("config error: system.wiring: '{}' is not of the form a.p-b.q "
                                           "(chip a port p to chip b port q)",
                                           entry));
        uint64_t v = 0;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && v < (1u << 30))
            v = v * 10 + static_cast<uint64_t>(text[i++] - '0');
        return static_cast<uint32_t>(v);
    };
    for (skip(); i < text.size(); skip()) {
        size_t end = i;
        while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) && text[end] != ',' &&
               text[end] != ';')
            ++end;
        const std::string entry = text.substr(i, end - i);
        auto expect = [&](char ch) {
            if (i >= text.size() || text[i] != ch)
                throw config_error(fmt::format("config error: system.wiring: '{}' is not of the form a.p-b.q "
                                               "(chip a port p to chip b port q)",
                                               entry));
            ++i;
        };
        wire w;
        w.a.chip = number(entry);
        expect('.');
        w.a.port = number(entry);
        expect('-');
        w.b.chip = number(entry);
        expect('.');
        w.b.port = number(entry);
        if (i != end) expect(' ');  // trailing junk
        out.push_back(w);
    }
    return out;
}

void check_wiring(const std::vector<wire>& wires, uint32_t chips, uint32_t ports) {
    std::map<port_ref, port_ref> peer;
    auto check_end = [&](const port_ref& e, const port_ref& other) {
        if (e.chip == switch_chip) return;
        if (e.chip >= chips)
            throw config_error(fmt::format("config error: system.wiring: {} (peer of {}) does not exist: "
                                           "system.chips = {}",
                                           to_string(e), to_string(other), chips));
        if (e.port >= ports)
            throw config_error(fmt::format("config error: system.wiring: {} (peer of {}) does not exist: "
                                           "chips have {} link ports",
                                           to_string(e), to_string(other), ports));
        auto [it, fresh] = peer.emplace(e, other);
        if (!fresh)
            throw config_error(fmt::format("config error: system.wiring: {} is wired twice (to {} and to {})",
                                           to_string(e), to_string(it->second), to_string(other)));
    };
    for (const wire& w : wires) {
        if (w.a == w.b) throw config_error(fmt::format("config error: system.wiring: {} is wired to itself", to_string(w.a)));
        check_end(w.a, w.b);
        check_end(w.b, w.a);
    }
}

int topology::port_to(uint32_t chip, uint32_t peer) const {
    if (chip >= routes.size()) return -1;
    for (size_t p = 0; p < routes[chip].size(); ++p)
        if (routes[chip][p].peer_chip == peer) return static_cast<int>(p);
    return -1;
}

topology topology::build(const std::string& kind, uint32_t chips, uint32_t torus_x, uint32_t torus_y,
                         const std::string& wiring) {
    topology t;
    t.kind = kind;
    t.chips = chips;
    if (chips == 0) throw config_error("config error: system.chips must be >= 1");
    if (!wiring.empty() && kind != "custom")
        throw config_error(fmt::format("config error: system.wiring is given but system.topology = {} "
                                       "(set system.topology=custom to use it)",
                                       kind));
    auto two_way = [&](port_ref a, port_ref b) { t.wires.push_back(wire{a, b}); };
    if (kind == "ring") {
        t.ports = chips > 1 ? 2 : 0;
        for (uint32_t i = 0; chips > 1 && i < chips; ++i) two_way({i, 0}, {(i + 1) % chips, 1});
    } else if (kind == "fully_connected" || kind == "switch") {
        t.ports = chips - 1;
        if (kind == "switch") {
            for (uint32_t i = 0; chips > 1 && i < chips; ++i) two_way({i, 0}, {switch_chip, i});
        } else {
            for (uint32_t i = 0; i < chips; ++i)
                for (uint32_t j = i + 1; j < chips; ++j) two_way({i, j - 1}, {j, i});
        }
    } else if (kind == "torus2d") {
        if (!torus_x) {
            torus_x = static_cast<uint32_t>(std::sqrt(static_cast<double>(chips)));
            while (chips % torus_x) --torus_x;
        }
        if (!torus_y) torus_y = chips / torus_x;
        if (static_cast<uint64_t>(torus_x) * torus_y != chips)
            throw config_error(fmt::format("config error: system.torus_x x system.torus_y = {} x {} != system.chips = {}",
                                           torus_x, torus_y, chips));
        t.torus_x = torus_x;
        t.torus_y = torus_y;
        t.ports = 4;
        for (uint32_t y = 0; y < torus_y; ++y)
            for (uint32_t x = 0; x < torus_x; ++x) {
                const uint32_t id = y * torus_x + x;
                if (torus_x > 1) two_way({id, 0}, {y * torus_x + (x + 1) % torus_x, 1});
                if (torus_y > 1) two_way({id, 2}, {((y + 1) % torus_y) * torus_x + x, 3});
            }
    } else if (kind == "custom") {
        t.wires = parse_wiring(wiring);
        for (const wire& w : t.wires) t.ports = std::max<uint32_t>({t.ports, w.a.port + 1, w.b.port + 1});
    } else {
        throw config_error(fmt::format("config error: system.topology = {} is not a topology", kind));
    }
    check_wiring(t.wires, chips, std::max<uint32_t>(t.ports, 1));

    t.routes.assign(chips, std::vector<route>(t.ports));
    if (kind == "switch") {
        for (uint32_t i = 0; i < chips; ++i)
            for (uint32_t p = 0; p < t.ports; ++p) {
                const uint32_t peer = p < i ? p : p + 1;
                t.routes[i][p] = route{peer, i < peer ? i : i - 1, true};
            }
    } else {
        for (const wire& w : t.wires) {
            t.routes[w.a.chip][w.a.port] = route{w.b.chip, w.b.port, false};
            t.routes[w.b.chip][w.b.port] = route{w.a.chip, w.a.port, false};
        }
    }
    return t;
}

} // namespace accelvp
