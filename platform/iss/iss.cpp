#include "platform/iss/iss.h"

#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <ostream>

#include <fmt/format.h>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/passthrough_target_socket.h>

#include "platform/iss/bare_metal.h"
#include "platform/iss/halt_supervisor.h"
#include "platform/iss/elf_loader.h"
#include "tlm/core/log.h"
#include "tlm/core/router.h"
#include "tlm/core/stats.h"
#include "tlm/cpu/clint.h"
#include "tlm/cpu/gdb_server.h"
#include "tlm/cpu/rv32_core.h"
#include "tlm/mem/memory.h"
#include "tlm/core/keys.h"

namespace accelvp {

namespace {

memory::params ram_defaults() {
    memory::params p;
    p.size = 64ull << 20;
    p.latency_ns = 20;
    return p;
}

// Passes everything through to the RAM, reports writes to the tohost word and keeps
// that word out of DMI grants (so the core's store reaches us).
class tohost_monitor : public sc_core::sc_module {
public:
    tlm_utils::passthrough_target_socket<tohost_monitor> target;
    tlm_utils::simple_initiator_socket<tohost_monitor> to_ram;

    tohost_monitor(sc_core::sc_module_name n, uint64_t offset, std::function<void(uint32_t)> on_write)
        : sc_module(n), target("target"), to_ram("to_ram"), offset_(offset), on_write_(std::move(on_write)) {
        target.register_b_transport(this, &tohost_monitor::b_transport);
        target.register_transport_dbg(this, &tohost_monitor::transport_dbg);
        target.register_get_direct_mem_ptr(this, &tohost_monitor::get_direct_mem_ptr);
        to_ram.register_invalidate_direct_mem_ptr(this, &tohost_monitor::invalidate);
    }

private:
    static constexpr uint64_t hole = 8;  // tohost is a 64-bit word

    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
        to_ram->b_transport(t, delay);
        const uint64_t a = t.get_address();
        if (!t.is_write() || !t.is_response_ok() || a >= offset_ + 4 || a + t.get_data_length() <= offset_) return;
        uint32_t v = 0;  // the low word as it now stands in RAM
        tlm::tlm_generic_payload d;
        init_payload(d, tlm::TLM_READ_COMMAND, offset_, &v, 4);
        to_ram->transport_dbg(d);
        if (v) on_write_(v);
    }
    unsigned transport_dbg(tlm::tlm_generic_payload& t) { return to_ram->transport_dbg(t); }
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) {
        const uint64_t a = t.get_address();
        if (a >= offset_ && a < offset_ + hole) return false;
        if (!to_ram->get_direct_mem_ptr(t, dmi)) return false;
        const uint64_t s = dmi.get_start_address(), e = dmi.get_end_address();
        if (e < offset_ || s >= offset_ + hole) return true;
        if (a < offset_) {
            dmi.set_end_address(offset_ - 1);
        } else {
            dmi.set_dmi_ptr(dmi.get_dmi_ptr() + (offset_ + hole - s));
            dmi.set_start_address(offset_ + hole);
        }
        return true;
    }
    void invalidate(sc_dt::uint64 s, sc_dt::uint64 e) { target->invalidate_direct_mem_ptr(s, e); }

    uint64_t offset_;
    std::function<void(uint32_t)> on_write_;
};


std::string fmt_count(uint64_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), "_");
    return s;
}

} // namespace

namespace {
// The bare-metal run's own keys (absolute: sim.log_level, iss.*).
struct iss_params {
    std::string log_level = "warn";
    uint64_t ram_base = 0x80000000ull;
    uint64_t clint_base = 0x02000000ull;
    static const param_table<iss_params>& table() {
        static const auto t =
            param_table<iss_params>()
                .string(keys::sim::log_level, &iss_params::log_level, "log verbosity on stderr",
                        {"error", "warn", "info", "debug", "trace"})
                .integer("iss.ram_base", &iss_params::ram_base, 0, 0xFFFFFFFFll,
                         "RAM base address (RISC-V test suites link at 0x80000000)")
                .integer("iss.clint_base", &iss_params::clint_base, 0, 0xFFFFFFFFll,
                         "CLINT base address (0x10000 bytes)");
        return t;
    }
};
} // namespace

param_schema iss_schema() {
    param_schema s;
    iss_params::table().declare(s, "");
    rv32_core::declare(s, "cpu");
    clint::declare(s, "cpu");
    memory::declare(s, "iss.mem", ram_defaults());
    return s;
}

// Consecutive traps without a retired instruction that end a bare-metal run.
constexpr uint64_t trap_storm_limit = 10000;

iss_result run_iss(const iss_options& o, std::ostream& out) {
    const auto wall0 = std::chrono::steady_clock::now();
    const param_schema schema = iss_schema();
    config cfg(schema);
    for (const auto& ov : o.overrides) cfg.apply_override(ov);
    cfg.validate();
    const iss_params ip = iss_params::table().load(cfg, "");
    set_log_level(parse_log_level(ip.log_level));
    if (!o.stats_file.empty()) {
        std::ofstream probe(o.stats_file, std::ios::app);
        if (!probe) throw config_error("usage error: cannot write output file '" + o.stats_file + "'");
    }

    // The program, checked against the address map before anything is elaborated.
    const elf_image elf = load_elf(o.elf);
    const uint64_t ram_base = ip.ram_base;
    const memory::params ram_p = memory::from_config(cfg, "iss.mem");
    const uint64_t ram_end = ram_base + ram_p.size;
    if (ram_end > (uint64_t{1} << 32))
        throw config_error(fmt::format("config error: the RAM [0x{:x}, 0x{:x}) (iss.ram_base, iss.mem.size) ends "
                                       "beyond the 32-bit address space", ram_base, ram_end));
    for (const auto& seg : elf.segments) {
        if (seg.addr < ram_base || uint64_t{seg.addr} + seg.mem_size > ram_end)
            throw elf_error(fmt::format("elf error: {}: segment [0x{:08x}, 0x{:08x}) lies outside the RAM [0x{:08x}, "
                                        "0x{:08x}); set -p iss.ram_base=... / -p iss.mem.size=...",
                                        o.elf, seg.addr, uint64_t{seg.addr} + seg.mem_size, ram_base, ram_end));
    }
    const auto tohost = elf.symbol("tohost");
    if (!tohost)
        throw elf_error(fmt::format("elf error: {}: no 'tohost' symbol (the iss mode ends a program through the HTIF "
                                    "tohost convention)", o.elf));
    if (*tohost < ram_base || uint64_t{*tohost} + 8 > ram_end || *tohost % 4)
        throw elf_error(fmt::format("elf error: {}: 'tohost' at 0x{:08x} is not an aligned word inside the RAM",
                                    o.elf, *tohost));

    // Elaborate. Top-level modules, so stats read components.cpu.instructions.
    uint32_t tohost_value = 0;
    auto cpu = std::make_unique<rv32_core>("cpu", rv32_core::from_config(cfg, "cpu"));
    auto timer = std::make_unique<clint>("clint", clint::from_config(cfg, "cpu"));
    auto bus = std::make_unique<router>("bus");
    auto ram = std::make_unique<memory>("ram", ram_p);
    auto htif = std::make_unique<tohost_monitor>("htif", *tohost - ram_base, [&](uint32_t v) {
        tohost_value = v;
        cpu->request_halt();
    });
    auto sup = std::make_unique<halt_supervisor>("iss", *cpu);
    cpu->bus.bind(bus->target_socket);
    bus->add_target("ram", ram_base, ram_p.size, htif->target);
    bus->add_target("clint", ip.clint_base, clint::size, timer->socket);
    htif->to_ram.bind(ram->socket);
    timer->irq.bind(cpu->irq_in);
    cpu->time_source.bind(*timer);

    load_elf_segments(ram->store(), ram_base, elf);
    cpu->set_pc(elf.entry);
    cpu->set_step_limit(o.max_instr);
    cpu->set_trap_storm_limit(trap_storm_limit);
    auto gdb = start_gdb_server(*cpu, o.gdb_port, o.elf);

    const auto sim0 = std::chrono::steady_clock::now();
    sc_core::sc_start();
    const auto sim1 = std::chrono::steady_clock::now();

    iss_result res;
    std::string status;
    if (sup->done && cpu->halted() == rv32_core::halt_reason::debugger) {
        status = "killed";
        res.exit_code = 1;
        res.error = fmt::format("killed from GDB at pc = 0x{:08x}", cpu->pc());
    } else if (sup->done && cpu->halted() == rv32_core::halt_reason::step_limit) {
        status = "limit";
        res.exit_code = 1;
        res.error = fmt::format("instruction limit reached: --max-instr {} steps (instructions + traps) ran without a "
                                "write to tohost; pc = 0x{:08x}", o.max_instr, cpu->pc());
    } else if (sup->done && cpu->halted() == rv32_core::halt_reason::trap_storm) {
        status = "trap_storm";
        res.exit_code = 1;
        uint32_t cause = 0, epc = 0, tvec = 0;
        cpu->read_csr(0x342, cause);
        cpu->read_csr(0x341, epc);
        cpu->read_csr(0x305, tvec);
        res.error = fmt::format("trap storm: {} traps in a row without an instruction retiring (last mcause = {}, "
                                "mepc = 0x{:08x}, mtvec = 0x{:08x})", trap_storm_limit, cause, epc, tvec);
    } else if (sup->done && tohost_value == 1) {
        status = "pass";
    } else if (sup->done && (tohost_value & 1)) {
        status = "fail";
        res.exit_code = 1;
        res.error = fmt::format("test failed with code {} (tohost = 0x{:x})", tohost_value >> 1, tohost_value);
    } else if (sup->done) {
        status = "fail";
        res.exit_code = 1;
        res.error = fmt::format("unsupported HTIF request: tohost = 0x{:x} (only pass = 1 and fail = (code << 1) | 1)",
                                tohost_value);
    } else {
        status = "hang";
        res.exit_code = 1;
        res.error = fmt::format("the core is asleep in wfi and no interrupt will ever wake it (pc = 0x{:08x}, "
                                "mie enables nothing that is still pending or scheduled)", cpu->pc());
    }

    if (gdb) gdb->program_exited(res.exit_code);  // a waiting GDB sees "exited normally" / "exited with code 01"

    const double sim_ns = static_cast<double>(sc_core::sc_time_stamp().value()) / 1000.0;
    const double sim_wall = std::chrono::duration<double>(sim1 - sim0).count();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    const uint64_t instructions = cpu->instructions();
    nlohmann::json st;
    st["schema_version"] = 1;
    st["mode"] = "iss";
    st["config"] = cfg.to_json();
    st["elf"] = {{"path", o.elf}, {"entry", elf.entry}, {"tohost", *tohost}};
    st["result"] = {{"status", status}, {"tohost", tohost_value}};
    if (status == "fail" && (tohost_value & 1)) st["result"]["code"] = tohost_value >> 1;
    st["simulated_ns"] = sim_ns;
    st["wall_s"] = wall;
    st["summary"] = {{"instructions", instructions},
                     {"cycles", cpu->cycles()},
                     {"simulated_ns", sim_ns},
                     {"sim_wall_s", sim_wall},
                     {"mips", sim_wall > 0 ? static_cast<double>(instructions) / sim_wall / 1e6 : 0.0}};
    st["components"] = global_stats().to_json(sim_ns * 1e-9);
    st["host"] = global_stats().host_json();
    if (!res.error.empty()) st["error"] = res.error;
    res.stats = st;

    if (!o.stats_file.empty()) {
        std::ofstream f(o.stats_file);
        f << st.dump(2) << "\n";
        if (!f) throw config_error("usage error: cannot write stats file '" + o.stats_file + "'");
    }
    if (!o.quiet) {
        out << fmt::format("accelvp iss | {} | {}\n", o.elf, status == "pass" ? "PASS" : status);
        out << fmt::format("  instructions  {}\n  cycles        {}\n  simulated     {:.3f} us\n  wall          {:.3f} s\n"
                           "  MIPS          {:.1f}\n",
                           fmt_count(instructions), fmt_count(cpu->cycles()), sim_ns / 1000.0, sim_wall,
                           st["summary"]["mips"].get<double>());
    }
    return res;
}

} // namespace accelvp
