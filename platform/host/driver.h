// Host driver model: what an accel kernel driver does for this device, through the
// same registers and memory formats (abi/): probe, rings and completion queues,
// buffer allocation, job submission with doorbells, MSI-X interrupt handling,
// completion records, fences, error reporting and ring reset.
//
// Runs on the host CPU's SystemC threads: the caller's thread for probe/submit/wait,
// and its own interrupt thread (the ISR + bottom half).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <systemc>

#include "abi/aax_queue.h"
#include "abi/aax_regs.h"
#include "platform/host/host_system.h"
#include "platform/host/range_allocator.h"
#include "platform/host/vm.h"
#include "tlm/core/params.h"
#include "tlm/core/stats.h"

namespace accelvp {

struct device_info {
    uint32_t abi_version = 0;
    uint32_t rings = 0, cqs = 0, dma_engines = 0, msix_vectors = 0, semaphores = 0;
    uint64_t devmem_base = 0, devmem_size = 0, host_window = 0;
};

// What the driver learned from ERR_* after an error interrupt.
struct error_record {
    uint8_t code = 0;
    uint32_t ring = 0, job_id = 0, offset = 0;
    uint8_t opcode = 0;
    uint64_t addr = 0;
    uint64_t time_ns = 0;
    uint16_t asid = 0;        // the context of the failed job (0: physical or unknown)
    bool user_queue = false;  // it failed on a user queue (ring = the queue)
    std::string describe() const;
};

// One hardware performance counter as the driver read it (abi/aax_regs.h AAX_PERF_*).
struct perf_counter {
    uint8_t cls = 0, event = 0;  // AAX_PERF_CLASS_*, the class's AAX_PERF_<class>_* event
    uint16_t unit = 0;           // the unit of its class (cluster, DMA engine, channel, port, ring)
    uint64_t value = 0;
};
struct perf_snapshot {
    uint64_t time_ns = 0;  // device time of the snapshot
    bool running = false;
    std::vector<perf_counter> counters;  // in counter-index order
};

struct fence_result {
    uint8_t status = AAX_OK;
    uint64_t ts_start_ns = 0, ts_end_ns = 0;  // device timestamps (with AAX_JOB_TIMESTAMP)
    uint32_t err_offset = 0;
    uint8_t err_opcode = 0;
};

class driver {
public:
    // The driver's keys (host.driver.*).
    struct params {
        uint32_t ring_log2 = 8;
        uint32_t cq_log2 = 9;
        uint32_t rings = 4;
        std::string firmware = default_firmware();  // share/accelvp/firmware/accelvp-fw.elf, if any (tlm/core/data_dir.h)
        double boot_timeout_us = 2000;
        double heartbeat_timeout_us = 0;
        uint32_t reset_resubmits = 1;
        double ioctl_ns = 0;
        static std::string default_firmware();
        static const param_table<params>& table();  // the parameters: key, member, range, unit, description
    };
    static void declare(param_schema& s);
    // Which PCI function this driver instance drives. The default is the PF as the host
    // sees it (host_system's BARs, MSI page and all of host memory); a VF driver (SR-IOV,
    // docs/virtualization.md) gets the VF's BAR windows, its VM's MSI page and its VM's memory.
    struct function_view {
        uint64_t bar0 = 0, bar2 = 0;
        msi_receiver* msi = nullptr;
        uint64_t msi_addr = 0;
        uint64_t host_base = 0, host_size = 0;  // the memory this instance may allocate host buffers in
    };
    driver(host_system& host, const config& c, std::string name = "host.driver");
    driver(host_system& host, const config& c, std::string name, const function_view& fn);
    ~driver();
    // Rings probe sets up, at most (before probe: a PF leaves the others to its VFs).
    void set_max_rings(uint32_t n) { max_rings_ = n; }
    // The firmware ELF probe loads (before probe).
    const std::string& firmware_path() const { return firmware_path_; }
    void set_firmware(std::string path) { firmware_path_ = std::move(path); }

    // SR-IOV, PF side (docs/virtualization.md): program VF v's resources in the SR-IOV block
    // -- rings [first_ring, first_ring + rings), a device-memory partition, its VM's host
    // memory, a scheduling share --, give it an MMU context that maps exactly those ranges
    // (and `extra` ranges such as cluster SRAM) at their own addresses, pin its rings to that
    // context, unmask its CQ lines, and tell the firmware (AAX_MBOX_SRIOV). The VFs must be
    // enabled in config space first. 0, -ENODEV (no MMU or no control core), -EINVAL, -ENOMEM.
    struct vf_setup {
        unsigned first_ring = 0, rings = 1;
        uint64_t mem_base = 0, mem_size = 0;    // device bus addresses
        uint64_t host_base = 0, host_size = 0;  // host physical
        uint32_t share = 1;
        std::vector<std::pair<uint64_t, uint64_t>> extra;  // more device bus ranges (base, size) it may reach
    };
    int sriov_enable(const std::vector<vf_setup>& vfs);
    // SR-IOV, VF side: function-level reset of this function (RESET in its BAR0), then the
    // rings and CQs are set up again; the jobs in flight complete as ABORTED. 0 or -ENODEV.
    int function_reset();
    // Jobs this instance completed (records consumed) and their mean submit-to-completion latency.
    uint64_t jobs_completed() const { return completions_.get(); }
    // CQ records ignored because they named a job id never submitted (drain_cq).
    uint64_t bogus_records() const { return bogus_records_; }
    double mean_job_latency_us() const { return latency_us_.mean(); }

    // Probe: identify the device, check the ABI version, program MSI-X, rings and
    // completion queues, unmask interrupts. 0 or -errno (ENODEV, EPROTO, EIO, ENOMEM).
    int probe();
    const device_info& info() const { return info_; }
    unsigned rings() const { return static_cast<unsigned>(rings_.size()); }

    // Memory: device memory (bus addresses as the device sees them) and pinned host
    // memory (host physical addresses; the device reaches them through the host window).
    std::optional<uint64_t> alloc_device(uint64_t size, uint64_t align = 4096);
    bool free_device(uint64_t addr);
    std::optional<uint64_t> alloc_host(uint64_t size, uint64_t align = 4096);
    bool free_host(uint64_t addr);
    uint64_t host_to_device_addr(uint64_t host_addr) const { return info_.host_window + host_addr; }
    uint64_t device_to_bar2(uint64_t dev_addr) const { return bar2_ + (dev_addr - info_.devmem_base); }

    // Submit a job on a ring: write its descriptor into the ring (through BAR2), then the
    // doorbell. Returns 0 and the job's sequence number, or -EBUSY (ring full), -EINVAL,
    // -ENODEV (not probed). While a ring is being reset after an error, submit
    // waits for the reset to finish.
    // `asid` is the job's address space (0 physical, else a vm_manager context).
    int submit(unsigned ring, uint64_t cmdbuf_dev_addr, uint32_t cmdbuf_size, uint32_t flags, uint32_t timeout_us,
               uint32_t& seq, uint16_t asid = 0);
    // Wait for a job's completion with a timeout in simulated time.
    // 0 on success; -ETIMEDOUT if the wait timed out (the job may still complete later);
    // otherwise the errno of the job's device status (see errno_of()).
    int wait(uint32_t seq, const sc_core::sc_time& timeout, fence_result* out = nullptr);
    bool is_signaled(uint32_t seq) const;
    // A job the driver still tracks that is not signalled yet (false once signalled or forgotten).
    bool is_pending(uint32_t seq) const;
    static int errno_of(uint8_t status);

    // The most recent error records (between max_error_records and twice that once there
    // were more: a long-running host keeps the last ones, not every record since probe)
    // and how many there were in all.
    static constexpr size_t max_error_records = 1024;
    const std::vector<error_record>& errors() const { return errors_; }
    uint64_t errors_total() const { return errors_total_; }
    // Where a ring and its completion queue live, and the CQ's consumer state (tests and
    // the command-buffer fuzz target check and repair what a job may have overwritten).
    struct ring_view {
        uint64_t ring_addr = 0;  // device memory
        uint32_t entries = 0;
        uint64_t cq_host = 0;    // host memory
        uint32_t cq_entries = 0, cq_head = 0;
        bool cq_phase = true;    // the PHASE value the next valid record carries
    };
    ring_view ring_state(unsigned ring) const {
        const ring_ctx& R = rings_.at(ring);
        return {R.ring_addr, R.entries, R.cq_host, R.cq_entries, R.cq_head, R.cq_phase};
    }
    // Address spaces, when the device has an MMU (MMU_ID reads AAX_MMU_ID_MAGIC at probe).
    vm_manager* vm() { return vm_.get(); }

    // Firmware (devices with a control core): version reported at boot, and the text
    // of the firmware's log ring read back from device memory (debug reads, no time).
    uint32_t firmware_version() const { return fw_version_; }
    std::string firmware_log();
    // One message to the firmware's mailbox (abi/aax_boot.h AAX_MBOX_*) and its reply,
    // delivered by the event interrupt. 0, -ENODEV (no control core) or -ETIMEDOUT.
    int mailbox(uint32_t msg, uint32_t& reply, const sc_core::sc_time& timeout);
    host_system& host() { return host_; }

    // User queues (docs/virtualization.md "User queues"): a free hardware ring (one the driver
    // did not set up for itself nor give to a VF) with its own CQ, pinned to context `asid`
    // as a user ring (RING_ASID USER): its header and slots in device memory, its CQ in host
    // memory, both for the owner to map, and its doorbell in the user-queue page. 0, -ENODEV
    // (not probed, no MMU or no user-queue page), -EINVAL (bad context or size), -ENOSPC (no
    // free ring), -ENOMEM.
    struct user_queue_info {
        unsigned ring = 0;
        uint16_t asid = 0;
        uint32_t entries = 0, cq_entries = 0;
        uint64_t mem = 0, mem_size = 0;   // device bus address: aax_uq_header, then the slots
        uint64_t cq_host = 0, cq_size = 0;  // host physical
    };
    int uq_create(uint16_t asid, uint32_t entries_log2, user_queue_info& out);
    // Revoke and free a user queue: the ring is reset and disabled (its running job dropped at
    // the next packet boundary), then its CQ; the memory goes back. 0 or -ENOENT.
    int uq_destroy(unsigned ring);
    // A device reset revokes every user queue (its owner must destroy it); so does uq_destroy.
    bool uq_revoked(unsigned ring) const;
    // The ring stopped on an error (a bad header, wptr or job): the owner's record says which
    // job when there is one; the queue stays stopped until destroyed.
    bool uq_stopped(unsigned ring) const;
    // Notified at the queue's CQ interrupt, at an error on it and at its revocation.
    const sc_core::sc_event* uq_event(unsigned ring) const;
    uint64_t uq_doorbell_page() const { return bar0_ + AAX_UQ_WINDOW_BASE; }  // host physical (BAR0)
    double ioctl_ns() const { return ioctl_ns_; }

    // Hardware performance counters (BAR0 0xB000, docs/profiling.md): a PERF_CTRL write
    // (AAX_PERF_CTRL_* bits), and a snapshot read back counter by counter (a SNAPSHOT, with
    // `also` = more PERF_CTRL bits applied after it, e.g. CLEAR for interval sampling).
    // 0 or -ENODEV (not probed, or no counter block: a VF's BAR0 has none).
    int perf_control(uint32_t bits);
    int perf_read(perf_snapshot& out, uint32_t also = 0);

    // Device recovery (docs/security.md "Fault injection"): the firmware trapped (BOOT_STATUS =
    // FAIL with the error interrupt) or its heartbeat stopped (host.driver.heartbeat_timeout_us)
    // -> halt the core, soft-reset the device, restore rings, CQs, interrupts and MMU
    // contexts, re-boot the firmware and resubmit the jobs that were in flight (each at most
    // host.driver.reset_resubmits times; beyond that, and when the re-boot fails, ABORTED).
    uint64_t device_resets() const { return device_resets_.get(); }
    uint64_t jobs_resubmitted() const { return resubmitted_.get(); }
    bool device_dead() const { return dead_; }

private:
    driver(host_system& host, const config& c, std::string name, const params& p, const function_view& fn);
    static function_view pf_view(host_system& host);
    void program_msix();
    friend class vm_manager;  // programs the MMU registers through rd()/wr()
    struct fence {
        uint32_t seq = 0;
        unsigned ring = 0;
        bool done = false;
        unsigned waiters = 0;  // threads in wait(): the fence must outlive them
        // The job, kept for resubmission after a device reset.
        uint64_t cmdbuf = 0;
        uint32_t size = 0, flags = 0, timeout_us = 0;
        uint16_t asid = 0;
        unsigned resubmits = 0;
        fence_result result;
        sc_core::sc_event ev;
    };
    struct ring_ctx {
        unsigned index = 0;
        uint32_t entries = 0, tail = 0;
        uint64_t ring_addr = 0;  // device memory
        uint64_t cq_host = 0;    // host memory
        uint32_t cq_entries = 0, cq_head = 0;
        bool cq_phase = true;
        bool stopped = false;
        std::deque<uint32_t> inflight;  // seqs in submission order
        uint16_t asid = 0;              // the context the ring is pinned to (RING_ASID; 0: the kernel's, any)
    };
    void program_ring(const ring_ctx& R);  // probe's ring and CQ set-up (also after a reset)
    struct uq_ctx {
        user_queue_info info;
        bool revoked = false, stopped = false, destroying = false;
        std::unique_ptr<sc_core::sc_event> ev = std::make_unique<sc_core::sc_event>();
    };
    std::map<unsigned, uq_ctx> uqs_;
    uint32_t vf_rings_ = 0;  // rings given to VFs (sriov_enable)
    double ioctl_ns_ = 0;
    void uq_revoke_all();

    uint64_t reg(uint32_t off) const { return bar0_ + off; }
    uint32_t rd(uint32_t off);
    void wr(uint32_t off, uint32_t v);
    void irq_thread();
    void drain_cq(ring_ctx& r);
    static void next_cq_slot(ring_ctx& r);  // the head past one record
    void handle_error();
    void signal(uint32_t seq, const fence_result& res);
    int boot_firmware();
    void health_thread();
    void reset_thread();
    void reset_device(const std::string& why);
    void request_reset(const std::string& why);

    std::string name_;  // stats group
    std::string flow_key(const ring_ctx& R, uint32_t job_id) const;  // a job's trace flow (tracer::flow_id)
    host_system& host_;
    function_view fn_;
    uint64_t bar0_, bar2_;
    bool vf_ = false;
    uint32_t ring_log2_, cq_log2_, max_rings_;
    std::string firmware_path_;
    double boot_timeout_us_;
    uint32_t core_freq_mhz_, timer_mhz_;
    uint32_t fw_version_ = 0;
    uint64_t fw_log_addr_ = 0;
    device_info info_;
    bool has_core_ = false;
    bool probed_ = false;
    std::unique_ptr<range_allocator> devmem_, hostmem_;
    std::vector<ring_ctx> rings_;
    static constexpr size_t max_fences = 1 << 16;
    std::map<uint32_t, std::unique_ptr<fence>> fences_;
    uint32_t next_seq_ = 1;
    std::vector<error_record> errors_;
    uint64_t errors_total_ = 0;
    std::unique_ptr<vm_manager> vm_;
    sc_core::sc_event recovered_ev_;  // a stopped ring was reset
    sc_core::sc_event ring_idle_ev_;  // a ring's last job in flight completed
    sc_core::sc_event mbox_ev_;       // the event line fired (a mailbox reply)
    // Recovery from a firmware crash.
    double heartbeat_timeout_us_ = 0;
    uint32_t max_resubmits_ = 1;
    uint32_t irq_mask_ = 0xFFFFFFFFu;  // what probe unmasked
    bool resetting_ = false, reset_requested_ = false, dead_ = false;
    uint64_t reset_gen_ = 0;  // device resets started so far (a submit that overlapped one writes its job again)
    std::string reset_reason_;
    sc_core::sc_event reset_ev_;
    counter device_resets_{"device_resets", "device resets after a firmware crash (trap or heartbeat loss)"};
    counter resubmitted_{"jobs_resubmitted", "jobs resubmitted after a device reset"};

    counter submits_{"submits", "jobs submitted"};
    counter completions_{"completions", "completion records consumed"};
    counter irqs_{"interrupts", "MSI-X interrupts handled"};
    counter errors_stat_{"errors", "device errors reported"};
    counter aborted_{"aborted", "jobs completed as ABORTED by a ring reset"};
    counter wait_timeouts_{"wait_timeouts", "fence waits that timed out"};
    average latency_us_{"job_latency_us", "submit to completion seen by the driver (us)"};
    std::map<uint32_t, uint64_t> submit_time_ps_;
    uint64_t bogus_records_ = 0;
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{name_};
};

} // namespace accelvp
