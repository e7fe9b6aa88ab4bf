/* Never ends: --max-instr must stop it. */
#include "test.h"
    .text
    .globl tests
tests:
1:  addi a0, a0, 1
    j 1b
