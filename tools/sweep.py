#!/usr/bin/env python3
"""accelvp parameter sweeps (docs/benchmarks.md#sweeps): one `accelvp run` per point of the
cartesian product of a spec's grid, in parallel processes (local) or as a Slurm job array.

  tools/sweep.py SPEC.yaml [-j N] [--out DIR] [--backend local|slurm] [--accelvp PATH] [--list]
                 [--no-check] [--sbatch-arg ARG]... [--poll S] [--no-wait]

Every point's result is written atomically (cases/NAME.result.json, after its stats), so a
sweep that was interrupted resumes where it stopped when run again with the same --out: the
points already complete are skipped. Exit codes: 0 all points ok, 1 a point failed (or the
Slurm job could not run), 2 usage error or bad spec.
"""
import datetime
import glob
import itertools
import json
import math
import os
import re
import shlex
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from accelvp_tools.common import (EXIT_FAIL, EXIT_OK, EXIT_USAGE, ROOT, Parser, UsageError,  # noqa: E402
                                  accelvp_version, cpu_count, default_accelvp, default_out_dir, die as _die, fmt_csv,
                                  git_info, resolve_accelvp,
                                  host_info, load_yaml_file, parse_overrides, require_module, resolve_config,
                                  run_fields, scalar_text, write_csv, write_json, MODES)
from accelvp_tools.runner import (DEFINITION_KEYS, Progress, case_failed, run_one, run_pool,  # noqa: E402
                                  summary_columns, summary_values)

SCHEMA = "accelvp-sweep-results/1"
SPEC_KEYS = {"sweep", "description", "config", "workload", "mode", "seed", "overrides", "grid", "timeout_s",
             "trace"}
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$")
SWEEP_PY = os.path.abspath(__file__)


def die(msg, code=EXIT_USAGE):
    _die("sweep", msg, code)


def log(msg):
    sys.stderr.write(f"sweep: {msg}\n")
    sys.stderr.flush()


# --------------------------------------------------------------------------------------------
# The spec
# --------------------------------------------------------------------------------------------

def point_names(grid_keys, combos):
    """A readable, stable file name per point: short key=value pairs ('bytes=4MiB_lanes=8');
    the full key where short names would clash, an index suffix where values would. A config
    file on a 'config' axis is named by its base name."""
    short = [k.rsplit(".", 1)[-1] for k in grid_keys]
    if len(set(short)) != len(short):
        short = list(grid_keys)
    names, seen = [], set()
    for i, combo in enumerate(combos):
        vals = [os.path.splitext(os.path.basename(v))[0] if k == "config" else v for k, v in zip(grid_keys, combo)]
        n = "_".join(f"{k}={re.sub(r'[^A-Za-z0-9._-]', '-', v)}" for k, v in zip(short, vals))
        if n in seen:
            n = f"{n}_{i}"
        seen.add(n)
        names.append(n)
    return names


# Grid axes that are not -p keys: the run's own fields. 'sim.mode' is the same axis as 'mode'
# (it is passed as --mode, which would otherwise win over -p sim.mode).
RUN_AXES = ("config", "mode", "seed")
MODE_KEYS = ("mode", "sim.mode")


def grid_values(where, k, vals):
    if not isinstance(vals, list) or not vals:
        raise UsageError(f"{where}: '{k}' must be a non-empty list of values, e.g. {k}: [1, 2, 4]")
    texts = [scalar_text(v, where, k) for v in vals]
    dup = sorted({t for t in texts if texts.count(t) > 1})
    if dup:
        raise UsageError(f"{where}: '{k}' lists {dup[0]!r} twice")
    if k in MODE_KEYS:
        for t in texts:
            if t not in MODES:
                raise UsageError(f"{where}: '{k}' value '{t}' must be one of {', '.join(MODES)}")
    if k == "seed":
        for t in texts:
            if not t.isdigit():
                raise UsageError(f"{where}: 'seed' value '{t}' must be an integer >= 0")
    return texts


def check_axis_key(where, k):
    if not isinstance(k, str) or not (KEY_RE.match(k) or k in RUN_AXES):
        raise UsageError(f"{where}: {k!r} is not a parameter key like 'pcie.lanes' or 'workload.bytes' "
                         f"(or one of {', '.join(RUN_AXES)}, or a 'zip' group)")


def parse_grid(grid, where):
    """grid -> axes: [(keys, [value tuples])]. A plain key is an axis of its own; a 'zip' group
    (a mapping, or a list of mappings) is one axis whose keys vary together, value i of every
    key in point i of the group (the lists must be of the same length)."""
    if not isinstance(grid, dict):
        raise UsageError(f"{where}: 'grid' must be a mapping of -p keys (config keys or workload.*) to lists "
                         f"of values, got {type(grid).__name__}")
    axes, seen = [], set()

    def add_key(k, w):
        check_axis_key(w, k)
        mk = "mode" if k in MODE_KEYS else k
        if mk in seen:
            raise UsageError(f"{w}: '{k}' is given twice" + (" (mode and sim.mode are the same axis)"
                                                             if k in MODE_KEYS else ""))
        seen.add(mk)

    for k, vals in grid.items():
        if k == "zip":
            groups = vals if isinstance(vals, list) else [vals]
            for gi, g in enumerate(groups, 1):
                gw = f"{where}: grid: zip" + (f" group {gi}" if len(groups) > 1 else "")
                if not isinstance(g, dict) or not g:
                    raise UsageError(f"{gw}: expected a mapping of keys to lists of values of the same length, "
                                     f"e.g. zip: {{compute.array_rows: [64, 128], compute.array_cols: [64, 128]}}")
                keys, cols = [], []
                for gk, gv in g.items():
                    add_key(gk, gw)
                    keys.append(gk)
                    cols.append(grid_values(gw, gk, gv))
                lens = {len(c) for c in cols}
                if len(lens) > 1:
                    raise UsageError(f"{gw}: the lists must have the same length to be zipped, got "
                                     + ", ".join(f"'{kk}': {len(c)}" for kk, c in zip(keys, cols)))
                axes.append((tuple(keys), list(zip(*cols))))
            continue
        add_key(k, f"{where}: grid")
        axes.append(((k,), [(t,) for t in grid_values(f"{where}: grid", k, vals)]))
    if not axes:
        raise UsageError(f"{where}: missing required key 'grid' (a mapping of -p keys to lists of values)")
    return axes


def load_spec(path):
    """Parse and check a sweep spec. Raises UsageError naming the file and the key."""
    yaml = require_module("yaml", "python3-yaml", "sweep")
    rel = os.path.relpath(path)
    where = f"spec {rel}"
    doc = load_yaml_file(yaml, path, "spec")
    if not isinstance(doc, dict):
        raise UsageError(f"{where}: expected a mapping with keys {', '.join(sorted(SPEC_KEYS))}")
    for k in doc:
        if k not in SPEC_KEYS:
            raise UsageError(f"{where}: unknown key '{k}' (valid keys: {', '.join(sorted(SPEC_KEYS))})")
    if doc.get("grid") in (None, "", {}):
        raise UsageError(f"{where}: missing required key 'grid' (a mapping of -p keys to lists of values)")
    axes = parse_grid(doc["grid"], where)
    keys = [k for ks, _ in axes for k in ks]
    spec_dir = os.path.dirname(os.path.abspath(path))
    # A run field is set in one place: the spec's key, an override (sim.mode) or a grid axis.
    overrides = parse_overrides(doc.get("overrides"), where)
    mode_axis = next((k for k in keys if k in MODE_KEYS), None)
    ov_mode = [o for o in overrides if o.split("=", 1)[0] == "sim.mode"]
    mode_sources = (["'mode'"] if "mode" in doc else []) + [f"overrides '{o}'" for o in ov_mode] \
        + ([f"grid '{mode_axis}'"] if mode_axis else [])
    if len(mode_sources) > 1:
        raise UsageError(f"{where}: the mode is set by both {mode_sources[0]} and {mode_sources[1]}: set it in "
                         f"one place (a grid over '{mode_axis or 'mode'}' runs each point with --mode VALUE)")
    if ov_mode:
        overrides = [o for o in overrides if o.split("=", 1)[0] != "sim.mode"]
        m = ov_mode[0].split("=", 1)[1]
        if m not in MODES:
            raise UsageError(f"{where}: overrides: sim.mode '{m}' must be one of {', '.join(MODES)}")
        doc = dict(doc, mode=m)
    for k in ("config", "seed"):
        if k in keys and k in doc:
            raise UsageError(f"{where}: '{k}' is set both at the top level and as a grid axis: set it in one place")
    if doc.get("config") in (None, "") and "config" not in keys:
        raise UsageError(f"{where}: missing required key 'config' (a preset or config file, or a grid axis "
                         f"'config: [...]')")
    name = doc.get("sweep", os.path.splitext(os.path.basename(path))[0])
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise UsageError(f"{where}: 'sweep' must be a name (letters, digits, '.', '_', '-'), got {name!r}")
    spec = {"sweep": name, "description": str(doc.get("description", "")), "file": os.path.abspath(path)}
    base = dict(doc)
    if "config" in keys:
        base["config"] = "-"  # each point's comes from the grid
    spec.update(run_fields(base, where, spec_dir))
    for k in RUN_AXES:  # set per point by the grid
        if k in keys or (k == "mode" and mode_axis):
            spec[k] = None
    spec["overrides"] = overrides
    spec["grid"] = {k: [] for k in keys}
    for ks, rows in axes:
        for j, k in enumerate(ks):
            spec["grid"][k] = [r[j] for r in rows]
    spec["zip"] = [list(ks) for ks, _ in axes if len(ks) > 1]
    spec["shape"] = [len(rows) for _, rows in axes]
    combos = [tuple(v for part in c for v in part) for c in itertools.product(*[rows for _, rows in axes])]
    names = point_names(keys, combos)
    spec["points"] = []
    for i, (n, combo) in enumerate(zip(names, combos)):
        params = dict(zip(keys, combo))
        p = {k: spec[k] for k in ("config", "workload", "mode", "seed", "timeout_s")}
        if spec.get("trace"):
            p["trace"] = True
        ov = []
        for k, v in params.items():
            if k == "config":
                p["config"] = resolve_config(v, spec_dir)
            elif k in MODE_KEYS:
                p["mode"] = v
            elif k == "seed":
                p["seed"] = int(v)
            else:
                ov.append(f"{k}={v}")
        p.update(name=n, index=i, params=params, tolerance=0, overrides=spec["overrides"] + ov)
        spec["points"].append(p)
    return spec


def accelvp_config_error(accelvp, point):
    """accelvp's own check of a point's configuration (`accelvp config`): its message, or None."""
    cmd = [accelvp, "config", "-c", point["config"], "-w", point["workload"], "--dump",
           "-p", f"sim.mode={point['mode']}"]
    for o in point["overrides"]:
        cmd += ["-p", o]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        return f"cannot run {accelvp} config: {e}"
    if p.returncode == 0:
        return None
    return (p.stderr.strip().splitlines() or [f"exit code {p.returncode}"])[-1]


def check_with_accelvp(accelvp, spec):
    """Unknown keys and bad values are found before anything runs: the first point (the first
    value of every axis), then each other value of each axis alone on top of it (a zip group's
    values together)."""
    rel = os.path.relpath(spec["file"])
    points = spec["points"]
    first = points[0]
    err = accelvp_config_error(accelvp, first)
    if err:
        what = "config '{}', workload '{}', overrides and first grid values".format(first["config"],
                                                                                  first["workload"])
        raise UsageError(f"spec {rel}: {what}: {err}")
    keys = list(spec["grid"])
    checked = set()
    for p in points[1:]:
        changed = tuple(k for k in keys if p["params"][k] != first["params"][k])
        # the points that differ from the first in one axis only (a zip group is one axis)
        groups = [g for g in spec.get("zip", []) if set(changed) <= set(g)]
        if len(changed) != 1 and not groups:
            continue
        sig = tuple((k, p["params"][k]) for k in changed)
        if sig in checked:
            continue
        checked.add(sig)
        err = accelvp_config_error(accelvp, p)
        if err:
            vals = ", ".join(f"'{k}' value '{p['params'][k]}'" for k in changed)
            raise UsageError(f"spec {rel}: grid: {vals}: {err}")


# --------------------------------------------------------------------------------------------
# Points and their result files
# --------------------------------------------------------------------------------------------

def result_path(out, point):
    return os.path.join(out, "cases", point["name"] + ".result.json")


def load_result(out, point):
    """The point's result entry if it was completed with the same definition, else None."""
    try:
        with open(result_path(out, point)) as f:
            r = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(r, dict) or any(r.get(k) != point[k] for k in DEFINITION_KEYS):
        return None
    return r


def run_point(accelvp, out, point):
    """Run one point and write its result entry last, atomically: its presence marks the point done."""
    r = run_one(accelvp, point, out, 1)
    r.pop("effective_config", None)  # in the point's stats file
    r["index"] = point["index"]
    r["params"] = point["params"]
    write_json(result_path(out, point), r)
    return r


def missing_result(point, error):
    r = {k: point[k] for k in ("name", "config", "workload", "mode", "seed", "overrides", "tolerance", "index",
                               "params")}
    r.update(exit_code=None, error=error, verified=None, wall_s=None, simulated_ns=None, summary={}, speed=None)
    return r


def write_results(out, spec, entries, meta):
    doc = {"schema": SCHEMA, "sweep": spec["sweep"], "description": spec["description"],
           "spec_file": os.path.relpath(spec["file"], ROOT) if spec["file"].startswith(ROOT) else spec["file"],
           "config": spec["config"], "workload": spec["workload"], "mode": spec["mode"], "seed": spec["seed"],
           "overrides": spec["overrides"], "grid": spec["grid"], "zip": spec.get("zip", [])}
    doc.update(meta)
    doc["cases"] = entries
    doc["failed"] = [r["name"] for r in entries if case_failed(r)]
    write_json(os.path.join(out, "results.json"), doc)
    cols = summary_columns(entries)
    keys = list(spec["grid"])
    # the run's fields, unless a grid axis of the same name already is a column
    fixed = [f for f in ("config", "workload", "mode", "seed") if f not in keys]
    rows = []
    for r in entries:
        rows.append([r["name"], *[r["params"][k] for k in keys], *[r[f] for f in fixed],
                     "failed" if case_failed(r) else "ok", fmt_csv(r.get("verified")), fmt_csv(r.get("wall_s")),
                     fmt_csv(r.get("speed")), *[fmt_csv(v) for v in summary_values(r, cols)]])
    write_csv(os.path.join(out, "results.csv"),
              ["point", *keys, *fixed, "status", "verified", "wall_s", "speed", *cols], rows)
    return doc


# --------------------------------------------------------------------------------------------
# Back ends
# --------------------------------------------------------------------------------------------

def run_local(accelvp, out, pending, jobs):
    progress = Progress(len(pending), sys.stderr, width=max([len(p["name"]) for p in pending] + [20]))
    progress.start()
    run_pool(pending, jobs, lambda p: run_point(accelvp, out, p), progress)
    return EXIT_OK


def array_ranges(indices):
    """[0, 1, 2, 5, 7, 8] -> '0-2,5,7-8' (sbatch --array syntax)."""
    parts, start = [], None
    for i, x in enumerate(indices):
        if start is None:
            start = x
        if i + 1 == len(indices) or indices[i + 1] != x + 1:
            parts.append(str(start) if start == x else f"{start}-{x}")
            start = None
    return ",".join(parts)


def slurm_script(out, spec, pending, jobs, sbatch_args):
    minutes = math.ceil(spec["timeout_s"] / 60) + 5
    lines = ["#!/bin/bash",
             f"# accelvp sweep '{spec['sweep']}' ({os.path.relpath(spec['file'])}): one array task per point;",
             "# written and submitted by tools/sweep.py --backend slurm (docs/benchmarks.md#slurm).",
             f"#SBATCH --job-name=accelvp-sweep-{spec['sweep']}",
             f"#SBATCH --array={array_ranges([p['index'] for p in pending])}" + (f"%{jobs}" if jobs else ""),
             f"#SBATCH --output={os.path.join(out, 'slurm', '%A_%a.out')}",
             "#SBATCH --ntasks=1",
             "#SBATCH --cpus-per-task=1",
             f"#SBATCH --time={minutes}"]
    lines += [f"#SBATCH {a}" for a in sbatch_args]
    lines += ["set -eu",
              f'exec "${{ACCELVP_PYTHON:-python3}}" {shlex.quote(SWEEP_PY)} --run-point "$SLURM_ARRAY_TASK_ID" '
              f'--out {shlex.quote(out)}', ""]
    return "\n".join(lines)


def slurm_cmd(cmd, what):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise UsageError(f"--backend slurm: '{cmd[0]}' not found: run on a Slurm login node (or install "
                         f"Debian's slurm-client)")
    except subprocess.TimeoutExpired:
        raise UsageError(f"--backend slurm: {what} timed out ({' '.join(cmd)})")


def job_active(job):
    p = slurm_cmd(["squeue", "-h", "-j", job, "-o", "%i %T"], "squeue")
    if p.returncode != 0:
        # A job that left squeue's memory is reported as an invalid id: it has ended.
        if "Invalid job id" in p.stderr:
            return False
        raise UsageError(f"--backend slurm: squeue failed: {p.stderr.strip()}")
    return bool(p.stdout.strip())


def earlier_job(out):
    """The Slurm job an earlier run submitted for this directory, if it is still queued or
    running (its tasks are writing into the directory)."""
    try:
        with open(os.path.join(out, "slurm", "job.json")) as f:
            job = json.load(f)["job"]
    except (OSError, ValueError, KeyError):
        return None
    return job if job_active(job) else None


def run_slurm(accelvp, out, spec, pending, args, job):
    """Submit the pending points as a job array (unless `job`, an earlier run's job, is still
    active: then wait for that one) and wait for it. None with --no-wait."""
    sdir = os.path.join(out, "slurm")
    os.makedirs(sdir, exist_ok=True)
    job_file = os.path.join(sdir, "job.json")
    if job is not None:
        log(f"Slurm job {job} of an earlier run is still active: waiting for it")
    if job is None:
        script = os.path.join(sdir, "sweep.sbatch")
        with open(script + ".tmp", "w") as f:
            f.write(slurm_script(out, spec, pending, args.jobs, args.sbatch_arg))
        os.replace(script + ".tmp", script)
        p = slurm_cmd(["sbatch", "--parsable", script], "sbatch")
        if p.returncode != 0:
            log(f"sbatch failed: {p.stderr.strip() or p.stdout.strip()}")
            return EXIT_FAIL
        job = p.stdout.strip().split(";")[0]
        write_json(job_file, {"job": job, "points": [p["name"] for p in pending],
                              "submitted": datetime.datetime.now(datetime.timezone.utc).isoformat(
                                  timespec="seconds")})
        log(f"submitted Slurm job array {job} ({len(pending)} tasks): {script}")
    if args.no_wait:
        log(f"not waiting (--no-wait): run the same command again to collect the results of job {job}")
        return None
    progress = Progress(len(pending), sys.stderr, width=max([len(p["name"]) for p in pending] + [20]))
    progress.start()
    left = list(pending)
    while True:
        active = job_active(job)
        for p in list(left):
            r = load_result(out, p)
            if r is not None:
                left.remove(p)
                progress.finished(r)
        if not left or not active:
            break
        time.sleep(args.poll)
    for p in left:
        logs = sorted(glob.glob(os.path.join(sdir, f"{job}_{p['index']}.out")))
        tail = ""
        if logs:
            with open(logs[0], errors="replace") as f:
                lines = [ln.strip() for ln in f if ln.strip()]
            tail = f": {lines[-1]}" if lines else ""
        err = (f"Slurm task {job}_{p['index']} wrote no result (log {os.path.relpath(logs[0], out)}{tail})" if logs
               else f"Slurm task {job}_{p['index']} wrote no result and no log (cancelled, or never ran)")
        progress.finished(missing_result(p, err))
    return EXIT_OK


# --------------------------------------------------------------------------------------------

def cmd_run_point(args):
    """One point, as a Slurm array task runs it: everything comes from OUT/sweep.json."""
    out = os.path.abspath(args.out)
    with open(os.path.join(out, "sweep.json")) as f:
        sw = json.load(f)
    points = {p["index"]: p for p in sw["points"]}
    if args.run_point not in points:
        die(f"--run-point {args.run_point}: the sweep in {out} has points 0..{len(points) - 1}")
    r = run_point(sw["accelvp"], out, points[args.run_point])
    sys.stderr.write(f"point {r['name']}: {'FAIL ' + str(r['error']) if case_failed(r) else 'ok'}\n")
    return EXIT_FAIL if case_failed(r) else EXIT_OK


def cmd_sweep(args):
    if not os.path.isfile(args.spec):
        raise UsageError(f"no spec file '{args.spec}'")
    spec = load_spec(os.path.abspath(args.spec))
    if args.list:
        for p in spec["points"]:
            print(f"{p['name']:<40} -c {p['config']} -w {p['workload']} --mode {p['mode']} "
                  f"{' '.join('-p ' + o for o in p['overrides'])}")
        return EXIT_OK
    accelvp = resolve_accelvp(args.accelvp)
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("-j must be >= 1")
    if not args.no_check:
        check_with_accelvp(accelvp, spec)
    out = os.path.abspath(args.out or default_out_dir("sweeps", spec["sweep"]))
    try:
        os.makedirs(os.path.join(out, "cases"), exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create output directory {out}: {e.strerror}")
    # A Slurm job of an earlier run may still be writing here: wait for it (slurm), or refuse.
    job = None
    if os.path.exists(os.path.join(out, "slurm", "job.json")):
        try:
            job = earlier_job(out)
        except UsageError:
            if args.backend == "slurm":
                raise  # no squeue here: a local run goes on (the directory was copied, say)
    if job is not None and args.backend == "local":
        raise UsageError(f"Slurm job {job} is still running points into {out}: wait for it (the same command "
                         f"with --backend slurm) or cancel it (scancel {job})")
    if job is None:
        # Leftovers of runs that were killed while writing.
        for tmp in glob.glob(os.path.join(out, "cases", "*.tmp")):
            os.unlink(tmp)
    write_json(os.path.join(out, "sweep.json"), {**spec, "accelvp": accelvp})

    points = spec["points"]
    done = {p["name"]: load_result(out, p) for p in points}
    complete = [p for p in points if done[p["name"]] is not None and not case_failed(done[p["name"]])]
    retry = [p for p in points if done[p["name"]] is not None and case_failed(done[p["name"]])]
    pending = [p for p in points if p not in complete]
    # Results of failed points and of other definitions go, so that only this run's can appear.
    for p in pending if job is None else []:
        if os.path.exists(result_path(out, p)):
            os.unlink(result_path(out, p))
    jobs = args.jobs or cpu_count()
    t0 = time.monotonic()
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    msg = f"{spec['sweep']}: {len(points)} points ({' x '.join(map(str, spec['shape']))})"
    if complete:
        msg += f", {len(complete)} already complete (skipped)"
    if retry:
        msg += f", {len(retry)} failed before (run again)"
    log(f"{msg}; running {len(pending)} on {args.backend}"
        + (f" with -j {jobs}" if args.backend == "local" else "") + f", into {out}")
    if pending:
        if args.backend == "local":
            run_local(accelvp, out, pending, jobs)
        elif run_slurm(accelvp, out, spec, pending, args, job) is None:
            return EXIT_OK
    entries = [load_result(out, p) for p in points]
    entries = [e if e is not None else missing_result(p, "no result") for e, p in zip(entries, points)]
    doc = write_results(out, spec, entries, {
        "started": started, "wall_s": round(time.monotonic() - t0, 3), "backend": args.backend,
        "jobs": jobs, "skipped": [p["name"] for p in complete], "host": host_info(),
        "accelvp": {"path": accelvp, "version": accelvp_version(accelvp)}, "git": git_info()})
    failed = doc["failed"]
    log(f"{len(points) - len(failed)} ok ({len(complete)} skipped: already complete), {len(failed)} failed in "
        f"{doc['wall_s']:.1f} s; results in {out} (results.csv, results.json, cases/)")
    if failed:
        log(f"failed: {', '.join(failed)} (run the same command again to retry them)")
    return EXIT_FAIL if failed else EXIT_OK


def main(argv=None):
    ap = Parser(prog="sweep.py", tag="sweep",
                description="accelvp parameter sweeps (docs/benchmarks.md#sweeps). Exit codes: 0 ok, 1 a point "
                            "failed, 2 usage error or bad spec.")
    ap.add_argument("spec", nargs="?", help="the sweep spec (YAML)")
    ap.add_argument("-j", "--jobs", type=int, help="parallel processes (default: the core count; with Slurm: "
                                                   "at most N array tasks at once, default no limit)")
    ap.add_argument("--out", help="results directory (default build/sweeps/NAME); rerunning into the same "
                                  "directory resumes")
    ap.add_argument("--backend", choices=("local", "slurm"), default="local",
                    help="local processes (default) or a Slurm job array (sbatch)")
    ap.add_argument("--accelvp", default=default_accelvp(),
                    help="the accelvp program (default $ACCELVP, which `accelvp sweep` sets to itself, else accelvp on PATH)")
    ap.add_argument("--list", action="store_true", help="print the points and their accelvp arguments, run nothing")
    ap.add_argument("--no-check", action="store_true",
                    help="do not check the spec's keys and values with 'accelvp config' first")
    ap.add_argument("--sbatch-arg", action="append", default=[], metavar="ARG",
                    help="Slurm: an extra #SBATCH option, e.g. --sbatch-arg=--partition=batch (repeatable)")
    ap.add_argument("--poll", type=float, default=2.0, help="Slurm: seconds between squeue polls (default 2)")
    ap.add_argument("--no-wait", action="store_true",
                    help="Slurm: submit and exit; run the same command again to wait and collect")
    ap.add_argument("--run-point", type=int, metavar="INDEX", help="internal: run point INDEX of the sweep in "
                                                                   "--out (what a Slurm array task runs)")
    args = ap.parse_args(argv)
    try:
        if args.run_point is not None:
            if not args.out:
                raise UsageError("--run-point needs --out")
            return cmd_run_point(args)
        if not args.spec:
            raise UsageError("a spec file is required: sweep.py SPEC.yaml")
        return cmd_sweep(args)
    except UsageError as e:
        die(str(e))
    except KeyboardInterrupt:
        die("interrupted: run the same command again to resume (completed points are kept)", EXIT_FAIL)


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `... list | head` ends quietly
    sys.exit(main())
