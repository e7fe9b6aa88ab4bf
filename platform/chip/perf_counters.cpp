#include "platform/chip/perf_counters.h"

#include <algorithm>
#include <stdexcept>

namespace accelvp {

perf_counters::perf_counters(sc_core::sc_module_name name, builder b)
    : sc_module(name), reg_socket("reg_socket"), builder_(std::move(b)), regs_(this->name(), AAX_PERF_WINDOW_BASE) {
    reg_socket.register_b_transport(this, &perf_counters::b_transport);
    reg_socket.register_transport_dbg(this, &perf_counters::transport_dbg);

    regs_.add("info", AAX_REG_PERF_INFO, 0, reg_access::ro).read_cb([this] {
        return static_cast<uint64_t>(counters_.size()) | uint64_t{AAX_PERF_CLASSES} << 16;
    });
    regs_.add("ctrl", AAX_REG_PERF_CTRL, 0, reg_access::wo).write_cb([this](uint32_t v) { control(v); });
    regs_.add("status", AAX_REG_PERF_STATUS, AAX_PERF_STATUS_RUNNING, reg_access::ro).read_cb([this] {
        return (running_ ? AAX_PERF_STATUS_RUNNING : 0u) | (sel_err_ ? AAX_PERF_STATUS_SEL_ERR : 0u) |
               (snapshots_ & 0xFFFFu) << 16;
    });
    regs_.add("sel", AAX_REG_PERF_SEL, 0, reg_access::rw);
    // PERF_DATA and PERF_DESC: the selected counter; out of range they read 0 and a bus read
    // sets STATUS.SEL_ERR (an in-range read clears it). Reading DATA_HI advances PERF_SEL.
    auto note_sel = [this] { sel_err_ = !selected(); };
    regs_.add("data_lo", AAX_REG_PERF_DATA_LO, 0, reg_access::ro)
        .read_cb([this] { return selected() ? counters_[regs_.peek(AAX_REG_PERF_SEL)].snap & 0xFFFFFFFFu : 0; })
        .read_effect_cb(note_sel);
    regs_.add("data_hi", AAX_REG_PERF_DATA_HI, 0, reg_access::ro)
        .read_cb([this] { return selected() ? counters_[regs_.peek(AAX_REG_PERF_SEL)].snap >> 32 : 0; })
        .read_effect_cb([this, note_sel] {
            note_sel();
            reg& sel = regs_[AAX_REG_PERF_SEL];
            sel.set(sel.get() + 1);
        });
    regs_.add("desc", AAX_REG_PERF_DESC, 0, reg_access::ro)
        .read_cb([this]() -> uint64_t {
            if (!selected()) return 0;
            const slot_ref& s = counters_[regs_.peek(AAX_REG_PERF_SEL)];
            return uint64_t{s.event_id} | uint64_t{s.cls} << 8 | uint64_t{s.unit} << 16;
        })
        .read_effect_cb(note_sel);
    regs_.add64("snap_time", AAX_REG_PERF_SNAP_TIME_LO, 0, reg_access::ro);
    for (unsigned c = 0; c < AAX_PERF_CLASSES; ++c)
        regs_.add("class" + std::to_string(c), AAX_PERF_CLASS_INFO(c), 0, reg_access::ro).read_cb([this, c] {
            const class_info& k = classes_[c];
            return uint64_t{k.first} | uint64_t{k.events} << 16 | uint64_t{k.units} << 24;
        });
}

perf_counters::~perf_counters() = default;

void perf_counters::end_of_elaboration() {
    if (builder_) builder_(*this);
}

void perf_counters::add_class(unsigned cls, unsigned events) {
    if (cls >= AAX_PERF_CLASSES || classes_[cls].present || events == 0 || events > 0xFF)
        throw std::logic_error("perf_counters: bad class " + std::to_string(cls));
    for (unsigned c = cls + 1; c < AAX_PERF_CLASSES; ++c)
        if (classes_[c].present) throw std::logic_error("perf_counters: classes out of order");
    classes_[cls] = class_info{static_cast<uint32_t>(counters_.size()), events, 0, true};
}

void perf_counters::add_unit(unsigned cls, std::vector<event> events) {
    if (cls >= AAX_PERF_CLASSES || !classes_[cls].present || events.size() != classes_[cls].events ||
        classes_[cls].first + classes_[cls].units * classes_[cls].events != counters_.size())
        throw std::logic_error("perf_counters: unit of class " + std::to_string(cls) + " out of order");
    // PERF_CLASS_INFO has 8 bits of units and PERF_INFO 16 bits of counters: a class lists its
    // first 255 units (a chip with more DRAM channels counts the rest in the stats only).
    if (classes_[cls].units == 0xFF || counters_.size() + events.size() > 0xFFFF) return;
    const uint16_t unit = static_cast<uint16_t>(classes_[cls].units++);
    for (unsigned e = 0; e < events.size(); ++e) {
        slot_ref s;
        s.cls = static_cast<uint8_t>(cls);
        s.event_id = static_cast<uint8_t>(e);
        s.unit = unit;
        s.ev = std::move(events[e]);
        counters_.push_back(std::move(s));
    }
}

long perf_counters::index(unsigned cls, unsigned unit, unsigned ev) const {
    if (cls >= AAX_PERF_CLASSES) return -1;
    const class_info& k = classes_[cls];
    if (!k.present || unit >= k.units || ev >= k.events) return -1;
    return static_cast<long>(k.first + unit * k.events + ev);
}

uint64_t perf_counters::value(size_t i) const {
    const slot_ref& s = counters_.at(i);
    if (s.ev.restart)  // a high-water mark: its live value counts since the last START/CLEAR
        return running_ ? std::max(s.acc, live(i)) : s.acc;
    return running_ ? s.acc + (live(i) - s.base) : s.acc;
}

uint64_t perf_counters::snapshot_value(size_t i) const { return counters_.at(i).snap; }

void perf_counters::control(uint32_t bits) {
    if (bits & AAX_PERF_CTRL_SNAPSHOT) {
        for (size_t i = 0; i < counters_.size(); ++i) counters_[i].snap = value(i);
        ++snapshots_;
        regs_[AAX_REG_PERF_SNAP_TIME_LO].set(sc_core::sc_time_stamp().value() / 1000);
    }
    if ((bits & AAX_PERF_CTRL_STOP) && running_) {
        for (size_t i = 0; i < counters_.size(); ++i) counters_[i].acc = value(i);
        running_ = false;
    }
    if (bits & AAX_PERF_CTRL_CLEAR) {
        for (size_t i = 0; i < counters_.size(); ++i) {
            slot_ref& s = counters_[i];
            if (s.ev.restart) s.ev.restart();
            s.acc = 0;
            s.base = live(i);
        }
    }
    if ((bits & AAX_PERF_CTRL_START) && !running_) {
        for (size_t i = 0; i < counters_.size(); ++i) {
            slot_ref& s = counters_[i];
            if (s.ev.restart) s.ev.restart();
            s.base = live(i);
        }
        running_ = true;
    }
}

} // namespace accelvp
