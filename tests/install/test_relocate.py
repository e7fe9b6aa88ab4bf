#!/usr/bin/env python3
"""No path of the build machine in the binary (docs/embedding.md, "Finding the data"): the
accelvp of a build tree copied elsewhere finds its presets, firmware and tools next to itself
(bin/ beside share/accelvp/), through $ACCELVP_DATA_DIR or --data-dir, and says clearly when it
finds none; `accelvp sweep|bench` run the accelvp they were invoked through, and the tools run
on their own never guess a build directory.

Usage: test_relocate.py path/to/accelvp SOURCE_DIR BUILD_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ACCELVP, SRC, BUILD = (os.path.abspath(a) for a in sys.argv[1:4])
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(cmd, env=None, cwd=None):
    e = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
    for k in ("ACCELVP", "ACCELVP_DATA_DIR", "ACCELVP_CONFIG_DIR", "ACCELVP_FIRMWARE"):
        e.pop(k, None)
    e["PATH"] = "/usr/bin:/bin"  # no accelvp on PATH
    e.update(env or {})
    return subprocess.run(cmd, capture_output=True, text=True, env=e, cwd=cwd, timeout=300)


def test_strings(tmp):
    # Nothing of the source or build directory among the strings the binary loads (the data
    # is found at run time; __FILE__ is relative: -fmacro-prefix-map). Debug information (the
    # asan build's -g) names the sources for debuggers and is not loaded: it is left out.
    stripped = os.path.join(tmp, "accelvp.stripped")
    p = subprocess.run(["objcopy", "--strip-debug", ACCELVP, stripped], capture_output=True, text=True)
    check(p.returncode == 0, f"objcopy --strip-debug ({p.stderr.strip()})")
    with open(stripped, "rb") as f:
        blob = f.read()
    for d in (SRC, BUILD):
        check(d.encode() not in blob, f"{d} does not occur in {ACCELVP} (debug information aside)")


def test_moved(tmp):
    fw_built = os.path.exists(os.path.join(BUILD, "share", "accelvp", "firmware", "accelvp-fw.elf"))
    # A copy with no data next to it: a clear config error (exit 2), not a crash.
    bare = os.path.join(tmp, "bare", "bin")
    os.makedirs(bare)
    exe = shutil.copy(ACCELVP, bare)
    p = run([exe, "run", "-c", "training", "-w", "dma-copy", "-q"], cwd=tmp)
    check(p.returncode == 2 and "no config file or preset named 'training'; presets: (none found)" in p.stderr,
          f"bare copy: -c training is exit 2 naming no presets (rc {p.returncode}: {p.stderr.strip()[-200:]})")
    p = run([exe, "sweep", "x.yaml"], cwd=tmp)
    check(p.returncode == 2 and "cannot find the tools: no share/accelvp next to " + exe in p.stderr
          and "--data-dir" in p.stderr, f"bare copy: sweep is exit 2 naming --data-dir ({p.stderr.strip()})")
    # The same copy with the data given by environment or option.
    data = os.path.join(BUILD, "share", "accelvp")
    for how, env, pre in (("ACCELVP_DATA_DIR", {"ACCELVP_DATA_DIR": data}, []), ("--data-dir", None, ["--data-dir", data])):
        p = run([exe, *pre, "list"], env=env, cwd=tmp)
        check(p.returncode == 0 and "training" in p.stdout, f"bare copy with {how}: list shows the presets")
        p = run([exe, *pre, "config", "-c", "training", "--dump"], env=env, cwd=tmp)
        want = os.path.realpath(os.path.join(data, "firmware", "accelvp-fw.elf")) if fw_built else ""
        check(p.returncode == 0 and f'firmware: "{want}"' in p.stdout,
              f"bare copy with {how}: host.driver.firmware defaults to {want or 'nothing'}")

    # A prefix layout: prefix/bin/accelvp beside prefix/share/accelvp (copied, not linked).
    prefix = os.path.join(tmp, "prefix")
    os.makedirs(os.path.join(prefix, "bin"))
    share = os.path.join(prefix, "share", "accelvp")
    shutil.copytree(os.path.join(SRC, "configs"), os.path.join(share, "configs"))
    shutil.copytree(os.path.join(SRC, "tools"), os.path.join(share, "tools"))
    shutil.copytree(os.path.join(SRC, "benchmarks", "suites"), os.path.join(share, "benchmarks", "suites"))
    if fw_built:
        os.makedirs(os.path.join(share, "firmware"))
        shutil.copy(os.path.join(data, "firmware", "accelvp-fw.elf"), os.path.join(share, "firmware"))
    exe = shutil.copy(ACCELVP, os.path.join(prefix, "bin"))
    stats = os.path.join(tmp, "s.json")
    p = run([exe, "run", "-c", "training", "-w", "dma-copy", "-q", "--stats", stats], cwd=tmp)
    check(p.returncode == 0, f"prefix copy: run -c training -w dma-copy exits 0 ({p.stderr.strip()[-300:]})")
    if p.returncode == 0:
        with open(stats) as f:
            s = json.load(f)
        check(s["workload"]["verified"] is True, "prefix copy: the DMA copy verified")
        if fw_built:
            check(s["config"]["host.driver.firmware"] == os.path.realpath(os.path.join(share, "firmware", "accelvp-fw.elf")),
                  f"prefix copy: firmware from the prefix ({s['config']['host.driver.firmware']})")
            check(s.get("firmware", {}).get("version", "0.0.0") != "0.0.0", "prefix copy: the firmware booted")
    # The tools run the accelvp they were invoked through.
    spec = os.path.join(tmp, "spec.yaml")
    with open(spec, "w") as f:
        f.write("sweep: reloc\nconfig: inference\nworkload: dma-copy\nmode: timing\n"
                "grid: {workload.bytes: [4KiB, 64KiB]}\n")
    out = os.path.join(tmp, "sweep-out")
    p = run([exe, "sweep", spec, "--out", out, "-j", "1"], env={"ACCELVP": "/nonexistent/accelvp"}, cwd=tmp)
    check(p.returncode == 0, f"prefix copy: accelvp sweep exits 0 ({p.stderr.strip()[-300:]})")
    if p.returncode == 0:
        with open(os.path.join(out, "results.json")) as f:
            r = json.load(f)
        check(r["accelvp"]["path"] == exe, f"accelvp sweep ran {r['accelvp']['path']}, the program it was invoked as")
    p = run([exe, "bench", "list"], cwd=tmp)
    check(p.returncode == 0 and "smoke" in p.stdout, "prefix copy: accelvp bench list finds the installed suites")
    # The tools on their own: $ACCELVP or accelvp on PATH, never a guessed build directory.
    p = run([sys.executable, os.path.join(SRC, "tools", "sweep.py"), spec, "--out", out + "2"], cwd=tmp)
    check(p.returncode == 2 and "which accelvp?" in p.stderr,
          f"tools/sweep.py without ACCELVP or PATH: exit 2 asking which accelvp ({p.stderr.strip()})")
    p = run([sys.executable, os.path.join(SRC, "tools", "sweep.py"), spec, "--out", out + "3", "-j", "1"],
            env={"PATH": os.path.join(prefix, "bin") + ":/usr/bin:/bin"}, cwd=tmp)
    if p.returncode == 0:
        with open(os.path.join(out + "3", "results.json")) as f:
            r = json.load(f)
        check(r["accelvp"]["path"] == exe, "tools/sweep.py runs the accelvp on PATH")
    else:
        check(False, f"tools/sweep.py with accelvp on PATH exits 0 ({p.stderr.strip()[-300:]})")


with tempfile.TemporaryDirectory() as tmp:
    test_strings(tmp)
    test_moved(tmp)
if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("all passed")
