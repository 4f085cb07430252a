r"""Read out leaky-integrator populations: V(t) and the input current, exactly, from a run.

A population of the current-based model with ``spiking=False`` (``Cuba(..., spiking=False)``,
what NIR's CubaLI imports to) never fires, so a run records nothing of it; its state is what a
readout layer outputs.  The model is linear, so its state at any time is a sum of closed-form
kernels, one per synaptic arrival, which :func:`li_readout` adds up from the recorded spikes of
the presynaptic neurons (and the given input spikes):

.. math::

    V(t) = V_\infty + (V_0 - V_\infty) e^{-a t}
           + \sum_{k:\, t_k \le t} \frac{w_k}{\tau_k} K_k(t - t_k), \qquad
    J(t) = \sum_{k:\, t_k \le t} \frac{w_k}{\tau_k} e^{-(t - t_k)/\tau_k},

with :math:`a = 1/\tau_m = g_L / C`, :math:`V_\infty = E_L + I_{bias}/g_L`, :math:`t_k` the
arrival (spike time plus delay), :math:`w_k` the weight (V), :math:`\tau_k` the time constant of
its channel (excitatory for :math:`w_k \ge 0`), and

.. math::

    K(s) = \int_0^s e^{-a (s - u)} e^{-u/\tau}\,du
         = e^{-m s}\,\frac{1 - e^{-|a - 1/\tau| s}}{|a - 1/\tau|}, \quad m = \min(a, 1/\tau)

(:math:`s e^{-a s}` when :math:`\tau = \tau_m`; written so that no exponential overflows).  A
perfect integrator (:math:`g_L = 0`) has :math:`V_0 + (I_{bias}/C) t` as its first part.  The
current returned is :math:`C J + I_{bias}` (A): the synaptic current plus the bias, which is
NIR's :math:`I` for an imported CubaLI node (its Affine bias imports as the bias current).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InvalidParameterError
from ..models.cuba import Cuba
from .model import Network
from .stimulus import SpikeTimesInput

__all__ = ["li_readout"]

#: Largest (times x arrivals) block evaluated at once.
_BLOCK = 1 << 22


def _kernel(a: float, k: NDArray[np.float64], s: NDArray[np.float64]) -> NDArray[np.float64]:
    """K(s) = int_0^s e^{-a(s-u)} e^{-k u} du for s >= 0 (k per column)."""
    m = np.minimum(a, k)
    d = np.abs(a - k)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(d > 0, -np.expm1(-d * s) / np.where(d > 0, d, 1.0), s)
    return np.exp(-m * s) * frac


def _arrivals(network: Network, population: str, result: Any, inputs: Sequence[Any]) -> tuple[NDArray, ...]:
    """(target neuron, arrival time, weight) of every input the population received."""
    start, size = network.offset(population), network.population(population).size
    events = getattr(result, "events", None)
    counts = getattr(result, "spike_counts", None)
    if events is None or counts is None:
        raise InvalidParameterError(f"result = {type(result).__name__}: must be an EmulationResult of the network")
    if counts.size != network.n_neurons:
        raise InvalidParameterError(
            f"result has {counts.size} neurons, the network {network.n_neurons}: not a run of this network"
        )
    if int(counts.sum()) != events.size:
        raise InvalidParameterError("result holds no spike log: run the network with record=True")
    pre, post, w, d = network.csr().to_coo()
    into = (post >= start) & (post < start + size)
    pre, post, w, d = pre[into], post[into] - start, w[into].astype(np.float64), d[into]
    order = np.argsort(pre, kind="stable")
    pre, post, w, d = pre[order], post[order], w[order], d[order]
    addr = np.asarray(events["address"], dtype=np.int64)
    times = np.asarray(events["time_s"], dtype=np.float64)
    lo = np.searchsorted(pre, addr, side="left")
    n = np.searchsorted(pre, addr, side="right") - lo
    spike = np.repeat(np.arange(addr.size), n)
    syn = np.arange(spike.size) - np.repeat(np.cumsum(n) - n, n) + np.repeat(lo, n)
    parts = [(post[syn].astype(np.int64), times[spike] + d[syn], w[syn])]
    for stim in inputs:
        if getattr(stim, "population", None) != population:
            continue  # it acts on this population only through recorded spikes
        if not isinstance(stim, SpikeTimesInput):
            raise InvalidParameterError(
                f"inputs: {type(stim).__name__} into population {population!r}: only SpikeTimesInput can be read "
                "back (Poisson spikes are not recorded; a current step changes V_inf)"
            )
        parts.append((np.asarray(stim.neurons, np.int64), np.asarray(stim.times_s, np.float64),
                      np.broadcast_to(np.asarray(stim.weight_volt, np.float64), stim.times_s.shape)))  # fmt: skip
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))


def li_readout(
    network: Network,
    population: str,
    result: Any,
    times_s: ArrayLike,
    *,
    inputs: Sequence[Any] = (),
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Membrane potential and input current of a leaky-integrator population, at given times.

    Parameters
    ----------
    network : Network
        The network that was run.
    population : str
        A population with ``model=Cuba(..., spiking=False)`` (an imported NIR CubaLI node).
    result : EmulationResult
        The run (``neurochip.emulator.run(network, ..., record=True)``): its spike log gives
        the presynaptic spikes.
    times_s : array_like of float, shape (n_times,)
        Sample times (s), in [0, result.duration_s].
    inputs : sequence of stimuli
        The stimuli of the run; the SpikeTimesInput ones into ``population`` are added (any
        other stimulus into it raises).

    Returns
    -------
    v_volt : ndarray of float64, shape (n_times, size)
        V (V) of each neuron at each time.
    current_amp : ndarray of float64, shape (n_times, size)
        The synaptic current plus the bias current (A): NIR's :math:`I`.

    Raises
    ------
    InvalidParameterError
        When the population is not a non-spiking current-based one, the result has no spike
        log or is not of this network, a time is out of range, or an input cannot be read
        back.

    Notes
    -----
    The sum of closed-form kernels is in the module docstring.  An input arriving exactly at a
    sample time counts in the current (its jump) and adds nothing yet to V (V is continuous).

    Examples
    --------
    >>> from neurochip.lif import LIFParams
    >>> from neurochip.models.cuba import Cuba
    >>> from neurochip.network import Network, Population, SpikeTimesInput
    >>> p = LIFParams(c_m_farad=1e-3, g_leak_siemens=1.0, v_th_volt=1.0, t_ref_s=0.0)   # tau_m = 1 ms
    >>> li = Population(name="li", size=1, params=p, model=Cuba(tau_syn_exc_s=1e-3, spiking=False))
    >>> net = Network(populations=(li,))
    >>> kick = [SpikeTimesInput(population="li", times_s=[0.0], neurons=[0], weight_volt=1.0)]
    >>> class Run:  # what li_readout reads of a run with no spikes
    ...     events = np.zeros(0, dtype=[("time_s", "f8"), ("address", "i4")]); spike_counts = np.zeros(1, int)
    ...     duration_s = 0.01
    >>> v, i = li_readout(net, "li", Run(), [1e-3], inputs=kick)
    >>> round(float(v[0, 0]), 12), round(float(i[0, 0]), 12)  # tau = tau_m: (w/tau) t e^{-t/tau}; C (w/tau) e^{-1}
    (0.367879441171, 0.367879441171)
    """
    if population not in [p.name for p in network.populations]:
        raise InvalidParameterError(f"population = {population!r}: not in the network")
    pop = network.population(population)
    model = pop.model
    if not isinstance(model, Cuba) or model.spiking:
        raise InvalidParameterError(
            f"population {population!r}: li_readout reads leaky integrators, populations with "
            f"model=Cuba(..., spiking=False); this one has model={model!r}"
        )
    t = np.atleast_1d(np.asarray(times_s, dtype=np.float64))
    duration = float(getattr(result, "duration_s", np.inf))
    if t.ndim != 1 or not np.isfinite(t).all() or (t < 0).any() or (t > duration).any():
        raise InvalidParameterError(f"times_s: must be a 1-d array of times in [0, {duration}] s")
    a = pop.arrays()
    c, g, bias = a["c_m_farad"], a["g_leak_siemens"], a["bias_current_amp"]
    v0 = pop.initial_v()
    target, arrival, weight = _arrivals(network, population, result, inputs)
    tau = np.where(weight >= 0, model.tau_syn_exc_s, float(model.tau_syn_inh_s))  # type: ignore[arg-type]

    v = np.empty((t.size, pop.size))
    j = np.zeros((t.size, pop.size))
    order = np.argsort(target, kind="stable")
    target, arrival, weight, tau = target[order], arrival[order], weight[order], tau[order]
    bounds = np.searchsorted(target, np.arange(pop.size + 1))
    for n in range(pop.size):
        rate = g[n] / c[n]
        if rate > 0:
            vinf = a["e_leak_volt"][n] + bias[n] / g[n]
            v[:, n] = vinf + (v0[n] - vinf) * np.exp(-rate * t)
        else:
            v[:, n] = v0[n] + bias[n] / c[n] * t
        lo, hi = int(bounds[n]), int(bounds[n + 1])
        step = max(1, _BLOCK // max(t.size, 1))
        for s0 in range(lo, hi, step):
            sl = slice(s0, min(hi, s0 + step))
            k = 1.0 / tau[sl]
            s = t[:, None] - arrival[None, sl]
            on = s >= 0
            s = np.where(on, s, 0.0)
            amp = weight[sl] * k  # the current's jump / C (V/s)
            v[:, n] += np.where(on, amp * _kernel(rate, k, s), 0.0).sum(axis=1)
            j[:, n] += np.where(on, amp * np.exp(-k * s), 0.0).sum(axis=1)
    return v, c * j + bias
