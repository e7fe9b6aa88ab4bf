/* memset and memcpy for the firmware image (not the native test build): picolibc's
 * size-optimized ones move a byte per iteration, and clearing a job slot or a completion
 * record and copying a descriptor are on every job's path (a 64-byte clear was about 256
 * core cycles). These move words when both sides are word aligned. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint32_t __attribute__((may_alias)) fw_word;

/* The loops below must not be turned back into calls to memset/memcpy. */
#define FW_NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

FW_NO_LIBCALL void *memset(void *dst, int c, size_t n)
{
    uint8_t *p = dst;
    const uint8_t b = (uint8_t)c;
    uint32_t w = b;
    while (n && ((uintptr_t)p & 3)) {
        *p++ = b;
        --n;
    }
    w |= w << 8;
    w |= w << 16;
    for (; n >= 4; n -= 4, p += 4)
        *(fw_word *)p = w;
    while (n--)
        *p++ = b;
    return dst;
}

FW_NO_LIBCALL void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if ((((uintptr_t)d | (uintptr_t)s) & 3) == 0)
        for (; n >= 4; n -= 4, d += 4, s += 4)
            *(fw_word *)d = *(const fw_word *)s;
    while (n--)
        *d++ = *s++;
    return dst;
}
