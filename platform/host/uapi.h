// User API over the driver model, shaped after the DRM accel ioctls (see
// ../shared/reference/accel-driver-abis.md): an open device file, buffer objects
// created, mapped and freed by handle, submission of a command buffer on a queue with
// an out-fence (sequence number), and a wait with timeout. Every call returns 0 or a
// negative errno, as the ioctl wrappers of a real runtime library do.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>

#include "abi/aax_drm.h"
#include "platform/host/driver.h"

namespace accelvp::uapi {

// DRM_IOCTL_AAX_GET_INFO
struct info_args {
    uint32_t abi_version = 0;
    uint32_t queues = 0;
    uint32_t semaphores = 0;
    uint32_t dma_engines = 0;  // ring r's DMA packets run on engine r % dma_engines
    uint64_t devmem_size = 0;
};

// DRM_IOCTL_AAX_BO_CREATE: the flags of the Linux driver's uAPI (abi/aax_drm.h).
enum : uint32_t {
    BO_DEVICE = AAX_BO_DEVICE,     // device memory (default)
    BO_HOST = AAX_BO_HOST,         // pinned host memory the device reaches over PCIe
    BO_ALIGN_2M = AAX_BO_ALIGN_2M  // 2 MiB aligned (so a VM bind can use 2 MiB pages)
};
struct bo_create_args {
    uint64_t size = 0;
    uint32_t flags = BO_DEVICE;
    uint32_t handle = 0;      // out
    uint64_t device_va = 0;   // out: the address to put in packets
};

// DRM_IOCTL_AAX_SUBMIT
struct submit_args {
    uint32_t queue = 0;
    uint32_t cmdbuf_handle = 0;
    uint32_t cmdbuf_offset = 0;
    uint32_t cmdbuf_size = 0;
    uint32_t flags = 0;       // AAX_JOB_* extra flags
    uint32_t timeout_us = 0;  // device-side job timeout, 0 = none
    uint32_t vm_id = 0;       // address space of the job's addresses: 0 physical (privileged files only when
                              // the device has an MMU), else one of this file's vm_create ids
    uint32_t seq = 0;         // out: the job's fence
};

// DRM_IOCTL_AAX_VM_CREATE: a device address space (an MMU context; vm_id = its ASID).
struct vm_create_args {
    uint32_t vm_id = 0;  // out
};

// DRM_IOCTL_AAX_VM_BIND: map [bo_offset, bo_offset+size) of a BO at device VA va
// (all 4 KiB aligned; va+size <= 2^48). 2 MiB pages where VA, address and size allow.
enum : uint32_t {
    VM_READ = 1u << 0,
    VM_WRITE = 1u << 1,
    VM_EXEC = 1u << 2,
    VM_4K_ONLY = 1u << 3  // never use 2 MiB pages
};
struct vm_bind_args {
    uint32_t vm_id = 0;
    uint32_t handle = 0;
    uint64_t bo_offset = 0;
    uint64_t va = 0;
    uint64_t size = 0;
    uint32_t flags = VM_READ | VM_WRITE;
};

// DRM_IOCTL_AAX_VM_UNBIND: remove a mapping made by one vm_bind (same va and size);
// the TLB is invalidated before this returns.
struct vm_unbind_args {
    uint32_t vm_id = 0;
    uint64_t va = 0;
    uint64_t size = 0;
};

// DRM_IOCTL_AAX_WAIT
struct wait_args {
    uint32_t seq = 0;
    uint64_t timeout_ns = 0;
    uint8_t status = 0;          // out: device status (enum aax_status)
    uint64_t ts_start_ns = 0;    // out: device timestamps of the job
    uint64_t ts_end_ns = 0;
    uint32_t err_offset = 0;     // out: failing packet offset
};

// A CPU mapping of a BO (mmap). Host BOs are plain memory; device BOs go through
// BAR2, so writes and reads take link time. peek() is a debugger read: no time passes.
class mapping {
public:
    int write(uint64_t offset, const void* src, uint64_t len);
    int read(uint64_t offset, void* dst, uint64_t len);
    int peek(uint64_t offset, void* dst, uint64_t len);
    // Timing mode: take the time of write(offset, ..., len) without moving data.
    int write_timing_only(uint64_t offset, uint64_t len);
    uint64_t size() const { return size_; }

private:
    friend class device;
    mapping(driver& d, bool host, uint64_t addr, uint64_t size) : drv_(&d), host_(host), addr_(addr), size_(size) {}
    driver* drv_;
    bool host_;
    uint64_t addr_, size_;
};

// DRM_IOCTL_AAX_UQ_CREATE (abi/aax_drm.h; docs/virtualization.md "User queues")
struct uq_create_args {
    uint32_t vm_id = 0;         // one of this file's address spaces: the queue's jobs run there
    uint32_t entries_log2 = 0;  // 0: the driver's ring size
    uint32_t queue_id = 0;      // out
    uint32_t entries = 0;       // out
    uint32_t cq_entries = 0;    // out
};

// A user queue as its owning process sees it after mmap: its header and slots (device memory
// through BAR2), its CQ (host memory) and the doorbell page (BAR0). submit() and poll() are
// plain memory and MMIO accesses, no system call: only wait() sleeps on the queue's interrupt
// (as poll() on the device file would) when the record is not there yet.
class user_queue {
public:
    struct completion {
        uint32_t job_id = 0;
        uint8_t status = 0;  // enum aax_status
        uint64_t ts_start_ns = 0, ts_end_ns = 0;
        uint32_t err_offset = 0;
        uint8_t err_opcode = 0;
    };
    // Write the job's descriptor (cmdbuf_va in the queue's address space; AAX_JOB_IRQ and
    // AAX_JOB_TIMESTAMP are added), publish wptr and the CQ head in the header, ring the
    // doorbell. 0 and the job id, -EBUSY (full: poll first), -ENODEV (revoked), -EIO (stopped).
    int submit(uint64_t cmdbuf_va, uint32_t size, uint32_t flags, uint32_t& job_id, uint32_t timeout_us = 0);
    // Take the next completion record: 1 (c filled), 0 (none yet).
    int poll(completion& c);
    // Until job `job_id` completes: 0, the errno of its status (driver::errno_of), -ETIMEDOUT,
    // -EIO (the queue stopped before the job ran: no record), -ENODEV (revoked first).
    int wait(uint32_t job_id, uint64_t timeout_ns, completion* out = nullptr);
    unsigned queue_id() const { return ring_; }
    size_t inflight() const { return inflight_.size(); }
    // Ring the doorbell of another queue (tests: the page is shared, the header is the owner's).
    void ring_doorbell_of(unsigned queue);
    // Write a raw header (tests: an impossible wptr must stop this queue only).
    void publish_raw(uint32_t wptr, uint32_t cq_head);

private:
    friend class device;
    user_queue(driver& d, const driver::user_queue_info& q, std::shared_ptr<bool> valid)
        : drv_(&d), info_(q), ring_(q.ring), valid_(std::move(valid)) {}
    int take_records();
    driver* drv_;
    driver::user_queue_info info_;
    unsigned ring_;
    std::shared_ptr<bool> valid_;  // false once the file destroyed the queue
    uint32_t wptr_ = 0, cq_head_ = 0, next_id_ = 1;
    bool phase_ = true;
    std::deque<uint32_t> inflight_;
    std::map<uint32_t, completion> done_;
};

class device {
public:
    // open("/dev/accel/accel0"): needs a probed driver. A privileged file (the opener has
    // the kernel's trust, as CAP_SYS_ADMIN on a primary node) may submit physical jobs
    // (vm_id 0) and jobs that write a descriptor fence on a device with an MMU; an
    // ordinary file gets -EPERM for those and runs only in its own address spaces
    // (docs/security.md). Without an MMU every job is physical and both may submit.
    static std::unique_ptr<device> open(driver& d, int* err = nullptr, bool privileged = false);
    bool privileged() const { return privileged_; }
    ~device();  // frees the file's BOs, like close()

    int get_info(info_args& a);
    int bo_create(bo_create_args& a);
    int bo_free(uint32_t handle);
    int bo_mmap(uint32_t handle, std::unique_ptr<mapping>& out);
    int submit(submit_args& a);
    int wait(wait_args& a);
    // Address spaces (devices with an MMU; else -ENODEV). A BO with a binding cannot be
    // freed (-EBUSY); closing the device destroys its address spaces.
    int vm_create(vm_create_args& a);
    int vm_destroy(uint32_t vm_id);
    int vm_bind(vm_bind_args& a);
    int vm_unbind(vm_unbind_args& a);
    // User queues (ABI 0.2): a queue of one of this file's address spaces that the process
    // drives itself; uq_mmap gives the process's view. -ENODEV (no MMU, no user-queue page),
    // -ENOENT (not this file's VM / queue), -ENOSPC (no free ring), -ENOMEM. Destroying the
    // queue, closing the file or a device reset revokes it.
    int uq_create(uq_create_args& a);
    int uq_destroy(uint32_t queue_id);
    int uq_mmap(uint32_t queue_id, std::unique_ptr<user_queue>& out);
    // Last MMU fault the driver read (-ENOENT if none): an ordinary file sees only its own
    // contexts' faults, a privileged one every fault.
    int last_mmu_fault(mmu_fault& out) const;
    // Last device error the driver recorded (DRM_IOCTL_AAX_LAST_ERROR): an ordinary file sees
    // only its own (a job of its contexts, on a kernel ring or one of its user queues).
    int last_error(error_record& out) const;
    // Profiler (the hardware performance counters, docs/profiling.md; the Linux driver's
    // debugfs file `perf`): perf_start clears the counters (unless clear=false) and starts
    // them, perf_stop freezes them, perf_sample returns every counter at one instant (with
    // clear, the counters restart from 0 after the sample: interval sampling). 0 or -ENODEV.
    int perf_start(bool clear = true);
    int perf_stop();
    int perf_sample(perf_snapshot& out, bool clear = false);
    driver& drv() { return drv_; }

private:
    device(driver& d, bool privileged) : drv_(d), privileged_(privileged) {}
    struct bo {
        uint64_t size;
        bool host;
        uint64_t addr;  // device bus address for device BOs, host physical for host BOs
        std::vector<uint32_t> jobs;  // jobs submitted with it as command buffer, maybe in flight
    };
    // The device reads a command buffer by bus address while its job runs: a BO freed with a
    // job in flight keeps its memory until the job is signalled (as the Linux driver holds it),
    // so the next BO cannot take it and the job runs the packets it was submitted with.
    void release(const bo& b);
    void release_finished();
    void drop_finished(std::vector<uint32_t>& jobs) const;  // keeps the jobs still in flight
    driver& drv_;
    bool privileged_ = false;
    struct binding {
        uint32_t handle;
        uint64_t size;
    };
    std::map<uint32_t, bo> bos_;
    std::vector<bo> freed_in_flight_;  // freed by the file, memory held for their jobs
    std::map<uint32_t, std::map<uint64_t, binding>> vms_;  // vm_id -> va -> binding
    struct uq_file {
        driver::user_queue_info info;
        std::shared_ptr<bool> valid;
    };
    std::map<uint32_t, uq_file> uqs_;  // queue id -> queue
    uint32_t next_handle_ = 1;
};

} // namespace accelvp::uapi
