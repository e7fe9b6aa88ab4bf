"""accelvp from Python (docs/python.md).

    import accelvp
    stats = accelvp.run(config="training", workload="gemm", overrides={"workload.m": 1024}, mode="timing")
    stats["summary"]["cycles"]

run() returns the stats document of `accelvp run --stats` (docs/stats.md) as a dict. Each call
simulates in a fresh worker process: SystemC elaborates a model once per process, so the
calling process never elaborates one and can run any number of simulations, several at once
(sweep()). Errors are exceptions carrying the CLI's message and exit code: ConfigError
(exit 2: bad configuration, preset, workload or override) and RunError (exit 1: the device or
workload failed; its .stats holds the stats document when one was written).
"""
import json
import os
import subprocess
import sys
import tempfile
import itertools
from concurrent.futures import ThreadPoolExecutor

from . import _core

__all__ = ["run", "sweep", "params", "presets", "workloads", "data_dir", "set_data_dir", "Error", "ConfigError",
           "RunError", "__version__"]
__version__ = _core.version

EXIT_OK, EXIT_DEVICE, EXIT_USAGE = 0, 1, 2


class Error(Exception):
    """An accelvp failure: str() is the CLI's message (after "accelvp: "), .exit_code its exit code."""

    def __init__(self, message, exit_code, stats=None, log=""):
        super().__init__(message)
        self.message, self.exit_code, self.stats, self.log = message, exit_code, stats, log


class ConfigError(Error, ValueError):
    """Exit code 2: the configuration, a preset, a workload or an override is wrong."""


class RunError(Error):
    """Exit code 1 (or 128 + signal): the simulated device or the workload failed."""


def _error(message, exit_code, stats=None, log=""):
    cls = ConfigError if exit_code == EXIT_USAGE else RunError
    return cls(message, exit_code, stats, log)


_data_dir = None


def set_data_dir(path):
    """Where presets, firmware and tools are (default: $ACCELVP_DATA_DIR, else the share/accelvp
    of the build tree or installation this package belongs to)."""
    global _data_dir
    _data_dir = os.path.abspath(path) if path else None
    _core.set_data_dir(_data_dir or "")


def data_dir():
    return _core.data_dir()


def _overrides(overrides):
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        out = []
        for k, v in overrides.items():
            if isinstance(v, bool):
                v = "true" if v else "false"
            out.append(f"{k}={v}")
        return out
    return [str(o) for o in overrides]


def run(config="inference", workload="dma-copy", overrides=None, mode=None, seed=None, stats_file=None,
        trace_file=None, timeout=None):
    """One simulation, like `accelvp run -c CONFIG -w WORKLOAD -p K=V... [--mode M] [--seed N]`.
    overrides: {key: value} or ["key=value", ...]. Returns the stats document (dict); also written
    to stats_file if given, the trace to trace_file. Raises ConfigError (exit 2) or RunError."""
    request = {"config": str(config), "workload": str(workload), "overrides": _overrides(overrides),
               "mode": mode or "", "seed": seed, "trace_file": os.path.abspath(trace_file) if trace_file else "",
               "data_dir": _data_dir or ""}
    with tempfile.TemporaryDirectory(prefix="accelvp-") as tmp:
        request["stats_file"] = os.path.abspath(stats_file) if stats_file else os.path.join(tmp, "stats.json")
        request["result"] = os.path.join(tmp, "result.json")
        env = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
        pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = pkg_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        try:
            p = subprocess.run([sys.executable, "-m", "accelvp._worker"], input=json.dumps(request), text=True,
                               capture_output=True, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RunError(f"error: the run took longer than timeout={timeout} s (worker killed)", EXIT_DEVICE)
        log = p.stderr
        try:
            with open(request["result"]) as f:
                result = json.load(f)
        except (OSError, ValueError):
            raise RunError(f"internal error: the worker process exited with {p.returncode} without a result: "
                           f"{log.strip()[-2000:]}", EXIT_DEVICE, log=log)
        stats = None
        if os.path.exists(request["stats_file"]):
            with open(request["stats_file"]) as f:
                stats = json.load(f)
    if result["exit_code"] != EXIT_OK:
        raise _error(result["message"], result["exit_code"], stats, log)
    if log:
        sys.stderr.write(log)
    return stats


def sweep(config="inference", workload="dma-copy", grid=None, overrides=None, mode=None, seed=None, jobs=None,
          timeout=None):
    """run() over the cross product of grid = {key: [values, ...]} (on top of overrides), `jobs`
    worker processes at a time (default: the CPUs). Returns one entry per point, in grid order:
    {"point": {key: value}, "stats": dict or None, "exit_code": int, "error": str or None}.
    A point whose configuration is wrong does not stop the others (its exit_code is 2)."""
    grid = grid or {}
    keys = list(grid)
    for k in keys:
        if isinstance(grid[k], (str, bytes)) or not hasattr(grid[k], "__iter__"):
            raise ConfigError(f"usage error: sweep: grid['{k}'] must be a list of values", EXIT_USAGE)
    points = [dict(zip(keys, values)) for values in itertools.product(*(list(grid[k]) for k in keys))]
    base = _overrides(overrides)

    def one(point):
        try:
            stats = run(config, workload, base + _overrides(point), mode, seed, timeout=timeout)
            return {"point": point, "stats": stats, "exit_code": 0, "error": None}
        except Error as e:
            return {"point": point, "stats": e.stats, "exit_code": e.exit_code, "error": e.message}

    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        return list(pool.map(one, points))


def params(workload=None):
    """The configuration schema: {key: {type, default, min, max, choices, unit, description}} of
    the platform and, with workload, that workload's keys (`accelvp config --help-params`)."""
    try:
        return _core.params(workload or "")
    except ValueError as e:
        raise ConfigError(str(e), EXIT_USAGE) from None


def presets():
    """{name: description} of the presets found (`accelvp list`)."""
    return dict(_core.presets())


def workloads():
    """{name: description} of the workloads (`accelvp list`)."""
    return dict(_core.workloads())
