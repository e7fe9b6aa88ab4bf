// DRAM ECC fault injection (fault.dram_*; docs/security.md "Fault injection").
//
// SECDED per 8-byte word, checked on every b_transport read of device memory (the DMA
// engines, the queue manager, PCIe reads, the control core's non-DMI accesses; DMI reads
// -- instruction fetch, cached host accesses -- are not checked):
//   - a single-bit error is corrected: the data is right, the `ecc_corrected` counter of
//     the memory (and of the word's channel with the DRAM model) counts it;
//   - a double-bit error is uncorrectable: the read answers TLM_GENERIC_ERROR_RESPONSE and,
//     if the initiator attached an ecc_ext, the word's offset in the transaction, so a DMA
//     engine fails its job with AAX_ERR_ECC_UE at that address. `ecc_uncorrectable` counts it.
// Random errors (fault.dram_*_per_gib) are read-path (soft) errors: the stored data is
// intact and a later read may succeed. Targeted words (fault.dram_*_addr) are hard faults
// (stuck cells): every read of the word sees the error, writes do not repair it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <tlm>

#include "tlm/core/extensions.h"
#include "tlm/core/fault.h"
#include "tlm/core/stats.h"

namespace accelvp {

class ecc_injector {
public:
    static constexpr uint64_t word = 8;

    // `base`: chip bus address of local address 0; `channels`/`channel_of`: per-channel
    // counters under "<name>.ch<i>" (channels = 0: only the memory's own counters).
    ecc_injector(std::string name, const fault_params& f, uint64_t base, uint32_t channels = 0,
                 std::function<uint32_t(uint64_t)> channel_of = {})
        : name_(std::move(name)), f_(f), rng_(f.seed, name_ + ".ecc"), channel_of_(std::move(channel_of)) {
        if (f.dram_sbe_addr >= 0 && static_cast<uint64_t>(f.dram_sbe_addr) >= base)
            sbe_word_ = (static_cast<uint64_t>(f.dram_sbe_addr) - base) & ~(word - 1);
        if (f.dram_dbe_addr >= 0 && static_cast<uint64_t>(f.dram_dbe_addr) >= base)
            dbe_word_ = (static_cast<uint64_t>(f.dram_dbe_addr) - base) & ~(word - 1);
        stats_.add({&corrected_, &uncorrectable_});
        for (uint32_t i = 0; i < channels; ++i) {
            ch_corrected_.push_back(std::make_unique<counter>("ecc_corrected", "single-bit errors corrected"));
            ch_uncorrectable_.push_back(std::make_unique<counter>("ecc_uncorrectable", "double-bit errors reported"));
            stats_.add("ch" + std::to_string(i), *ch_corrected_.back());
            stats_.add("ch" + std::to_string(i), *ch_uncorrectable_.back());
        }
    }
    ecc_injector(const ecc_injector&) = delete;
    ecc_injector& operator=(const ecc_injector&) = delete;

    uint64_t corrected() const { return corrected_.get(); }
    uint64_t uncorrectable() const { return uncorrectable_.get(); }
    uint64_t corrected_on(uint32_t ch) const { return ch < ch_corrected_.size() ? ch_corrected_[ch]->get() : 0; }
    uint64_t uncorrectable_on(uint32_t ch) const {
        return ch < ch_uncorrectable_.size() ? ch_uncorrectable_[ch]->get() : 0;
    }

    // A checked read or write of [a, a + n) (local addresses): returns false (and sets the
    // response and the ecc_ext) when the read hit an uncorrectable error.
    bool access(tlm::tlm_generic_payload& t) {
        const uint64_t a = t.get_address(), n = t.get_data_length();
        if (n == 0) return true;
        if (!t.is_read()) return true;  // writes store; a stuck cell stays stuck
        if (covers(a, n, sbe_word_)) count_sbe(sbe_word_);
        if (f_.dram_sbe_per_gib > 0 && rng_.chance(static_cast<double>(n) / gib * f_.dram_sbe_per_gib))
            count_sbe(pick(a, n));
        uint64_t bad = none;
        if (covers(a, n, dbe_word_)) bad = dbe_word_;
        if (f_.dram_dbe_per_gib > 0 && rng_.chance(static_cast<double>(n) / gib * f_.dram_dbe_per_gib)) {
            const uint64_t w = pick(a, n);
            if (bad == none || w < bad) bad = w;
        }
        if (bad == none) return true;
        ++uncorrectable_;
        if (!ch_uncorrectable_.empty()) ++*ch_uncorrectable_[channel(bad)];
        if (auto* e = t.get_extension<ecc_ext>()) {
            e->uncorrectable = true;
            e->offset = bad > a ? bad - a : 0;
        }
        t.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        return false;
    }

private:
    static constexpr uint64_t none = ~uint64_t{0};
    static constexpr double gib = 1024.0 * 1024.0 * 1024.0;
    static bool covers(uint64_t a, uint64_t n, uint64_t w) { return w != none && w + word > a && w < a + n; }
    uint64_t pick(uint64_t a, uint64_t n) {
        const uint64_t first = a & ~(word - 1), words = (a + n - first + word - 1) / word;
        return first + (rng_.next() % words) * word;
    }
    uint32_t channel(uint64_t w) const {
        const uint32_t c = channel_of_ ? channel_of_(w) : 0;
        return std::min<uint32_t>(c, static_cast<uint32_t>(ch_corrected_.size()) - 1);
    }
    void count_sbe(uint64_t w) {
        ++corrected_;
        if (!ch_corrected_.empty()) ++*ch_corrected_[channel(w)];
    }

    std::string name_;
    fault_params f_;
    fault_stream rng_;
    std::function<uint32_t(uint64_t)> channel_of_;
    uint64_t sbe_word_ = none, dbe_word_ = none;
    counter corrected_{"ecc_corrected", "single-bit errors corrected by ECC (injected, fault.dram_sbe_*)"};
    counter uncorrectable_{"ecc_uncorrectable", "double-bit errors reported uncorrectable (injected, fault.dram_dbe_*)"};
    std::vector<std::unique_ptr<counter>> ch_corrected_, ch_uncorrectable_;
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{name_};
};

} // namespace accelvp
