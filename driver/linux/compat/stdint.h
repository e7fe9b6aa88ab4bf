/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel build only: abi/ headers that include <stdint.h> (aax_mmu.h) get the kernel's
 * fixed-width types (linux/types.h defines uint8_t .. uint64_t). */
#ifndef AAX_COMPAT_STDINT_H
#define AAX_COMPAT_STDINT_H
#include <linux/types.h>
#endif
