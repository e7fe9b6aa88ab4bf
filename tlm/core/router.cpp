#include "tlm/core/router.h"

#include <algorithm>

#include <fmt/format.h>

#include "tlm/core/config.h"
#include "tlm/core/log.h"

namespace accelvp {

router::router(sc_core::sc_module_name name, sc_core::sc_time hop_latency)
    : sc_module(name), target_socket("target_socket"), initiator_socket("initiator_socket"), hop_(hop_latency) {
    target_socket.register_b_transport(this, &router::b_transport);
    target_socket.register_transport_dbg(this, &router::transport_dbg);
    target_socket.register_get_direct_mem_ptr(this, &router::get_direct_mem_ptr);
    initiator_socket.register_invalidate_direct_mem_ptr(this, &router::invalidate_direct_mem_ptr);
    stats_.add(transactions_);
    stats_.add(decode_errors_);
}

router::~router() = default;  // stats_ unregisters the stats

void router::map(const std::string& rname, uint64_t base, uint64_t size, unsigned port) {
    if (size == 0) throw config_error(fmt::format("config error: address range '{}' of {} has size 0", rname, name()));
    const uint64_t last = base + (size - 1);  // inclusive, so a range may end exactly at 2^64
    if (last < base)
        throw config_error(fmt::format("config error: address range '{}' of {} wraps around", rname, name()));
    for (const auto& r : ranges_) {
        if (base <= r.base + (r.size - 1) && r.base <= last)
            throw config_error(fmt::format(
                "config error: address range '{}' [0x{:x}, 0x{:x}) overlaps '{}' [0x{:x}, 0x{:x}) in {}", rname, base,
                base + size, r.name, r.base, r.base + r.size, name()));
    }
    ranges_.push_back({rname, base, size, port});
    std::sort(ranges_.begin(), ranges_.end(), [](const range& a, const range& b) { return a.base < b.base; });
}

const router::range* router::decode(uint64_t addr) const {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), addr,
                               [](uint64_t a, const range& r) { return a < r.base; });
    if (it == ranges_.begin()) return nullptr;
    --it;
    return (addr - it->base < it->size) ? &*it : nullptr;
}

void router::before_target(int, unsigned, tlm::tlm_generic_payload&, sc_core::sc_time& delay) { delay += hop_; }

void router::b_transport(int id, tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    const uint64_t addr = t.get_address();
    const range* r = decode(addr);
    // The whole access must lie in one range.
    if (!r || t.get_data_length() > r->size - (addr - r->base)) {
        ++decode_errors_;
        AVP_LOG(debug, name(), "decode miss at 0x{:x} (+{} bytes)", addr, t.get_data_length());
        t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    ++transactions_;
    before_target(id, r->port, t, delay);
    t.set_address(addr - r->base);
    initiator_socket[r->port]->b_transport(t, delay);
    t.set_address(addr);
    if (!dmi_enabled(id)) t.set_dmi_allowed(false);
    after_target(id, r->port, t, delay);
}

unsigned router::transport_dbg(int, tlm::tlm_generic_payload& t) {
    const uint64_t addr = t.get_address();
    const range* r = decode(addr);
    if (!r || t.get_data_length() > r->size - (addr - r->base)) return 0;
    t.set_address(addr - r->base);
    const unsigned n = initiator_socket[r->port]->transport_dbg(t);
    t.set_address(addr);
    return n;
}

bool router::get_direct_mem_ptr(int id, tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) {
    if (!dmi_enabled(id)) return false;
    const uint64_t addr = t.get_address();
    const range* r = decode(addr);
    if (!r) return false;
    t.set_address(addr - r->base);
    const bool ok = initiator_socket[r->port]->get_direct_mem_ptr(t, dmi);
    t.set_address(addr);
    if (!ok) return false;
    // Translate the granted region back and clip it to this range.
    uint64_t start = dmi.get_start_address(), end = dmi.get_end_address();
    const uint64_t last = r->size - 1;
    if (start > last) return false;
    if (end > last) end = last;
    unsigned char* ptr = dmi.get_dmi_ptr();
    dmi.set_dmi_ptr(ptr);
    dmi.set_start_address(start + r->base);
    dmi.set_end_address(end + r->base);
    dmi.set_read_latency(dmi.get_read_latency() + hop_);
    dmi.set_write_latency(dmi.get_write_latency() + hop_);
    return true;
}

void router::invalidate_direct_mem_ptr(int port, sc_dt::uint64 start, sc_dt::uint64 end) {
    for (const auto& r : ranges_) {
        if (r.port != static_cast<unsigned>(port) || start >= r.size) continue;
        const uint64_t s = r.base + start;
        const uint64_t e = r.base + std::min<uint64_t>(end, r.size - 1);
        for (unsigned i = 0; i < target_socket.size(); ++i) target_socket[i]->invalidate_direct_mem_ptr(s, e);
    }
}

} // namespace accelvp
