#include "platform/memsim/trace_reader.h"

#include "platform/memsim/memsim.h"

namespace accelvp {

uint64_t parse_trace(std::FILE* f, const std::string& name,
                     const std::function<void(uint64_t addr, bool write, uint64_t cycle)>& each, size_t buffer_bytes) {
    trace_reader in(f, name, buffer_bytes);
    uint64_t addr, cycle, n = 0;
    bool write;
    while (in.next(addr, write, cycle)) {
        ++n;
        if (each) each(addr, write, cycle);
    }
    return n;
}

} // namespace accelvp
