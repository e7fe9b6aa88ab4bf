/* Machine interrupts from the CLINT: the timer (MTIP) through a vectored mtvec and a
   direct one, the software interrupt (MSIP) taken right after the store that raises
   it, masking by mstatus.MIE (pending shows in mip, no trap), priority MSI over MTI,
   and mcause/mepc of each. s1 counts handled interrupts; s2/s3 hold the last
   mcause/mepc; s4/s5 the causes of the first two in order. */
#include "test.h"

/* mtimecmp = mtime + \ticks (mtime stays below 2^32 in these short runs). */
.macro TIMER_IN ticks
    li t0, CLINT_MTIMECMP
    li t1, -1
    sw t1, 0(t0)
    sw zero, 4(t0)
    li t1, CLINT_MTIME
    lw t1, 0(t1)
    addi t1, t1, \ticks
    sw t1, 0(t0)
.endm
.macro TIMER_OFF
    li t0, CLINT_MTIMECMP
    li t1, -1
    sw t1, 4(t0)
    sw t1, 0(t0)
.endm

    .text
    .globl tests
tests:
    li s1, 0
    li s4, 0
    li s5, 0
    /* 1. Timer, vectored mtvec: entry 7 handles MTI. */
    la t0, vectors
    ori t0, t0, 1
    csrw mtvec, t0
    li t0, 0x80
    csrw mie, t0
    TIMER_IN 20
    csrsi mstatus, 0x8
    li a0, 100000                     /* bounded wait */
1:  bnez s1, 2f
    addi a0, a0, -1
    bnez a0, 1b
    li gp, 1
    j fail
2:  CHECK 2, s2, 0x80000007
    csrr t0, mstatus
    andi t0, t0, 0x8
    CHECK 3, t0, 0x8                  /* mret restored MIE */
    csrr t0, mip
    CHECK 4, t0, 0                    /* handler disarmed the timer: MTIP low */

    /* 2. Masked: MTIP becomes pending in mip but nothing is taken while MIE = 0. */
    csrci mstatus, 0x8
    TIMER_IN 5
    li a0, 100000
1:  csrr t0, mip
    andi t0, t0, 0x80
    bnez t0, 2f
    addi a0, a0, -1
    bnez a0, 1b
    li gp, 10
    j fail
2:  CHECK 11, s1, 1
    TIMER_OFF
    csrr t0, mip
    CHECK 12, t0, 0

    /* 3. Software interrupt, direct mtvec: taken before the instruction after the store. */
    la t0, direct
    csrw mtvec, t0
    li t0, 0x8
    csrw mie, t0
    csrsi mstatus, 0x8
    li t0, CLINT_MSIP
    li t1, 1
    sw t1, 0(t0)
3:  nop
    CHECK 20, s1, 2
    CHECK 21, s2, 0x80000003
    la t0, 3b
    CHECKR 22, s3, t0

    /* 4. Timer, direct mtvec. */
    li t0, 0x80
    csrw mie, t0
    TIMER_IN 10
    li a0, 100000
1:  li t0, 3
    beq s1, t0, 2f
    addi a0, a0, -1
    bnez a0, 1b
    li gp, 30
    j fail
2:  CHECK 31, s2, 0x80000007

    /* 5. Priority: MSIP and MTIP both pending, then enabled at once: MSI first. */
    csrci mstatus, 0x8
    li s1, 0
    li t0, 0x88
    csrw mie, t0
    TIMER_IN 0
    li t0, CLINT_MSIP
    li t1, 1
    sw t1, 0(t0)
    csrr t0, mip
    CHECK 40, t0, 0x88
    csrsi mstatus, 0x8
    nop
    nop
    CHECK 41, s1, 2
    CHECK 42, s4, 0x80000003
    CHECK 43, s5, 0x80000007
    csrci mstatus, 0x8
    j pass

/* Vector table: exceptions at base, interrupt n at base + 4n. */
    .align 6
vectors:
    j unexpected                      /* 0: exceptions */
    j unexpected
    j unexpected
    j msi_vec                         /* 3: MSI */
    j unexpected
    j unexpected
    j unexpected
    j mti_vec                         /* 7: MTI */
    j unexpected
    j unexpected
    j unexpected
    j unexpected                      /* 11: MEI */
unexpected:
    addi gp, gp, 2000
    j fail

msi_vec:
    li t0, CLINT_MSIP
    sw zero, 0(t0)
    j record
mti_vec:
    TIMER_OFF
record:
    csrr s2, mcause
    csrr s3, mepc
    addi s1, s1, 1
    bnez s4, 1f
    mv s4, s2
    mret
1:  mv s5, s2
    mret

/* Direct mode: one entry, dispatch on mcause. */
    .align 2
direct:
    csrr t0, mcause
    li t1, 0x80000003
    beq t0, t1, msi_vec
    li t1, 0x80000007
    beq t0, t1, mti_vec
    j unexpected
