"""Spiking CNNs from NIR: convolution and pooling nodes expanded to synapses.

The graph is laid out as the NIR paper's Sinabs N-MNIST model (Conv2d -> IF -> SumPool2d -> Conv2d
-> IF -> SumPool2d -> Flatten -> Affine -> IF), built with nir's classes on a small 2 x 16 x 16
input, in Sinabs' conventions: a time step of dt_s = 1 and spikes as unit pulses.  The reference
is an independent time-stepped NumPy simulation of NIR's equations written here: each layer's
input at step t is its weights applied (by explicit loops over the kernel, not by a matrix) to the
spikes the layer before emitted at step t - 1; IF: v += r * input, a spike when v > v_threshold,
then v = v_reset.  The weights are multiples of 1/4 and the thresholds 1.125, so every sum is exact
and no membrane lands on a threshold (where NIR's v > v_th and neurochip's V >= V_th differ).
"""

from __future__ import annotations

import warnings

import nir
import numpy as np
import pytest

from neurochip.emulator import run
from neurochip.network.nir_io import from_nir
from neurochip.onchip import run_on_chip

THRESHOLD = 1.125


def _conv_ref(x, w, pad):
    """Cross-correlation of x (C, H, W) with w (Co, C, k, k), stride 1, zero padding pad."""
    c, h, wd = x.shape
    co, _, k, _ = w.shape
    xp = np.zeros((c, h + 2 * pad, wd + 2 * pad))
    xp[:, pad:pad + h, pad:pad + wd] = x
    ho, wo = h + 2 * pad - k + 1, wd + 2 * pad - k + 1
    out = np.zeros((co, ho, wo))
    for o in range(co):
        for i in range(c):
            for a in range(k):
                for b in range(k):
                    out[o] += w[o, i, a, b] * xp[i, a:a + ho, b:b + wo]
    return out


def _sumpool_ref(x, k):
    c, h, w = x.shape
    return x[:, : h // k * k, : w // k * k].reshape(c, h // k, k, w // k, k).sum(axis=(2, 4))


def _lattice(rng, shape, lo=-3, hi=5):
    return rng.integers(lo, hi, size=shape) / 4.0


def _cnn(rng):
    w1 = _lattice(rng, (4, 2, 3, 3))
    w2 = _lattice(rng, (4, 4, 3, 3), -2, 4)
    w3 = _lattice(rng, (10, 64), -2, 4)

    def if_layer(shape):
        return nir.IF(r=np.ones(shape), v_threshold=np.full(shape, THRESHOLD), v_reset=np.zeros(shape))

    def conv(shape, w):
        return nir.Conv2d(input_shape=shape, weight=w, stride=1, padding=1, dilation=1, groups=1,
                          bias=np.zeros(w.shape[0]))  # fmt: skip

    pool = dict(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0]))
    nodes = {
        "input": nir.Input(input_type=np.array([2, 16, 16])),
        "conv1": conv((16, 16), w1),
        "if1": if_layer((4, 16, 16)),
        "pool1": nir.SumPool2d(**pool),
        "conv2": conv((8, 8), w2),
        "if2": if_layer((4, 8, 8)),
        "pool2": nir.SumPool2d(**pool),
        "flat": nir.Flatten(input_type={"input": np.array([4, 4, 4])}, start_dim=0),
        "fc": nir.Affine(weight=w3, bias=np.zeros(10)),
        "if3": if_layer((10,)),
        "output": nir.Output(output_type=np.array([10])),
    }
    order = list(nodes)
    graph = nir.NIRGraph(nodes=nodes, edges=list(zip(order[:-1], order[1:])), type_check=False)
    return graph, (w1, w2, w3)


def _reference(weights, spikes_in):
    """Spike counts per neuron of each IF layer, time-stepped (T steps of input, then the pipeline drains)."""
    w1, w2, w3 = weights
    t_in = spikes_in.shape[0]
    v = [np.zeros((4, 16, 16)), np.zeros((4, 8, 8)), np.zeros(10)]
    prev = [np.zeros((2, 16, 16)), np.zeros((4, 16, 16)), np.zeros((4, 8, 8))]
    counts = [np.zeros_like(x) for x in v]
    for t in range(t_in + 4):
        x0 = spikes_in[t] if t < t_in else np.zeros((2, 16, 16))
        inputs = [_conv_ref(prev[0], w1, 1), _conv_ref(_sumpool_ref(prev[1], 2), w2, 1),
                  w3 @ _sumpool_ref(prev[2], 2).reshape(-1)]  # fmt: skip
        out = []
        for k in range(3):
            v[k] = v[k] + inputs[k]  # r = 1, dt = 1
            s = v[k] > THRESHOLD
            v[k][s] = 0.0
            counts[k] += s
            out.append(s.astype(float))
        prev = [x0, out[0], out[1]]
    return counts


@pytest.fixture(scope="module")
def cnn():
    rng = np.random.default_rng(2023)
    graph, weights = _cnn(rng)
    spikes = (rng.random((30, 2, 16, 16)) < 0.15).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imp = from_nir(graph, dt_s=1.0, reset="value", t_ref_s=0.0, delay_s=1.0)
    t, c = np.nonzero(spikes.reshape(30, -1))
    stimuli = imp.spike_input("input", t.astype(float), c)
    return imp, weights, spikes, stimuli


def test_the_cnn_imports_with_its_layer_shapes_and_both_memory_counts(cnn):
    imp = cnn[0]
    assert [(p.name, p.size) for p in imp.network.populations] == [
        ("input", 512), ("if1", 1024), ("if2", 256), ("if3", 10)]  # fmt: skip
    assert imp.outputs == {"output": ("if3",)} and imp.readouts == {}
    conv1, conv2 = imp.layers["conv1"], imp.layers["conv2"]
    assert conv1.input_shape == (2, 16, 16) and conv1.output_shape == (4, 16, 16)
    assert conv2.input_shape == (4, 8, 8) and conv2.output_shape == (4, 8, 8)
    assert imp.layers["pool1"].output_shape == (4, 8, 8) and imp.layers["pool2"].output_shape == (4, 4, 4)
    assert conv1.shared_weights == 4 * 2 * 9 and conv1.shared_bytes == 4 * 72
    # expanded: each output sees the 3 x 3 window clipped at the border, per input channel; count by hand
    per_axis = np.array([2] + [3] * 14 + [2])  # taps of a 3-tap, pad-1 window on 16 positions
    taps = int(np.outer(per_axis, per_axis).sum())
    w1 = cnn[1][0]
    nonzero_kernel = (w1 != 0)
    # a tap (a, b) exists at output (i, j) when the input row i + a - 1 and column j + b - 1 are inside
    rows = np.array([[0 <= i + a - 1 < 16 for i in range(16)] for a in range(3)])
    windows = np.einsum("ai,bj->abij", rows, rows).sum(axis=(2, 3))  # (a, b) -> outputs that have the tap
    expect = int((nonzero_kernel * windows[None, None]).sum())
    assert taps == int(windows.sum())
    assert conv1.expanded_synapses == expect and conv1.expanded_bytes == 8 * expect


def test_the_cnn_spike_counts_equal_a_time_stepped_numpy_simulation(cnn):
    imp, weights, spikes, stimuli = cnn
    ref = _reference(weights, spikes)
    assert all(r.sum() > 0 for r in ref)  # every layer fires
    res = run(imp.network, duration_s=33.5, inputs=stimuli)
    net = imp.network
    for name, r in zip(("if1", "if2", "if3"), ref):
        got = res.spike_counts[net.offset(name): net.offset(name) + net.population(name).size]
        np.testing.assert_array_equal(got, r.reshape(-1).astype(np.int64), err_msg=name)


def test_the_cnn_maps_onto_a_chip_and_runs_to_the_same_counts(cnn):
    imp, weights, spikes, stimuli = cnn
    ref = _reference(weights, spikes)
    # mapped and counted on the chip, spikes delivered at their synaptic delay (route=False): routed
    # packets arrive nanoseconds apart, which splits a volley that NIR sums within one time step
    record = run_on_chip(imp.network, "loihi", duration_s=33.5, inputs=stimuli, route=False)
    net = imp.network
    for name, r in zip(("if1", "if2", "if3"), ref):
        got = record.spike_counts[net.offset(name): net.offset(name) + net.population(name).size]
        np.testing.assert_array_equal(got, r.reshape(-1).astype(np.int64), err_msg=name)
    assert len(set(record.neuron_core.tolist())) >= 1 and record.counts is not None


@pytest.mark.parametrize("cls, value", [(nir.SumPool2d, 1.0), (nir.AvgPool2d, 0.25)])
def test_pooling_over_several_leading_axes_pools_each_of_their_indices_as_a_channel(cls, value):
    """An input of shape (2, 3, 4, 4): pooling acts on the last two axes, each (a, b) of the leading
    ones on its own (as PyTorch pools a batched input).  The synapses from the relays, set against
    index arithmetic on numpy's C order: input (a, b, i, j) reaches output (a, b, i // 2, j // 2)."""
    g = nir.NIRGraph.from_list(
        nir.Input(input_type=np.array([2, 3, 4, 4])),
        cls(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        nir.IF(r=np.ones(24), v_threshold=np.ones(24)), nir.Output(output_type=np.array([24])),
        type_check=False,  # nir's own shape inference reads the first axis as a batch
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imp = from_nir(g, dt_s=1.0, reset="value", t_ref_s=0.0, delay_s=1.0)
    assert imp.layers[next(iter(imp.layers))].output_shape == (2, 3, 2, 2)
    pre, post, w, _ = imp.network.csr().to_coo()
    a, b, i, j = np.unravel_index(np.arange(96), (2, 3, 4, 4))
    expected = np.ravel_multi_index((a, b, i // 2, j // 2), (2, 3, 2, 2))
    order = np.argsort(pre, kind="stable")
    np.testing.assert_array_equal(pre[order], np.arange(96))
    np.testing.assert_array_equal(post[order] - imp.network.offset("if"), expected)
    np.testing.assert_array_equal(w, np.full(96, value, np.float32))


def _coo(net):
    pre, post, w, d = net.csr().to_coo()
    order = np.lexsort((d, post, pre))
    return pre[order], post[order], w[order], d[order]


def test_a_changed_cnn_exports_its_convolution_as_a_conv_node_and_reimports_to_the_same_synapses(cnn):
    """A change unrelated to the convolution (the threshold of the last layer): the export writes
    conv1 back as a Conv2d node with its kernel (its synapses are still its expansion), conv2 as a
    dense node, with the warning saying why (pool1 before it was composed with conv2 at import: one
    matrix, not split back into a pooling and a Conv node; pool2 likewise with fc), and the graph imports again to the same
    synapses and the changed parameter."""
    import dataclasses

    from neurochip.network.nir_io import NIRExportWarning

    imp, (w1, _, _), _, _ = cnn
    net = imp.network
    if3 = net.population("if3")
    changed = dataclasses.replace(if3, params=dataclasses.replace(if3.params, v_th_volt=1.375))
    net2 = dataclasses.replace(net, populations=tuple(changed if p.name == "if3" else p for p in net.populations))
    with pytest.warns(NIRExportWarning) as rec:
        back = dataclasses.replace(imp, network=net2).to_nir()
    text = " ".join(str(w.message) for w in rec)
    assert "input->if1" not in text
    assert "if1->if2: a dense Linear node, not SumPool2d 'pool1': it was composed at import with the node 'conv2' " \
        "(Conv2d) after it" in text
    assert "if2->if3: a dense Linear node, not SumPool2d 'pool2': it was composed at import with the node 'fc' " \
        "(Affine) after it" in text
    assert imp.layers["pool1"].folded_into and not imp.layers["conv1"].folded_into
    conv = back.nodes["conv1"]
    assert type(conv).__name__ == "Conv2d" and conv.weight.shape == (4, 2, 3, 3)
    np.testing.assert_array_equal(conv.weight, w1)  # multiples of 1/4: exact through float32
    assert tuple(conv.input_shape) == (16, 16) and tuple(conv.padding) == (1, 1) and tuple(conv.stride) == (1, 1)
    assert ("input", "conv1") in back.edges
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = from_nir(back, dt_s=1.0, reset="value", t_ref_s=0.0, delay_s=1.0)
    assert [(p.name, p.size) for p in again.network.populations] == [(p.name, p.size) for p in net2.populations]
    for a, b in zip(_coo(again.network), _coo(net2)):
        np.testing.assert_array_equal(a, b)
    assert again.network.population("if3").params.v_th_volt == 1.375 and again.layers["conv1"] == imp.layers["conv1"]


@pytest.mark.parametrize("one_d", [False, True])
def test_a_strided_grouped_biased_convolution_goes_back_as_conv_and_an_edited_one_as_linear(one_d):
    """Stride 2, padding 1, dilation 2, two groups and a bias per output channel (Conv2d on 4 x 9 x 9,
    or Conv1d on 4 x 11), written back as the same node after an unrelated change; one synapse edited
    (the kernel no longer shared) goes back dense, the warning naming the layer and the reason."""
    import dataclasses

    from neurochip.network.nir_io import NIRExportWarning
    from neurochip.network.rules import Explicit

    rng = np.random.default_rng(5)
    kernel = rng.integers(-3, 5, size=(6, 2, 3) if one_d else (6, 2, 3, 3)) / 4.0
    bias = np.array([0.25, 0.0, -0.5, 0.75, 0.5, 0.0])
    if one_d:
        node = nir.Conv1d(input_shape=11, weight=kernel, stride=2, padding=1, dilation=2, groups=2, bias=bias)
        in_shape, out_n = (4, 11), 6 * 5
    else:
        node = nir.Conv2d(input_shape=(9, 9), weight=kernel, stride=2, padding=1, dilation=2, groups=2, bias=bias)
        in_shape, out_n = (4, 9, 9), 6 * 4 * 4
    g = nir.NIRGraph(nodes={"x": nir.Input(input_type={"input": np.array(in_shape)}), "conv": node,
                            "lif": nir.LIF(tau=np.full(out_n, 2.0), r=np.ones(out_n), v_leak=np.zeros(out_n),
                                           v_threshold=np.ones(out_n)),
                            "y": nir.Output(output_type={"output": np.array([out_n])})},
                     edges=[("x", "conv"), ("conv", "lif"), ("lif", "y")], type_check=False)  # fmt: skip
    opts = dict(dt_s=1.0, reset="value", t_ref_s=0.0, delay_s=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imp = from_nir(g, **opts)
    net = imp.network
    lif = net.population("lif")
    moved = dataclasses.replace(lif, v_init_volt=np.full(out_n, 0.125))  # unrelated to the synapses
    net2 = dataclasses.replace(net, populations=(net.population("x"), moved))
    with pytest.warns(NIRExportWarning, match="differs from the one imported") as rec:
        back = dataclasses.replace(imp, network=net2).to_nir()
    assert not any("dense" in str(w.message) for w in rec)
    conv = back.nodes["conv"]
    assert type(conv).__name__ == type(node).__name__
    np.testing.assert_array_equal(conv.weight, kernel)
    np.testing.assert_array_equal(conv.bias, bias)
    assert conv.groups == 2 and np.all(np.asarray(conv.stride) == 2) and np.all(np.asarray(conv.dilation) == 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = from_nir(back, **opts)
    for a, b in zip(_coo(again.network), _coo(net2)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(again.network.population("lif").arrays()["bias_current_amp"], lif.arrays()["bias_current_amp"])
    # one synapse edited: no longer a convolution's expansion -> dense, and the warning says why
    pre, post, w, d = net.csr().to_coo()
    w = w.astype(np.float64)
    w[0] += 0.5
    x_size = net.population("x").size
    rule = Explicit(pre=pre, post=post - x_size, weight_volt=w, delay_s=d)
    proj = dataclasses.replace(net.projections[0], rule=rule)
    net3 = dataclasses.replace(net, projections=(proj,))
    with pytest.warns(NIRExportWarning) as rec:
        edited = dataclasses.replace(imp, network=net3).to_nir()
    assert any("x->lif: a dense Linear node, not Conv" in str(w.message) and "'conv': the weights of one kernel "
               "entry differ between positions" in str(w.message) for w in rec)  # fmt: skip
    assert "conv" not in edited.nodes and any(type(v).__name__ == "Affine" for v in edited.nodes.values())


_POOL = dict(kernel_size=(3, 2), stride=(2, 2), padding=(1, 0))  # overlapping rows, padded; (2, 6, 6) -> (2, 3, 3)


def _pool_graph(cls):
    node = cls(**{k: np.array(v) for k, v in _POOL.items()})
    g = nir.NIRGraph(nodes={"x": nir.Input(input_type={"input": np.array([2, 6, 6])}), "pool": node,
                            "if": nir.IF(r=np.ones(18), v_threshold=np.full(18, THRESHOLD), v_reset=np.zeros(18)),
                            "y": nir.Output(output_type={"output": np.array([18])})},
                     edges=[("x", "pool"), ("pool", "if"), ("if", "y")], type_check=False)  # fmt: skip
    return g


def _pool_synapses(value):
    """The expansion of _POOL on (2, 6, 6) by loops over NIR's definition: (pre, post, weight), sorted."""
    (kh, kw), (sh, sw), (ph, pw) = _POOL.values()
    out = []
    for c in range(2):
        for oi in range(3):
            for oj in range(3):
                for a in range(kh):
                    for b in range(kw):
                        i, j = oi * sh - ph + a, oj * sw - pw + b
                        if 0 <= i < 6 and 0 <= j < 6:
                            out.append((c * 36 + i * 6 + j, c * 9 + oi * 3 + oj, value))
    pre, post, w = (np.array(x) for x in zip(*sorted(out)))
    return pre, post, w


def _changed(imp, edit=None, bias=0.0):
    """The imported network with the IF threshold changed (unrelated to the synapses), the
    pooling's synapse weights (V) passed through ``edit`` when given, and a bias current (A)."""
    import dataclasses

    from neurochip.network.rules import Explicit

    net = imp.network
    pop = net.population("if")
    pop = dataclasses.replace(pop, params=dataclasses.replace(pop.params, v_th_volt=1.375), bias_current_amp=bias)
    projections = net.projections
    if edit is not None:
        pre, post, w, d = net.csr().to_coo()
        rule = Explicit(pre=pre, post=post - net.offset("if"), weight_volt=edit(w.astype(np.float64)), delay_s=d)
        projections = (dataclasses.replace(net.projections[0], rule=rule),)
    return dataclasses.replace(imp, network=dataclasses.replace(net, populations=(net.population("x"), pop),
                                                                projections=projections))  # fmt: skip


@pytest.mark.parametrize("cls, value", [(nir.SumPool2d, 1.0), (nir.AvgPool2d, 1.0 / 6.0)])
def test_a_changed_network_exports_its_pooling_as_the_pooling_node_and_reimports_to_the_same_synapses(cls, value):
    """SumPool2d / AvgPool2d with a 3 x 2 kernel, stride 2 and a row of padding (overlapping, some
    windows cut by the padding: AvgPool2d counts it, 1/6 everywhere): after a change to the IF
    threshold the export writes the node back with the parameters it was built with, no dense
    warning, and importing that graph gives the synapses of the expansion written out here by loops
    (r = 1, dt = 1: the weight in V is NIR's) and the changed threshold."""
    from neurochip.network.nir_io import NIRExportWarning

    opts = dict(dt_s=1.0, reset="value", t_ref_s=0.0, delay_s=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imp = from_nir(_pool_graph(cls), **opts)
    with pytest.warns(NIRExportWarning, match="differs from the one imported") as rec:
        back = _changed(imp).to_nir()
    assert not any("dense" in str(w.message) for w in rec)
    node = back.nodes["pool"]
    assert type(node) is cls
    for k, v in _POOL.items():
        np.testing.assert_array_equal(np.asarray(getattr(node, k)), v, err_msg=k)
    assert ("x", "pool") in back.edges and not any(type(v).__name__ in ("Linear", "Affine") for v in back.nodes.values())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = from_nir(back, **opts)
    pre, post, w, d = _coo(again.network)
    want_pre, want_post, want_w = _pool_synapses(value)
    np.testing.assert_array_equal(pre, want_pre)
    np.testing.assert_array_equal(post - again.network.offset("if"), want_post)
    np.testing.assert_allclose(w, want_w, rtol=1e-7)
    np.testing.assert_array_equal(d, np.ones(want_pre.size))
    assert again.network.population("if").params.v_th_volt == 1.375


def _edit_one(w):
    w = w.copy()
    w[5] *= 1.5
    return w


def _drop_one(w):
    w = w.copy()
    w[5] = 0.0  # an Explicit synapse of weight 0 is kept: one position off the pooling's value
    return w


@pytest.mark.parametrize("cls", [nir.SumPool2d, nir.AvgPool2d])
@pytest.mark.parametrize("edit, why", [
    (_edit_one, "the weights of one kernel entry differ between positions"),
    (lambda w: 2.0 * w, "12 of its 12 kernel weights (2 channels x 3 x 2) are not the {kind}'s"),  # shared, but not the pooling's value
    (_drop_one, "synapses of weight 0"),
])  # fmt: skip
def test_an_edited_pooling_goes_back_dense_with_the_warning_naming_why(cls, edit, why):
    """One pooling synapse edited, every one doubled (still one shared kernel, but not the value the
    pooling gives) or one set to 0: the pair goes dense, the warning naming the pair, the layer and
    the reason, and no pooling node is written."""
    from neurochip.network.nir_io import NIRExportWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imp = from_nir(_pool_graph(cls), dt_s=1.0, reset="value", t_ref_s=0.0, delay_s=1.0)
    with pytest.warns(NIRExportWarning) as rec:
        back = _changed(imp, edit).to_nir()
    text = " ".join(str(w.message) for w in rec)
    assert f"x->if: a dense Linear node, not {cls.__name__} 'pool': " + why.format(kind=cls.__name__) in text
    assert "pool" not in back.nodes and not any(type(v).__name__.endswith("Pool2d") for v in back.nodes.values())


def test_a_pooling_into_a_biased_population_goes_back_dense_with_the_bias_on_its_affine():
    """A pooling node has no bias: with a bias current given to the IF population after the
    SumPool2d, the synapses go dense (an Affine node carrying the bias), the warning says why, and
    the graph imports again to the same synapses and bias."""
    from neurochip.network.nir_io import NIRExportWarning

    opts = dict(dt_s=1.0, reset="value", t_ref_s=0.0, delay_s=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imp = from_nir(_pool_graph(nir.SumPool2d), **opts)
    changed = _changed(imp, bias=0.25)
    with pytest.warns(NIRExportWarning) as rec:
        back = changed.to_nir()
    assert any("x->if: a dense Linear node, not SumPool2d 'pool': population 'if' has a bias current, which a "
               "SumPool2d node cannot carry" in str(w.message) for w in rec)  # fmt: skip
    assert "pool" not in back.nodes
    (affine,) = [v for v in back.nodes.values() if type(v).__name__ == "Affine"]
    np.testing.assert_array_equal(affine.bias, np.full(18, 0.25))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = from_nir(back, **opts)
    pre, post, w, _ = _coo(again.network)
    want_pre, want_post, want_w = _pool_synapses(1.0)
    np.testing.assert_array_equal(pre, want_pre)
    np.testing.assert_array_equal(post - again.network.offset("if"), want_post)
    np.testing.assert_allclose(w, want_w, rtol=1e-7)
    np.testing.assert_array_equal(again.network.population("if").arrays()["bias_current_amp"], np.full(18, 0.25))
