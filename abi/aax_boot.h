/* SPDX-License-Identifier: MIT */
/*
 * accelvp device ABI ("AAX") -- control core, firmware boot protocol and firmware log.
 *
 * Boot handshake (host driver):
 *   1. write the firmware ELF's PT_LOAD segments into device memory through BAR2, at the
 *      addresses the core sees them (AAX_CORE_DEVMEM_WINDOW maps to device memory offset 0);
 *   2. write an aax_boot_params block into device memory, its device bus address into
 *      BOOT_PARAMS_LO/HI, and the ELF entry point into CORE_ENTRY;
 *   3. write CORE_CTRL = AAX_CORE_RUN: the core leaves reset at CORE_ENTRY;
 *   4. poll BOOT_STATUS (or wait for AAX_IRQ_BOOT) until AAX_BOOT_READY, and read
 *      FW_VERSION; AAX_BOOT_FAIL + BOOT_ERR, or no READY within the driver's timeout,
 *      is a boot error.
 * Firmware: reads and checks the boot params, sets up its log, writes FW_VERSION, then
 * BOOT_STATUS = READY and raises the boot interrupt through FW_IRQ.
 */
#ifndef AAX_BOOT_H
#define AAX_BOOT_H

#if defined(__KERNEL__)
#include <linux/types.h> /* the Linux driver (driver/linux/) */
#else
#include <stdint.h>
#endif

/* ---- BAR0 registers of the control core (device control block) --------------- */
#define AAX_REG_BOOT_STATUS     0x0100u /* RW  written by firmware: enum aax_boot_status */
#define AAX_REG_BOOT_ERR        0x0104u /* RW  written by firmware: AAX_BOOT_ERR_* bits */
#define AAX_REG_BOOT_PARAMS_LO  0x0108u /* RW  device bus address of aax_boot_params (host) */
#define AAX_REG_BOOT_PARAMS_HI  0x010Cu
#define AAX_REG_CORE_CTRL       0x0110u /* RW  bit0 RUN: 1 releases the core from reset at CORE_ENTRY;
                                                 0 holds it in reset (host) */
#define AAX_REG_CORE_ENTRY      0x0114u /* RW  core address of the first instruction (host) */
#define AAX_REG_FW_VERSION      0x0118u /* RW  written by firmware: [31:24] major [23:16] minor [15:0] build */
#define AAX_REG_HEARTBEAT       0x011Cu /* RW  incremented by firmware while it runs */
#define AAX_REG_FW_IRQ          0x0120u /* WO  firmware: raise interrupt line n (an AAX_IRQ_LINE_* or CQ line) */
#define AAX_REG_CORE_WIN_LO     0x0124u /* RW  chip bus address that core window AAX_CORE_BUS_WINDOW maps to */
#define AAX_REG_CORE_WIN_HI     0x0128u

#define AAX_CORE_RUN            (1u << 0)

enum aax_boot_status {
    AAX_BOOT_RESET      = 0, /* core held in reset */
    AAX_BOOT_STARTED    = 1, /* firmware running its init */
    AAX_BOOT_READY      = 4, /* firmware serves the rings */
    AAX_BOOT_FAIL       = 15 /* see BOOT_ERR */
};
#define AAX_BOOT_ERR_BAD_MAGIC    (1u << 0) /* aax_boot_params.magic wrong */
#define AAX_BOOT_ERR_BAD_VERSION  (1u << 1) /* ABI major of the params differs from the firmware's */
#define AAX_BOOT_ERR_BAD_PARAMS   (1u << 2) /* a field out of range */

/* ---- the control core's 32-bit address map ----------------------------------- */
#define AAX_CORE_CLINT          0x02000000u /* CLINT (SiFive layout, one hart), registers below */
#define AAX_CORE_CLINT_SIZE     0x00010000u
#define AAX_CLINT_MSIP          0x0000u     /* RW bit 0: machine software interrupt */
#define AAX_CLINT_MTIMECMP      0x4000u     /* RW 64-bit (LO, HI at +4): MTIP while mtime >= mtimecmp */
#define AAX_CLINT_MTIME         0xBFF8u     /* RW 64-bit: the timer, at aax_boot_params.timer_mhz */
#define AAX_CORE_REGS           0x10000000u /* the chip's BAR0 register space, same offsets */
#define AAX_CORE_DEVMEM_WINDOW  0x80000000u /* 1 GiB: device memory offset 0 .. 1 GiB */
#define AAX_CORE_DEVMEM_SIZE    0x40000000u
#define AAX_CORE_BUS_WINDOW     0xC0000000u /* 1 GiB movable window onto the chip bus (CORE_WIN) */
#define AAX_CORE_BUS_SIZE       0x40000000u

/* Device memory the driver reserves for the firmware (code, data, stack, log): the first
 * AAX_FW_REGION_SIZE bytes; buffer objects are allocated above it. */
#define AAX_FW_REGION_SIZE      (16u << 20)

/* ---- boot parameters (in device memory, written by the driver) --------------- */
#define AAX_BOOT_MAGIC          0xAA5B0070u
#define AAX_BOOT_MAX_RINGS      16u

typedef struct aax_boot_ring {
    uint64_t ring_addr;   /* device bus address of the submission ring */
    uint64_t cq_addr;     /* device bus address of its completion queue (host window) */
    uint32_t ring_log2;
    uint32_t cq_log2;
    uint32_t msix_vector; /* vector of this ring's completions */
    uint32_t reserved;
} aax_boot_ring;

typedef struct aax_boot_params {
    uint32_t magic;           /* AAX_BOOT_MAGIC */
    uint32_t abi_version;     /* AAX_ABI_VERSION of the driver */
    uint32_t core_freq_mhz;
    uint32_t n_rings;         /* valid entries in rings[] */
    uint64_t devmem_base;     /* device bus address of device memory */
    uint64_t host_window;     /* device bus address where host memory appears */
    uint64_t log_addr;        /* device bus address of the firmware log ring (aax_fw_log) */
    uint32_t log_size;        /* bytes, including the header */
    uint32_t timer_mhz;       /* rate of the CLINT mtime counter */
    aax_boot_ring rings[AAX_BOOT_MAX_RINGS];
} aax_boot_params;

/* ---- mailbox messages (AAX_REG_MBOX_H2F / MBOX_F2H) --------------------------- */
/* A message is [31:24] command, [23:0] argument; the reply is AAX_MBOX_REPLY | [30:24]
 * status (0 = ok, AAX_MBOX_ST_UNKNOWN) | [23:0] value. One message in flight at a time. */
#define AAX_MBOX_CMD_SHIFT      24u
#define AAX_MBOX_ARG_MASK       0xFFFFFFu
#define AAX_MBOX_PING           0x01u /* reply value = argument + 1 */
#define AAX_MBOX_JOBS           0x02u /* reply value = jobs the firmware completed (low 24 bits) */
#define AAX_MBOX_REPLY          (1u << 31)
#define AAX_MBOX_ST_SHIFT       24u
#define AAX_MBOX_ST_UNKNOWN     1u    /* unknown command */
#define AAX_MBOX_MSG(cmd, arg)  (((uint32_t)(cmd) << AAX_MBOX_CMD_SHIFT) | ((arg) & AAX_MBOX_ARG_MASK))

/* ---- firmware log: a byte ring in device memory ------------------------------ */
/* The firmware appends text at write_pos (mod capacity); readers read from their own
 * position. A reader that fell more than `capacity` behind has lost the oldest text. */
#define AAX_FW_LOG_MAGIC        0x474F4C46u /* "FLOG" */
typedef struct aax_fw_log {
    uint32_t magic;
    uint32_t capacity;   /* bytes of text that follow the header */
    uint32_t write_pos;  /* total bytes ever written (wraps at 2^32) */
    uint32_t reserved;
    /* char text[capacity]; */
} aax_fw_log;

#if defined(__cplusplus)
static_assert(sizeof(aax_boot_ring) == 32, "boot ring entry is 32 bytes");
static_assert(sizeof(aax_boot_params) == 48 + 32 * AAX_BOOT_MAX_RINGS, "boot params layout");
static_assert(sizeof(aax_fw_log) == 16, "log header is 16 bytes");
#endif

#endif /* AAX_BOOT_H */
