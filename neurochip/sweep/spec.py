"""Sweep specs: the TOML layout, its checks, the points it expands to and their identifiers.

A spec holds parameters shared by every point (``[fixed]``) and either grid axes (``[grid]``,
``[zip]``: the sweep is their product) or random axes (``[random]``: ``samples`` seeded draws).
The file format is in ``docs/sweeps.md``; the parameter names are those of
:mod:`neurochip.sweep.point`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._spec import load_toml
from ..errors import ConfigError, InvalidParameterError
from ..units import parse_quantity

__all__ = ["SweepSpec", "sweep_from_dict", "load_sweep", "point_id"]

_TABLES = ("sweep", "fixed", "grid", "zip", "random")
_SWEEP_KEYS = {"name", "description", "samples", "seed", "cache_dir"}

#: A grid axis: the names it varies together, and one tuple of their values per step.
Axis = tuple[tuple[str, ...], list[tuple[Any, ...]]]


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepSpec:
    """A design-space sweep: fixed parameters, and axes varied on a grid or sampled at random.

    Build one with :func:`load_sweep` or :func:`sweep_from_dict`, which check every point.

    Attributes
    ----------
    name : str
        Label of the sweep (progress bar, summary).
    fixed : dict
        Parameters shared by every point (see :mod:`neurochip.sweep.point` for the names), SI.
    axes : list of (names, rows)
        Grid axes: each a tuple of parameter names and a list of value tuples, one per step
        (a ``[zip]`` axis varies several names together).  The grid is their product.
    random : dict
        Random axes: name -> ``("choice", values)`` or ``("uniform"|"log", low, high)``.
    samples : int
        Points drawn when ``random`` is not empty (≥ 1 then).
    seed : int
        Seed of the random draw (≥ 0).
    cache_dir : str or None
        Folder of the circuit fit cache named in the file, if any.
    source : str or None
        The file it was read from.
    """

    name: str = "sweep"
    fixed: dict[str, Any]
    axes: list[Axis]
    random: dict[str, tuple[Any, ...]]
    samples: int = 0
    seed: int = 0
    cache_dir: str | None = None
    source: str | None = None

    @property
    def input_names(self) -> list[str]:
        """Every parameter name a point carries, in a stable order (fixed, grid, random)."""
        names = list(self.fixed)
        for axis_names, _ in self.axes:
            names += [n for n in axis_names if n not in names]
        names += [n for n in self.random if n not in names]
        return names

    def points(self) -> list[dict[str, Any]]:
        """Every point of the sweep, in a reproducible order.

        Returns
        -------
        list of dict
            One dict of parameter name -> value (SI) per point: the grid in row-major order
            (the last axis varies fastest), or ``samples`` seeded random draws.
        """
        if self.random:
            rng = np.random.default_rng(self.seed)
            out = []
            for _ in range(self.samples):
                point = dict(self.fixed)
                for name, law in self.random.items():
                    if law[0] == "choice":
                        point[name] = law[1][int(rng.integers(len(law[1])))]
                    elif law[0] == "log":
                        point[name] = float(np.exp(rng.uniform(np.log(law[1]), np.log(law[2]))))
                    else:
                        point[name] = float(rng.uniform(law[1], law[2]))
                out.append(point)
            return out
        out = []
        for combo in itertools.product(*(rows for _, rows in self.axes)):
            point = dict(self.fixed)
            for (names, _), row in zip(self.axes, combo):
                point.update(zip(names, row))
            out.append(point)
        return out


def point_id(point: dict[str, Any]) -> str:
    """A stable identifier of a point's inputs: a hash of its names and values.

    Parameters
    ----------
    point : dict
        Parameter name -> value.

    Returns
    -------
    str
        16 hexadecimal digits; the same for the same names and values in any order.

    Examples
    --------
    >>> point_id({"core.neurons": 16, "stimulus.rate_hz": 1e4})
    '60b47b10282d2d53'
    >>> point_id({"stimulus.rate_hz": 1e4, "core.neurons": 16})
    '60b47b10282d2d53'
    """
    return hashlib.sha256(json.dumps(point, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _value(v: Any) -> Any:
    """A TOML value as a number when it is one (``"10 ns"`` -> 1e-08), else unchanged."""
    if isinstance(v, bool) or not isinstance(v, str):
        return v
    try:
        return parse_quantity(v)
    except (InvalidParameterError, ValueError):
        return v


def _range(table: dict[str, Any], where: str, source: str) -> list[Any]:
    unknown = set(table) - {"from", "to", "num", "scale"}
    if unknown or not {"from", "to", "num"} <= set(table):
        raise ConfigError("a range is a table {from, to, num, scale = 'linear'|'log'}", path=source, key=where)
    lo, hi, num = _value(table["from"]), _value(table["to"]), table["num"]
    scale = table.get("scale", "linear")
    if not (isinstance(lo, (int, float)) and isinstance(hi, (int, float))):
        raise ConfigError(f"from/to = {table['from']!r}/{table['to']!r}: must be numbers", path=source, key=where)
    if not isinstance(num, int) or num < 1:
        raise ConfigError(f"num = {num!r}: must be an integer >= 1", path=source, key=where)
    if scale == "log":
        if lo <= 0 or hi <= 0:
            raise ConfigError("a log range needs from > 0 and to > 0", path=source, key=where)
        return [float(x) for x in np.geomspace(lo, hi, num)]
    if scale != "linear":
        raise ConfigError(f"scale = {scale!r}: must be 'linear' or 'log'", path=source, key=where)
    return [float(x) for x in np.linspace(lo, hi, num)]


def _values_of(raw: Any, where: str, source: str) -> list[Any]:
    if isinstance(raw, dict):
        return _range(raw, where, source)
    if isinstance(raw, list):
        if not raw:
            raise ConfigError("empty list of values", path=source, key=where)
        if any(isinstance(v, (list, dict)) for v in raw):
            raise ConfigError("values must be numbers or strings", path=source, key=where)
        return [_value(v) for v in raw]
    raise ConfigError(f"{raw!r}: expected a list of values or a range table {{from, to, num}}", path=source, key=where)


def _zip_groups(zipped: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The ``[zip]`` axes: the table's own lists are one axis, each named sub-table another."""
    plain = {k: v for k, v in zipped.items() if not (isinstance(v, dict) and "from" not in v)}
    groups = [("zip", plain)] if plain else []
    return groups + [(f"zip.{k}", v) for k, v in zipped.items() if k not in plain]


def _zip_axis(prefix: str, group: dict[str, Any], src: str) -> Axis:
    cols = {k: _values_of(raw, f"{prefix}.{k}", src) for k, raw in group.items()}
    first = next(iter(cols))
    odd = next((k for k in cols if len(cols[k]) != len(cols[first])), None)
    if odd is not None:
        raise ConfigError(f"{len(cols[odd])} values, but {prefix}.{first} has {len(cols[first])}: zipped lists must "
                          "have equal lengths", path=src, key=f"{prefix}.{odd}")
    return tuple(cols), list(zip(*cols.values()))


def _random_law(raw: Any, where: str, src: str) -> tuple[Any, ...]:
    if isinstance(raw, list):
        return ("choice", _values_of(raw, where, src))
    if not isinstance(raw, dict):
        raise ConfigError(f"{raw!r}: expected a list of choices or a table {{low, high}}", path=src, key=where)
    if set(raw) - {"low", "high", "scale"} or not {"low", "high"} <= set(raw):
        raise ConfigError("a random range is a table {low, high, scale = 'linear'|'log'}", path=src, key=where)
    lo, hi, scale = _value(raw["low"]), _value(raw["high"]), raw.get("scale", "linear")
    if not (isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo <= hi):
        raise ConfigError(f"low, high = {raw['low']!r}, {raw['high']!r}: must be numbers with low <= high", path=src, key=where)
    if scale not in ("linear", "log") or (scale == "log" and lo <= 0):
        raise ConfigError(f"scale = {scale!r}: must be 'linear', or 'log' with low > 0", path=src, key=where)
    return ("log" if scale == "log" else "uniform", float(lo), float(hi))


def sweep_from_dict(data: dict[str, Any], *, source: str | None = None) -> SweepSpec:
    """Build a :class:`SweepSpec` from the TOML layout and check every point it expands to.

    Parameters
    ----------
    data : dict
        The parsed file: tables ``sweep``, ``fixed``, ``grid``, ``zip``, ``random`` (all
        optional).  Values are numbers or strings with SI prefixes (``"20 ms"``); a range is a
        table ``{from, to, num, scale}``.
    source : str, optional
        The file it came from, named in errors (default ``"<sweep>"``).

    Returns
    -------
    SweepSpec

    Raises
    ------
    ConfigError
        Naming the file and the key of a bad table, value or parameter name.

    Examples
    --------
    >>> spec = sweep_from_dict({"fixed": {"run.duration_s": "20 ms"},
    ...                         "grid": {"core.neurons": [16, 32]},
    ...                         "zip": {"mesh.width": [2, 4], "mesh.height": [1, 2]}})
    >>> spec.input_names
    ['run.duration_s', 'core.neurons', 'mesh.width', 'mesh.height']
    >>> for p in spec.points():
    ...     print(p)
    {'run.duration_s': 0.02, 'core.neurons': 16, 'mesh.width': 2, 'mesh.height': 1}
    {'run.duration_s': 0.02, 'core.neurons': 16, 'mesh.width': 4, 'mesh.height': 2}
    {'run.duration_s': 0.02, 'core.neurons': 32, 'mesh.width': 2, 'mesh.height': 1}
    {'run.duration_s': 0.02, 'core.neurons': 32, 'mesh.width': 4, 'mesh.height': 2}
    """
    from .point import check_point

    src = source or "<sweep>"
    unknown = set(data) - set(_TABLES)
    if unknown:
        raise ConfigError(f"unknown table {sorted(unknown)[0]!r}: expected {', '.join(_TABLES)}", path=src)
    for t in _TABLES:
        if not isinstance(data.get(t, {}), dict):
            raise ConfigError("must be a table", path=src, key=t)
    head = data.get("sweep", {})
    bad = set(head) - _SWEEP_KEYS
    if bad:
        raise ConfigError(f"unknown key; expected one of {', '.join(sorted(_SWEEP_KEYS))}", path=src, key=f"sweep.{sorted(bad)[0]}")
    fixed = {}
    for k, v in data.get("fixed", {}).items():
        if isinstance(v, (list, dict)):
            raise ConfigError("a fixed value must be a number or a string (lists go in [grid])", path=src, key=f"fixed.{k}")
        fixed[k] = _value(v)
    axes: list[Axis] = [((k,), [(v,) for v in _values_of(raw, f"grid.{k}", src)]) for k, raw in data.get("grid", {}).items()]
    groups = _zip_groups(data.get("zip", {}))
    axes += [_zip_axis(prefix, group, src) for prefix, group in groups]
    random = {k: _random_law(raw, f"random.{k}", src) for k, raw in data.get("random", {}).items()}
    if not axes and not random:
        # an empty spec (or one with [fixed] only) would silently run the default point
        raise ConfigError("nothing to sweep: no [grid], [zip] or [random] table (for a single point, give a [grid] "
                          "axis with one value)", path=src)
    samples = head.get("samples", 0)
    if random:
        if axes:
            raise ConfigError("a sweep is either a grid ([grid], [zip]) or a random sample ([random]), not both", path=src, key="random")
        if not isinstance(samples, int) or samples < 1:
            raise ConfigError(f"samples = {samples!r}: a random sweep needs an integer >= 1", path=src, key="sweep.samples")
    seed = head.get("seed", 0)
    if not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed = {seed!r}: must be an integer >= 0", path=src, key="sweep.seed")
    seen: dict[str, str] = {}
    named = [("fixed", k) for k in fixed] + [("grid", k) for k in data.get("grid", {})]
    named += [(prefix, k) for prefix, group in groups for k in group] + [("random", k) for k in random]
    for table, k in named:
        if k in seen:
            raise ConfigError(f"also given in [{seen[k]}]", path=src, key=f"{table}.{k}")
        seen[k] = table
    spec = SweepSpec(name=str(head.get("name", "sweep")), fixed=fixed, axes=axes, random=random, samples=samples,
                     seed=seed, cache_dir=head.get("cache_dir"), source=source)
    points = spec.points()
    if not points:
        raise ConfigError("the sweep has no points", path=src)
    for point in points:
        try:
            check_point(point)
        except InvalidParameterError as exc:
            # the longest name the message starts with ("system.n_chips = ..." is not about "system")
            named = [k for k in seen if repr(k) in str(exc) or str(exc).startswith(k)]
            key = f"{seen[max(named, key=len)]}.{max(named, key=len)}" if named else None
            raise ConfigError(str(exc), path=src, key=key) from None
    return spec


def load_sweep(path: str | Path) -> SweepSpec:
    """Read a sweep spec from a TOML file (format: ``docs/sweeps.md``).

    Parameters
    ----------
    path : str or Path
        The ``.toml`` file.

    Returns
    -------
    SweepSpec
        With ``source`` set to ``path``.

    Raises
    ------
    ConfigError
        Naming the file and the key of a bad table, value or parameter name.
    """
    return sweep_from_dict(load_toml(path), source=str(path))
