// The control core's x86-64 template JIT (see rv32_jit.h for the design).
#include "tlm/cpu/rv32_jit.h"

#include <cstring>
#include <stdexcept>

#include <sys/mman.h>
#include <unistd.h>

#include "tlm/cpu/rv32_core.h"

namespace accelvp {

using rv32::op;

bool rv32_jit::supported() {
#if defined(__x86_64__) && defined(__linux__)
    return true;
#else
    return false;
#endif
}

namespace {

constexpr size_t code_buffer_size = 2u << 20;  // virtual; pages are touched as code is written
constexpr uint32_t no_pc = 1;  // odd: never a pc

// Host registers (x86-64 numbering).
enum : uint8_t { rax = 0, rcx = 1, rdx = 2 };

// Machine code for one block, at a known final address (rel32 targets).
class emitter {
public:
    explicit emitter(uintptr_t origin) : origin_(origin) {}
    std::vector<uint8_t> b;

    void u8(std::initializer_list<uint8_t> v) { b.insert(b.end(), v); }
    void u32(uint32_t v) {
        for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
    size_t pos() const { return b.size(); }
    // [rbx + disp8]: guest register r (rbx = x_ + 16 words, so every disp fits in 8 bits).
    void greg(uint8_t reg, unsigned r) {
        b.push_back(static_cast<uint8_t>(0x40 | (reg << 3) | 3));
        b.push_back(static_cast<uint8_t>(static_cast<int8_t>(4 * static_cast<int>(r) - 64)));
    }
    // Within a block eax often still holds the guest register the previous instruction
    // wrote (`cached`): reading it again then costs no load, which keeps dependency chains
    // out of store-to-load forwarding. Every emission that changes eax otherwise calls
    // clobber(); the stores to x_ still happen (exits and slow paths read x_).
    int cached = -1;
    void clobber() { cached = -1; }
    // The r/m operand for guest register r: eax if it holds it, else x[r].
    void operand(uint8_t reg, unsigned r) {
        if (cached == static_cast<int>(r))
            b.push_back(static_cast<uint8_t>(0xC0 | (reg << 3) | rax));
        else
            greg(reg, r);
    }
    void ld(uint8_t reg, unsigned r) {  // mov reg32, x[r]
        if (reg == rax) {
            if (cached == static_cast<int>(r)) return;
            u8({0x8B});
            greg(reg, r);
            cached = static_cast<int>(r);
            return;
        }
        u8({0x8B});
        operand(reg, r);
    }
    void st(unsigned r, uint8_t reg) {  // mov x[r], reg32
        u8({0x89});
        greg(reg, r);
        if (reg == rax)
            cached = r == rv32::x0_sink ? -1 : static_cast<int>(r);
        else if (cached == static_cast<int>(r))
            cached = -1;
    }
    void st_imm(unsigned r, uint32_t v) {  // mov dword x[r], imm
        u8({0xC7});
        greg(0, r);
        u32(v);
        if (cached == static_cast<int>(r)) cached = -1;
    }
    void alu_m(uint8_t opc, uint8_t reg, unsigned r) {  // op reg32, x[r] (reg = eax: changes it, but cmp)
        u8({opc});
        operand(reg, r);
        if (reg == rax && opc != 0x3B) cached = -1;
    }
    // op reg32, imm (ext: add 0, or 1, and 4, sub 5, xor 6, cmp 7)
    void alu_i(uint8_t ext, uint8_t reg, int32_t imm) {
        if (reg == rax && ext != 7) cached = -1;
        if (imm >= -128 && imm <= 127) {
            u8({0x83, static_cast<uint8_t>(0xC0 | (ext << 3) | reg), static_cast<uint8_t>(imm)});
        } else {
            u8({0x81, static_cast<uint8_t>(0xC0 | (ext << 3) | reg)});
            u32(static_cast<uint32_t>(imm));
        }
    }
    // jcc rel32 / jmp rel32 to a later label: returns the rel32's position for bind().
    size_t jcc(uint8_t cc) { u8({0x0F, static_cast<uint8_t>(0x80 | cc)}); u32(0); return pos() - 4; }
    size_t jmp() { u8({0xE9}); u32(0); return pos() - 4; }
    void bind(size_t at) { bind_to(at, pos()); }
    void bind_to(size_t at, size_t target) {
        const auto rel = static_cast<uint32_t>(static_cast<int32_t>(target) - static_cast<int32_t>(at + 4));
        std::memcpy(&b[at], &rel, 4);
    }
    void jmp_abs(const uint8_t* target) {  // jmp rel32 to an address in the code buffer
        u8({0xE9});
        const auto here = static_cast<int64_t>(origin_ + pos() + 4);
        u32(static_cast<uint32_t>(static_cast<int32_t>(reinterpret_cast<intptr_t>(target) - here)));
    }
    // The batch counters: n += k; stop -= e; extra += e.
    void counts(unsigned k, uint32_t e) {
        if (k) {
            if (k < 128)
                u8({0x49, 0x83, 0xC4, static_cast<uint8_t>(k)});
            else {
                u8({0x49, 0x81, 0xC4});
                u32(k);
            }
        }
        if (e) {
            u8({0x49, 0x81, 0xED});
            u32(e);
            u8({0x49, 0x81, 0xC6});
            u32(e);
        }
    }

private:
    uintptr_t origin_;
};

bool translated(op o) {
    switch (o) {
    case op::lui: case op::auipc: case op::jal: case op::jalr:
    case op::beq: case op::bne: case op::blt: case op::bge: case op::bltu: case op::bgeu:
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

bool is_mul(op o) { return o == op::mul || o == op::mulh || o == op::mulhsu || o == op::mulhu; }
bool is_div(op o) { return o == op::div || o == op::divu || o == op::rem || o == op::remu; }

} // namespace

rv32_jit::rv32_jit(rv32_core& core) : core_(core) {
    if (!supported()) throw std::logic_error("rv32_jit: not an x86-64 host");
    void* m = mmap(nullptr, code_buffer_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::runtime_error("rv32_jit: cannot map the code buffer");
    buf_ = static_cast<uint8_t*>(m);
    size_ = code_buffer_size;
    table_.assign(size_t{1} << table_bits, table_entry{no_pc, 0, nullptr});
    st.x = core_.x_;
    st.table = table_.data();
    st.tlb = core_.rtlb_;

    // The trampolines at the start of the buffer. Entry (rdi = &st, rsi = code): save the
    // callee-saved registers, load the fixed ones, jump to the block. Exit (eax = pc,
    // edx = side): store the counters and pc, restore, return.
    emitter e(reinterpret_cast<uintptr_t>(buf_));
    e.u8({0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57});  // push rbx, rbp, r12-r15
    e.u8({0x48, 0x83, 0xEC, 0x08});                                     // sub rsp, 8
    e.u8({0x48, 0x89, 0x3C, 0x24});                                     // mov [rsp], rdi
    e.u8({0x48, 0x8B, 0x1F});                                           // mov rbx, [rdi]
    e.u8({0x48, 0x83, 0xC3, 0x40});                                     // add rbx, 64
    e.u8({0x48, 0x8B, 0x6F, 0x08});                                     // mov rbp, [rdi+8]
    e.u8({0x4C, 0x8B, 0x7F, 0x10});                                     // mov r15, [rdi+16]
    e.u8({0x4C, 0x8B, 0x67, 0x18});                                     // mov r12, [rdi+24]
    e.u8({0x4C, 0x8B, 0x6F, 0x20});                                     // mov r13, [rdi+32]
    e.u8({0x4C, 0x8B, 0x77, 0x28});                                     // mov r14, [rdi+40]
    e.u8({0xFF, 0xE6});                                                 // jmp rsi
    while (e.pos() % 16) e.u8({0xCC});
    exit_ = buf_ + e.pos();
    e.u8({0x48, 0x8B, 0x3C, 0x24});                                     // mov rdi, [rsp]
    e.u8({0x4C, 0x89, 0x67, 0x18});                                     // mov [rdi+24], r12
    e.u8({0x4C, 0x89, 0x6F, 0x20});                                     // mov [rdi+32], r13
    e.u8({0x4C, 0x89, 0x77, 0x28});                                     // mov [rdi+40], r14
    e.u8({0x89, 0x47, 0x30});                                           // mov [rdi+48], eax
    e.u8({0x89, 0x57, 0x34});                                           // mov [rdi+52], edx
    e.u8({0x48, 0x83, 0xC4, 0x08});                                     // add rsp, 8
    e.u8({0x41, 0x5F, 0x41, 0x5E, 0x41, 0x5D, 0x41, 0x5C, 0x5D, 0x5B});  // pop r15-r12, rbp, rbx
    e.u8({0xC3});                                                       // ret
    while (e.pos() % 64) e.u8({0xCC});
    std::memcpy(buf_, e.b.data(), e.b.size());
    tramp_end_ = used_ = e.b.size();
    if (mprotect(buf_, size_, PROT_READ | PROT_EXEC) != 0) throw std::runtime_error("rv32_jit: mprotect failed");
}

rv32_jit::~rv32_jit() { munmap(buf_, size_); }

static_assert(offsetof(rv32_jit::state, x) == 0 && offsetof(rv32_jit::state, table) == 8 &&
                  offsetof(rv32_jit::state, tlb) == 16 && offsetof(rv32_jit::state, n) == 24 &&
                  offsetof(rv32_jit::state, stop) == 32 && offsetof(rv32_jit::state, extra) == 40 &&
                  offsetof(rv32_jit::state, pc) == 48 && offsetof(rv32_jit::state, side) == 52,
              "the trampolines' offsets");

// clang's -fsanitize=function checks a type signature in front of the callee, which
// generated code does not carry (the fuzz build uses clang with UBSan).
#if defined(__clang__)
__attribute__((no_sanitize("function")))
#endif
void rv32_jit::run(const uint8_t* code) {
    using entry_fn = void (*)(state*, const uint8_t*);
    entry_fn f;
    const uint8_t* entry = buf_;
    static_assert(sizeof(f) == sizeof(entry), "function pointer size");
    std::memcpy(&f, &entry, sizeof(f));
    f(&st, code);
}

const uint8_t* rv32_jit::code_for(uint32_t pc) {
    table_entry& t = table_[(pc >> 1) & ((1u << table_bits) - 1)];
    if (t.pc == pc) return t.code;
    const uint8_t* c;
    if (auto it = blocks_.find(pc); it != blocks_.end())
        c = it->second;
    else
        c = translate(pc);
    if (c) t = table_entry{pc, 0, c};
    return c;
}

void rv32_jit::drop_page(uint32_t pn) {
    auto it = by_page_.find(pn);
    if (it == by_page_.end()) return;
    for (uint32_t pc : it->second) {
        blocks_.erase(pc);
        table_entry& t = table_[(pc >> 1) & ((1u << table_bits) - 1)];
        if (t.pc == pc) t = table_entry{no_pc, 0, nullptr};
    }
    by_page_.erase(it);
}

void rv32_jit::flush() {
    blocks_.clear();
    by_page_.clear();
    std::fill(table_.begin(), table_.end(), table_entry{no_pc, 0, nullptr});
    used_ = tramp_end_;
}

bool rv32_jit::install(const std::vector<uint8_t>& code, size_t at) {
    const size_t pg = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t first = at / pg * pg, last = (at + code.size() + pg - 1) / pg * pg;
    if (mprotect(buf_ + first, last - first, PROT_READ | PROT_WRITE) != 0) return false;
    std::memcpy(buf_ + at, code.data(), code.size());
    return mprotect(buf_ + first, last - first, PROT_READ | PROT_EXEC) == 0;
}

const uint8_t* rv32_jit::translate(uint32_t pc) {
    using page = rv32_core::code_page;
    constexpr uint32_t page_bits = rv32_core::page_bits, page_mask = rv32_core::page_mask;
    page* p = core_.pages_.find(pc >> page_bits);
    if (!p || !p->host) return nullptr;
    const rv32::insn& head = p->slot[(pc & ~page_mask) >> 1];
    if (head.code == op::decode) return nullptr;
    if (head.run == 0) core_.build_block(*p, pc);
    // The block's instructions, up to the first one the JIT leaves to the interpreter.
    struct item {
        uint32_t pc;
        rv32::insn in;
        uint32_t extra_before;  // mul/div cycles of the instructions before it
    };
    std::vector<item> items;
    const uint32_t mul = core_.p_.mul_cycles, div = core_.p_.div_cycles;
    uint32_t off = pc & ~page_mask, extra = 0;
    bool cut = false;  // ends before an instruction the interpreter runs
    for (unsigned i = 0; i < head.run; ++i) {
        const rv32::insn& s = p->slot[off >> 1];
        if (!translated(s.code)) {
            cut = true;
            break;
        }
        items.push_back({(pc & page_mask) + off, s, extra});
        extra += is_mul(s.code) ? mul : is_div(s.code) ? div : 0;
        off += s.len;
    }
    blocks_[pc] = nullptr;
    by_page_[pc >> page_bits].push_back(pc);
    if (items.empty()) return nullptr;
    const unsigned m = static_cast<unsigned>(items.size());
    const uint32_t last_pc = items.back().pc + items.back().in.len;

    // Room for the worst case (about 80 bytes per instruction and per exit).
    const size_t worst = 64 + static_cast<size_t>(m) * 200;
    if (used_ + worst > size_) {
        flush();
        blocks_[pc] = nullptr;
        by_page_[pc >> page_bits].push_back(pc);
    }
    const size_t at = used_;
    emitter e(reinterpret_cast<uintptr_t>(buf_ + at));

    auto exit_side = [&](uint32_t to) {  // eax = to, side = 1
        e.u8({0xB8});
        e.u32(to);
        e.u8({0xBA});
        e.u32(1);
        e.jmp_abs(exit_);
    };
    auto exit_chain = [&](uint32_t to) {  // to the translation of `to` if the table has it
        const uint32_t disp = ((to >> 1) & ((1u << table_bits) - 1)) * 16;
        e.u8({0x81, 0xBD});  // cmp dword [rbp + disp], to
        e.u32(disp);
        e.u32(to);
        const size_t miss = e.jcc(0x5);
        e.u8({0xFF, 0xA5});  // jmp qword [rbp + disp + 8]
        e.u32(disp + 8);
        e.bind(miss);
        e.u8({0xB8});  // mov eax, to
        e.u32(to);
        e.u8({0x31, 0xD2});  // xor edx, edx
        e.jmp_abs(exit_);
    };
    auto exit_dynamic = [&] {  // to eax
        e.u8({0x89, 0xC1, 0xD1, 0xE9, 0x81, 0xE1});  // mov ecx, eax; shr ecx, 1; and ecx, mask
        e.u32((1u << table_bits) - 1);
        e.u8({0xC1, 0xE1, 0x04});        // shl ecx, 4
        e.u8({0x3B, 0x44, 0x0D, 0x00});  // cmp eax, [rbp + rcx]
        const size_t miss = e.jcc(0x5);
        e.u8({0xFF, 0x64, 0x0D, 0x08});  // jmp qword [rbp + rcx + 8]
        e.bind(miss);
        e.u8({0x31, 0xD2});  // xor edx, edx
        e.jmp_abs(exit_);
    };

    // Entry: does the block fit in the batch? (n + its cycles <= stop)
    const uint64_t cost = m + extra;
    e.u8({0x49, 0x8D, 0x84, 0x24});  // lea rax, [r12 + cost]
    e.u32(static_cast<uint32_t>(cost));
    e.u8({0x4C, 0x39, 0xE8});  // cmp rax, r13
    const size_t nofit = e.jcc(0x7);  // ja

    struct side_exit {
        size_t jump;
        uint32_t pc, k, extra;
    };
    std::vector<side_exit> sides;
    const auto tlb_dist = static_cast<uint32_t>(reinterpret_cast<const char*>(core_.wtlb_) -
                                                reinterpret_cast<const char*>(core_.rtlb_));
    bool ended = false;
    for (unsigned i = 0; i < m; ++i) {
        const item& it = items[i];
        const rv32::insn& in = it.in;
        const unsigned rd = in.rd, s1 = in.rs1, s2 = in.rs2;
        const auto imm = static_cast<uint32_t>(in.imm);
        const uint32_t ipc = it.pc, npc = ipc + in.len;
        const uint32_t extra_after = it.extra_before + (is_mul(in.code) ? mul : is_div(in.code) ? div : 0);
        auto addr = [&] {  // eax = x[rs1] + imm; ecx = TLB index * 16; edx = tag to compare
            e.ld(rax, s1);
            if (imm) e.alu_i(0, rax, in.imm);
        };
        auto tlb_check = [&](unsigned size, uint32_t tlb_off) {
            e.u8({0x89, 0xC1, 0xC1, 0xE9, 0x0C});  // mov ecx, eax; shr ecx, 12
            static_assert(rv32_core::tlb_size == 256, "movzx ecx, cl indexes the TLB");
            e.u8({0x0F, 0xB6, 0xC9, 0xC1, 0xE1, 0x04});  // movzx ecx, cl; shl ecx, 4
            e.u8({0x89, 0xC2, 0x81, 0xE2});               // mov edx, eax; and edx, mask
            e.u32(page_mask | (size - 1));
            e.u8({0x41, 0x3B, 0x94, 0x0F});  // cmp edx, [r15 + rcx + tag]
            e.u32(tlb_off + static_cast<uint32_t>(offsetof(rv32_core::tlb_entry, tag)));
            sides.push_back({e.jcc(0x5), ipc, i, it.extra_before});
            e.u8({0x49, 0x8B, 0x94, 0x0F});  // mov rdx, [r15 + rcx + offset]
            e.u32(tlb_off + static_cast<uint32_t>(offsetof(rv32_core::tlb_entry, offset)));
        };
        auto load = [&](unsigned size, std::initializer_list<uint8_t> mov) {
            addr();
            tlb_check(size, 0);
            e.u8(mov);  // reg eax, [rdx + rax]
            e.clobber();
            e.st(rd, rax);
        };
        auto store = [&](unsigned size) {
            addr();
            tlb_check(size, tlb_dist);
            e.ld(rcx, s2);
            if (size == 2) e.u8({0x66});
            e.u8({static_cast<uint8_t>(size == 1 ? 0x88 : 0x89), 0x0C, 0x02});  // mov [rdx + rax], cl/cx/ecx
        };
        auto alu_rr = [&](uint8_t opc) {
            e.ld(rax, s1);
            e.alu_m(opc, rax, s2);
            e.st(rd, rax);
        };
        auto alu_ri = [&](uint8_t ext) {
            e.ld(rax, s1);
            e.alu_i(ext, rax, in.imm);
            e.st(rd, rax);
        };
        auto set_cc = [&](uint8_t cc, bool with_imm) {
            e.ld(rax, s1);
            if (with_imm)
                e.alu_i(7, rax, in.imm);
            else
                e.alu_m(0x3B, rax, s2);
            e.u8({0x0F, static_cast<uint8_t>(0x90 | cc), 0xC0, 0x0F, 0xB6, 0xC0});  // setcc al; movzx eax, al
            e.clobber();
            e.st(rd, rax);
        };
        auto shift_i = [&](uint8_t ext) {
            e.ld(rax, s1);
            e.u8({0xC1, static_cast<uint8_t>(0xC0 | (ext << 3)), static_cast<uint8_t>(imm & 31)});
            e.clobber();
            e.st(rd, rax);
        };
        auto shift_r = [&](uint8_t ext) {
            e.ld(rax, s1);
            e.ld(rcx, s2);
            e.u8({0xD3, static_cast<uint8_t>(0xC0 | (ext << 3))});  // shift eax, cl (the count masked to 5 bits)
            e.clobber();
            e.st(rd, rax);
        };
        auto branch = [&](uint8_t cc) {
            e.ld(rax, s1);
            e.alu_m(0x3B, rax, s2);
            const size_t taken = e.jcc(cc);
            e.counts(i + 1, extra_after);
            exit_chain(npc);
            e.bind(taken);
            e.counts(i + 1, extra_after);
            exit_chain(ipc + imm);
            ended = true;
        };
        auto divide = [&](bool is_signed, bool rem) {
            e.ld(rax, s1);
            e.ld(rcx, s2);
            e.u8({0x85, 0xC9});  // test ecx, ecx
            const size_t zero = e.jcc(0x4);
            size_t norm1 = 0, norm2 = 0, done1 = 0;
            if (is_signed) {
                e.u8({0x83, 0xF9, 0xFF});  // cmp ecx, -1
                norm1 = e.jcc(0x5);
                e.u8({0x3D, 0x00, 0x00, 0x00, 0x80});  // cmp eax, INT_MIN
                norm2 = e.jcc(0x5);
                if (rem)  // INT_MIN % -1 = 0, INT_MIN / -1 = INT_MIN
                    e.st_imm(rd, 0);
                else
                    e.st(rd, rax);
                done1 = e.jmp();
            }
            const size_t norm_at = e.pos();
            if (is_signed) {
                e.bind_to(norm1, norm_at);
                e.bind_to(norm2, norm_at);
                e.u8({0x99, 0xF7, 0xF9});  // cdq; idiv ecx
            } else {
                e.u8({0x31, 0xD2, 0xF7, 0xF1});  // xor edx, edx; div ecx
            }
            e.st(rd, rem ? rdx : rax);
            const size_t done2 = e.jmp();
            e.bind(zero);  // x / 0 = -1, x % 0 = x
            if (rem)
                e.st(rd, rax);
            else
                e.st_imm(rd, ~0u);
            if (is_signed) e.bind(done1);
            e.bind(done2);
        };
        switch (in.code) {
        case op::lui: e.st_imm(rd, imm); break;
        case op::auipc: e.st_imm(rd, ipc + imm); break;
        case op::jal:
            e.st_imm(rd, npc);
            e.counts(i + 1, extra_after);
            exit_chain(ipc + imm);
            ended = true;
            break;
        case op::jalr:
            e.ld(rax, s1);
            if (imm) e.alu_i(0, rax, in.imm);
            e.u8({0x83, 0xE0, 0xFE});  // and eax, ~1
            e.clobber();
            e.st_imm(rd, npc);
            e.counts(i + 1, extra_after);
            exit_dynamic();
            ended = true;
            break;
        case op::beq: branch(0x4); break;
        case op::bne: branch(0x5); break;
        case op::blt: branch(0xC); break;
        case op::bge: branch(0xD); break;
        case op::bltu: branch(0x2); break;
        case op::bgeu: branch(0x3); break;
        case op::lb: load(1, {0x0F, 0xBE, 0x04, 0x02}); break;
        case op::lh: load(2, {0x0F, 0xBF, 0x04, 0x02}); break;
        case op::lw: load(4, {0x8B, 0x04, 0x02}); break;
        case op::lbu: load(1, {0x0F, 0xB6, 0x04, 0x02}); break;
        case op::lhu: load(2, {0x0F, 0xB7, 0x04, 0x02}); break;
        case op::sb: store(1); break;
        case op::sh: store(2); break;
        case op::sw: store(4); break;
        case op::addi:
            e.ld(rax, s1);
            if (imm) e.alu_i(0, rax, in.imm);
            e.st(rd, rax);
            break;
        case op::slti: set_cc(0xC, true); break;
        case op::sltiu: set_cc(0x2, true); break;
        case op::xori: alu_ri(6); break;
        case op::ori: alu_ri(1); break;
        case op::andi: alu_ri(4); break;
        case op::slli: shift_i(4); break;
        case op::srli: shift_i(5); break;
        case op::srai: shift_i(7); break;
        case op::add: alu_rr(0x03); break;
        case op::sub: alu_rr(0x2B); break;
        case op::sll: shift_r(4); break;
        case op::slt: set_cc(0xC, false); break;
        case op::sltu: set_cc(0x2, false); break;
        case op::xor_: alu_rr(0x33); break;
        case op::srl: shift_r(5); break;
        case op::sra: shift_r(7); break;
        case op::or_: alu_rr(0x0B); break;
        case op::and_: alu_rr(0x23); break;
        case op::mul:
            e.ld(rax, s1);
            e.u8({0x0F, 0xAF});  // imul eax, x[rs2]
            e.operand(rax, s2);
            e.clobber();
            e.st(rd, rax);
            break;
        case op::mulh:
        case op::mulhu:
            e.ld(rax, s1);
            e.u8({0xF7});  // imul/mul dword x[rs2]: edx:eax
            e.operand(in.code == op::mulh ? 5 : 4, s2);
            e.clobber();
            e.st(rd, rdx);
            break;
        case op::mulhsu:
            e.ld(rcx, s2);  // zero-extended (before eax changes)
            e.u8({0x48, 0x63});  // movsxd rax, x[rs1]
            e.operand(rax, s1);
            e.clobber();
            e.u8({0x48, 0x0F, 0xAF, 0xC1, 0x48, 0xC1, 0xE8, 0x20});  // imul rax, rcx; shr rax, 32
            e.st(rd, rax);
            break;
        case op::div: divide(true, false); e.clobber(); break;
        case op::divu: divide(false, false); e.clobber(); break;
        case op::rem: divide(true, true); e.clobber(); break;
        case op::remu: divide(false, true); e.clobber(); break;
        case op::fence: break;
        default: break;  // not translated (filtered above)
        }
        if (ended) break;
    }
    if (!ended) {  // fell off the block's end: the next instruction
        e.counts(m, extra);
        if (cut)
            exit_side(last_pc);  // the interpreter runs the instruction that cut the block
        else
            exit_chain(last_pc);
    }
    // The out-of-line exits: the block does not fit; a load/store leaves the fast path.
    e.bind(nofit);
    exit_side(pc);
    for (const side_exit& s : sides) {
        e.bind(s.jump);
        e.counts(s.k, s.extra);
        exit_side(s.pc);
    }
    if (e.b.size() > worst || !install(e.b, at)) return nullptr;
    used_ = (at + e.b.size() + 15) / 16 * 16;
    ++translated_;
    const uint8_t* code = buf_ + at;
    blocks_[pc] = code;
    return code;
}

} // namespace accelvp
