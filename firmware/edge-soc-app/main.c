/* The SoC sample application (docs/edge.md): a bare-metal driver for the NPU IP
 * (abi/aax_soc.h) and a small INT8 CNN run through it, checked against the same network
 * computed on this CPU.
 *
 *   input 16x16x8 --conv 3x3 pad 1, 16 filters (im2col on the CPU, GEMM on the NPU)-->
 *   16x16x16 int32 --ReLU--> --maxpool 2x2--> 8x8x16 --requantize (x 2^-5, int8)-->
 *   1024 --fully connected (GEMM)--> 10 int32
 *
 * With the NPU's DMA engine (CAPS.DMA) the jobs name the im2col matrix, the weights and the
 * output in DRAM and the NPU fetches them; without it the CPU copies them into the NPU SRAM
 * through its window and reads the output back. Intermediates stay in the SRAM either way.
 * Before the network, four jobs with bad register values must end in the expected error
 * code and the error interrupt. The figures go to the SYSCTL report words; the run ends
 * with SYSCTL_EXIT = 1 (pass) or (code << 1) | 1. */
#include <stdint.h>

#include "abi/aax_queue.h"
#include "abi/aax_soc.h"

#define REG(base, off) (*(volatile uint32_t*)(uintptr_t)((base) + (off)))
#define NPU(off) REG(AAX_SOC_NPU_REGS_BASE, off)
#define SYS(off) REG(AAX_SOC_SYSCTL_BASE, off)
#define SRAM(off) (AAX_SOC_NPU_SRAM_BASE + (off))

/* The network's shapes. */
#define H 16
#define W 16
#define CIN 8
#define COUT 16
#define KDIM (9 * CIN)            /* im2col columns */
#define PIX (H * W)               /* im2col rows */
#define PH (H / 2)
#define PW (W / 2)
#define FC_IN (PH * PW * COUT)    /* 1024 */
#define FC_OUT 10
#define SHIFT 5                   /* requantization: x * 2^-SHIFT, round to nearest even, saturate */

/* Where the operands live in the NPU SRAM (lower half; the upper half is the DMA staging area). */
#define S_A    0x00000u /* im2col [PIX][KDIM] int8 (18432 B) */
#define S_W1   0x05000u /* [KDIM][COUT] int8 */
#define S_C1   0x06000u /* [PIX][COUT] int32 (16 KiB), ReLU in place */
#define S_P    0x0A000u /* [PH][PW][COUT] int32 */
#define S_Q    0x0B000u /* [FC_IN] int8 */
#define S_W2   0x0C000u /* [FC_IN][FC_OUT] int8 (10240 B) */
#define S_OUT  0x0F000u /* [FC_OUT] int32 */
#define S_LIST 0x0F100u /* the command list (5 x 64 B), without DMA */

static int8_t input[H][W][CIN] __attribute__((aligned(64)));
static int8_t a_mat[PIX][KDIM] __attribute__((aligned(64)));
static int8_t w1[KDIM][COUT] __attribute__((aligned(64)));
static int8_t w2[FC_IN][FC_OUT] __attribute__((aligned(64)));
static int32_t out[FC_OUT] __attribute__((aligned(64)));
/* The CPU's reference. */
static int32_t r_c1[PIX][COUT];
static int32_t r_p[PH][PW][COUT];
static int8_t r_q[FC_IN];
static int32_t r_out[FC_OUT];

static volatile uint32_t irq_status_seen;
static volatile uint32_t irq_count;

static inline uint32_t csr_minstret(void) { uint32_t v; __asm__ volatile("csrr %0, minstret" : "=r"(v)); return v; }
static inline uint32_t csr_mcycle(void) { uint32_t v; __asm__ volatile("csrr %0, mcycle" : "=r"(v)); return v; }

static void putstr(const char* s) { while (*s) SYS(AAX_SOC_SYSCTL_PUTC) = (uint32_t)*s++; }
static void putdec(uint32_t v) {
    char b[12];
    int i = 0;
    do { b[i++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (i) SYS(AAX_SOC_SYSCTL_PUTC) = (uint32_t)b[--i];
}

static void fail(uint32_t code) {
    putstr("edge-soc-app: FAIL ");
    putdec(code);
    putstr("\n");
    SYS(AAX_SOC_SYSCTL_EXIT) = (code << 1) | 1u;
    for (;;) __asm__ volatile("wfi");
}

/* Called by the shared trap entry (firmware/src/start.S); returns where to resume.
 * Machine external interrupt: the NPU's line. Acknowledge what is pending (W1C). */
uint32_t fw_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval) {
    (void)mtval;
    if (mcause == 0x8000000Bu) {
        const uint32_t s = NPU(AAX_SOC_NPU_IRQ_STATUS);
        NPU(AAX_SOC_NPU_IRQ_STATUS) = s;
        irq_status_seen |= s;
        ++irq_count;
        return mepc;
    }
    fail(100 + (mcause & 0xFF)); /* an exception: the program is broken */
    return mepc;
}

/* Start the job in the registers and sleep until its interrupt; returns the IRQ bits. */
static uint32_t npu_wait(void) {
    for (;;) {
        __asm__ volatile("csrci mstatus, 8");  /* no interrupt between the check and wfi */
        if (irq_status_seen) break;
        __asm__ volatile("wfi");               /* wakes on a pending MEIP even with MIE clear */
        __asm__ volatile("csrsi mstatus, 8");
    }
    __asm__ volatile("csrsi mstatus, 8");
    return irq_status_seen;
}
static uint32_t npu_run(void) {
    irq_status_seen = 0;
    NPU(AAX_SOC_NPU_CTRL) = AAX_SOC_CTRL_START;
    return npu_wait();
}

static void npu_job(uint32_t op, uint32_t dt_in, uint32_t dt_out, uint32_t m, uint32_t n, uint32_t k, uint32_t src0,
                    uint32_t src1, uint32_t dst, uint32_t scalar) {
    NPU(AAX_SOC_NPU_OP) = op;
    NPU(AAX_SOC_NPU_DTYPE_IN) = dt_in;
    NPU(AAX_SOC_NPU_DTYPE_OUT) = dt_out;
    NPU(AAX_SOC_NPU_M) = m;
    NPU(AAX_SOC_NPU_N) = n;
    NPU(AAX_SOC_NPU_K) = k;
    NPU(AAX_SOC_NPU_SRC0) = src0;
    NPU(AAX_SOC_NPU_SRC1) = src1;
    NPU(AAX_SOC_NPU_DST) = dst;
    NPU(AAX_SOC_NPU_SCALAR) = scalar;
}

static uint32_t jobs_ok;
static void npu_job_ok(uint32_t op, uint32_t dt_in, uint32_t dt_out, uint32_t m, uint32_t n, uint32_t k,
                       uint32_t src0, uint32_t src1, uint32_t dst, uint32_t scalar) {
    npu_job(op, dt_in, dt_out, m, n, k, src0, src1, dst, scalar);
    const uint32_t s = npu_run();
    if (s != AAX_SOC_IRQ_DONE || NPU(AAX_SOC_NPU_STATUS) != AAX_SOC_STATUS_DONE)
        fail(10 + NPU(AAX_SOC_NPU_ERR_CODE));
    ++jobs_ok;
}

/* A job that must fail with `code` (and ERR_ADDR == addr) through the error interrupt. */
static uint32_t expect_error(uint32_t code, uint32_t addr) {
    const uint32_t s = npu_run();
    return s == AAX_SOC_IRQ_ERROR && NPU(AAX_SOC_NPU_STATUS) == AAX_SOC_STATUS_ERROR &&
           NPU(AAX_SOC_NPU_ERR_CODE) == code && NPU(AAX_SOC_NPU_ERR_ADDR) == addr;
}

/* The CPU's data movement into and out of the NPU SRAM window, one 32-bit word at a time. */
static uint32_t copy_instret;
static void copy_to_sram(uint32_t off, const void* src, uint32_t bytes) {
    const uint32_t i0 = csr_minstret();
    const uint32_t* s = (const uint32_t*)src;
    volatile uint32_t* d = (volatile uint32_t*)(uintptr_t)SRAM(off);
    for (uint32_t i = 0; i < bytes / 4; ++i) d[i] = s[i];
    copy_instret += csr_minstret() - i0;
}
static void copy_from_sram(void* dst, uint32_t off, uint32_t bytes) {
    const uint32_t i0 = csr_minstret();
    uint32_t* d = (uint32_t*)dst;
    const volatile uint32_t* s = (const volatile uint32_t*)(uintptr_t)SRAM(off);
    for (uint32_t i = 0; i < bytes / 4; ++i) d[i] = s[i];
    copy_instret += csr_minstret() - i0;
}

static uint32_t lcg = 12345u;
static int8_t rnd(int lo, int hi) {
    lcg = lcg * 1103515245u + 12345u;
    return (int8_t)(lo + (int)((lcg >> 16) % (uint32_t)(hi - lo + 1)));
}

static int8_t requant(int32_t x) {
    int32_t q = x >> SHIFT; /* floor */
    const int32_t r = x - (q << SHIFT), half = 1 << (SHIFT - 1);
    if (r > half || (r == half && (q & 1))) ++q;
    return (int8_t)(q > 127 ? 127 : q < -128 ? -128 : q);
}

static void make_data(void) {
    for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x)
            for (int c = 0; c < CIN; ++c) input[y][x][c] = rnd(-16, 15);
    for (int r = 0; r < KDIM; ++r)
        for (int c = 0; c < COUT; ++c) w1[r][c] = rnd(-8, 7);
    for (int r = 0; r < FC_IN; ++r)
        for (int c = 0; c < FC_OUT; ++c) w2[r][c] = rnd(-8, 7);
    /* im2col (padding 1): row = output pixel, column = (ky*3 + kx)*CIN + ci. */
    for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x)
            for (int ky = 0; ky < 3; ++ky)
                for (int kx = 0; kx < 3; ++kx)
                    for (int c = 0; c < CIN; ++c) {
                        const int iy = y + ky - 1, ix = x + kx - 1;
                        a_mat[y * W + x][(ky * 3 + kx) * CIN + c] =
                            iy < 0 || iy >= H || ix < 0 || ix >= W ? 0 : input[iy][ix][c];
                    }
}

static void reference(void) {
    for (int p = 0; p < PIX; ++p)
        for (int co = 0; co < COUT; ++co) {
            int32_t s = 0;
            for (int k = 0; k < KDIM; ++k) s += (int32_t)a_mat[p][k] * w1[k][co];
            r_c1[p][co] = s < 0 ? 0 : s;
        }
    for (int y = 0; y < PH; ++y)
        for (int x = 0; x < PW; ++x)
            for (int c = 0; c < COUT; ++c) {
                int32_t m = r_c1[(2 * y) * W + 2 * x][c];
                const int32_t v[3] = {r_c1[(2 * y) * W + 2 * x + 1][c], r_c1[(2 * y + 1) * W + 2 * x][c],
                                      r_c1[(2 * y + 1) * W + 2 * x + 1][c]};
                for (int i = 0; i < 3; ++i) m = v[i] > m ? v[i] : m;
                r_p[y][x][c] = m;
                r_q[(y * PW + x) * COUT + c] = requant(m);
            }
    for (int n = 0; n < FC_OUT; ++n) {
        int32_t s = 0;
        for (int k = 0; k < FC_IN; ++k) s += (int32_t)r_q[k] * w2[k][n];
        r_out[n] = s;
    }
}

/* One inference: move the operands (without DMA), run the five layers, bring the output to
 * DRAM. As separate jobs (an interrupt each) or as one command list (one interrupt). Returns
 * the CPU cycles it took. */
static aax_soc_job list[5] __attribute__((aligned(64)));
static void set_job(aax_soc_job* j, uint32_t op, uint32_t dt_in, uint32_t dt_out, uint32_t m, uint32_t n, uint32_t k,
                    uint32_t src0, uint32_t src1, uint32_t dst, uint32_t scalar) {
    j->op = op;
    j->dtype_in = dt_in;
    j->dtype_out = dt_out;
    j->m = m;
    j->n = n;
    j->k = k;
    j->src0 = src0;
    j->src1 = src1;
    j->dst = dst;
    j->scalar = scalar;
    for (int i = 0; i < 6; ++i) j->reserved[i] = 0;
}
static uint32_t run_network(int dma, int use_list) {
    const uint32_t c0 = csr_mcycle();
    uint32_t a_src = SRAM(S_A), w1_src = SRAM(S_W1), w2_src = SRAM(S_W2), out_dst = SRAM(S_OUT);
    if (dma) {
        a_src = (uint32_t)(uintptr_t)a_mat;
        w1_src = (uint32_t)(uintptr_t)w1;
        w2_src = (uint32_t)(uintptr_t)w2;
        out_dst = (uint32_t)(uintptr_t)out;
    } else {
        copy_to_sram(S_A, a_mat, sizeof a_mat);
        copy_to_sram(S_W1, w1, sizeof w1);
        copy_to_sram(S_W2, w2, sizeof w2);
    }
    set_job(&list[0], AAX_SOC_OP_GEMM, AAX_DT_INT8, AAX_DT_INT32, PIX, COUT, KDIM, a_src, w1_src, SRAM(S_C1), 0);
    set_job(&list[1], AAX_SOC_OP_RELU, AAX_DT_INT32, AAX_DT_INT32, PIX, COUT, 0, SRAM(S_C1), 0, SRAM(S_C1), 0);
    set_job(&list[2], AAX_SOC_OP_MAXPOOL, AAX_DT_INT32, AAX_DT_INT32, H, W, COUT, SRAM(S_C1), 0, SRAM(S_P), 0);
    set_job(&list[3], AAX_SOC_OP_SCALE, AAX_DT_INT32, AAX_DT_INT8, PH * PW, COUT, 0, SRAM(S_P), 0, SRAM(S_Q),
            (uint32_t)(127 - SHIFT) << 23); /* 2^-SHIFT as FP32 bits */
    set_job(&list[4], AAX_SOC_OP_GEMM, AAX_DT_INT8, AAX_DT_INT32, 1, FC_OUT, FC_IN, SRAM(S_Q), w2_src, out_dst, 0);
    if (use_list) {
        /* The list: in DRAM with DMA (the NPU fetches it), else copied into the SRAM. */
        uint32_t list_addr = (uint32_t)(uintptr_t)list;
        if (!dma) {
            copy_to_sram(S_LIST, list, sizeof list);
            list_addr = SRAM(S_LIST);
        }
        NPU(AAX_SOC_NPU_LIST_ADDR) = list_addr;
        NPU(AAX_SOC_NPU_LIST_COUNT) = 5;
        irq_status_seen = 0;
        NPU(AAX_SOC_NPU_CTRL) = AAX_SOC_CTRL_START_LIST;
        if (npu_wait() != AAX_SOC_IRQ_DONE || NPU(AAX_SOC_NPU_STATUS) != AAX_SOC_STATUS_DONE)
            fail(30 + NPU(AAX_SOC_NPU_ERR_CODE));
    } else {
        for (int i = 0; i < 5; ++i) {
            const aax_soc_job* j = &list[i];
            npu_job_ok(j->op, j->dtype_in, j->dtype_out, j->m, j->n, j->k, j->src0, j->src1, j->dst, j->scalar);
        }
    }
    if (!dma) copy_from_sram(out, S_OUT, sizeof out);
    return csr_mcycle() - c0;
}

int main(void) {
    if (NPU(AAX_SOC_NPU_ID) != AAX_SOC_NPU_ID_VALUE) fail(1);
    const int dma = (NPU(AAX_SOC_NPU_CAPS) & AAX_SOC_CAPS_DMA) != 0;
    NPU(AAX_SOC_NPU_IRQ_EN) = AAX_SOC_IRQ_DONE | AAX_SOC_IRQ_ERROR;
    __asm__ volatile("csrs mie, %0" ::"r"(1u << 11));  /* MEIE */
    __asm__ volatile("csrsi mstatus, 8");             /* MIE */

    /* Bad register values: an error code, ERR_ADDR and the error interrupt, never more. */
    uint32_t err_tests = 0;
    npu_job(AAX_SOC_OP_GEMM, AAX_DT_INT8, AAX_DT_INT32, 4, 4, 4, 0x40000000u, SRAM(0), SRAM(0x100), 0);
    err_tests += expect_error(AAX_SOC_ERR_BAD_ADDRESS, 0x40000000u);
    npu_job(AAX_SOC_OP_MAXPOOL, AAX_DT_INT32, AAX_DT_INT32, 3, 4, 4, SRAM(0), 0, SRAM(0x100), 0);
    err_tests += expect_error(AAX_SOC_ERR_BAD_SHAPE, 3);
    npu_job(99, AAX_DT_INT8, AAX_DT_INT32, 4, 4, 4, SRAM(0), SRAM(0), SRAM(0x100), 0);
    err_tests += expect_error(AAX_SOC_ERR_BAD_OP, 99);
    if (dma) { /* 1 MiB of operand does not fit the staging area */
        npu_job(AAX_SOC_OP_RELU, AAX_DT_INT32, AAX_DT_INT32, 512, 512, 0, AAX_SOC_DRAM_BASE, 0, SRAM(0), 0);
        err_tests += expect_error(AAX_SOC_ERR_NO_SPACE, 512u * 512u * 4u);  /* ERR_ADDR: staging bytes needed */
    } else { /* no DMA: a DRAM operand is out of the NPU's reach */
        npu_job(AAX_SOC_OP_GEMM, AAX_DT_INT8, AAX_DT_INT32, 4, 4, 4, (uint32_t)(uintptr_t)a_mat, SRAM(0),
                SRAM(0x100), 0);
        err_tests += expect_error(AAX_SOC_ERR_BAD_ADDRESS, (uint32_t)(uintptr_t)a_mat);
    }
    const uint32_t irqs_err = irq_count;

    make_data();

    /* The network on the NPU: job by job, then again as one command list. */
    uint32_t list_cycles = 0, list_copy = 0;
    const uint32_t npu_cycles = run_network(dma, 0);
    const uint32_t copy_jobs = copy_instret;
    uint32_t mismatches = 0, checksum = 0;
    reference();
    for (int i = 0; i < FC_OUT; ++i) {
        mismatches += out[i] != r_out[i];
        checksum += (uint32_t)out[i];
    }
    for (int i = 0; i < FC_OUT; ++i) out[i] = 0;
    copy_instret = 0;
    list_cycles = run_network(dma, 1);
    list_copy = copy_instret;
    for (int i = 0; i < FC_OUT; ++i) mismatches += out[i] != r_out[i];

    SYS(AAX_SOC_SYSCTL_REPORT(AAX_SOC_REP_MISMATCHES)) = mismatches;
    SYS(AAX_SOC_SYSCTL_REPORT(AAX_SOC_REP_COPY_INSTRET)) = copy_jobs;
    SYS(AAX_SOC_SYSCTL_REPORT(AAX_SOC_REP_LIST_CYCLES)) = list_cycles;
    SYS(AAX_SOC_SYSCTL_REPORT(AAX_SOC_REP_LIST_COPY_INSTRET)) = list_copy;
    SYS(AAX_SOC_SYSCTL_REPORT(AAX_SOC_REP_NPU_CYCLES)) = npu_cycles;
    SYS(AAX_SOC_SYSCTL_REPORT(AAX_SOC_REP_JOBS)) = jobs_ok;
    SYS(AAX_SOC_SYSCTL_REPORT(AAX_SOC_REP_IRQS)) = irq_count;
    SYS(AAX_SOC_SYSCTL_REPORT(AAX_SOC_REP_ERR_TESTS)) = err_tests;
    SYS(AAX_SOC_SYSCTL_REPORT(AAX_SOC_REP_DMA_MODE)) = (uint32_t)dma;
    SYS(AAX_SOC_SYSCTL_REPORT(AAX_SOC_REP_CHECKSUM)) = checksum;
    SYS(AAX_SOC_SYSCTL_REPORT(AAX_SOC_REP_MAGIC)) = AAX_SOC_REPORT_MAGIC;

    putstr(dma ? "edge-soc-app: NPU DMA mode, " : "edge-soc-app: no-DMA mode (CPU copies), ");
    putdec(jobs_ok);
    putstr(" jobs, ");
    putdec(irq_count);
    putstr(" interrupts, ");
    putdec(err_tests);
    putstr("/4 error tests, ");
    putdec(mismatches);
    putstr(" mismatches (job by job and as a command list)\n");
    if (mismatches) fail(2);
    if (err_tests != 4 || irqs_err != 4 || irq_count != irqs_err + 5 + 1) fail(3);
    SYS(AAX_SOC_SYSCTL_EXIT) = 1;
    for (;;) __asm__ volatile("wfi");
    return 0;
}
