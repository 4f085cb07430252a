"""Every subcommand's ``--json``, walked key by key on small inputs.

The rules (docs/cli.md, "One vocabulary"):

* a number that is not an integer is a physical quantity whose key (or the nearest enclosing key,
  for a table keyed by names or a list) ends with its unit (``_s``, ``_hz``, ``_joule``, ...), or a
  dimensionless figure: a key ending ``_fraction`` or ``_ratio``, or one of the few in
  ``DIMENSIONLESS``;
* a count is a JSON integer (a float under a key that is not a quantity fails the rule above);
* no NaN or infinity, neither as a number nor as a string: null, with a note beside it (a key
  containing "note" in the same table or the one above) -- so is every other null quantity;
* a key means the same with every flag: ``map`` with and without ``--rates`` has the same keys.
"""

from __future__ import annotations

import json
import math
import warnings

import pytest
from conftest import require_or_skip
from test_cli_fuzz import SPEC

from neurochip.chip import load_chip
from neurochip.circuit import spice_available
from neurochip.cli import main
from neurochip.lif import LIFParams
from neurochip.network import FixedInDegree, Network, Population, Projection
from neurochip.network.files import save_network
from neurochip.network.nir_io import write_nir

#: unit suffixes (the last token of a key, or the token before ``_per_``: ``bytes_per_synapse``)
UNITS = ("s", "hz", "joule", "watt", "volt", "farad", "siemens", "ohm", "amp", "coulomb", "bytes")
#: a token anywhere in a key that makes it dimensionless, or a mean of counts (hops, degree)
DIMENSIONLESS_TOKENS = ("fraction", "ratio", "share", "utilisation", "rel", "relative", "cv", "snr",
                        "probability", "hops", "degree")  # fmt: skip
#: dimensionless by name, each what it says
DIMENSIONLESS = {
    "phase", "prc_closed_form", "prc_emulator", "max_abs_difference",  # fractions of the period
    "ann_output", "ann_train_mse", "error", "predicted_error",  # ANN outputs and relative errors
    "decay_u_error", "decay_v_error",  # error of a decay factor per step
    "reltol", "tolerance",  # the solver's and the synapse fit's relative tolerances
    "real_time_factor",  # wall time / chip time
    "ConnectionSparsity", "ActivationSparsity",  # NeuroBench's metric names
}  # fmt: skip
BAD_STRINGS = {"inf", "-inf", "+inf", "nan", "infinity", "-infinity"}

P = LIFParams(c_m_farad=250e-12, g_leak_siemens=12.5e-9, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=2e-3)


def _unit_of(key: str) -> str | None:
    tokens = key.lower().split("_")
    if tokens[-1] in UNITS or key.endswith("_per_spike_round"):
        return tokens[-1]
    if any(t in UNITS and nxt == "per" for t, nxt in zip(tokens, tokens[1:])):
        return "per"
    if key in DIMENSIONLESS or any(t in DIMENSIONLESS_TOKENS for t in tokens):
        return "1"
    return None


def _has_note(table: dict) -> bool:
    return any("note" in str(k) for k in table)


def violations(value, path: str = "", unit: str | None = None, noted: bool = False) -> list[str]:
    """Every breach of the rules in ``value`` (a decoded JSON document); ``unit`` is the unit of
    the nearest enclosing key that has one, ``noted`` whether the enclosing table has a note."""
    out: list[str] = []
    if isinstance(value, dict):
        # a table that names its unit (``{"unit": "F", "default": 1e-12}``) carries it
        given = value.get("unit") if isinstance(value.get("unit"), str) else None
        here = _has_note(value)
        for key, item in value.items():
            own = _unit_of(str(key))
            if item is None and (own or given or unit) not in (None, "1") and not (here or noted):
                out.append(f"{path}.{key}: null quantity without a note saying why (in its table or the one above)")
            out += violations(item, f"{path}.{key}", own or given or unit, here)
    elif isinstance(value, list):
        for k, item in enumerate(value):
            out += violations(item, f"{path}[{k}]", unit)
    elif isinstance(value, float):
        if not math.isfinite(value):
            out.append(f"{path}: {value} (not finite)")
        elif unit is None:
            out.append(f"{path}: float {value!r} under a key without a unit")
    elif isinstance(value, str) and value.strip().lower() in BAD_STRINGS:
        out.append(f"{path}: {value!r} (infinity or NaN as a string; use null and a reason)")
    return out


def _loads(text: str):
    def refuse(name):
        raise ValueError(f"{name} in JSON output")

    return json.loads(text, parse_constant=refuse)


def test_the_walker_finds_each_kind_of_breach():
    doc = {
        "spikes": 3.0,
        "energy_joule": float("inf"),
        "rate_hz": {"E": 5.0, "I": [1.5, float("nan")]},
        "per_event_joule": "inf",
        "load_fraction": 0.5,
        "n": 4,
        "cv": 0.3,
        "params": {"c_m": {"unit": "F", "default": 1e-12}},
        "bytes_per_synapse": 8.5,
        "mean_hops": 1.5,
        "latency_s": None,
        "isi": {"mean_isi_s": None, "mean_isi_note": "one spike"},
    }
    found = violations(doc)
    assert any(v.startswith(".spikes:") for v in found)
    assert any(v.startswith(".energy_joule:") for v in found)
    assert any(v.startswith(".rate_hz.I[1]:") for v in found)
    assert any(v.startswith(".per_event_joule:") for v in found)
    assert any(v.startswith(".latency_s:") for v in found)
    assert len(found) == 5
    with pytest.raises(ValueError, match="Infinity"):
        _loads('{"x_s": Infinity}')


# ---------------------------------------------------------------------------------------------
# small inputs


def _net() -> Network:
    return Network(
        populations=(Population(name="E", size=40, params=P), Population(name="I", size=10, params=P)),
        projections=(
            Projection(pre="E", post="E", rule=FixedInDegree(k=4), weight_volt=1e-4, delay_s=1e-3),
            Projection(pre="E", post="I", rule=FixedInDegree(k=4), weight_volt=1e-4, delay_s=1e-3),
            Projection(pre="I", post="E", rule=FixedInDegree(k=2), weight_volt=-5e-4, delay_s=1e-3),
        ),
        seed=2,
    )




@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("json")
    net = _net()
    save_network(net, d / "net.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_nir(net, d / "net.nir")
    (d / "spec.toml").write_text(SPEC)  # the fuzz test's two-point sweep
    return d


def _json(capsys, argv: list[str]):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, f"{' '.join(argv)}: exit {code}: {err}"
    return _loads(out)


RUN = ["run", "{d}/net.npz", "--duration", "20ms", "--poisson", "E:20kHz:2mV", "--poisson", "I:20kHz:2mV",
       "-o", "{d}/run.npz", "--json"]  # fmt: skip

#: one small, fast invocation of every subcommand with --json; ``spice`` ones need ngspice
COMMANDS: dict[str, list[str]] = {
    "lif": ["lif", "--current", "1nA", "--sigma", "5mV", "--points", "3", "--json"],
    "lif prc": ["lif", "prc", "--phases", "3", "--json"],
    "lif channel-noise": ["lif", "channel-noise", "--channels", "10", "--spikes", "20", "--json"],
    "lif strength-duration": ["lif", "strength-duration", "--widths", "1ms,10ms", "--json"],
    "lif resonance": ["lif", "resonance", "--sigmas", "1mV", "--trials", "1", "--duration", "50ms", "--json"],
    "lif convert": ["lif", "convert", "--samples", "1", "--duration", "150ms", "--json"],
    "circuit list": ["circuit", "list", "--json"],
    "circuit simulate": ["circuit", "simulate", "lif_behavioral", "--current", "2nA", "--duration", "1ms", "--json"],
    "circuit fit": ["circuit", "fit", "lif_behavioral", "--points", "3", "--json"],
    "circuit fit synapse": ["circuit", "fit", "syn_behavioral", "--json"],
    "circuit montecarlo": ["circuit", "montecarlo", "lif_transistor", "-n", "1", "--workers", "0",
                           "-o", "{d}/mc.npz", "--json"],  # fmt: skip
    "circuit corners": ["circuit", "corners", "sky130_lif", "--corners", "tt", "--points", "3", "--json"],
    "chip list": ["chip", "list", "--json"],
    "chip show": ["chip", "show", "loihi", "--json"],
    "chip show truenorth": ["chip", "show", "truenorth", "--json"],
    "network info": ["network", "info", "{d}/net.npz", "--json"],
    "network info rates": ["network", "info", "{d}/net.npz", "--rates", "E=5,I=20", "--json"],
    "network info nir": ["network", "info", "{d}/net.nir", "--json"],
    "map": ["map", "{d}/net.npz", "--json"],
    "map rates": ["map", "{d}/net.npz", "--rates", "E=5,I=20", "--json"],
    "map system": ["map", "{d}/net.npz", "--system", "dynapse2-x4", "--json"],
    "run system": ["run", "{d}/net.npz", "--system", "dynapse2-x4", "--duration", "5ms", "--poisson", "E:20kHz:2mV",
                   "-o", "{d}/board.npz", "--json"],  # fmt: skip
    "run": RUN,
    "report energy": ["report", "energy", "{d}/run.npz", "--json"],
    "report energy used": ["report", "energy", "{d}/run.npz", "--powered", "used", "--json"],
    "report throughput": ["report", "throughput", "{d}/run.npz", "--json"],
    "report saturation": ["report", "saturation", "{d}/run.npz", "--json"],
    "stepped": ["stepped", "{d}/net.npz", "--steps", "20", "--input", "E:200Hz", "--json"],
    "stepped paced": ["stepped", "{d}/net.npz", "--steps", "20", "--pace", "1ms", "--realtime", "1us", "--json"],
    "stepped truenorth": ["stepped", "{d}/net.npz", "--chip", "truenorth", "--steps", "5", "--json"],
    "board list": ["board", "list", "--json"],
    "board map": ["board", "map", "{d}/net.npz", "--system", "nahuku", "--json"],
    "board map rates": ["board", "map", "{d}/net.npz", "--system", "nahuku", "--rates", "10Hz", "--json"],
    "board run": ["board", "run", "{d}/net.npz", "--system", "nahuku", "--duration", "5ms",
                  "--poisson", "E:20kHz:2mV", "--json"],  # fmt: skip
    "estimate": ["estimate", "{d}/net.nir", "--chip", "loihi", "--steps", "5", "--json"],
    "estimate no events": ["estimate", "{d}/net.nir", "--chip", "generic", "--steps", "2", "--rate", "1e-9Hz",
                           "--json"],  # fmt: skip
    "sweep": ["sweep", "{d}/spec.toml", "--workers", "0", "-o", "{d}/table.csv", "--json"],
    "sweep plot": ["sweep", "plot", "{d}/table.csv", "--x", "stimulus.rate_hz", "--y", "rate_mean_hz",
                   "-o", "{d}/p.png", "--json"],  # fmt: skip
}
SPICE = {"circuit simulate", "circuit fit", "circuit fit synapse", "circuit montecarlo", "circuit corners"}
#: a command that reads what another writes runs after it
NEEDS = {"report": "run", "sweep plot": "sweep"}


def _argv(name: str, d) -> list[str]:
    return [a.replace("{d}", str(d)) for a in COMMANDS[name]]


def _prepare(capsys, name: str, d) -> None:
    for prefix, first in NEEDS.items():
        if name.startswith(prefix) and not (d / ("run.npz" if first == "run" else "table.csv")).exists():
            _json(capsys, _argv(first, d))


@pytest.mark.parametrize("name", list(COMMANDS))
def test_json_keys_carry_units_counts_are_integers_and_nothing_is_infinite(capsys, folder, name):
    if name in SPICE:
        require_or_skip(spice_available(), "ngspice")
    _prepare(capsys, name, folder)
    doc = _json(capsys, _argv(name, folder))
    assert doc, f"{name}: empty JSON"
    found = violations(doc)
    assert not found, f"{name}:\n  " + "\n  ".join(found)


def test_every_subcommand_with_json_is_walked():
    from test_cli_fuzz import _leaves

    from neurochip.cli import build_parser

    for name, parser in _leaves(build_parser()):
        if any("--json" in a.option_strings for a in parser._actions):
            assert any(c == name or c.startswith(name + " ") for c in COMMANDS), f"{name} --json is not walked"


@pytest.mark.parametrize(("plain", "rated"), [("map", "map rates"), ("board map", "board map rates")])
def test_keys_and_their_units_do_not_change_with_rates(capsys, folder, plain, rated):
    a = _json(capsys, _argv(plain, folder))
    b = _json(capsys, _argv(rated, folder))
    assert set(a) == set(b), set(a) ^ set(b)
    assert a["rates_given"] is False and b["rates_given"] is True
    # a load is in packets/s (with rates) or per spike round (without), never one name for both
    for key in a:
        if key.endswith("_hz"):
            assert a[key] is None and b[key] is not None, key
        if key.endswith("_per_spike_round"):
            assert a[key] is not None and b[key] is None, key
    if plain == "map":
        assert b["link_utilisation_max_fraction"] == pytest.approx(
            b["link_load_max_hz"] / load_chip("generic").router.link_bandwidth_hz)
        assert a["link_utilisation_max_fraction"] is None and a["load_note"]
