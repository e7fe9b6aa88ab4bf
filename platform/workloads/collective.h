// The `collective` system workload: one collective (workload.op) of workload.bytes on
// every chip of a system_board, issued through each chip's uAPI as one job of COLL and
// SEM_WAIT packets (platform/host/collectives.h), timed from the first job's start to
// the last job's end (device timestamps), verified against a host reduction in
// functional mode, and reported with nccl-tests' algbw/busbw and the alpha-beta bound.
#pragma once

#include "platform/host/collectives.h"
#include "platform/system/system_board.h"

namespace accelvp {

// workload.op, workload.bytes, workload.algorithm, workload.chunks, workload.root,
// workload.timeout_ms.
void declare_collective(param_schema& s);
// Alpha-beta model of the configured links: beta = payload rate of one port direction,
// alpha = link latency (+ switch hop) + the engine's per-packet setup.
alpha_beta alpha_beta_of(const config& c);
// ring or tree for workload.algorithm = auto: tree for latency-bound sizes when the
// topology gives every halving-doubling partner a direct port, else ring.
coll_algo choose_algorithm(coll_kind k, const topology& t, uint64_t bytes);
// Runs on the system's host thread: 0 or 1 (ctx.error says why).
int run_collective(system_context& ctx);

} // namespace accelvp
