// rv32_core: the control core's instruction-set simulator. RV32IMAC + Zicsr + Zifencei,
// machine mode only, one hart, precise exceptions.
//
// Programmer's view (CSRs): mstatus (MIE, MPIE; MPP reads 3), misa (read-only), mie/mip
// (MSIP 3, MTIP 7, MEIP 11; mip is driven by the irq inputs only), mtvec (direct or
// vectored), mscratch, mepc, mcause, mtval, mhartid/mvendorid/marchid/mimpid, mcycle[h],
// minstret[h] (writable; a write replaces the writing instruction's own increment),
// tselect/tdata1-3/tinfo (no debug triggers), cycle/time/instret[h] (read-only; time comes from the CLINT
// through `time_source`), mhpmcounter3..31 and mhpmevent3..31 (read zero). Misaligned
// loads/stores/AMOs trap (mcause 4/6); with C every 2-byte aligned pc is legal, so
// jumps and branches never raise instruction-misaligned. TLM error responses become
// access faults (mcause 1/5/7); unknown CSRs and reserved encodings are illegal
// instructions (mcause 2, mtval = the encoding).
//
// Speed, and why it is built this way:
// - Decode once: each 4 KiB page of code gets an array of predecoded `rv32::insn`, one
//   slot per halfword (C makes every halfword a possible pc). A store into such a page,
//   fence.i or a DMI invalidation resets it, so self-modifying code stays correct.
// - Basic blocks: a decoded slot that starts a block records how many straight-line
//   instructions follow it (up to and including one control transfer or special op, within
//   its page) and how many extra mul/div cycles they may cost. When the whole block fits in
//   the batch's remaining cycles, the interpreter runs it without the per-instruction
//   fetch, decode and limit checks; otherwise it steps instruction by instruction as
//   before, so counts, timing, interrupts and debug stops are the same instruction for
//   instruction (see docs/cpu.md). A slow path inside a block ends it.
// - DMI for RAM: loads and stores look the page up in a small direct-mapped table of
//   host pointers (one compare covers both the page tag and the alignment check); a
//   page holding decoded code is never in the store table, so every store into code
//   takes the slow path that invalidates it. Everything else is a b_transport.
// - Temporal decoupling: the core runs ahead of SystemC time and synchronises only at
//   quantum ends (`quantum_ns`, a tlm_quantumkeeper), before every non-DMI access (so
//   devices see it at the right time), on wfi, and when it halts.
// - wfi costs no host time: the core waits on the interrupt event, not per cycle.
//
// Timing: 1 cycle per instruction at `freq_mhz`, plus `mul_cycles`/`div_cycles` extra for
// M instructions, `trap_cycles` per trap, and the delay annotated by non-DMI targets
// (rounded up to whole cycles). DMI accesses are free (a cached memory).
#pragma once

#include <algorithm>

#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <array>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "tlm/core/params.h"
#include "tlm/core/extensions.h"
#include "tlm/core/stats.h"
#include "tlm/cpu/cpu_if.h"
#include "tlm/cpu/rv32_isa.h"

namespace accelvp {

class rv32_jit;  // tlm/cpu/rv32_jit.h: the x86-64 template JIT (cpu.engine=jit)

// A debugger attached to the core (gdb_server). Its calls run in the core's SC_THREAD:
// while stopped() blocks, the whole simulation stands still and no simulated time passes.
class rv32_debugger_if {
public:
    enum class stop_reason { requested, breakpoint, step, interrupt, watchpoint };
    enum class resume { run, step, kill };
    // The core stopped before executing the instruction at pc(); returns how to go on.
    // The state may be read and changed meanwhile (registers, pc, memory, breakpoints).
    virtual resume stopped(stop_reason why) = 0;
    // Polled now and then while the core runs (every few hundred quanta): true stops it
    // (stopped(interrupt) follows at the next instruction boundary).
    virtual bool interrupt_requested() = 0;

protected:
    ~rv32_debugger_if() = default;
};

class rv32_core : public sc_core::sc_module, public irq_level_if {
public:
    tlm_utils::simple_initiator_socket<rv32_core> bus;  // fetch, loads, stores (DMI where granted)
    sc_core::sc_export<irq_level_if> irq_in;             // lines irq_msip / irq_mtip / irq_meip
    sc_core::sc_port<mtime_if, 1, sc_core::SC_ZERO_OR_MORE_BOUND> time_source;  // `time` CSR (else illegal)

    struct params {
        double freq_mhz = 1000;      // core clock
        double quantum_ns = 1000;    // temporal decoupling: how far the core may run ahead
        uint32_t mul_cycles = 0;     // extra cycles per mul/mulh*
        uint32_t div_cycles = 16;    // extra cycles per div/rem*
        uint32_t trap_cycles = 4;    // cycles to enter a trap or interrupt handler (>= 1)
        uint32_t hart_id = 0;        // mhartid
        uint64_t reset_pc = 0;       // first instruction
        // Execution engine: the interpreter, or the x86-64 template JIT (x86-64 hosts only;
        // same counts, timing, interrupts and debug behaviour, see docs/cpu.md).
        enum class engine_kind { interp, jit };
        engine_kind engine = default_engine();
        static engine_kind default_engine();
        static const param_table<params>& table();  // the parameters: key, member, range, unit, description
    };
    // Declare the parameters under `prefix` ("cpu"): freq_mhz, quantum_ns, mul_cycles,
    // div_cycles, trap_cycles, hart_id, reset_pc, engine.
    static void declare(param_schema& s, const std::string& prefix);
    static params from_config(const config& c, const std::string& prefix);

    rv32_core(sc_core::sc_module_name name, const params& p);
    ~rv32_core() override;

    // Architectural state, for loaders, tests and debuggers (not while the core runs).
    uint32_t pc() const { return pc_; }
    void set_pc(uint32_t pc) { pc_ = pc; }
    uint32_t reg(unsigned i) const { return i == 0 || i > 31 ? 0 : x_[i]; }
    void set_reg(unsigned i, uint32_t v) {
        if (i > 0 && i < 32) x_[i] = v;
    }
    // CSR read without side effects; false if the CSR does not exist.
    bool read_csr(uint32_t addr, uint32_t& value) const;
    uint64_t instructions() const { return instret_; }
    // Blocks the JIT has translated so far (0 with cpu.engine=interp).
    uint64_t jit_blocks() const;
    uint64_t cycles() const { return cycle_; }

    // Halting: the core stops at the next instruction boundary after request_halt() or
    // once `limit` steps (instructions retired + traps taken, so a trap storm also stops)
    // have run, synchronises its time and notifies halted_event().
    // A trap storm: `limit` traps in a row with no instruction retired in between (a
    // handler that faults on its first instruction) also halts (0 = never; real
    // hardware would spin, so only the bare-metal mode turns it on).
    enum class halt_reason { running, requested, step_limit, trap_storm, debugger };
    void set_step_limit(uint64_t limit) { step_limit_ = limit; }
    void set_trap_storm_limit(uint64_t limit) { storm_limit_ = limit; }
    void request_halt();
    // Fault injection: take synchronous exception `cause` (mtval `tval`) at the next
    // instruction boundary, as if the instruction at pc had raised it (wakes a wfi).
    void inject_exception(uint32_t cause, uint32_t tval);
    // Leave a halt (or a halt requested before the core started: reset release) and
    // continue at `pc`. Decoded code is dropped first: whoever halted the core may have
    // loaded new code behind its back (e.g. firmware written through a BAR). Has no
    // effect on a running core.
    void release(uint32_t pc);
    halt_reason halted() const { return halted_; }
    // halt_reason::debugger: the debugger killed the program (see rv32_debugger_if).
    const sc_core::sc_event& halted_event() const { return halted_event_; }
    // True while the core sleeps in wfi with nothing pending.
    bool sleeping() const { return sleeping_; }

    // Debugging. attach_debugger(d) (nullptr detaches); debug_break() makes the core call
    // d->stopped(requested) before its next instruction (before the first one if called
    // before the simulation starts). Breakpoints are checked before an instruction
    // executes; a breakpoint's slot in the decode cache is kept undecoded, so the check
    // happens only on the decode slow path and costs nothing while no breakpoint is set.
    // Resuming runs the instruction at pc even if it carries a breakpoint.
    void attach_debugger(rv32_debugger_if* d) { debugger_ = d; }
    void debug_break();
    void add_breakpoint(uint32_t addr);
    void remove_breakpoint(uint32_t addr);
    void clear_breakpoints();
    // Data watchpoints (GDB Z2/Z3/Z4): the core stops after the instruction that wrote,
    // read or accessed [addr, addr+len). Watched pages are kept out of the DMI TLBs, so
    // only accesses to them take the checking slow path.
    enum class watch_kind { write, read, access };
    struct watch_hit {
        uint32_t addr = 0;
        watch_kind kind = watch_kind::write;
    };
    void add_watchpoint(uint32_t addr, uint32_t len, watch_kind kind);
    void remove_watchpoint(uint32_t addr, uint32_t len, watch_kind kind);
    const watch_hit& last_watch() const { return watch_hit_; }
    // Debug memory access through the bus (transport_dbg: no time passes, no side effects
    // in devices that honour it); returns the bytes transferred. Writes drop decoded code.
    unsigned debug_read(uint32_t addr, void* data, unsigned len);
    unsigned debug_write(uint32_t addr, const void* data, unsigned len);
    // The core's local time (it may run ahead of SystemC time by up to a quantum).
    sc_core::sc_time local_time() const { return sc_core::sc_time::from_value(ps_of_cycle(cycle_)); }

    // Instruction trace (docs/debugging.md#instruction-trace): hook(pc, trapped) after each
    // instruction that retired or trapped; it returns false to end the trace. While a hook is
    // set the core runs one instruction per batch (the fast path stays as it is when none is).
    void set_insn_hook(std::function<bool(uint32_t, bool)> hook) {
        insn_hook_ = std::move(hook);
        attention();
    }
    // f() after every store into [addr, addr + len): those pages leave the DMI store path.
    void add_store_hook(uint32_t addr, uint32_t len, std::function<void()> f);

    // irq_level_if (bound to irq_in).
    void set_level(unsigned line, bool level) override;

private:
    friend class rv32_jit;
    using insn = rv32::insn;

    // One 4 KiB page of predecoded instructions.
    struct code_page {
        uintptr_t host = 0;  // host address of the page's first byte (DMI), 0 = none
        bool active = false; // some slot decoded: stores into the page must invalidate
        uint32_t number = 0; // page number
        insn slot[2048];
    };
    // Code pages by page number (2^20 of them), in two levels allocated on first use: a flat
    // table cost every core 8 MiB of zeroed memory at construction, and a 64-chip system
    // spent most of its run in those page faults.
    class code_page_table {
    public:
        // The slot of page `pn`, created (empty) if its leaf did not exist.
        std::unique_ptr<code_page>& operator[](uint32_t pn) {
            auto& l = top_[pn >> leaf_bits];
            if (!l) l = std::make_unique<leaf>();
            return (*l)[pn & (leaf_size - 1)];
        }
        // The page `pn`, or nullptr: never allocates.
        code_page* find(uint32_t pn) const {
            const auto& l = top_[pn >> leaf_bits];
            return l ? (*l)[pn & (leaf_size - 1)].get() : nullptr;
        }

    private:
        static constexpr unsigned leaf_bits = 10, leaf_size = 1u << leaf_bits;
        using leaf = std::array<std::unique_ptr<code_page>, leaf_size>;
        std::array<std::unique_ptr<leaf>, (1u << (32 - 12 - leaf_bits))> top_;
    };
    // Direct-mapped DMI translation for loads (r) and stores (w).
    struct tlb_entry {
        uint32_t tag = invalid_tag;  // page address; low bits 0xFFF never match an access
        uintptr_t offset = 0;        // host address - guest address
    };
    static constexpr uint32_t invalid_tag = 0xFFF;
    static constexpr unsigned tlb_size = 256;
    static constexpr uint32_t page_bits = 12;
    static constexpr uint32_t page_mask = ~((1u << page_bits) - 1);

    // Our quantum, aligned to multiples of quantum_ns (independent of the global quantum
    // so other initiators are not affected).
    class quantum_keeper : public tlm_utils::tlm_quantumkeeper {
    public:
        sc_core::sc_time quantum;
        sc_core::sc_time next_sync_point() const { return m_next_sync_point; }

    protected:
        sc_core::sc_time compute_local_quantum() override;
    };

    void run();          // the core's SC_THREAD
    void execute();      // run instructions until cycle_ reaches limit_
    void take_trap(uint32_t cause, uint32_t tval);  // at pc_ (exception) or before it (interrupt)
    bool check_interrupt();
    void sleep_until_interrupt();
    void halt(halt_reason why);
    void enter_debugger();
    bool breakpoint_stop(); // at a breakpoint that must stop now: arranges the stop (and returns true)
    bool fetch_uncached(uint32_t pc, uint32_t& raw);
    void sync();         // wait until SystemC time catches up with the core's local time
    void attention() { limit_ = 0; }  // end the current batch after this instruction

    // Time <-> cycles (absolute: cycle n starts at n * period after time 0).
    uint64_t ps_of_cycle(uint64_t c) const;
    uint64_t cycle_at_or_after(uint64_t ps) const;

    // Memory (slow paths; return false after raising a trap).
    code_page* code_page_for(uint32_t pc);
    void activate(code_page& p, uint32_t page_addr);
    void reset_page(code_page& p);
    bool decode_slot(code_page& p, insn& out);
    void build_block(code_page& p, uint32_t pc);  // fills the run/nmul/ndiv of the slot at pc
    void clear_blocks(code_page& p);              // forgets the page's blocks (keeps decoded slots)
    bool fetch_slow(uint32_t pc, uint32_t& raw);
    bool load_slow(uint32_t addr, unsigned size, uint32_t& value, uint32_t misaligned_cause, uint32_t fault_cause);
    bool store_slow(uint32_t addr, unsigned size, uint32_t value);
    bool exec_amo(const insn& in);
    bool exec_csr(const insn& in);
    void fence_i();
    // Host pointer for [addr, addr+size) if a DMI region covers it (requesting one if
    // the page was never refused); fills the TLB when the region covers the page.
    uint8_t* dmi_lookup(uint32_t addr, unsigned size, bool write);
    bool bus_access(tlm::tlm_command cmd, uint32_t addr, void* data, unsigned size);
    void invalidate_dmi(sc_dt::uint64 start, sc_dt::uint64 end);
    void flush_translations();

    bool csr_read(uint32_t addr, uint32_t& v) const;
    bool csr_write(uint32_t addr, uint32_t v);

    params p_;
    uint64_t freq_hz_;
    quantum_keeper qk_;

    // Architectural state. x_[32] is the x0 write sink (see rv32_isa.h).
    uint32_t x_[33] = {};
    uint32_t pc_ = 0;
    uint64_t cycle_ = 0, instret_ = 0;
    int64_t mcycle_adj_ = 0, minstret_adj_ = 0;  // written value - live counter
    uint32_t mstatus_ = 0, mie_ = 0, mip_ = 0, mtvec_ = 0, mscratch_ = 0, mepc_ = 0, mcause_ = 0, mtval_ = 0;
    bool reservation_valid_ = false;
    uint32_t reservation_ = 0;

    // Run control.
    uint64_t limit_ = 0;      // execute() runs while cycle_ < limit_
    uint64_t traps_taken_ = 0;
    uint64_t step_limit_ = 0; // 0 = none
    uint64_t storm_limit_ = 0, storm_traps_ = 0, storm_instret_ = ~0ull;
    bool halt_requested_ = false, storm_halt_ = false;
    bool inject_pending_ = false;
    uint32_t inject_cause_ = 0, inject_tval_ = 0;
    bool wfi_pending_ = false, sleeping_ = false;
    halt_reason halted_ = halt_reason::running;
    sc_core::sc_event irq_event_, halted_event_, resume_event_;

    // Debugging.
    rv32_debugger_if* debugger_ = nullptr;
    bool debug_pending_ = false, stepping_ = false;
    rv32_debugger_if::stop_reason debug_reason_ = rv32_debugger_if::stop_reason::requested;
    std::unordered_set<uint32_t> breakpoints_;
    struct watchpoint {
        uint32_t addr, len;
        watch_kind kind;
    };
    std::vector<watchpoint> watchpoints_;
    watch_hit watch_hit_;
    bool watched_page(uint32_t page_addr) const;
    void check_watch(uint32_t addr, unsigned size, bool write);
    uint64_t bp_skip_step_ = ~0ull;  // steps count (instret + traps) at which the breakpoint at pc is passed
    unsigned debug_polls_ = 0;

    // Trace (docs/profiling.md): the core's track alternates "idle (wfi)" slices and the
    // slices of the work between two sleeps, named by what woke it ("irq MEIP", "boot").
    int trace_track_ = -1;
    uint64_t active_since_ps_ = 0;
    std::string active_name_ = "boot";
    void trace_active_end(uint64_t now_ps);

    std::function<bool(uint32_t, bool)> insn_hook_;
    struct store_hook {
        uint32_t addr, len;
        std::function<void()> f;
    };
    std::vector<store_hook> store_hooks_;
    void run_store_hooks(uint32_t addr, unsigned size);

    // The JIT (created on first use when p_.engine is jit) and whether it may run now:
    // not while a debugger is attached, breakpoints exist or the instruction trace is on.
    std::unique_ptr<rv32_jit> jit_;
    bool jit_allowed() const {
        return p_.engine == params::engine_kind::jit && !debugger_ && breakpoints_.empty() && !insn_hook_;
    }
    void jit_drop_page(code_page& p);

    // Caches.
    code_page_table pages_;                          // by page number
    std::vector<uint32_t> active_pages_;             // page numbers activated since the last fence.i
    std::vector<tlm::tlm_dmi> dmi_;                  // granted regions
    // Page numbers whose DMI request the target refused (sorted; a few MMIO pages): not asked
    // again until the next invalidation. Small sets, not 2^20-entry tables: an invalidation
    // (the MMU's on every context change) clears them in O(pages cached), not O(address space).
    std::vector<uint32_t> dmi_refused_;
    std::vector<uint32_t> host_pages_;               // page numbers whose code_page has a host pointer
    bool dmi_refused(uint32_t pn) const { return std::binary_search(dmi_refused_.begin(), dmi_refused_.end(), pn); }
    tlb_entry rtlb_[tlb_size], wtlb_[tlb_size];
    tlm::tlm_generic_payload trans_;                 // for b_transport (a member: never on a stack at kill time)

    // Stats.
    counter instructions_{"instructions", "instructions retired"};
    counter cycles_{"cycles", "core clock cycles elapsed (including wfi sleep)"};
    counter exceptions_{"traps", "synchronous exceptions taken (ecall, ebreak, faults, illegal instructions)"};
    counter interrupts_{"interrupts", "interrupts taken"};
    counter mmio_{"mmio_accesses", "loads, stores and fetches that went through b_transport (no DMI)"};
    counter code_flushes_{"code_invalidations", "decoded-code pages reset by stores, fence.i or DMI invalidation"};
    counter syncs_{"syncs", "synchronisations with SystemC time (quantum ends, MMIO, wfi)"};
    rate sleep_{"wfi_sleep", "time spent asleep in wfi", 1e-12, "fraction"};
    class mips_stat : public stat_base {
    public:
        using stat_base::stat_base;
        nlohmann::json value(double) const override;
        bool host_dependent() const override { return true; }
        uint64_t instructions = 0;
        double wall_s = 0;
    } mips_{"mips", "million instructions per host second while the core thread ran"};
    uint64_t reported_instret_ = 0, reported_cycle_ = 0;
    void update_stats(std::chrono::steady_clock::time_point busy_since);
private:
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

} // namespace accelvp
