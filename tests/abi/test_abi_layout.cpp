// The device ABI (abi/aax_queue.h) is a binary contract shared with firmware and host
// drivers: every struct has a fixed size and every field a fixed offset.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include "abi/aax_errno.h"
#include "abi/aax_queue.h"

#define CHECK_FIELD(type, field, offset, size)                        \
    do {                                                              \
        INFO(#type "." #field);                                       \
        CHECK(offsetof(type, field) == (offset));                     \
        CHECK(sizeof(static_cast<type*>(nullptr)->field) == (size)); \
    } while (0)

TEST_CASE("abi: aax_job_desc is 64 bytes with the documented field offsets", "[abi]") {
    STATIC_REQUIRE(std::is_standard_layout<aax_job_desc>::value);
    STATIC_REQUIRE(std::is_trivially_copyable<aax_job_desc>::value);
    CHECK(sizeof(aax_job_desc) == 64);
    CHECK(sizeof(aax_job_desc) == AAX_JOB_DESC_SIZE);
    CHECK(alignof(aax_job_desc) == 8);
    CHECK_FIELD(aax_job_desc, cmdbuf_addr, 0, 8);
    CHECK_FIELD(aax_job_desc, cmdbuf_size, 8, 4);
    CHECK_FIELD(aax_job_desc, job_id, 12, 4);
    CHECK_FIELD(aax_job_desc, flags, 16, 4);
    CHECK_FIELD(aax_job_desc, asid, 20, 2);
    CHECK_FIELD(aax_job_desc, reserved0, 22, 2);
    CHECK_FIELD(aax_job_desc, fence_addr, 24, 8);
    CHECK_FIELD(aax_job_desc, fence_value, 32, 8);
    CHECK_FIELD(aax_job_desc, timeout_us, 40, 4);
    CHECK_FIELD(aax_job_desc, reserved1, 44, 20);

    CHECK(AAX_MAX_CMDBUF_SIZE == 16u * 1024 * 1024);
    CHECK(AAX_JOB_IRQ == 0x1);
    CHECK(AAX_JOB_WRITE_FENCE == 0x2);
    CHECK(AAX_JOB_TIMESTAMP == 0x4);
    CHECK(AAX_JOB_NULL == 0x8);
    CHECK(AAX_JOB_FLAGS_VALID == (AAX_JOB_IRQ | AAX_JOB_WRITE_FENCE | AAX_JOB_TIMESTAMP | AAX_JOB_NULL));
}

TEST_CASE("abi: aax_job_desc fields land at their little-endian byte positions", "[abi]") {
    aax_job_desc d;
    std::memset(&d, 0, sizeof d);
    d.cmdbuf_addr = 0x1122334455667788ull;
    d.cmdbuf_size = 0x100;
    d.job_id = 0xA0B0C0D0;
    d.flags = AAX_JOB_IRQ | AAX_JOB_TIMESTAMP;
    d.asid = 0x0102;
    d.fence_addr = 0xF0;
    d.fence_value = 0xFFEE;
    d.timeout_us = 1000;
    unsigned char raw[64];
    std::memcpy(raw, &d, sizeof raw);
    CHECK(raw[0] == 0x88);
    CHECK(raw[7] == 0x11);
    CHECK(raw[9] == 0x01);   // cmdbuf_size 0x100
    CHECK(raw[12] == 0xD0);  // job_id LSB
    CHECK(raw[15] == 0xA0);
    CHECK(raw[16] == 0x05);  // flags
    CHECK(raw[20] == 0x02);  // asid LSB
    CHECK(raw[21] == 0x01);
    CHECK(raw[24] == 0xF0);  // fence_addr
    CHECK(raw[32] == 0xEE);  // fence_value
    CHECK(raw[33] == 0xFF);
    CHECK(raw[40] == 0xE8);  // 1000 = 0x3E8
    CHECK(raw[41] == 0x03);
}

TEST_CASE("abi: aax_cq_entry is 32 bytes with the documented field offsets", "[abi]") {
    STATIC_REQUIRE(std::is_standard_layout<aax_cq_entry>::value);
    CHECK(sizeof(aax_cq_entry) == 32);
    CHECK(sizeof(aax_cq_entry) == AAX_CQ_ENTRY_SIZE);
    CHECK(alignof(aax_cq_entry) == 8);
    CHECK_FIELD(aax_cq_entry, job_id, 0, 4);
    CHECK_FIELD(aax_cq_entry, ring, 4, 2);
    CHECK_FIELD(aax_cq_entry, status, 6, 1);
    CHECK_FIELD(aax_cq_entry, flags, 7, 1);
    CHECK_FIELD(aax_cq_entry, err_offset, 8, 4);
    CHECK_FIELD(aax_cq_entry, err_info, 12, 4);
    CHECK_FIELD(aax_cq_entry, ts_start, 16, 8);
    CHECK_FIELD(aax_cq_entry, ts_end, 24, 8);
    CHECK(AAX_CQE_PHASE == 0x1);
    CHECK(AAX_CQE_TS_VALID == 0x2);
}

TEST_CASE("abi: packet header and aax_pkt_dma have the documented sizes and offsets", "[abi]") {
    CHECK(sizeof(aax_pkt_hdr) == 8);
    CHECK_FIELD(aax_pkt_hdr, opcode, 0, 1);
    CHECK_FIELD(aax_pkt_hdr, flags, 1, 1);
    CHECK_FIELD(aax_pkt_hdr, size_qw, 2, 2);
    CHECK_FIELD(aax_pkt_hdr, param, 4, 4);

    STATIC_REQUIRE(std::is_standard_layout<aax_pkt_dma>::value);
    CHECK(sizeof(aax_pkt_dma) == 56);
    CHECK(sizeof(aax_pkt_dma) == AAX_PKT_DMA_QW * 8);
    CHECK(AAX_PKT_DMA_QW == 7);
    CHECK_FIELD(aax_pkt_dma, hdr, 0, 8);
    CHECK_FIELD(aax_pkt_dma, src, 8, 8);
    CHECK_FIELD(aax_pkt_dma, dst, 16, 8);
    CHECK_FIELD(aax_pkt_dma, width, 24, 8);
    CHECK_FIELD(aax_pkt_dma, height, 32, 4);
    CHECK_FIELD(aax_pkt_dma, fill, 36, 4);
    CHECK_FIELD(aax_pkt_dma, src_stride, 40, 8);
    CHECK_FIELD(aax_pkt_dma, dst_stride, 48, 8);
    CHECK(AAX_DMA_FILL == 0x1);
    CHECK(AAX_PKT_F_IRQ == 0x1);
}

TEST_CASE("abi: the other command packets have the documented sizes and offsets", "[abi]") {
    CHECK(sizeof(aax_pkt_nop) == AAX_PKT_NOP_QW * 8);
    CHECK(AAX_PKT_NOP_QW == 1);

    CHECK(sizeof(aax_pkt_sem_signal) == 16);
    CHECK(AAX_PKT_SEM_SIGNAL_QW == 2);
    CHECK_FIELD(aax_pkt_sem_signal, sem, 8, 2);
    CHECK_FIELD(aax_pkt_sem_signal, mode, 10, 1);
    CHECK_FIELD(aax_pkt_sem_signal, reserved, 11, 1);
    CHECK_FIELD(aax_pkt_sem_signal, value, 12, 4);

    CHECK(sizeof(aax_pkt_sem_wait) == 16);
    CHECK(AAX_PKT_SEM_WAIT_QW == 2);
    CHECK_FIELD(aax_pkt_sem_wait, sem, 8, 2);
    CHECK_FIELD(aax_pkt_sem_wait, cond, 10, 1);
    CHECK_FIELD(aax_pkt_sem_wait, dec, 11, 1);
    CHECK_FIELD(aax_pkt_sem_wait, value, 12, 4);

    CHECK(sizeof(aax_pkt_fence) == 24);
    CHECK(AAX_PKT_FENCE_QW == 3);
    CHECK_FIELD(aax_pkt_fence, addr, 8, 8);
    CHECK_FIELD(aax_pkt_fence, value, 16, 8);

    CHECK(sizeof(aax_pkt_msg) == 24);
    CHECK(AAX_PKT_MSG_QW == 3);
    CHECK_FIELD(aax_pkt_msg, addr, 8, 8);
    CHECK_FIELD(aax_pkt_msg, value, 16, 4);
    CHECK_FIELD(aax_pkt_msg, reserved, 20, 4);

    CHECK(sizeof(aax_pkt_coll) == 40);
    CHECK(sizeof(aax_pkt_coll) == AAX_PKT_COLL_QW * 8);
    CHECK_FIELD(aax_pkt_coll, port, 8, 2);
    CHECK_FIELD(aax_pkt_coll, sem, 10, 2);
    CHECK_FIELD(aax_pkt_coll, sem_value, 12, 4);
    CHECK_FIELD(aax_pkt_coll, local_addr, 16, 8);
    CHECK_FIELD(aax_pkt_coll, remote_addr, 24, 8);
    CHECK_FIELD(aax_pkt_coll, bytes, 32, 8);
    CHECK(AAX_COLL_PARAM(AAX_COLL_REDUCE, AAX_COLL_DT_INT32, AAX_COLL_RED_MAX) == 0x1104u);
}

TEST_CASE("abi: status and opcode codes are stable and have names", "[abi]") {
    CHECK(AAX_OK == 0);
    CHECK(AAX_ERR_BAD_ADDRESS == 3);
    CHECK(AAX_ERR_TIMEOUT == 6);
    CHECK(AAX_ERR_BUS == 12);
    CHECK(std::string(aax_status_name(AAX_OK)) == "OK");
    CHECK(std::string(aax_status_name(AAX_ERR_BAD_LENGTH)) == "BAD_LENGTH");
    CHECK(std::string(aax_status_name(AAX_ERR_BUS)) == "BUS");
    CHECK(AAX_ERR_MMU_FAULT == 13);
    CHECK(std::string(aax_status_name(AAX_ERR_MMU_FAULT)) == "MMU_FAULT");
    CHECK(AAX_ERR_LINK_DOWN == 14);
    CHECK(std::string(aax_status_name(AAX_ERR_LINK_DOWN)) == "LINK_DOWN");
    CHECK(AAX_ERR_ECC_UE == 15);
    CHECK(std::string(aax_status_name(AAX_ERR_ECC_UE)) == "ECC_UE");
    CHECK(std::string(aax_status_name(16)) == "UNKNOWN");

    CHECK(AAX_OP_DMA == 0x02);
    CHECK(AAX_OP_MSG == 0x08);
    CHECK(AAX_OP_COUNT == 0x0D);
    CHECK(std::string(aax_opcode_name(AAX_OP_NOP)) == "NOP");
    CHECK(std::string(aax_opcode_name(AAX_OP_SEM_WAIT)) == "SEM_WAIT");
    CHECK(std::string(aax_opcode_name(AAX_OP_COLL)) == "COLL");
    CHECK(std::string(aax_opcode_name(AAX_OP_COUNT)) == "UNKNOWN");
}

TEST_CASE("abi: aax_pkt_gemm and aax_pkt_vec have the documented sizes and offsets", "[abi]") {
    CHECK(sizeof(aax_pkt_gemm) == 56);
    CHECK(sizeof(aax_pkt_gemm) == AAX_PKT_GEMM_QW * 8);
    CHECK_FIELD(aax_pkt_gemm, hdr, 0, 8);
    CHECK_FIELD(aax_pkt_gemm, cluster, 8, 2);
    CHECK_FIELD(aax_pkt_gemm, dtype_in, 10, 1);
    CHECK_FIELD(aax_pkt_gemm, dtype_out, 11, 1);
    CHECK_FIELD(aax_pkt_gemm, dataflow, 12, 1);
    CHECK_FIELD(aax_pkt_gemm, reserved0, 13, 3);
    CHECK_FIELD(aax_pkt_gemm, m, 16, 4);
    CHECK_FIELD(aax_pkt_gemm, n, 20, 4);
    CHECK_FIELD(aax_pkt_gemm, k, 24, 4);
    CHECK_FIELD(aax_pkt_gemm, reserved1, 28, 4);
    CHECK_FIELD(aax_pkt_gemm, a_addr, 32, 4);
    CHECK_FIELD(aax_pkt_gemm, b_addr, 36, 4);
    CHECK_FIELD(aax_pkt_gemm, c_addr, 40, 4);
    CHECK_FIELD(aax_pkt_gemm, lda, 44, 4);
    CHECK_FIELD(aax_pkt_gemm, ldb, 48, 4);
    CHECK_FIELD(aax_pkt_gemm, ldc, 52, 4);
    CHECK(AAX_GEMM_ACCUMULATE == 0x1);
    CHECK(AAX_GEMM_B_TRANS == 0x2);
    CHECK(AAX_GEMM_DF_WS == 1);
    CHECK(AAX_GEMM_DF_OS == 2);

    CHECK(sizeof(aax_pkt_vec) == 64);
    CHECK(sizeof(aax_pkt_vec) == AAX_PKT_VEC_QW * 8);
    CHECK_FIELD(aax_pkt_vec, cluster, 8, 2);
    CHECK_FIELD(aax_pkt_vec, op, 10, 1);
    CHECK_FIELD(aax_pkt_vec, dtype, 11, 1);
    CHECK_FIELD(aax_pkt_vec, dtype_out, 12, 1);
    CHECK_FIELD(aax_pkt_vec, rows, 16, 4);
    CHECK_FIELD(aax_pkt_vec, cols, 20, 4);
    CHECK_FIELD(aax_pkt_vec, src0, 24, 4);
    CHECK_FIELD(aax_pkt_vec, src1, 28, 4);
    CHECK_FIELD(aax_pkt_vec, src2, 32, 4);
    CHECK_FIELD(aax_pkt_vec, dst, 36, 4);
    CHECK_FIELD(aax_pkt_vec, src0_stride, 40, 4);
    CHECK_FIELD(aax_pkt_vec, dst_stride, 52, 4);
    CHECK_FIELD(aax_pkt_vec, scalar, 56, 4);
    CHECK_FIELD(aax_pkt_vec, eps, 60, 4);
    CHECK(AAX_VEC_TRANSPOSE == 13);
    CHECK(AAX_VEC_OP_COUNT == 14);
    CHECK(std::string(aax_vec_op_name(AAX_VEC_SOFTMAX)) == "SOFTMAX");
    CHECK(std::string(aax_vec_op_name(AAX_VEC_OP_COUNT)) == "UNKNOWN");
    CHECK(std::string(aax_dtype_name(AAX_DT_FP8_E4M3)) == "fp8_e4m3");
    CHECK(AAX_DT_INT32 == 6);
}

TEST_CASE("abi: every device status has the documented errno (abi/aax_errno.h, docs/abi.md)", "[abi]") {
    const std::pair<unsigned, int> table[] = {
        {AAX_OK, 0},
        {AAX_ERR_BAD_OPCODE, -EINVAL},      {AAX_ERR_BAD_LENGTH, -EINVAL}, {AAX_ERR_BAD_ADDRESS, -EFAULT},
        {AAX_ERR_BAD_PARAM, -EINVAL},       {AAX_ERR_BAD_JOB, -EINVAL},    {AAX_ERR_TIMEOUT, -ETIMEDOUT},
        {AAX_ERR_SEM_TIMEOUT, -ETIMEDOUT},  {AAX_ERR_ABORTED, -EIO},       {AAX_ERR_UNSUPPORTED, -EINVAL},
        {AAX_ERR_PRIV, -EPERM},             {AAX_ERR_BAD_ASID, -EPERM},    {AAX_ERR_BUS, -EIO},
        {AAX_ERR_MMU_FAULT, -EFAULT},       {AAX_ERR_LINK_DOWN, -ENOLINK}, {AAX_ERR_ECC_UE, -EIO},
        {200, -EINVAL},
    };
    for (const auto& [status, err] : table) {
        INFO(aax_status_name(status));
        REQUIRE(aax_status_to_errno(status) == err);
    }
}
