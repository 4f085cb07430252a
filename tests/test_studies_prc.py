"""The PRC closed form (neurochip.lif.phase_response) against the emulator (neurochip.studies.prc)."""

from __future__ import annotations

import numpy as np
import pytest

from neurochip import lif
from neurochip.errors import InvalidParameterError
from neurochip.lif import LIFParams
from neurochip.studies.prc import compare_prc, measure_phase_response

P = LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-9, e_leak_volt=0.0, v_th_volt=0.5, v_reset_volt=0.1, t_ref_s=1e-3)


@pytest.mark.parametrize("kick", [0.004, -0.004])
def test_emulator_prc_within_2_percent_of_closed_form_at_20_phases(kick):
    current = 1.0e-9
    phases = np.arange(20) / 20
    closed = lif.phase_response(P, current, phases, kick)
    measured = measure_phase_response(P, current, phases, kick)
    diff = np.abs(measured - closed)
    print(f"\nPRC kick {kick} V: max |emulator - closed form| = {diff.max():.3g} of the ISI")
    assert diff.max() < 0.02
    # the emulator is exact between events, so in fact the curves agree to rounding
    assert diff.max() < 1e-9
    # and the curve is not trivially zero: the advance grows towards the spike
    assert abs(closed[-1]) > 0.004 and abs(closed[-1]) > 3 * abs(closed[10])


def test_compare_prc_defaults_and_errors():
    rep = compare_prc(P, n_phases=5)
    assert rep["current_amp"] == pytest.approx(2 * lif.rheobase(P))
    assert rep["kick_volt"] == pytest.approx(0.01 * (P.v_th_volt - P.v_reset_volt))
    np.testing.assert_allclose(rep["phase"], np.arange(5) / 5)
    assert rep["max_abs_difference"] < 1e-9
    with pytest.raises(InvalidParameterError, match="not above rheobase"):
        measure_phase_response(P, 0.5 * lif.rheobase(P), [0.5], 0.01)
    with pytest.raises(InvalidParameterError, match="n_phases = 1"):
        compare_prc(P, n_phases=1)
