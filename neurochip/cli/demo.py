"""``neurochip demo``: the whole pipeline on built-in defaults.

1. the LIF closed forms of the default neuron;
2. the default silicon neuron (``lif_transistor``) simulated in ngspice and fitted to LIF
   parameters, with its energy per spike and static power;
3. a default excitatory/inhibitory network built from those fitted parameters (saved as a
   neurochip file and as NIR);
4. mapped onto the default chip (``generic``), whose energy table takes the circuit's measured
   energy per spike and static power for its neurons;
5. run in the emulator under Poisson drive, spikes routed as packets over the chip's mesh;
6. energy, throughput and saturation reports, and plots in the output folder.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path
from typing import Any

from .. import lif
from ..lif import summary as lif_report
from ..units import format_si
from .lif import _print_report, plot_fi


def add_parser(sub: Any) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on built-in defaults")
    p.add_argument("-o", "--out", default="demo-output", metavar="DIR", help="folder for files and plots (default demo-output)")
    p.add_argument("--duration", type=float, default=0.05, metavar="SECONDS", help="chip time to emulate (default 0.05)")
    p.set_defaults(func=run)


def _step(n: int, text: str) -> float:
    print(f"\n== {n}. {text}", flush=True)
    return time.perf_counter()


def run(args: argparse.Namespace) -> int:
    from ..chip import load_chip
    from ..examples import ei_network
    from ..mapping import map_network
    from ..network.files import save_network
    from ..network.nir_io import write_nir
    from ..onchip import run_on_chip, with_neuron_circuit
    from ..plots import plot_energy, plot_raster, plot_traffic
    from .run import print_energy, print_mapping, print_saturation, print_throughput

    t_start = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    _step(1, "LIF neuron: closed forms of the built-in default parameters")
    params = lif.LIFParams()
    report = lif_report(params, i_min=0.0, i_max=10 * lif.rheobase(params), points=6)
    _print_report(params, report)
    plot_fi(params, report, str(out / "lif_fi.png"))

    _step(2, "Silicon neuron: simulate lif_transistor in ngspice and fit LIF parameters")
    fit = _fit_circuit(out)
    p = fit.params if fit is not None else lif.LIFParams()

    _step(3, "Network: 800 excitatory + 200 inhibitory neurons with the fitted parameters")
    net, drive = ei_network(p)
    save_network(net, out / "network.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NIR has no t_ref: neurochip keeps it in the node metadata
        write_nir(net, out / "network.nir")
    syn = net.csr().n_synapses
    print(f"{net.n_neurons:,} neurons, {syn:,} synapses; written to {out}/network.npz and {out}/network.nir")

    _step(4, "Chip: map the network onto the default chip (generic)")
    chip = load_chip("generic")
    if fit is not None:
        # co-design: the chip's neurons are the fitted circuit, so its spike energy and its
        # static power (one circuit per neuron slot) replace the preset's generic figures
        chip = with_neuron_circuit(chip, energy_per_spike_joule=fit.energy_per_spike_joule,
                                   static_power_watt=fit.static_power_watt, circuit=fit.circuit)
        print(f"chip energy table: spike = {format_si(fit.energy_per_spike_joule, 'J')} (circuit), static power per "
              f"core = {format_si(chip.energy.static_power_per_core_watt, 'W')} (preset + {chip.core.neurons} circuits)")
    mapping = map_network(net, chip)
    print_mapping(mapping.report())

    _step(5, f"Emulate {format_si(args.duration, 's')} of chip time (exact, event-driven, spikes routed as packets)")
    record = run_on_chip(net, chip, duration_s=args.duration, inputs=drive, seed=1, mapping=mapping)
    print(f"{int(record.spike_counts.sum()):,} spikes, mean rate {format_si(float(record.rates_hz().mean()), 'Hz')} "
          f"(ceiling 1/t_ref = {format_si(lif.saturation_rate(p), 'Hz')}), "
          f"{int(record.counts.total('synaptic_events')):,} synaptic events in {format_si(record.wall_time_s, 's')} "
          "of wall time")
    record.save(out / "run.npz")

    _step(6, "Reports")
    print_energy(record)
    print_throughput(record)
    print_saturation(record)
    plot_energy(record, str(out / "energy.png"))
    plot_traffic(record, str(out / "traffic.png"))
    plot_raster(record, str(out / "raster.png"))
    print(f"\nfiles and plots written to {out}/ (lif_fi, circuit_fi, energy, traffic, raster .png; network.npz, "
          f"network.nir, run.npz); total {time.perf_counter() - t_start:.1f} s")
    return 0


def _fit_circuit(out: Path) -> Any:
    from ..circuit import FitOptions, fit_lif, spice_available
    from ..plots import plot_fit
    from .circuit import print_fit

    if not spice_available():
        print("ngspice's shared library is not available: the demo goes on with the default LIFParams "
              "(install libngspice0, or run `make demo`, which installs it)")
        return None
    res = fit_lif("lif_transistor", options=FitOptions(n_sweep=6))
    print_fit(res)
    plot_fit(res, str(out / "circuit_fi.png"))
    return res
