// Address spaces through the whole path (uapi VM calls -> driver page tables in device
// memory -> queue manager -> DMA -> MMU -> memories): a DMA through bound VAs moves the
// right bytes (4 KiB and 2 MiB pages), an unbound VA faults with the right record and
// status while another context keeps running, unbind revokes access (TLB invalidated),
// and one context cannot reach another's pages.
#include <cerrno>
#include <cstring>

#include "abi/aax_mmu.h"
#include "harness.h"
#include "vm_helpers.h"

using namespace accelvp;
using namespace accelvp::test;

namespace {

const std::vector<std::string> with_mmu = {"mmu.enabled=true"};

constexpr uint64_t VA_SRC = 0x10'0000'0000ull, VA_DST = 0x20'0000'0000ull;

} // namespace

TEST_CASE("VM bind lets a DMA through device VAs move the right bytes with 4K and 2M pages", "[vm]") {
    harness h(with_mmu);
    std::vector<uint8_t> data, got4k, got2m, want2m;
    int rc4k = 1, rc2m = 1;
    uint64_t src_page = 0, dst_page = 0;
    h.run([&](uapi::device& dev, workload_context&) {
        const uint32_t vm = new_vm(dev);
        // 4 KiB pages: host source and device destination, copy at odd offsets across pages.
        const uint64_t n = 5 * 4096 + 123;
        buffer src = make_bo(dev, 8 * 4096, uapi::BO_HOST);
        buffer dst = make_bo(dev, 8 * 4096, uapi::BO_DEVICE);
        data = pattern(8 * 4096, 3);
        CHECK(src.map->write(0, data.data(), data.size()) == 0);
        bind(dev, vm, src, VA_SRC, 8 * 4096, uapi::VM_READ | uapi::VM_4K_ONLY);
        bind(dev, vm, dst, VA_DST, 8 * 4096);
        uapi::wait_args w;
        rc4k = copy_in(dev, vm, VA_SRC + 77, VA_DST + 4001, n, w);
        got4k = peek(dst, 4001, n);
        // 2 MiB pages: device to device, 3 MiB across the first 2 MiB page boundary.
        buffer s2 = make_bo(dev, 4 << 20, uapi::BO_DEVICE | uapi::BO_ALIGN_2M);
        buffer d2 = make_bo(dev, 4 << 20, uapi::BO_DEVICE | uapi::BO_ALIGN_2M);
        want2m = pattern(3 << 20, 9);
        CHECK(s2.map->write(1 << 20, want2m.data(), want2m.size()) == 0);
        bind(dev, vm, s2, 0x4000'0000, 4 << 20);
        bind(dev, vm, d2, 0x8000'0000, 4 << 20);
        CHECK(dev.drv().vm()->space(static_cast<uint16_t>(vm))->leaf(0x4000'0000, &src_page) != 0);
        CHECK(dev.drv().vm()->space(static_cast<uint16_t>(vm))->leaf(VA_SRC, &dst_page) != 0);
        uapi::wait_args w2;
        rc2m = copy_in(dev, vm, 0x4000'0000 + (1 << 20), 0x8000'0000 + 12345, 3 << 20, w2);
        got2m = peek(d2, 12345, 3 << 20);
    });
    REQUIRE(h.finished());
    REQUIRE(rc4k == 0);
    REQUIRE(got4k == std::vector<uint8_t>(data.begin() + 77, data.begin() + 77 + got4k.size()));
    REQUIRE(src_page == AAX_PAGE_2M);
    REQUIRE(dst_page == AAX_PAGE_4K);
    REQUIRE(rc2m == 0);
    REQUIRE(got2m == want2m);
}

TEST_CASE("VM access to an unbound VA faults with its record while another context keeps running", "[vm][fault]") {
    harness h(with_mmu);
    int bad_rc = 1, good_rc = 1, after_rc = 1;
    uint8_t bad_status = 0, good_status = 0xFF;
    mmu_fault f;
    int have_fault = 1;
    error_record err;
    std::vector<uint8_t> want, got, got_after;
    uint32_t vm_a = 0, vm_b = 0;
    h.run([&](uapi::device& dev, workload_context&) {
        vm_a = new_vm(dev);
        vm_b = new_vm(dev);
        buffer a_buf = make_bo(dev, 4096, uapi::BO_DEVICE);
        bind(dev, vm_a, a_buf, VA_SRC, 4096);
        buffer src = make_bo(dev, 1 << 20, uapi::BO_DEVICE);
        buffer dst = make_bo(dev, 1 << 20, uapi::BO_DEVICE);
        want = pattern(1 << 20, 5);
        CHECK(src.map->write(0, want.data(), want.size()) == 0);
        bind(dev, vm_b, src, VA_SRC, 1 << 20);
        bind(dev, vm_b, dst, VA_DST, 1 << 20);
        // Context B: a 1 MiB copy on queue 1; context A: a write to an unbound VA on queue 0.
        cmdbuf_builder good;
        good.copy(VA_SRC, VA_DST, 1 << 20);
        const uint32_t good_seq = submit_vm(dev, good.bytes(), vm_b, 1);
        cmdbuf_builder bad;
        bad.copy(VA_SRC, VA_DST + 0x3000, 64);  // reads fine, the write has no page
        const uint32_t bad_seq = submit_vm(dev, bad.bytes(), vm_a, 0);
        uapi::wait_args wb, wg;
        bad_rc = wait_job(dev, bad_seq, wb);
        bad_status = wb.status;
        good_rc = wait_job(dev, good_seq, wg);
        good_status = wg.status;
        got = peek(dst, 0, 1 << 20);
        have_fault = dev.last_mmu_fault(f);
        // B keeps working after A's fault.
        uapi::wait_args w3;
        after_rc = copy_in(dev, vm_b, VA_SRC + 4096, VA_DST, 4096, w3, 1);
        got_after = peek(dst, 0, 4096);
        // The queue manager's record (ERR_*) of the failed job has been read by now.
        CHECK(dev.last_error(err) == 0);
    });
    REQUIRE(h.finished());
    REQUIRE(bad_rc == -EFAULT);
    REQUIRE(bad_status == AAX_ERR_MMU_FAULT);
    REQUIRE(have_fault == 0);
    REQUIRE(f.type == AAX_MMU_FAULT_NOT_PRESENT);
    REQUIRE(f.access == AAX_MMU_ACC_WRITE);
    REQUIRE(f.asid == vm_a);
    REQUIRE(f.va == VA_DST + 0x3000);
    REQUIRE(f.level == 1);  // context A maps only VA_SRC: same root entry, empty level-1 entry
    REQUIRE(err.code == AAX_ERR_MMU_FAULT);
    REQUIRE(err.ring == 0);
    REQUIRE(err.addr == VA_DST + 0x3000);
    REQUIRE(good_rc == 0);
    REQUIRE(good_status == AAX_OK);
    REQUIRE(got == want);
    REQUIRE(after_rc == 0);
    REQUIRE(got_after == std::vector<uint8_t>(want.begin() + 4096, want.begin() + 8192));
    REQUIRE(vm_a != vm_b);
}

TEST_CASE("VM unbind revokes access and the next DMA to that VA faults", "[vm][fault]") {
    harness h(with_mmu);
    int rc_before = 1, rc_after = 1, unbind_rc = 1, free_busy = 0;
    mmu_fault f;
    h.run([&](uapi::device& dev, workload_context&) {
        const uint32_t vm = new_vm(dev);
        buffer src = make_bo(dev, 8192, uapi::BO_DEVICE);
        buffer dst = make_bo(dev, 8192, uapi::BO_DEVICE);
        bind(dev, vm, src, VA_SRC, 8192);
        bind(dev, vm, dst, VA_DST, 8192);
        free_busy = dev.bo_free(dst.args.handle);
        uapi::wait_args w;
        rc_before = copy_in(dev, vm, VA_SRC, VA_DST + 4096, 64, w);  // fills the TLB with both pages
        uapi::vm_unbind_args u;
        u.vm_id = vm;
        u.va = VA_DST;
        u.size = 8192;
        unbind_rc = dev.vm_unbind(u);
        uapi::wait_args w2;
        rc_after = copy_in(dev, vm, VA_SRC, VA_DST + 4096, 64, w2);
        CHECK(dev.last_mmu_fault(f) == 0);
    });
    REQUIRE(h.finished());
    REQUIRE(free_busy == -EBUSY);
    REQUIRE(rc_before == 0);
    REQUIRE(unbind_rc == 0);
    REQUIRE(rc_after == -EFAULT);
    REQUIRE(f.type == AAX_MMU_FAULT_NOT_PRESENT);
    REQUIRE(f.level == 3);  // the level-3 table is kept, its entry cleared
    REQUIRE(f.va == VA_DST + 4096);
}

TEST_CASE("VM contexts are isolated: ASID 1 cannot reach ASID 2's pages", "[vm][isolation]") {
    harness h(with_mmu);
    std::vector<uint8_t> x, y, out1, out2;
    int rc1 = 1, rc2 = 1, rc_cross = 1, rc_perm = 1;
    mmu_fault cross, perm;
    uint32_t vm1 = 0, vm2 = 0;
    h.run([&](uapi::device& dev, workload_context&) {
        vm1 = new_vm(dev);
        vm2 = new_vm(dev);
        buffer bx = make_bo(dev, 4096, uapi::BO_DEVICE), by = make_bo(dev, 4096, uapi::BO_DEVICE);
        buffer o1 = make_bo(dev, 4096, uapi::BO_DEVICE), o2 = make_bo(dev, 4096, uapi::BO_DEVICE);
        buffer secret = make_bo(dev, 4096, uapi::BO_DEVICE);
        x = pattern(4096, 11);
        y = pattern(4096, 12);
        CHECK(bx.map->write(0, x.data(), 4096) == 0);
        CHECK(by.map->write(0, y.data(), 4096) == 0);
        // The same VAs name different memory in each context.
        bind(dev, vm1, bx, VA_SRC, 4096, uapi::VM_READ);
        bind(dev, vm2, by, VA_SRC, 4096);
        bind(dev, vm1, o1, VA_DST, 4096);
        bind(dev, vm2, o2, VA_DST, 4096);
        bind(dev, vm2, secret, 0x30'0000'0000ull, 4096);  // only in context 2
        uapi::wait_args w1, w2, w3, w4;
        rc1 = copy_in(dev, vm1, VA_SRC, VA_DST, 4096, w1);
        rc2 = copy_in(dev, vm2, VA_SRC, VA_DST, 4096, w2);
        out1 = peek(o1, 0, 4096);
        out2 = peek(o2, 0, 4096);
        rc_cross = copy_in(dev, vm1, 0x30'0000'0000ull, VA_DST, 64, w3);
        CHECK(dev.last_mmu_fault(cross) == 0);
        rc_perm = copy_in(dev, vm1, VA_DST, VA_SRC, 64, w4);  // VA_SRC is read-only in context 1
        CHECK(dev.last_mmu_fault(perm) == 0);
    });
    REQUIRE(h.finished());
    REQUIRE(rc1 == 0);
    REQUIRE(rc2 == 0);
    REQUIRE(out1 == x);
    REQUIRE(out2 == y);
    REQUIRE(rc_cross == -EFAULT);
    REQUIRE(cross.asid == vm1);
    REQUIRE(cross.va == 0x30'0000'0000ull);
    REQUIRE(cross.type == AAX_MMU_FAULT_NOT_PRESENT);
    REQUIRE(rc_perm == -EFAULT);
    REQUIRE(perm.type == AAX_MMU_FAULT_PERMISSION);
    REQUIRE(perm.access == AAX_MMU_ACC_WRITE);
}

TEST_CASE("VM calls need an MMU and jobs in an unknown context are refused", "[vm]") {
    harness h;  // mmu.enabled = false
    int create_rc = 0, submit_rc = 0;
    h.run([&](uapi::device& dev, workload_context&) {
        uapi::vm_create_args a;
        create_rc = dev.vm_create(a);
        buffer cb = make_bo(dev, 8, uapi::BO_DEVICE);
        uapi::submit_args s;
        s.cmdbuf_handle = cb.args.handle;
        s.cmdbuf_size = 8;
        s.vm_id = 1;
        submit_rc = dev.submit(s);
    });
    REQUIRE(h.finished());
    REQUIRE(create_rc == -ENODEV);
    REQUIRE(submit_rc == -ENOENT);
}
