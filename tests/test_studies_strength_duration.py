"""The strength-duration closed forms (neurochip.lif.min_pulse_amplitude, chronaxie) against
the emulator and ngspice (neurochip.studies.strength_duration)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_or_skip

from neurochip import lif
from neurochip.lif import LIFParams
from neurochip.studies.strength_duration import (
    compare_strength_duration,
    measure_min_pulse_amplitude,
    pulse_fires,
    spice_min_pulse_amplitude,
)

P = LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-9, e_leak_volt=0.0, v_th_volt=0.5, v_reset_volt=0.1, t_ref_s=1e-3)


def test_emulator_strength_duration_matches_closed_form():
    for width in (2e-5, 3e-4, 1e-3, 5e-3):
        closed = lif.min_pulse_amplitude(P, width)
        measured = measure_min_pulse_amplitude(P, width, rel_tol=1e-7)
        assert measured == pytest.approx(closed, rel=1e-6)
        assert pulse_fires(P, closed * 1.001, width)
        assert not pulse_fires(P, closed * 0.999, width)


@pytest.mark.spice
def test_spice_fitted_neuron_strength_duration_within_2_percent():
    from neurochip.circuit import fit_lif, spice_available

    require_or_skip(spice_available(), "ngspice")
    fitted = fit_lif("lif_behavioral").params
    for width in (2e-5, 1e-4, 5e-4):  # 0.2, 1 and 5 tau_m of the circuit
        closed = lif.min_pulse_amplitude(fitted, width)
        emulator = measure_min_pulse_amplitude(fitted, width)
        spice = spice_min_pulse_amplitude("lif_behavioral", width, lif_params=fitted, rel_tol=1e-3)
        print(f"\nwidth {width:g} s: closed {closed:.5g} A, emulator {emulator:.5g} A, ngspice {spice:.5g} A")
        assert emulator == pytest.approx(closed, rel=0.02)
        assert spice == pytest.approx(closed, rel=0.02)


def test_compare_strength_duration_default_widths_span_the_chronaxie():
    rep = compare_strength_duration(P)
    widths = rep["widths_s"]
    np.testing.assert_allclose(widths, P.tau_m_s * np.geomspace(0.05, 5, 8))
    assert widths[0] < rep["chronaxie_s"] < widths[-1]
    np.testing.assert_allclose(rep["emulator_amp"], rep["closed_form_amp"], rtol=2e-6)
    assert "spice_amp" not in rep
    pif = compare_strength_duration(P.replace(g_leak_siemens=0.0), [1e-3])
    assert pif["chronaxie_s"] is None and pif["rheobase_amp"] == 0.0
