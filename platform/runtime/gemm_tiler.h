// compiler-lite: splits C = A x B over the compute clusters into output tiles that fit
// the cluster SRAMs and emits the command streams that run it:
//
//   DMA ring of cluster c:     for each tile j, k-chunk kc: [wait slot empty] DMA A chunk,
//                              DMA B chunk -> SRAM slot (kc%2 alternating); signal slot full;
//                              after the first chunk of tile j: [wait C(j-1) done] DMA C(j-1)
//                              SRAM -> HBM; signal C buffer free
//   compute ring of cluster c: for each chunk: wait slot full; [wait C buffer free];
//                              GEMM (accumulate for kc > 0); signal slot empty; after the
//                              last chunk: signal C(j) done
//
// Two input slots and two C buffers per cluster double-buffer loads, compute and stores.
// Every semaphore is a count of events consumed by the waiter (SEM_WAIT with dec), and
// signals that no one would consume are not emitted, so all semaphores end at 0.
// With a single ring everything runs in order on it, without semaphores.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "platform/host/cmdbuf.h"
#include "tlm/compute/compute_params.h"

namespace accelvp {

struct gemm_problem {
    uint64_t m = 0, n = 0, k = 0;
    uint8_t dtype = AAX_DT_BF16;   // A and B
    bool b_trans = false;          // B stored N x K in HBM
    uint64_t a = 0, b = 0, c = 0;  // device bus addresses, row-major
    // Leading dimensions in elements (0 = packed: k, n (k with b_trans), n), so that a GEMM
    // can read or write a column slice of a wider matrix (one attention head of QKV).
    uint64_t lda = 0, ldb = 0, ldc = 0;
    // A batch of `batch` independent GEMMs of this shape: item i reads A at a + i·stride_a,
    // B at b + i·stride_b and writes C at c + i·stride_c (bytes). Their output tiles are
    // dealt over the clusters together, so many small GEMMs (the heads of an attention
    // layer) are one plan: one set of jobs instead of one per item.
    uint64_t batch = 1, stride_a = 0, stride_b = 0, stride_c = 0;
};

struct gemm_tiling {
    uint64_t tm = 0, tn = 0, tk = 0;
    uint32_t c_buffers = 0;  // C tiles in SRAM: 2 overlap a tile's store with the next tile (0 = auto)
    // Clusters the output tiles are dealt over (0 = all of the plan's; at most the tiles): a tiny
    // GEMM on one or two clusters starts fewer jobs than spread thin over all of them.
    uint32_t clusters = 0;
    double predicted_ns = 0;  // the tiler's analytic estimate of the plan's device time (0: not estimated)
};

// What the tiler knows of the memory side, to weigh tile shapes (0 = unknown: compute only).
struct gemm_machine {
    double mem_gbps = 0;       // device-memory peak of the model in the run
    double dma_gbps = 0;       // one DMA engine's datapath
    double sram_port_gbps = 0; // a cluster SRAM's port (0 = not a limit)
    uint32_t dma_engines = 1;  // ring r's packets run on engine r % dma_engines
    // A DMA packet costs setup + one round trip, then streams at most max_outstanding bursts
    // (a burst never crosses a row) per round trip (Little's law).
    double dma_setup_ns = 0, round_trip_ns = 0;
    uint32_t burst_bytes = 0, max_outstanding = 0;
    // Control path (0 = not modelled). Per packet a queue spends packet_ns decoding and
    // dispatching it (qman.decode_ns); a SEM_SIGNAL, or a SEM_WAIT that finds its count, costs
    // sem_ns more (sync.op_ns). A phase's jobs start one after another, job_ns apart (host
    // submission and the scheduler's per-job work, serialized), and a job takes job_latency_ns
    // beyond its packets (from being taken to its first packet, and from its last packet to
    // its completion record). compute_runner measures the last two on the device.
    double packet_ns = 0, sem_ns = 0, job_ns = 0, job_latency_ns = 0;
    // Time of one DMA packet of `bytes` in rows of `row_bytes` on one engine (ns).
    double dma_packet_ns(uint64_t bytes, uint64_t row_bytes) const;
};

struct gemm_plan {
    gemm_tiling tile;
    uint32_t clusters = 0;                // clusters used
    std::vector<cmdbuf_builder> streams;  // one per ring, ring i = streams[i]
    // Which ring runs cluster c's DMA stream and its compute stream (GEMM/VEC and the
    // vector phases' own transfers). With one ring, ring 0 runs everything. DMA streams take
    // rings 0..clusters-1 so that, as ring r's DMA packets run on engine r % dma.engines,
    // with one DMA engine per cluster each cluster's transfers have an engine of their own
    // (from both its rings).
    uint32_t dma_ring(uint32_t c) const { return streams.size() < 2 ? 0 : c; }
    uint32_t compute_ring(uint32_t c) const { return streams.size() < 2 ? 0 : clusters + c; }
    uint64_t hbm_bytes = 0;               // device-memory bytes read and written
    uint64_t gemm_packets = 0, dma_packets = 0;
    struct dma_op {
        uint64_t bytes, row_bytes;
        uint32_t ring = 0;  // the stream (ring) that carries it: its DMA engine is ring % dma.engines
    };
    std::vector<dma_op> dmas;            // every DMA packet's size and row width, for the analytic DMA time
    std::vector<uint64_t> cluster_cycles; // analytic matrix-engine cycles per cluster
    std::vector<uint64_t> cluster_sram_bytes;  // SRAM traffic per cluster (engine + DMA)
    // Vector phases (platform/runtime/vec_tiler.h) fill these instead of the GEMM fields.
    uint64_t vec_packets = 0;
    std::vector<uint64_t> cluster_vec_cycles;  // analytic vector-engine cycles per cluster
};

// Tile sizes from the analytic model (docs/compute.md, "Choosing tiles"): among shapes whose
// two input slots and one or two C buffers fit the SRAM (tm any height up to all of m, tn a
// multiple of the array's columns, tk of its rows times the type's MAC rate), the one with
// the shortest predicted time: the busiest cluster's matrix-engine cycles plus the exposed
// loads and stores, against the device-memory and DMA time of its traffic. Overrides of
// 0 = auto. Single-ring plans (everything in order on one ring) add instead of overlap.
// Throws std::invalid_argument when nothing fits.
gemm_tiling choose_tiling(const compute_params& p, const gemm_problem& g, uint32_t clusters, gemm_tiling want = {},
                          const gemm_machine& mach = {}, bool single_ring = false);
// The tiles of the previous release, kept as the reference the tiler must not lose to: at
// most 512 per side, the larger output side halved (to array multiples) while there are fewer
// tiles than clusters, then the largest side halved until two input slots and two C buffers fit.
gemm_tiling capped_tiling(const compute_params& p, const gemm_problem& g, uint32_t clusters);
// The estimate choose_tiling minimises, for one tiling (ns).
double predict_gemm_ns(const compute_params& p, const gemm_problem& g, uint32_t clusters, const gemm_tiling& t,
                       const gemm_machine& mach, bool single_ring);

// Command streams for `rings` rings (>= 1) with cluster SRAM i at sram_addr[i]; semaphores
// from sem_base (8 per cluster).
gemm_plan plan_gemm(const compute_params& p, const gemm_problem& g, const std::vector<uint64_t>& sram_addr,
                    uint32_t rings, uint16_t sem_base, gemm_tiling want = {}, const gemm_machine& mach = {});

} // namespace accelvp
