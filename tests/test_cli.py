"""The CLI, in-process: the lif report, its JSON, its plot and its errors."""

from __future__ import annotations

import json
import math

import pytest

from neurochip.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_lif_current_json_matches_the_closed_form(capsys):
    code, out, _ = run_cli(
        capsys, "lif", "--c-m", "2pF", "--r-leak", "500MOhm", "--e-leak", "0.1", "--v-th", "0.6",
        "--v-reset", "0.05", "--t-ref", "3ms", "--current", "1.7nA", "--json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    r, c, e_l, v_th, v_reset, t_ref, i = 500e6, 2e-12, 0.1, 0.6, 0.05, 3e-3, 1.7e-9
    expected = t_ref + r * c * math.log((r * i + e_l - v_reset) / (r * i + e_l - v_th))
    assert data["isi_s"] == pytest.approx(expected, rel=1e-9)
    assert data["rate_hz"] == pytest.approx(1 / expected, rel=1e-9)
    assert data["tau_m_s"] == pytest.approx(r * c, rel=1e-12)
    assert data["rheobase_amp"] == pytest.approx((v_th - e_l) / r, rel=1e-12)
    assert data["max_rate_hz"] == pytest.approx(1 / t_ref, rel=1e-12)


def test_lif_table_output_and_plot(capsys, tmp_path):
    png = tmp_path / "fi.png"
    code, out, _ = run_cli(capsys, "lif", "--plot", str(png), "--points", "5")
    assert code == 0
    assert "rheobase" in out and "f-I curve" in out
    assert png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_lif_reads_toml(capsys, tmp_path):
    cfg = tmp_path / "n.toml"
    cfg.write_text('[lif]\nc_m_farad = "1pF"\ng_leak_siemens = "2nS"\nv_th_volt = 0.4\n')
    code, out, _ = run_cli(capsys, "lif", "--config", str(cfg), "--json")
    assert code == 0
    assert json.loads(out)["tau_m_s"] == pytest.approx(0.5e-3)


@pytest.mark.parametrize(
    "argv,status,match",
    [
        (["lif", "--bogus"], 2, "unrecognized arguments: --bogus"),
        (["lif", "--c-m", "0"], 1, "--c-m = '0': must be a finite positive quantity"),
        (["lif", "--c-m", "-1pF"], 1, "--c-m = '-1pF': must be a finite positive quantity"),
        (["lif", "--current", "3 mV"], 1, "--current = '3 mV': unit 'V' given"),
        (["lif", "--v-reset", "0.9"], 1, "--v-reset = 0.9: must be < --v-th"),
        (["lif", "--points", "0"], 2, "argument --points: 0: must be an integer in 2..10000"),
        (["lif", "--sigma", "1mV"], 1, "--sigma needs --current"),
    ],
)
def test_lif_errors_are_one_line(capsys, argv, status, match):
    with pytest.raises(SystemExit) if status == 2 else _no_raise() as exc:
        code = main(argv)
    if status == 2:
        code = exc.value.code
    _, err = capsys.readouterr()
    assert code == status
    assert err.startswith("error:")
    assert len(err.strip().splitlines()) == 1
    assert match in err


def test_malformed_toml_names_the_file(capsys, tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[lif\n")
    code, _, err = run_cli(capsys, "lif", "--config", str(cfg))
    assert code == 1
    assert "bad.toml: malformed TOML" in err
    code, _, err = run_cli(capsys, "lif", "--config", str(tmp_path / "missing.toml"))
    assert code == 1 and "missing.toml: file not found" in err


class _no_raise:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _call(capsys, *argv):
    """Exit status, stdout and stderr of one CLI call, usage errors (SystemExit) included."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


# the examples of issue #17, each refused before any work with the flag as typed
@pytest.mark.parametrize(
    "argv,status,match",
    [
        (["circuit", "fit", "dpi_synapse", "--set", "v_tau=5V"], 1,
         "--set v_tau=5V: outside the supply range 0 V .. 1.8 V (vdd) of dpi_synapse"),
        (["circuit", "simulate", "lif_behavioral", "--current", "1nA", "--duration", "1ms", "--set", "c_m=-1pF"], 1,
         "--set c_m = '-1pF': must be a finite positive quantity"),
        (["lif", "convert", "--duration", "100ms"], 1, "--duration = '100ms': must be longer than the fixed warm-up of 100 ms"),
        (["lif", "convert", "--samples", "0"], 2, "argument --samples: 0: must be an integer in 1..10000"),
        (["lif", "resonance", "--trials", "0"], 2, "argument --trials: 0: must be an integer in 1..10000"),
        (["circuit", "fit", "lif_behavioral", "--points", "0"], 2, "argument --points: 0: must be an integer in 3..100"),
        (["lif", "strength-duration", "--spice", "--c-m", "5pF"], 1, "--c-m: not used with --spice"),
        (["lif", "--current", "-1nA", "--sigma", "nan"], 1, "--sigma = 'nan': not a quantity"),
    ],
)
def test_issue_examples_are_refused_naming_the_flag(capsys, argv, status, match):
    code, _, err = _call(capsys, *argv)
    assert code == status
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1
    assert match in err


def test_map_takes_rates_per_population_and_refuses_them_above_1_over_t_ref(tmp_path, capsys):
    from neurochip.chip import load_chip
    from neurochip.examples import ei_network
    from neurochip.lif import LIFParams
    from neurochip.network.files import save_network

    net, _ = ei_network(LIFParams(t_ref_s=2e-3))
    save_network(net, tmp_path / "net.npz")
    code, out, err = _call(capsys, "map", tmp_path / "net.npz", "--rates", "E=5,I=12", "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["rates_given"] and rep["chip"] == load_chip("generic").name
    code, _, err = _call(capsys, "map", tmp_path / "net.npz", "--rates", "1MHz")
    assert code == 1 and "--rates = 1 MHz: above the ceiling 1/t_ref = 500 Hz of population 'E'" in err
    code, _, err = _call(capsys, "report", "throughput", tmp_path / "net.npz", "--powered", "used")
    assert code == 1 and "--powered used: applies to `report energy` only" in err


def test_a_chip_of_100000_cores_is_refused_at_once(tmp_path, capsys):
    import importlib.resources
    import re
    import time

    generic = (importlib.resources.files("neurochip.chips") / "generic.toml").read_text()
    (tmp_path / "wide.toml").write_text(re.sub(r"(?m)^width = \d+", "width = 100000", generic))
    t0 = time.perf_counter()
    code, _, err = _call(capsys, "chip", "show", tmp_path / "wide.toml")
    assert time.perf_counter() - t0 < 5
    assert code == 1 and "wide.toml: mesh.width = 100000: with height = 4: 400,000 cores, more than the 8,192" in err
