r"""A neuron driven by a synapse circuit: SPICE spike times against the fitted CUBA LIF.

A neuron + synapse netlist (``circuits/lif_transistor_dpi.cir``, ``circuits/lif_behavioral_syn.cir``)
is one of the shipped neurons with one of the shipped synapses wired into its membrane.  Its
sidecar declares ``kind = "neuron"`` (the neuron port convention holds: ``in``, ``vm``, ``VDD``)
and names the two parts in a ``[parts]`` table; the AER input is node ``pre``.  Its parameters are
the union of the parts' parameters: each goes to the part that declares the same name (``vdd`` to
both), or, through ``[parts.rename]``, to the part parameter it renames.

:func:`compare_neuron_synapse` holds the circuit against the model built from the parts' own fits:

1. :func:`~neurochip.circuit.fit_lif` fits the neuron alone (C, g_L, E_L, V_th, V_reset, t_ref);
2. :func:`~neurochip.circuit.fit_synapse` fits the synapse alone (tau_syn, charge q per event),
   with ``post`` held at the middle of the neuron's fitted swing (V_reset + V_th) / 2, on single
   pulses with a time step of 1/100 of the pulse width (the DPI's charge is 5.6 % high at the
   fitter's default step);
3. the CUBA LIF (:class:`neurochip.models.Cuba`) takes the fitted neuron, tau_syn, the weight
   w = q / C (V) and the DC bias (plus the synapse's rest current); each AER pulse of width
   :math:`\Delta t` starting at :math:`t_k` is an input event at the pulse centre
   :math:`t_k + \Delta t/2` (the fitted kernel is the exponential smoothed over the pulse,
   which for :math:`\Delta t \ll \tau_{syn}` is the exponential from the centre);
4. the model's spike times are computed exactly (:func:`cuba_spike_times`, the closed form and
   the crossing search of :mod:`neurochip.models.cuba`, with the emulator's rules for the
   refractory hold); :func:`cuba_network` gives the same neuron as a
   :class:`~neurochip.network.Network` for :func:`neurochip.emulator.run`, which gives the same
   times (the tests check it to 1e-12; this module sits below the emulator in the layers of
   docs/architecture.md, so it does not call it itself);
5. ngspice simulates the combined netlist under the same train and DC bias, with a PWL corner
   every 1/100 pulse width along each pulse (fine steps there only); a SPICE spike is an
   upward crossing of the fitted V_th, re-armed below (V_reset + V_th) / 2.

The errors are reported per spike, as the time difference relative to the SPICE ISI that ends
at that spike (for the first spike: the time since the first input), and relative to the spike
time itself.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import lif
from .._spec import load_toml
from ..errors import ConfigError, InvalidParameterError
from ..models.cuba import Cuba, crossing, membrane
from ..network import Network, Population, SpikeTimesInput
from ..units import spice_number
from ._synapse_netlist import GMIN_SIEMENS, check_pulses, pulse_pwl, run_transient
from .fit import FitOptions, FitResult, fit_lif
from .netlist import NetlistTemplate, load_circuit
from .simulate import SolverSettings, detect_spikes
from .synapse import SynapseFitOptions, SynapseFitResult, fit_synapse

__all__ = [
    "NeuronSynapseParts",
    "NeuronSynapseResult",
    "NeuronSynapseTrace",
    "compare_neuron_synapse",
    "cuba_network",
    "cuba_spike_times",
    "load_parts",
    "simulate_neuron_synapse",
]


# --------------------------------------------------------------------------------------------
# the netlist and its parts


@dataclass(frozen=True, slots=True, kw_only=True)
class NeuronSynapseParts:
    """The two circuits a neuron + synapse netlist wires together, and where its parameters go.

    Parameters
    ----------
    template : NetlistTemplate
        The combined netlist (``kind = "neuron"``, with the extra input node ``pre``).
    neuron : NetlistTemplate
        The neuron part (a shipped neuron or a netlist path).
    synapse : NetlistTemplate
        The synapse part.
    rename : dict of str to (str, str)
        Combined parameter name -> (``"neuron"`` or ``"synapse"``, the part's parameter name),
        for parameters whose names differ from the part's (``[parts.rename]``).
    """

    template: NetlistTemplate
    neuron: NetlistTemplate
    synapse: NetlistTemplate
    rename: dict[str, tuple[str, str]] = field(default_factory=dict)

    def split(self, params: Mapping[str, float | str] | None = None) -> tuple[dict[str, float], dict[str, float]]:
        """The combined parameter values (defaults updated with ``params``) as the parts' values.

        Parameters
        ----------
        params : mapping, optional
            Combined-netlist parameter overrides (SI floats or strings).

        Returns
        -------
        (dict, dict)
            Neuron and synapse parameter values, SI floats: every parameter of the combined
            netlist that a part declares (by name or through ``rename``).
        """
        values = self.template.resolve(params)
        neuron: dict[str, float] = {}
        synapse: dict[str, float] = {}
        for key, value in values.items():
            if key in self.rename:
                part, name = self.rename[key]
                (neuron if part == "neuron" else synapse)[name] = value
                continue
            if key in self.neuron.params:
                neuron[key] = value
            if key in self.synapse.params:
                synapse[key] = value
        return neuron, synapse


def load_parts(circuit: NetlistTemplate | str | Path) -> NeuronSynapseParts:
    """Read a neuron + synapse netlist and the ``[parts]`` table of its sidecar.

    Parameters
    ----------
    circuit : NetlistTemplate, str or Path
        A shipped name (``"lif_transistor_dpi"``) or a netlist path whose sidecar has
        ``[parts] neuron = ..., synapse = ...`` (shipped names, or paths relative to the netlist).

    Returns
    -------
    NeuronSynapseParts

    Raises
    ------
    ConfigError
        No ``[parts]`` table, a part of the wrong kind, no node ``pre``, or a combined parameter
        that no part declares.

    Examples
    --------
    >>> parts = load_parts("lif_behavioral_syn")
    >>> parts.neuron.name, parts.synapse.name, parts.rename["i_bias_syn"]
    ('lif_behavioral', 'syn_behavioral', ('synapse', 'i_bias'))
    """
    template = circuit if isinstance(circuit, NetlistTemplate) else load_circuit(circuit)
    toml = Path(template.source).with_suffix(".toml") if template.source else None
    data = load_toml(toml) if toml is not None and toml.exists() else {}
    where = str(toml) if toml is not None else template.name
    table = data.get("parts")
    if template.kind != "neuron" or not isinstance(table, dict) or "neuron" not in table or "synapse" not in table:
        raise ConfigError(
            "not a neuron + synapse netlist: its sidecar needs kind = \"neuron\" and a table "
            "[parts] with neuron = ... and synapse = ... (docs/synapses.md)",
            path=where, key="parts",
        )
    found: dict[str, NetlistTemplate] = {}
    for role in ("neuron", "synapse"):
        ref = str(table[role])
        local = template.directory / ref
        part = load_circuit(local if local.suffix == ".cir" and local.exists() else ref)
        if part.kind != role:
            raise ConfigError(f"parts.{role} = {ref!r} is a {part.kind}, not a {role}", path=where, key=f"parts.{role}")
        found[role] = part
    rename: dict[str, tuple[str, str]] = {}
    for key, target in dict(table.get("rename", {})).items():
        role, _, name = str(target).partition(".")
        if role not in found or name not in found[role].params:
            raise ConfigError(
                f"{target!r}: expected 'neuron.NAME' or 'synapse.NAME' naming a parameter of that part",
                path=where, key=f"parts.rename.{key}",
            )
        rename[key] = (role, name)
    if not _has_pre(template.text):
        raise ConfigError("no node 'pre': the AER input of a neuron + synapse netlist", path=where)
    for key in template.params:
        if key not in rename and key not in found["neuron"].params and key not in found["synapse"].params:
            raise ConfigError(
                f"parameter {key!r} belongs to neither part ({found['neuron'].name}, {found['synapse'].name}); "
                "rename it in [parts.rename]",
                path=where, key=f"params.{key}",
            )
    return NeuronSynapseParts(template=template, neuron=found["neuron"], synapse=found["synapse"], rename=rename)


def _has_pre(text: str) -> bool:
    """True when a netlist text (comments aside) has a node ``pre``."""
    body = "\n".join(ln for ln in text.splitlines()[1:] if not ln.lstrip().startswith("*")).lower()
    return re.search(r"(?<![\w.#])pre(?![\w(#])", body) is not None


# --------------------------------------------------------------------------------------------
# SPICE


@dataclass(frozen=True, slots=True, kw_only=True)
class NeuronSynapseTrace:
    """One transient run of a neuron + synapse netlist (SI units; arrays of equal length).

    Attributes
    ----------
    time_s, v_mem_volt, i_syn_amp : ndarray
        Time (s), membrane ``v(vm)`` (V), and the synaptic current into the membrane through
        ``VPOST`` (A; nan when the netlist has no ``VPOST``).
    input_times_s : ndarray
        Onsets of the AER pulses (s).
    pulse_width_s : float
        Width of each pulse (s).
    bias_current_amp : float
        DC current into ``in`` (A).
    params : dict
        The combined parameter values the netlist was rendered with.
    """

    time_s: NDArray[np.float64]
    v_mem_volt: NDArray[np.float64]
    i_syn_amp: NDArray[np.float64]
    input_times_s: NDArray[np.float64]
    pulse_width_s: float
    bias_current_amp: float
    params: dict[str, float] = field(default_factory=dict)

    def spike_times(self, high_volt: float, low_volt: float) -> NDArray[np.float64]:
        """Upward crossings of ``high_volt`` (V), re-armed below ``low_volt`` (V), in s."""
        return detect_spikes(self.time_s, self.v_mem_volt, high_volt=high_volt, low_volt=low_volt)


def simulate_neuron_synapse(
    circuit: NetlistTemplate | str | Path,
    input_times_s: Sequence[float],
    duration_s: float,
    *,
    bias_current_amp: float = 0.0,
    params: Mapping[str, float | str] | None = None,
    pulse_width_s: float | None = None,
    pulse_amplitude_volt: float | None = None,
    solver: SolverSettings | None = None,
    pulse_step_s: float | None = None,
) -> NeuronSynapseTrace:
    """Simulate a neuron + synapse netlist under AER pulses on ``pre`` and a DC current into ``in``.

    Parameters
    ----------
    circuit : NetlistTemplate, str or Path
        The combined netlist (shipped name or path).
    input_times_s : sequence of float
        Pulse onsets (s), increasing, >= 10 ns, more than a pulse width apart.
    duration_s : float
        Simulated time (s); every pulse must end before it.
    bias_current_amp : float
        DC current into ``in`` (A), ramped from 0 in 10 ns.
    params : mapping, optional
        Combined-netlist parameter values.
    pulse_width_s, pulse_amplitude_volt : float, optional
        The AER pulse; defaults: the sidecar's ``[fit] pulse_width_s`` (else 1 µs) and
        ``pulse_amplitude_volt`` (else ``vdd``).
    solver : SolverSettings, optional
        ngspice settings; the step is bounded by ``max_step_s``, else the sidecar's hint, else
        ``duration_s / 20000``.  ``gmin`` is 1e-15 S, as for the synapse fit.
    pulse_step_s : float, optional
        Largest time step during each pulse (s); default: 1/100 of the pulse width.

    Returns
    -------
    NeuronSynapseTrace

    Raises
    ------
    SimulationError
        With ngspice's message, on a bad netlist or a run that fails or stops early.
    InvalidParameterError
        Overlapping pulses, pulses outside the run, an unknown parameter.
    """
    template = circuit if isinstance(circuit, NetlistTemplate) else load_circuit(circuit)
    solver = solver or SolverSettings()
    values = template.resolve(params)
    width = pulse_width_s or template.fit_hints.get("pulse_width_s", 1e-6)
    amplitude = pulse_amplitude_volt or template.fit_hints.get("pulse_amplitude_volt") or values.get("vdd", 1.8)
    times = check_pulses(input_times_s, width, duration_s)
    if not math.isfinite(bias_current_amp):
        raise InvalidParameterError.of("bias_current_amp", bias_current_amp, "must be finite")
    body = "\n".join(template.render(values).splitlines()[1:])
    max_step = solver.max_step_s or template.fit_hints.get("max_step_s") or duration_s / 20000
    max_step = min(max_step, duration_s / 200)
    step = pulse_step_s or width / 100
    source = pulse_pwl(times, width, amplitude, step) if len(times) else "DC 0"
    has_vpost = "\nvpost " in "\n" + body.lower()
    analysis = [
        f"VPRE pre 0 {source}",
        f"IIN 0 in PWL(0 0 10n {spice_number(bias_current_amp)})",
        f".options method={solver.method} reltol={solver.reltol:g} abstol={solver.abstol_amp:g} "
        f"gmin={GMIN_SIEMENS:g} itl4=100",
        f".tran {spice_number(max_step)} {spice_number(duration_s)} 0 {spice_number(max_step)}",
        ".save v(vm)" + (" i(vpost)" if has_vpost else ""),
    ]
    names = ["time", "vm"] + (["vpost#branch"] if has_vpost else [])
    vec = run_transient(template.name, body, analysis, names, duration_s)
    t = vec["time"]
    return NeuronSynapseTrace(
        time_s=t,
        v_mem_volt=vec["vm"],
        i_syn_amp=vec["vpost#branch"] if has_vpost else np.full(len(t), np.nan),
        input_times_s=times,
        pulse_width_s=float(width),
        bias_current_amp=float(bias_current_amp),
        params=values,
    )


# --------------------------------------------------------------------------------------------
# the model


def cuba_spike_times(
    params: lif.LIFParams,
    input_times_s: Sequence[float] | NDArray[np.float64],
    duration_s: float,
    *,
    tau_syn_s: float,
    weight_volt: float,
    bias_current_amp: float = 0.0,
) -> NDArray[np.float64]:
    r"""Spike times of one CUBA LIF neuron under input events, computed exactly.

    The neuron of :class:`neurochip.models.Cuba` (reset to V_reset), started at rest
    (V = E_L, J = 0): between events V follows the closed form
    :func:`neurochip.models.cuba.membrane` and the threshold crossings are found by
    :func:`neurochip.models.cuba.crossing`.  After a spike V is held at V_reset for t_ref while
    the current keeps decaying and inputs keep adding to it, as in the emulator.

    Parameters
    ----------
    params : LIFParams
        The neuron (g_L > 0; adaptation and noise are ignored).
    input_times_s : array_like, shape (K,)
        Event times (s), increasing, in [0, duration_s).
    duration_s : float
        End of the run (s).
    tau_syn_s : float
        Synaptic time constant (s), > 0.
    weight_volt : float
        Weight w (V): each event makes J = I_syn / C jump by w / tau_syn, i.e. delivers the
        charge w C.
    bias_current_amp : float
        DC current (A): :math:`V_\infty = E_L + I / g_L`.

    Returns
    -------
    ndarray of float64, shape (n_spikes,)

    Notes
    -----
    .. math::

        \frac{dV}{dt} = -\frac{V - V_\infty}{\tau_m} + J, \qquad
        \frac{dJ}{dt} = -\frac{J}{\tau_{syn}}, \qquad J \mathrel{+}= \frac{w}{\tau_{syn}}
        \text{ at each event.}

    Examples
    --------
    One event of w = 1 V at 1 ms into a neuron at rest (0 V) with tau_m = tau_syn = 1 ms:
    :math:`V = w\,x e^{-x}`, x = (t - 1 ms) / 1 ms, reaches V_th = 0.3 V at x = 0.4894:

    >>> p = lif.LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-9, v_th_volt=0.3)
    >>> [round(float(t) * 1e3, 4) for t in cuba_spike_times(p, [1e-3], 5e-3, tau_syn_s=1e-3, weight_volt=1.0)]
    [1.4894]
    """
    if not params.g_leak_siemens > 0:
        raise InvalidParameterError.of("params.g_leak_siemens", params.g_leak_siemens, "must be > 0 here")
    if not (math.isfinite(tau_syn_s) and tau_syn_s > 0):
        raise InvalidParameterError.of("tau_syn_s", tau_syn_s, "must be > 0")
    events = np.asarray(input_times_s, dtype=np.float64).reshape(-1)
    if events.size and (np.any(np.diff(events) < 0) or events[0] < 0 or events[-1] >= duration_s):
        raise InvalidParameterError.of("input_times_s", input_times_s, "must increase within [0, duration_s)")
    a = params.g_leak_siemens / params.c_m_farad
    k = 1.0 / tau_syn_s
    vinf = params.e_leak_volt + bias_current_amp / params.g_leak_siemens
    vth, vreset, tref = params.v_th_volt, params.v_reset_volt, params.t_ref_s
    v, j, t, ref_end = params.e_leak_volt, 0.0, 0.0, -math.inf
    spikes: list[float] = []
    for te in [*events.tolist(), duration_s]:
        while True:
            start = max(t, ref_end)
            if start >= te:  # the hold lasts past the next event: only the current decays
                j *= math.exp(-k * (te - t))
                t = te
                break
            j *= math.exp(-k * (start - t))
            t = start
            if v >= vth:  # a hold that ends above threshold fires at once
                dt = 0.0
            else:
                dt = crossing(a, vinf, vth, v, j, 0.0, k, k, te - t)
            if dt < math.inf:
                t += dt
                j *= math.exp(-k * dt)
                spikes.append(t)
                v, ref_end = vreset, t + tref
                continue
            v = membrane(a, vinf, v, j, 0.0, k, k, te - t)
            j *= math.exp(-k * (te - t))
            t = te
            break
        if te < duration_s:
            j += weight_volt * k
    return np.asarray(spikes, dtype=np.float64)


def cuba_network(
    params: lif.LIFParams,
    input_times_s: Sequence[float] | NDArray[np.float64],
    *,
    tau_syn_s: float,
    weight_volt: float,
    bias_current_amp: float = 0.0,
) -> tuple[Network, list[SpikeTimesInput]]:
    """The neuron of :func:`cuba_spike_times` as a one-neuron network and its input.

    Parameters
    ----------
    params, input_times_s, tau_syn_s, weight_volt, bias_current_amp
        As for :func:`cuba_spike_times`.

    Returns
    -------
    (Network, list of SpikeTimesInput)
        For ``neurochip.emulator.run(net, duration_s=..., inputs=inputs)``; population ``"n"``.

    Examples
    --------
    >>> from neurochip.emulator import run
    >>> p = lif.LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-9, v_th_volt=0.3)
    >>> net, inputs = cuba_network(p, [1e-3], tau_syn_s=1e-3, weight_volt=1.0)
    >>> [round(float(t) * 1e3, 4) for t in run(net, duration_s=5e-3, inputs=inputs).spike_times(0)]
    [1.4894]
    """
    pop = Population(name="n", size=1, params=params, bias_current_amp=bias_current_amp,
                     model=Cuba(tau_syn_exc_s=tau_syn_s))
    times = np.asarray(input_times_s, dtype=np.float64).reshape(-1)
    inputs = [SpikeTimesInput(population="n", times_s=times, neurons=np.zeros(times.size, np.int64),
                              weight_volt=weight_volt)] if times.size else []
    return Network(populations=(pop,)), inputs


# --------------------------------------------------------------------------------------------
# the comparison


@dataclass(frozen=True, slots=True, kw_only=True)
class NeuronSynapseResult:
    """SPICE spike times of a neuron + synapse netlist against its fitted CUBA LIF.

    Attributes
    ----------
    circuit : str
        The combined netlist.
    neuron_fit : FitResult
        The neuron part's LIF fit.
    synapse_fit : SynapseFitResult
        The synapse part's exponential fit.
    input_times_s : ndarray, shape (K,)
        AER pulse onsets (s).
    model_input_times_s : ndarray, shape (K,)
        The model's event times: pulse centres (s).
    bias_current_amp : float
        DC current into ``in`` (A).
    weight_volt : float
        The model's weight q / C (V).
    tau_syn_s : float
        The model's tau_syn (s).
    spice_spike_times_s, model_spike_times_s : ndarray
        Spike times (s).
    abs_error_s : ndarray, shape (n,)
        model - SPICE per spike (s), when the counts are equal (else empty).
    rel_isi_error : ndarray, shape (n,)
        ``abs_error_s`` over the SPICE ISI that ends at the spike (the first spike: over the time
        since the first input onset).
    rel_time_error : ndarray, shape (n,)
        ``abs_error_s`` over the SPICE spike time.
    max_rel_isi_error, max_rel_time_error : float
        Max of the absolute values (inf when the counts differ).
    trace : NeuronSynapseTrace
        The SPICE run (for plots; not in :meth:`to_dict`).
    wall_time_s : float
        Wall time (s), fits included.
    """

    circuit: str
    neuron_fit: FitResult
    synapse_fit: SynapseFitResult
    input_times_s: NDArray[np.float64]
    model_input_times_s: NDArray[np.float64]
    bias_current_amp: float
    weight_volt: float
    tau_syn_s: float
    spice_spike_times_s: NDArray[np.float64]
    model_spike_times_s: NDArray[np.float64]
    abs_error_s: NDArray[np.float64]
    rel_isi_error: NDArray[np.float64]
    rel_time_error: NDArray[np.float64]
    max_rel_isi_error: float
    max_rel_time_error: float
    trace: NeuronSynapseTrace
    wall_time_s: float

    @property
    def counts_equal(self) -> bool:
        """True when SPICE and the model fire the same number of spikes."""
        return self.spice_spike_times_s.size == self.model_spike_times_s.size

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the fits as their own ``to_dict``; the trace is left out)."""
        return {
            "circuit": self.circuit,
            "neuron_fit": self.neuron_fit.to_dict(),
            "synapse_fit": self.synapse_fit.to_dict(),
            "input_times_s": self.input_times_s,
            "bias_current_amp": self.bias_current_amp,
            "weight_volt": self.weight_volt,
            "tau_syn_s": self.tau_syn_s,
            "spice_spike_times_s": self.spice_spike_times_s,
            "model_spike_times_s": self.model_spike_times_s,
            "abs_error_s": self.abs_error_s,
            "rel_isi_error": self.rel_isi_error,
            "rel_time_error": self.rel_time_error,
            "max_rel_isi_error": self.max_rel_isi_error,
            "max_rel_time_error": self.max_rel_time_error,
            "wall_time_s": self.wall_time_s,
        }


def fit_parts(
    circuit: NetlistTemplate | str | Path,
    *,
    params: Mapping[str, float | str] | None = None,
    neuron_options: FitOptions | None = None,
    synapse_options: SynapseFitOptions | None = None,
) -> tuple[FitResult, SynapseFitResult]:
    """Fit the neuron part, then the synapse part with ``post`` at mid-swing of the neuron.

    Parameters
    ----------
    circuit : NetlistTemplate, str or Path
        The combined netlist.
    params : mapping, optional
        Combined-netlist parameter values (split between the parts).
    neuron_options : FitOptions, optional
        Options of :func:`~neurochip.circuit.fit_lif`.
    synapse_options : SynapseFitOptions, optional
        Options of :func:`~neurochip.circuit.fit_synapse`; default: single pulses only (the
        fitter resolves each pulse with a step of 1/20 of its width, see
        :func:`~neurochip.circuit.simulate_synapse`).

    Returns
    -------
    (FitResult, SynapseFitResult)
    """
    parts = load_parts(circuit)
    neuron_values, synapse_values = parts.split(params)
    neuron_fit = fit_lif(parts.neuron, params=neuron_values, options=neuron_options)
    p = neuron_fit.params
    if "v_post" in parts.synapse.params and "v_post" not in synapse_values:
        synapse_values["v_post"] = 0.5 * (p.v_reset_volt + p.v_th_volt)
    if synapse_options is None:
        width = parts.template.fit_hints.get("pulse_width_s") or parts.synapse.fit_hints.get("pulse_width_s", 1e-6)
        synapse_options = SynapseFitOptions(pulse_width_s=width, rates_per_tau=())
    synapse_fit = fit_synapse(parts.synapse, params=synapse_values, options=synapse_options)
    return neuron_fit, synapse_fit


def compare_neuron_synapse(
    circuit: NetlistTemplate | str | Path,
    input_times_s: Sequence[float],
    duration_s: float,
    *,
    bias_current_amp: float = 0.0,
    params: Mapping[str, float | str] | None = None,
    fits: tuple[FitResult, SynapseFitResult] | None = None,
    solver: SolverSettings | None = None,
    pulse_step_s: float | None = None,
) -> NeuronSynapseResult:
    """Spike times of a neuron + synapse netlist in SPICE and of the CUBA LIF fitted to its parts.

    Parameters
    ----------
    circuit : NetlistTemplate, str or Path
        The combined netlist (``"lif_transistor_dpi"``, ``"lif_behavioral_syn"`` or a path).
    input_times_s : sequence of float
        AER pulse onsets (s).
    duration_s : float
        Simulated time (s).
    bias_current_amp : float
        DC current into ``in`` (A), in both SPICE and the model.
    params : mapping, optional
        Combined-netlist parameter values (also passed, split, to the parts' fits).
    fits : (FitResult, SynapseFitResult), optional
        The parts' fits from :func:`fit_parts` with the same ``params``, to compare several
        trains without refitting.
    solver : SolverSettings, optional
        ngspice settings of the combined run.
    pulse_step_s : float, optional
        Largest step during each AER pulse (s); default 1/100 of the pulse width (see
        :func:`simulate_neuron_synapse`; a behavioural synapse needs no fine step).

    Returns
    -------
    NeuronSynapseResult

    Raises
    ------
    SimulationError
        A failed run or fit.
    ConfigError
        Not a neuron + synapse netlist.

    Notes
    -----
    The model neuron is the fitted :class:`~neurochip.lif.LIFParams`, with
    ``model=Cuba(tau_syn_exc_s=tau_syn)``, bias :math:`I_{DC} + I_{rest}` (the synapse's
    current at rest) and weight :math:`w = q / C` for an event at each pulse centre.  The
    synapse model is linear: use it where the synapse fit reports its linear range
    (``synapse_fit.linear_max_rate_hz``; docs/synapses.md).
    """
    t0 = time.perf_counter()
    parts = load_parts(circuit)
    neuron_fit, synapse_fit = fits if fits is not None else fit_parts(parts.template, params=params)
    p = neuron_fit.params
    width = synapse_fit.pulse_width_s
    trace = simulate_neuron_synapse(
        parts.template, input_times_s, duration_s, bias_current_amp=bias_current_amp, params=params,
        pulse_width_s=width, pulse_amplitude_volt=synapse_fit.pulse_amplitude_volt, solver=solver,
        pulse_step_s=pulse_step_s,
    )
    spice = trace.spike_times(p.v_th_volt, 0.5 * (p.v_reset_volt + p.v_th_volt))
    events = trace.input_times_s + 0.5 * width
    weight = synapse_fit.charge_coulomb / p.c_m_farad
    bias = bias_current_amp + synapse_fit.rest_current_amp
    model = cuba_spike_times(p, events, duration_s, tau_syn_s=synapse_fit.tau_syn_s, weight_volt=weight,
                             bias_current_amp=bias)
    if spice.size == model.size and spice.size:
        err = model - spice
        first = trace.input_times_s[0] if trace.input_times_s.size else 0.0
        isi = np.diff(np.r_[min(first, spice[0]), spice])
        rel_isi = err / isi
        rel_time = err / spice
        max_isi, max_time = float(np.max(np.abs(rel_isi))), float(np.max(np.abs(rel_time)))
    else:
        err = rel_isi = rel_time = np.empty(0)
        max_isi = max_time = 0.0 if spice.size == model.size else math.inf
    return NeuronSynapseResult(
        circuit=parts.template.name,
        neuron_fit=neuron_fit,
        synapse_fit=synapse_fit,
        input_times_s=trace.input_times_s,
        model_input_times_s=events,
        bias_current_amp=float(bias_current_amp),
        weight_volt=float(weight),
        tau_syn_s=float(synapse_fit.tau_syn_s),
        spice_spike_times_s=spice,
        model_spike_times_s=model,
        abs_error_s=err,
        rel_isi_error=rel_isi,
        rel_time_error=rel_time,
        max_rel_isi_error=max_isi,
        max_rel_time_error=max_time,
        trace=trace,
        wall_time_s=time.perf_counter() - t0,
    )
