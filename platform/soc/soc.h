// The SoC composition (`system.kind: soc`, preset edge-soc; docs/edge.md): an application
// CPU (the RV32 ISS) running a bare-metal program from system DRAM, the NPU as a
// memory-mapped IP (npu_ip.h) on the same system bus, a CLINT and a system-control block
// (console, exit, report words) -- no PCIe, no host model, no control core.
//
//   cpu --> bus --+--> clint    AAX_SOC_CLINT_BASE
//                 +--> sysctl   AAX_SOC_SYSCTL_BASE
//                 +--> npu regs AAX_SOC_NPU_REGS_BASE
//                 +--> npu SRAM window AAX_SOC_NPU_SRAM_BASE
//                 +--> dram     AAX_SOC_DRAM_BASE (soc.dram.*)
//   npu master (DMA) --> bus;   npu irq --> cpu MEIP;   clint --> cpu MTIP/MSIP
#pragma once

#include <iosfwd>
#include <string>

#include "platform/sim/simulation.h"
#include "tlm/core/config.h"

namespace accelvp {

// Whether a -c name or path is an SoC preset (its YAML has system.kind: soc).
bool is_soc_config(const std::string& name_or_path);

// Everything the SoC can be configured with.
param_schema soc_schema();

// `accelvp run -c edge-soc [-w soc-app]`: load, elaborate, run the application until it
// writes AAX_SOC_SYSCTL_EXIT, report. Config errors throw config_error (exit 2); a failed
// application gives exit code 1. Once per process.
run_result run_soc(const run_options& o, std::ostream& out);

} // namespace accelvp
