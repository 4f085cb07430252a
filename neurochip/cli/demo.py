"""``neurochip demo``: the whole pipeline on built-in defaults.

1. the LIF closed forms of the default neuron;
2. the default silicon neuron (``lif_transistor``) simulated in ngspice and fitted to LIF
   parameters, with its energy per spike and static power;
3. the default silicon synapse (``dpi_synapse``, at its default bias) simulated in ngspice and
   fitted to an exponential synapse, with its energy per synaptic event and static power;
4. a default excitatory/inhibitory network built from the fitted neuron parameters (saved as a
   neurochip file and as NIR);
5. mapped onto the default chip (``generic``), whose energy table takes the circuits' measured
   energies: the neuron's energy per spike and static power, no digital neuron update (the
   neuron is analog), the synapse's energy per event and static power; each price names its
   source;
6. run in the emulator under Poisson drive, spikes routed as packets over the chip's mesh;
7. energy (each term with its price source), throughput and saturation reports, and plots in the
   output folder.
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
from .._display import print_table
from ..errors import ConfigError
from ..lif import summary as lif_report
from ..units import format_si
from ._files import quantity
from .lif import _print_report, plot_fi


def add_parser(sub: Any) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on built-in defaults")
    p.add_argument("-o", "--output", default="demo-output", metavar="DIR",
                   help="folder for files and plots (default demo-output)")
    p.add_argument("--out", dest="output", help=argparse.SUPPRESS)  # the former spelling, kept working
    p.add_argument("--duration", default="50ms", metavar="s",
                   help="chip time to emulate, SI prefixes accepted (default 50ms)")
    p.set_defaults(func=run)


def _step(n: int, text: str) -> float:
    print(f"\n== {n}. {text}", flush=True)
    return time.perf_counter()


def run(args: argparse.Namespace) -> int:
    t_start = time.perf_counter()
    duration = quantity(args.duration, "s", "--duration", positive=True, high=3600.0, why="one hour of chip time")
    out = _check_out_dir(args.output)
    with _staging(out) as stage:
        _pipeline(stage, duration, out)
    print(f"\nfiles and plots written to {out}/ (lif_fi, circuit_fi, synapse_fit, energy, traffic, raster .png; "
          f"network.npz, network.nir, run.npz); total {time.perf_counter() - t_start:.1f} s")
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
    """The seven steps, writing into ``out`` (the staging folder); messages name ``shown``."""
    from ..chip import load_chip
    from ..examples import ei_network
    from ..mapping import map_network
    from ..network.files import save_network
    from ..network.nir_io import write_nir
    from ..onchip import fit_source, run_on_chip, with_neuron_circuit, with_synapse_circuit
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

    _step(3, "Silicon synapse: simulate dpi_synapse in ngspice and fit an exponential synapse")
    syn_fit = _fit_synapse(out)

    _step(4, "Network: 800 excitatory + 200 inhibitory neurons with the fitted parameters")
    net, drive = ei_network(p)
    save_network(net, out / "network.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NIR has no t_ref: neurochip keeps it in the node metadata
        write_nir(net, out / "network.nir")
    syn = net.csr().n_synapses
    print(f"{net.n_neurons:,} neurons, {syn:,} synapses; written to {shown}/network.npz and {shown}/network.nir")

    _step(5, "Chip: map the network onto the default chip (generic)")
    chip = load_chip("generic")
    if fit is not None:
        # co-design: the chip's neurons are the fitted analog circuit, so its spike energy and its
        # static power (one circuit per neuron slot) replace the preset's generic figures, and it
        # pays no digital neuron update
        chip = with_neuron_circuit(chip, energy_per_spike_joule=fit.energy_per_spike_joule,
                                   static_power_watt=fit.static_power_watt, circuit=fit.circuit, analog=True,
                                   source=fit_source(fit))
        print(f"neurons: {fit.circuit}, spike = {format_si(fit.energy_per_spike_joule, 'J')}, static "
              f"{format_si(fit.static_power_watt, 'W')} per circuit, neuron update = 0 J (analog: no digital update)")
    if syn_fit is not None:
        # the synapses are the fitted DPI: each synaptic event costs its supply energy, and every
        # synapse slot of a core holds one circuit that pays its static power
        chip = with_synapse_circuit(chip, energy_per_event_joule=syn_fit.energy_per_event_joule,
                                    static_power_watt=syn_fit.static_power_watt, circuit=syn_fit.circuit,
                                    source=fit_source(syn_fit))
        print(f"synapses: {syn_fit.circuit}, synaptic event = {format_si(syn_fit.energy_per_event_joule, 'J')}, "
              f"static {format_si(syn_fit.static_power_watt, 'W')} per circuit x {chip.core.fan_in:,} synapse slots "
              "per core")
    print(f"static power per core = {format_si(chip.energy.static_power_per_core_watt, 'W')}; every price and its "
          "source is in the energy report (step 7)")
    mapping = map_network(net, chip)
    print_mapping(mapping.report())

    _step(6, f"Emulate {format_si(duration, 's')} of chip time (exact, event-driven, spikes routed as packets)")
    record = run_on_chip(net, chip, duration_s=duration, inputs=drive, seed=1, mapping=mapping)
    events = record.counts.total("synaptic_events")
    print(f"{int(record.spike_counts.sum()):,} spikes, mean rate {format_si(float(record.rates_hz().mean()), 'Hz')} "
          f"(ceiling 1/t_ref = {format_si(lif.saturation_rate(p), 'Hz')}), "
          f"{int(events):,} synaptic events in {format_si(record.wall_time_s, 's')} "
          "of wall time")
    if syn_fit is not None and syn > 0:
        _synapse_rate_note(syn_fit, events / syn / duration)
    record.save(out / "run.npz")

    _step(7, "Reports")
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


def _fit_synapse(out: Path) -> Any:
    from ..circuit import fit_synapse, spice_available
    from .circuit import plot_synapse_fit

    if not spice_available():
        print("ngspice's shared library is not available: synaptic events keep the preset's price")
        return None
    res = fit_synapse("dpi_synapse")
    lin = f"up to {format_si(res.linear_max_rate_hz, 'Hz')}" if res.linear_max_rate_hz > 0 else "none of the tested rates"
    print_table(f"fitted exponential synapse of {res.circuit} (default bias)", ["quantity", "value"], [
        ["tau_syn", format_si(res.tau_syn_s, "s")],
        ["charge per event q / weight q/tau", f"{format_si(res.charge_coulomb, 'C')} / {format_si(res.weight_amp, 'A')}"],
        ["fit error, single pulse (RMS)", f"{res.single_rel_rms_error * 100:.2f} %"],
        [f"linear range (RMS and charge error <= {res.tolerance * 100:g} %)", lin],
        ["energy per event (dynamic)", format_si(res.energy_per_event_joule, "J")],
        ["static power", format_si(res.static_power_watt, "W")],
        ["SPICE runs / wall time", f"{res.n_runs} / {res.wall_time_s:.1f} s"],
    ])
    plot_synapse_fit(res, str(out / "synapse_fit.png"))
    return res


def _synapse_rate_note(res: Any, rate_hz: float) -> None:
    """Say how the run's events per synapse compare with the range the synapse fit measured."""
    lo, hi = float(res.rate_energy_per_event_joule.min()), float(res.rate_energy_per_event_joule.max())
    where = "inside" if rate_hz <= res.linear_max_rate_hz else "outside"
    print(f"each synapse received {format_si(rate_hz, 'Hz')} of events on average, {where} the {res.circuit} fit's "
          f"linear range (up to {format_si(res.linear_max_rate_hz, 'Hz')}); its energy per event over the trains "
          f"of {format_si(float(res.rates_hz.min()), 'Hz')} to {format_si(float(res.rates_hz.max()), 'Hz')} is "
          f"{format_si(lo, 'J')} to {format_si(hi, 'J')}, priced at the isolated event's "
          f"{format_si(res.energy_per_event_joule, 'J')}")
