#include "tlm/mmu/page_table_walker.h"

#include "abi/aax_mmu.h"
#include "tlm/core/extensions.h"
#include "tlm/core/timeline.h"

namespace accelvp {

page_table_walker::page_table_walker(sc_core::sc_module_name name, uint32_t walk_cache_entries)
    : sc_module(name), socket("socket"), wc_(walk_cache_entries) {
    stats_.add({&walks_, &pte_reads_, &wc_hits_, &walk_ns_});
}

page_table_walker::~page_table_walker() = default;  // stats_ unregisters the stats

void page_table_walker::wc_insert(uint16_t asid, unsigned level, uint64_t va, uint64_t table) {
    if (wc_.empty()) return;
    wc_entry* v = &wc_[0];
    for (auto& e : wc_) {
        if (!e.valid) {
            v = &e;
            break;
        }
        if (e.used < v->used) v = &e;
    }
    *v = wc_entry{true, asid, static_cast<uint8_t>(level), prefix_of(va, level), table, ++tick_};
}

page_table_walker::result page_table_walker::walk(uint16_t asid, uint64_t root, uint64_t va, sc_core::sc_time& delay) {
    result r;
    ++walks_;
    const uint64_t begin = abs_ps(delay);
    // Start at the deepest table the walk cache knows.
    unsigned level = 0;
    uint64_t table = root & AAX_PTE_ADDR_MASK;
    wc_entry* best = nullptr;
    for (auto& e : wc_)
        if (e.valid && e.asid == asid && e.prefix == prefix_of(va, e.level) && (!best || e.level > best->level))
            best = &e;
    if (best) {
        best->used = ++tick_;
        level = best->level;
        table = best->table;
        ++wc_hits_;
    }
    for (;; ++level) {
        uint64_t pte = 0;
        tlm::tlm_generic_payload t;
        init_payload(t, tlm::TLM_READ_COMMAND, table + 8ull * AAX_MMU_INDEX(va, level), &pte, 8);
        socket->b_transport(t, delay);
        ++r.reads;
        ++pte_reads_;
        r.level = static_cast<uint8_t>(level);
        if (t.get_response_status() != tlm::TLM_OK_RESPONSE) {
            r.fault = AAX_MMU_FAULT_WALK;
            break;
        }
        const bool leaf = pte & AAX_PTE_LEAF;
        if (!(pte & AAX_PTE_VALID) || (leaf && level < 2) || (!leaf && level == 3)) {
            r.fault = AAX_MMU_FAULT_NOT_PRESENT;
            break;
        }
        if (leaf) {
            r.t.page_size = level == 3 ? AAX_PAGE_4K : AAX_PAGE_2M;
            r.t.va_page = va & ~(r.t.page_size - 1);
            r.t.pa_page = pte & AAX_PTE_ADDR_MASK & ~(r.t.page_size - 1);
            r.t.perms = pte & (AAX_PTE_READ | AAX_PTE_WRITE | AAX_PTE_EXEC);
            break;
        }
        table = pte & AAX_PTE_ADDR_MASK;
        wc_insert(asid, level + 1, va, table);
    }
    walk_ns_.sample(static_cast<double>(abs_ps(delay) - begin) / 1000.0);
    return r;
}

void page_table_walker::invalidate_all() {
    for (auto& e : wc_) e.valid = false;
}

void page_table_walker::invalidate_asid(uint16_t asid) {
    for (auto& e : wc_)
        if (e.asid == asid) e.valid = false;
}

} // namespace accelvp
