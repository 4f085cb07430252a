"""``neurochip stepped``: run a network on a time-stepped chip and report energy and time per step."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from .._display import print_json
from ..errors import ConfigError
from ._files import SEED, check_chip, integer, quantity


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "stepped",
        help="run a network on a time-stepped chip (loihi, truenorth): energy, time per step, real time",
        description="Run a network step by step with Loihi's integer neurons on a time-stepped chip; report "
        "counts (active and inactive updates), energy, time per step, steps/s and whether a real-time step is met.",
    )
    p.add_argument("network", metavar="NETWORK", help="network file (.npz from neurochip, or NIR .nir/.h5)")
    p.add_argument("--chip", default="loihi", metavar="NAME|FILE", help="a time-stepped chip (default loihi)")
    p.add_argument("--steps", type=integer(1, 100_000_000), default=1000, metavar="N", help="steps to run (default 1000)")
    p.add_argument("--dt", default=None, metavar="s", help="biological time of a step (default the chip's step or real-time target)")
    p.add_argument("--input", action="append", default=[], metavar="POP:RATE",
                   help="drive population POP with seeded Bernoulli spikes at RATE instead of simulating it, e.g. in:20Hz")
    p.add_argument("--seed", type=SEED, default=0, metavar="S", help="seed of the input spikes (default 0)")
    p.add_argument("--realtime", default=None, metavar="s", help="real-time step to check (default the chip's target)")
    p.add_argument("--pace", default=None, metavar="s", help="run the chip at this step (static power over steps x pace)")
    p.add_argument("--powered", choices=("used", "all"), default="used", help="cores paying static power")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_stepped_cmd)


def run_stepped_cmd(args: argparse.Namespace) -> int:
    from ..chip import load_chip
    from ..stepped import format_stepped_report, run_stepped, stepped_report
    from .network import load_any

    check_chip(args.chip)
    dt = quantity(args.dt, "s", "--dt", positive=True) if args.dt else None
    realtime = quantity(args.realtime, "s", "--realtime", positive=True) if args.realtime else None
    pace = quantity(args.pace, "s", "--pace", positive=True) if args.pace else None
    chip = load_chip(args.chip)
    network, _ = load_any(args.network)
    step_s = dt or chip.execution.step_s or chip.execution.target_step_s or 1e-3
    rng = np.random.default_rng(args.seed)
    inputs = {}
    for item in args.input:
        pop, sep, rate_text = item.partition(":")
        if not sep:
            raise ConfigError(f"--input {item!r}: expected POP:RATE, e.g. in:20Hz")
        names = [q.name for q in network.populations]
        if pop not in names:
            raise ConfigError(f"--input {item!r}: population {pop!r} is not in the network ({', '.join(names)})")
        size = network.population(pop).size
        p = quantity(rate_text, "Hz", "--input") * step_s
        if not 0 <= p <= 1:
            raise ConfigError(f"--input {item!r}: rate x step = {p:.4g} must be in [0, 1]")
        inputs[pop] = rng.random((args.steps, size)) < p
    run = run_stepped(network, chip, steps=args.steps, dt_s=dt, input_spikes=inputs)
    rep = stepped_report(run, realtime_step_s=realtime, paced_step_s=pace, powered=args.powered)
    if args.json:
        print_json(rep)
        return 0
    print(format_stepped_report(rep))
    return 0
