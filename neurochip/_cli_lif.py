"""``neurochip lif``: the LIF neuron's closed forms (tau_m, rheobase, ISI, f-I curve)."""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np

from . import lif
from ._display import print_json, print_table
from .errors import ConfigError, InvalidParameterError
from .units import format_si, parse_quantity

# flag -> (LIFParams field, unit)
_PARAM_FLAGS = {
    "--c-m": ("c_m_farad", "F"),
    "--g-leak": ("g_leak_siemens", "S"),
    "--r-leak": ("r_leak_ohm", "Ohm"),
    "--e-leak": ("e_leak_volt", "V"),
    "--v-th": ("v_th_volt", "V"),
    "--v-reset": ("v_reset_volt", "V"),
    "--t-ref": ("t_ref_s", "s"),
}


def add_param_flags(parser: argparse.ArgumentParser) -> None:
    """Flags for LIF parameters (``--c-m 1pF`` ...) and ``--config FILE.toml``."""
    group = parser.add_argument_group("neuron parameters (SI prefixes accepted: 1pF, 20ms)")
    group.add_argument("--config", metavar="FILE.toml", help="read parameters from the [lif] table of a TOML file")
    for flag, (field, unit) in _PARAM_FLAGS.items():
        default = getattr(lif.LIFParams(), field, None) if field != "r_leak_ohm" else None
        hint = f" (default {format_si(default, unit)})" if default is not None else ""
        group.add_argument(flag, metavar=unit, dest=field, help=f"{field}{hint}")


def params_from_args(args: argparse.Namespace) -> lif.LIFParams:
    """LIFParams from ``--config`` then the individual flags (flags win)."""
    base = lif.LIFParams.from_toml(args.config).to_dict() if args.config else lif.LIFParams().to_dict()
    overrides: dict[str, Any] = {}
    for flag, (field, unit) in _PARAM_FLAGS.items():
        value = getattr(args, field, None)
        if value is not None:
            try:
                overrides[field] = parse_quantity(value, unit=unit, name=flag)
            except InvalidParameterError as exc:
                raise ConfigError(str(exc)) from None
    if "r_leak_ohm" in overrides:
        if "g_leak_siemens" in overrides:
            raise ConfigError("--g-leak and --r-leak both given; give one")
        base.pop("g_leak_siemens")
    base.update(overrides)
    return lif.LIFParams.from_dict(base)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "lif",
        help="LIF neuron closed forms: tau_m, rheobase, ISI and the f-I curve",
        description="Print tau_m, rheobase, the maximum rate 1/t_ref and an f-I table of an LIF neuron.",
    )
    add_param_flags(p)
    p.add_argument("--current", metavar="A", help="print the ISI and rate for this one current (e.g. 0.5nA)")
    p.add_argument(
        "--sigma",
        metavar="V",
        help="white-noise amplitude (Brunel's sigma); with --current also prints the Siegert rate and ISI CV",
    )
    p.add_argument("--i-min", metavar="A", default="0", help="lowest current of the f-I table (default 0)")
    p.add_argument("--i-max", metavar="A", help="highest current of the f-I table (default 10 x rheobase)")
    p.add_argument("--points", type=int, default=11, help="rows of the f-I table (default 11)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.add_argument("--plot", metavar="FILE.png", help="draw the f-I curve with the 1/t_ref asymptote and the PIF line")
    p.set_defaults(func=run)


def lif_report(params: lif.LIFParams, *, i_min: float, i_max: float, points: int) -> dict[str, Any]:
    """The data of ``neurochip lif`` as a dict (SI units, JSON keys of the CLI)."""
    currents, rates = lif.fi_curve(params, i_min, i_max, points)
    return {
        "params": params.to_dict(),
        "tau_m_s": params.tau_m_s,
        "rheobase_amp": lif.rheobase(params),
        "max_rate_hz": lif.saturation_rate(params),
        "fi_curve": {
            "current_amp": currents,
            "rate_hz": rates,
            "pif_rate_hz": np.asarray(lif.pif_rate(params, currents)),
        },
    }


def run(args: argparse.Namespace) -> int:
    params = params_from_args(args)
    try:
        i_min = parse_quantity(args.i_min, unit="A", name="--i-min")
        i_max = parse_quantity(args.i_max, unit="A", name="--i-max") if args.i_max else None
        current = parse_quantity(args.current, unit="A", name="--current") if args.current else None
        sigma = parse_quantity(args.sigma, unit="V", name="--sigma") if args.sigma else None
    except InvalidParameterError as exc:
        raise ConfigError(str(exc)) from None
    rh = lif.rheobase(params)
    if i_max is None:
        i_max = 10 * rh if rh > 0 else 10 * params.c_m_farad * (params.v_th_volt - params.v_reset_volt) / max(
            params.t_ref_s, 1e-3
        )
    report = lif_report(params, i_min=i_min, i_max=i_max, points=args.points)
    if current is not None:
        report["current_amp"] = current
        report["isi_s"] = float(lif.isi(params, current))
        report["rate_hz"] = float(lif.firing_rate(params, current))
        report["saturation_fraction"] = float(lif.saturation_fraction(params, report["rate_hz"]))
        if sigma is not None:
            report["sigma_volt"] = sigma
            report["siegert_rate_hz"] = float(lif.siegert_rate(params, current, sigma_volt=sigma))
            report["siegert_cv"] = float(lif.siegert_cv(params, current, sigma_volt=sigma))
    if args.plot:
        plot_fi(params, report, args.plot)
    if args.json:
        print_json(report)
        return 0
    _print_report(params, report)
    if args.plot:
        print(f"f-I plot written to {args.plot}")
    return 0


def _print_report(params: lif.LIFParams, report: dict[str, Any]) -> None:
    units = {"farad": "F", "siemens": "S", "volt": "V", "s": "s", "amp": "A"}
    rows = [[k, format_si(v, units.get(k.rsplit("_", 1)[-1], ""))] for k, v in report["params"].items()]
    rows += [
        ["tau_m", format_si(report["tau_m_s"], "s")],
        ["rheobase", format_si(report["rheobase_amp"], "A")],
        ["max rate (1/t_ref)", format_si(report["max_rate_hz"], "Hz")],
    ]
    print_table("LIF neuron", ["quantity", "value"], rows)
    if "isi_s" in report:
        print_table(
            f"at I = {format_si(report['current_amp'], 'A')}",
            ["quantity", "value"],
            [
                ["ISI", format_si(report["isi_s"], "s")],
                ["rate", format_si(report["rate_hz"], "Hz")],
                ["rate x t_ref", f"{report['saturation_fraction']:.4f}"],
            ]
            + (
                [
                    [f"noisy rate (Siegert, sigma={format_si(report['sigma_volt'], 'V')})",
                     format_si(report["siegert_rate_hz"], "Hz")],
                    ["noisy ISI CV", f"{report['siegert_cv']:.4f}"],
                ]
                if "siegert_rate_hz" in report
                else []
            ),
        )
    fi = report["fi_curve"]
    rows = []
    for i, r, rp in zip(fi["current_amp"], fi["rate_hz"], fi["pif_rate_hz"]):
        frac = r * params.t_ref_s
        rows.append([format_si(i, "A"), format_si(r, "Hz"), f"{frac:.3f}", format_si(rp, "Hz")])
    print_table("f-I curve", ["current", "LIF rate", "rate x t_ref", "PIF rate"], rows)


def plot_fi(params: lif.LIFParams, report: dict[str, Any], path: str) -> None:
    """PNG of the f-I curve, the 1/t_ref ceiling and the PIF line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fi = report["fi_curve"]
    currents = np.linspace(fi["current_amp"][0], fi["current_amp"][-1], 400)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    ax.plot(currents * 1e9, lif.firing_rate(params, currents), label="LIF (closed form)")
    ax.plot(currents * 1e9, lif.pif_rate(params, currents), "--", label="PIF limit ($g_L \\to 0$)")
    sat = lif.saturation_rate(params)
    if math.isfinite(sat):
        ax.axhline(sat, color="k", ls=":", label="$1/t_{ref}$")
    ax.axvline(lif.rheobase(params) * 1e9, color="gray", ls="-.", lw=0.8, label="rheobase")
    ax.set_xlabel("input current (nA)")
    ax.set_ylabel("firing rate (Hz)")
    ax.set_title("f-I curve")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as exc:
        raise ConfigError(f"cannot write plot: {exc}", path=path) from None
    finally:
        plt.close(fig)
