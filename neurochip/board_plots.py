"""The figure of a run on a board: link loads on the board and the energy split.

Like :mod:`neurochip.plots`: the function draws from the report dict of
:func:`neurochip.board.board_report`, writes through :func:`neurochip._display.save_figure`
and returns the data it drew, so that a test checks what the figure shows, not its pixels.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._display import pyplot, save_figure
from .mesh import LINKS
from .plots import draw_mesh
from .system import SystemSpec
from .units import format_si

__all__ = ["plot_board"]

_ENERGY_TERMS = (
    ("on-chip dynamic", "on_chip_dynamic_joule"),
    ("on-chip static", "on_chip_static_joule"),
    ("off-chip links", "off_chip_joule"),
    ("link interfaces static", "interface_static_joule"),
)


def _mesh_link_array(system: SystemSpec, values: dict[tuple[int, int], float]) -> np.ndarray:
    """Per chip and direction (east, west, north, south) the value of its outgoing link."""
    w = system.topology.width
    out = np.zeros((system.n_chips, len(LINKS)))
    for (a, b), v in values.items():
        if b == a + 1:
            d = 0
        elif b == a - 1:
            d = 1
        elif b == a + w:  # type: ignore[operator]
            d = 2
        else:
            d = 3
        out[a, d] = v
    return out


def plot_board(report: dict[str, Any], system: SystemSpec, path: str, *, quantity: str = "utilisation") -> dict[str, Any]:
    """Draw the board (chips, link loads) beside the run's energy split, and save it.

    Parameters
    ----------
    report : dict
        From :func:`neurochip.board.board_report`.
    system : SystemSpec
        The board the report is of.
    path : str
        Image file to write (``.png``, ``.svg``, ``.pdf``).
    quantity : {"utilisation", "packets"}
        What colours the links.

    Returns
    -------
    dict of str to object
        ``link_values`` ({(from, to): value}), ``used_chips``, ``energy_joule`` ({term: J})
        and ``overhead_fraction``.

    Raises
    ------
    InvalidParameterError
        On an unknown ``quantity``.
    ConfigError
        When the file cannot be written.
    """
    from .errors import InvalidParameterError

    if quantity not in ("utilisation", "packets"):
        raise InvalidParameterError.of("quantity", quantity, "must be 'utilisation' or 'packets'")
    plt = pyplot()
    values = {(r["from"], r["to"]): float(r[quantity]) for r in report["links"]}
    used = [c["chip"] for c in report["chips"] if c["neurons"] > 0]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 5), gridspec_kw={"width_ratios": [3, 2]}, layout="constrained")
    label = "link utilisation" if quantity == "utilisation" else "packets per link"
    if system.topology.kind == "mesh":
        board_as_mesh = system.chip.with_mesh(system.topology.width, system.topology.height)  # type: ignore[arg-type]
        draw_mesh(ax, board_as_mesh, used_cores=used, link_value=_mesh_link_array(system, values), label=label,
                  unit="" if quantity == "utilisation" else "packets", cmap="magma_r")  # fmt: skip
        legend = ax.get_legend()
        for text in legend.get_texts() if legend is not None else ():  # draw_mesh speaks of cores
            text.set_text(text.get_text().replace("unused core, no neurons", "unused chip, no neurons")
                          .replace("core with neurons", "chip with neurons"))  # fmt: skip
        ax.set_xlabel("chip x")
        ax.set_ylabel("chip y")
    else:
        n = system.n_chips
        angle = 2 * math.pi * np.arange(n) / n
        xy = np.stack([np.cos(angle), np.sin(angle)], axis=1)
        vmax = max(values.values(), default=0.0) or 1.0
        cmap = plt.get_cmap("magma_r")
        for (a, b), v in values.items():
            off = 0.03 * np.array([-(xy[b] - xy[a])[1], (xy[b] - xy[a])[0]])
            ax.annotate("", xy=xy[b] + off, xytext=xy[a] + off,
                        arrowprops={"arrowstyle": "->", "color": cmap(v / vmax), "lw": 2})  # fmt: skip
        ax.scatter(xy[:, 0], xy[:, 1], s=300, c=["white" if i in used else "0.85" for i in range(n)], edgecolors="0.25",
                   zorder=3)  # fmt: skip
        for i in range(n):
            ax.text(xy[i, 0], xy[i, 1], str(i), ha="center", va="center", zorder=4)
        ax.set_aspect("equal")
        ax.axis("off")
    ax.set_title(f"{system.name}: {label} ({len(used)} of {system.n_chips} chips used)")
    energy = report["energy"]
    terms = {name: float(energy[key]) for name, key in _ENERGY_TERMS}
    names = list(terms)
    heights = [terms[k] for k in names]
    positive = [h for h in heights if h > 0]
    left = max(min(positive) / 10, 1e-18) if positive else 1e-18
    bars = bx.barh(names, [max(h, left) for h in heights], color=["C0", "C0", "C3", "C3"])
    for bar, h in zip(bars, heights):  # a zero term is written "0 J", not dropped
        bx.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, " " + format_si(h, "J"), va="center")
    bx.set_xscale("log")
    bx.set_xlim(left=left, right=max(positive, default=1.0) * 30)
    bx.invert_yaxis()
    bx.set_xlabel("energy (J)")
    bx.set_title(f"multi-chip overhead {100 * energy['multichip_overhead_fraction']:.2g} % "
                 f"({format_si(energy['multichip_overhead_joule'], 'J')})")  # fmt: skip
    note = ("inter-chip links emulated: latency, serialisation, FIFOs, flow control" if report.get("links_model") == "emulated"
            else "inter-chip links counted from an unrouted run: latency and back-pressure not emulated")  # fmt: skip
    fig.text(0.01, 0.01, note, fontsize=8, color="0.4")
    save_figure(fig, path)
    return {
        "link_values": values,
        "used_chips": used,
        "energy_joule": terms,
        "overhead_fraction": float(energy["multichip_overhead_fraction"]),
    }
