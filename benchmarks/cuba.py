"""CUBA network (Vogels and Abbott 2005; Brette et al. 2007, benchmark 2) on the neurochip emulator.

4,000 current-based LIF neurons (3,200 excitatory, 800 inhibitory; times ``--scale``), each ordered
pair connected with probability 0.02 / scale (the mean in-degree, 64 + 16, is kept when scaling),
tau_m = 20 ms, E_L = -49 mV (above V_th = -50 mV: no external input), V_reset = -60 mV,
t_ref = 5 ms (V held, the currents keep integrating), exponential currents tau_e = 5 ms and
tau_i = 10 ms, Brian's ``ge += we`` weights we = 1.62 mV and wi = -9 mV (neurochip's charge
weights we * tau_e / tau_m = 0.405 mV and wi * tau_i / tau_m = -4.5 mV: see
neurochip.examples.cuba_weights_volt), delay 0.1 ms for every simulator, initial V uniform in
[V_reset, V_th).  The network is built by neurochip.examples.cuba_network.

Prints, per scale: the rates (excitatory, inhibitory), spikes, recurrent synaptic events (sum
over neurons of spikes x out-degree) per second of wall time and of CPU time, the simulation
wall and CPU time, and the CPU time other processes used during the run (/proc/stat: the
machine may be shared).

``--compare`` writes the network (synapses, weights, initial potentials, parameters) to a
temporary .npz file and runs the same network on the peers, each from the benchmark environment
(``make bench-env``: ``.bench-venv/``, or ``$NEUROCHIP_BENCH_PYTHON``) through this very script
(``--peer SIM --network FILE``, which imports nothing from neurochip): Brian2 C++ standalone
(1 thread, 0.1 ms, exact linear integration, spikes on the grid), NEST ``iaf_psc_exp`` (1 thread,
0.1 ms grid) and NEST's precise ``iaf_psc_exp_ps`` (off-grid spikes).  NEST's
``iaf_psc_exp_ps_lossless`` needs tau_e == tau_i and refuses the published network; it runs on the
variant ``--tau-i 5`` (inhibitory charge kept), where it is the anchor.  Peers that are not
installed are reported as such.  Ratios are neurochip's events per second over the peer's,
measured in the same run, of wall time and of CPU time of each simulator's simulation proper
(neurochip's run, Brian2's network loop timed by its binary, NEST's ``nest.Run``: building and
loading the network and writing the spikes are left out for all; on a shared machine the CPU
ratio is the fair one; "other cpu" says how shared it was).  For the precise
peers the spike trains are also compared neuron by neuron (same spikes to within 1 us, and from
when they differ, if they do).  ``--keep DIR`` keeps the network and every simulator's spikes.

``--repeat N`` runs neurochip and each peer's simulation N times (best wall and best CPU time
shown).

Usage::

    python benchmarks/cuba.py [--scale 1 10] [--duration 10 2] [--seed 1] [--json] [--compare]
                              [--peers brian2 nest nest-ps nest-lossless] [--repeat 1] [--tau-i 10]
                              [--delay 0.1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
PEERS = ("brian2", "nest", "nest-ps", "nest-lossless")
PEER_LABEL = {
    "brian2": "Brian2 standalone, 1 thread",
    "nest": "NEST iaf_psc_exp, 1 thread",
    "nest-ps": "NEST iaf_psc_exp_ps (precise)",
    "nest-lossless": "NEST iaf_psc_exp_ps_lossless (precise)",
}


# --- measurement helpers (shared by both sides) ----------------------------------------------


def _busy_cpu_s() -> float | None:
    """CPU seconds (all cores) spent busy since boot, from /proc/stat; None if unavailable."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    vals = [int(x) for x in fields]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return (sum(vals[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class _Window:
    """Wall time and other processes' CPU time over a block."""

    def __enter__(self) -> _Window:
        self.busy0, self.own0, self.t0 = _busy_cpu_s(), _own_cpu_s(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall_s = time.perf_counter() - self.t0
        busy1, own1 = _busy_cpu_s(), _own_cpu_s()
        self.cpu_s = own1 - self.own0
        self.other_cpu_s = None if self.busy0 is None else max(0.0, (busy1 - self.busy0) - (own1 - self.own0))


def _figures(
    counts: np.ndarray, outdeg: np.ndarray, n_exc: int, duration_s: float, wall_s: float, cpu_s: float
) -> dict:
    """Rates, spikes and recurrent events (spikes x out-degree) per wall and per CPU second."""
    counts = np.asarray(counts, dtype=np.int64)
    events = int(np.dot(counts, outdeg))
    return {
        "spikes": int(counts.sum()),
        "rate_hz": float(counts.sum() / (counts.size * duration_s)),
        "rate_exc_hz": float(counts[:n_exc].sum() / (n_exc * duration_s)),
        "rate_inh_hz": float(counts[n_exc:].sum() / ((counts.size - n_exc) * duration_s)),
        "syn_events": events,
        "sim_wall_s": wall_s,
        "syn_events_per_s": events / wall_s,
        "sim_cpu_s": cpu_s,
        "syn_events_per_cpu_s": events / cpu_s if cpu_s > 0 else float("nan"),
    }


# --- the peers (run in the benchmark environment: no neurochip import) -----------------------


def _load(path: str) -> dict[str, Any]:
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def _save_spikes(path: str | None, senders: np.ndarray, times_s: np.ndarray) -> None:
    if path:
        np.savez(path, senders=np.asarray(senders, dtype=np.int64), times_s=np.asarray(times_s, dtype=np.float64))


def peer_brian2(net: dict[str, Any], duration_s: float, repeat: int, spikes_path: str | None = None) -> dict:
    """Brian2 C++ standalone, one thread; the simulation loop's own wall time
    (device._last_run_time) and CPU time (std::clock() around the network's run, written by the
    binary: its process CPU time would also count loading the network and writing the spikes)."""
    import brian2 as b2

    workdir = tempfile.mkdtemp(prefix="cuba-brian2-")
    try:
        b2.set_device("cpp_standalone", directory=workdir, build_on_run=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = 0
        b2.defaultclock.dt = 0.1 * b2.ms
        ms, mv = b2.ms, b2.mV
        tau_m, tau_e, tau_i = (float(net[k]) * 1e3 * ms for k in ("tau_m_s", "tau_e_s", "tau_i_s"))
        ns = {"taum": tau_m, "taue": tau_e, "taui": tau_i, "El": float(net["e_leak_volt"]) * 1e3 * mv,
              "Vt": float(net["v_th_volt"]) * 1e3 * mv, "Vr": float(net["v_reset_volt"]) * 1e3 * mv}
        n, n_exc = int(net["n"]), int(net["n_exc"])
        # the Brian convention: ge (V) enters as ge / taum; a charge weight w (V) is a jump of
        # w * taum / tau_syn in ge
        group = b2.NeuronGroup(
            n,
            "dv/dt = (ge + gi - (v - El)) / taum : volt (unless refractory)\n"
            "dge/dt = -ge / taue : volt\n"
            "dgi/dt = -gi / taui : volt",
            threshold="v > Vt", reset="v = Vr", refractory=float(net["t_ref_s"]) * 1e3 * ms,
            method="exact", namespace=ns, name="cuba",
        )
        group.v = net["v0"] * b2.volt
        delay = float(net["delay_s"]) * 1e3 * ms
        syn = []
        for name, var, key, tau in (("exc", "ge", "w_exc", "tau_e_s"), ("inh", "gi", "w_inh", "tau_i_s")):
            jump = float(net[key]) * float(net["tau_m_s"]) / float(net[tau])
            s = b2.Synapses(group, group, on_pre=f"{var}_post += {jump!r} * volt", delay=delay, name=name)
            s.connect(i=net[f"pre_{name}"], j=net[f"post_{name}"])
            syn.append(s)
        mon = b2.SpikeMonitor(group, name="spikes")
        bnet = b2.Network(group, *syn, mon)
        loop_cpu_file = os.path.join(workdir, "loop_cpu_s.txt")
        b2.device.insert_code("before_network_run", "std::clock_t loop_cpu_c0 = std::clock();")
        b2.device.insert_code(
            "after_network_run",
            f'{{ std::ofstream f("{loop_cpu_file}"); f.precision(17); '
            "f << double(std::clock() - loop_cpu_c0) / CLOCKS_PER_SEC << std::endl; }",
        )
        bnet.run(duration_s * b2.second)
        b2.device.build(directory=workdir, compile=True, run=False, with_output=False)
        walls, other, cpus, process_cpus = [], [], [], []
        timing = "simulation loop: device._last_run_time (wall), std::clock() around the run (CPU)"
        for _ in range(repeat):
            Path(loop_cpu_file).unlink(missing_ok=True)
            with _Window() as w:
                b2.device.run(workdir, with_output=False)
            walls.append(float(b2.device._last_run_time))
            other.append(w.other_cpu_s)
            process_cpus.append(w.cpu_s)  # the binary's, loading and writing included
            try:
                cpus.append(float(Path(loop_cpu_file).read_text()))  # the loop's CPU time
            except (OSError, ValueError):
                # a Brian2 that dropped the inserted code: the process's CPU time, said so
                cpus.append(w.cpu_s)
                timing = "device._last_run_time (wall); CPU of the whole binary (loop not timed)"
        senders = np.asarray(mon.i[:], dtype=np.int64)
        _save_spikes(spikes_path, senders, np.asarray(mon.t[:] / b2.second))
        counts = np.bincount(senders, minlength=n)
        fig = _figures(counts, net["outdeg"], n_exc, duration_s, min(walls), min(cpus))
        fig.update(version=b2.__version__, all_wall_s=walls, other_cpu_s=other[int(np.argmin(walls))],
                   n_synapses=int(sum(len(s) for s in syn)), all_process_cpu_s=process_cpus,
                   timing=timing)
        return fig
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def peer_nest(net: dict[str, Any], duration_s: float, repeat: int, model: str, spikes_path: str | None = None) -> dict:
    """NEST, one thread, 0.1 ms resolution; the wall time of nest.Run (after Prepare)."""
    os.environ.setdefault("PYNEST_QUIET", "1")
    import nest

    n, n_exc = int(net["n"]), int(net["n_exc"])
    c_pf = float(net["c_m_farad"]) * 1e12
    params = {
        "C_m": c_pf, "tau_m": float(net["tau_m_s"]) * 1e3, "t_ref": float(net["t_ref_s"]) * 1e3,
        "E_L": float(net["e_leak_volt"]) * 1e3, "V_th": float(net["v_th_volt"]) * 1e3,
        "V_reset": float(net["v_reset_volt"]) * 1e3, "I_e": 0.0,
        "tau_syn_ex": float(net["tau_e_s"]) * 1e3, "tau_syn_in": float(net["tau_i_s"]) * 1e3,
    }
    walls, other, cpus, counts = [], [], [], None
    for _ in range(repeat):
        nest.ResetKernel()
        if hasattr(nest, "VerbosityLevel"):
            nest.verbosity = nest.VerbosityLevel.ERROR
        nest.SetKernelStatus({"resolution": 0.1, "local_num_threads": 1, "rng_seed": 1, "print_time": False})
        pop = nest.Create(model, n, params=params)
        pop.V_m = list(np.asarray(net["v0"]) * 1e3)
        first = pop[0].global_id
        for name, key, tau in (("exc", "w_exc", "tau_e_s"), ("inh", "w_inh", "tau_i_s")):
            # NEST's current (pA) jumps by the weight: a charge weight w (V) is C_m w / tau_syn
            w_pa = c_pf * float(net[key]) / float(net[tau])
            pre = np.asarray(net[f"pre_{name}"], dtype=np.int64) + first
            post = np.asarray(net[f"post_{name}"], dtype=np.int64) + first
            nest.Connect(pre, post, "one_to_one", {
                "synapse_model": "static_synapse", "weight": np.full(pre.size, w_pa),
                "delay": np.full(pre.size, float(net["delay_s"]) * 1e3)})
        rec = nest.Create("spike_recorder")
        nest.Connect(pop, rec)
        nest.Prepare()
        with _Window() as w:
            nest.Run(duration_s * 1e3)
        nest.Cleanup()
        walls.append(w.wall_s)
        other.append(w.other_cpu_s)
        cpus.append(w.cpu_s)
        events = rec.get("events")
        senders = np.asarray(events["senders"], dtype=np.int64) - first
        counts = np.bincount(senders, minlength=n)
    _save_spikes(spikes_path, senders, np.asarray(events["times"], dtype=np.float64) * 1e-3)
    fig = _figures(counts, net["outdeg"], n_exc, duration_s, min(walls), min(cpus))
    fig.update(version=nest.__version__, model=model, all_wall_s=walls, other_cpu_s=other[int(np.argmin(walls))],
               timing="nest.Run after nest.Prepare")
    return fig


def run_as_peer(sim: str, path: str, duration_s: float, repeat: int) -> int:
    """Run the network of ``path`` on ``sim``: one JSON line on stdout, the spikes in PATH.SIM.npz."""
    net = _load(path)
    spikes_path = f"{path}.{sim}.npz"
    # simulators print banners on stdout: keep stdout for the one JSON line
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        if sim == "brian2":
            fig = peer_brian2(net, duration_s, repeat, spikes_path)
        else:
            model = {"nest": "iaf_psc_exp", "nest-ps": "iaf_psc_exp_ps", "nest-lossless": "iaf_psc_exp_ps_lossless"}[sim]
            fig = peer_nest(net, duration_s, repeat, model, spikes_path)
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
    fig["sim"] = sim
    print(json.dumps(fig))
    return 0


# --- neurochip side -------------------------------------------------------------------------


def save_network(path: str, net: Any, delay_s: float) -> None:
    """The network in plain arrays (global neuron indices, charge weights in V) for the peers."""
    csr = net.csr()
    n = net.n_neurons
    pre = np.repeat(np.arange(n, dtype=np.int32), np.diff(csr.indptr[: n + 1]))
    post = csr.indices.astype(np.int32)
    exc = csr.weights >= 0
    pops = {p.name: p for p in net.populations}
    model = pops["E"].model
    w_exc = float(next(pr.weight_volt for pr in net.projections if pr.pre == "E"))
    w_inh = float(next(pr.weight_volt for pr in net.projections if pr.pre == "I"))
    v0 = np.concatenate([np.broadcast_to(np.asarray(p.v_init_volt, dtype=float), (p.size,)) for p in net.populations])
    par = pops["E"].params
    np.savez(
        path, n=n, n_exc=pops["E"].size, pre_exc=pre[exc], post_exc=post[exc], pre_inh=pre[~exc], post_inh=post[~exc],
        w_exc=w_exc, w_inh=w_inh, v0=v0, outdeg=csr.out_degree(), tau_m_s=par.c_m_farad / par.g_leak_siemens,
        tau_e_s=model.tau_syn_exc_s, tau_i_s=model.tau_syn_inh_s, c_m_farad=par.c_m_farad,
        e_leak_volt=par.e_leak_volt, v_th_volt=par.v_th_volt, v_reset_volt=par.v_reset_volt, t_ref_s=par.t_ref_s,
        delay_s=delay_s,
    )


def run_neurochip(net: Any, duration_s: float, seed: int, repeat: int) -> dict:
    from neurochip.emulator import run

    csr = net.csr()
    outdeg = csr.out_degree()
    n_exc = net.population("E").size
    best, other, walls, cpus = None, None, [], []
    for _ in range(repeat):
        with _Window() as w:
            r = run(net, duration_s=duration_s, inputs=[], seed=seed)
        walls.append(r.wall_time_s)
        cpus.append(float(r.params["cpu_time_s"]))
        if best is None or r.wall_time_s < best.wall_time_s:
            best, other = r, w.other_cpu_s
    fig = _figures(best.spike_counts, outdeg, n_exc, duration_s, best.wall_time_s, min(cpus))
    fig.update(all_wall_s=walls, other_cpu_s=other, rec_events_counter=int(best.counters["rec_events"]),
               windows=int(best.counters.get("windows", 0)))
    fig["_events"] = best.events
    return fig


def compare_spikes(events: Any, path: str, tol_s: float) -> dict:
    """neurochip's spike trains against a peer's, neuron by neuron: are they the same spikes
    (same count, times within ``tol_s``), and if not, from when do they differ."""
    with np.load(path) as f:
        b_n, b_t = f["senders"].astype(np.int64), f["times_s"].astype(np.float64)
    a_n, a_t = events["address"].astype(np.int64), events["time_s"].astype(np.float64)
    n = int(max(a_n.max(initial=-1), b_n.max(initial=-1))) + 1
    oa, ob = np.lexsort((a_t, a_n)), np.lexsort((b_t, b_n))
    a_n, a_t, b_n, b_t = a_n[oa], a_t[oa], b_n[ob], b_t[ob]
    ca, cb = np.bincount(a_n, minlength=n), np.bincount(b_n, minlength=n)
    sa, sb = np.concatenate([[0], np.cumsum(ca)]), np.concatenate([[0], np.cumsum(cb)])
    first_diff, max_dt, n_same = np.inf, 0.0, 0
    for i in range(n):
        x, y = a_t[sa[i]:sa[i + 1]], b_t[sb[i]:sb[i + 1]]
        m = min(x.size, y.size)
        d = np.abs(x[:m] - y[:m])
        bad = np.flatnonzero(d > tol_s)
        k = int(bad[0]) if bad.size else m
        if k < max(x.size, y.size):  # the first spike of this neuron that has no partner
            first_diff = min(first_diff, float(min(x[k] if k < x.size else np.inf, y[k] if k < y.size else np.inf)))
        if k:
            max_dt = max(max_dt, float(d[:k].max()))
    # spikes (of either train) before the first difference, all of which agree
    n_same = int(np.count_nonzero(a_t < first_diff))
    return {
        "identical": bool(first_diff == np.inf), "spikes_agreeing_before_first_difference": n_same,
        "first_difference_s": None if first_diff == np.inf else first_diff, "max_abs_dt_before_s": max_dt,
        "neurons_with_other_counts": int(np.count_nonzero(ca != cb)),
    }


def run_peer(sim: str, path: str, duration_s: float, repeat: int) -> dict | str:
    """Run one peer through this script in the benchmark environment; its figures, or why not."""
    python = os.environ.get("NEUROCHIP_BENCH_PYTHON", str(HERE.parent / ".bench-venv" / "bin" / "python"))
    if not Path(python).exists():
        return f"not installed ({python} missing: `make bench-env`)"
    mod = {"brian2": "brian2", "nest": "nest", "nest-ps": "nest", "nest-lossless": "nest"}[sim]
    probe = subprocess.run([python, "-c", f"import {mod}"], capture_output=True, text=True, env={**os.environ, "PYNEST_QUIET": "1"})
    if probe.returncode != 0:
        return f"not installed ({mod} does not import in {python})"
    cmd = [python, str(Path(__file__).resolve()), "--peer", sim, "--network", path, "--duration", str(duration_s),
           "--repeat", str(repeat)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"could not run: {exc}"
    if out.returncode != 0:
        return f"failed (exit {out.returncode}): {out.stderr.strip()[-300:]}"
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return f"printed no JSON: {out.stdout.strip()[-300:]}"


def benchmark(
    scale: float, duration_s: float, seed: int, repeat: int, compare: bool, tau_i_s: float, delay_s: float,
    peers_wanted: tuple[str, ...] = PEERS, keep: str | None = None,
) -> dict:
    from neurochip.examples import cuba_network

    t0 = time.perf_counter()
    net, _ = cuba_network(scale, seed=seed, tau_i_s=tau_i_s, delay_s=delay_s)
    csr = net.csr()
    build_s = time.perf_counter() - t0
    out: dict[str, Any] = {
        "scale": scale, "duration_s": duration_s, "seed": seed, "n_neurons": net.n_neurons,
        "n_synapses": int(csr.n_synapses), "tau_i_s": tau_i_s, "delay_s": delay_s, "build_s": build_s,
        "neurochip": run_neurochip(net, duration_s, seed, repeat),
    }
    if compare:
        equal_taus = tau_i_s == net.population("E").model.tau_syn_exc_s
        sims = tuple(s for s in peers_wanted if s != "nest-lossless" or equal_taus)
        tmp = tempfile.mkdtemp(prefix="cuba-net-") if keep is None else keep
        os.makedirs(tmp, exist_ok=True)
        try:
            path = os.path.join(tmp, f"cuba-scale{scale:g}-taui{tau_i_s * 1e3:g}.npz")
            save_network(path, net, delay_s)
            peers: dict[str, Any] = {}
            nc = out["neurochip"]
            for sim in sims:
                p = run_peer(sim, path, duration_s, repeat)
                if isinstance(p, dict):
                    p["neurochip_ratio"] = nc["syn_events_per_s"] / p["syn_events_per_s"]
                    p["neurochip_ratio_cpu"] = nc["syn_events_per_cpu_s"] / p["syn_events_per_cpu_s"]
                    p["rate_diff"] = nc["rate_hz"] / p["rate_hz"] - 1.0
                    p["rate_exc_diff"] = nc["rate_exc_hz"] / p["rate_exc_hz"] - 1.0
                    p["rate_inh_diff"] = nc["rate_inh_hz"] / p["rate_inh_hz"] - 1.0
                    if sim.startswith("nest-") and os.path.exists(f"{path}.{sim}.npz"):
                        # off-grid spike times: the same spikes (to 1 us, 1 % of the step) for how long?
                        p["spike_trains"] = compare_spikes(nc["_events"], f"{path}.{sim}.npz", 1e-6)
                peers[sim] = p
            if "nest-lossless" in peers_wanted and "nest-lossless" not in sims:
                peers["nest-lossless"] = ("not run: iaf_psc_exp_ps_lossless needs tau_e == tau_i "
                                          "(run --tau-i 5 for the variant it accepts)")
            out["peers"] = peers
            if keep is not None:
                ev = out["neurochip"]["_events"]
                np.savez(f"{path}.neurochip.npz", senders=ev["address"].astype(np.int64), times_s=ev["time_s"])
        finally:
            if keep is None:
                shutil.rmtree(tmp, ignore_errors=True)
    del out["neurochip"]["_events"]
    return out


def _print(r: dict) -> None:
    nc = r["neurochip"]
    print(f"CUBA (Vogels & Abbott 2005), scale {r['scale']:g}: {r['n_neurons']:,} neurons, {r['n_synapses']:,} synapses, "
          f"{r['duration_s']:g} s, tau_i {r['tau_i_s'] * 1e3:g} ms, delay {r['delay_s'] * 1e3:g} ms, seed {r['seed']} "
          f"(build {r['build_s']:.2f} s)")
    rows = [("neurochip (exact, event-driven)", nc)] + [
        (PEER_LABEL[s], p) for s, p in r.get("peers", {}).items()
    ]
    print(f"  {'simulator':40s} {'rate E':>7s} {'rate I':>7s} {'spikes':>10s} {'wall s':>8s} {'events/s':>10s} "
          f"{'cpu s':>8s} {'ev/cpu s':>10s} {'other cpu':>9s} {'neurochip':>16s}")
    print(f"  {'':40s} {'Hz':>7s} {'Hz':>7s} {'':>10s} {'':>8s} {'(wall)':>10s} {'':>8s} {'':>10s} {'':>9s} "
          f"{'is (wall / cpu)':>16s}")
    for label, f in rows:
        if isinstance(f, str):
            print(f"  {label:40s} {f}")
            continue
        ratio = f"{f['neurochip_ratio']:.3f}x / {f['neurochip_ratio_cpu']:.3f}x" if "neurochip_ratio" in f else "-"
        oc = f"{f['other_cpu_s']:.2f} s" if f.get("other_cpu_s") is not None else "?"
        print(f"  {label:40s} {f['rate_exc_hz']:7.3f} {f['rate_inh_hz']:7.3f} {f['spikes']:10,d} {f['sim_wall_s']:8.3f} "
              f"{f['syn_events_per_s'] / 1e6:8.2f} M {f['sim_cpu_s']:8.3f} {f['syn_events_per_cpu_s'] / 1e6:8.2f} M "
              f"{oc:>9s} {ratio:>16s}")
    for s, p in r.get("peers", {}).items():
        if isinstance(p, dict):
            line = (f"  neurochip vs {s}: rate {100 * p['rate_diff']:+.2f} % (E {100 * p['rate_exc_diff']:+.2f} %, "
                    f"I {100 * p['rate_inh_diff']:+.2f} %)")
            st = p.get("spike_trains")
            if st:
                dt = f"max |dt| {st['max_abs_dt_before_s'] * 1e9:.1f} ns"
                line += (f"; every spike the same ({dt})" if st["identical"] else
                         f"; the same first {st['spikes_agreeing_before_first_difference']:,} spikes ({dt}), "
                         f"trains differ from t = {st['first_difference_s']:.4f} s "
                         f"({st.get('neurons_with_other_counts', '?')} neurons with other spike counts)")
            print(line)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, nargs="+", default=[1.0],
                    help="one or more sizes relative to 4,000 neurons (mean in-degree kept), e.g. 1 10")
    ap.add_argument("--duration", type=float, nargs="+", default=None,
                    help="biological time in s: one value, or one per scale (default 10 s / scale)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print one JSON object per scale")
    ap.add_argument("--compare", action="store_true", help="also run Brian2 and NEST on the same network")
    ap.add_argument("--repeat", type=int, default=1, help="simulations per simulator; the best wall is shown")
    ap.add_argument("--tau-i", type=float, default=10.0,
                    help="inhibitory tau_syn in ms (default 10; 5 lets NEST's lossless model run)")
    ap.add_argument("--peers", nargs="+", choices=PEERS, default=list(PEERS),
                    help="with --compare: which peers (default all: brian2 nest nest-ps nest-lossless)")
    ap.add_argument("--delay", type=float, default=0.1,
                    help="synaptic delay in ms, every simulator (default 0.1; PyNN's VAbenchmarks use 0.2)")
    ap.add_argument("--keep", metavar="DIR", help="with --compare: keep the network and the peers' spikes in DIR")
    ap.add_argument("--peer", choices=PEERS, help=argparse.SUPPRESS)
    ap.add_argument("--network", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.peer:
        if not args.network or not args.duration:
            ap.error("--peer needs --network and --duration")
        return run_as_peer(args.peer, args.network, args.duration[0], args.repeat)
    if any(not s > 0 for s in args.scale):
        ap.error("--scale must be > 0")
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")
    if not args.tau_i > 0:
        ap.error("--tau-i must be > 0")
    if not args.delay >= 0.1 or abs(args.delay / 0.1 - round(args.delay / 0.1)) > 1e-9:
        ap.error("--delay must be a multiple of the peers' 0.1 ms step")
    if args.duration is None:
        durations = [10.0 / s for s in args.scale]
    elif len(args.duration) == 1:
        durations = args.duration * len(args.scale)
    elif len(args.duration) == len(args.scale):
        durations = args.duration
    else:
        ap.error("--duration: one value, or one per --scale")
    if any(not d > 0 for d in durations):
        ap.error("--duration must be > 0")
    for scale, dur in zip(args.scale, durations):
        r = benchmark(scale, dur, args.seed, args.repeat, args.compare, args.tau_i * 1e-3, args.delay * 1e-3,
                      tuple(args.peers), args.keep)
        r["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        if args.json:
            print(json.dumps(r), flush=True)
        else:
            _print(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
