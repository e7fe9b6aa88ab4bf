"""PNG plots of result CSVs (line, grouped bar, heatmap) with matplotlib's headless Agg back
end; used by tools/plot.py and tools/report.py."""
import csv
import math
import os
import re

from .common import UsageError, require_module

KINDS = ("line", "bar", "heatmap", "roofline")
_UNITS = {"": 1, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "ki": 2 ** 10, "mi": 2 ** 20, "gi": 2 ** 30,
          "ti": 2 ** 40}
_NUM_RE = re.compile(r"^\s*([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*([kKmMgGtT]i?)?[bB]?\s*$")


def number(text):
    """A CSV cell as a number: 12, 1.5e3, 0x1000, 4KiB, 16MiB, 2G; None if it is not one."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    t = str(text).strip()
    if re.fullmatch(r"0[xX][0-9a-fA-F]+", t):
        return float(int(t, 16))
    m = _NUM_RE.match(t)
    if not m:
        return None
    return float(m.group(1)) * _UNITS[(m.group(2) or "").lower()]


def load_csv(path):
    try:
        with open(path, newline="") as f:
            rd = csv.DictReader(f)
            rows = list(rd)
            return list(rd.fieldnames or []), rows
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}")


def pyplot(tag):
    mpl = require_module("matplotlib", "python3-matplotlib", tag)
    mpl.use("Agg")  # headless: no display needed
    import matplotlib.pyplot as plt
    return plt


def _ordered(values):
    """Distinct values in numeric order when they all are numbers, else in order of appearance."""
    distinct = list(dict.fromkeys(values))
    nums = [number(v) for v in distinct]
    if all(n is not None for n in nums):
        return [v for _, v in sorted(zip(nums, distinct))], True
    return distinct, False


def plot(rows, header, x, y, out, series=None, kind="line", title=None, logx=False, logy=False, tag="plot"):
    """Plot column y against x (one line / bar group / heatmap row per value of `series`) into
    the PNG `out`. Rows whose status column is not 'ok' or whose y is empty are left out.
    logx=None: logarithmic when x is numeric, positive and spans a factor of 64 or more."""
    for col, opt in ((x, "--x"), (y, "--y"), (series, "--series")):
        if col is not None and col not in header:
            raise UsageError(f"{opt}: no column '{col}' (columns: {', '.join(header)})")
    if kind == "roofline":
        raise UsageError("--kind roofline plots a model run's stats JSON (roofline()), not a CSV")
    if kind not in KINDS:
        raise UsageError(f"--kind: '{kind}' is not one of {', '.join(KINDS)}")
    if kind == "heatmap" and not series:
        raise UsageError("--kind heatmap needs --series (the rows of the map; --x gives its columns, --y the values)")
    use = [r for r in rows if r.get("status", "ok") == "ok" and (r.get(y) or "") != ""]
    bad = [r[y] for r in use if number(r[y]) is None]
    if bad:
        raise UsageError(f"--y: column '{y}' is not numeric (e.g. {bad[0]!r})")
    if not use:
        raise UsageError(f"no rows with a value of '{y}' to plot")
    xs, x_numeric = _ordered([r[x] for r in use])
    ss, _ = _ordered([r[series] for r in use]) if series else ([None], False)
    val = {}
    for r in use:
        val[(r[x], r[series] if series else None)] = number(r[y])

    plt = pyplot(tag)
    # Heatmaps grow with their rows; long category labels are slanted so they do not overlap.
    # Many bars turn horizontal (one label per line).
    horizontal = kind == "bar" and len(xs) > 12
    height = max(5.0, 0.28 * len(ss) + 2.0) if kind == "heatmap" else \
        max(5.0, 0.22 * len(xs) * len(ss) + 1.5) if horizontal else 5.0
    fig, ax = plt.subplots(figsize=(8, min(height, 30.0)), dpi=100)
    slant = dict(rotation=30, ha="right") if sum(len(str(v)) for v in xs) > 60 else {}
    if kind == "line":
        positions = {v: (number(v) if x_numeric else i) for i, v in enumerate(xs)}
        for s in ss:
            pts = [(positions[v], val[(v, s)]) for v in xs if (v, s) in val]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o",
                    label=f"{series}={s}" if series else None)
        if logx is None:
            nums = [positions[v] for v in xs]
            logx = x_numeric and min(nums) > 0 and max(nums) / min(nums) >= 64
        if logx:
            ax.set_xscale("log", base=2 if x_numeric and all(positions[v] > 0 for v in xs) else 10)
        if len(xs) <= 16:
            ax.set_xticks([positions[v] for v in xs])
            ax.set_xticklabels(xs, **slant)
    elif kind == "bar":
        width = 0.8 / len(ss)
        bars = ax.barh if horizontal else ax.bar
        for j, s in enumerate(ss):
            bars([i + (j - (len(ss) - 1) / 2) * width for i in range(len(xs))],
                 [val.get((v, s), 0.0) for v in xs], width, label=f"{series}={s}" if series else None)
        if horizontal:
            ax.set_yticks(range(len(xs)))
            ax.set_yticklabels(xs)
            ax.invert_yaxis()  # first row on top, as in the CSV
        else:
            ax.set_xticks(range(len(xs)))
            ax.set_xticklabels(xs, **slant)
    else:
        grid = [[val.get((v, s), math.nan) for v in xs] for s in ss]
        im = ax.imshow(grid, aspect="auto", cmap="viridis", origin="lower")
        fig.colorbar(im, ax=ax, label=y)
        ax.set_xticks(range(len(xs)))
        ax.set_xticklabels(xs, **slant)
        ax.set_yticks(range(len(ss)))
        ax.set_yticklabels(ss)
        ax.set_ylabel(series)
        finite = [c for row in grid for c in row if not math.isnan(c)]
        mid = (min(finite) + max(finite)) / 2 if finite else 0
        if len(xs) * len(ss) <= 100:
            for i, row in enumerate(grid):
                for j, c in enumerate(row):
                    if not math.isnan(c):
                        ax.text(j, i, f"{c:.4g}", ha="center", va="center", fontsize=8,
                                color="black" if c > mid else "white")
    if kind != "heatmap":
        ax.set_xlabel(y if horizontal else x)
        ax.set_ylabel(x if horizontal else y)
        if logy:
            (ax.set_xscale if horizontal else ax.set_yscale)("log")
        ax.grid(True, alpha=0.3)
        if series:
            ax.legend(fontsize=8)
    else:
        ax.set_xlabel(x)
    ax.set_title(title or (f"{y} vs {x}" + (f" per {series}" if series else "")))
    fig.tight_layout()
    d = os.path.dirname(os.path.abspath(out))
    os.makedirs(d, exist_ok=True)
    tmp = out + ".tmp.png"
    fig.savefig(tmp, format="png")
    plt.close(fig)
    os.replace(tmp, out)
    return len(use)


def load_stats(path):
    """A run's stats JSON (accelvp run --stats FILE, or --json's output)."""
    import json
    try:
        with open(path) as f:
            return json.load(f)
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}")
    except ValueError as e:
        raise UsageError(f"{path} is not a stats JSON: {e}")


def roofs(stats):
    """The roofs of the config a run used: (peak TFLOPS of the matrix engines for the run's GEMM
    type: 2 x compute.array_rows x compute.array_cols x compute.macs_per_pe.<type> x
    compute.freq_mhz x compute.clusters; device-memory GB/s: mem.bandwidth_gbps), and the type."""
    c = stats.get("config") or {}
    s = stats.get("summary") or {}
    dtype = s.get("peak_dtype") or s.get("dtype") or "bf16"
    need = ["compute.array_rows", "compute.array_cols", "compute.freq_mhz", "compute.clusters", "mem.bandwidth_gbps"]
    missing = [k for k in need if k not in c]
    if missing:
        raise UsageError(f"the stats lack config keys {', '.join(missing)}: not an accelvp run's stats JSON")
    rate = c.get(f"compute.macs_per_pe.{dtype}", 1)
    peak = 2.0 * c["compute.array_rows"] * c["compute.array_cols"] * rate * c["compute.freq_mhz"] * 1e6 \
        * c["compute.clusters"] / 1e12
    return peak, float(c["mem.bandwidth_gbps"]), dtype


def roofline(stats, out, title=None, tag="plot"):
    """Per-layer roofline of a model run (workloads model, onnx, decoder, train-step; the stats'
    summary.layers): each layer with FLOPs at its arithmetic intensity (FLOPs per device-memory
    byte) and achieved TFLOPS, under the roofs of the run's config (roofs()). Returns
    (points, peak TFLOPS, GB/s); raises UsageError when the stats have no per-layer records."""
    s = stats.get("summary") or {}
    layers = s.get("layers")
    if not isinstance(layers, list) or not layers:
        raise UsageError("the stats have no per-layer records (summary.layers): the roofline needs a model run "
                         "(accelvp run -w model|onnx|decoder|train-step --stats FILE)")
    pts = [(x["flops"] / x["hbm_bytes"], x["flops"] / x["device_ns"] / 1e3, x.get("op", "")) for x in layers
           if x.get("flops") and x.get("hbm_bytes") and x.get("device_ns")]
    if not pts:
        raise UsageError("no layer has FLOPs, device-memory bytes and device time to place on a roofline")
    peak, bw, dtype = roofs(stats)
    plt = pyplot(tag)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    lo = min(p[0] for p in pts) / 2
    hi = max(max(p[0] for p in pts) * 2, 2 * peak * 1e3 / bw)
    xs = [lo * (hi / lo) ** (i / 100) for i in range(101)]
    ax.plot(xs, [min(peak, x * bw / 1e3) for x in xs], color="black",
            label=f"roofs: {peak:.1f} {dtype} TFLOPS, {bw:g} GB/s")
    for op in sorted({p[2] for p in pts}):
        ax.scatter([p[0] for p in pts if p[2] == op], [p[1] for p in pts if p[2] == op], s=14, label=op)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (flops per device-memory byte)")
    ax.set_ylabel("achieved TFLOPS")
    ax.set_title(title or f"{s.get('model', 'model')}: per-layer roofline")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return len(pts), peak, bw
