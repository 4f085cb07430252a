r"""A network on a chip: map, emulate, record — the chain every command runs, written once.

:func:`run_on_chip` maps a network onto a chip's cores (unless given a mapping), emulates it
with every spike routed as packets over the chip's mesh (or only counted, ``route=False``) and
returns the :class:`~neurochip.report.RunRecord` that every report reads
(:func:`~neurochip.report.energy_report`, :func:`~neurochip.report.throughput_report`,
:func:`~neurochip.report.saturation_report`).  ``neurochip run``, ``neurochip demo``, sweeps and
the benchmarks call it.

:func:`with_neuron_circuit` and :func:`with_synapse_circuit` are the co-design step: a chip whose
neurons are a fitted circuit takes the circuit's energy per spike and its static power (one circuit
per neuron slot), and an analog neuron pays no digital neuron update; a chip whose synapses are a
fitted synapse circuit prices each synaptic event with the circuit's energy per event and adds its
static power (one circuit per synapse slot by default).  Each price they set says where it came
from (circuit, fitted quantity, bias point: :func:`fit_source`) in the chip's ``sources``, which
the energy report shows next to every term.

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
from .energy import STATIC, price_sources
from .errors import InvalidParameterError
from .mapping import Mapping, MappingOptions, map_network
from .network import Network
from .report import RunRecord, record_run
from .units import format_si, spice_number

__all__ = ["run_on_chip", "run_provenance", "with_neuron_circuit", "with_synapse_circuit", "fit_source"]


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
    delivery_step_s: float | None = None,
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
    delivery_step_s : float, optional
        Step-quantised delivery (routed runs only): every synaptic arrival moves up to the next
        multiple of this step, as a time-stepped chip delivers at the next step boundary, the
        neurons keeping their exact continuous-time dynamics (``chip.execution.step_s`` is
        TrueNorth's 1 ms tick).  None: exact arrival times.

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
    if delivery_step_s is not None and not route:
        raise InvalidParameterError(f"delivery_step_s = {delivery_step_s!r}: quantised delivery needs route=True")
    routed = {"chip": chip, "mapping": mapping, "delivery_step_s": delivery_step_s} if route else {}
    result = emulate(network, duration_s=duration_s, inputs=list(inputs), seed=seed, record=record_events, **routed)
    sizes = [p.size for p in network.populations]
    return record_run(
        result,
        mapping,
        t_ref_s=network.neuron_arrays()["t_ref_s"],
        population_names=[p.name for p in network.populations],
        population_offsets=np.cumsum([0] + sizes[:-1]).astype(np.int64),
        provenance={**run_provenance(network, chip, inputs, seed=seed, duration_s=duration_s, routed=route),
                    **({"delivery_step_s": float(delivery_step_s)} if delivery_step_s is not None else {})},
    )


def run_provenance(network: Network, chip: ChipSpec, inputs: Sequence[Any], *, seed: int, duration_s: float,
                   routed: bool) -> dict[str, Any]:
    """Where a run comes from, JSON-ready: the network's shape, the stimuli, seed and versions.

    Parameters
    ----------
    network : Network
        The network run.
    chip : ChipSpec
        The chip it ran on.
    inputs : sequence of stimuli
        The run's stimuli.
    seed : int
        The emulator's seed.
    duration_s : float
        Chip time, s.
    routed : bool
        Whether packets were timed through the routers.

    Returns
    -------
    dict of str to object
        ``seed``, ``duration_s``, ``chip``, ``routed``, ``network`` (neurons, synapses, and per
        population its name, size and neuron model), ``inputs`` (one text per stimulus),
        ``versions`` (neurochip, numpy, Python).
    """
    import platform

    from . import __version__

    pops = [
        {"name": p.name, "size": p.size,
         "model": "LIF (delta synapses)" if p.model is None else repr(p.model)}
        for p in network.populations
    ]  # fmt: skip
    return {
        "seed": int(seed),
        "duration_s": float(duration_s),
        "chip": chip.name,
        "routed": bool(routed),
        "network": {"n_neurons": network.n_neurons, "n_synapses": int(network.csr().n_synapses), "populations": pops},
        "inputs": [repr(stim) if len(repr(stim)) <= 200 else repr(stim)[:197] + "..." for stim in inputs],
        "versions": {"neurochip": __version__, "numpy": np.__version__, "python": platform.python_version()},
    }


def fit_source(fit: Any) -> str:
    """One line naming a circuit fit and its bias point, for the price sources of a chip.

    Parameters
    ----------
    fit : FitResult or SynapseFitResult
        A fit of :func:`neurochip.circuit.fit_lif` or :func:`neurochip.circuit.fit_synapse` (any
        object with ``circuit`` and ``circuit_params``).

    Returns
    -------
    str
        ``"ngspice fit of <circuit> at <param>=<value>, ..."``: every netlist parameter the fit
        used, as SPICE numbers in SI units; parameters equal to 0 (such as mismatch offsets) are
        counted, not listed.

    Raises
    ------
    InvalidParameterError
        If ``fit`` has no ``circuit`` or ``circuit_params``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> fit_source(SimpleNamespace(circuit="dpi_synapse", circuit_params={"vdd": 1.8, "c_syn": 5e-13, "dvt": 0.0}))
    'ngspice fit of dpi_synapse at vdd=1.8, c_syn=500f (1 more parameter = 0)'
    """
    circuit = getattr(fit, "circuit", None)
    params = getattr(fit, "circuit_params", None)
    if not isinstance(circuit, str) or not isinstance(params, dict):
        raise InvalidParameterError.of("fit", type(fit).__name__, "must be a circuit fit with circuit and circuit_params")
    shown = [f"{k}={spice_number(float(v))}" for k, v in params.items() if float(v) != 0.0]
    zeros = len(params) - len(shown)
    text = f"ngspice fit of {circuit} at {', '.join(shown) if shown else 'its default parameters'}"
    if zeros:
        text += f" ({zeros} more parameter{'s' if zeros > 1 else ''} = 0)"
    return text


def _check_energy(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (value >= 0 and np.isfinite(value)):
        raise InvalidParameterError.of(name, value, "must be finite and >= 0")
    return float(value)


def _add_static(chip: ChipSpec, n: int, what: str, power: float, desc: str) -> tuple[float, str]:
    """The chip's static power per core plus ``n`` circuits of ``power``, and its source text.

    The text is one sum, ``"<total> per core = <base> + <n> <what> x <power> (<fit>)"``; a base
    that is itself such a sum (a second circuit added) is extended rather than nested.
    """
    old = chip.energy.static_power_per_core_watt
    new = old + n * power
    own = chip.sources.get("energy.static_power_per_core_watt", "")
    prefix = f"{format_si(old, 'W')} per core = "
    base = own[len(prefix):] if own.startswith(prefix) else f"{format_si(old, 'W')} from {price_sources(chip)[STATIC]}"
    text = f"{format_si(new, 'W')} per core = {base} + {n} {what} x {format_si(power, 'W')} ({desc}: static_power_watt)"
    return new, text


def with_neuron_circuit(
    chip: ChipSpec,
    *,
    energy_per_spike_joule: float,
    static_power_watt: float,
    circuit: str = "circuit",
    analog: bool = False,
    source: str | None = None,
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
    analog : bool
        True: the circuit is an analog neuron, which integrates its input in continuous time, so
        the chip charges no digital neuron update (``neuron_update_joule`` and
        ``neuron_update_inactive_joule`` become 0, and their source says why): its supply
        energies, spike energy and static power, are its whole cost.  The neuron circuits
        fitted here (``lif_transistor``, ``lif_behavioral``) are analog; the default False keeps
        the preset's digital update price, for a circuit that only replaces the spike generator.
    source : str, optional
        Where the numbers come from, as :func:`fit_source` writes it (circuit and bias point);
        default: the circuit's name only.

    Returns
    -------
    ChipSpec
        ``energy.spike_joule`` = the circuit's; ``energy.static_power_per_core_watt`` = the
        preset's plus ``core.neurons`` circuits; with ``analog``, zero neuron-update prices.
        ``sources`` says so for each changed field (the energy report's ``price_source``).

    Raises
    ------
    InvalidParameterError
        If an energy or power is negative or not finite, or ``analog`` is not a bool.

    Notes
    -----
    The static power is added per neuron slot of ``chip.core`` as it is now: give the chip its
    final core capacities first, then put the circuit in.

    Examples
    --------
    >>> from neurochip.chip import load_chip
    >>> chip = with_neuron_circuit(load_chip("generic"), energy_per_spike_joule=2e-12, static_power_watt=1e-9,
    ...                            circuit="mine", analog=True)
    >>> chip.energy.spike_joule, chip.energy.neuron_update_joule
    (2e-12, 0.0)
    >>> chip.sources["energy.spike_joule"]
    "circuit 'mine' (no fit details given): energy_per_spike_joule = 2 pJ"
    """
    e_spike = _check_energy("energy_per_spike_joule", energy_per_spike_joule)
    p_static = _check_energy("static_power_watt", static_power_watt)
    if not isinstance(analog, bool):
        raise InvalidParameterError.of("analog", analog, "must be True or False")
    desc = source if source is not None else f"circuit {circuit!r} (no fit details given)"
    static, static_text = _add_static(chip, chip.core.neurons, "neuron circuits", p_static, desc)
    changes: dict[str, float] = {"spike_joule": e_spike, "static_power_per_core_watt": static}
    sources = dict(chip.sources)
    sources["energy.spike_joule"] = f"{desc}: energy_per_spike_joule = {format_si(e_spike, 'J')}"
    sources["energy.static_power_per_core_watt"] = static_text
    if analog:
        changes.update(neuron_update_joule=0.0, neuron_update_inactive_joule=0.0)
        why = (f"0: the neurons are the analog circuit {circuit}, which integrates in continuous time with no "
               "digital update; its supply energy is priced by energy.spike_joule and its static power")
        sources["energy.neuron_update_joule"] = why
        sources["energy.neuron_update_inactive_joule"] = why
    kind = "analog neurons" if analog else "neurons"
    return chip.replace(energy=dataclasses.replace(chip.energy, **changes), sources=sources,
                        description=f"{chip.description} + {circuit} {kind}")


def with_synapse_circuit(
    chip: ChipSpec,
    *,
    energy_per_event_joule: float,
    static_power_watt: float,
    circuits_per_core: int | None = None,
    circuit: str = "synapse circuit",
    source: str | None = None,
) -> ChipSpec:
    """The chip with its synapses replaced by a fitted synapse circuit: event energy and static power.

    Parameters
    ----------
    chip : ChipSpec
        The chip whose energy table changes.
    energy_per_event_joule : float
        Dynamic supply energy of one synaptic event in the circuit, J (>= 0), as fitted by
        :func:`neurochip.circuit.fit_synapse` (``energy_per_event_joule``).
    static_power_watt : float
        Supply power of one circuit at rest, W (>= 0).
    circuits_per_core : int, optional
        Synapse circuits on one core, >= 1.  Default ``core.fan_in``: one circuit per synapse
        slot, the upper bound of the static power.  A design that shares one circuit per neuron
        and synapse type (the DYNAP-SE way: a DPI filters every event of its type linearly, as
        long as their summed rate stays inside its linear range) passes ``core.neurons`` x the
        number of types.
    circuit : str
        Name of the circuit, appended to the chip's description.
    source : str, optional
        Where the numbers come from, as :func:`fit_source` writes it; default: the name only.

    Returns
    -------
    ChipSpec
        ``energy.synaptic_event_joule`` = the circuit's energy per event (it replaces the
        preset's digital synaptic operation: the weight is the circuit's bias, not a memory
        read; delivering the event to the synapse stays priced by ``core_packet_joule`` and the
        hops); ``energy.static_power_per_core_watt`` plus ``circuits_per_core`` circuits.
        ``sources`` says so for both fields.

    Raises
    ------
    InvalidParameterError
        If an energy or power is negative or not finite, or ``circuits_per_core`` is not an
        integer >= 1.

    Notes
    -----
    The default count is read from ``chip.core`` as it is now: give the chip its final core
    capacities first, then put the circuit in.

    Examples
    --------
    >>> from neurochip.chip import load_chip
    >>> chip = with_synapse_circuit(load_chip("generic"), energy_per_event_joule=4e-12, static_power_watt=5e-13,
    ...                             circuit="dpi_synapse")
    >>> chip.energy.synaptic_event_joule
    4e-12
    >>> round((chip.energy.static_power_per_core_watt - 50e-6) / 5e-13)  # one circuit per fan-in slot
    65536
    """
    e_event = _check_energy("energy_per_event_joule", energy_per_event_joule)
    p_static = _check_energy("static_power_watt", static_power_watt)
    n = chip.core.fan_in if circuits_per_core is None else circuits_per_core
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidParameterError.of("circuits_per_core", circuits_per_core, "must be an integer >= 1")
    n = int(n)
    desc = source if source is not None else f"circuit {circuit!r} (no fit details given)"
    static, static_text = _add_static(chip, n, "synapse circuits", p_static, desc)
    sources = dict(chip.sources)
    sources["energy.synaptic_event_joule"] = f"{desc}: energy_per_event_joule = {format_si(e_event, 'J')}"
    sources["energy.static_power_per_core_watt"] = static_text
    energy = dataclasses.replace(chip.energy, synaptic_event_joule=e_event, static_power_per_core_watt=static)
    return chip.replace(energy=energy, sources=sources, description=f"{chip.description} + {circuit} synapses")
