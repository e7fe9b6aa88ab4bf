/* Start-up of the MIPS benchmark as a Linux user program (for QEMU's qemu-riscv32, the
   comparison run of the same main() as the ISS runs): stack from the kernel, call main,
   exit(2 * code) through the exit syscall (93) so a pass exits 0. */
    .text
    .globl _start
_start:
    call main
    slli a0, a0, 1
    li a7, 93
    ecall
2:  j 2b
