"""Every subcommand x every option x bad values: exit status 1 or 2, one ``error:`` line on
stderr, no traceback, nothing written or changed.

Each option of each subcommand is classified in ``OPTIONS`` (a quantity of a unit that must be
> 0, a count, a file read, a file written, ...); the class gives the bad values fed to it, one at
a time, into a command that is otherwise valid and fast.  A test fails when the parser grows an
option that ``OPTIONS`` does not classify, so a new flag cannot skip the fuzz.  Every bad value
must be refused before the work starts: each call runs under a 20 s alarm, and a value that slips
through would start a fit, an emulation or a sweep.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.resources
import os
import re
import signal
from contextlib import contextmanager

import pytest
from conftest import require_or_skip

from neurochip.chip import load_chip
from neurochip.circuit import spice_available
from neurochip.cli import build_parser, main
from neurochip.lif import LIFParams
from neurochip.network import FixedInDegree, Network, PoissonInput, Population, Projection
from neurochip.network.files import save_network
from neurochip.network.nir_io import write_nir
from neurochip.onchip import run_on_chip

P = LIFParams(c_m_farad=250e-12, g_leak_siemens=12.5e-9, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=2e-3)
BINARY = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4

# ---------------------------------------------------------------------------------------------
# bad values per class of option; {d} is the fixture folder, {x} a file that exists there

NUMBERS = ["nan", "inf", "-inf", "1e300", "", "abc"]


def _quantity(unit: str, wrong: str, *, sign: str) -> list[str]:
    """Bad values of a quantity flag in ``unit``; ``sign`` is "any", "nonneg" or "pos"."""
    bad = NUMBERS + [f"1 {wrong}", f"-1e300 {unit}"]
    if sign in ("nonneg", "pos"):
        bad.append(f"-1 {unit}")
    if sign == "pos":
        bad.append("0")
    return bad


def _count(low: int, high: int) -> list[str]:
    return [str(low - 1), str(high + 1), "1.5", "nan", "1e300", "", "abc"]


IN_FILE = ["{d}/missing.toml", "{d}/folder", "{d}/binary.bin", "{d}/empty.toml"]
IN_NETWORK = ["{d}/missing.npz", "{d}/folder", "{d}/binary.bin", "{d}/empty.npz", "{d}/run.npz", "{d}/table.csv"]
IN_RUN = ["{d}/missing.npz", "{d}/folder", "{d}/binary.bin", "{d}/empty.npz", "{d}/net.npz"]
IN_CHIP = ["nosuch", "{d}/missing.toml", "{d}/folder", "{d}/binary.bin", "{d}/empty.toml", "{d}/wide.toml"]
IN_CIRCUIT = ["nosuch", "{d}/missing.cir", "{d}/folder", "{d}/binary.bin", "{d}/empty.cir"]
OUT_FILE = ["{d}/missing/out.x", "{d}/folder", ""]
OUT_PLOT = ["{d}/missing/p.png", "{d}/folder", "{d}/p.txt", "{d}/p", ""]
SEED = ["-1", "1.5", "nan", "1e300", "99999999999999999999999", "", "abc"]
WORKERS = ["-1", "1.5", "2000", "", "abc"]
CHOICE = ["bogus", ""]
CORNER = ["xx", "", "TT", "tt_mm"]  # not a corner of the netlist's PDK (and no PDK in lif_behavioral)

# options every neuron-flag command shares
NEURON = {
    "--config": IN_FILE,
    "--c-m": _quantity("F", "V", sign="pos"),
    "--g-leak": _quantity("S", "V", sign="pos"),
    "--r-leak": _quantity("Ohm", "V", sign="pos"),
    "--e-leak": _quantity("V", "A", sign="any"),
    "--v-th": _quantity("V", "A", sign="any"),
    "--v-reset": _quantity("V", "A", sign="any") + ["1 V"],  # 1 V is above V_th
    "--t-ref": _quantity("s", "V", sign="nonneg"),
    "--plot": OUT_PLOT,
}
LISTS_S = ["-1ms", "0", "1ms,", ",", "1ms,nan", "1e300", "", "1 V"]
LISTS_V = ["-1mV", "0", "1mV,", ",", "1mV,nan", "1e300", "", "1 A"]

# subcommand -> (a valid, fast base command; its options and their bad values)
OPTIONS: dict[str, tuple[list[str], dict[str, list[str]]]] = {
    "lif": (["lif", "--current", "1nA"], {
        **NEURON,
        "--current": _quantity("A", "V", sign="any"),
        "--sigma": _quantity("V", "A", sign="pos"),
        "--i-min": _quantity("A", "V", sign="any"),
        "--i-max": _quantity("A", "V", sign="any") + ["0"],
        "--points": _count(2, 10_000),
    }),
    "lif prc": (["lif", "prc", "--phases", "3"], {
        **NEURON,
        "--current": _quantity("A", "V", sign="pos") + ["0.1nA"],  # below the rheobase
        "--kick": _quantity("V", "A", sign="pos"),
        "--phases": _count(2, 1000),
    }),
    "lif channel-noise": (["lif", "channel-noise", "--channels", "10", "--spikes", "20"], {
        **NEURON,
        "--current": _quantity("A", "V", sign="any"),
        "--channels": ["0", "-1", "1.5", "10,", "", "abc", "1e300", "2000000"],
        "--open-prob": ["0", "-1", "2", *NUMBERS],
        "--channel-tau": _quantity("s", "V", sign="pos"),
        "--driving-force": _quantity("V", "A", sign="any"),
        "--spikes": _count(10, 1_000_000),
        "--seed": SEED,
    }),
    "lif strength-duration": (["lif", "strength-duration", "--widths", "1ms"], {
        **NEURON,
        "--widths": LISTS_S,
    }),
    "lif resonance": (["lif", "resonance", "--sigmas", "1mV", "--trials", "1", "--duration", "50ms"], {
        **NEURON,
        "--sigmas": LISTS_V,
        "--bias-fraction": ["-1", "2", *NUMBERS],
        "--amplitude-fraction": ["0", "-1", "2", *NUMBERS],
        "--frequency": _quantity("Hz", "s", sign="pos"),
        "--duration": _quantity("s", "V", sign="pos") + ["1e5"],
        "--trials": _count(1, 10_000),
        "--seed": SEED,
    }),
    "lif convert": (["lif", "convert", "--samples", "1", "--duration", "150ms"], {
        **NEURON,
        "--samples": _count(1, 10_000),
        "--duration": _quantity("s", "V", sign="pos") + ["100ms", "50ms"],  # <= the 0.1 s warm-up
        "--max-rate": _quantity("Hz", "s", sign="pos") + ["1MHz"],  # above 1/t_ref
        "--seed": SEED,
        "--nir": OUT_FILE,
    }),
    "circuit list": (["circuit", "list"], {}),
    "circuit simulate": (["circuit", "simulate", "lif_behavioral", "--current", "1nA", "--duration", "1ms"], {
        "circuit": IN_CIRCUIT,
        "--current": _quantity("A", "V", sign="any"),
        "--duration": _quantity("s", "V", sign="pos") + ["2 s"],
        "--set": ["c_m=-1pF", "c_m=0", "c_m=nan", "c_m=1e300", "c_m=1 V", "c_m", "=1", "bogus=1", "vdd=0",
                  "v_th=5V", "v_th=-1V", "i_bias=-1nA", "t_ref=0"],
        "--plot": OUT_PLOT,
        "--spike-threshold": NUMBERS + ["1 A", "-1e300 V"],
        "--spike-reset": NUMBERS + ["1 A", "-1e300 V", "0.9 V"],  # a reset above the declared threshold
        "--corner": CORNER,
    }),
    "circuit fit": (["circuit", "fit", "lif_behavioral", "--points", "3"], {
        "circuit": IN_CIRCUIT,
        "--set": ["c_m=-1pF", "c_m=nan", "c_m=1e300", "c_m", "bogus=1", "v_th=5V", "vdd=-1"],
        "--points": _count(3, 100),
        "--plot": OUT_PLOT,
        "-o": OUT_FILE,
        "--spike-threshold": NUMBERS + ["1 A", "-1e300 V"],
        "--spike-reset": NUMBERS + ["1 A", "-1e300 V", "0.9 V"],
        "--corner": CORNER,
    }),
    "circuit montecarlo": (["circuit", "montecarlo", "lif_transistor", "-n", "1", "--workers", "0", "-o", "{d}/mc.npz"], {
        "circuit": IN_CIRCUIT + ["lif_behavioral", "dpi_synapse"],  # no [mismatch]; a synapse
        "-n": _count(1, 100_000),
        "-o": OUT_FILE,
        "--seed": SEED,
        "--scheduler": ["tcp://127.0.0.1:9"],  # nothing listens on the discard port
        "--workers": WORKERS,
        "--corner": CORNER,
    }),
    "circuit corners": (["circuit", "corners", "sky130_lif", "--corners", "tt", "--points", "3"], {
        "circuit": IN_CIRCUIT + ["lif_transistor", "dpi_synapse"],  # no PDK; a synapse
        "--corners": ["xx", "", ",", "tt,xx", "TT"],
        "--set": ["c_m=-1pF", "c_m=nan", "c_m", "bogus=1", "v_th=5V", "vdd=-1"],
        "--points": _count(3, 100),
    }),
    "chip list": (["chip", "list"], {}),
    "chip show": (["chip", "show", "generic"], {"chip": IN_CHIP}),
    "map": (["map", "{d}/net.npz"], {
        "network": IN_NETWORK,
        "--chip": IN_CHIP,
        "--system": ["nosuch", "{d}/missing.toml", "{d}/folder", "{d}/binary.bin", "{d}/empty.toml"],
        "--rates": ["-1", "1MHz", "E=5", "E=5,X=5", "E=,I=5", "=5", *NUMBERS, "1 V"],
        "--partitioner": CHOICE,
        "--plot": OUT_PLOT + ["{d}/net.npz"],
    }),
    "run": (["run", "{d}/net.npz", "--duration", "5ms", "--no-route", "-o", "{d}/out.npz"], {
        "network": IN_NETWORK,
        "--delivery-step": ["0", "-1ms", "nan", "2s", "1V", "", "chip"],
        "--chip": IN_CHIP,
        "--system": ["nosuch", "{d}/missing.toml", "{d}/folder", "{d}/binary.bin", "{d}/empty.toml"],
        "--duration": _quantity("s", "V", sign="pos") + ["2h"],
        "--poisson": ["E:nan:1mV", "X:1kHz:1mV", "E:1kHz", "E:-1Hz:1mV", "E:1e300:1mV", "E:1kHz:1e300", "E:1kHz:1A", ""],
        "--dc": ["E:nan", "X:1nA", "E", "E:1e300", "E:1V", ""],
        "--seed": SEED,
        "-o": OUT_FILE + ["{d}/net.npz"],
        "--html": OUT_FILE + ["{d}/net.npz", "{d}/out.npz", "{d}/page.txt"],
    }),
    "board list": (["board", "list"], {}),
    "board map": (["board", "map", "{d}/net.npz", "--system", "nahuku"], {
        "network": IN_NETWORK,
        "--system": ["nosuch", "{d}/missing.toml", "{d}/folder", "{d}/binary.bin", "{d}/empty.toml"],
        "--partitioner": CHOICE,
        "--fill": ["0", "-1", "1.5", *NUMBERS],
        "--block": _count(1, 100_000_000),
        "--rates": _quantity("Hz", "V", sign="pos"),
    }),
    "board run": (["board", "run", "{d}/net.npz", "--system", "nahuku", "--duration", "5ms"], {
        "network": IN_NETWORK,
        "--system": ["nosuch", "{d}/missing.toml", "{d}/folder", "{d}/binary.bin", "{d}/empty.toml"],
        "--partitioner": CHOICE,
        "--fill": ["0", "-1", "1.5", *NUMBERS],
        "--block": _count(1, 100_000_000),
        "--duration": _quantity("s", "V", sign="pos") + ["2h"],
        "--poisson": ["E:nan:1mV", "X:1kHz:1mV", "E:1kHz", "E:-1Hz:1mV", "E:1e300:1mV", ""],
        "--dc": ["E:nan", "X:1nA", "E", "E:1e300", ""],
        "--seed": SEED,
        "--powered": CHOICE,
        "--links": CHOICE,
        "--plot": OUT_PLOT + ["{d}/net.npz"],
    }),
    "estimate": (["estimate", "{d}/net.nir", "--chip", "loihi", "--steps", "5"], {
        "model": ["{d}/missing.nir", "{d}/folder", "{d}/binary.bin", "{d}/empty.nir", "{d}/net.npz"],
        "--chip": IN_CHIP,
        "--from": CHOICE,
        "--rate": _quantity("Hz", "V", sign="pos"),
        "--input": ["{d}/missing.npz", "{d}/folder", "{d}/binary.bin", "{d}/empty.npz", "{d}/net.npz"],
        "--steps": _count(1, 10_000_000),
        "--seed": SEED,
    }),
    "stepped": (["stepped", "{d}/net.npz", "--steps", "10"], {
        "network": IN_NETWORK,
        "--chip": IN_CHIP + ["generic"],  # an asynchronous chip has no steps
        "--steps": _count(1, 100_000_000),
        "--dt": _quantity("s", "V", sign="pos"),
        "--input": ["X:20Hz", "E", "E:nan", "E:-1Hz", "E:1e300Hz", "E:20V", ""],
        "--seed": SEED,
        "--realtime": _quantity("s", "V", sign="pos"),
        "--pace": _quantity("s", "V", sign="pos"),
        "--powered": CHOICE,
    }),
    "report": (["report", "energy", "{d}/run.npz"], {
        "kind": CHOICE,
        "run": IN_RUN,
        "--powered": CHOICE,
        "--plot": OUT_PLOT + ["{d}/run.npz"],
        "-o": OUT_FILE + ["{d}/run.npz", "{d}/page.html"],  # -o is for `report html` only
    }),
    "demo": (["demo", "-o", "{d}/demo-out", "--duration", "5ms"], {
        "-o": ["{d}/net.npz", "{d}/binary.bin/sub", ""],
        "--duration": _quantity("s", "V", sign="pos") + ["2h"],
    }),
    "network info": (["network", "info", "{d}/net.nir"], {
        "file": IN_NETWORK,
        "--rates": ["-1", "1MHz", "E=5,X=5", "=5", *NUMBERS, "1 V"],
        "--dt": _quantity("s", "V", sign="pos") + ["2 s"],
        "--from": CHOICE,
        "--delay": _quantity("s", "V", sign="nonneg") + ["2 s"],
    }),
    "sweep": (["sweep", "{d}/spec.toml", "--workers", "0", "-o", "{d}/out.csv"], {
        "target": IN_FILE + ["{d}/flat.toml"],  # flat.toml: [fixed] only, nothing to sweep
        "-o": ["{d}/out.txt", "{d}/missing/out.csv", "{d}/folder", "{d}/spec.toml", ""],
        "--scheduler": ["tcp://127.0.0.1:9"],
        "--workers": WORKERS,
        "--cache-dir": ["{d}/net.npz"],
        "--kind": CHOICE + ["energy"],  # a plot flag given to a run
        "--x": ["stimulus.rate_hz"],
        "--y": ["rate_mean_hz"],
        "--color": ["stimulus.rate_hz"],
        "--label": ["stimulus.rate_hz"],
    }),
    "sweep plot": (["sweep", "plot", "{d}/table.csv", "--x", "stimulus.rate_hz", "--y", "rate_mean_hz", "-o", "{d}/p.png"], {
        "target": IN_FILE + ["{d}/failed.csv", "{d}/net.npz"],
        "-o": OUT_PLOT + ["{d}/table.csv"],
        "--kind": CHOICE,
        "--x": ["nosuch", ""],
        "--y": ["nosuch", ""],
        "--color": ["nosuch"],
        "--label": ["stimulus.rate_hz"],  # only for --kind pareto
        "--scheduler": ["tcp://127.0.0.1:9"],
        "--workers": ["0"],
        "--cache-dir": ["{d}"],
    }),
}

# flags without a value (and the hidden former spelling --out of sweep -o) are not fuzzed
FLAGS_WITHOUT_VALUE = (argparse._StoreTrueAction, argparse._HelpAction, argparse._VersionAction)
ALIASES = {"--out"}


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if path and (not subs or _value_options(parser)):  # a command, not only a group of them (as `lif` is both)
        yield " ".join(path), parser
    for s in subs:
        for name, child in s.choices.items():
            yield from _leaves(child, path + (name,))


def _value_options(parser: argparse.ArgumentParser) -> set[str]:
    out = set()
    for a in parser._actions:
        if isinstance(a, FLAGS_WITHOUT_VALUE) or isinstance(a, argparse._SubParsersAction):
            continue
        names = [o for o in a.option_strings if o not in ALIASES] or [a.dest]
        if a.help is argparse.SUPPRESS:
            continue
        out.add(names[0])
    return out


def test_every_option_of_every_subcommand_is_fuzzed():
    leaves = dict(_leaves(build_parser()))
    leaves["sweep plot"] = leaves["sweep"]  # one parser, two uses
    assert set(OPTIONS) == set(leaves), set(OPTIONS) ^ set(leaves)
    for name, parser in leaves.items():
        if name == "sweep plot":
            continue
        options = _value_options(parser)
        fuzzed = set(OPTIONS[name][1])
        if name == "sweep":
            fuzzed |= set(OPTIONS["sweep plot"][1])
        missing = options - fuzzed
        assert not missing, f"{name}: options without bad values in OPTIONS: {sorted(missing)}"
        assert all(len(OPTIONS[name][1].get(o, ["x"])) > 0 for o in options)


def _all_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield " ".join(path) or "neurochip", parser
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, child in a.choices.items():
                assert any(c.dest == name and c.help for c in a._choices_actions), f"{name}: no help in the list"
                yield from _all_parsers(child, path + (name,))


def test_every_subcommand_and_option_has_help():
    for name, parser in _all_parsers(build_parser()):
        assert parser.description, f"{name}: no description"
        for a in parser._actions:
            if a.help is not argparse.SUPPRESS and not isinstance(a, argparse._SubParsersAction):
                assert a.help, f"{name}: {a.option_strings or a.dest} has no help text"


# ---------------------------------------------------------------------------------------------
# the files the commands read


def _net() -> Network:
    return Network(
        populations=(Population(name="E", size=40, params=P), Population(name="I", size=10, params=P)),
        projections=(
            Projection(pre="E", post="E", rule=FixedInDegree(k=4), weight_volt=1e-4, delay_s=1.5e-3),
            Projection(pre="I", post="E", rule=FixedInDegree(k=2), weight_volt=-5e-4, delay_s=1e-3),
        ),
        seed=2,
    )


SPEC = """[fixed]
"network.n_exc" = 20
"network.n_inh" = 5
"network.k_exc" = 4
"network.k_inh" = 1
"run.duration_s" = "5 ms"
[grid]
"stimulus.rate_hz" = [1e4, 2e4]
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    import warnings

    from neurochip.sweep import load_sweep, run_sweep

    d = tmp_path_factory.mktemp("fuzz")
    net = _net()
    save_network(net, d / "net.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_nir(net, d / "net.nir")
    record = run_on_chip(net, load_chip("generic"), duration_s=0.01, seed=1, route=False,
                         inputs=[PoissonInput(population="E", rate_hz=2e4, weight_volt=1e-3)])
    record.save(d / "run.npz")
    (d / "folder").mkdir()
    (d / "binary.bin").write_bytes(BINARY)
    for name in ("empty.toml", "empty.npz", "empty.cir"):
        (d / name).write_bytes(b"")
    generic = (importlib.resources.files("neurochip.chips") / "generic.toml").read_text()
    (d / "wide.toml").write_text(re.sub(r"(?m)^width = \d+", "width = 100000", generic))
    (d / "spec.toml").write_text(SPEC)
    (d / "flat.toml").write_text(SPEC.split("[grid]")[0])
    run_sweep(load_sweep(d / "spec.toml"), d / "table.csv", n_workers=0, progress=False)
    lines = (d / "table.csv").read_text().splitlines()
    status = lines[0].split(",").index("status")
    failed = [",".join(c if k != status else "error" for k, c in enumerate(line.split(","))) for line in lines[1:]]
    (d / "failed.csv").write_text("\n".join([lines[0], *failed]) + "\n")
    return d


def _snapshot(d) -> dict[str, str]:
    return {
        os.path.relpath(os.path.join(root, name), d): hashlib.sha256(open(os.path.join(root, name), "rb").read()).hexdigest()
        for root, _, names in os.walk(d) for name in names
    }  # fmt: skip


@contextmanager
def _alarm(seconds: int):
    def fail(*_):
        raise TimeoutError(f"not refused within {seconds} s: the bad value reached the work")

    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _with(base: list[str], option: str, value: str) -> list[str]:
    """``base`` with ``option`` set to ``value``: a positional replaced, a flag replaced or added."""
    argv = list(base)
    positional = {"circuit": 2, "chip": 2, "network": 1, "file": 2, "run": 2, "kind": 1}
    if option == "target":
        argv[argv.index("plot") + 1 if "plot" in argv else 1] = value
    elif option in positional:
        argv[positional[option]] = value
    elif option in argv:
        argv[argv.index(option) + 1] = value
    else:
        argv += [option, value]
    return argv


CASES = [(name, option, value) for name, (_, options) in OPTIONS.items() for option, values in options.items()
         for value in values]


@pytest.mark.parametrize(("name", "option", "value"), CASES,
                         ids=[f"{n}|{o}|{v or 'empty'}" for n, o, v in CASES])
def test_a_bad_value_is_one_error_line_and_writes_nothing(folder, capsys, name, option, value):
    if name.startswith("circuit") and option != "circuit":
        require_or_skip(spice_available(), "ngspice")
    base, _ = OPTIONS[name]
    argv = [a.replace("{d}", str(folder)) for a in _with(base, option, value)]
    before = _snapshot(folder)
    with _alarm(20):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    out, err = capsys.readouterr()
    assert code in (1, 2), f"exit {code} for {argv}\nstdout: {out[-500:]}\nstderr: {err}"
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert _snapshot(folder) == before, f"{argv} left or changed files"


@pytest.mark.parametrize("name", list(OPTIONS))
def test_every_base_command_succeeds(folder, tmp_path, capsys, name):
    """The fuzz means something only if the command it starts from works: each base exits 0."""
    import shutil

    if name.startswith("circuit") or name == "demo":
        require_or_skip(spice_available(), "ngspice")
    d = tmp_path / "d"
    shutil.copytree(folder, d)
    argv = [a.replace("{d}", str(d)) for a in OPTIONS[name][0]]
    code = main(argv)
    _, err = capsys.readouterr()
    assert code == 0, err
