// Collective engine (tlm/link/coll_engine.h) on a two-node fabric: each node is a router
// with a memory and the sync block, an engine on it, the engines wired port 0 <-> port 0
// through two link channels. Data is checked bit-exact against a host computation,
// times against the link model, errors by their status codes.
#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include <systemc>
#include <tlm_utils/simple_initiator_socket.h>

#include "abi/aax_queue.h"
#include "abi/aax_regs.h"
#include "tlm/compute/numerics.h"
#include "tlm/core/extensions.h"
#include "tlm/core/log.h"
#include "tlm/core/router.h"
#include "tlm/link/coll_engine.h"
#include "tlm/mem/memory.h"
#include "tlm/sync/semaphores.h"

using namespace accelvp;

namespace {
constexpr uint64_t regs_base = 0x100'0000'0000ull;
constexpr uint64_t mem_size = 16ull << 20;

struct node : sc_core::sc_module {
    router noc;
    memory mem;
    semaphores sync;
    coll_engine coll;
    tlm_utils::simple_initiator_socket<node> cmd;  // stands in for the queue manager
    tlm_utils::simple_initiator_socket<node> sem_cmd;
    node(sc_core::sc_module_name n, const coll_engine::params& cp)
        : sc_module(n), noc("noc"), mem("mem", memory::params{mem_size, 1000, 50, false}),
          sync("sync", semaphores::params{}), coll("coll", cp), cmd("cmd"), sem_cmd("sem_cmd") {
        coll.bus_socket.bind(noc.target_socket);
        noc.add_target("mem", 0, mem_size, mem.socket);
        noc.add_target("sync", regs_base + AAX_SYNC_WINDOW_BASE, AAX_SYNC_WINDOW_SIZE, sync.reg_socket);
        cmd.bind(coll.cmd_socket);
        sem_cmd.bind(sync.cmd_socket);
    }
    template <typename Pkt>
    uint8_t issue(tlm_utils::simple_initiator_socket<node>& s, Pkt pkt, uint64_t* err = nullptr) {
        tlm::tlm_generic_payload t;
        command_ext ext;
        init_payload(t, tlm::TLM_WRITE_COMMAND, 0, &pkt, sizeof(pkt));
        extension_guard<command_ext> g(t, &ext);
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        s->b_transport(t, d);
        sc_core::wait(d);
        if (err) *err = ext.error_addr;
        return ext.status;
    }
    uint8_t run(const aax_pkt_coll& p, uint64_t* err = nullptr) { return issue(cmd, p, err); }
    uint8_t wait_sem(uint16_t sem, uint32_t v) {
        aax_pkt_sem_wait w{};
        w.hdr = aax_pkt_hdr{AAX_OP_SEM_WAIT, 0, AAX_PKT_SEM_WAIT_QW, 0};
        w.sem = sem;
        w.cond = AAX_SEM_GE;
        w.value = v;
        return issue(sem_cmd, w);
    }
};

aax_pkt_coll coll(uint32_t op, uint64_t local, uint64_t remote, uint64_t bytes, bool signal = false,
                  uint16_t sem = 0, uint32_t dtype = 0, uint32_t red = 0) {
    aax_pkt_coll p{};
    p.hdr = aax_pkt_hdr{AAX_OP_COLL, 0, AAX_PKT_COLL_QW,
                        AAX_COLL_PARAM(op, dtype, red) | (signal ? AAX_COLL_F_SIGNAL : 0u)};
    p.local_addr = local;
    p.remote_addr = remote;
    p.bytes = bytes;
    p.sem = sem;
    p.sem_value = 1;
    return p;
}

link_params test_link() {
    link_params p;
    p.port_class = "custom";
    p.lanes = 4;
    p.lane_gbps = 100;
    p.encoding = 1.0;  // 50 GB/s, 20 ps per byte
    p.mtu = 4096;
    p.header_bytes = 64;
    p.latency_ns = 500;
    p.resolve_class();
    return p;
}

struct fabric {
    coll_engine::params cp;
    std::unique_ptr<node> a, b;
    std::unique_ptr<link_channel> ab, ba;
    explicit fabric(const link_params& lp = test_link(), double recv_timeout_us = 1e6) {
        set_log_level(log_level::error);
        cp.recv_timeout_us = recv_timeout_us;
        cp.regs_base = regs_base;
        cp.setup_ns = 0;
        a = std::make_unique<node>("a", cp);
        b = std::make_unique<node>("b", cp);
        ab = std::make_unique<link_channel>("a.port0", lp);
        ba = std::make_unique<link_channel>("b.port0", lp);
        a->coll.connect(0, {ab.get()}, &b->coll, 0);
        b->coll.connect(0, {ba.get()}, &a->coll, 0);
    }
    void spawn(std::function<void()> f) { sc_core::sc_spawn(std::move(f)); }
    void run() { sc_core::sc_start(sc_core::sc_time(100, sc_core::SC_MS)); }
};

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
    std::mt19937 g(seed);
    std::vector<uint8_t> v(n);
    for (auto& x : v) x = static_cast<uint8_t>(g());
    return v;
}
std::vector<uint8_t> read(node& n, uint64_t addr, size_t len) {
    std::vector<uint8_t> v(len);
    n.mem.store().read(addr, v.data(), len);
    return v;
}
} // namespace

TEST_CASE("coll: RDMA write lands bit-exact and signals the peer when the data is there", "[coll]") {
    fabric f;
    const size_t n = 300 * 1024 + 12;
    const auto src = random_bytes(n, 1);
    f.a->mem.store().write(0x1000, src.data(), n);
    uint8_t st = 0xFF;
    uint64_t done = 0, seen = 0;
    f.spawn([&] {
        st = f.a->run(coll(AAX_COLL_RDMA_WRITE, 0x1000, 0x20000, n, true, 7));
        done = sc_core::sc_time_stamp().value();
    });
    f.spawn([&] {
        CHECK(f.b->wait_sem(7, 1) == AAX_OK);
        seen = sc_core::sc_time_stamp().value();
    });
    f.run();
    CHECK(st == AAX_OK);
    CHECK(read(*f.b, 0x20000, n) == src);
    CHECK(f.b->sync.value(7) == 1);
    // The link is the bottleneck: the transfer takes at least its wire time + latency
    // and little more (the memory is 20x faster).
    const uint64_t packets = (n + 4095) / 4096;
    const uint64_t wire_ps = (n + packets * 64) * 20 + 500'000;
    CHECK(done >= wire_ps);
    CHECK(done < wire_ps + wire_ps / 20);
    CHECK(seen >= done - 1);  // the waiter wakes when the signal arrives, never before
    CHECK(seen <= done + 10'000);
    CHECK(f.ab->payload_bytes() == n + 8);  // the data and the 8-byte signal message
}

TEST_CASE("coll: REDUCE combines fp32 sums and int32 maxima into the peer's memory", "[coll]") {
    fabric f;
    const size_t count = 20000;
    std::vector<float> x(count), y(count);
    std::vector<int32_t> i(count), j(count);
    std::mt19937 g(3);
    std::uniform_real_distribution<float> u(-1000, 1000);
    for (size_t k = 0; k < count; ++k) {
        x[k] = u(g);
        y[k] = u(g);
        i[k] = static_cast<int32_t>(g());
        j[k] = static_cast<int32_t>(g());
    }
    f.a->mem.store().write(0x0, x.data(), count * 4);
    f.b->mem.store().write(0x100000, y.data(), count * 4);
    f.a->mem.store().write(0x200000, i.data(), count * 4);
    f.b->mem.store().write(0x300000, j.data(), count * 4);
    uint8_t s1 = 0xFF, s2 = 0xFF;
    f.spawn([&] {
        s1 = f.a->run(coll(AAX_COLL_REDUCE, 0x0, 0x100000, count * 4, false, 0, AAX_COLL_DT_FP32, AAX_COLL_RED_SUM));
        s2 = f.a->run(coll(AAX_COLL_REDUCE, 0x200000, 0x300000, count * 4, false, 0, AAX_COLL_DT_INT32,
                           AAX_COLL_RED_MAX));
    });
    f.run();
    CHECK(s1 == AAX_OK);
    CHECK(s2 == AAX_OK);
    std::vector<float> got(count);
    std::vector<int32_t> goti(count);
    f.b->mem.store().read(0x100000, got.data(), count * 4);
    f.b->mem.store().read(0x300000, goti.data(), count * 4);
    size_t bad = 0;
    for (size_t k = 0; k < count; ++k) {
        const float want = x[k] + y[k];
        if (std::memcmp(&got[k], &want, 4) != 0) ++bad;
        if (goti[k] != std::max(i[k], j[k])) ++bad;
    }
    CHECK(bad == 0);
}

TEST_CASE("coll: REDUCE of bf16 and fp16 rounds each result once to nearest even", "[coll]") {
    fabric f;
    const size_t count = 8192;
    std::vector<uint16_t> x(count), y(count), p(count), q(count);
    std::mt19937 g(5);
    std::uniform_real_distribution<float> u(-300, 300);
    for (size_t k = 0; k < count; ++k) {
        x[k] = num::f32_to_bf16(u(g));
        y[k] = num::f32_to_bf16(u(g));
        p[k] = num::f32_to_fp16(u(g));
        q[k] = num::f32_to_fp16(u(g));
    }
    f.a->mem.store().write(0x0, x.data(), count * 2);
    f.b->mem.store().write(0x100000, y.data(), count * 2);
    f.a->mem.store().write(0x200000, p.data(), count * 2);
    f.b->mem.store().write(0x300000, q.data(), count * 2);
    uint8_t s1 = 0xFF, s2 = 0xFF;
    f.spawn([&] {
        s1 = f.a->run(coll(AAX_COLL_REDUCE, 0x0, 0x100000, count * 2, false, 0, AAX_COLL_DT_BF16, AAX_COLL_RED_SUM));
        s2 = f.a->run(coll(AAX_COLL_REDUCE, 0x200000, 0x300000, count * 2, false, 0, AAX_COLL_DT_FP16,
                           AAX_COLL_RED_MAX));
    });
    f.run();
    CHECK(s1 == AAX_OK);
    CHECK(s2 == AAX_OK);
    std::vector<uint16_t> got(count), goth(count);
    f.b->mem.store().read(0x100000, got.data(), count * 2);
    f.b->mem.store().read(0x300000, goth.data(), count * 2);
    size_t bad = 0, rounded = 0;
    for (size_t k = 0; k < count; ++k) {
        const float sum = num::bf16_to_f32(x[k]) + num::bf16_to_f32(y[k]);
        if (got[k] != num::f32_to_bf16(sum)) ++bad;
        if (num::bf16_to_f32(got[k]) != sum) ++rounded;  // the sum needed rounding
        if (goth[k] != (num::fp16_to_f32(q[k]) > num::fp16_to_f32(p[k]) ? q[k] : p[k])) ++bad;
    }
    CHECK(bad == 0);
    CHECK(rounded > 0);
}

TEST_CASE("coll: SEND waits for the peer's RECV and fills the posted buffer", "[coll]") {
    fabric f;
    const size_t n = 10000;
    const auto src = random_bytes(n, 5);
    f.a->mem.store().write(0x0, src.data(), n);
    uint8_t s_send = 0xFF, s_recv = 0xFF, s_big = 0xFF;
    uint64_t send_done = 0;
    f.spawn([&] {
        s_send = f.a->run(coll(AAX_COLL_SEND, 0x0, 0, n));
        send_done = sc_core::sc_time_stamp().value();
        s_big = f.a->run(coll(AAX_COLL_SEND, 0x0, 0, n + 1));  // larger than the next posted buffer
    });
    f.spawn([&] {
        sc_core::wait(5, sc_core::SC_US);
        s_recv = f.b->run(coll(AAX_COLL_RECV, 0x40000, 0, n, true, 3));
        f.b->run(coll(AAX_COLL_RECV, 0x80000, 0, n));
    });
    f.run();
    CHECK(s_recv == AAX_OK);
    CHECK(s_send == AAX_OK);
    CHECK(send_done > 5'000'000 + 500'000);
    CHECK(read(*f.b, 0x40000, n) == src);
    CHECK(f.b->sync.value(3) == 1);  // the RECV's own semaphore
    CHECK(s_big == AAX_ERR_BAD_PARAM);
}

TEST_CASE("coll: a SEND nobody receives times out and a down link reports LINK_DOWN", "[coll]") {
    link_params lp = test_link();
    lp.down_at_ns = 20'000;
    fabric f(lp, 10);
    uint8_t s_timeout = 0xFF, s_ok = 0xFF, s_down = 0xFF, s_sig = 0xFF;
    uint64_t t_timeout = 0, t_down = 0;
    f.spawn([&] {
        s_timeout = f.a->run(coll(AAX_COLL_SEND, 0x0, 0, 64));
        t_timeout = sc_core::sc_time_stamp().value();
        s_ok = f.a->run(coll(AAX_COLL_RDMA_WRITE, 0x0, 0x1000, 4096, true, 1));
        s_down = f.a->run(coll(AAX_COLL_RDMA_WRITE, 0x0, 0x1000, 1 << 20, true, 1));  // outlives the link
        t_down = sc_core::sc_time_stamp().value();
        s_sig = f.a->run(coll(AAX_COLL_SIGNAL, 0, 0, 0, true, 1));
    });
    f.run();
    CHECK(s_timeout == AAX_ERR_TIMEOUT);
    CHECK(t_timeout == 10'000'000);  // recv_timeout_us
    CHECK(s_ok == AAX_OK);
    CHECK(s_down == AAX_ERR_LINK_DOWN);  // 1 MiB takes 21 us: the link goes down at 20 us
    CHECK(t_down >= 20'000'000);
    CHECK(t_down < 21'000'000);
    CHECK(s_sig == AAX_ERR_LINK_DOWN);
    CHECK(f.b->sync.value(1) == 1);  // only the write that completed signalled
}

TEST_CASE("coll: bad packets get their status and the failing address", "[coll]") {
    fabric f;
    std::vector<uint8_t> st;
    uint64_t err = 0;
    f.spawn([&] {
        aax_pkt_coll p = coll(AAX_COLL_RDMA_WRITE, 0, 0, 64);
        p.port = 3;  // not wired
        st.push_back(f.a->run(p));
        st.push_back(f.a->run(coll(AAX_COLL_REDUCE, 0, 0, 63, false, 0, AAX_COLL_DT_BF16)));  // half an element
        st.push_back(f.a->run(coll(AAX_COLL_REDUCE, 0, 0, 62)));             // not whole elements
        st.push_back(f.a->run(coll(AAX_COLL_RDMA_WRITE, 0, 0, 0)));          // empty
        st.push_back(f.a->run(coll(AAX_COLL_SIGNAL, 0, 0, 0)));              // a signal without the flag
        st.push_back(f.a->run(coll(9, 0, 0, 64)));                           // unknown op
        st.push_back(f.a->run(coll(AAX_COLL_RDMA_WRITE, 0, mem_size - 16, 64), &err));
    });
    f.run();
    const std::vector<uint8_t> want{AAX_ERR_BAD_PARAM, AAX_ERR_BAD_PARAM, AAX_ERR_BAD_PARAM, AAX_ERR_BAD_PARAM,
                                    AAX_ERR_BAD_PARAM, AAX_ERR_BAD_PARAM,   AAX_ERR_BAD_ADDRESS};
    CHECK(st == want);
    CHECK(err == mem_size - 16);
}
