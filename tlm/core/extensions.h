// TLM extensions and interfaces through which our blocks meet.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include <systemc>
#include <tlm>

#include "tlm/core/payload_pool.h"

namespace accelvp {

// Prepare a plain memory transaction (no byte enables, streaming width = length).
inline void init_payload(tlm::tlm_generic_payload& t, tlm::tlm_command cmd, uint64_t addr, void* data, uint32_t len) {
    t.set_command(cmd);
    t.set_address(addr);
    t.set_data_ptr(static_cast<unsigned char*>(data));
    t.set_data_length(len);
    t.set_streaming_width(len);
    t.set_byte_enable_ptr(nullptr);
    t.set_dmi_allowed(false);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
}

// Marks a transaction of the `timing` fidelity mode: targets account its time exactly
// as in functional mode but move no data (so cycle counts are identical in both modes).
struct timing_only_ext : tlm::tlm_extension<timing_only_ext> {
    tlm::tlm_extension_base* clone() const override { return new timing_only_ext(*this); }
    void copy_from(const tlm::tlm_extension_base&) override {}
};

inline bool is_timing_only(const tlm::tlm_generic_payload& t) {
    return t.get_extension<timing_only_ext>() != nullptr;
}

// Engine command protocol: a queue manager hands a packet to an engine as a TLM WRITE
// of the packet bytes to the engine's command socket (address 0). The engine executes
// it inside b_transport (it may wait), adds its time to the delay and reports the
// outcome here (an aax_status code and, for address errors, the offending address).
struct command_ext : tlm::tlm_extension<command_ext> {
    uint8_t status = 0;       // enum aax_status
    uint64_t error_addr = 0;  // first address that failed, for AAX_ERR_BAD_ADDRESS/BUS
    uint64_t deadline_ps = 0; // absolute job deadline (0 = none): waits give up there
    uint16_t asid = 0;        // the job's address space (engines put it on their bus accesses)
    uint32_t stream = 0;      // the submitting ring: picks the engine where several share a socket
    const bool* abort = nullptr;  // the scheduler's abort flag for this job (a hung engine gives up on it)
    const sc_core::sc_event* abort_ev = nullptr;  // notified when the scheduler sets an abort flag (waits wake on it)
    bool fw_watchdog = false;     // the firmware's watchdog, not the deadline, ends a hung packet
    uint64_t flow = 0;            // the job's trace flow (tracer::flow_id; 0 = none, tracing off)
    tlm::tlm_extension_base* clone() const override { return new command_ext(*this); }
    void copy_from(const tlm::tlm_extension_base& o) override { *this = static_cast<const command_ext&>(o); }
};

// Address space of a bus transaction (MMU): an engine attaches it with the job's ASID
// (aax_job_desc.asid); no extension or asid 0 means a physical address. The MMU sets
// `fault` when it fails the transaction on a translation fault (response
// TLM_ADDRESS_ERROR_RESPONSE), so the engine reports AAX_ERR_MMU_FAULT.
struct asid_ext : tlm::tlm_extension<asid_ext> {
    uint16_t asid = 0;
    bool fault = false;
    tlm::tlm_extension_base* clone() const override { return new asid_ext(*this); }
    void copy_from(const tlm::tlm_extension_base& o) override { *this = static_cast<const asid_ext&>(o); }
};

// ECC (tlm/mem/ecc.h): an initiator that wants to tell an uncorrectable memory error from
// other bus errors attaches this to its reads; a memory with ECC fault injection sets
// `uncorrectable` (response TLM_GENERIC_ERROR_RESPONSE) and the failing word's byte offset
// in the transaction.
struct ecc_ext : tlm::tlm_extension<ecc_ext> {
    bool uncorrectable = false;
    uint64_t offset = 0;
    tlm::tlm_extension_base* clone() const override { return new ecc_ext(*this); }
    void copy_from(const tlm::tlm_extension_base& o) override { *this = static_cast<const ecc_ext&>(o); }
};

// Split reads (the DRAM front end, docs/memory.md). An initiator that keeps several reads in
// flight from one thread (a DMA engine) cannot block in b_transport until each read's data
// returns: the memory would then schedule one read at a time and never see the reads queued
// behind it. So it attaches this extension to a read; a target that supports it (the DRAM
// model) queues the read, returns at once with a lower bound of its completion in the delay
// and records a ticket. When the initiator's time reaches that bound it calls complete() on
// each ticket and moves the read's time on by (latest done - bound_ps). Meanwhile other reads
// have joined the same controller queues, so the schedulers see them together. Targets that
// do not know the extension answer as usual (no ticket). A transaction split on its way (the
// MMU cuts it at page boundaries) collects up to max_parts tickets; further parts complete at
// once.
class split_read_if {
public:
    virtual ~split_read_if() = default;
    // The absolute time (ps) of the ticket's last data beat; runs the memory as far as needed.
    virtual uint64_t complete_split_read(uint64_t ticket) = 0;
};

struct split_read_ext : tlm::tlm_extension<split_read_ext> {
    static constexpr unsigned max_parts = 4;
    split_read_if* target = nullptr;
    uint64_t ticket[max_parts] = {};
    unsigned parts = 0;
    uint64_t bound_ps = 0;  // latest lower bound returned for the parts (absolute ps)
    bool can_defer(const split_read_if* t) const { return parts < max_parts && (!target || target == t); }
    void reset() { *this = split_read_ext(); }
    // Complete every part; the absolute time of the last data beat (bound_ps if none).
    uint64_t complete() {
        uint64_t done = bound_ps;
        for (unsigned i = 0; i < parts; ++i) done = std::max(done, target->complete_split_read(ticket[i]));
        parts = 0;
        return done;
    }
    tlm::tlm_extension_base* clone() const override { return new split_read_ext(*this); }
    void copy_from(const tlm::tlm_extension_base& o) override { *this = static_cast<const split_read_ext&>(o); }
};

// What a queue manager asks the MMU before it runs a job in an address space.
class mmu_context_if : public virtual sc_core::sc_interface {
public:
    virtual bool context_enabled(uint16_t asid) const = 0;
};

// An edge-triggered interrupt line bundle (message-signalled, like MSI-X): a source
// calls raise(line) at the current simulated time.
class irq_if : public virtual sc_core::sc_interface {
public:
    virtual void raise(unsigned line) = 0;
};

// A bundle of level-sensitive interrupt lines (a CPU's machine interrupt inputs, an
// interrupt controller's outputs): the source calls set_level(line, level) only when a
// line changes, never per cycle, at the current simulated time.
class irq_level_if : public virtual sc_core::sc_interface {
public:
    virtual void set_level(unsigned line, bool level) = 0;
};

// Clears a stack-allocated extension from a payload when the scope ends, also when
// the thread is killed and unwound mid-transaction (a payload's destructor would
// otherwise free() an extension it does not own). Declare it after the payload.
template <typename Ext>
class extension_guard {
public:
    extension_guard(tlm::tlm_generic_payload& t, Ext* e) : t_(t), e_(e) {
        if (e_) t_.set_extension(e_);
    }
    ~extension_guard() {
        if (e_) t_.clear_extension(e_);
    }
    extension_guard(const extension_guard&) = delete;
    extension_guard& operator=(const extension_guard&) = delete;

private:
    tlm::tlm_generic_payload& t_;
    Ext* e_;
};

// The engine side of the command protocol: checks that `t` is a WRITE of exactly one
// `Pkt` with a command_ext, then calls run(pkt, ext) (which fills ext.status/error_addr);
// anything else is a TLM_COMMAND_ERROR_RESPONSE.
template <typename Pkt, typename Run>
void serve_command(tlm::tlm_generic_payload& t, Run&& run) {
    auto* ext = t.get_extension<command_ext>();
    Pkt pkt{};
    if (!t.is_write() || t.get_data_length() != sizeof(pkt) || !ext) {
        t.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    std::memcpy(&pkt, t.get_data_ptr(), sizeof(pkt));
    run(pkt, *ext);
    t.set_response_status(tlm::TLM_OK_RESPONSE);
}

// One bulk-engine bus access (a timing_only_ext in timing mode); returns the response.
template <typename Socket>
tlm::tlm_response_status engine_transport(Socket& s, tlm::tlm_command cmd, uint64_t addr, uint8_t* data, uint32_t len,
                                          sc_core::sc_time& delay, bool timing_only) {
    const pooled_payload pt;
    tlm::tlm_generic_payload& t = *pt;
    timing_only_ext timing;
    init_payload(t, cmd, addr, data, len);
    extension_guard<timing_only_ext> g(t, timing_only ? &timing : nullptr);
    s->b_transport(t, delay);
    return t.get_response_status();
}

// Run control of a control core, driven by the device control block's CORE_CTRL,
// CORE_ENTRY and CORE_WIN registers.
class core_ctrl_if : public virtual sc_core::sc_interface {
public:
    virtual void core_run(bool run, uint32_t entry) = 0;    // release from / hold in reset
    virtual void core_window(uint64_t chip_address) = 0;    // move the core's bus window
};

// Soft reset fan-out from the device control block to the blocks it resets.
class reset_if : public virtual sc_core::sc_interface {
public:
    virtual void soft_reset() = 0;
};

} // namespace accelvp
