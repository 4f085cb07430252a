"""``neurochip lif prc | channel-noise | strength-duration | resonance | convert``, in-process."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import require_or_skip

from neurochip import lif
from neurochip.cli import main

NOISY = ["--c-m", "1pF", "--g-leak", "0.1nS", "--e-leak", "0", "--v-th", "20mV", "--v-reset", "10mV", "--t-ref", "2ms"]


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_prc_json_and_plot(capsys, tmp_path):
    png = tmp_path / "prc.png"
    code, out, _ = run_cli(capsys, "lif", "prc", "--v-reset", "0.1", "--phases", "20", "--json", "--plot", str(png))
    assert code == 0 and png.stat().st_size > 1000
    rep = json.loads(out)
    p = lif.LIFParams(v_reset_volt=0.1)
    expected = lif.phase_response(p, 2 * lif.rheobase(p), np.arange(20) / 20, 0.01 * 0.4)
    np.testing.assert_allclose(rep["prc_closed_form"], expected, rtol=1e-12)
    assert rep["max_abs_difference"] < 0.02


def test_prc_table_and_subthreshold_error(capsys):
    code, out, _ = run_cli(capsys, "lif", "prc", "--phases", "5")
    assert code == 0 and "closed form" in out and "max |closed form - emulator|" in out
    code, _, err = run_cli(capsys, "lif", "prc", "--current", "0.1nA")
    assert code == 1 and "--current = '0.1nA': must be above the rheobase 500 pA" in err


def test_channel_noise_json(capsys):
    code, out, _ = run_cli(capsys, "lif", "channel-noise", *NOISY, "--channel-tau", "1ms", "--channels", "10,100",
                           "--spikes", "800", "--json")  # fmt: skip
    assert code == 0
    rep = json.loads(out)
    p = lif.LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-10, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=2e-3)
    s = lif.channel_noise_sigma(p, n_channels=10, open_probability=0.5, channel_tau_s=1e-3, driving_force_volt=0.015)
    assert rep["sigma_volt"][0] == pytest.approx(s, rel=1e-12)
    assert np.allclose(rep["emulator_cv"], rep["siegert_cv"], rtol=0.15)


def test_channel_noise_bad_channels(capsys):
    code, _, err = run_cli(capsys, "lif", "channel-noise", "--channels", "ten")
    assert code == 1 and "--channels" in err


def test_strength_duration_table(capsys, tmp_path):
    png = tmp_path / "sd.png"
    code, out, _ = run_cli(capsys, "lif", "strength-duration", "--widths", "0.1ms,1ms", "--plot", str(png))
    assert code == 0 and png.exists()
    assert "rheobase" in out and "chronaxie" in out and "693.1 µs" in out  # tau_m ln 2 = 0.6931 ms


@pytest.mark.spice
def test_strength_duration_spice_json(capsys):
    from neurochip.circuit import spice_available

    require_or_skip(spice_available(), "ngspice")
    code, out, _ = run_cli(capsys, "lif", "strength-duration", "--spice", "--widths", "50us", "--json")
    assert code == 0
    rep = json.loads(out)
    assert rep["circuit"] == "lif_behavioral"
    assert rep["spice_amp"][0] == pytest.approx(rep["closed_form_amp"][0], rel=0.02)


def test_resonance_json(capsys):
    code, out, _ = run_cli(capsys, "lif", "resonance", *NOISY, "--sigmas", "0.5mV,2mV,8mV", "--frequency", "10Hz",
                           "--duration", "5s", "--trials", "5", "--json")  # fmt: skip
    assert code == 0
    rep = json.loads(out)
    assert len(rep["snr"]) == 3 and rep["best_sigma_volt"] == pytest.approx(2e-3)


def test_resonance_bad_drive(capsys):
    code, _, err = run_cli(capsys, "lif", "resonance", "--bias-fraction", "0.95")
    assert code == 1 and "below rheobase" in err


def test_convert_prints_both_errors_and_writes_nir(capsys, tmp_path):
    import nir  # noqa: F401 - a dependency of neurochip: its absence is a failure, not a skip
    path = tmp_path / "net.nir"
    code, out, err = run_cli(capsys, "lif", "convert", "--c-m", "1pF", "--g-leak", "50pS", "--v-th", "20mV",
                             "--v-reset", "0", "--samples", "6", "--duration", "1", "--nir", str(path))  # fmt: skip
    print(out)
    assert code == 0 and "PIF-style" in out and "LIF-aware" in out and path.exists()


def test_plain_lif_report_still_works(capsys):
    code, out, _ = run_cli(capsys, "lif", "--current", "1nA", "--json")
    assert code == 0 and json.loads(out)["isi_s"] == pytest.approx(lif.isi(lif.LIFParams(), 1e-9))


def test_neuron_flags_before_the_subcommand_are_kept(capsys):
    import json

    from neurochip.cli import main

    assert main(["lif", "--c-m", "2pF", "--json", "prc", "--phases", "4"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["params"]["c_m_farad"] == 2e-12
