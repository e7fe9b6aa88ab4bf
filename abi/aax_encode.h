/* SPDX-License-Identifier: MIT */
/*
 * accelvp device ABI ("AAX") -- packet encoders, shared by every producer of command
 * buffers: the in-process host (platform/host/cmdbuf.h wraps these) and the Linux user
 * space (driver/libaax). Plain C99 that also compiles as C++; user space only.
 */
#ifndef AAX_ENCODE_H
#define AAX_ENCODE_H

#include <string.h>

#include "abi/aax_queue.h"

static inline aax_pkt_hdr aax_make_hdr(uint8_t op, uint16_t qw, uint32_t param)
{
    aax_pkt_hdr h;
    memset(&h, 0, sizeof(h));
    h.opcode = op;
    h.size_qw = qw;
    h.param = param;
    return h;
}

/* DMA: a 2-D copy of height rows of width bytes (height 1 = linear). */
static inline aax_pkt_dma aax_make_copy_2d(uint64_t src, uint64_t dst, uint64_t width, uint32_t height,
                                           uint64_t src_stride, uint64_t dst_stride)
{
    aax_pkt_dma p;
    memset(&p, 0, sizeof(p));
    p.hdr = aax_make_hdr(AAX_OP_DMA, AAX_PKT_DMA_QW, 0);
    p.src = src;
    p.dst = dst;
    p.width = width;
    p.height = height;
    p.src_stride = src_stride;
    p.dst_stride = dst_stride;
    return p;
}

static inline aax_pkt_dma aax_make_fill(uint64_t dst, uint64_t width, uint32_t height, uint64_t dst_stride,
                                        uint32_t pattern)
{
    aax_pkt_dma p;
    memset(&p, 0, sizeof(p));
    p.hdr = aax_make_hdr(AAX_OP_DMA, AAX_PKT_DMA_QW, AAX_DMA_FILL);
    p.dst = dst;
    p.width = width;
    p.height = height;
    p.dst_stride = dst_stride;
    p.fill = pattern;
    return p;
}

static inline aax_pkt_fence aax_make_fence(uint64_t addr, uint64_t value, uint32_t mode)
{
    aax_pkt_fence p;
    memset(&p, 0, sizeof(p));
    p.hdr = aax_make_hdr(AAX_OP_FENCE, AAX_PKT_FENCE_QW, mode);
    p.addr = addr;
    p.value = value;
    return p;
}

static inline aax_pkt_msg aax_make_msg(uint64_t addr, uint32_t value, int irq)
{
    aax_pkt_msg p;
    memset(&p, 0, sizeof(p));
    p.hdr = aax_make_hdr(AAX_OP_MSG, AAX_PKT_MSG_QW, 0);
    if (irq) p.hdr.flags |= AAX_PKT_F_IRQ;
    p.addr = addr;
    p.value = value;
    return p;
}

static inline aax_pkt_sem_signal aax_make_sem_signal(uint16_t sem, uint32_t value, uint8_t mode)
{
    aax_pkt_sem_signal p;
    memset(&p, 0, sizeof(p));
    p.hdr = aax_make_hdr(AAX_OP_SEM_SIGNAL, AAX_PKT_SEM_SIGNAL_QW, 0);
    p.sem = sem;
    p.mode = mode;
    p.value = value;
    return p;
}

static inline aax_pkt_sem_wait aax_make_sem_wait(uint16_t sem, uint32_t value, uint8_t cond, int dec)
{
    aax_pkt_sem_wait p;
    memset(&p, 0, sizeof(p));
    p.hdr = aax_make_hdr(AAX_OP_SEM_WAIT, AAX_PKT_SEM_WAIT_QW, 0);
    p.sem = sem;
    p.cond = cond;
    p.dec = dec ? 1 : 0;
    p.value = value;
    return p;
}

/* GEMM: C (m x n) = A (m x k) * B (k x n), packed operands at SRAM offsets of a cluster. */
static inline aax_pkt_gemm aax_make_gemm(uint16_t cluster, uint8_t dtype_in, uint8_t dtype_out, uint32_t m,
                                         uint32_t n, uint32_t k, uint32_t a_addr, uint32_t b_addr, uint32_t c_addr,
                                         uint32_t param)
{
    aax_pkt_gemm p;
    memset(&p, 0, sizeof(p));
    p.hdr = aax_make_hdr(AAX_OP_GEMM, AAX_PKT_GEMM_QW, param);
    p.cluster = cluster;
    p.dtype_in = dtype_in;
    p.dtype_out = dtype_out;
    p.m = m;
    p.n = n;
    p.k = k;
    p.a_addr = a_addr;
    p.b_addr = b_addr;
    p.c_addr = c_addr;
    return p;
}

#endif /* AAX_ENCODE_H */
