/* A trap vector that itself faults (nothing mapped there): every step is a fetch
   fault that retires nothing. --max-instr counts traps, so a small limit stops it; by
   default the iss mode stops it as a trap storm after 10000 such traps. */
#include "test.h"
    .text
    .globl tests
tests:
    li t0, 0x10000000
    csrw mtvec, t0
    ecall
