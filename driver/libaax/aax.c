/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "driver/libaax/aax.h"
#include "abi/aax_errno.h"
#include "abi/aax_queue.h"
#include "abi/aax_regs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* DRM_IOCTL_GEM_CLOSE without libdrm: struct drm_gem_close { __u32 handle, pad; }, nr 0x09. */
struct aax_gem_close {
    uint32_t handle;
    uint32_t pad;
};
#define AAX_IOCTL_GEM_CLOSE _IOW('d', 0x09, struct aax_gem_close)

/* The DRM core's syncobj ioctls (include/uapi/drm/drm.h, stable uAPI), without libdrm. */
struct aax_syncobj_create {
    uint32_t handle;
    uint32_t flags;
};
struct aax_syncobj_destroy {
    uint32_t handle;
    uint32_t pad;
};
struct aax_syncobj_handle {
    uint32_t handle;
    uint32_t flags;
    int32_t fd;
    uint32_t pad;
};
struct aax_syncobj_wait {
    uint64_t handles;       /* user pointer to an array of handles */
    int64_t timeout_nsec;   /* absolute, CLOCK_MONOTONIC */
    uint32_t count_handles;
    uint32_t flags;
    uint32_t first_signaled;
    uint32_t pad;
};
#define AAX_IOCTL_SYNCOBJ_CREATE       _IOWR('d', 0xBF, struct aax_syncobj_create)
#define AAX_IOCTL_SYNCOBJ_DESTROY      _IOWR('d', 0xC0, struct aax_syncobj_destroy)
#define AAX_IOCTL_SYNCOBJ_HANDLE_TO_FD _IOWR('d', 0xC1, struct aax_syncobj_handle)
#define AAX_IOCTL_SYNCOBJ_WAIT         _IOWR('d', 0xC3, struct aax_syncobj_wait)
#define AAX_SYNCOBJ_EXPORT_SYNC_FILE   (1u << 0)
#define AAX_SYNCOBJ_WAIT_ALL           (1u << 0)

static int xioctl(int fd, unsigned long req, void *arg)
{
    int r;
    do r = ioctl(fd, req, arg);
    while (r < 0 && (errno == EINTR || errno == EAGAIN));
    return r < 0 ? -errno : 0;
}

static int try_open(aax_dev *d, const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return -errno;
    memset(&d->info, 0, sizeof(d->info));
    if (xioctl(fd, DRM_IOCTL_AAX_GET_INFO, &d->info) != 0) {
        close(fd);
        return -ENODEV;
    }
    d->fd = fd;
    snprintf(d->path, sizeof(d->path), "%s", path);
    return 0;
}

int aax_open(aax_dev *d, const char *path)
{
    static const char *const dirs[] = {"/dev/accel", "/dev/dri"};
    static const char *const prefixes[] = {"accel", "renderD"};
    unsigned i;
    if (path) return try_open(d, path);
    for (i = 0; i < 2; ++i) {
        DIR *dir = opendir(dirs[i]);
        struct dirent *e;
        if (!dir) continue;
        while ((e = readdir(dir))) {
            char p[300];
            if (strncmp(e->d_name, prefixes[i], strlen(prefixes[i])) != 0) continue;
            snprintf(p, sizeof(p), "%s/%s", dirs[i], e->d_name);
            if (try_open(d, p) == 0) {
                closedir(dir);
                return 0;
            }
        }
        closedir(dir);
    }
    return -ENODEV;
}

void aax_close(aax_dev *d)
{
    if (d->fd >= 0) close(d->fd);
    d->fd = -1;
}

int aax_bo_create(aax_dev *d, uint64_t size, uint32_t flags, aax_bo *bo)
{
    struct aax_drm_bo_create a;
    int r;
    memset(&a, 0, sizeof(a));
    a.size = size;
    a.flags = flags;
    r = xioctl(d->fd, DRM_IOCTL_AAX_BO_CREATE, &a);
    if (r) return r;
    memset(bo, 0, sizeof(*bo));
    bo->handle = a.handle;
    bo->size = size;
    bo->va = a.device_va;
    bo->mmap_offset = a.mmap_offset;
    return 0;
}

int aax_bo_map(aax_dev *d, aax_bo *bo)
{
    void *p = mmap(NULL, bo->size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, (off_t)bo->mmap_offset);
    if (p == MAP_FAILED) return -errno;
    bo->map = p;
    return 0;
}

int aax_bo_free(aax_dev *d, aax_bo *bo)
{
    struct aax_gem_close c = {bo->handle, 0};
    if (bo->map) munmap(bo->map, bo->size);
    bo->map = NULL;
    return xioctl(d->fd, AAX_IOCTL_GEM_CLOSE, &c);
}

int aax_submit_ex(aax_dev *d, const aax_submit_args *a, uint32_t *seq, int *fence_fd)
{
    struct aax_drm_submit s;
    int r;
    memset(&s, 0, sizeof(s));
    s.queue = a->queue;
    s.cmdbuf_handle = a->cmdbuf->handle;
    s.cmdbuf_offset = a->offset;
    s.cmdbuf_size = a->size;
    s.flags = a->flags | (fence_fd ? AAX_SUBMIT_FENCE_FD : 0);
    s.timeout_us = a->timeout_us;
    s.vm_id = a->vm_id;
    s.out_syncobj = a->out_syncobj;
    r = xioctl(d->fd, DRM_IOCTL_AAX_SUBMIT, &s);
    if (!r) {
        *seq = s.seq;
        if (fence_fd) *fence_fd = s.fence_fd;
    }
    return r;
}

int aax_submit(aax_dev *d, const aax_bo *cmdbuf, uint32_t offset, uint32_t size, uint32_t *seq)
{
    aax_submit_args a;
    memset(&a, 0, sizeof(a));
    a.cmdbuf = cmdbuf;
    a.offset = offset;
    a.size = size;
    return aax_submit_ex(d, &a, seq, NULL);
}

int aax_wait_queue(aax_dev *d, uint32_t queue, uint32_t seq, int64_t timeout_ns, struct aax_drm_wait *out)
{
    struct aax_drm_wait w;
    int r;
    do {
        memset(&w, 0, sizeof(w));
        w.queue = queue;
        w.seq = seq;
        w.timeout_ns = timeout_ns;
        r = ioctl(d->fd, DRM_IOCTL_AAX_WAIT, &w);
    } while (r < 0 && errno == EINTR);
    if (out) *out = w;
    return r < 0 ? -errno : 0;
}

int aax_wait(aax_dev *d, uint32_t seq, int64_t timeout_ns, struct aax_drm_wait *out)
{
    return aax_wait_queue(d, 0, seq, timeout_ns, out);
}

int aax_vm_create(aax_dev *d, uint32_t *vm_id)
{
    struct aax_drm_vm_create a;
    int r;
    memset(&a, 0, sizeof(a));
    r = xioctl(d->fd, DRM_IOCTL_AAX_VM_CREATE, &a);
    if (!r) *vm_id = a.vm_id;
    return r;
}

int aax_vm_destroy(aax_dev *d, uint32_t vm_id)
{
    struct aax_drm_vm_destroy a;
    memset(&a, 0, sizeof(a));
    a.vm_id = vm_id;
    return xioctl(d->fd, DRM_IOCTL_AAX_VM_DESTROY, &a);
}

int aax_vm_bind(aax_dev *d, uint32_t vm_id, const aax_bo *bo, uint64_t bo_offset, uint64_t va, uint64_t size,
                uint32_t flags)
{
    struct aax_drm_vm_bind a;
    memset(&a, 0, sizeof(a));
    a.vm_id = vm_id;
    a.handle = bo->handle;
    a.bo_offset = bo_offset;
    a.va = va;
    a.size = size;
    a.flags = flags;
    return xioctl(d->fd, DRM_IOCTL_AAX_VM_BIND, &a);
}

int aax_vm_unbind(aax_dev *d, uint32_t vm_id, uint64_t va, uint64_t size)
{
    struct aax_drm_vm_unbind a;
    memset(&a, 0, sizeof(a));
    a.vm_id = vm_id;
    a.va = va;
    a.size = size;
    return xioctl(d->fd, DRM_IOCTL_AAX_VM_UNBIND, &a);
}

int aax_last_error(aax_dev *d, struct aax_drm_error *out)
{
    memset(out, 0, sizeof(*out));
    return xioctl(d->fd, DRM_IOCTL_AAX_LAST_ERROR, out);
}

int aax_cmd_emit(aax_cmdbuf *c, const void *pkt, size_t bytes)
{
    size_t i;
    if (c->used + bytes > c->bo->size || bytes % 8) return bytes % 8 ? -EINVAL : -ENOSPC;
    /* 8-byte stores: a device BO is mapped through BAR2 (MMIO). */
    for (i = 0; i < bytes; i += 8) {
        uint64_t q;
        memcpy(&q, (const char *)pkt + i, 8);
        *(volatile uint64_t *)((char *)c->bo->map + c->used + i) = q;
    }
    c->used += (uint32_t)bytes;
    return 0;
}

int aax_syncobj_create(aax_dev *d, uint32_t *handle)
{
    struct aax_syncobj_create c;
    int r;
    memset(&c, 0, sizeof(c));
    r = xioctl(d->fd, AAX_IOCTL_SYNCOBJ_CREATE, &c);
    if (!r) *handle = c.handle;
    return r;
}

int aax_syncobj_destroy(aax_dev *d, uint32_t handle)
{
    struct aax_syncobj_destroy c = {handle, 0};
    return xioctl(d->fd, AAX_IOCTL_SYNCOBJ_DESTROY, &c);
}

int aax_syncobj_wait(aax_dev *d, uint32_t handle, int64_t timeout_ns)
{
    struct aax_syncobj_wait w;
    struct timespec now;
    int r;
    clock_gettime(CLOCK_MONOTONIC, &now);
    memset(&w, 0, sizeof(w));
    w.handles = (uint64_t)(uintptr_t)&handle;
    w.count_handles = 1;
    w.flags = AAX_SYNCOBJ_WAIT_ALL;
    w.timeout_nsec = (int64_t)now.tv_sec * 1000000000ll + now.tv_nsec + timeout_ns;
    do r = ioctl(d->fd, AAX_IOCTL_SYNCOBJ_WAIT, &w);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

int aax_syncobj_export_sync_file(aax_dev *d, uint32_t handle, int *fd)
{
    struct aax_syncobj_handle h;
    int r;
    memset(&h, 0, sizeof(h));
    h.handle = handle;
    h.flags = AAX_SYNCOBJ_EXPORT_SYNC_FILE;
    h.fd = -1;
    r = xioctl(d->fd, AAX_IOCTL_SYNCOBJ_HANDLE_TO_FD, &h);
    if (!r) *fd = h.fd;
    return r;
}

/* ---- user queues ------------------------------------------------------------------- */

int aax_status_errno(unsigned status)
{
    return aax_status_to_errno(status);
}

static void uq_unmap(aax_uq *q)
{
    if (q->mem) munmap((void *)q->mem, q->info.ring_size);
    if (q->cq) munmap((void *)q->cq, q->info.cq_size);
    if (q->db) munmap((void *)q->db, 4096);
    q->mem = q->cq = NULL;
    q->db = NULL;
}

int aax_uq_create(aax_dev *d, uint32_t vm_id, uint32_t entries_log2, aax_uq *q)
{
    void *m;
    int r;
    memset(q, 0, sizeof(*q));
    q->d = d;
    q->vm_id = vm_id;
    q->info.vm_id = vm_id;
    q->info.entries_log2 = entries_log2;
    if ((r = xioctl(d->fd, DRM_IOCTL_AAX_UQ_CREATE, &q->info))) return r;
    q->done = calloc(q->info.cq_entries, sizeof(*q->done));
    if (!q->done) r = -ENOMEM;
    if (!r) {
        m = mmap(NULL, q->info.ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, (off_t)q->info.ring_mmap_offset);
        if (m == MAP_FAILED) r = -errno;
        else q->mem = m;
    }
    if (!r) {
        m = mmap(NULL, q->info.cq_size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, (off_t)q->info.cq_mmap_offset);
        if (m == MAP_FAILED) r = -errno;
        else q->cq = m;
    }
    if (!r) {
        m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, (off_t)q->info.db_mmap_offset);
        if (m == MAP_FAILED) r = -errno;
        else q->db = m;
    }
    if (r) {
        struct aax_drm_uq_destroy x = {q->info.queue_id, 0};
        uq_unmap(q);
        free(q->done);
        q->done = NULL;
        xioctl(d->fd, DRM_IOCTL_AAX_UQ_DESTROY, &x);
        return r;
    }
    q->phase = 1;
    q->next_id = 1;
    return 0;
}

/* Takes the records the device wrote into the CQ (a record is there when its PHASE bit is the
 * expected one; the expectation flips at each wrap). */
static int uq_take(aax_uq *q)
{
    int n = 0;
    for (;;) {
        volatile aax_cq_entry *e = (volatile aax_cq_entry *)(q->cq + (size_t)q->cq_head * AAX_CQ_ENTRY_SIZE);
        aax_uq_done *o;
        if (((e->flags & AAX_CQE_PHASE) != 0) != (q->phase != 0)) break;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        o = &q->done[q->ndone < q->info.cq_entries ? q->ndone++ : q->info.cq_entries - 1];
        o->job_id = e->job_id;
        o->status = e->status;
        o->err_offset = e->err_offset;
        o->err_opcode = (uint8_t)(e->err_info & 0xFF);
        o->ts_start = e->ts_start;
        o->ts_end = e->ts_end;
        if (o->status != AAX_OK) q->stopped = 1;
        q->last_done = o->job_id; /* one ring: records come in submission order */
        if (q->inflight) q->inflight--;
        if (++q->cq_head == q->info.cq_entries) {
            q->cq_head = 0;
            q->phase = !q->phase;
        }
        ++n;
    }
    return n;
}

int aax_uq_submit(aax_uq *q, uint64_t cmdbuf_va, uint32_t size, uint32_t flags, uint32_t timeout_us, uint32_t *job_id)
{
    aax_job_desc dsc;
    volatile uint64_t *slot;
    const uint64_t *src = (const uint64_t *)&dsc;
    unsigned i;
    uq_take(q); /* frees slots; the CQ head published below is current */
    if (q->stopped) return -EIO;
    if (q->inflight + 1 >= q->info.entries) return -EBUSY;
    memset(&dsc, 0, sizeof(dsc));
    dsc.cmdbuf_addr = cmdbuf_va;
    dsc.cmdbuf_size = size;
    dsc.job_id = q->next_id++;
    dsc.flags = (flags & AAX_JOB_NULL) | AAX_JOB_TIMESTAMP; /* no fence (BAD_JOB on a user ring), no IRQ */
    dsc.timeout_us = timeout_us;
    dsc.asid = (uint16_t)q->vm_id;
    slot = (volatile uint64_t *)(q->mem + AAX_UQ_HEADER_SIZE + (size_t)q->wptr * AAX_JOB_DESC_SIZE);
    for (i = 0; i < AAX_JOB_DESC_SIZE / 8; ++i) slot[i] = src[i];
    q->wptr = (q->wptr + 1) % q->info.entries;
    q->inflight++;
    if (job_id) *job_id = dsc.job_id;
    if (flags & AAX_UQ_DEFER) return 0; /* published with the next submit */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    *(volatile uint64_t *)q->mem = (uint64_t)q->wptr | (uint64_t)q->cq_head << 32; /* wptr, cq_head */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    q->db[(AAX_UQ_DOORBELL(q->info.queue_id) - AAX_UQ_WINDOW_BASE) / 4] = 1;
    return 0;
}

void aax_uq_ring_doorbell(aax_uq *q, uint32_t ring)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    q->db[(AAX_UQ_DOORBELL(ring) - AAX_UQ_WINDOW_BASE) / 4] = 1;
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000ll + t.tv_nsec;
}

int aax_uq_wait(aax_uq *q, uint32_t job_id, int64_t timeout_ns, aax_uq_done *out)
{
    const int64_t end = now_ns() + timeout_ns;
    unsigned spins = 0;
    for (;;) {
        uint32_t i;
        uq_take(q);
        for (i = 0; i < q->ndone; ++i) {
            if (q->done[i].job_id != job_id) continue;
            if (out) *out = q->done[i];
            {
                const int r = aax_status_errno(q->done[i].status);
                q->done[i] = q->done[--q->ndone];
                return r;
            }
        }
        if (!job_id || job_id >= q->next_id || job_id <= q->last_done) return -EINVAL; /* not a job, or taken */
        if (q->stopped) return -EIO; /* behind the failed job: never runs */
        if (now_ns() >= end) return -ETIME;
        if (++spins < 64) {
            sched_yield();
        } else {
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
        }
    }
}

int aax_uq_destroy(aax_uq *q)
{
    struct aax_drm_uq_destroy x = {q->info.queue_id, 0};
    int r = xioctl(q->d->fd, DRM_IOCTL_AAX_UQ_DESTROY, &x);
    uq_unmap(q);
    free(q->done);
    q->done = NULL;
    return r;
}
