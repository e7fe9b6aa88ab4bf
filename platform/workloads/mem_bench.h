// Memory microbenchmarks through DMA on the full chip: mem-stream, mem-random, mem-strided.
// Device memory is read into the on-chip SRAM (addr.sram_base), written from it, or
// copied within device memory, by all DMA engines at once (one queue per engine; the
// work is split evenly). Summary: bandwidth_gbps (device-memory bytes read + written per
// ns of device time), peak_gbps (the memory's peak), efficiency, path_peak_gbps (the
// lower of memory and DMA peaks), avg_read_latency_ns (DRAM model: arrival at the channel
// to last data beat; simple model: its fixed latency). See docs/memory.md.
#pragma once

#include <string>

#include "platform/workloads/workload.h"

namespace accelvp {

class mem_bench : public workload {
public:
    enum class kind { stream, random, strided };
    explicit mem_bench(kind k) : k_(k) {}
    std::string name() const override;
    std::string description() const override;
    void declare(param_schema& s) const override;
    void check(const config& c) const override;
    int run(workload_context& ctx) override;

private:
    kind k_;
};

} // namespace accelvp
