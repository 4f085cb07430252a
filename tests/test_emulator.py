"""The network emulator against closed forms, against its reference backend, and its errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from neurochip.emulator import EVENT_DTYPE, _engine, _random, run
from neurochip.errors import InvalidParameterError
from neurochip.lif import LIFParams, firing_rate, isi, rheobase
from neurochip.network import (
    AllToAll,
    CurrentStep,
    Explicit,
    FixedInDegree,
    FixedProbability,
    Network,
    PoissonInput,
    Population,
    Projection,
    SpikeTimesInput,
)

P = LIFParams()  # tau_m = 1 ms, V_th = 0.5 V, reset 0, t_ref = 1 ms


def _single(params: LIFParams, currents: np.ndarray) -> Network:
    return Network(
        populations=(
            Population(
                name="n",
                size=len(currents),
                params=params,
                bias_current_amp=currents,
                v_init_volt=params.v_reset_volt,
            ),
        )
    )


@pytest.mark.parametrize(
    "params",
    [
        P,
        LIFParams(c_m_farad=250e-12, g_leak_siemens=12.5e-9, e_leak_volt=-0.065, v_th_volt=-0.05,
                  v_reset_volt=-0.07, t_ref_s=2e-3),
        LIFParams(t_ref_s=0.0),
    ],
)  # fmt: skip
def test_dc_spike_times_equal_the_closed_form_isi(params):
    rh = rheobase(params)
    currents = rh * np.array([1.01, 1.3, 2.0, 5.0, 40.0])
    res = run(_single(params, currents), duration_s=0.2)
    for k, current in enumerate(currents):
        t = res.spike_times(k)
        period = isi(params, current)
        # from V_reset at t = 0, with no refractory hold before the first spike
        expected = (period - params.t_ref_s) + period * np.arange(t.size)
        assert t.size == int((0.2 - (period - params.t_ref_s)) // period) + 1
        np.testing.assert_allclose(t, expected, rtol=1e-9, atol=0)


def test_dc_via_current_step_and_the_single_neuron_kernel_agree():
    current = 1.7 * rheobase(P)
    net = Network(populations=(Population(name="n", size=1, params=P, v_init_volt=0.0),))
    res = run(net, duration_s=0.05, inputs=[CurrentStep(population="n", times_s=[0.0], amplitudes_amp=[current])])
    from neurochip.emulator import dc_spike_times

    np.testing.assert_allclose(res.spike_times(0), dc_spike_times(P, current, duration_s=0.05), rtol=1e-12)


def test_large_input_saturates_at_one_over_t_ref_and_subthreshold_never_fires():
    rh = rheobase(P)
    res = run(_single(P, np.array([1e4 * rh, 0.999 * rh, 0.0])), duration_s=1.0)
    rate = res.spike_counts[0] / 1.0
    assert abs(rate - firing_rate(P, 1e4 * rh)) <= 1.0  # counting: +-1 spike in 1 s
    assert rate > 0.99 / P.t_ref_s
    assert res.spike_counts[1] == 0 and res.spike_counts[2] == 0


def test_delay_is_exact_and_refractory_input_is_discarded():
    # A spikes at 1 ms (one big input), B receives it at 1 ms + 2.5 ms and spikes then; a
    # second input to A during its refractory period is discarded and counted
    net = Network(
        populations=(Population(name="A", size=1, params=P), Population(name="B", size=1, params=P)),
        projections=(Projection(pre="A", post="B", rule=AllToAll(), weight_volt=0.6, delay_s=2.5e-3),),
    )
    inp = SpikeTimesInput(population="A", times_s=[1e-3, 1.5e-3], neurons=[0, 0], weight_volt=0.6)
    res = run(net, duration_s=0.01, inputs=[inp])
    assert res.events.dtype == EVENT_DTYPE
    np.testing.assert_array_equal(res.events["address"], [0, 1])
    assert res.events["time_s"][0] == 1e-3
    assert res.events["time_s"][1] == 1e-3 + 2.5e-3
    assert res.counters["ext_discarded"] == 1 and res.counters["ext_events"] == 2
    assert res.counters["rec_events"] == 1 and res.rec_events_per_neuron.tolist() == [0, 1]


def _random_network(seed: int, *, poisson_only: bool = False) -> tuple[Network, list, float]:
    rng = np.random.default_rng(seed)
    base = LIFParams(c_m_farad=200e-12, g_leak_siemens=10e-9, e_leak_volt=0.0, v_th_volt=0.02,
                     v_reset_volt=0.01, t_ref_s=2e-3)  # fmt: skip
    n_a, n_b = 30, 12
    per_a = {"v_th_volt": rng.uniform(0.018, 0.022, n_a), "t_ref_s": rng.uniform(0.5e-3, 3e-3, n_a)}
    if not poisson_only:
        per_a["c_m_farad"] = rng.uniform(150e-12, 250e-12, n_a)  # heterogeneous tau
    a = Population(
        name="A",
        size=n_a,
        params=base,
        per_neuron=per_a,
        bias_current_amp=rng.uniform(0.0, 0.17e-9 if poisson_only else 0.26e-9, n_a),  # some suprathreshold
        v_init_volt=rng.uniform(0.0, 0.02, n_a),
    )
    b = Population(name="B", size=n_b, params=base.replace(t_ref_s=1e-3), v_init_volt=rng.uniform(0, 0.02, n_b))
    pre = rng.integers(0, n_a, 40)
    post = rng.integers(0, n_b, 40)
    projs = (
        Projection(pre="A", post="A", rule=FixedInDegree(k=6), weight_volt=1.5e-3, delay_s=1.5e-3),
        Projection(pre="A", post="B", rule=FixedProbability(p=0.25), weight_volt=2.5e-3,
                   delay_s=1.5e-3 if poisson_only else 2.3e-3),
        Projection(pre="B", post="A", rule=AllToAll(), weight_volt=lambda r, m: r.uniform(-2e-3, 0, m),
                   delay_s=1.5e-3 if poisson_only else 1.1e-3),
        Projection(pre="A", post="B", rule=Explicit(pre=pre, post=post, weight_volt=rng.uniform(0, 3e-3, 40),
                   delay_s=None if poisson_only else rng.choice([1.2e-3, 3e-3], 40)), delay_s=1.5e-3),
    )  # fmt: skip
    net = Network(populations=(a, b), projections=projs, seed=seed)
    duration = 0.25
    inputs: list = [
        PoissonInput(population="A", rate_hz=rng.uniform(500, 3000, n_a), weight_volt=1e-3),
        PoissonInput(population="B", rate_hz=4000.0, weight_volt=2e-3),
    ]
    if not poisson_only:
        m = 1500
        inputs += [
            PoissonInput(population="B", rate_hz=1000.0, weight_volt=-1e-3),  # two sources on B
            SpikeTimesInput(population="A", times_s=rng.uniform(0, duration, m), neurons=rng.integers(0, n_a, m),
                            weight_volt=rng.uniform(-1e-3, 4e-3, m)),
            # equal times on purpose: tie rules
            SpikeTimesInput(population="B", times_s=[0.05, 0.05, 0.05], neurons=[0, 0, 1], weight_volt=[0.02, -0.01, 0.02]),
            CurrentStep(population="B", times_s=[0.03, 0.12, 0.2], amplitudes_amp=[0.3e-9, 0.05e-9, 0.22e-9]),
        ]  # fmt: skip
    return net, inputs, duration


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("poisson_only", [False, True])
def test_parity_with_the_reference_backend(seed, poisson_only):
    net, inputs, duration = _random_network(seed, poisson_only=poisson_only)
    fast = run(net, duration_s=duration, inputs=inputs, seed=seed)
    ref = run(net, duration_s=duration, inputs=inputs, seed=seed, backend="reference")
    assert fast.counters["spikes"] > 100
    assert fast.counters["rec_discarded"] > 0 and fast.counters["ext_discarded"] > 0
    if not poisson_only:
        assert fast.counters["drift_spikes"] > 0 and fast.counters["current_steps"] > 0
    assert fast.events.size == ref.events.size
    np.testing.assert_array_equal(fast.events["address"], ref.events["address"])
    np.testing.assert_allclose(fast.events["time_s"], ref.events["time_s"], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(fast.spike_counts, ref.spike_counts)
    np.testing.assert_array_equal(fast.rec_events_per_neuron, ref.rec_events_per_neuron)
    for key, value in ref.counters.items():
        assert fast.counters[key] == value, key


def test_runs_are_deterministic_for_a_seed():
    net, inputs, duration = _random_network(5, poisson_only=True)
    a = run(net, duration_s=duration, inputs=inputs, seed=11)
    b = run(net, duration_s=duration, inputs=inputs, seed=11)
    c = run(net, duration_s=duration, inputs=inputs, seed=12)
    np.testing.assert_array_equal(a.events, b.events)
    assert a.events.size != c.events.size or not np.array_equal(a.events, c.events)


def test_engine_exponential_sampler_passes_ks():
    x = _engine.exp_samples(123, 200_000)
    assert stats.kstest(x, "expon").pvalue > 1e-3
    # the tail beyond the ziggurat's base strip (r = 7.697) has the right mass
    assert abs((x > 7.697).mean() - math.exp(-7.697)) < 5 * math.sqrt(math.exp(-7.697) / x.size)


def test_poisson_input_intervals_are_exponential():
    times, src = _engine.poisson_train(9, 17, 2000.0, np.array([0.25, 1.0]), 50.0)
    assert stats.kstest(np.diff(times) * 2000.0, "expon").pvalue > 1e-3
    assert abs((src == 0).mean() - 0.25) < 0.01


def test_polynomial_frame_is_exact_to_an_ulp():
    x = np.linspace(0, 0.125, 1001)
    got = np.array([_engine.exp_small(v) for v in x])
    np.testing.assert_allclose(got, np.exp(x), rtol=4.5e-16, atol=0)


def test_run_rejects_bad_arguments():
    net = _single(P, np.array([0.0]))
    with pytest.raises(InvalidParameterError, match="duration_s = 0"):
        run(net, duration_s=0)
    with pytest.raises(InvalidParameterError, match="backend = 'gpu'"):
        run(net, duration_s=1e-3, backend="gpu")
    with pytest.raises(InvalidParameterError, match="seed = -1"):
        run(net, duration_s=1e-3, seed=-1)
    with pytest.raises(InvalidParameterError, match="inputs\\[0\\] = str"):
        run(net, duration_s=1e-3, inputs=["x"])
    with pytest.raises(InvalidParameterError, match="population = 'Z': is not in the network"):
        run(net, duration_s=1e-3, inputs=[PoissonInput(population="Z", rate_hz=1.0, weight_volt=1e-3)])
    noisy = _single(LIFParams(noise_sigma_volt=1e-3), np.array([1e-9]))
    with pytest.raises(InvalidParameterError, match="compiled backend only"):
        run(noisy, duration_s=1e-3, backend="reference")
    with pytest.raises(InvalidParameterError, match="leaky, non-adapting neurons only"):
        run(_single(LIFParams(noise_sigma_volt=1e-3, g_leak_siemens=0.0), np.array([1e-9])), duration_s=1e-3)


def test_counters_add_up():
    net, inputs, duration = _random_network(7)
    res = run(net, duration_s=duration, inputs=inputs, seed=3)
    c = res.counters
    assert c["spikes"] == res.spike_counts.sum() == res.events.size
    assert c["rec_events"] == res.rec_events_per_neuron.sum()
    assert c["neuron_updates"] == (
        c["rec_events"] - c["rec_discarded"] + c["ext_events"] - c["ext_discarded"] + c["spikes"] + c["current_steps"]
    )
    no_log = run(net, duration_s=duration, inputs=inputs, seed=3, record=False)
    assert no_log.events.size == 0
    np.testing.assert_array_equal(no_log.spike_counts, res.spike_counts)


@pytest.mark.parametrize("seed", [1, 2])
def test_parity_on_the_homogeneous_fast_path(seed):
    # shared threshold, Poisson rate and weight (the 32-byte neuron path); t_ref and reset vary
    rng = np.random.default_rng(seed)
    base = LIFParams(c_m_farad=250e-12, g_leak_siemens=12.5e-9, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=2e-3)
    pop = Population(
        name="P",
        size=60,
        params=base,
        per_neuron={"t_ref_s": rng.uniform(1e-3, 3e-3, 60), "v_reset_volt": rng.uniform(0.0, 0.015, 60)},
        v_init_volt=rng.uniform(0, 0.02, 60),
    )
    net = Network(
        populations=(pop,),
        projections=(
            Projection(pre="P", post="P", rule=FixedInDegree(k=20), weight_volt=0.8e-3, delay_s=1.5e-3),
            Projection(pre="P", post="P", rule=FixedInDegree(k=5), weight_volt=-2e-3, delay_s=2e-3),
        ),
        seed=seed,
    )
    inputs = [PoissonInput(population="P", rate_hz=15_000.0, weight_volt=0.1e-3)]
    fast = run(net, duration_s=0.3, inputs=inputs, seed=seed)
    ref = run(net, duration_s=0.3, inputs=inputs, seed=seed, backend="reference")
    assert fast.counters["spikes"] > 200 and fast.counters["rec_discarded"] > 0
    np.testing.assert_array_equal(fast.events["address"], ref.events["address"])
    np.testing.assert_allclose(fast.events["time_s"], ref.events["time_s"], rtol=0, atol=1e-12)
    assert fast.counters == {**ref.counters, "windows": fast.counters["windows"]}


def test_network_perfect_and_adaptive_neurons_match_the_single_neuron_kernels():
    from neurochip.emulator import adaptive_spike_times, dc_spike_times

    base = LIFParams(c_m_farad=250e-12, g_leak_siemens=12.5e-9, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=2e-3)
    pif = base.replace(g_leak_siemens=0.0)
    adapt = base.replace(adapt_increment_amp=30e-12, tau_adapt_s=0.1)
    net = Network(
        populations=(
            Population(name="pif", size=1, params=pif, bias_current_amp=0.3e-9, v_init_volt=0.01),
            Population(name="ad", size=1, params=adapt, bias_current_amp=0.5e-9, v_init_volt=0.01),
        )
    )
    res = run(net, duration_s=0.3)
    np.testing.assert_allclose(res.spike_times(0), dc_spike_times(pif, 0.3e-9, duration_s=0.3), rtol=1e-12)
    np.testing.assert_allclose(res.spike_times(1), adaptive_spike_times(adapt, 0.5e-9, duration_s=0.3), rtol=1e-12)
    assert res.counters["drift_spikes"] == res.counters["spikes"] > 20


@pytest.mark.parametrize("seed", [1, 2])
def test_parity_with_perfect_and_adaptive_neurons(seed):
    rng = np.random.default_rng(seed)
    base = LIFParams(c_m_farad=250e-12, g_leak_siemens=12.5e-9, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=2e-3)
    ad = Population(
        name="ad",
        size=15,
        params=base.replace(adapt_increment_amp=20e-12, tau_adapt_s=0.05),
        per_neuron={"tau_adapt_s": rng.uniform(0.01, 0.2, 15)},
        bias_current_amp=rng.uniform(0.1e-9, 0.4e-9, 15),
        v_init_volt=rng.uniform(0, 0.02, 15),
    )
    pif = Population(
        name="pif", size=8, params=base.replace(g_leak_siemens=0.0), bias_current_amp=rng.uniform(-0.05e-9, 0.1e-9, 8),
        v_init_volt=rng.uniform(0, 0.02, 8),
    )  # fmt: skip
    lif = Population(name="lif", size=10, params=base, v_init_volt=rng.uniform(0, 0.02, 10))
    net = Network(
        populations=(ad, pif, lif),
        projections=(
            Projection(pre="ad", post="lif", rule=FixedInDegree(k=4), weight_volt=3e-3, delay_s=1.5e-3),
            Projection(pre="lif", post="pif", rule=FixedInDegree(k=3), weight_volt=2e-3, delay_s=2.5e-3),
            Projection(pre="pif", post="ad", rule=FixedInDegree(k=3), weight_volt=-1e-3, delay_s=1.2e-3),
        ),
        seed=seed,
    )
    duration = 0.2
    inputs = [
        PoissonInput(population="lif", rate_hz=8000.0, weight_volt=0.4e-3),
        SpikeTimesInput(population="pif", times_s=rng.uniform(0, duration, 300), neurons=rng.integers(0, 8, 300),
                        weight_volt=rng.uniform(-1e-3, 3e-3, 300)),
        CurrentStep(population="ad", times_s=[0.05, 0.12], amplitudes_amp=[0.2e-9, -0.05e-9]),
    ]  # fmt: skip
    fast = run(net, duration_s=duration, inputs=inputs, seed=seed)
    ref = run(net, duration_s=duration, inputs=inputs, seed=seed, backend="reference")
    assert fast.counters["spikes"] > 100 and fast.counters["drift_spikes"] > 20
    assert fast.events.size == ref.events.size
    np.testing.assert_array_equal(fast.events["address"], ref.events["address"])
    np.testing.assert_allclose(fast.events["time_s"], ref.events["time_s"], rtol=0, atol=1e-12)
    assert fast.counters == {**ref.counters, "windows": fast.counters["windows"]}


def test_docstring_examples_run():
    import doctest

    import neurochip.emulator as emulator_module
    import neurochip.network as network_module

    for module in (emulator_module, network_module):
        assert doctest.testmod(module).failed == 0


def test_missing_compiled_engine_is_an_import_error_saying_how_to_build():
    import subprocess
    import sys

    # the package imports (its reference backend needs no build); the compiled backend and the
    # single-neuron kernels raise, before any work, and never fall back to the reference
    code = (
        "import sys; sys.modules['neurochip.emulator._engine'] = None\n"
        "import neurochip.emulator as em\n"
        "from neurochip.lif import LIFParams\n"
        "for call in (lambda: em.run(None, duration_s=1.0), lambda: em.dc_spike_times(LIFParams(), 1e-9, duration_s=1.0)):\n"
        "    try:\n        call()\n    except ImportError as exc:\n        print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    lines = out.strip().splitlines()
    assert len(lines) == 2 and all("is not built" in line and "make install" in line for line in lines), out


def _explicit_network() -> tuple[Network, list]:
    rng = np.random.default_rng(5)
    n, m = 12, 60
    pre, post = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = pre != post
    rule = Explicit(pre=pre[keep], post=post[keep], weight_volt=rng.uniform(-0.1, 0.3, keep.sum()),
                    delay_s=rng.choice([1e-3, 1.5e-3], keep.sum()))  # fmt: skip
    net = Network(populations=(Population(name="a", size=n, params=P),),
                  projections=(Projection(pre="a", post="a", rule=rule),))  # fmt: skip
    inputs = [
        PoissonInput(population="a", rate_hz=900.0, weight_volt=0.2),
        PoissonInput(population="a", rate_hz=300.0, weight_volt=-0.1, neurons=[0, 1, 2]),
        CurrentStep(population="a", times_s=[0.01], amplitudes_amp=[0.2e-9], neurons=[3]),
    ]
    return net, inputs


def test_reference_runs_without_the_compiled_engine(tmp_path):
    import pickle
    import subprocess
    import sys

    # the network goes over pickled, its synapses as arrays (building them, Network.csr, is
    # compiled code); the child blocks the compiled engine before importing anything
    net, inputs = _explicit_network()
    csr = net.csr()
    arrays = {"indptr": csr.indptr, "indices": csr.indices, "weights": csr.weights, "delays_s": csr.delays_s}
    (tmp_path / "in.pkl").write_bytes(pickle.dumps((net.populations, net.projections, inputs, arrays)))
    code = f"""
import pickle, sys
sys.modules["neurochip.emulator._engine"] = None
import numpy as np
from neurochip.network import Network, SynapseCSR
from neurochip.emulator._prepare import prepare
from neurochip.emulator._reference import run_reference
pops, projs, inputs, arrays = pickle.loads(open({str(tmp_path / "in.pkl")!r}, "rb").read())
net = Network(populations=pops, projections=projs)
csr = SynapseCSR(n_neurons=net.n_neurons, **arrays)
times, ids, counts, cnt = run_reference(prepare(net, inputs, 0.05), csr, 0.05, 7)
assert sys.modules["neurochip.emulator._engine"] is None
np.savez({str(tmp_path / "ref.npz")!r}, times=times, ids=ids)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    ref = np.load(tmp_path / "ref.npz")
    fast = run(net, duration_s=0.05, inputs=inputs, seed=7)
    assert fast.events.size > 50
    np.testing.assert_array_equal(ref["ids"], fast.events["address"])
    np.testing.assert_allclose(ref["times"], fast.events["time_s"], rtol=0, atol=1e-12)


def test_reference_random_streams_are_the_engines_bit_for_bit():
    # the tail and the rejection branch of the ziggurat are reached (about 1 draw in 100)
    np.testing.assert_array_equal(_random.exp_samples(2**63 + 5, 20_000), _engine.exp_samples(2**63 + 5, 20_000))
    cum = np.array([0.2, 0.7, 1.0])
    for seed, neuron in ((0, 0), (9, 17), (2**64 - 1, 123_456)):
        t_ref, s_ref = _random.poisson_train(seed, neuron, 3000.0, cum, 3.0)
        t_eng, s_eng = _engine.poisson_train(seed, neuron, 3000.0, cum, 3.0)
        assert t_ref.size > 8000
        np.testing.assert_array_equal(t_ref, t_eng)
        np.testing.assert_array_equal(s_ref, s_eng)


@pytest.mark.parametrize("backend", ["cython", "reference"])
@pytest.mark.parametrize("exc_first", [True, False])
def test_simultaneous_arrivals_are_summed_before_the_threshold_test(backend, exc_first):
    # two sources spike at the same instant; their spikes reach the target together: +0.6 V
    # alone would fire it (V_th = 0.5 V), +0.6 - 0.3 = 0.3 V does not, whatever the addresses
    order = ("E", "I") if exc_first else ("I", "E")
    pops = tuple(Population(name=name, size=1, params=P) for name in order) + (Population(name="T", size=1, params=P),)
    net = Network(
        populations=pops,
        projections=(
            Projection(pre="E", post="T", rule=AllToAll(), weight_volt=0.6, delay_s=1e-3),
            Projection(pre="I", post="T", rule=AllToAll(), weight_volt=-0.3, delay_s=1e-3),
        ),
    )
    kick = [SpikeTimesInput(population=name, times_s=[2e-3], neurons=[0], weight_volt=0.7) for name in ("E", "I")]
    res = run(net, duration_s=0.01, inputs=kick, backend=backend)
    assert res.spike_counts.tolist() == [1, 1, 0]
    assert res.counters["rec_events"] == 2 and res.counters["rec_discarded"] == 0
    # without the inhibitory source the target fires at the arrival time
    alone = run(net, duration_s=0.01, inputs=kick[:1], backend=backend)
    t_spike = alone.spike_times(2)
    assert t_spike.tolist() == [2e-3 + 1e-3]


def test_kernel_input_is_checked_against_the_engines_list_of_arrays():
    import dataclasses

    from neurochip.emulator import _kernel_input
    from neurochip.emulator._prepare import prepare

    net, inputs = _explicit_network()
    prep, csr = prepare(net, inputs, 0.05), net.csr()
    kw = {"seed": 1, "duration_s": 0.05, "window_s": 1e-4, "noise_dt_fraction": 1e-3}
    kin = _kernel_input(prep, csr, None, **kw)
    assert kin.n == net.n_neurons and kin.route is None
    assert {name for name, _, _ in _engine.KERNEL_ARRAYS} >= {"inv_tau", "indptr", "weights", "noise_dt"}
    with pytest.raises(InvalidParameterError, match=r"kernel input vth: float32 \(12,\): must be a 1-d float64"):
        _kernel_input(dataclasses.replace(prep, vth=prep.vth.astype(np.float32)), csr, None, **kw)
    with pytest.raises(InvalidParameterError, match="kernel input pois_ptr: 12 elements: must have 13"):
        _kernel_input(dataclasses.replace(prep, pois_ptr=prep.pois_ptr[:-1]), csr, None, **kw)
