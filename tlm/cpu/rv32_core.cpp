// RV32 core: parameters, construction, stats, time, run control, interrupts and traps,
// the memory slow paths and the CSRs. The interpreter loop is rv32_execute.cpp, the
// debugger rv32_debug.cpp, the decode cache and DMI rv32_decode_cache.cpp.
#include "tlm/cpu/rv32_core.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include <nlohmann/json.hpp>

#include "tlm/core/log.h"
#include "tlm/core/timeline.h"
#include "tlm/core/trace.h"
#include "tlm/cpu/rv32_core_internal.h"
#include "tlm/cpu/rv32_jit.h"

namespace accelvp {

using rv32::op;
using rv32::x0_sink;
using namespace rv32_internal;

// ---------------------------------------------------------------------------------------
// Parameters, construction, stats

const param_table<rv32_core::params>& rv32_core::params::table() {
    static const auto t =
        param_table<params>()
            .real("freq_mhz", &params::freq_mhz, 1, 100000, "control core clock", "MHz")
            .real("quantum_ns", &params::quantum_ns, 1, 1e9,
                  "temporal decoupling quantum: how far the core runs ahead of SystemC time (also its interrupt "
                  "latency bound)",
                  "ns")
            .integer("mul_cycles", &params::mul_cycles, 0, 1000, "extra cycles per mul/mulh/mulhsu/mulhu", "cycles")
            .integer("div_cycles", &params::div_cycles, 0, 1000, "extra cycles per div/divu/rem/remu", "cycles")
            .integer("trap_cycles", &params::trap_cycles, 1, 1000, "cycles to enter a trap or interrupt handler",
                     "cycles")
            .integer("hart_id", &params::hart_id, 0, UINT32_MAX, "mhartid")
            .integer("reset_pc", &params::reset_pc, 0, UINT32_MAX, "address of the first instruction")
            .choice("engine", &params::engine, {{"jit", engine_kind::jit}, {"interp", engine_kind::interp}},
                    "execution engine: jit (x86-64 template JIT, the default on x86-64 hosts) or interp (the "
                    "interpreter); both give the same results instruction for instruction");
    return t;
}

rv32_core::params::engine_kind rv32_core::params::default_engine() {
    return rv32_jit::supported() ? engine_kind::jit : engine_kind::interp;
}

void rv32_core::declare(param_schema& s, const std::string& prefix) { params::table().declare(s, prefix); }

rv32_core::params rv32_core::from_config(const config& c, const std::string& prefix) {
    params p = params::table().load(c, prefix);
    if (p.engine == params::engine_kind::jit && !rv32_jit::supported())
        throw config_error(prefix + ".engine: 'jit' needs an x86-64 Linux host; valid values here: interp");
    return p;
}

rv32_core::rv32_core(sc_core::sc_module_name name, const params& p)
    : sc_module(name), bus("bus"), irq_in("irq_in"), time_source("time_source"), p_(p),
      freq_hz_(static_cast<uint64_t>(p.freq_mhz * 1e6 + 0.5)) {
    if (p_.trap_cycles == 0) p_.trap_cycles = 1;  // every step must cost time (see run())
    qk_.quantum = sc_core::sc_time(std::max(p.quantum_ns, 0.001), sc_core::SC_NS);
    pc_ = static_cast<uint32_t>(p.reset_pc);
    irq_in.bind(*this);
    bus.register_invalidate_direct_mem_ptr(this, &rv32_core::invalidate_dmi);
    SC_HAS_PROCESS(rv32_core);
    SC_THREAD(run);
    stats_.add({&instructions_, &cycles_, &exceptions_, &interrupts_, &mmio_, &code_flushes_, &syncs_, &sleep_, &mips_});
}

rv32_core::~rv32_core() = default;  // stats_ unregisters the stats

uint64_t rv32_core::jit_blocks() const { return jit_ ? jit_->blocks_translated() : 0; }

nlohmann::json rv32_core::mips_stat::value(double) const {
    return wall_s > 0 ? static_cast<double>(instructions) / wall_s / 1e6 : 0.0;
}

void rv32_core::update_stats(std::chrono::steady_clock::time_point busy_since) {
    instructions_ += instret_ - reported_instret_;
    reported_instret_ = instret_;
    cycles_ += cycle_ - reported_cycle_;
    reported_cycle_ = cycle_;
    mips_.instructions = instret_;
    mips_.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - busy_since).count();
}

// ---------------------------------------------------------------------------------------
// Time

sc_core::sc_time rv32_core::quantum_keeper::compute_local_quantum() {
    const uint64_t q = std::max<uint64_t>(quantum.value(), 1);
    return ps(q - sc_core::sc_time_stamp().value() % q);
}

uint64_t rv32_core::ps_of_cycle(uint64_t c) const {
    return static_cast<uint64_t>(static_cast<unsigned __int128>(c) * 1000000000000ull / freq_hz_);
}

uint64_t rv32_core::cycle_at_or_after(uint64_t t_ps) const {
    const unsigned __int128 num = static_cast<unsigned __int128>(t_ps) * freq_hz_;
    return static_cast<uint64_t>((num + 999999999999ull) / 1000000000000ull);
}

void rv32_core::sync() {
    const uint64_t now = sc_core::sc_time_stamp().value();
    const uint64_t local = ps_of_cycle(cycle_);
    ++syncs_;
    if (local > now) {
        qk_.set(ps(local - now));
        qk_.sync();  // wait(local offset) + reset
    } else {
        cycle_ = std::max(cycle_, cycle_at_or_after(now));  // SystemC time moved on without us
        qk_.reset();
    }
}

// ---------------------------------------------------------------------------------------
// Run control

void rv32_core::trace_active_end(uint64_t now_ps) {
    if (trace_track_ < 0) trace_track_ = tracer::instance().track(name());
    if (now_ps > active_since_ps_)
        tracer::instance().slice(trace_track_, active_name_, ps(active_since_ps_), ps(now_ps - active_since_ps_), "firmware");
}

void rv32_core::run() {
    const auto started = std::chrono::steady_clock::now();
    cycle_ = std::max(cycle_, cycle_at_or_after(sc_core::sc_time_stamp().value()));
    active_since_ps_ = sc_core::sc_time_stamp().value();
    qk_.reset();
    for (;;) {
        if (halt_requested_) {
            update_stats(started);
            halt(halt_reason::requested);
            continue;
        }
        if (storm_halt_) {
            storm_halt_ = false;
            storm_traps_ = 0;
            update_stats(started);
            halt(halt_reason::trap_storm);
            continue;
        }
        if (step_limit_ && instret_ + traps_taken_ >= step_limit_) {
            update_stats(started);
            halt(halt_reason::step_limit);
            continue;
        }
        if (debug_pending_) {
            update_stats(started);
            enter_debugger();
            continue;
        }
        if (wfi_pending_) {
            sleep_until_interrupt();
            update_stats(started);
            continue;
        }
        if (inject_pending_) {
            inject_pending_ = false;
            take_trap(inject_cause_, inject_tval_);
        }
        const uint64_t steps = instret_ + traps_taken_;
        check_interrupt();
        if (stepping_ && instret_ + traps_taken_ != steps) {  // a single step that entered an interrupt handler
            stepping_ = false;
            debug_pending_ = true;
            debug_reason_ = rv32_debugger_if::stop_reason::step;
            continue;
        }
        const uint64_t sync_cycle = cycle_at_or_after(qk_.next_sync_point().value());
        if (cycle_ >= sync_cycle) {
            sync();
            update_stats(started);
            // Let a debugger interrupt the run now and then (Ctrl-C): cheap, once per 256 quanta.
            if (debugger_ && (++debug_polls_ & 255) == 0 && debugger_->interrupt_requested()) {
                debug_pending_ = true;
                debug_reason_ = rv32_debugger_if::stop_reason::interrupt;
            }
            continue;
        }
        limit_ = sync_cycle;
        // Every step costs at least one cycle, so this bound keeps us within the limit.
        if (step_limit_) limit_ = std::min(limit_, cycle_ + (step_limit_ - instret_ - traps_taken_));
        if (stepping_) limit_ = std::min(limit_, cycle_ + 1);  // one instruction (or trap)
        if (insn_hook_) {  // the instruction trace: one instruction per batch, then the hook
            limit_ = std::min(limit_, cycle_ + 1);
            const uint32_t pc0 = pc_;
            const uint64_t i0 = instret_, t0 = traps_taken_;
            execute();
            if ((instret_ != i0 || traps_taken_ != t0) && !insn_hook_(pc0, traps_taken_ != t0)) insn_hook_ = nullptr;
        } else {
            execute();
        }
        if (stepping_ && instret_ + traps_taken_ != steps) {
            stepping_ = false;
            if (!debug_pending_) {  // (a breakpoint cannot be pending: the step passes the one at pc)
                debug_pending_ = true;
                debug_reason_ = rv32_debugger_if::stop_reason::step;
            }
        }
    }
}

void rv32_core::release(uint32_t pc) {
    if (halted_ != halt_reason::running) {
        halt_requested_ = false;
        inject_pending_ = false;  // a reset core starts clean
        pc_ = pc;
        fence_i();
        resume_event_.notify(sc_core::SC_ZERO_TIME);
    } else if (halt_requested_) {  // not halted yet: the request is withdrawn
        halt_requested_ = false;
        pc_ = pc;
        fence_i();
    } else {
        AVP_LOG(warn, name(), "release(0x{:08x}) ignored: the core is running", pc);
    }
}

void rv32_core::halt(halt_reason why) {
    halt_requested_ = false;
    sync();
    halted_ = why;
    halted_event_.notify(sc_core::SC_ZERO_TIME);
    // Nothing on this stack owns memory here: the platform may kill the thread now.
    if (tracer::instance().enabled()) trace_active_end(sc_core::sc_time_stamp().value());
    wait(resume_event_);
    halted_ = halt_reason::running;
    sync();
    active_since_ps_ = sc_core::sc_time_stamp().value();
    active_name_ = "release";  // out of reset (or a halt)
}

void rv32_core::set_level(unsigned line, bool level) {
    const uint32_t m = (1u << line) & irq_mask;
    if (!m) {
        AVP_LOG(warn, name(), "set_level on unknown interrupt line {}", line);
        return;
    }
    const uint32_t old = mip_;
    mip_ = level ? (mip_ | m) : (mip_ & ~m);
    if (mip_ != old) {
        attention();
        irq_event_.notify(sc_core::SC_ZERO_TIME);
    }
}

bool rv32_core::check_interrupt() {
    const uint32_t pending = mip_ & mie_;
    if (!pending || !(mstatus_ & mstatus_mie)) return false;
    // Priority: external, software, timer.
    const unsigned line = (pending & (1u << irq_meip))   ? irq_meip
                          : (pending & (1u << irq_msip)) ? irq_msip
                                                         : irq_mtip;
    take_trap(interrupt_bit | line, 0);
    return true;
}

void rv32_core::sleep_until_interrupt() {
    wfi_pending_ = false;
    if (mip_ & mie_) return;
    sync();
    const uint64_t t0 = sc_core::sc_time_stamp().value();
    sleeping_ = true;
    while (!(mip_ & mie_) && !halt_requested_ && !inject_pending_ && !debug_pending_) wait(irq_event_);
    sleeping_ = false;
    const uint64_t t1 = sc_core::sc_time_stamp().value();
    sleep_ += static_cast<double>(t1 - t0);
    if (tracer::instance().enabled()) {  // the work before this sleep, the sleep, and what woke the core
        trace_active_end(t0);
        const uint32_t why = mip_ & mie_;
        tracer::instance().slice(trace_track_, "idle (wfi)", ps(t0), ps(t1 - t0), "firmware");
        active_name_ = why & (1u << irq_meip)   ? "irq MEIP"
                       : why & (1u << irq_mtip) ? "irq MTIP"
                       : why & (1u << irq_msip) ? "irq MSIP"
                                                : "wake";
        active_since_ps_ = t1;
    }
    cycle_ = std::max(cycle_, cycle_at_or_after(t1));
    qk_.reset();
}

void rv32_core::take_trap(uint32_t cause, uint32_t tval) {
    mepc_ = pc_;
    mcause_ = cause;
    mtval_ = tval;
    mstatus_ = (mstatus_ & ~(mstatus_mie | mstatus_mpie)) | ((mstatus_ & mstatus_mie) ? mstatus_mpie : 0);
    reservation_valid_ = false;
    const uint32_t base = mtvec_ & ~3u;
    pc_ = ((mtvec_ & 1) && (cause & interrupt_bit)) ? base + 4 * (cause & ~interrupt_bit) : base;
    cycle_ += p_.trap_cycles;
    ++traps_taken_;
    if (storm_limit_) {
        storm_traps_ = instret_ == storm_instret_ ? storm_traps_ + 1 : 1;
        storm_instret_ = instret_;
        if (storm_traps_ >= storm_limit_) {
            storm_halt_ = true;
            attention();
        }
    }
    if (cause & interrupt_bit)
        ++interrupts_;
    else
        ++exceptions_;
    AVP_LOG(trace, name(), "trap mcause=0x{:x} mepc=0x{:08x} mtval=0x{:x} -> 0x{:08x}", cause, mepc_, tval, pc_);
    if (tracer::instance().enabled()) {
        if (trace_track_ < 0) trace_track_ = tracer::instance().track(name());
        tracer::instance().instant(trace_track_, cause & interrupt_bit ? "interrupt" : "exception", local_time(),
                                   fmt::format(R"({{"mcause":"0x{:x}","mepc":"0x{:08x}","mtval":"0x{:x}"}})", cause,
                                               mepc_, tval));
    }
}

// ---------------------------------------------------------------------------------------
// Memory slow paths

bool rv32_core::bus_access(tlm::tlm_command cmd, uint32_t addr, void* data, unsigned size) {
    sync();  // the target sees the access at our local time, with everyone else caught up
    init_payload(trans_, cmd, addr, data, size);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    bus->b_transport(trans_, delay);
    ++mmio_;
    cycle_ = std::max(cycle_, cycle_at_or_after(sc_core::sc_time_stamp().value() + delay.value()));
    if (trans_.is_dmi_allowed()) {
        const auto it = std::lower_bound(dmi_refused_.begin(), dmi_refused_.end(), addr >> page_bits);
        if (it != dmi_refused_.end() && *it == addr >> page_bits) dmi_refused_.erase(it);
    }
    const bool ok = trans_.is_response_ok();
    trans_.set_data_ptr(nullptr);
    return ok;
}

bool rv32_core::fetch_slow(uint32_t pc, uint32_t& raw) {
    raw = 0;
    for (uint32_t part = 0; part < 2; ++part) {
        const uint32_t a = pc + 2 * part;
        uint16_t half = 0;
        if (const uint8_t* h = dmi_lookup(a, 2, false))
            std::memcpy(&half, h, 2);
        else if (!bus_access(tlm::TLM_READ_COMMAND, a, &half, 2)) {
            take_trap(cause_fetch_fault, a);
            return false;
        }
        raw |= static_cast<uint32_t>(half) << (16 * part);
        if (!rv32::is_32bit(raw)) break;
    }
    return true;
}

bool rv32_core::load_slow(uint32_t addr, unsigned size, uint32_t& value, uint32_t misaligned_cause,
                          uint32_t fault_cause) {
    if (addr & (size - 1)) {
        take_trap(misaligned_cause, addr);
        return false;
    }
    value = 0;
    if (!watchpoints_.empty()) check_watch(addr, size, false);
    if (const uint8_t* h = dmi_lookup(addr, size, false)) {
        std::memcpy(&value, h, size);
        return true;
    }
    if (!bus_access(tlm::TLM_READ_COMMAND, addr, &value, size)) {
        take_trap(fault_cause, addr);
        return false;
    }
    return true;
}

bool rv32_core::store_slow(uint32_t addr, unsigned size, uint32_t value) {
    if (addr & (size - 1)) {
        take_trap(cause_store_misaligned, addr);
        return false;
    }
    if (auto* p = pages_.find(addr >> page_bits); p && p->active) reset_page(*p);  // store into code
    if (!watchpoints_.empty()) check_watch(addr, size, true);
    if (uint8_t* h = dmi_lookup(addr, size, true)) {
        std::memcpy(h, &value, size);
    } else if (!bus_access(tlm::TLM_WRITE_COMMAND, addr, &value, size)) {
        take_trap(cause_store_fault, addr);
        return false;
    }
    if (!store_hooks_.empty()) run_store_hooks(addr, size);
    return true;
}

// ---------------------------------------------------------------------------------------
// CSRs

bool rv32_core::read_csr(uint32_t addr, uint32_t& value) const { return csr_read(addr, value); }

bool rv32_core::csr_read(uint32_t a, uint32_t& v) const {
    const uint64_t mcycle = cycle_ + static_cast<uint64_t>(mcycle_adj_);
    const uint64_t minstret = instret_ + static_cast<uint64_t>(minstret_adj_);
    switch (a) {
    case 0x300: v = mstatus_ | mstatus_mpp; return true;
    case 0x301: v = misa_value; return true;
    case 0x304: v = mie_; return true;
    case 0x305: v = mtvec_; return true;
    case 0x310: v = 0; return true;  // mstatush
    case 0x320: v = 0; return true;  // mcountinhibit: counters always count
    case 0x340: v = mscratch_; return true;
    case 0x341: v = mepc_; return true;
    case 0x342: v = mcause_; return true;
    case 0x343: v = mtval_; return true;
    case 0x344: v = mip_; return true;
    case 0xF11: case 0xF12: case 0xF13: case 0xF15: v = 0; return true;  // vendor, arch, impl, configptr
    case 0xF14: v = p_.hart_id; return true;
    // Debug triggers (debug spec 1.0, 5.5): none. tselect reads 0 (WARL), tdata1 reads
    // type 0 ("no trigger at this tselect"), tinfo reads 1 (only type 0 "supported").
    case 0x7A0: case 0x7A1: case 0x7A2: case 0x7A3: v = 0; return true;
    case 0x7A4: v = 1; return true;
    case 0xB00: case 0xC00: v = static_cast<uint32_t>(mcycle); return true;
    case 0xB80: case 0xC80: v = static_cast<uint32_t>(mcycle >> 32); return true;
    case 0xB02: case 0xC02: v = static_cast<uint32_t>(minstret); return true;
    case 0xB82: case 0xC82: v = static_cast<uint32_t>(minstret >> 32); return true;
    case 0xC01: case 0xC81: {
        if (time_source.size() == 0) return false;
        const uint64_t t = time_source->mtime_at(ps(ps_of_cycle(cycle_)));
        v = static_cast<uint32_t>(a == 0xC01 ? t : t >> 32);
        return true;
    }
    }
    // mhpmcounter3..31(h), hpmcounter3..31(h), mhpmevent3..31: implemented as zero.
    const uint32_t lo = a & 0x1F;
    if (lo >= 3 && ((a & ~0x1Fu) == 0xB00 || (a & ~0x1Fu) == 0xB80 || (a & ~0x1Fu) == 0xC00 ||
                    (a & ~0x1Fu) == 0xC80 || (a & ~0x1Fu) == 0x320)) {
        v = 0;
        return true;
    }
    return false;
}

bool rv32_core::csr_write(uint32_t a, uint32_t v) {
    // A write replaces the writing instruction's own increment: the other half comes from
    // the counter as it was before this instruction, and the instruction still retires
    // (+1 instret, +1 cycle) after this, so the adjustment is taken against live + 1 and
    // the next read sees exactly the value written (csrw minstret,-1; csrw minstreth,-1;
    // nop; csrr minstret reads 0).
    auto set_lo = [](uint64_t live, int64_t& adj, uint32_t val) {
        const uint64_t cur = live + static_cast<uint64_t>(adj);
        adj = static_cast<int64_t>(((cur & ~0xFFFFFFFFull) | val) - (live + 1));
    };
    auto set_hi = [](uint64_t live, int64_t& adj, uint32_t val) {
        const uint64_t cur = live + static_cast<uint64_t>(adj);
        adj = static_cast<int64_t>(((cur & 0xFFFFFFFFull) | (static_cast<uint64_t>(val) << 32)) - (live + 1));
    };
    switch (a) {
    case 0x300: mstatus_ = v & (mstatus_mie | mstatus_mpie); attention(); return true;
    case 0x304: mie_ = v & irq_mask; attention(); return true;
    case 0x305: mtvec_ = (v & 3) >= 2 ? (v & ~3u) : v; return true;  // reserved modes -> direct
    case 0x340: mscratch_ = v; return true;
    case 0x341: mepc_ = v & ~1u; return true;
    case 0x342: mcause_ = v; return true;
    case 0x343: mtval_ = v; return true;
    case 0xB00: set_lo(cycle_, mcycle_adj_, v); return true;
    case 0xB80: set_hi(cycle_, mcycle_adj_, v); return true;
    case 0xB02: set_lo(instret_, minstret_adj_, v); return true;
    case 0xB82: set_hi(instret_, minstret_adj_, v); return true;
    default: return true;  // WARL/read-only-zero fields (misa, mip, mstatush, hpm counters): writes ignored
    }
}

} // namespace accelvp
