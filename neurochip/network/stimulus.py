"""Stimuli of a network: Poisson input, given spike times, current steps (part of
:mod:`neurochip.network`)."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .population import _err

__all__ = ["PoissonInput", "SpikeTimesInput", "CurrentStep"]


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
