#!/usr/bin/env python3
"""accelvp profile: an nsys/rocprof-style summary of a run's Chrome/Perfetto trace
(`accelvp run --trace T.json`), docs/profiling.md.

  accelvp profile T.json [--top N] [--json] [--stats S.json]
  accelvp run --profile ...   (the same summary, printed after the run)

Prints, from the trace's complete slices:
  - per track (each ring, DMA engine, compute engine, PCIe direction, collective engine): busy
    time (the union of its slices), utilization over the traced span, slices;
  - the top N packets by device time (ring slices of category "packet": opcode, ring, command
    buffer offset and the packet's fields) and the top N jobs;
  - per opcode: count, total and mean time;
  - each job's bound: where its time went (compute: GEMM/VEC packets; DMA: DMA packets that ran
    at >= 80 % of the engine's datapath bandwidth; memory: DMA packets slower than that, held
    back by the memory or link they use; control: the rest -- scheduling, decode, SEM_WAIT,
    FENCE) and the largest share;
  - with --stats (the run's stats JSON): the hardware performance counters per engine, DRAM
    channel and ring (the figures BAR0 0xB000 reads: docs/profiling.md).
--json prints the same as one JSON document. Exit 2 when the file is not a trace."""
import argparse
import json
import re
import sys
from collections import defaultdict


def load(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"accelvp profile: cannot read trace '{path}': {e}")
    events = doc.get("traceEvents") if isinstance(doc, dict) else doc
    if not isinstance(events, list):
        sys.exit(f"accelvp profile: '{path}' is not a Chrome/Perfetto trace (no traceEvents)")
    return events


def busy_union(spans):
    total, end = 0.0, None
    for s, e in sorted(spans):
        if end is None or s > end:
            total += e - s
            end = e
        elif e > end:
            total += e - end
            end = e
    return total


DMA_BOUND = 0.8  # a DMA packet at >= this fraction of the engine's datapath is DMA-bound


def job_bound(job, packets, dma_peak_gbps):
    """Shares of a job's time: compute, dma, memory, control; and the largest."""
    t0, t1 = job["ts"], job["ts"] + job["dur"]
    share = {"compute": 0.0, "dma": 0.0, "memory": 0.0, "control": 0.0}
    for p in packets:
        if p["tid"] != job["tid"] or p["ts"] < t0 or p["ts"] + p["dur"] > t1 + 1e-6:
            continue
        if p["name"] in ("GEMM", "VEC"):
            share["compute"] += p["dur"]
        elif p["name"] == "DMA":
            gbps = p.get("args", {}).get("bytes", 0) / (p["dur"] * 1e3) if p["dur"] > 0 else 0
            fast = dma_peak_gbps and gbps >= DMA_BOUND * dma_peak_gbps
            share["dma" if fast or not dma_peak_gbps else "memory"] += p["dur"]
    share["control"] = max(job["dur"] - sum(share.values()), 0.0)
    total = max(job["dur"], 1e-12)
    frac = {k: v / total for k, v in share.items()}
    return max(frac, key=lambda k: (frac[k], k)), frac


def counters(stats):
    """The hardware performance counters' figures per unit, from the stats of the same run."""
    comps = stats.get("components", {})
    sim_ps = max(stats.get("simulated_ns", 0) * 1e3, 1e-9)
    out = {"engines": [], "dma": [], "dram": [], "rings": []}
    natural = lambda n: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", n)]  # noqa: E731
    for name in sorted(comps, key=natural):
        c = comps[name]
        if name.endswith((".mxu", ".vpu")) and "busy_cycles" in c:
            busy = c["busy_cycles"]
            out["engines"].append({"unit": name, "packets": c["packets"], "busy_cycles": busy,
                                   "work": c.get("macs", c.get("elements", 0)),
                                   "utilization": c["busy"]["total"] / sim_ps,
                                   "stall": c.get("stall_cycles", 0) / busy if busy else 0.0,
                                   "queue_wait_us": c.get("queue_wait_ps", 0) / 1e6})
        elif "read_wait_ps" in c and "bursts" in c:
            out["dma"].append({"unit": name, "commands": c["commands"], "bytes": c["bytes"],
                               "utilization": c["busy"]["total"] / sim_ps,
                               "gbps": c["bytes"] / (c["busy"]["total"] / 1e3) if c["busy"]["total"] else 0.0,
                               "read_wait_us": c["read_wait_ps"] / 1e6})
        elif "row_hits" in c and "refreshes" in c:
            acc = c["row_hits"] + c["row_misses"] + c["row_conflicts"]
            out["dram"].append({"unit": name, "reads": c["reads"], "writes": c["writes"],
                                "row_hit_rate": c["row_hits"] / acc if acc else 0.0, "refreshes": c["refreshes"]})
        elif "queue_depth_sum" in c:
            out["rings"].append({"unit": name, "jobs": c["jobs"], "packets": c["packets"],
                                 "mean_depth": c["queue_depth_sum"] / c["doorbells"] if c["doorbells"] else 0.0,
                                 "max_depth": c["queue_depth_max"]})
    return out


def dma_peak(stats):
    cfg = (stats or {}).get("config", {})
    v = cfg.get("dma", {}).get("bandwidth_gbps") if isinstance(cfg.get("dma"), dict) else cfg.get("dma.bandwidth_gbps")
    return float(v) if v else 0.0


def profile(events, top, stats=None):
    names = {}
    slices = []
    for ev in events:
        if ev.get("ph") == "M" and ev.get("name") == "thread_name":
            names[ev["tid"]] = ev["args"]["name"]
        elif ev.get("ph") == "X":
            slices.append(ev)
    if not slices:
        out = {"span_us": 0, "tracks": [], "top_packets": [], "top_jobs": [], "opcodes": [], "job_bounds": {}}
        if stats is not None:
            out["counters"] = counters(stats)
        return out
    t0 = min(s["ts"] for s in slices)
    t1 = max(s["ts"] + s["dur"] for s in slices)
    span = max(t1 - t0, 1e-9)
    per_track = defaultdict(list)
    for s in slices:
        per_track[s["tid"]].append(s)
    tracks = []
    for tid, ss in per_track.items():
        # A ring's track holds its jobs and, inside them, its packets: busy = the jobs'.
        kinds = [x for x in ss if x.get("cat") == "job"] or [x for x in ss if x.get("cat") != "packet"] or ss
        b = busy_union([(x["ts"], x["ts"] + x["dur"]) for x in kinds])
        tracks.append({"track": names.get(tid, str(tid)), "busy_us": b, "utilization": b / span,
                       "slices": len(ss)})
    tracks.sort(key=lambda t: (-t["busy_us"], t["track"]))
    packets = [s for s in slices if s.get("cat") == "packet"]
    packets.sort(key=lambda s: (-s["dur"], s["ts"]))
    top_packets = [{"name": p["name"], "track": names.get(p["tid"], str(p["tid"])), "start_us": p["ts"],
                    "dur_us": p["dur"], "args": p.get("args", {})} for p in packets[:top]]
    jobs = sorted((s for s in slices if s.get("cat") == "job"), key=lambda s: (-s["dur"], s["ts"]))
    peak = dma_peak(stats)
    bounds = defaultdict(int)
    top_jobs = []
    for i, j in enumerate(jobs):
        bound, frac = job_bound(j, packets, peak)
        bounds[bound] += 1
        if i < top:
            top_jobs.append({"name": j["name"], "track": names.get(j["tid"], str(j["tid"])), "start_us": j["ts"],
                             "dur_us": j["dur"], "args": j.get("args", {}), "bound": bound, "shares": frac})
    ops = defaultdict(lambda: [0, 0.0])
    for p in packets:
        ops[p["name"]][0] += 1
        ops[p["name"]][1] += p["dur"]
    opcodes = sorted(({"opcode": k, "count": v[0], "total_us": v[1], "mean_us": v[1] / v[0]} for k, v in ops.items()),
                     key=lambda o: -o["total_us"])
    out = {"span_us": span, "tracks": tracks, "top_packets": top_packets, "top_jobs": top_jobs, "opcodes": opcodes,
           "job_bounds": dict(sorted(bounds.items()))}
    if stats is not None:
        out["counters"] = counters(stats)
    return out


def brief(args):
    keep = ("offset", "bytes", "m", "n", "k", "op", "rows", "cols", "sem", "status", "cluster")
    return " ".join(f"{k}={args[k]}" for k in keep if k in args)


def main():
    ap = argparse.ArgumentParser(prog="accelvp profile", description=__doc__.split("\n\n")[0])
    ap.add_argument("trace", help="a trace written by 'accelvp run --trace FILE'")
    ap.add_argument("--top", type=int, default=10, help="packets and jobs to list (default 10)")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    ap.add_argument("--stats", help="the run's stats JSON ('accelvp run --stats S.json'): adds the hardware "
                                    "performance counters and the DMA peak that tells DMA- from memory-bound")
    a = ap.parse_args()
    if a.top < 1:
        ap.error("--top must be at least 1")
    stats = None
    if a.stats:
        try:
            with open(a.stats) as f:
                stats = json.load(f)
        except (OSError, ValueError) as e:
            sys.exit(f"accelvp profile: cannot read stats '{a.stats}': {e}")
    p = profile(load(a.trace), a.top, stats)
    if a.json:
        print(json.dumps(p, indent=2))
        return 0
    report(p)
    return 0


def report(p):
    print(f"trace span: {p['span_us']:.3f} us (first slice start .. last slice end)")
    print(f"\n{'track':<36} {'busy us':>12} {'util':>7} {'slices':>7}")
    for t in p["tracks"]:
        print(f"{t['track']:<36} {t['busy_us']:>12.3f} {100 * t['utilization']:>6.1f}% {t['slices']:>7}")
    print(f"\n{'opcode':<12} {'count':>7} {'total us':>12} {'mean us':>10}")
    for o in p["opcodes"]:
        print(f"{o['opcode']:<12} {o['count']:>7} {o['total_us']:>12.3f} {o['mean_us']:>10.3f}")
    print(f"\ntop {len(p['top_jobs'])} jobs by device time "
          f"(bound: compute / DMA / memory / control share of the job's time)")
    for j in p["top_jobs"]:
        f = j["shares"]
        print(f"  {j['dur_us']:>10.3f} us  {j['name']:<10} {j['track']:<24} at {j['start_us']:>11.3f} us  "
              f"{j['bound']:<8} {100 * f['compute']:.0f}/{100 * f['dma']:.0f}/{100 * f['memory']:.0f}/"
              f"{100 * f['control']:.0f} %")
    if p["job_bounds"]:
        print("jobs by bound: " + ", ".join(f"{k} {v}" for k, v in p["job_bounds"].items()))
    print(f"\ntop {len(p['top_packets'])} packets by device time")
    for k in p["top_packets"]:
        print(f"  {k['dur_us']:>10.3f} us  {k['name']:<10} {k['track']:<24} {brief(k['args'])}")
    c = p.get("counters")
    if not c:
        return
    print("\nhardware counters (BAR0 0xB000; utilization over the whole run)")
    if c["engines"]:
        print(f"{'engine':<36} {'packets':>8} {'busy cycles':>12} {'util':>7} {'stall':>6} {'MACs/elements':>14}"
              f" {'queue wait us':>14}")
        for e in c["engines"]:
            if e["packets"]:
                print(f"{e['unit']:<36} {e['packets']:>8} {e['busy_cycles']:>12} {100 * e['utilization']:>6.1f}% "
                      f"{100 * e['stall']:>5.1f}% {e['work']:>14} {e['queue_wait_us']:>14.3f}")
    if c["dma"]:
        print(f"{'DMA engine':<36} {'commands':>8} {'bytes':>12} {'util':>7} {'GB/s':>8} {'read wait us':>13}")
        for d in c["dma"]:
            print(f"{d['unit']:<36} {d['commands']:>8} {d['bytes']:>12} {100 * d['utilization']:>6.1f}% "
                  f"{d['gbps']:>8.2f} {d['read_wait_us']:>13.3f}")
    if c["dram"]:
        print(f"{'DRAM channel':<36} {'reads':>8} {'writes':>12} {'row hit':>8} {'refreshes':>10}")
        for d in c["dram"]:
            print(f"{d['unit']:<36} {d['reads']:>8} {d['writes']:>12} {100 * d['row_hit_rate']:>7.1f}% "
                  f"{d['refreshes']:>10}")
    if c["rings"]:
        print(f"{'ring':<36} {'jobs':>8} {'packets':>12} {'mean depth':>11} {'max depth':>10}")
        for r in c["rings"]:
            if r["jobs"] or r["packets"]:
                print(f"{r['unit']:<36} {r['jobs']:>8} {r['packets']:>12} {r['mean_depth']:>11.2f} "
                      f"{r['max_depth']:>10}")


if __name__ == "__main__":
    sys.exit(main())
