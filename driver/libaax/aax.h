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
    uint64_t va;     /* device bus address */
    uint64_t mmap_offset;
    void *map;       /* CPU mapping (NULL if not mapped) */
} aax_bo;

/* Opens the first aax device node (/dev/accel/accel*, then /dev/dri/renderD*), or `path`. */
int aax_open(aax_dev *d, const char *path);
void aax_close(aax_dev *d);
int aax_bo_create(aax_dev *d, uint64_t size, uint32_t flags, aax_bo *bo);
int aax_bo_map(aax_dev *d, aax_bo *bo);
int aax_bo_free(aax_dev *d, aax_bo *bo);
int aax_submit(aax_dev *d, const aax_bo *cmdbuf, uint32_t offset, uint32_t size, uint32_t *seq);
int aax_wait(aax_dev *d, uint32_t seq, int64_t timeout_ns, struct aax_drm_wait *out);
int aax_last_error(aax_dev *d, struct aax_drm_error *out);

/* A command buffer being built in a mapped BO. */
typedef struct aax_cmdbuf {
    aax_bo *bo;
    uint32_t used;
} aax_cmdbuf;
/* Appends a packet; -ENOSPC when the BO is full. */
int aax_cmd_emit(aax_cmdbuf *c, const void *pkt, size_t bytes);

#endif
