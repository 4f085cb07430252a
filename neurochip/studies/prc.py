r"""Phase response curve measured on the emulator, against the closed form.

Checks :func:`neurochip.lif.phase_response`: a tonically firing neuron receives one voltage kick
at a phase of its period, and the advance of its next spike is measured in the compiled
emulator, which integrates the membrane exactly between events, so the two agree to rounding.
See ``docs/lif-prc.md``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InvalidParameterError
from ..lif import LIFParams, isi, phase_response, rheobase

__all__ = ["measure_phase_response", "compare_prc"]


def measure_phase_response(
    params: LIFParams, current: float, phase: ArrayLike, kick_volt: float
) -> NDArray[np.float64]:
    r"""The PRC measured in the emulator: one tonically firing neuron per phase, each kicked once.

    Parameters
    ----------
    params : LIFParams
        A non-adapting neuron (its noise is switched off).
    current : float
        DC current in A, above rheobase.
    phase : float or array_like
        Phases of the kicks in [0, 1) of the measured period.
    kick_volt : float
        Size of each kick in V.

    Returns
    -------
    ndarray
        Phase advance per phase (dimensionless, a fraction of the measured period), comparable
        with :func:`neurochip.lif.phase_response`.

    Notes
    -----
    Every neuron starts at :math:`V_{reset}` under the DC ``current``.  A first run without
    kicks gives the emulator's own first spike :math:`t_1` and period :math:`T = t_2 - t_1`;
    then neuron k receives a kick (a :class:`~neurochip.network.SpikeTimesInput`) at
    :math:`t_1 + \varphi_k T`, and its advance is :math:`(t_1 + T - t_2^{(k)}) / T`, with
    :math:`t_2^{(k)}` its perturbed second spike.  Kicks that arrive during the refractory
    hold are discarded by the emulator, as in the closed form.

    Examples
    --------
    >>> from neurochip.lif import LIFParams
    >>> measure_phase_response(LIFParams(), 1e-9, [0.2, 0.8], 0.01).round(6)
    array([0.     , 0.00848])
    """
    from ..emulator import run
    from ..network import Network, Population, SpikeTimesInput

    if params.is_adapting:
        raise InvalidParameterError(
            "measure_phase_response: the closed form holds for a non-adapting neuron, but "
            f"adapt_increment_amp = {params.adapt_increment_amp!r}"
        )
    phi = np.atleast_1d(np.asarray(phase, dtype=np.float64))
    if np.any((phi < 0) | (phi >= 1)):
        raise InvalidParameterError("phase: must be in [0, 1)")
    if not math.isfinite(float(isi(params, current))):
        raise InvalidParameterError(f"measure_phase_response: current = {current!r} A is not above rheobase")
    clean = params.replace(noise_sigma_volt=0.0)
    pop = Population(name="n", size=phi.size, params=clean, bias_current_amp=float(current),
                     v_init_volt=clean.v_reset_volt)  # fmt: skip
    net = Network(populations=(pop,))
    t_guess = float(isi(clean, current))
    base = run(net, duration_s=3.5 * t_guess).events
    t0 = base["time_s"][base["address"] == 0]
    if t0.size < 3:
        raise InvalidParameterError("measure_phase_response: the unperturbed neuron fired fewer than 3 spikes")
    t1, period = float(t0[0]), float(t0[1] - t0[0])
    kicks = SpikeTimesInput(population="n", times_s=t1 + phi * period, neurons=np.arange(phi.size),
                            weight_volt=float(kick_volt))  # fmt: skip
    ev = run(net, duration_s=t1 + 2.5 * period, inputs=[kicks]).events
    out = np.empty(phi.size)
    for k in range(phi.size):
        t = ev["time_s"][ev["address"] == k]
        t = t[t > t1]
        out[k] = (t1 + period - t[0]) / period
    return out


def compare_prc(
    params: LIFParams, current: float | None = None, *, kick_volt: float | None = None, n_phases: int = 20
) -> dict[str, Any]:
    """Closed-form and emulator-measured PRC at ``n_phases`` evenly spaced phases.

    Parameters
    ----------
    params : LIFParams
        A non-adapting neuron.
    current : float, optional
        DC current in A (default 2 x rheobase; for the perfect integrator the current that
        charges C from reset to threshold in 1 ms).
    kick_volt : float, optional
        Kick size in V (default 1 % of V_th - V_reset).
    n_phases : int
        Phases k / n_phases, k = 0 ... n_phases - 1; >= 2.

    Returns
    -------
    dict
        ``params``, ``current_amp`` (A), ``kick_volt`` (V), ``period_s`` (closed-form ISI, s),
        ``phase``, ``prc_closed_form``, ``prc_emulator`` (arrays, fractions of the period) and
        ``max_abs_difference`` between the two curves.

    Examples
    --------
    >>> from neurochip.lif import LIFParams
    >>> rep = compare_prc(LIFParams(v_reset_volt=0.1), n_phases=4)
    >>> rep["current_amp"], bool(rep["max_abs_difference"] < 1e-9)
    (1e-09, True)
    """
    if n_phases < 2:
        raise InvalidParameterError(f"n_phases = {n_phases!r}: must be >= 2")
    dv = params.v_th_volt - params.v_reset_volt
    if current is None:
        rh = rheobase(params)
        current = 2 * rh if rh > 0 else params.c_m_farad * dv / 1e-3
    kick_volt = 0.01 * dv if kick_volt is None else kick_volt
    phases = np.arange(n_phases) / n_phases
    closed = np.asarray(phase_response(params, current, phases, kick_volt))
    measured = measure_phase_response(params, current, phases, kick_volt)
    return {
        "params": params.to_dict(),
        "current_amp": current,
        "kick_volt": kick_volt,
        "period_s": float(isi(params, current)),
        "phase": phases,
        "prc_closed_form": closed,
        "prc_emulator": measured,
        "max_abs_difference": float(np.max(np.abs(closed - measured))),
    }
