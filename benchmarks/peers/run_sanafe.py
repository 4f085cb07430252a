#!/usr/bin/env python3
"""Run a small mapped LIF network on SANA-FE and report its energy, spikes and wall time.

This script runs in the benchmark environment (``make bench-env`` creates ``.bench-venv/``
with ``sanafe``), not in neurochip's own: it imports nothing from neurochip.  It reads one JSON
description (a file path, or ``-`` for standard input), builds a SANA-FE architecture from it
(a YAML file this script writes to a temporary directory) and the spiking network through
SANA-FE's Python API, simulates it and prints one JSON object on standard output::

    .bench-venv/bin/python benchmarks/peers/run_sanafe.py description.json

The description (every energy in J, every latency in s)::

    {
      "timesteps": 1000,                   # time-steps to simulate
      "mesh": {"width": 2, "height": 2},   # one SANA-FE tile (one core) per mesh position
      "max_neurons_per_core": 128,
      "energy": {"spike_joule": ..., "synaptic_event_joule": ..., "neuron_update_joule": ...,
                 "neuron_update_inactive_joule": ..., "hop_ew_joule": ..., "hop_ns_joule": ...,
                 "core_packet_joule": ...},
      "latency": {"hop_s": ..., "synaptic_event_s": ..., "neuron_update_s": ..., "spike_s": ...,
                  # optional, 0 when absent (the time-stepped comparison sets them):
                  "access_s": ..., "message_in_s": ..., "message_out_s": ..., "sync_s": ...},
      "groups": [
        {"name": "input", "kind": "input", "size": N, "cores": [...], "spike_steps": [[...], ...]},
        {"name": "E", "kind": "lif", "size": N, "cores": [...],
         "threshold": ..., "reset": ..., "leak_decay": ...}
      ],
      "connections": [{"pre": "input", "post": "E", "pairs": [[i, j], ...], "weights": [...]}],
      "processing_threads": 1, "scheduler_threads": 0, "timing_model": "simple",
      "perf_trace": false                  # optional: report SANA-FE's per-step time and energy
    }

``cores`` gives each neuron's core as a mesh index ``y * width + x``.  ``spike_steps[i]`` lists
the 1-based time-steps at which input neuron ``i`` fires.  Potentials, thresholds and weights are
in whatever unit the caller chose (SANA-FE's soma truncates potentials to multiples of 1/64 of
that unit and stores weights as float32, so pick a small unit).

How neurochip's energy table is put into SANA-FE's architecture:

* ``spike_joule`` -> soma ``energy_spike_out`` (LIF and input somas alike);
* ``synaptic_event_joule`` -> synapse ``energy_process_spike``;
* ``neuron_update_joule`` -> LIF soma ``energy_update_neuron``; the input soma's is 0;
* ``neuron_update_inactive_joule`` -> soma ``energy_access_neuron`` only with
  ``"charge_access": true`` (default false: 0);
* ``hop_ew_joule`` -> tile ``energy_east_hop`` and ``energy_west_hop``; ``hop_ns_joule`` ->
  ``energy_north_hop`` and ``energy_south_hop``;
* ``core_packet_joule`` -> axon-in ``energy_message_in`` (SANA-FE charges it for every packet a
  core receives; neurochip only for packets that stay in their core); axon-out 0;
* dendrite: an accumulator with no energy; static power: SANA-FE has none.

SANA-FE numbers its tiles column by column (tile ``x * height + y``; north is +y), which this
script translates from the mesh index.  SANA-FE (GPL-3.0) is used through its public API only.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.metadata
import json
import math
import os
import platform
import resource
import sys
import tempfile
import time
from typing import Any

ENERGY_KEYS = (
    "spike_joule",
    "synaptic_event_joule",
    "neuron_update_joule",
    "neuron_update_inactive_joule",
    "hop_ew_joule",
    "hop_ns_joule",
    "core_packet_joule",
)


class DescriptionError(ValueError):
    """The JSON description is malformed (the message names the field)."""


def _num(value: Any, where: str, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DescriptionError(f"{where} = {value!r}: must be a finite number")
    if value < minimum:
        raise DescriptionError(f"{where} = {value!r}: must be >= {minimum}")
    return float(value)


def tile_of(core: int, width: int, height: int) -> int:
    """SANA-FE tile id of mesh index ``core = y * width + x`` (SANA-FE counts column by column)."""
    x, y = core % width, core // width
    return x * height + y


def _input_units_needed(desc: dict[str, Any], n_cores: int) -> list[int]:
    """Input neurons on each core (each needs its own input soma unit)."""
    per_core = [0] * n_cores
    for spec in desc.get("groups", []):
        if spec.get("kind") == "input":
            for core in spec.get("cores", []):
                if 0 <= int(core) < n_cores:
                    per_core[int(core)] += 1
    return per_core


def architecture_yaml(desc: dict[str, Any]) -> str:
    """The architecture, in SANA-FE's YAML layout, written from the description."""
    mesh = desc.get("mesh", {})
    width = int(_num(mesh.get("width"), "mesh.width", minimum=1))
    height = int(_num(mesh.get("height"), "mesh.height", minimum=1))
    energy = desc.get("energy", {})
    e = {k: _num(energy.get(k), f"energy.{k}") for k in ENERGY_KEYS}
    lat = desc.get("latency", {})
    hop_s = _num(lat.get("hop_s", 0.0), "latency.hop_s")
    syn_s = _num(lat.get("synaptic_event_s", 0.0), "latency.synaptic_event_s")
    upd_s = _num(lat.get("neuron_update_s", 0.0), "latency.neuron_update_s")
    spk_s = _num(lat.get("spike_s", 0.0), "latency.spike_s")
    access_s = _num(lat.get("access_s", 0.0), "latency.access_s")
    msg_in_s = _num(lat.get("message_in_s", 0.0), "latency.message_in_s")
    msg_out_s = _num(lat.get("message_out_s", 0.0), "latency.message_out_s")
    sync_s = _num(lat.get("sync_s", 0.0), "latency.sync_s")
    max_neurons = int(_num(desc.get("max_neurons_per_core"), "max_neurons_per_core", minimum=1))
    access = e["neuron_update_inactive_joule"] if desc.get("charge_access", False) else 0.0
    n_tiles = width * height
    # SANA-FE's input soma keeps one spike train per hardware unit, not per neuron: every input
    # neuron gets a unit of its own ("input[k]" for the k-th input neuron on its core).
    n_input_units = max((_input_units_needed(desc, width * height)), default=0)

    def g(x: float) -> str:
        return repr(float(x))

    lines = [
        "architecture:",
        "  name: neurochip_mesh",
        "  attributes:",
        "    link_buffer_size: 16",
        f"    width: {width}",
        f"    height: {height}",
        *(["    sync_model: fixed", f"    latency_sync: {g(sync_s)}"] if sync_s > 0 else []),
        "  tile:",
        f"    - name: tile[0..{n_tiles - 1}]",
        "      attributes:",
    ]
    for direction, key in (("east", "hop_ew_joule"), ("west", "hop_ew_joule"), ("north", "hop_ns_joule"), ("south", "hop_ns_joule")):
        lines.append(f"        energy_{direction}_hop: {g(e[key])}")
        lines.append(f"        latency_{direction}_hop: {g(hop_s)}")
    lines += [
        "      core:",
        "        - name: core[0..0]",
        "          attributes:",
        "            buffer_position: soma",
        f"            max_neurons_supported: {max_neurons}",
        "          axon_in:",
        "            - name: axon_in",
        f"              attributes: {{energy_message_in: {g(e['core_packet_joule'])}, latency_message_in: {g(msg_in_s)}}}",
        "          synapse:",
        "            - name: synapse",
        "              attributes:",
        "                model: current_based",
        f"                energy_process_spike: {g(e['synaptic_event_joule'])}",
        f"                latency_process_spike: {g(syn_s)}",
        "          dendrite:",
        "            - name: dendrite",
        "              attributes: {model: accumulator, energy_update: 0.0, latency_update: 0.0}",
        "          soma:",
        "            - name: lif",
        "              attributes:",
        "                model: leaky_integrate_fire",
        f"                energy_access_neuron: {g(access)}",
        f"                latency_access_neuron: {g(access_s)}",
        f"                energy_update_neuron: {g(e['neuron_update_joule'])}",
        f"                latency_update_neuron: {g(upd_s)}",
        f"                energy_spike_out: {g(e['spike_joule'])}",
        f"                latency_spike_out: {g(spk_s)}",
        f"            - name: input[0..{max(n_input_units, 1) - 1}]",
        "              attributes:",
        "                model: input",
        "                energy_access_neuron: 0.0",
        "                latency_access_neuron: 0.0",
        "                energy_update_neuron: 0.0",
        "                latency_update_neuron: 0.0",
        f"                energy_spike_out: {g(e['spike_joule'])}",
        f"                latency_spike_out: {g(spk_s)}",
        "          axon_out:",
        "            - name: axon_out",
            f"              attributes: {{energy_message_out: 0.0, latency_message_out: {g(msg_out_s)}}}",
    ]
    return "\n".join(lines) + "\n"


def build_network(sanafe: Any, arch: Any, desc: dict[str, Any]) -> tuple[Any, dict[str, int]]:
    """Groups, neuron placement and connections through SANA-FE's Network API."""
    mesh = desc["mesh"]
    width, height = int(mesh["width"]), int(mesh["height"])
    timesteps = int(desc["timesteps"])
    net = sanafe.Network()
    groups: dict[str, Any] = {}
    sizes: dict[str, int] = {}
    used_units: dict[int, int] = {}
    for k, spec in enumerate(desc.get("groups", [])):
        name, kind = spec.get("name"), spec.get("kind")
        size = int(_num(spec.get("size"), f"groups[{k}].size", minimum=1))
        cores = spec.get("cores")
        if not isinstance(cores, list) or len(cores) != size:
            raise DescriptionError(f"groups[{k}] ({name}).cores: need {size} mesh indices")
        if kind == "input":
            steps = spec.get("spike_steps")
            if not isinstance(steps, list) or len(steps) != size:
                raise DescriptionError(f"groups[{k}] ({name}).spike_steps: need one list per neuron ({size})")
            group = net.create_neuron_group(name, size)
            for i, neuron in enumerate(group.neurons):
                core = int(cores[i])
                unit = used_units.get(core, 0)
                used_units[core] = unit + 1
                train = [False] * timesteps
                for s in steps[i]:
                    if not 1 <= int(s) <= timesteps:
                        raise DescriptionError(f"groups[{k}] ({name}).spike_steps[{i}]: step {s} not in [1, {timesteps}]")
                    train[int(s) - 1] = True
                neuron.set_attributes(soma_hw_name=f"input[{unit}]", model_attributes={"spikes": train})
        elif kind == "lif":
            attrs = {
                "threshold": _num(spec.get("threshold"), f"groups[{k}].threshold", minimum=-math.inf),
                "reset": _num(spec.get("reset"), f"groups[{k}].reset", minimum=-math.inf),
                "leak_decay": _num(spec.get("leak_decay"), f"groups[{k}].leak_decay"),
                "reset_mode": "hard",
            }
            group = net.create_neuron_group(name, size, model_attributes=attrs, soma_hw_name="lif", log_spikes=True)
        else:
            raise DescriptionError(f"groups[{k}].kind = {kind!r}: must be 'input' or 'lif'")
        for i, neuron in enumerate(group.neurons):
            core = int(cores[i])
            if not 0 <= core < width * height:
                raise DescriptionError(f"groups[{k}] ({name}).cores[{i}] = {core}: not a mesh index")
            neuron.map_to_core(arch.tiles[tile_of(core, width, height)].cores[0])
        groups[name] = group
        sizes[name] = size
    n_synapses = 0
    for k, con in enumerate(desc.get("connections", [])):
        pre, post = con.get("pre"), con.get("post")
        if pre not in groups or post not in groups:
            raise DescriptionError(f"connections[{k}]: unknown group {pre!r} or {post!r}")
        pairs = [(int(a), int(b)) for a, b in con.get("pairs", [])]
        weights = [float(w) for w in con.get("weights", [])]
        if len(pairs) != len(weights):
            raise DescriptionError(f"connections[{k}] ({pre}->{post}): {len(pairs)} pairs but {len(weights)} weights")
        if pairs:
            groups[pre].connect_neurons_sparse(groups[post], {"weight": weights}, pairs)
        n_synapses += len(pairs)
    sizes["_synapses"] = n_synapses
    return net, sizes


def run(desc: dict[str, Any]) -> dict[str, Any]:
    import sanafe

    timesteps = int(_num(desc.get("timesteps"), "timesteps", minimum=1))
    result: dict[str, Any] = {"sim": "sanafe", "version": importlib.metadata.version("sanafe")}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="neurochip-sanafe-") as tmp:
        path = os.path.join(tmp, "arch.yaml")
        with open(path, "w") as f:
            f.write(architecture_yaml(desc))
        arch = sanafe.load_arch(path)
    net, sizes = build_network(sanafe, arch, desc)
    result["build_s"] = time.perf_counter() - t0
    # "repeat": k loads and runs of the same chip and network; the fastest run's wall and CPU
    # (a shared machine slows some runs; the fastest is the one least disturbed)
    walls, cpus = [], []
    for _ in range(max(1, int(desc.get("repeat", 1)))):
        t1 = time.perf_counter()
        chip = sanafe.SpikingChip(arch)
        chip.load(net)
        result["load_s"] = time.perf_counter() - t1
        cpu0 = time.process_time()
        t2 = time.perf_counter()
        res = chip.sim(
            timesteps,
            timing_model=str(desc.get("timing_model", "simple")),
            processing_threads=int(desc.get("processing_threads", 1)),
            scheduler_threads=int(desc.get("scheduler_threads", 0)),
            spike_trace=True,
            perf_trace=bool(desc.get("perf_trace", False)),
        )
        walls.append(time.perf_counter() - t2)
        cpus.append(time.process_time() - cpu0)
    result["sim_wall_s"] = min(walls)
    result["sim_cpu_s"] = min(cpus)
    result["sim_walls_s"] = walls
    spikes = [
        [step + 1, addr.group_name, int(addr.neuron_offset)]
        for step, fired in enumerate(res["spike_trace"])
        for addr in fired
    ]
    per_group: dict[str, int] = {}
    for _, name, _ in spikes:
        per_group[name] = per_group.get(name, 0) + 1
    result.update(
        {
            "timesteps": int(res["timesteps_executed"]),
            "n_neurons": sum(v for k, v in sizes.items() if not k.startswith("_")),
            "n_synapses": sizes["_synapses"],
            "energy_joule": {k: float(v) for k, v in res["energy"].items()},
            "chip_time_s": float(res["sim_time"]),
            "counts": {
                "spikes_processed": int(res["spikes"]),
                "packets_sent": int(res["packets_sent"]),
                "neurons_updated": int(res["neurons_updated"]),
                "neurons_fired": int(res["neurons_fired"]),
            },
            "lif_spikes": len(spikes),
            "lif_spikes_per_group": per_group,
            "spikes": spikes,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        }
    )
    if desc.get("perf_trace", False):
        perf = res["perf_trace"]
        result["perf_trace"] = {k: [float(x) for x in perf[k]] for k in ("sim_time", "total_energy", "updated", "fired", "hops")}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("description", help="JSON description file, or - for standard input")
    parser.add_argument("--no-spikes", action="store_true", help="leave the spike list out of the report")
    args = parser.parse_args(argv)
    try:
        if args.description == "-":
            desc = json.load(sys.stdin)
        else:
            with open(args.description) as f:
                desc = json.load(f)
    except (OSError, json.JSONDecodeError) as exc:
        print(f"error: {args.description}: {exc}", file=sys.stderr)
        return 1
    # SANA-FE prints progress on stdout: send it to stderr so stdout carries the report only.
    sys.stdout.flush()
    real_stdout = os.dup(1)
    os.dup2(2, 1)
    started = _dt.datetime.now(_dt.timezone.utc)
    try:
        report = run(desc)
    except DescriptionError as exc:
        print(f"error: {args.description}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # SANA-FE's own errors (e.g. HardwareMappingError: a core over capacity)
        if type(exc).__module__ not in ("sanafe", "sanafecpp") and not isinstance(exc, RuntimeError):
            raise
        print(f"error: sanafe: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        sys.stdout.flush()
        os.dup2(real_stdout, 1)
        os.close(real_stdout)
    if args.no_spikes:
        report.pop("spikes")
    report["date_utc"] = started.strftime("%Y-%m-%dT%H:%M:%SZ")
    report["host"] = {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine()}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
