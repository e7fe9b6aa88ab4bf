// Hardware performance counters: BAR0 0xB000-0xBFFF (abi/aax_regs.h AAX_PERF_*,
// docs/profiling.md "Hardware performance counters").
//
// Every counter is a view of a figure a block already keeps for its stats (a DMA engine's
// bytes, a DRAM channel's row hits, a ring's jobs), so counting costs nothing on any hot
// path and a counter read through the registers equals the stats JSON figure of the same
// run (unless software stopped or cleared the counters). The block keeps, per counter, the
// live value at the last START or CLEAR and what was counted before, so START, STOP and
// CLEAR act on the host's view only; SNAPSHOT copies every counter at once, and PERF_DATA
// reads the copy, so a dump is consistent however long the reads take.
//
// Counters are grouped in classes (AAX_PERF_CLASS_*); every unit of a class has the same
// events, and counter index = first(class) + unit * events(class) + event. The chip lists
// the units when elaboration ends (link ports are wired after the chip is built).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/passthrough_target_socket.h>

#include "abi/aax_regs.h"
#include "tlm/core/register_bank.h"

namespace accelvp {

class perf_counters : public sc_core::sc_module {
public:
    tlm_utils::passthrough_target_socket<perf_counters> reg_socket;

    // One event of a unit: its live value. A high-water event (a maximum, not a sum) has a
    // `restart` that sets its live value back to 0 (CLEAR and START call it).
    struct event {
        std::function<uint64_t()> read;
        std::function<void()> restart;  // set: a high-water mark
    };
    // The units, listed by the chip at the end of elaboration: call add_class once per
    // class in increasing class order, then add_unit for each of its units.
    using builder = std::function<void(perf_counters&)>;

    perf_counters(sc_core::sc_module_name name, builder b);
    ~perf_counters() override;

    void add_class(unsigned cls, unsigned events);
    void add_unit(unsigned cls, std::vector<event> events);  // events.size() == the class's

    // The model's (and tests') view.
    size_t size() const { return counters_.size(); }
    // Index of (class, unit, event), or -1.
    long index(unsigned cls, unsigned unit, unsigned ev) const;
    uint64_t value(size_t i) const;          // what a SNAPSHOT would copy now
    uint64_t snapshot_value(size_t i) const;  // what PERF_DATA reads for counter i
    bool running() const { return running_; }
    void control(uint32_t bits);  // a PERF_CTRL write (AAX_PERF_CTRL_*)

private:
    void end_of_elaboration() override;
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& d) { regs_.b_transport(t, d); }
    unsigned transport_dbg(tlm::tlm_generic_payload& t) { return regs_.transport_dbg(t); }
    uint64_t live(size_t i) const { return counters_[i].ev.read(); }
    bool selected() const { return regs_.peek(AAX_REG_PERF_SEL) < counters_.size(); }

    struct class_info {
        uint32_t first = 0, events = 0, units = 0;
        bool present = false;
    };
    struct slot_ref {
        uint8_t cls = 0, event_id = 0;
        uint16_t unit = 0;
        event ev;
        uint64_t base = 0, acc = 0, snap = 0;  // live value at the last START/CLEAR, counted before it, the copy
    };
    builder builder_;
    std::vector<slot_ref> counters_;
    class_info classes_[AAX_PERF_CLASSES];
    bool running_ = true;
    bool sel_err_ = false;
    uint32_t snapshots_ = 0;
    register_bank regs_;
};

} // namespace accelvp
