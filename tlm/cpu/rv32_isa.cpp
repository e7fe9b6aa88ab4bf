#include "tlm/cpu/rv32_isa.h"

#include <cstddef>
#include <cstdio>
#include <string>

namespace accelvp::rv32 {

namespace {

constexpr uint32_t bits(uint32_t v, unsigned hi, unsigned lo) { return (v >> lo) & ((1u << (hi - lo + 1)) - 1); }
constexpr uint32_t bit(uint32_t v, unsigned b) { return (v >> b) & 1u; }
// Sign-extend the low `width` bits.
constexpr int32_t sext(uint32_t v, unsigned width) {
    const uint32_t m = 1u << (width - 1);
    v &= (width == 32) ? ~0u : ((1u << width) - 1);
    return static_cast<int32_t>((v ^ m) - m);
}
constexpr uint8_t dst(uint32_t r) { return r == 0 ? x0_sink : static_cast<uint8_t>(r); }

insn make(op o, uint32_t rd, uint32_t rs1, uint32_t rs2, int32_t imm, uint8_t len) {
    insn i;
    i.code = o;
    i.rd = dst(rd);
    i.rs1 = static_cast<uint8_t>(rs1);
    i.rs2 = static_cast<uint8_t>(rs2);
    i.imm = imm;
    i.len = len;
    return i;
}
insn illegal(uint32_t raw, uint8_t len) {
    return make(op::illegal, 0, 0, 0, static_cast<int32_t>(len == 2 ? (raw & 0xFFFF) : raw), len);
}

insn decode32(uint32_t r) {
    const uint32_t rd = bits(r, 11, 7), rs1 = bits(r, 19, 15), rs2 = bits(r, 24, 20);
    const uint32_t f3 = bits(r, 14, 12), f7 = bits(r, 31, 25);
    const int32_t imm_i = static_cast<int32_t>(r) >> 20;
    const int32_t imm_s = static_cast<int32_t>(((static_cast<int32_t>(r) >> 25) * 32) | static_cast<int32_t>(bits(r, 11, 7)));
    const int32_t imm_b = sext((bit(r, 31) << 12) | (bit(r, 7) << 11) | (bits(r, 30, 25) << 5) | (bits(r, 11, 8) << 1), 13);
    const int32_t imm_u = static_cast<int32_t>(r & 0xFFFFF000u);
    const int32_t imm_j =
        sext((bit(r, 31) << 20) | (bits(r, 19, 12) << 12) | (bit(r, 20) << 11) | (bits(r, 30, 21) << 1), 21);
    auto I = [&](op o) { return make(o, rd, rs1, 0, imm_i, 4); };
    auto R = [&](op o) { return make(o, rd, rs1, rs2, 0, 4); };

    switch (bits(r, 6, 0)) {
    case 0x37: return make(op::lui, rd, 0, 0, imm_u, 4);
    case 0x17: return make(op::auipc, rd, 0, 0, imm_u, 4);
    case 0x6F: return make(op::jal, rd, 0, 0, imm_j, 4);
    case 0x67: return f3 == 0 ? I(op::jalr) : illegal(r, 4);
    case 0x63: {
        static constexpr op br[8] = {op::beq, op::bne, op::illegal, op::illegal, op::blt, op::bge, op::bltu, op::bgeu};
        if (br[f3] == op::illegal) return illegal(r, 4);
        return make(br[f3], 0, rs1, rs2, imm_b, 4);
    }
    case 0x03: {
        static constexpr op ld[8] = {op::lb, op::lh, op::lw, op::illegal, op::lbu, op::lhu, op::illegal, op::illegal};
        return ld[f3] == op::illegal ? illegal(r, 4) : I(ld[f3]);
    }
    case 0x23: {
        static constexpr op st[8] = {op::sb, op::sh, op::sw, op::illegal, op::illegal, op::illegal, op::illegal, op::illegal};
        return st[f3] == op::illegal ? illegal(r, 4) : make(st[f3], 0, rs1, rs2, imm_s, 4);
    }
    case 0x13:
        switch (f3) {
        case 0: return I(op::addi);
        case 2: return I(op::slti);
        case 3: return I(op::sltiu);
        case 4: return I(op::xori);
        case 6: return I(op::ori);
        case 7: return I(op::andi);
        case 1: return f7 == 0 ? make(op::slli, rd, rs1, 0, static_cast<int32_t>(rs2), 4) : illegal(r, 4);
        case 5:
            if (f7 == 0x00) return make(op::srli, rd, rs1, 0, static_cast<int32_t>(rs2), 4);
            if (f7 == 0x20) return make(op::srai, rd, rs1, 0, static_cast<int32_t>(rs2), 4);
            return illegal(r, 4);
        }
        break;
    case 0x33: {
        if (f7 == 0x00) {
            static constexpr op a[8] = {op::add, op::sll, op::slt, op::sltu, op::xor_, op::srl, op::or_, op::and_};
            return R(a[f3]);
        }
        if (f7 == 0x01) {
            static constexpr op m[8] = {op::mul, op::mulh, op::mulhsu, op::mulhu, op::div, op::divu, op::rem, op::remu};
            return R(m[f3]);
        }
        if (f7 == 0x20 && f3 == 0) return R(op::sub);
        if (f7 == 0x20 && f3 == 5) return R(op::sra);
        return illegal(r, 4);
    }
    case 0x0F:
        if (f3 == 0) return make(op::fence, 0, 0, 0, 0, 4);
        if (f3 == 1) return make(op::fence_i, 0, 0, 0, 0, 4);
        return illegal(r, 4);
    case 0x73:
        switch (f3) {
        case 0:
            if (r == 0x00000073u) return make(op::ecall, 0, 0, 0, 0, 4);
            if (r == 0x00100073u) return make(op::ebreak, 0, 0, 0, 0, 4);
            if (r == 0x30200073u) return make(op::mret, 0, 0, 0, 0, 4);
            if (r == 0x10500073u) return make(op::wfi, 0, 0, 0, 0, 4);
            return illegal(r, 4);  // uret/sret/sfence.vma: no U or S mode
        case 4: return illegal(r, 4);
        default: {
            static constexpr op c[8] = {op::illegal, op::csrrw, op::csrrs, op::csrrc,
                                        op::illegal, op::csrrwi, op::csrrsi, op::csrrci};
            return make(c[f3], rd, rs1, 0, static_cast<int32_t>(bits(r, 31, 20)), 4);
        }
        }
    case 0x2F: {
        if (f3 != 2) return illegal(r, 4);
        switch (bits(r, 31, 27)) {
        case 0x02: return rs2 == 0 ? R(op::lr_w) : illegal(r, 4);
        case 0x03: return R(op::sc_w);
        case 0x01: return R(op::amoswap_w);
        case 0x00: return R(op::amoadd_w);
        case 0x04: return R(op::amoxor_w);
        case 0x0C: return R(op::amoand_w);
        case 0x08: return R(op::amoor_w);
        case 0x10: return R(op::amomin_w);
        case 0x14: return R(op::amomax_w);
        case 0x18: return R(op::amominu_w);
        case 0x1C: return R(op::amomaxu_w);
        }
        return illegal(r, 4);
    }
    }
    return illegal(r, 4);
}

// RV32C: each form expands to the base instruction it abbreviates.
insn decode16(uint32_t c) {
    c &= 0xFFFF;
    const uint32_t f3 = bits(c, 15, 13);
    const uint32_t rd = bits(c, 11, 7), rs2 = bits(c, 6, 2);
    const uint32_t rdp = 8 + bits(c, 4, 2), rs1p = 8 + bits(c, 9, 7);  // x8..x15
    const int32_t imm6 = sext((bit(c, 12) << 5) | bits(c, 6, 2), 6);
    // c.j / c.jal offset[11|4|9:8|10|6|7|3:1|5]
    const int32_t imm_j = sext((bit(c, 12) << 11) | (bit(c, 11) << 4) | (bits(c, 10, 9) << 8) | (bit(c, 8) << 10) |
                                   (bit(c, 7) << 6) | (bit(c, 6) << 7) | (bits(c, 5, 3) << 1) | (bit(c, 2) << 5),
                               12);
    // c.beqz / c.bnez offset[8|4:3] [7:6|2:1|5]
    const int32_t imm_b = sext((bit(c, 12) << 8) | (bits(c, 11, 10) << 3) | (bits(c, 6, 5) << 6) |
                                   (bits(c, 4, 3) << 1) | (bit(c, 2) << 5),
                               9);
    // c.lw / c.sw offset[5:3] [2|6]
    const int32_t uimm_w = static_cast<int32_t>((bits(c, 12, 10) << 3) | (bit(c, 6) << 2) | (bit(c, 5) << 6));
    auto C = [](op o, uint32_t d, uint32_t s1, uint32_t s2, int32_t imm) { return make(o, d, s1, s2, imm, 2); };

    switch (bits(c, 1, 0)) {
    case 0:
        switch (f3) {
        case 0: {  // c.addi4spn nzuimm[5:4|9:6|2|3]
            const uint32_t nz = (bits(c, 12, 11) << 4) | (bits(c, 10, 7) << 6) | (bit(c, 6) << 2) | (bit(c, 5) << 3);
            return nz ? C(op::addi, rdp, 2, 0, static_cast<int32_t>(nz)) : illegal(c, 2);
        }
        case 2: return C(op::lw, rdp, rs1p, 0, uimm_w);
        case 6: return C(op::sw, 0, rs1p, rdp, uimm_w);
        }
        return illegal(c, 2);  // FP loads/stores, reserved
    case 1:
        switch (f3) {
        case 0: return C(op::addi, rd, rd, 0, imm6);  // c.nop when rd = 0 (hints allowed)
        case 1: return C(op::jal, 1, 0, 0, imm_j);    // c.jal (RV32 only)
        case 2: return C(op::addi, rd, 0, 0, imm6);   // c.li
        case 3:
            if (rd == 2) {  // c.addi16sp nzimm[9|4|6|8:7|5]
                const int32_t nz = sext((bit(c, 12) << 9) | (bit(c, 6) << 4) | (bit(c, 5) << 6) |
                                            (bits(c, 4, 3) << 7) | (bit(c, 2) << 5),
                                        10);
                return nz ? C(op::addi, 2, 2, 0, nz) : illegal(c, 2);
            }
            // c.lui nzimm[17|16:12]
            return imm6 ? C(op::lui, rd, 0, 0, static_cast<int32_t>(static_cast<uint32_t>(imm6) << 12)) : illegal(c, 2);
        case 4: {
            const uint32_t shamt = (bit(c, 12) << 5) | bits(c, 6, 2);
            switch (bits(c, 11, 10)) {
            case 0: return bit(c, 12) ? illegal(c, 2) : C(op::srli, rs1p, rs1p, 0, static_cast<int32_t>(shamt));
            case 1: return bit(c, 12) ? illegal(c, 2) : C(op::srai, rs1p, rs1p, 0, static_cast<int32_t>(shamt));
            case 2: return C(op::andi, rs1p, rs1p, 0, imm6);
            default:
                if (bit(c, 12)) return illegal(c, 2);  // c.subw/c.addw: RV64 only
                static constexpr op a[4] = {op::sub, op::xor_, op::or_, op::and_};
                return C(a[bits(c, 6, 5)], rs1p, rs1p, rdp, 0);
            }
        }
        case 5: return C(op::jal, 0, 0, 0, imm_j);  // c.j
        case 6: return C(op::beq, 0, rs1p, 0, imm_b);
        case 7: return C(op::bne, 0, rs1p, 0, imm_b);
        }
        break;
    case 2:
        switch (f3) {
        case 0: return bit(c, 12) ? illegal(c, 2) : C(op::slli, rd, rd, 0, static_cast<int32_t>(rs2));
        case 2: {  // c.lwsp offset[5] [4:2|7:6]
            const int32_t off = static_cast<int32_t>((bit(c, 12) << 5) | (bits(c, 6, 4) << 2) | (bits(c, 3, 2) << 6));
            return rd ? C(op::lw, rd, 2, 0, off) : illegal(c, 2);
        }
        case 4:
            if (!bit(c, 12)) {
                if (rs2 == 0) return rd ? C(op::jalr, 0, rd, 0, 0) : illegal(c, 2);  // c.jr
                return C(op::add, rd, 0, rs2, 0);                                   // c.mv
            }
            if (rs2 == 0) return rd ? C(op::jalr, 1, rd, 0, 0) : C(op::ebreak, 0, 0, 0, 0);  // c.jalr / c.ebreak
            return C(op::add, rd, rd, rs2, 0);                                                // c.add
        case 6: {  // c.swsp offset[5:2|7:6]
            const int32_t off = static_cast<int32_t>((bits(c, 12, 9) << 2) | (bits(c, 8, 7) << 6));
            return C(op::sw, 0, 2, rs2, off);
        }
        }
        return illegal(c, 2);
    }
    return illegal(c, 2);
}

} // namespace

insn decode(uint32_t raw) { return is_32bit(raw) ? decode32(raw) : decode16(raw); }

const char* name(op o) {
    static constexpr const char* names[] = {
        "decode", "illegal", "lui", "auipc", "jal", "jalr", "beq", "bne", "blt", "bge", "bltu", "bgeu",
        "lb", "lh", "lw", "lbu", "lhu", "sb", "sh", "sw", "addi", "slti", "sltiu", "xori", "ori", "andi",
        "slli", "srli", "srai", "add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
        "fence", "fence.i", "ecall", "ebreak", "mret", "wfi", "csrrw", "csrrs", "csrrc", "csrrwi", "csrrsi",
        "csrrci", "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu", "lr.w", "sc.w",
        "amoswap.w", "amoadd.w", "amoxor.w", "amoand.w", "amoor.w", "amomin.w", "amomax.w", "amominu.w",
        "amomaxu.w"};
    static_assert(sizeof(names) / sizeof(names[0]) == static_cast<std::size_t>(op::count_), "one name per op");
    const auto i = static_cast<std::size_t>(o);
    return i < static_cast<std::size_t>(op::count_) ? names[i] : "?";
}

std::string disassemble(uint32_t raw, uint32_t pc) {
    // ABI register names (x0_sink, the decoder's x0 destination, prints as zero).
    static constexpr const char* abi[33] = {"zero", "ra", "sp",  "gp",  "tp", "t0", "t1", "t2", "s0", "s1", "a0",
                                            "a1",   "a2", "a3",  "a4",  "a5", "a6", "a7", "s2", "s3", "s4", "s5",
                                            "s6",   "s7", "s8",  "s9",  "s10", "s11", "t3", "t4", "t5", "t6", "zero"};
    const insn in = decode(raw);
    const char* rd = abi[in.rd < 33 ? in.rd : 0];
    const char* rs1 = abi[in.rs1 < 33 ? in.rs1 : 0];
    const char* rs2 = abi[in.rs2 < 33 ? in.rs2 : 0];
    const char* n = name(in.code);
    const uint32_t target = pc + static_cast<uint32_t>(in.imm);
    char b[96];
    switch (in.code) {
    case op::illegal: std::snprintf(b, sizeof b, ".insn 0x%x (illegal)", static_cast<uint32_t>(in.imm)); break;
    case op::lui:
    case op::auipc: std::snprintf(b, sizeof b, "%s %s, 0x%x", n, rd, static_cast<uint32_t>(in.imm) >> 12); break;
    case op::jal: std::snprintf(b, sizeof b, "jal %s, 0x%x", rd, target); break;
    case op::jalr: std::snprintf(b, sizeof b, "jalr %s, %d(%s)", rd, in.imm, rs1); break;
    case op::beq: case op::bne: case op::blt: case op::bge: case op::bltu: case op::bgeu:
        std::snprintf(b, sizeof b, "%s %s, %s, 0x%x", n, rs1, rs2, target);
        break;
    case op::lb: case op::lh: case op::lw: case op::lbu: case op::lhu:
        std::snprintf(b, sizeof b, "%s %s, %d(%s)", n, rd, in.imm, rs1);
        break;
    case op::sb: case op::sh: case op::sw: std::snprintf(b, sizeof b, "%s %s, %d(%s)", n, rs2, in.imm, rs1); break;
    case op::addi: case op::slti: case op::sltiu: case op::xori: case op::ori: case op::andi:
    case op::slli: case op::srli: case op::srai:
        std::snprintf(b, sizeof b, "%s %s, %s, %d", n, rd, rs1, in.imm);
        break;
    case op::fence: case op::fence_i: case op::ecall: case op::ebreak: case op::mret: case op::wfi:
        std::snprintf(b, sizeof b, "%s", n);
        break;
    case op::csrrw: case op::csrrs: case op::csrrc:
        std::snprintf(b, sizeof b, "%s %s, 0x%x, %s", n, rd, static_cast<uint32_t>(in.imm) & 0xFFF, rs1);
        break;
    case op::csrrwi: case op::csrrsi: case op::csrrci:
        std::snprintf(b, sizeof b, "%s %s, 0x%x, %u", n, rd, static_cast<uint32_t>(in.imm) & 0xFFF, in.rs1);
        break;
    case op::lr_w: std::snprintf(b, sizeof b, "%s %s, (%s)", n, rd, rs1); break;
    case op::sc_w: case op::amoswap_w: case op::amoadd_w: case op::amoxor_w: case op::amoand_w: case op::amoor_w:
    case op::amomin_w: case op::amomax_w: case op::amominu_w: case op::amomaxu_w:
        std::snprintf(b, sizeof b, "%s %s, %s, (%s)", n, rd, rs2, rs1);
        break;
    default: std::snprintf(b, sizeof b, "%s %s, %s, %s", n, rd, rs1, rs2); break;  // R-type, M
    }
    return b;
}

} // namespace accelvp::rv32
