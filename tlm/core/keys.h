// Typed names of the parameters read outside the block that declares them.
//
// A block reads its own parameters through its field table (params.h); a key that another
// block, the composition or a workload reads is named here once, with its type, and read
// as `c.get(keys::dma::engines)`: a misspelt key or a wrong type is a compile error. The
// declaring table names the same constant where it can (absolute keys); the test
// "every shared key is declared with its type" (tests/platform) checks the rest against
// the full schema.
#pragma once

#include <cstdint>
#include <string>

#include "tlm/core/config.h"

namespace accelvp::keys {

namespace sim {
inline constexpr param_key<std::string> mode{"sim.mode"};
inline constexpr param_key<uint64_t> seed{"sim.seed"};
inline constexpr param_key<std::string> log_level{"sim.log_level"};
inline constexpr param_key<double> max_time_ms{"sim.max_time_ms"};
} // namespace sim

namespace preset {
inline constexpr param_key<std::string> name{"preset.name"};
inline constexpr param_key<std::string> description{"preset.description"};
} // namespace preset

namespace chip {
inline constexpr param_key<double> freq_mhz{"chip.freq_mhz"};
inline constexpr param_key<double> noc_hop_ns{"chip.noc_hop_ns"};
} // namespace chip

namespace addr {
inline constexpr param_key<uint64_t> devmem_base{"addr.devmem_base"};
inline constexpr param_key<uint64_t> regs_base{"addr.regs_base"};
inline constexpr param_key<uint64_t> host_window_base{"addr.host_window_base"};
inline constexpr param_key<uint64_t> host_window_size{"addr.host_window_size"};
inline constexpr param_key<uint64_t> shared_sram_base{"addr.shared_sram_base"};
inline constexpr param_key<uint64_t> sram_base{"addr.sram_base"};
} // namespace addr

namespace mem {
inline constexpr param_key<uint64_t> size{"mem.size"};
inline constexpr param_key<std::string> model{"mem.model"};
inline constexpr param_key<double> bandwidth_gbps{"mem.bandwidth_gbps"};
inline constexpr param_key<double> latency_ns{"mem.latency_ns"};
inline constexpr param_key<std::string> standard{"mem.standard"};
inline constexpr param_key<uint64_t> stacks{"mem.stacks"};
} // namespace mem

namespace sram {
inline constexpr param_key<double> freq_mhz{"sram.freq_mhz"};
} // namespace sram

namespace dma {
inline constexpr param_key<uint64_t> engines{"dma.engines"};
inline constexpr param_key<uint64_t> burst_bytes{"dma.burst_bytes"};
inline constexpr param_key<uint64_t> max_outstanding{"dma.max_outstanding"};
inline constexpr param_key<double> bandwidth_gbps{"dma.bandwidth_gbps"};
inline constexpr param_key<double> setup_ns{"dma.setup_ns"};
} // namespace dma

namespace qman {
inline constexpr param_key<uint64_t> rings{"qman.rings"};
inline constexpr param_key<uint64_t> cqs{"qman.cqs"};
inline constexpr param_key<double> decode_ns{"qman.decode_ns"};
} // namespace qman

namespace sync {
inline constexpr param_key<double> op_ns{"sync.op_ns"};
} // namespace sync

namespace pcie {
inline constexpr param_key<uint64_t> msix_vectors{"pcie.msix_vectors"};
} // namespace pcie

namespace cpu {
inline constexpr param_key<bool> enabled{"cpu.enabled"};
inline constexpr param_key<double> freq_mhz{"cpu.freq_mhz"};
inline constexpr param_key<uint64_t> timer_mhz{"cpu.timer_mhz"};
} // namespace cpu

namespace mmu {
inline constexpr param_key<bool> enabled{"mmu.enabled"};
} // namespace mmu

namespace compute {
inline constexpr param_key<uint64_t> clusters{"compute.clusters"};
} // namespace compute

namespace coll {
inline constexpr param_key<double> setup_ns{"coll.setup_ns"};
} // namespace coll

namespace host {
inline constexpr param_key<double> bus_hop_ns{"host.bus_hop_ns"};
inline constexpr param_key<double> mem_bandwidth_gbps{"host.mem.bandwidth_gbps"};
inline constexpr param_key<uint64_t> driver_rings{"host.driver.rings"};
inline constexpr param_key<std::string> driver_firmware{"host.driver.firmware"};
} // namespace host

namespace system {
inline constexpr param_key<std::string> topology{"system.topology"};
inline constexpr param_key<uint64_t> chips{"system.chips"};
} // namespace system

namespace workload {
// Declared by the workloads that move a buffer (dma-copy, mem-*, soak, collective); read by
// the simulation's host-memory check.
inline constexpr param_key<uint64_t> bytes{"workload.bytes"};
} // namespace workload

// Every key above with its type, for the test that checks them against the schema.
struct shared_key {
    const char* name;
    param_type type;
};
inline constexpr shared_key all_shared[] = {
    {sim::mode.name, param_type::string},          {sim::seed.name, param_type::integer},
    {sim::log_level.name, param_type::string},     {sim::max_time_ms.name, param_type::real},
    {preset::name.name, param_type::string},       {preset::description.name, param_type::string},
    {chip::freq_mhz.name, param_type::real},       {chip::noc_hop_ns.name, param_type::real},
    {addr::devmem_base.name, param_type::integer}, {addr::regs_base.name, param_type::integer},
    {addr::host_window_base.name, param_type::integer}, {addr::host_window_size.name, param_type::integer},
    {addr::shared_sram_base.name, param_type::integer}, {addr::sram_base.name, param_type::integer},
    {mem::size.name, param_type::integer},         {mem::model.name, param_type::string},
    {mem::bandwidth_gbps.name, param_type::real},  {mem::latency_ns.name, param_type::real},
    {mem::standard.name, param_type::string},      {mem::stacks.name, param_type::integer},
    {sram::freq_mhz.name, param_type::real},       {dma::engines.name, param_type::integer},
    {dma::burst_bytes.name, param_type::integer},  {dma::max_outstanding.name, param_type::integer},
    {dma::bandwidth_gbps.name, param_type::real},  {dma::setup_ns.name, param_type::real},
    {qman::rings.name, param_type::integer},       {qman::cqs.name, param_type::integer},
    {qman::decode_ns.name, param_type::real},      {sync::op_ns.name, param_type::real},
    {pcie::msix_vectors.name, param_type::integer}, {cpu::enabled.name, param_type::boolean},
    {cpu::freq_mhz.name, param_type::real},        {cpu::timer_mhz.name, param_type::integer},
    {mmu::enabled.name, param_type::boolean},      {compute::clusters.name, param_type::integer},
    {coll::setup_ns.name, param_type::real},       {host::bus_hop_ns.name, param_type::real},
    {host::mem_bandwidth_gbps.name, param_type::real},
    {host::driver_rings.name, param_type::integer}, {host::driver_firmware.name, param_type::string},
    {system::topology.name, param_type::string},   {system::chips.name, param_type::integer},
    {workload::bytes.name, param_type::integer},
};

} // namespace accelvp::keys
