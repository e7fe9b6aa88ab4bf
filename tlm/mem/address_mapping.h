// Address mapping: a byte address -> (stack, channel, pseudo-channel, bank group, bank,
// row, column), from a field-order string written MSB to LSB, e.g. the default
// "ro-ba-co-bg-st-pc-ch": consecutive bursts go to consecutive channels (channel
// interleaving), then pseudo-channels, stacks, bank groups, then the columns of a row.
//
// Fields: st ch pc bg ba ro co. A field may be split: "co:2" is 2 bits (4 values) of the
// column; the piece nearest the LSB holds the field's lowest digits, and a field's last
// piece without a width takes what is left of it. Every field with more than one value
// must appear. The offset within one device burst is below all fields. A count that is
// not a power of two (6 stacks) is decoded mixed-radix (divide/modulo), the rest with
// shifts and masks. The row field, when it is the most significant piece, takes all the
// remaining high bits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tlm/mem/dram_timing.h"

namespace accelvp {

struct dram_coord {
    uint32_t stack = 0, channel = 0, pc = 0, bg = 0, bank = 0, row = 0, col = 0;
};

class address_mapping {
public:
    enum field : uint8_t { ST, CH, PC, BG, BA, RO, CO, n_fields };

    // Throws config_error naming the problem.
    address_mapping(const std::string& spec, const dram_params& p);

    // Inline: one call per request on memsim's and the device memory's hot path.
    dram_coord decode(uint64_t addr) const {
        if (!fast_) return decode_slow(addr);
        const uint64_t a = addr >> burst_shift_;
        uint64_t src[3] = {a, 0, 0};  // the digits below the divided field, above it, the divided field
        if (div_f_ >= 0) {
            const uint64_t x = a >> div_shift_;
            const uint64_t q = static_cast<uint64_t>((static_cast<unsigned __int128>(x) * div_magic_) >> 64);
            src[1] = q;
            src[2] = x - q * div_radix_;
        }
        auto get = [&](int f) {
            const fast_field& d = field_[f];
            return static_cast<uint32_t>((src[d.src] >> d.shift) & d.mask);
        };
        dram_coord c;
        c.stack = get(ST);
        c.channel = get(CH);
        c.pc = get(PC);
        c.bg = get(BG);
        c.bank = get(BA);
        c.row = get(RO);
        c.col = get(CO);
        return c;
    }
    // Index of the controller (stack * channels + channel).
    uint32_t controller_of(const dram_coord& c) const { return c.stack * channels_ + c.channel; }
    uint32_t burst_bytes() const { return 1u << burst_shift_; }
    uint64_t rows() const { return rows_; }
    const std::string& spec() const { return spec_; }

private:
    struct piece {
        field f;
        uint64_t radix;   // number of values (0 = unbounded, the top row piece)
        uint32_t shift;   // log2(radix) when a power of two
        bool pow2;
        uint32_t weight;  // multiplier of this piece's digit within its field
        uint64_t magic;   // ceil(2^64 / radix): a / radix as a multiply (exact for a < 2^64 / radix)
    };
    std::string spec_;
    std::vector<piece> pieces_;  // LSB first
    uint32_t burst_shift_ = 5;
    uint32_t channels_ = 1;
    uint64_t rows_ = 1;
    bool all_pow2_ = true;
    dram_coord decode_slow(uint64_t addr) const;
    // Fast path: every field in one piece, at most one of them not a power of two:
    // shift/mask below it, one multiply-divide, shift/mask above it. Per field: which of
    // those three it is taken from, and where (a missing field has mask 0).
    struct fast_field {
        uint8_t src = 0;
        uint8_t shift = 0;
        uint64_t mask = 0;
    };
    bool fast_ = false;
    fast_field field_[n_fields];
    int div_f_ = -1;
    uint32_t div_shift_ = 0;
    uint64_t div_radix_ = 1, div_magic_ = 0;
};

} // namespace accelvp
