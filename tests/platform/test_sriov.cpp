// SR-IOV (docs/virtualization.md): the SR-IOV capability in config space, VMs each driving
// their own VF (own rings, interrupts, partition), isolation between VFs, function-level
// reset of one VF, and the firmware's deficit round-robin shares.
#include <functional>

#include "abi/aax_sriov.h"
#include "tests/platform/harness.h"

using namespace accelvp;
using test::buffer;
using test::make_bo;

namespace {

const std::vector<std::string> kVms2 = {"host.vms=2", "cpu.enabled=true", "mmu.enabled=true"};

// Runs one body per VM in its own host thread and returns when all have finished.
void per_vm(board& b, const std::function<void(unsigned k, uapi::device& dev)>& body) {
    unsigned left = b.vms();
    sc_core::sc_event done;
    for (unsigned k = 0; k < b.vms(); ++k)
        sc_core::sc_spawn([&, k] {
            body(k, b.vm_device(k));
            if (--left == 0) done.notify(sc_core::SC_ZERO_TIME);
        });
    sc_core::wait(done);
}

// Copies `n` bytes host -> device -> host in VM `dev` and says whether they came back intact.
bool round_trip(uapi::device& dev, uint64_t n, uint32_t seed, int* status = nullptr) {
    buffer src = make_bo(dev, n, uapi::BO_HOST), mid = make_bo(dev, n, uapi::BO_DEVICE),
           out = make_bo(dev, n, uapi::BO_HOST);
    const auto data = test::pattern(n, seed);
    src.map->write(0, data.data(), n);
    cmdbuf_builder cb;
    cb.copy(src.va(), mid.va(), n).copy(mid.va(), out.va(), n);
    uapi::wait_args w;
    const int rc = test::wait_job(dev, test::submit(dev, cb.bytes()), w);
    if (status) *status = rc;
    std::vector<uint8_t> back(n);
    out.map->read(0, back.data(), n);
    return rc == 0 && back == data;
}

} // namespace

TEST_CASE("sriov: the SR-IOV capability in config space (inference: 4 VFs)", "[sriov]") {
    test::harness h;
    uint32_t hdr = 0, total = 0, vfdev = 0, bar0 = 0, numvfs = 0, caps = 0;
    h.run([&](uapi::device& dev, workload_context&) {
        pcie_endpoint& p = h.top().soc.pcie;
        p.cfg_read(AAX_SRIOV_CAP, 4, hdr);
        p.cfg_read(AAX_SRIOV_CAP + AAX_SRIOV_TOTAL_VFS, 2, total);
        p.cfg_read(AAX_SRIOV_CAP + AAX_SRIOV_VF_DEVICE, 2, vfdev);
        p.cfg_write(AAX_SRIOV_CAP + AAX_SRIOV_VF_BAR(0), 4, 0xFFFFFFFFu);
        p.cfg_read(AAX_SRIOV_CAP + AAX_SRIOV_VF_BAR(0), 4, bar0);
        p.cfg_write(AAX_SRIOV_CAP + AAX_SRIOV_NUM_VFS, 2, 3);
        p.cfg_read(AAX_SRIOV_CAP + AAX_SRIOV_NUM_VFS, 2, numvfs);
        dev.drv().host().cpu.mmio_read32(dev.drv().host().bar0() + AAX_REG_SRIOV_CAPS, caps);
    });
    REQUIRE(h.finished());
    CHECK(hdr == (AAX_SRIOV_CAP_ID | 1u << 16));
    CHECK(total == 4);
    CHECK(vfdev == AAX_PCI_VF_DEVICE_ID);
    CHECK(bar0 == ~(AAX_BAR0_SIZE - 1));
    CHECK(numvfs == 3);
    CHECK(caps == 4);
}

TEST_CASE("sriov: edge has no SR-IOV: config space stays 256 bytes", "[sriov]") {
    test::harness h(std::vector<std::string>{}, "edge");
    bool ok = true;
    h.run([&](uapi::device&, workload_context&) {
        uint32_t v = 0;
        ok = h.top().soc.pcie.cfg_read(AAX_SRIOV_CAP, 4, v);
    });
    REQUIRE(h.finished());
    CHECK_FALSE(ok);
}

TEST_CASE("sriov: two VMs each run their own jobs on their own VF and every result is verified", "[sriov]") {
    test::harness h(kVms2);
    bool ok[2] = {false, false};
    uint64_t partition[2] = {0, 0}, bars[2] = {0, 0};
    h.run([&](uapi::device&, workload_context&) {
        per_vm(h.top(), [&](unsigned k, uapi::device& dev) {
            partition[k] = dev.drv().info().devmem_base;
            bars[k] = dev.drv().info().rings;
            bool all = true;
            for (uint32_t i = 0; i < 4; ++i) all &= round_trip(dev, 64 * 1024 + 4096 * k, 10 * k + i);
            ok[k] = all;
        });
    });
    REQUIRE(h.finished());
    INFO(h.top().error());
    CHECK(h.top().exit_code() == 0);
    CHECK(ok[0]);
    CHECK(ok[1]);
    const uint64_t part = h.top().soc.pcie.vf_bar2_size();
    const uint64_t top = h.top().drv.info().devmem_base + h.top().drv.info().devmem_size;
    CHECK(partition[0] == top - part);  // VM k: the k-th partition from the top
    CHECK(partition[1] == top - 2 * part);
    CHECK(bars[0] == 1);
    // Each VM's completions came as its own VF's interrupts; the PF saw no error.
    CHECK(h.top().soc.pcie.vf_msis(0) >= 4);
    CHECK(h.top().soc.pcie.vf_msis(1) >= 4);
    CHECK(h.top().vm_driver(0).errors_total() == 0);
    CHECK(h.top().vm_driver(1).errors_total() == 0);
    CHECK(h.top().drv.errors_total() == 0);
}

TEST_CASE("sriov: a VF's access to another VF's memory is an error of that VF only", "[sriov][security]") {
    test::harness h(kVms2);
    int dma_rc = 0, cmdbuf_rc = 0, ring_rc = 0;
    bool other_ok = false, after_ok = false;
    std::vector<uint8_t> victim_before, victim_after;
    error_record rec_dma, rec_cmdbuf;
    h.run([&](uapi::device&, workload_context&) {
        board& b = h.top();
        // VM 1's data, which VM 0 will try to overwrite.
        buffer victim = make_bo(b.vm_device(1), 4096, uapi::BO_DEVICE);
        victim_before = test::pattern(4096, 99);
        victim.map->write(0, victim_before.data(), 4096);
        per_vm(b, [&](unsigned k, uapi::device& dev) {
            if (k == 1) {  // VM 1 keeps working meanwhile
                bool all = true;
                for (uint32_t i = 0; i < 3; ++i) all &= round_trip(dev, 32 * 1024, 200 + i);
                other_ok = all;
                return;
            }
            // 1. A DMA whose destination is VM 1's buffer: the VF's MMU context does not map it.
            buffer src = make_bo(dev, 4096, uapi::BO_DEVICE);
            cmdbuf_builder cb;
            cb.fill(victim.va(), 4096, 1, 0, 0xDEADBEEFu);
            uapi::wait_args w;
            dma_rc = test::wait_job(dev, test::submit(dev, cb.bytes()), w);
            dev.last_error(rec_dma);
            // 2. A descriptor naming a command buffer in VM 1's partition: refused by the firmware.
            uint32_t seq = 0;
            driver& d = dev.drv();
            CHECK(d.submit(0, victim.va(), 64, 0, 0, seq) == 0);
            cmdbuf_rc = d.wait(seq, sc_core::sc_time(1, sc_core::SC_MS));
            dev.last_error(rec_cmdbuf);
            // 3. Its ring is usable again afterwards.
            after_ok = round_trip(dev, 8192, 7);
            (void)ring_rc;
        });
        victim_after.resize(4096);
        victim.map->read(0, victim_after.data(), 4096);
    });
    REQUIRE(h.finished());
    CHECK(dma_rc == -EFAULT);
    CHECK(rec_dma.code == AAX_ERR_MMU_FAULT);
    CHECK(cmdbuf_rc == -EFAULT);
    CHECK(rec_cmdbuf.code == AAX_ERR_BAD_ADDRESS);
    CHECK(victim_after == victim_before);
    CHECK(other_ok);
    CHECK(after_ok);
    // Reported to VF 0 alone: VF 1 and the PF have no error record.
    CHECK(h.top().soc.pcie.vf_errors(0) == 2);
    CHECK(h.top().soc.pcie.vf_errors(1) == 0);
    CHECK(h.top().vm_driver(1).errors_total() == 0);
    CHECK(h.top().drv.errors_total() == 0);
}

TEST_CASE("sriov: FLR of one VF drops its jobs and the other VF's jobs finish correctly", "[sriov]") {
    test::harness h(kVms2);
    int aborted = 0, done_before_flr = 0;
    bool other_ok = false, after_ok = false;
    h.run([&](uapi::device&, workload_context&) {
        per_vm(h.top(), [&](unsigned k, uapi::device& dev) {
            if (k == 1) {
                bool all = true;
                for (uint32_t i = 0; i < 6; ++i) all &= round_trip(dev, 256 * 1024, 300 + i);
                other_ok = all;
                return;
            }
            // Four long device-to-device copies queued, then the VF is reset under them.
            const uint64_t n = 8ull << 20;
            buffer a = make_bo(dev, n, uapi::BO_DEVICE), c = make_bo(dev, n, uapi::BO_DEVICE);
            std::vector<uint32_t> seqs;
            for (int i = 0; i < 4; ++i) {
                cmdbuf_builder cb;
                cb.copy(a.va(), c.va(), n);
                seqs.push_back(test::submit(dev, cb.bytes()));
            }
            sc_core::wait(20, sc_core::SC_US);
            CHECK(dev.drv().function_reset() == 0);
            for (uint32_t s : seqs) {
                uapi::wait_args w;
                const int rc = test::wait_job(dev, s, w);
                if (w.status == AAX_ERR_ABORTED) ++aborted;
                else if (rc == 0) ++done_before_flr;
            }
            after_ok = round_trip(dev, 16384, 5);  // the VF works again after its reset
        });
    });
    REQUIRE(h.finished());
    CHECK(aborted == 4);
    CHECK(done_before_flr == 0);
    CHECK(other_ok);
    CHECK(after_ok);
    CHECK(h.top().soc.pcie.vf_flrs(0) == 1);
    CHECK(h.top().soc.pcie.vf_flrs(1) == 0);
    CHECK(h.top().vm_driver(1).errors_total() == 0);
}

namespace {
// Both VMs keep their ring full of identical device-to-device copies; returns the jobs each
// completed inside [warm, warm + window) of simulated time.
std::vector<uint64_t> saturate(const std::string& shares) {
    std::vector<std::string> o = kVms2;
    o.push_back("host.vm_shares=" + shares);
    test::harness h(o);
    std::vector<uint64_t> counted(2, 0);
    const sc_core::sc_time warm(200, sc_core::SC_US), window(2, sc_core::SC_MS);
    h.run([&](uapi::device&, workload_context&) {
        const sc_core::sc_time t0 = sc_core::sc_time_stamp() + warm, t1 = t0 + window;
        per_vm(h.top(), [&](unsigned k, uapi::device& dev) {
            const uint64_t n = 256 * 1024;
            buffer a = make_bo(dev, n, uapi::BO_DEVICE), c = make_bo(dev, n, uapi::BO_DEVICE);
            buffer cbo = make_bo(dev, 64, uapi::BO_DEVICE);
            cmdbuf_builder cb;
            cb.copy(a.va(), c.va(), n);
            cbo.map->write(0, cb.bytes().data(), cb.bytes().size());
            std::deque<uint32_t> inflight;
            while (sc_core::sc_time_stamp() < t1) {
                while (inflight.size() < 8) {
                    uapi::submit_args s;
                    s.cmdbuf_handle = cbo.args.handle;
                    s.cmdbuf_size = static_cast<uint32_t>(cb.bytes().size());
                    CHECK(dev.submit(s) == 0);
                    inflight.push_back(s.seq);
                }
                uapi::wait_args w;
                CHECK(test::wait_job(dev, inflight.front(), w) == 0);
                inflight.pop_front();
                const sc_core::sc_time now = sc_core::sc_time_stamp();
                if (now >= t0 && now < t1) ++counted[k];
            }
            for (uint32_t s : inflight) {
                uapi::wait_args w;
                test::wait_job(dev, s, w);
            }
        });
    });
    REQUIRE(h.finished());
    return counted;
}
} // namespace

TEST_CASE("sriov: equal shares on a saturated chip get throughput within 10 %", "[sriov][fairness]") {
    const auto n = saturate("1,1");
    INFO("jobs in the window: " << n[0] << " and " << n[1]);
    REQUIRE(n[0] > 20);
    REQUIRE(n[1] > 20);
    const double ratio = static_cast<double>(n[0]) / static_cast<double>(n[1]);
    CHECK(ratio > 0.9);
    CHECK(ratio < 1.1);
}

TEST_CASE("sriov: shares 3:1 on a saturated chip get 3:1 +- 10 % of the throughput", "[sriov][fairness]") {
    const auto n = saturate("3,1");
    INFO("jobs in the window: " << n[0] << " and " << n[1]);
    REQUIRE(n[1] > 5);
    const double ratio = static_cast<double>(n[0]) / static_cast<double>(n[1]);
    CHECK(ratio > 2.7);
    CHECK(ratio < 3.3);
}
