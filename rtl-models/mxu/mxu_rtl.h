// C++ driver of the Verilated RTL matrix tiles (mxu_tile.sv, weight-stationary, and
// mxu_os_tile.sv, output-stationary): runs one GEMM packet's fields clock by clock and returns
// the tile's busy cycles. The Verilator headers stay inside
// mxu_rtl.cpp; users see only this class.
#pragma once

#include <cstdint>
#include <memory>

namespace accelvp::rtl {

// The SRAM the tile reads and writes (through DPI-C): the cluster SRAM in the simulator, a
// byte vector in the testbench. Addresses are byte offsets; 32-bit values are little-endian.
class sram_backend {
public:
    virtual ~sram_backend() = default;
    virtual uint8_t rd8(uint64_t addr) = 0;
    virtual uint32_t rd32(uint64_t addr) = 0;
    virtual void wr32(uint64_t addr, uint32_t value) = 0;
};

// Array and port configuration (compute.array_rows / array_cols / sram_bytes_per_cycle /
// gemm_setup_cycles).
struct mxu_config {
    uint32_t rows = 32, cols = 32;
    uint32_t sram_bytes_per_cycle = 256;
    uint32_t setup_cycles = 16;
    bool exit_tap = true;  // partial sums leave from the block's last row (false: from row R - 1)
};

// One GEMM packet's fields, addresses and leading dimensions in bytes / elements as in
// aax_pkt_gemm (leading dimensions resolved: never 0).
struct mxu_job {
    uint32_t m = 0, n = 0, k = 0;
    uint32_t a_addr = 0, b_addr = 0, c_addr = 0;
    uint32_t lda = 0, ldb = 0, ldc = 0;
    bool accumulate = false, b_trans = false;
    bool data = true;                    // false: timing only, the SRAM is not touched
    uint32_t in_bytes = 1, out_bytes = 4;  // element sizes the SRAM ports charge
    bool os = false;                     // output-stationary (mxu_os_tile) instead of weight-stationary
};

class mxu_rtl {
public:
    // The Verilated array's size and accumulator depth (rtl-models/CMakeLists.txt).
    static const uint32_t max_rows, max_cols, acc_rows;

    mxu_rtl();
    ~mxu_rtl();
    mxu_rtl(const mxu_rtl&) = delete;
    mxu_rtl& operator=(const mxu_rtl&) = delete;

    // Whether the tile can run this job with this configuration: rows/cols within the array,
    // m within the accumulator buffer when k needs more than one block (weight-stationary).
    // Empty when it can, else the reason.
    static const char* unsupported(const mxu_config& cfg, const mxu_job& job);

    // Run one job to completion; returns the tile's busy cycles (start to last C value).
    uint64_t run(const mxu_config& cfg, const mxu_job& job, sram_backend* sram);

    // Clock cycles simulated so far (jobs and reset).
    uint64_t clocks() const { return clocks_; }

private:
    template <class M> uint64_t run_model(M& t, const mxu_config& cfg, const mxu_job& job, sram_backend* sram);
    template <class M> void tick(M& t);
    struct impl;
    std::unique_ptr<impl> d_;
    uint64_t clocks_ = 0;
};

} // namespace accelvp::rtl
