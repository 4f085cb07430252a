"""Single-neuron variants: perfect integrator, adaptive LIF (exact), noisy LIF (Siegert)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from neurochip import emulator
from neurochip.emulator import adaptive_spike_times, dc_spike_times, noisy_spike_times
from neurochip.errors import InvalidParameterError
from neurochip.lif import LIFParams, isi, pif_rate, siegert_cv, siegert_rate
from neurochip.network import Network, Population, Projection, SpikeTimesInput

BASE = LIFParams(c_m_farad=250e-12, g_leak_siemens=12.5e-9, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=2e-3)


def test_perfect_integrator_fires_at_the_closed_form_rate():
    p = BASE.replace(g_leak_siemens=0.0)
    current = 0.3e-9
    t = dc_spike_times(p, current, duration_s=0.5)
    np.testing.assert_allclose(np.diff(t), 1.0 / pif_rate(p, current), rtol=1e-12)


def test_adaptive_without_increment_is_the_closed_form_lif():
    t = adaptive_spike_times(BASE, 0.4e-9, duration_s=0.2)
    period = isi(BASE, 0.4e-9)
    np.testing.assert_allclose(t, (period - BASE.t_ref_s) + period * np.arange(t.size), rtol=1e-12)


def _adaptive_by_ode(p: LIFParams, current: float, t_stop: float) -> np.ndarray:
    """Independent reference: a tight-tolerance ODE solve with event location."""
    a = p.g_leak_siemens / p.c_m_farad

    def rhs(_t, y):
        v, w = y
        return [-a * (v - p.e_leak_volt) + (current - w) / p.c_m_farad, -w / p.tau_adapt_s]

    def hit(_t, y):
        return y[0] - p.v_th_volt

    hit.terminal = True
    hit.direction = 1
    t, v, w, out = 0.0, p.v_reset_volt, 0.0, []
    while t < t_stop:
        sol = solve_ivp(rhs, (t, t_stop), [v, w], events=hit, rtol=1e-12, atol=1e-18, method="DOP853")
        if not sol.t_events[0].size:
            break
        ts = float(sol.t_events[0][0])
        out.append(ts)
        w = (float(sol.y_events[0][0][1]) + p.adapt_increment_amp) * np.exp(-p.t_ref_s / p.tau_adapt_s)
        t, v = ts + p.t_ref_s, p.v_reset_volt
    return np.array(out)


@pytest.mark.parametrize("tau_w", [0.1, 0.02])  # 0.02 s = tau_m: the degenerate double root
def test_adaptive_spike_times_match_an_ode_solve(tau_w):
    p = BASE.replace(adapt_increment_amp=30e-12, tau_adapt_s=tau_w)
    got = adaptive_spike_times(p, 0.5e-9, duration_s=0.3)
    ref = _adaptive_by_ode(p, 0.5e-9, 0.3)
    assert got.size == ref.size > 10
    np.testing.assert_allclose(got, ref, rtol=1e-8)
    assert np.diff(got)[-1] > np.diff(got)[0]  # adaptation lengthens the ISI


@pytest.mark.parametrize(
    ("mu_volt", "sigma_volt"),
    [(0.015, 0.008), (0.018, 0.005), (0.020, 0.003), (0.022, 0.006), (0.025, 0.002)],
)
def test_noisy_neuron_rate_and_cv_match_siegert(mu_volt, sigma_volt):
    p = BASE.replace(noise_sigma_volt=sigma_volt)
    current = mu_volt * p.g_leak_siemens
    rate, cv = siegert_rate(p, current), siegert_cv(p, current)
    duration = 6000 / rate
    t = noisy_spike_times(p, current, duration_s=duration, seed=7)
    d = np.diff(t)
    # ~6000 spikes: statistical error ~1.3 % on the rate and ~1 % on the CV; method error < 1 %
    assert abs(t.size / duration - rate) < 0.05 * rate
    assert abs(d.std() / d.mean() - cv) < 0.05 * cv


def test_variant_errors():
    with pytest.raises(InvalidParameterError, match="noise_sigma_volt = 0.0"):
        noisy_spike_times(BASE, 1e-10, duration_s=1.0)
    with pytest.raises(InvalidParameterError, match="dt_s = 0.5"):
        noisy_spike_times(BASE.replace(noise_sigma_volt=1e-3), 1e-10, duration_s=1.0, dt_s=0.5)
    with pytest.raises(InvalidParameterError, match="g_leak_siemens = 0.0"):
        adaptive_spike_times(BASE.replace(g_leak_siemens=0.0), 1e-10, duration_s=1.0)


@pytest.mark.parametrize(("mu_volt", "sigma_volt"), [(0.015, 0.008), (0.020, 0.003), (0.022, 0.006)])
def test_noisy_neurons_in_a_network_match_siegert(mu_volt, sigma_volt):
    from neurochip.emulator import run
    from neurochip.network import Network, Population

    p = BASE.replace(noise_sigma_volt=sigma_volt)
    current = mu_volt * p.g_leak_siemens
    rate, cv = siegert_rate(p, current), siegert_cv(p, current)
    n, settle = 300, 0.2
    duration = settle + 8000 / (n * rate)
    v0 = np.random.default_rng(1).uniform(p.v_reset_volt, p.v_th_volt, n)
    net = Network(populations=(Population(name="x", size=n, params=p, bias_current_amp=current, v_init_volt=v0),))
    ev = run(net, duration_s=duration, seed=3).events
    late = ev[ev["time_s"] >= settle]
    order = np.lexsort((late["time_s"], late["address"]))
    addr, t = late["address"][order], late["time_s"][order]
    isi = np.diff(t)[addr[1:] == addr[:-1]]
    assert abs(late.size / (n * (duration - settle)) - rate) < 0.05 * rate
    assert abs(isi.std() / isi.mean() - cv) < 0.05 * cv


def test_noisy_network_is_deterministic_and_takes_inputs():
    from neurochip.emulator import run
    from neurochip.network import FixedInDegree, Network, PoissonInput, Population, Projection

    p = BASE.replace(noise_sigma_volt=0.004)
    net = Network(
        populations=(Population(name="x", size=50, params=p, bias_current_amp=0.2e-9),),
        projections=(Projection(pre="x", post="x", rule=FixedInDegree(k=5), weight_volt=1e-3, delay_s=1e-3),),
        seed=2,
    )
    inputs = [PoissonInput(population="x", rate_hz=2000.0, weight_volt=0.5e-3)]
    a = run(net, duration_s=0.5, inputs=inputs, seed=4)
    b = run(net, duration_s=0.5, inputs=inputs, seed=4)
    quiet = run(net, duration_s=0.5, seed=4)
    np.testing.assert_array_equal(a.events, b.events)
    assert a.counters["ext_events"] > 40_000 and a.counters["rec_events"] > 0
    assert a.counters["spikes"] > quiet.counters["spikes"]  # the excitatory drive adds spikes


def test_general_model_over_a_window_of_a_thousand_tau_m_stays_finite():
    """A leaky relay (tau_m = 1 ms) in a run on the general path (a perfect integrator is in
    it) whose windows last 1 s: the closed form's w-term is 0 x inf there unless left out; the
    relay must spike only when its input comes, on both backends."""
    from neurochip.network import OneToOne

    relay = Population(name="r", size=1, params=LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-9, e_leak_volt=0.0,
                                                          v_th_volt=0.5, v_reset_volt=0.0, t_ref_s=0.0))
    pif = Population(name="p", size=1, params=LIFParams(c_m_farad=1e-12, g_leak_siemens=0.0, e_leak_volt=0.0,
                                                        v_th_volt=0.5, v_reset_volt=0.0, t_ref_s=0.0))
    net = Network(populations=(relay, pif),
                  projections=(Projection(pre="r", post="p", rule=OneToOne(), weight_volt=0.3, delay_s=1.0),))
    inp = [SpikeTimesInput(population="r", times_s=[1.0, 3.0], neurons=[0, 0], weight_volt=1.0)]
    for backend in ("cython", "reference"):
        res = emulator.run(net, duration_s=7.0, inputs=inp, backend=backend)
        # the relay at 1 s and 3 s; the integrator gets 0.3 V at 2 s and 4 s: 0.6 V >= 0.5 V at 4 s
        assert res.events["time_s"].tolist() == [1.0, 3.0, 4.0], backend
        assert res.events["address"].tolist() == [0, 0, 1], backend
