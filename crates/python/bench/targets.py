"""Issue 19's speed targets, from Python (a release wheel: `maturin build --release`).

1. gigawatt.plan() of the default scenario, returning the full result, <= 2x the Rust call
   (`cargo bench -p engine -- plan_scenario_end_to_end`, openai-nvidia-10gw).
2. A 100,000-point plan sweep over three scenario axes of the default scenario, to Parquet,
   <= 20 s on the 2-core machine. The sweep is the CLI's code path (sweep::Sweep::run and
   sweep::parquet::write); the Parquet file is written and read back with pyarrow.

Run: python crates/python/bench/targets.py   (prints wall and CPU time; on a shared machine the
CPU time divided by the cores is the figure for a quiet one.)
"""

import os
import pathlib
import statistics
import tempfile
import time
import timeit

import gigawatt
import gigawatt._native as native

SWEEP = """kind = "plan"
base = "openai-nvidia-10gw"
[[axis]]
field = "defaults.pue"
range = { start = 1.05, stop = 1.5, count = 100 }
[[axis]]
field = "defaults.electricity_usd_per_kwh"
range = { start = 0.03, stop = 0.15, count = 100 }
[[axis]]
field = "tranche[1].facility_gw"
range = { start = 0.5, stop = 2.0, count = 10 }
"""


def plan_call():
    gigawatt.plan()  # warm: the catalog loads once per process
    # One call per sample, median and fastest, as divan reports the Rust call
    # (`cargo bench -p engine -- plan_default_including_drop`).
    samples = []
    for _ in range(500):
        start = time.perf_counter_ns()
        result = gigawatt.plan()
        del result
        samples.append((time.perf_counter_ns() - start) / 1e3)
    print(f"gigawatt.plan() of the default, one call per sample: median {statistics.median(samples):.0f} us, "
          f"fastest {min(samples):.0f} us, mean {statistics.mean(samples):.0f} us")
    runs = [t / 200 for t in timeit.repeat(lambda: gigawatt.plan(), number=200, repeat=9)]
    print(f"gigawatt.plan() in batches of 200: {min(runs) * 1e6:.0f} us per call (best batch)")
    runs = [t / 20 for t in timeit.repeat(lambda: gigawatt.plan().to_dict(), number=20, repeat=5)]
    print(f"gigawatt.plan().to_dict(): median {statistics.median(runs) * 1e6:.0f} us")


def sweep_100k():
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "sweep.toml"
        path.write_text(SWEEP)
        out = pathlib.Path(tmp) / "out.parquet"
        cpu, wall = time.process_time(), time.perf_counter()
        base = native.sweep_base(str(path), SWEEP, tmp)
        out.write_bytes(native.sweep(str(path), SWEEP, base[0], base[1]))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        table = pq.read_table(out)
        assert table.num_rows == 100_000 and table.column("error").null_count == 100_000
        cores = len(os.sched_getaffinity(0))
        print(f"100,000-point plan sweep to Parquet: {wall:.1f} s wall, {cpu:.1f} s CPU on {cores} cores "
              f"({cpu / cores:.1f} s if the cores were free), {out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    plan_call()
    sweep_100k()
