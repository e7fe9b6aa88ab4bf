// submit-latency: the cost of submitting small jobs through a kernel queue (the submit ioctl,
// host.driver.ioctl_ns) or a user queue (no system call: docs/virtualization.md "User queues").
// Two phases on one address space: `latency_jobs` jobs one at a time (submit, wait), giving the
// host time spent in the submit call and the submit-to-start latency (host call to the device's
// ts_start); then `jobs` jobs streamed (the queue kept full), giving jobs per ms. Jobs are empty
// (AAX_JOB_NULL) or 4 KiB device-to-device copies, each to its own slice, verified bit-exact.
#pragma once

#include <memory>
#include <vector>

#include "platform/host/uapi.h"
#include "platform/workloads/workload.h"
#include "tlm/core/params.h"

namespace accelvp {

struct submit_latency_params {
    std::string queue = "kernel";
    std::string job = "empty";
    uint32_t jobs = 256;
    uint32_t latency_jobs = 32;
    double timeout_ms = 1000;
    static const param_table<submit_latency_params>& table();
};

struct submit_latency_state {
    uint32_t vm = 0;
    uapi::bo_create_args cmds, src, dst;
    std::unique_ptr<uapi::mapping> cmds_map, src_map, dst_map;
    uint32_t cmd_bytes = 0;
    uint32_t queue_id = 0;
    std::unique_ptr<uapi::user_queue> uq;
    std::vector<uint8_t> data;
    uint32_t copies = 0;  // copy jobs run (each its own 4 KiB slice)
};

class submit_latency : public staged_workload<submit_latency_params, submit_latency_state> {
public:
    std::string name() const override { return "submit-latency"; }
    std::string description() const override {
        return "small-job submission: kernel queue (ioctl) vs user queue (no system call), latency and jobs/ms";
    }

protected:
    void validate(const params& p, const config& c) const override;
    int plan(workload_context& ctx, const params& p, state& st) override;
    int submit(workload_context& ctx, const params& p, state& st) override;
    int verify(workload_context& ctx, const params& p, state& st) override;

private:
    // One job (index i: its slice for copies): submit it; 0 or -errno; `id` its seq / job id.
    int submit_one(workload_context& ctx, const params& p, state& st, uint32_t i, uint32_t& id);
    // Wait for it: 0 or -errno; its device start and end (ns).
    int wait_one(workload_context& ctx, const params& p, state& st, uint32_t id, uint64_t& start, uint64_t& end);
};

} // namespace accelvp
