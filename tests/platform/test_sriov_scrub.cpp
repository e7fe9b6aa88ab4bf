// SR-IOV: cluster SRAM is scrubbed between VFs (docs/virtualization.md "Isolation").
#include <algorithm>

#include "harness.h"

using namespace accelvp;
using test::buffer;
using test::make_bo;

namespace {

const std::vector<std::string> kVms2 = {"host.vms=2", "cpu.enabled=true", "mmu.enabled=true"};

// One copy job on VM `dev` (its own ring, its context); returns the wait's rc and the job's times.
int copy(uapi::device& dev, uint64_t src, uint64_t dst, uint64_t n, uapi::wait_args& w) {
    cmdbuf_builder cb;
    cb.copy(src, dst, n);
    return test::wait_job(dev, test::submit(dev, cb.bytes()), w);
}

} // namespace

TEST_CASE("sriov: a VF reading cluster SRAM after another VF's job wrote there sees zeros", "[sriov][security]") {
    test::harness h(kVms2);
    constexpr uint64_t n = 64 * 1024;
    std::vector<uint8_t> want, own_back, other_back, other_before;
    int rc[4] = {1, 1, 1, 1};
    uint64_t submit1_ns = 0, start1_ns = 0, sram_total = 0;
    double dma_peak = 0;
    std::string fw_log;
    h.run([&](uapi::device&, workload_context&) {
        board& b = h.top();
        uapi::device& vm0 = b.vm_device(0);
        uapi::device& vm1 = b.vm_device(1);
        const uint64_t sram = b.soc.sram_addr(0);
        sram_total = b.soc.compute.clusters.size() * b.soc.compute.params().sram_bytes;
        dma_peak = b.soc.dma_peak();
        // VM 1 reads SRAM first (it is clean), so the read after VM 0's write is a VF switch.
        buffer pre = make_bo(vm1, n, uapi::BO_DEVICE);
        uapi::wait_args w;
        rc[3] = copy(vm1, sram, pre.va(), n, w);
        other_before.resize(n);
        pre.map->peek(0, other_before.data(), n);
        // VM 0 puts a pattern into cluster 0's SRAM and reads it back itself (no switch: no scrub).
        buffer src = make_bo(vm0, n, uapi::BO_DEVICE), back = make_bo(vm0, n, uapi::BO_DEVICE);
        want = test::pattern(n, 42);
        src.map->write(0, want.data(), n);
        rc[0] = copy(vm0, src.va(), sram, n, w);
        rc[1] = copy(vm0, sram, back.va(), n, w);
        own_back.resize(n);
        back.map->peek(0, own_back.data(), n);
        // VM 1 reads the same SRAM: the firmware scrubs it first.
        buffer out = make_bo(vm1, n, uapi::BO_DEVICE);
        submit1_ns = sc_core::sc_time_stamp().value() / 1000;
        rc[2] = copy(vm1, sram, out.va(), n, w);
        start1_ns = w.ts_start_ns;
        other_back.resize(n);
        out.map->peek(0, other_back.data(), n);
        fw_log = b.drv.firmware_log();
    });
    INFO(fw_log);
    REQUIRE(h.finished());
    REQUIRE(rc[0] == 0);
    REQUIRE(rc[1] == 0);
    REQUIRE(rc[2] == 0);
    REQUIRE(rc[3] == 0);
    REQUIRE(std::count(other_before.begin(), other_before.end(), 0) == static_cast<long>(n));
    REQUIRE(own_back == want);                            // the data really was in SRAM
    REQUIRE(std::count(other_back.begin(), other_back.end(), 0) == static_cast<long>(n));  // VM 1 does not see it
    // The scrub (every cluster's SRAM, by DMA fill) ran before VM 1's job: at least its bytes
    // at the DMA engines' peak rate (one engine runs it: a lower bound).
    INFO("scrub delay " << start1_ns - submit1_ns << " ns for " << sram_total << " bytes");
    REQUIRE(static_cast<double>(start1_ns - submit1_ns) >= static_cast<double>(sram_total) / dma_peak * 1e9);
}
