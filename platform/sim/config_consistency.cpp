#include "platform/sim/config_consistency.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "abi/aax_queue.h"
#include "abi/aax_regs.h"
#include "tlm/compute/compute_params.h"
#include "tlm/core/fault.h"
#include "tlm/mem/dram_timing.h"
#include "tlm/core/keys.h"

namespace accelvp {

namespace {
// The most rings compiler-lite can use: a DMA ring and a compute ring per cluster; a single
// cluster also runs everything on one ring (edge).
uint64_t rings_for(uint64_t clusters) { return 2 * clusters; }

[[noreturn]] void inconsistent(const std::string& what) { throw config_error("config error: " + what); }
} // namespace

double device_memory_peak_gbps(const config& c) {
    if (c.get(keys::mem::model) == "dram") return dram_params::from_config(c, "mem").peak_bytes_per_s() / 1e9;
    return c.get(keys::mem::bandwidth_gbps);
}

void derive_and_check(config& c, std::vector<std::string>& warnings) {
    // Fault injection (docs/security.md): the specs parse, and name what exists.
    const fault_params faults = fault_params::from_config(c);
    for (const auto& h : faults.engine_hang)
        if (h.engine >= c.get(keys::dma::engines))
            inconsistent(fmt::format("fault.engine_hang names dma{} but dma.engines = {} (engines dma0..dma{})", h.engine,
                                     c.get(keys::dma::engines), c.get(keys::dma::engines) - 1));
    if (faults.fw_enabled() && !c.get(keys::cpu::enabled))
        inconsistent("fault.fw_crash_at_job / fault.fw_crash_prob need a control core (cpu.enabled = true)");
    const uint64_t clusters = c.get(keys::compute::clusters);
    const uint64_t need = rings_for(clusters);

    // Rings: a DMA ring and a compute ring per cluster, at most the ABI's AAX_MAX_RINGS.
    if (need > AAX_MAX_RINGS && (clusters > 1))
        inconsistent(fmt::format("compute.clusters={} needs {} rings (a DMA ring and a compute ring per cluster) but "
                                 "the device has at most {} (AAX_MAX_RINGS, qman.rings): use compute.clusters <= {}",
                                 clusters, need, AAX_MAX_RINGS, AAX_MAX_RINGS / 2));
    if (!c.is_set(keys::qman::rings))
        c.set_derived(keys::qman::rings, std::to_string(need), fmt::format("2 x compute.clusters ({})", clusters));
    const uint64_t rings = c.get(keys::qman::rings);
    if (!c.is_set(keys::qman::cqs))
        c.set_derived(keys::qman::cqs, std::to_string(std::min<uint64_t>(rings, AAX_MAX_CQS)), "one per ring (qman.rings)");
    const uint64_t cqs = c.get(keys::qman::cqs);
    if (!c.is_set(keys::pcie::msix_vectors))
        c.set_derived(keys::pcie::msix_vectors, std::to_string(std::min<uint64_t>(2 + cqs, AAX_MAX_MSIX)),
                      "event + error + one per CQ (2 + qman.cqs)");
    const uint64_t vectors = c.get(keys::pcie::msix_vectors);
    if (!c.is_set(keys::host::driver_rings))
        c.set_derived(keys::host::driver_rings, std::to_string(std::min<uint64_t>(rings, AAX_MAX_RINGS)),
                      "all of the device's (qman.rings)");
    const uint64_t driver_rings = c.get(keys::host::driver_rings);

    if (vectors < 2 + cqs)
        inconsistent(fmt::format("{} is too few for {}: completion interrupts need 2 + qman.cqs = {} vectors "
                                 "(vector 0 events, 1 errors, 2 + c completion queue c)",
                                 c.describe(keys::pcie::msix_vectors), c.describe(keys::qman::cqs), 2 + cqs));
    if (driver_rings > rings)
        inconsistent(fmt::format("{} asks for more rings than the device has: {}", c.describe(keys::host::driver_rings),
                                 c.describe(keys::qman::rings)));

    // The driver sets up min(driver rings, rings, CQs, vectors - 2) rings (one CQ and one
    // vector each); compiler-lite needs 2 per cluster to use every cluster.
    struct limit {
        const char* key;
        uint64_t rings;
    };
    const limit limits[] = {{"qman.rings", rings}, {"host.driver.rings", driver_rings}, {"qman.cqs", cqs},
                            {"pcie.msix_vectors", vectors - 2}};
    const limit* usable = &limits[0];
    for (const auto& l : limits)
        if (l.rings < usable->rings) usable = &l;
    if (clusters > 1 && usable->rings < need)
        inconsistent(fmt::format("compute.clusters={} needs {} rings (a DMA ring and a compute ring per cluster), "
                                 "but {} leaves {}: set {} (or leave the ring, CQ and vector counts unset: they "
                                 "follow from compute.clusters)",
                                 clusters, need, c.describe(usable->key), usable->rings,
                                 std::string(usable->key) == "pcie.msix_vectors"
                                     ? fmt::format("pcie.msix_vectors={}", need + 2)
                                     : fmt::format("{}={}", usable->key, need)));
    if (usable->rings < rings)
        warnings.push_back(fmt::format("the driver sets up {} of the device's {} rings ({} limits it)", usable->rings,
                                       rings, c.describe(usable->key)));

    const uint64_t engines = c.get(keys::dma::engines);
    if (engines > rings)
        warnings.push_back(fmt::format("dma.engines={} but only {} rings: ring r runs on DMA engine r % dma.engines, "
                                       "so {} engines are never used",
                                       engines, rings, engines - rings));

    // With the DRAM model, mem.bandwidth_gbps is not used: the DRAM's organisation sets the peak.
    if (c.get(keys::mem::model) == "dram" && c.is_set(keys::mem::bandwidth_gbps)) {
        const double dram = device_memory_peak_gbps(c), simple = c.get(keys::mem::bandwidth_gbps);
        if (std::abs(dram - simple) > 0.05 * dram)
            warnings.push_back(fmt::format("{} is not used with mem.model=dram: the DRAM model's peak is {:.1f} GB/s "
                                           "(mem.standard={}, mem.stacks={}); bounds and peaks use that",
                                           c.describe(keys::mem::bandwidth_gbps), dram, c.get(keys::mem::standard),
                                           c.get(keys::mem::stacks)));
    }
}

std::vector<std::pair<std::string, double>> derived_figures(const config& c) {
    const compute_params p = compute_params::from_config(c);
    std::vector<std::pair<std::string, double>> out;
    const std::pair<const char*, uint8_t> types[] = {{"fp32", AAX_DT_FP32}, {"bf16", AAX_DT_BF16},
                                                     {"fp16", AAX_DT_FP16}, {"fp8", AAX_DT_FP8_E4M3},
                                                     {"int8", AAX_DT_INT8}};
    for (const auto& [name, code] : types)
        out.emplace_back(fmt::format("peak_tflops.{}", name), 2.0 * p.peak_macs_per_s(code) * p.clusters / 1e12);
    out.emplace_back("peak_mem_gbps", device_memory_peak_gbps(c));
    return out;
}

} // namespace accelvp
