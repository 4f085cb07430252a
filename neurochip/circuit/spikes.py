"""Spike detection on a membrane trace: the circuit's levels and the crossings with hysteresis.

Part of :mod:`neurochip.circuit` (:mod:`neurochip.circuit.simulate` re-exports these names).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError
from .netlist import NetlistTemplate

__all__ = ["SpikeDetector", "circuit_detector", "detect_spikes"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SpikeDetector:
    r"""Spike levels of one neuron: an upward crossing of ``high_volt``, re-armed below ``low_volt``.

    The levels belong to the circuit, not to a trace: a subthreshold response that rises
    towards threshold and stays there crosses nothing twice, and a neuron whose reset stays
    above a fixed fraction of a trace's range still re-arms.  They come, in this order, from
    levels given to :func:`simulate` (or on the CLI), from the sidecar's ``[detect]`` table,
    from parameters the sidecar declares as the LIF's ``v_th_volt`` and ``v_reset_volt``, or
    measured on a spiking run (:meth:`measure`).

    Parameters
    ----------
    high_volt, low_volt : float
        Crossing and re-arming levels, V, finite, ``low_volt < high_volt``.
    source : str
        Where the levels came from (for reports): ``"given"``, ``"sidecar"``, ``"declared"``,
        ``"measured"``.

    Raises
    ------
    InvalidParameterError
        If a level is not finite or ``low_volt >= high_volt``.

    Notes
    -----
    From a threshold :math:`V_{th}` and a reset :math:`V_r` (:meth:`from_levels`):

    .. math::

        V_{high} = V_r + f_h (V_{th} - V_r), \qquad V_{low} = V_r + f_l (V_{th} - V_r)

    with :math:`f_h` = 0.9 and :math:`f_l` = 0.5 by default: the crossing sits just below the
    threshold, so a spike counts as soon as the membrane is committed to it, and the reset has
    to bring the membrane half-way back before the next one counts (hysteresis).

    Examples
    --------
    >>> d = SpikeDetector.from_levels(-0.050, -0.065)
    >>> round(d.high_volt, 4), round(d.low_volt, 4)
    (-0.0515, -0.0575)
    >>> t = np.linspace(0.0, 4.0, 401)
    >>> v = np.where(t % 1 < 0.5, t % 1, 0.0)
    >>> np.round(SpikeDetector(high_volt=0.3, low_volt=0.1).detect(t, v), 6).tolist()
    [0.3, 1.3, 2.3, 3.3]
    """

    high_volt: float
    low_volt: float
    source: str = "given"

    def __post_init__(self) -> None:
        for name in ("high_volt", "low_volt"):
            if not math.isfinite(getattr(self, name)):
                raise InvalidParameterError(f"spike detection: {name} = {getattr(self, name)!r}: must be finite")
        if not self.low_volt < self.high_volt:
            raise InvalidParameterError(
                f"spike detection: low_volt = {self.low_volt!r}: must be < high_volt = {self.high_volt!r} "
                "(is the threshold below the reset?)"
            )

    @classmethod
    def from_levels(
        cls, threshold_volt: float, reset_volt: float, *, high_fraction: float = 0.9, low_fraction: float = 0.5,
        source: str = "given",
    ) -> SpikeDetector:
        """Levels from a neuron's threshold and reset (see Notes of the class).

        Parameters
        ----------
        threshold_volt, reset_volt : float
            The neuron's threshold and reset potential, V, ``reset_volt < threshold_volt``.
        high_fraction, low_fraction : float
            Where the crossing and the re-arming levels sit between reset (0) and threshold (1);
            ``0 < low_fraction < high_fraction <= 1``.
        source : str
            See the class.

        Returns
        -------
        SpikeDetector

        Raises
        ------
        InvalidParameterError
            If the fractions are out of order or the threshold is not above the reset.
        """
        if not 0 < low_fraction < high_fraction <= 1:
            raise InvalidParameterError(
                f"spike detection: high_fraction = {high_fraction!r}, low_fraction = {low_fraction!r}: "
                "need 0 < low < high <= 1"
            )
        if not threshold_volt > reset_volt:
            raise InvalidParameterError(
                f"spike detection: threshold {threshold_volt!r} V must be above the reset {reset_volt!r} V"
            )
        swing = threshold_volt - reset_volt
        return cls(high_volt=reset_volt + high_fraction * swing, low_volt=reset_volt + low_fraction * swing,
                   source=source)

    @classmethod
    def measure(cls, time_s: NDArray[np.float64], v_mem_volt: NDArray[np.float64], *,
                min_swing_volt: float = 0.005) -> SpikeDetector | None:
        """Levels measured on a run that spikes repeatedly, or None when it does not.

        The cycles after the first spike (which starts from rest) give the reset (the lowest
        membrane value) and the peak (the highest); the levels are 70 % and 30 % of the way
        from the one to the other.

        Parameters
        ----------
        time_s, v_mem_volt : array_like of float, shape (n_samples,)
            The run: increasing times in s, membrane in V.
        min_swing_volt : float
            Smallest peak-to-reset swing, V, that counts as spiking.

        Returns
        -------
        SpikeDetector or None
            ``source="measured"``; None when the run holds fewer than 3 spike-and-reset cycles.
        """
        t = np.asarray(time_s, dtype=np.float64)
        v = np.asarray(v_mem_volt, dtype=np.float64)
        for start in (0, len(t) // 2):  # the whole run, then its second half (without the rise from rest)
            spikes = detect_spikes(t[start:], v[start:], min_swing_volt=min_swing_volt)
            if len(spikes) >= 3:
                after = t > spikes[0]
                lo, hi = float(v[after].min()), float(v[after].max())
                if hi - lo >= min_swing_volt:
                    return cls(high_volt=lo + 0.7 * (hi - lo), low_volt=lo + 0.3 * (hi - lo), source="measured")
        return None

    def detect(self, time_s: NDArray[np.float64], v_mem_volt: NDArray[np.float64]) -> NDArray[np.float64]:
        """Spike times in s of a trace (:func:`detect_spikes` with these levels).

        Parameters
        ----------
        time_s, v_mem_volt : array_like of float, shape (n_samples,)
            Increasing times in s, membrane potential in V.

        Returns
        -------
        ndarray of float64, shape (n_spikes,)
        """
        return detect_spikes(time_s, v_mem_volt, high_volt=self.high_volt, low_volt=self.low_volt)

    def to_dict(self) -> dict[str, object]:
        """``high_volt``, ``low_volt`` (V) and ``source``.

        Returns
        -------
        dict of str to object
        """
        return {"high_volt": self.high_volt, "low_volt": self.low_volt, "source": self.source}


def circuit_detector(
    template: NetlistTemplate, values: Mapping[str, float], *, threshold_volt: float | None = None,
    reset_volt: float | None = None,
) -> SpikeDetector | None:
    """The spike levels a circuit declares, or None (then they are measured; see :class:`SpikeDetector`).

    Parameters
    ----------
    template : NetlistTemplate
        The circuit; its sidecar's ``[detect]`` table (``threshold_volt`` and ``reset_volt``, a
        value or a parameter name; ``high_fraction``, ``low_fraction``), else its parameters
        declared ``lif = "v_th_volt"`` and ``lif = "v_reset_volt"``.
    values : mapping of str to float
        The parameter values of the run (SI).
    threshold_volt, reset_volt : float, optional
        Levels given by the caller (CLI ``--spike-threshold`` / ``--spike-reset``); they win
        over the sidecar.  Only one given: the other comes from the sidecar or declaration.

    Returns
    -------
    SpikeDetector or None

    Raises
    ------
    ConfigError
        If ``[detect]`` names a parameter the sidecar does not declare.

    Examples
    --------
    >>> from neurochip.circuit import load_circuit
    >>> t = load_circuit("lif_behavioral")
    >>> d = circuit_detector(t, t.defaults)
    >>> round(d.high_volt, 3), round(d.low_volt, 3), d.source
    (0.54, 0.3, 'declared')
    """
    from ..errors import ConfigError

    table = template.detect

    def level(key: str, lif_field: str) -> tuple[float | None, str]:
        raw = table.get(key)
        if isinstance(raw, str):
            if raw not in values:
                raise ConfigError(f"detect.{key} = {raw!r}: no such parameter", path=template.source or template.name)
            return float(values[raw]), "sidecar"
        if raw is not None:
            return float(raw), "sidecar"
        for name, decl in template.params.items():
            if decl.lif == lif_field:
                return float(values[name]), "declared"
        return None, ""

    th, th_src = (threshold_volt, "given") if threshold_volt is not None else level("threshold_volt", "v_th_volt")
    rs, rs_src = (reset_volt, "given") if reset_volt is not None else level("reset_volt", "v_reset_volt")
    if th is None or rs is None:
        return None
    source = "given" if "given" in (th_src, rs_src) else ("sidecar" if "sidecar" in (th_src, rs_src) else "declared")
    return SpikeDetector.from_levels(
        th, rs, high_fraction=float(table.get("high_fraction", 0.9)), low_fraction=float(table.get("low_fraction", 0.5)),
        source=source,
    )


def detect_spikes(
    time_s: NDArray[np.float64],
    v_mem_volt: NDArray[np.float64],
    *,
    high_volt: float | None = None,
    low_volt: float | None = None,
    min_swing_volt: float = 0.05,
) -> NDArray[np.float64]:
    """Spike times from a membrane trace: upward crossings with hysteresis.

    A spike is an upward crossing of ``high_volt`` (time linearly interpolated between samples)
    that is followed by a fall below ``low_volt`` before the next one counts: the reset. A rise
    that never resets (a subthreshold step response, or a spike cut by the end of the run) is
    not a spike.  Without levels, they are put at 90 % and 30 % of the trace's range (so the
    spike time is close to the threshold crossing of a regular neuron), and a
    trace whose range is below ``min_swing_volt`` has no spikes.

    Parameters
    ----------
    time_s, v_mem_volt : array_like of float, shape (n_samples,)
        The trace: increasing times in s, membrane potential in V.
    high_volt, low_volt : float, optional
        Crossing level and re-arming level (V), ``low_volt < high_volt``.
    min_swing_volt : float
        Smallest range (V) of a trace with auto levels that can hold spikes.

    Returns
    -------
    ndarray of float64, shape (n_spikes,)
        Spike times in s, increasing (empty for fewer than 3 samples).

    Raises
    ------
    InvalidParameterError
        If ``low_volt >= high_volt``.

    Examples
    --------
    A sawtooth that rises 1 V/s for 0.5 s, then rests at 0 V, every second; the automatic
    levels are 90 % and 30 % of its 0.49 V range:

    >>> t = np.linspace(0.0, 4.0, 401)
    >>> v = np.where(t % 1 < 0.5, t % 1, 0.0)
    >>> np.round(detect_spikes(t, v), 6).tolist()
    [0.441, 1.441, 2.441, 3.441]
    >>> np.round(detect_spikes(t, v, high_volt=0.3, low_volt=0.1), 6).tolist()
    [0.3, 1.3, 2.3, 3.3]
    """
    t = np.asarray(time_s, dtype=np.float64)
    v = np.asarray(v_mem_volt, dtype=np.float64)
    if len(t) < 3:
        return np.empty(0)
    if high_volt is None or low_volt is None:
        lo, hi = float(v.min()), float(v.max())
        if hi - lo < min_swing_volt:
            return np.empty(0)
        high_volt = lo + 0.9 * (hi - lo) if high_volt is None else high_volt
        low_volt = lo + 0.3 * (hi - lo) if low_volt is None else low_volt
    if not low_volt < high_volt:
        raise InvalidParameterError(f"low_volt = {low_volt!r}: must be < high_volt = {high_volt!r}")
    above = v >= high_volt
    below = v <= low_volt
    ups = np.flatnonzero(~above[:-1] & above[1:])  # crossing between k and k+1
    downs = np.flatnonzero(below)
    spikes = []
    armed_from = 0
    for k in ups:
        if k < armed_from:
            continue
        nxt = np.searchsorted(downs, k + 1)
        if nxt >= len(downs):
            break  # no reset after this crossing: not a spike (yet)
        dv = v[k + 1] - v[k]
        frac = (high_volt - v[k]) / dv if dv != 0 else 0.0
        spikes.append(t[k] + frac * (t[k + 1] - t[k]))
        armed_from = downs[nxt]
    return np.asarray(spikes, dtype=np.float64)
