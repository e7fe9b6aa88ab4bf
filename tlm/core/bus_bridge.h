// Address-window bridge: a target socket whose accesses [0, size) are forwarded to an
// initiator socket at `base + offset`. It connects a narrow bus (the 32-bit control
// core) to a window of a wide one (the 64-bit chip bus), and the base can move at run
// time (a window register). DMI grants and invalidations are translated both ways;
// moving the window invalidates every DMI pointer handed out through it.
#pragma once

#include <algorithm>
#include <cstdint>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/passthrough_target_socket.h>

#include "tlm/core/extensions.h"
#include "tlm/core/register_firewall.h"

namespace accelvp {

class bus_bridge : public sc_core::sc_module {
public:
    tlm_utils::passthrough_target_socket<bus_bridge> target_socket;
    tlm_utils::simple_initiator_socket<bus_bridge> initiator_socket;

    bus_bridge(sc_core::sc_module_name name, uint64_t base, uint64_t size)
        : sc_module(name), target_socket("target_socket"), initiator_socket("initiator_socket"), base_(base),
          size_(size) {
        target_socket.register_b_transport(this, &bus_bridge::b_transport);
        target_socket.register_transport_dbg(this, &bus_bridge::transport_dbg);
        target_socket.register_get_direct_mem_ptr(this, &bus_bridge::get_direct_mem_ptr);
        initiator_socket.register_invalidate_direct_mem_ptr(this, &bus_bridge::invalidate);
    }

    uint64_t base() const { return base_; }
    // Mark every forwarded transaction (and DMI request) privileged (register_firewall,
    // memory_guard): the control core's paths into register space and its own memory.
    void set_privileged(bool p) { privileged_ = p; }
    void set_base(uint64_t b) {
        if (b == base_) return;
        base_ = b;
        target_socket->invalidate_direct_mem_ptr(0, size_ - 1);
    }

private:
    bool in_window(const tlm::tlm_generic_payload& t) const {
        return t.get_address() < size_ && t.get_data_length() <= size_ - t.get_address();
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
        if (!in_window(t)) {
            t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return;
        }
        const uint64_t a = t.get_address();
        privileged_ext mark;
        extension_guard<privileged_ext> g(t, privileged_ ? &mark : nullptr);
        t.set_address(base_ + a);
        initiator_socket->b_transport(t, delay);
        t.set_address(a);
    }
    unsigned transport_dbg(tlm::tlm_generic_payload& t) {
        if (!in_window(t)) return 0;
        const uint64_t a = t.get_address();
        privileged_ext mark;
        extension_guard<privileged_ext> g(t, privileged_ ? &mark : nullptr);
        t.set_address(base_ + a);
        const unsigned n = initiator_socket->transport_dbg(t);
        t.set_address(a);
        return n;
    }
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) {
        const uint64_t a = t.get_address();
        if (a >= size_) return false;
        privileged_ext mark;
        extension_guard<privileged_ext> g(t, privileged_ ? &mark : nullptr);
        t.set_address(base_ + a);
        const bool ok = initiator_socket->get_direct_mem_ptr(t, dmi);
        t.set_address(a);
        if (!ok) return false;
        // Clip the region to the window and translate it to window offsets.
        uint64_t start = dmi.get_start_address(), end = dmi.get_end_address();
        unsigned char* ptr = dmi.get_dmi_ptr();
        if (end < base_ || start > base_ + size_ - 1) return false;
        if (start < base_) {
            ptr += base_ - start;
            start = base_;
        }
        end = std::min(end, base_ + size_ - 1);
        dmi.set_dmi_ptr(ptr);
        dmi.set_start_address(start - base_);
        dmi.set_end_address(end - base_);
        return true;
    }
    void invalidate(sc_dt::uint64 start, sc_dt::uint64 end) {
        if (end < base_ || start > base_ + size_ - 1) return;
        const uint64_t s = start < base_ ? 0 : start - base_;
        const uint64_t e = std::min<uint64_t>(end - base_, size_ - 1);
        target_socket->invalidate_direct_mem_ptr(s, e);
    }

    uint64_t base_, size_;
    bool privileged_ = false;
};

} // namespace accelvp
