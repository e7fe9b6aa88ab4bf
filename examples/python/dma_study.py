# %% [markdown]
# # DMA bandwidth against copy size and PCIe width, from Python
#
# A notebook-style script (cells marked `# %%`: run it whole with `python3 dma_study.py`, or
# cell by cell in an editor that knows the format). It needs the accelvp package on the path:
# `PYTHONPATH=build/python` in a build tree, nothing more after `cmake --install` or the .deb
# (docs/python.md). Every run is a fresh simulation in its own worker process.

# %%
import accelvp

print("accelvp", accelvp.__version__, "data:", accelvp.data_dir())
print("presets:", ", ".join(sorted(accelvp.presets())))

# %% [markdown]
# The parameters a study can vary: the schema, with types, ranges and units
# (`accelvp config --help-params`).

# %%
schema = accelvp.params("dma-copy")
for key in ("pcie.lanes", "pcie.gen", "workload.bytes", "workload.direction"):
    p = schema[key]
    print(f"{key:<20} {p['type']:<5} default {p['default']:<8} {p['description']}")

# %% [markdown]
# One run: the stats document of `accelvp run --stats` (docs/stats.md) as a dict.

# %%
s = accelvp.run(config="inference", workload="dma-copy", overrides={"workload.bytes": "16MiB"}, mode="timing")
print(f"16 MiB h2d: {s['summary']['bandwidth_gbps']:.2f} GB/s of {s['summary']['peak_gbps']:.2f} peak, "
      f"{s['summary']['cycles']} cycles")

# %% [markdown]
# A sweep: the cross product of the grid, in parallel worker processes.

# %%
points = accelvp.sweep(config="inference", workload="dma-copy", mode="timing",
                       grid={"pcie.lanes": [4, 16], "workload.bytes": ["64KiB", "16MiB"]})
print(f"{'lanes':>5} {'bytes':>8} {'GB/s':>8}")
for r in points:
    print(f"{r['point']['pcie.lanes']:>5} {r['point']['workload.bytes']:>8} "
          f"{r['stats']['summary']['bandwidth_gbps']:>8.2f}")

# %% [markdown]
# Errors are exceptions with the CLI's message and exit code.

# %%
try:
    accelvp.run(overrides={"pcie.lanes": 99})
except accelvp.ConfigError as e:
    print(f"exit {e.exit_code}: {e}")
