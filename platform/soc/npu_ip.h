// The NPU as a memory-mapped IP (docs/edge.md): the existing compute cluster (matrix and
// vector engine, SRAM), an optional DMA engine and the register-driven job controller
// (tlm/npu/npu_ctrl), behind four connections an SoC binds:
//
//   SoC bus --> reg_target()    : the job registers (abi/aax_soc.h, AAX_SOC_NPU_*)
//   SoC bus --> window_target() : the SRAM window (compute.sram_bytes)
//   master()  --> SoC bus       : the DMA engine's accesses to system DRAM (dma.engines = 1)
//   irq()     --> a CPU's irq_level_if (line npu_ctrl::params::irq_line, level-sensitive)
//
// Inside, one bus joins the DMA engine and the window to the SRAM:
//   ctrl.window_out --+--> npu_bus --+--> cluster0.sram          [sram_base, + sram_bytes)
//   dma0.bus_socket --'              '--> to_sys --> master()     [dram_base, + dram_size)
#pragma once

#include <memory>

#include <systemc>
#include <tlm>
#include <tlm_utils/passthrough_target_socket.h>

#include "tlm/compute/compute_cluster.h"
#include "tlm/core/bus_bridge.h"
#include "tlm/core/config.h"
#include "tlm/core/router.h"
#include "tlm/dma/dma_engine.h"
#include "tlm/npu/npu_ctrl.h"

namespace accelvp {

class npu_ip : public sc_core::sc_module {
public:
    struct layout {
        uint32_t sram_base = AAX_SOC_NPU_SRAM_BASE;
        uint32_t dram_base = AAX_SOC_DRAM_BASE;
        uint64_t dram_size = 0;
        unsigned irq_line = 11;
    };
    // Reads compute.*, dma.*, dma.engines (0 or 1) and npu.*.
    npu_ip(sc_core::sc_module_name name, const config& c, const layout& l);

    tlm_utils::passthrough_target_socket<npu_ctrl>& reg_target() { return ctrl.reg_socket; }
    tlm_utils::passthrough_target_socket<npu_ctrl>& window_target() { return ctrl.window_socket; }
    tlm_utils::simple_initiator_socket<bus_bridge>& master() { return to_sys.initiator_socket; }
    sc_core::sc_port<irq_level_if, 1, sc_core::SC_ZERO_OR_MORE_BOUND>& irq() { return ctrl.irq_out; }
    bool has_dma() const { return dma != nullptr; }
    uint64_t sram_bytes() const { return compute.params().sram_bytes; }

    compute_complex compute;
    npu_ctrl ctrl;
    std::unique_ptr<dma_engine> dma;
    router npu_bus;
    bus_bridge to_sys;

private:
    // Answers the job controller's DMA socket when there is no engine (never called: the
    // controller refuses DRAM operands without AAX_SOC_CAPS_DMA).
    std::unique_ptr<tlm_utils::passthrough_target_socket<npu_ip>> no_dma_;
    void no_dma_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time&) {
        t.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    }
};

} // namespace accelvp
