// RV32 core: the interpreter loop and the instructions with their own slow paths (AMO, CSR).
#include "tlm/cpu/rv32_core.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "tlm/core/log.h"
#include "tlm/cpu/rv32_core_internal.h"
#include "tlm/cpu/rv32_jit.h"

namespace accelvp {

using rv32::op;
using rv32::x0_sink;
using namespace rv32_internal;

// ---------------------------------------------------------------------------------------
// The interpreter loop

// no-gcse: the GCC manual (-fgcse) advises turning global common subexpression elimination
// off for code with computed gotos; measured here: 5 % less CPU on the MIPS benchmark.
// GCC only: clang (the fuzz build) has no such attribute.
#if defined(__GNUC__) && !defined(__clang__)
#define RV32_INTERPRETER_ATTRS __attribute__((optimize("no-gcse")))
#else
#define RV32_INTERPRETER_ATTRS
#endif
RV32_INTERPRETER_ATTRS void rv32_core::execute() {
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
// Either way the current block ends after this instruction (the slow path may have reset
// the code page, changed the limit or stopped for the debugger).
#define SLOW(call)                    \
    {                                 \
        SPILL();                      \
        const bool ok_ = call;        \
        RELOAD();                     \
        if (!ok_) goto next_fetch;    \
        remaining = 1;                \
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
        NEXT_INSN                                                                          \
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
        NEXT_INSN                                                                          \
    }

// Threaded dispatch: each handler starts with PROLOGUE (its operands) and ends with
// NEXT_INSN, which retires it and jumps straight to the next handler of the block (one
// indirect jump per handler, so the host predicts each from its predecessor).
#define PROLOGUE                                                          \
    const insn& in = *ip;                                                 \
    [[maybe_unused]] uint32_t npc = pc + in.len;                          \
    [[maybe_unused]] const uint32_t s1 = x[in.rs1], s2 = x[in.rs2];       \
    [[maybe_unused]] const uint32_t imm = static_cast<uint32_t>(in.imm);
#define NEXT_INSN                                                         \
    {                                                                     \
        pc = npc;                                                         \
        ++n;                                                              \
        if (--remaining == 0) goto next_fetch;                            \
        ip += in.len >> 1; /* straight-line: the next slot, same page */  \
        goto* dispatch[static_cast<unsigned>(ip->code)];                  \
    }
    // Handler of each op, in rv32::op order.
    static const void* const dispatch[] = {
        &&L_decode,
        &&L_illegal,
        &&L_lui,
        &&L_auipc,
        &&L_jal,
        &&L_jalr,
        &&L_beq,
        &&L_bne,
        &&L_blt,
        &&L_bge,
        &&L_bltu,
        &&L_bgeu,
        &&L_lb,
        &&L_lh,
        &&L_lw,
        &&L_lbu,
        &&L_lhu,
        &&L_sb,
        &&L_sh,
        &&L_sw,
        &&L_addi,
        &&L_slti,
        &&L_sltiu,
        &&L_xori,
        &&L_ori,
        &&L_andi,
        &&L_slli,
        &&L_srli,
        &&L_srai,
        &&L_add,
        &&L_sub,
        &&L_sll,
        &&L_slt,
        &&L_sltu,
        &&L_xor_,
        &&L_srl,
        &&L_sra,
        &&L_or_,
        &&L_and_,
        &&L_fence,
        &&L_fence_i,
        &&L_ecall,
        &&L_ebreak,
        &&L_mret,
        &&L_wfi,
        &&L_csrrw,
        &&L_csrrs,
        &&L_csrrc,
        &&L_csrrwi,
        &&L_csrrsi,
        &&L_csrrci,
        &&L_mul,
        &&L_mulh,
        &&L_mulhsu,
        &&L_mulhu,
        &&L_div,
        &&L_divu,
        &&L_rem,
        &&L_remu,
        &&L_lr_w,
        &&L_sc_w,
        &&L_amoswap_w,
        &&L_amoadd_w,
        &&L_amoxor_w,
        &&L_amoand_w,
        &&L_amoor_w,
        &&L_amomin_w,
        &&L_amomax_w,
        &&L_amominu_w,
        &&L_amomaxu_w,
        &&L_count_};
    static_assert(sizeof(dispatch) / sizeof(dispatch[0]) == static_cast<std::size_t>(op::count_) + 1,
                  "one handler per op");

    insn tmp;  // an instruction decoded outside the cache
    // The JIT (rv32_jit.h) runs translated blocks with these same counters; `jit_skip`:
    // it stopped before an instruction the interpreter must run (its slow path, or a block
    // that does not fit in the batch), so the next fetch is interpreted.
    bool jit_skip = false;
    if (p_.engine == params::engine_kind::jit && !jit_) jit_ = std::make_unique<rv32_jit>(*this);
    while (n < stop) {
        // A block: `remaining` instructions run from `ip` on without fetch checks (see
        // rv32_core.h); 1 = one instruction, then back here.
        uint32_t remaining = 1;
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
            } else {
                if (__builtin_expect(ip->run == 0, 0)) {
                    SPILL();
                    build_block(*page, pc);
                }
                if (jit_ && !jit_skip && jit_allowed()) {
                    if (const uint8_t* code = jit_->code_for(pc)) {
                        rv32_jit::state& st = jit_->st;
                        st.n = n;
                        st.stop = stop;
                        st.extra = 0;
                        jit_->run(code);
                        n = st.n;
                        stop = st.stop;
                        cycle_base += st.extra;
                        pc = st.pc;
                        jit_skip = st.side != 0;
                        continue;
                    }
                }
                jit_skip = false;
                // The whole block fits in the batch (extra mul/div cycles included): every
                // one of its instructions would pass the `n < stop` check anyway.
                if (n + ip->run + ip->nmul * mul_extra + ip->ndiv * div_extra <= stop) remaining = ip->run;
            }
        } else {
            uint32_t raw = 0;
            SLOW(fetch_uncached(pc, raw));
            tmp = rv32::decode(raw);
            ip = &tmp;
        }
        goto* dispatch[static_cast<unsigned>(ip->code)];
        L_lui: { PROLOGUE x[in.rd] = imm; NEXT_INSN
        } L_auipc: { PROLOGUE x[in.rd] = pc + imm; NEXT_INSN
        } L_jal: { PROLOGUE x[in.rd] = npc; npc = pc + imm; NEXT_INSN
        } L_jalr: { PROLOGUE x[in.rd] = npc; npc = (s1 + imm) & ~1u; NEXT_INSN
        } L_beq: { PROLOGUE if (s1 == s2) npc = pc + imm; NEXT_INSN
        } L_bne: { PROLOGUE if (s1 != s2) npc = pc + imm; NEXT_INSN
        } L_blt: { PROLOGUE if (static_cast<int32_t>(s1) < static_cast<int32_t>(s2)) npc = pc + imm; NEXT_INSN
        } L_bge: { PROLOGUE if (static_cast<int32_t>(s1) >= static_cast<int32_t>(s2)) npc = pc + imm; NEXT_INSN
        } L_bltu: { PROLOGUE if (s1 < s2) npc = pc + imm; NEXT_INSN
        } L_bgeu: { PROLOGUE if (s1 >= s2) npc = pc + imm; NEXT_INSN
        } L_lb: { PROLOGUE LOAD(int8_t, 1)
        } L_lh: { PROLOGUE LOAD(int16_t, 2)
        } L_lw: { PROLOGUE LOAD(int32_t, 4)
        } L_lbu: { PROLOGUE LOAD(uint8_t, 1)
        } L_lhu: { PROLOGUE LOAD(uint16_t, 2)
        } L_sb: { PROLOGUE STORE(uint8_t, 1)
        } L_sh: { PROLOGUE STORE(uint16_t, 2)
        } L_sw: { PROLOGUE STORE(uint32_t, 4)
        } L_addi: { PROLOGUE x[in.rd] = s1 + imm; NEXT_INSN
        } L_slti: { PROLOGUE x[in.rd] = static_cast<int32_t>(s1) < in.imm; NEXT_INSN
        } L_sltiu: { PROLOGUE x[in.rd] = s1 < imm; NEXT_INSN
        } L_xori: { PROLOGUE x[in.rd] = s1 ^ imm; NEXT_INSN
        } L_ori: { PROLOGUE x[in.rd] = s1 | imm; NEXT_INSN
        } L_andi: { PROLOGUE x[in.rd] = s1 & imm; NEXT_INSN
        } L_slli: { PROLOGUE x[in.rd] = s1 << imm; NEXT_INSN
        } L_srli: { PROLOGUE x[in.rd] = s1 >> imm; NEXT_INSN
        } L_srai: { PROLOGUE x[in.rd] = static_cast<uint32_t>(static_cast<int32_t>(s1) >> imm); NEXT_INSN
        } L_add: { PROLOGUE x[in.rd] = s1 + s2; NEXT_INSN
        } L_sub: { PROLOGUE x[in.rd] = s1 - s2; NEXT_INSN
        } L_sll: { PROLOGUE x[in.rd] = s1 << (s2 & 31); NEXT_INSN
        } L_slt: { PROLOGUE x[in.rd] = static_cast<int32_t>(s1) < static_cast<int32_t>(s2); NEXT_INSN
        } L_sltu: { PROLOGUE x[in.rd] = s1 < s2; NEXT_INSN
        } L_xor_: { PROLOGUE x[in.rd] = s1 ^ s2; NEXT_INSN
        } L_srl: { PROLOGUE x[in.rd] = s1 >> (s2 & 31); NEXT_INSN
        } L_sra: { PROLOGUE x[in.rd] = static_cast<uint32_t>(static_cast<int32_t>(s1) >> (s2 & 31)); NEXT_INSN
        } L_or_: { PROLOGUE x[in.rd] = s1 | s2; NEXT_INSN
        } L_and_: { PROLOGUE x[in.rd] = s1 & s2; NEXT_INSN
        } L_mul: { PROLOGUE x[in.rd] = s1 * s2; EXTRA_CYCLES(mul_extra); NEXT_INSN
        } L_mulh: { PROLOGUE 
            x[in.rd] = static_cast<uint32_t>(
                (static_cast<int64_t>(static_cast<int32_t>(s1)) * static_cast<int32_t>(s2)) >> 32);
            EXTRA_CYCLES(mul_extra);
            NEXT_INSN
        } L_mulhsu: { PROLOGUE 
            x[in.rd] = static_cast<uint32_t>(
                (static_cast<int64_t>(static_cast<int32_t>(s1)) * static_cast<int64_t>(s2)) >> 32);
            EXTRA_CYCLES(mul_extra);
            NEXT_INSN
        } L_mulhu: { PROLOGUE 
            x[in.rd] = static_cast<uint32_t>((static_cast<uint64_t>(s1) * s2) >> 32);
            EXTRA_CYCLES(mul_extra);
            NEXT_INSN
        } L_div: { PROLOGUE {  // x / 0 = -1; INT_MIN / -1 = INT_MIN (no trap: the spec's choice)
            const auto a = static_cast<int32_t>(s1), b = static_cast<int32_t>(s2);
            x[in.rd] = b == 0 ? ~0u : (a == INT32_MIN && b == -1) ? s1 : static_cast<uint32_t>(a / b);
            EXTRA_CYCLES(div_extra);
            NEXT_INSN
        }
        } L_divu: { PROLOGUE x[in.rd] = s2 == 0 ? ~0u : s1 / s2; EXTRA_CYCLES(div_extra); NEXT_INSN
        } L_rem: { PROLOGUE {  // x % 0 = x; INT_MIN % -1 = 0
            const auto a = static_cast<int32_t>(s1), b = static_cast<int32_t>(s2);
            x[in.rd] = b == 0 ? s1 : (a == INT32_MIN && b == -1) ? 0 : static_cast<uint32_t>(a % b);
            EXTRA_CYCLES(div_extra);
            NEXT_INSN
        }
        } L_remu: { PROLOGUE x[in.rd] = s2 == 0 ? s1 : s1 % s2; EXTRA_CYCLES(div_extra); NEXT_INSN
        } L_fence: { PROLOGUE NEXT_INSN  // one hart, in-order memory: nothing to order
        } L_fence_i: { PROLOGUE 
            SPILL();
            fence_i();
            NEXT_INSN
        } L_csrrw: L_csrrs: L_csrrc: L_csrrwi: L_csrrsi: L_csrrci: { PROLOGUE {
            const insn copy = in;
            SLOW(exec_csr(copy));
            NEXT_INSN
        }
        } L_lr_w: L_sc_w: L_amoswap_w: L_amoadd_w: L_amoxor_w: L_amoand_w:
        L_amoor_w: L_amomin_w: L_amomax_w: L_amominu_w: L_amomaxu_w: { PROLOGUE {
            const insn copy = in;
            SLOW(exec_amo(copy));
            NEXT_INSN
        }
        } L_ecall: { PROLOGUE 
            SPILL();
            take_trap(cause_ecall_m, 0);
            RELOAD();
            goto next_fetch;
        } L_ebreak: { PROLOGUE 
            SPILL();
            take_trap(cause_breakpoint, pc);
            RELOAD();
            goto next_fetch;
        } L_mret: { PROLOGUE 
            npc = mepc_;
            mstatus_ = (mstatus_ & ~mstatus_mie) | ((mstatus_ & mstatus_mpie) ? mstatus_mie : 0) | mstatus_mpie;
            attention();  // interrupts may be enabled now: end the batch
            stop = 0;
            NEXT_INSN
        } L_wfi: { PROLOGUE 
            if (!(mip_ & mie_)) {
                wfi_pending_ = true;
                attention();
                stop = 0;
            }
            NEXT_INSN
        } L_illegal: { PROLOGUE 
            SPILL();
            take_trap(cause_illegal, imm);
            RELOAD();
            goto next_fetch;
        }
        L_decode: L_count_:  // never in a block (a slow path ends it first): fetch pc again
            goto next_fetch;
    next_fetch:;
    }
    SPILL();
#undef NEXT_INSN
#undef PROLOGUE
#undef EXTRA_CYCLES
#undef STORE
#undef LOAD
#undef SLOW
#undef RELOAD
#undef SPILL
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
