// Waiting for submitted jobs, as the workloads do: one wait per job, in order, and the
// device time they spanned (first job start to last job end, from the completion records).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "platform/host/uapi.h"

namespace accelvp {

struct job_wait {
    uint64_t start_ns = UINT64_MAX, end_ns = 0;  // span of the jobs that completed
    int rc = 0;                                  // the first failure (0: every job completed)
    size_t failed = 0;                           // ... its index in the sequence list
    uapi::wait_args failed_wait;                 // ... and its wait
    uint64_t span_ns() const { return end_ns > start_ns ? end_ns - start_ns : 0; }
};

// Waits for the jobs `seqs` (each up to timeout_ns), stopping at the first failure.
job_wait wait_jobs(uapi::device& dev, const std::vector<uint32_t>& seqs, uint64_t timeout_ns);

// Why a wait failed: the job's status, or that the host wait timed out.
std::string wait_failure(int rc, const uapi::wait_args& w);
// The same, with the device's error record when it has one.
std::string job_failure(uapi::device& dev, int rc, const uapi::wait_args& w);

} // namespace accelvp
