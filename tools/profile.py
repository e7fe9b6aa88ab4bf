#!/usr/bin/env python3
"""accelvp profile: an nsys/rocprof-style summary of a run's Chrome/Perfetto trace
(`accelvp run --trace T.json`), docs/profiling.md.

  accelvp profile T.json [--top N] [--json]

Prints, from the trace's complete slices:
  - per track (each ring, DMA engine, compute engine, PCIe direction, collective engine): busy
    time (the union of its slices), utilization over the traced span, slices;
  - the top N packets by device time (ring slices of category "packet": opcode, ring, command
    buffer offset and the packet's fields) and the top N jobs;
  - per opcode: count, total and mean time.
--json prints the same as one JSON document. Exit 2 when the file is not a trace."""
import argparse
import json
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


def profile(events, top):
    names = {}
    slices = []
    for ev in events:
        if ev.get("ph") == "M" and ev.get("name") == "thread_name":
            names[ev["tid"]] = ev["args"]["name"]
        elif ev.get("ph") == "X":
            slices.append(ev)
    if not slices:
        return {"span_us": 0, "tracks": [], "top_packets": [], "top_jobs": [], "opcodes": []}
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
    top_jobs = [{"name": j["name"], "track": names.get(j["tid"], str(j["tid"])), "start_us": j["ts"],
                 "dur_us": j["dur"], "args": j.get("args", {})} for j in jobs[:top]]
    ops = defaultdict(lambda: [0, 0.0])
    for p in packets:
        ops[p["name"]][0] += 1
        ops[p["name"]][1] += p["dur"]
    opcodes = sorted(({"opcode": k, "count": v[0], "total_us": v[1], "mean_us": v[1] / v[0]} for k, v in ops.items()),
                     key=lambda o: -o["total_us"])
    return {"span_us": span, "tracks": tracks, "top_packets": top_packets, "top_jobs": top_jobs, "opcodes": opcodes}


def brief(args):
    keep = ("offset", "bytes", "m", "n", "k", "op", "rows", "cols", "sem", "status", "cluster")
    return " ".join(f"{k}={args[k]}" for k in keep if k in args)


def main():
    ap = argparse.ArgumentParser(prog="accelvp profile", description=__doc__.split("\n\n")[0])
    ap.add_argument("trace", help="a trace written by 'accelvp run --trace FILE'")
    ap.add_argument("--top", type=int, default=10, help="packets and jobs to list (default 10)")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    a = ap.parse_args()
    if a.top < 1:
        ap.error("--top must be at least 1")
    p = profile(load(a.trace), a.top)
    if a.json:
        print(json.dumps(p, indent=2))
        return 0
    print(f"trace span: {p['span_us']:.3f} us (first slice start .. last slice end)")
    print(f"\n{'track':<36} {'busy us':>12} {'util':>7} {'slices':>7}")
    for t in p["tracks"]:
        print(f"{t['track']:<36} {t['busy_us']:>12.3f} {100 * t['utilization']:>6.1f}% {t['slices']:>7}")
    print(f"\n{'opcode':<12} {'count':>7} {'total us':>12} {'mean us':>10}")
    for o in p["opcodes"]:
        print(f"{o['opcode']:<12} {o['count']:>7} {o['total_us']:>12.3f} {o['mean_us']:>10.3f}")
    print(f"\ntop {len(p['top_jobs'])} jobs by device time")
    for j in p["top_jobs"]:
        print(f"  {j['dur_us']:>10.3f} us  {j['name']:<10} {j['track']:<24} at {j['start_us']:.3f} us")
    print(f"\ntop {len(p['top_packets'])} packets by device time")
    for k in p["top_packets"]:
        print(f"  {k['dur_us']:>10.3f} us  {k['name']:<10} {k['track']:<24} {brief(k['args'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
