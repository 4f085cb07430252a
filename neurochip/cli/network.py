"""``neurochip network info FILE``: size, connectivity, memory and expected traffic of a network
file (``.npz`` written by :func:`neurochip.network.files.save_network`) or an NIR file."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

from .._display import print_json, print_table
from ..errors import ConfigError
from ..units import format_si
from ._files import quantity


def add_parser(sub: Any) -> None:
    p = sub.add_parser("network", help="inspect network files (.npz) and NIR graphs",
                       description="Inspect a network file (.npz from neurochip) or an NIR graph: `network info FILE`.")
    nsub = p.add_subparsers(dest="network_command", metavar="ACTION", parser_class=type(p))
    info = nsub.add_parser(
        "info",
        help="neurons, synapses, degrees, delays, memory and expected traffic of a network",
        description="Summarise a network file (.npz from neurochip) or an NIR graph (.nir/.h5).",
    )
    info.add_argument("file", metavar="FILE", help="network .npz, or an NIR HDF5 file")
    info.add_argument(
        "--rates",
        metavar="Hz|POP=Hz,...",
        help="mean firing rate of every neuron (e.g. 5 or '5 Hz'), or per population: 'E=5,I=12', at most 1/t_ref; "
        "adds the expected spikes/s and synaptic events/s",
    )
    info.add_argument("--dt", metavar="s", help="NIR only (an error for .npz): the exporter's time step "
                      "(default: the --from profile's, else NIR's own convention, 1 s: a spike is a unit-area "
                      "Dirac pulse; warned)")
    info.add_argument("--from", dest="profile", metavar="PROFILE", help="NIR only (an error for .npz): the exporter "
                      "that wrote the graph, nir, snntorch, sinabs, norse, rockpool or lava-dl (sets dt and the reset)")
    info.add_argument("--delay", metavar="s", help="NIR only (an error for .npz): delay of edges without a Delay node "
                      "(default dt)")
    info.add_argument("--json", action="store_true", help="print JSON instead of tables")
    info.set_defaults(func=run)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def parse_rates(text: str | None) -> float | dict[str, float] | None:
    """A ``--rates`` flag: one rate for every neuron (``5``, ``"5 Hz"``) or one per population
    (``E=5,I=12``); each finite and >= 0.  None when the flag is absent."""
    if text is None:
        return None
    if "=" not in text:
        return quantity(text, "Hz", "--rates", nonnegative=True)
    out = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        if not name.strip():
            raise ConfigError(f"--rates {text!r}: {part!r}: expected NAME=HZ")
        out[name.strip()] = quantity(value, "Hz", f"--rates {name.strip()}", nonnegative=True)
    return out


def rates_per_neuron(network: Any, rates: float | dict[str, float]) -> Any:
    """The ``--rates`` of :func:`parse_rates` as one rate per neuron, after checking them against
    the network: every population named (and no other), and no rate above the ceiling 1/t_ref of
    a neuron of its population (an LIF neuron cannot fire faster; such a rate would report link
    loads the chip can never see)."""
    import numpy as np

    names = [p.name for p in network.populations]
    if isinstance(rates, dict):
        unknown = sorted(set(rates) - set(names))
        missing = [n for n in names if n not in rates]
        if unknown or missing:
            raise ConfigError(f"--rates: {'no population ' + repr(unknown[0]) if unknown else 'no rate for ' + repr(missing[0])}"
                              f"; the network's populations are {', '.join(names)}")
    out = []
    for pop in network.populations:
        rate = rates[pop.name] if isinstance(rates, dict) else rates
        t_ref = float(np.max(pop.arrays()["t_ref_s"]))
        if t_ref > 0 and rate * t_ref > 1:
            flag = f"--rates {pop.name}" if isinstance(rates, dict) else "--rates"
            raise ConfigError(f"{flag} = {format_si(rate, 'Hz')}: above the ceiling 1/t_ref = {format_si(1 / t_ref, 'Hz')} "
                              f"of population {pop.name!r} (t_ref {format_si(t_ref, 's')}): its neurons saturate there")
        out.append(np.full(pop.size, rate))
    return np.concatenate(out) if out else np.zeros(0)


_EXPECTED = "a network file: a neurochip .npz or an NIR HDF5 graph"


def _synapse_text(model: dict | None) -> str:
    """The population's synapse model in a few words: delta, or current-based with its taus."""
    if not model:
        return "delta"
    if model.get("model") == "cuba":
        te, ti = model["tau_syn_exc_s"], model["tau_syn_inh_s"]
        taus = format_si(te, "s") if te == ti else f"{format_si(te, 's')} / {format_si(ti, 's')}"
        extra = ("" if model.get("spiking", True) else ", no threshold") + (
            ", subtract reset" if model.get("reset") == "subtract" else "")
        return f"current {taus}{extra}"
    return str(model.get("model"))


def load_any(
    path: str, *, dt_s: float | None = None, delay_s: float | None = None, profile: str | None = None
) -> tuple[Any, str]:
    """A Network from a neurochip .npz or an NIR file (told apart by content); returns the
    network and the format name.  NIR import warnings go to stderr."""
    from .._io import check_input_file, input_errors

    p = check_input_file(path)
    with input_errors(p, _EXPECTED):
        with open(p, "rb") as fh:
            magic = fh.read(8)
    if not magic:
        raise ConfigError(f"the file is empty; expected {_EXPECTED}", path=str(path))
    if magic.startswith(b"\x89HDF"):
        from ..network.nir_io import read_nir

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                with input_errors(p, "an NIR graph (HDF5)"):
                    imp = read_nir(p, dt_s=dt_s, delay_s=delay_s, profile=profile)
            except (OSError, KeyError) as exc:  # h5py on a truncated or foreign HDF5 file
                raise ConfigError(f"cannot read as an NIR graph: {exc}", path=str(path)) from None
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
        return imp.network, "nir"
    if not magic.startswith(b"PK"):
        raise ConfigError(f"neither a .npz archive nor HDF5 (its first bytes are {magic[:4]!r}); expected {_EXPECTED}",
                          path=str(path))
    from ..network.files import load_network

    return load_network(p), "npz"


def run(args: argparse.Namespace) -> int:
    from ..network.graph import network_summary

    rates = parse_rates(args.rates)
    dt = quantity(args.dt, "s", "--dt", positive=True, high=1.0) if args.dt is not None else None
    delay = quantity(args.delay, "s", "--delay", nonnegative=True, high=1.0) if args.delay is not None else None
    profile = getattr(args, "profile", None)
    if profile is not None:
        from ..network.nir_profiles import PROFILES

        if profile not in PROFILES:
            raise ConfigError(f"--from {profile!r}: must be one of {', '.join(sorted(PROFILES))}")
    network, kind = load_any(args.file, dt_s=dt, delay_s=delay, profile=profile)
    if kind != "nir" and (dt is not None or delay is not None or profile is not None):
        flag = "--dt" if dt is not None else "--delay" if delay is not None else "--from"
        raise ConfigError(f"{flag}: applies to NIR graphs only; {args.file} is a "
                          "neurochip .npz, whose time constants and delays are in SI units already")
    if rates is not None:
        rates_per_neuron(network, rates)  # every population named, no rate above 1/t_ref
    summary = network_summary(network, rates_hz=rates)
    summary = {"file": str(args.file), "format": kind, **summary}
    for k in ("in_degree", "out_degree"):  # the least and most synapses of a neuron are counts
        summary[k] = {**summary[k], "min": int(summary[k]["min"]), "max": int(summary[k]["max"])}
    if args.json:
        print_json(summary)
        return 0
    _print(summary)
    return 0


def _print(s: dict[str, Any]) -> None:
    mem = s["memory"]
    rows = [
        ["file", f"{s['file']} ({s['format']})"],
        ["neurons", f"{s['n_neurons']:,}"],
        ["synapses", f"{s['n_synapses']:,}"],
        ["populations", str(s["n_populations"])],
        ["delays", ", ".join(format_si(d, "s") for d in s["delays_s"]) or "-"],
        ["synapse memory", f"{format_si(mem['synapse_bytes'], 'B')} ({mem['bytes_per_synapse']:.2f} B/synapse)"],
        ["neuron state", format_si(mem["neuron_state_bytes"], "B")],
    ]
    print_table("network", ["quantity", "value"], rows)
    print_table(
        "populations",
        ["name", "size", "synapses", "V_th mean ± std", "tau_m", "t_ref", "bias", "per-neuron"],
        [
            [
                p["name"], str(p["size"]), _synapse_text(p.get("model")),
                f"{format_si(p['v_th_volt']['mean'], 'V')} ± {format_si(p['v_th_volt']['std'], 'V')}",
                format_si(p["tau_m_s"]["mean"], "s"), format_si(p["t_ref_s"]["mean"], "s"),
                format_si(p["bias_current_amp"]["mean"], "A"), ", ".join(p["heterogeneous"]) or "-",
            ]
            for p in s["populations"]
        ],
    )  # fmt: skip
    if s["projections"]:
        print_table(
            "projections (per connected pair)",
            ["pre -> post", "synapses", "weight mean", "weight range", "delays"],
            [
                [
                    f"{p['pre']} -> {p['post']}", f"{p['n_synapses']:,}", format_si(p["weight_mean_volt"], "V"),
                    f"{format_si(p['weight_min_volt'], 'V')} .. {format_si(p['weight_max_volt'], 'V')}",
                    ", ".join(format_si(d, "s") for d in p["delays_s"]),
                ]
                for p in s["projections"]
            ],
        )  # fmt: skip
    print_table(
        "degrees (per neuron)",
        ["", "min", "mean", "max", "std"],
        [
            [k.replace("_", "-"), f"{s[k]['min']:.0f}", f"{s[k]['mean']:.2f}", f"{s[k]['max']:.0f}", f"{s[k]['std']:.2f}"]
            for k in ("in_degree", "out_degree")
        ],
    )
    if "traffic" in s:
        t = s["traffic"]
        print_table(
            "expected traffic",
            ["quantity", "value"],
            [
                ["rates", ", ".join(f"{k}={format_si(v, 'Hz')}" for k, v in t["rates_hz"].items())],
                ["spikes", f"{t['spikes_per_s']:.4g} /s"],
                ["synaptic events", f"{t['synaptic_events_per_s']:.4g} /s"],
            ],
        )


def demo_step(out: Path) -> None:
    """The network step of ``neurochip demo``: build a small E/I network, save it, write it as
    NIR, read both back and print ``network info``."""
    from ..lif import LIFParams
    from ..network import FixedInDegree, Network, Population, Projection
    from ..network.files import load_network, save_network
    from ..network.graph import network_summary
    from ..network.nir_io import read_nir, write_nir

    p = LIFParams(c_m_farad=250e-12, g_leak_siemens=12.5e-9, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=2e-3)
    net = Network(
        populations=(Population(name="E", size=400, params=p), Population(name="I", size=100, params=p)),
        projections=(
            Projection(pre="E", post="E", rule=FixedInDegree(k=40), weight_volt=1e-4, delay_s=1.5e-3),
            Projection(pre="E", post="I", rule=FixedInDegree(k=40), weight_volt=1e-4, delay_s=1.5e-3),
            Projection(pre="I", post="E", rule=FixedInDegree(k=10), weight_volt=-5e-4, delay_s=1.5e-3),
            Projection(pre="I", post="I", rule=FixedInDegree(k=10), weight_volt=-5e-4, delay_s=1.5e-3),
        ),
        seed=1,
    )
    save_network(net, out / "network.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NIR has no t_ref: kept in neurochip's metadata
        write_nir(net, out / "network.nir")
    back = load_network(out / "network.npz")
    again = read_nir(out / "network.nir").network
    same = back.csr().n_synapses == again.csr().n_synapses == net.csr().n_synapses
    summary = network_summary(back, rates_hz={"E": 5.0, "I": 20.0})
    _print({"file": str(out / "network.npz"), "format": "npz", **summary})
    print(f"network written to {out}/network.npz and {out}/network.nir (read back: "
          f"{'same synapses' if same else 'DIFFERENT'})")
