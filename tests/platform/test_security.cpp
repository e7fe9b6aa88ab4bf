// Isolation probes (docs/security.md): each test mounts one attack of issue 16 through the
// user API and the driver model, as a tenant (an ordinary file in its own address space)
// or as a physical job, on a chip with `mmu.enabled=true`, and checks that the device
// refuses it with a recorded error (the job's completion status, the error record that
// the error interrupt delivered to the driver, the MMU fault record) and that the victim
// -- a register, the firmware image, another context's page, cluster SRAM -- is unchanged.
#include <cerrno>
#include <cstring>

#include "abi/aax_boot.h"
#include "abi/aax_mmu.h"
#include "abi/aax_queue.h"
#include "abi/aax_sched.h"
#include "harness.h"
#include "tlm/core/stats.h"
#include "tlm/pcie/pci_config.h"
#include "vm_helpers.h"

using namespace accelvp;
using namespace accelvp::test;

namespace {

const std::vector<std::string> with_mmu = {"mmu.enabled=true"};
constexpr uint64_t VA_A = 0x10'0000'0000ull, VA_B = 0x20'0000'0000ull;


uint32_t bar0_read(uapi::device& dev, uint32_t off) {
    auto& hs = dev.drv().host();
    uint32_t v = 0;
    CHECK(hs.cpu.mmio_read32(hs.bar0() + off, v));
    return v;
}

// Runs one job (physical on `dev` unless vm != 0) and returns its status; err gets the
// error record the driver read on the error interrupt (code 0 if none).
uint8_t run_job(uapi::device& dev, const cmdbuf_builder& cb, error_record& err, uint32_t vm = 0, uint32_t queue = 0) {
    uapi::wait_args w;
    const uint32_t seq = vm ? submit_vm(dev, cb.bytes(), vm, queue) : submit(dev, cb.bytes(), queue);
    wait_job(dev, seq, w);
    err = error_record{};
    // The error interrupt's record may be read after the fence was signalled (an MMU fault's
    // interrupt can drain the CQ first): give the driver up to 100 us to read it.
    for (int i = 0; w.status != AAX_OK && i < 100 && !(dev.last_error(err) == 0 && err.job_id == seq); ++i)
        sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));
    if (w.status != AAX_OK) CHECK(err.job_id == seq);
    return w.status;
}

// A tenant: an ordinary (unprivileged) file with one address space.
struct tenant {
    std::unique_ptr<uapi::device> dev;
    uint32_t vm = 0;
    explicit tenant(uapi::device& host) {
        int err = 1;
        dev = uapi::device::open(host.drv(), &err);
        CHECK(err == 0);
        CHECK(!dev->privileged());
        vm = new_vm(*dev);
    }
};

} // namespace

TEST_CASE("A job's MSG through the host window into its own BAR0 is refused: no PRIV, no MMU invalidate",
          "[security][pcie]") {
    harness h(with_mmu);
    uint8_t st_priv = 0, st_wreg = 0, st_inv = 0, st_after = 0xFF;
    error_record e_priv, e_inv;
    uint32_t ctrl_before = 0, ctrl_after = 1, scratch = 1;
    uint64_t target_priv = 0, target_inv = 0, inv_before = 0, inv_after = 1, refused = 0;
    h.run([&](uapi::device& dev, workload_context&) {
        auto& hs = dev.drv().host();
        const uint64_t bar0_via_host = dev.drv().info().host_window + hs.bar0();  // the device's view of its BAR0
        ctrl_before = bar0_read(dev, AAX_RING_BASE(0) + AAX_RING_CTRL);
        // 1. Set ring 0's PRIV bit by a looped-back MSG, then try a WREG on it.
        target_priv = bar0_via_host + AAX_RING_BASE(0) + AAX_RING_CTRL;
        st_priv = run_job(dev, cmdbuf_builder().msg(target_priv, ctrl_before | AAX_RING_CTRL_PRIV), e_priv);
        ctrl_after = bar0_read(dev, AAX_RING_BASE(0) + AAX_RING_CTRL);
        error_record e;
        st_wreg = run_job(dev, cmdbuf_builder().wreg(AAX_REG_SCRATCH, 0x5EC0DE), e);
        scratch = bar0_read(dev, AAX_REG_SCRATCH);
        // 2. An MMU invalidate-all the same way.
        inv_before = stat_u64("board.chip.mmu", "invalidations");
        target_inv = bar0_via_host + AAX_REG_MMU_TLB_INV;
        st_inv = run_job(dev, cmdbuf_builder().msg(target_inv, AAX_MMU_INV_ALL << AAX_MMU_INV_OP_SHIFT), e_inv);
        inv_after = stat_u64("board.chip.mmu", "invalidations");
        refused = stat_u64("board.chip.pcie", "loopback_refused");
        st_after = run_job(dev, cmdbuf_builder().nop(), e);  // the ring serves again
    });
    REQUIRE(h.finished());
    REQUIRE(st_priv == AAX_ERR_BAD_ADDRESS);
    REQUIRE(e_priv.code == AAX_ERR_BAD_ADDRESS);
    REQUIRE(e_priv.opcode == AAX_OP_MSG);
    REQUIRE(e_priv.addr == target_priv);
    REQUIRE(ctrl_after == ctrl_before);
    REQUIRE((ctrl_after & AAX_RING_CTRL_PRIV) == 0);
    REQUIRE(st_wreg == AAX_ERR_PRIV);
    REQUIRE(scratch != 0x5EC0DE);
    REQUIRE(st_inv == AAX_ERR_BAD_ADDRESS);
    REQUIRE(e_inv.addr == target_inv);
    REQUIRE(inv_after == inv_before);
    REQUIRE(refused == 2);
    REQUIRE(st_after == AAX_OK);
}

TEST_CASE("Peer-to-self loopback is refused with the hardware scheduler too, for BAR0 and BAR2", "[security][pcie]") {
    harness h({"mmu.enabled=true", "cpu.enabled=false"});
    uint8_t st_bar0 = 0, st_bar2 = 0;
    error_record e0, e2;
    uint32_t mask_before = 0, mask_after = 1;
    uint64_t src_via_host = 0, refused = 0;
    std::vector<uint8_t> dst_before, dst_after;
    h.run([&](uapi::device& dev, workload_context&) {
        auto& hs = dev.drv().host();
        const uint64_t win = dev.drv().info().host_window;
        mask_before = bar0_read(dev, AAX_REG_IRQ_MASK);
        st_bar0 = run_job(dev, cmdbuf_builder().msg(win + hs.bar0() + AAX_REG_IRQ_MASK, 0xFFFFFFFFu), e0);
        mask_after = bar0_read(dev, AAX_REG_IRQ_MASK);
        // A DMA reading device memory back through the host's BAR2 window.
        buffer src = make_bo(dev, 4096, uapi::BO_DEVICE);
        buffer dst = make_bo(dev, 4096, uapi::BO_DEVICE);
        const std::vector<uint8_t> p = pattern(4096, 7);
        CHECK(src.map->write(0, p.data(), p.size()) == 0);
        dst_before = peek(dst, 0, 4096);
        src_via_host = win + dev.drv().device_to_bar2(src.va());
        st_bar2 = run_job(dev, cmdbuf_builder().copy(src_via_host, dst.va(), 4096), e2);
        dst_after = peek(dst, 0, 4096);
        refused = stat_u64("board.chip.pcie", "loopback_refused");
    });
    REQUIRE(h.finished());
    REQUIRE(st_bar0 == AAX_ERR_BAD_ADDRESS);
    REQUIRE(e0.code == AAX_ERR_BAD_ADDRESS);
    REQUIRE(mask_after == mask_before);
    REQUIRE(st_bar2 == AAX_ERR_BAD_ADDRESS);
    REQUIRE(e2.opcode == AAX_OP_DMA);
    REQUIRE(e2.addr == src_via_host);
    REQUIRE(dst_after == dst_before);
    REQUIRE(refused == 2);
}

TEST_CASE("A job cannot mask the firmware's interrupts or move its bus window (firmware.md)", "[security][firmware]") {
    harness h(with_mmu);
    uint8_t st[4] = {};
    uint32_t mask_before = 0, mask_after = 1, win_before = 0, win_after = 1;
    uint64_t jobs_before = 0, jobs_after = 0;
    uint8_t st_after = 0xFF;
    h.run([&](uapi::device& dev, workload_context&) {
        auto& hs = dev.drv().host();
        const uint64_t via_host = dev.drv().info().host_window + hs.bar0();
        const uint64_t direct = h.cfg().get_uint("addr.regs_base");
        mask_before = bar0_read(dev, AAX_REG_IRQ_MASK);
        win_before = bar0_read(dev, AAX_REG_CORE_WIN_LO);
        jobs_before = stat_u64("board.chip.qman", "eq_cmdbufs");
        error_record e;
        unsigned i = 0;
        for (uint64_t base : {via_host, direct}) {
            st[i++] = run_job(dev, cmdbuf_builder().msg(base + AAX_REG_IRQ_MASK, 0xFFFFFFFFu), e);
            st[i++] = run_job(dev, cmdbuf_builder().fence(base + AAX_REG_CORE_WIN_LO, 0x4000'0000), e);
        }
        mask_after = bar0_read(dev, AAX_REG_IRQ_MASK);
        win_after = bar0_read(dev, AAX_REG_CORE_WIN_LO);
        st_after = run_job(dev, cmdbuf_builder().nop(), e);  // completes only with interrupts and the firmware intact
        jobs_after = stat_u64("board.chip.qman", "eq_cmdbufs");
    });
    REQUIRE(h.finished());
    for (uint8_t s : st) REQUIRE(s == AAX_ERR_BAD_ADDRESS);
    REQUIRE(mask_after == mask_before);
    REQUIRE(win_after == win_before);
    REQUIRE(st_after == AAX_OK);
    REQUIRE(jobs_after == jobs_before + 5);
}

TEST_CASE("The firmware region is closed to jobs: DMA fill, DMA read, FENCE and MSG are refused", "[security][firmware]") {
    harness h(with_mmu);
    std::vector<uint8_t> image_before, image_after, leak_before, leak_after;
    uint8_t st_fill = 0, st_read = 0, st_fence = 0, st_msg = 0, st_after = 0xFF;
    error_record e_fill, e_read;
    uint64_t fw_base = 0, refused = 0;
    h.run([&](uapi::device& dev, workload_context&) {
        auto& hs = dev.drv().host();
        fw_base = dev.drv().info().devmem_base;
        image_before.resize(4096);
        CHECK(hs.cpu.peek(hs.bar2(), image_before.data(), 4096));
        buffer out = make_bo(dev, 4096, uapi::BO_DEVICE);
        leak_before = peek(out, 0, 4096);
        error_record e;
        st_fill = run_job(dev, cmdbuf_builder().fill(fw_base, 64, 1, 64, 0), e_fill);  // one burst each
        st_read = run_job(dev, cmdbuf_builder().copy(fw_base, out.va(), 64), e_read);
        st_fence = run_job(dev, cmdbuf_builder().fence(fw_base + 64, 0x13), e);
        st_msg = run_job(dev, cmdbuf_builder().msg(fw_base + AAX_FW_REGION_SIZE - 4, 0x13), e);
        image_after.resize(4096);
        CHECK(hs.cpu.peek(hs.bar2(), image_after.data(), 4096));
        leak_after = peek(out, 0, 4096);
        refused = h.top().soc.devmem_guard ? h.top().soc.devmem_guard->refused() : 0;
        st_after = run_job(dev, cmdbuf_builder().nop(), e);  // the firmware still schedules
    });
    REQUIRE(h.finished());
    REQUIRE(st_fill == AAX_ERR_BAD_ADDRESS);
    REQUIRE(e_fill.opcode == AAX_OP_DMA);
    REQUIRE(e_fill.addr == fw_base);
    REQUIRE(st_read == AAX_ERR_BAD_ADDRESS);
    REQUIRE(e_read.addr == fw_base);
    REQUIRE(st_fence == AAX_ERR_BAD_ADDRESS);
    REQUIRE(st_msg == AAX_ERR_BAD_ADDRESS);
    REQUIRE(image_after == image_before);
    REQUIRE(leak_after == leak_before);
    REQUIRE(refused == 4);
    REQUIRE(st_after == AAX_OK);
}

TEST_CASE("FENCE, MSG and JUMP addresses go through the job's context: another context's page is unreachable",
          "[security][vm]") {
    harness h(with_mmu);
    std::vector<uint8_t> victim_want, victim_got;
    uint8_t st_own = 0xFF, st_fence = 0, st_msg = 0, st_jump = 0;
    error_record e_fence;
    mmu_fault f_msg;
    uint64_t own = 0, victim_pa = 0;
    uint32_t vm_a = 0;
    unsigned engines = 0;
    h.run([&](uapi::device& dev, workload_context&) {
        tenant a(dev), b(dev);
        vm_a = a.vm;
        engines = dev.drv().info().dma_engines;
        buffer mine = make_bo(*a.dev, 4096, uapi::BO_DEVICE);
        bind(*a.dev, a.vm, mine, VA_A, 4096);
        buffer victim = make_bo(*b.dev, 4096, uapi::BO_DEVICE);
        bind(*b.dev, b.vm, victim, VA_B, 4096);
        victim_want = pattern(4096, 11);
        CHECK(victim.map->write(0, victim_want.data(), 4096) == 0);
        victim_pa = victim.va();  // the bus address of B's page (worst case: A knows it)
        // A's FENCE into its own VA lands in its own BO.
        error_record e;
        st_own = run_job(*a.dev, cmdbuf_builder().fence(VA_A + 8, 0x1122334455667788ull), e, a.vm);
        CHECK(mine.map->peek(8, &own, 8) == 0);
        // The same packets aimed at B's page (by bus address, and by B's VA) fault in A's context.
        st_fence = run_job(*a.dev, cmdbuf_builder().fence(victim_pa, 0xBAD).fence(VA_B, 0xBAD), e_fence, a.vm);
        st_msg = run_job(*a.dev, cmdbuf_builder().msg(VA_B + 4, 0xBAD), e, a.vm);
        CHECK(dev.last_mmu_fault(f_msg) == 0);
        // B's command buffer by bus address: JUMP targets are translated too.
        buffer b_cmds = make_bo(*b.dev, 64, uapi::BO_DEVICE);
        const auto fill_b = cmdbuf_builder().fill(VA_B, 4096, 1, 4096, 0);
        CHECK(b_cmds.map->write(0, fill_b.bytes().data(), fill_b.size()) == 0);
        st_jump = run_job(*a.dev, cmdbuf_builder().jump(b_cmds.va(), fill_b.size()), e, a.vm);
        victim_got = peek(victim, 0, 4096);
    });
    REQUIRE(h.finished());
    REQUIRE(st_own == AAX_OK);
    REQUIRE(own == 0x1122334455667788ull);
    REQUIRE(st_fence == AAX_ERR_MMU_FAULT);
    REQUIRE(e_fence.code == AAX_ERR_MMU_FAULT);
    REQUIRE(e_fence.opcode == AAX_OP_FENCE);
    REQUIRE(e_fence.offset == 0);
    REQUIRE(st_msg == AAX_ERR_MMU_FAULT);
    REQUIRE(f_msg.asid == vm_a);
    REQUIRE(f_msg.va == VA_B + 4);
    REQUIRE(f_msg.type == AAX_MMU_FAULT_NOT_PRESENT);
    REQUIRE(f_msg.access == AAX_MMU_ACC_WRITE);
    REQUIRE(f_msg.port == engines);  // the queue manager's port, after the DMA engines'
    REQUIRE(st_jump == AAX_ERR_MMU_FAULT);
    REQUIRE(victim_got == victim_want);
}

TEST_CASE("Tenants cannot submit physical jobs or descriptor fences, and the driver pins rings to contexts",
          "[security][vm][driver]") {
    harness h(with_mmu);
    int rc_phys = 0, rc_fence = 0, rc_other = 0, rc_priv = 1;
    uint32_t asid_a = 0, asid_b = 0, asid_kernel = 1, vm_a = 0, vm_b = 0;
    uint8_t st_a = 0xFF, st_b = 0xFF, st_forged_err = 0;
    error_record forged;
    std::vector<uint8_t> victim_want, victim_got;
    h.run([&](uapi::device& dev, workload_context&) {
        tenant a(dev), b(dev);
        vm_a = a.vm;
        vm_b = b.vm;
        buffer victim = make_bo(*b.dev, 4096, uapi::BO_DEVICE);
        bind(*b.dev, b.vm, victim, VA_B, 4096);
        victim_want = pattern(4096, 12);
        CHECK(victim.map->write(0, victim_want.data(), 4096) == 0);
        buffer loot = make_bo(*a.dev, 4096, uapi::BO_DEVICE);
        bind(*a.dev, a.vm, loot, VA_A, 4096);
        // A physical job reading B's page, a descriptor fence, another file's address space.
        const auto steal = cmdbuf_builder().copy(victim.va(), loot.va(), 4096);
        buffer cb = make_bo(*a.dev, steal.size(), uapi::BO_DEVICE);
        CHECK(cb.map->write(0, steal.bytes().data(), steal.size()) == 0);
        uapi::submit_args s;
        s.cmdbuf_handle = cb.args.handle;
        s.cmdbuf_size = steal.size();
        rc_phys = a.dev->submit(s);
        s.vm_id = a.vm;
        s.flags = AAX_JOB_WRITE_FENCE;
        rc_fence = a.dev->submit(s);
        s.flags = 0;
        s.vm_id = b.vm;
        rc_other = a.dev->submit(s);
        // The driver pins ring 0 to each context in turn, and back to the kernel for a physical job.
        error_record e;
        st_a = run_job(*a.dev, cmdbuf_builder().fill(VA_A, 64, 1, 64, 0x01010101), e, a.vm);
        asid_a = bar0_read(dev, AAX_RING_BASE(0) + AAX_RING_ASID);
        st_b = run_job(*b.dev, cmdbuf_builder().nop(), e, b.vm);
        asid_b = bar0_read(dev, AAX_RING_BASE(0) + AAX_RING_ASID);
        rc_priv = run_job(dev, cmdbuf_builder().nop(), e);
        asid_kernel = bar0_read(dev, AAX_RING_BASE(0) + AAX_RING_ASID);
        // The device enforces the pin: a descriptor of context A forged into ring 1 while the
        // driver has it pinned to B is refused (BAD_ASID) and reported.
        st_b = run_job(*b.dev, cmdbuf_builder().nop(), e, b.vm, 1);
        auto& hs = dev.drv().host();
        const uint64_t ring = bar0_read(dev, AAX_RING_BASE(1) + AAX_RING_BASE_LO) |
                              static_cast<uint64_t>(bar0_read(dev, AAX_RING_BASE(1) + AAX_RING_BASE_HI)) << 32;
        const uint32_t tail = bar0_read(dev, AAX_RING_BASE(1) + AAX_RING_TAIL);
        const uint32_t entries = 1u << bar0_read(dev, AAX_RING_BASE(1) + AAX_RING_SIZE_LOG2);
        aax_job_desc d{};
        d.cmdbuf_addr = cb.va();
        d.cmdbuf_size = steal.size();
        d.job_id = 0xF0F0;
        d.asid = static_cast<uint16_t>(a.vm);
        CHECK(hs.cpu.mmio_write(dev.drv().device_to_bar2(ring + static_cast<uint64_t>(tail) * AAX_JOB_DESC_SIZE), &d,
                                sizeof(d)));
        CHECK(hs.cpu.mmio_write32(hs.bar0() + AAX_DOORBELL(1), (tail + 1) % entries));
        sc_core::wait(sc_core::sc_time(50, sc_core::SC_US));
        CHECK(dev.last_error(forged) == 0);
        st_forged_err = forged.code;
        victim_got = peek(victim, 0, 4096);
    });
    REQUIRE(h.finished());
    REQUIRE(rc_phys == -EPERM);
    REQUIRE(rc_fence == -EPERM);
    REQUIRE(rc_other == -ENOENT);
    REQUIRE(st_a == AAX_OK);
    REQUIRE(asid_a == vm_a);
    REQUIRE(st_b == AAX_OK);
    REQUIRE(asid_b == vm_b);
    REQUIRE(rc_priv == AAX_OK);
    REQUIRE(asid_kernel == 0);
    REQUIRE(st_forged_err == AAX_ERR_BAD_ASID);
    REQUIRE(forged.ring == 1);
    REQUIRE(forged.job_id == 0xF0F0);
    REQUIRE(victim_got == victim_want);
}

TEST_CASE("Compute and collective packets need a physical job: a tenant cannot touch cluster SRAM", "[security][compute]") {
    harness h(with_mmu);
    uint8_t st_vec = 0, st_gemm = 0, st_coll = 0, st_load = 0xFF, st_back = 0xFF;
    std::vector<uint8_t> sram_want, sram_got;
    h.run([&](uapi::device& dev, workload_context&) {
        const uint64_t sram = h.top().soc.sram_addr(0);
        // The kernel (a physical job) leaves data in cluster 0's SRAM.
        buffer in = make_bo(dev, 4096, uapi::BO_DEVICE);
        buffer out = make_bo(dev, 4096, uapi::BO_DEVICE);
        sram_want = pattern(4096, 13);
        CHECK(in.map->write(0, sram_want.data(), 4096) == 0);
        error_record e;
        st_load = run_job(dev, cmdbuf_builder().copy(in.va(), sram, 4096), e);
        // A tenant tries to overwrite it with VEC and GEMM, and to send it over a link.
        tenant a(dev);
        aax_pkt_vec v{};
        v.cluster = 0;
        v.op = AAX_VEC_ADD;
        v.dtype = v.dtype_out = AAX_DT_FP32;
        v.rows = 1;
        v.cols = 256;
        v.src0 = 0;
        v.src1 = 0;
        v.dst = 0;
        st_vec = run_job(*a.dev, cmdbuf_builder().vec(v), e, a.vm);
        aax_pkt_gemm g{};
        g.cluster = 0;
        g.dtype_in = g.dtype_out = AAX_DT_FP32;
        g.m = g.n = g.k = 8;
        st_gemm = run_job(*a.dev, cmdbuf_builder().gemm(g), e, a.vm);
        aax_pkt_coll c{};
        c.hdr = cmdbuf_builder::hdr(AAX_OP_COLL, AAX_PKT_COLL_QW, AAX_COLL_PARAM(AAX_COLL_RDMA_WRITE, 0, 0));
        c.local_addr = sram;
        c.remote_addr = 0;
        c.bytes = 4096;
        st_coll = run_job(*a.dev, cmdbuf_builder().raw(c), e, a.vm);
        st_back = run_job(dev, cmdbuf_builder().copy(sram, out.va(), 4096), e);
        sram_got = peek(out, 0, 4096);
    });
    REQUIRE(h.finished());
    REQUIRE(st_load == AAX_OK);
    REQUIRE(st_vec == AAX_ERR_PRIV);
    REQUIRE(st_gemm == AAX_ERR_PRIV);
    REQUIRE(st_coll == AAX_ERR_PRIV);
    REQUIRE(st_back == AAX_OK);
    REQUIRE(sram_got == sram_want);
}

TEST_CASE("A command buffer freed while its job waits keeps its memory until the job ends", "[security][driver]") {
    // Job L blocks ring 0 on a semaphore; job A (a copy, command buffer in device memory) waits
    // behind it; the file frees A's BO and allocates one the same size filled with 0xFF. The
    // device reads command buffers by bus address: had the new BO taken A's memory, A would run
    // 0xFF bytes (BAD_LENGTH). The driver holds the memory until A is signalled.
    harness h;
    int rc_free = 1, rc_a = 1;
    uint64_t a_va = 0, next_va = 0, after_va = 0;
    bool pending_at_free = false;
    std::vector<uint8_t> want, got;
    h.run([&](uapi::device& dev, workload_context&) {
        buffer src = make_bo(dev, 4096, uapi::BO_DEVICE), dst = make_bo(dev, 4096, uapi::BO_DEVICE);
        want = pattern(4096, 5);
        CHECK(src.map->write(0, want.data(), 4096) == 0);
        const uint32_t seq_l = submit(dev, cmdbuf_builder().sem_wait(9, 1).bytes());
        const auto copy = cmdbuf_builder().copy(src.va(), dst.va(), 4096);
        buffer cb = make_bo(dev, 4096, uapi::BO_DEVICE);
        CHECK(cb.map->write(0, copy.bytes().data(), copy.size()) == 0);
        uapi::submit_args s;
        s.cmdbuf_handle = cb.args.handle;
        s.cmdbuf_size = copy.size();
        CHECK(dev.submit(s) == 0);
        a_va = cb.va();
        pending_at_free = dev.drv().is_pending(s.seq);
        rc_free = dev.bo_free(cb.args.handle);
        buffer next = make_bo(dev, 4096, uapi::BO_DEVICE);
        next_va = next.va();
        const std::vector<uint8_t> junk(4096, 0xFF);
        CHECK(next.map->write(0, junk.data(), 4096) == 0);
        CHECK(dev.drv().host().cpu.mmio_write32(dev.drv().host().bar0() + AAX_SEM_ADD(9), 1));
        uapi::wait_args w;
        CHECK(wait_job(dev, seq_l, w) == 0);
        rc_a = wait_job(dev, s.seq, w);
        got = peek(dst, 0, 4096);
        // Signalled now: the next allocation may take A's memory again.
        CHECK(dev.bo_free(next.args.handle) == 0);
        buffer after = make_bo(dev, 4096, uapi::BO_DEVICE);
        after_va = after.va();
    });
    REQUIRE(h.finished());
    REQUIRE(pending_at_free);
    REQUIRE(rc_free == 0);
    REQUIRE(next_va != a_va);
    REQUIRE(rc_a == 0);
    REQUIRE(got == want);
    REQUIRE(after_va == a_va);
}

TEST_CASE("A forged completion record ahead of the device's is left in place: the next job's record is seen",
          "[security][driver]") {
    // A physical job DMAs a record into the slot after its own in CQ 0 (host memory): first one
    // naming a job never submitted, then one naming a job long completed. Neither is the
    // device's (its producer index has not reached the slot), so the driver leaves it; the
    // device's record for the next job goes over it and that job's wait returns. Taking the
    // forged record would have moved the head past the slot the device writes next.
    harness h;
    std::vector<int> rc_next;
    uint64_t bogus = 0;
    h.run([&](uapi::device& dev, workload_context&) {
        uapi::wait_args w;
        const uint32_t old_seq = submit(dev, cmdbuf_builder().nop().bytes());
        CHECK(wait_job(dev, old_seq, w) == 0);
        const uint64_t cq = bar0_read(dev, AAX_CQ_BASE(0) + AAX_CQ_BASE_LO) |
                            static_cast<uint64_t>(bar0_read(dev, AAX_CQ_BASE(0) + AAX_CQ_BASE_HI)) << 32;
        const uint32_t entries = 1u << bar0_read(dev, AAX_CQ_BASE(0) + AAX_CQ_SIZE_LOG2);
        for (uint32_t forged_id : {0x7FFFFFF0u, old_seq}) {
            const uint32_t tail = bar0_read(dev, AAX_CQ_BASE(0) + AAX_CQ_TAIL);
            REQUIRE(tail + 2 < entries);  // no wrap: the first pass's phase
            aax_cq_entry e{};
            e.job_id = forged_id;
            e.flags = AAX_CQE_PHASE;
            buffer rec = make_bo(dev, sizeof(e), uapi::BO_DEVICE);
            CHECK(rec.map->write(0, &e, sizeof(e)) == 0);
            // The forging job's own record goes to slot `tail`, the forged one after it.
            CHECK(wait_job(dev, submit(dev, cmdbuf_builder().copy(rec.va(), cq + (tail + 1) * AAX_CQ_ENTRY_SIZE,
                                                                  sizeof(e)).bytes()), w) == 0);
            rc_next.push_back(wait_job(dev, submit(dev, cmdbuf_builder().nop().bytes()), w, 1000.0));
        }
        bogus = dev.drv().bogus_records();
    });
    REQUIRE(h.finished());
    REQUIRE(rc_next == std::vector<int>{0, 0});
    REQUIRE(bogus >= 2);
}

TEST_CASE("A config-space access at an offset near 4 GiB is refused, not wrapped past the bounds check", "[security][pcie]") {
    // fuzz_qemu_bridge finding 4: off + len wrapped to a small number for off = 0xFFFFFFFE.
    pci_config cfg(256ull << 20, 3, false);
    uint32_t v = 0;
    for (uint32_t off : {0xFFFFFFFEu, 0xFFFFFFFCu, 0xFFFFFFFFu}) {
        const unsigned len = off % 4 ? (off % 2 ? 1 : 2) : 4;
        CHECK_FALSE(cfg.read(off, len, v));
        CHECK(v == 0xFFFFFFFFu);
        CHECK_FALSE(cfg.write(off, len, 0x12345678u));
    }
    CHECK(cfg.read(0, 4, v));  // the ID registers still read
    CHECK(v != 0xFFFFFFFFu);
}

TEST_CASE("A job's timeout fires during the fetch of a large command buffer, not after it", "[security][qman]") {
    // A JUMP into 8 MiB of host memory: over PCIe the fetch takes milliseconds. The job's
    // 10 us timeout is checked between fetch chunks, so it fails within a few chunk times;
    // fetched in one read, it failed only after the whole read (651 us here; 9 MiB on the
    // fuzz harness's edge chip took past its 2 ms limit: fuzz_cmdbuf finding 5).
    harness h;
    uint8_t status = 0xFF;
    double elapsed_us = 0;
    h.run([&](uapi::device& dev, workload_context&) {
        constexpr uint32_t big = 8u << 20;
        buffer target = make_bo(dev, big, uapi::BO_HOST);
        const sc_core::sc_time t0 = sc_core::sc_time_stamp();
        const uint32_t seq = submit(dev, cmdbuf_builder().jump(target.va(), big).bytes(), 0, 10);
        uapi::wait_args w;
        wait_job(dev, seq, w, 5000.0);
        status = w.status;
        elapsed_us = (sc_core::sc_time_stamp() - t0).to_seconds() * 1e6;
    });
    REQUIRE(h.finished());
    REQUIRE(status == AAX_ERR_TIMEOUT);
    INFO("submit to signalled: " << elapsed_us << " us");
    REQUIRE(elapsed_us < 200.0);
}
