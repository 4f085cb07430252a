"""PRC, strength-duration and channel-noise closed forms against direct numerical integration."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import require_or_skip
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


# --------------------------------------------------------------------------------------------
# the same closed forms measured on independent engines: the compiled emulator, ngspice, and a
# direct simulation of N Markov channels


@pytest.mark.parametrize("kick", [0.004, -0.004])
def test_emulator_prc_within_2_percent_of_closed_form_at_20_phases(kick):
    current = 1.0e-9
    phases = np.arange(20) / 20
    closed = lif.phase_response(P, current, phases, kick)
    measured = lif.measure_phase_response(P, current, phases, kick)
    diff = np.abs(measured - closed)
    print(f"\nPRC kick {kick} V: max |emulator - closed form| = {diff.max():.3g} of the ISI")
    assert diff.max() < 0.02
    # the emulator is exact between events, so in fact the curves agree to rounding
    assert diff.max() < 1e-9
    # and the curve is not trivially zero: the advance grows towards the spike
    assert abs(closed[-1]) > 0.004 and abs(closed[-1]) > 3 * abs(closed[10])


def test_emulator_strength_duration_matches_closed_form():
    for width in (2e-5, 3e-4, 1e-3, 5e-3):
        closed = lif.min_pulse_amplitude(P, width)
        measured = lif.measure_min_pulse_amplitude(P, width, rel_tol=1e-7)
        assert measured == pytest.approx(closed, rel=1e-6)
        assert lif.pulse_fires(P, closed * 1.001, width)
        assert not lif.pulse_fires(P, closed * 0.999, width)


@pytest.mark.spice
def test_spice_fitted_neuron_strength_duration_within_2_percent():
    from neurochip.circuit import fit_lif, spice_available

    require_or_skip(spice_available(), "ngspice")
    fitted = fit_lif("lif_behavioral").params
    for width in (2e-5, 1e-4, 5e-4):  # 0.2, 1 and 5 tau_m of the circuit
        closed = lif.min_pulse_amplitude(fitted, width)
        emulator = lif.measure_min_pulse_amplitude(fitted, width)
        spice = lif.spice_min_pulse_amplitude("lif_behavioral", width, lif_params=fitted, rel_tol=1e-3)
        print(f"\nwidth {width:g} s: closed {closed:.5g} A, emulator {emulator:.5g} A, ngspice {spice:.5g} A")
        assert emulator == pytest.approx(closed, rel=0.02)
        assert spice == pytest.approx(closed, rel=0.02)


PN = LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-10, e_leak_volt=0.0, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=2e-3)
CHANNELS = dict(open_probability=0.5, channel_tau_s=1e-3, driving_force_volt=0.015)


def test_channel_noise_predicted_cv_within_10_percent_of_emulator():
    current = lif.rheobase(PN)
    for n in (10, 40, 160, 640):
        sigma = lif.channel_noise_sigma(PN, n_channels=n, **CHANNELS)
        predicted = lif.siegert_cv(PN, current, sigma_volt=sigma)
        measured, intervals = lif.measure_channel_noise_cv(PN, current, sigma, n_spikes=1500, seed=n)
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
        cv, rate, k = lif.markov_channel_cv(PN, current, n_channels=n, open_probability=0.5, channel_tau_s=tau_c,
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
    cv, rate, _ = lif.markov_channel_cv(PN, current, n_channels=50, open_probability=1.0, channel_tau_s=1e-3,
                                        n_neurons=5, duration_s=0.1, dt_s=2e-6)  # fmt: skip
    assert rate == pytest.approx(lif.firing_rate(PN, current), rel=2e-3)  # spike times on a 1 us grid
    assert cv < 1e-2
