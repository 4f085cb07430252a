"""Every graph of nir's own test suite (tests/test_architectures.py and tests/test_readwrite.py of
neuromorphs/NIR), rebuilt here with nir's classes as those tests construct them, imports with no
node dropped, or ends in one error that names the node (or the edge) and its type.

nir's ``mock_affine(*shape)`` is ``Affine(weight=randn(*shape).T, bias=randn(shape[1]))`` and
``mock_conv(input_shape, weight_shape)`` a Conv with random weight and bias; their graphs are
built here with ``type_check=False`` where nir 1.0's own type check refuses them (its tests were
written against earlier versions).
"""

from __future__ import annotations

import copy
import dataclasses
import re
import warnings

import nir
import numpy as np
import pytest

from neurochip.errors import InvalidParameterError
from neurochip.network._nir_graph import flatten
from neurochip.network.nir_io import from_nir
from neurochip.network.nir_result import network_digest

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


def _rw_pool_shapes_agreeing(cls):
    """As _rw_pool, with a padding that is a pair and the stride that gives the declared 5 x 5."""
    return from_list(nir.Input(input_type=np.array([2, 2, 10, 10])),
                     cls(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
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
    "readwrite::simple": (_rw_simple, "NIR node 'a' (Affine): lies on a loop with no neuron in it (an algebraic loop)"),
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
    "readwrite::threshold": (_rw_threshold, None),
    "readwrite::flatten": (_rw_flatten, None),
    "readwrite::sum_pool_2d": (lambda: _rw_pool(nir.SumPool2d),
                               "NIR node 'sumpool2d' (SumPool2d): padding = []: expected 2 integer value(s)"),
    "readwrite::avg_pool_2d": (lambda: _rw_pool(nir.AvgPool2d),
                               "NIR node 'avgpool2d' (AvgPool2d): padding = []: expected 2 integer value(s)"),
}  # fmt: skip


# The same graphs with the shapes of their mock weights made to agree (the errors above are the
# graphs' own): what nir's tests exercise then imports and round-trips.  The simple (an Affine
# feeding itself) and nested (an integrator's potential fed back) graphs have nothing to agree.


def _fixed_sequential():
    return from_list(mock_affine(2, 3), nir.Delay(np.array([0.5, 0.1, 0.2])), lif([10, 20, 30], [1, 2, 3]),
                     mock_affine(3, 2))  # fmt: skip


def _fixed_branches():
    b1 = from_list(mock_affine(2, 3), nir.Delay(np.array([0.5, 0.1, 0.2])), lif([10, 20, 30], [1, 2, 3]),
                   mock_affine(3, 2))  # fmt: skip
    b2 = from_list(mock_affine(3, 2), lif([10, 20], [1, 2]), mock_affine(2, 2))
    return b1, b2


def _fixed_two_independent_branches():
    b1, b2 = _fixed_branches()
    return graph({"branch_1": b1, "branch_2": b2}, [])


def _fixed_two_independent_branches_merging():
    b1, b2 = _fixed_branches()
    return graph({"branch_1": b1, "branch_2": b2, "junction": lif([5, 2], [1, 1])},
                 [("branch_1", "junction"), ("branch_2", "junction")])  # fmt: skip


def _fixed_merge_and_split_single_output():
    pre = from_list(mock_affine(2, 3), lif([10, 20, 30], [1, 2, 3]))
    b1 = from_list(mock_affine(3, 2), lif([10, 20], [1, 2]))
    b2 = from_list(mock_affine(3, 2), lif([15, 5], [1, 1]))
    junction = nir.Affine(weight=np.array([[2, 0], [1, 3], [4, 1]]), bias=np.array([0, 1, 0]))
    return graph({"pre_split": pre, "branch_1": b1, "branch_2": b2, "junction": junction},
                 [("pre_split", "branch_1"), ("pre_split", "branch_2"), ("branch_1", "junction"),
                  ("branch_2", "junction")])  # fmt: skip


def _fixed_residual():
    nodes = {"a": mock_affine(2, 3), "b": lif([10, 20, 30], [1, 2, 3]), "c": mock_affine(3, 3),
             "d": lif([10, 20, 30], [1, 2, 1]), "e": mock_affine(3, 2), "f": lif([15, 5], [1, 1])}  # fmt: skip
    return graph(nodes, [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("a", "e"), ("e", "f")])


def _fixed_complex():
    nodes = {
        "a": nir.Affine(weight=np.array([[1], [2], [3]]), bias=np.array([0, 0, 0])),
        "b": lif([10, 20, 30], [1, 2, 3]),
        "c": lif([5, 20, 1], [1, 1, 1]),
        "d": nir.Affine(weight=np.array([[1, 3, 2], [3, 1, 4]]), bias=np.array([0, 0])),
        "e": nir.Affine(weight=np.array([[1, 3, 2], [3, 1, 4]]), bias=np.array([0, 0])),
        "f": nir.Affine(weight=np.array([[1, 3], [1, 4]]), bias=np.array([0, 0])),
    }
    return graph(nodes, [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("c", "e"), ("d", "f"), ("e", "f")])


def _fixed_conv1d():
    return from_list(mock_affine(2, 200), mock_conv(100, (1, 2, 3)), mock_affine(98, 2))


def _fixed_neuron(node):
    return lambda: graph({"a": mock_affine(2, 3), "b": node}, [("a", "b")])


def _fixed_listed(first, node):
    return lambda: from_list(first(), node)


ONE3 = np.array([1, 1, 1])
FIXED = {
    "architectures::sequential": _fixed_sequential,
    "architectures::two_independent_branches": _fixed_two_independent_branches,
    "architectures::two_independent_branches_merging": _fixed_two_independent_branches_merging,
    "architectures::merge_and_split_single_output": _fixed_merge_and_split_single_output,
    "architectures::residual": _fixed_residual,
    "architectures::complex": _fixed_complex,
    "readwrite::conv1d": _fixed_conv1d,
    "readwrite::integrator": _fixed_neuron(nir.I(ONE3)),
    "readwrite::integrate_and_fire": _fixed_neuron(nir.IF(ONE3, ONE3)),
    "readwrite::leaky_integrator": _fixed_listed(lambda: mock_affine(2, 3), nir.LI(ONE3, ONE3, ONE3)),
    "readwrite::linear": _fixed_listed(lambda: mock_linear(2, 3), nir.LI(ONE3, ONE3, ONE3)),
    "readwrite::leaky_integrator_and_fire": _fixed_listed(lambda: mock_affine(2, 3), nir.LIF(ONE3, ONE3, ONE3, 3 * ONE3)),
    "readwrite::current_based_leaky_integrator_and_fire": _fixed_listed(
        lambda: mock_affine(2, 3), nir.CubaLIF(ONE3, 2 * ONE3, ONE3, ONE3, 3 * ONE3, w_in=2 * ONE3)),
    "readwrite::simple_with_read_write": lambda: from_list(nir.Input(input_type=np.array([3])), mock_affine(3, 3),
                                                            nir.Output(output_type=np.array([3]))),
    "readwrite::sum_pool_2d": lambda: _rw_pool_shapes_agreeing(nir.SumPool2d),
    "readwrite::avg_pool_2d": lambda: _rw_pool_shapes_agreeing(nir.AvgPool2d),
}  # fmt: skip


def _import(g):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return from_nir(g, dt_s=1.0, reset="value", t_ref_s=0.0, delay_s=1.0)


def _same(a, b, where):
    """Equal values: arrays of the same dtype, shape and entries (NaN equal to NaN), dicts with the
    same keys and values, sequences item by item, anything else by ==."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), f"{where}: {type(a)} vs {type(b)}"
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        nan = a.dtype.kind in "fc"
        assert np.array_equal(a, b, equal_nan=nan), f"{where}: values differ"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{where}: keys {sorted(a)} vs {sorted(b)}"
        for k in a:
            _same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), f"{where}: {a!r} vs {b!r}"
        for k, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{k}]")
    else:
        assert type(a) is type(b) and (a == b or (a != a and b != b)), f"{where}: {a!r} vs {b!r}"


def assert_same_graph(a, b, where="graph"):
    """a and b are equal node for node: the same node names, each node of the same type with the
    same fields (types, shapes, parameters, metadata), subgraphs alike, the same edges in order."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, nir.NIRGraph):
        assert list(a.nodes) == list(b.nodes), f"{where}: nodes {list(a.nodes)} vs {list(b.nodes)}"
        for name in a.nodes:
            assert_same_graph(a.nodes[name], b.nodes[name], f"{where}.{name}")
        assert [tuple(e) for e in a.edges] == [tuple(e) for e in b.edges], f"{where}: edges differ"
        _same(a.metadata, b.metadata, f"{where}.metadata")
        return
    assert vars(a).keys() == vars(b).keys(), f"{where}: fields {sorted(vars(a))} vs {sorted(vars(b))}"
    for field, value in vars(a).items():
        _same(value, getattr(b, field), f"{where}.{field}")


def _check_imports_whole_and_round_trips(g):
    original = copy.deepcopy(g)
    imp = _import(g)
    assert_same_graph(original, g)  # the import leaves the graph alone
    nodes, edges = flatten(g)
    pops = {p.name: p.size for p in imp.network.populations}
    # no node is dropped: every node says what it became, and that thing exists
    assert imp.nodes.keys() == nodes.keys()
    ends = {k for k, v in imp.nodes.items() if v in ("population", "relay population", "readout population", "output")}
    after: dict[str, list[str]] = {k: [] for k in nodes}
    for a, b in edges:
        after[a].append(b)
    for name, became in imp.nodes.items():
        if became.endswith("population"):
            assert pops[name] >= 1, name
        elif became == "input port":
            assert name in imp.inputs, name
        elif became == "output":
            assert name in imp.outputs, name
        elif became == "synapses":  # a chain node reaches a population or an Output
            seen, todo = set(), list(after[name])
            while todo:
                k = todo.pop()
                if k not in seen:
                    seen.add(k)
                    todo += after[k]
            assert seen & ends, name
        else:
            assert became == "pass" and "." in name, (name, became)
    # every Output has the width it declares
    for name, node in nodes.items():
        if imp.nodes[name] in ("output", "readout population"):
            if type(node).__name__ == "Output":
                declared = int(np.prod(node.output_type["output"]))
                assert sum(pops[p] for p in imp.outputs[name]) == declared, name
    # NIR -> neurochip -> NIR: the graph node for node; and again into neurochip: the same network
    back = imp.to_nir()
    assert_same_graph(original, back)
    again = _import(back)
    assert network_digest(again.network) == network_digest(imp.network)
    return imp


@pytest.mark.parametrize("case", sorted(SUITE))
def test_every_nir_test_graph_round_trips_node_for_node_or_ends_in_one_error_naming_the_node(case):
    build, error = SUITE[case]
    g = build()
    if error is None:
        _check_imports_whole_and_round_trips(g)
        return
    with pytest.raises(InvalidParameterError) as info:
        _import(g)
    text = str(info.value)
    assert text.startswith(error) and "\n" not in text, text
    # the one error names a node and its type, or both ends of an edge with their types
    named = re.match(r"NIR node '[^']+' \((\w+)\): ", text) or re.match(
        r"NIR edge '[^']+' -> '[^']+': shape mismatch: '[^']+' \((\w+)\) outputs \d+ values, '[^']+' \((\w+)\) takes", text)
    assert named, text
    assert all(hasattr(nir, t) for t in named.groups()), text


def test_the_suite_has_every_graph_of_nirs_two_test_files_and_the_fixes_are_the_shape_errors():
    assert len(SUITE) == 23
    errors = {k for k, (_, e) in SUITE.items() if e is not None}
    assert set(FIXED) <= errors
    # every error left without a fix is one the graph cannot avoid: a loop with no neuron, an
    # integrator's potential fed back, a pooling padding that is not a pair (that one is fixed)
    assert errors - set(FIXED) == {"readwrite::simple", "readwrite::nested"}


@pytest.mark.parametrize("case", sorted(FIXED))
def test_the_same_graphs_with_shapes_that_agree_import_whole_and_round_trip_node_for_node(case):
    imp = _check_imports_whole_and_round_trips(FIXED[case]())
    assert imp.network.populations  # something to run


def test_a_round_trip_through_files_gives_the_file_back_node_for_node(tmp_path):
    from neurochip.network.nir_io import read_nir

    g = _fixed_merge_and_split_single_output()
    nir.write(str(tmp_path / "a.nir"), g)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imp = read_nir(tmp_path / "a.nir", dt_s=1.0)
    nir.write(str(tmp_path / "b.nir"), imp.to_nir())
    assert_same_graph(nir.read(str(tmp_path / "a.nir")), nir.read(str(tmp_path / "b.nir")))


def test_a_changed_network_is_exported_from_its_synapses_with_a_warning():
    from neurochip.network import Network
    from neurochip.network.nir_io import NIRExportWarning

    imp = _import(_fixed_sequential())
    pops = list(imp.network.populations)
    k = [p.name for p in pops].index("lif")
    v_th = pops[k].arrays()["v_th_volt"] * 2
    pops[k] = dataclasses.replace(pops[k], per_neuron={**pops[k].per_neuron, "v_th_volt": v_th})
    changed = dataclasses.replace(imp, network=Network(populations=tuple(pops), projections=imp.network.projections))
    with pytest.warns(NIRExportWarning, match="the network differs from the one imported"):
        back = changed.to_nir()
    assert "delay" not in back.nodes  # the network's own export: a Delay node per connected pair, named after it
    np.testing.assert_array_equal(back.nodes["lif"].v_threshold, v_th)
    assert network_digest(_import(back).network) == network_digest(changed.network)
    # options ask for the export from the network too (no warning: the network is the imported one)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NIRExportWarning)
        generic = imp.to_nir(dt_s=1.0)
    assert network_digest(_import(generic).network) == network_digest(imp.network)


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
    back = imp.to_nir(dt_s=1e-4)  # an option: exported from the network's populations and synapses
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


@pytest.mark.parametrize("first", ["subgraph", "dotted"])
def test_a_dotted_node_name_that_collides_with_a_flattened_subgraph_node_is_one_error(first):
    def lif():
        return nir.LIF(tau=np.ones(2), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2))

    sub = nir.NIRGraph(nodes={"i": nir.Input(input_type=np.array([2])), "lif": lif(),
                              "o": nir.Output(output_type=np.array([2]))},
                       edges=[("i", "lif"), ("lif", "o")], type_check=False)  # fmt: skip
    nodes = {"sub": sub, "sub.lif": lif()} if first == "subgraph" else {"sub.lif": lif(), "sub": sub}
    with pytest.raises(InvalidParameterError, match=r"^NIR node 'sub.lif' \(LIF\): two nodes have this name once "
                                                    r"subgraphs are flattened to 'sub.node' names \(the other is a LIF\)"):
        _import(nir.NIRGraph(nodes=nodes, edges=[], type_check=False))
