"""Design-space sweeps of the pipeline, fanned out on Dask by :func:`neurochip.parallel.fan_out`.

:func:`load_sweep` reads a sweep spec (TOML; the format is in ``docs/sweeps.md``),
:func:`run_sweep` runs its points through :func:`neurochip.sweep.point.run_point` and streams one
row per point to a CSV (or Parquet) table, so an interrupted sweep resumes where it stopped;
:func:`read_table` reads the table back and the ``plot_*`` functions draw it.

"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidParameterError
from ..parallel import Outcome, fan_out

__all__ = [
    "SweepSpec",
    "load_sweep",
    "run_sweep",
    "read_table",
    "pareto_front",
    "plot_xy",
    "plot_energy",
    "plot_rate",
    "plot_links",
    "plot_pareto",
]


# --------------------------------------------------------------------------- sweep specs

_SWEEP_KEYS = {"name", "description", "samples", "seed", "cache_dir"}


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepSpec:
    """A design-space sweep: fixed parameters, and axes varied on a grid or sampled at random.

    Attributes
    ----------
    name : str
    fixed : dict
        Parameters shared by every point (see :mod:`neurochip.sweep.point` for the names).
    axes : list of (names, rows)
        Grid axes: each a tuple of parameter names and a list of value tuples, one per step
        (a ``[zip]`` axis varies several names together).  The grid is their product.
    random : dict
        Random axes: name -> ``("choice", values)`` or ``("uniform"|"log", low, high)``.
    samples : int
        Points drawn when ``random`` is not empty.
    seed : int
        Seed of the random draw.
    source : str or None
        The file it was read from.
    """

    name: str = "sweep"
    fixed: dict[str, Any]
    axes: list[tuple[tuple[str, ...], list[tuple[Any, ...]]]]
    random: dict[str, tuple[Any, ...]]
    samples: int = 0
    seed: int = 0
    cache_dir: str | None = None
    source: str | None = None

    @property
    def input_names(self) -> list[str]:
        """Every parameter name a point carries, in a stable order."""
        names = list(self.fixed)
        for axis_names, _ in self.axes:
            names += [n for n in axis_names if n not in names]
        names += [n for n in self.random if n not in names]
        return names

    def points(self) -> list[dict[str, Any]]:
        """Every point of the sweep, in a reproducible order."""
        import itertools

        import numpy as np

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


def _value(v: Any) -> Any:
    """A TOML value as a number when it is one (``"10 ns"`` -> 1e-08), else unchanged."""
    from ..units import parse_quantity

    if isinstance(v, bool) or not isinstance(v, str):
        return v
    try:
        return parse_quantity(v)
    except (InvalidParameterError, ValueError):
        return v


def _range(table: dict[str, Any], where: str, source: str) -> list[Any]:
    import numpy as np

    from ..errors import ConfigError

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
    from ..errors import ConfigError

    if isinstance(raw, dict):
        return _range(raw, where, source)
    if isinstance(raw, list):
        if not raw:
            raise ConfigError("empty list of values", path=source, key=where)
        if any(isinstance(v, (list, dict)) for v in raw):
            raise ConfigError("values must be numbers or strings", path=source, key=where)
        return [_value(v) for v in raw]
    raise ConfigError(f"{raw!r}: expected a list of values or a range table {{from, to, num}}", path=source, key=where)


def sweep_from_dict(data: dict[str, Any], *, source: str | None = None) -> SweepSpec:
    """Build a :class:`SweepSpec` from the TOML layout; errors name the file and the key."""
    from ..errors import ConfigError
    from .point import check_point

    src = source or "<sweep>"
    unknown = set(data) - {"sweep", "fixed", "grid", "zip", "random"}
    if unknown:
        raise ConfigError(f"unknown table {sorted(unknown)[0]!r}: expected sweep, fixed, grid, zip, random", path=src)
    for t in ("sweep", "fixed", "grid", "zip", "random"):
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
    axes: list[tuple[tuple[str, ...], list[tuple[Any, ...]]]] = []
    for k, raw in data.get("grid", {}).items():
        axes.append(((k,), [(v,) for v in _values_of(raw, f"grid.{k}", src)]))
    zipped = data.get("zip", {})
    plain = {k: v for k, v in zipped.items() if not (isinstance(v, dict) and "from" not in v)}
    groups = [("zip", plain)] if plain else []
    groups += [(f"zip.{k}", v) for k, v in zipped.items() if k not in plain]
    for prefix, group in groups:
        cols = {k: _values_of(raw, f"{prefix}.{k}", src) for k, raw in group.items()}
        first = next(iter(cols))
        odd = next((k for k in cols if len(cols[k]) != len(cols[first])), None)
        if odd is not None:
            raise ConfigError(f"{len(cols[odd])} values, but {prefix}.{first} has {len(cols[first])}: zipped lists must "
                              "have equal lengths", path=src, key=f"{prefix}.{odd}")
        axes.append((tuple(cols), list(zip(*cols.values()))))
    random: dict[str, tuple[Any, ...]] = {}
    for k, raw in data.get("random", {}).items():
        where = f"random.{k}"
        if isinstance(raw, list):
            random[k] = ("choice", _values_of(raw, where, src))
        elif isinstance(raw, dict):
            if set(raw) - {"low", "high", "scale"} or not {"low", "high"} <= set(raw):
                raise ConfigError("a random range is a table {low, high, scale = 'linear'|'log'}", path=src, key=where)
            lo, hi, scale = _value(raw["low"]), _value(raw["high"]), raw.get("scale", "linear")
            if not (isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo <= hi):
                raise ConfigError(f"low, high = {raw['low']!r}, {raw['high']!r}: must be numbers with low <= high", path=src, key=where)
            if scale not in ("linear", "log") or (scale == "log" and lo <= 0):
                raise ConfigError(f"scale = {scale!r}: must be 'linear', or 'log' with low > 0", path=src, key=where)
            random[k] = ("log" if scale == "log" else "uniform", float(lo), float(hi))
        else:
            raise ConfigError(f"{raw!r}: expected a list of choices or a table {{low, high}}", path=src, key=where)
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
            key = next((f"{seen[k]}.{k}" for k in seen if repr(k) in str(exc) or str(exc).startswith(k)), None)
            raise ConfigError(str(exc), path=src, key=key) from None
    return spec


def load_sweep(path: str | Path) -> SweepSpec:
    """Read a sweep spec from a TOML file (format: ``docs/sweeps.md``).

    Raises
    ------
    ConfigError
        Naming the file and the key of a bad table, value or parameter name.
    """
    from .._spec import load_toml

    return sweep_from_dict(load_toml(path), source=str(path))


# --------------------------------------------------------------------------- result tables

def point_id(point: dict[str, Any]) -> str:
    """A stable identifier of a point's inputs (a hash of its names and values)."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(point, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _columns(spec: SweepSpec) -> list[str]:
    from .point import OUTPUT_COLUMNS

    return ["point_index", "point_id", *spec.input_names, *OUTPUT_COLUMNS]


def _csv_of(out: Path) -> Path:
    """The CSV the rows stream to: the output itself, or a sidecar of a Parquet file."""
    return out if out.suffix.lower() != ".parquet" else out.with_name(out.name + ".csv")


def _check_format(out: Path) -> None:
    from ..errors import ConfigError

    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ConfigError(f"unknown table format {suffix or '(none)'!r}: use .csv or .parquet", path=str(out))
    if suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ConfigError("writing Parquet needs pyarrow (pip install pyarrow); .csv works without it",
                              path=str(out)) from None


def _parse_cell(text: str) -> Any:
    if text == "":
        return ""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def read_table(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a sweep table (CSV or Parquet), numbers parsed, sorted by point index.

    Raises
    ------
    ConfigError
        When the file is missing or is not a sweep table.
    """
    import csv

    from ..errors import ConfigError

    p = Path(path)
    if not p.is_file():
        raise ConfigError("file not found", path=str(p))
    if p.suffix.lower() == ".parquet":
        _check_format(p)
        import pyarrow.parquet as pq

        rows = pq.read_table(p).to_pylist()
    else:
        with p.open(newline="") as fh:
            rows = [{k: _parse_cell(v) for k, v in r.items()} for r in csv.DictReader(fh)]
    if rows and ("point_id" not in rows[0] or "status" not in rows[0]):
        raise ConfigError("not a sweep table (no point_id / status columns)", path=str(p))
    return sorted(rows, key=lambda r: r["point_index"])


def input_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The input columns of a table (between ``point_id`` and ``status``)."""
    if not rows:
        return []
    cols = list(rows[0])
    return cols[cols.index("point_id") + 1 : cols.index("status")]


def _fit_job(job: tuple[str, dict[str, Any], dict[str, Any], str]) -> str:
    from .point import cached_fit

    circuit, overrides, options, cache_dir = job
    cached_fit(circuit, overrides, options, cache_dir)
    return "fitted"


def _point_job(job: tuple[dict[str, Any], str | None, str | None]) -> dict[str, Any]:
    from .point import run_point

    point, cache_dir, fit_error = job
    if fit_error is not None:
        raise RuntimeError(f"circuit fit failed: {fit_error}")
    return run_point(point, cache_dir=cache_dir)


@dataclass(frozen=True, slots=True)
class SweepSummary:
    """What :func:`run_sweep` did: points in the spec, skipped (already in the table), run, failed."""

    table: str
    points: int
    skipped: int
    ran: int
    failed: list[tuple[int, str]]
    fits: int
    wall_time_s: float


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> SweepSummary:
    """Run every point of a sweep not yet in the table ``out``, appending one row per point.

    Circuits are fitted first, once per distinct (circuit, parameters, fit options), into the
    fit cache; then the points run in parallel.  Each finished point is appended to the table at
    once (a failed point with ``status = "error"`` and its message), so an interrupted sweep
    resumes where it stopped: points whose ``point_id`` is already in the table are skipped.

    Parameters
    ----------
    spec : SweepSpec
    out : path
        ``.csv`` (always available) or ``.parquet`` (needs pyarrow; rows stream to a
        ``<out>.csv`` beside it, converted when the sweep ends).
    scheduler, n_workers, progress
        As in :func:`fan_out` (``n_workers=0``: serial, in this process).
    cache_dir : path, optional
        Folder of the circuit fit cache (default: the spec's ``cache_dir``, else
        ``.neurochip-cache`` in the current folder).

    Raises
    ------
    ConfigError
        When ``out`` has another format, or holds a table with other columns.
    """
    import csv
    import time

    from ..errors import ConfigError
    from .point import circuit_inputs, fit_key

    t0 = time.perf_counter()
    out = Path(out)
    _check_format(out)
    table = _csv_of(out)
    cache = str(cache_dir or spec.cache_dir or ".neurochip-cache")
    columns = _columns(spec)
    done: set[str] = set()
    if table.is_file() and table.stat().st_size > 0:
        _drop_partial_line(table)
        with table.open(newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames != columns:
                raise ConfigError("holds a table with other columns (another sweep?): choose another output file",
                                  path=str(table))
            done = {r["point_id"] for r in reader}
    else:
        table.parent.mkdir(parents=True, exist_ok=True)
        with table.open("w", newline="") as fh:
            csv.writer(fh).writerow(columns)
    points = spec.points()
    ids = [point_id(p) for p in points]
    todo = [k for k in range(len(points)) if ids[k] not in done]

    # stage 1: fit each distinct circuit once (a chip sweep does not refit it)
    fits: dict[str, tuple[str, dict[str, Any], dict[str, Any], str]] = {}
    key_of: dict[int, str] = {}
    for k in todo:
        ci = circuit_inputs(points[k])
        if ci is not None:
            key = fit_key(*ci)
            key_of[k] = key
            if not (Path(cache) / f"fit-{key}.json").is_file():
                fits[key] = (ci[0], ci[1], ci[2], cache)
    fit_errors: dict[str, str] = {}
    if fits:
        keys = list(fits)
        outcomes = fan_out(_fit_job, [fits[k] for k in keys], scheduler=scheduler, n_workers=n_workers,
                           progress=progress, description="circuit fits")
        fit_errors = {keys[o.index]: (o.error or "").splitlines()[0] for o in outcomes if not o.ok}

    # stage 2: the points, each row appended as soon as it is done
    failed: list[tuple[int, str]] = []
    with table.open("a", newline="") as fh:
        writer = csv.writer(fh)

        def write(o: Outcome) -> None:
            k = todo[o.index]
            if o.ok:
                row = o.value
            else:
                row = {"status": "error", "error": (o.error or "").splitlines()[0]}
                failed.append((k, row["error"]))
            full = {"point_index": k, "point_id": ids[k], **points[k], **row}
            writer.writerow([_cell(full.get(c, "")) for c in columns])
            fh.flush()

        jobs = [(points[k], cache, fit_errors.get(key_of.get(k, ""))) for k in todo]
        if jobs:
            fan_out(_point_job, jobs, scheduler=scheduler, n_workers=n_workers, progress=progress,
                    description=f"sweep {spec.name}", on_result=write)
    if out != table:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = read_table(table)
        pq.write_table(pa.Table.from_pylist(rows), out)
    return SweepSummary(table=str(out), points=len(points), skipped=len(points) - len(todo), ran=len(todo),
                        failed=sorted(failed), fits=len(fits), wall_time_s=time.perf_counter() - t0)


def _drop_partial_line(table: Path) -> None:
    """Cut a last row left half-written by a killed run (the file then ends without a newline)."""
    data = table.read_bytes()
    if data and not data.endswith(b"\n"):
        table.write_bytes(data[: data.rfind(b"\n") + 1])


def _cell(v: Any) -> Any:
    return repr(v) if isinstance(v, float) else v


# --------------------------------------------------------------------------- plots

def pareto_front(x: Sequence[float], y: Sequence[float], *, maximize_y: bool = False) -> list[int]:
    """Indices of the Pareto-optimal points: minimal ``x`` and minimal ``y`` (maximal with
    ``maximize_y``); no other point is at least as good on both and better on one.  Sorted by x."""
    import numpy as np

    xs = np.asarray(x, dtype=float)
    ys = -np.asarray(y, dtype=float) if maximize_y else np.asarray(y, dtype=float)
    keep = []
    for i in range(xs.size):
        if not (np.isfinite(xs[i]) and np.isfinite(ys[i])):
            continue
        dominated = (xs <= xs[i]) & (ys <= ys[i]) & ((xs < xs[i]) | (ys < ys[i]))
        if not dominated.any():
            keep.append(i)
    return sorted(keep, key=lambda i: (xs[i], ys[i]))


def _ok_rows(rows: list[dict[str, Any]], *cols: str) -> list[dict[str, Any]]:
    from ..errors import ConfigError

    if not rows:
        raise ConfigError("the table has no rows")
    for c in cols:
        if c and c not in rows[0]:
            raise ConfigError(f"no column {c!r}; columns: {', '.join(rows[0])}")
    return [r for r in rows if r["status"] == "ok"]


def _groups(rows: list[dict[str, Any]], color: str | None) -> list[tuple[str, list[dict[str, Any]]]]:
    if not color:
        return [("", rows)]
    values = sorted({r[color] for r in rows}, key=lambda v: (isinstance(v, str), v))
    return [(f"{color} = {_fmt(v)}", [r for r in rows if r[color] == v]) for v in values]


def _fmt(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _design_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The inputs that vary, less those fixed by an earlier one (the rest of a ``[zip]`` axis)."""
    kept: list[str] = []
    for c in input_columns(rows):
        if len({r[c] for r in rows}) < 2:
            continue
        if any(len({(r[k], r[c]) for r in rows}) == len({r[k] for r in rows}) for k in kept):
            continue
        kept.append(c)
    return kept


def _logx(ax: Any, rows: list[dict[str, Any]], x: str) -> None:
    """Log x axis when the values are positive and span a decade or more."""
    xs = [r[x] for r in rows if isinstance(r[x], (int, float))]
    if xs and min(xs) > 0 and max(xs) >= 10 * min(xs):
        ax.set_xscale("log")


def _figure(n: int = 1, width: float = 5.2) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n, figsize=(width * n, 3.8), squeeze=False)
    return plt, fig, list(axes[0])


def _save(plt: Any, fig: Any, out: str | Path) -> None:
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def _lines(ax: Any, rows: list[dict[str, Any]], x: str, y: str, color: str | None, **kw: Any) -> None:
    for label, group in _groups(rows, color):
        group = sorted(group, key=lambda r: r[x])
        ax.plot([r[x] for r in group], [r[y] for r in group], marker="o", ms=3, label=label or None, **kw)


def plot_xy(rows: list[dict[str, Any]], x: str, y: str, out: str | Path, *, color: str | None = None,
            logx: bool = False, logy: bool = False) -> None:
    """One column against another, one line per value of ``color``."""
    ok = _ok_rows(rows, x, y, color or "")
    plt, fig, (ax,) = _figure()
    _lines(ax, ok, x, y, color)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if color:
        ax.legend(fontsize=7)
    _save(plt, fig, out)


def plot_energy(rows: list[dict[str, Any]], out: str | Path, *, x: str = "input_rate_hz", color: str | None = None) -> None:
    """Power against ``x``, dynamic (activity-proportional) and static apart; and the energy per
    synaptic event, which falls with activity as the static power is amortised."""
    ok = _ok_rows(rows, x, color or "")
    plt, fig, (a1, a2) = _figure(2)
    for label, group in _groups(ok, color):
        group = sorted(group, key=lambda r: r[x])
        xs = [r[x] for r in group]
        tag = f" ({label})" if label else ""
        (line,) = a1.plot(xs, [r["power_dynamic_watt"] for r in group], marker="o", ms=3, label="dynamic" + tag)
        a1.plot(xs, [r["power_static_watt"] for r in group], ls="--", color=line.get_color(), label="static" + tag)
        a1.plot(xs, [r["power_total_watt"] for r in group], ls=":", color=line.get_color(), label="total" + tag)
        a2.plot(xs, [r["energy_per_synaptic_event_joule"] for r in group], marker="o", ms=3, label=label or None)
    _logx(a1, ok, x)
    _logx(a2, ok, x)
    a1.set_xlabel(x)
    a1.set_ylabel("power (W)")
    a1.set_yscale("log")
    a1.legend(fontsize=7)
    a1.set_title("power: activity-proportional and static")
    a2.set_xlabel(x)
    a2.set_ylabel("energy per synaptic event (J)")
    a2.set_yscale("log")
    a2.set_title("energy per synaptic event")
    if color:
        a2.legend(fontsize=7)
    _save(plt, fig, out)


def plot_rate(rows: list[dict[str, Any]], out: str | Path, *, x: str = "input_rate_hz", color: str | None = None) -> None:
    """Mean and maximum firing rate against ``x``, with the 1/t_ref ceiling."""
    ok = _ok_rows(rows, x, color or "")
    plt, fig, (ax,) = _figure()
    for label, group in _groups(ok, color):
        group = sorted(group, key=lambda r: r[x])
        xs = [r[x] for r in group]
        tag = f" ({label})" if label else ""
        (line,) = ax.plot(xs, [r["rate_mean_hz"] for r in group], marker="o", ms=3, label="mean rate" + tag)
        ax.plot(xs, [r["rate_max_hz"] for r in group], ls="--", color=line.get_color(), label="max rate" + tag)
        ax.plot(xs, [r["rate_ceiling_hz"] for r in group], ls=":", color=line.get_color(), label="ceiling 1/t_ref" + tag)
    _logx(ax, ok, x)
    ax.set_xlabel(x)
    ax.set_ylabel("firing rate (Hz)")
    ax.legend(fontsize=7)
    _save(plt, fig, out)


def plot_links(rows: list[dict[str, Any]], out: str | Path, *, x: str = "input_rate_hz", color: str | None = None) -> None:
    """Peak link utilisation (offered packets / bandwidth) against ``x``, with the bandwidth
    ceiling at 1; above it the offered load exceeds what the link can carry."""
    ok = _ok_rows(rows, x, color or "")
    plt, fig, (ax,) = _figure()
    _lines(ax, ok, x, "link_utilisation_max", color)
    ax.axhline(1.0, color="k", ls="--", lw=1, label="link bandwidth (utilisation = 1)")
    _logx(ax, ok, x)
    ax.set_xlabel(x)
    ax.set_ylabel("peak link utilisation (offered / bandwidth)")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    _save(plt, fig, out)


def plot_pareto(rows: list[dict[str, Any]], out: str | Path, *, x: str = "energy_per_synaptic_event_joule",
                y: str = "latency_mean_s", color: str | None = None, label: Sequence[str] | None = None,
                maximize_y: bool | None = None) -> list[dict[str, Any]]:
    """Every design as a point, the Pareto front (minimal x, minimal or maximal y) drawn and its
    points labelled with their ``label`` columns (default: the inputs that vary).

    ``maximize_y`` defaults to True for a throughput column (a name with ``throughput`` or
    ending in ``per_s``).  Returns the front's rows.
    """
    ok = _ok_rows(rows, x, y, color or "", *(label or []))
    if maximize_y is None:
        maximize_y = "throughput" in y or y.endswith("per_s")
    if label is None:
        label = _design_columns(rows)
    front = pareto_front([r[x] for r in ok], [r[y] for r in ok], maximize_y=maximize_y)
    plt, fig, (ax,) = _figure(width=7.5)
    for text, group in _groups(ok, color):
        ax.scatter([r[x] for r in group], [r[y] for r in group], s=14, alpha=0.6, label=text or "designs")
    fx = [ok[i][x] for i in front]
    fy = [ok[i][y] for i in front]
    ax.plot(fx, fy, "k-", lw=1, marker="o", mfc="none", ms=8, label="Pareto front")
    for i in front:
        text = ", ".join(f"{c.rsplit('.', 1)[-1]}={_fmt(ok[i][c])}" for c in label)
        ax.annotate(text, (ok[i][x], ok[i][y]), fontsize=7, xytext=(6, 2), textcoords="offset points",
                    annotation_clip=False)
    ax.set_xlabel(x)
    ax.set_ylabel(y + (" (higher is better)" if maximize_y else ""))
    ax.legend(fontsize=7)
    _save(plt, fig, out)
    return [ok[i] for i in front]
