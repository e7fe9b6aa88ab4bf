/* Fails on purpose with code 5 (tohost = 11): the iss mode must exit 1 naming the code. */
#include "test.h"
    .text
    .globl tests
tests:
    li gp, 5
    j fail
