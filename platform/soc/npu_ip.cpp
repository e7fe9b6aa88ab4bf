#include "platform/soc/npu_ip.h"

#include "tlm/core/keys.h"

namespace accelvp {

namespace {
compute_params npu_compute(const config& c) {
    compute_params p = compute_params::from_config(c);
    p.clusters = 1;  // the IP is one cluster (the SoC schema refuses other values)
    return p;
}
npu_ctrl::params ctrl_params(const config& c, const npu_ip::layout& l) {
    npu_ctrl::params p = npu_ctrl::from_config(c, "npu");
    p.has_dma = c.get(keys::dma::engines) > 0;
    p.sram_base = l.sram_base;
    p.sram_size = static_cast<uint32_t>(compute_params::from_config(c).sram_bytes);
    p.dram_base = l.dram_base;
    p.dram_size = l.dram_size;
    p.irq_line = l.irq_line;
    return p;
}
} // namespace

npu_ip::npu_ip(sc_core::sc_module_name name, const config& c, const layout& l)
    : sc_module(name), compute("compute", npu_compute(c)), ctrl("ctrl", ctrl_params(c, l)),
      dma(c.get(keys::dma::engines) > 0 ? std::make_unique<dma_engine>("dma0", dma_engine::from_config(c, "dma"))
                                        : nullptr),
      npu_bus("npu_bus"), to_sys("to_sys", l.dram_base, l.dram_size) {
    ctrl.compute_socket.bind(compute.router.cmd_socket);
    if (dma) {
        ctrl.dma_socket.bind(dma->cmd_socket);
        dma->bus_socket.bind(npu_bus.target_socket);
    } else {
        no_dma_ = std::make_unique<tlm_utils::passthrough_target_socket<npu_ip>>("no_dma");
        no_dma_->register_b_transport(this, &npu_ip::no_dma_b_transport);
        ctrl.dma_socket.bind(*no_dma_);
    }
    ctrl.window_out.bind(npu_bus.target_socket);
    npu_bus.add_target("sram", l.sram_base, compute.params().sram_bytes, compute.clusters[0]->sram.socket);
    npu_bus.add_target("dram", l.dram_base, l.dram_size, to_sys.target_socket);
}

} // namespace accelvp
