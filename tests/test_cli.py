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
