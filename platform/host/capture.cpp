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
