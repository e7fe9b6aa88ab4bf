#include "platform/sim/state_dump.h"

#include <algorithm>
#include <cctype>
#include <iostream>
#include <sstream>
#include <cstring>

#include <fmt/format.h>

#include "abi/aax_queue.h"
#include "platform/iss/elf_loader.h"
#include "platform/system/board.h"
#include "platform/tools/cmdasm.h"
#include "tlm/core/config.h"
#include "tlm/cpu/gdb_server.h"

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

namespace {
unsigned b_rings(board& b) { return static_cast<unsigned>(b.soc.qman.debug_rings().size()); }
} // namespace

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

packet_break_spec parse_packet_break(const std::string& spec) {
    packet_break_spec b;
    std::string s = spec;
    std::replace(s.begin(), s.end(), ',', ' ');
    std::istringstream in(s);
    bool any = false;
    for (std::string t; in >> t;) {
        const size_t eq = t.find('=');
        const std::string k = t.substr(0, eq), v = eq == std::string::npos ? "" : t.substr(eq + 1);
        auto num = [&](int64_t max) {
            size_t pos = 0;
            int64_t n = -1;
            try {
                n = std::stoll(v, &pos, 0);
            } catch (...) {
                pos = 0;
            }
            if (pos != v.size() || v.empty() || n < 0 || n > max)
                throw config_error(fmt::format("usage error: breakpoint '{}': {}={} is not a number in [0, {}]", spec,
                                               k, v, max));
            return n;
        };
        if (k == "ring") b.ring = static_cast<int>(num(AAX_MAX_RINGS - 1));
        else if (k == "packet") b.packet = num(INT32_MAX);
        else if (k == "opcode") {
            std::string names;
            for (unsigned op = 0; op < AAX_OP_COUNT; ++op) {
                std::string n = aax_opcode_name(op);
                for (auto& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                names += (names.empty() ? "" : ", ") + n;
                std::string lv = v;
                for (auto& ch : lv) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                if (n == lv) b.opcode = static_cast<int>(op);
            }
            if (b.opcode < 0)
                throw config_error(fmt::format("usage error: breakpoint '{}': opcode={} is not an opcode; valid: {}",
                                               spec, v, names));
        } else {
            throw config_error(fmt::format("usage error: breakpoint '{}': unknown field '{}'; valid: ring=R, "
                                           "packet=N, opcode=NAME",
                                           spec, k));
        }
        any = true;
    }
    if (!any || (b.packet < 0 && b.opcode < 0))
        throw config_error(fmt::format("usage error: breakpoint '{}' names no packet: give packet=N and/or "
                                       "opcode=NAME (and ring=R)",
                                       spec));
    return b;
}

namespace {
std::string describe(const queue_manager::packet_break& b) {
    std::string s;
    if (b.ring >= 0) s += fmt::format("ring={} ", b.ring);
    if (b.packet >= 0) s += fmt::format("packet={} ", b.packet);
    if (b.opcode >= 0) s += fmt::format("opcode={} ", aax_opcode_name(static_cast<unsigned>(b.opcode)));
    if (!s.empty()) s.pop_back();
    return s;
}
} // namespace

void install_packet_breaks(board& b, const std::vector<std::string>& specs, gdb_server* gdb,
                           const std::string& firmware) {
    auto& qm = b.soc.qman;
    std::vector<queue_manager::packet_break> breaks;
    for (const auto& s : specs) {
        const packet_break_spec p = parse_packet_break(s);
        breaks.push_back({p.ring, p.packet, p.opcode});
    }
    qm.set_packet_breaks(breaks);
    board* bp = &b;
    qm.set_break_hook([bp, gdb, firmware](unsigned ring, uint32_t index, uint32_t off, uint8_t opcode) {
        const std::string where =
            fmt::format("ring {} stopped before packet {} of its job (+0x{:x}, {}) at {:.3f} ns", ring, index, off,
                        aax_opcode_name(opcode), static_cast<double>(sc_core::sc_time_stamp().value()) / 1000.0);
        if (gdb && gdb->connected()) {
            std::cerr << "accelvp: breakpoint: " << where << "; the core stops for GDB ('monitor help')\n";
            bp->soc.cpu->core.debug_break();
            return;  // held until 'monitor continue' or 'monitor step'
        }
        std::cerr << "accelvp: breakpoint: " << where << "\n" << format_state_dump(state_dump(*bp, firmware));
        bp->soc.qman.release_ring(ring);
    });
    if (!gdb) return;
    gdb->set_monitor_extension([bp, firmware](const std::string& cmd) -> std::optional<std::string> {
        auto& q = bp->soc.qman;
        std::istringstream in(cmd);
        std::string verb, rest;
        in >> verb;
        std::getline(in, rest);
        if (verb == "help")
            return std::string("  monitor state  the device state: rings (head, tail, packet), semaphores, core\n"
                               "  monitor break [ring=R] [packet=N] [opcode=NAME]   stop a ring before a packet\n"
                               "  monitor breaks  list the command-stream breakpoints; monitor delete: remove all\n"
                               "  monitor step R  let stopped ring R run one packet and stop again\n"
                               "  monitor continue [R]  let stopped ring R (default: every one) go on\n");
        if (verb == "state") return format_state_dump(state_dump(*bp, firmware));
        if (verb == "break") {
            try {
                const packet_break_spec p = parse_packet_break(rest);
                auto v = q.packet_breaks();
                v.push_back({p.ring, p.packet, p.opcode});
                q.set_packet_breaks(v);
                return fmt::format("command-stream breakpoint {}: {}\n", v.size(), describe(v.back()));
            } catch (const config_error& e) {
                return std::string(e.what()) + "\n";
            }
        }
        if (verb == "breaks") {
            std::string out;
            int i = 1;
            for (const auto& br : q.packet_breaks()) out += fmt::format("{}: {}\n", i++, describe(br));
            return out.empty() ? std::string("no command-stream breakpoints\n") : out;
        }
        if (verb == "delete") {
            q.set_packet_breaks({});
            return std::string("command-stream breakpoints deleted\n");
        }
        if (verb == "step" || verb == "continue") {
            std::istringstream r(rest);
            int ring = -1;
            if (!(r >> ring)) ring = -1;
            if (verb == "step" && ring < 0) return std::string("monitor step needs a ring: monitor step R\n");
            std::string out;
            for (unsigned i = 0; i < b_rings(*bp); ++i)
                if ((ring < 0 || static_cast<unsigned>(ring) == i) && q.ring_held(i)) {
                    q.release_ring(i, verb == "step");
                    out += fmt::format("ring {} {}\n", i, verb == "step" ? "runs one packet" : "goes on");
                }
            return out.empty() ? std::string("no ring is stopped at a breakpoint\n") : out;
        }
        return std::nullopt;
    });
}

} // namespace accelvp
