#include "tlm/mem/address_mapping.h"

#include <array>
#include <sstream>

#include <fmt/format.h>

namespace accelvp {

namespace {
const char* const field_names[] = {"st", "ch", "pc", "bg", "ba", "ro", "co"};

bool is_pow2(uint64_t v) { return v && !(v & (v - 1)); }
uint32_t log2u(uint64_t v) {
    uint32_t s = 0;
    while ((1ull << s) < v) ++s;
    return s;
}
} // namespace

address_mapping::address_mapping(const std::string& spec, const dram_params& p) : spec_(spec) {
    auto fail = [&](const std::string& m) {
        throw config_error(fmt::format("config error: mem.dram.mapping = '{}': {}", spec, m));
    };
    const uint32_t bb = p.burst_bytes();
    burst_shift_ = log2u(bb);
    channels_ = p.org.channels;
    const uint64_t cols = p.org.row_bytes / bb;
    const uint64_t per_row_all = static_cast<uint64_t>(p.org.stacks) * p.org.channels * p.org.units() *
                                 p.org.bank_groups * p.org.banks_per_group * p.org.row_bytes;
    rows_ = std::max<uint64_t>(1, (p.org.size + per_row_all - 1) / per_row_all);
    // Ranks are decoded with the pseudo-channels (field 'pc', or its alias 'ra'): the
    // controller sees pseudo-channels x ranks units.
    const std::array<uint64_t, n_fields> count = {p.org.stacks, p.org.channels,         p.org.units(),
                                                  p.org.bank_groups, p.org.banks_per_group, rows_, cols};

    // Parse MSB -> LSB.
    struct token {
        field f;
        int bits;  // -1: the rest
    };
    std::vector<token> toks;
    std::string s;
    std::istringstream in(spec);
    while (std::getline(in, s, '-')) {
        if (s.empty()) fail("empty field (two '-' in a row?)");
        int bits = -1;
        const auto colon = s.find(':');
        std::string name = s.substr(0, colon);
        if (colon != std::string::npos) {
            const std::string b = s.substr(colon + 1);
            if (b.empty() || b.find_first_not_of("0123456789") != std::string::npos || b.size() > 2)
                fail("bad width in '" + s + "' (expected e.g. co:2)");
            bits = std::stoi(b);
            if (bits < 1 || bits > 40) fail("width out of range in '" + s + "'");
        }
        int f = -1;
        for (int i = 0; i < n_fields; ++i)
            if (name == field_names[i]) f = i;
        if (name == "ra") f = PC;  // ranks: decoded with the pseudo-channels
        if (f < 0) fail("unknown field '" + name + "' (fields: st ch pc (or ra) bg ba ro co)");
        toks.push_back({static_cast<field>(f), bits});
    }
    if (toks.empty()) fail("no fields");

    // Assign radices LSB -> MSB.
    std::array<uint64_t, n_fields> used{};  // product of radices assigned so far
    used.fill(1);
    std::array<int, n_fields> last_open{};  // index (in toks) of the MSB-most piece without width
    last_open.fill(-1);
    for (size_t i = 0; i < toks.size(); ++i)
        if (toks[i].bits < 0) last_open[toks[i].f] = static_cast<int>(i);
    for (int i = static_cast<int>(toks.size()) - 1; i >= 0; --i) {
        const token& t = toks[static_cast<size_t>(i)];
        piece pc{t.f, 0, 0, true, 0, 0};
        pc.weight = static_cast<uint32_t>(used[t.f]);
        const bool top_row = (i == 0 && t.f == RO && t.bits < 0);
        if (t.bits >= 0) {
            pc.radix = 1ull << t.bits;
        } else if (t.f == RO && top_row) {
            pc.radix = 0;
        } else {
            if (i != last_open[t.f]) fail(fmt::format("field '{}' appears twice without a width", field_names[t.f]));
            if (count[t.f] % used[t.f])
                fail(fmt::format("{} values of '{}' do not split into pieces of {}", count[t.f], field_names[t.f],
                                 used[t.f]));
            pc.radix = count[t.f] / used[t.f];
        }
        if (pc.radix) {
            used[t.f] *= pc.radix;
            if (used[t.f] > count[t.f] && !(t.f == RO))
                fail(fmt::format("field '{}' has {} values but the pieces give {}", field_names[t.f], count[t.f],
                                 used[t.f]));
            pc.pow2 = is_pow2(pc.radix);
            pc.shift = log2u(pc.radix);
            if (!pc.pow2) pc.magic = static_cast<uint64_t>(((static_cast<unsigned __int128>(1) << 64) - 1) / pc.radix + 1);
            all_pow2_ = all_pow2_ && pc.pow2;
        } else {
            used[t.f] = count[t.f];
        }
        if (pc.radix != 1) pieces_.push_back(pc);
    }
    for (int f = 0; f < n_fields; ++f)
        if (used[f] < count[f] && f != RO)
            fail(fmt::format("field '{}' ({} values) is missing or too narrow", field_names[f], count[f]));
    if (used[RO] < rows_ && !(!pieces_.empty() && pieces_.back().f == RO && pieces_.back().radix == 0)) {
        // The row pieces cover fewer rows than the capacity needs.
        fail(fmt::format("the row field covers {} rows but the capacity needs {}", used[RO], rows_));
    }
    int seen[n_fields] = {};
    fast_ = true;
    uint32_t pos = 0;
    for (const piece& pc : pieces_) {
        if (seen[pc.f]++) fast_ = false;
        if (pc.radix && !pc.pow2) {
            if (div_f_ >= 0) fast_ = false;
            div_f_ = pc.f;
            div_shift_ = pos;
            div_radix_ = pc.radix;
            div_magic_ = pc.magic;
            field_[pc.f] = {2, 0, ~0ull};
            pos = 0;
            continue;
        }
        // A top row piece (radix 0) takes every bit above it.
        field_[pc.f] = {static_cast<uint8_t>(div_f_ < 0 ? 0 : 1), static_cast<uint8_t>(pos),
                        pc.radix ? pc.radix - 1 : ~0ull};
        pos += pc.shift;
    }
}

dram_coord address_mapping::decode_slow(uint64_t addr) const {
    uint64_t a = addr >> burst_shift_;
    uint32_t v[n_fields] = {};
    if (all_pow2_) {
        for (const piece& p : pieces_) {
            if (!p.radix) {
                v[p.f] += static_cast<uint32_t>(a) * p.weight;
                a = 0;
                break;
            }
            v[p.f] += static_cast<uint32_t>(a & (p.radix - 1)) * p.weight;
            a >>= p.shift;
        }
    } else {
        for (const piece& p : pieces_) {
            if (!p.radix) {
                v[p.f] += static_cast<uint32_t>(a) * p.weight;
                a = 0;
                break;
            }
            if (p.pow2) {
                v[p.f] += static_cast<uint32_t>(a & (p.radix - 1)) * p.weight;
                a >>= p.shift;
            } else {
                const uint64_t q = static_cast<uint64_t>((static_cast<unsigned __int128>(a) * p.magic) >> 64);
                v[p.f] += static_cast<uint32_t>(a - q * p.radix) * p.weight;
                a = q;
            }
        }
    }
    dram_coord c;
    c.stack = v[ST];
    c.channel = v[CH];
    c.pc = v[PC];
    c.bg = v[BG];
    c.bank = v[BA];
    c.row = v[RO];
    c.col = v[CO];
    return c;
}

} // namespace accelvp
