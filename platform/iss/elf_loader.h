// A minimal RV32 ELF reader for bare-metal programs: the PT_LOAD segments (at their
// physical addresses), the entry point and symbol lookup. Uses glibc's <elf.h>.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tlm/core/config.h"

namespace accelvp {

// A malformed or unsuitable ELF file: the message names the file and the problem.
// Derives from config_error: the CLI reports it with exit code 2 (bad input, nothing simulated).
class elf_error : public config_error {
public:
    using config_error::config_error;
};

struct elf_segment {
    uint32_t addr = 0;           // p_paddr: where the bytes are loaded
    uint32_t mem_size = 0;       // p_memsz (bytes beyond data are zero)
    std::vector<uint8_t> data;   // p_filesz bytes
};

struct elf_image {
    std::string path;
    uint32_t entry = 0;
    std::vector<elf_segment> segments;
    std::vector<std::pair<std::string, uint32_t>> symbols;  // defined symbols with a name

    std::optional<uint32_t> symbol(const std::string& name) const;
};

// Limits on what a (possibly hostile) ELF may make the loader copy.
struct elf_limits {
    static constexpr uint64_t max_file_bytes = 256ull << 20;   // the file, and all segments' file bytes together
    static constexpr size_t max_symbol_name = 4096;            // bytes of one symbol name
    static constexpr uint64_t max_symbol_bytes = 16ull << 20;  // bytes of all symbol names together
    static constexpr size_t max_symbols = 1u << 20;
    // Loadable segments: a program has a handful; thousands of headers each claiming the
    // whole file made a 32 KiB file cost ~100 ms and megabytes of copies.
    static constexpr unsigned max_load_segments = 64;
};

// Read and check an ELF32 little-endian RISC-V executable. Throws elf_error.
elf_image load_elf(const std::string& path);
// The same on the file's bytes (`path` names it in messages).
elf_image parse_elf(const std::vector<uint8_t>& img, const std::string& path);

} // namespace accelvp
