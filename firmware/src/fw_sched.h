/* Firmware scheduling logic that does not touch hardware: job-descriptor checks,
 * completion-queue slot accounting and completion records. Plain C99; built for the
 * control core and natively for unit tests. */
#ifndef FW_SCHED_H
#define FW_SCHED_H

#include <stdint.h>

#include "abi/aax_queue.h"

/* AAX_OK or the status a job with this descriptor completes with, before it runs:
 * AAX_ERR_BAD_JOB (flags, command-buffer size or alignment), AAX_ERR_BAD_ASID (ASID 0 is
 * physical; another needs an enabled MMU context, `asid_enabled`; a ring with RING_ASID
 * != 0 runs only that address space). */
uint8_t fw_check_job(const aax_job_desc *d, uint32_t ring_asid, int asid_enabled);
/* The user-ring part of it (ring_asid with AAX_RING_ASID_USER, abi/aax_regs.h): the job must be
 * of that ring's context ([15:0], nonzero, enabled) and write no descriptor fence (BAD_JOB). */
uint8_t fw_check_user_job(const aax_job_desc *d, uint32_t ring_asid, int asid_enabled);

/* A completion queue as the firmware sees it: the device's producer state (tail and the
 * phase of the next record, AAX_FW_CQ_TAIL) and the host's geometry and head. */
typedef struct fw_cq {
    uint32_t tail;      /* next slot to write */
    uint32_t phase;     /* 1 or 0: PHASE of the next record */
    uint32_t size_log2; /* CQ_SIZE_LOG2 as programmed (valid 1..16) */
    uint32_t head;      /* CQ_HEAD: host consumer index */
} fw_cq;

/* Reserves the next slot: returns 0 and sets *slot, or -1 when the CQ is full or its
 * size is invalid (the record must be dropped and counted). A tail beyond the size
 * (the host shrank the CQ) restarts it at slot 0, phase 1. */
int fw_cq_reserve(fw_cq *cq, uint32_t *slot);
/* Advances past the slot just written; flips the phase on wrap. */
void fw_cq_commit(fw_cq *cq);

/* Fills a completion record. */
void fw_cq_fill(aax_cq_entry *e, const aax_job_desc *d, uint32_t ring, uint8_t status, uint32_t err_offset,
                uint8_t err_opcode, uint32_t phase, uint64_t ts_start_ns, uint64_t ts_end_ns);

#endif
