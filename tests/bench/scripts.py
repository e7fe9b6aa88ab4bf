"""Helpers of the tests/bench script tests: run a tool script and check its exit code, and
write a fake program (a Python script whose first line names this Python)."""
import os
import subprocess
import sys


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
