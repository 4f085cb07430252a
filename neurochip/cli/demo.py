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
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import lif
from ..errors import ConfigError
from ..lif import summary as lif_report
from ..units import format_si
from ._files import quantity
from .lif import _print_report, plot_fi


def add_parser(sub: Any) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on built-in defaults")
    p.add_argument("-o", "--out", default="demo-output", metavar="DIR", help="folder for files and plots (default demo-output)")
    p.add_argument("--duration", default="50ms", metavar="s",
                   help="chip time to emulate, SI prefixes accepted (default 50ms)")
    p.set_defaults(func=run)


def _step(n: int, text: str) -> float:
    print(f"\n== {n}. {text}", flush=True)
    return time.perf_counter()


def run(args: argparse.Namespace) -> int:
    t_start = time.perf_counter()
    duration = quantity(args.duration, "s", "--duration", positive=True, high=3600.0, why="one hour of chip time")
    out = _check_out_dir(args.out)
    with _staging(out) as stage:
        _pipeline(stage, duration, out)
    print(f"\nfiles and plots written to {out}/ (lif_fi, circuit_fi, energy, traffic, raster .png; network.npz, "
          f"network.nir, run.npz); total {time.perf_counter() - t_start:.1f} s")
    return 0


def _check_out_dir(text: str) -> Path:
    """The demo's folder: an existing folder, or one that can be created (checked before any work)."""
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"-o {text}: exists and is not a folder; the demo writes several files into a folder")
    ancestor = out
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise ConfigError(f"-o {text}: '{ancestor}' is not a writable folder")
    return out


@contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A temporary folder inside ``out`` whose files move into ``out`` only when the demo succeeds,
    so a failed demo leaves no partial set of files (and leaves earlier files untouched)."""
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".demo-", dir=out))
    try:
        yield stage
        for f in sorted(stage.iterdir()):
            os.replace(f, out / f.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if created and not any(out.iterdir()):
            out.rmdir()


def _pipeline(out: Path, duration: float, shown: Path) -> None:
    """The six steps, writing into ``out`` (the staging folder); messages name ``shown``."""
    from ..chip import load_chip
    from ..examples import ei_network
    from ..mapping import map_network
    from ..network.files import save_network
    from ..network.nir_io import write_nir
    from ..onchip import run_on_chip, with_neuron_circuit
    from ..plots import plot_energy, plot_raster, plot_traffic
    from .run import print_energy, print_mapping, print_saturation, print_throughput

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
    print(f"{net.n_neurons:,} neurons, {syn:,} synapses; written to {shown}/network.npz and {shown}/network.nir")

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

    _step(5, f"Emulate {format_si(duration, 's')} of chip time (exact, event-driven, spikes routed as packets)")
    record = run_on_chip(net, chip, duration_s=duration, inputs=drive, seed=1, mapping=mapping)
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
