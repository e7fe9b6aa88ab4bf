"""Shared code of accelvp's Python tools (tools/bench.py, sweep.py, plot.py, report.py):
running accelvp cases, progress, result files, plots. docs/benchmarks.md describes the tools."""
