// Command-stream assembler and disassembler: a text form of AAX command buffers
// (abi/aax_queue.h) <-> the bytes the queues execute. The text form is documented in
// docs/cmdasm.md; one packet per line, e.g.
//
//   dma src=0x1000 dst=0x2000 width=4096 irq      # a copy, CQ interrupt after it
//   sem_wait sem=3 cond=ge value=1 dec
//   .raw 0x0000000000010001                       # any qwords, verbatim
//
// Every packet kind is one entry of a table (field name, position, width, kind, default),
// so adding a packet is adding a table entry. The disassembler decodes with the same table
// and re-assembles each line it prints; a packet the text cannot reproduce exactly (unknown
// or reserved opcode, wrong size, bits outside every field, out-of-range values) is printed
// as `.raw`, so assemble(disassemble(b)) == b for every byte string b.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace accelvp::cmdasm {

// All errors of one assembly, each "FILE:LINE: message" (what() joins them with newlines).
class asm_error : public std::runtime_error {
public:
    explicit asm_error(std::vector<std::string> lines);
    const std::vector<std::string>& lines() const { return lines_; }

private:
    std::vector<std::string> lines_;
};

// Text -> bytes. `file` names the input in error messages. Throws asm_error.
std::vector<uint8_t> assemble(const std::string& text, const std::string& file = "<input>");

struct disasm_options {
    bool offsets = false;  // append "# +0xOFFSET" to each line (matches err_offset of completion records)
};
// Bytes -> text (never fails; one line per packet, `.raw`/`.byte` for what is not a valid packet).
std::string disassemble(const uint8_t* data, size_t size, const disasm_options& o = {});
inline std::string disassemble(const std::vector<uint8_t>& b, const disasm_options& o = {}) {
    return disassemble(b.data(), b.size(), o);
}

// Mnemonics of the packet kinds the text form knows, in table order.
std::vector<std::string> mnemonics();

// `accelvp asm IN -o OUT` and `accelvp disasm IN [-o OUT] [--offsets]`.
struct cli_options {
    std::string asm_in, asm_out, disasm_in, disasm_out;
    bool offsets = false;
};
void add_commands(CLI::App& app, cli_options& o);
// Runs whichever of the two subcommands was parsed; returns false if neither was.
// Errors go to `err` as FILE:LINE: message lines; rc is 0, or 2 on any error.
bool run_command(const CLI::App& app, const cli_options& o, int& rc);

}  // namespace accelvp::cmdasm
