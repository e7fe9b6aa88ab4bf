// Firmware-owned scheduling (abi/aax_sched.h): on a chip with a control core (the
// default) the firmware takes the jobs from the rings, runs them on the engine queues,
// writes the completion records and enforces job timeouts with its watchdog. The
// hardware scheduler (cpu.enabled=false) keeps working.
#include <cerrno>
#include <cstring>

#include "abi/aax_sched.h"
#include "harness.h"
#include "tlm/core/stats.h"

using namespace accelvp;
using namespace accelvp::test;

namespace {

// A copy, then a job with a bad opcode, then another copy: data, statuses and the core's work.
struct sched_run {
    int rc_copy = 1, rc_bad = 0, rc_after = 1;
    uint8_t bad_status = 0;
    uint32_t bad_offset = 0;
    bool data_ok = false;
    uint64_t instructions = 0;
    uint64_t eq_done = 0;
};

sched_run copy_bad_copy(std::vector<std::string> overrides) {
    sched_run o;
    harness h(std::move(overrides));
    h.run([&](uapi::device& dev, workload_context&) {
        const auto data = pattern(100000, 7);
        buffer src = make_bo(dev, data.size(), uapi::BO_HOST);
        buffer dst = make_bo(dev, data.size(), uapi::BO_DEVICE);
        CHECK(src.map->write(0, data.data(), data.size()) == 0);
        cmdbuf_builder cp;
        cp.copy(src.va(), dst.va(), data.size());
        uapi::wait_args w;
        o.rc_copy = wait_job(dev, submit(dev, cp.bytes()), w);
        std::vector<uint8_t> got(data.size());
        CHECK(dst.map->peek(0, got.data(), got.size()) == 0);
        o.data_ok = got == data;

        cmdbuf_builder bad;
        bad.nop();
        aax_pkt_hdr hdr{};
        hdr.opcode = 0x7F;
        hdr.size_qw = 1;
        bad.raw(hdr);
        o.rc_bad = wait_job(dev, submit(dev, bad.bytes()), w);
        o.bad_status = w.status;
        o.bad_offset = w.err_offset;
        o.rc_after = wait_job(dev, submit(dev, cp.bytes()), w);
    });
    REQUIRE(h.finished());
    o.instructions = stat_u64("board.chip.cpu.core", "instructions", 0);  // no core: 0
    return o;
}

} // namespace

TEST_CASE("By default the firmware schedules: jobs run bit-exact and the control core does the work", "[firmware][sched]") {
    const sched_run o = copy_bad_copy({});
    REQUIRE(o.rc_copy == 0);
    REQUIRE(o.data_ok);
    REQUIRE(o.bad_status == AAX_ERR_BAD_OPCODE);
    REQUIRE(o.bad_offset == 8);
    REQUIRE(o.rc_after == 0);
    REQUIRE(o.instructions > 1000);  // boot plus three jobs through the firmware
}

TEST_CASE("The hardware scheduler still runs jobs and reports errors without a control core", "[qman][sched]") {
    const sched_run o = copy_bad_copy({"cpu.enabled=false"});
    REQUIRE(o.rc_copy == 0);
    REQUIRE(o.data_ok);
    REQUIRE(o.bad_status == AAX_ERR_BAD_OPCODE);
    REQUIRE(o.bad_offset == 8);
    REQUIRE(o.rc_after == 0);
    REQUIRE(o.instructions == 0);
}

TEST_CASE("The firmware watchdog aborts a job that runs past its timeout between packets", "[firmware][watchdog]") {
    // 20000 NOPs take ~80 us of decode time; no engine waits, so only the watchdog stops it.
    uint8_t status = 0;
    uint32_t offset = 0, size = 0;
    int rc_next = 1;
    uint64_t ts_start = 0, ts_end = 0;
    std::string log;
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        cmdbuf_builder cb;
        for (int i = 0; i < 20000; ++i) cb.nop();
        size = static_cast<uint32_t>(cb.bytes().size());
        uapi::wait_args w;
        wait_job(dev, submit(dev, cb.bytes(), 0, /*timeout_us=*/20), w);
        status = w.status;
        offset = w.err_offset;
        ts_start = w.ts_start_ns;
        ts_end = w.ts_end_ns;
        cmdbuf_builder ok;
        ok.nop();
        rc_next = wait_job(dev, submit(dev, ok.bytes()), w);
        log = dev.drv().firmware_log();
    });
    REQUIRE(h.finished());
    REQUIRE(status == AAX_ERR_TIMEOUT);
    REQUIRE(offset > 0);
    REQUIRE(offset < size);                   // stopped mid-buffer, at a packet boundary
    REQUIRE(ts_end - ts_start >= 20000);      // not before the timeout
    REQUIRE(ts_end - ts_start < 40000);       // and soon after it
    REQUIRE(log.find("watchdog: ring 0") != std::string::npos);
    REQUIRE(rc_next == 0);                    // the ring was reset and serves again
}

TEST_CASE("The host cannot reach the firmware scheduling window", "[firmware][sched][security]") {
    uint32_t head_before = 1, head_seen = 1, pending = 1;
    int rc = 1;
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        auto& hs = dev.drv().host();
        CHECK(hs.cpu.mmio_read32(hs.bar0() + AAX_RING_BASE(0) + AAX_RING_HEAD, head_before));
        hs.cpu.mmio_write32(hs.bar0() + AAX_FW_RING(0) + AAX_FW_RING_HEAD, 5);  // dropped
        hs.cpu.mmio_write32(hs.bar0() + AAX_FW_EQ(0) + AAX_FW_EQ_CTRL, AAX_FW_EQ_START);
        CHECK(hs.cpu.mmio_read32(hs.bar0() + AAX_RING_BASE(0) + AAX_RING_HEAD, head_seen));
        CHECK(hs.cpu.mmio_read32(hs.bar0() + AAX_FW_INT_ENABLE, pending));  // reads as 0
        cmdbuf_builder cb;
        cb.nop();
        uapi::wait_args w;
        rc = wait_job(dev, submit(dev, cb.bytes()), w);
    });
    REQUIRE(h.finished());
    REQUIRE(head_seen == head_before);
    REQUIRE(pending == 0);
    REQUIRE(rc == 0);
}

TEST_CASE("A ring reset while the firmware runs a job drops that job and keeps later submissions", "[firmware][reset]") {
    int rc_long = 0, rc_next = 1;
    uint32_t jobs_done = 0;
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        auto& hs = dev.drv().host();
        cmdbuf_builder slow;
        for (int i = 0; i < 20000; ++i) slow.nop();  // ~80 us
        const uint32_t s = submit(dev, slow.bytes());
        sc_core::wait(sc_core::sc_time(20, sc_core::SC_US));
        hs.cpu.mmio_write32(hs.bar0() + AAX_RING_BASE(0) + AAX_RING_CTRL, AAX_RING_CTRL_EN | AAX_RING_CTRL_RESET);
        uapi::wait_args w;
        rc_long = wait_job(dev, s, w, 200);  // dropped: no record ever comes
        cmdbuf_builder ok;
        ok.nop();
        rc_next = wait_job(dev, submit(dev, ok.bytes()), w);
        CHECK(hs.cpu.mmio_read32(hs.bar0() + AAX_RING_BASE(0) + AAX_RING_JOBS_DONE, jobs_done));
    });
    REQUIRE(h.finished());
    REQUIRE(rc_long == -ETIMEDOUT);
    REQUIRE(rc_next == 0);
    REQUIRE(jobs_done == 1);
}

TEST_CASE("The firmware answers mailbox messages through the event interrupt", "[firmware][mailbox]") {
    int rc_ping = 1, rc_jobs = 1, rc_bad = 1;
    uint32_t ping = 0, jobs = 0, bad = 0;
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        auto& drv = dev.drv();
        const sc_core::sc_time to(100, sc_core::SC_US);
        rc_ping = drv.mailbox(AAX_MBOX_MSG(AAX_MBOX_PING, 41), ping, to);
        cmdbuf_builder cb;
        cb.nop();
        uapi::wait_args w;
        for (int i = 0; i < 3; ++i) wait_job(dev, submit(dev, cb.bytes()), w);
        rc_jobs = drv.mailbox(AAX_MBOX_MSG(AAX_MBOX_JOBS, 0), jobs, to);
        rc_bad = drv.mailbox(AAX_MBOX_MSG(0x7E, 0), bad, to);
    });
    REQUIRE(h.finished());
    REQUIRE(rc_ping == 0);
    REQUIRE(ping == (AAX_MBOX_REPLY | 42u));
    REQUIRE(rc_jobs == 0);
    REQUIRE(jobs == (AAX_MBOX_REPLY | 3u));
    REQUIRE(rc_bad == 0);
    REQUIRE(bad == (AAX_MBOX_REPLY | AAX_MBOX_ST_UNKNOWN << AAX_MBOX_ST_SHIFT));
}

TEST_CASE("Without a control core the mailbox is absent", "[qman][mailbox]") {
    int rc = 0;
    harness h({"cpu.enabled=false"});
    h.run([&](uapi::device& dev, workload_context&) {
        uint32_t r = 0;
        rc = dev.drv().mailbox(AAX_MBOX_MSG(AAX_MBOX_PING, 1), r, sc_core::sc_time(10, sc_core::SC_US));
    });
    REQUIRE(h.finished());
    REQUIRE(rc == -ENODEV);
}

TEST_CASE("Guest command streams reach only the semaphores in register space", "[firmware][security]") {
    // MSG packets aimed at the firmware window, device control and the rings fail with
    // BAD_ADDRESS (the register firewall); one aimed at a semaphore works.
    std::vector<uint8_t> statuses;
    uint32_t sem = 0, enable_ok = 0;
    harness h;
    h.run([&](uapi::device& dev, workload_context& ctx) {
        const uint64_t regs = ctx.cfg.get_uint("addr.regs_base");
        for (uint32_t off : {AAX_FW_INT_ENABLE, AAX_REG_CORE_WIN_LO, AAX_RING_BASE(1) + AAX_RING_CTRL, AAX_SEM_ADD(5)}) {
            cmdbuf_builder cb;
            cb.msg(regs + off, off == AAX_SEM_ADD(5) ? 7u : 0u);
            uapi::wait_args w;
            wait_job(dev, submit(dev, cb.bytes()), w);
            statuses.push_back(w.status);
        }
        auto& hs = dev.drv().host();
        CHECK(hs.cpu.mmio_read32(hs.bar0() + AAX_SEM(5), sem));
        // The firmware still serves: a NOP completes quickly.
        cmdbuf_builder nop;
        nop.nop();
        uapi::wait_args w;
        enable_ok = wait_job(dev, submit(dev, nop.bytes()), w, 50) == 0;
    });
    REQUIRE(h.finished());
    REQUIRE(statuses == std::vector<uint8_t>{AAX_ERR_BAD_ADDRESS, AAX_ERR_BAD_ADDRESS, AAX_ERR_BAD_ADDRESS, AAX_OK});
    REQUIRE(sem == 7);
    REQUIRE(enable_ok == 1);
}

TEST_CASE("A device soft reset while the firmware runs a job drops it and leaves the rings reset", "[firmware][reset]") {
    uint32_t head = 9, done = 9, status = 0;
    std::string log;
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        auto& hs = dev.drv().host();
        cmdbuf_builder slow;
        for (int i = 0; i < 20000; ++i) slow.nop();  // ~80 us
        submit(dev, slow.bytes());
        sc_core::wait(sc_core::sc_time(20, sc_core::SC_US));
        hs.cpu.mmio_write32(hs.bar0() + AAX_REG_RESET, AAX_RESET_SOFT);
        sc_core::wait(sc_core::sc_time(150, sc_core::SC_US));  // the aborted job has finished by now
        CHECK(hs.cpu.mmio_read32(hs.bar0() + AAX_RING_BASE(0) + AAX_RING_HEAD, head));
        CHECK(hs.cpu.mmio_read32(hs.bar0() + AAX_RING_BASE(0) + AAX_RING_JOBS_DONE, done));
        CHECK(hs.cpu.mmio_read32(hs.bar0() + AAX_RING_BASE(0) + AAX_RING_STATUS, status));
        log = dev.drv().firmware_log();
    });
    REQUIRE(h.finished());
    REQUIRE(head == 0);
    REQUIRE(done == 0);
    REQUIRE(status == AAX_RING_STATUS_IDLE);
    REQUIRE(log.find("device soft reset") != std::string::npos);
}
