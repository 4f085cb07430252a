"""``neurochip estimate``: what one inference of an NIR model costs on a chip.

A thin driver over :func:`neurochip.neurobench.estimate`: does the model fit (which capacity
overflows, by how much), energy per inference (dynamic by operation, static), latency per
inference, saturation, and NeuroBench's complexity metrics; tables for people, ``--json`` for
scripts.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from .._display import print_json, print_table
from .._io import check_input_file, load_npz
from ..errors import ConfigError
from ..units import format_si
from ._files import SEED, check_chip, integer, quantity
from ._json import with_whole_counts


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "estimate",
        help="fit, energy and latency per inference, saturation and NeuroBench metrics of an NIR model on a chip",
        description="Estimate one inference of an NIR model on a chip: fit, energy, latency, saturation, metrics.",
    )
    p.add_argument("model", metavar="MODEL.nir", help="the NIR graph (HDF5)")
    p.add_argument("--chip", required=True, metavar="NAME|FILE", help="a chip preset (loihi, ...) or a chip TOML file")
    p.add_argument("--from", dest="profile", metavar="PROFILE",
                   help="the exporter that wrote the model: nir, snntorch, sinabs, norse, rockpool or lava-dl (sets dt and the reset; "
                        "default: NIR's own convention, dt = 1 s, spikes as unit pulses, listed as assumed)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--rate", metavar="HZ", help="Bernoulli input spikes per channel and step at this rate")
    src.add_argument("--input", metavar="EVENTS.npz",
                     help="input events: t_s and channel, or t_s, x, y, polarity (on the first Input node)")
    p.add_argument("--steps", type=integer(1, 10_000_000), default=100, metavar="N",
                   help="time steps of one inference (default 100)")
    p.add_argument("--seed", type=SEED, default=0, metavar="S", help="seed of the input spikes and the emulator (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=run)  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from ..network.nir_profiles import PROFILES
    from ..neurobench import estimate

    if args.profile is not None and args.profile not in PROFILES:
        raise ConfigError(f"--from {args.profile!r}: must be one of {', '.join(sorted(PROFILES))}")
    check_input_file(args.model, "MODEL.nir", what="an NIR HDF5 graph")
    chip = check_chip(args.chip) or args.chip
    rate = None if args.rate is None else quantity(args.rate, "Hz", "--rate", positive=True)
    events = None
    if args.input is not None:
        check_input_file(args.input, "--input", what="an events .npz")
        events = load_npz(args.input, "an events file (t_s and channel, or t_s, x, y, polarity)")
        if "t_s" not in events or not ("channel" in events or {"x", "y", "polarity"} <= set(events)):
            raise ConfigError("--input: the events file needs t_s and channel, or t_s, x, y and polarity",
                              path=args.input)  # fmt: skip
    data = estimate(args.model, chip, profile=args.profile, steps=args.steps, rate_hz=rate, events=events,
                    seed=args.seed)  # fmt: skip
    if args.json:
        nb = data.get("neurobench")
        if isinstance(nb, dict):  # operation counts of one inference: integers
            nb = {**nb, **{k: with_whole_counts(nb[k], tuple(nb[k])) for k in ("SynapticOperations", "MembraneUpdates")
                           if isinstance(nb.get(k), dict)}}
            data = {**data, "neurobench": nb}
        if data.get("latency_per_inference_s") is None:
            data = {**data, "latency_note": "no output spike after an input spike: no latency per inference"}
        lat = data.get("packet_latency_s")
        if isinstance(lat, dict) and any(v is None or (isinstance(v, float) and not math.isfinite(v)) for v in lat.values()):
            data = {**data, "packet_latency_s": {k: v if isinstance(v, (int, float)) and math.isfinite(v) else None
                                                 for k, v in lat.items()},
                    "packet_latency_note": "no packet crossed the chip: no packet latency"}
        print_json(data)
        return 0 if data["fits"] else 1
    m = data["model"]
    print_table(f"{args.model} on {data['chip']}", ["", "value"], [
        ["profile", str(m["profile"])], ["time step", format_si(m["dt_s"], "s")], ["steps per inference", str(m["steps"])],
        ["neurons", str(m["neurons"])], ["synapses", str(m["synapses"])],
        ["fits", "yes" if data["fits"] else "NO: " + data["overflow"]["message"]],
    ])  # fmt: skip
    if data["layers"]:
        print_table("convolution and pooling layers (synapse memory)", ["layer", "in -> out", "expanded", "shared"], [
            [k, f"{tuple(v['input_shape'])} -> {tuple(v['output_shape'])}", format_si(v["expanded_bytes"], "B"),
             format_si(v["shared_bytes"], "B")] for k, v in data["layers"].items()
        ])  # fmt: skip
    if not data["fits"]:
        return 1
    e = data["energy_per_inference_joule"]
    rows = [[op, format_si(j, "J")] for op, j in e["by_operation"].items() if j]
    rows += [["dynamic", format_si(e["dynamic"], "J")], ["static", format_si(e["static"], "J")],
             ["total (modelled)", format_si(e["total"], "J")]]  # fmt: skip
    print_table("energy per inference", ["", "energy"], rows)
    lat = data["latency_per_inference_s"]
    s = data["saturation"]
    print_table("latency and saturation", ["", "value"], [
        ["latency per inference (first input -> last output spike)", "-" if lat is None else format_si(lat, "s")],
        ["packet latency, max", format_si(data["packet_latency_s"].get("max", 0.0), "s")],
        ["neurons at their rate ceiling", str(s["neurons_saturated"])],
        ["links saturated", str(len(s["links_saturated"]))], ["link utilisation, max", f"{s['link_utilisation_max']:.3g}"],
        ["dropped packets", str(s["drops"])],
    ])  # fmt: skip
    nb = data["neurobench"]
    ops = nb["SynapticOperations"]
    print_table("NeuroBench metrics (of the model)", ["metric", "value"], [
        ["Footprint", format_si(nb["Footprint_bytes"], "B")], ["ConnectionSparsity", f"{nb['ConnectionSparsity']:.4f}"],
        ["ActivationSparsity", f"{nb['ActivationSparsity']:.4f}"], ["Effective_ACs", f"{ops['Effective_ACs']:.0f}"],
        ["Effective_MACs", f"{ops['Effective_MACs']:.0f}"], ["Dense", f"{ops['Dense']:.0f}"],
        ["MembraneUpdates (time-stepped)", f"{nb['MembraneUpdates']['time_stepped']:.0f}"],
        ["neuron updates (event-driven chip)", f"{nb['MembraneUpdates']['event_driven']:.0f}"],
    ])  # fmt: skip
    return 0
