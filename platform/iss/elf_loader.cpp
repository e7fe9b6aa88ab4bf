#include "platform/iss/elf_loader.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace accelvp {

std::optional<uint32_t> elf_image::symbol(const std::string& name) const {
    for (const auto& [n, v] : symbols)
        if (n == name) return v;
    return std::nullopt;
}

namespace {

// Copy a struct out of the file image at `off`, checking bounds.
template <typename T>
T read_at(const std::vector<uint8_t>& img, uint64_t off, const std::string& path, const char* what) {
    if (off > img.size() || sizeof(T) > img.size() - off)
        throw elf_error(fmt::format("elf error: {}: truncated file ({} at offset {} lies beyond its {} bytes)", path,
                                    what, off, img.size()));
    T v;
    std::memcpy(&v, img.data() + off, sizeof(T));
    return v;
}

} // namespace

elf_image load_elf(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw elf_error(fmt::format("elf error: cannot open '{}'", path));
    std::vector<uint8_t> img;
    char buf[65536];
    while (f.read(buf, sizeof buf) || f.gcount() > 0) {  // bounded: /dev/zero is not an ELF
        img.insert(img.end(), buf, buf + f.gcount());
        if (img.size() > elf_limits::max_file_bytes)
            throw elf_error(fmt::format("elf error: {}: larger than {} MiB", path, elf_limits::max_file_bytes >> 20));
    }
    return parse_elf(img, path);
}

elf_image parse_elf(const std::vector<uint8_t>& img, const std::string& path) {

    if (img.size() < EI_NIDENT || std::memcmp(img.data(), ELFMAG, SELFMAG) != 0)
        throw elf_error(fmt::format("elf error: {}: not an ELF file", path));
    if (img[EI_CLASS] != ELFCLASS32 || img[EI_DATA] != ELFDATA2LSB)
        throw elf_error(fmt::format("elf error: {}: not a 32-bit little-endian ELF (the iss mode runs RV32 programs)",
                                    path));
    const auto eh = read_at<Elf32_Ehdr>(img, 0, path, "ELF header");
    if (eh.e_machine != EM_RISCV)
        throw elf_error(fmt::format("elf error: {}: not a RISC-V ELF (e_machine = {})", path, eh.e_machine));
    if (eh.e_type != ET_EXEC)
        throw elf_error(fmt::format("elf error: {}: not an executable (e_type = {}; link it with a fixed address)",
                                    path, eh.e_type));

    elf_image out;
    out.path = path;
    out.entry = eh.e_entry;
    uint64_t loaded = 0;
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
        const auto ph = read_at<Elf32_Phdr>(img, uint64_t{eh.e_phoff} + uint64_t{i} * eh.e_phentsize, path,
                                            "program header");
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
        if (out.segments.size() == elf_limits::max_load_segments)
            throw elf_error(fmt::format("elf error: {}: more than {} loadable segments", path,
                                        elf_limits::max_load_segments));
        if (ph.p_filesz > ph.p_memsz || uint64_t{ph.p_offset} + ph.p_filesz > img.size())
            throw elf_error(fmt::format("elf error: {}: segment {} has file bytes beyond the file or its size", path, i));
        if (uint64_t{ph.p_paddr} + ph.p_memsz > (uint64_t{1} << 32))
            throw elf_error(fmt::format("elf error: {}: segment {} wraps past 4 GiB", path, i));
        loaded += ph.p_filesz;  // segments may share file bytes: bound the copies, not the file
        if (loaded > elf_limits::max_file_bytes)
            throw elf_error(fmt::format("elf error: {}: segments hold more than {} MiB of file bytes", path,
                                        elf_limits::max_file_bytes >> 20));
        elf_segment s;
        s.addr = ph.p_paddr;
        s.mem_size = ph.p_memsz;
        s.data.assign(img.begin() + ph.p_offset, img.begin() + ph.p_offset + ph.p_filesz);
        out.segments.push_back(std::move(s));
    }
    if (out.segments.empty()) throw elf_error(fmt::format("elf error: {}: no loadable segment", path));

    // Symbols: the SHT_SYMTAB (the ELF specification allows one) with its linked string
    // table. Names are bounded one by one and in total: symbols may all point into one long
    // string.
    uint64_t name_bytes = 0;
    bool have_symtab = false;
    for (unsigned i = 0; i < eh.e_shnum; ++i) {
        const auto sh = read_at<Elf32_Shdr>(img, uint64_t{eh.e_shoff} + uint64_t{i} * eh.e_shentsize, path,
                                            "section header");
        if (sh.sh_type != SHT_SYMTAB || sh.sh_entsize != sizeof(Elf32_Sym) || sh.sh_link >= eh.e_shnum) continue;
        if (have_symtab)
            throw elf_error(fmt::format("elf error: {}: a second symbol table (section {}); an ELF file has one", path,
                                        i));
        have_symtab = true;
        const auto strtab = read_at<Elf32_Shdr>(img, uint64_t{eh.e_shoff} + uint64_t{sh.sh_link} * eh.e_shentsize,
                                                path, "section header");
        for (uint64_t off = 0; off + sizeof(Elf32_Sym) <= sh.sh_size; off += sizeof(Elf32_Sym)) {
            const auto sym = read_at<Elf32_Sym>(img, uint64_t{sh.sh_offset} + off, path, "symbol");
            if (sym.st_shndx == SHN_UNDEF || sym.st_name == 0 || sym.st_name >= strtab.sh_size) continue;
            const uint64_t s = uint64_t{strtab.sh_offset} + sym.st_name;
            if (s >= img.size()) continue;
            const auto* begin = reinterpret_cast<const char*>(img.data() + s);
            const size_t max = std::min<uint64_t>({img.size() - s, strtab.sh_size - sym.st_name,
                                                   uint64_t{elf_limits::max_symbol_name} + 1});
            const size_t len = strnlen(begin, max);
            if (len > elf_limits::max_symbol_name)
                throw elf_error(fmt::format("elf error: {}: symbol {} of section {} has a name longer than {} bytes",
                                            path, off / sizeof(Elf32_Sym), i, elf_limits::max_symbol_name));
            name_bytes += len;
            if (name_bytes > elf_limits::max_symbol_bytes || out.symbols.size() >= elf_limits::max_symbols)
                throw elf_error(fmt::format("elf error: {}: more than {} symbols or {} MiB of symbol names", path,
                                            elf_limits::max_symbols, elf_limits::max_symbol_bytes >> 20));
            out.symbols.emplace_back(std::string(begin, len), sym.st_value);
        }
    }
    return out;
}

} // namespace accelvp
