/* SPDX-License-Identifier: MIT */
/*
 * accelvp device ABI ("AAX") -- MMU: page-table format and the MMU register block
 * (BAR0 0xC000 - 0xCFFF).
 *
 * Plain C99, little-endian. docs/abi.md ("MMU") documents every field.
 *
 * Translation: a DMA engine's bus accesses carry the job's address space id (ASID,
 * aax_job_desc.asid), and so do the queue manager's accesses to the addresses a job names
 * (FENCE and MSG targets, JUMP/CALL buffers; on a RING_CTRL.PRIV ring these stay physical).
 * Every DMA engine has its own MMU port (TLB + walker), the queue manager one more; the
 * registers below are shared by all ports, and an invalidation reaches every port.
 * ASID 0 is physical: no translation. ASID a >= 1 is translated through the page
 * table whose root is MMU_CTX(a).PT_BASE, if MMU_CTX(a).CTRL.EN.
 *
 * Page table: a 4-level radix tree over a 48-bit device virtual address, 512 x 8-byte
 * entries (4 KiB) per table, every table 4 KiB aligned:
 *   level 0 (root) VA[47:39], level 1 VA[38:30], level 2 VA[29:21], level 3 VA[20:12].
 * A level-3 entry maps a 4 KiB page; a level-2 entry with LEAF maps a 2 MiB page
 * (PA[20:12] must be 0). Entries of levels 0-1 are always table pointers (LEAF there
 * is a NOT_PRESENT fault).
 */
#ifndef AAX_MMU_H
#define AAX_MMU_H

#include <stdint.h>

/* ---- page-table entry (uint64_t) ------------------------------------------------ */
#define AAX_PTE_VALID        (1ull << 0)  /* entry is present */
#define AAX_PTE_LEAF         (1ull << 1)  /* 1: maps a page (level 2: 2 MiB, level 3: 4 KiB; required at level 3);
                                              0: points to the next-level table (levels 0-2) */
#define AAX_PTE_READ         (1ull << 2)  /* leaf: reads allowed */
#define AAX_PTE_WRITE        (1ull << 3)  /* leaf: writes allowed */
#define AAX_PTE_EXEC         (1ull << 4)  /* leaf: instruction fetches allowed (no engine fetches in this version) */
#define AAX_PTE_ADDR_SHIFT   12u
#define AAX_PTE_ADDR_MASK    0x00FFFFFFFFFFF000ull /* bits [55:12]: chip bus address of the page or next table
                                                       (device memory or the host window) */
#define AAX_PTE_SW_MASK      0xFF00000000000000ull /* bits [63:56]: ignored by the device, free for software */
/* Bits [11:5] are reserved (write 0; ignored). Permission bits of non-leaf entries are ignored. */

#define AAX_MMU_VA_BITS      48u
#define AAX_MMU_LEVELS       4u
#define AAX_MMU_PTES         512u                  /* entries per table */
#define AAX_MMU_TABLE_SIZE   4096u                 /* bytes per table, also its alignment */
#define AAX_PAGE_4K          0x1000ull
#define AAX_PAGE_2M          0x200000ull
/* Index of VA in the table of level l (0 = root). */
#define AAX_MMU_INDEX(va, l) ((unsigned)(((uint64_t)(va) >> (39u - 9u * (l))) & 0x1FFu))

/* ---- MMU registers: BAR0 0xC000 - 0xCFFF ----------------------------------------- */
#define AAX_MMU_BAR_BASE         0xC000u
#define AAX_MMU_BAR_SIZE         0x1000u
#define AAX_MMU_ID_MAGIC         0x4D4D5531u /* "MMU1" */

#define AAX_REG_MMU_ID           0xC000u /* RO AAX_MMU_ID_MAGIC (the window is unmapped without an MMU) */
#define AAX_REG_MMU_CAPS         0xC004u /* RO [7:0] contexts (ASIDs 0..n-1), [15:8] VA bits,
                                            [31:16] TLB entries (4 KiB sets x ways) */
/* TLB invalidation: write TLB_INV_VA_LO/HI (for BY_VA), then TLB_INV. The invalidation is
 * complete, in the TLBs of every port, when the TLB_INV write completes. A privileged ring
 * (RING_CTRL.PRIV) can do the same with three WREG packets (aax_queue.h). */
#define AAX_REG_MMU_TLB_INV_VA_LO 0xC010u /* RW */
#define AAX_REG_MMU_TLB_INV_VA_HI 0xC014u /* RW */
#define AAX_REG_MMU_TLB_INV      0xC018u /* WO [15:0] asid, [17:16] op (AAX_MMU_INV_*) */
#define AAX_MMU_INV_ALL          0u      /* every entry of every context (and the walk cache) */
#define AAX_MMU_INV_ASID         1u      /* every entry of one context */
#define AAX_MMU_INV_VA           2u      /* the 4 KiB and 2 MiB entries of one context covering TLB_INV_VA */
#define AAX_MMU_INV_OP_SHIFT     16u

/* Fault record: the first fault since the last clear; FAULT_COUNT counts all. */
#define AAX_REG_MMU_FAULT_STATUS 0xC020u /* RW1C bit31 VALID (write 1 clears the record), [3:0] type (AAX_MMU_FAULT_*),
                                            [5:4] access (AAX_MMU_ACC_*), [9:8] table level where the walk stopped,
                                            [16:12] port: the DMA engine whose access faulted (port i = engine i),
                                            or the queue manager (port = number of DMA engines: a FENCE, MSG,
                                            JUMP or CALL address) */
#define AAX_REG_MMU_FAULT_ASID   0xC024u /* RO [15:0] asid of the faulting access */
#define AAX_REG_MMU_FAULT_VA_LO  0xC028u /* RO faulting virtual address */
#define AAX_REG_MMU_FAULT_VA_HI  0xC02Cu
#define AAX_REG_MMU_FAULT_COUNT  0xC030u /* RO faults since reset (saturating) */
#define AAX_MMU_FAULT_VALID      (1u << 31)
#define AAX_MMU_FAULT_TYPE_MASK  0xFu
#define AAX_MMU_FAULT_ACC_SHIFT  4u
#define AAX_MMU_FAULT_LEVEL_SHIFT 8u
#define AAX_MMU_FAULT_PORT_SHIFT 12u
#define AAX_MMU_FAULT_PORT_BITS  5u      /* up to 32 ports: one per DMA engine (port i = engine i), then the
                                            queue manager's */
#define AAX_MMU_FAULT_PORT_MASK  (0x1Fu << AAX_MMU_FAULT_PORT_SHIFT)

enum aax_mmu_fault_type {
    AAX_MMU_FAULT_NONE        = 0,
    AAX_MMU_FAULT_NOT_PRESENT = 1, /* an entry on the walk has VALID = 0 (or LEAF at level 0/1, or no LEAF at level 3) */
    AAX_MMU_FAULT_PERMISSION  = 2, /* the leaf lacks READ / WRITE / EXEC for the access */
    AAX_MMU_FAULT_RANGE       = 3, /* VA >= 2^48 */
    AAX_MMU_FAULT_WALK        = 4, /* a page-table read failed (table outside memory) */
    AAX_MMU_FAULT_CONTEXT     = 5  /* asid >= contexts or its context is not enabled */
};
enum aax_mmu_access { AAX_MMU_ACC_READ = 0, AAX_MMU_ACC_WRITE = 1, AAX_MMU_ACC_EXEC = 2 };

/* Context table: MMU_CTX(a) for 1 <= a < contexts (ASID 0 is physical; its slot is reserved). */
#define AAX_MMU_MAX_CONTEXTS     128u
#define AAX_MMU_CTX(a)           (0xC100u + 0x10u * (a))
#define AAX_MMU_CTX_PT_BASE_LO   0x0u /* RW chip bus address of the root table, 4 KiB aligned (bits [11:0] ignored) */
#define AAX_MMU_CTX_PT_BASE_HI   0x4u
#define AAX_MMU_CTX_CTRL         0x8u /* RW bit0 EN. Writing CTRL or PT_BASE does not invalidate the TLB */
#define AAX_MMU_CTX_EN           (1u << 0)

#if defined(__cplusplus)
#define AAX_MMU_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define AAX_MMU_SA_CAT2(a, b) a##b
#define AAX_MMU_SA_CAT(a, b) AAX_MMU_SA_CAT2(a, b)
#define AAX_MMU_STATIC_ASSERT(c, m) typedef char AAX_MMU_SA_CAT(aax_mmu_static_assert_, __LINE__)[(c) ? 1 : -1]
#endif
AAX_MMU_STATIC_ASSERT(AAX_MMU_PTES * 8u == AAX_MMU_TABLE_SIZE, "a table is 512 x 8-byte entries");
AAX_MMU_STATIC_ASSERT(12u + 9u * AAX_MMU_LEVELS == AAX_MMU_VA_BITS, "4 levels of 9 bits over 4 KiB pages");
AAX_MMU_STATIC_ASSERT(AAX_MMU_CTX(AAX_MMU_MAX_CONTEXTS) <= AAX_MMU_BAR_BASE + AAX_MMU_BAR_SIZE,
                      "context table fits the MMU window");
AAX_MMU_STATIC_ASSERT(AAX_REG_MMU_FAULT_COUNT < AAX_MMU_CTX(0), "fault record below the context table");
AAX_MMU_STATIC_ASSERT((AAX_PTE_ADDR_MASK & (AAX_PTE_VALID | AAX_PTE_LEAF | AAX_PTE_READ | AAX_PTE_WRITE |
                                            AAX_PTE_EXEC | AAX_PTE_SW_MASK)) == 0, "PTE fields do not overlap");

static inline const char *aax_mmu_fault_name(unsigned t)
{
    static const char *const names[] = {"NONE", "NOT_PRESENT", "PERMISSION", "RANGE", "WALK", "CONTEXT"};
    return t < sizeof(names) / sizeof(names[0]) ? names[t] : "UNKNOWN";
}

#endif /* AAX_MMU_H */
