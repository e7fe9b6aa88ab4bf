"""Basics every tool shares: exit codes, usage errors, optional Debian modules, small
formatting and atomic file writes, and facts about the host and the checkout."""
import argparse
import csv
import json
import os
import platform
import socket
import subprocess
import sys

# The source checkout, or the installation's share/accelvp (realpath: a build tree's
# build/share/accelvp/tools is a link into the checkout).
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
MODES = ("functional", "timing")


class UsageError(Exception):
    """Bad command line, spec file, results or baseline: exit 2."""


def die(tag, msg, code=EXIT_USAGE):
    sys.stderr.write(f"{tag}: {msg}\n")
    sys.exit(code)


def require_module(name, debian_package, tag):
    """Import a module from Debian's Python. A Python without it (e.g. a pyenv one) re-runs the
    calling script with /usr/bin/python3 once; otherwise exit 2 naming the package."""
    try:
        return __import__(name)
    except ImportError:
        flag = "ACCELVP_TOOLS_REEXEC"
        if os.environ.get(flag) != "1" and os.path.exists("/usr/bin/python3") \
                and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
            os.environ[flag] = "1"
            os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(sys.argv[0]), *sys.argv[1:]])
        die(tag, f"Python module '{name}' is missing: install Debian's {debian_package} (tools/setup.sh does)")


class Parser(argparse.ArgumentParser):
    """argparse whose errors are exit 2 with the tool's tag (argparse itself also uses 2)."""

    def __init__(self, *a, tag="accelvp", **kw):
        super().__init__(*a, **kw)
        self.tag = tag

    def error(self, message):
        self.print_usage(sys.stderr)
        die(self.tag, f"usage error: {message}")


def scalar_text(v, where, key):
    """A YAML scalar as accelvp's -p takes it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return v
    raise UsageError(f"{where}: '{key}' must be a scalar (string or number), got {type(v).__name__}")


def parse_overrides(v, where):
    """overrides: a mapping {key: value} or a list of 'key=value' strings -> ['key=value', ...]."""
    if v is None:
        return []
    out = []
    if isinstance(v, dict):
        for k, val in v.items():
            if not isinstance(k, str) or not k:
                raise UsageError(f"{where}: overrides: bad key {k!r}")
            out.append(f"{k}={scalar_text(val, where + ': overrides', k)}")
    elif isinstance(v, list):
        for item in v:
            if not isinstance(item, str) or "=" not in item or item.startswith("="):
                raise UsageError(f"{where}: overrides: expected 'key=value', got {item!r}")
            out.append(item)
    else:
        raise UsageError(f"{where}: 'overrides' must be a mapping (key: value) or a list of 'key=value'")
    return out


def resolve_config(config, spec_dir):
    """A config given as a file is relative to the spec file; a bare name is a preset."""
    if (os.path.sep in config or config.endswith((".yaml", ".yml"))) and not os.path.isabs(config):
        return os.path.normpath(os.path.join(spec_dir, config))
    return config


def run_fields(d, where, spec_dir):
    """The keys of one accelvp run in a suite case or sweep spec, checked: config (required),
    workload, mode, seed, timeout_s, trace."""
    f = {"config": resolve_config(scalar_text(d["config"], where, "config"), spec_dir)}
    f["workload"] = scalar_text(d.get("workload", "dma-copy"), where, "workload")
    f["mode"] = scalar_text(d.get("mode", "functional"), where, "mode")
    if f["mode"] not in MODES:
        raise UsageError(f"{where}: mode '{f['mode']}' must be one of {', '.join(MODES)}")
    seed = d.get("seed", 1)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UsageError(f"{where}: 'seed' must be an integer >= 0, got {seed!r}")
    f["seed"] = seed
    t = d.get("timeout_s", 600)
    if isinstance(t, bool) or not isinstance(t, (int, float)) or t <= 0:
        raise UsageError(f"{where}: 'timeout_s' must be a number > 0, got {t!r}")
    f["timeout_s"] = t
    trace = d.get("trace", False)
    if not isinstance(trace, bool):
        raise UsageError(f"{where}: 'trace' must be true or false, got {trace!r}")
    if trace:  # only when set, so results without traces look as before
        f["trace"] = True
    return f


def load_yaml_file(yaml, path, what):
    rel = os.path.relpath(path)
    try:
        with open(path) as f:
            return yaml.safe_load(f)
    except OSError as e:
        raise UsageError(f"{what} {rel}: cannot read: {e.strerror}")
    except yaml.YAMLError as e:
        raise UsageError(f"{what} {rel}: not valid YAML: {e}")
    except RecursionError:  # PyYAML's parser and constructor recurse once per nesting level
        raise UsageError(f"{what} {rel}: nested too deeply for the YAML reader")


def fmt_csv(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, bool):
        return str(v).lower()
    return str(v)


def fmt_num(v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.10g}"
    return str(v)


def write_json(path, doc):
    """Write tmp + rename: a reader (or a resumed run) never sees half a file."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)


def write_csv(path, header, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            w.writerow(r)
    os.replace(tmp, path)


def cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def default_accelvp():
    """The accelvp the tools run: $ACCELVP (`accelvp bench|sweep|...` sets it to itself), else
    `accelvp` on PATH; never a guessed build directory. None when there is neither."""
    import shutil
    return os.environ.get("ACCELVP") or shutil.which("accelvp")


def resolve_accelvp(path):
    """--accelvp (default default_accelvp()) as an absolute path, checked; UsageError otherwise."""
    if not path:
        raise UsageError("which accelvp? run the tool as `accelvp bench|sweep ...`, give --accelvp PATH or set "
                         "ACCELVP (none on PATH either)")
    accelvp = os.path.abspath(path)
    if not os.access(accelvp, os.X_OK):
        raise UsageError(f"no accelvp program at {accelvp} (build it: cmake --build build, or give --accelvp)")
    return accelvp


def default_out_dir(*parts):
    """Default results directory: build/<parts> of the checkout, or ./<parts> when the tools run
    from an installation (its share/accelvp is not ours to write)."""
    if os.path.exists(os.path.join(ROOT, "CMakeLists.txt")):
        return os.path.join(ROOT, "build", *parts)
    return os.path.join(os.getcwd(), "accelvp-" + parts[0], *parts[1:])


def accelvp_version(accelvp):
    try:
        return subprocess.run([accelvp, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError:
        return None


def git_info():
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=30).stdout.strip() != ""
        return {"commit": commit or None, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def host_info():
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"hostname": socket.gethostname(), "cpus": cpu_count(), "cpu_model": model,
            "system": platform.platform()}
