"""Reports of a run on a chip: energy, throughput, saturation; the run file they read.

A :class:`RunRecord` is what ``neurochip run`` writes: the chip, the mapping of neurons to cores,
the spike log and per-neuron counts, and the operation counts per core and per link.  The three
reports read it:

- **energy**: :func:`neurochip.energy.price` of the counts (dynamic by operation and by core,
  static, total, average power, energy per synaptic event);
- **throughput**: events per second of chip time and of wall time, link utilisation and the
  hottest links and cores;
- **saturation**: neurons within 10 % of their ceiling 1/t_ref, links at >= 90 % of their
  bandwidth, dropped packets.

Counting.  A run routed through the chip (``neurochip.emulator.run(..., chip=, mapping=)``) carries
the router's own counters, latencies and drops; otherwise the counts are derived from the spikes:
each spike of neuron ``i`` sends one packet to each core of its routing table; a packet to its own
core is a ``core_packet``, any other crosses the links of its XY route (one hop counted on the core
whose outgoing link it leaves by).  Each recurrent synaptic event the neuron's
targets receive (including those discarded during a refractory hold, since the synapse was
still read) counts as a synaptic event and a neuron update on the target's core.  External
stimulus events come from off chip and are reported, not priced.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .chip import ChipSpec
from .energy import OPERATIONS, EnergyReport, OperationCounts, price
from .errors import ConfigError, InvalidParameterError
from .mapping import LINKS, Mapping, packet_counts

__all__ = [
    "RunRecord",
    "record_run",
    "energy_report",
    "throughput_report",
    "saturation_report",
    "SATURATION_FRACTION",
    "LINK_SATURATION",
]

#: A neuron is called saturated when its rate is at least this fraction of 1/t_ref.
SATURATION_FRACTION = 0.9
#: A link is called saturated when it is busy at least this fraction of the time.
LINK_SATURATION = 0.9


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RunRecord:
    """Everything the reports need from one run on a chip (SI units).

    Attributes
    ----------
    chip : ChipSpec
    duration_s, wall_time_s : float
        Chip time simulated and wall time the emulator took.
    neuron_core : int32 array (n_neurons,)
    t_ref_s : float64 array (n_neurons,)
        Refractory period of each neuron (its ceiling is 1/t_ref).
    spike_counts : int64 array (n_neurons,)
    events : structured array (time_s, address)
        The AER spike log (may be empty).
    counts : OperationCounts
        Priced operations per core.
    link_packets : float64 array (n_cores, 4)
        Packets that crossed each outgoing link (east, west, north, south).
    external_events : int
        Stimulus events delivered from off chip (not priced).
    drops : int
        Packets dropped at full buffers (0 when the run was not routed with dropping buffers).
    population_names : list of str; population_offsets : int64 array
        Populations, for per-population rates.
    routed : bool
        Whether the packets were timed through the chip's routers (latency, serialisation,
        buffers); otherwise only counted.
    drops_by_cause : dict
        ``buffer_full`` / ``injection_full`` drop counts (routed runs).
    latency_s : dict
        Network latency of delivered packets: ``mean``, ``max``, ``p50``, ``p90``, ``p99``
        (routed, recorded runs).
    peak_queue : int array (n_cores, 4), optional
        Most packets queued at once in each link's FIFO (routed runs).
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

    @property
    def n_neurons(self) -> int:
        return int(self.spike_counts.size)

    def link_utilisation(self) -> NDArray[np.float64]:
        """Busy fraction of every link over the run, shape (n_cores, 4): packets over the link's
        bandwidth times the chip time (for timed runs, the time each link spent serialising)."""
        return self.link_packets / (self.chip.router.link_bandwidth_hz * self.duration_s)

    def rates_hz(self) -> NDArray[np.float64]:
        """Firing rate of every neuron over the run."""
        return self.spike_counts / self.duration_s

    def save(self, path: str | Path) -> None:
        """Write the record to one ``.npz`` file."""
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
        }
        arrays = {f"count_{op}": np.asarray(v, dtype=np.float64) for op, v in self.counts.per_core.items()}
        try:
            np.savez(
                path,
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
        except OSError as exc:
            raise ConfigError(f"cannot write run file: {exc}", path=str(path)) from None

    @classmethod
    def load(cls, path: str | Path) -> RunRecord:
        """Read a run file written by :meth:`save`; errors name the file and the key."""
        p = str(path)
        try:
            data = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise ConfigError("file not found", path=p) from None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"not a run file (.npz): {exc}", path=p) from None
        with data:
            if "header" not in data:
                raise ConfigError("not a neurochip run file: no 'header'", path=p)
            try:
                header = json.loads(str(data["header"]))
            except json.JSONDecodeError as exc:
                raise ConfigError(f"header: not valid JSON ({exc})", path=p) from None
            if header.get("format") != "neurochip-run":
                raise ConfigError(f"header.format = {header.get('format')!r}: expected 'neurochip-run'", path=p)
            for key in ("neuron_core", "t_ref_s", "spike_counts", "link_packets"):
                if key not in data:
                    raise ConfigError(f"missing array {key!r}", path=p)
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
                peak_queue=np.array(data["peak_queue"]) if "peak_queue" in data and data["peak_queue"].size else None,
            )


def record_run(result: Any, mapping: Mapping, *, t_ref_s: NDArray[np.float64], population_names: list[str] | None = None,
               population_offsets: NDArray[np.int64] | None = None) -> RunRecord:
    """Count the operations of an emulator run on a mapped chip (see the module doc).

    Parameters
    ----------
    result : neurochip.emulator.EmulationResult
    mapping : Mapping
        The placement the run is priced on.
    t_ref_s : array (n_neurons,)
        Refractory period of every neuron.
    """
    n = mapping.n_neurons
    if result.spike_counts.shape != (n,):
        raise InvalidParameterError(
            f"result: {result.spike_counts.size} neurons, but the mapping places {n}"
        )
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
            "latency_s": {"mean": routing.latency_mean_s, "max": routing.latency_max_s,
                          "p50": pct[50.0], "p90": pct[90.0], "p99": pct[99.0]},
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
        **extra,
    )


def energy_report(record: RunRecord, *, cores_powered: str = "all") -> tuple[EnergyReport, dict[str, Any]]:
    """Price the run's counts: the EnergyReport and its dict (plus the used-core count).

    Parameters
    ----------
    cores_powered : {"all", "used"}
        Whether every core of the chip pays static power or only the cores holding neurons
        (the rest power-gated).
    """
    if cores_powered not in ("all", "used"):
        raise InvalidParameterError.of("cores_powered", cores_powered, "must be 'all' or 'used'")
    used = int(np.unique(record.neuron_core).size)
    rep = price(record.counts, record.chip, cores_powered=None if cores_powered == "all" else used)
    out = rep.to_dict()
    out["cores_used"] = used
    out["dynamic_fraction"] = rep.dynamic_joule / rep.total_joule if rep.total_joule > 0 else math.nan
    out["external_events_unpriced"] = record.external_events
    return rep, out


def throughput_report(record: RunRecord, *, top: int = 5) -> dict[str, Any]:
    """Events per second of chip time and of wall time, link utilisation, hot spots."""
    t = record.duration_s
    spikes = record.counts.total("spikes")
    syn = record.counts.total("synaptic_events")
    hops = record.counts.total("hops_ew") + record.counts.total("hops_ns")
    bw = record.chip.router.link_bandwidth_hz
    util = record.link_utilisation()
    order = np.argsort(-util, axis=None)[:top]
    w = record.chip.mesh.width
    hot_links = [
        {
            "core": int(i // 4),
            "xy": [int((i // 4) % w), int((i // 4) // w)],
            "direction": LINKS[i % 4],
            "utilisation": float(util.flat[i]),
            "packets": float(record.link_packets.flat[i]),
        }
        for i in order
        if record.link_packets.flat[i] > 0
    ]
    per_core_events = record.counts.per_core.get("synaptic_events", np.zeros(record.chip.n_cores))
    hot_cores = [
        {"core": int(c), "xy": [int(c % w), int(c // w)], "synaptic_events_per_s": float(per_core_events[c] / t)}
        for c in np.argsort(-per_core_events)[:top]
        if per_core_events[c] > 0
    ]
    return {
        "duration_s": t,
        "wall_time_s": record.wall_time_s,
        "spikes": spikes,
        "synaptic_events": syn,
        "packet_hops": hops,
        "spikes_per_chip_s": spikes / t,
        "synaptic_events_per_chip_s": syn / t,
        "synaptic_events_per_wall_s": syn / record.wall_time_s if record.wall_time_s > 0 else math.inf,
        "real_time_factor": record.wall_time_s / t,
        "link_bandwidth_hz": bw,
        "link_utilisation_max": float(util.max()) if util.size else 0.0,
        "link_utilisation_mean": float(util.mean()) if util.size else 0.0,
        "hot_links": hot_links,
        "hot_cores": hot_cores,
        "drops": record.drops,
        "routed": record.routed,
        "latency_s": dict(record.latency_s),
        "peak_queue_max": int(record.peak_queue.max()) if record.peak_queue is not None and record.peak_queue.size else None,
    }


def saturation_report(record: RunRecord) -> dict[str, Any]:
    """Neurons within 10 % of 1/t_ref, links at >= 90 % of bandwidth, drops and their cause."""
    rates = record.rates_hz()
    with np.errstate(divide="ignore"):
        ceiling = np.where(record.t_ref_s > 0, 1.0 / record.t_ref_s, np.inf)
    frac = np.where(np.isfinite(ceiling), rates / ceiling, 0.0)
    sat_neurons = np.flatnonzero(frac >= SATURATION_FRACTION)
    util = record.link_utilisation()
    sat_links = np.argwhere(util >= LINK_SATURATION)
    pops = []
    offs = record.population_offsets
    for k, name in enumerate(record.population_names):
        lo, hi = int(offs[k]), int(offs[k + 1]) if k + 1 < offs.size else record.n_neurons
        if hi > lo:
            pops.append(
                {
                    "population": name,
                    "mean_rate_hz": float(rates[lo:hi].mean()),
                    "max_rate_hz": float(rates[lo:hi].max()),
                    "ceiling_hz": float(np.min(ceiling[lo:hi])),
                    "saturated_neurons": int(np.count_nonzero(frac[lo:hi] >= SATURATION_FRACTION)),
                }
            )
    drop_cause = None
    if record.drops:
        causes = ", ".join(f"{k}: {v}" for k, v in record.drops_by_cause.items() if v)
        drop_cause = f"full link buffers with dropping (backpressure = false) routers ({causes})"
    return {
        "neurons_saturated": int(sat_neurons.size),
        "neurons_saturated_fraction": sat_neurons.size / max(record.n_neurons, 1),
        "max_rate_fraction_of_ceiling": float(frac.max()) if frac.size else 0.0,
        "populations": pops,
        "links_saturated": [{"core": int(c), "direction": LINKS[d], "utilisation": float(util[c, d])} for c, d in sat_links],
        "drops": record.drops,
        "drop_cause": drop_cause,
    }
