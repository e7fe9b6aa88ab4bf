#include "tlm/compute/compute_cluster.h"

#include <cstring>

#include "tlm/compute/engine_models.h"

namespace accelvp {

// compute.sram_bytes_per_cycle spread over 16-byte banks (one bank of that width when it
// is not a multiple of 16), two ports, two cycles of latency, on the cluster clock.
accelvp::sram_params compute_cluster::sram_params(const compute_params& p) {
    accelvp::sram_params m;
    m.size = p.sram_bytes;
    const uint32_t w = p.sram_bytes_per_cycle % 16 == 0 ? 16 : p.sram_bytes_per_cycle;
    m.bank_width = w;
    m.banks = p.sram_bytes_per_cycle / w;
    m.ports = 2;
    m.freq_mhz = p.freq_mhz;
    m.latency_cycles = 2;
    m.dmi = true;
    return m;
}

namespace {
// The engine of `model` (compute_params::from_config has checked that it exists).
template <typename Tlm>
std::unique_ptr<compute_engine> make_engine(const char* engine, const std::string& model, const char* name,
                                            const compute_params& p, sparse_store& store) {
    if (model != "tlm")
        if (const engine_model* m = find_engine_model(engine, model)) return m->make(name, p, store);
    return std::make_unique<Tlm>(name, p, store);
}
} // namespace

compute_cluster::compute_cluster(sc_core::sc_module_name name, const compute_params& p)
    : sc_module(name), sram("sram", sram_params(p)),
      mxu_(make_engine<matrix_engine>("matrix", p.matrix_model, "mxu", p, sram.store())),
      vpu_(make_engine<vector_engine>("vector", p.vector_model, "vpu", p, sram.store())), mxu(*mxu_), vpu(*vpu_) {}

compute_router::compute_router(sc_core::sc_module_name name)
    : sc_module(name), cmd_socket("cmd_socket"), engine_socket("engine_socket") {
    cmd_socket.register_b_transport(this, &compute_router::cmd_b_transport);
}

void compute_router::bind_cluster(compute_cluster& c) {
    engine_socket.bind(c.mxu.cmd_socket);
    engine_socket.bind(c.vpu.cmd_socket);
    ++clusters_;
}

void compute_router::cmd_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    auto* ext = t.get_extension<command_ext>();
    aax_pkt_hdr h;
    uint16_t cluster;
    if (!ext || t.get_data_length() < sizeof(h) + sizeof(cluster)) {
        if (ext) ext->status = AAX_ERR_BAD_LENGTH;
        t.set_response_status(ext ? tlm::TLM_OK_RESPONSE : tlm::TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    // Both packets carry the cluster index right after the header.
    std::memcpy(&h, t.get_data_ptr(), sizeof(h));
    std::memcpy(&cluster, t.get_data_ptr() + sizeof(h), sizeof(cluster));
    if ((h.opcode != AAX_OP_GEMM && h.opcode != AAX_OP_VEC) || cluster >= clusters_) {
        ext->status = AAX_ERR_BAD_PARAM;
        t.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
    }
    engine_socket[2 * cluster + (h.opcode == AAX_OP_VEC ? 1 : 0)]->b_transport(t, delay);
}

compute_complex::compute_complex(sc_core::sc_module_name name, const compute_params& p)
    : sc_module(name), router("router"), p_(p) {
    for (uint32_t i = 0; i < p.clusters; ++i) {
        clusters.push_back(std::make_unique<compute_cluster>(("cluster" + std::to_string(i)).c_str(), p));
        router.bind_cluster(*clusters.back());
    }
}

uint64_t compute_complex::sram_stride(const compute_params& p) {
    uint64_t s = 1;
    while (s < p.sram_bytes) s <<= 1;
    return s;
}

} // namespace accelvp
