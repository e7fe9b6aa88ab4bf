#!/usr/bin/env python3
"""Check the dependency rules of docs/architecture.md against the sources.

The rules are read from docs/architecture.md itself, from the table between the markers
`<!-- check_deps: rules -->` and `<!-- /check_deps -->`, so the document and the check cannot
drift apart. Each row names source folders in its first column and, in its second column,
what they may include besides their own folder: folders (`tlm/core/`), single files
(`tlm/compute/numerics.h`), `nothing`, or system headers in angle brackets (`<stdint.h>`: then
only those system headers are allowed). `anything` switches the check off for a folder.

Checks, over every `#include` of abi/, firmware/src/, tlm/ and platform/ (pure Python, no build):
  1. every include between folders is allowed by the rules;
  2. every source folder is covered by a rule (a new folder needs a documented rule);
  3. an include from one CMake library into another follows a link edge of the CMake files
     (tlm/CMakeLists.txt, platform/CMakeLists.txt, CMakeLists.txt), so a header-only
     dependency cannot hide from the link graph (abi/ is headers only and exempt);
  4. the SystemC time resolution stays 1 ps: nothing calls sc_set_time_resolution with
     anything else (timeline.h and every `sc_time::value()` in the models count ps);
  5. no cycles: neither the include edges between folders nor the CMake link edges between
     libraries go round in a circle (each is reported with its path);
  6. one library per folder of platform/: every source of platform/<x>/ is in accelvp_<x>
     (platform/cli/ is the accelvp program).

Usage: check_deps.py [--list] [ROOT]   (ROOT defaults to the repository holding this script)
  --list  print the include edges between folders and between libraries, then check.
Exit 0 when the rules hold, 1 with one line per violation otherwise.
"""
import fnmatch
import os
import re
import sys
from collections import defaultdict

TOPS = ("abi", "firmware", "tlm", "platform")
SRC_EXT = (".h", ".hpp", ".c", ".cpp", ".S", ".in")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
MARK_BEGIN = "<!-- check_deps: rules -->"
MARK_END = "<!-- /check_deps -->"


def folder_of(path):
    """The unit a repository path belongs to: abi/, firmware/src/, tlm/<x>/, platform/<x>/."""
    parts = path.split("/")
    if parts[0] == "abi":
        return "abi/"
    if parts[0] in ("tlm", "platform", "firmware") and len(parts) >= 3:
        return parts[0] + "/" + parts[1] + "/"
    return None


def source_files(root):
    for top in TOPS:
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for n in sorted(names):
                if n.endswith(SRC_EXT):
                    yield os.path.relpath(os.path.join(dirpath, n), root).replace(os.sep, "/")


def includes(root, path):
    """(kind, target) for each #include; project targets as repository paths."""
    with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
        text = f.read()
    for m in INCLUDE_RE.finditer(text):
        kind, inc = m.group(1), m.group(2)
        if kind == '"':
            if inc.split("/")[0] in TOPS:
                yield "project", inc
            else:  # relative to the including file
                rel = os.path.normpath(os.path.join(os.path.dirname(path), inc)).replace(os.sep, "/")
                yield "project", rel
        else:
            yield "system", inc


def parse_rules(doc):
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    if MARK_BEGIN not in text or MARK_END not in text:
        sys.exit(f"check_deps: {doc} has no rules table between '{MARK_BEGIN}' and '{MARK_END}'")
    table = text.split(MARK_BEGIN, 1)[1].split(MARK_END, 1)[0]
    rules = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`"):
            continue
        folders = re.findall(r"`([^`]+)`", cells[0])
        allowed = re.findall(r"`([^`<>]+)`", cells[1])
        system = re.findall(r"`<([^`>]+)>`", cells[1])
        anything = cells[1].startswith("anything")
        rules.append((folders, allowed, system, anything))
    if not rules:
        sys.exit(f"check_deps: the rules table of {doc} is empty")
    return rules


def rule_for(rules, folder):
    for folders, allowed, system, anything in rules:
        if any(fnmatch.fnmatchcase(folder, pat) for pat in folders):
            return allowed, system, anything
    return None


def allowed_target(allowed, target):
    for a in allowed:
        if a.endswith("/"):
            if fnmatch.fnmatchcase(target, a + "*") or target.startswith(a):
                return True
        elif fnmatch.fnmatchcase(target, a):
            return True
    return False


# ---- CMake libraries ---------------------------------------------------------------------------

def cmake_commands(path):
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"#[^\n]*", "", f.read())
    for m in re.finditer(r"(\w+)\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)", text):
        yield m.group(1), m.group(2).split()


def parse_libraries(root):
    """sources: repository path -> library; links: library -> set of (library, public)."""
    sources, links = {}, defaultdict(set)
    files = [("CMakeLists.txt", ""), ("tlm/CMakeLists.txt", "tlm/"), ("platform/CMakeLists.txt", "platform/")]
    for cm, prefix in files:
        for cmd, args in cmake_commands(os.path.join(root, cm)):
            if cmd in ("add_library", "add_executable") and args:
                for a in args[1:]:
                    if a.endswith((".c", ".cpp")):
                        sources[prefix + a] = args[0]
            elif cmd == "accelvp_block" and args:
                lib = "accelvp_" + args[0]
                for a in args[1:]:
                    sources[prefix + a] = lib
                links[lib] |= {("accelvp_core", True), ("accelvp_abi", True)}
            elif cmd == "target_link_libraries" and args:
                public = True
                for a in args[1:]:
                    if a in ("PUBLIC", "INTERFACE"):
                        public = True
                    elif a == "PRIVATE":
                        public = False
                    elif a.startswith("accelvp"):
                        links[args[0]].add((a, public))
    if not sources:
        sys.exit("check_deps: no library sources found in the CMake files")
    return sources, links


def library_of(path, sources):
    if path in sources:
        return sources[path]
    if path.startswith("abi/"):
        return "accelvp_abi"
    stem = os.path.splitext(path[:-3] if path.endswith(".in") else path)[0]
    for ext in (".cpp", ".c"):
        if stem + ext in sources:
            return sources[stem + ext]
    # A header without a source of its own: the library holding most sources of its folder.
    d = os.path.dirname(path) + "/"
    count = defaultdict(int)
    for s, lib in sources.items():
        if os.path.dirname(s) + "/" == d:
            count[lib] += 1
    return max(sorted(count), key=lambda lib: count[lib]) if count else None


def reachable(lib, links):
    """Libraries whose headers `lib`'s own sources may use: direct links, then PUBLIC ones."""
    seen, todo = set(), [t for t, _ in links.get(lib, ())]
    while todo:
        t = todo.pop()
        if t in seen:
            continue
        seen.add(t)
        todo += [u for u, public in links.get(t, ()) if public]
    return seen


# ---- main --------------------------------------------------------------------------------------

def main(argv):
    listing = "--list" in argv
    args = [a for a in argv if a != "--list"]
    root = os.path.abspath(args[0]) if args else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rules = parse_rules(os.path.join(root, "docs", "architecture.md"))
    sources, links = parse_libraries(root)
    errors = []
    folder_edges = defaultdict(list)
    lib_edges = defaultdict(list)
    files = list(source_files(root))
    for path in files:
        folder = folder_of(path)
        if folder is None:
            continue
        rule = rule_for(rules, folder)
        if rule is None:
            errors.append(f"{path}: folder {folder} has no rule in docs/architecture.md (add one)")
            continue
        allowed, system, anything = rule
        for kind, target in includes(root, path):
            if kind == "system":
                if system and target not in system and not anything:
                    errors.append(f"{path}: #include <{target}>: {folder} may include only "
                                  + ", ".join(f"<{s}>" for s in system))
                continue
            tfolder = folder_of(target)
            if tfolder is None or tfolder == folder:
                continue
            folder_edges[(folder, tfolder)].append(f"{path} -> {target}")
            if not anything and not allowed_target(allowed, target):
                errors.append(f'{path}: #include "{target}": {folder} may not include {tfolder} '
                              "(rules: docs/architecture.md, Dependency rules)")
            src_lib, dst_lib = library_of(path, sources), library_of(target, sources)
            # accelvp_abi is headers only (the include root); nothing to link.
            if src_lib and dst_lib and src_lib != dst_lib and dst_lib != "accelvp_abi":
                lib_edges[(src_lib, dst_lib)].append(f"{path} -> {target}")
                if dst_lib not in reachable(src_lib, links):
                    errors.append(f'{path}: #include "{target}": {src_lib} uses {dst_lib} '
                                  f"but does not link it (CMake)")
    # 4. SystemC time resolution: 1 ps is assumed everywhere (sc_time::value() counts ps).
    for path in files + [f for f in _test_files(root)]:
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                if "sc_set_time_resolution" in line and not re.search(
                        r"sc_set_time_resolution\s*\(\s*1\s*,\s*(sc_core::)?SC_PS\s*\)", line):
                    errors.append(f"{path}:{n}: the models assume a SystemC time resolution of 1 ps "
                                  "(docs/architecture.md, Timing approach)")
    # 5. No cycles, between folders (includes) or between libraries (links).
    for what, graph in (("folders", {a: {b for (x, b) in folder_edges if x == a} for (a, _) in folder_edges}),
                        ("libraries", {a: {b for b, _ in v} for a, v in links.items()})):
        cycle = find_cycle(graph)
        if cycle:
            errors.append(f"cycle between {what}: " + " -> ".join(cycle)
                          + " (docs/architecture.md, Dependency rules: untangle with an interface)")
    # 6. One library per platform folder.
    for src, lib in sorted(sources.items()):
        parts = src.split("/")
        if parts[0] == "platform" and len(parts) >= 3 and parts[1] != "cli" and lib != "accelvp_" + parts[1]:
            errors.append(f"{src}: in {lib}, but platform/{parts[1]}/ is the library accelvp_{parts[1]} "
                          "(platform/CMakeLists.txt)")
    if listing:
        print("include edges between folders (files):")
        for (a, b), v in sorted(folder_edges.items()):
            print(f"  {a:22} -> {b:22} {len(v)}")
        print("include edges between libraries (files):")
        for (a, b), v in sorted(lib_edges.items()):
            print(f"  {a:22} -> {b:22} {len(v)}")
    for e in errors:
        print(e)
    print(f"check_deps: {len(files)} files, {sum(len(v) for v in folder_edges.values())} includes across folders, "
          f"{len(errors)} violation(s)")
    return 1 if errors else 0


def find_cycle(graph):
    """One cycle of the directed graph {node: {successors}} as a list of nodes, or None."""
    state = {}

    def visit(node, path):
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, path)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None


def _test_files(root):
    for dirpath, _, names in os.walk(os.path.join(root, "tests")):
        for n in sorted(names):
            if n.endswith((".h", ".cpp")):
                yield os.path.relpath(os.path.join(dirpath, n), root).replace(os.sep, "/")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
