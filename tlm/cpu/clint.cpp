#include "tlm/cpu/clint.h"

#include "tlm/core/timeline.h"

namespace accelvp {

namespace {
constexpr uint64_t ps_per_s = 1000000000000ull;
}

const param_table<clint::params>& clint::params::table() {
    // Whole MHz: the firmware converts device ns to mtime ticks with it (boot params).
    static const auto t = param_table<params>().integer("timer_mhz", &params::timer_mhz, 1, 100000,
                                                        "CLINT mtime tick rate (the `time` CSR)", "MHz");
    return t;
}

void clint::declare(param_schema& s, const std::string& prefix) { params::table().declare(s, prefix); }

clint::params clint::from_config(const config& c, const std::string& prefix) { return params::table().load(c, prefix); }

clint::clint(sc_core::sc_module_name name, const params& p)
    : sc_module(name), socket("socket"), irq("irq"), hz_(static_cast<uint64_t>(p.timer_mhz * 1e6 + 0.5)),
      regs_(this->name()) {
    if (hz_ == 0) hz_ = 1;
    socket.register_b_transport(this, &clint::b_transport);
    socket.register_transport_dbg(this, &clint::transport_dbg);
    regs_.add("msip", AAX_CLINT_MSIP, 0, reg_access::rw).mask(1).write_cb([this](uint32_t v) {
        if (v & 1) ++soft_irqs_;
        irq->set_level(irq_msip, v & 1);
    });
    regs_.add64("mtimecmp", AAX_CLINT_MTIMECMP, ~0ull, reg_access::rw).write_cb([this](uint32_t) { update_timer(); });
    const auto now_mtime = [this] { return mtime_at(sc_core::sc_time_stamp()); };
    regs_.add("mtime_lo", AAX_CLINT_MTIME, 0, reg_access::rw)
        .read_cb([now_mtime] { return static_cast<uint32_t>(now_mtime()); })
        .write_cb([this, now_mtime](uint32_t v) { set_mtime((now_mtime() & ~0xFFFFFFFFull) | v); });
    regs_.add("mtime_hi", AAX_CLINT_MTIME + 4, 0, reg_access::rw)
        .read_cb([now_mtime] { return static_cast<uint32_t>(now_mtime() >> 32); })
        .write_cb([this, now_mtime](uint32_t v) {
            set_mtime((now_mtime() & 0xFFFFFFFFull) | (static_cast<uint64_t>(v) << 32));
        });
    SC_HAS_PROCESS(clint);
    SC_METHOD(update_timer);
    sensitive << timer_event_;
    stats_.add(timer_irqs_);
    stats_.add(soft_irqs_);
}

clint::~clint() = default;  // stats_ unregisters the stats

uint64_t clint::ticks(uint64_t abs_ps) const {
    return static_cast<uint64_t>(static_cast<unsigned __int128>(abs_ps) * hz_ / ps_per_s);
}

uint64_t clint::mtime_at(const sc_core::sc_time& abs) const { return ticks(abs.value()) + offset_; }

uint64_t clint::mtimecmp() const { return regs_[AAX_CLINT_MTIMECMP].get(); }

void clint::set_mtime(uint64_t value) {
    offset_ = value - ticks(sc_core::sc_time_stamp().value());
    update_timer();
}

void clint::update_timer() {
    const uint64_t now = sc_core::sc_time_stamp().value();
    const uint64_t mt = mtime_at(sc_core::sc_time_stamp()), cmp = mtimecmp();
    const bool level = mt >= cmp;
    if (level != mtip_) {
        mtip_ = level;
        if (level) ++timer_irqs_;
        irq->set_level(irq_mtip, level);
    }
    timer_event_.cancel();
    if (level) return;
    // First tick k with ticks(t) >= k happens at ceil(k * 1e12 / hz) ps.
    const unsigned __int128 k = static_cast<unsigned __int128>(ticks(now)) + (cmp - mt);
    const unsigned __int128 at = (k * ps_per_s + hz_ - 1) / hz_;
    if (at >= (static_cast<unsigned __int128>(1) << 63)) return;  // beyond any simulation (e.g. mtimecmp = ~0)
    timer_event_.notify(ps(static_cast<uint64_t>(at) - now));
}

} // namespace accelvp
