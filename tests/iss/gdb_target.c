/* Target of the GDB ctest (test_gdb.py): a C program with a function to break in and a
   global to print. Built -O0 -g so every variable lives where the debug info says. Ends
   through HTIF tohost: 1 = pass, (code << 1) | 1 = fail. */
#include <stdint.h>

/* Start-up: a stack, main, then spin (the ISS halts at the store to tohost). */
__asm__(".section .text.init, \"ax\", @progbits\n"
        ".globl _start\n"
        "_start:\n"
        "    la sp, _stack_top\n"
        "    call main\n"
        "1:  j 1b\n"
        ".previous\n");

volatile uint64_t tohost __attribute__((section(".tohost"), aligned(64)));

volatile int the_global = 7;

__attribute__((noinline)) int add_numbers(int a, int b) {
    int sum = a + b;
    the_global += sum;
    return sum;
}

int main(void) {
    the_global = 1234;
    int r = add_numbers(17, 25);
    *(volatile uint32_t*)&tohost = (r == 42 && the_global == 1276) ? 1 : (1u << 1) | 1;
    for (;;) {
    }
}
