/* wfi with no interrupt enabled: nothing can wake the core, the run must end as a hang. */
#include "test.h"
    .text
    .globl tests
tests:
    csrw mie, zero
    wfi
    j pass
