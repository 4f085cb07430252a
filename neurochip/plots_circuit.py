"""Figures of a silicon neuron: a SPICE membrane trace with its threshold, reset and spikes, and a
LIF fit against SPICE (:func:`plot_trace`, :func:`plot_fit`; re-exported by
:mod:`neurochip.plots`).  Like every ``plot_*`` function, each writes its figure through
:func:`neurochip._display.save_figure` and returns the data it drew.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._display import pyplot, save_figure
from .units import format_si

__all__ = ["draw_trace", "plot_trace", "plot_fit"]


def _measured_reset(t: NDArray[np.float64], v: NDArray[np.float64], spikes: NDArray[np.float64]) -> float:
    """Median of the lowest membrane value after each spike (before the next one)."""
    ends = np.append(spikes[1:], t[-1])
    troughs = [v[(t > a) & (t <= b)].min() for a, b in zip(spikes, ends) if np.any((t > a) & (t <= b))]
    return float(np.median(troughs)) if troughs else math.nan


def draw_trace(
    ax: Any,
    time_s: ArrayLike,
    v_mem_volt: ArrayLike,
    spikes_s: ArrayLike,
    *,
    v_th_volt: float = math.nan,
    v_reset_volt: float = math.nan,
    th_label: str = "threshold",
    reset_label: str = "reset",
    label: str = "SPICE v(vm)",
) -> dict[str, Any]:
    """Draw a membrane trace with threshold and reset lines and the detected spikes on ``ax``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    time_s, v_mem_volt : array_like of float, shape (n,)
        The trace: times in s (drawn in ms), membrane potential in V.
    spikes_s : array_like of float, shape (k,)
        Detected spike times, s; marked on the trace where it crosses at that time.
    v_th_volt, v_reset_volt : float
        Threshold and reset, V; NaN draws no line.
    th_label, reset_label, label : str
        Legend texts of the threshold, the reset and the trace (values are appended).

    Returns
    -------
    dict of str to object
        ``v_th_volt``, ``v_reset_volt``, ``spike_times_s`` as drawn (the markers are the line
        with gid ``spikes``).
    """
    t = np.asarray(time_s, dtype=float)
    v = np.asarray(v_mem_volt, dtype=float)
    spikes = np.asarray(spikes_s, dtype=float)
    ax.plot(t * 1e3, v, lw=0.9, color="C0", label=label)
    if math.isfinite(v_th_volt):
        ax.axhline(v_th_volt, color="C3", ls="--", lw=1.0, label=f"{th_label} {format_si(v_th_volt, 'V')}")
    if math.isfinite(v_reset_volt):
        ax.axhline(v_reset_volt, color="C2", ls=":", lw=1.2, label=f"{reset_label} {format_si(v_reset_volt, 'V')}")
    ax.plot(spikes * 1e3, np.interp(spikes, t, v), linestyle="none", marker="v", ms=5, color="C3", gid="spikes",
            label=f"detected spikes ({spikes.size}; at the detector crossing)")
    ax.set_ylabel("membrane (V)")
    ax.grid(alpha=0.3)
    _trace_legend(ax)
    return {"v_th_volt": v_th_volt, "v_reset_volt": v_reset_volt, "spike_times_s": spikes}


def _trace_legend(ax: Any) -> None:
    """The legend of a membrane panel, above it (the trace fills the panel)."""
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, fontsize=7, frameon=False)


def plot_trace(trace: Any, spikes_s: ArrayLike, path: str) -> dict[str, Any]:
    """A SPICE run of a neuron: membrane with threshold, reset and spikes over the supply power.

    The threshold is the netlist's declared ``v_th`` and the reset its ``v_reset`` when it
    declares them; otherwise the reset is measured (median trough after each spike) and the
    legend says so.

    Parameters
    ----------
    trace : Trace
        The run (:func:`neurochip.circuit.simulate`).
    spikes_s : array_like of float
        Its detected spikes, s (:func:`neurochip.circuit.detect_spikes`).
    path : str
        Image file to write.

    Returns
    -------
    dict of str to object
        What :func:`draw_trace` drew.
    """
    t, v = trace.time_s, trace.v_mem_volt
    spikes = np.asarray(spikes_s, dtype=float)
    v_th = float(trace.params.get("v_th", math.nan))
    if "v_reset" in trace.params:
        v_reset, reset_label = float(trace.params["v_reset"]), "declared v_reset"
    else:
        v_reset, reset_label = _measured_reset(t, v, spikes), "measured reset (median trough)"
    fig, (a1, a2) = pyplot().subplots(2, 1, figsize=(8, 5.5), dpi=120, sharex=True,
                                      gridspec_kw={"height_ratios": [1.6, 1]})
    data = draw_trace(a1, t, v, spikes, v_th_volt=v_th, v_reset_volt=v_reset, th_label="declared v_th",
                      reset_label=reset_label)
    det = getattr(trace, "detector", None)
    if det is not None:  # the detector's levels: a spike crosses the upper one, the lower one re-arms
        for level, name in ((det.high_volt, "detector up"), (det.low_volt, "detector re-arm")):
            a1.axhline(level, color="0.5", ls="-.", lw=0.8, label=f"{name} {format_si(level, 'V')} ({det.source})")
        _trace_legend(a1)
        data["detector"] = det.to_dict()
    a2.plot(t * 1e3, trace.power_watt * 1e6, lw=0.8, color="C1")
    a2.set_ylabel("supply power (µW)")
    a2.set_xlabel("time (ms)")
    a2.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)
    return data


def _lif_membrane(params: Any, current: float, t: NDArray[np.float64], t0: float) -> NDArray[np.float64]:
    """The fitted LIF's membrane under ``current`` from a spike at ``t0`` on (NaN before it)."""
    from . import lif

    v_inf = float(lif.v_inf(params, current))
    period = float(lif.isi(params, current))
    s = np.mod(t - t0, period)
    relax = params.v_reset_volt + (v_inf - params.v_reset_volt) * -np.expm1(-(s - params.t_ref_s) / params.tau_m_s)
    v = np.where(s < params.t_ref_s, params.v_reset_volt, relax)
    return np.where(t >= t0, v, np.nan)


def plot_fit(res: Any, path: str, *, circuit: str | None = None, trace: Any = None) -> dict[str, Any]:
    """A LIF fit: SPICE f-I points over the fitted curve, and a SPICE membrane against the fit.

    The right panel is a SPICE run at the lowest current of the sweep (one more ngspice run
    unless ``trace`` is given) with the fitted threshold and reset as lines, the detected spikes,
    and the fitted LIF's membrane from the first spike on.

    Parameters
    ----------
    res : FitResult
        The fit (:func:`neurochip.circuit.fit_lif`).
    path : str
        Image file to write.
    circuit : str, optional
        Circuit name or netlist file to re-simulate (default ``res.circuit``).
    trace : Trace, optional
        A run of the circuit at ``res.sweep_current_amp[0]`` to draw instead of simulating.

    Returns
    -------
    dict of str to object
        What :func:`draw_trace` drew (``v_th_volt`` and ``v_reset_volt`` are the fitted ones),
        plus ``current_amp`` of the trace.
    """
    from . import lif
    from .circuit import detect_spikes, simulate

    p = res.params
    current = float(res.sweep_current_amp[0])
    if trace is None:
        trace = simulate(circuit or res.circuit, current, 4.2 * float(res.isi_spice_s[0]), params=res.circuit_params)
    spikes = detect_spikes(trace.time_s, trace.v_mem_volt)
    plt = pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.4), dpi=120)
    i_hi = res.sweep_current_amp[-1] * 1.1
    if math.isfinite(res.saturation_current_amp):
        i_hi = res.saturation_current_amp * 1.05
    currents = np.geomspace(res.rheobase_lif_amp * 1.0001, i_hi, 400)
    a1.plot(currents * 1e9, lif.firing_rate(p, currents), label="fitted LIF")
    a1.plot(res.sweep_current_amp * 1e9, 1 / res.isi_spice_s, "o", label="SPICE")
    if math.isfinite(res.saturation_rate_hz):
        a1.plot([res.saturation_current_amp * 1e9], [res.saturation_rate_hz], "s", label="SPICE (saturation run)")
    a1.axhline(lif.saturation_rate(p), color="k", ls=":", label="$1/t_{ref}$")
    a1.set_xscale("log")
    a1.set_xlabel("input current (nA)")
    a1.set_ylabel("firing rate (Hz)")
    a1.set_title(f"f-I: max ISI error {res.max_isi_rel_error * 100:.2f} %", fontsize=9)
    a1.legend(loc="lower right", fontsize=8)
    a1.grid(alpha=0.3)
    data = draw_trace(a2, trace.time_s, trace.v_mem_volt, spikes, v_th_volt=p.v_th_volt, v_reset_volt=p.v_reset_volt,
                      th_label="fitted V_th", reset_label="fitted V_reset")
    if spikes.size:
        t = np.linspace(trace.time_s[0], trace.time_s[-1], 4000)
        # the LIF fires where it reaches V_th: from the trace's value at the first detection on
        v0 = float(np.interp(spikes[0], trace.time_s, trace.v_mem_volt))
        v_inf = float(lif.v_inf(p, current))
        lag = p.tau_m_s * math.log((v_inf - v0) / (v_inf - p.v_th_volt)) if v0 < p.v_th_volt < v_inf else 0.0
        a2.plot(t * 1e3, _lif_membrane(p, current, t, float(spikes[0]) + lag), "--", lw=0.9, color="0.3",
                label="fitted LIF (from the first spike)")
        _trace_legend(a2)
    a2.set_xlabel("time (ms)")
    a2.set_ylabel(f"membrane at {format_si(current, 'A')} (V)")
    fig.suptitle(f"{res.circuit}: fitted LIF against SPICE", fontsize=11)
    fig.tight_layout()
    save_figure(fig, path)
    return {**data, "current_amp": current}
