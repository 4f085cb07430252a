"""The run file: :class:`RunRecord`, what ``neurochip run`` writes and the reports read, and
:func:`record_run`, which makes one from an emulator run and its mapping.

Counting (see :mod:`neurochip.report`): a routed run carries the router's own counters; otherwise
the counts are derived from the spikes and the mapping's routing tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._io import atomic_write, load_npz
from .chip import ChipSpec
from .energy import OPERATIONS, OperationCounts
from .errors import ConfigError, InvalidParameterError
from .mapping import Mapping, packet_counts

__all__ = ["RunRecord", "record_run"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RunRecord:
    """Everything the reports need from one run on a chip (SI units).

    Made by :func:`record_run` (or :func:`neurochip.onchip.run_on_chip`), written and read with
    :meth:`save` and :meth:`load`.

    Attributes
    ----------
    chip : ChipSpec
        The chip the run was counted on.
    duration_s, wall_time_s : float
        Chip time simulated and wall time the emulator took, s.
    neuron_core : ndarray of int32, shape (n_neurons,)
        Mesh index of each neuron's core.
    t_ref_s : ndarray of float64, shape (n_neurons,)
        Refractory period of each neuron, s (its rate ceiling is 1/t_ref, Hz).
    spike_counts : ndarray of int64, shape (n_neurons,)
        Spikes of each neuron over the run.
    events : structured ndarray, fields ``time_s`` (float64, s) and ``address`` (int32)
        The AER spike log (may be empty).
    counts : OperationCounts
        Priced operations per core.
    link_packets : ndarray of float64, shape (n_cores, 4)
        Packets that crossed each outgoing link (east, west, north, south).
    external_events : int
        Stimulus events delivered from off chip (not priced).
    drops : int
        Packets dropped at full buffers (0 when the run was not routed with dropping buffers).
    population_names : list of str
        Population names, in neuron order, for per-population rates.
    population_offsets : ndarray of int64
        First neuron of each population (a final entry n_neurons may follow).
    routed : bool
        Whether the packets were timed through the chip's routers (latency, serialisation,
        buffers); otherwise only counted.
    drops_by_cause : dict of str to int
        ``buffer_full`` / ``injection_full`` drop counts (routed runs).
    latency_s : dict of str to float
        Network latency of delivered packets, s: ``mean``, ``max``, ``p50``, ``p90``, ``p99``
        (routed, recorded runs).
    peak_queue : ndarray of int64, shape (n_cores, 4), optional
        Most packets queued at once in each link's FIFO (routed runs).
    provenance : dict of str to object
        Where the run came from, JSON-ready: seed, network summary, stimuli, software versions
        (filled by :func:`neurochip.onchip.run_on_chip`; the CLI adds its input files).

    Examples
    --------
    The chain of :func:`neurochip.examples.chain_network` on four cores in a row, each kick of
    neuron 0 running down the chain (5 kicks in 0.1 s: 20 spikes, 15 synaptic events, 15 one-hop
    packets):

    >>> from neurochip.chip import CoreSpec, load_chip
    >>> from neurochip.examples import chain_network
    >>> from neurochip.mapping import MappingOptions
    >>> from neurochip.onchip import run_on_chip
    >>> net, kicks = chain_network()
    >>> chip = load_chip("generic").with_mesh(4, 1).replace(core=CoreSpec(neurons=1, fan_in=10, fan_out=10))
    >>> record = run_on_chip(net, chip, duration_s=0.1, inputs=kicks,
    ...                      mapping_options=MappingOptions(partitioner="block"))
    >>> record.n_neurons, record.spike_counts.tolist(), record.routed
    (4, [5, 5, 5, 5], True)
    >>> round(record.latency_s["max"] * 1e9, 3)  # ns: one 10 ns hop + 10 ns on the link
    20.0
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     record.save(os.path.join(tmp, "run.npz"))
    ...     RunRecord.load(os.path.join(tmp, "run.npz")).counts.total("synaptic_events")
    15.0
    """

    chip: ChipSpec
    duration_s: float
    wall_time_s: float
    neuron_core: NDArray[np.int32]
    t_ref_s: NDArray[np.float64]
    spike_counts: NDArray[np.int64]
    events: NDArray[Any]
    counts: OperationCounts
    link_packets: NDArray[np.float64]
    external_events: int = 0
    drops: int = 0
    population_names: list[str] = field(default_factory=list)
    population_offsets: NDArray[np.int64] = field(default_factory=lambda: np.zeros(1, np.int64))
    routed: bool = False
    drops_by_cause: dict[str, int] = field(default_factory=dict)
    latency_s: dict[str, float] = field(default_factory=dict)
    peak_queue: NDArray[np.int64] | None = None
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def n_neurons(self) -> int:
        """Number of neurons in the run."""
        return int(self.spike_counts.size)

    def link_utilisation(self) -> NDArray[np.float64]:
        """Busy fraction of every link over the run, shape (n_cores, 4): packets over the link's
        bandwidth times the chip time (for timed runs, the time each link spent serialising).

        Returns
        -------
        ndarray of float64, shape (n_cores, 4)
            Dimensionless, in :data:`~neurochip.mesh.LINKS` order; 1.0 is a link busy the
            whole run.

        Notes
        -----
        With :math:`N_\\ell` the packets over link :math:`\\ell`, :math:`B` the link bandwidth
        (packets/s) and :math:`T` the chip time:

        .. math::

            u_\\ell = \\frac{N_\\ell}{B \\, T}
        """
        return self.link_packets / (self.chip.router.link_bandwidth_hz * self.duration_s)

    def rates_hz(self) -> NDArray[np.float64]:
        """Firing rate of every neuron over the run.

        Returns
        -------
        ndarray of float64, shape (n_neurons,)
            ``spike_counts / duration_s``, Hz.
        """
        return self.spike_counts / self.duration_s

    def save(self, path: str | Path) -> None:
        """Write the record to one ``.npz`` file.

        Parameters
        ----------
        path : str or pathlib.Path
            Destination, written exactly as named (no suffix is added) through a temporary file
            renamed onto it, so a failure leaves nothing behind.

        Raises
        ------
        ConfigError
            If the file cannot be written.
        """
        header = {
            "format": "neurochip-run",
            "version": 1,
            "chip": self.chip.to_dict(),
            "duration_s": self.duration_s,
            "wall_time_s": self.wall_time_s,
            "external_events": int(self.external_events),
            "drops": int(self.drops),
            "population_names": list(self.population_names),
            "routed": bool(self.routed),
            "drops_by_cause": dict(self.drops_by_cause),
            "latency_s": dict(self.latency_s),
            "provenance": dict(self.provenance),
        }
        arrays = {f"count_{op}": np.asarray(v, dtype=np.float64) for op, v in self.counts.per_core.items()}

        def write(fh: Any) -> None:
            np.savez(
                fh,
                header=np.array(json.dumps(header)),
                neuron_core=self.neuron_core,
                t_ref_s=self.t_ref_s,
                spike_counts=self.spike_counts,
                event_time_s=self.events["time_s"] if self.events.size else np.zeros(0),
                event_address=self.events["address"] if self.events.size else np.zeros(0, np.int32),
                link_packets=self.link_packets,
                population_offsets=self.population_offsets,
                peak_queue=self.peak_queue if self.peak_queue is not None else np.zeros(0, np.int64),
                **arrays,
            )

        atomic_write(path, write)  # through a file object: written exactly as named, no suffix added

    @classmethod
    def load(cls, path: str | Path) -> RunRecord:
        """Read a run file written by :meth:`save`; errors name the file and the key.

        Parameters
        ----------
        path : str or pathlib.Path
            A ``.npz`` file written by :meth:`save`.

        Returns
        -------
        RunRecord

        Raises
        ------
        ConfigError
            If the file is missing, is not an ``.npz`` run file, lacks an array or holds arrays
            of inconsistent shapes or an invalid chip.
        """
        p = str(path)
        if not Path(p).exists():
            raise ConfigError("file not found", path=p)
        data = load_npz(path, "a neurochip run file (neurochip run -o)")
        if "header" not in data:
            raise ConfigError("not a neurochip run file: no 'header'", path=p)
        try:
            header = json.loads(str(data["header"]))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"header: not valid JSON ({exc})", path=p) from None
        if not isinstance(header, dict) or header.get("format") != "neurochip-run":
            got = header.get("format") if isinstance(header, dict) else None
            if got == "neurochip-board-run":
                raise ConfigError("a board run (neurochip run --system): its report was printed then and is stored in "
                                  "the file's header ('report'); `neurochip report` reads one-chip runs", path=p)  # fmt: skip
            raise ConfigError(
                f"header.format = {got!r}: not a neurochip run file (expected 'neurochip-run')", path=p
            )
        for key in (
            "neuron_core",
            "t_ref_s",
            "spike_counts",
            "link_packets",
            "event_time_s",
            "event_address",
            "population_offsets",
        ):
            if key not in data:
                raise ConfigError(f"missing array {key!r}", path=p)
        for key in ("chip", "duration_s", "wall_time_s"):
            if key not in header:
                raise ConfigError(f"header.{key}: missing", path=p)
        chip = ChipSpec.from_dict(header["chip"], source=f"{p} [header.chip]")
        per_core = {op: np.array(data[f"count_{op}"]) for op in OPERATIONS if f"count_{op}" in data}
        events = np.zeros(data["event_time_s"].size, dtype=[("time_s", np.float64), ("address", np.int32)])
        events["time_s"] = data["event_time_s"]
        events["address"] = data["event_address"]
        n = data["spike_counts"].size
        for key in ("neuron_core", "t_ref_s"):
            if data[key].shape != (n,):
                raise ConfigError(f"{key}: shape {data[key].shape}, expected ({n},)", path=p)
        return cls(
            chip=chip,
            duration_s=float(header["duration_s"]),
            wall_time_s=float(header["wall_time_s"]),
            neuron_core=np.array(data["neuron_core"]),
            t_ref_s=np.array(data["t_ref_s"]),
            spike_counts=np.array(data["spike_counts"]),
            events=events,
            counts=OperationCounts(duration_s=float(header["duration_s"]), per_core=per_core),
            link_packets=np.array(data["link_packets"]),
            external_events=int(header.get("external_events", 0)),
            drops=int(header.get("drops", 0)),
            population_names=list(header.get("population_names", [])),
            population_offsets=np.array(data["population_offsets"]),
            routed=bool(header.get("routed", False)),
            drops_by_cause={k: int(v) for k, v in header.get("drops_by_cause", {}).items()},
            latency_s={k: float(v) for k, v in header.get("latency_s", {}).items()},
            peak_queue=np.array(data["peak_queue"])
            if "peak_queue" in data and data["peak_queue"].size
            else None,
            provenance=dict(header.get("provenance", {}))
            if isinstance(header.get("provenance", {}), dict)
            else {},
        )


def record_run(
    result: Any,
    mapping: Mapping,
    *,
    t_ref_s: NDArray[np.float64],
    population_names: list[str] | None = None,
    population_offsets: NDArray[np.int64] | None = None,
    provenance: dict[str, Any] | None = None,
) -> RunRecord:
    """Count the operations of an emulator run on a mapped chip (see the module doc).

    A routed result (one with a ``routing`` attribute) brings the router's own counts, link
    packets, drops, latencies and queue peaks; otherwise the counts are derived from the spike
    counts and the mapping's routing tables.

    Parameters
    ----------
    result : neurochip.emulator.EmulationResult
        A run of the network the mapping was made from (same neuron order).
    mapping : Mapping
        The placement the run is priced on.
    t_ref_s : array_like of float, shape (n_neurons,)
        Refractory period of every neuron, s (> 0 for a finite rate ceiling).
    population_names : list of str, optional
        Population names in neuron order (default ``["all"]``).
    population_offsets : array_like of int, optional
        First neuron of each population (default ``[0, n_neurons]``).
    provenance : dict, optional
        JSON-ready description of where the run came from (kept in the record and its file).

    Returns
    -------
    RunRecord

    Raises
    ------
    InvalidParameterError
        If the result and the mapping differ in their number of neurons.

    Examples
    --------
    The chain of :func:`neurochip.examples.chain_network` on four cores in a row, run without
    routing: the counts follow from the spikes by hand (20 spikes; neurons 0-2 each send 5 one-hop
    packets):

    >>> from neurochip.chip import CoreSpec, load_chip
    >>> from neurochip.emulator import run
    >>> from neurochip.examples import chain_network
    >>> from neurochip.mapping import MappingOptions, map_network
    >>> net, kicks = chain_network()
    >>> chip = load_chip("generic").with_mesh(4, 1).replace(core=CoreSpec(neurons=1, fan_in=10, fan_out=10))
    >>> mapping = map_network(net, chip, options=MappingOptions(partitioner="block"))
    >>> record = record_run(run(net, duration_s=0.1, inputs=kicks), mapping, t_ref_s=np.full(4, 1e-3))
    >>> {op: record.counts.total(op) for op in ("spikes", "synaptic_events", "core_packets")}
    {'spikes': 20.0, 'synaptic_events': 15.0, 'core_packets': 0.0}
    >>> record.counts.total("hops_ew") + record.counts.total("hops_ns")
    15.0
    """
    n = mapping.n_neurons
    if result.spike_counts.shape != (n,):
        raise InvalidParameterError(f"result: {result.spike_counts.size} neurons, but the mapping places {n}")
    chip = mapping.chip
    m = chip.n_cores
    core = mapping.neuron_core
    spikes = result.spike_counts.astype(np.float64)
    routing = getattr(result, "routing", None)
    extra: dict[str, Any] = {}
    if routing is not None:
        counts = routing.operation_counts()
        links = np.asarray(routing.per_link["packets"], dtype=np.float64)
        pct = routing.latency_percentiles((50, 90, 99))
        extra = {
            "routed": True,
            "drops": routing.drops,
            "drops_by_cause": routing.drops_by_cause,
            "latency_s": {
                "mean": routing.latency_mean_s,
                "max": routing.latency_max_s,
                "p50": pct[50.0],
                "p90": pct[90.0],
                "p99": pct[99.0],
            },
            "peak_queue": np.asarray(routing.per_link["peak_queue"], dtype=np.int64),
        }
    else:
        core_packets, links = packet_counts(mapping, spikes)
        received = result.rec_events_per_neuron.astype(np.float64)
        syn = np.bincount(core, weights=received, minlength=m)
        per_core = {
            "spikes": np.bincount(core, weights=spikes, minlength=m),
            "synaptic_events": syn,
            "neuron_updates": syn.copy(),
            "core_packets": core_packets,
            "hops_ew": links[:, 0] + links[:, 1],
            "hops_ns": links[:, 2] + links[:, 3],
        }
        counts = OperationCounts(duration_s=float(result.duration_s), per_core=per_core)
    names = population_names or ["all"]
    offsets = population_offsets if population_offsets is not None else np.array([0, n], dtype=np.int64)
    return RunRecord(
        chip=chip,
        duration_s=float(result.duration_s),
        wall_time_s=float(result.wall_time_s),
        neuron_core=core.copy(),
        t_ref_s=np.asarray(t_ref_s, dtype=np.float64),
        spike_counts=result.spike_counts.copy(),
        events=result.events,
        counts=counts,
        link_packets=links,
        external_events=int(result.counters.get("ext_events", 0)),
        population_names=list(names),
        population_offsets=np.asarray(offsets, dtype=np.int64),
        provenance=dict(provenance or {}),
        **extra,
    )
