/* SPDX-License-Identifier: MIT */
/*
 * accelvp device ABI ("AAX") -- the user API of the Linux driver (driver/linux/), DRM ioctls.
 *
 * One header for the kernel module, the user-space library (driver/libaax) and the
 * in-process user API (platform/host/uapi.h uses the same flags and semantics). The ioctl
 * numbers are DRM driver-private ioctls (DRM_COMMAND_BASE + n); this header needs no
 * libdrm. Every ioctl returns 0 or -1 with errno.
 *
 * Device node: /dev/accel/accel<N> on kernels with the accel subsystem (6.2+), else the
 * render node /dev/dri/renderD<N>. Buffer objects are GEM objects: close them with
 * DRM_IOCTL_GEM_CLOSE, map them with mmap(fd, offset = mmap_offset).
 */
#ifndef AAX_DRM_H
#define AAX_DRM_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define AAX_DRM_COMMAND_BASE     0x40 /* DRM_COMMAND_BASE */

/* GET_INFO: what the driver learned at probe. */
struct aax_drm_info {
    __u32 abi_version;   /* AAX_REG_VERSION */
    __u32 fw_version;    /* AAX_REG_FW_VERSION (0: no control core) */
    __u32 queues;        /* submission rings the driver set up */
    __u32 semaphores;
    __u32 dma_engines;
    __u32 flags;         /* AAX_INFO_* */
    __u64 devmem_size;   /* bytes of device memory */
    __u64 devmem_free;   /* bytes free for BOs */
    __u64 host_bo_max;   /* largest physically contiguous host BO (device_va usable in packets) */
    /* Appended (DRM zero-fills what an older caller's smaller struct leaves out): */
    __u64 host_bo_sg_max;/* largest host BO: above host_bo_max it is scattered (device_va 0): bind it in a VM */
    __u32 mmu_contexts;  /* MMU contexts (ASIDs 0..n-1; 0 = no MMU) */
    __u32 reserved;
};
#define AAX_INFO_CONTROL_CORE    (1u << 0)
#define AAX_INFO_MMU             (1u << 1)
#define AAX_INFO_PRIVILEGED      (1u << 2) /* this file may submit physical jobs (vm_id 0): its opener had
                                              CAP_SYS_ADMIN; without it, vm_id 0 is EPERM on a device with an MMU */

/* BO_CREATE: a buffer object in device memory (default) or in host memory the device
 * reaches over PCIe (AAX_BO_HOST). device_va is the address to put in packets. */
struct aax_drm_bo_create {
    __u64 size;          /* bytes, > 0 (rounded up to pages) */
    __u32 flags;         /* AAX_BO_* */
    __u32 handle;        /* out: GEM handle */
    __u64 device_va;     /* out: device bus address */
    __u64 mmap_offset;   /* out: for mmap() on the device fd */
};
#define AAX_BO_DEVICE            0u
#define AAX_BO_HOST              (1u << 0)
#define AAX_BO_ALIGN_2M          (1u << 1)
#define AAX_BO_FLAGS_VALID       0x3u

/* SUBMIT: run cmdbuf_size bytes at cmdbuf_offset of a BO as one job on a queue. */
struct aax_drm_submit {
    __u32 queue;
    __u32 cmdbuf_handle;
    __u32 cmdbuf_offset; /* 8-byte aligned */
    __u32 cmdbuf_size;   /* multiple of 8, 8 .. AAX_MAX_CMDBUF_SIZE */
    __u32 flags;         /* AAX_JOB_* extra flags (abi/aax_queue.h): only AAX_JOB_NULL */
    __u32 timeout_us;    /* device-side job timeout, 0 = none */
    __u32 seq;           /* out: the job's fence: its seqno on this queue (per-queue dma_fence timeline) */
    __u32 vm_id;         /* address space of the job's DMA addresses: 0 physical (bus addresses; EPERM
                            unless AAX_INFO_PRIVILEGED on a device with an MMU), else a VM of this file
                            (VM_CREATE; ENOENT for any other); was `pad` (0) before VMs */
    /* Appended: */
    __s32 fence_fd;      /* out, with AAX_SUBMIT_FENCE_FD: a sync_file fd of the job's fence (poll()able) */
    __u32 out_syncobj;   /* a drm_syncobj handle of this file (DRM_IOCTL_SYNCOBJ_CREATE) that gets the
                            job's fence; 0 none; ENOENT for an unknown handle. Was `reserved` (0) */
};
#define AAX_SUBMIT_FENCE_FD      (1u << 16) /* driver flag in aax_drm_submit.flags (not sent to the device) */

/* WAIT: wait for a job's fence (queue, seq) of this file (EINVAL for another file's). 0 when it completed OK; else -1 and errno ETIME
 * (the wait timed out: the job may still complete), or the errno of the device status
 * (EINVAL, EFAULT for an MMU fault or bad address, ETIMEDOUT for a device-side job timeout,
 * EIO aborted, ...) with status and err_* filled in. timeout_ns 0 only tests the fence. */
struct aax_drm_wait {
    __u32 seq;
    __u32 status;        /* out: enum aax_status */
    __s64 timeout_ns;    /* relative */
    __u64 ts_start_ns;   /* out: device timestamps of the job */
    __u64 ts_end_ns;
    __u32 err_offset;    /* out: failing packet offset */
    __u32 err_opcode;    /* out: its opcode (AAX_ERR_OPCODE_JOB: the job itself) */
    /* Appended (older callers: queue 0): */
    __u32 queue;
    __u32 reserved;
};

/* LAST_ERROR: the last device error record and MMU fault record the driver read, each only
 * if it is the caller's (its job, its VM; else zeroed); ENOENT when neither is. The counts
 * are device-wide. */
struct aax_drm_error {
    __u32 code;          /* enum aax_status */
    __u32 ring;
    __u32 job_id;
    __u32 offset;
    __u32 opcode;
    __u32 count;         /* errors recorded since probe */
    __u64 addr;
    /* Appended: the last MMU fault record (abi/aax_mmu.h MMU_FAULT_*), 0 when none */
    __u32 mmu_fault_status;
    __u32 mmu_fault_asid;
    __u64 mmu_fault_va;
    __u32 mmu_faults;    /* MMU faults seen since probe */
    __u32 reserved;
};

/* VM_CREATE: a device address space of this file (an MMU context; vm_id = its ASID >= 1).
 * ENODEV without an MMU, ENOSPC when every context is in use. Closing the file destroys
 * its VMs (after their jobs in flight). */
struct aax_drm_vm_create {
    __u32 vm_id;         /* out */
    __u32 reserved;
};
/* VM_DESTROY: unmaps everything, disables the context (jobs in flight on it fault). */
struct aax_drm_vm_destroy {
    __u32 vm_id;
    __u32 reserved;
};
/* VM_BIND: map [bo_offset, bo_offset + size) of a BO at device VA va (all 4 KiB aligned,
 * va + size <= 2^48, va >= AAX_VM_VA_MIN); 2 MiB pages where VA, address and size allow.
 * EEXIST: overlaps a mapping. The BO stays alive while mapped. */
struct aax_drm_vm_bind {
    __u32 vm_id;
    __u32 handle;
    __u64 bo_offset;
    __u64 va;
    __u64 size;
    __u32 flags;         /* AAX_VM_READ | AAX_VM_WRITE, at least one */
    __u32 reserved;
};
#define AAX_VM_READ              (1u << 0)
#define AAX_VM_WRITE             (1u << 1)
#define AAX_VM_4K_ONLY           (1u << 3)
#define AAX_VM_FLAGS_VALID       0xBu
#define AAX_VM_VA_MIN            0x100000ull
/* VM_UNBIND: remove the mapping a VM_BIND made at va (same va and size); the TLB is
 * invalidated before this returns. */
struct aax_drm_vm_unbind {
    __u32 vm_id;
    __u32 reserved;
    __u64 va;
    __u64 size;
};

/* UQ_CREATE (ABI 0.2; docs/virtualization.md "User queues"): a user queue of this file: a
 * submission ring with its own CQ, pinned to one of this file's VMs, that the process drives
 * without system calls. mmap(fd, ring_mmap_offset, ring_size) maps its aax_uq_header (offset 0)
 * and its 2^entries_log2 64-byte descriptor slots (from offset AAX_UQ_HEADER_SIZE);
 * mmap(cq_mmap_offset, cq_size) its CQ (cq_entries 32-byte records); mmap(db_mmap_offset,
 * 4096) the doorbell page (BAR0 AAX_UQ_WINDOW_BASE, write-only use: AAX_UQ_DOORBELL(queue_id)
 * - AAX_UQ_WINDOW_BASE). Submit: write the descriptor at slot wptr (asid = vm_id, flags without
 * AAX_JOB_WRITE_FENCE), then header.wptr = (wptr + 1) % entries and header.cq_head, then any
 * value to the doorbell. Records carry PHASE as on a kernel CQ (first pass 1). ENODEV: no
 * user-queue page, no MMU or no control core; ENOENT: not this file's VM; ENOSPC: no free ring. */
struct aax_drm_uq_create {
    __u32 vm_id;             /* the VM its jobs run in (descriptor asid must equal it) */
    __u32 entries_log2;      /* ring size; 0: the driver's (host.driver.ring_log2 / aax ring_log2) */
    __u32 queue_id;          /* out: the ring index */
    __u32 entries;           /* out: ring slots (the CQ has at least as many records) */
    __u32 cq_entries;        /* out */
    __u32 flags;             /* 0 */
    __u64 ring_mmap_offset;  /* out */
    __u64 ring_size;         /* out: AAX_UQ_HEADER_SIZE + entries * 64, rounded up to pages */
    __u64 cq_mmap_offset;    /* out */
    __u64 cq_size;           /* out */
    __u64 db_mmap_offset;    /* out */
};
/* UQ_DESTROY: revoke a user queue: the ring is disabled (a running job is dropped at its next
 * packet boundary, queued jobs get no record) and its memory unmapped from the device's view;
 * closing the file does it for every queue of the file, as does a device reset. */
struct aax_drm_uq_destroy {
    __u32 queue_id;
    __u32 reserved;
};

#define AAX_DRM_GET_INFO         0x00
#define AAX_DRM_BO_CREATE        0x01
#define AAX_DRM_SUBMIT           0x02
#define AAX_DRM_WAIT             0x03
#define AAX_DRM_LAST_ERROR       0x04
#define AAX_DRM_VM_CREATE        0x05
#define AAX_DRM_VM_DESTROY       0x06
#define AAX_DRM_VM_BIND          0x07
#define AAX_DRM_VM_UNBIND        0x08
#define AAX_DRM_UQ_CREATE        0x09
#define AAX_DRM_UQ_DESTROY       0x0A

#define AAX_IOCTL(nr, type)      _IOWR('d', AAX_DRM_COMMAND_BASE + (nr), type)
#define DRM_IOCTL_AAX_GET_INFO   AAX_IOCTL(AAX_DRM_GET_INFO, struct aax_drm_info)
#define DRM_IOCTL_AAX_BO_CREATE  AAX_IOCTL(AAX_DRM_BO_CREATE, struct aax_drm_bo_create)
#define DRM_IOCTL_AAX_SUBMIT     AAX_IOCTL(AAX_DRM_SUBMIT, struct aax_drm_submit)
#define DRM_IOCTL_AAX_WAIT       AAX_IOCTL(AAX_DRM_WAIT, struct aax_drm_wait)
#define DRM_IOCTL_AAX_LAST_ERROR AAX_IOCTL(AAX_DRM_LAST_ERROR, struct aax_drm_error)
#define DRM_IOCTL_AAX_VM_CREATE  AAX_IOCTL(AAX_DRM_VM_CREATE, struct aax_drm_vm_create)
#define DRM_IOCTL_AAX_VM_DESTROY AAX_IOCTL(AAX_DRM_VM_DESTROY, struct aax_drm_vm_destroy)
#define DRM_IOCTL_AAX_VM_BIND    AAX_IOCTL(AAX_DRM_VM_BIND, struct aax_drm_vm_bind)
#define DRM_IOCTL_AAX_VM_UNBIND  AAX_IOCTL(AAX_DRM_VM_UNBIND, struct aax_drm_vm_unbind)
#define DRM_IOCTL_AAX_UQ_CREATE  AAX_IOCTL(AAX_DRM_UQ_CREATE, struct aax_drm_uq_create)
#define DRM_IOCTL_AAX_UQ_DESTROY AAX_IOCTL(AAX_DRM_UQ_DESTROY, struct aax_drm_uq_destroy)

/* The firmware file the driver requests (request_firmware: /lib/firmware/aax/aax-fw.elf). */
#define AAX_FIRMWARE_NAME        "aax/aax-fw.elf"

#endif /* AAX_DRM_H */
