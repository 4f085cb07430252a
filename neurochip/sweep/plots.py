"""Plots of a sweep's result table, and the Pareto front of two of its columns.

Every ``plot_*`` function takes the rows of :func:`neurochip.sweep.read_table`, draws the rows
whose ``status`` is ``ok`` and writes a PNG (or any format matplotlib knows from the suffix)
through :func:`neurochip._display.save_figure`, which closes the figure and turns an unwritable
path into a :class:`~neurochip.errors.ConfigError` naming it.  Columns are in SI units, as in the
table; axes are labelled with the column names.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._display import pyplot, save_figure
from ..errors import ConfigError
from .table import input_columns

__all__ = ["pareto_front", "plot_xy", "plot_energy", "plot_rate", "plot_links", "plot_pareto"]

Rows = list[dict[str, Any]]


def pareto_front(x: Sequence[float], y: Sequence[float], *, maximize_y: bool = False) -> list[int]:
    """Indices of the Pareto-optimal points: minimal ``x`` and minimal (or maximal) ``y``.

    A point is on the front when no other point is at least as good on both and better on one.
    Points with a non-finite coordinate are never on it.

    Parameters
    ----------
    x, y : sequence of float, shape (n,)
        The two objectives of each point (any units; ``x`` is minimised).
    maximize_y : bool
        Maximise ``y`` (a throughput) instead of minimising it (a latency).

    Returns
    -------
    list of int
        Indices into ``x``/``y`` of the front, sorted by ``x``.

    Examples
    --------
    >>> pareto_front([1, 2, 3, 2], [3, 1, 2, 2])
    [0, 1]
    >>> pareto_front([1, 2, 3], [1, 3, 2], maximize_y=True)
    [0, 1]
    """
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


def _ok_rows(rows: Rows, *cols: str) -> Rows:
    if not rows:
        raise ConfigError("the table has no rows")
    for c in cols:
        if c and c not in rows[0]:
            raise ConfigError(f"no column {c!r}; columns: {', '.join(rows[0])}")
    return [r for r in rows if r["status"] == "ok"]


def _groups(rows: Rows, color: str | None) -> list[tuple[str, Rows]]:
    if not color:
        return [("", rows)]
    values = sorted({r[color] for r in rows}, key=lambda v: (isinstance(v, str), v))
    return [(f"{color} = {_fmt(v)}", [r for r in rows if r[color] == v]) for v in values]


def _fmt(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _design_columns(rows: Rows) -> list[str]:
    """The inputs that vary, less those fixed by an earlier one (the rest of a ``[zip]`` axis)."""
    kept: list[str] = []
    for c in input_columns(rows):
        if len({r[c] for r in rows}) < 2:
            continue
        if any(len({(r[k], r[c]) for r in rows}) == len({r[k] for r in rows}) for k in kept):
            continue
        kept.append(c)
    return kept


def _logx(ax: Any, rows: Rows, x: str) -> None:
    """Log x axis when the values are positive and span a decade or more."""
    xs = [r[x] for r in rows if isinstance(r[x], (int, float))]
    if xs and min(xs) > 0 and max(xs) >= 10 * min(xs):
        ax.set_xscale("log")


def _figure(n: int = 1, width: float = 5.2) -> tuple[Any, list[Any]]:
    """A figure of ``n`` panels side by side, laid out tight when saved, at 90 dpi."""
    fig, axes = pyplot().subplots(1, n, figsize=(width * n, 3.8), dpi=90, squeeze=False, layout="tight")
    return fig, list(axes[0])


def _lines(ax: Any, rows: Rows, x: str, y: str, color: str | None) -> None:
    """One line of ``y`` against ``x`` per group of ``color``."""
    for label, group in _groups(rows, color):
        group = sorted(group, key=lambda r: r[x])
        ax.plot([r[x] for r in group], [r[y] for r in group], marker="o", ms=3, label=label or None)


def _line_sets(ax: Any, rows: Rows, x: str, color: str | None, columns: list[tuple[str, str]]) -> None:
    """Per group of ``color``, one set of lines in one colour: the first of ``columns`` (column,
    legend name) solid with markers, the second dashed, the third dotted."""
    for label, group in _groups(rows, color):
        group = sorted(group, key=lambda r: r[x])
        xs = [r[x] for r in group]
        tag = f" ({label})" if label else ""
        (col, name), *rest = columns
        (line,) = ax.plot(xs, [r[col] for r in group], marker="o", ms=3, label=name + tag)
        for (col, name), ls in zip(rest, ("--", ":")):
            ax.plot(xs, [r[col] for r in group], ls=ls, color=line.get_color(), label=name + tag)


def plot_xy(rows: Rows, x: str, y: str, out: str | Path, *, color: str | None = None,
            logx: bool = False, logy: bool = False) -> None:
    """One column against another, one line per value of ``color``.

    Parameters
    ----------
    rows : list of dict
        The table (:func:`neurochip.sweep.read_table`); failed points are left out.
    x, y : str
        Column names (SI units, as in the table).
    out : str or Path
        The image file to write.
    color : str, optional
        A column: one line per distinct value, with a legend.
    logx, logy : bool
        Logarithmic axes.

    Raises
    ------
    ConfigError
        When the table has no rows, a column is missing, or ``out`` cannot be written.
    """
    ok = _ok_rows(rows, x, y, color or "")
    fig, (ax,) = _figure()
    _lines(ax, ok, x, y, color)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if color:
        ax.legend(fontsize=7)
    save_figure(fig, str(out))


def plot_energy(rows: Rows, out: str | Path, *, x: str = "input_rate_hz", color: str | None = None) -> None:
    """Power against ``x``, dynamic and static apart; and the energy per synaptic event.

    The left panel shows the activity-proportional (dynamic), static and total power (W); the
    right one the energy per synaptic event (J), which falls with activity as the static power
    is amortised over more events.

    Parameters
    ----------
    rows : list of dict
        The table (:func:`neurochip.sweep.read_table`); failed points are left out.
    out : str or Path
        The image file to write.
    x : str
        The activity on the x axis: default the Poisson input rate (Hz), or e.g.
        ``rate_mean_hz``; logarithmic when its values span a decade.
    color : str, optional
        A design column (e.g. ``core.neurons``): per distinct value, its three power lines in
        one colour and its own energy line.

    Raises
    ------
    ConfigError
        When the table has no rows, a column is missing, or ``out`` cannot be written.
    """
    ok = _ok_rows(rows, x, color or "")
    fig, (a1, a2) = _figure(2)
    _line_sets(a1, ok, x, color, [("power_dynamic_watt", "dynamic"), ("power_static_watt", "static"),
                                   ("power_total_watt", "total")])
    _lines(a2, ok, x, "energy_per_synaptic_event_joule", color)
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
    save_figure(fig, str(out))


def plot_rate(rows: Rows, out: str | Path, *, x: str = "input_rate_hz", color: str | None = None) -> None:
    """Mean and maximum firing rate (Hz) against ``x``, with the 1/t_ref ceiling.

    Parameters
    ----------
    rows : list of dict
        The table (:func:`neurochip.sweep.read_table`); failed points are left out.
    out : str or Path
        The image file to write.
    x : str
        The drive on the x axis: default the Poisson input rate (Hz), or e.g. ``input_drive``
        (relative to the threshold gap); logarithmic when its values span a decade.
    color : str, optional
        A neuron column (e.g. ``lif.t_ref_s``, which moves the ceiling): per distinct value,
        its mean, maximum and ceiling lines in one colour.

    Raises
    ------
    ConfigError
        When the table has no rows, a column is missing, or ``out`` cannot be written.
    """
    ok = _ok_rows(rows, x, color or "")
    fig, (ax,) = _figure()
    _line_sets(ax, ok, x, color, [("rate_mean_hz", "mean rate"), ("rate_max_hz", "max rate"),
                                  ("rate_ceiling_hz", "ceiling 1/t_ref")])
    _logx(ax, ok, x)
    ax.set_xlabel(x)
    ax.set_ylabel("firing rate (Hz)")
    ax.legend(fontsize=7)
    save_figure(fig, str(out))


def plot_links(rows: Rows, out: str | Path, *, x: str = "input_rate_hz", color: str | None = None) -> None:
    """Peak link utilisation against ``x``, with the bandwidth ceiling at 1.

    Utilisation is the time the busiest link spent serialising over the run's duration (routed
    runs) or the offered packets over the bandwidth (``run.route = false``); above 1 the offered
    load exceeds what the link can carry.

    Parameters
    ----------
    rows : list of dict
        The table (:func:`neurochip.sweep.read_table`); failed points are left out.
    out : str or Path
        The image file to write.
    x : str
        The load on the x axis: default the Poisson input rate (Hz), or e.g. ``spikes_per_s``;
        logarithmic when its values span a decade.
    color : str, optional
        A router column (e.g. ``router.link_bandwidth_hz``): one line per distinct value.

    Raises
    ------
    ConfigError
        When the table has no rows, a column is missing, or ``out`` cannot be written.
    """
    ok = _ok_rows(rows, x, color or "")
    fig, (ax,) = _figure()
    _lines(ax, ok, x, "link_utilisation_max", color)
    ax.axhline(1.0, color="k", ls="--", lw=1, label="link bandwidth (utilisation = 1)")
    _logx(ax, ok, x)
    ax.set_xlabel(x)
    ax.set_ylabel("peak link utilisation (offered / bandwidth)")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    save_figure(fig, str(out))


def plot_pareto(rows: Rows, out: str | Path, *, x: str = "energy_per_synaptic_event_joule",
                y: str = "latency_mean_s", color: str | None = None, label: Sequence[str] | None = None,
                maximize_y: bool | None = None) -> Rows:
    """Every design as a point, and the Pareto front of ``x`` against ``y`` drawn and labelled.

    Parameters
    ----------
    rows : list of dict
        The table (:func:`neurochip.sweep.read_table`); failed points are left out.
    out : str or Path
        The image file to write.
    x : str
        The column minimised (default the energy per synaptic event, J).
    y : str
        The column minimised, or maximised with ``maximize_y`` (default the mean network
        latency, s).
    color : str, optional
        A column: one colour of points per distinct value.
    label : sequence of str, optional
        Columns whose values label the front's points (default: the inputs that vary, one per
        zipped axis).
    maximize_y : bool, optional
        Maximise ``y``; default True for a throughput column (a name holding ``throughput`` or
        ending in ``per_s``).

    Returns
    -------
    list of dict
        The rows on the front, sorted by ``x``.

    Raises
    ------
    ConfigError
        When the table has no rows, a column is missing, or ``out`` cannot be written.
    """
    ok = _ok_rows(rows, x, y, color or "", *(label or []))
    if maximize_y is None:
        maximize_y = "throughput" in y or y.endswith("per_s")
    if label is None:
        label = _design_columns(rows)
    front = pareto_front([r[x] for r in ok], [r[y] for r in ok], maximize_y=maximize_y)
    fig, (ax,) = _figure(width=7.5)
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
    save_figure(fig, str(out))
    return [ok[i] for i in front]
