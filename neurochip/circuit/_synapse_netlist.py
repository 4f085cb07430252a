"""Synapse netlists: loading them, and one transient run under a train of AER pulses.

A synapse netlist follows its own port convention (docs/synapses.md): the AER pulse arrives on
node ``pre``, the synaptic current flows into node ``post``, held at a fixed voltage by a source
``VPOST`` through which it is measured, and ``VDD`` is the supply.  Its sidecar declares
``kind = "synapse"``.  Templates are the neurons' :class:`~neurochip.circuit.netlist.NetlistTemplate`, loaded by
:func:`~neurochip.circuit.netlist.load_synapse`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError, SimulationError
from ..units import spice_number
from . import _ngspice
from .netlist import NetlistTemplate, load_synapse
from .simulate import SolverSettings

__all__ = ["SynapseTrace", "simulate_synapse"]

_PACKAGE = "neurochip.circuits"
RISE_S = 10e-9  # rise and fall time of every AER pulse the simulator drives
# ngspice puts a conductance gmin (default 1 pS) across every pn junction.  At 1.8 V that is 1.8 pA,
# as much as the leak current I_tau of a DPI with a time constant of a few ms: it discharged the
# capacitor node against I_tau and lengthened tau by a third at v_tau = 1.65 V.  The junctions of the generic cards have no area, hence no real leakage.
GMIN_SIEMENS = 1e-15


@dataclass(frozen=True, slots=True)
class SynapseTrace:
    """One transient run of a synapse (SI units; arrays of equal length).

    Attributes
    ----------
    time_s : ndarray
        Time points in s (ngspice's own steps).
    i_syn_amp : ndarray
        Synaptic current flowing into node ``post`` in A (through ``VPOST``).
    i_supply_amp : ndarray
        Current delivered by ``VDD`` in A (positive when the supply delivers power).
    v_supply_volt : ndarray
        Supply voltage in V.
    spike_times_s : ndarray
        Onsets of the AER pulses in s.
    pulse_width_s : float
        Width of each pulse in s (at half amplitude).
    pulse_amplitude_volt : float
        Pulse amplitude in V.
    params : dict
        The parameter values the netlist was rendered with.
    """

    time_s: NDArray[np.float64]
    i_syn_amp: NDArray[np.float64]
    i_supply_amp: NDArray[np.float64]
    v_supply_volt: NDArray[np.float64]
    spike_times_s: NDArray[np.float64]
    pulse_width_s: float
    pulse_amplitude_volt: float
    params: dict[str, float] = field(default_factory=dict)

    @property
    def power_watt(self) -> NDArray[np.float64]:
        """Instantaneous supply power V_dd I_dd in W."""
        return self.v_supply_volt * self.i_supply_amp


def pulse_pwl(spike_times_s: NDArray[np.float64], width_s: float, amplitude_volt: float,
              step_s: float | None = None) -> str:
    """``PWL(...)`` text of AER pulses: 0 V, then ``amplitude_volt`` for ``width_s`` from each onset.

    Each edge takes 10 ns; the pulse is ``width_s`` wide at half amplitude.  With ``step_s``,
    each plateau also gets a corner every ``step_s``: ngspice steps to every corner, so its time
    step stays below ``step_s`` during the pulses only, while the run between them keeps its
    larger step.  The DPI's charge per event needs it (docs/synapses.md, "Time step").  The
    source is one line, however long: the analysis lines reach ngspice one by one, with no
    continuation.
    """
    pts = [(0.0, 0.0)]
    half = RISE_S / 2
    n = max(1, math.ceil((width_s - RISE_S) / step_s)) if step_s else 1
    for t in spike_times_s:
        plateau = np.linspace(t + half, t + width_s - half, n + 1)
        pts += [(t - half, 0.0), *((float(u), amplitude_volt) for u in plateau), (t + width_s + half, 0.0)]
    return "PWL(" + " ".join(f"{spice_number(t)} {spice_number(v)}" for t, v in pts) + ")"


def check_pulses(spike_times_s: Sequence[float], width_s: float, duration_s: float) -> NDArray[np.float64]:
    """Pulse onsets as an array, after checking that the pulses fit in the run without touching.

    Raises
    ------
    InvalidParameterError
        A pulse width of 20 ns or less, a first onset before 10 ns, onsets closer than a pulse
        width (overlapping pulses), or a last pulse that does not end before ``duration_s``.
    """
    t = np.asarray(spike_times_s, dtype=np.float64).reshape(-1)
    if not (math.isfinite(width_s) and width_s > 2 * RISE_S):
        raise InvalidParameterError(f"pulse_width_s = {width_s!r}: must be > {2 * RISE_S:g} s (two 10 ns edges)")
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise InvalidParameterError(f"duration_s = {duration_s!r}: must be > 0")
    if len(t) == 0:
        return t
    if not np.all(np.isfinite(t)) or t[0] < RISE_S:
        raise InvalidParameterError(f"spike_times_s[0] = {t[0]!r}: pulses must start at >= {RISE_S:g} s")
    gaps = np.diff(t)
    if np.any(gaps <= width_s + RISE_S):
        k = int(np.argmax(gaps <= width_s + RISE_S))
        raise InvalidParameterError(
            f"spike_times_s[{k + 1}] - spike_times_s[{k}] = {gaps[k]:g} s: pulses of {width_s:g} s overlap; "
            f"onsets must be more than {width_s + RISE_S:g} s apart"
        )
    if t[-1] + width_s + RISE_S >= duration_s:
        raise InvalidParameterError(
            f"last pulse at {t[-1]:g} s does not end within duration_s = {duration_s:g} s"
        )
    return t


def run_transient(name: str, body: str, analysis: list[str], names: list[str], duration_s: float) -> dict:
    """One ngspice transient of circuit ``name``: the vectors ``names``; a failure or a run that
    stops short of ``duration_s`` is a SimulationError naming the circuit (first cause only).

    Parameters
    ----------
    name : str
        The circuit's name, for the messages.
    body : str
        The rendered netlist with its sources.
    analysis : list of str
        The ``.options``, ``.tran`` and ``.save`` lines.
    names : list of str
        Vectors to read back (``"time"`` first).
    duration_s : float
        The transient's length, s.

    Returns
    -------
    dict of str to ndarray
        The vectors by name.
    """
    try:
        vec = _ngspice.run(body, analysis, names)
    except SimulationError as exc:
        raise SimulationError(
            f"{name}: {exc.args[0].split(';')[0]}", simulator_message=exc.simulator_message, line=exc.line
        ) from None
    t = vec["time"]
    if len(t) < 2 or t[-1] < duration_s * (1 - 1e-6):
        raise SimulationError(
            f"{name}: the run stopped at t = {t[-1] if len(t) else 0:g} s of {duration_s:g} s (no convergence)"
        )
    return vec


def simulate_synapse(
    circuit: NetlistTemplate | str | Path,
    spike_times_s: Sequence[float],
    duration_s: float,
    *,
    params: Mapping[str, float | str] | None = None,
    pulse_width_s: float | None = None,
    pulse_amplitude_volt: float | None = None,
    solver: SolverSettings | None = None,
    pulse_step_s: float | None = None,
) -> SynapseTrace:
    """Simulate a synapse netlist driven by AER pulses on node ``pre``.

    Parameters
    ----------
    circuit : NetlistTemplate, str or Path
        A template, a shipped synapse name or a netlist path (synapse port convention).
    spike_times_s : sequence of float
        Pulse onsets in s, increasing, at least 10 ns; may be empty (a run at rest).
    duration_s : float
        Simulated time in s; every pulse must end before it.
    params : mapping, optional
        Template parameter values (SI floats or strings such as ``"1pF"``).
    pulse_width_s : float, optional
        Width of each pulse in s; default: the sidecar's ``[fit] pulse_width_s``, else 1 µs.
    pulse_amplitude_volt : float, optional
        Pulse amplitude in V; default: the sidecar's ``[fit] pulse_amplitude_volt``, else the
        template's ``vdd`` parameter, else 1.8 V.
    solver : SolverSettings, optional
        ngspice settings; the time step is bounded by ``max_step_s``, else the sidecar's
        ``[fit] max_step_s``, else ``duration_s / 5000``.
    pulse_step_s : float, optional
        Largest time step during each pulse (s); default: 1/20 of the pulse width.  A coarser
        step misplaces the charge a pulse delivers: the DPI's comes out 4-6 % high with one
        step of the fit's default ``max_step_s`` across its 5 µs pulse, 0.16 % high at 1/20 of
        the width, and converged at 1/50 (docs/synapses.md, "Time step").  Each step is a PWL
        corner, and ngspice scans a PWL source's corners at every time point: a run's time
        grows with the square of its pulse count (800 pulses: 15 s at 1/20, 51 s at 1/50).

    Returns
    -------
    SynapseTrace

    Raises
    ------
    SimulationError
        With ngspice's message, on a bad netlist or a run that fails or stops early.
    InvalidParameterError
        Overlapping pulses, pulses outside the run, an unknown parameter.
    """
    template = circuit if isinstance(circuit, NetlistTemplate) and circuit.kind == "synapse" else load_synapse(circuit)
    solver = solver or SolverSettings()
    values = template.resolve(params)
    width = pulse_width_s or template.fit_hints.get("pulse_width_s", 1e-6)
    amplitude = pulse_amplitude_volt or template.fit_hints.get("pulse_amplitude_volt") or values.get("vdd", 1.8)
    times = check_pulses(spike_times_s, width, duration_s)
    body = "\n".join(template.render(values).splitlines()[1:])
    max_step = solver.max_step_s or template.fit_hints.get("max_step_s") or duration_s / 5000
    max_step = min(max_step, duration_s / 200)
    if pulse_step_s is not None and not (math.isfinite(pulse_step_s) and pulse_step_s > 0):
        raise InvalidParameterError.of("pulse_step_s", pulse_step_s, "must be > 0")
    source = pulse_pwl(times, width, amplitude, pulse_step_s or width / 20) if len(times) else "DC 0"
    analysis = [
        f"VPRE pre 0 {source}",
        f".options method={solver.method} reltol={solver.reltol:g} abstol={solver.abstol_amp:g} "
        f"gmin={GMIN_SIEMENS:g} itl4=100",
        f".tran {spice_number(max_step)} {spice_number(duration_s)} 0 {spice_number(max_step)}",
        ".save i(vpost) v(vdd) i(vdd)",
    ]
    vec = run_transient(template.name, body, analysis, ["time", "vpost#branch", "vdd", "vdd#branch"], duration_s)
    t = vec["time"]
    # a branch current flows into the + terminal: into post through VPOST (> 0), out of VDD (< 0)
    return SynapseTrace(
        time_s=t,
        i_syn_amp=vec["vpost#branch"],
        i_supply_amp=-vec["vdd#branch"],
        v_supply_volt=vec["vdd"],
        spike_times_s=times,
        pulse_width_s=float(width),
        pulse_amplitude_volt=float(amplitude),
        params=values,
    )
