"""``neurochip map``, ``neurochip run`` and ``neurochip report``: a network on a chip."""

from __future__ import annotations

import argparse
from typing import Any

from .._display import print_json, print_table
from ..errors import ConfigError
from ..units import format_si
from ._files import SEED, check_chip, check_plot, parse_inputs, quantity, write_plot
from ._json import loads_by_unit
from ._progress import working


def add_parser(sub: Any) -> None:
    pm = sub.add_parser("map", help="map a network onto a chip and report capacities, hops, link loads",
                        description="Place a network's neurons on a chip's cores and report the utilisation of every "
                        "capacity, synapses crossing cores, hops and the busiest link.")
    pm.add_argument("network", metavar="NETWORK", help="network file (.npz from neurochip, or NIR .nir/.h5)")
    pm.add_argument("--chip", default=None, metavar="NAME|FILE", help="chip preset or spec file (default generic)")
    pm.add_argument("--system", metavar="NAME|FILE",
                    help="a board of chips instead of one chip (preset: nahuku, pohoiki-beach, dynapse2-x4, ... or TOML "
                         "file): chips first, then cores; as `neurochip board map`")  # fmt: skip
    pm.add_argument("--rates", metavar="Hz|POP=Hz,...",
                    help="expected rate of every neuron (e.g. 20) or per population (E=5,I=12), at most 1/t_ref; "
                    "weights the traffic, so link loads are in packets/s")
    pm.add_argument("--partitioner", choices=("metis", "block"), default="metis",
                    help="metis: min-cut partition (default); block: consecutive neuron ids per core")
    pm.add_argument("--json", action="store_true", help="print JSON instead of tables")
    pm.add_argument("--plot", metavar="FILE.png", help="expected link load over the mesh")
    pm.set_defaults(func=run_map)

    pr = sub.add_parser("run", help="run a network on a chip in the emulator and save the run",
                        description="Map a network onto a chip, emulate it under the given stimulus with spikes "
                        "routed as packets, and write the run file that `neurochip report` reads.")
    pr.add_argument("network", metavar="NETWORK", help="network file (.npz from neurochip, or NIR .nir/.h5)")
    pr.add_argument("--chip", default=None, metavar="NAME|FILE", help="chip preset or spec file (default generic)")
    pr.add_argument("--system", metavar="NAME|FILE",
                    help="run on a board of chips with its inter-chip links emulated (a mesh board; --no-route: "
                         "counted); prints the board report and writes it with the spikes to -o")  # fmt: skip
    pr.add_argument("--duration", default="1 s", metavar="s",
                    help="chip time to emulate, > 0 and at most 1 h (default 1 s)")
    pr.add_argument("--poisson", action="append", default=[], metavar="POP:RATE:WEIGHT",
                    help="independent Poisson input to every neuron of POP, e.g. E:20kHz:0.1mV (repeatable)")
    pr.add_argument("--dc", action="append", default=[], metavar="POP:CURRENT",
                    help="constant extra current into every neuron of POP, e.g. E:0.5nA (repeatable)")
    pr.add_argument("--seed", type=SEED, default=0, metavar="S", help="seed of the Poisson inputs (default 0)")
    pr.add_argument("--delivery-step", metavar="s|chip",
                    help="step-quantised delivery: every synaptic arrival waits for the next multiple of this step "
                         "(e.g. 1ms; 'chip': the chip's own step, TrueNorth's 1 ms tick), as a time-stepped chip "
                         "delivers at the next step; the neurons stay exact in continuous time")  # fmt: skip
    pr.add_argument("--no-route", action="store_true",
                    help="count packets from the spikes without timing them through the routers (faster)")
    pr.add_argument("-o", "--output", required=True, metavar="RUN.npz",
                    help="where to write the run (written exactly as named; never over the network or chip file)")
    pr.add_argument("--html", metavar="FILE.html",
                    help="also write the run's self-contained HTML report (as `neurochip report html`)")
    pr.add_argument("--json", action="store_true", help="print a JSON summary instead of text")
    pr.set_defaults(func=run_run)

    prep = sub.add_parser("report", help="energy, throughput, saturation or HTML report of a saved run",
                          description="Read a run file written by `neurochip run` and print its energy, throughput "
                          "or saturation report (tables, or --json), with an optional figure; or write one "
                          "self-contained HTML page of all three with its provenance and figures (html -o FILE.html).")
    prep.add_argument("kind", choices=("energy", "throughput", "saturation", "html"), metavar="KIND",
                      help="energy | throughput | saturation | html")
    prep.add_argument("run", metavar="RUN.npz", help="a run file written by `neurochip run`")
    prep.add_argument("--powered", choices=("all", "used"), default=None,
                      help="energy only: cores paying static power, every core (default) or only those holding neurons")
    prep.add_argument("--json", action="store_true", help="print JSON instead of tables")
    prep.add_argument("--plot", metavar="FILE.png", help="energy breakdown / traffic heat map / raster")
    prep.add_argument("-o", "--output", metavar="FILE.html", help="html only: the page to write (exactly as named)")
    prep.set_defaults(func=run_report)


def _system_or_chip(args: argparse.Namespace) -> None:
    """--system and --chip exclude each other; the chip defaults to generic."""
    if args.system is not None and args.chip is not None:
        raise ConfigError(f"--chip {args.chip} --system {args.system}: give one (a system names its chip)")
    if args.system is None and args.chip is None:
        args.chip = "generic"


def run_map(args: argparse.Namespace) -> int:
    from ..chip import load_chip
    from ..mapping import MappingOptions, map_network
    from ..plots import plot_mapping
    from .network import load_any, parse_rates, rates_per_neuron

    _system_or_chip(args)
    if args.system is not None:
        return _map_system(args)
    chip_path = check_chip(args.chip)
    check_plot(args.plot, inputs=(args.network, chip_path))
    given = parse_rates(args.rates)
    network, _ = load_any(args.network)
    chip = load_chip(args.chip)
    rates = None if given is None else rates_per_neuron(network, given)
    m = map_network(network, chip, rates_hz=rates, options=MappingOptions(partitioner=args.partitioner))
    rep = m.report()
    if args.plot:
        write_plot(args.plot, lambda tmp: plot_mapping(m, tmp))
    if args.json:
        print_json(loads_by_unit(rep, ("link_load_max", "link_load_mean"), bandwidth_hz=chip.router.link_bandwidth_hz))
        return 0
    print_mapping(rep)
    return 0


def print_mapping(rep: dict[str, Any]) -> None:
    rows = [
        ["chip", f"{rep['chip']} ({rep['mesh'][0]} x {rep['mesh'][1]})"],
        ["neurons / synapses", f"{rep['n_neurons']:,} / {rep['n_synapses']:,}"],
        ["cores used", f"{rep['cores_used']} of {rep['cores_available']}"],
    ]
    for k, v in rep["utilisation_max"].items():
        rows.append([f"{k} utilisation (max core / mean used)", f"{v:.1%} / {rep['utilisation_mean_used'][k]:.1%}"])
    rows += [
        ["synapses crossing cores", f"{rep['fraction_synapses_crossing_cores']:.1%}"],
        ["hops (traffic-weighted mean / max)", f"{rep['mean_hops']:.2f} / {rep['max_hops']}"],
        ["busiest link", f"{rep['link_load_max']:.4g} " + ("packets/s" if rep["rates_given"] else "packets per spike round")],
        ["mapping time", format_si(rep["wall_s"], "s")],
    ]
    if "link_utilisation_max" in rep:
        rows.append(["busiest link / bandwidth", f"{rep['link_utilisation_max']:.2%}"])
    print_table("mapping", ["quantity", "value"], rows)


def run_run(args: argparse.Namespace) -> int:
    from .._io import check_input_file, check_output_path
    from ..chip import load_chip
    from ..mapping import map_network
    from ..onchip import run_on_chip
    from .network import load_any

    # every argument and the output path are checked before the network is read or run
    _system_or_chip(args)
    duration = quantity(args.duration, "s", "--duration", positive=True, high=3600.0,
                        why="one hour of chip time; run longer ones in pieces")
    check_input_file(args.network, "NETWORK")
    if args.system is not None:
        return _run_system(args, duration)
    chip_path = check_chip(args.chip)
    check_output_path(args.output, inputs=(args.network, chip_path))
    if args.html is not None:
        if not args.html.strip():
            raise ConfigError("--html = '': give the HTML file to write")
        if str(args.html) == str(args.output):
            raise ConfigError(f"--html {args.html}: the same file as -o; give the page its own name")
        check_output_path(args.html, inputs=(args.network, chip_path), suffix=(".html", ".htm"), flag="--html")
    step = None
    if args.delivery_step is not None and args.delivery_step != "chip":
        step = quantity(args.delivery_step, "s", "--delivery-step", positive=True, high=1.0,
                        why="one second per step; steps are us to ms")  # fmt: skip
    if args.delivery_step is not None and args.no_route:
        raise ConfigError(f"--delivery-step {args.delivery_step} --no-route: quantised delivery needs the routed run")
    network, _ = load_any(args.network)
    chip = load_chip(args.chip)
    if args.delivery_step == "chip":
        step = chip.execution.step_s
        if step is None:
            raise ConfigError(f"--delivery-step chip: chip {chip.name!r} has no fixed step "
                              f"({chip.execution.model}); give the step, e.g. --delivery-step 1ms")  # fmt: skip
    inputs = parse_inputs(network, args.poisson, args.dc)
    if chip.execution.model == "time_stepped" and step is None:
        import sys

        from ..report import execution_note

        print(f"warning: {execution_note(chip)['note']}", file=sys.stderr)
    with working("mapping", size=f"{network.n_neurons:,} neurons onto {chip.name}"):
        mapping = map_network(network, chip)
    if not args.json:
        print(f"mapped {network.n_neurons:,} neurons onto {mapping.cores_used} cores of {chip.name}; "
              f"emulating {format_si(duration, 's')} ...", flush=True)
    with working("emulating" + ("" if args.no_route else ", spikes routed as packets"),
                 size=f"{network.n_neurons:,} neurons x {format_si(duration, 's')} of chip time"):
        record = run_on_chip(network, chip, duration_s=duration, inputs=inputs, seed=args.seed, mapping=mapping,
                             route=not args.no_route, delivery_step_s=step)
    record.provenance.update({"network_file": str(args.network), "chip_spec": str(args.chip),
                              "command": "neurochip run"})
    record.save(args.output)
    if args.html is not None:
        from ..html_report import write_html_report

        write_html_report(record, args.html)
    summary = {
        "output": str(args.output),
        "neurons": network.n_neurons,
        "spikes": int(record.spike_counts.sum()),
        "mean_rate_hz": float(record.rates_hz().mean()),
        "duration_s": duration,
        "wall_time_s": record.wall_time_s,
    }
    if args.json:
        print_json(summary)
    else:
        print(f"{summary['spikes']:,} spikes, mean rate {format_si(summary['mean_rate_hz'], 'Hz')}, "
              f"wall time {format_si(record.wall_time_s, 's')}; run written to {args.output}")
    return 0


def _map_system(args: argparse.Namespace) -> int:
    """``neurochip map --system``: the board mapping of ``neurochip board map``."""
    from . import board as board_cli

    if args.plot:
        raise ConfigError(f"--plot {args.plot}: a board mapping has no figure; `neurochip board run ... --plot` "
                          "draws the board with its link loads")  # fmt: skip
    if args.rates is not None and "=" in args.rates:
        raise ConfigError(f"--rates {args.rates}: with --system give one rate for every neuron (e.g. 20)")
    ns = argparse.Namespace(network=args.network, system=args.system, rates=args.rates, json=args.json, fill=1.0,
                            block=None, partitioner="block" if args.partitioner == "block" else "greedy")  # fmt: skip
    return board_cli.run_map(ns)


def _run_system(args: argparse.Namespace, duration: float) -> int:
    """``neurochip run --system``: map onto the board, emulate with the links emulated (or
    counted with --no-route), print the board report, and write it with the spikes to -o."""
    import json

    import numpy as np

    from .._io import atomic_write, check_output_path
    from ..board import board_report, run_on_board
    from ..board_mapping import map_board
    from ..system import load_system
    from .board import _system_file, board_json, print_board_run
    from .network import load_any

    if args.html is not None:
        raise ConfigError(f"--html {args.html}: the HTML page is of a one-chip run; a board run prints its report")
    if args.delivery_step is not None:
        raise ConfigError(f"--delivery-step {args.delivery_step}: quantised delivery is for one-chip runs, not --system")
    system_path = _system_file(args.system)
    check_output_path(args.output, inputs=tuple(x for x in (args.network, system_path) if x))
    system = load_system(args.system)
    network, _ = load_any(args.network)
    inputs = parse_inputs(network, args.poisson, args.dc)
    with working("mapping", size=f"{network.n_neurons:,} neurons onto {system.name}"):
        board = map_board(network, system)
    if not args.json:
        print(f"mapped {network.n_neurons:,} neurons onto {board.chips_used} of {system.n_chips} {system.chip.name} "
              f"chips; emulating {format_si(duration, 's')} ...", flush=True)  # fmt: skip
    links = "counted" if args.no_route else "auto"
    with working("emulating", size=f"{network.n_neurons:,} neurons x {format_si(duration, 's')} on a board"):
        board, result = run_on_board(network, system, duration_s=duration, inputs=inputs, seed=args.seed, board=board,
                                     links=links)  # fmt: skip
    rep = board_report(board, network, result)
    header = {"format": "neurochip-board-run", "version": 1, "system": system.to_dict(), "report": rep,
              "provenance": {"network_file": str(args.network), "system_spec": str(args.system),
                             "command": "neurochip run --system", "seed": int(args.seed)}}  # fmt: skip

    def write(fh: Any) -> None:
        np.savez(fh, header=np.array(json.dumps(header)), spike_counts=result.spike_counts,
                 event_time_s=result.events["time_s"], event_address=result.events["address"],
                 neuron_chip=board.neuron_chip, neuron_core=board.neuron_core)  # fmt: skip

    atomic_write(args.output, write)
    if args.json:
        print_json({"output": str(args.output), **board_json(rep)})
        return 0
    print_board_run(rep)
    print(f"board run written to {args.output}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    from ..plots import plot_energy, plot_raster, plot_traffic
    from ..report import RunRecord

    if args.kind == "html":
        return _report_html(args)
    if args.output is not None:
        raise ConfigError(f"-o {args.output}: applies to `report html` only (the tables print to stdout)")
    check_plot(args.plot, inputs=(args.run,))
    if args.powered is not None and args.kind != "energy":
        raise ConfigError(f"--powered {args.powered}: applies to `report energy` only (static power), not to {args.kind}")
    powered = args.powered or "all"
    record = RunRecord.load(args.run)
    if args.kind == "energy":
        print_energy(record, powered=powered, as_json=args.json)
        if args.plot:
            write_plot(args.plot, lambda tmp: plot_energy(record, tmp, powered=powered))
    elif args.kind == "throughput":
        print_throughput(record, as_json=args.json)
        if args.plot:
            write_plot(args.plot, lambda tmp: plot_traffic(record, tmp))
    else:
        print_saturation(record, as_json=args.json)
        if args.plot:
            write_plot(args.plot, lambda tmp: plot_raster(record, tmp))
    if args.plot and not args.json:
        print(f"plot written to {args.plot}")
    return 0


def _report_html(args: argparse.Namespace) -> int:
    from .._io import check_input_file, check_output_path
    from ..html_report import write_html_report
    from ..report import RunRecord

    for flag, given in (("--plot", args.plot), ("--json", args.json)):
        if given:
            raise ConfigError(f"{flag}: does not apply to `report html` (the page holds the figures and tables)")
    if not args.output:
        raise ConfigError("report html: give the page to write with -o FILE.html")
    check_input_file(args.run, "RUN.npz")
    check_output_path(args.output, inputs=(args.run,), suffix=(".html", ".htm"))
    record = RunRecord.load(args.run)
    with working("writing the HTML report", size=f"{record.n_neurons:,} neurons, {record.events.size:,} spikes"):
        write_html_report(record, args.output, cores_powered=args.powered or "all")
    print(f"HTML report written to {args.output}")
    return 0


def print_energy(record: Any, *, powered: str = "all", as_json: bool = False) -> dict[str, Any]:
    from ..report import energy_report

    _, data = energy_report(record, cores_powered=powered)
    if as_json:
        print_json(data)
        return data
    total = data["total_joule"]
    notes: list[str] = []  # price sources, numbered once each

    def note(term: str) -> str:
        text = data["price_source"][term]
        if text not in notes:
            notes.append(text)
        return f"[{notes.index(text) + 1}]"

    rows = [[op, f"{data['counts'][op]:,.0f}", format_si(data["price_joule"][op], "J"), format_si(e, "J"),
             f"{e / total:.1%}" if total else "-", note(op)]
            for op, e in data["by_operation_joule"].items() if data["counts"][op] or e]
    rows.append(["static", f"{data['n_cores_powered']} cores x {format_si(data['duration_s'], 's')}",
                 f"{format_si(data['static_power_per_core_watt'], 'W')}/core", format_si(data["static_joule"], "J"),
                 f"{data['static_joule'] / total:.1%}" if total else "-", note("static")])
    print_table(f"energy on {data['chip']}", ["operation", "count", "price", "energy", "share", "source"], rows)
    print("price sources:")
    for i, text in enumerate(notes, 1):
        print(f"  [{i}] {text}")
    print(f"execution model: {data['execution_model']['note']}")
    print_table("totals", ["quantity", "value"], [
        ["dynamic (activity-proportional)", format_si(data["dynamic_joule"], "J")],
        ["static", format_si(data["static_joule"], "J")],
        ["total", format_si(total, "J")],
        ["average power", format_si(data["average_power_watt"], "W")],
        ["energy per synaptic event", _per_event(data)],
        ["external stimulus events (not priced)", f"{data['external_events_unpriced']:,}"],
    ])
    return data


def _per_event(data: dict[str, Any]) -> str:
    value = data["energy_per_synaptic_event_joule"]
    return "n/a (no synaptic event)" if value is None else format_si(value, "J")


def print_throughput(record: Any, *, as_json: bool = False) -> dict[str, Any]:
    from ..report import throughput_report

    data = throughput_report(record)
    if as_json:
        print_json(data)
        return data
    print_table("throughput", ["quantity", "value"], [
        ["spikes per second of chip time", format_si(data["spikes_per_chip_s"], "Hz")],
        ["synaptic events per second of chip time", format_si(data["synaptic_events_per_chip_s"], "Hz")],
        ["synaptic events per second of wall time", format_si(data["synaptic_events_per_wall_s"], "Hz")],
        ["wall time / chip time", f"{data['real_time_factor']:.3g}"],
        ["link utilisation (max / mean)", f"{data['link_utilisation_max']:.2%} / {data['link_utilisation_mean']:.2%}"],
        ["dropped packets", f"{data['drops']:,}"],
    ] + ([["network latency (mean / p99 / max)",
           " / ".join(format_si(data["latency_s"][k], "s") for k in ("mean", "p99", "max"))]]
         if data["latency_s"] else [])
      + ([["deepest link queue", f"{data['peak_queue_max']} packets"]] if data["peak_queue_max"] is not None else [])
      + [["packets timed through routers", "yes" if data["routed"] else "no (counted from spikes)"]])
    if data["hot_links"]:
        print_table("busiest links", ["core (x, y)", "direction", "packets", "utilisation"], [
            [f"{h['core']} {tuple(h['xy'])}", h["direction"], f"{h['packets']:,.0f}", f"{h['utilisation']:.2%}"]
            for h in data["hot_links"]
        ])
    return data


def print_saturation(record: Any, *, as_json: bool = False) -> dict[str, Any]:
    from ..report import saturation_report

    data = saturation_report(record)
    if as_json:
        print_json(data)
        return data
    print_table("firing-rate saturation (ceiling 1/t_ref)", ["population", "mean rate", "max rate", "ceiling", "within 10 %"], [
        [p["population"], format_si(p["mean_rate_hz"], "Hz"), format_si(p["max_rate_hz"], "Hz"),
         format_si(p["ceiling_hz"], "Hz"), str(p["saturated_neurons"])]
        for p in data["populations"]
    ])
    print(f"links at >= 90 % of bandwidth: {len(data['links_saturated'])}; dropped packets: {data['drops']}"
          + (f" ({data['drop_cause']})" if data["drop_cause"] else ""))
    return data
