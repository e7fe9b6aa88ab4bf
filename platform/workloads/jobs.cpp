#include "platform/workloads/jobs.h"

#include <algorithm>
#include <cerrno>

#include "abi/aax_queue.h"
#include "platform/host/driver.h"

namespace accelvp {

job_wait wait_jobs(uapi::device& dev, const std::vector<uint32_t>& seqs, uint64_t timeout_ns) {
    job_wait r;
    for (size_t i = 0; i < seqs.size(); ++i) {
        uapi::wait_args w;
        w.seq = seqs[i];
        w.timeout_ns = timeout_ns;
        if (const int rc = dev.wait(w)) {
            r.rc = rc;
            r.failed = i;
            r.failed_wait = w;
            return r;
        }
        r.start_ns = std::min(r.start_ns, w.ts_start_ns);
        r.end_ns = std::max(r.end_ns, w.ts_end_ns);
    }
    return r;
}

std::string wait_failure(int rc, const uapi::wait_args& w) {
    return rc == -ETIMEDOUT && w.status == AAX_OK ? "the host wait timed out" : aax_status_name(w.status);
}

std::string job_failure(uapi::device& dev, int rc, const uapi::wait_args& w) {
    std::string why = wait_failure(rc, w);
    error_record e;
    if (dev.last_error(e) == 0) why += " (" + e.describe() + ")";
    return why;
}

} // namespace accelvp
