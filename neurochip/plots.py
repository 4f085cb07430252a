"""Figures for a design review: a run on a chip (raster, energy, mesh maps) and a silicon neuron.

Each ``plot_*`` function draws one figure from the objects the engines return (a
:class:`~neurochip.report.RunRecord`, a :class:`~neurochip.mapping.Mapping`, a SPICE
:class:`~neurochip.circuit.simulate.Trace`, a :class:`~neurochip.circuit.fit.FitResult`),
writes it through :func:`neurochip._display.save_figure` (Agg backend, matplotlib imported on
first use; an unwritable path is a :class:`~neurochip.errors.ConfigError`) and returns the data
it drew, so that a test can check what the figure shows rather than its pixels.  The ``draw_*``
and :func:`sample_neurons` functions are the pieces they share; the CLI calls the ``plot_*``
functions and nothing else of this module.

- **raster**: neurons sampled evenly inside every population (proportionally to its size, with a
  minimum per population so that a small one still shows), one colour per population, the
  population boundaries marked, real neuron ids on the y axis, time in ms;
- **energy**: dynamic energy by operation and static energy on a log axis (a zero term is
  written "0 J", not dropped), beside a mesh map of the dynamic energy of every core;
- **mesh maps** (link load, link utilisation, energy per core): each core a cell at its integer
  coordinates (x, y) with its outgoing links as arrows, cores without neurons hatched and named
  in the legend, a colour bar with the unit;
- **circuit traces**: the membrane with the threshold and reset as horizontal lines (declared
  by the netlist, or fitted) and the detected spikes marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._display import pyplot, save_figure
from .plots_circuit import draw_trace, plot_fit, plot_trace
from .units import format_si

__all__ = [
    "sample_neurons",
    "draw_raster",
    "plot_raster",
    "draw_energy",
    "plot_energy",
    "draw_mesh",
    "plot_mapping",
    "plot_traffic",
    "draw_trace",
    "plot_trace",
    "plot_fit",
]

#: Colour of a core without neurons (hatched) on every mesh map.
UNUSED_COLOR = "0.86"
#: Largest mesh (cores) drawn with link arrows; larger meshes show the cores only.
MAX_CORES_WITH_LINKS = 1024


# ---------------------------------------------------------------------------------------------
# raster


def sample_neurons(
    bounds: Sequence[tuple[int, int]], *, max_neurons: int = 500, min_per_population: int = 20
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Neurons to show in a raster: evenly spaced inside every population.

    Each population gets its share of ``max_neurons`` in proportion to its size, but never
    fewer than ``min(size, min_per_population)``; the populations held at their minimum leave
    the rest of the budget to the others, again in proportion to size.  Everything is shown
    when the network has at most ``max_neurons`` neurons.

    Parameters
    ----------
    bounds : sequence of (int, int)
        First and one-past-last neuron id of each population, in order, non-overlapping.
    max_neurons : int
        Most neurons sampled, >= number of populations (at least one per population).
    min_per_population : int
        Neurons every population keeps (fewer if it is smaller), >= 1; lowered to
        ``max_neurons // n_populations`` when the minima alone would exceed the budget.

    Returns
    -------
    ids : ndarray of int64, shape (k,)
        Sampled neuron ids, increasing (the real ids of the network).
    population : ndarray of int64, shape (k,)
        Index into ``bounds`` of each sampled neuron's population.

    Examples
    --------
    800 excitatory, 200 inhibitory and 5 readout neurons in a budget of 100:

    >>> ids, pop = sample_neurons([(0, 800), (800, 1000), (1000, 1005)], max_neurons=100,
    ...                           min_per_population=10)
    >>> np.bincount(pop).tolist(), ids[:3].tolist(), ids[-5:].tolist()
    ([76, 19, 5], [0, 11, 21], [1000, 1001, 1002, 1003, 1004])
    """
    sizes = np.array([hi - lo for lo, hi in bounds], dtype=np.int64)
    if sizes.sum() <= max_neurons:
        counts = sizes.copy()
    else:
        # water-filling: a population whose proportional share is below its minimum gets the
        # minimum, and the others share what is left in proportion to their sizes
        floor = max(1, min(min_per_population, max_neurons // max(len(sizes), 1)))
        minimum = np.minimum(sizes, floor)
        counts = np.zeros_like(sizes)
        fixed = np.zeros(sizes.size, dtype=bool)
        while True:
            rest = ~fixed
            budget = max_neurons - int(counts[fixed].sum())
            share = np.zeros(sizes.size)
            if sizes[rest].sum() > 0:
                share[rest] = budget * sizes[rest] / sizes[rest].sum()
            low = rest & (share < minimum)
            if not low.any():
                break
            counts[low] = minimum[low]
            fixed |= low
        counts[rest] = np.floor(share[rest]).astype(np.int64)
    ids, pop = [], []
    for k, ((lo, hi), c) in enumerate(zip(bounds, counts)):
        if c > 0:
            picked = np.floor(np.linspace(lo, hi - 1, int(c)) + 0.5).astype(np.int64)
            ids.append(picked)
            pop.append(np.full(picked.size, k, dtype=np.int64))
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(ids), np.concatenate(pop)


def _population_bounds(record: Any) -> list[tuple[str, int, int]]:
    """(name, first, one-past-last) of every non-empty population of a run record."""
    n = record.n_neurons
    names = list(record.population_names)
    offsets = [int(o) for o in np.asarray(record.population_offsets)[: len(names)]]
    if not names or len(offsets) < len(names):
        return [("all", 0, n)]
    ends = offsets[1:] + [n]
    return [(name, lo, hi) for name, lo, hi in zip(names, offsets, ends) if hi > lo]


def draw_raster(ax: Any, record: Any, *, max_neurons: int = 500, min_per_population: int = 20) -> dict[str, Any]:
    """Draw a spike raster of neurons sampled across every population on ``ax``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    record : RunRecord
        The run; its ``population_names`` and ``population_offsets`` give the populations.
    max_neurons, min_per_population : int
        The sample's budget (see :func:`sample_neurons`).

    Returns
    -------
    dict of str to object
        ``neuron_ids`` (sampled ids, increasing), ``population`` (population index of each),
        ``populations`` (name, first id, one-past-last id), ``colors`` (one per population),
        ``rows`` (y of each sampled neuron: its rank in the sample), ``n_neurons`` and
        ``events_shown``.  The spikes of population ``k`` are the line with gid
        ``raster-k``.
    """
    pops = _population_bounds(record)
    ids, pop = sample_neurons([(lo, hi) for _, lo, hi in pops], max_neurons=max_neurons,
                              min_per_population=min_per_population)
    row_of = np.full(record.n_neurons, -1, dtype=np.int64)
    row_of[ids] = np.arange(ids.size)
    ev = record.events
    rows = row_of[ev["address"]] if ev.size else np.zeros(0, np.int64)
    shown = rows >= 0
    t_ms, rows = ev["time_s"][shown] * 1e3, rows[shown]
    ev_pop = pop[rows]
    rates = record.rates_hz()
    colors = [f"C{k % 10}" for k in range(len(pops))]
    ms = 4.0 if ids.size <= 60 else 2.0
    for k, (name, lo, hi) in enumerate(pops):
        sel = ev_pop == k
        n_k = int(np.count_nonzero(pop == k))
        ax.plot(t_ms[sel], rows[sel], linestyle="none", marker="|", ms=ms, mew=0.6, color=colors[k], gid=f"raster-{k}",
                label=f"{name}: ids {lo}-{hi - 1}, {n_k} of {hi - lo} shown, mean {format_si(rates[lo:hi].mean(), 'Hz')}")
        first = int(np.searchsorted(pop, k))
        if first > 0:
            ax.axhline(first - 0.5, color="0.3", lw=0.8, ls="--")
    starts = [int(np.searchsorted(pop, k)) for k in range(len(pops)) if np.any(pop == k)]
    ticks = sorted(set(starts) | {ids.size - 1} if ids.size else set())
    ax.set_yticks(ticks, [str(int(ids[r])) for r in ticks])
    ax.set_ylim(-0.5, max(ids.size - 0.5, 0.5))
    ax.set_xlim(0, record.duration_s * 1e3)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(f"neuron id ({ids.size} of {record.n_neurons} sampled)")
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.14), fontsize=8, frameon=False, markerscale=3)
    return {"neuron_ids": ids, "population": pop, "populations": pops, "colors": colors,
            "rows": np.arange(ids.size), "n_neurons": record.n_neurons, "events_shown": int(rows.size)}


def plot_raster(record: Any, path: str, *, max_neurons: int = 500, min_per_population: int = 20) -> dict[str, Any]:
    """Spike raster of a run, sampled across every population, written to ``path``.

    Parameters
    ----------
    record : RunRecord
        The run.
    path : str
        Image file to write (PNG, or any format matplotlib knows from the suffix).
    max_neurons, min_per_population : int
        The sample's budget (see :func:`sample_neurons`).

    Returns
    -------
    dict of str to object
        What :func:`draw_raster` drew.
    """
    plt = pyplot()
    n_pops = len(_population_bounds(record))
    fig, ax = plt.subplots(figsize=(8, 4.6 + 0.22 * n_pops), dpi=120)
    data = draw_raster(ax, record, max_neurons=max_neurons, min_per_population=min_per_population)
    ax.set_title(f"spike raster on {record.chip.name}: {data['neuron_ids'].size} of {record.n_neurons} neurons, "
                 "evenly spaced in each population", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)
    return data


# ---------------------------------------------------------------------------------------------
# mesh maps


def _core_label(c: int, width: int) -> str:
    return f"({c % width}, {c // width})"


def draw_mesh(
    ax: Any,
    chip: Any,
    *,
    used_cores: ArrayLike,
    core_value: ArrayLike | None = None,
    link_value: ArrayLike | None = None,
    label: str = "",
    unit: str = "",
    cmap: str = "viridis",
) -> dict[str, Any]:
    """Draw a chip's mesh on ``ax``: one cell per core at (x, y), its outgoing links as arrows.

    The colour scale (with a colour bar) shows ``core_value`` on the cells or ``link_value``
    on the link arrows; cores without neurons are grey and hatched, and listed in the legend.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    chip : ChipSpec
        Gives the mesh (core ``(x, y)`` has index ``y * width + x``).
    used_cores : array_like of int
        Indices of the cores holding neurons; every other core is drawn as unused.
    core_value : array_like of float, shape (n_cores,), optional
        A value per core (e.g. energy, J) that colours the cells.
    link_value : array_like of float, shape (n_cores, 4), optional
        A value per outgoing link in :data:`~neurochip.mesh.LINKS` order (east, west,
        north, south) that colours the arrows; links off the edge of the mesh are not drawn.
    label, unit : str
        Quantity and unit of the colour bar, ``"label (unit)"``.
    cmap : str
        Matplotlib colour map of the values.

    Returns
    -------
    dict of str to object
        ``unused_cores`` (sorted indices), ``used_cores``, ``vmax`` (top of the colour
        scale), ``links_drawn`` (number of arrows).  The unused cells are the collection with
        gid ``unused-cores``, the used ones ``used-cores``, the arrows ``links``.

    Examples
    --------
    >>> from neurochip.chip import load_chip
    >>> from neurochip._display import pyplot
    >>> fig, ax = pyplot().subplots()
    >>> chip = load_chip("generic")  # 4 x 4 cores
    >>> drawn = draw_mesh(ax, chip, used_cores=[0, 1, 4, 5], core_value=np.arange(16.0), unit="J")
    >>> len(drawn["unused_cores"]), drawn["links_drawn"], drawn["vmax"]  # 2 * 2 * 4 * 3 links
    (12, 48, 15.0)
    >>> pyplot().close(fig)
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import PatchCollection
    from matplotlib.colors import Normalize
    from matplotlib.patches import Patch, Rectangle
    from matplotlib.ticker import EngFormatter, MaxNLocator

    w, h = chip.mesh.width, chip.mesh.height
    n = w * h
    used = np.zeros(n, dtype=bool)
    used[np.asarray(used_cores, dtype=np.int64)] = True
    xs, ys = np.arange(n) % w, np.arange(n) // w
    values = core_value if core_value is not None else link_value
    vmax = float(np.max(values)) if values is not None and np.size(values) else 0.0
    norm = Normalize(0.0, vmax if vmax > 0 else 1.0)
    colormap = pyplot().get_cmap(cmap)
    cell = 0.56 if n <= MAX_CORES_WITH_LINKS else 0.92

    def cells(which: NDArray[np.bool_]) -> list[Any]:
        return [Rectangle((x - cell / 2, y - cell / 2), cell, cell) for x, y in zip(xs[which], ys[which])]

    if core_value is not None:
        faces = colormap(norm(np.asarray(core_value, dtype=float)[used]))
    else:
        faces = "white"
    ax.add_collection(PatchCollection(cells(used), facecolor=faces, edgecolor="0.25", linewidth=0.8, gid="used-cores"))
    ax.add_collection(PatchCollection(cells(~used), facecolor=UNUSED_COLOR, edgecolor="0.55", linewidth=0.8,
                                      hatch="///", gid="unused-cores"))
    links_drawn = 0
    if n <= MAX_CORES_WITH_LINKS:
        # east/west arrows in the upper/lower lane between two cells, north/south in the left/right lane
        lane, gap = 0.13, cell / 2
        step = {0: (1, 0), 1: (-1, 0), 2: (0, 1), 3: (0, -1)}
        offset = {0: (0, lane), 1: (0, -lane), 2: (-lane, 0), 3: (lane, 0)}
        x0, y0, dx, dy, val = [], [], [], [], []
        lv = np.asarray(link_value, dtype=float) if link_value is not None else None
        for c in range(n):
            for d, (sx, sy) in step.items():
                if not (0 <= xs[c] + sx < w and 0 <= ys[c] + sy < h):
                    continue
                x0.append(xs[c] + sx * gap + offset[d][0])
                y0.append(ys[c] + sy * gap + offset[d][1])
                dx.append(sx * (1 - 2 * gap))
                dy.append(sy * (1 - 2 * gap))
                val.append(lv[c, d] if lv is not None else 0.0)
        links_drawn = len(x0)
        if links_drawn:
            kw: dict[str, Any] = dict(angles="xy", scale_units="xy", scale=1, pivot="tail", gid="links",
                                      width=0.045 / max(w, h) ** 0.5 / 4, headwidth=3.5, headlength=3.5, headaxislength=3)
            if lv is not None:
                ax.quiver(x0, y0, dx, dy, val, cmap=colormap, norm=norm, edgecolor="0.2", linewidth=0.3, **kw)
            else:
                ax.quiver(x0, y0, dx, dy, color="0.6", **kw)
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(-0.5, h - 0.5)
    ax.set_aspect("equal")
    for axis, size in ((ax.xaxis, w), (ax.yaxis, h)):
        if size <= 16:
            axis.set_ticks(range(size))
        else:
            axis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("core x")
    ax.set_ylabel("core y")
    unused = np.flatnonzero(~used)
    names = ", ".join(_core_label(int(c), w) for c in unused[:6]) + (f", ... (+{unused.size - 6})" if unused.size > 6 else "")
    handles = [Patch(facecolor="white" if core_value is None else colormap(0.6), edgecolor="0.25",
                     label=f"core with neurons ({int(used.sum())})")]
    if unused.size:
        handles.append(Patch(facecolor=UNUSED_COLOR, edgecolor="0.55", hatch="///",
                             label=f"unused core, no neurons ({unused.size}): {names}"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=8, frameon=False)
    if values is not None:
        sm = ScalarMappable(norm=norm, cmap=colormap)
        text = (f"{label} ({unit})" if unit else label) + (": all zero" if vmax == 0 else "")
        bar = ax.figure.colorbar(sm, ax=ax, label=text, shrink=0.85)
        if vmax == 0:  # a scale of 0 to 1 would suggest values nobody measured
            bar.set_ticks([0.0])
        if unit in ("J", "W", "Hz"):  # SI prefixes on the ticks: 250 µJ, not 0.00025
            bar.ax.yaxis.set_major_formatter(EngFormatter(unit=unit))
    return {"unused_cores": unused.tolist(), "used_cores": np.flatnonzero(used).tolist(), "vmax": vmax,
            "links_drawn": links_drawn}


def _mesh_figure(chip: Any, title: str, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
    w, h = chip.mesh.width, chip.mesh.height
    scale = min(1.0, 9.0 / max(w, h))  # cells of about 0.55 in, a figure of at most ~11 x 10 in
    fig, ax = pyplot().subplots(figsize=(3.2 + 0.55 * w * scale + 1.6, 1.8 + 0.55 * h * scale + 1.0), dpi=120)
    data = draw_mesh(ax, chip, **kwargs)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig, data


def plot_mapping(mapping: Any, path: str) -> dict[str, Any]:
    """Expected load of every link of a mapping over the mesh, written to ``path``.

    Parameters
    ----------
    mapping : Mapping
        Its ``link_load`` colours the link arrows (packets/s when rates were given, else
        packets per network-wide spike round); cores with ``core_neurons == 0`` are unused.
    path : str
        Image file to write.

    Returns
    -------
    dict of str to object
        What :func:`draw_mesh` drew: ``vmax`` is the busiest link's expected load, and
        ``unused_cores`` the cores the mapping put no neuron on.
    """
    chip = mapping.chip
    unit = "packets/s" if mapping.rates_given else "packets per spike round"
    fig, data = _mesh_figure(chip, f"expected link load on {chip.name} ({mapping.cores_used} of {chip.n_cores} cores used)",
                             used_cores=np.flatnonzero(mapping.core_neurons), link_value=mapping.link_load,
                             label="link load", unit=unit, cmap="magma_r")
    save_figure(fig, path)
    return data


def plot_traffic(record: Any, path: str) -> dict[str, Any]:
    """Utilisation of every link over a run (packets / (bandwidth x chip time)), written to ``path``.

    Parameters
    ----------
    record : RunRecord
        The run; cores holding none of its neurons are drawn as unused.
    path : str
        Image file to write.

    Returns
    -------
    dict of str to object
        What :func:`draw_mesh` drew: ``vmax`` is the busiest link's busy fraction
        (:meth:`~neurochip.report.RunRecord.link_utilisation`).
    """
    util = record.link_utilisation()
    used = np.unique(record.neuron_core)
    fig, data = _mesh_figure(record.chip, f"link utilisation on {record.chip.name}: busiest link "
                             f"{float(util.max()) if util.size else 0.0:.3%} of bandwidth",
                             used_cores=used, link_value=util, label="link utilisation",
                             unit="packets / (bandwidth x T)", cmap="magma_r")
    save_figure(fig, path)
    return data


# ---------------------------------------------------------------------------------------------
# energy


def draw_energy(ax: Any, data: dict[str, Any]) -> dict[str, float]:
    """Draw energy by operation and static energy as bars on a log axis on ``ax``.

    A term that is zero has no bar (a log axis has no zero) but keeps its row, labelled
    "0 J".

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    data : dict
        The dict of :func:`neurochip.report.energy_report` (``by_operation_joule``,
        ``static_joule``, ``counts``, ``n_cores_powered``, ``total_joule``).

    Returns
    -------
    dict of str to float
        The bars drawn, J: each operation, then ``static``, top to bottom; the bars are the
        patches with gid ``energy-bars`` in that order (zero terms have width 0).
    """
    from matplotlib.patches import Patch

    bars = dict(data["by_operation_joule"])
    bars["static"] = data["static_joule"]
    names = list(bars)
    values = np.array([bars[k] for k in names], dtype=float)
    total = float(data["total_joule"])
    positive = values[values > 0]
    colors = ["C0"] * (len(names) - 1) + ["C3"]
    rows = np.arange(len(names))[::-1]
    ax.barh(rows, values, color=colors, height=0.6, gid="energy-bars")
    labels = [f"{k} ({data['counts'][k]:,.0f})" for k in names[:-1]] + [f"static ({data['n_cores_powered']} cores)"]
    ax.set_yticks(rows, labels, fontsize=8)
    if positive.size:
        lo, hi = positive.min() / 10, positive.max() * 30
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
    else:
        lo, hi = 0.0, 1.0
        ax.set_xlim(lo, hi)
    for r, v in zip(rows, values):
        share = 100 * v / total if total > 0 else 0.0
        text = f"{format_si(v, 'J')}  {share:.3g} %" if v > 0 else "0 J"
        ax.text(v * 1.15 if v > 0 else lo * 1.15 if lo > 0 else 0.01, r, text, va="center", fontsize=8)
    ax.set_xlabel("energy (J, log scale)" if positive.size else "energy (J)")
    ax.grid(axis="x", alpha=0.3, which="major")
    ax.legend(handles=[Patch(color="C0", label=f"dynamic (activity): {format_si(data['dynamic_joule'], 'J')}"),
                       Patch(color="C3", label=f"static (leakage, clock): {format_si(data['static_joule'], 'J')}")],
              loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=8, frameon=False, ncol=1)
    return bars


def plot_energy(record: Any, path: str, *, powered: str = "all") -> dict[str, Any]:
    """Energy of a run: by operation (log axis) beside a mesh map of dynamic energy per core.

    Parameters
    ----------
    record : RunRecord
        The run, priced by :func:`neurochip.report.energy_report`.
    path : str
        Image file to write.
    powered : {"all", "used"}
        Cores paying static power (as ``energy_report``'s ``cores_powered``).

    Returns
    -------
    dict of str to object
        ``report`` (the energy report's dict), ``bars`` (what :func:`draw_energy` drew, J)
        and ``mesh`` (what :func:`draw_mesh` drew: dynamic energy per core, J).
    """
    from .report import energy_report

    _, data = energy_report(record, cores_powered=powered)
    plt = pyplot()
    chip = record.chip
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 5.2), dpi=120, gridspec_kw={"width_ratios": [1.15, 1]})
    bars = draw_energy(a1, data)
    a1.set_title("by operation (count in brackets)", fontsize=9)
    mesh = draw_mesh(a2, chip, used_cores=np.unique(record.neuron_core), core_value=data["by_core_joule"],
                     label="dynamic energy per core", unit="J")
    static_core = chip.energy.static_power_per_core_watt * data["duration_s"]
    a2.set_title(f"dynamic energy per core (+ {format_si(static_core, 'J')} static per powered core)", fontsize=9)
    fig.suptitle(f"energy on {data['chip']}: {format_si(data['total_joule'], 'J')} in {format_si(data['duration_s'], 's')}"
                 f" ({format_si(data['average_power_watt'], 'W')}, dynamic {data['dynamic_fraction']:.1%})"
                 if data["total_joule"] > 0 else f"energy on {data['chip']}: 0 J", fontsize=11)
    fig.tight_layout()
    save_figure(fig, path)
    return {"report": data, "bars": bars, "mesh": mesh}


# ---------------------------------------------------------------------------------------------
# silicon neuron traces
