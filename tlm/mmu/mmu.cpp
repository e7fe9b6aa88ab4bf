#include "tlm/mmu/mmu.h"

#include <algorithm>

#include <fmt/format.h>

#include "abi/aax_mmu.h"
#include "abi/aax_regs.h"
#include "tlm/core/log.h"
#include "tlm/core/timeline.h"

namespace accelvp {

const param_table<mmu::params>& mmu::params::table() {
    static const auto t =
        param_table<params>()
            .boolean("enabled", &params::enabled,
                     "put an MMU port (TLB + walker) between each DMA engine and the interconnect (per-context page "
                     "tables, BAR0 0xC000)")
            .integer("contexts", &params::contexts, 2, AAX_MMU_MAX_CONTEXTS,
                     "address spaces (ASIDs 0..n-1; 0 is physical)")
            .integer("tlb_sets", [](auto& p) -> auto& { return p.tlb_geom.sets; }, 1, 4096,
                     "sets of each port's 4 KiB TLB")
            .integer("tlb_ways", [](auto& p) -> auto& { return p.tlb_geom.ways; }, 1, 64,
                     "ways of each port's 4 KiB TLB (LRU)")
            .integer("tlb_2m_entries", [](auto& p) -> auto& { return p.tlb_geom.entries_2m; }, 0, 1024,
                     "fully associative 2 MiB TLB entries (0: 2 MiB pages are cached as 4 KiB pieces)")
            .integer("walk_cache", &params::walk_cache, 0, 1024,
                     "walk-cache entries of each port's walker (next-level table addresses)")
            .real("tlb_hit_ns", &params::tlb_hit_ns, 0, 1000, "TLB lookup time per translated page piece", "ns");
    return t;
}

void mmu::declare(param_schema& s, const std::string& prefix) { params::table().declare(s, prefix); }

mmu::params mmu::from_config(const config& c, const std::string& prefix) { return params::table().load(c, prefix); }

mmu::mmu(sc_core::sc_module_name name, const params& p)
    : sc_module(name), reg_socket("reg_socket"), irq_out("irq_out"), ctx_export("ctx_export"), reset_in("reset_in"),
      p_(p), regs_(this->name(), AAX_MMU_BAR_BASE) {
    if (p.ports.empty() || p.ports.size() > (1u << AAX_MMU_FAULT_PORT_BITS))
        throw config_error(fmt::format("{}: {} ports (1..{} supported)", this->name(), p.ports.size(),
                                       1u << AAX_MMU_FAULT_PORT_BITS));
    reg_socket.register_b_transport(this, &mmu::reg_b_transport);
    reg_socket.register_transport_dbg(this, &mmu::reg_dbg);
    ctx_export.bind(*this);
    reset_in.bind(*this);

    const uint32_t tlb_entries = std::min<uint32_t>(p.tlb_geom.sets * p.tlb_geom.ways, 0xFFFF);
    regs_.add("id", AAX_REG_MMU_ID, AAX_MMU_ID_MAGIC, reg_access::ro);
    regs_.add("caps", AAX_REG_MMU_CAPS, p.contexts | AAX_MMU_VA_BITS << 8 | tlb_entries << 16, reg_access::ro);
    regs_.add64("tlb_inv_va", AAX_REG_MMU_TLB_INV_VA_LO, 0, reg_access::rw);
    regs_.add("tlb_inv", AAX_REG_MMU_TLB_INV, 0, reg_access::wo).write_cb([this](uint32_t v) { invalidate(v); });
    // The fault record: STATUS.VALID says it holds a fault; writing VALID clears the record.
    regs_.add("fault_status", AAX_REG_MMU_FAULT_STATUS, 0, reg_access::w1c).write_cb([this](uint32_t w) {
        if (w & AAX_MMU_FAULT_VALID)
            for (uint32_t r : {AAX_REG_MMU_FAULT_STATUS, AAX_REG_MMU_FAULT_ASID, AAX_REG_MMU_FAULT_VA_LO})
                regs_[r].set(0);
    });
    regs_.add("fault_asid", AAX_REG_MMU_FAULT_ASID, 0, reg_access::ro);
    regs_.add64("fault_va", AAX_REG_MMU_FAULT_VA_LO, 0, reg_access::ro);
    regs_.add("fault_count", AAX_REG_MMU_FAULT_COUNT, 0, reg_access::ro);
    for (uint32_t a = 1; a < p.contexts; ++a) {
        const std::string n = "ctx" + std::to_string(a) + ".";
        regs_.add64(n + "pt_base", AAX_MMU_CTX(a) + AAX_MMU_CTX_PT_BASE_LO, 0, reg_access::rw);
        regs_.add(n + "ctrl", AAX_MMU_CTX(a) + AAX_MMU_CTX_CTRL, 0, reg_access::rw);
    }

    for (unsigned i = 0; i < p.ports.size(); ++i)
        ports_.push_back(std::make_unique<mmu_port>(p.ports[i].c_str(), *this, i));
    stats_.add({&faults_, &invalidations_});
}

mmu::~mmu() = default;  // stats_ unregisters the stats

bool mmu::context_enabled(uint16_t asid) const {
    return asid >= 1 && asid < p_.contexts && (regs_[AAX_MMU_CTX(asid) + AAX_MMU_CTX_CTRL].get() & AAX_MMU_CTX_EN);
}

uint64_t mmu::root(uint16_t asid) const {
    return regs_[AAX_MMU_CTX(asid) + AAX_MMU_CTX_PT_BASE_LO].get() & AAX_PTE_ADDR_MASK;
}

void mmu::soft_reset() {
    regs_.reset();
    for (auto& pt : ports_) {
        pt->tlb_.invalidate_all();
        pt->walker.invalidate_all();
    }
}

// One command reaches every port's TLB and walk cache before the register write
// completes, so a single invalidation (register or WREG packet) covers all engines.
void mmu::invalidate(uint32_t cmd) {
    ++invalidations_;
    const uint16_t asid = static_cast<uint16_t>(cmd & 0xFFFF);
    const uint64_t va = regs_[AAX_REG_MMU_TLB_INV_VA_LO].get();
    for (auto& pt : ports_) {
        switch ((cmd >> AAX_MMU_INV_OP_SHIFT) & 3) {
        case AAX_MMU_INV_ALL:
            pt->tlb_.invalidate_all();
            pt->walker.invalidate_all();
            break;
        case AAX_MMU_INV_ASID:
            pt->tlb_.invalidate_asid(asid);
            pt->walker.invalidate_asid(asid);
            break;
        case AAX_MMU_INV_VA:
            pt->tlb_.invalidate_va(asid, va);
            pt->walker.invalidate_asid(asid);  // conservative: table pointers of the context may have changed
            break;
        default: break;  // reserved op: ignored
        }
    }
}

void mmu::record_fault(unsigned port, uint16_t asid, uint64_t va, unsigned access, const mmu_port::lookup& l) {
    ++faults_;
    reg& count = regs_[AAX_REG_MMU_FAULT_COUNT];
    if (count.get() != 0xFFFFFFFFu) count.set(count.get() + 1);
    AVP_LOG(info, name(), "fault: {} asid {} va 0x{:x} ({}) at level {} on port {}", aax_mmu_fault_name(l.fault), asid,
            va, access == AAX_MMU_ACC_WRITE ? "write" : "read", l.level, p_.ports[port]);
    reg& status = regs_[AAX_REG_MMU_FAULT_STATUS];
    if (!(status.get() & AAX_MMU_FAULT_VALID)) {  // keep the first fault until the host clears it
        status.set(AAX_MMU_FAULT_VALID | l.fault | access << AAX_MMU_FAULT_ACC_SHIFT |
                   static_cast<uint32_t>(l.level) << AAX_MMU_FAULT_LEVEL_SHIFT | port << AAX_MMU_FAULT_PORT_SHIFT);
        regs_[AAX_REG_MMU_FAULT_ASID].set(asid);
        regs_[AAX_REG_MMU_FAULT_VA_LO].set(va);
    }
    irq_out->raise(AAX_IRQ_LINE_MMU);
}

mmu_port::mmu_port(sc_core::sc_module_name name, mmu& owner, unsigned index)
    : sc_module(name), target_socket("target_socket"), initiator_socket("initiator_socket"),
      walker("walker", owner.p_.walk_cache), owner_(owner), index_(index), tlb_(owner.p_.tlb_geom),
      hit_time_(owner.p_.tlb_hit_ns, sc_core::SC_NS) {
    target_socket.register_b_transport(this, &mmu_port::b_transport);
    target_socket.register_transport_dbg(this, &mmu_port::transport_dbg);
    target_socket.register_get_direct_mem_ptr(this, &mmu_port::get_direct_mem_ptr);
    initiator_socket.register_invalidate_direct_mem_ptr(this, &mmu_port::invalidate_direct_mem_ptr);
    tlb_.register_stats(stats_);
    stats_.add({&translated_, &passthrough_, &pieces_, &faults_});
}

mmu_port::~mmu_port() = default;  // stats_ unregisters the stats

mmu_port::lookup mmu_port::translate(uint16_t asid, uint64_t va, unsigned access, sc_core::sc_time& delay) {
    lookup l;
    if (va >> AAX_MMU_VA_BITS) {
        l.fault = AAX_MMU_FAULT_RANGE;
        return l;
    }
    if (!owner_.context_enabled(asid)) {
        l.fault = AAX_MMU_FAULT_CONTEXT;
        return l;
    }
    delay += hit_time_;
    if (!tlb_.lookup(asid, va, l.t)) {
        const page_table_walker::result w = walker.walk(asid, owner_.root(asid), va, delay);
        l.fault = w.fault;
        l.level = w.level;
        if (l.fault) return l;
        l.t = w.t;
        tlb_.insert(asid, va, l.t);
    }
    const uint64_t need = access == AAX_MMU_ACC_WRITE ? AAX_PTE_WRITE
                          : access == AAX_MMU_ACC_EXEC ? AAX_PTE_EXEC
                                                       : AAX_PTE_READ;
    if (!(l.t.perms & need)) l.fault = AAX_MMU_FAULT_PERMISSION;
    return l;
}

void mmu_port::b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    asid_ext* ext = t.get_extension<asid_ext>();
    if (!ext || ext->asid == 0) {
        ++passthrough_;
        initiator_socket->b_transport(t, delay);
        return;
    }
    ++translated_;
    if (t.get_byte_enable_ptr() || t.get_streaming_width() != t.get_data_length()) {
        t.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);  // engines issue plain bursts only
        return;
    }
    const unsigned access = t.is_write() ? AAX_MMU_ACC_WRITE : AAX_MMU_ACC_READ;
    const uint64_t va0 = t.get_address();
    unsigned char* const data0 = t.get_data_ptr();
    const uint32_t len = t.get_data_length();
    // Pieces are translated one after the other (`tr`); their accesses overlap and the
    // transaction ends with the last one (`end`).
    sc_core::sc_time tr = delay, end = delay;
    tlm::tlm_response_status st = tlm::TLM_OK_RESPONSE;
    for (uint32_t off = 0; off < len && st == tlm::TLM_OK_RESPONSE;) {
        const uint64_t va = va0 + off;
        const lookup l = translate(ext->asid, va, access, tr);
        if (l.fault) {
            ++faults_;
            owner_.record_fault(index_, ext->asid, va, access, l);
            ext->fault = true;
            st = tlm::TLM_ADDRESS_ERROR_RESPONSE;
            end = std::max(end, tr);
            break;
        }
        const uint64_t n = std::min<uint64_t>(len - off, l.t.va_page + l.t.page_size - va);
        sc_core::sc_time d = tr;
        t.set_address(l.t.pa(va));
        t.set_data_ptr(data0 + off);
        t.set_data_length(static_cast<uint32_t>(n));
        t.set_streaming_width(static_cast<uint32_t>(n));
        t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        initiator_socket->b_transport(t, d);
        ++pieces_;
        st = t.get_response_status();
        end = std::max(end, d);
        off += static_cast<uint32_t>(n);
    }
    t.set_address(va0);
    t.set_data_ptr(data0);
    t.set_data_length(len);
    t.set_streaming_width(len);
    t.set_dmi_allowed(false);
    t.set_response_status(st);
    delay = end;
}

unsigned mmu_port::transport_dbg(tlm::tlm_generic_payload& t) {
    asid_ext* ext = t.get_extension<asid_ext>();
    if (!ext || ext->asid == 0) return initiator_socket->transport_dbg(t);
    return 0;  // debug accesses of virtual addresses are not supported
}

bool mmu_port::get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) {
    asid_ext* ext = t.get_extension<asid_ext>();
    if (ext && ext->asid != 0) return false;  // a pointer would bypass translation
    return initiator_socket->get_direct_mem_ptr(t, dmi);
}

void mmu_port::invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end) {
    target_socket->invalidate_direct_mem_ptr(start, end);
}

} // namespace accelvp
