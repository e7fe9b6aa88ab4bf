#include "tlm/mem/dram_controller.h"

#include <functional>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace accelvp {

const char* dram_cmd_name(dram_cmd c) {
    switch (c) {
    case dram_cmd::ACT: return "ACT";
    case dram_cmd::PRE: return "PRE";
    case dram_cmd::RD: return "RD";
    case dram_cmd::WR: return "WR";
    case dram_cmd::PREA: return "PREA";
    case dram_cmd::REF: return "REF";
    case dram_cmd::REFpb: return "REFpb";
    }
    return "?";
}

// ---------------------------------------------------------------------------------------
// Timing checker

timing_checker::timing_checker(const dram_timing& t, const dram_org& o)
    : t_(t), burst_(t.burst_cycles()), ranks_(o.ranks) {
    const uint32_t bgs = o.units() * o.bank_groups;
    bank_.resize(static_cast<size_t>(bgs) * o.banks_per_group);
    times_.assign(4 * (static_cast<size_t>(bgs) + o.units()), 0);
    unit_off_ = 4 * bgs;
    faw_.resize(o.units());
    for (uint32_t b = 0; b < bank_.size(); ++b) {
        const uint32_t gbg = b / o.banks_per_group;  // bank group index within the channel
        bank_[b].pc = gbg / o.bank_groups;
        bank_[b].g_off = 4 * gbg;
        bank_[b].p_off = 4 * (bgs + bank_[b].pc);
    }
    col_bus_ = t.dual_cmd_bus ? 1 : 0;
    bus_of_[2] = bus_of_[3] = col_bus_;
}

void timing_checker::issue(dram_cmd c, uint32_t b, uint64_t t) {
    enum { A = 0, P = 1, R = 2, W = 3 };
    bank_t& k = bank_[b];
    uint64_t* const g = &times_[k.g_off];  // the bank group's next[]
    uint64_t* const p = &times_[k.p_off];  // the pseudo-channel's
    faw_t& f = faw_[k.pc];
    auto raise = [](uint64_t& v, uint64_t x) { v = std::max(v, x); };
    switch (c) {
    case dram_cmd::ACT:
        k.next[A] = t + t_.tRC;
        k.next[P] = t + t_.tRAS;
        k.next[R] = k.next[W] = t + t_.tRCD;
        raise(g[A], t + t_.tRRD_L);
        f.faw[f.faw_i] = t + t_.tFAW;
        f.faw_i = (f.faw_i + 1) & 3;
        raise(p[A], std::max<uint64_t>(t + t_.tRRD_S, f.faw[f.faw_i]));  // the fifth ACT waits tFAW
        raise(bus_[0], t + 1);
        break;
    case dram_cmd::PRE:
        raise(k.next[A], t + t_.tRP);
        raise(bus_[0], t + 1);
        break;
    case dram_cmd::RD:
        raise(k.next[P], t + t_.tRTP);
        raise(g[R], t + std::max(t_.tCCD_L, burst_));
        raise(g[W], t + t_.tRTW);
        raise(p[R], t + std::max(t_.tCCD_S, burst_));
        raise(p[W], t + t_.tRTW);
        raise(bus_[col_bus_], t + 1);
        if (ranks_ > 1)  // the other ranks on this data bus: after the burst and the rank switch
            other_ranks(k.pc, [&](uint64_t* q) {
                raise(q[R], t + burst_ + t_.tRTRS);
                raise(q[W], t + t_.tRTW + t_.tRTRS);
            });
        break;
    case dram_cmd::WR: {
        const uint64_t data_end = t + t_.tWL + burst_;
        raise(k.next[P], data_end + t_.tWR);
        raise(g[W], t + std::max(t_.tCCD_L, burst_));
        raise(g[R], data_end + t_.tWTR_L);
        raise(p[W], t + std::max(t_.tCCD_S, burst_));
        raise(p[R], data_end + t_.tWTR_S);
        raise(bus_[col_bus_], t + 1);
        if (ranks_ > 1)  // another rank's read data may follow this write data after tRTRS
            other_ranks(k.pc, [&](uint64_t* q) {
                raise(q[W], t + burst_ + t_.tRTRS);
                raise(q[R], std::max(t + 1, data_end + t_.tRTRS > t_.tCL ? data_end + t_.tRTRS - t_.tCL : 0));
            });
        break;
    }
    default:
        break;
    }
}

uint64_t timing_checker::auto_precharge(uint32_t b) {
    bank_t& k = bank_[b];
    const uint64_t t = k.next[1];
    k.next[0] = std::max(k.next[0], t + t_.tRP);
    return t;
}

void timing_checker::refresh_bank(uint32_t b, uint64_t t, uint32_t trfc) {
    bank_[b].next[0] = std::max(bank_[b].next[0], t + trfc);
}

// ---------------------------------------------------------------------------------------
// Schedulers and page policies, registered by name.

namespace {

// FR-FCFS: the earliest legal command first; among commands legal at the same time,
// column commands (row hits) before row commands, then the oldest request. Within a bank
// a queued row hit goes before older requests that would close the row.
class frfcfs_scheduler final : public dram_scheduler {
public:
    bool hits_first() const override { return true; }
    size_t pick(dram_candidates& c, uint64_t& t) const override { return pick_inline(c, t); }
    // Key (time, row command after column command, age), compared as one 128-bit integer.
    // The channel calls this directly (no virtual call per decision).
    static size_t pick_inline(const dram_candidates& c, uint64_t& t) {
        using u128 = unsigned __int128;
        size_t best = 0;
        u128 bk = ~static_cast<u128>(0);
        for (size_t i = 0, n = c.size(); i < n; ++i) {
            const u128 k = static_cast<u128>(c.time(i) << 1 | !c.column(i)) << 64 | c.seq(i);
            // Branch-free: which candidate wins is data-dependent and mispredicts often.
            const bool better = k < bk;
            best = better ? i : best;
            bk = better ? k : bk;
        }
        t = static_cast<uint64_t>(bk >> 64) >> 1;
        return best;
    }
};

// FCFS: requests are served in arrival order -- only the oldest request may issue its
// column command, and no younger row hit bypasses an older request in its bank -- but
// other banks may already precharge and activate for their oldest request (bank
// parallelism, as with per-bank state machines). Earliest command first, then oldest.
class fcfs_scheduler final : public dram_scheduler {
public:
    bool hits_first() const override { return false; }
    size_t pick(dram_candidates& c, uint64_t& t) const override {
        const size_t n = c.size();
        size_t oldest = 0;
        for (size_t i = 1; i < n; ++i)
            if (c.seq(i) < c.seq(oldest)) oldest = i;
        size_t best = oldest;
        uint64_t bt = c.time(oldest);
        for (size_t i = 0; i < n; ++i) {
            if (i == oldest || c.column(i)) continue;
            const uint64_t ti = c.time(i);
            if (ti < bt || (ti == bt && c.seq(i) < c.seq(best))) {
                best = i;
                bt = ti;
            }
        }
        t = bt;
        return best;
    }
};

class open_page final : public page_policy {
public:
    bool close_after_access(bool) const override { return false; }
};
class closed_page final : public page_policy {
public:
    bool close_after_access(bool) const override { return true; }
};
class closed_adaptive_page final : public page_policy {
public:
    bool needs_hit_info() const override { return true; }
    bool close_after_access(bool hit_pending) const override { return !hit_pending; }
};

template <typename T>
using factory = std::function<std::unique_ptr<T>()>;

const std::map<std::string, factory<dram_scheduler>>& schedulers() {
    static const std::map<std::string, factory<dram_scheduler>> m = {
        {"frfcfs", [] { return std::make_unique<frfcfs_scheduler>(); }},
        {"fcfs", [] { return std::make_unique<fcfs_scheduler>(); }},
    };
    return m;
}
const std::map<std::string, factory<page_policy>>& policies() {
    static const std::map<std::string, factory<page_policy>> m = {
        {"open", [] { return std::make_unique<open_page>(); }},
        {"closed", [] { return std::make_unique<closed_page>(); }},
        {"closed_adaptive", [] { return std::make_unique<closed_adaptive_page>(); }},
    };
    return m;
}

} // namespace

std::unique_ptr<dram_scheduler> make_dram_scheduler(const std::string& name) {
    auto it = schedulers().find(name);
    if (it == schedulers().end()) throw config_error("config error: unknown DRAM scheduler '" + name + "'");
    return it->second();
}

std::unique_ptr<page_policy> make_page_policy(const std::string& name) {
    auto it = policies().find(name);
    if (it == policies().end()) throw config_error("config error: unknown page policy '" + name + "'");
    return it->second();
}

// ---------------------------------------------------------------------------------------
// Channel controller

dram_channel::dram_channel(const dram_params& p, const std::string& stats_name)
    : bank_qd_(p.bank_queue_depth), row_hit_cap_(p.row_hit_cap), queue_depth_{p.queue_depth, p.write_queue_depth},
      write_high_(p.write_high), write_low_(p.write_low),
      bank_groups_(p.org.bank_groups), banks_per_group_(p.org.banks_per_group),
      nbanks_(p.org.units() * p.banks_per_pc()), banks_per_pc_(p.banks_per_pc()),
      bytes_per_burst_(p.burst_bytes()),
      col_latency_{p.t.tCL + p.t.burst_cycles(), p.t.tWL + p.t.burst_cycles()},
      ns_per_cycle_(p.t.tCK_ps / 1000.0), chk_(p.t, p.org), sched_(make_dram_scheduler(p.scheduler)),
      policy_(make_page_policy(p.page_policy)), stats_name_(stats_name) {
    frfcfs_ = dynamic_cast<const frfcfs_scheduler*>(sched_.get()) != nullptr;
    hits_first_ = sched_->hits_first();
    needs_hit_info_ = policy_->needs_hit_info();
    close_after_[0] = policy_->close_after_access(false);
    close_after_[1] = policy_->close_after_access(true);
    const uint32_t depth = p.queue_depth + p.write_queue_depth + 2 * nbanks_ * p.bank_queue_depth;
    slots_.resize(depth);
    free_.reserve(depth);
    for (uint32_t i = depth; i-- > 0;) free_.push_back(static_cast<int32_t>(i));
    bq_.assign(nbanks_, bank_queue{});
    for (int d = 0; d < 2; ++d) {
        active_[d].reserve(nbanks_);
        choice_[d].assign(nbanks_, bank_choice{});
        dirty_[d].reserve(4 * static_cast<size_t>(nbanks_));
    }
    refresh_mode_ = p.refresh == "all_bank"   ? refresh_mode::all_bank
                    : p.refresh == "per_bank" ? refresh_mode::per_bank
                                              : refresh_mode::none;
    const uint32_t npc = p.org.units();  // refresh per rank of each pseudo-channel, staggered
    if (refresh_mode_ == refresh_mode::all_bank) {
        refresh_interval_ = p.t.tREFI;
        refresh_block_ = p.t.tRFC;
    } else if (refresh_mode_ == refresh_mode::per_bank) {
        refresh_interval_ = p.t.tREFIpb ? p.t.tREFIpb : std::max<uint32_t>(1, p.t.tREFI / banks_per_pc_);
        refresh_block_ = p.t.tRFCpb;
    }
    ref_due_.assign(npc, dram_never);
    if (refresh_mode_ != refresh_mode::none)
        for (uint32_t i = 0; i < npc; ++i)  // staggered, so pseudo-channels do not refresh together
            ref_due_[i] = refresh_interval_ + static_cast<uint64_t>(refresh_interval_) * i / npc;
    refreshed_.assign(nbanks_, 0);
    refreshed_count_.assign(npc, 0);
    update_next_refresh();

    if (!stats_name_.empty())
        stats_.add({&reads_, &writes_, &bytes_read_, &bytes_written_, &bandwidth_, &hits_, &misses_, &conflicts_,
                    &activates_, &refreshes_, &forwarded_, &read_lat_, &occupancy_});
}

nlohmann::json dram_channel::counter_view::value(double) const { return v_ * scale_; }

nlohmann::json dram_channel::bandwidth_view::value(double simulated_s) const {
    // What a `rate` summing each burst's bytes reports (the sum is exact in a double).
    rate r(name(), description(), 1e-9, "gbps");
    r += static_cast<double>((ch_.n_done_[0] + ch_.n_done_[1]) * ch_.bytes_per_burst_);
    return r.value(simulated_s);
}

dram_channel::~dram_channel() = default;  // stats_ unregisters the stats

namespace {
// A request copied field by field: callers have just written it field by field
// (make_request), and a whole-struct copy's vector loads cannot be forwarded from those
// stores (a stall of some ten cycles per request).
inline void copy_request(dram_request& d, const dram_request& r) {
    d.tag = r.tag;
    d.arrival = r.arrival;
    d.row = r.row;
    d.col = r.col;
    d.pc = r.pc;
    d.bg = r.bg;
    d.bank = r.bank;
    d.write = r.write;
}
} // namespace

void dram_channel::enqueue(const dram_request& r) {
    occupancy_.sample(static_cast<double>(queued()));
    if (r.arrival <= now_) {
        admit(r);
        return;
    }
    // Not arrived yet: wait in arrival order (equal arrivals keep their enqueue order).
    ++ninc_[r.write ? 1 : 0];
    if (inc_head_ > 0 && inc_head_ == incoming_.size()) {
        incoming_.clear();
        inc_head_ = 0;
    } else if (inc_head_ >= 4096 && 2 * inc_head_ >= incoming_.size()) {
        incoming_.erase(incoming_.begin(), incoming_.begin() + static_cast<std::ptrdiff_t>(inc_head_));
        inc_head_ = 0;
    }
    size_t i = incoming_.size();
    incoming_.emplace_back();
    while (i > inc_head_ && incoming_[i - 1].arrival > r.arrival) {
        incoming_[i] = incoming_[i - 1];
        --i;
    }
    copy_request(incoming_[i], r);
}

void dram_channel::admit_next() {
    const dram_request& r = incoming_[inc_head_++];  // admit() leaves incoming_ alone
    --ninc_[r.write ? 1 : 0];
    admit(r);
}

// Read-after-write: a read of a burst with a write queued (arrived) is answered from the
// write queue one cycle after its arrival, without a DRAM access.
bool dram_channel::forward_(const dram_request& r) {
    const uint32_t b = flat_bank(r);
    const bank_queue& q = bq_[b];
    for (const int32_t head : {q.head[1], q.park_head[1]})
        for (int32_t i = head; i >= 0; i = slots_[static_cast<size_t>(i)].next) {
            const dram_request& w = slots_[static_cast<size_t>(i)].r;
            if (w.row == r.row && w.col == r.col) {
                dram_completion c;
                c.tag = r.tag;
                c.arrival = std::max(r.arrival, now_);
                c.done = c.arrival + 1;
                c.write = false;
                if (fwd_head_ == fwd_.size()) {
                    fwd_.clear();
                    fwd_head_ = 0;
                }
                fwd_.push_back(c);
                ++n_done_[0];
                ++n_forwarded_;
                read_lat_.sample(ns_per_cycle_);
                read_lat_sum_ns_ += ns_per_cycle_;
                return true;
            }
        }
    return false;
}

void dram_channel::admit(const dram_request& r) {
    const int d = r.write ? 1 : 0;
    if (!d && nq_[1] && forward_(r)) return;
    const int32_t s = free_.back();
    free_.pop_back();
    slot_t& sl = slots_[static_cast<size_t>(s)];
    copy_request(sl.r, r);
    if (r.arrival < now_) sl.r.arrival = now_;
    sl.seq = seq_++;
    sl.next = -1;
    sl.flags = 0;
    const uint32_t b = flat_bank(r);
    ++nq_[d];
    if (bank_qd_ && bq_[b].count[d] >= bank_qd_) {  // command queue full: wait in the transaction queue
        if (bq_[b].park_tail[d] >= 0)
            slots_[static_cast<size_t>(bq_[b].park_tail[d])].next = s;
        else
            bq_[b].park_head[d] = s;
        bq_[b].park_tail[d] = s;
        ++npark_[d];
        return;
    }
    to_bank(d, b, s);
}

void dram_channel::to_bank(int d, uint32_t b, int32_t s) {
    const dram_request& r = slots_[static_cast<size_t>(s)].r;
    slots_[static_cast<size_t>(s)].next = -1;
    if (bq_[b].tail[d] >= 0)
        slots_[static_cast<size_t>(bq_[b].tail[d])].next = s;
    else
        bq_[b].head[d] = s;
    bq_[b].tail[d] = s;
    if (bq_[b].count[d]++ == 0) {
        bq_[b].active_pos[d] = static_cast<int32_t>(active_[d].size());
        choice_[d][active_[d].size()].ok = false;
        active_[d].push_back(b);
        dirty_[d].push_back(b);  // an idle bank's choice is never valid
    }
    // A younger request changes the bank's choice only if it hits the open row while the
    // choice was to close it.
    const bank_choice& k = choice_[d][static_cast<size_t>(bq_[b].active_pos[d])];
    if (k.ok && k.cmd == dram_cmd::PRE && hits_first_ && bq_[b].open_row == static_cast<int64_t>(r.row)) invalidate(d, b);
}

void dram_channel::unlink(int d, uint32_t b, int32_t s, int32_t prev) {
    const int32_t next = slots_[static_cast<size_t>(s)].next;
    if (prev >= 0)
        slots_[static_cast<size_t>(prev)].next = next;
    else
        bq_[b].head[d] = next;
    if (bq_[b].tail[d] == s) bq_[b].tail[d] = prev;
    if (prev >= 0) {
        ++bq_[b].hits_bypassed;  // a younger request went first
    } else {
        bq_[b].hits_bypassed = 0;
    }
    if (bq_[b].park_head[d] >= 0) {  // the oldest waiting transaction of this bank moves up
        const int32_t m = bq_[b].park_head[d];
        bq_[b].park_head[d] = slots_[static_cast<size_t>(m)].next;
        if (bq_[b].park_head[d] < 0) bq_[b].park_tail[d] = -1;
        --npark_[d];
        to_bank(d, b, m);
    }
    if (--bq_[b].count[d] == 0) {
        const int32_t i = bq_[b].active_pos[d];
        const uint32_t moved = active_[d].back();
        active_[d][static_cast<size_t>(i)] = moved;
        choice_[d][static_cast<size_t>(i)] = choice_[d][active_[d].size() - 1];
        bq_[moved].active_pos[d] = i;
        active_[d].pop_back();
        bq_[b].active_pos[d] = -1;
    }
    --nq_[d];
    free_.push_back(s);
    invalidate(d, b);
}

void dram_channel::choose(uint32_t b, int d, size_t pos) {
    bank_choice& c = choice_[d][pos];
    int32_t s = bq_[b].head[d], prev = -1;
    const int64_t open = bq_[b].open_row;
    dram_cmd cmd;
    if (open < 0) {
        cmd = dram_cmd::ACT;
    } else if (slots_[static_cast<size_t>(s)].r.row == static_cast<uint64_t>(open)) {
        cmd = d ? dram_cmd::WR : dram_cmd::RD;
    } else {
        cmd = dram_cmd::PRE;
        if (hits_first_ && (row_hit_cap_ == 0 || bq_[b].hits_bypassed < row_hit_cap_)) {
            // A younger request to the open row goes before the bank's older ones.
            for (int32_t i = slots_[static_cast<size_t>(s)].next, pv = s; i >= 0;
                 pv = i, i = slots_[static_cast<size_t>(i)].next) {
                if (slots_[static_cast<size_t>(i)].r.row == static_cast<uint64_t>(open)) {
                    s = i;
                    prev = pv;
                    cmd = d ? dram_cmd::WR : dram_cmd::RD;
                    break;
                }
            }
        }
    }
    const slot_t& sl = slots_[static_cast<size_t>(s)];
    c.own = std::max(sl.r.arrival, chk_.bank_time(cmd, b));
    chk_.shared_times(cmd, b, c.shared);
    c.seq = sl.seq;
    c.slot = static_cast<int16_t>(s);
    c.prev = static_cast<int16_t>(prev);
    c.cmd = cmd;
    c.column = cmd == dram_cmd::RD || cmd == dram_cmd::WR;
    c.ok = true;
}

bool dram_channel::step(dram_completion& done) {
    if (idle()) return false;
    bool ninc = ninc_[0] + ninc_[1] > 0;
    // Requests that arrived by the last decision are visible already.
    while (ninc && incoming_[inc_head_].arrival <= now_) {
        admit_next();
        ninc = ninc_[0] + ninc_[1] > 0;
    }
    if (fwd_head_ < fwd_.size()) {  // reads answered from the write queue
        done = fwd_[fwd_head_++];
        return true;
    }
    int d;
    size_t best;
    uint64_t t;
    int rd_row = -1;  // during a write drain: a read's row command going first
    for (;;) {
        if (nq_[0] + nq_[1] == 0) {  // nothing arrived: the next arrival is the next event
            admit_next();
            ninc = ninc_[0] + ninc_[1] > 0;
            if (fwd_head_ < fwd_.size()) {
                done = fwd_[fwd_head_++];
                return true;
            }
            continue;
        }
        // Write drain: serve reads until the write queue reaches the high watermark (or no
        // read waits), then writes until it falls to the low watermark (or empties). Only
        // requests that have arrived count.
        if (!write_mode_) {
            if (nq_[1] >= write_high_ || (nq_[0] == 0 && nq_[1] > 0)) write_mode_ = true;
        } else if (nq_[1] == 0 || (nq_[1] <= write_low_ && nq_[0] > 0)) {
            write_mode_ = false;
        }
        d = write_mode_ ? 1 : 0;
        bank_choice* choice = choice_[d].data();
        for (const uint32_t b : dirty_[d]) {
            const int32_t p = bq_[b].active_pos[d];
            if (p >= 0 && !choice[p].ok) choose(b, d, static_cast<size_t>(p));
        }
        dirty_[d].clear();
        cands_.e_ = choice;
        cands_.sh_ = chk_.shared_base();
        cands_.bank_ = active_[d].data();
        cands_.n_ = active_[d].size();
        cands_.lb_[0] = std::max(now_, chk_.bus_time(false));
        cands_.lb_[1] = std::max(now_, chk_.bus_time(true));
        if (frfcfs_) {
            // frfcfs_scheduler::pick_inline with every load unconditional: the command bus
            // bound is selected, not branched on (a mispredicted branch per candidate).
            using u128 = unsigned __int128;
            const uint64_t* const sh = cands_.sh_;
            const uint64_t lb0 = cands_.lb_[0], lb1 = cands_.lb_[1];
            u128 bk = ~static_cast<u128>(0);
            best = 0;
            for (size_t i = 0, n = cands_.n_; i < n; ++i) {
                const bank_choice& k = choice[i];
                const uint64_t col = k.column;
                const uint64_t a = k.own, g = sh[k.shared[0]], pc = sh[k.shared[1]];
                const uint64_t l = col ? lb1 : lb0;
                uint64_t ti = a > g ? a : g;
                ti = ti > pc ? ti : pc;
                ti = ti > l ? ti : l;
                const u128 key = static_cast<u128>(ti << 1 | (col ^ 1)) << 64 | k.seq;
                const bool better = key < bk;
                best = better ? i : best;
                bk = better ? key : bk;
            }
            t = static_cast<uint64_t>(bk >> 64) >> 1;
        } else {
            best = sched_->pick(cands_, t);
        }
        rd_row = -1;
        if (d == 1 && nq_[0] > 0) {
            // A write drain does not hold back row commands for waiting reads: a PRE or ACT
            // for a read, in a bank without queued writes, legal before the drain's next
            // command goes first (earliest, then oldest).
            bank_choice* rc = choice_[0].data();
            for (const uint32_t b : dirty_[0]) {
                const int32_t p = bq_[b].active_pos[0];
                if (p >= 0 && !rc[p].ok) choose(b, 0, static_cast<size_t>(p));
            }
            dirty_[0].clear();
            const uint64_t lb = std::max(now_, chk_.bus_time(false));
            const uint64_t* sh = chk_.shared_base();
            // Key (time, age), branch-free; starting from (t, 0), a read's row command
            // wins a tie with the drain's command only against an earlier read's.
            using u128 = unsigned __int128;
            u128 bk = static_cast<u128>(t) << 64;
            const uint32_t* const banks = active_[0].data();
            for (size_t i = 0, n = active_[0].size(); i < n; ++i) {
                const bank_choice& k = rc[i];
                const bool skip = k.column || bq_[banks[i]].count[1] != 0;
                const uint64_t a = k.own > lb ? k.own : lb;
                const uint64_t g = sh[k.shared[0]], pc = sh[k.shared[1]];
                const uint64_t s2 = g > pc ? g : pc;
                const uint64_t ti = a > s2 ? a : s2;
                const u128 key = static_cast<u128>(ti) << 64 | k.seq;
                const bool better = !skip && key < bk;
                rd_row = better ? static_cast<int>(i) : rd_row;
                bk = better ? key : bk;
            }
            if (rd_row >= 0) t = static_cast<uint64_t>(bk >> 64);
        }
        // A request arriving by the decision time takes part in the decision: admit it and
        // decide again, no earlier than its arrival. Nothing known before it was legal
        // before t >= its arrival, so the channel idles until it arrives: its clock moves to
        // the arrival (without that, a drain the request starts could issue before it
        // arrives). A refresh due before the arrival goes first.
        if (ninc && incoming_[inc_head_].arrival <= t && incoming_[inc_head_].arrival < ref_due_[next_ref_pc_]) {
            now_ = std::max(now_, incoming_[inc_head_].arrival);
            admit_next();
            ninc = ninc_[0] + ninc_[1] > 0;
            continue;
        }
        break;
    }
    if (ref_due_[next_ref_pc_] <= t) {
        refresh(next_ref_pc_, t);
        if (static_cast<double>(now_) * ns_per_cycle_ > time_limit_ns_)
            throw dram_time_limit(fmt::format("the DRAM controller's clock passed the simulated-time limit "
                                              "sim.max_time_ms = {} while refreshing ({} refreshes, the queued "
                                              "requests not served)",
                                              time_limit_ns_ / 1e6, n_refreshes_));
        return false;
    }
    if (rd_row >= 0) return issue(active_[0][static_cast<size_t>(rd_row)], 0, static_cast<size_t>(rd_row), t, done);
    return issue(active_[d][best], d, best, t, done);
}

uint64_t dram_channel::make_room(bool write, dram_completion* last) {
    dram_completion c;
    while (!can_accept(write)) {
        if (step(c) && last) *last = c;
    }
    return now_;
}

bool dram_channel::row_hit_pending(uint32_t b, uint32_t row) const {
    for (int d = 0; d < 2; ++d)
        for (int32_t i = bq_[b].head[d]; i >= 0; i = slots_[static_cast<size_t>(i)].next)
            if (slots_[static_cast<size_t>(i)].r.row == row) return true;
    return false;
}

void dram_channel::log(uint64_t t, dram_cmd c, uint32_t b, uint32_t row) {
    const uint32_t pc = b / banks_per_pc_, in_pc = b % banks_per_pc_;
    log_->push_back({t, c, static_cast<uint16_t>(pc), static_cast<uint16_t>(in_pc / banks_per_group_),
                     static_cast<uint16_t>(in_pc % banks_per_group_), row});
}

bool dram_channel::issue(uint32_t b, int d, size_t pos, uint64_t t, dram_completion& done) {
    // The fields used, as scalars (a copy of the whole entry made the field loads wait for
    // the copy's vector stores: no store forwarding at those offsets).
    const bank_choice& cr = choice_[d][pos];
    const dram_cmd cmd = cr.cmd;
    const int32_t slot = cr.slot, prev = cr.prev;
    slot_t& sl = slots_[static_cast<size_t>(slot)];
    now_ = t;
    chk_.issue(cmd, b, t);
    if (log_) log(t, cmd, b, sl.r.row);
    invalidate_both(b);
    switch (cmd) {
    case dram_cmd::ACT:
        bq_[b].open_row = sl.r.row;
        sl.flags |= 1;
        ++n_activates_;
        return false;
    case dram_cmd::PRE:
        bq_[b].open_row = -1;
        sl.flags |= 2;
        return false;
    default:
        break;
    }
    const bool write = cmd == dram_cmd::WR;
    done.tag = sl.r.tag;
    done.arrival = sl.r.arrival;
    done.write = write;
    done.done = t + col_latency_[write];
    ++n_kind_[(sl.flags & 2) ? 2 : (sl.flags & 1)];  // flags: 1 ACT, 2 PRE issued for it
    ++n_done_[write];
    if (!write) {
        const double ns = static_cast<double>(done.done - done.arrival) * ns_per_cycle_;
        read_lat_.sample(ns);
        read_lat_sum_ns_ += ns;
    }
    const uint32_t row = sl.r.row;
    unlink(write ? 1 : 0, b, slot, prev);
    const bool hit = needs_hit_info_ && row_hit_pending(b, row);
    if (close_after_[hit]) {
        const uint64_t tp = chk_.auto_precharge(b);
        bq_[b].open_row = -1;
        if (log_) log(tp, dram_cmd::PRE, b, row);
    }
    return true;
}

void dram_channel::update_next_refresh() {
    next_ref_pc_ = 0;
    for (uint32_t i = 1; i < ref_due_.size(); ++i)
        if (ref_due_[i] < ref_due_[next_ref_pc_]) next_ref_pc_ = i;
}

void dram_channel::refresh(uint32_t pc, uint64_t horizon) {
    uint64_t& due = ref_due_[pc];
    const uint32_t first = pc * banks_per_pc_, last = first + banks_per_pc_;
    // After a long idle period, refreshes that ended well before the next request cost
    // nothing but their count: skip them in one go (the ones near the horizon are issued).
    if (horizon != dram_never && horizon > due + 2ull * refresh_interval_ + refresh_block_) {
        const uint64_t k = (horizon - due - refresh_block_) / refresh_interval_ - 1;
        n_refreshes_ += k;
        due += k * refresh_interval_;
        if (refresh_mode_ == refresh_mode::per_bank) {
            for (uint64_t i = 0; i < k % banks_per_pc_; ++i) {
                uint32_t b = first;
                while (refreshed_[b]) ++b;
                refreshed_[b] = 1;
                if (++refreshed_count_[pc] == banks_per_pc_) {
                    std::fill(refreshed_.begin() + first, refreshed_.begin() + last, 0);
                    refreshed_count_[pc] = 0;
                }
            }
        }
    }
    const uint64_t t = std::max({due, now_, chk_.row_bus()});
    now_ = t;
    if (refresh_mode_ == refresh_mode::all_bank) {
        // PREA (if a row is open), then REF once every bank may be activated again.
        uint64_t tp = t;
        bool any_open = false;
        for (uint32_t b = first; b < last; ++b)
            if (bq_[b].open_row >= 0) {
                any_open = true;
                tp = std::max(tp, chk_.bank_pre(b));
            }
        uint64_t tr = t;
        if (any_open) {
            for (uint32_t b = first; b < last; ++b)
                if (bq_[b].open_row >= 0) {
                    chk_.issue(dram_cmd::PRE, b, tp);
                    bq_[b].open_row = -1;
                    invalidate_both(b);
                }
            if (log_) log(tp, dram_cmd::PREA, first, 0);
            tr = tp + 1;
        }
        for (uint32_t b = first; b < last; ++b) tr = std::max(tr, chk_.bank_act(b));
        for (uint32_t b = first; b < last; ++b) {
            chk_.refresh_bank(b, tr, refresh_block_);
            invalidate_both(b);
        }
        chk_.use_row_bus(tr);
        if (log_) log(tr, dram_cmd::REF, first, 0);
    } else {
        // Per-bank: each bank once per round; an idle (closed, nothing queued) bank first.
        uint32_t pick = last, fallback = last;
        for (uint32_t b = first; b < last; ++b) {
            if (refreshed_[b]) continue;
            if (fallback == last) fallback = b;
            if (bq_[b].count[0] + bq_[b].count[1] == 0) {
                if (pick == last || bq_[b].open_row < 0) pick = b;
                if (bq_[b].open_row < 0) break;
            }
        }
        const uint32_t b = pick != last ? pick : fallback;
        uint64_t tr = t;
        if (bq_[b].open_row >= 0) {
            const uint64_t tp = std::max(t, chk_.bank_pre(b));
            chk_.issue(dram_cmd::PRE, b, tp);
            bq_[b].open_row = -1;
            invalidate_both(b);
            if (log_) log(tp, dram_cmd::PRE, b, 0);
            tr = tp + 1;
        }
        tr = std::max({tr, chk_.bank_act(b), chk_.row_bus()});
        chk_.refresh_bank(b, tr, refresh_block_);
        invalidate_both(b);
        chk_.use_row_bus(tr);
        if (log_) log(tr, dram_cmd::REFpb, b, 0);
        refreshed_[b] = 1;
        if (++refreshed_count_[pc] == banks_per_pc_) {
            std::fill(refreshed_.begin() + first, refreshed_.begin() + last, 0);
            refreshed_count_[pc] = 0;
        }
    }
    ++n_refreshes_;
    due += refresh_interval_;
    update_next_refresh();
}

} // namespace accelvp
static_assert(sizeof(accelvp::dram_candidates::entry) == 32, "a candidate is half a cache line");
