// Chip interconnect (tlm/noc/interconnect.h): hop counts and latency of the crossbar and
// the XY-routed mesh, and link contention (two flows sharing a link take twice as long).
#include <catch2/catch.hpp>

#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "tlm/core/extensions.h"
#include "tlm/noc/interconnect.h"

using namespace accelvp;

namespace {

struct initiator : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<initiator> socket{"socket"};
    explicit initiator(sc_core::sc_module_name n) : sc_module(n) {}
    // Completion time (ns) of an access issued at `at_ns`.
    double go(tlm::tlm_command cmd, uint64_t addr, uint32_t len, double at_ns = 0) {
        std::vector<uint8_t> buf(len);
        tlm::tlm_generic_payload t;
        init_payload(t, cmd, addr, buf.data(), len);
        sc_core::sc_time d(at_ns, sc_core::SC_NS);
        socket->b_transport(t, d);
        REQUIRE(t.get_response_status() == tlm::TLM_OK_RESPONSE);
        return d.to_seconds() * 1e9;
    }
};

// Answers at once: all the time measured is the interconnect's.
struct sink : sc_core::sc_module {
    tlm_utils::simple_target_socket<sink> socket{"socket"};
    explicit sink(sc_core::sc_module_name n) : sc_module(n) {
        socket.register_b_transport(this, &sink::b_transport);
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time&) { t.set_response_status(tlm::TLM_OK_RESPONSE); }
};

noc_params mesh(double hop_ns, double gbps, std::vector<std::pair<std::string, std::string>> pos) {
    noc_params p;
    p.topology = "mesh2d";
    p.hop_ns = hop_ns;
    p.link_gbps = gbps;
    p.positions = std::move(pos);
    return p;
}

} // namespace

TEST_CASE("NoC mesh latency is XY hops times the hop latency", "[noc]") {
    interconnect n("noc", mesh(2, 0, {{"a", "0,0"}, {"m", "3,2"}}));
    initiator a("a");
    sink m("m");
    n.add_initiator("a", a.socket);
    n.add_target("m", 0, 0x10000, m.socket);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);  // completes the multi-socket bindings
    CHECK(n.hops({0, 0}, {3, 2}) == 6);
    CHECK(n.path_links({0, 0}, {3, 2}) == 7);  // out-link, 3 along x, 2 along y, in-link
    CHECK(n.hops({2, 2}, {2, 2}) == 1);
    CHECK(a.go(tlm::TLM_WRITE_COMMAND, 0x100, 64) == Approx(12.0));
    CHECK(a.go(tlm::TLM_READ_COMMAND, 0x100, 64) == Approx(12.0));
}

TEST_CASE("NoC default crossbar is one hop with unlimited links", "[noc]") {
    noc_params p;
    p.hop_ns = 2;
    interconnect n("noc", p);
    initiator a("a"), b("b");
    sink m("m");
    n.add_initiator("a", a.socket);
    n.add_initiator("b", b.socket);
    n.add_target("m", 0, 0x10000, m.socket);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);  // completes the multi-socket bindings
    // Any size, any number at once: no serialization.
    CHECK(a.go(tlm::TLM_WRITE_COMMAND, 0, 4096) == Approx(2.0));
    CHECK(b.go(tlm::TLM_WRITE_COMMAND, 0, 4096) == Approx(2.0));
    CHECK(a.go(tlm::TLM_READ_COMMAND, 0, 4096, 10) == Approx(12.0));
}

TEST_CASE("NoC crossbar flows into one target port share its link", "[noc]") {
    noc_params p;
    p.hop_ns = 0;
    p.link_gbps = 1;  // 1 byte per ns
    interconnect n("noc", p);
    initiator a("a"), b("b");
    sink m("m"), q("q");
    n.add_initiator("a", a.socket);
    n.add_initiator("b", b.socket);
    n.add_target("m", 0, 0x10000, m.socket);
    n.add_target("q", 0x10000, 0x10000, q.socket);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);  // completes the multi-socket bindings
    CHECK(a.go(tlm::TLM_WRITE_COMMAND, 0, 1000) == Approx(1000.0));        // alone
    CHECK(b.go(tlm::TLM_WRITE_COMMAND, 0x10000, 1000) == Approx(1000.0));  // other ports: parallel
    CHECK(b.go(tlm::TLM_WRITE_COMMAND, 0, 1000) == Approx(2000.0));        // m's in-link busy: twice
    // Reads: the data crosses target -> initiator; m's out-link is free, b's in-link too.
    CHECK(b.go(tlm::TLM_READ_COMMAND, 0, 500) == Approx(500.0));
    CHECK(a.go(tlm::TLM_READ_COMMAND, 0, 500) == Approx(1000.0));  // m's out-link busy
}

TEST_CASE("NoC mesh flows sharing one router link take twice as long", "[noc]") {
    // a (0,0) -> m (2,0) and b (1,0) -> q (3,0) both cross the link (1,0) -> (2,0).
    interconnect n("noc", mesh(0, 1, {{"a", "0,0"}, {"b", "1,0"}, {"m", "2,0"}, {"q", "3,0"}, {"c", "0,1"},
                                      {"r", "1,1"}}));
    initiator a("a"), b("b"), c("c");
    sink m("m"), q("q"), r("r");
    n.add_initiator("a", a.socket);
    n.add_initiator("b", b.socket);
    n.add_initiator("c", c.socket);
    n.add_target("m", 0, 0x10000, m.socket);
    n.add_target("q", 0x10000, 0x10000, q.socket);
    n.add_target("r", 0x20000, 0x10000, r.socket);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);  // completes the multi-socket bindings
    CHECK(a.go(tlm::TLM_WRITE_COMMAND, 0, 1000) == Approx(1000.0));
    CHECK(b.go(tlm::TLM_WRITE_COMMAND, 0x10000, 1000) == Approx(2000.0));
    // c (0,1) -> r (1,1): a disjoint row, no contention.
    CHECK(c.go(tlm::TLM_WRITE_COMMAND, 0x20000, 1000) == Approx(1000.0));
}

TEST_CASE("NoC multi-point targets interleave by address and DMI can be refused", "[noc]") {
    noc_params p = mesh(1, 0, {{"a", "0,0"}, {"m", "1,0;3,0"}});
    p.interleave_bytes = 4096;
    p.dmi = false;
    interconnect n("noc", p);
    initiator a("a");
    sink m("m");
    n.add_initiator("a", a.socket);
    n.add_target("m", 0, 0x10000, m.socket);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);  // completes the multi-socket bindings
    CHECK(a.go(tlm::TLM_WRITE_COMMAND, 0x0000, 64) == Approx(2.0));  // point (1,0): 2 hops
    CHECK(a.go(tlm::TLM_WRITE_COMMAND, 0x1000, 64) == Approx(4.0));  // point (3,0): 4 hops
    CHECK(a.go(tlm::TLM_WRITE_COMMAND, 0x2000, 64) == Approx(2.0));
    tlm::tlm_generic_payload t;
    uint8_t x;
    init_payload(t, tlm::TLM_READ_COMMAND, 0, &x, 1);
    tlm::tlm_dmi dmi;
    CHECK_FALSE(a.socket->get_direct_mem_ptr(t, dmi));
}

TEST_CASE("NoC rejects attach points outside the mesh or malformed", "[noc]") {
    CHECK_THROWS_AS(interconnect("bad", mesh(1, 0, {{"a", "4,0"}})), config_error);
    CHECK_THROWS_AS(interconnect::parse_points("1;2", "noc.pos.x"), config_error);
    CHECK(interconnect::parse_points("1,2; 3,0", "k").size() == 2);
}
