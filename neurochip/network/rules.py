"""Connection rules of a projection: fixed in-degree, fixed probability, all-to-all,
one-to-one, explicit (part of :mod:`neurochip.network`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .population import _err, _positive_int

__all__ = ["FixedInDegree", "FixedProbability", "AllToAll", "OneToOne", "Explicit"]


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


