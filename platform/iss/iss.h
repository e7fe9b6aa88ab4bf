// Bare-metal mode (`accelvp iss`): one RV32 core, a RAM where the ELF's segments lie, a
// CLINT, and the HTIF `tohost` convention of the RISC-V test suites -- writing 1 to the
// ELF's `tohost` symbol means pass, (code << 1) | 1 means fail with `code`.
//
//   cpu (rv32_core) -> bus (router) -> htif (watches tohost) -> ram (memory, DMI)
//                                   -> clint (MTIP/MSIP, `time`)
//
// The tohost word is carved out of the RAM's DMI regions, so the core's store to it is
// a b_transport the monitor sees at once; everything else in RAM stays DMI.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tlm/core/config.h"

namespace accelvp {

struct iss_options {
    std::string elf;
    uint64_t max_instr = 1000000000;     // instructions + traps; bounds trap storms too
    std::vector<std::string> overrides;  // "key=value" (cpu.*, iss.*, sim.log_level)
    std::string stats_file;
    bool quiet = false;
    int gdb_port = -1;  // >= 0: GDB stub on 127.0.0.1:gdb_port (0 = any free port); waits for GDB at reset
};

// Parameters of the iss mode: cpu.* (core and timer), iss.* (address map, RAM), sim.log_level.
param_schema iss_schema();

struct iss_result {
    int exit_code = 0;  // 0 pass, 1 fail / limit / hang
    std::string error;  // why, when exit_code != 0
    nlohmann::json stats;
};

// Load, simulate, report. Bad ELF files and bad parameters throw config_error (exit 2).
// Once per process (SystemC elaborates once).
iss_result run_iss(const iss_options& o, std::ostream& out);

} // namespace accelvp
