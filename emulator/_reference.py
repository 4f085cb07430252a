"""The reference backend: the emulator's behaviour, written plainly (one global event queue).

This module defines what the compiled engine must do; it is slow (pure Python per event) and
meant for small networks and for the parity test.  The rules:

* Between events each neuron follows :math:`V(t) = V_\\infty + (V(t_0) - V_\\infty)
  e^{-(t - t_0)/\\tau}`, :math:`V_\\infty = E_L + I/g_L`.
* An input (given spike, Poisson spike or recurrent arrival) of weight w at t makes V jump by
  w; if then V >= V_th the neuron spikes at t.  With V_inf > V_th the neuron also spikes by
  drift at t* = t0 + tau ln((V_inf - V(t0)) / (V_inf - V_th)).
* After a spike at t the neuron is held at V_reset during [t, t + t_ref): inputs arriving in
  that interval are discarded (counted), current steps change V_inf only.
* A spike at t of neuron i reaches target j at t + d (d the synapse's delay, > 0).
* Equal times: events are processed in the order (time, kind, ...) with kind: drift crossing,
  current step, given spike, Poisson spike, recurrent arrival (own inputs are applied and
  tested one by one).  All recurrent arrivals of one instant are summed before the threshold
  is tested (a volley of simultaneous excitatory and inhibitory spikes acts as its sum, as on
  a clock-driven simulator's time step).  The spike log is sorted by (time, address).

Poisson inputs are the engine's own per-neuron streams (``_engine.poisson_train``: the same
seeded generator, drawn in the same order), so both backends see identical inputs.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from ..network import SynapseCSR
from . import _engine
from ._prepare import Prepared

_DRIFT, _STEP, _GIVEN, _POISSON, _REC = 0, 1, 2, 3, 4


def run_reference(prep: Prepared, csr: SynapseCSR, duration_s: float, seed: int) -> tuple:
    """Run; returns (times, ids, spike_count, counters dict)."""
    n = prep.n
    with np.errstate(divide="ignore"):
        tau = 1.0 / prep.inv_tau
    vinf = prep.vinf.copy()
    w_ad = np.zeros(n)  # adaptation current at t_last (general state)
    v = prep.v0.copy()
    t_last = np.zeros(n)
    ref_until = np.full(n, -math.inf)
    version = np.zeros(n, np.int64)
    counts = np.zeros(n, np.int64)
    cnt = dict.fromkeys(
        ("rec_events", "rec_discarded", "ext_events", "ext_discarded", "neuron_updates", "spikes",
         "current_steps", "drift_spikes"), 0)  # fmt: skip
    heap: list[tuple] = []
    for i in range(n):
        for k in range(prep.st_ptr[i], prep.st_ptr[i + 1]):
            if prep.st_t[k] < duration_s:
                heapq.heappush(heap, (prep.st_t[k], _STEP, i, k))
        for k in range(prep.sin_ptr[i], prep.sin_ptr[i + 1]):
            heapq.heappush(heap, (prep.sin_t[k], _GIVEN, i, k))
        if prep.rate[i] > 0:
            lo, hi = prep.pois_ptr[i], prep.pois_ptr[i + 1]
            times, src = _engine.poisson_train(seed, i, float(prep.rate[i]), prep.pois_cum[lo:hi].copy(), duration_s)
            for seq, (t, j) in enumerate(zip(times.tolist(), src.tolist())):
                heapq.heappush(heap, (t, _POISSON, i, seq, float(prep.pois_w[lo + j])))
    spikes: list[tuple[float, int]] = []

    def value(i: int, t: float) -> float:
        if prep.gen:
            return _general_v(prep, vinf, v, w_ad, i, t - t_last[i])
        return vinf[i] + (v[i] - vinf[i]) * math.exp(-(t - t_last[i]) / tau[i])

    def move(i: int, t: float) -> None:
        v[i] = value(i, t)
        w_ad[i] *= math.exp(-prep.inv_tau_w[i] * (t - t_last[i]))
        t_last[i] = t

    def schedule_drift(i: int) -> None:
        version[i] += 1
        if prep.gen:
            dt = _general_crossing(prep, vinf, v, w_ad, i, duration_s - t_last[i])
            if dt is not None:
                heapq.heappush(heap, (t_last[i] + dt, _DRIFT, i, int(version[i])))
        elif vinf[i] > prep.vth[i]:
            ts = t_last[i] + tau[i] * math.log((vinf[i] - v[i]) / (vinf[i] - prep.vth[i]))
            if ts < duration_s:
                heapq.heappush(heap, (ts, _DRIFT, i, int(version[i])))

    def spike(i: int, t: float) -> None:
        counts[i] += 1
        cnt["spikes"] += 1
        cnt["neuron_updates"] += 1
        spikes.append((t, i))
        ref_until[i] = t + prep.tref[i]
        b = prep.inv_tau_w[i]
        w_ad[i] = (w_ad[i] * math.exp(-b * (t - t_last[i])) + prep.binc[i]) * math.exp(-b * prep.tref[i])
        v[i] = prep.vreset[i]
        t_last[i] = ref_until[i]
        for j, d in enumerate(csr.delays_s):
            row = j * n + i
            for s in range(csr.indptr[row], csr.indptr[row + 1]):
                ta = t + d
                if ta < duration_s:
                    heapq.heappush(heap, (ta, _REC, j, t, i, s))
        schedule_drift(i)

    def receive(i: int, t: float, w: float) -> bool:
        if t < ref_until[i]:
            return False
        move(i, t)
        v[i] += w
        cnt["neuron_updates"] += 1
        if v[i] >= prep.vth[i]:
            spike(i, t)
        else:
            schedule_drift(i)
        return True

    for i in range(n):
        if v[i] >= prep.vth[i]:
            spike(i, 0.0)
        else:
            schedule_drift(i)

    while heap:
        ev = heapq.heappop(heap)
        t, kind = ev[0], ev[1]
        if kind == _DRIFT:
            i = ev[2]
            if ev[3] == version[i]:
                cnt["drift_spikes"] += 1
                spike(i, max(t, ref_until[i]))
        elif kind == _STEP:
            i, k = ev[2], ev[3]
            cnt["current_steps"] += 1
            cnt["neuron_updates"] += 1
            if t >= ref_until[i]:
                move(i, t)
            vinf[i] = prep.st_vinf[k]
            schedule_drift(i)
        elif kind in (_GIVEN, _POISSON):
            i = ev[2]
            w = prep.sin_w[ev[3]] if kind == _GIVEN else ev[4]
            cnt["ext_events"] += 1
            if not receive(i, t, w):
                cnt["ext_discarded"] += 1
        else:
            # every recurrent arrival of this instant (they are adjacent in the queue), summed
            # before the threshold test
            group = [ev]
            while heap and heap[0][0] == t and heap[0][1] == _REC:
                group.append(heapq.heappop(heap))
            touched: dict[int, None] = {}
            for g in group:
                s = g[5]
                i = int(csr.indices[s])
                cnt["rec_events"] += 1
                if t < ref_until[i]:
                    cnt["rec_discarded"] += 1
                    continue
                move(i, t)
                v[i] += float(csr.weights[s])
                cnt["neuron_updates"] += 1
                touched[i] = None
            for i in touched:
                if v[i] >= prep.vth[i]:
                    spike(i, t)
                else:
                    schedule_drift(i)

    spikes.sort()
    times = np.array([s[0] for s in spikes], dtype=np.float64)
    ids = np.array([s[1] for s in spikes], dtype=np.int32)
    return times, ids, counts, cnt


def _phi(d: float, t: float) -> float:
    return t if abs(d * t) < 1e-300 else math.expm1(d * t) / d


def _general_v(prep: Prepared, drive: np.ndarray, v: np.ndarray, w_ad: np.ndarray, i: int, dt: float) -> float:
    """V after dt of a perfect integrator or adaptive LIF (docs/emulator.md, general state)."""
    a, b, q = prep.inv_tau[i], prep.inv_tau_w[i], w_ad[i] / prep.cm[i]
    if a == 0.0:
        return v[i] + drive[i] * dt - q * _phi(-b, dt)
    return drive[i] + math.exp(-a * dt) * ((v[i] - drive[i]) - q * _phi(a - b, dt))


def _general_crossing(prep: Prepared, drive, v, w_ad, i: int, horizon: float) -> float | None:
    """First dt in [0, horizon] with V >= V_th (brentq on the bracket of the one extremum)."""
    from scipy.optimize import brentq, minimize_scalar

    vth = prep.vth[i]

    def f(dt: float) -> float:
        return _general_v(prep, drive, v, w_ad, i, dt) - vth

    if f(0.0) >= 0:
        return 0.0
    if horizon <= 0 or not math.isfinite(horizon):
        return None
    # V has at most one extremum: find the maximum of V on [0, horizon] numerically (an
    # independent route from the engine's closed-form extremum)
    best = minimize_scalar(lambda t: -f(t), bounds=(0.0, horizon), method="bounded", options={"xatol": 1e-15})
    t_max = float(best.x)
    if f(t_max) >= 0:
        return brentq(f, 0.0, t_max, xtol=1e-18, rtol=4 * np.finfo(float).eps)
    if f(horizon) >= 0:
        return brentq(f, t_max, horizon, xtol=1e-18, rtol=4 * np.finfo(float).eps)
    return None
