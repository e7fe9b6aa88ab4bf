#include "platform/system/collectives.h"

#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "platform/host/cmdbuf.h"
#include "tlm/link/coll_engine.h"

namespace accelvp {

namespace {
const char* const kind_names[] = {"all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast"};
const char* const algo_names[] = {"ring", "tree"};

uint32_t ceil_log2(uint32_t n) {
    uint32_t k = 0;
    while ((1ull << k) < n) ++k;
    return k;
}

// Byte range of segment k of n over `bytes`, cut on `elem`-byte boundaries.
std::pair<uint64_t, uint64_t> segment(uint64_t bytes, uint32_t n, uint32_t k, uint32_t elem) {
    const uint64_t count = bytes / elem;
    const uint64_t lo = count * k / n, hi = count * (k + 1) / n;
    return {lo * elem, (k + 1 == n ? bytes : hi * elem)};
}

// The ring's order of chips (rank -> chip): chip order where each chip links directly to
// the next, else a Hamiltonian cycle of the torus (no wrap-around needed): with an even
// number of rows, row 0 left to right from x = 1, the rows snaking over x >= 1, then back
// up column 0 (an even number of columns: the same with x and y swapped). Chip order is
// returned when no such cycle is found (the caller reports the missing link).
std::vector<uint32_t> ring_order(const topology& t) {
    std::vector<uint32_t> id(t.chips);
    for (uint32_t i = 0; i < t.chips; ++i) id[i] = i;
    if (t.kind != "torus2d" || t.torus_x < 2 || t.torus_y < 2) return id;
    const bool rows_even = t.torus_y % 2 == 0;
    if (!rows_even && t.torus_x % 2) return id;  // odd x odd: left to chip order
    const uint32_t X = rows_even ? t.torus_x : t.torus_y, Y = rows_even ? t.torus_y : t.torus_x;
    const auto chip = [&](uint32_t a, uint32_t b) { return rows_even ? b * t.torus_x + a : a * t.torus_x + b; };
    std::vector<uint32_t> ord{chip(0, 0)};
    for (uint32_t b = 0; b < Y; ++b)
        for (uint32_t k = 1; k < X; ++k) ord.push_back(chip(b % 2 ? X - k : k, b));
    for (uint32_t b = Y; b-- > 1;) ord.push_back(chip(0, b));
    for (uint32_t i = 0; i < ord.size(); ++i)
        if (t.port_to(ord[i], ord[(i + 1) % ord.size()]) < 0) return id;
    return ord;
}

class builder {
public:
    // `only`: build just that chip's stream (the others stay empty), in O(n + its steps).
    builder(const coll_request& r, const topology& t, uint32_t only = all)
        : r_(r), t_(t), s_(), ord_(ring_order(t)), only_(only) {
        s_.per_chip.resize(t.chips);
        pos_.resize(t.chips);
        for (uint32_t k = 0; k < ord_.size(); ++k) pos_[ord_[k]] = k;
    }

    int port(uint32_t from, uint32_t to, const char* why) const {
        const int p = t_.port_to(from, to);
        if (p < 0)
            throw config_error(fmt::format("config error: {} on system.topology = {} needs a direct link from chip {} "
                                           "to chip {}",
                                           why, t_.kind, from, to));
        return p;
    }
    // A transfer of [lo, hi) to `peer`'s `dst_base + lo`, signalling semaphore `sem`; an
    // empty range still signals (a SIGNAL packet) so the receiver's count stays in step.
    static constexpr uint32_t all = UINT32_MAX, check_only = UINT32_MAX - 1;
    // Not recorded: another chip's op when building one chip, every op when only checking.
    bool skip(uint32_t chip) const { return only_ != all && chip != only_; }
    // A loop over chips may pass over this one (building one chip's stream; a check visits all).
    bool pass_over(uint32_t chip) const { return only_ < t_.chips && chip != only_; }
    void send(uint32_t chip, uint32_t peer, uint32_t op, uint64_t src, uint64_t dst, uint64_t bytes, uint16_t sem,
              const char* why) {
        if (pass_over(chip)) return;
        const int prt = port(chip, peer, why);
        s_.sems = std::max<uint16_t>(s_.sems, static_cast<uint16_t>(sem + 1));
        if (skip(chip)) return;
        sched_op o;
        o.kind = sched_op::coll;
        aax_pkt_coll& p = o.pkt;
        const bool reduce = op == AAX_COLL_REDUCE;
        if (bytes == 0) op = AAX_COLL_SIGNAL;
        p.hdr = aax_pkt_hdr{AAX_OP_COLL, 0, AAX_PKT_COLL_QW,
                            (bytes && reduce ? AAX_COLL_PARAM(op, r_.dtype, r_.red) : AAX_COLL_PARAM(op, 0, 0)) |
                                AAX_COLL_F_SIGNAL};
        p.port = static_cast<uint16_t>(prt);
        p.sem = static_cast<uint16_t>(r_.sem_base + sem);
        p.sem_value = 1;
        p.local_addr = bytes ? src : 0;
        p.remote_addr = bytes ? dst : 0;
        p.bytes = bytes;
        s_.per_chip[chip].push_back(o);
    }
    void wait(uint32_t chip, uint16_t sem) {
        s_.sems = std::max<uint16_t>(s_.sems, static_cast<uint16_t>(sem + 1));
        if (skip(chip)) return;
        sched_op o;
        o.kind = sched_op::wait;
        o.sem = static_cast<uint16_t>(r_.sem_base + sem);
        o.value = 1;
        s_.per_chip[chip].push_back(o);
    }
    void copy(uint32_t chip, uint64_t src, uint64_t dst, uint64_t bytes) {
        if (!bytes || skip(chip)) return;
        sched_op o;
        o.kind = sched_op::copy;
        o.src = src;
        o.dst = dst;
        o.bytes = bytes;
        s_.per_chip[chip].push_back(o);
    }
    // The pieces of a byte range (for pipelining a ring step): f(lo, hi) for each, in order.
    // A callback, not a vector: a 1024-chip ring builds 2 M steps, twice (check, then each chip).
    uint32_t piece_count() const { return std::max<uint32_t>(1, r_.chunks); }
    template <typename F>
    void for_pieces(std::pair<uint64_t, uint64_t> seg, uint32_t elem, F f) const {
        const uint32_t c = piece_count();
        for (uint32_t k = 0; k < c; ++k) {
            auto [lo, hi] = segment(seg.second - seg.first, c, k, elem);
            f(seg.first + lo, seg.first + hi);
        }
    }

    // Ring reduce-scatter: chip i ends with segment i reduced (semaphore `sem`).
    // Ranks walk the ring order; segment k of the ring is chip ord_[k]'s own segment, so
    // every chip ends with (or starts with) the segment of its own index.
    void ring_reduce_scatter(uint16_t sem) {
        const uint32_t n = t_.chips;
        for (uint32_t i = 0; i < n; ++i) {
            const uint32_t me = ord_[i], next = ord_[(i + 1) % n];
            if (pass_over(me)) continue;
            for (uint32_t s = 0; s + 1 < n; ++s) {
                const uint32_t seg = ord_[(i + 2 * n - 1 - s) % n];
                for_pieces(segment(r_.bytes, n, seg, 4), 4, [&](uint64_t lo, uint64_t hi) {
                    if (s > 0) wait(me, sem);
                    send(me, next, AAX_COLL_REDUCE, r_.buf + lo, r_.buf + lo, hi - lo, sem, "ring reduce_scatter");
                });
            }
            for (uint32_t k = 0; n > 1 && k < piece_count(); ++k) wait(me, sem);
        }
    }
    // Ring all-gather: chip i starts with segment i (semaphore `sem`).
    void ring_all_gather(uint16_t sem, uint32_t elem) {
        const uint32_t n = t_.chips;
        for (uint32_t i = 0; i < n; ++i) {
            const uint32_t me = ord_[i], next = ord_[(i + 1) % n];
            if (pass_over(me)) continue;
            for (uint32_t s = 0; s + 1 < n; ++s) {
                const uint32_t seg = ord_[(i + n - s) % n];
                for_pieces(segment(r_.bytes, n, seg, elem), elem, [&](uint64_t lo, uint64_t hi) {
                    if (s > 0) wait(me, sem);
                    send(me, next, AAX_COLL_RDMA_WRITE, r_.buf + lo, r_.buf + lo, hi - lo, sem, "ring all_gather");
                });
            }
            for (uint32_t k = 0; n > 1 && k < piece_count(); ++k) wait(me, sem);
        }
    }
    // Recursive halving (reduce-scatter, steps sem..sem+lg-1) and doubling (all-gather,
    // steps sem+lg..): one semaphore per step, since partners of different steps signal
    // concurrently. Chip i owns segment i after halving.
    void tree(bool halving, bool doubling, uint32_t elem) {
        const uint32_t n = t_.chips, lg = ceil_log2(n);
        if (n & (n - 1))
            throw config_error(fmt::format("config error: the tree algorithm needs a power-of-two chip count "
                                           "(system.chips = {})",
                                           n));
        for (uint32_t i = 0; i < n; ++i) {
            if (pass_over(i)) continue;
            // Segment range [lo, hi) held by chip i before each halving step.
            uint32_t lo = 0, hi = n;
            std::vector<std::pair<uint32_t, uint32_t>> held;
            for (uint32_t k = 0; k < lg; ++k) {
                const uint32_t d = n >> (k + 1), partner = i ^ d, mid = (lo + hi) / 2;
                const bool upper = i & d;
                const uint32_t give_lo = upper ? lo : mid, give_hi = upper ? mid : hi;
                if (halving) {
                    const uint64_t a = segment(r_.bytes, n, give_lo, elem).first;
                    const uint64_t b = segment(r_.bytes, n, give_hi - 1, elem).second;
                    send(i, partner, AAX_COLL_REDUCE, r_.buf + a, r_.buf + a, b - a, static_cast<uint16_t>(k),
                         "tree reduce_scatter");
                    wait(i, static_cast<uint16_t>(k));
                }
                held.emplace_back(lo, hi);
                if (upper) lo = mid;
                else hi = mid;
            }
            if (!doubling) continue;
            for (uint32_t k = lg; k-- > 0;) {  // doubling: the reverse order of the halving steps
                const uint32_t d = n >> (k + 1), partner = i ^ d;
                const uint64_t a = segment(r_.bytes, n, lo, elem).first;
                const uint64_t b = segment(r_.bytes, n, hi - 1, elem).second;
                send(i, partner, AAX_COLL_RDMA_WRITE, r_.buf + a, r_.buf + a, b - a, static_cast<uint16_t>(lg + k),
                     "tree all_gather");
                wait(i, static_cast<uint16_t>(lg + k));
                lo = held[k].first;
                hi = held[k].second;
            }
        }
    }
    void broadcast() {
        const uint32_t n = t_.chips;
        for (uint32_t p = 0; p < n; ++p) {
            const uint32_t i = ord_[(pos_[r_.root] + p) % n], next = ord_[(pos_[r_.root] + p + 1) % n];
            if (pass_over(i)) continue;
            for_pieces({0, r_.bytes}, 1, [&](uint64_t lo, uint64_t hi) {
                if (p > 0) wait(i, 0);
                if (p + 1 < n) send(i, next, AAX_COLL_RDMA_WRITE, r_.buf + lo, r_.buf + lo, hi - lo, 0, "broadcast");
            });
        }
    }
    void all_to_all() {
        const uint32_t n = t_.chips;
        if (r_.bytes % n)
            throw config_error(fmt::format("config error: all_to_all needs a size divisible by the chip count "
                                           "({} bytes on {} chips)",
                                           r_.bytes, n));
        const uint64_t blk = r_.bytes / n;
        for (uint32_t i = 0; i < n; ++i) {
            if (pass_over(i)) continue;
            for (uint32_t k = 1; k < n; ++k) {
                const uint32_t j = (i + k) % n;  // staggered so peers do not all hit chip 0 first
                send(i, j, AAX_COLL_RDMA_WRITE, r_.buf + j * blk, r_.out + i * blk, blk, 0, "all_to_all");
            }
            copy(i, r_.buf + i * blk, r_.out + i * blk, blk);
            for (uint32_t k = 1; k < n; ++k) wait(i, 0);
        }
    }
    schedule take() { return std::move(s_); }

private:
    const coll_request& r_;
    const topology& t_;
    schedule s_;
    std::vector<uint32_t> ord_, pos_;  // ring order: rank -> chip, chip -> rank
    uint32_t only_;
};
} // namespace

coll_kind parse_coll_kind(const std::string& s) {
    for (unsigned k = 0; k < 5; ++k)
        if (s == kind_names[k]) return static_cast<coll_kind>(k);
    throw config_error("config error: unknown collective '" + s + "'");
}
coll_algo parse_coll_algo(const std::string& s) {
    if (s == "ring") return coll_algo::ring;
    if (s == "tree") return coll_algo::tree;
    throw config_error("config error: unknown collective algorithm '" + s + "'");
}
const char* name_of(coll_kind k) { return kind_names[static_cast<unsigned>(k)]; }
const char* name_of(coll_algo a) { return algo_names[static_cast<unsigned>(a)]; }

double busbw_factor(coll_kind k, uint32_t n) {
    if (n <= 1) return k == coll_kind::broadcast ? 1.0 : 0.0;
    const double f = static_cast<double>(n - 1) / n;
    switch (k) {
    case coll_kind::all_reduce: return 2 * f;
    case coll_kind::broadcast: return 1.0;
    default: return f;
    }
}

double lower_bound_s(coll_kind k, coll_algo a, uint32_t n, uint64_t bytes, const alpha_beta& m) {
    if (n <= 1) return 0;
    const double S = static_cast<double>(bytes) / m.bytes_per_s, f = static_cast<double>(n - 1) / n;
    const double steps = a == coll_algo::ring ? n - 1 : ceil_log2(n);
    switch (k) {
    case coll_kind::all_reduce: return 2 * steps * m.alpha_s + 2 * f * S;
    case coll_kind::all_gather:
    case coll_kind::reduce_scatter: return steps * m.alpha_s + f * S;
    case coll_kind::broadcast: return a == coll_algo::ring ? steps * m.alpha_s + S : steps * (m.alpha_s + S);
    case coll_kind::all_to_all: return a == coll_algo::ring ? steps * m.alpha_s + f * S : steps * (m.alpha_s + S / 2);
    }
    return 0;
}

schedule make_schedule(const coll_request& r, const topology& t) { return make_schedule(r, t, builder::all); }

void check_schedule(const coll_request& r, const topology& t) { make_schedule(r, t, builder::check_only); }

std::vector<sched_op> make_chip_schedule(const coll_request& r, const topology& t, uint32_t chip) {
    schedule s = make_schedule(r, t, chip);
    return std::move(s.per_chip.at(chip));
}

schedule make_schedule(const coll_request& r, const topology& t, uint32_t only) {
    const bool reduces = r.kind == coll_kind::all_reduce || r.kind == coll_kind::reduce_scatter;
    if (r.bytes == 0) throw config_error("config error: a collective of 0 bytes");
    if (reduces && r.bytes % 4)
        throw config_error(fmt::format("config error: {} of {} bytes: not whole 4-byte elements", name_of(r.kind), r.bytes));
    builder b(r, t, only);
    if (t.chips > 1) {
        const bool tree = r.algo == coll_algo::tree;
        switch (r.kind) {
        case coll_kind::all_reduce:
            if (tree) b.tree(true, true, 4);
            else {
                b.ring_reduce_scatter(0);
                b.ring_all_gather(1, 4);
            }
            break;
        case coll_kind::reduce_scatter:
            if (tree) b.tree(true, false, 4);
            else b.ring_reduce_scatter(0);
            break;
        case coll_kind::all_gather:
            if (tree) b.tree(false, true, 1);
            else b.ring_all_gather(0, 1);
            break;
        case coll_kind::broadcast: b.broadcast(); break;   // pipelined chain for both algorithms
        case coll_kind::all_to_all: b.all_to_all(); break;  // direct writes for both
        }
    }
    return b.take();
}

std::vector<uint8_t> to_packets(const std::vector<sched_op>& ops) {
    cmdbuf_builder cb;
    for (const sched_op& o : ops) {
        switch (o.kind) {
        case sched_op::coll: cb.raw(o.pkt); break;
        case sched_op::wait: cb.sem_wait(o.sem, o.value, AAX_SEM_GE, true); break;
        case sched_op::copy: cb.copy(o.src, o.dst, o.bytes); break;
        }
    }
    return cb.bytes();
}

uint64_t count_mismatches(const coll_request& r, const std::vector<std::vector<uint8_t>>& before,
                          const std::vector<std::vector<uint8_t>>& after,
                          const std::vector<std::vector<uint8_t>>& after_out) {
    const auto n = static_cast<uint32_t>(before.size());
    uint64_t bad = 0;
    switch (r.kind) {
    case coll_kind::all_reduce:
    case coll_kind::reduce_scatter:
        for (uint32_t c = 0; c < n; ++c) {
            const auto [lo, hi] = r.kind == coll_kind::all_reduce ? std::pair<uint64_t, uint64_t>{0, r.bytes}
                                                                  : segment(r.bytes, n, c, 4);
            for (uint64_t o = lo; o < hi; o += 4) {
                uint8_t acc[4];
                std::memcpy(acc, before[0].data() + o, 4);
                for (uint32_t k = 1; k < n; ++k) coll_engine::combine(acc, before[k].data() + o, 4, r.dtype, r.red);
                bad += std::memcmp(after[c].data() + o, acc, 4) != 0;
            }
        }
        break;
    case coll_kind::all_gather:
        for (uint32_t c = 0; c < n; ++c)
            for (uint32_t k = 0; k < n; ++k) {
                auto [lo, hi] = segment(r.bytes, n, k, 1);
                for (uint64_t o = lo; o < hi; ++o) bad += after[c][o] != before[k][o];
            }
        break;
    case coll_kind::broadcast:
        for (uint32_t c = 0; c < n; ++c)
            for (uint64_t o = 0; o < r.bytes; ++o) bad += after[c][o] != before[r.root][o];
        break;
    case coll_kind::all_to_all: {
        const uint64_t blk = r.bytes / n;
        for (uint32_t j = 0; j < n; ++j)
            for (uint32_t i = 0; i < n; ++i)
                for (uint64_t o = 0; o < blk; ++o) bad += after_out[j][i * blk + o] != before[i][j * blk + o];
        break;
    }
    }
    return bad;
}

std::string execute_schedule(const schedule& s, const topology& t, std::vector<std::vector<uint8_t>>& mem,
                             uint16_t sem_base, uint64_t seed) {
    const size_t n = s.per_chip.size();
    std::vector<size_t> pc(n, 0);
    std::vector<std::vector<uint64_t>> sem(n, std::vector<uint64_t>(sem_base + s.sems + 1u, 0));
    auto in_range = [&](size_t c, uint64_t a, uint64_t len) { return a <= mem[c].size() && len <= mem[c].size() - a; };
    uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 1;
    for (;;) {
        std::vector<size_t> ready;
        for (size_t c = 0; c < n; ++c) {
            if (pc[c] >= s.per_chip[c].size()) continue;
            const sched_op& o = s.per_chip[c][pc[c]];
            if (o.kind == sched_op::wait && (o.sem >= sem[c].size() || sem[c][o.sem] < o.value)) continue;
            ready.push_back(c);
        }
        if (ready.empty()) {
            for (size_t c = 0; c < n; ++c)
                if (pc[c] < s.per_chip[c].size())
                    return fmt::format("deadlock: chip {} waits at op {} of {}", c, pc[c], s.per_chip[c].size());
            return "";
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        const size_t c = ready[rng % ready.size()];
        const sched_op& o = s.per_chip[c][pc[c]++];
        switch (o.kind) {
        case sched_op::wait: sem[c][o.sem] -= o.value; break;
        case sched_op::copy:
            if (!in_range(c, o.src, o.bytes) || !in_range(c, o.dst, o.bytes)) return fmt::format("chip {}: copy out of range", c);
            std::memmove(mem[c].data() + o.dst, mem[c].data() + o.src, o.bytes);
            break;
        case sched_op::coll: {
            const aax_pkt_coll& p = o.pkt;
            if (coll_engine::validate(p) != AAX_OK) return fmt::format("chip {}: invalid COLL packet", c);
            if (p.port >= t.routes[c].size() || t.routes[c][p.port].peer_chip == topology::none)
                return fmt::format("chip {}: port {} is not wired", c, p.port);
            const uint32_t peer = t.routes[c][p.port].peer_chip;
            const uint32_t op = p.hdr.param & 0xFF;
            if (op == AAX_COLL_RDMA_WRITE || op == AAX_COLL_REDUCE) {
                if (!in_range(c, p.local_addr, p.bytes) || !in_range(peer, p.remote_addr, p.bytes))
                    return fmt::format("chip {}: transfer out of range", c);
                if (op == AAX_COLL_REDUCE)
                    coll_engine::combine(mem[peer].data() + p.remote_addr, mem[c].data() + p.local_addr, p.bytes,
                                         (p.hdr.param >> 8) & 0xF, (p.hdr.param >> 12) & 0xF);
                else std::memmove(mem[peer].data() + p.remote_addr, mem[c].data() + p.local_addr, p.bytes);
            } else if (op != AAX_COLL_SIGNAL) {
                return fmt::format("chip {}: COLL op {} not used by schedules", c, op);
            }
            if ((p.hdr.param & AAX_COLL_F_SIGNAL) && p.sem < sem[peer].size()) sem[peer][p.sem] += p.sem_value;
            break;
        }
        }
    }
}

} // namespace accelvp
