#include "platform/host/uapi.h"

#include "abi/aax_regs.h"

#include <algorithm>
#include <cerrno>

#include "abi/aax_mmu.h"
#include "abi/aax_queue.h"
#include "platform/host/capture.h"

namespace accelvp::uapi {

int mapping::write(uint64_t off, const void* src, uint64_t len) {
    if (off > size_ || len > size_ - off) return -EINVAL;
    if (host_) return drv_->host().cpu.mem_write(addr_ + off, src, len) ? 0 : -EFAULT;
    return drv_->host().cpu.mmio_write(drv_->device_to_bar2(addr_ + off), src, len) ? 0 : -EIO;
}

int mapping::write_timing_only(uint64_t off, uint64_t len) {
    if (off > size_ || len > size_ - off) return -EINVAL;
    if (host_) return 0;  // host memory writes take no simulated time
    return drv_->host().cpu.mmio_write_timing_only(drv_->device_to_bar2(addr_ + off), len) ? 0 : -EIO;
}

int mapping::read(uint64_t off, void* dst, uint64_t len) {
    if (off > size_ || len > size_ - off) return -EINVAL;
    if (host_) return drv_->host().cpu.mem_read(addr_ + off, dst, len) ? 0 : -EFAULT;
    return drv_->host().cpu.mmio_read(drv_->device_to_bar2(addr_ + off), dst, len) ? 0 : -EIO;
}

int mapping::peek(uint64_t off, void* dst, uint64_t len) {
    if (off > size_ || len > size_ - off) return -EINVAL;
    const uint64_t a = host_ ? addr_ + off : drv_->device_to_bar2(addr_ + off);
    return drv_->host().cpu.peek(a, dst, len) ? 0 : -EIO;
}

std::unique_ptr<device> device::open(driver& d, int* err, bool privileged) {
    if (d.rings() == 0) {
        if (err) *err = -ENODEV;
        return nullptr;
    }
    if (err) *err = 0;
    return std::unique_ptr<device>(new device(d, privileged));
}

device::~device() {
    // Like close(): tear down the file's address spaces -- on the device only from a thread
    // that may still wait (not while the simulation unwinds it).
    const auto proc = sc_core::sc_get_current_process_handle();
    const bool can_wait = proc.valid() && proc.proc_kind() == sc_core::SC_THREAD_PROC_ && !sc_core::sc_is_unwinding();
    // User queues first (revoked: their rings are reset), then the address spaces they ran in.
    for (auto& [q, u] : uqs_) {
        *u.valid = false;
        if (can_wait) drv_.uq_destroy(q);
    }
    for (const auto& [id, b] : vms_) drv_.vm()->destroy(static_cast<uint16_t>(id), can_wait);
    for (const auto& [h, b] : bos_) b.host ? drv_.free_host(b.addr) : drv_.free_device(b.addr);
    for (const auto& b : freed_in_flight_) b.host ? drv_.free_host(b.addr) : drv_.free_device(b.addr);
}

void device::release(const bo& b) {
    b.host ? drv_.free_host(b.addr) : drv_.free_device(b.addr);
    if (auto* cap = capture_recorder::active()) cap->on_bo_free(b.host ? drv_.host_to_device_addr(b.addr) : b.addr);
}

void device::drop_finished(std::vector<uint32_t>& jobs) const {
    jobs.erase(std::remove_if(jobs.begin(), jobs.end(), [&](uint32_t seq) { return !drv_.is_pending(seq); }),
               jobs.end());
}

void device::release_finished() {
    for (auto it = freed_in_flight_.begin(); it != freed_in_flight_.end();) {
        auto& jobs = it->jobs;
        drop_finished(jobs);
        if (jobs.empty()) {
            release(*it);
            it = freed_in_flight_.erase(it);
        } else {
            ++it;
        }
    }
}

int device::get_info(info_args& a) {
    const auto& i = drv_.info();
    a.abi_version = i.abi_version;
    a.queues = drv_.rings();
    a.semaphores = i.semaphores;
    a.dma_engines = i.dma_engines;
    a.devmem_size = i.devmem_size;
    return 0;
}

int device::bo_create(bo_create_args& a) {
    if (a.size == 0 || (a.flags & ~(BO_HOST | BO_ALIGN_2M))) return -EINVAL;
    const bool host = a.flags & BO_HOST;
    const uint64_t size = (a.size + 4095) & ~4095ull;
    if (size < a.size) return -EINVAL;
    const uint64_t align = (a.flags & BO_ALIGN_2M) ? 2ull << 20 : 4096;
    release_finished();
    auto addr = host ? drv_.alloc_host(size, align) : drv_.alloc_device(size, align);
    if (!addr) return -ENOMEM;
    a.handle = next_handle_++;
    a.device_va = host ? drv_.host_to_device_addr(*addr) : *addr;
    bos_[a.handle] = bo{a.size, host, *addr, {}};
    if (auto* cap = capture_recorder::active())
        cap->on_bo_create(a.device_va, host ? *addr : drv_.device_to_bar2(*addr), a.size, host);
    return 0;
}

int device::bo_free(uint32_t handle) {
    auto it = bos_.find(handle);
    if (it == bos_.end()) return -ENOENT;
    for (const auto& [id, m] : vms_)
        for (const auto& [va, b] : m)
            if (b.handle == handle) return -EBUSY;
    freed_in_flight_.push_back(std::move(it->second));  // released below once its jobs are signalled
    bos_.erase(it);
    release_finished();
    return 0;
}

int device::bo_mmap(uint32_t handle, std::unique_ptr<mapping>& out) {
    auto it = bos_.find(handle);
    if (it == bos_.end()) return -ENOENT;
    out.reset(new mapping(drv_, it->second.host, it->second.addr, it->second.size));
    return 0;
}

int device::submit(submit_args& a) {
    // The system call: entry, the driver's checks, its job and fence (host.driver.ioctl_ns).
    if (drv_.ioctl_ns() > 0) sc_core::wait(sc_core::sc_time(drv_.ioctl_ns(), sc_core::SC_NS));
    auto it = bos_.find(a.cmdbuf_handle);
    if (it == bos_.end()) return -ENOENT;
    const bo& b = it->second;
    if (a.cmdbuf_size == 0 || a.cmdbuf_offset > b.size || a.cmdbuf_size > b.size - a.cmdbuf_offset) return -EINVAL;
    const uint64_t va = (b.host ? drv_.host_to_device_addr(b.addr) : b.addr) + a.cmdbuf_offset;
    if (a.vm_id && !vms_.count(a.vm_id)) return -ENOENT;  // only this file's address spaces
    // With an MMU, physical access (a job without a context, a descriptor fence the device
    // writes at a bus address) is the kernel's: ordinary files run in their own contexts.
    if (drv_.vm() && !privileged_ && (a.vm_id == 0 || (a.flags & AAX_JOB_WRITE_FENCE))) return -EPERM;
    // A capture reads the job and its buffers before the doorbell (the job may start at once).
    auto* cap = capture_recorder::active();
    if (cap) cap->on_submit(drv_, a.queue, va, a.cmdbuf_size, a.flags, a.timeout_us, a.vm_id);
    const int rc = drv_.submit(a.queue, va, a.cmdbuf_size, a.flags, a.timeout_us, a.seq, static_cast<uint16_t>(a.vm_id));
    if (cap) cap->on_submitted(rc, a.seq);
    if (rc == 0) {
        auto& jobs = it->second.jobs;  // the BO's jobs still in flight, and this one
        drop_finished(jobs);
        jobs.push_back(a.seq);
    }
    return rc;
}

int device::wait(wait_args& a) {
    fence_result r;
    const int rc = drv_.wait(a.seq, sc_core::sc_time(static_cast<double>(a.timeout_ns), sc_core::SC_NS), &r);
    if (rc == -ETIMEDOUT && !drv_.is_signaled(a.seq)) return rc;
    if (rc == -EINVAL && !drv_.is_signaled(a.seq)) return rc;
    a.status = r.status;
    a.ts_start_ns = r.ts_start_ns;
    a.ts_end_ns = r.ts_end_ns;
    a.err_offset = r.err_offset;
    if (auto* cap = capture_recorder::active()) cap->on_wait(a.seq, rc, a.status, a.ts_start_ns, a.ts_end_ns);
    return rc;
}

int device::vm_create(vm_create_args& a) {
    if (!drv_.vm()) return -ENODEV;
    uint16_t asid = 0;
    if (int rc = drv_.vm()->create(asid)) return rc;
    a.vm_id = asid;
    vms_[asid];
    return 0;
}

int device::vm_destroy(uint32_t vm_id) {
    if (!vms_.count(vm_id)) return -ENOENT;
    vms_.erase(vm_id);
    return drv_.vm()->destroy(static_cast<uint16_t>(vm_id));
}

int device::vm_bind(vm_bind_args& a) {
    auto v = vms_.find(a.vm_id);
    if (v == vms_.end()) return -ENOENT;
    auto it = bos_.find(a.handle);
    if (it == bos_.end()) return -ENOENT;
    const bo& b = it->second;
    const uint64_t bo_size = (b.size + 4095) & ~4095ull;  // BOs are whole pages
    if ((a.flags & ~(VM_READ | VM_WRITE | VM_EXEC | VM_4K_ONLY)) || a.bo_offset > bo_size || a.size > bo_size - a.bo_offset)
        return -EINVAL;
    const uint64_t pa = (b.host ? drv_.host_to_device_addr(b.addr) : b.addr) + a.bo_offset;
    const uint64_t perms = ((a.flags & VM_READ) ? AAX_PTE_READ : 0) | ((a.flags & VM_WRITE) ? AAX_PTE_WRITE : 0) |
                           ((a.flags & VM_EXEC) ? AAX_PTE_EXEC : 0);
    if (int rc = drv_.vm()->bind(static_cast<uint16_t>(a.vm_id), a.va, pa, a.size, perms, !(a.flags & VM_4K_ONLY)))
        return rc;
    v->second[a.va] = binding{a.handle, a.size};
    return 0;
}

int device::vm_unbind(vm_unbind_args& a) {
    auto v = vms_.find(a.vm_id);
    if (v == vms_.end()) return -ENOENT;
    auto b = v->second.find(a.va);
    if (b == v->second.end() || b->second.size != a.size) return -EINVAL;
    if (int rc = drv_.vm()->unbind(static_cast<uint16_t>(a.vm_id), a.va, a.size)) return rc;
    v->second.erase(b);
    return 0;
}

int device::last_mmu_fault(mmu_fault& out) const {
    if (!drv_.vm()) return -ENOENT;
    const auto& f = drv_.vm()->faults();
    for (auto it = f.rbegin(); it != f.rend(); ++it)
        if (privileged_ || vms_.count(it->asid)) {
            out = *it;
            return 0;
        }
    return -ENOENT;
}

int device::perf_start(bool clear) {
    return drv_.perf_control((clear ? AAX_PERF_CTRL_CLEAR : 0u) | AAX_PERF_CTRL_START);
}
int device::perf_stop() { return drv_.perf_control(AAX_PERF_CTRL_STOP); }
int device::perf_sample(perf_snapshot& out, bool clear) { return drv_.perf_read(out, clear ? AAX_PERF_CTRL_CLEAR : 0u); }

int device::last_error(error_record& out) const {
    const auto& e = drv_.errors();
    for (auto it = e.rbegin(); it != e.rend(); ++it)
        if (privileged_ || !drv_.vm() || (it->asid && vms_.count(it->asid))) {
            out = *it;
            return 0;
        }
    return -ENOENT;
}

// ---- user queues ------------------------------------------------------------------------

int device::uq_create(uq_create_args& a) {
    if (!drv_.vm()) return -ENODEV;
    if (!vms_.count(a.vm_id)) return -ENOENT;  // only this file's address spaces
    driver::user_queue_info q;
    if (int rc = drv_.uq_create(static_cast<uint16_t>(a.vm_id), a.entries_log2, q)) return rc;
    a.queue_id = q.ring;
    a.entries = q.entries;
    a.cq_entries = q.cq_entries;
    uqs_[q.ring] = uq_file{q, std::make_shared<bool>(true)};
    return 0;
}

int device::uq_destroy(uint32_t queue_id) {
    auto it = uqs_.find(queue_id);
    if (it == uqs_.end()) return -ENOENT;
    *it->second.valid = false;  // the process's mapping is gone with it
    uqs_.erase(it);
    return drv_.uq_destroy(queue_id);
}

int device::uq_mmap(uint32_t queue_id, std::unique_ptr<user_queue>& out) {
    auto it = uqs_.find(queue_id);
    if (it == uqs_.end()) return -ENOENT;
    out.reset(new user_queue(drv_, it->second.info, it->second.valid));
    return 0;
}

int user_queue::submit(uint64_t cmdbuf_va, uint32_t size, uint32_t flags, uint32_t& job_id, uint32_t timeout_us) {
    if (!*valid_ || drv_->uq_revoked(ring_)) return -ENODEV;
    if (drv_->uq_stopped(ring_)) return -EIO;
    take_records();  // frees slots, and the CQ head published below is current
    if (inflight_.size() + 1 >= std::min(info_.entries, info_.cq_entries)) return -EBUSY;
    aax_job_desc d{};
    d.cmdbuf_addr = cmdbuf_va;
    d.cmdbuf_size = size;
    d.job_id = job_id = next_id_++;
    d.flags = flags | AAX_JOB_IRQ | AAX_JOB_TIMESTAMP;
    d.timeout_us = timeout_us;
    d.asid = info_.asid;
    auto& cpu = drv_->host().cpu;
    const uint64_t slots = drv_->device_to_bar2(info_.mem + AAX_UQ_HEADER_SIZE);
    cpu.mmio_write(slots + uint64_t{wptr_} * AAX_JOB_DESC_SIZE, &d, sizeof(d));
    wptr_ = (wptr_ + 1) % info_.entries;
    inflight_.push_back(job_id);
    publish_raw(wptr_, cq_head_);
    cpu.mmio_write32(drv_->uq_doorbell_page() + (AAX_UQ_DOORBELL(ring_) - AAX_UQ_WINDOW_BASE), 1);
    return 0;
}

void user_queue::publish_raw(uint32_t wptr, uint32_t cq_head) {
    const uint32_t h[2] = {wptr, cq_head};  // one 8-byte posted write: wptr and cq_head together
    drv_->host().cpu.mmio_write(drv_->device_to_bar2(info_.mem), h, sizeof(h));
}

void user_queue::ring_doorbell_of(unsigned queue) {
    drv_->host().cpu.mmio_write32(drv_->uq_doorbell_page() + (AAX_UQ_DOORBELL(queue) - AAX_UQ_WINDOW_BASE), 1);
}

int user_queue::take_records() {
    if (!*valid_) return 0;
    int n = 0;
    for (;;) {
        aax_cq_entry e{};
        drv_->host().cpu.mem_read(info_.cq_host + uint64_t{cq_head_} * AAX_CQ_ENTRY_SIZE, &e, sizeof(e));
        if (((e.flags & AAX_CQE_PHASE) != 0) != phase_) break;
        completion c;
        c.job_id = e.job_id;
        c.status = e.status;
        c.ts_start_ns = e.ts_start;
        c.ts_end_ns = e.ts_end;
        c.err_offset = e.err_offset;
        c.err_opcode = static_cast<uint8_t>(e.err_info & 0xFF);
        done_[c.job_id] = c;
        for (auto i = inflight_.begin(); i != inflight_.end(); ++i)
            if (*i == c.job_id) {
                inflight_.erase(i);
                break;
            }
        if (++cq_head_ == info_.cq_entries) {
            cq_head_ = 0;
            phase_ = !phase_;
        }
        ++n;
    }
    return n;
}

int user_queue::poll(completion& c) {
    take_records();
    if (done_.empty()) return 0;
    c = done_.begin()->second;
    done_.erase(done_.begin());
    return 1;
}

int user_queue::wait(uint32_t job_id, uint64_t timeout_ns, completion* out) {
    const sc_core::sc_time deadline = sc_core::sc_time_stamp() + sc_core::sc_time(static_cast<double>(timeout_ns), sc_core::SC_NS);
    for (;;) {
        take_records();
        if (auto it = done_.find(job_id); it != done_.end()) {
            if (out) *out = it->second;
            const int rc = driver::errno_of(it->second.status);
            done_.erase(it);
            return rc;
        }
        if (!*valid_ || drv_->uq_revoked(ring_)) return -ENODEV;
        const bool queued = std::find(inflight_.begin(), inflight_.end(), job_id) != inflight_.end();
        if (!queued) return -EINVAL;  // not a job of this queue (or its record was taken by poll)
        if (drv_->uq_stopped(ring_)) {
            // Stopped: the failed job's record is there (taken above); the ones behind it never run.
            inflight_.erase(std::find(inflight_.begin(), inflight_.end(), job_id));
            return -EIO;
        }
        if (sc_core::sc_time_stamp() >= deadline) return -ETIMEDOUT;
        const sc_core::sc_event* ev = drv_->uq_event(ring_);
        if (!ev) return -ENODEV;
        sc_core::wait(deadline - sc_core::sc_time_stamp(), *ev);
    }
}

} // namespace accelvp::uapi
