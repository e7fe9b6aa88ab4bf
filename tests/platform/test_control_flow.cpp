// JUMP / CALL / RET chain and nest command buffers; WREG writes registers from
// privileged rings only. Bad control transfers are errors, never hangs.
#include "abi/aax_sched.h"
#include "harness.h"

using namespace accelvp;
using namespace accelvp::test;

namespace {
// A device BO holding a command buffer.
buffer cmd_bo(uapi::device& dev, const std::vector<uint8_t>& b) {
    buffer bo = make_bo(dev, b.size(), uapi::BO_DEVICE);
    CHECK(bo.map->write(0, b.data(), b.size()) == 0);
    return bo;
}
uint32_t sem_value(uapi::device& dev, unsigned s) {
    uint32_t v = 0;
    CHECK(dev.drv().host().cpu.mmio_read32(dev.drv().host().bar0() + AAX_SEM(s), v));
    return v;
}
} // namespace

TEST_CASE("CALL runs a buffer and returns - nested - then JUMP continues elsewhere and RET ends the job",
          "[qman][control]") {
    // main: +1 (sem 3), CALL a, +100, JUMP c, +9999 (skipped)
    // a: +10, CALL b, +1000, RET, +9999 (skipped)      b: +20 (ends: implicit return)
    // c: +5, RET (top level: end), +9999 (skipped)
    uint32_t sem = 0;
    int rc = 1;
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        buffer b = cmd_bo(dev, cmdbuf_builder().sem_signal(3, 20).bytes());
        buffer a = cmd_bo(dev, cmdbuf_builder()
                                   .sem_signal(3, 10)
                                   .call(b.va(), 16)
                                   .sem_signal(3, 1000)
                                   .ret()
                                   .sem_signal(3, 9999)
                                   .bytes());
        buffer c = cmd_bo(dev, cmdbuf_builder().sem_signal(3, 5).ret().sem_signal(3, 9999).bytes());
        cmdbuf_builder main;
        main.sem_signal(3, 1).call(a.va(), 8 * (2 + 3 + 2 + 1 + 2)).sem_signal(3, 100).jump(c.va(), 8 * 5).sem_signal(3, 9999);
        uapi::wait_args w;
        rc = wait_job(dev, submit(dev, main.bytes()), w);
        sem = sem_value(dev, 3);
    });
    REQUIRE(h.finished());
    REQUIRE(rc == 0);
    REQUIRE(sem == 1 + 10 + 20 + 1000 + 100 + 5);
}

TEST_CASE("A JUMP loop and calls nested too deep are BAD_PARAM - the queue recovers", "[qman][control][errors]") {
    uint8_t loop_status = 0, deep_status = 0;
    uint32_t loop_offset = 99;
    int next_rc = 1;
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        // A buffer that jumps to itself.
        buffer self = make_bo(dev, 24, uapi::BO_DEVICE);
        const auto loop = cmdbuf_builder().jump(self.va(), 24).bytes();
        CHECK(self.map->write(0, loop.data(), loop.size()) == 0);
        uapi::wait_args w;
        wait_job(dev, submit(dev, cmdbuf_builder().nop().jump(self.va(), 24).bytes()), w);
        loop_status = w.status;
        loop_offset = w.err_offset;
        // A buffer that calls itself: the fifth nested CALL fails.
        buffer rec = make_bo(dev, 24, uapi::BO_DEVICE);
        const auto r = cmdbuf_builder().call(rec.va(), 24).bytes();
        CHECK(rec.map->write(0, r.data(), r.size()) == 0);
        wait_job(dev, submit(dev, cmdbuf_builder().call(rec.va(), 24).bytes()), w);
        deep_status = w.status;
        next_rc = wait_job(dev, submit(dev, cmdbuf_builder().nop().bytes()), w);
    });
    REQUIRE(h.finished());
    REQUIRE(loop_status == AAX_ERR_BAD_PARAM);
    REQUIRE(loop_offset == 0);  // in the looping buffer
    REQUIRE(deep_status == AAX_ERR_BAD_PARAM);
    REQUIRE(next_rc == 0);
}

TEST_CASE("A CALL to an unmapped or misaligned buffer fails at the CALL packet", "[qman][control][errors]") {
    uint8_t s1 = 0, s2 = 0;
    uint32_t off = 0;
    error_record rec;
    bool have_rec = false;
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        uapi::wait_args w;
        wait_job(dev, submit(dev, cmdbuf_builder().nop().call(1ull << 47, 64).bytes()), w);
        s1 = w.status;
        off = w.err_offset;
        have_rec = dev.last_error(rec) == 0;
        wait_job(dev, submit(dev, cmdbuf_builder().call(0x1004, 64).bytes()), w);
        s2 = w.status;
    });
    REQUIRE(h.finished());
    REQUIRE(s1 == AAX_ERR_BAD_ADDRESS);
    REQUIRE(off == 8);
    REQUIRE(have_rec);
    REQUIRE(rec.opcode == AAX_OP_CALL);
    REQUIRE(s2 == AAX_ERR_BAD_PARAM);
}

TEST_CASE("WREG writes a register from a privileged ring and is PRIV elsewhere", "[qman][wreg]") {
    uint8_t unpriv = 0, fw_window = 0;
    int priv_rc = 1;
    uint32_t sem = 0;
    harness h;
    h.run([&](uapi::device& dev, workload_context&) {
        auto& hs = dev.drv().host();
        uapi::wait_args w;
        wait_job(dev, submit(dev, cmdbuf_builder().wreg(AAX_SEM(6), 77).bytes(), 1), w);
        unpriv = w.status;
        // The kernel driver marks ring 2 privileged.
        CHECK(hs.cpu.mmio_write32(hs.bar0() + AAX_RING_BASE(2) + AAX_RING_CTRL,
                                  AAX_RING_CTRL_EN | AAX_RING_CTRL_PRIV | (2u << AAX_RING_CTRL_CQ_SHIFT)));
        priv_rc = wait_job(dev, submit(dev, cmdbuf_builder().wreg(AAX_SEM(6), 77).bytes(), 2), w);
        sem = sem_value(dev, 6);
        wait_job(dev, submit(dev, cmdbuf_builder().wreg(AAX_FW_INT_ENABLE, 0).bytes(), 2), w);
        fw_window = w.status;
    });
    REQUIRE(h.finished());
    REQUIRE(unpriv == AAX_ERR_PRIV);
    REQUIRE(priv_rc == 0);
    REQUIRE(sem == 77);
    REQUIRE(fw_window == AAX_ERR_PRIV);
}
