// Host-side command-buffer builder: emits AAX packets (abi/aax_queue.h) into a byte
// vector, exactly as a runtime would before copying it into a buffer object.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "abi/aax_encode.h"
#include "abi/aax_queue.h"

namespace accelvp {

class cmdbuf_builder {
public:
    template <typename Pkt>
    cmdbuf_builder& raw(const Pkt& p) {
        const auto* b = reinterpret_cast<const uint8_t*>(&p);
        bytes_.insert(bytes_.end(), b, b + sizeof(Pkt));
        return *this;
    }
    cmdbuf_builder& nop(uint16_t qw = 1) {
        aax_pkt_hdr h = hdr(AAX_OP_NOP, qw);
        raw(h);
        if (qw > 1) bytes_.insert(bytes_.end(), (qw - 1u) * 8u, 0);  // qw 0 emits a (bad) bare header
        return *this;
    }
    cmdbuf_builder& copy(uint64_t src, uint64_t dst, uint64_t bytes) { return copy_2d(src, dst, bytes, 1, 0, 0); }
    // The packets come from the shared C encoders (abi/aax_encode.h), which the Linux
    // user space (driver/libaax) uses too.
    cmdbuf_builder& copy_2d(uint64_t src, uint64_t dst, uint64_t width, uint32_t height, uint64_t src_stride,
                            uint64_t dst_stride) {
        return raw(aax_make_copy_2d(src, dst, width, height, src_stride, dst_stride));
    }
    cmdbuf_builder& fill(uint64_t dst, uint64_t width, uint32_t height, uint64_t dst_stride, uint32_t pattern) {
        return raw(aax_make_fill(dst, width, height, dst_stride, pattern));
    }
    cmdbuf_builder& sem_signal(uint16_t sem, uint32_t value, uint8_t mode = AAX_SEM_MODE_ADD) {
        return raw(aax_make_sem_signal(sem, value, mode));
    }
    cmdbuf_builder& sem_wait(uint16_t sem, uint32_t value, uint8_t cond = AAX_SEM_GE, bool dec = false) {
        return raw(aax_make_sem_wait(sem, value, cond, dec ? 1 : 0));
    }
    cmdbuf_builder& fence(uint64_t addr, uint64_t value, uint32_t mode = AAX_FENCE_WRITE_VALUE) {
        return raw(aax_make_fence(addr, value, mode));
    }
    cmdbuf_builder& msg(uint64_t addr, uint32_t value, bool irq = false) {
        return raw(aax_make_msg(addr, value, irq ? 1 : 0));
    }

    // Control flow: JUMP/CALL to the command buffer at addr (size bytes), RET.
    cmdbuf_builder& jump(uint64_t addr, uint32_t size) { return transfer(AAX_OP_JUMP, addr, size); }
    cmdbuf_builder& call(uint64_t addr, uint32_t size) { return transfer(AAX_OP_CALL, addr, size); }
    cmdbuf_builder& ret() { return raw(hdr(AAX_OP_RET, AAX_PKT_RET_QW)); }
    // Privileged register write (rings with RING_CTRL.PRIV).
    cmdbuf_builder& wreg(uint32_t offset, uint32_t value) {
        aax_pkt_wreg p{};
        p.hdr = hdr(AAX_OP_WREG, AAX_PKT_WREG_QW);
        p.offset = offset;
        p.value = value;
        return raw(p);
    }

    // GEMM/VEC: the caller fills the packet body; the header is set here.
    cmdbuf_builder& gemm(aax_pkt_gemm p, uint32_t param = 0) {
        p.hdr = hdr(AAX_OP_GEMM, AAX_PKT_GEMM_QW, param);
        return raw(p);
    }
    cmdbuf_builder& vec(aax_pkt_vec p, uint32_t param = 0) {
        p.hdr = hdr(AAX_OP_VEC, AAX_PKT_VEC_QW, param);
        return raw(p);
    }

    const std::vector<uint8_t>& bytes() const { return bytes_; }
    std::vector<uint8_t>& bytes() { return bytes_; }
    uint32_t size() const { return static_cast<uint32_t>(bytes_.size()); }

    static aax_pkt_hdr hdr(uint8_t op, uint16_t qw, uint32_t param = 0) { return aax_make_hdr(op, qw, param); }

private:
    cmdbuf_builder& transfer(uint8_t op, uint64_t addr, uint32_t size) {
        aax_pkt_jump p{};
        p.hdr = hdr(op, AAX_PKT_JUMP_QW);
        p.addr = addr;
        p.size = size;
        return raw(p);
    }

    std::vector<uint8_t> bytes_;
};

} // namespace accelvp
