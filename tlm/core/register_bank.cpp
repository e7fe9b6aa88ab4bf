#include "tlm/core/register_bank.h"

#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "tlm/core/log.h"

namespace accelvp {

reg& register_bank::insert(const std::string& name, uint32_t addr, unsigned width, uint64_t reset, reg_access access) {
    if (addr % 4 != 0) throw std::logic_error(owner_ + ": register " + name + " is not 32-bit aligned");
    if (addr < base_)
        throw std::logic_error(fmt::format("{}: register {} at 0x{:x} is below the window base 0x{:x}", owner_, name,
                                           addr, base_));
    const uint32_t off = addr - base_;
    const uint32_t bytes = width / 8;
    // Overlap: a register starting inside the new one, or the one before reaching into it.
    auto next = regs_.lower_bound(off);
    if (next != regs_.end() && next->first < off + bytes)
        throw std::logic_error(owner_ + ": register " + name + " overlaps " + next->second.name);
    if (const reg* prev = find_offset(off))
        throw std::logic_error(owner_ + ": register " + name + " overlaps " + prev->name);
    reg& r = regs_[off];
    r.name = name;
    r.offset = off;
    r.width = static_cast<uint8_t>(width);
    r.access = access;
    r.reset = reset & r.all();
    r.value = r.reset;
    r.wmask = access == reg_access::w1c ? 0 : r.all();
    r.w1c_mask = access == reg_access::w1c ? r.all() : 0;
    return r;
}

reg& register_bank::add(const std::string& name, uint32_t addr, uint32_t reset, reg_access access) {
    return insert(name, addr, 32, reset, access);
}

reg& register_bank::add64(const std::string& name, uint32_t addr, uint64_t reset, reg_access access) {
    return insert(name, addr, 64, reset, access);
}

const reg* register_bank::find_offset(uint32_t off) const {
    auto it = regs_.upper_bound(off);
    if (it == regs_.begin()) return nullptr;
    --it;
    return off < it->first + it->second.width / 8 ? &it->second : nullptr;
}

const reg* register_bank::find(uint32_t addr) const { return addr < base_ ? nullptr : find_offset(addr - base_); }
reg* register_bank::find(uint32_t addr) { return const_cast<reg*>(static_cast<const register_bank&>(*this).find(addr)); }

const reg& register_bank::operator[](uint32_t addr) const {
    const reg* r = find(addr);
    if (!r) throw std::logic_error(fmt::format("{}: no register at 0x{:x}", owner_, addr));
    return *r;
}
reg& register_bank::operator[](uint32_t addr) {
    return const_cast<reg&>(static_cast<const register_bank&>(*this)[addr]);
}

reg& register_bank::at(const std::string& name) {
    for (auto& [off, r] : regs_)
        if (r.name == name) return r;
    throw std::logic_error(owner_ + ": no register " + name);
}

void register_bank::reset() {
    for (auto& [off, r] : regs_) r.value = r.reset;
}

uint32_t register_bank::peek(uint32_t addr) const {
    const reg* r = find(addr);
    if (!r) return 0;
    const unsigned shift = (addr - base_ - r->offset) * 8;
    return static_cast<uint32_t>(r->value >> shift);
}

tlm::tlm_response_status register_bank::access(tlm::tlm_generic_payload& t, bool debug) {
    if (t.get_byte_enable_ptr()) return tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE;
    if (t.get_data_length() != 4 || t.get_streaming_width() < 4) return tlm::TLM_BURST_ERROR_RESPONSE;
    const uint64_t addr = t.get_address();
    if (addr % 4 != 0 || addr > 0xFFFFFFFFull) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    reg* r = const_cast<reg*>(find_offset(static_cast<uint32_t>(addr)));
    if (!r) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    const unsigned shift = static_cast<unsigned>(addr - r->offset) * 8;  // which word of the register
    const uint64_t word = 0xFFFFFFFFull << shift;
    if (t.is_read()) {
        if (r->access == reg_access::wo) return tlm::TLM_COMMAND_ERROR_RESPONSE;
        const reg::hooks_t* h = r->hooks.get();
        const uint32_t v = static_cast<uint32_t>((h && h->on_read ? h->on_read() : r->value) >> shift);
        if (h && h->on_read_effect && !debug) h->on_read_effect();
        std::memcpy(t.get_data_ptr(), &v, 4);
    } else if (t.is_write()) {
        uint32_t v = 0;
        std::memcpy(&v, t.get_data_ptr(), 4);
        const uint64_t in = static_cast<uint64_t>(v) << shift;
        if (debug) {  // debug writes set the raw value, no masks, no side effects
            r->value = (r->value & ~word) | in;
        } else {
            if (r->access == reg_access::ro) return tlm::TLM_COMMAND_ERROR_RESPONSE;
            const uint64_t before = r->value;
            const uint64_t wm = r->wmask & word;
            uint64_t nv = (r->value & ~wm) | (in & wm);
            nv &= ~(in & r->w1c_mask & word);
            r->value = nv;
            if (r->hooks && r->hooks->on_write) r->hooks->on_write(v, before);
        }
    } else {
        return tlm::TLM_COMMAND_ERROR_RESPONSE;
    }
    return tlm::TLM_OK_RESPONSE;
}

void register_bank::b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    const auto st = access(t, false);
    t.set_response_status(st);
    // Register-access trace: -p log.regs=debug (docs/debugging.md).
    if (st == tlm::TLM_OK_RESPONSE && static_cast<int>(max_log_level()) >= static_cast<int>(log_level::debug) &&
        log_enabled(log_level::debug, "regs")) {
        uint32_t v = 0;
        std::memcpy(&v, t.get_data_ptr(), 4);
        const reg* r = find_offset(static_cast<uint32_t>(t.get_address()));
        log_write(log_level::debug, "regs",
                  fmt::format("{} {} 0x{:x} {}{} = 0x{:08x}", owner_, t.is_read() ? "read " : "write",
                              t.get_address() + base_, r ? r->name : "?",
                              r && r->offset != t.get_address() ? "[hi]" : "", v));
    }
    if (st != tlm::TLM_OK_RESPONSE)
        AVP_LOG(debug, owner_, "register access error at 0x{:x}: {}", t.get_address() + base_,
                t.get_response_string());
    delay += t.is_read() ? read_latency_ : write_latency_;
}

unsigned register_bank::transport_dbg(tlm::tlm_generic_payload& t) {
    return access(t, true) == tlm::TLM_OK_RESPONSE ? 4u : 0u;
}

} // namespace accelvp
