/* SPDX-License-Identifier: MIT */
/*
 * accelvp device ABI ("AAX") -- the firmware scheduling interface.
 *
 * On a chip with a control core the firmware owns job scheduling: the host-visible
 * ring, CQ and error-record registers (abi/aax_regs.h) keep their meaning for the
 * driver, but behind them the firmware
 *   - is told of doorbells and ring resets through its interrupt controller,
 *   - reads the host's ring entries, validates each job descriptor,
 *   - hands the job's command buffer to an engine queue (the hardware that decodes
 *     packets and dispatches them to DMA, sync, compute ...), one per ring,
 *   - is interrupted when the engine queue finishes, writes the fence and the
 *     completion record and raises the MSI-X line, or reports the error,
 *   - aborts a job that runs past its timeout (watchdog on the CLINT timer).
 * These registers sit in BAR0 at 0xA000-0xAFFF, reachable by the control core only:
 * host reads return 0 and host writes are ignored.
 */
#ifndef AAX_SCHED_H
#define AAX_SCHED_H

#include <stdint.h>

#define AAX_FW_WINDOW_BASE      0xA000u
#define AAX_FW_WINDOW_SIZE      0x1000u
/* Is BAR0 offset `off` inside the firmware window? */
static inline int aax_in_fw_window(uint64_t off)
{
    return off >= AAX_FW_WINDOW_BASE && off < AAX_FW_WINDOW_BASE + AAX_FW_WINDOW_SIZE;
}

/* ---- firmware interrupt controller: drives the core's machine external interrupt --
 * MEIP = (PENDING & ENABLE) != 0. Sources set their bit; the firmware clears it
 * (write 1) before it handles the source, so a new event re-raises it. */
#define AAX_FW_INT_PENDING      0xA000u /* RW1C */
#define AAX_FW_INT_ENABLE       0xA004u /* RW, reset 0; not changed by the host's soft reset */
#define AAX_FW_INT_DOORBELL     (1u << 0)  /* a ring's doorbell was written: see DOORBELLS */
#define AAX_FW_INT_RESET        (1u << 1)  /* the host reset a ring or the device: see RESETS */
#define AAX_FW_INT_MAILBOX      (1u << 2)  /* the host wrote MBOX_H2F: read FW_MBOX_H2F */
#define AAX_FW_INT_EQ_SHIFT     16u        /* bit 16 + q: engine queue q finished a command buffer */
#define AAX_FW_INT_EQ(q)        (1u << (AAX_FW_INT_EQ_SHIFT + (q)))
#define AAX_FW_DOORBELLS        0xA008u /* RW1C bit r: ring r's doorbell was written since the last clear */
#define AAX_FW_RESETS           0xA00Cu /* RW1C bit r: the host asked to reset ring r (or moved it) while
                                            it was BUSY: drop its job; the device resets the ring when the
                                            firmware clears BUSY. Bit 31: the host soft-reset the device
                                            (rings, CQs, engine queues aborted): drop every job */
#define AAX_FW_RESETS_SOFT      (1u << 31)

/* ---- reset epoch: makes the firmware's commits atomic with respect to a soft reset --
 * EPOCH counts the host's soft resets. The firmware writes the epoch it acts in; while that
 * differs from the device's, its writes to ring and CQ state, the error report and engine
 * queue START are ignored, so a job completed across a soft reset cannot touch the
 * reset rings. */
#define AAX_FW_EPOCH            0xA018u /* RW read: soft resets so far; write: the epoch the firmware acts in */

/* ---- mailbox, firmware side -------------------------------------------------------- */
#define AAX_FW_MBOX_H2F         0xA010u /* RO the host's last message */
#define AAX_FW_MBOX_F2H         0xA014u /* WO reply: the host reads it in MBOX_F2H; raises the event line */

/* ---- per-ring firmware view: what the host reads in RING_HEAD/STATUS/JOBS_DONE ---- */
#define AAX_FW_RING(r)          (0xA100u + 0x10u * (r))
#define AAX_FW_RING_HEAD        0x0u /* RW consumer index (entries); the host's RING_HEAD */
#define AAX_FW_RING_STATE       0x4u /* RW bit0 BUSY (the firmware is working on the ring's head job),
                                        bit1 ERROR (stopped), [15:8] error code; the host's RING_STATUS shows
                                        ERROR and the code, IDLE = !BUSY && HEAD == TAIL. Clearing BUSY while a
                                        host reset is pending completes that reset (HEAD = TAIL at the request,
                                        ERROR cleared). */
#define AAX_FW_RING_JOBS_DONE   0x8u /* RW the host's RING_JOBS_DONE */
#define AAX_FW_RING_BUSY        (1u << 0)
#define AAX_FW_RING_ERROR       (1u << 1)
#define AAX_FW_RING_CODE_SHIFT  8u

/* ---- per-CQ firmware view ------------------------------------------------------ */
#define AAX_FW_CQ(c)            (0xA200u + 0x10u * (c))
#define AAX_FW_CQ_TAIL          0x0u /* RW [15:0] producer index (the host's CQ_TAIL), bit31 PHASE of the
                                        next record; the device sets it to PHASE=1, tail 0 whenever the
                                        host moves or resizes the CQ */
#define AAX_FW_CQ_OVERFLOWS     0x4u /* RW the host's CQ_OVERFLOWS */
#define AAX_FW_CQ_PHASE         (1u << 31)

/* ---- error report: fill the fields, then write REPORT ----------------------------
 * REPORT = code | ring << 8 | opcode << 16 latches the host's error record (if it holds
 * none), counts ERR_COUNT and raises the error interrupt line. */
#define AAX_FW_ERR_JOB_ID       0xA300u
#define AAX_FW_ERR_OFFSET       0xA304u
#define AAX_FW_ERR_ADDR_LO      0xA308u
#define AAX_FW_ERR_ADDR_HI      0xA30Cu
#define AAX_FW_ERR_REPORT       0xA310u /* WO */

/* ---- engine queues: execute one command buffer each ------------------------------
 * Program CMDBUF/SIZE/DEADLINE/RING/TAG, write CTRL = START. The queue fetches the
 * buffer and runs its packets in order (engines give up waiting at DEADLINE); when it
 * stops it sets STATUS (BUSY clear, the result code), the failing packet's offset,
 * opcode and address, and raises AAX_FW_INT_EQ(q). CTRL = ABORT stops it at the next
 * packet boundary with AAX_ERR_ABORTED. */
#define AAX_FW_EQ(q)            (0xA800u + 0x40u * (q))
#define AAX_FW_EQ_CMDBUF_LO     0x00u
#define AAX_FW_EQ_CMDBUF_HI     0x04u
#define AAX_FW_EQ_SIZE          0x08u /* bytes, multiple of 8 */
#define AAX_FW_EQ_RING          0x0Cu /* ring whose CQ interrupt packet IRQ flags raise */
#define AAX_FW_EQ_DEADLINE_LO   0x10u /* absolute device time (ns, as TIMESTAMP) or 0 for none */
#define AAX_FW_EQ_DEADLINE_HI   0x14u
#define AAX_FW_EQ_CTRL          0x18u /* WO bit0 START, bit1 ABORT */
#define AAX_FW_EQ_STATUS        0x1Cu /* RO bit0 BUSY, [15:8] result (enum aax_status) */
#define AAX_FW_EQ_ERR_OFFSET    0x20u /* RO byte offset of the failing packet */
#define AAX_FW_EQ_ERR_OPCODE    0x24u /* RO its opcode (AAX_ERR_OPCODE_JOB: the buffer fetch failed) */
#define AAX_FW_EQ_ERR_ADDR_LO   0x28u /* RO the offending address, else 0 */
#define AAX_FW_EQ_ERR_ADDR_HI   0x2Cu
#define AAX_FW_EQ_TAG           0x30u /* RW free for the firmware (job id: shown in traces) */
#define AAX_FW_EQ_DONE          0x34u /* RO command buffers finished since reset */
#define AAX_FW_EQ_ASID          0x38u /* RW address space of the buffer's engine accesses (0 = physical) */
#define AAX_FW_EQ_START         (1u << 0)
#define AAX_FW_EQ_ABORT         (1u << 1)
#define AAX_FW_EQ_BUSY          (1u << 0)
#define AAX_FW_EQ_SRAM          (1u << 1) /* an SR-IOV VF's buffer (AAX_FW_EQ_ASID_VF) wrote cluster SRAM: a GEMM or
                                             VEC packet, or a DMA whose destination overlaps a cluster SRAM window
                                             (the firmware scrubs SRAM before another VF's job: virtualization.md) */
#define AAX_FW_EQ_CODE_SHIFT    8u
#define AAX_FW_MAX_EQS          16u

#endif /* AAX_SCHED_H */
