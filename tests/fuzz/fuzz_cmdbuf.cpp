// libFuzzer target: guest command buffers through the device (docs/security.md, Fuzzing).
//
// The platform (a small edge chip with an MMU, the hardware scheduler, and the host with
// its driver model) is elaborated once per process; its host program is a loop that runs
// one job per input. Input: one byte of job options, then the command buffer:
//   byte 0  bit 0  a tenant's job (an ordinary file, in its MMU context) instead of a
//                  physical job of the privileged file
//           bit 1  the command buffer in a host-memory BO (else a device-memory BO)
//           bit 2  submit on queue 1 (else 0)
//           bit 3  AAX_JOB_TIMESTAMP
//           bit 4  cmdbuf_size = the exact byte count (else rounded down to 8, at least 8)
//   rest    the command buffer (at most max_cmdbuf bytes; longer inputs are cut)
// Before each job the host resets what a job may change (semaphores, data buffers,
// scratch pages) so a job sees the same device state whatever ran before; the driver
// model recovers a failed ring as it always does. Each job runs with a 100 us device
// timeout. A finding is, besides a crash or a sanitizer report:
//   - a job that has not completed 2 ms of simulated time after its submission (hang);
//   - a failed job without the driver's error record for it (the error interrupt);
//   - a tenant job that changed memory it has no mapping for (the privileged file's
//     buffers and a victim page of another context), or any job that changed the
//     driver's rings, completion queues or page tables in a way the next job notices
//     (every input is followed by a known job that must complete bit-exact).
//
// Addresses the seeds use (tests/fuzz/corpus/fuzz_cmdbuf/, written by
// `fuzz_cmdbuf -seed_corpus=DIR`, see write_seeds()) are those of this fixed layout.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <sys/stat.h>

#include <sanitizer/lsan_interface.h>
#include <systemc>

#include "abi/aax_encode.h"
#include "abi/aax_queue.h"
#include "abi/aax_regs.h"
#include "platform/host/cmdbuf.h"
#include "platform/host/uapi.h"
#include "platform/system/board.h"
#include "platform/sim/simulation.h"
#include "platform/workloads/workload.h"
#include "tlm/core/log.h"

#include <fmt/format.h>
#include <functional>

using namespace accelvp;

int sc_main(int, char**) { return 0; }  // libsystemc wants one; libFuzzer's main runs

namespace {

constexpr size_t max_cmdbuf = 16 << 10;
constexpr uint64_t data_bytes = 64 << 10;
constexpr uint64_t VA_DATA = 0x10'0000'0000ull;  // the tenant's data BO
constexpr uint64_t VA_HOST = 0x20'0000'0000ull;  // the tenant's host BO
constexpr uint64_t VA_CMD = 0x30'0000'0000ull;   // the tenant's command-buffer BO (JUMP/CALL targets)
constexpr uint32_t job_timeout_us = 10;
const sc_core::sc_time wait_limit(2, sc_core::SC_MS);

// The inputs this process ran before the current one, oldest first (at most history_max):
// a finding that depends on what an earlier input left behind reproduces by running them
// in order in one process (`fuzz_cmdbuf DIR/history-*`, libFuzzer runs file arguments in
// the order given). Written next to the reproducer (-artifact_prefix) on a finding.
constexpr size_t history_max = 1024;
std::vector<std::vector<uint8_t>> history;
size_t history_next = 0;  // the slot the next input goes to
std::string artifact_prefix = "./";

void write_history() {
    const size_t n = history.size();
    if (n == 0) return;
    const std::string dir = artifact_prefix + "history";
    if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) return;
    for (size_t k = 0; k < n; ++k) {
        const auto& in = history[(history_next + history_max - n + k) % history_max];
        std::ofstream f(fmt::format("{}/history-{:04}", dir, k), std::ios::binary);
        f.write(reinterpret_cast<const char*>(in.data()), static_cast<std::streamsize>(in.size()));
    }
    std::fprintf(stderr, "fuzz_cmdbuf: the %zu inputs run before this one (the last is this one) are in %s/\n", n,
                 dir.c_str());
}

[[noreturn]] void finding(const std::string& what) {
    std::fprintf(stderr, "fuzz_cmdbuf: FINDING at %s of simulated time: %s\n",
                 sc_core::sc_time_stamp().to_string().c_str(), what.c_str());
    write_history();
    std::fflush(stderr);
    std::abort();
}

struct bo {
    uapi::bo_create_args a;
    std::unique_ptr<uapi::mapping> map;
};

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
    std::vector<uint8_t> v(n);
    uint32_t x = seed * 2654435761u + 1;
    for (auto& b : v) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = static_cast<uint8_t>(x);
    }
    return v;
}

class fuzz_host : public workload {
public:
    std::string name() const override { return "fuzz"; }
    std::string description() const override { return "fuzz_cmdbuf host loop"; }
    void declare(param_schema&) const override {}

    // Set by LLVMFuzzerTestOneInput, consumed by the host loop.
    std::vector<uint8_t> input;
    bool has_input = false, done = false, ready = false;
    sc_core::sc_event input_ev;
    std::function<chip&()> board_soc;
    // The layout, for the seeds.
    uint64_t p_cmd = 0, p_data = 0, p_host = 0, victim = 0;
    uint64_t cq0 = 0, cq0_bytes = 0;  // completion queue 0: device bus address, size

    int run(workload_context& ctx) override {
        uapi::device& P = ctx.dev;  // the privileged file
        drv_ = &P.drv();
        int err = 0;
        auto T = uapi::device::open(*drv_, &err);  // a tenant
        if (!T) finding("cannot open a tenant file");
        cmd_ = make(P, max_cmdbuf, uapi::BO_DEVICE);
        cmd_host_ = make(P, max_cmdbuf, uapi::BO_HOST);
        data_ = make(P, data_bytes, uapi::BO_DEVICE);
        host_ = make(P, data_bytes, uapi::BO_HOST);
        victim_ = make(P, 4096, uapi::BO_DEVICE);  // no tenant mapping reaches it
        tcmd_ = make(*T, max_cmdbuf, uapi::BO_DEVICE);
        tcmd_host_ = make(*T, max_cmdbuf, uapi::BO_HOST);
        tdata_ = make(*T, data_bytes, uapi::BO_DEVICE);
        thost_ = make(*T, data_bytes, uapi::BO_HOST);
        uapi::vm_create_args vc;
        if (T->vm_create(vc) != 0) finding("vm_create");
        vm_ = vc.vm_id;
        bind(*T, tdata_, VA_DATA, uapi::VM_READ | uapi::VM_WRITE);
        bind(*T, thost_, VA_HOST, uapi::VM_READ | uapi::VM_WRITE);
        bind(*T, tcmd_, VA_CMD, uapi::VM_READ);
        p_cmd = cmd_.a.device_va, p_data = data_.a.device_va, p_host = host_.a.device_va;
        victim = victim_.a.device_va;
        cq0 = drv_->info().host_window + drv_->ring_state(0).cq_host;
        cq0_bytes = uint64_t{drv_->ring_state(0).cq_entries} * sizeof(aax_cq_entry);
        pat_data_ = pattern(data_bytes, 1);
        pat_victim_ = pattern(4096, 2);
        check_ = pattern(256, 3);
        // The kernel's device memory (rings, page tables) and every BO: from the start of
        // device memory up to where the allocator stands now.
        kdev_lo_ = drv_->info().devmem_base;
        auto probe = drv_->alloc_device(4096);
        if (!probe) finding("alloc_device");
        drv_->free_device(*probe);
        kdev_ = std::vector<uint8_t>(*probe - kdev_lo_);
        reset_state();
        if (!drv_->host().cpu.peek(drv_->device_to_bar2(kdev_lo_), kdev_.data(), kdev_.size())) finding("peek kdev");
        if (getenv("ACCELVP_FUZZ_LOG"))
            std::fprintf(stderr, "kernel + BO device memory: %zu bytes at 0x%llx\n", kdev_.size(),
                         static_cast<unsigned long long>(kdev_lo_));
        ready = true;
        sc_core::sc_pause();
        for (;;) {
            while (!has_input) sc_core::wait(input_ev);
            has_input = false;
            one(P, *T);
            done = true;
            sc_core::sc_pause();
        }
    }

private:
    bo make(uapi::device& d, uint64_t size, uint32_t flags) {
        bo b;
        b.a.size = size;
        b.a.flags = flags;
        if (d.bo_create(b.a) != 0 || d.bo_mmap(b.a.handle, b.map) != 0) finding("bo_create");
        return b;
    }
    void bind(uapi::device& d, const bo& b, uint64_t va, uint32_t flags) {
        uapi::vm_bind_args a;
        a.vm_id = vm_;
        a.handle = b.a.handle;
        a.va = va;
        a.size = (b.a.size + 4095) & ~4095ull;
        a.flags = flags | uapi::VM_4K_ONLY;
        if (d.vm_bind(a) != 0) finding("vm_bind");
    }
    // Debug (untimed) access to a bus address of the device or host memory.
    uint64_t host_side(uint64_t bus) const {
        const uint64_t win = drv_->info().host_window;
        return bus >= win ? bus - win : drv_->device_to_bar2(bus);
    }
    void poke_at(uint64_t bus, const void* p, size_t n) {
        if (!drv_->host().cpu.poke(host_side(bus), p, n)) finding("poke");
    }
    void poke(const bo& b, const std::vector<uint8_t>& v) { poke_at(b.a.device_va, v.data(), v.size()); }
    // Reads n bytes of a BO and compares them with `want` (one buffer, reused: no large
    // allocation per input).
    bool same(const bo& b, uint64_t off, const std::vector<uint8_t>& want) {
        scratch_.resize(want.size());
        if (b.map->peek(off, scratch_.data(), want.size()) != 0) finding("peek");
        return std::memcmp(scratch_.data(), want.data(), want.size()) == 0;
    }
    const std::vector<uint8_t>& peek_kdev() {
        scratch_.resize(kdev_.size());
        if (!drv_->host().cpu.peek(drv_->device_to_bar2(kdev_lo_), scratch_.data(), scratch_.size()))
            finding("peek kdev");
        return scratch_;
    }

    // Runs one job; returns its status. A hang or a failure without its error record is a finding.
    uint8_t job(const char* what, uapi::device& d, const bo& cb, uint32_t size, uint32_t flags, uint32_t queue,
                uint32_t vm) {
        uapi::submit_args s;
        s.queue = queue;
        s.cmdbuf_handle = cb.a.handle;
        s.cmdbuf_size = size;
        s.flags = flags;
        s.timeout_us = job_timeout_us;
        s.vm_id = vm;
        const uint64_t errors_before = drv_->errors_total();
        const int rc = d.submit(s);
        if (rc != 0) finding("submit failed: " + std::to_string(rc));
        uapi::wait_args w;
        w.seq = s.seq;
        w.timeout_ns = static_cast<uint64_t>(wait_limit.to_seconds() * 1e9);
        const int wrc = d.wait(w);
        if (getenv("ACCELVP_FUZZ_LOG"))
            std::fprintf(stderr, "%s: seq %u submitted, wait %d status %s at %s\n", what, s.seq, wrc,
                         aax_status_name(w.status), sc_core::sc_time_stamp().to_string().c_str());
        // -ETIMEDOUT is also the errno of a job that failed with TIMEOUT or SEM_TIMEOUT.
        if (wrc == -ETIMEDOUT && !drv_->is_signaled(s.seq)) finding(fmt::format("{} did not complete within 2 ms of simulated time", what));
        if (w.status == AAX_OK) return AAX_OK;
        // The error interrupt's record may come after the fence was signalled.
        for (int i = 0; i < 100 && drv_->errors_total() == errors_before; ++i)
            sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));
        if (drv_->errors_total() == errors_before)
            finding(fmt::format("{} failed with {} and no error record", what, aax_status_name(w.status)));
        const error_record& e = drv_->errors().back();
        if (e.job_id != s.seq || e.code != w.status)
            finding(fmt::format("the error record ({}) is not the failed {}'s ({} {})", e.describe(), what, s.seq,
                                aax_status_name(w.status)));
        return w.status;
    }

    // Completion queues after a job that could write anywhere (a physical job): every
    // record's PHASE back to what the driver's consumer state implies (consumed this lap:
    // the current phase; not yet written: the other), so a record a job forged or overwrote
    // is never taken for a completion.
    void repair_cqs() {
        for (unsigned r = 0; r < drv_->rings(); ++r) {
            const driver::ring_view v = drv_->ring_state(r);
            std::vector<aax_cq_entry> cq(v.cq_entries);
            drv_->host().cpu.peek(v.cq_host, cq.data(), cq.size() * sizeof(aax_cq_entry));
            for (uint32_t i = 0; i < v.cq_entries; ++i) {
                const bool ph = i < v.cq_head ? v.cq_phase : !v.cq_phase;
                cq[i].flags = static_cast<uint8_t>((cq[i].flags & ~AAX_CQE_PHASE) | (ph ? AAX_CQE_PHASE : 0));
            }
            drv_->host().cpu.poke(v.cq_host, cq.data(), cq.size() * sizeof(aax_cq_entry));
        }
    }

    void one(uapi::device& P, uapi::device& T) {
        const uint8_t opt = input.empty() ? 0 : input[0];
        const size_t n = std::min(max_cmdbuf, input.empty() ? 0 : input.size() - 1);
        const bool tenant = opt & 1, in_host = opt & 2;
        const uint32_t queue = (opt >> 2) & 1;
        const uint32_t flags = (opt & 8) ? AAX_JOB_TIMESTAMP : 0;
        uint32_t size = static_cast<uint32_t>(n);
        if (!(opt & 16)) size = std::max<uint32_t>(8, size & ~7u);
        if (size == 0) size = 1;
        reset_state();  // the state a job may change, back to the same values
        const bo& cb = tenant ? (in_host ? tcmd_host_ : tcmd_) : (in_host ? cmd_host_ : cmd_);
        if (n) poke_at(cb.a.device_va, input.data() + 1, n);  // the rest of the BO is zeros (reset_state)
        job("the input job", tenant ? T : P, cb, size, flags, queue, tenant ? vm_ : 0);
        if (tenant) {
            // The tenant reaches only its own mappings: nothing else in the kernel's device
            // memory (rings aside: the driver writes descriptors) nor the other file's BOs moved.
            const std::vector<uint8_t>& now = peek_kdev();
            // What the tenant may change: its own device BOs and the rings (as offsets into
            // the snapshot, sorted); everything between them must be as before. One memcmp
            // per gap, then a byte search only in a gap that differs (a finding): a byte loop
            // over all of it (instrumented for coverage) was most of the harness's time.
            std::vector<std::pair<uint64_t, uint64_t>> own = {{tcmd_.a.device_va, max_cmdbuf},
                                                              {tdata_.a.device_va, data_bytes}};
            for (unsigned r = 0; r < drv_->rings(); ++r) {
                const auto v = drv_->ring_state(r);
                own.emplace_back(v.ring_addr, uint64_t{v.entries} * AAX_JOB_DESC_SIZE);
            }
            std::sort(own.begin(), own.end());
            const uint64_t end = now.size();
            uint64_t at = 0;  // offset of the next byte not yet checked
            auto check_gap = [&](uint64_t lo, uint64_t hi) {
                if (lo >= hi || std::memcmp(&now[lo], &kdev_[lo], hi - lo) == 0) return;
                for (uint64_t i = lo; i < hi; ++i)
                    if (now[i] != kdev_[i]) finding(fmt::format("a tenant job changed device memory at 0x{:x}", kdev_lo_ + i));
            };
            for (const auto& [a, len] : own) {
                const uint64_t lo = a < kdev_lo_ ? 0 : std::min(a - kdev_lo_, end);
                const uint64_t hi = a + len < kdev_lo_ ? 0 : std::min(a + len - kdev_lo_, end);
                check_gap(at, lo);
                at = std::max(at, hi);
            }
            check_gap(at, end);
            if (!same(host_, 0, pat_data_)) finding("a tenant job changed the privileged file's host BO");
            if (!same(cmd_host_, 0, zeros_)) finding("a tenant job changed a privileged command buffer");
        } else {
            // A physical job may write anywhere: put the kernel's memory back (rings are idle,
            // so their descriptors are not needed; page tables and BOs are as at start-up).
            poke_at(kdev_lo_, kdev_.data(), kdev_.size());
            repair_cqs();
        }
        // The device still works: a known copy on the same queue, bit-exact.
        const uint64_t src = tenant ? VA_DATA : p_data, dst = tenant ? VA_DATA + 0x8000 : p_data + 0x8000;
        cmdbuf_builder k;
        k.copy(src, dst, check_.size());
        const bo& kcb = tenant ? tcmd_ : cmd_;
        poke(tenant ? tdata_ : data_, check_);
        poke_at(kcb.a.device_va, k.bytes().data(), k.size());
        const uint8_t st = job("the check job", tenant ? T : P, kcb, k.size(), 0, queue, tenant ? vm_ : 0);
        if (st != AAX_OK) finding(std::string("the check job after the input failed: ") + aax_status_name(st));
        if (!same(tenant ? tdata_ : data_, 0x8000, check_))
            finding("the check job after the input copied wrong data");
    }

    void reset_state() {
        static_cast<reset_if&>(board_soc().sync).soft_reset();  // semaphores back to 0
        for (const bo* b : {&data_, &host_, &tdata_, &thost_}) poke(*b, pat_data_);
        poke(victim_, pat_victim_);
        if (zeros_.empty()) zeros_ = std::vector<uint8_t>(max_cmdbuf, 0);
        for (const bo* b : {&cmd_, &cmd_host_, &tcmd_, &tcmd_host_}) poke(*b, zeros_);
    }

    driver* drv_ = nullptr;
    uint32_t vm_ = 0;
    bo cmd_, cmd_host_, data_, host_, victim_, tcmd_, tcmd_host_, tdata_, thost_;
    std::vector<uint8_t> pat_data_, pat_victim_, check_, zeros_, scratch_;
    uint64_t kdev_lo_ = 0;
    std::vector<uint8_t> kdev_;  // the kernel's device memory and the BOs as at start-up
};

fuzz_host* host_prog = nullptr;
board* top = nullptr;

void run_until(bool& flag) {
    // The host loop pauses the simulation when it has finished an input; the limit is far
    // beyond the 2 ms the job may take (wait_limit), so reaching it is a hang.
    sc_core::sc_start(sc_core::sc_time(50, sc_core::SC_MS));
    if (!flag) finding("the host loop did not finish within 50 ms of simulated time");
}

// The seed corpus: valid command buffers of every packet type, physical and in the tenant's
// context, at the addresses of this layout.
void write_seeds(const std::string& dir) {
    const fuzz_host& h = *host_prog;
    auto put = [&](const std::string& name, uint8_t opt, const cmdbuf_builder& cb) {
        std::ofstream f(dir + "/" + name, std::ios::binary);
        f.put(static_cast<char>(opt));
        f.write(reinterpret_cast<const char*>(cb.bytes().data()), static_cast<std::streamsize>(cb.size()));
    };
    const uint64_t d = h.p_data, hw = h.p_host;
    put("dma_copy", 0, cmdbuf_builder().copy(d, d + 0x1000, 4096));
    put("dma_copy_host", 2, cmdbuf_builder().copy(hw, d + 0x2000, 1024).copy(d, hw + 0x100, 512));
    put("dma_2d_fill", 0, cmdbuf_builder().copy_2d(d, d + 0x4000, 64, 16, 128, 256).fill(d + 0x8000, 100, 3, 128, 0xA5A5));
    put("sem", 4, cmdbuf_builder().sem_signal(3, 5).sem_wait(3, 5, AAX_SEM_GE, true).sem_signal(1, 7, AAX_SEM_MODE_SET)
                      .sem_wait(1, 7, AAX_SEM_EQ));
    put("sem_wait_timeout", 0, cmdbuf_builder().sem_wait(2, 1));
    put("fence_msg", 8, cmdbuf_builder().fence(d + 0x100, 0x1122334455667788ull)
                            .fence(hw + 0x200, 0, AAX_FENCE_WRITE_TS).msg(hw + 0x300, 0xCAFE, true));
    // CALL [56, 72): NOP, RET; then JUMP to the FILL at 72.
    put("jump_call", 0, cmdbuf_builder().call(h.p_cmd + 56, 16).jump(h.p_cmd + 72, 56).nop().nop().ret()
                            .fill(d, 64, 1, 0, 1));
    {
        aax_pkt_gemm g = aax_make_gemm(0, AAX_DT_BF16, AAX_DT_FP32, 8, 8, 16, 0, 1024, 2048, 0);
        aax_pkt_gemm i8 = aax_make_gemm(0, AAX_DT_INT8, AAX_DT_INT32, 4, 16, 32, 4096, 8192, 12288, 0);
        put("gemm", 0, cmdbuf_builder().gemm(g).gemm(i8, AAX_GEMM_B_TRANS));
    }
    {
        aax_pkt_vec v{};
        v.cluster = 0;
        v.op = AAX_VEC_ADD;
        v.dtype = AAX_DT_FP32;
        v.dtype_out = AAX_DT_BF16;
        v.rows = 4;
        v.cols = 32;
        v.src0 = 0;
        v.src1 = 1024;
        v.dst = 2048;
        aax_pkt_vec s = v;
        s.op = AAX_VEC_SOFTMAX;
        s.dtype_out = AAX_DT_FP32;
        put("vec", 0, cmdbuf_builder().vec(v).vec(s).vec(v, AAX_VEC_B_SCALAR));
    }
    put("wreg_unpriv", 0, cmdbuf_builder().wreg(AAX_RING_BASE(0) + AAX_RING_CTRL, 0));
    {
        aax_pkt_coll c{};
        c.hdr = aax_make_hdr(AAX_OP_COLL, AAX_PKT_COLL_QW, AAX_COLL_PARAM(AAX_COLL_SEND, 0, 0));
        c.local_addr = d;
        c.bytes = 64;
        put("coll", 0, cmdbuf_builder().raw(c));
    }
    put("odd_size", 16, cmdbuf_builder().nop(2));
    // Tenant jobs: VAs of its mappings, then addresses it has no mapping for.
    put("vm_dma", 1, cmdbuf_builder().copy(VA_DATA, VA_DATA + 0x1000, 2048).copy(VA_HOST, VA_DATA + 0x4000, 256)
                         .fill(VA_HOST + 0x800, 64, 4, 64, 7));
    put("vm_fence_msg", 1, cmdbuf_builder().fence(VA_DATA + 8, 42).msg(VA_HOST + 16, 1, true));
    // CALL [32, 96) = FILL, RET (through the tenant's read-only mapping of its buffer), then RET.
    put("vm_call", 1, cmdbuf_builder().call(VA_CMD + 32, 64).ret().fill(VA_DATA, 8, 1, 0, 2).ret());
    put("vm_bad_va", 1, cmdbuf_builder().copy(VA_DATA, 0x40'0000'0000ull, 64));
    put("vm_physical_victim", 1, cmdbuf_builder().fill(h.victim, 4096, 1, 0, 0));
    put("vm_physical_fence", 3, cmdbuf_builder().fence(h.p_data, 1).msg(h.p_host, 1));
    put("vm_jump_physical", 1, cmdbuf_builder().jump(h.p_cmd, 64));
    put("vm_sem", 5, cmdbuf_builder().sem_signal(0, 1).sem_wait(0, 1));
    // Finding 3 (docs/security.md): a physical job fills the whole of completion queue 0 in
    // host memory with records that carry the PHASE of the queue's first lap and a job id
    // nobody submitted (pattern 0xE1000000: job_id 0xE1000000, ring 0, status OK, flags
    // PHASE and three undefined bits). The
    // driver took the record after the job's own as a completion, its head moved past the
    // slot the device writes next, and the check job's wait hung. Reproduces in the first
    // lap of the queue (a fresh process: `fuzz_cmdbuf corpus/fuzz_cmdbuf/forged_cq`).
    put("forged_cq", 0, cmdbuf_builder().fill(h.cq0, h.cq0_bytes, 1, 0, 0xE1000000u));
    std::printf("fuzz_cmdbuf: seeds written to %s\n", dir.c_str());
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
    setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 1);
    sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    // The tiny chip: edge with two queues, an MMU, the hardware scheduler (no firmware
    // ISS: fast), small SRAM and device memory so any GEMM/VEC or DMA stays cheap. Host
    // memory 256 MiB instead of the preset's 64 GiB: a physical job may write anywhere in it
    // and what it writes stays allocated (sparse pages), so over millions of inputs the
    // process grew towards the 2 GiB RSS limit (64 MiB of pages after 60 000 inputs).
    static const param_schema schema = build_schema("");
    run_options o;
    o.config = "edge";
    o.overrides = {"cpu.enabled=false",       "mmu.enabled=true",   "qman.rings=2",
                   "compute.sram_bytes=65536", "mem.size=67108864", "sync.count=16",
                   "sync.wait_timeout_us=5",  "sim.log_level=error", "host.mem.size=268435456"};
    static const config cfg = load_config(schema, o);
    set_log_level(parse_log_level(getenv("ACCELVP_FUZZ_LOG") ? getenv("ACCELVP_FUZZ_LOG") : "error"));
    // What the platform allocates once lives on SystemC's coroutine stacks too, which the
    // leak checker does not scan: not leaks. Inputs are checked for leaks as usual.
    __lsan_disable();
    host_prog = new fuzz_host;
    top = new board("board", cfg, host_prog);  // never destroyed: the process ends with it
    host_prog->board_soc = []() -> chip& { return top->soc; };
    run_until(host_prog->ready);
    __lsan_enable();
    for (int i = 1; i < *argc; ++i) {
        const std::string a = (*argv)[i];
        if (a.rfind("-artifact_prefix=", 0) == 0) artifact_prefix = a.substr(17);
        if (a.rfind("-seed_corpus=", 0) == 0) {
            write_seeds(a.substr(13));
            std::exit(0);
        }
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (history.size() < history_max) history.emplace_back();
    history[history_next].assign(data, data + size);
    history_next = (history_next + 1) % history_max;
    host_prog->input.assign(data, data + size);
    host_prog->has_input = true;
    host_prog->done = false;
    host_prog->input_ev.notify(sc_core::SC_ZERO_TIME);
    run_until(host_prog->done);
    return 0;
}
