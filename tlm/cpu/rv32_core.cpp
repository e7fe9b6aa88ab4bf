#include "tlm/cpu/rv32_core.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include <nlohmann/json.hpp>

#include "tlm/core/log.h"
#include "tlm/core/timeline.h"

namespace accelvp {

using rv32::op;
using rv32::x0_sink;

namespace {

// mstatus / mip / mie bits (machine mode only).
constexpr uint32_t mstatus_mie = 1u << 3;
constexpr uint32_t mstatus_mpie = 1u << 7;
constexpr uint32_t mstatus_mpp = 3u << 11;  // always M
constexpr uint32_t irq_mask = (1u << irq_msip) | (1u << irq_mtip) | (1u << irq_meip);
constexpr uint32_t interrupt_bit = 0x80000000u;

// Exception causes (mcause).
enum : uint32_t {
    cause_fetch_fault = 1,
    cause_illegal = 2,
    cause_breakpoint = 3,
    cause_load_misaligned = 4,
    cause_load_fault = 5,
    cause_store_misaligned = 6,
    cause_store_fault = 7,
    cause_ecall_m = 11,
};

constexpr uint32_t misa_value = (1u << 30) | (1u << 0) /*A*/ | (1u << 2) /*C*/ | (1u << 8) /*I*/ | (1u << 12) /*M*/;

} // namespace

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
            .integer("reset_pc", &params::reset_pc, 0, UINT32_MAX, "address of the first instruction");
    return t;
}

void rv32_core::declare(param_schema& s, const std::string& prefix) { params::table().declare(s, prefix); }

rv32_core::params rv32_core::from_config(const config& c, const std::string& prefix) {
    return params::table().load(c, prefix);
}

rv32_core::rv32_core(sc_core::sc_module_name name, const params& p)
    : sc_module(name), bus("bus"), irq_in("irq_in"), time_source("time_source"), p_(p),
      freq_hz_(static_cast<uint64_t>(p.freq_mhz * 1e6 + 0.5)), pages_(size_t{1} << (32 - page_bits)),
      dmi_refused_(size_t{1} << (32 - page_bits), false) {
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

void rv32_core::run() {
    const auto started = std::chrono::steady_clock::now();
    cycle_ = std::max(cycle_, cycle_at_or_after(sc_core::sc_time_stamp().value()));
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
        execute();
        if (stepping_ && instret_ + traps_taken_ != steps) {
            stepping_ = false;
            if (!debug_pending_) {  // (a breakpoint cannot be pending: the step passes the one at pc)
                debug_pending_ = true;
                debug_reason_ = rv32_debugger_if::stop_reason::step;
            }
        }
    }
}

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
}

void rv32_core::add_breakpoint(uint32_t addr) {
    addr &= ~1u;
    breakpoints_.insert(addr);
    // Un-decode the slot so the next fetch there takes the slow path, which checks.
    if (auto& p = pages_[addr >> page_bits]) p->slot[(addr & ~page_mask) >> 1] = insn{};
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
    return false;
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
        if (auto& p = pages_[pn]; p && p->active) reset_page(*p);
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
    wait(resume_event_);
    halted_ = halt_reason::running;
    sync();
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
    while (!(mip_ & mie_) && !halt_requested_ && !inject_pending_) wait(irq_event_);
    sleeping_ = false;
    const uint64_t t1 = sc_core::sc_time_stamp().value();
    sleep_ += static_cast<double>(t1 - t0);
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
}

// ---------------------------------------------------------------------------------------
// The interpreter loop

void rv32_core::execute() {
    // Hot state lives in locals; slow paths get it spilled to the members first
    // (they may trap, read counters or wait) and we take it back afterwards.
    // Counting: n instructions retired in this batch; cycle_ = cycle_base + n and
    // instret_ = instret_base + n, so one increment per instruction keeps both; extra
    // cycles (mul/div, traps, bus delays) move cycle_base. The batch ends when n
    // reaches stop = limit_ - cycle_base (attention() makes it 0).
    uint32_t pc = pc_;
    uint64_t n = 0, cycle_base = cycle_, instret_base = instret_;
    uint64_t stop = limit_ > cycle_base ? limit_ - cycle_base : 0;
    uint32_t* const x = x_;
    const uint64_t mul_extra = p_.mul_cycles, div_extra = p_.div_cycles;
    constexpr uint32_t no_page = 1;
    uint32_t page_base = no_page;
    code_page* page = nullptr;

#define SPILL() (pc_ = pc, cycle_ = cycle_base + n, instret_ = instret_base + n)
#define RELOAD()                                                       \
    (pc = pc_, cycle_base = cycle_ - n, instret_base = instret_ - n,   \
     stop = limit_ > cycle_base ? limit_ - cycle_base : 0)
#define EXTRA_CYCLES(c) (cycle_base += (c), stop = stop > (c) ? stop - (c) : 0)
// Run a slow path that returns false after raising a trap; then go on at the handler.
// (A plain block, not do-while(0): `continue` must reach the interpreter loop.)
#define SLOW(call)             \
    {                          \
        SPILL();               \
        const bool ok_ = call; \
        RELOAD();              \
        if (!ok_) continue;    \
    }

// DMI fast path through the load/store TLB, else the slow path. One compare checks the
// page tag and the alignment.
#define LOAD(T, size)                                                                     \
    {                                                                                      \
        const uint32_t a = x[in.rs1] + static_cast<uint32_t>(in.imm);                      \
        const uint8_t rd = in.rd;                                                          \
        const tlb_entry& e = rtlb_[(a >> page_bits) % tlb_size];                           \
        if ((a & (page_mask | (size - 1))) == e.tag) {                                     \
            T v;                                                                           \
            std::memcpy(&v, reinterpret_cast<const void*>(e.offset + a), size);            \
            x[rd] = static_cast<uint32_t>(static_cast<int32_t>(v));                        \
        } else {                                                                           \
            uint32_t v = 0;                                                                \
            SLOW(load_slow(a, size, v, cause_load_misaligned, cause_load_fault));          \
            T t;                                                                           \
            std::memcpy(&t, &v, size);                                                     \
            x[rd] = static_cast<uint32_t>(static_cast<int32_t>(t));                        \
        }                                                                                  \
        break;                                                                             \
    }
#define STORE(T, size)                                                                    \
    {                                                                                      \
        const uint32_t a = x[in.rs1] + static_cast<uint32_t>(in.imm);                      \
        const uint32_t v32 = x[in.rs2];                                                    \
        const T v = static_cast<T>(v32);                                                   \
        const tlb_entry& e = wtlb_[(a >> page_bits) % tlb_size];                           \
        if ((a & (page_mask | (size - 1))) == e.tag)                                       \
            std::memcpy(reinterpret_cast<void*>(e.offset + a), &v, size);                  \
        else                                                                               \
            SLOW(store_slow(a, size, v32));                                                \
        break;                                                                             \
    }

    insn tmp;  // an instruction decoded outside the cache
    while (n < stop) {
        // Fetch: the predecoded slot of this pc, decoding it on first use. `in` may
        // refer into a page that a slow path resets, so slow paths copy what they need
        // from it first.
        if ((pc & page_mask) != page_base) {
            SPILL();
            page = code_page_for(pc);
            page_base = page ? (pc & page_mask) : no_page;
        }
        const insn* ip;
        if (page_base != no_page) {
            ip = &page->slot[(pc & ~page_mask) >> 1];
            if (__builtin_expect(ip->code == op::decode, 0)) {
                SLOW(decode_slot(*page, tmp));
                ip = &tmp;
            }
        } else {
            uint32_t raw = 0;
            SLOW(fetch_uncached(pc, raw));
            tmp = rv32::decode(raw);
            ip = &tmp;
        }
        const insn& in = *ip;

        uint32_t npc = pc + in.len;
        const uint32_t s1 = x[in.rs1], s2 = x[in.rs2];
        const uint32_t imm = static_cast<uint32_t>(in.imm);
        switch (in.code) {
        case op::lui: x[in.rd] = imm; break;
        case op::auipc: x[in.rd] = pc + imm; break;
        case op::jal: x[in.rd] = npc; npc = pc + imm; break;
        case op::jalr: x[in.rd] = npc; npc = (s1 + imm) & ~1u; break;
        case op::beq: if (s1 == s2) npc = pc + imm; break;
        case op::bne: if (s1 != s2) npc = pc + imm; break;
        case op::blt: if (static_cast<int32_t>(s1) < static_cast<int32_t>(s2)) npc = pc + imm; break;
        case op::bge: if (static_cast<int32_t>(s1) >= static_cast<int32_t>(s2)) npc = pc + imm; break;
        case op::bltu: if (s1 < s2) npc = pc + imm; break;
        case op::bgeu: if (s1 >= s2) npc = pc + imm; break;
        case op::lb: LOAD(int8_t, 1)
        case op::lh: LOAD(int16_t, 2)
        case op::lw: LOAD(int32_t, 4)
        case op::lbu: LOAD(uint8_t, 1)
        case op::lhu: LOAD(uint16_t, 2)
        case op::sb: STORE(uint8_t, 1)
        case op::sh: STORE(uint16_t, 2)
        case op::sw: STORE(uint32_t, 4)
        case op::addi: x[in.rd] = s1 + imm; break;
        case op::slti: x[in.rd] = static_cast<int32_t>(s1) < in.imm; break;
        case op::sltiu: x[in.rd] = s1 < imm; break;
        case op::xori: x[in.rd] = s1 ^ imm; break;
        case op::ori: x[in.rd] = s1 | imm; break;
        case op::andi: x[in.rd] = s1 & imm; break;
        case op::slli: x[in.rd] = s1 << imm; break;
        case op::srli: x[in.rd] = s1 >> imm; break;
        case op::srai: x[in.rd] = static_cast<uint32_t>(static_cast<int32_t>(s1) >> imm); break;
        case op::add: x[in.rd] = s1 + s2; break;
        case op::sub: x[in.rd] = s1 - s2; break;
        case op::sll: x[in.rd] = s1 << (s2 & 31); break;
        case op::slt: x[in.rd] = static_cast<int32_t>(s1) < static_cast<int32_t>(s2); break;
        case op::sltu: x[in.rd] = s1 < s2; break;
        case op::xor_: x[in.rd] = s1 ^ s2; break;
        case op::srl: x[in.rd] = s1 >> (s2 & 31); break;
        case op::sra: x[in.rd] = static_cast<uint32_t>(static_cast<int32_t>(s1) >> (s2 & 31)); break;
        case op::or_: x[in.rd] = s1 | s2; break;
        case op::and_: x[in.rd] = s1 & s2; break;
        case op::mul: x[in.rd] = s1 * s2; EXTRA_CYCLES(mul_extra); break;
        case op::mulh:
            x[in.rd] = static_cast<uint32_t>(
                (static_cast<int64_t>(static_cast<int32_t>(s1)) * static_cast<int32_t>(s2)) >> 32);
            EXTRA_CYCLES(mul_extra);
            break;
        case op::mulhsu:
            x[in.rd] = static_cast<uint32_t>(
                (static_cast<int64_t>(static_cast<int32_t>(s1)) * static_cast<int64_t>(s2)) >> 32);
            EXTRA_CYCLES(mul_extra);
            break;
        case op::mulhu:
            x[in.rd] = static_cast<uint32_t>((static_cast<uint64_t>(s1) * s2) >> 32);
            EXTRA_CYCLES(mul_extra);
            break;
        case op::div: {  // x / 0 = -1; INT_MIN / -1 = INT_MIN (no trap: the spec's choice)
            const auto a = static_cast<int32_t>(s1), b = static_cast<int32_t>(s2);
            x[in.rd] = b == 0 ? ~0u : (a == INT32_MIN && b == -1) ? s1 : static_cast<uint32_t>(a / b);
            EXTRA_CYCLES(div_extra);
            break;
        }
        case op::divu: x[in.rd] = s2 == 0 ? ~0u : s1 / s2; EXTRA_CYCLES(div_extra); break;
        case op::rem: {  // x % 0 = x; INT_MIN % -1 = 0
            const auto a = static_cast<int32_t>(s1), b = static_cast<int32_t>(s2);
            x[in.rd] = b == 0 ? s1 : (a == INT32_MIN && b == -1) ? 0 : static_cast<uint32_t>(a % b);
            EXTRA_CYCLES(div_extra);
            break;
        }
        case op::remu: x[in.rd] = s2 == 0 ? s1 : s1 % s2; EXTRA_CYCLES(div_extra); break;
        case op::fence: break;  // one hart, in-order memory: nothing to order
        case op::fence_i:
            SPILL();
            fence_i();
            break;
        case op::csrrw: case op::csrrs: case op::csrrc: case op::csrrwi: case op::csrrsi: case op::csrrci: {
            const insn copy = in;
            SLOW(exec_csr(copy));
            break;
        }
        case op::lr_w: case op::sc_w: case op::amoswap_w: case op::amoadd_w: case op::amoxor_w: case op::amoand_w:
        case op::amoor_w: case op::amomin_w: case op::amomax_w: case op::amominu_w: case op::amomaxu_w: {
            const insn copy = in;
            SLOW(exec_amo(copy));
            break;
        }
        case op::ecall:
            SPILL();
            take_trap(cause_ecall_m, 0);
            RELOAD();
            continue;
        case op::ebreak:
            SPILL();
            take_trap(cause_breakpoint, pc);
            RELOAD();
            continue;
        case op::mret:
            npc = mepc_;
            mstatus_ = (mstatus_ & ~mstatus_mie) | ((mstatus_ & mstatus_mpie) ? mstatus_mie : 0) | mstatus_mpie;
            attention();  // interrupts may be enabled now: end the batch
            stop = 0;
            break;
        case op::wfi:
            if (!(mip_ & mie_)) {
                wfi_pending_ = true;
                attention();
                stop = 0;
            }
            break;
        case op::illegal:
            SPILL();
            take_trap(cause_illegal, imm);
            RELOAD();
            continue;
        case op::decode:  // never: decode() does not return it
        case op::count_:
            __builtin_unreachable();
        }
        pc = npc;
        ++n;
    }
    SPILL();
#undef EXTRA_CYCLES
#undef STORE
#undef LOAD
#undef SLOW
#undef RELOAD
#undef SPILL
}

// ---------------------------------------------------------------------------------------
// Code pages

rv32_core::code_page* rv32_core::code_page_for(uint32_t pc) {
    auto& p = pages_[pc >> page_bits];
    if (p && p->host) return p.get();
    uint8_t* host = dmi_lookup(pc & page_mask, 1u << page_bits, false);
    if (!host) return nullptr;  // not DMI memory: fetch through the bus every time
    if (!p) p = std::make_unique<code_page>();
    p->host = reinterpret_cast<uintptr_t>(host);
    return p.get();
}

void rv32_core::activate(code_page& p, uint32_t page_addr) {
    p.active = true;
    if (active_pages_.size() >= (1u << 16)) {  // self-modifying code re-activates pages: drop stale entries
        std::sort(active_pages_.begin(), active_pages_.end());
        active_pages_.erase(std::unique(active_pages_.begin(), active_pages_.end()), active_pages_.end());
        active_pages_.erase(std::remove_if(active_pages_.begin(), active_pages_.end(),
                                           [&](uint32_t n) { return !pages_[n] || !pages_[n]->active; }),
                            active_pages_.end());
    }
    active_pages_.push_back(page_addr >> page_bits);
    // From now on stores into this page take the slow path, which invalidates it.
    tlb_entry& w = wtlb_[(page_addr >> page_bits) % tlb_size];
    if (w.tag == page_addr) w = tlb_entry{};
}

void rv32_core::reset_page(code_page& p) {
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

void rv32_core::fence_i() {
    for (uint32_t n : active_pages_)
        if (auto& p = pages_[n]; p && p->active) reset_page(*p);
    active_pages_.clear();
}

// ---------------------------------------------------------------------------------------
// Memory slow paths

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
                const auto& cp = pages_[pa >> page_bits];
                if ((!write || !(cp && cp->active)) && (watchpoints_.empty() || !watched_page(pa)))
                    e = tlb_entry{pa, offset};
            }
            return reinterpret_cast<uint8_t*>(offset + addr);
        }
        if (attempt || dmi_refused_[addr >> page_bits]) break;
        tlm::tlm_dmi d;
        init_payload(trans_, write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND, addr, nullptr, 0);
        if (bus->get_direct_mem_ptr(trans_, d) && d.get_start_address() <= addr && last <= d.get_end_address())
            dmi_.push_back(d);
        else
            dmi_refused_[addr >> page_bits] = true;
    }
    return nullptr;
}

bool rv32_core::bus_access(tlm::tlm_command cmd, uint32_t addr, void* data, unsigned size) {
    sync();  // the target sees the access at our local time, with everyone else caught up
    init_payload(trans_, cmd, addr, data, size);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    bus->b_transport(trans_, delay);
    ++mmio_;
    cycle_ = std::max(cycle_, cycle_at_or_after(sc_core::sc_time_stamp().value() + delay.value()));
    if (trans_.is_dmi_allowed()) dmi_refused_[addr >> page_bits] = false;
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
    if (auto& p = pages_[addr >> page_bits]; p && p->active) reset_page(*p);  // store into code
    if (!watchpoints_.empty()) check_watch(addr, size, true);
    if (uint8_t* h = dmi_lookup(addr, size, true)) {
        std::memcpy(h, &value, size);
        return true;
    }
    if (!bus_access(tlm::TLM_WRITE_COMMAND, addr, &value, size)) {
        take_trap(cause_store_fault, addr);
        return false;
    }
    return true;
}

bool rv32_core::exec_amo(const insn& in) {
    const uint32_t a = x_[in.rs1];
    if (in.code == op::lr_w) {
        uint32_t v = 0;
        if (!load_slow(a, 4, v, cause_load_misaligned, cause_load_fault)) return false;
        reservation_valid_ = true;
        reservation_ = a;
        x_[in.rd] = v;
        return true;
    }
    if (a & 3) {  // SC and AMOs report store/AMO exceptions
        take_trap(cause_store_misaligned, a);
        return false;
    }
    if (in.code == op::sc_w) {
        const bool ok = reservation_valid_ && reservation_ == a;
        reservation_valid_ = false;
        if (ok && !store_slow(a, 4, x_[in.rs2])) return false;
        x_[in.rd] = ok ? 0 : 1;
        return true;
    }
    uint32_t old = 0;
    if (!load_slow(a, 4, old, cause_store_misaligned, cause_store_fault)) return false;
    const uint32_t src = x_[in.rs2];
    uint32_t v = 0;
    switch (in.code) {
    case op::amoswap_w: v = src; break;
    case op::amoadd_w: v = old + src; break;
    case op::amoxor_w: v = old ^ src; break;
    case op::amoand_w: v = old & src; break;
    case op::amoor_w: v = old | src; break;
    case op::amomin_w: v = static_cast<int32_t>(old) < static_cast<int32_t>(src) ? old : src; break;
    case op::amomax_w: v = static_cast<int32_t>(old) > static_cast<int32_t>(src) ? old : src; break;
    case op::amominu_w: v = std::min(old, src); break;
    case op::amomaxu_w: v = std::max(old, src); break;
    default: break;
    }
    if (!store_slow(a, 4, v)) return false;
    x_[in.rd] = old;
    return true;
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
    std::fill(dmi_refused_.begin(), dmi_refused_.end(), false);
    if (start > UINT32_MAX) return;
    const uint64_t last_page = std::min<uint64_t>(end, UINT32_MAX) >> page_bits;
    for (uint64_t n = start >> page_bits; n <= last_page; ++n) {
        if (auto& p = pages_[n]; p && p->host) {
            p->host = 0;
            if (p->active) reset_page(*p);
        }
    }
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
    // The writing instruction still retires (+1 instret, +1 cycle) after this: compensate
    // so the next read sees the value written.
    auto set_lo = [](uint64_t live, int64_t& adj, uint32_t val) {
        const uint64_t cur = live + static_cast<uint64_t>(adj);
        adj = static_cast<int64_t>(((cur & ~0xFFFFFFFFull) | val) - live);
    };
    auto set_hi = [](uint64_t live, int64_t& adj, uint32_t val) {
        const uint64_t cur = live + static_cast<uint64_t>(adj);
        adj = static_cast<int64_t>(((cur & 0xFFFFFFFFull) | (static_cast<uint64_t>(val) << 32)) - live);
    };
    switch (a) {
    case 0x300: mstatus_ = v & (mstatus_mie | mstatus_mpie); attention(); return true;
    case 0x304: mie_ = v & irq_mask; attention(); return true;
    case 0x305: mtvec_ = (v & 3) >= 2 ? (v & ~3u) : v; return true;  // reserved modes -> direct
    case 0x340: mscratch_ = v; return true;
    case 0x341: mepc_ = v & ~1u; return true;
    case 0x342: mcause_ = v; return true;
    case 0x343: mtval_ = v; return true;
    case 0xB00: set_lo(cycle_ + 1, mcycle_adj_, v); return true;
    case 0xB80: set_hi(cycle_ + 1, mcycle_adj_, v); return true;
    case 0xB02: set_lo(instret_ + 1, minstret_adj_, v); return true;
    case 0xB82: set_hi(instret_ + 1, minstret_adj_, v); return true;
    default: return true;  // WARL/read-only-zero fields (misa, mip, mstatush, hpm counters): writes ignored
    }
}

bool rv32_core::exec_csr(const insn& in) {
    const uint32_t a = static_cast<uint32_t>(in.imm) & 0xFFF;
    const bool imm_form = in.code == op::csrrwi || in.code == op::csrrsi || in.code == op::csrrci;
    const bool is_rw = in.code == op::csrrw || in.code == op::csrrwi;
    const bool is_rs = in.code == op::csrrs || in.code == op::csrrsi;
    const uint32_t src = imm_form ? in.rs1 : x_[in.rs1];
    const bool writes = is_rw || in.rs1 != 0;  // csrrs/csrrc with x0 / uimm 0 only read
    uint32_t old = 0;
    if (!csr_read(a, old) || (writes && (a >> 10) == 3)) {
        // Rebuild the encoding for mtval.
        static constexpr uint32_t f3[] = {1, 2, 3, 5, 6, 7};
        const uint32_t k = static_cast<uint32_t>(in.code) - static_cast<uint32_t>(op::csrrw);
        const uint32_t rd = in.rd == x0_sink ? 0 : in.rd;
        take_trap(cause_illegal, (a << 20) | (static_cast<uint32_t>(in.rs1) << 15) | (f3[k] << 12) | (rd << 7) | 0x73);
        return false;
    }
    if (writes) csr_write(a, is_rw ? src : is_rs ? (old | src) : (old & ~src));
    x_[in.rd] = old;
    return true;
}

} // namespace accelvp
