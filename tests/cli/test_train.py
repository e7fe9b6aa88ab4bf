#!/usr/bin/env python3
"""`accelvp run -w train-step`: the data-parallel training step on a multi-chip system.
A functional 4-chip step whose all-reduced weight gradients are verified bit-exact against the
host's sum; timing runs of a GEMM stack checked against the analytic relations of an
overlapped step (step >= max(compute, comm), step = compute + exposed, comm >= its
alpha-beta bound, exposed <= comm), bucketing (one bucket exposes all of its all-reduce,
per-layer buckets hide part of it), scaling from 1 to 8 chips, determinism, and config errors.
Usage: test_train.py path/to/accelvp"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, runner, test  # noqa: E402

ACCELVP = sys.argv[1]
BASE = ["run", "-w", "train-step", "-c", "training"]
STACK = ["workload.depth=6", "workload.hidden=512", "workload.rows=2048"]

run = runner(ACCELVP, timeout=300)


def step(*params, mode="timing"):
    args = [*BASE, "--json", "--mode", mode]
    for p in params:
        args += ["-p", p]
    return json.loads(run(*args).stdout)


@test
def list_and_config_show_the_workload():
    check("train-step" in run("list").stdout, "accelvp list lacks train-step")
    keys = run("config", "-w", "train-step", "--help-params").stdout
    for key in ("workload.layers", "workload.bucket_mb", "workload.compute_chips", "workload.algorithm",
                "system.chips", "link.class"):
        check(key in keys, f"config -w train-step --help-params lacks {key}")


@test
def functional_4_chips_reduced_gradients_are_verified():
    st = step("system.chips=4", "workload.depth=3", "workload.hidden=48", "workload.rows=40",
              "workload.bucket_mb=0.01", mode="functional")
    check(st["workload"]["verified"] is True, st["workload"])
    s = st["summary"]
    check(s["compute_chips"] == 4 and s["chips"] == 4, s)
    # 3 weights of 48 x 48 fp32 gradients; each checked on every chip.
    check(s["gradient_bytes"] == 3 * 48 * 48 * 4, s)
    check(s["gradients_verified"] == 4 * 3 * 48 * 48, s)
    check(s["buckets"] == 2, s)  # 9216 B per layer, buckets of 10000 B: fc2+fc1, fc0


@test
def functional_3_chips_conv_layer_list_is_verified():
    # Convolutions as implicit GEMMs (the filters are the trained A operand), 3 chips (not a power of 2).
    net = os.path.join(tempfile.mkdtemp(prefix="accelvp-train-"), "cnn.yaml")
    with open(net, "w") as f:
        f.write("inputs:\n  - {name: x, shape: [1, 3, 16, 16]}\nlayers:\n"
                "  - {name: conv1, op: conv, filters: 8, kernel: 3, stride: 2, pad: 1}\n"
                "  - {name: relu1, op: relu}\n"
                "  - {name: conv2, op: conv, filters: 8, kernel: 1}\n"
                "  - {name: gap, op: global_avgpool}\n"
                "  - {name: flat, op: reshape, shape: [1, -1]}\n"
                "  - {name: fc, op: matmul, n: 10}\n")
    st = step("system.chips=3", f"workload.layers={net}", "workload.batch=2", "workload.bucket_mb=0", mode="functional")
    check(st["workload"]["verified"] is True, st["workload"])
    s = st["summary"]
    check(s["gemm_layers"] == 3 and s["weights"] == 8 * 27 + 8 * 8 + 8 * 10, s)
    check(s["gradients_verified"] == 3 * s["weights"] and s["buckets"] == 3, s)
    # conv1: 8 filters x 27 taps over 2 images x 8 x 8 outputs.
    check(s["layers"][0]["shape"] == "8x27x128" and s["layers"][0]["op"] == "conv", s["layers"][0])


@test
def one_chip_has_no_communication():
    s = step("system.chips=1", *STACK)["summary"]
    check(s["comm_us"] == 0 and s["exposed_comm_us"] == 0 and s["buckets"] == 0, s)
    check(abs(s["step_us"] - s["compute_us"]) < 1e-9, s)
    # 6 layers: forward 2 M K N each, backward twice that, less the first layer's input gradient.
    f = 2 * 2048 * 512 * 512
    check(s["flops_per_chip"] == 6 * f + 6 * f + 5 * f, s)
    check(len(s["layers"]) == 6 and all(l["flops"] > 0 for l in s["layers"]), s["layers"])


def relations(s):
    eps = 1e-6
    check(s["step_us"] >= max(s["compute_us"], s["comm_us"]) - eps, f"step below max(compute, comm): {s}")
    check(abs(s["step_us"] - s["compute_us"] - s["exposed_comm_us"]) < 1e-3, s)
    check(s["exposed_comm_us"] <= s["comm_us"] + 2.0, f"more exposed than communicated: {s}")
    check(s["comm_us"] >= s["comm_bound_us"] * (1 - 1e-9), f"all-reduce faster than its alpha-beta bound: {s}")
    check(s["comm_us"] <= s["comm_bound_us"] * 1.5, f"all-reduce far above its bound: {s}")
    rows = s["bucket_table"]
    check(len(rows) == s["buckets"], rows)
    # One collective ring per chip: in order (a bucket's span runs from the first chip's start to
    # the last chip's end, so the next may start on an early chip before the last one ends).
    for a, b in zip(rows, rows[1:]):
        check(b["start_us"] >= a["start_us"] and b["end_us"] > a["end_us"], rows)
    for r in rows:
        check(r["start_us"] >= r["ready_us"] - eps and r["end_us"] > r["start_us"], rows)


@test
def overlapped_step_obeys_the_bounds_and_buckets_matter():
    per_layer = step("system.chips=8", "workload.bucket_mb=0", *STACK)["summary"]
    one = step("system.chips=8", "workload.bucket_mb=1000", *STACK)["summary"]
    relations(per_layer)
    relations(one)
    check(per_layer["buckets"] == 6 and one["buckets"] == 1, (per_layer["buckets"], one["buckets"]))
    # One bucket starts after the last weight gradient: its whole all-reduce is exposed.
    check(one["exposed_comm_us"] >= 0.99 * one["comm_us"], one)
    # Per-layer all-reduces overlap the backward GEMMs of the earlier layers.
    check(per_layer["overlap"] > 0.3 and per_layer["exposed_comm_us"] < 0.8 * one["exposed_comm_us"],
          (per_layer, one))


@test
def scaling_from_1_to_8_chips():
    s = {c: step(f"system.chips={c}", "workload.bucket_mb=0", *STACK)["summary"] for c in (1, 2, 8)}
    for c in (2, 8):
        relations(s[c])
        # Data parallel: each chip's compute is the same work; the all-reduce's link bytes grow as 2(n-1)/n.
        check(s[1]["compute_us"] * 0.999 <= s[c]["compute_us"] <= s[1]["compute_us"] * 1.15, (s[1], s[c]))
    check(s[8]["comm_bound_us"] > s[2]["comm_bound_us"] and s[8]["comm_us"] > s[2]["comm_us"], (s[2], s[8]))
    check(s[1]["step_us"] < s[2]["step_us"] < s[8]["step_us"], [s[c]["step_us"] for c in s])
    check(s[1]["system_tflops"] < s[2]["system_tflops"] < s[8]["system_tflops"],
          [s[c]["system_tflops"] for c in s])


@test
def deterministic():
    a = step("system.chips=4", *STACK)["summary"]
    b = step("system.chips=4", *STACK)["summary"]
    check(a["step_us"] == b["step_us"] and a["bucket_table"] == b["bucket_table"], (a, b))


@test
def bert_base_layer_list_gives_its_gemms():
    here = os.path.dirname(os.path.abspath(__file__))
    bert = os.path.join(here, "..", "..", "benchmarks", "models", "bert-base.yaml")
    s = step("system.chips=2", f"workload.layers={bert}")["summary"]
    relations(s)
    # 12 layers x (q, k, v, scores, context, out, ffn.up, ffn.down); weights of the 6 projections.
    check(s["gemm_layers"] == 96, s)
    check(s["weights"] == 12 * (4 * 768 * 768 + 2 * 768 * 3072), s)
    check(s["gradient_bytes"] == 4 * s["weights"], s)


@test
def roofline_plot_of_a_run_uses_its_config():
    tmp = tempfile.mkdtemp(prefix="accelvp-train-")
    stats, png = os.path.join(tmp, "s.json"), os.path.join(tmp, "roof.png")
    run(*BASE, "--mode", "timing", "-p", "system.chips=2", "-p", "compute.clusters=4", "-p", "mem.bandwidth_gbps=1000",
        *[a for p in STACK for a in ("-p", p)], "--stats", stats)
    p = run("plot", stats, "--kind", "roofline", "-o", png)
    with open(png, "rb") as f:
        check(f.read(8) == b"\x89PNG\r\n\x1a\n", "not a PNG")
    with open(stats) as f:
        c = json.load(f)["config"]
    peak = 2 * c["compute.array_rows"] * c["compute.array_cols"] * c["compute.freq_mhz"] * 1e6 * 4 / 1e12
    want = f"roofs from the run's config: {peak:.1f} TFLOPS, 1000 GB/s"
    check(want in p.stderr and "6 layers" in p.stderr, f"plot does not report {want!r}:\n{p.stderr}")
    # The training preset's own roofs differ: 8 clusters, 2450 GB/s.
    run(*BASE, "--mode", "timing", "-p", "system.chips=1", *[a for p in STACK for a in ("-p", p)], "--stats", stats)
    p = run("plot", stats, "--kind", "roofline", "-o", png)
    check(f"{2 * peak:.1f} TFLOPS, 2450 GB/s" in p.stderr, p.stderr)
    # A run without per-layer records: a usage error naming what is needed.
    run("run", "-w", "collective", "-c", "training", "-p", "system.chips=2", "--mode", "timing", "--stats", stats)
    p = run("plot", stats, "--kind", "roofline", "-o", png, expect=2)
    check("summary.layers" in p.stderr, p.stderr)


def config_error(*params, want):
    args = [*BASE, "--mode", "timing"]
    for p in params:
        args += ["-p", p]
    p = run(*args, expect=2)
    check(want in p.stderr, f"{params}: stderr lacks {want!r}:\n{p.stderr}")


@test
def config_errors_name_the_key():
    config_error("system.chips=6", "workload.algorithm=tree", want="workload.algorithm = tree")
    config_error("workload.layers=/nonexistent.yaml", want="/nonexistent.yaml")
    config_error("workload.compute_chips=some", want="workload.compute_chips")
    config_error("workload.bucket_mb=-1", want="workload.bucket_mb")
    p = run(*BASE, "--mode", "functional", "-p", "workload.compute_chips=first", expect=2)
    check("workload.compute_chips = first needs --mode timing" in p.stderr, p.stderr)
    net = os.path.join(tempfile.mkdtemp(prefix="accelvp-train-"), "relu.yaml")
    with open(net, "w") as f:
        f.write("inputs:\n  - {name: x, shape: [4, 8]}\nlayers:\n  - {name: r, op: relu}\n")
    config_error(f"workload.layers={net}", want="no matmul or conv layer")


@test
def human_report_has_the_bucket_table():
    p = run(*BASE, "--mode", "timing", "-p", "system.chips=2", "-p", "workload.bucket_mb=0", *[a for q in STACK for a in ("-p", q)])
    check("gradient bucket (layers)" in p.stdout and "fc5..fc5" in p.stdout and "fc0..fc0" in p.stdout, p.stdout)
    check("exposed_comm_us" in p.stdout and "step_us" in p.stdout, p.stdout)


finish()
