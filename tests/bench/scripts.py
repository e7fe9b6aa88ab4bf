"""Helpers of the tests/bench script tests: run a tool (as a program, or its main() in this
process: a tool's start-up, PyYAML and matplotlib imports cost more than most tests) and check
its exit code, and write a fake program (a Python script whose first line names this Python)."""
import contextlib
import io
import os
import subprocess
import sys

TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tools")
sys.path.insert(0, TOOLS)
from accelvp_tools.common import require_module  # noqa: E402


def debian_python(*modules):
    """Re-run the calling test with Debian's python3 when this Python lacks these modules
    (PyYAML, matplotlib), so the tools run in-process and their subprocesses start only once."""
    for m, pkg in modules:
        require_module(m, pkg, os.path.basename(sys.argv[0]))


class Done:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run_main(module, *args, expect=None):
    """A tool's main(args) in this process: its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = module.main(list(args))
        except SystemExit as e:
            rc = e.code
    if expect is not None and rc != expect:
        raise AssertionError(f"{module.__name__} {' '.join(args)}: exit {rc}, expected {expect}\n"
                             f"stdout: {out.getvalue()[-3000:]}\nstderr: {err.getvalue()[-3000:]}")
    return Done(rc, out.getvalue(), err.getvalue())


def run_script(script, *args, expect=None, env=None, timeout=120):
    p = subprocess.run([sys.executable, script, *args], capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, **(env or {})))
    if expect is not None and p.returncode != expect:
        raise AssertionError(f"{os.path.basename(script)} {' '.join(args)}: exit {p.returncode}, expected {expect}\n"
                             f"stdout: {p.stdout[-3000:]}\nstderr: {p.stderr[-3000:]}")
    return p


def fake_program(directory, name, text):
    """Write text ('#!PYTHON' first) as an executable once; returns its path."""
    path = os.path.join(directory, name)
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(text.replace("#!PYTHON", "#!" + sys.executable, 1))
        os.chmod(path, 0o755)
    return path


# The start of a fake accelvp: --version, then the command's options into `opts` and its
# -p key=value pairs into `params`; the fake's own text follows.
FAKE_ACCELVP_ARGS = r'''#!PYTHON
import json, os, sys, time

a = sys.argv[1:]
if a == ["--version"]:
    print("accelvp 0.0-fake"); sys.exit(0)
opts, params, i = {}, {}, 1
while i < len(a):
    if a[i] in ("--quiet", "--dump"):
        i += 1; continue
    if a[i] == "-p":
        k, v = a[i + 1].split("=", 1); params[k] = v
    else:
        opts[a[i]] = a[i + 1]
    i += 2
'''
