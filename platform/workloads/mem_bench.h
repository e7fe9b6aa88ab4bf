// Memory microbenchmarks through DMA on the full chip: mem-stream, mem-random, mem-strided.
// Device memory is read into the on-chip SRAM (addr.sram_base), written from it, or
// copied within device memory, by all DMA engines at once (one queue per engine; the
// work is split evenly). Summary: bandwidth_gbps (device-memory bytes read + written per
// ns of device time), peak_gbps (the memory's peak), efficiency, path_peak_gbps (the
// lower of memory and DMA peaks), avg_read_latency_ns (DRAM model: arrival at the channel
// to last data beat; simple model: its fixed latency). See docs/memory.md.
#pragma once

#include <string>
#include <vector>

#include "platform/host/cmdbuf.h"

#include "platform/workloads/workload.h"

namespace accelvp {

struct mem_bench_params {
    uint64_t bytes = 16ull << 20;
    std::string op = "read";   // mem-stream, mem-strided
    std::string mix = "read";  // mem-random
    uint64_t span = 1ull << 30, access = 64, stride = 4096;
    double timeout_ms = 10000;
};

// The buffer and the command stream of each queue (one queue per DMA engine).
struct mem_bench_state {
    uint32_t engines = 1;
    std::string op;
    uint64_t accesses = 0;
    std::vector<cmdbuf_builder> cb;
};

class mem_bench : public staged_workload<mem_bench_params, mem_bench_state> {
public:
    enum class kind { stream, random, strided };
    explicit mem_bench(kind k) : k_(k) {}
    std::string name() const override;
    std::string description() const override;
    // Each variant declares the keys it reads.
    const param_table<params>& table() const override;

protected:
    void validate(const params& p, const config& c) const override;
    int plan(workload_context& ctx, const params& p, state& st) override;
    int submit(workload_context& ctx, const params& p, state& st) override;
    int verify(workload_context& ctx, const params& p, state& st) override;  // nothing to verify

private:
    kind k_;
};

} // namespace accelvp
