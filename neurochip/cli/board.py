"""``neurochip board list|map|run``: a network on a board of chips (a system spec)."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from .._display import print_json, print_table
from ..units import format_si
from ._files import SEED, check_plot, integer, parse_inputs, quantity, real, write_plot
from ._json import loads_by_unit, with_whole_counts
from ._progress import working


def add_parser(sub: Any) -> None:
    p = sub.add_parser("board", help="a network on a board of chips (system presets: nahuku, ...)",
                       description="Map or run a network on a multi-chip system: chips first, then cores.")  # fmt: skip
    bsub = p.add_subparsers(dest="board_command", metavar="ACTION", required=True, parser_class=type(p))

    pl = bsub.add_parser("list", help="the system presets shipped with neurochip")
    pl.add_argument("--json", action="store_true", help="print JSON")
    pl.set_defaults(func=run_list)

    def common(q: Any) -> None:
        q.add_argument("network", metavar="NETWORK", help="network file (.npz from neurochip, or NIR .nir/.h5)")
        q.add_argument("--system", required=True, metavar="NAME|FILE", help="system preset (nahuku, ...) or TOML file")
        q.add_argument("--partitioner", choices=("greedy", "block"), default="greedy",
                       help="board partitioner: packing refined by moves and swaps (default), or packing only")  # fmt: skip
        q.add_argument("--fill", type=real(0.0, 1.0, open_low=True), default=1.0, metavar="FRACTION",
                       help="fraction of each chip's neuron and fan-in capacity to use (default 1)")  # fmt: skip
        q.add_argument("--block", type=integer(1, 100_000_000), metavar="N",
                       help="neurons per partition block (default: one core's worth)")
        q.add_argument("--json", action="store_true", help="print JSON")

    pm = bsub.add_parser("map", help="map a network onto a board and report chips, capacities, inter-chip traffic")
    common(pm)
    pm.add_argument("--rates", metavar="HZ", help="expected rate of every neuron, to weight traffic (e.g. 20)")
    pm.set_defaults(func=run_map)

    pr = bsub.add_parser("run", help="run a network on a board: inter-chip traffic, link loads, energy split")
    common(pr)
    pr.add_argument("--duration", default="100 ms", metavar="s", help="chip time to emulate (default 100 ms)")
    pr.add_argument("--poisson", action="append", default=[], metavar="POP:RATE:WEIGHT",
                    help="independent Poisson input to every neuron of POP, e.g. E:20kHz:0.1mV (repeatable)")  # fmt: skip
    pr.add_argument("--dc", action="append", default=[], metavar="POP:CURRENT",
                    help="constant extra current into every neuron of POP, e.g. E:0.5nA (repeatable)")  # fmt: skip
    pr.add_argument("--seed", type=SEED, default=0, metavar="S", help="seed of the Poisson inputs (default 0)")
    pr.add_argument("--powered", choices=("all", "used"), default="all",
                    help="chips paying static power: every chip of the board, or those holding neurons")  # fmt: skip
    pr.add_argument("--links", choices=("auto", "emulated", "counted"), default="auto",
                    help="inter-chip links routed packet by packet in the emulator (latency, serialisation, FIFOs, "
                         "back-pressure or drops), or counted from an unrouted run; auto (default): emulated on a "
                         "mesh board, counted on a graph board (whose port cores are an assumption)")  # fmt: skip
    pr.add_argument("--plot", metavar="FILE.png", help="the board with its link loads, and the energy split")
    pr.set_defaults(func=run_run)


def _system_file(name: str) -> str | None:
    from ..system import list_systems

    return None if name in list_systems() else name


def _options(args: argparse.Namespace) -> Any:
    from ..board_mapping import BoardMappingOptions

    return BoardMappingOptions(partitioner=args.partitioner, fill=args.fill, block_neurons=args.block)


def run_list(args: argparse.Namespace) -> int:
    from ..system import list_systems, load_system

    systems = [load_system(n) for n in list_systems()]
    if args.json:
        print_json({"presets": {s.name: s.description for s in systems}})
        return 0
    rows = [[s.name, s.chip.name, str(s.n_chips), s.topology.kind, f"{s.neuron_capacity:,}", s.description] for s in systems]
    print_table("system presets", ["name", "chip", "chips", "topology", "neurons", "description"], rows)
    return 0


def run_map(args: argparse.Namespace) -> int:
    from .._io import check_input_file
    from ..board_mapping import map_board
    from ..system import load_system
    from .network import load_any

    options = _options(args)
    check_input_file(args.network, "NETWORK")
    rate = quantity(args.rates, "Hz", "--rates", positive=True) if args.rates is not None else None
    system = load_system(args.system)
    network, _ = load_any(args.network)
    rates = None if rate is None else np.full(network.n_neurons, rate)
    with working("mapping", size=f"{network.n_neurons:,} neurons onto {system.name}: chips, then cores"):
        board = map_board(network, system, rates_hz=rates, options=options)
    rep = board.report()
    if args.json:
        print_json(loads_by_unit(rep, ("inter_chip_cost", "inter_chip_cost_packed")))
        return 0
    unit = "packets/s" if rep["rates_given"] else "packets per spike round"
    rows = [
        ["system", f"{rep['system']}: {rep['n_chips']} x {rep['chip']}"],
        ["neurons / synapses", f"{rep['n_neurons']:,} / {rep['n_synapses']:,}"],
        ["chips used", f"{rep['chips_used']} of {rep['n_chips']}"],
        ["synapses crossing chips", f"{rep['fraction_synapses_crossing_chips']:.2%}"],
        ["inter-chip cost (hop-weighted)", f"{rep['inter_chip_cost']:.4g} {unit} (packing alone: {rep['inter_chip_cost_packed']:.4g})"],
        ["mapping time", format_si(rep["wall_s"], "s")],
    ]
    print_table("board mapping", ["quantity", "value"], rows)
    chip_rows = [[str(c["chip"]), f"{c['neurons']:,}", str(c["cores_used"])]
                 + [f"{v:.0%}" for v in c["utilisation_max"].values()] for c in rep["chips"]]  # fmt: skip
    if rep["chips"]:
        caps = list(rep["chips"][0]["utilisation_max"])
        print_table("chips (largest core utilisation)", ["chip", "neurons", "cores"] + caps, chip_rows)
    return 0


def run_run(args: argparse.Namespace) -> int:
    from .._io import check_input_file
    from ..board import board_report, run_on_board
    from ..board_mapping import map_board
    from ..board_plots import plot_board
    from ..system import load_system
    from .network import load_any

    options = _options(args)
    duration = quantity(args.duration, "s", "--duration", positive=True, high=3600.0,
                        why="one hour of chip time; run longer ones in pieces")
    check_input_file(args.network, "NETWORK")
    check_plot(args.plot, inputs=(args.network, _system_file(args.system)))
    system = load_system(args.system)
    network, _ = load_any(args.network)
    inputs = parse_inputs(network, args.poisson, args.dc)
    with working("mapping", size=f"{network.n_neurons:,} neurons onto {system.name}: chips, then cores"):
        board = map_board(network, system, options=options)
    if not args.json:
        print(f"mapped {network.n_neurons:,} neurons onto {board.chips_used} of {system.n_chips} {system.chip.name} "
              f"chips; emulating {format_si(duration, 's')} ...", flush=True)  # fmt: skip
    with working("emulating", size=f"{network.n_neurons:,} neurons x {format_si(duration, 's')} on a board"):
        board, result = run_on_board(network, system, duration_s=duration, inputs=inputs, seed=args.seed,
                                     board=board, links=args.links)  # fmt: skip
    rep = board_report(board, network, result, chips_powered=args.powered)
    if args.plot:
        write_plot(args.plot, lambda tmp: plot_board(rep, system, tmp))
    if args.json:
        print_json(board_json(rep))
        return 0
    print_board_run(rep)
    if args.plot:
        print(f"plot written to {args.plot}")
    return 0


def board_json(rep: dict[str, Any]) -> dict[str, Any]:
    """A board run's report as the CLI prints it: whole counts as integers, a note beside every
    null quantity."""
    counts = ("spikes", "packets", "packets_out", "packets_in", "packets_through", "offered_packets")
    out = {**with_whole_counts(rep, ("inter_chip_packets", "link_crossings")),
           "links": with_whole_counts(rep["links"], counts), "chips": with_whole_counts(rep["chips"], counts)}  # fmt: skip
    if out.get("links_model") == "emulated":
        out["links"] = [{**r, "peak_utilisation_note": "emulated links: see peak_queue and drops (the binned peak is "
                         "of the counted model)"} if r.get("peak_utilisation") is None else r for r in out["links"]]  # fmt: skip
        if out.get("packet_latency_mean_s") is None:
            out["packet_latency_note"] = "no packet was delivered in the run"
    return out


def print_board_run(rep: dict[str, Any]) -> None:
    """The tables of a board run's report (:func:`neurochip.board.board_report`)."""
    e = rep["energy"]
    total = e["total_joule"]
    rows = [[name, format_si(e[key], "J"), f"{e[key] / total:.1%}" if total else "-"] for name, key in (
        ("on-chip dynamic", "on_chip_dynamic_joule"), ("on-chip static", "on_chip_static_joule"),
        ("off-chip links", "off_chip_joule"), ("link interfaces static", "interface_static_joule"),
        ("total", "total_joule"), ("multi-chip overhead", "multichip_overhead_joule"))]  # fmt: skip
    print_table(f"energy on {rep['system']} ({format_si(rep['duration_s'], 's')})", ["part", "energy", "share"], rows)
    busy = sorted(rep["links"], key=lambda r: -r["packets"])[:5]
    if rep["links_model"] == "emulated":
        link_rows = [[f"{r['from']} -> {r['to']}", f"{r['offered_packets']:,}", f"{r['packets']:,}", format_si(r["rate_hz"], "Hz"),
                      f"{r['utilisation']:.3g}", str(r["peak_queue"]), f"{r['drops']:,}", "yes" if r["saturated"] else ""]
                     for r in busy if r["offered_packets"] > 0]  # fmt: skip
        print_table("busiest inter-chip links (emulated)",
                    ["link", "offered", "carried", "rate", "utilisation", "peak queue", "drops", "saturated"], link_rows)  # fmt: skip
        lat = rep["packet_latency_mean_s"]
        end = rep["end_state"]
        print(f"packet latency mean {format_si(lat, 's') if lat is not None else '-'}, max "
              f"{format_si(rep['packet_latency_max_s'], 's') if lat is not None else '-'}; at the end "
              f"{end['packets_waiting_at_source']:,} waiting at their source, {end['packets_queued']:,} queued")  # fmt: skip
    else:
        link_rows = [[f"{r['from']} -> {r['to']}", f"{r['packets']:,.0f}", format_si(r["rate_hz"], "Hz"), f"{r['utilisation']:.3g}",
                      "-" if r["peak_utilisation"] is None else f"{r['peak_utilisation']:.3g}", "yes" if r["saturated"] else ""]
                     for r in busy if r["packets"] > 0]  # fmt: skip
        print_table("busiest inter-chip links", ["link", "packets", "rate", "utilisation", "peak", "saturated"], link_rows)
    print(f"{rep['inter_chip_packets']:,.0f} inter-chip packets, {rep['link_crossings']:,.0f} link crossings, "
          f"mean {rep['mean_inter_chip_hops']:.2f} hops; links {rep['links_model']}" + (f"; note: {rep['not_emulated']}" if rep["not_emulated"] else ""))  # fmt: skip
