/* RV32M: the low and high product words for every signedness, division and remainder
   rounding toward zero, division by zero and signed overflow as the spec defines them
   (no traps). */
#include "test.h"

    .text
    .globl tests
tests:
    li a0, 7
    li a1, -3
    mul a2, a0, a1
    CHECK 1, a2, -21
    li a0, 0x12345678
    li a1, 0x9abcdef0
    mul a2, a0, a1
    CHECK 2, a2, 0x242d2080
    mulhu a2, a0, a1
    CHECK 3, a2, 0x0b00ea4e
    mulh a2, a0, a1                   /* 0x12345678 * -0x65432110 */
    CHECK 4, a2, 0xf8cc93d6
    mulhsu a2, a1, a0                 /* signed a1 * unsigned a0 */
    CHECK 5, a2, 0xf8cc93d6
    mulhsu a2, a0, a1                 /* signed a0 (positive) * unsigned a1 */
    CHECK 6, a2, 0x0b00ea4e
    li a0, -1
    mulh a2, a0, a0                   /* (-1)*(-1) = 1: high word 0 */
    CHECK 7, a2, 0
    mulhu a2, a0, a0                  /* 0xffffffff^2 high word */
    CHECK 8, a2, 0xfffffffe
    mulhsu a2, a0, a0                 /* -1 * 0xffffffff = -0xffffffff */
    CHECK 9, a2, 0xffffffff
    li a1, 0x80000000
    mulh a2, a1, a1                   /* 2^62 */
    CHECK 10, a2, 0x40000000

    li a0, -7
    li a1, 2
    div a2, a0, a1
    CHECK 20, a2, -3                  /* toward zero */
    rem a2, a0, a1
    CHECK 21, a2, -1                  /* sign of the dividend */
    divu a2, a0, a1
    CHECK 22, a2, 0x7ffffffc
    remu a2, a0, a1
    CHECK 23, a2, 1
    li a1, -2
    div a2, a0, a1
    CHECK 24, a2, 3
    rem a2, a0, a1
    CHECK 25, a2, -1

    /* Division by zero: quotient all ones, remainder the dividend. */
    div a2, a0, zero
    CHECK 30, a2, -1
    divu a2, a0, zero
    CHECK 31, a2, 0xffffffff
    rem a2, a0, zero
    CHECK 32, a2, -7
    remu a2, a0, zero
    CHECK 33, a2, -7

    /* Signed overflow: -2^31 / -1 = -2^31, remainder 0. */
    li a0, 0x80000000
    li a1, -1
    div a2, a0, a1
    CHECK 40, a2, 0x80000000
    rem a2, a0, a1
    CHECK 41, a2, 0
    divu a2, a0, a1
    CHECK 42, a2, 0
    remu a2, a0, a1
    CHECK 43, a2, 0x80000000
    j pass
