"""The same small LIF network, with the same energy table, on neurochip and on SANA-FE.

Builds a network of three populations -- ``input`` (relay neurons that fire exactly when a given,
seeded spike train tells them to), ``E`` and ``I`` -- maps it on a small chip (the ``generic``
preset's energy table on a 2 x 2 mesh of 128-neuron cores), runs the neurochip emulator and
prices the run, then describes the very same placement, synapses, weights, input spikes and
energy table to SANA-FE (``benchmarks/peers/run_sanafe.py`` in ``.bench-venv/``, through a
subprocess that prints one JSON object) and prints, side by side, both energies (total and by
SANA-FE's four categories), both spike counts (and how many spikes are identical, neuron and
step), both operation counts and both wall times.

Why the two runs can agree spike for spike (see docs/sanafe.md for the whole correspondence):

* the time step is dt = 2^-10 s and every synaptic delay is one step, so every input, spike and
  arrival in neurochip falls exactly (in binary floating point) on the grid t = s dt, and all the
  inputs a neuron receives at one instant are summed before its threshold test, as in a
  time-stepped simulator;
* SANA-FE's LIF soma computes V[s] = leak_decay V[s-1] + input[s] with leak_decay = exp(-dt /
  tau_m): the exact solution of neurochip's leaky membrane (E_L = 0) between grid points;
* the refractory period is 0 in both, the reset is hard, the threshold test is V >= V_th in
  neurochip and V > (the double just below V_th) in SANA-FE;
* SANA-FE truncates potentials to multiples of 1/64 of its unit and stores weights as float32:
  the unit is 10 nV (``UNITS_PER_VOLT``), so the truncation is 0.16 nV per step.

``--stepped`` compares the time-stepped engine (``neurochip.stepped``: Loihi's integer neurons,
every compartment counted every step, step durations from the loihi preset's latencies) with
SANA-FE given the same integers, placement, energies and latencies, at several input rates:
spikes, dynamic energy per step and time per step (docs/sanafe.md, "The time-stepped engine
against SANA-FE").

Usage::

    python benchmarks/sanafe_compare.py [--timesteps 1024] [--rate 20] [--seed 1] [--json]
    python benchmarks/sanafe_compare.py --stepped [--rates 10 20 80] [--timing-model simple|detailed]
    python benchmarks/sanafe_compare.py --stepped --ab-module _loop_before   # another build of the loop

``--ab-module NAME`` times, in the same run, another build of ``neurochip/stepped/_loop.pyx``
(importable as ``NAME``, e.g. compiled from an earlier commit; see docs/performance.md) against
the installed one on the very inputs of each rate, alternating the two ``--repeat`` times, and
checks that both give the same spikes, counts and final state.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from neurochip.chip import ChipSpec, load_chip
from neurochip.lif import LIFParams
from neurochip.network import FixedInDegree, Network, Population, Projection, SpikeTimesInput

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # loaded by path (as the tests do) rather than run as a script
    sys.path.append(str(HERE))
from _sanafe_report import print_comparison, print_stepped  # noqa: E402  (the text tables, beside this file)

DT_S = 2.0**-10  # ~0.977 ms: a power of two, so that every t = s * dt and t + dt is exact
TAU_M_S = 20e-3
V_TH_VOLT = 20e-3
V_RESET_VOLT = 10e-3
C_M_FARAD = 250e-12  # with delta synapses only tau_m = C / g_L matters
UNITS_PER_VOLT = 1e8  # SANA-FE's potential unit: 10 nV
RELAY_WEIGHT_VOLT = 2 * V_TH_VOLT  # one input spike makes a relay neuron fire at once
QUIET_STEPS = 32  # the input stops this many steps before the end, so activity has died out

#: (pre, post, in-degree, weight in V) of the network's projections.
PROJECTIONS: tuple[tuple[str, str, int, float], ...] = (
    ("input", "E", 20, 1.5e-3),
    ("input", "I", 20, 1.5e-3),
    ("E", "E", 24, 0.5e-3),
    ("E", "I", 24, 0.5e-3),
    ("I", "E", 6, -2.0e-3),
    ("I", "I", 6, -2.0e-3),
)

# neurochip operation -> SANA-FE energy category it is charged to
CATEGORY = {
    "spikes": "soma",
    "neuron_updates": "soma",
    "neuron_updates_inactive": "soma",
    "synaptic_events": "synapse",
    "hops_ew": "network",
    "hops_ns": "network",
    "core_packets": "network",
}


def lif_params(*, v_reset_volt: float = V_RESET_VOLT) -> LIFParams:
    """tau_m = 20 ms, V_th = 20 mV, E_L = 0, no refractory period."""
    return LIFParams(
        c_m_farad=C_M_FARAD,
        g_leak_siemens=C_M_FARAD / TAU_M_S,
        e_leak_volt=0.0,
        v_th_volt=V_TH_VOLT,
        v_reset_volt=v_reset_volt,
        t_ref_s=0.0,
    )


def build_network(
    n_input: int = 100, n_exc: int = 240, n_inh: int = 60, *, seed: int = 1, v_reset_volt: float = V_RESET_VOLT
) -> Network:
    """The three populations and :data:`PROJECTIONS`, every delay one step (``DT_S``).

    ``v_reset_volt`` of E and I (the time-stepped comparison passes 0: Loihi resets to E_L).
    """
    pops = (
        Population(name="input", size=n_input, params=lif_params(v_reset_volt=0.0)),
        Population(name="E", size=n_exc, params=lif_params(v_reset_volt=v_reset_volt)),
        Population(name="I", size=n_inh, params=lif_params(v_reset_volt=v_reset_volt)),
    )
    projs = tuple(
        Projection(pre=pre, post=post, rule=FixedInDegree(k=k), weight_volt=w, delay_s=DT_S)
        for pre, post, k, w in PROJECTIONS
    )
    return Network(populations=pops, projections=projs, seed=seed)


def input_spike_steps(
    n_input: int, timesteps: int, rate_hz: float, *, seed: int, quiet_steps: int = QUIET_STEPS
) -> list[NDArray[np.int64]]:
    """Seeded Bernoulli trains: input neuron ``i`` fires at the 1-based steps ``out[i]``.

    Each step in ``[1, timesteps - quiet_steps]`` fires with probability ``rate_hz * DT_S``.
    """
    p = rate_hz * DT_S
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"rate_hz = {rate_hz}: rate x dt must be in [0, 1]")
    active = max(0, timesteps - quiet_steps)
    fires = np.random.default_rng(seed).random((n_input, active)) < p
    return [np.flatnonzero(row) + 1 for row in fires]


def neurochip_inputs(steps: list[NDArray[np.int64]]) -> list[SpikeTimesInput]:
    """The input trains as given spikes into the relay population (at t = s dt)."""
    neurons = np.concatenate([np.full(s.size, i, dtype=np.int64) for i, s in enumerate(steps)])
    times = np.concatenate(steps).astype(np.float64) * DT_S
    return [SpikeTimesInput(population="input", times_s=times, neurons=neurons, weight_volt=RELAY_WEIGHT_VOLT)]


def tile_index(core: int, width: int, height: int) -> int:
    """SANA-FE's tile id of neurochip's mesh index ``core = y * width + x``.

    SANA-FE numbers the tiles of a ``width`` x ``height`` mesh column by column (tile
    ``x * height + y``), found by sending one spike between every pair of tiles of a 2 x 2 mesh
    with a distinct energy per direction.
    """
    x, y = core % width, core // width
    return x * height + y


def sanafe_threshold(v_th_volt: float) -> float:
    """SANA-FE fires when V > threshold; neurochip when V >= V_th: the largest double below."""
    return math.nextafter(v_th_volt * UNITS_PER_VOLT, -math.inf)


def sanafe_description(
    network: Network, neuron_core: NDArray[np.int32], chip: ChipSpec, steps: list[NDArray[np.int64]], timesteps: int
) -> dict[str, Any]:
    """The JSON description run_sanafe.py reads: same placement, synapses, weights, inputs, energies."""
    offsets = {p.name: network.offset(p.name) for p in network.populations}
    groups = []
    for pop in network.populations:
        lo = offsets[pop.name]
        g: dict[str, Any] = {"name": pop.name, "size": pop.size, "cores": neuron_core[lo : lo + pop.size].tolist()}
        if pop.name == "input":
            g.update(kind="input", spike_steps=[s.tolist() for s in steps])
        else:
            a = pop.arrays()
            if not (np.all(a["e_leak_volt"] == 0) and np.all(a["t_ref_s"] == 0)):
                raise ValueError(f"population {pop.name}: SANA-FE's LIF leaks towards 0 and has no refractory hold here")
            tau = a["c_m_farad"] / a["g_leak_siemens"]
            for key, arr in (("v_th_volt", a["v_th_volt"]), ("v_reset_volt", a["v_reset_volt"]), ("tau_m", tau)):
                if not np.all(arr == arr[0]):
                    raise ValueError(f"population {pop.name}: {key} varies; one SANA-FE group takes one value")
            g.update(
                kind="lif",
                threshold=sanafe_threshold(float(a["v_th_volt"][0])),
                reset=float(a["v_reset_volt"][0]) * UNITS_PER_VOLT,
                leak_decay=math.exp(-DT_S / float(tau[0])),
            )
        groups.append(g)
    pre, post, w, _ = network.csr().to_coo()
    bounds = np.cumsum([0] + [p.size for p in network.populations])
    names = [p.name for p in network.populations]
    pre_pop = np.searchsorted(bounds, pre, side="right") - 1
    post_pop = np.searchsorted(bounds, post, side="right") - 1
    connections = []
    for a, pa in enumerate(names):
        for b, pb in enumerate(names):
            sel = (pre_pop == a) & (post_pop == b)
            if not sel.any():
                continue
            pairs = np.stack([pre[sel] - bounds[a], post[sel] - bounds[b]], axis=1)
            connections.append(
                {
                    "pre": pa,
                    "post": pb,
                    "pairs": pairs.tolist(),
                    "weights": (w[sel].astype(np.float64) * UNITS_PER_VOLT).tolist(),
                }
            )
    e = chip.energy
    return {
        "timesteps": int(timesteps),
        "mesh": {"width": chip.mesh.width, "height": chip.mesh.height},
        "max_neurons_per_core": chip.core.neurons,
        "energy": {f.name: getattr(e, f.name) for f in dataclasses.fields(e) if f.name != "static_power_per_core_watt"},
        "latency": {"hop_s": chip.router.hop_latency_s},
        "groups": groups,
        "connections": connections,
        "processing_threads": 1,
        "scheduler_threads": 0,
        "timing_model": "simple",
    }


def spike_set(times_s: NDArray[np.float64], addresses: NDArray[np.int32], network: Network) -> set[tuple[int, str, int]]:
    """neurochip's spikes as (step, population, local index), the relay population left out."""
    bounds = np.cumsum([0] + [p.size for p in network.populations])
    names = [p.name for p in network.populations]
    steps = np.rint(np.asarray(times_s) / DT_S).astype(np.int64)
    if not np.array_equal(steps * DT_S, np.asarray(times_s)):
        raise ValueError("a neurochip spike is off the dt grid")
    pops = np.searchsorted(bounds, addresses, side="right") - 1
    return {
        (int(s), names[p], int(a - bounds[p]))
        for s, p, a in zip(steps, pops, np.asarray(addresses, dtype=np.int64))
        if names[p] != "input"
    }


def neurochip_by_category(by_operation: dict[str, float]) -> dict[str, float]:
    """neurochip's dynamic energy summed into SANA-FE's categories (synapse, dendrite, soma, network)."""
    out = {"synapse": 0.0, "dendrite": 0.0, "soma": 0.0, "network": 0.0}
    for op, joule in by_operation.items():
        out[CATEGORY[op]] += joule
    return out


def chip_for_comparison(n_neurons: int, neurons_per_core: int = 128) -> ChipSpec:
    """The ``generic`` preset's energy table and router on the smallest square mesh of
    ``neurons_per_core``-neuron cores that holds ``n_neurons`` (2 x 2 for the default 400)."""
    chip = load_chip("generic")
    side = max(1, math.ceil(math.sqrt(math.ceil(n_neurons / neurons_per_core))))
    return chip.replace(core=dataclasses.replace(chip.core, neurons=neurons_per_core)).with_mesh(side, side)


def run_neurochip(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any], Network, Any, list]:
    from neurochip.mapping import map_network
    from neurochip.onchip import run_on_chip
    from neurochip.report import energy_report

    t0 = time.perf_counter()
    net = build_network(args.n_input, args.n_exc, args.n_inh, seed=args.seed)
    chip = chip_for_comparison(net.n_neurons, args.neurons_per_core)
    steps = input_spike_steps(args.n_input, args.timesteps, args.rate, seed=args.seed)
    inputs = neurochip_inputs(steps)
    mapping = map_network(net, chip)
    build_s = time.perf_counter() - t0
    duration_s = (args.timesteps + 0.5) * DT_S  # spikes at steps 1..T; arrivals after T are not counted
    # unrouted: SANA-FE counts packets and hops but does not time them through the routers
    record = run_on_chip(net, chip, duration_s=duration_s, inputs=inputs, seed=args.seed, mapping=mapping, route=False)
    t1 = time.perf_counter()
    rep, rep_dict = energy_report(record)
    price_s = time.perf_counter() - t1
    spikes = spike_set(record.events["time_s"], record.events["address"], net)
    n_routes = np.diff(mapping.route_indptr)
    counts = record.counts
    out = {
        "sim": "neurochip",
        "n_neurons": net.n_neurons,
        "n_synapses": net.csr().n_synapses,
        "build_and_map_s": build_s,
        "sim_wall_s": record.wall_time_s,
        "record_and_price_s": price_s,
        "energy_joule": {
            "total": rep.total_joule,
            "dynamic": rep.dynamic_joule,
            "static": rep.static_joule,
            **neurochip_by_category(rep.by_operation),
        },
        "by_operation_joule": rep.by_operation,
        "counts": {
            "spikes_all": int(record.spike_counts.sum()),
            "synaptic_events": counts.total("synaptic_events"),
            "neuron_updates": counts.total("neuron_updates"),
            "packets": float(np.dot(record.spike_counts, n_routes)),
            "core_packets": counts.total("core_packets"),
            "hops": counts.total("hops_ew") + counts.total("hops_ns"),
        },
        "lif_spikes": len(spikes),
        "input_spikes": int(sum(s.size for s in steps)),
        "cores_used": rep_dict["cores_used"],
    }
    desc = sanafe_description(net, mapping.neuron_core, chip, steps, args.timesteps)
    return out, desc, net, spikes, steps


def run_sanafe(desc: dict[str, Any], python: str) -> dict[str, Any] | str:
    """Run benchmarks/peers/run_sanafe.py in the bench environment; its JSON or why it failed."""
    if not Path(python).exists():
        return f"{python} not found: run `make bench-env` (SANA-FE installs into .bench-venv/)"
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="sanafe-desc-", delete=False) as f:
        json.dump(desc, f)
        path = f.name
    try:
        proc = subprocess.run(
            [python, str(HERE / "peers" / "run_sanafe.py"), path], capture_output=True, text=True, check=False
        )
    finally:
        os.unlink(path)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        return f"run_sanafe.py exited with {proc.returncode}: " + " / ".join(tail)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(args: argparse.Namespace) -> dict[str, Any]:
    nc, desc, net, nc_spikes, steps = run_neurochip(args)
    sf = run_sanafe(desc, args.python)
    out: dict[str, Any] = {
        "dt_s": DT_S,
        "timesteps": args.timesteps,
        "duration_s": args.timesteps * DT_S,
        "input_rate_hz": args.rate,
        "seed": args.seed,
        "chip": f"generic energy table, {desc['mesh']['width']} x {desc['mesh']['height']} mesh, "
        f"{desc['max_neurons_per_core']} neurons per core",
        "neurochip": nc,
    }
    if isinstance(sf, str):
        out["sanafe"] = sf
        return out
    sf_spikes = {(int(s), str(g), int(i)) for s, g, i in sf.pop("spikes")}
    both = nc_spikes & sf_spikes
    only_nc, only_sf = nc_spikes - sf_spikes, sf_spikes - nc_spikes
    first = min([s for s, _, _ in only_nc | only_sf], default=None)
    out["sanafe"] = sf
    out["spikes_identical"] = len(both)
    out["spikes_only_neurochip"] = len(only_nc)
    out["spikes_only_sanafe"] = len(only_sf)
    out["first_differing_step"] = first
    ne, se = nc["energy_joule"], sf["energy_joule"]
    out["energy_ratio_sanafe_over_neurochip_dynamic"] = {
        k: (se[k] / ne[k] if ne[k] > 0 else None) for k in ("total", "synapse", "soma", "network")
    }
    out["energy_ratio_sanafe_over_neurochip_dynamic"]["total"] = se["total"] / ne["dynamic"]
    out["wall_ratio_sanafe_over_neurochip"] = sf["sim_wall_s"] / nc["sim_wall_s"]
    out["derived"] = sanafe_derived(sf, desc["energy"])
    return out


def sanafe_derived(sf: dict[str, Any], energy: dict[str, float]) -> dict[str, float]:
    """SANA-FE's categories split by the energies put into them (axon-out and dendrite cost 0).

    ``network = hops + packets_sent x core_packet_joule`` and ``soma = LIF updates x
    neuron_update_joule + neurons_fired x spike_joule`` (input somas update for free), so the hop
    energy and the number of charged LIF updates follow from SANA-FE's own totals and counts.
    """
    se, c = sf["energy_joule"], sf["counts"]
    hops_joule = se["network"] - c["packets_sent"] * energy["core_packet_joule"]
    updates = (se["soma"] - c["neurons_fired"] * energy["spike_joule"]) / energy["neuron_update_joule"]
    return {
        "sanafe_hop_joule": hops_joule,
        "sanafe_packet_joule": c["packets_sent"] * energy["core_packet_joule"],
        "sanafe_lif_updates_charged": updates,
        "sanafe_lif_update_joule": updates * energy["neuron_update_joule"],
    }


# --------------------------------------------------------------------------------------------
# --stepped: the time-stepped engine (Loihi's integer neuron, step counts, step durations)
# against SANA-FE with the loihi preset's per-operation energies and latencies

#: Threshold in units of 2^6 for the stepped network: with V_th = 20 mV, every weight of
#: PROJECTIONS (0.5, 1.5, -2 mV) and the relay's 40 mV become whole input units (32, 96, -128,
#: 2560), so SANA-FE's float soma adds exactly what Loihi's integer one adds.
STEPPED_VTH_UNITS = 1280


def stepped_chip(n_neurons: int, neurons_per_core: int = 128) -> ChipSpec:
    """The loihi preset (energies and latencies) on the smallest square mesh of
    ``neurons_per_core``-neuron cores that holds ``n_neurons``.

    ``core_packet_joule`` is set to 0: SANA-FE charges its axon-in energy for every packet a core
    receives, neurochip's table only for packets that stay in their core, so neither is priced.
    """
    chip = load_chip("loihi")
    side = max(1, math.ceil(math.sqrt(math.ceil(n_neurons / neurons_per_core))))
    core = dataclasses.replace(chip.core, neurons=neurons_per_core)
    energy = dataclasses.replace(chip.energy, core_packet_joule=0.0)
    return chip.replace(core=core, energy=energy).with_mesh(side, side)


def ab_loop(module_name: str, capture: dict[str, Any], repeat: int) -> dict[str, Any]:
    """The installed step loop and ``module_name`` (another build of it) on the captured inputs,
    alternating ``repeat`` times: fastest wall and CPU of each, and whether they agree."""
    import importlib

    from neurochip.stepped import _loop

    other = importlib.import_module(module_name)
    best = {"installed": [np.inf, np.inf], module_name: [np.inf, np.inf]}
    outs: dict[str, Any] = {}
    for k in range(repeat):
        pair = [("installed", _loop), (module_name, other)]
        for name, mod in pair if k % 2 == 0 else pair[::-1]:
            arrays = {key: a.copy() for key, a in capture["arrays"].items()}
            t0, c0 = time.perf_counter(), time.process_time()
            spikes = mod.run_loop(arrays, **capture["kw"])
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
            outs[name] = (spikes, arrays)
    (sa, aa), (sb, ab) = outs["installed"], outs[module_name]
    same = all(np.array_equal(x, y) for x, y in zip(sa, sb)) and all(
        np.array_equal(aa[key], ab[key]) for key in ("counts", "max_hops", "u", "v", "trace_u", "trace_v"))
    return {"module": module_name, "identical": bool(same),
            "installed_wall_s": best["installed"][0], "installed_cpu_s": best["installed"][1],
            "other_wall_s": best[module_name][0], "other_cpu_s": best[module_name][1],
            "cpu_ratio_other_over_installed": best[module_name][1] / best["installed"][1]}


def run_stepped_side(args: argparse.Namespace, rate_hz: float) -> tuple[dict[str, Any], dict[str, Any], set]:
    """The stepped engine on the comparison network at one input rate; its summary, the
    description for SANA-FE and its E and I spikes as (1-based step, population, index)."""
    from neurochip.mapping import map_network
    from neurochip.stepped import run_stepped, step_times, stepped_report

    t0 = time.perf_counter()
    net = build_network(args.n_input, args.n_exc, args.n_inh, seed=args.seed, v_reset_volt=0.0)
    chip = stepped_chip(net.n_neurons, args.neurons_per_core)
    steps = input_spike_steps(args.n_input, args.timesteps, rate_hz, seed=args.seed)
    forced = np.zeros((args.timesteps, args.n_input), dtype=bool)
    for i, s in enumerate(steps):
        forced[s - 1, i] = True  # SANA-FE's step s (1-based) is the engine's step s - 1
    mapping = map_network(net, chip)
    build_s = time.perf_counter() - t0
    kw = dict(steps=args.timesteps, dt_s=DT_S, mapping=mapping, input_spikes={"input": forced},
              vth_units=STEPPED_VTH_UNITS, backend=args.backend)
    capture: dict[str, Any] = {}
    ab_module = getattr(args, "ab_module", None)
    if ab_module:  # one untimed run that keeps a copy of the loop's inputs, for another build of it
        from neurochip.stepped import _loop

        installed = _loop.run_loop

        def keep(arrays: dict[str, Any], **loop_kw: Any) -> Any:
            capture["arrays"] = {k: a.copy() for k, a in arrays.items()}
            capture["kw"] = loop_kw
            return installed(arrays, **loop_kw)

        _loop.run_loop = keep
        try:
            run_stepped(net, chip, **kw)
        finally:
            _loop.run_loop = installed
    walls, cpus = [], []
    for _ in range(args.repeat):  # the fastest of `repeat` runs, as for SANA-FE
        run = run_stepped(net, chip, **kw)
        walls.append(run.wall_s)
        cpus.append(run.cpu_s)
    ref_wall = None
    if args.backend == "compiled":  # the NumPy reference on the same input: its wall and the parity
        ref = run_stepped(net, chip, steps=args.timesteps, dt_s=DT_S, mapping=mapping, input_spikes={"input": forced},
                          vth_units=STEPPED_VTH_UNITS, backend="numpy")
        ref_wall = ref.wall_s
        if not (np.array_equal(ref.spike_neurons, run.spike_neurons) and np.array_equal(ref.spike_steps, run.spike_steps)
                and all(np.array_equal(ref.per_step[k], run.per_step[k]) for k in run.per_step)):
            raise RuntimeError("the compiled step loop differs from the NumPy reference")
    rep = stepped_report(run)
    st = step_times(run)
    bounds = np.cumsum([0] + [p.size for p in net.populations])
    names = [p.name for p in net.populations]
    pops = np.searchsorted(bounds, run.spike_neurons, side="right") - 1
    spikes = {(int(t) + 1, names[p], int(a - bounds[p])) for t, p, a in zip(run.spike_steps, pops, run.spike_neurons)
              if names[p] != "input"}
    out = {
        "sim": "neurochip.stepped",
        "build_and_map_s": build_s,
        "sim_wall_s": min(walls),
        "sim_cpu_s": min(cpus),
        "backend": args.backend,
        "numpy_reference_wall_s": ref_wall,
        "lif_spikes": len(spikes),
        "input_spikes": int(forced.sum()),
        "synaptic_events": rep["synaptic_events"],
        "packets": rep["packets"],
        "neuron_updates_active": rep["neuron_updates_active"],
        "neuron_updates_inactive": rep["neuron_updates_inactive"],
        "dynamic_energy_joule": rep["energy"]["dynamic_joule"],
        "dynamic_energy_per_step_joule": rep["dynamic_energy_per_step_joule"],
        "by_operation_joule": rep["energy"]["by_operation_joule"],
        "time_per_step_mean_s": rep["time_per_step_mean_s"],
        "time_per_step_max_s": rep["time_per_step_max_s"],
        "step_s": st.step_s.tolist(),
        "chip_time_s": rep["chip_time_s"],
        "realtime_met": rep["realtime_met"],
        "cores_used": rep["cores_used"],
    }
    if ab_module:
        out["ab"] = ab_loop(ab_module, capture, args.repeat)
    return out, stepped_sanafe_description(run, net, chip, steps, args.timesteps, args.timing_model,
                                               args.repeat), spikes


def stepped_sanafe_description(run: Any, network: Network, chip: ChipSpec, steps: list[NDArray[np.int64]],
                               timesteps: int, timing_model: str, repeat: int = 1) -> dict[str, Any]:
    """The same chip, placement, integers and inputs for SANA-FE.

    SANA-FE's potential unit is 2^6 of Loihi's v units, so that its truncation to 1/64 of a unit
    is Loihi's truncation to whole units; a threshold of ``vth`` (Loihi's units of 2^6) is then
    ``vth``, a weight ``mant x 2^exp`` input units, the leak ``(4096 - dv) / 4096`` (exact in
    binary).  SANA-FE charges every neuron an access and the active ones an update as well; so
    access = the inactive update and update = active - inactive, for energy and latency alike.
    """
    nr, syn = run.neurons, run.synapses
    offsets = {p.name: network.offset(p.name) for p in network.populations}
    core = run.mapping.neuron_core
    groups = []
    for pop in network.populations:
        lo = offsets[pop.name]
        sl = slice(lo, lo + pop.size)
        g: dict[str, Any] = {"name": pop.name, "size": pop.size, "cores": core[sl].tolist()}
        if pop.name == "input":
            g.update(kind="input", spike_steps=[s.tolist() for s in steps])
        else:
            for key in ("dv", "vth"):
                if np.unique(getattr(nr, key)[sl]).size != 1:
                    raise ValueError(f"population {pop.name}: {key} varies; one SANA-FE group takes one value")
            if np.any(nr.du[sl] != 4095) or np.any(nr.bias[sl] != 0) or np.any(nr.v0[sl] != 0):
                raise ValueError(f"population {pop.name}: the comparison needs delta synapses, no bias, V(0) = E_L")
            g.update(kind="lif", threshold=float(nr.vth[lo]), reset=0.0, leak_decay=(4096 - int(nr.dv[lo])) / 4096)
        groups.append(g)
    pre = np.repeat(np.arange(network.n_neurons), np.diff(syn.indptr))
    weight = syn.mant * 2.0 ** syn.weight_exp[syn.group]
    if not np.array_equal(weight, np.rint(weight)):
        raise ValueError("a weight is not a whole number of input units: SANA-FE would not floor the sum as Loihi does")
    bounds = np.cumsum([0] + [p.size for p in network.populations])
    names = [p.name for p in network.populations]
    pre_pop = np.searchsorted(bounds, pre, side="right") - 1
    post_pop = np.searchsorted(bounds, syn.indices, side="right") - 1
    connections = []
    for a, pa in enumerate(names):
        for b, pb in enumerate(names):
            sel = (pre_pop == a) & (post_pop == b)
            if sel.any():
                pairs = np.stack([pre[sel] - bounds[a], syn.indices[sel] - bounds[b]], axis=1)
                connections.append({"pre": pa, "post": pb, "pairs": pairs.tolist(), "weights": weight[sel].tolist()})
    e, ex = chip.energy, chip.execution
    return {
        "timesteps": int(timesteps),
        "mesh": {"width": chip.mesh.width, "height": chip.mesh.height},
        "max_neurons_per_core": chip.core.neurons,
        "energy": {
            "spike_joule": e.spike_joule,
            "synaptic_event_joule": e.synaptic_event_joule,
            "neuron_update_joule": e.neuron_update_joule - e.neuron_update_inactive_joule,
            "neuron_update_inactive_joule": e.neuron_update_inactive_joule,
            "hop_ew_joule": e.hop_ew_joule,
            "hop_ns_joule": e.hop_ns_joule,
            "core_packet_joule": e.core_packet_joule,
        },
        "charge_access": True,
        "latency": {
            "hop_s": chip.router.hop_latency_s,
            "synaptic_event_s": ex.synaptic_op_s,
            "neuron_update_s": ex.neuron_update_s - ex.neuron_update_inactive_s,
            "access_s": ex.neuron_update_inactive_s,
            "spike_s": ex.spike_out_s,
            "message_in_s": ex.message_in_s,
            "message_out_s": ex.message_out_s,
            "sync_s": ex.barrier_s,
        },
        "groups": groups,
        "connections": connections,
        "processing_threads": 1,
        "scheduler_threads": 0,
        "timing_model": timing_model,
        "perf_trace": True,
        "repeat": repeat,
    }


def compare_stepped(args: argparse.Namespace) -> dict[str, Any]:
    """One run per input rate of ``args.rates``: spikes, energy per step and time per step."""
    runs = []
    for rate in args.rates:
        nc, desc, nc_spikes = run_stepped_side(args, rate)
        sf = run_sanafe(desc, args.python)
        row: dict[str, Any] = {"input_rate_hz": rate, "neurochip": nc}
        if isinstance(sf, str):
            row["sanafe"] = sf
            runs.append(row)
            continue
        sf_spikes = {(int(s), str(g), int(i)) for s, g, i in sf.pop("spikes")}
        perf = sf.pop("perf_trace")
        sf_step = np.asarray(perf["sim_time"])
        nc_step = np.asarray(nc.pop("step_s"))
        sf_energy_step = float(np.mean(perf["total_energy"]))
        row.update(
            sanafe=sf,
            spikes_identical=len(nc_spikes & sf_spikes),
            spikes_only_neurochip=len(nc_spikes - sf_spikes),
            spikes_only_sanafe=len(sf_spikes - nc_spikes),
            sanafe_dynamic_energy_per_step_joule=sf_energy_step,
            energy_per_step_ratio=nc["dynamic_energy_per_step_joule"] / sf_energy_step,
            sanafe_time_per_step_mean_s=float(sf_step.mean()),
            time_per_step_ratio=nc["time_per_step_mean_s"] / float(sf_step.mean()),
            time_per_step_worst_relative_difference=float(np.max(np.abs(nc_step - sf_step) / sf_step)),
            sanafe_updated=float(np.sum(perf["updated"])),
            wall_ratio_sanafe_over_neurochip=sf["sim_wall_s"] / nc["sim_wall_s"],
            cpu_ratio_sanafe_over_neurochip=sf["sim_cpu_s"] / nc["sim_cpu_s"],
        )
        runs.append(row)
    return {
        "mode": "stepped",
        "dt_s": DT_S,
        "timesteps": args.timesteps,
        "seed": args.seed,
        "timing_model": args.timing_model,
        "repeat": args.repeat,
        "chip": "loihi preset energies and latencies (core_packet_joule = 0 on both sides)",
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timesteps", type=int, default=1024, help="time-steps of 2^-10 s (default 1024, ~1 s)")
    ap.add_argument("--rate", type=float, default=20.0, help="rate of each input neuron (Hz)")
    ap.add_argument("--n-input", type=int, default=100)
    ap.add_argument("--n-exc", type=int, default=240)
    ap.add_argument("--n-inh", type=int, default=60)
    ap.add_argument("--neurons-per-core", type=int, default=128, help="core size (the mesh is the smallest square that fits)")
    ap.add_argument("--seed", type=int, default=1, help="seeds the connectivity and the input trains")
    ap.add_argument(
        "--python", default=os.environ.get("NEUROCHIP_BENCH_PYTHON", ".bench-venv/bin/python"),
        help="the bench environment's Python (with sanafe)",
    )  # fmt: skip
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--stepped", action="store_true",
                    help="compare the time-stepped engine (Loihi integer neurons, loihi preset energies and latencies)")
    ap.add_argument("--rates", type=float, nargs="+", default=[10.0, 20.0, 80.0],
                    help="with --stepped: one run per input rate (Hz)")
    ap.add_argument("--repeat", type=int, default=5, help="with --stepped: runs per side; the fastest is reported")
    ap.add_argument("--backend", default="compiled", choices=("compiled", "numpy"),
                    help="with --stepped: the step loop (compiled runs the NumPy reference too, for its wall and parity)")
    ap.add_argument("--ab-module", metavar="NAME", help="with --stepped: time another build of the step loop "
                    "(an importable module, e.g. compiled from an earlier commit) against the installed one")
    ap.add_argument("--timing-model", default="simple", choices=("simple", "detailed"), help="with --stepped: SANA-FE's timing model")
    args = ap.parse_args(argv)
    if args.timesteps <= QUIET_STEPS:
        ap.error(f"--timesteps must be > {QUIET_STEPS}")
    if args.stepped:
        out = compare_stepped(args)
        print(json.dumps(out)) if args.json else print_stepped(out)
        return 0 if all(not isinstance(r["sanafe"], str) for r in out["runs"]) else 1
    out = compare(args)
    if args.json:
        print(json.dumps(out))
    else:
        print_comparison(out)
    return 0 if not isinstance(out["sanafe"], str) else 1


if __name__ == "__main__":
    sys.exit(main())
