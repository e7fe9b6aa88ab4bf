/* A program without a tohost symbol: the iss mode cannot tell pass from fail (exit 2). */
    .text
    .globl _start
_start:
1:  j 1b
