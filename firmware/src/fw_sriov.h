/* SR-IOV scheduler of the control-core firmware (docs/virtualization.md). */
#ifndef FW_SRIOV_H
#define FW_SRIOV_H

#include <stdint.h>

#include "abi/aax_boot.h"

/* What the boot-time scheduler (main.c) hands over when the PF driver sends AAX_MBOX_SRIOV. */
typedef struct {
    aax_fw_log *log;
    uint32_t n_rings, n_cqs;
    uint32_t timer_mhz;
    uint32_t heartbeat;
    uint64_t next_heartbeat;
    uint32_t jobs_completed;
    uint32_t has_mmu, mmu_contexts;
} fw_sriov_ctx;

/* main.c's guard flags: a load/store fault while guard_active is set only sets guard_fault. */
extern volatile uint32_t guard_active, guard_fault;

/* Replies to the AAX_MBOX_SRIOV message (n VFs) and schedules from then on; never returns.
 * The PF's rings must be idle (the PF driver enables SR-IOV right after probe). */
void fw_sriov_run(const fw_sriov_ctx *ctx, uint32_t n) __attribute__((noreturn));

#endif
