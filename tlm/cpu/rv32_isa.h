// RV32IMAC + Zicsr + Zifencei instruction decoding into the ISS's predecoded form.
//
// decode() turns one encoding (16-bit compressed or 32-bit) into an `insn`: an internal
// opcode, register numbers and one immediate. Compressed instructions expand into the
// base opcode they stand for (c.addi -> addi with len 2), so the executor has a single
// case per operation. Destination x0 is mapped to register 32, a write-only sink, so the
// executor writes rd unconditionally and x0 stays zero without a check per instruction.
//
// Plain C++, no SystemC: the decoder is unit-tested on its own.
#pragma once

#include <cstdint>
#include <string>

namespace accelvp::rv32 {

// Register index that absorbs writes to x0.
constexpr uint8_t x0_sink = 32;

enum class op : uint8_t {
    decode = 0,  // cache slot not decoded yet (must stay 0: pages start zeroed)
    illegal,     // imm holds the raw encoding (for mtval)
    // RV32I
    lui, auipc, jal, jalr,
    beq, bne, blt, bge, bltu, bgeu,
    lb, lh, lw, lbu, lhu, sb, sh, sw,
    addi, slti, sltiu, xori, ori, andi, slli, srli, srai,
    add, sub, sll, slt, sltu, xor_, srl, sra, or_, and_,
    fence, fence_i, ecall, ebreak, mret, wfi,
    // Zicsr: imm holds the CSR number, rs1 the source register or the 5-bit immediate
    csrrw, csrrs, csrrc, csrrwi, csrrsi, csrrci,
    // M
    mul, mulh, mulhsu, mulhu, div, divu, rem, remu,
    // A (word only)
    lr_w, sc_w, amoswap_w, amoadd_w, amoxor_w, amoand_w, amoor_w, amomin_w, amomax_w, amominu_w, amomaxu_w,
    count_
};

struct insn {
    op code = op::decode;
    uint8_t rd = 0, rs1 = 0, rs2 = 0;
    int32_t imm = 0;
    uint8_t len = 0;  // 2 (compressed) or 4 bytes
    // Block metadata, filled by the ISS when this slot heads a basic block (decode()
    // leaves them 0 = no block): the block's instruction count (the last may be a
    // control transfer; 0 = not built) and how many of them are mul*/div* (extra cycles).
    uint8_t run = 0, nmul = 0, ndiv = 0;
};

// True if the low 16 bits start a 32-bit instruction.
inline bool is_32bit(uint32_t low16) { return (low16 & 3) == 3; }

// Decode one instruction. `raw` holds 32 bits for a 32-bit instruction, or the 16
// bits of a compressed one (upper bits ignored). Never fails: reserved and
// unsupported encodings decode to op::illegal.
insn decode(uint32_t raw);

const char* name(op o);

// One instruction in assembler form with ABI register names ("addi a0, sp, 16"; branch and
// jal targets absolute, from `pc`). A compressed instruction prints as the base instruction
// it expands to (c.addi -> addi). For traces and debug output.
std::string disassemble(uint32_t raw, uint32_t pc);

} // namespace accelvp::rv32
