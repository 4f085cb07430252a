"""Turn a Network and its stimuli into the flat per-neuron arrays both backends consume.

The layout (global neuron ids, population after population):

* neuron arrays: ``inv_tau`` (g_L / C, 1/s; 0 for a perfect integrator), ``vinf`` (V,
  E_L + I_bias / g_L; for a perfect integrator the slope I_bias / C in V/s), ``vth``,
  ``vreset``, ``tref``, ``v0``, ``cm``, ``binc`` (adaptation jump, A), ``inv_tau_w``; ``gen``
  is true when a perfect integrator or an adaptive neuron needs the general state;
* Poisson sources grouped by neuron: ``pois_ptr`` (n + 1), ``pois_cum`` (cumulative share of the
  neuron's total rate), ``pois_w`` (V), and ``rate`` (total rate per neuron, Hz);
* given input spikes grouped by neuron and sorted by time (stable: equal times keep the order
  given): ``sin_ptr``, ``sin_t``, ``sin_w``;
* current steps grouped by neuron and sorted by time: ``st_ptr``, ``st_t``, ``st_vinf`` (the new
  V_inf from that time on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError
from ..network import CurrentStep, Network, PoissonInput, SpikeTimesInput


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Prepared:
    """Flat arrays of a network and its stimuli (see the module docstring)."""

    n: int
    inv_tau: NDArray[np.float64]
    vinf: NDArray[np.float64]
    vth: NDArray[np.float64]
    vreset: NDArray[np.float64]
    tref: NDArray[np.float64]
    v0: NDArray[np.float64]
    rate: NDArray[np.float64]
    pois_ptr: NDArray[np.int64]
    pois_cum: NDArray[np.float64]
    pois_w: NDArray[np.float64]
    sin_ptr: NDArray[np.int64]
    sin_t: NDArray[np.float64]
    sin_w: NDArray[np.float64]
    st_ptr: NDArray[np.int64]
    st_t: NDArray[np.float64]
    st_vinf: NDArray[np.float64]
    cm: NDArray[np.float64]
    binc: NDArray[np.float64]
    inv_tau_w: NDArray[np.float64]
    sigma: NDArray[np.float64]
    gen: bool
    #: the plug-in neuron model of the run (neurochip.models; None: the built-in LIF), its spec
    #: class, and its kernel parameters, shape (n, len(columns))
    model: str | None = None
    model_class: Any = None
    model_params: NDArray[np.float64] | None = None


def _group(neuron: NDArray[np.int64], n: int, *cols: NDArray) -> tuple[NDArray[np.int64], list[NDArray]]:
    """Stable sort of columns by neuron (then by the first column, a time), plus row pointers."""
    if cols and cols[0].dtype == np.float64:
        order = np.lexsort((cols[0], neuron))
    else:
        order = np.argsort(neuron, kind="stable")
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(neuron, minlength=n), out=ptr[1:])
    out = [np.ascontiguousarray(col[order]) for col in cols]
    return ptr, [a if a.size else np.zeros(1, a.dtype) for a in out]


def prepare(network: Network, inputs: Sequence[Any], duration_s: float) -> Prepared:
    """Validate the stimuli against the network and build the flat arrays."""
    if not isinstance(network, Network):
        raise InvalidParameterError(f"network = {type(network).__name__}: must be a neurochip.network.Network")
    n = network.n_neurons
    a = network.neuron_arrays()
    g = a["g_leak_siemens"]
    cm = a["c_m_farad"]
    pif = g == 0
    noisy = a["noise_sigma_volt"] > 0
    bad_noise = noisy & (pif | (a["adapt_increment_amp"] != 0))
    if bad_noise.any():
        bad = int(np.flatnonzero(bad_noise)[0])
        raise InvalidParameterError(
            f"neuron {bad}: noise_sigma_volt = {float(a['noise_sigma_volt'][bad])!r}: white noise is "
            "implemented for leaky, non-adapting neurons only"
        )
    inv_tau = g / cm
    e_l = a["e_leak_volt"]
    bias = a["bias_current_amp"]
    safe_g = np.where(pif, 1.0, g)
    # the drive: V_inf = E_L + I / g_L for a leaky neuron, the slope I / C for a perfect integrator
    vinf = np.where(pif, bias / cm, e_l + bias / safe_g)
    gen = bool(pif.any() or (a["adapt_increment_amp"] != 0).any() or noisy.any())
    model_cls, model_params, vth = _plugin(network, a)
    gen = gen or model_cls is not None

    p_neu, p_rate, p_w = [], [], []
    s_neu, s_t, s_w = [], [], []
    c_neu, c_t, c_delta, c_seq = [], [], [], []
    for k, stim in enumerate(inputs):
        if not isinstance(stim, (PoissonInput, SpikeTimesInput, CurrentStep)):
            raise InvalidParameterError(
                f"inputs[{k}] = {type(stim).__name__}: must be PoissonInput, SpikeTimesInput or CurrentStep"
            )
        pop = network.population(stim.population)
        off = network.offset(stim.population)
        if isinstance(stim, PoissonInput):
            idx = np.arange(pop.size) if stim.neurons is None else np.atleast_1d(np.asarray(stim.neurons))
            if idx.size and (idx.min() < 0 or idx.max() >= pop.size):
                raise InvalidParameterError(f"inputs[{k}].neurons: must be in [0, {pop.size})")
            rate = np.broadcast_to(stim.rate_hz, idx.shape) if stim.rate_hz.size == 1 else stim.rate_hz
            if rate.shape != idx.shape:
                raise InvalidParameterError(
                    f"inputs[{k}].rate_hz: has {rate.size} values for {idx.size} neurons"
                )
            p_neu.append(idx.astype(np.int64) + off)
            p_rate.append(np.asarray(rate, np.float64))
            p_w.append(np.full(idx.size, float(stim.weight_volt)))
        elif isinstance(stim, SpikeTimesInput):
            if stim.neurons.size and (stim.neurons.min() < 0 or stim.neurons.max() >= pop.size):
                raise InvalidParameterError(f"inputs[{k}].neurons: must be in [0, {pop.size})")
            s_neu.append(stim.neurons + off)
            s_t.append(stim.times_s)
            s_w.append(stim.weight_volt)
        else:
            idx = np.arange(pop.size) if stim.neurons is None else np.atleast_1d(np.asarray(stim.neurons))
            if idx.size and (idx.min() < 0 or idx.max() >= pop.size):
                raise InvalidParameterError(f"inputs[{k}].neurons: must be in [0, {pop.size})")
            delta = np.diff(stim.amplitudes_amp, prepend=0.0)
            for j in idx:
                c_neu.append(np.full(delta.size, j + off, np.int64))
                c_t.append(stim.times_s)
                c_delta.append(delta)
                c_seq.append(np.full(delta.size, k, np.int64))

    def cat(parts: list, dtype: Any) -> NDArray:
        return np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype)

    # Poisson: several sources on one neuron are one train of the summed rate whose events pick
    # their source (weight) with probability rate_j / total
    pn, pr, pw = cat(p_neu, np.int64), cat(p_rate, np.float64), cat(p_w, np.float64)
    keep = pr > 0
    pn, pr, pw = pn[keep], pr[keep], pw[keep]
    order = np.argsort(pn, kind="stable")
    pn, pr, pw = pn[order], pr[order], pw[order]
    pois_ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(pn, minlength=n), out=pois_ptr[1:])
    rate = np.bincount(pn, weights=pr, minlength=n).astype(np.float64)
    cum = np.cumsum(pr)
    start = np.repeat(pois_ptr[:-1], np.diff(pois_ptr))
    before = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0) if pr.size else cum
    pois_cum = (cum - before) / rate[pn] if pr.size else cum
    pois_cum = pois_cum if pois_cum.size else np.zeros(1)
    pw = pw if pw.size else np.zeros(1)

    sn = cat(s_neu, np.int64)
    st = cat(s_t, np.float64)
    sw = cat(s_w, np.float64)
    inside = st < duration_s
    sin_ptr, (sin_t, sin_w) = _group(sn[inside], n, st[inside], sw[inside])

    cn = cat(c_neu, np.int64)
    ct = cat(c_t, np.float64)
    cd = cat(c_delta, np.float64)
    cs = cat(c_seq, np.int64)
    order = np.lexsort((cs, ct, cn))
    cn, ct, cd = cn[order], ct[order], cd[order]
    st_ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(cn, minlength=n), out=st_ptr[1:])
    # running extra current per neuron -> new V_inf after each step
    csum = np.cumsum(cd)
    first = np.repeat(st_ptr[:-1], np.diff(st_ptr))
    base = np.where(first > 0, csum[np.maximum(first - 1, 0)], 0.0) if cd.size else csum
    extra = csum - base
    st_vinf = np.where(pif[cn], vinf[cn] + extra / cm[cn], vinf[cn] + extra / safe_g[cn]) if cn.size else np.zeros(1)
    st_t = ct if ct.size else np.zeros(1)

    return Prepared(
        n=n,
        inv_tau=np.ascontiguousarray(inv_tau),
        vinf=np.ascontiguousarray(vinf),
        vth=np.ascontiguousarray(vth),
        vreset=np.ascontiguousarray(a["v_reset_volt"]),
        tref=np.ascontiguousarray(a["t_ref_s"]),
        v0=np.ascontiguousarray(a["v_init_volt"]),
        rate=rate,
        pois_ptr=pois_ptr,
        pois_cum=np.ascontiguousarray(pois_cum, np.float64),
        pois_w=np.ascontiguousarray(pw, np.float64),
        sin_ptr=sin_ptr,
        sin_t=sin_t,
        sin_w=sin_w,
        st_ptr=st_ptr,
        st_t=np.ascontiguousarray(st_t, np.float64),
        st_vinf=np.ascontiguousarray(st_vinf, np.float64),
        cm=np.ascontiguousarray(cm),
        binc=np.ascontiguousarray(a["adapt_increment_amp"]),
        inv_tau_w=np.ascontiguousarray(1.0 / a["tau_adapt_s"]),
        sigma=np.ascontiguousarray(a["noise_sigma_volt"]),
        gen=gen,
        model=None if model_cls is None else model_cls.name,
        model_class=model_cls,
        model_params=model_params,
    )


def _plugin(network: Network, a: dict[str, NDArray[np.float64]]) -> tuple[Any, Any, NDArray[np.float64]]:
    """The run's plug-in model (one per run: the populations without one run in its kernel as
    delta-synapse LIF neurons), its parameter rows, and the thresholds (+inf where a model
    population does not spike)."""
    vth = a["v_th_volt"]
    specs = [p.model for p in network.populations if p.model is not None]
    if not specs:
        return None, None, vth
    kinds = sorted({type(m).name for m in specs})
    if len(kinds) > 1:
        raise InvalidParameterError(f"populations use the neuron models {kinds}: one plug-in model per network")
    cls = type(specs[0])
    rows, vth = [], vth.copy()
    for p in network.populations:
        sl = slice(network.offset(p.name), network.offset(p.name) + p.size)
        if p.model is None:
            if a["noise_sigma_volt"][sl].any() or a["adapt_increment_amp"][sl].any():
                raise InvalidParameterError(
                    f"population {p.name!r}: adaptation or white noise cannot run in one network with "
                    f"{cls.name!r} populations ({cls.__name__} runs every neuron of the network)"
                )
            rows.append(cls.delta_columns(p.size))
            continue
        arrays = {key: value[sl] for key, value in a.items()}
        p.model.check(p.name, arrays)
        rows.append(p.model.kernel_columns(arrays))
        if not getattr(p.model, "spiking", True):
            vth[sl] = np.inf
    return cls, np.ascontiguousarray(np.concatenate(rows), np.float64), vth
