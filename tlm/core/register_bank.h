// Register-bank helper: a block declares its programmer's view as data -- typed 32-bit
// registers with a name, offset, reset value, access rights and optional read/write
// callbacks -- and forwards its target socket here. The TLM decoding and the access
// rules live once in this class, never in a model (VCML's idea, our code).
//
// Rules: 32-bit aligned accesses only, no byte enables (else TLM_BURST_ERROR_RESPONSE /
// TLM_BYTE_ENABLE_ERROR_RESPONSE); an offset with no register gives
// TLM_ADDRESS_ERROR_RESPONSE; writing a read-only register or reading a write-only one
// gives TLM_COMMAND_ERROR_RESPONSE and leaves the register unchanged.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <systemc>
#include <tlm>

namespace accelvp {

enum class reg_access { ro, rw, wo, w1c };

struct reg {
    std::string name;
    uint32_t offset = 0;
    uint32_t reset = 0;
    reg_access access = reg_access::rw;
    uint32_t value = 0;
    // Optional: compute the value returned by a read (live state such as a head index). It
    // must have no side effects: debug reads (GDB, transport_dbg) call it too, so they see
    // the same value a bus read would.
    std::function<uint32_t()> on_read;
    // Optional: a read's side effect (e.g. latching the other half of a 64-bit counter), run
    // after on_read on bus reads only, never on debug reads.
    std::function<void()> on_read_effect;
    // Optional: called after a write has been applied (value already updated per access
    // rule; for w1c `written` holds the bits the host wrote).
    std::function<void(uint32_t written)> on_write;

    reg& read_cb(std::function<uint32_t()> f) { on_read = std::move(f); return *this; }
    reg& read_effect_cb(std::function<void()> f) { on_read_effect = std::move(f); return *this; }
    reg& write_cb(std::function<void(uint32_t)> f) { on_write = std::move(f); return *this; }
};

class register_bank {
public:
    explicit register_bank(std::string owner) : owner_(std::move(owner)) {}

    reg& add(const std::string& name, uint32_t offset, uint32_t reset, reg_access access);
    reg* find(uint32_t offset);
    reg& at(const std::string& name);
    size_t size() const { return regs_.size(); }

    void set_latency(const sc_core::sc_time& read, const sc_core::sc_time& write) {
        read_latency_ = read;
        write_latency_ = write;
    }
    void reset();

    // TLM entry points for the owning block's target socket.
    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    unsigned transport_dbg(tlm::tlm_generic_payload& trans);

    // Direct access by the owning model: the stored value (no rules, no callbacks on read).
    uint32_t peek(uint32_t offset) const;

private:
    tlm::tlm_response_status access(tlm::tlm_generic_payload& trans, bool debug);

    std::string owner_;
    std::map<uint32_t, reg> regs_;
    sc_core::sc_time read_latency_ = sc_core::SC_ZERO_TIME, write_latency_ = sc_core::SC_ZERO_TIME;
};

} // namespace accelvp
