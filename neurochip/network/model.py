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

import dataclasses
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InvalidParameterError
from ..lif import LIFParams

try:
    from . import _csr
except ImportError as exc:  # pragma: no cover - depends on the build
    raise ImportError(
        "neurochip.network's compiled counting sort (_csr) is not built; run `make install` "
        "(or `pip install -e .`) in the repository to compile it"
    ) from exc

__all__ = [
    "Population",
    "FixedInDegree",
    "FixedProbability",
    "AllToAll",
    "OneToOne",
    "Explicit",
    "Projection",
    "Network",
    "SynapseCSR",
    "PoissonInput",
    "SpikeTimesInput",
    "CurrentStep",
    "NEURON_FIELDS",
]

#: Per-neuron parameter arrays a population holds (the LIFParams fields plus the bias current).
NEURON_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(LIFParams)) + ("bias_current_amp",)

SeedLike = int | np.random.Generator | None


def _err(name: str, value: Any, rule: str) -> InvalidParameterError:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return InvalidParameterError(f"{name} = {text}: {rule}")


def _rng(seed: SeedLike, name: str = "seed") -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0):
        return np.random.default_rng(seed)
    raise _err(name, seed, "must be a non-negative int, a numpy Generator or None")


def _per_neuron(name: str, value: ArrayLike, size: int) -> NDArray[np.float64]:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(size, float(arr))
    if arr.shape != (size,):
        raise InvalidParameterError(f"{name}: got an array of shape {arr.shape}: must be a scalar or have shape ({size},)")
    if not np.isfinite(arr).all():
        raise _err(name, arr[~np.isfinite(arr)][0], "must be finite")
    arr = np.ascontiguousarray(arr)
    arr.setflags(write=False)
    return arr


def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise _err(name, value, f"must be an int >= {minimum}")
    return int(value)


# --------------------------------------------------------------------------------------------
# populations


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Population:
    """A group of LIF neurons with per-neuron parameters.

    Parameters
    ----------
    name : str
        Unique name in the network.
    size : int
        Number of neurons, >= 1.
    params : LIFParams
        Parameters shared by every neuron unless overridden in ``per_neuron``.
    bias_current_amp : float or array of shape (size,)
        Constant input current I (A) of each neuron (its DC bias).
    per_neuron : mapping of str to array of shape (size,)
        Heterogeneous values of LIFParams fields (``"c_m_farad"``, ``"v_th_volt"``, ...), which
        replace ``params``' value neuron by neuron.  Each neuron must satisfy LIFParams' rules.
    v_init_volt : float or array of shape (size,), optional
        Membrane potential at t = 0; defaults to each neuron's E_L.

    Raises
    ------
    InvalidParameterError
        Naming the field (and the first offending neuron) when a value is out of range.

    Examples
    --------
    >>> pop = Population(name="E", size=4, per_neuron={"v_th_volt": [0.5, 0.5, 0.6, 0.6]},
    ...                  bias_current_amp=1e-9)
    >>> pop.arrays()["v_th_volt"].tolist(), pop.initial_v().tolist()
    ([0.5, 0.5, 0.6, 0.6], [0.0, 0.0, 0.0, 0.0])
    >>> Population(name="E", size=2, per_neuron={"v_th_volt": [0.5, -0.1]})
    Traceback (most recent call last):
    ...
    neurochip.errors.InvalidParameterError: population 'E': neuron 1: v_reset_volt = 0.0: must be < v_th_volt
    """

    name: str
    size: int
    params: LIFParams = field(default_factory=LIFParams)
    bias_current_amp: Any = 0.0
    per_neuron: Mapping[str, Any] = field(default_factory=dict)
    v_init_volt: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise _err("name", self.name, "must be a non-empty string")
        size = _positive_int(f"population {self.name!r}: size", self.size)
        object.__setattr__(self, "size", size)
        if not isinstance(self.params, LIFParams):
            raise _err(f"population {self.name!r}: params", self.params, "must be a LIFParams")
        object.__setattr__(
            self, "bias_current_amp", _per_neuron(f"population {self.name!r}: bias_current_amp", self.bias_current_amp, size)
        )
        arrays: dict[str, NDArray[np.float64]] = {}
        for key, value in dict(self.per_neuron).items():
            if key not in NEURON_FIELDS[:-1]:
                raise _err(
                    f"population {self.name!r}: per_neuron key", key, f"must be one of {NEURON_FIELDS[:-1]}"
                )
            arrays[key] = _per_neuron(f"population {self.name!r}: per_neuron[{key!r}]", value, size)
        object.__setattr__(self, "per_neuron", arrays)
        full = self.arrays()
        rules = (
            ("c_m_farad", full["c_m_farad"] > 0, "must be > 0"),
            ("g_leak_siemens", full["g_leak_siemens"] >= 0, "must be >= 0"),
            ("v_reset_volt", full["v_reset_volt"] < full["v_th_volt"], "must be < v_th_volt"),
            ("t_ref_s", full["t_ref_s"] >= 0, "must be >= 0"),
            ("tau_adapt_s", full["tau_adapt_s"] > 0, "must be > 0"),
            ("noise_sigma_volt", full["noise_sigma_volt"] >= 0, "must be >= 0"),
        )
        for key, ok, rule in rules:
            if not ok.all():
                bad = int(np.flatnonzero(~ok)[0])
                raise _err(f"population {self.name!r}: neuron {bad}: {key}", float(full[key][bad]), rule)
        if self.v_init_volt is not None:
            object.__setattr__(
                self, "v_init_volt", _per_neuron(f"population {self.name!r}: v_init_volt", self.v_init_volt, size)
            )

    def arrays(self) -> dict[str, NDArray[np.float64]]:
        """Every per-neuron parameter as a float64 array of shape (size,) (keys: NEURON_FIELDS).

        Returns
        -------
        dict of str to ndarray of float64, shape (size,)
            One array per name in :data:`NEURON_FIELDS`, in SI units (F, S, V, s, A): the
            ``per_neuron`` value where given, else ``params``' value repeated.
        """
        out = {}
        for key in NEURON_FIELDS[:-1]:
            if key in self.per_neuron:
                out[key] = self.per_neuron[key]
            else:
                out[key] = np.full(self.size, getattr(self.params, key))
        out["bias_current_amp"] = self.bias_current_amp
        return out

    def initial_v(self) -> NDArray[np.float64]:
        """Membrane potentials at t = 0 (V), shape (size,).

        Returns
        -------
        ndarray of float64, shape (size,)
            ``v_init_volt`` when given, else each neuron's E_L (V); a copy.
        """
        if self.v_init_volt is None:
            return self.arrays()["e_leak_volt"].copy()
        return np.array(self.v_init_volt)

    @classmethod
    def sample(
        cls,
        *,
        name: str,
        size: int,
        sampler: Callable[[np.random.Generator, int], Mapping[str, ArrayLike]],
        seed: SeedLike,
        params: LIFParams | None = None,
        bias_current_amp: ArrayLike = 0.0,
        v_init_volt: ArrayLike | None = None,
    ) -> Population:
        """A population whose parameters are drawn neuron by neuron.

        Parameters
        ----------
        name : str
            Population name.
        size : int
            Number of neurons, >= 1.
        sampler : callable
            ``sampler(rng, size)`` returns a mapping from LIFParams field names (and optionally
            ``"bias_current_amp"``) to arrays of shape (size,) in SI units, e.g. a Monte Carlo
            mismatch fit.
        seed : int or numpy.random.Generator or None
            Seed of the draw (an int >= 0; None: fresh entropy).
        params : LIFParams, optional
            Values of the fields the sampler does not draw (default ``LIFParams()``).
        bias_current_amp : float or array_like, shape (size,)
            Constant input current, A (replaced by a drawn ``"bias_current_amp"``).
        v_init_volt : float or array_like, shape (size,), optional
            Membrane potential at t = 0, V.

        Returns
        -------
        Population

        Raises
        ------
        InvalidParameterError
            If the seed or size is invalid, or a drawn neuron breaks a LIFParams rule.

        Examples
        --------
        >>> def mismatch(rng, n):
        ...     return {"c_m_farad": rng.uniform(0.9e-12, 1.1e-12, n)}
        >>> pop = Population.sample(name="M", size=3, sampler=mismatch, seed=0)
        >>> pop.per_neuron["c_m_farad"].shape, bool((pop.per_neuron["c_m_farad"] > 0.8e-12).all())
        ((3,), True)
        """
        rng = _rng(seed)
        drawn = dict(sampler(rng, _positive_int("size", size)))
        if "bias_current_amp" in drawn:
            bias_current_amp = drawn.pop("bias_current_amp")
        return cls(
            name=name,
            size=size,
            params=params if params is not None else LIFParams(),
            per_neuron=drawn,
            bias_current_amp=bias_current_amp,
            v_init_volt=v_init_volt,
        )


# --------------------------------------------------------------------------------------------
# connection rules: each returns (pre, post) local indices, vectorised


@dataclass(frozen=True, slots=True, kw_only=True)
class FixedInDegree:
    """Each target draws ``k`` sources uniformly at random, with replacement (multapses allowed).

    Parameters
    ----------
    k : int
        In-degree, >= 1.
    allow_autapses : bool
        When False (and pre == post), a neuron never draws itself (drawn among the n - 1 others).

    Raises
    ------
    InvalidParameterError
        If ``k`` is not an int >= 1.

    Examples
    --------
    >>> pre, post = FixedInDegree(k=2).connect(5, 3, np.random.default_rng(0), False)
    >>> post.tolist()
    [0, 0, 1, 1, 2, 2]
    """

    k: int
    allow_autapses: bool = True

    def __post_init__(self) -> None:
        _positive_int("FixedInDegree.k", self.k)

    def connect(self, n_pre: int, n_post: int, rng: np.random.Generator, same: bool) -> tuple[NDArray, NDArray]:
        """Draw the synapses of one projection: (pre, post) local indices.

        Parameters
        ----------
        n_pre, n_post : int
            Sizes of the source and target populations, >= 1.
        rng : numpy.random.Generator
            The projection's own random stream (:class:`Network` gives each projection one).
        same : bool
            Whether source and target are the same population (autapses are then possible).

        Returns
        -------
        pre, post : ndarray of int32, shape (n_synapses,)
            Local indices of the source and target of every synapse.

        Raises
        ------
        InvalidParameterError
            Without autapses, if the population has fewer than 2 neurons.
        """
        post = np.repeat(np.arange(n_post, dtype=np.int32), self.k)
        if same and not self.allow_autapses:
            if n_pre < 2:
                raise _err("FixedInDegree", self, "needs >= 2 neurons without autapses")
            pre = rng.integers(0, n_pre - 1, size=post.size, dtype=np.int32)
            pre += pre >= post
        else:
            pre = rng.integers(0, n_pre, size=post.size, dtype=np.int32)
        return pre, post


@dataclass(frozen=True, slots=True, kw_only=True)
class FixedProbability:
    """Each (pre, post) pair is connected independently with probability ``p``.

    Parameters
    ----------
    p : float
        Connection probability, in [0, 1].
    allow_autapses : bool
        When False (and pre == post), the pairs (i, i) are left out.

    Raises
    ------
    InvalidParameterError
        If ``p`` is outside [0, 1].

    Examples
    --------
    >>> pre, post = FixedProbability(p=1.0, allow_autapses=False).connect(3, 3, np.random.default_rng(0), True)
    >>> pre.size
    6
    """

    p: float
    allow_autapses: bool = True

    def __post_init__(self) -> None:
        if not (isinstance(self.p, (int, float)) and 0.0 <= self.p <= 1.0):
            raise _err("FixedProbability.p", self.p, "must be in [0, 1]")

    def connect(self, n_pre: int, n_post: int, rng: np.random.Generator, same: bool) -> tuple[NDArray, NDArray]:
        """Draw the synapses of one projection: (pre, post) local indices.

        Parameters
        ----------
        n_pre, n_post : int
            Sizes of the source and target populations, >= 1.
        rng : numpy.random.Generator
            The projection's own random stream (:class:`Network` gives each projection one).
        same : bool
            Whether source and target are the same population (autapses are then possible).

        Returns
        -------
        pre, post : ndarray of int32, shape (n_synapses,)
            Local indices of the source and target of every synapse.
        """
        # dense Bernoulli draws, a block of targets at a time (vectorised, bounded memory)
        pre_parts, post_parts = [], []
        block = max(1, (1 << 22) // max(n_pre, 1))
        for start in range(0, n_post, block):
            stop = min(n_post, start + block)
            r, c = np.nonzero(rng.random((stop - start, n_pre)) < self.p)
            post_parts.append((r + start).astype(np.int32))
            pre_parts.append(c.astype(np.int32))
        pre = np.concatenate(pre_parts)
        post = np.concatenate(post_parts)
        if same and not self.allow_autapses:
            keep = pre != post
            pre, post = pre[keep], post[keep]
        return pre, post


@dataclass(frozen=True, slots=True, kw_only=True)
class AllToAll:
    """Every source connects to every target.

    Parameters
    ----------
    allow_autapses : bool
        When False (and pre == post), the pairs (i, i) are left out.

    Examples
    --------
    >>> pre, post = AllToAll(allow_autapses=False).connect(3, 3, np.random.default_rng(0), True)
    >>> list(zip(pre.tolist(), post.tolist()))
    [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]
    """

    allow_autapses: bool = True

    def connect(self, n_pre: int, n_post: int, rng: np.random.Generator, same: bool) -> tuple[NDArray, NDArray]:
        """Draw the synapses of one projection: (pre, post) local indices.

        Parameters
        ----------
        n_pre, n_post : int
            Sizes of the source and target populations, >= 1.
        rng : numpy.random.Generator
            The projection's own random stream (:class:`Network` gives each projection one).
        same : bool
            Whether source and target are the same population (autapses are then possible).

        Returns
        -------
        pre, post : ndarray of int32, shape (n_synapses,)
            Local indices of the source and target of every synapse.

        Notes
        -----
        Draws nothing: ``rng`` is unused.
        """
        pre = np.repeat(np.arange(n_pre, dtype=np.int32), n_post)
        post = np.tile(np.arange(n_post, dtype=np.int32), n_pre)
        if same and not self.allow_autapses:
            keep = pre != post
            pre, post = pre[keep], post[keep]
        return pre, post


@dataclass(frozen=True, slots=True, kw_only=True)
class OneToOne:
    """Source i connects to target i (both populations must have the same size).

    Examples
    --------
    >>> OneToOne().connect(3, 3, np.random.default_rng(0), False)[1].tolist()
    [0, 1, 2]
    """

    def connect(self, n_pre: int, n_post: int, rng: np.random.Generator, same: bool) -> tuple[NDArray, NDArray]:
        """Draw the synapses of one projection: (pre, post) local indices.

        Parameters
        ----------
        n_pre, n_post : int
            Sizes of the source and target populations, >= 1.
        rng : numpy.random.Generator
            The projection's own random stream (:class:`Network` gives each projection one).
        same : bool
            Whether source and target are the same population (autapses are then possible).

        Returns
        -------
        pre, post : ndarray of int32, shape (n_synapses,)
            Local indices of the source and target of every synapse.

        Raises
        ------
        InvalidParameterError
            If ``n_pre != n_post``.
        """
        if n_pre != n_post:
            raise _err("OneToOne", (n_pre, n_post), "needs populations of equal size")
        idx = np.arange(n_pre, dtype=np.int32)
        return idx, idx.copy()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Explicit:
    """Explicit synapses: arrays of (pre, post) local indices, with optional per-synapse weights
    (V) and delays (s); build from a scipy.sparse matrix with :meth:`from_sparse`.

    Parameters
    ----------
    pre, post : array_like of int, shape (n_synapses,)
        Local indices of the source and target of each synapse, in [0, population size)
        (checked when the network is built).
    weight_volt : array_like of float, shape (n_synapses,), optional
        Voltage jump of each synapse, V, finite; None: the projection's ``weight_volt``.
    delay_s : array_like of float, shape (n_synapses,), optional
        Delay of each synapse, s, > 0; None: the projection's ``delay_s``.

    Raises
    ------
    InvalidParameterError
        If the arrays are not 1-d of equal length, or a weight or delay is not finite.

    Examples
    --------
    >>> rule = Explicit(pre=[0, 1], post=[1, 1], delay_s=[1e-3, 2e-3])
    >>> rule.connect(2, 2, np.random.default_rng(0), True)[1].tolist()
    [1, 1]
    """

    pre: Any
    post: Any
    weight_volt: Any = None
    delay_s: Any = None

    def __post_init__(self) -> None:
        pre = np.ascontiguousarray(self.pre, dtype=np.int64)
        post = np.ascontiguousarray(self.post, dtype=np.int64)
        if pre.ndim != 1 or pre.shape != post.shape:
            raise _err("Explicit.pre/post", (pre.shape, post.shape), "must be 1-d arrays of equal length")
        object.__setattr__(self, "pre", pre)
        object.__setattr__(self, "post", post)
        for name in ("weight_volt", "delay_s"):
            value = getattr(self, name)
            if value is not None:
                arr = np.ascontiguousarray(value, dtype=np.float64)
                if arr.shape != pre.shape or not np.isfinite(arr).all():
                    raise _err(f"Explicit.{name}", arr, f"must be finite with shape {pre.shape}")
                object.__setattr__(self, name, arr)

    @classmethod
    def from_sparse(cls, matrix: Any, *, delay_s: ArrayLike | None = None) -> Explicit:
        """From a scipy.sparse matrix of weights (V), rows = pre, columns = post.

        Parameters
        ----------
        matrix : scipy.sparse matrix or array, shape (n_pre, n_post)
            Weights in V; each stored entry is one synapse (explicit zeros included).
        delay_s : array_like of float, shape (nnz,), optional
            Per-synapse delays in s, in the order of ``matrix.tocoo()``.

        Returns
        -------
        Explicit

        Examples
        --------
        >>> from scipy import sparse
        >>> rule = Explicit.from_sparse(sparse.csr_matrix(np.array([[0.0, 0.25], [0.5, 0.0]])))
        >>> rule.pre.tolist(), rule.post.tolist(), rule.weight_volt.tolist()
        ([0, 1], [1, 0], [0.25, 0.5])
        """
        coo = matrix.tocoo()
        return cls(pre=coo.row, post=coo.col, weight_volt=coo.data, delay_s=delay_s)

    def connect(self, n_pre: int, n_post: int, rng: np.random.Generator, same: bool) -> tuple[NDArray, NDArray]:
        """Draw the synapses of one projection: (pre, post) local indices.

        Parameters
        ----------
        n_pre, n_post : int
            Sizes of the source and target populations, >= 1.
        rng : numpy.random.Generator
            The projection's own random stream (:class:`Network` gives each projection one).
        same : bool
            Whether source and target are the same population (autapses are then possible).

        Returns
        -------
        pre, post : ndarray of int32, shape (n_synapses,)
            Local indices of the source and target of every synapse.

        Raises
        ------
        InvalidParameterError
            If an index is outside its population.
        """
        for name, arr, n in (("pre", self.pre, n_pre), ("post", self.post, n_post)):
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                raise _err(f"Explicit.{name}", int(arr.max() if arr.max() >= n else arr.min()), f"must be in [0, {n})")
        return self.pre.astype(np.int32), self.post.astype(np.int32)


Rule = FixedInDegree | FixedProbability | AllToAll | OneToOne | Explicit


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


# --------------------------------------------------------------------------------------------
# stimuli


def _neuron_index(name: str, neurons: Any, size: int) -> NDArray[np.int64]:
    if neurons is None:
        return np.arange(size, dtype=np.int64)
    idx = np.atleast_1d(np.asarray(neurons, dtype=np.int64))
    if idx.ndim != 1 or (idx.size and (idx.min() < 0 or idx.max() >= size)):
        raise _err(name, neurons, f"must be neuron indices in [0, {size})")
    return idx


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PoissonInput:
    """An independent Poisson spike train into each chosen neuron of a population.

    Parameters
    ----------
    population : str
        Target population.
    rate_hz : float or array
        Rate of each neuron's train (Hz), >= 0 (one value, or one per chosen neuron).
    weight_volt : float
        Voltage jump per input spike (V).
    neurons : array of int, optional
        Local indices of the targets; all neurons by default.

    Raises
    ------
    InvalidParameterError
        If a rate is negative or not finite, or the weight is not a finite number.

    Notes
    -----
    Each chosen neuron :math:`i` receives input spikes at the times of a Poisson process of
    rate :math:`\\nu_i`: inter-spike intervals are independent with
    :math:`P(\\Delta t > \\tau) = e^{-\\nu_i \\tau}`.

    Examples
    --------
    >>> PoissonInput(population="E", rate_hz=[10.0, 20.0], weight_volt=1e-3, neurons=[0, 3]).rate_hz.tolist()
    [10.0, 20.0]
    """

    population: str
    rate_hz: Any
    weight_volt: float
    neurons: Any = None

    def __post_init__(self) -> None:
        rate = np.atleast_1d(np.asarray(self.rate_hz, dtype=np.float64))
        if not (np.isfinite(rate).all() and (rate >= 0).all()):
            raise _err(f"PoissonInput({self.population!r}).rate_hz", self.rate_hz, "must be finite and >= 0")
        object.__setattr__(self, "rate_hz", rate)
        if not (isinstance(self.weight_volt, numbers.Real) and math.isfinite(self.weight_volt)):
            raise _err(f"PoissonInput({self.population!r}).weight_volt", self.weight_volt, "must be a finite number")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SpikeTimesInput:
    """Given input spikes: neuron ``neurons[k]`` (local index) receives ``weight_volt[k]`` at
    ``times_s[k]``.  Weights may be one number or one per spike.

    Parameters
    ----------
    population : str
        Target population.
    times_s : array_like of float, shape (n_spikes,)
        Arrival times, s, finite and >= 0.
    neurons : array_like of int, shape (n_spikes,)
        Local index of the target of each spike.
    weight_volt : float or array_like of float, shape (n_spikes,)
        Voltage jump of each spike, V, finite.

    Raises
    ------
    InvalidParameterError
        If the lengths differ, a time is negative or not finite, or a weight is not finite.

    Examples
    --------
    >>> kicks = SpikeTimesInput(population="E", times_s=[0.01, 0.02], neurons=[0, 1], weight_volt=0.6)
    >>> kicks.weight_volt.tolist()
    [0.6, 0.6]
    """

    population: str
    times_s: Any
    neurons: Any
    weight_volt: Any

    def __post_init__(self) -> None:
        t = np.atleast_1d(np.asarray(self.times_s, dtype=np.float64))
        idx = np.atleast_1d(np.asarray(self.neurons, dtype=np.int64))
        w = np.asarray(self.weight_volt, dtype=np.float64)
        w = np.full(t.shape, float(w)) if w.ndim == 0 else np.atleast_1d(w)
        name = f"SpikeTimesInput({self.population!r})"
        if t.ndim != 1 or idx.shape != t.shape or w.shape != t.shape:
            raise _err(f"{name}.times_s/neurons/weight_volt", (t.shape, idx.shape, w.shape), "must have equal lengths")
        if not (np.isfinite(t).all() and (t >= 0).all()):
            raise _err(f"{name}.times_s", self.times_s, "must be finite and >= 0")
        if not np.isfinite(w).all():
            raise _err(f"{name}.weight_volt", self.weight_volt, "must be finite")
        object.__setattr__(self, "times_s", t)
        object.__setattr__(self, "neurons", idx)
        object.__setattr__(self, "weight_volt", w)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CurrentStep:
    """A piecewise-constant extra current: from ``times_s[k]`` on, the chosen neurons receive
    ``amplitudes_amp[k]`` (A) on top of their bias (a DC current is one step at t = 0).

    Parameters
    ----------
    population : str
        Target population.
    times_s : array_like of float, shape (n_steps,)
        Step times, s, finite, >= 0 and strictly increasing.
    amplitudes_amp : array_like of float, shape (n_steps,)
        Extra current from each step time on, A, finite (not added up: each replaces the last).
    neurons : array of int, optional
        Local indices of the targets; all neurons by default.

    Raises
    ------
    InvalidParameterError
        If the lengths differ, the times are not increasing or a value is not finite.

    Examples
    --------
    A 1 nA pulse from 0 to 50 ms:

    >>> pulse = CurrentStep(population="E", times_s=[0.0, 0.05], amplitudes_amp=[1e-9, 0.0])
    >>> pulse.times_s.tolist()
    [0.0, 0.05]
    """

    population: str
    times_s: Any
    amplitudes_amp: Any
    neurons: Any = None

    def __post_init__(self) -> None:
        t = np.atleast_1d(np.asarray(self.times_s, dtype=np.float64))
        a = np.atleast_1d(np.asarray(self.amplitudes_amp, dtype=np.float64))
        name = f"CurrentStep({self.population!r})"
        if t.ndim != 1 or a.shape != t.shape:
            raise _err(f"{name}.times_s/amplitudes_amp", (t.shape, a.shape), "must be 1-d of equal length")
        if not (np.isfinite(t).all() and (t >= 0).all() and (np.diff(t) > 0).all()):
            raise _err(f"{name}.times_s", self.times_s, "must be finite, >= 0 and strictly increasing")
        if not np.isfinite(a).all():
            raise _err(f"{name}.amplitudes_amp", self.amplitudes_amp, "must be finite")
        object.__setattr__(self, "times_s", t)
        object.__setattr__(self, "amplitudes_amp", a)
