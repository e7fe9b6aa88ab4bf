// The MMU with several DMA engines (dma.engines > 1): every engine has its own MMU port
// (TLB + walker) sharing contexts and the fault record. Jobs on rings mapped to different
// engines translate correctly, a fault on one engine stops only its ring, an invalidation
// (driver register writes, or WREG packets on a privileged ring) reaches every TLB.
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "abi/aax_mmu.h"
#include "harness.h"
#include "vm_helpers.h"

using namespace accelvp;
using namespace accelvp::test;

namespace {

constexpr uint64_t VA_SRC = 0x10'0000'0000ull, VA_DST = 0x20'0000'0000ull;

std::vector<std::string> mmu_engines(unsigned n) { return {"mmu.enabled=true", fmt::format("dma.engines={}", n)}; }

uint64_t port_stat(harness& h, unsigned port) { return h.top().soc.mmu0->port(port).get_tlb().misses.get(); }

// Bus address of the level-3 PTE mapping va in the context rooted at `root` (a backdoor
// walk of the driver's tables in device memory; the test plays a kernel that edits them).
uint64_t pte_addr(harness& h, uint64_t root, uint64_t va) {
    chip& c = h.top().soc;
    const uint64_t base = h.cfg().get_uint("addr.devmem_base");
    uint64_t table = root;
    for (unsigned level = 0; level < 3; ++level) {
        uint64_t pte = 0;
        const uint64_t a = table + 8ull * AAX_MMU_INDEX(va, level) - base;
        c.devmem->store().read(a, &pte, 8);
        table = pte & AAX_PTE_ADDR_MASK;
    }
    return table + 8ull * AAX_MMU_INDEX(va, 3);
}

// The three WREGs of an invalidation of (asid, va) in every TLB.
cmdbuf_builder& wreg_invalidate(cmdbuf_builder& cb, uint32_t asid, uint64_t va) {
    return cb.wreg(AAX_REG_MMU_TLB_INV_VA_LO, static_cast<uint32_t>(va))
        .wreg(AAX_REG_MMU_TLB_INV_VA_HI, static_cast<uint32_t>(va >> 32))
        .wreg(AAX_REG_MMU_TLB_INV, asid | AAX_MMU_INV_VA << AAX_MMU_INV_OP_SHIFT);
}

} // namespace

TEST_CASE("VM jobs on four DMA engines translate through their own TLBs bit-exact", "[vm][engines]") {
    harness h(mmu_engines(4));
    constexpr uint64_t n = 256 << 10;  // 64 pages of 4 KiB each way
    std::vector<std::vector<uint8_t>> want(4), got(4);
    std::vector<int> rc(4, 1);
    h.run([&](uapi::device& dev, workload_context&) {
        std::vector<buffer> src, dst;
        std::vector<uint32_t> seq(4);
        for (unsigned q = 0; q < 4; ++q) {
            // The same VAs name different memory in each context.
            const uint32_t vm = new_vm(dev);
            src.push_back(make_bo(dev, n, uapi::BO_DEVICE));
            dst.push_back(make_bo(dev, n, uapi::BO_DEVICE));
            want[q] = pattern(n, 40 + q);
            CHECK(src[q].map->write(0, want[q].data(), n) == 0);
            bind(dev, vm, src[q], VA_SRC, n, uapi::VM_READ | uapi::VM_4K_ONLY);
            bind(dev, vm, dst[q], VA_DST, n, uapi::VM_READ | uapi::VM_WRITE | uapi::VM_4K_ONLY);
            cmdbuf_builder cb;
            cb.copy(VA_SRC, VA_DST, n);
            seq[q] = submit_vm(dev, cb.bytes(), vm, q);  // ring q runs on engine q
        }
        for (unsigned q = 0; q < 4; ++q) {
            uapi::wait_args w;
            rc[q] = wait_job(dev, seq[q], w);
            got[q] = peek(dst[q], 0, n);
        }
    });
    REQUIRE(h.finished());
    for (unsigned q = 0; q < 4; ++q) {
        INFO("queue " << q);
        REQUIRE(rc[q] == 0);
        REQUIRE(got[q] == want[q]);
        // Each engine's own TLB walked the 64 + 64 pages of its context once (4 KiB bursts:
        // one translation per page), and no other engine's work landed in it.
        REQUIRE(port_stat(h, q) == 128);
    }
}

TEST_CASE("VM fault on engine 1 stops only its ring while another context on engine 0 completes",
          "[vm][engines][fault]") {
    harness h(mmu_engines(2));
    int bad_rc = 1, good_rc = 1, again_rc = 1;
    uint8_t bad_status = 0;
    mmu_fault f;
    error_record err;
    uint32_t vm_a = 0;
    std::vector<uint8_t> want, got, again, a_data;
    h.run([&](uapi::device& dev, workload_context&) {
        vm_a = new_vm(dev);
        const uint32_t vm_b = new_vm(dev);
        buffer a_buf = make_bo(dev, 4096, uapi::BO_DEVICE);
        a_data = pattern(4096, 8);
        CHECK(a_buf.map->write(0, a_data.data(), 4096) == 0);
        bind(dev, vm_a, a_buf, VA_SRC, 4096);
        buffer src = make_bo(dev, 1 << 20, uapi::BO_DEVICE), dst = make_bo(dev, 1 << 20, uapi::BO_DEVICE);
        want = pattern(1 << 20, 7);
        CHECK(src.map->write(0, want.data(), want.size()) == 0);
        bind(dev, vm_b, src, VA_SRC, 1 << 20);
        bind(dev, vm_b, dst, VA_DST, 1 << 20);
        cmdbuf_builder good, bad;
        good.copy(VA_SRC, VA_DST, 1 << 20);
        bad.copy(VA_SRC, VA_DST + 0x5000, 64);  // context A has nothing at VA_DST
        const uint32_t good_seq = submit_vm(dev, good.bytes(), vm_b, 0);  // engine 0
        const uint32_t bad_seq = submit_vm(dev, bad.bytes(), vm_a, 1);    // engine 1
        uapi::wait_args wb, wg, w3;
        bad_rc = wait_job(dev, bad_seq, wb);
        bad_status = wb.status;
        good_rc = wait_job(dev, good_seq, wg);
        got = peek(dst, 0, 1 << 20);
        CHECK(dev.last_mmu_fault(f) == 0);
        CHECK(dev.last_error(err) == 0);
        // Ring 1 was recovered: the next job of context A on engine 1 runs.
        again_rc = copy_in(dev, vm_a, VA_SRC, VA_SRC + 2048, 1024, w3, 1);
        again = peek(a_buf, 2048, 1024);
    });
    REQUIRE(h.finished());
    REQUIRE(bad_rc == -EFAULT);
    REQUIRE(bad_status == AAX_ERR_MMU_FAULT);
    REQUIRE(f.type == AAX_MMU_FAULT_NOT_PRESENT);
    REQUIRE(f.access == AAX_MMU_ACC_WRITE);
    REQUIRE(f.asid == vm_a);
    REQUIRE(f.va == VA_DST + 0x5000);
    REQUIRE(f.port == 1);
    REQUIRE(err.ring == 1);
    REQUIRE(err.code == AAX_ERR_MMU_FAULT);
    REQUIRE(good_rc == 0);
    REQUIRE(got == want);
    REQUIRE(again_rc == 0);
    REQUIRE(again == std::vector<uint8_t>(a_data.begin(), a_data.begin() + 1024));
    REQUIRE(port_stat(h, 1) >= 1);
    REQUIRE(port_stat(h, 0) == 512);  // 256 + 256 pages of context B
}

TEST_CASE("VM unbind invalidates the TLBs of every engine", "[vm][engines][tlb]") {
    harness h(mmu_engines(2));
    int warm0 = 1, warm1 = 1, after0 = 1, after1 = 1;
    h.run([&](uapi::device& dev, workload_context&) {
        const uint32_t vm = new_vm(dev);
        buffer src = make_bo(dev, 8192, uapi::BO_DEVICE), dst = make_bo(dev, 8192, uapi::BO_DEVICE);
        bind(dev, vm, src, VA_SRC, 8192);
        bind(dev, vm, dst, VA_DST, 8192);
        uapi::wait_args w;
        warm0 = copy_in(dev, vm, VA_SRC, VA_DST + 4096, 64, w, 0);  // both pages cached by engine 0's port
        warm1 = copy_in(dev, vm, VA_SRC, VA_DST + 4096, 64, w, 1);  // and by engine 1's
        uapi::vm_unbind_args u;
        u.vm_id = vm;
        u.va = VA_DST;
        u.size = 8192;
        CHECK(dev.vm_unbind(u) == 0);
        after0 = copy_in(dev, vm, VA_SRC, VA_DST + 4096, 64, w, 0);
        after1 = copy_in(dev, vm, VA_SRC, VA_DST + 4096, 64, w, 1);
    });
    REQUIRE(h.finished());
    REQUIRE(warm0 == 0);
    REQUIRE(warm1 == 0);
    // A stale entry in either TLB would let that copy through.
    REQUIRE(after0 == -EFAULT);
    REQUIRE(after1 == -EFAULT);
}

TEST_CASE("WREG packets on a privileged ring invalidate a remapped page in every TLB", "[vm][engines][wreg]") {
    harness h(mmu_engines(2));
    std::vector<uint8_t> a, b, out_first, out_stale, out_new, out_other_before, out_other_after;
    int priv_rc = 1, rc0 = 1, rc0_after = 1;
    uint8_t unpriv_status = 0;
    constexpr uint64_t VA_X = 0x30'0000'0000ull, VA_B = 0x40'0000'0000ull;
    h.run([&](uapi::device& dev, workload_context&) {
        auto& hs = dev.drv().host();
        const uint32_t vm = new_vm(dev);
        buffer page_a = make_bo(dev, 4096, uapi::BO_DEVICE), page_b = make_bo(dev, 4096, uapi::BO_DEVICE);
        buffer out = make_bo(dev, 5 * 4096, uapi::BO_DEVICE);
        a = pattern(4096, 21);
        b = pattern(4096, 22);
        CHECK(page_a.map->write(0, a.data(), 4096) == 0);
        CHECK(page_b.map->write(0, b.data(), 4096) == 0);
        bind(dev, vm, page_a, VA_X, 4096, uapi::VM_READ | uapi::VM_4K_ONLY);
        bind(dev, vm, page_b, VA_B, 4096, uapi::VM_READ | uapi::VM_4K_ONLY);  // only to learn its PTE
        bind(dev, vm, out, VA_DST, 5 * 4096, uapi::VM_READ | uapi::VM_WRITE | uapi::VM_4K_ONLY);
        const page_table_editor* pt = dev.drv().vm()->space(static_cast<uint16_t>(vm));
        const uint64_t pte_x = pte_addr(h, pt->root(), VA_X), pte_b = pt->leaf(VA_B);
        CHECK(pte_b != 0);
        uapi::wait_args w;
        // Engine 0 (ring 0) caches VA_X -> page A.
        rc0 = copy_in(dev, vm, VA_X, VA_DST + 3 * 4096, 4096, w, 0);
        // A WREG to the invalidation register from an ordinary ring is refused.
        wait_job(dev, submit_vm(dev, cmdbuf_builder().wreg(AAX_REG_MMU_TLB_INV, vm).bytes(), vm, 0), w);
        unpriv_status = w.status;
        // Ring 1 (engine 1) made privileged: copy, remap VA_X to page B (a fence writes the
        // PTE), copy again (stale TLB entry: still page A), invalidate by WREG, copy again.
        uint32_t ctrl = 0;
        CHECK(hs.cpu.mmio_read32(hs.bar0() + AAX_RING_BASE(1) + AAX_RING_CTRL, ctrl));
        CHECK(hs.cpu.mmio_write32(hs.bar0() + AAX_RING_BASE(1) + AAX_RING_CTRL, ctrl | AAX_RING_CTRL_PRIV));
        cmdbuf_builder cb;
        cb.copy(VA_X, VA_DST, 4096).fence(pte_x, pte_b).copy(VA_X, VA_DST + 4096, 4096);
        wreg_invalidate(cb, vm, VA_X).copy(VA_X, VA_DST + 2 * 4096, 4096);
        priv_rc = wait_job(dev, submit_vm(dev, cb.bytes(), vm, 1), w);
        // Engine 0's TLB was invalidated by the same WREG.
        rc0_after = copy_in(dev, vm, VA_X, VA_DST + 4 * 4096, 4096, w, 0);
        out_first = peek(out, 0, 4096);
        out_stale = peek(out, 4096, 4096);
        out_new = peek(out, 2 * 4096, 4096);
        out_other_before = peek(out, 3 * 4096, 4096);
        out_other_after = peek(out, 4 * 4096, 4096);
    });
    REQUIRE(h.finished());
    REQUIRE(rc0 == 0);
    REQUIRE(unpriv_status == AAX_ERR_PRIV);
    REQUIRE(priv_rc == 0);
    REQUIRE(out_first == a);
    REQUIRE(out_stale == a);  // no invalidation yet: the cached translation is used
    REQUIRE(out_new == b);
    REQUIRE(out_other_before == a);
    REQUIRE(rc0_after == 0);
    REQUIRE(out_other_after == b);
}
