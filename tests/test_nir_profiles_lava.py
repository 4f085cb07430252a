"""The Lava-DL profile: graphs laid out as Lava-DL's NIR export writes them (lava/lib/dl/netx/nir_lava.py,
read_node / read_neuron), run in the emulator and set against an independent simulation of Loihi's
bit-accurate CUBA step as Lava runs it (lava/proc/lif/models.py, PyLifModelBitAcc), written here from
that rule, not from neurochip's."""

from __future__ import annotations

import warnings

import nir
import numpy as np
import pytest

from neurochip.emulator import run
from neurochip.errors import InvalidParameterError
from neurochip.network.nir_io import NIRImportWarning, from_nir

STEPS, EXTRA = 1000, 60


def _counts(imp, res, name):
    net = imp.network
    return res.spike_counts[net.offset(name): net.offset(name) + net.population(name).size]


def _cuba(i_decay, v_decay, v_th_mant):
    """read_neuron's CubaLIF: one value per layer (0-d), tau = 1 / decay (inf for 0), r = 1, v_leak = 0,
    v_threshold = vThMant, w_in = tau_syn, v_reset left out (0)."""
    tau_syn = 1.0 / i_decay
    tau_mem = np.inf if v_decay == 0 else 1.0 / v_decay
    return nir.CubaLIF(tau_syn=np.float64(tau_syn), tau_mem=np.float64(tau_mem), r=np.float64(1.0),
                       v_leak=np.float64(0.0), v_threshold=np.float64(v_th_mant), w_in=np.float64(tau_syn))  # fmt: skip


def _loihi(ws, bs, i_decay, v_decay, v_th_mant, x, extra):
    """Loihi's CUBA step, bit-accurate as Lava's PyLifModelBitAcc (netx sets du = iDecay - 1, and Loihi's
    ds_offset = 1 adds it back): states in 24-bit integers, the synaptic input and the bias shifted left
    by 6 (bias_exp = 6), the threshold too (vth_shift = 6); decays multiply by (4096 - decay) and shift
    right by 12, rounding towards zero; a spike when v > vth, then v = 0.  A spike reaches the next layer
    one step later (slayer's delay_shift, Lava's Dense)."""
    u = [np.zeros(w.shape[0], np.int64) for w in ws]
    v = [np.zeros(w.shape[0], np.int64) for w in ws]
    prev = [np.zeros(w.shape[0], np.int64) for w in ws]
    counts = [np.zeros(w.shape[0], np.int64) for w in ws]

    def decayed(state, decay):
        p = state * (4096 - decay)
        return np.sign(p) * (np.abs(p) >> 12)

    for k in range(x.shape[0] + extra):
        inp = x[k] if k < x.shape[0] else np.zeros(x.shape[1], np.int64)
        new = []
        for layer, (w, b) in enumerate(zip(ws, bs)):
            a_in = w @ (inp if layer == 0 else prev[layer - 1])
            u[layer] = decayed(u[layer], i_decay[layer]) + (a_in << 6)
            v[layer] = decayed(v[layer], v_decay[layer]) + u[layer] + (b << 6)
            assert np.abs(u[layer]).max() < 2**23 and np.abs(v[layer]).max() < 2**23  # no 24-bit wrap
            s = v[layer] > (v_th_mant[layer] << 6)
            v[layer] = np.where(s, 0, v[layer])
            counts[layer] += s
            new.append(s.astype(np.int64))
        prev = new
    return counts


def _graph(rng, i_decay, v_decay, v_th):
    """read_node's layout of Input -> dense -> dense with bias: nodes "0", "1", ... with the HDF5 weights
    (even integer mantissas in [-256, 254], slayer's 8-bit quantization descaled), Affine where the HDF5
    layer has a bias, and no Output node (the last edge is popped)."""
    w1 = 2 * rng.integers(-6, 12, (8, 5))
    w2 = 2 * rng.integers(-6, 12, (4, 8))
    b2 = rng.integers(0, 3, 4)
    nodes = {"0": nir.Input(input_type={"input": np.array([5])}), "1": nir.Linear(weight=w1.astype(float)),
             "2": _cuba(i_decay[0], v_decay[0], v_th[0]),
             "3": nir.Affine(weight=w2.astype(float), bias=b2.astype(float)), "4": _cuba(i_decay[1], v_decay[1], v_th[1])}
    edges = [("0", "1"), ("1", "2"), ("2", "3"), ("3", "4")]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False), (w1, w2), (np.zeros(8, np.int64), b2)


def test_the_lava_dl_profile_against_loihi_bit_accurate_cuba():
    """Two dense CUBA layers as slayer trains them (current_decay 0.25 -> iDecay 1024, voltage_decay 0.03
    -> vDecay 123; thresholds 1.25 and 1.5 -> vThMant 80 and 96), 1000 steps of 10 % input.  The profile
    reads each CubaLIF per step: the linear part equals Loihi's at the steps (to 5e-13, checked in the
    next test); what is left is the threshold, crossed between steps here and tested at the steps on
    Loihi (a crossing half a step early on average, which the reset's hold of half a step evens out),
    and Loihi's integer rounding.  This seed: 908 and 998 spikes against Loihi's 902 and 986 (0.7 % and
    1.2 %), every neuron within 6.  Measured over 12 seeds: every layer within 2.9 %, every neuron below
    half a spike per step within max(4, 5.2 %) (near a spike every step the two part more: see
    docs/networks.md); the test holds each layer to 3 % and every
    neuron to max(4, 6 %)."""
    rng = np.random.default_rng(0)
    i_decay, v_decay, v_th = (1024, 1024), (123, 123), (80, 96)
    g, ws, bs = _graph(rng, i_decay, v_decay, v_th)
    x = (rng.random((STEPS, 5)) < 0.1).astype(np.int64)
    ref = _loihi(ws, bs, i_decay, v_decay, v_th, x, EXTRA)
    assert all(r.sum() > 400 for r in ref) and max(r.max() for r in ref) < 0.5 * STEPS  # below saturation
    with warnings.catch_warnings():
        warnings.simplefilter("error", NIRImportWarning)  # the profile assumes nothing
        imp = from_nir(g, profile="lava-dl", t_ref_s=0.0, inputs="ports")
    dt = imp.dt_s
    assert dt == 1 / 4096 and imp.profile == "lava-dl" and imp.bias_onset() == []
    assert [(p.name, p.size) for p in imp.network.populations] == [("2", 8), ("4", 4)]
    t, c = np.nonzero(x)
    res = run(imp.network, duration_s=(STEPS + EXTRA) * dt, inputs=imp.spike_input("0", t * dt, c))
    for name, r in zip(("2", "4"), ref):
        got = _counts(imp, res, name)
        assert abs(int(got.sum()) - int(r.sum())) <= 0.03 * r.sum(), (name, got.sum(), r.sum())
        assert (np.abs(got - r) <= np.maximum(4, 0.06 * r)).all(), (name, got, r)


def test_the_lava_dl_profile_reads_the_linear_part_exactly_at_the_steps():
    """With the threshold out of reach, the membrane the profile's neurons reach at the steps equals
    Loihi's (unrounded) v[n] for an input, a bias, and no leak (vDecay = 0, tau_mem = inf).  (nir 1.0's
    writer cannot store the 0-d fields, compressed: the graph is built in memory.)"""
    import dataclasses

    from neurochip.network.readout import li_readout

    rng = np.random.default_rng(1)
    w = 2 * rng.integers(-6, 12, (3, 5))
    b = np.array([0, 1, 2])
    g = nir.NIRGraph(nodes={"0": nir.Input(input_type={"input": np.array([5])}),
                            "1": nir.Affine(weight=w.astype(float), bias=b.astype(float)),
                            "2": _cuba(1024, 0, 10**9)},
                     edges=[("0", "1"), ("1", "2")], type_check=False)  # fmt: skip
    imp = from_nir(g, profile="lava-dl", t_ref_s=0.0, inputs="ports")
    net = imp.network  # a spiking layer whose state li_readout computes when it is non-spiking
    pops = tuple(dataclasses.replace(p, model=dataclasses.replace(p.model, spiking=False)) for p in net.populations)
    net = dataclasses.replace(net, populations=pops)
    steps, dt = 60, imp.dt_s
    x = (rng.random((steps, 5)) < 0.3).astype(float)
    t, c = np.nonzero(x)
    stimuli = imp.spike_input("0", t * dt, c)
    res = run(net, duration_s=(steps + 2) * dt, inputs=stimuli)
    v, _ = li_readout(net, "2", res, (np.arange(steps) + 1) * dt, inputs=stimuli)
    u, vv, ref = np.zeros(3), np.zeros(3), []
    for k in range(steps):  # Loihi's step without its integer rounding: u decays by 1024/4096, v not at all
        u = u * (1 - 1024 / 4096) + w @ x[k]
        vv = vv + u + b
        ref.append(vv.copy())
    np.testing.assert_allclose(v, np.array(ref), rtol=1e-12, atol=1e-9)


def test_the_lava_dl_profile_sizes_conv_layers_and_names_what_is_not_its_export():
    # a conv block: the 0-d CubaLIF takes the Conv2d's output shape, the Flatten and dense after it chain on
    conv = nir.Conv2d(input_shape=None, weight=2.0 * np.ones((3, 2, 3, 3)), stride=1, padding=1, dilation=1, groups=1,
                      bias=np.zeros(3))  # fmt: skip
    g = nir.NIRGraph(nodes={"0": nir.Input(input_type={"input": np.array([2, 4, 4])}), "1": conv,
                            "2": _cuba(1024, 123, 80), "3": nir.Flatten(input_type={"input": np.array([3, 4, 4])}),
                            "4": nir.Linear(weight=np.ones((2, 48))), "5": _cuba(4096, 123, 80)},
                     edges=[("0", "1"), ("1", "2"), ("2", "3"), ("3", "4"), ("4", "5")], type_check=False)  # fmt: skip
    imp = from_nir(g, profile="lava-dl", t_ref_s=0.0, inputs="ports")
    assert [(p.name, p.size) for p in imp.network.populations] == [("2", 48), ("5", 2)]
    assert imp.layers["1"].output_shape == (3, 4, 4)
    # iDecay = 4096: the current lasts one step, v jumps by W at the step (a fast synapse, no hold)
    fast = imp.network.population("5")
    assert fast.model.tau_syn_exc_s == pytest.approx(1e-3 / 4096) and fast.params.t_ref_s == 0.0
    assert imp.network.population("2").params.t_ref_s == pytest.approx(0.5 / 4096)  # the half-step hold
    # an explicit reset still wins over the profile's (Loihi's reset to 0)
    assert from_nir(g, profile="lava-dl", t_ref_s=0.0, inputs="ports", reset="subtract").resets["2"] == "subtract"
    assert from_nir(g, profile="lava-dl", t_ref_s=0.0, inputs="ports", reset="subtract").network.population(
        "2").model.reset == "subtract"  # fmt: skip
    # what Lava-DL's exporter does not write is refused, naming the node and the field
    bad = dict(g.nodes)
    bad["2"] = nir.CubaLIF(tau_syn=np.float64(1 / 1024), tau_mem=np.float64(1 / 123), r=np.float64(2.0),
                           v_leak=np.float64(0.0), v_threshold=np.float64(80), w_in=np.float64(1 / 1024))  # fmt: skip
    with pytest.raises(InvalidParameterError, match=r"NIR node '2' \(CubaLIF\): r\[0\] = 2.0, but Lava-DL's export writes r = 1"):
        from_nir(nir.NIRGraph(nodes=bad, edges=g.edges, type_check=False), profile="lava-dl", t_ref_s=0.0)
    bad["2"] = _cuba(1024, 123, 80)
    bad["2"].tau_syn = bad["2"].w_in = np.float64(0.3)  # 1 / 0.3 is no integer decay
    with pytest.raises(InvalidParameterError, match=r"NIR node '2' \(CubaLIF\): tau_syn\[0\] = 0.3: Lava-DL writes"):
        from_nir(nir.NIRGraph(nodes=bad, edges=g.edges, type_check=False), profile="lava-dl", t_ref_s=0.0)
    bad["2"] = _cuba(1024, 123, 80)
    bad["2"].w_in = np.float64(1.0)
    with pytest.raises(InvalidParameterError, match=r"NIR node '2' \(CubaLIF\): w_in\[0\] = 1.0, but .* w_in = tau_syn"):
        from_nir(nir.NIRGraph(nodes=bad, edges=g.edges, type_check=False), profile="lava-dl", t_ref_s=0.0)
    lif = nir.NIRGraph.from_list(nir.Linear(weight=np.eye(2)), nir.LIF(tau=np.full(2, 1e-2), r=np.ones(2),
                                                                       v_leak=np.zeros(2), v_threshold=np.ones(2)))  # fmt: skip
    with pytest.raises(InvalidParameterError, match=r"NIR node 'lif' \(LIF\): profile 'lava-dl' reads CubaLIF"):
        from_nir(lif, profile="lava-dl", t_ref_s=0.0)
    # without the profile, the one-value-per-layer node does not even chain (NIR reads it as one neuron)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NIRImportWarning)
        with pytest.raises(InvalidParameterError, match=r"NIR edge '1' -> '2': shape mismatch"):
            from_nir(g, dt_s=1 / 4096, t_ref_s=0.0)
