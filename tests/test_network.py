"""Network specs: validation, connection rules, the synapse CSR."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from neurochip.errors import InvalidParameterError
from neurochip.lif import LIFParams
from neurochip.network import (
    AllToAll,
    CurrentStep,
    Explicit,
    FixedInDegree,
    FixedProbability,
    Network,
    OneToOne,
    PoissonInput,
    Population,
    Projection,
    SpikeTimesInput,
)


def _net(rule, *, sizes=(50, 40), seed=3, weight=1e-3, delay=1e-3, same=False):
    pops = (Population(name="A", size=sizes[0]), Population(name="B", size=sizes[1]))
    post = "A" if same else "B"
    return Network(
        populations=pops,
        projections=(Projection(pre="A", post=post, rule=rule, weight_volt=weight, delay_s=delay),),
        seed=seed,
    )


def _dense(net: Network) -> np.ndarray:
    pre, post, w, _ = net.csr().to_coo()
    m = np.zeros((net.n_neurons, net.n_neurons))
    np.add.at(m, (pre, post), 1)
    return m


def test_population_rejects_bad_values_naming_the_field_and_neuron():
    with pytest.raises(InvalidParameterError, match="size = 0"):
        Population(name="p", size=0)
    with pytest.raises(InvalidParameterError, match=r"neuron 2: c_m_farad = -1"):
        Population(name="p", size=3, per_neuron={"c_m_farad": [1e-12, 1e-12, -1.0]})
    with pytest.raises(InvalidParameterError, match=r"neuron 1: v_reset_volt"):
        Population(name="p", size=2, per_neuron={"v_th_volt": [0.5, -0.1]})
    with pytest.raises(InvalidParameterError, match="per_neuron key = 'tau'"):
        Population(name="p", size=2, per_neuron={"tau": [1, 2]})
    with pytest.raises(InvalidParameterError, match=r"bias_current_amp: got an array of shape \(3,\)"):
        Population(name="p", size=2, bias_current_amp=np.zeros(3))


def test_population_arrays_and_sampler_are_seeded():
    def sampler(rng, n):
        return {"v_th_volt": rng.uniform(0.4, 0.6, n), "bias_current_amp": rng.uniform(0, 1e-9, n)}

    a = Population.sample(name="p", size=20, sampler=sampler, seed=7)
    b = Population.sample(name="p", size=20, sampler=sampler, seed=7)
    np.testing.assert_array_equal(a.arrays()["v_th_volt"], b.arrays()["v_th_volt"])
    assert a.arrays()["c_m_farad"].shape == (20,)
    assert np.all(a.arrays()["c_m_farad"] == LIFParams().c_m_farad)
    assert a.bias_current_amp.max() <= 1e-9


def test_fixed_in_degree_gives_every_target_k_sources_and_is_seeded():
    net = _net(FixedInDegree(k=7))
    m = _dense(net)
    np.testing.assert_array_equal(m[:50, 50:].sum(axis=0), 7)
    assert m.sum() == 7 * 40
    np.testing.assert_array_equal(_dense(_net(FixedInDegree(k=7))), m)
    assert not np.array_equal(_dense(_net(FixedInDegree(k=7), seed=4)), m)


def test_fixed_in_degree_without_autapses():
    m = _dense(_net(FixedInDegree(k=30, allow_autapses=False), same=True))
    assert np.trace(m) == 0
    np.testing.assert_array_equal(m[:50, :50].sum(axis=0), 30)


def test_fixed_probability_count_is_binomial():
    p, n_pre, n_post = 0.2, 50, 40
    m = _dense(_net(FixedProbability(p=p)))
    n = m.sum()
    mean, sd = p * n_pre * n_post, np.sqrt(n_pre * n_post * p * (1 - p))
    assert abs(n - mean) < 4 * sd
    assert m.max() == 1  # no multapses


def test_all_to_all_and_one_to_one():
    m = _dense(_net(AllToAll()))
    assert m[:50, 50:].sum() == 50 * 40 and m.max() == 1
    m = _dense(_net(OneToOne(), sizes=(30, 30)))
    np.testing.assert_array_equal(m[:30, 30:], np.eye(30))
    with pytest.raises(InvalidParameterError, match="equal size"):
        _net(OneToOne(), sizes=(30, 20)).csr()


def test_explicit_from_scipy_sparse_keeps_weights_and_delays():
    mat = scipy.sparse.coo_matrix(([1e-3, -2e-3, 3e-3], ([0, 1, 1], [2, 0, 3])), shape=(4, 5))
    rule = Explicit.from_sparse(mat, delay_s=[1e-3, 2e-3, 1e-3])
    net = Network(
        populations=(Population(name="A", size=4), Population(name="B", size=5)),
        projections=(Projection(pre="A", post="B", rule=rule),),
    )
    csr = net.csr()
    pre, post, w, d = csr.to_coo()
    got = sorted(zip(pre.tolist(), (post - 4).tolist(), [round(float(x), 6) for x in w], d.tolist()))
    assert got == [(0, 2, 0.001, 0.001), (1, 0, -0.002, 0.002), (1, 3, 0.003, 0.001)]
    np.testing.assert_array_equal(csr.delays_s, [1e-3, 2e-3])
    assert csr.indptr.size == 2 * 9 + 1


def test_csr_dtypes_and_bytes_per_synapse():
    csr = _net(FixedInDegree(k=100), sizes=(1000, 1000)).csr()
    assert csr.indptr.dtype == np.int64 and csr.indices.dtype == np.int32 and csr.weights.dtype == np.float32
    assert csr.bytes_per_synapse < 12
    np.testing.assert_array_equal(csr.out_degree(), np.diff(csr.indptr))
    # rows are sorted by target (the counting sort is stable over targets generated in order)
    row = csr.indices[csr.indptr[5] : csr.indptr[6]]
    assert np.all(np.diff(row) >= 0)


def test_projection_and_network_errors_name_the_field():
    with pytest.raises(InvalidParameterError, match="delay_s = 0"):
        Projection(pre="A", post="B", rule=AllToAll(), delay_s=0)
    with pytest.raises(InvalidParameterError, match="weight_volt = 'x'"):
        Projection(pre="A", post="B", rule=AllToAll(), weight_volt="x")
    with pytest.raises(InvalidParameterError, match="FixedInDegree.k = 0"):
        FixedInDegree(k=0)
    with pytest.raises(InvalidParameterError, match=r"FixedProbability.p = 1.5"):
        FixedProbability(p=1.5)
    with pytest.raises(InvalidParameterError, match="projection A->C: population 'C' is not in the network"):
        Network(
            populations=(Population(name="A", size=1),),
            projections=(Projection(pre="A", post="C", rule=AllToAll()),),
        )
    with pytest.raises(InvalidParameterError, match="names must be unique"):
        Network(populations=(Population(name="A", size=1), Population(name="A", size=2)))


def test_stimulus_specs_validate():
    with pytest.raises(InvalidParameterError, match="rate_hz"):
        PoissonInput(population="A", rate_hz=-1.0, weight_volt=1e-3)
    with pytest.raises(InvalidParameterError, match="equal lengths"):
        SpikeTimesInput(population="A", times_s=[0.1, 0.2], neurons=[0], weight_volt=1e-3)
    with pytest.raises(InvalidParameterError, match="strictly increasing"):
        CurrentStep(population="A", times_s=[0.2, 0.1], amplitudes_amp=[1e-9, 0])


def test_networkx_view():
    g = _net(FixedInDegree(k=2)).to_networkx()
    assert g.nodes["A"]["size"] == 50 and g.number_of_edges() == 1


def test_import_neurochip_stays_light():
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['PySpice'] = None; sys.modules['dask'] = None; "
        "sys.modules['matplotlib'] = None; import neurochip, neurochip.network, neurochip.emulator"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
