// Page-table walker of the MMU: walks the 4-level radix tree of abi/aax_mmu.h for one
// virtual address. Every PTE read is an 8-byte TLM read through the walker's own
// initiator socket, so walks take memory time (and contend) like any other access.
//
// A walk cache keeps the addresses of recently used next-level tables, keyed by
// (ASID, level, VA bits above that level); a walk starts at the deepest cached table,
// so a miss near recent translations costs one or two reads instead of four.
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "tlm/core/stats.h"
#include "tlm/mmu/tlb.h"

namespace accelvp {

class page_table_walker : public sc_core::sc_module {
public:
    tlm_utils::simple_initiator_socket<page_table_walker> socket;

    struct result {
        uint8_t fault = 0;  // enum aax_mmu_fault_type; 0 = translation valid
        uint8_t level = 0;  // level of the entry that ended the walk
        translation t;
        unsigned reads = 0;  // PTEs read
    };

    page_table_walker(sc_core::sc_module_name name, uint32_t walk_cache_entries);
    ~page_table_walker() override;

    // Walk the table rooted at `root` for va (< 2^48), starting at `delay` (local
    // offset); delay grows by the PTE reads. Permissions are not checked here.
    result walk(uint16_t asid, uint64_t root, uint64_t va, sc_core::sc_time& delay);

    void invalidate_all();
    void invalidate_asid(uint16_t asid);

private:
    struct wc_entry {
        bool valid = false;
        uint16_t asid = 0;
        uint8_t level = 0;    // level of the cached table (1..3)
        uint64_t prefix = 0;  // va bits above that level
        uint64_t table = 0;
        uint64_t used = 0;
    };
    static uint64_t prefix_of(uint64_t va, unsigned level) { return va >> (48 - 9 * level); }
    void wc_insert(uint16_t asid, unsigned level, uint64_t va, uint64_t table);

    std::vector<wc_entry> wc_;
    uint64_t tick_ = 0;

    counter walks_{"walks", "page-table walks"};
    counter pte_reads_{"pte_reads", "page-table entries read from memory"};
    counter wc_hits_{"walk_cache_hits", "walks that started below the root thanks to the walk cache"};
    average walk_ns_{"walk_latency_ns", "duration of a page-table walk (ns)"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

} // namespace accelvp
