"""PRC, strength-duration and channel-noise closed forms against direct numerical integration.

The same closed forms measured on the engines (emulator, ngspice, Markov channels) are in
tests/test_studies_*.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from neurochip import lif
from neurochip.errors import InvalidParameterError
from neurochip.lif import LIFParams

P = LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-9, e_leak_volt=0.0, v_th_volt=0.5, v_reset_volt=0.1, t_ref_s=1e-3)


def next_spike_after_kick(p, current, t_kick, dv):
    """Time of the first spike after a reset at 0, with a kick dv at t_kick (ODE integration)."""

    def rhs(t, v):
        return [(-p.g_leak_siemens * (v[0] - p.e_leak_volt) + current) / p.c_m_farad]

    def hit(t, v):
        return v[0] - p.v_th_volt

    hit.terminal, hit.direction = True, 1
    opts = dict(rtol=1e-12, atol=1e-16, method="DOP853", events=hit)
    if t_kick <= p.t_ref_s:
        v0, t0 = p.v_reset_volt, p.t_ref_s
    else:
        sol = solve_ivp(rhs, (p.t_ref_s, t_kick), [p.v_reset_volt], **opts)
        if sol.t_events[0].size:
            return sol.t_events[0][0]
        v0, t0 = sol.y[0, -1] + dv, t_kick
        if v0 >= p.v_th_volt:
            return t_kick
    sol = solve_ivp(rhs, (t0, t0 + 1.0), [v0], **opts)
    return sol.t_events[0][0]


@pytest.mark.parametrize("dv", [0.01, -0.02, 0.15])
def test_prc_matches_perturbed_ode(dv):
    current = 1.0e-9
    period = lif.isi(P, current)
    phases = np.linspace(0.0, 0.99, 23)
    prc = lif.phase_response(P, current, phases, dv)
    for phi, z in zip(phases, prc):
        t_spike = next_spike_after_kick(P, current, phi * period, dv)
        expected = (period - t_spike) / period
        if phi * period < P.t_ref_s:
            expected = 0.0  # kick during the refractory hold is ignored
        assert z == pytest.approx(expected, abs=1e-9)


def test_prc_is_zero_in_refractory_and_grows_with_phase():
    z = lif.phase_response(P, 1e-9, np.linspace(0, 0.95, 40), 1e-3)
    period = lif.isi(P, 1e-9)
    refractory = np.linspace(0, 0.95, 40) * period < P.t_ref_s
    assert np.all(z[refractory] == 0)
    assert np.all(np.diff(z[~refractory]) > 0)  # the LIF PRC rises towards the spike


def rest_pulse_fires(p, amplitude, width):
    """Does a pulse from rest reach threshold? (max of V over the pulse, by integration)"""
    sol = solve_ivp(
        lambda t, v: [(-p.g_leak_siemens * (v[0] - p.e_leak_volt) + amplitude) / p.c_m_farad],
        (0, width),
        [p.e_leak_volt],
        rtol=1e-12,
        atol=1e-16,
        method="DOP853",
    )
    return sol.y[0, -1] >= p.v_th_volt


@pytest.mark.parametrize("width", [1e-5, 1e-4, 1e-3, 5e-3])
def test_strength_duration_threshold_by_integration(width):
    i_min = lif.min_pulse_amplitude(P, width)
    assert rest_pulse_fires(P, i_min * (1 + 1e-6), width)
    assert not rest_pulse_fires(P, i_min * (1 - 1e-6), width)


def test_strength_duration_limits():
    rh = lif.rheobase(P)
    assert lif.min_pulse_amplitude(P, 1.0) == pytest.approx(rh, rel=1e-12)
    w = 1e-8  # short pulses: a charge threshold C * (V_th - E_L)
    assert lif.min_pulse_amplitude(P, w) == pytest.approx(P.c_m_farad * 0.5 / w, rel=1e-4)
    assert lif.min_pulse_amplitude(P, lif.chronaxie(P)) == pytest.approx(2 * rh, rel=1e-12)
    pif = P.replace(g_leak_siemens=0.0)
    assert lif.min_pulse_amplitude(pif, 2e-3) == pytest.approx(1e-12 * 0.5 / 2e-3)


def test_channel_noise_sigma_formula_by_hand():
    n, p_open, tau_c, drive = 1000, 0.2, 1e-4, 0.3
    sigma = lif.channel_noise_sigma(P, n_channels=n, open_probability=p_open, channel_tau_s=tau_c, driving_force_volt=drive)
    gamma = P.g_leak_siemens / (n * p_open)
    sd_g = gamma * math.sqrt(n * p_open * (1 - p_open))
    sd_i = sd_g * drive
    expected = sd_i / P.g_leak_siemens * math.sqrt(2 * tau_c / P.tau_m_s)
    assert sigma == pytest.approx(expected, rel=1e-12)
    # more channels, less noise: sigma ~ 1 / sqrt(N)
    s4 = lif.channel_noise_sigma(P, n_channels=4 * n, open_probability=p_open, channel_tau_s=tau_c, driving_force_volt=drive)
    assert s4 == pytest.approx(sigma / 2, rel=1e-12)
    with pytest.raises(InvalidParameterError, match="open_probability = 0"):
        lif.channel_noise_sigma(P, n_channels=10, open_probability=0, channel_tau_s=1e-4, driving_force_volt=0.1)
