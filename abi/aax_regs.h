/* SPDX-License-Identifier: MIT */
/*
 * accelvp device ABI ("AAX") v0 -- BAR0 register map.
 *
 * Plain C99, shared by the TLM models, the host driver model, firmware and tools.
 * All registers are 32 bit, little-endian, accessed with aligned 32-bit reads/writes.
 * 64-bit values are LO/HI pairs; the device reads both halves when it uses the value, so
 * program both before enabling what uses them.
 * docs/abi.md documents every field.
 */
#ifndef AAX_REGS_H
#define AAX_REGS_H

#if defined(__KERNEL__)
#include <linux/types.h> /* the Linux driver (driver/linux/) */
#else
#include <stdint.h>
#endif

#define AAX_ID_MAGIC        0x41415831u /* "AAX1" */
#define AAX_ABI_MAJOR       0u
#define AAX_ABI_MINOR       2u  /* 2: user queues (AAX_UQ_*, RING_UQ_HDR, RING_ASID USER) */
#define AAX_ABI_VERSION     ((AAX_ABI_MAJOR << 16) | AAX_ABI_MINOR)

#define AAX_BAR0_SIZE       0x10000u

/* ---- BAR0 register windows, one per block (each block decodes its own window) ---- */
#define AAX_CTRL_WINDOW_BASE    0x0000u /* device control: ID, caps, reset, interrupt summary, boot */
#define AAX_CTRL_WINDOW_SIZE    0x1000u
#define AAX_QM_WINDOW_BASE      0x1000u /* queue manager: rings, error record, mailbox, CQs, doorbells */
#define AAX_QM_WINDOW_SIZE      0x3000u
#define AAX_SYNC_WINDOW_BASE    0x4000u /* semaphores */
#define AAX_SYNC_WINDOW_SIZE    0x4000u
#define AAX_MSIX_WINDOW_BASE    0x8000u /* PCIe endpoint: MSI-X table and PBA */
#define AAX_MSIX_WINDOW_SIZE    0x2000u
#define AAX_PERF_WINDOW_BASE    0xB000u /* hardware performance counters (below) */
#define AAX_PERF_WINDOW_SIZE    0x1000u
#define AAX_UQ_WINDOW_BASE      0xE000u /* queue manager: the user-queue doorbell page (below; ABI 0.2) */
#define AAX_UQ_WINDOW_SIZE      0x1000u
/* 0xA000-0xAFFF: firmware scheduling window (abi/aax_sched.h, AAX_FW_WINDOW_*);
 * 0xC000-0xCFFF: MMU (abi/aax_mmu.h, AAX_MMU_BAR_*); 0xD000-0xDFFF: SR-IOV (abi/aax_sriov.h). */

/* ---- PCI identity (config space: tlm/pcie/pci_config.h, docs/abi.md) ---------- */
/* Vendor 0xAA5B is a placeholder of this virtual platform, not a PCI-SIG assignment. */
#define AAX_PCI_VENDOR_ID   0xAA5Bu
#define AAX_PCI_DEVICE_ID   0xAA01u
#define AAX_PCI_REVISION    0x01u
#define AAX_PCI_CLASS       0x12u   /* processing accelerator */
#define AAX_PCI_BAR_REGS    0u      /* BAR0: registers (AAX_BAR0_SIZE), MSI-X table and PBA */
#define AAX_PCI_BAR_DEVMEM  2u      /* BAR2/3: 64-bit prefetchable device memory window */

/* ---- device control block: 0x0000 - 0x0FFF ---------------------------------- */
#define AAX_REG_ID              0x0000u /* RO  AAX_ID_MAGIC */
#define AAX_REG_VERSION         0x0004u /* RO  [31:16] ABI major, [15:0] ABI minor */
#define AAX_REG_CAPS0           0x0008u /* RO  [7:0] rings, [15:8] CQs, [23:16] DMA engines, [31:24] MSI-X vectors */
#define AAX_REG_CAPS1           0x000Cu /* RO  [15:0] semaphores, bit16 control core present, bit17 MMU present
                                            (abi/aax_mmu.h), [31:18] reserved */
#define AAX_CAPS1_CONTROL_CORE  (1u << 16)
#define AAX_CAPS1_MMU           (1u << 17)
#define AAX_REG_DEV_STATUS      0x0010u /* RO  bit0 READY, bit2 FATAL */
#define AAX_REG_RESET           0x0014u /* WO  AAX_RESET_SOFT: rings, CQs, error record, semaphores and the interrupt
                                            summary back to reset state (all lines masked) */
#define AAX_REG_TIMESTAMP_LO    0x0018u /* RO  device time in ns (since power-on); reading LO latches HI */
#define AAX_REG_TIMESTAMP_HI    0x001Cu
#define AAX_REG_DEVMEM_SIZE_LO  0x0020u /* RO  device memory size in bytes */
#define AAX_REG_DEVMEM_SIZE_HI  0x0024u
#define AAX_REG_HOST_WIN_LO     0x0028u /* RO  device bus address at which host memory appears */
#define AAX_REG_HOST_WIN_HI     0x002Cu
#define AAX_REG_SCRATCH         0x0030u /* RW  free for driver use (probe read-back test) */
#define AAX_REG_DEVMEM_BASE_LO  0x0034u /* RO  device bus address of device memory (BAR2 offset 0) */
#define AAX_REG_DEVMEM_BASE_HI  0x0038u

#define AAX_DEV_STATUS_READY    (1u << 0)
#define AAX_DEV_STATUS_FATAL    (1u << 2)
#define AAX_RESET_SOFT          0x1u

/* Interrupt summary. A source event sets its bit in RAW; STATUS = RAW & ~MASK. Every event
 * on an unmasked line sends that line's MSI-X vector (message-signalled: one message per
 * event, whether or not the bit was already set); a line that had events while masked
 * sends one message when it is unmasked. STATUS is write-1-to-clear. */
#define AAX_REG_IRQ_STATUS      0x0200u /* RW1C */
#define AAX_REG_IRQ_MASK        0x0204u /* RW   1 = masked; reset value 0xFFFFFFFF */
#define AAX_REG_IRQ_RAW         0x0208u /* RO */

/* Interrupt lines (bit numbers of IRQ_RAW/STATUS/MASK) and their masks. */
#define AAX_IRQ_LINE_EVENT      0u   /* firmware event: a mailbox reply (MBOX_F2H) */
#define AAX_IRQ_LINE_ERROR      1u   /* a queue stopped on an error: see ERR_* */
#define AAX_IRQ_LINE_MMU        2u   /* MMU fault: see MMU_FAULT_* (abi/aax_mmu.h) */
#define AAX_IRQ_LINE_BOOT       3u   /* reserved: boot handshake */
#define AAX_IRQ_CQ_SHIFT        16u  /* line 16 + c: completion queue c has new records */
#define AAX_IRQ_EVENT           (1u << AAX_IRQ_LINE_EVENT)
#define AAX_IRQ_ERROR           (1u << AAX_IRQ_LINE_ERROR)
#define AAX_IRQ_MMU             (1u << AAX_IRQ_LINE_MMU)
#define AAX_IRQ_BOOT            (1u << AAX_IRQ_LINE_BOOT)
#define AAX_IRQ_CQ(c)           (1u << (AAX_IRQ_CQ_SHIFT + (c)))

/* MSI-X vector assignment */
#define AAX_MSIX_VEC_EVENT      0u
#define AAX_MSIX_VEC_ERROR      1u
#define AAX_MSIX_VEC_CQ(c)      (2u + (c))

/* ---- queue manager: 0x1000 - 0x3FFF ------------------------------------------ */
#define AAX_MAX_RINGS           16u
#define AAX_RING_BASE(r)        (0x1000u + 0x40u * (r))
#define AAX_RING_BASE_LO        0x00u /* RW device bus address of the ring, 64-byte aligned */
#define AAX_RING_BASE_HI        0x04u
#define AAX_RING_SIZE_LOG2      0x08u /* RW log2(number of 64-byte entries), 1..16 */
#define AAX_RING_ASID           0x0Cu /* RW [15:0] address space id the ring is pinned to (0: none), bit31 USER */
#define AAX_RING_CTRL           0x10u /* RW bit0 EN, bit1 RESET (self-clearing), bit2 PRIV, [15:8] completion queue */
#define AAX_RING_HEAD           0x14u /* RO device consumer index (entries, wraps at 2^SIZE_LOG2) */
#define AAX_RING_TAIL           0x18u /* RO last doorbell value */
#define AAX_RING_STATUS         0x1Cu /* RO bit0 IDLE, bit1 ERROR (stopped), [15:8] last error code */
#define AAX_RING_JOBS_DONE      0x20u /* RO jobs completed since reset (wraps) */
#define AAX_RING_UQ_HDR_LO      0x24u /* RW user ring: device bus address of its aax_uq_header (64-byte aligned) */
#define AAX_RING_UQ_HDR_HI      0x28u

#define AAX_RING_CTRL_EN        (1u << 0)
#define AAX_RING_CTRL_RESET     (1u << 1)
#define AAX_RING_CTRL_PRIV      (1u << 2) /* privileged ring: WREG allowed (kernel driver's choice) */
#define AAX_RING_CTRL_CQ_SHIFT  8u
#define AAX_RING_CTRL_CQ_MASK   0xFF00u
/* RING_ASID bit31: the ring is a user queue (ABI 0.2): its jobs must run in context [15:0]
 * (nonzero), may not write a descriptor fence, and its command buffers are fetched through
 * that context; its TAIL and its CQ's HEAD come from the aax_uq_header at RING_UQ_HDR,
 * read when the owner writes AAX_UQ_DOORBELL(r). Only the kernel (BAR0) can set it. */
#define AAX_RING_ASID_USER      (1u << 31)
#define AAX_RING_ASID_MASK      0xFFFFu
#define AAX_RING_STATUS_IDLE    (1u << 0)
#define AAX_RING_STATUS_ERROR   (1u << 1)
#define AAX_RING_STATUS_CODE_SHIFT 8u

/* Error record: the first error since the last clear. */
#define AAX_REG_ERR_STATUS      0x1800u /* RW1C bit31 VALID (write 1 clears the record), [7:0] code, [15:8] ring, [23:16] opcode */
#define AAX_REG_ERR_JOB_ID      0x1804u /* RO job_id of the failing job */
#define AAX_REG_ERR_OFFSET      0x1808u /* RO byte offset of the failing packet in its command buffer */
#define AAX_REG_ERR_ADDR_LO     0x180Cu /* RO offending address or value: the bad bus address, the misaligned ring slot
                                           or CQ base, the impossible doorbell value; else 0 */
#define AAX_REG_ERR_ADDR_HI     0x1810u
#define AAX_REG_ERR_COUNT       0x1814u /* RO errors since reset (saturating) */
#define AAX_ERR_STATUS_VALID    (1u << 31)

#define AAX_MAX_CQS             16u
#define AAX_CQ_BASE(c)          (0x2000u + 0x40u * (c))
#define AAX_CQ_BASE_LO          0x00u /* RW device bus address of the CQ (normally host memory), 32-byte aligned */
#define AAX_CQ_BASE_HI          0x04u
#define AAX_CQ_SIZE_LOG2        0x08u /* RW log2(number of 32-byte records), 1..16 */
#define AAX_CQ_HEAD             0x0Cu /* RW host consumer index */
#define AAX_CQ_TAIL             0x10u /* RO device producer index */
#define AAX_CQ_CTRL             0x14u /* RW bit0 EN, bit1 IRQ_EN */
#define AAX_CQ_OVERFLOWS        0x18u /* RO records dropped: CQ full, bad size, misaligned base or failed write */
#define AAX_CQ_CTRL_EN          (1u << 0)
#define AAX_CQ_CTRL_IRQ_EN      (1u << 1)

#define AAX_DOORBELL(r)         (0x3000u + 8u * (r)) /* WO new TAIL of ring r */

/* ---- user-queue doorbell page: 0xE000 - 0xEFFF (ABI 0.2, docs/virtualization.md) ----
 * The one BAR0 page the driver maps into processes that own user queues. A write of any value
 * to AAX_UQ_DOORBELL(r) tells the device that user ring r has news: the queue manager reads the
 * ring's aax_uq_header (abi/aax_queue.h) and takes its wptr as TAIL (as a kernel doorbell write
 * of that value, with the same checks) and its cq_head as the ring's CQ HEAD. The value written
 * is ignored, so ringing another process's queue only makes the device re-read what that
 * queue's owner published. Ignored (and counted) for a ring that is disabled or not a user ring. */
#define AAX_UQ_DOORBELL(r)      (0xE000u + 8u * (r)) /* WO */
#define AAX_REG_UQ_ID           0xEF00u /* RO AAX_UQ_ID_MAGIC: the page exists (the driver's check) */
#define AAX_UQ_ID_MAGIC         0x55514431u /* "UQD1" */

/* Firmware mailbox (chips with a control core): one 32-bit message each way. Writing
 * MBOX_H2F interrupts the firmware; its reply lands in MBOX_F2H and raises the event line.
 * Messages: abi/aax_boot.h, AAX_MBOX_*. */
#define AAX_REG_MBOX_H2F        0x1C00u /* WO host -> firmware message */
#define AAX_REG_MBOX_F2H        0x1C04u /* RO firmware -> host reply (AAX_MBOX_REPLY set when fresh) */

/* ---- sync block: 0x4000 - 0x7FFF --------------------------------------------- */
#define AAX_MAX_SEMS            1024u
#define AAX_SEM(s)              (0x4000u + 4u * (s)) /* RW 32-bit semaphore value */
#define AAX_SEM_ADD(s)          (0x6000u + 4u * (s)) /* WO atomic add of the written value */

/* ---- PCIe endpoint: MSI-X table and pending-bit array: 0x8000 - 0x9FFF -------- */
#define AAX_MAX_MSIX            64u
#define AAX_MSIX_ENTRY(v)       (0x8000u + 16u * (v))
#define AAX_MSIX_ADDR_LO        0x0u
#define AAX_MSIX_ADDR_HI        0x4u
#define AAX_MSIX_DATA           0x8u
#define AAX_MSIX_CTRL           0xCu /* bit0 MASKED (reset value 1) */
#define AAX_MSIX_PBA(w)         (0x9000u + 4u * (w)) /* RO pending bits, vectors 32w..32w+31 */

/* ---- hardware performance counters: 0xB000 - 0xBFFF (docs/profiling.md) ----------
 * Every counter is 64 bit and always counting from power-on (no cost: they are the block's
 * own accounting). Counter i (0 .. PERF_INFO[15:0]-1) belongs to unit `unit` of class `cls`
 * and counts event `ev` of that class: i = PERF_CLASS(cls).first + unit * events + ev.
 * Software reads a consistent set: write SNAPSHOT to PERF_CTRL (every counter is copied at
 * once), then select a counter in PERF_SEL and read PERF_DATA_LO/HI (reading HI advances SEL,
 * so a dump is two reads per counter). START/STOP/CLEAR act on the live counters. */
#define AAX_REG_PERF_INFO       0xB000u /* RO  [15:0] counters, [23:16] classes (AAX_PERF_CLASSES) */
#define AAX_REG_PERF_CTRL       0xB004u /* WO  AAX_PERF_CTRL_* (applied in the order SNAPSHOT, STOP, CLEAR, START) */
#define AAX_REG_PERF_STATUS     0xB008u /* RO  bit0 RUNNING, bit1 SEL_ERR, [31:16] snapshots taken (wraps) */
#define AAX_REG_PERF_SEL        0xB00Cu /* RW  counter index for PERF_DATA / PERF_DESC */
#define AAX_REG_PERF_DATA_LO    0xB010u /* RO  snapshot value of counter PERF_SEL (0 and SEL_ERR if out of range) */
#define AAX_REG_PERF_DATA_HI    0xB014u /* RO  high word; a (bus) read then advances PERF_SEL by one */
#define AAX_REG_PERF_DESC       0xB018u /* RO  counter PERF_SEL: [7:0] event, [15:8] class, [31:16] unit; 0 if out of range */
#define AAX_REG_PERF_SNAP_TIME_LO 0xB020u /* RO  device time (ns) of the last SNAPSHOT */
#define AAX_REG_PERF_SNAP_TIME_HI 0xB024u
#define AAX_PERF_CLASS_INFO(c)  (0xB040u + 4u * (c)) /* RO [15:0] first counter, [23:16] events per unit, [31:24] units */

#define AAX_PERF_CTRL_START     (1u << 0) /* count (the reset state) */
#define AAX_PERF_CTRL_STOP      (1u << 1) /* freeze the counters */
#define AAX_PERF_CTRL_CLEAR     (1u << 2) /* set every counter to 0 (a high-water mark restarts) */
#define AAX_PERF_CTRL_SNAPSHOT  (1u << 3) /* copy every counter into the snapshot PERF_DATA reads */
#define AAX_PERF_STATUS_RUNNING (1u << 0)
#define AAX_PERF_STATUS_SEL_ERR (1u << 1) /* the last PERF_DATA/PERF_DESC read selected no counter */

/* Classes (units of a class are numbered from 0) and their events. */
#define AAX_PERF_CLASS_DEVICE   0u /* one unit */
#define AAX_PERF_CLASS_MXU      1u /* matrix engine of cluster u */
#define AAX_PERF_CLASS_VPU      2u /* vector engine of cluster u */
#define AAX_PERF_CLASS_DMA      3u /* DMA engine u */
#define AAX_PERF_CLASS_DRAM     4u /* DRAM channel u (mem.model=dram; else no unit) */
#define AAX_PERF_CLASS_LINK     5u /* scale-out link port u, transmit side (multi-chip systems) */
#define AAX_PERF_CLASS_RING     6u /* submission ring u */
#define AAX_PERF_CLASS_PCIE     7u /* one unit: the host link */
#define AAX_PERF_CLASSES        8u

#define AAX_PERF_DEVICE_ELAPSED_PS   0u /* simulated time counted (ps) */
#define AAX_PERF_DEVICE_PACKETS      1u /* packets the queue manager executed */
#define AAX_PERF_DEVICE_EVENTS       2u

#define AAX_PERF_ENG_PACKETS         0u /* MXU and VPU: packets executed */
#define AAX_PERF_ENG_BUSY_CYCLES     1u /* engine cycles busy */
#define AAX_PERF_ENG_WORK            2u /* MXU: multiply-accumulates; VPU: result elements */
#define AAX_PERF_ENG_STALL_CYCLES    3u /* MXU: busy cycles below the peak MAC rate; VPU: busy cycles bound by SRAM */
#define AAX_PERF_ENG_QUEUE_WAIT_PS   4u /* time packets waited for the engine busy with another queue's packet */
#define AAX_PERF_ENG_ERRORS          5u /* packets rejected */
#define AAX_PERF_ENG_EVENTS          6u

#define AAX_PERF_DMA_COMMANDS        0u /* DMA packets */
#define AAX_PERF_DMA_BYTES           1u /* payload bytes written to the destination */
#define AAX_PERF_DMA_BURSTS          2u
#define AAX_PERF_DMA_BUSY_PS         3u /* time a command was in progress */
#define AAX_PERF_DMA_READ_WAIT_PS    4u /* summed over bursts: read request to its data (memory, link latency) */
#define AAX_PERF_DMA_ERRORS          5u
#define AAX_PERF_DMA_EVENTS          6u

#define AAX_PERF_DRAM_READS          0u /* read bursts */
#define AAX_PERF_DRAM_WRITES         1u /* write bursts */
#define AAX_PERF_DRAM_ROW_HITS       2u
#define AAX_PERF_DRAM_ROW_MISSES     3u /* closed bank: ACT */
#define AAX_PERF_DRAM_ROW_CONFLICTS  4u /* another row open: PRE + ACT */
#define AAX_PERF_DRAM_REFRESHES      5u
#define AAX_PERF_DRAM_EVENTS         6u

#define AAX_PERF_LINK_BYTES          0u /* payload bytes delivered */
#define AAX_PERF_LINK_PACKETS        1u
#define AAX_PERF_LINK_CREDIT_STALL_PS 2u /* time the transmitter waited for a receiver credit */
#define AAX_PERF_LINK_RETRANSMITS    3u
#define AAX_PERF_LINK_BUSY_PS        4u
#define AAX_PERF_LINK_EVENTS         5u

#define AAX_PERF_RING_JOBS           0u /* jobs completed (JOBS_DONE increments) */
#define AAX_PERF_RING_PACKETS        1u
#define AAX_PERF_RING_DOORBELLS      2u /* doorbells accepted: queue-depth samples */
#define AAX_PERF_RING_DEPTH_SUM      3u /* jobs queued (TAIL - HEAD) after each doorbell, summed: / DOORBELLS = mean */
#define AAX_PERF_RING_DEPTH_MAX      4u /* high-water mark of that depth */
#define AAX_PERF_RING_EVENTS         5u

#define AAX_PERF_PCIE_BYTES_H2D      0u
#define AAX_PERF_PCIE_BYTES_D2H      1u
#define AAX_PERF_PCIE_TLPS           2u
#define AAX_PERF_PCIE_MSI_SENT       3u
#define AAX_PERF_PCIE_BUSY_H2D_PS    4u
#define AAX_PERF_PCIE_BUSY_D2H_PS    5u
#define AAX_PERF_PCIE_EVENTS         6u

#endif /* AAX_REGS_H */
