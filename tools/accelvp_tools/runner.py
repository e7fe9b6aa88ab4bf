"""Running accelvp cases: one `accelvp run --stats` process per case (bench cases, sweep
points), the result entry of a case, a thread pool of such processes, and the progress display."""
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

# Summary keys listed first in tables and CSVs; the others follow alphabetically.
SUMMARY_FIRST = ("cycles", "simulated_ns", "device_ns")
# What identifies a case's run: results made with another definition are not comparable.
DEFINITION_KEYS = ("config", "workload", "mode", "seed", "overrides")
# A case's definition as run_one() takes it.
RUN_KEYS = ("name", "config", "workload", "mode", "seed", "overrides", "tolerance", "timeout_s", "elf", "mem_trace",
            "qemu_elf")


def build_path(accelvp, path):
    """A path relative to the build directory of the accelvp binary (BUILD/bin/accelvp)."""
    return path if os.path.isabs(path) else os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(accelvp))),
                                                         path)


def case_command(accelvp, c, stats_path, trace_path=None, mem_trace_path=None):
    if c["workload"] == "memsim":  # the DRAM model alone on a generated request trace
        cmd = [accelvp, "memsim", "--quiet", "--stats", stats_path, "-c", c["config"],
               "--trace", mem_trace_path or "MEM_TRACE"]
        for o in c["overrides"]:
            cmd += ["-p", o]
        return cmd
    if c["workload"] == "iss":  # a bare-metal ELF on the ISS; its path is relative to the build dir
        elf = build_path(accelvp, c["elf"])
        cmd = [accelvp, "iss", "--quiet", "--stats", stats_path, "--elf", elf]
        for o in c["overrides"]:
            cmd += ["-p", o]
        return cmd
    cmd = [accelvp, "run", "--quiet", "--stats", stats_path, "-c", c["config"], "-w", c["workload"],
           "--mode", c["mode"], "--seed", str(c["seed"])]
    if trace_path:
        cmd += ["--trace", trace_path]
    for o in c["overrides"]:
        cmd += ["-p", o]
    return cmd


# Host-dependent figures an `accelvp iss` or `accelvp memsim` summary carries (docs/cpu.md,
# docs/memory.md).
# An `iss` case with `qemu_elf` adds the same program's times on QEMU's user-mode emulator
# and the ISS's ratios to them (compare_with_qemu).
HOST_SUMMARY_KEYS = ("mips", "sim_wall_s", "requests_per_wall_s", "qemu_cpu_s", "qemu_wall_s", "cpu_vs_qemu",
                     "wall_vs_qemu")


def make_mem_trace(c, path):
    """Generate a memsim case's request trace (tools/gen_mem_trace.py) at path; None or an error."""
    t = c["mem_trace"]
    gen = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "gen_mem_trace.py")
    cmd = [sys.executable, gen, t["pattern"], "-n", str(t["requests"]), "-o", path]
    if t.get("write_ratio"):
        cmd += ["--write-ratio", str(t["write_ratio"])]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return (p.stderr.strip().splitlines() or ["gen_mem_trace.py failed"])[-1]
    return None


def deterministic_part(stats):
    """Everything in a stats document that must repeat exactly."""
    d = {k: v for k, v in stats.items() if k not in ("wall_s", "host")}  # host-dependent fields
    if isinstance(d.get("summary"), dict):
        d["summary"] = {k: v for k, v in d["summary"].items() if k not in HOST_SUMMARY_KEYS}
    return d


def case_failed(r):
    return r.get("exit_code") != 0 or r.get("error") is not None or r.get("verified") is False


def run_one(accelvp, c, out_dir, repeat):
    """Run one case `repeat` times (the fastest run's wall time counts); its stats go to
    out_dir/cases/NAME.json (and its trace to NAME.trace.json when c['trace']). Returns its
    result entry."""
    cases_dir = os.path.join(out_dir, "cases")
    final = os.path.join(cases_dir, c["name"] + ".json")
    trace = os.path.join(cases_dir, c["name"] + ".trace.json") if c.get("trace") else None
    res = {k: c[k] for k in ("name", "config", "workload", "mode", "seed", "overrides", "tolerance")}
    if "description" in c:
        res["description"] = c["description"]
    # everything needed to run it again (bench compare re-measures suspected slowdowns)
    res["run"] = {k: c[k] for k in RUN_KEYS if k in c}
    res.update({"stats": os.path.relpath(final, out_dir), "exit_code": None, "error": None, "verified": None,
                "wall_s": None, "wall_s_runs": [], "cpu_s": None, "cpu_s_runs": [], "simulated_ns": None,
                "peak_rss_mb": None, "peak_rss_mb_runs": [], "summary": {}, "speed": None,
                "command": " ".join(case_command("accelvp", c, "FILE", "TRACE" if trace else None)[1:])})
    if trace:
        res["trace"] = os.path.relpath(trace, out_dir)
    mem_trace = None
    if c["workload"] == "memsim":  # generated for the run, removed after it (it can be large)
        mem_trace = os.path.join(cases_dir, c["name"] + ".mem.trace")
        err = make_mem_trace(c, mem_trace)
        if err:
            res.update(exit_code=-1, error=f"generating the request trace: {err}")
            return res
    try:
        return finish_runs(accelvp, c, res, cases_dir, final, trace, mem_trace, repeat)
    finally:
        if mem_trace and os.path.exists(mem_trace):
            os.unlink(mem_trace)


class Measured:
    """A finished process: exit code, stderr text, CPU seconds (user + system, its reaped
    children included), elapsed seconds and peak resident memory (MiB, the rusage maximum)."""

    def __init__(self, returncode, stderr, cpu_s, elapsed_s, timed_out, peak_rss_mb=None):
        self.returncode, self.stderr, self.cpu_s = returncode, stderr, cpu_s
        self.elapsed_s, self.timed_out = elapsed_s, timed_out
        self.peak_rss_mb = peak_rss_mb


def run_measured(cmd, timeout):
    """Run cmd to completion and measure the CPU time it used (os.wait4's rusage). CPU time,
    unlike wall time, does not grow when other processes share the cores: it is what the
    speed checks use. Raises OSError when the program cannot be started."""
    with tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        lock, state = threading.Lock(), {"done": False, "timed_out": False}

        def kill():
            with lock:
                if not state["done"]:
                    state["timed_out"] = True
                    os.kill(p.pid, 9)
        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            while True:
                try:
                    _, status, ru = os.wait4(p.pid, 0)
                    break
                except InterruptedError:
                    continue
        finally:
            with lock:
                state["done"] = True
            timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        err.seek(0)
        text = err.read().decode(errors="replace")
    # ru_maxrss: the process's peak resident set, in KiB on Linux
    return Measured(p.returncode, text, round(ru.ru_utime + ru.ru_stime, 4), time.monotonic() - t0,
                    state["timed_out"], round(ru.ru_maxrss / 1024.0, 1))


def compare_with_qemu(accelvp, c, res, iss_elapsed, repeat):
    """Run c['qemu_elf'] (the case's program as a Linux user ELF) `repeat` times on
    `qemu-riscv32` (Debian's qemu-user) and put its fastest CPU and wall seconds and the ISS's
    ratios to them (ISS / QEMU, fastest runs of each) in the case's summary."""
    cmd = ["qemu-riscv32", build_path(accelvp, c["qemu_elf"])]
    runs = []
    for _ in range(max(repeat, 1)):
        try:
            p = run_measured(cmd, c["timeout_s"])
        except OSError as e:
            res["error"] = f"cannot run qemu-riscv32 (Debian package qemu-user, tools/setup.sh): {e.strerror}"
            return
        if p.timed_out or p.returncode != 0:
            why = f"timed out after {c['timeout_s']} s" if p.timed_out else f"exit code {p.returncode}"
            res["error"] = f"qemu-riscv32 {c['qemu_elf']}: {why}"
            return
        runs.append(p)
    q_cpu, q_wall = min(r.cpu_s for r in runs), min(r.elapsed_s for r in runs)
    s = dict(res["summary"])
    s.update(qemu_cpu_s=q_cpu, qemu_wall_s=round(q_wall, 4))
    if q_cpu > 0:
        s["cpu_vs_qemu"] = round(res["cpu_s"] / q_cpu, 3)
    if q_wall > 0 and iss_elapsed:
        s["wall_vs_qemu"] = round(min(iss_elapsed) / q_wall, 3)
    res["summary"] = s


def finish_runs(accelvp, c, res, cases_dir, final, trace, mem_trace, repeat):
    best, first = None, None
    elapsed = []  # the process's wall seconds, per run
    for _ in range(repeat):
        fd, tmp = tempfile.mkstemp(prefix=c["name"] + ".", suffix=".json.tmp", dir=cases_dir)
        os.close(fd)
        os.unlink(tmp)  # accelvp creates it; an empty leftover would hide a run that wrote nothing
        try:
            p = run_measured(case_command(accelvp, c, tmp, trace, mem_trace), c["timeout_s"])
        except OSError as e:
            res.update(exit_code=-1, error=f"cannot run {accelvp}: {e.strerror}")
            break
        if p.timed_out:
            res.update(exit_code=-1, error=f"timed out after {c['timeout_s']} s (timeout_s)")
            if os.path.exists(tmp):
                os.unlink(tmp)
            break
        stats = None
        try:
            if os.path.getsize(tmp) > 0:
                with open(tmp) as f:
                    stats = json.load(f)
        except (OSError, ValueError):
            stats = None
        res["exit_code"] = p.returncode
        if p.returncode != 0 or stats is None:
            msg = (p.stderr.strip().splitlines() or [f"exit code {p.returncode}, no stats written"])[-1]
            res["error"] = (stats or {}).get("error") or msg
            if stats is not None:
                os.replace(tmp, final)
                res.update(summary=stats.get("summary", {}), simulated_ns=stats.get("simulated_ns"),
                           verified=stats.get("workload", {}).get("verified"), wall_s=stats.get("wall_s"))
            elif os.path.exists(tmp):
                os.unlink(tmp)
            break
        res["wall_s_runs"].append(stats["wall_s"])
        res["cpu_s_runs"].append(p.cpu_s)
        res["peak_rss_mb_runs"].append(p.peak_rss_mb)
        elapsed.append(p.elapsed_s)
        if first is None:
            first = deterministic_part(stats)
        elif deterministic_part(stats) != first:
            res.update(exit_code=-1, error="not deterministic: repeated runs gave different stats")
            os.unlink(tmp)
            break
        if best is None or stats["wall_s"] < best["wall_s"]:
            best = stats
            os.replace(tmp, final)
        else:
            os.unlink(tmp)
    if best is not None and res["error"] is None:
        res.update(summary=best.get("summary", {}), simulated_ns=best.get("simulated_ns"),
                   verified=best.get("workload", {}).get("verified"), wall_s=best["wall_s"],
                   freq_mhz=best.get("config", {}).get("chip.freq_mhz"), cpu_s=min(res["cpu_s_runs"]),
                   effective_config=best.get("config"), peak_rss_mb=max(res["peak_rss_mb_runs"]))
        chips = (best.get("summary") or {}).get("chips")
        if isinstance(chips, int) and chips > 0:
            # a multi-chip system: the whole process's peak over its chips (the fixed cost of
            # the process included), and wall seconds per chip
            res["peak_rss_mb_per_chip"] = round(res["peak_rss_mb"] / chips, 3)
            res["wall_s_per_chip"] = round(best["wall_s"] / chips, 6)
        if best["wall_s"] > 0 and best.get("simulated_ns"):
            res["speed"] = best["simulated_ns"] / best["wall_s"]
        if res["verified"] is False:
            res["error"] = "the workload's results did not verify"
        elif c.get("qemu_elf"):
            compare_with_qemu(accelvp, c, res, elapsed, repeat)
    return res


def run_pool(cases, jobs, work, progress):
    """Run work(case) for every case in `jobs` threads (each runs an accelvp process);
    progress.finished() is called as each completes. Returns {name: result}."""
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futs = {pool.submit(work, c): c for c in cases}
        try:
            for fut in concurrent.futures.as_completed(futs):
                r = fut.result()
                results[r["name"]] = r
                progress.finished(r)
        except KeyboardInterrupt:
            for f in futs:
                f.cancel()
            raise
    return results


def flatten(d, prefix=""):
    """A summary with nested objects as one level of dotted keys: {'phase_ns': {'qkv': 5}} ->
    {'phase_ns.qkv': 5}. Lists stay values (a CSV cell shows them as JSON)."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def flat_summary(r):
    s = flatten(r.get("summary") or {})
    s.setdefault("simulated_ns", r.get("simulated_ns"))
    return s


def summary_columns(entries):
    """The summary keys of these results, nested objects flattened ('phase_ns.add_norm1'):
    cycles, simulated_ns, device_ns first, then the rest alphabetically; simulated_ns is always
    there."""
    keys = set()
    for r in entries:
        keys.update(flatten(r.get("summary") or {}).keys())
    # A whole model's per-layer records and per-step times (docs/models.md) are tables of their
    # own (the report shows the layers), not columns.
    keys -= {"layers", "step_us"}
    cols = [k for k in SUMMARY_FIRST if k in keys] + sorted(keys - set(SUMMARY_FIRST))
    if "simulated_ns" not in cols:
        cols.insert(1 if "cycles" in cols else 0, "simulated_ns")
    return cols


def summary_values(r, cols):
    s = flat_summary(r)
    return [json.dumps(s[k]) if isinstance(s.get(k), list) else s.get(k) for k in cols]


class Progress:
    """One line per finished case on stderr; on a terminal also a progress bar under them,
    redrawn in place."""

    BAR = 30

    def __init__(self, total, stream=sys.stderr, width=36):
        self.total, self.done, self.failed = total, 0, 0
        self.stream, self.tty = stream, stream.isatty()
        self.lock = threading.Lock()
        self.t0 = time.monotonic()
        self.width = width

    def _bar(self):
        fill = self.BAR * self.done // max(self.total, 1)
        el = time.monotonic() - self.t0
        eta = f", ETA {el / self.done * (self.total - self.done):.0f} s" if self.done else ""
        return (f"  [{'#' * fill}{'.' * (self.BAR - fill)}] {self.done}/{self.total} done, "
                f"{self.failed} failed, {el:.1f} s{eta}")

    def start(self):
        if self.tty and self.total:
            self.stream.write(self._bar())
            self.stream.flush()

    def finished(self, r, note=None):
        with self.lock:
            self.done += 1
            bad = case_failed(r)
            self.failed += bad
            width = len(str(self.total))
            wall = f"{r['wall_s']:.3f} s" if r.get("wall_s") is not None else "-"
            line = f"[{self.done:>{width}}/{self.total}] {'FAIL' if bad else 'ok  '} {r['name']:<{self.width}} {wall}"
            if bad:
                line += f"  {r['error']}"
            if note:
                line += f"  {note}"
            if self.tty:
                self.stream.write("\r\033[K")
            self.stream.write(line + "\n")
            if self.tty and self.done < self.total:
                self.stream.write(self._bar())
            self.stream.flush()
