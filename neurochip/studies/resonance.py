r"""Stochastic resonance: noise that helps an LIF neuron report a subthreshold periodic drive.

Checks what the closed forms of :mod:`neurochip.lif` imply below threshold: a drive under
:func:`~neurochip.lif.rheobase` never fires the noise-free neuron, and noise of the right size
(of the order of the gap to threshold, the regime of :func:`~neurochip.lif.siegert_rate`) makes
its spikes lock to the drive.  Measured on the emulator's noisy neurons.

A neuron receives a bias :math:`I_0` plus a sinusoid :math:`I_1 \sin(2\pi f_0 t)` with
:math:`I_0 + I_1` below the rheobase, so without noise it never fires, and white noise of
amplitude :math:`\sigma` (Brunel's convention, ``LIFParams.noise_sigma_volt``).  The spike
train's power spectrum has a peak at :math:`f_0`; its signal-to-noise ratio

.. math::

    \mathrm{SNR} = \frac{S(f_0)}{\langle S(f) \rangle_{f \in B}} - 1,
    \qquad S(f) = \frac{1}{T}\Big|\sum_k e^{-2\pi i f t_k}\Big|^2

(periodogram of the spike train of duration T, averaged over neurons; B the neighbouring
frequency bins, without f_0 and its harmonics) is near 0 with little noise (almost no spikes),
rises as the noise lets the peaks of the drive cross threshold, and falls again when the noise
dominates and spikes come at any phase.  The vector strength
:math:`|\sum_k e^{2\pi i f_0 t_k}| / n` is reported as well.

The emulator has no sinusoidal source: the drive is a :class:`~neurochip.network.CurrentStep`
holding the sinusoid's value at the middle of each of ``steps_per_period`` equal steps (a
zero-order hold).  Each neuron of the population is one trial with its own noise path.
See ``docs/lif-resonance.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InvalidParameterError
from ..lif import LIFParams, rheobase

__all__ = ["ResonanceResult", "sinusoid_steps", "spike_train_snr", "vector_strength", "resonance_curve"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ResonanceResult:
    """SNR and vector strength of the output against the noise amplitude.

    Attributes
    ----------
    sigma_volt : ndarray
        Noise amplitudes (V).
    snr : ndarray
        Spectral SNR at the drive frequency (dimensionless, see the module docstring).
    vector_strength : ndarray
        Phase locking of the spikes to the drive, in [0, 1] (nan without spikes).
    rate_hz : ndarray
        Mean firing rate per neuron (Hz).
    frequency_hz, bias_amp, amplitude_amp, duration_s : float
        The drive and the run length.
    n_trials : int
        Neurons (independent noise paths) per noise amplitude.
    """

    sigma_volt: NDArray[np.float64]
    snr: NDArray[np.float64]
    vector_strength: NDArray[np.float64]
    rate_hz: NDArray[np.float64]
    frequency_hz: float
    bias_amp: float
    amplitude_amp: float
    duration_s: float
    n_trials: int

    @property
    def best_sigma_volt(self) -> float:
        """The noise amplitude of the highest SNR, in V."""
        return float(self.sigma_volt[int(np.nanargmax(self.snr))])

    def to_dict(self) -> dict[str, Any]:
        """The fields and ``best_sigma_volt`` as a dict (arrays as ndarray), for JSON output."""
        return {
            "sigma_volt": self.sigma_volt,
            "snr": self.snr,
            "vector_strength": self.vector_strength,
            "rate_hz": self.rate_hz,
            "best_sigma_volt": self.best_sigma_volt,
            "frequency_hz": self.frequency_hz,
            "bias_amp": self.bias_amp,
            "amplitude_amp": self.amplitude_amp,
            "duration_s": self.duration_s,
            "n_trials": self.n_trials,
        }


def sinusoid_steps(
    bias_amp: float, amplitude_amp: float, frequency_hz: float, duration_s: float, steps_per_period: int = 64
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A staircase that holds I0 + I1 sin(2 pi f t) at the middle of each step.

    Parameters
    ----------
    bias_amp, amplitude_amp : float
        I0 and I1 in A.
    frequency_hz : float
        f in Hz, > 0.
    duration_s : float
        Length in s, > 0 (rounded up to whole steps).
    steps_per_period : int
        Steps per period of the sinusoid, >= 4.

    Returns
    -------
    times_s, amplitudes_amp : ndarray
        Step start times in s and step amplitudes in A, for
        :class:`~neurochip.network.CurrentStep`.

    Examples
    --------
    >>> t, a = sinusoid_steps(1e-9, 0.5e-9, 10.0, 0.1, 4)
    >>> t, (a * 1e9).round(4)
    (array([0.   , 0.025, 0.05 , 0.075]), array([1.3536, 1.3536, 0.6464, 0.6464]))
    """
    if not frequency_hz > 0 or not duration_s > 0:
        raise InvalidParameterError("frequency_hz and duration_s: must be > 0")
    if isinstance(steps_per_period, bool) or not isinstance(steps_per_period, int) or steps_per_period < 4:
        raise InvalidParameterError.of("steps_per_period", steps_per_period, "must be an int >= 4")
    dt = 1.0 / (frequency_hz * steps_per_period)
    n = int(math.ceil(duration_s / dt))
    t = np.arange(n) * dt
    return t, bias_amp + amplitude_amp * np.sin(2 * np.pi * frequency_hz * (t + dt / 2))


def vector_strength(spike_times_s: ArrayLike, frequency_hz: float) -> float:
    """Phase locking of spikes to a frequency: |mean of exp(2 pi i f t_k)| over the spikes.

    Parameters
    ----------
    spike_times_s : array_like
        Spike times in s (of one or many neurons).
    frequency_hz : float
        f in Hz.

    Returns
    -------
    float
        In [0, 1]: 1 when every spike falls at the same phase; nan without spikes.

    Examples
    --------
    >>> vector_strength([0.0, 0.1, 0.2], 10.0), round(vector_strength([0.0, 0.05], 10.0), 12)
    (1.0, 0.0)
    """
    t = np.asarray(spike_times_s, dtype=np.float64)
    if t.size == 0:
        return math.nan
    return float(abs(np.exp(2j * np.pi * frequency_hz * t).mean()))


def spike_train_snr(
    trains: list[NDArray[np.float64]], frequency_hz: float, duration_s: float, *, n_side: int = 20
) -> float:
    """Spectral SNR of spike trains at ``frequency_hz`` (see the module docstring).

    The periodogram is evaluated at f_0 and at ``n_side`` bins on each side (bin width 1/T,
    skipping any bin within one bin of a multiple of f_0), averaged over the trains.  For a
    Poisson train S(f) is flat at the rate, so the SNR is 0 for an unmodulated train.

    Parameters
    ----------
    trains : list of ndarray
        Spike times in s, one array per neuron (trial).
    frequency_hz : float
        f_0 in Hz.
    duration_s : float
        Length T of the trains in s.
    n_side : int
        Background bins on each side of f_0.

    Returns
    -------
    float
        S(f_0) / mean background - 1 (dimensionless); 0 when there is no background power.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> jittered = [np.arange(100) * 0.1 + rng.normal(0, 0.01, 100)]  # locked to 10 Hz
    >>> round(spike_train_snr(jittered, 10.0, 10.0))
    196
    """
    df = 1.0 / duration_s
    ks = np.concatenate([np.arange(-n_side, -1), np.arange(2, n_side + 1)])
    freqs = frequency_hz + ks * df
    freqs = freqs[freqs > 0]
    harm = np.abs(freqs / frequency_hz - np.round(freqs / frequency_hz)) * frequency_hz
    freqs = freqs[harm > 1.5 * df]
    all_f = np.concatenate([[frequency_hz], freqs])
    power = np.zeros(all_f.size)
    for t in trains:
        if t.size:
            power += np.abs(np.exp(-2j * np.pi * np.outer(all_f, t)).sum(axis=1)) ** 2 / duration_s
    background = power[1:].mean()
    if background == 0:
        return 0.0
    return float(power[0] / background - 1.0)


def resonance_curve(
    params: LIFParams,
    sigmas_volt: ArrayLike | None = None,
    *,
    bias_fraction: float = 0.8,
    amplitude_fraction: float = 0.15,
    frequency_hz: float | None = None,
    duration_s: float | None = None,
    n_trials: int = 10,
    steps_per_period: int = 64,
    seed: int = 1,
    noise_dt_fraction: float = 1e-2,
) -> ResonanceResult:
    """Run the emulator at each noise amplitude and measure SNR, vector strength and rate.

    Parameters
    ----------
    params : LIFParams
        A leaky, non-adapting neuron (its own noise field is replaced by each sigma).
    sigmas_volt : array_like, optional
        Noise amplitudes in V, > 0 (default 12 values from 0.01 to 2 x (V_th - E_L),
        geometrically spaced).
    bias_fraction, amplitude_fraction : float
        I0 and I1 as fractions of the rheobase; their sum must be < 1 (a subthreshold drive).
    frequency_hz : float, optional
        Drive frequency f_0 in Hz (default 0.1 / tau_m).
    duration_s : float, optional
        Length of each run in s (default 100 drive periods); the spectral resolution is
        1/duration_s.
    n_trials : int
        Neurons per run, each with its own noise path.
    steps_per_period : int
        Steps of the staircase sinusoid.
    seed : int
        Seed of the run (the same for every sigma).
    noise_dt_fraction : float
        Substep of the noise path as a fraction of tau_m (see ``neurochip.emulator.run``).

    Returns
    -------
    ResonanceResult
        SNR, vector strength and rate per sigma, with the drive that produced them.

    Examples
    --------
    >>> from neurochip.lif import LIFParams
    >>> p = LIFParams(g_leak_siemens=1e-10, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=2e-3)
    >>> res = resonance_curve(p, [1e-4, 4e-3], duration_s=2.0, n_trials=2)
    >>> res.frequency_hz, float(res.rate_hz[0]), bool(res.rate_hz[1] > 0)  # 0.1 / tau_m; too little noise
    (10.0, 0.0, True)
    """
    from ..emulator import run
    from ..network import CurrentStep, Network, Population

    if params.g_leak_siemens == 0 or params.is_adapting:
        raise InvalidParameterError("resonance_curve: needs a leaky, non-adapting neuron")
    if sigmas_volt is None:
        sigmas_volt = (params.v_th_volt - params.e_leak_volt) * np.geomspace(0.01, 2, 12)
    frequency_hz = 0.1 / params.tau_m_s if frequency_hz is None else frequency_hz
    duration_s = 100 / frequency_hz if duration_s is None else duration_s
    if not (bias_fraction >= 0 and amplitude_fraction > 0 and bias_fraction + amplitude_fraction < 1):
        raise InvalidParameterError(
            f"bias_fraction + amplitude_fraction = {bias_fraction + amplitude_fraction!r}: "
            "must be < 1 (a drive below rheobase), with amplitude_fraction > 0"
        )
    sig = np.atleast_1d(np.asarray(sigmas_volt, dtype=np.float64))
    if not (sig > 0).all():
        raise InvalidParameterError("sigmas_volt: must all be > 0")
    rh = rheobase(params)
    i0, i1 = bias_fraction * rh, amplitude_fraction * rh
    times, amps = sinusoid_steps(i0, i1, frequency_hz, duration_s, steps_per_period)
    step = CurrentStep(population="n", times_s=times, amplitudes_amp=amps)
    snr = np.empty(sig.size)
    vs = np.empty(sig.size)
    rate = np.empty(sig.size)
    for k, s in enumerate(sig):
        p = params.replace(noise_sigma_volt=float(s))
        net = Network(populations=(Population(name="n", size=n_trials, params=p),))
        ev = run(net, duration_s=duration_s, inputs=[step], seed=seed, noise_dt_fraction=noise_dt_fraction).events
        trains = [ev["time_s"][ev["address"] == i] for i in range(n_trials)]
        snr[k] = spike_train_snr(trains, frequency_hz, duration_s)
        vs[k] = vector_strength(ev["time_s"], frequency_hz)
        rate[k] = ev.size / (n_trials * duration_s)
    return ResonanceResult(
        sigma_volt=sig,
        snr=snr,
        vector_strength=vs,
        rate_hz=rate,
        frequency_hz=float(frequency_hz),
        bias_amp=i0,
        amplitude_amp=i1,
        duration_s=float(duration_s),
        n_trials=int(n_trials),
    )
