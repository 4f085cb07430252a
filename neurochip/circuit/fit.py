r"""Fit LIF parameters to a neuron netlist, and report how well the fitted LIF matches SPICE.

Procedure (every step is a SPICE run of the netlist itself):

1. **Passives.**  A run at rest gives :math:`E_L` and the static power.  Two subthreshold steps
   :math:`I_p` and :math:`I_p/2` give :math:`V(t) = E_L + R I (1 - e^{-t/\tau})`; a joint least
   squares fit of both traces gives :math:`R` (:math:`g_L = 1/R`) and :math:`\tau`, so
   :math:`C = \tau / R`.
2. **Rheobase.**  Bisection on "fires within :math:`10\,\tau` from rest".
3. **Sweep.**  Steady-state ISIs at currents from 1.2x to 20x the rheobase (log spaced), and the
   supply energy per ISI.
4. **Spike parameters.**  With :math:`C, g_L, E_L` fixed, :math:`V_{th}, V_{reset}, t_{ref}` by
   least squares on the relative ISI error of :func:`neurochip.lif.isi`.  An f-I curve alone
   cannot separate :math:`R, E_L, V_{th}, V_{reset}`; the step responses fix the first two.

The fit's error against SPICE is part of the result, never hidden.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import lif
from ..errors import InvalidParameterError, SimulationError
from .fit_types import FitOptions, FitResult
from .netlist import NetlistTemplate, load_circuit
from .simulate import (
    SolverSettings,
    SpikeDetector,
    Stimulus,
    Trace,
    _integrate,
    circuit_detector,
    hinted_max_step,
    simulate,
    static_power,
)

__all__ = ["Convergence", "FitOptions", "FitResult", "check_convergence", "fit_lif", "measure_isi"]


class _Runner:
    """Counts runs, collects ngspice's warnings, reports progress; one place that calls :func:`simulate`."""

    def __init__(self, template: NetlistTemplate, params: Mapping[str, float | str] | None, solver: SolverSettings,
                 detector: SpikeDetector | None = None, progress: Any = None, expected: int = 30):
        self.template = template
        self.params = dict(params or {})
        self.solver = solver
        self.detector = detector
        self.n_runs = 0
        self.warnings: list[str] = []
        self.progress = progress
        self.expected = expected
        self.t0 = time.perf_counter()
        self.tau_s = math.nan  # set once the passive fit knows it
        self.t_ref_s = math.nan  # set once the first guess of t_ref is known
        self.c_farad = math.nan

    def __call__(self, stimulus: Stimulus, duration_s: float) -> Trace:
        self.n_runs += 1
        solver = self.solver
        if solver.max_step_s is None:
            # the sidecar's bound is written for runs of a few ISIs at the default parameters;
            # a long run (a long refractory period) may step 20000 times, not more, but never
            # more coarsely than tau_m / 100 once the passive fit has measured tau_m
            hint = hinted_max_step(self.template, self.template.resolve(self.params))
            if hint and not math.isfinite(self.tau_s):
                solver = replace(solver, max_step_s=max(hint, duration_s / 20000))
            elif hint:
                # ... nor so coarse that the membrane crosses the detector's band in < 20 steps
                band = self.c_farad * (self.detector.high_volt - self.detector.low_volt) if self.detector else math.inf
                cross = band / abs(stimulus.amplitude_amp) if stimulus.amplitude_amp else math.inf
                step = max(hint, min(duration_s / 20000, self.tau_s / 100, cross / 20))
                if math.isfinite(self.t_ref_s) and self.t_ref_s > 0:
                    step = min(step, max(hint, self.t_ref_s / 20))
                solver = replace(solver, max_step_s=step)
        trace = simulate(self.template, stimulus, duration_s, params=self.params, solver=solver,
                         detector=self.detector)
        for w in trace.warnings:
            if w not in self.warnings:
                self.warnings.append(w)
        if self.progress is not None:
            self.progress(self.n_runs, max(self.expected, self.n_runs), time.perf_counter() - self.t0)
        return trace


def measure_isi(
    run: Any, current_amp: float, isi_guess_s: float, *, isis: int = 4, max_tries: int = 4
) -> tuple[float, Trace, NDArray[np.float64]]:
    """Steady-state ISI of a netlist under a constant current.

    Runs long enough for ``isis + 2`` spikes, lengthening the run when fewer came.  The first
    spike (from rest) opens the count; the ISIs after it are averaged.

    Parameters
    ----------
    run : callable
        ``run(stimulus, duration_s) -> Trace``, e.g. a wrapper of
        :func:`~neurochip.circuit.simulate.simulate` with the circuit and its parameters bound.
    current_amp : float
        Constant input current in A (above the rheobase).
    isi_guess_s : float
        Expected ISI in s, > 0; sets the first run's length, ``(isis + 3)`` guesses.
    isis : int
        ISIs averaged, >= 1: the last ``isis`` of the run.
    max_tries : int
        Runs tried, each longer than the last, before giving up.

    Returns
    -------
    isi_s : float
        Mean of the last ``isis`` ISIs, s.
    trace : Trace
        The last run.
    spikes : ndarray of float64
        Its spike times, s.

    Raises
    ------
    SimulationError
        If the neuron does not fire repeatedly at this current.

    Examples
    --------
    >>> from neurochip.circuit.simulate import simulate
    >>> def run(stimulus, duration_s):
    ...     return simulate("lif_behavioral", stimulus, duration_s)
    >>> isi_s, trace, spikes = measure_isi(run, 10e-9, 100e-6)
    >>> round(isi_s * 1e6), len(spikes) >= 6  # us
    (129, True)
    """
    duration = max(isi_guess_s, 1e-12) * (isis + 3)
    for _ in range(max_tries):
        trace = run(Stimulus.dc(current_amp), duration)
        spikes = trace.spike_times()
        if len(spikes) >= isis + 2:
            d = np.diff(spikes)[-isis:]
            return float(np.mean(d)), trace, spikes
        if len(spikes) >= 2:
            guess = float(np.diff(spikes)[-1])
            duration = spikes[0] + guess * (isis + 3) * 1.2
        else:
            duration *= 4
    raise SimulationError(
        f"the neuron does not fire repeatedly at {current_amp:g} A "
        f"({len(spikes)} spikes in {duration:g} s)"
    )


def _step_residuals(
    x: NDArray[np.float64], data: list[tuple[float, NDArray[np.float64], NDArray[np.float64]]], scale: float
) -> NDArray[np.float64]:
    """Residuals of V(t) = E_L + R I (1 - exp(-t/tau)) over step responses (amp, t, v)."""
    el, r, tau = x
    return np.concatenate([(el + r * amp * (1 - np.exp(-t / tau)) - v) / scale for amp, t, v in data])


def _fit_passives(
    run: _Runner, probe: float, settle_s: float
) -> tuple[float, float, float, float, float]:
    """E_L, R, tau, probe current and static power from rest and two subthreshold steps."""
    from scipy.optimize import least_squares

    for _ in range(6):  # probe / 4 each time: down to 1/1024 of the first probe
        rest = run(Stimulus.dc(0.0), settle_s)
        e_l = float(rest.v_mem_volt[-1])
        p_static = static_power(rest)
        traces = [run(Stimulus.dc(a), settle_s) for a in (probe, probe / 2)]
        if any(len(tr.spike_times()) for tr in traces) or max(tr.v_mem_volt.max() for tr in traces) > e_l + (
            traces[0].v_mem_volt[-1] - e_l
        ) * 1.5 + 1e-3:
            probe /= 4
            continue
        dv = traces[0].v_mem_volt[-1] - e_l
        if not dv > 0:
            raise SimulationError(f"the membrane does not rise under a {probe:g} A probe (dv = {dv:g} V)")
        r0 = dv / probe
        # time constant guess: time to 63 % of the final rise
        t, v = traces[0].time_s, traces[0].v_mem_volt
        k63 = int(np.searchsorted(v - e_l >= 0.632 * dv, True)) if np.any(v - e_l >= 0.632 * dv) else len(t) - 1
        tau0 = max(float(t[min(k63, len(t) - 1)]), settle_s / 1e4)
        if tau0 > settle_s / 6:  # not settled: run longer
            settle_s = tau0 * 10
            continue

        data = [(probe, tr.time_s, tr.v_mem_volt) for tr in traces[:1]]
        data.append((probe / 2, traces[1].time_s, traces[1].v_mem_volt))
        sol = least_squares(_step_residuals, [e_l, r0, tau0], x_scale=[abs(dv), r0, tau0], xtol=1e-12, ftol=1e-12,
                            args=(data, dv))
        el, r, tau = (float(x) for x in sol.x)
        return el, r, tau, probe, p_static
    raise _FiresAtEveryProbe(probe)


class _FiresAtEveryProbe(SimulationError):
    """No subthreshold probe: a leak-free (perfect) integrator, or a neuron that fires at rest."""

    def __init__(self, probe: float):
        super().__init__(f"no subthreshold probe current found (the neuron fires at every probe down to {probe:g} A)")
        self.probe = probe


def _rheobase(run: _Runner, lo: float, window_s: float, steps: int) -> float:
    """Bisection: smallest current firing within window_s from rest."""

    def fires(current: float) -> bool:
        return len(run(Stimulus.dc(current), window_s).spike_times()) > 0

    hi = lo * 2
    for _ in range(14):  # up to 16384 x the probe current
        if fires(hi):
            break
        lo, hi = hi, hi * 2
    else:
        raise SimulationError(f"the neuron never spikes, up to {hi:g} A")
    for _ in range(steps):
        mid = math.sqrt(lo * hi)
        if fires(mid):
            hi = mid
        else:
            lo = mid
    return math.sqrt(lo * hi)


def fit_lif(
    circuit: NetlistTemplate | str,
    *,
    params: Mapping[str, float | str] | None = None,
    options: FitOptions | None = None,
) -> FitResult:
    r"""Characterise a neuron netlist and fit LIF parameters to it.

    Parameters
    ----------
    circuit : NetlistTemplate or str
        Template, shipped circuit name or netlist path (port convention: ``in``, ``vm``, ``VDD``).
    params : mapping, optional
        Netlist parameter values overriding the defaults.
    options : FitOptions, optional
        Sweep size, probe current, solver settings.

    Returns
    -------
    FitResult
        The fitted :class:`~neurochip.lif.LIFParams` (SI units) with its ISI error against
        SPICE, rheobase, saturation, energy per spike (J) and static power (W).

    Raises
    ------
    SimulationError
        When a run fails, or the neuron never spikes, or never stops spiking under the probe.
    InvalidParameterError
        For an unknown netlist parameter.
    ConfigError
        If ``circuit`` names no shipped circuit and no readable netlist.

    Notes
    -----
    The passive fit minimises, jointly over the step responses at :math:`I_p` and
    :math:`I_p/2`, the squared residuals of

    .. math::

        V(t) = E_L + R I \left(1 - e^{-t/\tau}\right), \qquad C = \tau / R

    and the spike fit minimises :math:`\sum_k (T_{LIF}(I_k) / T_k - 1)^2` over
    :math:`V_{th}, V_{reset}, t_{ref}` with :math:`T_{LIF}` of :func:`neurochip.lif.isi`.

    Examples
    --------
    The behavioural circuit is a LIF by construction (C = 1 pF, R = 100 MOhm, V_th = 0.6 V,
    t_ref = 50 us; 100 fF charged to 1.8 V per spike, 100 pA of bias):

    >>> fit = fit_lif("lif_behavioral")  # about 2 s
    >>> p = fit.params
    >>> round(p.c_m_farad * 1e12, 2), round(1e-6 / p.g_leak_siemens), round(p.v_th_volt, 2)  # pF, MOhm, V
    (1.0, 100, 0.6)
    >>> round(p.t_ref_s * 1e6), round(fit.static_power_watt * 1e12)  # us, pW
    (50, 180)
    >>> bool(abs(fit.energy_per_spike_joule / (100e-15 * 1.8**2) - 1) < 0.02)
    True
    """
    template = circuit if isinstance(circuit, NetlistTemplate) else load_circuit(circuit)
    if template.kind != "neuron":
        raise InvalidParameterError(
            f"{template.name} is a {template.kind}, not a neuron: fit it with neurochip.circuit.fit_synapse"
        )
    try:
        return _fit_lif(template, params, options or FitOptions())
    except SimulationError as exc:
        if exc.args[0].startswith(f"{template.name}: "):
            raise
        new = SimulationError(f"{template.name}: {exc.args[0].split('; at:')[0]}", line=exc.line)
        new.log = getattr(exc, "log", [])  # type: ignore[attr-defined]
        raise new from None


def _fit_lif(template: NetlistTemplate, params: Mapping[str, float | str] | None, options: FitOptions) -> FitResult:
    """:func:`fit_lif` of a neuron template."""
    from scipy.optimize import least_squares

    t_start = time.perf_counter()
    expected = 3 + 2 * options.rheobase_steps // 2 + options.rheobase_steps + options.n_sweep + 4
    run = _Runner(template, params, options.solver, options.detector, options.progress, expected=expected)
    probe = options.probe_current_amp or template.fit_hints.get("probe_current_amp", 1e-9)
    settle = template.fit_hints.get("settle_s", 1e-3)
    if run.detector is None:
        run.detector = circuit_detector(template, template.resolve(params))
    if run.detector is None:
        run.detector = _measure_detector(run, probe, settle)

    try:
        e_l, r, tau, probe, p_static = _fit_passives(run, probe, settle)
    except _FiresAtEveryProbe as exc:
        return _fit_leak_free(run, exc, template, params, options, t_start)
    c = tau / r
    run.tau_s, run.c_farad = tau, c
    window = 10 * tau
    i_rh = _rheobase(run, probe, window, options.rheobase_steps)

    # first guesses for the spike parameters, from one run at the top of the sweep; a run of
    # 10 tau holds few spikes when t_ref is long: lengthen it until it holds 3
    currents = i_rh * np.geomspace(options.sweep_low, options.sweep_high, options.n_sweep)
    v_th0 = e_l + r * i_rh
    duration = window
    for _ in range(6):
        top_trace = run(Stimulus.dc(currents[-1]), duration)
        spikes = top_trace.spike_times()
        if len(spikes) >= 3:
            break
        duration *= 4
    if len(spikes) < 2:
        raise SimulationError(f"the neuron does not fire repeatedly at {currents[-1]:g} A within {duration:g} s")
    after = top_trace.time_s > spikes[0]
    v_reset0 = float(min(top_trace.v_mem_volt[after].min(), v_th0 - 1e-3))
    guess0 = lif.LIFParams(
        c_m_farad=c, g_leak_siemens=1 / r, e_leak_volt=e_l, v_th_volt=v_th0, v_reset_volt=v_reset0, t_ref_s=0.0
    )
    isi_top = float(np.median(np.diff(spikes)))
    t_ref0 = max(isi_top - float(lif.isi(guess0, currents[-1])), isi_top * 0.01)
    guess = guess0.replace(t_ref_s=t_ref0)
    run.t_ref_s = t_ref0

    isi_spice = np.empty(len(currents))
    energy = np.empty(len(currents))
    for k, current in enumerate(currents):
        t_guess = float(lif.isi(guess, current))
        t_guess = t_guess if math.isfinite(t_guess) else window
        isi_spice[k], trace, sp = measure_isi(run, current, t_guess, isis=options.isis)
        n = min(options.isis, len(sp) - 2)
        energy[k] = _integrate(trace.time_s, trace.power_watt, sp[-1 - n], sp[-1]) / n

    def model(x: NDArray[np.float64], i: NDArray[np.float64]) -> NDArray[np.float64]:
        vth, vr, tref = x
        p = guess.replace(v_th_volt=vth, v_reset_volt=min(vr, vth - 1e-9), t_ref_s=max(tref, 0.0))
        return np.asarray(lif.isi(p, i), dtype=np.float64)

    def resid(x: NDArray[np.float64]) -> NDArray[np.float64]:
        m = model(x, currents)
        return np.where(np.isfinite(m), m / isi_spice - 1, 10.0)

    dv0 = v_th0 - v_reset0
    lower = [v_th0 - 0.5 * dv0, v_reset0 - dv0, 0.0]
    upper = [e_l + r * currents[0] - 1e-6, v_th0 - 1e-6, isi_spice.min()]
    x0 = np.clip([v_th0 - 1e-4 * dv0, v_reset0, t_ref0], np.add(lower, 1e-12), np.subtract(upper, 1e-12))
    sol = least_squares(resid, x0, bounds=(lower, upper), x_scale=[dv0, dv0, max(t_ref0, 1e-9)],
                        xtol=1e-14, ftol=1e-14, gtol=1e-14)
    vth, vr, tref = (float(v) for v in sol.x)
    fitted = guess.replace(v_th_volt=vth, v_reset_volt=vr, t_ref_s=tref)
    isi_lif = np.asarray(lif.isi(fitted, currents), dtype=np.float64)
    rel = np.abs(isi_lif / isi_spice - 1)

    sat_current, sat_rate = math.nan, math.nan
    max_rate = float(1 / isi_spice.min())
    if options.saturation_multiple > 0:
        sat_current = i_rh * options.saturation_multiple
        t_guess = float(lif.isi(fitted, sat_current))
        try:
            isi_sat, _, _ = measure_isi(run, sat_current, t_guess, isis=options.isis)
            sat_rate = 1 / isi_sat
            max_rate = max(max_rate, sat_rate)
        except SimulationError:
            sat_rate = math.nan  # reported as nan: the circuit does not keep firing this hard

    e_dyn = float(np.mean(energy - p_static * isi_spice))
    lif_window_rh = lif.rheobase(fitted) / (1 - math.exp(-window / fitted.tau_m_s))
    return FitResult(
        params=fitted,
        circuit=template.name,
        circuit_params=template.resolve(params),
        sweep_current_amp=currents,
        isi_spice_s=isi_spice,
        isi_lif_s=isi_lif,
        energy_per_isi_joule=energy,
        max_isi_rel_error=float(rel.max()),
        rms_isi_rel_error=float(np.sqrt(np.mean(rel**2))),
        rheobase_spice_amp=i_rh,
        rheobase_lif_amp=float(lif_window_rh),
        max_rate_hz=max_rate,
        saturation_current_amp=sat_current,
        saturation_rate_hz=sat_rate,
        saturation_isi_rel_error=abs(float(lif.isi(fitted, sat_current)) * sat_rate - 1)
        if math.isfinite(sat_rate) else math.nan,
        energy_per_spike_joule=e_dyn,
        static_power_watt=p_static,
        solver=options.solver.to_dict(),
        n_runs=run.n_runs,
        wall_time_s=time.perf_counter() - t_start,
        detector=run.detector.to_dict(),
        warnings=list(run.warnings),
    )


def _measure_detector(run: _Runner, probe: float, settle_s: float) -> SpikeDetector:
    """Spike levels measured on the first current (probe x 4^k) at which the neuron fires repeatedly."""
    from .simulate import detect_spikes

    duration = settle_s
    current = probe
    trace = None
    for k in range(11):  # probe x 4^10: 1 nA -> 1 mA
        current = probe * 4.0**k
        for _ in range(4):
            trace = run(Stimulus.dc(current), duration)
            found = SpikeDetector.measure(trace.time_s, trace.v_mem_volt)
            if found is not None:
                return found
            if len(detect_spikes(trace.time_s, trace.v_mem_volt, min_swing_volt=0.005)) == 0:
                break
            duration *= 4  # it spikes, but not 3 times yet: a long refractory period or a slow charge
    v_end = float(trace.v_mem_volt[-1]) if trace is not None else math.nan
    raise SimulationError(
        f"the neuron never spikes: no spike-and-reset cycle on v(vm) up to {current:g} A for {duration:g} s "
        f"(v(vm) ends at {v_end:.4g} V); a neuron that spikes on another node needs its levels in the "
        "sidecar's [detect] table"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Convergence:
    """Energy per spike and ISI against the solver's largest step (:func:`check_convergence`).

    Attributes
    ----------
    max_step_s : ndarray of float64, shape (n,)
        The step bounds tried, s, each half the one before.
    isi_s, energy_per_spike_joule : ndarray of float64, shape (n,)
        Steady-state ISI (s) and supply energy per ISI (J, static part included) at each.
    rel_change : ndarray of float64, shape (n,)
        Largest relative change of the two from the step before (nan for the first).
    converged : bool
        Whether the last halving changed both by less than ``tolerance``.
    step_s : float
        The coarsest step whose results the next halving confirmed to ``tolerance``, s (nan when
        not converged).
    tolerance : float
        The stated relative tolerance.
    """

    max_step_s: NDArray[np.float64]
    isi_s: NDArray[np.float64]
    energy_per_spike_joule: NDArray[np.float64]
    rel_change: NDArray[np.float64]
    converged: bool
    step_s: float
    tolerance: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (arrays as ndarrays).

        Returns
        -------
        dict of str to object
        """
        return {k: getattr(self, k) for k in self.__slots__}


def check_convergence(
    circuit: NetlistTemplate | str,
    current_amp: float,
    *,
    params: Mapping[str, float | str] | None = None,
    detector: SpikeDetector | None = None,
    tolerance: float = 0.01,
    max_halvings: int = 8,
    isis: int = 4,
    first_step_s: float | None = None,
) -> Convergence:
    r"""Halve the solver's largest step until energy per spike and ISI change by < ``tolerance``.

    Parameters
    ----------
    circuit : NetlistTemplate or str
        A neuron netlist (port convention).
    current_amp : float
        Constant input current, A, above the rheobase.
    params : mapping, optional
        Netlist parameter values.
    detector : SpikeDetector, optional
        Spike levels (default: the circuit's declared ones, else measured on the first run).
    tolerance : float
        Relative tolerance, in (0, 1) (default 1 %).
    max_halvings : int
        Halvings tried, >= 1.
    isis : int
        ISIs averaged per run, >= 2.
    first_step_s : float, optional
        The first step bound, s; default the one :func:`simulate` would use (the sidecar's
        hint, else duration / 20000).

    Returns
    -------
    Convergence

    Raises
    ------
    SimulationError
        If the neuron does not fire repeatedly at ``current_amp``.
    InvalidParameterError
        For a tolerance outside (0, 1) or ``max_halvings`` < 1.

    Notes
    -----
    With :math:`h_k = h_0 / 2^k`, ISI :math:`T_k` and energy per ISI :math:`E_k` (from the
    second spike on, over whole ISIs), the check stops at the first :math:`k` with

    .. math::

        \max\left(\left|\frac{T_k}{T_{k-1}} - 1\right|, \left|\frac{E_k}{E_{k-1}} - 1\right|\right) < \varepsilon

    and reports :math:`h_{k-1}`.

    Examples
    --------
    >>> conv = check_convergence("lif_behavioral", 20e-9, max_halvings=3)
    >>> conv.converged, bool(conv.rel_change[-1] < 0.01)
    (True, True)
    """
    from .simulate import energy_per_spike

    if not 0 < tolerance < 1:
        raise InvalidParameterError(f"tolerance = {tolerance!r}: must be in (0, 1)")
    if max_halvings < 1:
        raise InvalidParameterError(f"max_halvings = {max_halvings!r}: must be >= 1")
    template = circuit if isinstance(circuit, NetlistTemplate) else load_circuit(circuit)
    values = template.resolve(params)
    det = detector or circuit_detector(template, values)

    def run(stimulus: Stimulus, duration_s: float, step: float | None = None) -> Trace:
        solver = SolverSettings(max_step_s=step) if step else SolverSettings()
        return simulate(template, stimulus, duration_s, params=params, solver=solver, detector=det)

    if det is None:
        probe = run(Stimulus.dc(current_amp), template.fit_hints.get("settle_s", 1e-3))
        det = SpikeDetector.measure(probe.time_s, probe.v_mem_volt)
        if det is None:
            raise SimulationError(f"{template.name}: no repeated spikes at {current_amp:g} A to measure levels on")
    # a first run to learn the ISI: measure_isi lengthens it as needed
    _, trace, _ = measure_isi(run, current_amp, template.fit_hints.get("settle_s", 1e-3) / 10, isis=isis)
    duration = float(trace.time_s[-1])
    step = first_step_s or hinted_max_step(template, values) or duration / 20000
    steps, isi, energy, change = [], [], [], []
    for k in range(max_halvings + 1):
        tr = run(Stimulus.dc(current_amp), duration, step)
        sp = tr.spike_times()
        if len(sp) < isis + 2:
            raise SimulationError(f"{template.name}: {len(sp)} spikes at a max step of {step:g} s (expected >= {isis + 2})")
        sp = sp[-(isis + 1):]
        steps.append(step)
        isi.append(float(np.mean(np.diff(sp))))
        energy.append(energy_per_spike(tr, np.concatenate(([sp[0]], sp))))
        change.append(math.nan if k == 0 else max(abs(isi[-1] / isi[-2] - 1), abs(energy[-1] / energy[-2] - 1)))
        if k and change[-1] < tolerance:
            break
        step /= 2
    converged = bool(len(change) > 1 and change[-1] < tolerance)
    return Convergence(
        max_step_s=np.asarray(steps), isi_s=np.asarray(isi), energy_per_spike_joule=np.asarray(energy),
        rel_change=np.asarray(change), converged=converged, step_s=steps[-2] if converged else math.nan,
        tolerance=tolerance,
    )


def _fit_leak_free(
    run: _Runner, fired: _FiresAtEveryProbe, template: NetlistTemplate, params: Mapping[str, float | str] | None,
    options: FitOptions, t_start: float,
) -> FitResult:
    r"""Fit a perfect integrator (no leak: :math:`g_L = 0`), or re-raise when the neuron is not one.

    A neuron that fires at every probe, however small, has no rheobase.  If its membrane rises
    linearly from rest to the first spike (the slope at the end within 2 % of the slope at
    the start, where a leak would bend it down), it is a leak-free integrator:
    :math:`C = I / \dot V`, and the ISI is :math:`t_{ref} + C (V_{th} - V_{reset}) / I`, linear in
    :math:`1/I`.  Only :math:`V_{th} - V_{reset}` is identifiable: :math:`V_{reset}` is the
    measured trough after a spike, :math:`V_{th}` and :math:`t_{ref}` come from a linear
    least-squares fit of the sweep's ISIs against :math:`1/I`.
    """
    settle = template.fit_hints.get("settle_s", 1e-3)
    rest = run(Stimulus.dc(0.0), settle)
    p_static = static_power(rest)
    e_l = float(rest.v_mem_volt[-1])
    probe = fired.probe
    trace = run(Stimulus.dc(probe), settle)
    spikes = trace.spike_times()
    duration = settle
    while len(spikes) < 1 and duration < 1e3 * settle:
        duration *= 4
        trace = run(Stimulus.dc(probe), duration)
        spikes = trace.spike_times()
    if len(spikes) < 1:
        raise fired
    t, v = trace.time_s, trace.v_mem_volt
    t1 = float(spikes[0])
    seg = (t > 0.05 * t1) & (t < 0.8 * t1) & (v < run.detector.low_volt)
    if seg.sum() < 10:
        raise fired
    ts, vs = t[seg], v[seg]
    half = len(ts) // 2
    s_early = np.polyfit(ts[:half], vs[:half], 1)[0]
    s_late = np.polyfit(ts[half:], vs[half:], 1)[0]
    if not (s_early > 0 and abs(s_late / s_early - 1) < 0.02):
        raise fired  # not a straight rise: a neuron that fires at rest, not a perfect integrator
    c = probe / float(np.polyfit(ts, vs, 1)[0])
    run.tau_s, run.c_farad = math.inf, c
    # the sweep's base: the current that charges from reset to threshold in one settle time, so
    # that ngspice's gmin (1 pS per node) is a negligible leak next to it
    swing = (run.detector.high_volt - run.detector.low_volt) / 0.4
    base = max(probe, c * swing / settle)
    currents = base * np.geomspace(options.sweep_low, options.sweep_high, options.n_sweep)
    isi_spice = np.empty(len(currents))
    energy = np.empty(len(currents))
    troughs = []
    for k, current in enumerate(currents):
        guess = (run.detector.high_volt - run.detector.low_volt) * 2 * c / current
        isi_spice[k], tr, sp = measure_isi(run, current, guess, isis=options.isis)
        n = min(options.isis, len(sp) - 2)
        energy[k] = _integrate(tr.time_s, tr.power_watt, sp[-1 - n], sp[-1]) / n
        after = tr.time_s > sp[1]
        troughs.append(float(tr.v_mem_volt[after].min()))
    v_reset = float(np.median(troughs))
    a = np.column_stack([np.ones_like(currents), c / currents])  # ISI = t_ref + c dV / I
    w = 1 / isi_spice  # relative residuals
    (t_ref, dv), *_ = np.linalg.lstsq(a * w[:, None], isi_spice * w, rcond=None)
    t_ref = max(float(t_ref), 0.0)
    fitted = lif.LIFParams(c_m_farad=c, g_leak_siemens=0.0, e_leak_volt=e_l, v_th_volt=v_reset + float(dv),
                           v_reset_volt=v_reset, t_ref_s=t_ref)
    isi_lif = np.asarray(lif.isi(fitted, currents), dtype=np.float64)
    rel = np.abs(isi_lif / isi_spice - 1)
    e_dyn = float(np.mean(energy - p_static * isi_spice))
    return FitResult(
        params=fitted, circuit=template.name, circuit_params=template.resolve(params), sweep_current_amp=currents,
        isi_spice_s=isi_spice, isi_lif_s=isi_lif, energy_per_isi_joule=energy, max_isi_rel_error=float(rel.max()),
        rms_isi_rel_error=float(np.sqrt(np.mean(rel**2))), rheobase_spice_amp=0.0, rheobase_lif_amp=0.0,
        max_rate_hz=float(1 / isi_spice.min()), saturation_current_amp=math.nan, saturation_rate_hz=math.nan,
        saturation_isi_rel_error=math.nan, energy_per_spike_joule=e_dyn, static_power_watt=p_static,
        solver=options.solver.to_dict(), n_runs=run.n_runs, wall_time_s=time.perf_counter() - t_start,
        detector=run.detector.to_dict(), warnings=list(run.warnings),
    )
