r"""A neuron netlist on a PDK, fitted at each process corner: the corner report.

:func:`fit_corners` fits the LIF (:func:`~neurochip.circuit.fit.fit_lif`) to the same netlist
at each corner of the PDK it loads (``.lib pdk:NAME SECTION``, see
:mod:`neurochip.circuit.pdk`), then checks each fitted LIF at currents its fit did not use:
the geometric midpoints of two intervals of its sweep, where the SPICE ISI is set against the
closed form :func:`neurochip.lif.isi`.  Each corner's row holds the LIF parameters, the rate at
saturation :math:`1/t_{ref}`, the highest SPICE rate, the energy per spike and the static power.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import lif
from ..errors import ConfigError
from .fit import FitOptions, FitResult, fit_lif, measure_isi
from .netlist import NetlistTemplate, load_circuit
from .pdk import find_pdk
from .simulate import SpikeDetector, Stimulus, simulate

__all__ = ["CornerReport", "CornerResult", "fit_corners", "corners_of"]

#: Fit options of a corner: the full sweep of :class:`FitOptions`, with its saturation run.
CORNER_FIT_OPTIONS = FitOptions()


@dataclass(frozen=True, slots=True, kw_only=True)
class CornerResult:
    """One corner: the fit, and the fitted LIF's ISI against SPICE at currents the fit did not use.

    Attributes
    ----------
    corner : str
        The corner (``"tt"``, ``"ff"``, ...).
    fit : FitResult
        The LIF fit at this corner.
    check_current_amp : ndarray of float64, shape (K,)
        Currents the fit did not use, A: geometric midpoints between sweep points.
    check_isi_spice_s, check_isi_lif_s : ndarray of float64, shape (K,)
        SPICE steady-state ISI and the fitted LIF's closed-form ISI at each, s.
    check_runs : int
        SPICE runs of the check.
    """

    corner: str
    fit: FitResult
    check_current_amp: NDArray[np.float64]
    check_isi_spice_s: NDArray[np.float64]
    check_isi_lif_s: NDArray[np.float64]
    check_runs: int = 0

    @property
    def check_max_isi_rel_error(self) -> float:
        """max |ISI_LIF / ISI_SPICE - 1| at the currents the fit did not use (nan without any)."""
        if not len(self.check_current_amp):
            return math.nan
        return float(np.max(np.abs(self.check_isi_lif_s / self.check_isi_spice_s - 1)))

    def row(self) -> dict[str, Any]:
        """The corner's line of the report, every key unit-suffixed (SI units).

        Returns
        -------
        dict of str to object
            ``corner``; the LIF parameters (``c_m_farad``, ``g_leak_siemens``, ``r_leak_ohm``,
            ``tau_m_s``, ``e_leak_volt``, ``v_th_volt``, ``v_reset_volt``, ``t_ref_s``);
            ``rheobase_amp`` (SPICE); ``saturation_rate_limit_hz`` (1/t_ref of the fit) and
            ``max_rate_hz`` (the highest SPICE rate, at the saturation run);
            ``energy_per_spike_joule`` (dynamic) and ``static_power_watt``;
            ``fit_max_isi_rel_error`` (over the sweep), ``unseen_max_isi_rel_error`` (at
            ``unseen_current_amp``, currents outside the sweep) and ``saturation_isi_rel_error``;
            ``n_runs`` (the fit's and the check's) and ``wall_time_s`` of the fit.
        """
        p = self.fit.params
        return {
            "corner": self.corner,
            "c_m_farad": p.c_m_farad,
            "g_leak_siemens": p.g_leak_siemens,
            "r_leak_ohm": p.r_leak_ohm,
            "tau_m_s": p.tau_m_s,
            "e_leak_volt": p.e_leak_volt,
            "v_th_volt": p.v_th_volt,
            "v_reset_volt": p.v_reset_volt,
            "t_ref_s": p.t_ref_s,
            "rheobase_amp": self.fit.rheobase_spice_amp,
            "saturation_rate_limit_hz": lif.saturation_rate(p),
            "max_rate_hz": self.fit.max_rate_hz,
            "energy_per_spike_joule": self.fit.energy_per_spike_joule,
            "static_power_watt": self.fit.static_power_watt,
            "fit_max_isi_rel_error": self.fit.max_isi_rel_error,
            "unseen_current_amp": [float(i) for i in self.check_current_amp],
            "unseen_max_isi_rel_error": self.check_max_isi_rel_error,
            "saturation_isi_rel_error": self.fit.saturation_isi_rel_error,
            "n_runs": self.fit.n_runs + self.check_runs,
            "wall_time_s": self.fit.wall_time_s,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CornerReport:
    """Every corner's fit of one netlist (made by :func:`fit_corners`).

    Attributes
    ----------
    circuit : str
        Circuit name.
    pdk : str
        The PDK whose corners were run.
    results : list of CornerResult
        One per corner, in the order asked for.
    wall_time_s : float
        Wall time of the whole report, s.
    """

    circuit: str
    pdk: str
    results: list[CornerResult]
    wall_time_s: float

    def result(self, corner: str) -> CornerResult:
        """The result of one corner (KeyError when it was not run)."""
        for r in self.results:
            if r.corner == corner:
                return r
        raise KeyError(corner)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``circuit``, ``pdk``, ``wall_time_s`` and ``corners`` (the rows, see :meth:`CornerResult.row`)."""
        return {"circuit": self.circuit, "pdk": self.pdk, "wall_time_s": self.wall_time_s,
                "corners": [r.row() for r in self.results]}


def corners_of(template: NetlistTemplate) -> tuple[str, ...]:
    """The process corners of the PDK a netlist loads.

    Parameters
    ----------
    template : NetlistTemplate
        A netlist with one ``.lib pdk:NAME SECTION`` line.

    Returns
    -------
    tuple of str
        The PDK's corners (:attr:`~neurochip.circuit.pdk.PDK.corners`).

    Raises
    ------
    ConfigError
        When the netlist loads no PDK, or more than one.

    Examples
    --------
    >>> corners_of(load_circuit("sky130_lif"))
    ('tt', 'ff', 'ss', 'fs', 'sf')
    >>> corners_of(load_circuit("lif_transistor"))
    Traceback (most recent call last):
    ...
    neurochip.errors.ConfigError: lif_transistor: its netlist loads no PDK ('.lib pdk:NAME SECTION'), so it has no process corners
    """
    if not template.pdks:
        raise ConfigError(f"{template.name}: its netlist loads no PDK ('.lib pdk:NAME SECTION'), so it has no "
                          "process corners")
    if len(template.pdks) > 1:
        raise ConfigError(f"{template.name}: its netlist loads {len(template.pdks)} PDKs ({', '.join(template.pdks)}); "
                          "a corner report needs one")
    return find_pdk(template.pdks[0]).corners


def fit_corners(
    circuit: NetlistTemplate | str,
    corners: Sequence[str] | None = None,
    *,
    params: Mapping[str, float | str] | None = None,
    options: FitOptions | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> CornerReport:
    r"""Fit the LIF to a PDK netlist at each process corner, and check it at unseen currents.

    Parameters
    ----------
    circuit : NetlistTemplate or str
        A netlist that loads a PDK (``.lib pdk:NAME SECTION``): template, shipped name or path.
    corners : sequence of str, optional
        Corners to run, in this order; default every corner of the PDK.
    params : mapping, optional
        Netlist parameter values overriding the defaults (the same at every corner).
    options : FitOptions, optional
        Fit options of every corner (default: the full fit, with its saturation run at 100x
        the rheobase).  Its ``progress`` is replaced by ``progress``.
    progress : callable, optional
        Called as ``progress(runs_done, runs_expected, elapsed_s)`` after every SPICE run of the
        whole report.

    Returns
    -------
    CornerReport

    Raises
    ------
    ConfigError
        When the netlist loads no PDK, or a corner is not one of the PDK's.
    SimulationError
        When a fit or a check run fails (naming the circuit; the corner is in the message).

    Notes
    -----
    The check currents of a corner are :math:`\sqrt{I_k I_{k+1}}` for the first sweep interval
    and the middle one; there the SPICE ISI :math:`T_k` is set against the LIF's
    :math:`T_{LIF}(I) = t_{ref} + \tau_m \ln\frac{E_L + R I - V_{reset}}{E_L + R I - V_{th}}`.

    Examples
    --------
    >>> rep = fit_corners("sky130_lif", ["ff"], options=FitOptions(n_sweep=4, rheobase_steps=5,
    ...                   saturation_multiple=0))  # about 15 s
    >>> row = rep.to_dict()["corners"][0]
    >>> row["corner"], bool(row["unseen_max_isi_rel_error"] < 0.02)
    ('ff', True)
    """
    from ..errors import SimulationError

    template = circuit if isinstance(circuit, NetlistTemplate) else load_circuit(circuit)
    available = corners_of(template)
    corners = list(corners) if corners is not None else list(available)
    for c in corners:
        if c not in available:
            raise ConfigError(f"corner {c!r}: the {template.pdks[0]} PDK's corners are {', '.join(available)}")
    if not corners:
        raise ConfigError("no corner to run")
    options = options or CORNER_FIT_OPTIONS
    per_corner = 3 + 2 * options.rheobase_steps // 2 + options.rheobase_steps + options.n_sweep + 4 + 4
    total = per_corner * len(corners)
    t0 = time.perf_counter()
    done = [0]

    def tick(*_: Any) -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], max(total, done[0]), time.perf_counter() - t0)

    results = []
    for corner in corners:
        at = replace(template, corner=corner)
        try:
            fit = fit_lif(at, params=params, options=replace(options, progress=tick))
            results.append(_check_unseen(at, corner, fit, params, tick))
        except SimulationError as exc:
            new = SimulationError(f"{exc.args[0]} (corner {corner})", simulator_message=exc.simulator_message,
                                  line=exc.line)
            raise new from None
    return CornerReport(circuit=template.name, pdk=template.pdks[0], results=results,
                        wall_time_s=time.perf_counter() - t0)


def _check_unseen(template: NetlistTemplate, corner: str, fit: FitResult, params: Mapping[str, float | str] | None,
                  tick: Callable[..., None]) -> CornerResult:
    """SPICE ISI against the fitted LIF at geometric midpoints of two sweep intervals."""
    sweep = fit.sweep_current_amp
    det = SpikeDetector(high_volt=fit.detector["high_volt"], low_volt=fit.detector["low_volt"],
                        source=fit.detector["source"])

    runs = [0]

    def run(stimulus: Stimulus, duration_s: float) -> Any:
        runs[0] += 1
        tick()
        return simulate(template, stimulus, duration_s, params=params, detector=det)

    picks = sorted({0, (len(sweep) - 1) // 2})
    currents = np.array([math.sqrt(sweep[k] * sweep[k + 1]) for k in picks])
    spice = np.array([measure_isi(run, float(i), float(lif.isi(fit.params, float(i))))[0] for i in currents])
    model = np.array([float(lif.isi(fit.params, float(i))) for i in currents])
    return CornerResult(corner=corner, fit=fit, check_current_amp=currents, check_isi_spice_s=spice,
                        check_isi_lif_s=model, check_runs=runs[0])
