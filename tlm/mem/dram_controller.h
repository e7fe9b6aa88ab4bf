// One DRAM channel: a controller with read and write queues, a scheduler, a page policy
// and refresh, over a timing checker that knows the standard's rules.
//
//   dram_channel (controller loop, queues, write drain, refresh, stats)
//     +-- dram_scheduler  (which request next: frfcfs | fcfs; by name, mem.dram.scheduler)
//     +-- page_policy     (close the row after an access? open | closed | closed_adaptive)
//     +-- timing_checker  (earliest legal time of ACT/PRE/RD/WR from the timing state)
//
// Event-driven, no clock: each step() is one scheduling decision. The decision time is
// the earliest time at which any candidate command is legal (timing state, command bus,
// arrival); among the candidates legal then, the scheduler picks. So the channel issues
// exactly the command a cycle-by-cycle controller would, without visiting idle cycles.
// Times are memory-clock cycles. Requests are one device burst each.
//
// Causality: a request may be enqueued before it arrives (a trace front end fills the
// queue ahead of time); it then holds its queue entry but stays invisible to the
// scheduler -- no bank choice, row-hit search, watermark or refresh decision sees it --
// until a decision time reaches its arrival. So no decision at time t uses a request that
// arrives after t.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "tlm/core/stats.h"
#include "tlm/mem/dram_timing.h"

namespace accelvp {

enum class dram_cmd : uint8_t { ACT, PRE, RD, WR, PREA, REF, REFpb };
const char* dram_cmd_name(dram_cmd c);

constexpr uint64_t dram_never = std::numeric_limits<uint64_t>::max();

struct dram_request {
    uint64_t tag = 0;      // the owner's cookie, returned in the completion
    uint64_t arrival = 0;  // cycle at which the request reaches the controller
    uint32_t row = 0, col = 0;
    uint16_t pc = 0, bg = 0, bank = 0;  // bank within its bank group
    bool write = false;
};

struct dram_completion {
    uint64_t tag = 0;
    uint64_t arrival = 0;
    uint64_t done = 0;  // cycle at which the last data beat is on the bus
    bool write = false;
};

// For tests and debugging: every command the channel issues.
struct dram_cmd_record {
    uint64_t t;
    dram_cmd cmd;
    uint16_t pc, bg, bank;
    uint32_t row;
};

// The JEDEC timing rules shared by HBM2E, HBM3 and LPDDR5 (bank, bank group and
// pseudo-channel constraints, tFAW, command buses). It keeps, per level, the earliest
// time each command may next issue and updates it when a command issues.
class timing_checker {
public:
    timing_checker(const dram_timing& t, const dram_org& o);

    // ACT, PRE, RD, WR: the latest of the bank's, its bank group's, its pseudo-channel's
    // and the command bus's next-allowed times (tFAW is folded into the pseudo-channel's
    // ACT time when an ACT issues).
    uint64_t earliest(dram_cmd c, uint32_t b) const {
        const unsigned i = static_cast<unsigned>(c);
        const bank_t& k = bank_[b];
        return std::max(std::max(k.next[i], times_[k.g_off + i]), std::max(times_[k.p_off + i], bus_[bus_of_[i]]));
    }
    // Where the constraints of command c on bank b live: the bank's own time is returned,
    // the bank group's and pseudo-channel's as indices into shared_base() (stable, always
    // current), the command bus's by bus_time(). So a scheduler re-evaluates a cached
    // choice with a few loads.
    uint64_t bank_time(dram_cmd c, uint32_t b) const { return bank_[b].next[static_cast<unsigned>(c)]; }
    void shared_times(dram_cmd c, uint32_t b, uint32_t out[2]) const {
        const unsigned i = static_cast<unsigned>(c);
        const bank_t& k = bank_[b];
        out[0] = k.g_off + i;
        out[1] = k.p_off + i;
    }
    const uint64_t* shared_base() const { return times_.data(); }
    // Next free slot of the row (column = false) or column command bus.
    uint64_t bus_time(bool column) const { return bus_[column ? col_bus_ : 0]; }
    void issue(dram_cmd c, uint32_t b, uint64_t t);
    // Precharge after a column command (RDA/WRA): no command-bus slot; returns its time.
    uint64_t auto_precharge(uint32_t b);
    // Refresh of bank b at t (all-bank refresh calls it for every bank of the pseudo-channel).
    void refresh_bank(uint32_t b, uint64_t t, uint32_t trfc);
    void use_row_bus(uint64_t t) { bus_[0] = std::max(bus_[0], t + 1); }
    uint64_t row_bus() const { return bus_[0]; }
    uint64_t bank_act(uint32_t b) const { return bank_[b].next[0]; }
    uint64_t bank_pre(uint32_t b) const { return bank_[b].next[1]; }
    const dram_timing& timing() const { return t_; }

private:
    // next[]: earliest time of ACT, PRE, RD, WR (index = dram_cmd) at each level.
    struct bank_t {
        uint64_t next[4] = {0, 0, 0, 0};
        uint32_t pc = 0;              // pseudo-channel within the channel
        uint32_t g_off = 0, p_off = 0;  // its bank group's and pseudo-channel's next[] in times_
    };
    struct faw_t {
        uint64_t faw[4] = {0, 0, 0, 0};  // ACT time + tFAW of the last four ACTs (ring)
        uint32_t faw_i = 0;              // oldest entry
    };
    // Calls f(next[] of each other rank sharing unit u's data bus).
    template <typename F>
    void other_ranks(uint32_t u, F f) {
        const uint32_t first = u / ranks_ * ranks_;
        for (uint32_t v = first; v < first + ranks_; ++v)
            if (v != u) f(&times_[unit_off_ + 4 * v]);
    }
    dram_timing t_;
    uint32_t burst_;
    uint32_t ranks_ = 1;
    uint32_t unit_off_ = 0;
    std::vector<bank_t> bank_;
    // next[4] of every bank group, then of every pseudo-channel, in one block: few cache
    // lines for a decision's candidates.
    std::vector<uint64_t> times_;
    std::vector<faw_t> faw_;  // per pseudo-channel
    uint64_t bus_[2] = {0, 0};  // row and column command buses (the same one without dual_cmd_bus)
    uint32_t col_bus_ = 1;
    uint32_t bus_of_[4] = {0, 0, 1, 1};  // command -> bus
};

// The candidates of one decision, as a scheduler sees them: one per bank with queued
// requests of the direction being served, each the next command of the request the bank
// chose (its oldest, or with hits_first its oldest row hit); time(i) is the earliest
// time the timing state allows it.
class dram_candidates {
public:
    struct entry {
        uint64_t own = 0;                // max(arrival, the bank's own next time for cmd)
        uint64_t seq = 0;                // request age (smaller = older)
        uint32_t shared[2] = {};         // bank group and pseudo-channel next times for cmd (in sh_)
        int16_t slot = -1, prev = -1;    // queue depths are at most 4096 each
        dram_cmd cmd = dram_cmd::ACT;
        bool column = false;             // RD/WR: a row hit
        bool ok = false;                 // valid (else to be chosen again)
    };
    size_t size() const { return n_; }
    uint32_t bank(size_t i) const { return bank_[i]; }
    const entry& at(size_t i) const { return e_[i]; }
    bool column(size_t i) const { return at(i).column; }
    uint64_t seq(size_t i) const { return at(i).seq; }
    uint64_t time(size_t i) const {
        const entry& k = at(i);
        return std::max(std::max(k.own, sh_[k.shared[0]]), std::max(sh_[k.shared[1]], lb_[k.column]));
    }

private:
    friend class dram_channel;
    entry* e_ = nullptr;  // per candidate (dense, in the order of bank_)
    const uint64_t* sh_ = nullptr;  // the timing checker's shared_base()
    const uint32_t* bank_ = nullptr;
    size_t n_ = 0;
    uint64_t lb_[2] = {0, 0};  // max(now, row command bus), max(now, column command bus)
};

// Which request goes next. Implementations register by name (make_dram_scheduler).
class dram_scheduler {
public:
    virtual ~dram_scheduler() = default;
    // Within one bank: may a younger row hit go before the bank's oldest request?
    virtual bool hits_first() const = 0;
    // The candidate to issue (size() >= 1) and its issue time.
    virtual size_t pick(dram_candidates& c, uint64_t& t) const = 0;
};
std::unique_ptr<dram_scheduler> make_dram_scheduler(const std::string& name);

// Whether to close the row after a column access. Registered by name (make_page_policy).
class page_policy {
public:
    virtual ~page_policy() = default;
    virtual bool needs_hit_info() const { return false; }
    // `hit_pending`: another queued request targets the same row (only if needs_hit_info).
    // Must depend on `hit_pending` only (the channel caches both answers).
    virtual bool close_after_access(bool hit_pending) const = 0;
};
std::unique_ptr<page_policy> make_page_policy(const std::string& name);

class dram_time_limit : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class dram_channel {
public:
    // `stats_name`: the stats group ("board.chip.devmem.ch3"); empty = no stats registered.
    dram_channel(const dram_params& p, const std::string& stats_name);
    ~dram_channel();
    dram_channel(const dram_channel&) = delete;
    dram_channel& operator=(const dram_channel&) = delete;

    // Queue entries count requests that have not arrived yet (see Causality above).
    // With per-bank command queues, the capacity is that of the transaction queue (requests
    // waiting for their bank's command queue) plus the command queues.
    bool can_accept(bool write) const {
        return (bank_qd_ ? npark_[write] : nq_[write]) + ninc_[write] < queue_depth_[write];
    }
    // A request arriving before the last decision (now()) is treated as arriving at now();
    // one arriving later waits, invisible, until a decision time reaches its arrival.
    void enqueue(const dram_request& r);
    bool idle() const { return nq_[0] + nq_[1] + ninc_[0] + ninc_[1] == 0 && fwd_head_ == fwd_.size(); }
    uint32_t queued() const { return nq_[0] + nq_[1] + ninc_[0] + ninc_[1]; }
    // One decision: a command or a refresh. Returns true, with `done` filled, when a
    // request completed (its column command issued). Does nothing when idle().
    bool step(dram_completion& done);
    // Issue decisions until a request of this kind can be accepted; returns the time of
    // the last decision (the earliest time the new request can enter the queue).
    uint64_t make_room(bool write, dram_completion* last = nullptr);
    uint64_t now() const { return now_; }
    // Process-wide bound on the channels' own clocks (sim.max_time_ms, set by the
    // simulation before it starts): a channel that keeps deciding past it (a refresh
    // schedule that leaves no room for requests) throws dram_time_limit instead of spinning
    // inside one transaction, where the simulator's own time limit cannot see it.
    static void set_time_limit_ns(double ns) { time_limit_ns_ = ns; }
    void set_command_log(std::vector<dram_cmd_record>* log) { log_ = log; }
    const timing_checker& checker() const { return chk_; }

    // Totals, for reports.
    uint64_t bytes_read() const { return n_done_[0] * bytes_per_burst_; }
    uint64_t bytes_written() const { return n_done_[1] * bytes_per_burst_; }
    uint64_t reads_done() const { return n_done_[0]; }
    uint64_t writes_done() const { return n_done_[1]; }
    double read_latency_sum_ns() const { return read_lat_sum_ns_; }
    uint64_t refreshes() const { return n_refreshes_; }
    // Reads served from the write queue (a queued write to the same burst), no DRAM access.
    uint64_t reads_forwarded() const { return n_forwarded_; }
    uint64_t row_hits() const { return n_kind_[0]; }
    uint64_t row_misses() const { return n_kind_[1]; }
    uint64_t row_conflicts() const { return n_kind_[2]; }

private:
    struct slot_t {
        dram_request r;
        uint64_t seq;
        int32_t next;
        uint8_t flags;  // 1: an ACT was issued for it, 2: a PRE was issued for it
    };
    uint32_t flat_bank(const dram_request& r) const {
        return (static_cast<uint32_t>(r.pc) * bank_groups_ + r.bg) * banks_per_group_ + r.bank;
    }
    // The bank's next command, cached until the bank or its queue changes.
    using bank_choice = dram_candidates::entry;
    void choose(uint32_t b, int dir, size_t pos);
    // Drop a bank's cached choice; step() re-chooses only the banks listed in dirty_, so
    // each step costs the banks that changed, not every active bank.
    void invalidate(int d, uint32_t b) {
        const int32_t p = bq_[b].active_pos[d];
        if (p >= 0 && choice_[d][static_cast<size_t>(p)].ok) {
            choice_[d][static_cast<size_t>(p)].ok = false;
            dirty_[d].push_back(b);
        }
    }
    void invalidate_both(uint32_t b) {
        invalidate(0, b);
        invalidate(1, b);
    }
    bool issue(uint32_t b, int dir, size_t pos, uint64_t t, dram_completion& done);
    // Make an arrived request visible to the scheduler (into its bank's queue).
    void admit(const dram_request& r);
    void to_bank(int dir, uint32_t b, int32_t slot);  // append an admitted slot to its bank's queue
    void admit_next();
    void unlink(int dir, uint32_t b, int32_t slot, int32_t prev);
    bool row_hit_pending(uint32_t b, uint32_t row) const;
    void refresh(uint32_t pc, uint64_t horizon);
    void update_next_refresh();
    void log(uint64_t t, dram_cmd c, uint32_t b, uint32_t row);

    // Per bank: its read and write FIFOs of slots and its open row, in one place.
    struct bank_queue {
        int32_t head[2] = {-1, -1}, tail[2] = {-1, -1};  // per direction
        uint32_t count[2] = {0, 0};
        int32_t active_pos[2] = {-1, -1};  // index in active_[dir], -1 if none
        int64_t open_row = -1;             // -1 = closed
        // With command queues: the requests of this bank waiting in the transaction queue.
        int32_t park_head[2] = {-1, -1}, park_tail[2] = {-1, -1};
        uint32_t hits_bypassed = 0;  // younger row hits served since the bank's oldest request changed
    };

    // Hot state first and together: memsim on 48 channels touches a different channel per
    // request, so its speed is set by the cache lines one decision touches.
    uint32_t nq_[2] = {0, 0};    // visible (arrived) requests, per direction
    uint32_t ninc_[2] = {0, 0};  // enqueued, not arrived yet
    uint32_t npark_[2] = {0, 0}; // arrived, in the transaction queue (counted in nq_ too)
    uint32_t bank_qd_ = 0;       // command-queue entries per bank and direction (0: none)
    uint32_t row_hit_cap_ = 0;   // 0: none
    uint32_t queue_depth_[2];  // read, write queue capacity
    uint32_t write_high_, write_low_;
    bool write_mode_ = false;
    bool frfcfs_ = false;  // the default scheduler, called without a virtual call
    bool hits_first_ = false;
    bool needs_hit_info_ = false;
    bool close_after_[2] = {false, false};  // the policy's answer without / with a row hit pending (it is pure)
    uint32_t bank_groups_, banks_per_group_, nbanks_, banks_per_pc_;
    uint32_t bytes_per_burst_;
    uint32_t next_ref_pc_ = 0;
    uint64_t seq_ = 0;
    uint64_t now_ = 0;
    uint64_t col_latency_[2];  // RD, WR issue to the last data beat (tCL, tWL + burst)
    double ns_per_cycle_;
    static inline double time_limit_ns_ = 1e300;
    std::vector<dram_cmd_record>* log_ = nullptr;
    dram_candidates cands_;
    uint64_t n_done_[2] = {0, 0};     // reads, writes completed
    uint64_t n_kind_[3] = {0, 0, 0};  // row hits, misses, conflicts
    uint64_t n_activates_ = 0, n_refreshes_ = 0, n_forwarded_ = 0;
    // Completions of reads forwarded from the write queue, returned by the next step()s.
    std::vector<dram_completion> fwd_;
    size_t fwd_head_ = 0;
    bool forward_(const dram_request& r);
    double read_lat_sum_ns_ = 0;
    log2_histogram read_lat_{"read_latency_ns", "read arrival at the controller to last data beat (ns)"};
    average occupancy_{"queue_occupancy", "requests queued in the channel, sampled at each arrival"};
    std::vector<bank_queue> bq_;
    // Requests enqueued ahead of their arrival, sorted by arrival (stable), from inc_head_.
    std::vector<dram_request> incoming_;
    size_t inc_head_ = 0;
    std::vector<slot_t> slots_;
    std::vector<int32_t> free_;
    std::vector<uint32_t> active_[2];     // banks with queued requests (dense, unordered)
    // Per direction, per entry of active_ (dense, so a decision scans contiguous memory).
    std::vector<bank_choice> choice_[2];
    std::vector<uint32_t> dirty_[2];      // per direction: banks whose choice may be invalid
    std::vector<uint64_t> ref_due_;       // per pseudo-channel
    timing_checker chk_;
    std::unique_ptr<dram_scheduler> sched_;
    std::unique_ptr<page_policy> policy_;

    // Refresh state.
    enum class refresh_mode { none, all_bank, per_bank } refresh_mode_;
    uint32_t refresh_interval_ = 0, refresh_block_ = 0;
    std::vector<uint8_t> refreshed_;          // per bank: refreshed in this round (per-bank mode)
    std::vector<uint32_t> refreshed_count_;   // per pseudo-channel
    std::string stats_name_;
    // Counters live in the hot block (n_done_, n_kind_, ...); these report them.
    class counter_view final : public stat_base {
    public:
        counter_view(std::string name, std::string desc, const uint64_t& v, uint64_t scale = 1)
            : stat_base(std::move(name), std::move(desc)), v_(v), scale_(scale) {}
        nlohmann::json value(double) const override;

    private:
        const uint64_t& v_;
        uint64_t scale_;
    };
    class bandwidth_view final : public stat_base {
    public:
        bandwidth_view(const dram_channel& ch)
            : stat_base("bandwidth", "bytes read and written per simulated second"), ch_(ch) {}
        nlohmann::json value(double simulated_s) const override;

    private:
        const dram_channel& ch_;
    };
    counter_view reads_{"reads", "read bursts completed", n_done_[0]};
    counter_view writes_{"writes", "write bursts completed", n_done_[1]};
    counter_view bytes_read_{"bytes_read", "bytes read", n_done_[0], bytes_per_burst_};
    counter_view bytes_written_{"bytes_written", "bytes written", n_done_[1], bytes_per_burst_};
    bandwidth_view bandwidth_{*this};
    counter_view hits_{"row_hits", "accesses to an open row (no ACT needed)", n_kind_[0]};
    counter_view misses_{"row_misses", "accesses to a closed bank (ACT, no PRE)", n_kind_[1]};
    counter_view conflicts_{"row_conflicts", "accesses that closed another row first (PRE + ACT)", n_kind_[2]};
    counter_view activates_{"activates", "ACT commands", n_activates_};
    counter_view forwarded_{"reads_forwarded", "reads answered from the write queue (read after write)", n_forwarded_};
    counter_view refreshes_{"refreshes", "refresh commands (REFab per pseudo-channel or REFpb per bank)",
                            n_refreshes_};
    // Declared last: registers the stats above under this module's name and unregisters them first.
    stats_group stats_{stats_name_};
};

} // namespace accelvp
