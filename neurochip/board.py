"""A network on a board of chips: map, emulate, and report inter-chip traffic and energy.

Two link models (``run_on_board(links=)``):

**Emulated** (``"emulated"``, the default on a mesh board): the board is routed as one mesh
whose chip-edge crossings are inter-chip channels, or (a graph board) through port cores
(:mod:`neurochip.board_links`): every packet
is serialised, queued, delayed and, on a lossy link, dropped by the engine's router, so the
spikes are those of the board.  The report's counts are the router's: on-chip hops on each
chip, crossings, queues, drops and latencies per channel.

**Counted** (``"counted"``, the default on a ``graph`` board): the emulator runs the network
once, unrouted; the inter-chip traffic is then computed from its spikes and the board mapping:
each spike of a neuron sends one packet to every other chip that holds one of its targets, and
that packet crosses every link of the chip route (:meth:`neurochip.system.SystemSpec.route`).
Inter-chip latency, serialisation, finite buffers and back-pressure are **not emulated yet**: a
link whose utilisation reaches 1 is reported as saturated, but the spikes are those of a board
whose links never delay anything.  The on-chip part is priced per chip by
:func:`neurochip.energy.price` from the counts of :func:`neurochip.energy.expected_counts` on the
chip's own synapses (exact, since the rates are the measured spike counts), plus the synaptic
events and neuron updates that packets from other chips cause on their target cores.  The
on-chip hops of an inter-chip packet (from its source core to the chip's edge, and from the
edge to its target cores) are not counted.

Energy split:

.. math::

    E = \\underbrace{E^{chip}_{dyn} + E^{chip}_{static}}_{\\text{on-chip}}
      + \\underbrace{N_{link} \\, e_{packet}}_{\\text{off-chip}}
      + \\underbrace{P_{port} \\, n_{ports} \\, T}_{\\text{interface static}}, \\qquad
    E_{overhead} = N_{link} \\, e_{packet} + P_{port} \\, n_{ports} \\, T

with :math:`N_{link}` the packet crossings of all inter-chip links.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .board_links import energy_split
from .board_mapping import BoardMapping, BoardMappingOptions, chip_packets, map_board
from .energy import OperationCounts, expected_counts, price
from .errors import InvalidParameterError
from .mapping import network_csr
from .system import SystemSpec, load_system

__all__ = ["run_on_board", "board_report", "NOT_EMULATED", "LINK_MODELS"]

#: How ``run_on_board`` treats the inter-chip links.
LINK_MODELS: tuple[str, ...] = ("auto", "emulated", "counted")

#: What the first stage does not model; every report carries it.
NOT_EMULATED = (
    "inter-chip link latency, serialisation, buffers and back-pressure are not emulated: spikes come from an "
    "unrouted run and the inter-chip packets are counted from them; on-chip hops of inter-chip packets are not counted"
)


def run_on_board(
    network: Any,
    system: SystemSpec | str | Path,
    *,
    duration_s: float,
    inputs: Sequence[Any] = (),
    seed: int = 0,
    board: BoardMapping | None = None,
    options: BoardMappingOptions | None = None,
    record_events: bool = True,
    links: str = "auto",
    shared: bool | None = None,
) -> tuple[BoardMapping, Any]:
    """Map ``network`` onto a board and emulate it (see the module notes for the link models).

    Parameters
    ----------
    network : Network
    system : SystemSpec or str or path
        A system spec, a preset name (``"nahuku"``) or a system TOML file.
    duration_s : float
        Chip time, s, > 0.
    inputs : sequence of stimuli
    seed : int
        Emulator seed.
    board : BoardMapping, optional
        A mapping of this network on this system (default: map now).
    options : BoardMappingOptions, optional
        Options of the mapping made here.
    record_events : bool
        Keep the spike log (the counted model's peak link utilisation needs it).
    links : {"auto", "emulated", "counted"}
        ``"emulated"``: every packet routed over the board; ``"counted"``: an unrouted run,
        inter-chip packets counted from its spikes; ``"auto"``: emulated on a mesh board,
        counted on a graph board (where the cores that hold a chip's links are an assumption,
        :func:`neurochip.board_links.graph_channels`).
    shared : bool, optional
        Emulated links: one channel per chip edge and direction (True) or one per edge router
        (False); default ``system.link.shared``.

    Returns
    -------
    board : BoardMapping
    result : neurochip.emulator.EmulationResult

    Raises
    ------
    MappingError
        When the network does not fit (naming the chip and capacity).
    InvalidParameterError
        For a mapping made for another network or system.
    """
    from .emulator import run as emulate

    system = system if isinstance(system, SystemSpec) else load_system(system)
    if board is None:
        board = map_board(network, system, options=options)
    elif board.n_neurons != network.n_neurons or board.system.name != system.name:
        raise InvalidParameterError(
            f"board: made for {board.n_neurons} neurons on {board.system.name!r}, but the run is "
            f"{network.n_neurons} neurons on {system.name!r}"
        )
    if links not in LINK_MODELS:
        raise InvalidParameterError.of("links", links, f"must be one of {LINK_MODELS}")
    if links == "auto":
        links = "emulated" if system.topology.kind == "mesh" else "counted"
    routing = None
    if links == "emulated":
        from .board_links import board_routing

        routing = board_routing(board, network, shared=shared)
    result = emulate(network, duration_s=duration_s, inputs=list(inputs), seed=seed, record=record_events,
                     mapping=routing)  # fmt: skip
    return board, result


def _chip_counts(board: BoardMapping, indptr: NDArray[np.int64], indices: NDArray[np.int32],
                 spikes: NDArray[np.float64], duration_s: float) -> list[OperationCounts | None]:  # fmt: skip
    """Per chip, the on-chip operation counts of the run."""
    n = board.n_neurons
    chip = board.system.chip
    pre = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    post = indices.astype(np.int64)
    nchip = board.neuron_chip
    out: list[OperationCounts | None] = []
    local_index = np.zeros(n, dtype=np.int64)
    for c, m in enumerate(board.chip_mappings):
        if m is None:
            out.append(None)
            continue
        members = board.chip_neurons[c]
        local_index[members] = np.arange(members.size)
        mask = (nchip[pre] == c) & (nchip[post] == c)
        lp, lq = local_index[pre[mask]], local_index[post[mask]]
        sub_indptr = np.zeros(members.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(lp, minlength=members.size), out=sub_indptr[1:])
        counts = expected_counts(m, sub_indptr, lq, spikes[members] / duration_s, duration_s)
        per_core = {k: v.copy() for k, v in counts.per_core.items()}
        remote = (nchip[pre] != c) & (nchip[post] == c)
        extra = np.bincount(board.neuron_core[post[remote]], weights=spikes[pre[remote]], minlength=chip.n_cores)
        per_core["synaptic_events"] = per_core["synaptic_events"] + extra
        per_core["neuron_updates"] = per_core["neuron_updates"] + extra
        out.append(OperationCounts(duration_s=duration_s, per_core=per_core))
    return out


def _peak_link_packets(board: BoardMapping, events: Any, duration_s: float, bin_s: float) -> NDArray[np.float64]:
    """Largest number of packets any bin of ``bin_s`` puts on each directed link."""
    from scipy import sparse

    system = board.system
    links = system.links()
    index = {link: i for i, link in enumerate(links)}
    n = board.n_neurons
    src = np.repeat(np.arange(n), np.diff(board.dest_indptr))
    rows, cols = [], []
    for s, d in set(zip(board.neuron_chip[src].tolist(), board.dest_chips.tolist())):
        path = system.route(s, d)
        ids = [index[(a, b)] for a, b in zip(path[:-1], path[1:])]
        senders = src[(board.neuron_chip[src] == s) & (board.dest_chips == d)]
        rows.append(np.repeat(senders, len(ids)))
        cols.append(np.tile(ids, senders.size))
    if not rows or len(events) == 0:
        return np.zeros(len(links))
    incidence = sparse.csr_matrix(
        (np.ones(sum(r.size for r in rows)), (np.concatenate(rows), np.concatenate(cols))), shape=(n, len(links))
    )
    n_bins = max(1, int(np.ceil(duration_s / bin_s)))
    b = np.minimum((events["time_s"] / bin_s).astype(np.int64), n_bins - 1)
    spikes = sparse.csr_matrix((np.ones(len(events)), (b, events["address"].astype(np.int64))), shape=(n_bins, n))
    per_bin = (spikes @ incidence).toarray()
    return per_bin.max(axis=0)


def board_report(
    board: BoardMapping,
    network: Any,
    result: Any,
    *,
    chips_powered: str = "all",
    bin_s: float | None = None,
) -> dict[str, Any]:
    """Inter-chip traffic, link utilisation and saturation, and the energy split of a run.

    Parameters
    ----------
    board : BoardMapping
        Where the neurons sit.
    network : Network
        The network that ran (its synapses give the on-chip counts).
    result : neurochip.emulator.EmulationResult
        The run (unrouted: :func:`run_on_board`).
    chips_powered : {"all", "used"}
        Which chips pay static power: every chip of the board, or those holding neurons.
    bin_s : float, optional
        Bin of the peak link utilisation, s, > 0 (default: duration / 100).  Needs the spike
        log; without it the peak is not reported.

    Returns
    -------
    dict of str to object
        JSON-ready, SI units in the key suffixes: ``system``, ``duration_s``, ``not_emulated``
        (what this stage leaves out), ``links`` (per directed link: ``from``, ``to``,
        ``packets``, ``rate_hz``, ``utilisation``, ``peak_utilisation``, ``saturated``,
        ``energy_joule``), ``chips`` (per chip: ``neurons``, ``spikes``, ``packets_out``,
        ``packets_in``, ``packets_through``, ``on_chip_dynamic_joule``,
        ``on_chip_static_joule``), ``inter_chip_packets`` (packets sent, one per destination
        chip), ``link_crossings``, ``mean_inter_chip_hops``, ``mean_inter_chip_latency_s``
        (hops x link latency, without queueing), ``energy`` (``on_chip_dynamic_joule``,
        ``on_chip_static_joule``, ``off_chip_joule``, ``interface_static_joule``,
        ``total_joule``, ``multichip_overhead_joule``, ``multichip_overhead_fraction``) and
        ``saturated_links``.

    Raises
    ------
    InvalidParameterError
        On a result of another size, or a bad ``chips_powered`` or ``bin_s``.

    Notes
    -----
    Utilisation of a link = packets x serialisation time / duration, with serialisation =
    ``packet_bits / bit_rate_hz``; a link is saturated when the run's mean or a bin's
    utilisation reaches 1.
    """
    system = board.system
    link = system.link
    duration = float(result.duration_s)
    if result.n_neurons != board.n_neurons:
        raise InvalidParameterError(f"result: {result.n_neurons} neurons, the board mapping has {board.n_neurons}")
    if chips_powered not in ("all", "used"):
        raise InvalidParameterError.of("chips_powered", chips_powered, "must be 'all' or 'used'")
    if bin_s is not None and not bin_s > 0:
        raise InvalidParameterError.of("bin_s", bin_s, "must be > 0")
    routing = getattr(result, "routing", None)
    if routing is not None and getattr(routing.mapping, "interchip", None) is not None:
        from .board_links import emulated_report

        return emulated_report(board, result, chips_powered=chips_powered)
    spikes = result.spike_counts.astype(np.float64)
    pairs, link_packets = chip_packets(board, spikes)
    hops = system.hop_matrix()
    links = system.links()
    util = link_packets * link.serialisation_s / duration
    events = getattr(result, "events", None)
    peak = None
    if events is not None and len(events):
        width = bin_s or duration / 100
        peak = _peak_link_packets(board, events, duration, width) * link.serialisation_s / width
    link_rows = []
    for i, (a, b) in enumerate(links):
        row = {
            "from": a, "to": b, "packets": float(link_packets[i]), "rate_hz": float(link_packets[i] / duration),
            "utilisation": float(util[i]), "energy_joule": float(link_packets[i] * link.packet_joule),
        }  # fmt: skip
        row["peak_utilisation"] = float(peak[i]) if peak is not None else None
        row["saturated"] = bool(util[i] >= 1.0 or (peak is not None and peak[i] >= 1.0))
        link_rows.append(row)

    indptr, indices = network_csr(network)
    counts = _chip_counts(board, indptr, indices, spikes, duration)
    chip_rows = []
    dyn = stat = 0.0
    for c, cnt in enumerate(counts):
        members = board.chip_neurons[c]
        if cnt is None:
            static = system.chip.energy.static_power_per_core_watt * system.chip.n_cores * duration if chips_powered == "all" else 0.0
            d_j = 0.0
        else:
            rep = price(cnt, system.chip)
            d_j, static = rep.dynamic_joule, rep.static_joule
        dyn += d_j
        stat += static
        through = sum(float(link_packets[i]) for i, (a, _b) in enumerate(links) if a == c) - float(pairs[c].sum())
        chip_rows.append({
            "chip": c, "neurons": int(members.size), "spikes": float(spikes[members].sum()),
            "packets_out": float(pairs[c].sum()), "packets_in": float(pairs[:, c].sum()),
            "packets_through": through, "on_chip_dynamic_joule": d_j, "on_chip_static_joule": static,
        })  # fmt: skip
    crossings = float(link_packets.sum())
    sent = float(pairs.sum())
    off = crossings * link.packet_joule
    iface = link.static_power_per_port_watt * len(links) * duration
    mean_hops = float(np.sum(pairs * hops) / sent) if sent else 0.0
    return {
        "system": system.name,
        "chip": system.chip.name,
        "duration_s": duration,
        "links_model": "counted",
        "not_emulated": NOT_EMULATED,
        "chips_used": board.chips_used,
        "inter_chip_packets": sent,
        "link_crossings": crossings,
        "mean_inter_chip_hops": mean_hops,
        "mean_inter_chip_latency_s": mean_hops * link.latency_s,
        "link_serialisation_s": link.serialisation_s,
        "link_packet_joule": link.packet_joule,
        "links": link_rows,
        "saturated_links": [[r["from"], r["to"]] for r in link_rows if r["saturated"]],
        "chips": chip_rows,
        "energy": energy_split(dyn, stat, off, iface),
    }
