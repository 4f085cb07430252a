#!/usr/bin/env python3
"""Run Brunel (2000) model A on a peer simulator and report its figures.

This script runs in the benchmark environment (``make bench-env`` creates
``.bench-venv/``), not in neurochip's own environment: the peers pin an older
numpy. It imports nothing from neurochip, so that neurochip's benchmarks can
call it as a subprocess and read one JSON object from its standard output::

    .bench-venv/bin/python benchmarks/peers/run_peer.py --sim nest --scale 1 --json

The network (Brunel 2000, model A, asynchronous irregular regime):

* ``N_E = 10000 * scale`` excitatory and ``N_I = 2500 * scale`` inhibitory
  leaky integrate-and-fire neurons; in-degrees stay fixed when scaling.
* Every neuron receives ``C_E = 1000`` excitatory and ``C_I = 250``
  inhibitory connections whose sources are drawn at random with replacement
  (multapses and autapses allowed).
* Delta synapses: a spike makes the target's potential jump by ``J = 0.1 mV``
  (excitatory) or ``-g J = -0.5 mV`` (inhibitory) after ``D = 1.5 ms``.
* ``tau_m = 20 ms``, ``V_th = 20 mV``, ``V_reset = 10 mV``, ``E_L = 0``,
  ``t_ref = 2 ms``; input arriving during the refractory period is discarded.
* Each neuron gets its own Poisson train of rate ``C_E * nu_ext`` with
  ``nu_ext = 2 nu_thr`` and ``nu_thr = V_th / (J C_E tau_m) = 10 Hz``,
  i.e. 20 kHz of jumps of ``J``.
* Initial potentials uniform in ``[0, V_th)``; 1 s of biological time with a
  0.1 ms step.

Synaptic events per second are recurrent events: ``n_spikes * 1250 /
sim_wall_s``, where 1250 = ``C_E + C_I`` is the mean out-degree (every
neuron has in-degree ``C_E + C_I``, so the out-degrees sum to ``N (C_E +
C_I)``; the mean out-degree of an excitatory neuron, ``C_E N / N_E``, and
of an inhibitory one, ``C_I N / N_I``, are both 1250 at any scale).
Where the connectivity is at hand, ``syn_events_exact`` also gives the sum,
over neurons, of each neuron's spike count times its own out-degree.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from typing import Any

import numpy as np

# --- Brunel (2000) model A, asynchronous irregular regime -------------------
N_E_BASE = 10_000
N_I_BASE = 2_500
C_E = 1_000
C_I = 250
J_MV = 0.1
G = 5.0
DELAY_MS = 1.5
TAU_M_MS = 20.0
V_TH_MV = 20.0
V_RESET_MV = 10.0
E_L_MV = 0.0
T_REF_MS = 2.0
NU_THR_HZ = V_TH_MV / (J_MV * C_E * TAU_M_MS * 1e-3)  # 10 Hz
NU_EXT_HZ = 2.0 * NU_THR_HZ  # 20 Hz per external afferent
EXT_RATE_HZ = C_E * NU_EXT_HZ  # 20 kHz per neuron
DT_MS = 0.1

SIMS = ("brian2", "brian2-runtime", "nest")

# Runs the standalone binary and records its own resource usage (os.wait4),
# so the binary's peak memory is not mixed up with the C++ compiler's.
_BINARY_WRAPPER = (
    "import json, os, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[2:])\n"
    "_, status, ru = os.wait4(p.pid, 0)\n"
    "with open(sys.argv[1], 'w') as f:\n"
    "    json.dump({'maxrss_kib': ru.ru_maxrss, 'cpu_s': ru.ru_utime + ru.ru_stime}, f)\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


# --- measurement helpers -----------------------------------------------------
def _busy_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    # cpu user nice system idle iowait irq softirq steal guest guest_nice
    values = [int(v) for v in fields[1:]]
    busy = values[0] + values[1] + values[2] + values[5] + values[6] + values[7]
    return busy / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    """CPU seconds of this process plus its waited-for children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class CpuWindow:
    """Wall time, own CPU time and other processes' CPU time over a block."""

    def __enter__(self) -> CpuWindow:
        self._busy0 = _busy_cpu_seconds()
        self._own0 = _own_cpu_seconds()
        self._wall0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall_s = time.perf_counter() - self._wall0
        self.own_cpu_s = _own_cpu_seconds() - self._own0
        busy = _busy_cpu_seconds() - self._busy0
        self.other_cpu_s = max(0.0, busy - self.own_cpu_s)


def wait_for_quiet(max_wait_s: float, *, window_s: float = 2.0, threshold: float = 0.1) -> tuple[float, bool]:
    """Wait until other processes use less than ``threshold`` cores.

    Samples ``/proc/stat`` over windows of ``window_s`` seconds while this
    process sleeps. Returns the time waited and whether the machine was quiet
    before ``max_wait_s`` ran out (the run goes ahead either way).
    """
    start = time.perf_counter()
    while True:
        with CpuWindow() as window:
            time.sleep(window_s)
        waited = time.perf_counter() - start
        if window.other_cpu_s < threshold * window.wall_s:
            return waited, True
        if waited >= max_wait_s:
            return waited, False


def _peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0


def spike_statistics(
    senders: np.ndarray, times_s: np.ndarray, n_neurons: int, n_exc: int, duration_s: float
) -> dict[str, Any]:
    """Rates and CV of the inter-spike intervals from a spike list.

    ``senders`` are neuron indices in ``[0, n_neurons)``, the first ``n_exc``
    excitatory. The CV is the mean, over neurons with at least 3 spikes, of
    std(ISI) / mean(ISI) (population standard deviation).
    """
    senders = np.asarray(senders, dtype=np.int64)
    times_s = np.asarray(times_s, dtype=np.float64)
    counts = np.bincount(senders, minlength=n_neurons)
    order = np.lexsort((times_s, senders))
    s, t = senders[order], times_s[order]
    same = s[1:] == s[:-1]
    isi = np.diff(t)[same]
    owner = s[1:][same]
    n_isi = np.bincount(owner, minlength=n_neurons).astype(np.float64)
    sum_isi = np.bincount(owner, weights=isi, minlength=n_neurons)
    sum_isi2 = np.bincount(owner, weights=isi * isi, minlength=n_neurons)
    ok = counts >= 3
    mean = sum_isi[ok] / n_isi[ok]
    var = np.maximum(sum_isi2[ok] / n_isi[ok] - mean * mean, 0.0)
    cvs = np.sqrt(var) / mean
    n_inh = n_neurons - n_exc
    return {
        "n_spikes": int(counts.sum()),
        "mean_rate_hz": float(counts.sum() / (n_neurons * duration_s)),
        "rate_exc_hz": float(counts[:n_exc].sum() / (n_exc * duration_s)),
        "rate_inh_hz": float(counts[n_exc:].sum() / (n_inh * duration_s)),
        "cv_isi": float(cvs.mean()) if cvs.size else float("nan"),
        "n_neurons_cv": int(ok.sum()),
        "spike_counts": counts,
    }


def _connectivity(rng: np.random.Generator, n: int, n_exc: int, n_inh: int) -> tuple[np.ndarray, ...]:
    """Fixed in-degree sources drawn with replacement: (pre_E, post_E, pre_I, post_I)."""
    pre_e = rng.integers(0, n_exc, size=n * C_E, dtype=np.int32)
    post_e = np.repeat(np.arange(n, dtype=np.int32), C_E)
    pre_i = rng.integers(0, n_inh, size=n * C_I, dtype=np.int32)
    post_i = np.repeat(np.arange(n, dtype=np.int32), C_I)
    return pre_e, post_e, pre_i, post_i


# --- Brian2 ---------------------------------------------------------------------
def run_brian2(args: argparse.Namespace, n_exc: int, n_inh: int, standalone: bool) -> dict[str, Any]:
    import brian2 as b2

    n = n_exc + n_inh
    duration_s = args.duration
    result: dict[str, Any] = {"sim": "brian2" if standalone else "brian2-runtime"}
    result["version"] = b2.__version__
    workdir = None
    if standalone:
        workdir = tempfile.mkdtemp(prefix="brunel-brian2-")
        b2.set_device("cpp_standalone", directory=workdir, build_on_run=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = 0 if args.threads == 1 else args.threads
        binary_usage = os.path.join(workdir, "binary_usage.json")
        b2.prefs.devices.cpp_standalone.run_cmd_unix = [
            sys.executable,
            "-c",
            _BINARY_WRAPPER,
            binary_usage,
            "./main",
        ]
    else:
        if args.threads != 1:
            raise SystemExit("error: --sim brian2-runtime runs on one thread only (--threads 1)")
        b2.prefs.codegen.target = "cython"
    b2.seed(args.seed)
    b2.defaultclock.dt = DT_MS * b2.ms

    t0 = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    pre_e, post_e, pre_i, post_i = _connectivity(rng, n, n_exc, n_inh)
    namespace = {
        "tau_m": TAU_M_MS * b2.ms,
        "V_th": V_TH_MV * b2.mV,
        "V_reset": V_RESET_MV * b2.mV,
        "E_L": E_L_MV * b2.mV,
    }
    neurons = b2.NeuronGroup(
        n,
        "dv/dt = (E_L - v) / tau_m : volt (unless refractory)",
        threshold="v >= V_th",
        reset="v = V_reset",
        refractory=T_REF_MS * b2.ms,
        method="exact",
        namespace=namespace,
        name="brunel",
    )
    neurons.v = f"rand() * {V_TH_MV} * mV"
    exc = b2.Synapses(
        neurons,
        neurons,
        on_pre=f"v_post += {J_MV} * mV * int(not_refractory_post)",
        delay=DELAY_MS * b2.ms,
        name="exc",
    )
    exc.connect(i=pre_e, j=post_e)
    inh = b2.Synapses(
        neurons,
        neurons,
        on_pre=f"v_post += {-G * J_MV} * mV * int(not_refractory_post)",
        delay=DELAY_MS * b2.ms,
        name="inh",
    )
    inh.connect(i=pre_i + n_exc, j=post_i)
    drive = b2.PoissonInput(
        neurons, "v", N=C_E, rate=NU_EXT_HZ * b2.Hz, weight=f"{J_MV} * mV * int(not_refractory)"
    )
    monitor = b2.SpikeMonitor(neurons, name="spikes")
    net = b2.Network(neurons, exc, inh, drive, monitor)

    if standalone:
        net.run(duration_s * b2.second)
        b2.device.build(directory=workdir, compile=True, run=False, with_output=False)
        elapsed = time.perf_counter() - t0
        make_s = b2.device.timers["compile"]["make"] or 0.0
        result["compile_s"] = make_s
        result["build_s"] = elapsed - make_s
        with CpuWindow() as window:
            b2.device.run(workdir, with_output=False)
        result["sim_wall_s"] = float(b2.device._last_run_time)
        result["binary_wall_s"] = window.wall_s
        with open(binary_usage) as f:
            usage = json.load(f)
        result["peak_rss_mib"] = usage["maxrss_kib"] / 1024.0
        result["python_peak_rss_mib"] = _peak_rss_mib()
    else:
        result["build_s"] = time.perf_counter() - t0
        # A zero-length run compiles (or loads from cache) every code object.
        t1 = time.perf_counter()
        net.run(0 * b2.ms)
        result["compile_s"] = time.perf_counter() - t1
        with CpuWindow() as window:
            net.run(duration_s * b2.second)
        result["sim_wall_s"] = window.wall_s
        result["peak_rss_mib"] = _peak_rss_mib()
    result["cpu_seconds_self"] = window.own_cpu_s
    result["cpu_seconds_of_other_processes"] = window.other_cpu_s
    result["n_synapses"] = int(len(exc) + len(inh))

    senders = np.asarray(monitor.i[:])
    times_s = np.asarray(monitor.t[:] / b2.second)
    stats = spike_statistics(senders, times_s, n, n_exc, duration_s)
    counts = stats.pop("spike_counts")
    outdeg = np.concatenate(
        [np.bincount(pre_e, minlength=n_exc), np.bincount(pre_i, minlength=n_inh)]
    ).astype(np.int64)
    result.update(stats)
    result["syn_events_exact"] = int(np.dot(counts, outdeg))
    if workdir is not None and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    elif workdir is not None:
        result["workdir"] = workdir
    return result


# --- NEST ---------------------------------------------------------------------
def run_nest(args: argparse.Namespace, n_exc: int, n_inh: int) -> dict[str, Any]:
    os.environ.setdefault("PYNEST_QUIET", "1")
    import nest

    n = n_exc + n_inh
    duration_s = args.duration
    result: dict[str, Any] = {"sim": "nest", "version": nest.__version__}
    if args.seed < 1:
        raise SystemExit("error: NEST needs --seed >= 1")
    if hasattr(nest, "VerbosityLevel"):
        nest.verbosity = nest.VerbosityLevel.ERROR
    else:
        nest.set_verbosity("M_ERROR")

    t0 = time.perf_counter()
    nest.ResetKernel()
    nest.SetKernelStatus(
        {
            "resolution": DT_MS,
            "local_num_threads": args.threads,
            "rng_seed": args.seed,
            "print_time": False,
        }
    )
    params = {
        "C_m": 1.0,  # irrelevant for delta synapses (jumps are given in mV)
        "tau_m": TAU_M_MS,
        "t_ref": T_REF_MS,
        "E_L": E_L_MV,
        "V_th": V_TH_MV,
        "V_reset": V_RESET_MV,
        "I_e": 0.0,
        "refractory_input": False,  # discard input during refractoriness
    }
    neurons = nest.Create("iaf_psc_delta", n, params=params)
    neurons.V_m = nest.random.uniform(0.0, V_TH_MV)
    exc_pop, inh_pop = neurons[:n_exc], neurons[n_exc:]
    drive = nest.Create("poisson_generator", params={"rate": EXT_RATE_HZ})
    recorder = nest.Create("spike_recorder")
    conn_e = {"rule": "fixed_indegree", "indegree": C_E, "allow_autapses": True, "allow_multapses": True}
    conn_i = {"rule": "fixed_indegree", "indegree": C_I, "allow_autapses": True, "allow_multapses": True}
    nest.Connect(
        exc_pop, neurons, conn_e, {"synapse_model": "static_synapse", "weight": J_MV, "delay": DELAY_MS}
    )
    nest.Connect(
        inh_pop, neurons, conn_i, {"synapse_model": "static_synapse", "weight": -G * J_MV, "delay": DELAY_MS}
    )
    # Same delay as the recurrent synapses, so the minimum delay (NEST's
    # communication interval) stays 1.5 ms; each target gets its own train.
    nest.Connect(drive, neurons, "all_to_all", {"weight": J_MV, "delay": DELAY_MS})
    nest.Connect(neurons, recorder)
    result["build_s"] = time.perf_counter() - t0
    result["n_synapses"] = int(nest.GetKernelStatus("num_connections")) - 2 * n

    with CpuWindow() as window:
        t1 = time.perf_counter()
        nest.Prepare()
        prepare_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        nest.Run(duration_s * 1e3)
        run_s = time.perf_counter() - t2
        nest.Cleanup()
    result["prepare_s"] = prepare_s
    result["sim_wall_s"] = run_s
    result["cpu_seconds_self"] = window.own_cpu_s
    result["cpu_seconds_of_other_processes"] = window.other_cpu_s
    result["peak_rss_mib"] = _peak_rss_mib()

    events = recorder.get("events")
    first_id = neurons[0].global_id
    senders = np.asarray(events["senders"], dtype=np.int64) - first_id
    times_s = np.asarray(events["times"], dtype=np.float64) * 1e-3
    stats = spike_statistics(senders, times_s, n, n_exc, duration_s)
    counts = stats.pop("spike_counts")
    result.update(stats)
    if args.exact_events:
        conns = nest.GetConnections(source=neurons, target=neurons)
        sources = np.asarray(conns.get("source"), dtype=np.int64) - first_id
        result["syn_events_exact"] = int(np.dot(counts, np.bincount(sources, minlength=n)))
    return result


# --- driver -------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sim", choices=SIMS, required=True, help="peer simulator")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiplies N_E=10000 and N_I=2500 (in-degrees fixed)"
    )
    parser.add_argument("--duration", type=float, default=1.0, help="biological time in seconds")
    parser.add_argument("--seed", type=int, default=12345, help="random seed (>= 1)")
    parser.add_argument("--threads", type=int, default=1, help="threads (NEST, Brian2 standalone)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--keep", action="store_true", help="keep the Brian2 standalone project directory")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="first wait up to SECONDS for other processes to use less than --quiet-cores (0: do not wait)",
    )
    parser.add_argument(
        "--quiet-cores",
        type=float,
        default=0.1,
        metavar="CORES",
        help="with --wait-quiet: how many cores' worth of CPU other processes may use (default 0.1)",
    )
    parser.add_argument(
        "--exact-events",
        action="store_true",
        help="NEST: also count recurrent events with each neuron's own out-degree (after timing)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.scale <= 0 or args.duration <= 0 or args.threads < 1:
        raise SystemExit("error: --scale and --duration must be > 0 and --threads >= 1")
    n_exc = round(N_E_BASE * args.scale)
    n_inh = round(N_I_BASE * args.scale)
    if n_exc < 1 or n_inh < 1:
        raise SystemExit(f"error: --scale {args.scale} leaves no neurons in a population")

    quiet_wait_s, quiet = (
        wait_for_quiet(args.wait_quiet, threshold=args.quiet_cores) if args.wait_quiet > 0 else (0.0, None)
    )

    # Simulators print banners and progress on stdout: send them to stderr so
    # that stdout carries only this script's report.
    sys.stdout.flush()
    real_stdout = os.dup(1)
    os.dup2(2, 1)
    started = _dt.datetime.now(_dt.timezone.utc)
    try:
        with CpuWindow() as whole:
            if args.sim == "nest":
                result = run_nest(args, n_exc, n_inh)
            else:
                result = run_brian2(args, n_exc, n_inh, standalone=args.sim == "brian2")
    finally:
        sys.stdout.flush()
        os.dup2(real_stdout, 1)
        os.close(real_stdout)

    n = n_exc + n_inh
    # Every neuron has in-degree C_E + C_I, so the out-degrees sum to
    # n * (C_E + C_I): the mean out-degree is C_E + C_I at any scale.
    mean_outdeg = float(C_E + C_I)
    syn_events = result["n_spikes"] * mean_outdeg
    sim_wall_s = result.pop("sim_wall_s")
    report = {
        "sim": result.pop("sim"),
        "version": result.pop("version"),
        "scale": args.scale,
        "n_neurons": n,
        "n_exc": n_exc,
        "n_inh": n_inh,
        "n_synapses": result.pop("n_synapses"),
        "duration_s": args.duration,
        "dt_s": DT_MS * 1e-3,
        "seed": args.seed,
        "threads": args.threads,
        "build_s": result.pop("build_s"),
        "compile_s": result.pop("compile_s", None),
        "sim_wall_s": sim_wall_s,
        "n_spikes": result.pop("n_spikes"),
        "mean_rate_hz": result.pop("mean_rate_hz"),
        "cv_isi": result.pop("cv_isi"),
        "mean_out_degree": mean_outdeg,
        "syn_events": syn_events,
        "syn_events_per_s": syn_events / sim_wall_s,
        "syn_events_method": "n_spikes * mean_out_degree",
        "peak_rss_mib": result.pop("peak_rss_mib"),
        "cpu_seconds_self": result.pop("cpu_seconds_self"),
        "cpu_seconds_of_other_processes": result.pop("cpu_seconds_of_other_processes"),
    }
    report.update(result)
    report["total_wall_s"] = whole.wall_s
    report["quiet_wait_s"] = quiet_wait_s
    report["quiet_at_start"] = quiet
    report["cpu_seconds_of_other_processes_total"] = whole.other_cpu_s
    report["date_utc"] = started.strftime("%Y-%m-%dT%H:%M:%SZ")
    report["host"] = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
    }

    if args.json:
        print(json.dumps(report))
    else:
        width = max(len(k) for k in report)
        for key, value in report.items():
            if isinstance(value, float):
                value = f"{value:.6g}"
            print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
