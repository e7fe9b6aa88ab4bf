// libFuzzer target: the command-stream assembler (platform/tools/cmdasm.cpp). Whatever
// assembles must disassemble and reassemble to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "platform/tools/cmdasm.h"

using namespace accelvp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::vector<uint8_t> bin;
    try {
        bin = cmdasm::assemble(text, "fuzz.s");
    } catch (const cmdasm::asm_error&) {
        return 0;
    }
    const std::string back = cmdasm::disassemble(bin);
    if (cmdasm::assemble(back, "disasm.s") != bin) std::abort();  // round trip broken
    return 0;
}
