"""One point of the pipeline from a flat dict of named parameters: circuit -> network -> chip -> run.

A design-space sweep (:mod:`neurochip.sweep`) calls :func:`run_point` once per point.  The point
is a flat mapping of dotted names to values (numbers, or strings with SI prefixes such as
``"20 ms"``); every name not given takes its default.

==============================  ===============================================================
name                            meaning (default)
==============================  ===============================================================
``circuit``                     shipped circuit name or netlist path to fit LIF parameters from
                                (``lif_behavioral``, ``lif_transistor``); absent or ``"none"``:
                                no circuit, the neurons are ``LIFParams`` (default: none)
``circuit.<param>``             a netlist parameter of that circuit (``circuit.c_m``)
``fit.<field>``                 a :class:`~neurochip.circuit.FitOptions` field (``fit.n_sweep``)
``lif.<field>``                 a :class:`~neurochip.lif.LIFParams` field (``lif.t_ref_s``);
                                with a circuit, it overrides the fitted value
``chip``                        chip preset name or TOML path (``generic``)
``<table>.<field>``             a chip spec field, ``table`` one of ``mesh``, ``core``,
                                ``router``, ``energy`` (``router.link_bandwidth_hz``,
                                ``core.neurons``); ``chip.<table>.<field>`` is the same
``network.n_exc``, ``n_inh``    population sizes (800, 200)
``network.k_exc``, ``k_inh``    excitatory / inhibitory in-degree (80, 20)
``network.j_fraction``          excitatory weight as a fraction of the threshold gap
                                V_th - E_L (0.02)
``network.g``                   inhibitory weight = -g x excitatory weight (5)
``network.delay_fraction``      synaptic delay as a fraction of tau_m (0.1)
``network.seed``                connectivity seed (1)
``stimulus.rate_hz``            Poisson input rate into every neuron (24 / tau_m, which drives
                                the mean input to 1.2 x threshold with the default weight)
``stimulus.weight_fraction``    input weight as a fraction of the threshold gap (0.05)
``run.duration_s``              chip time emulated (0.05 s)
``run.seed``                    emulator seed (1)
``run.cores_powered``           ``"all"`` or ``"used"``: which cores pay static power ("all")
``run.route``                   true: spikes timed as packets through the routers (latency,
                                serialisation, FIFOs, drops); false: packets only counted (true)
``mapping.partitioner``         ``"metis"`` or ``"block"`` ("metis")
``system``, ``system.*``,       run on a board of chips instead of one chip: the system preset or
``board.*``                     file, its chip count, topology and links, and the board mapper's
                                options (:mod:`neurochip.sweep.board`)
==============================  ===============================================================

With a circuit, the chip's energy table takes the circuit's fitted energy per spike for
``energy.spike_joule`` and adds one circuit's static power per neuron slot to
``energy.static_power_per_core_watt`` (as ``neurochip demo`` does); an ``energy.*`` value in the
point is applied after that and wins.

Circuit fits are cached by their inputs: :func:`fit_key` hashes the circuit's source text, its
resolved netlist parameters and the fit options, and :func:`cached_fit` keeps the fitted
summary in ``<cache_dir>/fit-<key>.json``; a sweep over chip fields fits each circuit once.

Examples
--------
>>> row = run_point({"network.n_exc": 40, "network.n_inh": 10, "network.k_exc": 8,
...                  "network.k_inh": 2, "run.duration_s": 0.01, "core.neurons": 16})
>>> row["status"], row["n_neurons"], row["cores_used"]
('ok', 50, 4)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import lif
from .._spec import unit_of
from ..errors import InvalidParameterError
from ..units import parse_quantity

__all__ = ["run_point", "OUTPUT_COLUMNS", "fit_key", "cached_fit", "check_point", "circuit_inputs"]

CHIP_TABLES = ("mesh", "core", "router", "energy")
NETWORK_DEFAULTS: dict[str, float] = {
    "n_exc": 800, "n_inh": 200, "k_exc": 80, "k_inh": 20, "j_fraction": 0.02, "g": 5.0,
    "delay_fraction": 0.1, "seed": 1,
}  # fmt: skip
STIMULUS_KEYS = ("rate_hz", "weight_fraction")
RUN_DEFAULTS: dict[str, Any] = {"duration_s": 0.05, "seed": 1, "cores_powered": "all", "route": True}
MAPPING_KEYS = ("partitioner",)
_INT_KEYS = {"n_exc", "n_inh", "k_exc", "k_inh", "seed"}

#: Columns of a result row, after the point's own input columns (all SI).
OUTPUT_COLUMNS: tuple[str, ...] = (
    "status", "error",
    "n_neurons", "n_synapses", "n_cores", "cores_used",
    "neuron_tau_m_s", "neuron_t_ref_s", "spike_energy_joule", "static_power_per_core_watt",
    "input_rate_hz", "input_drive",
    "rate_mean_hz", "rate_exc_hz", "rate_max_hz", "rate_ceiling_hz",
    "spikes", "synaptic_events",
    "energy_total_joule", "energy_dynamic_joule", "energy_static_joule",
    "power_total_watt", "power_dynamic_watt", "power_static_watt",
    "energy_per_synaptic_event_joule",
    "throughput_synaptic_events_per_s", "spikes_per_s",
    "link_bandwidth_hz", "link_utilisation_max", "link_utilisation_mean", "links_saturated", "drops",
    "mean_hops", "latency_mean_s", "latency_max_s", "routed",
    "synaptic_events_per_wall_s", "wall_time_s",
)  # fmt: skip


def _number(key: str, value: Any, unit: str | None = None) -> float:
    if isinstance(value, bool):
        raise InvalidParameterError(f"{key} = {value!r}: must be a number")
    try:
        return parse_quantity(value, unit=unit, name=key)
    except (InvalidParameterError, TypeError) as exc:
        raise InvalidParameterError(f"{key} = {value!r}: {exc}") from None


def _split(point: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Group the point's names by stage; unknown names raise, naming the key."""
    groups: dict[str, dict[str, Any]] = {
        k: {} for k in ("circuit", "fit", "lif", "chip", "network", "stimulus", "run", "mapping", "system", "board")
    }
    lif_fields = {f.name for f in dataclasses.fields(lif.LIFParams)}
    for key, value in point.items():
        if not isinstance(key, str):
            raise InvalidParameterError(f"parameter name {key!r}: must be a string")
        head, _, rest = key.partition(".")
        if key in ("circuit", "chip"):
            groups[key][""] = value
        elif head == "chip" and rest.split(".")[0] in CHIP_TABLES:
            groups["chip"][rest] = value
        elif head in CHIP_TABLES and rest:
            groups["chip"][key] = value
        elif head in ("circuit", "fit") and rest:
            groups[head][rest] = value
        elif head == "lif" and rest in lif_fields:
            groups["lif"][rest] = value
        elif head == "network" and rest in NETWORK_DEFAULTS:
            groups["network"][rest] = value
        elif head == "stimulus" and rest in STIMULUS_KEYS:
            groups["stimulus"][rest] = value
        elif head == "run" and rest in RUN_DEFAULTS:
            groups["run"][rest] = value
        elif head == "mapping" and rest in MAPPING_KEYS:
            groups["mapping"][rest] = value
        elif head in ("system", "board") and (rest or head == "system"):
            groups[head][rest] = value
        else:
            raise InvalidParameterError(
                f"unknown parameter {key!r}: expected circuit, circuit.<param>, fit.<field>, lif.<field>, chip, "
                f"mesh|core|router|energy.<field>, network.{{{','.join(NETWORK_DEFAULTS)}}}, "
                f"stimulus.{{{','.join(STIMULUS_KEYS)}}}, run.{{{','.join(RUN_DEFAULTS)}}}, mapping.partitioner, "
                f"system, system.<field> or board.<field>"
            )
    return groups


def _circuit_name(groups: dict[str, dict[str, Any]]) -> str | None:
    name = groups["circuit"].get("")
    if name is None or (isinstance(name, str) and name.lower() == "none"):
        extra = [f"circuit.{k}" for k in groups["circuit"] if k] + [f"fit.{k}" for k in groups["fit"]]
        if extra:
            raise InvalidParameterError(f"{extra[0]} given but no 'circuit' to fit")
        return None
    if not isinstance(name, str):
        raise InvalidParameterError(f"circuit = {name!r}: must be a circuit name or a netlist path")
    return name


def _fit_options(values: Mapping[str, Any]) -> Any:
    from ..circuit import FitOptions

    known = {f.name: f for f in dataclasses.fields(FitOptions) if f.name != "solver"}
    kwargs: dict[str, Any] = {}
    for k, v in values.items():
        if k not in known:
            raise InvalidParameterError(f"unknown parameter 'fit.{k}': FitOptions fields are {', '.join(known)}")
        kwargs[k] = int(v) if k in ("n_sweep", "rheobase_steps", "isis") else _number(f"fit.{k}", v, unit_of(k))
    return FitOptions(**kwargs)


def circuit_inputs(point: Mapping[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
    """The circuit name, netlist overrides and fit options of a point.

    Parameters
    ----------
    point : mapping of str to number or str
        A sweep point (see the module doc).

    Returns
    -------
    tuple of (str, dict, dict) or None
        ``(circuit, {netlist parameter: value}, {FitOptions field: value})``; None when the point
        names no circuit.

    Examples
    --------
    >>> circuit_inputs({"circuit": "lif_behavioral", "circuit.c_m": "2 pF", "fit.n_sweep": 4})
    ('lif_behavioral', {'c_m': '2 pF'}, {'n_sweep': 4})
    >>> circuit_inputs({"network.n_exc": 10}) is None
    True
    """
    groups = _split(point)
    name = _circuit_name(groups)
    if name is None:
        return None
    overrides = {k: v for k, v in groups["circuit"].items() if k}
    return name, overrides, dict(groups["fit"])


def fit_key(circuit: str, overrides: Mapping[str, Any], fit_options: Mapping[str, Any]) -> str:
    """Hash of what a fit depends on: the netlist text, resolved parameters and fit options.

    Parameters
    ----------
    circuit : str
        Shipped circuit name or netlist path.
    overrides : mapping of str to number or str
        Netlist parameters (values in SI units or strings with SI prefixes).
    fit_options : mapping of str to value
        :class:`~neurochip.circuit.FitOptions` fields.

    Returns
    -------
    str
        A hexadecimal digest; two spellings of one value (``"1pF"`` and ``1e-12``) give the same key.

    Examples
    --------
    >>> fit_key("lif_behavioral", {"c_m": "1pF"}, {}) == fit_key("lif_behavioral", {"c_m": 1e-12}, {})
    True
    """
    from ..circuit import load_circuit

    template = load_circuit(circuit)
    resolved = template.resolve(overrides)
    opts = dataclasses.asdict(_fit_options(fit_options))
    payload = json.dumps(
        {"netlist": template.render(resolved), "params": resolved, "options": opts}, sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def cached_fit(
    circuit: str, overrides: Mapping[str, Any], fit_options: Mapping[str, Any], cache_dir: str | Path | None
) -> dict[str, Any]:
    """The fitted summary of a circuit, from the cache when present, else fitted with ngspice.

    Parameters
    ----------
    circuit : str
        Shipped circuit name or netlist path.
    overrides : mapping of str to number or str
        Netlist parameters.
    fit_options : mapping of str to value
        :class:`~neurochip.circuit.FitOptions` fields.
    cache_dir : str or Path or None
        Folder of ``fit-<key>.json`` files (:func:`fit_key`); None: fit every time, cache nothing.

    Returns
    -------
    dict
        ``circuit``, ``circuit_params``, ``params`` (a LIFParams dict, SI units),
        ``energy_per_spike_joule`` (J), ``static_power_watt`` (W), ``max_isi_rel_error``.  A new
        fit is written to the cache atomically (temporary file, then rename).
    """
    from ..circuit import fit_lif

    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"fit-{fit_key(circuit, overrides, fit_options)}.json"
        if path.is_file():
            return json.loads(path.read_text())
    res = fit_lif(circuit, params=dict(overrides), options=_fit_options(fit_options))
    summary = {
        "circuit": res.circuit,
        "circuit_params": dict(res.circuit_params),
        "params": res.params.to_dict(),
        "energy_per_spike_joule": res.energy_per_spike_joule,
        "static_power_watt": res.static_power_watt,
        "max_isi_rel_error": res.max_isi_rel_error,
    }
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(summary, indent=1))
        os.replace(tmp, path)
    return summary


def _chip(groups: dict[str, dict[str, Any]], fit: dict[str, Any] | None, base: Any = None) -> Any:
    from ..chip import load_chip
    from ..onchip import with_neuron_circuit

    # a board point without a `chip` keeps its system's chip (which may come from a file)
    if "" in groups["chip"]:
        chip = load_chip(groups["chip"][""])
    else:
        chip = base if base is not None else load_chip("generic")
    changes: dict[str, dict[str, Any]] = {}
    for key, value in groups["chip"].items():
        if not key:
            continue
        table, _, fname = key.partition(".")
        sub = getattr(chip, table)
        names = {f.name: f for f in dataclasses.fields(sub)}
        if fname not in names:
            raise InvalidParameterError(f"unknown parameter {key!r}: {table} fields are {', '.join(names)}")
        current = getattr(sub, fname)
        if isinstance(current, bool):
            if not isinstance(value, bool):
                raise InvalidParameterError(f"{key} = {value!r}: must be true or false")
            v: Any = value
        elif "int" in str(names[fname].type):
            num = _number(key, value)
            if num != int(num):
                raise InvalidParameterError(f"{key} = {value!r}: must be an integer")
            v = int(num)
        else:
            v = _number(key, value, unit_of(fname))
        changes.setdefault(table, {})[fname] = v
    # the chip's structure first (a circuit's static power counts the core's neuron slots), then
    # the fitted circuit, then swept prices (an explicit energy.* value wins over the circuit's)
    for table, fields in changes.items():
        if table != "energy":
            chip = dataclasses.replace(chip, **{table: dataclasses.replace(getattr(chip, table), **fields)})
    if fit is not None:
        chip = with_neuron_circuit(chip, energy_per_spike_joule=fit["energy_per_spike_joule"],
                                   static_power_watt=fit["static_power_watt"], circuit=str(fit.get("circuit", "circuit")))
    if "energy" in changes:
        chip = dataclasses.replace(chip, energy=dataclasses.replace(chip.energy, **changes["energy"]))
    return chip


def _chip_and_system(groups: dict[str, dict[str, Any]], fit: dict[str, Any] | None) -> tuple[Any, Any, Any]:
    """The point's chip, and its board and board-mapping options (None, None for one chip)."""
    if not groups["system"] and not groups["board"]:
        return _chip(groups, fit), None, None
    from .board import board_options, system_spec

    if "" not in groups["system"]:
        first = next(iter([f"system.{k}" for k in groups["system"]] + [f"board.{k}" for k in groups["board"]]))
        raise InvalidParameterError(f"{first} given but no 'system' to run on")
    preset = system_spec(groups["system"])
    chip = _chip(groups, fit, base=preset.chip)
    options = board_options(groups["board"], groups["mapping"].get("partitioner"))
    return chip, dataclasses.replace(preset, chip=chip), options


def check_point(point: Mapping[str, Any]) -> None:
    """Validate a point's names and values without running it.

    Parameters
    ----------
    point : mapping of str to number or str
        A sweep point (see the module doc).

    Raises
    ------
    InvalidParameterError
        Naming the first unknown name or bad value.

    Examples
    --------
    >>> check_point({"network.n_exc": 0})
    Traceback (most recent call last):
    ...
    neurochip.errors.InvalidParameterError: network.n_exc = 0: must be >= 1
    """
    groups = _split(point)
    name = _circuit_name(groups)
    if name is not None:
        from ..circuit import load_circuit

        load_circuit(name).resolve({k: v for k, v in groups["circuit"].items() if k})
        _fit_options(groups["fit"])
    _chip_and_system(groups, None)
    _lif(groups, None)
    _net_values(groups)
    _run_values(groups)


def _lif(groups: dict[str, dict[str, Any]], fit: dict[str, Any] | None) -> lif.LIFParams:
    base = lif.LIFParams.from_dict(fit["params"]) if fit is not None else lif.LIFParams()
    if not groups["lif"]:
        return base
    changes = {k: _number(f"lif.{k}", v, unit_of(k)) for k, v in groups["lif"].items()}
    return dataclasses.replace(base, **changes)


def _net_values(groups: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = dict(NETWORK_DEFAULTS)
    for k, v in groups["network"].items():
        num = _number(f"network.{k}", v)
        if k in _INT_KEYS:
            if num != int(num) or num < 0:
                raise InvalidParameterError(f"network.{k} = {v!r}: must be an integer >= 0")
            num = int(num)
        out[k] = num
    if out["n_exc"] < 1:
        raise InvalidParameterError(f"network.n_exc = {out['n_exc']}: must be >= 1")
    for k, v in groups["stimulus"].items():
        out[f"stimulus.{k}"] = _number(f"stimulus.{k}", v, unit_of(k))
    return out


def _run_values(groups: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out = dict(RUN_DEFAULTS)
    out.update(groups["run"])
    out["duration_s"] = _number("run.duration_s", out["duration_s"], "s")
    if not out["duration_s"] > 0:
        raise InvalidParameterError(f"run.duration_s = {out['duration_s']!r}: must be > 0")
    out["seed"] = int(out["seed"])
    if not isinstance(out["route"], bool):
        raise InvalidParameterError(f"run.route = {out['route']!r}: must be true or false")
    if out["cores_powered"] not in ("all", "used"):
        raise InvalidParameterError(f"run.cores_powered = {out['cores_powered']!r}: must be 'all' or 'used'")
    return out


def _network(p: lif.LIFParams, nv: dict[str, Any]) -> tuple[Any, list[Any], float, float]:
    from ..examples import ei_network

    w_frac = nv.get("stimulus.weight_fraction", 0.05)
    net, drive = ei_network(
        p, n_exc=nv["n_exc"], n_inh=nv["n_inh"], k_exc=nv["k_exc"], k_inh=nv["k_inh"], j_fraction=nv["j_fraction"],
        g=nv["g"], delay_fraction=nv["delay_fraction"], input_weight_fraction=w_frac,
        input_rate_hz=nv.get("stimulus.rate_hz"), seed=nv["seed"],
    )
    rate = float(drive[0].rate_hz[0])
    # mean input relative to the threshold gap: rate x weight x tau_m / (V_th - E_L)
    return net, drive, rate, rate * w_frac * p.tau_m_s


def _board_point(common: dict[str, Any], net: Any, drive: list[Any], system: Any, options: Any, rv: dict[str, Any],
                 n_exc: int, t0: float) -> dict[str, Any]:  # fmt: skip
    """The row of a point on a board: :data:`OUTPUT_COLUMNS`, then the board's own columns."""
    from .board import BOARD_COLUMNS, board_row

    values, spike_counts = board_row(net, drive, system, options, rv)
    rates = spike_counts / rv["duration_s"]
    values.update({
        "rate_mean_hz": float(rates.mean()), "rate_exc_hz": float(rates[:n_exc].mean()),
        "rate_max_hz": float(rates.max()), "spikes_per_s": float(spike_counts.sum()) / rv["duration_s"],
        "throughput_synaptic_events_per_s": values["synaptic_events"] / rv["duration_s"],
    })  # fmt: skip
    row = {**common, **values, "wall_time_s": time.perf_counter() - t0}
    return {c: row[c] for c in (*OUTPUT_COLUMNS, *BOARD_COLUMNS)}


def run_point(point: Mapping[str, Any], *, cache_dir: str | Path | None = None) -> dict[str, Any]:
    """Run one point of the pipeline; returns its result row (the :data:`OUTPUT_COLUMNS`).

    Parameters
    ----------
    point : mapping of str to number or str
        Named parameters (see the module doc); values may carry SI prefixes (``"10 ns"``).
    cache_dir : path, optional
        Folder of cached circuit fits (none: the circuit is fitted every time).

    Returns
    -------
    dict
        ``status`` ``"ok"``, the outputs in SI units; a point on a board (``system``) adds
        :data:`neurochip.sweep.board.BOARD_COLUMNS`.  Failures raise (a sweep records them).

    Raises
    ------
    InvalidParameterError
        For an unknown name or a bad value, naming it.
    MappingError, SimulationError
        From the stages themselves.
    """
    from ..mapping import MappingOptions, map_network
    from ..onchip import run_on_chip
    from ..report import LINK_SATURATION, energy_report

    t0 = time.perf_counter()
    groups = _split(point)
    ci = circuit_inputs(point)
    fit = cached_fit(ci[0], ci[1], ci[2], cache_dir) if ci is not None else None
    p = _lif(groups, fit)
    chip, system, board_opts = _chip_and_system(groups, fit)
    nv = _net_values(groups)
    rv = _run_values(groups)
    net, drive, rate_in, drive_rel = _network(p, nv)
    common = {
        "status": "ok", "error": "", "n_neurons": net.n_neurons, "n_synapses": net.csr().n_synapses,
        "neuron_tau_m_s": p.tau_m_s, "neuron_t_ref_s": p.t_ref_s, "spike_energy_joule": chip.energy.spike_joule,
        "static_power_per_core_watt": chip.energy.static_power_per_core_watt, "input_rate_hz": rate_in,
        "input_drive": drive_rel, "rate_ceiling_hz": lif.saturation_rate(p),
    }  # fmt: skip
    if system is not None:
        return _board_point(common, net, drive, system, board_opts, rv, nv["n_exc"], t0)
    mopts = MappingOptions(**groups["mapping"]) if groups["mapping"] else None
    mapping = map_network(net, chip, options=mopts)
    record = run_on_chip(net, chip, duration_s=rv["duration_s"], inputs=drive, seed=rv["seed"], mapping=mapping,
                         route=rv["route"], record_events=False)
    rep, _ = energy_report(record, cores_powered=rv["cores_powered"])
    t = record.duration_s
    util = record.link_utilisation()
    hops = record.counts.total("hops_ew") + record.counts.total("hops_ns")
    n_routes = np.diff(mapping.route_indptr).astype(np.float64)
    packets = float(np.dot(record.spike_counts.astype(np.float64), n_routes))
    mean_hops = hops / packets if packets > 0 else 0.0
    rates = record.rates_hz()
    syn = record.counts.total("synaptic_events")
    row = {
        **common,
        "n_cores": chip.n_cores,
        "cores_used": int(np.unique(record.neuron_core).size),
        "rate_mean_hz": float(rates.mean()),
        "rate_exc_hz": float(rates[: nv["n_exc"]].mean()),
        "rate_max_hz": float(rates.max()),
        "spikes": int(record.spike_counts.sum()),
        "synaptic_events": int(syn),
        "energy_total_joule": rep.total_joule,
        "energy_dynamic_joule": rep.dynamic_joule,
        "energy_static_joule": rep.static_joule,
        "power_total_watt": rep.total_joule / t,
        "power_dynamic_watt": rep.dynamic_joule / t,
        "power_static_watt": rep.static_joule / t,
        "energy_per_synaptic_event_joule": rep.energy_per_synaptic_event_joule,
        "throughput_synaptic_events_per_s": syn / t,
        "spikes_per_s": float(record.spike_counts.sum()) / t,
        "link_bandwidth_hz": chip.router.link_bandwidth_hz,
        "link_utilisation_max": float(util.max()) if util.size else 0.0,
        "link_utilisation_mean": float(util.mean()) if util.size else 0.0,
        "links_saturated": int(np.count_nonzero(util >= LINK_SATURATION)),
        "drops": int(record.drops),
        "mean_hops": mean_hops,
        "latency_mean_s": (record.latency_s.get("mean", math.nan) if record.routed
                           else mean_hops * chip.router.hop_latency_s),
        "latency_max_s": record.latency_s.get("max", math.nan) if record.routed else math.nan,
        "routed": record.routed,
        "synaptic_events_per_wall_s": syn / record.wall_time_s if record.wall_time_s > 0 else math.inf,
        "wall_time_s": time.perf_counter() - t0,
    }
    return {c: row[c] for c in OUTPUT_COLUMNS}
