r"""Fit a current-based (exponential) synapse to a synapse netlist, and measure where it holds.

Every silicon neuron is driven by synapse circuits that turn each AER pulse into a decaying
current.  The model fitted here is the exponential synapse

.. math::

    I(t) = \sum_k \frac{q}{\tau}\, e^{-(t - t_k)/\tau}

with time constant :math:`\tau` (s) and charge per event :math:`q` (C), so the weight (the
current an instantaneous event adds) is :math:`q/\tau` (A).  A pulse of width :math:`\Delta t`
delivers its charge during the pulse, so the kernel actually fitted is that exponential
smoothed over the pulse (exact for a linear first-order circuit; for :math:`\Delta t \ll \tau`
it is the exponential with :math:`t_k` at the pulse centre).

Procedure (every step is a SPICE run of the netlist itself, see docs/synapses.md):

1. **Single pulse.**  The rest before the pulse gives the rest current into ``post`` and the
   static power.  :math:`\tau` and :math:`q` come from least squares on the current after the
   pulse; the run lasts ``tail_taus`` time constants, lengthened until it does.
2. **Trains** at several rates (multiples of :math:`1/\tau`): the fitted model's relative RMS
   and max error against SPICE, and the ratio of SPICE's charge to the model's, per rate.
   The trains validate the model; they do not move it, because a circuit that saturates would
   bias :math:`\tau` and :math:`q` by an amount that depends on the rates chosen.
3. **Linear range**: the rates, from isolated pulses up, where both the RMS error and the
   charge error (SPICE's charge over the model's, minus 1) stay within the tolerance.  Outside
   it the error is reported, never hidden.
4. **Energy**: the supply energy per event (single pulse and each train) minus static power.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError, SimulationError
from ._synapse_netlist import RISE_S, SynapseTrace, simulate_synapse
from .netlist import NetlistTemplate, load_synapse
from .simulate import SolverSettings, _integrate

__all__ = [
    "BiasSweepResult",
    "SynapseFitOptions",
    "SynapseFitResult",
    "SynapseTrace",
    "fit_synapse",
    "simulate_synapse",
    "sweep_bias",
    "synaptic_current",
]

_MAX_TRAIN_PULSES = 60


def synaptic_current(
    time_s: NDArray[np.float64] | Sequence[float],
    spike_times_s: NDArray[np.float64] | Sequence[float],
    *,
    tau_s: float,
    charge_coulomb: float,
    pulse_width_s: float = 0.0,
) -> NDArray[np.float64]:
    r"""Current of the exponential synapse (above rest) at the given times, in A.

    Parameters
    ----------
    time_s : array_like, shape (T,)
        Times in s.
    spike_times_s : array_like, shape (K,)
        Event onsets :math:`t_k` in s.
    tau_s : float
        Time constant :math:`\tau` in s, > 0.
    charge_coulomb : float
        Charge per event :math:`q` in C.
    pulse_width_s : float
        Width :math:`\Delta t \ge 0` over which each event's charge is delivered (0: instantly).

    Returns
    -------
    ndarray, shape (T,)

    Notes
    -----
    With :math:`u = t - t_k`, each event contributes :math:`q/\Delta t\,(1 - e^{-u/\tau})`
    during the pulse and :math:`q/\Delta t\,(e^{\Delta t/\tau} - 1)\,e^{-u/\tau}` after it;
    for :math:`\Delta t \to 0` this is :math:`(q/\tau)\,e^{-u/\tau}`.

    Examples
    --------
    >>> float(synaptic_current([1e-3], [0.0], tau_s=1e-3, charge_coulomb=1e-12)[0])  # doctest: +ELLIPSIS
    3.678...e-10
    """
    if not tau_s > 0:
        raise InvalidParameterError.of("tau_s", tau_s, "must be > 0")
    if not pulse_width_s >= 0:
        raise InvalidParameterError.of("pulse_width_s", pulse_width_s, "must be >= 0")
    u = np.asarray(time_s, dtype=np.float64)[:, None] - np.asarray(spike_times_s, dtype=np.float64)[None, :]
    decay = np.exp(-np.maximum(u, 0.0) / tau_s)
    if pulse_width_s == 0:
        h = np.where(u >= 0, decay / tau_s, 0.0)
    else:
        w = pulse_width_s
        during = -np.expm1(-np.clip(u, 0.0, w) / tau_s) / w
        after = np.expm1(w / tau_s) / w * decay
        h = np.where(u < 0, 0.0, np.where(u < w, during, after))
    return charge_coulomb * h.sum(axis=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class SynapseFitOptions:
    """Options of :func:`fit_synapse`.

    Parameters
    ----------
    pulse_width_s : float or None
        AER pulse width in s; None takes the sidecar's ``[fit] pulse_width_s``, else 1 µs.
    pulse_amplitude_volt : float or None
        Pulse amplitude in V; None takes the sidecar's hint, else the ``vdd`` parameter.
    rates_per_tau : tuple of float
        Train rates as multiples of :math:`1/\\tau` (each > 0); () skips the trains.  Rates whose
        period is under twice the pulse width are dropped.
    pulses_per_train : int
        Pulses per train, >= 2 (raised to :math:`3 r \\tau` so that fast trains reach their
        plateau; at most 60).
    tolerance : float
        Relative RMS error (of the fitted current against SPICE's, over a train, normalised by
        SPICE's peak) and relative charge error (SPICE's charge over the model's, minus 1) up to
        which a rate counts as linear; in (0, 1).  Both count: a saturating synapse can keep its
        RMS error under 5 % while delivering 8 % less charge.
    tail_taus : float
        Length of the single-pulse run after the pulse, in time constants, >= 3.
    tau_guess_s : float or None
        First guess of :math:`\\tau` in s; None takes the sidecar's ``[fit] tau_guess_s``, else 1 ms.
    grid_points : int
        Points of the uniform time grid on which currents are compared, >= 200.
    solver : SolverSettings
        ngspice settings.
    """

    pulse_width_s: float | None = None
    pulse_amplitude_volt: float | None = None
    rates_per_tau: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0, 10.0)
    pulses_per_train: int = 10
    tolerance: float = 0.05
    tail_taus: float = 8.0
    tau_guess_s: float | None = None
    grid_points: int = 4000
    solver: SolverSettings = field(default_factory=SolverSettings)

    def __post_init__(self) -> None:
        if any(not (math.isfinite(r) and r > 0) for r in self.rates_per_tau):
            raise InvalidParameterError.of("rates_per_tau", self.rates_per_tau, "every rate must be > 0")
        if self.pulses_per_train < 2:
            raise InvalidParameterError.of("pulses_per_train", self.pulses_per_train, "must be >= 2")
        if not 0 < self.tolerance < 1:
            raise InvalidParameterError.of("tolerance", self.tolerance, "must be in (0, 1)")
        if not self.tail_taus >= 3:
            raise InvalidParameterError.of("tail_taus", self.tail_taus, "must be >= 3")
        if self.grid_points < 200:
            raise InvalidParameterError.of("grid_points", self.grid_points, "must be >= 200")
        for name in ("pulse_width_s", "pulse_amplitude_volt", "tau_guess_s"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise InvalidParameterError.of(name, value, "must be > 0 (or None)")


@dataclass(frozen=True, slots=True, kw_only=True)
class SynapseFitResult:
    """A fitted exponential synapse and the evidence for it (SI units).

    Attributes
    ----------
    circuit : str
        Circuit name.
    circuit_params : dict
        Netlist parameter values used.
    tau_syn_s : float
        Fitted time constant in s.
    charge_coulomb : float
        Fitted charge per event in C (the integral of the current above rest).
    rest_current_amp : float
        Current into ``post`` at rest in A (not part of the model; subtracted before the fit).
    pulse_width_s, pulse_amplitude_volt : float
        The AER pulse used.
    single_rel_rms_error, single_rel_max_error : float
        Error of the fitted current against SPICE's after a single pulse, RMS and max over a
        uniform time grid, relative to SPICE's peak.
    rates_hz : ndarray, shape (R,)
        Train rates, increasing.
    train_pulses : ndarray of int, shape (R,)
        Pulses per train.
    rate_rel_rms_error, rate_rel_max_error : ndarray, shape (R,)
        The same errors over each train, relative to that train's SPICE peak.
    rate_charge_ratio : ndarray, shape (R,)
        SPICE's charge over the model's, per train (< 1: the circuit saturates).
    rate_energy_per_event_joule : ndarray, shape (R,)
        Dynamic supply energy per event in each train.
    rel_rms_error, rel_max_error : float
        Over the single pulse and every train (RMS of the per-run RMS errors; max of the max).
    rel_rms_error_linear, rel_max_error_linear : float
        The same over the single pulse and the trains inside the linear range.
    tolerance : float
        The error tolerance that defines the linear range.
    linear_max_rate_hz : float
        Highest tested rate up to which every train is within tolerance (0: none is; isolated
        pulses, i.e. rates well below 1/tau, are the single-pulse fit itself).
    first_nonlinear_rate_hz : float
        Lowest tested rate whose error exceeds the tolerance (nan: none did, the linear range
        extends at least to the highest tested rate).
    energy_per_event_joule : float
        Dynamic supply energy per isolated event: the integral of the supply power after the
        pulse minus static power times that time.
    static_power_watt : float
        Supply power at rest in W.
    solver : dict
        Solver settings.
    n_runs : int
        SPICE runs made.
    wall_time_s : float
        Wall time of the fit.
    single_trace : SynapseTrace
        The single-pulse run (for plots; not in :meth:`to_dict`).
    train_traces : tuple of SynapseTrace
        The train runs, in the order of ``rates_hz`` (not in :meth:`to_dict`).
    """

    circuit: str
    circuit_params: dict[str, float]
    tau_syn_s: float
    charge_coulomb: float
    rest_current_amp: float
    pulse_width_s: float
    pulse_amplitude_volt: float
    single_rel_rms_error: float
    single_rel_max_error: float
    rates_hz: NDArray[np.float64]
    train_pulses: NDArray[np.int64]
    rate_rel_rms_error: NDArray[np.float64]
    rate_rel_max_error: NDArray[np.float64]
    rate_charge_ratio: NDArray[np.float64]
    rate_energy_per_event_joule: NDArray[np.float64]
    rel_rms_error: float
    rel_max_error: float
    rel_rms_error_linear: float
    rel_max_error_linear: float
    tolerance: float
    linear_max_rate_hz: float
    first_nonlinear_rate_hz: float
    energy_per_event_joule: float
    static_power_watt: float
    solver: dict[str, Any]
    n_runs: int
    wall_time_s: float
    single_trace: SynapseTrace
    train_traces: tuple[SynapseTrace, ...] = ()

    @property
    def weight_amp(self) -> float:
        """Weight :math:`q/\\tau` in A: the current step of an instantaneous event."""
        return self.charge_coulomb / self.tau_syn_s

    def model_current(self, trace: SynapseTrace, time_s: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """The fitted model's current (rest included) for a run's pulses, at ``time_s`` (default: its times)."""
        t = trace.time_s if time_s is None else np.asarray(time_s, dtype=np.float64)
        return self.rest_current_amp + synaptic_current(
            t, trace.spike_times_s, tau_s=self.tau_syn_s, charge_coulomb=self.charge_coulomb,
            pulse_width_s=self.pulse_width_s,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the traces are left out)."""
        return {
            "circuit": self.circuit,
            "kind": "synapse",
            "circuit_params": dict(self.circuit_params),
            "tau_syn_s": self.tau_syn_s,
            "charge_coulomb": self.charge_coulomb,
            "weight_amp": self.weight_amp,
            "rest_current_amp": self.rest_current_amp,
            "pulse_width_s": self.pulse_width_s,
            "pulse_amplitude_volt": self.pulse_amplitude_volt,
            "single_rel_rms_error": self.single_rel_rms_error,
            "single_rel_max_error": self.single_rel_max_error,
            "rel_rms_error": self.rel_rms_error,
            "rel_max_error": self.rel_max_error,
            "rel_rms_error_linear": self.rel_rms_error_linear,
            "rel_max_error_linear": self.rel_max_error_linear,
            "tolerance": self.tolerance,
            "linear_max_rate_hz": self.linear_max_rate_hz,
            "first_nonlinear_rate_hz": self.first_nonlinear_rate_hz,
            "energy_per_event_joule": self.energy_per_event_joule,
            "static_power_watt": self.static_power_watt,
            "trains": {
                "rate_hz": self.rates_hz,
                "pulses": self.train_pulses,
                "rel_rms_error": self.rate_rel_rms_error,
                "rel_max_error": self.rate_rel_max_error,
                "charge_ratio": self.rate_charge_ratio,
                "energy_per_event_joule": self.rate_energy_per_event_joule,
            },
            "solver": self.solver,
            "n_runs": self.n_runs,
            "wall_time_s": self.wall_time_s,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class _Compare:
    """Fitted current against SPICE's over one run."""

    rel_rms: float
    rel_max: float
    charge_ratio: float
    energy_per_event_joule: float


class _Runner:
    """Counts runs; one place that calls :func:`simulate_synapse`."""

    def __init__(self, template: NetlistTemplate, params: Mapping[str, float | str] | None,
                 options: SynapseFitOptions):
        self.template = template
        self.params = dict(params or {})
        self.options = options
        self.n_runs = 0

    def __call__(self, spike_times_s: NDArray[np.float64], duration_s: float) -> SynapseTrace:
        self.n_runs += 1
        return simulate_synapse(
            self.template, spike_times_s, duration_s, params=self.params,
            pulse_width_s=self.options.pulse_width_s, pulse_amplitude_volt=self.options.pulse_amplitude_volt,
            solver=self.options.solver,
        )


def _rest(trace: SynapseTrace, t0: float) -> tuple[float, float]:
    """Mean current into post and supply power over the rest before the first pulse."""
    a, b = 0.1 * t0, 0.9 * t0
    return (_integrate(trace.time_s, trace.i_syn_amp, a, b) / (b - a),
            _integrate(trace.time_s, trace.power_watt, a, b) / (b - a))


def _tail_tau(t: NDArray[np.float64], net: NDArray[np.float64]) -> float:
    """Decay time constant from a log-linear regression of the tail (50 % to 2 % of the peak)."""
    k = int(np.argmax(net))
    peak = net[k]
    sel = (np.arange(len(t)) > k) & (net < 0.5 * peak) & (net > 0.02 * peak)
    if np.count_nonzero(sel) < 10:
        return math.nan
    slope = np.polyfit(t[sel], np.log(net[sel]), 1)[0]
    return -1.0 / slope if slope < 0 else math.nan


def _grid(trace: SynapseTrace, t0: float, points: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Uniform grid from t0 to the end of the run, and SPICE's current on it."""
    tg = np.linspace(t0, trace.time_s[-1], points)
    return tg, np.interp(tg, trace.time_s, trace.i_syn_amp)


def _compare(trace: SynapseTrace, *, tau: float, q: float, rest: float,
             p_static: float, t0: float, points: int) -> _Compare:
    tg, i_sp = _grid(trace, t0, points)
    i_fit = rest + synaptic_current(tg, trace.spike_times_s, tau_s=tau, charge_coulomb=q,
                                    pulse_width_s=trace.pulse_width_s)
    peak = float(np.max(i_sp - rest))
    if not peak > 0:
        raise SimulationError(f"no synaptic current after the pulses at {trace.spike_times_s[:3]} s")
    err = (i_fit - i_sp) / peak
    t1 = float(trace.time_s[-1])
    q_spice = _integrate(tg, i_sp - rest, t0, t1)
    q_model = _integrate(tg, i_fit - rest, t0, t1)
    e_dyn = _integrate(trace.time_s, trace.power_watt - p_static, 0.9 * t0, t1)
    return _Compare(
        rel_rms=float(np.sqrt(np.mean(err**2))),
        rel_max=float(np.max(np.abs(err))),
        charge_ratio=q_spice / q_model,
        energy_per_event_joule=e_dyn / len(trace.spike_times_s),
    )


def _single_pulse(run: _Runner, tau: float, width: float, tail_taus: float
                  ) -> tuple[SynapseTrace, float, float, float, float]:
    """The single-pulse run, long enough for ``tail_taus`` time constants: trace, t0, tau, rest, P_static."""
    for _ in range(5):
        t0 = max(0.1 * tau, 20 * width)
        trace = run(np.array([t0]), t0 + width + tail_taus * tau)
        rest, p_static = _rest(trace, t0)
        net = trace.i_syn_amp - rest
        if not net.max() > 0:
            raise SimulationError(f"{run.template.name}: no current into post after a pulse (rest {rest:g} A)")
        est = _tail_tau(trace.time_s, net)
        if not math.isfinite(est):
            tau *= 4  # not even down to half the peak: a much longer time constant
            continue
        if tau / 3 <= est <= tau * 1.05:
            return trace, t0, est, rest, p_static
        tau = est
    raise SimulationError(f"{run.template.name}: the current after a pulse does not decay (last guess {tau:g} s)")


def fit_synapse(
    name_or_path: NetlistTemplate | str | Path,
    *,
    params: Mapping[str, float | str] | None = None,
    options: SynapseFitOptions | None = None,
) -> SynapseFitResult:
    r"""Characterise a synapse netlist and fit an exponential synapse to it.

    Parameters
    ----------
    name_or_path : NetlistTemplate, str or Path
        Template, shipped synapse name (``"dpi_synapse"``, ``"syn_behavioral"``) or netlist path
        following the synapse port convention (``pre``, ``post`` with ``VPOST``, ``VDD``).
    params : mapping, optional
        Netlist parameter values overriding the defaults (``{"v_tau": 1.55}``).
    options : SynapseFitOptions, optional
        Pulse, train rates, tolerance, solver settings.

    Returns
    -------
    SynapseFitResult

    Raises
    ------
    SimulationError
        When a run fails, or the circuit gives no current or one that does not decay.
    ConfigError
        When the circuit is unknown or not declared a synapse.

    Notes
    -----
    The model is :math:`I(t) = I_{rest} + \sum_k (q/\tau)\,e^{-(t-t_k)/\tau}`, smoothed over
    the pulse (:func:`synaptic_current`).  :math:`\tau` and :math:`q` minimise the squared error
    after a single pulse; the trains measure the error against input rate.

    Examples
    --------
    >>> res = fit_synapse("syn_behavioral")  # doctest: +SKIP
    >>> round(res.tau_syn_s * 1e3, 2), round(res.charge_coulomb * 1e12, 2)  # doctest: +SKIP
    (1.0, 1.0)
    """
    from scipy.optimize import least_squares

    t_start = time.perf_counter()
    options = options or SynapseFitOptions()
    template = name_or_path if isinstance(name_or_path, NetlistTemplate) else load_synapse(name_or_path)
    run = _Runner(template, params, options)
    width = options.pulse_width_s or template.fit_hints.get("pulse_width_s", 1e-6)
    tau0 = options.tau_guess_s or template.fit_hints.get("tau_guess_s", 1e-3)

    single, t0, tau_est, rest, p_static = _single_pulse(run, tau0, width, options.tail_taus)
    tg, i_sp = _grid(single, t0, options.grid_points)
    net = i_sp - rest
    peak = float(net.max())
    q_est = _integrate(tg, net, t0, tg[-1])

    def resid(x: NDArray[np.float64]) -> NDArray[np.float64]:
        tau, q = x
        return (synaptic_current(tg, single.spike_times_s, tau_s=tau, charge_coulomb=q,
                                 pulse_width_s=single.pulse_width_s) - net) / peak

    sol = least_squares(resid, [tau_est, q_est], x_scale=[tau_est, abs(q_est)],
                        bounds=([tau_est / 10, 0.0], [tau_est * 10, abs(q_est) * 10]), xtol=1e-12, ftol=1e-12)
    tau, q = (float(v) for v in sol.x)
    compare = dict(rest=rest, p_static=p_static, t0=t0, points=options.grid_points)
    c_single = _compare(single, tau=tau, q=q, **compare)

    rates = [r / tau for r in sorted(options.rates_per_tau) if 1 / (r / tau) >= 2 * (width + 2 * RISE_S)]
    trains: list[SynapseTrace] = []
    c_trains: list[_Compare] = []
    n_pulses: list[int] = []
    for rate in rates:
        n = int(min(_MAX_TRAIN_PULSES, max(options.pulses_per_train, math.ceil(3 * rate * tau))))
        times = t0 + np.arange(n) / rate
        trace = run(times, times[-1] + width + 5 * tau)
        points = int(min(200_000, max(options.grid_points, 20 * rate * (trace.time_s[-1] - t0))))
        c_trains.append(_compare(trace, tau=tau, q=q, **{**compare, "points": points}))
        trains.append(trace)
        n_pulses.append(n)

    rate_rms = np.array([c.rel_rms for c in c_trains])
    charge_ratio = np.array([c.charge_ratio for c in c_trains])
    ok = (rate_rms <= options.tolerance) & (np.abs(charge_ratio - 1) <= options.tolerance)
    n_ok = int(np.argmin(ok)) if not ok.all() else len(ok)  # leading run of rates within tolerance
    linear_max = float(rates[n_ok - 1]) if n_ok else 0.0
    first_bad = float(rates[n_ok]) if n_ok < len(rates) else math.nan
    all_c = [c_single, *c_trains]
    lin_c = [c_single, *c_trains[:n_ok]]
    return SynapseFitResult(
        circuit=template.name,
        circuit_params=template.resolve(params),
        tau_syn_s=tau,
        charge_coulomb=q,
        rest_current_amp=rest,
        pulse_width_s=single.pulse_width_s,
        pulse_amplitude_volt=single.pulse_amplitude_volt,
        single_rel_rms_error=c_single.rel_rms,
        single_rel_max_error=c_single.rel_max,
        rates_hz=np.asarray(rates, dtype=np.float64),
        train_pulses=np.asarray(n_pulses, dtype=np.int64),
        rate_rel_rms_error=rate_rms,
        rate_rel_max_error=np.array([c.rel_max for c in c_trains]),
        rate_charge_ratio=charge_ratio,
        rate_energy_per_event_joule=np.array([c.energy_per_event_joule for c in c_trains]),
        rel_rms_error=float(np.sqrt(np.mean([c.rel_rms**2 for c in all_c]))),
        rel_max_error=max(c.rel_max for c in all_c),
        rel_rms_error_linear=float(np.sqrt(np.mean([c.rel_rms**2 for c in lin_c]))),
        rel_max_error_linear=max(c.rel_max for c in lin_c),
        tolerance=options.tolerance,
        linear_max_rate_hz=linear_max,
        first_nonlinear_rate_hz=first_bad,
        energy_per_event_joule=c_single.energy_per_event_joule,
        static_power_watt=p_static,
        solver=options.solver.to_dict(),
        n_runs=run.n_runs,
        wall_time_s=time.perf_counter() - t_start,
        single_trace=single,
        train_traces=tuple(trains),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class BiasSweepResult:
    """Fits of a synapse at several values of one bias, and the exponential trend of tau.

    Attributes
    ----------
    circuit, param : str
        Circuit and the swept parameter.
    values : ndarray, shape (B,)
        The parameter values (SI units).
    tau_syn_s, charge_coulomb, weight_amp : ndarray, shape (B,)
        Fitted time constant (s), charge per event (C) and weight q/tau (A).
    single_rel_rms_error : ndarray, shape (B,)
        Single-pulse fit error at each value.
    log_tau_slope_per_volt : float
        Slope of :math:`\\ln\\tau` against the parameter (1/unit of the parameter; for a
        subthreshold leak bias :math:`V_\\tau` of a pFET this is :math:`\\kappa_p/U_T`).
    log_tau_rms_residual : float
        RMS residual of that straight line in :math:`\\ln\\tau` (0: exactly exponential).
    fits : tuple of SynapseFitResult
        The fits themselves.
    """

    circuit: str
    param: str
    values: NDArray[np.float64]
    tau_syn_s: NDArray[np.float64]
    charge_coulomb: NDArray[np.float64]
    weight_amp: NDArray[np.float64]
    single_rel_rms_error: NDArray[np.float64]
    log_tau_slope_per_volt: float
    log_tau_rms_residual: float
    fits: tuple[SynapseFitResult, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (without the individual fits' traces)."""
        return {
            "circuit": self.circuit,
            "param": self.param,
            "values": self.values,
            "tau_syn_s": self.tau_syn_s,
            "charge_coulomb": self.charge_coulomb,
            "weight_amp": self.weight_amp,
            "single_rel_rms_error": self.single_rel_rms_error,
            "log_tau_slope_per_volt": self.log_tau_slope_per_volt,
            "log_tau_rms_residual": self.log_tau_rms_residual,
        }


def sweep_bias(
    name_or_path: NetlistTemplate | str | Path,
    param: str,
    values: Sequence[float | str],
    *,
    params: Mapping[str, float | str] | None = None,
    options: SynapseFitOptions | None = None,
) -> BiasSweepResult:
    r"""Fit a synapse at several values of one netlist parameter (a bias such as ``v_tau``).

    Parameters
    ----------
    name_or_path : NetlistTemplate, str or Path
        The synapse.
    param : str
        Declared parameter to sweep.
    values : sequence of float or str
        At least 2 values (SI floats or strings such as ``"1.55 V"``).
    params : mapping, optional
        Other parameter overrides, held fixed.
    options : SynapseFitOptions, optional
        Fit options; default: single pulses only (no trains), which is all tau and q need.

    Returns
    -------
    BiasSweepResult

    Notes
    -----
    In subthreshold the DPI's leak current is :math:`I_\tau = I_0 e^{\kappa_p (V_{dd} - V_\tau)/U_T}`,
    so :math:`\tau = C U_T/(\kappa I_\tau)` grows exponentially with :math:`V_\tau`:
    :math:`d\ln\tau/dV_\tau = \kappa_p/U_T` (about 25-35 /V for :math:`\kappa_p` = 0.65-0.9).
    """
    template = name_or_path if isinstance(name_or_path, NetlistTemplate) else load_synapse(name_or_path)
    if param not in template.params:
        raise InvalidParameterError(f"{template.name}: unknown parameter {param!r}; declared: {', '.join(template.params)}")
    if len(values) < 2:
        raise InvalidParameterError.of("values", list(values), "need at least 2 values to sweep")
    options = options or SynapseFitOptions(rates_per_tau=())
    fits = tuple(fit_synapse(template, params={**dict(params or {}), param: v}, options=options) for v in values)
    x = np.array([f.circuit_params[param] for f in fits])
    tau = np.array([f.tau_syn_s for f in fits])
    coef = np.polyfit(x, np.log(tau), 1)
    resid = np.log(tau) - np.polyval(coef, x)
    return BiasSweepResult(
        circuit=template.name,
        param=param,
        values=x,
        tau_syn_s=tau,
        charge_coulomb=np.array([f.charge_coulomb for f in fits]),
        weight_amp=np.array([f.weight_amp for f in fits]),
        single_rel_rms_error=np.array([f.single_rel_rms_error for f in fits]),
        log_tau_slope_per_volt=float(coef[0]),
        log_tau_rms_residual=float(np.sqrt(np.mean(resid**2))),
        fits=fits,
    )
