#include "platform/sim/state_dump.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "abi/aax_queue.h"
#include "platform/iss/elf_loader.h"
#include "platform/system/board.h"
#include "platform/tools/cmdasm.h"

namespace accelvp {

symbolizer::symbolizer(const std::string& elf_path) {
    if (elf_path.empty()) return;
    try {
        const elf_image img = load_elf(elf_path);
        for (const auto& [name, addr] : img.symbols)
            if (!name.empty() && name[0] != '$' && name[0] != '.') syms.emplace_back(addr, name);
        std::sort(syms.begin(), syms.end());
        for (const auto& s : img.segments)
            if (img.entry >= s.addr && img.entry - s.addr < s.data.size()) {
                text_lo = s.addr;
                text_hi = s.addr + static_cast<uint32_t>(s.data.size());
                text = s.data;
            }
    } catch (const std::exception&) {
        syms.clear();  // addresses only
    }
}

std::string symbolizer::operator()(uint32_t addr) const {
    auto it = std::upper_bound(syms.begin(), syms.end(), std::make_pair(addr, std::string("\xff")));
    if (it == syms.begin()) return fmt::format("0x{:08x}", addr);
    --it;
    return addr == it->first ? fmt::format("0x{:08x} <{}>", addr, it->second)
                             : fmt::format("0x{:08x} <{}+0x{:x}>", addr, it->second, addr - it->first);
}

// A return address: in the code, right after a JAL/JALR (or C.JAL/C.JALR) that writes ra.
bool symbolizer::code_address(uint32_t a) const {
    if (a % 2 || a < text_lo + 2 || a > text_hi) return false;
    auto half = [&](uint32_t at) {
        uint16_t h = 0;
        std::memcpy(&h, text.data() + (at - text_lo), 2);
        return h;
    };
    if (a >= text_lo + 4) {
        const uint32_t ins = uint32_t{half(a - 4)} | uint32_t{half(a - 2)} << 16;
        const uint32_t rd = (ins >> 7) & 31;
        if ((ins & 3) == 3 && ((ins & 0x7f) == 0x6f || (ins & 0x707f) == 0x67) && rd == 1) return true;
    }
    const uint16_t c = half(a - 2);
    return (c & 0xf07f) == 0x9002 && (c & 0x0f80) != 0;  // c.jalr rs1 (rs1 != 0)
}

nlohmann::json state_dump(board& b, const std::string& firmware) {
    nlohmann::json d;
    d["time_ns"] = static_cast<double>(sc_core::sc_time_stamp().value()) / 1000.0;
    nlohmann::json rings = nlohmann::json::array();
    for (const auto& r : b.soc.qman.debug_rings()) {
        nlohmann::json j = {{"ring", r.ring},     {"head", r.head},   {"tail", r.tail}, {"jobs_done", r.jobs_done},
                            {"busy", r.busy},     {"error", r.error}, {"last_error", aax_status_name(r.last_error)}};
        if (!r.packet.empty()) {
            std::string text = cmdasm::disassemble(r.packet);
            while (!text.empty() && text.back() == '\n') text.pop_back();
            j["packet"] = text;
            j["cmdbuf_addr"] = r.cmdbuf_addr;
            j["offset"] = r.offset;
        }
        rings.push_back(j);
    }
    d["rings"] = rings;
    nlohmann::json sems = nlohmann::json::object();
    for (uint32_t s = 0; s < b.soc.sync.count() && sems.size() < 64; ++s)
        if (const uint32_t v = b.soc.sync.value(s)) sems[std::to_string(s)] = v;
    d["semaphores_nonzero"] = sems;
    if (b.soc.cpu) {
        auto& core = b.soc.cpu->core;
        const symbolizer sym(firmware);
        nlohmann::json c;
        c["pc"] = core.pc();
        c["pc_symbol"] = sym(core.pc());
        c["ra_symbol"] = sym(core.reg(1));
        c["sp"] = core.reg(2);
        c["instructions"] = core.instructions();
        c["sleeping"] = core.sleeping();
        // Backtrace: pc, then the return addresses found scanning the stack upward (the firmware
        // is built without frame pointers, so this is a heuristic: words that point right after a
        // call instruction; a stale one may show up).
        nlohmann::json bt = nlohmann::json::array({sym(core.pc())});
        if (!sym.text.empty()) {
            if (sym.code_address(core.reg(1))) bt.push_back(sym(core.reg(1)));
            uint32_t words[128] = {};
            const unsigned n = core.debug_read(core.reg(2), words, sizeof words) / 4;
            for (unsigned i = 0; i < n && bt.size() < 12; ++i)
                if (sym.code_address(words[i]) && words[i] != core.reg(1)) bt.push_back(sym(words[i]));
        }
        c["backtrace"] = bt;
        d["control_core"] = c;
    }
    return d;
}

std::string format_state_dump(const nlohmann::json& d) {
    std::string out = fmt::format("--- device state at {:.3f} ns ---\n", d["time_ns"].get<double>());
    for (const auto& r : d["rings"]) {
        out += fmt::format("  ring {}: head {} tail {} jobs_done {}{}{}", r["ring"].get<unsigned>(),
                           r["head"].get<uint32_t>(), r["tail"].get<uint32_t>(), r["jobs_done"].get<uint32_t>(),
                           r["busy"].get<bool>() ? " BUSY" : " idle",
                           r["error"].get<bool>() ? " ERROR " + r["last_error"].get<std::string>() : "");
        if (r.contains("packet"))
            out += fmt::format("; {} packet +0x{:x} of 0x{:x}: {}", r["busy"].get<bool>() ? "on" : "last",
                               r["offset"].get<uint32_t>(), r["cmdbuf_addr"].get<uint64_t>(),
                               r["packet"].get<std::string>());
        out += "\n";
    }
    if (!d["semaphores_nonzero"].empty()) {
        out += "  semaphores (nonzero):";
        for (const auto& [k, v] : d["semaphores_nonzero"].items()) out += fmt::format(" {}={}", k, v.get<uint32_t>());
        out += "\n";
    } else {
        out += "  semaphores: all zero\n";
    }
    if (d.contains("control_core")) {
        const auto& c = d["control_core"];
        out += fmt::format("  control core: pc {}{}, sp 0x{:08x}, {} instructions\n", c["pc_symbol"].get<std::string>(),
                           c["sleeping"].get<bool>() ? " (wfi)" : "", c["sp"].get<uint32_t>(),
                           c["instructions"].get<uint64_t>());
        out += "  backtrace:\n";
        int i = 0;
        for (const auto& f : c["backtrace"]) out += fmt::format("    #{} {}\n", i++, f.get<std::string>());
    }
    return out + "---\n";
}

} // namespace accelvp
