r"""A network on a chip: map, emulate, record — the chain every command runs, written once.

:func:`run_on_chip` maps a network onto a chip's cores (unless given a mapping), emulates it
with every spike routed as packets over the chip's mesh (or only counted, ``route=False``) and
returns the :class:`~neurochip.report.RunRecord` that every report reads
(:func:`~neurochip.report.energy_report`, :func:`~neurochip.report.throughput_report`,
:func:`~neurochip.report.saturation_report`).  ``neurochip run``, ``neurochip demo``, sweeps and
the benchmarks call it.

:func:`with_neuron_circuit` is the co-design step: a chip whose neurons are a fitted circuit takes
the circuit's energy per spike and its static power (one circuit per neuron slot).

Examples
--------
>>> from neurochip.examples import ei_network
>>> from neurochip.lif import LIFParams
>>> from neurochip.report import energy_report
>>> net, drive = ei_network(LIFParams(), n_exc=80, n_inh=20, k_exc=8, k_inh=2)
>>> record = run_on_chip(net, "generic", duration_s=0.02, inputs=drive, seed=1)
>>> record.n_neurons, record.routed
(100, True)
>>> _, energy = energy_report(record)
>>> energy["total_joule"] > energy["static_joule"] > 0
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .chip import ChipSpec, load_chip
from .emulator import run as emulate
from .errors import InvalidParameterError
from .mapping import Mapping, MappingOptions, map_network
from .network import Network
from .report import RunRecord, record_run

__all__ = ["run_on_chip", "with_neuron_circuit"]


def run_on_chip(
    network: Network,
    chip: ChipSpec | str | Path,
    *,
    duration_s: float,
    inputs: Sequence[Any] = (),
    seed: int = 0,
    mapping: Mapping | None = None,
    mapping_options: MappingOptions | None = None,
    route: bool = True,
    record_events: bool = True,
) -> RunRecord:
    """Map ``network`` onto ``chip``, emulate it and count every priced operation.

    Parameters
    ----------
    network : Network
        The network to run.
    chip : ChipSpec or str or path
        A chip spec, a preset name (``"loihi"``) or a chip TOML file.
    duration_s : float
        Chip time to emulate, s (> 0).
    inputs : sequence of stimuli
        :class:`~neurochip.network.PoissonInput`, :class:`~neurochip.network.SpikeTimesInput`,
        :class:`~neurochip.network.CurrentStep`.
    seed : int
        Emulator seed (the run is deterministic for a given seed).
    mapping : Mapping, optional
        A placement from :func:`~neurochip.mapping.map_network` on this chip; default: map now.
    mapping_options : MappingOptions, optional
        Options of the mapping made here (ignored when ``mapping`` is given).
    route : bool
        True: spikes travel as packets through the routers (hop latency, link serialisation,
        finite FIFOs, drops); False: packets are counted only.
    record_events : bool
        Keep the address-event log (spike times) in the record.

    Returns
    -------
    RunRecord
        Counts per operation, core and link, spike counts, events, latencies; ``.save(path)``
        writes it for ``neurochip report``.

    Raises
    ------
    MappingError
        When the network does not fit the chip (names the capacity and by how much).
    InvalidParameterError
        For a mapping made for another chip or network, or bad run arguments.
    """
    chip = chip if isinstance(chip, ChipSpec) else load_chip(chip)
    if mapping is None:
        mapping = map_network(network, chip, options=mapping_options)
    elif mapping.n_neurons != network.n_neurons or mapping.chip != chip:
        raise InvalidParameterError(
            f"mapping: made for {mapping.n_neurons} neurons on {mapping.chip.name!r}, but the run is "
            f"{network.n_neurons} neurons on {chip.name!r}"
        )
    routed = {"chip": chip, "mapping": mapping} if route else {}
    result = emulate(network, duration_s=duration_s, inputs=list(inputs), seed=seed, record=record_events, **routed)
    sizes = [p.size for p in network.populations]
    return record_run(
        result,
        mapping,
        t_ref_s=network.neuron_arrays()["t_ref_s"],
        population_names=[p.name for p in network.populations],
        population_offsets=np.cumsum([0] + sizes[:-1]).astype(np.int64),
    )


def with_neuron_circuit(
    chip: ChipSpec, *, energy_per_spike_joule: float, static_power_watt: float, circuit: str = "circuit"
) -> ChipSpec:
    """The chip with its neurons replaced by a fitted circuit: spike energy and static power.

    Parameters
    ----------
    chip : ChipSpec
        The chip whose energy table changes.
    energy_per_spike_joule : float
        Supply energy of one spike of the circuit, J (>= 0), as fitted by
        :func:`neurochip.circuit.fit_lif`.
    static_power_watt : float
        Static power of one circuit, W (>= 0); every neuron slot of a core pays it.
    circuit : str
        Name of the circuit, appended to the chip's description.

    Returns
    -------
    ChipSpec
        ``energy.spike_joule`` = the circuit's; ``energy.static_power_per_core_watt`` = the
        preset's plus ``core.neurons`` circuits.

    Examples
    --------
    >>> from neurochip.chip import load_chip
    >>> chip = with_neuron_circuit(load_chip("generic"), energy_per_spike_joule=2e-12, static_power_watt=1e-9)
    >>> chip.energy.spike_joule
    2e-12
    """
    for name, value in (("energy_per_spike_joule", energy_per_spike_joule), ("static_power_watt", static_power_watt)):
        if not (value >= 0 and np.isfinite(value)):
            raise InvalidParameterError.of(name, value, "must be finite and >= 0")
    energy = dataclasses.replace(
        chip.energy,
        spike_joule=float(energy_per_spike_joule),
        static_power_per_core_watt=chip.energy.static_power_per_core_watt + chip.core.neurons * float(static_power_watt),
    )
    return chip.replace(energy=energy, description=f"{chip.description} + {circuit} neurons")

