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
import dataclasses
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .. import lif
from ..units import format_si
from .lif import _print_report, lif_report, plot_fi


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
    from ..emulator import run as emulate
    from ..mapping import map_network
    from ..network import FixedInDegree, Network, PoissonInput, Population, Projection
    from ..network.files import save_network
    from ..report import record_run
    from .run import (
        plot_energy,
        plot_mesh,
        plot_raster,
        print_energy,
        print_mapping,
        print_saturation,
        print_throughput,
    )

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
    net, drive = _default_network(p, Network, Population, Projection, FixedInDegree, PoissonInput)
    save_network(net, out / "network.npz")
    from ..network.nir_io import write_nir

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
        energy = dataclasses.replace(
            chip.energy,
            spike_joule=fit.energy_per_spike_joule,
            static_power_per_core_watt=chip.energy.static_power_per_core_watt + chip.core.neurons * fit.static_power_watt,
        )
        chip = dataclasses.replace(chip, energy=energy, description=chip.description + " + lif_transistor neurons")
        print(f"chip energy table: spike = {format_si(fit.energy_per_spike_joule, 'J')} (circuit), static power per "
              f"core = {format_si(energy.static_power_per_core_watt, 'W')} (preset + {chip.core.neurons} circuits)")
    mapping = map_network(net, chip)
    print_mapping(mapping.report())

    _step(5, f"Emulate {format_si(args.duration, 's')} of chip time (exact, event-driven, spikes routed as packets)")
    res = emulate(net, duration_s=args.duration, inputs=drive, seed=1, chip=chip, mapping=mapping)
    print(f"{int(res.spike_counts.sum()):,} spikes, mean rate {format_si(res.mean_rate_hz(), 'Hz')} "
          f"(ceiling 1/t_ref = {format_si(lif.saturation_rate(p), 'Hz')}), "
          f"{res.counters['rec_events']:,} synaptic events in {format_si(res.wall_time_s, 's')} of wall time")
    offsets = np.array([0, 800])
    record = record_run(res, mapping, t_ref_s=net.neuron_arrays()["t_ref_s"], population_names=["E", "I"],
                        population_offsets=offsets)
    record.save(out / "run.npz")

    _step(6, "Reports")
    energy_data = print_energy(record)
    print_throughput(record)
    print_saturation(record)
    plot_energy(energy_data, str(out / "energy.png"))
    util = record.link_packets / (chip.router.link_bandwidth_hz * record.duration_s)
    plot_mesh(chip, util, str(out / "traffic.png"), title="link utilisation", unit="packets / bandwidth")
    plot_raster(record, str(out / "raster.png"))
    print(f"\nfiles and plots written to {out}/ (lif_fi, circuit_fi, energy, traffic, raster .png; network.npz, "
          f"network.nir, run.npz); total {time.perf_counter() - t_start:.1f} s")
    return 0


def _fit_circuit(out: Path) -> Any:
    from ..circuit import FitOptions, fit_lif, spice_available
    from .circuit import plot_fit, print_fit

    if not spice_available():
        print("ngspice's shared library is not available: the demo goes on with the default LIFParams "
              "(install libngspice0, or run `make demo`, which installs it)")
        return None
    res = fit_lif("lif_transistor", options=FitOptions(n_sweep=6))
    print_fit(res)
    plot_fit(res, str(out / "circuit_fi.png"))
    return res


def _default_network(p: lif.LIFParams, Network: Any, Population: Any, Projection: Any, FixedInDegree: Any,
                     PoissonInput: Any) -> tuple[Any, list[Any]]:
    """An inhibition-dominated E/I network scaled to the neuron: weights are fractions of the
    threshold gap, the delay a tenth of tau_m, the drive Poisson with a mean at 1.2 x threshold."""
    gap = p.v_th_volt - p.e_leak_volt
    tau = p.tau_m_s
    j = 0.02 * gap
    delay = 0.1 * tau
    net = Network(
        populations=(Population(name="E", size=800, params=p), Population(name="I", size=200, params=p)),
        projections=(
            Projection(pre="E", post="E", rule=FixedInDegree(k=80), weight_volt=j, delay_s=delay),
            Projection(pre="E", post="I", rule=FixedInDegree(k=80), weight_volt=j, delay_s=delay),
            Projection(pre="I", post="E", rule=FixedInDegree(k=20), weight_volt=-5 * j, delay_s=delay),
            Projection(pre="I", post="I", rule=FixedInDegree(k=20), weight_volt=-5 * j, delay_s=delay),
        ),
        seed=1,
    )
    j_ext = 0.05 * gap
    rate = 1.2 * gap / (j_ext * tau)
    drive = [PoissonInput(population=name, rate_hz=rate, weight_volt=j_ext) for name in ("E", "I")]
    return net, drive
