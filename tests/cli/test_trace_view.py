#!/usr/bin/env python3
"""The trace of a BERT-base encoder layer opens in an offline viewer in a real browser:
speedscope (npm, tools/viewer, installed by tools/setup.sh) in Debian's headless Chromium,
served from 127.0.0.1. The page lists the matrix-engine tracks in its track selector and
draws one of them (checked in the DOM and in a screenshot that is not blank).
Usage: test_trace_view.py path/to/accelvp path/to/source-dir [screenshot.png]
Exit 77 (skipped) when chromium or speedscope is not installed."""
import functools
import http.server
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testkit import check, finish, runner, test  # noqa: E402

ACCELVP = sys.argv[1]
SRC = sys.argv[2]
SHOT_OUT = sys.argv[3] if len(sys.argv) > 3 else None  # also keep the screenshot (docs/profiling.md's)
VIEWER = os.environ.get("ACCELVP_SPEEDSCOPE",
                        os.path.join(SRC, "tools", "viewer", "node_modules", "speedscope", "dist", "release"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM or not os.path.isfile(os.path.join(VIEWER, "index.html")):
    print(f"skipped: needs chromium ({CHROMIUM or 'not found'}) and speedscope ({VIEWER}: run tools/setup.sh)")
    sys.exit(77)

TMP = tempfile.mkdtemp(prefix="accelvp-view-")
run = runner(ACCELVP, timeout=300)

# The page the browser opens: speedscope in a frame, driven the way a person would use it --
# wait until the trace is loaded, press 't' (its track selector), type "mxu" in the selector's
# filter, click the first track -- and the frame's text that says what it showed, copied into
# this page's DOM (which --dump-dom prints).
PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>loading</title>
<style>body{margin:0}iframe{border:0;width:1280px;height:800px;display:block}#result{font-size:1px;white-space:pre}</style>
</head><body>
<iframe id="v" src="speedscope/index.html#profileURL=PROFILE_URL"></iframe>
<pre id="result"></pre>
<script>
function log(s) { document.getElementById('result').textContent += s + "\\n"; }
function doc() { return document.getElementById('v').contentDocument; }
function find(re) {
  const d = doc(); if (!d || !d.body) return null;
  for (const e of d.body.querySelectorAll('span')) if (re.test(e.textContent)) return e;
  return null;
}
let step = 0;
function tick() {
  if (step === 0) {  // the trace is loaded: the toolbar says (1/N) tracks
    const e = find(/^\\(\\d+\\/\\d+\\)$/);
    if (!e) return setTimeout(tick, 50);
    log("CURRENT " + e.parentElement.textContent);
    document.getElementById('v').contentWindow.dispatchEvent(new KeyboardEvent('keypress', {key: 't', bubbles: true}));
    step = 1; return setTimeout(tick, 50);
  }
  if (step === 1) {  // the track selector is open: filter it
    const i = doc().querySelector('input[placeholder="Filter..."]');
    if (!i || i.offsetParent === null) return setTimeout(tick, 50);
    i.focus(); i.value = "mxu"; i.dispatchEvent(new Event('input', {bubbles: true}));
    step = 2; return setTimeout(tick, 200);
  }
  if (step === 2) {  // the tracks left: every matrix engine's; show the first
    const rows = Array.from(doc().querySelectorAll('tbody tr')).filter(r => r.offsetParent !== null);
    if (!rows.length) return setTimeout(tick, 50);
    for (const r of rows) log("ROW " + r.textContent);
    for (const k of ['mousedown', 'mouseup', 'click']) rows[0].dispatchEvent(new MouseEvent(k, {bubbles: true}));
    step = 3; return setTimeout(tick, 300);
  }
  const e = find(/^\\(\\d+\\/\\d+\\)$/);
  if (e) log("SHOWN " + e.parentElement.textContent);
  document.title = "done";
}
document.getElementById('v').addEventListener('load', () => setTimeout(tick, 50));
</script></body></html>
"""


def png_pixels(path):
    """(width, height, rows of RGB(A) tuples) of an 8-bit RGB/RGBA PNG."""
    data = open(path, "rb").read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            check(depth == 8 and ctype in (2, 6), (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


@test
def bert_layer_trace_shows_its_engine_tracks_in_speedscope_in_headless_chromium():
    trace = os.path.join(TMP, "trace.json")
    run("run", "-w", "transformer-layer", "-c", "training", "--mode", "timing", "--trace", trace, "-q")
    with open(trace) as f:
        ev = json.load(f)["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in ev if e.get("ph") == "M" and e.get("name") == "thread_name"}
    mxu = sorted({names[e["tid"]] for e in ev if e.get("ph") == "X" and names[e["tid"]].endswith(".mxu")})
    check(len(mxu) >= 2, mxu)
    os.symlink(os.path.abspath(VIEWER), os.path.join(TMP, "speedscope"))
    class quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass
    handler = functools.partial(quiet, directory=TMP)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with open(os.path.join(TMP, "view.html"), "w") as f:
            f.write(PAGE.replace("PROFILE_URL", f"http://127.0.0.1:{port}/trace.json"))
        shot = os.path.join(TMP, "shot.png")
        # Virtual time: the page's timers run as fast as the (loaded, 2-core) machine allows,
        # and the budget ends the page's life; it pauses while the trace downloads.
        p = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            "--no-first-run", "--user-data-dir=" + os.path.join(TMP, "profile"),
                            "--virtual-time-budget=30000", "--window-size=1280,800", "--screenshot=" + shot,
                            "--dump-dom", f"http://127.0.0.1:{port}/view.html"],
                           capture_output=True, text=True, timeout=150)
    finally:
        httpd.shutdown()
    dom = p.stdout
    rows = re.findall(r"^ROW .*$", dom, re.M)
    shown = re.findall(r"^SHOWN (.*)$", dom, re.M)
    check(re.search(r"CURRENT accelvp \(pid 1\), board\.chip\.\S+ \(tid \d+\) \(1/\d+\)", dom, re.M),
          dom[-1500:] + p.stderr[-1500:])
    # the selector filtered on "mxu" lists exactly the trace's matrix-engine tracks, each with
    # the time its slices cover
    listed = sorted(re.search(r"(board\.chip\.compute\.cluster\d+\.mxu)", r).group(1) for r in rows)
    check(listed == mxu, (listed, mxu))
    check(all(re.search(r"\d+\.\d+µs$", r) for r in rows), rows)
    check(shown and re.match(r"accelvp \(pid 1\), board\.chip\.compute\.cluster0\.mxu \(tid \d+\) \(\d+/\d+\)$", shown[0]),
          shown)
    # the screenshot: the flame chart of that track, not a blank page
    w, h, px = png_pixels(shot)
    check((w, h) == (1280, 800), (w, h))
    colors = {}
    for y in range(30, 170):  # the chart's band under the toolbar
        for x in range(0, w, 2):
            colors[px[y][x]] = colors.get(px[y][x], 0) + 1
    bg = max(colors.values())
    painted = sum(colors.values()) - bg
    check(len(colors) > 8 and painted > 0.02 * sum(colors.values()), (len(colors), painted))
    if SHOT_OUT:
        shutil.copy(shot, SHOT_OUT)


finish()
