/* RV32A: lr/sc success and failure (no reservation, reservation used up, other
   address, reservation cleared by a trap) and every amo*.w (old value returned, memory
   updated, signed vs unsigned min/max). */
#include "test.h"

    .data
    .align 4
cell:   .word 0
cell2:  .word 0
    .text
    .globl tests
tests:
    la a0, cell
    li a1, 41
    sw a1, 0(a0)

    /* lr/sc pair succeeds: sc writes 0 and stores. */
    lr.w a2, (a0)
    CHECK 1, a2, 41
    addi a2, a2, 1
    sc.w a3, a2, (a0)
    CHECK 2, a3, 0
    lw a4, 0(a0)
    CHECK 3, a4, 42

    /* A second sc without a new lr fails and does not store. */
    li a2, 99
    sc.w a3, a2, (a0)
    CHECK 4, a3, 1
    lw a4, 0(a0)
    CHECK 5, a4, 42

    /* sc to another address than the reservation fails. */
    la a5, cell2
    lr.w a2, (a0)
    sc.w a3, a2, (a5)
    CHECK 6, a3, 1
    lw a4, 0(a5)
    CHECK 7, a4, 0

    /* A trap between lr and sc drops the reservation. */
    la t0, skip_ecall
    csrw mtvec, t0
    lr.w a2, (a0)
    ecall
    sc.w a3, a2, (a0)
    CHECK 8, a3, 1
    la t0, fail
    csrw mtvec, t0

    /* amoswap / amoadd / amoxor / amoand / amoor return the old value. */
    li a1, 0x0000ff00
    sw a1, 0(a0)
    li a2, 0x00ff00ff
    amoswap.w a3, a2, (a0)
    CHECK 10, a3, 0x0000ff00
    lw a4, 0(a0)
    CHECK 11, a4, 0x00ff00ff
    li a2, 1
    amoadd.w a3, a2, (a0)
    CHECK 12, a3, 0x00ff00ff
    lw a4, 0(a0)
    CHECK 13, a4, 0x00ff0100
    li a2, 0x0f0f0f0f
    amoxor.w a3, a2, (a0)
    lw a4, 0(a0)
    CHECK 14, a4, 0x0ff00e0f
    li a2, 0xffff00ff
    amoand.w a3, a2, (a0)
    CHECK 15, a3, 0x0ff00e0f
    lw a4, 0(a0)
    CHECK 16, a4, 0x0ff0000f
    li a2, 0x80000000
    amoor.w a3, a2, (a0)
    lw a4, 0(a0)
    CHECK 17, a4, 0x8ff0000f

    /* min/max: signed and unsigned differ for 0x8ff0000f (negative, large unsigned). */
    li a2, 5
    amomin.w a3, a2, (a0)
    lw a4, 0(a0)
    CHECK 20, a4, 0x8ff0000f
    amomax.w a3, a2, (a0)
    lw a4, 0(a0)
    CHECK 21, a4, 5
    li a2, -1
    amominu.w a3, a2, (a0)
    lw a4, 0(a0)
    CHECK 22, a4, 5
    amomaxu.w a3, a2, (a0)
    CHECK 23, a3, 5
    lw a4, 0(a0)
    CHECK 24, a4, -1
    li a2, -7
    amomin.w a3, a2, (a0)
    lw a4, 0(a0)
    CHECK 25, a4, -7

    /* amo with rd = x0 still updates memory. */
    li a2, 3
    amoswap.w zero, a2, (a0)
    lw a4, 0(a0)
    CHECK 26, a4, 3
    j pass

    .align 2
skip_ecall:
    csrr t0, mepc
    addi t0, t0, 4
    csrw mepc, t0
    mret
