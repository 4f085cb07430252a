"""Monte Carlo mismatch of the transistor-level neuron: parallel workers against serial.

Run: ``.venv/bin/python benchmarks/montecarlo.py [-n 100] [--workers N]``.  Fits the same seeded
samples twice, once on a local Dask cluster of worker processes and once serially in this process,
and prints both wall times, their ratio, and the spread of the fitted parameters: sigma(V_th),
sigma(t_ref) and sigma(energy per spike).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from neurochip.circuit.montecarlo import run_montecarlo


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    par = run_montecarlo("lif_transistor", args.n, seed=args.seed, n_workers=args.workers, progress=False)
    ser = run_montecarlo("lif_transistor", args.n, seed=args.seed, n_workers=0, progress=False)
    same = par.params.shape == ser.params.shape and np.allclose(par.params, ser.params, rtol=1e-9)
    print(f"samples: {args.n}, fitted: {par.n_ok}, failed: {len(par.failed)}")
    for i, e in par.failed:
        print(f"  sample {i} failed: {e}")
    print(f"parallel ({args.workers} worker processes): {par.wall_time_s:8.1f} s")
    print(f"serial (this process):                {ser.wall_time_s:8.1f} s")
    print(f"speed-up: {ser.wall_time_s / par.wall_time_s:.2f}x   identical fits: {same}")
    s = par.summary()
    print(f"V_th   mean {s['mean']['v_th_volt'] * 1e3:8.3f} mV   sigma {s['std']['v_th_volt'] * 1e3:7.3f} mV")
    print(f"t_ref  mean {s['mean']['t_ref_s'] * 1e6:8.3f} us   sigma {s['std']['t_ref_s'] * 1e6:7.3f} us")
    e = s["energy_per_spike_joule"]
    print(f"E/spike mean {e['mean'] * 1e12:7.3f} pJ   sigma {e['std'] * 1e12:7.3f} pJ")
    print(f"max ISI fit error over samples: {s['max_isi_rel_error'] * 100:.3f} %")


if __name__ == "__main__":
    main()
