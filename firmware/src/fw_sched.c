#include "fw_sched.h"

#include "abi/aax_regs.h"

#include <string.h>

uint8_t fw_check_job(const aax_job_desc *d, uint32_t ring_asid, int asid_enabled)
{
    if ((d->flags & ~AAX_JOB_FLAGS_VALID) != 0 || d->cmdbuf_size == 0 || d->cmdbuf_size % 8 != 0 ||
        d->cmdbuf_size > AAX_MAX_CMDBUF_SIZE || d->cmdbuf_addr % 8 != 0)
        return AAX_ERR_BAD_JOB;
    if ((d->asid != 0 && !asid_enabled) || (ring_asid != 0 && ring_asid != d->asid))
        return fw_check_user_job(d, ring_asid, asid_enabled);
    return AAX_OK;
}

/* Only reached when the kernel-ring checks refused the job (a user ring's RING_ASID never
 * equals a descriptor's asid: it has AAX_RING_ASID_USER set), so kernel rings run the same
 * instructions as before user queues existed. A user ring runs jobs of its own (enabled,
 * nonzero) context only, and no descriptor fence (a physical write). */
uint8_t fw_check_user_job(const aax_job_desc *d, uint32_t ring_asid, int asid_enabled)
{
    if (!(ring_asid & AAX_RING_ASID_USER) || d->asid == 0 || !asid_enabled ||
        (ring_asid & AAX_RING_ASID_MASK) != d->asid)
        return AAX_ERR_BAD_ASID;
    if (d->flags & AAX_JOB_WRITE_FENCE)
        return AAX_ERR_BAD_JOB;
    return AAX_OK;
}

int fw_cq_reserve(fw_cq *cq, uint32_t *slot)
{
    uint32_t n;
    if (cq->size_log2 < 1 || cq->size_log2 > 16)
        return -1;
    n = 1u << cq->size_log2;
    if (cq->tail >= n) {
        cq->tail = 0;
        cq->phase = 1;
    }
    if ((cq->tail + 1) % n == cq->head % n)
        return -1;
    *slot = cq->tail;
    return 0;
}

void fw_cq_commit(fw_cq *cq)
{
    if (++cq->tail == 1u << cq->size_log2) {
        cq->tail = 0;
        cq->phase = !cq->phase;
    }
}

void fw_cq_fill(aax_cq_entry *e, const aax_job_desc *d, uint32_t ring, uint8_t status, uint32_t err_offset,
                uint8_t err_opcode, uint32_t phase, uint64_t ts_start_ns, uint64_t ts_end_ns)
{
    memset(e, 0, sizeof *e);
    e->job_id = d->job_id;
    e->ring = (uint16_t)ring;
    e->status = status;
    e->flags = (uint8_t)((phase ? AAX_CQE_PHASE : 0) | ((d->flags & AAX_JOB_TIMESTAMP) ? AAX_CQE_TS_VALID : 0));
    if (status != AAX_OK) {
        e->err_offset = err_offset;
        e->err_info = err_opcode;
    }
    if (d->flags & AAX_JOB_TIMESTAMP) {
        e->ts_start = ts_start_ns;
        e->ts_end = ts_end_ns;
    }
}
