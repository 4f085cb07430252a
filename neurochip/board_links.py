"""Emulated inter-chip links: a board of meshed chips as one routed mesh with inter-chip channels.

A board whose chips sit on a 2-D mesh (``topology.kind = "mesh"``) is routed as one mesh: the
chips' meshes side by side, ``board width x chip width`` cores along x.  A packet goes
dimension-order (XY) over that mesh, so it crosses chips X first, then Y, as
:meth:`neurochip.system.SystemSpec.route` does.  Each on-chip link that would cross a chip's
edge is replaced by an **inter-chip channel** with the system's link figures: latency
``link.latency_s``, serialisation ``packet_bits / bit_rate_hz``, a FIFO of ``buffer_depth``
packets, back-pressure or drops (``backpressure``).  With ``link.shared = true`` (default) one
channel per direction carries every crossing of a chip edge (the edge's routers merge into one
port, as off-chip interfaces serialise a chip's edge); with ``false`` every edge router has its
own channel (lanes), and a board whose channels have the on-chip hop's figures routes exactly
as one chip with as many cores.

The engine's router does the rest (``emulator/_router.pxi``): exact, deterministic, the same
in the reference backend.  One packet per (spike, destination core), as on one chip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .board_mapping import BoardMapping
from .chip import ChipSpec
from .errors import InvalidParameterError
from .mapping import network_csr
from .system import SystemSpec

__all__ = ["BoardRouting", "board_routing", "board_grid", "interchip_channels", "graph_channels", "emulated_report",
           "energy_split"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BoardRouting:
    """A board mapping as the engine's router takes it (``neurochip.emulator.run(mapping=)``).

    Attributes
    ----------
    chip : ChipSpec
        The board's mesh as one chip (``chip.with_mesh(board width, board height)``) with the
        on-chip router figures.
    n_neurons : int
    neuron_core : ndarray of int32
        Board-mesh core of every neuron.
    route_indptr : ndarray of int64, shape (n_neurons + 1,)
    route_cores : ndarray of int32
        Per neuron (CSR), the board-mesh cores holding its targets: one packet each per spike.
    core_chip, core_local : ndarray of int64, shape (n board cores,)
        Chip, and core on that chip, of every board-mesh core.
    channel_pair : ndarray of int64, shape (n_channels, 2)
        (from chip, to chip) of every inter-chip channel.
    channel_link : ndarray of int64, shape (n_channels,)
        Index of the channel's directed chip link in :meth:`SystemSpec.links`.
    interchip : dict or None
        The channel tables of the router (None: routed as one chip, no channel).
    system : SystemSpec
    """

    chip: ChipSpec
    n_neurons: int
    neuron_core: NDArray[np.int32]
    route_indptr: NDArray[np.int64]
    route_cores: NDArray[np.int32]
    core_chip: NDArray[np.int64]
    core_local: NDArray[np.int64]
    channel_pair: NDArray[np.int64]
    channel_link: NDArray[np.int64]
    system: SystemSpec
    interchip: dict[str, Any] | None = field(default=None)


def board_grid(system: SystemSpec) -> tuple[int, int, NDArray[np.int64], NDArray[np.int64]]:
    """The board as one routed mesh of cores.

    A mesh board's chips sit side by side (chip ``i`` at ``(i % width, i // width)``); a graph
    board's chips are stacked (core = chip x cores per chip + local core), their meshes joined
    only by the channels of :func:`graph_channels`.

    Parameters
    ----------
    system : SystemSpec

    Returns
    -------
    width, height : int
        Cores along x and y of the board's mesh.
    core_chip, core_local : ndarray of int64, shape (width * height,)
        Chip, and core on that chip, of every board-mesh core.
    """
    w, h = system.chip.mesh.width, system.chip.mesh.height
    if system.topology.kind != "mesh":
        g = np.arange(system.n_chips * w * h, dtype=np.int64)
        return w, h * system.n_chips, g // (w * h), g % (w * h)
    cw, ch = int(system.topology.width), int(system.topology.height)  # type: ignore[arg-type]
    W, H = cw * w, ch * h
    g = np.arange(W * H, dtype=np.int64)
    gx, gy = g % W, g // W
    core_chip = (gy // h) * cw + gx // w
    core_local = (gy % h) * w + gx % w
    return W, H, core_chip, core_local


def _link_figures(system: SystemSpec) -> dict[str, Any]:
    link = system.link
    return {
        "channel_latency_s": float(link.latency_s),
        "channel_serialisation_s": float(link.serialisation_s),
        "channel_buffer_depth": int(link.buffer_depth),
        "channel_backpressure": bool(link.backpressure),
    }


def graph_channels(system: SystemSpec) -> dict[str, Any]:
    """The router's tables of a graph board: one channel per directed chip link.

    Chip ``c`` talks to its ``k``-th neighbour (in index order) through its **port** core
    ``k * cores // degree`` (the ports spread over the chip; an assumption: a graph spec does not
    say where a chip's links leave it).  A packet for another chip goes XY on its chip to the
    port towards the next chip of :meth:`SystemSpec.route`, over the channel to that chip's
    port for the way back, and on from there.

    Parameters
    ----------
    system : SystemSpec
        A board whose topology is a graph.

    Returns
    -------
    dict
        ``core_chip``, ``n_chips``, ``graph_table`` (int64, board cores x chips: the link at each
        router towards each chip; -1 towards its own), ``channel_far``, ``channel_in_ptr`` /
        ``channel_in``, ``channel_feed_ptr`` / ``channel_feed``, ``channel_dir`` (zeros),
        ``channel_pair``, ``channel_link``, and the channel figures.
    """
    W, H, core_chip, core_local = board_grid(system)
    nc = system.chip.n_cores
    w = system.chip.mesh.width
    k = system.n_chips
    n = W * H
    n4 = 4 * n
    links = system.links()
    index = {pair: i for i, pair in enumerate(links)}
    nbrs = [sorted(b for a, b in links if a == c) for c in range(k)]

    def port(c: int, other: int) -> int:
        j = nbrs[c].index(other)
        return c * nc + (j * nc) // len(nbrs[c])

    far = np.array([port(b, a) for a, b in links], dtype=np.int64)
    table = np.full(n * k, -1, dtype=np.int64)
    for c in range(k):
        cores = np.arange(c * nc, (c + 1) * nc, dtype=np.int64)
        x0, y0 = (cores - c * nc) % w, (cores - c * nc) // w
        for d in range(k):
            if d == c:
                continue
            nxt = system.route(c, d)[1]
            p = port(c, nxt)
            px, py = (p - c * nc) % w, (p - c * nc) // w
            slot = np.where(px > x0, cores * 4, np.where(px < x0, cores * 4 + 1,
                            np.where(py > y0, cores * 4 + 2, cores * 4 + 3)))  # fmt: skip
            slot[cores == p] = n4 + index[(c, nxt)]
            table[cores * k + d] = slot
    order = np.argsort(far, kind="stable")
    cin_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(far, minlength=n), out=cin_ptr[1:])
    feed = np.array([port(a, b) for a, b in links], dtype=np.int64)
    return {
        "core_chip": core_chip,
        "n_chips": k,
        "graph_table": table,
        "channel_far": far,
        "channel_in_ptr": cin_ptr,
        "channel_in": (order + n4).astype(np.int64),
        "channel_feed_ptr": np.arange(len(links) + 1, dtype=np.int64),
        "channel_feed": feed,
        "channel_dir": np.zeros(len(links), dtype=np.int64),
        "channel_pair": np.array(links, dtype=np.int64).reshape(-1, 2),
        "channel_link": np.arange(len(links), dtype=np.int64),
        **_link_figures(system),
    }


def interchip_channels(system: SystemSpec, *, shared: bool | None = None) -> dict[str, Any]:
    """The router's channel tables of a mesh board.

    Parameters
    ----------
    system : SystemSpec
    shared : bool, optional
        One channel per directed chip edge (True) or one per edge router (False); default
        ``system.link.shared``.

    Returns
    -------
    dict
        ``link_map`` (int64, 4 x board cores: every on-chip link slot's link id), ``channel_dir``,
        ``channel_feed_ptr``/``channel_feed`` (the routers each channel serves, CSR),
        ``channel_pair`` (n_channels x 2), ``channel_link``, and the channel figures
        ``channel_latency_s``, ``channel_serialisation_s``, ``channel_buffer_depth``,
        ``channel_backpressure``.
    """
    if system.topology.kind != "mesh":
        raise InvalidParameterError(f"system {system.name!r}: topology.kind = {system.topology.kind!r}: "
                                    "edge channels are of a mesh board (a graph board: graph_channels)")  # fmt: skip
    W, H, core_chip, _ = board_grid(system)
    shared = system.link.shared if shared is None else bool(shared)
    n = W * H
    n4 = 4 * n
    link_map = np.arange(n4, dtype=np.int64)
    g = np.arange(n, dtype=np.int64)
    gx, gy = g % W, g // W
    index = {pair: i for i, pair in enumerate(system.links())}
    chan_of: dict[Any, int] = {}
    cdir: list[int] = []
    pairs: list[tuple[int, int]] = []
    feeders: list[list[int]] = []
    for d, (dx, dy) in enumerate(((1, 0), (-1, 0), (0, 1), (0, -1))):
        ok = (gx + dx >= 0) & (gx + dx < W) & (gy + dy >= 0) & (gy + dy < H)
        src = g[ok]
        nb = src + dx + dy * W
        cross = core_chip[src] != core_chip[nb]
        for s, t in zip(src[cross].tolist(), nb[cross].tolist()):
            a, b = int(core_chip[s]), int(core_chip[t])
            key: Any = (a, b) if shared else (s, d)
            c = chan_of.get(key)
            if c is None:
                c = chan_of[key] = len(cdir)
                cdir.append(d)
                pairs.append((a, b))
                feeders.append([])
            feeders[c].append(s)
            link_map[s * 4 + d] = n4 + c
    feed_ptr = np.zeros(len(cdir) + 1, dtype=np.int64)
    feed_ptr[1:] = np.cumsum([len(f) for f in feeders])
    pair_arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return {
        "link_map": link_map,
        "channel_dir": np.array(cdir, dtype=np.int64),
        "channel_feed_ptr": feed_ptr,
        "channel_feed": np.array([s for f in feeders for s in f], dtype=np.int64),
        "channel_pair": pair_arr,
        "channel_link": np.array([index[(int(a), int(b))] for a, b in pair_arr], dtype=np.int64),
        **_link_figures(system),
    }


def board_routing(board: BoardMapping, network: Any, *, shared: bool | None = None, channels: bool = True) -> BoardRouting:
    """The routing input of a board mapping: every neuron on its board-mesh core, its packets'
    destination cores, and the inter-chip channels.

    Parameters
    ----------
    board : BoardMapping
        Where the neurons sit (:func:`neurochip.board_mapping.map_board`).
    network : Network
        The network mapped (its synapses give the destinations).
    shared : bool, optional
        See :func:`interchip_channels`.
    channels : bool
        False: no channel at all, the board routed as one chip with as many cores (the
        consistency reference).

    Returns
    -------
    BoardRouting
    """
    system = board.system
    W, H, core_chip, core_local = board_grid(system)
    w = system.chip.mesh.width
    h = system.chip.mesh.height
    mesh = system.topology.kind == "mesh"
    if mesh:
        cw = int(system.topology.width)  # type: ignore[arg-type]
        cx = board.neuron_chip.astype(np.int64) % cw
        cy = board.neuron_chip.astype(np.int64) // cw
        lx = board.neuron_core.astype(np.int64) % w
        ly = board.neuron_core.astype(np.int64) // w
        gcore = (cy * h + ly) * W + cx * w + lx
    else:
        gcore = board.neuron_chip.astype(np.int64) * (w * h) + board.neuron_core
    indptr, indices = network_csr(network)
    n = board.n_neurons
    if indptr.size != n + 1:
        raise InvalidParameterError(f"board: mapped {n} neurons, the network has {indptr.size - 1}")
    ncores = W * H
    # per neuron, its distinct destination cores (sorted): a key per synapse, made unique
    pre = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    key = pre * ncores + gcore[indices]
    del pre
    key = np.unique(key)
    src = key // ncores
    dest = (key % ncores).astype(np.int32)
    del key
    route_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=route_indptr[1:])
    if not channels:
        ic = None
    elif mesh:
        ic = interchip_channels(system, shared=shared)
    else:
        ic = graph_channels(system)
    pair = ic.pop("channel_pair") if ic else np.zeros((0, 2), np.int64)
    clink = ic.pop("channel_link") if ic else np.zeros(0, np.int64)
    return BoardRouting(
        chip=system.chip.with_mesh(W, H),
        n_neurons=n,
        neuron_core=gcore.astype(np.int32),
        route_indptr=route_indptr,
        route_cores=dest,
        core_chip=core_chip,
        core_local=core_local,
        channel_pair=pair,
        channel_link=clink,
        system=system,
        interchip=ic,
    )


def emulated_report(board: BoardMapping, result: Any, *, chips_powered: str = "all") -> dict[str, Any]:
    """The board report of a run with emulated links (:func:`neurochip.board.board_report`).

    Parameters
    ----------
    board : BoardMapping
    result : neurochip.emulator.EmulationResult
        A run with emulated links (:func:`neurochip.board.run_on_board`).
    chips_powered : {"all", "used"}
        Which chips pay static power.

    Returns
    -------
    dict of str to object
        JSON-ready; see below.

    The same keys as the counted report, from the router's own counts, plus per link
    ``offered_packets`` (packets whose route crosses it, from the spikes), ``lanes``,
    ``peak_queue``, ``drops`` and ``busy_s``, and ``packet_latency_mean_s`` /
    ``packet_latency_max_s`` / ``drops`` / ``end_state`` of the whole run.  A link is saturated
    when it was busy 95 % of the run or more, or dropped a packet.
    """
    from .energy import OperationCounts, price

    routing = result.routing
    br: BoardRouting = routing.mapping
    system = board.system
    link = system.link
    chip = system.chip
    duration = float(result.duration_s)
    nchips = system.n_chips
    links = system.links()
    ch = routing.per_channel
    # per chip and core, the router's counts (board-mesh core -> chip, local core)
    idx = np.empty((nchips, chip.n_cores), dtype=np.int64)
    idx[br.core_chip, br.core_local] = np.arange(br.core_chip.size)
    counts = routing.operation_counts()
    spikes = result.spike_counts.astype(np.float64)
    # packets sent to other chips, per chip pair, from the spikes and the routes
    src = np.repeat(np.arange(br.n_neurons), np.diff(br.route_indptr))
    a = board.neuron_chip[src].astype(np.int64)
    b = br.core_chip[br.route_cores]
    pairs = np.zeros((nchips, nchips))
    np.add.at(pairs, (a, b), spikes[src])
    np.fill_diagonal(pairs, 0.0)
    from .board_mapping import pair_link_loads

    offered = pair_link_loads(system, pairs)
    link_rows = []
    carried = np.zeros(len(links))
    for i, (fa, fb) in enumerate(links):
        sel = br.channel_link == i
        lanes = int(np.count_nonzero(sel))
        pk = int(ch["packets"][sel].sum()) if lanes else 0
        carried[i] = pk
        busy = float(ch["busy_s"][sel].sum()) if lanes else 0.0
        drops = int(ch["drops_buffer_full"][sel].sum() + ch["drops_injection"][sel].sum()) if lanes else 0
        util = busy / (duration * lanes) if lanes else 0.0
        link_rows.append({
            "from": fa, "to": fb, "lanes": lanes, "offered_packets": int(round(offered[i])), "packets": pk,
            "rate_hz": pk / duration, "busy_s": busy, "utilisation": util, "peak_utilisation": None,
            "peak_queue": int(ch["peak_queue"][sel].max()) if lanes else 0, "drops": drops,
            "saturated": bool(util >= 0.95 or drops > 0), "energy_joule": pk * link.packet_joule,
        })  # fmt: skip
    chip_rows = []
    dyn = stat = 0.0
    for c in range(nchips):
        members = board.chip_neurons[c]
        per = {k: np.asarray(v)[idx[c]] for k, v in counts.per_core.items()}
        used = members.size > 0
        if not used and chips_powered == "used":
            d_j, static = 0.0, 0.0
        else:
            rep = price(OperationCounts(duration_s=duration, per_core=per), chip)
            d_j, static = rep.dynamic_joule, rep.static_joule
        dyn += d_j
        stat += static
        out_c = sum(carried[i] for i, (fa, _b) in enumerate(links) if fa == c)
        chip_rows.append({
            "chip": c, "neurons": int(members.size), "spikes": int(spikes[members].sum()),
            "packets_out": int(pairs[c].sum()), "packets_in": int(pairs[:, c].sum()),
            "packets_through": int(out_c - pairs[c].sum()), "on_chip_dynamic_joule": d_j,
            "on_chip_static_joule": static,
        })  # fmt: skip
    crossings = int(ch["packets"].sum()) if ch else 0
    sent = int(pairs.sum())
    off = crossings * link.packet_joule
    iface = link.static_power_per_port_watt * len(links) * duration
    hops = system.hop_matrix()
    mean_hops = float(np.sum(pairs * hops) / sent) if sent else 0.0
    n_lat = routing.packets_delivered
    return {
        "system": system.name,
        "chip": chip.name,
        "duration_s": duration,
        "links_model": "emulated",
        "links_shared": bool(br.channel_link.size == len(links) or not br.channel_link.size),
        "not_emulated": "",
        "chips_used": board.chips_used,
        "inter_chip_packets": sent,
        "link_crossings": crossings,
        "mean_inter_chip_hops": mean_hops,
        "mean_inter_chip_latency_s": mean_hops * link.latency_s,
        "packet_latency_mean_s": float(routing.latency_mean_s) if n_lat else None,
        "packet_latency_max_s": float(routing.latency_max_s) if n_lat else None,
        "link_serialisation_s": link.serialisation_s,
        "link_packet_joule": link.packet_joule,
        "drops": int(routing.drops),
        "end_state": dict(routing.end_state),
        "links": link_rows,
        "saturated_links": [[r["from"], r["to"]] for r in link_rows if r["saturated"]],
        "chips": chip_rows,
        "energy": energy_split(dyn, stat, off, iface),
    }


def energy_split(on_chip_dynamic: float, on_chip_static: float, off_chip: float, interface_static: float) -> dict[str, float]:
    """The energy of a board run in its parts, with the multi-chip overhead and its share.

    Parameters
    ----------
    on_chip_dynamic, on_chip_static : float
        Energy of the chips' operations and of their static power, J.
    off_chip : float
        Energy of the packets on the inter-chip links, J.
    interface_static : float
        Static energy of the link interfaces, J.

    Returns
    -------
    dict of str to float
        The four parts, ``total_joule``, ``multichip_overhead_joule`` (off-chip + interface
        static) and ``multichip_overhead_fraction`` (of the total; 0 when the total is 0).
    """
    total = on_chip_dynamic + on_chip_static + off_chip + interface_static
    overhead = off_chip + interface_static
    return {
        "on_chip_dynamic_joule": on_chip_dynamic,
        "on_chip_static_joule": on_chip_static,
        "off_chip_joule": off_chip,
        "interface_static_joule": interface_static,
        "total_joule": total,
        "multichip_overhead_joule": overhead,
        "multichip_overhead_fraction": overhead / total if total > 0 else 0.0,
    }
