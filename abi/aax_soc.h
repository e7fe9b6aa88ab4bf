/* The NPU as an IP inside an SoC (docs/edge.md): its register-driven job interface and the
 * SoC's 32-bit address map as the application CPU sees it. Plain C99, shared by the model
 * (tlm/npu), the composition (platform/soc) and the bare-metal application
 * (firmware/edge-soc-app).
 *
 * A job is one operation, programmed into the job registers and started by writing
 * AAX_SOC_CTRL_START. Operand and result addresses are SoC bus addresses: inside the NPU's
 * SRAM window they are used in place; inside system DRAM they need the NPU's DMA engine
 * (AAX_SOC_CAPS_DMA), which stages operands into the upper half of the SRAM
 * (AAX_SOC_STAGING_*) and writes the result back. Every check failure ends the job with
 * STATUS.ERROR, an ERR_CODE, ERR_ADDR (the offending address or value) and, if enabled, the
 * ERROR interrupt -- never anything else. */
#ifndef AAX_SOC_H
#define AAX_SOC_H

#include <stdint.h>

/* ---- SoC address map (application CPU and NPU DMA) ---- */
#define AAX_SOC_CLINT_BASE      0x02000000u /* 64 KiB: mtime, mtimecmp, msip */
#define AAX_SOC_SYSCTL_BASE     0x10000000u /* 4 KiB: console, exit, report words */
#define AAX_SOC_SYSCTL_SIZE     0x1000u
#define AAX_SOC_NPU_REGS_BASE   0x10010000u /* 4 KiB: the NPU's registers (below) */
#define AAX_SOC_NPU_REGS_SIZE   0x1000u
#define AAX_SOC_NPU_SRAM_BASE   0x20000000u /* compute.sram_bytes: the NPU SRAM window */
#define AAX_SOC_DRAM_BASE       0x80000000u /* soc.dram.size: system DRAM (the program lives here) */

/* ---- System control (the VP's side of the application) ---- */
#define AAX_SOC_SYSCTL_EXIT     0x000u /* W: 1 = pass, (code << 1) | 1 = fail; ends the run */
#define AAX_SOC_SYSCTL_PUTC     0x004u /* W: one console character (stdout of the VP) */
#define AAX_SOC_SYSCTL_REPORT(i) (0x100u + 4u * (i)) /* RW: report word i < 16, read by the VP */
#define AAX_SOC_REPORT_WORDS    16u
/* Report words the sample application fills (docs/edge.md). */
enum aax_soc_report {
    AAX_SOC_REP_MAGIC        = 0,  /* AAX_SOC_REPORT_MAGIC once the report is complete */
    AAX_SOC_REP_MISMATCHES   = 1,  /* result words that differ from the CPU's reference */
    AAX_SOC_REP_COPY_INSTRET = 2,  /* instructions the CPU spent moving data to/from the NPU */
    AAX_SOC_REP_NPU_CYCLES   = 3,  /* CPU cycles from the first copy to the result in DRAM */
    AAX_SOC_REP_JOBS         = 4,  /* NPU jobs the network ran */
    AAX_SOC_REP_IRQS         = 5,  /* NPU interrupts the CPU took */
    AAX_SOC_REP_ERR_TESTS    = 6,  /* bad-register jobs that ended in the expected error + IRQ */
    AAX_SOC_REP_DMA_MODE     = 7,  /* 1: the NPU fetched from DRAM itself, 0: the CPU copied */
    AAX_SOC_REP_CHECKSUM     = 8,  /* sum of the result words */
    AAX_SOC_REP_LIST_CYCLES  = 9,  /* the same network again as one command list: CPU cycles */
    AAX_SOC_REP_LIST_COPY_INSTRET = 10 /* and the instructions it spent moving data */
};
#define AAX_SOC_REPORT_MAGIC    0x50434F53u /* "SOCP" */

/* ---- NPU registers (offsets from AAX_SOC_NPU_REGS_BASE) ---- */
#define AAX_SOC_NPU_ID          0x000u /* RO: AAX_SOC_NPU_ID_VALUE */
#define AAX_SOC_NPU_VERSION     0x004u /* RO: AAX_SOC_NPU_VERSION_VALUE */
#define AAX_SOC_NPU_CAPS        0x008u /* RO: AAX_SOC_CAPS_* */
#define AAX_SOC_NPU_SRAM_SIZE   0x00Cu /* RO: bytes of the SRAM window */
#define AAX_SOC_NPU_CTRL        0x010u /* WO: AAX_SOC_CTRL_START */
#define AAX_SOC_NPU_STATUS      0x014u /* RO: AAX_SOC_STATUS_* */
#define AAX_SOC_NPU_ERR_CODE    0x018u /* RO: enum aax_soc_err of the last job */
#define AAX_SOC_NPU_ERR_ADDR    0x01Cu /* RO: the address or value the error is about */
#define AAX_SOC_NPU_IRQ_EN      0x020u /* RW: AAX_SOC_IRQ_* raised to the CPU (external interrupt) */
#define AAX_SOC_NPU_IRQ_STATUS  0x024u /* W1C: AAX_SOC_IRQ_* pending; the line is (STATUS & EN) != 0 */
#define AAX_SOC_NPU_JOBS        0x028u /* RO: jobs finished (done or error) */
#define AAX_SOC_NPU_OP          0x040u /* RW: enum aax_soc_op */
#define AAX_SOC_NPU_DTYPE_IN    0x044u /* RW: enum aax_dtype (abi/aax_queue.h) of the sources */
#define AAX_SOC_NPU_DTYPE_OUT   0x048u /* RW: enum aax_dtype of the result */
#define AAX_SOC_NPU_M           0x04Cu /* RW: shape, see enum aax_soc_op */
#define AAX_SOC_NPU_N           0x050u
#define AAX_SOC_NPU_K           0x054u
#define AAX_SOC_NPU_SRC0        0x058u /* RW: SoC bus address of operand a */
#define AAX_SOC_NPU_SRC1        0x05Cu /* RW: SoC bus address of operand b (GEMM, ADD) */
#define AAX_SOC_NPU_DST         0x060u /* RW: SoC bus address of the result */
#define AAX_SOC_NPU_SCALAR      0x064u /* RW: FP32 bits (SCALE) */
#define AAX_SOC_NPU_LIST_ADDR   0x070u /* RW: SoC bus address of a command list (aax_soc_job[LIST_COUNT]) */
#define AAX_SOC_NPU_LIST_COUNT  0x074u /* RW: entries of the list, 1 .. AAX_SOC_LIST_MAX */
#define AAX_SOC_NPU_LIST_INDEX  0x078u /* RO: the list entry running, or the one that failed */

#define AAX_SOC_NPU_ID_VALUE      0x4E505531u /* "NPU1" */
#define AAX_SOC_NPU_VERSION_VALUE 0x00010000u
#define AAX_SOC_CAPS_DMA          (1u << 0)   /* the NPU has a DMA engine: DRAM operands allowed */
#define AAX_SOC_CTRL_START        (1u << 0)
#define AAX_SOC_CTRL_START_LIST   (1u << 1)   /* run the command list at LIST_ADDR, one interrupt at its end */
#define AAX_SOC_LIST_MAX          256u
#define AAX_SOC_STATUS_BUSY       (1u << 0)
#define AAX_SOC_STATUS_DONE       (1u << 1)
#define AAX_SOC_STATUS_ERROR      (1u << 2)
#define AAX_SOC_IRQ_DONE          (1u << 0)
#define AAX_SOC_IRQ_ERROR         (1u << 1)

/* Staging area for DRAM operands (with the DMA engine): the upper half of the SRAM. */
#define AAX_SOC_STAGING_OFFSET(sram_size) ((sram_size) / 2u)

enum aax_soc_op {
    AAX_SOC_OP_NONE    = 0,
    AAX_SOC_OP_GEMM    = 1, /* dst[M][N] = src0[M][K] * src1[K][N] (packed, row-major) */
    AAX_SOC_OP_RELU    = 2, /* dst[M][N] = max(src0[M][N], 0) */
    AAX_SOC_OP_MAXPOOL = 3, /* 2x2, stride 2: src0[M=H][N=W][K=C] -> dst[H/2][W/2][C]; H, W even */
    AAX_SOC_OP_SCALE   = 4, /* dst[M][N] = src0 * SCALAR, rounded to DTYPE_OUT (requantization) */
    AAX_SOC_OP_ADD     = 5, /* dst[M][N] = src0 + src1 */
    AAX_SOC_OP_COUNT   = 6
};

/* One command-list entry: the job registers OP .. SCALAR in order, 64 bytes. A list lives in
 * the SRAM window or (with CAPS_DMA) in DRAM; the NPU fetches each entry before it runs it. */
typedef struct aax_soc_job {
    uint32_t op, dtype_in, dtype_out, m, n, k, src0, src1, dst, scalar;
    uint32_t reserved[6];
} aax_soc_job;
typedef char aax_soc_job_size_check[sizeof(aax_soc_job) == 64 ? 1 : -1];

enum aax_soc_err {
    AAX_SOC_ERR_NONE        = 0,
    AAX_SOC_ERR_BAD_OP      = 1, /* OP unknown; ERR_ADDR = OP */
    AAX_SOC_ERR_BAD_SHAPE   = 2, /* a zero or too large dimension, odd pooling size; ERR_ADDR = the dimension */
    AAX_SOC_ERR_BAD_DTYPE   = 3, /* a type the op does not take; ERR_ADDR = the type */
    AAX_SOC_ERR_BAD_ADDRESS = 4, /* an operand neither in the SRAM window nor (with DMA) in DRAM */
    AAX_SOC_ERR_NO_SPACE    = 5, /* DRAM operands do not fit the staging area; ERR_ADDR = bytes needed */
    AAX_SOC_ERR_BUSY        = 6, /* START while a job runs (the running job goes on) */
    AAX_SOC_ERR_ENGINE      = 7, /* an engine refused its packet; ERR_ADDR = its aax_status */
    AAX_SOC_ERR_BUS         = 8, /* a DMA transfer or a list fetch failed; ERR_ADDR = the address */
    AAX_SOC_ERR_BAD_LIST    = 9  /* LIST_COUNT 0 or > AAX_SOC_LIST_MAX (ERR_ADDR = it), or the list out of reach (= LIST_ADDR) */
};

#endif /* AAX_SOC_H */
