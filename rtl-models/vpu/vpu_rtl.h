// C++ driver of the Verilated RTL vector lane cluster (vpu_cluster.sv): runs one VEC packet's
// fields clock by clock and returns the cluster's busy cycles. The Verilator headers stay
// inside vpu_rtl.cpp; users see only this class.
#pragma once

#include <cstdint>
#include <memory>

namespace accelvp::rtl {

// The SRAM the cluster reads and writes (through DPI-C): the cluster SRAM in the simulator,
// a byte vector in the testbench. Byte addresses; values little-endian.
class vpu_sram {
public:
    virtual ~vpu_sram() = default;
    virtual uint8_t rd8(uint64_t addr) = 0;
    virtual void wr(uint64_t addr, unsigned nbytes, uint32_t value) = 0;  // nbytes 1, 2 or 4
};

// compute.vector_lanes / vector_depth / sram_bytes_per_cycle / vector_setup_cycles.
struct vpu_config {
    uint32_t lanes = 64, depth = 8;
    uint32_t sram_bytes_per_cycle = 256;
    uint32_t setup_cycles = 8;
};

// One VEC packet's fields: op (AAX_VEC_ADD, MUL, MAX, RELU, ROW_SUM, ROW_MAX), addresses in
// bytes, strides in elements (resolved: never 0).
struct vpu_job {
    enum bmode_t : uint32_t { b_full = 0, b_scalar = 1, b_row = 2, b_col = 3 };
    enum in_t : uint32_t { in_int8 = 0, in_bf16 = 1, in_fp32 = 2 };
    enum out_t : uint32_t { out_int8 = 0, out_int32 = 1, out_fp32 = 2, out_bf16 = 3 };
    uint32_t op = 0;
    uint32_t bmode = b_full;
    uint32_t rows = 0, cols = 0;
    uint32_t a_addr = 0, b_addr = 0, y_addr = 0;
    uint32_t lda = 0, ldb = 0, ldy = 0;
    uint32_t scalar = 0;                  // B_SCALAR, fp32 bits
    uint32_t in = in_int8;                // source format of the data path
    uint32_t out = out_int8;              // result format of the data path
    bool data = true;                     // false: timing only, the SRAM is not touched
    uint32_t in_bytes = 1, out_bytes = 1; // element sizes the SRAM port charges (those of in / out
                                          // when data is true)
};

class vpu_rtl {
public:
    // The Verilated cluster's lanes and pipeline stages (rtl-models/CMakeLists.txt).
    static const uint32_t max_lanes, max_depth;

    vpu_rtl();
    ~vpu_rtl();
    vpu_rtl(const vpu_rtl&) = delete;
    vpu_rtl& operator=(const vpu_rtl&) = delete;

    // Whether the op is one the lane cluster implements.
    static bool implements(uint32_t op);
    // Empty when the cluster can run this job with this configuration, else the reason.
    static const char* unsupported(const vpu_config& cfg, const vpu_job& job);

    // Run one job to completion; returns the cluster's busy cycles (setup to last byte).
    uint64_t run(const vpu_config& cfg, const vpu_job& job, vpu_sram* sram);

    // Clock cycles simulated so far (jobs and reset).
    uint64_t clocks() const { return clocks_; }

private:
    void tick();
    struct impl;
    std::unique_ptr<impl> d_;
    uint64_t clocks_ = 0;
};

} // namespace accelvp::rtl
