// RV32 core: the debugger interface (GDB server, tests).
#include "tlm/cpu/rv32_core.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "tlm/cpu/rv32_core_internal.h"

namespace accelvp {

using rv32::op;
using rv32::x0_sink;
using namespace rv32_internal;

// ---------------------------------------------------------------------------------------
// Debugger: breakpoints, watchpoints, debug memory access, halt requests, injected exceptions

void rv32_core::enter_debugger() {
    debug_pending_ = false;
    stepping_ = false;
    if (!debugger_) return;
    // No wait() here: the simulation stands still while the debugger holds the core.
    const auto r = debugger_->stopped(debug_reason_);
    bp_skip_step_ = instret_ + traps_taken_;  // the instruction at pc runs even if it has a breakpoint
    if (r == rv32_debugger_if::resume::kill) {
        halt(halt_reason::debugger);
        return;
    }
    stepping_ = r == rv32_debugger_if::resume::step && debugger_;
}

void rv32_core::debug_break() {
    debug_pending_ = true;
    debug_reason_ = rv32_debugger_if::stop_reason::requested;
    attention();
    irq_event_.notify(sc_core::SC_ZERO_TIME);  // a core asleep in wfi wakes up to stop (wfi may end early)
}

void rv32_core::add_breakpoint(uint32_t addr) {
    addr &= ~1u;
    breakpoints_.insert(addr);
    // Un-decode the slot so the next fetch there takes the slow path, which checks.
    // Blocks of the page that run through it are forgotten too.
    if (auto* p = pages_.find(addr >> page_bits)) {
        p->slot[(addr & ~page_mask) >> 1] = insn{};
        clear_blocks(*p);
    }
}

void rv32_core::remove_breakpoint(uint32_t addr) { breakpoints_.erase(addr & ~1u); }

void rv32_core::clear_breakpoints() { breakpoints_.clear(); }

void rv32_core::add_watchpoint(uint32_t addr, uint32_t len, watch_kind kind) {
    if (len == 0) len = 1;
    watchpoints_.push_back({addr, len, kind});
    // Drop the pages from the DMI TLBs: their accesses now take the slow path, which checks.
    const uint64_t last = std::min<uint64_t>(uint64_t{addr} + len - 1, UINT32_MAX);
    for (uint64_t pa = addr & page_mask; pa <= last; pa += 1u << page_bits)
        for (tlb_entry* t : {rtlb_, wtlb_})
            if (tlb_entry& e = t[(pa >> page_bits) % tlb_size]; e.tag == pa) e = tlb_entry{};
}

void rv32_core::remove_watchpoint(uint32_t addr, uint32_t len, watch_kind kind) {
    if (len == 0) len = 1;
    for (auto it = watchpoints_.begin(); it != watchpoints_.end(); ++it)
        if (it->addr == addr && it->len == len && it->kind == kind) {
            watchpoints_.erase(it);
            return;
        }
}

bool rv32_core::watched_page(uint32_t page_addr) const {
    for (const auto& w : watchpoints_)
        if (uint64_t{w.addr} + w.len > page_addr && w.addr < uint64_t{page_addr} + (1u << page_bits)) return true;
    for (const auto& h : store_hooks_)
        if (uint64_t{h.addr} + h.len > page_addr && h.addr < uint64_t{page_addr} + (1u << page_bits)) return true;
    return false;
}

void rv32_core::add_store_hook(uint32_t addr, uint32_t len, std::function<void()> f) {
    if (len == 0) len = 1;
    store_hooks_.push_back({addr, len, std::move(f)});
    const uint64_t last = std::min<uint64_t>(uint64_t{addr} + len - 1, UINT32_MAX);
    for (uint64_t pa = addr & page_mask; pa <= last; pa += 1u << page_bits)
        for (tlb_entry* t : {rtlb_, wtlb_})
            if (tlb_entry& e = t[(pa >> page_bits) % tlb_size]; e.tag == pa) e = tlb_entry{};
}

void rv32_core::run_store_hooks(uint32_t addr, unsigned size) {
    for (const auto& h : store_hooks_)
        if (uint64_t{addr} + size > h.addr && addr < uint64_t{h.addr} + h.len) h.f();
}

void rv32_core::check_watch(uint32_t addr, unsigned size, bool write) {
    if (!debugger_) return;
    for (const auto& w : watchpoints_) {
        if (uint64_t{addr} + size <= w.addr || addr >= uint64_t{w.addr} + w.len) continue;
        if (w.kind == (write ? watch_kind::read : watch_kind::write)) continue;
        watch_hit_ = {std::max(addr, w.addr), w.kind};
        debug_pending_ = true;  // stops after this instruction
        debug_reason_ = rv32_debugger_if::stop_reason::watchpoint;
        attention();
        return;
    }
}

bool rv32_core::breakpoint_stop() {
    if (!breakpoints_.count(pc_) || instret_ + traps_taken_ == bp_skip_step_) return false;
    debug_pending_ = true;
    debug_reason_ = rv32_debugger_if::stop_reason::breakpoint;
    attention();
    return true;
}

unsigned rv32_core::debug_read(uint32_t addr, void* data, unsigned len) {
    tlm::tlm_generic_payload t;
    init_payload(t, tlm::TLM_READ_COMMAND, addr, data, len);
    return bus->transport_dbg(t);
}

unsigned rv32_core::debug_write(uint32_t addr, const void* data, unsigned len) {
    if (!len) return 0;
    tlm::tlm_generic_payload t;
    init_payload(t, tlm::TLM_WRITE_COMMAND, addr, const_cast<void*>(data), len);
    const unsigned n = bus->transport_dbg(t);
    const uint64_t last = std::min<uint64_t>(uint64_t{addr} + len - 1, UINT32_MAX);
    for (uint64_t pn = addr >> page_bits; pn <= (last >> page_bits); ++pn)
        if (auto* p = pages_.find(pn); p && p->active) reset_page(*p);
    return n;
}

void rv32_core::request_halt() {
    halt_requested_ = true;
    attention();
    irq_event_.notify(sc_core::SC_ZERO_TIME);  // also wakes a sleeping core
}

void rv32_core::inject_exception(uint32_t cause, uint32_t tval) {
    inject_pending_ = true;
    inject_cause_ = cause;
    inject_tval_ = tval;
    attention();
    irq_event_.notify(sc_core::SC_ZERO_TIME);  // also wakes a sleeping core
}

} // namespace accelvp
