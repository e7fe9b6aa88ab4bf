#include "tlm/pcie/pcie_endpoint.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "abi/aax_regs.h"
#include "abi/aax_sched.h"
#include "abi/aax_sriov.h"
#include "tlm/core/log.h"
#include "tlm/core/register_firewall.h"
#include "tlm/core/trace.h"

namespace accelvp {

const param_table<pcie_endpoint::params>& pcie_endpoint::params::table() {
    static const auto t =
        param_table<params>()
            .integer("gen", &params::gen, 1, 6, "PCIe generation: 1-6 (2.5, 5, 8, 16, 32, 64 GT/s per lane)")
            .integer("lanes", &params::lanes, 1, 16, "link width", "lanes")
            .integer("max_payload", &params::max_payload, 128, 4096, "max TLP payload", "bytes")
            .integer("tlp_overhead_bytes", &params::tlp_overhead_bytes, 0, 256,
                     "per-TLP overhead on the wire (header, LCRC, framing, DLLP share)", "bytes")
            .real("latency_ns", &params::latency_ns, 0, 1e6, "one-way link latency", "ns")
            .integer("msix_vectors", &params::msix_vectors, 2, AAX_MAX_MSIX, "MSI-X vectors")
            .integer("bar2_size", &params::bar2_size, 0, 1ll << 46,
                     "size of BAR2, the device-memory window in PCI config space (power of two, >= 1 MiB); 0 = "
                     "device memory rounded up to a power of two",
                     "bytes")
            .boolean("bar2_64bit", &params::bar2_64bit,
                     "BAR2 is a 64-bit BAR (false: 32-bit prefetchable, below 4 GiB; needed behind QEMU 7.2's proxy)")
            .integer("sriov.max_vfs", &params::max_vfs, 0, AAX_MAX_VFS,
                     "SR-IOV virtual functions the PF offers (0: no SR-IOV capability; docs/virtualization.md)");
    return t;
}

void pcie_endpoint::declare(param_schema& s, const std::string& prefix) { params::table().declare(s, prefix); }

pcie_endpoint::params pcie_endpoint::from_config(const config& c, const std::string& prefix) {
    auto p = params::table().load(c, prefix);
    if (p.bar2_size && ((p.bar2_size & (p.bar2_size - 1)) || p.bar2_size < (1u << 20)))
        throw config_error(fmt::format("config error: {}.bar2_size = {} must be 0 or a power of two >= 1 MiB", prefix,
                                       p.bar2_size));
    return p;
}

double pcie_endpoint::raw_bytes_per_s(const params& p) {
    // Per-lane transfer rate and line-code efficiency by generation (PCI-SIG base specs):
    // 8b/10b for 1-2, 128b/130b for 3-5, 242/256 FLIT for 6 (PAM4).
    static const double gts_by_gen[] = {2.5e9, 5e9, 8e9, 16e9, 32e9, 64e9};
    const double gts = gts_by_gen[std::min(p.gen, 6u) - 1];
    const double coding = p.gen <= 2 ? 8.0 / 10.0 : p.gen <= 5 ? 128.0 / 130.0 : 242.0 / 256.0;
    return gts * coding * p.lanes / 8.0;
}

double pcie_endpoint::effective_bytes_per_s(const params& p) {
    return raw_bytes_per_s(p) * p.max_payload / static_cast<double>(p.max_payload + p.tlp_overhead_bytes);
}

namespace {
uint64_t bar2_size_of(const pcie_endpoint::params& p) {
    if (p.bar2_size) return p.bar2_size;
    uint64_t s = 1u << 20;
    while (s < p.devmem_size) s <<= 1;
    return p.bar2_64bit ? s : std::min<uint64_t>(s, 1u << 30);
}
} // namespace

pcie_endpoint::pcie_endpoint(sc_core::sc_module_name name, const params& p)
    : sc_module(name), bar0_socket("bar0_socket"), bar2_socket("bar2_socket"), to_host("to_host"),
      to_chip("to_chip"), from_chip("from_chip"), msix_socket("msix_socket"), msi_in("msi_in"),
      vf_bar0_socket("vf_bar0_socket"), vf_bar2_socket("vf_bar2_socket"), sriov_socket("sriov_socket"),
      p_(p), cfg_(bar2_size_of(p), p.msix_vectors, p.bar2_64bit, p.max_vfs, vf_bar2_size_of(p)),
      h2d_(raw_bytes_per_s(p)), d2h_(raw_bytes_per_s(p)), latency_(p.latency_ns, sc_core::SC_NS),
      msix_(this->name() + std::string(".msix"), AAX_MSIX_WINDOW_BASE), pba_words_((p.msix_vectors + 31) / 32),
      vf_bar2_size_(vf_bar2_size_of(p)), sriov_(this->name() + std::string(".sriov"), AAX_SRIOV_WINDOW_BASE) {
    bar0_socket.register_b_transport(this, &pcie_endpoint::bar0_b_transport);
    bar0_socket.register_transport_dbg(this, &pcie_endpoint::bar0_dbg);
    bar2_socket.register_b_transport(this, &pcie_endpoint::bar2_b_transport);
    bar2_socket.register_transport_dbg(this, &pcie_endpoint::bar2_dbg);
    from_chip.register_b_transport(this, &pcie_endpoint::from_chip_b_transport);
    from_chip.register_transport_dbg(this, &pcie_endpoint::from_chip_dbg);
    msix_socket.register_b_transport(this, &pcie_endpoint::msix_b_transport);
    msix_socket.register_transport_dbg(this, &pcie_endpoint::msix_dbg);
    msi_in.bind(*this);

    for (unsigned v = 0; v < p.msix_vectors; ++v) {
        const uint32_t e = AAX_MSIX_ENTRY(v);
        const std::string n = "vec" + std::to_string(v);
        msix_.add64(n + ".addr", e + AAX_MSIX_ADDR_LO, 0, reg_access::rw);
        msix_.add(n + ".data", e + AAX_MSIX_DATA, 0, reg_access::rw);
        msix_.add(n + ".ctrl", e + AAX_MSIX_CTRL, 1, reg_access::rw).write_cb([this, v](uint32_t ctrl) {
            reg& pba = msix_[AAX_MSIX_PBA(v / 32)];
            const uint64_t bit = 1ull << (v % 32);
            if (!(ctrl & 1) && (pba.get() & bit)) {  // unmasked with a message pending
                pba.set(pba.get() & ~bit);
                msi_queue_.push_back({-1, v});
                msi_ev_.notify(sc_core::SC_ZERO_TIME);
            }
        });
    }
    for (unsigned w = 0; w < pba_words_; ++w) msix_.add("pba" + std::to_string(w), AAX_MSIX_PBA(w), 0, reg_access::ro);

    sriov_init();

    SC_HAS_PROCESS(pcie_endpoint);
    SC_THREAD(msi_thread);
    SC_THREAD(posted_thread);

    stats_.add({&bytes_h2d_, &bytes_d2h_, &tlps_, &msi_sent_, &msi_masked_, &errors_, &loopback_refused_, &intx_asserts_, &util_h2d_, &util_d2h_});
    track_h2d_ = tracer::instance().track(std::string(this->name()) + ".h2d");
    track_d2h_ = tracer::instance().track(std::string(this->name()) + ".d2h");
}

pcie_endpoint::~pcie_endpoint() = default;  // stats_ unregisters the stats

uint64_t pcie_endpoint::cross(dir d, uint64_t arrival, uint64_t bytes) {
    const uint64_t n_tlps = bytes == 0 ? 1 : (bytes + p_.max_payload - 1) / p_.max_payload;
    const uint64_t wire = bytes + n_tlps * p_.tlp_overhead_bytes;
    timeline& tl = d == dir::h2d ? h2d_ : d2h_;
    const uint64_t dur = transfer_ps(wire, tl.bandwidth());
    const uint64_t done = tl.reserve_for(arrival, dur);
    tlps_ += n_tlps;
    (d == dir::h2d ? util_h2d_ : util_d2h_) += static_cast<double>(dur);
    (d == dir::h2d ? bytes_h2d_ : bytes_d2h_) += bytes;
    if (bytes >= 256 && tracer::instance().enabled())
        tracer::instance().slice(d == dir::h2d ? track_h2d_ : track_d2h_, "tlp", ps(done - dur), ps(dur), "pcie",
                                 fmt::format(R"({{"bytes":{}}})", bytes));
    return done + latency_.value();
}

// One access crossing the link: a write crosses in write_dir with its payload; a read
// sends a header-only request in write_dir and gets the data back the other way.
void pcie_endpoint::forward(tlm_utils::simple_initiator_socket<pcie_endpoint>& out, dir write_dir,
                            tlm::tlm_generic_payload& t, sc_core::sc_time& delay, uint64_t new_addr) {
    const dir back = write_dir == dir::h2d ? dir::d2h : dir::h2d;
    const uint64_t len = t.get_data_length();
    const uint64_t orig = t.get_address();
    uint64_t at = abs_ps(delay);
    at = cross(write_dir, at, t.is_write() ? len : 0);
    sc_core::sc_time d = offset_to(at);
    t.set_address(new_addr);
    out->b_transport(t, d);
    t.set_address(orig);
    if (t.get_response_status() != tlm::TLM_OK_RESPONSE) ++errors_;
    if (t.is_write()) {
        // Posted: the sender is free once its TLPs are on the wire; they land `latency`
        // later, and everything it sends afterwards (an MSI, a doorbell) queues behind them
        // on the same direction's timeline, so PCIe ordering holds.
        delay = offset_to(at - latency_.value());
        return;
    }
    delay = offset_to(cross(back, abs_ps(d), len));
}

// Device-originated traffic never becomes a host access of a BAR: not of this device's
// BARs (a job's MSG to host window + BAR0 would otherwise arrive as a privileged host
// register write), and not of any device's BAR0 (register space is the host's).
bool pcie_endpoint::refuse_upstream(tlm::tlm_generic_payload& t, bool bar0) {
    const upstream_ext* u = t.get_extension<upstream_ext>();
    if (!u || (u->from != this && !bar0)) return false;  // host access, or peer-to-peer into a peer's BAR2
    ++loopback_refused_;
    ++errors_;
    AVP_LOG(warn, name(), "device-originated {} at {} offset 0x{:x} refused ({})", t.is_write() ? "write" : "read", bar0 ? "BAR0" : "BAR2",
            t.get_address(), u->from == this ? "peer-to-self loopback" : "BAR0 from a device");
    t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return true;
}

void pcie_endpoint::bar0_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    if (refuse_upstream(t, true)) return;
    if (t.get_address() >= AAX_BAR0_SIZE) {
        ++errors_;
        t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    const uint64_t len = t.get_data_length();
    const uint64_t arrive = cross(dir::h2d, abs_ps(delay), t.is_write() ? len : 0);
    if (t.is_write()) {
        // Posted: queued for the posted-write thread, which applies it when it lands.
        const uint8_t* p = t.get_data_ptr();
        posted_.push_back(posted_write{t.get_address(), arrive, -1, std::vector<uint8_t>(p, p + len)});
        posted_ev_.notify(sc_core::SC_ZERO_TIME);
        delay = offset_to(arrive - latency_.value());
        t.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
    }
    // A read: behind the writes sent before it, then at the chip when it lands, and its
    // completion comes back.
    while (!posted_.empty()) sc_core::wait(drained_ev_);
    sc_core::wait(offset_to(arrive));
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    bar0_apply(t, d);
    delay = offset_to(cross(dir::d2h, abs_ps(d), len));
}

void pcie_endpoint::bar0_apply(tlm::tlm_generic_payload& t, sc_core::sc_time& d) {
    const uint64_t orig = t.get_address();
    if (aax_in_fw_window(orig)) {
        // The firmware scheduling window belongs to the control core: the endpoint does not
        // forward host TLPs there (reads return 0, writes are dropped).
        if (t.is_read()) std::memset(t.get_data_ptr(), 0, t.get_data_length());
        t.set_response_status(tlm::TLM_OK_RESPONSE);
    } else {
        privileged_ext mark;  // the host may reach all of register space (register_firewall)
        extension_guard<privileged_ext> g(t, &mark);
        t.set_address(p_.regs_base + orig);
        to_chip->b_transport(t, d);
        t.set_address(orig);
    }
    if (t.get_response_status() != tlm::TLM_OK_RESPONSE) ++errors_;
    if (intx_sink_ && t.is_write() &&
        (orig == AAX_REG_IRQ_STATUS || orig == AAX_REG_IRQ_MASK || orig == AAX_REG_RESET))
        intx_resample();
}

bool pcie_endpoint::cfg_write(uint32_t off, unsigned len, uint32_t val) {
    const bool ok = cfg_.write(off, len, val);
    if (intx_sink_) intx_resample();
    return ok;
}

// The INTx level follows IRQ_STATUS (a debug read: no time, no side effects).
void pcie_endpoint::intx_resample() {
    uint32_t st = 0;
    tlm::tlm_generic_payload t;
    init_payload(t, tlm::TLM_READ_COMMAND, p_.regs_base + AAX_REG_IRQ_STATUS, &st, 4);
    privileged_ext mark;
    extension_guard<privileged_ext> g(t, &mark);
    if (to_chip->transport_dbg(t) != 4) st = 0;
    intx_update(st != 0 && !cfg_.msix_enabled());
}

void pcie_endpoint::intx_update(bool level) {
    cfg_.set_intx_level(level);
    const bool out = level && cfg_.intx_enabled();
    if (out == intx_out_) return;
    intx_out_ = out;
    if (out) ++intx_asserts_;
    if (intx_sink_) intx_sink_(out);
}

// Applies posted BAR0 writes in order, each when it lands (its side effects -- a doorbell,
// a reset -- happen then), and tells waiting reads when none is left.
void pcie_endpoint::posted_thread() {
    for (;;) {
        while (posted_.empty()) sc_core::wait(posted_ev_);
        const uint64_t now = sc_core::sc_time_stamp().value();
        if (posted_.front().arrive_ps > now) sc_core::wait(ps(posted_.front().arrive_ps - now));
        {  // the payload must not live across wait(): a thread's stack is never unwound at the end
            posted_write& w = posted_.front();  // stays queued until applied: reads wait for it
            tlm::tlm_generic_payload t;
            init_payload(t, tlm::TLM_WRITE_COMMAND, w.offset, w.data.data(), static_cast<uint32_t>(w.data.size()));
            sc_core::sc_time d = sc_core::SC_ZERO_TIME;
            if (w.vf >= 0)
                vf_apply(static_cast<unsigned>(w.vf), t, d);
            else
                bar0_apply(t, d);
            if (t.get_response_status() != tlm::TLM_OK_RESPONSE)
                AVP_LOG(debug, name(), "posted BAR0 write at 0x{:x} failed", w.offset);
        }
        posted_.pop_front();
        if (posted_.empty()) drained_ev_.notify(sc_core::SC_ZERO_TIME);
    }
}

void pcie_endpoint::bar2_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    if (refuse_upstream(t, false)) return;
    if (t.get_address() >= p_.devmem_size) {
        ++errors_;
        t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    privileged_ext mark;  // the host (its kernel) may reach all of device memory, the firmware region too
    extension_guard<privileged_ext> g(t, &mark);
    forward(to_chip, dir::h2d, t, delay, p_.devmem_base + t.get_address());
}

void pcie_endpoint::from_chip_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    upstream_ext mark;
    mark.from = this;
    extension_guard<upstream_ext> g(t, t.get_extension<upstream_ext>() ? nullptr : &mark);
    forward(to_host, dir::d2h, t, delay, t.get_address());
}

unsigned pcie_endpoint::forward_dbg(tlm_utils::simple_initiator_socket<pcie_endpoint>& out,
                                    tlm::tlm_generic_payload& t, uint64_t new_addr) {
    const uint64_t orig = t.get_address();
    t.set_address(new_addr);
    const unsigned n = out->transport_dbg(t);
    t.set_address(orig);
    return n;
}

unsigned pcie_endpoint::bar0_dbg(tlm::tlm_generic_payload& t) {
    if (t.get_extension<upstream_ext>()) return 0;  // device-originated: never into register space
    const uint64_t a = t.get_address();
    if (a >= AAX_BAR0_SIZE || aax_in_fw_window(a)) return 0;
    privileged_ext mark;
    extension_guard<privileged_ext> g(t, &mark);
    return forward_dbg(to_chip, t, p_.regs_base + a);
}

unsigned pcie_endpoint::bar2_dbg(tlm::tlm_generic_payload& t) {
    const upstream_ext* u = t.get_extension<upstream_ext>();
    if (t.get_address() >= p_.devmem_size || (u && u->from == this)) return 0;
    privileged_ext mark;
    extension_guard<privileged_ext> g(t, &mark);
    return forward_dbg(to_chip, t, p_.devmem_base + t.get_address());
}

unsigned pcie_endpoint::from_chip_dbg(tlm::tlm_generic_payload& t) {
    upstream_ext mark;
    mark.from = this;
    extension_guard<upstream_ext> g(t, t.get_extension<upstream_ext>() ? nullptr : &mark);
    return forward_dbg(to_host, t, t.get_address());
}

void pcie_endpoint::raise(unsigned vector) {
    if (vector >= p_.msix_vectors) return;  // no such vector: dropped, as on hardware
    if (!vfs_.empty() && vf_raise(vector)) return;  // a VF's CQ: its own interrupt
    if (intx_sink_ && !cfg_.msix_enabled()) {  // legacy interrupt: every vector is INTA
        intx_update(true);
        return;
    }
    if (msix_[AAX_MSIX_ENTRY(vector) + AAX_MSIX_CTRL].get() & 1) {
        ++msi_masked_;
        reg& pba = msix_[AAX_MSIX_PBA(vector / 32)];
        pba.set(pba.get() | 1ull << (vector % 32));
        return;
    }
    msi_queue_.push_back({-1, vector});
    msi_ev_.notify(sc_core::SC_ZERO_TIME);
}

// MSI-X messages are memory writes upstream, ordered behind the device's earlier
// writes (same d2h timeline), so a completion record always lands before its interrupt.
void pcie_endpoint::msi_thread() {
    for (;;) {
        while (msi_queue_.empty()) sc_core::wait(msi_ev_);
        const msi_msg m = msi_queue_.front();
        msi_queue_.pop_front();
        const unsigned v = m.vector;
        const uint64_t addr = m.vf < 0 ? msix_[AAX_MSIX_ENTRY(v) + AAX_MSIX_ADDR_LO].get() : vfs_[m.vf].msix[v].addr;
        uint32_t data = m.vf < 0 ? static_cast<uint32_t>(msix_[AAX_MSIX_ENTRY(v) + AAX_MSIX_DATA].get())
                                 : vfs_[m.vf].msix[v].data;
        const uint64_t lands = cross(dir::d2h, abs_ps(sc_core::SC_ZERO_TIME), 4);
        sc_core::sc_time d = offset_to(lands);
        {  // the payload must not live across wait(): a thread's stack is never unwound at the end
            tlm::tlm_generic_payload t;
            init_payload(t, tlm::TLM_WRITE_COMMAND, addr, &data, 4);
            to_host->b_transport(t, d);
            ++msi_sent_;
            if (t.get_response_status() != tlm::TLM_OK_RESPONSE) {
                ++errors_;
                AVP_LOG(warn, name(), "MSI-X vector {} write to 0x{:x} failed", v, addr);
            }
        }
        // A posted write: the next message may go once this one is on the wire (the d2h
        // timeline keeps them in order), not once it has landed a link latency later.
        sc_core::wait(offset_to(lands - latency_.value()));
    }
}

} // namespace accelvp
