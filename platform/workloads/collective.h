// The `collective` system workload: one collective (workload.op) of workload.bytes on
// every chip of a system_board, issued through each chip's uAPI as one job of COLL and
// SEM_WAIT packets (platform/system/collectives.h), timed from the first job's start to
// the last job's end (device timestamps), verified against a host reduction in
// functional mode, and reported with nccl-tests' algbw/busbw and the alpha-beta bound.
#pragma once

#include <iosfwd>
#include <vector>

#include "platform/system/collectives.h"
#include "platform/system/system_board.h"
#include "platform/workloads/workload.h"
#include "tlm/core/params.h"

namespace accelvp {

// workload.op, workload.bytes, workload.algorithm, workload.chunks, workload.root,
// workload.timeout_ms, workload.sweep.
struct collective_params {
    std::string op = "all_reduce";
    uint64_t bytes = 64ull << 20;
    std::string algorithm = "auto";
    uint32_t chunks = 0, root = 0;
    double timeout_ms = 60000;
    std::string sweep;
    static const param_table<collective_params>& table();
};
void declare_collective(param_schema& s);
// The sizes a run covers: workload.sweep = "MIN:MAX[:FACTOR]" (sizes MIN, MIN x FACTOR, ...
// up to MAX, FACTOR 2 by default, like nccl-tests' -b/-e/-f), each rounded down to what the
// op can split (whole 4-byte elements for reductions, a multiple of the chip count for
// all_to_all); empty sweep: just workload.bytes. Throws config_error naming the key.
std::vector<uint64_t> collective_sizes(const config& c, uint32_t chips);
// Checks before elaboration what only the whole system can tell (config_error naming the
// key and the valid values): at least 2 chips, and a schedule of every size exists on the
// topology with the chosen algorithm.
void check_collective(const config& c);
// Alpha-beta model of the configured links: beta = payload rate of one port direction,
// alpha = link latency (+ switch hop) + the engine's per-packet setup.
alpha_beta alpha_beta_of(const config& c);
// ring or tree for workload.algorithm = auto: tree for latency-bound sizes when the
// topology gives every halving-doubling partner a direct port, else ring.
coll_algo choose_algorithm(coll_kind k, const topology& t, uint64_t bytes);
// Runs on the system's host thread: 0 or 1 (ctx.error says why). Every size of a sweep
// runs in this one elaboration, one collective after the other on the idle system (each in
// the workload steps: plan, submit, verify; validate is check_collective); the summary is
// the last (largest) size's, plus `sweep`: one row per size.
int run_collective(system_context& ctx);
// The nccl-tests-style table of a summary's `sweep` rows.
void print_collective_sweep(const nlohmann::json& sweep, std::ostream& out);

// The `collective` entry of the workload registry: its parameters (system.*, link.*,
// workload.*) and description; the simulation elaborates a system_board for it and runs
// run_collective, never run() on a single chip.
class collective_workload : public workload {
public:
    std::string name() const override { return "collective"; }
    system_kind system() const override { return system_kind::multi_chip; }
    std::string description() const override;
    void declare(param_schema& s) const override;
    int run(workload_context& ctx) override;
    void check(const config& c) const override { check_collective(c); }
    int run_system(system_context& ctx) override { return run_collective(ctx); }
};

} // namespace accelvp
