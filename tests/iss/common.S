/* Start-up, pass/fail and tohost shared by every ISS test. */
#include "test.h"

    .section .text.init
    .globl _start
_start:
    la sp, _stack_top
    la t0, unexpected_trap
    csrw mtvec, t0
    li gp, 0
    j tests

/* Pass: tohost = 1. */
    .globl pass
pass:
    li t6, 1
    la t5, tohost
    sw t6, 0(t5)
1:  j 1b

/* Fail with the check number in gp: tohost = (gp << 1) | 1. */
    .globl fail
fail:
    slli t6, gp, 1
    ori t6, t6, 1
    la t5, tohost
    sw t6, 0(t5)
1:  j 1b

/* A trap nobody expected: fail with 1000 + the check number that was running. */
    .align 2
unexpected_trap:
    addi gp, gp, 1000
    j fail

    .section .tohost, "aw", @progbits
    .align 6
    .globl tohost
tohost: .dword 0
    .align 6
    .globl fromhost
fromhost: .dword 0
