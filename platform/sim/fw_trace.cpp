#include "platform/sim/fw_trace.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "abi/aax_boot.h"
#include "platform/sim/state_dump.h"
#include "tlm/core/config.h"
#include "tlm/cpu/rv32_core.h"
#include "tlm/cpu/rv32_isa.h"

namespace accelvp {

namespace {

std::string stamp(const sc_core::sc_time& t) { return fmt::format("[{:12.3f} ns]", static_cast<double>(t.value()) / 1000.0); }

struct insn_tracer {
    rv32_core& core;
    symbolizer sym;
    std::ofstream file;
    std::ostream* out = nullptr;
    uint64_t limit = 0, lines = 0;
    std::vector<std::pair<uint32_t, uint32_t>> ranges;  // [lo, hi) of the functions traced
    std::string last_sym;                                // cache: symbol of the last pc's function
    insn_tracer(rv32_core& c, const std::string& elf) : core(c), sym(elf) {}

    bool on_insn(uint32_t pc, bool trapped) {
        if (!ranges.empty() && std::none_of(ranges.begin(), ranges.end(),
                                            [pc](const auto& r) { return pc >= r.first && pc < r.second; }))
            return true;
        uint32_t raw = 0;
        core.debug_read(pc, &raw, 4);
        const bool wide = rv32::is_32bit(raw);
        if (!wide) raw &= 0xFFFF;
        *out << fmt::format("{} {} {}  {:<8}  {}{}\n", stamp(core.local_time()), core.name(), sym(pc),
                            wide ? fmt::format("{:08x}", raw) : fmt::format("{:04x}", raw), rv32::disassemble(raw, pc),
                            trapped ? "  (trap)" : "");
        if (++lines < limit) return true;
        *out << fmt::format("{} instruction trace: limit of {} lines reached, trace off\n", stamp(core.local_time()),
                            limit);
        out->flush();
        return false;
    }
};

struct log_tap {
    rv32_core& core;
    std::ostream& out;
    uint32_t addr = 0;  // the log ring's header in the core's address space
    uint32_t read_pos = 0;
    std::string line;
    log_tap(rv32_core& c, std::ostream& o) : core(c), out(o) {}
    ~log_tap() {
        if (!line.empty()) out << stamp(core.local_time()) << " fw " << core.name() << ": " << line << "\n";
    }
    void on_write() {
        aax_fw_log h{};
        if (core.debug_read(addr, &h, sizeof(h)) != sizeof(h) || h.magic != AAX_FW_LOG_MAGIC || h.capacity == 0 ||
            h.capacity > 0x10000 - sizeof(h))
            return;
        if (h.write_pos - read_pos > h.capacity) read_pos = h.write_pos - h.capacity;  // we fell behind: lost text
        for (; read_pos != h.write_pos; ++read_pos) {
            char ch = 0;
            core.debug_read(addr + static_cast<uint32_t>(sizeof(h)) + read_pos % h.capacity, &ch, 1);
            if (ch != '\n') {
                line += ch;
                continue;
            }
            out << stamp(core.local_time()) << " fw " << core.name() << ": " << line << "\n";
            line.clear();
        }
        out.flush();
    }
};

} // namespace

std::shared_ptr<void> install_insn_trace(rv32_core& core, const std::string& firmware, const insn_trace_options& o) {
    auto t = std::make_shared<insn_tracer>(core, firmware);
    if (o.file == "-") {
        t->out = &std::cerr;
    } else {
        t->file.open(o.file);
        if (!t->file) throw config_error("usage error: --trace-insn: cannot write '" + o.file + "'");
        t->out = &t->file;
    }
    t->limit = o.limit;
    for (const auto& f : o.funcs) {
        const auto it = std::find_if(t->sym.syms.begin(), t->sym.syms.end(), [&](const auto& s) { return s.second == f; });
        if (it == t->sym.syms.end())
            throw config_error(fmt::format("usage error: --trace-insn-func: '{}' is not a symbol of {}", f, firmware));
        // The function ends where the next symbol at a higher address starts (or the code does).
        const auto next = std::find_if(it, t->sym.syms.end(), [&](const auto& s) { return s.first > it->first; });
        t->ranges.emplace_back(it->first, next != t->sym.syms.end() ? next->first : std::max(t->sym.text_hi, it->first + 1));
    }
    core.set_insn_hook([t](uint32_t pc, bool trapped) { return t->on_insn(pc, trapped); });
    return t;
}

std::shared_ptr<void> tap_firmware_log(rv32_core& core, std::ostream& out) {
    auto t = std::make_shared<log_tap>(core, out);
    // The driver puts the log ring at the top of the firmware region (platform/host/driver.cpp);
    // the core sees device memory offset 0 at AAX_CORE_DEVMEM_WINDOW.
    t->addr = AAX_CORE_DEVMEM_WINDOW + AAX_FW_REGION_SIZE - 0x10000;
    core.add_store_hook(t->addr + offsetof(aax_fw_log, write_pos), 4, [p = t.get()] { p->on_write(); });
    return t;
}

} // namespace accelvp
