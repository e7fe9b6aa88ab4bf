// libFuzzer target: the RV32 ELF loader (platform/iss/elf_loader.cpp). What it returns
// stays within its documented limits; errors are elf_errors.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "platform/iss/elf_loader.h"

using namespace accelvp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::vector<uint8_t> img(data, data + size);
    try {
        const elf_image e = parse_elf(img, "fuzz.elf");
        uint64_t names = 0, loaded = 0;
        for (const auto& [n, v] : e.symbols) names += n.size();
        for (const auto& s : e.segments) {
            loaded += s.data.size();
            if (s.data.size() > s.mem_size) std::abort();
        }
        if (names > elf_limits::max_symbol_bytes || loaded > elf_limits::max_file_bytes || e.segments.empty())
            std::abort();
    } catch (const elf_error&) {
    }
    return 0;
}
