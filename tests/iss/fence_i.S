/* Zifencei and the decode cache: code patched by stores runs in its new form after
   fence.i -- in the page that is executing, and in a routine copied to a data page. */
#include "test.h"

#define ADDI_A0_ZERO(n) (((n) << 20) | (10 << 7) | 0x13)   /* addi a0, zero, n */

    .data
    .align 12
ram_code: .word 0, 0
    .text
    .globl tests
tests:
    call patched
    CHECK 1, a0, 1
    la t0, patched
    li t1, ADDI_A0_ZERO(2)
    sw t1, 0(t0)
    fence.i
    call patched
    CHECK 2, a0, 2

    /* Copy "addi a0, zero, 3; ret" to RAM and run it. */
    la t0, ram_code
    li t1, ADDI_A0_ZERO(3)
    sw t1, 0(t0)
    li t1, 0x00008067                 /* jalr zero, 0(ra) */
    sw t1, 4(t0)
    fence.i
    jalr ra, 0(t0)
    CHECK 3, a0, 3
    li t1, ADDI_A0_ZERO(4)
    sw t1, 0(t0)
    fence.i
    jalr ra, 0(t0)
    CHECK 4, a0, 4
    j pass

    .balign 4
    .option push
    .option norvc
patched:
    addi a0, zero, 1
    ret
    .option pop
