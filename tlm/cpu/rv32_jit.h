// rv32_jit: a template JIT for the control core (cpu.engine=jit, x86-64 hosts only).
//
// It translates one basic block of the decode cache (the same blocks the interpreter
// runs, see rv32_core.h) into x86-64 code, one fixed template per instruction:
// - guest registers stay in the core's x_ array, addressed off rbx; the batch counters
//   live in host registers (r12 = instructions retired in the batch `n`, r13 = the batch
//   end `stop`, r14 = the extra mul/div cycles), exactly the interpreter's locals;
// - a block first checks that it fits in the batch (n + its cycles <= stop) and otherwise
//   returns to the interpreter, which steps instruction by instruction: the batch ends at
//   the same instruction as with the interpreter, so counts, quantum ends and interrupt
//   boundaries are identical;
// - ALU, M and branches are inline; loads and stores go inline through the core's DMI
//   TLBs (one compare for page tag and alignment) and leave the block before the access
//   on a miss (MMIO, faults, watched pages, stores into code), so the interpreter runs that
//   instruction with its slow path;
// - CSR, ecall, ebreak, mret, wfi, fence.i, AMOs and illegal encodings end a translated
//   block: the interpreter runs them;
// - blocks chain through a direct-mapped table (guest pc -> host code), inline for
//   branch/jal targets and for jalr's computed target, so a hot loop stays in generated
//   code until its batch ends.
// The code buffer is mapped read+write while a block is copied in and read+execute
// otherwise (never both). A page's translations go with the page (a store into code,
// fence.i, a DMI invalidation, a breakpoint): no stale translation survives them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace accelvp {

class rv32_core;

class rv32_jit {
public:
    // True if this host can run generated code (x86-64).
    static bool supported();

    // What the generated code reads and writes (offsets are fixed in the templates).
    struct state {
        uint32_t* x = nullptr;     // 0: the core's x_ (+16 words: rbx points there)
        void* table = nullptr;     // 8: the chaining table
        void* tlb = nullptr;       // 16: the core's rtlb_ (wtlb_ at a fixed distance)
        uint64_t n = 0;            // 24
        uint64_t stop = 0;         // 32
        uint64_t extra = 0;        // 40: extra cycles (mul/div) taken
        uint32_t pc = 0;           // 48: where it stopped
        uint32_t side = 0;         // 52: 1 = the interpreter must run the instruction at pc
    };

    explicit rv32_jit(rv32_core& core);
    ~rv32_jit();
    rv32_jit(const rv32_jit&) = delete;
    rv32_jit& operator=(const rv32_jit&) = delete;

    // The translation of the block at `pc` (head slot decoded, block built), translating it
    // now if needed; nullptr if its first instruction is not translated (the interpreter
    // runs it).
    const uint8_t* code_for(uint32_t pc);
    // Run generated code from `code` with st.n/stop/extra set; fills st.
    void run(const uint8_t* code);
    state st;

    // Forget the translations of page `pn`.
    void drop_page(uint32_t pn);
    uint64_t blocks_translated() const { return translated_; }

private:
    struct table_entry {
        uint32_t pc;
        uint32_t pad;
        const uint8_t* code;
    };
    static constexpr unsigned table_bits = 12;

    const uint8_t* translate(uint32_t pc);
    void flush();  // forget everything (the code buffer is full)
    bool install(const std::vector<uint8_t>& code, size_t at);

    rv32_core& core_;
    uint8_t* buf_ = nullptr;  // the code buffer (mmap)
    size_t size_ = 0, used_ = 0, tramp_end_ = 0;
    const uint8_t* exit_ = nullptr;  // the exit trampoline
    std::vector<table_entry> table_;
    std::unordered_map<uint32_t, const uint8_t*> blocks_;           // pc -> code (nullptr: not translated)
    std::unordered_map<uint32_t, std::vector<uint32_t>> by_page_;   // page number -> pcs in blocks_
    uint64_t translated_ = 0;
};

} // namespace accelvp
