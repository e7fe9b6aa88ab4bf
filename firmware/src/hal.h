/* Control-core hardware access: the chip's registers and device memory as the core
 * sees them (abi/aax_boot.h, "the control core's 32-bit address map"). */
#ifndef FW_HAL_H
#define FW_HAL_H

#include <stdint.h>

#include "abi/aax_boot.h"
#include "abi/aax_regs.h"

static inline uint32_t reg_read(uint32_t off) { return *(volatile uint32_t *)(uintptr_t)(AAX_CORE_REGS + off); }
static inline void reg_write(uint32_t off, uint32_t v) { *(volatile uint32_t *)(uintptr_t)(AAX_CORE_REGS + off) = v; }
static inline uint64_t reg_read64(uint32_t lo) { return reg_read(lo) | ((uint64_t)reg_read(lo + 4) << 32); }

#define CLINT_MTIMECMP (AAX_CORE_CLINT + AAX_CLINT_MTIMECMP)
#define CLINT_MTIME    (AAX_CORE_CLINT + AAX_CLINT_MTIME)

static inline uint64_t mtime(void)
{
    volatile uint32_t *t = (volatile uint32_t *)(uintptr_t)CLINT_MTIME;
    uint32_t hi, lo;
    do { /* the high word must not change while the low word is read */
        hi = t[1];
        lo = t[0];
    } while (t[1] != hi);
    return ((uint64_t)hi << 32) | lo;
}

static inline void set_mtimecmp(uint64_t v)
{
    volatile uint32_t *c = (volatile uint32_t *)(uintptr_t)CLINT_MTIMECMP;
    c[1] = 0xFFFFFFFFu; /* no spurious interrupt while the pair is half written */
    c[0] = (uint32_t)v;
    c[1] = (uint32_t)(v >> 32);
}

#define csr_read(name) ({ uint32_t v_; __asm__ volatile("csrr %0, " #name : "=r"(v_)); v_; })
#define csr_write(name, v) __asm__ volatile("csrw " #name ", %0" ::"r"(v))
#define csr_set(name, v) __asm__ volatile("csrs " #name ", %0" ::"r"(v))

#endif
