// PCIe endpoint: the chip's side of the host link.
//
// Programmer's view (host side): BAR0 = the chip's 64 KiB register space, forwarded to
// the chip's register router; BAR2 = all of device memory (a resizable BAR, as large
// GPUs and accelerators expose); MSI-X table and pending bits at BAR0 0x8000/0x9000
// (served by this block through `msix_socket`).
// Device side: the chip's interconnect maps the host window onto `from_chip`; every
// access there becomes a host-memory access over the link.
//
// Timing: each direction of the link is a timeline at the effective bandwidth of
// lanes x rate x line-code efficiency, and each transfer pays one TLP header
// (`tlp_overhead_bytes`) per `max_payload` bytes plus the one-way `latency_ns`.
// Writes are posted (one crossing; the sender waits only for serialization, not for the
// flight); reads are a request crossing one way and a
// completion carrying the data the other way. BAR0 (register) accesses take effect in
// the chip at the time they arrive, so a doorbell starts its job after the link latency,
// not before. A BAR0 write is posted like any other: the host is free once it is on the
// wire, and the endpoint's posted-write thread applies it when it lands; a BAR0 read
// waits until every earlier write has landed (PCIe ordering: reads do not pass writes).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/passthrough_target_socket.h>

#include "abi/aax_regs.h"
#include "tlm/core/params.h"
#include "tlm/core/extensions.h"
#include "tlm/core/register_bank.h"
#include "tlm/core/stats.h"
#include "tlm/core/timeline.h"
#include "tlm/pcie/pci_config.h"

namespace accelvp {

class pcie_endpoint : public sc_core::sc_module, public irq_if {
public:
    // host side
    tlm_utils::passthrough_target_socket<pcie_endpoint> bar0_socket;
    tlm_utils::passthrough_target_socket<pcie_endpoint> bar2_socket;
    tlm_utils::simple_initiator_socket<pcie_endpoint> to_host;
    // chip side
    tlm_utils::simple_initiator_socket<pcie_endpoint> to_chip;
    tlm_utils::passthrough_target_socket<pcie_endpoint> from_chip;
    tlm_utils::passthrough_target_socket<pcie_endpoint> msix_socket;
    sc_core::sc_export<irq_if> msi_in;  // raise(vector)
    // SR-IOV (docs/virtualization.md, abi/aax_sriov.h): the VFs' BAR0 and BAR2 windows (host
    // side, VF k at k * AAX_BAR0_SIZE / k * vf_bar2_size()) and the PF's SR-IOV block
    // (chip register space AAX_SRIOV_WINDOW_BASE: the VFs' resources, the firmware's VF
    // error report). Unbound/unused when pcie.sriov.max_vfs = 0.
    using optional_target_socket = tlm_utils::passthrough_target_socket_optional<pcie_endpoint>;
    optional_target_socket vf_bar0_socket;
    optional_target_socket vf_bar2_socket;
    optional_target_socket sriov_socket;

    struct params {
        unsigned gen = 4;
        unsigned lanes = 16;
        unsigned max_payload = 256;
        unsigned tlp_overhead_bytes = 26;  // TLP header + sequence/LCRC + framing + DLLP share
        double latency_ns = 300;           // one way
        unsigned msix_vectors = 18;
        uint64_t regs_base = 0;            // chip address of BAR0 target
        uint64_t devmem_base = 0;          // chip address of BAR2 offset 0
        uint64_t devmem_size = 0;
        uint64_t bar2_size = 0;            // BAR2 window (power of two); 0 = device memory rounded up
        bool bar2_64bit = true;            // false: a 32-bit prefetchable BAR2
        uint32_t max_vfs = 0;              // pcie.sriov.max_vfs: SR-IOV virtual functions (0: no SR-IOV)
        static const param_table<params>& table();  // the parameters: key, member, range, unit, description
    };
    static void declare(param_schema& s, const std::string& prefix);
    static params from_config(const config& c, const std::string& prefix);
    // Raw bytes/s per direction for gen x lanes after line coding.
    static double raw_bytes_per_s(const params& p);
    // Payload bytes/s per direction for large transfers (after TLP overhead).
    static double effective_bytes_per_s(const params& p);

    pcie_endpoint(sc_core::sc_module_name name, const params& p);
    ~pcie_endpoint() override;

    const params& get_params() const { return p_; }
    // Device-originated accesses that came back into a BAR (peer-to-self loopback) and were refused.
    uint64_t loopback_refused() const { return loopback_refused_.get(); }
    // Hardware performance counters (platform/chip/perf_counters.h) read these.
    uint64_t bytes_h2d() const { return bytes_h2d_.get(); }
    uint64_t bytes_d2h() const { return bytes_d2h_.get(); }
    uint64_t tlps() const { return tlps_.get(); }
    uint64_t msi_sent() const { return msi_sent_.get(); }
    uint64_t busy_h2d_ps() const { return static_cast<uint64_t>(util_h2d_.total()); }
    uint64_t busy_d2h_ps() const { return static_cast<uint64_t>(util_d2h_.total()); }

    // Marks a transaction the device sent upstream (from_chip): the host fabric must not
    // turn it into a host access of this device's BARs (its own register space would then
    // see a privileged host write). Refused at the BARs with TLM_ADDRESS_ERROR_RESPONSE.
    struct upstream_ext : tlm::tlm_extension<upstream_ext> {
        const pcie_endpoint* from = nullptr;
        tlm::tlm_extension_base* clone() const override { return new upstream_ext(*this); }
        void copy_from(const tlm::tlm_extension_base& o) override { from = static_cast<const upstream_ext&>(o).from; }
    };

    // PCI configuration space (tlm/pcie/pci_config.h). Config accesses take no simulated
    // time. cfg_write re-evaluates the INTx output (INTx disable, MSI-X enable).
    const pci_config& config_space() const { return cfg_; }
    bool cfg_read(uint32_t off, unsigned len, uint32_t& val) const { return cfg_.read(off, len, val); }
    bool cfg_write(uint32_t off, unsigned len, uint32_t val);
    // Legacy INTx, for hosts that do not take MSI-X (QEMU's multi-process proxy forwards
    // only INTx). With a sink set and MSI-X disabled in config space, every interrupt
    // event asserts the line instead of sending a message; the line stays asserted while
    // IRQ_STATUS is nonzero (re-read after each host write to IRQ_STATUS, IRQ_MASK or
    // RESET). The sink is called with the line's new state on each change.
    void set_intx_sink(std::function<void(bool)> sink) { intx_sink_ = std::move(sink); }
    bool intx_asserted() const { return intx_out_; }

    // SR-IOV: the size of each VF's BAR2 window (its largest device-memory partition): the
    // largest power of two <= device memory / (max_vfs + 1), 0 without VFs.
    uint64_t vf_bar2_size() const { return vf_bar2_size_; }
    static uint64_t vf_bar2_size_of(const params& p);
    // Per-VF counters (tests, the report): errors reported to VF v, its function-level resets.
    uint64_t vf_errors(unsigned v) const;
    uint64_t vf_flrs(unsigned v) const;
    uint64_t vf_msis(unsigned v) const;

private:
    // True (counted, logged, answered with an address error) when t is device-originated
    // and may not enter this BAR: BAR0 never, BAR2 not from this device itself.
    bool refuse_upstream(tlm::tlm_generic_payload& t, bool bar0);
    enum class dir { h2d, d2h };
    // Link crossing of `bytes` payload (0 = a header-only request) arriving at `arrival`.
    uint64_t cross(dir d, uint64_t arrival_ps, uint64_t bytes);
    void forward(tlm_utils::simple_initiator_socket<pcie_endpoint>& out, dir write_dir, tlm::tlm_generic_payload& t,
                 sc_core::sc_time& delay, uint64_t new_addr);
    void bar0_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    void bar2_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    void from_chip_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned bar0_dbg(tlm::tlm_generic_payload& t);
    unsigned bar2_dbg(tlm::tlm_generic_payload& t);
    unsigned from_chip_dbg(tlm::tlm_generic_payload& t);
    unsigned forward_dbg(tlm_utils::simple_initiator_socket<pcie_endpoint>& out, tlm::tlm_generic_payload& t,
                         uint64_t new_addr);
    void msix_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& d) { msix_.b_transport(t, d); }
    // SR-IOV (tlm/pcie/sriov.cpp).
    void sriov_init();
    void vf_bar0_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    void vf_bar2_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
    unsigned vf_bar2_dbg(tlm::tlm_generic_payload& t);
    void sriov_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& d) { sriov_.b_transport(t, d); }
    unsigned sriov_dbg(tlm::tlm_generic_payload& t) { return sriov_.transport_dbg(t); }
    void vf_apply(unsigned vf, tlm::tlm_generic_payload& t, sc_core::sc_time& d);
    uint32_t vf_read(unsigned vf, uint32_t off, sc_core::sc_time& d);
    void vf_write(unsigned vf, uint32_t off, uint32_t v, sc_core::sc_time& d);
    bool pf_access(tlm::tlm_command cmd, uint32_t off, uint32_t& v, sc_core::sc_time& d);
    bool vf_raise(unsigned vector);  // a PF vector that belongs to an enabled VF's CQ: sent to that VF
    void vf_line(unsigned vf, unsigned line);
    void vf_send(unsigned vf, unsigned vector);
    void vf_flr(unsigned vf);
    uint64_t vf_field(unsigned vf, uint32_t off) const;
    unsigned msix_dbg(tlm::tlm_generic_payload& t) { return msix_.transport_dbg(t); }
    void raise(unsigned vector) override;
    void msi_thread();
    // A BAR0 access at the chip (the firmware window stays closed to the host).
    void bar0_apply(tlm::tlm_generic_payload& t, sc_core::sc_time& d);
    void posted_thread();
    void intx_update(bool level);
    void intx_resample();

    params p_;
    pci_config cfg_;
    std::function<void(bool)> intx_sink_;
    bool intx_out_ = false;
    timeline h2d_, d2h_;
    sc_core::sc_time latency_;
    register_bank msix_;  // window AAX_MSIX_WINDOW_BASE: the table entries and the PBA words hold the state
    unsigned pba_words_ = 0;
    struct msi_msg {
        int vf;  // -1: the PF's table
        unsigned vector;
    };
    std::deque<msi_msg> msi_queue_;
    // SR-IOV state.
    uint64_t vf_bar2_size_ = 0;
    register_bank sriov_;  // window AAX_SRIOV_WINDOW_BASE: VF resources, the firmware's VF error report
    struct vf_state {
        uint32_t irq_raw = 0, irq_mask = 0xFFFFFFFFu, scratch = 0;
        uint32_t err_status = 0, err_job = 0, err_offset = 0, err_count = 0;
        uint64_t err_addr = 0;
        struct entry {
            uint64_t addr = 0;
            uint32_t data = 0, ctrl = 1;
        };
        std::vector<entry> msix;
        uint32_t pba = 0;
        uint64_t errors = 0, flrs = 0, msis = 0;
    };
    std::vector<vf_state> vfs_;
    sc_core::sc_event msi_ev_;
    struct posted_write {
        uint64_t offset, arrive_ps;
        int vf;  // -1: the PF's BAR0
        std::vector<uint8_t> data;
    };
    std::deque<posted_write> posted_;  // BAR0 writes on their way, in arrival order
    sc_core::sc_event posted_ev_, drained_ev_;
    int track_h2d_ = 0, track_d2h_ = 0;

    counter bytes_h2d_{"bytes_h2d", "payload bytes host to device (host writes, device read completions)"};
    counter bytes_d2h_{"bytes_d2h", "payload bytes device to host (device writes, host read completions)"};
    counter tlps_{"tlps", "transaction-layer packets (approximate: one per max_payload)"};
    counter msi_sent_{"msi_sent", "MSI-X messages written to the host"};
    counter msi_masked_{"msi_masked", "MSI-X messages held pending by a masked vector"};
    counter errors_{"errors", "accesses that failed (bad BAR offset, host decode error)"};
    counter loopback_refused_{"loopback_refused",
                              "device-originated accesses refused at a BAR (peer-to-self loopback, or BAR0 from any device)"};
    counter vf_accesses_{"vf_bar_accesses", "accesses to the VFs' BAR0 and BAR2 windows"};
    counter vf_refused_{"vf_refused", "VF BAR accesses refused (VF not enabled, outside its partition, bad size)"};
    counter intx_asserts_{"intx_asserts", "INTx assertions (hosts without MSI-X)"};
    rate util_h2d_{"busy_h2d", "link busy time host to device", 1e-12, "utilization"};
    rate util_d2h_{"busy_d2h", "link busy time device to host", 1e-12, "utilization"};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{this->name()};
};

} // namespace accelvp
