"""``neurochip lif``: the LIF neuron's closed forms (tau_m, rheobase, ISI, f-I curve).

The subcommands ``prc``, ``channel-noise``, ``strength-duration``, ``resonance`` and ``convert``
are at the end of this module (run ``neurochip lif SUBCOMMAND --help``; the neuron flags go
after the subcommand).  Parsing and printing only: the numbers come from :func:`neurochip.lif.summary`
and from the studies in :mod:`neurochip.studies`.
"""

from __future__ import annotations

import argparse
import inspect
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .. import lif
from .._display import print_json, print_table, pyplot, save_figure
from .._io import atomic_path, check_input_file, check_output_path
from ..errors import ConfigError, InvalidParameterError
from ..units import format_si
from ._files import SEED, check_plot, integer, quantity, quantity_list, real
from ._progress import working

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


def add_param_flags(parser: argparse.ArgumentParser, *, inherit: bool = False) -> None:
    """Flags for LIF parameters (``--c-m 1pF`` ...) and ``--config FILE.toml``."""
    group = parser.add_argument_group("neuron parameters (SI prefixes accepted: 1pF, 20ms)")
    group.add_argument(
        "--config",
        metavar="FILE.toml",
        help="read parameters from the [lif] table of a TOML file",
        **({"default": argparse.SUPPRESS} if inherit else {}),
    )
    for flag, (field, unit) in _PARAM_FLAGS.items():
        default = getattr(lif.LIFParams(), field, None) if field != "r_leak_ohm" else None
        hint = f" (default {format_si(default, unit)})" if default is not None else ""
        extra = {"default": argparse.SUPPRESS} if inherit else {}
        group.add_argument(flag, metavar=unit, dest=field, help=f"{field}{hint}", **extra)


# flags whose quantity must be > 0 (a capacitance, a conductance, a resistance) or >= 0 (t_ref)
_POSITIVE = {"--c-m", "--g-leak", "--r-leak"}


def params_from_args(args: argparse.Namespace) -> lif.LIFParams:
    """LIFParams from ``--config`` then the individual flags (flags win).

    A rule the parameters break is reported with the flags' names (``--v-reset = ...``), not the
    field names of :class:`~neurochip.lif.LIFParams`.
    """
    if getattr(args, "config", None):
        path = check_input_file(args.config, "--config", text=True, what="a TOML file with a [lif] table")
        if not path.read_text(encoding="utf-8").strip():
            raise ConfigError(f"--config {args.config}: the file is empty; expected a TOML file with a [lif] table")
    base = lif.LIFParams.from_toml(args.config).to_dict() if getattr(args, "config", None) else lif.LIFParams().to_dict()
    overrides: dict[str, Any] = {}
    for flag, (field, unit) in _PARAM_FLAGS.items():
        value = getattr(args, field, None)
        if value is not None:
            overrides[field] = quantity(value, unit, flag, positive=flag in _POSITIVE, nonnegative=flag == "--t-ref")
    if "r_leak_ohm" in overrides:
        if "g_leak_siemens" in overrides:
            raise ConfigError("--g-leak and --r-leak both given; give one")
        base.pop("g_leak_siemens")
    base.update(overrides)
    try:
        return lif.LIFParams.from_dict(base)
    except (InvalidParameterError, ConfigError) as exc:
        text = str(exc)
        for flag, (field, _) in _PARAM_FLAGS.items():
            text = text.replace(field, flag)
        raise ConfigError(text + (" (from --config and the neuron flags)" if getattr(args, "config", None) else "")) from None


def given_neuron_flags(args: argparse.Namespace) -> list[str]:
    """The neuron flags (and --config) given on the command line."""
    given = [flag for flag, (field, _) in _PARAM_FLAGS.items() if getattr(args, field, None) is not None]
    return (["--config"] if getattr(args, "config", None) else []) + given


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "lif",
        help="LIF neuron closed forms: tau_m, rheobase, ISI and the f-I curve",
        description="Print tau_m, rheobase, the maximum rate 1/t_ref and an f-I table of an LIF neuron.",
    )
    add_param_flags(p)
    p.add_argument("--current", metavar="A",
                   help="print the ISI and rate for this one current (e.g. 0.5nA; below the rheobase the rate is 0)")
    p.add_argument(
        "--sigma",
        metavar="V",
        help="white-noise amplitude (Brunel's sigma), needs --current: also prints the Siegert rate and ISI CV there",
    )
    p.add_argument("--i-min", metavar="A", default="0", help="lowest current of the f-I table (default 0)")
    p.add_argument("--i-max", metavar="A", help="highest current of the f-I table (default 10 x rheobase)")
    p.add_argument("--points", type=integer(2, 10_000), default=11, metavar="N",
                   help="rows of the f-I table, 2..10000 (default 11)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.add_argument("--plot", metavar="FILE.png", help="draw the f-I curve with the 1/t_ref asymptote and the PIF line")
    p.set_defaults(func=run)
    add_reach_subcommands(p)


def run(args: argparse.Namespace) -> int:
    params = params_from_args(args)
    if args.sigma is not None and args.current is None:
        raise ConfigError("--sigma needs --current: the Siegert rate and CV are computed at that current")
    i_min, i_max = _q(args.i_min, "A", "--i-min"), _q(args.i_max, "A", "--i-max")
    if i_max is not None and i_max <= (i_min or 0.0):
        raise ConfigError(f"--i-max = {args.i_max!r}: must be above --i-min ({format_si(i_min or 0.0, 'A')})")
    report = lif.summary(params, i_min=i_min, i_max=i_max, points=args.points, current=_q(args.current, "A", "--current"),
                         sigma_volt=_q(args.sigma, "V", "--sigma", positive=True))  # fmt: skip
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


# --------------------------------------------------------------------------------------------
# figures: one figure per subcommand, each drawn inside ``_figure`` and saved by ``save_figure``


@contextmanager
def _figure(path: str, *, ncols: int = 1, dpi: int = 90) -> Iterator[Any]:
    """Axes of a new figure (an array of them when ``ncols`` > 1), saved to ``path`` on exit."""
    plt = pyplot()
    fig, axes = plt.subplots(1, ncols, figsize=(6 * ncols, 4), dpi=dpi)
    try:
        yield axes
    except BaseException:
        plt.close(fig)
        raise
    fig.tight_layout()
    with atomic_path(path) as tmp:  # a failed save leaves no half-written figure
        save_figure(fig, tmp)


def _label(ax: Any, xlabel: str, ylabel: str, title: str, *, legend: str | None = "best", which: str = "major") -> None:
    """Axis labels, title, legend (at ``legend``, or none) and a light grid."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if legend is not None:
        ax.legend(loc=legend)
    ax.grid(alpha=0.3, which=which)


def plot_fi(params: lif.LIFParams, report: dict[str, Any], path: str) -> None:
    """PNG of the f-I curve, the 1/t_ref ceiling and the PIF line."""
    fi = report["fi_curve"]
    currents = np.linspace(fi["current_amp"][0], fi["current_amp"][-1], 400)
    with _figure(path, dpi=120) as ax:
        ax.plot(currents * 1e9, lif.firing_rate(params, currents), label="LIF (closed form)")
        ax.plot(currents * 1e9, lif.pif_rate(params, currents), "--", label="PIF limit ($g_L \\to 0$)")
        sat = lif.saturation_rate(params)
        if math.isfinite(sat):
            ax.axhline(sat, color="k", ls=":", label="$1/t_{ref}$")
        ax.axvline(lif.rheobase(params) * 1e9, color="gray", ls="-.", lw=0.8, label="rheobase")
        _label(ax, "input current (nA)", "firing rate (Hz)", "f-I curve", legend="lower right")


def _plot_prc(params: lif.LIFParams, rep: dict[str, Any], path: str) -> None:
    current, kick = rep["current_amp"], rep["kick_volt"]
    with _figure(path) as ax:
        fine = np.linspace(0, 0.999, 500)
        ax.plot(fine, lif.phase_response(params, current, fine, kick), label="closed form")
        ax.plot(rep["phase"], rep["prc_emulator"], "o", ms=5, mfc="none", label="emulator (kicked neurons)")
        _label(ax, "phase of the kick (fraction of the ISI)", "phase advance (fraction of the ISI)",
               f"PRC, I = {format_si(current, 'A')}, kick {format_si(kick, 'V')}")  # fmt: skip


def _plot_channel_noise(rep: dict[str, Any], path: str) -> None:
    with _figure(path) as ax:
        ax.semilogx(rep["n_channels"], rep["siegert_cv"], "-", label="diffusion approx. + Siegert CV")
        ax.semilogx(rep["n_channels"], rep["emulator_cv"], "o", label="emulator, white noise of that sigma")
        if "markov_cv" in rep:
            ax.semilogx(rep["n_channels"], rep["markov_cv"], "s", mfc="none", label="N Markov channels (direct)")
        _label(ax, "number of leak channels N", "ISI coefficient of variation",
               f"channel noise: p = {rep['open_probability']:g}, tau_c = {format_si(rep['channel_tau_s'], 's')}")  # fmt: skip


def _plot_strength_duration(rep: dict[str, Any], path: str) -> None:
    widths = rep["widths_s"]
    params = lif.LIFParams.from_dict(rep["params"])
    with _figure(path) as ax:
        fine = np.geomspace(widths.min() / 2, widths.max() * 2, 300)
        ax.loglog(fine * 1e6, np.asarray(lif.min_pulse_amplitude(params, fine)) * 1e9, label="closed form")
        ax.loglog(widths * 1e6, rep["emulator_amp"] * 1e9, "o", mfc="none", label="emulator (bisection)")
        if "spice_amp" in rep:
            ax.loglog(widths * 1e6, rep["spice_amp"] * 1e9, "x", ms=8, label=f"ngspice {rep['circuit']} (bisection)")
        ax.axhline(rep["rheobase_amp"] * 1e9, color="gray", ls=":", label="rheobase")
        if rep["chronaxie_s"]:
            ax.axvline(rep["chronaxie_s"] * 1e6, color="gray", ls="-.", lw=0.8, label="chronaxie")
        title = "strength-duration curve" + (f" (fitted {rep['circuit']})" if "circuit" in rep else "")
        _label(ax, "pulse width (us)", "minimum amplitude to fire (nA)", title, which="both")


def _plot_resonance(res: Any, path: str, bias_fraction: float, amplitude_fraction: float) -> None:
    with _figure(path) as ax:
        ax.semilogx(res.sigma_volt * 1e3, res.snr, "o-", label="spectral SNR at $f_0$")
        ax.axvline(res.best_sigma_volt * 1e3, color="gray", ls=":", lw=0.8)
        ax2 = ax.twinx()
        ax2.semilogx(res.sigma_volt * 1e3, res.vector_strength, "s--", color="C1", mfc="none", label="vector strength")
        ax2.set_ylabel("vector strength", color="C1")
        _label(ax, "noise sigma (mV)", "SNR at the drive frequency",
               f"stochastic resonance, f0 = {format_si(res.frequency_hz, 'Hz')}, drive {bias_fraction:g}"
               f"+{amplitude_fraction:g} x rheobase", legend=None)  # fmt: skip
        lines = ax.get_lines()[:1] + ax2.get_lines()[:1]
        ax.legend(lines, [ln.get_label() for ln in lines], loc="upper right")


def _plot_convert(rep: dict[str, Any], path: str) -> None:
    with _figure(path, ncols=2) as axes:
        a = rep["ann_output"].ravel()
        lim = [0, a.max() * 1.1]
        for ax, m, title in zip(axes, ("pif", "lif"), ("PIF-style conversion", "LIF-aware conversion")):
            lam = rep[m]["rate_scale_hz"]
            ax.plot(a, rep[m]["snn_rate_hz"].ravel() / lam, "o", ms=4, label="emulated SNN")
            ax.plot(a, rep[m]["predicted_rate_hz"].ravel() / lam, "x", ms=4, label="mean-current prediction")
            ax.plot(lim, lim, "k:", lw=0.8)
            _label(ax, "ANN output", "SNN rate / lambda", f"{title}: rel. error {rep[m]['error']:.3f}", legend="upper left")


# --------------------------------------------------------------------------------------------
# subcommands: the LIF model's wider reach (docs/lif-prc.md, lif-channel-noise.md,
# lif-strength-duration.md, lif-resonance.md, lif-conversion.md)


def _q(value: str | None, unit: str, flag: str, **bounds: Any) -> float | None:
    """The flag's quantity in SI units (checked as :func:`~neurochip.cli._files.quantity`), or
    None when the flag is absent."""
    return None if value is None else quantity(value, unit, flag, **bounds)


def _qlist(value: str | None, unit: str, flag: str, **bounds: Any) -> np.ndarray | None:
    """A comma-separated list of checked quantities, or None when the flag is absent."""
    if value is None:
        return None
    return np.asarray(quantity_list(value, unit, flag, **bounds), dtype=np.float64)


def _common(p: argparse.ArgumentParser) -> None:
    # SUPPRESS: a flag given before the subcommand (``lif --c-m 2pF prc``) is kept, not reset
    add_param_flags(p, inherit=True)
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON instead of tables")
    p.add_argument("--plot", metavar="FILE.png", default=argparse.SUPPRESS, help="draw the figure of this subcommand")


def add_reach_subcommands(parent: argparse.ArgumentParser) -> None:
    """``neurochip lif prc | channel-noise | strength-duration | resonance | convert``."""
    sub = parent.add_subparsers(dest="lif_command", required=False, metavar="SUBCOMMAND",
                                title="subcommands (the report above runs when none is given)")  # fmt: skip
    p = sub.add_parser("prc", help="phase response curve: closed form vs the emulator",
                       description="Phase response curve to a voltage kick, closed form and measured in the emulator.")  # fmt: skip
    _common(p)
    p.add_argument("--current", metavar="A", help="DC current, above the rheobase (default 2 x rheobase)")
    p.add_argument("--kick", metavar="V", help="kick size (default 1 %% of V_th - V_reset)")
    p.add_argument("--phases", type=integer(2, 1000), default=20, metavar="N",
                   help="number of phases in [0, 1), 2..1000 (default 20)")
    p.set_defaults(func=run_prc)

    p = sub.add_parser("channel-noise", help="N leak channels -> sigma -> ISI CV, vs the emulator (and Markov channels)",
                       description="Channel noise by the diffusion approximation, its predicted ISI CV (Siegert) "
                       "and the CV of the emulator's noisy neuron; --markov adds a direct simulation of the channels.")  # fmt: skip
    _common(p)
    p.add_argument("--current", metavar="A", help="mean current (default the rheobase)")
    p.add_argument("--channels", default="10,40,160,640", metavar="N,N,...",
                   help="channel counts, comma-separated, each 1..1000000 (default 10,40,160,640)")
    p.add_argument("--open-prob", type=real(0.0, 1.0, open_low=True), default=0.5, metavar="P",
                   help="open probability p, in (0, 1] (default 0.5)")
    p.add_argument("--channel-tau", metavar="s", help="channel correlation time (default tau_m / 10)")
    p.add_argument("--driving-force", metavar="V", help="V - E_L at the operating point (default (V_th + V_reset)/2 - E_L)")
    p.add_argument("--spikes", type=integer(10, 1_000_000), default=1500, metavar="N",
                   help="spikes per emulator run, 10..1000000 (default 1500)")
    p.add_argument("--markov", action="store_true", help="also simulate N two-state Markov channels directly")
    p.add_argument("--seed", type=SEED, default=0, metavar="S", help="seed of the noise (default 0)")
    p.set_defaults(func=run_channel_noise)

    p = sub.add_parser("strength-duration", help="rheobase, chronaxie and the strength-duration curve, vs emulator/SPICE",
                       description="Minimum pulse amplitude against pulse width: closed form, emulator bisection, "
                       "and with --spice the lif_behavioral circuit fitted and bisected in ngspice.")  # fmt: skip
    _common(p)
    p.add_argument("--widths", metavar="s,s,...", help="pulse widths, comma-separated (default 0.05 ... 5 tau_m, 8 values)")
    p.add_argument("--spice", action="store_true",
                   help="fit the lif_behavioral circuit and use its LIF parameters (so no neuron flags); "
                   "bisect in ngspice too")  # fmt: skip
    p.set_defaults(func=run_strength_duration)

    p = sub.add_parser("resonance", help="stochastic resonance: SNR of a subthreshold sinusoid against noise",
                       description="Spectral SNR and vector strength of the spikes of noisy neurons driven by a "
                       "subthreshold sinusoid (a fine CurrentStep staircase), against the noise sigma.")  # fmt: skip
    _common(p)
    p.add_argument("--sigmas", metavar="V,V,...",
                   help="noise sigmas, comma-separated (default (V_th - E_L) x 0.01 ... 2, 12 values)")
    p.add_argument("--bias-fraction", type=real(0.0, 1.0), default=0.8, metavar="X",
                   help="bias current / rheobase, in [0, 1] (default 0.8)")
    p.add_argument("--amplitude-fraction", type=real(0.0, 1.0, open_low=True), default=0.15, metavar="X",
                   help="sinusoid amplitude / rheobase, in (0, 1] (default 0.15)")
    p.add_argument("--frequency", metavar="Hz", help="drive frequency (default 0.1 / tau_m)")
    p.add_argument("--duration", metavar="s", help="run length (default 100 drive periods)")
    p.add_argument("--trials", type=integer(1, 10_000), default=10, metavar="N",
                   help="neurons (noise paths) per sigma, 1..10000 (default 10)")
    p.add_argument("--seed", type=SEED, default=1, metavar="S", help="seed of the noise (default 1)")
    p.set_defaults(func=run_resonance)

    p = sub.add_parser("convert", help="ANN -> SNN rate conversion: LIF-aware vs PIF-style, run in the emulator",
                       description="Train a small ReLU MLP on synthetic data, convert it with the LIF f-I curve and "
                       "with the PIF approximation, run both in the emulator and compare with the ANN.")  # fmt: skip
    _common(p)
    p.add_argument("--samples", type=integer(1, 10_000), default=20, metavar="N",
                   help="test inputs run in the emulator, 1..10000 (default 20)")
    p.add_argument("--duration", metavar="s", default="2",
                   help="emulated time per run, longer than the 0.1 s warm-up (default 2 s)")
    p.add_argument("--max-rate", metavar="Hz", help="rate of the largest activation, below 1/t_ref (default 0.2 / t_ref)")
    p.add_argument("--seed", type=SEED, default=0, metavar="S", help="seed of the data and the weights (default 0)")
    p.add_argument("--nir", metavar="FILE.nir", help="write the LIF-aware converted network (one copy) as NIR")
    p.set_defaults(func=run_convert)


def run_prc(args: argparse.Namespace) -> int:
    from ..studies.prc import compare_prc

    params = params_from_args(args)
    current = _q(args.current, "A", "--current")
    if current is not None and current <= lif.rheobase(params):
        raise ConfigError(f"--current = {args.current!r}: must be above the rheobase {format_si(lif.rheobase(params), 'A')} "
                          "(the neuron must fire periodically to have a phase)")
    kick = _q(args.kick, "V", "--kick", positive=True)
    with working("emulating kicked neurons", size=f"{args.phases} phases"):
        rep = compare_prc(params, current, kick_volt=kick, n_phases=args.phases)
    if args.plot:
        _plot_prc(params, rep, args.plot)
    if args.json:
        print_json(rep)
        return 0
    current, kick = format_si(rep["current_amp"], "A"), format_si(rep["kick_volt"], "V")
    rows = [[f"{ph:.3f}", f"{c:.6f}", f"{m:.6f}"] for ph, c, m in zip(rep["phase"], rep["prc_closed_form"], rep["prc_emulator"])]
    print_table(f"PRC at I = {current} (ISI {format_si(rep['period_s'], 's')}), kick {kick}",
                ["phase", "closed form", "emulator"], rows)  # fmt: skip
    print(f"max |closed form - emulator| = {rep['max_abs_difference']:.3g} of the ISI")
    return 0


def run_channel_noise(args: argparse.Namespace) -> int:
    from ..studies.channel_noise import compare_channel_noise

    params = params_from_args(args)
    try:
        channels = np.asarray([int(c) for c in args.channels.split(",")])
    except ValueError:
        raise ConfigError(f"--channels = {args.channels!r}: must be integers separated by commas") from None
    if not ((channels >= 1) & (channels <= 1_000_000)).all():
        raise ConfigError(f"--channels = {args.channels!r}: each count must be in 1..1000000")
    current = _q(args.current, "A", "--current")
    tau_c = _q(args.channel_tau, "s", "--channel-tau", positive=True)
    force = _q(args.driving_force, "V", "--driving-force")
    with working("emulating noisy neurons", size=f"{channels.size} channel counts x {args.spikes} spikes"):
        rep = compare_channel_noise(params, current, channels, open_probability=args.open_prob, channel_tau_s=tau_c,
                                    driving_force_volt=force, n_spikes=args.spikes, markov=args.markov,
                                    seed=args.seed)  # fmt: skip
    if args.plot:
        _plot_channel_noise(rep, args.plot)
    if args.json:
        print_json(rep)
        return 0
    cols = ["N", "sigma", "Siegert rate", "Siegert CV", "emulator CV"] + (["Markov CV", "Markov rate"] if args.markov else [])
    rows = []
    for k in range(channels.size):
        row = [str(channels[k]), format_si(rep["sigma_volt"][k], "V"), format_si(rep["siegert_rate_hz"][k], "Hz"),
               f"{rep['siegert_cv'][k]:.4f}", f"{rep['emulator_cv'][k]:.4f}"]  # fmt: skip
        if args.markov:
            row += [f"{rep['markov_cv'][k]:.4f}", format_si(rep["markov_rate_hz"][k], "Hz")]
        rows.append(row)
    print_table(f"channel noise at I = {format_si(rep['current_amp'], 'A')}", cols, rows)
    return 0


def run_strength_duration(args: argparse.Namespace) -> int:
    from ..studies.strength_duration import compare_strength_duration

    params = params_from_args(args)
    widths = _qlist(args.widths, "s", "--widths", positive=True)
    if args.spice:
        from ..circuit import spice_available

        given = given_neuron_flags(args)
        if given:
            raise ConfigError(f"{given[0]}: not used with --spice, which fits the lif_behavioral circuit and uses "
                              "its parameters; drop the neuron flags or --spice")
        if not spice_available():
            raise ConfigError("--spice: ngspice is not available (see docs/install.md)")
    n = 8 if widths is None else widths.size
    with working("fitting lif_behavioral and bisecting in ngspice and the emulator" if args.spice
                 else "bisecting in the emulator", size=f"{n} pulse widths"):
        rep = compare_strength_duration(params, widths, spice=args.spice)
    if args.plot:
        _plot_strength_duration(rep, args.plot)
    if args.json:
        print_json(rep)
        return 0
    print_table("minimum drive", ["quantity", "value"],
                [["rheobase", format_si(rep["rheobase_amp"], "A")],
                 ["chronaxie", format_si(rep["chronaxie_s"], "s") if rep["chronaxie_s"] else "-"]])  # fmt: skip
    cols = ["width", "closed form", "emulator", "emu/closed - 1"] + (["ngspice", "spice/closed - 1"] if args.spice else [])
    rows = []
    for k, w in enumerate(rep["widths_s"]):
        c, e = rep["closed_form_amp"][k], rep["emulator_amp"][k]
        row = [format_si(w, "s"), format_si(c, "A"), format_si(e, "A"), f"{e / c - 1:+.2e}"]
        if args.spice:
            s = rep["spice_amp"][k]
            row += [format_si(s, "A"), f"{s / c - 1:+.2e}"]
        rows.append(row)
    print_table("strength-duration", cols, rows)
    return 0


def run_resonance(args: argparse.Namespace) -> int:
    from ..studies.resonance import resonance_curve

    params = params_from_args(args)
    sigmas = _qlist(args.sigmas, "V", "--sigmas", positive=True)
    frequency = _q(args.frequency, "Hz", "--frequency", positive=True)
    duration = _q(args.duration, "s", "--duration", positive=True, high=1e4)
    if duration is not None and frequency is not None and duration * frequency < 2:
        raise ConfigError(f"--duration = {args.duration!r}: must hold at least 2 periods of --frequency")
    n = 12 if sigmas is None else sigmas.size
    with working("emulating noisy neurons", size=f"{n} sigmas x {args.trials} neurons"):
        res = resonance_curve(params, sigmas, bias_fraction=args.bias_fraction, amplitude_fraction=args.amplitude_fraction,
                              frequency_hz=frequency, duration_s=duration, n_trials=args.trials, seed=args.seed)  # fmt: skip
    if args.plot:
        _plot_resonance(res, args.plot, args.bias_fraction, args.amplitude_fraction)
    if args.json:
        print_json({"params": params.to_dict(), **res.to_dict()})
        return 0
    rows = [[format_si(s, "V"), f"{q:.3f}", f"{v:.3f}", format_si(r, "Hz")]
            for s, q, v, r in zip(res.sigma_volt, res.snr, res.vector_strength, res.rate_hz)]  # fmt: skip
    title = (f"stochastic resonance (f0 = {format_si(res.frequency_hz, 'Hz')}, {res.n_trials} neurons x "
             f"{format_si(res.duration_s, 's')})")  # fmt: skip
    print_table(title, ["sigma", "SNR", "vector strength", "rate"], rows)
    print(f"best sigma: {format_si(res.best_sigma_volt, 'V')}")
    return 0


def run_convert(args: argparse.Namespace) -> int:
    from ..studies.conversion import simulate_converted, synthetic_study

    if args.nir:
        check_output_path(args.nir, inputs=(getattr(args, "config", None),), flag="--nir")
    check_plot(getattr(args, "plot", None), inputs=(getattr(args, "config", None), args.nir))
    params = params_from_args(args)
    warmup = inspect.signature(simulate_converted).parameters["warmup_s"].default
    duration = quantity(args.duration, "s", "--duration", positive=True, high=1e4)
    if duration <= warmup:
        raise ConfigError(f"--duration = {args.duration!r}: must be longer than the fixed warm-up of "
                          f"{format_si(warmup, 's')}, whose spikes are not counted (rates are counted after it)")
    max_rate = _q(args.max_rate, "Hz", "--max-rate", positive=True)
    ceiling = lif.saturation_rate(params)
    if max_rate is not None and max_rate >= ceiling:
        raise ConfigError(f"--max-rate = {args.max_rate!r}: must be below the ceiling 1/t_ref = {format_si(ceiling, 'Hz')}, "
                          "where the LIF f-I curve saturates")
    with working("training, converting and emulating", size=f"{args.samples} samples x {format_si(duration, 's')} x 2"):
        rep, conversions = synthetic_study(params, n_samples=args.samples, duration_s=duration, max_rate_hz=max_rate,
                                           seed=args.seed)  # fmt: skip
    if args.nir:
        from ..network.nir_io import write_nir

        net = conversions["lif"].network(1)
        with atomic_path(args.nir) as tmp:
            write_nir(net, tmp)
    if args.plot:
        _plot_convert(rep, args.plot)
    if args.json:
        print_json(rep)
        return 0
    print_table("ANN -> SNN conversion (relative RMS error of the output rates against the ANN)",
                ["conversion", "emulated SNN", "mean-current prediction"],
                [["PIF-style", f"{rep['pif']['error']:.4f}", f"{rep['pif']['predicted_error']:.4f}"],
                 ["LIF-aware", f"{rep['lif']['error']:.4f}", f"{rep['lif']['predicted_error']:.4f}"]])  # fmt: skip
    if args.nir:
        print(f"LIF-aware network written to {args.nir}")
    return 0
