// Assembled command streams run through the normal submission path: a stream written as
// text moves and fills data, signals and waits on semaphores and writes its fence exactly
// like the builder's packets; a .raw packet the device rejects fails at the offset the
// disassembler prints.
#include <cstring>

#include <fmt/format.h>

#include "harness.h"
#include "platform/tools/cmdasm.h"

using namespace accelvp;
using namespace accelvp::test;

TEST_CASE("an assembled text stream copies fills signals waits and fences on the device", "[cmdasm]") {
    harness h;
    std::vector<uint8_t> got, want;
    uint64_t fence = 0;
    int st = -1;
    h.run([&](uapi::device& dev, workload_context&) {
        buffer src = make_bo(dev, 4096, uapi::BO_HOST);
        buffer dst = make_bo(dev, 8192, uapi::BO_DEVICE);
        buffer out = make_bo(dev, 8192, uapi::BO_HOST);
        buffer fb = make_bo(dev, 8, uapi::BO_HOST);
        const auto data = pattern(4096, 3);
        CHECK(src.map->write(0, data.data(), data.size()) == 0);
        const std::string text = fmt::format(
            "# h2d, fill a second region, hand over through semaphore 5, d2h, fence\n"
            "dma src={:#x} dst={:#x} width=4096\n"
            "dma dst={:#x} width=100 height=4 dst_stride=1024 pattern=0xa1b2c3d4 fill\n"
            "sem_signal sem=5 mode=set value=2\n"
            "sem_wait sem=5 cond=eq value=2 dec\n"
            "sem_wait sem=5 cond=eq value=0\n"
            "dma src={:#x} dst={:#x} width=8192\n"
            "fence addr={:#x} value=0x1234567887654321\n",
            src.va(), dst.va(), dst.va() + 4096, dst.va(), out.va(), fb.va());
        uapi::wait_args w;
        st = wait_job(dev, submit(dev, cmdasm::assemble(text)), w);
        got.resize(8192);
        CHECK(out.map->peek(0, got.data(), got.size()) == 0);
        CHECK(fb.map->peek(0, &fence, 8) == 0);
    });
    REQUIRE(h.finished());
    REQUIRE(st == 0);
    want.assign(8192, 0);
    std::memcpy(want.data(), pattern(4096, 3).data(), 4096);
    for (int r = 0; r < 4; r++)
        for (int i = 0; i < 100; i++) want[4096 + r * 1024 + i] = uint8_t(0xa1b2c3d4u >> (8 * (i % 4)));
    // The fill leaves the gaps between rows at their initial value (device BOs start zeroed).
    CHECK(got == want);
    CHECK(fence == 0x1234567887654321ull);
}

TEST_CASE("a raw packet the device rejects fails at the offset the disassembler prints", "[cmdasm]") {
    harness h;
    const std::vector<uint8_t> cmds = cmdasm::assemble(
        "nop size=3\n"
        "sem_signal sem=1 value=1\n"
        ".raw 0x000000000002000d 0   # opcode 0x0D: not in this ABI\n"
        "nop\n");
    cmdasm::disasm_options o;
    o.offsets = true;
    const std::string text = cmdasm::disassemble(cmds, o);
    CHECK(text.find(".raw 0x000000000002000d 0x0000000000000000") != std::string::npos);
    CHECK(text.find("# +0x28") != std::string::npos);
    uapi::wait_args w;
    int st = -1;
    h.run([&](uapi::device& dev, workload_context&) { st = wait_job(dev, submit(dev, cmds), w); });
    REQUIRE(h.finished());
    CHECK(st != 0);
    CHECK(w.status == AAX_ERR_BAD_OPCODE);
    CHECK(w.err_offset == 0x28);
}
