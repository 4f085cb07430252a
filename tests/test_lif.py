"""The LIF closed forms against independent computations (ODE integration, stochastic simulation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from neurochip import lif
from neurochip.errors import ConfigError, InvalidParameterError
from neurochip.lif import LIFParams

P = LIFParams(
    c_m_farad=2e-12, g_leak_siemens=4e-9, e_leak_volt=0.1, v_th_volt=0.6, v_reset_volt=0.05, t_ref_s=2e-3
)


def ode_isi(p: LIFParams, current: float) -> float:
    """ISI by integrating C dV/dt = -g (V - E_L) + I from V_reset until the threshold event."""

    def rhs(t, v):
        return [(-p.g_leak_siemens * (v[0] - p.e_leak_volt) + current) / p.c_m_farad]

    def hit(t, v):
        return v[0] - p.v_th_volt

    hit.terminal = True
    hit.direction = 1
    sol = solve_ivp(rhs, (0.0, 10.0), [p.v_reset_volt], events=hit, rtol=1e-12, atol=1e-15, method="DOP853")
    assert sol.t_events[0].size == 1, "the ODE never reached threshold"
    return p.t_ref_s + sol.t_events[0][0]


@pytest.mark.parametrize("factor", [1.05, 1.5, 3.0, 10.0, 50.0])
def test_isi_matches_ode_integration(factor):
    current = factor * P.g_leak_siemens * (P.v_th_volt - P.e_leak_volt)
    assert lif.isi(P, current) == pytest.approx(ode_isi(P, current), rel=1e-8)


def test_isi_is_vectorised_and_infinite_below_rheobase():
    rh = P.g_leak_siemens * (P.v_th_volt - P.e_leak_volt)
    currents = np.array([-1e-9, 0.0, 0.5 * rh, rh, 2 * rh])
    t = lif.isi(P, currents)
    assert t.shape == (5,)
    assert np.all(np.isinf(t[:4]))
    assert np.isfinite(t[4])
    assert np.all(lif.firing_rate(P, currents)[:4] == 0.0)


def test_rheobase_and_tau():
    assert lif.rheobase(P) == pytest.approx(4e-9 * 0.5)
    assert lif.tau_m(P) == pytest.approx(2e-12 / 4e-9)
    assert P.r_leak_ohm == pytest.approx(0.25e9)
    # just above rheobase fires, just below does not
    rh = lif.rheobase(P)
    assert lif.firing_rate(P, rh * (1 + 1e-9)) > 0
    assert lif.firing_rate(P, rh * (1 - 1e-9)) == 0


def test_rate_saturates_at_one_over_t_ref():
    rh = lif.rheobase(P)
    rate = lif.firing_rate(P, 1e6 * rh)
    assert rate < lif.saturation_rate(P)
    assert rate == pytest.approx(1 / P.t_ref_s, rel=1e-4)
    assert lif.saturation_fraction(P, rate) == pytest.approx(1.0, rel=1e-4)
    # monotone increase towards the ceiling
    rates = lif.firing_rate(P, np.geomspace(1.01 * rh, 1e4 * rh, 200))
    assert np.all(np.diff(rates) > 0)


def test_leak_to_zero_gives_the_perfect_integrator():
    current = 1e-9
    dv = P.v_th_volt - P.v_reset_volt
    expected = 1.0 / (P.t_ref_s + P.c_m_farad * dv / current)  # PIF: C dV/dt = I
    for g in (1e-15, 1e-18, 0.0):
        q = P.replace(g_leak_siemens=g)
        assert lif.firing_rate(q, current) == pytest.approx(expected, rel=1e-5)
    assert lif.pif_rate(P, current) == pytest.approx(expected, rel=1e-12)
    # the LIF is always slower than its PIF limit
    assert lif.firing_rate(P, current) < lif.pif_rate(P, current)


def test_isi_stays_accurate_far_above_rheobase():
    # log1p form: no cancellation in ln(a/b) when a ~ b
    current = 1e3 * lif.rheobase(P)
    assert lif.isi(P, current) == pytest.approx(ode_isi(P, current), rel=1e-8)


def test_fi_curve_shapes_and_errors():
    i, r = lif.fi_curve(P, 0.0, 1e-8, 7)
    assert i.shape == r.shape == (7,)
    with pytest.raises(InvalidParameterError, match="i_max"):
        lif.fi_curve(P, 1.0, 0.0)


def test_adapting_neuron_has_no_closed_form_isi():
    q = P.replace(adapt_increment_amp=1e-10)
    with pytest.raises(InvalidParameterError, match="adapt_increment_amp"):
        lif.isi(q, 1e-8)


# -- validation and I/O -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field,value,match",
    [
        ("c_m_farad", 0.0, "c_m_farad = 0.0: must be > 0"),
        ("c_m_farad", -1e-12, "c_m_farad"),
        ("g_leak_siemens", -1e-9, "g_leak_siemens"),
        ("v_reset_volt", 0.5, "v_reset_volt = 0.5: must be < v_th_volt"),
        ("t_ref_s", -1e-3, "t_ref_s"),
        ("tau_adapt_s", 0.0, "tau_adapt_s"),
        ("noise_sigma_volt", -0.1, "noise_sigma_volt"),
        ("v_th_volt", math.nan, "v_th_volt = nan: must be finite"),
        ("e_leak_volt", "0.1", "e_leak_volt = '0.1': must be a number"),
    ],
)
def test_invalid_values_name_the_field(field, value, match):
    with pytest.raises(InvalidParameterError, match=match):
        LIFParams(**{field: value})


def test_dict_and_toml_round_trip(tmp_path):
    q = P.replace(adapt_increment_amp=3e-11, noise_sigma_volt=0.01)
    assert LIFParams.from_dict(q.to_dict()) == q
    path = tmp_path / "n.toml"
    q.to_toml(path)
    assert LIFParams.from_toml(path) == q


def test_toml_accepts_si_strings_and_resistance(tmp_path):
    path = tmp_path / "n.toml"
    path.write_text('[lif]\nc_m_farad = "2 pF"\nr_leak_ohm = "250meg"\nt_ref_s = "2ms"\n'.replace("meg", "M"))
    q = LIFParams.from_toml(path)
    assert q.c_m_farad == pytest.approx(2e-12)
    assert q.g_leak_siemens == pytest.approx(4e-9)
    assert q.t_ref_s == pytest.approx(2e-3)


@pytest.mark.parametrize(
    "text,match",
    [
        ("[lif]\nc_m_farad = 0\n", r"n\.toml: lif\.c_m_farad = 0\.0: must be > 0"),
        ("[lif]\nc_mem = 1e-12\n", r"n\.toml: lif\.c_mem: unknown field"),
        ('[lif]\nt_ref_s = "2 mV"\n', r"n\.toml: lif\.t_ref_s = '2 mV': unit 'V' given, expected 's'"),
        ("[lif\nc_m_farad = 1\n", r"n\.toml: malformed TOML"),
    ],
)
def test_bad_toml_names_file_and_key(tmp_path, text, match):
    path = tmp_path / "n.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        LIFParams.from_toml(path)


# -- noise: Siegert rate and CV against a stochastic simulation ---------------------------------


def simulate_noisy_lif(p: LIFParams, mu: float, sigma: float, *, n: int, t_end: float, dt: float, rng):
    """ISIs of n independent noisy LIF neurons (exact OU steps + Brownian-bridge crossing test)."""
    tau = p.tau_m_s
    decay = math.exp(-dt / tau)
    step_sd = sigma * math.sqrt((1 - decay**2) / 2)  # exact OU transition std for this convention
    bridge_var = sigma**2 * dt / tau  # diffusion variance per step, for the crossing probability
    v = rng.uniform(p.v_reset_volt, p.v_th_volt, n)
    ref_left = np.zeros(n)
    last_spike = np.full(n, np.nan)
    isis: list[np.ndarray] = []
    n_steps = int(round(t_end / dt))
    theta = p.v_th_volt
    for k in range(1, n_steps + 1):
        t = k * dt
        active = ref_left <= 0
        v_new = mu + (v - mu) * decay + step_sd * rng.standard_normal(n)
        crossed = v_new >= theta
        below = ~crossed
        gap0 = np.maximum(theta - v, 0.0)
        gap1 = np.maximum(theta - v_new, 0.0)
        p_bridge = np.exp(-2.0 * gap0 * gap1 / bridge_var)
        crossed |= below & (rng.random(n) < p_bridge)
        crossed &= active
        v = np.where(active, v_new, v)
        ref_left = np.where(active, ref_left, ref_left - dt)
        if crossed.any():
            idx = np.nonzero(crossed)[0]
            prev = last_spike[idx]
            ok = ~np.isnan(prev)
            isis.append(t - prev[ok])
            last_spike[idx] = t
            v[idx] = p.v_reset_volt
            ref_left[idx] = p.t_ref_s - 1e-12
    return np.concatenate(isis)


@pytest.mark.slow
@pytest.mark.parametrize("mu_v,sigma_v", [(0.018, 0.005), (0.022, 0.003), (0.012, 0.008)])
def test_siegert_rate_and_cv_match_stochastic_simulation(mu_v, sigma_v, rng):
    p = LIFParams(
        c_m_farad=1e-12, g_leak_siemens=1e-10, e_leak_volt=0.0, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=2e-3
    )  # tau_m = 10 ms, Brunel-like thresholds
    current = mu_v * p.g_leak_siemens
    isis = simulate_noisy_lif(p, mu_v, sigma_v, n=400, t_end=2.0, dt=2e-5, rng=rng)
    assert isis.size > 3000
    # The refractory time is counted in whole steps in the simulation: correct for the bias.
    rate_sim = 1.0 / isis.mean()
    cv_sim = isis.std() / isis.mean()
    rate_th = lif.siegert_rate(p, current, sigma_volt=sigma_v)
    cv_th = lif.siegert_cv(p, current, sigma_volt=sigma_v)
    assert rate_sim == pytest.approx(rate_th, rel=0.03)
    assert cv_sim == pytest.approx(cv_th, rel=0.05)


def test_siegert_tends_to_deterministic_rate_at_small_noise():
    current = 2 * lif.rheobase(P)
    assert lif.siegert_rate(P, current, sigma_volt=1e-4) == pytest.approx(lif.firing_rate(P, current), rel=2e-3)
    # the CV of a nearly deterministic neuron is small
    assert lif.siegert_cv(P, current, sigma_volt=1e-3) < 0.05


def test_siegert_needs_noise_and_leak():
    with pytest.raises(InvalidParameterError, match="noise sigma"):
        lif.siegert_rate(P, 1e-9)
    with pytest.raises(InvalidParameterError, match="needs a leak"):
        lif.siegert_rate(P.replace(g_leak_siemens=0.0), 1e-9, sigma_volt=0.01)
