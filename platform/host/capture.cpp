#include "platform/host/capture.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "abi/aax_queue.h"
#include "platform/host/driver.h"

namespace accelvp {

namespace {
capture_recorder* g_active = nullptr;

template <class T>
T field(const std::vector<uint8_t>& b, size_t pos) {
    T v{};
    std::memcpy(&v, b.data() + pos, sizeof v);
    return v;
}
} // namespace

capture_recorder* capture_recorder::active() { return g_active; }
void capture_recorder::set_active(capture_recorder* r) { g_active = r; }

void capture_recorder::on_bo_create(uint64_t va, uint64_t cpu_addr, uint64_t size, bool host) {
    buffer b;
    b.va = va;
    b.cpu = cpu_addr;
    b.size = size;
    b.host = host;
    live_[va] = buffers_.size();
    buffers_.push_back(b);
}

void capture_recorder::on_bo_free(uint64_t va) { live_.erase(va); }

size_t capture_recorder::find(uint64_t va) const {
    auto it = live_.upper_bound(va);
    if (it == live_.begin()) return SIZE_MAX;
    --it;
    const buffer& b = buffers_[it->second];
    return va - b.va < b.size ? it->second : SIZE_MAX;
}

bool capture_recorder::read(driver& drv, uint64_t va, std::vector<uint8_t>& out) {
    const size_t i = find(va);
    if (i == SIZE_MAX || out.size() > buffers_[i].size - (va - buffers_[i].va)) return false;
    return drv.host().cpu.peek(buffers_[i].cpu + (va - buffers_[i].va), out.data(), out.size());
}

void capture_recorder::collect_refs(driver& drv, const std::vector<uint8_t>& cmds, int depth,
                                    std::vector<uint64_t>& out) {
    for (size_t pos = 0; pos + 8 <= cmds.size();) {
        const auto hdr = field<aax_pkt_hdr>(cmds, pos);
        const size_t len = size_t{hdr.size_qw} * 8;
        if (len == 0 || len > cmds.size() - pos) break;  // the device rejects it; nothing further runs
        auto at = [&](size_t off) { return pos + off + 8 <= pos + len ? field<uint64_t>(cmds, pos + off) : 0; };
        switch (hdr.opcode) {
        case AAX_OP_DMA:
            out.push_back(at(offsetof(aax_pkt_dma, src)));
            out.push_back(at(offsetof(aax_pkt_dma, dst)));
            break;
        case AAX_OP_FENCE: out.push_back(at(offsetof(aax_pkt_fence, addr))); break;
        case AAX_OP_MSG: out.push_back(at(offsetof(aax_pkt_msg, addr))); break;
        case AAX_OP_COLL: out.push_back(at(offsetof(aax_pkt_coll, local_addr))); break;
        case AAX_OP_JUMP:
        case AAX_OP_CALL: {
            const uint64_t a = at(offsetof(aax_pkt_jump, addr));
            out.push_back(a);
            if (depth < 4 && len >= sizeof(aax_pkt_jump)) {
                std::vector<uint8_t> sub(std::min<uint32_t>(field<uint32_t>(cmds, pos + offsetof(aax_pkt_jump, size)),
                                                            AAX_MAX_CMDBUF_SIZE) &
                                         ~7u);
                if (read(drv, a, sub)) collect_refs(drv, sub, depth + 1, out);
            }
            break;
        }
        default: break;
        }
        pos += len;
    }
}

void capture_recorder::snapshot(driver& drv, size_t i) {
    buffer& b = buffers_[i];
    b.used = true;
    if (!with_data_) return;
    std::vector<uint8_t> now(b.size);
    if (!drv.host().cpu.peek(b.cpu, now.data(), now.size())) return;
    auto it = last_.find(i);
    // Unchanged since the capture last wrote it (or all zero, as a new buffer starts): nothing.
    if (it != last_.end() ? it->second == now
                          : std::all_of(now.begin(), now.end(), [](uint8_t v) { return v == 0; }))
        return;
    step s;
    s.kind = step::data;
    s.buf = i;
    s.bytes = now;
    steps_.push_back(std::move(s));
    last_[i] = std::move(now);
}

void capture_recorder::on_submit(driver& drv, uint32_t queue, uint64_t cmd_va, uint32_t size, uint32_t flags,
                                 uint32_t timeout_us, uint32_t vm_id) {
    step j;
    j.kind = step::job;
    j.queue = queue;
    j.flags = flags;
    j.timeout_us = timeout_us;
    j.vm_id = vm_id;
    j.cmds.resize(size);
    read(drv, cmd_va, j.cmds);
    j.cmd_buf = find(cmd_va);
    if (j.cmd_buf != SIZE_MAX) j.cmd_offset = cmd_va - buffers_[j.cmd_buf].va;
    std::vector<uint64_t> refs;
    if (vm_id == 0) collect_refs(drv, j.cmds, 0, refs);  // VM jobs hold device VAs, not bus addresses
    std::vector<size_t> bufs;
    for (uint64_t a : refs)
        if (const size_t i = find(a); i != SIZE_MAX && i != j.cmd_buf) bufs.push_back(i);
    std::sort(bufs.begin(), bufs.end());
    bufs.erase(std::unique(bufs.begin(), bufs.end()), bufs.end());
    for (size_t i : bufs) snapshot(drv, i);
    steps_.push_back(std::move(j));
}

void capture_recorder::finish(driver& drv) {
    if (!with_data_) return;
    for (const auto& [va, i] : live_) {
        if (!buffers_[i].used) continue;
        std::vector<uint8_t> now(buffers_[i].size);
        if (drv.host().cpu.peek(buffers_[i].cpu, now.data(), now.size())) final_[i] = std::move(now);
    }
}

void capture_recorder::on_submitted(int rc, uint32_t seq) {
    if (steps_.empty() || steps_.back().kind != step::job) return;
    if (rc != 0) {  // refused: it never ran (its data steps stay: harmless)
        steps_.pop_back();
        return;
    }
    steps_.back().seq = seq;
    job_of_seq_[seq] = steps_.size() - 1;
}

void capture_recorder::on_wait(uint32_t seq, int rc, uint8_t status, uint64_t ts_start_ns, uint64_t ts_end_ns) {
    auto it = job_of_seq_.find(seq);
    if (it == job_of_seq_.end() || rc == -ETIMEDOUT) return;
    step& j = steps_[it->second];
    if (!j.waited) {
        j.waited = true;
        j.status = status;
        j.ts_start_ns = ts_start_ns;
        j.ts_end_ns = ts_end_ns;
    }
    // A wait between two submits: the next jobs may depend on the host having seen this one.
    if (steps_.back().kind != step::wait) {
        step w;
        w.kind = step::wait;
        w.seq = seq;
        steps_.push_back(std::move(w));
    }
}

} // namespace accelvp

// ---- The Linux-guest path (accelvp qemu --capture) ----------------------------------------

namespace accelvp {

namespace {
// A range larger than this is not snapshotted (a garbage packet would read gigabytes).
constexpr uint64_t max_range = 256ull << 20;
} // namespace

void capture_recorder::collect_extents(const bus_reader& rd, const std::vector<uint8_t>& cmds, int depth,
                                       std::vector<std::pair<uint64_t, uint64_t>>& out) {
    auto add = [&](uint64_t a, uint64_t n) {
        if (n > 0 && n <= max_range && a + n > a) out.emplace_back(a, n);
    };
    for (size_t pos = 0; pos + 8 <= cmds.size();) {
        const auto hdr = field<aax_pkt_hdr>(cmds, pos);
        const size_t len = size_t{hdr.size_qw} * 8;
        if (len == 0 || len > cmds.size() - pos) break;
        auto at = [&](size_t off, size_t n) {
            uint64_t v = 0;
            if (off + n <= len) std::memcpy(&v, cmds.data() + pos + off, n);
            return v;
        };
        switch (hdr.opcode) {
        case AAX_OP_DMA: {
            if (len < sizeof(aax_pkt_dma)) break;
            const uint64_t w = at(offsetof(aax_pkt_dma, width), 8);
            const uint64_t h = at(offsetof(aax_pkt_dma, height), 4);
            if (w == 0 || h == 0 || w > max_range) break;
            const uint64_t ss = at(offsetof(aax_pkt_dma, src_stride), 8), ds = at(offsetof(aax_pkt_dma, dst_stride), 8);
            auto extent = [&](uint64_t stride) {
                return h == 1 ? w : (stride > max_range / h ? max_range + 1 : (h - 1) * stride + w);
            };
            if (!(hdr.param & AAX_DMA_FILL)) add(at(offsetof(aax_pkt_dma, src), 8), extent(ss));
            add(at(offsetof(aax_pkt_dma, dst), 8), extent(ds));
            break;
        }
        case AAX_OP_FENCE: add(at(offsetof(aax_pkt_fence, addr), 8), 8); break;
        case AAX_OP_MSG: add(at(offsetof(aax_pkt_msg, addr), 8), 4); break;
        case AAX_OP_COLL: add(at(offsetof(aax_pkt_coll, local_addr), 8), at(offsetof(aax_pkt_coll, bytes), 8)); break;
        case AAX_OP_JUMP:
        case AAX_OP_CALL: {
            const uint64_t a = at(offsetof(aax_pkt_jump, addr), 8);
            const uint64_t n = std::min<uint64_t>(at(offsetof(aax_pkt_jump, size), 4), AAX_MAX_CMDBUF_SIZE) & ~7ull;
            add(a, n);
            if (depth < 4 && n > 0) {
                std::vector<uint8_t> sub(n);
                if (rd(a, sub.data(), sub.size())) collect_extents(rd, sub, depth + 1, out);
            }
            break;
        }
        default: break;
        }
        pos += len;
    }
}

std::vector<capture_recorder::bus_range> capture_recorder::read_ranges(
    const bus_reader& rd, const std::vector<std::pair<uint64_t, uint64_t>>& refs) {
    std::vector<bus_range> out;
    for (const auto& [a, n] : refs) {
        bus_range r;
        r.addr = a;
        r.bytes.resize(n);
        if (rd(a, r.bytes.data(), r.bytes.size())) out.push_back(std::move(r));
    }
    return out;
}

size_t capture_recorder::bus_job(const bus_reader& rd, uint32_t ring, uint64_t cmd_addr, uint32_t cmd_size,
                                 uint32_t flags, uint32_t timeout_us, uint32_t asid, uint32_t job_id) {
    bus_job_rec j;
    j.ring = ring;
    j.flags = flags;
    j.timeout_us = timeout_us;
    j.asid = asid;
    j.job_id = job_id;
    if (cmd_size >= 8 && cmd_size <= AAX_MAX_CMDBUF_SIZE && !(cmd_size & 7)) {
        j.cmds.resize(cmd_size);
        if (!rd(cmd_addr, j.cmds.data(), j.cmds.size())) j.cmds.clear();
    }
    // VM jobs hold device virtual addresses: nothing the VP could read at their face value.
    if (asid == 0 && !j.cmds.empty()) {
        std::vector<std::pair<uint64_t, uint64_t>> refs;
        collect_extents(rd, j.cmds, 0, refs);
        j.at_submit = read_ranges(rd, refs);
        // Only what the VP could read becomes a buffer: cluster SRAM and register addresses
        // stay literal in the packets (the same on the replay's chip), as do addresses that
        // decode nowhere (the job faults there, in the guest and in the replay).
        for (const auto& r : j.at_submit) j.refs.emplace_back(r.addr, r.bytes.size());
    }
    bus_jobs_.push_back(std::move(j));
    bus_events_.emplace_back(bus_jobs_.size() - 1, false);
    return bus_jobs_.size() - 1;
}

bool capture_recorder::bus_complete(const bus_reader& rd, uint32_t ring, uint32_t job_id, uint8_t status,
                                    uint64_t ts_start_ns, uint64_t ts_end_ns) {
    for (size_t i = bus_jobs_.size(); i-- > 0;) {
        bus_job_rec& j = bus_jobs_[i];
        if (j.ring != ring || j.job_id != job_id) continue;
        if (j.done) return false;
        j.done = true;
        j.status = status;
        j.ts_start_ns = ts_start_ns;
        j.ts_end_ns = ts_end_ns;
        j.at_complete = read_ranges(rd, j.refs);
        bus_events_.emplace_back(i, true);
        ++bus_done_;
        return true;
    }
    return false;
}

void capture_recorder::bus_finish(uint64_t host_window) {
    buffers_.clear();
    live_.clear();
    steps_.clear();
    last_.clear();
    final_.clear();
    skipped_.clear();
    std::vector<bool> replay(bus_jobs_.size());
    for (size_t i = 0; i < bus_jobs_.size(); ++i) {
        const auto& j = bus_jobs_[i];
        std::string why;
        if (j.cmds.empty())
            why = "its command buffer could not be read";
        else if (j.asid != 0)
            why = "it ran in address space " + std::to_string(j.asid) + " (device virtual addresses)";
        else if (!j.done)
            why = "no completion record (dropped by a ring or device reset, or still running at the end)";
        else if (j.status != 0)
            why = "it failed in the guest (status " + std::to_string(j.status) + ")";
        replay[i] = why.empty();
        if (!why.empty()) skipped_.push_back({j.ring, j.job_id, why});
    }
    // Buffers: the ranges the replayed jobs touch, merged where they overlap or touch.
    std::vector<std::pair<uint64_t, uint64_t>> spans;  // (begin, end)
    for (size_t i = 0; i < bus_jobs_.size(); ++i)
        if (replay[i])
            for (const auto& [a, n] : bus_jobs_[i].refs) spans.emplace_back(a, a + n);
    std::sort(spans.begin(), spans.end());
    for (const auto& [b, e] : spans) {
        if (!buffers_.empty() && b <= buffers_.back().va + buffers_.back().size) {
            buffer& last = buffers_.back();
            last.size = std::max(last.size, e - last.va);
            continue;
        }
        buffer nb;
        nb.va = b;
        nb.size = e - b;
        nb.host = b >= host_window;
        nb.used = true;
        buffers_.push_back(nb);
    }
    for (size_t i = 0; i < buffers_.size(); ++i) live_[buffers_[i].va] = i;
    // Replay the history: each buffer's contents as the VP saw them, in event order.
    std::vector<std::vector<uint8_t>> cur(buffers_.size());
    for (size_t i = 0; i < buffers_.size(); ++i) cur[i].assign(buffers_[i].size, 0);
    auto apply = [&](const std::vector<bus_range>& rs) {
        for (const auto& r : rs) {
            const uint64_t rb = r.addr, re = r.addr + r.bytes.size();
            for (size_t i = 0; i < buffers_.size(); ++i) {
                const uint64_t bb = buffers_[i].va, be = bb + buffers_[i].size;
                const uint64_t lo = std::max(rb, bb), hi = std::min(re, be);
                if (lo < hi) std::memcpy(cur[i].data() + (lo - bb), r.bytes.data() + (lo - rb), hi - lo);
            }
        }
    };
    bool any_job = false;
    size_t outstanding = 0;  // jobs submitted that completed later (dropped ones never do)
    for (const auto& [ji, completion] : bus_events_) {
        const auto& j = bus_jobs_[ji];
        if (completion) {
            apply(j.at_complete);
            --outstanding;
            continue;
        }
        apply(j.at_submit);
        const bool idle = outstanding == 0;
        if (j.done) ++outstanding;
        if (!replay[ji]) continue;
        if (idle && any_job) {
            step w;
            w.kind = step::wait;
            steps_.push_back(std::move(w));
        }
        std::vector<size_t> bufs;
        for (const auto& [a, n] : j.refs)
            if (const size_t i = find(a); i != SIZE_MAX) bufs.push_back(i);
        std::sort(bufs.begin(), bufs.end());
        bufs.erase(std::unique(bufs.begin(), bufs.end()), bufs.end());
        for (size_t i : bufs) {
            auto it = last_.find(i);
            if (it != last_.end() ? it->second == cur[i]
                                  : std::all_of(cur[i].begin(), cur[i].end(), [](uint8_t v) { return v == 0; }))
                continue;
            step s;
            s.kind = step::data;
            s.buf = i;
            s.bytes = cur[i];
            steps_.push_back(std::move(s));
            last_[i] = cur[i];
        }
        step s;
        s.kind = step::job;
        s.queue = j.ring;
        s.flags = j.flags;
        s.timeout_us = j.timeout_us;
        s.seq = j.job_id;
        s.cmds = j.cmds;
        s.waited = true;
        s.status = j.status;
        s.ts_start_ns = j.ts_start_ns;
        s.ts_end_ns = j.ts_end_ns;
        steps_.push_back(std::move(s));
        any_job = true;
    }
    if (with_data_)
        for (size_t i = 0; i < buffers_.size(); ++i) final_[i] = std::move(cur[i]);
}

} // namespace accelvp
