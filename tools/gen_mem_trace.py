#!/usr/bin/env python3
"""Generate a memory request trace for `accelvp memsim`.

One request per line: `<hex address> <READ|WRITE> <issue cycle>` (the format of the
public DRAM simulators' trace front ends). Patterns:

  sequential  consecutive bursts from --base
  random      uniformly random burst-aligned addresses in [--base, --base + --span)
  strided     every --stride bytes from --base (wrapping inside --span)
  copy        sequential copy: read burst i from --base, write it to --base + --span / 2
              (alternating READ and WRITE lines; --write-ratio is ignored)

--write-ratio makes that fraction of requests writes (deterministic for a --seed).
--interval spaces issue cycles (0: all at cycle 0, i.e. as fast as the memory accepts).

Example: tools/gen_mem_trace.py sequential -n 1000000 -o seq.trace
"""
import argparse
import random
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pattern", choices=["sequential", "random", "strided", "copy"])
    ap.add_argument("-n", "--requests", type=int, default=100000, help="number of requests")
    ap.add_argument("-o", "--output", default="-", help="output file (default stdout)")
    ap.add_argument("--burst", type=int, default=32, help="request size = device burst in bytes (32 for the presets)")
    ap.add_argument("--base", type=lambda s: int(s, 0), default=0, help="first address")
    ap.add_argument("--span", type=lambda s: int(s, 0), default=1 << 30, help="address range for random/strided")
    ap.add_argument("--stride", type=lambda s: int(s, 0), default=4096, help="stride in bytes (strided)")
    ap.add_argument("--write-ratio", type=float, default=0.0, help="fraction of writes, 0..1")
    ap.add_argument("--interval", type=int, default=0, help="cycles between issue times")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.burst <= 0 or a.burst & (a.burst - 1):
        ap.error("--burst must be a power of two")
    if a.span < a.burst:
        ap.error("--span must hold at least one burst")
    if not 0.0 <= a.write_ratio <= 1.0:
        ap.error("--write-ratio must be within 0..1")

    rng = random.Random(a.seed)
    bursts = a.span // a.burst
    out = sys.stdout if a.output == "-" else open(a.output, "w")
    lines = []
    for i in range(a.requests):
        if a.pattern == "copy":
            addr = a.base + (i // 2) * a.burst + (a.span // 2 if i % 2 else 0)
            lines.append(f"0x{addr:x} {'WRITE' if i % 2 else 'READ'} {i * a.interval}\n")
            if len(lines) >= 65536:
                out.write("".join(lines))
                lines.clear()
            continue
        if a.pattern == "sequential":
            addr = a.base + i * a.burst
        elif a.pattern == "random":
            addr = a.base + rng.randrange(bursts) * a.burst
        else:
            addr = a.base + (i * a.stride) % (bursts * a.burst)
            addr -= addr % a.burst
        op = "WRITE" if a.write_ratio and rng.random() < a.write_ratio else "READ"
        lines.append(f"0x{addr:x} {op} {i * a.interval}\n")
        if len(lines) >= 65536:
            out.write("".join(lines))
            lines.clear()
    out.write("".join(lines))
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
