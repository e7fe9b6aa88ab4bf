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

/* A command buffer being built in a mapped BO. */
typedef struct aax_cmdbuf {
    aax_bo *bo;
    uint32_t used;
} aax_cmdbuf;
/* Appends a packet; -ENOSPC when the BO is full. */
int aax_cmd_emit(aax_cmdbuf *c, const void *pkt, size_t bytes);

#endif
