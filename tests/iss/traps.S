/* Precise exceptions: ecall, ebreak, c.ebreak, illegal instructions (16- and 32-bit,
   unknown CSR, write to a read-only CSR), misaligned loads/stores/AMOs/LR, load, store,
   AMO and fetch access faults (unmapped address and a bad MMIO access size), with
   mcause, mepc and mtval checked, and mstatus MIE/MPIE across trap and mret.
   The handler records mcause/mepc/mtval/mstatus in s2..s5 and resumes at s6. */
#include "test.h"

/* Expect instruction(s) at label `at` to trap; resume after them. */
#define UNMAPPED 0x10000000

    .data
    .align 4
buf:    .word 0, 0
    .text
    .globl tests
tests:
    la t0, handler
    csrw mtvec, t0

    li s2, -1
    la s6, 1f
2:  ecall
    j fail
1:  CHECK 1, s2, 11
    la t0, 2b
    CHECKR 2, s3, t0
    CHECK 3, s4, 0

    la s6, 1f
2:  ebreak
    j fail
1:  CHECK 4, s2, 3
    la t0, 2b
    CHECKR 5, s3, t0

    .option push
    .option rvc
    la s6, 1f
2:  c.ebreak
    j fail
1:  CHECK 6, s2, 3
    la t0, 2b
    CHECKR 7, s3, t0
    .option pop

    /* Illegal: the all-zero halfword, a 32-bit reserved opcode, mret-like unknown SYSTEM. */
    la s6, 1f
2:  .half 0
    j fail
1:  CHECK 10, s2, 2
    la t0, 2b
    CHECKR 11, s3, t0
    CHECK 12, s4, 0
    la s6, 1f
2:  .word 0xffffffff
    j fail
1:  CHECK 13, s2, 2
    CHECK 14, s4, 0xffffffff
    la s6, 1f
    .word 0x10200073                  /* sret: no S mode */
    j fail
1:  CHECK 15, s2, 2
    CHECK 16, s4, 0x10200073

    /* CSRs: unknown, and a write to a read-only one (mtval = the encoding). */
    la s6, 1f
    csrr a0, 0x7c0
    j fail
1:  CHECK 20, s2, 2
    CHECK 21, s4, 0x7c002573
    la s6, 1f
    csrw mhartid, a0
    j fail
1:  CHECK 22, s2, 2
    CHECK 23, s4, 0xf1451073
    la s6, 1f
    csrw cycle, a0                    /* user counters are read-only */
    j fail
1:  CHECK 24, s2, 2

    /* Misaligned data accesses trap with the address in mtval. */
    la a0, buf
    addi a1, a0, 1
    la s6, 1f
    lw a2, 0(a1)
    j fail
1:  CHECK 30, s2, 4
    CHECKR 31, s4, a1
    la s6, 1f
    lh a2, 0(a1)
    j fail
1:  CHECK 32, s2, 4
    la s6, 1f
    sh a2, 0(a1)
    j fail
1:  CHECK 33, s2, 6
    CHECKR 34, s4, a1
    addi a1, a0, 2
    la s6, 1f
    sw a2, 0(a1)
    j fail
1:  CHECK 35, s2, 6
    la s6, 1f
    amoadd.w a2, a2, (a1)
    j fail
1:  CHECK 36, s2, 6
    la s6, 1f
    lr.w a2, (a1)
    j fail
1:  CHECK 37, s2, 4
    la s6, 1f
    sc.w a2, a2, (a1)
    j fail
1:  CHECK 38, s2, 6
    lh a2, 2(a0)                      /* aligned halfword: fine */

    /* Access faults: nothing mapped, or a target error (CLINT takes 32-bit only). */
    li a1, UNMAPPED
    la s6, 1f
    lw a2, 0(a1)
    j fail
1:  CHECK 40, s2, 5
    CHECKR 41, s4, a1
    la s6, 1f
    sw a2, 4(a1)
    j fail
1:  CHECK 42, s2, 7
    addi a3, a1, 4
    CHECKR 43, s4, a3
    la s6, 1f
    amoswap.w a2, a2, (a1)
    j fail
1:  CHECK 44, s2, 7
    la s6, 1f
    lr.w a2, (a1)
    j fail
1:  CHECK 45, s2, 5
    li a1, CLINT_MTIME
    la s6, 1f
    lb a2, 0(a1)
    j fail
1:  CHECK 46, s2, 5

    /* Fetch fault: mepc and mtval are the target. */
    li a1, UNMAPPED
    la s6, 1f
    jalr ra, 0(a1)
    j fail
1:  CHECK 50, s2, 1
    CHECKR 51, s3, a1
    CHECKR 52, s4, a1

    /* mstatus: the trap moves MIE to MPIE and clears MIE; mret moves it back, MPIE = 1. */
    csrw mie, zero                    /* no interrupt sources enabled */
    csrs mstatus, 0x8
    la s6, 1f
    ecall
1:  andi t0, s5, 0x88
    CHECK 60, t0, 0x80
    csrr t0, mstatus
    andi t0, t0, 0x88
    CHECK 61, t0, 0x88
    csrc mstatus, 0x8
    la s6, 1f
    ecall
1:  andi t0, s5, 0x88
    CHECK 62, t0, 0x00
    csrr t0, mstatus
    andi t0, t0, 0x88
    CHECK 63, t0, 0x80
    j pass

    .align 2
handler:
    csrr s2, mcause
    csrr s3, mepc
    csrr s4, mtval
    csrr s5, mstatus
    csrw mepc, s6
    mret
