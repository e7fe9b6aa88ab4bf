// Fault injection (fault.*, docs/security.md "Fault injection"): DRAM ECC errors corrected
// and counted or failing only the job that read them (ECC_UE at the word's address); a hung
// DMA engine caught by the watchdog (TIMEOUT) with the ring serving again; a firmware crash
// (trap or hang) recovered by the driver with every context's jobs completing verified;
// link faults in a collective; a small soak with random faults. One elaboration per test.
#include <cerrno>
#include <algorithm>
#include <cstring>

#include "platform/system/system_board.h"
#include "platform/workloads/collective.h"
#include "platform/workloads/soak.h"
#include "harness.h"
#include "vm_helpers.h"

using namespace accelvp;
using namespace accelvp::test;

namespace {
constexpr uint64_t MiB = 1ull << 20;
constexpr uint64_t bad_word = 0x8000040;  // inside the first 256 MiB BO each test allocates

std::vector<uint8_t> copy_cmd(uint64_t src, uint64_t dst, uint64_t n) {
    cmdbuf_builder b;
    b.copy(src, dst, n);
    return b.bytes();
}

// A copy of `n` pattern bytes on `queue`, verified bit-exact; returns the wait's rc.
int verified_copy(uapi::device& dev, unsigned queue, uint64_t n, uint32_t seed, bool* exact = nullptr) {
    buffer src = make_bo(dev, n, uapi::BO_DEVICE), dst = make_bo(dev, n, uapi::BO_DEVICE);
    const auto data = pattern(n, seed);
    src.map->write(0, data.data(), n);
    uapi::wait_args w;
    const int rc = wait_job(dev, submit(dev, copy_cmd(src.va(), dst.va(), n), queue), w);
    std::vector<uint8_t> got(n);
    dst.map->peek(0, got.data(), n);
    if (exact) *exact = got == data;
    return rc;
}
} // namespace

TEST_CASE("faults: a DRAM double-bit error fails only the job that reads it with ECC_UE at its address",
          "[faults]") {
    harness h({"fault.dram_dbe_addr=" + std::to_string(bad_word + 4)});  // reported as its 8-byte word
    int rc_a = 1, rc_b = 1, rc_c = 1, rc_d = 1;
    uint8_t st_a = 0, st_c = 0;
    error_record err{};
    bool b_exact = false, d_exact = false, in_bo = false;
    h.run([&](uapi::device& dev, workload_context&) {
        buffer big = make_bo(dev, 256 * MiB, uapi::BO_DEVICE);
        in_bo = big.va() + 4096 <= bad_word && bad_word + 4096 <= big.va() + 256 * MiB;
        const uint64_t off = bad_word - big.va() - 4096;  // 8 KiB around the bad word
        const auto data = pattern(8192, 7);
        big.map->write(off, data.data(), data.size());
        buffer dst = make_bo(dev, 8192, uapi::BO_DEVICE);
        auto other = uapi::device::open(dev.drv());  // another context, on its own queue
        uapi::wait_args w;
        const uint32_t a = submit(dev, copy_cmd(big.va() + off, dst.va(), 8192), 0);
        rc_b = verified_copy(*other, 1, 64 * 1024, 11, &b_exact);
        rc_a = wait_job(dev, a, w);
        st_a = w.status;
        dev.last_error(err);
        // A hard fault: writing the word does not repair it, the next read fails again.
        cmdbuf_builder b;
        b.fill(bad_word, 8, 1, 8, 0xA5A5A5A5u).copy(big.va() + off, dst.va(), 8192);
        rc_c = wait_job(dev, submit(dev, b.bytes(), 0), w);
        st_c = w.status;
        // The rest of the buffer reads fine: everything but the word's 8 bytes, bit-exact.
        cmdbuf_builder b2;
        b2.copy(big.va() + off, dst.va(), 4096).copy(big.va() + off + 4104, dst.va() + 4104, 4088);
        rc_d = wait_job(dev, submit(dev, b2.bytes(), 0), w);
        std::vector<uint8_t> got(8192);
        dst.map->peek(0, got.data(), got.size());
        d_exact = std::equal(got.begin(), got.begin() + 4096, data.begin()) &&
                  std::equal(got.begin() + 4104, got.end(), data.begin() + 4104);
    });
    REQUIRE(h.finished());
    REQUIRE(in_bo);
    CHECK(rc_a == -EIO);
    CHECK(st_a == AAX_ERR_ECC_UE);
    CHECK(err.code == AAX_ERR_ECC_UE);
    CHECK(err.addr == bad_word);
    CHECK(err.opcode == AAX_OP_DMA);
    CHECK(err.ring == 0);
    CHECK(err.describe().find("ECC_UE on ring 0") == 0);
    CHECK(rc_b == 0);  // the other context's job is untouched
    CHECK(b_exact);
    CHECK(rc_c == -EIO);
    CHECK(st_c == AAX_ERR_ECC_UE);
    CHECK(rc_d == 0);
    CHECK(d_exact);
    ecc_injector* ecc = h.top().soc.devmem->ecc();
    REQUIRE(ecc);
    CHECK(ecc->uncorrectable() == 2);
    CHECK(ecc->corrected() == 0);
}

TEST_CASE("faults: the DRAM model corrects single-bit errors and counts them on the word's channel", "[faults]") {
    harness h({"mem.model=dram", "fault.dram_sbe_addr=" + std::to_string(bad_word)});
    int rc[3] = {1, 1, 1};
    bool exact = true;
    h.run([&](uapi::device& dev, workload_context&) {
        buffer big = make_bo(dev, 256 * MiB, uapi::BO_DEVICE);
        const uint64_t off = bad_word - big.va() - 4096;
        const auto data = pattern(8192, 3);
        big.map->write(off, data.data(), data.size());
        for (int i = 0; i < 3; ++i) {
            buffer dst = make_bo(dev, 8192, uapi::BO_DEVICE);
            uapi::wait_args w;
            rc[i] = wait_job(dev, submit(dev, copy_cmd(big.va() + off, dst.va(), 8192), static_cast<unsigned>(i)), w);
            std::vector<uint8_t> got(8192);
            dst.map->peek(0, got.data(), got.size());
            exact = exact && got == data;
        }
    });
    REQUIRE(h.finished());
    CHECK(rc[0] == 0);
    CHECK(rc[1] == 0);
    CHECK(rc[2] == 0);
    CHECK(exact);  // corrected: the data is right
    dram_memory& m = *h.top().soc.devmem->dram();
    REQUIRE(m.ecc());
    CHECK(m.ecc()->corrected() == 3);
    CHECK(m.ecc()->uncorrectable() == 0);
    const auto& map = m.system().mapping();
    const uint32_t ch = map.controller_of(map.decode(bad_word));
    CHECK(m.ecc()->corrected_on(ch) == 3);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < m.system().channels(); ++i) sum += m.ecc()->corrected_on(i);
    CHECK(sum == 3);
}

TEST_CASE("faults: random ECC errors are the same for the same sim.seed and differ for another", "[faults]") {
    const auto run = [](int seed) {
        return in_child(3, [seed] {
            harness h({"fault.dram_sbe_per_gib=1e4", "sim.seed=" + std::to_string(seed)});
            uint64_t ok = 0;
            h.run([&](uapi::device& dev, workload_context&) {
                bool exact = false;
                for (int i = 0; i < 4; ++i) ok += verified_copy(dev, 0, MiB, 5, &exact) == 0 && exact;
            });
            return std::vector<uint64_t>{h.finished() ? 1u : 0u, ok, h.top().soc.devmem->ecc()->corrected()};
        });
    };
    const auto a = run(1), b = run(1), c = run(2);
    REQUIRE(a[0] == 1);
    CHECK(a[1] == 4);  // corrected errors never change the data
    // 1024 reads of 4 KiB at 1e4 per GiB: each sees one with p = 4096 / 2^30 x 1e4 = 0.038, ~39 in all.
    CHECK(a[2] > 15);
    CHECK(a[2] < 80);
    CHECK(a == b);
    CHECK(c[0] == 1);
    CHECK(c[2] != a[2]);
}

TEST_CASE("faults: a hung DMA engine is caught by the firmware watchdog as TIMEOUT and the ring serves again",
          "[faults]") {
    harness h({"fault.engine_hang=dma0@2"});
    int rc1 = 1, rc2 = 0, rc3 = 1;
    uint8_t st2 = 0;
    uint64_t took_ns = 0;
    bool exact1 = false, exact3 = false;
    h.run([&](uapi::device& dev, workload_context&) {
        rc1 = verified_copy(dev, 0, 4096, 1, &exact1);
        buffer src = make_bo(dev, 4096, uapi::BO_DEVICE), dst = make_bo(dev, 4096, uapi::BO_DEVICE);
        uapi::wait_args w;
        rc2 = wait_job(dev, submit(dev, copy_cmd(src.va(), dst.va(), 4096), 0, 50), w);
        st2 = w.status;
        took_ns = w.ts_end_ns - w.ts_start_ns;
        rc3 = verified_copy(dev, 0, 4096, 3, &exact3);
    });
    REQUIRE(h.finished());
    CHECK(rc1 == 0);
    CHECK(exact1);
    CHECK(rc2 == -ETIMEDOUT);
    CHECK(st2 == AAX_ERR_TIMEOUT);
    CHECK(took_ns >= 50'000);  // the timeout, then the watchdog's wake-up and the engine's abort
    CHECK(took_ns < 60'000);
    CHECK(rc3 == 0);
    CHECK(exact3);
    CHECK(h.top().soc.dma[0]->hangs() == 1);
}

TEST_CASE("faults: a hung DMA engine times out with the hardware scheduler too", "[faults]") {
    harness h({"cpu.enabled=false", "fault.engine_hang=dma0@1"});
    int rc1 = 0, rc2 = 1;
    uint8_t st1 = 0;
    uint64_t took_ns = 0;
    bool exact2 = false;
    h.run([&](uapi::device& dev, workload_context&) {
        buffer src = make_bo(dev, 4096, uapi::BO_DEVICE), dst = make_bo(dev, 4096, uapi::BO_DEVICE);
        uapi::wait_args w;
        rc1 = wait_job(dev, submit(dev, copy_cmd(src.va(), dst.va(), 4096), 0, 30), w);
        st1 = w.status;
        took_ns = w.ts_end_ns - w.ts_start_ns;
        rc2 = verified_copy(dev, 0, 4096, 2, &exact2);
    });
    REQUIRE(h.finished());
    CHECK(rc1 == -ETIMEDOUT);
    CHECK(st1 == AAX_ERR_TIMEOUT);
    CHECK(took_ns >= 30'000);
    CHECK(took_ns < 35'000);
    CHECK(rc2 == 0);
    CHECK(exact2);
}

namespace {
// Four contexts, `per` verified copies each, all in flight together; returns (ok, exact).
void four_contexts(uapi::device& dev, int per, int& ok, int& exact) {
    std::vector<std::unique_ptr<uapi::device>> more;
    std::vector<uapi::device*> devs{&dev};
    for (int c = 1; c < 4; ++c) {
        more.push_back(uapi::device::open(dev.drv()));
        devs.push_back(more.back().get());
    }
    struct job {
        unsigned ctx;
        uint32_t seq;
        buffer dst;
        std::vector<uint8_t> data;
    };
    std::vector<job> jobs;
    std::vector<buffer> keep;
    for (int i = 0; i < per; ++i)
        for (unsigned c = 0; c < 4; ++c) {
            const uint64_t n = 16384;
            buffer src = make_bo(*devs[c], n, uapi::BO_DEVICE);
            job j{c, 0, make_bo(*devs[c], n, uapi::BO_DEVICE), pattern(n, 100 * c + i)};
            src.map->write(0, j.data.data(), n);
            j.seq = submit(*devs[c], copy_cmd(src.va(), j.dst.va(), n), c, 1000);
            keep.push_back(std::move(src));
            jobs.push_back(std::move(j));
        }
    for (auto& j : jobs) {
        uapi::wait_args w;
        ok += wait_job(*devs[j.ctx], j.seq, w) == 0;
        std::vector<uint8_t> got(j.data.size());
        j.dst.map->peek(0, got.data(), got.size());
        exact += got == j.data;
    }
}
} // namespace

TEST_CASE("faults: a firmware trap is recovered by the driver and every context's jobs complete verified",
          "[faults]") {
    harness h({"fault.fw_crash_at_job=3"});
    int ok = 0, exact = 0, ok_after = 0, exact_after = 0;
    h.run([&](uapi::device& dev, workload_context&) {
        four_contexts(dev, 4, ok, exact);
        four_contexts(dev, 1, ok_after, exact_after);  // the re-booted firmware keeps serving
    });
    REQUIRE(h.finished());
    CHECK(ok == 16);
    CHECK(exact == 16);
    CHECK(ok_after == 4);
    CHECK(exact_after == 4);
    CHECK(h.top().soc.fw_crashes_injected() == 1);
    CHECK(h.top().drv.device_resets() == 1);
    CHECK(h.top().drv.jobs_resubmitted() >= 1);
    CHECK(!h.top().drv.device_dead());
}

TEST_CASE("faults: a firmware hang is seen by the heartbeat watch and after the reset every job completes verified",
          "[faults]") {
    harness h({"fault.fw_crash_at_job=5", "fault.fw_crash_mode=hang", "host.driver.heartbeat_timeout_us=2500"});
    int ok = 0, exact = 0;
    h.run([&](uapi::device& dev, workload_context&) { four_contexts(dev, 4, ok, exact); });
    REQUIRE(h.finished());
    CHECK(ok == 16);
    CHECK(exact == 16);
    CHECK(h.top().soc.fw_crashes_injected() == 1);
    CHECK(h.top().drv.device_resets() == 1);
    CHECK(h.top().drv.jobs_resubmitted() >= 1);
}

TEST_CASE("faults: after a firmware crash the driver restores the MMU contexts and jobs in two VMs complete verified",
          "[faults]") {
    harness h({"mmu.enabled=true", "fault.fw_crash_at_job=2"});
    int ok = 0, exact = 0;
    h.run([&](uapi::device& dev, workload_context&) {
        auto dev2 = uapi::device::open(dev.drv());
        uapi::device* devs[2] = {&dev, dev2.get()};
        const uint64_t n = 16384, src_va = 0x10000000, dst_va = 0x20000000;
        std::vector<buffer> src, dst;
        std::vector<uint32_t> vms, seqs;
        for (int c = 0; c < 2; ++c) {
            vms.push_back(new_vm(*devs[c]));
            src.push_back(make_bo(*devs[c], 4 * n, uapi::BO_DEVICE));
            dst.push_back(make_bo(*devs[c], 4 * n, uapi::BO_DEVICE));
            bind(*devs[c], vms[c], src[c], src_va, 4 * n);
            bind(*devs[c], vms[c], dst[c], dst_va, 4 * n);
            const auto data = pattern(4 * n, 40 + c);
            src[c].map->write(0, data.data(), data.size());
        }
        for (int i = 0; i < 3; ++i)  // in flight together: the crash hits while both rings are busy
            for (int c = 0; c < 2; ++c) {
                cmdbuf_builder cb;
                cb.copy(src_va + i * n, dst_va + i * n, n);
                seqs.push_back(submit_vm(*devs[c], cb.bytes(), vms[c], static_cast<uint32_t>(c)));
            }
        for (size_t k = 0; k < seqs.size(); ++k) {
            uapi::wait_args w;
            ok += wait_job(*devs[k % 2], seqs[k], w) == 0;
        }
        for (int c = 0; c < 2; ++c) {  // a job after the reset, through the restored context
            uapi::wait_args w;
            ok += copy_in(*devs[c], vms[c], src_va + 3 * n, dst_va + 3 * n, n, w, static_cast<uint32_t>(c)) == 0;
            exact += peek(dst[c], 0, 4 * n) == pattern(4 * n, 40 + c);
        }
    });
    REQUIRE(h.finished());
    CHECK(ok == 8);
    CHECK(exact == 2);
    CHECK(h.top().drv.device_resets() == 1);
}

TEST_CASE("faults: small soak of 200 jobs from 4 contexts with random faults loses and corrupts none", "[faults]") {
    harness h({"fault.dram_sbe_per_gib=20000", "fault.dram_dbe_per_gib=10000", "fault.engine_hang_prob=0.01",
               "fault.fw_crash_prob=0.01", "sim.seed=3"});
    soak_result r;
    h.run([&](uapi::device& dev, workload_context& ctx) {
        soak_options o;
        o.jobs = 200;
        o.seed = ctx.seed;
        o.timeout_us = 100;
        r = run_soak(dev, ctx.soc, o);
    });
    REQUIRE(h.finished());
    INFO(r.error);
    CHECK(r.clean());
    CHECK(r.jobs == 200);
    CHECK(r.lost == 0);
    CHECK(r.corrupted == 0);
    CHECK(r.ok + r.by_status[AAX_ERR_ECC_UE] + r.by_status[AAX_ERR_TIMEOUT] + r.by_status[AAX_ERR_ABORTED] == 200);
    CHECK(r.by_status[AAX_ERR_TIMEOUT] == r.hangs);  // every hang became exactly one TIMEOUT
    CHECK(r.by_status[AAX_ERR_ECC_UE] == r.ecc_uncorrectable);  // every double-bit error failed one job
    CHECK(r.device_resets == r.fw_crashes);
    // Deterministic from sim.seed = 3 (the same figures as `accelvp run -w soak` with these keys).
    CHECK(r.ok == 192);
    CHECK(r.by_status[AAX_ERR_ECC_UE] == 7);
    CHECK(r.by_status[AAX_ERR_TIMEOUT] == 1);
    CHECK(r.fw_crashes == 5);
    CHECK(r.ecc_corrected == 15);
    CHECK(r.retried == 34);
    CHECK(r.resubmitted == 64);
}

namespace {
struct sys_outcome {
    bool done = false;
    int exit_code = -1;
    std::string error;
    uint64_t retransmits = 0;
};
sys_outcome run_collective_system(std::vector<std::string> overrides) {
    param_schema s = build_schema("");
    system_board::declare(s);
    declare_collective(s);
    run_options o;
    o.config = "training";
    o.overrides = std::move(overrides);
    const config c = load_config(s, o);
    set_log_level(log_level::error);
    auto top = std::make_unique<system_board>("system", c, run_collective);
    sc_core::sc_start(sc_core::sc_time(10, sc_core::SC_SEC));
    sys_outcome r;
    r.done = top->done();
    r.exit_code = top->exit_code();
    r.error = top->error();
    for (uint32_t i = 0; i < 4; ++i) r.retransmits += top->tx(i, 0).retransmits();
    return r;
}
} // namespace

TEST_CASE("faults: link CRC errors cost retransmissions and a link going down fails the collective with LINK_DOWN",
          "[faults]") {
    // Bit errors (from sim.seed) and, on the same run, port 2.0 going down mid-collective.
    const sys_outcome r = run_collective_system({"system.chips=4", "workload.bytes=4MiB", "fault.link_ber=1e-7",
                                                 "fault.link_down_at_ns=60000", "fault.link_down_port=2.0"});
    REQUIRE(r.done);
    CHECK(r.exit_code == 1);
    CHECK(r.error.find("chip 2: LINK_DOWN") != std::string::npos);
    CHECK(r.retransmits > 0);
}

TEST_CASE("faults: link CRC errors alone are retried and the collective is verified", "[faults]") {
    const sys_outcome r = run_collective_system({"system.chips=4", "workload.bytes=1MiB", "fault.link_ber=1e-7"});
    INFO(r.error);
    REQUIRE(r.done);
    CHECK(r.exit_code == 0);
    CHECK(r.retransmits > 0);
}

TEST_CASE("faults: a malformed fault.engine_hang is a config error naming the key", "[faults]") {
    param_schema s = build_schema("");
    run_options o;
    o.config = "inference";
    o.overrides = {"fault.engine_hang=dma0@0"};
    std::string msg;
    try {
        const config c = load_config(s, o);
    } catch (const config_error& e) {
        msg = e.what();
    }
    CHECK(msg.find("fault.engine_hang") != std::string::npos);
    CHECK(msg.find("dma<i>@<n>") != std::string::npos);
    o.overrides = {"fault.engine_hang=dma3@1"};  // one DMA engine on this preset
    msg.clear();
    try {
        const config c = load_config(s, o);
    } catch (const config_error& e) {
        msg = e.what();
    }
    CHECK(msg.find("fault.engine_hang names dma3 but dma.engines = 1") != std::string::npos);
}
