#include "platform/iss/bare_metal.h"

#include <fmt/format.h>

#include <iostream>
#include <stdexcept>

namespace accelvp {

void load_elf_segments(sparse_store& store, uint32_t base, const elf_image& elf) {
    for (const auto& seg : elf.segments) {
        store.write(seg.addr - base, seg.data.data(), seg.data.size());
        if (seg.mem_size > seg.data.size())
            store.fill(seg.addr - base + seg.data.size(), 0, seg.mem_size - seg.data.size());
    }
}

std::unique_ptr<gdb_server> start_gdb_server(rv32_core& cpu, int port, const std::string& elf_path) {
    if (port < 0) return nullptr;
    std::unique_ptr<gdb_server> gdb;
    try {
        gdb = std::make_unique<gdb_server>(cpu, static_cast<uint16_t>(port));
    } catch (const std::runtime_error& e) {
        throw config_error(e.what());
    }
    std::cerr << fmt::format("accelvp: waiting for GDB on 127.0.0.1:{} (gdb-multiarch -ex 'target remote "
                             "127.0.0.1:{}' {})\n", gdb->port(), gdb->port(), elf_path)
              << std::flush;
    return gdb;
}

} // namespace accelvp
