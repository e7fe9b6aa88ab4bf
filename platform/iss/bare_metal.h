#pragma once
// Set-up shared by the programs that run one bare-metal ELF on an RV32 core: `accelvp iss`
// (platform/iss) and the SoC composition (platform/soc).

#include <cstdint>
#include <memory>
#include <string>

#include "platform/iss/elf_loader.h"
#include "tlm/cpu/gdb_server.h"
#include "tlm/mem/sparse_store.h"

namespace accelvp {

// Copy the ELF's loadable segments into `store`, which holds the memory that starts at bus
// address `base`; the bytes past a segment's file data (its bss) are zero-filled.
void load_elf_segments(sparse_store& store, uint32_t base, const elf_image& elf);

// With `port` >= 0, start a GDB server for `cpu` (0: any free port) on loopback and print how to
// attach to it (naming `elf_path`); a port that cannot be bound is a config_error. With
// `port` < 0, nullptr.
std::unique_ptr<gdb_server> start_gdb_server(rv32_core& cpu, int port, const std::string& elf_path);

} // namespace accelvp
