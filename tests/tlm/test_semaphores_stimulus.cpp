// Stimulus tests of the sync block (tlm/sync/semaphores.h) bound alone: a register initiator
// on reg_socket (offsets relative to BAR0 0x4000), packet initiators on cmd_socket, the reset
// export driven directly. Checks the register map of docs/abi.md (SEM RW, SEM_ADD WO, entries
// only below sync.count), SEM_SIGNAL/SEM_WAIT semantics and status codes, the wait limit and
// job deadline, and timing (a packet acts at its arrival time and costs op_ns).
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "abi/aax_regs.h"
#include "stimulus_stubs.h"
#include "tlm/core/stats.h"
#include "tlm/sync/semaphores.h"

using namespace accelvp;

namespace {

constexpr uint64_t sem_off(unsigned s) { return AAX_SEM(s) - AAX_SYNC_WINDOW_BASE; }
constexpr uint64_t add_off(unsigned s) { return AAX_SEM_ADD(s) - AAX_SYNC_WINDOW_BASE; }

semaphores::params sparams() {
    semaphores::params p;
    p.count = 8;
    p.wait_timeout_us = 2;  // 2 us device wait limit
    p.op_ns = 5;
    return p;
}

aax_pkt_sem_signal signal_pkt(uint16_t sem, uint8_t mode, uint32_t value) {
    aax_pkt_sem_signal p{};
    p.hdr.opcode = AAX_OP_SEM_SIGNAL;
    p.hdr.size_qw = AAX_PKT_SEM_SIGNAL_QW;
    p.sem = sem;
    p.mode = mode;
    p.value = value;
    return p;
}

aax_pkt_sem_wait wait_pkt(uint16_t sem, uint8_t cond, uint32_t value, bool dec = false) {
    aax_pkt_sem_wait p{};
    p.hdr.opcode = AAX_OP_SEM_WAIT;
    p.hdr.size_qw = AAX_PKT_SEM_WAIT_QW;
    p.sem = sem;
    p.cond = cond;
    p.value = value;
    p.dec = dec ? 1 : 0;
    return p;
}

struct bench {
    stim::initiator regs{"regs"};
    stim::initiator q0{"q0"};
    semaphores sem;
    explicit bench(const semaphores::params& p = sparams()) : sem("sync", p) {
        regs.socket.bind(sem.reg_socket);
        q0.socket.bind(sem.cmd_socket);
    }
};

uint64_t stat(const char* name) {
    auto* s = dynamic_cast<const counter*>(global_stats().find("sync", name));
    REQUIRE(s);
    return s->get();
}

} // namespace

TEST_CASE("semaphores stimulus: register map: reset 0, SEM RW, SEM_ADD WO and wrapping, nothing past the count",
          "[semaphores][stimulus]") {
    bench b;
    stim::run([&] {
        for (unsigned s = 0; s < 8; ++s) CHECK(b.regs.read32(sem_off(s)) == 0);
        CHECK(b.regs.write32(sem_off(3), 0xFFFFFFFE) == tlm::TLM_OK_RESPONSE);
        CHECK(b.regs.write32(add_off(3), 5) == tlm::TLM_OK_RESPONSE);
        CHECK(b.regs.read32(sem_off(3)) == 3);  // mod 2^32
        CHECK(b.sem.value(3) == 3);
        CHECK(b.regs.status_of_read(add_off(3)) == tlm::TLM_COMMAND_ERROR_RESPONSE);  // WO
        // Semaphore 8 and beyond do not exist with sync.count = 8.
        CHECK(b.regs.status_of_read(sem_off(8)) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
        CHECK(b.regs.write32(add_off(8), 1) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
        // Only aligned 32-bit accesses without byte enables.
        CHECK(b.regs.status_of_read(sem_off(1) + 2) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
        uint16_t half = 0;
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        CHECK(b.regs.go(tlm::TLM_READ_COMMAND, sem_off(1), &half, 2, d) == tlm::TLM_BURST_ERROR_RESPONSE);
        CHECK(stat("signals") == 1);  // SEM_ADD counts as a signal
        // Soft reset: every semaphore back to 0.
        b.regs.write32(sem_off(0), 9);
        b.sem.reset_in->soft_reset();
        CHECK(b.regs.read32(sem_off(0)) == 0);
        CHECK(b.regs.read32(sem_off(3)) == 0);
    });
}

TEST_CASE("semaphores stimulus: SEM_SIGNAL sets or adds at its arrival time and costs op_ns", "[semaphores][stimulus]") {
    bench b;
    std::vector<stim::initiator::cmd_result> r;
    std::vector<uint64_t> at;
    std::vector<uint32_t> v;
    stim::run([&] {
        r.push_back(b.q0.command(signal_pkt(2, AAX_SEM_MODE_SET, 40), 0, 0, sc_core::sc_time(300, sc_core::SC_NS)));
        at.push_back(stim::now_ps());  // the block caught up with the caller's local time
        v.push_back(b.sem.value(2));
        r.push_back(b.q0.command(signal_pkt(2, AAX_SEM_MODE_ADD, 0xFFFFFFF0u)));
        v.push_back(b.sem.value(2));
        r.push_back(b.q0.command(signal_pkt(8, AAX_SEM_MODE_SET, 1)));  // no semaphore 8
        r.push_back(b.q0.command(signal_pkt(2, 2, 1)));                  // mode 2
        v.push_back(b.sem.value(2));
    });
    REQUIRE(r.size() == 4);
    CHECK(r[0].status == AAX_OK);
    CHECK(r[0].delay.value() == 5000);
    CHECK(at[0] == 300000);
    CHECK(r[1].status == AAX_OK);
    CHECK(v[0] == 40);
    CHECK(v[1] == 40u + 0xFFFFFFF0u);  // mod 2^32: 0x18
    CHECK(r[2].status == AAX_ERR_BAD_PARAM);
    CHECK(r[3].status == AAX_ERR_BAD_PARAM);
    CHECK(v[2] == 0x18);
    CHECK(stat("signals") == 2);
    CHECK(stat("errors") == 2);
}

TEST_CASE("semaphores stimulus: SEM_WAIT conditions, decrement and bad fields", "[semaphores][stimulus]") {
    bench b;
    std::vector<uint8_t> st;
    std::vector<uint64_t> dl;
    stim::run([&] {
        b.regs.write32(sem_off(1), 7);
        auto go = [&](aax_pkt_sem_wait p) {
            auto r = b.q0.command(p);
            st.push_back(r.status);
            dl.push_back(r.delay.value());
        };
        go(wait_pkt(1, AAX_SEM_GE, 7));        // 7 >= 7
        go(wait_pkt(1, AAX_SEM_EQ, 7, true));  // passes and subtracts 7
        go(wait_pkt(1, AAX_SEM_GE, 0));        // anything >= 0
        b.regs.write32(sem_off(1), 3);
        go(wait_pkt(1, AAX_SEM_NZ, 1, true));  // 3 != 0, then 3 - 1
        go(wait_pkt(1, AAX_SEM_GE, 5, true));  // 2 >= 5 never holds: nothing is subtracted
        go(wait_pkt(8, AAX_SEM_GE, 0));        // no semaphore 8
        go(wait_pkt(1, 3, 0));                 // cond 3
    });
    // The 5th wait (2 >= 5) cannot pass: it times out at the 2 us limit.
    CHECK(st == std::vector<uint8_t>{AAX_OK, AAX_OK, AAX_OK, AAX_OK, AAX_ERR_SEM_TIMEOUT, AAX_ERR_BAD_PARAM,
                                     AAX_ERR_BAD_PARAM});
    for (uint64_t d : dl) CHECK(d == 5000);  // every packet costs op_ns after it returns
    CHECK(b.sem.value(1) == 2);
    CHECK(stat("waits") == 5);
    CHECK(stat("timeouts") == 1);
    CHECK(stat("errors") == 2);
}

TEST_CASE("semaphores stimulus: a blocked SEM_WAIT passes when another queue's signal makes it true",
          "[semaphores][stimulus]") {
    bench b;  // both queues share the one command socket (the queue manager's), from two threads
    uint64_t woke = 0;
    stim::initiator::cmd_result rw;
    std::vector<uint32_t> seen;
    sc_core::sc_spawn(
        [&] {
            // 250 ns: ADD 2 (value 2, condition EQ 3 still false); 400 ns: ADD 1 -> 3.
            b.q0.command(signal_pkt(4, AAX_SEM_MODE_ADD, 2), 0, 0, sc_core::sc_time(250, sc_core::SC_NS));
            b.q0.command(signal_pkt(4, AAX_SEM_MODE_ADD, 1), 0, 0, sc_core::sc_time(150, sc_core::SC_NS));
        },
        "signaller");
    stim::run([&] {
        rw = b.q0.command(wait_pkt(4, AAX_SEM_EQ, 3, true), 0, 0, sc_core::sc_time(100, sc_core::SC_NS));
        woke = stim::now_ps();
        seen.push_back(b.sem.value(4));
    });
    CHECK(rw.status == AAX_OK);
    CHECK(woke == 400000);
    CHECK(rw.delay.value() == 5000);
    CHECK(seen == std::vector<uint32_t>{0});  // decremented by 3
    auto* w = dynamic_cast<const average*>(global_stats().find("sync", "wait_ns"));
    REQUIRE(w);
    CHECK(w->mean() == Approx(300.0));  // blocked from 100 to 400 ns
}

TEST_CASE("semaphores stimulus: a register write wakes a waiter at the write's time", "[semaphores][stimulus]") {
    bench b;
    uint64_t woke = 0;
    uint8_t st = 0xEE;
    sc_core::sc_spawn(
        [&] {
            sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));
            b.regs.write32(add_off(6), 1);
        },
        "host");
    stim::run([&] {
        st = b.q0.command(wait_pkt(6, AAX_SEM_NZ, 0)).status;
        woke = stim::now_ps();
    });
    CHECK(st == AAX_OK);
    CHECK(woke == 1000000);
    CHECK(b.sem.value(6) == 1);  // NZ without dec leaves it
}

TEST_CASE("semaphores stimulus: the wait limit gives SEM_TIMEOUT, an earlier job deadline TIMEOUT",
          "[semaphores][stimulus]") {
    bench b;
    std::vector<uint8_t> st;
    std::vector<uint64_t> at;
    stim::run([&] {
        // Limit 2 us after the wait starts (t = 0).
        st.push_back(b.q0.command(wait_pkt(0, AAX_SEM_NZ, 0)).status);
        at.push_back(stim::now_ps());
        // Job deadline at 3 us absolute, before this wait's limit (2 us + 2 us): TIMEOUT at 3 us.
        st.push_back(b.q0.command(wait_pkt(0, AAX_SEM_NZ, 0), /*deadline_ps=*/3000000).status);
        at.push_back(stim::now_ps());
        // Job deadline after the limit (3 us + 2 us): SEM_TIMEOUT at the limit.
        st.push_back(b.q0.command(wait_pkt(0, AAX_SEM_NZ, 0), /*deadline_ps=*/9000000).status);
        at.push_back(stim::now_ps());
    });
    CHECK(st == std::vector<uint8_t>{AAX_ERR_SEM_TIMEOUT, AAX_ERR_TIMEOUT, AAX_ERR_SEM_TIMEOUT});
    CHECK(at == std::vector<uint64_t>{2000000, 3000000, 5000000});
    CHECK(stat("timeouts") == 3);
}

TEST_CASE("semaphores stimulus: the command socket rejects reads, packets without extension and unknown opcodes",
          "[semaphores][stimulus]") {
    bench b;
    std::vector<stim::initiator::cmd_result> r;
    stim::run([&] {
        const auto p = signal_pkt(0, AAX_SEM_MODE_SET, 1);
        r.push_back(b.q0.command_bytes(&p, sizeof(p), 0, 0, sc_core::SC_ZERO_TIME, /*with_ext=*/false));
        r.push_back(b.q0.command_bytes(&p, 4));  // shorter than a header
        aax_pkt_sem_signal dma = p;
        dma.hdr.opcode = AAX_OP_DMA;  // not a sync packet
        r.push_back(b.q0.command(dma));
    });
    CHECK(r[0].response == tlm::TLM_COMMAND_ERROR_RESPONSE);
    CHECK(r[1].response == tlm::TLM_COMMAND_ERROR_RESPONSE);
    CHECK(r[2].response == tlm::TLM_OK_RESPONSE);
    CHECK(r[2].status == AAX_ERR_BAD_OPCODE);
    CHECK(b.sem.value(0) == 0);
}

// docs/abi.md's validation table: BAD_LENGTH for a SEM packet with size_qw != 2. The queue
// manager checks the length before dispatching; the sync block gives the same code to a direct
// initiator of its command socket (it once answered BAD_OPCODE).
TEST_CASE("semaphores stimulus: a SEM packet of the wrong length is BAD_LENGTH", "[semaphores][stimulus]") {
    bench b;
    stim::initiator::cmd_result r;
    stim::run([&] {
        uint8_t longer[24] = {};
        auto p = signal_pkt(0, AAX_SEM_MODE_SET, 1);
        p.hdr.size_qw = 3;
        std::memcpy(longer, &p, sizeof(p));
        r = b.q0.command_bytes(longer, sizeof(longer));
    });
    CHECK(r.status == AAX_ERR_BAD_LENGTH);
    CHECK(b.sem.value(0) == 0);
}

// Debug transport (transport_dbg, used by the GDB server's memory reads through the control
// core) of a semaphore register sees the semaphore, also a value set by a SEM_SIGNAL packet or
// SEM_ADD (it once returned the register bank's stale shadow value).
TEST_CASE("semaphores stimulus: a debug read of SEM(s) sees the semaphore's value", "[semaphores][stimulus]") {
    bench b;
    uint32_t v = 0, normal = 0;
    unsigned n = 0;
    stim::run([&] {
        b.q0.command(signal_pkt(5, AAX_SEM_MODE_SET, 1234));
        b.regs.write32(add_off(5), 1);
        normal = b.regs.read32(sem_off(5));
        n = b.regs.debug(tlm::TLM_READ_COMMAND, sem_off(5), &v, 4);
    });
    REQUIRE(normal == 1235);
    REQUIRE(n == 4);
    CHECK(v == 1235);
}
