#include "tlm/core/register_bank.h"

#include <cstring>
#include <stdexcept>

#include "tlm/core/log.h"

namespace accelvp {

reg& register_bank::add(const std::string& name, uint32_t offset, uint32_t reset, reg_access access) {
    if (offset % 4 != 0) throw std::logic_error(owner_ + ": register " + name + " is not 32-bit aligned");
    auto [it, inserted] = regs_.try_emplace(offset);
    if (!inserted)
        throw std::logic_error(owner_ + ": register " + name + " overlaps " + it->second.name);
    reg& r = it->second;
    r.name = name;
    r.offset = offset;
    r.reset = reset;
    r.access = access;
    r.value = reset;
    return r;
}

reg* register_bank::find(uint32_t offset) {
    auto it = regs_.find(offset);
    return it == regs_.end() ? nullptr : &it->second;
}

reg& register_bank::at(const std::string& name) {
    for (auto& [off, r] : regs_)
        if (r.name == name) return r;
    throw std::logic_error(owner_ + ": no register " + name);
}

void register_bank::reset() {
    for (auto& [off, r] : regs_) r.value = r.reset;
}

uint32_t register_bank::peek(uint32_t offset) const {
    auto it = regs_.find(offset);
    return it == regs_.end() ? 0 : it->second.value;
}

tlm::tlm_response_status register_bank::access(tlm::tlm_generic_payload& t, bool debug) {
    if (t.get_byte_enable_ptr()) return tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE;
    if (t.get_data_length() != 4 || t.get_streaming_width() < 4) return tlm::TLM_BURST_ERROR_RESPONSE;
    const uint64_t addr = t.get_address();
    if (addr % 4 != 0 || addr > 0xFFFFFFFFull) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    reg* r = find(static_cast<uint32_t>(addr));
    if (!r) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    uint32_t v = 0;
    if (t.is_read()) {
        if (r->access == reg_access::wo) return tlm::TLM_COMMAND_ERROR_RESPONSE;
        v = r->on_read ? r->on_read() : r->value;
        if (r->on_read_effect && !debug) r->on_read_effect();
        std::memcpy(t.get_data_ptr(), &v, 4);
    } else if (t.is_write()) {
        std::memcpy(&v, t.get_data_ptr(), 4);
        if (debug) {  // debug writes set the raw value, no side effects
            r->value = v;
        } else {
            switch (r->access) {
            case reg_access::ro: return tlm::TLM_COMMAND_ERROR_RESPONSE;
            case reg_access::rw:
            case reg_access::wo: r->value = v; break;
            case reg_access::w1c: r->value &= ~v; break;
            }
            if (r->on_write) r->on_write(v);
        }
    } else {
        return tlm::TLM_COMMAND_ERROR_RESPONSE;
    }
    return tlm::TLM_OK_RESPONSE;
}

void register_bank::b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    const auto st = access(t, false);
    t.set_response_status(st);
    if (st != tlm::TLM_OK_RESPONSE)
        AVP_LOG(debug, owner_, "register access error at 0x{:x}: {}", t.get_address(), t.get_response_string());
    delay += t.is_read() ? read_latency_ : write_latency_;
}

unsigned register_bank::transport_dbg(tlm::tlm_generic_payload& t) {
    return access(t, true) == tlm::TLM_OK_RESPONSE ? 4u : 0u;
}

} // namespace accelvp
