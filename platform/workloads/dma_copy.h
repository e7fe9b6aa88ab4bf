// dma-copy: the host fills a buffer with a seeded pattern, the device DMA-copies it
// (host->device, device->device or device->host), the host verifies it bit-exact.
// Summary: bytes, bandwidth_gbps (from the device's job timestamps), peak_gbps (the
// analytic bound of the path from the config), efficiency, job latency.
#pragma once

#include <memory>
#include <vector>

#include "platform/host/uapi.h"
#include "platform/workloads/workload.h"
#include "tlm/core/params.h"

namespace accelvp {

struct dma_copy_params {
    uint64_t bytes = 64ull << 20;
    std::string direction = "h2d";
    uint64_t src_offset = 0, dst_offset = 0;
    uint32_t queue = 0;
    uint32_t queues = 1;
    uint32_t jobs_per_queue = 1;
    std::string vm = "none";
    double timeout_ms = 10000;
    static const param_table<dma_copy_params>& table();  // the parameters: key, member, range, unit, description
};

// What plan hands submit and verify: the buffers, their mappings and the jobs.
struct dma_copy_state {
    uapi::bo_create_args src, dst;
    std::unique_ptr<uapi::mapping> src_map, dst_map;
    std::vector<std::unique_ptr<uapi::mapping>> cmd_maps;
    std::vector<uapi::submit_args> subs;
};

class dma_copy : public staged_workload<dma_copy_params, dma_copy_state> {
public:
    std::string name() const override { return "dma-copy"; }
    std::string description() const override {
        return "DMA copy host->device, device->device or device->host, verified bit-exact";
    }

protected:
    int plan(workload_context& ctx, const params& p, state& st) override;
    int submit(workload_context& ctx, const params& p, state& st) override;
    int verify(workload_context& ctx, const params& p, state& st) override;
};

// The pattern: 64-bit words of a splitmix64 sequence from the seed, little-endian;
// byte i of a buffer depends only on (seed, i), so any sub-range can be regenerated.
void fill_pattern(uint8_t* dst, uint64_t offset, uint64_t len, uint64_t seed);

} // namespace accelvp
