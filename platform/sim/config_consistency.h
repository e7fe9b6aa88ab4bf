// Derived parameters and the one consistency pass over a loaded configuration
// (docs/user-guide.md, "Derived parameters and consistency").
//
// Some values follow from others: the rings a chip needs from its compute clusters (a DMA
// ring and a compute ring per cluster), CQs from rings, MSI-X vectors from CQs, the rings
// the driver sets up from the device's. Where the user set nothing, they are computed and
// recorded as derived (`accelvp config --dump` marks them); where a set value contradicts
// them, the run stops with a config error naming both keys and where each value came from,
// or, for a legitimate but unusual choice, a warning is recorded in the configuration
// (printed on stderr and kept in the stats JSON).
#pragma once

#include <string>
#include <vector>

#include "tlm/core/config.h"

namespace accelvp {

// Fill the derived values and check the cross-parameter rules. Throws config_error;
// appends warnings (one sentence each) to `warnings`.
void derive_and_check(config& c, std::vector<std::string>& warnings);

// Peak bandwidth of the device memory the run actually models, in GB/s: the DRAM model's
// (standard x stacks x channels x data rate) with mem.model=dram, else mem.bandwidth_gbps.
double device_memory_peak_gbps(const config& c);

// Figures that follow from the configuration, for dumps and summaries: "key" -> value.
// peak.tflops.<dtype> (all clusters), peak.mem_gbps, rings.needed.
std::vector<std::pair<std::string, double>> derived_figures(const config& c);

} // namespace accelvp
