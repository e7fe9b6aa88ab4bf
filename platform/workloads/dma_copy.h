// dma-copy: the host fills a buffer with a seeded pattern, the device DMA-copies it
// (host->device, device->device or device->host), the host verifies it bit-exact.
// Summary: bytes, bandwidth_gbps (from the device's job timestamps), peak_gbps (the
// analytic bound of the path from the config), efficiency, job latency.
#pragma once

#include "platform/workloads/workload.h"

namespace accelvp {

class dma_copy : public workload {
public:
    std::string name() const override { return "dma-copy"; }
    std::string description() const override {
        return "DMA copy host->device, device->device or device->host, verified bit-exact";
    }
    void declare(param_schema& s) const override;
    int run(workload_context& ctx) override;
};

// The pattern: 64-bit words of a splitmix64 sequence from the seed, little-endian;
// byte i of a buffer depends only on (seed, i), so any sub-range can be regenerated.
void fill_pattern(uint8_t* dst, uint64_t offset, uint64_t len, uint64_t seed);

} // namespace accelvp
