#!/usr/bin/env python3
"""PNG plots of a sweep's or a bench run's results.csv (docs/benchmarks.md#plots).

  tools/plot.py CSV --x COL --y COL [--series COL] [--kind line|bar|heatmap] -o out.png
                [--where COL=VALUE]... [--logx] [--logy] [--title T]
  tools/plot.py STATS.json --kind roofline -o out.png [--title T]

line: one line per value of --series; bar: grouped bars; heatmap: --x across, --series down,
--y the cell colour. roofline: a model run's stats JSON (accelvp run -w model|onnx|decoder|
train-step --stats FILE): each layer at its FLOPs per device-memory byte and achieved TFLOPS,
under the matrix engines' peak and the device-memory bandwidth of the run's config. Numbers with size suffixes (4KiB, 16MiB) sort and scale as numbers.
Rows whose status is not 'ok' are left out. Python 3 and Debian's python3-matplotlib (Agg,
no display needed). Exit codes: 0 written, 2 usage error or unusable CSV.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from accelvp_tools.common import EXIT_OK, Parser, UsageError, die  # noqa: E402
from accelvp_tools.plotting import KINDS, load_csv, load_stats, plot, roofline  # noqa: E402


def main(argv=None):
    ap = Parser(prog="plot.py", tag="plot", description="PNG line/bar/heatmap plots of a results CSV "
                                                        "(docs/benchmarks.md#plots)")
    ap.add_argument("csv", help="results.csv of `accelvp sweep` or `accelvp bench run`; with --kind roofline "
                                "a model run's stats JSON")
    ap.add_argument("--x", help="column on the x axis (not for roofline)")
    ap.add_argument("--y", help="numeric column to plot (not for roofline)")
    ap.add_argument("--series", help="one line (bar, heatmap row) per value of this column")
    ap.add_argument("--kind", default="line", choices=KINDS, help="line (default), bar, heatmap or roofline")
    ap.add_argument("-o", "--output", required=True, help="the PNG file to write")
    ap.add_argument("--where", action="append", default=[], metavar="COL=VALUE",
                    help="keep only rows where COL equals VALUE (repeatable)")
    ap.add_argument("--logx", action="store_true", help="logarithmic x axis (line plots)")
    ap.add_argument("--logy", action="store_true", help="logarithmic y axis")
    ap.add_argument("--title", help="plot title (default 'Y vs X per SERIES')")
    args = ap.parse_args(argv)
    try:
        if args.kind == "roofline":
            n, peak, bw = roofline(load_stats(args.csv), args.output, title=args.title)
            sys.stderr.write(f"plot: wrote {args.output} (roofline, {n} layers; roofs from the run's config: "
                             f"{peak:.1f} TFLOPS, {bw:g} GB/s)\n")
            return EXIT_OK
        if not args.x or not args.y:
            raise UsageError(f"--kind {args.kind} needs --x COL and --y COL")
        header, rows = load_csv(args.csv)
        for w in args.where:
            col, sep, value = w.partition("=")
            if not sep or col not in header:
                raise UsageError(f"--where {w!r}: expected COL=VALUE with COL one of {', '.join(header)}")
            rows = [r for r in rows if r[col] == value]
        n = plot(rows, header, args.x, args.y, args.output, series=args.series, kind=args.kind, title=args.title,
                 logx=args.logx, logy=args.logy)
    except UsageError as e:
        die("plot", str(e))
    sys.stderr.write(f"plot: wrote {args.output} ({args.kind}, {n} rows)\n")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
