/* RV32I control transfer: every branch taken and not taken (signed vs unsigned),
   backward branches, jal/jalr link values, jalr clearing bit 0, jalr with rd = rs1. */
#include "test.h"

    .text
    .globl tests
tests:
    li a0, -1
    li a1, 1
    li gp, 1
    beq a0, a1, fail
    beq a0, a0, 1f
    j fail
1:  li gp, 2
    bne a0, a0, fail
    bne a0, a1, 1f
    j fail
1:  li gp, 3
    blt a1, a0, fail                  /* 1 < -1 is false when signed */
    blt a0, a1, 1f
    j fail
1:  li gp, 4
    bge a0, a1, fail
    bge a1, a0, 1f
    j fail
1:  li gp, 5
    bge a1, a1, 1f                    /* equal counts as >= */
    j fail
1:  li gp, 6
    bltu a0, a1, fail                 /* 0xffffffff < 1 is false unsigned */
    bltu a1, a0, 1f
    j fail
1:  li gp, 7
    bgeu a1, a0, fail
    bgeu a0, a1, 1f
    j fail
1:
    /* A backward loop: sum 1..10. */
    li a2, 0
    li a3, 10
2:  add a2, a2, a3
    addi a3, a3, -1
    bnez a3, 2b
    CHECK 8, a2, 55

    /* jal links the address of the next instruction. */
    jal a4, 3f
4:  j fail
3:  la a5, 4b
    CHECKR 9, a4, a5

    /* jalr: target = (rs1 + imm) & ~1, link = pc + 4. */
    la a0, 5f
    addi a0, a0, -3                   /* odd: bit 0 is dropped */
    jalr a1, 4(a0)
6:  j fail
    .align 2
5:  la a2, 6b
    CHECKR 10, a1, a2

    /* jalr with rd == rs1 uses the old rs1 value. */
    la a0, 7f
    jalr a0, 0(a0)
8:  j fail
7:  la a2, 8b
    CHECKR 11, a0, a2

    /* call / ret through ra. */
    li a0, 0
    call incr
    call incr
    CHECK 12, a0, 2
    j pass

incr:
    addi a0, a0, 1
    ret
