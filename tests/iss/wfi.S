/* wfi: the core sleeps until an enabled interrupt is pending, without executing
   instructions (minstret barely moves while mcycle and mtime advance), wakes up also
   with mstatus.MIE = 0 (then no trap: execution goes on after wfi), and with MIE = 1
   takes the interrupt with mepc pointing after the wfi. wfi with an enabled interrupt
   already pending does not sleep. */
#include "test.h"

.macro TIMER_IN ticks
    li t0, CLINT_MTIMECMP
    li t1, -1
    sw t1, 0(t0)
    sw zero, 4(t0)
    li t1, CLINT_MTIME
    lw t1, 0(t1)
    li t2, \ticks
    add t1, t1, t2
    sw t1, 0(t0)
.endm

    .text
    .globl tests
tests:
    la t0, handler
    csrw mtvec, t0
    li s1, 0
    li t0, 0x80
    csrw mie, t0

    /* 1. MIE = 0: wfi returns when MTIP rises, no trap. 1000 ticks at 10 MHz = 100 us. */
    TIMER_IN 1000
    csrr s2, minstret
    csrr s3, mcycle
    wfi
    csrr s4, minstret
    csrr s5, mcycle
    CHECK 1, s1, 0
    sub t0, s4, s2
    CHECK 2, t0, 3                    /* csrr mcycle, wfi, csrr minstret */
    sub t0, s5, s3                    /* ~100 us at 1 GHz slept */
    li gp, 3
    li t1, 90000
    bltu t0, t1, fail
    li t1, 110000
    bgeu t0, t1, fail
    csrr t0, mip
    CHECK 4, t0, 0x80
    li t0, CLINT_MTIMECMP             /* mtime >= mtimecmp now */
    lw t1, 0(t0)
    li t0, CLINT_MTIME
    lw t2, 0(t0)
    li gp, 5
    bltu t2, t1, fail

    /* 2. Pending and enabled already: wfi does not sleep. */
    csrr s3, mcycle
    wfi
    csrr s5, mcycle
    sub t0, s5, s3
    li gp, 6
    li t1, 100
    bgeu t0, t1, fail

    /* 3. MIE = 1: the interrupt is taken after wfi retires. */
    TIMER_IN 50
    csrsi mstatus, 0x8
    wfi
1:  CHECK 10, s1, 1
    la t0, 1b
    CHECKR 11, s6, t0
    CHECK 12, s7, 0x80000007
    j pass

    .align 2
handler:
    csrr s7, mcause
    csrr s6, mepc
    addi s1, s1, 1
    li t0, CLINT_MTIMECMP
    li t1, -1
    sw t1, 4(t0)
    sw t1, 0(t0)
    mret
