"""NIR import and export: the parameter mapping, round trips, a graph built with nir's own
classes run in the emulator against an independent event-driven NumPy solution of NIR's
equations, and the errors."""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass

import nir
import numpy as np
import pytest

from neurochip.emulator import run
from neurochip.errors import InvalidParameterError
from neurochip.lif import LIFParams
from neurochip.network import (
    NEURON_FIELDS,
    Explicit,
    FixedInDegree,
    FixedProbability,
    Network,
    OneToOne,
    Population,
    Projection,
)
from neurochip.network.nir_io import (
    LI_THRESHOLD_VOLT,
    NIRExportWarning,
    NIRImportWarning,
    from_nir,
    read_nir,
    to_nir,
    write_nir,
)

OPTS = {"dt_s": 1e-4, "reset": "value", "t_ref_s": 0.0, "delay_s": 1e-3}  # nothing assumed


def _lif(n, *, tau=1e-3, r=10.0, v_leak=0.0, v_th=1.0, v_reset=0.0):
    full = lambda x: np.broadcast_to(np.asarray(x, float), (n,)).copy()  # noqa: E731
    return nir.LIF(tau=full(tau), r=full(r), v_leak=full(v_leak), v_threshold=full(v_th), v_reset=full(v_reset))


# ---------------------------------------------------------------------------------------------
# round trip


def _rich_network(rng: np.random.Generator) -> Network:
    base = LIFParams(c_m_farad=200e-12, g_leak_siemens=10e-9, e_leak_volt=-0.065, v_th_volt=-0.05,
                     v_reset_volt=-0.07, t_ref_s=2e-3)  # fmt: skip
    a = Population(
        name="A",
        size=20,
        params=base,
        per_neuron={"v_th_volt": rng.uniform(-0.052, -0.048, 20), "c_m_farad": rng.uniform(150e-12, 250e-12, 20)},
        bias_current_amp=rng.uniform(0, 0.2e-9, 20),
        v_init_volt=rng.uniform(-0.07, -0.05, 20),
    )
    b = Population(name="B", size=15, params=base.replace(t_ref_s=1e-3))
    c = Population(name="C", size=15, params=LIFParams(g_leak_siemens=0.0, t_ref_s=0.5e-3), bias_current_amp=1e-12)
    pre = rng.integers(0, 20, 60)
    post = rng.integers(0, 20, 60)
    w = rng.normal(2e-4, 5e-5, 60)
    w[3] = 0.0  # a zero-weight synapse is still a synapse
    projs = (
        Projection(pre="A", post="B", rule=FixedInDegree(k=6), weight_volt=lambda g, m: g.normal(1e-3, 2e-4, m),
                   delay_s=1.5e-3),  # fmt: skip
        Projection(pre="B", post="A", rule=FixedProbability(p=0.2), weight_volt=-1e-3, delay_s=2e-3),
        Projection(pre="A", post="A", rule=Explicit(pre=pre, post=post, weight_volt=w,
                                                    delay_s=rng.choice([1e-3, 1.25e-3], 60)), delay_s=1e-3),  # fmt: skip
        Projection(pre="B", post="C", rule=OneToOne(), weight_volt=5e-4, delay_s=1e-3),
    )
    return Network(populations=(a, b, c), projections=projs, seed=11)


def _sorted_coo(net: Network) -> np.ndarray:
    pre, post, w, d = net.csr().to_coo()
    out = np.rec.fromarrays([pre, post.astype(np.int64), d, w], names="pre,post,d,w")
    return np.sort(out, order=["pre", "post", "d", "w"])


def _graphs_equal(g1, g2) -> None:
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


def _same(a, b, where) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (np.ndarray, np.generic, float, int)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=where)
    else:
        assert a == b, where


def test_round_trip_preserves_every_parameter_and_every_synapse(tmp_path, rng):
    net = _rich_network(rng)
    with pytest.warns(NIRExportWarning, match="no refractory period"):
        graph = write_nir(net, tmp_path / "net.nir")
    back = nir.read(str(tmp_path / "net.nir"))
    _graphs_equal(graph, back)  # what neurochip writes, nir.read gives back unchanged

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a neurochip graph needs no assumption
        imp = from_nir(back)
    assert [p.name for p in imp.network.populations] == ["A", "B", "C"]
    a1, a2 = net.neuron_arrays(), imp.network.neuron_arrays()
    for key in (*NEURON_FIELDS, "v_init_volt"):
        np.testing.assert_array_equal(a2[key], a1[key], err_msg=key)
    c1, c2 = _sorted_coo(net), _sorted_coo(imp.network)
    assert c1.size == net.csr().n_synapses == c2.size
    np.testing.assert_array_equal(c2, c1)
    # multapses really occurred (FixedInDegree draws with replacement) and were kept apart
    pre, post, _, _ = net.csr().to_coo()
    pairs = pre * net.n_neurons + post
    assert np.unique(pairs).size < pairs.size
    assert isinstance(back.nodes["C"], nir.IF) and isinstance(back.nodes["A"], nir.LIF)
    # the NIR fields themselves carry the dynamics: tau = C/g, r = 1/g
    np.testing.assert_allclose(back.nodes["A"].tau, a1["c_m_farad"][:20] / a1["g_leak_siemens"][:20], rtol=1e-15)
    # bias rides on an Affine node
    affine = [k for k, v in back.nodes.items() if isinstance(v, nir.Affine)]
    assert affine


def test_reading_back_the_file_gives_the_same_network_through_read_nir(tmp_path, rng):
    net = _rich_network(rng)
    with pytest.warns(NIRExportWarning):
        write_nir(net, tmp_path / "n.nir", dt_s=1e-3)
    imp = read_nir(tmp_path / "n.nir")
    assert imp.dt_s == 1e-3
    np.testing.assert_array_equal(_sorted_coo(imp.network), _sorted_coo(net))
    # the emulator gives the same spikes for the original and the re-imported network
    leaky = Network(populations=net.populations[:2], projections=net.projections[:3], seed=11)
    with pytest.warns(NIRExportWarning):
        again = from_nir(to_nir(leaky)).network
    r1 = run(leaky, duration_s=0.2)
    r2 = run(again, duration_s=0.2)
    assert r1.spike_counts.sum() > 20
    np.testing.assert_array_equal(r1.spike_counts, r2.spike_counts)


# ---------------------------------------------------------------------------------------------
# a graph built with nir's classes, against an independent solution of NIR's equations


def _reference_layer(tau, r, v_leak, v_th, v_reset, bias, arrivals, t_end):
    """Exact event-driven solution of tau dv/dt = (v_leak - v) + r b with jumps, per neuron.

    ``arrivals[i]`` is a time-sorted list of (t, dv); jumps arriving at the same instant are
    summed before the threshold test (as in a discrete-time NIR step, and as the emulator does).
    Spike when v > v_th (drift crossings by the closed form), then v = v_reset.  Returns spike times per neuron and the smallest
    distance |v - v_th| right after a jump (to show the comparison is not knife-edge)."""
    spikes, margin = [], math.inf
    for i in range(len(tau)):
        vinf = v_leak[i] + r[i] * bias[i]
        v, t, out = v_leak[i], 0.0, []
        merged: list[list[float]] = []
        for ta, dv in arrivals[i]:
            if merged and merged[-1][0] == ta:
                merged[-1][1] += dv
            else:
                merged.append([ta, dv])
        for ta, dv in [*merged, (t_end, 0.0)]:
            while vinf > v_th[i]:
                tc = t + tau[i] * math.log((vinf - v) / (vinf - v_th[i]))
                if tc >= ta:
                    break
                out.append(tc)
                v, t = v_reset[i], tc
            v = vinf + (v - vinf) * math.exp(-(ta - t) / tau[i])
            t = ta
            if ta >= t_end:
                break
            v += dv
            margin = min(margin, abs(v - v_th[i]))
            if v > v_th[i]:
                out.append(ta)
                v = v_reset[i]
        spikes.append(np.array(out))
    return spikes, margin


@pytest.mark.parametrize("inputs", ["populations", "ports"])
def test_feed_forward_graph_from_nir_classes_runs_and_matches_numpy(rng, inputs):
    dt, delay, t_end = 1e-4, 1e-3, 0.08
    n_in, n1, n2 = 3, 4, 2
    tau1 = np.array([2e-3, 3e-3, 5e-3, 4e-3])
    r1 = np.array([20.0, 30.0, 50.0, 40.0])  # r dt / tau = 1: a spike through W moves v by W
    tau2 = np.array([6e-3, 8e-3])
    r2 = np.array([30.0, 80.0])  # r dt / tau = 0.5 and 1
    w1 = rng.uniform(0.25, 0.7, (n1, n_in))
    b1 = np.array([0.01, 0.02, 0.004, 0.032])  # v_inf = 0.2, 0.6, 0.2, 1.28 (the last fires alone)
    w2 = rng.uniform(0.3, 0.9, (n2, n1))
    w2[1, 2] = -0.4
    b2 = np.array([0.0, 0.005])
    graph = nir.NIRGraph(
        nodes={
            "x": nir.Input(input_type=np.array([n_in])),
            "fc1": nir.Affine(weight=w1, bias=b1),
            "lif1": nir.LIF(tau=tau1, r=r1, v_leak=np.zeros(n1), v_threshold=np.ones(n1), v_reset=np.zeros(n1)),
            "fc2": nir.Affine(weight=w2, bias=b2),
            "lif2": nir.LIF(tau=tau2, r=r2, v_leak=np.zeros(n2), v_threshold=np.full(n2, 1.0),
                            v_reset=np.full(n2, -0.2)),  # fmt: skip
            "y": nir.Output(output_type=np.array([n2])),
        },
        edges=[("x", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "y")],
    )
    imp = from_nir(graph, inputs=inputs, **OPTS)
    assert imp.outputs == {"y": ("lif2",)}
    times = np.sort(rng.uniform(0, t_end - delay, 3 * 25))
    chans = rng.integers(0, n_in, times.size)
    res = run(imp.network, duration_s=t_end, inputs=imp.spike_input("x", times, chans))
    # relay neurons (one per input channel) fire at the input times, then their synapses add a delay
    lag = delay if inputs == "populations" else 0.0
    n_relay = n_in if inputs == "populations" else 0
    assert [p.name for p in imp.network.populations] == ["x", "lif1", "lif2"][(inputs == "ports"):]
    for c in range(n_relay):
        np.testing.assert_array_equal(res.spike_times(c), times[chans == c])

    # reference, written from NIR's equations: jump = r W dt / tau, constant current = bias
    arr1 = [[(t + lag, r1[i] * w1[i, c] * dt / tau1[i]) for t, c in zip(times, chans)] for i in range(n1)]
    s1, m1 = _reference_layer(tau1, r1, np.zeros(n1), np.ones(n1), np.zeros(n1), b1, arr1, t_end)
    ev = sorted((t + delay, j) for j in range(n1) for t in s1[j])
    arr2 = [[(t, r2[i] * w2[i, j] * dt / tau2[i]) for t, j in ev] for i in range(n2)]
    s2, m2 = _reference_layer(tau2, r2, np.zeros(n2), np.ones(n2), np.full(n2, -0.2), b2, arr2, t_end)
    assert min(m1, m2) > 1e-6  # no jump lands near threshold: counts are robust
    expected = np.array([s.size for s in s1 + s2])
    assert expected[:n1].min() > 0 and expected[n1:].sum() > 5  # both layers are active
    np.testing.assert_array_equal(res.spike_counts[n_relay:], expected)
    # synapses store float32 weights (relative rounding <= 6e-8): a jump off by ~1e-8 V moves a
    # later drift crossing (slope >= ~10 V/s here) by ~1e-9 s at most; counts are unaffected
    for k, s in enumerate(s1 + s2):
        np.testing.assert_allclose(res.spike_times(n_relay + k), s, rtol=0, atol=1e-8)


def test_an_snntorch_style_graph_with_flatten_imports_with_unit_jumps():
    # snnTorch's exporter: dt = 1e-4, tau = dt / (1 - beta), r = tau / dt, so r dt / tau = 1
    beta, dt = 0.9, 1e-4
    tau = dt / (1 - beta)
    graph = nir.NIRGraph(
        nodes={"input": nir.Input(input_type=np.array([1, 2, 3])), "flatten": nir.Flatten(input_type={"input": np.array([1, 2, 3])}, start_dim=0),
               "fc": nir.Affine(weight=np.arange(12.0).reshape(2, 6) / 10, bias=np.zeros(2)),
               "lif": nir.LIF(tau=np.full(2, tau), r=np.full(2, tau / dt), v_leak=np.zeros(2), v_threshold=np.ones(2)),
               "output": nir.Output(output_type=np.array([2]))},  # fmt: skip
        edges=[("input", "flatten"), ("flatten", "fc"), ("fc", "lif"), ("lif", "output")],
    )
    imp = from_nir(graph, inputs="ports", **OPTS)
    (stim,) = imp.spike_input("input", [0.0], [4])
    np.testing.assert_array_equal(stim.neurons, [0, 1])
    np.testing.assert_allclose(stim.weight_volt, [0.4, 1.0], rtol=1e-12)  # W[:, 4], unscaled


def test_assumptions_are_warned_and_recorded():
    graph = nir.NIRGraph.from_list(nir.Affine(weight=np.eye(2), bias=np.zeros(2)), _lif(2), nir.Linear(np.eye(2)), _lif(2))
    with pytest.warns(NIRImportWarning) as rec:
        imp = from_nir(graph)
    text = str(rec[0].message)
    # without a profile: NIR's own convention, a spike is a unit-area Dirac pulse (dt_s = 1), named
    for what in ("dt_s = 1.0 s: NIR's own convention, a spike is a unit-area Dirac pulse", "reset = 'value'",
                 "t_ref_s = 0", "delay_s = 1.0"):
        assert what in text
    assert len(imp.assumed) == 4 and imp.dt_s == 1.0 and imp.delay_s == 1.0
    # a Dirac pulse of area 1 through W moves the membrane by r W / tau (no dt factor)
    lif = graph.nodes["lif"]
    expected = (lif.r * 1.0 / lif.tau).astype(np.float32)
    np.testing.assert_array_equal(np.sort(imp.network.csr().weights), np.sort(np.r_[expected, expected]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from_nir(graph, **OPTS)


def test_mapping_of_lif_if_li_scale_and_delay():
    # LIF: C = tau / r, g = 1 / r; IF: C = 1 / r, g = 0; LI never fires
    graph = nir.NIRGraph(
        nodes={
            "x": nir.Input(input_type=np.array([2])),
            "lif": _lif(2, tau=2e-3, r=4.0, v_leak=0.1, v_th=0.9, v_reset=0.05),
            "s": nir.Scale(scale=np.array([2.0, -1.0])),
            "w": nir.Linear(weight=np.array([[1.0, 0.0], [0.5, 3.0]])),
            "d": nir.Delay(delay=np.array([1e-3, 2e-3])),
            "if": nir.IF(r=np.array([2.0, 5.0]), v_threshold=np.ones(2), v_reset=np.zeros(2)),
            "li": nir.LI(tau=np.full(2, 1e-3), r=np.ones(2), v_leak=np.zeros(2)),
            "y": nir.Output(output_type=np.array([2])),
        },
        edges=[("x", "lif"), ("lif", "s"), ("s", "w"), ("w", "d"), ("d", "if"), ("lif", "li"), ("li", "y"),
               ("if", "y")],  # fmt: skip
    )
    imp = from_nir(graph, inputs="ports", **OPTS)
    net = imp.network
    lif = net.population("lif").arrays()
    np.testing.assert_allclose(lif["c_m_farad"], 2e-3 / 4.0, rtol=1e-15)
    np.testing.assert_allclose(lif["g_leak_siemens"], 0.25, rtol=1e-15)
    assert lif["e_leak_volt"][0] == 0.1 and lif["v_th_volt"][0] == 0.9 and lif["v_reset_volt"][0] == 0.05
    iff = net.population("if").arrays()
    np.testing.assert_allclose(iff["c_m_farad"], [0.5, 0.2], rtol=1e-15)
    assert (iff["g_leak_siemens"] == 0).all()
    assert (net.population("li").arrays()["v_th_volt"] == LI_THRESHOLD_VOLT).all()
    pre, post, w, d = net.csr().to_coo()
    off_if = net.offset("if")
    syn = {(int(a), int(b) - off_if): (float(x), float(y)) for a, b, x, y in zip(pre, post, w, d) if b >= off_if
           and b < off_if + 2}  # fmt: skip
    # W_total = W diag(s): [[2, 0], [1, -3]]; jump = r * W * dt (IF), delays per target row
    dt = 1e-4
    expected = {(0, 0): (2.0 * 2.0 * dt, 1e-3), (0, 1): (5.0 * 1.0 * dt, 2e-3), (1, 1): (5.0 * -3.0 * dt, 2e-3)}
    assert set(syn) == set(expected)
    for k, (wv, dv) in expected.items():
        assert syn[k][0] == pytest.approx(wv, rel=1e-6) and syn[k][1] == dv
    # input port: x -> lif directly, jump r dt / tau = 4 * 1e-4 / 2e-3 = 0.2 V, no delay
    (stim,) = imp.spike_input("x", [0.01, 0.02], [1, 0])
    assert stim.population == "lif"
    np.testing.assert_array_equal(stim.neurons, [1, 0])
    np.testing.assert_allclose(stim.weight_volt, 0.2, rtol=1e-12)
    np.testing.assert_array_equal(stim.times_s, [0.01, 0.02])
    assert imp.outputs["y"] == ("if", "li")


def test_subgraphs_are_flattened_with_dotted_names():
    inner = nir.NIRGraph(
        nodes={"in": nir.Input(input_type=np.array([3])), "fc": nir.Affine(weight=np.full((2, 3), 0.5), bias=np.zeros(2)),
               "lif": _lif(2), "out": nir.Output(output_type=np.array([2]))},  # fmt: skip
        edges=[("in", "fc"), ("fc", "lif"), ("lif", "out")],
    )
    graph = nir.NIRGraph(
        nodes={"x": nir.Input(input_type=np.array([3])), "a": _lif(3), "sub": inner, "fc": nir.Linear(np.ones((1, 2))),
               "b": _lif(1), "y": nir.Output(output_type=np.array([1]))},  # fmt: skip
        edges=[("x", "a"), ("a", "sub"), ("sub", "fc"), ("fc", "b"), ("b", "y")],
    )
    imp = from_nir(graph, **OPTS)
    assert [p.name for p in imp.network.populations] == ["x", "a", "sub.lif", "b"]
    pre, post, w, _ = imp.network.csr().to_coo()
    assert pre.size == 3 + 3 * 2 + 2  # x -> a one to one, a -> sub.lif, sub.lif -> b
    inner = (post >= 6) & (post < 8)
    assert inner.sum() == 6
    np.testing.assert_allclose(w[inner], 0.5, rtol=1e-6)  # r dt / tau = 1


# ---------------------------------------------------------------------------------------------
# errors


@dataclass(eq=False)
class Mystery(nir.NIRNode):
    """A node type no table knows (nir 1.0 has no class neurochip does not handle)."""

    value: np.ndarray

    def __post_init__(self):
        self.input_type = {"input": np.array(self.value.shape)}
        self.output_type = {"output": np.array(self.value.shape)}


def test_unsupported_and_refused_nodes_are_named():
    # a Threshold that fires with no input (threshold <= 0, or a bias above it) would be a clock
    thr = nir.NIRGraph.from_list(nir.Linear(np.eye(2)), nir.Threshold(threshold=np.array([1.0, 0.0])), type_check=False)
    with pytest.raises(InvalidParameterError, match=r"NIR node 'threshold' \(Threshold\): threshold\[1\] = 0.0: must "
                                                    r"be > 0; with no input .* fires at every time step"):
        from_nir(thr, **OPTS)
    thr = nir.NIRGraph.from_list(nir.Affine(np.eye(2), np.array([0.5, 1.5])), nir.Threshold(threshold=np.ones(2)),
                                 type_check=False)  # fmt: skip
    with pytest.raises(InvalidParameterError, match=r"NIR node 'threshold' \(Threshold\): its input's bias 1.5 at \[1\] "
                                                    r"exceeds the threshold 1.0: it would fire at every time step"):
        from_nir(thr, **OPTS)
    odd = nir.NIRGraph.from_list(nir.Linear(np.eye(2)), Mystery(np.ones(2)), type_check=False)
    with pytest.raises(InvalidParameterError, match=r"NIR node 'mystery' \(Mystery\): unsupported node type"):
        from_nir(odd, **OPTS)


def test_shape_mismatch_names_both_ends_of_the_edge():
    g = nir.NIRGraph(
        nodes={"x": nir.Input(input_type=np.array([3])), "fc": nir.Linear(np.ones((2, 4))), "lif": _lif(2)},
        edges=[("x", "fc"), ("fc", "lif")],
        type_check=False,
    )
    with pytest.raises(InvalidParameterError, match=r"NIR edge 'x' -> 'fc': shape mismatch: 'x' \(Input\) outputs 3 "
                       r"values, 'fc' \(Linear\) takes 4"):  # fmt: skip
        from_nir(g, **OPTS)


def test_subtract_reset_li_feeding_a_neuron_and_bad_files_are_refused(tmp_path):
    g = nir.NIRGraph.from_list(nir.Linear(np.eye(2)), _lif(2))
    with pytest.raises(InvalidParameterError, match=r"NIR node 'lif' \(LIF\): reset = 'subtract' is not supported"):
        from_nir(g, dt_s=1e-4, reset="subtract")
    li = nir.NIRGraph.from_list(
        nir.Linear(np.eye(2)), nir.LI(tau=np.ones(2), r=np.ones(2), v_leak=np.zeros(2)), nir.Linear(np.eye(2)), _lif(2)
    )
    with pytest.raises(InvalidParameterError, match=r"'li' \(LI\): .* may only feed Output nodes"):
        from_nir(li, **OPTS)
    loop = nir.NIRGraph(
        nodes={"x": nir.Input(input_type=np.array([2])), "a": nir.Linear(np.eye(2)), "b": nir.Linear(np.eye(2)),
               "lif": _lif(2)},  # fmt: skip
        edges=[("x", "a"), ("a", "b"), ("b", "a"), ("b", "lif")],
        type_check=False,
    )
    with pytest.raises(InvalidParameterError, match="algebraic loop"):
        from_nir(loop, **OPTS)
    bad = _lif(2, v_reset=2.0)
    with pytest.raises(InvalidParameterError, match=r"'lif' \(LIF\): v_reset\[0\] = 2.0 must be < v_threshold"):
        from_nir(nir.NIRGraph.from_list(nir.Linear(np.eye(2)), bad), **OPTS)
    (tmp_path / "junk.nir").write_text("not hdf5")
    from neurochip.errors import ConfigError

    with pytest.raises(ConfigError, match="junk.nir: cannot read as an NIR graph"):
        read_nir(tmp_path / "junk.nir")


def test_export_refuses_what_nir_cannot_express():
    net = Network(populations=(Population(name="a", size=2, params=LIFParams(adapt_increment_amp=1e-12)),))
    with pytest.raises(InvalidParameterError, match="population 'a': adapt_increment_amp != 0"):
        to_nir(net)
    mixed = Network(populations=(Population(name="m", size=2, per_neuron={"g_leak_siemens": [0.0, 1e-9]}),))
    with pytest.raises(InvalidParameterError, match="mixes leaky and non-leaky"):
        to_nir(mixed)


def test_if_nodes_run_with_the_leak_approximation_and_count_exactly():
    # IF: dv/dt = r I; each input moves v by r * W * dt = 2 * 1500 * 1e-4 = 0.3, threshold 1, reset 0:
    # the 4th, 8th, ... input fires (leak of tau = 1e6 s changes v by < 1e-6 over the run)
    graph = nir.NIRGraph.from_list(nir.Linear(np.full((1, 1), 1500.0)),
                                   nir.IF(r=np.array([2.0]), v_threshold=np.ones(1), v_reset=np.zeros(1)))  # fmt: skip
    exact = from_nir(graph, **OPTS)
    assert exact.network.population("if").arrays()["g_leak_siemens"][0] == 0.0
    imp = from_nir(graph, if_tau_s=1e6, inputs="ports", **OPTS)
    times = np.linspace(0.001, 0.099, 37)
    port = next(iter(imp.inputs))
    res = run(imp.network, duration_s=0.1, inputs=imp.spike_input(port, times, np.zeros(37, int)))
    assert res.spike_counts[0] == 37 // 4
    np.testing.assert_array_equal(res.spike_times(0), times[3::4])


def test_export_ports_and_their_errors(tmp_path):
    lone = Network(populations=(Population(name="a", size=3, bias_current_amp=1e-10), Population(name="b", size=2)))
    with pytest.warns(NIRExportWarning, match=r"t_ref_s of \['a', 'b'\]"):
        g = to_nir(lone, dt_s=1e-3)
    assert {k: type(v).__name__ for k, v in g.nodes.items()} == {
        "a": "LIF", "b": "LIF", "input_a": "Input", "input_a__bias": "Affine", "input_b": "Input",
        "output_a": "Output", "output_b": "Output",
    }  # fmt: skip
    np.testing.assert_array_equal(g.nodes["input_a__bias"].bias, np.full(3, 1e-10))
    imp = from_nir(g)
    assert [p.name for p in imp.network.populations] == ["a", "b"] and imp.network.csr().n_synapses == 0
    np.testing.assert_array_equal(imp.network.population("a").bias_current_amp, 1e-10)
    # a port delivers r dt / tau = dt / C per unit of input at once
    (stim,) = imp.spike_input("input_b", [0.5], [1])
    assert stim.population == "b" and stim.neurons.tolist() == [1]
    assert stim.weight_volt[0] == pytest.approx(1e-3 / LIFParams().c_m_farad)
    lone = Network(populations=(Population(name="a", size=3, bias_current_amp=1e-10, params=LIFParams(t_ref_s=0)),))
    with pytest.raises(InvalidParameterError, match=r"population 'zz' \(in inputs/outputs\): not in the network"):
        to_nir(lone, inputs=["zz"])
    with pytest.raises(InvalidParameterError, match="population 'a': has a bias current but neither"):
        to_nir(lone, inputs=[])


# ---------------------------------------------------------------------------------------------
# the table of node handlers


def _one_of_each() -> dict[str, tuple[object, object]]:
    """For each supported node type: a node of it (2 values wide) and what importing
    Input(2) -> node -> LIF(2) -> Output (chain nodes) or Input(2) -> node -> Output (neuron
    nodes) as ports must give: the population's name, or the (neurons, weights, times) of the
    jumps one input spike on channel 0 at t = 0 delivers to the LIF population (r dt / tau = 1),
    and the LIF population's bias current."""
    w = np.array([[0.5, 0.0], [0.25, 1.0]])
    plain = ([0], [1.0], [0.0], [0.0, 0.0])
    return {
        "Input": (nir.Input(input_type=np.array([2])), plain),
        "Output": (nir.Output(output_type=np.array([2])), plain),
        "LIF": (_lif(2), "lif"),
        "IF": (nir.IF(r=np.ones(2), v_threshold=np.ones(2), v_reset=np.zeros(2)), "if"),
        "LI": (nir.LI(tau=np.ones(2), r=np.ones(2), v_leak=np.zeros(2)), "li"),
        "CubaLIF": (nir.CubaLIF(tau_syn=np.ones(2), tau_mem=np.ones(2), r=np.ones(2), v_leak=np.zeros(2),
                                v_threshold=np.ones(2)), "cubalif"),  # fmt: skip
        "CubaLI": (nir.CubaLI(tau_syn=np.ones(2), tau_mem=np.ones(2), r=np.ones(2), v_leak=np.zeros(2)), "cubali"),
        "Affine": (nir.Affine(weight=w, bias=np.array([0.0, 0.01])), ([0, 1], [0.5, 0.25], [0.0, 0.0], [0.0, 0.01])),
        "Linear": (nir.Linear(weight=w), ([0, 1], [0.5, 0.25], [0.0, 0.0], [0.0, 0.0])),
        "Scale": (nir.Scale(scale=np.array([0.5, 2.0])), ([0], [0.5], [0.0], [0.0, 0.0])),
        "Delay": (nir.Delay(delay=np.array([1e-3, 2e-3])), ([0], [1.0], [1e-3], [0.0, 0.0])),
        "Flatten": (nir.Flatten(input_type={"input": np.array([2])}, start_dim=0), plain),
        "I": (nir.I(r=np.ones(2)), "i"),
        "Conv1d": (nir.Conv1d(input_shape=2, weight=np.full((1, 1, 1), 0.5), stride=1, padding=0, dilation=1, groups=1,
                              bias=np.array([0.01])), ([0], [0.5], [0.0], [0.01, 0.01])),  # fmt: skip
        "Conv2d": (nir.Conv2d(input_shape=(1, 2), weight=np.full((1, 1, 1, 1), 0.5), stride=1, padding=0, dilation=1,
                              groups=1, bias=np.array([0.01])), ([0], [0.5], [0.0], [0.01, 0.01])),  # fmt: skip
        # pooling needs a (C, H, W) input: the test's Input node is (2, 1, 1) for these
        "SumPool2d": (nir.SumPool2d(kernel_size=np.array([1, 1]), stride=np.array([1, 1]), padding=np.array([0, 0])),
                      plain),  # fmt: skip
        "Threshold": (nir.Threshold(threshold=np.ones(2)), "threshold"),
        "AvgPool2d": (nir.AvgPool2d(kernel_size=np.array([1, 1]), stride=np.array([1, 1]), padding=np.array([0, 0])),
                      plain),  # fmt: skip
    }


def test_the_node_table_covers_every_supported_node_type():
    from neurochip.network import nir_io
    from neurochip.network._nir_nodes import NODES

    listed = nir_io.__doc__.split("Nodes: ", 1)[1].split(" (Flatten only")[0].replace("\n", " ").split(", ")
    assert listed == list(NODES)  # the docstring's list is the table, in the same order
    assert set(_one_of_each()) == set(NODES)  # and this test has an example of each
    for name in NODES:
        assert issubclass(getattr(nir, name), nir.NIRNode), name


@pytest.mark.parametrize("kind", list(_one_of_each()))
def test_each_table_entry_imports_its_node(kind):
    node, expected = _one_of_each()[kind]
    name = kind.lower()
    if isinstance(expected, str):  # a neuron node becomes a population
        g = nir.NIRGraph(nodes={"x": nir.Input(input_type=np.array([2])), name: node,
                                "y": nir.Output(output_type=np.array([2]))},
                         edges=[("x", name), (name, "y")])  # fmt: skip
        if kind == "Threshold":  # it must see the sum of an instant's input spikes: relays, not ports
            with pytest.raises(InvalidParameterError, match="fed straight from the input port 'x'"):
                from_nir(g, inputs="ports", **OPTS)
            imp = from_nir(g, **OPTS)
            assert [(p.name, p.size) for p in imp.network.populations] == [("x", 2), (expected, 2)]
        else:
            imp = from_nir(g, inputs="ports", **OPTS)
            assert [(p.name, p.size) for p in imp.network.populations] == [(expected, 2)]
        assert imp.outputs == {"y": (expected,)}
        return
    lif = nir.LIF(tau=np.full(2, 1e-3), r=np.full(2, 10.0), v_leak=np.zeros(2), v_threshold=np.ones(2),
                  v_reset=np.zeros(2))  # r dt / tau = 1: a jump equals the NIR weight  # fmt: skip
    shape = [2, 1, 1] if kind.endswith("Pool2d") else [2]
    nodes = {"x": nir.Input(input_type=np.array(shape)), "lif": lif, "y": nir.Output(output_type=np.array([2]))}
    edges = [("x", "lif"), ("lif", "y")]  # Input and Output are at both ends already
    if kind not in ("Input", "Output"):
        nodes["node"] = node
        edges = [("x", "node"), ("node", "lif"), ("lif", "y")]
    imp = from_nir(nir.NIRGraph(nodes=nodes, edges=edges, type_check=False), inputs="ports", **OPTS)
    assert imp.outputs == {"y": ("lif",)} and imp.inputs["x"].size == 2
    stims = imp.spike_input("x", [0.0], [0])
    assert {s.population for s in stims} == {"lif"}
    neurons, weights, times, bias = expected
    np.testing.assert_array_equal(imp.network.population("lif").bias_current_amp, bias)
    np.testing.assert_array_equal(np.concatenate([s.neurons for s in stims]), neurons)
    np.testing.assert_allclose(np.concatenate([s.weight_volt for s in stims]), weights, rtol=1e-12)
    np.testing.assert_array_equal(np.concatenate([s.times_s for s in stims]), times)


def test_export_writes_exactly_the_node_types_the_table_writes(rng):
    from neurochip.models.cuba import Cuba
    from neurochip.network._nir_nodes import NODES

    rich = _rich_network(rng)
    p = LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-9, t_ref_s=0.0)
    cuba = (Population(name="cuba", size=2, params=p, model=Cuba(tau_syn_exc_s=2e-3)),
            Population(name="li", size=2, params=p, model=Cuba(tau_syn_exc_s=2e-3, spiking=False)))  # fmt: skip
    never = LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-9, v_th_volt=LI_THRESHOLD_VOLT, t_ref_s=0.0)
    li = (Population(name="li_plain", size=2, params=never),
          Population(name="integrator", size=2, params=dataclasses.replace(never, g_leak_siemens=0.0)))  # fmt: skip
    rich = Network(populations=rich.populations + cuba + li, projections=rich.projections, seed=11)
    with pytest.warns(NIRExportWarning):
        graph = to_nir(rich)  # LIF, IF, LI, I, CubaLIF and CubaLI populations, a bias, synapses, ports
    assert type(graph.nodes["li_plain"]).__name__ == "LI" and type(graph.nodes["integrator"]).__name__ == "I"
    written = {type(v).__name__ for v in graph.nodes.values()}
    # convolutions and poolings go back as Conv and pooling nodes from an imported, changed network
    # (a Flatten where a shaped population feeds a dense node)
    pool = dict(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0]))
    c2 = nir.Conv2d(input_shape=(5, 5), weight=np.ones((3, 2, 3, 3)), stride=1, padding=1, dilation=1, groups=1,
                    bias=np.zeros(3))  # fmt: skip
    c1 = nir.Conv1d(input_shape=7, weight=np.ones((2, 2, 3)), stride=1, padding=0, dilation=1, groups=1,
                    bias=np.zeros(2))  # fmt: skip
    g = nir.NIRGraph(nodes={"a": nir.Input(input_type={"input": np.array([2, 5, 5])}), "c2": c2, "l2": _lif(75),
                            "fc": nir.Linear(weight=np.ones((4, 75))), "l3": _lif(4),
                            "b": nir.Input(input_type={"input": np.array([2, 7])}), "c1": c1, "l1": _lif(10),
                            "p": nir.Input(input_type={"input": np.array([2, 4, 4])}), "sp": nir.SumPool2d(**pool),
                            "l4": _lif(8), "q": nir.Input(input_type={"input": np.array([2, 4, 4])}),
                            "ap": nir.AvgPool2d(**pool), "l5": _lif(8)},
                     edges=[("a", "c2"), ("c2", "l2"), ("l2", "fc"), ("fc", "l3"), ("b", "c1"), ("c1", "l1"),
                            ("p", "sp"), ("sp", "l4"), ("q", "ap"), ("ap", "l5")],
                     type_check=False)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imp = from_nir(g, dt_s=1.0, reset="value", t_ref_s=0.0, delay_s=1.0)
        l3 = imp.network.population("l3")
        pops = tuple(dataclasses.replace(p, v_init_volt=np.full(4, 0.5)) if p is l3 else p for p in imp.network.populations)
        back = dataclasses.replace(imp, network=dataclasses.replace(imp.network, populations=pops)).to_nir()
    written |= {type(v).__name__ for v in back.nodes.values()}
    assert {"Conv1d", "Conv2d", "Flatten", "SumPool2d", "AvgPool2d"} <= written
    assert written == {k for k, h in NODES.items() if h.writes is not None}


def test_an_unsupported_node_gives_the_error_naming_the_node_and_its_type(tmp_path):
    conv = Mystery(np.ones(4))
    g = nir.NIRGraph(nodes={"x": nir.Input(input_type=np.array([4])), "conv": conv, "lif": _lif(4)},
                     edges=[("x", "conv"), ("conv", "lif")], type_check=False)  # fmt: skip
    text = (r"NIR node 'conv' \(Mystery\): unsupported node type; neurochip imports Input, Output, LIF, IF, LI, "
            r"CubaLIF, CubaLI, Affine, Linear, Scale, Delay, Flatten, I, Conv1d, Conv2d, SumPool2d, AvgPool2d, Threshold and "
            r"subgraphs$")  # fmt: skip
    with pytest.raises(InvalidParameterError, match=text):
        from_nir(g, **OPTS)
    # inside a subgraph, the node is named by its flattened name
    outer = nir.NIRGraph(nodes={"x": nir.Input(input_type=np.array([4])), "sub": g},
                         edges=[("x", "sub")], type_check=False)  # fmt: skip
    with pytest.raises(InvalidParameterError, match=r"NIR node 'sub.conv' \(Mystery\): unsupported node type"):
        from_nir(outer, **OPTS)


def test_the_docstring_examples_run():
    import doctest

    from neurochip.network import nir_io

    result = doctest.testmod(nir_io, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 20 and result.failed == 0
