// An accelvp chip in a SystemC platform of your own (docs/embedding.md): no accelvp host,
// driver or workload, only the chip module and this file's host model, which
//   - owns host memory and receives the chip's upstream traffic (DMA reads/writes of host
//     memory and MSI-X messages) on a TLM target socket bound to chip.pcie.to_host,
//   - drives BAR0 (registers) and BAR2 (device memory) through two TLM initiator sockets,
//   - programs one submission ring, one completion queue and the MSI-X vector of that CQ
//     straight from abi/ (the device ABI, docs/abi.md), submits one job with one DMA packet
//     that copies a host buffer into device memory, sleeps until the completion interrupt,
//     checks the completion record and the copied bytes.
// Exit 0 when the copy is verified, 1 otherwise.
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

#include <accelvp/abi/aax_encode.h>
#include <accelvp/abi/aax_regs.h>
#include <accelvp/platform/chip/chip.h>
#include <accelvp/platform/sim/simulation.h>
#include <accelvp/tlm/core/data_dir.h>

namespace {

constexpr uint64_t kHostMem = 1 << 20;          // host physical 0 .. 1 MiB
constexpr uint64_t kMsiAddr = 0xFEE0'0000;      // where this host takes MSI-X writes
constexpr uint64_t kCq = 0x1000;                // host phys: the completion queue (16 records)
constexpr uint64_t kSrc = 0x10000;              // host phys: the source buffer
constexpr uint64_t kBytes = 64 * 1024;
constexpr uint64_t kRing = 0x0;                 // BAR2 offsets (device memory)
constexpr uint64_t kCmdbuf = 0x1000;
constexpr uint64_t kDst = 0x100000;

struct my_host : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<my_host> bar0{"bar0"}, bar2{"bar2"};
    tlm_utils::simple_target_socket<my_host> upstream{"upstream"};
    std::vector<uint8_t> mem = std::vector<uint8_t>(kHostMem);
    sc_core::sc_event msi;
    std::vector<uint32_t> vectors;  // MSI-X data words received
    uint64_t devmem_base = 0, host_window = 0;
    bool ok = false;

    SC_HAS_PROCESS(my_host);
    explicit my_host(sc_core::sc_module_name n) : sc_module(n) {
        upstream.register_b_transport(this, &my_host::b_transport);
        upstream.register_transport_dbg(this, &my_host::transport_dbg);
        SC_THREAD(main);
    }

    // Upstream from the chip: host memory, and MSI-X messages at kMsiAddr.
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time&) {
        const uint64_t a = t.get_address();
        const unsigned len = t.get_data_length();
        if (t.is_write() && a == kMsiAddr && len == 4) {
            uint32_t v;
            std::memcpy(&v, t.get_data_ptr(), 4);
            vectors.push_back(v);
            msi.notify(sc_core::SC_ZERO_TIME);
            t.set_response_status(tlm::TLM_OK_RESPONSE);
            return;
        }
        if (a >= kHostMem || len > kHostMem - a) {
            t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return;
        }
        if (t.is_write()) std::memcpy(&mem[a], t.get_data_ptr(), len);
        else std::memcpy(t.get_data_ptr(), &mem[a], len);
        t.set_response_status(tlm::TLM_OK_RESPONSE);
    }
    unsigned transport_dbg(tlm::tlm_generic_payload& t) {
        sc_core::sc_time d;
        b_transport(t, d);
        return t.is_response_ok() ? t.get_data_length() : 0;
    }

    // One blocking access through a BAR; the host waits out the annotated delay (loosely timed).
    bool access(tlm_utils::simple_initiator_socket<my_host>& s, tlm::tlm_command cmd, uint64_t off, void* data,
                unsigned len) {
        tlm::tlm_generic_payload t;
        t.set_command(cmd);
        t.set_address(off);
        t.set_data_ptr(static_cast<unsigned char*>(data));
        t.set_data_length(len);
        t.set_streaming_width(len);
        t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        s->b_transport(t, d);
        wait(d);
        return t.is_response_ok();
    }
    void wr32(uint64_t reg, uint32_t v) { access(bar0, tlm::TLM_WRITE_COMMAND, reg, &v, 4); }
    uint32_t rd32(uint64_t reg) {
        uint32_t v = 0;
        access(bar0, tlm::TLM_READ_COMMAND, reg, &v, 4);
        return v;
    }
    void wr64(uint64_t reg, uint64_t v) {
        wr32(reg, static_cast<uint32_t>(v));
        wr32(reg + 4, static_cast<uint32_t>(v >> 32));
    }

    void main() {
        if (rd32(AAX_REG_ID) != AAX_ID_MAGIC) return fail("no accelvp chip behind BAR0");
        devmem_base = rd32(AAX_REG_DEVMEM_BASE_LO) | uint64_t(rd32(AAX_REG_DEVMEM_BASE_HI)) << 32;
        host_window = rd32(AAX_REG_HOST_WIN_LO) | uint64_t(rd32(AAX_REG_HOST_WIN_HI)) << 32;
        // The source: a pattern in host memory. The CQ: zeroed host memory.
        for (uint64_t i = 0; i < kBytes; ++i) mem[kSrc + i] = static_cast<uint8_t>(i * 7 + (i >> 8));
        // MSI-X vector of CQ 0 -> kMsiAddr, data = vector number, unmasked.
        const unsigned vec = AAX_MSIX_VEC_CQ(0);
        wr64(AAX_MSIX_ENTRY(vec) + AAX_MSIX_ADDR_LO, kMsiAddr);
        wr32(AAX_MSIX_ENTRY(vec) + AAX_MSIX_DATA, vec);
        wr32(AAX_MSIX_ENTRY(vec) + AAX_MSIX_CTRL, 0);
        // CQ 0 in host memory (the chip reaches host physical p at host_window + p).
        wr64(AAX_CQ_BASE(0) + AAX_CQ_BASE_LO, host_window + kCq);
        wr32(AAX_CQ_BASE(0) + AAX_CQ_SIZE_LOG2, 4);
        wr32(AAX_CQ_BASE(0) + AAX_CQ_CTRL, AAX_CQ_CTRL_EN | AAX_CQ_CTRL_IRQ_EN);
        // Ring 0 in device memory, reporting to CQ 0.
        wr64(AAX_RING_BASE(0) + AAX_RING_BASE_LO, devmem_base + kRing);
        wr32(AAX_RING_BASE(0) + AAX_RING_SIZE_LOG2, 4);
        wr32(AAX_RING_BASE(0) + AAX_RING_CTRL, AAX_RING_CTRL_EN | (0u << AAX_RING_CTRL_CQ_SHIFT));
        wr32(AAX_REG_IRQ_MASK, ~(AAX_IRQ_CQ(0) | AAX_IRQ_ERROR));
        // The job: one DMA packet, host buffer -> device memory; its descriptor in slot 0.
        aax_pkt_dma pkt = aax_make_copy_2d(host_window + kSrc, devmem_base + kDst, kBytes, 1, 0, 0);
        access(bar2, tlm::TLM_WRITE_COMMAND, kCmdbuf, &pkt, sizeof(pkt));
        aax_job_desc job{};
        job.cmdbuf_addr = devmem_base + kCmdbuf;
        job.cmdbuf_size = sizeof(pkt);
        job.job_id = 42;
        job.flags = AAX_JOB_IRQ | AAX_JOB_TIMESTAMP;
        access(bar2, tlm::TLM_WRITE_COMMAND, kRing, &job, sizeof(job));
        const sc_core::sc_time t0 = sc_core::sc_time_stamp();
        wr32(AAX_DOORBELL(0), 1);
        // Sleep until the completion interrupt (or give up after 10 ms of simulated time).
        wait(sc_core::sc_time(10, sc_core::SC_MS), msi);
        const sc_core::sc_time t1 = sc_core::sc_time_stamp();
        if (vectors.empty()) return fail("no MSI-X message within 10 ms");
        aax_cq_entry cqe;
        std::memcpy(&cqe, &mem[kCq], sizeof(cqe));
        if (vectors[0] != vec) return fail("MSI-X message of the wrong vector");
        if (!(cqe.flags & AAX_CQE_PHASE) || cqe.job_id != 42) return fail("no completion record for job 42");
        if (cqe.status != AAX_OK) {
            std::fprintf(stderr, "embed_dma: job 42 failed: %s\n", aax_status_name(cqe.status));
            return fail("the job failed");
        }
        // Read the copy back through BAR2 and compare.
        std::vector<uint8_t> back(kBytes);
        access(bar2, tlm::TLM_READ_COMMAND, kDst, back.data(), static_cast<unsigned>(kBytes));
        if (std::memcmp(back.data(), &mem[kSrc], kBytes) != 0) return fail("device memory differs from the source");
        ok = true;
        std::printf("embed_dma: copied %llu bytes host -> device: verified; doorbell to interrupt %.3f us "
                    "(device busy %llu ns, from the completion record)\n",
                    static_cast<unsigned long long>(kBytes), (t1 - t0).to_seconds() * 1e6,
                    static_cast<unsigned long long>(cqe.ts_end - cqe.ts_start));
        sc_core::sc_stop();
    }
    void fail(const char* why) {
        std::fprintf(stderr, "embed_dma: FAILED: %s\n", why);
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
    // The chip's configuration: a preset (found in the installation's share/accelvp/configs)
    // and overrides, loaded and checked as `accelvp run` does. No control core: this host
    // does not boot firmware, the hardware scheduler runs the rings.
    if (!std::getenv("ACCELVP_DATA_DIR")) accelvp::set_data_dir(EMBED_ACCELVP_DATA_DIR);
    const accelvp::param_schema schema = accelvp::build_schema("");
    accelvp::run_options o;
    o.config = "inference";
    o.overrides = {"cpu.enabled=false"};
    std::unique_ptr<accelvp::config> cfg;
    try {
        cfg = std::make_unique<accelvp::config>(accelvp::load_config(schema, o));
    } catch (const accelvp::config_error& e) {
        std::fprintf(stderr, "embed_dma: %s\n", e.what());
        return 2;
    }

    accelvp::chip soc("chip", *cfg);
    my_host host("my_host");
    host.bar0.bind(soc.pcie.bar0_socket);
    host.bar2.bind(soc.pcie.bar2_socket);
    soc.pcie.to_host.bind(host.upstream);

    sc_core::sc_start();
    return host.ok ? 0 : 1;
}
