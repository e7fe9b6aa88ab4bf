#!/usr/bin/env python3
"""accelvp asm / disasm end to end: files, exact round trip, line-numbered errors and
exit codes. Usage: test_cmdasm.py path/to/accelvp"""
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, runner, test  # noqa: E402

ACCELVP = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="accelvp-cmdasm-")


run = runner(ACCELVP, timeout=60)


def path(name):
    return os.path.join(TMP, name)


def write(name, data):
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path(name), mode) as f:
        f.write(data)
    return path(name)


def read(name):
    with open(path(name), "rb") as f:
        return f.read()


SOURCE = """# copy in, wait for the compute side, copy out
dma src=0x1000 dst=0x2000 width=4096 height=1
sem_wait sem=3 cond=ge value=1 dec
dma dst=0x3000 width=64 height=2 dst_stride=64 pattern=0x01020304 fill
sem_signal sem=4 value=1
fence addr=0x8000 value=7
msg addr=0x9000 value=1 irq
nop size=2
"""


@test
def asm_writes_the_packets():
    run("asm", write("a.s", SOURCE), "-o", path("a.bin"))
    b = read("a.bin")
    # 7 + 2 + 7 + 2 + 3 + 3 + 2 quadwords
    check(len(b) == 26 * 8, f"size {len(b)}")
    check(b[0] == 0x02 and b[2] == 7, "first packet is a 7-qword DMA")
    check(int.from_bytes(b[8:16], "little") == 0x1000, "DMA src")
    check(b[56] == 0x06 and b[56 + 10] == 0 and b[56 + 11] == 1, "SEM_WAIT cond=ge dec")


@test
def disasm_to_stdout_and_file_round_trips():
    run("asm", write("a.s", SOURCE), "-o", path("a.bin"))
    text = run("disasm", path("a.bin")).stdout
    check(text.splitlines()[0] == "dma src=0x1000 dst=0x2000 width=4096", text)
    run("disasm", path("a.bin"), "-o", path("b.s"))
    check(open(path("b.s")).read() == text, "file and stdout differ")
    run("asm", path("b.s"), "-o", path("b.bin"))
    check(read("b.bin") == read("a.bin"), "reassembled bytes differ")


@test
def offsets_are_comments_that_still_assemble():
    run("asm", write("a.s", SOURCE), "-o", path("a.bin"))
    text = run("disasm", "--offsets", path("a.bin")).stdout
    check("# +0x38" in text.splitlines()[1], text)
    run("asm", write("o.s", text), "-o", path("o.bin"))
    check(read("o.bin") == read("a.bin"), "offset comments changed the bytes")


@test
def arbitrary_binary_round_trips():
    rng = random.Random(5)
    for i in range(20):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        write("r.bin", data)
        run("disasm", path("r.bin"), "-o", path("r.s"))
        run("asm", path("r.s"), "-o", path("r2.bin"))
        check(read("r2.bin") == data, f"random binary {i} did not round-trip")


@test
def errors_are_file_line_messages_and_exit_2():
    src = write("bad.s", "nop\ndma dst=0x10 width=1 height=0\nsem_wait sem=1 cond=lt\n")
    p = run("asm", src, "-o", path("bad.bin"), expect=2)
    lines = p.stderr.strip().splitlines()
    check(lines == [f"{src}:2: dma: height=0 is out of range [1, 4294967295]",
                    f"{src}:3: sem_wait: cond=lt is not valid; valid values: ge, eq, nz"], p.stderr)
    check(not os.path.exists(path("bad.bin")), "an output file was written despite errors")


@test
def whitespace_only_lines_assemble_to_nothing():
    # A line of only \v or \f once crashed the assembler (SIGSEGV).
    for ws in ("\v", "\f", "\v\f \t"):
        src = write("ws.s", ws + "\n")
        run("asm", src, "-o", path("ws.bin"), expect=0)
        check(read("ws.bin") == b"", f"{ws!r}: output {read('ws.bin')!r}")


@test
def missing_input_and_usage_are_exit_2():
    p = run("asm", path("nope.s"), "-o", path("x.bin"), expect=2)
    check("nope.s" in p.stderr, p.stderr)
    run("disasm", path("nope.bin"), expect=2)
    run("asm", write("a.s", SOURCE), expect=2)  # -o is required
    check("asm" in run("--help").stdout and "disasm" in run("--help").stdout, "help lacks asm/disasm")


finish()
