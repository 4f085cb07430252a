"""Routing tables for the engine's router, and the statistics of a routed run.

See docs/emulator.md, "Routing", for the router model and why the routed run stays exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError, MappingError

# per-core and per-link counters filled by the kernel, in its order (_engine.pyx: R_*, L_*)
CORE_COUNTERS = ("packets_out", "packets_in", "core_packets", "hops_ew", "hops_ns", "drops_injection")
LINK_COUNTERS = ("packets", "peak_queue", "drops_buffer_full", "drops_injection")


def routing_tables(csr: Any, mapping: Any, *, keep_latency: bool) -> dict[str, Any]:
    """The kernel's routing input: the synapse rows split by target core, and per routing-table
    entry (neuron, destination core) the sub-rows the packet fans out to.

    Sub-row ``s`` holds the synapses of one (delay class, neuron, target core), numbered in
    that order; its targets keep the storage order of the original row.
    """
    n = csr.n_neurons
    chip = mapping.chip
    if mapping.n_neurons != n:
        raise InvalidParameterError(f"mapping: {mapping.n_neurons} neurons, the network has {n}")
    ncores = chip.n_cores
    core = np.ascontiguousarray(mapping.neuron_core, dtype=np.int32)
    if core.size and (core.min() < 0 or core.max() >= ncores):
        raise InvalidParameterError(f"mapping.neuron_core: mesh indices must be in [0, {ncores})")
    rows = csr.indptr.size - 1
    row_of = np.repeat(np.arange(rows, dtype=np.int64), np.diff(csr.indptr))
    tcore = core[csr.indices].astype(np.int64)
    key = row_of * ncores + tcore  # rows are contiguous, so sorting by key only reorders inside a row
    order = np.argsort(key, kind="stable")
    key = key[order]
    sub_indices = np.ascontiguousarray(csr.indices[order])
    sub_weights = np.ascontiguousarray(csr.weights[order])
    del order, row_of, tcore
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else np.zeros(0, np.int64)
    sub_key = key[starts]
    del key
    sub_indptr = np.r_[starts, sub_indices.size].astype(np.int64)
    sub_row = sub_key // ncores
    sub_core = sub_key % ncores
    sub_class = (sub_row // n).astype(np.int32)
    sub_neuron = sub_row % n
    # routing-table entries (neuron, destination core) -> their sub-rows
    rptr = np.ascontiguousarray(mapping.route_indptr, dtype=np.int64)
    rcores = np.ascontiguousarray(mapping.route_cores, dtype=np.int32)
    if rptr.shape != (n + 1,) or rptr[-1] != rcores.size:
        raise InvalidParameterError("mapping.route_indptr: does not match route_cores and the network's size")
    entry_neuron = np.repeat(np.arange(n, dtype=np.int64), np.diff(rptr))
    entry_key = entry_neuron * ncores + rcores
    ek_order = np.argsort(entry_key, kind="stable")
    want = sub_neuron * ncores + sub_core
    pos = np.searchsorted(entry_key[ek_order], want)
    pos = np.minimum(pos, max(entry_key.size - 1, 0))
    ok = entry_key.size > 0 and bool(np.all(entry_key[ek_order][pos] == want)) if want.size else True
    if not ok:
        bad = int(np.flatnonzero(entry_key[ek_order][pos] != want)[0]) if entry_key.size else 0
        raise MappingError(
            f"mapping: neuron {int(sub_neuron[bad])} has synapses on core {int(sub_core[bad])} "
            "but no routing-table entry for it (a mapping made for another network?)"
        )
    sub_entry = ek_order[pos] if want.size else np.zeros(0, np.int64)
    eo = np.argsort(sub_entry, kind="stable")
    entry_sub = np.ascontiguousarray(eo, dtype=np.int64)
    entry_sub_ptr = np.r_[0, np.cumsum(np.bincount(sub_entry, minlength=rcores.size))].astype(np.int64)
    r = chip.router
    nlinks = 4 * ncores
    interchip = getattr(mapping, "interchip", None)
    extra: dict[str, Any] = {}
    if interchip is not None:  # a board: the inter-chip channels (neurochip.board_links)
        extra = dict(interchip)
        nlinks += int(np.asarray(interchip["channel_dir"]).size)
    return {
        **extra,
        "n_cores": ncores,
        "width": chip.mesh.width,
        "hop_latency_s": float(r.hop_latency_s),
        "link_bandwidth_hz": float(r.link_bandwidth_hz),
        "buffer_depth": int(r.buffer_depth),
        "backpressure": bool(r.backpressure),
        "keep_latency": bool(keep_latency),
        "neuron_core": core,
        "route_indptr": rptr,
        "route_cores": rcores,
        "entry_sub_ptr": entry_sub_ptr,
        "entry_sub": entry_sub,
        "sub_class": sub_class,
        "sub_core": sub_core,
        "sub_indptr": sub_indptr,
        "sub_indices": sub_indices,
        "sub_weights": sub_weights,
        "sub_delivered": np.zeros(sub_class.size, np.int64),
        "core_counters": np.zeros(len(CORE_COUNTERS) * ncores, np.int64),
        "link_counters": np.zeros(len(LINK_COUNTERS) * nlinks, np.int64),
        "link_busy_s": np.zeros(nlinks, np.float64),
    }


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RoutingStats:
    """What the router did in a run.

    Attributes
    ----------
    chip : ChipSpec
    mapping : Mapping
    duration_s : float
    per_core : dict of str to int64 array, shape (n_cores,)
        ``spikes`` (fired by the core's neurons), ``packets_out`` (injected, one per spike and
        destination core, own core included), ``packets_in`` (that reached the core, own-core
        ones included), ``core_packets`` (own-core deliveries: no hop), ``hops_ew``/``hops_ns``
        (packets leaving the core over an east-west / north-south link), ``synaptic_events``
        and ``neuron_updates`` (recurrent synaptic events delivered to the core's neurons,
        refractory ones included; each updates its target), ``drops_injection``.
    per_link : dict of str to array, shape (n_cores, 4)
        Per outgoing link (east, west, north, south): ``packets`` (serialised over it),
        ``busy_s`` (time spent serialising), ``utilisation`` (busy_s / duration),
        ``peak_queue`` (most packets in its FIFO at once), ``drops_buffer_full`` (dropped on
        arrival at its full FIFO), ``drops_injection`` (dropped at the source: FIFO full).
    latency_s : float64 array
        Network latency (arrival at the destination core - spike time) of every delivered
        packet, in delivery order (empty when the run did not record); the delay from the
        spike to a synaptic arrival is this plus the synaptic delay.
    latency_mean_s, latency_max_s : float
    packets_delivered : int
    end_state : dict of str to int
        Packets still in the network at the end: ``packets_in_flight`` (on a hop),
        ``packets_queued`` (in a FIFO), ``packets_waiting_at_source``, and
        ``pending_arrivals`` (synaptic arrivals due after the end).
    per_channel : dict of str to array, shape (n_channels,)
        On a board only (empty otherwise): per inter-chip channel, the per-link counters above
        (its crossings are not in ``per_link`` or the cores' hops).
    """

    chip: Any
    mapping: Any
    duration_s: float
    per_core: dict[str, NDArray[np.int64]]
    per_link: dict[str, NDArray[Any]]
    latency_s: NDArray[np.float64]
    latency_mean_s: float
    latency_max_s: float
    packets_delivered: int
    end_state: dict[str, int] = field(default_factory=dict)
    per_channel: dict[str, NDArray[Any]] = field(default_factory=dict)

    @property
    def drops(self) -> int:
        """Packets dropped (both causes, inter-chip channels included)."""
        return sum(self.drops_by_cause.values())

    @property
    def drops_by_cause(self) -> dict[str, int]:
        ch = self.per_channel
        return {
            "buffer_full": int(self.per_link["drops_buffer_full"].sum())
            + (int(ch["drops_buffer_full"].sum()) if ch else 0),
            "injection_full": int(self.per_link["drops_injection"].sum())
            + (int(ch["drops_injection"].sum()) if ch else 0),
        }

    def latency_percentiles(self, q: Any = (50, 90, 99, 100)) -> dict[float, float]:
        """Percentiles (s) of the network latency of the delivered packets (recorded runs)."""
        if self.latency_s.size == 0:
            return {float(x): float("nan") for x in np.atleast_1d(q)}
        vals = np.percentile(self.latency_s, q)
        return {float(x): float(v) for x, v in zip(np.atleast_1d(q), np.atleast_1d(vals))}

    def latency_histogram(self, bins: Any = 20) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """(counts, bin edges in s) of the network latency (``numpy.histogram``)."""
        return np.histogram(self.latency_s, bins=bins)

    def operation_counts(self) -> Any:
        """The run's counts as :class:`neurochip.energy.OperationCounts` (priced by
        ``neurochip.energy.price``): spikes on the source core, hops on the core whose outgoing
        link the packet crosses, core_packets for own-core delivery, synaptic events and neuron
        updates on the target's core."""
        from ..energy import OperationCounts

        pc = self.per_core
        per = {
            "spikes": pc["spikes"],
            "synaptic_events": pc["synaptic_events"],
            "neuron_updates": pc["neuron_updates"],
            "hops_ew": pc["hops_ew"],
            "hops_ns": pc["hops_ns"],
            "core_packets": pc["core_packets"],
        }
        return OperationCounts(
            duration_s=self.duration_s, per_core={k: np.asarray(v, dtype=np.float64) for k, v in per.items()}
        )


def routing_stats(
    tables: dict[str, Any], mapping: Any, ids: NDArray[np.int32], duration_s: float
) -> RoutingStats:
    """Assemble the statistics of a routed run from the kernel's output arrays."""
    chip = mapping.chip
    m = chip.n_cores
    cc = tables["core_counters"].reshape(len(CORE_COUNTERS), m)
    per_core = {name: cc[k].copy() for k, name in enumerate(CORE_COUNTERS)}
    per_core["spikes"] = np.bincount(tables["neuron_core"][ids], minlength=m).astype(np.int64)
    sizes = np.diff(tables["sub_indptr"])
    syn = np.bincount(tables["sub_core"], weights=tables["sub_delivered"] * sizes, minlength=m)
    per_core["synaptic_events"] = np.rint(syn).astype(np.int64)
    per_core["neuron_updates"] = per_core["synaptic_events"].copy()
    lc_all = tables["link_counters"].reshape(len(LINK_COUNTERS), -1)
    lc = lc_all[:, : 4 * m].reshape(len(LINK_COUNTERS), m, 4)
    per_link: dict[str, NDArray[Any]] = {name: lc[k].copy() for k, name in enumerate(LINK_COUNTERS)}
    per_link["busy_s"] = tables["link_busy_s"][: 4 * m].reshape(m, 4).copy()
    per_link["utilisation"] = per_link["busy_s"] / duration_s
    per_channel: dict[str, NDArray[Any]] = {}
    if lc_all.shape[1] > 4 * m:
        per_channel = {name: lc_all[k, 4 * m :].copy() for k, name in enumerate(LINK_COUNTERS)}
        per_channel["busy_s"] = tables["link_busy_s"][4 * m :].copy()
        per_channel["utilisation"] = per_channel["busy_s"] / duration_s
    n_lat = int(tables["latency_count"])
    return RoutingStats(
        chip=chip,
        mapping=mapping,
        duration_s=duration_s,
        per_core=per_core,
        per_link=per_link,
        latency_s=tables["latency"],
        latency_mean_s=tables["latency_sum_s"] / n_lat if n_lat else float("nan"),
        latency_max_s=float(tables["latency_max_s"]) if n_lat else float("nan"),
        packets_delivered=n_lat,
        end_state={
            k: int(tables[k])
            for k in ("packets_in_flight", "packets_queued", "packets_waiting_at_source", "pending_arrivals")
        },
        per_channel=per_channel,
    )
