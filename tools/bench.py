#!/usr/bin/env python3
"""accelvp benchmark suites and the performance-regression gate (docs/benchmarks.md).

  tools/bench.py list [SUITE]
  tools/bench.py run SUITE [-j N] [--out DIR] [--repeat R] [--accelvp PATH]
  tools/bench.py compare --baseline FILE RESULTS [--tolerance N] [--max-slowdown PCT] [--no-speed]
  tools/bench.py update-baseline RESULTS --baseline FILE [--force]

SUITE is a name under benchmarks/suites/ (smoke, full) or a path to a suite YAML file.
RESULTS is the directory written by `run` (or its results.json).
Exit codes: 0 success, 1 a case failed (run) or a regression was found (compare),
2 usage error, bad suite file or unreadable results/baseline.

Python 3 standard library plus PyYAML (Debian's python3-yaml, installed by tools/setup.sh).
"""
import datetime
import json
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from accelvp_tools.common import (EXIT_FAIL, EXIT_OK, EXIT_USAGE, ROOT, Parser, UsageError,  # noqa: E402
                                  cpu_count, default_accelvp, die as _die, fmt_csv, fmt_num, git_info, host_info,
                                  accelvp_version, load_yaml_file, parse_overrides, require_module,
                                  run_fields, write_csv as _write_csv, write_json)
from accelvp_tools.runner import (DEFINITION_KEYS, SUMMARY_FIRST, Progress, case_failed,  # noqa: E402
                                  run_one, run_pool, summary_columns, summary_values)

yaml = require_module("yaml", "python3-yaml", "bench")
SUITE_DIR = os.path.join(ROOT, "benchmarks", "suites")
RESULTS_SCHEMA = "accelvp-bench-results/1"
BASELINE_SCHEMA = "accelvp-bench-baseline/1"


def die(msg, code=EXIT_USAGE):
    _die("bench", msg, code)


# --------------------------------------------------------------------------------------------
# Suites
# --------------------------------------------------------------------------------------------

SUITE_KEYS = {"suite", "description", "defaults", "calibration", "cases"}
CASE_KEYS = {"name", "description", "config", "workload", "mode", "overrides", "seed", "tolerance",
             "timeout_s", "trace", "elf", "mem_trace"}
REQUIRED_CASE_KEYS = ("name", "config")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# The fixed calibration run: the simulator's speed on it is the unit of every case's speed.
DEFAULT_CALIBRATION = {"name": "calibration", "config": "inference", "workload": "dma-copy", "mode": "timing",
                       "overrides": ["workload.bytes=4GiB", "workload.direction=h2d"], "seed": 1,
                       "tolerance": 0, "timeout_s": 600, "repeat": 3}


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
        if c["name"] == "calibration":
            raise UsageError(f"suite {rel}: {label}: the name 'calibration' is reserved")
        seen.add(c["name"])
        cases.append(c)
    cal_raw = doc.get("calibration")
    if cal_raw is None:
        calibration = dict(DEFAULT_CALIBRATION)
    else:
        calibration = normalize_case(cal_raw, f"suite {rel}: calibration", suite_dir, {}, calibration=True)
        calibration["name"] = "calibration"
    return {"suite": name, "description": doc.get("description", ""), "file": path,
            "cases": cases, "calibration": calibration}


# --------------------------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------------------------

CSV_FIXED = ("case", "config", "workload", "mode", "seed", "overrides", "status", "verified", "wall_s", "speed",
             "rel_speed")


def write_csv(path, results):
    summary_cols = summary_columns(results["cases"])
    rows = []
    for r in results["cases"]:
        row = [r["name"], r["config"], r["workload"], r["mode"], r["seed"], " ".join(r["overrides"]),
               "failed" if case_failed(r) else "ok",
               "" if r.get("verified") is None else str(r["verified"]).lower(),
               fmt_csv(r.get("wall_s")), fmt_csv(r.get("speed")), fmt_csv(r.get("rel_speed"))]
        rows.append(row + [fmt_csv(v) for v in summary_values(r, summary_cols)])
    _write_csv(path, list(CSV_FIXED) + summary_cols, rows)


def cmd_run(args):
    suite = load_suite(suite_path(args.suite))
    accelvp = os.path.abspath(args.accelvp)
    if not os.access(accelvp, os.X_OK):
        raise UsageError(f"no accelvp program at {accelvp} (build it: cmake --build build, or give --accelvp)")
    jobs = args.jobs or cpu_count()
    if jobs < 1 or args.repeat < 1:
        raise UsageError("-j and --repeat must be >= 1")
    out = args.out or os.path.join(ROOT, "build", "bench",
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

    # Calibration first and alone, so that its speed is not disturbed by the other cases.
    cal = suite["calibration"]
    log.write(f"bench: calibration ({cal['config']}, {cal['workload']}, {cal['mode']}, "
              f"{' '.join(cal['overrides'])}) x {cal['repeat']}\n")
    cal_res = run_one(accelvp, cal, out, cal["repeat"])
    cal_res["repeat"] = cal["repeat"]
    if case_failed(cal_res):
        log.write(f"bench: calibration failed: {cal_res['error']}; speeds are not normalized\n")
    else:
        log.write(f"bench: calibration {cal_res['wall_s']:.3f} s (runs: "
                  f"{', '.join(f'{w:.3f}' for w in cal_res['wall_s_runs'])})\n")

    progress = Progress(len(cases), log)
    progress.start()
    results_by_name = run_pool(cases, jobs, lambda c: run_one(accelvp, c, out, args.repeat), progress)
    cal_speed = cal_res.get("speed") if not case_failed(cal_res) else None
    ordered = [results_by_name[c["name"]] for c in cases]
    for r in ordered:
        r["rel_speed"] = r["speed"] / cal_speed if (r.get("speed") and cal_speed) else None
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
        "accelvp": {"path": accelvp, "version": accelvp_version(accelvp)},
        "git": git_info(),
        "calibration": cal_res,
        "cases": ordered,
        "failed": failed,
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


def cmd_compare(args):
    base = load_json_doc(args.baseline, "baseline", (BASELINE_SCHEMA, RESULTS_SCHEMA))
    res = load_json_doc(args.results, "results", (RESULTS_SCHEMA,))
    out = sys.stdout
    rows, failures = [], []
    base_cases = {c["name"]: c for c in base["cases"]}
    res_cases = {c["name"]: c for c in res["cases"]}
    speed_check = not args.no_speed
    speed_note = None
    bcal, rcal = base.get("calibration") or {}, res.get("calibration") or {}
    if speed_check:
        if any(bcal.get(k) != rcal.get(k) for k in DEFINITION_KEYS):
            speed_note = "calibration case differs from the baseline's: speed not compared"
        elif case_failed(rcal) or not rcal.get("speed") or not bcal.get("speed"):
            speed_note = "calibration missing or failed: speed not compared"
        if speed_note:
            speed_check = False
    speed_changes = []
    short = 0

    names = [c["name"] for c in base["cases"]] + [c["name"] for c in res["cases"] if c["name"] not in base_cases]
    # Results of `run -k REGEX` hold only the matching cases: the others are not missing.
    rx = re.compile(res["filter"]) if res.get("filter") else None
    filtered = 0
    for name in names:
        b, r = base_cases.get(name), res_cases.get(name)
        if r is None and rx is not None and not rx.search(name):
            filtered += 1
            continue
        if r is None:
            rows.append((name, "-", "present", "missing", "-", "FAIL: not in the results"))
            failures.append(name)
            continue
        if case_failed(r):
            rows.append((name, "run", "ok", "failed", "-", f"FAIL: {r.get('error')}"))
            failures.append(name)
            continue
        if b is None:
            rows.append((name, "-", "-", "new", "-", "new case (no baseline)"))
            continue
        diffs = [k for k in DEFINITION_KEYS if b.get(k) != r.get(k)]
        if diffs:
            k = diffs[0]
            rows.append((name, k, fmt_num(" ".join(b[k]) if isinstance(b.get(k), list) else b.get(k)),
                         fmt_num(" ".join(r[k]) if isinstance(r.get(k), list) else r.get(k)), "-",
                         "FAIL: case definition changed (update the baseline)"))
            failures.append(name)
            continue
        tol = r.get("tolerance", b.get("tolerance", 0))
        if args.tolerance is not None:
            tol = args.tolerance
        bs, rs = dict(b.get("summary") or {}), dict(r.get("summary") or {})
        bs.setdefault("simulated_ns", b.get("simulated_ns"))
        rs.setdefault("simulated_ns", r.get("simulated_ns"))
        freq = r.get("freq_mhz") or b.get("freq_mhz")
        ns_per_cycle = 1000.0 / freq if freq else None
        keys = [k for k in SUMMARY_FIRST if k in bs or k in rs]
        keys += sorted((set(bs) | set(rs)) - set(keys))
        for k in keys:
            bv, rv = bs.get(k), rs.get(k)
            if bv == rv:
                continue
            gated = k in ("cycles", "simulated_ns")
            if gated and isinstance(bv, (int, float)) and isinstance(rv, (int, float)):
                ok = tolerance_allows(tol, bv, rv, ns_per_cycle if k == "simulated_ns" else None)
                direction = "better" if rv < bv else "worse"
                verdict = f"{direction}, within tolerance {tol}" if ok else f"FAIL: {direction}, beyond tolerance {tol}"
                if not ok and name not in failures:
                    failures.append(name)
            elif gated:
                verdict = "FAIL: missing value"
                if name not in failures:
                    failures.append(name)
            else:
                d = better_direction(k)
                if isinstance(bv, (int, float)) and isinstance(rv, (int, float)) and d:
                    verdict = "better" if (rv - bv) * d > 0 else "worse"
                else:
                    verdict = "changed"
            rows.append((name, k, fmt_num(bv), fmt_num(rv), fmt_change(bv, rv), verdict))
        # Speed: each case's speed relative to the calibration run of the same results.
        if speed_check:
            bw, rw = b.get("wall_s"), r.get("wall_s")
            if not (b.get("rel_speed") and r.get("rel_speed")):
                continue
            if bw is None or rw is None or min(bw, rw) < args.min_wall:
                short += 1
                continue
            # slowdown: growth of the case's time relative to the calibration's.
            slowdown = (b["rel_speed"] / r["rel_speed"] - 1.0) * 100.0
            speed_change = f"{(r['rel_speed'] / b['rel_speed'] - 1.0) * 100.0:+.1f}% speed"
            speed_changes.append((slowdown, name))
            if slowdown > args.max_slowdown:
                rows.append((name, "rel_speed", f"{b['rel_speed']:.4g}", f"{r['rel_speed']:.4g}",
                             speed_change, f"FAIL: {slowdown:.0f}% slower (limit {args.max_slowdown:g}%)"))
                if name not in failures:
                    failures.append(name)
            elif abs(slowdown) >= args.speed_noise:
                rows.append((name, "rel_speed", f"{b['rel_speed']:.4g}", f"{r['rel_speed']:.4g}",
                             speed_change, "faster" if slowdown < 0 else f"{slowdown:.0f}% slower, within limit"))

    out.write(f"bench compare: {args.results} ({res.get('suite')}, {len(res['cases'])} cases) "
              f"against {args.baseline} ({base.get('suite')}, {len(base['cases'])} cases)\n")
    if rows:
        print_table(rows, out)
    else:
        out.write("no changes\n")
    if args.no_speed:
        out.write("speed: not compared (--no-speed)\n")
    elif speed_note:
        out.write(f"speed: {speed_note}\n")
    elif speed_changes:
        g = base.get("generated") or base
        if (g.get("jobs"), g.get("repeat")) != (res.get("jobs"), res.get("repeat")):
            out.write(f"note: the baseline was measured with -j {g.get('jobs')} --repeat {g.get('repeat')}, these "
                      f"results with -j {res.get('jobs')} --repeat {res.get('repeat')}: speeds compare less well\n")
        sl = sorted(speed_changes)
        med = statistics.median(s for s, _ in sl)
        out.write(f"speed: {len(sl)} cases compared relative to the calibration (baseline "
                  f"{bcal['wall_s']:.3f} s, now {rcal['wall_s']:.3f} s); median time change {med:+.1f}%, "
                  f"worst {sl[-1][0]:+.1f}% ({sl[-1][1]}), best {sl[0][0]:+.1f}% ({sl[0][1]}); "
                  f"limit +{args.max_slowdown:g}%")
        out.write(f"; {short} cases under {args.min_wall:g} s not compared\n" if short else "\n")
    else:
        out.write(f"speed: no case long enough to compare (min wall {args.min_wall:g} s)\n")
    if filtered:
        out.write(f"cases: {filtered} baseline cases not run (run -k '{res['filter']}')\n")
    if failures:
        out.write(f"FAIL: {len(failures)} case(s): {', '.join(failures)}\n")
        return EXIT_FAIL
    out.write(f"OK: {len(res['cases'])} cases checked against the baseline\n")
    return EXIT_OK


def baseline_case(r):
    keep = ("name", "description", "config", "workload", "mode", "seed", "overrides", "tolerance", "verified",
            "freq_mhz", "simulated_ns", "summary", "wall_s", "speed", "rel_speed")
    return {k: r[k] for k in keep if k in r}


def cmd_update_baseline(args):
    res = load_json_doc(args.results, "results", (RESULTS_SCHEMA,))
    failed = [c["name"] for c in res["cases"] if case_failed(c)]
    if failed and not args.force:
        sys.stderr.write(f"bench: not updating {args.baseline}: failed cases {', '.join(failed)} "
                         f"(--force writes the others)\n")
        return EXIT_FAIL
    cal = res.get("calibration") or {}
    doc = {
        "schema": BASELINE_SCHEMA,
        "suite": res.get("suite"),
        "suite_file": res.get("suite_file"),
        "generated": {"started": res.get("started"), "host": res.get("host"), "git": res.get("git"),
                      "accelvp": (res.get("accelvp") or {}).get("version"), "jobs": res.get("jobs"),
                      "repeat": res.get("repeat"), "wall_s": res.get("wall_s")},
        "calibration": {k: cal.get(k) for k in ("name", "config", "workload", "mode", "seed", "overrides",
                                                "repeat", "wall_s", "wall_s_runs", "simulated_ns", "speed")},
        "cases": [baseline_case(c) for c in res["cases"] if c["name"] not in failed],
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
    return EXIT_OK


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
                   help="the accelvp program (default $ACCELVP or build/bin/accelvp)")
    p.add_argument("-k", "--filter", help="run only cases whose name matches this regular expression")
    p = sub.add_parser("compare", help="compare results against a baseline; exit 1 on a regression")
    p.add_argument("--baseline", required=True, help="baseline JSON (benchmarks/baselines/SUITE.json)")
    p.add_argument("results", help="results directory of 'run' (or its results.json)")
    p.add_argument("--no-speed", action="store_true", help="compare simulated cycles only, not simulator speed")
    p.add_argument("--max-slowdown", type=float, default=50.0,
                   help="fail when a case's time relative to the calibration grew by more than PCT (default 50)")
    p.add_argument("--min-wall", type=float, default=0.2,
                   help="compare speed only for cases that ran at least this many seconds (default 0.2)")
    p.add_argument("--speed-noise", type=float, default=10.0,
                   help="list speed changes of at least PCT in the table (default 10)")
    p.add_argument("--tolerance", help="override every case's cycle tolerance (cycles or 'P%%')")
    p = sub.add_parser("update-baseline", help="write a baseline from a results directory, on purpose")
    p.add_argument("results", help="results directory of 'run' (or its results.json)")
    p.add_argument("--baseline", required=True, help="baseline JSON to (over)write")
    p.add_argument("--force", action="store_true", help="write it even if some cases failed (they are left out)")
    p = sub.add_parser("list", help="list suites, or the cases of one suite")
    p.add_argument("suite", nargs="?")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "compare" and args.tolerance is not None:
            args.tolerance = parse_tolerance(int(args.tolerance) if args.tolerance.isdigit() else args.tolerance,
                                             "--tolerance")
        return {"run": cmd_run, "compare": cmd_compare, "update-baseline": cmd_update_baseline,
                "list": cmd_list}[args.cmd](args)
    except UsageError as e:
        die(str(e))
    except KeyboardInterrupt:
        die("interrupted", EXIT_FAIL)


if __name__ == "__main__":
    sys.exit(main())
