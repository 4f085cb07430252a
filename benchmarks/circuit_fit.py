"""Wall time of a full LIF fit of each shipped neuron circuit (ngspice through PySpice).

Run: ``.venv/bin/python benchmarks/circuit_fit.py``.  Prints, per circuit, the wall time, the
number of SPICE runs, the fit error and the energy figures.  There is no peer tool doing the same
fit to compare with; the figure to watch is the wall time per SPICE run.
"""

from __future__ import annotations

import time

from neurochip.circuit import circuit_kind, fit_lif, list_circuits, spice_available


def main() -> None:
    if not spice_available():
        raise SystemExit("ngspice is not available")
    print(f"{'circuit':16s} {'wall (s)':>9s} {'runs':>5s} {'s/run':>7s} {'max ISI err':>12s} "
          f"{'E/spike (J)':>12s} {'P static (W)':>13s}")
    for name in (n for n in list_circuits() if circuit_kind(n) == "neuron"):  # synapses: fit_synapse
        t0 = time.perf_counter()
        res = fit_lif(name)
        wall = time.perf_counter() - t0
        print(f"{name:16s} {wall:9.2f} {res.n_runs:5d} {wall / res.n_runs:7.3f} "
              f"{res.max_isi_rel_error:12.2e} {res.energy_per_spike_joule:12.3e} {res.static_power_watt:13.3e}")


if __name__ == "__main__":
    main()
