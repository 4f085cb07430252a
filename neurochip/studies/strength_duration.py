r"""Strength-duration: the minimum pulse that fires, found on the emulator and in ngspice.

Checks the closed forms :func:`neurochip.lif.min_pulse_amplitude`,
:func:`~neurochip.lif.rheobase` and :func:`~neurochip.lif.chronaxie`: a bisection on the
amplitude of one rectangular current pulse from rest, run on the compiled emulator and, for a
circuit, in ngspice on the transistor- or behavioural-level netlist.
See ``docs/lif-strength-duration.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InvalidParameterError
from ..lif import LIFParams, chronaxie, min_pulse_amplitude, rheobase

__all__ = [
    "pulse_fires",
    "measure_min_pulse_amplitude",
    "spice_min_pulse_amplitude",
    "compare_strength_duration",
]

#: The shipped circuit that ``compare_strength_duration(spice=True)`` fits and bisects, and
#: its membrane time constant by construction (the scale of the default widths).
SPICE_CIRCUIT = "lif_behavioral"
_SPICE_CIRCUIT_TAU_M_S = 1e-4


def pulse_fires(params: LIFParams, amplitude_amp: float, width_s: float) -> bool:
    """Does one rectangular current pulse from rest make the emulated neuron fire?

    The neuron starts at E_L with no bias and no noise; a :class:`~neurochip.network.CurrentStep`
    turns ``amplitude_amp`` on at 0 and off at ``width_s``; the run lasts ``width_s + 5 tau_m``.

    Parameters
    ----------
    params : LIFParams
    amplitude_amp : float
        Pulse amplitude in A.
    width_s : float
        Pulse width in s, > 0.

    Returns
    -------
    bool
        True if the neuron spiked at least once.

    Examples
    --------
    >>> from neurochip.lif import LIFParams, min_pulse_amplitude
    >>> p = LIFParams()
    >>> i_min = min_pulse_amplitude(p, 1e-3)
    >>> pulse_fires(p, 1.001 * i_min, 1e-3), pulse_fires(p, 0.999 * i_min, 1e-3)
    (True, False)
    """
    from ..emulator import run
    from ..network import CurrentStep, Network, Population

    clean = params.replace(noise_sigma_volt=0.0)
    net = Network(populations=(Population(name="n", size=1, params=clean),))
    step = CurrentStep(population="n", times_s=[0.0, width_s], amplitudes_amp=[amplitude_amp, 0.0])
    tail = 5 * params.tau_m_s if math.isfinite(params.tau_m_s) else width_s
    res = run(net, duration_s=width_s + tail, inputs=[step])
    return bool(res.spike_counts[0] > 0)


def _threshold_amplitude(fires: Callable[[float], bool], guess: float, rel_tol: float) -> float:
    """Smallest amplitude for which ``fires`` is true, to ``rel_tol``, by bisection.

    The bracket starts at [0.5, 2] x ``guess`` and is widened (halved, doubled) until ``fires``
    is false at its low end and true at its high end.
    """
    low, high = 0.5 * guess, 2.0 * guess
    while fires(low):
        low /= 2
    while not fires(high):
        high *= 2
    while high - low > rel_tol * high:
        mid = 0.5 * (low + high)
        if fires(mid):
            high = mid
        else:
            low = mid
    return high


def measure_min_pulse_amplitude(params: LIFParams, width_s: float, *, rel_tol: float = 1e-6) -> float:
    """Minimum pulse amplitude that fires the emulated neuron (bisection on :func:`pulse_fires`).

    Parameters
    ----------
    params : LIFParams
    width_s : float
        Pulse width in s, > 0.
    rel_tol : float
        Relative width of the final bracket.

    Returns
    -------
    float
        The smallest amplitude found to fire, in A (within ``rel_tol`` above the true threshold);
        the bisection starts from [0.5, 2] x :func:`neurochip.lif.min_pulse_amplitude`.

    Examples
    --------
    >>> from neurochip.lif import LIFParams, min_pulse_amplitude
    >>> p = LIFParams()
    >>> round(measure_min_pulse_amplitude(p, 1e-3) / min_pulse_amplitude(p, 1e-3), 5)
    1.0
    """
    guess = float(min_pulse_amplitude(params, width_s))
    return _threshold_amplitude(lambda a: pulse_fires(params, a, width_s), guess, rel_tol)


def spice_min_pulse_amplitude(
    circuit: str,
    width_s: float,
    *,
    lif_params: LIFParams,
    rel_tol: float = 2e-3,
    params: dict | None = None,
) -> float:
    """Minimum pulse amplitude that fires a neuron netlist in ngspice (bisection).

    Each trial is one transient run from the circuit's rest state: a single pulse of
    ``width_s`` (``Stimulus(kind="pulse")`` whose period outlasts the run) starting at 1 us,
    then 5 x ``width_s`` (at least 200 us) to see whether a spike follows.

    Parameters
    ----------
    circuit : str
        A shipped circuit name or a netlist path (see :func:`neurochip.circuit.simulate`).
    width_s : float
        Pulse width in s.
    lif_params : LIFParams
        The circuit's fitted LIF parameters (:func:`neurochip.circuit.fit_lif`).  They give the
        first guess (the closed form :func:`~neurochip.lif.min_pulse_amplitude`; the bracket is
        [0.5, 2] x the guess, widened if needed) and the spike criterion: a spike is a rise
        above (E_L + V_th)/2 followed by a reset below (V_reset + E_L)/2.  A subthreshold
        response never falls below E_L, so it cannot pass for a spike (this needs
        V_reset < E_L).
    rel_tol : float
        Relative width of the final bracket.
    params : dict, optional
        Netlist parameters passed to :func:`neurochip.circuit.simulate`.

    Returns
    -------
    float
        The smallest amplitude found to fire, in A.
    """
    from ..circuit import simulate
    from ..circuit.simulate import Stimulus

    lp = lif_params
    if not lp.v_reset_volt < lp.e_leak_volt < lp.v_th_volt:
        raise InvalidParameterError(
            "spice_min_pulse_amplitude: the spike criterion needs v_reset_volt < e_leak_volt < v_th_volt"
        )
    high_level = 0.5 * (lp.e_leak_volt + lp.v_th_volt)
    low_level = 0.5 * (lp.v_reset_volt + lp.e_leak_volt)
    delay = 1e-6
    duration = delay + width_s + max(5 * width_s, 2e-4)

    def fires(amp: float) -> bool:
        stim = Stimulus(kind="pulse", amplitude_amp=amp, delay_s=delay, width_s=width_s, period_s=10 * duration)
        trace = simulate(circuit, stim, duration, params=params)
        return trace.spike_times(high_volt=high_level, low_volt=low_level).size > 0

    return _threshold_amplitude(fires, float(min_pulse_amplitude(lp, width_s)), rel_tol)


def compare_strength_duration(
    params: LIFParams, widths_s: ArrayLike | None = None, *, spice: bool = False
) -> dict[str, Any]:
    """Closed-form, emulator (and ngspice) minimum pulse amplitudes per pulse width.

    Parameters
    ----------
    params : LIFParams
        The neuron; ignored with ``spice``, where the :data:`SPICE_CIRCUIT` is fitted instead.
    widths_s : array_like, optional
        Pulse widths in s (default 8 widths from 0.05 to 5 tau_m, geometrically spaced; tau_m
        is 1 ms for the perfect integrator and the circuit's 100 us with ``spice``).
    spice : bool
        Fit :data:`SPICE_CIRCUIT` with :func:`neurochip.circuit.fit_lif`, use its LIF
        parameters, and bisect the netlist in ngspice too (to 0.1 %).

    Returns
    -------
    dict
        ``widths_s``, ``params``, ``rheobase_amp`` (A), ``chronaxie_s`` (s, None for the
        perfect integrator), ``closed_form_amp`` and ``emulator_amp`` (arrays, A); with
        ``spice`` also ``circuit`` and ``spice_amp``.

    Examples
    --------
    >>> from neurochip.lif import LIFParams
    >>> rep = compare_strength_duration(LIFParams(), [1e-4, 1e-3])
    >>> (rep["emulator_amp"] / rep["closed_form_amp"]).round(5)
    array([1., 1.])
    """
    if spice:
        from ..circuit import fit_lif

        params = fit_lif(SPICE_CIRCUIT).params
    if widths_s is None:
        scale = params.tau_m_s if params.g_leak_siemens > 0 else 1e-3
        widths_s = (_SPICE_CIRCUIT_TAU_M_S if spice else scale) * np.geomspace(0.05, 5, 8)
    widths = np.atleast_1d(np.asarray(widths_s, dtype=np.float64))
    rep: dict[str, Any] = {"widths_s": widths}
    if spice:
        rep["circuit"] = SPICE_CIRCUIT
    rep["params"] = params.to_dict()
    rep["rheobase_amp"] = rheobase(params)
    rep["chronaxie_s"] = chronaxie(params) if params.g_leak_siemens > 0 else None
    rep["closed_form_amp"] = np.asarray(min_pulse_amplitude(params, widths))
    rep["emulator_amp"] = np.asarray([measure_min_pulse_amplitude(params, w) for w in widths])
    if spice:
        rep["spice_amp"] = np.asarray(
            [spice_min_pulse_amplitude(SPICE_CIRCUIT, w, lif_params=params, rel_tol=1e-3) for w in widths]
        )
    return rep
