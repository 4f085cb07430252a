r"""Networks of LIF neurons: populations, projections and their synapses in compressed rows.

A :class:`Network` is plain data: a tuple of :class:`Population` (per-neuron parameter arrays)
and a tuple of :class:`Projection` (a connection rule, a weight and a delay).  Its synapses are
built once, vectorised and seeded, into a :class:`SynapseCSR` (pre -> post compressed rows,
``int32`` targets and ``float32`` weights: 8 bytes per synapse, plus one ``int64`` row pointer per
neuron and delay value).  Stimuli (:class:`PoissonInput`, :class:`SpikeTimesInput`,
:class:`CurrentStep`) are specs as well; :mod:`neurochip.emulator` runs the whole.

Synapses are delta synapses: a presynaptic spike at :math:`t` makes the membrane potential of
the target jump by the weight (in V) at :math:`t + d`, :math:`d > 0` the synaptic delay.

Examples
--------
>>> from neurochip.lif import LIFParams
>>> p = LIFParams(c_m_farad=250e-12, g_leak_siemens=12.5e-9, v_th_volt=0.02, v_reset_volt=0.01)
>>> net = Network(
...     populations=(Population(name="E", size=80, params=p), Population(name="I", size=20, params=p)),
...     projections=(Projection(pre="E", post="E", rule=FixedInDegree(k=8), weight_volt=1e-4, delay_s=1.5e-3),),
...     seed=1,
... )
>>> net.csr().n_synapses
640
"""


from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError

try:
    from . import _csr
except ImportError as exc:  # pragma: no cover - depends on the build
    raise ImportError(
        "neurochip.network's compiled counting sort (_csr) is not built; run `make install` "
        "(or `pip install -e .`) in the repository to compile it"
    ) from exc

from .population import NEURON_FIELDS, Population, _err, _rng
from .rules import AllToAll, Explicit, FixedInDegree, FixedProbability, OneToOne

__all__ = ["Projection", "SynapseCSR", "Network"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Projection:
    """Synapses from population ``pre`` to population ``post``.

    Parameters
    ----------
    pre, post : str
        Population names.
    rule : FixedInDegree, FixedProbability, AllToAll, OneToOne or Explicit
        The connection rule.
    weight_volt : float or callable
        Voltage jump (V) of the target per presynaptic spike; a callable ``f(rng, n)`` draws
        ``n`` weights.  Ignored where an :class:`Explicit` rule carries its own weights.  Stored
        as float32.
    delay_s : float
        Delay (s) of every synapse, > 0 (an :class:`Explicit` rule may give one per synapse).

    Raises
    ------
    InvalidParameterError
        If the rule is not a connection rule, the weight is not a finite number or callable, or
        the delay is not finite and > 0.  Unknown population names are caught by
        :class:`Network`.

    Examples
    --------
    >>> pr = Projection(pre="E", post="I", rule=FixedProbability(p=0.1), weight_volt=2e-4, delay_s=1.5e-3)
    >>> Projection(pre="E", post="I", rule=OneToOne(), delay_s=0.0)
    Traceback (most recent call last):
    ...
    neurochip.errors.InvalidParameterError: projection E->I: delay_s = 0.0: must be > 0 and finite
    """

    pre: str
    post: str
    rule: Any
    weight_volt: Any = 0.0
    delay_s: float = 1e-3

    def __post_init__(self) -> None:
        if not isinstance(self.rule, (FixedInDegree, FixedProbability, AllToAll, OneToOne, Explicit)):
            raise _err(f"projection {self.pre}->{self.post}: rule", self.rule, "must be a connection rule")
        if not callable(self.weight_volt):
            if isinstance(self.weight_volt, bool) or not isinstance(self.weight_volt, numbers.Real):
                raise _err(f"projection {self.pre}->{self.post}: weight_volt", self.weight_volt, "must be a number")
            if not math.isfinite(self.weight_volt):
                raise _err(f"projection {self.pre}->{self.post}: weight_volt", self.weight_volt, "must be finite")
        if not (isinstance(self.delay_s, numbers.Real) and self.delay_s > 0 and math.isfinite(self.delay_s)):
            raise _err(f"projection {self.pre}->{self.post}: delay_s", self.delay_s, "must be > 0 and finite")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SynapseCSR:
    r"""All synapses of a network in compressed rows, grouped by delay.

    Synapses with delay ``delays_s[j]`` from global neuron ``i`` are
    ``indices[s], weights[s]`` for ``s`` in ``indptr[j*n + i] : indptr[j*n + i + 1]``.  With
    one delay value this is ordinary CSR (``indptr`` of length n + 1).

    Attributes
    ----------
    n_neurons : int
        Neurons of the network.
    indptr : ndarray of int64, shape (n_delays * n_neurons + 1,)
        Row pointers, one row per (delay, source neuron).
    indices : ndarray of int32, shape (n_synapses,)
        Global id of each synapse's target.
    weights : ndarray of float32, shape (n_synapses,)
        Voltage jump of each synapse, V.
    delays_s : ndarray of float64, shape (n_delays,)
        The distinct delays, s, ascending (``[inf]`` for a network without synapses).

    Examples
    --------
    Two populations of two neurons: A -> B one to one at 1 ms, B[0] -> A[1] at 1 ms and
    B[1] -> A[1] at 2 ms:

    >>> net = Network(populations=(Population(name="A", size=2), Population(name="B", size=2)),
    ...               projections=(Projection(pre="A", post="B", rule=OneToOne(), weight_volt=0.25),
    ...                            Projection(pre="B", post="A", weight_volt=0.5,
    ...                                       rule=Explicit(pre=[0, 1], post=[1, 1], delay_s=[1e-3, 2e-3]))))
    >>> csr = net.csr()
    >>> csr.delays_s.tolist(), csr.indptr.tolist()
    ([0.001, 0.002], [0, 1, 2, 3, 3, 3, 3, 3, 4])
    >>> csr.indices.tolist(), csr.weights.tolist(), csr.out_degree().tolist()
    ([2, 3, 1, 1], [0.25, 0.25, 0.5, 0.5], [1, 1, 1, 1])
    """

    n_neurons: int
    indptr: NDArray[np.int64]
    indices: NDArray[np.int32]
    weights: NDArray[np.float32]
    delays_s: NDArray[np.float64]

    @property
    def n_synapses(self) -> int:
        """Number of synapses."""
        return int(self.indices.size)

    @property
    def nbytes(self) -> int:
        """Bytes held by the synapse arrays (row pointers, targets, weights, delay table)."""
        return int(self.indptr.nbytes + self.indices.nbytes + self.weights.nbytes + self.delays_s.nbytes)

    @property
    def bytes_per_synapse(self) -> float:
        """:attr:`nbytes` divided by the number of synapses."""
        return self.nbytes / max(self.n_synapses, 1)

    def out_degree(self) -> NDArray[np.int64]:
        """Number of outgoing synapses of each neuron, shape (n_neurons,).

        Returns
        -------
        ndarray of int64, shape (n_neurons,)
            Synapses of every delay summed.
        """
        rows = np.diff(self.indptr).reshape(self.delays_s.size, self.n_neurons)
        return rows.sum(axis=0)

    def to_coo(self) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float32], NDArray[np.float64]]:
        """(pre, post, weight, delay) per synapse, in storage order.

        Returns
        -------
        pre : ndarray of int64, shape (n_synapses,)
            Global id of each synapse's source.
        post : ndarray of int32, shape (n_synapses,)
            Global id of its target (``indices``).
        weight : ndarray of float32, shape (n_synapses,)
            Voltage jump, V (``weights``).
        delay : ndarray of float64, shape (n_synapses,)
            Delay, s.
        """
        rows = np.repeat(np.arange(self.indptr.size - 1, dtype=np.int64), np.diff(self.indptr))
        return rows % self.n_neurons, self.indices, self.weights, self.delays_s[rows // self.n_neurons]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Network:
    """Populations and projections; neurons get global ids population after population.

    Parameters
    ----------
    populations : tuple of Population
        Unique names.
    projections : tuple of Projection
        Referring to those names.
    seed : int or numpy.random.Generator, optional
        Seed of the random connection rules, an int >= 0 (each projection gets its own child
        stream, so adding a projection does not change the others).  None: fresh entropy.

    Raises
    ------
    InvalidParameterError
        If there is no population, names repeat, a projection names a population that is not
        in the network, or the seed is invalid.

    Examples
    --------
    >>> net = Network(populations=(Population(name="E", size=8), Population(name="I", size=2)),
    ...               projections=(Projection(pre="E", post="I", rule=AllToAll(), weight_volt=1e-3),))
    >>> net.n_neurons, net.offset("I"), net.csr().n_synapses
    (10, 8, 16)
    >>> Network(populations=(Population(name="E", size=8),),
    ...         projections=(Projection(pre="E", post="X", rule=AllToAll()),))
    Traceback (most recent call last):
    ...
    neurochip.errors.InvalidParameterError: projection E->X: population 'X' is not in the network (['E'])
    """

    populations: tuple[Population, ...]
    projections: tuple[Projection, ...] = ()
    seed: Any = 0
    _cache: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        pops = tuple(self.populations)
        projs = tuple(self.projections)
        if not pops:
            raise _err("populations", pops, "must hold at least one Population")
        names = [p.name for p in pops]
        for p in pops:
            if not isinstance(p, Population):
                raise _err("populations", p, "must be Population objects")
        if len(set(names)) != len(names):
            raise _err("populations", names, "names must be unique")
        for pr in projs:
            if not isinstance(pr, Projection):
                raise _err("projections", pr, "must be Projection objects")
            for end in (pr.pre, pr.post):
                if end not in names:
                    raise InvalidParameterError(
                        f"projection {pr.pre}->{pr.post}: population {end!r} is not in the network ({names})"
                    )
        _rng(self.seed) if not isinstance(self.seed, np.random.Generator) else None
        object.__setattr__(self, "populations", pops)
        object.__setattr__(self, "projections", projs)

    @property
    def n_neurons(self) -> int:
        """Total number of neurons."""
        return sum(p.size for p in self.populations)

    def offset(self, name: str) -> int:
        """Global id of the first neuron of population ``name``.

        Parameters
        ----------
        name : str
            A population of the network.

        Returns
        -------
        int

        Raises
        ------
        InvalidParameterError
            If there is no such population.
        """
        start = 0
        for p in self.populations:
            if p.name == name:
                return start
            start += p.size
        raise _err("population", name, f"is not in the network ({[p.name for p in self.populations]})")

    def population(self, name: str) -> Population:
        """The population called ``name``.

        Parameters
        ----------
        name : str
            A population of the network.

        Returns
        -------
        Population

        Raises
        ------
        InvalidParameterError
            If there is no such population.
        """
        for p in self.populations:
            if p.name == name:
                return p
        raise _err("population", name, f"is not in the network ({[p.name for p in self.populations]})")

    def neuron_arrays(self) -> dict[str, NDArray[np.float64]]:
        """Every per-neuron parameter over the whole network (global ids), plus ``v_init_volt``.

        Returns
        -------
        dict of str to ndarray of float64, shape (n_neurons,)
            Keys :data:`NEURON_FIELDS` and ``v_init_volt``, SI units.
        """
        parts = [p.arrays() for p in self.populations]
        out = {key: np.concatenate([part[key] for part in parts]) for key in NEURON_FIELDS}
        out["v_init_volt"] = np.concatenate([p.initial_v() for p in self.populations])
        return out

    def csr(self) -> SynapseCSR:
        """The synapses, built on first call (seeded, vectorised) and cached.

        Returns
        -------
        SynapseCSR
            The same object on every call.

        Raises
        ------
        InvalidParameterError
            If a rule cannot connect its populations (an index out of range, unequal sizes for
            :class:`OneToOne`), or a drawn weight or an explicit delay is invalid.
        """
        if "csr" not in self._cache:
            self._cache["csr"] = self._build()
        return self._cache["csr"]

    def _build(self) -> SynapseCSR:
        """Connect every projection, then a two-pass counting sort (compiled, in ``_csr``) (count the rows,
        fill them in projection order): temporaries are the int32 (pre, post) pairs plus
        per-synapse weights or delay classes only where a projection has them."""
        n = self.n_neurons
        root = self.seed if isinstance(self.seed, np.random.Generator) else np.random.default_rng(self.seed)
        children = root.spawn(len(self.projections)) if self.projections else []
        parts = []
        for pr, rng in zip(self.projections, children):
            src, dst = self.population(pr.pre), self.population(pr.post)
            pre, post = pr.rule.connect(src.size, dst.size, rng, pr.pre == pr.post)
            pre = np.ascontiguousarray(pre, dtype=np.int32)
            post = np.ascontiguousarray(post, dtype=np.int32)
            m = pre.size
            w = None
            if isinstance(pr.rule, Explicit) and pr.rule.weight_volt is not None:
                w = pr.rule.weight_volt.astype(np.float32)
            elif callable(pr.weight_volt):
                w = np.asarray(pr.weight_volt(rng, m), dtype=np.float32)
                if w.shape != (m,) or not np.isfinite(w).all():
                    raise _err(f"projection {pr.pre}->{pr.post}: weight_volt()", w, f"must return {m} finite values")
            d = None
            if isinstance(pr.rule, Explicit) and pr.rule.delay_s is not None:
                d = pr.rule.delay_s
                if d.size and not (d > 0).all():
                    raise _err(f"projection {pr.pre}->{pr.post}: delay_s", float(d.min()), "must be > 0")
            parts.append((pr, pre, post, w, d))
        if not parts:
            return SynapseCSR(
                n_neurons=n,
                indptr=np.zeros(n + 1, np.int64),
                indices=np.empty(0, np.int32),
                weights=np.empty(0, np.float32),
                delays_s=np.array([math.inf]),
            )
        values = [np.unique(d) if d is not None else np.array([float(pr.delay_s)]) for pr, _, _, _, d in parts]
        table = np.unique(np.concatenate(values))
        empty_i, empty_f = np.empty(0, np.int64), np.empty(0, np.float32)
        prepared = []
        for pr, pre, post, w, d in parts:
            if d is None or (d.size and d.min() == d.max()):
                value = float(pr.delay_s) if d is None else float(d[0])
                cls0, cls = int(np.searchsorted(table, value)), empty_i
            else:
                cls0, cls = 0, np.searchsorted(table, d).astype(np.int64)
            w0 = float(pr.weight_volt) if w is None and not callable(pr.weight_volt) else 0.0
            prepared.append(
                (pre, post, empty_f if w is None else w, w0, cls, cls0, self.offset(pr.pre), self.offset(pr.post))
            )
        n_rows = table.size * n
        counts = np.zeros(n_rows, np.int64)
        for pre, _, _, _, cls, cls0, pre_off, _ in prepared:
            _csr.count_rows(pre, cls, cls0, n, pre_off, counts)
        indptr = np.zeros(n_rows + 1, np.int64)
        np.cumsum(counts, out=indptr[1:])
        del counts
        total = int(indptr[-1])
        indices = np.empty(total, np.int32)
        weights = np.empty(total, np.float32)
        pos = indptr[:-1].copy()
        for pre, post, w, w0, cls, cls0, pre_off, post_off in prepared:
            _csr.fill_rows(pre, post, w, w0, cls, cls0, n, pre_off, post_off, pos, indices, weights)
        return SynapseCSR(n_neurons=n, indptr=indptr, indices=indices, weights=weights, delays_s=table)

    def to_networkx(self) -> Any:
        """The population graph (nodes: populations with their size; edges: projections).

        Returns
        -------
        networkx.MultiDiGraph
            One edge per projection with ``rule`` (class name) and ``delay_s`` (s).  See
            :func:`neurochip.network.graph.population_graph` for synapse statistics.
        """
        import networkx as nx

        g = nx.MultiDiGraph()
        for p in self.populations:
            g.add_node(p.name, size=p.size)
        for pr in self.projections:
            g.add_edge(pr.pre, pr.post, rule=type(pr.rule).__name__, delay_s=pr.delay_s)
        return g
