// The control core's live views (docs/debugging.md): the instruction trace (--trace-insn, like
// QEMU's `-d in_asm,exec`) and the firmware's log lines as the firmware writes them
// (--fw-log), each line with the simulated time and the core.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace accelvp {

class rv32_core;

struct insn_trace_options {
    std::string file;                 // "-": stderr
    uint64_t limit = 100000;          // lines at most; then the trace ends (and says so)
    std::vector<std::string> funcs;   // only instructions inside these functions (ELF symbols); empty: all
};

// Installs the instruction trace on `core`: one line per instruction that retires or traps,
//   [   1234.567 ns] cpu 0x00001a2c <serve+0x3c>  4781  lw a5, 8(a5)
// (simulated time, pc, symbol+offset from the ELF `firmware`, the encoding, the instruction).
// Throws config_error for an unknown function or a file that cannot be written. The returned
// object owns the output; keep it until the run ends.
std::shared_ptr<void> install_insn_trace(rv32_core& core, const std::string& firmware, const insn_trace_options& o);

// Prints the firmware's log lines on `out` as the firmware appends them to its log ring:
//   [  21879.090 ns] fw board.chip.cpu.core: ring 0 job 3 failed: ...
// Returns the state (keep it until the run ends; its destructor prints an unterminated last line).
std::shared_ptr<void> tap_firmware_log(rv32_core& core, std::ostream& out);

} // namespace accelvp
