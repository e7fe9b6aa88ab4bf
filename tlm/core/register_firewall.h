// Register firewall: the chip bus's door into the BAR0 register space.
//
// Engines that run guest command streams (queue-manager MSG/FENCE writes, fences and
// completion records, DMA, collectives) are untrusted initiators: in register space they
// may reach only the windows given to the firewall (the sync block's semaphores). Device
// control, rings and CQs, the firmware window, MSI-X and the MMU need a privileged
// initiator -- the host's BAR0 path (PCIe endpoint) or the control core -- which marks its
// transactions with privileged_ext. A refused access gets TLM_ADDRESS_ERROR_RESPONSE, so
// the job fails with BAD_ADDRESS like any other bad address.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/passthrough_target_socket.h>

namespace accelvp {

struct privileged_ext : tlm::tlm_extension<privileged_ext> {
    tlm::tlm_extension_base* clone() const override { return new privileged_ext(*this); }
    void copy_from(const tlm::tlm_extension_base&) override {}
};

class register_firewall : public sc_core::sc_module {
public:
    tlm_utils::passthrough_target_socket<register_firewall> target_socket;
    tlm_utils::simple_initiator_socket<register_firewall> initiator_socket;

    // open: [offset, offset + size) windows any initiator may access.
    register_firewall(sc_core::sc_module_name name, std::vector<std::pair<uint64_t, uint64_t>> open)
        : sc_module(name), target_socket("target_socket"), initiator_socket("initiator_socket"), open_(std::move(open)) {
        target_socket.register_b_transport(this, &register_firewall::b_transport);
        target_socket.register_transport_dbg(this, &register_firewall::transport_dbg);
    }
    uint64_t refused() const { return refused_; }

private:
    bool allowed(const tlm::tlm_generic_payload& t) const {
        if (t.get_extension<privileged_ext>()) return true;
        const uint64_t a = t.get_address(), n = t.get_data_length();
        for (const auto& [off, size] : open_)
            if (a >= off && n <= size && a - off <= size - n) return true;
        return false;
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
        if (!allowed(t)) {
            ++refused_;
            t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return;
        }
        initiator_socket->b_transport(t, delay);
    }
    unsigned transport_dbg(tlm::tlm_generic_payload& t) { return allowed(t) ? initiator_socket->transport_dbg(t) : 0; }

    std::vector<std::pair<uint64_t, uint64_t>> open_;
    uint64_t refused_ = 0;
};

// Memory guard: the chip bus's door into a memory with privileged regions (device
// memory with the firmware image, the control core's code, data and stack at its start).
// Only privileged initiators (privileged_ext: the host's BAR2 path, the control core's
// device-memory window) reach the closed windows; any other access that touches one gets
// TLM_ADDRESS_ERROR_RESPONSE (so a job fails with BAD_ADDRESS). Everything else passes
// through untouched and untimed; DMI grants to unprivileged initiators are clipped so no
// pointer reaches into a closed window. Addresses are offsets within the guarded target.
class memory_guard : public sc_core::sc_module {
public:
    tlm_utils::passthrough_target_socket<memory_guard> target_socket;
    tlm_utils::simple_initiator_socket<memory_guard> initiator_socket;

    // closed: [offset, offset + size) windows only privileged initiators may access.
    memory_guard(sc_core::sc_module_name name, std::vector<std::pair<uint64_t, uint64_t>> closed)
        : sc_module(name), target_socket("target_socket"), initiator_socket("initiator_socket"),
          closed_(std::move(closed)) {
        target_socket.register_b_transport(this, &memory_guard::b_transport);
        target_socket.register_transport_dbg(this, &memory_guard::transport_dbg);
        target_socket.register_get_direct_mem_ptr(this, &memory_guard::get_direct_mem_ptr);
        initiator_socket.register_invalidate_direct_mem_ptr(this, &memory_guard::invalidate);
    }
    uint64_t refused() const { return refused_; }

private:
    bool touches_closed(uint64_t a, uint64_t n) const {
        for (const auto& [off, size] : closed_)
            if (a < off + size && (n == 0 ? a : a + n - 1) >= off) return true;
        return false;
    }
    bool allowed(const tlm::tlm_generic_payload& t) const {
        return t.get_extension<privileged_ext>() || !touches_closed(t.get_address(), t.get_data_length());
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
        if (!allowed(t)) {
            ++refused_;
            t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return;
        }
        initiator_socket->b_transport(t, delay);
    }
    unsigned transport_dbg(tlm::tlm_generic_payload& t) { return allowed(t) ? initiator_socket->transport_dbg(t) : 0; }
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) {
        const bool priv = t.get_extension<privileged_ext>() != nullptr;
        if (!priv && touches_closed(t.get_address(), 1)) return false;
        if (!initiator_socket->get_direct_mem_ptr(t, dmi)) return false;
        if (priv) return true;
        // Clip the grant to the open range around the requested address.
        const uint64_t a = t.get_address();
        uint64_t start = dmi.get_start_address(), end = dmi.get_end_address();
        for (const auto& [off, size] : closed_) {
            if (off + size <= a && off + size > start) start = off + size;
            if (off > a && off <= end) end = off - 1;
        }
        dmi.set_dmi_ptr(dmi.get_dmi_ptr() + (start - dmi.get_start_address()));
        dmi.set_start_address(start);
        dmi.set_end_address(end);
        return true;
    }
    void invalidate(sc_dt::uint64 start, sc_dt::uint64 end) { target_socket->invalidate_direct_mem_ptr(start, end); }

    std::vector<std::pair<uint64_t, uint64_t>> closed_;
    uint64_t refused_ = 0;
};

} // namespace accelvp
