#include "platform/workloads/submit_latency.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

#include <fmt/format.h>

#include "abi/aax_queue.h"
#include "platform/chip/chip.h"
#include "platform/host/cmdbuf.h"
#include "platform/workloads/dma_copy.h"
#include "tlm/core/keys.h"

namespace accelvp {

namespace {
constexpr uint64_t VA_CMD = 1ull << 32, VA_SRC = 2ull << 32, VA_DST = 3ull << 32;
int fail(workload_context& ctx, const std::string& what, int rc) {
    ctx.error = fmt::format("{}: {}", what, std::strerror(-rc));
    return 1;
}
uint64_t now_ps() { return sc_core::sc_time_stamp().value(); }
} // namespace

const param_table<submit_latency_params>& submit_latency_params::table() {
    using P = submit_latency_params;
    static const auto t =
        param_table<P>()
            .string("queue", &P::queue, "where jobs go: a kernel ring through the submit ioctl, or a user queue",
                    {"kernel", "user"})
            .string("job", &P::job, "empty (AAX_JOB_NULL) or a 4 KiB device-to-device copy", {"empty", "copy4k"})
            .integer("jobs", &P::jobs, 1, 1 << 16, "jobs of the throughput phase (queue kept full)")
            .integer("latency_jobs", &P::latency_jobs, 1, 1 << 16, "jobs of the latency phase (one at a time)")
            .real("timeout_ms", &P::timeout_ms, 0.001, 1e9, "host wait limit per job (simulated time)", "ms");
    return t;
}

void submit_latency::validate(const params& p, const config& c) const {
    if (!c.get(keys::mmu::enabled))
        throw config_error("workload submit-latency runs in an address space: set mmu.enabled=true");
    if (p.queue == "user" && !c.get(keys::cpu::enabled))
        throw config_error("workload.queue = user needs the control core's firmware: set cpu.enabled=true");
    if (p.queue == "user" && c.get(keys::qman::rings) <= c.get_uint("host.driver.rings"))
        throw config_error(fmt::format("workload.queue = user needs a ring the driver does not use: qman.rings = {} "
                                       "must exceed host.driver.rings = {} (and qman.cqs too)",
                                       c.get(keys::qman::rings), c.get_uint("host.driver.rings")));
}

int submit_latency::plan(workload_context& ctx, const params& p, state& st) {
    auto& dev = ctx.dev;
    uapi::vm_create_args vmc;
    if (int rc = dev.vm_create(vmc)) return fail(ctx, "creating the address space", rc);
    st.vm = vmc.vm_id;
    const uint32_t n = p.jobs + p.latency_jobs;
    const bool copy = p.job == "copy4k";
    // One command buffer per job (a copy of its own slice; empty jobs share one NOP).
    std::vector<uint8_t> all;
    for (uint32_t i = 0; i < (copy ? n : 1); ++i) {
        cmdbuf_builder cb;
        if (copy)
            cb.copy(VA_SRC + uint64_t{i} * 4096, VA_DST + uint64_t{i} * 4096, 4096);
        else
            cb.nop();
        st.cmd_bytes = static_cast<uint32_t>(cb.size());
        all.insert(all.end(), cb.bytes().begin(), cb.bytes().end());
    }
    auto make = [&](uapi::bo_create_args& a, std::unique_ptr<uapi::mapping>& m, uint64_t size, uint64_t va,
                    uint32_t flags) -> int {
        a.size = (size + 4095) & ~uint64_t{4095};
        a.flags = uapi::BO_DEVICE;
        if (int rc = dev.bo_create(a)) return rc;
        dev.bo_mmap(a.handle, m);
        uapi::vm_bind_args b;
        b.vm_id = st.vm;
        b.handle = a.handle;
        b.va = va;
        b.size = a.size;
        b.flags = flags;
        return dev.vm_bind(b);
    };
    if (int rc = make(st.cmds, st.cmds_map, all.size(), VA_CMD, uapi::VM_READ))
        return fail(ctx, "allocating the command buffers", rc);
    if (int rc = st.cmds_map->write(0, all.data(), all.size())) return fail(ctx, "writing the command buffers", rc);
    if (copy) {
        const uint64_t bytes = uint64_t{n} * 4096;
        if (int rc = make(st.src, st.src_map, bytes, VA_SRC, uapi::VM_READ | uapi::VM_WRITE))
            return fail(ctx, "allocating the source", rc);
        if (int rc = make(st.dst, st.dst_map, bytes, VA_DST, uapi::VM_READ | uapi::VM_WRITE))
            return fail(ctx, "allocating the destination", rc);
        if (ctx.functional) {
            st.data.resize(bytes);
            fill_pattern(st.data.data(), 0, bytes, ctx.seed);
            if (int rc = st.src_map->write(0, st.data.data(), bytes)) return fail(ctx, "writing the source", rc);
        } else if (int rc = st.src_map->write_timing_only(0, bytes)) {
            return fail(ctx, "writing the source", rc);
        }
    }
    if (p.queue == "user") {
        uapi::uq_create_args a;
        a.vm_id = st.vm;
        if (int rc = dev.uq_create(a)) return fail(ctx, "creating the user queue", rc);
        st.queue_id = a.queue_id;
        dev.uq_mmap(a.queue_id, st.uq);
    }
    return 0;
}

int submit_latency::submit_one(workload_context& ctx, const params& p, state& st, uint32_t i, uint32_t& id) {
    const bool copy = p.job == "copy4k";
    const uint64_t off = copy ? uint64_t{i} * st.cmd_bytes : 0;
    const uint32_t flags = copy ? 0u : uint32_t{AAX_JOB_NULL};
    if (copy) ++st.copies;
    if (st.uq) return st.uq->submit(VA_CMD + off, st.cmd_bytes, flags, id);
    uapi::submit_args s;
    s.queue = 0;
    s.cmdbuf_handle = st.cmds.handle;
    s.cmdbuf_offset = static_cast<uint32_t>(off);
    s.cmdbuf_size = st.cmd_bytes;
    s.flags = flags;
    s.vm_id = st.vm;
    const int rc = ctx.dev.submit(s);
    id = s.seq;
    return rc;
}

int submit_latency::wait_one(workload_context& ctx, const params& p, state& st, uint32_t id, uint64_t& start,
                             uint64_t& end) {
    const uint64_t timeout_ns = static_cast<uint64_t>(p.timeout_ms * 1e6);
    if (st.uq) {
        uapi::user_queue::completion c;
        const int rc = st.uq->wait(id, timeout_ns, &c);
        start = c.ts_start_ns;
        end = c.ts_end_ns;
        return rc;
    }
    uapi::wait_args w;
    w.seq = id;
    w.timeout_ns = timeout_ns;
    const int rc = ctx.dev.wait(w);
    start = w.ts_start_ns;
    end = w.ts_end_ns;
    return rc;
}

int submit_latency::submit(workload_context& ctx, const params& p, state& st) {
    // Phase 1: one job at a time.
    double call_ns = 0, to_start_ns = 0, max_to_start = 0;
    uint32_t i = 0;
    for (uint32_t k = 0; k < p.latency_jobs; ++k, ++i) {
        const uint64_t t0 = now_ps();
        uint32_t id = 0;
        if (int rc = submit_one(ctx, p, st, i, id)) return fail(ctx, "submitting a job", rc);
        call_ns += static_cast<double>(now_ps() - t0) / 1000.0;
        uint64_t start = 0, end = 0;
        if (int rc = wait_one(ctx, p, st, id, start, end)) return fail(ctx, "a job failed", rc);
        const double d = static_cast<double>(start) - static_cast<double>(t0) / 1000.0;
        to_start_ns += d;
        max_to_start = std::max(max_to_start, d);
    }
    // Phase 2: the queue kept full; on a full queue, wait for the oldest job.
    std::deque<uint32_t> pending;
    const uint64_t t_first = now_ps();
    uint64_t last_end = 0;
    double stream_call_ns = 0;
    for (uint32_t k = 0; k < p.jobs; ++k, ++i) {
        uint32_t id = 0;
        for (;;) {
            const uint64_t t0 = now_ps();
            const int rc = submit_one(ctx, p, st, i, id);
            if (rc == 0) {
                stream_call_ns += static_cast<double>(now_ps() - t0) / 1000.0;
                break;
            }
            if (p.job == "copy4k") --st.copies;  // (counted again when resubmitted)
            if (rc != -EBUSY || pending.empty()) return fail(ctx, "submitting a job", rc);
            uint64_t start = 0, end = 0;
            if (int w = wait_one(ctx, p, st, pending.front(), start, end)) return fail(ctx, "a job failed", w);
            last_end = std::max(last_end, end);
            pending.pop_front();
        }
        pending.push_back(id);
    }
    for (uint32_t id : pending) {
        uint64_t start = 0, end = 0;
        if (int w = wait_one(ctx, p, st, id, start, end)) return fail(ctx, "a job failed", w);
        last_end = std::max(last_end, end);
    }
    const double span_ns = static_cast<double>(last_end) - static_cast<double>(t_first) / 1000.0;
    ctx.summary["queue"] = p.queue;
    ctx.summary["job"] = p.job;
    ctx.summary["submit_call_ns"] = call_ns / p.latency_jobs;
    ctx.summary["submit_to_start_ns"] = to_start_ns / p.latency_jobs;
    ctx.summary["submit_to_start_max_ns"] = max_to_start;
    ctx.summary["stream_submit_call_ns"] = stream_call_ns / p.jobs;
    ctx.summary["stream_jobs"] = p.jobs;
    ctx.summary["stream_ns"] = span_ns;
    ctx.summary["jobs_per_ms"] = span_ns > 0 ? p.jobs / (span_ns / 1e6) : 0.0;
    ctx.summary["cycles"] = static_cast<uint64_t>(span_ns * ctx.soc.freq_hz() / 1e9 + 0.5);
    return 0;
}

int submit_latency::verify(workload_context& ctx, const params& p, state& st) {
    if (p.job == "copy4k") {
        std::vector<uint8_t> got(st.data.size());
        if (st.dst_map->peek(0, got.data(), got.size())) return fail(ctx, "reading back the destination", -EIO);
        if (got != st.data || st.copies != p.jobs + p.latency_jobs) {
            ctx.verified = false;
            ctx.error = "verification failed: a 4 KiB copy's destination differs from its source";
            return 1;
        }
    }
    ctx.verified = true;
    return 0;
}

} // namespace accelvp
