// Timing against analytic bounds, and the sync/fence/interrupt behaviour.
#include <cerrno>
#include <cstring>

#include "harness.h"
#include "tlm/core/build_paths.h"

using namespace accelvp;
using namespace accelvp::test;

namespace {

struct timed_copy {
    double device_ns = 0, peak_bps = 0;
    int rc = 1;
};

// Copy `bytes` in timing mode and return the device time of the job and the analytic peak.
timed_copy time_copy(const std::string& preset, uint32_t src_flags, uint32_t dst_flags, uint64_t bytes) {
    timed_copy r;
    harness h({"sim.mode=timing"}, preset);
    h.run([&](uapi::device& dev, workload_context& ctx) {
        buffer src = make_bo(dev, bytes, src_flags);
        buffer dst = make_bo(dev, bytes, dst_flags);
        cmdbuf_builder cb;
        cb.copy(src.va(), dst.va(), bytes);
        uapi::wait_args w;
        r.rc = wait_job(dev, submit(dev, cb.bytes()), w, 1e7);
        r.device_ns = static_cast<double>(w.ts_end_ns - w.ts_start_ns);
        const bool h2d = src_flags == uapi::BO_HOST, d2h = dst_flags == uapi::BO_HOST;
        r.peak_bps = h2d ? ctx.soc.peak_h2d() : d2h ? ctx.soc.peak_d2h() : ctx.soc.peak_d2d();
    });
    REQUIRE(h.finished());
    return r;
}

} // namespace

// The analytic time of a large copy is bytes / peak plus a fixed pipeline latency; the
// measured time may not beat the bandwidth bound and must be within 10 % of it.
TEST_CASE("A 256 MiB host-to-device copy takes at least bytes/peak and within 10% of it", "[timing][h2d]") {
    const uint64_t bytes = 256ull << 20;
    const auto r = time_copy("inference", uapi::BO_HOST, uapi::BO_DEVICE, bytes);
    REQUIRE(r.rc == 0);
    const double bound_ns = static_cast<double>(bytes) / r.peak_bps * 1e9;
    CAPTURE(r.device_ns, bound_ns);
    REQUIRE(r.device_ns >= bound_ns);
    REQUIRE(r.device_ns <= 1.10 * bound_ns);
}

TEST_CASE("A 1 GiB device-to-device copy on HBM takes at least bytes/peak and within 10% of it", "[timing][d2d]") {
    const uint64_t bytes = 1ull << 30;
    const auto r = time_copy("training", uapi::BO_DEVICE, uapi::BO_DEVICE, bytes);
    REQUIRE(r.rc == 0);
    const double bound_ns = static_cast<double>(bytes) / r.peak_bps * 1e9;
    CAPTURE(r.device_ns, bound_ns);
    REQUIRE(r.device_ns >= bound_ns);
    REQUIRE(r.device_ns <= 1.10 * bound_ns);
}

TEST_CASE("A 64 MiB device-to-host copy on the edge preset is bound by PCIe Gen3 x4", "[timing][d2h]") {
    const uint64_t bytes = 64ull << 20;
    const auto r = time_copy("edge", uapi::BO_DEVICE, uapi::BO_HOST, bytes);
    REQUIRE(r.rc == 0);
    // Gen3 x4: 8 GT/s x 128/130 x 4 lanes / 8 = 3.938 GB/s raw, x 256/(256+26) TLP efficiency.
    const double expect_peak = 8e9 * 128.0 / 130.0 * 4 / 8 * 256.0 / 282.0;
    REQUIRE(r.peak_bps == Approx(expect_peak).epsilon(1e-9));
    const double bound_ns = static_cast<double>(bytes) / r.peak_bps * 1e9;
    REQUIRE(r.device_ns >= bound_ns);
    REQUIRE(r.device_ns <= 1.10 * bound_ns);
}

TEST_CASE("A small copy is latency-bound: one burst costs at least the link round trip", "[timing][latency]") {
    const auto r = time_copy("inference", uapi::BO_HOST, uapi::BO_DEVICE, 64);
    REQUIRE(r.rc == 0);
    // Reading host memory: request and completion each cross the link (300 ns one way)
    // plus host memory latency (90 ns); the write to device memory adds 120 ns.
    REQUIRE(r.device_ns >= 2 * 300 + 90 + 120);
    REQUIRE(r.device_ns < 5000);
}

TEST_CASE("A host wait with a timeout returns ETIMEDOUT - then the job completes once released", "[fence][timeout]") {
    int first = 0, second = 1;
    uint64_t t_before = 0, t_after = 0;
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        cmdbuf_builder cb;
        cb.sem_wait(9, 1);
        const uint32_t seq = submit(dev, cb.bytes());
        uapi::wait_args w;
        t_before = sc_core::sc_time_stamp().value();
        first = wait_job(dev, seq, w, 25.0);  // 25 us
        t_after = sc_core::sc_time_stamp().value();
        // Release the job through the semaphore's SEM_ADD register in BAR0.
        CHECK(dev.drv().host().cpu.mmio_write32(dev.drv().host().bar0() + AAX_SEM_ADD(9), 1));
        second = wait_job(dev, seq, w, 1000.0);
    });
    REQUIRE(h.finished());
    REQUIRE(first == -ETIMEDOUT);
    REQUIRE(t_after - t_before == 25'000'000ull);  // exactly the timeout, in ps
    REQUIRE(second == 0);
}

TEST_CASE("A SEM_WAIT that is never satisfied fails with SEM_TIMEOUT after the device limit", "[sync][timeout]") {
    int rc = 0;
    uint8_t status = 0;
    double job_ns = 0;
    harness h({"sync.wait_timeout_us=50"});
    h.run([&](uapi::device& dev, workload_context&) {
        cmdbuf_builder cb;
        cb.sem_wait(1, 1, AAX_SEM_EQ);
        uapi::wait_args w;
        rc = wait_job(dev, submit(dev, cb.bytes()), w);
        status = w.status;
        job_ns = static_cast<double>(w.ts_end_ns - w.ts_start_ns);
    });
    REQUIRE(h.finished());
    REQUIRE(rc == -ETIMEDOUT);
    REQUIRE(status == AAX_ERR_SEM_TIMEOUT);
    REQUIRE(job_ns >= 50000);
    REQUIRE(job_ns < 60000);
}

// A reset must end a job blocked in SEM_WAIT at once: with no abort check the queue stayed
// busy until the semaphore limit (here 1 s), and the ring's next job never ran before it.
static void sem_wait_then_ring_reset(std::vector<std::string> overrides) {
    int rc_blocked = 0, rc_next = 1;
    uint64_t next_ns = 0;
    overrides.push_back("sync.wait_timeout_us=1e6");
    harness h(overrides);
    h.run([&](uapi::device& dev, workload_context&) {
        auto& hs = dev.drv().host();
        cmdbuf_builder cb;
        cb.sem_wait(3, 1);  // never signalled
        const uint32_t s = submit(dev, cb.bytes());
        sc_core::wait(sc_core::sc_time(20, sc_core::SC_US));
        hs.cpu.mmio_write32(hs.bar0() + AAX_RING_BASE(0) + AAX_RING_CTRL, AAX_RING_CTRL_EN | AAX_RING_CTRL_RESET);
        uapi::wait_args w;
        rc_blocked = wait_job(dev, s, w, 200);  // dropped by the reset: no record comes
        cmdbuf_builder ok;
        ok.nop();
        const uint64_t t0 = sc_core::sc_time_stamp().value() / 1000;
        rc_next = wait_job(dev, submit(dev, ok.bytes()), w, 200);
        next_ns = sc_core::sc_time_stamp().value() / 1000 - t0;
    });
    REQUIRE(h.finished());
    CHECK(rc_blocked == -ETIMEDOUT);
    CHECK(rc_next == 0);
    CHECK(next_ns < 20000);
    CHECK(stat_u64("board.chip.sync", "aborted") == 1);
    CHECK(stat_u64("board.chip.sync", "timeouts") == 0);
}

TEST_CASE("A ring reset ends a job blocked in SEM_WAIT and the ring's next job runs (firmware)", "[sync][reset]") {
    sem_wait_then_ring_reset({});
}

TEST_CASE("A ring reset ends a job blocked in SEM_WAIT and the ring's next job runs (hardware scheduler)",
          "[sync][reset]") {
    sem_wait_then_ring_reset({"cpu.enabled=false"});
}

TEST_CASE("A job past its timeout_us fails with TIMEOUT", "[job][timeout]") {
    uint8_t status = 0;
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        cmdbuf_builder cb;
        cb.sem_wait(2, 1);
        uapi::wait_args w;
        wait_job(dev, submit(dev, cb.bytes(), 0, /*timeout_us=*/30), w);
        status = w.status;
    });
    REQUIRE(h.finished());
    REQUIRE(status == AAX_ERR_TIMEOUT);
}

TEST_CASE("Semaphores order two queues: the waiter finishes after the signaller's copy", "[sync]") {
    uint64_t copy_start = 0, wait_end = 0;
    int rc1 = 1, rc0 = 1;
    uint32_t sem_after = 99;
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        buffer a = make_bo(dev, 1 << 20, uapi::BO_HOST);
        buffer b = make_bo(dev, 1 << 20, uapi::BO_DEVICE);
        cmdbuf_builder waiter;
        waiter.sem_wait(4, 1, AAX_SEM_GE, /*dec=*/true);
        cmdbuf_builder producer;
        producer.copy(a.va(), b.va(), 1 << 20).sem_signal(4, 1);
        const uint32_t s0 = submit(dev, waiter.bytes(), 0);
        const uint32_t s1 = submit(dev, producer.bytes(), 1);
        uapi::wait_args w0, w1;
        rc0 = wait_job(dev, s0, w0);
        rc1 = wait_job(dev, s1, w1);
        copy_start = w1.ts_start_ns;
        wait_end = w0.ts_end_ns;
        CHECK(dev.drv().host().cpu.mmio_read32(dev.drv().host().bar0() + AAX_SEM(4), sem_after));
    });
    REQUIRE(h.finished());
    REQUIRE(rc0 == 0);
    REQUIRE(rc1 == 0);
    // Released by the signal at the end of the copy: 1 MiB over PCIe Gen4 x8 takes 73.3 us.
    // (The records' ts_end is when each record was written, and the scheduler writes one
    // at a time, so the producer's may come after the waiter's.)
    REQUIRE(wait_end >= copy_start + 73000);
    REQUIRE(sem_after == 0);              // the wait consumed the signal
}

TEST_CASE("FENCE writes a value and a timestamp - MSG writes a word and raises the queue interrupt", "[fence][msg]") {
    uint64_t value = 0, ts = 0;
    uint32_t word = 0;
    uint64_t irqs = 0;
    uint64_t start = 0, end = 0;
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        buffer m = make_bo(dev, 4096, uapi::BO_HOST);
        cmdbuf_builder cb;
        cb.fence(m.va() + 0, 0xFEEDFACE12345678ull)
            .fence(m.va() + 8, 0, AAX_FENCE_WRITE_TS)
            .msg(m.va() + 16, 0xC0FFEE, /*irq=*/true);
        uapi::wait_args w;
        CHECK(wait_job(dev, submit(dev, cb.bytes()), w) == 0);
        start = w.ts_start_ns;
        end = w.ts_end_ns;
        CHECK(m.map->read(0, &value, 8) == 0);
        CHECK(m.map->read(8, &ts, 8) == 0);
        CHECK(m.map->read(16, &word, 4) == 0);
        irqs = static_cast<const counter*>(global_stats().find("board.host.msi", "received"))->get();
    });
    REQUIRE(h.finished());
    REQUIRE(value == 0xFEEDFACE12345678ull);
    REQUIRE(ts > start);
    REQUIRE(ts < end);
    REQUIRE(word == 0xC0FFEEu);
    REQUIRE(irqs == 2);  // the MSG's interrupt and the completion's
}

TEST_CASE("The probe reads the device identity and capabilities", "[driver][probe]") {
    device_info info;
    uapi::info_args ia;
    harness h({}, "training");
    h.run([&](uapi::device& dev, workload_context&) {
        info = dev.drv().info();
        CHECK(dev.get_info(ia) == 0);
    });
    REQUIRE(h.finished());
    REQUIRE(info.abi_version == AAX_ABI_VERSION);
    REQUIRE(info.rings == 16);
    REQUIRE(info.devmem_size == 96ull << 30);
    REQUIRE(info.msix_vectors == 18);  // derived: 2 + 16 CQs
    REQUIRE(ia.queues == 16);
    REQUIRE(ia.semaphores == 1024);
}

TEST_CASE("Submitting to a full ring returns EBUSY", "[driver][ring]") {
    int last = 0, accepted = 0;
    harness h({"host.driver.ring_log2=2"});
    h.run([&](uapi::device& dev, workload_context&) {
        cmdbuf_builder blocker;
        blocker.sem_wait(7, 1);
        for (int i = 0; i < 4; ++i) {
            int rc = 0;
            submit(dev, blocker.bytes(), 0, 0, &rc);
            if (rc == 0) ++accepted;
            last = rc;
        }
        CHECK(dev.drv().host().cpu.mmio_write32(dev.drv().host().bar0() + AAX_SEM(7), 100));
    });
    REQUIRE(h.finished());
    REQUIRE(accepted == 3);  // 4 entries, one always free
    REQUIRE(last == -EBUSY);
}

TEST_CASE("A doorbell starts its job when the write arrives over the link - not when it is issued", "[timing][doorbell]") {
    uint64_t submitted_ns = 0, start_ns = 0;
    uint32_t err_offset = 99, err_info_status = 99;
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        cmdbuf_builder cb;
        cb.nop().nop(2).nop();
        buffer c = make_bo(dev, cb.size(), uapi::BO_DEVICE);
        CHECK(c.map->write(0, cb.bytes().data(), cb.size()) == 0);
        uapi::submit_args s;
        s.cmdbuf_handle = c.args.handle;
        s.cmdbuf_size = cb.size();
        CHECK(dev.submit(s) == 0);
        // The host's posted doorbell write has just landed: no earlier than now.
        submitted_ns = sc_core::sc_time_stamp().value() / 1000;
        uapi::wait_args w;
        err_info_status = static_cast<uint32_t>(wait_job(dev, s.seq, w));
        start_ns = w.ts_start_ns;
        err_offset = w.err_offset;
    });
    REQUIRE(h.finished());
    REQUIRE(err_info_status == 0);
    REQUIRE(err_offset == 0);  // a successful job's record carries no error location
    // Within the chip's 2 ns interconnect hop, which register writes do not wait for;
    // issuing the doorbell would have been 300 ns (one link crossing) earlier.
    REQUIRE(start_ns + 2 >= submitted_ns);
}

TEST_CASE("Device memory at a non-zero bus address works end to end", "[driver][addrmap]") {
    std::vector<uint8_t> got, data;
    uint64_t va = 0;
    harness h({"addr.devmem_base=0x4000000000"});
    h.run([&](uapi::device& dev, workload_context&) {
        buffer a = make_bo(dev, 8192, uapi::BO_HOST);
        buffer b = make_bo(dev, 8192, uapi::BO_DEVICE);
        va = b.va();
        data = pattern(8192, 5);
        CHECK(a.map->write(0, data.data(), data.size()) == 0);
        cmdbuf_builder cb;
        cb.copy(a.va(), b.va(), 8192);
        uapi::wait_args w;
        CHECK(wait_job(dev, submit(dev, cb.bytes()), w) == 0);
        got.resize(8192);
        CHECK(b.map->peek(0, got.data(), got.size()) == 0);
    });
    REQUIRE(h.finished());
    REQUIRE(va >= 0x4000000000ull);
    REQUIRE(got == data);
}

TEST_CASE("A completion queue smaller than the ring never drops a record", "[driver][cq]") {
    int done = 0;
    uint32_t overflows = 99;
    harness h({"host.driver.cq_log2=1", "host.driver.ring_log2=4"});
    h.run([&](uapi::device& dev, workload_context&) {
        cmdbuf_builder ok;
        ok.nop();
        std::vector<uint32_t> seqs;
        for (int i = 0; i < 8; ++i) {
            int rc = 0;
            uint32_t s = submit(dev, ok.bytes(), 0, 0, &rc);
            while (rc == -EBUSY) {  // one record slot: wait for the oldest, then retry
                uapi::wait_args w;
                CHECK(wait_job(dev, seqs.front(), w) == 0);
                seqs.erase(seqs.begin());
                ++done;
                s = submit(dev, ok.bytes(), 0, 0, &rc);
            }
            seqs.push_back(s);
        }
        for (uint32_t s : seqs) {
            uapi::wait_args w;
            if (wait_job(dev, s, w) == 0) ++done;
        }
        CHECK(dev.drv().host().cpu.mmio_read32(dev.drv().host().bar0() + AAX_CQ_BASE(0) + AAX_CQ_OVERFLOWS, overflows));
    });
    REQUIRE(h.finished());
    REQUIRE(done == 8);
    REQUIRE(overflows == 0);
}

#ifdef ACCELVP_FIRMWARE_ELF  // built only when the rv32 cross compiler is installed
TEST_CASE("With a control core the driver boots the firmware through the handshake before any job", "[firmware][boot]") {
    uint32_t version = 0, status = 0, heartbeat = 0;
    std::string log;
    int rc = 1;
    harness h({"cpu.enabled=true"});
    h.run([&](uapi::device& dev, workload_context&) {
        auto& drv = dev.drv();
        version = drv.firmware_version();
        CHECK(drv.host().cpu.mmio_read32(drv.host().bar0() + AAX_REG_BOOT_STATUS, status));
        sc_core::wait(sc_core::sc_time(3, sc_core::SC_MS));  // three heartbeats at 1 ms
        CHECK(drv.host().cpu.mmio_read32(drv.host().bar0() + AAX_REG_HEARTBEAT, heartbeat));
        log = drv.firmware_log();
        cmdbuf_builder cb;
        cb.nop();
        uapi::wait_args w;
        rc = wait_job(dev, submit(dev, cb.bytes()), w);
    });
    REQUIRE(h.finished());
    REQUIRE(version == ((0u << 24) | (2u << 16) | 0u));
    REQUIRE(status == AAX_BOOT_READY);
    REQUIRE(heartbeat >= 3);
    REQUIRE(log.find("boot params ok, 4 rings") != std::string::npos);
    REQUIRE(log.find("ready") != std::string::npos);
    REQUIRE(rc == 0);
}

TEST_CASE("A firmware that does not report READY in time fails the probe with a timeout", "[firmware][boot][timeout]") {
    harness h({"cpu.enabled=true", "host.driver.boot_timeout_us=2"});
    bool body_ran = false;
    h.run([&](uapi::device&, workload_context&) { body_ran = true; });
    REQUIRE(h.finished());
    REQUIRE_FALSE(body_ran);
    REQUIRE(h.top().exit_code() != 0);
    REQUIRE(h.top().error().find("Connection timed out") != std::string::npos);
}

TEST_CASE("A missing firmware file fails the probe with a clear error", "[firmware][boot]") {
    harness h({"cpu.enabled=true", "host.driver.firmware=/nonexistent/fw.elf"});
    bool body_ran = false;
    h.run([&](uapi::device&, workload_context&) { body_ran = true; });
    REQUIRE(h.finished());
    REQUIRE_FALSE(body_ran);
    REQUIRE(h.top().error().find("driver probe failed") != std::string::npos);
}
#endif
