/* A CPU-bound loop for the ISS speed benchmark: table-free CRC-32 (shifts, xors,
   branches), FNV-1a hashing over a buffer (loads, stores, multiplies) and a small
   insertion sort (data-dependent branches). It checks its own results, so a wrong
   instruction fails the run instead of producing a fast wrong figure. */
#include <stdint.h>

#ifndef ROUNDS
#define ROUNDS 1000
#endif

static uint8_t buf[4096];
static uint32_t keys[64];

static uint32_t crc32(const uint8_t* p, unsigned n, uint32_t crc) {
    crc = ~crc;
    for (unsigned i = 0; i < n; ++i) {
        crc ^= p[i];
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

static uint32_t fnv1a(uint8_t* p, unsigned n, uint32_t h) {
    for (unsigned i = 0; i < n; ++i) {
        h = (h ^ p[i]) * 16777619u;
        p[i] = (uint8_t)(h >> 13);
    }
    return h;
}

static void sort(uint32_t* a, unsigned n) {
    for (unsigned i = 1; i < n; ++i) {
        uint32_t v = a[i];
        unsigned j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            --j;
        }
        a[j] = v;
    }
}

volatile uint32_t result;

int main(void) {
    uint32_t seed = 12345;
    for (unsigned i = 0; i < sizeof(buf); ++i) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
    uint32_t crc = 0, h = 2166136261u;
    for (int r = 0; r < ROUNDS; ++r) {
        crc = crc32(buf, sizeof(buf), crc);
        h = fnv1a(buf, sizeof(buf), h);
        for (unsigned i = 0; i < 64; ++i) keys[i] = h * (i + 1) ^ crc;
        sort(keys, 64);
        for (unsigned i = 1; i < 64; ++i)
            if (keys[i - 1] > keys[i]) return 2;  /* sort broken */
    }
    result = crc ^ h;
    return 0;
}
