"""``neurochip demo``: the main job on built-in defaults, running every stage that exists."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import lif
from ._cli_lif import _print_report, lif_report, plot_fi


def add_parser(sub: Any) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on built-in defaults")
    p.add_argument("-o", "--out", default="demo-output", metavar="DIR", help="folder for plots (default demo-output)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print("== 1. LIF neuron (closed forms, built-in default parameters)")
    params = lif.LIFParams()
    report = lif_report(params, i_min=0.0, i_max=10 * lif.rheobase(params), points=11)
    _print_report(params, report)
    plot_fi(params, report, str(out / "lif_fi.png"))
    _demo_circuit(out)
    print("== 3. Network (build, save, NIR export and import, network info)")
    from ._cli_network import demo_step

    demo_step(out)
    print(f"plots written to {out}/")
    return 0


def _demo_circuit(out: Path) -> None:
    """Characterise the default transistor-level neuron: LIF fit, energy per spike, static power."""
    from ._cli_circuit import plot_fit, print_fit
    from .circuit import FitOptions, fit_lif, spice_available

    print("== 2. Silicon neuron (ngspice): fit LIF parameters to lif_transistor")
    if not spice_available():
        print("ngspice's shared library is not available: step skipped (install libngspice0)")
        return
    res = fit_lif("lif_transistor", options=FitOptions(n_sweep=6))
    print_fit(res)
    plot_fit(res, str(out / "circuit_fi.png"))
