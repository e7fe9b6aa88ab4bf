#include "tlm/mmu/tlb.h"

#include "abi/aax_mmu.h"

namespace accelvp {

tlb::tlb(const params& p) : p_(p) {
    a4k_.sets = p.sets;
    a4k_.ways = p.ways;
    a4k_.shift = 12;
    a4k_.e.resize(static_cast<size_t>(p.sets) * p.ways);
    a2m_.sets = p.entries_2m ? 1 : 0;
    a2m_.ways = p.entries_2m;
    a2m_.shift = 21;
    a2m_.e.resize(p.entries_2m);
}

void tlb::register_stats(stats_group& owner) { owner.add({&hits, &misses, &evictions, &invalidated}); }

tlb::entry* tlb::array::find(uint16_t asid, uint64_t vpn) {
    if (!sets) return nullptr;
    entry* set = &e[static_cast<size_t>(vpn % sets) * ways];
    for (uint32_t w = 0; w < ways; ++w)
        if (set[w].valid && set[w].asid == asid && set[w].vpn == vpn) return &set[w];
    return nullptr;
}

tlb::entry& tlb::array::victim(uint64_t vpn, bool& evicts) {
    entry* set = &e[static_cast<size_t>(vpn % sets) * ways];
    entry* v = &set[0];
    for (uint32_t w = 0; w < ways; ++w) {
        if (!set[w].valid) {
            evicts = false;
            return set[w];
        }
        if (set[w].used < v->used) v = &set[w];
    }
    evicts = true;
    return *v;
}

bool tlb::lookup(uint16_t asid, uint64_t va, translation& out) {
    entry* hit = a2m_.find(asid, va >> 21);
    if (!hit) hit = a4k_.find(asid, va >> 12);
    if (!hit) {
        ++misses;
        return false;
    }
    hit->used = ++tick_;
    out = hit->t;
    ++hits;
    return true;
}

void tlb::insert(uint16_t asid, uint64_t va, const translation& t_in) {
    translation t = t_in;
    array* a = &a2m_;
    if (t.page_size != AAX_PAGE_2M || !a2m_.sets) {
        if (t.page_size == AAX_PAGE_2M) {  // no 2 MiB entries: keep the 4 KiB piece in use
            t.va_page = va & ~(AAX_PAGE_4K - 1);
            t.pa_page = t_in.pa(t.va_page);
            t.page_size = AAX_PAGE_4K;
        }
        a = &a4k_;
    }
    const uint64_t vpn = t.va_page >> a->shift;
    entry* e = a->find(asid, vpn);
    if (!e) {
        bool evicts = false;
        e = &a->victim(vpn, evicts);
        if (evicts) ++evictions;
    }
    e->valid = true;
    e->asid = asid;
    e->vpn = vpn;
    e->t = t;
    e->used = ++tick_;
}

void tlb::invalidate_all() {
    for (array* a : {&a4k_, &a2m_})
        for (auto& e : a->e)
            if (e.valid) {
                e.valid = false;
                ++invalidated;
            }
}

void tlb::invalidate_asid(uint16_t asid) {
    for (array* a : {&a4k_, &a2m_})
        for (auto& e : a->e)
            if (e.valid && e.asid == asid) {
                e.valid = false;
                ++invalidated;
            }
}

void tlb::invalidate_va(uint16_t asid, uint64_t va) {
    for (array* a : {&a4k_, &a2m_})
        if (entry* e = a->find(asid, va >> a->shift)) {
            e->valid = false;
            ++invalidated;
        }
}

} // namespace accelvp
