"""NIR CubaLIF and CubaLI: graphs built with nir's classes (feed-forward, recurrent, and laid out
as snnTorch exports its Synaptic and RSynaptic layers) imported and run on the compiled engine
against an independent NumPy solution of NIR's equations; the CubaLI readout; round trips both
ways; the errors."""

from __future__ import annotations

import heapq
import math
import warnings

import nir
import numpy as np
import pytest

from neurochip.emulator import run
from neurochip.errors import InvalidParameterError
from neurochip.lif import LIFParams
from neurochip.models.cuba import Cuba
from neurochip.network import (
    NEURON_FIELDS,
    Explicit,
    FixedProbability,
    Network,
    OneToOne,
    Population,
    Projection,
    SpikeTimesInput,
)
from neurochip.network.nir_io import NIRExportWarning, NIRImportWarning, from_nir, read_nir, to_nir, write_nir
from neurochip.network.readout import li_readout

OPTS = {"dt_s": 1e-4, "reset": "value", "t_ref_s": 0.0, "delay_s": 1e-3}  # nothing assumed


def _full(n, x):
    return np.broadcast_to(np.asarray(x, float), (n,)).copy()


def _cuba_lif(n, *, tau_syn, tau_mem, r, v_leak=0.0, v_th=1.0, v_reset=0.0, w_in=1.0):
    return nir.CubaLIF(tau_syn=_full(n, tau_syn), tau_mem=_full(n, tau_mem), r=_full(n, r), v_leak=_full(n, v_leak),
                       v_threshold=_full(n, v_th), v_reset=_full(n, v_reset), w_in=_full(n, w_in))  # fmt: skip


# ---------------------------------------------------------------------------------------------
# an independent solution of NIR's equations


class Layer:
    """The parameters of one NIR CubaLIF / CubaLI node as the reference reads them."""

    def __init__(self, node, *, subtract=False, bias=None):
        self.n = int(np.asarray(node.tau_mem).size)
        for key in ("tau_syn", "tau_mem", "r", "v_leak", "w_in"):
            setattr(self, key, _full(self.n, getattr(node, key)))
        self.v_th = _full(self.n, getattr(node, "v_threshold", np.inf))  # CubaLI: no threshold
        self.v_reset = _full(self.n, getattr(node, "v_reset", 0.0))
        self.subtract = subtract
        self.bias = np.zeros(self.n) if bias is None else _full(self.n, bias)


def nir_cuba_reference(layers, inputs, connections, t_end, *, h=1e-6, samples=None, current_from_zero=False):
    """Integrate NIR's equations for the neurons of ``layers`` (stacked in order):

        tau_syn dI/dt = -I + w_in (x(t) + b),  tau_mem dv/dt = (v_leak - v) + r I,
        v > v_threshold  =>  v <- v_reset  (or v <- v - (v_threshold - v_reset) when subtracting),

    where x is a sum of Dirac pulses: an input pulse of area q on neuron j makes I_j jump by
    w_in q / tau_syn.  I starts at its steady state w_in b (the import's convention), or at 0
    with ``current_from_zero`` (snnTorch's); v at v_leak.  ``inputs``: (time, neuron, area); ``connections[i]``: (target, area, delay)
    of each pulse a spike of neuron i sends.

    Method, independent of neurochip's closed forms: the linear part is propagated with the
    matrix exponential of the 2x2 (upper triangular) system of each neuron, summed as its Taylor
    series (to order 14, for |A s| <= 0.05: remainder < 1e-30), on steps of at most ``h`` and
    exactly to every pulse; a sample above threshold at a step end is refined to the crossing by
    bisection on the same propagator (to 1e-18 s).  A crossing that rises above threshold and
    falls back within one step is not seen: the smallest distance below threshold of a sampled
    local maximum (``graze``) is returned so that a test can check that none came near (with
    |d2v/dt2| <= C2 the peak between samples exceeds them by at most C2 h^2 / 8).

    Returns spike times per neuron, ``graze``, and at the ``samples`` times the (v, I) arrays.
    """
    cat = lambda key: np.concatenate([getattr(L, key) for L in layers])  # noqa: E731
    tau_syn, tau_mem, r, v_leak, w_in = (cat(k) for k in ("tau_syn", "tau_mem", "r", "v_leak", "w_in"))
    v_th, v_reset, bias = cat("v_th"), cat("v_reset"), cat("bias")
    subtract = np.concatenate([np.full(L.n, L.subtract) for L in layers])
    n = v_th.size
    a = np.stack([-1.0 / tau_mem, r / tau_mem, -1.0 / tau_syn])  # entries (0,0), (0,1), (1,1) of A

    def expm(x):
        """exp of the upper triangular 2x2 matrices x (entries along axis 0), Taylor series."""
        assert np.abs(x).max() <= 0.05, "step too long for the series"
        out = np.array([np.ones_like(x[0]), np.zeros_like(x[0]), np.ones_like(x[0])])
        term = out.copy()
        for k in range(1, 15):
            term = np.array([term[0] * x[0], term[0] * x[1] + term[1] * x[2], term[2] * x[2]]) / k
            out = out + term
        return out

    i_ss = w_in * bias  # the bias part of I (constant)
    v_ss = v_leak + r * i_ss
    u = v_leak - v_ss  # state: u = v - v_ss, and the pulse part p of I
    p = -i_ss.copy() if current_from_zero else np.zeros(n)
    heap = [(float(t), k, int(j), float(q)) for k, (t, j, q) in enumerate(inputs)]
    heapq.heapify(heap)
    seq = len(heap)
    p_h = expm(a * h)
    spikes = [[] for _ in range(n)]
    graze = math.inf
    hist = [np.full(n, -np.inf), v_leak.copy()]  # the last two samples of v
    samples = [] if samples is None else sorted(samples)
    out_v, out_i = [], []
    t = 0.0

    def advance(m, u, p):
        return m[0] * u + m[1] * p, m[2] * p

    while t < t_end:
        if heap and heap[0][0] <= t:
            _, _, j, q = heapq.heappop(heap)
            p[j] += w_in[j] * q / tau_syn[j]
            continue
        t_next = min(heap[0][0] if heap else math.inf, t_end, samples[0] if samples else math.inf)
        step = min(h, t_next - t)
        m = p_h if step == h else expm(a * step)
        u1, p1 = advance(m, u, p)
        above = np.flatnonzero(u1 + v_ss > v_th)
        if above.size:
            best, who = step, -1
            for i in above:
                lo, hi = 0.0, step
                while hi - lo > 1e-18 and lo < (mid := 0.5 * (lo + hi)) < hi:
                    m = expm(a[:, i] * mid)
                    if m[0] * u[i] + m[1] * p[i] + v_ss[i] > v_th[i]:
                        hi = mid
                    else:
                        lo = mid
                if hi < best:
                    best, who = hi, i
            u, p = advance(expm(a * best), u, p)
            t += best
            spikes[who].append(t)
            v = u[who] + v_ss[who]
            v = v - (v_th[who] - v_reset[who]) if subtract[who] else v_reset[who]
            u[who] = v - v_ss[who]
            for target, q, delay in connections.get(who, ()):
                heapq.heappush(heap, (t + delay, seq, target, q))
                seq += 1
            hist = [np.full(n, -np.inf), u + v_ss]
            continue
        u, p = u1, p1
        t = t_next if step == t_next - t else t + step
        v = u + v_ss
        peak = (hist[1] > hist[0]) & (hist[1] >= v)
        if peak.any():
            graze = min(graze, float(np.min(v_th[peak] - hist[1][peak])))
        hist = [hist[1], v]
        while samples and samples[0] <= t:
            samples.pop(0)
            out_v.append(u + v_ss)
            out_i.append(p + i_ss)
    return [np.array(s) for s in spikes], graze, (np.array(out_v), np.array(out_i))


def _counts_and_times(res, imp, pops):
    out = []
    for name in pops:
        start = imp.network.offset(name)
        out += [res.spike_times(start + k) for k in range(imp.network.population(name).size)]
    return out


# ---------------------------------------------------------------------------------------------
# graphs built with nir's classes, run against the reference


def test_feed_forward_cuba_lif_and_li_readout_match_the_reference(rng):
    """Input -> Affine -> CubaLIF -> Affine -> CubaLI -> Output, with w_in != 1, r dt / tau_mem
    != 1, a neuron whose tau_mem equals tau_syn, a leak potential and inhibitory weights."""
    dt, delay, t_end = 1e-4, 1e-3, 0.06
    n_in, n1, n2 = 3, 5, 2
    w1 = rng.uniform(0.2, 0.9, (n1, n_in)) * 15
    w1[4, 1] = -8.0
    lif = _cuba_lif(n1, tau_syn=2e-3, tau_mem=[4e-3, 2e-3, 6e-3, 3e-3, 5e-3], r=[2.0, 3.0, 1.5, 4.0, 2.5],
                    v_leak=[0.0, 0.1, -0.2, 0.0, 0.05], v_th=1.0, v_reset=[0.0, 0.0, -0.3, 0.1, 0.0],
                    w_in=[1.0, 0.5, 2.0, 1.0, 1.5])  # fmt: skip
    # r dt / tau_mem = 1 on the readout: its float32 synaptic weights are w_in W exactly
    li = nir.CubaLI(tau_syn=np.full(n2, 3e-3), tau_mem=np.array([3e-3, 8e-3]), r=np.array([30.0, 80.0]),
                    v_leak=np.array([0.0, -0.1]), w_in=np.array([1.0, 0.5]))  # fmt: skip
    w2 = np.round(rng.uniform(-0.5, 1.0, (n2, n1)) * 64) / 64  # float32-exact
    graph = nir.NIRGraph(
        nodes={"x": nir.Input(input_type=np.array([n_in])), "fc1": nir.Affine(weight=w1, bias=np.zeros(n1)),
               "lif": lif, "fc2": nir.Linear(weight=w2), "li": li, "y": nir.Output(output_type=np.array([n2]))},
        edges=[("x", "fc1"), ("fc1", "lif"), ("lif", "fc2"), ("fc2", "li"), ("li", "y")],
    )  # fmt: skip
    imp = from_nir(graph, inputs="ports", **OPTS)
    assert [(p.name, p.size, p.model) for p in imp.network.populations] == [
        ("lif", n1, Cuba(tau_syn_exc_s=2e-3)), ("li", n2, Cuba(tau_syn_exc_s=3e-3, spiking=False))]  # fmt: skip
    lp = imp.network.population("lif").arrays()
    np.testing.assert_allclose(lp["c_m_farad"], lif.tau_mem / lif.r, rtol=1e-15)  # C = tau_mem / r
    np.testing.assert_array_equal(lp["g_leak_siemens"], 1.0 / lif.r)  # g_L = 1 / r
    np.testing.assert_array_equal(lp["e_leak_volt"], lif.v_leak)
    times = np.sort(rng.uniform(0, t_end - 5e-3, 90))
    chans = rng.integers(0, n_in, times.size)
    stim = imp.spike_input("x", times, chans)
    res = run(imp.network, duration_s=t_end, inputs=stim)

    layers = [Layer(lif), Layer(li)]
    inputs = [(t, j, w1[j, c] * dt) for t, c in zip(times, chans) for j in range(n1)]
    conn = {i: [(n1 + k, w2[k, i] * dt, delay) for k in range(n2)] for i in range(n1)}
    grid = np.linspace(0.0, t_end, 241)
    ref, graze, (v_ref, i_ref) = nir_cuba_reference(layers, inputs, conn, t_end, samples=grid)
    assert graze > 1e-4  # no sampled maximum came within 1e-4 V of threshold: no crossing missed
    got = _counts_and_times(res, imp, ["lif"])
    counts = np.array([s.size for s in ref[:n1]])
    assert counts.min() > 0 and counts.sum() > 40
    np.testing.assert_array_equal([s.size for s in got], counts)
    # input weights stay float64 (ports); both solutions resolve a crossing to ~1e-15 s, so the
    # difference is their rounding, amplified by 1/slope at the crossing
    err = max(float(np.max(np.abs(g - s), initial=0.0)) for g, s in zip(got, ref[:n1]))
    assert err < 1e-10, err

    v, cur = li_readout(imp.network, "li", res, grid, inputs=stim)
    assert np.abs(v_ref[:, n1:]).max() > 0.3  # the readout moves
    np.testing.assert_allclose(v, v_ref[:, n1:], rtol=0, atol=1e-9)
    np.testing.assert_allclose(cur, i_ref[:, n1:] * 1.0, rtol=0, atol=1e-9)


def test_recurrent_cuba_lif_graph_matches_the_reference(rng):
    """Input -> Affine -> CubaLIF with a recurrent Affine -> Delay loop (excitatory and inhibitory)."""
    dt, t_end, n_in, n = 1e-4, 0.08, 2, 8
    tau_mem = rng.uniform(2e-3, 6e-3, n)
    lif = _cuba_lif(n, tau_syn=1.5e-3, tau_mem=tau_mem, r=tau_mem / dt, v_th=1.0, v_reset=0.0)  # r dt / tau_mem = 1
    w_in = np.round(rng.uniform(0.3, 1.0, (n, n_in)) * 64) / 64
    w_rec = np.round(rng.normal(0.0, 0.35, (n, n)) * 64) / 64
    np.fill_diagonal(w_rec, 0.0)
    graph = nir.NIRGraph(
        nodes={"x": nir.Input(input_type=np.array([n_in])), "fc": nir.Affine(weight=w_in, bias=np.zeros(n)),
               "lif": lif, "rec": nir.Linear(weight=w_rec), "d": nir.Delay(delay=np.full(n, 0.5e-3)),
               "y": nir.Output(output_type=np.array([n]))},
        edges=[("x", "fc"), ("fc", "lif"), ("lif", "rec"), ("rec", "d"), ("d", "lif"), ("lif", "y")],
    )  # fmt: skip
    imp = from_nir(graph, inputs="ports", **OPTS)
    assert imp.network.csr().delays_s.tolist() == [0.5e-3]  # the Delay node, not delay_s
    times = np.sort(rng.uniform(0, t_end - 0.02, 60))
    chans = rng.integers(0, n_in, times.size)
    res = run(imp.network, duration_s=t_end, inputs=imp.spike_input("x", times, chans))

    inputs = [(t, j, w_in[j, c] * dt) for t, c in zip(times, chans) for j in range(n)]
    conn = {i: [(k, w_rec[k, i] * dt, 0.5e-3) for k in range(n) if w_rec[k, i] != 0] for i in range(n)}
    ref, graze, _ = nir_cuba_reference([Layer(lif)], inputs, conn, t_end)
    assert graze > 1e-4
    got = _counts_and_times(res, imp, ["lif"])
    counts = np.array([s.size for s in ref])
    assert counts.sum() > 60 and (counts > 0).sum() >= n // 2
    assert res.counters["rec_events"] > 100  # the loop carries spikes
    np.testing.assert_array_equal([s.size for s in got], counts)
    err = max(float(np.max(np.abs(g - s), initial=0.0)) for g, s in zip(got, ref))
    assert err < 1e-10, err
    # the reference backend runs the imported graph to the same spikes
    slow = run(imp.network, duration_s=t_end, inputs=imp.spike_input("x", times, chans), backend="reference")
    np.testing.assert_array_equal(slow.spike_counts, res.spike_counts)
    np.testing.assert_allclose(slow.events["time_s"], res.events["time_s"], rtol=0, atol=1e-12)


def _snntorch_graph(rng, *, n_in=3, n_hid=6, n_out=2, alpha=0.8, beta=0.9, dt=1e-4):
    """What snnTorch's exporter writes for Linear -> RSynaptic(all_to_all) -> Linear -> Synaptic:
    tau_syn = dt / (1 - alpha), tau_mem = dt / (1 - beta), r = tau_mem / dt, w_in = tau_syn / dt,
    v_leak = 0, v_reset left out (zeros); the recurrent layer a subgraph input -> lif -> w_rec -> lif
    -> output; torch's Linear layers have biases (Affine)."""
    tau_syn, tau_mem = dt / (1 - alpha), dt / (1 - beta)

    def syn(n):
        return nir.CubaLIF(tau_syn=np.full(n, tau_syn), tau_mem=np.full(n, tau_mem), r=np.full(n, tau_mem / dt),
                           v_leak=np.zeros(n), v_threshold=np.ones(n), w_in=np.full(n, tau_syn / dt))  # fmt: skip

    q = lambda x: np.round(x * 256) / 256  # noqa: E731  float32-exact weights
    w1, b1 = q(rng.uniform(0.05, 0.3, (n_hid, n_in))), q(rng.uniform(0.0, 0.01, n_hid))
    w_rec, b_rec = q(rng.normal(0.0, 0.08, (n_hid, n_hid))), np.full(n_hid, 1 / 256)
    w2, b2 = q(rng.uniform(-0.1, 0.25, (n_out, n_hid))), np.zeros(n_out)
    rsyn = nir.NIRGraph(
        nodes={"input": nir.Input(input_type=np.array([n_hid])), "lif": syn(n_hid),
               "w_rec": nir.Affine(weight=w_rec, bias=b_rec), "output": nir.Output(output_type=np.array([n_hid]))},
        edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
    )  # fmt: skip
    graph = nir.NIRGraph(
        nodes={"input": nir.Input(input_type=np.array([n_in])), "fc1": nir.Affine(weight=w1, bias=b1), "rsyn": rsyn,
               "fc2": nir.Affine(weight=w2, bias=b2), "syn2": syn(n_out), "output": nir.Output(output_type=np.array([n_out]))},
        edges=[("input", "fc1"), ("fc1", "rsyn"), ("rsyn", "fc2"), ("fc2", "syn2"), ("syn2", "output")],
    )  # fmt: skip
    return graph, (w1, b1, w_rec, b_rec, w2, b2)


def test_an_snntorch_rsynaptic_network_imports_with_subtract_reset_and_matches_the_reference(rng):
    dt, t_end = 1e-4, 0.1
    graph, (w1, b1, w_rec, b_rec, w2, b2) = _snntorch_graph(rng)
    # without options: the assumptions are named, with the hint that this is snnTorch's layout
    with pytest.warns(NIRImportWarning, match=r"\['rsyn.lif', 'syn2'\] look like snnTorch's Synaptic/RSynaptic"):
        from_nir(graph, inputs="ports")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every option given: nothing assumed
        imp = from_nir(graph, dt_s=dt, reset="subtract", t_ref_s=0.0, delay_s=dt, inputs="ports")
    assert imp.resets == {"rsyn.lif": "subtract", "syn2": "subtract"} and imp.reset == "subtract"
    hid = imp.network.population("rsyn.lif")
    assert hid.model == Cuba(tau_syn_exc_s=dt / (1 - 0.8), reset="subtract")  # tau_syn = dt / (1 - alpha)
    # weight_volt = w_in r W dt / tau_mem = W tau_syn / dt = W / (1 - alpha): snnTorch's syn sum
    pre, post, w, _ = imp.network.csr().to_coo()
    rec = (pre < 6) & (post < 6)
    np.testing.assert_allclose(w[rec], w_rec[post[rec], pre[rec]] / 0.2, rtol=1e-7)
    np.testing.assert_allclose(hid.bias_current_amp, (b1 + b_rec) * 5.0, rtol=1e-15)  # w_in (b_fc1 + b_rec)

    times = np.sort(rng.uniform(0, t_end - 0.02, 150))
    chans = rng.integers(0, 3, times.size)
    res = run(imp.network, duration_s=t_end, inputs=imp.spike_input("input", times, chans))

    (hid_node,), (out_node,) = [graph.nodes["rsyn"].nodes["lif"]], [graph.nodes["syn2"]]
    layers = [Layer(hid_node, subtract=True, bias=b1 + b_rec), Layer(out_node, subtract=True, bias=b2)]
    inputs = [(t, j, w1[j, c] * dt) for t, c in zip(times, chans) for j in range(6)]
    conn = {i: [(k, w_rec[k, i] * dt, dt) for k in range(6) if w_rec[k, i] != 0]
               + [(6 + k, w2[k, i] * dt, dt) for k in range(2) if w2[k, i] != 0] for i in range(6)}  # fmt: skip
    ref, graze, _ = nir_cuba_reference(layers, inputs, conn, t_end)
    assert graze > 1e-4
    got = _counts_and_times(res, imp, ["rsyn.lif", "syn2"])
    counts = np.array([s.size for s in ref])
    assert counts[:6].sum() > 50 and counts[6:].sum() > 5 and res.counters["rec_events"] > 100
    np.testing.assert_array_equal([s.size for s in got], counts)
    err = max(float(np.max(np.abs(g - s), initial=0.0)) for g, s in zip(got, ref))
    assert err < 1e-10, err
    # in exact time V is continuous at a crossing, so V - (V_th - V_reset) = V_reset: the two resets
    # give the same spikes here (they differ for a step-based simulator's overshoot only)
    same = run(from_nir(graph, dt_s=dt, reset="value", t_ref_s=0.0, delay_s=dt, inputs="ports").network,
               duration_s=t_end, inputs=imp.spike_input("input", times, chans))  # fmt: skip
    np.testing.assert_array_equal(same.spike_counts, res.spike_counts)


def test_bias_onset_starts_the_synaptic_current_at_zero_as_snntorch_does(rng):
    """A biased Synaptic layer and a biased CubaLI readout: with imp.bias_onset() among the
    inputs, the run and the readout equal NIR's equations started from I(0) = 0."""
    dt, t_end, n_in, n, m = 1e-4, 0.04, 2, 4, 2
    tau_syn, tau_mem = dt / 0.25, dt / 0.1  # alpha = 0.75, beta = 0.9
    lif = _cuba_lif(n, tau_syn=tau_syn, tau_mem=tau_mem, r=tau_mem / dt, w_in=tau_syn / dt)
    li = nir.CubaLI(tau_syn=np.full(m, tau_syn), tau_mem=np.full(m, tau_mem), r=np.full(m, tau_mem / dt),
                    v_leak=np.zeros(m), w_in=np.full(m, tau_syn / dt))  # fmt: skip
    w1, b1 = np.round(rng.uniform(0.1, 0.3, (n, n_in)) * 256) / 256, np.array([0.03, 0.02, 0.0, -0.01])
    w2, b2 = np.round(rng.uniform(-0.2, 0.4, (m, n)) * 256) / 256, np.array([0.01, -0.02])
    graph = nir.NIRGraph(
        nodes={"x": nir.Input(input_type=np.array([n_in])), "fc1": nir.Affine(weight=w1, bias=b1), "lif": lif,
               "fc2": nir.Affine(weight=w2, bias=b2), "li": li, "y": nir.Output(output_type=np.array([m]))},
        edges=[("x", "fc1"), ("fc1", "lif"), ("lif", "fc2"), ("fc2", "li"), ("li", "y")],
    )  # fmt: skip
    imp = from_nir(graph, inputs="ports", **{**OPTS, "reset": "subtract", "delay_s": dt})
    onset = imp.bias_onset()
    assert [(s.population, s.neurons.tolist()) for s in onset] == [("lif", [0, 1, 3]), ("li", [0, 1])]
    times = np.sort(rng.uniform(0, t_end - 5e-3, 40))
    chans = rng.integers(0, n_in, times.size)
    stim = imp.spike_input("x", times, chans) + onset
    res = run(imp.network, duration_s=t_end, inputs=stim)
    grid = np.linspace(0.0, t_end, 81)
    v, cur = li_readout(imp.network, "li", res, grid, inputs=stim)

    layers = [Layer(lif, subtract=True, bias=b1), Layer(li, bias=b2)]
    inputs = [(t, j, w1[j, c] * dt) for t, c in zip(times, chans) for j in range(n)]
    conn = {i: [(n + k, w2[k, i] * dt, dt) for k in range(m)] for i in range(n)}
    ref, graze, (v_ref, i_ref) = nir_cuba_reference(layers, inputs, conn, t_end, samples=grid, current_from_zero=True)
    assert graze > 1e-4
    got = _counts_and_times(res, imp, ["lif"])
    counts = np.array([s.size for s in ref[:n]])
    assert counts.sum() > 20
    np.testing.assert_array_equal([s.size for s in got], counts)
    err = max(float(np.max(np.abs(g - s), initial=0.0)) for g, s in zip(got, ref[:n]))
    assert err < 1e-10, err
    np.testing.assert_allclose(cur[0], 0.0, atol=1e-15)  # the current starts at zero ...
    np.testing.assert_allclose(v, v_ref[:, n:], rtol=0, atol=1e-9)
    np.testing.assert_allclose(cur, i_ref[:, n:], rtol=0, atol=1e-9)
    # ... and without the onset inputs it starts at its steady state w_in b instead
    _, cur0 = li_readout(imp.network, "li", res, [0.0], inputs=stim[:-len(onset)])
    np.testing.assert_allclose(cur0[0], b2 * tau_syn / dt, rtol=1e-15)


# ---------------------------------------------------------------------------------------------
# round trips


def _cuba_network(rng) -> Network:
    base = LIFParams(c_m_farad=200e-12, g_leak_siemens=10e-9, e_leak_volt=-0.065, v_th_volt=-0.05,
                     v_reset_volt=-0.07, t_ref_s=2e-3)  # fmt: skip
    a = Population(name="A", size=12, params=base, model=Cuba(tau_syn_exc_s=5e-3, reset="subtract"),
                   per_neuron={"v_th_volt": rng.uniform(-0.052, -0.048, 12), "c_m_farad": rng.uniform(150e-12, 250e-12, 12)},
                   bias_current_amp=rng.uniform(0.1e-9, 0.3e-9, 12), v_init_volt=rng.uniform(-0.07, -0.05, 12))  # fmt: skip
    b = Population(name="B", size=8, params=base.replace(t_ref_s=1e-3), model=Cuba(tau_syn_exc_s=2e-3))
    lif = Population(name="L", size=8, params=base, bias_current_amp=0.2e-9)  # delta synapses, mixed in
    li = Population(name="R", size=3, params=base.replace(t_ref_s=0.0), model=Cuba(tau_syn_exc_s=8e-3, spiking=False))
    pre, post = rng.integers(0, 12, 40), rng.integers(0, 12, 40)
    projs = (
        Projection(pre="A", post="A", rule=Explicit(pre=pre, post=post, weight_volt=rng.normal(1e-3, 5e-4, 40),
                                                    delay_s=rng.choice([1e-3, 1.5e-3], 40)), delay_s=1e-3),  # fmt: skip
        Projection(pre="A", post="B", rule=FixedProbability(p=0.4), weight_volt=4e-3, delay_s=1e-3),
        Projection(pre="B", post="A", rule=FixedProbability(p=0.3), weight_volt=-2e-3, delay_s=2e-3),
        Projection(pre="B", post="L", rule=FixedProbability(p=0.5), weight_volt=3e-3, delay_s=1e-3),
        Projection(pre="L", post="B", rule=OneToOne(), weight_volt=1e-3, delay_s=1e-3),
        Projection(pre="A", post="R", rule=FixedProbability(p=0.5), weight_volt=lambda g, m: g.normal(0, 1e-3, m),
                   delay_s=1e-3),  # fmt: skip
    )
    return Network(populations=(a, b, lif, li), projections=projs, seed=5)


def _sorted_coo(net):
    pre, post, w, d = net.csr().to_coo()
    return np.sort(np.rec.fromarrays([pre, post.astype(np.int64), d, w], names="pre,post,d,w"), order=["pre", "post", "d", "w"])


def _same(a, b, where):
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (np.ndarray, np.generic, float, int)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=where)
    else:
        assert a == b, where


def _graphs_equal(g1, g2):
    """Same node names, edges, graph metadata, and per node the same type and every field."""
    assert set(g1.nodes) == set(g2.nodes)
    assert sorted(map(tuple, g1.edges)) == sorted(map(tuple, g2.edges))
    _same(g1.metadata, g2.metadata, "graph metadata")
    for name, n1 in g1.nodes.items():
        n2 = g2.nodes[name]
        assert type(n1) is type(n2), name
        d1, d2 = n1.to_dict(), n2.to_dict()
        assert set(d1) == set(d2), name
        for key in d1:
            _same(d1[key], d2[key], f"{name}.{key}")


def test_round_trip_neurochip_nir_neurochip_and_nir_neurochip_nir_are_exact(tmp_path, rng):
    net = _cuba_network(rng)
    with pytest.warns(NIRExportWarning):
        graph = write_nir(net, tmp_path / "cuba.nir")
    kinds = {k: type(v).__name__ for k, v in graph.nodes.items() if k in "ABLR"}
    assert kinds == {"A": "CubaLIF", "B": "CubaLIF", "L": "LIF", "R": "CubaLI"}
    assert np.array_equal(graph.nodes["A"].w_in, np.ones(12)) and graph.nodes["A"].tau_syn.tolist() == [5e-3] * 12
    back = nir.read(str(tmp_path / "cuba.nir"))
    _graphs_equal(graph, back)  # nir's own file round trip changes nothing

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neurochip's graph needs no assumption: resets are in the metadata
        imp = read_nir(tmp_path / "cuba.nir")
    assert imp.resets == {"A": "subtract", "B": "value", "L": "value", "R": "value"}
    for p1, p2 in zip(net.populations, imp.network.populations):
        assert (p1.name, p1.size, p1.model) == (p2.name, p2.size, p2.model)
        a1, a2 = p1.arrays(), p2.arrays()
        for key in NEURON_FIELDS:
            np.testing.assert_array_equal(a2[key], a1[key], err_msg=f"{p1.name}.{key}")
        np.testing.assert_array_equal(p2.initial_v(), p1.initial_v())
    np.testing.assert_array_equal(_sorted_coo(imp.network), _sorted_coo(net))
    r1 = run(net, duration_s=0.2, inputs=[])
    r2 = run(imp.network, duration_s=0.2, inputs=[])
    assert r1.spike_counts[:20].sum() > 50
    np.testing.assert_array_equal(r2.spike_counts, r1.spike_counts)
    np.testing.assert_array_equal(r2.events, r1.events)

    # NIR -> neurochip -> NIR: node for node, every field and the metadata
    with pytest.warns(NIRExportWarning):
        again = to_nir(imp.network)
    _graphs_equal(graph, again)


def test_a_foreign_cuba_graph_round_trips_with_w_in_folded_into_the_weights(rng):
    w = rng.uniform(0.1, 0.5, (3, 2))
    lif = _cuba_lif(3, tau_syn=2e-3, tau_mem=[3e-3, 5e-3, 7e-3], r=[2.0, 3.0, 5.0], v_leak=0.1, v_th=1.0,
                    v_reset=-0.2, w_in=[1.0, 4.0, 0.5])  # fmt: skip
    g = nir.NIRGraph(nodes={"x": nir.Input(input_type=np.array([2])), "fc": nir.Affine(weight=w, bias=np.full(3, 0.01)),
                            "lif": lif, "y": nir.Output(output_type=np.array([3]))},
                     edges=[("x", "fc"), ("fc", "lif"), ("lif", "y")])  # fmt: skip
    imp = from_nir(g, **OPTS)  # the Input node becomes a relay population "x"
    np.testing.assert_allclose(imp.network.population("lif").bias_current_amp, 0.01 * lif.w_in, rtol=1e-15)
    out = to_nir(imp.network, dt_s=1e-4)
    node = out.nodes["lif"]
    for key in ("tau_syn", "v_leak", "v_threshold", "v_reset"):
        np.testing.assert_array_equal(getattr(node, key), getattr(lif, key), err_msg=key)
    for key in ("tau_mem", "r"):  # C = tau_mem / r and back: a rounding of the last bit at most
        np.testing.assert_allclose(getattr(node, key), getattr(lif, key), rtol=3e-16, atol=0, err_msg=key)
    # w_in goes into the weights and the bias: W' = w_in W (to float32, the synapses' precision)
    np.testing.assert_allclose(out.nodes["x__lif__w"].weight, lif.w_in[:, None] * w, rtol=1e-7)
    np.testing.assert_allclose(out.nodes["x__lif__w"].bias, 0.01 * lif.w_in, rtol=1e-15)
    assert node.w_in.tolist() == [1.0, 1.0, 1.0] and node.metadata["neurochip"]["model"]["reset"] == "value"
    # the second import gives the same network as the first: the representation is a fixed point
    imp2 = from_nir(out, **{**OPTS, "reset": None})
    for p1, p2 in zip(imp.network.populations, imp2.network.populations):
        assert p1.model == p2.model
        for key in NEURON_FIELDS:
            np.testing.assert_array_equal(p1.arrays()[key], p2.arrays()[key], err_msg=key)


# ---------------------------------------------------------------------------------------------
# errors and options


def _with(node, **changes):
    for key, value in changes.items():
        setattr(node, key, value)  # nir checks shapes in __post_init__ only: a file or a later edit can break them
    return nir.NIRGraph(nodes={"x": nir.Input(input_type=np.array([2])), "fc": nir.Linear(weight=np.eye(2)),
                               "lif": node, "y": nir.Output(output_type=np.array([2]))},
                        edges=[("x", "fc"), ("fc", "lif"), ("lif", "y")], type_check=False)  # fmt: skip


def test_bad_cuba_nodes_name_the_node_and_the_field():
    lif = lambda: _cuba_lif(2, tau_syn=1e-3, tau_mem=2e-3, r=1.0)  # noqa: E731
    with pytest.raises(InvalidParameterError, match=r"NIR node 'lif' \(CubaLIF\): tau_syn\[1\] = -0.001: must be > 0"):
        from_nir(_with(lif(), tau_syn=np.array([1e-3, -1e-3])), **OPTS)
    with pytest.raises(InvalidParameterError, match=r"NIR node 'lif' \(CubaLIF\): tau_mem\[0\] = 0.0: must be > 0"):
        from_nir(_with(lif(), tau_mem=np.array([0.0, 1e-3])), **OPTS)
    with pytest.raises(InvalidParameterError, match=r"NIR node 'lif' \(CubaLIF\): w_in has shape \(3,\), tau_mem \(2,\)"):
        from_nir(_with(lif(), w_in=np.ones(3)), **OPTS)
    with pytest.raises(InvalidParameterError, match=r"NIR node 'lif' \(CubaLIF\): v_threshold has shape \(1,\)"):
        from_nir(_with(lif(), v_threshold=np.ones(1)), **OPTS)
    with pytest.raises(InvalidParameterError, match=r"NIR node 'lif' \(CubaLIF\): tau_syn\[1\] = 0.002 differs from "
                       r"tau_syn\[0\] = 0.001: .* one tau_syn per population"):  # fmt: skip
        from_nir(_with(lif(), tau_syn=np.array([1e-3, 2e-3])), **OPTS)
    with pytest.raises(InvalidParameterError, match=r"NIR node 'lif' \(CubaLIF\): v_reset\[0\] = 1.0 must be < v_threshold"):
        from_nir(_with(lif(), v_reset=np.ones(2)), **OPTS)
    li = nir.CubaLI(tau_syn=np.ones(2), tau_mem=np.ones(2), r=np.ones(2), v_leak=np.zeros(2))
    with pytest.raises(InvalidParameterError, match=r"NIR node 'lif' \(CubaLI\): r\[0\] = -1.0: must be > 0"):
        from_nir(_with(li, r=np.array([-1.0, 1.0])), **OPTS)
    # an edge of the wrong width names both ends
    g = nir.NIRGraph(nodes={"x": nir.Input(input_type=np.array([2])), "fc": nir.Linear(weight=np.ones((3, 2))),
                            "lif": lif()}, edges=[("x", "fc"), ("fc", "lif")], type_check=False)  # fmt: skip
    with pytest.raises(InvalidParameterError, match=r"NIR edge 'fc' -> 'lif': shape mismatch: 'fc' \(Linear\) outputs "
                       r"3 values, 'lif' \(CubaLIF\) takes 2"):  # fmt: skip
        from_nir(g, **OPTS)
    # a CubaLI feeding a neuron is refused as LI is
    li = nir.CubaLI(tau_syn=np.ones(2), tau_mem=np.ones(2), r=np.ones(2), v_leak=np.zeros(2))
    g = nir.NIRGraph.from_list(nir.Linear(np.eye(2)), li, nir.Linear(np.eye(2)), lif())
    with pytest.raises(InvalidParameterError, match=r"'cubali' \(CubaLI\): .* may only feed Output nodes"):
        from_nir(g, **OPTS)


def test_reset_options_per_node_and_their_errors():
    lif = nir.LIF(tau=np.full(2, 1e-3), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2), v_reset=np.zeros(2))
    cuba = _cuba_lif(2, tau_syn=1e-3, tau_mem=2e-3, r=1.0)
    g = nir.NIRGraph.from_list(nir.Linear(np.eye(2)), lif, nir.Linear(np.eye(2)), cuba)
    opts = {k: v for k, v in OPTS.items() if k != "reset"}
    with pytest.raises(InvalidParameterError, match=r"NIR node 'lif' \(LIF\): reset = 'subtract' is not supported.*dict"):
        from_nir(g, reset="subtract", **opts)
    imp = from_nir(g, reset={"cubalif": "subtract"}, **opts)
    assert imp.resets == {"lif": "value", "cubalif": "subtract"} and imp.reset == {"cubalif": "subtract"}
    assert imp.network.population("cubalif").model.reset == "subtract" and imp.network.population("lif").model is None
    with pytest.raises(InvalidParameterError, match=r"reset: \['nope'\] are not neuron nodes"):
        from_nir(g, reset={"nope": "value"}, **opts)
    with pytest.raises(InvalidParameterError, match=r"reset\['cubalif'\] = 'zero': must be one of"):
        from_nir(g, reset={"cubalif": "zero"}, **opts)


def test_export_refuses_what_cuba_lif_cannot_express():
    p = LIFParams(t_ref_s=0.0)
    two = Network(populations=(Population(name="e", size=2, params=p, model=Cuba(tau_syn_exc_s=5e-3, tau_syn_inh_s=1e-2)),))
    with pytest.raises(InvalidParameterError, match=r"population 'e': tau_syn_exc_s = 0.005 != tau_syn_inh_s = 0.01: "
                       r"NIR's CubaLIF and CubaLI have one synaptic current"):  # fmt: skip
        to_nir(two)
    pif = Network(populations=(Population(name="p", size=2, params=p.replace(g_leak_siemens=0.0),
                                          model=Cuba(tau_syn_exc_s=5e-3)),))  # fmt: skip
    with pytest.raises(InvalidParameterError, match=r"population 'p': neuron 0: g_leak_siemens = 0.0: NIR's CubaLIF"):
        to_nir(pif)


def test_li_readout_checks_its_arguments(rng):
    net = _cuba_network(rng)
    res = run(net, duration_s=0.01)
    with pytest.raises(InvalidParameterError, match=r"population 'A': li_readout reads leaky integrators"):
        li_readout(net, "A", res, [0.0])
    with pytest.raises(InvalidParameterError, match=r"times_s: must be a 1-d array of times in \[0, 0.01\]"):
        li_readout(net, "R", res, [0.02])
    with pytest.raises(InvalidParameterError, match="record=True"):
        li_readout(net, "R", run(net, duration_s=0.05, record=False), [0.0])
    from neurochip.network import PoissonInput

    with pytest.raises(InvalidParameterError, match="PoissonInput into population 'R'"):
        li_readout(net, "R", res, [0.0], inputs=[PoissonInput(population="R", rate_hz=10.0, weight_volt=1e-3)])
    # a readout of a neuron with no input relaxes from V_init to V_inf; one kick adds the kernel
    kick = SpikeTimesInput(population="R", times_s=[0.002], neurons=[1], weight_volt=[1e-3])
    v, _ = li_readout(net, "R", res, [0.0], inputs=[kick])
    np.testing.assert_array_equal(v[0], net.population("R").initial_v())


def test_the_readout_docstring_example_runs():
    import doctest

    from neurochip.network import readout

    result = doctest.testmod(readout, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0
