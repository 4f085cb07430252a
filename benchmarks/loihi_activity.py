"""Activity sweep on the loihi preset: energy per synaptic event and time per step vs input rate.

Runs :func:`neurochip.stepped.activity_sweep` (700 neurons: 200 input relays, 400 E, 100 I, on
the loihi preset with 128-compartment cores, placed by METIS, paced at the real-time step of 1 ms) and prints, per input rate, the
synaptic events, the energy per event (total, and dynamic only), the share of inactive updates
and static power in the energy, and the time per step with the busiest core's load.

Usage::

    python benchmarks/loihi_activity.py [--rates 1 2 5 10 20 50 100 200] [--steps 500]
                                        [--neurons-per-core 128] [--pace 1e-3]
                                        [--json] [--plot FILE.png]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
from typing import Any

from neurochip.chip import load_chip
from neurochip.stepped import activity_sweep


def plot(rows: list[dict[str, Any]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rates = [r["input_rate_hz"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.loglog(rates, [r["energy_per_synaptic_event_joule"] * 1e12 for r in rows], "o-", label="total (static included)")
    a.loglog(rates, [r["dynamic_per_synaptic_event_joule"] * 1e12 for r in rows], "s--", label="dynamic")
    a.axhline(load_chip("loihi").energy.synaptic_event_joule * 1e12, color="k", lw=0.8, label="synaptic op alone")
    a.set_xlabel("input rate (Hz)")
    a.set_ylabel("energy per synaptic event (pJ)")
    a.legend(fontsize=8)
    b.semilogx(rates, [r["time_per_step_mean_s"] * 1e6 for r in rows], "o-", label="time per step (mean)")
    b.semilogx(rates, [r["busiest_core_load_s"] * 1e6 for r in rows], "s--", label="busiest core's busy time")
    b.set_xlabel("input rate (Hz)")
    b.set_ylabel("µs")
    b.legend(fontsize=8)
    pace = rows[0]["paced_step_s"]
    fig.suptitle("loihi preset, time-stepped: activity sweep"
                 + (f" (paced at {pace * 1e3:g} ms per step)" if pace else ""))
    fig.tight_layout()
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=os.path.dirname(os.path.abspath(path)) or ".")
    os.close(fd)
    fig.savefig(tmp, dpi=110)
    os.chmod(tmp, 0o644)  # mkstemp makes it private
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rates", type=float, nargs="+", default=[1, 2, 5, 10, 20, 50, 100, 200])
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--neurons-per-core", type=int, default=128,
                    help="core size (default 128: the 700 neurons spread over several cores; 0: the preset's 1,024)")
    ap.add_argument("--pace", type=float, default=1e-3,
                    help="step the chip is run at, s (default 1 ms: real time; 0: as fast as it goes)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--plot", metavar="FILE.png")
    args = ap.parse_args(argv)
    chip = load_chip("loihi")
    if args.neurons_per_core:
        chip = chip.replace(core=dataclasses.replace(chip.core, neurons=args.neurons_per_core))
    rows = activity_sweep(chip, args.rates, steps=args.steps, paced_step_s=args.pace or None)
    if args.json:
        print(json.dumps(rows))
    else:
        print(f"loihi preset, {chip.core.neurons} compartments per core, {args.steps} steps of 1 ms, "
              + (f"paced at {args.pace * 1e3:g} ms per step" if args.pace else "as fast as the chip goes"))
        print(f"{'rate Hz':>8s} {'syn events':>10s} {'pJ/event':>9s} {'dyn pJ/ev':>9s} {'inactive %':>10s} "
              f"{'static %':>8s} {'T/step µs':>9s} {'busiest µs':>10s}")
        for r in rows:
            print(f"{r['input_rate_hz']:8.1f} {r['synaptic_events']:10d} {r['energy_per_synaptic_event_joule'] * 1e12:9.2f} "
                  f"{r['dynamic_per_synaptic_event_joule'] * 1e12:9.2f} {100 * r['inactive_joule'] / r['energy_joule']:10.1f} "
                  f"{100 * r['static_joule'] / r['energy_joule']:8.1f} {r['time_per_step_mean_s'] * 1e6:9.3f} "
                  f"{r['busiest_core_load_s'] * 1e6:10.3f}")
    if args.plot:
        plot(rows, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
