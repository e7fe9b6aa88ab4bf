// Register-bank helper: a block declares its programmer's view as data -- typed 32- or
// 64-bit registers with a name, address, reset value, access rights, writable and
// write-1-to-clear masks and optional side-effect hooks -- and forwards its target socket
// here. The TLM decoding and the access rules live once in this class, never in a model
// (VCML's `reg<T>` and gem5's `RegisterBank` are the models; our code).
//
// Addresses: a bank covers one register window of BAR0. Models name registers by their
// absolute ABI address (AAX_REG_*, AAX_RING_BASE(r) + AAX_RING_CTRL, ...); the bank's
// `base` is the window's first address (abi/: AAX_*_WINDOW_BASE), and bus transactions,
// which the register router delivers relative to the window, are offsets from it. So no
// model subtracts its window base by hand.
//
// State: a register holds its own value. A model reads and changes it with `get()` /
// `set()` (no rules, no hooks); hooks are for side effects, and `on_read` only for values
// that live elsewhere (a ring's head index advanced by a thread).
//
// Rules: 32-bit aligned accesses of 4 bytes only, no byte enables (else
// TLM_BURST_ERROR_RESPONSE / TLM_BYTE_ENABLE_ERROR_RESPONSE); a 64-bit register is two
// 32-bit words (LO at its address, HI at +4), each accessed on its own. An address with no
// register gives TLM_ADDRESS_ERROR_RESPONSE; writing a read-only register or reading a
// write-only one gives TLM_COMMAND_ERROR_RESPONSE and leaves the register unchanged.
// A write stores the written bits under the writable mask (other bits keep their value),
// then clears the bits under the W1C mask that were written as 1.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <systemc>
#include <tlm>

namespace accelvp {

// Shorthands for the common cases: rw / wo (every bit writable), ro (writes are errors),
// w1c (no bit writable, every bit write-1-to-clear). Masks refine them (reg::mask, reg::w1c).
enum class reg_access { ro, rw, wo, w1c };

struct reg {
    std::string name;
    uint64_t value = 0;
    uint64_t reset = 0;
    uint64_t wmask = ~0ull;  // bits a write stores
    uint64_t w1c_mask = 0;   // bits a write of 1 clears
    uint32_t offset = 0;     // from the bank's base
    uint8_t width = 32;      // 32 or 64 bits
    reg_access access = reg_access::rw;

    // Side-effect hooks, allocated for the registers that have one (a chip has ~750
    // registers, most of them plain: three empty std::function each were 40 % of a chip's
    // register memory).
    struct hooks_t {
        // Compute the value returned by a read (live state such as a head index). It must
        // have no side effects: debug reads (GDB, transport_dbg) call it too, so they see
        // the same value a bus read would.
        std::function<uint64_t()> on_read;
        // A read's side effect (e.g. latching the other half of a 64-bit counter), run after
        // on_read on bus reads only, never on debug reads.
        std::function<void()> on_read_effect;
        // Called after a bus write has been applied (value already updated by the masks);
        // `written` is the 32-bit word the initiator wrote (either half of a 64-bit
        // register), `before` the register's value before the write (to see which bits changed).
        std::function<void(uint32_t written, uint64_t before)> on_write;
    };
    std::unique_ptr<hooks_t> hooks;  // null: no hook

    reg& read_cb(std::function<uint64_t()> f) { hooks_ref().on_read = std::move(f); return *this; }
    reg& read_effect_cb(std::function<void()> f) { hooks_ref().on_read_effect = std::move(f); return *this; }
    reg& write_cb(std::function<void(uint32_t written)> f) {
        hooks_ref().on_write = [f = std::move(f)](uint32_t w, uint64_t) { f(w); };
        return *this;
    }
    reg& write_cb(std::function<void(uint32_t written, uint64_t before)> f) {
        hooks_ref().on_write = std::move(f);
        return *this;
    }
    reg& mask(uint64_t writable) { wmask = writable & all(); return *this; }
    reg& w1c(uint64_t bits) { w1c_mask = bits & all(); return *this; }

    // The model's own view: the stored value, no rules, no hooks.
    uint64_t get() const { return value; }
    void set(uint64_t v) { value = v & all(); }
    uint64_t all() const { return width == 64 ? ~0ull : 0xFFFFFFFFull; }

private:
    hooks_t& hooks_ref() {
        if (!hooks) hooks = std::make_unique<hooks_t>();
        return *hooks;
    }
};

class register_bank {
public:
    // `base`: the window's first address in the ABI's address space (0 for a bank that
    // names its registers by offset).
    explicit register_bank(std::string owner, uint32_t base = 0) : owner_(std::move(owner)), base_(base) {}

    // A 32-bit (add) or 64-bit (add64) register at ABI address `addr`.
    reg& add(const std::string& name, uint32_t addr, uint32_t reset, reg_access access);
    reg& add64(const std::string& name, uint32_t addr, uint64_t reset, reg_access access);
    // The register covering `addr` (either word of a 64-bit register), or nullptr.
    reg* find(uint32_t addr);
    const reg* find(uint32_t addr) const;
    // The register at `addr`; a logic error if there is none (a model bug).
    reg& operator[](uint32_t addr);
    const reg& operator[](uint32_t addr) const;
    reg& at(const std::string& name);
    size_t size() const { return regs_.size(); }
    uint32_t base() const { return base_; }

    void set_latency(const sc_core::sc_time& read, const sc_core::sc_time& write) {
        read_latency_ = read;
        write_latency_ = write;
    }
    void reset();

    // TLM entry points for the owning block's target socket (addresses relative to base).
    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    unsigned transport_dbg(tlm::tlm_generic_payload& trans);

    // Direct access by the owning model: the stored 32-bit word at `addr` (no rules, no
    // callbacks on read); 0 where there is no register.
    uint32_t peek(uint32_t addr) const;

private:
    reg& insert(const std::string& name, uint32_t addr, unsigned width, uint64_t reset, reg_access access);
    const reg* find_offset(uint32_t off) const;
    tlm::tlm_response_status access(tlm::tlm_generic_payload& trans, bool debug);

    std::string owner_;
    uint32_t base_;
    std::map<uint32_t, reg> regs_;  // by offset from base_
    sc_core::sc_time read_latency_ = sc_core::SC_ZERO_TIME, write_latency_ = sc_core::SC_ZERO_TIME;
};

} // namespace accelvp
