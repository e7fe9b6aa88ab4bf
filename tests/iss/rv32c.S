/* RV32C: every compressed form, checked against what its base instruction would do,
   and 32-bit instructions at 2-byte aligned addresses. Explicit c.* mnemonics so the
   assembler cannot pick the 32-bit forms. */
#include "test.h"

    .data
    .align 4
cdata:  .word 0x11111111, 0x22222222, 0x33333333, 0x44444444
    .text
    .option rvc
    .globl tests
tests:
    c.li a0, -32
    CHECK 1, a0, -32
    c.li a0, 31
    c.addi a0, -1
    CHECK 2, a0, 30
    c.lui a1, 0xfffff                 /* nzimm sign-extends from bit 17 */
    CHECK 3, a1, 0xfffff000
    c.lui a1, 1
    CHECK 4, a1, 0x1000
    c.mv a2, a0
    CHECK 5, a2, 30
    c.add a2, a0
    CHECK 6, a2, 60
    c.sub a2, a0                      /* x8..x15 only: a0..a5 are x10..x15 */
    CHECK 7, a2, 30
    li a3, 0x0ff0
    li a4, 0x00ff
    c.mv a5, a3
    c.and a5, a4
    CHECK 8, a5, 0x00f0
    c.mv a5, a3
    c.or a5, a4
    CHECK 9, a5, 0x0fff
    c.mv a5, a3
    c.xor a5, a4
    CHECK 10, a5, 0x0f0f
    c.andi a5, -16
    CHECK 11, a5, 0x0f00
    li a5, -256
    c.srai a5, 4
    CHECK 12, a5, -16
    c.srli a5, 28
    CHECK 13, a5, 0xf
    c.slli a5, 31
    CHECK 14, a5, 0x80000000

    /* Stack-relative: c.addi16sp, c.addi4spn, c.swsp, c.lwsp. */
    mv s0, sp
    c.addi16sp sp, -64
    sub t0, s0, sp
    CHECK 20, t0, 64
    c.addi4spn a0, sp, 8
    addi t0, sp, 8
    CHECKR 21, a0, t0
    li t1, 0x5a5a5a5a
    c.swsp t1, 60(sp)
    c.lwsp t2, 60(sp)
    CHECKR 22, t1, t2
    lw t2, 60(sp)
    CHECKR 23, t1, t2
    c.addi16sp sp, 64
    CHECKR 24, sp, s0

    /* c.lw / c.sw with x8..x15. */
    la a0, cdata
    c.lw a1, 4(a0)
    CHECK 30, a1, 0x22222222
    c.sw a1, 12(a0)
    lw a2, 12(a0)
    CHECK 31, a2, 0x22222222

    /* Branches and jumps. */
    li a0, 0
    li gp, 40
    c.bnez a0, fail_far
    c.beqz a0, 1f
    j fail
1:  li a0, 1
    li gp, 41
    c.beqz a0, fail_far
    c.bnez a0, 1f
    j fail
1:  c.j 2f
    j fail
2:  la a1, 3f
    c.jalr a1                          /* ra = pc + 2 */
4:  j after_jalr
3:  la t0, 4b
    CHECKR 42, ra, t0
    c.jr ra
after_jalr:
    c.jal sub_c                        /* RV32 only: ra = pc + 2 */
5:  la t0, 5b
    CHECKR 43, a5, t0

    /* A 32-bit instruction at a 2-byte aligned address, and a mix. */
    .align 2
    c.nop
    addi a0, zero, 123                 /* at an address = 2 mod 4 */
    CHECK 50, a0, 123
    j pass

sub_c:
    c.mv a5, ra
    c.jr ra

fail_far:
    j fail
