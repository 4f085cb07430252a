"""Step-quantised delivery: the exact continuous-time LIF with every synaptic arrival moved up to
the next step boundary, as a time-stepped chip delivers a step's spikes at the next step."""

from __future__ import annotations

import numpy as np
import pytest

from neurochip.chip import load_chip
from neurochip.emulator import run
from neurochip.errors import InvalidParameterError
from neurochip.lif import LIFParams
from neurochip.network import Explicit, FixedInDegree, Network, Population, Projection, SpikeTimesInput

P = LIFParams()  # tau_m = 1 ms, V_th = 0.5 V, t_ref = 1 ms, E_L = V_reset = 0


def pair() -> Network:
    pops = (Population(name="A", size=1, params=P), Population(name="B", size=1, params=P))
    rule = Explicit(pre=[0], post=[0])
    return Network(populations=pops, projections=(Projection(pre="A", post="B", rule=rule, weight_volt=0.6, delay_s=1e-4),))


@pytest.mark.parametrize("backend", ["cython", "reference"])
def test_an_arrival_waits_for_the_next_step_boundary(backend):
    # A fires at 0.3 and 2.55 ms (kicks above threshold); B fires on arrival (0.6 V > 0.5 V)
    drive = SpikeTimesInput(population="A", times_s=[0.3e-3, 2.55e-3], neurons=[0, 0], weight_volt=0.6)
    chip = load_chip("generic")  # both neurons on one core: no network latency
    exact = run(pair(), duration_s=0.01, inputs=[drive], chip=chip, backend=backend)
    stepped = run(pair(), duration_s=0.01, inputs=[drive], chip=chip, backend=backend, delivery_step_s=1e-3)
    b_exact = exact.events["time_s"][exact.events["address"] == 1]
    b_stepped = stepped.events["time_s"][stepped.events["address"] == 1]
    assert b_exact == pytest.approx([0.4e-3, 2.65e-3], abs=1e-15)  # spike + 0.1 ms delay
    assert b_stepped.tolist() == [1e-3, 3e-3]  # the next 1 ms boundaries, exactly


def ring(n: int, k: int) -> Network:
    """Strong excitatory ring: each arrival alone lifts its target over threshold."""
    pre = np.repeat(np.arange(n), k)
    post = (pre + np.tile(np.arange(1, k + 1), n)) % n
    pop = Population(name="E", size=n, params=P)
    return Network(populations=(pop,), projections=(Projection(pre="E", post="E", rule=Explicit(pre=pre, post=post),
                                                                weight_volt=0.6, delay_s=0.3e-3),))  # fmt: skip


def test_driven_only_by_arrivals_every_spike_is_on_the_step_grid():
    """Without a bias the membrane only decays between inputs, so a neuron can fire only at an
    input: with the stimulus on the grid and quantised delivery, every spike is on it."""
    step = 0.5e-3
    net = ring(200, 3)
    drive = SpikeTimesInput(population="E", times_s=[step * 3, step * 40], neurons=[0, 100], weight_volt=0.6)
    res = run(net, duration_s=0.05, inputs=[drive], chip=load_chip("generic"), delivery_step_s=step)
    t = res.events["time_s"]
    assert t.size > 200
    k = np.rint(t / step)
    assert np.array_equal(k * step, t) or np.allclose(k * step, t, rtol=0, atol=1e-15)
    # unquantised, the same network fires off the grid (0.3 ms delays plus hop latencies)
    free = run(net, duration_s=0.05, inputs=[drive], chip=load_chip("generic"))
    assert not np.allclose(np.rint(free.events["time_s"] / step) * step, free.events["time_s"], atol=1e-12)


def test_quantised_delivery_engine_equals_reference_on_a_random_network():
    rng = np.random.default_rng(2)
    pop = Population(name="E", size=120, params=P, v_init_volt=rng.uniform(0, 0.5, 120))
    net = Network(populations=(pop,), projections=(
        Projection(pre="E", post="E", rule=FixedInDegree(k=10), weight_volt=0.08, delay_s=0.2e-3),), seed=4)  # fmt: skip
    times = np.sort(rng.uniform(0, 0.04, 8000))
    drive = SpikeTimesInput(population="E", times_s=times, neurons=rng.integers(0, 120, times.size), weight_volt=0.2)
    chip = load_chip("generic")
    a = run(net, duration_s=0.04, inputs=[drive], chip=chip, delivery_step_s=1e-3)
    b = run(net, duration_s=0.04, inputs=[drive], chip=chip, delivery_step_s=1e-3, backend="reference")
    assert a.events.size > 400 and np.array_equal(a.events, b.events)
    assert np.array_equal(a.spike_counts, b.spike_counts)


def test_bad_delivery_step_is_named():
    with pytest.raises(InvalidParameterError, match="delivery_step_s = 0: must be a finite number > 0"):
        run(pair(), duration_s=0.01, chip=load_chip("generic"), delivery_step_s=0)
    with pytest.raises(InvalidParameterError, match="needs a routed run"):
        run(pair(), duration_s=0.01, delivery_step_s=1e-3)


def test_cli_run_with_the_chips_own_step(tmp_path, capsys):
    from neurochip.cli import main
    from neurochip.network.files import save_network
    from neurochip.report import RunRecord

    save_network(ring(200, 3), tmp_path / "ring.npz")
    net, out = str(tmp_path / "ring.npz"), str(tmp_path / "run.npz")
    assert main(["run", net, "--chip", "truenorth", "--delivery-step", "chip", "--duration", "20ms",
                 "--dc", "E:0.6nA", "-o", out]) == 0  # fmt: skip
    assert "warning" not in capsys.readouterr().err  # quantised: no warning that the chip steps
    rec = RunRecord.load(out)
    assert rec.provenance["delivery_step_s"] == 1e-3
    assert main(["run", net, "--chip", "loihi", "--delivery-step", "chip", "-o", out]) == 1
    assert "has no fixed step" in capsys.readouterr().err
    assert main(["run", net, "--delivery-step", "1ms", "--no-route", "-o", out]) == 1
    assert "needs the routed run" in capsys.readouterr().err
