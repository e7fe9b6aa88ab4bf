/* SPDX-License-Identifier: MIT */
/*
 * accelvp device ABI ("AAX") -- SR-IOV: virtual functions (docs/virtualization.md).
 *
 * The physical function (PF, the host kernel's) has an SR-IOV extended capability in PCI
 * config space (tlm/pcie/pci_config.h, offset AAX_SRIOV_CAP) offering up to
 * pcie.sriov.max_vfs virtual functions. Each VF has
 *   - VF BAR0 (AAX_BAR0_SIZE): the PF register map's subset a tenant driver needs, at the
 *     same offsets: ID/VERSION/CAPS/DEV_STATUS/TIMESTAMP, DEVMEM_* (its partition),
 *     HOST_WIN, SCRATCH, RESET (= function-level reset of the VF), its own interrupt
 *     summary (IRQ_STATUS/MASK/RAW), rings 0..n-1 / CQs 0..n-1 / doorbells 0..n-1 (the
 *     physical rings the PF assigned it, renumbered from 0), its own error record (ERR_*),
 *     its own MSI-X table (2 + n vectors: event, error, CQ j) and PBA. Everything else
 *     reads 0 and ignores writes. RING_ASID and RING_CTRL.PRIV are the PF's: a VF write to
 *     them is ignored.
 *   - VF BAR2: a window of its device-memory partition (offset 0 = partition base).
 * The PF programs each VF's resources in the SR-IOV block below (PF BAR0 only; the
 * firmware reads it), then tells the firmware with AAX_MBOX_SRIOV.
 */
#ifndef AAX_SRIOV_H
#define AAX_SRIOV_H

#include "aax_regs.h"

/* ---- PCI config space: the SR-IOV extended capability ------------------------------ */
#define AAX_SRIOV_CAP            0x100u /* first extended capability (config space is 4 KiB with VFs) */
#define AAX_SRIOV_CAP_ID         0x0010u
#define AAX_SRIOV_CTRL           0x08u  /* bit0 VF Enable, bit3 VF MSE (memory space) */
#define AAX_SRIOV_CTRL_VFE       (1u << 0)
#define AAX_SRIOV_CTRL_MSE       (1u << 3)
#define AAX_SRIOV_INITIAL_VFS    0x0Cu
#define AAX_SRIOV_TOTAL_VFS      0x0Eu
#define AAX_SRIOV_NUM_VFS        0x10u  /* RW */
#define AAX_SRIOV_VF_OFFSET      0x14u  /* routing ID of VF 0 relative to the PF */
#define AAX_SRIOV_VF_STRIDE      0x16u
#define AAX_SRIOV_VF_DEVICE      0x1Au
#define AAX_SRIOV_PAGE_SIZES     0x1Cu
#define AAX_SRIOV_SYS_PAGE_SIZE  0x20u
#define AAX_SRIOV_VF_BAR(n)      (0x24u + 4u * (n)) /* VF BAR0 (32-bit), VF BAR2/3 (64-bit prefetchable) */
#define AAX_PCI_VF_DEVICE_ID     0xAA02u
#define AAX_MAX_VFS              8u

/* A VF sees its VM's memory at AAX_VF_HOST_WINDOW + (VM physical address): its HOST_WIN
 * register reads this, its MMU context maps exactly its VM's memory there (onto the chip's
 * host window), and the firmware translates the addresses it writes for the VF (CQ records,
 * fences) the same way. Below 2^48, so a 4-level page table can map it. */
#define AAX_VF_HOST_WINDOW       (1ull << 47)

/* ---- the PF's SR-IOV block: BAR0 0xD000 - 0xDFFF (PF and firmware only) ----------- */
#define AAX_SRIOV_WINDOW_BASE    0xD000u
#define AAX_SRIOV_WINDOW_SIZE    0x1000u
#define AAX_REG_SRIOV_CAPS       0xD000u /* RO [7:0] max VFs */
#define AAX_REG_SRIOV_NUM_VFS    0xD004u /* RO VFs enabled in config space (0 while VF Enable is clear) */
/* Firmware: report a device error to a VF (its error record, its error interrupt). Fill
 * the fields, then write VF_ERR_REPORT = code | VF-local ring << 8 | opcode << 16 | vf << 24. */
#define AAX_REG_SRIOV_ERR_JOB_ID 0xD010u
#define AAX_REG_SRIOV_ERR_OFFSET 0xD014u
#define AAX_REG_SRIOV_ERR_ADDR_LO 0xD018u
#define AAX_REG_SRIOV_ERR_ADDR_HI 0xD01Cu
#define AAX_REG_SRIOV_ERR_REPORT 0xD020u /* WO */
/* Per VF v: its resources, written by the PF before it enables the VF. */
#define AAX_SRIOV_VF(v)          (0xD100u + 0x40u * (v))
#define AAX_SRIOV_VF_RING_FIRST  0x00u /* RW first physical ring (and CQ) of the VF */
#define AAX_SRIOV_VF_RING_COUNT  0x04u /* RW rings (and CQs) it owns, 0..AAX_MAX_RINGS */
#define AAX_SRIOV_VF_MEM_BASE_LO 0x08u /* RW device bus address of its device-memory partition */
#define AAX_SRIOV_VF_MEM_BASE_HI 0x0Cu
#define AAX_SRIOV_VF_MEM_SIZE_LO 0x10u /* RW bytes (at most the VF BAR2 size) */
#define AAX_SRIOV_VF_MEM_SIZE_HI 0x14u
#define AAX_SRIOV_VF_HOST_BASE_LO 0x18u /* RW device bus address (host window) of the memory of its VM */
#define AAX_SRIOV_VF_HOST_BASE_HI 0x1Cu
#define AAX_SRIOV_VF_HOST_SIZE_LO 0x20u
#define AAX_SRIOV_VF_HOST_SIZE_HI 0x24u
#define AAX_SRIOV_VF_SHARE       0x28u /* RW scheduling weight 1..255 (deficit round-robin, firmware) */
#define AAX_SRIOV_VF_ASID        0x2Cu /* RW MMU context its jobs run in (the PF maps exactly its ranges there) */
#define AAX_SRIOV_VF_CTRL        0x30u /* RW bit0 EN (resources valid); bit1 FLR (write 1: function-level reset) */
#define AAX_SRIOV_VF_CTRL_EN     (1u << 0)
#define AAX_SRIOV_VF_CTRL_FLR    (1u << 1)
#define AAX_SRIOV_VF_FLRS        0x34u /* RO function-level resets of this VF */
#define AAX_SRIOV_VF_ERRORS      0x38u /* RO device errors reported to this VF */

/* Firmware mailbox: AAX_MBOX_MSG(AAX_MBOX_SRIOV, n) -- n VFs are configured in the SR-IOV
 * block (0: none): the firmware re-reads it and schedules their rings (docs/virtualization.md).
 * Reply value: the VFs it schedules. */
#define AAX_MBOX_SRIOV           0x03u

/* How the firmware scrubs what every VF's context maps -- the cluster SRAMs -- between VFs
 * (docs/virtualization.md "Isolation"): the PF driver writes a command buffer of DMA fills of
 * zeros, one per range, in device memory it keeps for this, and this record at
 * AAX_SRIOV_SCRUB_OFFSET past the boot parameters (firmware region), before AAX_MBOX_SRIOV.
 * Before a VF job starts after another VF's job wrote cluster SRAM (AAX_FW_EQ_SRAM), the
 * firmware runs that buffer, physical, on the incoming VF's engine queue and charges its time
 * to that VF. cmdbuf_size 0: no scrubbing. */
#define AAX_SRIOV_SCRUB_OFFSET   0x1000u
#define AAX_SRIOV_SCRUB_MAGIC    0x42524353u /* "SCRB" */
typedef struct aax_sriov_scrub {
    uint32_t magic;          /* AAX_SRIOV_SCRUB_MAGIC */
    uint32_t cmdbuf_size;    /* bytes (a multiple of 8) */
    uint64_t cmdbuf;         /* chip bus address of the fills */
} aax_sriov_scrub;

/* Engine queue ASID register, firmware only: the job is a VF's (compute packets allowed in its
 * context: the VFs are time-sliced, docs/virtualization.md). */
#define AAX_FW_EQ_ASID_VF        (1u << 16)

#endif /* AAX_SRIOV_H */
