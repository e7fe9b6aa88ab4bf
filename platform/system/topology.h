// Multi-chip topologies: which link port of which chip is wired to which.
//
// `system.topology` builds the wiring of `system.chips` chips:
//   ring             chip i port 0 <-> chip i+1 port 1 (bidirectional ring, 2 ports per chip)
//   fully_connected  chip i port j <-> the j-th other chip (n-1 ports per chip)
//   torus2d          system.torus_x x system.torus_y chips, ports 0/1 = +x/-x, 2/3 = +y/-y
//   switch           chip i port 0 <-> switch port i; chip i reaches peer j through the
//                    switch on virtual port (j < i ? j : j-1) (n-1 virtual ports, one uplink)
//   custom           `system.wiring`: "a.p-b.q, ..." (chip a port p <-> chip b port q)
// Wiring is checked: a port wired twice, a wire to a chip or port that does not exist, or a
// port wired to itself is a config_error naming the port.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "tlm/core/params.h"

namespace accelvp {

struct port_ref {
    uint32_t chip = 0, port = 0;
    bool operator==(const port_ref& o) const { return chip == o.chip && port == o.port; }
    bool operator<(const port_ref& o) const { return chip != o.chip ? chip < o.chip : port < o.port; }
};
constexpr uint32_t switch_chip = std::numeric_limits<uint32_t>::max();  // a wire's end at the switch

struct wire {
    port_ref a, b;
};

struct topology {
    std::string kind = "ring";
    uint32_t chips = 1;
    uint32_t torus_x = 0, torus_y = 0;
    uint32_t ports = 0;       // link ports per chip (virtual ports for the switch)
    std::vector<wire> wires;  // physical wires (switch: chip i port 0 <-> switch port i)

    // Logical view: where chip c's port p leads (peer_chip = none when unwired).
    static constexpr uint32_t none = std::numeric_limits<uint32_t>::max();
    struct route {
        uint32_t peer_chip = none, peer_port = 0;
        bool via_switch = false;
    };
    std::vector<std::vector<route>> routes;  // [chip][port]

    // The port of `chip` that leads directly to `peer`, or -1.
    int port_to(uint32_t chip, uint32_t peer) const;

    // The system's keys (system.*).
    struct params {
        uint32_t chips = 1;
        std::string kind = "ring";
        uint32_t torus_x = 0, torus_y = 0;
        std::string wiring;
        static const param_table<params>& table();  // the parameters: key, member, range, unit, description
    };
    static void declare(param_schema& s);
    static topology from_config(const config& c);
    // Throws config_error (naming system.* keys) for impossible shapes or bad wiring.
    static topology build(const std::string& kind, uint32_t chips, uint32_t torus_x = 0, uint32_t torus_y = 0,
                          const std::string& wiring = "");
};

// "0.0-1.1, 1.0-2.1" (separators: comma, semicolon or blanks). Throws config_error.
std::vector<wire> parse_wiring(const std::string& text);
// Every end must exist (chip < chips, port < ports) and be used once. Throws config_error.
void check_wiring(const std::vector<wire>& wires, uint32_t chips, uint32_t ports);
std::string to_string(const port_ref& p);

} // namespace accelvp
