// Chip v0: the blocks of one accelerator and how they connect.
//
//   host link --> pcie_endpoint --to_chip--> noc (interconnect) --+--> device memory, sram
//                      ^                                     +--> regs_guard --> regs (router) --> device_ctrl, qman,
//                      |                                     |    (guest engines: semaphores only)   sync, pcie msix, mmu
//                      +--------from_chip (host window) <----+
//   qman --bus--> noc    qman --dma--> dma_engine --bus--> [mmu port] --> noc    qman --sync--> semaphores
//   qman --compute--> compute router --> cluster i engines; cluster i SRAM on the noc
//   noc --> [devmem_guard: firmware region closed to guest initiators] --> device memory
//   qman --irq--> device_ctrl --msi--> pcie_endpoint --> host    device_ctrl --reset--> qman, semaphores
//
// The address map (chip bus addresses) comes from the config: addr.devmem_base,
// addr.regs_base, addr.host_window_base, addr.sram_base (cluster SRAMs),
// addr.shared_sram_base (the shared scratchpad). The NoC is tlm/noc/interconnect.h
// (noc.topology; the default crossbar with unlimited links is the former fixed-latency
// router). With dma.engines > 1, a dma_fanout sends ring r's DMA packets to engine r % N.
#pragma once

#include <memory>

#include <systemc>

#include "platform/chip/control_core.h"
#include "platform/chip/perf_counters.h"
#include "tlm/compute/compute_cluster.h"
#include "tlm/core/config.h"
#include "tlm/core/keys.h"
#include "tlm/core/params.h"
#include "tlm/core/fault.h"
#include "tlm/core/register_firewall.h"
#include "tlm/core/router.h"
#include "tlm/ctrl/device_ctrl.h"
#include "tlm/dma/dma_engine.h"
#include "tlm/dma/dma_fanout.h"
#include "tlm/link/coll_engine.h"
#include "tlm/mem/dram_memory.h"
#include "tlm/mem/memory.h"
#include "tlm/mem/sram.h"
#include "tlm/mmu/mmu.h"
#include "tlm/noc/interconnect.h"
#include "tlm/pcie/pcie_endpoint.h"
#include "tlm/qman/queue_manager.h"
#include "tlm/sync/semaphores.h"

namespace accelvp {

class chip : public sc_core::sc_module {
public:
    // The chip's own keys (absolute: chip.*, addr.*, dma.engines, mem.model); every block's
    // keys are declared by the block's table under its prefix (chip::declare lists them).
    // Most are read across blocks, through the typed constants of tlm/core/keys.h.
    struct params {
        double freq_mhz = 1000;
        double noc_hop_ns = 2;
        uint64_t devmem_base = 0;
        uint64_t regs_base = 0x100'0000'0000ull;
        uint64_t host_window_base = 1ull << 48;
        uint64_t host_window_size = 1ull << 46;
        uint64_t shared_sram_base = 0x300'0000'0000ull;
        uint64_t sram_base = 0x200'0000'0000ull;
        uint32_t dma_engines = 1;
        std::string mem_model = "simple";
        static const param_table<params>& table();  // the parameters: key, member, range, unit, description
    };
    static void declare(param_schema& s);

    chip(sc_core::sc_module_name name, const config& c);
    ~chip() override;

    // Analytic peak bandwidth of a DMA copy in each direction (bytes/s): the slowest
    // resource on the path (device->device reads and writes share the memory bus).
    double peak_h2d() const;
    double peak_d2h() const;
    double peak_d2d() const;
    double freq_hz() const { return freq_hz_; }
    uint64_t host_window_base() const { return host_window_; }
    // Chip bus address of cluster i's SRAM (addr.sram_base + i * stride).
    uint64_t sram_addr(unsigned cluster) const { return sram_base_ + cluster * compute_complex::sram_stride(compute.params()); }
    double devmem_peak() const { return devmem_bw_; }
    double dma_peak() const { return dma[0]->peak_bytes_per_s() * static_cast<double>(dma.size()); }
    // Chip bus address of the shared scratchpad SRAM (sram0).
    uint64_t shared_sram_base() const { return shared_sram_base_; }

    interconnect noc;
    router regs;
    register_firewall regs_guard;  // guest engines reach only the semaphores in register space
    // With a control core: the firmware region (the core's code, data, stack, boot
    // parameters, log) is closed to every initiator but the host (BAR2) and the core.
    std::unique_ptr<memory_guard> devmem_guard;
    // Device memory, the model mem.model names (the table in chip.cpp): simple (one bus
    // timeline + latency) or dram (stacks, channels, banks: devmem->dram()).
    std::unique_ptr<memory_target> devmem;
    pcie_endpoint pcie;
    device_ctrl ctrl;
    queue_manager qman;
    // The DMA engines dma0..dma{N-1} (dma.engines); with N > 1 a dma_fanout sends ring r's
    // DMA packets to engine r % N.
    std::vector<std::unique_ptr<dma_engine>> dma;
    std::unique_ptr<dma_fanout> dma_fan;
    sram sram0;  // shared on-chip scratchpad on the chip bus at addr.shared_sram_base
    semaphores sync;
    compute_complex compute;  // compute.clusters x (matrix engine + vector engine + SRAM)
    coll_engine coll;  // scale-out: its ports are wired by a multi-chip system, else none
    std::unique_ptr<control_core> cpu;  // with cpu.enabled
    std::unique_ptr<mmu> mmu0;          // with mmu.enabled: a port between each DMA engine and the noc
    // Hardware performance counters, BAR0 0xB000 (docs/profiling.md): views of the blocks' stats.
    perf_counters perf;

    // Fault injection (fault.*, docs/security.md): the parameters in force, and the firmware
    // crashes injected so far.
    const fault_params& faults() const { return faults_; }
    uint64_t fw_crashes_injected() const { return fw_crashes_.get(); }

private:
    void inject_faults(const config& c);
    void list_perf_units(perf_counters& p);  // the counters' units (end of elaboration: links are wired)
    fault_params faults_;
    uint64_t fw_jobs_started_ = 0;
    fault_stream fw_rng_;
    counter fw_crashes_{"fw_crashes", "control-core firmware crashes injected (fault.fw_crash_*)"};
    double freq_hz_;
    uint64_t host_window_;
    double host_mem_bw_;
    double devmem_bw_ = 0;  // peak of the device memory (bytes/s)
    uint64_t sram_base_;         // cluster SRAMs
    uint64_t shared_sram_base_;  // sram0
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

} // namespace accelvp
