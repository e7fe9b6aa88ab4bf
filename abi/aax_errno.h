/* SPDX-License-Identifier: MIT */
/*
 * The errno a job's device status (enum aax_status) becomes at the user API: one mapping for
 * every host-side driver -- the Linux module (WAIT, fence errors), libaax (user queues) and
 * the simulator's driver model -- so a status means the same errno on all of them
 * (docs/abi.md). Negative errno values; 0 for AAX_OK.
 */
#ifndef AAX_ERRNO_H
#define AAX_ERRNO_H

#if defined(__KERNEL__)
#include <linux/errno.h>
#else
#include <errno.h>
#endif

#include "aax_queue.h"

static inline int aax_status_to_errno(unsigned status)
{
    switch (status) {
    case AAX_OK: return 0;
    case AAX_ERR_TIMEOUT:
    case AAX_ERR_SEM_TIMEOUT: return -ETIMEDOUT;
    case AAX_ERR_ABORTED:
    case AAX_ERR_BUS:
    case AAX_ERR_ECC_UE: return -EIO;
    case AAX_ERR_BAD_ADDRESS:
    case AAX_ERR_MMU_FAULT: return -EFAULT;
    case AAX_ERR_PRIV:
    case AAX_ERR_BAD_ASID: return -EPERM;
    case AAX_ERR_LINK_DOWN: return -ENOLINK;
    default: return -EINVAL;
    }
}

#endif /* AAX_ERRNO_H */
