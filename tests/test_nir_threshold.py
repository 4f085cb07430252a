"""NIR's Threshold node, z = 1 when the input x > threshold, with no state: graphs built with nir's
classes, run on the compiled engine, against a step-by-step NumPy evaluation of NIR's definition
(written here from nir's docstring, z = 1 if x > threshold else 0, x the input of one time step)."""

from __future__ import annotations

import warnings

import nir
import numpy as np
import pytest

from neurochip.emulator import run
from neurochip.errors import InvalidParameterError
from neurochip.network.nir_io import NIRImportWarning, from_nir

# weights and thresholds on a grid of 1/4, so that many steps' sums land exactly on a threshold,
# where NIR's strict x > threshold must not fire
GRID = np.array([-0.5, -0.25, 0.25, 0.5, 0.75])


def _counts(imp, res, name):
    off = imp.network.offset(name)
    return res.spike_counts[off: off + imp.network.population(name).size]


@pytest.mark.parametrize("dt", [1.0, 1e-3])
def test_a_threshold_fed_by_input_spikes_fires_where_the_steps_input_exceeds_it(dt):
    rng = np.random.default_rng(7)
    w = rng.choice(GRID, (6, 4))
    b = np.array([0.0, 0.25, 0.0, -0.25, 0.5, 0.0])
    thr = np.array([0.5, 0.75, 0.25, 1.0, 0.75, 0.5])
    g = nir.NIRGraph.from_list(nir.Input(input_type=np.array([4])), nir.Affine(weight=w, bias=b),
                               nir.Threshold(threshold=thr), nir.Output(output_type=np.array([6])))  # fmt: skip
    x = rng.random((400, 4)) < 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every option given
        imp = from_nir(g, dt_s=dt, reset="value", t_ref_s=0.0, delay_s=dt)
    t, c = np.nonzero(x)
    res = run(imp.network, duration_s=(x.shape[0] + 1.5) * dt, inputs=imp.spike_input("input", t * dt, c))
    total = x.astype(float) @ w.T + b  # the input of each step, (steps, 6)
    ref = (total > thr).sum(axis=0)
    assert (total == thr).sum() > 50 and ref.min() > 0  # many sums exactly on the threshold; every neuron fires
    np.testing.assert_array_equal(_counts(imp, res, "threshold"), ref)
    assert imp.outputs == {"output": ("threshold",)}


def test_a_threshold_after_an_if_layer_counts_as_nirs_step_by_step_definition():
    """Input -> Linear -> IF -> Linear -> Threshold with NIR's convention (dt = 1, nothing given but
    t_ref): the IF layer's spikes come at the input's steps (plus one step of delay), so each step's
    volley reaches the Threshold at one instant, and it fires where W2 s + 0 > threshold."""
    rng = np.random.default_rng(11)
    w1, w2 = rng.choice(GRID[1:], (5, 3)), rng.choice(GRID, (4, 5))
    th_if = np.full(5, 1.125)  # off the 1/4 grid: no IF membrane lands on it (NIR's > vs >=)
    thr = np.array([0.25, 0.5, 0.75, 0.5])
    g = nir.NIRGraph.from_list(nir.Input(input_type=np.array([3])), nir.Linear(weight=w1),
                               nir.IF(r=np.ones(5), v_threshold=th_if, v_reset=np.zeros(5)), nir.Linear(weight=w2),
                               nir.Threshold(threshold=thr), nir.Output(output_type=np.array([4])))  # fmt: skip
    with pytest.warns(NIRImportWarning, match="dt_s = 1.0 s: NIR's own convention"):
        imp = from_nir(g, t_ref_s=0.0)
    x = rng.random((300, 3)) < 0.6
    t, c = np.nonzero(x)
    res = run(imp.network, duration_s=303.5, inputs=imp.spike_input("input", t.astype(float), c))
    v = np.zeros(5)
    n_if, n_thr = np.zeros(5, int), np.zeros(4, int)
    for k in range(x.shape[0]):
        v += w1 @ x[k]
        s = v > th_if
        v[s] = 0.0
        n_if += s
        n_thr += (w2 @ s) > thr
    assert n_if.sum() > 100 and n_thr.min() > 0
    np.testing.assert_array_equal(_counts(imp, res, "if"), n_if)
    np.testing.assert_array_equal(_counts(imp, res, "threshold"), n_thr)


def test_what_a_threshold_cannot_be_is_one_error_naming_it():
    def graph(thr, bias=None):
        first = nir.Linear(weight=np.eye(2)) if bias is None else nir.Affine(weight=np.eye(2), bias=np.array(bias))
        return nir.NIRGraph.from_list(nir.Input(input_type=np.array([2])), first, nir.Threshold(threshold=np.array(thr)),
                                      nir.Output(output_type=np.array([2])))  # fmt: skip

    opts = {"dt_s": 1.0, "reset": "value", "t_ref_s": 0.0, "delay_s": 1.0}
    with pytest.raises(InvalidParameterError, match=r"^NIR node 'threshold' \(Threshold\): threshold\[0\] = -0.5: must be > 0"):
        from_nir(graph([-0.5, 1.0]), **opts)
    with pytest.raises(InvalidParameterError, match=r"^NIR node 'threshold' \(Threshold\): its input's bias 1.0 at \[0\] "
                                                    r"exceeds the threshold 0.5"):
        from_nir(graph([0.5, 1.0], bias=[1.0, 0.0]), **opts)
    with pytest.raises(InvalidParameterError, match=r"^NIR node 'threshold' \(Threshold\): fed straight from the input port"):
        from_nir(graph([0.5, 1.0]), inputs="ports", **opts)
    # a bias equal to the threshold is allowed (x = b is not > b) and never fires on its own
    imp = from_nir(graph([0.5, 1.0], bias=[0.5, 0.0]), **opts)
    res = run(imp.network, duration_s=10.0, inputs=imp.spike_input("input", [], []))
    assert res.spike_counts.sum() == 0
