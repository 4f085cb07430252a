r"""The closed forms of the LIF neuron: time constant, rheobase, ISI and f-I curve with
refractoriness, 1/t_ref saturation, the perfect-integrator limit, the Siegert rate and CV under
white noise, phase response, strength-duration and channel noise.

Part of :mod:`neurochip.lif` (which re-exports every name).  Vectorised over the input current;
every float in SI base units.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InvalidParameterError
from .params import LIFParams, _as_current, _no_adaptation, _ret

__all__ = [
    "tau_m",
    "v_inf",
    "rheobase",
    "isi",
    "firing_rate",
    "fi_curve",
    "saturation_rate",
    "saturation_fraction",
    "pif_rate",
    "siegert_rate",
    "siegert_cv",
    "phase_response",
    "min_pulse_amplitude",
    "chronaxie",
    "channel_noise_sigma",
    "summary",
]


def tau_m(params: LIFParams) -> float:
    r"""Membrane time constant :math:`\tau_m = C/g_L`.

    Parameters
    ----------
    params : LIFParams
        Supplies C and g_L.

    Returns
    -------
    float
        tau_m in s; inf for the perfect integrator (g_L = 0).

    Examples
    --------
    >>> tau_m(LIFParams(c_m_farad=2e-12, g_leak_siemens=1e-9))
    0.002
    """
    return params.tau_m_s


def v_inf(params: LIFParams, current: ArrayLike) -> NDArray[np.float64] | float:
    r"""Steady-state membrane potential :math:`V_\infty = E_L + I/g_L`, threshold ignored.

    Parameters
    ----------
    params : LIFParams
        Supplies g_L and E_L.
    current : float or array_like
        Constant input current I in A.

    Returns
    -------
    float or ndarray
        V_inf in V, shaped like ``current``; +-inf (the sign of I) for the perfect integrator.

    Examples
    --------
    >>> v_inf(LIFParams(), [0.0, 1e-9])  # 1 nS leak: 1 nA holds the membrane at 1 V
    array([0., 1.])
    """
    i = _as_current(current)
    if params.g_leak_siemens == 0:
        return _ret(np.where(i > 0, np.inf, np.where(i < 0, -np.inf, params.e_leak_volt)))
    return _ret(params.e_leak_volt + i / params.g_leak_siemens)


def rheobase(params: LIFParams) -> float:
    r"""Rheobase :math:`I_{rh} = g_L (V_{th} - E_L)`: a constant current fires only above it.

    Parameters
    ----------
    params : LIFParams
        Supplies g_L, V_th and E_L.

    Returns
    -------
    float
        I_rh in A; 0 for the perfect integrator.

    Examples
    --------
    >>> rheobase(LIFParams(g_leak_siemens=1e-9, e_leak_volt=0.0, v_th_volt=0.5))
    5e-10
    """
    return params.g_leak_siemens * (params.v_th_volt - params.e_leak_volt)


def isi(params: LIFParams, current: ArrayLike) -> NDArray[np.float64] | float:
    r"""Inter-spike interval under a constant current (noise ignored, see :func:`siegert_rate`).

    Parameters
    ----------
    params : LIFParams
        A non-adapting neuron.
    current : float or array_like
        Constant input current I in A.

    Returns
    -------
    float or ndarray
        ISI in s, shaped like ``current``; ``inf`` where :math:`I \le I_{rh}`.

    Notes
    -----
    .. math::

        T(I) = t_{ref} + \tau_m \ln \frac{R I + E_L - V_{reset}}{R I + E_L - V_{th}}
             = t_{ref} + \frac{C\,\Delta V}{I - I_{rh}}\,\frac{\ln(1+x)}{x},
        \quad x = \frac{g_L \Delta V}{I - I_{rh}},\ \Delta V = V_{th} - V_{reset}.

    The second form is evaluated (with ``log1p``): accurate far above rheobase, and continuous
    into the perfect integrator as :math:`g_L \to 0`.

    Examples
    --------
    >>> p = LIFParams()  # tau_m = 1 ms, V_th = 0.5 V, reset 0 V, t_ref 1 ms
    >>> round(isi(p, 1e-9) * 1e3, 6)  # 1 nA: t_ref + tau ln(1/(1 - 0.5)), in ms
    1.693147
    >>> isi(p, 4e-10)  # below the 0.5 nA rheobase
    inf
    """
    _no_adaptation(params, "isi")
    i = _as_current(current)
    drive = i - rheobase(params)
    dv = params.v_th_volt - params.v_reset_volt
    fires = drive > 0
    safe = np.where(fires, drive, 1.0)
    x = params.g_leak_siemens * dv / safe
    small = x < 1e-8
    ratio = np.where(small, 1.0 - x / 2.0, np.log1p(x) / np.where(small, 1.0, x))
    t = params.t_ref_s + params.c_m_farad * dv / safe * ratio
    return _ret(np.where(fires, t, np.inf))


def firing_rate(params: LIFParams, current: ArrayLike) -> NDArray[np.float64] | float:
    """Firing rate 1/ISI under a constant current: the f-I curve, ceiling 1/t_ref.

    Parameters
    ----------
    params, current
        As in :func:`isi` (a non-adapting neuron; current in A).

    Returns
    -------
    float or ndarray
        Rate in Hz, shaped like ``current``; 0 at and below rheobase.

    Examples
    --------
    >>> firing_rate(LIFParams(), [4e-10, 1e-9]).round(3)
    array([  0.   , 590.616])
    """
    t = np.asarray(isi(params, current), dtype=np.float64)
    with np.errstate(divide="ignore"):
        return _ret(np.where(np.isinf(t), 0.0, 1.0 / t))


def fi_curve(
    params: LIFParams, i_min: float, i_max: float, n: int = 50
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The f-I curve sampled at ``n`` currents evenly spaced in [i_min, i_max].

    Parameters
    ----------
    params : LIFParams
        A non-adapting neuron.
    i_min, i_max : float
        Lowest and highest current in A, ``i_max > i_min``.
    n : int
        Number of currents, >= 2.

    Returns
    -------
    currents, rates : ndarray, shape (n,)
        Currents in A and their :func:`firing_rate` in Hz.

    Examples
    --------
    >>> fi_curve(LIFParams(), 0.0, 2e-9, 3)[1].round(3)
    array([  0.   , 590.616, 776.589])
    """
    if n < 2:
        raise InvalidParameterError(f"n = {n!r}: must be >= 2")
    if not i_max > i_min:
        raise InvalidParameterError(f"i_max = {i_max!r}: must be > i_min = {i_min!r}")
    currents = np.linspace(i_min, i_max, n)
    return currents, np.asarray(firing_rate(params, currents))


def saturation_rate(params: LIFParams) -> float:
    """The rate ceiling 1/t_ref that the f-I curve approaches.

    Parameters
    ----------
    params : LIFParams
        Supplies t_ref.

    Returns
    -------
    float
        1/t_ref in Hz; inf when t_ref = 0.

    Examples
    --------
    >>> saturation_rate(LIFParams(t_ref_s=2e-3))
    500.0
    """
    return math.inf if params.t_ref_s == 0 else 1.0 / params.t_ref_s


def saturation_fraction(params: LIFParams, rate_hz: ArrayLike) -> NDArray[np.float64] | float:
    """How close a rate is to the ceiling: rate x t_ref (1 = as fast as t_ref allows).

    Parameters
    ----------
    params : LIFParams
        Supplies t_ref.
    rate_hz : float or array_like
        Firing rate in Hz.

    Returns
    -------
    float or ndarray
        Dimensionless, in [0, 1] for a real neuron.

    Examples
    --------
    >>> saturation_fraction(LIFParams(t_ref_s=1e-3), 250.0)
    0.25
    """
    return _ret(np.asarray(rate_hz, dtype=np.float64) * params.t_ref_s)


def pif_rate(params: LIFParams, current: ArrayLike) -> NDArray[np.float64] | float:
    r"""Rate of the perfect integrator (g_L = 0) with the same C, thresholds and t_ref.

    The LIF rate in the limit :math:`g_L \to 0`, and an upper bound of it at the same current.

    Parameters
    ----------
    params : LIFParams
        Supplies C, V_th, V_reset and t_ref (g_L is ignored).
    current : float or array_like
        Constant input current I in A.

    Returns
    -------
    float or ndarray
        Rate in Hz, 0 for I <= 0.

    Notes
    -----
    .. math:: f_{PIF}(I) = \frac{I}{C (V_{th} - V_{reset}) + I\, t_{ref}}, \quad I > 0.

    Examples
    --------
    >>> round(pif_rate(LIFParams(), 1e-9), 6)  # 1 nA into 1 pF: 0.5 ms to threshold + 1 ms hold
    666.666667
    """
    i = _as_current(current)
    dv = params.v_th_volt - params.v_reset_volt
    pos = i > 0
    safe = np.where(pos, i, 1.0)
    return _ret(np.where(pos, safe / (params.c_m_farad * dv + safe * params.t_ref_s), 0.0))


def _noise_args(params: LIFParams, sigma_volt: float | None, what: str) -> float:
    _no_adaptation(params, what)
    if params.g_leak_siemens == 0:
        raise InvalidParameterError(f"{what}: needs a leak (g_leak_siemens > 0); got 0")
    sigma = params.noise_sigma_volt if sigma_volt is None else float(sigma_volt)
    if not sigma > 0:
        raise InvalidParameterError(f"{what}: noise sigma = {sigma!r} V: must be > 0")
    return sigma


def siegert_rate(
    params: LIFParams, current: ArrayLike, *, sigma_volt: float | None = None
) -> NDArray[np.float64] | float:
    r"""Mean rate of an LIF neuron driven by white noise (Siegert formula).

    Parameters
    ----------
    params : LIFParams
        A leaky, non-adapting neuron.
    current : float or array_like
        Mean input current I in A.
    sigma_volt : float, optional
        Noise amplitude sigma in V (Brunel's convention), > 0; default
        ``params.noise_sigma_volt``.

    Returns
    -------
    float or ndarray
        Mean rate in Hz, shaped like ``current``.

    Notes
    -----
    For :math:`\tau_m \dot V = -(V - \mu) + \sigma\sqrt{\tau_m}\,\xi(t)`,
    :math:`\mu = E_L + I/g_L` (Brunel 2000, eq. 21; Siegert 1951):

    .. math::

        \frac{1}{\nu} = t_{ref} + \tau_m \sqrt{\pi}
            \int_{(V_{reset}-\mu)/\sigma}^{(V_{th}-\mu)/\sigma} e^{u^2} (1 + \operatorname{erf} u)\, du ,

    with the integrand evaluated as ``erfcx(-u)`` (no overflow for negative u).

    Examples
    --------
    >>> round(siegert_rate(LIFParams(), 5e-10, sigma_volt=0.1), 3)  # at rheobase, noise fires it
    277.707
    """
    sigma = _noise_args(params, sigma_volt, "siegert_rate")
    from scipy import integrate, special

    tau = params.tau_m_s
    mu = np.asarray(v_inf(params, current), dtype=np.float64)

    def one(m: float) -> float:
        y_th = (params.v_th_volt - m) / sigma
        y_r = (params.v_reset_volt - m) / sigma
        if y_th > 26.0:  # e^{y^2} overflows: the rate is below 1e-290 Hz
            return 0.0
        val, _ = integrate.quad(lambda u: special.erfcx(-u), y_r, y_th, limit=200, epsabs=0, epsrel=1e-11)
        return 1.0 / (params.t_ref_s + tau * math.sqrt(math.pi) * val)

    return _ret(np.vectorize(one, otypes=[np.float64])(mu))


def siegert_cv(
    params: LIFParams, current: ArrayLike, *, sigma_volt: float | None = None
) -> NDArray[np.float64] | float:
    r"""ISI coefficient of variation of a noise-driven LIF neuron (first-passage theory).

    Parameters
    ----------
    params, current, sigma_volt
        As in :func:`siegert_rate` (A, V).

    Returns
    -------
    float or ndarray
        CV (dimensionless), shaped like ``current``; nan where the rate is 0.

    Notes
    -----
    With :math:`y_\theta = (V_{th}-\mu)/\sigma`, :math:`y_r = (V_{reset}-\mu)/\sigma` and
    :math:`\nu` from :func:`siegert_rate` (Brunel 2000, appendix A):

    .. math::

        CV^2 = 2\pi (\nu \tau_m)^2 \int_{y_r}^{y_\theta} e^{x^2} \int_{-\infty}^{x}
               e^{y^2} (1 + \operatorname{erf} y)^2\, dy\, dx .

    Examples
    --------
    >>> round(siegert_cv(LIFParams(), 5e-10, sigma_volt=0.1), 4)
    0.3061
    """
    sigma = _noise_args(params, sigma_volt, "siegert_cv")
    from scipy import integrate, special

    tau = params.tau_m_s
    mu = np.asarray(v_inf(params, current), dtype=np.float64)
    rates = np.atleast_1d(np.asarray(siegert_rate(params, current, sigma_volt=sigma), dtype=np.float64))

    def scaled_inner(x: float) -> float:
        # e^{x^2} * int_{-inf}^{x} e^{y^2} (1 + erf y)^2 dy, with y = x - s so that the
        # exponent 2xs - s^2 never overflows for x < 0 (the deterministic, suprathreshold side).
        upper = 10.0 if x >= -5.0 else 50.0 / (2.0 * -x)
        upper = max(upper, x + 10.0)
        val, _ = integrate.quad(
            lambda s: special.erfcx(s - x) ** 2 * math.exp(2.0 * x * s - s * s),
            0.0,
            upper,
            limit=200,
            epsabs=0,
            epsrel=1e-11,
        )
        return val

    def one(m: float, nu: float) -> float:
        if nu == 0.0:
            return math.nan
        y_th = (params.v_th_volt - m) / sigma
        y_r = (params.v_reset_volt - m) / sigma
        val, _ = integrate.quad(scaled_inner, y_r, y_th, limit=200, epsabs=0, epsrel=1e-10)
        return math.sqrt(2.0 * math.pi * (nu * tau) ** 2 * val)

    out = np.vectorize(one, otypes=[np.float64])(np.atleast_1d(mu), rates)
    return _ret(out.reshape(mu.shape))


def phase_response(
    params: LIFParams, current: float, phase: ArrayLike, kick_volt: float
) -> NDArray[np.float64] | float:
    r"""Phase response curve of a tonically firing neuron to one instantaneous voltage kick.

    Exact for a finite kick, not only to first order; measured on the emulator by
    :func:`neurochip.studies.prc.measure_phase_response`.

    Parameters
    ----------
    params : LIFParams
        A non-adapting neuron.
    current : float
        Constant current in A, above rheobase.
    phase : float or array_like
        Phase of the kick after a spike, in [0, 1) of the period.
    kick_volt : float
        Size of the kick in V (negative kicks delay the spike).

    Returns
    -------
    float or ndarray
        Advance of the next spike as a fraction of the period (positive = earlier).

    Notes
    -----
    With :math:`T` the period and the kick at :math:`t = \varphi T`: 0 during the refractory
    hold (input is ignored); otherwise, with
    :math:`V = V_\infty - (V_\infty - V_{reset}) e^{-(t - t_{ref})/\tau_m}`,

    .. math:: \Delta t = \tau_m \ln\frac{V_\infty - V}{V_\infty - V - \Delta v},

    or the whole remaining time :math:`T - t` when :math:`V + \Delta v \ge V_{th}`; for the
    perfect integrator :math:`\Delta t = C \Delta v / I`.

    Examples
    --------
    >>> phase_response(LIFParams(), 1e-9, [0.2, 0.8], 0.01).round(6)  # 0.2: still refractory
    array([0.     , 0.00848])
    """
    _no_adaptation(params, "phase_response")
    period = float(isi(params, current))
    if not math.isfinite(period):
        raise InvalidParameterError(f"phase_response: current = {current!r} A is not above rheobase; no tonic firing")
    phi = np.asarray(phase, dtype=np.float64)
    if np.any((phi < 0) | (phi >= 1)):
        raise InvalidParameterError("phase: must be in [0, 1)")
    t = phi * period
    s = np.maximum(t - params.t_ref_s, 0.0)
    remaining = period - t
    dv = float(kick_volt)
    if params.g_leak_siemens == 0:
        v = params.v_reset_volt + float(current) * s / params.c_m_farad
        advance = params.c_m_farad * dv / float(current) * np.ones_like(s)
    else:
        vinf = float(v_inf(params, current))
        v = vinf - (vinf - params.v_reset_volt) * np.exp(-s / params.tau_m_s)
        with np.errstate(divide="ignore", invalid="ignore"):
            advance = params.tau_m_s * np.log((vinf - v) / (vinf - v - dv))
    fires_now = v + dv >= params.v_th_volt
    advance = np.where(fires_now, remaining, np.minimum(advance, remaining))
    advance = np.where(t < params.t_ref_s, 0.0, advance)
    return _ret(advance / period)


def min_pulse_amplitude(
    params: LIFParams, width_s: ArrayLike, *, v0_volt: float | None = None
) -> NDArray[np.float64] | float:
    r"""Smallest rectangular current pulse of a given width that makes the neuron fire.

    The strength-duration curve (Lapicque): the rheobase for long pulses, a charge threshold
    :math:`C (V_{th} - V_0)/w` for short ones (exactly, for the perfect integrator).
    Measured by :mod:`neurochip.studies.strength_duration`.

    Parameters
    ----------
    params : LIFParams
        Supplies C, g_L, E_L and V_th (adaptation plays no part before the first spike).
    width_s : float or array_like
        Pulse width w in s, > 0.
    v0_volt : float, optional
        Membrane potential V_0 in V when the pulse starts (default E_L), below V_th.

    Returns
    -------
    float or ndarray
        I_min in A, shaped like ``width_s``.

    Notes
    -----
    A pulse I of width w brings the membrane to
    :math:`V(w) = V_0 + (E_L + R I - V_0)(1 - e^{-w/\tau_m})`, and afterwards it only decays,
    so the neuron fires if and only if :math:`V(w) \ge V_{th}`:

    .. math:: I_{min}(w) = g_L \left(V_0 - E_L + \frac{V_{th} - V_0}{1 - e^{-w/\tau_m}}\right).

    Examples
    --------
    >>> (min_pulse_amplitude(LIFParams(), [1e-4, 1e-3]) * 1e9).round(4)  # nA; rheobase 0.5 nA
    array([5.2542, 0.791 ])
    """
    w = np.asarray(width_s, dtype=np.float64)
    if np.any(~(w > 0)):
        raise InvalidParameterError("width_s: must be > 0")
    v0 = params.e_leak_volt if v0_volt is None else float(v0_volt)
    if not v0 < params.v_th_volt:
        raise InvalidParameterError.of("v0_volt", v0, f"must be < v_th_volt = {params.v_th_volt!r}")
    gap = params.v_th_volt - v0
    if params.g_leak_siemens == 0:
        return _ret(params.c_m_farad * gap / w)
    frac = -np.expm1(-w / params.tau_m_s)
    return _ret(params.g_leak_siemens * (v0 - params.e_leak_volt + gap / frac))


def chronaxie(params: LIFParams) -> float:
    r"""Pulse width at which the minimum amplitude from rest is twice the rheobase.

    Parameters
    ----------
    params : LIFParams
        A leaky neuron (g_L > 0) with :math:`V_{th} > E_L`.

    Returns
    -------
    float
        :math:`\tau_m \ln 2` in s.

    Examples
    --------
    >>> round(chronaxie(LIFParams()), 9)  # tau_m = 1 ms
    0.000693147
    """
    if params.g_leak_siemens == 0:
        raise InvalidParameterError("chronaxie: needs a leak (g_leak_siemens > 0); got 0")
    return params.tau_m_s * math.log(2.0)


def channel_noise_sigma(
    params: LIFParams,
    *,
    n_channels: int,
    open_probability: float,
    channel_tau_s: float,
    driving_force_volt: float,
) -> float:
    r"""Noise amplitude sigma (Brunel's convention) of the current through N leak channels.

    Parameters
    ----------
    params : LIFParams
        Supplies g_L (> 0) and tau_m.
    n_channels : int
        Number N of two-state leak channels, >= 1.
    open_probability : float
        Open probability p, in (0, 1].
    channel_tau_s : float
        Correlation time tau_c of one channel's gating in s, > 0 (the approximation wants
        tau_c << tau_m).
    driving_force_volt : float
        V - E_L in V at the operating point (e.g. midway between reset and threshold).

    Returns
    -------
    float
        sigma in V, for :func:`siegert_rate` and :func:`siegert_cv`.

    Notes
    -----
    The channels make up the leak, :math:`N p \gamma = g_L`; the open count is binomial, so the
    current :math:`\delta I = \delta G\,(V - E_L)` has standard deviation
    :math:`\sigma_I = g_L |V - E_L| \sqrt{(1-p)/(N p)}`.  The diffusion approximation replaces
    it by white noise of the same zero-frequency power :math:`2 \sigma_I^2 \tau_c`:

    .. math:: \sigma = R\,\sigma_I \sqrt{2 \tau_c / \tau_m}.

    Examples
    --------
    >>> round(channel_noise_sigma(LIFParams(), n_channels=100, open_probability=0.5,
    ...                           channel_tau_s=1e-4, driving_force_volt=0.25), 6)
    0.01118
    """
    if params.g_leak_siemens == 0:
        raise InvalidParameterError("channel_noise_sigma: needs a leak (g_leak_siemens > 0); got 0")
    if isinstance(n_channels, bool) or not isinstance(n_channels, (int, np.integer)) or n_channels < 1:
        raise InvalidParameterError.of("n_channels", n_channels, "must be an integer >= 1")
    if not 0 < open_probability <= 1:
        raise InvalidParameterError.of("open_probability", open_probability, "must be in (0, 1]")
    if not channel_tau_s > 0:
        raise InvalidParameterError.of("channel_tau_s", channel_tau_s, "must be > 0")
    sigma_i = params.g_leak_siemens * abs(driving_force_volt) * math.sqrt((1 - open_probability) / (n_channels * open_probability))
    return params.r_leak_ohm * sigma_i * math.sqrt(2 * channel_tau_s / params.tau_m_s)


def summary(
    params: LIFParams,
    *,
    i_min: float = 0.0,
    i_max: float | None = None,
    points: int = 11,
    current: float | None = None,
    sigma_volt: float | None = None,
) -> dict[str, Any]:
    """The closed forms of one neuron in one dict (what ``neurochip lif`` prints).

    Parameters
    ----------
    params : LIFParams
        A non-adapting neuron.
    i_min, i_max : float
        Current range of the f-I table in A; ``i_max`` defaults to 10 x rheobase (perfect
        integrator: 10 x the current that charges C from reset to threshold in max(t_ref, 1 ms)).
    points : int
        Rows of the f-I table, >= 2.
    current : float, optional
        Adds ``isi_s``, ``rate_hz`` and ``saturation_fraction`` at this current (A).
    sigma_volt : float, optional
        With ``current``: adds ``siegert_rate_hz`` and ``siegert_cv`` for this noise (V).

    Returns
    -------
    dict
        ``params``, ``tau_m_s``, ``rheobase_amp``, ``max_rate_hz``, ``fi_curve`` (arrays
        ``current_amp``, ``rate_hz``, ``pif_rate_hz``) and the optional entries; SI units.

    Examples
    --------
    >>> s = summary(LIFParams(), points=3, current=1e-9)
    >>> s["rheobase_amp"], s["fi_curve"]["current_amp"], round(s["rate_hz"], 3)
    (5e-10, array([0.0e+00, 2.5e-09, 5.0e-09]), 590.616)
    """
    rh = rheobase(params)
    if i_max is None:
        dv = params.v_th_volt - params.v_reset_volt
        i_max = 10 * rh if rh > 0 else 10 * params.c_m_farad * dv / max(params.t_ref_s, 1e-3)
    currents, rates = fi_curve(params, i_min, i_max, points)
    out: dict[str, Any] = {
        "params": params.to_dict(),
        "tau_m_s": params.tau_m_s,
        "rheobase_amp": rh,
        "max_rate_hz": saturation_rate(params),
        "fi_curve": {"current_amp": currents, "rate_hz": rates, "pif_rate_hz": np.asarray(pif_rate(params, currents))},
    }
    if current is not None:
        out["current_amp"] = current
        out["isi_s"] = float(isi(params, current))
        out["rate_hz"] = float(firing_rate(params, current))
        out["saturation_fraction"] = float(saturation_fraction(params, out["rate_hz"]))
        if sigma_volt is not None:
            out["sigma_volt"] = sigma_volt
            out["siegert_rate_hz"] = float(siegert_rate(params, current, sigma_volt=sigma_volt))
            out["siegert_cv"] = float(siegert_cv(params, current, sigma_volt=sigma_volt))
    return out
