"""Exporter profiles: graphs laid out as snnTorch and Sinabs write them, run in the emulator and set
against independent step-by-step simulations of each tool's own equations (written here from
their documented update rules, not from neurochip's)."""

from __future__ import annotations

import warnings

import nir
import numpy as np
import pytest

from neurochip.emulator import run
from neurochip.errors import InvalidParameterError
from neurochip.models.cuba import Cuba
from neurochip.network.nir_io import NIRImportWarning, from_nir
from neurochip.network.nir_profiles import PROFILES


def _counts(imp, res, name):
    net = imp.network
    return res.spike_counts[net.offset(name): net.offset(name) + net.population(name).size]


def _sinabs_graph(rng):
    """Sinabs' export of Linear -> IAF -> Linear -> IAF: IF(r = 1, v_threshold), time in steps."""
    w1, w2 = rng.uniform(-0.3, 0.7, (8, 5)), rng.uniform(-0.3, 0.8, (4, 8))

    def iaf(n):
        return nir.IF(r=np.ones(n), v_threshold=np.ones(n), v_reset=np.zeros(n))

    g = nir.NIRGraph.from_list(nir.Input(input_type=np.array([5])), nir.Linear(weight=w1), iaf(8),
                               nir.Linear(weight=w2), iaf(4), nir.Output(output_type=np.array([4])))  # fmt: skip
    return g, w1, w2


def _sinabs_reference(w1, w2, x, extra):
    """Sinabs' IAF with MembraneSubtract and MultiSpike: v += W s; n = floor(v / thr) where v >= thr;
    v -= n thr; and min_v_mem = -thr, as Sinabs' from_nir sets it.  Layers follow each other within
    a step; neurochip's synapses take one step, so layer k lags by k steps (the run is longer)."""
    v1, v2 = np.zeros(w1.shape[0]), np.zeros(w2.shape[0])
    c1, c2 = np.zeros_like(v1), np.zeros_like(v2)
    for k in range(x.shape[0] + extra):
        xi = x[k] if k < x.shape[0] else np.zeros(x.shape[1])
        v1 = v1 + w1 @ xi
        s1 = np.where(v1 >= 1.0, np.floor(v1), 0.0)
        v1 = np.maximum(v1 - s1, -1.0)
        v2 = v2 + w2 @ s1
        s2 = np.where(v2 >= 1.0, np.floor(v2), 0.0)
        v2 = np.maximum(v2 - s2, -1.0)
        c1, c2 = c1 + s1, c2 + s2
    return c1, c2


def test_the_sinabs_profile_gives_sinabs_spike_counts_with_subtraction_and_several_spikes_per_step():
    rng = np.random.default_rng(4)
    g, w1, w2 = _sinabs_graph(rng)
    x = (rng.random((300, 5)) < 0.3).astype(float)
    with pytest.warns(NIRImportWarning, match=r"profile 'sinabs': \['if', 'if_1'\] reset by subtraction"):
        imp = from_nir(g, profile="sinabs", t_ref_s=0.0)
    assert imp.dt_s == 1.0 and imp.profile == "sinabs"
    assert imp.network.population("if").model == Cuba(tau_syn_exc_s=1e-3, reset="subtract")
    t, c = np.nonzero(x)
    res = run(imp.network, duration_s=303.5, inputs=imp.spike_input("input", t.astype(float), c))
    ref1, ref2 = _sinabs_reference(w1, w2, x, 3)
    assert ref1.max() > 100 and (ref2 > 0).all()
    np.testing.assert_array_equal(_counts(imp, res, "if"), ref1.astype(np.int64))
    np.testing.assert_array_equal(_counts(imp, res, "if_1"), ref2.astype(np.int64))
    # the NIR reading (reset to v_reset, one spike per crossing) of the same graph loses the overshoot
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = from_nir(g, profile="nir", t_ref_s=0.0)
    res = run(plain.network, duration_s=303.5, inputs=plain.spike_input("input", t.astype(float), c))
    assert _counts(plain, res, "if").sum() < 0.8 * ref1.sum()


def test_the_snntorch_profile_against_snntorch_leaky_equations():
    """snnTorch's export of Affine -> Leaky -> Linear -> Leaky (beta = 0.9): LIF(tau = dt / (1 - beta),
    r = tau / dt), dt = 1e-4.  snnTorch steps mem = beta mem + W x + b - reset thr, reset = (the
    previous mem > thr), one spike when mem > thr.  The profile reads the LIF nodes per step (decay
    beta, a jump of W, a subtraction of thr / beta that has decayed to thr a step later): the first
    layer, biased, gives every neuron's count exactly.  The second differs by a few per cent, and the
    whole difference is snnTorch's cap of one spike per step: subtracting thr one step late is the same
    as subtracting thr / beta at once (m~ = m - thr s / beta obeys m~ <- beta m~ + W x, a spike when
    beta m~ + W x > thr), and that rule with at most one spike per step gives snnTorch's counts
    neuron for neuron, while with a spike again as long as m~ >= thr (the continuous neuron fires again
    at once after a subtraction that leaves it above threshold) it gives the emulator's."""
    rng = np.random.default_rng(3)
    dt, beta, steps = 1e-4, 0.9, 400
    w1, b1, w2 = rng.uniform(-0.2, 0.6, (8, 5)), rng.uniform(0, 0.05, 8), rng.uniform(-0.3, 0.8, (4, 8))

    def leaky(n):
        tau = np.full(n, dt / (1 - beta))
        return nir.LIF(tau=tau, r=tau / dt, v_leak=np.zeros(n), v_threshold=np.ones(n), v_reset=np.zeros(n))

    g = nir.NIRGraph.from_list(nir.Input(input_type=np.array([5])), nir.Affine(weight=w1, bias=b1), leaky(8),
                               nir.Linear(weight=w2), leaky(4), nir.Output(output_type=np.array([4])))  # fmt: skip
    x = (rng.random((steps, 5)) < 0.3).astype(float)
    with pytest.warns(NIRImportWarning, match="profile 'snntorch'"):
        imp = from_nir(g, profile="snntorch", t_ref_s=0.0, inputs="ports")
    assert imp.dt_s == 1e-4
    t, c = np.nonzero(x)
    res = run(imp.network, duration_s=(steps + 3) * dt, inputs=imp.spike_input("input", t * dt, c))
    m1, m2, c1, c2 = np.zeros(8), np.zeros(4), np.zeros(8), np.zeros(4)
    for k in range(steps + 3):
        xi = x[k] if k < steps else np.zeros(5)
        r1 = (m1 > 1).astype(float)
        m1 = beta * m1 + w1 @ xi + b1 - r1
        s1 = (m1 > 1).astype(float)
        r2 = (m2 > 1).astype(float)
        m2 = beta * m2 + w2 @ s1 - r2
        s2 = (m2 > 1).astype(float)
        c1, c2 = c1 + s1, c2 + s2
    got1, got2 = _counts(imp, res, "lif").sum(), _counts(imp, res, "lif_1").sum()
    assert c1.sum() > 500 and c2.sum() > 300
    np.testing.assert_array_equal(_counts(imp, res, "lif"), c1.astype(np.int64))
    assert got1 == c1.sum() and abs(got2 / c2.sum() - 1) < 0.05, (got2, c2.sum())
    # the difference, accounted for: the subtraction of thr / beta at once, one spike per step at most
    # (snnTorch) or as many as the membrane allows (the continuous neuron)
    counts = {}
    for cap in (True, False):
        m1, m2, k1, k2 = np.zeros(8), np.zeros(4), np.zeros(8), np.zeros(4)
        for k in range(steps + 3):
            xi = x[k] if k < steps else np.zeros(5)
            m1 = beta * m1 + w1 @ xi + b1
            s1 = (m1 > 1).astype(float)
            m1 -= s1 / beta
            m2 = beta * m2 + w2 @ s1
            s2 = (m2 > 1).astype(float)
            m2 -= s2 / beta
            while not cap and (m2 >= 1).any():
                again = (m2 >= 1).astype(float)
                s2, m2 = s2 + again, m2 - again / beta
            k1, k2 = k1 + s1, k2 + s2
        counts[cap] = k2
    np.testing.assert_array_equal(counts[True], c2)
    np.testing.assert_array_equal(_counts(imp, res, "lif_1"), counts[False].astype(np.int64))
    assert counts[False].sum() > c2.sum()


def test_profiles_set_defaults_that_explicit_options_override_and_unknown_ones_are_named():
    g = nir.NIRGraph.from_list(nir.Linear(weight=np.eye(2)), nir.IF(r=np.ones(2), v_threshold=np.ones(2)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert from_nir(g, profile="sinabs", dt_s=0.5).dt_s == 0.5
        imp = from_nir(g, profile="sinabs", reset="value")
        assert imp.network.population("if").model is None  # the explicit reset wins
        assert from_nir(g, profile="nir").dt_s == 1.0
    for name, prof in PROFILES.items():
        assert prof.name == name and prof.source
    with pytest.raises(InvalidParameterError, match=r"profile = 'tf': must be one of \['lava-dl', 'nir', 'norse', 'rockpool', 'sinabs', 'snntorch'\]"):
        from_nir(g, profile="tf")


def test_a_file_that_fails_nirs_type_check_is_read_without_it_and_warned(tmp_path):
    from neurochip.network.nir_io import read_nir

    # Sinabs writes Flatten with input_type [0, 0, 0, 0]: nir.read's type check refuses such a file
    g = nir.NIRGraph(
        nodes={"x": nir.Input(input_type=np.array([2, 2])),
               "flat": nir.Flatten(input_type={"input": np.array([0, 0, 0, 0])}, start_dim=1, end_dim=-1),
               "fc": nir.Linear(weight=np.ones((2, 4))), "lif": nir.IF(r=np.ones(2), v_threshold=np.ones(2)),
               "y": nir.Output(output_type=np.array([2]))},
        edges=[("x", "flat"), ("flat", "fc"), ("fc", "lif"), ("lif", "y")], type_check=False,
    )  # fmt: skip
    path = tmp_path / "sinabs.nir"
    nir.write(str(path), g)
    with pytest.raises(ValueError):
        nir.read(str(path))
    with pytest.warns(NIRImportWarning) as rec:
        imp = read_nir(path, profile="sinabs", t_ref_s=0.0)
    assert any("nir's type check failed" in str(w.message) for w in rec)
    assert sorted((p.name, p.size) for p in imp.network.populations) == [("lif", 2), ("x", 4)]
    # a graph that is wrong, not just unchecked, still ends in neurochip's error naming the edge
    g.nodes["y"] = nir.Output(output_type=np.array([3]))
    nir.write(str(path), g)
    with pytest.warns(NIRImportWarning), pytest.raises(InvalidParameterError, match="NIR edge 'lif' -> 'y': shape"):
        read_nir(path, profile="sinabs", t_ref_s=0.0)


def _snntorch_synaptic_reference(ws, bs, x, alpha, beta, extra):
    """snnTorch's Synaptic layers as its documentation states them (reset_mechanism="subtract",
    threshold 1): I[t+1] = alpha I[t] + I_in[t+1]; U[t+1] = beta U[t] + I[t+1] - R; R = 1 when U > 1
    a step before; a spike when U[t+1] > 1.  Layers follow each other within a step."""
    syn = [np.zeros(w.shape[0]) for w in ws]
    mem = [np.zeros(w.shape[0]) for w in ws]
    counts = [np.zeros(w.shape[0], np.int64) for w in ws]
    for k in range(x.shape[0] + extra):
        inp = x[k] if k < x.shape[0] else np.zeros(x.shape[1])
        for layer, (w, b) in enumerate(zip(ws, bs)):
            reset = (mem[layer] > 1.0).astype(float)
            syn[layer] = alpha * syn[layer] + w @ inp + b
            mem[layer] = beta * mem[layer] + syn[layer] - reset
            spikes = mem[layer] > 1.0
            counts[layer] += spikes
            inp = spikes.astype(float)
    return counts


def test_the_snntorch_profile_against_snntorch_synaptic_equations():
    """snnTorch's export of Affine -> Synaptic -> Linear -> Synaptic (alpha = 0.8, beta = 0.9, dt =
    1e-4): CubaLIF(tau_syn = dt / (1 - alpha), tau_mem = dt / (1 - beta), r = tau_mem / dt, w_in =
    tau_syn / dt).  The profile reads each CubaLIF per step (decays alpha and beta per step, the jump
    that gives snnTorch's response at the steps, a subtraction that has decayed to the threshold
    when snnTorch subtracts); the threshold is still crossed between steps here.  Spike counts
    against snnTorch's equations: every neuron within 3, each layer within 2 %; NIR's continuous
    reading of the same graph (decay e^{-(1-alpha)} per step) is further off."""
    rng = np.random.default_rng(6)
    dt, alpha, beta, steps, extra = 1e-4, 0.8, 0.9, 1000, 40

    def synaptic(n):
        ts, tm = np.full(n, dt / (1 - alpha)), np.full(n, dt / (1 - beta))
        return nir.CubaLIF(tau_syn=ts, tau_mem=tm, r=tm / dt, v_leak=np.zeros(n), v_threshold=np.ones(n), w_in=ts / dt)

    w1, w2 = rng.uniform(-0.05, 0.1, (8, 5)), rng.uniform(-0.1, 0.15, (4, 8))
    b1 = rng.uniform(0, 0.004, 8)
    g = nir.NIRGraph.from_list(nir.Input(input_type=np.array([5])), nir.Affine(weight=w1, bias=b1), synaptic(8),
                               nir.Linear(weight=w2), synaptic(4), nir.Output(output_type=np.array([4])))  # fmt: skip
    x = (rng.random((steps, 5)) < 0.3).astype(float)
    t, c = np.nonzero(x)
    ref = _snntorch_synaptic_reference([w1, w2], [b1, 0.0], x, alpha, beta, extra)
    assert ref[0].sum() > 1000 and ref[1].sum() > 300 and (ref[0] > 0).all() and (ref[1] > 0).all()
    errors = {}
    for how, options in (("profile", {"profile": "snntorch"}), ("continuous", {"dt_s": dt, "reset": "subtract"})):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NIRImportWarning)
            imp = from_nir(g, t_ref_s=0.0, inputs="ports", delay_s=dt, **options)
        # snnTorch starts the synaptic current at 0: bias_onset() starts the bias's part there too
        res = run(imp.network, duration_s=(steps + extra) * dt,
                  inputs=imp.spike_input("input", t * dt, c) + imp.bias_onset())  # fmt: skip
        got = [_counts(imp, res, "cubalif"), _counts(imp, res, "cubalif_1")]
        errors[how] = [abs(int(a.sum()) - int(r.sum())) / r.sum() for a, r in zip(got, ref)]
        if how == "profile":
            assert imp.network.population("cubalif").model.tau_syn_exc_s == pytest.approx(-dt / np.log(alpha), rel=1e-12)
            rest = imp.network.population("cubalif").arrays()
            np.testing.assert_allclose(rest["bias_current_amp"] / rest["g_leak_siemens"],  # V at rest: snnTorch's
                                       b1 / ((1 - alpha) * (1 - beta)), rtol=1e-12)  # fmt: skip
            for a, r in zip(got, ref):
                assert np.abs(a - r).max() <= 3, (a, r)
    assert max(errors["profile"]) < 0.02, errors
    assert all(p < q for p, q in zip(errors["profile"], errors["continuous"])), errors
