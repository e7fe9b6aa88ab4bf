// SR-IOV of the PCIe endpoint (docs/virtualization.md, abi/aax_sriov.h): the PF's SR-IOV
// block, the VFs' BAR0 front end (a renumbered view of the physical rings, CQs and
// doorbells the PF assigned, plus per-VF interrupt summary, error record and MSI-X table),
// the VFs' BAR2 windows onto their partitions, interrupt routing and function-level reset.
#include <cstring>

#include "abi/aax_regs.h"
#include "abi/aax_sriov.h"
#include "tlm/core/log.h"
#include "tlm/core/register_firewall.h"
#include "tlm/pcie/pcie_endpoint.h"

namespace accelvp {

uint64_t pcie_endpoint::vf_bar2_size_of(const params& p) {
    if (!p.max_vfs) return 0;
    const uint64_t share = p.devmem_size / (p.max_vfs + 1);
    uint64_t s = 1u << 20;
    while (s * 2 <= share) s <<= 1;
    return s;
}

uint64_t pcie_endpoint::vf_errors(unsigned v) const { return v < vfs_.size() ? vfs_[v].errors : 0; }
uint64_t pcie_endpoint::vf_flrs(unsigned v) const { return v < vfs_.size() ? vfs_[v].flrs : 0; }
uint64_t pcie_endpoint::vf_msis(unsigned v) const { return v < vfs_.size() ? vfs_[v].msis : 0; }

uint64_t pcie_endpoint::vf_field(unsigned vf, uint32_t off) const { return sriov_[AAX_SRIOV_VF(vf) + off].get(); }

void pcie_endpoint::sriov_init() {
    vf_bar0_socket.register_b_transport(this, &pcie_endpoint::vf_bar0_b_transport);
    vf_bar2_socket.register_b_transport(this, &pcie_endpoint::vf_bar2_b_transport);
    vf_bar2_socket.register_transport_dbg(this, &pcie_endpoint::vf_bar2_dbg);
    sriov_socket.register_b_transport(this, &pcie_endpoint::sriov_b_transport);
    sriov_socket.register_transport_dbg(this, &pcie_endpoint::sriov_dbg);
    sriov_.add("caps", AAX_REG_SRIOV_CAPS, p_.max_vfs, reg_access::ro);
    sriov_.add("num_vfs", AAX_REG_SRIOV_NUM_VFS, 0, reg_access::ro).read_cb([this] { return cfg_.vfs_enabled(); });
    sriov_.add("err_job_id", AAX_REG_SRIOV_ERR_JOB_ID, 0, reg_access::rw);
    sriov_.add("err_offset", AAX_REG_SRIOV_ERR_OFFSET, 0, reg_access::rw);
    sriov_.add64("err_addr", AAX_REG_SRIOV_ERR_ADDR_LO, 0, reg_access::rw);
    sriov_.add("err_report", AAX_REG_SRIOV_ERR_REPORT, 0, reg_access::wo).write_cb([this](uint32_t v) {
        const unsigned vf = v >> 24;
        if (vf >= vfs_.size()) return;
        vf_state& S = vfs_[vf];
        ++S.errors;
        if (S.err_count < 0xFFFFFFFFu) ++S.err_count;
        if (!(S.err_status & AAX_ERR_STATUS_VALID)) {  // the first error since the VF cleared its record
            S.err_status = AAX_ERR_STATUS_VALID | (v & 0xFFFFFFu);
            S.err_job = static_cast<uint32_t>(sriov_[AAX_REG_SRIOV_ERR_JOB_ID].get());
            S.err_offset = static_cast<uint32_t>(sriov_[AAX_REG_SRIOV_ERR_OFFSET].get());
            S.err_addr = sriov_[AAX_REG_SRIOV_ERR_ADDR_LO].get();
        }
        vf_line(vf, AAX_IRQ_LINE_ERROR);
    });
    for (unsigned v = 0; v < p_.max_vfs; ++v) {
        const uint32_t b = AAX_SRIOV_VF(v);
        const std::string n = "vf" + std::to_string(v) + ".";
        sriov_.add(n + "ring_first", b + AAX_SRIOV_VF_RING_FIRST, 0, reg_access::rw);
        sriov_.add(n + "ring_count", b + AAX_SRIOV_VF_RING_COUNT, 0, reg_access::rw);
        sriov_.add64(n + "mem_base", b + AAX_SRIOV_VF_MEM_BASE_LO, 0, reg_access::rw);
        sriov_.add64(n + "mem_size", b + AAX_SRIOV_VF_MEM_SIZE_LO, 0, reg_access::rw);
        sriov_.add64(n + "host_base", b + AAX_SRIOV_VF_HOST_BASE_LO, 0, reg_access::rw);
        sriov_.add64(n + "host_size", b + AAX_SRIOV_VF_HOST_SIZE_LO, 0, reg_access::rw);
        sriov_.add(n + "share", b + AAX_SRIOV_VF_SHARE, 1, reg_access::rw);
        sriov_.add(n + "asid", b + AAX_SRIOV_VF_ASID, 0, reg_access::rw);
        sriov_.add(n + "ctrl", b + AAX_SRIOV_VF_CTRL, 0, reg_access::rw).mask(AAX_SRIOV_VF_CTRL_EN).write_cb([this, v](uint32_t w) {
            if (w & AAX_SRIOV_VF_CTRL_FLR) vf_flr(v);
        });
        sriov_.add(n + "flrs", b + AAX_SRIOV_VF_FLRS, 0, reg_access::ro).read_cb([this, v] { return vfs_[v].flrs; });
        sriov_.add(n + "errors", b + AAX_SRIOV_VF_ERRORS, 0, reg_access::ro).read_cb([this, v] { return vfs_[v].errors; });
    }
    if (!p_.max_vfs) return;
    vfs_.resize(p_.max_vfs);
    for (auto& S : vfs_) S.msix.resize(2 + AAX_MAX_RINGS);
    stats_.add({&vf_accesses_, &vf_refused_});
}

// A VF's rings, CQs and vectors: VF ring i is physical ring first + i.
bool pcie_endpoint::vf_raise(unsigned vector) {
    if (vector < AAX_MSIX_VEC_CQ(0)) return false;
    const unsigned c = vector - AAX_MSIX_VEC_CQ(0);
    const unsigned n = cfg_.vfs_enabled();
    for (unsigned vf = 0; vf < n; ++vf) {
        if (!(vf_field(vf, AAX_SRIOV_VF_CTRL) & AAX_SRIOV_VF_CTRL_EN)) continue;
        const uint64_t first = vf_field(vf, AAX_SRIOV_VF_RING_FIRST), count = vf_field(vf, AAX_SRIOV_VF_RING_COUNT);
        if (c >= first && c < first + count) {
            vf_line(vf, AAX_IRQ_CQ_SHIFT + static_cast<unsigned>(c - first));
            return true;
        }
    }
    return false;
}

// A line of VF vf's interrupt summary: RAW, and its vector unless masked (MSI semantics
// as the PF's: one message per event).
void pcie_endpoint::vf_line(unsigned vf, unsigned line) {
    vf_state& S = vfs_[vf];
    S.irq_raw |= 1u << line;
    if (S.irq_mask & (1u << line)) return;
    const unsigned vec = line >= AAX_IRQ_CQ_SHIFT ? AAX_MSIX_VEC_CQ(line - AAX_IRQ_CQ_SHIFT)
                         : line == AAX_IRQ_LINE_EVENT ? AAX_MSIX_VEC_EVENT
                                                      : AAX_MSIX_VEC_ERROR;
    vf_send(vf, vec);
}

void pcie_endpoint::vf_send(unsigned vf, unsigned vec) {
    vf_state& S = vfs_[vf];
    if (vec >= S.msix.size()) return;
    if (S.msix[vec].ctrl & 1) {
        S.pba |= 1u << vec;
        ++msi_masked_;
        return;
    }
    ++S.msis;
    msi_queue_.push_back({static_cast<int>(vf), vec});
    msi_ev_.notify(sc_core::SC_ZERO_TIME);
}

// A register access of the PF's register space on behalf of the VF front end (privileged:
// the front end is the device's own logic and has already restricted what it forwards).
bool pcie_endpoint::pf_access(tlm::tlm_command cmd, uint32_t off, uint32_t& v, sc_core::sc_time& d) {
    tlm::tlm_generic_payload t;
    init_payload(t, cmd, p_.regs_base + off, &v, 4);
    privileged_ext mark;
    extension_guard<privileged_ext> g(t, &mark);
    to_chip->b_transport(t, d);
    return t.get_response_status() == tlm::TLM_OK_RESPONSE;
}

// Function-level reset of a VF: its rings stop (a running job is dropped by the firmware)
// and are disabled, its CQs disabled, its interrupt state, error record and MSI-X table back
// to reset values. Other functions are not touched.
void pcie_endpoint::vf_flr(unsigned vf) {
    if (vf >= vfs_.size()) return;
    const uint64_t first = vf_field(vf, AAX_SRIOV_VF_RING_FIRST), count = vf_field(vf, AAX_SRIOV_VF_RING_COUNT);
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    for (uint64_t r = first; r < first + count && r < AAX_MAX_RINGS; ++r) {
        const uint32_t rb = AAX_RING_BASE(static_cast<uint32_t>(r)), cb = AAX_CQ_BASE(static_cast<uint32_t>(r));
        uint32_t v = AAX_RING_CTRL_RESET;  // and EN clear: nothing starts until the VF driver re-enables it
        pf_access(tlm::TLM_WRITE_COMMAND, rb + AAX_RING_CTRL, v, d);
        v = 0;
        pf_access(tlm::TLM_WRITE_COMMAND, cb + AAX_CQ_CTRL, v, d);
    }
    vf_state& S = vfs_[vf];
    S.irq_raw = 0;
    S.irq_mask = 0xFFFFFFFFu;
    S.scratch = 0;
    S.err_status = S.err_job = S.err_offset = S.err_count = 0;
    S.err_addr = 0;
    for (auto& e : S.msix) e = vf_state::entry{};
    S.pba = 0;
    ++S.flrs;
    AVP_LOG(info, name(), "VF {}: function-level reset", vf);
}

void pcie_endpoint::vf_bar0_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    if (refuse_upstream(t, true)) return;
    const uint64_t a = t.get_address();
    const unsigned vf = static_cast<unsigned>(a / AAX_BAR0_SIZE);
    const uint64_t len = t.get_data_length();
    ++vf_accesses_;
    if (vf >= cfg_.vfs_enabled() || len != 4 || a % 4) {
        ++vf_refused_;
        ++errors_;
        t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    const uint64_t arrive = cross(dir::h2d, abs_ps(delay), t.is_write() ? len : 0);
    if (t.is_write()) {  // posted, in order with the PF's writes (one link)
        const uint8_t* p = t.get_data_ptr();
        posted_.push_back(posted_write{a % AAX_BAR0_SIZE, arrive, static_cast<int>(vf), std::vector<uint8_t>(p, p + len)});
        posted_ev_.notify(sc_core::SC_ZERO_TIME);
        delay = offset_to(arrive - latency_.value());
        t.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
    }
    while (!posted_.empty()) sc_core::wait(drained_ev_);
    sc_core::wait(offset_to(arrive));
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    const uint64_t orig = t.get_address();
    t.set_address(a % AAX_BAR0_SIZE);
    vf_apply(vf, t, d);
    t.set_address(orig);
    delay = offset_to(cross(dir::d2h, abs_ps(d), len));
}

void pcie_endpoint::vf_apply(unsigned vf, tlm::tlm_generic_payload& t, sc_core::sc_time& d) {
    uint32_t v = 0;
    const uint32_t off = static_cast<uint32_t>(t.get_address());
    if (t.is_write()) {
        std::memcpy(&v, t.get_data_ptr(), 4);
        vf_write(vf, off, v, d);
    } else {
        v = vf_read(vf, off, d);
        std::memcpy(t.get_data_ptr(), &v, 4);
    }
    t.set_response_status(tlm::TLM_OK_RESPONSE);
}

namespace {
// Which VF-local ring / CQ / doorbell an offset names (n = the VF's ring count).
bool in_block(uint32_t off, uint32_t base, uint32_t stride, uint32_t n, uint32_t& idx, uint32_t& reg) {
    if (off < base || off >= base + stride * n) return false;
    idx = (off - base) / stride;
    reg = (off - base) % stride;
    return true;
}
} // namespace

uint32_t pcie_endpoint::vf_read(unsigned vf, uint32_t off, sc_core::sc_time& d) {
    vf_state& S = vfs_[vf];
    const uint32_t first = static_cast<uint32_t>(vf_field(vf, AAX_SRIOV_VF_RING_FIRST));
    const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(vf_field(vf, AAX_SRIOV_VF_RING_COUNT), AAX_MAX_RINGS - first));
    const uint64_t mem_base = vf_field(vf, AAX_SRIOV_VF_MEM_BASE_LO), mem_size = vf_field(vf, AAX_SRIOV_VF_MEM_SIZE_LO);
    uint32_t v = 0, idx = 0, reg = 0;
    switch (off) {
    case AAX_REG_HOST_WIN_LO: return static_cast<uint32_t>(AAX_VF_HOST_WINDOW);
    case AAX_REG_HOST_WIN_HI: return static_cast<uint32_t>(AAX_VF_HOST_WINDOW >> 32);
    case AAX_REG_ID: case AAX_REG_VERSION: case AAX_REG_DEV_STATUS: case AAX_REG_TIMESTAMP_LO:
    case AAX_REG_TIMESTAMP_HI:
        pf_access(tlm::TLM_READ_COMMAND, off, v, d);
        return v;
    case AAX_REG_CAPS0:
        pf_access(tlm::TLM_READ_COMMAND, off, v, d);
        return n | n << 8 | (v & 0xFF0000u) | (2 + n) << 24;
    case AAX_REG_CAPS1: return 0;  // no semaphores, no control core, no MMU of its own
    case AAX_REG_DEVMEM_SIZE_LO: return static_cast<uint32_t>(mem_size);
    case AAX_REG_DEVMEM_SIZE_HI: return static_cast<uint32_t>(mem_size >> 32);
    case AAX_REG_DEVMEM_BASE_LO: return static_cast<uint32_t>(mem_base);
    case AAX_REG_DEVMEM_BASE_HI: return static_cast<uint32_t>(mem_base >> 32);
    case AAX_REG_SCRATCH: return S.scratch;
    case AAX_REG_IRQ_STATUS: return S.irq_raw & ~S.irq_mask;
    case AAX_REG_IRQ_MASK: return S.irq_mask;
    case AAX_REG_IRQ_RAW: return S.irq_raw;
    case AAX_REG_ERR_STATUS: return S.err_status;
    case AAX_REG_ERR_JOB_ID: return S.err_job;
    case AAX_REG_ERR_OFFSET: return S.err_offset;
    case AAX_REG_ERR_ADDR_LO: return static_cast<uint32_t>(S.err_addr);
    case AAX_REG_ERR_ADDR_HI: return static_cast<uint32_t>(S.err_addr >> 32);
    case AAX_REG_ERR_COUNT: return S.err_count;
    default: break;
    }
    if (in_block(off, AAX_RING_BASE(0), 0x40, n, idx, reg)) {
        if (reg == AAX_RING_ASID) return 0;  // the PF's pin, not the VF's to see
        pf_access(tlm::TLM_READ_COMMAND, AAX_RING_BASE(first + idx) + reg, v, d);
        if (reg == AAX_RING_CTRL) {  // the CQ field in VF numbering; PRIV is never set on a VF ring
            const uint32_t c = (v & AAX_RING_CTRL_CQ_MASK) >> AAX_RING_CTRL_CQ_SHIFT;
            const uint32_t local = c >= first && c < first + n ? c - first : 0xFFu;
            v = (v & ~AAX_RING_CTRL_CQ_MASK) | local << AAX_RING_CTRL_CQ_SHIFT;
        }
        return v;
    }
    if (in_block(off, AAX_CQ_BASE(0), 0x40, n, idx, reg)) {
        pf_access(tlm::TLM_READ_COMMAND, AAX_CQ_BASE(first + idx) + reg, v, d);
        return v;
    }
    if (in_block(off, AAX_MSIX_ENTRY(0), 16, 2 + n, idx, reg)) {
        const auto& e = S.msix[idx];
        return reg == AAX_MSIX_ADDR_LO ? static_cast<uint32_t>(e.addr)
               : reg == AAX_MSIX_ADDR_HI ? static_cast<uint32_t>(e.addr >> 32)
               : reg == AAX_MSIX_DATA    ? e.data
                                         : e.ctrl;
    }
    if (off == AAX_MSIX_PBA(0)) return S.pba;
    return 0;  // not part of a VF: reads as zero
}

void pcie_endpoint::vf_write(unsigned vf, uint32_t off, uint32_t v, sc_core::sc_time& d) {
    vf_state& S = vfs_[vf];
    const uint32_t first = static_cast<uint32_t>(vf_field(vf, AAX_SRIOV_VF_RING_FIRST));
    const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(vf_field(vf, AAX_SRIOV_VF_RING_COUNT), AAX_MAX_RINGS - first));
    uint32_t idx = 0, reg = 0;
    switch (off) {
    case AAX_REG_SCRATCH: S.scratch = v; return;
    case AAX_REG_RESET:
        if (v & AAX_RESET_SOFT) vf_flr(vf);
        return;
    case AAX_REG_IRQ_STATUS: S.irq_raw &= ~v; return;
    case AAX_REG_IRQ_MASK: {
        const uint32_t unmasked = S.irq_mask & ~v & S.irq_raw;  // lines with events while masked
        S.irq_mask = v;
        for (unsigned l = 0; l < 32; ++l)
            if (unmasked & (1u << l)) {
                S.irq_raw &= ~(1u << l);  // vf_line sets it again and sends the vector
                vf_line(vf, l);
            }
        return;
    }
    case AAX_REG_ERR_STATUS:
        if (v & AAX_ERR_STATUS_VALID) S.err_status = 0;
        return;
    default: break;
    }
    if (in_block(off, AAX_RING_BASE(0), 0x40, n, idx, reg)) {
        if (reg == AAX_RING_ASID) return;  // pinned by the PF
        if (reg == AAX_RING_CTRL) {
            const uint32_t c = (v & AAX_RING_CTRL_CQ_MASK) >> AAX_RING_CTRL_CQ_SHIFT;
            const uint32_t phys = c < n ? first + c : 0xFFu;  // another function's CQ: none (the job errors)
            v = (v & ~(AAX_RING_CTRL_CQ_MASK | AAX_RING_CTRL_PRIV)) | phys << AAX_RING_CTRL_CQ_SHIFT;
        }
        pf_access(tlm::TLM_WRITE_COMMAND, AAX_RING_BASE(first + idx) + reg, v, d);
        return;
    }
    if (in_block(off, AAX_CQ_BASE(0), 0x40, n, idx, reg)) {
        pf_access(tlm::TLM_WRITE_COMMAND, AAX_CQ_BASE(first + idx) + reg, v, d);
        return;
    }
    if (in_block(off, AAX_DOORBELL(0), 8, n, idx, reg)) {
        if (reg == 0) pf_access(tlm::TLM_WRITE_COMMAND, AAX_DOORBELL(first + idx), v, d);
        return;
    }
    if (in_block(off, AAX_MSIX_ENTRY(0), 16, 2 + n, idx, reg)) {
        auto& e = S.msix[idx];
        if (reg == AAX_MSIX_ADDR_LO) e.addr = (e.addr & ~0xFFFFFFFFull) | v;
        if (reg == AAX_MSIX_ADDR_HI) e.addr = (e.addr & 0xFFFFFFFFull) | static_cast<uint64_t>(v) << 32;
        if (reg == AAX_MSIX_DATA) e.data = v;
        if (reg == AAX_MSIX_CTRL) {
            e.ctrl = v & 1;
            if (!e.ctrl && (S.pba & (1u << idx))) {  // unmasked with a message pending
                S.pba &= ~(1u << idx);
                vf_send(vf, idx);
            }
        }
        return;
    }
    // Anything else (semaphores, the MMU, the mailbox, another function's rings) is not
    // part of a VF: the write is dropped.
}

// VF k's BAR2: offset o is device memory at its partition base + o, inside its partition only.
void pcie_endpoint::vf_bar2_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    if (refuse_upstream(t, false)) return;
    ++vf_accesses_;
    const uint64_t a = t.get_address(), len = t.get_data_length();
    const unsigned vf = vf_bar2_size_ ? static_cast<unsigned>(a / vf_bar2_size_) : 0;
    const uint64_t off = vf_bar2_size_ ? a % vf_bar2_size_ : 0;
    if (!vf_bar2_size_ || vf >= cfg_.vfs_enabled() || off + len > vf_field(vf, AAX_SRIOV_VF_MEM_SIZE_LO)) {
        ++vf_refused_;
        ++errors_;
        t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    forward(to_chip, dir::h2d, t, delay, vf_field(vf, AAX_SRIOV_VF_MEM_BASE_LO) + off);
}

unsigned pcie_endpoint::vf_bar2_dbg(tlm::tlm_generic_payload& t) {
    if (t.get_extension<upstream_ext>() || !vf_bar2_size_) return 0;
    const uint64_t a = t.get_address(), len = t.get_data_length();
    const unsigned vf = static_cast<unsigned>(a / vf_bar2_size_);
    const uint64_t off = a % vf_bar2_size_;
    if (vf >= cfg_.vfs_enabled() || off + len > vf_field(vf, AAX_SRIOV_VF_MEM_SIZE_LO)) return 0;
    return forward_dbg(to_chip, t, vf_field(vf, AAX_SRIOV_VF_MEM_BASE_LO) + off);
}

} // namespace accelvp
