"""Boards of chips with emulated inter-chip links: link saturation, routing overhead, a large board.

Three measurements (docs/multichip.md, docs/performance.md):

``saturation``
    A 2-chip board (two generic chips, the nahuku preset's inter-chip link: 1.6 Gbit/s of 32-bit
    packets, 50 Mpackets/s per direction): 4,096 neurons filling chip 0, each projecting to all 16 cores of
    chip 1 (one packet per destination core), driven by Poisson input of a swept rate.  Prints,
    per rate and flow-control mode (back-pressure, drops), the packets offered to the east link,
    those it carried, the drops and the mean packet latency; ``--plot FILE.png`` draws carried
    against offered rate with the link's capacity.
``brunel``
    Brunel's model A at ``--scale`` on a 2 x 2 board of 4-core chips (1,024 neurons per core,
    the nahuku link): emulated links against the unrouted run, alternated, same process; the
    routing overhead is routed / unrouted wall time - 1.
``large``
    ``--neurons`` neurons with ``--in-degree`` synapses each (default 100,000 x 1,000 = 10^8),
    each neuron projecting to the ``--in-degree`` neurons after it (a ring: the local
    connectivity that lets a Loihi core's 4,096 output axons serve its neurons; every fifth
    neuron inhibitory, g = 5, Brunel's weights and drive), mapped onto the pohoiki-beach preset
    (64 Loihi chips) and emulated for ``--duration`` (default 100 ms) with emulated links.
    Prints the wall time of each stage and the peak resident memory.

Usage::

    python benchmarks/board.py saturation [--plot docs/img/board_link_saturation.png] [--json]
    python benchmarks/board.py brunel [--scale 1] [--duration 1] [--repeat 3] [--json]
    python benchmarks/board.py large [--neurons 100000] [--in-degree 1000] [--duration 0.1] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import sys
import time

import numpy as np


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux


def link_of(preset: str = "nahuku"):
    from neurochip.system import load_system

    return load_system(preset).link


def pair_system(backpressure: bool):
    from neurochip.chip import load_chip
    from neurochip.system import SystemSpec, TopologySpec

    link = dataclasses.replace(link_of(), backpressure=backpressure)
    return SystemSpec(name="pair", chip=load_chip("generic"), n_chips=2,
                      topology=TopologySpec(kind="mesh", width=2, height=1), link=link)  # fmt: skip


def saturation(rates_hz, duration_s: float) -> list[dict]:
    """The link sweep: one row per (flow control, input rate)."""
    from neurochip.board import board_report
    from neurochip.board_links import board_routing
    from neurochip.board_mapping import BoardMappingOptions, map_board
    from neurochip.emulator import run
    from neurochip.lif import LIFParams
    from neurochip.network import Explicit, Network, PoissonInput, Population, Projection

    p = LIFParams(c_m_farad=1e-12, g_leak_siemens=5e-11, e_leak_volt=0.0, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=1e-4)
    n_src, fan = 4096, 16  # each population fills one generic chip (16 cores x 256 neurons)
    # source k -> one neuron on each of 16 target cores of chip 1 (256 neurons per core)
    pre = np.repeat(np.arange(n_src), fan)
    post = (np.tile(np.arange(fan) * 256, n_src) + pre % 256).astype(np.int64)
    pops = (Population(name="A", size=n_src, params=p), Population(name="B", size=16 * 256, params=p))
    proj = Projection(pre="A", post="B", rule=Explicit(pre=pre, post=post), weight_volt=1e-4, delay_s=1e-3)
    net = Network(populations=pops, projections=(proj,))
    rows = []
    for bp in (True, False):
        system = pair_system(bp)
        bm = map_board(net, system, options=BoardMappingOptions(partitioner="block"))
        for rate in rates_hz:
            drive = PoissonInput(population="A", rate_hz=float(rate), weight_volt=0.05)
            t0 = time.perf_counter()
            res = run(net, duration_s=duration_s, inputs=[drive], mapping=board_routing(bm, net), record=False, seed=1)
            wall = time.perf_counter() - t0
            rep = board_report(bm, net, res)
            east = next(r for r in rep["links"] if (r["from"], r["to"]) == (0, 1))
            rows.append({
                "backpressure": bp, "input_rate_hz": float(rate),
                "offered_rate_hz": east["offered_packets"] / duration_s, "carried_rate_hz": east["rate_hz"],
                "capacity_hz": system.link.packet_rate_hz, "utilisation": east["utilisation"],
                "drops": east["drops"], "waiting_at_source": rep["end_state"]["packets_waiting_at_source"],
                "latency_mean_s": rep["packet_latency_mean_s"], "wall_s": wall,
            })  # fmt: skip
    return rows


def plot_saturation(rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
    cap = rows[0]["capacity_hz"]
    for bp, style, name in ((True, "o-", "back-pressure"), (False, "s--", "drops")):
        sel = [r for r in rows if r["backpressure"] is bp]
        off = np.array([r["offered_rate_hz"] for r in sel]) / 1e6
        ax.plot(off, np.array([r["carried_rate_hz"] for r in sel]) / 1e6, style, label=f"carried ({name})")
        bx.plot(off, np.array([r["latency_mean_s"] or np.nan for r in sel]) * 1e6, style, label=name)
    top = max(r["offered_rate_hz"] for r in rows) / 1e6
    ax.plot([0, top], [0, top], ":", color="0.5", label="offered")
    ax.axhline(cap / 1e6, color="C3", lw=1, label=f"link capacity {cap / 1e6:.0f} Mpackets/s")
    ax.set_xlabel("offered to the inter-chip link (Mpackets/s)")
    ax.set_ylabel("carried (Mpackets/s)")
    ax.set_title("2-chip board: east link 0 -> 1")
    ax.legend(fontsize=8)
    bx.set_yscale("log")
    bx.set_xlabel("offered (Mpackets/s)")
    bx.set_ylabel("mean packet latency (us)")
    bx.set_title("queueing at the link")
    bx.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def brunel(scale: float, duration_s: float, repeat: int) -> dict:
    from neurochip.board import board_report
    from neurochip.board_links import board_routing
    from neurochip.board_mapping import BoardMappingOptions, map_board
    from neurochip.chip import CoreSpec, MeshSpec, load_chip
    from neurochip.emulator import run
    from neurochip.examples import BRUNEL, brunel_network
    from neurochip.system import SystemSpec, TopologySpec

    net, inputs = brunel_network(scale)
    k = int(BRUNEL["c_e"] + BRUNEL["c_i"])
    chip = load_chip("generic").replace(mesh=MeshSpec(width=2, height=2), core=CoreSpec(neurons=1024, fan_in=1024 * k, fan_out=1024 * 16))
    system = SystemSpec(name="brunel-2x2", chip=chip, n_chips=4, topology=TopologySpec(kind="mesh", width=2, height=2), link=link_of())
    t0 = time.perf_counter()
    # a random network: every balanced partition cuts the same expected traffic
    bm = map_board(net, system, options=BoardMappingOptions(partitioner="block"))
    routing = board_routing(bm, net)
    map_s = time.perf_counter() - t0
    routed_w, plain_w = [], []
    res = plain = None
    for _ in range(repeat):
        res = run(net, duration_s=duration_s, inputs=inputs, seed=1, mapping=routing, record=False)
        routed_w.append(res.wall_time_s)
        plain = run(net, duration_s=duration_s, inputs=inputs, seed=1, record=False)
        plain_w.append(plain.wall_time_s)
    rep = board_report(bm, net, res)
    return {
        "system": "2 x 2 chips of 2 x 2 cores x 1,024 neurons, nahuku link", "n_neurons": net.n_neurons,
        "chips_used": bm.chips_used, "duration_s": duration_s, "map_s": map_s,
        "plain_wall_s": min(plain_w), "routed_wall_s": min(routed_w), "overhead_wall": min(routed_w) / min(plain_w) - 1,
        "all_wall_plain": plain_w, "all_wall_routed": routed_w,
        "spikes_plain": int(plain.spike_counts.sum()), "spikes_routed": int(res.spike_counts.sum()),
        "inter_chip_packets": rep["inter_chip_packets"], "link_crossings": rep["link_crossings"],
        "link_utilisation_max": max(r["utilisation"] for r in rep["links"]),
        "multichip_overhead_fraction": rep["energy"]["multichip_overhead_fraction"],
    }  # fmt: skip


def ring_network(n: int, k: int, seed: int = 1):
    """n neurons, neuron i -> i+1 .. i+k (mod n); every fifth neuron inhibitory (g = 5), Brunel's
    neuron, J and external drive (eta = 2)."""
    from neurochip.examples import BRUNEL, brunel_nu_thr_hz
    from neurochip.lif import LIFParams
    from neurochip.network import Explicit, Network, PoissonInput, Population, Projection

    b = BRUNEL
    params = LIFParams(c_m_farad=b["c_m_farad"], g_leak_siemens=b["c_m_farad"] / b["tau_m_s"], e_leak_volt=0.0,
                       v_th_volt=b["v_th_volt"], v_reset_volt=b["v_reset_volt"], t_ref_s=b["t_ref_s"])  # fmt: skip
    rng = np.random.default_rng(seed)
    pop = Population(name="N", size=n, params=params, v_init_volt=rng.uniform(0, b["v_th_volt"], n))
    pre = np.repeat(np.arange(n, dtype=np.int64), k)
    post = pre + np.tile(np.arange(1, k + 1, dtype=np.int64), n)
    post[post >= n] -= n
    w = np.where(pre % 5 == 0, -5.0 * b["j_volt"], b["j_volt"])
    proj = Projection(pre="N", post="N", rule=Explicit(pre=pre, post=post, weight_volt=w), weight_volt=b["j_volt"], delay_s=b["delay_s"])
    del pre, post, w
    net = Network(populations=(pop,), projections=(proj,), seed=seed)
    drive = PoissonInput(population="N", rate_hz=0.8 * k * 2.0 * brunel_nu_thr_hz(), weight_volt=b["j_volt"])
    return net, [drive]


def large(n: int, k: int, duration_s: float, preset: str) -> dict:
    from neurochip.board import board_report
    from neurochip.board_links import board_routing
    from neurochip.board_mapping import BoardMappingOptions, map_board
    from neurochip.emulator import run
    from neurochip.system import load_system

    out: dict = {"neurons": n, "synapses": n * k, "system": preset, "duration_s": duration_s}
    t0 = time.perf_counter()
    net, inputs = ring_network(n, k)
    net.csr()
    out["build_s"] = time.perf_counter() - t0
    out["rss_after_build_gib"] = _peak_rss_gib()
    system = load_system(preset)
    t0 = time.perf_counter()
    bm = map_board(net, system, options=BoardMappingOptions(partitioner="block"))
    routing = board_routing(bm, net)
    out["map_s"] = time.perf_counter() - t0
    out["chips_used"] = bm.chips_used
    out["cores_used"] = int(sum(m.cores_used for m in bm.chip_mappings if m is not None))
    out["routing_entries"] = int(routing.route_cores.size)
    t0 = time.perf_counter()
    res = run(net, duration_s=duration_s, inputs=inputs, seed=1, mapping=routing, record=False)
    out["run_s"] = time.perf_counter() - t0
    out["emulator_wall_s"] = res.wall_time_s
    rep = board_report(bm, net, res)
    out.update({
        "spikes": int(res.spike_counts.sum()), "mean_rate_hz": res.mean_rate_hz(),
        "synaptic_events": int(res.counters["rec_events"]), "packets": int(res.routing.per_core["packets_out"].sum()),
        "inter_chip_packets": rep["inter_chip_packets"], "link_crossings": rep["link_crossings"],
        "link_utilisation_max": max(r["utilisation"] for r in rep["links"]),
        "energy_total_joule": rep["energy"]["total_joule"],
        "multichip_overhead_fraction": rep["energy"]["multichip_overhead_fraction"],
        "peak_rss_gib": _peak_rss_gib(),
    })  # fmt: skip
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("saturation")
    s.add_argument("--rates", default="100,200,400,600,800,1000,1500,2000,3000", help="input rates per source neuron, Hz")
    s.add_argument("--duration", type=float, default=0.02)
    s.add_argument("--plot")
    s.add_argument("--json", action="store_true")
    b = sub.add_parser("brunel")
    b.add_argument("--scale", type=float, default=1.0)
    b.add_argument("--duration", type=float, default=1.0)
    b.add_argument("--repeat", type=int, default=3)
    b.add_argument("--json", action="store_true")
    g = sub.add_parser("large")
    g.add_argument("--neurons", type=int, default=100_000)
    g.add_argument("--in-degree", type=int, default=1000)
    g.add_argument("--duration", type=float, default=0.1)
    g.add_argument("--system", default="pohoiki-beach")
    g.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.what == "saturation":
        rows = saturation([float(x) for x in args.rates.split(",")], args.duration)
        if args.plot:
            plot_saturation(rows, args.plot)
        if args.json:
            print(json.dumps(rows, indent=1))
        else:
            print(f"{'flow':>6} {'in Hz':>7} {'offered Mp/s':>13} {'carried Mp/s':>13} {'util':>6} {'drops':>9} {'waiting':>8} {'latency us':>11}")
            for r in rows:
                lat = r["latency_mean_s"]
                print(f"{'bp' if r['backpressure'] else 'drop':>6} {r['input_rate_hz']:7.0f} {r['offered_rate_hz'] / 1e6:13.2f} "
                      f"{r['carried_rate_hz'] / 1e6:13.2f} {r['utilisation']:6.3f} {r['drops']:9d} {r['waiting_at_source']:8d} "
                      f"{(lat or float('nan')) * 1e6:11.3f}")  # fmt: skip
            print(f"link capacity: {rows[0]['capacity_hz'] / 1e6:.1f} Mpackets/s")
    elif args.what == "brunel":
        r = brunel(args.scale, args.duration, args.repeat)
        print(json.dumps(r, indent=1) if args.json else
              f"Brunel x{args.scale}, {args.duration} s on {r['system']}: {r['chips_used']} chips used\n"
              f"unrouted {r['plain_wall_s']:.3f} s, emulated links {r['routed_wall_s']:.3f} s: overhead {r['overhead_wall']:+.1%}\n"
              f"{r['link_crossings']:,} link crossings, max link utilisation {r['link_utilisation_max']:.3g}")  # fmt: skip
    else:
        r = large(args.neurons, args.in_degree, args.duration, args.system)
        print(json.dumps(r, indent=1) if args.json else "\n".join(f"{k}: {v}" for k, v in r.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
