#include "platform/workloads/dma_copy.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "abi/aax_regs.h"
#include "platform/chip/chip.h"
#include "platform/host/cmdbuf.h"
#include "platform/host/uapi.h"
#include "platform/workloads/jobs.h"

namespace accelvp {

namespace {
uint64_t splitmix(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}
} // namespace

void fill_pattern(uint8_t* dst, uint64_t offset, uint64_t len, uint64_t seed) {
    const uint64_t key = splitmix(seed);
    for (uint64_t i = 0; i < len;) {
        const uint64_t pos = offset + i;
        const uint64_t w = splitmix(key ^ (pos >> 3));
        const uint64_t b = pos & 7;
        if (b == 0 && len - i >= 8) {
            std::memcpy(dst + i, &w, 8);
            i += 8;
        } else {
            dst[i] = static_cast<uint8_t>(w >> (8 * b));
            ++i;
        }
    }
}

const param_table<dma_copy_params>& dma_copy_params::table() {
    static const auto t =
        param_table<dma_copy_params>()
            .integer("bytes", &dma_copy_params::bytes, 1, 1ll << 40, "bytes to copy", "bytes")
            .string("direction", &dma_copy_params::direction, "copy direction: host->device, device->device, device->host",
                    {"h2d", "d2d", "d2h"})
            .integer("src_offset", &dma_copy_params::src_offset, 0, 1 << 20,
                     "byte offset of the source in its buffer (unaligned copies)", "bytes")
            .integer("dst_offset", &dma_copy_params::dst_offset, 0, 1 << 20, "byte offset of the destination in its buffer",
                     "bytes")
            .integer("queue", &dma_copy_params::queue, 0, AAX_MAX_RINGS - 1, "submission queue")
            .integer("queues", &dma_copy_params::queues, 1, 16,
                     "split the copy into this many equal jobs on queues workload.queue, +1, ... (ring r runs on DMA "
                     "engine r % dma.engines)")
            .integer("jobs_per_queue", &dma_copy_params::jobs_per_queue, 1, 128,
                     "split each queue's part into this many jobs, submitted at once (a stream of jobs, e.g. for "
                     "SR-IOV shares)")
            .string("vm", &dma_copy_params::vm,
                    "address space of the copy: none (bus addresses) or a VM with both buffers bound at device VAs "
                    "with 4 KiB or 2 MiB pages (needs mmu.enabled)",
                    {"none", "4k", "2m"})
            .real("timeout_ms", &dma_copy_params::timeout_ms, 0.001, 1e9, "host wait limit per job (simulated time)", "ms");
    return t;
}

namespace {
int fail(workload_context& ctx, const std::string& what, int rc) {
    ctx.error = fmt::format("{}: {}", what, std::strerror(-rc));
    return 1;
}
constexpr uint64_t fill_chunk = 4 << 20;  // the source is filled and verified in chunks
} // namespace

int dma_copy::plan(workload_context& ctx, const params& wp, state& st) {
    const uint64_t bytes = wp.bytes;
    const std::string& dir = wp.direction;
    const uint64_t so = wp.src_offset, dof = wp.dst_offset;
    auto& dev = ctx.dev;
    const bool src_host = dir == "h2d", dst_host = dir == "d2h";

    const std::string& vm = wp.vm;
    const uint32_t align = vm == "2m" ? uint32_t{uapi::BO_ALIGN_2M} : 0u;
    const uint64_t page = vm == "2m" ? 2ull << 20 : 4096;  // VM buffers are whole pages
    auto bo_size = [&](uint64_t n) { return vm == "none" ? n : (n + page - 1) & ~(page - 1); };
    st.src = {bo_size(bytes + so), (src_host ? uapi::BO_HOST : uapi::BO_DEVICE) | align};
    st.dst = {bo_size(bytes + dof), (dst_host ? uapi::BO_HOST : uapi::BO_DEVICE) | align};
    auto where = [](bool host, uint64_t n) {
        return fmt::format("{} bytes of {} memory", n, host ? "host" : "device");
    };
    if (int rc = dev.bo_create(st.src))
        return fail(ctx, "allocating the source buffer (" + where(src_host, st.src.size) + ")", rc);
    if (int rc = dev.bo_create(st.dst))
        return fail(ctx, "allocating the destination buffer (" + where(dst_host, st.dst.size) + ")", rc);
    dev.bo_mmap(st.src.handle, st.src_map);
    dev.bo_mmap(st.dst.handle, st.dst_map);

    // Fill the source with the seeded pattern, in chunks (host BO: memory; device BO: BAR2).
    std::vector<uint8_t> buf(static_cast<size_t>(std::min(bytes, fill_chunk)));
    // Timing mode takes the same time for it without generating or moving the data, so
    // the copy starts at the same simulated time and every cycle count matches.
    for (uint64_t off = 0; off < bytes; off += fill_chunk) {
        const uint64_t n = std::min(fill_chunk, bytes - off);
        int rc = 0;
        if (ctx.functional) {
            fill_pattern(buf.data(), off, n, ctx.seed);
            rc = st.src_map->write(so + off, buf.data(), n);
        } else {
            rc = st.src_map->write_timing_only(so + off, n);
        }
        if (rc) return fail(ctx, "writing the source buffer", rc);
    }

    // With a VM: bind both buffers at 1 TiB-apart device VAs (whole pages) and copy there.
    uapi::vm_create_args vmc;
    uint64_t src_va = st.src.device_va, dst_va = st.dst.device_va;
    if (vm != "none") {
        if (int rc = dev.vm_create(vmc)) return fail(ctx, "creating the VM (is mmu.enabled set?)", rc);
        src_va = 1ull << 40;
        dst_va = 2ull << 40;
        for (auto [bo, va] : {std::pair{&st.src, src_va}, std::pair{&st.dst, dst_va}}) {
            uapi::vm_bind_args b;
            b.vm_id = vmc.vm_id;
            b.handle = bo->handle;
            b.va = va;
            b.size = bo->size;
            b.flags = uapi::VM_READ | uapi::VM_WRITE | (vm == "4k" ? uint32_t{uapi::VM_4K_ONLY} : 0u);
            if (int rc = dev.vm_bind(b)) return fail(ctx, "binding a buffer in the VM", rc);
        }
    }

    // One job per queue, each copying a contiguous slice (4 KiB multiples but the last).
    const uint32_t queues = wp.queues;
    const uint32_t queue0 = wp.queue;
    const uint32_t jpq = wp.jobs_per_queue;
    const uint64_t slice = std::max<uint64_t>(4096, (bytes / (uint64_t{queues} * jpq) + 4095) & ~uint64_t{4095});
    for (uint64_t off = 0; off < bytes; off += slice) {
        cmdbuf_builder cb;
        cb.copy(src_va + so + off, dst_va + dof + off, std::min(slice, bytes - off));
        uapi::bo_create_args cmd{cb.size(), uapi::BO_DEVICE};
        if (int rc = dev.bo_create(cmd)) return fail(ctx, "allocating the command buffer", rc);
        st.cmd_maps.emplace_back();
        dev.bo_mmap(cmd.handle, st.cmd_maps.back());
        st.cmd_maps.back()->write(0, cb.bytes().data(), cb.size());
        uapi::submit_args sub;
        sub.queue = queue0 + static_cast<uint32_t>(st.subs.size() / jpq);
        sub.cmdbuf_handle = cmd.handle;
        sub.cmdbuf_size = cb.size();
        sub.vm_id = vmc.vm_id;
        st.subs.push_back(sub);
    }
    return 0;
}

int dma_copy::submit(workload_context& ctx, const params& wp, state& st) {
    auto& dev = ctx.dev;
    const uint64_t bytes = wp.bytes;
    const std::string& dir = wp.direction;
    const uint64_t t_submit = sc_core::sc_time_stamp().value();
    for (auto& sub : st.subs)
        if (int rc = dev.submit(sub)) return fail(ctx, "submitting the copy", rc);
    std::vector<uint32_t> seqs;
    for (const auto& sub : st.subs) seqs.push_back(sub.seq);
    const job_wait jw = wait_jobs(dev, seqs, static_cast<uint64_t>(wp.timeout_ms * 1e6));
    if (jw.rc) {
        ctx.error = "copy job failed: " + job_failure(dev, jw.rc, jw.failed_wait);
        return 1;
    }
    const uint64_t t_done = sc_core::sc_time_stamp().value();

    const double device_ns = static_cast<double>(jw.span_ns());
    double peak = dir == "h2d" ? ctx.soc.peak_h2d() : dir == "d2h" ? ctx.soc.peak_d2h() : ctx.soc.peak_d2d();
    if (dir == "d2d" && st.subs.size() > 1) {  // several engines share the memory
        const double engines = static_cast<double>(ctx.soc.dma.size());
        const double used = std::min(engines, static_cast<double>(st.subs.size()));
        peak = std::min(ctx.soc.devmem_peak() / 2, ctx.soc.dma_peak() / engines * used);
    }
    const double bw = device_ns > 0 ? static_cast<double>(bytes) / device_ns : 0.0;  // bytes/ns == GB/s
    ctx.summary["bytes"] = bytes;
    ctx.summary["direction"] = dir;
    ctx.summary["device_ns"] = device_ns;
    ctx.summary["job_latency_ns"] = static_cast<double>(t_done - t_submit) / 1000.0;
    ctx.summary["bandwidth_gbps"] = bw;
    ctx.summary["peak_gbps"] = peak / 1e9;
    ctx.summary["efficiency"] = peak > 0 ? bw / (peak / 1e9) : 0.0;
    ctx.summary["cycles"] = static_cast<uint64_t>(device_ns * ctx.soc.freq_hz() / 1e9 + 0.5);
    return 0;
}

// Outside the timed region, with debugger reads (no simulated time).
int dma_copy::verify(workload_context& ctx, const params& wp, state& st) {
    const uint64_t bytes = wp.bytes;
    const size_t n0 = static_cast<size_t>(std::min(bytes, fill_chunk));
    std::vector<uint8_t> want(n0), got(n0);
    for (uint64_t off = 0; off < bytes; off += fill_chunk) {
        const uint64_t n = std::min(fill_chunk, bytes - off);
        fill_pattern(want.data(), off, n, ctx.seed);
        if (st.dst_map->peek(wp.dst_offset + off, got.data(), n)) return fail(ctx, "reading back the destination", -EIO);
        if (std::memcmp(want.data(), got.data(), n) != 0) {
            uint64_t i = 0;
            while (want[i] == got[i]) ++i;
            ctx.verified = false;
            ctx.error = fmt::format("verification failed: byte {} is 0x{:02x}, expected 0x{:02x}", off + i, got[i],
                                    want[i]);
            return 1;
        }
    }
    ctx.verified = true;
    return 0;
}

} // namespace accelvp
