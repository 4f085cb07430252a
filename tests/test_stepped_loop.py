"""The compiled step loop against the NumPy reference: bit-identical state, spikes and counts.

Randomized (seeded) networks that use every feature of the conversion -- current decays, leaks,
biases, mixed-sign weights, negative weight exponents, two-step delays, forced input spikes, a
multi-core mesh -- under both activity rules; every integer trace, every spike and every count of
every step and core must be equal.  The compiled loop is required where
``NEUROCHIP_REQUIRE_COMPILED=1`` (CI), skipped otherwise when it is not built.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import require_or_skip
from test_stepped import random_network

from neurochip.chip import load_chip
from neurochip.network import FixedInDegree, Network, Population, Projection
from neurochip.stepped import STEP_COUNTS, run_stepped

try:
    from neurochip.stepped import _loop  # noqa: F401
    HAVE_LOOP = True
except ImportError:  # pragma: no cover - depends on the build
    HAVE_LOOP = False


@pytest.fixture(autouse=True)
def compiled_loop():
    """Skip without the compiled loop, fail instead when NEUROCHIP_REQUIRE_COMPILED=1 (CI)."""
    require_or_skip(HAVE_LOOP, "neurochip.stepped._loop (make install)", env="NEUROCHIP_REQUIRE_COMPILED")


def with_inputs(rng: np.random.Generator) -> Network:
    """random_network plus a population of input relays driving E, D and Z (unbiased, often idle)."""
    net = random_network(rng, n_exc=30, n_inh=10, n_lif=20)
    inp = Population(name="in", size=15)
    idle = Population(name="Z", size=12, params=net.populations[2].params)
    projs = net.projections + (
        Projection(pre="in", post="Z", rule=FixedInDegree(k=1), weight_volt=5e-3, delay_s=1e-3),
        Projection(pre="in", post="E", rule=FixedInDegree(k=2), weight_volt=2e-3, delay_s=1e-3),
        Projection(pre="in", post="D", rule=FixedInDegree(k=2), weight_volt=lambda r, k: r.uniform(-4e-3, 6e-3, k),
                   delay_s=3e-3),
    )
    return Network(populations=net.populations + (inp, idle), projections=projs, seed=net.seed)


def assert_same(a, b) -> None:
    np.testing.assert_array_equal(a.spike_steps, b.spike_steps)
    np.testing.assert_array_equal(a.spike_neurons, b.spike_neurons)
    np.testing.assert_array_equal(a.trace_u, b.trace_u)
    np.testing.assert_array_equal(a.trace_v, b.trace_v)
    np.testing.assert_array_equal(a.max_hops, b.max_hops)
    for k in STEP_COUNTS:
        np.testing.assert_array_equal(a.per_step[k], b.per_step[k], err_msg=k)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("rule", ["nonzero", "all"])
def test_compiled_loop_is_bit_identical_to_numpy(seed, rule):
    rng = np.random.default_rng(seed)
    net = with_inputs(rng)
    steps = 250
    chip = load_chip("loihi")
    chip = chip.replace(core=dataclasses.replace(chip.core, neurons=16)).with_mesh(3, 2)
    if rule == "all":
        chip = chip.replace(execution=dataclasses.replace(chip.execution, activity_rule="all"))
    forced = rng.random((steps, 15)) < 0.05
    kw = dict(steps=steps, dt_s=1e-3, input_spikes={"in": forced}, record=np.arange(net.n_neurons))
    ref = run_stepped(net, chip, backend="numpy", **kw)
    fast = run_stepped(net, chip, mapping=ref.mapping, backend="compiled", **kw)
    assert ref.mapping.cores_used > 1 and np.any(ref.synapses.delay == 3) and np.any(ref.synapses.mant < 0)
    assert 50 < ref.spike_neurons.size < 0.5 * steps * net.n_neurons  # active, not saturated
    assert ref.per_step["neuron_updates_inactive"].sum() > 0 or rule == "all"
    assert_same(ref, fast)


def test_compiled_loop_wraps_and_saturates_as_the_reference():
    """Weights large enough to wrap the 24-bit current and saturate the voltage."""
    from neurochip.lif import LIFParams

    p = LIFParams(c_m_farad=100e-12, g_leak_siemens=0.0, v_th_volt=0.02, v_reset_volt=0.0, e_leak_volt=0.0,
                  t_ref_s=0.0)
    net = Network(
        populations=(Population(name="in", size=4), Population(name="A", size=6, params=p)),
        projections=(
            Projection(pre="in", post="A", rule=FixedInDegree(k=8), weight_volt=lambda r, k: r.uniform(-0.16, 0.16, k),
                       delay_s=1e-3),
        ),
        seed=5,
    )
    forced = np.ones((40, 4), dtype=bool)
    kw = dict(steps=40, dt_s=1e-3, input_spikes={"in": forced}, record=np.arange(10))
    chip = load_chip("loihi")
    ref = run_stepped(net, chip, backend="numpy", **kw)
    assert np.abs(ref.trace_v).max() == 2**23 - 1  # saturated
    assert np.abs(ref.trace_u).max() > 2**22  # near the wrap
    assert_same(ref, run_stepped(net, chip, mapping=ref.mapping, **kw))


def test_sparse_and_full_input_passes_give_the_reference():
    """Quiet stretches (few synapses can deliver into a step: its input is summed from the
    neurons hit) between bursts (every neuron and connection is summed), with mixed-sign
    weights, negative exponents and 1-3 step delays: both ways, and the switches between them,
    must give the reference's integers."""
    from neurochip.stepped._loop import SPARSE_SHARE_OF_N

    rng = np.random.default_rng(11)
    net = with_inputs(rng)
    steps = 300
    forced = rng.random((steps, 15)) < 0.01  # quiet
    forced[100:130] = rng.random((30, 15)) < 0.8  # a burst
    forced[200:205] = True  # a short one
    chip = load_chip("loihi")
    chip = chip.replace(core=dataclasses.replace(chip.core, neurons=16)).with_mesh(3, 2)
    kw = dict(steps=steps, dt_s=1e-3, input_spikes={"in": forced}, record=np.arange(net.n_neurons))
    ref = run_stepped(net, chip, backend="numpy", **kw)
    # which way the compiled loop sums each step, from the reference's spikes: the fan-out of the
    # spikes of the steps that may deliver into it (delays 1 .. depth - 1), against n // share
    syn = ref.synapses
    depth = int(syn.delay.max()) + 1
    fan = np.zeros(steps, dtype=np.int64)
    np.add.at(fan, ref.spike_steps, np.diff(syn.indptr)[ref.spike_neurons])
    load = np.array([fan[max(0, t - depth + 1):t].sum() for t in range(depth, steps)])
    limit = net.n_neurons // SPARSE_SHARE_OF_N
    hits = ref.per_step["synaptic_events"].sum(axis=1)
    assert depth == 4 and np.any(syn.weight_exp < 0) and np.any(syn.mant < 0)
    sparse_steps_with_input = [t for t, x in zip(range(depth, steps), load) if x <= limit and hits[t - 1] > 0]
    assert len(sparse_steps_with_input) > 20 and np.sum(load > limit) > 20
    assert_same(ref, run_stepped(net, chip, mapping=ref.mapping, backend="compiled", **kw))


def test_unknown_backend_is_refused():
    from neurochip.errors import InvalidParameterError

    net = Network(populations=(Population(name="A", size=2),))
    with pytest.raises(InvalidParameterError, match="backend"):
        run_stepped(net, load_chip("loihi"), steps=2, dt_s=1e-3, backend="fortran")
