// Translation lookaside buffer of the MMU: caches leaf translations per (ASID, page).
//
// Two arrays, since the page size is only known after a walk: a set-associative array
// of 4 KiB entries (`sets` x `ways`, set = virtual page number mod sets) and a fully
// associative array of 2 MiB entries. Replacement is true LRU within a set (a use
// stamp per entry). With no 2 MiB entries a 2 MiB translation is cached as the one
// 4 KiB piece that was used (splintering). Plain C++ (no SystemC): the MMU adds the
// lookup time.
#pragma once

#include <cstdint>
#include <vector>

#include "tlm/core/stats.h"

namespace accelvp {

// A leaf translation: the page's base virtual and physical addresses, its size and
// the leaf's permission bits (AAX_PTE_READ/WRITE/EXEC).
struct translation {
    uint64_t va_page = 0, pa_page = 0, page_size = 0;
    uint64_t perms = 0;
    uint64_t pa(uint64_t va) const { return pa_page + (va - va_page); }
};

class tlb {
public:
    struct params {
        uint32_t sets = 64;
        uint32_t ways = 4;
        uint32_t entries_2m = 16;
    };
    explicit tlb(const params& p);

    // On a hit fills `out` and makes the entry most recently used.
    bool lookup(uint16_t asid, uint64_t va, translation& out);
    // Caches t, a translation of the access at va (which picks the piece kept when a
    // 2 MiB page is splintered).
    void insert(uint16_t asid, uint64_t va, const translation& t);
    void invalidate_all();
    void invalidate_asid(uint16_t asid);
    void invalidate_va(uint16_t asid, uint64_t va);  // the 4 KiB and 2 MiB entries covering va

    const params& get_params() const { return p_; }
    // Registers the hit/miss/eviction counters under `component`.
    void register_stats(stats_group& owner);  // into the owning module's group

private:
    struct entry {
        bool valid = false;
        uint16_t asid = 0;
        uint64_t vpn = 0;  // va / page size
        translation t;
        uint64_t used = 0;  // LRU stamp
    };
    // One set-associative array: ways entries per set, contiguous.
    struct array {
        uint32_t sets = 0, ways = 0, shift = 0;
        std::vector<entry> e;
        entry* find(uint16_t asid, uint64_t vpn);
        entry& victim(uint64_t vpn, bool& evicts);
    };
    params p_;
    array a4k_, a2m_;
    uint64_t tick_ = 0;

public:
    counter hits{"tlb_hits", "translations found in the TLB"};
    counter misses{"tlb_misses", "translations that needed a page-table walk"};
    counter evictions{"tlb_evictions", "valid TLB entries replaced by a new one"};
    counter invalidated{"tlb_invalidated", "TLB entries dropped by invalidation"};
};

} // namespace accelvp
