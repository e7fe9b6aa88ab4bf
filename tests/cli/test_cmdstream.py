#!/usr/bin/env python3
"""accelvp run -w cmdstream (command-stream files with buffers, jobs and expectations) and
accelvp run --capture / accelvp replay, end to end. Usage: test_cmdstream.py path/to/accelvp"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, runner, test  # noqa: E402

ACCELVP = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="accelvp-cmdstream-")
run = runner(ACCELVP, timeout=120)


def write(name, text):
    p = os.path.join(TMP, name)
    with open(p, "w") as f:
        f.write(text)
    return p


def stats(path):
    with open(path) as f:
        return json.load(f)


PROG = """# h2d, a fill next to it, then (after the first job) d2h on another ring, and a fence
.buffer src 8KiB host init=pattern:7
.buffer dev 8KiB
.buffer out 8KiB host
.buffer fb 8 host
dma src=@src dst=@dev width=4096
dma dst=@dev+4096 width=100 height=4 dst_stride=1024 pattern=0xa1b2c3d4 fill
.wait
.job queue=1
dma src=@dev dst=@out width=8192
fence addr=@fb value=0x1234
.expect out 4096 copy:src
.expect out+4096 100 u32:0xa1b2c3d4
.expect out+4196 924 zero
.expect fb 8 u64:0x1234
"""


@test
def file_runs_and_its_expectations_are_checked_bit_exact():
    s = os.path.join(TMP, "s.json")
    p = run("run", "-w", "cmdstream", "-p", "workload.file=" + write("p.s", PROG), "--stats", s)
    check("verified: yes, bit-exact" in p.stdout, p.stdout)
    st = stats(s)
    check(st["workload"]["verified"] is True, st["workload"])
    jl = st["summary"]["job_list"]
    check([j["queue"] for j in jl] == [0, 1] and [j["packets"] for j in jl] == [2, 2], jl)
    check(jl[1]["line"] == 9, jl)
    # .wait: the second job starts after the first has ended
    check(jl[1]["start_ns"] >= jl[0]["end_ns"], jl)
    check(st["summary"]["device_ns"] == jl[1]["end_ns"] - jl[0]["start_ns"], st["summary"])


@test
def timing_mode_has_the_same_cycles_and_checks_nothing():
    f = write("p.s", PROG)
    a = json.loads(run("run", "-w", "cmdstream", "-p", "workload.file=" + f, "--json").stdout)
    b = json.loads(run("run", "-w", "cmdstream", "-p", "workload.file=" + f, "--json", "--mode", "timing").stdout)
    check(a["summary"]["cycles"] == b["summary"]["cycles"] > 0, (a["summary"], b["summary"]))
    check(b["workload"]["verified"] is None, b["workload"])


@test
def a_wrong_expectation_fails_with_its_line():
    f = write("bad-expect.s", PROG.replace("u32:0xa1b2c3d4", "u32:0xa1b2c3d5"))
    p = run("run", "-w", "cmdstream", "-p", "workload.file=" + f, expect=1)
    check(f"{f}:13: .expect failed: out+0x1000 is 0xd4, expected 0xd5" in p.stderr, p.stderr)


@test
def syntax_errors_are_all_reported_with_line_numbers_exit_2():
    f = write("bad.s", ".buffer a 4K\n.buffer a 8\ndmx src=1\ndma src=@b dst=@a width=0\n"
                       ".expect a+8K 4 zero\n.job queue=99\n.buffer c 4K init=copy:d\n.frob\n")
    p = run("run", "-w", "cmdstream", "-p", "workload.file=" + f, expect=2)
    want = [f"{f}:2: .buffer: 'a' declared twice",
            f"{f}:3: unknown packet 'dmx'",
            f"{f}:4: unknown buffer '@b'; declared: a, c",
            f"{f}:4: dma: width=0 is out of range",
            f"{f}:5: .expect: [0x2000, +0x4) is outside buffer 'a' (4096 bytes)",
            f"{f}:6: .job: queue=99 is out of range [0, 15]",
            f"{f}:7: .buffer c init: unknown buffer 'd'; declared: a, c",
            f"{f}:8: unknown directive '.frob'"]
    for w in want:
        check(w in p.stderr, f"missing {w!r} in {p.stderr}")
    check("has 8 error(s)" in p.stderr, p.stderr)
    p = run("run", "-w", "cmdstream", expect=2)
    check("workload.file is empty" in p.stderr, p.stderr)
    p = run("run", "-w", "cmdstream", "-p", "workload.file=" + os.path.join(TMP, "none.s"), expect=2)
    check("cannot read the file: No such file or directory" in p.stderr, p.stderr)


@test
def a_device_error_names_the_packet_line():
    f = write("dev.s", "nop size=3\nsem_signal sem=1 value=1\n.raw 0x000000000002000d 0   # opcode 0x0D\nnop\n")
    p = run("run", "-w", "cmdstream", "-p", "workload.file=" + f, expect=1)
    check(f"job 0 (queue 0) failed at packet +0x28 ({f}:3): BAD_OPCODE" in p.stderr, p.stderr)


def replay_rows(out):
    rows = []
    for line in out.splitlines():
        t = line.split()
        if len(t) == 5 and t[0].isdigit():
            rows.append((int(t[0]), int(t[1]), int(t[2]), int(t[3]), t[4]))
    return rows


@test
def capture_and_replay_reproduce_each_jobs_device_time_and_data():
    cap = os.path.join(TMP, "cap.s")
    s = os.path.join(TMP, "cap.json")
    run("run", "-w", "dma-copy", "-p", "workload.bytes=64KiB", "-p", "workload.queues=2", "--capture", cap,
        "--stats", s, "-q")
    orig = stats(s)
    text = open(cap).read()
    check(text.splitlines()[2] == ".capture version=1 workload=dma-copy", text[:300])
    check(".buffer b0 65536 host" in text and ".buffer b1 65536 device" in text, text[:600])
    check("dma src=@b0 dst=@b1 width=32768" in text and "dma src=@b0+0x8000 dst=@b1+0x8000 width=32768" in text,
          text[-1500:])
    check(text.count(".expect b") == 2 and text.count(".captured job=") == 2, text[-800:])
    check(orig["capture"]["jobs"] == 2, orig["capture"])
    rs = os.path.join(TMP, "replay.json")
    p = run("replay", cap, "--stats", rs)
    check("verified: yes, bit-exact" in p.stdout, p.stdout)
    rows = replay_rows(p.stdout)
    check(len(rows) == 2 and all(r[2] == r[3] and r[4] == "+0.00%" for r in rows), p.stdout)
    r = stats(rs)["replay"]
    check(r["change"] == 0.0 and r["captured_device_ns"] == orig["summary"]["device_ns"], r)
    # Another configuration: the same jobs, other timing, the same data.
    p = run("replay", cap, "-c", "training")
    check("verified: yes, bit-exact" in p.stdout and "now: training" in p.stdout, p.stdout)
    rows = replay_rows(p.stdout)
    check(len(rows) == 2 and all(r[3] < r[2] for r in rows), p.stdout)


@test
def a_gemm_capture_replays_job_for_job_in_timing_mode_too():
    cap = os.path.join(TMP, "gemm.s")
    run("run", "-w", "gemm", "--capture", cap, "-q")
    p = run("replay", cap)
    rows = replay_rows(p.stdout)
    check(len(rows) >= 3 and all(r[2] == r[3] for r in rows), p.stdout)
    check("verified: yes, bit-exact" in p.stdout, p.stdout)
    capt = os.path.join(TMP, "gemm-t.s")
    run("run", "-w", "gemm", "--mode", "timing", "--capture", capt, "-q")
    text = open(capt).read()
    check(".data" not in text and ".expect" not in text and ".override sim.mode=timing" in text, text[:800])
    p = run("replay", capt)
    check(replay_rows(p.stdout) == rows, (p.stdout, rows))


@test
def replay_refuses_what_is_not_a_capture():
    p = run("replay", write("p2.s", PROG), expect=2)
    check("is not a capture (it has no .capture line)" in p.stderr, p.stderr)
    p = run("replay", write("v9.s", ".capture version=9\nnop\n"), expect=2)
    check("version 9 is not supported (this accelvp reads 1 .. 1)" in p.stderr, p.stderr)
    p = run("run", "-w", "collective", "-c", "training", "-p", "system.chips=2", "--capture",
            os.path.join(TMP, "c.s"), expect=2)
    check("--capture is not available for a multi-chip workload" in p.stderr, p.stderr)


finish()
