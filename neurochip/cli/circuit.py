"""``neurochip circuit``: list, simulate and fit silicon neuron and synapse netlists; Monte Carlo mismatch."""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np

from .._display import print_json, print_table, save_figure
from ..errors import ConfigError
from ..units import format_si
from ._files import SEED, WORKERS, check_circuit, check_plot, integer, quantity, write_plot
from ._progress import enabled as progress_enabled
from ._progress import working


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "circuit",
        help="silicon neuron netlists: list, simulate (ngspice), fit LIF parameters, Monte Carlo",
        description="Simulate neuron netlists with ngspice and fit LIF parameters to them.",
    )
    csub = p.add_subparsers(dest="circuit_command", metavar="ACTION")

    q = csub.add_parser("list", help="the shipped netlist templates and their parameters",
                        description="List the shipped circuits: kind (neuron or synapse), parameters and defaults.")
    q.add_argument("--json", action="store_true", help="print JSON instead of tables")
    q.set_defaults(func=run_list)

    q = csub.add_parser("simulate", help="one transient run under a constant current",
                        description="One ngspice transient run of a neuron netlist under a constant input current: "
                        "spike times, mean ISI, supply power and energy per ISI.")
    q.add_argument("circuit", metavar="NAME|FILE", help="shipped circuit name or a netlist file")
    q.add_argument("--current", required=True, metavar="A", help="input current, e.g. 2nA (|I| <= 1 A)")
    q.add_argument("--duration", required=True, metavar="s", help="simulated time, e.g. 20ms (> 0, at most 1 s)")
    _add_set_flag(q)
    _add_corner_flag(q)
    _add_detect_flags(q)
    q.add_argument("--plot", metavar="FILE.png", help="plot the membrane (detected spikes marked) and supply traces")
    q.add_argument("--json", action="store_true", help="print JSON (key spike_times_s)")
    q.set_defaults(func=run_simulate)

    q = csub.add_parser("fit", help="characterise a netlist: LIF parameters of a neuron, tau and q of a synapse",
                        description="Fit LIF parameters to a neuron netlist (an f-I sweep in ngspice), or the "
                        "exponential synapse to a synapse netlist; with energy per spike/event and static power.")
    q.add_argument("circuit", metavar="NAME|FILE", help="shipped circuit name or a netlist file")
    _add_set_flag(q)
    _add_corner_flag(q)
    q.add_argument("--points", type=integer(3, 100), default=8, metavar="N",
                   help="currents in the suprathreshold sweep of a neuron, 3..100 (default 8)")
    _add_detect_flags(q)
    q.add_argument("--plot", metavar="FILE.png",
                   help="SPICE f-I points over the fitted LIF curve (synapse: SPICE current over the fit)")
    q.add_argument("--check-step", action="store_true",
                   help="halve ngspice's max step until energy per spike and ISI change < 1 %% (middle sweep current)")
    q.add_argument("-o", "--output", metavar="FILE.toml", help="write the fitted LIF parameters")
    q.add_argument("--json", action="store_true", help="print JSON instead of tables")
    q.set_defaults(func=run_fit)

    q = csub.add_parser("montecarlo", help="mismatch samples, each fitted: a distribution of LIF parameters",
                        description="Draw device mismatch (threshold shifts) for a neuron netlist with a [mismatch] "
                        "declaration, fit every sample on Dask, and save the samples (.npz).")
    q.add_argument("circuit", metavar="NAME|FILE", help="circuit with a [mismatch] declaration")
    q.add_argument("-n", type=integer(1, 100_000), default=100, metavar="N",
                   help="number of samples, 1..100000 (default 100)")
    q.add_argument("-o", "--output", required=True, metavar="FILE.npz",
                   help="where to write the samples (an .npz archive, written exactly as named)")
    q.add_argument("--seed", type=SEED, default=0, metavar="S", help="seed of the draw (default 0)")
    q.add_argument("--scheduler", metavar="ADDRESS",
                   help="an existing Dask scheduler, tcp://host:8786 (default: local processes); must answer within 5 s")
    q.add_argument("--workers", type=WORKERS, metavar="N", help="local worker processes (default: CPU count; 0 = serial)")
    _add_corner_flag(q)
    q.add_argument("--json", action="store_true", help="print JSON instead of tables")
    q.set_defaults(func=run_montecarlo)

    q = csub.add_parser("corners", help="fit a PDK neuron at each process corner: LIF parameters, 1/t_ref, energy",
                        description="Fit the LIF to a netlist that loads a PDK's models (.lib pdk:NAME SECTION) at "
                        "each process corner, check each fit at currents it did not use, and report the LIF "
                        "parameters, the rate at saturation (1/t_ref) and the energy per spike per corner.")
    q.add_argument("circuit", metavar="NAME|FILE", help="a netlist that loads a PDK, e.g. sky130_lif")
    q.add_argument("--corners", metavar="C,C,...", help="corners to run, comma-separated (default: all of the PDK's)")
    _add_set_flag(q)
    q.add_argument("--points", type=integer(3, 100), default=8, metavar="N",
                   help="currents in each corner's sweep, 3..100 (default 8)")
    q.add_argument("--json", action="store_true", help="print JSON (unit-suffixed keys) instead of a table")
    q.set_defaults(func=run_corners)


def _add_set_flag(q: argparse.ArgumentParser) -> None:
    q.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE",
        help="override a netlist parameter, e.g. --set c_m=2pF (repeatable)",
    )


def _add_corner_flag(q: argparse.ArgumentParser) -> None:
    q.add_argument("--corner", metavar="C",
                   help="process corner of a netlist that loads a PDK's models, e.g. ss (default: the netlist's own)")


def _circuit(args: argparse.Namespace) -> Any:
    """The circuit to run: its name or path, or its template at ``--corner`` (checked against its PDK)."""
    corner = getattr(args, "corner", None)
    if corner is None:
        return args.circuit
    if not corner.strip():
        raise ConfigError("--corner '': give a process corner of the netlist's PDK, e.g. --corner ss")
    from dataclasses import replace

    from ..circuit import load_circuit

    return replace(load_circuit(args.circuit), corner=args.corner)


def _add_detect_flags(q: argparse.ArgumentParser) -> None:
    q.add_argument("--spike-threshold", metavar="V",
                   help="the neuron's threshold for spike detection, e.g. -50mV (default: the sidecar's, else measured)")
    q.add_argument("--spike-reset", metavar="V",
                   help="the neuron's reset level for spike detection (default: the sidecar's, else measured)")
    q.add_argument("--verbose", dest="ngspice_log", action="store_true",
                   help="print ngspice's full log to stderr")


def _detector(args: argparse.Namespace) -> Any:
    """The spike detector the flags ask for (None: the circuit's declared or measured levels)."""
    from ..circuit import load_circuit
    from ..circuit.simulate import circuit_detector

    th = quantity(args.spike_threshold, "V", "--spike-threshold") if args.spike_threshold else None
    rs = quantity(args.spike_reset, "V", "--spike-reset") if args.spike_reset else None
    if th is None and rs is None:
        return None
    template = load_circuit(args.circuit)
    det = circuit_detector(template, template.resolve(_overrides(args.set, args.circuit)), threshold_volt=th, reset_volt=rs)
    if det is None:
        raise ConfigError("--spike-threshold and --spike-reset: give both (the sidecar declares neither)")
    return det


def _ngspice_log(args: argparse.Namespace, run: Any) -> Any:
    """Run ``run()``; with --verbose, print ngspice's log (also of a failed run) to stderr."""
    import sys

    from ..errors import SimulationError

    try:
        result = run()
    except SimulationError as exc:
        if args.ngspice_log:
            print("\n".join(getattr(exc, "log", [])), file=sys.stderr)
        raise
    if args.ngspice_log:
        for line in getattr(result, "log", ()):
            print(line, file=sys.stderr)
    for w in getattr(result, "warnings", ()):
        print(f"warning: ngspice recovered: {w}", file=sys.stderr)
    return result


def _progress(what: str) -> Any:
    """A progress callback writing ``runs done / total, elapsed`` to stderr after 2 s (terminals only)."""
    import sys

    if not sys.stderr.isatty():
        return None

    def report(done: int, total: int, elapsed_s: float) -> None:
        if elapsed_s > 2:
            print(f"\r{what}: {done}/{total} runs, {elapsed_s:.0f} s", end="", file=sys.stderr, flush=True)

    return report


# units of a netlist parameter that must be > 0 (a capacitance, a resistance, a time, a charge)
# and that must be >= 0 (a bias or tail current drawn from the supply)
_POSITIVE_UNITS = ("F", "Ohm", "s", "C")
_NONNEGATIVE_UNITS = ("A",)


def _overrides(items: list[str], circuit: str | None = None) -> dict[str, float | str]:
    """``--set NAME=VALUE`` flags as a dict; with ``circuit``, each checked against its declaration.

    A value is parsed in the declared unit and must be finite and physical: a capacitance,
    resistance, time or charge > 0, a current >= 0, a voltage inside the supply range
    ``0 .. vdd`` (a mismatch shift ``dvt_*`` within ``± vdd``), ``vdd`` itself > 0.
    """
    out: dict[str, float | str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--set {item!r}: expected NAME=VALUE")
        out[name.strip()] = value.strip()
    if circuit is None or not out:
        return out
    from ..circuit import load_circuit

    decls = load_circuit(circuit).params
    for name in out:
        if name not in decls:
            raise ConfigError(f"--set {name}=...: {circuit} has no parameter {name!r}; declared: {', '.join(decls)}")
    checked: dict[str, float | str] = {}
    for name, text in out.items():
        unit = decls[name].unit
        flag = f"--set {name}"
        checked[name] = quantity(str(text), unit, flag, positive=unit in _POSITIVE_UNITS or name == "vdd",
                                 nonnegative=unit in _NONNEGATIVE_UNITS)
    vdd = float(checked.get("vdd", decls["vdd"].default if "vdd" in decls else math.nan))
    if math.isfinite(vdd):
        for name, value in checked.items():
            if decls[name].unit != "V" or name == "vdd":
                continue
            low = -vdd if name.startswith("dvt_") else 0.0
            if not low <= float(value) <= vdd:
                raise ConfigError(f"--set {name}={out[name]}: outside the supply range {format_si(low, 'V')} .. "
                                  f"{format_si(vdd, 'V')} (vdd) of {circuit}; a bias or node voltage must lie inside it")
    return checked


def _si_or(value: float | None, unit: str, missing: str) -> str:
    return missing if value is None else format_si(value, unit)


def _fit_notes(data: dict[str, Any]) -> dict[str, Any]:
    """A note beside each value of a fit's JSON that is absent (null)."""
    data = dict(data)
    solver = data.get("solver")
    if isinstance(solver, dict) and solver.get("max_step_s") is None:
        data["solver"] = {**solver, "max_step_note": "no maximum step set: ngspice's own step control"}
    rate = data.get("first_nonlinear_rate_hz", 0.0)
    if rate is None or (isinstance(rate, float) and not math.isfinite(rate)):
        data["first_nonlinear_rate_hz"] = None
        data["first_nonlinear_rate_note"] = "every rate of the sweep stayed within the tolerance"
    return data


def _params_with_units(data: dict[str, Any], circuit: str) -> dict[str, Any]:
    """``circuit_params`` of a fit's JSON as ``{name: {"value": x, "unit": u}}``: the netlist's
    parameter names carry no unit, its declarations do (as in ``circuit list --json``)."""
    from ..circuit import load_circuit

    decl = load_circuit(circuit).params
    params = data.get("circuit_params")
    if isinstance(params, dict):
        data = dict(data)
        data["circuit_params"] = {
            name: {"value": value, "unit": decl[name].unit if name in decl else ""} for name, value in params.items()
        }
    return data


def run_list(args: argparse.Namespace) -> int:
    from ..circuit import list_circuits, load_circuit

    data = {}
    for name in list_circuits():
        t = load_circuit(name)
        data[name] = {
            "kind": t.kind,
            "description": t.description,
            "params": {k: {"unit": p.unit, "default": p.default, "description": p.description} for k, p in t.params.items()},
        }
    if args.json:
        print_json(data)
        return 0
    for name, d in data.items():
        rows = [[k, format_si(p["default"], p["unit"]), p["description"]] for k, p in d["params"].items()
                if not k.startswith("dvt_")]
        n_dvt = sum(k.startswith("dvt_") for k in d["params"])
        if n_dvt:
            rows.append(["dvt_*", "0 V", f"threshold shift of each of {n_dvt} transistors (mismatch)"])
        print_table(f"{name} ({d['kind']}): {d['description']}", ["parameter", "default", "meaning"], rows)
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    from ..circuit import detect_spikes, energy_per_spike, simulate
    from ..circuit.simulate import _integrate
    from ..plots import plot_trace

    current = quantity(args.current, "A", "--current")
    duration = quantity(args.duration, "s", "--duration", positive=True, high=1.0,
                        why="ngspice resolves each spike; longer runs take hours")
    check_plot(args.plot, inputs=check_circuit(args.circuit))
    overrides = _overrides(args.set, args.circuit)
    _neuron_only(args.circuit, "simulate")
    circuit = _circuit(args)
    detector = _detector(args)
    with working(f"simulating {args.circuit} in ngspice", size=f"{format_si(duration, 's')} of circuit time"):
        trace = _ngspice_log(args, lambda: simulate(circuit, current, duration, params=overrides,
                                                      detector=detector))
    if trace.detector is None:  # nothing declared: levels measured on this run, if it spikes
        from dataclasses import replace

        from ..circuit import SpikeDetector

        trace = replace(trace, detector=SpikeDetector.measure(trace.time_s, trace.v_mem_volt))
    spikes = trace.spike_times() if trace.detector is not None else detect_spikes(trace.time_s, trace.v_mem_volt)
    isis = np.diff(spikes)
    report: dict[str, Any] = {
        "circuit": args.circuit,
        "current_amp": current,
        "duration_s": duration,
        "spike_times_s": spikes,
        "n_spikes": len(spikes),
        "mean_isi_s": float(np.mean(isis[1:] if len(isis) > 1 else isis)) if len(isis) else None,
        "mean_power_watt": _integrate(trace.time_s, trace.power_watt, 0.0, duration) / duration,
        "energy_per_spike_joule": energy_per_spike(trace, spikes) if len(spikes) >= 3 else None,
        "time_points": len(trace.time_s),
        "detector": trace.detector.to_dict() if trace.detector is not None else {"source": "auto (90 %/30 % of range)"},
        "warnings": list(trace.warnings),
    }
    if report["mean_isi_s"] is None:
        report["mean_isi_note"] = f"{len(spikes)} spike(s): no interspike interval"
    if report["energy_per_spike_joule"] is None:
        report["energy_per_spike_note"] = f"{len(spikes)} spike(s): at least 3 are needed for the energy per spike"
    if args.plot:
        write_plot(args.plot, lambda tmp: plot_trace(trace, spikes, tmp))
    if args.json:
        print_json(report)
        return 0
    print_table(
        f"{args.circuit} at {format_si(current, 'A')} for {format_si(duration, 's')}",
        ["quantity", "value"],
        [
            ["spikes", str(len(spikes))],
            ["mean ISI (steady state)", _si_or(report["mean_isi_s"], "s", "none (no interval)")],
            ["mean supply power", format_si(report["mean_power_watt"], "W")],
            ["supply energy per ISI", _si_or(report["energy_per_spike_joule"], "J", "n/a (fewer than 3 spikes)")],
            ["first spikes", ", ".join(format_si(t, "s") for t in spikes[:5]) or "none"],
            ["spike levels (up / re-arm)", _levels_text(report["detector"])],
        ],
    )
    if args.plot:
        print(f"trace plot written to {args.plot}")
    return 0


def run_fit(args: argparse.Namespace) -> int:
    from .._io import atomic_write, check_output_path
    from ..circuit import FitOptions, circuit_kind, fit_lif
    from ..plots import plot_fit

    inputs = check_circuit(args.circuit)
    overrides = _overrides(args.set, args.circuit)
    check_plot(args.plot, inputs=inputs)
    if args.output:
        check_output_path(args.output, inputs=inputs)
    if circuit_kind(args.circuit) == "synapse":
        if args.corner is not None:
            raise ConfigError("--corner: the synapse fit runs the netlist's own section")
        return run_fit_synapse(args, overrides)
    circuit = _circuit(args)
    # the fit reports its own progress (runs done / total) on a terminal's stderr
    options = FitOptions(n_sweep=args.points, detector=_detector(args), progress=_progress(f"fit {args.circuit}"))
    res = _ngspice_log(args, lambda: fit_lif(circuit, params=overrides, options=options))
    conv = None
    if args.check_step:
        from ..circuit import SpikeDetector
        from ..circuit.fit import check_convergence

        mid = float(res.sweep_current_amp[len(res.sweep_current_amp) // 2])
        det = SpikeDetector(high_volt=res.detector["high_volt"], low_volt=res.detector["low_volt"],
                            source=res.detector["source"])
        conv = check_convergence(circuit, mid, params=overrides, detector=det)
    if args.output:
        atomic_write(args.output, lambda fh: fh.write(res.params.to_toml()), text=True)
    if args.plot:
        write_plot(args.plot, lambda tmp: plot_fit(res, tmp, circuit=args.circuit))
    if args.json:
        print_json(_fit_notes(_params_with_units({**res.to_dict(), **({"convergence": conv.to_dict()} if conv else {})},
                                                 args.circuit)))
        return 0
    print_fit(res)
    if conv is not None:
        rows = [[format_si(h, "s"), format_si(t, "s"), format_si(e, "J"),
                 "" if not math.isfinite(c) else f"{c * 100:.3f} %"]
                for h, t, e, c in zip(conv.max_step_s, conv.isi_s, conv.energy_per_spike_joule, conv.rel_change)]
        verdict = (f"converged to {conv.tolerance * 100:g} % at a max step of {format_si(conv.step_s, 's')}"
                   if conv.converged else f"NOT converged to {conv.tolerance * 100:g} %")
        print_table(f"step convergence at {format_si(mid, 'A')}: {verdict}",
                    ["max step", "ISI", "energy per ISI", "change"], rows)
    if args.output:
        print(f"LIF parameters written to {args.output}")
    if args.plot:
        print(f"f-I plot written to {args.plot}")
    return 0


def print_fit(res: Any) -> None:
    """Tables of a :class:`~neurochip.circuit.FitResult`."""
    units = {"farad": "F", "siemens": "S", "volt": "V", "s": "s", "amp": "A"}
    p = res.params
    rows = [[k, format_si(v, units.get(k.rsplit("_", 1)[-1], ""))] for k, v in p.to_dict().items()
            if k in ("c_m_farad", "g_leak_siemens", "e_leak_volt", "v_th_volt", "v_reset_volt", "t_ref_s")]
    rows += [["R = 1/g_L", format_si(p.r_leak_ohm, "Ohm")], ["tau_m", format_si(p.tau_m_s, "s")]]
    print_table(f"fitted LIF parameters of {res.circuit}", ["parameter", "value"], rows)
    sat = 1 / p.t_ref_s if p.t_ref_s > 0 else math.inf
    print_table(
        "fit report",
        ["quantity", "value"],
        [
            ["ISI error, max over the sweep", f"{res.max_isi_rel_error * 100:.3f} %"],
            ["ISI error, RMS", f"{res.rms_isi_rel_error * 100:.3f} %"],
            ["rheobase SPICE / LIF", f"{format_si(res.rheobase_spice_amp, 'A')} / {format_si(res.rheobase_lif_amp, 'A')}"],
            ["highest rate reached / 1/t_ref", f"{format_si(res.max_rate_hz, 'Hz')} / {format_si(sat, 'Hz')}"],
            [f"ISI error at {format_si(res.saturation_current_amp, 'A')} (outside the sweep)",
             f"{res.saturation_isi_rel_error * 100:.3f} %" if math.isfinite(res.saturation_isi_rel_error)
             else ("skipped" if not math.isfinite(res.saturation_current_amp)
                   else "the circuit stops firing there (it latches or saturates)")],
            ["spike levels (up / re-arm)", _levels_text(res.detector)],
            ["energy per spike (dynamic)", format_si(res.energy_per_spike_joule, "J")],
            ["static power", format_si(res.static_power_watt, "W")],
            ["solver", f"{res.solver['method']}, reltol {res.solver['reltol']:g}"],
            ["SPICE runs / wall time", f"{res.n_runs} / {res.wall_time_s:.1f} s"],
        ],
    )
    rows = [
        [format_si(i, "A"), format_si(a, "s"), format_si(b, "s"), f"{(b / a - 1) * 100:+.3f} %"]
        for i, a, b in zip(res.sweep_current_amp, res.isi_spice_s, res.isi_lif_s)
    ]
    print_table("sweep", ["current", "ISI SPICE", "ISI LIF", "error"], rows)


def _levels_text(det: dict[str, Any]) -> str:
    if "high_volt" not in det:
        return str(det.get("source", ""))
    return f"{format_si(det['high_volt'], 'V')} / {format_si(det['low_volt'], 'V')} ({det['source']})"


def run_fit_synapse(args: argparse.Namespace, overrides: dict[str, float | str]) -> int:
    """``circuit fit`` of a circuit whose sidecar declares ``kind = "synapse"``."""
    from ..circuit import fit_synapse

    if args.output:
        raise ConfigError("-o writes LIF parameters; for a synapse, save the fit with --json")
    with working(f"fitting {args.circuit} in ngspice", size="a single pulse and pulse trains at several rates"):
        res = fit_synapse(args.circuit, params=overrides)
    if args.plot:
        write_plot(args.plot, lambda tmp: plot_synapse_fit(res, tmp))
    if args.json:
        print_json(_fit_notes(_params_with_units(res.to_dict(), args.circuit)))
        return 0
    lin = (f"up to {format_si(res.linear_max_rate_hz, 'Hz')}" if res.linear_max_rate_hz > 0
           else "none of the tested rates")
    if math.isfinite(res.first_nonlinear_rate_hz):
        lin += f" (error above tolerance from {format_si(res.first_nonlinear_rate_hz, 'Hz')})"
    else:
        lin += " (the highest rate tested)"
    print_table(
        f"fitted exponential synapse of {res.circuit}",
        ["quantity", "value"],
        [
            ["tau_syn", format_si(res.tau_syn_s, "s")],
            ["charge per event q", format_si(res.charge_coulomb, "C")],
            ["weight q/tau", format_si(res.weight_amp, "A")],
            ["rest current into post", format_si(res.rest_current_amp, "A")],
            ["AER pulse", f"{format_si(res.pulse_width_s, 's')} at {format_si(res.pulse_amplitude_volt, 'V')}"],
            ["fit error, single pulse (RMS / max)",
             f"{res.single_rel_rms_error * 100:.2f} % / {res.single_rel_max_error * 100:.2f} %"],
            ["fit error, linear range (RMS / max)",
             f"{res.rel_rms_error_linear * 100:.2f} % / {res.rel_max_error_linear * 100:.2f} %"],
            ["fit error, all runs (RMS / max)", f"{res.rel_rms_error * 100:.2f} % / {res.rel_max_error * 100:.2f} %"],
            [f"linear range (RMS and charge error <= {res.tolerance * 100:g} %)", lin],
            ["energy per event (dynamic)", format_si(res.energy_per_event_joule, "J")],
            ["static power", format_si(res.static_power_watt, "W")],
            ["solver", f"{res.solver['method']}, reltol {res.solver['reltol']:g}"],
            ["SPICE runs / wall time", f"{res.n_runs} / {res.wall_time_s:.1f} s"],
        ],
    )
    rows = [
        [format_si(r, "Hz"), str(n), f"{e * 100:.2f} %", f"{m * 100:.2f} %", f"{c:.3f}", format_si(en, "J")]
        for r, n, e, m, c, en in zip(res.rates_hz, res.train_pulses, res.rate_rel_rms_error, res.rate_rel_max_error,
                                      res.rate_charge_ratio, res.rate_energy_per_event_joule)
    ]
    print_table("error against input rate (pulse trains)",
                ["rate", "pulses", "RMS error", "max error", "charge SPICE/model", "energy/event"], rows)
    if args.plot:
        print(f"current plot written to {args.plot}")
    return 0


def plot_synapse_fit(res: Any, path: str) -> None:
    """SPICE current against the fitted exponential synapse: a single pulse and pulse trains."""
    from .._display import pyplot

    plt = pyplot()
    n_ok = int(np.sum(res.rates_hz <= res.linear_max_rate_hz))
    panels = [("single pulse", res.single_trace)]
    if n_ok:
        panels.append((f"train at {format_si(res.rates_hz[n_ok - 1], 'Hz')} (linear range)", res.train_traces[n_ok - 1]))
    if n_ok < len(res.train_traces):
        panels.append((f"train at {format_si(res.rates_hz[n_ok], 'Hz')} (outside)", res.train_traces[n_ok]))
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.6 * len(panels)), dpi=120, squeeze=False)
    for ax, (title, trace) in zip(axes[:, 0], panels):
        t0 = trace.spike_times_s[0]
        t = np.linspace(trace.time_s[0], trace.time_s[-1], 4000)
        ax.plot((trace.time_s - t0) * 1e3, trace.i_syn_amp * 1e9, lw=1.4, label="SPICE")
        ax.plot((t - t0) * 1e3, res.model_current(trace, t) * 1e9, "--", lw=1.0, label="fitted exponential")
        ax.set_title(title, fontsize=9)
        ax.set_ylabel("I_syn (nA)")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="upper right")
    axes[-1, 0].set_xlabel("time after the first pulse (ms)")
    fig.suptitle(f"{res.circuit}: tau = {format_si(res.tau_syn_s, 's')}, q = {format_si(res.charge_coulomb, 'C')}",
                 fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)


def _neuron_only(circuit: str, action: str) -> None:
    from ..circuit import circuit_kind

    if circuit_kind(circuit) == "synapse":
        raise ConfigError(f"{circuit} is a synapse: 'circuit {action}' drives neurons; use 'circuit fit {circuit}' "
                          "(see docs/synapses.md)")


def run_montecarlo(args: argparse.Namespace) -> int:
    from .._io import check_output_path
    from ..circuit.montecarlo import run_montecarlo as mc

    # the output is checked before the first sample runs: a bad -o must not cost the whole run
    # (-n, --seed and --workers are checked by their argparse types)
    check_output_path(args.output, inputs=check_circuit(args.circuit))
    _neuron_only(args.circuit, "montecarlo")
    _circuit(args)  # a bad --corner ends here, before any sample runs
    res = mc(args.circuit, args.n, seed=args.seed, scheduler=args.scheduler, n_workers=args.workers,
             progress=progress_enabled(), corner=args.corner or "")
    res.save(args.output)
    summary = res.summary()
    if args.json:
        if summary.get("n_ok", 0) < 2:  # a standard deviation needs two samples
            note = f"{summary.get('n_ok', 0)} sample(s) succeeded: no standard deviation"
            summary = {**summary, "std_note": note, **{
                k: {**v, "std_note": note} for k, v in summary.items() if isinstance(v, dict) and "std" in v}}
        print_json(summary)
        return 0
    units = {"farad": "F", "siemens": "S", "volt": "V", "s": "s", "amp": "A"}
    rows = []
    for k in ("c_m_farad", "g_leak_siemens", "e_leak_volt", "v_th_volt", "v_reset_volt", "t_ref_s"):
        u = units.get(k.rsplit("_", 1)[-1], "")
        rows.append([k, format_si(summary["mean"][k], u), format_si(summary["std"][k], u)])
    for k, u in (("energy_per_spike_joule", "J"), ("static_power_watt", "W")):
        rows.append([k, format_si(summary[k]["mean"], u), format_si(summary[k]["std"], u)])
    print_table(
        f"Monte Carlo {res.circuit}{f' at {res.corner}' if res.corner else ''}: {res.n_ok} samples fitted, {len(res.failed)} failed, "
        f"{summary['wall_time_s']:.1f} s",
        ["quantity", "mean", "std"], rows,
    )
    for i, e in res.failed:
        print(f"sample {i} failed: {e}")
    print(f"samples written to {args.output}")
    return 0


def run_corners(args: argparse.Namespace) -> int:
    from ..circuit import FitOptions, load_circuit
    from ..circuit.corners import corners_of, fit_corners

    check_circuit(args.circuit)
    overrides = _overrides(args.set, args.circuit)
    _neuron_only(args.circuit, "corners")
    available = corners_of(load_circuit(args.circuit))
    corners = list(available)
    if args.corners is not None:
        corners = [c.strip() for c in args.corners.split(",") if c.strip()]
        bad = [c for c in corners if c not in available]
        if bad or not corners:
            raise ConfigError(f"--corners {args.corners}: {', '.join(bad) or 'none given'}; the corners of "
                              f"{args.circuit} are {', '.join(available)}")
    # each fit reports runs done / total of the whole report on a terminal's stderr, after 2 s
    report = fit_corners(args.circuit, corners, params=overrides, options=FitOptions(n_sweep=args.points),
                         progress=_progress(f"corners {args.circuit}"))
    if _progress("") is not None:
        import sys

        print(file=sys.stderr)
    data = report.to_dict()
    if args.json:
        print_json(data)
        return 0
    rows = []
    for r in data["corners"]:
        rows.append([
            r["corner"], format_si(r["c_m_farad"], "F"), format_si(r["r_leak_ohm"], "Ohm"), format_si(r["tau_m_s"], "s"),
            format_si(r["e_leak_volt"], "V"), format_si(r["v_th_volt"], "V"), format_si(r["v_reset_volt"], "V"),
            format_si(r["t_ref_s"], "s"), format_si(r["saturation_rate_limit_hz"], "Hz"),
            format_si(r["max_rate_hz"], "Hz"), format_si(r["energy_per_spike_joule"], "J"),
            format_si(r["static_power_watt"], "W"), f"{r['fit_max_isi_rel_error'] * 100:.2f} %",
            f"{r['unseen_max_isi_rel_error'] * 100:.2f} %",
        ])
    print_table(f"{report.circuit} at the {report.pdk} corners ({report.wall_time_s:.0f} s)",
                ["corner", "C", "R", "tau_m", "E_L", "V_th", "V_reset", "t_ref", "1/t_ref", "max rate (SPICE)",
                 "energy/spike", "static power", "ISI error (fit)", "ISI error (unseen)"], rows)
    return 0
