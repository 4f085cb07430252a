"""Activity-proportional energy and static power of a run on a chip.

Energy is priced from operation counts, never estimated otherwise:

.. math::

    E_{dyn} = \\sum_{op} N_{op} \\, e_{op}, \\qquad E_{static} = P_{core} \\, n_{cores} \\, T

where the counted operations are those of :class:`neurochip.chip.EnergySpec`: spikes
generated, synaptic events, neuron updates (active and inactive), packets crossing east-west
and north-south links, and packets delivered within their own core.  Counts come either from
an emulator run (exact) or from :func:`expected_counts` (rates x structure, before running).

Every term of a report carries its **price source** (:func:`price_sources`): the chip spec's
``sources`` entry that covers the price, which is the preset's or chip file's own text (a paper
and table, or "hypothetical"), or, for a chip whose neurons or synapses are a fitted circuit
(:func:`neurochip.onchip.with_neuron_circuit`, :func:`neurochip.onchip.with_synapse_circuit`),
the circuit, the fitted quantity and the bias point of the fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .chip import ChipSpec
from .errors import InvalidParameterError

__all__ = ["OPERATIONS", "STATIC", "OperationCounts", "EnergyReport", "price", "price_sources", "expected_counts"]

# operation name -> EnergySpec field pricing it
OPERATIONS: dict[str, str] = {
    "spikes": "spike_joule",
    "synaptic_events": "synaptic_event_joule",
    "neuron_updates": "neuron_update_joule",
    "neuron_updates_inactive": "neuron_update_inactive_joule",
    "hops_ew": "hop_ew_joule",
    "hops_ns": "hop_ns_joule",
    "core_packets": "core_packet_joule",
}
#: Name of the static-power term in a report's price tables (priced by ``static_power_per_core_watt``).
STATIC = "static"


@dataclass(frozen=True, slots=True, kw_only=True)
class OperationCounts:
    """Counts of every priced operation, per core, over a run of ``duration_s``.

    Parameters
    ----------
    duration_s : float
        Chip time covered by the counts in s, > 0.
    per_core : dict of str to ndarray of float64, shape (n_cores,)
        One array per name in :data:`OPERATIONS` (missing names count zero), dimensionless
        counts >= 0 (expected counts may be fractional).  A hop is counted on the core whose
        outgoing link the packet crosses; a synaptic event and a neuron update on the core of
        the target neuron; a spike on the core of the neuron that fired.

    Raises
    ------
    InvalidParameterError
        If ``duration_s`` is not > 0, a key is not an operation name or the arrays differ in
        shape.

    Examples
    --------
    >>> counts = OperationCounts(duration_s=1e-3, per_core={"synaptic_events": np.array([3.0, 5.0])})
    >>> counts.total("synaptic_events"), counts.total("spikes")
    (8.0, 0.0)
    """

    duration_s: float
    per_core: dict[str, NDArray[np.float64]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.duration_s > 0:
            raise InvalidParameterError.of("duration_s", self.duration_s, "must be > 0")
        unknown = sorted(set(self.per_core) - set(OPERATIONS))
        if unknown:
            raise InvalidParameterError.of("per_core", unknown[0], f"unknown operation; expected one of {list(OPERATIONS)}")
        sizes = {np.asarray(v).shape for v in self.per_core.values()}
        if len(sizes) > 1:
            raise InvalidParameterError(f"per_core: arrays of different shapes {sorted(sizes)}")

    def total(self, op: str) -> float:
        """Count of one operation summed over cores.

        Parameters
        ----------
        op : str
            A name in :data:`OPERATIONS`; a name without an array counts zero.

        Returns
        -------
        float
            The count (dimensionless).
        """
        return float(np.sum(self.per_core.get(op, 0.0)))


@dataclass(frozen=True, slots=True, kw_only=True)
class EnergyReport:
    """Priced counts: energies in J, powers in W (made by :func:`price`).

    Attributes
    ----------
    chip : str
        Name of the chip spec that priced the counts.
    duration_s : float
        Chip time covered, s.
    n_cores_powered : int
        Cores that paid static power.
    by_operation : dict of str to float
        Dynamic energy of each operation in :data:`OPERATIONS`, summed over cores, J.
    by_core : ndarray of float64, shape (n_cores,)
        Dynamic energy of each core, J (static energy not included).
    dynamic_joule, static_joule, total_joule : float
        J; ``total_joule = dynamic_joule + static_joule``.
    average_power_watt : float
        total_joule / duration_s, W.
    energy_per_synaptic_event_joule : float
        total_joule / synaptic events, J (inf when there are none): static power amortised over
        work.
    counts : dict of str to float
        Each operation's count summed over cores.
    price_joule : dict of str to float
        The price of one of each operation, J (the chip's energy table).
    static_power_per_core_watt : float
        Static power of one powered core, W.
    price_source : dict of str to str
        Where each price comes from, for every operation and for :data:`STATIC`
        (:func:`price_sources`).

    Examples
    --------
    >>> from neurochip.chip import load_chip
    >>> chip = load_chip("generic")
    >>> spikes = np.zeros(chip.n_cores)
    >>> spikes[3] = 1000.0
    >>> report = price(OperationCounts(duration_s=0.01, per_core={"spikes": spikes}), chip)
    >>> round(report.by_operation["spikes"] / 1e-9, 6), int(np.argmax(report.by_core))  # nJ
    (10.0, 3)
    >>> sorted(report.to_dict())[:3]
    ['average_power_watt', 'by_core_joule', 'by_operation_joule']
    """

    chip: str
    duration_s: float
    n_cores_powered: int
    by_operation: dict[str, float]
    by_core: NDArray[np.float64]
    dynamic_joule: float
    static_joule: float
    total_joule: float
    average_power_watt: float
    energy_per_synaptic_event_joule: float
    counts: dict[str, float]
    price_joule: dict[str, float] = field(default_factory=dict)
    static_power_per_core_watt: float = 0.0
    price_source: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON: the attributes, ``by_core`` as a list.

        Returns
        -------
        dict of str to object
            Keys as the attributes, except ``by_operation_joule`` and ``by_core_joule`` (J).
            ``price_source`` has one text per operation and one for ``"static"``.  Counts that
            are whole numbers (every count of a run) are ints; ``energy_per_synaptic_event_joule``
            is None when there was no synaptic event, and ``energy_per_synaptic_event_note``
            then says so (JSON has no infinity).
        """
        per_event: float | None = self.energy_per_synaptic_event_joule
        note: dict[str, str] = {}
        if per_event is not None and not math.isfinite(per_event):
            per_event = None
            note = {"energy_per_synaptic_event_note": "no synaptic event: the energy per event is undefined"}
        return {
            "chip": self.chip,
            "duration_s": self.duration_s,
            "n_cores_powered": self.n_cores_powered,
            "dynamic_joule": self.dynamic_joule,
            "static_joule": self.static_joule,
            "total_joule": self.total_joule,
            "average_power_watt": self.average_power_watt,
            "energy_per_synaptic_event_joule": per_event,
            **note,
            "by_operation_joule": dict(self.by_operation),
            "by_core_joule": self.by_core.tolist(),
            "counts": {op: _whole(n) for op, n in self.counts.items()},
            "price_joule": dict(self.price_joule),
            "static_power_per_core_watt": self.static_power_per_core_watt,
            "price_source": dict(self.price_source),
        }


def _whole(count: float) -> float | int:
    """A count as an int when it is a whole number (expected counts may be fractional)."""
    value = float(count)
    return int(value) if value.is_integer() else value


def price(counts: OperationCounts, chip: ChipSpec, *, cores_powered: int | None = None) -> EnergyReport:
    """Dynamic energy = sum of counts x per-operation energy; static = power x cores x time.

    Parameters
    ----------
    counts : OperationCounts
        Per-core counts; each array must have shape ``(chip.n_cores,)``.
    chip : ChipSpec
        Its :class:`~neurochip.chip.EnergySpec` gives J per operation and W per core.
    cores_powered : int, optional
        Cores paying static power, in [0, ``chip.n_cores``] (default: every core of the chip;
        pass the cores used when unused cores are power-gated).

    Returns
    -------
    EnergyReport
        Energies in J, average power in W.

    Raises
    ------
    InvalidParameterError
        If a count array does not have one entry per core, or ``cores_powered`` is out of range.

    Notes
    -----
    With :math:`N_{op,c}` the count of operation :math:`op` on core :math:`c`, :math:`e_{op}`
    its energy (J), :math:`P_{core}` the static power per core (W), :math:`n_p` the powered
    cores and :math:`T` the duration (s):

    .. math::

        E_{dyn} = \\sum_{op} \\sum_c N_{op,c} \\, e_{op}, \\qquad
        E_{static} = P_{core} \\, n_p \\, T, \\qquad
        \\bar P = \\frac{E_{dyn} + E_{static}}{T}, \\qquad
        e_{syn} = \\frac{E_{dyn} + E_{static}}{\\sum_c N_{syn,c}}

    Examples
    --------
    One million synaptic events, each updating its target, in 1 ms on the 16-core generic chip
    (10 pJ per event, 50 pJ per update, 50 µW per core):

    >>> from neurochip.chip import load_chip
    >>> from neurochip.units import format_si
    >>> chip = load_chip("generic")
    >>> events = np.zeros(chip.n_cores)
    >>> events[0] = 1e6
    >>> counts = OperationCounts(duration_s=1e-3,
    ...                          per_core={"synaptic_events": events, "neuron_updates": events})
    >>> report = price(counts, chip)
    >>> format_si(report.dynamic_joule, "J"), format_si(report.static_joule, "J")
    ('60 µJ', '800 nJ')
    >>> format_si(report.average_power_watt, "W"), format_si(report.energy_per_synaptic_event_joule, "J")
    ('60.8 mW', '60.8 pJ')
    >>> format_si(price(counts, chip, cores_powered=1).static_joule, "J")
    '50 nJ'
    """
    n_cores = chip.n_cores
    by_core = np.zeros(n_cores)
    by_op: dict[str, float] = {}
    for op, efield in OPERATIONS.items():
        arr = np.asarray(counts.per_core.get(op, np.zeros(n_cores)), dtype=np.float64)
        if arr.shape != (n_cores,):
            raise InvalidParameterError(f"counts.per_core[{op!r}]: shape {arr.shape}, expected ({n_cores},) for chip {chip.name!r}")
        e = getattr(chip.energy, efield)
        by_core += arr * e
        by_op[op] = float(arr.sum() * e)
    powered = n_cores if cores_powered is None else int(cores_powered)
    if not 0 <= powered <= n_cores:
        raise InvalidParameterError.of("cores_powered", cores_powered, f"must be in [0, {n_cores}]")
    dynamic = float(sum(by_op.values()))
    static = chip.energy.static_power_per_core_watt * powered * counts.duration_s
    total = dynamic + static
    syn = counts.total("synaptic_events")
    return EnergyReport(
        chip=chip.name,
        duration_s=counts.duration_s,
        n_cores_powered=powered,
        by_operation=by_op,
        by_core=by_core,
        dynamic_joule=dynamic,
        static_joule=static,
        total_joule=total,
        average_power_watt=total / counts.duration_s,
        energy_per_synaptic_event_joule=total / syn if syn > 0 else float("inf"),
        counts={op: counts.total(op) for op in OPERATIONS},
        price_joule={op: float(getattr(chip.energy, efield)) for op, efield in OPERATIONS.items()},
        static_power_per_core_watt=float(chip.energy.static_power_per_core_watt),
        price_source=price_sources(chip),
    )


def price_sources(chip: ChipSpec) -> dict[str, str]:
    """Where each price of a chip's energy table comes from, one text per report term.

    The text is the chip's ``sources`` entry that covers the field
    (:meth:`~neurochip.chip.ChipSpec.source_of`: the field's own key, else ``"energy"``, else
    ``"all"``), followed by the chip's name and the key, so that a report names the preset line
    it read.  A price set from a fitted circuit carries the circuit, the fitted quantity and the
    bias point in its entry (written by :func:`neurochip.onchip.with_neuron_circuit` and
    :func:`neurochip.onchip.with_synapse_circuit`).

    Parameters
    ----------
    chip : ChipSpec
        The chip whose energy table prices the counts.

    Returns
    -------
    dict of str to str
        One text per name of :data:`OPERATIONS` and one for :data:`STATIC` (the static power per
        core).  A field that no entry covers says so.

    Examples
    --------
    >>> from neurochip.chip import load_chip
    >>> price_sources(load_chip("loihi"))["neuron_updates"]
    "Davies et al. 2018 Table 2 (active) (chip 'loihi', [sources] 'energy.neuron_update_joule')"
    >>> price_sources(load_chip("generic").replace(sources={}))["static"]
    "no source given (chip 'generic' has no [sources] entry for energy.static_power_per_core_watt)"
    """
    fields = dict(OPERATIONS)
    fields[STATIC] = "static_power_per_core_watt"
    out: dict[str, str] = {}
    for term, efield in fields.items():
        path = f"energy.{efield}"
        found = chip.source_of(path)
        if found is None:
            out[term] = f"no source given (chip {chip.name!r} has no [sources] entry for {path})"
        else:
            key, text = found
            out[term] = f"{text} (chip {chip.name!r}, [sources] {key!r})"
    return out


def expected_counts(
    mapping: Any, indptr: ArrayLike, indices: ArrayLike, rates_hz: ArrayLike, duration_s: float
) -> OperationCounts:
    """Operation counts expected from firing rates, before any run.

    Every neuron ``i`` fires ``rates_hz[i] * duration_s`` spikes.  Each spike sends one packet
    per destination core of its routing table (multicast at the source): a packet to its own
    core is a ``core_packet``, one to another core crosses the links of its XY route (a hop is
    counted on the core whose outgoing link it crosses).  Each spike causes one synaptic event
    per outgoing synapse, counted on the target's core, and each synaptic event one update of
    the target neuron (the event-driven neuron is updated when, and only when, input arrives).

    Inactive neuron updates are not counted (they stay zero).

    Parameters
    ----------
    mapping : neurochip.mapping.Mapping
        The placement and routing tables of the network.
    indptr, indices : array_like of int, shapes (n_neurons + 1,) and (n_synapses,)
        The pre -> post CSR synapse matrix the mapping was made from.
    rates_hz : array_like of float, shape (n_neurons,)
        Firing rate of each neuron in Hz, >= 0.
    duration_s : float
        Chip time in s, > 0.

    Returns
    -------
    OperationCounts
        Expected (generally fractional) counts per core over ``duration_s``.

    Raises
    ------
    InvalidParameterError
        If ``rates_hz`` or ``indptr`` does not match ``mapping.n_neurons``, or ``duration_s``
        is not > 0.

    Notes
    -----
    With :math:`r_i` the rate of neuron :math:`i`, :math:`c(i)` its core, :math:`D_i` the
    destination cores of its routing table and :math:`T` the duration:

    .. math::

        N_{spk,c} = \\sum_{i:\\,c(i)=c} r_i T, \\qquad
        N_{syn,c} = N_{upd,c} = \\sum_{(i \\to j):\\,c(j)=c} r_i T, \\qquad
        N_{core,c} = \\sum_{i:\\,c \\in D_i,\\,c(i)=c} r_i T

    and the hop counts are the XY link loads (:func:`neurochip.mesh.link_loads`) of the
    core-to-core traffic :math:`\\sum_{i:\\,c(i)=s,\\,d \\in D_i} r_i T` for :math:`s \\ne d`,
    east + west links giving ``hops_ew``, north + south ``hops_ns``.

    Examples
    --------
    A ring of four neurons at 10 Hz, two neurons per core on a 2 x 1 mesh:

    >>> from neurochip.chip import CoreSpec, MeshSpec, load_chip
    >>> from neurochip.mapping import MappingOptions, map_synapses
    >>> chip = load_chip("generic").replace(mesh=MeshSpec(width=2, height=1),
    ...                                     core=CoreSpec(neurons=2, fan_in=8, fan_out=8))
    >>> indptr, indices = [0, 1, 2, 3, 4], [1, 2, 3, 0]
    >>> mapping = map_synapses(indptr, indices, chip, options=MappingOptions(partitioner="block"))
    >>> counts = expected_counts(mapping, indptr, indices, [10.0] * 4, 1.0)
    >>> {op: counts.total(op) for op in ("spikes", "synaptic_events", "core_packets", "hops_ew")}
    {'spikes': 40.0, 'synaptic_events': 40.0, 'core_packets': 20.0, 'hops_ew': 20.0}
    """
    from .mapping import packet_counts

    rates = np.asarray(rates_hz, dtype=np.float64)
    indptr = np.asarray(indptr, dtype=np.int64)
    indices = np.asarray(indices, dtype=np.int64)
    n = mapping.n_neurons
    if rates.shape != (n,):
        raise InvalidParameterError(f"rates_hz: shape {rates.shape}, expected ({n},)")
    if indptr.shape != (n + 1,):
        raise InvalidParameterError(f"indptr: shape {indptr.shape}, expected ({n + 1},)")
    chip = mapping.chip
    m = chip.n_cores
    spikes = rates * duration_s
    core = mapping.neuron_core
    events = np.bincount(core[indices], weights=np.repeat(spikes, np.diff(indptr)), minlength=m)
    core_packets, loads = packet_counts(mapping, spikes)
    per_core = {
        "spikes": np.bincount(core, weights=spikes, minlength=m),
        "synaptic_events": events,
        "neuron_updates": events.copy(),
        "core_packets": core_packets,
        "hops_ew": loads[:, 0] + loads[:, 1],
        "hops_ns": loads[:, 2] + loads[:, 3],
    }
    return OperationCounts(duration_s=duration_s, per_core=per_core)
