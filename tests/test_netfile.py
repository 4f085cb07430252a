"""Network files (save, load, validation), Monte Carlo populations and the networkx views."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pytest

from neurochip.emulator import run
from neurochip.errors import ConfigError, InvalidParameterError
from neurochip.lif import LIFParams
from neurochip.network import (
    NEURON_FIELDS,
    AllToAll,
    Explicit,
    FixedInDegree,
    FixedProbability,
    Network,
    PoissonInput,
    Population,
    Projection,
)
from neurochip.network.files import load_network, population_from_montecarlo, read_header, save_network
from neurochip.network.graph import network_summary, neuron_graph, population_graph

BASE = LIFParams(c_m_farad=200e-12, g_leak_siemens=10e-9, e_leak_volt=0.0, v_th_volt=0.02, v_reset_volt=0.01,
                 t_ref_s=2e-3)  # fmt: skip


def _network(rng, seed=5) -> Network:
    e = Population(name="E", size=80, params=BASE, per_neuron={"v_th_volt": rng.uniform(0.019, 0.021, 80)},
                   bias_current_amp=rng.uniform(0, 0.1e-9, 80), v_init_volt=rng.uniform(0.0, 0.02, 80))  # fmt: skip
    i = Population(name="I", size=20, params=BASE.replace(t_ref_s=1e-3))
    projs = (
        Projection(pre="E", post="E", rule=FixedInDegree(k=8), weight_volt=lambda g, m: g.uniform(1e-4, 3e-4, m),
                   delay_s=1.5e-3),  # fmt: skip
        Projection(pre="E", post="I", rule=FixedProbability(p=0.1), weight_volt=2e-4, delay_s=1e-3),
        Projection(pre="I", post="E", rule=AllToAll(), weight_volt=-5e-4, delay_s=1e-3),
        Projection(pre="I", post="I", rule=Explicit(pre=[0, 1, 1], post=[2, 3, 3], weight_volt=[1e-4, 0.0, 2e-4],
                                                    delay_s=[1e-3, 2e-3, 2e-3]), delay_s=1e-3),  # fmt: skip
    )
    return Network(populations=(e, i), projections=projs, seed=seed)


def _assert_same_network(a: Network, b: Network) -> None:
    assert [p.name for p in a.populations] == [p.name for p in b.populations]
    x, y = a.neuron_arrays(), b.neuron_arrays()
    for key in (*NEURON_FIELDS, "v_init_volt"):
        np.testing.assert_array_equal(y[key], x[key], err_msg=key)
    ca, cb = a.csr(), b.csr()
    for key in ("indptr", "indices", "weights", "delays_s"):
        np.testing.assert_array_equal(getattr(cb, key), getattr(ca, key), err_msg=key)


def test_save_load_reproduces_parameters_synapses_and_spikes(tmp_path, rng):
    net = _network(rng)
    save_network(net, tmp_path / "net.npz")
    back = load_network(tmp_path / "net.npz")
    _assert_same_network(net, back)  # the CSR arrays equal, element for element and in order
    header = read_header(tmp_path / "net.npz")
    assert [p["rule"]["type"] for p in header["projections"]] == ["FixedInDegree", "FixedProbability", "AllToAll",
                                                                  "Explicit"]  # fmt: skip
    assert header["projections"][0]["weight"] == "drawn" and header["projections"][1]["weight"] == 2e-4
    assert header["projections"][0]["rule"]["k"] == 8
    stim = [PoissonInput(population="E", rate_hz=2000.0, weight_volt=2e-3)]
    r1, r2 = run(net, duration_s=0.1, inputs=stim, seed=3), run(back, duration_s=0.1, inputs=stim, seed=3)
    assert r1.spike_counts.sum() > 50
    np.testing.assert_array_equal(r1.events, r2.events)
    # saving what was loaded gives the same file content
    save_network(back, tmp_path / "again.npz")
    _assert_same_network(back, load_network(tmp_path / "again.npz"))


def test_a_generator_seed_falls_back_to_synapses_grouped_by_population_pair(tmp_path, rng):
    net = _network(rng, seed=np.random.default_rng(9))
    save_network(net, tmp_path / "g.npz")
    back = load_network(tmp_path / "g.npz")
    pre, post, w, d = net.csr().to_coo()
    pre2, post2, w2, d2 = back.csr().to_coo()
    key = lambda *a: np.lexsort(a)  # noqa: E731
    o1, o2 = key(w, d, post, pre), key(w2, d2, post2, pre2)
    for x, y in ((pre, pre2), (post, post2), (w, w2), (d, d2)):
        np.testing.assert_array_equal(y[o2], x[o1])
    assert read_header(tmp_path / "g.npz")["projections"][0]["rule"]["type"] == "Explicit"


def _rewrite(src, dst, **changes):
    with np.load(src) as data:
        arrays = {k: data[k] for k in data.files}
    for key, value in changes.items():
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    with open(dst, "wb") as fh:
        np.savez(fh, **arrays)


def test_load_validates_and_names_the_file_and_field(tmp_path, rng):
    good = tmp_path / "good.npz"
    save_network(_network(rng), good)
    header = json.loads(str(np.load(good)["header"]))

    cases = []
    bad_params = json.loads(json.dumps(header))
    bad_params["populations"][1]["params"]["c_m_farad"] = -1.0
    cases.append(({"header": np.array(json.dumps(bad_params))}, r"bad\d.npz: populations\[1\].params.c_m_farad = -1.0"))
    cases.append(({"pop0.pn.v_th_volt": np.zeros(3)}, r"pop0.pn.v_th_volt: has shape \(3,\), expected \(80,\)"))
    cases.append(({"proj2.w": None}, r"proj2.w: missing from the file"))
    cases.append(({"proj1.pre": np.full(np.load(good)["proj1.pre"].shape, 500, np.int32)},
                  r"proj1.pre: neuron index 500: must be in \[0, 80\) \(population 'E'\)"))  # fmt: skip
    cases.append(({"csr.weights": np.load(good)["csr.weights"] * 2}, r"csr.weights: the stored synapse arrays differ"))
    old = dict(header, version=99)
    cases.append(({"header": np.array(json.dumps(old))}, r"header.version: version = 99"))
    cases.append(({"header": np.array("{not json")}, r"header: not valid JSON"))
    for k, (change, pattern) in enumerate(cases):
        path = tmp_path / f"bad{k}.npz"
        _rewrite(good, path, **change)
        with pytest.raises(ConfigError, match=pattern):
            load_network(path)
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ConfigError, match="text.npz: cannot read as a .npz archive"):
        load_network(tmp_path / "text.npz")
    with pytest.raises(ConfigError, match="none.npz: no such file"):
        load_network(tmp_path / "none.npz")


# ---------------------------------------------------------------------------------------------
# Monte Carlo


FIELDS = ("c_m_farad", "g_leak_siemens", "v_th_volt", "t_ref_s")


def _montecarlo_file(path, rng, n_ok=400):
    """A circuit Monte Carlo result with known spread: correlated C and g_L (one mismatch
    source), independent V_th and t_ref."""
    mean = np.array([1e-12, 1e-9, 0.5, 1e-3])
    rel = np.array([0.05, 0.08, 0.04, 0.1])
    z = rng.standard_normal((n_ok, 4))
    z[:, 1] = 0.6 * z[:, 0] + 0.8 * z[:, 1]
    samples = mean * (1 + rel * z)
    np.savez(
        path,
        fields=np.array(FIELDS),
        params=samples,
        mean=samples.mean(axis=0),
        std=samples.std(axis=0, ddof=1),
        corr=np.corrcoef(samples.T),
        circuit=np.array("behavioural_lif"),
        seed=np.array(7),
    )
    return samples


@pytest.mark.parametrize("mode", ["resample", "normal"])
def test_montecarlo_population_shows_the_files_spread(tmp_path, rng, mode):
    samples = _montecarlo_file(tmp_path / "mc.npz", rng)
    n = 20_000
    pop = population_from_montecarlo(tmp_path / "mc.npz", name="E", size=n, seed=1, mode=mode)
    a = pop.arrays()
    with np.load(tmp_path / "mc.npz") as f:
        std, mean, corr = f["std"], f["mean"], f["corr"]
    for j, key in enumerate(FIELDS):
        # sample std of n draws: relative standard error ~ 1/sqrt(2n) = 0.5 %; allow 4 %
        assert a[key].std() == pytest.approx(std[j], rel=0.04), key
        assert a[key].mean() == pytest.approx(mean[j], abs=4 * std[j] / np.sqrt(n) + 1e-3 * abs(mean[j])), key
    assert np.corrcoef(a["c_m_farad"], a["g_leak_siemens"])[0, 1] == pytest.approx(corr[0, 1], abs=0.03)
    assert (a["v_reset_volt"] == 0.0).all()  # fields the file does not hold keep params' value
    if mode == "resample":  # every neuron is one of the fitted circuits
        rows = {tuple(r) for r in samples}
        assert all(tuple(r) in rows for r in np.stack([a[k] for k in FIELDS], axis=1)[:100])
    again = population_from_montecarlo(tmp_path / "mc.npz", name="E", size=n, seed=1, mode=mode)
    np.testing.assert_array_equal(again.arrays()["v_th_volt"], a["v_th_volt"])
    # the spread survives a network file
    net = Network(populations=(pop,))
    save_network(net, tmp_path / "net.npz")
    np.testing.assert_array_equal(load_network(tmp_path / "net.npz").neuron_arrays()["v_th_volt"], a["v_th_volt"])


def test_montecarlo_file_errors_name_the_key(tmp_path, rng):
    _montecarlo_file(tmp_path / "mc.npz", rng)
    good = dict(np.load(tmp_path / "mc.npz"))
    bad = dict(good, fields=np.array(["c_m_farad", "tau_m", "v_th_volt", "t_ref_s"]))
    np.savez(tmp_path / "b1.npz", **bad)
    with pytest.raises(ConfigError, match=r"b1.npz: fields\[1\]: 'tau_m' is not a LIFParams field"):
        population_from_montecarlo(tmp_path / "b1.npz", name="p", size=3, seed=0)
    np.savez(tmp_path / "b2.npz", **{k: v for k, v in good.items() if k != "corr"})
    with pytest.raises(ConfigError, match="b2.npz: corr: missing from the file"):
        population_from_montecarlo(tmp_path / "b2.npz", name="p", size=3, seed=0)
    np.savez(tmp_path / "b3.npz", **dict(good, params=good["params"][:, :3]))
    with pytest.raises(ConfigError, match=r"b3.npz: params: has shape \(400, 3\), expected \(N >= 1, 4\)"):
        population_from_montecarlo(tmp_path / "b3.npz", name="p", size=3, seed=0)
    with pytest.raises(InvalidParameterError, match="mode = 'lhs'"):
        population_from_montecarlo(tmp_path / "mc.npz", name="p", size=3, seed=0, mode="lhs")


# ---------------------------------------------------------------------------------------------
# networkx views and the summary


def test_population_and_neuron_graphs_count_synapses(rng):
    net = _network(rng)
    g = population_graph(net)
    assert isinstance(g, nx.DiGraph) and set(g.nodes) == {"E", "I"}
    assert g.nodes["E"]["size"] == 80 and g.nodes["E"]["params"]["c_m_farad"] == 200e-12
    assert g.nodes["E"]["std"]["v_th_volt"] > 0 and g.nodes["I"]["std"]["v_th_volt"] == 0
    assert g.edges["E", "E"]["n_synapses"] == 80 * 8
    assert g.edges["I", "E"]["n_synapses"] == 20 * 80 and g.edges["I", "E"]["weight_mean_volt"] == pytest.approx(-5e-4)
    assert g.edges["I", "I"]["n_synapses"] == 3 and g.edges["I", "I"]["delays_s"] == [1e-3, 2e-3]
    assert sum(d["n_synapses"] for _, _, d in g.edges(data=True)) == net.csr().n_synapses
    ng = neuron_graph(net)
    assert ng.number_of_nodes() == 100 and ng.number_of_edges() == net.csr().n_synapses
    assert ng.nodes[85]["population"] == "I" and ng.nodes[85]["index"] == 5
    # in-degree of every E neuron from E is exactly k = 8
    assert all(sum(1 for u in ng.predecessors(v) for _ in ng[u][v] if u < 80) == 8 for v in range(80))
    with pytest.raises(InvalidParameterError, match="more than max_neurons = 50"):
        neuron_graph(net, max_neurons=50)


def test_summary_degrees_memory_and_traffic(rng):
    net = _network(rng)
    s = network_summary(net, rates_hz={"E": 5.0, "I": 20.0})
    csr = net.csr()
    out_deg = np.bincount(csr.to_coo()[0], minlength=100)
    assert s["n_neurons"] == 100 and s["n_synapses"] == csr.n_synapses
    assert s["out_degree"]["mean"] == pytest.approx(csr.n_synapses / 100)
    in_deg = np.bincount(csr.to_coo()[1], minlength=100)
    assert in_deg[:80].min() >= 8 + 20  # FixedInDegree(8) from E plus all 20 I neurons
    assert s["in_degree"] == {"min": in_deg.min(), "mean": in_deg.mean(), "max": in_deg.max(), "std": in_deg.std()}
    assert s["memory"]["synapse_bytes"] == csr.nbytes
    rates = np.r_[np.full(80, 5.0), np.full(20, 20.0)]
    assert s["traffic"]["spikes_per_s"] == pytest.approx(80 * 5 + 20 * 20)
    assert s["traffic"]["synaptic_events_per_s"] == pytest.approx(float((rates * out_deg).sum()))
    assert s["delays_s"] == [1e-3, 1.5e-3, 2e-3]
    with pytest.raises(InvalidParameterError, match="no rate for population"):
        network_summary(net, rates_hz={"E": 1.0})
