// Command-stream assembler/disassembler (platform/tools/cmdasm): each packet kind's text
// assembles to the bytes the host command-buffer builder (or the ABI struct) gives, the
// disassembly of any byte string reassembles to the same bytes, packets the text cannot
// express exactly become .raw, and errors name the file, line, field and valid values.
#include <catch2/catch.hpp>

#include <cctype>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "abi/aax_queue.h"
#include "platform/host/cmdbuf.h"
#include "platform/tools/cmdasm.h"

using namespace accelvp;
using cmdasm::assemble;
using cmdasm::disassemble;

namespace {

template <typename Pkt>
std::vector<uint8_t> bytes_of(const Pkt& p) {
    const auto* b = reinterpret_cast<const uint8_t*>(&p);
    return {b, b + sizeof(Pkt)};
}

std::string errors_of(const std::string& text) {
    try {
        assemble(text, "t.s");
    } catch (const cmdasm::asm_error& e) {
        return e.what();
    }
    return "";
}

size_t count(const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) n++;
    return n;
}

std::string testing_escape(const std::string& s) {
    std::string out;
    for (unsigned char c : s) out += std::isprint(c) ? std::string(1, char(c)) : "\\x" + std::to_string(c);
    return out;
}

}  // namespace

TEST_CASE("cmdasm mnemonics are the ABI opcode names", "[cmdasm]") {
    // Each table entry's mnemonic is aax_opcode_name of its opcode in lower case.
    const std::map<std::string, std::string> minimal = {
        {"nop", "nop"},
        {"dma", "dma dst=0 width=1"},
        {"gemm", "gemm dtype_in=int8 dtype_out=int32 m=1 n=1 k=1 a_addr=0 b_addr=0 c_addr=0"},
        {"vec", "vec op=relu dtype=fp32 dtype_out=fp32 rows=1 cols=1 src0=0 dst=0"},
        {"sem_signal", "sem_signal sem=0 value=0"},
        {"sem_wait", "sem_wait sem=0"},
        {"fence", "fence"},
        {"msg", "msg addr=0 value=0"},
        {"jump", "jump addr=0x100 size=8"},
        {"call", "call addr=0x100 size=8"},
        {"ret", "ret"},
        {"wreg", "wreg offset=0x4000 value=1"},
        {"coll", "coll op=reduce dtype=int32 red=max signal port=1 sem=3 sem_value=1 local=0x100 remote=0x200 bytes=64"},
    };
    CHECK(cmdasm::mnemonics().size() == minimal.size());
    for (const std::string& m : cmdasm::mnemonics()) {
        REQUIRE(minimal.count(m));
        const auto b = assemble(minimal.at(m));
        REQUIRE(b.size() >= 8);
        std::string name = aax_opcode_name(b[0]);
        for (char& c : name) c = char(std::tolower(c));
        CHECK(name == m);
    }
}

TEST_CASE("cmdasm every packet kind assembles to the builder's bytes and disassembles back", "[cmdasm]") {
    struct kase {
        std::string text;       // as the disassembler prints it
        std::vector<uint8_t> bytes;
    };
    std::vector<kase> cases;
    cases.push_back({"nop", cmdbuf_builder().nop().bytes()});
    cases.push_back({"nop size=4", cmdbuf_builder().nop(4).bytes()});
    cases.push_back({"dma src=0x1000 dst=0x2000 width=4096", cmdbuf_builder().copy(0x1000, 0x2000, 4096).bytes()});
    cases.push_back({"dma src=0x10 dst=0x20000 width=64 height=8 src_stride=64 dst_stride=256",
                     cmdbuf_builder().copy_2d(0x10, 0x20000, 64, 8, 64, 256).bytes()});
    cases.push_back({"dma dst=0x4000 width=100 height=3 dst_stride=128 pattern=0xdeadbeef fill",
                     cmdbuf_builder().fill(0x4000, 100, 3, 128, 0xdeadbeef).bytes()});
    cases.push_back({"sem_signal sem=3 value=1", cmdbuf_builder().sem_signal(3, 1).bytes()});
    cases.push_back({"sem_signal sem=1023 mode=set value=4294967295",
                     cmdbuf_builder().sem_signal(1023, 0xFFFFFFFF, AAX_SEM_MODE_SET).bytes()});
    cases.push_back({"sem_wait sem=3 value=1 dec", cmdbuf_builder().sem_wait(3, 1, AAX_SEM_GE, true).bytes()});
    cases.push_back({"sem_wait sem=7 cond=eq value=2", cmdbuf_builder().sem_wait(7, 2, AAX_SEM_EQ).bytes()});
    cases.push_back({"sem_wait sem=0 cond=nz", cmdbuf_builder().sem_wait(0, 0, AAX_SEM_NZ).bytes()});
    cases.push_back({"fence addr=0x8000000000 value=7", cmdbuf_builder().fence(0x8000000000ull, 7).bytes()});
    cases.push_back({"fence addr=0x100 write=ts", cmdbuf_builder().fence(0x100, 0, AAX_FENCE_WRITE_TS).bytes()});
    cases.push_back({"fence write=none", cmdbuf_builder().fence(0, 0, 0).bytes()});
    cases.push_back({"fence addr=0x8 value=1 write=both", cmdbuf_builder().fence(8, 1, 3).bytes()});
    cases.push_back({"msg addr=0xfee00000 value=5 irq", cmdbuf_builder().msg(0xfee00000, 5, true).bytes()});

    // Fields the builder does not set, through the ABI structs.
    aax_pkt_sem_signal ss{};
    ss.hdr = cmdbuf_builder::hdr(AAX_OP_SEM_SIGNAL, AAX_PKT_SEM_SIGNAL_QW, 0x12345678);
    ss.hdr.flags = AAX_PKT_F_IRQ;
    ss.sem = 9;
    ss.mode = AAX_SEM_MODE_ADD;
    ss.reserved = 0xAB;
    ss.value = 10;
    cases.push_back({"sem_signal sem=9 value=10 reserved=0xab param=0x12345678 irq", bytes_of(ss)});
    aax_pkt_sem_wait sw{};
    sw.hdr = cmdbuf_builder::hdr(AAX_OP_SEM_WAIT, AAX_PKT_SEM_WAIT_QW);
    sw.sem = 65535;
    sw.dec = 200;  // any nonzero byte means "dec"; kept exactly
    cases.push_back({"sem_wait sem=65535 dec=200", bytes_of(sw)});
    aax_pkt_msg m{};
    m.hdr = cmdbuf_builder::hdr(AAX_OP_MSG, AAX_PKT_MSG_QW);
    m.addr = ~0ull;
    m.value = 0;
    m.reserved = 0xFFFFFFFF;
    cases.push_back({"msg addr=0xffffffffffffffff value=0 reserved=0xffffffff", bytes_of(m)});
    aax_pkt_coll cl{};
    cl.hdr = cmdbuf_builder::hdr(AAX_OP_COLL, AAX_PKT_COLL_QW,
                                 AAX_COLL_PARAM(AAX_COLL_REDUCE, AAX_COLL_DT_INT32, AAX_COLL_RED_MAX) | AAX_COLL_F_SIGNAL);
    cl.port = 2;
    cl.sem = 7;
    cl.sem_value = 1;
    cl.local_addr = 0x1000;
    cl.remote_addr = 0x2000;
    cl.bytes = 4096;
    cases.push_back({"coll op=reduce dtype=int32 red=max signal port=2 sem=7 sem_value=1 local=0x1000 remote=0x2000 "
                     "bytes=4096",
                     bytes_of(cl)});
    aax_pkt_dma d{};
    d.hdr = cmdbuf_builder::hdr(AAX_OP_DMA, AAX_PKT_DMA_QW);
    d.hdr.flags = AAX_PKT_F_IRQ;
    d.dst = 1;
    d.width = ~0ull;
    d.height = 0xFFFFFFFF;
    d.src_stride = 5;
    cases.push_back({"dma dst=0x1 width=18446744073709551615 height=4294967295 src_stride=5 irq", bytes_of(d)});

    aax_pkt_gemm g{};
    g.hdr = cmdbuf_builder::hdr(AAX_OP_GEMM, AAX_PKT_GEMM_QW, AAX_GEMM_ACCUMULATE | AAX_GEMM_B_TRANS);
    g.cluster = 3;
    g.dtype_in = AAX_DT_FP8_E4M3;
    g.dtype_out = AAX_DT_BF16;
    g.dataflow = AAX_GEMM_DF_OS;
    g.m = 128, g.n = 64, g.k = 256;
    g.a_addr = 0x1000, g.b_addr = 0x2000, g.c_addr = 0;
    g.lda = 300, g.ldb = 0, g.ldc = 70;
    cases.push_back({"gemm cluster=3 dtype_in=fp8_e4m3 dtype_out=bf16 dataflow=os m=128 n=64 k=256 a_addr=0x1000 "
                     "b_addr=0x2000 c_addr=0x0 lda=300 ldc=70 accumulate b_trans",
                     bytes_of(g)});
    g = aax_pkt_gemm{};
    g.hdr = cmdbuf_builder::hdr(AAX_OP_GEMM, AAX_PKT_GEMM_QW);
    g.hdr.flags = AAX_PKT_F_IRQ;
    g.dtype_in = AAX_DT_INT8, g.dtype_out = AAX_DT_INT32, g.m = g.n = g.k = 1;
    g.reserved0[1] = 0x12, g.reserved1 = 7;
    cases.push_back({"gemm dtype_in=int8 dtype_out=int32 m=1 n=1 k=1 a_addr=0x0 b_addr=0x0 c_addr=0x0 "
                     "reserved0=0x1200 reserved1=0x7 irq",
                     bytes_of(g)});
    aax_pkt_vec v{};
    v.hdr = cmdbuf_builder::hdr(AAX_OP_VEC, AAX_PKT_VEC_QW, AAX_VEC_AFFINE);
    v.cluster = 1, v.op = AAX_VEC_LAYERNORM, v.dtype = AAX_DT_BF16, v.dtype_out = AAX_DT_FP16;
    v.rows = 512, v.cols = 768, v.src0 = 0x100, v.src1 = 0x200, v.src2 = 0x300, v.dst = 0x400;
    v.src0_stride = 800, v.dst_stride = 1024;
    const float eps = 1e-5f, half = -0.5f;
    std::memcpy(&v.eps, &eps, 4);
    cases.push_back({"vec cluster=1 op=layernorm dtype=bf16 dtype_out=fp16 rows=512 cols=768 src0=0x100 src1=0x200 "
                     "src2=0x300 dst=0x400 src0_stride=800 dst_stride=1024 eps=1e-05 affine",
                     bytes_of(v)});
    v = aax_pkt_vec{};
    v.hdr = cmdbuf_builder::hdr(AAX_OP_VEC, AAX_PKT_VEC_QW, AAX_VEC_B_SCALAR | AAX_VEC_B_ROW | AAX_VEC_B_COL |
                                                               AAX_VEC_C_ROW);
    v.op = AAX_VEC_TRANSPOSE, v.dtype = AAX_DT_INT32, v.dtype_out = AAX_DT_FP8_E5M2, v.rows = 2, v.cols = 3;
    v.src1_stride = 4, v.src2_stride = 5;
    std::memcpy(&v.scalar, &half, 4);
    v.eps = 0x7FC00001;  // a NaN payload: printed as bits
    cases.push_back({"vec op=transpose dtype=int32 dtype_out=fp8_e5m2 rows=2 cols=3 src0=0x0 dst=0x0 src1_stride=4 "
                     "src2_stride=5 scalar=-0.5 eps=0x7fc00001 b_scalar b_row b_col c_row",
                     bytes_of(v)});

    std::string all_text;
    std::vector<uint8_t> all_bytes;
    for (const auto& c : cases) {
        INFO(c.text);
        CHECK(assemble(c.text) == c.bytes);
        CHECK(disassemble(c.bytes) == c.text + "\n");
        all_text += c.text + "\n";
        all_bytes.insert(all_bytes.end(), c.bytes.begin(), c.bytes.end());
    }
    // The whole stream, in order.
    CHECK(assemble(all_text) == all_bytes);
    CHECK(disassemble(all_bytes) == all_text);
    // Field order, explicit defaults, comments and blank lines do not matter.
    CHECK(assemble("  # setup\n\ndma  width=4096 dst=0x2000 height=1 src=0x1000 # copy\n") ==
          cmdbuf_builder().copy(0x1000, 0x2000, 4096).bytes());
}

TEST_CASE("cmdasm random valid streams disassemble without raw and reassemble exactly", "[cmdasm]") {
    std::mt19937_64 rng(42);
    auto r64 = [&] { return rng(); };
    for (int iter = 0; iter < 200; iter++) {
        cmdbuf_builder b;
        for (int i = 0; i < 20; i++) {
            const uint8_t irq = uint8_t(rng() & 1);
            switch (rng() % 8) {
            case 6: {
                aax_pkt_gemm p{};
                p.hdr = cmdbuf_builder::hdr(AAX_OP_GEMM, AAX_PKT_GEMM_QW, uint32_t(rng() % 4));
                p.cluster = uint16_t(r64()), p.dtype_in = uint8_t(rng() % 7), p.dtype_out = uint8_t(rng() % 7);
                p.dataflow = uint8_t(rng() % 3), p.m = uint32_t(r64()) | 1, p.n = uint32_t(r64()) | 1;
                p.k = uint32_t(r64()) | 1, p.reserved1 = uint32_t(r64());
                p.a_addr = uint32_t(r64()), p.b_addr = uint32_t(r64()), p.c_addr = uint32_t(r64());
                p.lda = uint32_t(r64()), p.ldb = uint32_t(r64()), p.ldc = uint32_t(r64()), p.hdr.flags = irq;
                b.raw(p);
                break;
            }
            case 7: {
                aax_pkt_vec p{};
                p.hdr = cmdbuf_builder::hdr(AAX_OP_VEC, AAX_PKT_VEC_QW, uint32_t(rng() % 32));
                p.cluster = uint16_t(r64()), p.op = uint8_t(rng() % AAX_VEC_OP_COUNT);
                p.dtype = uint8_t(rng() % 7), p.dtype_out = uint8_t(rng() % 7);
                p.rows = uint32_t(r64()) | 1, p.cols = uint32_t(r64()) | 1, p.src0 = uint32_t(r64());
                p.src1 = uint32_t(r64()), p.src2 = uint32_t(r64()), p.dst = uint32_t(r64());
                p.src0_stride = uint32_t(r64()), p.dst_stride = uint32_t(r64());
                p.scalar = uint32_t(r64()), p.eps = uint32_t(r64()), p.reserved0[2] = uint8_t(r64());
                p.hdr.flags = irq;
                b.raw(p);
                break;
            }
            case 0: b.nop(uint16_t(1 + rng() % 5)); break;
            case 1: {
                aax_pkt_dma p{};
                p.hdr = cmdbuf_builder::hdr(AAX_OP_DMA, AAX_PKT_DMA_QW, uint32_t(rng() & 1));
                p.src = r64(), p.dst = r64(), p.width = r64() | 1, p.height = uint32_t(r64()) | 1;
                p.fill = uint32_t(r64()), p.src_stride = r64(), p.dst_stride = r64();
                p.hdr.flags = irq;
                b.raw(p);
                break;
            }
            case 2: {
                aax_pkt_sem_signal p{};
                p.hdr = cmdbuf_builder::hdr(AAX_OP_SEM_SIGNAL, AAX_PKT_SEM_SIGNAL_QW, uint32_t(r64()));
                p.sem = uint16_t(r64()), p.mode = uint8_t(rng() % 2), p.reserved = uint8_t(r64());
                p.value = uint32_t(r64()), p.hdr.flags = irq;
                b.raw(p);
                break;
            }
            case 3: {
                aax_pkt_sem_wait p{};
                p.hdr = cmdbuf_builder::hdr(AAX_OP_SEM_WAIT, AAX_PKT_SEM_WAIT_QW, uint32_t(r64()));
                p.sem = uint16_t(r64()), p.cond = uint8_t(rng() % 3), p.dec = uint8_t(r64());
                p.value = uint32_t(r64()), p.hdr.flags = irq;
                b.raw(p);
                break;
            }
            case 4: {
                aax_pkt_fence p{};
                p.hdr = cmdbuf_builder::hdr(AAX_OP_FENCE, AAX_PKT_FENCE_QW, uint32_t(rng() % 4));
                p.addr = r64(), p.value = r64(), p.hdr.flags = irq;
                b.raw(p);
                break;
            }
            default: {
                aax_pkt_msg p{};
                p.hdr = cmdbuf_builder::hdr(AAX_OP_MSG, AAX_PKT_MSG_QW);
                p.addr = r64(), p.value = uint32_t(r64()), p.reserved = uint32_t(r64()), p.hdr.flags = irq;
                b.raw(p);
                break;
            }
            }
        }
        const std::string text = disassemble(b.bytes());
        REQUIRE(count(text, ".raw") == 0);
        REQUIRE(count(text, "\n") == 20);
        REQUIRE(assemble(text) == b.bytes());
    }
}

TEST_CASE("cmdasm arbitrary bytes round-trip through the disassembler", "[cmdasm]") {
    std::mt19937 rng(7);
    for (int iter = 0; iter < 500; iter++) {
        std::vector<uint8_t> b(rng() % 300);
        for (auto& x : b) x = uint8_t(rng());
        // Make plausible headers common: small opcodes and sizes at qword boundaries.
        for (size_t q = 0; q + 8 <= b.size(); q += 8)
            if (rng() % 2) {
                b[q] = uint8_t(rng() % 14);
                b[q + 1] = uint8_t(rng() % 3);
                b[q + 2] = uint8_t(rng() % 8);
                b[q + 3] = 0;
            }
        REQUIRE(assemble(disassemble(b)) == b);
    }
}

TEST_CASE("cmdasm packets the text cannot express exactly become raw", "[cmdasm]") {
    auto one_raw = [](const std::vector<uint8_t>& b) {
        const std::string t = disassemble(b);
        INFO(t);
        CHECK(count(t, ".raw") == 1);
        CHECK(count(t, "\n") == 1);
        CHECK(assemble(t) == b);
    };
    aax_pkt_dma d{};
    d.hdr = cmdbuf_builder::hdr(AAX_OP_DMA, AAX_PKT_DMA_QW);
    d.dst = 0x100;
    d.width = 0;  // BAD_PARAM on the device: width must be >= 1
    one_raw(bytes_of(d));
    d.width = 8;
    d.hdr.param = 2;  // DMA param bit 1 is not defined
    one_raw(bytes_of(d));
    d.hdr.param = 0;
    d.hdr.flags = 0x80;  // header flag bits other than IRQ
    one_raw(bytes_of(d));
    d.hdr.flags = 0;
    d.hdr.size_qw = 8;  // wrong size for a DMA (the 8th qword is part of the packet)
    auto big = bytes_of(d);
    big.resize(64, 0);
    one_raw(big);
    // Known opcodes with a size too short for their fields (read nothing beyond the packet).
    one_raw(bytes_of(cmdbuf_builder::hdr(AAX_OP_DMA, 1)));
    auto short_vec = bytes_of(cmdbuf_builder::hdr(AAX_OP_VEC, 2));
    short_vec.resize(16, 0);
    one_raw(short_vec);
    aax_pkt_sem_wait w{};
    w.hdr = cmdbuf_builder::hdr(AAX_OP_SEM_WAIT, AAX_PKT_SEM_WAIT_QW);
    w.cond = 3;  // no such condition
    one_raw(bytes_of(w));
    aax_pkt_sem_signal s{};
    s.hdr = cmdbuf_builder::hdr(AAX_OP_SEM_SIGNAL, AAX_PKT_SEM_SIGNAL_QW);
    s.mode = 2;
    one_raw(bytes_of(s));
    aax_pkt_fence f{};
    f.hdr = cmdbuf_builder::hdr(AAX_OP_FENCE, AAX_PKT_FENCE_QW, 4);
    one_raw(bytes_of(f));
    aax_pkt_msg m{};
    m.hdr = cmdbuf_builder::hdr(AAX_OP_MSG, AAX_PKT_MSG_QW, 1);  // MSG param must be 0
    one_raw(bytes_of(m));
    aax_pkt_gemm g{};
    g.hdr = cmdbuf_builder::hdr(AAX_OP_GEMM, AAX_PKT_GEMM_QW);
    g.m = 0, g.n = 1, g.k = 1;  // m must be >= 1
    one_raw(bytes_of(g));
    g.m = 1, g.dtype_out = AAX_DT_COUNT;  // no such dtype
    one_raw(bytes_of(g));
    g.dtype_out = 0, g.dataflow = 3;
    one_raw(bytes_of(g));
    g.dataflow = 0, g.hdr.param = 4;  // GEMM param bit 2 is not defined
    one_raw(bytes_of(g));
    aax_pkt_vec v{};
    v.hdr = cmdbuf_builder::hdr(AAX_OP_VEC, AAX_PKT_VEC_QW);
    v.rows = v.cols = 1;
    v.op = AAX_VEC_OP_COUNT;
    one_raw(bytes_of(v));
    v.op = 0, v.hdr.param = 1u << 5;
    one_raw(bytes_of(v));
    // NOP padding must be zero to print as `nop size=N`.
    auto nop = cmdbuf_builder().nop(2).bytes();
    nop[12] = 1;
    one_raw(nop);
    // A reserved opcode without a table entry and unknown opcodes.
    for (unsigned op : {unsigned(AAX_OP_COLL), unsigned(AAX_OP_COUNT), 0x7Fu, 0xFFu}) {
        auto h = bytes_of(cmdbuf_builder::hdr(uint8_t(op), 2, 0x55));
        h.resize(16, 0x11);
        one_raw(h);
    }
    // size_qw = 0 and a packet overrunning the buffer: one header qword raw, parsing resumes.
    auto z = cmdbuf_builder().nop().sem_signal(1, 1).bytes();
    z[2] = 0;
    CHECK(disassemble(z) == ".raw 0x0000000000000000\nsem_signal sem=1 value=1\n");
    auto o = cmdbuf_builder().nop().bytes();
    o[2] = 3;
    o.resize(16, 0);
    CHECK(disassemble(o) == ".raw 0x0000000000030000\n.raw 0x0000000000000000\n");
    // A tail shorter than a header.
    CHECK(disassemble(std::vector<uint8_t>{0, 0, 1, 0, 0, 0, 0, 0, 0xAB, 0xCD}) == "nop\n.byte 0xab 0xcd\n");
}

TEST_CASE("cmdasm errors name file line field and valid values", "[cmdasm]") {
    const std::string text =
        "# header comment\n"
        "dma src=0x1000 dst=0x2000 width=64\n"
        "dmx src=1\n"
        "\n"
        "dma dst=0x2000 wdth=3\n"
        "sem_wait sem=1 cond=gt\n"
        "dma dst=0x2000 width=0\n"
        "sem_signal sem=70000 value=1\n"
        "sem_signal sem=1\n"
        "msg addr=0x10 value=1 value=2\n"
        "fence addr=zz\n"
        "dma dst\n"
        ".raw\n"
        ".byte 256\n"
        "nop size=0\n"
        "msg addr=0x10 value=4294967296\n"
        "fence addr=0x10 irq=2\n"
        "sem_wait sem=1 # cond=gt is commented out\n"
        "gemm dtype_in=bf8 dtype_out=fp32 m=1 n=1 k=1 a_addr=0 b_addr=0 c_addr=0\n"
        "vec op=softmax dtype=fp32 dtype_out=fp32 rows=1 cols=1 src0=0 dst=0 eps=tiny\n";
    const std::string e = errors_of(text);
    const std::vector<std::string> want = {
        "t.s:3: unknown packet 'dmx'; valid: nop, dma, gemm, vec, sem_signal, sem_wait, fence, coll, msg, jump, call, ret, wreg, .raw, .byte",
        "t.s:5: dma: unknown field 'wdth'; valid: src, dst, width, height, src_stride, dst_stride, pattern, fill, irq",
        "t.s:6: sem_wait: cond=gt is not valid; valid values: ge, eq, nz",
        "t.s:7: dma: width=0 is out of range [1, 18446744073709551615]",
        "t.s:8: sem_signal: sem=70000 is out of range [0, 65535]",
        "t.s:9: sem_signal: missing field value (required: sem, value)",
        "t.s:10: msg: field value given twice",
        "t.s:11: fence: addr=zz is not a number (decimal or 0x hex)",
        "t.s:12: dma: field dst needs a value (dst=...)",
        "t.s:13: .raw needs at least one value",
        "t.s:14: .byte: '256' is not a byte value 0..255 (decimal or 0x hex)",
        "t.s:15: nop: size=0 is out of range [1, 65535]",
        "t.s:16: msg: value=4294967296 is out of range [0, 4294967295]",
        "t.s:17: fence: irq=2 is out of range [0, 1]",
        "t.s:19: gemm: dtype_in=bf8 is not valid; valid values: fp32, bf16, fp16, fp8_e4m3, fp8_e5m2, int8, int32",
        "t.s:20: vec: eps=tiny is not a float (e.g. 1e-5, -0.5, inf) or 0x bit pattern",
    };
    std::string joined;
    for (size_t i = 0; i < want.size(); i++) joined += (i ? "\n" : "") + want[i];
    CHECK(e == joined);
    CHECK(errors_of("sem_wait sem=1\n") == "");
    // Float fields: literals beyond fp32's range are errors; inf is fine.
    const std::string v = "vec op=exp dtype=fp32 dtype_out=fp32 rows=1 cols=1 src0=0 dst=0 ";
    CHECK(errors_of(v + "scalar=1e39") == "t.s:1: vec: scalar=1e39 is not a float (e.g. 1e-5, -0.5, inf) or 0x bit pattern");
    CHECK(errors_of(v + "scalar=-inf eps=1e-45") == "");
    CHECK(errors_of(v + "eps=0x100000000") ==
          "t.s:1: vec: eps=0x100000000 is not a float (e.g. 1e-5, -0.5, inf) or 0x bit pattern");
    // A 64-bit overflow is a bad number, not a wrapped value.
    CHECK(errors_of("dma dst=0x10000000000000000 width=1") ==
          "t.s:1: dma: dst=0x10000000000000000 is not a number (decimal or 0x hex)");
}

TEST_CASE("cmdasm lines of only vertical tab or form feed are blank lines, not a crash", "[cmdasm]") {
    // isspace() white space that strip_comment once missed: an empty token list was read.
    for (const std::string ws : {"\v", "\f", " \v\f\t", "\v# comment", "\f\r"}) {
        INFO("line " << testing_escape(ws));
        CHECK(assemble(ws + "\n", "ws.s").empty());
        CHECK(assemble("nop\n" + ws + "\nnop\n", "ws.s") == assemble("nop\nnop\n", "ws.s"));
    }
    CHECK(assemble("\vnop\f\n", "ws.s") == assemble("nop\n", "ws.s"));
}
