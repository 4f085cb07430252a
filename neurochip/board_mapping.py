"""Hierarchical mapping of a network onto a board of chips: chips first, then cores.

1. **Blocks.**  Each population is cut into contiguous blocks of at most ``block_neurons``
   neurons (default: one core's worth).  Blocks are what the board partitioner moves.
2. **Chips.**  The block graph weighs block ``a`` -> block ``b`` by the packets a spike round
   sends (the neurons of ``a`` with at least one target in ``b``, times their rates when given).
   Blocks are first packed onto chips in board order (a serpentine over a mesh, breadth-first
   over a graph) under each chip's neuron and fan-in capacity, then refined by greedy moves and
   pair swaps, each taken only if it lowers the hop-weighted inter-chip traffic

   .. math::

       J = \\sum_{a \\ne b} W_{ab} \\, h(\\mathrm{chip}(a), \\mathrm{chip}(b))

   with the gains of Kernighan and Lin (a swap's gain is the two move gains minus
   :math:`2 S_{ab} h`), but without their tentative negative moves: a local optimum.
3. **Cores.**  Each chip's neurons and the synapses among them are mapped with
   :func:`neurochip.mapping.map_synapses`; then the synapses arriving from other chips are
   added to their target cores (fan-in, input axons) and the remote destinations to the source
   cores' routing tables (one entry per remote destination core), and every capacity is checked
   again.  The on-chip mapper sees the synapses from other chips as self-loops of their
   targets, so it balances each core's whole fan-in; its routing-table and input-axon counts
   see them too (one extra entry per such neuron at most), so a chip that is nearly full on
   those two capacities may be refused although it fits.  The routes are then rebuilt from the
   local synapses alone.

A spike of a neuron sends one packet to every other chip that holds one of its targets; the
packet follows the board's chip route (:meth:`neurochip.system.SystemSpec.route`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import InvalidParameterError, MappingError
from .mapping import _ENTRY_WORDS, Mapping, MappingOptions, map_synapses, network_csr
from .mesh import link_loads
from .system import SystemSpec

__all__ = ["BoardMappingOptions", "BoardMapping", "map_board", "map_board_synapses", "chip_packets", "pair_link_loads",
           "PARTITIONERS"]

#: Board partitioners: ``"greedy"`` (packing, then improving moves and swaps) and ``"block"``
#: (the packing alone, a baseline).
PARTITIONERS: tuple[str, ...] = ("greedy", "block")


@dataclass(frozen=True, slots=True, kw_only=True)
class BoardMappingOptions:
    """Knobs of the board mapper.

    Parameters
    ----------
    partitioner : {"greedy", "block"}
        ``"greedy"``: board-order packing refined by improving moves and swaps; ``"block"``:
        the packing only.
    block_neurons : int, optional
        Neurons per block, >= 1 (default: the chip's neurons per core).
    fill : float
        Fraction of each chip's neuron and fan-in capacity the board partitioner may use, in
        (0, 1]; below 1 leaves the on-chip mapper room.
    max_moves : int
        Improving moves and swaps the refinement may take, >= 0.
    chip_options : MappingOptions, optional
        Options of each chip's core mapping.

    Raises
    ------
    InvalidParameterError
        On an unknown partitioner or an out-of-range value.

    Examples
    --------
    >>> BoardMappingOptions(fill=0.9).partitioner
    'greedy'
    >>> BoardMappingOptions(fill=0)
    Traceback (most recent call last):
    ...
    neurochip.errors.InvalidParameterError: fill = 0: must be in (0, 1]
    """

    partitioner: str = "greedy"
    block_neurons: int | None = None
    fill: float = 1.0
    max_moves: int = 10_000
    chip_options: MappingOptions | None = None

    def __post_init__(self) -> None:
        if self.partitioner not in PARTITIONERS:
            raise InvalidParameterError.of("partitioner", self.partitioner, f"must be one of {PARTITIONERS}")
        if self.block_neurons is not None and (not isinstance(self.block_neurons, int) or self.block_neurons < 1):
            raise InvalidParameterError.of("block_neurons", self.block_neurons, "must be an integer >= 1")
        if not 0 < self.fill <= 1:
            raise InvalidParameterError.of("fill", self.fill, "must be in (0, 1]")
        if not isinstance(self.max_moves, int) or self.max_moves < 0:
            raise InvalidParameterError.of("max_moves", self.max_moves, "must be an integer >= 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class BoardMapping:
    """A network placed on a board (made by :func:`map_board`).

    Attributes
    ----------
    system : SystemSpec
    neuron_chip : ndarray of int32, shape (n_neurons,)
        Chip of each neuron.
    neuron_core : ndarray of int32, shape (n_neurons,)
        Core (mesh index on its chip) of each neuron.
    chip_neurons : tuple of ndarray of int64
        Per chip, the global indices of its neurons (sorted); empty for an unused chip.
    chip_mappings : tuple of (Mapping or None)
        Per chip, the on-chip mapping of its neurons and of the synapses among them (its
        capacity arrays do not include the synapses from other chips; see ``core_*`` below).
    core_fan_in, core_fan_out, core_axons_in : ndarray of int64, shape (n_chips, n_cores)
        Per chip and core, everything included: local and remote synapses, routing entries to
        local and remote cores, input axons from local and remote neurons.
    dest_indptr : ndarray of int64, shape (n_neurons + 1,)
    dest_chips : ndarray of int32
        Per neuron (CSR), the other chips that hold one of its targets: one packet per spike to
        each.
    chip_traffic : ndarray of float64, shape (n_chips, n_chips)
        Packets from chip to chip per second (with rates) or per spike round (without).
    rates_given : bool
    cost : float
        Hop-weighted inter-chip traffic :math:`\\sum_{s,d} T_{sd} h_{sd}` of the mapping.
    cost_packed : float
        The same for the packing before refinement.
    n_synapses, n_synapses_crossing_chips : int
    wall_s : float
    """

    system: SystemSpec
    neuron_chip: NDArray[np.int32]
    neuron_core: NDArray[np.int32]
    chip_neurons: tuple[NDArray[np.int64], ...]
    chip_mappings: tuple[Mapping | None, ...]
    core_fan_in: NDArray[np.int64]
    core_fan_out: NDArray[np.int64]
    core_axons_in: NDArray[np.int64]
    dest_indptr: NDArray[np.int64]
    dest_chips: NDArray[np.int32]
    chip_traffic: NDArray[np.float64]
    rates_given: bool
    cost: float
    cost_packed: float
    n_synapses: int
    n_synapses_crossing_chips: int
    wall_s: float

    @property
    def n_neurons(self) -> int:
        """Neurons mapped."""
        return int(self.neuron_chip.size)

    @property
    def chips_used(self) -> int:
        """Chips holding at least one neuron."""
        return sum(1 for c in self.chip_neurons if c.size)

    def report(self) -> dict[str, Any]:
        """The board mapping report (JSON-ready).

        Returns
        -------
        dict of str to object
            ``system``, ``chip``, ``n_chips``, ``chips_used``, ``n_neurons``, ``n_synapses``,
            ``fraction_synapses_crossing_chips``, ``inter_chip_cost`` and
            ``inter_chip_cost_packed`` (hop-weighted packets per second or per spike round),
            ``rates_given``, and ``chips``: per used chip its neurons, cores used and the
            largest utilisation of each core capacity.
        """
        core = self.system.chip.core
        chips = []
        for c, m in enumerate(self.chip_mappings):
            if m is None:
                continue
            util = {
                "neurons": float(m.core_neurons.max() / core.neurons),
                "fan_in": float(self.core_fan_in[c].max() / core.fan_in),
                "fan_out": float(self.core_fan_out[c].max() / core.fan_out),
            }
            if core.axons_in is not None:
                util["axons_in"] = float(self.core_axons_in[c].max() / core.axons_in)
            chips.append({"chip": c, "neurons": int(self.chip_neurons[c].size), "cores_used": m.cores_used,
                          "utilisation_max": util})  # fmt: skip
        return {
            "system": self.system.name,
            "chip": self.system.chip.name,
            "n_chips": self.system.n_chips,
            "chips_used": self.chips_used,
            "n_neurons": self.n_neurons,
            "n_synapses": self.n_synapses,
            "fraction_synapses_crossing_chips": self.n_synapses_crossing_chips / self.n_synapses if self.n_synapses else 0.0,
            "inter_chip_cost": self.cost,
            "inter_chip_cost_packed": self.cost_packed,
            "rates_given": self.rates_given,
            "wall_s": self.wall_s,
            "chips": chips,
        }


def _board_order(system: SystemSpec) -> list[int]:
    """Chips in packing order: a serpentine over a mesh (neighbours stay adjacent), else BFS."""
    topo = system.topology
    if topo.kind == "mesh":
        w, h = topo.width, topo.height
        return [y * w + (x if y % 2 == 0 else w - 1 - x) for y in range(h) for x in range(w)]  # type: ignore[arg-type, operator]
    hops = system.hop_matrix()
    return [int(i) for i in np.lexsort((np.arange(system.n_chips), hops[0]))]


def _blocks(sizes: list[int], block: int) -> NDArray[np.int64]:
    """Block index of every neuron: each population cut into chunks of at most ``block``."""
    out = []
    b = 0
    for size in sizes:
        k = max(1, math.ceil(size / block))
        edges = np.linspace(0, size, k + 1).round().astype(np.int64)
        out.append(b + np.repeat(np.arange(k), np.diff(edges)))
        b += k
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def _dest_sets(indptr: NDArray[np.int64], post_group: NDArray[np.int64], k: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Distinct (pre neuron, post group) pairs as two arrays (pre sorted, then group)."""
    n = indptr.size - 1
    pre = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    keys = np.unique(pre * k + post_group)
    return keys // k, keys % k


def _chip_traffic(
    indptr: NDArray[np.int64], indices: NDArray[np.int32], neuron_chip: NDArray[Any], k: int, rates: NDArray[np.float64] | None
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """(neuron, other destination chip) pairs and the chip-to-chip packets per spike round (or /s)."""
    dsrc, dchip = _dest_sets(indptr, np.asarray(neuron_chip, dtype=np.int64)[indices], k)
    keep = neuron_chip[dsrc] != dchip
    dsrc, dchip = dsrc[keep], dchip[keep]
    traffic = np.zeros((k, k))
    np.add.at(traffic, (np.asarray(neuron_chip)[dsrc], dchip), rates[dsrc] if rates is not None else 1.0)
    return dsrc, dchip, traffic


def _refine(
    w: NDArray[np.float64],
    chip_of: NDArray[np.int64],
    hops: NDArray[np.int64],
    load: NDArray[np.float64],
    cap: NDArray[np.float64],
    size: NDArray[np.float64],
    max_moves: int,
) -> NDArray[np.int64]:
    """Greedy moves and swaps of blocks between chips while they lower the hop-weighted cost.

    ``load`` (n_chips, 2) and ``size`` (n_blocks, 2) are neurons and fan-in; ``cap`` (2,).
    """
    n_blocks, k = w.shape[0], hops.shape[0]
    s = w + w.T
    np.fill_diagonal(s, 0.0)
    chip_of = chip_of.copy()
    load = load.copy()
    conn = np.zeros((n_blocks, k))  # conn[a, c]: traffic between block a and the blocks on chip c
    for c in range(k):
        conn[:, c] = s[:, chip_of == c].sum(axis=1)
    hf = hops.astype(np.float64)
    idx = np.arange(n_blocks)
    tol = 1e-9 * max(1.0, float(s.sum()))
    for _ in range(max_moves):
        m = conn @ hf  # m[a, q]: cost of block a's edges if a sat on chip q
        here = m[idx, chip_of]
        gain = here[:, None] - m  # gain of moving a to q
        room = np.all(load[None, :, :] + size[:, None, :] <= cap[None, None, :] + 1e-9, axis=2)
        room[idx, chip_of] = False
        move_gain = np.where(room, gain, -np.inf)
        a, q = np.unravel_index(int(np.argmax(move_gain)), move_gain.shape)
        if move_gain[a, q] > tol:
            best = ("move", int(a), int(q))
        else:
            best = None
            if n_blocks <= 4000:
                pa, pb = chip_of[:, None], chip_of[None, :]
                swap = gain[idx[:, None], pb] + gain[idx[None, :], pa] - 2.0 * s * hf[pa, pb]
                swap[pa == pb] = -np.inf
                order = np.argsort(swap, axis=None)[::-1]
                for flat in order[: 64 * n_blocks]:
                    if swap.flat[flat] <= tol:
                        break
                    x, y = divmod(int(flat), n_blocks)
                    cx, cy = chip_of[x], chip_of[y]
                    if np.all(load[cx] - size[x] + size[y] <= cap + 1e-9) and np.all(load[cy] - size[y] + size[x] <= cap + 1e-9):
                        best = ("swap", x, y)
                        break
        if best is None:
            break
        moves = [(best[1], best[2])] if best[0] == "move" else [(best[1], int(chip_of[best[2]])), (best[2], int(chip_of[best[1]]))]
        for blk, target in moves:
            src = chip_of[blk]
            conn[:, src] -= s[:, blk]
            conn[:, target] += s[:, blk]
            load[src] -= size[blk]
            load[target] += size[blk]
            chip_of[blk] = target
    return chip_of


def _board_overflow(system: SystemSpec, capacity: str, required: float, available: float, where: str) -> MappingError:
    return MappingError(
        f"network does not fit system {system.name!r}: {capacity} {where}needs {required:g}, has {available:g} "
        f"(over by {required - available:g})",
        capacity=capacity,
        required=required,
        available=available,
    )


def map_board_synapses(
    indptr: ArrayLike,
    indices: ArrayLike,
    system: SystemSpec,
    *,
    population_sizes: list[int] | None = None,
    rates_hz: ArrayLike | None = None,
    options: BoardMappingOptions | None = None,
    neuron_names: Any = None,
) -> BoardMapping:
    """Map a pre -> post CSR synapse matrix onto a board: chips first, then cores.

    Parameters
    ----------
    indptr, indices : array_like of int
        Row pointer (n_neurons + 1,) and post-synaptic neuron of every synapse.
    system : SystemSpec
        The board.
    population_sizes : list of int, optional
        Sizes of the populations in index order; blocks never straddle two (default: one).
    rates_hz : array_like of float, shape (n_neurons,), optional
        Expected rates, Hz; the traffic is then in packets/s.
    options : BoardMappingOptions, optional
    neuron_names : callable, optional
        ``name(i) -> str`` for error messages.

    Returns
    -------
    BoardMapping

    Raises
    ------
    MappingError
        Naming the chip, core and capacity that overflowed (or the whole board).

    Examples
    --------
    Two rings of four neurons on two chips of 2 x 1 cores of 2 neurons: each ring gets a chip.

    >>> from neurochip.chip import CoreSpec, MeshSpec, load_chip
    >>> from neurochip.system import LinkSpec, SystemSpec, TopologySpec
    >>> chip = load_chip("generic").replace(mesh=MeshSpec(width=2, height=1),
    ...                                     core=CoreSpec(neurons=2, fan_in=8, fan_out=8))
    >>> link = LinkSpec(latency_s=1e-7, bit_rate_hz=1e9, packet_bits=32, buffer_depth=8,
    ...                 energy_per_packet_joule=1e-10)
    >>> board = SystemSpec(name="two", chip=chip, n_chips=2,
    ...                    topology=TopologySpec(kind="mesh", width=2, height=1), link=link)
    >>> indptr, indices = [0, 1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 0, 5, 6, 7, 4]
    >>> bm = map_board_synapses(indptr, indices, board, population_sizes=[4, 4])
    >>> bm.neuron_chip.tolist(), bm.cost
    ([0, 0, 0, 0, 1, 1, 1, 1], 0.0)
    """
    t0 = time.perf_counter()
    opts = options or BoardMappingOptions()
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int32)
    n = indptr.size - 1
    if n < 1:
        raise InvalidParameterError("indptr: the network has no neurons")
    sizes = list(population_sizes) if population_sizes is not None else [n]
    if sum(sizes) != n:
        raise InvalidParameterError(f"population_sizes: sum {sum(sizes)}, expected {n} neurons")
    rates = None
    if rates_hz is not None:
        rates = np.ascontiguousarray(rates_hz, dtype=np.float64)
        if rates.shape != (n,) or np.any(~np.isfinite(rates)) or np.any(rates < 0):
            raise InvalidParameterError(f"rates_hz: need {n} finite rates >= 0, got shape {rates.shape}")
    name = neuron_names or (lambda i: f"neuron {i}")
    chip = system.chip
    core = chip.core
    k = system.n_chips
    hops = system.hop_matrix()
    in_degree = np.bincount(indices, minlength=n).astype(np.int64)
    n_syn = int(indices.size)

    if core.fan_in_per_neuron is not None and n_syn and in_degree.max() > core.fan_in_per_neuron:
        worst = int(np.argmax(in_degree))
        raise MappingError(
            f"network does not fit system {system.name!r}: fan_in_per_neuron of {name(worst)} is {in_degree[worst]} "
            f"synapses, a neuron holds {core.fan_in_per_neuron} (over by {in_degree[worst] - core.fan_in_per_neuron})",
            capacity="fan_in_per_neuron", required=float(in_degree[worst]), available=float(core.fan_in_per_neuron),
        )  # fmt: skip
    if n_syn and in_degree.max() > core.fan_in:
        worst = int(np.argmax(in_degree))
        raise MappingError(
            f"network does not fit system {system.name!r}: fan_in of {name(worst)} is {in_degree[worst]} synapses, "
            f"more than a whole core holds ({core.fan_in}; over by {in_degree[worst] - core.fan_in})",
            capacity="fan_in", required=float(in_degree[worst]), available=float(core.fan_in),
        )  # fmt: skip
    cap = np.array([math.floor(opts.fill * chip.neuron_capacity), math.floor(opts.fill * chip.n_cores * core.fan_in)], float)
    if n > cap[0] * k:
        raise _board_overflow(system, "neurons", n, cap[0] * k, f"(whole board of {k} chips) ")
    if n_syn > cap[1] * k:
        raise _board_overflow(system, "fan_in", n_syn, cap[1] * k, f"(whole board of {k} chips) ")

    # 1. blocks and their traffic graph
    block_of = _blocks(sizes, opts.block_neurons or core.neurons)
    n_blocks = int(block_of.max()) + 1
    pre_b, post_b = _dest_sets(indptr, block_of[indices], n_blocks)
    weight = rates[pre_b] if rates is not None else np.ones(pre_b.size)
    w = np.zeros((n_blocks, n_blocks))
    np.add.at(w, (block_of[pre_b], post_b), weight)
    np.fill_diagonal(w, 0.0)
    size = np.stack([np.bincount(block_of, minlength=n_blocks), np.bincount(block_of, weights=in_degree, minlength=n_blocks)], axis=1).astype(float)

    # 2. pack in board order, then refine
    order = _board_order(system)
    chip_of = np.zeros(n_blocks, dtype=np.int64)
    load = np.zeros((k, 2))
    slot = 0
    for b in range(n_blocks):
        while slot < k and np.any(load[order[slot]] + size[b] > cap + 1e-9):
            slot += 1
        if slot == k:
            j = int(np.argmax(size[b] / cap))
            what, need = ("neurons", "fan_in")[j], float(size[:, j].sum())
            members = np.flatnonzero(block_of == b)
            raise _board_overflow(
                system, what, need, cap[j] * k,
                f"(packing blocks of up to {opts.block_neurons or core.neurons} neurons onto {k} chips left "
                f"{name(int(members[0]))}..{name(int(members[-1]))} without a chip; a smaller block_neurons packs "
                "tighter) ",
            )  # fmt: skip
        chip_of[b] = order[slot]
        load[order[slot]] += size[b]
    cost_packed = float(np.sum(_chip_traffic(indptr, indices, chip_of[block_of], k, rates)[2] * hops))
    if opts.partitioner == "greedy" and k > 1:
        chip_of = _refine(w, chip_of, hops, load, cap, size, opts.max_moves)
    neuron_chip = chip_of[block_of].astype(np.int32)

    # 3. each chip's cores
    neuron_core = np.zeros(n, dtype=np.int32)
    local_index = np.zeros(n, dtype=np.int64)
    chip_neurons = []
    mappings: list[Mapping | None] = []
    pre_all = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    post_all = indices.astype(np.int64)
    for c in range(k):
        members = np.flatnonzero(neuron_chip == c)
        chip_neurons.append(members)
        if members.size == 0:
            mappings.append(None)
            continue
        local_index[members] = np.arange(members.size)
        mask = (neuron_chip[pre_all] == c) & (neuron_chip[post_all] == c)
        lp, lq = local_index[pre_all[mask]], local_index[post_all[mask]]
        # Synapses from other chips enter as self-loops of their target: the on-chip mapper
        # then balances every core's whole fan-in (a self-loop never weighs on its cut), and
        # the routes are rebuilt below from the local synapses alone.
        rq = local_index[post_all[(neuron_chip[pre_all] != c) & (neuron_chip[post_all] == c)]]
        ap, aq = np.concatenate([lp, rq]), np.concatenate([lq, rq])
        order = np.argsort(ap, kind="stable")
        aug_indptr = np.zeros(members.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(ap, minlength=members.size), out=aug_indptr[1:])
        try:
            m = map_synapses(
                aug_indptr, aq[order].astype(np.int32), chip,
                rates_hz=None if rates is None else rates[members],
                options=opts.chip_options,
                neuron_names=lambda i, members=members: name(int(members[i])),
            )  # fmt: skip
        except MappingError as exc:
            raise MappingError(f"chip {c} of system {system.name!r}: {exc}; a board partition that fills chips "
                               "less (BoardMappingOptions(fill=...) below 1, CLI --fill) may fit", capacity=exc.capacity,
                               required=exc.required, available=exc.available) from None  # fmt: skip
        m = _local_routes(m, lp, lq, None if rates is None else rates[members])
        mappings.append(m)
        neuron_core[members] = m.neuron_core

    # 4. synapses and routes across chips, and every capacity again
    m_cores = chip.n_cores
    glob_core = neuron_chip.astype(np.int64) * m_cores + neuron_core
    core_fan_in = np.bincount(glob_core[post_all], minlength=k * m_cores).reshape(k, m_cores).astype(np.int64)
    cross = neuron_chip[pre_all] != neuron_chip[post_all]
    n_cross = int(np.count_nonzero(cross))
    # remote destination cores of each neuron: routing entries at the source, input axons at the target
    rsrc, rdst = _dest_sets(indptr, glob_core[post_all], k * m_cores)
    remote = neuron_chip[rsrc] != (rdst // m_cores)
    rsrc, rdst = rsrc[remote], rdst[remote]
    # routing entries for them at the source: one per remote core, or one per remote chip (a
    # chip-addressed entry with a core mask, CoreSpec.route_entries = "chip")
    esrc = rsrc
    if core.route_entries == "chip":
        esrc = np.unique(rsrc * k + rdst // m_cores) // k
    core_fan_out = np.zeros(k * m_cores, dtype=np.int64)
    core_axons = np.zeros(k * m_cores, dtype=np.int64)
    for c, m in enumerate(mappings):
        if m is not None:
            core_fan_out[c * m_cores:(c + 1) * m_cores] = m.core_fan_out
            core_axons[c * m_cores:(c + 1) * m_cores] = m.core_axons_in
    core_fan_out += np.bincount(glob_core[esrc], minlength=k * m_cores)
    core_axons += np.bincount(rdst, minlength=k * m_cores)
    checks = [("fan_in", core_fan_in.ravel(), core.fan_in), ("fan_out", core_fan_out, core.fan_out)]
    if core.axons_in is not None:
        checks.append(("axons_in", core_axons, core.axons_in))
    for capacity, used, available in checks:
        worst = int(np.argmax(used))
        if used[worst] > available:
            raise MappingError(
                f"network does not fit system {system.name!r}: {capacity} of chip {worst // m_cores} core "
                f"{worst % m_cores} needs {used[worst]:g} (with the synapses and routes to and from other chips), "
                f"has {available:g} (over by {used[worst] - available:g}); try BoardMappingOptions(fill=...) below 1",
                capacity=capacity, required=float(used[worst]), available=float(available),
            )  # fmt: skip
    if core.fan_out_per_neuron is not None:
        per_neuron = np.bincount(esrc, minlength=n)
        for c, m in enumerate(mappings):
            if m is not None:
                local = np.diff(m.route_indptr)
                per_neuron[chip_neurons[c]] += (local > 0) if core.route_entries == "chip" else local
        worst = int(np.argmax(per_neuron))
        if per_neuron[worst] > core.fan_out_per_neuron:
            raise MappingError(
                f"network does not fit system {system.name!r}: fan_out_per_neuron of {name(worst)} (chip "
                f"{neuron_chip[worst]}) is {per_neuron[worst]} {_ENTRY_WORDS[core.route_entries]}, a neuron can reach "
                f"{core.fan_out_per_neuron} (over by {per_neuron[worst] - core.fan_out_per_neuron})",
                capacity="fan_out_per_neuron", required=float(per_neuron[worst]),
                available=float(core.fan_out_per_neuron),
            )  # fmt: skip

    # destination chips per neuron (one packet per spike to each) and the chip traffic
    dsrc, dchip, traffic = _chip_traffic(indptr, indices, neuron_chip, k, rates)
    dest_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(dsrc, minlength=n), out=dest_indptr[1:])
    return BoardMapping(
        system=system,
        neuron_chip=neuron_chip,
        neuron_core=neuron_core,
        chip_neurons=tuple(chip_neurons),
        chip_mappings=tuple(mappings),
        core_fan_in=core_fan_in,
        core_fan_out=core_fan_out.reshape(k, m_cores),
        core_axons_in=core_axons.reshape(k, m_cores),
        dest_indptr=dest_indptr,
        dest_chips=dchip.astype(np.int32),
        chip_traffic=traffic,
        rates_given=rates is not None,
        cost=float(np.sum(traffic * hops)),
        cost_packed=cost_packed,
        n_synapses=n_syn,
        n_synapses_crossing_chips=n_cross,
        wall_s=time.perf_counter() - t0,
    )


def _local_routes(m: Mapping, pre: NDArray[np.int64], post: NDArray[np.int64], rates: NDArray[np.float64] | None) -> Mapping:
    """The chip mapping ``m`` with its routes, traffic and capacity counts rebuilt from the
    local synapses ``pre -> post`` alone (its placement kept)."""
    n = m.n_neurons
    n_cores = m.chip.n_cores
    order = np.argsort(pre, kind="stable")
    pre, post = pre[order], post[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(pre, minlength=n), out=indptr[1:])
    src, dest = _dest_sets(indptr, m.neuron_core[post].astype(np.int64), n_cores)
    route_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=route_indptr[1:])
    traffic = np.zeros((n_cores, n_cores))
    np.add.at(traffic, (m.neuron_core[src], dest), rates[src] if rates is not None else 1.0)
    offdiag = traffic.copy()
    np.fill_diagonal(offdiag, 0.0)
    return dataclasses.replace(
        m,
        route_indptr=route_indptr,
        route_cores=dest.astype(np.int32),
        core_fan_in=np.bincount(m.neuron_core[post], minlength=n_cores).astype(np.int64),
        core_fan_out=np.bincount(m.neuron_core[np.unique(src) if m.chip.core.route_entries == "chip" else src],
                                 minlength=n_cores).astype(np.int64),
        core_axons_in=np.bincount(dest, minlength=n_cores).astype(np.int64),
        traffic=traffic,
        link_load=link_loads(offdiag, m.chip.mesh.width, m.chip.mesh.height),
        n_synapses=int(post.size),
        n_synapses_crossing=int(np.count_nonzero(m.neuron_core[pre] != m.neuron_core[post])),
    )


def map_board(
    network: Any, system: SystemSpec, *, rates_hz: ArrayLike | None = None, options: BoardMappingOptions | None = None
) -> BoardMapping:
    """Map a :class:`neurochip.network.Network` onto a board (see :func:`map_board_synapses`).

    Blocks never straddle two populations; error messages name neurons by population
    (``E[12]``).

    Parameters
    ----------
    network : neurochip.network.Network
    system : SystemSpec
    rates_hz : array_like of float, shape (n_neurons,), optional
    options : BoardMappingOptions, optional

    Returns
    -------
    BoardMapping

    Raises
    ------
    MappingError
        Naming the chip and capacity that overflowed.
    """
    indptr, indices = network_csr(network)
    sizes = [p.size for p in network.populations]
    offsets = np.cumsum([0] + sizes)
    names = [p.name for p in network.populations]

    def name(i: int) -> str:
        j = int(np.searchsorted(offsets, i, side="right")) - 1
        return f"{names[j]}[{i - offsets[j]}]"

    return map_board_synapses(indptr, indices, system, population_sizes=sizes, rates_hz=rates_hz, options=options,
                              neuron_names=name)  # fmt: skip


def chip_packets(board: BoardMapping, spikes: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Inter-chip packets caused by given spike counts: per chip pair and per directed link.

    Each spike of neuron ``i`` sends one packet to every chip in its destination list; a packet
    crosses every link of the chip route (:meth:`~neurochip.system.SystemSpec.route`).

    Parameters
    ----------
    board : BoardMapping
    spikes : array_like, shape (n_neurons,)
        Spikes of every neuron (counts or expected counts).

    Returns
    -------
    pair_packets : ndarray, shape (n_chips, n_chips)
        Packets from chip to chip.
    link_packets : ndarray, shape (n_links,)
        Packets crossing each directed link, in the order of
        :meth:`~neurochip.system.SystemSpec.links`.
    """
    spikes = np.asarray(spikes, dtype=np.float64)
    system = board.system
    k = system.n_chips
    src = np.repeat(np.arange(board.n_neurons), np.diff(board.dest_indptr))
    pairs = np.zeros((k, k))
    np.add.at(pairs, (board.neuron_chip[src], board.dest_chips), spikes[src])
    return pairs, pair_link_loads(system, pairs)


def pair_link_loads(system: SystemSpec, pairs: NDArray[np.float64]) -> NDArray[np.float64]:
    """Load of every directed inter-chip link for a chip-to-chip matrix, along the chip routes.

    Parameters
    ----------
    system : SystemSpec
    pairs : ndarray, shape (n_chips, n_chips)
        Packets (or packets/s) from chip to chip; the diagonal is ignored.

    Returns
    -------
    ndarray, shape (n_links,)
        In the order of :meth:`~neurochip.system.SystemSpec.links`.
    """
    links = system.links()
    index = {link: i for i, link in enumerate(links)}
    out = np.zeros(len(links))
    for s, d in zip(*np.nonzero(pairs)):
        if s == d:
            continue
        path = system.route(int(s), int(d))
        for a, b in zip(path[:-1], path[1:]):
            out[index[(a, b)]] += pairs[s, d]
    return out
