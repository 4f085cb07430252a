"""Sweeps on Dask: speed-up of 2 worker processes over 1.

Run: ``.venv/bin/python benchmarks/sweep.py [--mc-n 8] [--duration 0.3]``.  Times two workloads
on a local Dask cluster of 1 and then 2 worker processes (and serially, in this process, without
Dask), each wall time including the cluster's start-up, as a user of ``neurochip sweep`` sees it:

1. a circuit Monte Carlo: ``--mc-n`` mismatch samples of ``lif_transistor`` fitted in ngspice;
2. a chip sweep: the 15 chip designs of ``docs/examples/designs.toml`` (1000 neurons, 80 000
   synapses each), emulated for ``--duration`` seconds of chip time.

It checks that the tables agree (every column but wall time) and prints the speed-ups.  No peer
tool runs this kind of sweep, so there is no peer figure to print.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from neurochip._spec import load_toml
from neurochip.circuit.montecarlo import run_montecarlo
from neurochip.sweep import read_table, run_sweep, sweep_from_dict

SPEC = Path(__file__).resolve().parent.parent / "docs" / "examples" / "designs.toml"


def _mc(n: int, workers: int) -> tuple[float, np.ndarray]:
    t0 = time.perf_counter()
    res = run_montecarlo("lif_transistor", n, seed=0, n_workers=workers, progress=False)
    return time.perf_counter() - t0, res.params


def _chip(duration: float, workers: int, folder: Path) -> tuple[float, list[dict]]:
    data = load_toml(SPEC)
    data["fixed"]["run.duration_s"] = duration
    spec = sweep_from_dict(data, source=str(SPEC))
    out = folder / f"designs-{workers}.csv"
    t0 = time.perf_counter()
    run_sweep(spec, out, n_workers=workers, progress=False, cache_dir=folder / "cache")
    wall = time.perf_counter() - t0
    return wall, [{k: v for k, v in r.items() if "wall" not in k} for r in read_table(out)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mc-n", type=int, default=8, help="Monte Carlo samples (default 8)")
    ap.add_argument("--duration", type=float, default=0.3, help="chip time per design, s (default 0.3)")
    args = ap.parse_args()

    print(f"circuit Monte Carlo: lif_transistor, {args.mc_n} samples")
    mc = {w: _mc(args.mc_n, w) for w in (0, 1, 2)}
    same = all(np.allclose(mc[w][1], mc[0][1], rtol=1e-9) for w in (1, 2))
    for w, label in ((0, "serial, no Dask"), (1, "1 worker process"), (2, "2 worker processes")):
        print(f"  {label:20s} {mc[w][0]:7.1f} s")
    print(f"  speed-up 2 workers over 1: {mc[1][0] / mc[2][0]:.2f}x   identical fits: {same}")

    print(f"chip sweep: {SPEC.name}, 15 designs, {args.duration} s of chip time each")
    with tempfile.TemporaryDirectory() as tmp:
        chip = {w: _chip(args.duration, w, Path(tmp)) for w in (0, 1, 2)}
    same = chip[1][1] == chip[0][1] and chip[2][1] == chip[0][1]
    for w, label in ((0, "serial, no Dask"), (1, "1 worker process"), (2, "2 worker processes")):
        print(f"  {label:20s} {chip[w][0]:7.1f} s")
    print(f"  speed-up 2 workers over 1: {chip[1][0] / chip[2][0]:.2f}x   identical tables: {same}")


if __name__ == "__main__":
    main()
