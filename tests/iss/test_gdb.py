#!/usr/bin/env python3
"""GDB bring-up test of `accelvp iss --gdb PORT`.

1. gdb-multiarch in batch mode against gdb_target.elf: break in add_numbers, read a0 and
   a global, stepi, `monitor time`, continue to the end; accelvp must exit 0 (tohost pass).
2. The remote protocol by hand (raw socket): a bad checksum is NAKed, Ctrl-C (0x03)
   stops a running program with T02, `k` ends the simulation with exit 1.

Every subprocess has a timeout and is killed on failure, so the test cannot hang.
Usage: test_gdb.py ACCELVP GDB_TARGET_ELF SPIN_ELF GDB"""
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, test  # noqa: E402

ACCELVP, TARGET_ELF, SPIN_ELF, GDB = sys.argv[1:5]



def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sim:
    """accelvp iss --gdb PORT in the background; its stdout and stderr collected by threads."""

    def __init__(self, elf, port):
        self.port = port
        self.p = subprocess.Popen([ACCELVP, "iss", "--elf", elf, "--gdb", str(port)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.out, self.err = [], []
        self.threads = [threading.Thread(target=lambda: self.out.extend(self.p.stdout), daemon=True),
                        threading.Thread(target=lambda: self.err.extend(self.p.stderr), daemon=True)]
        for t in self.threads:
            t.start()
        deadline = time.monotonic() + 15
        while not any("waiting for GDB on 127.0.0.1:%d" % port in line for line in self.err):
            if self.p.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"accelvp did not start its GDB stub: exit {self.p.returncode}, "
                                     f"stderr: {''.join(self.err)}")
            time.sleep(0.02)

    def wait(self, timeout=15):
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("accelvp did not exit")
        for t in self.threads:
            t.join(timeout=2)
        return rc, "".join(self.out), "".join(self.err)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(timeout=5)




@test
def gdb_batch_session():
    port = free_port()
    sim = Sim(TARGET_ELF, port)
    try:
        cmds = ["set architecture riscv:rv32", f"target remote 127.0.0.1:{port}", "break add_numbers", "continue",
                "info registers a0", "print the_global", "print/x $pc", "stepi", "print/x $pc", "monitor time",
                "continue"]
        args = [GDB, "-batch", "-nx"]
        for c in cmds:
            args += ["-ex", c]
        try:
            g = subprocess.run(args + [TARGET_ELF], capture_output=True, text=True, timeout=30)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"gdb timed out; output so far: {e.stdout}")
        out = g.stdout + g.stderr
        rc, sim_out, sim_err = sim.wait()
        ctx = f"\n--- gdb:\n{out}\n--- accelvp (exit {rc}):\n{sim_out}{sim_err}"
        check(re.search(r"Breakpoint 1, add_numbers \(a=17, b=25\)", out), "breakpoint not hit in add_numbers" + ctx)
        check(re.search(r"^a0\s+0x11\s+17$", out, re.M), "a0 is not 17 (the first argument)" + ctx)
        check(re.search(r"^\$1 = 1234$", out, re.M), "the_global does not print 1234" + ctx)
        pcs = re.findall(r"^\$[23] = (0x[0-9a-f]+)$", out, re.M)
        check(len(pcs) == 2 and int(pcs[1], 16) in (int(pcs[0], 16) + 2, int(pcs[0], 16) + 4),
              f"stepi did not advance pc by one instruction: {pcs}" + ctx)
        check(re.search(r"simulated time: [0-9.]+ ns", out), "monitor time printed no simulated time" + ctx)
        check("exited normally" in out, "gdb did not see the program exit" + ctx)
        check(rc == 0 and "PASS" in sim_out, "accelvp did not pass (tohost = 1) after the final continue" + ctx)
    finally:
        sim.kill()


class Rsp:
    """A minimal remote-protocol client in ack mode."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def byte(self):
        if not self.buf:
            self.buf = self.s.recv(4096)
            check(self.buf, "connection closed")
        c, self.buf = self.buf[:1], self.buf[1:]
        return c

    def send(self, payload, checksum=None):
        cs = sum(payload.encode()) & 0xFF if checksum is None else checksum
        self.s.sendall(b"$%s#%02x" % (payload.encode(), cs))

    def packet(self):
        while self.byte() != b"$":
            pass
        data = b""
        while (c := self.byte()) != b"#":
            data += c
        cs = self.byte() + self.byte()
        check(int(cs, 16) == sum(data) & 0xFF, f"bad checksum from the stub: {data!r}")
        self.s.sendall(b"+")
        return data.decode()

    def ack(self):
        return self.byte()

    def cmd(self, payload):
        self.send(payload)
        check(self.ack() == b"+", f"{payload}: not acknowledged")
        return self.packet()


@test
def raw_protocol_checksum_interrupt_kill():
    port = free_port()
    sim = Sim(SPIN_ELF, port)
    try:
        r = Rsp(port)
        r.send("qSupported", checksum=0)  # wrong checksum: the stub asks again
        check(r.ack() == b"-", "a bad checksum was not NAKed")
        check("PacketSize=" in r.cmd("qSupported"), "qSupported has no PacketSize")
        check(r.cmd("?") == "T05thread:1;", "initial stop is not SIGTRAP")
        check(len(r.cmd("g")) == 33 * 8, "g is not 33 32-bit registers")
        check(r.cmd("p20") == "00000080", "pc (register 32) is not the entry 0x80000000")
        check(r.cmd("p" + format(65 + 0x301, "x")) == "05110040", "misa via p (CSR 0x301) is wrong")
        check(r.cmd("P5=78563412") == "OK" and r.cmd("p5") == "78563412", "P/p on t0 do not round-trip")
        check(r.cmd("m80000000,4") != "" and r.cmd("m0,4").startswith("E"), "m: RAM readable, address 0 not")
        check(r.cmd("vCont?") == "", "vCont? should be unsupported")
        help_text = r.cmd("qRcmd," + b"help".hex())
        check(help_text.startswith("O") and "monitor time" in bytes.fromhex(help_text[1:]).decode(),
              "monitor help output")
        check(r.packet() == "OK", "qRcmd did not end with OK")
        r.send("c")
        check(r.ack() == b"+", "c not acknowledged")
        time.sleep(0.3)
        r.s.sendall(b"\x03")
        check(r.packet() == "T02thread:1;", "Ctrl-C did not stop the core with SIGINT")
        check(r.cmd("s") == "T05thread:1;", "single step did not report SIGTRAP")
        r.send("k")
        rc, _, err = sim.wait()
        check(rc == 1 and "killed from GDB" in err, f"k: exit {rc}, stderr {err}")
    finally:
        sim.kill()


finish()
