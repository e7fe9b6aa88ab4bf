// Capture of what a host program submits through the user API (`accelvp run --capture`,
// docs/debugging.md "Capture and replay"): every buffer object the jobs refer to, the bytes of
// each job's command buffer, the contents of the buffers the job refers to as they were when it
// was submitted (functional mode), where the host waited, and each job's device timestamps.
//
// The recorder only collects; platform/workloads/cmdstream.cpp writes it as a command-stream
// file that `accelvp run -w cmdstream` and `accelvp replay` run again.
//
// One recorder is active per process (run() installs it); uapi::device calls the hooks below.
// Debug reads only (host_cpu::peek): capturing takes no simulated time, so it changes no cycle.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace accelvp {

class driver;

class capture_recorder {
public:
    // The recorder uapi::device reports to (nullptr: capture off, the hooks are not called).
    static capture_recorder* active();
    static void set_active(capture_recorder* r);

    explicit capture_recorder(bool with_data) : with_data_(with_data) {}

    struct buffer {
        uint64_t va = 0;    // device bus address (what packets hold)
        uint64_t cpu = 0;   // where the host CPU reaches it (host memory, or BAR2)
        uint64_t size = 0;
        bool host = false;  // pinned host memory
        bool used = false;  // a job referred to it
    };
    // One step of the host program, in order.
    struct step {
        enum kind_t { data, job, wait } kind = job;
        // data: bytes of buffer `buf` at `offset` (a buffer's contents when a job referred to it)
        size_t buf = 0;
        uint64_t offset = 0;
        std::vector<uint8_t> bytes;
        // job
        uint32_t queue = 0, flags = 0, timeout_us = 0, vm_id = 0, seq = 0;
        std::vector<uint8_t> cmds;
        size_t cmd_buf = SIZE_MAX;  // the buffer the command buffer lives in
        uint64_t cmd_offset = 0;
        // filled by on_wait
        bool waited = false;
        uint8_t status = 0;
        uint64_t ts_start_ns = 0, ts_end_ns = 0;
    };

    // Hooks (platform/host/uapi.cpp).
    void on_bo_create(uint64_t va, uint64_t cpu_addr, uint64_t size, bool host);
    void on_bo_free(uint64_t va);
    void on_submit(driver& drv, uint32_t queue, uint64_t cmd_va, uint32_t size, uint32_t flags, uint32_t timeout_us,
                   uint32_t vm_id);
    void on_submitted(int rc, uint32_t seq);  // after the driver's submit: the job's fence, or drop it
    void on_wait(uint32_t seq, int rc, uint8_t status, uint64_t ts_start_ns, uint64_t ts_end_ns);

    // At the end of the run: each used buffer's final contents (functional mode, buffers still
    // allocated), which the capture writes as expectations.
    void finish(driver& drv);
    const std::map<size_t, std::vector<uint8_t>>& final_contents() const { return final_; }

    const std::vector<buffer>& buffers() const { return buffers_; }
    const std::vector<step>& steps() const { return steps_; }
    bool with_data() const { return with_data_; }
    // The buffer holding bus address `va` that was live at the time (SIZE_MAX: none).
    size_t find(uint64_t va) const;

    // ---- The Linux-guest path (`accelvp qemu --capture`, platform/qemu/qemu_capture.cpp) ----
    // No buffer objects and no host waits are visible there: the VP sees ring slots at doorbell
    // time and completion records as the device writes them. Buffers are the address ranges
    // the captured jobs' packets touch (merged where they overlap or touch); `.wait` goes
    // where every earlier job that completed at all had its completion record before the
    // doorbell (jobs a reset dropped never complete and do not count). Call
    // bus_finish() once at the end: it fills buffers(), steps() and final_contents().
    // `rd` reads device bus addresses with debugger accesses (false: not readable).
    using bus_reader = std::function<bool(uint64_t addr, uint8_t* p, size_t n)>;
    // A descriptor the device is about to see (its slot, read at the doorbell). Returns the
    // job's index for bus_complete.
    size_t bus_job(const bus_reader& rd, uint32_t ring, uint64_t cmd_addr, uint32_t cmd_size, uint32_t flags,
                   uint32_t timeout_us, uint32_t asid, uint32_t job_id);
    // The completion record of job `job_id` on `ring` (the latest such job not yet complete).
    // Returns false when no captured job matches.
    bool bus_complete(const bus_reader& rd, uint32_t ring, uint32_t job_id, uint8_t status, uint64_t ts_start_ns,
                      uint64_t ts_end_ns);
    // Jobs seen so far, and those with a completion record.
    size_t bus_jobs() const { return bus_jobs_.size(); }
    size_t bus_completed() const { return bus_done_; }
    // Builds the capture. Only jobs that completed with status OK in physical addressing
    // (asid 0) are replayed; the others are listed in skipped() with the reason.
    void bus_finish(uint64_t host_window);
    struct skipped_job {
        uint32_t ring = 0, job_id = 0;
        std::string why;
    };
    const std::vector<skipped_job>& skipped() const { return skipped_; }

private:
    struct bus_range {
        uint64_t addr = 0;
        std::vector<uint8_t> bytes;
    };
    struct bus_job_rec {
        uint32_t ring = 0, flags = 0, timeout_us = 0, asid = 0, job_id = 0;
        std::vector<uint8_t> cmds;
        std::vector<std::pair<uint64_t, uint64_t>> refs;  // (address, length) the packets touch
        std::vector<bus_range> at_submit, at_complete;
        bool done = false;
        uint8_t status = 0;
        uint64_t ts_start_ns = 0, ts_end_ns = 0;
    };
    // (address, length) of what a command stream's packets read or write (DMA rows, fence,
    // message, collective buffer, JUMP/CALL targets, followed a few levels deep).
    void collect_extents(const bus_reader& rd, const std::vector<uint8_t>& cmds, int depth,
                         std::vector<std::pair<uint64_t, uint64_t>>& out);
    std::vector<bus_range> read_ranges(const bus_reader& rd, const std::vector<std::pair<uint64_t, uint64_t>>& refs);
    std::vector<bus_job_rec> bus_jobs_;
    std::vector<std::pair<size_t, bool>> bus_events_;  // (job, completion?) in the order they happened
    size_t bus_done_ = 0;
    std::vector<skipped_job> skipped_;

    // Every bus address a command stream refers to (DMA src/dst, FENCE/MSG/JUMP/CALL addr,
    // COLL local), following JUMP/CALL into the buffers they name (a few levels deep).
    void collect_refs(driver& drv, const std::vector<uint8_t>& cmds, int depth, std::vector<uint64_t>& out);
    bool read(driver& drv, uint64_t va, std::vector<uint8_t>& out);
    void snapshot(driver& drv, size_t buf);

    bool with_data_;
    std::vector<buffer> buffers_;
    std::map<uint64_t, size_t> live_;               // va -> index in buffers_
    std::map<size_t, std::vector<uint8_t>> last_;   // last contents written to the capture, per buffer
    std::vector<step> steps_;
    std::map<uint32_t, size_t> job_of_seq_;
    std::map<size_t, std::vector<uint8_t>> final_;
};

} // namespace accelvp
