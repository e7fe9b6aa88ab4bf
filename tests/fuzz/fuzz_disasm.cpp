// libFuzzer target: the command-stream disassembler (platform/tools/cmdasm.cpp) on any
// bytes; its promise is assemble(disassemble(b)) == b, with and without offsets.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "platform/tools/cmdasm.h"

using namespace accelvp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::vector<uint8_t> bin(data, data + size);
    for (const bool offsets : {false, true}) {
        cmdasm::disasm_options o;
        o.offsets = offsets;
        const std::string text = cmdasm::disassemble(bin, o);
        std::vector<uint8_t> back;
        try {
            back = cmdasm::assemble(text, "disasm.s");
        } catch (const cmdasm::asm_error&) {
            std::abort();  // the disassembler printed text its assembler refuses
        }
        if (back != bin) std::abort();
    }
    return 0;
}
