"""``neurochip chip list|show``: the chip presets and specs."""

from __future__ import annotations

import argparse
from typing import Any

from .. import chip as chipmod
from .._display import print_json, print_table
from ..units import format_si
from ._files import check_chip

_UNITS = {"joule": "J", "watt": "W", "s": "s", "hz": "Hz"}


def add_parser(sub: Any) -> None:
    p = sub.add_parser("chip", help="chip presets and specs", description="List chip presets or show one spec.")
    csub = p.add_subparsers(dest="chip_command", metavar="ACTION", required=True, parser_class=type(p))
    pl = csub.add_parser("list", help="the presets shipped with neurochip",
                         description="List the chip presets shipped with neurochip: mesh, cores, neurons.")
    pl.add_argument("--json", action="store_true", help="print JSON instead of tables")
    pl.set_defaults(func=run_list)
    ps = csub.add_parser("show", help="one chip spec: a preset name or a TOML file",
                         description="Show one chip spec (mesh, core, router, energy, execution), each number with its source.")
    ps.add_argument("chip", metavar="NAME|FILE", help="a preset name (see `chip list`) or a chip spec TOML file")
    ps.add_argument("--json", action="store_true", help="print JSON instead of tables")
    ps.set_defaults(func=run_show)


def run_list(args: argparse.Namespace) -> int:
    chips = [chipmod.load_chip(n) for n in chipmod.list_presets()]
    if args.json:
        print_json({"presets": {c.name: c.description for c in chips}})
        return 0
    rows = [
        [c.name, f"{c.mesh.width}x{c.mesh.height}", str(c.n_cores), str(c.neuron_capacity), c.description]
        for c in chips
    ]
    print_table("chip presets", ["name", "mesh", "cores", "neurons", "description"], rows)
    return 0


def _fmt(key: str, value: Any) -> str:
    if isinstance(value, bool) or isinstance(value, int) or isinstance(value, str):
        return str(value)
    return format_si(value, _UNITS.get(key.rsplit("_", 1)[-1], ""))


_EXECUTION_NOTES = {
    "asynchronous": "event-driven: a neuron is updated by each input it integrates; no step",
    "time_stepped": "every neuron updated every step; spikes take effect at the next step; a barrier ends a step",
}


def _step_note(ex: chipmod.ExecutionSpec) -> str:
    """Why a chip has no fixed step."""
    if ex.time_stepped:
        return "no fixed step: a step lasts as long as its work (slowest core + mesh + barrier)"
    return "asynchronous: no step"


def _execution_rows(spec: chipmod.ChipSpec) -> list[list[str]]:
    """The [execution] table: model, step, activity rule and every latency, each with its source."""
    ex = spec.execution
    src = ex.source_of
    if ex.step_s is not None:
        step = [format_si(ex.step_s, "s"), src("step_s")]
    else:
        step = ["none", _step_note(ex)]
    rows = [
        ["model", ex.model, src("model") if "model" in ex.sources else _EXECUTION_NOTES[ex.model]],
        ["step_s", *step],
    ]
    if ex.target_step_s is not None:
        rows.append(["target_step_s", format_si(ex.target_step_s, "s"), src("target_step_s")])
    if not ex.time_stepped:
        return rows
    rows.append(["activity_rule", ex.activity_rule, src("activity_rule")])
    rows += [[name, format_si(getattr(ex, name), "s"), src(name)] for name in chipmod.LATENCY_FIELDS]
    return rows


def _show_json(spec: chipmod.ChipSpec) -> dict[str, Any]:
    """The spec's dict, its execution table with a source for every field (``"assumed"`` where
    the spec gives none) and the step as null with the reason when the chip has no fixed step."""
    data = spec.to_dict()
    ex = spec.execution
    execution = data["execution"]
    execution.setdefault("step_s", None)
    if ex.step_s is None:
        execution["step_s_note"] = _step_note(ex)
    fields = ("model", "step_s", "target_step_s", "activity_rule", *chipmod.LATENCY_FIELDS)
    execution["sources"] = {
        name: ex.source_of(name) for name in fields if name in ex.sources or name in chipmod.LATENCY_FIELDS
    }
    return data


def run_show(args: argparse.Namespace) -> int:
    check_chip(args.chip, "chip show")
    spec = chipmod.load_chip(args.chip)
    data = spec.to_dict()
    if args.json:
        data = _show_json(spec)
        print_json(data)
        return 0
    print(f"{spec.name}: {spec.description}")
    print(f"{spec.n_cores} cores ({spec.mesh.width} x {spec.mesh.height}), {spec.neuron_capacity} neurons")
    if "all" in spec.sources:
        print(f"source of every number: {spec.sources['all']}")
    for table in ("mesh", "core", "router", "energy"):
        rows = []
        for key, value in data[table].items():
            src = spec.sources.get(f"{table}.{key}", spec.sources.get(table, ""))
            rows.append([key, _fmt(key, value), src])
        print_table(table, ["field", "value", "source"], rows)
    print_table("execution", ["field", "value", "source"], _execution_rows(spec))
    return 0
