/* Helpers of the ISS tests (assembly, through the C preprocessor).
   common.S provides _start (stack, a default trap handler that fails), `pass`, `fail`
   and the tohost word. A test defines `tests` and jumps to `pass` when every check held.
   Register conventions: gp (x3) holds the number of the current check, t5/t6 (x30/x31)
   are scratch of the macros; tests leave them alone. */
#pragma once

#define CLINT_BASE 0x02000000
#define CLINT_MSIP (CLINT_BASE + 0x0)
#define CLINT_MTIMECMP (CLINT_BASE + 0x4000)
#define CLINT_MTIME (CLINT_BASE + 0xBFF8)

#define MCAUSE_INT 0x80000000

/* Check n: register `reg` must equal the constant `val`. */
.macro CHECK n, reg, val
    li gp, \n
    li t6, \val
    bne \reg, t6, fail
.endm

/* Check n: two registers must be equal. */
.macro CHECKR n, a, b
    li gp, \n
    bne \a, \b, fail
.endm

/* Check n: a CSR must equal the constant (clobbers t5). */
.macro CHECK_CSR n, csr, val
    csrr t5, \csr
    CHECK \n, t5, \val
.endm
