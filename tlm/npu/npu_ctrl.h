// npu_ctrl: the register-driven job controller of the NPU as an SoC IP (abi/aax_soc.h,
// docs/edge.md). It owns no engine: it turns one job written into its registers into the
// packets the existing engines run -- DMA packets for its DMA engine (when it has one) to
// stage DRAM operands into the SRAM and write the result back, GEMM and VEC packets for
// the compute cluster -- and raises its interrupt line when the job ends.
//
//   SoC bus --reg_socket-->    npu_ctrl --compute_socket--> compute router (cluster 0)
//   SoC bus --window_socket--> npu_ctrl --dma_socket-----> DMA engine (optional)
//                                       --window_out-----> NPU-internal bus (SRAM)
//   npu_ctrl --irq_out (level)--> the application CPU's external interrupt line
//
// The SRAM window is the CPU's path into the NPU SRAM: every access pays
// `npu.window_latency_ns` plus `npu.window_ns_per_word` per 32-bit word and is never
// granted DMI, so a CPU that copies data pays for it in simulated time.
#pragma once

#include <cstdint>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/passthrough_target_socket.h>

#include "abi/aax_soc.h"
#include "tlm/core/extensions.h"
#include "tlm/core/params.h"
#include "tlm/core/register_bank.h"
#include "tlm/core/stats.h"

namespace accelvp {

class npu_ctrl : public sc_core::sc_module {
public:
    tlm_utils::passthrough_target_socket<npu_ctrl> reg_socket;        // AAX_SOC_NPU_* (offsets)
    tlm_utils::passthrough_target_socket<npu_ctrl> window_socket;     // the SRAM window (offsets)
    tlm_utils::simple_initiator_socket<npu_ctrl> window_out;     // to the NPU bus, at sram_base + offset
    tlm_utils::simple_initiator_socket<npu_ctrl> compute_socket; // GEMM/VEC packets
    tlm_utils::simple_initiator_socket<npu_ctrl> dma_socket;     // DMA packets (bound to a sink without DMA)
    sc_core::sc_port<irq_level_if, 1, sc_core::SC_ZERO_OR_MORE_BOUND> irq_out;

    struct params {
        double job_ns = 50;               // per job: register decode, address checks, sequencing
        double window_latency_ns = 20;    // per CPU access through the SRAM window
        double window_ns_per_word = 2;    // per 32-bit word of such an access
        // Filled by the composition, not keys:
        bool has_dma = false;
        uint32_t sram_base = AAX_SOC_NPU_SRAM_BASE;  // bus address of the SRAM (NPU bus and SoC bus)
        uint32_t sram_size = 0;
        uint32_t dram_base = AAX_SOC_DRAM_BASE;
        uint64_t dram_size = 0;
        unsigned irq_line = 11;                      // the CPU line it drives (MEIP)
        static const param_table<params>& table();
    };
    static void declare(param_schema& s, const std::string& prefix);
    static params from_config(const config& c, const std::string& prefix);

    npu_ctrl(sc_core::sc_module_name name, const params& p);

    uint64_t window_bytes() const { return window_bytes_.get(); }
    uint64_t dma_bytes() const { return dma_bytes_.get(); }
    uint64_t busy_ps() const { return busy_ps_; }
    uint64_t jobs() const { return jobs_.get(); }
    uint64_t errors() const { return errors_.get(); }
    uint64_t fetch_bytes() const { return fetch_bytes_.get(); }

private:
    struct operand {
        uint32_t addr = 0;     // SoC bus address
        uint64_t bytes = 0;
        uint32_t sram = 0;     // SRAM offset the engines use
        bool staged = false;   // in DRAM: DMA'd in (sources) or out (result)
    };
    struct failure {
        uint32_t code;
        uint64_t addr;
    };

    void reg_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned reg_transport_dbg(tlm::tlm_generic_payload& t);
    void window_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned window_transport_dbg(tlm::tlm_generic_payload& t);
    void job_thread();
    // Runs one job (the registers or a list entry); returns AAX_SOC_ERR_NONE or sets f.
    uint32_t run_job(const aax_soc_job& j, failure& f);
    // Runs the command list at LIST_ADDR: fetches and runs each entry, stops at the first error.
    uint32_t run_list(failure& f);
    bool reachable(uint64_t addr, uint64_t bytes) const;
    uint32_t place(operand& o, uint64_t& stage_cursor, failure& f);
    uint32_t send(tlm_utils::simple_initiator_socket<npu_ctrl>& s, const void* pkt, uint32_t len, uint64_t& err);
    uint32_t dma(uint64_t src, uint64_t dst, uint64_t bytes, failure& f);
    uint32_t vec(uint8_t op, uint8_t dt, uint8_t dt_out, uint32_t rows, uint32_t cols, uint32_t s0, uint32_t s0_stride,
                 uint32_t s1, uint32_t s1_stride, uint32_t d, uint32_t d_stride, uint32_t param, uint32_t scalar,
                 failure& f);
    void update_irq();

    params p_;
    register_bank regs_;
    sc_core::sc_event start_ev_;
    bool busy_ = false;
    bool list_ = false;  // the running START is START_LIST
    bool irq_level_ = false;
    uint64_t busy_ps_ = 0;
    counter jobs_{"jobs", "jobs finished (done or error)"};
    counter errors_{"errors", "jobs that ended in an error"};
    counter window_bytes_{"window_bytes", "bytes the CPU moved through the SRAM window"};
    counter window_accesses_{"window_accesses", "CPU accesses through the SRAM window"};
    counter dma_bytes_{"dma_bytes", "bytes the NPU's DMA moved between DRAM and SRAM"};
    counter packets_{"packets", "engine packets issued (DMA, GEMM, VEC)"};
    counter lists_{"lists", "command lists run (each entry counts as a job)"};
    counter fetch_bytes_{"fetch_bytes", "command-list bytes fetched from DRAM over the NPU's master port"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

} // namespace accelvp
