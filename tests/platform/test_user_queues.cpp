// User queues (docs/virtualization.md "User queues"): rings a process drives itself through
// its mapped header, slots, CQ and the shared doorbell page, jobs in its own MMU context.
#include <functional>

#include "vm_helpers.h"

using namespace accelvp;
using namespace accelvp::test;

namespace {

// 4 kernel rings (0-3) for the driver, 4 more (4-7) free for user queues.
const std::vector<std::string> kUq = {"cpu.enabled=true", "mmu.enabled=true", "qman.rings=8", "qman.cqs=8",
                                      "host.driver.rings=4"};
constexpr uint64_t VA_CMD = 0x10000000ull, VA_SRC = 0x20000000ull, VA_DST = 0x30000000ull;

// An ordinary (unprivileged) file with one address space: a tenant process.
struct tenant {
    std::unique_ptr<uapi::device> dev;
    uint32_t vm = 0;
    explicit tenant(uapi::device& host) {
        int err = 1;
        dev = uapi::device::open(host.drv(), &err);
        CHECK(err == 0);
        vm = new_vm(*dev);
    }
};

uint32_t bar0_read_raw(uapi::device& dev, uint32_t off) {
    uint32_t v = 0;
    dev.drv().host().cpu.mmio_read32(dev.drv().host().bar0() + off, v);
    return v;
}

// Its user queue, mapped.
std::unique_ptr<uapi::user_queue> make_uq(uapi::device& dev, uint32_t vm, uint32_t* id = nullptr) {
    uapi::uq_create_args a;
    a.vm_id = vm;
    CHECK(dev.uq_create(a) == 0);
    std::unique_ptr<uapi::user_queue> q;
    CHECK(dev.uq_mmap(a.queue_id, q) == 0);
    if (id) *id = a.queue_id;
    return q;
}

// Command buffers of `n` jobs, each copying 4 KiB slice i of VA_SRC to VA_DST (one per 64 bytes
// of a command BO bound at VA_CMD), and the source/destination BOs bound in the context.
struct copy_set {
    buffer cmds, src, dst;
    std::vector<uint8_t> data;
    uint32_t job_bytes = 0;
    copy_set(uapi::device& dev, uint32_t vm, unsigned n, uint32_t seed, uint64_t bad_va = 0, unsigned bad_job = ~0u) {
        const uint64_t bytes = uint64_t{n} * 4096;
        src = make_bo(dev, bytes, uapi::BO_DEVICE);
        dst = make_bo(dev, bytes, uapi::BO_DEVICE);
        data = pattern(bytes, seed);
        CHECK(src.map->write(0, data.data(), bytes) == 0);
        std::vector<uint8_t> all;
        for (unsigned i = 0; i < n; ++i) {
            cmdbuf_builder cb;
            cb.copy(VA_SRC + i * 4096ull, (i == bad_job ? bad_va : VA_DST + i * 4096ull), 4096);
            job_bytes = static_cast<uint32_t>(cb.size());
            all.insert(all.end(), cb.bytes().begin(), cb.bytes().end());
        }
        cmds = make_bo(dev, all.size(), uapi::BO_DEVICE);
        CHECK(cmds.map->write(0, all.data(), all.size()) == 0);
        bind(dev, vm, cmds, VA_CMD, (all.size() + 4095) & ~4095ull, uapi::VM_READ);
        bind(dev, vm, src, VA_SRC, bytes);
        bind(dev, vm, dst, VA_DST, bytes);
    }
    uint64_t cmd_va(unsigned i) const { return VA_CMD + uint64_t{i} * job_bytes; }
    uint64_t cmd_pa(unsigned i) const { return cmds.va() + uint64_t{i} * job_bytes; }
};

} // namespace

TEST_CASE("uq: a user queue runs copies in its context with no system call, verified bit-exact", "[uq]") {
    harness h(kUq);
    std::vector<int> rcs;
    std::vector<uint8_t> want, got;
    uint32_t queue = 0;
    uint64_t kernel_submits = 1, ts_ok = 0;
    int phys_rc = 1;
    uint8_t phys_status = 0;
    h.run([&](uapi::device& host, workload_context&) {
        tenant t(host);
        auto q = make_uq(*t.dev, t.vm, &queue);
        copy_set cs(*t.dev, t.vm, 8, 7);
        const uint64_t before = host.drv().jobs_completed();
        // Two rounds of four, so the ring and CQ wrap nothing but the CQ head is republished.
        for (unsigned round = 0; round < 2; ++round) {
            std::vector<uint32_t> ids;
            for (unsigned i = 0; i < 4; ++i) {
                uint32_t id = 0;
                CHECK(q->submit(cs.cmd_va(round * 4 + i), cs.job_bytes, 0, id) == 0);
                ids.push_back(id);
            }
            for (uint32_t id : ids) {
                uapi::user_queue::completion c;
                rcs.push_back(q->wait(id, 1000000000ull, &c));
                ts_ok += c.ts_end_ns > c.ts_start_ns && c.ts_start_ns > 0;
            }
        }
        kernel_submits = host.drv().jobs_completed() - before;
        got = peek(cs.dst, 0, cs.data.size());
        want = cs.data;
        // The descriptor names its command buffer in the context: a bus address is not mapped there.
        uint32_t id = 0;
        CHECK(q->submit(cs.cmd_pa(0), cs.job_bytes, 0, id) == 0);
        uapi::user_queue::completion c;
        phys_rc = q->wait(id, 1000000000ull, &c);
        phys_status = c.status;
    });
    REQUIRE(h.finished());
    REQUIRE(queue == 4);  // the first ring after the driver's four
    REQUIRE(rcs == std::vector<int>(8, 0));
    REQUIRE(ts_ok == 8);
    REQUIRE(got == want);
    REQUIRE(kernel_submits == 0);  // not one job went through the kernel's rings
    // Doorbells that arrive while the header read of an earlier one is on its way share that
    // read: at least one per round (and the last job), at most one per job.
    const uint64_t db = stat_u64("board.chip.qman", "uq_doorbells");
    REQUIRE(db >= 3);
    REQUIRE(db <= 9);
    REQUIRE(stat_u64("board.chip.qman.ring4", "jobs") == 8);  // the failed ninth is not counted
    REQUIRE(phys_rc == -EFAULT);
    REQUIRE(phys_status == AAX_ERR_MMU_FAULT);
}

TEST_CASE("uq: a bad job, a descriptor fence and an impossible wptr stop only the owner's queue, reported to it alone",
          "[uq][fault]") {
    harness h(kUq);
    int bad_rc = 1, behind_rc = 1, b_rc = 1, fence_rc = 1, wptr_rc = 1, a_err = 1, b_err = 0, b_fault = 0;
    int a_fault = 1, submit_after = 0;
    uint8_t bad_status = 0, fence_status = 0;
    error_record ea, ew;
    mmu_fault fa;
    uint32_t vm_a = 0, qa = 0, qb = 0;
    uint64_t ignored = 0;
    std::vector<uint8_t> want_b, got_b;
    h.run([&](uapi::device& host, workload_context&) {
        tenant a(host), b(host);
        vm_a = a.vm;
        auto ua = make_uq(*a.dev, a.vm, &qa);
        auto ub = make_uq(*b.dev, b.vm, &qb);
        copy_set ca(*a.dev, a.vm, 4, 1, VA_DST + 0x100000, 1);  // job 1 writes past its buffer: no page
        copy_set cb(*b.dev, b.vm, 4, 2);
        // B rings A's doorbell before A published anything: the device re-reads A's header (wptr 0).
        ub->ring_doorbell_of(qa);
        uint32_t id0 = 0, id1 = 0, id2 = 0;
        CHECK(ua->submit(ca.cmd_va(0), ca.job_bytes, 0, id0) == 0);
        CHECK(ua->submit(ca.cmd_va(1), ca.job_bytes, 0, id1) == 0);
        CHECK(ua->submit(ca.cmd_va(2), ca.job_bytes, 0, id2) == 0);
        std::vector<uint32_t> bids;
        for (unsigned i = 0; i < 4; ++i) {
            uint32_t id = 0;
            CHECK(ub->submit(cb.cmd_va(i), cb.job_bytes, 0, id) == 0);
            bids.push_back(id);
            ub->ring_doorbell_of(qa);  // harmless: A's header is A's
        }
        CHECK(ua->wait(id0, 1000000000ull) == 0);
        uapi::user_queue::completion c;
        bad_rc = ua->wait(id1, 1000000000ull, &c);
        bad_status = c.status;
        behind_rc = ua->wait(id2, 1000000000ull);
        b_rc = 0;
        for (uint32_t id : bids) b_rc |= ub->wait(id, 1000000000ull);
        got_b = peek(cb.dst, 0, cb.data.size());
        want_b = cb.data;
        for (int i = 0; i < 100 && a.dev->last_error(ea) != 0; ++i) sc_core::wait(1, sc_core::SC_US);
        a_err = a.dev->last_error(ea);
        b_err = b.dev->last_error(ew);
        a_fault = a.dev->last_mmu_fault(fa);
        mmu_fault fb;
        b_fault = b.dev->last_mmu_fault(fb);
        submit_after = ua->submit(ca.cmd_va(0), ca.job_bytes, 0, id0);  // stopped until destroyed
        // Destroy and create again: the same ring, working, for a job with a descriptor fence
        // (a physical write: refused on a user queue) and then an impossible wptr.
        CHECK(a.dev->uq_destroy(qa) == 0);
        CHECK(ua->submit(ca.cmd_va(0), ca.job_bytes, 0, id0) == -ENODEV);
        uint32_t qa2 = 0;
        ua = make_uq(*a.dev, a.vm, &qa2);
        CHECK(qa2 == qa);
        CHECK(ua->submit(ca.cmd_va(0), ca.job_bytes, AAX_JOB_WRITE_FENCE, id0) == 0);
        fence_rc = ua->wait(id0, 1000000000ull, &c);
        fence_status = c.status;
        CHECK(a.dev->uq_destroy(qa2) == 0);
        ua = make_uq(*a.dev, a.vm, &qa2);
        ua->publish_raw(1u << 20, 0);
        ua->ring_doorbell_of(qa2);
        for (int i = 0; i < 100 && !host.drv().uq_stopped(qa2); ++i) sc_core::wait(1, sc_core::SC_US);
        wptr_rc = ua->submit(ca.cmd_va(0), ca.job_bytes, 0, id0);
        for (int i = 0; i < 100 && !(a.dev->last_error(ew) == 0 && ew.code == AAX_ERR_BAD_PARAM); ++i)
            sc_core::wait(1, sc_core::SC_US);
        // A doorbell on a kernel ring's slot of the page does nothing.
        ub->ring_doorbell_of(0);
        sc_core::wait(2, sc_core::SC_US);
        ignored = stat_u64("board.chip.qman", "uq_doorbells_ignored");
    });
    REQUIRE(h.finished());
    REQUIRE(qa != qb);
    REQUIRE(bad_rc == -EFAULT);
    REQUIRE(bad_status == AAX_ERR_MMU_FAULT);
    REQUIRE(behind_rc == -EIO);  // never ran: the queue stopped at the failed job
    REQUIRE(b_rc == 0);
    REQUIRE(got_b == want_b);
    REQUIRE(a_err == 0);
    REQUIRE(ea.code == AAX_ERR_MMU_FAULT);
    REQUIRE(ea.ring == qa);
    REQUIRE(ea.user_queue);
    REQUIRE(ea.asid == vm_a);
    REQUIRE(a_fault == 0);
    REQUIRE(fa.asid == vm_a);
    REQUIRE(fa.va == VA_DST + 0x100000);
    REQUIRE(b_err == -ENOENT);  // B sees none of it
    REQUIRE(b_fault == -ENOENT);
    REQUIRE(submit_after == -EIO);
    REQUIRE(fence_rc == -EINVAL);
    REQUIRE(fence_status == AAX_ERR_BAD_JOB);
    REQUIRE(wptr_rc == -EIO);
    REQUIRE(ew.code == AAX_ERR_BAD_PARAM);
    REQUIRE(ew.addr == (1u << 20));
    REQUIRE(ew.user_queue);
    REQUIRE(ignored == 1);
}

TEST_CASE("uq: destroying a user queue revokes it mid-job; closing the file revokes the rest", "[uq]") {
    harness h(kUq);
    int rc_after = 0, wait_rc = 0, create_rc = 1;
    uint32_t status_idle = 0, asid_after = 1, qid = 0;
    h.run([&](uapi::device& host, workload_context&) {
        {
            tenant t(host);
            auto q = make_uq(*t.dev, t.vm, &qid);
            // A 64 MiB copy: still running when the queue is destroyed 5 us later.
            buffer src = make_bo(*t.dev, 64 << 20, uapi::BO_DEVICE), dst = make_bo(*t.dev, 64 << 20, uapi::BO_DEVICE);
            bind(*t.dev, t.vm, src, VA_SRC, 64 << 20);
            bind(*t.dev, t.vm, dst, VA_DST, 64 << 20);
            cmdbuf_builder cb;
            cb.copy(VA_SRC, VA_DST, 64 << 20);
            buffer cmd = make_bo(*t.dev, cb.size(), uapi::BO_DEVICE);
            cmd.map->write(0, cb.bytes().data(), cb.size());
            bind(*t.dev, t.vm, cmd, VA_CMD, 4096, uapi::VM_READ);
            uint32_t id = 0;
            CHECK(q->submit(VA_CMD, static_cast<uint32_t>(cb.size()), 0, id) == 0);
            sc_core::wait(5, sc_core::SC_US);
            CHECK(t.dev->uq_destroy(qid) == 0);
            wait_rc = q->wait(id, 1000000);
            rc_after = q->submit(VA_CMD, static_cast<uint32_t>(cb.size()), 0, id);
            status_idle = bar0_read_raw(host, AAX_RING_BASE(qid) + AAX_RING_STATUS) & AAX_RING_STATUS_IDLE;
            make_uq(*t.dev, t.vm);  // left for close() to revoke
        }
        asid_after = bar0_read_raw(host, AAX_RING_BASE(qid) + AAX_RING_ASID);
        tenant t2(host);
        uapi::uq_create_args a;
        a.vm_id = t2.vm;
        create_rc = t2.dev->uq_create(a);
        CHECK(a.queue_id == qid);  // the ring came back to the pool
    });
    REQUIRE(h.finished());
    REQUIRE(wait_rc == -ENODEV);
    REQUIRE(rc_after == -ENODEV);
    REQUIRE(status_idle == AAX_RING_STATUS_IDLE);
    REQUIRE(asid_after == 0);
    REQUIRE(create_rc == 0);
}

TEST_CASE("uq: four contexts submit at once to kernel and user queues; one faults, the others verify", "[uq][many]") {
    harness h(kUq);
    constexpr unsigned kUsers = 4, kJobs = 12;
    struct result {
        std::vector<int> kernel_rc, user_rc;
        bool kernel_data = false, user_data = false;
        int err = 1;
        error_record e;
        uint32_t vm = 0;
    };
    std::vector<result> res(kUsers);
    constexpr unsigned kFaulty = 2, kBadJob = 5;
    uint64_t errors_total = 0;
    std::string errors_text;
    h.run([&](uapi::device& host, workload_context&) {
        const auto run_user = [&](unsigned u) {
            result& R = res[u];
            tenant t(host);
            R.vm = t.vm;
            auto q = make_uq(*t.dev, t.vm);
            // Kernel-queue jobs: copies at VA_SRC2.. on ring u; user-queue jobs: their own set.
            copy_set user(*t.dev, t.vm, kJobs, 100 + u, VA_DST + (64ull << 20), u == kFaulty ? kBadJob : ~0u);
            constexpr uint64_t off = 1ull << 32;  // the kernel set's VAs
            buffer ksrc = make_bo(*t.dev, kJobs * 4096, uapi::BO_DEVICE),
                   kdst = make_bo(*t.dev, kJobs * 4096, uapi::BO_DEVICE);
            const auto kdata = pattern(kJobs * 4096, 200 + u);
            CHECK(ksrc.map->write(0, kdata.data(), kdata.size()) == 0);
            bind(*t.dev, t.vm, ksrc, VA_SRC + off, kJobs * 4096);
            bind(*t.dev, t.vm, kdst, VA_DST + off, kJobs * 4096);
            std::vector<uint32_t> seqs, ids;
            for (unsigned i = 0; i < kJobs; ++i) {
                cmdbuf_builder cb;
                cb.copy(VA_SRC + off + i * 4096ull, VA_DST + off + i * 4096ull, 4096);
                seqs.push_back(submit_vm(*t.dev, cb.bytes(), t.vm, u));
                uint32_t id = 0;
                CHECK(q->submit(user.cmd_va(i), user.job_bytes, 0, id) == 0);
                ids.push_back(id);
            }
            for (uint32_t s : seqs) {
                uapi::wait_args w;
                R.kernel_rc.push_back(wait_job(*t.dev, s, w));
            }
            for (uint32_t id : ids) R.user_rc.push_back(q->wait(id, 1000000000ull));
            R.kernel_data = peek(kdst, 0, kdata.size()) == kdata;
            if (u == kFaulty) {  // the jobs before the bad one landed
                R.user_data = peek(user.dst, 0, kBadJob * 4096) ==
                              std::vector<uint8_t>(user.data.begin(), user.data.begin() + kBadJob * 4096);
                for (int i = 0; i < 100 && t.dev->last_error(R.e) != 0; ++i) sc_core::wait(1, sc_core::SC_US);
            } else {
                R.user_data = peek(user.dst, 0, user.data.size()) == user.data;
            }
            R.err = t.dev->last_error(R.e);
        };
        unsigned left = kUsers;
        sc_core::sc_event done;
        for (unsigned u = 0; u < kUsers; ++u)
            sc_core::sc_spawn([&, u] {
                run_user(u);  // (its file is closed and its queue revoked before it counts as done)
                if (--left == 0) done.notify(sc_core::SC_ZERO_TIME);
            });
        sc_core::wait(done);
        errors_total = host.drv().errors_total();
        for (const auto& e : host.drv().errors())
            errors_text += e.describe() + " at " + std::to_string(e.time_ns) + " asid " + std::to_string(e.asid) + "; ";
        errors_text += " resets " + std::to_string(host.drv().device_resets());
    });
    REQUIRE(h.finished());
    INFO(errors_text);
    REQUIRE(errors_total == 1);  // the one injected fault, nothing else
    for (unsigned u = 0; u < kUsers; ++u) {
        INFO("context " << u);
        const result& R = res[u];
        REQUIRE(R.kernel_rc == std::vector<int>(kJobs, 0));
        REQUIRE(R.kernel_data);
        REQUIRE(R.user_data);
        if (u != kFaulty) {
            REQUIRE(R.user_rc == std::vector<int>(kJobs, 0));
            REQUIRE(R.err == -ENOENT);
            continue;
        }
        std::vector<int> want(kJobs, -EIO);  // behind the fault: never ran, each one accounted for
        for (unsigned i = 0; i < kBadJob; ++i) want[i] = 0;
        want[kBadJob] = -EFAULT;
        REQUIRE(R.user_rc == want);
        REQUIRE(R.err == 0);
        REQUIRE(R.e.code == AAX_ERR_MMU_FAULT);
        REQUIRE(R.e.asid == R.vm);
        REQUIRE(R.e.user_queue);
    }
    uint64_t user_jobs = 0;  // jobs the four user rings completed: all but the faulty one's last 7
    for (unsigned r = 4; r < 8; ++r) user_jobs += stat_u64("board.chip.qman.ring" + std::to_string(r), "jobs");
    REQUIRE(user_jobs == (kUsers - 1) * kJobs + kBadJob);
}
