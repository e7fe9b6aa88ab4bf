// The state dump of a failed run (docs/debugging.md#state-dump): each ring's head, tail and the
// packet it is on (disassembled), the semaphores that are not zero, and the control core's PC,
// return address and a symbolized backtrace from the firmware ELF's symbols. Debug reads only.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace accelvp {

class board;

// `firmware`: the ELF the driver loaded (for the symbols; "" or unreadable: addresses only).
nlohmann::json state_dump(board& b, const std::string& firmware);
std::string format_state_dump(const nlohmann::json& d);

class gdb_server;

// Command-stream breakpoints (docs/debugging.md#command-stream-breakpoints). A spec is
// "[ring=R] [packet=N] [opcode=NAME]" (spaces or commas between). Throws config_error naming
// what is wrong.
struct packet_break_spec {
    int ring = -1;
    int64_t packet = -1;
    int opcode = -1;
};
packet_break_spec parse_packet_break(const std::string& spec);
// Arms the breakpoints on the board's queue manager. Without GDB a hit prints the state dump
// and the ring goes on; with `gdb`, the ring stays stopped, the control core stops for GDB, and
// `monitor` commands inspect the state, step packets and let the ring go on.
void install_packet_breaks(board& b, const std::vector<std::string>& specs, gdb_server* gdb,
                           const std::string& firmware);

// "name+0xOFF" for an address, from an ELF's symbols (the nearest one at or below it).
struct symbolizer {
    explicit symbolizer(const std::string& elf_path);
    std::string operator()(uint32_t addr) const;
    bool code_address(uint32_t addr) const;  // inside the segment holding the entry point
    std::vector<std::pair<uint32_t, std::string>> syms;  // sorted by address
    uint32_t text_lo = 0, text_hi = 0;
    std::vector<uint8_t> text;  // the bytes of that segment
};

} // namespace accelvp
