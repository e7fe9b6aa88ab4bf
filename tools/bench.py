#!/usr/bin/env python3
"""accelvp benchmark suites and the performance-regression gate (docs/benchmarks.md).

  tools/bench.py list [SUITE]
  tools/bench.py run SUITE [-j N] [--out DIR] [--repeat R] [-k REGEX] [--no-calibration] [--accelvp PATH]
  tools/bench.py compare --baseline FILE RESULTS [--tolerance N] [--max-slowdown PCT] [--max-noise PCT]
                         [--min-cpu S] [--confirm N] [--accelvp PATH] [--no-speed] [--json FILE] [--junit FILE]

Speed is each case's CPU time relative to the calibration of its kind of work (timing,
functional, memsim) measured among the cases of the same run; a case over the limit is
re-measured before it fails (docs/benchmarks.md#speed).
  tools/bench.py update-baseline RESULTS --baseline FILE [--force]

SUITE is a name under benchmarks/suites/ (smoke, full) or a path to a suite YAML file.
RESULTS is the directory written by `run` (or its results.json).
Exit codes: 0 success, 1 a case failed (run) or a regression was found (compare),
2 usage error, bad suite file or unreadable results/baseline.

Python 3 standard library plus PyYAML (Debian's python3-yaml, installed by tools/setup.sh).
"""
import datetime
import hashlib
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from accelvp_tools.common import (EXIT_FAIL, EXIT_OK, EXIT_USAGE, ROOT, Parser, UsageError,  # noqa: E402
                                  cpu_count, default_accelvp, default_out_dir, die as _die, fmt_csv, fmt_num, git_info,
                                  host_info, resolve_accelvp,
                                  accelvp_version, load_yaml_file, parse_overrides, require_module,
                                  resolve_config, run_fields, write_csv as _write_csv, write_json)
from accelvp_tools.runner import (DEFINITION_KEYS, HOST_SUMMARY_KEYS, SUMMARY_FIRST, Progress,  # noqa: E402
                                  case_failed, flat_summary, run_one, run_pool, summary_columns, summary_values)

yaml = require_module("yaml", "python3-yaml", "bench")
SUITE_DIR = os.path.join(ROOT, "benchmarks", "suites")
RESULTS_SCHEMA = "accelvp-bench-results/2"
BASELINE_SCHEMA = "accelvp-bench-baseline/2"
# Older documents compare on cycles; they have no CPU times or effective configs.
OLD_RESULTS_SCHEMAS = ("accelvp-bench-results/1",)
OLD_BASELINE_SCHEMAS = ("accelvp-bench-baseline/1",)
COMPARE_SCHEMA = "accelvp-bench-compare/1"


def die(msg, code=EXIT_USAGE):
    _die("bench", msg, code)


# --------------------------------------------------------------------------------------------
# Suites
# --------------------------------------------------------------------------------------------

SUITE_KEYS = {"suite", "description", "defaults", "calibration", "cases"}
CASE_KEYS = {"name", "description", "config", "workload", "mode", "overrides", "seed", "tolerance",
             "timeout_s", "trace", "elf", "mem_trace", "qemu_elf"}
REQUIRED_CASE_KEYS = ("name", "config")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Kinds of work, each with its own calibration run: a case's speed is compared relative to the
# calibration of its kind, measured in the same run (docs/benchmarks.md#speed).
KINDS = ("timing", "functional", "memsim")
DEFAULT_CALIBRATIONS = {
    # event-driven simulation, no data moved: CPU-bound
    "timing": {"config": "inference", "workload": "dma-copy", "mode": "timing",
               "overrides": ["workload.bytes=2GiB", "workload.direction=h2d"]},
    # functional: data generated, moved and checked: memory-heavy
    "functional": {"config": "inference", "workload": "dma-copy", "mode": "functional",
                   "overrides": ["workload.bytes=32MiB", "workload.direction=h2d"]},
    # the DRAM model alone on a request trace
    "memsim": {"config": "training", "workload": "memsim", "mode": "functional", "overrides": [],
               "mem_trace": {"pattern": "sequential", "requests": 500000, "write_ratio": 0}},
}
CAL_DEFAULTS = {"seed": 1, "tolerance": 0, "timeout_s": 600, "repeat": 3}


def speed_kind(c):
    """The kind of work of a case: memsim; timing (timing mode, and the ISS: CPU-bound); functional."""
    if c["workload"] == "memsim":
        return "memsim"
    if c["workload"] == "iss" or c["mode"] == "timing":
        return "timing"
    return "functional"


def default_calibration(kind):
    c = dict(CAL_DEFAULTS, **DEFAULT_CALIBRATIONS[kind])
    c["name"] = f"calibration-{kind}"
    c["overrides"] = list(c["overrides"])
    return c


def suite_path(arg):
    if os.path.sep in arg or arg.endswith((".yaml", ".yml")):
        if not os.path.isfile(arg):
            raise UsageError(f"no suite file '{arg}'")
        return os.path.abspath(arg)
    for ext in (".yaml", ".yml"):
        p = os.path.join(SUITE_DIR, arg + ext)
        if os.path.isfile(p):
            return p
    raise UsageError(f"no suite named '{arg}'; suites: {', '.join(list_suites()) or '(none)'} "
                     f"(in {os.path.relpath(SUITE_DIR)}), or give a path to a .yaml file")


def list_suites():
    if not os.path.isdir(SUITE_DIR):
        return []
    return sorted(os.path.splitext(f)[0] for f in os.listdir(SUITE_DIR) if f.endswith((".yaml", ".yml")))


def parse_tolerance(v, where):
    """tolerance: an integer number of cycles (>= 0) or a string 'P%' (relative)."""
    if isinstance(v, bool):
        raise UsageError(f"{where}: 'tolerance' must be cycles (an integer >= 0) or a percentage like '0.5%'")
    if isinstance(v, int) and v >= 0:
        return v
    if isinstance(v, str):
        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*%\s*", v)
        if m:
            return f"{float(m.group(1)):g}%"
    raise UsageError(f"{where}: 'tolerance' must be cycles (an integer >= 0) or a percentage like '0.5%', "
                     f"got {v!r}")


def normalize_case(raw, where, suite_dir, defaults, calibration=False):
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: expected a mapping of {', '.join(sorted(CASE_KEYS))}")
    allowed = CASE_KEYS | ({"repeat"} if calibration else set())
    for k in raw:
        if k not in allowed:
            raise UsageError(f"{where}: unknown key '{k}' (valid keys: {', '.join(sorted(allowed))})")
    merged = dict(defaults)
    merged.update(raw)
    if calibration:
        merged.setdefault("name", "calibration")
    for k in REQUIRED_CASE_KEYS:
        if merged.get(k) in (None, ""):
            raise UsageError(f"{where}: missing required key '{k}'")
    c = {}
    c["name"] = str(merged["name"])
    if not NAME_RE.match(c["name"]):
        raise UsageError(f"{where}: name '{c['name']}' must be letters, digits, '.', '_' or '-' "
                         f"(it names the result file)")
    if "description" in merged:
        c["description"] = str(merged["description"])
    c.update(run_fields(merged, where, suite_dir))
    # Default overrides come first, the case's own follow (later ones win in accelvp).
    c["overrides"] = parse_overrides(defaults.get("overrides"), where + " (defaults)") + \
        parse_overrides(raw.get("overrides"), where)
    # A model's layer-list file (workload model, docs/models.md) is relative to the suite file, like a config file.
    c["overrides"] = [f"workload.layers={resolve_config(o.split('=', 1)[1], suite_dir)}"
                      if o.startswith("workload.layers=") else o for o in c["overrides"]]
    c["tolerance"] = parse_tolerance(merged.get("tolerance", 0), where)
    # workload 'iss': `accelvp iss --elf ELF` (a bare-metal program on the ISS, e.g. the MIPS
    # benchmark); ELF is relative to the build directory of the accelvp binary.
    if c["workload"] == "iss":
        if not isinstance(merged.get("elf"), str) or not merged["elf"]:
            raise UsageError(f"{where}: workload 'iss' needs 'elf' (a path relative to the build directory, "
                             f"e.g. benchmarks/iss/mips.elf)")
        c["elf"] = merged["elf"]
    elif "elf" in merged:
        raise UsageError(f"{where}: 'elf' is only for workload 'iss'")
    # qemu_elf (workload 'iss'): the same program as a Linux user ELF, also run on QEMU's
    # qemu-riscv32 for the ISS/QEMU time ratios in the summary (runner.compare_with_qemu).
    if "qemu_elf" in merged:
        if c["workload"] != "iss" or not isinstance(merged["qemu_elf"], str) or not merged["qemu_elf"]:
            raise UsageError(f"{where}: 'qemu_elf' (a Linux user ELF for qemu-riscv32, relative to the build "
                             f"directory) is only for workload 'iss'")
        c["qemu_elf"] = merged["qemu_elf"]
    # workload 'memsim': `accelvp memsim` on a trace tools/gen_mem_trace.py generates for the
    # run (mem_trace: {pattern: sequential|random|strided, requests: N, write_ratio: F}).
    if c["workload"] == "memsim":
        t = merged.get("mem_trace")
        if not isinstance(t, dict) or t.get("pattern") not in ("sequential", "random", "strided"):
            raise UsageError(f"{where}: workload 'memsim' needs 'mem_trace' with 'pattern' "
                             f"(sequential, random or strided) and 'requests'")
        unknown = set(t) - {"pattern", "requests", "write_ratio"}
        if unknown:
            raise UsageError(f"{where}: mem_trace: unknown key '{sorted(unknown)[0]}' "
                             f"(valid keys: pattern, requests, write_ratio)")
        n = t.get("requests")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise UsageError(f"{where}: mem_trace.requests must be an integer >= 1, got {n!r}")
        w = t.get("write_ratio", 0)
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 <= w <= 1:
            raise UsageError(f"{where}: mem_trace.write_ratio must be a number in [0, 1], got {w!r}")
        c["mem_trace"] = {"pattern": t["pattern"], "requests": n, "write_ratio": w}
    elif "mem_trace" in merged:
        raise UsageError(f"{where}: 'mem_trace' is only for workload 'memsim'")
    if calibration:
        r = merged.get("repeat", 3)
        if isinstance(r, bool) or not isinstance(r, int) or r < 1:
            raise UsageError(f"{where}: 'repeat' must be an integer >= 1, got {r!r}")
        c["repeat"] = r
    return c


def load_suite(path):
    """Parse and check a suite file. Raises UsageError naming the file, the case and the key."""
    rel = os.path.relpath(path)
    doc = load_yaml_file(yaml, path, "suite")
    if not isinstance(doc, dict):
        raise UsageError(f"suite {rel}: expected a mapping with keys {', '.join(sorted(SUITE_KEYS))}")
    for k in doc:
        if k not in SUITE_KEYS:
            raise UsageError(f"suite {rel}: unknown top-level key '{k}' (valid keys: {', '.join(sorted(SUITE_KEYS))})")
    name = doc.get("suite", os.path.splitext(os.path.basename(path))[0])
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise UsageError(f"suite {rel}: 'suite' must be a name (letters, digits, '.', '_', '-'), got {name!r}")
    suite_dir = os.path.dirname(path)
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise UsageError(f"suite {rel}: 'defaults' must be a mapping")
    for k in defaults:
        if k not in CASE_KEYS - {"name", "description"}:
            raise UsageError(f"suite {rel}: defaults: unknown key '{k}' (valid keys: "
                             f"{', '.join(sorted(CASE_KEYS - {'name', 'description'}))})")
    cases_raw = doc.get("cases")
    if not isinstance(cases_raw, list) or not cases_raw:
        raise UsageError(f"suite {rel}: missing required key 'cases' (a non-empty list of cases)")
    cases, seen = [], set()
    for i, raw in enumerate(cases_raw, 1):
        label = f"case '{raw['name']}'" if isinstance(raw, dict) and raw.get("name") else f"case #{i}"
        c = normalize_case(raw, f"suite {rel}: {label}", suite_dir, defaults)
        if c["name"] in seen:
            raise UsageError(f"suite {rel}: {label}: duplicate case name '{c['name']}'")
        if c["name"].startswith("calibration"):
            raise UsageError(f"suite {rel}: {label}: names starting with 'calibration' are reserved")
        seen.add(c["name"])
        cases.append(c)
    # calibration: a mapping of kinds to runs ({timing: {...}, functional: {...}}), or one run
    # for every kind; a kind not given uses its default run.
    cal_raw = doc.get("calibration")
    calibrations = {k: default_calibration(k) for k in KINDS}
    if cal_raw is not None:
        if not isinstance(cal_raw, dict):
            raise UsageError(f"suite {rel}: 'calibration' must be a mapping: a run, or kinds "
                             f"({', '.join(KINDS)}) to runs")
        if set(cal_raw) & set(KINDS):
            for k, v in cal_raw.items():
                if k not in KINDS:
                    raise UsageError(f"suite {rel}: calibration: unknown kind '{k}' (kinds: {', '.join(KINDS)})")
                c = normalize_case(v, f"suite {rel}: calibration: {k}", suite_dir, {}, calibration=True)
                c["name"] = f"calibration-{k}"
                calibrations[k] = c
        else:
            one = normalize_case(cal_raw, f"suite {rel}: calibration", suite_dir, {}, calibration=True)
            for k in KINDS:
                calibrations[k] = dict(one, name=f"calibration-{k}")
    for c in cases:
        c["kind"] = speed_kind(c)
    return {"suite": name, "description": doc.get("description", ""), "file": path,
            "cases": cases, "calibrations": calibrations}


# --------------------------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------------------------

CSV_FIXED = ("case", "config", "workload", "mode", "seed", "overrides", "status", "verified", "wall_s", "speed",
             "kind", "cpu_s", "rel_time", "peak_rss_mb")


def write_csv(path, results):
    summary_cols = summary_columns(results["cases"])
    rows = []
    for r in results["cases"]:
        row = [r["name"], r["config"], r["workload"], r["mode"], r["seed"], " ".join(r["overrides"]),
               "failed" if case_failed(r) else "ok",
               "" if r.get("verified") is None else str(r["verified"]).lower(),
               fmt_csv(r.get("wall_s")), fmt_csv(r.get("speed")), r.get("kind") or "", fmt_csv(r.get("cpu_s")),
               fmt_csv(r.get("rel_time")), fmt_csv(r.get("peak_rss_mb"))]
        rows.append(row + [fmt_csv(v) for v in summary_values(r, summary_cols)])
    _write_csv(path, list(CSV_FIXED) + summary_cols, rows)


def config_id(cfg):
    return hashlib.sha1(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:12]


def store_config(r, configs):
    """Move a result's effective config (from its stats) into the shared table: the case keeps its id."""
    cfg = r.pop("effective_config", None)
    if isinstance(cfg, dict):
        cid = config_id(cfg)
        configs.setdefault(cid, cfg)
        r["effective_config"] = cid


def spread(runs):
    runs = [x for x in runs if x]
    return round(max(runs) / min(runs) - 1.0, 4) if len(runs) > 1 else None


def loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def cmd_run(args):
    suite = load_suite(suite_path(args.suite))
    accelvp = resolve_accelvp(args.accelvp)
    jobs = args.jobs or cpu_count()
    if jobs < 1 or args.repeat < 1:
        raise UsageError("-j and --repeat must be >= 1")
    out = args.out or default_out_dir("bench",
                                      f"{suite['suite']}-{datetime.datetime.now():%Y%m%d-%H%M%S}")
    out = os.path.abspath(out)
    try:
        os.makedirs(os.path.join(out, "cases"), exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create output directory {out}: {e.strerror}")
    cases = suite["cases"]
    if args.filter:
        rx = re.compile(args.filter)
        cases = [c for c in cases if rx.search(c["name"])]
        if not cases:
            raise UsageError(f"no case of suite {suite['suite']} matches '{args.filter}'")
    log = sys.stderr
    log.write(f"bench: suite {suite['suite']}: {len(cases)} cases, -j {jobs}, repeat {args.repeat}, "
              f"into {out}\n")
    t0 = time.monotonic()
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    load_start = loadavg()

    # The calibration of every kind the cases have runs `repeat` times among the cases, in the
    # same pool: at the start, spread evenly through the queue, and at the end. So it is measured
    # under the same conditions as the cases (-j N processes sharing the cores, whatever else
    # runs on the machine), and the spread of its runs shows how much they changed during the run.
    kinds = [] if args.no_calibration else [k for k in KINDS if any(c["kind"] == k for c in cases)]
    tasks = [("case", c, None) for c in cases]
    for k in kinds:
        cal = suite["calibrations"][k]
        n = cal["repeat"]
        log.write(f"bench: calibration {k} ({cal['config']}, {cal['workload']}, {cal['mode']}"
                  f"{', ' if cal['overrides'] else ''}{' '.join(cal['overrides'])}) x {n}, among the cases\n")
        for i in range(n):
            pos = 0 if n == 1 else round(i * len(cases) / (n - 1))
            pos += sum(1 for t in tasks[:pos] if t[0] == "cal")  # past the calibrations placed already
            tasks.insert(min(pos, len(tasks)), ("cal", dict(cal, name=f"{cal['name']}.{i + 1}"), k))
    cal_runs = {k: [] for k in kinds}

    def work(task):
        what, c, k = task
        if what == "case":
            return dict(run_one(accelvp, c, out, args.repeat), kind=c["kind"])
        r = run_one(accelvp, c, out, 1)  # cases/calibration-KIND.I.json
        cal_runs[k].append(r)
        return r

    progress = Progress(len(tasks), log)
    progress.start()
    results_by_name = run_pool([dict(t[1], _task=t) for t in tasks], jobs, lambda c: work(c["_task"]), progress)
    cals = {}
    for k in kinds:
        runs = cal_runs[k]
        bad = [r for r in runs if case_failed(r)]
        cres = dict(bad[0] if bad else runs[0])
        cres.update(name=suite["calibrations"][k]["name"], repeat=len(runs),
                    cpu_s_runs=[x for r in runs for x in r["cpu_s_runs"]],
                    wall_s_runs=[x for r in runs for x in r["wall_s_runs"]])
        if not bad:
            # the median: the cases ran at every moment of the run, not at its quietest
            cres["cpu_s"] = statistics.median(cres["cpu_s_runs"])
            cres["wall_s"] = statistics.median(cres["wall_s_runs"])
            cres["spread"] = spread(cres["cpu_s_runs"])
        cals[k] = cres
        if bad:
            log.write(f"bench: calibration {k} failed: {cres['error']}; speeds of {k} cases are not normalized\n")
        else:
            log.write(f"bench: calibration {k}: {cres['cpu_s']:.3f} s CPU (median of runs: "
                      f"{', '.join(f'{w:.3f}' for w in cres['cpu_s_runs'])}; spread "
                      f"{(cres['spread'] or 0) * 100:.0f}%)\n")
    ordered = [results_by_name[c["name"]] for c in cases]
    for r in ordered:
        cal = cals.get(r["kind"])
        ok = cal is not None and not case_failed(cal) and cal.get("cpu_s")
        r["rel_time"] = round(r["cpu_s"] / cal["cpu_s"], 6) if (r.get("cpu_s") and ok) else None
        if args.repeat > 1:
            r["spread"] = spread(r["cpu_s_runs"])
    configs = {}
    for r in ordered + list(cals.values()):
        store_config(r, configs)
    failed = [r["name"] for r in ordered if case_failed(r)]
    results = {
        "schema": RESULTS_SCHEMA,
        "suite": suite["suite"],
        "suite_file": os.path.relpath(suite["file"], ROOT),
        "description": suite["description"],
        "started": started,
        "wall_s": round(time.monotonic() - t0, 3),
        "jobs": jobs,
        "repeat": args.repeat,
        "filter": args.filter,
        "host": host_info(),
        "load": {"cpus": cpu_count(), "loadavg_start": load_start, "loadavg_end": loadavg()},
        "accelvp": {"path": accelvp, "version": accelvp_version(accelvp)},
        "git": git_info(),
        "calibrations": cals,
        "cases": ordered,
        "failed": failed,
        "configs": configs,
    }
    write_json(os.path.join(out, "results.json"), results)
    write_csv(os.path.join(out, "results.csv"), results)
    log.write(f"bench: {len(ordered) - len(failed)} ok, {len(failed)} failed in {results['wall_s']:.1f} s; "
              f"results in {out} (results.json, results.csv, cases/)\n")
    if failed:
        log.write(f"bench: failed: {', '.join(failed)}\n")
    return EXIT_FAIL if failed else EXIT_OK


# --------------------------------------------------------------------------------------------
# compare / update-baseline
# --------------------------------------------------------------------------------------------

def load_json_doc(path, what, schemas):
    if os.path.isdir(path):
        path = os.path.join(path, "results.json")
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise UsageError(f"cannot read {what} {path}: {e.strerror}")
    except ValueError as e:
        raise UsageError(f"{what} {path} is not valid JSON: {e}")
    if not isinstance(doc, dict) or doc.get("schema") not in schemas or not isinstance(doc.get("cases"), list):
        raise UsageError(f"{what} {path} is not a bench {'/'.join(schemas)} document")
    for i, c in enumerate(doc["cases"]):
        if not isinstance(c, dict) or not isinstance(c.get("name"), str):
            raise UsageError(f"{what} {path}: case #{i + 1} has no name")
    return doc


def tolerance_allows(tol, base, cur, ns_per_cycle=None):
    """Is |cur - base| within the tolerance? tol: cycles (int) or 'P%'. For a ns metric, a
    cycle tolerance converts through chip.freq_mhz (ns_per_cycle)."""
    diff = abs(cur - base)
    if isinstance(tol, str) and tol.endswith("%"):
        return diff <= abs(base) * float(tol[:-1]) / 100.0 + 1e-9
    limit = float(tol or 0)
    if ns_per_cycle is not None:
        limit *= ns_per_cycle
    return diff <= limit + 1e-9


# Direction of "better" per summary key: -1 lower is better, +1 higher is better, 0 neutral.
def better_direction(key):
    key = key.split(".")[0]  # phase_ns.qkv: a time
    if key in ("cycles",) or key.endswith("_ns") or key.endswith("_us") or key.endswith("_s") \
            or key.endswith("latency"):
        return -1
    if key.endswith("_gbps") or key in ("efficiency", "tflops", "mips") or key.endswith("_tflops") \
            or key.endswith("busbw_gbps"):
        return 1
    return 0


def fmt_change(base, cur):
    if not isinstance(base, (int, float)) or not isinstance(cur, (int, float)) or isinstance(base, bool):
        return "changed"
    d = cur - base
    ds = f"{int(d):+d}" if float(d).is_integer() and abs(d) < 1e15 else f"{d:+.6g}"
    return ds + (f" ({d / base * 100:+.3g}%)" if base else "")


def print_table(rows, out):
    headers = ("case", "metric", "baseline", "current", "change", "verdict")
    widths = [len(h) for h in headers]
    for r in rows:
        widths = [max(w, len(str(x))) for w, x in zip(widths, r)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    out.write(line.rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for r in rows:
        out.write("  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip() + "\n")


# Config keys whose value depends on where the checkout is, not on the model.
PATH_CONFIG_KEYS = ("host.driver.firmware",)


def effective_config(doc, case):
    cid = case.get("effective_config")
    cfg = (doc.get("configs") or {}).get(cid) if isinstance(cid, str) else None
    return cfg if isinstance(cfg, dict) else None


def config_diff(bdoc, b, rdoc, r):
    """[(key, baseline value, current value)] of the effective configs, or None when either is unknown."""
    bc, rc = effective_config(bdoc, b), effective_config(rdoc, r)
    if bc is None or rc is None:
        return None
    return [(k, bc.get(k), rc.get(k)) for k in sorted(set(bc) | set(rc))
            if bc.get(k) != rc.get(k) and k not in PATH_CONFIG_KEYS]


def commit_of(doc):
    g = (doc.get("generated") or {}).get("git") or doc.get("git") or {}
    c = g.get("commit")
    return (c[:12] + ("+dirty" if g.get("dirty") else "")) if c else "-"


def speed_plan(args, base, res, kinds):
    """Per kind of work: is speed checked (fails the compare), reported only, or not compared; and why."""
    plan = {}
    new_docs = base.get("schema") in (BASELINE_SCHEMA, RESULTS_SCHEMA) and res.get("schema") == RESULTS_SCHEMA
    bcals, rcals = base.get("calibrations") or {}, res.get("calibrations") or {}
    for k in kinds:
        bc, rc = bcals.get(k) or {}, rcals.get(k) or {}
        p = {"status": "off", "why": None, "cpu_s": rc.get("cpu_s"), "baseline_cpu_s": bc.get("cpu_s"),
             "spread": rc.get("spread"), "baseline_spread": bc.get("spread")}
        if args.no_speed:
            p["why"] = "--no-speed"
        elif not new_docs:
            p["why"] = "the baseline or results have no CPU times (made by an older bench.py)"
        elif not rc or case_failed(rc) or not rc.get("cpu_s"):
            p["why"] = "no calibration in the results (failed, or run --no-calibration)"
        elif not bc or not bc.get("cpu_s"):
            p["why"] = "the baseline has no calibration of this kind"
        elif any(bc.get(x) != rc.get(x) for x in DEFINITION_KEYS):
            p["why"] = "its calibration is defined differently from the baseline's"
        else:
            # The noise of this kind's measures in both runs: the spread of its calibration runs.
            noise = (rc.get("spread") or 0.0) * 100
            p["limit"] = args.max_slowdown
            if noise > args.max_noise:
                p["status"] = "reported"
                p["why"] = (f"calibration spread {noise:.0f}% > --max-noise {args.max_noise:g}%: "
                            f"the machine's load changed too much to judge")
            else:
                p["status"] = "checked"
        plan[k] = p
    return plan


def confirm(args, res, r, b, k):
    """Re-measure a case whose slowdown is over the limit: --confirm N pairs of (case,
    calibration of its kind) run back to back, alone, so that each pair sees the same machine.
    Returns (slowdown % of the median pair ratio against the baseline's rel_time, a note), or
    None when it cannot be re-run (--confirm 0, no accelvp, no definitions in the results)."""
    cal = (res.get("calibrations") or {}).get(k) or {}
    if args.confirm < 1 or not r.get("run") or not cal.get("run"):
        return None
    accelvp = args.accelvp or (res.get("accelvp") or {}).get("path")
    if not accelvp or not os.access(accelvp, os.X_OK):
        return None
    tmp = tempfile.mkdtemp(prefix="accelvp-bench-confirm-")
    try:
        os.makedirs(os.path.join(tmp, "cases"))
        ratios = []
        for _ in range(args.confirm):
            c = run_one(accelvp, r["run"], tmp, 1)
            cc = run_one(accelvp, cal["run"], tmp, 1)
            if case_failed(c) or case_failed(cc) or not c.get("cpu_s") or not cc.get("cpu_s"):
                return None
            ratios.append(c["cpu_s"] / cc["cpu_s"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rel = statistics.median(ratios)
    return (rel / b["rel_time"] - 1.0) * 100.0, f"median of {len(ratios)} case/calibration pairs run alone"


def cmd_compare(args):
    base = load_json_doc(args.baseline, "baseline",
                         (BASELINE_SCHEMA, RESULTS_SCHEMA) + OLD_BASELINE_SCHEMAS + OLD_RESULTS_SCHEMAS)
    res = load_json_doc(args.results, "results", (RESULTS_SCHEMA,) + OLD_RESULTS_SCHEMAS)
    rows, failures, cases_out = [], [], {}
    base_cases = {c["name"]: c for c in base["cases"]}
    res_cases = {c["name"]: c for c in res["cases"]}
    kinds = [k for k in KINDS if any(c.get("kind") == k for c in res["cases"])]
    plan = speed_plan(args, base, res, kinds)
    speed_changes = {k: [] for k in kinds}
    short = 0

    def add(name, metric, b, c, change, verdict, fail=False):
        rows.append({"case": name, "metric": metric, "baseline": b, "current": c, "change": change,
                     "verdict": verdict, "fail": fail})
        entry = cases_out.setdefault(name, {"status": "ok", "messages": [], "config_diff": None})
        if fail:
            entry["status"] = "fail"
            entry["messages"].append(f"{metric}: {verdict} (baseline {fmt_num(b)}, now {fmt_num(c)})")
            if name not in failures:
                failures.append(name)

    names = [c["name"] for c in base["cases"]] + [c["name"] for c in res["cases"] if c["name"] not in base_cases]
    # Results of `run -k REGEX` hold only the matching cases: the others are not missing.
    rx = re.compile(res["filter"]) if res.get("filter") else None
    filtered = []
    for name in names:
        b, r = base_cases.get(name), res_cases.get(name)
        cases_out.setdefault(name, {"status": "ok", "messages": [], "config_diff": None})
        if r is None and rx is not None and not rx.search(name):
            filtered.append(name)
            cases_out[name]["status"] = "not-run"
            continue
        if r is None:
            add(name, "-", "present", "missing", "-", "FAIL: not in the results", True)
            continue
        if b is not None:
            cases_out[name]["config_diff"] = config_diff(base, b, res, r)
        if case_failed(r):
            add(name, "run", "ok", "failed", "-", f"FAIL: {r.get('error')}", True)
            continue
        if b is None:
            add(name, "-", "-", "new", "-", "new case (no baseline)")
            cases_out[name]["status"] = "new"
            continue
        diffs = [k for k in DEFINITION_KEYS if b.get(k) != r.get(k)]
        if diffs:
            k = diffs[0]
            add(name, k, " ".join(b[k]) if isinstance(b.get(k), list) else b.get(k),
                " ".join(r[k]) if isinstance(r.get(k), list) else r.get(k), "-",
                "FAIL: case definition changed (update the baseline)", True)
            continue
        tol = r.get("tolerance", b.get("tolerance", 0))
        if args.tolerance is not None:
            tol = args.tolerance
        bs, rs = flat_summary(b), flat_summary(r)
        freq = r.get("freq_mhz") or b.get("freq_mhz")
        ns_per_cycle = 1000.0 / freq if freq else None
        keys = [k for k in SUMMARY_FIRST if k in bs or k in rs]
        keys += sorted((set(bs) | set(rs)) - set(keys))
        for k in keys:
            bv, rv = bs.get(k), rs.get(k)
            if bv == rv or k in HOST_SUMMARY_KEYS:  # the simulator's speed, not a model result
                continue
            gated = k in ("cycles", "simulated_ns")
            fail = False
            if gated and isinstance(bv, (int, float)) and isinstance(rv, (int, float)):
                ok = tolerance_allows(tol, bv, rv, ns_per_cycle if k == "simulated_ns" else None)
                direction = "better" if rv < bv else "worse"
                verdict = f"{direction}, within tolerance {tol}" if ok else f"FAIL: {direction}, beyond tolerance {tol}"
                fail = not ok
            elif gated:
                verdict, fail = "FAIL: missing value", True
            else:
                d = better_direction(k)
                if isinstance(bv, (int, float)) and isinstance(rv, (int, float)) and d:
                    verdict = "better" if (rv - bv) * d > 0 else "worse"
                else:
                    verdict = "changed"
            add(name, k, bv, rv, fmt_change(bv, rv), verdict, fail)
        # Speed: the case's CPU time relative to the calibration of its kind in the same run.
        p = plan.get(r.get("kind"))
        if p and p["status"] in ("checked", "reported") and b.get("rel_time") and r.get("rel_time"):
            if min(b.get("cpu_s") or 0, r.get("cpu_s") or 0) < args.min_cpu:
                short += 1
            else:
                slowdown = (r["rel_time"] / b["rel_time"] - 1.0) * 100.0
                speed_changes[r["kind"]].append((slowdown, name))
                change = f"{slowdown:+.1f}% time"

                def speed_row(verdict, fail=False):
                    add(name, "rel_time", f"{b['rel_time']:.4g}", f"{r['rel_time']:.4g}", change, verdict, fail)

                own = (r.get("spread") or 0.0) * 100  # this run's repeats of the case
                limit = p["limit"]
                # A run's own figure is noisy (jobs in parallel, a shared machine): past half the
                # limit the case is suspect and re-measured alone; the re-measure decides. So a real
                # 2x slowdown that the loaded run saw as +52% still fails, and a +70% spike that
                # re-measures at +5% does not.
                suspect = limit * args.suspect_fraction
                judged_here = p["status"] == "checked" and own <= args.max_noise
                if slowdown > suspect and judged_here:
                    conf = confirm(args, res, r, b, k=r["kind"])
                    if conf is None:
                        if slowdown > limit:
                            speed_row(f"FAIL: {slowdown:.0f}% slower (limit {limit:.0f}%)", True)
                        else:
                            speed_row(f"{slowdown:.0f}% slower, within limit (not re-measured)")
                    elif conf[0] > limit:
                        speed_row(f"FAIL: {slowdown:.0f}% slower in the run (limit {limit:.0f}%), re-measured "
                                  f"{conf[0]:+.0f}% ({conf[1]})", True)
                    else:
                        speed_row(f"{slowdown:.0f}% slower in the run, re-measured {conf[0]:+.0f}% ({conf[1]}): "
                                  f"within limit {limit:.0f}%")
                elif slowdown > limit:
                    why = p["why"] if p["status"] != "checked" else f"its repeats spread {own:.0f}%"
                    speed_row(f"{slowdown:.0f}% slower: not failed ({why})")
                elif abs(slowdown) >= args.speed_noise:
                    speed_row("faster" if slowdown < 0 else f"{slowdown:.0f}% slower, within limit")
    # The effective config next to every failing case: a changed preset is not a model regression.
    final_rows = []
    for name in names:
        mine = [row for row in rows if row["case"] == name]
        final_rows += mine
        cd = cases_out.get(name, {}).get("config_diff")
        if cases_out.get(name, {}).get("status") == "fail" and cd:
            for k, bv, rv in cd[:args.max_config_diff]:
                final_rows.append({"case": name, "metric": f"config {k}", "baseline": bv, "current": rv,
                                   "change": "-", "verdict": "config differs", "fail": False})
            if len(cd) > args.max_config_diff:
                final_rows.append({"case": name, "metric": f"config ({len(cd) - args.max_config_diff} more)",
                                   "baseline": "-", "current": "-", "change": "-", "verdict": "config differs",
                                   "fail": False})
    rows = final_rows

    out = sys.stdout
    out.write(f"bench compare: {args.results} ({res.get('suite')}, {len(res['cases'])} cases, git "
              f"{commit_of(res)}) against {args.baseline} ({base.get('suite')}, {len(base['cases'])} cases, git "
              f"{commit_of(base)})\n")
    if rows:
        print_table([(r["case"], r["metric"], fmt_num(r["baseline"]), fmt_num(r["current"]), r["change"],
                      r["verdict"]) for r in rows], out)
    else:
        out.write("no changes\n")
    differing = [n for n, e in cases_out.items() if e.get("config_diff") and e["status"] != "fail"]
    if differing:
        out.write(f"config: {len(differing)} passing case(s) ran with another effective config than the "
                  f"baseline's: {', '.join(differing[:8])}{' ...' if len(differing) > 8 else ''}\n")
    load = res.get("load") or {}
    la = load.get("loadavg_start")
    load_txt = (f"; load average {la[0]:g} at the start, {(load.get('loadavg_end') or la)[0]:g} at the end on "
                f"{load.get('cpus')} cpus" if la else "")
    if not kinds:
        out.write("speed: not compared (no case has a kind: results of an older bench.py)\n")
    for k in kinds:
        p = plan[k]
        if p["status"] == "off":
            out.write(f"speed {k}: not compared: {p['why']}\n")
            continue
        sl = sorted(speed_changes[k])
        cal = (f"calibration {p['cpu_s']:.3f} s CPU (baseline {p['baseline_cpu_s']:.3f} s, "
               f"{(p['cpu_s'] / p['baseline_cpu_s'] - 1) * 100:+.0f}%), spread {(p['spread'] or 0) * 100:.0f}% "
               f"(baseline {(p['baseline_spread'] or 0) * 100:.0f}%)")
        if sl:
            med = statistics.median(x for x, _ in sl)
            body = (f"{len(sl)} cases, median time change {med:+.1f}%, worst {sl[-1][0]:+.1f}% ({sl[-1][1]}); "
                    f"limit +{p['limit']:g}%")
        else:
            body = f"no case of at least {args.min_cpu:g} s CPU"
        verdict = "checked" if p["status"] == "checked" else f"reported, not failed: {p['why']}"
        out.write(f"speed {k}: {body}; {cal}; {verdict}\n")
    g = base.get("generated") or base
    if any(plan[k]["status"] != "off" for k in kinds) and \
            (g.get("jobs"), g.get("repeat")) != (res.get("jobs"), res.get("repeat")):
        out.write(f"note: the baseline was measured with -j {g.get('jobs')} --repeat {g.get('repeat')}, these "
                  f"results with -j {res.get('jobs')} --repeat {res.get('repeat')}: speeds compare less well\n")
    if short:
        out.write(f"speed: {short} cases under {args.min_cpu:g} s CPU not compared{load_txt}\n")
    elif kinds and load_txt:
        out.write(f"speed:{load_txt[1:]}\n")
    if filtered:
        out.write(f"cases: {len(filtered)} baseline cases not run (run -k '{res['filter']}')\n")
    ok = not failures
    if failures:
        out.write(f"FAIL: {len(failures)} case(s): {', '.join(failures)}\n")
    else:
        out.write(f"OK: {len(res['cases'])} cases checked against the baseline\n")
    doc = {"schema": COMPARE_SCHEMA, "ok": ok, "suite": res.get("suite"),
           "baseline": {"file": args.baseline, "commit": commit_of(base), "cases": len(base["cases"])},
           "results": {"file": args.results, "commit": commit_of(res), "cases": len(res["cases"]),
                       "load": res.get("load")},
           "failures": failures, "not_run": filtered,
           "speed": {k: {kk: vv for kk, vv in plan[k].items()} for k in kinds},
           "rows": rows,
           "cases": {n: {"status": e["status"], "messages": e["messages"],
                         "config_diff": [{"key": k, "baseline": bv, "current": rv} for k, bv, rv in
                                         (e["config_diff"] or [])]}
                     for n, e in cases_out.items()}}
    try:
        if args.json:
            write_json(args.json, doc)
        if args.junit:
            write_junit(args.junit, doc, res)
    except OSError as e:
        raise UsageError(f"cannot write {e.filename}: {e.strerror}")
    return EXIT_OK if ok else EXIT_FAIL


def write_junit(path, doc, res):
    """JUnit XML for CI systems: one testcase per case; a failure holds its failing checks and the
    differences of its effective config; cases left out by run -k are skipped."""
    import xml.etree.ElementTree as ET
    suite = f"bench.{doc['suite']}"
    cases = doc["cases"]
    ts = ET.Element("testsuite", name=suite, tests=str(len(cases)),
                    failures=str(sum(e["status"] == "fail" for e in cases.values())),
                    skipped=str(sum(e["status"] == "not-run" for e in cases.values())), errors="0",
                    time=f"{res.get('wall_s') or 0:g}")
    props = ET.SubElement(ts, "properties")
    for k, v in (("baseline", doc["baseline"]["file"]), ("baseline_commit", doc["baseline"]["commit"]),
                 ("results_commit", doc["results"]["commit"])):
        ET.SubElement(props, "property", name=k, value=str(v))
    by_name = {c["name"]: c for c in res["cases"]}
    for name, e in cases.items():
        r = by_name.get(name) or {}
        tc = ET.SubElement(ts, "testcase", classname=suite, name=name, time=f"{r.get('wall_s') or 0:g}")
        if e["status"] == "fail":
            f = ET.SubElement(tc, "failure", message="; ".join(e["messages"])[:500], type="regression")
            text = list(e["messages"])
            if e["config_diff"]:
                text.append("effective config differs from the baseline's:")
                text += [f"  {d['key']}: {fmt_num(d['baseline'])} -> {fmt_num(d['current'])}"
                         for d in e["config_diff"]]
            f.text = "\n".join(text)
        elif e["status"] == "not-run":
            ET.SubElement(tc, "skipped", message="not run (run -k)")
    root = ET.Element("testsuites", name="accelvp bench", tests=ts.get("tests"), failures=ts.get("failures"))
    root.append(ts)
    tmp = path + ".tmp"
    ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, path)


def baseline_case(r):
    keep = ("name", "description", "config", "workload", "mode", "seed", "overrides", "tolerance", "verified",
            "freq_mhz", "simulated_ns", "summary", "wall_s", "speed", "kind", "cpu_s", "rel_time",
            "peak_rss_mb", "peak_rss_mb_per_chip", "wall_s_per_chip", "effective_config")
    return {k: r[k] for k in keep if k in r}


def cmd_update_baseline(args):
    res = load_json_doc(args.results, "results", (RESULTS_SCHEMA,))
    failed = [c["name"] for c in res["cases"] if case_failed(c)]
    if failed and not args.force:
        sys.stderr.write(f"bench: not updating {args.baseline}: failed cases {', '.join(failed)} "
                         f"(--force writes the others)\n")
        return EXIT_FAIL
    cases = [baseline_case(c) for c in res["cases"] if c["name"] not in failed]
    cals = {k: {x: c.get(x) for x in ("name", "config", "workload", "mode", "seed", "overrides", "repeat",
                                      "wall_s", "wall_s_runs", "cpu_s", "cpu_s_runs", "spread", "simulated_ns",
                                      "effective_config")}
            for k, c in (res.get("calibrations") or {}).items() if not case_failed(c)}
    used = {c.get("effective_config") for c in cases} | {c.get("effective_config") for c in cals.values()}
    doc = {
        "schema": BASELINE_SCHEMA,
        "suite": res.get("suite"),
        "suite_file": res.get("suite_file"),
        "generated": {"started": res.get("started"), "host": res.get("host"), "git": res.get("git"),
                      "accelvp": (res.get("accelvp") or {}).get("version"), "jobs": res.get("jobs"),
                      "repeat": res.get("repeat"), "wall_s": res.get("wall_s"), "load": res.get("load")},
        "calibrations": cals,
        "cases": cases,
        "configs": {k: v for k, v in (res.get("configs") or {}).items() if k in used},
    }
    old = None
    if os.path.exists(args.baseline):
        try:
            with open(args.baseline) as f:
                old = json.load(f)
        except (OSError, ValueError):
            old = None
    d = os.path.dirname(os.path.abspath(args.baseline))
    os.makedirs(d, exist_ok=True)
    write_json(args.baseline, doc)
    msg = f"bench: wrote {args.baseline}: {len(doc['cases'])} cases of suite {doc['suite']}"
    if old and isinstance(old.get("cases"), list):
        names_old = {c.get("name") for c in old["cases"]}
        names_new = {c["name"] for c in doc["cases"]}
        if names_old - names_new:
            msg += f"; dropped {', '.join(sorted(n for n in names_old - names_new if n))}"
        if names_new - names_old:
            msg += f"; added {', '.join(sorted(names_new - names_old))}"
    sys.stderr.write(msg + "\n")
    noisy = [f"{k} {c['spread'] * 100:.0f}%" for k, c in cals.items() if (c.get("spread") or 0) > 0.5]
    if noisy:
        sys.stderr.write(f"bench: warning: calibration spread {', '.join(noisy)}: the load changed too much during "
                         f"this run for its speeds to be a good reference; make the baseline again\n")
    return EXIT_OK


def headline(c):
    """A case's main figure, from its summary, for tables (`table`)."""
    s = c.get("summary") or {}
    w = c.get("workload")
    if w == "collective" and "busbw_gbps" in s:
        return f"busbw {s['busbw_gbps']:.3f} GB/s ({s.get('bound_ratio', 0):.3f} of bound)"
    if w == "iss" and "mips" in s:
        vs = f", {s['wall_vs_qemu']:.1f}x QEMU's wall time" if "wall_vs_qemu" in s else ""
        return f"{s['mips']:.1f} MIPS ({s.get('instructions')} instructions){vs}"
    if w == "memsim" and "bandwidth_gbps" in s:
        return f"{s['bandwidth_gbps']:.1f} GB/s ({s.get('efficiency', 0):.3f} of peak), {s.get('requests')} requests"
    if "tflops" in s:
        return f"{s['tflops']:.1f} TFLOPS, util {s.get('utilization', 0):.3f}, bound {s.get('bound', '?')}"
    if "bandwidth_gbps" in s:
        return f"{s['bandwidth_gbps']:.3f} GB/s ({s.get('efficiency', 0):.3f} of peak)"
    return ""


def cmd_table(args):
    """The results as a Markdown table (docs/benchmarks.md quotes it)."""
    res = load_json_doc(args.results, "results", (RESULTS_SCHEMA,) + OLD_RESULTS_SCHEMAS)
    print("| case | workload | mode | verified | cycles | headline | cpu_s | wall_s |")
    print("|---|---|---|---|---:|---|---:|---:|")
    for c in res["cases"]:
        s = c.get("summary") or {}
        v = c.get("verified")
        ver = "-" if v is None else str(bool(v)).lower()
        cyc = s.get("cycles", "")
        cpu = f"{c['cpu_s']:.3f}" if c.get("cpu_s") is not None else ""
        wall = f"{c['wall_s']:.3f}" if c.get("wall_s") is not None else ""
        print(f"| `{c['name']}` | {c.get('workload')} | {c.get('mode')} | {ver} | {cyc} | {headline(c)} | {cpu} | {wall} |")
    return 0


def cmd_list(args):
    if not args.suite:
        for s in list_suites():
            try:
                suite = load_suite(os.path.join(SUITE_DIR, s + ".yaml"))
                print(f"{s:<12} {len(suite['cases']):>3} cases  {suite['description']}")
            except UsageError as e:
                print(f"{s:<12} error: {e}")
        return EXIT_OK
    suite = load_suite(suite_path(args.suite))
    for c in suite["cases"]:
        print(f"{c['name']:<40} -c {c['config']} -w {c['workload']} --mode {c['mode']} "
              f"{' '.join('-p ' + o for o in c['overrides'])}"
              + (f"  (tolerance {c['tolerance']})" if c["tolerance"] else ""))
    return EXIT_OK


# --------------------------------------------------------------------------------------------

def main(argv=None):
    ap = Parser(prog="bench.py", tag="bench", description="accelvp benchmark suites and the performance-regression gate "
                                             "(docs/benchmarks.md). Exit codes: 0 ok, 1 failed case or "
                                             "regression, 2 usage or suite error.")
    sub = ap.add_subparsers(dest="cmd", metavar="{run,compare,update-baseline,list}")
    sub.required = True
    p = sub.add_parser("run", help="run a suite's cases in parallel processes")
    p.add_argument("suite", help="suite name (benchmarks/suites/NAME.yaml) or path")
    p.add_argument("-j", "--jobs", type=int, default=0, help="parallel processes (default: the core count)")
    p.add_argument("--out", help="results directory (default build/bench/SUITE-TIMESTAMP)")
    p.add_argument("--repeat", type=int, default=1, help="run each case R times, keep the fastest (default 1)")
    p.add_argument("--accelvp", default=default_accelvp(),
                   help="the accelvp program (default $ACCELVP, which `accelvp bench` sets to itself, else accelvp on PATH)")
    p.add_argument("-k", "--filter", help="run only cases whose name matches this regular expression")
    p.add_argument("--no-calibration", action="store_true",
                   help="skip the calibration runs (speed cannot be compared then)")
    p = sub.add_parser("compare", help="compare results against a baseline; exit 1 on a regression")
    p.add_argument("--baseline", required=True, help="baseline JSON (benchmarks/baselines/SUITE.json)")
    p.add_argument("results", help="results directory of 'run' (or its results.json)")
    p.add_argument("--no-speed", action="store_true", help="compare simulated cycles only, not simulator speed")
    p.add_argument("--max-slowdown", type=float, default=60.0,
                   help="fail when a case's CPU time relative to the calibration of its kind grew by more than "
                        "PCT when re-measured alone (default 60)")
    p.add_argument("--suspect-fraction", type=float, default=0.5, metavar="F",
                   help="re-measure a case whose slowdown in the run is over F x --max-slowdown: a loaded run "
                        "under-reports as well as over-reports (default 0.5)")
    p.add_argument("--max-noise", type=float, default=50.0,
                   help="report but do not fail speed when the spread of a kind's calibration runs (or of a "
                        "case's repeats) exceeds PCT: the load changed too much to judge (default 50)")
    p.add_argument("--min-cpu", "--min-wall", dest="min_cpu", type=float, default=0.1,
                   help="compare speed only for cases that used at least this many CPU seconds (default 0.1)")
    p.add_argument("--speed-noise", type=float, default=10.0,
                   help="list speed changes of at least PCT in the table (default 10)")
    p.add_argument("--tolerance", help="override every case's cycle tolerance (cycles or 'P%%')")
    p.add_argument("--json", metavar="FILE", help="also write the comparison as JSON")
    p.add_argument("--junit", metavar="FILE", help="also write the comparison as JUnit XML (a testcase per case)")
    p.add_argument("--confirm", type=int, default=3, metavar="N",
                   help="re-measure a suspect case with N (case, calibration) pairs run back to back; it fails "
                        "only if the re-measure is over the limit (default 3; 0: no re-measure, the run's figure "
                        "decides)")
    p.add_argument("--accelvp", help="the accelvp for --confirm (default: the one that made the results)")
    p.add_argument("--max-config-diff", type=int, default=10, metavar="N",
                   help="config differences shown per failing case (default 10)")
    p = sub.add_parser("update-baseline", help="write a baseline from a results directory, on purpose")
    p.add_argument("results", help="results directory of 'run' (or its results.json)")
    p.add_argument("--baseline", required=True, help="baseline JSON to (over)write")
    p.add_argument("--force", action="store_true", help="write it even if some cases failed (they are left out)")
    p = sub.add_parser("table", help="print a results directory as a Markdown table (case, cycles, headline, times)")
    p.add_argument("results", help="results directory of 'run' (or its results.json)")
    p = sub.add_parser("list", help="list suites, or the cases of one suite")
    p.add_argument("suite", nargs="?")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "compare" and args.tolerance is not None:
            args.tolerance = parse_tolerance(int(args.tolerance) if args.tolerance.isdigit() else args.tolerance,
                                             "--tolerance")
        return {"run": cmd_run, "compare": cmd_compare, "update-baseline": cmd_update_baseline,
                "list": cmd_list, "table": cmd_table}[args.cmd](args)
    except UsageError as e:
        die(str(e))
    except KeyboardInterrupt:
        die("interrupted", EXIT_FAIL)


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `... list | head` ends quietly
    sys.exit(main())
