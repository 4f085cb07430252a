"""Generic plumbing for frozen spec dataclasses: ``to_dict``/``from_dict`` and TOML files.

One reader for every spec, never one per class.  Values may be numbers or, in files, strings
with SI prefixes (``"20 ms"``); the unit of a field is read from its name's last token
(``t_ref_s`` -> s, ``c_m_farad`` -> F).
"""

from __future__ import annotations

import dataclasses
import math
import sys
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from ._io import input_errors
from .errors import ConfigError, InvalidParameterError
from .units import parse_quantity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["spec_to_dict", "spec_from_dict", "load_toml", "dump_toml", "unit_of"]

T = TypeVar("T")

_UNIT_SUFFIX = {
    "s": "s", "volt": "V", "amp": "A", "farad": "F", "ohm": "Ohm", "siemens": "S",
    "joule": "J", "watt": "W", "hz": "Hz",
}  # fmt: skip


def unit_of(field_name: str) -> str | None:
    """The SI unit symbol a field name declares by its last token, or None.

    Parameters
    ----------
    field_name : str
        A spec field name such as ``"t_ref_s"`` or ``"c_m_farad"``.

    Returns
    -------
    str or None
        The unit symbol (``"s"``, ``"V"``, ``"A"``, ``"F"``, ``"Ohm"``, ``"S"``, ``"J"``, ``"W"``,
        ``"Hz"``) for the suffixes ``s``, ``volt``, ``amp``, ``farad``, ``ohm``, ``siemens``,
        ``joule``, ``watt`` and ``hz``; None when the last token is not one of them.

    Examples
    --------
    >>> unit_of("t_ref_s"), unit_of("c_m_farad"), unit_of("link_bandwidth_hz")
    ('s', 'F', 'Hz')
    >>> unit_of("neurons") is None
    True
    """
    return _UNIT_SUFFIX.get(field_name.rsplit("_", 1)[-1])


def spec_to_dict(spec: Any) -> dict[str, Any]:
    """Plain dict of a spec dataclass (nested specs become nested dicts; None is left out).

    Parameters
    ----------
    spec : dataclass instance
        Any spec dataclass; values are taken as stored (floats in SI units).

    Returns
    -------
    dict of str to object
        Field name to value, in field order; fields whose value is None are omitted and nested
        dataclasses become nested dicts.  The inverse of :func:`spec_from_dict`.

    Examples
    --------
    >>> from neurochip.chip import CoreSpec
    >>> spec_to_dict(CoreSpec(neurons=256, fan_in=4096, fan_out=64))
    {'neurons': 256, 'fan_in': 4096, 'fan_out': 64, 'route_entries': 'core'}
    """
    out: dict[str, Any] = {}
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        if value is None:
            continue
        if dataclasses.is_dataclass(value):
            value = spec_to_dict(value)
        out[f.name] = value
    return out


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(cls)}


def _base_type(hint: Any) -> Any:
    """``float | None`` -> float; other hints unchanged."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return hint


def spec_from_dict(cls: type[T], data: dict[str, Any], *, source: str | None = None, prefix: str = "") -> T:
    """Build a spec from a dict, converting SI strings and naming any bad key.

    The conversion follows each field's type: a nested spec dataclass is read from a nested
    table, a ``float`` accepts a number or an SI string (``"20 ms"``, with the unit taken from
    the field's name), an ``int`` needs an integral number, ``bool`` and ``str`` their own type.

    Parameters
    ----------
    cls : type
        A dataclass whose ``__post_init__`` validates.
    data : dict
        Field values.
    source : str, optional
        File name for error messages.
    prefix : str
        Dotted key path of ``data`` inside the file, for error messages.

    Returns
    -------
    object
        An instance of ``cls`` (already validated by its ``__post_init__``).

    Raises
    ------
    ConfigError
        ``"<source>: <key.path> = <value>: <rule>"`` for any unknown key or bad value.  Without
        ``source``, a value the spec itself rejects raises the spec's
        :class:`~neurochip.errors.InvalidParameterError` instead, its field prefixed by ``prefix``.

    Examples
    --------
    >>> from neurochip.chip import MeshSpec, RouterSpec
    >>> spec_from_dict(RouterSpec, {"hop_latency_s": "10 ns", "link_bandwidth_hz": 1e8,
    ...                             "buffer_depth": 16})
    RouterSpec(hop_latency_s=1e-08, link_bandwidth_hz=100000000.0, buffer_depth=16, backpressure=True)
    >>> spec_from_dict(MeshSpec, {"width": 0, "height": 1}, source="chip.toml", prefix="mesh")
    Traceback (most recent call last):
    ...
    neurochip.errors.ConfigError: chip.toml: mesh.width = 0: must be >= 1
    """
    def key_of(name: str) -> str:
        return f"{prefix}.{name}" if prefix else name

    if not isinstance(data, dict):
        raise ConfigError(f"expected a table, got {type(data).__name__}", path=source, key=prefix or None)
    types_ = _field_types(cls)
    unknown = sorted(set(data) - set(types_))
    if unknown:
        raise ConfigError(
            f"unknown field; expected one of: {', '.join(types_)}", path=source, key=key_of(unknown[0])
        )
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        hint = _base_type(types_[name])
        key = key_of(name)
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            kwargs[name] = spec_from_dict(hint, value, source=source, prefix=key)
            continue
        if hint is float and isinstance(value, str):
            try:
                value = parse_quantity(value, unit=unit_of(name), name=name)
            except InvalidParameterError as exc:
                raise ConfigError(str(exc).split(": ", 1)[-1], path=source, key=f"{key} = {value!r}") from None
        elif hint is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif hint is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        elif hint is int and isinstance(value, str):
            raise ConfigError("must be an integer", path=source, key=f"{key} = {value!r}")
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except InvalidParameterError as exc:
        if exc.field is not None:
            msg = f"{key_of(exc.field)} = {exc.value!r}: {exc.rule}"
        else:
            msg = f"{prefix}: {exc}" if prefix else str(exc)
        if source is None:
            raise type(exc)(msg, field=exc.field, value=exc.value, rule=exc.rule) from None
        raise ConfigError(msg, path=source) from None
    except TypeError as exc:
        raise ConfigError(str(exc), path=source, key=prefix or None) from None


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file, turning a missing file or a syntax error into a :class:`ConfigError`.

    Parameters
    ----------
    path : str or pathlib.Path
        The TOML file.

    Returns
    -------
    dict of str to object
        The parsed document (values as TOML gives them; SI strings are not converted here).

    Raises
    ------
    ConfigError
        ``"<path>: file not found"`` or ``"<path>: malformed TOML: ..."``.

    Examples
    --------
    >>> load_toml("no/such/chip.toml")
    Traceback (most recent call last):
    ...
    neurochip.errors.ConfigError: no/such/chip.toml: file not found
    """
    path = Path(path)
    try:
        with path.open("rb") as fh, input_errors(path, "a TOML file"):
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError("file not found", path=str(path)) from None
    except IsADirectoryError:
        raise ConfigError("is a folder; expected a TOML file", path=str(path)) from None
    except PermissionError:
        raise ConfigError("cannot be read (permission denied)", path=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"malformed TOML: {exc}", path=str(path)) from None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dump_toml(data: dict[str, Any], *, header: str | None = None) -> str:
    """TOML text of a dict of scalars, lists and one level of nested tables (floats exact).

    Top-level scalars come first, then one ``[table]`` per nested dict.  Floats are written with
    ``repr`` (so they read back bit-exact), NaN and infinities as TOML's ``nan``/``inf``.

    Parameters
    ----------
    data : dict of str to object
        Values of type bool, int, float, str, list/tuple of these, or a dict of them (one level).
    header : str, optional
        Text written first, each line as a ``#`` comment.

    Returns
    -------
    str
        The TOML document, ending in a newline.

    Raises
    ------
    TypeError
        For a value of another type or a table nested two levels deep.

    Examples
    --------
    >>> print(dump_toml({"name": "tiny", "mesh": {"width": 2, "height": 1}, "v_th_volt": 0.02},
    ...                 header="a 2 x 1 chip"), end="")
    # a 2 x 1 chip
    name = "tiny"
    v_th_volt = 0.02
    <BLANKLINE>
    [mesh]
    width = 2
    height = 1
    """
    lines = [f"# {h}" for h in header.splitlines()] if header else []
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    for key, value in data.items():
        if key not in tables:
            lines.append(f"{key} = {_toml_value(value)}")
    for name, table in tables.items():
        lines.append("")
        lines.append(f"[{name}]")
        for key, value in table.items():
            if isinstance(value, dict):
                raise TypeError("dump_toml writes one level of nested tables")
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"
