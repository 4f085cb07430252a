"""Brunel (2000) model A, asynchronous irregular regime, on the neurochip emulator.

N_E = 10,000 and N_I = 2,500 LIF neurons (times ``--scale``), fixed in-degree C_E = 1,000 and
C_I = 250 (random sources, with replacement), J = 0.1 mV, g = 5, delay 1.5 ms, tau_m = 20 ms,
V_th = 20 mV, V_reset = 10 mV, E_L = 0, t_ref = 2 ms; every neuron gets its own Poisson drive of
rate C_E * nu_ext with weight J, nu_ext = 2 nu_thr, nu_thr = V_th / (J C_E tau_m) = 10 Hz;
initial V uniform in [0, V_th).  Parameters from Brunel, J. Comput. Neurosci. 8:183 (2000),
section 2 and figure 8 (model A, g = 5, nu_ext / nu_thr = 2).

Prints build time, simulation wall time, mean rate, ISI CV, recurrent synaptic events per wall
second, peak memory and bytes per synapse, and the CPU time other processes used during the run
(from /proc/stat: the machine may be shared).  ``--compare`` runs the peers (Brian2, NEST) of
benchmarks/peers/run_peer.py in their own environment and prints their figures and the ratios.

``--chip NAME`` also runs the network through the router of chip preset NAME with cores
of 1,024 neurons (fan-in and fan-out raised to hold Brunel's in-degrees; the preset's mesh,
router and energy table kept), alternating routed and unrouted runs ``--repeat`` times, and
prints the routing overhead (wall and CPU time of the simulation proper), the latency, link
utilisation and the energy of the routed run.

``--repeat N`` runs the simulation N times and prints the best (lowest wall) of them (with
``--chip``: N routed/unrouted pairs, default 3).  ``--save-spikes FILE.npz`` writes the spike
log (times, addresses) and the spikes per neuron, so that two builds can be compared exactly
(with ``--chip``, from one more routed run that records).

Usage::

    python benchmarks/brunel.py [--scale 1.0] [--duration 1.0] [--seed 1] [--json] [--compare]
                                [--repeat 1] [--save-spikes FILE.npz]
    python benchmarks/brunel.py --chip generic [--repeat 3] [--save-spikes FILE.npz]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from neurochip.examples import BRUNEL, brunel_network

HERE = Path(__file__).resolve().parent

# the model's constants (Brunel 2000, model A), from the example module the tests share
C_E, C_I = int(BRUNEL["c_e"]), int(BRUNEL["c_i"])
G_REL = BRUNEL["g"]


def _proc_stat_busy_s() -> float | None:
    """CPU seconds (all cores) spent busy since boot, from /proc/stat; None if unavailable."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    vals = [int(x) for x in fields]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    busy = sum(vals[:8]) - idle
    return busy / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def save_spikes(path: str, res: Any) -> None:
    """The spike log and the spikes per neuron of a run, for an exact comparison of builds."""
    np.savez(path, time_s=res.events["time_s"], address=res.events["address"], spike_counts=res.spike_counts)


def run_benchmark(
    scale: float, duration_s: float, seed: int, *, g: float = G_REL, eta: float = 2.0, repeat: int = 1,
    save: str | None = None,
) -> dict:
    """Build once, run ``repeat`` times; return the figures of the fastest run."""
    from neurochip.emulator import run

    t0 = time.perf_counter()
    net, inputs = brunel_network(scale, seed=seed, g=g, eta=eta)
    csr = net.csr()
    build_s = time.perf_counter() - t0
    res, other, walls, cpus = None, None, [], []
    for _ in range(repeat):
        busy0, own0 = _proc_stat_busy_s(), _own_cpu_s()
        r = run(net, duration_s=duration_s, inputs=inputs, seed=seed)
        busy1, own1 = _proc_stat_busy_s(), _own_cpu_s()
        walls.append(r.wall_time_s)
        cpus.append(r.params["cpu_time_s"])
        if res is None or r.wall_time_s < res.wall_time_s:
            res = r
            other = None if busy0 is None else max(0.0, (busy1 - busy0) - (own1 - own0))
    if save:
        save_spikes(save, res)
    n_e = net.population("E").size
    c = res.counters
    return {
        "simulator": "neurochip",
        "scale": scale,
        "n_neurons": net.n_neurons,
        "n_synapses": csr.n_synapses,
        "duration_s": duration_s,
        "build_s": build_s,
        "sim_wall_s": res.wall_time_s,
        "mean_rate_hz": res.mean_rate_hz(),
        "mean_rate_e_hz": res.mean_rate_hz(slice(0, n_e)),
        "isi_cv": res.isi_cv(),
        "spikes": c["spikes"],
        "rec_events": c["rec_events"],
        "ext_events": c["ext_events"],
        "syn_events_per_s": c["rec_events"] / res.wall_time_s,
        "spikes_x_outdegree_per_s": c["spikes"] * (csr.n_synapses / net.n_neurons) / res.wall_time_s,
        "all_events_per_s": (c["rec_events"] + c["ext_events"]) / res.wall_time_s,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "synapse_bytes": csr.nbytes,
        "bytes_per_synapse": csr.bytes_per_synapse,
        "other_processes_cpu_s": other,
        "window_s": res.window_s,
        "all_wall_s": walls,
        "sim_cpu_s": min(cpus),
        "syn_events_per_cpu_s": c["rec_events"] / min(cpus),
    }


def brunel_chip(name: str, n_neurons: int):
    """Chip preset ``name`` with cores of 1,024 neurons able to hold Brunel's in-degrees."""
    from neurochip.chip import CoreSpec, load_chip

    chip = load_chip(name)
    per_core = 1024
    if chip.n_cores * per_core < n_neurons:
        raise SystemExit(f"--chip {name}: {chip.n_cores} cores x {per_core} neurons < {n_neurons} neurons")
    return chip.replace(core=CoreSpec(neurons=per_core, fan_in=per_core * (C_E + C_I), fan_out=per_core * chip.n_cores))


def run_routing_benchmark(
    chip_name: str, scale: float, duration_s: float, seed: int, repeat: int, save: str | None = None
) -> dict:
    """Routed vs. unrouted runs, alternated; the figures of the routed one."""
    from neurochip.emulator import run
    from neurochip.energy import price
    from neurochip.mapping import MappingOptions, map_network

    net, inputs = brunel_network(scale, seed=seed)
    chip = brunel_chip(chip_name, net.n_neurons)
    t0 = time.perf_counter()
    # a random network: every balanced partition cuts the same expected traffic
    mapping = map_network(net, chip, options=MappingOptions(partitioner="block"))
    map_s = time.perf_counter() - t0
    plain_w, plain_c, routed_w, routed_c = [], [], [], []
    res = plain = None
    for _ in range(repeat):
        res = run(net, duration_s=duration_s, inputs=inputs, seed=seed, mapping=mapping, record=False)
        routed_w.append(res.wall_time_s)
        routed_c.append(res.params["cpu_time_s"])
        plain = run(net, duration_s=duration_s, inputs=inputs, seed=seed, record=False)
        plain_w.append(plain.wall_time_s)
        plain_c.append(plain.params["cpu_time_s"])
    if save:
        save_spikes(save, run(net, duration_s=duration_s, inputs=inputs, seed=seed, mapping=mapping))
    rs = res.routing
    rep = price(res.operation_counts(), chip)
    util = rs.per_link["utilisation"]
    return {
        "chip": chip_name,
        "mesh": [chip.mesh.width, chip.mesh.height],
        "cores_used": mapping.cores_used,
        "n_neurons": net.n_neurons,
        "duration_s": duration_s,
        "map_s": map_s,
        "plain_wall_s": min(plain_w),
        "routed_wall_s": min(routed_w),
        "plain_cpu_s": min(plain_c),
        "routed_cpu_s": min(routed_c),
        "overhead_wall": min(routed_w) / min(plain_w) - 1.0,
        "overhead_cpu": min(routed_c) / min(plain_c) - 1.0,
        "all_wall_plain": plain_w,
        "all_wall_routed": routed_w,
        "mean_rate_plain_hz": plain.mean_rate_hz(),
        "mean_rate_routed_hz": res.mean_rate_hz(),
        "spikes_plain": int(plain.spike_counts.sum()),
        "spikes_routed": int(res.spike_counts.sum()),
        "syn_events_per_s_plain": plain.counters["rec_events"] / min(plain_w),
        "syn_events_per_s_routed": res.counters["rec_events"] / min(routed_w),
        "packets": int(rs.per_core["packets_out"].sum()),
        "core_packets": int(rs.per_core["core_packets"].sum()),
        "hops": int(rs.per_core["hops_ew"].sum() + rs.per_core["hops_ns"].sum()),
        "drops": rs.drops,
        "latency_mean_s": rs.latency_mean_s,
        "latency_max_s": rs.latency_max_s,
        "link_utilisation_max": float(util.max()),
        "energy_dynamic_joule": rep.dynamic_joule,
        "energy_total_joule": rep.total_joule,
    }


def run_peer(sim: str, scale: float) -> dict | str:
    """Run one peer through benchmarks/peers/run_peer.py; its JSON, or why it could not run."""
    script = HERE / "peers" / "run_peer.py"
    python = os.environ.get("NEUROCHIP_BENCH_PYTHON", ".bench-venv/bin/python")
    cmd = [python, str(script), "--sim", sim, "--scale", str(scale), "--json"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"could not run {' '.join(cmd)}: {exc}"
    if out.returncode != 0:
        return f"{' '.join(cmd)} exited with {out.returncode}: {out.stderr.strip()[-400:]}"
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return f"{' '.join(cmd)} printed no JSON: {out.stdout.strip()[-400:]}"


def _peer_events_per_s(peer: dict | str) -> float | None:
    """The peer's synaptic events per wall second, whatever it calls them."""
    if not isinstance(peer, dict):
        return None
    for key in ("syn_events_per_s", "synaptic_events_per_s", "events_per_s"):
        if peer.get(key):
            return float(peer[key])
    wall = peer.get("sim_wall_s") or peer.get("simulation_wall_s")
    spikes = peer.get("spikes") or peer.get("n_spikes")
    if wall and spikes:
        return float(spikes) * (C_E + C_I) / float(wall)
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies N_E and N_I (in-degrees stay)")
    ap.add_argument("--duration", type=float, default=1.0, help="biological time in s")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--compare", action="store_true", help="also run the Brian2 and NEST peers")
    ap.add_argument("--chip", help="chip preset: run through its router and print the overhead")
    ap.add_argument("--repeat", type=int, help="runs, best of which is shown (default 1; with --chip: run pairs, 3)")
    ap.add_argument("--save-spikes", metavar="FILE.npz", help="write the spike log and the spikes per neuron")
    ap.add_argument("--g", type=float, default=G_REL, help="relative inhibition g (default 5; Brunel's AI state B: 6)")
    ap.add_argument("--eta", type=float, default=2.0,
                    help="external drive nu_ext / nu_thr (default 2; Brunel's AI state B: 4)")
    args = ap.parse_args(argv)
    if (args.g != G_REL or args.eta != 2.0) and (args.compare or args.chip):
        ap.error("--g/--eta change the network: the peers and --chip run the default model A only")
    if not args.scale > 0:
        ap.error("--scale must be > 0")
    if args.repeat is not None and args.repeat < 1:
        ap.error("--repeat must be >= 1")
    if args.save_spikes and not args.save_spikes.endswith(".npz"):
        ap.error("--save-spikes: the file name must end in .npz")
    if args.chip:
        repeat = 3 if args.repeat is None else args.repeat
        r = run_routing_benchmark(args.chip, args.scale, args.duration, args.seed, repeat, args.save_spikes)
        if args.json:
            print(json.dumps(r))
            return 0
        print(f"Brunel (2000) model A, scale {args.scale}, {r['n_neurons']:,} neurons, {args.duration} s, routed on "
              f"{args.chip} ({r['mesh'][0]}x{r['mesh'][1]} mesh, {r['cores_used']} cores of 1,024 neurons used)")
        print(f"  mapping               {r['map_s']:.2f} s")
        print(f"  unrouted              wall {r['plain_wall_s']:.2f} s  cpu {r['plain_cpu_s']:.2f} s  (best of {repeat})")
        print(f"  routed                wall {r['routed_wall_s']:.2f} s  cpu {r['routed_cpu_s']:.2f} s")
        print(f"  routing overhead      wall {100 * r['overhead_wall']:+.1f} %  cpu {100 * r['overhead_cpu']:+.1f} %")
        print(f"  mean rate             {r['mean_rate_routed_hz']:.2f} Hz routed, {r['mean_rate_plain_hz']:.2f} Hz unrouted")
        print(f"  spikes                {r['spikes_routed']:,} routed, {r['spikes_plain']:,} unrouted")
        print(f"  recurrent events/s    {r['syn_events_per_s_routed'] / 1e6:.2f} M routed, "
              f"{r['syn_events_per_s_plain'] / 1e6:.2f} M unrouted (best wall)")
        print(f"  packets               {r['packets']:,} ({r['core_packets']:,} own-core), {r['hops']:,} hops, {r['drops']} dropped")
        print(f"  network latency       mean {r['latency_mean_s'] * 1e9:.1f} ns, max {r['latency_max_s'] * 1e9:.1f} ns")
        print(f"  link utilisation max  {r['link_utilisation_max']:.4f}")
        print(f"  energy                {r['energy_dynamic_joule'] * 1e3:.3f} mJ dynamic, {r['energy_total_joule'] * 1e3:.3f} mJ total")
        return 0
    fig = run_benchmark(
        args.scale, args.duration, args.seed, g=args.g, eta=args.eta, repeat=args.repeat or 1, save=args.save_spikes
    )
    peers: dict[str, dict | str] = {}
    if args.compare:
        if not (HERE / "peers" / "run_peer.py").exists():
            peers["note"] = "benchmarks/peers/run_peer.py is missing: no peer figures"
        else:
            for sim in ("brian2", "nest"):
                peers[sim] = run_peer(sim, args.scale)
                rate = _peer_events_per_s(peers[sim])
                if rate:
                    peers[sim]["neurochip_speedup"] = fig["syn_events_per_s"] / rate
        fig["peers"] = peers
    if args.json:
        print(json.dumps(fig))
        return 0
    print(f"Brunel (2000) model A, scale {args.scale}: {fig['n_neurons']:,} neurons, {fig['n_synapses']:,} synapses, {args.duration} s")
    print(f"  build                 {fig['build_s']:.2f} s")
    print(f"  simulation wall       {fig['sim_wall_s']:.2f} s   (window {fig['window_s'] * 1e3:.4f} ms)"
          + (f", best of {len(fig['all_wall_s'])}: {', '.join(f'{w:.2f}' for w in fig['all_wall_s'])}" if len(fig['all_wall_s']) > 1 else ""))
    print(f"  simulation cpu        {fig['sim_cpu_s']:.2f} s (best)  {fig['syn_events_per_cpu_s'] / 1e6:.1f} M recurrent events/s of cpu time")
    print(f"  spikes                {fig['spikes']:,}")
    print(f"  mean rate             {fig['mean_rate_hz']:.2f} Hz (E {fig['mean_rate_e_hz']:.2f} Hz)")
    print(f"  ISI CV                {fig['isi_cv']:.3f}")
    print(f"  recurrent events      {fig['rec_events']:,}  ({fig['syn_events_per_s'] / 1e6:.1f} M/s of wall time)")
    print(f"  spikes x out-degree   {fig['spikes_x_outdegree_per_s'] / 1e6:.1f} M/s of wall time")
    print(f"  external events       {fig['ext_events']:,}  (all events {fig['all_events_per_s'] / 1e6:.1f} M/s)")
    print(f"  peak memory (maxrss)  {fig['peak_rss_mib']:.0f} MiB; synapses {fig['synapse_bytes'] / 2**20:.1f} MiB = {fig['bytes_per_synapse']:.3f} B/synapse")
    if fig["other_processes_cpu_s"] is not None:
        print(f"  other processes' CPU during the run: {fig['other_processes_cpu_s']:.2f} s")
    for sim, p in peers.items():
        if isinstance(p, str):
            print(f"  {sim}: {p}")
        else:
            ratio = p.get("neurochip_speedup")
            shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in p.items() if k != "neurochip_speedup"}
            print(f"  {sim}: {json.dumps(shown)}")
            if ratio:
                print(f"  {sim}: {(_peer_events_per_s(p) or 0) / 1e6:.1f} M events/s -> neurochip is {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
