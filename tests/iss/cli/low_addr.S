/* Linked at 0x1000, outside the default RAM at 0x80000000. */
    .text
    .globl _start
_start:
    li t0, 1
    la t1, tohost
    sw t0, 0(t1)
1:  j 1b
    .data
    .align 6
    .globl tohost
tohost: .dword 0
