// libFuzzer target: the memsim trace parser (platform/memsim/trace_reader.h). Every
// request it returns must come from a well-formed line; errors are config_errors. The
// parser reads through a buffer of 64 + (first byte) bytes, so refills and lines cut at the
// buffer's end are exercised on short inputs.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "platform/memsim/memsim.h"
#include "tlm/core/config.h"

using namespace accelvp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;  // fmemopen needs a buffer
    std::FILE* f = fmemopen(const_cast<uint8_t*>(data), size, "rb");
    if (!f) return 0;
    try {
        uint64_t lines = 1;
        for (size_t i = 0; i < size; ++i) lines += data[i] == '\n';
        // A small read buffer (the first input byte picks 64 .. 319 bytes): refills and
        // lines cut at the buffer's end are exercised on short inputs.
        const uint64_t n = parse_trace(f, "fuzz.trace", {}, 64 + data[0]);
        if (n > lines) std::abort();  // more requests than lines
    } catch (const config_error&) {
    }
    std::fclose(f);
    return 0;
}
