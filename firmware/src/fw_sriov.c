/* The firmware's SR-IOV scheduler (docs/virtualization.md, abi/aax_sriov.h).
 *
 * Once the PF driver sends AAX_MBOX_SRIOV, this loop replaces main.c's: it is the same
 * scheduler (doorbells, resets, engine-queue completions, the watchdog, the heartbeat,
 * the mailbox), kept in its own file so that the boot-time scheduler's code -- and the
 * device cycles of every run without VFs -- stay exactly as they were. What it adds:
 *   - rings the PF assigned to a VF (SR-IOV block) are the VF's: every address the firmware
 *     itself touches for them (ring slots, command buffer, descriptor fence, CQ records)
 *     must lie inside the VF's device-memory partition or its VM's host memory, the job
 *     runs in the VF's MMU context (which maps exactly those ranges), and an error goes to
 *     the VF's own error record and interrupt (AAX_REG_SRIOV_ERR_*), not to the PF's;
 *   - the VFs are time-sliced: at most one VF job runs on the chip at a time, and the next
 *     VF is picked by deficit round-robin on measured device time: a VF with work and
 *     positive credit runs its next job and is charged the job's run time; when no VF with
 *     work has credit, each earns share x AAX_VF_QUANTUM_NS; a VF without work forfeits its
 *     credit. The PF's own rings are not throttled.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "abi/aax_mmu.h"
#include "abi/aax_sched.h"
#include "abi/aax_sriov.h"
#include "fw_boot.h"
#include "fw_sched.h"
#include "fw_sriov.h"
#include "hal.h"

#define AAX_VF_QUANTUM_NS 20000
#define NO_VF 0xFFu

struct sjob {
    aax_job_desc d;
    uint64_t ts_start, deadline_ns;
    uint8_t busy, dropping, timed_out;
};
struct vf_info {
    uint32_t first, count, share, asid, rr;
    uint64_t mem_base, mem_size, host_base, host_size;
    uint64_t host_va; /* where the VF sees its VM's memory (AAX_VF_HOST_WINDOW + VM address) */
    int64_t credit; /* ns of device time it may still use in this round */
};
struct outcome {
    uint8_t status, opcode;
    uint32_t offset;
    uint64_t addr;
};

static fw_sriov_ctx S;
static struct sjob jobs[AAX_FW_MAX_EQS];
static uint32_t n_vfs;
static struct vf_info vfs[AAX_MAX_VFS];
static uint8_t vf_of_ring[AAX_FW_MAX_EQS];
static uint32_t vf_running = NO_VF, vf_ring, vf_last;
static uint64_t window = ~0ull;
/* Cluster SRAM scrubbing between VFs: the fills (the PF driver's command buffer), the VF whose
 * job last wrote SRAM (NO_VF: clean), and the ring whose engine queue runs the scrub. */
static uint32_t n_scrub, scrub_size, sram_owner = NO_VF, scrub_ring = NO_VF;
static uint64_t scrub_bus, scrub_start_ns;

static uint64_t now_ns(void) { return reg_read64(AAX_REG_TIMESTAMP_LO); }

static void logf(const char *fmt, ...)
{
    char line[160];
    va_list ap;
    int n;
    if (!S.log)
        return;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    fw_log_append(S.log, line, (uint32_t)n);
}

static volatile uint8_t *bus_ptr(uint64_t addr)
{
    const uint64_t base = addr & ~(uint64_t)(AAX_CORE_BUS_SIZE - 1);
    if (base != window) {
        reg_write(AAX_REG_CORE_WIN_LO, (uint32_t)base);
        reg_write(AAX_REG_CORE_WIN_HI, (uint32_t)(base >> 32));
        window = base;
    }
    return (volatile uint8_t *)(uintptr_t)(AAX_CORE_BUS_WINDOW + (uint32_t)(addr - base));
}

/* Word copies (len a multiple of 4, 4-aligned, inside one window); 0 or -1 on an access fault. */
static int bus_read(void *dst, uint64_t src, uint32_t len)
{
    volatile uint32_t *s = (volatile uint32_t *)bus_ptr(src);
    uint32_t *d = (uint32_t *)dst, i;
    guard_fault = 0;
    guard_active = 1;
    for (i = 0; i < len / 4 && !guard_fault; ++i)
        d[i] = s[i];
    guard_active = 0;
    return guard_fault ? -1 : 0;
}

/* Writes words in `order` (the valid flag last); byte-wise when unaligned. 0 or -1. */
static int bus_write(uint64_t dst, const void *src, uint32_t len, const uint8_t *order)
{
    uint32_t i;
    guard_fault = 0;
    guard_active = 1;
    if ((dst & 3) == 0 && (len & 3) == 0) {
        for (i = 0; i < len / 4 && !guard_fault; ++i) {
            const uint32_t w = order ? order[i] : i;
            uint32_t v;
            memcpy(&v, (const uint8_t *)src + 4 * w, 4);
            *(volatile uint32_t *)bus_ptr(dst + 4 * w) = v;
        }
    } else {
        for (i = 0; i < len && !guard_fault; ++i)
            *bus_ptr(dst + i) = ((const uint8_t *)src)[i];
    }
    guard_active = 0;
    return guard_fault ? -1 : 0;
}

static int in_range(uint64_t a, uint64_t len, uint64_t base, uint64_t size)
{
    return len <= size && a >= base && a - base <= size - len;
}

/* May ring r's jobs make the firmware touch [a, a+len)? The chip bus address in *pa. The PF's
 * rings: anything, untranslated. A VF's: its partition (as is) or its VM's memory (at host_va,
 * onto the host window); nothing else. */
static int ring_addr(uint32_t r, uint64_t a, uint64_t len, uint64_t *pa)
{
    const struct vf_info *v;
    *pa = a;
    if (vf_of_ring[r] == NO_VF)
        return 1;
    v = &vfs[vf_of_ring[r]];
    if (in_range(a, len, v->mem_base, v->mem_size))
        return 1;
    if (in_range(a, len, v->host_va, v->host_size)) {
        *pa = a - v->host_va + v->host_base;
        return 1;
    }
    return 0;
}

static int asid_enabled(uint32_t asid)
{
    if (asid == 0 || !S.has_mmu || asid >= S.mmu_contexts)
        return 0;
    return (reg_read(AAX_MMU_CTX(asid) + AAX_MMU_CTX_CTRL) & AAX_MMU_CTX_EN) != 0;
}

static void fail_job(struct outcome *o, uint8_t status, uint64_t addr)
{
    o->status = status;
    o->opcode = AAX_ERR_OPCODE_JOB;
    o->offset = 0;
    o->addr = addr;
}

static void write_record(uint32_t r, struct sjob *j, struct outcome *o, uint32_t c)
{
    static const uint8_t order[8] = {2, 3, 4, 5, 6, 7, 0, 1};
    const uint32_t cq = AAX_CQ_BASE(c);
    fw_cq q;
    uint32_t slot, t;
    uint64_t base, at;
    aax_cq_entry e;
    int wst;
    if (!(reg_read(cq + AAX_CQ_CTRL) & AAX_CQ_CTRL_EN))
        return;
    t = reg_read(AAX_FW_CQ(c) + AAX_FW_CQ_TAIL);
    q.tail = t & 0xFFFF;
    q.phase = (t & AAX_FW_CQ_PHASE) ? 1 : 0;
    q.size_log2 = reg_read(cq + AAX_CQ_SIZE_LOG2);
    q.head = reg_read(cq + AAX_CQ_HEAD);
    if (fw_cq_reserve(&q, &slot) != 0) {
        reg_write(AAX_FW_CQ(c) + AAX_FW_CQ_OVERFLOWS, reg_read(AAX_FW_CQ(c) + AAX_FW_CQ_OVERFLOWS) + 1);
        return;
    }
    base = reg_read64(cq + AAX_CQ_BASE_LO);
    fw_cq_fill(&e, &j->d, r, o->status, o->offset, o->opcode, q.phase, j->ts_start, now_ns());
    wst = (base % AAX_CQ_ENTRY_SIZE) ? AAX_ERR_BAD_PARAM
          : !ring_addr(r, base + (uint64_t)slot * AAX_CQ_ENTRY_SIZE, sizeof e, &at) ? AAX_ERR_BAD_ADDRESS
          : bus_write(at, &e, sizeof e, order)                                     ? AAX_ERR_BAD_ADDRESS
                                                                                   : AAX_OK;
    if (wst != AAX_OK) {
        reg_write(AAX_FW_CQ(c) + AAX_FW_CQ_OVERFLOWS, reg_read(AAX_FW_CQ(c) + AAX_FW_CQ_OVERFLOWS) + 1);
        if (o->status == AAX_OK)
            fail_job(o, (uint8_t)wst, base);
        return;
    }
    fw_cq_commit(&q);
    reg_write(AAX_FW_CQ(c) + AAX_FW_CQ_TAIL, q.tail | (q.phase ? AAX_FW_CQ_PHASE : 0));
}

/* Charges the running VF job's device time to its VF. */
static void charge(uint32_t r, const struct sjob *j)
{
    if (vf_running != NO_VF && vf_ring == r) {
        vfs[vf_running].credit -= (int64_t)(now_ns() - j->ts_start);
        vf_running = NO_VF;
    }
}

static void finish_job(uint32_t r, struct sjob *j, struct outcome o)
{
    const uint32_t ctrl = reg_read(AAX_RING_BASE(r) + AAX_RING_CTRL);
    const uint32_t c = (ctrl & AAX_RING_CTRL_CQ_MASK) >> AAX_RING_CTRL_CQ_SHIFT;
    const uint32_t log2 = reg_read(AAX_RING_BASE(r) + AAX_RING_SIZE_LOG2);
    const uint32_t vf = vf_of_ring[r];
    charge(r, j);
    uint64_t fence_pa;
    if (o.status == AAX_OK && (j->d.flags & AAX_JOB_WRITE_FENCE)) {
        if (!ring_addr(r, j->d.fence_addr, 8, &fence_pa) || bus_write(fence_pa, &j->d.fence_value, 8, 0))
            fail_job(&o, AAX_ERR_BAD_ADDRESS, j->d.fence_addr);
    }
    /* A VF's ring reports to its own CQ only (the front end maps its CQ j to ring first + j). */
    if ((c >= S.n_cqs || (vf != NO_VF && c != r)) && o.status == AAX_OK)
        fail_job(&o, AAX_ERR_BAD_PARAM, c);
    if (c < S.n_cqs && (vf == NO_VF || c == r))
        write_record(r, j, &o, c);
    if (log2 >= 1 && log2 <= 16)
        reg_write(AAX_FW_RING(r) + AAX_FW_RING_HEAD, (reg_read(AAX_FW_RING(r) + AAX_FW_RING_HEAD) + 1) % (1u << log2));
    j->busy = 0;
    if (o.status == AAX_OK) {
        ++S.jobs_completed;
        reg_write(AAX_FW_RING(r) + AAX_FW_RING_JOBS_DONE, reg_read(AAX_FW_RING(r) + AAX_FW_RING_JOBS_DONE) + 1);
        reg_write(AAX_FW_RING(r) + AAX_FW_RING_STATE, 0);
        if ((j->d.flags & AAX_JOB_IRQ) && c < S.n_cqs && (reg_read(AAX_CQ_BASE(c) + AAX_CQ_CTRL) & AAX_CQ_CTRL_IRQ_EN))
            reg_write(AAX_REG_FW_IRQ, AAX_IRQ_CQ_SHIFT + c); /* a VF's CQ: the endpoint sends it to the VF */
        return;
    }
    reg_write(AAX_FW_RING(r) + AAX_FW_RING_STATE, AAX_FW_RING_ERROR | (uint32_t)o.status << AAX_FW_RING_CODE_SHIFT);
    if (vf == NO_VF) {
        reg_write(AAX_FW_ERR_JOB_ID, j->d.job_id);
        reg_write(AAX_FW_ERR_OFFSET, o.offset);
        reg_write(AAX_FW_ERR_ADDR_LO, (uint32_t)o.addr);
        reg_write(AAX_FW_ERR_ADDR_HI, (uint32_t)(o.addr >> 32));
        reg_write(AAX_FW_ERR_REPORT, o.status | r << 8 | (uint32_t)o.opcode << 16);
    } else { /* the VF's own error record and interrupt: no other function sees it */
        reg_write(AAX_REG_SRIOV_ERR_JOB_ID, j->d.job_id);
        reg_write(AAX_REG_SRIOV_ERR_OFFSET, o.offset);
        reg_write(AAX_REG_SRIOV_ERR_ADDR_LO, (uint32_t)o.addr);
        reg_write(AAX_REG_SRIOV_ERR_ADDR_HI, (uint32_t)(o.addr >> 32));
        reg_write(AAX_REG_SRIOV_ERR_REPORT, o.status | (r - vfs[vf].first) << 8 | (uint32_t)o.opcode << 16 | vf << 24);
    }
    logf("%s%lu ring %lu job %lu failed: %s (opcode %s, offset %lu)", vf == NO_VF ? "pf" : "vf",
         (unsigned long)(vf == NO_VF ? 0 : vf), (unsigned long)r, (unsigned long)j->d.job_id,
         aax_status_name(o.status), aax_opcode_name(o.opcode), (unsigned long)o.offset);
}

/* Does ring r have a job to start? */
static int ring_ready(uint32_t r)
{
    const uint32_t rb = AAX_RING_BASE(r);
    if (jobs[r].busy || !(reg_read(rb + AAX_RING_CTRL) & AAX_RING_CTRL_EN))
        return 0;
    if (reg_read(AAX_FW_RING(r) + AAX_FW_RING_STATE) & AAX_FW_RING_ERROR)
        return 0;
    return reg_read(AAX_FW_RING(r) + AAX_FW_RING_HEAD) != reg_read(rb + AAX_RING_TAIL);
}

/* Starts the job at ring r's head; 1 if it runs on the engine queue, 0 if it completed at once. */
static int start(uint32_t r)
{
    struct sjob *j = &jobs[r];
    const uint32_t rb = AAX_RING_BASE(r);
    const uint32_t vf = vf_of_ring[r];
    struct outcome o = {AAX_OK, 0, 0, 0};
    uint32_t head, log2, space;
    uint64_t slot, pa, cmdbuf = 0;
    if (!ring_ready(r))
        return 0;
    reg_write(AAX_FW_RING(r) + AAX_FW_RING_STATE, AAX_FW_RING_BUSY);
    head = reg_read(AAX_FW_RING(r) + AAX_FW_RING_HEAD);
    if (head == reg_read(rb + AAX_RING_TAIL)) {
        reg_write(AAX_FW_RING(r) + AAX_FW_RING_STATE, 0);
        return 0;
    }
    memset(j, 0, sizeof *j);
    j->busy = 1;
    j->ts_start = now_ns();
    log2 = reg_read(rb + AAX_RING_SIZE_LOG2);
    slot = reg_read64(rb + AAX_RING_BASE_LO) + (uint64_t)head * AAX_JOB_DESC_SIZE;
    if (log2 < 1 || log2 > 16 || slot % AAX_JOB_DESC_SIZE) {
        fail_job(&o, AAX_ERR_BAD_PARAM, slot);
    } else if (!ring_addr(r, slot, AAX_JOB_DESC_SIZE, &pa) || bus_read(&j->d, pa, sizeof j->d)) {
        memset(&j->d, 0, sizeof j->d);
        fail_job(&o, AAX_ERR_BAD_ADDRESS, slot);
    } else if (vf != NO_VF && j->d.asid != 0) {
        fail_job(&o, AAX_ERR_BAD_ASID, j->d.asid); /* a VF names no address space: it has one */
    } else {
        if (vf != NO_VF)
            j->d.asid = (uint16_t)vfs[vf].asid;
        o.status = fw_check_job(&j->d, reg_read(rb + AAX_RING_ASID), asid_enabled(j->d.asid));
        o.opcode = AAX_ERR_OPCODE_JOB;
        if (o.status == AAX_OK && !ring_addr(r, j->d.cmdbuf_addr, j->d.cmdbuf_size, &cmdbuf))
            fail_job(&o, AAX_ERR_BAD_ADDRESS, j->d.cmdbuf_addr);
    }
    if (o.status != AAX_OK || (j->d.flags & AAX_JOB_NULL)) {
        finish_job(r, j, o);
        return 0;
    }
    j->deadline_ns = j->d.timeout_us ? j->ts_start + (uint64_t)j->d.timeout_us * 1000u : 0;
    space = j->d.asid | (vf != NO_VF ? AAX_FW_EQ_ASID_VF : 0);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_CMDBUF_LO, (uint32_t)cmdbuf);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_CMDBUF_HI, (uint32_t)(cmdbuf >> 32));
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_SIZE, j->d.cmdbuf_size);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_RING, r);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_DEADLINE_LO, (uint32_t)j->deadline_ns);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_DEADLINE_HI, (uint32_t)(j->deadline_ns >> 32));
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_TAG, j->d.job_id);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_ASID, space);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_CTRL, AAX_FW_EQ_START);
    return 1;
}

static void eq_done(uint32_t r)
{
    struct sjob *j = &jobs[r];
    const uint32_t eq = AAX_FW_EQ(r);
    const uint32_t st = reg_read(eq + AAX_FW_EQ_STATUS);
    struct outcome o;
    if (!j->busy || (st & AAX_FW_EQ_BUSY))
        return;
    if ((st & AAX_FW_EQ_SRAM) && vf_of_ring[r] != NO_VF)
        sram_owner = vf_of_ring[r];
    if (j->dropping) { /* reset by the host (a VF's FLR): no record */
        charge(r, j);
        j->busy = 0;
        j->dropping = 0;
        reg_write(AAX_FW_RING(r) + AAX_FW_RING_STATE, 0);
        return;
    }
    if ((st & AAX_FW_EQ_SRAM) && vf_of_ring[r] != NO_VF)
        sram_owner = vf_of_ring[r]; /* its data is in SRAM now: scrub before another VF runs */
    o.status = (uint8_t)(st >> AAX_FW_EQ_CODE_SHIFT);
    o.offset = reg_read(eq + AAX_FW_EQ_ERR_OFFSET);
    o.opcode = (uint8_t)reg_read(eq + AAX_FW_EQ_ERR_OPCODE);
    o.addr = reg_read64(eq + AAX_FW_EQ_ERR_ADDR_LO);
    if (j->timed_out && o.status == AAX_ERR_ABORTED)
        o.status = AAX_ERR_TIMEOUT;
    finish_job(r, j, o);
}

static uint32_t handle_resets(void)
{
    const uint32_t v = reg_read(AAX_FW_RESETS);
    uint32_t r;
    reg_write(AAX_FW_RESETS, v);
    if (v & AAX_FW_RESETS_SOFT)
        reg_write(AAX_FW_EPOCH, reg_read(AAX_FW_EPOCH));
    for (r = 0; r < S.n_rings; ++r) {
        if (!((v & AAX_FW_RESETS_SOFT) || (v & (1u << r))))
            continue;
        if (jobs[r].busy) {
            jobs[r].dropping = 1;
            reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_CTRL, AAX_FW_EQ_ABORT);
        } else if (!(v & AAX_FW_RESETS_SOFT)) {
            reg_write(AAX_FW_RING(r) + AAX_FW_RING_STATE, 0);
        }
    }
    return (v & AAX_FW_RESETS_SOFT) ? ~0u : v;
}

static uint64_t watchdog(uint64_t now)
{
    uint64_t next = 0;
    uint32_t r;
    for (r = 0; r < S.n_rings; ++r) {
        struct sjob *j = &jobs[r];
        if (!j->busy || !j->deadline_ns || j->timed_out || j->dropping)
            continue;
        if (now >= j->deadline_ns) {
            j->timed_out = 1;
            reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_CTRL, AAX_FW_EQ_ABORT);
        } else if (!next || j->deadline_ns < next) {
            next = j->deadline_ns;
        }
    }
    return next;
}

/* The scrub command buffer the PF driver wrote (aax_sriov_scrub, read through the core's own
 * device-memory window: the firmware region is closed to the chip bus). */
static void load_scrub_list(void)
{
    const uint64_t dm = reg_read64(AAX_REG_DEVMEM_BASE_LO);
    const uint64_t at = reg_read64(AAX_REG_BOOT_PARAMS_LO) + AAX_SRIOV_SCRUB_OFFSET;
    aax_sriov_scrub l;
    n_scrub = 0;
    sram_owner = NO_VF;
    if (at < dm || at - dm > AAX_CORE_DEVMEM_SIZE - sizeof l)
        return;
    memcpy(&l, (const void *)(uintptr_t)(AAX_CORE_DEVMEM_WINDOW + (uint32_t)(at - dm)), sizeof l);
    if (l.magic != AAX_SRIOV_SCRUB_MAGIC || !l.cmdbuf_size || l.cmdbuf_size % 8 || l.cmdbuf % 8 ||
        l.cmdbuf_size > AAX_MAX_CMDBUF_SIZE)
        return;
    n_scrub = 1;
    scrub_bus = l.cmdbuf;
    scrub_size = l.cmdbuf_size;
    logf("sr-iov: SRAM scrubbed between VFs (%lu bytes of fills)", (unsigned long)scrub_size);
}

/* Starts the scrub on ring r's engine queue (before VF v's job there). */
static void scrub_start(uint32_t r)
{
    scrub_ring = r;
    scrub_start_ns = now_ns();
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_CMDBUF_LO, (uint32_t)scrub_bus);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_CMDBUF_HI, (uint32_t)(scrub_bus >> 32));
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_SIZE, scrub_size);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_RING, r);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_DEADLINE_LO, 0);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_DEADLINE_HI, 0);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_TAG, 0);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_ASID, 0); /* physical: the firmware's own buffer */
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_CTRL, AAX_FW_EQ_START);
}

/* The scrub on ring r finished: SRAM is clean (unless it was aborted by a reset), its time is
 * charged to the VF waiting for it, whose job starts now. */
static void scrub_done(uint32_t r)
{
    const uint32_t st = reg_read(AAX_FW_EQ(r) + AAX_FW_EQ_STATUS);
    const uint32_t v = vf_running;
    if (st & AAX_FW_EQ_BUSY)
        return;
    scrub_ring = NO_VF;
    if ((st >> AAX_FW_EQ_CODE_SHIFT & 0xFF) == AAX_OK)
        sram_owner = NO_VF;
    else
        logf("sr-iov: SRAM scrub failed: %s", aax_status_name((uint8_t)(st >> AAX_FW_EQ_CODE_SHIFT)));
    if (v == NO_VF)
        return;
    vfs[v].credit -= (int64_t)(now_ns() - scrub_start_ns);
    if (sram_owner != NO_VF || !start(r)) { /* nothing to run any more (reset), or it completed at once */
        vf_running = NO_VF;
        vfs[v].credit -= 1;
    }
}

/* Reads the VFs' resources from the SR-IOV block. */
static void configure(uint32_t n)
{
    uint32_t v, r;
    if (n > AAX_MAX_VFS)
        n = 0;
    for (r = 0; r < AAX_FW_MAX_EQS; ++r)
        vf_of_ring[r] = NO_VF;
    for (v = 0; v < n; ++v) {
        const uint32_t b = AAX_SRIOV_VF(v);
        struct vf_info *f = &vfs[v];
        memset(f, 0, sizeof *f);
        if (!(reg_read(b + AAX_SRIOV_VF_CTRL) & AAX_SRIOV_VF_CTRL_EN))
            continue;
        f->first = reg_read(b + AAX_SRIOV_VF_RING_FIRST);
        f->count = reg_read(b + AAX_SRIOV_VF_RING_COUNT);
        f->share = reg_read(b + AAX_SRIOV_VF_SHARE) & 0xFF;
        f->asid = reg_read(b + AAX_SRIOV_VF_ASID);
        f->mem_base = reg_read64(b + AAX_SRIOV_VF_MEM_BASE_LO);
        f->mem_size = reg_read64(b + AAX_SRIOV_VF_MEM_SIZE_LO);
        f->host_base = reg_read64(b + AAX_SRIOV_VF_HOST_BASE_LO);
        f->host_size = reg_read64(b + AAX_SRIOV_VF_HOST_SIZE_LO);
        f->host_va = f->host_base - reg_read64(AAX_REG_HOST_WIN_LO) + AAX_VF_HOST_WINDOW;
        if (!f->share)
            f->share = 1;
        if (f->first >= S.n_rings)
            f->count = 0;
        else if (f->count > S.n_rings - f->first)
            f->count = S.n_rings - f->first;
        for (r = f->first; r < f->first + f->count; ++r)
            vf_of_ring[r] = (uint8_t)v;
    }
    n_vfs = n;
    vf_running = NO_VF;
    load_scrub_list();
    logf("sr-iov: %lu VFs scheduled", (unsigned long)n);
    reg_write(AAX_FW_MBOX_F2H, n);
}

static void mailbox(void)
{
    const uint32_t msg = reg_read(AAX_FW_MBOX_H2F);
    const uint32_t arg = msg & AAX_MBOX_ARG_MASK;
    switch (msg >> AAX_MBOX_CMD_SHIFT) {
    case AAX_MBOX_PING:
        reg_write(AAX_FW_MBOX_F2H, (arg + 1) & AAX_MBOX_ARG_MASK);
        break;
    case AAX_MBOX_JOBS:
        reg_write(AAX_FW_MBOX_F2H, S.jobs_completed & AAX_MBOX_ARG_MASK);
        break;
    case AAX_MBOX_SRIOV:
        configure(arg);
        break;
    default:
        reg_write(AAX_FW_MBOX_F2H, AAX_MBOX_ST_UNKNOWN << AAX_MBOX_ST_SHIFT);
        break;
    }
}

/* Does VF v have a ring with a job to start? */
static int vf_ready(uint32_t v)
{
    uint32_t k;
    for (k = 0; k < vfs[v].count; ++k)
        if (ring_ready(vfs[v].first + k))
            return 1;
    return 0;
}

/* Deficit round-robin between the VFs with work; starts at most one VF job. */
static void vf_schedule(void)
{
    uint32_t ready = 0, i, k, round;
    if (vf_running != NO_VF)
        return;
    for (i = 0; i < n_vfs; ++i) {
        if (vf_ready(i))
            ready |= 1u << i;
        else
            vfs[i].credit = 0;
    }
    for (round = 0; ready && vf_running == NO_VF && round < 256; ++round) {
        int picked = 0;
        for (i = 1; i <= n_vfs && vf_running == NO_VF; ++i) {
            const uint32_t v = (vf_last + i) % n_vfs;
            if (!(ready & (1u << v)) || vfs[v].credit <= 0)
                continue;
            picked = 1;
            vf_last = v;
            for (k = 1; k <= vfs[v].count && vf_running == NO_VF; ++k) {
                const uint32_t r = vfs[v].first + (vfs[v].rr + k) % vfs[v].count;
                if (!ring_ready(r))
                    continue;
                vfs[v].rr = r - vfs[v].first;
                vf_running = v;
                vf_ring = r;
                if (n_scrub && sram_owner != NO_VF && sram_owner != v) {
                    scrub_start(r); /* another VF's data is in SRAM: its job starts after the scrub */
                    break;
                }
                if (!start(r)) { /* completed or failed at once (finish_job charged it) */
                    vf_running = NO_VF;
                    vfs[v].credit -= 1;
                }
            }
            if (vf_running == NO_VF && !vf_ready(v))
                ready &= ~(1u << v);
        }
        if (!picked)
            for (i = 0; i < n_vfs; ++i)
                if (ready & (1u << i))
                    vfs[i].credit += (int64_t)vfs[i].share * AAX_VF_QUANTUM_NS;
    }
}

static void serve(void)
{
    const uint32_t pending = reg_read(AAX_FW_INT_PENDING);
    uint64_t now, deadline, wake;
    uint32_t r, scan = 0;
    if (pending)
        reg_write(AAX_FW_INT_PENDING, pending);
    if (pending & AAX_FW_INT_RESET)
        scan |= handle_resets();
    if (pending & AAX_FW_INT_MAILBOX)
        mailbox();
    if (pending & AAX_FW_INT_DOORBELL) {
        const uint32_t db = reg_read(AAX_FW_DOORBELLS);
        reg_write(AAX_FW_DOORBELLS, db);
        scan |= db;
    }
    for (r = 0; r < S.n_rings; ++r)
        if (pending & AAX_FW_INT_EQ(r)) {
            if (scrub_ring == r)
                scrub_done(r);
            else
                eq_done(r);
            scan |= 1u << r;
        }
    for (r = 0; r < S.n_rings; ++r)
        if ((scan & (1u << r)) && vf_of_ring[r] == NO_VF)
            start(r);
    vf_schedule();

    now = now_ns();
    deadline = watchdog(now);
    if (mtime() >= S.next_heartbeat) {
        reg_write(AAX_REG_HEARTBEAT, ++S.heartbeat);
        S.next_heartbeat = mtime() + (uint64_t)S.timer_mhz * 1000u;
    }
    wake = S.next_heartbeat;
    if (deadline) {
        const uint64_t t = mtime() + (deadline - now) * S.timer_mhz / 1000u + 1;
        if (t < wake)
            wake = t;
    }
    set_mtimecmp(wake);
}

void fw_sriov_run(const fw_sriov_ctx *ctx, uint32_t n)
{
    uint32_t r;
    S = *ctx;
    if (S.n_rings > AAX_FW_MAX_EQS)
        S.n_rings = AAX_FW_MAX_EQS;
    /* The window main.c's scheduler left is unknown here: set it on first use. */
    window = ~0ull;
    configure(n);
    for (;;) {
        serve();
        for (r = 0; r < S.n_rings; ++r) /* pick up what came before the switch */
            if (vf_of_ring[r] == NO_VF && !jobs[r].busy)
                start(r);
        __asm__ volatile("wfi");
    }
}
