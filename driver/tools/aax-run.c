/* SPDX-License-Identifier: MIT */
/*
 * aax-run: jobs through the aax Linux driver, verified on the host.
 *   aax-run dma-copy [--bytes N] [--cmd-devmem 1]
 *                                          host -> device, then device -> host; bit-exact check;
 *                                          --cmd-devmem: command buffer in device memory (written
 *                                          through BAR2), as the in-process dma-copy workload does
 *   aax-run gemm [--m M --n N --k K] [--sram-base ADDR] [--cluster C]
 *                                          INT8 x INT8 -> INT32 on a cluster's matrix engine
 *   aax-run bad-packet                      a bad opcode: expects EINVAL and a device error record
 *   aax-run fence                           fences on two queues: a job blocked on a semaphore times out
 *                                          a wait (ETIME), its sync_file polls unready, a job on another
 *                                          queue releases it
 *   aax-run recover                         a failing job with two queued behind it on one queue: EINVAL,
 *                                          the two ABORTED, the ring reset, the next job runs; every queue runs
 *   aax-run vm                              VM bind: a copy through device virtual addresses, verified; an
 *                                          unmapped VA, a read-only VA written, an unbound VA: MMU_FAULT
 *   aax-run dma-copy-vm [--bytes N] [--cmd-devmem 1]
 *                                          host -> device -> host with N-byte host BOs (scattered above
 *                                          4 MiB) bound in a VM: one DMA packet per direction; bit-exact check
 *   aax-run fw-crash                        run with -p fault.fw_crash_at_job=N where N is the job this
 *                                          starts third: a copy, a semaphore-blocked job on queue 1, a
 *                                          copy on queue 0 that crashes the firmware; the driver resets the
 *                                          device: both in flight fail (EIO, ABORTED), later jobs succeed
 *   aax-run syncobj                         a job signals a DRM syncobj: SYNCOBJ_WAIT times out while it is
 *                                          blocked, returns once another queue releases it; sync_file export
 *   aax-run isolation                       (as root) a BO in this file's VM; a child as user 65534: its
 *                                          physical submit is EPERM, another file's VM ENOENT, and its VM
 *                                          job cannot read the BO (MMU fault, its buffer unchanged)
 *   aax-run uq                              user queues: 24 copies with no system call per job (a 16-slot
 *                                          ring wraps), verified; create errors, ENOSPC, another file can
 *                                          neither map nor destroy it; a fault stops only that queue (EFAULT,
 *                                          then EIO); UQ_DESTROY zaps the mappings (SIGBUS)
 *   aax-run uq-exit                         a child process's user queue: another process cannot use it;
 *                                          its exit revokes it (ring disabled, free), the ring serves the next
 *   aax-run uq-reset                        a device reset (debugfs `reset`) revokes a user queue: SIGBUS on its
 *                                          mappings, UQ_DESTROY frees it, a new queue works
 *   aax-run flr                             (an SR-IOV VF guest) 4 jobs of 128 x 4 MiB host -> device in flight,
 *                                          the driver's reset (debugfs `reset`: the VF's function-level
 *                                          reset): each completed OK or fails EIO (ABORTED); then a copy runs
 *   aax-run copy-loop --for-ms T            1 MiB host -> device -> host round trips, verified, for T ms of
 *                                          device time (debugfs `timestamp`; flr --after-ms T: start T ms late)
 *   aax-run forged-cq                       a physical job writes a completion record naming a job never
 *                                          submitted, then one naming a finished job, into the CQ slot after its
 *                                          own: the driver leaves both (not the device's) and the next job's
 *                                          wait returns (docs/security.md, finding 3)
 *   aax-run uq-latency [--jobs N]           kernel vs user queue: host time in the submit call and device
 *                                          submit-to-start (debugfs `timestamp` read just before), empty
 *                                          jobs and 4 KiB copies; then 32 streamed
 * Timing comes from the completion records (device timestamps).
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/aax_encode.h"
#include "abi/aax_mmu.h"
#include "driver/libaax/aax.h"

#define CHUNK (4ull << 20)

static int fail(const char *what, int r)
{
    fprintf(stderr, "aax-run: %s: %s\n", what, strerror(-r));
    return 1;
}

static uint32_t xorshift(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static int run_job(aax_dev *d, aax_bo *cb, uint32_t size, struct aax_drm_wait *w)
{
    uint32_t seq = 0;
    int r = aax_submit(d, cb, 0, size, &seq);
    if (r) return r;
    return aax_wait(d, seq, 60ll * 1000000000ll, w);
}

static int dma_copy(aax_dev *d, uint64_t bytes, int cmd_devmem)
{
    uint64_t n = (bytes + CHUNK - 1) / CHUNK, i, off;
    aax_bo *src = calloc(n, sizeof(aax_bo)), *dst = calloc(n, sizeof(aax_bo)), dev, cb;
    struct aax_drm_wait w;
    aax_cmdbuf c;
    uint32_t x = 12345;
    int r;
    const char *dir[2] = {"h2d", "d2h"};

    if ((r = aax_bo_create(d, bytes, AAX_BO_DEVICE, &dev))) return fail("device BO", r);
    if ((r = aax_bo_create(d, n * 2 * sizeof(aax_pkt_dma) + 64, cmd_devmem ? AAX_BO_DEVICE : AAX_BO_HOST, &cb)) ||
        (r = aax_bo_map(d, &cb)))
        return fail("command BO", r);
    for (i = 0; i < n; ++i) {
        uint64_t len = (i + 1) * CHUNK > bytes ? bytes - i * CHUNK : CHUNK;
        if ((r = aax_bo_create(d, len, AAX_BO_HOST, &src[i])) || (r = aax_bo_map(d, &src[i])) ||
            (r = aax_bo_create(d, len, AAX_BO_HOST, &dst[i])) || (r = aax_bo_map(d, &dst[i])))
            return fail("host BO", r);
        for (off = 0; off + 4 <= len; off += 4) ((uint32_t *)src[i].map)[off / 4] = xorshift(&x);
        memset(dst[i].map, 0, len);
    }
    for (int pass = 0; pass < 2; ++pass) {
        c.bo = &cb;
        c.used = 0;
        for (i = 0; i < n; ++i) {
            aax_pkt_dma p = pass == 0 ? aax_make_copy_2d(src[i].va, dev.va + i * CHUNK, src[i].size, 1, 0, 0)
                                      : aax_make_copy_2d(dev.va + i * CHUNK, dst[i].va, dst[i].size, 1, 0, 0);
            aax_cmd_emit(&c, &p, sizeof(p));
        }
        r = run_job(d, &cb, c.used, &w);
        if (r) {
            fprintf(stderr, "aax-run: dma-copy %s: %s (device status %s)\n", dir[pass], strerror(-r),
                    aax_status_name(w.status));
            return 1;
        }
        const uint64_t ns = w.ts_end_ns - w.ts_start_ns;
        printf("dma-copy %s: bytes %llu device_ns %llu bandwidth_gbps %.4f\n", dir[pass], (unsigned long long)bytes,
               (unsigned long long)ns, ns ? (double)bytes / (double)ns : 0.0);
    }
    for (i = 0; i < n; ++i)
        if (memcmp(src[i].map, dst[i].map, src[i].size) != 0) {
            printf("dma-copy verified: NO (chunk %llu differs)\n", (unsigned long long)i);
            return 1;
        }
    printf("dma-copy verified: yes, bit-exact\n");
    for (i = 0; i < n; ++i) {
        aax_bo_free(d, &src[i]);
        aax_bo_free(d, &dst[i]);
    }
    aax_bo_free(d, &dev);
    aax_bo_free(d, &cb);
    free(src);
    free(dst);
    return 0;
}

static int gemm(aax_dev *d, uint32_t m, uint32_t n, uint32_t k, uint64_t sram, uint16_t cluster)
{
    const uint64_t a_bytes = (uint64_t)m * k, b_bytes = (uint64_t)k * n, c_bytes = (uint64_t)m * n * 4;
    const uint32_t a_off = 0, b_off = (uint32_t)((a_bytes + 63) & ~63ull),
                   c_off = (uint32_t)((b_off + b_bytes + 63) & ~63ull);
    aax_bo in, out, cb;
    struct aax_drm_wait w;
    aax_cmdbuf c = {&cb, 0};
    uint32_t x = 777, i, j, kk;
    int r;

    if ((r = aax_bo_create(d, a_bytes + b_bytes, AAX_BO_HOST, &in)) || (r = aax_bo_map(d, &in))) return fail("BO", r);
    if ((r = aax_bo_create(d, c_bytes, AAX_BO_HOST, &out)) || (r = aax_bo_map(d, &out))) return fail("BO", r);
    if ((r = aax_bo_create(d, 4096, AAX_BO_HOST, &cb)) || (r = aax_bo_map(d, &cb))) return fail("BO", r);
    int8_t *A = in.map, *B = (int8_t *)in.map + a_bytes;
    for (i = 0; i < a_bytes + b_bytes; ++i) ((int8_t *)in.map)[i] = (int8_t)(xorshift(&x) & 0xFF);
    memset(out.map, 0, c_bytes);
    aax_pkt_dma p1 = aax_make_copy_2d(in.va, sram + a_off, a_bytes, 1, 0, 0);
    aax_pkt_dma p2 = aax_make_copy_2d(in.va + a_bytes, sram + b_off, b_bytes, 1, 0, 0);
    aax_pkt_gemm g = aax_make_gemm(cluster, AAX_DT_INT8, AAX_DT_INT32, m, n, k, a_off, b_off, c_off, 0);
    aax_pkt_dma p3 = aax_make_copy_2d(sram + c_off, out.va, c_bytes, 1, 0, 0);
    aax_cmd_emit(&c, &p1, sizeof(p1));
    aax_cmd_emit(&c, &p2, sizeof(p2));
    aax_cmd_emit(&c, &g, sizeof(g));
    aax_cmd_emit(&c, &p3, sizeof(p3));
    r = run_job(d, &cb, c.used, &w);
    if (r) {
        fprintf(stderr, "aax-run: gemm: %s (device status %s at offset %u)\n", strerror(-r), aax_status_name(w.status),
                w.err_offset);
        return 1;
    }
    printf("gemm %ux%ux%u int8: device_ns %llu\n", m, n, k, (unsigned long long)(w.ts_end_ns - w.ts_start_ns));
    for (i = 0; i < m; ++i)
        for (j = 0; j < n; ++j) {
            int32_t ref = 0;
            for (kk = 0; kk < k; ++kk) ref += (int32_t)A[i * k + kk] * (int32_t)B[kk * n + j];
            if (((int32_t *)out.map)[i * n + j] != ref) {
                printf("gemm verified: NO (C[%u][%u] = %d, expected %d)\n", i, j, ((int32_t *)out.map)[i * n + j], ref);
                return 1;
            }
        }
    printf("gemm verified: yes, bit-exact\n");
    aax_bo_free(d, &in);
    aax_bo_free(d, &out);
    aax_bo_free(d, &cb);
    return 0;
}

/* A command buffer with an unknown opcode: the job fails with BAD_OPCODE (EINVAL) and the
 * driver records the device error; the ring recovers (a NOP job after it succeeds). */
static int bad_packet(aax_dev *d)
{
    aax_bo cb;
    struct aax_drm_wait w;
    struct aax_drm_error e;
    aax_pkt_hdr h[2] = {aax_make_hdr(AAX_OP_NOP, 1, 0), aax_make_hdr(0x7F, 1, 0)};
    aax_cmdbuf c = {&cb, 0};
    int r;
    if ((r = aax_bo_create(d, 4096, AAX_BO_HOST, &cb)) || (r = aax_bo_map(d, &cb))) return fail("BO", r);
    aax_cmd_emit(&c, h, sizeof(h));
    r = run_job(d, &cb, c.used, &w);
    printf("bad-packet: errno %s status %s offset %u\n", r == -EINVAL ? "EINVAL" : strerror(-r),
           aax_status_name(w.status), w.err_offset);
    if (aax_last_error(d, &e) == 0)
        printf("bad-packet: error record %s offset %u opcode 0x%x count %u\n", aax_status_name(e.code), e.offset,
               e.opcode, e.count);
    /* Bad input the driver refuses before the device sees it. */
    {
        aax_bo bogus = cb;
        uint32_t seq = 0;
        bogus.handle = 0x7fff;
        r = aax_submit(d, &bogus, 0, 8, &seq);
        printf("bad-packet: bad handle %s\n", r == -ENOENT ? "ENOENT" : strerror(-r));
        r = aax_submit(d, &cb, 0, (uint32_t)AAX_MAX_CMDBUF_SIZE + 8, &seq);
        printf("bad-packet: oversize submit %s\n", r == -EINVAL ? "EINVAL" : strerror(-r));
        r = aax_submit(d, &cb, 4, 8, &seq);
        printf("bad-packet: misaligned offset %s\n", r == -EINVAL ? "EINVAL" : strerror(-r));
    }
    r = run_job(d, &cb, 8, &w);
    printf("bad-packet: next job %s\n", r == 0 ? "ok" : strerror(-r));
    aax_bo_free(d, &cb);
    return r == 0 && w.status == 0 ? 0 : 1;
}


static int host_cb(aax_dev *d, aax_bo *cb)
{
    int r = aax_bo_create(d, 4096, AAX_BO_HOST, cb);
    return r ? r : aax_bo_map(d, cb);
}

static int submit_q(aax_dev *d, uint32_t q, aax_bo *cb, uint32_t off, uint32_t size, uint32_t vm, uint32_t *seq,
                    int *fd)
{
    aax_submit_args a;
    memset(&a, 0, sizeof(a));
    a.queue = q;
    a.cmdbuf = cb;
    a.offset = off;
    a.size = size;
    a.vm_id = vm;
    return aax_submit_ex(d, &a, seq, fd);
}

static const char *ename(int r)
{
    switch (-r) {
    case 0: return "ok";
    case ETIME: return "ETIME";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EIO: return "EIO";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EPERM: return "EPERM";
    case ENOSPC: return "ENOSPC";
    case EACCES: return "EACCES";
    case ENODEV: return "ENODEV";
    case EBUSY: return "EBUSY";
    default: return strerror(-r);
    }
}

#define SEC 1000000000ll

/* A job blocked on SEM_WAIT (queue qa) and its fence: a wait with a 2 ms timeout gets ETIME,
 * its sync_file is not readable; a SEM_SIGNAL job on queue qb releases it. */
static int fence_test(aax_dev *d)
{
    const uint32_t qa = 1 % d->info.queues, qb = 2 % d->info.queues, sem = d->info.semaphores - 1;
    aax_bo cb;
    aax_cmdbuf c = {&cb, 0};
    struct aax_drm_wait w;
    uint32_t sa = 0, sb = 0;
    int fd = -1, r, ok = 1;
    struct pollfd pf;
    if (d->info.queues < 2 || d->info.semaphores < 2) {
        printf("fence: needs 2 queues and 2 semaphores (%u, %u)\n", d->info.queues, d->info.semaphores);
        return 1;
    }
    if ((r = host_cb(d, &cb))) return fail("BO", r);
    aax_pkt_sem_wait pw = aax_make_sem_wait((uint16_t)sem, 1, AAX_SEM_GE, 1);
    aax_pkt_sem_signal ps = aax_make_sem_signal((uint16_t)sem, 1, AAX_SEM_MODE_ADD);
    aax_cmd_emit(&c, &pw, sizeof(pw)); /* offset 0 */
    aax_cmd_emit(&c, &ps, sizeof(ps)); /* offset 16 */
    if ((r = submit_q(d, qa, &cb, 0, sizeof(pw), 0, &sa, &fd))) return fail("submit", r);
    r = aax_wait_queue(d, qa, sa, 2000000, &w);
    printf("fence: queue %u seq %u wait 2ms %s\n", qa, sa, ename(r));
    ok &= r == -ETIME;
    pf.fd = fd;
    pf.events = POLLIN;
    r = poll(&pf, 1, 0);
    printf("fence: sync_file fd %s poll before %d\n", fd >= 0 ? "yes" : "no", r);
    ok &= fd >= 0 && r == 0;
    if ((r = submit_q(d, qb, &cb, 16, sizeof(ps), 0, &sb, NULL))) return fail("submit", r);
    r = aax_wait_queue(d, qb, sb, 30 * SEC, &w);
    printf("fence: queue %u seq %u signal %s\n", qb, sb, ename(r));
    ok &= r == 0;
    r = poll(&pf, 1, 30000);
    printf("fence: sync_file poll after %d revents 0x%x\n", r, (unsigned)pf.revents);
    ok &= r == 1 && (pf.revents & POLLIN);
    r = aax_wait_queue(d, qa, sa, 0, &w);
    printf("fence: queue %u seq %u wait 0 %s status %s device_ns %llu\n", qa, sa, ename(r), aax_status_name(w.status),
           (unsigned long long)(w.ts_end_ns - w.ts_start_ns));
    ok &= r == 0;
    r = aax_wait_queue(d, qa, sa + 1000, 0, &w);
    printf("fence: unknown seq %s\n", ename(r));
    ok &= r == -EINVAL;
    if (fd >= 0) close(fd);
    aax_bo_free(d, &cb);
    printf("fence: %s\n", ok ? "pass" : "FAIL");
    return ok ? 0 : 1;
}

/* Ring recovery: on queue q, job 1 = SEM_WAIT then a bad opcode, jobs 2 and 3 queued
 * behind it; a job on another queue releases the semaphore: job 1 fails (EINVAL), 2 and 3
 * are aborted (EIO), the ring is reset and job 4 on it runs. Then a NOP job on every queue. */
static int recover_test(aax_dev *d)
{
    const uint32_t q = 3 % d->info.queues, qo = q ? 0 : (d->info.queues > 1 ? 1 : 0), sem = d->info.semaphores - 2;
    aax_bo cb;
    aax_cmdbuf c = {&cb, 0};
    struct aax_drm_wait w;
    uint32_t s[4], so, i;
    int r[4], ro, ok = 1, rr;
    if (d->info.queues < 2 || d->info.semaphores < 2) {
        printf("recover: needs 2 queues and 2 semaphores (%u, %u)\n", d->info.queues, d->info.semaphores);
        return 1;
    }
    if ((rr = host_cb(d, &cb))) return fail("BO", rr);
    aax_pkt_sem_wait pw = aax_make_sem_wait((uint16_t)sem, 1, AAX_SEM_GE, 1);
    aax_pkt_hdr bad = aax_make_hdr(0x7E, 1, 0), nop = aax_make_hdr(AAX_OP_NOP, 1, 0);
    aax_pkt_sem_signal ps = aax_make_sem_signal((uint16_t)sem, 1, AAX_SEM_MODE_ADD);
    aax_cmd_emit(&c, &pw, sizeof(pw)); /* 0: job 1 */
    aax_cmd_emit(&c, &bad, sizeof(bad));
    aax_cmd_emit(&c, &nop, sizeof(nop)); /* 24: good jobs */
    aax_cmd_emit(&c, &ps, sizeof(ps));   /* 32: the release */
    if ((rr = submit_q(d, q, &cb, 0, 24, 0, &s[0], NULL)) || (rr = submit_q(d, q, &cb, 24, 8, 0, &s[1], NULL)) ||
        (rr = submit_q(d, q, &cb, 24, 8, 0, &s[2], NULL)))
        return fail("submit", rr);
    rr = aax_wait_queue(d, q, s[1], 2000000, &w);
    printf("recover: queue %u queued job wait 2ms %s\n", q, ename(rr));
    ok &= rr == -ETIME;
    if ((rr = submit_q(d, qo, &cb, 32, 16, 0, &so, NULL))) return fail("submit", rr);
    ro = aax_wait_queue(d, qo, so, 30 * SEC, &w);
    for (i = 0; i < 3; ++i) r[i] = aax_wait_queue(d, q, s[i], 30 * SEC, &w);
    printf("recover: queue %u failed %s aborted %s %s; release on queue %u %s\n", q, ename(r[0]), ename(r[1]),
           ename(r[2]), qo, ename(ro));
    ok &= r[0] == -EINVAL && r[1] == -EIO && r[2] == -EIO && ro == 0;
    if ((rr = submit_q(d, q, &cb, 24, 8, 0, &s[3], NULL))) return fail("submit", rr);
    r[3] = aax_wait_queue(d, q, s[3], 30 * SEC, &w);
    printf("recover: queue %u next job %s (seq %u)\n", q, ename(r[3]), s[3]);
    ok &= r[3] == 0 && s[3] == s[0] + 3;
    for (i = 0; i < d->info.queues; ++i) {
        uint32_t sq;
        if ((rr = submit_q(d, i, &cb, 24, 8, 0, &sq, NULL))) return fail("submit", rr);
        rr = aax_wait_queue(d, i, sq, 30 * SEC, &w);
        ok &= rr == 0;
        if (rr) printf("recover: queue %u: %s\n", i, ename(rr));
    }
    printf("recover: every queue (%u) ran a job\n", d->info.queues);
    aax_bo_free(d, &cb);
    printf("recover: %s\n", ok ? "pass" : "FAIL");
    return ok ? 0 : 1;
}

static int fill_random(aax_bo *b, uint32_t seed)
{
    uint64_t off;
    for (off = 0; off + 4 <= b->size; off += 4) ((uint32_t *)b->map)[off / 4] = xorshift(&seed);
    return 0;
}

/* VM bind: copies through device virtual addresses; faults are errors, never a crash. */
static int vm_test(aax_dev *d)
{
    const uint64_t sz = 1 << 20, VA_SRC = 0x10000000, VA_DEV = 0x20000000, VA_DST = 0x30000000, VA_BAD = 0x40000000;
    aax_bo src, dst, dev, cb;
    aax_cmdbuf c = {&cb, 0};
    struct aax_drm_wait w;
    struct aax_drm_error e;
    uint32_t vm = 0, seq;
    int r, ok = 1;
    if (!(d->info.flags & AAX_INFO_MMU)) {
        printf("vm: no MMU\n");
        return 1;
    }
    if ((r = aax_vm_create(d, &vm))) return fail("vm create", r);
    if ((r = aax_bo_create(d, sz, AAX_BO_HOST, &src)) || (r = aax_bo_map(d, &src)) ||
        (r = aax_bo_create(d, sz, AAX_BO_HOST, &dst)) || (r = aax_bo_map(d, &dst)) ||
        (r = aax_bo_create(d, sz, AAX_BO_DEVICE, &dev)) || (r = host_cb(d, &cb)))
        return fail("BO", r);
    fill_random(&src, 4242);
    memset(dst.map, 0, sz);
    if ((r = aax_vm_bind(d, vm, &src, 0, VA_SRC, sz, AAX_VM_READ)) ||
        (r = aax_vm_bind(d, vm, &dev, 0, VA_DEV, sz, AAX_VM_READ | AAX_VM_WRITE)) ||
        (r = aax_vm_bind(d, vm, &dst, 0, VA_DST, sz, AAX_VM_WRITE)))
        return fail("vm bind", r);
    r = aax_vm_bind(d, vm, &dst, 0, VA_DST + sz / 2, sz / 2, AAX_VM_WRITE);
    printf("vm: overlapping bind %s\n", ename(r));
    ok &= r == -EEXIST;
    r = aax_vm_bind(d, vm, &dst, 0, VA_BAD + 8, 4096, AAX_VM_WRITE);
    printf("vm: misaligned bind %s\n", ename(r));
    ok &= r == -EINVAL;
    aax_pkt_dma p0 = aax_make_copy_2d(VA_SRC, VA_DEV, sz, 1, 0, 0), p1 = aax_make_copy_2d(VA_DEV, VA_DST, sz, 1, 0, 0);
    aax_pkt_dma pbad = aax_make_copy_2d(VA_BAD, VA_DST, 4096, 1, 0, 0);
    aax_pkt_dma pro = aax_make_copy_2d(VA_DEV, VA_SRC, 4096, 1, 0, 0);
    aax_cmd_emit(&c, &p0, sizeof(p0)); /* 0 */
    aax_cmd_emit(&c, &p1, sizeof(p1)); /* 56 */
    aax_cmd_emit(&c, &pbad, sizeof(pbad)); /* 112 */
    aax_cmd_emit(&c, &pro, sizeof(pro)); /* 168 */
    if ((r = submit_q(d, 0, &cb, 0, 112, vm, &seq, NULL))) return fail("submit", r);
    r = aax_wait_queue(d, 0, seq, 60 * SEC, &w);
    printf("vm: copy through VAs %s device_ns %llu\n", ename(r), (unsigned long long)(w.ts_end_ns - w.ts_start_ns));
    ok &= r == 0;
    r = memcmp(src.map, dst.map, sz);
    printf("vm: copy verified: %s\n", r == 0 ? "yes, bit-exact" : "NO");
    ok &= r == 0;
    /* Faults: unmapped VA, write to a read-only mapping. */
    if ((r = submit_q(d, 0, &cb, 112, 56, vm, &seq, NULL))) return fail("submit", r);
    r = aax_wait_queue(d, 0, seq, 60 * SEC, &w);
    aax_last_error(d, &e);
    printf("vm: unmapped VA %s status %s; error record %s opcode %s; mmu fault %s asid %u va 0x%llx\n", ename(r),
           aax_status_name(w.status), aax_status_name(e.code), aax_opcode_name(e.opcode),
           aax_mmu_fault_name(e.mmu_fault_status & AAX_MMU_FAULT_TYPE_MASK), e.mmu_fault_asid,
           (unsigned long long)e.mmu_fault_va);
    ok &= r == -EFAULT && w.status == AAX_ERR_MMU_FAULT && e.code == AAX_ERR_MMU_FAULT && e.mmu_fault_va == VA_BAD &&
          e.mmu_fault_asid == vm;
    if ((r = submit_q(d, 0, &cb, 168, 56, vm, &seq, NULL))) return fail("submit", r);
    r = aax_wait_queue(d, 0, seq, 60 * SEC, &w);
    aax_last_error(d, &e);
    printf("vm: read-only VA written %s status %s; mmu fault %s va 0x%llx\n", ename(r), aax_status_name(w.status),
           aax_mmu_fault_name(e.mmu_fault_status & AAX_MMU_FAULT_TYPE_MASK), (unsigned long long)e.mmu_fault_va);
    ok &= r == -EFAULT && (e.mmu_fault_status & AAX_MMU_FAULT_TYPE_MASK) == AAX_MMU_FAULT_PERMISSION &&
          e.mmu_fault_va == VA_SRC;
    /* Unbind: the TLB forgets the mapping. */
    r = aax_vm_unbind(d, vm, VA_DST, sz);
    printf("vm: unbind %s\n", ename(r));
    ok &= r == 0;
    if ((r = submit_q(d, 0, &cb, 56, 56, vm, &seq, NULL))) return fail("submit", r);
    r = aax_wait_queue(d, 0, seq, 60 * SEC, &w);
    aax_last_error(d, &e);
    printf("vm: unbound VA %s; mmu fault %s va 0x%llx faults %u\n", ename(r),
           aax_mmu_fault_name(e.mmu_fault_status & AAX_MMU_FAULT_TYPE_MASK), (unsigned long long)e.mmu_fault_va,
           e.mmu_faults);
    ok &= r == -EFAULT && e.mmu_fault_va == VA_DST;
    /* The ring runs again after the faults. */
    if ((r = submit_q(d, 0, &cb, 0, 56, vm, &seq, NULL))) return fail("submit", r);
    r = aax_wait_queue(d, 0, seq, 60 * SEC, &w);
    printf("vm: next job %s\n", ename(r));
    ok &= r == 0;
    r = aax_vm_destroy(d, vm);
    ok &= r == 0;
    aax_bo_free(d, &src);
    aax_bo_free(d, &dst);
    aax_bo_free(d, &dev);
    aax_bo_free(d, &cb);
    printf("vm: %s\n", ok ? "pass" : "FAIL");
    return ok ? 0 : 1;
}

/* Large host BOs through a VM: one packet per direction. */
static int dma_copy_vm(aax_dev *d, uint64_t bytes, int cmd_devmem)
{
    /* The in-process dma-copy workload's VAs (1 TiB apart): the same page-table walks. */
    const uint64_t VA_SRC = 1ull << 40, VA_DEV = 2ull << 40, VA_DST = 3ull << 40;
    aax_bo src, dst, dev, cb;
    aax_cmdbuf c = {&cb, 0};
    struct aax_drm_wait w;
    uint32_t vm = 0, seq;
    int r, pass;
    const char *dir[2] = {"h2d", "d2h"};
    if ((r = aax_vm_create(d, &vm))) return fail("vm create", r);
    if ((r = aax_bo_create(d, bytes, AAX_BO_HOST, &src)) || (r = aax_bo_map(d, &src)) ||
        (r = aax_bo_create(d, bytes, AAX_BO_HOST, &dst)) || (r = aax_bo_map(d, &dst)) ||
        (r = aax_bo_create(d, bytes, AAX_BO_DEVICE | AAX_BO_ALIGN_2M, &dev)) ||
        (r = aax_bo_create(d, 4096, cmd_devmem ? AAX_BO_DEVICE : AAX_BO_HOST, &cb)) || (r = aax_bo_map(d, &cb)))
        return fail("BO", r);
    printf("dma-copy-vm: host BO device_va 0x%llx (%s)\n", (unsigned long long)src.va,
           src.va ? "contiguous" : "scattered");
    fill_random(&src, 99);
    memset(dst.map, 0, bytes);
    if ((r = aax_vm_bind(d, vm, &src, 0, VA_SRC, bytes, AAX_VM_READ)) ||
        (r = aax_vm_bind(d, vm, &dev, 0, VA_DEV, bytes, AAX_VM_READ | AAX_VM_WRITE)) ||
        (r = aax_vm_bind(d, vm, &dst, 0, VA_DST, bytes, AAX_VM_WRITE)))
        return fail("vm bind", r);
    aax_pkt_dma p0 = aax_make_copy_2d(VA_SRC, VA_DEV, bytes, 1, 0, 0), p1 = aax_make_copy_2d(VA_DEV, VA_DST, bytes, 1, 0, 0);
    aax_cmd_emit(&c, &p0, sizeof(p0));
    aax_cmd_emit(&c, &p1, sizeof(p1));
    for (pass = 0; pass < 2; ++pass) {
        if ((r = submit_q(d, 0, &cb, pass * 56, 56, vm, &seq, NULL))) return fail("submit", r);
        r = aax_wait_queue(d, 0, seq, 120 * SEC, &w);
        if (r) {
            fprintf(stderr, "aax-run: dma-copy-vm %s: %s (device status %s)\n", dir[pass], ename(r),
                    aax_status_name(w.status));
            return 1;
        }
        const uint64_t ns = w.ts_end_ns - w.ts_start_ns;
        printf("dma-copy-vm %s: bytes %llu device_ns %llu bandwidth_gbps %.4f\n", dir[pass], (unsigned long long)bytes,
               (unsigned long long)ns, ns ? (double)bytes / (double)ns : 0.0);
    }
    r = memcmp(src.map, dst.map, bytes);
    printf("dma-copy-vm verified: %s\n", r == 0 ? "yes, bit-exact" : "NO");
    aax_vm_destroy(d, vm);
    aax_bo_free(d, &src);
    aax_bo_free(d, &dst);
    aax_bo_free(d, &dev);
    aax_bo_free(d, &cb);
    return r == 0 ? 0 : 1;
}

/* A job that signals a DRM syncobj (aax_drm_submit.out_syncobj): the DRM core's syncobj wait
 * and sync_file export see the job's fence. */
static int syncobj_test(aax_dev *d)
{
    const uint32_t qa = 2 % d->info.queues, qb = 1 % d->info.queues, sem = d->info.semaphores - 4;
    aax_bo cb;
    aax_cmdbuf c = {&cb, 0};
    aax_submit_args a;
    struct aax_drm_wait w;
    struct pollfd pf;
    uint32_t so = 0, sa = 0, sb = 0;
    int r, fd = -1, ok = 1;
    if (d->info.queues < 3 || d->info.semaphores < 4) {
        printf("syncobj: needs 3 queues and 4 semaphores\n");
        return 1;
    }
    if ((r = host_cb(d, &cb))) return fail("BO", r);
    aax_pkt_sem_wait pw = aax_make_sem_wait((uint16_t)sem, 1, AAX_SEM_GE, 1);
    aax_pkt_sem_signal ps = aax_make_sem_signal((uint16_t)sem, 1, AAX_SEM_MODE_ADD);
    aax_pkt_hdr nop = aax_make_hdr(AAX_OP_NOP, 1, 0);
    aax_cmd_emit(&c, &pw, sizeof(pw));   /* 0 */
    aax_cmd_emit(&c, &ps, sizeof(ps));   /* 16 */
    aax_cmd_emit(&c, &nop, sizeof(nop)); /* 32 */
    if ((r = aax_syncobj_create(d, &so))) return fail("syncobj create", r);
    r = aax_syncobj_wait(d, so, 0);
    printf("syncobj: wait before any job %s\n", ename(r));
    ok &= r == -EINVAL;
    memset(&a, 0, sizeof(a));
    a.queue = qa;
    a.cmdbuf = &cb;
    a.size = sizeof(pw);
    a.out_syncobj = 0x7777;
    r = aax_submit_ex(d, &a, &sa, NULL);
    printf("syncobj: unknown handle %s\n", ename(r));
    ok &= r == -ENOENT;
    a.out_syncobj = so;
    if ((r = aax_submit_ex(d, &a, &sa, NULL))) return fail("submit", r);
    r = aax_syncobj_wait(d, so, 2000000);
    printf("syncobj: queue %u job blocked: wait 2ms %s\n", qa, ename(r));
    ok &= r == -ETIME;
    r = aax_syncobj_export_sync_file(d, so, &fd);
    pf.fd = fd;
    pf.events = POLLIN;
    printf("syncobj: sync_file export %s poll before %d\n", ename(r), fd >= 0 ? poll(&pf, 1, 0) : -1);
    ok &= r == 0 && fd >= 0 && poll(&pf, 1, 0) == 0;
    if ((r = submit_q(d, qb, &cb, 16, sizeof(ps), 0, &sb, NULL))) return fail("submit", r);
    r = aax_syncobj_wait(d, so, 30 * SEC);
    printf("syncobj: released from queue %u: wait %s\n", qb, ename(r));
    ok &= r == 0;
    r = poll(&pf, 1, 30000);
    printf("syncobj: sync_file poll after %d\n", r);
    ok &= r == 1;
    r = aax_wait_queue(d, qa, sa, 0, &w);
    printf("syncobj: the job's own wait %s status %s\n", ename(r), aax_status_name(w.status));
    ok &= r == 0 && w.status == AAX_OK;
    /* The next job replaces the syncobj's fence. */
    a.offset = 32;
    a.size = sizeof(nop);
    if ((r = aax_submit_ex(d, &a, &sa, NULL))) return fail("submit", r);
    r = aax_syncobj_wait(d, so, 30 * SEC);
    printf("syncobj: next job on it: wait %s\n", ename(r));
    ok &= r == 0;
    if (fd >= 0) close(fd);
    ok &= aax_syncobj_destroy(d, so) == 0;
    aax_bo_free(d, &cb);
    printf("syncobj: %s\n", ok ? "pass" : "FAIL");
    return ok ? 0 : 1;
}

/* A firmware crash (fault.fw_crash_at_job = the third job this starts): the driver sees the
 * firmware's fatal trap, resets the device, re-boots the firmware and fails what was in
 * flight; later jobs run, device memory written before the crash is intact. */
static int fw_crash_test(aax_dev *d)
{
    const uint64_t sz = 1 << 20;
    const uint32_t sem = d->info.semaphores - 3;
    aax_bo src, dst, dev, cb;
    aax_cmdbuf c = {&cb, 0};
    struct aax_drm_wait w0, w1;
    uint32_t s0, s1, s2, s3;
    int r, r0, r1, ok = 1;
    if (d->info.queues < 3 || d->info.semaphores < 3 || !(d->info.flags & AAX_INFO_CONTROL_CORE)) {
        printf("fw-crash: needs 3 queues, 3 semaphores and a control core\n");
        return 1;
    }
    if ((r = aax_bo_create(d, sz, AAX_BO_HOST, &src)) || (r = aax_bo_map(d, &src)) ||
        (r = aax_bo_create(d, sz, AAX_BO_HOST, &dst)) || (r = aax_bo_map(d, &dst)) ||
        (r = aax_bo_create(d, sz, AAX_BO_DEVICE, &dev)) || (r = host_cb(d, &cb)))
        return fail("BO", r);
    fill_random(&src, 31337);
    memset(dst.map, 0, sz);
    aax_pkt_dma h2d = aax_make_copy_2d(src.va, dev.va, sz, 1, 0, 0), d2h = aax_make_copy_2d(dev.va, dst.va, sz, 1, 0, 0);
    aax_pkt_sem_wait pw = aax_make_sem_wait((uint16_t)sem, 1, AAX_SEM_GE, 1);
    aax_pkt_hdr nop = aax_make_hdr(AAX_OP_NOP, 1, 0);
    aax_pkt_sem_signal ps = aax_make_sem_signal((uint16_t)sem, 1, AAX_SEM_MODE_ADD);
    aax_cmd_emit(&c, &h2d, sizeof(h2d)); /* 0 */
    aax_cmd_emit(&c, &d2h, sizeof(d2h)); /* 56 */
    aax_cmd_emit(&c, &pw, sizeof(pw));   /* 112 */
    aax_cmd_emit(&c, &nop, sizeof(nop)); /* 128 */
    aax_cmd_emit(&c, &ps, sizeof(ps));   /* 136 */
    if ((r = submit_q(d, 0, &cb, 0, 56, 0, &s0, NULL))) return fail("submit", r);
    r = aax_wait_queue(d, 0, s0, 60 * SEC, &w0);
    printf("fw-crash: before: h2d %s\n", ename(r));
    ok &= r == 0;
    /* In flight when the firmware dies: a job blocked on a semaphore, and the copy it crashes on. */
    if ((r = submit_q(d, 1, &cb, 112, 16, 0, &s1, NULL))) return fail("submit", r);
    r = aax_wait_queue(d, 1, s1, 2000000, &w1);
    ok &= r == -ETIME;
    if ((r = submit_q(d, 0, &cb, 56, 56, 0, &s2, NULL))) return fail("submit", r);
    r0 = aax_wait_queue(d, 0, s2, 120 * SEC, &w0);
    r1 = aax_wait_queue(d, 1, s1, 120 * SEC, &w1);
    printf("fw-crash: in flight: queue 0 %s status %s, queue 1 %s status %s\n", ename(r0), aax_status_name(w0.status),
           ename(r1), aax_status_name(w1.status));
    ok &= r0 == -EIO && r1 == -EIO && w0.status == AAX_ERR_ABORTED && w1.status == AAX_ERR_ABORTED;
    /* After the reset: the same copy again, and a job on the other queue. The blocked SEM_WAIT
     * does not see the soft reset's abort (docs/linux-driver.md): its engine queue stays busy
     * until the semaphore is signalled -- by a job on queue 2 -- and queue 1 then runs again. */
    if ((r = submit_q(d, 0, &cb, 56, 56, 0, &s2, NULL))) return fail("submit", r);
    r0 = aax_wait_queue(d, 0, s2, 60 * SEC, &w0);
    if ((r = submit_q(d, 2 % d->info.queues, &cb, 136, 16, 0, &s3, NULL))) return fail("submit", r);
    r = aax_wait_queue(d, 2 % d->info.queues, s3, 60 * SEC, &w1);
    printf("fw-crash: after: semaphore released on queue 2 %s\n", ename(r));
    ok &= r == 0;
    if ((r = submit_q(d, 1, &cb, 128, 8, 0, &s3, NULL))) return fail("submit", r);
    r1 = aax_wait_queue(d, 1, s3, 60 * SEC, &w1);
    printf("fw-crash: after: queue 0 %s, queue 1 %s\n", ename(r0), ename(r1));
    ok &= r0 == 0 && r1 == 0;
    r = memcmp(src.map, dst.map, sz);
    printf("fw-crash: copy verified: %s\n", r == 0 ? "yes, bit-exact" : "NO");
    ok &= r == 0;
    aax_bo_free(d, &src);
    aax_bo_free(d, &dst);
    aax_bo_free(d, &dev);
    aax_bo_free(d, &cb);
    printf("fw-crash: %s\n", ok ? "pass" : "FAIL");
    return ok ? 0 : 1;
}

/* The user side of the isolation test: an unprivileged file (opened after dropping root)
 * tries the other file's BO every way it can name it. */
static int isolation_user(const char *path, uint32_t vm_a, uint64_t secret_bus, uint32_t root_seq)
{
    const uint64_t sz = 64 << 10, VA_SECRET = 0x10000000, VA_OUT = 0x20000000, VA_OWN = 0x30000000;
    aax_dev u;
    aax_bo out, own, cb;
    aax_cmdbuf c = {&cb, 0};
    struct aax_drm_wait w;
    struct aax_drm_error e;
    uint32_t vm_b = 0, seq, i;
    int r, ok = 1, clean = 1;
    if (setgroups(0, NULL) || setgid(65534) || setuid(65534)) {
        perror("aax-run: dropping root");
        return 1;
    }
    printf("isolation: user uid %d euid %d\n", (int)getuid(), (int)geteuid());
    if ((r = aax_open(&u, path))) return fail("open as user", r);
    printf("isolation: user file privileged %s\n", (u.info.flags & AAX_INFO_PRIVILEGED) ? "yes" : "no");
    ok &= !(u.info.flags & AAX_INFO_PRIVILEGED) && getuid() != 0;
    if ((r = host_cb(&u, &cb))) return fail("BO", r);
    aax_pkt_hdr nop = aax_make_hdr(AAX_OP_NOP, 1, 0);
    aax_pkt_dma steal = aax_make_copy_2d(VA_SECRET, VA_OUT, sz, 1, 0, 0);
    aax_pkt_dma bus = aax_make_copy_2d(secret_bus, VA_OUT, sz, 1, 0, 0);
    aax_pkt_dma mine = aax_make_copy_2d(VA_OWN, VA_OUT, sz, 1, 0, 0);
    aax_cmd_emit(&c, &nop, sizeof(nop));     /* 0 */
    aax_cmd_emit(&c, &steal, sizeof(steal)); /* 8 */
    aax_cmd_emit(&c, &bus, sizeof(bus));     /* 64 */
    aax_cmd_emit(&c, &mine, sizeof(mine));   /* 120 */
    r = submit_q(&u, 0, &cb, 0, 8, 0, &seq, NULL);
    printf("isolation: user physical submit %s\n", ename(r));
    ok &= r == -EPERM;
    r = submit_q(&u, 0, &cb, 0, 8, vm_a, &seq, NULL);
    printf("isolation: user submit in the other file's VM %s\n", ename(r));
    ok &= r == -ENOENT;
    r = aax_wait_queue(&u, 0, root_seq, 0, &w);
    printf("isolation: user wait on the other file's job %s\n", ename(r));
    ok &= r == -EINVAL;
    if ((r = aax_vm_create(&u, &vm_b))) return fail("vm create", r);
    if ((r = aax_bo_create(&u, sz, AAX_BO_HOST, &out)) || (r = aax_bo_map(&u, &out)) ||
        (r = aax_bo_create(&u, sz, AAX_BO_HOST, &own)) || (r = aax_bo_map(&u, &own)))
        return fail("BO", r);
    memset(out.map, 0, sz);
    fill_random(&own, 7);
    if ((r = aax_vm_bind(&u, vm_b, &out, 0, VA_OUT, sz, AAX_VM_WRITE)) ||
        (r = aax_vm_bind(&u, vm_b, &own, 0, VA_OWN, sz, AAX_VM_READ)))
        return fail("vm bind", r);
    r = aax_vm_bind(&u, vm_a, &out, 0, VA_OUT, sz, AAX_VM_WRITE);
    printf("isolation: user bind into the other file's VM %s\n", ename(r));
    ok &= r == -ENOENT;
    /* The other file's VA, then its bus address, from the user's own VM. */
    if ((r = submit_q(&u, 0, &cb, 8, 56, vm_b, &seq, NULL))) return fail("submit", r);
    r = aax_wait_queue(&u, 0, seq, 60 * SEC, &w);
    aax_last_error(&u, &e);
    printf("isolation: user VM job at the other file's VA %s status %s; mmu fault %s asid %s va 0x%llx\n", ename(r),
           aax_status_name(w.status), aax_mmu_fault_name(e.mmu_fault_status & AAX_MMU_FAULT_TYPE_MASK),
           e.mmu_fault_asid == vm_b ? "own" : "OTHER", (unsigned long long)e.mmu_fault_va);
    ok &= r == -EFAULT && e.mmu_fault_asid == vm_b && e.mmu_fault_va == VA_SECRET;
    if ((r = submit_q(&u, 0, &cb, 64, 56, vm_b, &seq, NULL))) return fail("submit", r);
    r = aax_wait_queue(&u, 0, seq, 60 * SEC, &w);
    aax_last_error(&u, &e);
    printf("isolation: user VM job at the other BO's bus address %s; mmu fault %s va %s\n", ename(r),
           aax_mmu_fault_name(e.mmu_fault_status & AAX_MMU_FAULT_TYPE_MASK),
           e.mmu_fault_va == secret_bus ? "= bus address" : "OTHER");
    ok &= r == -EFAULT && e.mmu_fault_va == secret_bus;
    for (i = 0; i < sz; ++i) clean &= ((uint8_t *)out.map)[i] == 0;
    printf("isolation: user buffer unchanged: %s\n", clean ? "yes" : "NO");
    ok &= clean;
    /* Its own data through its own VM: the same ring, now pinned to its context. */
    if ((r = submit_q(&u, 0, &cb, 120, 56, vm_b, &seq, NULL))) return fail("submit", r);
    r = aax_wait_queue(&u, 0, seq, 60 * SEC, &w);
    printf("isolation: user copy through its own VM %s, %s\n", ename(r),
           memcmp(own.map, out.map, sz) == 0 ? "bit-exact" : "WRONG");
    ok &= r == 0 && memcmp(own.map, out.map, sz) == 0;
    aax_close(&u);
    printf("isolation: user %s\n", ok ? "pass" : "FAIL");
    return ok ? 0 : 1;
}

static int isolation_test(aax_dev *d)
{
    const uint64_t sz = 64 << 10, VA_SECRET = 0x10000000, VA_OUT = 0x20000000;
    aax_bo secret, out, cb;
    aax_cmdbuf c = {&cb, 0};
    struct aax_drm_wait w;
    uint32_t vm_a = 0, seq, seq_a;
    int r, ok = 1, status = 0;
    pid_t pid;
    if (!(d->info.flags & AAX_INFO_MMU)) {
        printf("isolation: no MMU\n");
        return 1;
    }
    printf("isolation: root file privileged %s\n", (d->info.flags & AAX_INFO_PRIVILEGED) ? "yes" : "no");
    ok &= (d->info.flags & AAX_INFO_PRIVILEGED) != 0;
    if ((r = aax_vm_create(d, &vm_a))) return fail("vm create", r);
    if ((r = aax_bo_create(d, sz, AAX_BO_HOST, &secret)) || (r = aax_bo_map(d, &secret)) ||
        (r = aax_bo_create(d, sz, AAX_BO_HOST, &out)) || (r = aax_bo_map(d, &out)) || (r = host_cb(d, &cb)))
        return fail("BO", r);
    fill_random(&secret, 0x5ec);
    memset(out.map, 0, sz);
    if ((r = aax_vm_bind(d, vm_a, &secret, 0, VA_SECRET, sz, AAX_VM_READ)) ||
        (r = aax_vm_bind(d, vm_a, &out, 0, VA_OUT, sz, AAX_VM_WRITE)))
        return fail("vm bind", r);
    aax_pkt_dma p = aax_make_copy_2d(VA_SECRET, VA_OUT, sz, 1, 0, 0);
    aax_pkt_hdr nop = aax_make_hdr(AAX_OP_NOP, 1, 0);
    aax_cmd_emit(&c, &p, sizeof(p));     /* 0 */
    aax_cmd_emit(&c, &nop, sizeof(nop)); /* 56 */
    if ((r = submit_q(d, 0, &cb, 0, 56, vm_a, &seq_a, NULL))) return fail("submit", r);
    r = aax_wait_queue(d, 0, seq_a, 60 * SEC, &w);
    printf("isolation: owner copy through its VM %s, %s\n", ename(r),
           memcmp(secret.map, out.map, sz) == 0 ? "bit-exact" : "WRONG");
    ok &= r == 0 && memcmp(secret.map, out.map, sz) == 0;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        r = isolation_user(d->path, vm_a, secret.va, seq_a);
        fflush(stdout);
        _exit(r);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ok = 0;
    /* The user's faults are the device's last records, but not this file's to read. */
    {
        struct aax_drm_error e;
        memset(&e, 0, sizeof(e));
        r = aax_last_error(d, &e);
        printf("isolation: owner's LAST_ERROR after the user's faults %s (mmu faults on the device %u)\n", ename(r),
               e.mmu_faults);
        ok &= r == -ENOENT;
    }
    /* Root's physical job, then its VM job again: the ring goes back to each context. */
    r = submit_q(d, 0, &cb, 56, 8, 0, &seq, NULL);
    if (!r) r = aax_wait_queue(d, 0, seq, 60 * SEC, &w);
    printf("isolation: root physical submit %s\n", ename(r));
    ok &= r == 0;
    memset(out.map, 0, sz);
    if ((r = submit_q(d, 0, &cb, 0, 56, vm_a, &seq, NULL))) return fail("submit", r);
    r = aax_wait_queue(d, 0, seq, 60 * SEC, &w);
    printf("isolation: owner copy again %s, %s\n", ename(r), memcmp(secret.map, out.map, sz) == 0 ? "bit-exact" : "WRONG");
    ok &= r == 0 && memcmp(secret.map, out.map, sz) == 0;
    aax_vm_destroy(d, vm_a);
    aax_bo_free(d, &secret);
    aax_bo_free(d, &out);
    aax_bo_free(d, &cb);
    printf("isolation: %s\n", ok ? "pass" : "FAIL");
    return ok ? 0 : 1;
}

/* ---- user queues ----------------------------------------------------------------- */

static sigjmp_buf probe_env;
static volatile int probe_signal;
static void probe_handler(int sig)
{
    probe_signal = sig;
    siglongjmp(probe_env, 1);
}

/* Reads 4 bytes at p; returns the signal that access raised (0: none). */
static int probe_read(volatile void *p)
{
    struct sigaction sa, ob, os;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = probe_handler;
    sigaction(SIGBUS, &sa, &ob);
    sigaction(SIGSEGV, &sa, &os);
    probe_signal = 0;
    if (sigsetjmp(probe_env, 1) == 0) (void)*(volatile uint32_t *)p;
    sigaction(SIGBUS, &ob, NULL);
    sigaction(SIGSEGV, &os, NULL);
    return probe_signal;
}

static const char *signame(int s)
{
    return s == SIGBUS ? "SIGBUS" : s == SIGSEGV ? "SIGSEGV" : s ? "signal" : "none";
}

/* mmap of another file's offset: 0 or -errno. */
static int try_mmap(int fd, uint64_t off, uint64_t len)
{
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
    if (m == MAP_FAILED) return -errno;
    munmap(m, len);
    return 0;
}

/* A debugfs file of the device (first match under accel/ or dri/); NULL if none. The path is
 * in one of 4 static buffers (used in turn). */
static const char *dbg_path(const char *name)
{
    static char paths[4][256];
    static unsigned next;
    char *path = paths[next++ % 4];
    const char *pats[2] = {"/sys/kernel/debug/accel/*/%s", "/sys/kernel/debug/dri/*/%s"};
    unsigned i;
    for (i = 0; i < 2; ++i) {
        char pat[128];
        glob_t g;
        snprintf(pat, sizeof(pat), pats[i], name);
        if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc) {
            snprintf(path, sizeof(paths[0]), "%s", g.gl_pathv[0]);
            globfree(&g);
            return path;
        }
    }
    return NULL;
}

/* The debugfs `uqs` line of one ring. */
static void print_uq_line(const char *tag, uint32_t ring)
{
    const char *p = dbg_path("uqs");
    char line[512], want[32];
    FILE *f = p ? fopen(p, "r") : NULL;
    snprintf(want, sizeof(want), "uq ring %u:", ring);
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, want, strlen(want))) printf("%s: debugfs %s", tag, line);
    if (f) fclose(f);
}

#define UQ_VA_SRC 0x10000000ull
#define UQ_VA_DST 0x20000000ull
#define UQ_VA_CB 0x30000000ull
#define UQ_VA_BAD 0x40000000ull

/* A VM with src (random), dst (zero) host BOs and a command buffer of `n` copies of sz / n bytes
 * (slice i at offset 56 i), then a copy from an unmapped VA (offset 56 n), bound at UQ_VA_*. */
static int uq_setup(aax_dev *d, uint32_t *vm, uint64_t sz, unsigned n, aax_bo *src, aax_bo *dst, aax_bo *cb)
{
    aax_cmdbuf c = {cb, 0};
    unsigned i;
    int r;
    if ((r = aax_vm_create(d, vm))) return r;
    if ((r = aax_bo_create(d, sz, AAX_BO_HOST, src)) || (r = aax_bo_map(d, src)) ||
        (r = aax_bo_create(d, sz, AAX_BO_HOST, dst)) || (r = aax_bo_map(d, dst)) || (r = host_cb(d, cb)))
        return r;
    for (i = 0; i < n; ++i) {
        aax_pkt_dma p = aax_make_copy_2d(UQ_VA_SRC + i * (sz / n), UQ_VA_DST + i * (sz / n), sz / n, 1, 0, 0);
        aax_cmd_emit(&c, &p, sizeof(p));
    }
    {
        aax_pkt_dma p = aax_make_copy_2d(UQ_VA_BAD, UQ_VA_DST, 4096, 1, 0, 0);
        aax_cmd_emit(&c, &p, sizeof(p));
    }
    if ((r = aax_vm_bind(d, *vm, src, 0, UQ_VA_SRC, sz, AAX_VM_READ)) ||
        (r = aax_vm_bind(d, *vm, dst, 0, UQ_VA_DST, sz, AAX_VM_WRITE)) ||
        (r = aax_vm_bind(d, *vm, cb, 0, UQ_VA_CB, 4096, AAX_VM_READ)))
        return r;
    return 0;
}

/* n copies on a user queue, no system call; returns 0 when all completed OK and dst == src. */
static int uq_copies(aax_uq *q, aax_bo *src, aax_bo *dst, uint64_t sz, unsigned n, uint32_t seed, uint64_t *dev_ns)
{
    uint32_t ids[64];
    aax_uq_done done;
    unsigned i;
    int r, bad = 0;
    fill_random(src, seed);
    memset(dst->map, 0, sz);
    for (i = 0; i < n; ++i)
        if ((r = aax_uq_submit(q, UQ_VA_CB + 56 * i, 56, 0, 0, &ids[i]))) return r;
    *dev_ns = 0;
    for (i = 0; i < n; ++i) {
        if ((r = aax_uq_wait(q, ids[i], 60 * SEC, &done))) bad = r;
        *dev_ns += done.ts_end - done.ts_start;
    }
    if (bad) return bad;
    return memcmp(src->map, dst->map, sz) == 0 ? 0 : -EILSEQ;
}

static int uq_test(aax_dev *d)
{
    const uint64_t sz = 64 << 10;
    const unsigned n = 8;
    aax_bo src, dst, cb;
    aax_uq q, q2, q3;
    aax_uq_done done;
    struct aax_drm_error e;
    uint32_t vm = 0, id_bad, id_next, round;
    uint64_t ns;
    int r, ok = 1, s1, s2, s3;
    if (!(d->info.flags & AAX_INFO_MMU)) {
        printf("uq: no MMU\n");
        return 1;
    }
    if ((r = uq_setup(d, &vm, sz, n, &src, &dst, &cb))) return fail("setup", r);
    r = aax_uq_create(d, 0, 4, &q);
    printf("uq: create in VM 0 %s\n", ename(r));
    ok &= r == -ENOENT;
    r = aax_uq_create(d, vm + 7, 4, &q);
    printf("uq: create in a VM of no file %s\n", ename(r));
    ok &= r == -ENOENT;
    r = aax_uq_create(d, vm, 17, &q);
    printf("uq: create with 2^17 slots %s\n", ename(r));
    ok &= r == -EINVAL;
    if ((r = aax_uq_create(d, vm, 4, &q))) return fail("uq create", r);
    printf("uq: queue %u in VM %u: entries %u cq_entries %u ring_size %llu cq_size %llu\n", q.info.queue_id, vm,
           q.info.entries, q.info.cq_entries, (unsigned long long)q.info.ring_size, (unsigned long long)q.info.cq_size);
    ok &= q.info.entries == 16 && q.info.cq_entries == 16 && q.info.ring_size == 4096 && q.info.cq_size == 4096;
    /* Three rounds of 8 copies: 24 jobs through 16 slots (the ring and the CQ wrap). */
    for (round = 0; round < 3; ++round) {
        r = uq_copies(&q, &src, &dst, sz, n, 1000 + round, &ns);
        printf("uq: round %u: %u copies of %llu bytes %s, %s; device_ns %llu\n", round, n, (unsigned long long)(sz / n),
               ename(r == -EILSEQ ? 0 : r), r == 0 ? "verified bit-exact" : "NOT verified", (unsigned long long)ns);
        ok &= r == 0;
    }
    print_uq_line("uq", q.info.queue_id);
    fflush(stdout);
    /* Every user ring taken: ENOSPC. */
    if ((r = aax_uq_create(d, vm, 4, &q2))) return fail("second uq", r);
    printf("uq: second queue %u\n", q2.info.queue_id);
    r = aax_uq_create(d, vm, 4, &q3);
    printf("uq: third queue %s\n", ename(r));
    ok &= r == -ENOSPC;
    /* Another file: cannot map, destroy, or queue in this file's VM. */
    {
        aax_dev o;
        aax_uq oq;
        struct aax_drm_uq_destroy x = {q.info.queue_id, 0};
        if ((r = aax_open(&o, d->path))) return fail("open", r);
        s1 = try_mmap(o.fd, q.info.db_mmap_offset, 4096);
        s2 = try_mmap(o.fd, q.info.ring_mmap_offset, q.info.ring_size);
        s3 = try_mmap(o.fd, q.info.cq_mmap_offset, q.info.cq_size);
        printf("uq: another file maps its doorbell %s, ring %s, CQ %s\n", ename(s1), ename(s2), ename(s3));
        ok &= s1 == -EACCES && s2 == -EACCES && s3 == -EACCES;
        r = ioctl(o.fd, DRM_IOCTL_AAX_UQ_DESTROY, &x) ? -errno : 0;
        printf("uq: another file destroys it %s\n", ename(r));
        ok &= r == -ENOENT;
        r = aax_uq_create(&o, vm, 4, &oq);
        printf("uq: another file creates one in its VM %s\n", ename(r));
        ok &= r == -ENOENT;
        aax_close(&o);
    }
    /* A fault stops only this queue: its job EFAULT (MMU fault), the one behind it EIO. Both
     * are published at once: submitted one by one, the device could fail the first before the
     * second was written, and the library refuses a submit to a stopped queue (EIO). */
    if ((r = aax_uq_submit(&q, UQ_VA_CB + 56 * n, 56, AAX_UQ_DEFER, 0, &id_bad)) ||
        (r = aax_uq_submit(&q, UQ_VA_CB, 56, 0, 0, &id_next)))
        return fail("uq submit", r);
    r = aax_uq_wait(&q, id_bad, 60 * SEC, &done);
    printf("uq: copy from an unmapped VA %s status %s\n", ename(r), aax_status_name(done.status));
    ok &= r == -EFAULT && done.status == AAX_ERR_MMU_FAULT;
    r = aax_uq_wait(&q, id_next, 60 * SEC, NULL);
    printf("uq: the job behind it %s\n", ename(r));
    ok &= r == -EIO;
    r = aax_uq_submit(&q, UQ_VA_CB, 56, 0, 0, &id_next);
    printf("uq: submit to the stopped queue %s\n", ename(r));
    ok &= r == -EIO;
    /* LAST_ERROR is the kernel's record, made when it handles the device's error interrupt;
     * the queue's own CQ record (above) reaches user space without the kernel and can come
     * first (it did, once in a loaded CI run). Wait for the record, 5 s at most. */
    for (int tries = 0;; ++tries) {
        const struct timespec pause = {0, 10 * 1000 * 1000};
        memset(&e, 0, sizeof(e));
        r = aax_last_error(d, &e);
        if ((r == 0 && e.code == AAX_ERR_MMU_FAULT && e.job_id == id_bad) || tries == 500) break;
        nanosleep(&pause, NULL);
    }
    printf("uq: LAST_ERROR %s: %s ring %u job %u; mmu fault %s asid %u va 0x%llx\n", ename(r), aax_status_name(e.code),
           e.ring, e.job_id, aax_mmu_fault_name(e.mmu_fault_status & AAX_MMU_FAULT_TYPE_MASK), e.mmu_fault_asid,
           (unsigned long long)e.mmu_fault_va);
    ok &= r == 0 && e.code == AAX_ERR_MMU_FAULT && e.ring == q.info.queue_id && e.job_id == id_bad &&
          e.mmu_fault_va == UQ_VA_BAD && e.mmu_fault_asid == vm;
    print_uq_line("uq", q.info.queue_id);
    r = uq_copies(&q2, &src, &dst, sz, n, 77, &ns);
    printf("uq: the second queue meanwhile: %u copies %s\n", n, r == 0 ? "verified bit-exact" : ename(r));
    ok &= r == 0;
    {
        uint32_t seq;
        struct aax_drm_wait w;
        memset(dst.map, 0, sz);
        r = submit_q(d, 0, &cb, 0, 56 * n, vm, &seq, NULL);
        if (!r) r = aax_wait_queue(d, 0, seq, 60 * SEC, &w);
        printf("uq: a kernel-queue job in the same VM %s, %s\n", ename(r),
               memcmp(src.map, dst.map, sz) == 0 ? "bit-exact" : "WRONG");
        ok &= r == 0 && memcmp(src.map, dst.map, sz) == 0;
    }
    /* UQ_DESTROY revokes: every mapping of the queue is zapped. */
    {
        struct aax_drm_uq_destroy x = {q.info.queue_id, 0};
        r = ioctl(d->fd, DRM_IOCTL_AAX_UQ_DESTROY, &x) ? -errno : 0;
        printf("uq: destroy %s\n", ename(r));
        ok &= r == 0;
        s1 = probe_read(q.mem);
        s2 = probe_read(q.cq);
        s3 = probe_read(q.db);
        printf("uq: after destroy, reading its ring %s, CQ %s, doorbell page %s\n", signame(s1), signame(s2),
               signame(s3));
        ok &= s1 == SIGBUS && s2 == SIGBUS && s3 == SIGBUS;
        r = ioctl(d->fd, DRM_IOCTL_AAX_UQ_DESTROY, &x) ? -errno : 0;
        printf("uq: destroy again %s\n", ename(r));
        ok &= r == -ENOENT;
        print_uq_line("uq", q.info.queue_id);
        munmap((void *)q.mem, q.info.ring_size);
        munmap((void *)q.cq, q.info.cq_size);
        munmap((void *)q.db, 4096);
        free(q.done);
    }
    r = aax_uq_destroy(&q2);
    ok &= r == 0;
    aax_vm_destroy(d, vm);
    aax_bo_free(d, &src);
    aax_bo_free(d, &dst);
    aax_bo_free(d, &cb);
    printf("uq: %s\n", ok ? "pass" : "FAIL");
    return ok ? 0 : 1;
}

/* A child process's queue: the parent (another file) cannot map or destroy it while the child
 * lives; the child's exit (no UQ_DESTROY, no close) revokes it, and the ring serves the next. */
static int uq_exit_test(aax_dev *d)
{
    const uint64_t sz = 64 << 10;
    const unsigned n = 4;
    int p1[2], p2[2], r, ok = 1, status = 0, s1, s2;
    struct aax_drm_uq_create info;
    pid_t pid;
    char go = 1;
    if (pipe(p1) || pipe(p2)) return fail("pipe", -errno);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        aax_dev cd;
        aax_bo src, dst, cb;
        aax_uq q;
        uint32_t vm = 0;
        uint64_t ns;
        if ((r = aax_open(&cd, d->path)) || (r = uq_setup(&cd, &vm, sz, n, &src, &dst, &cb)) ||
            (r = aax_uq_create(&cd, vm, 4, &q)))
            _exit(fail("child", r));
        r = uq_copies(&q, &src, &dst, sz, n, 31, &ns);
        printf("uq-exit: child queue %u: %u copies %s\n", q.info.queue_id, n, r == 0 ? "verified bit-exact" : ename(r));
        fflush(stdout);
        if (write(p1[1], &q.info, sizeof(q.info)) != (ssize_t)sizeof(q.info) || read(p2[0], &go, 1) != 1) _exit(1);
        _exit(r == 0 ? 0 : 1); /* no UQ_DESTROY, no munmap, no close: the exit revokes it */
    }
    if (pid < 0 || read(p1[0], &info, sizeof(info)) != (ssize_t)sizeof(info)) return fail("child", -EIO);
    {
        struct aax_drm_uq_destroy x = {info.queue_id, 0};
        s1 = try_mmap(d->fd, info.db_mmap_offset, 4096);
        s2 = try_mmap(d->fd, info.ring_mmap_offset, info.ring_size);
        printf("uq-exit: while the child lives, another process maps its doorbell %s, ring %s\n", ename(s1), ename(s2));
        ok &= s1 == -EACCES && s2 == -EACCES;
        r = ioctl(d->fd, DRM_IOCTL_AAX_UQ_DESTROY, &x) ? -errno : 0;
        printf("uq-exit: ... destroys it %s\n", ename(r));
        ok &= r == -ENOENT;
    }
    print_uq_line("uq-exit: child alive", info.queue_id);
    if (write(p2[1], &go, 1) != 1 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
        ok = 0;
    printf("uq-exit: child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    print_uq_line("uq-exit: child gone", info.queue_id);
    s1 = try_mmap(d->fd, info.db_mmap_offset, 4096);
    printf("uq-exit: its doorbell offset now maps %s\n", ename(s1));
    ok &= s1 != 0;
    {
        aax_bo src, dst, cb;
        aax_uq q;
        uint32_t vm = 0;
        uint64_t ns;
        if ((r = uq_setup(d, &vm, sz, n, &src, &dst, &cb)) || (r = aax_uq_create(d, vm, 4, &q))) return fail("uq", r);
        r = uq_copies(&q, &src, &dst, sz, n, 32, &ns);
        printf("uq-exit: next queue on ring %u (the child's: %s): %u copies %s\n", q.info.queue_id,
               q.info.queue_id == info.queue_id ? "yes" : "no", n, r == 0 ? "verified bit-exact" : ename(r));
        ok &= r == 0 && q.info.queue_id == info.queue_id;
        aax_uq_destroy(&q);
        aax_vm_destroy(d, vm);
        aax_bo_free(d, &src);
        aax_bo_free(d, &dst);
        aax_bo_free(d, &cb);
    }
    printf("uq-exit: %s\n", ok ? "pass" : "FAIL");
    return ok ? 0 : 1;
}

static uint64_t dev_now(int fd);

/* Sleeps until the device's clock (debugfs `timestamp`, shared by every function of the chip)
 * is ms past what it read first; returns the device time then. */
static uint64_t wait_device_ms(uint64_t ms)
{
    const char *tp = dbg_path("timestamp");
    int fd = tp ? open(tp, O_RDONLY) : -1;
    uint64_t t = 0, t0;
    if (fd < 0) return 0;
    t0 = dev_now(fd);
    while ((t = dev_now(fd)) < t0 + ms * 1000000ull) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    close(fd);
    return t;
}

/* 1 MiB host -> device -> host round trips, each verified, for ms of device time. */
static int copy_loop(aax_dev *d, uint64_t for_ms)
{
    const uint64_t sz = 1 << 20;
    aax_bo src, dst, dev, cb;
    aax_cmdbuf c = {&cb, 0};
    struct aax_drm_wait w;
    uint64_t first = 0, last = 0, until;
    unsigned n = 0, bad = 0;
    uint32_t seq;
    int r, fd;
    const char *tp = dbg_path("timestamp");
    if (!tp || (fd = open(tp, O_RDONLY)) < 0) return fail("debugfs timestamp", -ENOENT);
    if ((r = aax_bo_create(d, sz, AAX_BO_HOST, &src)) || (r = aax_bo_map(d, &src)) ||
        (r = aax_bo_create(d, sz, AAX_BO_HOST, &dst)) || (r = aax_bo_map(d, &dst)) ||
        (r = aax_bo_create(d, sz, AAX_BO_DEVICE, &dev)) || (r = host_cb(d, &cb)))
        return fail("BO", r);
    {
        aax_pkt_dma p0 = aax_make_copy_2d(src.va, dev.va, sz, 1, 0, 0), p1 = aax_make_copy_2d(dev.va, dst.va, sz, 1, 0, 0);
        aax_cmd_emit(&c, &p0, sizeof(p0));
        aax_cmd_emit(&c, &p1, sizeof(p1));
    }
    until = dev_now(fd) + for_ms * 1000000ull;
    do {
        fill_random(&src, 100 + n);
        memset(dst.map, 0, sz);
        r = submit_q(d, 0, &cb, 0, 112, 0, &seq, NULL);
        if (!r) r = aax_wait_queue(d, 0, seq, 60 * SEC, &w);
        if (r || memcmp(src.map, dst.map, sz)) bad++;
        if (!n) first = w.ts_start_ns;
        last = w.ts_end_ns;
        n++;
    } while (dev_now(fd) < until && n < 100000);
    close(fd);
    printf("copy-loop: %u round trips of 1 MiB, %u verified bit-exact, %u failed; device time first start %llu last end %llu\n",
           n, n - bad, bad, (unsigned long long)first, (unsigned long long)last);
    aax_bo_free(d, &src);
    aax_bo_free(d, &dst);
    aax_bo_free(d, &dev);
    aax_bo_free(d, &cb);
    return bad ? 1 : 0;
}

/* The driver's reset path from user space (debugfs `reset`) with long jobs in flight; after_ms:
 * first wait that long in device time. */
static int flr_test(aax_dev *d, uint64_t after_ms)
{
    enum { JOBS = 4, PKTS = 128 };
    aax_bo src, dev, dst, cb;
    aax_cmdbuf c = {&cb, 0};
    struct aax_drm_wait w;
    uint32_t seq[JOBS], s1;
    unsigned i, done_ok = 0, aborted = 0, other = 0;
    int r, fd, ok = 1;
    const char *rp = dbg_path("reset");
    if (!rp) return fail("debugfs reset", -ENOENT);
    if ((r = aax_bo_create(d, CHUNK, AAX_BO_HOST, &src)) || (r = aax_bo_map(d, &src)) ||
        (r = aax_bo_create(d, CHUNK, AAX_BO_HOST, &dst)) || (r = aax_bo_map(d, &dst)) ||
        (r = aax_bo_create(d, CHUNK, AAX_BO_DEVICE, &dev)) || (r = aax_bo_create(d, 8192, AAX_BO_HOST, &cb)) ||
        (r = aax_bo_map(d, &cb)))
        return fail("BO", r);
    for (i = 0; i < PKTS; ++i) {
        aax_pkt_dma p = aax_make_copy_2d(src.va, dev.va, CHUNK, 1, 0, 0);
        aax_cmd_emit(&c, &p, sizeof(p));
    }
    {
        aax_pkt_dma p = aax_make_copy_2d(dev.va, dst.va, CHUNK, 1, 0, 0);
        aax_cmd_emit(&c, &p, sizeof(p));
    }
    fill_random(&src, 0xf1);
    if (after_ms) printf("flr: device time %llu ns: starting\n", (unsigned long long)wait_device_ms(after_ms));
    for (i = 0; i < JOBS; ++i)
        if ((r = submit_q(d, 0, &cb, 0, PKTS * 56, 0, &seq[i], NULL))) return fail("submit", r);
    {
        const char *tp = dbg_path("timestamp");
        int tfd = tp ? open(tp, O_RDONLY) : -1;
        uint64_t t0 = tfd >= 0 ? dev_now(tfd) : 0, t1;
        if ((fd = open(rp, O_WRONLY)) < 0 || write(fd, "1", 1) != 1) return fail("reset", -errno);
        close(fd);
        t1 = tfd >= 0 ? dev_now(tfd) : 0;
        if (tfd >= 0) close(tfd);
        printf("flr: reset between device time %llu and %llu ns\n", (unsigned long long)t0, (unsigned long long)t1);
    }
    for (i = 0; i < JOBS; ++i) {
        r = aax_wait_queue(d, 0, seq[i], 60 * SEC, &w);
        if (r == 0) done_ok++;
        else if (r == -EIO && w.status == AAX_ERR_ABORTED) aborted++;
        else other++;
    }
    printf("flr: %u jobs of %u x 4 MiB in flight at the reset: %u ok, %u EIO ABORTED, %u other\n", JOBS, PKTS, done_ok,
           aborted, other);
    ok &= aborted >= 1 && other == 0;
    memset(dst.map, 0, CHUNK);
    r = submit_q(d, 0, &cb, (PKTS - 1) * 56, 112, 0, &s1, NULL);
    if (!r) r = aax_wait_queue(d, 0, s1, 60 * SEC, &w);
    r = r ? r : memcmp(src.map, dst.map, CHUNK) ? -EILSEQ : 0;
    printf("flr: after the reset: copy %s\n", r == 0 ? "ok, verified bit-exact" : ename(r));
    ok &= r == 0;
    aax_bo_free(d, &src);
    aax_bo_free(d, &dst);
    aax_bo_free(d, &dev);
    aax_bo_free(d, &cb);
    printf("flr: %s\n", ok ? "pass" : "FAIL");
    return ok ? 0 : 1;
}

/* A device reset (the driver's reset path, debugfs `reset`) revokes every user queue: its
 * mappings are zapped (SIGBUS), UQ_DESTROY still frees it, a new queue works. */
static int uq_reset_test(aax_dev *d)
{
    const uint64_t sz = 64 << 10;
    aax_bo src, dst, cb;
    aax_uq q;
    uint32_t vm = 0;
    uint64_t ns;
    int r, fd, ok = 1, s1, s2, s3;
    const char *rp = dbg_path("reset");
    if (!rp) return fail("debugfs reset", -ENOENT);
    if ((r = uq_setup(d, &vm, sz, 4, &src, &dst, &cb)) || (r = aax_uq_create(d, vm, 4, &q))) return fail("uq", r);
    r = uq_copies(&q, &src, &dst, sz, 4, 9, &ns);
    printf("uq-reset: queue %u: 4 copies %s\n", q.info.queue_id, r == 0 ? "verified bit-exact" : ename(r));
    ok &= r == 0;
    if ((fd = open(rp, O_WRONLY)) < 0 || write(fd, "1", 1) != 1) return fail("reset", -errno);
    close(fd);
    s1 = probe_read(q.mem);
    s2 = probe_read(q.cq);
    s3 = probe_read(q.db);
    printf("uq-reset: after the device reset, reading its ring %s, CQ %s, doorbell page %s\n", signame(s1), signame(s2),
           signame(s3));
    ok &= s1 == SIGBUS && s2 == SIGBUS && s3 == SIGBUS;
    print_uq_line("uq-reset", q.info.queue_id);
    r = aax_uq_destroy(&q);
    printf("uq-reset: destroy %s\n", ename(r));
    ok &= r == 0;
    if ((r = aax_uq_create(d, vm, 4, &q))) return fail("uq", r);
    r = uq_copies(&q, &src, &dst, sz, 4, 10, &ns);
    printf("uq-reset: new queue %u: 4 copies %s\n", q.info.queue_id, r == 0 ? "verified bit-exact" : ename(r));
    ok &= r == 0;
    aax_uq_destroy(&q);
    aax_vm_destroy(d, vm);
    aax_bo_free(d, &src);
    aax_bo_free(d, &dst);
    aax_bo_free(d, &cb);
    printf("uq-reset: %s\n", ok ? "pass" : "FAIL");
    return ok ? 0 : 1;
}

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * SEC + t.tv_nsec;
}

/* Device time now (the debugfs `timestamp` read arrives in the chip). */
static uint64_t dev_now(int fd)
{
    char buf[32];
    ssize_t k = pread(fd, buf, sizeof(buf) - 1, 0);
    if (k <= 0) return 0;
    buf[k] = 0;
    return strtoull(buf, NULL, 10);
}

static int cmp_i64(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void stats(int64_t *v, unsigned n, int64_t *min, int64_t *median, int64_t *mean)
{
    int64_t sum = 0;
    unsigned i;
    for (i = 0; i < n; ++i) sum += v[i];
    qsort(v, n, sizeof(*v), cmp_i64);
    *min = v[0];
    *median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    *mean = sum / n;
}

/* Kernel queue (SUBMIT + WAIT ioctls) vs user queue (no system call), in one VM: per job the
 * guest time in the submit call and the device's submit-to-start (ts_start minus a TIMESTAMP read
 * just before the call); then 32 jobs streamed (submitted back to back). */
static int uq_latency(aax_dev *d, unsigned njobs)
{
    const uint64_t sz = 4096;
    enum { STREAM = 32 };
    static int64_t call[256], s2s[256];
    aax_bo src, dst, cb;
    aax_uq q;
    uint32_t vm = 0, ids[STREAM], seq;
    int fd, r, ok = 1, user, empty;
    unsigned i;
    const char *tp = dbg_path("timestamp");
    if (njobs > 256) njobs = 256;
    if (!tp || (fd = open(tp, O_RDONLY)) < 0) return fail("debugfs timestamp", -ENOENT);
    if ((r = uq_setup(d, &vm, sz, 1, &src, &dst, &cb)) || (r = aax_uq_create(d, vm, 0, &q))) return fail("uq", r);
    fill_random(&src, 5);
    {
        uint64_t t1 = dev_now(fd), t2 = dev_now(fd);
        printf("uq-latency: TIMESTAMP read to read %lld device ns\n", (long long)(t2 - t1));
    }
    for (empty = 1; empty >= 0; --empty)
        for (user = 0; user < 2; ++user) {
            const char *what = empty ? "empty" : "copy4k";
            const uint32_t flags = empty ? AAX_JOB_NULL : 0;
            int64_t cn, cm, ca, sn, sm, sa, t0, wall;
            uint64_t first = 0, last = 0;
            for (i = 0; i < njobs; ++i) {
                uint64_t ts, start;
                int64_t a, b;
                ts = dev_now(fd);
                a = mono_ns();
                if (user) {
                    r = aax_uq_submit(&q, UQ_VA_CB, 56, flags, 0, &ids[0]);
                } else {
                    aax_submit_args sa2;
                    memset(&sa2, 0, sizeof(sa2));
                    sa2.cmdbuf = &cb;
                    sa2.size = 56;
                    sa2.flags = flags;
                    sa2.vm_id = vm;
                    r = aax_submit_ex(d, &sa2, &seq, NULL);
                }
                b = mono_ns();
                if (r) return fail("submit", r);
                if (user) {
                    aax_uq_done dn;
                    r = aax_uq_wait(&q, ids[0], 60 * SEC, &dn);
                    start = dn.ts_start;
                } else {
                    struct aax_drm_wait w;
                    r = aax_wait_queue(d, 0, seq, 60 * SEC, &w);
                    start = w.ts_start_ns;
                }
                if (r) return fail("wait", r);
                call[i] = b - a;
                s2s[i] = (int64_t)(start - ts);
            }
            stats(call, njobs, &cn, &cm, &ca);
            stats(s2s, njobs, &sn, &sm, &sa);
            /* Streamed: STREAM jobs back to back, then wait for all. */
            t0 = mono_ns();
            for (i = 0; i < STREAM; ++i) {
                if (user) {
                    r = aax_uq_submit(&q, UQ_VA_CB, 56, flags, 0, &ids[i]);
                } else {
                    aax_submit_args sa2;
                    memset(&sa2, 0, sizeof(sa2));
                    sa2.cmdbuf = &cb;
                    sa2.size = 56;
                    sa2.flags = flags;
                    sa2.vm_id = vm;
                    r = aax_submit_ex(d, &sa2, &ids[i], NULL);
                }
                if (r) return fail("stream submit", r);
            }
            wall = mono_ns() - t0;
            for (i = 0; i < STREAM; ++i) {
                uint64_t st, en;
                if (user) {
                    aax_uq_done dn;
                    r = aax_uq_wait(&q, ids[i], 60 * SEC, &dn);
                    st = dn.ts_start;
                    en = dn.ts_end;
                } else {
                    struct aax_drm_wait w;
                    r = aax_wait_queue(d, 0, ids[i], 60 * SEC, &w);
                    st = w.ts_start_ns;
                    en = w.ts_end_ns;
                }
                if (r) return fail("stream wait", r);
                if (i == 0) first = st;
                last = en;
            }
            printf("uq-latency: %s %s: jobs %u submit_call_ns min %lld median %lld mean %lld submit_to_start_ns min %lld "
                   "median %lld mean %lld; stream %u: submit_ns %lld device_span_ns %llu\n",
                   user ? "user" : "kernel", what, njobs, (long long)cn, (long long)cm, (long long)ca, (long long)sn,
                   (long long)sm, (long long)sa,
                   STREAM, (long long)wall, (unsigned long long)(last - first));
        }
    memset(dst.map, 0, sz);
    r = aax_uq_submit(&q, UQ_VA_CB, 56, 0, 0, &ids[0]);
    if (!r) r = aax_uq_wait(&q, ids[0], 60 * SEC, NULL);
    r = r ? r : memcmp(src.map, dst.map, sz) ? -EILSEQ : 0;
    printf("uq-latency: last copy %s\n", r == 0 ? "verified bit-exact" : "NOT verified");
    ok &= r == 0;
    close(fd);
    aax_uq_destroy(&q);
    aax_vm_destroy(d, vm);
    aax_bo_free(d, &src);
    aax_bo_free(d, &dst);
    aax_bo_free(d, &cb);
    return ok ? 0 : 1;
}

/* A command buffer freed while its job waits: job L on queue 0 blocks on a semaphore, job A
 * (a 4 MiB copy, command buffer in device memory) waits behind it; A's BO is freed and a new one
 * filled with 0xFF is allocated; a job on queue 1 then releases L. The kernel holds A's BO until
 * A is signalled, so the new BO cannot take its device memory (the device reads command buffers
 * by bus address) and A runs the copy it was submitted with. */
static int cmdbuf_free_test(aax_dev *d)
{
    const uint32_t sem = d->info.semaphores - 1;
    aax_bo src, dst, dev, cbl, cba, cbx;
    aax_cmdbuf c = {&cbl, 0};
    struct aax_drm_wait w = {0};
    uint32_t seq_l = 0, seq_a = 0, seq_rel = 0, x = 4242;
    uint64_t off, a_va;
    int r, inflight;

    if (d->info.queues < 2 || d->info.semaphores < 1) {
        printf("cmdbuf-free: needs 2 queues and a semaphore (%u, %u)\n", d->info.queues, d->info.semaphores);
        return 1;
    }
    if ((r = aax_bo_create(d, CHUNK, AAX_BO_HOST, &src)) || (r = aax_bo_map(d, &src)) ||
        (r = aax_bo_create(d, CHUNK, AAX_BO_HOST, &dst)) || (r = aax_bo_map(d, &dst)) ||
        (r = aax_bo_create(d, CHUNK, AAX_BO_DEVICE, &dev)) || (r = host_cb(d, &cbl)) ||
        (r = aax_bo_create(d, 4096, AAX_BO_DEVICE, &cba)) || (r = aax_bo_map(d, &cba)))
        return fail("BO", r);
    for (off = 0; off + 4 <= CHUNK; off += 4) ((uint32_t *)src.map)[off / 4] = xorshift(&x);
    memset(dst.map, 0, CHUNK);
    aax_pkt_sem_wait pw = aax_make_sem_wait((uint16_t)sem, 1, AAX_SEM_GE, 1);
    aax_pkt_sem_signal ps = aax_make_sem_signal((uint16_t)sem, 1, AAX_SEM_MODE_ADD);
    aax_pkt_dma in = aax_make_copy_2d(src.va, dev.va, CHUNK, 1, 0, 0), out = aax_make_copy_2d(dev.va, dst.va, CHUNK, 1, 0, 0);
    aax_cmd_emit(&c, &pw, sizeof(pw)); /* offset 0 */
    aax_cmd_emit(&c, &ps, sizeof(ps)); /* offset 16 */
    aax_cmd_emit(&c, &out, sizeof(out)); /* offset 32 */
    c.bo = &cba;
    c.used = 0;
    aax_cmd_emit(&c, &in, sizeof(in));
    if ((r = submit_q(d, 0, &cbl, 0, sizeof(pw), 0, &seq_l, NULL)) ||
        (r = submit_q(d, 0, &cba, 0, sizeof(in), 0, &seq_a, NULL)))
        return fail("submit", r);
    r = aax_wait_queue(d, 0, seq_a, 0, &w);
    inflight = r == -ETIME || r == -ETIMEDOUT;
    a_va = cba.va;
    aax_bo_free(d, &cba);
    if ((r = aax_bo_create(d, 4096, AAX_BO_DEVICE, &cbx)) || (r = aax_bo_map(d, &cbx))) return fail("BO (next)", r);
    memset(cbx.map, 0xFF, 4096); /* what job A would run if it read the freed memory */
    printf("cmdbuf-free: job A in flight at free: %s; next BO at the freed address: %s\n", inflight ? "yes" : "no",
           cbx.va == a_va ? "yes" : "no");
    if ((r = submit_q(d, 1, &cbl, 16, sizeof(ps), 0, &seq_rel, NULL)) ||
        (r = aax_wait_queue(d, 1, seq_rel, 60 * SEC, &w)) || (r = aax_wait_queue(d, 0, seq_l, 60 * SEC, &w)))
        return fail("release", r);
    r = aax_wait_queue(d, 0, seq_a, 60 * SEC, &w);
    printf("cmdbuf-free: job A %s (device status %s)\n", ename(r), aax_status_name(w.status));
    if (r) return 1;
    if ((r = submit_q(d, 0, &cbl, 32, sizeof(out), 0, &seq_l, NULL)) || (r = aax_wait_queue(d, 0, seq_l, 60 * SEC, &w)))
        return fail("copy back", r);
    r = memcmp(src.map, dst.map, CHUNK) != 0;
    printf("cmdbuf-free: data %s\n", r ? "NOT verified" : "verified bit-exact");
    aax_bo_free(d, &cbx);
    aax_bo_free(d, &cbl);
    aax_bo_free(d, &dev);
    aax_bo_free(d, &dst);
    aax_bo_free(d, &src);
    /* A must have been in flight at the free (else this proves nothing), its BO still held then. */
    return r || !inflight || cbx.va == a_va;
}

/* The debugfs `rings` line "cq <ring>: ..." fields: head, tail, phase, base, bogus; -1 when absent. */
static int cq_state(uint32_t ring, uint32_t *head, uint32_t *tail, uint32_t *entries, unsigned *phase,
                    unsigned long long *base, unsigned long long *bogus)
{
    const char *p = dbg_path("rings");
    char line[512], want[16];
    int found = -1;
    FILE *f = p ? fopen(p, "r") : NULL;
    snprintf(want, sizeof(want), "cq %u:", ring);
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, want, strlen(want)) &&
            sscanf(line + strlen(want), " entries %u head %u tail %u overflows %*u bogus %llu phase %u base %llx",
                   entries, head, tail, bogus, phase, base) == 6)
            found = 0;
    if (f) fclose(f);
    return found;
}

/* A physical job DMAs a completion record into the slot after its own in CQ 0 (host memory,
 * which a physical job may write): first one naming a job never submitted, then one naming the
 * job just completed. Neither is the device's (its producer index has not reached the slot),
 * so the driver must leave it in place: the device's record for the next job goes over it and
 * that job's wait returns. Taking the forged record moved the head past the slot the device
 * writes next, and every later wait on the ring hung. */
static int forged_cq_test(aax_dev *d)
{
    aax_bo rec, cb, src, dst;
    aax_cmdbuf c = {&cb, 0};
    struct aax_drm_wait w;
    uint32_t head, tail, entries, seq, seq_next, forged[2];
    unsigned phase, k;
    unsigned long long base, bogus0, bogus;
    int r, bad = 0;
    if ((r = aax_bo_create(d, 4096, AAX_BO_HOST, &rec)) || (r = aax_bo_map(d, &rec)) || (r = host_cb(d, &cb)) ||
        (r = aax_bo_create(d, 4096, AAX_BO_HOST, &src)) || (r = aax_bo_map(d, &src)) ||
        (r = aax_bo_create(d, 4096, AAX_BO_HOST, &dst)) || (r = aax_bo_map(d, &dst)))
        return fail("BO", r);
    {   /* a first job, so "a finished job" exists; the ring is idle after it */
        aax_pkt_hdr nop = aax_make_hdr(AAX_OP_NOP, 1, 0);
        aax_cmd_emit(&c, &nop, sizeof(nop));
        if ((r = submit_q(d, 0, &cb, 0, sizeof(nop), 0, &seq, NULL)) || (r = aax_wait_queue(d, 0, seq, 60 * SEC, &w)))
            return fail("first job", r);
    }
    forged[0] = 0x7FFFFFF0u;
    forged[1] = seq;
    if (cq_state(0, &head, &tail, &entries, &phase, &base, &bogus0)) return fail("debugfs rings: cq 0", -ENOENT);
    for (k = 0; k < 2; ++k) {
        aax_cq_entry e;
        uint32_t off;
        if (cq_state(0, &head, &tail, &entries, &phase, &base, &bogus)) return fail("debugfs rings: cq 0", -ENOENT);
        if (head != tail || tail + 2 >= entries) {  /* idle, and no wrap: the slot after the job's is this lap's */
            printf("forged-cq: CQ 0 head %u tail %u of %u: cannot place the record\n", head, tail, entries);
            return 1;
        }
        memset(&e, 0, sizeof(e));
        e.job_id = forged[k];
        e.flags = phase ? AAX_CQE_PHASE : 0;
        memcpy(rec.map, &e, sizeof(e));
        c.used = 0;
        off = 0;
        {
            aax_pkt_dma p = aax_make_copy_2d(rec.va, base + (uint64_t)(tail + 1) * AAX_CQ_ENTRY_SIZE, sizeof(e), 1, 0, 0);
            aax_cmd_emit(&c, &p, sizeof(p));
        }
        if ((r = submit_q(d, 0, &cb, off, (uint32_t)c.used, 0, &seq, NULL)) ||
            (r = aax_wait_queue(d, 0, seq, 60 * SEC, &w)))
            return fail("forging job", r);
        /* the next job: a 4 KiB copy, verified */
        for (off = 0; off < 4096; off += 4) ((uint32_t *)src.map)[off / 4] = 0x5EED0000u + off + k;
        memset(dst.map, 0, 4096);
        c.used = 0;
        {
            aax_pkt_dma p = aax_make_copy_2d(src.va, dst.va, 4096, 1, 0, 0);
            aax_cmd_emit(&c, &p, sizeof(p));
        }
        r = submit_q(d, 0, &cb, 0, (uint32_t)c.used, 0, &seq_next, NULL);
        if (!r) r = aax_wait_queue(d, 0, seq_next, 10 * SEC, &w);
        printf("forged-cq: record for job %u placed after the forging job's; the next job %s%s\n", forged[k], ename(r),
               !r && memcmp(src.map, dst.map, 4096) == 0 ? ", its copy verified" : "");
        bad |= r != 0 || memcmp(src.map, dst.map, 4096) != 0;
    }
    if (cq_state(0, &head, &tail, &entries, &phase, &base, &bogus)) return fail("debugfs rings: cq 0", -ENOENT);
    printf("forged-cq: records left in place: %llu\n", bogus - bogus0);
    aax_bo_free(d, &dst);
    aax_bo_free(d, &src);
    aax_bo_free(d, &cb);
    aax_bo_free(d, &rec);
    return bad || bogus - bogus0 < 2;
}

int main(int argc, char **argv)
{
    aax_dev d;
    uint64_t bytes = 64ull << 20, sram = 0x20000000000ull;
    uint32_t m = 64, n = 64, k = 64, cluster = 0, jobs = 16;
    uint64_t after_ms = 0, for_ms = 0;
    int cmd_devmem = 0;
    int i, r;
    if (argc < 2) {
        fprintf(stderr, "usage: aax-run dma-copy [--bytes N] [--cmd-devmem 1] | gemm [--m M --n N --k K --sram-base A --cluster C] | "
                        "bad-packet | fence | recover | vm | dma-copy-vm [--bytes N] [--cmd-devmem 1] | fw-crash | isolation | syncobj | "
                        "uq | uq-exit | uq-reset | uq-latency [--jobs N] | flr [--after-ms T] | copy-loop --for-ms T | cmdbuf-free | "
                        "forged-cq\n");
        return 2;
    }
    for (i = 2; i + 1 < argc; i += 2) {
        unsigned long long v = strtoull(argv[i + 1], NULL, 0);
        if (!strcmp(argv[i], "--bytes")) bytes = v;
        else if (!strcmp(argv[i], "--m")) m = (uint32_t)v;
        else if (!strcmp(argv[i], "--n")) n = (uint32_t)v;
        else if (!strcmp(argv[i], "--k")) k = (uint32_t)v;
        else if (!strcmp(argv[i], "--sram-base")) sram = v;
        else if (!strcmp(argv[i], "--cluster")) cluster = (uint32_t)v;
        else if (!strcmp(argv[i], "--cmd-devmem")) cmd_devmem = v != 0;
        else if (!strcmp(argv[i], "--jobs")) jobs = (uint32_t)v;
        else if (!strcmp(argv[i], "--after-ms")) after_ms = v;
        else if (!strcmp(argv[i], "--for-ms")) for_ms = v;
        else {
            fprintf(stderr, "aax-run: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if ((r = aax_open(&d, NULL))) return fail("open", r);
    if (!strcmp(argv[1], "dma-copy")) r = dma_copy(&d, bytes, cmd_devmem);
    else if (!strcmp(argv[1], "gemm")) r = gemm(&d, m, n, k, sram, (uint16_t)cluster);
    else if (!strcmp(argv[1], "bad-packet")) r = bad_packet(&d);
    else if (!strcmp(argv[1], "fence")) r = fence_test(&d);
    else if (!strcmp(argv[1], "recover")) r = recover_test(&d);
    else if (!strcmp(argv[1], "vm")) r = vm_test(&d);
    else if (!strcmp(argv[1], "dma-copy-vm")) r = dma_copy_vm(&d, bytes, cmd_devmem);
    else if (!strcmp(argv[1], "fw-crash")) r = fw_crash_test(&d);
    else if (!strcmp(argv[1], "isolation")) r = isolation_test(&d);
    else if (!strcmp(argv[1], "syncobj")) r = syncobj_test(&d);
    else if (!strcmp(argv[1], "uq")) r = uq_test(&d);
    else if (!strcmp(argv[1], "flr")) r = flr_test(&d, after_ms);
    else if (!strcmp(argv[1], "copy-loop")) r = copy_loop(&d, for_ms);
    else if (!strcmp(argv[1], "uq-exit")) r = uq_exit_test(&d);
    else if (!strcmp(argv[1], "uq-reset")) r = uq_reset_test(&d);
    else if (!strcmp(argv[1], "uq-latency")) r = uq_latency(&d, jobs ? jobs : 16);
    else if (!strcmp(argv[1], "cmdbuf-free")) r = cmdbuf_free_test(&d);
    else if (!strcmp(argv[1], "forged-cq")) r = forged_cq_test(&d);
    else {
        fprintf(stderr, "aax-run: unknown job %s (dma-copy, gemm, bad-packet, fence, recover, vm, dma-copy-vm, fw-crash, "
                        "isolation, syncobj, uq, uq-exit, uq-reset, uq-latency, flr, copy-loop, cmdbuf-free, forged-cq)\n", argv[1]);
        r = 2;
    }
    aax_close(&d);
    return r;
}
