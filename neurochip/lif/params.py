"""LIF neuron parameters: one frozen spec in SI units, validated on construction.

Part of :mod:`neurochip.lif` (which re-exports :class:`LIFParams`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._spec import dump_toml, load_toml, spec_from_dict, spec_to_dict
from ..errors import ConfigError, InvalidParameterError
from ..units import parse_quantity

__all__ = ["LIFParams"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LIFParams:
    r"""Parameters of one LIF neuron, in SI units.

    The defaults describe a generic silicon neuron: 1 pF membrane, 1 nS leak (1 GOhm, so
    tau_m = 1 ms), rest and reset at 0 V, threshold at 0.5 V, 1 ms refractory hold.

    Parameters
    ----------
    c_m_farad : float
        Membrane capacitance C, > 0.
    g_leak_siemens : float
        Leak conductance g_L = 1/R, >= 0.  Zero gives the perfect (non-leaky) integrator.
        :meth:`from_dict` also accepts ``r_leak_ohm`` instead.
    e_leak_volt : float
        Leak reversal (resting) potential E_L.
    v_th_volt : float
        Threshold V_th.
    v_reset_volt : float
        Reset potential V_reset, < V_th.
    t_ref_s : float
        Absolute refractory period t_ref, >= 0: the membrane is held at V_reset and input is
        ignored for this long after each spike.
    adapt_increment_amp : float
        Spike-triggered adaptation: the adaptation current w (subtracted from the input) jumps
        by this much at each spike.  0 (default) disables adaptation.
    tau_adapt_s : float
        Time constant of the adaptation current's decay, > 0.
    noise_sigma_volt : float
        White input noise in Brunel's (2000) convention,
        :math:`\tau_m dV/dt = -(V - E_L) + R I + \sigma \sqrt{\tau_m}\,\xi(t)`; the free
        membrane potential then has standard deviation :math:`\sigma/\sqrt{2}`.  >= 0.

    Raises
    ------
    InvalidParameterError
        Naming the field and the value when a value is outside its range or not finite.

    Examples
    --------
    >>> p = LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-9, v_th_volt=0.5)
    >>> round(p.tau_m_s, 12)
    0.001
    """

    c_m_farad: float = 1e-12
    g_leak_siemens: float = 1e-9
    e_leak_volt: float = 0.0
    v_th_volt: float = 0.5
    v_reset_volt: float = 0.0
    t_ref_s: float = 1e-3
    adapt_increment_amp: float = 0.0
    tau_adapt_s: float = 0.1
    noise_sigma_volt: float = 0.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
                raise InvalidParameterError.of(f.name, value, "must be a number")
            value = float(value)
            if not math.isfinite(value):
                raise InvalidParameterError.of(f.name, value, "must be finite")
            object.__setattr__(self, f.name, value)
        _require(self.c_m_farad > 0, "c_m_farad", self.c_m_farad, "must be > 0")
        _require(self.g_leak_siemens >= 0, "g_leak_siemens", self.g_leak_siemens, "must be >= 0")
        _require(
            self.v_reset_volt < self.v_th_volt,
            "v_reset_volt",
            self.v_reset_volt,
            f"must be < v_th_volt = {self.v_th_volt!r}",
        )
        _require(self.t_ref_s >= 0, "t_ref_s", self.t_ref_s, "must be >= 0")
        _require(self.tau_adapt_s > 0, "tau_adapt_s", self.tau_adapt_s, "must be > 0")
        _require(self.noise_sigma_volt >= 0, "noise_sigma_volt", self.noise_sigma_volt, "must be >= 0")

    # -- derived quantities ------------------------------------------------------------------
    @property
    def r_leak_ohm(self) -> float:
        """Leak resistance R = 1/g_L in ohm (inf for the perfect integrator)."""
        return math.inf if self.g_leak_siemens == 0 else 1.0 / self.g_leak_siemens

    @property
    def tau_m_s(self) -> float:
        """Membrane time constant tau_m = C/g_L in s (inf for the perfect integrator)."""
        return math.inf if self.g_leak_siemens == 0 else self.c_m_farad / self.g_leak_siemens

    @property
    def is_adapting(self) -> bool:
        """True when spike-triggered adaptation is on."""
        return self.adapt_increment_amp != 0.0

    def replace(self, **changes: float) -> LIFParams:
        """A copy with some fields changed (validated again).

        Examples
        --------
        >>> LIFParams().replace(t_ref_s=2e-3).t_ref_s
        0.002
        """
        return dataclasses.replace(self, **changes)

    # -- I/O ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, float]:
        """Plain dict of the fields (SI floats), keyed by field name."""
        return spec_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str | None = None, prefix: str = "") -> LIFParams:
        """Build from a dict; values may be SI strings (``"20 ms"``); ``r_leak_ohm`` may replace
        ``g_leak_siemens``.

        Parameters
        ----------
        data : dict
            Field name -> number (SI) or SI string; missing fields keep their defaults.
        source : str, optional
            File the dict came from, named in errors.
        prefix : str
            Key path of the table (``"lif"``), named in errors.

        Returns
        -------
        LIFParams

        Raises
        ------
        ConfigError
            Naming the key when a key is unknown or a value is malformed (when ``source`` or
            ``prefix`` is given); otherwise :class:`InvalidParameterError`.

        Examples
        --------
        >>> LIFParams.from_dict({"c_m_farad": "2 pF", "r_leak_ohm": "500 MOhm"}).tau_m_s
        0.001
        """
        data = dict(data)
        if "r_leak_ohm" in data:
            if "g_leak_siemens" in data:
                raise ConfigError(
                    "give either g_leak_siemens or r_leak_ohm, not both",
                    path=source,
                    key=f"{prefix}.r_leak_ohm" if prefix else "r_leak_ohm",
                )
            r_value = data.pop("r_leak_ohm")
            try:
                r = parse_quantity(r_value, unit="Ohm", name="r_leak_ohm")
            except InvalidParameterError as exc:
                raise ConfigError(str(exc), path=source, key=prefix or None) from None
            if not r > 0:
                raise ConfigError(f"r_leak_ohm = {r!r}: must be > 0", path=source, key=prefix or None)
            data["g_leak_siemens"] = 0.0 if math.isinf(r) else 1.0 / r
        return spec_from_dict(cls, data, source=source, prefix=prefix)

    def to_toml(self, path: str | Path | None = None, *, table: str = "lif") -> str:
        """TOML text of the parameters under ``[table]`` (SI floats).

        Parameters
        ----------
        path : str or Path, optional
            Where to write the text as well.
        table : str
            Name of the TOML table.

        Returns
        -------
        str
        """
        text = dump_toml({table: self.to_dict()}, header="neurochip LIF parameters, SI units")
        if path is not None:
            Path(path).write_text(text)
        return text

    @classmethod
    def from_toml(cls, path: str | Path, *, table: str = "lif") -> LIFParams:
        """Read parameters from a TOML file, written by :meth:`to_toml` or by hand.

        Parameters
        ----------
        path : str or Path
        table : str
            Table to read (the file's top level when it has no such table); values may be SI
            strings.

        Returns
        -------
        LIFParams
            A bad or unknown entry raises :class:`ConfigError` naming the file and the key.
        """
        data = load_toml(path)
        if table in data:
            return cls.from_dict(data[table], source=str(path), prefix=table)
        return cls.from_dict(data, source=str(path))


def _require(ok: bool, name: str, value: float, rule: str) -> None:
    if not ok:
        raise InvalidParameterError.of(name, value, rule)


def _as_current(current: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(current, dtype=np.float64)
    if np.isnan(arr).any():
        raise InvalidParameterError("current: contains NaN")
    return arr


def _no_adaptation(params: LIFParams, what: str) -> None:
    if params.is_adapting:
        raise InvalidParameterError(
            f"{what}: the closed form holds for a non-adapting neuron, but adapt_increment_amp = "
            f"{params.adapt_increment_amp!r}; simulate the adapting neuron with neurochip.emulator"
        )


def _ret(arr: NDArray[np.float64]) -> NDArray[np.float64] | float:
    return float(arr) if arr.ndim == 0 else arr
