// Host collective library (NCCL/HCCL-shaped): the figures nccl-tests reports, the
// alpha-beta lower bounds, and the schedule generator that turns a collective on a
// communicator of N chips into per-chip command streams of COLL and SEM_WAIT packets.
//
// Buffer conventions (nccl-tests' `size`): all_reduce and broadcast: `bytes` per chip,
// in place; reduce_scatter: `bytes` in (n segments), chip i ends with the reduced
// segment i in place; all_gather: `bytes` out (n segments), chip i contributes segment i
// in place; all_to_all: `bytes` in and out (n blocks, bytes % n == 0), chip i's block j
// goes to chip j's block i of the output buffer. Segment k spans [k*S/n, (k+1)*S/n)
// (rounded down to whole elements), so sizes need not divide evenly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "abi/aax_queue.h"
#include "platform/system/topology.h"

namespace accelvp {

enum class coll_kind { all_reduce, all_gather, reduce_scatter, all_to_all, broadcast };
enum class coll_algo { ring, tree };  // tree: recursive halving-doubling

coll_kind parse_coll_kind(const std::string& s);  // throws config_error
coll_algo parse_coll_algo(const std::string& s);
const char* name_of(coll_kind k);
const char* name_of(coll_algo a);

// nccl-tests: algbw = size / time; busbw = algbw x factor, with factor 2(n-1)/n for
// all_reduce, (n-1)/n for all_gather, reduce_scatter and all_to_all, 1 for broadcast.
double busbw_factor(coll_kind k, uint32_t n);
inline double algbw(uint64_t bytes, double seconds) { return seconds > 0 ? static_cast<double>(bytes) / seconds : 0; }
inline double busbw(coll_kind k, uint32_t n, uint64_t bytes, double seconds) {
    return algbw(bytes, seconds) * busbw_factor(k, n);
}

// Alpha-beta model: alpha = fixed cost per step (s), beta = bytes/s per link direction.
struct alpha_beta {
    double alpha_s = 0;
    double bytes_per_s = 1;
};
// Lower bound on the time (s) of a collective of `bytes` (nccl-tests size) on n chips.
//   ring all_reduce            2(n-1) a + 2 (n-1)/n S/B
//   ring reduce_scatter/gather  (n-1) a +   (n-1)/n S/B
//   ring broadcast (pipelined)  (n-1) a +           S/B
//   all_to_all (one port)       (n-1) a +   (n-1)/n S/B
//   tree all_reduce           2 lg n  a + 2 (n-1)/n S/B     (lg n = ceil(log2 n))
//   tree reduce_scatter/gather  lg n  a +   (n-1)/n S/B
//   tree broadcast (binomial)   lg n (a +           S/B)
//   tree all_to_all (Bruck)     lg n  a + lg n / 2  S/B
double lower_bound_s(coll_kind k, coll_algo a, uint32_t n, uint64_t bytes, const alpha_beta& m);

// One step of a chip's command stream.
struct sched_op {
    enum kind_t : uint8_t { coll, wait, copy } kind = coll;
    aax_pkt_coll pkt{};         // coll
    uint16_t sem = 0;           // wait: until sem >= value, then subtract value
    uint32_t value = 1;
    uint64_t src = 0, dst = 0, bytes = 0;  // copy (a local DMA)
};

struct coll_request {
    coll_kind kind = coll_kind::all_reduce;
    coll_algo algo = coll_algo::ring;
    uint64_t buf = 0;       // device address of the buffer (same on every chip)
    uint64_t out = 0;       // all_to_all output buffer
    uint64_t bytes = 0;
    uint32_t dtype = AAX_COLL_DT_FP32;  // reductions
    uint32_t red = AAX_COLL_RED_SUM;
    uint32_t root = 0;      // broadcast
    uint32_t chunks = 1;    // pieces per ring step / broadcast, each signalled (pipelining)
    uint16_t sem_base = 0;  // semaphores sem_base .. sem_base + sems_needed() - 1 start at 0
};

struct schedule {
    std::vector<std::vector<sched_op>> per_chip;
    uint16_t sems = 0;  // semaphores used from sem_base
};

// Build the per-chip streams. Throws config_error when the topology cannot run the
// algorithm (ring: chip i must reach chip i+1 directly; tree: power-of-two n, a direct
// port to every partner; all_to_all: a direct port to every peer) or the size is invalid.
schedule make_schedule(const coll_request& r, const topology& t);
// The same stream for one chip only, without building the others' (a 1024-chip ring
// all_reduce's streams are 2.1 M ops, ~330 MB): what make_schedule(r, t).per_chip[chip] holds.
std::vector<sched_op> make_chip_schedule(const coll_request& r, const topology& t, uint32_t chip);
// The checks of make_schedule (the config_error it would throw), recording no op.
void check_schedule(const coll_request& r, const topology& t);
// `only` = UINT32_MAX: every chip; UINT32_MAX - 1: check only; else that chip's stream only.
schedule make_schedule(const coll_request& r, const topology& t, uint32_t only);

// Serialise one chip's stream into command-buffer bytes (COLL, SEM_WAIT, DMA packets).
std::vector<uint8_t> to_packets(const std::vector<sched_op>& ops);

// Mismatching bytes after a collective: `before[c]` is chip c's buffer (`r.bytes`) before,
// `after[c]` after, `after_out[c]` the all_to_all output buffer after (else unused).
// Reductions are compared bit-exact with a host reduction in chip order (use data whose
// sums do not depend on the order, e.g. integer-valued floats).
uint64_t count_mismatches(const coll_request& r, const std::vector<std::vector<uint8_t>>& before,
                          const std::vector<std::vector<uint8_t>>& after,
                          const std::vector<std::vector<uint8_t>>& after_out);

// Pure host-side executor: runs the streams on per-chip memories (`mem[c]`, indexed by
// device address) with the topology's routes, interleaving chips pseudo-randomly (from
// `seed`), each op atomic. Returns "" or what went wrong (deadlock, bad port, ...).
std::string execute_schedule(const schedule& s, const topology& t, std::vector<std::vector<uint8_t>>& mem,
                             uint16_t sem_base, uint64_t seed);

} // namespace accelvp
