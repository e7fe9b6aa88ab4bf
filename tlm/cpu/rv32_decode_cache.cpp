// RV32 core: the predecoded code pages (decode cache) and the DMI regions and load/store
// translations they and the interpreter's fast paths use.
#include "tlm/cpu/rv32_core.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "tlm/cpu/rv32_core_internal.h"
#include "tlm/cpu/rv32_jit.h"

namespace accelvp {

using rv32::op;
using rv32::x0_sink;
using namespace rv32_internal;

// ---------------------------------------------------------------------------------------
// Code pages

rv32_core::code_page* rv32_core::code_page_for(uint32_t pc) {
    auto& p = pages_[pc >> page_bits];
    if (p && p->host) return p.get();
    uint8_t* host = dmi_lookup(pc & page_mask, 1u << page_bits, false);
    if (!host) return nullptr;  // not DMI memory: fetch through the bus every time
    if (!p) {
        p = std::make_unique<code_page>();
        p->number = pc >> page_bits;
    }
    p->host = reinterpret_cast<uintptr_t>(host);
    host_pages_.push_back(pc >> page_bits);
    return p.get();
}

void rv32_core::activate(code_page& p, uint32_t page_addr) {
    p.active = true;
    if (active_pages_.size() >= (1u << 16)) {  // self-modifying code re-activates pages: drop stale entries
        std::sort(active_pages_.begin(), active_pages_.end());
        active_pages_.erase(std::unique(active_pages_.begin(), active_pages_.end()), active_pages_.end());
        active_pages_.erase(std::remove_if(active_pages_.begin(), active_pages_.end(),
                                           [&](uint32_t n) {
                                               const code_page* p = pages_.find(n);
                                               return !p || !p->active;
                                           }),
                            active_pages_.end());
    }
    active_pages_.push_back(page_addr >> page_bits);
    // From now on stores into this page take the slow path, which invalidates it.
    tlb_entry& w = wtlb_[(page_addr >> page_bits) % tlb_size];
    if (w.tag == page_addr) w = tlb_entry{};
}

void rv32_core::jit_drop_page(code_page& p) {
    if (jit_) jit_->drop_page(p.number);
}

void rv32_core::reset_page(code_page& p) {
    jit_drop_page(p);
    std::fill(std::begin(p.slot), std::end(p.slot), insn{});
    p.active = false;
    ++code_flushes_;
}

// Not inlined: it would change how the compiler lays out the interpreter loop (measured:
// inlined into execute(), a two-instruction guest loop ran 3x slower).
__attribute__((noinline)) bool rv32_core::fetch_uncached(uint32_t pc, uint32_t& raw) {
    if (!breakpoints_.empty() && breakpoint_stop()) return false;
    return fetch_slow(pc, raw);
}

bool rv32_core::decode_slot(code_page& p, insn& out) {
    const uint32_t pc = pc_, off = pc & ~page_mask;
    uint32_t raw = 0;
    // A breakpoint: stop, or (resuming from it) execute without caching the slot.
    const bool at_breakpoint = !breakpoints_.empty() && breakpoints_.count(pc);
    if (at_breakpoint && breakpoint_stop()) return false;
    if (!p.host || at_breakpoint) {  // DMI was withdrawn, or a breakpoint
        if (!fetch_slow(pc, raw)) return false;
        out = rv32::decode(raw);
        return true;
    }
    if (!p.active) activate(p, pc & page_mask);
    const auto* h = reinterpret_cast<const uint8_t*>(p.host + off);
    uint16_t lo;
    std::memcpy(&lo, h, 2);
    if (!rv32::is_32bit(lo)) {
        raw = lo;
    } else if (off == (1u << page_bits) - 2) {  // straddles two pages: decode every time
        if (!fetch_slow(pc, raw)) return false;
        out = rv32::decode(raw);
        return true;
    } else {
        std::memcpy(&raw, h, 4);
    }
    out = rv32::decode(raw);
    p.slot[off >> 1] = out;
    return true;
}

namespace {
// Ops that may continue a block: they fall through to pc + len and have no slow path
// other than loads/stores (whose slow path ends the block). Everything else ends it.
bool straight_line(op o) {
    switch (o) {
    case op::lui: case op::auipc:
    case op::lb: case op::lh: case op::lw: case op::lbu: case op::lhu: case op::sb: case op::sh: case op::sw:
    case op::addi: case op::slti: case op::sltiu: case op::xori: case op::ori: case op::andi:
    case op::slli: case op::srli: case op::srai:
    case op::add: case op::sub: case op::sll: case op::slt: case op::sltu: case op::xor_: case op::srl:
    case op::sra: case op::or_: case op::and_:
    case op::mul: case op::mulh: case op::mulhsu: case op::mulhu: case op::div: case op::divu: case op::rem:
    case op::remu: case op::fence:
        return true;
    default:
        return false;
    }
}
} // namespace

void rv32_core::build_block(code_page& p, uint32_t pc) {
    // The head slot is decoded and cached (the caller checked), so the page is active
    // and has a host pointer: stores into it reset the whole page, blocks included.
    const uint32_t page_addr = pc & page_mask;
    uint32_t off = pc & ~page_mask;
    unsigned k = 0, nmul = 0, ndiv = 0;
    const auto* host = reinterpret_cast<const uint8_t*>(p.host);
    for (;;) {
        if (k && !breakpoints_.empty() && breakpoints_.count(page_addr + off)) break;  // keep it a slow-path stop
        insn& s = p.slot[off >> 1];
        if (s.code == op::decode) {
            uint16_t lo;
            std::memcpy(&lo, host + off, 2);
            uint32_t raw = lo;
            if (rv32::is_32bit(lo)) {
                if (off == (1u << page_bits) - 2) break;  // straddles the page end: never cached
                std::memcpy(&raw, host + off, 4);
            }
            const uint8_t r = s.run, m = s.nmul, d = s.ndiv;
            s = rv32::decode(raw);
            s.run = r, s.nmul = m, s.ndiv = d;
        }
        ++k;
        switch (s.code) {
        case op::mul: case op::mulh: case op::mulhsu: case op::mulhu: ++nmul; break;
        case op::div: case op::divu: case op::rem: case op::remu: ++ndiv; break;
        default: break;
        }
        off += s.len;
        if (!straight_line(s.code) || off >= (1u << page_bits) || k == 255) break;
    }
    insn& head = p.slot[(pc & ~page_mask) >> 1];
    head.run = static_cast<uint8_t>(k);
    head.nmul = static_cast<uint8_t>(nmul);
    head.ndiv = static_cast<uint8_t>(ndiv);
}

void rv32_core::clear_blocks(code_page& p) {
    jit_drop_page(p);
    for (insn& s : p.slot) s.run = 0;
}

void rv32_core::fence_i() {
    for (uint32_t n : active_pages_)
        if (auto* p = pages_.find(n); p && p->active) reset_page(*p);
    active_pages_.clear();
}

// ---------------------------------------------------------------------------------------
// DMI regions and the load/store translations

uint8_t* rv32_core::dmi_lookup(uint32_t addr, unsigned size, bool write) {
    const uint64_t last = static_cast<uint64_t>(addr) + size - 1;
    for (int attempt = 0; attempt < 2; ++attempt) {
        for (const auto& d : dmi_) {
            if (addr < d.get_start_address() || last > d.get_end_address()) continue;
            if (write ? !d.is_write_allowed() : !d.is_read_allowed()) continue;
            const uintptr_t offset =
                reinterpret_cast<uintptr_t>(d.get_dmi_ptr()) - static_cast<uintptr_t>(d.get_start_address());
            const uint32_t pa = addr & page_mask;
            if (pa >= d.get_start_address() && static_cast<uint64_t>(pa) + (1u << page_bits) - 1 <= d.get_end_address()) {
                tlb_entry& e = (write ? wtlb_ : rtlb_)[(pa >> page_bits) % tlb_size];
                const code_page* cp = pages_.find(pa >> page_bits);
                if ((!write || !(cp && cp->active)) && ((watchpoints_.empty() && store_hooks_.empty()) || !watched_page(pa)))
                    e = tlb_entry{pa, offset};
            }
            return reinterpret_cast<uint8_t*>(offset + addr);
        }
        if (attempt || dmi_refused(addr >> page_bits)) break;
        tlm::tlm_dmi d;
        init_payload(trans_, write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND, addr, nullptr, 0);
        if (bus->get_direct_mem_ptr(trans_, d) && d.get_start_address() <= addr && last <= d.get_end_address())
            dmi_.push_back(d);
        else
            dmi_refused_.insert(std::lower_bound(dmi_refused_.begin(), dmi_refused_.end(), addr >> page_bits),
                                addr >> page_bits);
    }
    return nullptr;
}

void rv32_core::flush_translations() {
    std::fill(std::begin(rtlb_), std::end(rtlb_), tlb_entry{});
    std::fill(std::begin(wtlb_), std::end(wtlb_), tlb_entry{});
}

void rv32_core::invalidate_dmi(sc_dt::uint64 start, sc_dt::uint64 end) {
    dmi_.erase(std::remove_if(dmi_.begin(), dmi_.end(),
                              [&](const tlm::tlm_dmi& d) {
                                  return d.get_start_address() <= end && start <= d.get_end_address();
                              }),
               dmi_.end());
    flush_translations();
    dmi_refused_.clear();
    // The code pages with a host pointer in [start, end] lose it (walking the few cached pages,
    // not the range: the MMU invalidates the whole address space on every context change).
    host_pages_.erase(std::remove_if(host_pages_.begin(), host_pages_.end(),
                                     [&](uint32_t n) {
                                         const uint64_t first = uint64_t{n} << page_bits;
                                         if (first > end || first + (1u << page_bits) - 1 < start) return false;
                                         code_page* p = pages_.find(n);
                                         if (!p) return true;
                                         p->host = 0;
                                         if (p->active) reset_page(*p);
                                         return true;
                                     }),
                      host_pages_.end());
}

} // namespace accelvp
