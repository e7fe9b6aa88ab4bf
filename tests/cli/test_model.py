#!/usr/bin/env python3
"""Whole models end to end (docs/models.md): `-w model` (layer-list YAML) and `-w onnx` (ONNX
import) verified layer by layer in functional mode on reduced sizes, config errors naming the
file, line, node and valid values (exit 2), and the BERT-base and ResNet-50 timing runs with
their per-layer table checked against the analytic bounds.
The ONNX fixtures are generated here by tools/gen_models.py (python3-onnx) into OUTDIR.
Usage: test_model.py path/to/accelvp OUTDIR"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, runner, test  # noqa: E402

ACCELVP = sys.argv[1]
OUT = sys.argv[2]
os.makedirs(OUT, exist_ok=True)
GEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "gen_models.py")
run = runner(ACCELVP, timeout=300)


def onnx_python():
    for py in (sys.executable, "/usr/bin/python3"):
        if subprocess.run([py, "-c", "import onnx"], capture_output=True).returncode == 0:
            return py
    raise AssertionError("no python3 with the onnx module (apt-get install python3-onnx)")


def fixture(model, *args):
    path = os.path.join(OUT, f"{model}{''.join(a.replace('--', '-') for a in args)}.onnx")
    if not os.path.exists(path):
        subprocess.run([onnx_python(), GEN, model, *args, "-o", path], check=True)
    return path


def write(name, text):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        f.write(text)
    return path


CNN = """name: tiny-cnn
inputs:
  - {name: x, shape: [1, 3, 16, 16]}
layers:
  - {name: conv1, op: conv, filters: 8, kernel: 3, stride: 2, pad: 1}
  - {name: relu1, op: relu}
  - {name: pool1, op: maxpool, kernel: 3, stride: 2, pad: 1}
  - {name: conv2, op: conv, filters: 8, kernel: 3, pad: 1}
  - {name: conv3, op: conv, filters: 8, kernel: 1}
  - {name: add1, op: add, inputs: [conv3, pool1]}
  - {name: relu2, op: relu}
  - {name: ap, op: avgpool, kernel: 2, stride: 1}
  - {name: gap, op: global_avgpool}
  - {name: flat, op: reshape, shape: [1, -1]}
  - {name: fc, op: matmul, n: 10}
  - {name: sm, op: softmax}
"""

ENCODER = """name: tiny-encoder
inputs:
  - {name: x, shape: [2, 16, 64]}
layers:
  - {name: q, op: matmul, input: x, n: 64}
  - {name: k, op: matmul, input: x, n: 64}
  - {name: v, op: matmul, input: x, n: 64}
  - {name: qh, op: reshape, input: q, shape: [2, 16, 4, 16]}
  - {name: qt, op: transpose, perm: [0, 2, 1, 3]}
  - {name: kh, op: reshape, input: k, shape: [2, 16, 4, 16]}
  - {name: kt, op: transpose, perm: [0, 2, 1, 3]}
  - {name: vh, op: reshape, input: v, shape: [2, 16, 4, 16]}
  - {name: vt, op: transpose, perm: [0, 2, 1, 3]}
  - {name: s, op: matmul, inputs: [qt, kt], trans_b: true}
  - {name: p, op: softmax, scale: 0.25}
  - {name: c, op: matmul, inputs: [p, vt]}
  - {name: ct, op: transpose, perm: [0, 2, 1, 3]}
  - {name: cm, op: reshape, shape: [2, 16, 64]}
  - {name: o, op: matmul, n: 64}
  - {name: r1, op: add, inputs: [o, x]}
  - {name: ln1, op: layernorm, eps: 1e-12, affine: true}
  - {name: up, op: matmul, n: 128}
  - {name: g, op: gelu}
  - {name: down, op: matmul, n: 64}
  - {name: r2, op: add, inputs: [down, ln1]}
  - {name: ln2, op: layernorm}
  - {name: cat, op: concat, inputs: [ln2, r2], axis: 2}
"""


def stats_of(*args, mode="functional"):
    path = os.path.join(OUT, "stats.json")
    p = run("run", *args, "--mode", mode, "--stats", path)
    with open(path) as f:
        return json.load(f), p.stdout


def check_layers(st, n_layers):
    s = st["summary"]
    L = s["layers"]
    check(len(L) == n_layers == s["layers_count"], f"{len(L)} layer records, {s['layers_count']} layers")
    for rec in L:
        for k in ("name", "op", "shape", "device_ns", "flops", "utilization", "bound", "hbm_bytes"):
            check(k in rec, f"layer record lacks {k}: {rec}")
        check(0 <= rec["utilization"] <= 1.0, f"utilization out of range: {rec}")
        if rec["op"] in ("transpose", "reshape") and rec["bound"] == "view":
            check(rec["device_ns"] == 0, rec)
    # Every device nanosecond belongs to a layer.
    total = sum(r["device_ns"] for r in L)
    check(abs(total - s["device_ns"]) <= 1e-6 * s["device_ns"], f"layers sum to {total}, device_ns {s['device_ns']}")
    check(abs(sum(r["flops"] for r in L) - s["flops"]) <= 1e-6 * s["flops"], "layer flops do not add up")


@test
def layer_list_cnn_is_verified_per_layer():
    st, out = stats_of("-w", "model", "-p", f"workload.layers={write('cnn.yaml', CNN)}")
    check(st["workload"]["verified"] is True, st["workload"])
    check_layers(st, 12)
    # add1 + relu2 run fused (relu2 is add1's only reader): 12 layers less the view and the fused one.
    check(st["summary"]["layers_verified"] == 10, st["summary"]["layers_verified"])
    recs = {r["name"]: r for r in st["summary"]["layers"]}
    check(recs["relu2"]["bound"] == "fused" and recs["flat"]["bound"] == "view", recs["relu2"])
    check(recs["conv1"]["shape"] == "1x8x8x8" and recs["pool1"]["shape"] == "1x8x4x4", recs["pool1"])
    check("conv1" in out and "maxpool" in out and "device_us" in out, "no per-layer table in the report:\n" + out)


@test
def layer_list_encoder_is_verified_per_layer_in_fp16():
    st, _ = stats_of("-w", "model", "-p", f"workload.layers={write('enc.yaml', ENCODER)}", "-p", "workload.dtype=fp16")
    check(st["workload"]["verified"] is True, st["workload"])
    check_layers(st, 23)
    check(st["summary"]["dtype"] == "fp16", st["summary"]["dtype"])


@test
def layer_list_errors_name_file_line_key_and_valid_values():
    bad = write("bad-op.yaml", CNN.replace("op: relu}", "op: relux}", 1))
    p = run("run", "-w", "model", "-p", f"workload.layers={bad}", expect=2)
    check(f"{bad}:6:" in p.stderr and "unknown op 'relux'" in p.stderr and "valid ops: matmul, conv" in p.stderr,
          p.stderr)
    bad = write("bad-key.yaml", CNN.replace("filters: 8, kernel: 3, stride: 2", "filter: 8, kernel: 3, stride: 2"))
    p = run("run", "-w", "model", "-p", f"workload.layers={bad}", expect=2)
    check(f"{bad}:5:" in p.stderr and "unknown key 'filter'" in p.stderr and "filters, kernel, pad, stride" in p.stderr,
          p.stderr)
    bad = write("bad-shape.yaml", CNN.replace("inputs: [conv3, pool1]", "inputs: [conv3, conv1]"))
    p = run("run", "-w", "model", "-p", f"workload.layers={bad}", expect=2)
    check("layer 'add1' (add)" in p.stderr and "[1, 8, 4, 4] and [1, 8, 8, 8] differ" in p.stderr, p.stderr)
    bad = write("bad-ref.yaml", CNN.replace("inputs: [conv3, pool1]", "inputs: [conv3, nope]"))
    p = run("run", "-w", "model", "-p", f"workload.layers={bad}", expect=2)
    check("unknown input 'nope'" in p.stderr and "defined so far: conv1" in p.stderr, p.stderr)
    bad = write("bad-type.yaml", CNN.replace("n: 10}", "n: 10, trans_b: maybe}"))
    p = run("run", "-w", "model", "-p", f"workload.layers={bad}", expect=2)
    check(f"{bad}:15: 'trans_b' must be true or false" in p.stderr, p.stderr)
    p = run("run", "-w", "model", expect=2)
    check("workload.layers is required" in p.stderr, p.stderr)
    p = run("run", "-w", "model", "-p", "workload.layers=/nonexistent.yaml", expect=2)
    check("cannot read '/nonexistent.yaml'" in p.stderr, p.stderr)


@test
def onnx_reduced_models_are_verified_per_layer():
    for model, n_layers in (("resnet50", 39), ("bert", 58), ("gpt2", 60)):
        st, _ = stats_of("-w", "onnx", "-p", f"workload.model={fixture(model, '--reduced')}")
        check(st["workload"]["verified"] is True, f"{model}: {st['workload']}")
        check_layers(st, n_layers)
        check(st["summary"]["layers_verified"] > n_layers // 2, f"{model}: {st['summary']['layers_verified']}")
    # The erf GELU pattern became one gelu layer per encoder layer (its x/sqrt(2) inside it).
    ops = [r["op"] for r in st["summary"]["layers"]]
    check(ops.count("gelu") == 2 and ops.count("softmax") == 2, ops)


@test
def onnx_unsupported_operator_is_a_config_error_naming_the_node():
    p = run("run", "-w", "onnx", "-p", f"workload.model={fixture('unsupported')}", expect=2)
    check("node 0 'lstm1' (LSTM): operator 'LSTM' is not supported; supported: Add," in p.stderr, p.stderr)
    p = run("run", "-w", "onnx", "-p", f"workload.model={write('not.onnx', 'hello')}", expect=2)
    check("is not an ONNX model" in p.stderr, p.stderr)
    p = run("run", "-w", "onnx", expect=2)
    check("workload.model is required" in p.stderr, p.stderr)


@test
def layer_list_form_of_the_fixtures_times_like_the_onnx_form():
    """gen_models.py --layers writes the same network as a layer list (benchmarks/models/ holds the
    full-size ones): the same layers give the same device time, cycle for cycle."""
    for model in ("resnet50", "bert"):
        path = os.path.join(OUT, f"{model}-reduced.yaml")
        subprocess.run([onnx_python(), GEN, model, "--reduced", "--layers", "-o", path], check=True)
        a, _ = stats_of("-w", "model", "-p", f"workload.layers={path}", mode="timing")
        b, _ = stats_of("-w", "onnx", "-p", f"workload.model={fixture(model, '--reduced')}", mode="timing")
        check(a["summary"]["device_ns"] == b["summary"]["device_ns"] and
              a["summary"]["flops"] == b["summary"]["flops"], f"{model}: {a['summary']['device_ns']} vs "
              f"{b['summary']['device_ns']}")
    # The committed full-size lists (the bench cases') are what the generator writes today.
    root = os.path.join(os.path.dirname(GEN), "..", "benchmarks", "models")
    for model, name in (("resnet50", "resnet50.yaml"), ("bert", "bert-base.yaml")):
        path = os.path.join(OUT, name)
        subprocess.run([onnx_python(), GEN, model, "--layers", "-o", path], check=True)
        check(open(path).read() == open(os.path.join(root, name)).read(),
              f"benchmarks/models/{name} differs from `gen_models.py {model} --layers`: regenerate it")


def check_bounds(st):
    """No layer beats the matrix engines' peak, and the whole model's time is at least each resource's."""
    s = st["summary"]
    peak = s["peak_tflops"] * 1e12
    for r in s["layers"]:
        if r["flops"]:
            check(r["device_ns"] * 1e-9 * peak >= r["flops"] * 0.999, f"layer faster than peak: {r}")
    check(s["device_ns"] >= s["t_compute_ns"] and s["device_ns"] >= s["t_HBM_ns"], s)


@test
def bert_base_timing_per_layer():
    st, _ = stats_of("-w", "onnx", "-p", f"workload.model={fixture('bert')}", mode="timing")
    s = st["summary"]
    ops = [r["op"] for r in s["layers"]]
    # 12 layers: Q, K, V, scores, context, output, FFN up and down = 8 MatMuls each.
    check(ops.count("matmul") == 96 and ops.count("softmax") == 12 and ops.count("layernorm") == 24, ops)
    check(s["weights"] == 12 * (4 * 768 * 768 + 2 * 768 * 3072 + 4 * 768 + 3072 + 768 + 4 * 768), s["weights"])
    # FLOPs of BERT-base at seq 128: 12 x (2*128*768*768*4 + 2*128*3072*768*2 + 2*2*128*128*768).
    want = 12 * (2 * 128 * 768 * 768 * 4 + 2 * 128 * 3072 * 768 * 2 + 2 * 2 * 128 * 128 * 768)
    check(s["flops"] == want, f"flops {s['flops']} != {want}")
    check_bounds(st)


@test
def resnet50_timing_per_layer():
    st, _ = stats_of("-w", "onnx", "-p", f"workload.model={fixture('resnet50')}", mode="timing")
    s = st["summary"]
    ops = [r["op"] for r in s["layers"]]
    check(ops.count("conv") == 53 and ops.count("maxpool") == 1 and ops.count("global_avgpool") == 1, ops)
    # ResNet-50: 25.5 M weights (no batch norm: folded), 4.1 GMAC.
    check(s["weights"] == 25502912 + 1000, s["weights"])
    check(4.0e9 < s["flops"] / 2 < 4.2e9, s["flops"])
    check_bounds(st)


@test
def sweep_and_report_show_the_per_layer_table():
    cnn = write("cnn-sweep.yaml", CNN)
    spec = write("sweep.yaml", f"config: inference\nworkload: model\nmode: timing\n"
                               f"overrides: {{workload.layers: {cnn}}}\ngrid: {{workload.dtype: [bf16, fp16]}}\n")
    out = os.path.join(OUT, "sweep-out")
    run("sweep", spec, "--out", out)
    md, htm = os.path.join(OUT, "rep.md"), os.path.join(OUT, "rep.html")
    report = os.path.join(os.path.dirname(GEN), "report.py")
    subprocess.run([sys.executable, report, out, "-o", md, "--html", htm], check=True, capture_output=True)
    text = open(md).read()
    check("Per layer (docs/models.md)" in text and "| conv1 | conv | 1x8x8x8 |" in text, text[-2000:])
    check("| relu2 | relu | 1x8x4x4 | 0.000 | 0.0 % | 0.00 % | fused |" in text, "fused layer row missing")
    check('"name": "conv1"' not in text, "the layer records leaked into the summary table")
    check("conv1" in open(htm).read(), "no per-layer table in the HTML report")
    # The per-layer roofline figure of each case (GEMM layers under the peak and bandwidth roofs).
    check("![dtype=bf16: per-layer roofline](rep-figures/dtype=bf16-roofline.png)" in text, "no roofline figure")
    check(os.path.getsize(os.path.join(OUT, "rep-figures", "dtype=bf16-roofline.png")) > 1000, "empty roofline PNG")


DEC = ["-w", "decoder", "-p", "workload.layers=2", "-p", "workload.hidden=64", "-p", "workload.heads=4",
       "-p", "workload.ffn=128", "-p", "workload.vocab=256", "-p", "workload.prompt=8", "-p", "workload.tokens=4"]


@test
def decoder_with_kv_cache_is_verified_and_reports_ttft_and_tokens_per_s():
    st, out = stats_of(*DEC, "-p", "workload.batch=2")
    s = st["summary"]
    check(st["workload"]["verified"] is True, st["workload"])
    # 2 layers x 2 caches x 5 steps of cache writes, each checked against the rounded keys/values.
    recs = s["layers"]
    check({r["step"] for r in recs} == {0, 1}, "the table shows the prefill and the first decode step")
    check(len(s["step_us"]) == 5 and s["decode_steps"] == 4 and s["batch"] == 2 and s["prompt_tokens"] == 8, s)
    check(abs(s["time_to_first_token_us"] - s["step_us"][0]) < 1e-9, s)
    decode_us = sum(s["step_us"][1:])
    check(abs(s["tokens_per_s"] - 4 * 2 / decode_us * 1e6) < 1e-6 * s["tokens_per_s"], s)
    check(abs(s["tokens_per_s_per_sequence"] * 2 - s["tokens_per_s"]) < 1e-6 * s["tokens_per_s"], s)
    check(abs(sum(s["step_us"]) * 1e3 - s["device_ns"]) < 1e-6 * s["device_ns"], "steps do not add up to device_ns")
    # A decode step attends over one more cached position than the one before: never faster.
    check(all(b >= a * 0.999 for a, b in zip(s["step_us"][1:], s["step_us"][2:])), s["step_us"])
    check("time_to_first_token_us" in out and "tokens_per_s" in out, out)
    p = run("run", "-w", "decoder", "-p", "workload.heads=5", expect=2)
    check("workload.heads (5) must divide workload.hidden (768)" in p.stderr, p.stderr)


if __name__ == "__main__":
    finish()
