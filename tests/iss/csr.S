/* Zicsr: every csrr* form (read-only forms do not write), WARL fields, the
   identification CSRs and the counters (mcycle, minstret, their h halves, the user
   aliases, time from the CLINT). */
#include "test.h"

    .text
    .globl tests
tests:
    csrw mscratch, zero
    li a0, 0x12345678
    csrrw a1, mscratch, a0
    CHECK 1, a1, 0
    CHECK_CSR 2, mscratch, 0x12345678
    li a0, 0xff
    csrrs a1, mscratch, a0
    CHECK 3, a1, 0x12345678
    CHECK_CSR 4, mscratch, 0x123456ff
    li a0, 0xf0
    csrrc a1, mscratch, a0
    CHECK_CSR 5, mscratch, 0x1234560f
    csrrwi a1, mscratch, 0x1f
    CHECK 6, a1, 0x1234560f
    CHECK_CSR 7, mscratch, 0x1f
    csrrci a1, mscratch, 0x3
    CHECK_CSR 8, mscratch, 0x1c
    csrrsi a1, mscratch, 0x10
    CHECK_CSR 9, mscratch, 0x1c
    csrrsi a1, mscratch, 0x01
    CHECK_CSR 10, mscratch, 0x1d

    /* Identification; reading read-only CSRs with csrrs x0 / csrrsi 0 does not trap. */
    CHECK_CSR 20, misa, 0x40001105    /* MXL=32, A C I M */
    CHECK_CSR 21, mhartid, 0
    CHECK_CSR 22, mvendorid, 0
    CHECK_CSR 23, marchid, 0
    CHECK_CSR 24, mimpid, 0
    csrrsi a1, mhartid, 0
    CHECK 25, a1, 0
    csrw misa, zero                   /* WARL: ignored */
    CHECK_CSR 26, misa, 0x40001105

    /* mstatus: MPP reads M (3); MIE/MPIE writable. */
    csrw mstatus, zero
    CHECK_CSR 30, mstatus, 0x1800
    li a0, 0x80
    csrs mstatus, a0
    CHECK_CSR 31, mstatus, 0x1880
    csrc mstatus, a0
    /* mie keeps MSIE/MTIE/MEIE only; mip ignores writes. */
    li a0, -1
    csrw mie, a0
    CHECK_CSR 32, mie, 0x888
    csrw mie, zero
    csrw mip, a0
    CHECK_CSR 33, mip, 0
    /* mtvec: reserved modes become direct; vectored is kept. mepc bit 0 is zero. */
    li a0, 0x80000103
    csrw mtvec, a0
    CHECK_CSR 34, mtvec, 0x80000100
    li a0, 0x80000101
    csrw mtvec, a0
    CHECK_CSR 35, mtvec, 0x80000101
    la a0, fail
    csrw mtvec, a0
    li a0, 0x80000003
    csrw mepc, a0
    CHECK_CSR 36, mepc, 0x80000002
    csrw mcause, a0
    CHECK_CSR 37, mcause, 0x80000003
    csrw mtval, a0
    CHECK_CSR 38, mtval, 0x80000003
    CHECK_CSR 39, mhpmcounter3, 0

    /* minstret counts retired instructions: the read itself retires after reading. */
    csrr a0, minstret
    nop
    nop
    csrr a1, minstret
    sub a2, a1, a0
    CHECK 40, a2, 3
    csrr a0, instret                  /* user alias: same counter */
    csrr a1, minstret
    sub a2, a1, a0
    CHECK 41, a2, 1
    li a0, 1000
    csrw minstret, a0
    csrr a1, minstret                 /* the next instruction reads the written value */
    CHECK 42, a1, 1000
    csrw minstreth, 7
    CHECK_CSR 43, minstreth, 7
    CHECK_CSR 44, instreth, 7
    /* A counter write replaces the writing instruction's own increment, for either half. */
    li a0, -1
    csrw minstret, a0
    csrw minstreth, a0
    nop
    csrr a1, minstret
    CHECK 45, a1, 0
    CHECK_CSR 46, minstreth, 0
    csrw minstreth, zero
    csrw minstret, a0                 /* a0 = -1 */
    csrw minstret, 5                  /* the carry of csrw minstret,-1's successor is not taken */
    csrr a1, minstreth
    CHECK 47, a1, 0

    /* mcycle: 1 cycle per plain instruction; writable. */
    csrr a0, mcycle
    nop
    nop
    csrr a1, mcycle
    sub a2, a1, a0
    CHECK 50, a2, 3
    csrw mcycle, zero
    csrr a1, mcycle
    CHECK 51, a1, 0
    csrw mcycleh, 5
    CHECK_CSR 52, mcycleh, 5
    CHECK_CSR 53, cycleh, 5
    csrw mcycleh, zero
    li a0, -1
    csrw mcycle, a0
    csrw mcycleh, a0
    nop
    csrr a1, mcycle
    CHECK 54, a1, 0
    CHECK_CSR 55, mcycleh, 0

    /* Debug triggers: none, as the debug spec lets software discover without trapping. */
    csrw tselect, zero
    CHECK_CSR 56, tselect, 0
    CHECK_CSR 57, tdata1, 0           /* type 0: no trigger at this index */
    CHECK_CSR 58, tdata2, 0
    CHECK_CSR 59, tdata3, 0
    li a0, 5
    csrw tselect, a0                  /* WARL: no trigger 5 either */
    CHECK_CSR 63, tselect, 0
    csrw tdata1, a0                   /* writes ignored */
    CHECK_CSR 64, tdata1, 0
    CHECK_CSR 65, tinfo, 1            /* only type 0 */

    /* time: the CLINT's mtime, advancing with simulated time (10 MHz: 100 cycles/tick at 1 GHz). */
    rdtime a0
    li a2, 1000
1:  addi a2, a2, -1
    bnez a2, 1b
    rdtime a1
    sub a2, a1, a0
    li gp, 60
    beqz a2, fail
    li t0, 100                        /* ~2000 cycles = ~20 ticks */
    bgeu a2, t0, fail
    li t0, CLINT_MTIME
    rdtime a0
    lw a1, 0(t0)                      /* MMIO read agrees (within a few ticks) */
    sub a2, a1, a0
    li gp, 61
    li t0, 3
    bgeu a2, t0, fail
    rdtimeh a0
    CHECK 62, a0, 0
    j pass
