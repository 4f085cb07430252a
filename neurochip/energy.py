"""Activity-proportional energy and static power of a run on a chip.

Energy is priced from operation counts, never estimated otherwise:

.. math::

    E_{dyn} = \\sum_{op} N_{op} \\, e_{op}, \\qquad E_{static} = P_{core} \\, n_{cores} \\, T

where the counted operations are those of :class:`neurochip.chip.EnergySpec`: spikes
generated, synaptic events, neuron updates (active and inactive), packets crossing east-west
and north-south links, and packets delivered within their own core.  Counts come either from
an emulator run (exact) or from :func:`expected_counts` (rates x structure, before running).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .chip import ChipSpec
from .errors import InvalidParameterError

__all__ = ["OPERATIONS", "OperationCounts", "EnergyReport", "price", "expected_counts"]

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


@dataclass(frozen=True, slots=True, kw_only=True)
class OperationCounts:
    """Counts of every priced operation, per core, over a run of ``duration_s``.

    Parameters
    ----------
    duration_s : float
        Chip time covered by the counts, > 0.
    per_core : dict of str to ndarray of float64, shape (n_cores,)
        One array per name in :data:`OPERATIONS` (missing names count zero).  A hop is counted
        on the core whose outgoing link the packet crosses; a synaptic event and a neuron update
        on the core of the target neuron; a spike on the core of the neuron that fired.
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
        """Count of one operation summed over cores."""
        return float(np.sum(self.per_core.get(op, 0.0)))


@dataclass(frozen=True, slots=True, kw_only=True)
class EnergyReport:
    """Priced counts: energies in J, powers in W.

    Attributes
    ----------
    by_operation : dict of str to float
        Dynamic energy of each operation, summed over cores.
    by_core : ndarray, shape (n_cores,)
        Dynamic energy of each core.
    dynamic_joule, static_joule, total_joule : float
    average_power_watt : float
        total_joule / duration_s.
    energy_per_synaptic_event_joule : float
        total_joule / synaptic events (inf when there are none): static power amortised over work.
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "chip": self.chip,
            "duration_s": self.duration_s,
            "n_cores_powered": self.n_cores_powered,
            "dynamic_joule": self.dynamic_joule,
            "static_joule": self.static_joule,
            "total_joule": self.total_joule,
            "average_power_watt": self.average_power_watt,
            "energy_per_synaptic_event_joule": self.energy_per_synaptic_event_joule,
            "by_operation_joule": dict(self.by_operation),
            "by_core_joule": self.by_core.tolist(),
            "counts": dict(self.counts),
        }


def price(counts: OperationCounts, chip: ChipSpec, *, cores_powered: int | None = None) -> EnergyReport:
    """Dynamic energy = sum of counts x per-operation energy; static = power x cores x time.

    Parameters
    ----------
    counts : OperationCounts
    chip : ChipSpec
    cores_powered : int, optional
        Cores paying static power (default: every core of the chip; pass the cores used when
        unused cores are power-gated).
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
    )


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

    Parameters
    ----------
    mapping : neurochip.mapping.Mapping
    indptr, indices : array_like
        The pre -> post CSR synapse matrix the mapping was made from.
    rates_hz : array_like, shape (n_neurons,)
    duration_s : float
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
