"""The options and the result of a LIF fit (:func:`neurochip.circuit.fit_lif`).

Part of :mod:`neurochip.circuit`; :mod:`neurochip.circuit.fit` re-exports both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import lif
from ..errors import InvalidParameterError
from .simulate import SolverSettings, SpikeDetector

__all__ = ["FitOptions", "FitResult"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FitOptions:
    """Options of :func:`fit_lif`.

    Parameters
    ----------
    n_sweep : int
        Currents in the suprathreshold sweep, >= 3.
    sweep_low, sweep_high : float
        Sweep range as multiples of the SPICE rheobase (default 1.2 and 20).
    probe_current_amp : float or None
        Subthreshold probe current in A; None takes the template's ``[fit]`` hint, else 1 nA.
        Halved until the probe does not fire.
    rheobase_steps : int
        Bisection steps of the rheobase search (relative precision ~ 2**-steps).
    saturation_multiple : float
        An extra run at this multiple of the rheobase checks the approach to 1/t_ref (0: skip).
    isis : int
        Steady-state ISIs measured per sweep current, >= 2.
    solver : SolverSettings
        ngspice settings.
    detector : SpikeDetector or None
        Spike levels; None: the circuit's declared ones (:func:`~neurochip.circuit.simulate.circuit_detector`),
        else measured on a spiking run (:meth:`SpikeDetector.measure`).
    progress : callable or None
        Called as ``progress(runs_done, runs_expected, elapsed_s)`` after every SPICE run.

    Raises
    ------
    InvalidParameterError
        If ``n_sweep`` < 3, the sweep range is not 1 < low < high, ``isis`` < 2 or
        ``rheobase_steps`` < 1.

    Examples
    --------
    A quicker fit: 4 sweep currents, no saturation run:

    >>> FitOptions(n_sweep=4, saturation_multiple=0).sweep_high
    20.0
    >>> FitOptions(sweep_low=0.5)
    Traceback (most recent call last):
    ...
    neurochip.errors.InvalidParameterError: sweep_low = 0.5, sweep_high = 20.0: need 1 < low < high
    """

    n_sweep: int = 8
    sweep_low: float = 1.2
    sweep_high: float = 20.0
    probe_current_amp: float | None = None
    rheobase_steps: int = 10
    saturation_multiple: float = 100.0
    isis: int = 4
    solver: SolverSettings = field(default_factory=SolverSettings)
    detector: SpikeDetector | None = None
    progress: Any = None

    def __post_init__(self) -> None:
        if self.n_sweep < 3:
            raise InvalidParameterError(f"n_sweep = {self.n_sweep!r}: must be >= 3")
        if not 1.0 < self.sweep_low < self.sweep_high:
            raise InvalidParameterError(
                f"sweep_low = {self.sweep_low!r}, sweep_high = {self.sweep_high!r}: need 1 < low < high"
            )
        if self.isis < 2:
            raise InvalidParameterError(f"isis = {self.isis!r}: must be >= 2")
        if self.rheobase_steps < 1:
            raise InvalidParameterError(f"rheobase_steps = {self.rheobase_steps!r}: must be >= 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class FitResult:
    r"""A fitted LIF neuron and the evidence for it (SI units).

    Attributes
    ----------
    params : LIFParams
        The fitted parameters (adaptation and noise fields keep their defaults).
    circuit : str
        Circuit name.
    circuit_params : dict of str to float
        Netlist parameter values used, SI units.
    sweep_current_amp, isi_spice_s, isi_lif_s : ndarray of float64, shape (n_sweep,)
        The sweep: currents (A), SPICE steady-state ISIs (s), fitted-LIF ISIs (s).
    energy_per_isi_joule : ndarray of float64, shape (n_sweep,)
        Supply energy per ISI at each sweep current, J (static part included).
    max_isi_rel_error, rms_isi_rel_error : float
        max and RMS of |ISI_LIF / ISI_SPICE - 1| over the sweep (dimensionless).
    rheobase_spice_amp, rheobase_lif_amp : float
        A.  The SPICE current found by bisection on "fires within :math:`T_w = 10\,\tau` from
        rest" (:math:`\tau` of the passive fit), and the same quantity for the fitted LIF,
        :math:`I_{rh} / (1 - e^{-T_w/\tau_m})`, slightly above its true rheobase
        :math:`I_{rh} = g_L (V_{th} - E_L)`.
    max_rate_hz : float
        Highest rate reached in SPICE (sweep and saturation run), Hz.
    saturation_current_amp, saturation_rate_hz : float
        The saturation run: its current (A) and SPICE rate (Hz) (nan when skipped or when the
        circuit stops firing there).
    saturation_isi_rel_error : float
        |ISI_LIF / ISI_SPICE - 1| at the saturation run, outside the fitted sweep (nan when
        skipped).
    energy_per_spike_joule : float
        Dynamic supply energy per spike, J: energy per ISI minus static power x ISI, mean over
        the sweep.
    static_power_watt : float
        Supply power at rest, W.
    solver : dict
        Solver settings (:meth:`SolverSettings.to_dict`).
    n_runs : int
        SPICE runs made.
    wall_time_s : float
        Wall time of the fit, s.
    detector : dict
        The spike levels used (:meth:`SpikeDetector.to_dict`: ``high_volt``, ``low_volt``,
        ``source``).
    warnings : list of str
        Distinct warnings ngspice recovered from during the fit's runs.

    Notes
    -----
    With :math:`T_k` the SPICE ISI, :math:`E_k` the supply energy per ISI at sweep current
    :math:`I_k` and :math:`P_s` the static power:

    .. math::

        e_{spike} = \frac{1}{K} \sum_{k=1}^{K} \left( E_k - P_s T_k \right)

    Examples
    --------
    >>> from neurochip.circuit import fit_lif
    >>> fit = fit_lif("lif_behavioral")  # about 2 s
    >>> bool(fit.max_isi_rel_error < 0.01), round(fit.saturation_fraction, 1)
    (True, 1.0)
    >>> sorted(fit.to_dict()["sweep"])
    ['current_amp', 'energy_per_isi_joule', 'isi_lif_s', 'isi_spice_s']
    """

    params: lif.LIFParams
    circuit: str
    circuit_params: dict[str, float]
    sweep_current_amp: NDArray[np.float64]
    isi_spice_s: NDArray[np.float64]
    isi_lif_s: NDArray[np.float64]
    energy_per_isi_joule: NDArray[np.float64]
    max_isi_rel_error: float
    rms_isi_rel_error: float
    rheobase_spice_amp: float
    rheobase_lif_amp: float
    max_rate_hz: float
    saturation_current_amp: float
    saturation_rate_hz: float
    saturation_isi_rel_error: float
    energy_per_spike_joule: float
    static_power_watt: float
    solver: dict[str, Any]
    n_runs: int
    wall_time_s: float
    detector: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def saturation_fraction(self) -> float:
        """SPICE rate at the saturation run times t_ref of the fit (1 = at the ceiling; nan when
        the saturation run was skipped)."""
        return self.saturation_rate_hz * self.params.t_ref_s

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``params`` is the LIFParams dict.

        Returns
        -------
        dict of str to object
            The scalar attributes, ``params`` and ``circuit_params`` as dicts, the sweep arrays
            under ``sweep`` (``current_amp``, ``isi_spice_s``, ``isi_lif_s``,
            ``energy_per_isi_joule``, still ndarrays), and ``saturation_rate_limit_hz`` of the
            fitted LIF (:func:`neurochip.lif.saturation_rate`).
        """
        return {
            "circuit": self.circuit,
            "params": self.params.to_dict(),
            "circuit_params": dict(self.circuit_params),
            "max_isi_rel_error": self.max_isi_rel_error,
            "rms_isi_rel_error": self.rms_isi_rel_error,
            "rheobase_spice_amp": self.rheobase_spice_amp,
            "rheobase_lif_amp": self.rheobase_lif_amp,
            "max_rate_hz": self.max_rate_hz,
            "saturation_rate_limit_hz": lif.saturation_rate(self.params),
            "saturation_current_amp": self.saturation_current_amp,
            "saturation_rate_hz": self.saturation_rate_hz,
            "saturation_isi_rel_error": self.saturation_isi_rel_error,
            "energy_per_spike_joule": self.energy_per_spike_joule,
            "static_power_watt": self.static_power_watt,
            "sweep": {
                "current_amp": self.sweep_current_amp,
                "isi_spice_s": self.isi_spice_s,
                "isi_lif_s": self.isi_lif_s,
                "energy_per_isi_joule": self.energy_per_isi_joule,
            },
            "solver": self.solver,
            "n_runs": self.n_runs,
            "wall_time_s": self.wall_time_s,
            "detector": dict(self.detector),
            "warnings": list(self.warnings),
        }
