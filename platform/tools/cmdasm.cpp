#include "platform/tools/cmdasm.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "abi/aax_queue.h"

namespace accelvp::cmdasm {

namespace {

// ---- the packet table ---------------------------------------------------------------------

enum class kind {
    num,   // a number (decimal or 0x hex)
    enm,   // one of a list of names
    flag,  // bare `name` means 1; `name=N` also accepted
    f32,   // fp32 bit pattern written as a float literal (or 0x bits)
};

struct enum_name {
    std::string name;
    uint64_t value;
};

// A field is bits [lsb, lsb+bits) of the little-endian integer of `bytes` bytes at byte
// `off` of the packet (header included: opcode 0, flags 1, size_qw 2, param 4).
struct field {
    const char* name;
    uint16_t off;
    uint8_t bytes;
    uint8_t lsb, bits;
    kind k;
    uint64_t def;       // value when the field is not written
    bool required;      // must be written (and is always printed)
    uint64_t min;
    bool hex;           // printed in hex
    std::vector<enum_name> names;

    uint64_t max() const { return bits >= 64 ? ~0ull : (1ull << bits) - 1; }
};

field num(const char* n, uint16_t off, uint8_t bytes, bool hex, bool required = false, uint64_t def = 0,
          uint64_t min = 0) {
    return field{n, off, bytes, 0, uint8_t(bytes * 8), kind::num, def, required, min, hex, {}};
}
field flag(const char* n, uint16_t off, uint8_t bytes, uint8_t lsb, uint8_t bits) {
    return field{n, off, bytes, lsb, bits, kind::flag, 0, false, 0, false, {}};
}
field enm(const char* n, uint16_t off, uint8_t bytes, uint8_t lsb, uint8_t bits, std::vector<enum_name> names,
          uint64_t def, bool required = false) {
    return field{n, off, bytes, lsb, bits, kind::enm, def, required, 0, false, std::move(names)};
}
field f32(const char* n, uint16_t off) { return field{n, off, 4, 0, 32, kind::f32, 0, false, 0, true, {}}; }

// Enum names from the ABI's name functions, lower case.
std::vector<enum_name> names_of(const char* (*name)(unsigned), unsigned count) {
    std::vector<enum_name> v;
    for (unsigned i = 0; i < count; i++) {
        std::string s = name(i);
        for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
        v.push_back({s, i});
    }
    return v;
}
field dtype_field(const char* n, uint16_t off) {
    return enm(n, off, 1, 0, 8, names_of(aax_dtype_name, AAX_DT_COUNT), 0, true);
}

// Header fields shared by packet kinds.
field irq_flag() { return flag("irq", 1, 1, 0, 1); }  // AAX_PKT_F_IRQ
field ignored_param() { return num("param", 4, 4, true); }  // param is not interpreted by these opcodes

struct packet_def {
    const char* mnemonic;
    uint8_t opcode;
    uint16_t size_qw;  // 0: variable, given by a field at offset 2 (size_qw)
    std::vector<field> fields;
};

const std::vector<packet_def>& table() {
    static const std::vector<packet_def> t = {
        {"nop", AAX_OP_NOP, 0, {num("size", 2, 2, false, false, 1, 1), ignored_param(), irq_flag()}},
        {"dma",
         AAX_OP_DMA,
         AAX_PKT_DMA_QW,
         {num("src", 8, 8, true), num("dst", 16, 8, true, true), num("width", 24, 8, false, true, 0, 1),
          num("height", 32, 4, false, false, 1, 1), num("src_stride", 40, 8, false), num("dst_stride", 48, 8, false),
          num("pattern", 36, 4, true), flag("fill", 4, 4, 0, 1), irq_flag()}},
        {"gemm",
         AAX_OP_GEMM,
         AAX_PKT_GEMM_QW,
         {num("cluster", 8, 2, false), dtype_field("dtype_in", 10), dtype_field("dtype_out", 11),
          enm("dataflow", 12, 1, 0, 8,
              {{"default", AAX_GEMM_DF_DEFAULT}, {"ws", AAX_GEMM_DF_WS}, {"os", AAX_GEMM_DF_OS}},
              AAX_GEMM_DF_DEFAULT),
          num("m", 16, 4, false, true, 0, 1), num("n", 20, 4, false, true, 0, 1), num("k", 24, 4, false, true, 0, 1),
          num("a_addr", 32, 4, true, true), num("b_addr", 36, 4, true, true), num("c_addr", 40, 4, true, true),
          num("lda", 44, 4, false), num("ldb", 48, 4, false), num("ldc", 52, 4, false),
          num("reserved0", 13, 3, true), num("reserved1", 28, 4, true), flag("accumulate", 4, 4, 0, 1),
          flag("b_trans", 4, 4, 1, 1), irq_flag()}},
        {"vec",
         AAX_OP_VEC,
         AAX_PKT_VEC_QW,
         {num("cluster", 8, 2, false), enm("op", 10, 1, 0, 8, names_of(aax_vec_op_name, AAX_VEC_OP_COUNT), 0, true),
          dtype_field("dtype", 11), dtype_field("dtype_out", 12), num("rows", 16, 4, false, true, 0, 1),
          num("cols", 20, 4, false, true, 0, 1), num("src0", 24, 4, true, true), num("src1", 28, 4, true),
          num("src2", 32, 4, true), num("dst", 36, 4, true, true), num("src0_stride", 40, 4, false),
          num("src1_stride", 44, 4, false), num("src2_stride", 48, 4, false), num("dst_stride", 52, 4, false),
          f32("scalar", 56), f32("eps", 60), num("reserved0", 13, 3, true), flag("b_scalar", 4, 4, 0, 1),
          flag("b_row", 4, 4, 1, 1), flag("b_col", 4, 4, 2, 1), flag("c_row", 4, 4, 3, 1),
          flag("affine", 4, 4, 4, 1), irq_flag()}},
        {"sem_signal",
         AAX_OP_SEM_SIGNAL,
         AAX_PKT_SEM_SIGNAL_QW,
         {num("sem", 8, 2, false, true),
          enm("mode", 10, 1, 0, 8, {{"set", AAX_SEM_MODE_SET}, {"add", AAX_SEM_MODE_ADD}}, AAX_SEM_MODE_ADD),
          num("value", 12, 4, false, true), num("reserved", 11, 1, true), ignored_param(), irq_flag()}},
        {"sem_wait",
         AAX_OP_SEM_WAIT,
         AAX_PKT_SEM_WAIT_QW,
         {num("sem", 8, 2, false, true),
          enm("cond", 10, 1, 0, 8, {{"ge", AAX_SEM_GE}, {"eq", AAX_SEM_EQ}, {"nz", AAX_SEM_NZ}}, AAX_SEM_GE),
          num("value", 12, 4, false), flag("dec", 11, 1, 0, 8), ignored_param(), irq_flag()}},
        {"fence",
         AAX_OP_FENCE,
         AAX_PKT_FENCE_QW,
         {num("addr", 8, 8, true), num("value", 16, 8, false),
          enm("write", 4, 4, 0, 2,
              {{"none", 0},
               {"value", AAX_FENCE_WRITE_VALUE},
               {"ts", AAX_FENCE_WRITE_TS},
               {"both", AAX_FENCE_WRITE_VALUE | AAX_FENCE_WRITE_TS}},
              AAX_FENCE_WRITE_VALUE),
          irq_flag()}},
        {"coll",
         AAX_OP_COLL,
         AAX_PKT_COLL_QW,
         {enm("op", 4, 4, 0, 8,
              {{"send", AAX_COLL_SEND},
               {"recv", AAX_COLL_RECV},
               {"rdma_write", AAX_COLL_RDMA_WRITE},
               {"signal", AAX_COLL_SIGNAL},
               {"reduce", AAX_COLL_REDUCE}},
              AAX_COLL_SEND, true),
          enm("dtype", 4, 4, 8, 4,
              {{"fp32", AAX_COLL_DT_FP32}, {"int32", AAX_COLL_DT_INT32}, {"bf16", AAX_COLL_DT_BF16},
               {"fp16", AAX_COLL_DT_FP16}},
              AAX_COLL_DT_FP32),
          enm("red", 4, 4, 12, 4, {{"sum", AAX_COLL_RED_SUM}, {"max", AAX_COLL_RED_MAX}}, AAX_COLL_RED_SUM),
          flag("signal", 4, 4, 16, 1), num("port", 8, 2, false, true), num("sem", 10, 2, false),
          num("sem_value", 12, 4, false), num("local", 16, 8, true), num("remote", 24, 8, true),
          num("bytes", 32, 8, false), field{"param_rsv", 4, 4, 17, 15, kind::num, 0, false, 0, true, {}},
          irq_flag()}},
        {"msg",
         AAX_OP_MSG,
         AAX_PKT_MSG_QW,
         {num("addr", 8, 8, true, true), num("value", 16, 4, false, true), num("reserved", 20, 4, true),
          irq_flag()}},
        {"jump",
         AAX_OP_JUMP,
         AAX_PKT_JUMP_QW,
         {num("addr", 8, 8, true, true), num("size", 16, 4, false, true), num("reserved", 20, 4, true), ignored_param(),
          irq_flag()}},
        {"call",
         AAX_OP_CALL,
         AAX_PKT_CALL_QW,
         {num("addr", 8, 8, true, true), num("size", 16, 4, false, true), num("reserved", 20, 4, true), ignored_param(),
          irq_flag()}},
        {"ret", AAX_OP_RET, AAX_PKT_RET_QW, {ignored_param(), irq_flag()}},
        {"wreg",
         AAX_OP_WREG,
         AAX_PKT_WREG_QW,
         {num("offset", 8, 4, true, true), num("value", 12, 4, false, true), ignored_param(), irq_flag()}},
    };
    return t;
}

const packet_def* find_def(const std::string& mnemonic) {
    for (const auto& d : table())
        if (mnemonic == d.mnemonic) return &d;
    return nullptr;
}
const packet_def* find_def(uint8_t opcode) {
    for (const auto& d : table())
        if (opcode == d.opcode) return &d;
    return nullptr;
}

uint64_t load_le(const uint8_t* p, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v |= uint64_t(p[i]) << (8 * i);
    return v;
}
void store_le(uint8_t* p, unsigned n, uint64_t v) {
    for (unsigned i = 0; i < n; i++) p[i] = uint8_t(v >> (8 * i));
}

uint64_t get_field(const uint8_t* pkt, const field& f) { return (load_le(pkt + f.off, f.bytes) >> f.lsb) & f.max(); }
void set_field(uint8_t* pkt, const field& f, uint64_t v) {
    const uint64_t mask = f.max() << f.lsb;
    const uint64_t word = load_le(pkt + f.off, f.bytes);
    store_le(pkt + f.off, f.bytes, (word & ~mask) | ((v << f.lsb) & mask));
}

std::string fmt_value(const field& f, uint64_t v) { return f.hex ? fmt::format("{:#x}", v) : fmt::format("{}", v); }

std::string join_names(const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); i++) s += (i ? ", " : "") + v[i];
    return s;
}

std::string valid_fields(const packet_def& d) {
    std::vector<std::string> v;
    for (const auto& f : d.fields) v.push_back(f.name);
    return join_names(v);
}

// ---- assembling one line --------------------------------------------------------------------

bool parse_u64(const std::string& s, uint64_t& out) {
    if (s.empty()) return false;
    int base = 10;
    size_t i = 0;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) base = 16, i = 2;
    uint64_t v = 0;
    for (; i < s.size(); i++) {
        const char c = s[i];
        unsigned dgt;
        if (c >= '0' && c <= '9') dgt = unsigned(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f') dgt = unsigned(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F') dgt = unsigned(c - 'A' + 10);
        else return false;
        if (v > (~0ull - dgt) / unsigned(base)) return false;  // overflow
        v = v * unsigned(base) + dgt;
    }
    out = v;
    return true;
}

// A float literal as its fp32 bits, or `0x...` taken as the bits themselves.
bool parse_f32_bits(const std::string& s, uint64_t& out) {
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) return parse_u64(s, out) && out <= 0xFFFFFFFFu;
    if (s.empty()) return false;
    char* end = nullptr;
    const float f = std::strtof(s.c_str(), &end);
    if (end != s.c_str() + s.size()) return false;
    if (std::isinf(f) && s.find("inf") == std::string::npos && s.find("INF") == std::string::npos)
        return false;  // a finite literal beyond fp32's range is a mistake, not Inf
    uint32_t u;
    std::memcpy(&u, &f, 4);
    out = u;
    return true;
}

// fp32 bits as the shortest float literal that parses back to them; NaNs as 0x bits.
std::string fmt_f32_bits(uint64_t bits) {
    float f;
    const uint32_t u = uint32_t(bits);
    std::memcpy(&f, &u, 4);
    if (f != f) return fmt::format("{:#x}", u);
    for (int prec = 1; prec <= 9; prec++) {
        const std::string s = fmt::format("{:.{}g}", f, prec);
        uint64_t back;
        if (parse_f32_bits(s, back) && back == u) return s;
    }
    return fmt::format("{:#x}", u);
}

std::vector<std::string> split_ws(const std::string& s) {
    std::istringstream is(s);
    return {std::istream_iterator<std::string>(is), std::istream_iterator<std::string>()};
}

std::string all_mnemonics() {
    std::vector<std::string> v = mnemonics();
    v.push_back(".raw");
    v.push_back(".byte");
    return join_names(v);
}

// Appends the bytes of one packet line (comment already removed, not blank) to `out`;
// returns an error message (without FILE:LINE) or "".
std::string assemble_line(const std::string& line, std::vector<uint8_t>& out) {
    const std::vector<std::string> tok = split_ws(line);
    if (tok.empty()) return "";  // only white space (\v, \f: split_ws's set, not strip_comment's)
    const std::string& mn = tok[0];
    if (mn == ".raw" || mn == ".byte") {
        const bool qw = mn == ".raw";
        if (tok.size() < 2) return fmt::format("{} needs at least one value", mn);
        std::vector<uint8_t> bytes;
        for (size_t i = 1; i < tok.size(); i++) {
            uint64_t v;
            if (!parse_u64(tok[i], v) || (!qw && v > 0xFF))
                return fmt::format("{}: '{}' is not a {} (decimal or 0x hex)", mn, tok[i],
                                   qw ? "64-bit value" : "byte value 0..255");
            bytes.resize(bytes.size() + (qw ? 8 : 1));
            store_le(bytes.data() + bytes.size() - (qw ? 8 : 1), qw ? 8 : 1, v);
        }
        out.insert(out.end(), bytes.begin(), bytes.end());
        return "";
    }
    const packet_def* d = find_def(mn);
    if (!d) return fmt::format("unknown packet '{}'; valid: {}", mn, all_mnemonics());

    std::vector<bool> seen(d->fields.size(), false);
    std::vector<uint64_t> val(d->fields.size());
    for (size_t i = 0; i < d->fields.size(); i++) val[i] = d->fields[i].def;
    for (size_t t = 1; t < tok.size(); t++) {
        const std::string& s = tok[t];
        const size_t eq = s.find('=');
        const std::string key = s.substr(0, eq);
        size_t fi = 0;
        while (fi < d->fields.size() && key != d->fields[fi].name) fi++;
        if (fi == d->fields.size())
            return fmt::format("{}: unknown field '{}'; valid: {}", mn, key, valid_fields(*d));
        const field& f = d->fields[fi];
        if (seen[fi]) return fmt::format("{}: field {} given twice", mn, f.name);
        seen[fi] = true;
        if (eq == std::string::npos) {
            if (f.k != kind::flag)
                return fmt::format("{}: field {} needs a value ({}=...)", mn, f.name, f.name);
            val[fi] = 1;
            continue;
        }
        const std::string v = s.substr(eq + 1);
        if (f.k == kind::enm) {
            std::vector<std::string> names;
            bool found = false;
            for (const auto& n : f.names) {
                names.push_back(n.name);
                if (v == n.name) val[fi] = n.value, found = true;
            }
            if (!found) return fmt::format("{}: {}={} is not valid; valid values: {}", mn, f.name, v, join_names(names));
            continue;
        }
        uint64_t x;
        if (f.k == kind::f32 && !parse_f32_bits(v, x))
            return fmt::format("{}: {}={} is not a float (e.g. 1e-5, -0.5, inf) or 0x bit pattern", mn, f.name, v);
        if (f.k != kind::f32 && !parse_u64(v, x))
            return fmt::format("{}: {}={} is not a number (decimal or 0x hex)", mn, f.name, v);
        if (x < f.min || x > f.max())
            return fmt::format("{}: {}={} is out of range [{}, {}]", mn, f.name, v, fmt_value(f, f.min),
                               fmt_value(f, f.max()));
        val[fi] = x;
    }
    for (size_t i = 0; i < d->fields.size(); i++)
        if (d->fields[i].required && !seen[i])
            return fmt::format("{}: missing field {} (required: {})", mn, d->fields[i].name, [&] {
                std::vector<std::string> req;
                for (const auto& f : d->fields)
                    if (f.required) req.push_back(f.name);
                return join_names(req);
            }());

    // size_qw: fixed by the table, or the `size` field (header offset 2) of a variable packet.
    uint64_t qw = d->size_qw;
    for (size_t i = 0; i < d->fields.size(); i++)
        if (d->size_qw == 0 && d->fields[i].off == 2) qw = val[i];
    std::vector<uint8_t> pkt(qw * 8, 0);
    pkt[0] = d->opcode;
    store_le(&pkt[2], 2, qw);
    for (size_t i = 0; i < d->fields.size(); i++) set_field(pkt.data(), d->fields[i], val[i]);
    out.insert(out.end(), pkt.begin(), pkt.end());
    return "";
}

std::string strip_comment(const std::string& line) {
    const size_t h = line.find('#');
    std::string s = h == std::string::npos ? line : line.substr(0, h);
    // Every character isspace() calls white space (split_ws splits on the same set).
    static const char ws[] = " \t\r\n\v\f";
    const size_t b = s.find_first_not_of(ws);
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(ws) + 1 - b);
}

// ---- disassembling one packet ---------------------------------------------------------------

std::string raw_line(const uint8_t* p, size_t qwords) {
    std::string s = ".raw";
    for (size_t i = 0; i < qwords; i++) s += fmt::format(" {:#018x}", load_le(p + 8 * i, 8));
    return s;
}

// The symbolic line for a packet of `size` bytes, or "" if the text form cannot express it.
std::string symbolic_line(const uint8_t* p, size_t size) {
    const packet_def* d = find_def(p[0]);
    if (!d || (d->size_qw && size != d->size_qw * 8u)) return "";  // wrong size: fields may lie beyond it
    std::string s = d->mnemonic;
    for (const auto& f : d->fields) {
        if (f.off + f.bytes > size) return "";
        const uint64_t v = get_field(p, f);
        if (!f.required && v == f.def) continue;
        if (f.k == kind::flag && v == 1) {
            s += std::string(" ") + f.name;
        } else if (f.k == kind::enm) {
            const enum_name* name = nullptr;
            for (const auto& n : f.names)
                if (n.value == v) name = &n;
            if (!name) return "";
            s += fmt::format(" {}={}", f.name, name->name);
        } else if (f.k == kind::f32) {
            s += fmt::format(" {}={}", f.name, fmt_f32_bits(v));
        } else {
            s += fmt::format(" {}={}", f.name, fmt_value(f, v));
        }
    }
    // Exactness check: the line must assemble to exactly these bytes (catches wrong sizes,
    // bits outside every field, values outside a field's range).
    std::vector<uint8_t> back;
    if (!assemble_line(s, back).empty() || back.size() != size || std::memcmp(back.data(), p, size) != 0) return "";
    return s;
}

}  // namespace

asm_error::asm_error(std::vector<std::string> lines)
    : std::runtime_error([&] {
          std::string s;
          for (size_t i = 0; i < lines.size(); i++) s += (i ? "\n" : "") + lines[i];
          return s;
      }()),
      lines_(std::move(lines)) {}

std::vector<std::string> mnemonics() {
    std::vector<std::string> v;
    for (const auto& d : table()) v.push_back(d.mnemonic);
    return v;
}

std::vector<uint8_t> assemble(const std::string& text, const std::string& file) {
    std::vector<uint8_t> out;
    std::vector<std::string> errors;
    std::istringstream is(text);
    std::string line;
    for (size_t lineno = 1; std::getline(is, line); lineno++) {
        const std::string s = strip_comment(line);
        if (s.empty()) continue;
        const std::string e = assemble_line(s, out);
        if (!e.empty()) {
            errors.push_back(fmt::format("{}:{}: {}", file, lineno, e));
            if (errors.size() >= 50) {
                errors.push_back(fmt::format("{}: too many errors, stopping", file));
                break;
            }
        }
    }
    if (!errors.empty()) throw asm_error(std::move(errors));
    return out;
}

std::string disassemble(const uint8_t* data, size_t size, const disasm_options& o) {
    std::string out;
    size_t off = 0;
    auto emit = [&](const std::string& s, size_t at) {
        out += o.offsets ? fmt::format("{:<60} # +{:#x}\n", s, at) : s + "\n";
    };
    while (off < size) {
        if (size - off < 8) {
            std::string s = ".byte";
            for (size_t i = off; i < size; i++) s += fmt::format(" {:#04x}", data[i]);
            emit(s, off);
            break;
        }
        const size_t qw = load_le(data + off + 2, 2);
        if (qw == 0 || qw > (size - off) / 8) {
            // Not a packet (the device stops here with BAD_LENGTH): keep the header verbatim and
            // look for packets again after it.
            emit(raw_line(data + off, 1), off);
            off += 8;
            continue;
        }
        std::string s = symbolic_line(data + off, qw * 8);
        if (s.empty()) s = raw_line(data + off, qw);
        emit(s, off);
        off += qw * 8;
    }
    return out;
}

void add_commands(CLI::App& app, cli_options& o) {
    auto* a = app.add_subcommand("asm", "assemble a command-stream text file into the binary packets the queues "
                                        "execute (text form: docs/cmdasm.md)");
    a->add_option("input", o.asm_in, "text file (.s)")->required();
    a->add_option("-o,--output", o.asm_out, "binary output file")->required();
    auto* d = app.add_subcommand("disasm", "disassemble binary command packets into the text form accepted by "
                                           "'accelvp asm'");
    d->add_option("input", o.disasm_in, "binary file")->required();
    d->add_option("-o,--output", o.disasm_out, "text output file (default: stdout)");
    d->add_flag("--offsets", o.offsets, "append each packet's byte offset as a comment");
}

bool run_command(const CLI::App& app, const cli_options& o, int& rc) {
    const bool is_asm = app.got_subcommand("asm"), is_dis = app.got_subcommand("disasm");
    if (!is_asm && !is_dis) return false;
    rc = 2;
    const std::string& in = is_asm ? o.asm_in : o.disasm_in;
    std::ifstream f(in, std::ios::binary);
    if (!f) {
        std::cerr << "accelvp: cannot read '" << in << "'\n";
        return true;
    }
    const std::string content{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    std::string result;
    if (is_asm) {
        try {
            const std::vector<uint8_t> b = assemble(content, in);
            result.assign(b.begin(), b.end());
        } catch (const asm_error& e) {
            for (const auto& l : e.lines()) std::cerr << l << "\n";
            return true;
        }
    } else {
        disasm_options d;
        d.offsets = o.offsets;
        result = disassemble(reinterpret_cast<const uint8_t*>(content.data()), content.size(), d);
    }
    const std::string& out = is_asm ? o.asm_out : o.disasm_out;
    if (out.empty()) {
        std::cout << result;
    } else {
        std::ofstream w(out, std::ios::binary);
        w << result;
        if (!w.flush()) {
            std::cerr << "accelvp: cannot write '" << out << "'\n";
            return true;
        }
    }
    rc = 0;
    return true;
}

}  // namespace accelvp::cmdasm
