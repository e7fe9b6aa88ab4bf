#!/usr/bin/env python3
"""The installation (docs/embedding.md): `cmake --install` into a staging prefix, the programs
and packages run from there and from the Debian package, an embedding project builds against it.

Usage: test_install.py STEP BUILD_DIR SOURCE_DIR
  stage   cmake --install BUILD_DIR into BUILD_DIR/install-test/prefix (the other steps' fixture)
  run     accelvp run / list / sweep from the staged prefix, and from a DESTDIR staging
  deb     cpack -G DEB, dpkg -x the package, accelvp run from the unpacked /usr
  embed   configure, build and run examples/embed against the staged prefix (find_package)
  python  import accelvp from the staged prefix and run through it
  subdir  a parent project that add_subdirectory()s the source tree configures (no build)
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

STEP, BUILD, SRC = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
STAGE = os.path.join(BUILD, "install-test")
PREFIX = os.path.join(STAGE, "prefix")
FW_BUILT = os.path.exists(os.path.join(BUILD, "firmware", "accelvp-fw.elf"))
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def run(cmd, env=None, cwd=None, timeout=600):
    e = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
    for k in ("ACCELVP", "ACCELVP_DATA_DIR", "ACCELVP_CONFIG_DIR", "ACCELVP_FIRMWARE", "PYTHONPATH", "DESTDIR"):
        e.pop(k, None)
    e.update(env or {})
    return subprocess.run(cmd, capture_output=True, text=True, env=e, cwd=cwd or STAGE, timeout=timeout)


def tail(p):
    return (p.stdout + p.stderr).strip()[-1500:]


def check_run(prefix, what):
    """accelvp run from an installed tree: presets and firmware of that tree, the copy verified."""
    exe = os.path.join(prefix, "bin", "accelvp")
    stats = os.path.join(STAGE, f"stats-{what}.json")
    p = run([exe, "run", "-c", "training", "-w", "dma-copy", "-p", "workload.bytes=1MiB", "--stats", stats, "-q"])
    check(p.returncode == 0, f"{what}: accelvp run -c training -w dma-copy exits 0 ({tail(p)})")
    if p.returncode != 0:
        return None
    with open(stats) as f:
        s = json.load(f)
    check(s["workload"]["verified"] is True, f"{what}: the DMA copy verified")
    if FW_BUILT:
        fw = s["config"]["host.driver.firmware"]
        check(fw == os.path.realpath(os.path.join(prefix, "share", "accelvp", "firmware", "accelvp-fw.elf")),
              f"{what}: the firmware of the installed tree ({fw})")
        check(s["firmware"]["version"] != "0.0.0", f"{what}: the firmware booted (version {s['firmware']['version']})")
    return s


def step_stage():
    shutil.rmtree(STAGE, ignore_errors=True)
    os.makedirs(STAGE)
    p = run(["cmake", "--install", BUILD, "--prefix", PREFIX])
    check(p.returncode == 0, f"cmake --install --prefix {PREFIX} ({tail(p)})")
    want = ["bin/accelvp", "include/accelvp/platform/chip/chip.h", "include/accelvp/abi/aax_regs.h",
            "include/accelvp/tlm/core/data_dir.h", "lib/cmake/accelvp/accelvpConfig.cmake",
            "lib/cmake/accelvp/accelvpTargets.cmake", "share/accelvp/configs/training.yaml",
            "share/accelvp/tools/sweep.py", "share/accelvp/tools/accelvp_tools/runner.py",
            "share/accelvp/benchmarks/suites/smoke.yaml"]
    if FW_BUILT:
        want.append("share/accelvp/firmware/accelvp-fw.elf")
    for w in want:
        check(os.path.exists(os.path.join(PREFIX, w)), f"installed {w}")
    libs = glob.glob(os.path.join(PREFIX, "lib*", "libaccelvp_chip.a"))
    check(len(libs) == 1, "installed libaccelvp_chip.a")
    # Nothing installed refers to the source or build tree.
    for f in glob.glob(os.path.join(PREFIX, "lib*", "cmake", "accelvp", "*.cmake")):
        with open(f) as fh:
            text = fh.read()
        check(SRC not in text and BUILD not in text, f"{os.path.basename(f)} names neither the source nor the build tree")


def step_run():
    check_run(PREFIX, "prefix")
    exe = os.path.join(PREFIX, "bin", "accelvp")
    p = run([exe, "list"])
    check(p.returncode == 0 and all(n in p.stdout for n in ("edge", "inference", "training")),
          "prefix: accelvp list shows the installed presets")
    # accelvp sweep: the installed tools, running the installed accelvp.
    spec = os.path.join(STAGE, "spec.yaml")
    with open(spec, "w") as f:
        f.write("sweep: staged\nconfig: inference\nworkload: dma-copy\nmode: timing\ngrid: {workload.bytes: [4KiB]}\n")
    out = os.path.join(STAGE, "sweep")
    p = run([exe, "sweep", spec, "--out", out, "-j", "1"], env={"ACCELVP": "/nonexistent"})
    check(p.returncode == 0, f"prefix: accelvp sweep exits 0 ({tail(p)})")
    if p.returncode == 0:
        with open(os.path.join(out, "results.json")) as f:
            check(json.load(f)["accelvp"]["path"] == exe, "prefix: accelvp sweep ran the installed accelvp")
    # DESTDIR staging of a /usr/local install: the tree runs where it is unpacked.
    with tempfile.TemporaryDirectory(dir=STAGE) as dest:
        p = run(["cmake", "--install", BUILD, "--prefix", "/usr/local"], env={"DESTDIR": dest})
        check(p.returncode == 0, f"DESTDIR={dest} cmake --install --prefix /usr/local ({tail(p)})")
        check_run(os.path.join(dest, "usr", "local"), "DESTDIR")


def step_deb():
    pkg = os.path.join(STAGE, "deb")
    shutil.rmtree(pkg, ignore_errors=True)
    p = run(["cpack", "-G", "DEB", "-B", pkg, "--config", os.path.join(BUILD, "CPackConfig.cmake")], timeout=900)
    check(p.returncode == 0, f"cpack -G DEB ({tail(p)})")
    debs = glob.glob(os.path.join(pkg, "*.deb"))
    check(len(debs) == 1, f"cpack made one .deb ({debs})")
    if len(debs) != 1:
        return
    p = run(["dpkg-deb", "-f", debs[0], "Package", "Version", "Depends"])
    fields = p.stdout
    check("Package: accelvp" in fields and "libsystemc" in fields and "python3-yaml" in fields,
          f"the package's control fields name it and its run-time dependencies ({fields.strip()})")
    p = run(["dpkg-deb", "-c", debs[0]])
    check("./usr/bin/accelvp" in p.stdout and "./usr/share/accelvp/configs/training.yaml" in p.stdout,
          "the package installs /usr/bin/accelvp and /usr/share/accelvp/configs")
    root = os.path.join(pkg, "root")
    p = run(["dpkg", "-x", debs[0], root])
    check(p.returncode == 0, f"dpkg -x ({tail(p)})")
    check_run(os.path.join(root, "usr"), "deb")


def step_embed():
    bdir = os.path.join(STAGE, "embed-build")
    shutil.rmtree(bdir, ignore_errors=True)
    p = run(["cmake", "-S", os.path.join(SRC, "examples", "embed"), "-B", bdir, "-G", "Ninja",
             "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_PREFIX_PATH={PREFIX}"])
    check(p.returncode == 0, f"examples/embed configures against the staged prefix ({tail(p)})")
    if p.returncode != 0:
        return
    p = run(["cmake", "--build", bdir], timeout=900)
    check(p.returncode == 0, f"examples/embed builds ({tail(p)})")
    if p.returncode != 0:
        return
    p = run([os.path.join(bdir, "embed_dma")])
    check(p.returncode == 0 and "copied 65536 bytes host -> device: verified" in p.stdout,
          f"embed_dma runs the DMA copy and verifies it ({tail(p)})")
    p = run([os.path.join(bdir, "embed_npu")])
    check(p.returncode == 0 and "verified" in p.stdout and "BAD_ADDRESS + error interrupt" in p.stdout,
          f"embed_npu runs a GEMM job on the NPU IP and its bad-address job ({tail(p)})")


def step_python():
    site = os.path.join(PREFIX, "lib", "python3", "dist-packages")
    code = ("import accelvp, json, os\n"
            "print(json.dumps({'file': accelvp._core.__file__, 'data': accelvp.data_dir(),\n"
            "  'presets': sorted(accelvp.presets()),\n"
            "  'stats': accelvp.run('training', 'dma-copy', {'workload.bytes': '1MiB'})}))\n")
    p = run([sys.executable, "-c", code], env={"PYTHONPATH": site}, cwd=STAGE)
    check(p.returncode == 0, f"import accelvp from the staged prefix and run ({tail(p)})")
    if p.returncode != 0:
        return
    r = json.loads(p.stdout.strip().splitlines()[-1])
    check(r["file"].startswith(site), f"the module is the installed one ({r['file']})")
    check(os.path.realpath(r["data"]) == os.path.realpath(os.path.join(PREFIX, "share", "accelvp")),
          f"its data directory is the prefix's share/accelvp ({r['data']})")
    check(r["presets"] == ["edge", "edge-soc", "inference", "training"], f"presets {r['presets']}")
    check(r["stats"]["workload"]["verified"] is True, "the run through the installed module verified")


def step_subdir():
    parent = os.path.join(BUILD, "install-test-subdir")
    shutil.rmtree(parent, ignore_errors=True)
    os.makedirs(parent)
    with open(os.path.join(parent, "CMakeLists.txt"), "w") as f:
        f.write("cmake_minimum_required(VERSION 3.25)\nproject(parent LANGUAGES C CXX)\n"
                f"add_subdirectory({SRC} accelvp)\n"
                "if(NOT TARGET accelvp::accelvp)\n  message(FATAL_ERROR \"no accelvp::accelvp\")\nendif()\n"
                "add_executable(embed_dma ${ACCELVP_EXAMPLE})\n"
                "target_link_libraries(embed_dma PRIVATE accelvp::accelvp)\n"
                "target_compile_definitions(embed_dma PRIVATE EMBED_ACCELVP_DATA_DIR=\"x\")\n")
    p = run(["cmake", "-S", parent, "-B", os.path.join(parent, "b"), "-G", "Ninja", "-DBUILD_TESTING=ON",
             f"-DACCELVP_EXAMPLE={os.path.join(SRC, 'examples', 'embed', 'embed_dma.cpp')}"], cwd=parent)
    check(p.returncode == 0, f"add_subdirectory(accelvp) configures and gives accelvp::accelvp ({tail(p)})")
    check(not os.path.exists(os.path.join(parent, "b", "accelvp", "tests")),
          "a subproject accelvp adds no tests of its own")
    check(os.path.islink(os.path.join(parent, "b", "accelvp", "share", "accelvp", "configs")),
          "its build tree has share/accelvp (the data lookup works there too)")
    shutil.rmtree(parent, ignore_errors=True)


steps = {"subdir": step_subdir, "stage": step_stage, "run": step_run, "deb": step_deb, "embed": step_embed, "python": step_python}
if STEP not in steps:
    sys.exit(f"usage: {__doc__}")
if STEP not in ("stage", "subdir") and not os.path.exists(os.path.join(PREFIX, "bin", "accelvp")):
    sys.exit("no staged install: run the install:stage test first (ctest fixture)")
steps[STEP]()
if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("all passed")
