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
    __u64 host_bo_max;   /* largest host BO (physically contiguous host memory) */
};
#define AAX_INFO_CONTROL_CORE    (1u << 0)
#define AAX_INFO_MMU             (1u << 1)

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
    __u32 seq;           /* out: the job's fence */
    __u32 pad;
};

/* WAIT: wait for a job. 0 when it completed OK; else -1 and errno ETIMEDOUT (the wait
 * timed out: the job may still complete), or the errno of the device status (EINVAL,
 * EFAULT, EIO, ...) with status and err_* filled in. */
struct aax_drm_wait {
    __u32 seq;
    __u32 status;        /* out: enum aax_status */
    __s64 timeout_ns;    /* relative */
    __u64 ts_start_ns;   /* out: device timestamps of the job */
    __u64 ts_end_ns;
    __u32 err_offset;    /* out: failing packet offset */
    __u32 err_opcode;    /* out: its opcode (AAX_ERR_OPCODE_JOB: the job itself) */
};

/* LAST_ERROR: the last device error record the driver read (ENOENT: none). */
struct aax_drm_error {
    __u32 code;          /* enum aax_status */
    __u32 ring;
    __u32 job_id;
    __u32 offset;
    __u32 opcode;
    __u32 count;         /* errors recorded since probe */
    __u64 addr;
};

#define AAX_DRM_GET_INFO         0x00
#define AAX_DRM_BO_CREATE        0x01
#define AAX_DRM_SUBMIT           0x02
#define AAX_DRM_WAIT             0x03
#define AAX_DRM_LAST_ERROR       0x04

#define AAX_IOCTL(nr, type)      _IOWR('d', AAX_DRM_COMMAND_BASE + (nr), type)
#define DRM_IOCTL_AAX_GET_INFO   AAX_IOCTL(AAX_DRM_GET_INFO, struct aax_drm_info)
#define DRM_IOCTL_AAX_BO_CREATE  AAX_IOCTL(AAX_DRM_BO_CREATE, struct aax_drm_bo_create)
#define DRM_IOCTL_AAX_SUBMIT     AAX_IOCTL(AAX_DRM_SUBMIT, struct aax_drm_submit)
#define DRM_IOCTL_AAX_WAIT       AAX_IOCTL(AAX_DRM_WAIT, struct aax_drm_wait)
#define DRM_IOCTL_AAX_LAST_ERROR AAX_IOCTL(AAX_DRM_LAST_ERROR, struct aax_drm_error)

/* The firmware file the driver requests (request_firmware: /lib/firmware/aax/aax-fw.elf). */
#define AAX_FIRMWARE_NAME        "aax/aax-fw.elf"

#endif /* AAX_DRM_H */
