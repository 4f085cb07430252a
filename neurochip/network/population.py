"""A population of LIF neurons: per-neuron parameter arrays (part of :mod:`neurochip.network`)."""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InvalidParameterError
from ..lif import LIFParams
from ..models import NeuronModel

__all__ = ["Population", "NEURON_FIELDS"]


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
    model : NeuronModel, optional
        A neuron model of :mod:`neurochip.models` on top of the LIF parameters, e.g.
        ``Cuba(tau_syn_exc_s=5e-3)`` (current-based synapses); None: the built-in LIF with
        delta synapses (an input makes V jump by its weight).

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
    model: NeuronModel | None = None

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
        if self.model is not None:
            if not isinstance(self.model, NeuronModel):
                raise _err(f"population {self.name!r}: model", self.model, "must be a neurochip.models spec (e.g. Cuba) or None")
            self.model.check(self.name, full)
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


