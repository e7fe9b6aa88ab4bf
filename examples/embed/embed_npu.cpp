// accelvp's NPU as an IP inside a SystemC SoC of your own (docs/edge.md, docs/embedding.md):
// no accelvp CPU, bus or DRAM, only the IP (accelvp::npu_ip) and this file's SoC model, which
//   - owns 1 MiB of DRAM at 0x8000_0000 and serves the NPU's DMA master on a TLM target socket,
//   - drives the NPU's job registers and its SRAM window through two TLM initiator sockets,
//   - takes the NPU's interrupt line on an irq_level_if it exports,
//   - runs one INT8 GEMM job (operands and result in its DRAM, fetched by the NPU's DMA) and one
//     job with a bad address (which must end in BAD_ADDRESS with the error interrupt), straight
//     from abi/aax_soc.h, sleeping until each interrupt, and checks the result bit-exactly.
// Exit 0 when both jobs behave, 1 otherwise.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <accelvp/abi/aax_queue.h>
#include <accelvp/abi/aax_soc.h>
#include <accelvp/platform/soc/npu_ip.h>
#include <accelvp/platform/soc/soc.h>
#include <accelvp/tlm/core/data_dir.h>

namespace {

constexpr uint32_t kDramBase = AAX_SOC_DRAM_BASE;
constexpr uint32_t kDramSize = 1 << 20;
constexpr uint32_t kM = 32, kN = 24, kK = 40;
constexpr uint32_t kA = kDramBase + 0x1000, kB = kDramBase + 0x2000, kC = kDramBase + 0x3000;

struct my_soc : sc_core::sc_module, accelvp::irq_level_if {
    tlm_utils::simple_initiator_socket<my_soc> regs{"regs"}, window{"window"};
    tlm_utils::simple_target_socket<my_soc> dram{"dram"};
    sc_core::sc_export<accelvp::irq_level_if> irq{"irq"};
    std::vector<uint8_t> mem = std::vector<uint8_t>(kDramSize);
    bool line = false;
    sc_core::sc_event line_ev;
    bool ok = false;

    SC_HAS_PROCESS(my_soc);
    explicit my_soc(sc_core::sc_module_name n) : sc_module(n) {
        dram.register_b_transport(this, &my_soc::b_transport);
        dram.register_transport_dbg(this, &my_soc::transport_dbg);
        irq.bind(*this);
        SC_THREAD(main);
    }

    // The NPU's interrupt: a level.
    void set_level(unsigned, bool level) override {
        line = level;
        line_ev.notify(sc_core::SC_ZERO_TIME);
    }
    // DRAM, as the NPU's DMA master sees it: SoC bus addresses; 10 ns and 16 bytes/ns.
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
        const uint64_t a = t.get_address();
        const unsigned len = t.get_data_length();
        if (a < kDramBase || a - kDramBase > kDramSize || len > kDramSize - (a - kDramBase)) {
            t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return;
        }
        uint8_t* p = &mem[a - kDramBase];
        if (t.is_write()) std::memcpy(p, t.get_data_ptr(), len);
        else std::memcpy(t.get_data_ptr(), p, len);
        delay += sc_core::sc_time(10 + len / 16.0, sc_core::SC_NS);
        t.set_response_status(tlm::TLM_OK_RESPONSE);
    }
    unsigned transport_dbg(tlm::tlm_generic_payload& t) {
        sc_core::sc_time d;
        b_transport(t, d);
        return t.is_response_ok() ? t.get_data_length() : 0;
    }

    uint32_t reg(uint32_t off) {
        uint32_t v = 0;
        access(regs, tlm::TLM_READ_COMMAND, off, &v);
        return v;
    }
    void reg(uint32_t off, uint32_t v) { access(regs, tlm::TLM_WRITE_COMMAND, off, &v); }
    void access(tlm_utils::simple_initiator_socket<my_soc>& s, tlm::tlm_command cmd, uint32_t off, uint32_t* v) {
        tlm::tlm_generic_payload t;
        t.set_command(cmd);
        t.set_address(off);
        t.set_data_ptr(reinterpret_cast<unsigned char*>(v));
        t.set_data_length(4);
        t.set_streaming_width(4);
        t.set_byte_enable_ptr(nullptr);
        t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        s->b_transport(t, d);
        wait(d);
    }
    // START, sleep until the line rises, acknowledge; returns IRQ_STATUS.
    uint32_t run_job() {
        reg(AAX_SOC_NPU_CTRL, AAX_SOC_CTRL_START);
        while (!line) wait(line_ev);
        const uint32_t s = reg(AAX_SOC_NPU_IRQ_STATUS);
        reg(AAX_SOC_NPU_IRQ_STATUS, s);
        return s;
    }
    void job(uint32_t op, uint32_t src0, uint32_t src1, uint32_t dst) {
        reg(AAX_SOC_NPU_OP, op);
        reg(AAX_SOC_NPU_DTYPE_IN, AAX_DT_INT8);
        reg(AAX_SOC_NPU_DTYPE_OUT, AAX_DT_INT32);
        reg(AAX_SOC_NPU_M, kM);
        reg(AAX_SOC_NPU_N, kN);
        reg(AAX_SOC_NPU_K, kK);
        reg(AAX_SOC_NPU_SRC0, src0);
        reg(AAX_SOC_NPU_SRC1, src1);
        reg(AAX_SOC_NPU_DST, dst);
    }

    void main() {
        // Operands in DRAM, a reference on the host.
        std::vector<int8_t> A(kM * kK), B(kK * kN);
        uint32_t seed = 1;
        for (auto* v : {&A, &B})
            for (auto& x : *v) {
                seed = seed * 1103515245u + 12345u;
                x = static_cast<int8_t>(static_cast<int>((seed >> 16) % 256) - 128);
            }
        std::memcpy(&mem[kA - kDramBase], A.data(), A.size());
        std::memcpy(&mem[kB - kDramBase], B.data(), B.size());
        std::vector<int32_t> ref(kM * kN), got(kM * kN);
        for (uint32_t i = 0; i < kM; ++i)
            for (uint32_t j = 0; j < kN; ++j)
                for (uint32_t k = 0; k < kK; ++k) ref[i * kN + j] += int32_t{A[i * kK + k]} * B[k * kN + j];

        const bool id_ok = reg(AAX_SOC_NPU_ID) == AAX_SOC_NPU_ID_VALUE && (reg(AAX_SOC_NPU_CAPS) & AAX_SOC_CAPS_DMA);
        reg(AAX_SOC_NPU_IRQ_EN, AAX_SOC_IRQ_DONE | AAX_SOC_IRQ_ERROR);
        const sc_core::sc_time t0 = sc_core::sc_time_stamp();
        job(AAX_SOC_OP_GEMM, kA, kB, kC);
        const uint32_t done = run_job();
        const double ns = (sc_core::sc_time_stamp() - t0).to_seconds() * 1e9;
        std::memcpy(got.data(), &mem[kC - kDramBase], got.size() * 4);
        const bool gemm_ok = done == AAX_SOC_IRQ_DONE && got == ref;

        job(AAX_SOC_OP_GEMM, 0x40000000u, kB, kC);  // nothing there
        const uint32_t err = run_job();
        const uint32_t code = reg(AAX_SOC_NPU_ERR_CODE), addr = reg(AAX_SOC_NPU_ERR_ADDR);
        const bool err_ok = err == AAX_SOC_IRQ_ERROR && code == AAX_SOC_ERR_BAD_ADDRESS && addr == 0x40000000u;

        ok = id_ok && gemm_ok && err_ok;
        std::printf("embed_npu: GEMM %ux%ux%u INT8 from DRAM by the NPU's DMA: %s in %.3f us (START to interrupt); "
                    "bad address: %s\n", kM, kN, kK, gemm_ok ? "verified" : "WRONG", ns / 1000.0,
                    err_ok ? "BAD_ADDRESS + error interrupt" : "NOT REPORTED");
        sc_core::sc_stop();
    }
};

} // namespace

// Our own main, as accelvp's: no SystemC banner, no "simulation stopped" notice.
int main(int argc, char* argv[]) {
    setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 1);
    return sc_core::sc_elab_and_sim(argc, argv);
}

int sc_main(int, char*[]) {
    sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    // The IP's configuration: the edge-soc preset (compute.*, dma.*, npu.*), found in the
    // installation's share/accelvp/configs, checked against the SoC's schema.
    if (!std::getenv("ACCELVP_DATA_DIR")) accelvp::set_data_dir(EMBED_ACCELVP_DATA_DIR);
    const accelvp::param_schema schema = accelvp::soc_schema();
    std::unique_ptr<accelvp::config> cfg;
    try {
        cfg = std::make_unique<accelvp::config>(schema);
        cfg->load_yaml_file(accelvp::resolve_config_path("edge-soc"));
        cfg->validate();
    } catch (const accelvp::config_error& e) {
        std::fprintf(stderr, "embed_npu: %s\n", e.what());
        return 2;
    }

    accelvp::npu_ip::layout l;  // the NPU's view: SRAM at 0x2000_0000, DRAM at 0x8000_0000
    l.dram_size = kDramSize;
    accelvp::npu_ip npu("npu", *cfg, l);  // cfg must outlive it
    my_soc soc("my_soc");
    soc.regs.bind(npu.reg_target());
    soc.window.bind(npu.window_target());
    npu.master().bind(soc.dram);
    npu.irq().bind(soc.irq);

    sc_core::sc_start();
    return soc.ok ? 0 : 1;
}
