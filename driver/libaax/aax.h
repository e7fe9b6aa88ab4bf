/* SPDX-License-Identifier: MIT */
/* libaax: a small user-space library over the aax Linux driver's ioctls (abi/aax_drm.h).
 * Every call returns 0 or a negative errno. */
#ifndef LIBAAX_H
#define LIBAAX_H

#include <stddef.h>
#include <stdint.h>

#include "abi/aax_drm.h"

typedef struct aax_dev {
    int fd;
    char path[300];
    struct aax_drm_info info;
} aax_dev;

typedef struct aax_bo {
    uint32_t handle;
    uint64_t size;
    uint64_t va;     /* device bus address (0: a scattered host BO, reachable through a VM) */
    uint64_t mmap_offset;
    void *map;       /* CPU mapping (NULL if not mapped) */
} aax_bo;

/* Opens the first aax device node (/dev/accel/accel*, then /dev/dri/renderD*), or `path`. */
int aax_open(aax_dev *d, const char *path);
void aax_close(aax_dev *d);
int aax_bo_create(aax_dev *d, uint64_t size, uint32_t flags, aax_bo *bo);
int aax_bo_map(aax_dev *d, aax_bo *bo);
int aax_bo_free(aax_dev *d, aax_bo *bo);
/* Queue 0, physical addresses. */
int aax_submit(aax_dev *d, const aax_bo *cmdbuf, uint32_t offset, uint32_t size, uint32_t *seq);
int aax_wait(aax_dev *d, uint32_t seq, int64_t timeout_ns, struct aax_drm_wait *out);

typedef struct aax_submit_args {
    uint32_t queue;
    const aax_bo *cmdbuf;   /* device BO or contiguous host BO (bus addresses) */
    uint32_t offset, size;
    uint32_t flags;         /* AAX_JOB_NULL */
    uint32_t timeout_us;    /* device-side job timeout */
    uint32_t vm_id;         /* 0: physical; else the VM the job's DMA addresses are in */
    uint32_t out_syncobj;   /* 0, or a syncobj (aax_syncobj_create) that gets the job's fence */
} aax_submit_args;
/* Any queue; fence_fd (optional): a sync_file fd of the job's fence. seq is per queue. */
int aax_submit_ex(aax_dev *d, const aax_submit_args *a, uint32_t *seq, int *fence_fd);
/* 0, -ETIME (timed out), or the errno of the job's device status (out filled). */
int aax_wait_queue(aax_dev *d, uint32_t queue, uint32_t seq, int64_t timeout_ns, struct aax_drm_wait *out);

/* VMs (MMU contexts), per open file. */
int aax_vm_create(aax_dev *d, uint32_t *vm_id);
int aax_vm_destroy(aax_dev *d, uint32_t vm_id);
int aax_vm_bind(aax_dev *d, uint32_t vm_id, const aax_bo *bo, uint64_t bo_offset, uint64_t va, uint64_t size,
                uint32_t flags);
int aax_vm_unbind(aax_dev *d, uint32_t vm_id, uint64_t va, uint64_t size);
int aax_last_error(aax_dev *d, struct aax_drm_error *out);

/* DRM sync objects (the DRM core's ioctls; the driver sets DRIVER_SYNCOBJ). wait: 0 once the
 * syncobj holds a signalled fence, -ETIME after timeout_ns (relative), -EINVAL while it holds
 * none. export: a sync_file fd of its current fence. */
int aax_syncobj_create(aax_dev *d, uint32_t *handle);
int aax_syncobj_destroy(aax_dev *d, uint32_t handle);
int aax_syncobj_wait(aax_dev *d, uint32_t handle, int64_t timeout_ns);
int aax_syncobj_export_sync_file(aax_dev *d, uint32_t handle, int *fd);

/* User queues (UQ_CREATE, docs/virtualization.md "User queues"): a ring of this file's, pinned
 * to one of its VMs, driven with no system call: aax_uq_submit writes the descriptor into the
 * mapped slot, publishes wptr and the CQ head in the mapped header (one 8-byte store) and writes
 * the mapped doorbell; completions are records in the mapped CQ, which aax_uq_poll/aax_uq_wait
 * read (polling: no interrupt, no system call). The device stops a queue at its first failed
 * job: that job's wait returns its errno, every later one -EIO (never run). After the kernel
 * revokes the queue (UQ_DESTROY, or a device reset) its mappings are gone: an access is SIGBUS. */
typedef struct aax_uq_done {
    uint32_t job_id;
    uint8_t status;
    uint8_t err_opcode;
    uint32_t err_offset;
    uint64_t ts_start, ts_end;
} aax_uq_done;
typedef struct aax_uq {
    aax_dev *d;
    struct aax_drm_uq_create info;  /* queue_id, entries, mmap offsets and sizes */
    uint32_t vm_id;
    volatile uint8_t *mem;          /* the header (offset 0) and the slots (from AAX_UQ_HEADER_SIZE) */
    volatile uint8_t *cq;
    volatile uint32_t *db;          /* the doorbell page */
    uint32_t wptr, cq_head, phase;
    uint32_t next_id, inflight, last_done;
    int stopped;                    /* a failed record came: the device stopped the queue */
    aax_uq_done *done;              /* records taken, not yet waited for */
    uint32_t ndone;
} aax_uq;
/* entries_log2 0: the driver's default. */
int aax_uq_create(aax_dev *d, uint32_t vm_id, uint32_t entries_log2, aax_uq *q);
/* A job: its command buffer at cmdbuf_va in the queue's VM; flags AAX_JOB_NULL or 0, and
 * AAX_UQ_DEFER: write the slot only; the device sees it with the next submit without the flag
 * (one header write and one doorbell for a batch). No system call. -EBUSY: ring full (wait for
 * some); -EIO: the queue stopped on a failed job. */
#define AAX_UQ_DEFER (1u << 31) /* libaax only: not a descriptor flag */
int aax_uq_submit(aax_uq *q, uint64_t cmdbuf_va, uint32_t size, uint32_t flags, uint32_t timeout_us, uint32_t *job_id);
/* Waits (polling the CQ) for a job: 0, -ETIME after timeout_ns, -EIO (queued behind a failed
 * job), or the errno of its device status; out (optional) gets its record. */
int aax_uq_wait(aax_uq *q, uint32_t job_id, int64_t timeout_ns, aax_uq_done *out);
/* Rings the doorbell of user ring `ring` through this queue's doorbell page (any ring: the
 * device re-reads what that ring's owner published; a test of that). */
void aax_uq_ring_doorbell(aax_uq *q, uint32_t ring);
/* UQ_DESTROY and unmap. */
int aax_uq_destroy(aax_uq *q);
/* The errno of a device status, as the kernel's WAIT returns it. */
int aax_status_errno(unsigned status);

/* A command buffer being built in a mapped BO. */
typedef struct aax_cmdbuf {
    aax_bo *bo;
    uint32_t used;
} aax_cmdbuf;
/* Appends a packet; -ENOSPC when the BO is full. */
int aax_cmd_emit(aax_cmdbuf *c, const void *pkt, size_t bytes);

#endif
