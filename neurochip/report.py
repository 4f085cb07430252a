"""Reports of a run on a chip: energy, throughput, saturation; the run file they read.

A :class:`RunRecord` is what ``neurochip run`` writes: the chip, the mapping of neurons to cores,
the spike log and per-neuron counts, and the operation counts per core and per link.  The three
reports read it:

- **energy**: :func:`neurochip.energy.price` of the counts (dynamic by operation and by core,
  static, total, average power, energy per synaptic event), each term with its price and where
  that price comes from (the chip preset's source line, or the circuit fit);
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

import math
from typing import Any

import numpy as np

from .chip import ChipSpec
from .energy import EnergyReport, price
from .errors import InvalidParameterError
from .mesh import LINKS
from .run_record import RunRecord, record_run

__all__ = [
    "RunRecord",
    "record_run",
    "energy_report",
    "throughput_report",
    "saturation_report",
    "SATURATION_FRACTION",
    "execution_note",
    "LINK_SATURATION",
]

#: A neuron is called saturated when its rate is at least this fraction of 1/t_ref.
SATURATION_FRACTION = 0.9
#: A link is called saturated when it is busy at least this fraction of the time.
LINK_SATURATION = 0.9


def _count(value: float) -> int | float:
    """A count for JSON: an int when it is a whole number (always, for counted operations)."""
    v = float(value)
    return int(v) if v.is_integer() else v


def energy_report(record: RunRecord, *, cores_powered: str = "all") -> tuple[EnergyReport, dict[str, Any]]:
    """Price the run's counts: the EnergyReport and its dict (plus the used-core count).

    Parameters
    ----------
    record : RunRecord
        The run to price, on ``record.chip``'s energy table.
    cores_powered : {"all", "used"}
        Whether every core of the chip pays static power or only the cores holding neurons
        (the rest power-gated).

    Returns
    -------
    report : EnergyReport
        Energies in J, average power in W (see :func:`neurochip.energy.price`).
    data : dict of str to object
        ``report.to_dict()`` plus ``cores_used``, ``dynamic_fraction`` (dynamic / total energy,
        NaN when the total is 0) and ``external_events_unpriced``.  ``price_joule`` and
        ``price_source`` give each operation's price and where it comes from
        (:func:`neurochip.energy.price_sources`), ``price_source["static"]`` that of the static
        power.

    Raises
    ------
    InvalidParameterError
        If ``cores_powered`` is neither ``"all"`` nor ``"used"``.

    Notes
    -----
    .. math::

        E = \\sum_{op} N_{op} \\, e_{op} + P_{core} \\, n_p \\, T

    with :math:`n_p` all cores of the chip or the cores used.

    Examples
    --------
    The chain of :func:`neurochip.examples.chain_record` on four cores in a row (in 0.1 s: 20
    spikes, 15 synaptic events, 15 one-hop packets):

    >>> from neurochip.examples import chain_record
    >>> record = chain_record()
    >>> report, data = energy_report(record)
    >>> from neurochip.units import format_si
    >>> format_si(report.dynamic_joule, "J")  # 20 x 10 + 15 x (10 + 50) + 15 x 3 pJ
    '1.145 nJ'
    >>> format_si(report.static_joule, "J"), data["cores_used"]  # 50 µW x 4 cores x 0.1 s
    ('20 µJ', 4)
    >>> data["price_source"]["neuron_updates"].endswith("(chip 'generic', [sources] 'all')")
    True
    """
    if cores_powered not in ("all", "used"):
        raise InvalidParameterError.of("cores_powered", cores_powered, "must be 'all' or 'used'")
    used = int(np.unique(record.neuron_core).size)
    rep = price(record.counts, record.chip, cores_powered=None if cores_powered == "all" else used)
    out = rep.to_dict()
    out["counts"] = {op: _count(v) for op, v in out["counts"].items()}  # operation counts are whole numbers
    out["cores_used"] = used
    out["dynamic_fraction"] = rep.dynamic_joule / rep.total_joule if rep.total_joule > 0 else math.nan
    out["external_events_unpriced"] = record.external_events
    out["execution_model"] = execution_note(record.chip)
    return rep, out


def execution_note(chip: ChipSpec) -> dict[str, str]:
    """How a run of the event-driven emulator is counted on ``chip``, and whether that is how the
    chip runs.

    Parameters
    ----------
    chip : ChipSpec
        The chip of the run.

    Returns
    -------
    dict of str to str
        ``chip`` (the chip's own execution model), ``counted`` (``"event-driven"``) and ``note``:
        one sentence a report prints.
    """
    model = chip.execution.model
    if model == "time_stepped":
        note = (
            f"{chip.name} is time-stepped: this run was counted event-driven (one neuron update per input, "
            "no inactive updates, no time per step); `neurochip stepped` runs it as the chip does"
        )
    else:
        note = "asynchronous chip, counted event-driven: one neuron update per input, no inactive updates"
    return {"chip": model, "counted": "event-driven", "note": note}


def throughput_report(record: RunRecord, *, top: int = 5) -> dict[str, Any]:
    """Events per second of chip time and of wall time, link utilisation, hot spots.

    Parameters
    ----------
    record : RunRecord
        The run to report on.
    top : int
        Most hot links and hot cores listed, >= 0 (links and cores without traffic are left
        out).

    Returns
    -------
    dict of str to object
        JSON-ready: ``duration_s`` and ``wall_time_s`` (s); ``spikes``, ``synaptic_events``,
        ``packet_hops`` (counts); ``spikes_per_chip_s``, ``synaptic_events_per_chip_s``,
        ``synaptic_events_per_wall_s`` (Hz); ``real_time_factor`` (wall / chip time);
        ``link_bandwidth_hz``; ``link_utilisation_max`` and ``link_utilisation_mean``
        (:meth:`RunRecord.link_utilisation`); ``hot_links`` (core, xy, direction, utilisation,
        packets) and ``hot_cores`` (core, xy, synaptic_events_per_s), busiest first;
        ``drops``, ``routed``, ``latency_s`` and ``peak_queue_max`` (None unless routed).

    Examples
    --------
    The chain of :func:`neurochip.examples.chain_record` on four cores in a row (in 0.1 s: 20
    spikes, 15 synaptic events, 15 one-hop packets):

    >>> from neurochip.examples import chain_record
    >>> record = chain_record()
    >>> t = throughput_report(record, top=1)
    >>> t["synaptic_events_per_chip_s"], t["link_utilisation_max"]  # 5 packets / (1e8 Hz x 0.1 s)
    (150.0, 5e-07)
    >>> t["hot_links"][0]["packets"]
    5.0
    """
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
        {
            "core": int(c),
            "xy": [int(c % w), int(c // w)],
            "synaptic_events_per_s": float(per_core_events[c] / t),
        }
        for c in np.argsort(-per_core_events)[:top]
        if per_core_events[c] > 0
    ]
    return {
        "duration_s": t,
        "wall_time_s": record.wall_time_s,
        "spikes": _count(spikes),
        "synaptic_events": _count(syn),
        "packet_hops": _count(hops),
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
        "peak_queue_max": int(record.peak_queue.max())
        if record.peak_queue is not None and record.peak_queue.size
        else None,
    }


def saturation_report(record: RunRecord) -> dict[str, Any]:
    """Neurons within 10 % of 1/t_ref, links at >= 90 % of bandwidth, drops and their cause.

    Parameters
    ----------
    record : RunRecord
        The run to report on.

    Returns
    -------
    dict of str to object
        JSON-ready: ``neurons_saturated`` (rate >= :data:`SATURATION_FRACTION` / t_ref) and its
        fraction, ``max_rate_fraction_of_ceiling``; ``populations`` (name, ``mean_rate_hz``,
        ``max_rate_hz``, ``ceiling_hz``, ``saturated_neurons``); ``links_saturated`` (core,
        direction, utilisation >= :data:`LINK_SATURATION`); ``drops`` and ``drop_cause`` (None
        without drops).

    Notes
    -----
    Neuron :math:`i` is saturated when its rate :math:`r_i` is close to its ceiling, and link
    :math:`\\ell` when its utilisation :math:`u_\\ell` is close to 1:

    .. math::

        r_i \\, t_{ref,i} \\ge 0.9, \\qquad u_\\ell \\ge 0.9

    A neuron with :math:`t_{ref} = 0` has no ceiling and is never saturated.

    Examples
    --------
    The chain of :func:`neurochip.examples.chain_record` on four cores in a row (in 0.1 s: 20
    spikes, 15 synaptic events, 15 one-hop packets):

    >>> from neurochip.examples import chain_record
    >>> record = chain_record()
    >>> sat = saturation_report(record)
    >>> sat["max_rate_fraction_of_ceiling"], sat["neurons_saturated"]  # 50 Hz of 1 kHz
    (0.05, 0)
    >>> sat["populations"][0]["ceiling_hz"]
    1000.0
    """
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
        "links_saturated": [
            {"core": int(c), "direction": LINKS[d], "utilisation": float(util[c, d])} for c, d in sat_links
        ],
        "drops": record.drops,
        "drop_cause": drop_cause,
    }
