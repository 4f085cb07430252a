"""Stochastic resonance: the SNR measure against known spike trains, and the resonance itself."""

from __future__ import annotations

import numpy as np
import pytest

from neurochip import lif
from neurochip.errors import InvalidParameterError
from neurochip.lif import LIFParams
from neurochip.studies import resonance

P = LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-10, e_leak_volt=0.0, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=2e-3)


def modulated_poisson(rng, r0, m, f0, duration):
    """Inhomogeneous Poisson train of rate r0 (1 + m cos 2 pi f0 t), by thinning."""
    n = rng.poisson(r0 * (1 + m) * duration)
    t = np.sort(rng.uniform(0, duration, n))
    keep = rng.uniform(0, 1, n) < (1 + m * np.cos(2 * np.pi * f0 * t)) / (1 + m)
    return t[keep]


def test_snr_of_known_trains():
    rng = np.random.default_rng(3)
    f0, T, r0 = 10.0, 50.0, 20.0
    flat = [modulated_poisson(rng, r0, 0.0, f0, T) for _ in range(20)]
    assert abs(resonance.spike_train_snr(flat, f0, T)) < 0.5  # Poisson: flat spectrum at the rate
    # S(f0) = r0 + r0^2 m^2 T / 4 for a rate r0 (1 + m cos): SNR = r0 m^2 T / 4
    m = 0.3
    mod = [modulated_poisson(rng, r0, m, f0, T) for _ in range(20)]
    expected = r0 * m**2 * T / 4
    assert resonance.spike_train_snr(mod, f0, T) == pytest.approx(expected, rel=0.25)


def test_vector_strength_and_staircase():
    assert resonance.vector_strength(np.arange(50) * 0.1 + 0.025, 10.0) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    assert resonance.vector_strength(rng.uniform(0, 100, 10000), 10.0) < 0.05
    t, a = resonance.sinusoid_steps(1.0, 0.5, 10.0, 0.2, 8)
    assert t.size == 16 and np.all(np.diff(t) == pytest.approx(0.0125))
    assert a[0] == pytest.approx(1 + 0.5 * np.sin(2 * np.pi * 10 * 0.00625))
    assert a.max() < 1.5 and a.min() > 0.5


def test_stochastic_resonance_peak_at_intermediate_noise():
    # a drive 0.80 + 0.15 rheobase never fires the noise-free neuron; sigma on a factor-2 grid
    sigmas = 1e-3 * 2.0 ** np.arange(-2, 5)  # 0.25 ... 16 mV
    res = resonance.resonance_curve(P, sigmas, frequency_hz=10.0, duration_s=10.0, n_trials=10, seed=1)
    k = int(np.argmax(res.snr))
    print("\nsigma (mV):", np.round(sigmas * 1e3, 3))
    print("SNR       :", np.round(res.snr, 2))
    print("vector str:", np.round(res.vector_strength, 3))
    assert 2 <= k <= sigmas.size - 3, "the optimum must have a 4x smaller and a 4x larger sigma on the grid"
    assert res.snr[k] > res.snr[k - 2]  # sigma / 4
    assert res.snr[k] > res.snr[k + 2]  # sigma * 4
    assert res.snr[k] > 10  # a clear peak, not noise in the estimate
    # vector strength: locked at low noise, lost at high noise (it does not resonate)
    assert res.vector_strength[k + 2] < res.vector_strength[k]


def test_noise_free_neuron_does_not_fire_under_the_drive():
    from neurochip.emulator import run
    from neurochip.network import CurrentStep, Network, Population

    t, a = resonance.sinusoid_steps(0.8 * lif.rheobase(P), 0.15 * lif.rheobase(P), 10.0, 2.0)
    res = run(Network(populations=(Population(name="n", size=1, params=P),)), duration_s=2.0,
              inputs=[CurrentStep(population="n", times_s=t, amplitudes_amp=a)])  # fmt: skip
    assert res.counters["spikes"] == 0


def test_bad_drive_is_refused():
    with pytest.raises(InvalidParameterError, match="below rheobase"):
        resonance.resonance_curve(P, [1e-3], bias_fraction=0.9, amplitude_fraction=0.2)
