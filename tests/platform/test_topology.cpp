// Topologies and wiring checks (platform/system/topology.h): every port wired at most once,
// routes symmetric, and every config mistake a config_error naming the port.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "platform/system/topology.h"

using namespace accelvp;

namespace {
// Every route is symmetric: following a port and then the peer's port comes back.
void check_symmetric(const topology& t) {
    for (uint32_t c = 0; c < t.chips; ++c)
        for (uint32_t p = 0; p < t.ports; ++p) {
            const auto& r = t.routes[c][p];
            if (r.peer_chip == topology::none) continue;
            INFO("chip " << c << " port " << p);
            REQUIRE(r.peer_chip < t.chips);
            const auto& back = t.routes[r.peer_chip][r.peer_port];
            CHECK(back.peer_chip == c);
            CHECK(back.peer_port == p);
        }
}
std::string error_of(const std::string& kind, uint32_t chips, const std::string& wiring, uint32_t x = 0,
                     uint32_t y = 0) {
    try {
        topology::build(kind, chips, x, y, wiring);
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}
} // namespace

TEST_CASE("topology: ring wires each chip to its two neighbours", "[topology]") {
    const topology t = topology::build("ring", 5);
    CHECK(t.ports == 2);
    CHECK(t.wires.size() == 5);
    for (uint32_t i = 0; i < 5; ++i) {
        CHECK(t.routes[i][0].peer_chip == (i + 1) % 5);
        CHECK(t.routes[i][0].peer_port == 1);
        CHECK(t.routes[i][1].peer_chip == (i + 4) % 5);
        CHECK(t.port_to(i, (i + 1) % 5) == 0);
    }
    check_symmetric(t);
    CHECK(topology::build("ring", 1).wires.empty());
    const topology two = topology::build("ring", 2);  // two links between the pair
    CHECK(two.wires.size() == 2);
    check_symmetric(two);
}

TEST_CASE("topology: fully connected and switch reach every peer in one port", "[topology]") {
    for (const char* kind : {"fully_connected", "switch"}) {
        INFO(kind);
        const topology t = topology::build(kind, 6);
        CHECK(t.ports == 5);
        CHECK(t.wires.size() == (std::string(kind) == "switch" ? 6u : 15u));
        for (uint32_t i = 0; i < 6; ++i) {
            std::set<uint32_t> peers;
            for (uint32_t p = 0; p < 5; ++p) {
                peers.insert(t.routes[i][p].peer_chip);
                CHECK(t.routes[i][p].via_switch == (std::string(kind) == "switch"));
            }
            CHECK(peers.size() == 5);
            CHECK(peers.count(i) == 0);
        }
        check_symmetric(t);
    }
}

TEST_CASE("topology: torus2d has four ports and wraps around", "[topology]") {
    const topology t = topology::build("torus2d", 12, 4, 3);
    CHECK(t.ports == 4);
    CHECK(t.wires.size() == 24);
    CHECK(t.routes[3][0].peer_chip == 0);   // (3,0) +x wraps to (0,0)
    CHECK(t.routes[0][3].peer_chip == 8);   // (0,0) -y wraps to (0,2)
    CHECK(t.routes[5][2].peer_chip == 9);   // (1,1) +y is (1,2)
    check_symmetric(t);
    const topology sq = topology::build("torus2d", 16);
    CHECK(sq.torus_x == 4);
    CHECK(sq.torus_y == 4);
    CHECK(error_of("torus2d", 12, "", 5, 0).find("system.torus_x x system.torus_y") != std::string::npos);
}

TEST_CASE("topology: custom wiring is parsed and checked port by port", "[topology]") {
    const topology t = topology::build("custom", 3, 0, 0, "0.0-1.1, 1.0-2.1;2.0-0.1");
    CHECK(t.ports == 2);
    CHECK(t.routes[2][0].peer_chip == 0);
    check_symmetric(t);
    CHECK(error_of("custom", 3, "0.0-1.1 2.0-1.1") ==
          "config error: system.wiring: chip 1 port 1 is wired twice (to chip 0 port 0 and to chip 2 port 0)");
    CHECK(error_of("custom", 3, "0.0-3.1") ==
          "config error: system.wiring: chip 3 port 1 (peer of chip 0 port 0) does not exist: system.chips = 3");
    CHECK(error_of("custom", 3, "0.0-1") ==
          "config error: system.wiring: '0.0-1' is not of the form a.p-b.q (chip a port p to chip b port q)");
    CHECK(error_of("custom", 3, "0.0-1.1x") != "");
    CHECK(error_of("custom", 3, "1.1-1.1") == "config error: system.wiring: chip 1 port 1 is wired to itself");
    CHECK(error_of("ring", 3, "0.0-1.1").find("system.topology=custom") != std::string::npos);
    // check_wiring on its own: a port beyond the chips' port count.
    try {
        check_wiring({wire{{0, 0}, {1, 4}}}, 2, 4);
        FAIL("no error");
    } catch (const config_error& e) {
        CHECK(std::string(e.what()) ==
              "config error: system.wiring: chip 1 port 4 (peer of chip 0 port 0) does not exist: chips have 4 link ports");
    }
}
