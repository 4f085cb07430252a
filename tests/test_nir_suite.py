"""Every graph of nir's own test suite (tests/test_architectures.py and tests/test_readwrite.py of
neuromorphs/NIR), rebuilt here with nir's classes as those tests construct them, imports with no
node dropped, or ends in one error that names the node (or the edge) and its type.

nir's ``mock_affine(*shape)`` is ``Affine(weight=randn(*shape).T, bias=randn(shape[1]))`` and
``mock_conv(input_shape, weight_shape)`` a Conv with random weight and bias; their graphs are
built here with ``type_check=False`` where nir 1.0's own type check refuses them (its tests were
written against earlier versions).
"""

from __future__ import annotations

import warnings

import nir
import numpy as np
import pytest

from neurochip.errors import InvalidParameterError
from neurochip.network.nir_io import from_nir

RNG = np.random.default_rng(18)


def mock_affine(*shape):
    return nir.Affine(weight=RNG.normal(size=shape).T, bias=RNG.normal(size=shape[1]))


def mock_linear(*shape):
    return nir.Linear(weight=RNG.normal(size=shape).T)


def mock_conv(input_shape, weight_shape):
    cls = nir.Conv1d if len(weight_shape) == 3 else nir.Conv2d
    return cls(input_shape=input_shape, weight=RNG.normal(size=weight_shape), stride=1, padding=0, dilation=1,
               groups=1, bias=RNG.normal(size=weight_shape[0]))  # fmt: skip


def lif(tau, v_th):
    n = len(tau)
    return nir.LIF(tau=np.array(tau, float), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.array(v_th, float))


def from_list(*nodes):
    try:
        return nir.NIRGraph.from_list(*nodes)
    except (ValueError, IndexError):  # nir 1.0's type check refuses graphs its older tests built
        return nir.NIRGraph.from_list(*nodes, type_check=False)


def graph(nodes, edges):
    try:
        return nir.NIRGraph(nodes=nodes, edges=edges)
    except (ValueError, IndexError):
        return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def _arch_sequential():
    return from_list(mock_affine(2, 2), nir.Delay(np.array([0.5, 0.1, 0.2])), lif([10, 20, 30], [1, 2, 3]),
                     mock_affine(3, 2))  # fmt: skip


def _branches():
    b1 = from_list(mock_affine(2, 3), nir.Delay(np.array([0.5, 0.1, 0.2])), lif([10, 20, 30], [1, 2, 3]),
                   mock_affine(2, 3))  # fmt: skip
    b2 = from_list(mock_affine(2, 3), lif([10, 20], [1, 2]), mock_affine(3, 2))
    return b1, b2


def _arch_two_independent_branches():
    b1, b2 = _branches()
    return graph({"branch_1": b1, "branch_2": b2}, [])


def _arch_two_independent_branches_merging():
    b1, b2 = _branches()
    return graph({"branch_1": b1, "branch_2": b2, "junction": lif([5, 2], [1, 1])},
                 [("branch_1", "junction"), ("branch_2", "junction")])  # fmt: skip


def _arch_merge_and_split_single_output():
    pre = from_list(mock_affine(2, 3), lif([10, 20, 30], [1, 2, 3]))
    b1 = from_list(mock_affine(2, 3), lif([10, 20], [1, 2]))
    b2 = from_list(mock_affine(2, 3), lif([15, 5], [1, 1]))
    junction = nir.Affine(weight=np.array([[2, 0], [1, 3], [4, 1]]), bias=np.array([0, 1]))
    return graph({"pre_split": pre, "branch_1": b1, "branch_2": b2, "junction": junction},
                 [("pre_split", "branch_1"), ("pre_split", "branch_2"), ("branch_1", "junction"),
                  ("branch_2", "junction")])  # fmt: skip


def _arch_residual():
    nodes = {"a": mock_affine(2, 3), "b": lif([10, 20, 30], [1, 2, 3]), "c": mock_affine(3, 2),
             "d": lif([10, 20], [1, 2]), "e": mock_affine(3, 2), "f": lif([15, 5], [1, 1])}  # fmt: skip
    return graph(nodes, [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("a", "e"), ("e", "f")])


def _arch_complex():
    nodes = {
        "a": nir.Affine(weight=np.array([[1, 2, 3]]), bias=np.array([[0, 0, 0]])),
        "b": lif([10, 20, 30], [1, 2, 3]),
        "c": lif([5, 20, 1], [1, 1, 1]),
        "d": nir.Affine(weight=np.array([[[1, 3], [2, 3], [1, 4]], [[2, 3], [1, 2], [1, 4]]]), bias=np.array([0, 0])),
        "e": nir.Affine(weight=np.array([[1, 3], [2, 3], [1, 4]]), bias=np.array([0, 0])),
        "f": nir.Affine(weight=np.array([[[1, 3], [1, 4]], [[2, 3], [3, 4]]]), bias=np.array([0, 0])),
    }
    return graph(nodes, [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("c", "e"), ("d", "f"), ("e", "f")])


def _rw_simple():
    return graph({"a": mock_affine(2, 2)}, [("a", "a")])


def _rw_nested():
    i = np.array([1, 1])
    inner = graph({"a": nir.Input(i), "b": nir.Delay(i), "c": nir.Output(np.array([1, 1]))}, [("a", "b"), ("b", "c")])
    return graph({"a": nir.I(r=np.array([1, 1])), "b": inner, "c": nir.Output(np.array([1, 1]))},
                 [("a", "b"), ("b", "a")])  # fmt: skip


def _rw_conv1d():
    return from_list(mock_affine(2, 100), mock_conv(100, (1, 2, 3)), mock_affine(100, 2))


def _rw_conv1d_2():
    return from_list(mock_conv((100, 100), (1, 2, 3, 3)))


def _rw_integrator():
    return graph({"a": mock_affine(2, 2), "b": nir.I(np.array([1, 1, 1]))}, [("a", "b")])


def _rw_integrate_and_fire():
    return graph({"a": mock_affine(2, 2), "b": nir.IF(np.array([1, 1, 1]), np.array([1, 1, 1]))}, [("a", "b")])


def _rw_leaky_integrator():
    return from_list(mock_affine(2, 2), nir.LI(np.ones(3), np.ones(3), np.ones(3)))


def _rw_linear():
    return from_list(mock_linear(2, 2), nir.LI(np.ones(3), np.ones(3), np.ones(3)))


def _rw_leaky_integrator_and_fire():
    return from_list(mock_affine(2, 2), nir.LIF(np.ones(3), np.ones(3), np.ones(3), np.full(3, 3)))


def _rw_cuba_lif():
    one = np.ones(3)
    return from_list(mock_affine(2, 2), nir.CubaLIF(one, 2 * one, one, one, 3 * one, w_in=2 * one))


def _rw_scale():
    return from_list(nir.Input(input_type=np.array([3])), nir.Scale(scale=np.array([1, 2, 3])),
                     nir.Output(output_type=np.array([3])))  # fmt: skip


def _rw_simple_with_read_write():
    return from_list(nir.Input(input_type=np.array([3])), mock_affine(2, 2), nir.Output(output_type=np.array([3])))


def _rw_delay():
    return from_list(nir.Input(np.array([3])), nir.Delay(np.array([1, 2, 3])), nir.Output(np.array([3])))


def _rw_threshold():
    return from_list(nir.Input(np.array([3])), nir.Threshold(np.array([1, 2, 3])), nir.Output(np.array([3])))


def _rw_flatten():
    return from_list(nir.Input(input_type=np.array([2, 3])),
                     nir.Flatten(start_dim=0, end_dim=0, input_type={"input": np.array([2, 3])}),
                     nir.Output(output_type=np.array([6])))  # fmt: skip


def _rw_pool(cls):
    return from_list(nir.Input(input_type=np.array([2, 2, 10, 10])),
                     cls(kernel_size=np.array([2, 2]), stride=np.array([1, 1]), padding=np.ndarray([0, 0])),
                     nir.Output(output_type=np.array([2, 2, 5, 5])))  # fmt: skip


# (graph, None when it imports, else the start of the one error it ends in)
SUITE = {
    "architectures::sequential": (_arch_sequential, "NIR edge 'affine' -> 'delay': shape mismatch"),
    "architectures::two_independent_branches": (_arch_two_independent_branches,
                                                "NIR edge 'branch_1.lif' -> 'branch_1.affine_1': shape mismatch"),
    "architectures::two_independent_branches_merging": (_arch_two_independent_branches_merging,
                                                       "NIR edge 'branch_2.affine' -> 'branch_2.lif': shape mismatch"),
    "architectures::merge_and_split_single_output": (_arch_merge_and_split_single_output,
                                                    "NIR node 'junction' (Affine): bias has 2 values"),
    "architectures::residual": (_arch_residual, "NIR edge 'd' -> 'e': shape mismatch"),
    "architectures::complex": (_arch_complex, "NIR node 'f' (Affine): weight has shape (2, 2, 2)"),
    "readwrite::simple": (_rw_simple, "NIR graph: has no neuron node (LIF, IF, LI, CubaLIF, CubaLI or I) and no Output; node 'a' (Affine)"),
    "readwrite::nested": (_rw_nested, "NIR node 'a' (I): a non-spiking node"),
    "readwrite::conv1d": (_rw_conv1d, "NIR edge 'affine' -> 'conv1d': shape mismatch"),
    "readwrite::conv1d_2": (_rw_conv1d_2, None),
    "readwrite::integrator": (_rw_integrator, "NIR edge 'a' -> 'b': shape mismatch"),
    "readwrite::integrate_and_fire": (_rw_integrate_and_fire, "NIR edge 'a' -> 'b': shape mismatch"),
    "readwrite::leaky_integrator": (_rw_leaky_integrator, "NIR edge 'affine' -> 'li': shape mismatch"),
    "readwrite::linear": (_rw_linear, "NIR edge 'linear' -> 'li': shape mismatch"),
    "readwrite::leaky_integrator_and_fire": (_rw_leaky_integrator_and_fire, "NIR edge 'affine' -> 'lif': shape mismatch"),
    "readwrite::current_based_leaky_integrator_and_fire": (_rw_cuba_lif, "NIR edge 'affine' -> 'cubalif': shape mismatch"),
    "readwrite::scale": (_rw_scale, None),
    "readwrite::simple_with_read_write": (_rw_simple_with_read_write, "NIR edge 'input' -> 'affine': shape mismatch"),
    "readwrite::delay": (_rw_delay, None),
    "readwrite::threshold": (_rw_threshold, "NIR node 'threshold' (Threshold):"),
    "readwrite::flatten": (_rw_flatten, None),
    "readwrite::sum_pool_2d": (lambda: _rw_pool(nir.SumPool2d), "NIR node 'sumpool2d' (SumPool2d): input shape (2, 2, 10, 10): pooling needs"),
    "readwrite::avg_pool_2d": (lambda: _rw_pool(nir.AvgPool2d), "NIR node 'avgpool2d' (AvgPool2d): input shape (2, 2, 10, 10): pooling needs"),
}  # fmt: skip


def _import(g):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return from_nir(g, dt_s=1.0, reset="value", t_ref_s=0.0, delay_s=1.0)


@pytest.mark.parametrize("case", sorted(SUITE))
def test_every_nir_test_graph_imports_or_ends_in_one_error_naming_the_node(case):
    build, error = SUITE[case]
    g = build()
    if error is not None:
        with pytest.raises(InvalidParameterError) as info:
            _import(g)
        assert str(info.value).startswith(error), str(info.value)
        return
    imp = _import(g)
    net = imp.network
    pops = {p.name: p.size for p in net.populations}
    # no node is dropped: every leaf node is a population (neuron, relay or readout) or reaches one
    from neurochip.network._nir_graph import flatten

    nodes, edges = flatten(g)
    for name, node in nodes.items():
        kind = type(node).__name__
        if kind in ("LIF", "IF", "LI", "I", "CubaLIF", "CubaLI", "Input") or name in imp.readouts:
            assert name in pops or name in imp.inputs, (case, name)
    # every Output has the width it declares
    for name, node in nodes.items():
        if type(node).__name__ == "Output" and name in imp.outputs:
            declared = int(np.prod(node.output_type["output"]))
            assert sum(pops[p] for p in imp.outputs[name]) == declared, (case, name)


def test_a_readout_after_the_last_neuron_layer_is_kept_with_its_width_and_its_values():
    """Input(3) -> Affine -> LIF(4) -> Affine(2 x 4, bias) -> Output(2): the last Affine becomes the
    readout population "output" (2 wide); its current is the Affine's output pulses (charge W2[:, j]
    dt per LIF spike j arriving at t_a = spike time + delay) filtered over one step,
    sum W2 e^{-(t - t_a)/dt} + b2, and its V the charge that current delivered by t,
    sum W2 dt (1 - e^{-(t - t_a)/dt}) + b2 t (C = 1 F)."""
    from neurochip.emulator import run
    from neurochip.network.readout import li_readout

    rng = np.random.default_rng(5)
    dt = 1e-4
    w1 = rng.uniform(0.5, 1.5, (4, 3))
    w2 = rng.normal(size=(2, 4))
    b2 = np.array([0.3, -0.2])
    g = nir.NIRGraph.from_list(
        nir.Input(input_type=np.array([3])), nir.Affine(weight=w1, bias=np.zeros(4)),
        nir.LIF(tau=np.full(4, 1e-3), r=np.full(4, 10.0), v_leak=np.zeros(4), v_threshold=np.ones(4)),
        nir.Affine(weight=w2, bias=b2), nir.Output(output_type=np.array([2])),
    )  # fmt: skip
    imp = from_nir(g, dt_s=dt, reset="value", t_ref_s=0.0, delay_s=dt, inputs="ports")
    assert imp.outputs == {"output": ("output",)} and imp.readouts == {"output": "affine_1"}
    assert imp.network.population("output").size == 2
    times = np.sort(rng.uniform(0, 0.05, 300))
    stimuli = imp.spike_input("input", times, rng.integers(0, 3, 300))
    res = run(imp.network, duration_s=0.06, inputs=stimuli)
    off = imp.network.offset("lif")
    ev = res.events[(res.events["address"] >= off) & (res.events["address"] < off + 4)]
    assert ev.size > 20
    arrive = ev["time_s"] + dt
    j = ev["address"] - off
    t_obs = np.linspace(0.001, 0.06, 50)
    v, i = li_readout(imp.network, "output", res, t_obs)
    for k, t in enumerate(t_obs):
        done = arrive <= t
        charge = (w2[:, j[done]] * dt * -np.expm1(-(t - arrive[done]) / dt)).sum(axis=1) + b2 * t
        current = (w2[:, j[done]] * np.exp(-(t - arrive[done]) / dt)).sum(axis=1) + b2
        # the synapses hold float32 weights: 6e-8 relative per term
        scale = (np.abs(w2[:, j[done]]) * np.exp(-(t - arrive[done]) / dt)).sum(axis=1) + np.abs(b2)
        np.testing.assert_allclose(i[k], current, rtol=0, atol=1e-7 * scale.max() + 1e-15)
        np.testing.assert_allclose(v[k], charge, rtol=0, atol=1e-7 * (np.abs(w2[:, j[done]]) * dt).sum() + 1e-15)


def test_an_imported_graph_goes_back_to_nir_with_its_inputs_li_and_readouts_and_imports_to_the_same_network():
    rng = np.random.default_rng(9)
    w1, w2, w3 = rng.uniform(0.1, 1, (4, 3)), rng.normal(size=(2, 4)), rng.normal(size=(3, 4))
    lif = nir.LIF(tau=np.full(4, 2e-3), r=np.full(4, 10.0), v_leak=np.zeros(4), v_threshold=np.ones(4),
                  v_reset=np.zeros(4))  # fmt: skip
    li = nir.LI(tau=np.full(2, 5e-3), r=np.full(2, 2.0), v_leak=np.zeros(2))
    g = nir.NIRGraph(
        nodes={"x": nir.Input(input_type=np.array([3])), "fc1": nir.Affine(weight=w1, bias=np.full(4, 0.5)),
               "lif": lif, "fc2": nir.Linear(weight=w2), "li": li, "y": nir.Output(output_type=np.array([2])),
               "fc3": nir.Affine(weight=w3, bias=np.array([0.1, 0.0, -0.1])),
               "z": nir.Output(output_type=np.array([3]))},
        edges=[("x", "fc1"), ("fc1", "lif"), ("lif", "fc2"), ("fc2", "li"), ("li", "y"), ("lif", "fc3"), ("fc3", "z")],
    )  # fmt: skip
    opts = dict(dt_s=1e-4, reset="value", t_ref_s=0.0, delay_s=1e-4)
    imp = from_nir(g, **opts)
    back = imp.to_nir()
    kinds = {k: type(v).__name__ for k, v in back.nodes.items()}
    assert kinds["x"] == "Input" and kinds["lif"] == "LIF" and kinds["li"] == "LI" and kinds["z"] == "Output"
    assert sorted(set(kinds.values())) == ["Affine", "Delay", "Input", "LI", "LIF", "Linear", "Output"]
    np.testing.assert_allclose(back.nodes["li"].tau, li.tau, rtol=1e-15)
    np.testing.assert_allclose(back.nodes["li"].r, li.r, rtol=1e-15)
    np.testing.assert_allclose(back.nodes["lif"].tau, lif.tau, rtol=1e-15)
    # the readout's weights come back to float32 precision, its bias exactly
    into_z = [a for a, b in back.edges if b == "z"]
    (delay,) = into_z
    (weights,) = [a for a, b in back.edges if b == delay]
    np.testing.assert_allclose(back.nodes[weights].weight, w3, rtol=1e-6)
    np.testing.assert_array_equal(back.nodes[weights].bias, [0.1, 0.0, -0.1])
    again = from_nir(back, **opts)
    assert [(p.name, p.size) for p in again.network.populations] == [(p.name, p.size) for p in imp.network.populations]
    assert again.readouts.keys() == imp.readouts.keys() and again.outputs == imp.outputs
    for p in imp.network.populations:
        a, b = p.arrays(), again.network.population(p.name).arrays()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"{p.name}.{key}")
    c1, c2 = imp.network.csr().to_coo(), again.network.csr().to_coo()
    for x, y in zip(c1, c2):
        np.testing.assert_array_equal(np.sort(x), np.sort(y))
