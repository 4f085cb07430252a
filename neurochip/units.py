"""SI quantities at the edges: parse ``"20 ms"``, print ``20 ms``, write SPICE numbers.

Inside neurochip every float is in SI base units (s, V, A, F, Ohm, S, J, W).  Strings with SI
prefixes are accepted only where a person types them (CLI flags, config files) and are converted
here, once.
"""

from __future__ import annotations

import math
import re

from .errors import InvalidParameterError

__all__ = ["parse_quantity", "format_si", "spice_number"]

_PREFIX = {
    "y": 1e-24, "z": 1e-21, "a": 1e-18, "f": 1e-15, "p": 1e-12, "n": 1e-9,
    "u": 1e-6, "µ": 1e-6, "μ": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6,
    "G": 1e9, "T": 1e12,
}  # fmt: skip
_UNITS = ("s", "V", "A", "F", "Ohm", "ohm", "Ω", "S", "J", "W", "Hz")
_QUANTITY = re.compile(
    r"^\s*(?P<num>[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*"
    r"(?P<prefix>[yzafpnuµμmkMGT]?)(?P<unit>" + "|".join(_UNITS) + r")?\s*$"
)


def parse_quantity(value: str | float | int, *, unit: str | None = None, name: str = "value") -> float:
    """Convert a number or a string with an SI prefix to a float in SI base units.

    Parameters
    ----------
    value : str or float
        ``2e-9``, ``"2e-9"``, ``"2nA"``, ``"20 ms"``, ``"1 pF"``.  ``M`` is mega here (as in SI);
        in SPICE text it would be milli, which is why :func:`spice_number` never writes it.
    unit : str, optional
        The expected unit symbol; a string carrying another unit is rejected.
    name : str
        Name of the field, used in the error message.

    Returns
    -------
    float
        The value in SI base units (the unit itself is not returned; a number passes through).

    Raises
    ------
    InvalidParameterError
        If the value is a boolean, the text is not a number with an optional prefix and unit,
        or it carries a unit other than ``unit``.

    Examples
    --------
    >>> parse_quantity("0.5nA", unit="A")
    5e-10
    >>> parse_quantity("20 ms")
    0.02
    >>> parse_quantity("2 V", unit="A", name="i_amp")
    Traceback (most recent call last):
    ...
    neurochip.errors.InvalidParameterError: i_amp = '2 V': unit 'V' given, expected 'A'
    """
    if isinstance(value, bool):
        raise InvalidParameterError(f"{name} = {value!r}: expected a number, got a boolean")
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        raise InvalidParameterError(f"{name} = {value!r}: expected a number or a string such as '20 ms'")
    text = value.strip()
    m = _QUANTITY.match(text)
    if m is None:
        hint = f" such as '2 {unit}' or '2e-9'" if unit else " such as '20 ms' or '2e-9'"
        raise InvalidParameterError(f"{name} = {value!r}: not a quantity; expected a number{hint}")
    got_unit = m.group("unit")
    if got_unit and unit and _canon(got_unit) != _canon(unit):
        raise InvalidParameterError(f"{name} = {value!r}: unit {got_unit!r} given, expected {unit!r}")
    prefix = m.group("prefix")
    if prefix and not got_unit and prefix not in ("k", "M", "G", "T"):
        # '5m' is ambiguous without a unit only for readers, not for us: accept it.
        pass
    return float(m.group("num")) * _PREFIX[prefix]


def _canon(unit: str) -> str:
    return {"ohm": "Ohm", "Ω": "Ohm"}.get(unit, unit)


_ENG = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"),
        (1e-9, "n"), (1e-12, "p"), (1e-15, "f"), (1e-18, "a")]  # fmt: skip


def format_si(value: float, unit: str = "", *, digits: int = 4) -> str:
    """Format a float with an engineering prefix for display: ``format_si(2e-9, 'A') == '2 nA'``.

    Parameters
    ----------
    value : float
        Value in SI base units.
    unit : str
        Unit symbol appended after the prefix.
    digits : int
        Significant digits, >= 1.

    Returns
    -------
    str
        ``"<mantissa> <prefix><unit>"`` with the prefix from a (10^-18) to T (10^12) that keeps the
        mantissa in [1, 1000) where possible; ``"0 <unit>"`` for zero, ``"nan <unit>"`` and
        ``"inf <unit>"`` for non-finite values.  For display only: the text uses ``µ`` and ``M``
        (mega), so it is not SPICE text (see :func:`spice_number`).

    Examples
    --------
    >>> format_si(2e-9, "A")
    '2 nA'
    >>> format_si(0.02, "s")
    '20 ms'
    >>> format_si(1.23456e-12, "J", digits=3)
    '1.23 pJ'
    >>> format_si(999_999.0, "Hz", digits=3)  # rounds up into the next prefix
    '1 MHz'
    """
    if value is None or not math.isfinite(value):
        return f"{value} {unit}".strip()
    if value == 0:
        return f"0 {unit}".strip()
    # choose the prefix after rounding to the digits shown, so 999.99996 m is "1" not "1000 m"
    mag = abs(float(f"{value:.{digits}g}"))
    scale, prefix = next(((s, p) for s, p in _ENG if mag >= s * (1 - 1e-12)), _ENG[-1])
    text = f"{value / scale:.{digits}g}"
    return f"{text} {prefix}{unit}".strip()


_SPICE = [(1e12, "t"), (1e9, "g"), (1e6, "meg"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "u"),
          (1e-9, "n"), (1e-12, "p"), (1e-15, "f")]  # fmt: skip


def spice_number(value: float) -> str:
    """Write a float as SPICE text with a SPICE scale suffix: ``20e-15 -> '20f'``, ``1e6 -> '1meg'``.

    SPICE reads ``M`` as milli, so mega is always written ``meg``.  The value is written with
    full double precision (up to 15 significant digits), so the round trip is exact to a
    relative 1e-15.

    Parameters
    ----------
    value : float
        A finite number in SI base units (the unit itself is not written).

    Returns
    -------
    str
        The mantissa with the largest SPICE suffix (``t``, ``g``, ``meg``, ``k``, none, ``m``,
        ``u``, ``n``, ``p``, ``f``) that keeps it >= 1; below 1e-15, plain exponent notation.

    Raises
    ------
    InvalidParameterError
        If ``value`` is NaN or infinite.

    Examples
    --------
    >>> spice_number(20e-15)
    '20f'
    >>> spice_number(1e6)
    '1meg'
    >>> spice_number(-0.07)
    '-70m'
    """
    value = float(value)
    if not math.isfinite(value):
        raise InvalidParameterError(f"cannot write {value!r} as a SPICE number")
    if value == 0:
        return "0"
    mag = abs(value)
    found = next(((s, x) for s, x in _SPICE if mag >= s * (1 - 1e-12)), None)
    if found is None:
        return f"{value:.15g}"
    scale, suffix = found
    return f"{value / scale:.15g}{suffix}"
