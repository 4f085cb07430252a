"""The Norse profile: graphs laid out as Norse's NIR export writes them, run in the emulator and set
against an independent step-by-step simulation of Norse's own update rules (lif_box and iaf feed-forward
steps, as Norse documents them), and the exporter that is not a profile named with the reason."""

from __future__ import annotations

import json
import warnings

import nir
import numpy as np
import pytest

from neurochip.cli import main
from neurochip.emulator import run
from neurochip.errors import InvalidParameterError
from neurochip.network.nir_io import NIRImportWarning, from_nir, read_nir
from neurochip.network.nir_profiles import NOT_YET

DT = 1e-3  # Norse's default integration step (LIFBoxCell, IAFCell: dt = 0.001)


def _counts(imp, res, name):
    net = imp.network
    return res.spike_counts[net.offset(name): net.offset(name) + net.population(name).size]


def _norse_graph(rng, tau):
    """Norse's export of Linear -> LIFBoxCell -> Linear -> IAFCell: LIF(tau = 1 / tau_mem_inv, r = 1,
    v_leak, v_threshold, v_reset) and IF(r = 1, v_threshold, v_reset), time in seconds."""
    w1, w2 = rng.uniform(-2.0, 8.0, (8, 5)), rng.uniform(-0.3, 0.8, (4, 8))
    lif = nir.LIF(tau=tau, r=np.ones(8), v_leak=np.zeros(8), v_threshold=np.ones(8), v_reset=np.zeros(8))
    iaf = nir.IF(r=np.ones(4), v_threshold=np.ones(4), v_reset=np.zeros(4))
    g = nir.NIRGraph.from_list(nir.Input(input_type=np.array([5])), nir.Linear(weight=w1), lif,
                               nir.Linear(weight=w2), iaf, nir.Output(output_type=np.array([4])))  # fmt: skip
    return g, w1, w2


def _norse_reference(w1, w2, tau, x, extra):
    """Norse's feed-forward steps: LIFBox v <- v + dt/tau (v_leak - v + W x), z = v > v_th, v <- v_reset
    where z; IAF v <- v + W z, z = v > v_th, v <- v_reset where z.  Layers follow each other within a
    step; neurochip's synapses take one step, so layer k lags by k steps (the run is longer)."""
    v1, v2 = np.zeros(w1.shape[0]), np.zeros(w2.shape[0])
    c1, c2 = np.zeros(v1.size, np.int64), np.zeros(v2.size, np.int64)
    for k in range(x.shape[0] + extra):
        xi = x[k] if k < x.shape[0] else np.zeros(x.shape[1])
        v1 = v1 + DT / tau * (0.0 - v1 + w1 @ xi)
        z1 = v1 > 1.0
        v1 = np.where(z1, 0.0, v1)
        v2 = v2 + w2 @ z1
        z2 = v2 > 1.0
        v2 = np.where(z2, 0.0, v2)
        c1, c2 = c1 + z1, c2 + z2
    return c1, c2


def test_the_norse_profile_gives_norse_spike_counts_for_lifbox_and_iaf_layers():
    """Every neuron's count equals Norse's: with no bias and v_leak below threshold the membrane
    crosses only at input spikes, which arrive at the steps, where Norse samples; the decay per
    step is exactly 1 - dt/tau and the jumps W dt/tau (LIF) and W (IF) are Norse's."""
    rng = np.random.default_rng(11)
    tau = rng.uniform(5e-3, 20e-3, 8)
    g, w1, w2 = _norse_graph(rng, tau)
    steps = 400
    x = (rng.random((steps, 5)) < 0.3).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NIRImportWarning)  # the profile sets dt and the reset: nothing assumed
        imp = from_nir(g, profile="norse", t_ref_s=0.0, delay_s=DT)
    assert imp.dt_s == DT and imp.profile == "norse"
    t, c = np.nonzero(x)
    res = run(imp.network, duration_s=(steps + 3.5) * DT, inputs=imp.spike_input("input", t * DT, c))
    ref1, ref2 = _norse_reference(w1, w2, tau, x, 3)
    assert ref1.sum() > 300 and ref2.sum() > 100 and (ref1 > 0).all() and (ref2 > 0).sum() >= 3
    np.testing.assert_array_equal(_counts(imp, res, "lif"), ref1)
    np.testing.assert_array_equal(_counts(imp, res, "if"), ref2)
    # NIR's continuous reading of the same graph at Norse's dt (decay e^{-dt/tau}, IF jumps r W dt) differs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NIRImportWarning)
        plain = from_nir(g, dt_s=DT, t_ref_s=0.0, delay_s=DT)
    res = run(plain.network, duration_s=(steps + 3.5) * DT, inputs=plain.spike_input("input", t * DT, c))
    assert _counts(plain, res, "if").sum() == 0 and not np.array_equal(_counts(plain, res, "lif"), ref1)


def test_the_norse_profile_from_the_command_line_and_its_limits(tmp_path, capsys):
    rng = np.random.default_rng(2)
    g, _, _ = _norse_graph(rng, np.full(8, 1e-2))
    nir.write(str(tmp_path / "norse.nir"), g)
    assert main(["network", "info", str(tmp_path / "norse.nir"), "--from", "norse", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["n_neurons"] == 5 + 8 + 4 and "dt_s = " not in err
    assert read_nir(tmp_path / "norse.nir", profile="norse", t_ref_s=0.0, delay_s=DT).dt_s == DT
    # a step that Norse's Euler rule cannot take (dt / tau >= 1) is named with its node and field
    g.nodes["lif"] = nir.LIF(tau=np.full(8, 5e-4), r=np.ones(8), v_leak=np.zeros(8), v_threshold=np.ones(8),
                             v_reset=np.zeros(8))  # fmt: skip
    with pytest.raises(InvalidParameterError, match=r"NIR node 'lif' \(LIF\): tau\[0\] = 0.0005 s gives beta"):
        from_nir(g, profile="norse", t_ref_s=0.0)
    # Norse's LIFCell export (CubaLIF, r = 1, w_in = 1) is not read per step: refused, not guessed
    cuba = nir.NIRGraph.from_list(nir.Linear(weight=np.eye(2)), nir.CubaLIF(
        tau_syn=np.full(2, 5e-3), tau_mem=np.full(2, 1e-2), r=np.ones(2), v_leak=np.zeros(2),
        v_threshold=np.ones(2), w_in=np.ones(2)))  # fmt: skip
    with pytest.raises(InvalidParameterError, match=r"NIR node 'cubalif' \(CubaLIF\): profile 'norse' reads LIF"):
        from_nir(cuba, profile="norse", t_ref_s=0.0)
    assert not NOT_YET  # every exporter the issue names is a profile
    # a Norse graph read as Lava-DL's export: its LIF nodes are not what Lava-DL writes, and the CLI says so
    assert main(["network", "info", str(tmp_path / "norse.nir"), "--from", "lava-dl"]) == 1
    assert "profile 'lava-dl' reads CubaLIF nodes" in capsys.readouterr().err
