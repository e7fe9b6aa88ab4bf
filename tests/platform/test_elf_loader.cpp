// The ELF loader on hostile files (docs/security.md): the bytes it copies are bounded by
// limits, not by what the file's tables claim.
#include <catch2/catch.hpp>

#include <elf.h>

#include <cstring>
#include <string>
#include <vector>

#include "platform/iss/elf_loader.h"

using namespace accelvp;
using Catch::Matchers::Contains;

namespace {

// An RV32 executable: one PT_LOAD of 16 bytes, a symbol table of `nsyms` symbols whose
// names all start at offset 1 of a string table holding one name of `name_len` bytes.
std::vector<uint8_t> make_elf(size_t nsyms, size_t name_len, unsigned nsegments = 1) {
    std::vector<uint8_t> img;
    auto put = [&](const void* p, size_t n) {
        const auto* b = static_cast<const uint8_t*>(p);
        img.insert(img.end(), b, b + n);
    };
    Elf32_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS32;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_RISCV;
    eh.e_version = EV_CURRENT;
    eh.e_entry = 0x80000000u;
    eh.e_ehsize = sizeof(Elf32_Ehdr);
    eh.e_phentsize = sizeof(Elf32_Phdr);
    eh.e_phnum = static_cast<Elf32_Half>(nsegments);
    eh.e_shentsize = sizeof(Elf32_Shdr);
    eh.e_shnum = 3;
    const uint32_t phoff = sizeof(Elf32_Ehdr);
    const uint32_t code = phoff + nsegments * sizeof(Elf32_Phdr);
    const uint32_t symoff = code + 16;
    const uint32_t stroff = symoff + static_cast<uint32_t>(nsyms * sizeof(Elf32_Sym));
    const uint32_t strsize = static_cast<uint32_t>(name_len + 2);
    const uint32_t shoff = stroff + strsize;
    eh.e_phoff = phoff;
    eh.e_shoff = shoff;
    put(&eh, sizeof eh);
    for (unsigned i = 0; i < nsegments; ++i) {
        Elf32_Phdr ph{};
        ph.p_type = PT_LOAD;
        ph.p_offset = 0;  // every segment holds the whole file
        ph.p_paddr = ph.p_vaddr = 0x80000000u;
        ph.p_filesz = ph.p_memsz = shoff + 3 * sizeof(Elf32_Shdr);
        put(&ph, sizeof ph);
    }
    img.resize(img.size() + 16, 0x13);  // code
    for (size_t i = 0; i < nsyms; ++i) {
        Elf32_Sym s{};
        s.st_name = 1;
        s.st_value = static_cast<uint32_t>(0x80000000u + i);
        s.st_shndx = 1;
        put(&s, sizeof s);
    }
    img.push_back(0);
    img.insert(img.end(), name_len, 'a');
    img.push_back(0);
    Elf32_Shdr sh[3]{};
    sh[1].sh_type = SHT_SYMTAB;
    sh[1].sh_offset = symoff;
    sh[1].sh_size = static_cast<uint32_t>(nsyms * sizeof(Elf32_Sym));
    sh[1].sh_entsize = sizeof(Elf32_Sym);
    sh[1].sh_link = 2;
    sh[2].sh_type = SHT_STRTAB;
    sh[2].sh_offset = stroff;
    sh[2].sh_size = strsize;
    put(sh, sizeof sh);
    return img;
}

std::string elf_error_of(const std::vector<uint8_t>& img) {
    try {
        parse_elf(img, "t.elf");
    } catch (const elf_error& e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace

TEST_CASE("elf loader: an ordinary symbol table loads", "[elf]") {
    const elf_image e = parse_elf(make_elf(3, 6), "t.elf");
    REQUIRE(e.symbols.size() == 3);
    CHECK(e.symbols[2] == std::make_pair(std::string("aaaaaa"), 0x80000002u));
    CHECK(e.symbol("aaaaaa") == 0x80000000u);
    CHECK(e.segments.size() == 1);
    CHECK(e.entry == 0x80000000u);
}

TEST_CASE("elf loader: a symbol name longer than 4096 bytes is an elf_error", "[elf]") {
    CHECK(parse_elf(make_elf(1, 4096), "t.elf").symbols.at(0).first.size() == 4096);
    // Before the limit, 64 symbols naming one 1 MiB string made the loader copy 64 MiB.
    const std::string msg = elf_error_of(make_elf(64, 1 << 20));
    CHECK(msg == "elf error: t.elf: symbol 0 of section 1 has a name longer than 4096 bytes");
}

TEST_CASE("elf loader: symbol names are bounded in total", "[elf]") {
    // 8192 symbols x 4 KiB of name = 32 MiB of copies from a 200 KiB file.
    const std::vector<uint8_t> img = make_elf(8192, 4000);
    CHECK(img.size() < 200000);
    CHECK_THAT(elf_error_of(img), Contains("more than 1048576 symbols or 16 MiB of symbol names"));
}

TEST_CASE("elf loader: segments sharing file bytes are bounded in total", "[elf]") {
    // 64 segments each claiming the whole file (its bytes mostly a symbol table): 4.0 MB
    // a segment load, 4.3 MB (276 MB of copies) do not.
    CHECK(parse_elf(make_elf(250000, 6, 64), "t.elf").segments.size() == 64);
    const std::vector<uint8_t> img = make_elf(270000, 6, 64);
    CHECK_THAT(elf_error_of(img), Contains("segments hold more than 256 MiB of file bytes"));
}

TEST_CASE("elf loader: at most 64 loadable segments", "[elf]") {
    // Before the limit, 2000 segments each claiming a 130 KiB file made 260 MB of copies.
    CHECK(elf_error_of(make_elf(1, 10, 65)) == "elf error: t.elf: more than 64 loadable segments");
    CHECK(elf_error_of(make_elf(1, 130000, 2000)) == "elf error: t.elf: more than 64 loadable segments");
}

TEST_CASE("elf loader: a second symbol table is an elf_error", "[elf]") {
    // Every SHT_SYMTAB used to be read: 60 000 section headers naming one table multiplied it.
    std::vector<uint8_t> img = make_elf(2, 6);
    Elf32_Ehdr eh;
    std::memcpy(&eh, img.data(), sizeof eh);
    Elf32_Shdr symtab;
    std::memcpy(&symtab, img.data() + eh.e_shoff + sizeof(Elf32_Shdr), sizeof symtab);
    img.insert(img.end(), reinterpret_cast<const uint8_t*>(&symtab),
               reinterpret_cast<const uint8_t*>(&symtab) + sizeof symtab);  // section 3: the same table
    eh.e_shnum = 4;
    std::memcpy(img.data(), &eh, sizeof eh);
    CHECK(elf_error_of(img) == "elf error: t.elf: a second symbol table (section 3); an ELF file has one");
}
