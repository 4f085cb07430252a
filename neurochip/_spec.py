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
    """The SI unit symbol a field name declares by its last token, or None."""
    return _UNIT_SUFFIX.get(field_name.rsplit("_", 1)[-1])


def spec_to_dict(spec: Any) -> dict[str, Any]:
    """Plain dict of a spec dataclass (nested specs become nested dicts; None is left out)."""
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

    Raises
    ------
    ConfigError
        ``"<source>: <key.path> = <value>: <rule>"`` for any unknown key or bad value.
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
    """Read a TOML file, turning a missing file or a syntax error into a :class:`ConfigError`."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError("file not found", path=str(path)) from None
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
    """TOML text of a dict of scalars, lists and one level of nested tables (floats exact)."""
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
