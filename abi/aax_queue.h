/* SPDX-License-Identifier: MIT */
/*
 * accelvp device ABI ("AAX") v0 -- submission rings, job descriptors, command packets,
 * completion records and status codes. Plain C99, little-endian, naturally aligned.
 * docs/abi.md documents every field.
 */
#ifndef AAX_QUEUE_H
#define AAX_QUEUE_H

#if defined(__KERNEL__)
#include <linux/types.h> /* the Linux driver (driver/linux/) */
#else
#include <stdint.h>
#endif

/* ---- status / error codes (u8) ------------------------------------------------ */
enum aax_status {
    AAX_OK               = 0,
    AAX_ERR_BAD_OPCODE   = 1,  /* opcode unknown to this ABI version */
    AAX_ERR_BAD_LENGTH   = 2,  /* size_qw wrong for the opcode, zero, or overruns the command buffer */
    AAX_ERR_BAD_ADDRESS  = 3,  /* an address does not decode (outside device memory and the host window) */
    AAX_ERR_BAD_PARAM    = 4,  /* a field is out of range (zero width, stride < width, semaphore index, ...) */
    AAX_ERR_BAD_JOB      = 5,  /* job descriptor invalid (size, alignment, flags) */
    AAX_ERR_TIMEOUT      = 6,  /* job ran longer than its timeout_us */
    AAX_ERR_SEM_TIMEOUT  = 7,  /* SEM_WAIT did not see its condition within the device wait limit */
    AAX_ERR_ABORTED      = 8,  /* job dropped by a ring reset (reported by the driver) */
    AAX_ERR_UNSUPPORTED  = 9,  /* opcode reserved for a later device version */
    AAX_ERR_PRIV         = 10, /* privileged packet on an unprivileged queue */
    AAX_ERR_BAD_ASID     = 11, /* address space id not supported */
    AAX_ERR_BUS          = 12, /* bus error other than a decode miss */
    AAX_ERR_MMU_FAULT    = 13, /* an engine access faulted in the MMU (record in MMU_FAULT_*) */
    AAX_ERR_LINK_DOWN    = 14, /* a COLL transfer found its link port down (or unwired peer gone) */
    AAX_ERR_ECC_UE       = 15  /* a read hit an uncorrectable (double-bit) memory error; ERR_ADDR = the word */
};

/* ---- job descriptor: one 64-byte entry of a submission ring ------------------- */
/* Producer protocol: the ring holds 2^SIZE_LOG2 entries; full iff (tail+1) % n == head.
 * Write the entry, then write the new tail to DOORBELL(r). The device consumes from HEAD. */
typedef struct aax_job_desc {
    uint64_t cmdbuf_addr;  /* device bus address of the command buffer, 8-byte aligned */
    uint32_t cmdbuf_size;  /* bytes, multiple of 8, 8 .. AAX_MAX_CMDBUF_SIZE */
    uint32_t job_id;       /* echoed in the completion record */
    uint32_t flags;        /* AAX_JOB_* */
    uint16_t asid;         /* address space id: 0 physical, else an enabled MMU context */
    uint16_t reserved0;
    uint64_t fence_addr;   /* with AAX_JOB_WRITE_FENCE: 64-bit write of fence_value at completion */
    uint64_t fence_value;
    uint32_t timeout_us;   /* 0 = none; else the job fails with AAX_ERR_TIMEOUT past this */
    uint32_t reserved1[5];
} aax_job_desc;

#define AAX_JOB_DESC_SIZE       64u
#define AAX_MAX_CMDBUF_SIZE     (16u << 20)
#define AAX_JOB_IRQ             (1u << 0) /* raise the CQ interrupt when this job completes successfully
                                              (if CQ_CTRL.IRQ_EN); failures raise the error interrupt */
#define AAX_JOB_WRITE_FENCE     (1u << 1)
#define AAX_JOB_TIMESTAMP       (1u << 2) /* fill ts_start/ts_end in the completion record */
#define AAX_JOB_NULL            (1u << 3) /* skip execution (latency tests) */
#define AAX_JOB_FLAGS_VALID     0xFu

/* ---- completion record: one 32-byte entry of a completion queue --------------- */
/* The device writes records at TAIL and toggles PHASE each time it wraps, starting at 1
 * (the CQ memory starts zeroed). The host consumes while PHASE matches its expected phase,
 * then writes its new HEAD. A full CQ drops records and counts AAX_CQ_OVERFLOWS. */
typedef struct aax_cq_entry {
    uint32_t job_id;
    uint16_t ring;
    uint8_t  status;      /* enum aax_status */
    uint8_t  flags;       /* AAX_CQE_* */
    uint32_t err_offset;  /* byte offset of the failing packet in the command buffer */
    uint32_t err_info;    /* [7:0] opcode of the failing packet, AAX_ERR_OPCODE_JOB for job-level errors */
    uint64_t ts_start;    /* device TIMESTAMP (ns) when the job started */
    uint64_t ts_end;      /* ... and when its record was written */
} aax_cq_entry;

#define AAX_CQ_ENTRY_SIZE       32u

/* ---- user queues (ABI 0.2, AAX_RING_ASID_USER) ----------------------------------------
 * The header of a user queue, in memory its owner maps (the driver puts it in the 64 bytes
 * before the ring's first entry). The owner writes it, then rings AAX_UQ_DOORBELL(r); the
 * queue manager reads it at each such doorbell. */
typedef struct aax_uq_header {
    uint32_t wptr;        /* the owner's producer index: the ring's new TAIL (< 2^SIZE_LOG2) */
    uint32_t cq_head;     /* the owner's consumer index of the ring's CQ (its CQ_HEAD) */
    uint32_t reserved[14];
} aax_uq_header;
#define AAX_UQ_HEADER_SIZE      64u
/* Error records name the failing packet's opcode; errors of the job or ring itself
 * (descriptor fetch or contents, misaligned ring base, impossible doorbell value,
 * command-buffer fetch, fence or completion-record write) name this instead. */
#define AAX_ERR_OPCODE_JOB      0xFFu
#define AAX_CQE_PHASE           (1u << 0)
#define AAX_CQE_TS_VALID        (1u << 1)

/* ---- command packets ------------------------------------------------------------ */
/* Every packet starts with an 8-byte header; its total length is size_qw * 8 bytes. */
typedef struct aax_pkt_hdr {
    uint8_t  opcode;   /* enum aax_opcode */
    uint8_t  flags;    /* AAX_PKT_F_* */
    uint16_t size_qw;  /* total packet length in 8-byte units, header included */
    uint32_t param;    /* opcode-specific */
} aax_pkt_hdr;

enum aax_opcode {
    AAX_OP_NOP        = 0x00,
    AAX_OP_WREG       = 0x01, /* privileged register write */
    AAX_OP_DMA        = 0x02,
    AAX_OP_GEMM       = 0x03, /* matrix engine of a compute cluster */
    AAX_OP_VEC        = 0x04, /* vector engine of a compute cluster */
    AAX_OP_SEM_SIGNAL = 0x05,
    AAX_OP_SEM_WAIT   = 0x06,
    AAX_OP_FENCE      = 0x07,
    AAX_OP_MSG        = 0x08,
    AAX_OP_JUMP       = 0x09, /* continue in another command buffer */
    AAX_OP_CALL       = 0x0A, /* run another command buffer, then come back */
    AAX_OP_RET        = 0x0B, /* return from CALL (top level: end of the job) */
    AAX_OP_COLL       = 0x0C, /* scale-out transfer by the collective engine */
    AAX_OP_COUNT      = 0x0D
};

#define AAX_PKT_F_IRQ           (1u << 0) /* raise the ring's CQ interrupt after this packet */

/* NOP: header only; size_qw >= 1 pads. */
typedef struct aax_pkt_nop { aax_pkt_hdr hdr; } aax_pkt_nop;

/* DMA: a 2-D copy or fill of height rows of width bytes. A linear copy is height = 1.
 * param bit0 FILL: write the 32-bit fill pattern (repeated, little-endian, restarting
 * at each row) instead of reading src. src/dst are device bus addresses: device memory
 * or the host window. Rows must not overlap on the destination (dst_stride >= width). */
typedef struct aax_pkt_dma {
    aax_pkt_hdr hdr;
    uint64_t src;
    uint64_t dst;
    uint64_t width;       /* bytes per row, >= 1 */
    uint32_t height;      /* rows, >= 1 */
    uint32_t fill;        /* FILL pattern */
    uint64_t src_stride;  /* bytes between row starts (ignored when height == 1) */
    uint64_t dst_stride;
} aax_pkt_dma;
#define AAX_DMA_FILL            (1u << 0)

/* SEM_SIGNAL: sem = (mode == MODE_SET) ? value : sem + value; executes after all prior packets. */
typedef struct aax_pkt_sem_signal {
    aax_pkt_hdr hdr;
    uint16_t sem;
    uint8_t  mode;        /* AAX_SEM_MODE_SET / AAX_SEM_MODE_ADD */
    uint8_t  reserved;
    uint32_t value;
} aax_pkt_sem_signal;
#define AAX_SEM_MODE_SET        0u
#define AAX_SEM_MODE_ADD        1u

/* SEM_WAIT: the ring stalls until the condition holds, then optionally subtracts value. */
typedef struct aax_pkt_sem_wait {
    aax_pkt_hdr hdr;
    uint16_t sem;
    uint8_t  cond;        /* AAX_SEM_GE / AAX_SEM_EQ / AAX_SEM_NZ */
    uint8_t  dec;         /* nonzero: subtract value when the wait passes */
    uint32_t value;
} aax_pkt_sem_wait;
#define AAX_SEM_GE              0u
#define AAX_SEM_EQ              1u
#define AAX_SEM_NZ              2u

/* FENCE: wait until all prior work of this queue has retired, then (param bits)
 * write value (bit0) or the device timestamp in ns (bit1) as 64 bits to addr. */
typedef struct aax_pkt_fence {
    aax_pkt_hdr hdr;
    uint64_t addr;
    uint64_t value;
} aax_pkt_fence;
#define AAX_FENCE_WRITE_VALUE   (1u << 0)
#define AAX_FENCE_WRITE_TS      (1u << 1)

/* MSG: 32-bit write of value to addr (a host-visible mailbox or flag), and with the
 * header flag AAX_PKT_F_IRQ an interrupt on the ring's completion queue vector. */
typedef struct aax_pkt_msg {
    aax_pkt_hdr hdr;
    uint64_t addr;
    uint32_t value;
    uint32_t reserved;
} aax_pkt_msg;

/* ---- compute packets (GEMM, VEC) ----------------------------------------------- */
/* Element types of GEMM/VEC operands (the codes of accelvp::num::dtype). Floats round to
 * nearest even on every conversion; conversions to FP8 saturate to the largest finite value,
 * conversions to INT8/INT32 saturate. */
enum aax_dtype {
    AAX_DT_FP32     = 0,
    AAX_DT_BF16     = 1,
    AAX_DT_FP16     = 2,
    AAX_DT_FP8_E4M3 = 3,
    AAX_DT_FP8_E5M2 = 4,
    AAX_DT_INT8     = 5,
    AAX_DT_INT32    = 6,
    AAX_DT_COUNT    = 7
};

/* GEMM: C[m][n] = (ACCUMULATE ? C : 0) + sum_k A[m][k] * B[k][n] on cluster `cluster`'s
 * matrix engine. Operands live in that cluster's SRAM: a_addr/b_addr/c_addr are byte
 * offsets from the SRAM's start; leading dimensions are in elements (0 = packed: k, n, n;
 * with B_TRANS, B is stored N x K and ldb 0 = k). Accumulation is in FP32 (INT32 for INT8
 * inputs) in increasing k order; C is converted to dtype_out at the end (RNE/saturating).
 * dtype_in: BF16, FP16, FP8_E4M3, FP8_E5M2, INT8 or FP32. dtype_out: FP32, BF16, FP16,
 * FP8_* for float inputs; INT32 for INT8 inputs. */
typedef struct aax_pkt_gemm {
    aax_pkt_hdr hdr;      /* param: AAX_GEMM_ACCUMULATE | AAX_GEMM_B_TRANS */
    uint16_t cluster;     /* compute cluster index, < compute.clusters */
    uint8_t  dtype_in;    /* enum aax_dtype of A and B */
    uint8_t  dtype_out;   /* enum aax_dtype of C */
    uint8_t  dataflow;    /* AAX_GEMM_DF_* */
    uint8_t  reserved0[3];
    uint32_t m;           /* rows of A and C, >= 1 */
    uint32_t n;           /* columns of B and C, >= 1 */
    uint32_t k;           /* columns of A, rows of B, >= 1 */
    uint32_t reserved1;
    uint32_t a_addr;      /* SRAM byte offsets */
    uint32_t b_addr;
    uint32_t c_addr;
    uint32_t lda;         /* elements between row starts; 0 = packed */
    uint32_t ldb;
    uint32_t ldc;
} aax_pkt_gemm;
#define AAX_GEMM_ACCUMULATE     (1u << 0) /* start from C (converted to the accumulator type) */
#define AAX_GEMM_B_TRANS        (1u << 1) /* B stored transposed: element (k, n) at b_addr + (n*ldb + k)*size */
#define AAX_GEMM_PARAM_VALID    0x3u
#define AAX_GEMM_DF_DEFAULT     0u        /* the cluster's compute.dataflow */
#define AAX_GEMM_DF_WS          1u        /* weight-stationary */
#define AAX_GEMM_DF_OS          2u        /* output-stationary */

/* VEC: one vector-engine operation over a rows x cols tile in cluster SRAM. Operands a
 * (src0), b (src1), c (src2) are in dtype, the result (dst) in dtype_out; every element is
 * widened to FP32, computed in FP32 and rounded once to dtype_out. Strides are elements
 * between row starts of each operand (0 = packed). See docs/abi.md for each op. */
typedef struct aax_pkt_vec {
    aax_pkt_hdr hdr;      /* param: AAX_VEC_* operand flags */
    uint16_t cluster;     /* compute cluster index */
    uint8_t  op;          /* enum aax_vec_op */
    uint8_t  dtype;       /* enum aax_dtype of the sources */
    uint8_t  dtype_out;   /* enum aax_dtype of dst */
    uint8_t  reserved0[3];
    uint32_t rows;        /* >= 1 */
    uint32_t cols;        /* >= 1 */
    uint32_t src0;        /* SRAM byte offsets */
    uint32_t src1;
    uint32_t src2;
    uint32_t dst;
    uint32_t src0_stride; /* elements; 0 = packed */
    uint32_t src1_stride;
    uint32_t src2_stride;
    uint32_t dst_stride;
    uint32_t scalar;      /* FP32 bits: operand b with AAX_VEC_B_SCALAR */
    uint32_t eps;         /* FP32 bits: LAYERNORM epsilon */
} aax_pkt_vec;

enum aax_vec_op {
    AAX_VEC_ADD       = 0,  /* y = a + b */
    AAX_VEC_MUL       = 1,  /* y = a * b */
    AAX_VEC_FMA       = 2,  /* y = a * b + c, one rounding */
    AAX_VEC_MAX       = 3,  /* y = max(a, b) */
    AAX_VEC_RELU      = 4,  /* y = max(a, 0) */
    AAX_VEC_GELU      = 5,  /* y = gelu(a), tanh approximation */
    AAX_VEC_EXP       = 6,  /* y = exp(a) */
    AAX_VEC_RECIP     = 7,  /* y = 1 / a */
    AAX_VEC_CONVERT   = 8,  /* y = a (type conversion dtype -> dtype_out) */
    AAX_VEC_ROW_SUM   = 9,  /* y[r] = sum_c a[r][c]; dst is rows x 1 */
    AAX_VEC_ROW_MAX   = 10, /* y[r] = max_c a[r][c]; dst is rows x 1 */
    AAX_VEC_SOFTMAX   = 11, /* softmax of each row */
    AAX_VEC_LAYERNORM = 12, /* layernorm of each row, eps; AFFINE: * b[c] + c[c] */
    AAX_VEC_TRANSPOSE = 13, /* y[c][r] = a[r][c]; dst is cols x rows; dtype_out == dtype */
    AAX_VEC_OP_COUNT  = 14
};
#define AAX_VEC_B_SCALAR        (1u << 0) /* operand b is the `scalar` immediate (src1 ignored) */
#define AAX_VEC_B_ROW           (1u << 1) /* operand b is one row of cols elements at src1, for every row */
#define AAX_VEC_B_COL           (1u << 2) /* operand b is one element per row: b[r] at src1 + r*src1_stride */
#define AAX_VEC_C_ROW           (1u << 3) /* operand c (FMA, LAYERNORM beta) is one row at src2, for every row */
#define AAX_VEC_AFFINE          (1u << 4) /* LAYERNORM: gamma = b (row at src1), beta = c (row at src2) */
#define AAX_VEC_PARAM_VALID     0x1Fu
/* COLL: a transfer over one of the chip's link ports by its collective engine (docs/abi.md).
 * hdr.param: [7:0] op (AAX_COLL_*), [11:8] dtype (AAX_COLL_DT_*, REDUCE only),
 * [15:12] reduction (AAX_COLL_RED_*, REDUCE only), bit 16 AAX_COLL_F_SIGNAL: when the data
 * has landed, add sem_value to semaphore `sem` -- of the peer for SEND, RDMA_WRITE, REDUCE
 * and SIGNAL, of this chip for RECV. */
typedef struct aax_pkt_coll {
    aax_pkt_hdr hdr;
    uint16_t port;         /* link port of this chip */
    uint16_t sem;          /* semaphore to signal (with AAX_COLL_F_SIGNAL) */
    uint32_t sem_value;
    uint64_t local_addr;   /* device bus address on this chip (source; RECV: destination) */
    uint64_t remote_addr;  /* device bus address on the peer (RDMA_WRITE, REDUCE) */
    uint64_t bytes;        /* payload; 0 only for SIGNAL */
} aax_pkt_coll;
#define AAX_COLL_SEND           0u /* to the buffer the peer posted with RECV on the wired port */
#define AAX_COLL_RECV           1u /* post a receive buffer for the next SEND arriving on `port` */
#define AAX_COLL_RDMA_WRITE     2u /* peer[remote_addr] = local data */
#define AAX_COLL_SIGNAL         3u /* only the remote semaphore signal (bytes = 0) */
#define AAX_COLL_REDUCE         4u /* peer[remote_addr] = peer[remote_addr] (red) local data */
#define AAX_COLL_OP_COUNT       5u
#define AAX_COLL_DT_FP32        0u
#define AAX_COLL_DT_INT32       1u
#define AAX_COLL_DT_BF16        2u /* widened to fp32, combined, rounded back (nearest even) */
#define AAX_COLL_DT_FP16        3u
#define AAX_COLL_RED_SUM        0u
#define AAX_COLL_RED_MAX        1u
#define AAX_COLL_F_SIGNAL       (1u << 16)
#define AAX_COLL_PARAM(op, dt, red) ((uint32_t)(op) | ((uint32_t)(dt) << 8) | ((uint32_t)(red) << 12))

/* JUMP / CALL: the command buffer at addr (device bus address, 8-byte aligned) of size
 * bytes (multiple of 8, 8 .. AAX_MAX_CMDBUF_SIZE). JUMP continues there and never comes
 * back; CALL runs it and then continues after the CALL packet, nesting up to
 * AAX_MAX_CALL_DEPTH calls. RET returns from a CALL; at the top level it ends the job (the
 * rest of the buffer is skipped). Reaching the end of a called buffer returns too. A job
 * may transfer control at most AAX_MAX_CONTROL_TRANSFERS times (a JUMP loop is an error,
 * not a hang). Errors inside a called buffer report their offset in that buffer. */
typedef struct aax_pkt_jump {
    aax_pkt_hdr hdr;
    uint64_t addr;
    uint32_t size;
    uint32_t reserved;
} aax_pkt_jump;
typedef aax_pkt_jump aax_pkt_call;
#define AAX_MAX_CALL_DEPTH          4u
#define AAX_MAX_CONTROL_TRANSFERS   (1u << 16)

/* WREG: 32-bit write of value to the BAR0 register at offset (4-byte aligned, below
 * 0x10000, not the firmware window). Only on a privileged ring (RING_CTRL.PRIV, set by the
 * kernel driver); elsewhere AAX_ERR_PRIV. */
typedef struct aax_pkt_wreg {
    aax_pkt_hdr hdr;
    uint32_t offset;
    uint32_t value;
} aax_pkt_wreg;

#define AAX_PKT_NOP_QW          1u
#define AAX_PKT_JUMP_QW         3u
#define AAX_PKT_CALL_QW         3u
#define AAX_PKT_RET_QW          1u
#define AAX_PKT_WREG_QW         2u
#define AAX_PKT_DMA_QW          7u
#define AAX_PKT_SEM_SIGNAL_QW   2u
#define AAX_PKT_SEM_WAIT_QW     2u
#define AAX_PKT_FENCE_QW        3u
#define AAX_PKT_MSG_QW          3u
#define AAX_PKT_GEMM_QW         7u
#define AAX_PKT_VEC_QW          8u
#define AAX_PKT_COLL_QW         5u

#if defined(__cplusplus)
#define AAX_STATIC_ASSERT(c, m) static_assert(c, m)
#else /* C99: a negative array size fails the build */
#define AAX_SA_CAT2(a, b) a##b
#define AAX_SA_CAT(a, b) AAX_SA_CAT2(a, b)
#define AAX_STATIC_ASSERT(c, m) typedef char AAX_SA_CAT(aax_static_assert_, __LINE__)[(c) ? 1 : -1]
#endif
AAX_STATIC_ASSERT(sizeof(aax_job_desc) == AAX_JOB_DESC_SIZE, "job descriptor is 64 bytes");
AAX_STATIC_ASSERT(sizeof(aax_cq_entry) == AAX_CQ_ENTRY_SIZE, "completion record is 32 bytes");
AAX_STATIC_ASSERT(sizeof(aax_uq_header) == AAX_UQ_HEADER_SIZE, "user-queue header is 64 bytes");
AAX_STATIC_ASSERT(sizeof(aax_pkt_hdr) == 8, "packet header is 8 bytes");
AAX_STATIC_ASSERT(sizeof(aax_pkt_dma) == AAX_PKT_DMA_QW * 8, "DMA packet size");
AAX_STATIC_ASSERT(sizeof(aax_pkt_sem_signal) == AAX_PKT_SEM_SIGNAL_QW * 8, "SEM_SIGNAL packet size");
AAX_STATIC_ASSERT(sizeof(aax_pkt_sem_wait) == AAX_PKT_SEM_WAIT_QW * 8, "SEM_WAIT packet size");
AAX_STATIC_ASSERT(sizeof(aax_pkt_fence) == AAX_PKT_FENCE_QW * 8, "FENCE packet size");
AAX_STATIC_ASSERT(sizeof(aax_pkt_msg) == AAX_PKT_MSG_QW * 8, "MSG packet size");
AAX_STATIC_ASSERT(sizeof(aax_pkt_jump) == AAX_PKT_JUMP_QW * 8, "JUMP/CALL packet size");
AAX_STATIC_ASSERT(sizeof(aax_pkt_wreg) == AAX_PKT_WREG_QW * 8, "WREG packet size");
AAX_STATIC_ASSERT(sizeof(aax_pkt_gemm) == AAX_PKT_GEMM_QW * 8, "GEMM packet size");
AAX_STATIC_ASSERT(sizeof(aax_pkt_vec) == AAX_PKT_VEC_QW * 8, "VEC packet size");
AAX_STATIC_ASSERT(sizeof(aax_pkt_coll) == AAX_PKT_COLL_QW * 8, "COLL packet size");

/* Human-readable names, for tools and logs. */
static inline const char *aax_status_name(unsigned s)
{
    static const char *const names[] = {
        "OK", "BAD_OPCODE", "BAD_LENGTH", "BAD_ADDRESS", "BAD_PARAM", "BAD_JOB", "TIMEOUT",
        "SEM_TIMEOUT", "ABORTED", "UNSUPPORTED", "PRIV", "BAD_ASID", "BUS", "MMU_FAULT", "LINK_DOWN", "ECC_UE"};
    return s < sizeof(names) / sizeof(names[0]) ? names[s] : "UNKNOWN";
}

static inline const char *aax_opcode_name(unsigned op)
{
    static const char *const names[] = {
        "NOP", "WREG", "DMA", "GEMM", "VEC", "SEM_SIGNAL", "SEM_WAIT", "FENCE", "MSG",
        "JUMP", "CALL", "RET", "COLL"};
    if (op == AAX_ERR_OPCODE_JOB) return "JOB";
    return op < sizeof(names) / sizeof(names[0]) ? names[op] : "UNKNOWN";
}

static inline const char *aax_dtype_name(unsigned t)
{
    static const char *const names[] = {"fp32", "bf16", "fp16", "fp8_e4m3", "fp8_e5m2", "int8", "int32"};
    return t < sizeof(names) / sizeof(names[0]) ? names[t] : "UNKNOWN";
}

static inline const char *aax_vec_op_name(unsigned op)
{
    static const char *const names[] = {
        "ADD", "MUL", "FMA", "MAX", "RELU", "GELU", "EXP", "RECIP", "CONVERT", "ROW_SUM", "ROW_MAX",
        "SOFTMAX", "LAYERNORM", "TRANSPOSE"};
    return op < sizeof(names) / sizeof(names[0]) ? names[op] : "UNKNOWN";
}

#endif /* AAX_QUEUE_H */
