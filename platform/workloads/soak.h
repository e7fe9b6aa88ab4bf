// soak: many small verified jobs from several contexts while faults are injected (fault.*,
// docs/security.md "Fault injection"). Every job either completes OK with its data
// bit-exact, or fails with a status its fault explains (ECC_UE, TIMEOUT; ABORTED jobs --
// queued behind a failed job on its ring -- are resubmitted by the workload); none may be
// lost (no completion) or corrupted (OK with wrong data). The run fails otherwise.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "platform/workloads/workload.h"

namespace accelvp {

namespace uapi {
class device;
}

struct soak_options {
    uint64_t jobs = 10000;
    unsigned contexts = 4;    // each its own device file and queue
    uint32_t bytes = 4096;    // per job: one DMA copy of this many bytes
    uint32_t window = 8;      // jobs in flight per context
    uint32_t timeout_us = 200;  // device-side job timeout (catches hung engines)
    uint32_t retries = 3;     // resubmissions of a job that completed ABORTED
    uint64_t seed = 1;
    bool verify = true;
};

struct soak_result {
    uint64_t jobs = 0, ok = 0, corrupted = 0, lost = 0, retried = 0, unexpected = 0;
    std::array<uint64_t, 256> by_status{};  // final status of each job
    uint64_t device_resets = 0, resubmitted = 0, ecc_corrected = 0, ecc_uncorrectable = 0, hangs = 0, fw_crashes = 0;
    double sim_ms = 0;
    std::string error;  // the first lost/corrupted/unexpected job
    bool clean() const { return lost == 0 && corrupted == 0 && unexpected == 0 && error.empty(); }
};

// Runs the soak on `dev` (context 0) and contexts-1 more device files of the same driver.
soak_result run_soak(uapi::device& dev, const chip& soc, const soak_options& o);

struct soak_params {
    uint64_t jobs = 10000;
    uint32_t contexts = 4, bytes = 4096, window = 8, timeout_us = 200, retries = 3;
    static const param_table<soak_params>& table();
};

struct soak_state {
    soak_options o;
    soak_result r;
};

// Its jobs are verified one by one as they complete (run_soak); verify judges the tally.
class soak_workload : public staged_workload<soak_params, soak_state> {
public:
    std::string name() const override { return "soak"; }
    std::string description() const override {
        return "many small verified DMA jobs from several contexts under injected faults (fault.*): none lost or corrupted";
    }

protected:
    int plan(workload_context& ctx, const params& p, state& st) override;
    int submit(workload_context& ctx, const params& p, state& st) override;
    int verify(workload_context& ctx, const params& p, state& st) override;
};

} // namespace accelvp
