#!/usr/bin/env python3
"""Markdown and self-contained HTML report of a bench or sweep results directory
(docs/benchmarks.md#reports).

  tools/report.py RESULTS_DIR [-o report.md] [--html report.html] [--title T]

The report has the run's facts, a summary table (one row per case or point), plots (the
headline figure per case or against the sweep's grid, and a utilization map of every case's
busy components), and per case the utilization and bandwidth of each component from its stats
JSON (docs/stats.md: every `rate` stat: engines, PCIe link directions, memories, DRAM channels),
with links to its stats file and its Perfetto trace when one was written (trace: true).
Figures are PNG files next to the Markdown (REPORT-figures/) and base64 images inside the HTML.
Exit codes: 0 written, 2 usage error or unreadable results.
"""
import base64
import html
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from accelvp_tools.common import EXIT_OK, Parser, UsageError, die, fmt_num  # noqa: E402
from accelvp_tools.plotting import load_csv, number, plot, pyplot  # noqa: E402
from accelvp_tools.plotting import roofline as plot_roofline  # noqa: E402
from accelvp_tools.runner import case_failed, summary_columns, summary_values  # noqa: E402

SCHEMAS = ("accelvp-bench-results/1", "accelvp-bench-results/2", "accelvp-sweep-results/1")
# The figure a plot shows first, by preference: what each workload is about.
HEADLINE = ("tflops", "busbw_gbps", "bandwidth_gbps", "mips", "efficiency", "cycles", "simulated_ns")


def load_results(d):
    path = os.path.join(d, "results.json")
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror} (give a directory written by `accelvp bench run` or "
                         f"`accelvp sweep`)")
    except ValueError as e:
        raise UsageError(f"{path} is not valid JSON: {e}")
    if not isinstance(doc, dict) or doc.get("schema") not in SCHEMAS or not isinstance(doc.get("cases"), list):
        raise UsageError(f"{path} is not a bench or sweep results document ({' or '.join(SCHEMAS)})")
    return doc


def component_rates(stats):
    """(component, stat, utilization, GB/s) of every rate stat with a non-zero total."""
    out = []
    for comp, group in sorted((stats.get("components") or {}).items()):
        if not isinstance(group, dict):
            continue
        for name, v in sorted(group.items()):
            if isinstance(v, dict) and "total" in v and ("utilization" in v or "gbps" in v) and v["total"]:
                out.append((comp, name, v.get("utilization"), v.get("gbps")))
    return out


def load_stats(d, case):
    if not case.get("stats"):
        return None
    try:
        with open(os.path.join(d, case["stats"])) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


# ---- a document of blocks, rendered as Markdown and as HTML ---------------------------------

class Doc:
    def __init__(self):
        self.blocks = []

    def h(self, level, text):
        self.blocks.append(("h", level, text))

    def p(self, text):
        self.blocks.append(("p", text))

    def table(self, header, rows, align=None):
        self.blocks.append(("table", header, rows, align))

    def img(self, path, alt):
        self.blocks.append(("img", path, alt))

    def markdown(self, md_dir):
        out = []
        for b in self.blocks:
            if b[0] == "h":
                out.append("#" * b[1] + " " + b[2])
            elif b[0] == "p":
                out.append(b[1])
            elif b[0] == "table":
                _, header, rows, align = b
                out.append("| " + " | ".join(header) + " |")
                out.append("|" + "|".join("---:" if (align and align[i] == "r") else "---"
                                          for i in range(len(header))) + "|")
                out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
            else:
                out.append(f"![{b[2]}]({os.path.relpath(b[1], md_dir)})")
            out.append("")
        return "\n".join(out)

    def html(self, title, link_dir):
        body = []
        for b in self.blocks:
            if b[0] == "h":
                body.append(f"<h{b[1]}>{inline(b[2], link_dir)}</h{b[1]}>")
            elif b[0] == "p":
                body.append(f"<p>{inline(b[1], link_dir)}</p>")
            elif b[0] == "table":
                _, header, rows, align = b
                cls = lambda i: ' class="r"' if align and align[i] == "r" else ""  # noqa: E731
                body.append("<table><tr>" + "".join(f"<th>{inline(h, link_dir)}</th>" for h in header) + "</tr>")
                for r in rows:
                    body.append("<tr>" + "".join(f"<td{cls(i)}>{inline(str(c), link_dir)}</td>"
                                                 for i, c in enumerate(r)) + "</tr>")
                body.append("</table>")
            else:
                with open(b[1], "rb") as f:
                    data = base64.b64encode(f.read()).decode("ascii")
                body.append(f'<p><img alt="{html.escape(b[2])}" src="data:image/png;base64,{data}"></p>')
        style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
                 "table{border-collapse:collapse;margin:1em 0;font-size:90%}"
                 "td,th{border:1px solid #ccc;padding:2px 6px}td.r{text-align:right}th{background:#eee}"
                 "code{background:#f4f4f4}img{max-width:100%}")
        return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
                f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def inline(text, link_dir):
    """The Markdown the blocks use (`code`, [text](link)) as HTML; links are made relative to
    the HTML file's directory."""
    t = html.escape(text, quote=False)
    t = re.sub(r"`([^`]+)`", r"<code>\1</code>", t)

    def link(m):
        href = m.group(2)
        if link_dir is not None and not re.match(r"^[a-z]+://", href):
            href = os.path.relpath(os.path.join(link_dir[0], href), link_dir[1])
        return f'<a href="{html.escape(href)}">{m.group(1)}</a>'
    return re.sub(r"\[([^\]]+)\]\(([^)]+)\)", link, t)


# ---- the report ----------------------------------------------------------------------------

def build(results_dir, doc, fig_dir, md_dir, title):
    """The report as blocks; writes its figures into fig_dir. Links are relative to md_dir."""
    sweep = doc["schema"].startswith("accelvp-sweep")
    entries = doc["cases"]
    rel = lambda p: os.path.relpath(os.path.join(results_dir, p), md_dir)  # noqa: E731
    r = Doc()
    r.h(1, title)
    failed = [e["name"] for e in entries if case_failed(e)]
    host = doc.get("host") or {}
    git = doc.get("git") or {}
    facts = [f"{'Sweep' if sweep else 'Suite'} `{doc.get('sweep') or doc.get('suite')}`"
             + (f": {doc['description']}" if doc.get("description") else ""),
             f"{len(entries)} {'points' if sweep else 'cases'}, {len(entries) - len(failed)} ok, {len(failed)} failed"
             + (f" ({', '.join(failed)})" if failed else ""),
             f"started {doc.get('started', '-')}, {doc.get('wall_s', '-')} s with -j {doc.get('jobs', '-')}"
             + (f" on {doc['backend']}" if doc.get("backend") else ""),
             f"host {host.get('hostname', '-')} ({host.get('cpus', '-')} cpus, {host.get('cpu_model', '-')})",
             f"accelvp {(doc.get('accelvp') or {}).get('version') or '-'}, git "
             f"{(git.get('commit') or '-')[:12]}{' (dirty)' if git.get('dirty') else ''}"]
    if sweep:
        facts.append("`" + " ".join(x for x in (f"-c {doc['config']}" if doc.get("config") else "",
                                                 f"-w {doc['workload']}",
                                                 f"--mode {doc['mode']}" if doc.get("mode") else "") if x)
                     + "".join(f" -p {o}" for o in doc.get("overrides") or []) + "`, grid: "
                     + ", ".join(f"`{k}` = {', '.join(map(str, v))}" for k, v in doc["grid"].items()))
        if doc.get("skipped"):
            facts.append(f"{len(doc['skipped'])} points were complete from an earlier run (skipped)")
    r.p("\n".join(f"- {f}" for f in facts))

    # Summary table
    cols = summary_columns(entries)
    keys = list(doc["grid"]) if sweep else []
    r.h(2, "Summary")
    header = ["point" if sweep else "case", *keys] + ([] if sweep else ["config", "mode"]) + \
        ["status", *cols, "wall_s"]
    rows = []
    for e in entries:
        row = [e["name"], *[e["params"][k] for k in keys]] + ([] if sweep else [e["config"], e["mode"]])
        row += ["FAIL: " + str(e.get("error")) if case_failed(e) else "ok"]
        row += [fmt_cell(v) for v in summary_values(e, cols)] + [fmt_cell(e.get("wall_s"))]
        rows.append(row)
    r.table(header, rows, ["l"] * (len(header) - len(cols) - 1) + ["r"] * (len(cols) + 1))

    # Plots
    csv_path = os.path.join(results_dir, "results.csv")
    figs = []
    if os.path.exists(csv_path):
        cheader, crows = load_csv(csv_path)
        metric = next((m for m in HEADLINE if m in cheader
                       and any(number(x.get(m)) is not None for x in crows if x.get("status") == "ok")), None)
        if metric and sweep:
            x = keys[0]
            series = keys[1] if len(keys) > 1 else None
            figs.append((f"{metric}-line.png", f"{metric} vs {x}", dict(x=x, series=series, kind="line", logx=None)))
            if series:
                figs.append((f"{metric}-heatmap.png", f"{metric} over {x} x {series}",
                             dict(x=x, series=series, kind="heatmap")))
            for name, alt, kw in figs:
                plot(crows, cheader, y=metric, out=os.path.join(fig_dir, name), tag="report", **kw)
        elif metric:
            figs.append((f"{metric}-bar.png", f"{metric} per case", None))
            plot(crows, cheader, "case", metric, os.path.join(fig_dir, figs[-1][0]), kind="bar", tag="report")
    util_rows, per_case = [], []
    for e in entries:
        stats = load_stats(results_dir, e)
        rates = component_rates(stats) if stats else []
        per_case.append((e, stats, rates))
        for comp, stat, u, _ in rates:
            if u is not None:
                util_rows.append({"case": e["name"], "stat": f"{comp.replace('board.', '')}.{stat}",
                                  "utilization": repr(u), "status": "ok"})
    if util_rows:
        name = "utilization-heatmap.png"
        plot(util_rows, ["case", "stat", "utilization", "status"], "stat", "utilization",
             os.path.join(fig_dir, name), series="case", kind="heatmap", tag="report",
             title="utilization (busy fraction of the run) per component and case")
        figs.append((name, "utilization per component and case", None))
    if figs:
        r.h(2, "Plots")
        for name, alt, _ in figs:
            r.img(os.path.join(fig_dir, name), alt)

    # Per case: components
    r.h(2, "Components per " + ("point" if sweep else "case"))
    r.p("Every `rate` stat of the case's stats JSON with a non-zero total (docs/stats.md describes them): "
        "`utilization` is the busy fraction of the simulated run, `GB/s` bytes per simulated second over the "
        "whole run (DRAM channels, DMA throughput).")
    for e, stats, rates in per_case:
        r.h(3, e["name"])
        links = []
        if stats is not None:
            links.append(f"[stats JSON]({rel(e['stats'])})")
        trace = e.get("trace") or (os.path.splitext(e["stats"])[0] + ".trace.json" if e.get("stats") else None)
        if trace and os.path.exists(os.path.join(results_dir, trace)):
            links.append(f"[Perfetto trace]({rel(trace)}) (open it in [ui.perfetto.dev](https://ui.perfetto.dev))")
        line = f"`accelvp {e.get('command', '')}`" if e.get("command") else ""
        if case_failed(e):
            line += f" FAILED: {e.get('error')}"
        r.p("; ".join(x for x in [line] + links if x) or "no stats written")
        if rates:
            r.table(["component", "stat", "utilization", "GB/s"],
                    [[c, s, "-" if u is None else f"{u:.4f}", "-" if g is None else f"{g:.3f}"]
                     for c, s, u, g in rates], ["l", "l", "r", "r"])
        layers = ((stats or {}).get("summary") or {}).get("layers")
        if isinstance(layers, list) and layers:
            # A whole model (workloads model, onnx, decoder; docs/models.md): its per-layer table.
            r.p("Per layer (docs/models.md): device time, share of the model's, utilization of the matrix "
                "engines' peak, the bound resource, device-memory traffic.")
            total = sum(x.get("device_ns", 0) for x in layers) or 1
            fig = os.path.join(fig_dir, f"{e['name']}-roofline.png")
            if roofline(stats, fig, e["name"]):
                r.img(fig, f"{e['name']}: per-layer roofline")
            r.table(["layer", "op", "output", "device us", "share", "utilization", "bound", "HBM MB"],
                    [[x.get("name", ""), x.get("op", ""), x.get("shape", ""), f"{x.get('device_ns', 0) / 1e3:.3f}",
                      f"{100 * x.get('device_ns', 0) / total:.1f} %", f"{100 * x.get('utilization', 0):.2f} %",
                      x.get("bound", ""), f"{x.get('hbm_bytes', 0) / 1e6:.3f}"] for x in layers],
                    ["l", "l", "l", "r", "r", "r", "l", "r"])
    return r


def roofline(stats, out, name):
    """Per-layer roofline of a model run (docs/models.md; accelvp_tools.plotting.roofline, also
    `accelvp plot --kind roofline`). Returns False when there is nothing to plot."""
    try:
        plot_roofline(stats, out, f"{name}: per-layer roofline", tag="report")
    except UsageError:
        return False
    return True


def fmt_cell(v):
    if isinstance(v, float) and v != int(v):
        return f"{v:.1f}" if abs(v) >= 1e4 else f"{v:.6g}"
    return fmt_num(v)


def main(argv=None):
    ap = Parser(prog="report.py", tag="report", description="Markdown/HTML report of a bench or sweep results "
                                                            "directory (docs/benchmarks.md#reports)")
    ap.add_argument("results", help="directory written by `accelvp bench run` or `accelvp sweep`")
    ap.add_argument("-o", "--output", help="the Markdown file (default RESULTS/report.md)")
    ap.add_argument("--html", help="also write a self-contained HTML report (figures embedded)")
    ap.add_argument("--title", help="report title")
    args = ap.parse_args(argv)
    try:
        results_dir = os.path.abspath(args.results)
        doc = load_results(results_dir)
        md = os.path.abspath(args.output or os.path.join(results_dir, "report.md"))
        fig_dir = os.path.splitext(md)[0] + "-figures"
        os.makedirs(fig_dir, exist_ok=True)
        kind = "sweep" if doc["schema"].startswith("accelvp-sweep") else "bench"
        title = args.title or f"accelvp {kind} report: {doc.get('sweep') or doc.get('suite')}"
        rep = build(results_dir, doc, fig_dir, os.path.dirname(md), title)
        with open(md + ".tmp", "w") as f:
            f.write(rep.markdown(os.path.dirname(md)))
        os.replace(md + ".tmp", md)
        sys.stderr.write(f"report: wrote {md}\n")
        if args.html:
            h = os.path.abspath(args.html)
            with open(h + ".tmp", "w") as f:
                f.write(rep.html(title, (os.path.dirname(md), os.path.dirname(h))))
            os.replace(h + ".tmp", h)
            sys.stderr.write(f"report: wrote {h}\n")
    except UsageError as e:
        die("report", str(e))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
