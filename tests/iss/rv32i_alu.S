/* RV32I register and immediate arithmetic, logic, shifts, compares, lui/auipc, x0. */
#include "test.h"

    .text
    .globl tests
tests:
    li a0, 0x7fffffff
    li a1, 1
    add a2, a0, a1
    CHECK 1, a2, 0x80000000          /* wraps, no overflow trap */
    sub a2, a1, a0
    CHECK 2, a2, 0x80000002
    sub a2, zero, a1
    CHECK 3, a2, -1
    addi a2, a1, -2048
    CHECK 4, a2, -2047
    addi a2, a1, 2047
    CHECK 5, a2, 2048

    li a0, 0xf0f0f0f0
    li a1, 0x0ff00ff0
    and a2, a0, a1
    CHECK 10, a2, 0x00f000f0
    or a2, a0, a1
    CHECK 11, a2, 0xfff0fff0
    xor a2, a0, a1
    CHECK 12, a2, 0xff00ff00
    andi a2, a0, -16                  /* sign-extended immediate */
    CHECK 13, a2, 0xf0f0f0f0
    ori a2, a1, 0x00f
    CHECK 14, a2, 0x0ff00fff
    xori a2, a0, -1
    CHECK 15, a2, 0x0f0f0f0f

    li a0, 0x80000001
    slli a2, a0, 1
    CHECK 20, a2, 2
    srli a2, a0, 31
    CHECK 21, a2, 1
    srai a2, a0, 31
    CHECK 22, a2, -1
    srai a2, a0, 0
    CHECK 23, a2, 0x80000001
    li a1, 33                         /* register shifts use the low 5 bits */
    sll a2, a0, a1
    CHECK 24, a2, 2
    srl a2, a0, a1
    CHECK 25, a2, 0x40000000
    sra a2, a0, a1
    CHECK 26, a2, 0xc0000000

    li a0, -1
    li a1, 1
    slt a2, a0, a1
    CHECK 30, a2, 1
    sltu a2, a0, a1
    CHECK 31, a2, 0
    slti a2, a0, 0
    CHECK 32, a2, 1
    sltiu a2, a1, -1                  /* immediate sign-extends, then compares unsigned */
    CHECK 33, a2, 1
    sltiu a2, zero, 1                 /* seqz */
    CHECK 34, a2, 1
    slt a2, a1, a1
    CHECK 35, a2, 0

    lui a2, 0xfffff
    CHECK 40, a2, 0xfffff000
1:  auipc a2, 0
    la a3, 1b
    CHECKR 41, a2, a3
2:  auipc a2, 1
    la a3, 2b
    sub a2, a2, a3
    CHECK 42, a2, 0x1000

    li a0, 5
    add zero, a0, a0                  /* writes to x0 are discarded */
    addi x0, x0, 7
    lui x0, 0x12345
    CHECK 50, zero, 0
    mv a2, zero
    CHECK 51, a2, 0
    j pass
