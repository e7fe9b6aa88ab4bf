// Functional access of the compute engines to their cluster's SRAM. The cluster SRAM is the
// banked scratchpad of tlm/mem/sram.h: the DMA's bus traffic into it pays bank and port
// time; the engines' own operand traffic is inside their analytic cycles.
#pragma once

#include <cstdint>
#include <vector>

#include "tlm/mem/sram.h"
#include "tlm/mem/sparse_store.h"

namespace accelvp {

using cluster_sram = sram;

// Strided matrix reads/writes of rows x row_bytes at `addr` with `stride` bytes between
// row starts. Callers have checked the ranges against the SRAM size.
class sram_port {
public:
    explicit sram_port(sparse_store& s) : s_(s) {}
    uint64_t size() const { return s_.size(); }
    void read_rows(uint64_t addr, uint64_t rows, uint64_t row_bytes, uint64_t stride, uint8_t* dst) const {
        if (stride == row_bytes) return s_.read(addr, dst, rows * row_bytes);
        for (uint64_t r = 0; r < rows; ++r) s_.read(addr + r * stride, dst + r * row_bytes, row_bytes);
    }
    void write_rows(uint64_t addr, uint64_t rows, uint64_t row_bytes, uint64_t stride, const uint8_t* src) {
        if (stride == row_bytes) return s_.write(addr, src, rows * row_bytes);
        for (uint64_t r = 0; r < rows; ++r) s_.write(addr + r * stride, src + r * row_bytes, row_bytes);
    }
    // True if a rows x row_bytes operand with this stride lies inside the SRAM.
    bool fits(uint64_t addr, uint64_t rows, uint64_t row_bytes, uint64_t stride) const {
        const unsigned __int128 end = static_cast<unsigned __int128>(rows - 1) * stride + row_bytes + addr;
        return end <= s_.size();
    }

private:
    sparse_store& s_;
};

} // namespace accelvp
