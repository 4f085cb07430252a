"""The circuit stage against the real ngspice: simulation, spikes, energy, LIF fit, errors.

References are closed forms: the behavioural netlist's LIF parameters are known by construction,
its energy per spike is c_out vdd^2 and its static power vdd i_bias; ISIs are compared with
:func:`neurochip.lif.isi`.
"""

from __future__ import annotations

import io
import json
import math
from contextlib import redirect_stdout

import numpy as np
import pytest
from conftest import require_or_skip

from neurochip import lif
from neurochip.circuit import (
    FitOptions,
    Stimulus,
    detect_spikes,
    fit_lif,
    load_circuit,
    measure_isi,
    simulate,
    spice_available,
)
from neurochip.errors import InvalidParameterError, SimulationError

pytestmark = pytest.mark.spice


@pytest.fixture(scope="module", autouse=True)
def _ngspice():
    require_or_skip(spice_available(), "ngspice")


def _construction() -> lif.LIFParams:
    d = load_circuit("lif_behavioral").defaults
    return lif.LIFParams(
        c_m_farad=d["c_m"], g_leak_siemens=1 / d["r_leak"], e_leak_volt=d["e_leak"],
        v_th_volt=d["v_th"], v_reset_volt=d["v_reset"], t_ref_s=d["t_ref"],
    )


@pytest.fixture(scope="module")
def fit_behavioral():
    require_or_skip(spice_available(), "ngspice")
    return fit_lif("lif_behavioral")


@pytest.fixture(scope="module")
def fit_transistor():
    require_or_skip(spice_available(), "ngspice")
    return fit_lif("lif_transistor")


def test_behavioral_fit_recovers_construction(fit_behavioral):
    p, ref = fit_behavioral.params, _construction()
    swing = ref.v_th_volt - ref.v_reset_volt
    assert p.c_m_farad == pytest.approx(ref.c_m_farad, rel=0.01)
    assert p.r_leak_ohm == pytest.approx(ref.r_leak_ohm, rel=0.01)
    assert p.e_leak_volt == pytest.approx(ref.e_leak_volt, rel=0.01)
    # voltages that may be 0 by construction: within 1 % of the threshold-reset swing
    assert abs(p.v_th_volt - ref.v_th_volt) < 0.01 * swing
    assert abs(p.v_reset_volt - ref.v_reset_volt) < 0.01 * swing
    assert p.t_ref_s == pytest.approx(ref.t_ref_s, rel=0.05)


def test_behavioral_isi_within_1pct_from_1p2_to_20_rheobase(fit_behavioral):
    res = fit_behavioral
    assert res.sweep_current_amp[0] == pytest.approx(1.2 * res.rheobase_spice_amp)
    assert res.sweep_current_amp[-1] == pytest.approx(20 * res.rheobase_spice_amp)
    assert res.max_isi_rel_error < 0.01
    # the SPICE ISIs against the closed form of the construction values (independent of the fit)
    ref = np.asarray(lif.isi(_construction(), res.sweep_current_amp))
    assert np.max(np.abs(res.isi_spice_s / ref - 1)) < 0.01
    assert res.rheobase_spice_amp == pytest.approx(lif.rheobase(_construction()), rel=0.01)


def test_behavioral_energy_and_static_power(fit_behavioral):
    d = load_circuit("lif_behavioral").defaults
    assert fit_behavioral.static_power_watt == pytest.approx(d["vdd"] * d["i_bias"], rel=0.01)
    # the output driver charges c_out to vdd once per spike
    assert fit_behavioral.energy_per_spike_joule == pytest.approx(d["c_out"] * d["vdd"] ** 2, rel=0.03)


def test_behavioral_rate_saturates_at_one_over_t_ref(fit_behavioral):
    frac = fit_behavioral.saturation_fraction
    assert 0.9 < frac <= 1.0


def test_transistor_fit_within_2pct(fit_transistor):
    res = fit_transistor
    assert res.max_isi_rel_error < 0.02
    assert len(res.sweep_current_amp) >= 6
    # the fitted passives are those of the netlist (the leak is a resistor; C adds gate and c_fb)
    d = load_circuit("lif_transistor").defaults
    assert res.params.r_leak_ohm == pytest.approx(d["r_leak"], rel=0.02)
    assert d["c_m"] < res.params.c_m_farad < d["c_m"] + 4 * d["c_fb"] + 30e-15


def test_transistor_energy_and_static_power_reported(fit_transistor):
    d = load_circuit("lif_transistor").defaults
    # at rest: the tail mirror carries i_tail twice (diode and tail), the refractory mirror i_refr
    expected = d["vdd"] * (2 * d["i_tail"] + d["i_refr"])
    assert fit_transistor.static_power_watt == pytest.approx(expected, rel=0.05)
    assert 0 < fit_transistor.energy_per_spike_joule < 1e-9
    assert np.all(fit_transistor.energy_per_isi_joule > 0)


def test_transistor_rate_approaches_one_over_t_ref(fit_transistor):
    assert fit_transistor.saturation_fraction > 0.9
    # at 100x rheobase, outside the fitted sweep, the LIF still predicts the ISI within 2 %
    assert fit_transistor.saturation_isi_rel_error < 0.02
    assert fit_transistor.saturation_fraction <= 1.0 + fit_transistor.max_isi_rel_error


@pytest.mark.parametrize("name", ["lif_behavioral", "lif_transistor"])
def test_cli_simulate_at_new_current_matches_fitted_lif(name, fit_behavioral, fit_transistor):
    from neurochip.cli import main

    res = fit_behavioral if name == "lif_behavioral" else fit_transistor
    current = 3.7 * res.rheobase_spice_amp  # not a sweep point
    expected = float(lif.isi(res.params, current))
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(["circuit", "simulate", name, "--current", f"{current:.6e}",
                   "--duration", f"{8 * expected:.6e}", "--json"])
    assert rc == 0
    spikes = np.asarray(json.loads(buf.getvalue())["spike_times_s"])
    isis = np.diff(spikes)[1:]  # the first spike comes from rest
    assert len(isis) >= 4
    # the mean ISI within the fit's reported error (+ 1e-4 for spike-time interpolation);
    # single ISIs jitter by a few 1e-5 with the time grid, so they get 5e-4
    assert abs(np.mean(isis) / expected - 1) < res.max_isi_rel_error + 1e-4
    assert np.max(np.abs(isis / expected - 1)) < res.max_isi_rel_error + 5e-4


def test_cli_fit_json_and_outputs(tmp_path):
    from neurochip.cli import main

    buf = io.StringIO()
    out = tmp_path / "p.toml"
    png = tmp_path / "fi.png"
    with redirect_stdout(buf):
        rc = main(["circuit", "fit", "lif_behavioral", "--points", "4", "--json", "-o", str(out),
                   "--plot", str(png)])
    assert rc == 0
    data = json.loads(buf.getvalue())
    for key in ("params", "max_isi_rel_error", "energy_per_spike_joule", "static_power_watt"):
        assert key in data
    assert lif.LIFParams.from_toml(out) == lif.LIFParams.from_dict(data["params"])
    assert png.stat().st_size > 1000


def test_detect_spikes_needs_reset():
    t = np.linspace(0, 1, 101)
    v = np.where(t < 0.5, t, 0.5)  # a rise that never resets
    assert len(detect_spikes(t, v)) == 0
    t = np.arange(100) * 0.01  # 0 .. 0.99
    saw = (t * 4) % 1.0  # crossings of 0.75 at 0.1875 + k/4, k = 0..3; the last one never resets
    sp = detect_spikes(t, saw, high_volt=0.75, low_volt=0.25)
    assert np.allclose(sp, 0.1875 + 0.25 * np.arange(3), atol=1e-9)


def test_step_and_pulse_stimuli():
    # subthreshold step into the behavioural neuron: V(t) = E_L + R I (1 - exp(-(t - t0)/tau))
    ref = _construction()
    i = 2e-9
    tr = simulate("lif_behavioral", Stimulus.step(i, 100e-6), 600e-6)
    for dt in (50e-6, 100e-6, 300e-6):
        v = np.interp(100e-6 + dt, tr.time_s, tr.v_mem_volt)
        expected = ref.e_leak_volt + i * ref.r_leak_ohm * (1 - math.exp(-dt / ref.tau_m_s))
        assert v == pytest.approx(expected, abs=2e-3)
    tr = simulate("lif_behavioral", Stimulus(kind="pulse", amplitude_amp=2e-9, delay_s=0, width_s=50e-6,
                                            period_s=200e-6), 400e-6)
    assert tr.v_mem_volt.max() < ref.v_th_volt


def test_bad_netlist_raises_with_ngspice_message(tmp_path):
    cir = tmp_path / "bad.cir"
    cir.write_text("* bad\nVDD vdd 0 DC 1.8\nVIN in vm DC 0\nC1 vm 0 1p\nM1 vm vm 0 0 nosuchmodel W=1u L=1u\n")
    with pytest.raises(SimulationError, match="nosuchmodel") as info:
        simulate(str(cir), 1e-9, 1e-4)
    assert info.value.line == "M1 vm vm 0 0 nosuchmodel W=1u L=1u"
    assert "can't find model" in info.value.simulator_message
    # ngspice keeps working afterwards, and does not silently run the previous circuit
    tr = simulate("lif_behavioral", 0.0, 1e-4)
    assert tr.v_mem_volt[-1] == pytest.approx(0.1, abs=1e-4)


def test_unrecoverable_ngspice_error_does_not_kill_python(tmp_path):
    # a malformed {expression} puts ngspice's library into a state it "cannot recover" from
    cir = tmp_path / "expr.cir"
    cir.write_text("* expr\nVDD vdd 0 DC 1.8\nVIN in vm DC 0\nC1 vm 0 {1p*}\nR1 vm 0 1g\n")
    with pytest.raises(SimulationError, match="Expression err") as info:
        simulate(str(cir), 1e-9, 1e-4)
    assert info.value.line == "C1 vm 0 {1p*}"
    tr = simulate("lif_behavioral", 0.0, 1e-4)  # a fresh ngspice takes over
    assert tr.v_mem_volt[-1] == pytest.approx(0.1, abs=1e-4)


def test_non_converging_run_raises(tmp_path):
    cir = tmp_path / "runaway.cir"
    cir.write_text("* runaway\nVDD vdd 0 DC 1.8\nVIN in vm DC 0\nC1 vm 0 1p\n"
                   "B1 0 vm I={1e-9*exp(v(vm)*40)}\nR1 vm 0 1g\n")
    with pytest.raises(SimulationError, match="(?i)timestep too small"):
        simulate(str(cir), 1e-9, 1e-3)


def test_missing_parameter_and_bad_duration():
    with pytest.raises(InvalidParameterError, match="unknown parameter 'v_thresh'"):
        simulate("lif_behavioral", 1e-9, 1e-4, params={"v_thresh": 0.5})
    with pytest.raises(InvalidParameterError, match="duration_s"):
        simulate("lif_behavioral", 1e-9, -1.0)


def test_neuron_that_never_spikes(tmp_path):
    cir = tmp_path / "rc.cir"
    cir.write_text("* rc only\nVDD vdd 0 DC 1.8\nVIN in vm DC 0\nC1 vm 0 1p\nR1 vm 0 100meg\n")
    with pytest.raises(SimulationError, match="never spikes"):
        fit_lif(str(cir), options=FitOptions(n_sweep=3, rheobase_steps=1))
    with pytest.raises(SimulationError, match="does not fire"):
        measure_isi(lambda s, d: simulate(str(cir), s, d), 1e-8, 1e-4, max_tries=1)


def test_cli_error_is_one_line(tmp_path, capsys):
    from neurochip.cli import main

    cir = tmp_path / "bad.cir"
    cir.write_text("* bad\nVDD vdd 0 DC 1.8\nVIN in vm DC 0\nM1 vm vm 0 0 nomodel\n")
    assert main(["circuit", "simulate", str(cir), "--current", "1nA", "--duration", "1ms"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: bad: ngspice could not load the netlist")
