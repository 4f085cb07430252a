"""Mapping a network onto a chip: partition neurons onto cores, place cores, build routes.

Three steps, each under the chip's capacities (:class:`neurochip.chip.CoreSpec`):

1. **Partition** the neurons into as few cores as the neuron and fan-in capacities allow, keeping
   strongly connected neurons together.  The partitioner is METIS (through ``pymetis``) on the
   undirected neuron graph whose edge weights are expected traffic (pre-synaptic rate x synapse
   count) when rates are known, synapse counts otherwise.  A large graph is first sparsified:
   each neuron keeps about ``max_edges_per_neuron`` of its synapses, drawn at random and weighted
   by the inverse of their keeping probability, so the expected cut of every partition is
   unchanged while METIS sees a graph small enough to cut in well under a second.  A greedy pass
   then moves neurons out of any core left over capacity.
2. **Place** the cores on the mesh to cut hop-weighted traffic: a serpentine start, then a local
   search of random pair swaps, each accepted only if it lowers the cost.
3. **Route**: dimension-order (XY) routing, one packet per destination core (multicast at the
   source).  The routing table of a core holds one entry per (neuron, destination core) pair; its
   size is checked against the fan-out capacity.

A network that does not fit raises :class:`~neurochip.errors.MappingError` naming the capacity,
the core or neuron, the overflow, and the smallest mesh of the same cores that would fit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .chip import ChipSpec, CoreSpec
from .errors import InvalidParameterError, MappingError
from .mesh import link_loads, xy_hops

__all__ = ["MappingOptions", "Mapping", "map_synapses", "map_network", "packet_counts"]

@dataclass(frozen=True, slots=True, kw_only=True)
class MappingOptions:
    """Knobs of the mapper (the defaults suit networks from a few to millions of synapses).

    Parameters
    ----------
    partitioner : {"metis", "block"}
        ``"metis"``: graph partitioning; ``"block"``: contiguous blocks of neuron indices (a
        baseline, and what a random network gets from any partitioner anyway).
    max_edges_per_neuron : int
        Sparsification target of the graph given to METIS (expected synapses kept per neuron).
    balance_slack : float
        Fraction of each capacity METIS may exceed before the repair pass, in [0, 0.5].
    placement_swaps : int
        Random pair swaps tried by the placement search.
    seed : int
        Seed of the sparsification, METIS and the placement search.

    Raises
    ------
    InvalidParameterError
        If ``partitioner`` is unknown, ``max_edges_per_neuron`` < 1, ``balance_slack`` is outside
        [0, 0.5] or ``placement_swaps`` < 0.

    Examples
    --------
    >>> MappingOptions(partitioner="block", placement_swaps=0).seed
    0
    >>> MappingOptions(balance_slack=0.8)
    Traceback (most recent call last):
    ...
    neurochip.errors.InvalidParameterError: balance_slack = 0.8: must be in [0, 0.5]
    """

    partitioner: str = "metis"
    max_edges_per_neuron: int = 64
    balance_slack: float = 0.03
    placement_swaps: int = 20000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.partitioner not in ("metis", "block"):
            raise InvalidParameterError.of("partitioner", self.partitioner, "must be 'metis' or 'block'")
        if not isinstance(self.max_edges_per_neuron, int) or self.max_edges_per_neuron < 1:
            raise InvalidParameterError.of("max_edges_per_neuron", self.max_edges_per_neuron, "must be an integer >= 1")
        if not 0 <= self.balance_slack <= 0.5:
            raise InvalidParameterError.of("balance_slack", self.balance_slack, "must be in [0, 0.5]")
        if not isinstance(self.placement_swaps, int) or self.placement_swaps < 0:
            raise InvalidParameterError.of("placement_swaps", self.placement_swaps, "must be an integer >= 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class Mapping:
    """A network placed on a chip (made by :func:`map_synapses`).

    Attributes
    ----------
    chip : ChipSpec
        The chip mapped onto.
    neuron_core : ndarray of int32, shape (n_neurons,)
        Mesh index (``y * width + x``) of each neuron's core.
    route_indptr : ndarray of int64, shape (n_neurons + 1,)
        Row pointer of the routing table (CSR).
    route_cores : ndarray of int32, shape (route_indptr[-1],)
        Routing table: neuron ``i`` sends one packet per spike to each core in
        ``route_cores[route_indptr[i]:route_indptr[i+1]]`` (sorted; its own core included when
        it has a target there).
    core_neurons, core_fan_in, core_fan_out, core_axons_in : ndarray of int64, shape (n_cores,)
        Neurons, synapses (fan-in), routing-table entries and input axons used on each core.
    traffic : ndarray of float64, shape (n_cores, n_cores)
        Expected packets per second (Hz) from core to core, the diagonal holding packets
        delivered within their own core (per spike of every neuron when no rates were given:
        then the unit is packets per network-wide spike round).
    link_load : ndarray of float64, shape (n_cores, 4)
        Expected packets per second (Hz) on each core's outgoing link, in :data:`LINKS` order
        (east, west, north, south), from the off-diagonal ``traffic`` by :func:`link_loads`.
    rates_given : bool
        Whether ``traffic`` and ``link_load`` are in packets/s (True) or relative (False).
    n_synapses, n_synapses_crossing : int
        Synapses in the network, and those whose two neurons sit on different cores.
    wall_s : float
        Wall-clock time the mapping took, s.

    Examples
    --------
    >>> from neurochip.chip import CoreSpec, MeshSpec, load_chip
    >>> chip = load_chip("generic").replace(mesh=MeshSpec(width=2, height=1),
    ...                                     core=CoreSpec(neurons=2, fan_in=8, fan_out=8))
    >>> ring = map_synapses([0, 1, 2, 3, 4], [1, 2, 3, 0], chip,
    ...                     options=MappingOptions(partitioner="block"))
    >>> ring.neuron_core.tolist(), ring.cores_used, ring.n_synapses_crossing
    ([0, 0, 1, 1], 2, 2)
    """

    chip: ChipSpec
    neuron_core: NDArray[np.int32]
    route_indptr: NDArray[np.int64]
    route_cores: NDArray[np.int32]
    core_neurons: NDArray[np.int64]
    core_fan_in: NDArray[np.int64]
    core_fan_out: NDArray[np.int64]
    core_axons_in: NDArray[np.int64]
    traffic: NDArray[np.float64]
    link_load: NDArray[np.float64]
    rates_given: bool
    n_synapses: int
    n_synapses_crossing: int
    wall_s: float

    @property
    def n_neurons(self) -> int:
        """Number of neurons mapped."""
        return int(self.neuron_core.size)

    @property
    def cores_used(self) -> int:
        """Number of cores holding at least one neuron."""
        return int(np.count_nonzero(self.core_neurons))

    def hops(self) -> tuple[float, int]:
        """Traffic-weighted mean hop count of a packet, and the largest hop count of any route.

        Returns
        -------
        mean_hops : float
            :math:`\\sum_{s,d} T_{sd} h_{sd} / \\sum_{s,d} T_{sd}` over the ``traffic`` matrix
            :math:`T`, packets within their own core counting 0 hops; 0.0 without traffic.
        max_hops : int
            Largest XY hop count between two cores that exchange packets.
        """
        w = self.chip.mesh.width
        src, dst = np.nonzero(self.traffic)
        if src.size == 0:
            return 0.0, 0
        h = xy_hops(src, dst, w)
        weights = self.traffic[src, dst]
        return float(np.sum(h * weights) / np.sum(weights)), int(h.max())

    def report(self) -> dict[str, Any]:
        """The mapping report: cores used, capacity utilisation, crossing synapses, hops, link loads.

        Returns
        -------
        dict of str to object
            JSON-ready: ``chip``, ``mesh`` ([width, height]), ``n_neurons``, ``n_synapses``,
            ``cores_used``, ``cores_available``, ``utilisation_max`` and
            ``utilisation_mean_used`` (fractions of each core capacity, the mean over used
            cores), ``fraction_synapses_crossing_cores``, ``mean_hops``, ``max_hops``,
            ``rates_given``, ``link_load_max`` and ``link_load_mean`` (Hz when rates were given),
            ``wall_s``; with rates, also ``link_utilisation_max`` = ``link_load_max`` / link
            bandwidth (dimensionless).
        """
        core = self.chip.core
        used = self.core_neurons > 0
        mean_hops, max_hops = self.hops()
        util = {
            "neurons": self.core_neurons / core.neurons,
            "fan_in": self.core_fan_in / core.fan_in,
            "fan_out": self.core_fan_out / core.fan_out,
        }
        if core.axons_in is not None:
            util["axons_in"] = self.core_axons_in / core.axons_in
        out: dict[str, Any] = {
            "chip": self.chip.name,
            "mesh": [self.chip.mesh.width, self.chip.mesh.height],
            "n_neurons": self.n_neurons,
            "n_synapses": self.n_synapses,
            "cores_used": self.cores_used,
            "cores_available": self.chip.n_cores,
            "utilisation_max": {k: float(v.max()) for k, v in util.items()},
            "utilisation_mean_used": {k: float(v[used].mean()) if used.any() else 0.0 for k, v in util.items()},
            "fraction_synapses_crossing_cores": self.n_synapses_crossing / self.n_synapses if self.n_synapses else 0.0,
            "mean_hops": mean_hops,
            "max_hops": max_hops,
            "rates_given": self.rates_given,
            "link_load_max": float(self.link_load.max()) if self.link_load.size else 0.0,
            "link_load_mean": float(self.link_load.mean()) if self.link_load.size else 0.0,
            "wall_s": self.wall_s,
        }
        if self.rates_given:
            out["link_utilisation_max"] = out["link_load_max"] / self.chip.router.link_bandwidth_hz
        return out


def _smallest_mesh(chip: ChipSpec, cores_needed: int) -> tuple[int, int]:
    side = math.isqrt(max(cores_needed - 1, 0)) + 1
    for h in range(1, side + 1):
        w = math.ceil(cores_needed / h)
        if w >= h and w * h >= cores_needed and w - h <= 1:
            return w, h
    return side, side


def _overflow(chip: ChipSpec, capacity: str, required: float, available: float, where: str, cores_needed: int) -> MappingError:
    w, h = _smallest_mesh(chip, cores_needed)
    return MappingError(
        f"network does not fit chip {chip.name!r}: {capacity} {where}needs {required:g}, "
        f"has {available:g} (over by {required - available:g}); the smallest {chip.name} mesh "
        f"that holds it has {w} x {h} = {w * h} cores (at least {cores_needed} needed)",
        capacity=capacity,
        required=required,
        available=available,
    )


def _check_csr(indptr: NDArray[Any], indices: NDArray[Any], n: int) -> None:
    if indptr.ndim != 1 or indptr.size != n + 1:
        raise InvalidParameterError(f"indptr: shape {indptr.shape}, expected ({n + 1},)")
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0) or indptr[-1] != indices.size:
        raise InvalidParameterError("indptr: must start at 0, never decrease, and end at len(indices)")
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        raise InvalidParameterError(f"indices: values must be in [0, {n}), got [{indices.min()}, {indices.max()}]")


def _partition_graph(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    rates: NDArray[np.float64] | None,
    opts: MappingOptions,
    rng: np.random.Generator,
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.int64]]:
    """Sparsified, symmetric, integer-weighted neuron graph in METIS's CSR form."""
    from scipy import sparse

    n = indptr.size - 1
    deg = np.diff(indptr)
    keep_p = np.minimum(1.0, opts.max_edges_per_neuron / np.maximum(deg, 1))
    pre_all = np.repeat(np.arange(n, dtype=np.int32), deg)
    if np.all(keep_p >= 1.0):
        pre, post, weight = pre_all, indices, np.ones(indices.size)
    else:
        keep = rng.random(indices.size) < np.repeat(keep_p, deg)
        pre, post = pre_all[keep], indices[keep]
        weight = 1.0 / keep_p[pre]
    if rates is not None:
        weight = weight * rates[pre]
    mask = pre != post
    a = sparse.coo_matrix((weight[mask], (pre[mask], post[mask])), shape=(n, n)).tocsr()
    a = (a + a.T).tocsr()
    a.sum_duplicates()
    data = a.data
    scale = 1000.0 / data.max() if data.size else 1.0
    w = np.maximum(1, np.rint(data * scale)).astype(np.int64)
    return a.indptr.astype(np.int64), a.indices.astype(np.int32), w


def _partition(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    in_degree: NDArray[np.int64],
    k: int,
    chip: ChipSpec,
    rates: NDArray[np.float64] | None,
    opts: MappingOptions,
) -> NDArray[np.int32]:
    n = indptr.size - 1
    if k == 1:
        return np.zeros(n, dtype=np.int32)
    if opts.partitioner == "block":
        # Contiguous blocks sized so that both capacities hold when in-degrees are even.
        return np.minimum((np.arange(n) * k) // n, k - 1).astype(np.int32)
    import pymetis

    rng = np.random.default_rng(opts.seed)
    xadj, adjncy, eweights = _partition_graph(indptr, indices, rates, opts, rng)
    # One balance weight: the larger of a neuron's share of the two capacities.
    vw = np.maximum(1.0 / chip.core.neurons, in_degree / chip.core.fan_in)
    vweights = np.maximum(1, np.rint(vw / vw.max() * 1000)).astype(np.int64)
    options = pymetis.Options(seed=opts.seed, ufactor=max(1, int(round(opts.balance_slack * 1000))))
    _, parts = pymetis.part_graph(
        k,
        adjacency=pymetis.CSRAdjacency(adj_starts=xadj, adjacent=adjncy),
        vweights=vweights,
        eweights=eweights,
        options=options,
    )
    return np.asarray(parts, dtype=np.int32)


def _repair(parts: NDArray[np.int32], in_degree: NDArray[np.int64], k: int, chip: ChipSpec) -> bool:
    """Move neurons out of parts over the neuron or fan-in capacity.  True when all fit."""
    cap_n, cap_in = chip.core.neurons, chip.core.fan_in
    count = np.bincount(parts, minlength=k).astype(np.int64)
    fan_in = np.bincount(parts, weights=in_degree, minlength=k).astype(np.int64)
    for p in np.nonzero((count > cap_n) | (fan_in > cap_in))[0]:
        members = np.nonzero(parts == p)[0]
        members = members[np.argsort(in_degree[members], kind="stable")]
        for neuron in members[::-1]:
            if count[p] <= cap_n and fan_in[p] <= cap_in:
                break
            room = (count < cap_n) & (fan_in + in_degree[neuron] <= cap_in)
            room[p] = False
            if not room.any():
                return False
            target = int(np.argmax(np.where(room, (cap_n - count) / cap_n + (cap_in - fan_in) / cap_in, -np.inf)))
            parts[neuron] = target
            count[p] -= 1
            fan_in[p] -= in_degree[neuron]
            count[target] += 1
            fan_in[target] += in_degree[neuron]
    return bool(np.all(count <= cap_n) and np.all(fan_in <= cap_in))


def _routes(
    indptr: NDArray[np.int64], post_part: NDArray[np.int32], k: int
) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
    """Per neuron, the sorted set of destination parts (CSR)."""
    n = indptr.size - 1
    deg = np.diff(indptr)
    pre = np.repeat(np.arange(n, dtype=np.int64), deg)
    if n * k <= 400_000_000:
        seen = np.zeros(n * k, dtype=bool)
        seen[pre * k + post_part] = True
        keys = np.flatnonzero(seen)
    else:
        keys = np.unique(pre * k + post_part)
    src = keys // k
    route_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=route_indptr[1:])
    return route_indptr, (keys % k).astype(np.int32)


def _place(traffic: NDArray[np.float64], chip: ChipSpec, opts: MappingOptions) -> NDArray[np.int64]:
    """Mesh slot of each part: a compact serpentine start, then improving random pair swaps."""
    k = traffic.shape[0]
    w, h = chip.mesh.width, chip.mesh.height
    # Start compact: a near-square block of ceil(sqrt(k)) columns, filled in a serpentine.
    bw = min(w, max(1, math.ceil(math.sqrt(k))))
    block = [y * w + (x if y % 2 == 0 else bw - 1 - x) for y in range(h) for x in range(bw)]
    in_block = set(block)
    slots = np.array(block + [s for s in range(w * h) if s not in in_block])
    # Parts that talk most go first, so the heavy ones sit together near the start of the snake.
    order = np.argsort(-(traffic.sum(0) + traffic.sum(1)), kind="stable")
    pos = np.empty(w * h, dtype=np.int64)  # pos[part] = slot; parts >= k are empty slots
    pos[order] = slots[:k]
    pos[k:] = slots[k:]
    if k <= 1 or opts.placement_swaps == 0:
        return pos[:k]
    sym = np.zeros((w * h, w * h))
    sym[:k, :k] = traffic + traffic.T
    np.fill_diagonal(sym, 0.0)
    xs, ys = pos % w, pos // w
    rng = np.random.default_rng(opts.seed)
    m = w * h
    for _ in range(opts.placement_swaps):
        a, b = rng.integers(0, m, 2)
        if a == b or (a >= k and b >= k):
            continue
        da_old = np.abs(xs - xs[a]) + np.abs(ys - ys[a])
        db_old = np.abs(xs - xs[b]) + np.abs(ys - ys[b])
        # After the swap a sits at b's slot and vice versa; the a-b pair keeps its distance.
        delta = np.dot(sym[a], db_old - da_old) + np.dot(sym[b], da_old - db_old)
        delta += 2.0 * sym[a, b] * da_old[b]  # the a-b pair keeps its distance: undo its two terms
        if delta < 0:
            pos[a], pos[b] = pos[b], pos[a]
            xs[a], xs[b] = xs[b], xs[a]
            ys[a], ys[b] = ys[b], ys[a]
    return pos[:k]


def map_synapses(
    indptr: ArrayLike,
    indices: ArrayLike,
    chip: ChipSpec,
    *,
    rates_hz: ArrayLike | None = None,
    options: MappingOptions | None = None,
    neuron_names: Any = None,
) -> Mapping:
    """Map a network given as a pre -> post CSR synapse matrix onto a chip.

    Parameters
    ----------
    indptr : array_like of int, shape (n_neurons + 1,)
        Row pointer: starts at 0, never decreases, ends at ``len(indices)``; n_neurons >= 1.
    indices : array_like of int, shape (n_synapses,)
        Synapse ``j`` of neuron ``i`` (row ``i``) targets neuron ``indices[indptr[i] + j]``,
        each in [0, n_neurons).
    chip : ChipSpec
        The chip whose mesh and core capacities bound the mapping.
    rates_hz : array_like of float, shape (n_neurons,), optional
        Expected firing rate of each neuron in Hz, finite and >= 0: edges and traffic are then
        weighted by it and the link loads are in packets per second.
    options : MappingOptions, optional
        Partitioner and placement knobs (default ``MappingOptions()``).
    neuron_names : callable, optional
        ``neuron_names(i) -> str`` naming neuron ``i`` (e.g. its population) in error messages.

    Returns
    -------
    Mapping

    Raises
    ------
    InvalidParameterError
        If the CSR arrays are malformed or ``rates_hz`` has the wrong shape or a bad value.
    MappingError
        When a capacity overflows: names it, where, by how much, and the smallest mesh that fits.

    Examples
    --------
    A ring of four neurons on two cores of two neurons each, at 10 Hz per neuron:

    >>> from neurochip.chip import CoreSpec, MeshSpec, load_chip
    >>> chip = load_chip("generic").replace(mesh=MeshSpec(width=2, height=1),
    ...                                     core=CoreSpec(neurons=2, fan_in=8, fan_out=8))
    >>> ring = map_synapses([0, 1, 2, 3, 4], [1, 2, 3, 0], chip, rates_hz=[10.0] * 4,
    ...                     options=MappingOptions(partitioner="block"))
    >>> ring.link_load.tolist()  # packets/s on the east and west links
    [[10.0, 0.0, 0.0, 0.0], [0.0, 10.0, 0.0, 0.0]]
    >>> ring.hops()
    (0.5, 1)

    Five neurons do not fit the four neuron slots of this chip:

    >>> map_synapses([0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 0], chip)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurochip.errors.MappingError: network does not fit chip 'generic': neurons (whole chip) needs 5, has 4 (over by 1); ... 2 x 2 = 4 cores ...
    """
    t0 = time.perf_counter()
    opts = options or MappingOptions()
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int32)
    n = indptr.size - 1
    if n < 1:
        raise InvalidParameterError("indptr: the network has no neurons")
    _check_csr(indptr, indices, n)
    rates = None
    if rates_hz is not None:
        rates = np.ascontiguousarray(rates_hz, dtype=np.float64)
        if rates.shape != (n,) or np.any(~np.isfinite(rates)) or np.any(rates < 0):
            raise InvalidParameterError(f"rates_hz: need {n} finite rates >= 0, got shape {rates.shape}")
    name = neuron_names or (lambda i: f"neuron {i}")
    core = chip.core
    in_degree = np.bincount(indices, minlength=n).astype(np.int64)
    n_syn = int(indices.size)

    worst = int(np.argmax(in_degree))
    if in_degree[worst] > core.fan_in:
        raise MappingError(
            f"network does not fit chip {chip.name!r}: fan_in of {name(worst)} is {in_degree[worst]} "
            f"synapses, more than a whole core holds ({core.fan_in}; over by {in_degree[worst] - core.fan_in})",
            capacity="fan_in",
            required=float(in_degree[worst]),
            available=float(core.fan_in),
        )
    if core.fan_in_per_neuron is not None and in_degree[worst] > core.fan_in_per_neuron:
        raise MappingError(
            f"network does not fit chip {chip.name!r}: fan_in_per_neuron of {name(worst)} is "
            f"{in_degree[worst]} synapses, a neuron holds {core.fan_in_per_neuron} "
            f"(over by {in_degree[worst] - core.fan_in_per_neuron})",
            capacity="fan_in_per_neuron",
            required=float(in_degree[worst]),
            available=float(core.fan_in_per_neuron),
        )
    k_neurons = math.ceil(n / core.neurons)
    k_fan_in = math.ceil(n_syn / core.fan_in)
    k = max(k_neurons, k_fan_in, 1)
    if k > chip.n_cores:
        capacity, required, available = (
            ("neurons", n, chip.neuron_capacity) if k_neurons >= k_fan_in else ("fan_in", n_syn, chip.n_cores * core.fan_in)
        )
        raise _overflow(chip, capacity, required, available, "(whole chip) ", k)

    last_error: MappingError | None = None
    while True:
        parts = _partition(indptr, indices, in_degree, k, chip, rates, opts)
        if not _repair(parts, in_degree, k, chip):
            if k == chip.n_cores:
                raise _overflow(chip, "neurons/fan_in", n, chip.neuron_capacity, "(after balancing) ", k + 1)
            k = min(chip.n_cores, k + max(1, k // 8))
            continue
        route_indptr, route_parts = _routes(indptr, parts[indices], k)
        n_routes = _entries(np.diff(route_indptr), core)
        if core.fan_out_per_neuron is not None and n_routes.max() > core.fan_out_per_neuron:
            worst_n = int(np.argmax(n_routes))
            raise MappingError(
                f"network does not fit chip {chip.name!r}: fan_out_per_neuron of {name(worst_n)} is "
                f"{n_routes[worst_n]} {_ENTRY_WORDS[core.route_entries]} on {k} cores, a neuron can reach "
                f"{core.fan_out_per_neuron} (over by {n_routes[worst_n] - core.fan_out_per_neuron}); "
                "split its targets over relay neurons",
                capacity="fan_out_per_neuron",
                required=float(n_routes[worst_n]),
                available=float(core.fan_out_per_neuron),
            )
        fan_out = np.bincount(parts, weights=n_routes, minlength=k).astype(np.int64)
        axons = np.bincount(route_parts, minlength=k).astype(np.int64)
        if core.axons_in is not None and axons.max() > core.axons_in:
            worst_part = int(np.argmax(axons))
            need = max(k + 1, math.ceil(k * axons.max() / core.axons_in))
            last_error = _overflow(chip, "axons_in", float(axons[worst_part]), core.axons_in, f"of core {worst_part} ", need)
            if k == chip.n_cores:
                raise last_error
            k = min(chip.n_cores, max(need, k + max(1, k // 8)))
            continue
        worst_part = int(np.argmax(fan_out))
        if fan_out[worst_part] <= core.fan_out:
            break
        # Neurons per core shrink as cores are added, so the routing table per core usually does.
        per_neuron = fan_out.sum() / n
        need = max(k + 1, math.ceil(n * per_neuron / core.fan_out))
        last_error = _overflow(
            chip, "fan_out", float(fan_out[worst_part]), core.fan_out, f"of core {worst_part} ", min(need, 10**9)
        )
        if k == chip.n_cores:
            raise last_error
        k = min(chip.n_cores, max(need, k + max(1, k // 8)))

    # Traffic between parts: one packet per (neuron, destination part) per spike.
    src_neuron = np.repeat(np.arange(n), np.diff(route_indptr))
    packets = rates[src_neuron] if rates is not None else np.ones(src_neuron.size)
    traffic_parts = np.zeros((k, k))
    np.add.at(traffic_parts, (parts[src_neuron], route_parts), packets)
    pos = _place(traffic_parts, chip, opts)

    m = chip.n_cores
    neuron_core = pos[parts].astype(np.int32)
    route_cores = pos[route_parts].astype(np.int32)
    # keep each neuron's destination list sorted by mesh index
    order = np.lexsort((route_cores, src_neuron))
    route_cores = route_cores[order]
    traffic = np.zeros((m, m))
    traffic[np.ix_(pos, pos)] = traffic_parts
    core_neurons = np.bincount(neuron_core, minlength=m).astype(np.int64)
    core_fan_in = np.bincount(neuron_core, weights=in_degree, minlength=m).astype(np.int64)
    core_fan_out = np.bincount(neuron_core, weights=_entries(np.diff(route_indptr), core), minlength=m).astype(np.int64)
    core_axons_in = np.bincount(route_cores, minlength=m).astype(np.int64)
    pre_core = np.repeat(neuron_core, np.diff(indptr))
    crossing = int(np.count_nonzero(pre_core != neuron_core[indices]))
    offdiag = traffic.copy()
    np.fill_diagonal(offdiag, 0.0)
    loads = link_loads(offdiag, chip.mesh.width, chip.mesh.height)
    return Mapping(
        chip=chip,
        neuron_core=neuron_core,
        route_indptr=route_indptr,
        route_cores=route_cores,
        core_neurons=core_neurons,
        core_fan_in=core_fan_in,
        core_fan_out=core_fan_out,
        core_axons_in=core_axons_in,
        traffic=traffic,
        link_load=loads,
        rates_given=rates is not None,
        n_synapses=n_syn,
        n_synapses_crossing=crossing,
        wall_s=time.perf_counter() - t0,
    )


def packet_counts(mapping: Mapping, spikes: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Packets caused by given spike counts under the mapping's routes (multicast at the source).

    Parameters
    ----------
    mapping : Mapping
        The routes to follow.
    spikes : array_like, shape (n_neurons,)
        Spikes of every neuron (counts, or expected counts).

    Returns
    -------
    core_packets : ndarray, shape (n_cores,)
        Packets delivered within their source core, counted on that core.
    links : ndarray, shape (n_cores, 4)
        Packets crossing each core's outgoing links (:data:`LINKS` order) on their XY routes.
    """
    spikes = np.asarray(spikes, dtype=np.float64)
    n, m = mapping.n_neurons, mapping.chip.n_cores
    core = mapping.neuron_core
    src = np.repeat(np.arange(n), np.diff(mapping.route_indptr))
    dest = mapping.route_cores
    own = dest == core[src]
    traffic = np.zeros((m, m))
    np.add.at(traffic, (core[src[~own]], dest[~own]), spikes[src[~own]])
    links = link_loads(traffic, mapping.chip.mesh.width, mapping.chip.mesh.height)
    return np.bincount(dest[own], weights=spikes[src[own]], minlength=m), links


#: what a neuron's routing entries are, in capacity errors
_ENTRY_WORDS = {"core": "destination cores", "chip": "routing entries (one per destination chip)"}


def _entries(dest_cores: NDArray[np.int64], core: CoreSpec) -> NDArray[np.int64]:
    """Routing entries of each neuron on one chip from its number of destination cores: one per
    core, or (``route_entries = "chip"``) one for the whole chip when it has any target."""
    if core.route_entries == "chip":
        return (dest_cores > 0).astype(np.int64)
    return dest_cores


def network_csr(network: Any) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
    """Plain pre -> post CSR (one row per neuron, all delays merged) of a
    :class:`neurochip.network.Network`, for the mapper.

    Parameters
    ----------
    network : neurochip.network.Network
        The network to flatten.

    Returns
    -------
    indptr : ndarray of int64, shape (n_neurons + 1,)
    indices : ndarray of int32, shape (n_synapses,)
        Post-synaptic neuron of every synapse, rows ordered by pre-synaptic neuron.
    """
    csr = network.csr()
    n = csr.n_neurons
    if csr.delays_s.size == 1:
        return csr.indptr, csr.indices
    rows = np.repeat(np.arange(csr.indptr.size - 1, dtype=np.int64), np.diff(csr.indptr)) % n
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, csr.indices[order]


def map_network(
    network: Any, chip: ChipSpec, *, rates_hz: ArrayLike | None = None, options: MappingOptions | None = None
) -> Mapping:
    """Map a :class:`neurochip.network.Network` onto a chip (see :func:`map_synapses`).

    Error messages name neurons by population (``E[12]``).

    Parameters
    ----------
    network : neurochip.network.Network
        Populations and projections; synapses of every delay are mapped alike.
    chip : ChipSpec
        The chip to map onto.
    rates_hz : array_like of float, shape (n_neurons,), optional
        Expected firing rate of each neuron in Hz, >= 0 (see :func:`map_synapses`).
    options : MappingOptions, optional
        Partitioner and placement knobs.

    Returns
    -------
    Mapping

    Raises
    ------
    MappingError
        When a capacity overflows.
    """
    indptr, indices = network_csr(network)
    offsets = np.cumsum([0] + [p.size for p in network.populations])
    names = [p.name for p in network.populations]

    def name(i: int) -> str:
        k = int(np.searchsorted(offsets, i, side="right")) - 1
        return f"{names[k]}[{i - offsets[k]}]"

    return map_synapses(indptr, indices, chip, rates_hz=rates_hz, options=options, neuron_names=name)
