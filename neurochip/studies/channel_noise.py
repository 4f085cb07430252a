r"""Channel noise: the ISI jitter of N stochastic leak channels, measured two ways.

Checks :func:`neurochip.lif.channel_noise_sigma` (the diffusion approximation of N two-state
channels by white noise) followed by :func:`neurochip.lif.siegert_cv` (first-passage theory):

1. the emulator's noisy neuron with that white noise, which checks the Siegert CV;
2. a direct simulation of the N Markov channels, which checks the diffusion approximation
   itself (no white-noise assumption; the conductance noise is multiplicative).

See ``docs/lif-channel-noise.md``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InvalidParameterError
from ..lif import LIFParams, channel_noise_sigma, rheobase, siegert_cv, siegert_rate

__all__ = ["isi_cv", "measure_channel_noise_cv", "markov_channel_cv", "compare_channel_noise"]


def isi_cv(spike_times_s: ArrayLike) -> float:
    """Coefficient of variation (std / mean) of the inter-spike intervals of one spike train.

    Parameters
    ----------
    spike_times_s : array_like
        Sorted spike times in s.

    Returns
    -------
    float
        The CV (dimensionless); nan with fewer than 3 spikes.

    Examples
    --------
    >>> isi_cv([0.0, 1.0, 3.0])  # intervals 1 and 2 s: std 0.5, mean 1.5
    0.3333333333333333
    """
    t = np.asarray(spike_times_s, dtype=np.float64)
    if t.size < 3:
        return math.nan
    d = np.diff(t)
    return float(d.std() / d.mean())


def measure_channel_noise_cv(
    params: LIFParams, current: float, sigma_volt: float, *, n_spikes: int = 2000, seed: int = 0
) -> tuple[float, int]:
    """ISI CV of the emulator's noisy neuron (``noisy_spike_times``) under white noise ``sigma_volt``.

    Parameters
    ----------
    params : LIFParams
        A leaky, non-adapting neuron (its own noise field is replaced by ``sigma_volt``).
    current : float
        Mean input current in A.
    sigma_volt : float
        Noise amplitude in V (Brunel's convention), e.g. from
        :func:`~neurochip.lif.channel_noise_sigma`.
    n_spikes : int
        The run lasts ``n_spikes`` / the Siegert rate, for about that many spikes.
    seed : int
        Seed of the noise path.

    Returns
    -------
    cv : float
        ISI CV, to compare with :func:`~neurochip.lif.siegert_cv`.
    n_intervals : int
        Number of intervals it was measured on.

    Examples
    --------
    >>> from neurochip.lif import LIFParams
    >>> cv, n = measure_channel_noise_cv(LIFParams(), 5e-10, 0.1, n_spikes=200, seed=1)
    >>> n > 150, 0.2 < cv < 0.4  # Siegert CV 0.306
    (True, True)
    """
    from ..emulator import noisy_spike_times

    p = params.replace(noise_sigma_volt=float(sigma_volt))
    rate = float(siegert_rate(p, current))
    if not rate > 0:
        raise InvalidParameterError(f"measure_channel_noise_cv: predicted rate is 0 at sigma = {sigma_volt!r} V")
    t = noisy_spike_times(p, current, duration_s=n_spikes / rate, seed=seed)
    return isi_cv(t), max(t.size - 1, 0)


def markov_channel_cv(
    params: LIFParams,
    current: float,
    *,
    n_channels: int,
    open_probability: float,
    channel_tau_s: float,
    n_neurons: int = 200,
    duration_s: float | None = None,
    dt_s: float | None = None,
    seed: int = 0,
) -> tuple[float, float, int]:
    r"""ISI CV and rate of LIF neurons whose leak is N explicit two-state Markov channels.

    Parameters
    ----------
    params : LIFParams
        A leaky neuron (its noise field is not used).
    current : float
        Constant input current in A.
    n_channels, open_probability, channel_tau_s
        N, p and tau_c (s), as in :func:`~neurochip.lif.channel_noise_sigma`.
    n_neurons : int
        Independent neurons simulated side by side (their intervals are pooled).
    duration_s : float, optional
        Simulated time in s (default 100 tau_m).
    dt_s : float, optional
        Step in s (default min(tau_c, tau_m) / 20); spike times are on this grid.
    seed : int
        Seed of the binomial draws.

    Returns
    -------
    cv : float
        Pooled ISI CV (nan with fewer than 2 intervals).
    rate_hz : float
        1 / mean ISI, in Hz.
    n_intervals : int
        Number of intervals pooled.

    Notes
    -----
    Each neuron's leak conductance is :math:`\gamma\,n_o(t)`, :math:`\gamma = g_L/(N p)`, with
    :math:`n_o` the number of open channels.  Channels open at rate :math:`\alpha = p/\tau_c`
    and close at :math:`\beta = (1-p)/\tau_c`; over a step dt the exact per-channel transition
    probabilities are :math:`p(1 - e^{-dt/\tau_c})` (closed -> open) and
    :math:`(1-p)(1 - e^{-dt/\tau_c})` (open -> closed), so the open count is updated by two
    binomial draws.  With the conductance held over the step, the membrane moves exactly:
    :math:`V \leftarrow V_\infty + (V - V_\infty) e^{-g\,dt/C}`, :math:`V_\infty = E_L + I/g`;
    a spike is the step whose end is above threshold, then reset and hold as usual.  This is
    the conductance noise that :func:`~neurochip.lif.channel_noise_sigma` approximates by white
    noise; there is no diffusion approximation here.

    Examples
    --------
    >>> from neurochip.lif import LIFParams, firing_rate
    >>> p = LIFParams(g_leak_siemens=1e-10, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=2e-3)
    >>> cv, rate, n = markov_channel_cv(p, 3e-12, n_channels=50, open_probability=1.0,
    ...                                 channel_tau_s=1e-3, n_neurons=2, duration_s=0.05, dt_s=2e-6)
    >>> round(rate / firing_rate(p, 3e-12), 2), cv < 0.01  # p = 1: no fluctuation at all
    (1.0, True)
    """
    if params.g_leak_siemens == 0:
        raise InvalidParameterError("markov_channel_cv: needs a leak (g_leak_siemens > 0); got 0")
    channel_noise_sigma(params, n_channels=n_channels, open_probability=open_probability,
                        channel_tau_s=channel_tau_s, driving_force_volt=1.0)  # validates  # fmt: skip
    rng = np.random.default_rng(seed)
    n, p = int(n_channels), float(open_probability)
    dt = min(channel_tau_s, params.tau_m_s) / 20 if dt_s is None else float(dt_s)
    if duration_s is None:
        duration_s = 100 * params.tau_m_s
    if not (math.isfinite(duration_s) and duration_s > 0 and dt > 0):
        raise InvalidParameterError(f"duration_s = {duration_s!r}, dt_s = {dt!r}: must be > 0")
    gamma = params.g_leak_siemens / (n * p)
    q = -math.expm1(-dt / channel_tau_s)
    n_open = rng.binomial(n, p, size=n_neurons)
    v = np.full(n_neurons, params.v_reset_volt)
    hold_until = np.zeros(n_neurons)
    last = np.full(n_neurons, np.nan)
    sums = np.zeros(n_neurons)
    sq = np.zeros(n_neurons)
    counts = np.zeros(n_neurons, dtype=np.int64)
    n_steps = int(round(duration_s / dt))
    for k in range(n_steps):
        t = (k + 1) * dt
        g = np.maximum(gamma * n_open, 1e-30)
        vinf = params.e_leak_volt + current / g
        v_new = vinf + (v - vinf) * np.exp(-g * dt / params.c_m_farad)
        active = hold_until <= t - dt
        v = np.where(active, v_new, params.v_reset_volt)
        spk = active & (v >= params.v_th_volt)
        if spk.any():
            idx = np.flatnonzero(spk)
            prev = last[idx]
            ok = ~np.isnan(prev)
            d = t - prev[ok]
            sums[idx[ok]] += d
            sq[idx[ok]] += d * d
            counts[idx[ok]] += 1
            last[idx] = t
            v[idx] = params.v_reset_volt
            hold_until[idx] = t + params.t_ref_s
        opened = rng.binomial(n - n_open, p * q)
        closed = rng.binomial(n_open, (1 - p) * q)
        n_open = n_open + opened - closed
    total = counts.sum()
    if total < 2:
        return math.nan, 0.0, int(total)
    mean = sums.sum() / total
    var = sq.sum() / total - mean * mean
    return float(math.sqrt(max(var, 0.0)) / mean), float(1.0 / mean), int(total)


def compare_channel_noise(
    params: LIFParams,
    current: float | None = None,
    channels: ArrayLike = (10, 40, 160, 640),
    *,
    open_probability: float = 0.5,
    channel_tau_s: float | None = None,
    driving_force_volt: float | None = None,
    n_spikes: int = 1500,
    markov: bool = False,
    seed: int = 0,
) -> dict[str, Any]:
    """sigma, Siegert rate and CV, the emulator's CV (and the Markov channels') per channel count.

    Parameters
    ----------
    params : LIFParams
        A leaky, non-adapting neuron.
    current : float, optional
        Mean input current in A (default the rheobase).
    channels : array_like of int
        Channel counts N.
    open_probability : float
        p in (0, 1].
    channel_tau_s : float, optional
        Channel correlation time in s (default tau_m / 10).
    driving_force_volt : float, optional
        V - E_L in V at the operating point (default (V_th + V_reset)/2 - E_L).
    n_spikes : int
        Spikes per emulator run (:func:`measure_channel_noise_cv`).
    markov : bool
        Also run :func:`markov_channel_cv` (200 neurons, for max(8 / Siegert rate, 20 tau_m)).
    seed : int
        Seed of every run.

    Returns
    -------
    dict
        The inputs (``params``, ``current_amp``, ``open_probability``, ``channel_tau_s``,
        ``driving_force_volt``, ``n_channels``) and per channel count the arrays ``sigma_volt``
        (V), ``siegert_rate_hz``, ``siegert_cv``, ``emulator_cv``, ``emulator_intervals``;
        with ``markov`` also ``markov_cv`` and ``markov_rate_hz``.

    Examples
    --------
    >>> from neurochip.lif import LIFParams
    >>> p = LIFParams(g_leak_siemens=1e-10, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=2e-3)
    >>> rep = compare_channel_noise(p, channels=[40], n_spikes=200)
    >>> round(float(rep["sigma_volt"][0]) * 1e3, 3), round(float(rep["siegert_cv"][0]), 3)  # mV
    (1.061, 0.323)
    """
    if params.g_leak_siemens == 0:
        raise InvalidParameterError("compare_channel_noise: needs a leak (g_leak_siemens > 0); got 0")
    current = rheobase(params) if current is None else current
    tau_c = 0.1 * params.tau_m_s if channel_tau_s is None else channel_tau_s
    drive = 0.5 * (params.v_th_volt + params.v_reset_volt) - params.e_leak_volt
    drive = drive if driving_force_volt is None else driving_force_volt
    counts = np.atleast_1d(np.asarray(channels)).astype(int)
    sig, pred_cv, pred_rate, emu_cv, emu_n, mk_cv, mk_rate = [], [], [], [], [], [], []
    for n in counts:
        s = channel_noise_sigma(params, n_channels=int(n), open_probability=open_probability,
                                channel_tau_s=tau_c, driving_force_volt=drive)  # fmt: skip
        sig.append(s)
        pred_cv.append(float(siegert_cv(params, current, sigma_volt=s)))
        pred_rate.append(float(siegert_rate(params, current, sigma_volt=s)))
        cv, k = measure_channel_noise_cv(params, current, s, n_spikes=n_spikes, seed=seed)
        emu_cv.append(cv)
        emu_n.append(k)
        if markov:
            duration = max(8.0 / pred_rate[-1], 20 * params.tau_m_s)
            c, r, _ = markov_channel_cv(params, current, n_channels=int(n), open_probability=open_probability,
                                        channel_tau_s=tau_c, n_neurons=200, duration_s=duration, seed=seed)  # fmt: skip
            mk_cv.append(c)
            mk_rate.append(r)
    rep: dict[str, Any] = {
        "params": params.to_dict(),
        "current_amp": current,
        "open_probability": open_probability,
        "channel_tau_s": tau_c,
        "driving_force_volt": drive,
        "n_channels": counts,
        "sigma_volt": np.asarray(sig),
        "siegert_rate_hz": np.asarray(pred_rate),
        "siegert_cv": np.asarray(pred_cv),
        "emulator_cv": np.asarray(emu_cv),
        "emulator_intervals": np.asarray(emu_n),
    }
    if markov:
        rep["markov_cv"] = np.asarray(mk_cv)
        rep["markov_rate_hz"] = np.asarray(mk_rate)
    return rep
