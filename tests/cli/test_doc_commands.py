#!/usr/bin/env python3
"""The commands shown in the docs, run and compared with the output the docs show.

Every fenced block with the info string `console` in README.md and docs/*.md is a transcript:

    ```console
    $ accelvp list                      <- a command (bash, from the repository root; a line
    configs:                               ending in '\\' continues it)
      edge   ...                        <- its expected output: stdout and stderr as they interleave
    $ accelvp run -c nosuch   # exit 2  <- '# exit N': the expected exit code (default 0)
    accelvp: config error: ...
    ```

In the expected output a line that is just `...` matches any number of lines (none too), and
`...` inside a line matches any text: that is how wall times, dates and paths that change from
run to run are left out. Everything else must match exactly (trailing spaces and trailing empty
lines aside). The commands run with the accelvp under test first on PATH, $ACCELVP set to it,
COLUMNS=100 and SC_COPYRIGHT_MESSAGE=DISABLE. Blocks marked ``` (no info string) are not run.

Usage: test_doc_commands.py path/to/accelvp [--update] [FILE.md ...]
  --update  rewrite the expected output of every mismatching command that has no `...` in the
            docs with what it printed (review the diff before committing it)
"""
import concurrent.futures
import difflib
import glob
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXIT_RE = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")


def blocks(path):
    """[(first line number, [(cmd, exit code, [expected lines], index of its first output line)])]"""
    with open(path) as f:
        lines = f.read().split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "```console":
            start, entries, i = i + 1, [], i + 1
            cur = None
            while i < len(lines) and lines[i].strip() != "```":
                ln = lines[i]
                if ln.startswith("$ "):
                    cmd = ln[2:]
                    first = i
                    while cmd.endswith("\\") and i + 1 < len(lines):
                        i += 1
                        cmd = cmd[:-1] + " " + lines[i].strip()
                    code = 0
                    m = EXIT_RE.search(cmd)
                    if m:
                        code = int(m.group(1))
                    cur = {"cmd": cmd, "exit": code, "expected": [], "line": first + 1, "out_start": i + 1}
                    entries.append(cur)
                elif cur is None:
                    raise SystemExit(f"{path}:{i + 1}: a console block must start with a '$ ' command line")
                else:
                    cur["expected"].append(ln)
                i += 1
            out.append((start, entries))
        i += 1
    return out


def strip_tail(lines):
    lines = [ln.rstrip() for ln in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def line_re(expected):
    return re.compile("^" + ".*".join(re.escape(p) for p in expected.split("...")) + "$")


def matches(expected, actual):
    """expected lines (with '...' wildcards) against actual lines."""
    memo = {}

    def m(i, j):
        key = (i, j)
        if key in memo:
            return memo[key]
        if i == len(expected):
            r = j == len(actual)
        elif expected[i] == "...":
            r = any(m(i + 1, k) for k in range(j, len(actual) + 1))
        elif j < len(actual) and (expected[i] == actual[j] or ("..." in expected[i]
                                                                and line_re(expected[i]).match(actual[j]))):
            r = m(i + 1, j + 1)
        else:
            r = False
        memo[key] = r
        return r
    return m(0, 0)


# The subcommands whose options docs/user-guide.md documents, each under '### accelvp NAME'.
SUBCOMMANDS = ("run", "config", "iss", "memsim", "asm", "disasm")


def options_documented(accelvp, env):
    """(passed, [failures]): each subcommand's options (its --help) appear in its section."""
    with open(os.path.join(ROOT, "docs", "user-guide.md")) as f:
        guide = f.read()
    ok, bad = 0, []
    for sub in SUBCOMMANDS:
        p = subprocess.run([accelvp, sub, "--help"], env=env, capture_output=True, text=True, timeout=60)
        opts = sorted(set(re.findall(r"(?m)^\s+(?:-\w,)?(--[a-z][\w-]*)", p.stdout)) - {"--help"})
        m = re.search(rf"(?ms)^### accelvp {sub}\b.*?(?=^#{{2,3}} )", guide)
        section = m.group(0) if m else ""
        missing = [o for o in opts if not re.search(rf"(`|, ){re.escape(o)}(?![\w-])", section)]
        where = f"docs/user-guide.md '### accelvp {sub}'"
        if not m or not opts or missing:
            bad.append(where)
            print(f"FAIL {where}: " + ("no such section" if not m else f"options not documented: {', '.join(missing)}"
                                        if opts else f"no options in 'accelvp {sub} --help'"))
        else:
            ok += 1
            print(f"ok   {where}: {len(opts)} options of 'accelvp {sub} --help' documented")
    # the Python tools' options, in docs/benchmarks.md
    with open(os.path.join(ROOT, "docs", "benchmarks.md")) as f:
        bench_doc = f.read()
    tools = (["bench.py", "run"], ["bench.py", "compare"], ["bench.py", "update-baseline"], ["bench.py", "list"],
             ["sweep.py"], ["plot.py"], ["report.py"])
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        helps = list(pool.map(lambda t: subprocess.run([sys.executable, os.path.join(ROOT, "tools", t[0]), *t[1:],
                                                        "--help"], env=env, capture_output=True, text=True,
                                                       timeout=60), tools))
    for tool, p in zip(tools, helps):
        opts = sorted(set(re.findall(r"(?<![\w-])--[a-z][\w-]*", p.stdout)) - {"--help"})
        missing = [o for o in opts if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", bench_doc)]
        where = f"docs/benchmarks.md: tools/{' '.join(tool)}"
        if p.returncode != 0 or missing:
            bad.append(where)
            print(f"FAIL {where}: options not documented: {', '.join(missing) or p.stderr}")
        else:
            ok += 1
            print(f"ok   {where}: {len(opts)} options documented")
    return ok, bad


def main():
    args = [a for a in sys.argv[1:] if a != "--update"]
    update = "--update" in sys.argv[1:]
    if not args:
        sys.stderr.write(__doc__)
        return 2
    accelvp = os.path.abspath(args[0])
    files = args[1:] or [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    env = dict(os.environ, PATH=os.path.dirname(accelvp) + os.pathsep + os.environ.get("PATH", ""),
               ACCELVP=accelvp, COLUMNS="100", SC_COPYRIGHT_MESSAGE="DISABLE")
    env.pop("ACCELVP_CONFIG_DIR", None)
    passed, failed, t0 = 0, [], time.monotonic()
    for path in files:
        rel = os.path.relpath(path, ROOT)
        edits = []
        block_entries = [entries for _, entries in blocks(path)]
        entries_all = [e for entries in block_entries for e in entries]

        def run_block(entries):
            # A block's commands run in order: a later one may read what an earlier one wrote
            # (a capture, then its replay).
            return [subprocess.run(["bash", "-c", e["cmd"]], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, timeout=120) for e in entries]
        # the blocks are independent: run 4 at a time (the machine is shared and slow)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            done = [p for ps in pool.map(run_block, block_entries) for p in ps]
        for e, p in zip(entries_all, done):
            actual = strip_tail(p.stdout.split("\n"))
            expected = strip_tail(e["expected"])
            ok_out = matches(expected, actual)
            ok = ok_out and p.returncode == e["exit"]
            where = f"{rel}:{e['line']}"
            if ok:
                passed += 1
                print(f"ok   {where}: $ {e['cmd']}")
                continue
            failed.append(where)
            print(f"FAIL {where}: $ {e['cmd']}")
            if p.returncode != e["exit"]:
                print(f"     exit {p.returncode}, the docs say {e['exit']}")
            if not ok_out:
                for d in difflib.unified_diff(expected, actual, "docs", "actual", lineterm="", n=2):
                    print("     " + d)
                if update and not any("..." in x for x in expected):
                    n_old = len(e["expected"])
                    # keep the blank lines that separated this output from the next command
                    trailing = len(e["expected"]) - len(strip_tail(e["expected"]))
                    edits.append((e["out_start"], n_old, actual + [""] * trailing))
        if update and edits:
            with open(path) as f:
                lines = f.read().split("\n")
            for start, n, new in sorted(edits, reverse=True):
                lines[start:start + n] = new
            with open(path, "w") as f:
                f.write("\n".join(lines))
            print(f"updated {len(edits)} outputs in {rel}")
    # Every option of every subcommand (from its --help) is in its section of the user guide.
    if not args[1:]:
        ok, bad = options_documented(accelvp, env)
        passed += ok
        failed += bad
    print(f"{passed} passed, {len(failed)} failed ({time.monotonic() - t0:.1f} s)")
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
