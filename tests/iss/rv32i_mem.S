/* RV32I loads and stores: widths, sign and zero extension, offsets of both signs,
   byte order (little endian), stores of partial words. */
#include "test.h"

    .data
    .align 4
words:  .word 0x80ff7f01, 0x12345678, 0, 0
    .text
    .globl tests
tests:
    la a0, words
    lb a1, 0(a0)
    CHECK 1, a1, 0x01
    lb a1, 1(a0)
    CHECK 2, a1, 0x7f
    lb a1, 2(a0)
    CHECK 3, a1, -1
    lb a1, 3(a0)
    CHECK 4, a1, 0xffffff80
    lbu a1, 3(a0)
    CHECK 5, a1, 0x80
    lh a1, 0(a0)
    CHECK 6, a1, 0x7f01
    lh a1, 2(a0)
    CHECK 7, a1, 0xffff80ff
    lhu a1, 2(a0)
    CHECK 8, a1, 0x80ff
    lw a1, 4(a0)
    CHECK 9, a1, 0x12345678
    addi a2, a0, 8
    lw a1, -4(a2)                     /* negative offset */
    CHECK 10, a1, 0x12345678

    /* Partial stores leave the other bytes alone. */
    li a3, 0xaabbccdd
    sw a3, 8(a0)
    li a4, 0x11
    sb a4, 9(a0)
    lw a1, 8(a0)
    CHECK 11, a1, 0xaabb11dd
    li a4, 0x2233
    sh a4, 10(a0)
    lw a1, 8(a0)
    CHECK 12, a1, 0x223311dd
    li a4, 0xfedcba98                 /* sb/sh store only the low bits */
    sh a4, 12(a0)
    sb a4, 14(a0)
    lw a1, 12(a0)
    CHECK 13, a1, 0x0098ba98
    lbu a1, 14(a0)
    CHECK 14, a1, 0x98

    /* The stack (another page). */
    addi sp, sp, -16
    li a4, -5
    sw a4, 12(sp)
    lw a1, 12(sp)
    CHECK 15, a1, -5
    addi sp, sp, 16

    /* Load into x0 still happens but leaves x0 zero. */
    lw zero, 4(a0)
    CHECK 16, zero, 0
    j pass
