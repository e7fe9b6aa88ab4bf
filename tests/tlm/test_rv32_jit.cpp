// Differential tests of the control core's JIT (cpu.engine=jit, tlm/cpu/rv32_jit.h) against
// the interpreter: two identical systems, one per engine, run side by side in one
// simulation, and a checker compares their architectural state (pc, registers, instret,
// cycles, trap count) and the whole RAM in the middle of every quantum, when both cores have
// run that quantum to its end and wait for SystemC time.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <random>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "platform/iss/elf_loader.h"
#include "tlm/core/router.h"
#include "tlm/core/stats.h"
#include "tlm/cpu/rv32_core.h"
#include "tlm/cpu/rv32_jit.h"
#include "tlm/mem/memory.h"

using namespace accelvp;

namespace {

using engine = rv32_core::params::engine_kind;

// Encoders.
uint32_t r_type(uint32_t f7, uint32_t rs2, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t opc) {
    return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
}
uint32_t i_type(uint32_t opc, uint32_t f3, uint32_t rd, uint32_t rs1, int32_t imm) {
    return (static_cast<uint32_t>(imm) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
}
uint32_t s_type(uint32_t f3, uint32_t rs1, uint32_t rs2, int32_t imm) {
    const auto u = static_cast<uint32_t>(imm);
    return ((u >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((u & 31) << 7) | 0x23;
}
uint32_t b_type(uint32_t f3, uint32_t rs1, uint32_t rs2, int32_t off) {
    const auto u = static_cast<uint32_t>(off);
    return (((u >> 12) & 1) << 31) | (((u >> 5) & 63) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
           (((u >> 1) & 15) << 8) | (((u >> 11) & 1) << 7) | 0x63;
}
uint32_t jal(uint32_t rd, int32_t off) {
    const auto u = static_cast<uint32_t>(off);
    return (((u >> 20) & 1) << 31) | (((u >> 1) & 1023) << 21) | (((u >> 11) & 1) << 20) | (((u >> 12) & 255) << 12) |
           (rd << 7) | 0x6F;
}
uint32_t addi(uint32_t rd, uint32_t rs1, int32_t imm) { return i_type(0x13, 0, rd, rs1, imm); }
uint32_t lui(uint32_t rd, uint32_t imm20) { return (imm20 << 12) | (rd << 7) | 0x37; }
uint32_t csrrw(uint32_t rd, uint32_t csr, uint32_t rs1) { return (csr << 20) | (rs1 << 15) | (1 << 12) | (rd << 7) | 0x73; }
uint32_t csrr(uint32_t rd, uint32_t csr) { return (csr << 20) | (2 << 12) | (rd << 7) | 0x73; }
constexpr uint32_t mret = 0x30200073, ecall = 0x00000073;

// The program as 16/32-bit parcels with their addresses.
struct program {
    std::vector<uint8_t> bytes;
    uint32_t here() const { return static_cast<uint32_t>(bytes.size()); }
    void w32(uint32_t v) {
        for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
    void w16(uint16_t v) {
        bytes.push_back(static_cast<uint8_t>(v));
        bytes.push_back(static_cast<uint8_t>(v >> 8));
    }
    void at(uint32_t a) { bytes.resize(a, 0); }
    void set32(uint32_t a, uint32_t v) { std::memcpy(&bytes[a], &v, 4); }
};

// A device at 0x10000: reads of offset 0 answer 0x1234 after 100 ns, stores are accepted after
// 50 ns, anything else is an address error (a load/store access fault).
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
        delay += sc_core::sc_time(t.is_read() ? 100 : 50, sc_core::SC_NS);
        t.set_response_status(tlm::TLM_OK_RESPONSE);
    }
};

// Toggles an interrupt line now and then (the handler masks it, the program unmasks it).
struct irq_toggler : sc_core::sc_module {
    sc_core::sc_port<irq_level_if, 0, sc_core::SC_ZERO_OR_MORE_BOUND> irq;
    explicit irq_toggler(sc_core::sc_module_name n) : sc_module(n), irq("irq") {
        SC_HAS_PROCESS(irq_toggler);
        SC_THREAD(main);
    }
    void main() {
        for (unsigned k = 0;; ++k) {
            // Off the cores' whole-cycle wake-ups (1000 ps) so both see it at the same point.
            wait(sc_core::sc_time((3700 + 1300 * (k % 7)) * 1000 + (k == 0 ? 250 : 0), sc_core::SC_PS));
            for (int i = 0; i < irq.size(); ++i) irq[i]->set_level(rv32_core_irq_line, (k & 1) == 0);
        }
    }
    static constexpr unsigned rv32_core_irq_line = irq_meip;
};

// One system: a core with the given engine, RAM (DMI) and the slow device.
struct system_under_test : sc_core::sc_module {
    rv32_core cpu;
    router bus;
    memory ram;
    slow_device dev;
    uint32_t ram_base;
    system_under_test(sc_core::sc_module_name n, engine eng, uint32_t base, uint64_t size, uint32_t entry)
        : sc_module(n), cpu("cpu", [&] {
              rv32_core::params p;
              p.engine = eng;
              p.mul_cycles = 3;
              p.div_cycles = 17;
              p.reset_pc = entry;
              return p;
          }()),
          bus("bus"), ram("ram", [&] {
              memory::params p;
              p.size = size;
              return p;
          }()),
          dev("dev"), ram_base(base) {
        cpu.bus.bind(bus.target_socket);
        bus.add_target("ram", base, size, ram.socket);
        bus.add_target("dev", 0x10000, 0x1000, dev.socket);
    }
};

// Compares the two systems in the middle of every quantum (and the whole RAM every
// `mem_every` quanta); counts the comparisons and the first mismatch.
struct checker : sc_core::sc_module {
    system_under_test &a, &b;
    uint64_t ram_size;
    unsigned mem_every;
    uint64_t checks = 0, mem_checks = 0;
    std::string mismatch;
    checker(sc_core::sc_module_name n, system_under_test& x, system_under_test& y, uint64_t size, unsigned every)
        : sc_module(n), a(x), b(y), ram_size(size), mem_every(every) {
        SC_HAS_PROCESS(checker);
        SC_THREAD(main);
    }
    void compare(bool mem) {
        if (!mismatch.empty()) return;
        auto fail = [&](const std::string& what) {
            mismatch = what + " differs at " + sc_core::sc_time_stamp().to_string() + " (instret " +
                       std::to_string(a.cpu.instructions()) + " / " + std::to_string(b.cpu.instructions()) + ")";
        };
        ++checks;
        if (a.cpu.pc() != b.cpu.pc()) return fail("pc");
        for (unsigned i = 1; i < 32; ++i)
            if (a.cpu.reg(i) != b.cpu.reg(i)) return fail("x" + std::to_string(i));
        if (a.cpu.instructions() != b.cpu.instructions()) return fail("instret");
        if (a.cpu.cycles() != b.cpu.cycles()) return fail("cycles");
        for (uint32_t csr : {0x300u, 0x304u, 0x341u, 0x342u, 0x343u}) {
            uint32_t va = 0, vb = 0;
            a.cpu.read_csr(csr, va);
            b.cpu.read_csr(csr, vb);
            if (va != vb) return fail("csr " + std::to_string(csr));
        }
        if (mem) {
            ++mem_checks;
            std::vector<uint8_t> ma(ram_size), mb(ram_size);
            a.ram.store().read(0, ma.data(), ram_size);
            b.ram.store().read(0, mb.data(), ram_size);
            if (ma != mb) return fail("memory");
        }
    }
    void main() {
        // Quantum 1000 ns; a core only wakes at whole cycles (1000 ps), so 500.5 ns into a
        // quantum both have finished it and none is running.
        wait(sc_core::sc_time(500500, sc_core::SC_PS));
        for (uint64_t k = 0;; ++k) {
            compare(k % mem_every == 0);
            wait(sc_core::sc_time(1000, sc_core::SC_NS));
        }
    }
};

// A random program over the whole translated instruction set plus the instructions the JIT
// leaves to the interpreter (CSRs, ecall, mret), traps (misaligned and faulting loads and
// stores, MMIO), compressed forms, jal/jalr and forward branches. Registers: x2 = data base
// 0x8000, x3 = device base 0x10000, x31 = the trap handler's; the rest are random.
program random_program(uint32_t seed, unsigned n) {
    std::mt19937 rng(seed);
    auto rnd = [&](uint32_t m) { return static_cast<uint32_t>(rng() % m); };
    auto reg = [&] {  // a random destination: x0 (the sink) or x1, x4..x30
        const uint32_t r = rnd(30);
        return r == 0 ? 0u : r == 1 ? 1u : r + 2;
    };
    auto src = [&] { const uint32_t r = rnd(31); return r == 2 || r == 3 ? r + 2 : r; };
    program p;
    // Boot at 0: mtvec = 0x100, MEIE, MIE; registers random.
    p.w32(addi(31, 0, 0x100));
    p.w32(csrrw(0, 0x305, 31));
    p.w32(lui(31, 1));
    p.w32(addi(31, 31, -0x800));
    p.w32(csrrw(0, 0x304, 31));  // mie.MEIE
    p.w32(0x30046073);           // csrsi mstatus, 8
    p.w32(lui(2, 8));            // sp = 0x8000
    p.w32(lui(3, 0x10));         // x3 = 0x10000
    p.w32(jal(0, 0x200 - static_cast<int32_t>(p.here())));
    // Handler at 0x100: an interrupt masks MEIE; an exception skips the (4-byte) instruction.
    p.at(0x100);
    p.w32(csrr(31, 0x342));
    p.w32(b_type(4, 31, 0, 20));  // blt x31, x0 -> irq
    p.w32(csrr(31, 0x341));
    p.w32(addi(31, 31, 4));
    p.w32(csrrw(0, 0x341, 31));
    p.w32(mret);
    p.w32(csrrw(0, 0x304, 0));  // irq: mie = 0
    p.w32(mret);
    // Body at 0x200: random registers, then n random instructions, then back to the body.
    p.at(0x200);
    for (uint32_t r = 1; r < 31; ++r)
        if (r != 2 && r != 3) {
            p.w32(lui(r, rnd(1u << 20)));
            p.w32(addi(r, r, static_cast<int32_t>(rnd(4096)) - 2048));
        }
    const uint32_t loop = p.here();
    std::vector<std::pair<uint32_t, uint32_t>> fixups;  // branch at, target instruction index
    std::vector<uint32_t> starts;
    for (unsigned i = 0; i < n; ++i) {
        starts.push_back(p.here());
        const uint32_t k = rnd(100);
        const uint32_t rd = reg(), s1 = src(), s2 = src();
        if (k < 30) {  // register-register ALU and M
            static const uint32_t f[][2] = {{0, 0}, {0x20, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 5}, {0x20, 5},
                                            {0, 6}, {0, 7}, {1, 0}, {1, 1}, {1, 2}, {1, 3}, {1, 4}, {1, 5},
                                            {1, 6}, {1, 7}};
            const auto& ff = f[rnd(18)];
            uint32_t r2 = s2;
            if (ff[0] == 1 && ff[1] >= 4 && rnd(4) == 0) r2 = 0;  // division by zero
            p.w32(r_type(ff[0], r2, s1, ff[1], rd, 0x33));
        } else if (k < 50) {  // immediate ALU
            const uint32_t f3 = rnd(8);
            int32_t imm = static_cast<int32_t>(rnd(4096)) - 2048;
            if (f3 == 1) imm = static_cast<int32_t>(rnd(32));
            if (f3 == 5) imm = static_cast<int32_t>(rnd(32) | (rnd(2) << 10));
            p.w32(i_type(0x13, f3, rd, s1, imm));
        } else if (k < 53) {
            p.w32(lui(rd, rnd(1u << 20)));
        } else if (k < 55) {
            p.w32((rnd(1u << 20) << 12) | (rd << 7) | 0x17);  // auipc
        } else if (k < 67) {  // loads from the data area (sometimes misaligned)
            static const uint32_t f3s[] = {0, 1, 2, 4, 5};
            const uint32_t f3 = f3s[rnd(5)];
            int32_t off = static_cast<int32_t>(rnd(4096)) - 2048;
            if (rnd(8)) off &= ~static_cast<int32_t>((1u << (f3 & 3)) - 1);
            p.w32(i_type(0x03, f3, rd, 2, off));
        } else if (k < 77) {  // stores into the data area
            const uint32_t f3 = rnd(3);
            int32_t off = static_cast<int32_t>(rnd(4096)) - 2048;
            if (rnd(8)) off &= ~static_cast<int32_t>((1u << f3) - 1);
            p.w32(s_type(f3, 2, s2, off));
        } else if (k < 79) {  // MMIO: a slow load, a store, a fault
            const uint32_t w = rnd(3);
            if (w == 0) p.w32(i_type(0x03, 2, rd, 3, 0));
            else if (w == 1) p.w32(s_type(2, 3, s2, 0));
            else p.w32(i_type(0x03, 2, rd, 3, 16));
        } else if (k < 87) {  // forward branch over 1..6 instructions
            p.w32(0);
            fixups.push_back({p.here() - 4, i + 2 + rnd(6)});
            p.set32(p.here() - 4, (rnd(6) << 12) | (s1 << 15) | (s2 << 20));  // f3 index, rs1, rs2 for later
        } else if (k < 89) {  // jal over a 4-byte instruction
            p.w32(jal(rd, 8));
            p.w32(addi(reg(), src(), 1));
        } else if (k < 90) {  // auipc + jalr over a 4-byte instruction
            p.w32((5u << 7) | 0x17);                 // auipc x5, 0
            p.w32(i_type(0x67, 0, rd == 5 ? 0 : rd, 5, 12));
            p.w32(addi(reg(), src(), 1));
        } else if (k < 96) {  // compressed: c.addi, c.mv, c.add, c.slli, c.lwsp, c.swsp
            const uint32_t c = rnd(6);
            const uint32_t r = rd == 0 ? 8 : rd, rs = s2 == 0 ? 9 : s2;
            const auto imm6 = rnd(64);
            switch (c) {
            case 0: p.w16(static_cast<uint16_t>(0x0001 | (((imm6 >> 5) & 1) << 12) | (r << 7) | ((imm6 & 31) << 2))); break;
            case 1: p.w16(static_cast<uint16_t>(0x8002 | (r << 7) | (rs << 2))); break;
            case 2: p.w16(static_cast<uint16_t>(0x9002 | (r << 7) | (rs << 2))); break;
            case 3: p.w16(static_cast<uint16_t>(0x0002 | (r << 7) | (((imm6 & 31) | 1) << 2))); break;
            case 4: {  // c.lwsp r, off(sp): off = imm6 * 4
                const uint32_t off = imm6 * 4;
                p.w16(static_cast<uint16_t>(0x4002 | (((off >> 5) & 1) << 12) | (r << 7) | (((off >> 2) & 7) << 4) |
                                            (((off >> 6) & 3) << 2)));
                break;
            }
            default: {  // c.swsp rs, off(sp)
                const uint32_t off = imm6 * 4;
                p.w16(static_cast<uint16_t>(0xC002 | (((off >> 2) & 15) << 9) | (((off >> 6) & 3) << 7) | (rs << 2)));
                break;
            }
            }
        } else if (k < 97) {
            p.w32(ecall);
        } else if (k < 98) {  // CSRs: read counters, write mscratch, re-enable the interrupt
            const uint32_t w = rnd(3);
            if (w == 0) p.w32(csrr(rd, rnd(2) ? 0xB00 : 0xB02));
            else if (w == 1) p.w32(csrrw(rd, 0x340, s1));
            else p.w32(0x30402073 | (0u << 7) | (31u << 15));  // placeholder replaced below
            if (w == 2) {
                p.bytes.resize(p.bytes.size() - 4);
                p.w32(lui(31, 1));
                p.w32(addi(31, 31, -0x800));
                p.w32(csrrw(0, 0x304, 31));
            }
        } else {  // mulh* / div* with extreme operands
            p.w32(lui(rd == 0 ? 1 : rd, 0x80000));
            p.w32(addi(s1 == 0 ? 4 : s1, 0, -1));
            p.w32(r_type(1, s1 == 0 ? 4 : s1, rd == 0 ? 1 : rd, 4 + rnd(4), reg(), 0x33));
        }
    }
    starts.push_back(p.here());
    p.w32(jal(0, static_cast<int32_t>(loop) - static_cast<int32_t>(p.here())));
    starts.push_back(p.here());
    for (const auto& [at, target] : fixups) {
        uint32_t v;
        std::memcpy(&v, &p.bytes[at], 4);
        static const uint32_t f3s[] = {0, 1, 4, 5, 6, 7};
        const uint32_t t = starts[std::min<size_t>(target, starts.size() - 2)];
        p.set32(at, b_type(f3s[(v >> 12) & 7], (v >> 15) & 31, (v >> 20) & 31, static_cast<int32_t>(t - at)));
    }
    return p;
}

struct run_result {
    uint64_t checks, mem_checks, instret, traps, interrupts, jit_blocks, interp_blocks;
    std::string mismatch;
};

// Runs `img` (loaded at `base`) on both engines for `t` and compares them every quantum.
run_result run_both(const std::vector<std::pair<uint32_t, std::vector<uint8_t>>>& img, uint32_t base, uint64_t size,
                    uint32_t entry, sc_core::sc_time t, unsigned mem_every, bool irqs) {
    system_under_test a("interp", engine::interp, base, size, entry);
    system_under_test b("jit", engine::jit, base, size, entry);
    for (auto* s : {&a, &b})
        for (const auto& [addr, bytes] : img) s->ram.store().write(addr - base, bytes.data(), bytes.size());
    irq_toggler irq("irq");
    if (irqs) {
        irq.irq.bind(a.cpu.irq_in);
        irq.irq.bind(b.cpu.irq_in);
    }
    checker c("checker", a, b, size, mem_every);
    sc_core::sc_start(t);
    c.compare(true);
    auto stat = [](const char* name) {
        const auto* s = dynamic_cast<const counter*>(global_stats().find("jit.cpu", name));
        return s ? s->get() : 0;
    };
    return {c.checks,           c.mem_checks,         b.cpu.instructions(), stat("traps"), stat("interrupts"),
            b.cpu.jit_blocks(), a.cpu.jit_blocks(), c.mismatch};
}

} // namespace

TEST_CASE("rv32 jit: random programs give the interpreter's state at every quantum") {
    if (!rv32_jit::supported()) {
        WARN("not an x86-64 host: no JIT to compare");
        return;
    }
    std::vector<std::pair<uint32_t, std::vector<uint8_t>>> img;
    const program p = random_program(20261207, 4000);
    img.push_back({0, p.bytes});
    const run_result r = run_both(img, 0, 0x10000, 0, sc_core::sc_time(3, sc_core::SC_MS), 1, true);
    INFO(r.mismatch);
    CHECK(r.mismatch.empty());
    CHECK(r.checks >= 3000);
    CHECK(r.instret > 500000);  // it ran (and looped) rather than sleeping or storming
    CHECK(r.traps > 10000);     // misaligned, faulting, ecall: the side exits ran
    CHECK(r.interrupts > 100);  // taken at batch boundaries inside translated code's runs
    CHECK(r.jit_blocks > 500);  // the JIT ran the program ...
    CHECK(r.interp_blocks == 0);  // ... and the reference did not
}

// The ISS speed benchmark (benchmarks/iss/mips.c: CRC, hashing with multiplies and stores,
// insertion sort), built by the cross compiler when it is installed.
TEST_CASE("rv32 jit: the MIPS benchmark gives the interpreter's state at every quantum") {
    if (!rv32_jit::supported()) {
        WARN("not an x86-64 host: no JIT to compare");
        return;
    }
    const std::string path = ACCELVP_BUILD_DIR "/benchmarks/iss/mips.elf";
    if (!std::ifstream(path)) {
        WARN(path + " not built (no riscv64-unknown-elf-gcc): nothing to compare");
        return;
    }
    const elf_image elf = load_elf(path);
    std::vector<std::pair<uint32_t, std::vector<uint8_t>>> img;
    for (const auto& s : elf.segments) img.push_back({s.addr, s.data});
    // 20 ms at 1 GHz: about 70 of the benchmark's 1000 rounds; the RAM compared every 64 quanta.
    const run_result r =
        run_both(img, 0x80000000u, 1u << 20, elf.entry, sc_core::sc_time(20, sc_core::SC_MS), 64, false);
    INFO(r.mismatch);
    CHECK(r.mismatch.empty());
    CHECK(r.checks >= 19999);
    CHECK(r.mem_checks >= 312);
    CHECK(r.instret > 15000000);
    CHECK(r.jit_blocks > 20);
    CHECK(r.interp_blocks == 0);
}
