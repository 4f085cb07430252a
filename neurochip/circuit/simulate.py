"""Transient simulation of a neuron netlist: stimulus in, membrane and supply traces out.

The simulator appends to the rendered netlist the input source ``IIN 0 in ...`` (a positive
current flows into node ``in``), the solver options and a ``.tran`` analysis, and reads back
``v(vm)`` and the supply current ``i(VDD)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError, SimulationError
from ..units import spice_number
from . import _ngspice
from .netlist import NetlistTemplate, load_circuit
from .netlist_check import check_elements
from .spikes import SpikeDetector, circuit_detector, detect_spikes

__all__ = [
    "SpikeDetector",
    "SolverSettings",
    "Stimulus",
    "Trace",
    "simulate",
    "detect_spikes",
    "energy_per_spike",
    "static_power",
]

_RISE_S = 10e-9  # every stimulus starts from 0 A at t = 0 and ramps in 10 ns


@dataclass(frozen=True, slots=True, kw_only=True)
class SolverSettings:
    """ngspice transient settings.

    The defaults matter: ngspice's default trapezoidal method and reltol = 1e-3 give ISIs 5-18 %
    off on these circuits and can step over narrow spike pulses.

    Parameters
    ----------
    method : str
        Integration method, ``"gear"`` (default) or ``"trap"``.
    reltol : float
        Relative tolerance, > 0 (default 1e-4).
    max_step_s : float or None
        Largest time step in s; None lets :func:`simulate` use duration / 20000.
    abstol_amp : float
        Absolute current tolerance in A, > 0 (default 1e-14: the circuits carry pA-nA
        currents).

    Raises
    ------
    InvalidParameterError
        If ``method`` is unknown, ``reltol`` is outside (0, 0.1), or a step or tolerance is
        not > 0.

    Examples
    --------
    >>> SolverSettings(max_step_s=0.2e-6).to_dict()
    {'method': 'gear', 'reltol': 0.0001, 'max_step_s': 2e-07, 'abstol_amp': 1e-14}
    """

    method: str = "gear"
    reltol: float = 1e-4
    max_step_s: float | None = None
    abstol_amp: float = 1e-14

    def __post_init__(self) -> None:
        if self.method not in ("gear", "trap"):
            raise InvalidParameterError(f"method = {self.method!r}: must be 'gear' or 'trap'")
        if not (0 < self.reltol < 0.1):
            raise InvalidParameterError(f"reltol = {self.reltol!r}: must be in (0, 0.1)")
        if self.max_step_s is not None and not self.max_step_s > 0:
            raise InvalidParameterError(f"max_step_s = {self.max_step_s!r}: must be > 0")
        if not self.abstol_amp > 0:
            raise InvalidParameterError(f"abstol_amp = {self.abstol_amp!r}: must be > 0")

    def to_dict(self) -> dict[str, object]:
        """Plain dict (for reports).

        Returns
        -------
        dict of str to object
            ``method``, ``reltol``, ``max_step_s`` (s or None) and ``abstol_amp`` (A).
        """
        return {
            "method": self.method,
            "reltol": self.reltol,
            "max_step_s": self.max_step_s,
            "abstol_amp": self.abstol_amp,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Stimulus:
    """Input current into node ``in``.

    Parameters
    ----------
    kind : str
        ``"dc"`` (``amplitude_amp`` from t = 0, ramped in 10 ns from a rest state at 0 A),
        ``"step"`` (0 A until ``delay_s``, then ``amplitude_amp``) or ``"pulse"`` (pulses of
        ``amplitude_amp``, width ``width_s``, every ``period_s``, from ``delay_s``).
    amplitude_amp : float
        Current in A, finite (negative draws current out of node ``in``).
    delay_s, width_s, period_s : float
        Timing of step and pulse stimuli, in s: ``delay_s >= 0``; for pulses
        ``0 < width_s < period_s``.  Each edge ramps in 10 ns.

    Raises
    ------
    InvalidParameterError
        If ``kind`` is unknown, a value is not finite, ``delay_s < 0``, or a pulse's width is
        not inside (0, period).

    Examples
    --------
    >>> Stimulus.step(2e-9, 100e-6).spice()
    'PWL(0 0 100u 0 100.01u 2n)'
    >>> Stimulus(kind="pulse", amplitude_amp=1e-9, width_s=1e-6, period_s=10e-6).spice()
    'PULSE(0 1n 0 10n 10n 1u 10u)'
    """

    kind: str = "dc"
    amplitude_amp: float = 0.0
    delay_s: float = 0.0
    width_s: float = 0.0
    period_s: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("dc", "step", "pulse"):
            raise InvalidParameterError(f"kind = {self.kind!r}: must be 'dc', 'step' or 'pulse'")
        for name in ("amplitude_amp", "delay_s", "width_s", "period_s"):
            if not math.isfinite(getattr(self, name)):
                raise InvalidParameterError(f"{name} = {getattr(self, name)!r}: must be finite")
        if self.delay_s < 0:
            raise InvalidParameterError(f"delay_s = {self.delay_s!r}: must be >= 0")
        if self.kind == "pulse" and not (0 < self.width_s < self.period_s):
            raise InvalidParameterError(
                f"width_s = {self.width_s!r}, period_s = {self.period_s!r}: need 0 < width < period"
            )

    @classmethod
    def dc(cls, amplitude_amp: float) -> Stimulus:
        """A constant current (from a rest state at 0 A).

        Parameters
        ----------
        amplitude_amp : float
            Current in A, finite.

        Returns
        -------
        Stimulus
            ``kind="dc"``: ramps from 0 A to ``amplitude_amp`` in the first 10 ns.

        Examples
        --------
        >>> Stimulus.dc(2e-9).spice()
        'PWL(0 0 10n 2n)'
        """
        return cls(kind="dc", amplitude_amp=amplitude_amp)

    @classmethod
    def step(cls, amplitude_amp: float, delay_s: float) -> Stimulus:
        """0 A, then ``amplitude_amp`` from ``delay_s`` on.

        Parameters
        ----------
        amplitude_amp : float
            Current after the step in A, finite.
        delay_s : float
            Step time in s, >= 0 (the current ramps over the following 10 ns).

        Returns
        -------
        Stimulus
        """
        return cls(kind="step", amplitude_amp=amplitude_amp, delay_s=delay_s)

    def spice(self) -> str:
        """The source value as SPICE text (``PWL(...)`` or ``PULSE(...)``).

        Returns
        -------
        str
            The value of an ngspice current source (times in s, currents in A, with SPICE
            scale suffixes).
        """
        a = spice_number(self.amplitude_amp)
        r = spice_number(_RISE_S)
        if self.kind == "dc":
            return f"PWL(0 0 {r} {a})"
        if self.kind == "step":
            t0 = spice_number(self.delay_s)
            t1 = spice_number(self.delay_s + _RISE_S)
            return f"PWL(0 0 {t0} 0 {t1} {a})"
        return (
            f"PULSE(0 {a} {spice_number(self.delay_s)} {r} {r} "
            f"{spice_number(self.width_s)} {spice_number(self.period_s)})"
        )


@dataclass(frozen=True, slots=True)
class Trace:
    """The result of one transient run (SI units; arrays of equal length).

    Attributes
    ----------
    time_s : ndarray
        Time points in s (non-uniform: ngspice's own steps).
    v_mem_volt : ndarray
        Membrane potential v(vm) in V.
    i_supply_amp : ndarray
        Current delivered by the supply VDD in A (positive when the supply delivers power).
    v_supply_volt : ndarray
        Supply voltage in V.
    stimulus : Stimulus
        The input current.
    params : dict
        The parameter values the netlist was rendered with.
    solver : SolverSettings
        The solver settings used.
    detector : SpikeDetector or None
        The spike levels of the circuit (:func:`circuit_detector`); None: automatic levels per
        trace (see :func:`detect_spikes`).
    log : tuple of str
        Everything ngspice printed for this run.
    warnings : tuple of str
        Trouble ngspice reported and recovered from (a singular matrix, gmin stepping).

    Examples
    --------
    >>> trace = simulate("lif_behavioral", 10e-9, 1e-3)
    >>> trace.time_s.shape == trace.v_mem_volt.shape == trace.i_supply_amp.shape
    True
    >>> round(float(trace.v_supply_volt[0]), 6), trace.params["vdd"]
    (1.8, 1.8)
    """

    time_s: NDArray[np.float64]
    v_mem_volt: NDArray[np.float64]
    i_supply_amp: NDArray[np.float64]
    v_supply_volt: NDArray[np.float64]
    stimulus: Stimulus
    params: dict[str, float] = field(default_factory=dict)
    solver: SolverSettings = field(default_factory=SolverSettings)
    detector: SpikeDetector | None = None
    log: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def power_watt(self) -> NDArray[np.float64]:
        """Instantaneous supply power V_dd I_dd in W, shape (n_samples,)."""
        return self.v_supply_volt * self.i_supply_amp

    def spike_times(self, **kwargs: float) -> NDArray[np.float64]:
        """Spike times in s, with the trace's ``detector`` levels (see :func:`detect_spikes`).

        Parameters
        ----------
        **kwargs
            ``high_volt``, ``low_volt`` (V) and ``min_swing_volt`` (V) of :func:`detect_spikes`;
            given levels win over the detector's.

        Returns
        -------
        ndarray of float64, shape (n_spikes,)
            Spike times in s, increasing.
        """
        if self.detector is not None and "high_volt" not in kwargs:
            kwargs = {"high_volt": self.detector.high_volt, "low_volt": self.detector.low_volt, **kwargs}
        return detect_spikes(self.time_s, self.v_mem_volt, **kwargs)


def simulate(
    circuit: NetlistTemplate | str,
    stimulus: Stimulus | float,
    duration_s: float,
    *,
    params: Mapping[str, float | str] | None = None,
    solver: SolverSettings | None = None,
    detector: SpikeDetector | None = None,
) -> Trace:
    """Simulate a neuron netlist under an input current.

    Parameters
    ----------
    circuit : NetlistTemplate or str
        A template, a shipped circuit name or the path of a netlist following the port
        convention (nodes ``in`` and ``vm``, voltage source ``VDD``).
    stimulus : Stimulus or float
        Input current; a float is a constant current in A.
    duration_s : float
        Simulated time in s, > 0.
    params : mapping, optional
        Template parameter values (SI floats or strings such as ``"1pF"``).
    solver : SolverSettings, optional
        ngspice settings; the default bounds the step at ``max_step_s`` from the template's
        ``[fit]`` hints (scaled with ``c_m`` when ``--set`` changes it), else
        ``duration_s / 20000``.
    detector : SpikeDetector, optional
        Spike levels; default :func:`circuit_detector` of the circuit (None when it declares
        none: automatic levels per trace).

    Returns
    -------
    Trace

    Raises
    ------
    SimulationError
        With the first cause line and the offending netlist line: a netlist ngspice does not
        load, a failed run, or a problem that would change the circuit
        (:func:`~neurochip.circuit.netlist_check.check_elements`, an element ngspice defaulted).
        Its ``log`` attribute holds ngspice's full output.  Warnings ngspice recovered from
        (a singular matrix solved by gmin stepping) do not raise: they are in
        ``Trace.warnings``.
    InvalidParameterError
        For a bad duration or an unknown parameter.
    ConfigError
        If ``circuit`` names no shipped circuit and no readable netlist.

    Examples
    --------
    The behavioural LIF (C = 1 pF, R = 100 MOhm, E_L = 0.1 V, V_th = 0.6 V, V_reset = 0,
    t_ref = 50 us) under 10 nA fires with the LIF period
    :math:`t_{ref} + RC \\ln\\frac{E_L + RI - V_{reset}}{E_L + RI - V_{th}}` = 128.8 us:

    >>> r_i = 1e8 * 10e-9  # R I, V
    >>> isi_lif = 50e-6 + 1e8 * 1e-12 * np.log((0.1 + r_i - 0.0) / (0.1 + r_i - 0.6))
    >>> trace = simulate("lif_behavioral", 10e-9, 1e-3)
    >>> isi = np.diff(trace.spike_times())
    >>> len(isi), bool(abs(isi.mean() / isi_lif - 1) < 0.005)
    (7, True)
    >>> simulate("lif_behavioral", 10e-9, 1e-3, params={"c_m": "2 pF"}).params["c_m"]
    2e-12
    """
    template = circuit if isinstance(circuit, NetlistTemplate) else load_circuit(circuit)
    if template.kind != "neuron":
        raise InvalidParameterError(
            f"{template.name} is a {template.kind}, not a neuron: fit it with neurochip.circuit.fit_synapse"
        )
    if not isinstance(stimulus, Stimulus):
        stimulus = Stimulus.dc(float(stimulus))
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise InvalidParameterError(f"duration_s = {duration_s!r}: must be > 0")
    solver = solver or SolverSettings()
    values = template.resolve(params)
    text = template.render(values)
    try:
        check_elements(text, extra_nodes=("in",))
    except SimulationError as exc:
        raise SimulationError(f"{template.name}: {exc.args[0].split('; at:')[0]}", line=exc.line) from None
    body = "\n".join(text.splitlines()[1:])
    max_step = solver.max_step_s or hinted_max_step(template, values) or duration_s / 20000
    max_step = min(max_step, duration_s / 200)
    analysis = [
        f"IIN 0 in {stimulus.spice()}",
        f".options method={solver.method} reltol={solver.reltol:g} abstol={solver.abstol_amp:g} "
        "itl4=100",
        f".tran {spice_number(max_step)} {spice_number(duration_s)} 0 {spice_number(max_step)}",
        ".save v(vm) v(vdd) i(vdd)",
    ]
    try:
        vec, log, warnings = _ngspice.run_logged(body, analysis, ["time", "vm", "vdd", "vdd#branch"])
    except SimulationError as exc:
        new = SimulationError(
            f"{template.name}: {exc.args[0].split(';')[0]}",
            simulator_message=exc.simulator_message,
            line=exc.line,
        )
        new.log = getattr(exc, "log", [])  # type: ignore[attr-defined]
        raise new from None
    t = vec["time"]
    if len(t) < 2 or t[-1] < duration_s * (1 - 1e-6):
        raise SimulationError(
            f"{template.name}: the run stopped at t = {t[-1] if len(t) else 0:g} s of {duration_s:g} s "
            "(no convergence)"
        )
    # ngspice's branch current flows into the + terminal: a supply delivering power has i < 0
    return Trace(
        time_s=t,
        v_mem_volt=vec["vm"],
        i_supply_amp=-vec["vdd#branch"],
        v_supply_volt=vec["vdd"],
        stimulus=stimulus,
        params=values,
        solver=solver,
        detector=detector if detector is not None else circuit_detector(template, values),
        log=tuple(log),
        warnings=tuple(warnings),
    )


def hinted_max_step(template: NetlistTemplate, values: Mapping[str, float]) -> float | None:
    """The sidecar's ``[fit] max_step_s``, scaled with the circuit's time scales.

    A hint is written for the default parameters.  A larger membrane capacitor (``lif =
    "c_m_farad"``) slows the membrane by the same factor, a longer refractory period (``lif =
    "t_ref_s"``) slows the one-shot; the step scales with the smaller of the two ratios, since
    it must resolve both (and it shrinks with either).

    Parameters
    ----------
    template : NetlistTemplate
        The circuit.
    values : mapping of str to float
        The run's parameter values.

    Returns
    -------
    float or None
        Step bound in s; None without a hint.

    Examples
    --------
    >>> from neurochip.circuit import load_circuit
    >>> t = load_circuit("lif_behavioral")
    >>> hinted_max_step(t, t.resolve({"c_m": "10pF", "t_ref": "1ms"}))
    2e-06
    >>> hinted_max_step(t, t.resolve({"c_m": "0.1pF"}))
    2e-08
    """
    hint = template.fit_hints.get("max_step_s")
    if not hint:
        return None
    ratios = []
    for name, decl in template.params.items():
        if decl.lif in ("c_m_farad", "t_ref_s") and decl.default > 0 and values.get(name, decl.default) > 0:
            ratios.append(values.get(name, decl.default) / decl.default)
    return float(hint * min(ratios)) if ratios else float(hint)


def _integrate(t: NDArray[np.float64], y: NDArray[np.float64], t0: float, t1: float) -> float:
    """Trapezoidal integral of samples y(t) over [t0, t1] (interpolated ends)."""
    inside = (t > t0) & (t < t1)
    tt = np.concatenate(([t0], t[inside], [t1]))
    yy = np.concatenate(([np.interp(t0, t, y)], y[inside], [np.interp(t1, t, y)]))
    return float(np.sum(0.5 * (yy[1:] + yy[:-1]) * np.diff(tt)))


def energy_per_spike(trace: Trace, spikes: NDArray[np.float64] | None = None) -> float:
    """Supply energy per spike in J: :math:`\\int V_{dd} I_{dd}\\,dt` over whole ISIs / their count.

    The integral runs from the second spike to the last one (the first ISI starts from rest),
    so it holds everything the supply spends per cycle, static part included.

    Parameters
    ----------
    trace : Trace
        A spiking run (constant input, so that every ISI is alike).
    spikes : ndarray of float64, shape (n_spikes,), optional
        Spike times in s; default ``trace.spike_times()``.

    Returns
    -------
    float
        Energy per spike in J, static power over one ISI included.

    Raises
    ------
    SimulationError
        If the trace holds fewer than 3 spikes.

    Notes
    -----
    With spike times :math:`t_1 < \\dots < t_N` and the trapezoidal rule on ngspice's time
    points:

    .. math::

        E_{spike} = \\frac{1}{N - 2} \\int_{t_2}^{t_N} V_{dd}(t) \\, I_{dd}(t) \\, dt

    Examples
    --------
    The behavioural LIF at 10 nA: its output stage charges 100 fF to 1.8 V per spike
    (:math:`C V_{dd}^2` = 0.32 pJ), and 180 pW of bias flows during each 129 us ISI (23 fJ):

    >>> trace = simulate("lif_behavioral", 10e-9, 1e-3)
    >>> expected = 100e-15 * 1.8**2 + 1.8 * 100e-12 * 128.8e-6  # J
    >>> bool(abs(energy_per_spike(trace) / expected - 1) < 0.02)
    True
    """
    spikes = trace.spike_times() if spikes is None else spikes
    if len(spikes) < 3:
        raise SimulationError(
            f"energy per spike needs >= 3 spikes, the trace has {len(spikes)} "
            f"(input {trace.stimulus.amplitude_amp:g} A, {trace.time_s[-1]:g} s)"
        )
    t0, t1 = spikes[1], spikes[-1]
    return _integrate(trace.time_s, trace.power_watt, t0, t1) / (len(spikes) - 2)


def static_power(trace: Trace) -> float:
    """Mean supply power in W over the second half of a trace at rest (no input, no spikes).

    Parameters
    ----------
    trace : Trace
        A run at zero input, long enough for the circuit to settle in its first half.

    Returns
    -------
    float
        Mean power in W.

    Notes
    -----
    Over a trace from :math:`t_0` to :math:`t_1`, with :math:`t_m = (t_0 + t_1) / 2`:

    .. math::

        P_{static} = \\frac{1}{t_1 - t_m} \\int_{t_m}^{t_1} V_{dd}(t) \\, I_{dd}(t) \\, dt

    Examples
    --------
    The behavioural LIF draws its 100 pA bias from 1.8 V:

    >>> rest = simulate("lif_behavioral", 0.0, 0.2e-3)
    >>> round(float(static_power(rest)) * 1e12, 3)  # pW
    180.0
    """
    t = trace.time_s
    t0 = t[0] + 0.5 * (t[-1] - t[0])
    return _integrate(t, trace.power_watt, t0, t[-1]) / (t[-1] - t0)
