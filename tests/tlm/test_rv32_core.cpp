// Unit tests of the control-core ISS (tlm/cpu/): the decoder on its own (base and
// compressed encodings, reserved encodings), and the core on a small bus (MMIO timing
// and access faults, the external interrupt line waking wfi). The ISA tests under
// tests/iss/ cover the instruction classes end to end.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "tlm/core/router.h"
#include "tlm/core/stats.h"
#include "tlm/cpu/rv32_core.h"
#include "tlm/cpu/rv32_isa.h"
#include "tlm/mem/memory.h"

using namespace accelvp;
using rv32::op;

namespace {

// Hand encoders for the few instructions the core tests need.
constexpr uint32_t r_a0 = 10, r_a1 = 11, r_a2 = 12, r_a3 = 13, r_a4 = 14, r_a5 = 15, r_t0 = 5;
uint32_t i_type(uint32_t opc, uint32_t f3, uint32_t rd, uint32_t rs1, int32_t imm) {
    return (static_cast<uint32_t>(imm) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
}
uint32_t addi(uint32_t rd, uint32_t rs1, int32_t imm) { return i_type(0x13, 0, rd, rs1, imm); }
uint32_t lui(uint32_t rd, uint32_t imm20) { return (imm20 << 12) | (rd << 7) | 0x37; }
uint32_t lw(uint32_t rd, uint32_t rs1, int32_t imm) { return i_type(0x03, 2, rd, rs1, imm); }
uint32_t csrrw(uint32_t rd, uint32_t csr, uint32_t rs1) { return (csr << 20) | (rs1 << 15) | (1 << 12) | (rd << 7) | 0x73; }
uint32_t csrr(uint32_t rd, uint32_t csr) { return (csr << 20) | (2 << 12) | (rd << 7) | 0x73; }
uint32_t csrsi(uint32_t csr, uint32_t uimm) { return (csr << 20) | (uimm << 15) | (6 << 12) | 0x73; }
constexpr uint32_t wfi = 0x10500073, self_loop = 0x0000006F;  // jal x0, 0

// A device that answers 0x1234 after 100 ns at offset 0 and an address error elsewhere.
struct slow_device : sc_core::sc_module {
    tlm_utils::simple_target_socket<slow_device> socket;
    explicit slow_device(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
        socket.register_b_transport(this, &slow_device::b_transport);
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
        if (t.get_address() != 0 || t.get_data_length() != 4) {
            t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return;
        }
        const uint32_t v = 0x1234;
        if (t.is_read()) std::memcpy(t.get_data_ptr(), &v, 4);
        delay += sc_core::sc_time(100, sc_core::SC_NS);
        t.set_response_status(tlm::TLM_OK_RESPONSE);
    }
};

// Raises one interrupt line at a given time.
struct irq_source : sc_core::sc_module {
    sc_core::sc_port<irq_level_if> irq;
    sc_core::sc_time at;
    unsigned line;
    irq_source(sc_core::sc_module_name n, sc_core::sc_time t, unsigned l) : sc_module(n), irq("irq"), at(t), line(l) {
        SC_HAS_PROCESS(irq_source);
        SC_THREAD(main);
    }
    void main() {
        wait(at);
        irq->set_level(line, true);
    }
};

// Core + RAM at 0 (DMI) + slow_device at 0x10000, program loaded at 0.
struct small_system {
    rv32_core cpu{"cpu", rv32_core::params{}};
    router bus{"bus"};
    memory ram{"ram", [] {
                   memory::params p;
                   p.size = 0x10000;
                   return p;
               }()};
    slow_device dev{"dev"};
    explicit small_system(const std::vector<std::pair<uint32_t, std::vector<uint32_t>>>& code) {
        cpu.bus.bind(bus.target_socket);
        bus.add_target("ram", 0, 0x10000, ram.socket);
        bus.add_target("dev", 0x10000, 0x1000, dev.socket);
        for (const auto& [addr, words] : code) ram.store().write(addr, words.data(), words.size() * 4);
    }
};

rv32::insn dec(uint32_t raw) { return rv32::decode(raw); }

} // namespace

TEST_CASE("rv32 decoder: base encodings give their op and operands") {
    auto i = dec(0xffb58513);  // addi a0, a1, -5
    CHECK(i.code == op::addi);
    CHECK(i.rd == 10);
    CHECK(i.rs1 == 11);
    CHECK(i.imm == -5);
    CHECK(i.len == 4);
    i = dec(0xfffe16b7);  // lui a3, 0xfffe1
    CHECK(i.code == op::lui);
    CHECK(static_cast<uint32_t>(i.imm) == 0xfffe1000u);
    i = dec(0xfd9ff06f);  // jal x0, -40
    CHECK(i.code == op::jal);
    CHECK(i.rd == rv32::x0_sink);
    CHECK(i.imm == -40);
    i = dec(0xfe0596e3);  // bne a1, x0, -20
    CHECK(i.code == op::bne);
    CHECK(i.rs1 == 11);
    CHECK(i.rs2 == 0);
    CHECK(i.imm == -20);
    i = dec(0x06e12e23);  // sw a4, 124(sp)
    CHECK(i.code == op::sw);
    CHECK(i.rs1 == 2);
    CHECK(i.rs2 == 14);
    CHECK(i.imm == 124);
    i = dec(csrrw(r_a0, 0x340, r_a1));
    CHECK(i.code == op::csrrw);
    CHECK(i.imm == 0x340);
    CHECK(i.rs1 == r_a1);
    i = dec(0x08b5262f);  // amoswap.w a2, a1, (a0)
    CHECK(i.code == op::amoswap_w);
    CHECK(i.rd == r_a2);
    CHECK(i.rs1 == r_a0);
    CHECK(i.rs2 == r_a1);
    CHECK(dec(0x02b50533).code == op::mul);
    CHECK(dec(0x02b57533).code == op::remu);
    CHECK(dec(0x0000100f).code == op::fence_i);
    CHECK(dec(0x30200073).code == op::mret);
    CHECK(dec(wfi).code == op::wfi);
}

TEST_CASE("rv32 decoder: every compressed form expands to its base instruction") {
    // Pairs assembled by riscv64-unknown-elf-as: c.X and the instruction it stands for.
    const std::vector<std::pair<uint16_t, uint32_t>> pairs = {
        {0x0808, 0x01010513}, {0x414c, 0x00452583}, {0xc50c, 0x00b52423}, {0x157d, 0xfff50513},
        {0x2095, 0x064000ef}, {0x57f5, 0xffd00793}, {0x7139, 0xfc010113}, {0x7685, 0xfffe16b7},
        {0x820d, 0x00365613}, {0x867d, 0x41f65613}, {0x9a79, 0xffe67613}, {0x8d0d, 0x40b50533},
        {0x8d2d, 0x00b54533}, {0x8d4d, 0x00b56533}, {0x8d6d, 0x00b57533}, {0xbfe1, 0xfd9ff06f},
        {0xc991, 0x00058a63}, {0xf5f5, 0xfe0596e3}, {0x071e, 0x00771713}, {0x4732, 0x00c12703},
        {0x8702, 0x00070067}, {0x873e, 0x00f00733}, {0x9002, 0x00100073}, {0x9702, 0x000700e7},
        {0x973e, 0x00f70733}, {0xdeba, 0x06e12e23}};
    for (const auto& [c, base] : pairs) {
        INFO("c = 0x" << std::hex << c << " base = 0x" << base);
        const auto a = dec(c), b = dec(base);
        CHECK(a.len == 2);
        CHECK(b.len == 4);
        CHECK(a.code == b.code);
        CHECK(a.rd == b.rd);
        CHECK(a.imm == b.imm);
        // Unused operand fields may differ (c.* has no rs2 where the base has x0).
        if (a.code != op::lui && a.code != op::jal) CHECK(a.rs1 == b.rs1);
        if (a.code == op::sw || a.code == op::add || a.code == op::sub || a.code == op::xor_ || a.code == op::or_ ||
            a.code == op::and_)
            CHECK(a.rs2 == b.rs2);
    }
}

TEST_CASE("rv32 decoder: reserved and unsupported encodings are illegal") {
    for (uint32_t raw : {0x0000u,       // all zero: c.addi4spn with nzuimm 0
                         0x4002u,       // c.lwsp x0
                         0x8002u,       // c.jr x0
                         0x6101u,       // c.addi16sp 0
                         0x6001u,       // c.lui 0 (rd = 0, imm = 0)
                         0x1006u,       // c.slli shamt[5] = 1 (RV64 only)
                         0x9c2du,       // c.addw (RV64 only)
                         0x2000u,       // c.fld
                         0x02051513u,   // slli with funct7 != 0 (shamt[5] on RV32)
                         0x10200073u,   // sret
                         0x12000073u,   // sfence.vma
                         0x00004073u,   // SYSTEM funct3 = 4
                         0x0000200fu,   // MISC-MEM funct3 = 2
                         0x1015262fu,   // lr.w with rs2 != 0
                         0x0005362fu,   // amoadd.d (RV64)
                         0xffffffffu}) {
        INFO("raw = 0x" << std::hex << raw);
        const auto i = dec(raw);
        CHECK(i.code == op::illegal);
        CHECK(static_cast<uint32_t>(i.imm) == (rv32::is_32bit(raw) ? raw : (raw & 0xFFFF)));
    }
}

TEST_CASE("rv32 disassembler: operands, ABI names, absolute targets, compressed forms as their base instruction") {
    // Encodings from the firmware (objdump agrees on the operands).
    CHECK(rv32::disassemble(0x00004197, 0x80000000) == "auipc gp, 0x4");
    CHECK(rv32::disassemble(0x0a018193, 0) == "addi gp, gp, 160");
    CHECK(rv32::disassemble(0xe6810113, 0) == "addi sp, sp, -408");
    CHECK(rv32::disassemble(0x4154, 0) == "lw a3, 4(a0)");                          // c.lw
    CHECK(rv32::disassemble(0xc2a1, 0x80000f74) == "beq a3, zero, 0x80000fb4");     // c.beqz
    CHECK(rv32::disassemble(0x02d7f7b3, 0) == "remu a5, a5, a3");
    CHECK(rv32::disassemble(0x0177a223, 0) == "sw s7, 4(a5)");
    CHECK(rv32::disassemble(0x00008067, 0) == "jalr zero, 0(ra)");                  // ret
    CHECK(rv32::disassemble(0x008000ef, 0x100) == "jal ra, 0x108");
    CHECK(rv32::disassemble(0x34202573, 0) == "csrrs a0, 0x342, zero");             // csrr a0, mcause
    CHECK(rv32::disassemble(0x00b5202f, 0) == "amoadd.w zero, a1, (a0)");
    CHECK(rv32::disassemble(0x10500073, 0) == "wfi");
    CHECK(rv32::disassemble(0x0000, 0) == ".insn 0x0 (illegal)");
}

TEST_CASE("rv32 core: an MMIO load costs the target delay and an error response is a load access fault") {
    small_system s({{0,
                     {addi(r_t0, 0, 0x100), csrrw(0, 0x305, r_t0),  // mtvec = 0x100
                      lui(r_a0, 0x10),                              // a0 = 0x10000
                      csrr(r_a3, 0xB00),                            // mcycle before
                      lw(r_a1, r_a0, 0),                            // 0x1234 after 100 ns
                      csrr(r_a2, 0xB00),                            // mcycle after
                      lw(r_a1, r_a0, 16),                           // address error -> trap
                      self_loop}},
                    {0x100, {csrr(r_a4, 0x342), csrr(r_a5, 0x343), self_loop}}});
    sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_US));
    CHECK(s.cpu.reg(r_a1) == 0x1234);
    // 1 GHz: 100 ns = 100 cycles, plus the load itself.
    CHECK(s.cpu.reg(r_a2) - s.cpu.reg(r_a3) >= 100);
    CHECK(s.cpu.reg(r_a2) - s.cpu.reg(r_a3) <= 110);
    CHECK(s.cpu.reg(r_a4) == 5);
    CHECK(s.cpu.reg(r_a5) == 0x10010);
    const auto* mmio = dynamic_cast<const counter*>(global_stats().find("cpu", "mmio_accesses"));
    REQUIRE(mmio);
    CHECK(mmio->get() == 2);
}

TEST_CASE("rv32 core: the external interrupt line wakes wfi and traps with cause 11") {
    small_system s({{0,
                     {addi(r_t0, 0, 0x100), csrrw(0, 0x305, r_t0),   // mtvec = 0x100
                      lui(r_t0, 1), addi(r_t0, r_t0, -0x800),         // t0 = 0x800 (MEIE)
                      csrrw(0, 0x304, r_t0),                         // mie
                      csrsi(0x300, 8),                               // mstatus.MIE
                      wfi,                                           // at 0x18
                      self_loop}},
                    {0x100, {csrr(r_a4, 0x342), csrr(r_a5, 0x341), self_loop}}});
    irq_source src("src", sc_core::sc_time(5, sc_core::SC_US), irq_meip);
    src.irq.bind(s.cpu.irq_in);
    sc_core::sc_start(sc_core::sc_time(6, sc_core::SC_US));
    CHECK(s.cpu.reg(r_a4) == 0x8000000bu);
    CHECK(s.cpu.reg(r_a5) == 0x1c);  // after the wfi
    CHECK(s.cpu.cycles() >= 5000);   // slept until the line rose ...
    uint32_t mcycle = 0;
    REQUIRE(s.cpu.read_csr(0xB00, mcycle));
    CHECK(mcycle >= 5000);
    // ... without stepping: the handler then spins for < 1 us at most.
    CHECK(s.cpu.instructions() < 1100);
}

// The block engine (rv32_core.h): a basic block runs whole only when it fits in the batch,
// so a step limit inside one stops at that exact instruction, with the exact cycles.
TEST_CASE("rv32 core: a step limit inside a basic block stops at that exact instruction") {
    std::vector<uint32_t> code(12, addi(r_a0, r_a0, 1));  // one straight-line block of 12
    code.push_back(self_loop);
    small_system s({{0, code}});
    s.cpu.set_step_limit(7);
    sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_US));
    CHECK(s.cpu.halted() == rv32_core::halt_reason::step_limit);
    CHECK(s.cpu.instructions() == 7);
    CHECK(s.cpu.cycles() == 7);
    CHECK(s.cpu.reg(r_a0) == 7);
    CHECK(s.cpu.pc() == 28);
}

// A store into the page of the block that is running resets the page's decoded code; the
// block ends after the store and the rewritten instruction further on runs as stored.
TEST_CASE("rv32 core: a store into the running block's code runs the new instruction") {
    const uint32_t new_insn = addi(r_a1, 0, 42);
    small_system s({{0,
                     {lui(r_t0, (new_insn + 0x800) >> 12),  // t0 = new_insn (lui + addi)
                      addi(r_t0, r_t0, static_cast<int32_t>(new_insn << 20) >> 20),
                      i_type(0x23, 2, 0, 0, 0) | (r_t0 << 20) | (0x18 & 0x1F) << 7,  // sw t0, 0x18(x0)
                      addi(r_a2, 0, 1), addi(r_a2, r_a2, 1), addi(r_a2, r_a2, 1),
                      addi(r_a1, 0, 1),  // at 0x18: replaced by the store
                      self_loop}}});
    sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_US));
    CHECK(s.cpu.reg(r_t0) == new_insn);
    CHECK(s.cpu.reg(r_a1) == 42);
    CHECK(s.cpu.reg(r_a2) == 3);
    const auto* flushes = dynamic_cast<const counter*>(global_stats().find("cpu", "code_invalidations"));
    REQUIRE(flushes);
    CHECK(flushes->get() == 1);
}

namespace {
// RAM whose backing store the test swaps at `at`, withdrawing DMI over the whole address
// space as the MMU does on a context change: the core must drop its cached host pointers and
// decoded pages and run what the new store holds.
struct swapped_ram : sc_core::sc_module {
    tlm_utils::simple_target_socket<swapped_ram> socket;
    std::vector<uint8_t> a, b, *cur = &a;
    sc_core::sc_time at;
    swapped_ram(sc_core::sc_module_name n, sc_core::sc_time t)
        : sc_module(n), socket("socket"), a(0x10000), b(0x10000), at(t) {
        socket.register_b_transport(this, &swapped_ram::b_transport);
        socket.register_get_direct_mem_ptr(this, &swapped_ram::get_dmi);
        SC_HAS_PROCESS(swapped_ram);
        SC_THREAD(main);
    }
    void main() {
        wait(at);
        cur = &b;
        socket->invalidate_direct_mem_ptr(0, ~uint64_t{0});
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time&) {
        uint8_t* p = cur->data() + t.get_address();
        if (t.is_read()) std::memcpy(t.get_data_ptr(), p, t.get_data_length());
        else std::memcpy(p, t.get_data_ptr(), t.get_data_length());
        t.set_dmi_allowed(true);
        t.set_response_status(tlm::TLM_OK_RESPONSE);
    }
    bool get_dmi(tlm::tlm_generic_payload&, tlm::tlm_dmi& d) {
        d.set_dmi_ptr(cur->data());
        d.set_start_address(0);
        d.set_end_address(cur->size() - 1);
        d.allow_read_write();
        return true;
    }
};
} // namespace

TEST_CASE("rv32 core: a DMI invalidation of the whole address space refetches the code from the new store") {
    rv32_core cpu{"cpu", rv32_core::params{}};
    router bus{"bus"};
    swapped_ram ram{"ram", sc_core::sc_time(5, sc_core::SC_US)};
    cpu.bus.bind(bus.target_socket);
    bus.add_target("ram", 0, 0x10000, ram.socket);
    const uint32_t before[] = {self_loop};                          // spins at 0 until the swap
    const uint32_t after[] = {addi(r_a1, 0, 42), self_loop};        // the same address, new code
    std::memcpy(ram.a.data(), before, sizeof before);
    std::memcpy(ram.b.data(), after, sizeof after);
    sc_core::sc_start(sc_core::sc_time(4, sc_core::SC_US));
    CHECK(cpu.pc() == 0);
    CHECK(cpu.reg(r_a1) == 0);
    sc_core::sc_start(sc_core::sc_time(6, sc_core::SC_US));
    CHECK(cpu.reg(r_a1) == 42);
    CHECK(cpu.pc() == 4);
}
