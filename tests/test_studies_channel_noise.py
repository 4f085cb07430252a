"""Channel noise: channel_noise_sigma + siegert_cv (neurochip.lif) against the emulator and a
direct Markov-channel simulation (neurochip.studies.channel_noise)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurochip import lif
from neurochip.errors import InvalidParameterError
from neurochip.lif import LIFParams
from neurochip.studies.channel_noise import (
    compare_channel_noise,
    isi_cv,
    markov_channel_cv,
    measure_channel_noise_cv,
)

PN = LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-10, e_leak_volt=0.0, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=2e-3)
CHANNELS = dict(open_probability=0.5, channel_tau_s=1e-3, driving_force_volt=0.015)


def test_channel_noise_predicted_cv_within_10_percent_of_emulator():
    current = lif.rheobase(PN)
    for n in (10, 40, 160, 640):
        sigma = lif.channel_noise_sigma(PN, n_channels=n, **CHANNELS)
        predicted = lif.siegert_cv(PN, current, sigma_volt=sigma)
        measured, intervals = measure_channel_noise_cv(PN, current, sigma, n_spikes=1500, seed=n)
        print(f"\nN = {n}: sigma {sigma:.3g} V, Siegert CV {predicted:.4f}, emulator CV {measured:.4f} ({intervals} ISIs)")
        assert intervals > 1000
        assert measured == pytest.approx(predicted, rel=0.10)


def test_markov_channels_against_the_diffusion_approximation():
    """How well the white-noise (diffusion) picture holds for real two-state channels.

    Measured (seed 0, 200 neurons): the Markov channels' CV is 12-27 % above the Siegert CV of
    the diffusion sigma, and their rate 4-12 % below it (the conductance noise is multiplicative,
    so it is stronger near threshold than at the operating point, and tau_c = tau_m / 10 is
    coloured).  The tolerances below are those figures with a margin, not a claim of accuracy.
    """
    current = lif.rheobase(PN)
    tau_c = CHANNELS["channel_tau_s"]
    cvs = []
    for n in (10, 160):
        sigma = lif.channel_noise_sigma(PN, n_channels=n, **CHANNELS)
        predicted_cv = lif.siegert_cv(PN, current, sigma_volt=sigma)
        predicted_rate = lif.siegert_rate(PN, current, sigma_volt=sigma)
        cv, rate, k = markov_channel_cv(PN, current, n_channels=n, open_probability=0.5, channel_tau_s=tau_c,
                                            n_neurons=200, duration_s=8 / predicted_rate, seed=0)  # fmt: skip
        print(f"\nN = {n}: Markov CV {cv:.4f} vs diffusion {predicted_cv:.4f}; rate {rate:.2f} vs {predicted_rate:.2f} Hz ({k} ISIs)")
        assert k > 1000
        assert cv == pytest.approx(predicted_cv, rel=0.35)
        assert rate == pytest.approx(predicted_rate, rel=0.2)
        cvs.append(cv)
    assert cvs[1] < cvs[0]  # more channels, less noise, more regular firing


def test_markov_channels_without_noise_fire_like_the_deterministic_neuron():
    # p = 1: every channel always open, no fluctuation: the rate is the closed-form DC rate
    current = 1.5 * lif.rheobase(PN)
    cv, rate, _ = markov_channel_cv(PN, current, n_channels=50, open_probability=1.0, channel_tau_s=1e-3,
                                        n_neurons=5, duration_s=0.1, dt_s=2e-6)  # fmt: skip
    assert rate == pytest.approx(lif.firing_rate(PN, current), rel=2e-3)  # spike times on a 1 us grid
    assert cv < 1e-2


def test_isi_cv_of_known_trains():
    assert isi_cv(np.arange(10) * 0.01) == pytest.approx(0.0, abs=1e-12)  # regular train
    assert isi_cv([0.0, 1.0, 3.0]) == pytest.approx(0.5 / 1.5)
    assert math.isnan(isi_cv([0.0, 1.0]))


def test_compare_channel_noise_defaults():
    rep = compare_channel_noise(PN, channels=[40], n_spikes=300)
    assert rep["current_amp"] == pytest.approx(lif.rheobase(PN))
    assert rep["channel_tau_s"] == pytest.approx(0.1 * PN.tau_m_s)
    assert rep["driving_force_volt"] == pytest.approx(0.015)
    expected = lif.channel_noise_sigma(PN, n_channels=40, **CHANNELS)
    assert rep["sigma_volt"][0] == pytest.approx(expected, rel=1e-12)
    assert "markov_cv" not in rep
    with pytest.raises(InvalidParameterError, match="needs a leak"):
        compare_channel_noise(PN.replace(g_leak_siemens=0.0))
