#include "platform/host/uapi.h"

#include "abi/aax_regs.h"

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
    for (const auto& [id, b] : vms_) drv_.vm()->destroy(static_cast<uint16_t>(id), can_wait);
    for (const auto& [h, b] : bos_) b.host ? drv_.free_host(b.addr) : drv_.free_device(b.addr);
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
    auto addr = host ? drv_.alloc_host(size, align) : drv_.alloc_device(size, align);
    if (!addr) return -ENOMEM;
    a.handle = next_handle_++;
    a.device_va = host ? drv_.host_to_device_addr(*addr) : *addr;
    bos_[a.handle] = bo{a.size, host, *addr};
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
    it->second.host ? drv_.free_host(it->second.addr) : drv_.free_device(it->second.addr);
    if (auto* cap = capture_recorder::active())
        cap->on_bo_free(it->second.host ? drv_.host_to_device_addr(it->second.addr) : it->second.addr);
    bos_.erase(it);
    return 0;
}

int device::bo_mmap(uint32_t handle, std::unique_ptr<mapping>& out) {
    auto it = bos_.find(handle);
    if (it == bos_.end()) return -ENOENT;
    out.reset(new mapping(drv_, it->second.host, it->second.addr, it->second.size));
    return 0;
}

int device::submit(submit_args& a) {
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
    if (!drv_.vm() || drv_.vm()->faults().empty()) return -ENOENT;
    out = drv_.vm()->faults().back();
    return 0;
}

int device::perf_start(bool clear) {
    return drv_.perf_control((clear ? AAX_PERF_CTRL_CLEAR : 0u) | AAX_PERF_CTRL_START);
}
int device::perf_stop() { return drv_.perf_control(AAX_PERF_CTRL_STOP); }
int device::perf_sample(perf_snapshot& out, bool clear) { return drv_.perf_read(out, clear ? AAX_PERF_CTRL_CLEAR : 0u); }

int device::last_error(error_record& out) const {
    if (drv_.errors().empty()) return -ENOENT;
    out = drv_.errors().back();
    return 0;
}

} // namespace accelvp::uapi
