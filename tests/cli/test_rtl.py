#!/usr/bin/env python3
"""accelvp with the RTL in the loop (compute.matrix.model=rtl, compute.vector.model=rtl,
docs/calibration.md): a small GEMM through the RTL tile, verified bit-exact, with the cycles of
the TLM run (functional and timing mode, weight- and output-stationary); a small transformer layer with both RTL engines; the
config errors of a preset the RTL does not cover. Usage: test_rtl.py ACCELVP"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, runner, test  # noqa: E402

ACCELVP = sys.argv[1]
run = runner(ACCELVP, timeout=300)
MXU = "board.chip.compute.cluster0.mxu"
VPU = "board.chip.compute.cluster0.vpu"


def gemm(model, dtype, *extra):
    p = run("run", "-c", "edge", "-w", "gemm", "--json", "-p", f"workload.dtype={dtype}", "-p", "workload.m=96",
            "-p", "workload.n=80", "-p", "workload.k=72", "-p", f"compute.matrix.model={model}", *extra)
    return json.loads(p.stdout)


@test
def int8_gemm_through_the_rtl_is_bit_exact_with_the_tlm_cycles():
    t, r = gemm("tlm", "int8"), gemm("rtl", "int8")
    check(r["workload"]["verified"] is True, f"rtl run not verified: {r['workload']}")
    check(t["workload"]["verified"] is True, "tlm run not verified")
    for key in ("cycles", "engine_cycles_max"):
        check(r["summary"][key] == t["summary"][key], f"{key}: rtl {r['summary'][key]} != tlm {t['summary'][key]}")
    check(r["simulated_ns"] == t["simulated_ns"], f"simulated_ns {r['simulated_ns']} != {t['simulated_ns']}")
    m = r["components"][MXU]
    check(m["busy_cycles"] == t["components"][MXU]["busy_cycles"], "mxu busy cycles differ")
    check(m["rtl_packets"] == m["packets"] and m["packets"] > 0, f"not every GEMM packet ran on the RTL: {m}")
    check(m["rtl_data_packets"] == m["packets"] and m["tlm_fallback_packets"] == 0, f"INT8 data not from the RTL: {m}")
    check("rtl_packets" not in t["components"][MXU], "the tlm engine reports RTL stats")


@test
def bf16_gemm_takes_rtl_cycles_and_reference_data():
    t, r = gemm("tlm", "bf16"), gemm("rtl", "bf16")
    check(r["workload"]["verified"] is True, "rtl bf16 run not verified")
    check(r["summary"]["cycles"] == t["summary"]["cycles"], "bf16 cycles differ")
    m = r["components"][MXU]
    check(m["rtl_packets"] == m["packets"] and m["rtl_data_packets"] == 0, f"{m}")


@test
def output_stationary_int8_gemm_runs_on_the_rtl_os_tile():
    t, r = gemm("tlm", "int8", "-p", "compute.dataflow=os"), gemm("rtl", "int8", "-p", "compute.dataflow=os")
    check(r["workload"]["verified"] is True, "rtl OS run not verified")
    check(r["summary"]["cycles"] == t["summary"]["cycles"], f"OS cycles: rtl {r['summary']['cycles']} != tlm {t['summary']['cycles']}")
    check(r["simulated_ns"] == t["simulated_ns"], "OS simulated_ns differs")
    m = r["components"][MXU]
    check(m["rtl_data_packets"] == m["packets"] and m["packets"] > 0 and m["tlm_fallback_packets"] == 0, f"{m}")


@test
def timing_mode_takes_the_functional_cycles_and_computes_no_data():
    f, t = gemm("rtl", "int8"), gemm("rtl", "int8", "--mode", "timing")
    check(t["summary"]["cycles"] == f["summary"]["cycles"], "timing-mode cycles differ from functional")
    m = t["components"][MXU]
    check(m["rtl_packets"] == m["packets"] and m["rtl_data_packets"] == 0, f"{m}")


@test
def small_transformer_block_with_both_rtl_engines():
    def layer(model):
        p = run("run", "-c", "edge", "-w", "transformer-layer", "--json", "-p", "workload.hidden=64", "-p",
                "workload.heads=2", "-p", "workload.mlp=128", "-p", "workload.seq=32", "-p",
                f"compute.matrix.model={model}", "-p", f"compute.vector.model={model}")
        return json.loads(p.stdout)
    t, r = layer("tlm"), layer("rtl")
    check(r["workload"]["verified"] is True, "rtl transformer layer not verified")
    check(r["simulated_ns"] == t["simulated_ns"], f"simulated_ns {r['simulated_ns']} != {t['simulated_ns']}")
    check(r["summary"]["device_ns"] == t["summary"]["device_ns"], "device_ns differs")
    m = r["components"][MXU]
    check(m["rtl_packets"] == m["packets"] and m["packets"] >= 4, f"GEMMs not on the RTL: {m}")
    check(m["busy_cycles"] == t["components"][MXU]["busy_cycles"], "mxu busy cycles differ")
    # The vector phases: ADD (residuals) and MUL (attention scale) on the lane cluster, fp32 values
    # from its FP32 lanes (the layer verifies them against the host); softmax, layernorm, GELU and
    # conversions on the formula.
    v = r["components"][VPU]
    check(v["packets"] == 10 and v["rtl_packets"] == 3 and v["tlm_fallback_packets"] == 7, f"{v}")
    check(v["rtl_data_packets"] == 3, f"{v}")
    check(v["busy_cycles"] == t["components"][VPU]["busy_cycles"], "vpu busy cycles differ")
    check("rtl_packets" not in t["components"][VPU], "the tlm vector engine reports RTL stats")


@test
def presets_outside_the_rtl_tile_are_config_errors():
    p = run("run", "-w", "gemm", "-p", "compute.matrix.model=rtl", expect=2)
    check("compute.array_rows" in p.stderr and "128 x 128" in p.stderr, p.stderr)
    p = run("run", "-c", "edge", "-w", "gemm", "-p", "compute.matrix.model=rtl", "-p", "compute.block_pipelining=true",
            expect=2)
    check("compute.block_pipelining must be false" in p.stderr, p.stderr)
    p = run("run", "-c", "edge", "-w", "gemm", "-p", "compute.matrix.model=rtl", "-p", "compute.macs_per_pe.int8=2",
            expect=2)
    check("compute.macs_per_pe.int8 must be 1" in p.stderr, p.stderr)
    p = run("run", "-w", "gemm", "-c", "inference", "-p", "compute.vector.model=rtl", expect=2)
    check("compute.vector.model=rtl: compute.vector_lanes must be 1..64 (the RTL lane cluster has 64 lanes), got 128"
          in p.stderr, p.stderr)
    p = run("run", "-c", "edge", "-w", "gemm", "-p", "compute.vector.model=rtl", "-p", "compute.vector_depth=20",
            expect=2)
    check("compute.vector_depth must be 1..16" in p.stderr, p.stderr)
    p = run("run", "-c", "edge", "-w", "gemm", "-p", "compute.vector.model=verilog", expect=2)
    check("compute.vector.model" in p.stderr and "tlm" in p.stderr, p.stderr)
    p = run("run", "-c", "edge", "-w", "gemm", "-p", "compute.matrix.model=verilog", expect=2)
    check("compute.matrix.model" in p.stderr and "rtl" in p.stderr and "tlm" in p.stderr, p.stderr)


finish()
