"""One self-contained HTML page of a run on a chip: provenance, the three reports, the figures.

:func:`html_report` turns a :class:`~neurochip.report.RunRecord` into a page that opens without
network access: the figures are PNGs inlined as ``data:`` URIs, the mesh map is inline SVG whose
cores and links show their numbers on hover (SVG ``<title>``), and the page carries no script.
``neurochip report html RUN.npz -o report.html`` and ``neurochip run ... --html`` write it.
"""

from __future__ import annotations

import base64
import html
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ._io import atomic_write
from .mesh import LINKS
from .report import RunRecord, energy_report, execution_note, saturation_report, throughput_report
from .units import format_si

__all__ = ["html_report", "write_html_report", "SECTIONS"]

#: The sections every page has, by element id, in page order.
SECTIONS = ("provenance", "energy", "throughput", "saturation", "mesh", "figures")

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; font-size: .92em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th { background: #f3f3f3; } .note { color: #666; font-size: .9em; }
svg .core:hover { stroke: #000; stroke-width: 3; } svg .link:hover { stroke-width: 6; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _si(value: float, unit: str) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return format_si(float(value), unit)


def _table(head: list[str], rows: list[list[Any]], num_cols: set[int] | None = None) -> str:
    num_cols = num_cols or set()
    out = ["<table><thead><tr>", *(f"<th>{_e(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for row in rows:
        cells = "".join(f'<td class="num">{_e(c)}</td>' if j in num_cols else f"<td>{_e(c)}</td>"
                        for j, c in enumerate(row))  # fmt: skip
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _provenance(record: RunRecord) -> str:
    prov = dict(record.provenance)
    rows: list[list[Any]] = [
        ["chip", f"{record.chip.name} ({record.chip.mesh.width} x {record.chip.mesh.height} cores)"],
        ["chip time", _si(record.duration_s, "s")],
        ["emulator wall time", _si(record.wall_time_s, "s")],
        ["neurons", f"{record.n_neurons:,}"],
        ["packets timed through routers", "yes" if record.routed else "no (counted from the spikes)"],
        ["execution model", execution_note(record.chip)["note"]],
    ]
    for key in ("seed", "routed"):
        if key in prov and key != "routed":
            rows.append([key, prov[key]])
    net = prov.get("network")
    if isinstance(net, dict):
        rows.append(["synapses", f"{int(net.get('n_synapses', 0)):,}"])
        for pop in net.get("populations", []):
            rows.append([f"population {pop.get('name')}", f"{pop.get('size')} neurons, {pop.get('model')}"])
    for k, text in enumerate(prov.get("inputs", [])):
        rows.append([f"stimulus {k}", text])
    for key, value in prov.items():
        if key in ("seed", "routed", "network", "inputs", "versions", "duration_s", "chip"):
            continue
        rows.append([key, value if isinstance(value, str) else json.dumps(value)])
    for name, version in prov.get("versions", {}).items():
        rows.append([f"{name} version", version])
    note = "" if prov else '<p class="note">This run file holds no provenance (written before it was recorded).</p>'
    return f'<section id="provenance"><h2>Provenance</h2>{note}{_table(["item", "value"], rows)}</section>'


def _energy(data: dict[str, Any]) -> str:
    total = float(data["total_joule"]) or 1.0
    sources: list[str] = []

    def ref(term: str) -> str:  # each source text once, referenced as [n]
        text = data["price_source"].get(term, "")
        if text not in sources:
            sources.append(text)
        return f"[{sources.index(text) + 1}]"

    rows = []
    for op, energy in data["by_operation_joule"].items():
        rows.append([op, f"{data['counts'][op]:,.0f}", _si(data["price_joule"][op], "J"), _si(energy, "J"),
                     f"{energy / total:.1%}", ref(op)])  # fmt: skip
    rows.append(["static", f"{data['n_cores_powered']} cores x {_si(data['duration_s'], 's')}",
                 _si(data["static_power_per_core_watt"], "W") + "/core", _si(data["static_joule"], "J"),
                 f"{data['static_joule'] / total:.1%}", ref("static")])  # fmt: skip
    ops = _table(["term", "count", "price", "energy", "share", "price from"], rows, {1, 2, 3, 4})
    notes = "".join(f"<li>{_e(text)}</li>" for text in sources)
    totals = _table(["quantity", "value"], [
        ["dynamic (activity-proportional)", _si(data["dynamic_joule"], "J")],
        ["static", _si(data["static_joule"], "J")],
        ["total", _si(data["total_joule"], "J")],
        ["average power", _si(data["average_power_watt"], "W")],
        ["energy per synaptic event", _si(data["energy_per_synaptic_event_joule"], "J")],
        ["external stimulus events (not priced)", f"{int(data['external_events_unpriced']):,}"],
    ], {1})  # fmt: skip
    return (f'<section id="energy"><h2>Energy</h2>{ops}<p class="note">Price sources:</p>'
            f'<ol class="note">{notes}</ol>{totals}</section>')


def _throughput(data: dict[str, Any]) -> str:
    lat = data.get("latency_s", {})
    rows = [
        ["spikes", f"{data['spikes']:,.0f}"],
        ["synaptic events", f"{data['synaptic_events']:,.0f}"],
        ["synaptic events per second of chip time", f"{data['synaptic_events_per_chip_s']:,.4g}"],
        ["synaptic events per second of wall time", f"{data['synaptic_events_per_wall_s']:,.4g}"],
        ["busiest link", f"{data['link_utilisation_max']:.3%} of bandwidth"],
        ["mean link utilisation", f"{data['link_utilisation_mean']:.3%}"],
        ["dropped packets", f"{int(data['drops']):,}"],
    ]
    if lat:
        rows.append(["network latency (mean / p99 / max)",
                     " / ".join(_si(lat.get(k, float("nan")), "s") for k in ("mean", "p99", "max"))])
    links = [[h["core"], h.get("direction", ""), f"{h.get('packets', 0):,.0f}", f"{h.get('utilisation', 0):.2%}"]
             for h in data.get("hot_links", [])]  # fmt: skip
    hot = _table(["core", "direction", "packets", "utilisation"], links, {2, 3}) if links else ""
    return f'<section id="throughput"><h2>Throughput</h2>{_table(["quantity", "value"], rows, {1})}{hot}</section>'


def _saturation(data: dict[str, Any]) -> str:
    rows = [[p["population"], _si(p["mean_rate_hz"], "Hz"), _si(p["max_rate_hz"], "Hz"), _si(p["ceiling_hz"], "Hz"),
             p["saturated_neurons"]] for p in data["populations"]]  # fmt: skip
    pops = _table(["population", "mean rate", "max rate", "ceiling 1/t_ref", "within 10 %"], rows, {1, 2, 3, 4})
    summary = (f"<p>Neurons within 10 % of 1/t_ref: {data['neurons_saturated']:,}; links at >= 90 % of "
               f"bandwidth: {len(data['links_saturated'])}; dropped packets: {data['drops']:,}.</p>")
    return f'<section id="saturation"><h2>Firing-rate and link saturation</h2>{pops}{summary}</section>'


def _colour(x: float) -> str:
    """A light-to-dark blue for x in [0, 1]."""
    x = min(max(x, 0.0), 1.0)
    r, g, b = (int(round(255 + (lo - 255) * x)) for lo in (8, 48, 107))
    return f"#{r:02x}{g:02x}{b:02x}"


def mesh_svg(record: RunRecord, by_core_joule: list[float] | np.ndarray) -> str:
    """Inline SVG of the chip's mesh: cores shaded by energy, links by utilisation; every core
    and link has a ``<title>`` with its numbers (shown on hover).

    Parameters
    ----------
    record : RunRecord
        The run.
    by_core_joule : sequence of float, shape (n_cores,)
        Dynamic energy per core, J (the energy report's ``by_core_joule``).

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    chip = record.chip
    w, h = chip.mesh.width, chip.mesh.height
    cell, gap = 56, 28
    util = record.link_utilisation()
    energy = np.asarray(by_core_joule, dtype=np.float64)
    emax = float(energy.max()) if energy.size and energy.max() > 0 else 1.0
    umax = float(util.max()) if util.size and util.max() > 0 else 1.0
    neurons = np.bincount(record.neuron_core, minlength=w * h)
    syn = record.counts.per_core.get("synaptic_events", np.zeros(w * h))
    size_x, size_y = w * (cell + gap) + gap, h * (cell + gap) + gap
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size_x}" height="{size_y}" '
             f'viewBox="0 0 {size_x} {size_y}" role="img" aria-label="chip mesh">']  # fmt: skip

    def xy(core: int) -> tuple[int, int]:
        x, y = core % w, core // w
        return gap + x * (cell + gap), gap + (h - 1 - y) * (cell + gap)  # y up, as the mesh plots

    for core in range(w * h):
        for d, name in enumerate(LINKS):
            dx, dy = ((1, 0), (-1, 0), (0, 1), (0, -1))[d]
            x, y = core % w + dx, core // w + dy
            if not (0 <= x < w and 0 <= y < h) or d in (1, 3):  # one line per pair: east and north
                continue
            other = y * w + x
            back = 1 if d == 0 else 3
            u = max(util[core, d], util[other, back])
            (x0, y0), (x1, y1) = xy(core), xy(other)
            c0 = (x0 + cell / 2, y0 + cell / 2)
            c1 = (x1 + cell / 2, y1 + cell / 2)
            title = (f"link core {core} &#8596; core {other}: {record.link_packets[core, d]:,.0f} packets {name}, "
                     f"{record.link_packets[other, back]:,.0f} back; utilisation {util[core, d]:.3%} / "
                     f"{util[other, back]:.3%}")  # fmt: skip
            parts.append(f'<line class="link" x1="{c0[0]}" y1="{c0[1]}" x2="{c1[0]}" y2="{c1[1]}" '
                         f'stroke="{_colour(0.25 + 0.75 * u / umax) if u > 0 else "#ddd"}" stroke-width="3">'
                         f"<title>{title}</title></line>")  # fmt: skip
    for core in range(w * h):
        x0, y0 = xy(core)
        used = neurons[core] > 0
        fill = _colour(energy[core] / emax) if used else "#f0f0f0"
        title = (f"core {core} ({core % w}, {core // w}): {neurons[core]:,} neurons, "
                 f"{syn[core]:,.0f} synaptic events, dynamic energy {_si(energy[core], 'J')}"
                 if used else f"core {core} ({core % w}, {core // w}): unused")  # fmt: skip
        parts.append(f'<rect class="core" x="{x0}" y="{y0}" width="{cell}" height="{cell}" rx="4" fill="{fill}" '
                     f'stroke="#888" stroke-dasharray="{"" if used else "4 3"}"><title>{title}</title></rect>')
        parts.append(f'<text x="{x0 + cell / 2}" y="{y0 + cell / 2 + 4}" text-anchor="middle" font-size="11" '
                     f'fill="{"#fff" if used and energy[core] / emax > 0.6 else "#333"}" pointer-events="none">'
                     f"{core % w},{core // w}</text>")  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def _figures(record: RunRecord) -> str:
    from .plots import plot_energy, plot_raster, plot_traffic

    out = ['<section id="figures"><h2>Figures</h2>']
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn, caption in (
            ("raster", plot_raster, "Spike raster, neurons sampled across populations"),
            ("energy", plot_energy, "Energy by operation (log axis) and by core"),
            ("traffic", plot_traffic, "Link utilisation on the mesh"),
        ):
            path = Path(tmp) / f"{name}.png"
            if name == "raster" and record.events.size == 0:
                out.append(f'<p class="note">{caption}: the run recorded no spikes.</p>')
                continue
            fn(record, str(path))
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            out.append(f'<figure id="fig-{name}"><img alt="{_e(caption)}" src="data:image/png;base64,{data}">'
                       f"<figcaption>{_e(caption)}</figcaption></figure>")
    out.append("</section>")
    return "".join(out)


def html_report(record: RunRecord, *, title: str | None = None, cores_powered: str = "all") -> str:
    """The run as one self-contained HTML page (see the module doc).

    Parameters
    ----------
    record : RunRecord
        The run to report.
    title : str, optional
        Page title (default: the chip and chip time).
    cores_powered : {"all", "used"}
        Static power of every core, or only of the cores holding neurons (as
        :func:`~neurochip.report.energy_report`).

    Returns
    -------
    str
        The HTML text, with sections :data:`SECTIONS`.
    """
    _, energy = energy_report(record, cores_powered=cores_powered)
    title = title or f"neurochip run on {record.chip.name}, {_si(record.duration_s, 's')} of chip time"
    body = [
        f"<h1>{_e(title)}</h1>",
        _provenance(record),
        _energy(energy),
        _throughput(throughput_report(record)),
        _saturation(saturation_report(record)),
        '<section id="mesh"><h2>The chip</h2><p class="note">Cores shaded by dynamic energy, links by '
        "utilisation; dashed cores hold no neuron. Hover a core or a link for its numbers.</p>"
        f"{mesh_svg(record, energy['by_core_joule'])}</section>",
        _figures(record),
    ]
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n")  # fmt: skip


def write_html_report(record: RunRecord, path: str | Path, **kwargs: Any) -> None:
    """Write :func:`html_report` to ``path`` (atomically, exactly as named).

    Parameters
    ----------
    record : RunRecord
        The run to report.
    path : str or pathlib.Path
        Destination ``.html`` file.
    **kwargs
        Passed to :func:`html_report`.
    """
    text = html_report(record, **kwargs)
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))
