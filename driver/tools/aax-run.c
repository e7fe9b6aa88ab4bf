/* SPDX-License-Identifier: MIT */
/*
 * aax-run: jobs through the aax Linux driver, verified on the host.
 *   aax-run dma-copy [--bytes N] [--cmd-devmem 1]
 *                                          host -> device, then device -> host; bit-exact check;
 *                                          --cmd-devmem: command buffer in device memory (written
 *                                          through BAR2), as the in-process dma-copy workload does
 *   aax-run gemm [--m M --n N --k K] [--sram-base ADDR] [--cluster C]
 *                                          INT8 x INT8 -> INT32 on a cluster's matrix engine
 *   aax-run bad-packet                      a bad opcode: expects EINVAL and a device error record
 * Timing comes from the completion records (device timestamps).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/aax_encode.h"
#include "driver/libaax/aax.h"

#define CHUNK (4ull << 20)

static int fail(const char *what, int r)
{
    fprintf(stderr, "aax-run: %s: %s\n", what, strerror(-r));
    return 1;
}

static uint32_t xorshift(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static int run_job(aax_dev *d, aax_bo *cb, uint32_t size, struct aax_drm_wait *w)
{
    uint32_t seq = 0;
    int r = aax_submit(d, cb, 0, size, &seq);
    if (r) return r;
    return aax_wait(d, seq, 60ll * 1000000000ll, w);
}

static int dma_copy(aax_dev *d, uint64_t bytes, int cmd_devmem)
{
    uint64_t n = (bytes + CHUNK - 1) / CHUNK, i, off;
    aax_bo *src = calloc(n, sizeof(aax_bo)), *dst = calloc(n, sizeof(aax_bo)), dev, cb;
    struct aax_drm_wait w;
    aax_cmdbuf c;
    uint32_t x = 12345;
    int r;
    const char *dir[2] = {"h2d", "d2h"};

    if ((r = aax_bo_create(d, bytes, AAX_BO_DEVICE, &dev))) return fail("device BO", r);
    if ((r = aax_bo_create(d, n * 2 * sizeof(aax_pkt_dma) + 64, cmd_devmem ? AAX_BO_DEVICE : AAX_BO_HOST, &cb)) ||
        (r = aax_bo_map(d, &cb)))
        return fail("command BO", r);
    for (i = 0; i < n; ++i) {
        uint64_t len = (i + 1) * CHUNK > bytes ? bytes - i * CHUNK : CHUNK;
        if ((r = aax_bo_create(d, len, AAX_BO_HOST, &src[i])) || (r = aax_bo_map(d, &src[i])) ||
            (r = aax_bo_create(d, len, AAX_BO_HOST, &dst[i])) || (r = aax_bo_map(d, &dst[i])))
            return fail("host BO", r);
        for (off = 0; off + 4 <= len; off += 4) ((uint32_t *)src[i].map)[off / 4] = xorshift(&x);
        memset(dst[i].map, 0, len);
    }
    for (int pass = 0; pass < 2; ++pass) {
        c.bo = &cb;
        c.used = 0;
        for (i = 0; i < n; ++i) {
            aax_pkt_dma p = pass == 0 ? aax_make_copy_2d(src[i].va, dev.va + i * CHUNK, src[i].size, 1, 0, 0)
                                      : aax_make_copy_2d(dev.va + i * CHUNK, dst[i].va, dst[i].size, 1, 0, 0);
            aax_cmd_emit(&c, &p, sizeof(p));
        }
        r = run_job(d, &cb, c.used, &w);
        if (r) {
            fprintf(stderr, "aax-run: dma-copy %s: %s (device status %s)\n", dir[pass], strerror(-r),
                    aax_status_name(w.status));
            return 1;
        }
        const uint64_t ns = w.ts_end_ns - w.ts_start_ns;
        printf("dma-copy %s: bytes %llu device_ns %llu bandwidth_gbps %.4f\n", dir[pass], (unsigned long long)bytes,
               (unsigned long long)ns, ns ? (double)bytes / (double)ns : 0.0);
    }
    for (i = 0; i < n; ++i)
        if (memcmp(src[i].map, dst[i].map, src[i].size) != 0) {
            printf("dma-copy verified: NO (chunk %llu differs)\n", (unsigned long long)i);
            return 1;
        }
    printf("dma-copy verified: yes, bit-exact\n");
    for (i = 0; i < n; ++i) {
        aax_bo_free(d, &src[i]);
        aax_bo_free(d, &dst[i]);
    }
    aax_bo_free(d, &dev);
    aax_bo_free(d, &cb);
    free(src);
    free(dst);
    return 0;
}

static int gemm(aax_dev *d, uint32_t m, uint32_t n, uint32_t k, uint64_t sram, uint16_t cluster)
{
    const uint64_t a_bytes = (uint64_t)m * k, b_bytes = (uint64_t)k * n, c_bytes = (uint64_t)m * n * 4;
    const uint32_t a_off = 0, b_off = (uint32_t)((a_bytes + 63) & ~63ull),
                   c_off = (uint32_t)((b_off + b_bytes + 63) & ~63ull);
    aax_bo in, out, cb;
    struct aax_drm_wait w;
    aax_cmdbuf c = {&cb, 0};
    uint32_t x = 777, i, j, kk;
    int r;

    if ((r = aax_bo_create(d, a_bytes + b_bytes, AAX_BO_HOST, &in)) || (r = aax_bo_map(d, &in))) return fail("BO", r);
    if ((r = aax_bo_create(d, c_bytes, AAX_BO_HOST, &out)) || (r = aax_bo_map(d, &out))) return fail("BO", r);
    if ((r = aax_bo_create(d, 4096, AAX_BO_HOST, &cb)) || (r = aax_bo_map(d, &cb))) return fail("BO", r);
    int8_t *A = in.map, *B = (int8_t *)in.map + a_bytes;
    for (i = 0; i < a_bytes + b_bytes; ++i) ((int8_t *)in.map)[i] = (int8_t)(xorshift(&x) & 0xFF);
    memset(out.map, 0, c_bytes);
    aax_pkt_dma p1 = aax_make_copy_2d(in.va, sram + a_off, a_bytes, 1, 0, 0);
    aax_pkt_dma p2 = aax_make_copy_2d(in.va + a_bytes, sram + b_off, b_bytes, 1, 0, 0);
    aax_pkt_gemm g = aax_make_gemm(cluster, AAX_DT_INT8, AAX_DT_INT32, m, n, k, a_off, b_off, c_off, 0);
    aax_pkt_dma p3 = aax_make_copy_2d(sram + c_off, out.va, c_bytes, 1, 0, 0);
    aax_cmd_emit(&c, &p1, sizeof(p1));
    aax_cmd_emit(&c, &p2, sizeof(p2));
    aax_cmd_emit(&c, &g, sizeof(g));
    aax_cmd_emit(&c, &p3, sizeof(p3));
    r = run_job(d, &cb, c.used, &w);
    if (r) {
        fprintf(stderr, "aax-run: gemm: %s (device status %s at offset %u)\n", strerror(-r), aax_status_name(w.status),
                w.err_offset);
        return 1;
    }
    printf("gemm %ux%ux%u int8: device_ns %llu\n", m, n, k, (unsigned long long)(w.ts_end_ns - w.ts_start_ns));
    for (i = 0; i < m; ++i)
        for (j = 0; j < n; ++j) {
            int32_t ref = 0;
            for (kk = 0; kk < k; ++kk) ref += (int32_t)A[i * k + kk] * (int32_t)B[kk * n + j];
            if (((int32_t *)out.map)[i * n + j] != ref) {
                printf("gemm verified: NO (C[%u][%u] = %d, expected %d)\n", i, j, ((int32_t *)out.map)[i * n + j], ref);
                return 1;
            }
        }
    printf("gemm verified: yes, bit-exact\n");
    aax_bo_free(d, &in);
    aax_bo_free(d, &out);
    aax_bo_free(d, &cb);
    return 0;
}

/* A command buffer with an unknown opcode: the job fails with BAD_OPCODE (EINVAL) and the
 * driver records the device error; the ring recovers (a NOP job after it succeeds). */
static int bad_packet(aax_dev *d)
{
    aax_bo cb;
    struct aax_drm_wait w;
    struct aax_drm_error e;
    aax_pkt_hdr h[2] = {aax_make_hdr(AAX_OP_NOP, 1, 0), aax_make_hdr(0x7F, 1, 0)};
    aax_cmdbuf c = {&cb, 0};
    int r;
    if ((r = aax_bo_create(d, 4096, AAX_BO_HOST, &cb)) || (r = aax_bo_map(d, &cb))) return fail("BO", r);
    aax_cmd_emit(&c, h, sizeof(h));
    r = run_job(d, &cb, c.used, &w);
    printf("bad-packet: errno %s status %s offset %u\n", r == -EINVAL ? "EINVAL" : strerror(-r),
           aax_status_name(w.status), w.err_offset);
    if (aax_last_error(d, &e) == 0)
        printf("bad-packet: error record %s offset %u opcode 0x%x count %u\n", aax_status_name(e.code), e.offset,
               e.opcode, e.count);
    /* Bad input the driver refuses before the device sees it. */
    {
        aax_bo bogus = cb;
        uint32_t seq = 0;
        bogus.handle = 0x7fff;
        r = aax_submit(d, &bogus, 0, 8, &seq);
        printf("bad-packet: bad handle %s\n", r == -ENOENT ? "ENOENT" : strerror(-r));
        r = aax_submit(d, &cb, 0, (uint32_t)AAX_MAX_CMDBUF_SIZE + 8, &seq);
        printf("bad-packet: oversize submit %s\n", r == -EINVAL ? "EINVAL" : strerror(-r));
        r = aax_submit(d, &cb, 4, 8, &seq);
        printf("bad-packet: misaligned offset %s\n", r == -EINVAL ? "EINVAL" : strerror(-r));
    }
    r = run_job(d, &cb, 8, &w);
    printf("bad-packet: next job %s\n", r == 0 ? "ok" : strerror(-r));
    aax_bo_free(d, &cb);
    return r == 0 && w.status == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    aax_dev d;
    uint64_t bytes = 64ull << 20, sram = 0x20000000000ull;
    uint32_t m = 64, n = 64, k = 64, cluster = 0;
    int cmd_devmem = 0;
    int i, r;
    if (argc < 2) {
        fprintf(stderr, "usage: aax-run dma-copy [--bytes N] [--cmd-devmem 1] | gemm [--m M --n N --k K --sram-base A --cluster C] | "
                        "bad-packet\n");
        return 2;
    }
    for (i = 2; i + 1 < argc; i += 2) {
        unsigned long long v = strtoull(argv[i + 1], NULL, 0);
        if (!strcmp(argv[i], "--bytes")) bytes = v;
        else if (!strcmp(argv[i], "--m")) m = (uint32_t)v;
        else if (!strcmp(argv[i], "--n")) n = (uint32_t)v;
        else if (!strcmp(argv[i], "--k")) k = (uint32_t)v;
        else if (!strcmp(argv[i], "--sram-base")) sram = v;
        else if (!strcmp(argv[i], "--cluster")) cluster = (uint32_t)v;
        else if (!strcmp(argv[i], "--cmd-devmem")) cmd_devmem = v != 0;
        else {
            fprintf(stderr, "aax-run: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if ((r = aax_open(&d, NULL))) return fail("open", r);
    if (!strcmp(argv[1], "dma-copy")) r = dma_copy(&d, bytes, cmd_devmem);
    else if (!strcmp(argv[1], "gemm")) r = gemm(&d, m, n, k, sram, (uint16_t)cluster);
    else if (!strcmp(argv[1], "bad-packet")) r = bad_packet(&d);
    else {
        fprintf(stderr, "aax-run: unknown job %s (dma-copy, gemm, bad-packet)\n", argv[1]);
        r = 2;
    }
    aax_close(&d);
    return r;
}
