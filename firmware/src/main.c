/* accelvp control-core firmware: boot handshake, then the job scheduler.
 *
 * The firmware owns scheduling (abi/aax_sched.h): it sleeps in wfi until its interrupt
 * controller reports a doorbell, a reset, a mailbox message or a finished engine queue (or the timer fires
 * for the heartbeat or a job's watchdog), then for every ring it
 *   - takes the job at HEAD, validates the descriptor, starts the ring's engine queue;
 *   - when the engine queue finishes, writes the fence and the completion record into
 *     the host's CQ and raises the CQ interrupt, or stops the ring with an error record;
 *   - aborts a job that runs past its timeout_us (watchdog), completing it as TIMEOUT.
 * Everything the host wrote (ring entries, addresses) is untrusted: bus accesses to it
 * go through a guard that turns an access fault into an error status. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "abi/aax_mmu.h"
#include "abi/aax_sched.h"
#include "fw_boot.h"
#include "fw_sched.h"
#ifdef FW_SRIOV /* the SR-IOV build (accelvp-fw-sriov.elf): docs/virtualization.md */
#include "abi/aax_sriov.h"
#include "fw_sriov.h"
#endif
#include "hal.h"

#define MCAUSE_MTI 0x80000007u
#define MCAUSE_LOAD_FAULT 5u
#define MCAUSE_STORE_FAULT 7u
#define MIE_MTIE (1u << 7)
#define MIE_MEIE (1u << 11)

struct ring_job {
    aax_job_desc d;
    uint64_t ts_start;    /* device ns when the firmware took the job */
    uint64_t deadline_ns; /* 0 = no timeout */
    uint8_t busy;         /* dispatched to the engine queue */
    uint8_t dropping;     /* the host reset the ring (or the device): complete nothing */
    uint8_t timed_out;    /* the watchdog aborted it */
};

static uint64_t devmem_base;
static aax_fw_log *fw_log;
static uint32_t heartbeat;
static uint32_t timer_mhz = 1;
static uint64_t next_heartbeat; /* mtime */
static uint32_t n_rings, n_cqs;
static uint32_t jobs_completed;
static uint32_t has_mmu, mmu_contexts;
static struct ring_job jobs[AAX_FW_MAX_EQS];
static uint64_t window = ~0ull; /* chip address the bus window maps, ~0 = unknown */
#ifdef FW_SRIOV
volatile uint32_t guard_active, guard_fault; /* fw_sriov.c uses them too */
#else
static volatile uint32_t guard_active, guard_fault;
#endif

/* Device bus address -> core address through the device-memory window (0 if outside). */
static void *devmem(uint64_t bus, uint32_t len)
{
    if (bus < devmem_base || bus - devmem_base > AAX_CORE_DEVMEM_SIZE - len)
        return 0;
    return (void *)(uintptr_t)(AAX_CORE_DEVMEM_WINDOW + (uint32_t)(bus - devmem_base));
}

static void logf(const char *fmt, ...)
{
    char line[160];
    va_list ap;
    int n;
    if (!fw_log)
        return;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    fw_log_append(fw_log, line, (uint32_t)n);
}

static uint64_t now_ns(void) { return reg_read64(AAX_REG_TIMESTAMP_LO); /* LO latches HI */ }

/* ---- guarded access to any chip bus address (the movable 1 GiB window) ---------- */
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

/* Copies len bytes (multiple of 4, 4-aligned, inside one window) from the bus; 0 or -1 on
 * an access fault. */
static int bus_read(void *dst, uint64_t src, uint32_t len)
{
    volatile uint32_t *s = (volatile uint32_t *)bus_ptr(src);
    uint32_t *d = (uint32_t *)dst;
    uint32_t i;
    guard_fault = 0;
    guard_active = 1;
    for (i = 0; i < len / 4 && !guard_fault; ++i)
        d[i] = s[i];
    guard_active = 0;
    return guard_fault ? -1 : 0;
}

/* Writes 32-bit words in the order given by `order` (indices), so a record's valid flag
 * lands last; byte-wise when the address is not word aligned. 0 or -1. */
static int bus_write(uint64_t dst, const void *src, uint32_t len, const uint8_t *order)
{
    uint32_t i;
    guard_fault = 0;
    guard_active = 1;
    if (len && (dst & 3) == 0 && (len & 3) == 0 && ((uintptr_t)src & 3) == 0 &&
        ((dst ^ (dst + len - 1)) & ~(uint64_t)(AAX_CORE_BUS_SIZE - 1)) == 0) {
        /* The common case (a fence, a completion record): one window, word stores. */
        volatile uint32_t *d = (volatile uint32_t *)bus_ptr(dst);
        const uint32_t *w = (const uint32_t *)src;
        for (i = 0; i < len / 4 && !guard_fault; ++i) {
            const uint32_t k = order ? order[i] : i;
            d[k] = w[k];
        }
    } else if ((dst & 3) == 0 && (len & 3) == 0) {
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

/* ---- traps: timer and external interrupts are handled in the main loop (MIE stays 0);
 * a trap here is an access fault under the guard, or fatal. Returns the new mepc. */
uint32_t fw_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval)
{
    if ((mcause == MCAUSE_LOAD_FAULT || mcause == MCAUSE_STORE_FAULT) && guard_active) {
        guard_fault = 1;
        return mepc + (((*(const uint16_t *)(uintptr_t)mepc) & 3) == 3 ? 4 : 2); /* skip the access */
    }
    logf("fatal trap: mcause %lu mepc 0x%08lx mtval 0x%08lx", (unsigned long)mcause, (unsigned long)mepc,
         (unsigned long)mtval);
    reg_write(AAX_REG_BOOT_ERR, reg_read(AAX_REG_BOOT_ERR) | 0x80000000u);
    reg_write(AAX_REG_BOOT_STATUS, AAX_BOOT_FAIL);
    reg_write(AAX_REG_FW_IRQ, AAX_IRQ_LINE_ERROR);
    csr_write(mie, 0); /* sleep for good: no interrupt may wake wfi */
    for (;;)
        __asm__ volatile("wfi");
}

static void boot_fail(uint32_t err)
{
    reg_write(AAX_REG_BOOT_ERR, err);
    reg_write(AAX_REG_BOOT_STATUS, AAX_BOOT_FAIL);
    reg_write(AAX_REG_FW_IRQ, AAX_IRQ_LINE_BOOT);
    for (;;)
        __asm__ volatile("wfi");
}

/* ---- job completion -------------------------------------------------------------- */
struct outcome {
    uint8_t status;
    uint8_t opcode;
    uint32_t offset;
    uint64_t addr;
};

static void fail_job(struct outcome *o, uint8_t status, uint64_t addr)
{
    o->status = status;
    o->opcode = AAX_ERR_OPCODE_JOB;
    o->offset = 0;
    o->addr = addr;
}

/* Writes the record into the ring's CQ; a lost record turns a success into an error. */
static void write_record(uint32_t r, struct ring_job *j, struct outcome *o, uint32_t c)
{
    /* Word order of a 32-byte record: everything, then job_id, then the word with PHASE. */
    static const uint8_t order[8] = {2, 3, 4, 5, 6, 7, 0, 1};
    const uint32_t cq = AAX_CQ_BASE(c);
    fw_cq q;
    uint32_t slot, t;
    uint64_t base;
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
          : bus_write(base + (uint64_t)slot * AAX_CQ_ENTRY_SIZE, &e, sizeof e, order) ? AAX_ERR_BAD_ADDRESS
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

/* Completes ring r's head job: fence, record, HEAD, then the interrupt or the error. */
static void finish_job(uint32_t r, struct ring_job *j, struct outcome o)
{
    const uint32_t ctrl = reg_read(AAX_RING_BASE(r) + AAX_RING_CTRL);
    const uint32_t c = (ctrl & AAX_RING_CTRL_CQ_MASK) >> AAX_RING_CTRL_CQ_SHIFT;
    const uint32_t log2 = reg_read(AAX_RING_BASE(r) + AAX_RING_SIZE_LOG2);
    if (o.status == AAX_OK && (j->d.flags & AAX_JOB_WRITE_FENCE)) {
        if (bus_write(j->d.fence_addr, &j->d.fence_value, 8, 0))
            fail_job(&o, AAX_ERR_BAD_ADDRESS, j->d.fence_addr);
    }
    if (c >= n_cqs && o.status == AAX_OK)
        fail_job(&o, AAX_ERR_BAD_PARAM, c); /* the job cannot report: make it an error */
    if (c < n_cqs)
        write_record(r, j, &o, c);
    if (log2 >= 1 && log2 <= 16)
        reg_write(AAX_FW_RING(r) + AAX_FW_RING_HEAD, (reg_read(AAX_FW_RING(r) + AAX_FW_RING_HEAD) + 1) % (1u << log2));
    j->busy = 0;
    if (o.status == AAX_OK) {
        ++jobs_completed;
        reg_write(AAX_FW_RING(r) + AAX_FW_RING_JOBS_DONE, reg_read(AAX_FW_RING(r) + AAX_FW_RING_JOBS_DONE) + 1);
        reg_write(AAX_FW_RING(r) + AAX_FW_RING_STATE, 0);
        if ((j->d.flags & AAX_JOB_IRQ) && c < n_cqs && (reg_read(AAX_CQ_BASE(c) + AAX_CQ_CTRL) & AAX_CQ_CTRL_IRQ_EN))
            reg_write(AAX_REG_FW_IRQ, AAX_IRQ_CQ_SHIFT + c);
        return;
    }
    reg_write(AAX_FW_RING(r) + AAX_FW_RING_STATE, AAX_FW_RING_ERROR | (uint32_t)o.status << AAX_FW_RING_CODE_SHIFT);
    reg_write(AAX_FW_ERR_JOB_ID, j->d.job_id);
    reg_write(AAX_FW_ERR_OFFSET, o.offset);
    reg_write(AAX_FW_ERR_ADDR_LO, (uint32_t)o.addr);
    reg_write(AAX_FW_ERR_ADDR_HI, (uint32_t)(o.addr >> 32));
    reg_write(AAX_FW_ERR_REPORT, o.status | r << 8 | (uint32_t)o.opcode << 16);
    logf("ring %lu job %lu failed: %s (opcode %s, offset %lu)", (unsigned long)r, (unsigned long)j->d.job_id,
         aax_status_name(o.status), aax_opcode_name(o.opcode), (unsigned long)o.offset);
}

/* ---- job start ------------------------------------------------------------------- */
/* Is ASID a (nonzero) address space with an enabled MMU context? */
static int asid_enabled(uint32_t asid)
{
    if (asid == 0 || !has_mmu || asid >= mmu_contexts)
        return 0;
    return (reg_read(AAX_MMU_CTX(asid) + AAX_MMU_CTX_CTRL) & AAX_MMU_CTX_EN) != 0;
}

/* Starts the job at ring r's head. 1 if it completed at once (an empty job, or one refused
 * before it ran): the ring may hold more, and nothing else will make us look again. */
static int try_start(uint32_t r)
{
    struct ring_job *j = &jobs[r];
    const uint32_t rb = AAX_RING_BASE(r);
    struct outcome o = {AAX_OK, 0, 0, 0};
    uint32_t head, log2;
    uint64_t slot;
    if (j->busy || !(reg_read(rb + AAX_RING_CTRL) & AAX_RING_CTRL_EN))
        return 0;
    if (reg_read(AAX_FW_RING(r) + AAX_FW_RING_STATE) & AAX_FW_RING_ERROR)
        return 0; /* stopped until the host resets it */
    if (reg_read(AAX_FW_RING(r) + AAX_FW_RING_HEAD) == reg_read(rb + AAX_RING_TAIL))
        return 0;
    /* BUSY first: a host reset from now on is reported to us instead of acting at once. */
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
    } else if (bus_read(&j->d, slot, sizeof j->d)) {
        memset(&j->d, 0, sizeof j->d);
        fail_job(&o, AAX_ERR_BAD_ADDRESS, slot);
    } else {
        o.status = fw_check_job(&j->d, reg_read(rb + AAX_RING_ASID), asid_enabled(j->d.asid));
        o.opcode = AAX_ERR_OPCODE_JOB;
    }
    if (o.status != AAX_OK || (j->d.flags & AAX_JOB_NULL)) {
        finish_job(r, j, o);
        return 1;
    }
    j->deadline_ns = j->d.timeout_us ? j->ts_start + (uint64_t)j->d.timeout_us * 1000u : 0;
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_CMDBUF_LO, (uint32_t)j->d.cmdbuf_addr);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_CMDBUF_HI, (uint32_t)(j->d.cmdbuf_addr >> 32));
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_SIZE, j->d.cmdbuf_size);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_RING, r);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_DEADLINE_LO, (uint32_t)j->deadline_ns);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_DEADLINE_HI, (uint32_t)(j->deadline_ns >> 32));
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_TAG, j->d.job_id);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_ASID, j->d.asid);
    reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_CTRL, AAX_FW_EQ_START);
    return 0;
}

/* Engine queue r finished ring r's job. */
static void eq_done(uint32_t r)
{
    struct ring_job *j = &jobs[r];
    const uint32_t eq = AAX_FW_EQ(r);
    const uint32_t st = reg_read(eq + AAX_FW_EQ_STATUS);
    struct outcome o;
    if (!j->busy || (st & AAX_FW_EQ_BUSY))
        return;
    if (j->dropping) { /* reset by the host: no record; clearing BUSY completes its reset */
        j->busy = 0;
        j->dropping = 0;
        reg_write(AAX_FW_RING(r) + AAX_FW_RING_STATE, 0);
        return;
    }
    o.status = (uint8_t)(st >> AAX_FW_EQ_CODE_SHIFT);
    o.offset = reg_read(eq + AAX_FW_EQ_ERR_OFFSET);
    o.opcode = (uint8_t)reg_read(eq + AAX_FW_EQ_ERR_OPCODE);
    o.addr = reg_read64(eq + AAX_FW_EQ_ERR_ADDR_LO);
    if (j->timed_out && o.status == AAX_ERR_ABORTED)
        o.status = AAX_ERR_TIMEOUT;
    finish_job(r, j, o);
}

/* Returns the rings to look at again: those reset (every ring after a soft reset). */
static uint32_t handle_resets(void)
{
    const uint32_t v = reg_read(AAX_FW_RESETS);
    uint32_t r;
    reg_write(AAX_FW_RESETS, v);
    if (v & AAX_FW_RESETS_SOFT)
        reg_write(AAX_FW_EPOCH, reg_read(AAX_FW_EPOCH)); /* act in the new epoch; old jobs drop below */
    for (r = 0; r < n_rings; ++r) {
        if (!((v & AAX_FW_RESETS_SOFT) || (v & (1u << r))))
            continue;
        if (jobs[r].busy) {
            jobs[r].dropping = 1;
            reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_CTRL, AAX_FW_EQ_ABORT);
        } else if (!(v & AAX_FW_RESETS_SOFT)) {
            reg_write(AAX_FW_RING(r) + AAX_FW_RING_STATE, 0); /* let the pending reset act now */
        }
    }
    if (v & AAX_FW_RESETS_SOFT)
        logf("device soft reset: jobs in flight dropped");
    return (v & AAX_FW_RESETS_SOFT) ? ~0u : v;
}

/* Watchdog: abort jobs past their deadline; returns the earliest deadline still armed
 * (device ns, 0 = none). */
static uint64_t watchdog(uint64_t now)
{
    uint64_t next = 0;
    uint32_t r;
    for (r = 0; r < n_rings; ++r) {
        struct ring_job *j = &jobs[r];
        if (!j->busy || !j->deadline_ns || j->timed_out || j->dropping)
            continue;
        if (now >= j->deadline_ns) {
            j->timed_out = 1;
            reg_write(AAX_FW_EQ(r) + AAX_FW_EQ_CTRL, AAX_FW_EQ_ABORT);
            logf("watchdog: ring %lu job %lu ran past its %lu us timeout", (unsigned long)r,
                 (unsigned long)j->d.job_id, (unsigned long)j->d.timeout_us);
        } else if (!next || j->deadline_ns < next) {
            next = j->deadline_ns;
        }
    }
    return next;
}

#ifdef FW_SRIOV
/* The PF driver enabled SR-IOV: the SR-IOV scheduler (fw_sriov.c) takes over for good. */
static void __attribute__((noinline, noreturn)) sriov_enter(uint32_t n)
{
    fw_sriov_ctx c;
    c.log = fw_log;
    c.n_rings = n_rings;
    c.n_cqs = n_cqs;
    c.timer_mhz = timer_mhz;
    c.heartbeat = heartbeat;
    c.next_heartbeat = next_heartbeat;
    c.jobs_completed = jobs_completed;
    c.has_mmu = has_mmu;
    c.mmu_contexts = mmu_contexts;
    fw_sriov_run(&c, n);
}
#endif

/* One host message: answer it (the reply raises the host's event line). */
static void mailbox(void)
{
    const uint32_t msg = reg_read(AAX_FW_MBOX_H2F);
    const uint32_t arg = msg & AAX_MBOX_ARG_MASK;
    uint32_t reply;
    switch (msg >> AAX_MBOX_CMD_SHIFT) {
    case AAX_MBOX_PING:
        reply = (arg + 1) & AAX_MBOX_ARG_MASK;
        break;
    case AAX_MBOX_JOBS:
        reply = jobs_completed & AAX_MBOX_ARG_MASK;
        break;
#ifdef FW_SRIOV
    case AAX_MBOX_SRIOV:
        sriov_enter(arg);
#endif
    default:
        reply = AAX_MBOX_ST_UNKNOWN << AAX_MBOX_ST_SHIFT;
        logf("mailbox: unknown command 0x%02lx", (unsigned long)(msg >> AAX_MBOX_CMD_SHIFT));
        break;
    }
    reg_write(AAX_FW_MBOX_F2H, reply);
}

static int scan_all = 1;

static void serve(void)
{
    const uint32_t pending = reg_read(AAX_FW_INT_PENDING);
    uint64_t now, deadline, wake;
    uint32_t r;
    /* Rings that may start a job now: doorbells, finished jobs, resets. Only those are
     * looked at: each look costs three or four register reads, which add up over 16 rings
     * on every event. */
    uint32_t scan = scan_all ? ~0u : 0; /* the first time: whatever came before boot */
    scan_all = 0;
    if (pending)
        reg_write(AAX_FW_INT_PENDING, pending); /* ack first: new events re-raise */
    if (pending & AAX_FW_INT_RESET)
        scan |= handle_resets();
    if (pending & AAX_FW_INT_MAILBOX)
        mailbox();
    if (pending & AAX_FW_INT_DOORBELL) {
        const uint32_t db = reg_read(AAX_FW_DOORBELLS);
        reg_write(AAX_FW_DOORBELLS, db);
        scan |= db;
    }
    for (r = 0; r < n_rings; ++r)
        if (pending & AAX_FW_INT_EQ(r)) {
            eq_done(r);
            scan |= 1u << r;
        }
    for (r = 0; r < n_rings; ++r)
        if (scan & (1u << r))
            while (try_start(r))
                ;

    now = now_ns();
    deadline = watchdog(now);
    if (mtime() >= next_heartbeat) {
        reg_write(AAX_REG_HEARTBEAT, ++heartbeat);
        next_heartbeat = mtime() + (uint64_t)timer_mhz * 1000u; /* every ms of device time */
    }
    wake = next_heartbeat;
    if (deadline) {
        const uint64_t t = mtime() + (deadline - now) * timer_mhz / 1000u + 1;
        if (t < wake)
            wake = t;
    }
    set_mtimecmp(wake);
}

int main(void)
{
    const aax_boot_params *p;
    uint32_t err, caps0;

    reg_write(AAX_REG_BOOT_STATUS, AAX_BOOT_STARTED);
    devmem_base = reg_read64(AAX_REG_DEVMEM_BASE_LO);
    p = (const aax_boot_params *)devmem(reg_read64(AAX_REG_BOOT_PARAMS_LO), sizeof *p);
    if (!p)
        boot_fail(AAX_BOOT_ERR_BAD_PARAMS);
    err = fw_check_boot_params(p, AAX_ABI_MAJOR);
    if (err)
        boot_fail(err);

    if (p->log_size) {
        fw_log = (aax_fw_log *)devmem(p->log_addr, p->log_size);
        if (!fw_log)
            boot_fail(AAX_BOOT_ERR_BAD_PARAMS);
        fw_log->magic = AAX_FW_LOG_MAGIC;
        fw_log->capacity = p->log_size - (uint32_t)sizeof(aax_fw_log);
        fw_log->write_pos = 0;
    }
    caps0 = reg_read(AAX_REG_CAPS0);
    n_rings = caps0 & 0xFF;
    n_cqs = (caps0 >> 8) & 0xFF;
    if (n_rings > AAX_FW_MAX_EQS)
        n_rings = AAX_FW_MAX_EQS;
    has_mmu = (reg_read(AAX_REG_CAPS1) & AAX_CAPS1_MMU) != 0;
    mmu_contexts = has_mmu ? (reg_read(AAX_REG_MMU_CAPS) & 0xFF) : 0;
    timer_mhz = p->timer_mhz ? p->timer_mhz : 1;
    logf("accelvp firmware %u.%u.%u: boot params ok, %lu rings, %lu CQs, core %lu MHz", FW_VERSION_MAJOR,
         FW_VERSION_MINOR, FW_VERSION_BUILD, (unsigned long)n_rings, (unsigned long)n_cqs,
         (unsigned long)p->core_freq_mhz);

    /* Interrupts wake wfi; they are served in the loop below, never in a handler. */
    reg_write(AAX_FW_INT_ENABLE,
              AAX_FW_INT_DOORBELL | AAX_FW_INT_RESET | AAX_FW_INT_MAILBOX |
                  (((1u << n_rings) - 1) << AAX_FW_INT_EQ_SHIFT));
    next_heartbeat = mtime() + (uint64_t)timer_mhz * 1000u;
    set_mtimecmp(next_heartbeat);
    csr_set(mie, MIE_MTIE | MIE_MEIE);

    /* A re-boot after a crash (the driver soft-reset the device first): act in the current
     * epoch, so the queue manager takes this firmware's ring state and engine starts. */
    reg_write(AAX_FW_EPOCH, reg_read(AAX_FW_EPOCH));
    reg_write(AAX_REG_FW_VERSION, FW_VERSION);
    reg_write(AAX_REG_BOOT_STATUS, AAX_BOOT_READY);
    reg_write(AAX_REG_FW_IRQ, AAX_IRQ_LINE_BOOT);
    logf("ready: scheduling %lu rings", (unsigned long)n_rings);
    for (;;) {
        serve();
        /* Sleeps until an enabled interrupt is pending; a source that fired after serve()
         * read it keeps its level, so wfi returns at once. */
        __asm__ volatile("wfi");
    }
}
