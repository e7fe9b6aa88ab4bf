// Typed names of the parameters read outside the block that declares them.
//
// A block reads its own parameters through its field table (params.h); a key that another
// block, the composition or a workload reads is named here once, with its type, and read
// as `c.get(keys::dma::engines)`: a misspelt key or a wrong type is a compile error. The
// declaring table names the same constant where it can (absolute keys); the test
// "every shared key is declared with its type" (tests/platform) checks the rest against
// the full schema.
//
// Each key is one line of ACCELVP_SHARED_KEYS (namespace, constant, C++ type, key): the
// constants and the `all_shared` list are both generated from it (an X-macro), so adding a
// shared key is that one line.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include "tlm/core/config.h"

// X(namespace, constant, type, key)
#define ACCELVP_SHARED_KEYS(X)                                                        \
    X(sim, mode, std::string, "sim.mode")                                             \
    X(sim, seed, uint64_t, "sim.seed")                                                \
    X(sim, log_level, std::string, "sim.log_level")                                   \
    X(sim, max_time_ms, double, "sim.max_time_ms")                                    \
    X(preset, name, std::string, "preset.name")                                       \
    X(preset, description, std::string, "preset.description")                         \
    X(chip, freq_mhz, double, "chip.freq_mhz")                                        \
    X(chip, noc_hop_ns, double, "chip.noc_hop_ns")                                    \
    X(addr, devmem_base, uint64_t, "addr.devmem_base")                                \
    X(addr, regs_base, uint64_t, "addr.regs_base")                                    \
    X(addr, host_window_base, uint64_t, "addr.host_window_base")                      \
    X(addr, host_window_size, uint64_t, "addr.host_window_size")                      \
    X(addr, shared_sram_base, uint64_t, "addr.shared_sram_base")                      \
    X(addr, sram_base, uint64_t, "addr.sram_base")                                    \
    X(mem, size, uint64_t, "mem.size")                                                \
    X(mem, model, std::string, "mem.model")                                           \
    X(mem, bandwidth_gbps, double, "mem.bandwidth_gbps")                              \
    X(mem, latency_ns, double, "mem.latency_ns")                                      \
    X(mem, standard, std::string, "mem.standard")                                     \
    X(mem, stacks, uint64_t, "mem.stacks")                                            \
    X(sram, freq_mhz, double, "sram.freq_mhz")                                        \
    X(dma, engines, uint64_t, "dma.engines")                                          \
    X(dma, burst_bytes, uint64_t, "dma.burst_bytes")                                  \
    X(dma, max_outstanding, uint64_t, "dma.max_outstanding")                          \
    X(dma, bandwidth_gbps, double, "dma.bandwidth_gbps")                              \
    X(dma, setup_ns, double, "dma.setup_ns")                                          \
    X(qman, rings, uint64_t, "qman.rings")                                            \
    X(qman, cqs, uint64_t, "qman.cqs")                                                \
    X(qman, decode_ns, double, "qman.decode_ns")                                      \
    X(sync, op_ns, double, "sync.op_ns")                                              \
    X(pcie, msix_vectors, uint64_t, "pcie.msix_vectors")                              \
    X(pcie, sriov_max_vfs, uint64_t, "pcie.sriov.max_vfs")                            \
    X(cpu, enabled, bool, "cpu.enabled")                                              \
    X(cpu, freq_mhz, double, "cpu.freq_mhz")                                          \
    X(cpu, timer_mhz, uint64_t, "cpu.timer_mhz")                                      \
    X(mmu, enabled, bool, "mmu.enabled")                                              \
    X(compute, clusters, uint64_t, "compute.clusters")                                \
    X(coll, setup_ns, double, "coll.setup_ns")                                        \
    X(host, bus_hop_ns, double, "host.bus_hop_ns")                                    \
    X(host, mem_bandwidth_gbps, double, "host.mem.bandwidth_gbps")                    \
    X(host, driver_rings, uint64_t, "host.driver.rings")                              \
    X(host, driver_firmware, std::string, "host.driver.firmware")                     \
    X(system, topology, std::string, "system.topology")                               \
    X(system, chips, uint64_t, "system.chips")                                        \
    /* workload.bytes: declared by the workloads that move a buffer (dma-copy, mem-*,  \
       soak, collective); read by the simulation's host-memory check. */              \
    X(workload, bytes, uint64_t, "workload.bytes")

namespace accelvp::keys {

// The constants: keys::<namespace>::<constant>, e.g. keys::dma::engines.
#define ACCELVP_SHARED_KEY_CONSTANT(ns, id, type, key) \
    namespace ns {                                     \
    inline constexpr param_key<type> id{key};          \
    }
ACCELVP_SHARED_KEYS(ACCELVP_SHARED_KEY_CONSTANT)
#undef ACCELVP_SHARED_KEY_CONSTANT

// The schema type a key's C++ type is read as.
template <class T>
constexpr param_type param_type_of() {
    if constexpr (std::is_same_v<T, bool>)
        return param_type::boolean;
    else if constexpr (std::is_same_v<T, std::string>)
        return param_type::string;
    else if constexpr (std::is_floating_point_v<T>)
        return param_type::real;
    else
        return param_type::integer;
}

// Every key above with its namespace and type, for the test that checks them against the schema.
struct shared_key {
    const char* ns;
    const char* name;
    param_type type;
};
#define ACCELVP_SHARED_KEY_ENTRY(ns, id, type, key) {#ns, ns::id.name, param_type_of<type>()},
inline constexpr shared_key all_shared[] = {ACCELVP_SHARED_KEYS(ACCELVP_SHARED_KEY_ENTRY)};
#undef ACCELVP_SHARED_KEY_ENTRY

} // namespace accelvp::keys
