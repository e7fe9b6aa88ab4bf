#!/usr/bin/env python3
"""End-to-end tests of `accelvp memsim` on traces made by tools/gen_mem_trace.py:
sequential reads reach >= 85 % of peak, random reads are clearly lower, bad trace lines
are usage errors naming the line, and the chip runs a verified copy on the DRAM model.
Usage: test_memsim.py path/to/accelvp"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, runner, test  # noqa: E402

ACCELVP = sys.argv[1]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GEN = os.path.join(ROOT, "tools", "gen_mem_trace.py")
TMP = tempfile.mkdtemp(prefix="accelvp-memsim-")


run = runner(ACCELVP, timeout=300)


def trace(name, *args):
    path = os.path.join(TMP, name)
    subprocess.run([sys.executable, GEN, *args, "-o", path], check=True)
    return path


def memsim(path, *args):
    stats = os.path.join(TMP, "s.json")
    run("memsim", "-q", "--trace", path, "--stats", stats, *args)
    with open(stats) as f:
        return json.load(f)




@test
def sequential_reads_reach_85_percent_of_peak_and_random_is_lower():
    for config in ("training", "edge"):
        seq = memsim(trace("seq.trace", "sequential", "-n", "200000"), "-c", config)["summary"]
        rnd = memsim(trace("rnd.trace", "random", "-n", "50000", "--span", "0x100000000"), "-c", config)["summary"]
        assert seq["requests"] == 200000 and rnd["requests"] == 50000
        assert abs(seq["bandwidth_gbps"] / seq["peak_gbps"] - seq["efficiency"]) < 1e-9
        assert seq["efficiency"] >= 0.85, f"{config}: sequential efficiency {seq['efficiency']}"
        assert rnd["efficiency"] < 0.5 * seq["efficiency"], f"{config}: random {rnd['efficiency']}"
        assert rnd["avg_read_latency_ns"] > seq["avg_read_latency_ns"] or config == "edge"
        assert seq["row_hit_rate"] > 0.9 and rnd["row_hit_rate"] < 0.1
        assert seq["requests_per_wall_s"] > 0


@test
def writes_and_strides_run_and_results_repeat():
    path = trace("mix.trace", "strided", "-n", "20000", "--stride", "4096", "--write-ratio", "0.5")
    a = memsim(path, "-c", "training")
    b = memsim(path, "-c", "training")
    assert a["summary"]["writes"] > 0
    for k in ("bandwidth_gbps", "avg_read_latency_ns", "cycles"):
        assert a["summary"][k] == b["summary"][k], k
    assert any(".ch" in k for k in a["components"])
    assert a["config"]["mem.standard"] == "HBM2E"


def model_results(stats):
    """The stats without the host-dependent parts (host, wall time, speed)."""
    s = dict(stats)
    for k in ("host", "wall_s"):
        s.pop(k, None)
    s["summary"] = {k: v for k, v in s["summary"].items() if k != "requests_per_wall_s"}
    return s


@test
def channel_threads_do_not_change_results():
    # 300 000 random 50/50 requests spaced 3 cycles: more than nine 32 768-burst blocks, so
    # workers feed one block while the next is read; every thread count, more threads than
    # the 11 channels of inference too, gives the same stats to the last bit.
    path = trace("thr.trace", "random", "-n", "300000", "--span", "0x80000000", "--write-ratio", "0.5",
                 "--interval", "3")
    ref = model_results(memsim(path, "-c", "inference", "--threads", "1"))
    assert ref["summary"]["writes"] > 100000 and ref["summary"]["reads"] > 100000
    for n in ("2", "3", "64", "0"):
        got = model_results(memsim(path, "-c", "inference", "--threads", n))
        assert got == ref, f"--threads {n}: " + str(
            [k for k in ref["summary"] if ref["summary"][k] != got["summary"].get(k)] or "components differ")
    # A bad line in a later block, read while the workers simulate the earlier one: the same
    # usage error naming the line (the workers are joined, nothing is left running).
    bad = os.path.join(TMP, "late.trace")
    with open(path) as f, open(bad, "w") as g:
        for i, line in enumerate(f):
            if i == 200000:
                g.write("0x40 FETCH 1\n")
            g.write(line)
    for n in ("1", "2"):
        p = run("memsim", "--trace", bad, "-c", "inference", "--threads", n, expect=2)
        assert "late.trace:200001" in p.stderr and "READ or WRITE" in p.stderr, p.stderr
    p = run("memsim", "--trace", path, "--threads", "300", expect=2)
    assert "--threads" in p.stderr and "0 to 256" in p.stderr, p.stderr


@test
def bad_trace_lines_name_the_line():
    path = os.path.join(TMP, "bad.trace")
    with open(path, "w") as f:
        f.write("# header\n0x40 READ 0\n0x80 FETCH 1\n")
    p = run("memsim", "--trace", path, expect=2)
    assert "bad.trace:3" in p.stderr and "READ or WRITE" in p.stderr, p.stderr
    with open(path, "w") as f:
        f.write("0x40 READ 0\nzz READ 1\n")
    assert "bad.trace:2" in run("memsim", "--trace", path, expect=2).stderr
    with open(path, "w") as f:
        f.write("0xffffffffffff READ 0\n")
    assert "beyond mem.size" in run("memsim", "--trace", path, expect=2).stderr
    assert "cannot read" in run("memsim", "--trace", os.path.join(TMP, "none"), expect=2).stderr
    run("memsim", "--trace", path, "-p", "mem.standard=DDR9", expect=2)
    # A line longer than the 4 MiB read buffer is refused, not buffered without bound.
    with open(path, "w") as f:
        f.write("0x40 READ 0\n0x80 READ 1" + " " * (5 << 20) + "\n")
    p = run("memsim", "--trace", path, expect=2)
    assert "bad.trace:2: line longer than 4194304 bytes" in p.stderr, p.stderr


# The 8-channel HBM2 of issue 20 (DRAMSim3's HBM2_8Gb_x128 timing, tCK 1 ns, 128-bit
# channels, BL4 = 64 B bursts, 4 x 4 banks, ro-bg-ba-ch-co), refresh off.
HBM2_REF = [f"-p{kv}" for kv in (
    "mem.stacks=1", "mem.size=8GiB", "mem.dram.tCK_ps=1000", "mem.pseudo_channels=1", "mem.width_bits=128", "mem.row_bytes=1024", "mem.channels=8",
    "mem.dram.BL=4", "mem.dram.tRCD=14", "mem.dram.tRP=14", "mem.dram.tCL=14", "mem.dram.tWL=4", "mem.dram.tRAS=34",
    "mem.dram.tRC=48", "mem.dram.tCCD_S=1", "mem.dram.tCCD_L=2", "mem.dram.tRRD_S=4", "mem.dram.tRRD_L=6",
    "mem.dram.tFAW=30", "mem.dram.tWTR_S=6", "mem.dram.tWTR_L=8", "mem.dram.tRTP=4", "mem.dram.tWR=16",
    "mem.dram.tRTW=14", "mem.dram.refresh=none", "mem.dram.mapping=ro-bg-ba-ch-co")]


def lines(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


@test
def a_read_does_not_wait_for_a_row_hit_that_arrives_later():
    # Issue 20 item 1: same bank, rows 0, 2, 0. Latencies 30, 68 and 44 ns (ACT-RD-data;
    # PRE at tRAS, ACT, RD; PRE at its arrival, ACT, RD), not 1039 ns for the second.
    s = memsim(lines("causal1.trace", "0x0 READ 0\n0x40000 READ 10\n0x40 READ 1000\n"), *HBM2_REF)["summary"]
    assert s["reads"] == 3
    assert abs(s["avg_read_latency_ns"] - (30 + 68 + 44) / 3) < 1e-9, s


@test
def future_writes_do_not_start_a_write_drain():
    # Issue 20 item 1: two reads (two channels) at 0 and 10, then 32 writes at 5000: both
    # reads take 30 ns (ACT, RD after tRCD, CL, 2-cycle burst), not ~5100.
    text = "0x0 READ 0\n0x400 READ 10\n" + "".join(f"0x{i * 0x40000:x} WRITE 5000\n" for i in range(32))
    s = memsim(lines("causal2.trace", text), *HBM2_REF)["summary"]
    assert s["reads"] == 2 and s["writes"] == 32
    assert s["avg_read_latency_ns"] == 30.0, s


@test
def empty_traces_directories_and_huge_cycles_are_usage_errors():
    p = run("memsim", "--trace", lines("empty.trace", ""), expect=2)
    assert "empty.trace' holds no requests" in p.stderr, p.stderr
    p = run("memsim", "--trace", lines("comments.trace", "# only a comment\n\n"), expect=2)
    assert "holds no requests" in p.stderr, p.stderr
    p = run("memsim", "--trace", TMP, expect=2)
    assert "is a directory; --trace takes a file" in p.stderr, p.stderr
    p = run("memsim", "--trace", lines("huge.trace", "0x0 READ 0\n0x40 READ 9223372036854775807\n"), expect=2)
    assert "huge.trace:2: cycle 9223372036854775807 is beyond the largest accepted cycle 281474976710656" in p.stderr
    # The largest accepted cycle still gives exact times.
    s = memsim(lines("edge.trace", f"0x0 READ {1 << 48}\n"), *HBM2_REF)["summary"]
    assert s["avg_read_latency_ns"] == 30.0, s


@test
def a_full_channel_does_not_stall_the_others_unless_the_front_end_is_in_order():
    # 40 row conflicts in one bank of channel 0 (one per 48 cycles, the last data at 1902),
    # then 2000 hits to one row of channel 1 (RD every tCCD_L = 2: ACT 0, RD 14 + 2k, the
    # last data at 4028). Per-channel front ends: channel 1 starts at once, 4028 cycles.
    # In order, one request per cycle: channel 0's 32-entry queue is full at request 32;
    # requests 33..39 wait for its reads (RD 62, 110, ..., 350), so channel 1 starts at 351:
    # RD at 365 + 2k, the last data at 4379. Four per cycle: channel 1 starts at 350, 4378.
    text = "".join(f"0x{k * 0x20000:x} READ 0\n" for k in range(40)) + "0x400 READ 0\n" * 2000
    path = lines("stall.trace", text)
    assert memsim(path, *HBM2_REF)["summary"]["cycles"] == 4028
    assert memsim(path, *HBM2_REF, "--issue-width", "1")["summary"]["cycles"] == 4379
    assert memsim(path, *HBM2_REF, "--issue-width", "4")["summary"]["cycles"] == 4378


@test
def a_read_after_a_queued_write_is_forwarded():
    # The write waits in the write queue (below the drain watermark); the read of the same
    # burst is answered from it one cycle after its arrival.
    st = memsim(lines("raw.trace", "0x0 WRITE 0\n0x0 READ 5\n"), *HBM2_REF)
    assert st["summary"]["avg_read_latency_ns"] == 1.0, st["summary"]
    assert st["components"]["memsim.mem.ch0"]["reads_forwarded"] == 1


@test
def standards_are_data_and_follow_the_clock():
    one = lines("one.trace", "0x0 READ 0\n")
    # HBM2E at tCK 1 ns: the ns timings convert (tRCD 14, tCL 14, 2-cycle burst: 30 ns),
    # and per-bank refresh stays possible (tRFCpb 160 < tREFI / 16 = 243).
    s = memsim(one, "-p", "mem.standard=HBM2E", "-p", "mem.dram.tCK_ps=1000", "-p", "mem.dram.refresh=per_bank",
               "-p", "mem.stacks=1")["summary"]
    assert s["avg_read_latency_ns"] == 30.0, s
    for std, peak in (("HBM2", 256.0), ("GDDR6", 512.0)):
        s = memsim(one, "-p", f"mem.standard={std}", "-p", "mem.stacks=1", "-p", "mem.size=1GiB")["summary"]
        assert abs(s["peak_gbps"] - peak) < 1e-6, (std, s)
    p = run("memsim", "--trace", one, "-p", "mem.standard=DDR4", "-p", "mem.stacks=1", "-p", "mem.size=1GiB",
            "-p", "mem.dram.refresh=per_bank", expect=2)
    assert "mem.dram.refresh = per_bank: DDR4 has no per-bank refresh" in p.stderr, p.stderr


@test
def request_bytes_split_and_merge():
    # 64-byte requests on 32-byte-burst HBM2E: two bursts each.
    s = memsim(lines("rb.trace", "0x0 READ 0\n0x40 READ 0\n"), "--request-bytes", "64")["summary"]
    assert s["requests"] == 2 and s["bursts"] == 4 and s["bytes"] == 128, s
    # 32-byte requests on 64-byte-burst HBM2: two halves of one burst merge.
    s = memsim(lines("rb2.trace", "0x0 READ 0\n0x20 READ 0\n0x40 READ 0\n"), *HBM2_REF, "--request-bytes", "32")
    assert s["summary"]["requests"] == 3 and s["summary"]["bursts"] == 2 and s["summary"]["bytes"] == 128, s
    assert "not a power of two" in run("memsim", "--trace", lines("rb3.trace", "0x0 READ 0\n"),
                                       "--request-bytes", "48", expect=2).stderr


@test
def chip_copies_verified_on_the_dram_model():
    for d in ("h2d", "d2d"):
        p = run("run", "-c", "edge", "-p", "mem.model=dram", "-p", f"workload.direction={d}",
                "-p", "workload.bytes=1MiB")
        assert "verified: yes, bit-exact" in p.stdout, p.stdout


finish()
