"""Monte Carlo mismatch and the Dask fan-out helper."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import require_or_skip

from neurochip import lif
from neurochip.circuit import load_circuit, spice_available
from neurochip.circuit.montecarlo import MonteCarloResult, draw_mismatch, run_montecarlo
from neurochip.errors import ConfigError
from neurochip.parallel import fan_out


def _fail_on_odd(x: int) -> int:
    if x % 2:
        raise ValueError(f"odd item {x}")
    return x * 10


def test_fan_out_serial_records_failures():
    out = fan_out(_fail_on_odd, [0, 1, 2, 3], n_workers=0, progress=False)
    assert [o.index for o in out] == [0, 1, 2, 3]
    assert [o.value for o in out if o.ok] == [0, 20]
    assert [o.ok for o in out] == [True, False, True, False]
    assert "odd item 3" in out[3].error


@pytest.mark.slow
def test_fan_out_local_cluster_keeps_order_and_failures():
    out = fan_out(_fail_on_odd, list(range(6)), n_workers=2, progress=False)
    assert [o.value for o in out] == [0, None, 20, None, 40, None]
    assert all("ValueError: odd item" in o.error for o in out[1::2])


@pytest.mark.slow
def test_fan_out_on_an_existing_scheduler():
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        out = fan_out(_fail_on_odd, [2, 3], scheduler=cluster.scheduler_address, progress=False)
    assert out[0].value == 20
    assert not out[1].ok and "odd item 3" in out[1].error


def test_pelgrom_sigma_of_the_draw():
    t = load_circuit("lif_transistor")
    names, values = draw_mismatch(t, 20000, seed=3)
    a_vt = t.mismatch["a_vt_volt_meter"]
    for name, (w, length) in t.mismatch["devices"].items():
        col = values[:, names.index(name)]
        expected = a_vt / math.sqrt(w * length)
        assert np.std(col) == pytest.approx(expected, rel=0.03)
        assert abs(np.mean(col)) < 4 * expected / math.sqrt(len(col))
    r = values[:, names.index("r_leak")]
    assert np.std(r) / np.mean(r) == pytest.approx(t.mismatch["relative"]["r_leak"], rel=0.03)


def test_draw_is_seeded():
    t = load_circuit("lif_transistor")
    a = draw_mismatch(t, 5, seed=11)[1]
    b = draw_mismatch(t, 5, seed=11)[1]
    c = draw_mismatch(t, 5, seed=12)[1]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_circuit_without_mismatch_declaration():
    with pytest.raises(ConfigError, match="no \\[mismatch\\] table"):
        draw_mismatch(load_circuit("lif_behavioral"), 3, seed=0)


@pytest.mark.spice
@pytest.mark.slow
def test_montecarlo_parallel_matches_serial_and_saves(tmp_path):
    require_or_skip(spice_available(), "ngspice")
    par = run_montecarlo("lif_transistor", 3, seed=5, n_workers=2, progress=False)
    ser = run_montecarlo("lif_transistor", 3, seed=5, n_workers=0, progress=False)
    assert par.n_ok == 3 and not par.failed
    # same seed, same samples, same fits: parallel and serial agree
    assert np.allclose(par.params, ser.params, rtol=1e-9)
    assert np.all(par.std[[3, 5]] > 0)  # v_th and t_ref vary with mismatch
    assert np.all(par.max_isi_rel_error < 0.02)
    path = tmp_path / "mc.npz"
    par.save(path)
    back = MonteCarloResult.load(path)
    assert np.array_equal(back.params, par.params)
    z = np.load(path)
    for key in ("fields", "params", "mean", "std", "corr", "energy_per_spike_joule", "static_power_watt",
                "failed_index", "failed_error", "mismatch_names", "mismatch_values", "seed", "circuit"):
        assert key in z.files
    neurons = back.draw(10, np.random.default_rng(0))
    assert all(isinstance(p, lif.LIFParams) for p in neurons)


@pytest.mark.spice
def test_montecarlo_failed_sample_is_reported(tmp_path):
    require_or_skip(spice_available(), "ngspice")
    # a netlist whose second sample gets a negative leak resistance: ngspice cannot run it
    base = load_circuit("lif_behavioral")
    cir = tmp_path / "mc_beh.cir"
    cir.write_text(base.text)
    toml = (tmp_path / "mc_beh.toml")
    src = (base.directory / "lif_behavioral.toml").read_text()
    toml.write_text(src.replace("[fit]", "[mismatch.relative]\nr_leak = 3.0\n\n[fit]"))
    res = run_montecarlo(str(cir), 4, seed=2, n_workers=0, progress=False)
    r = res.mismatch_values[:, res.mismatch_names.index("r_leak")]
    assert res.n_ok + len(res.failed) == 4
    assert sorted(i for i, _ in res.failed) == [i for i in range(4) if r[i] <= 0]
    assert len(res.failed) >= 1
    assert all(msg for _, msg in res.failed)


@pytest.mark.spice
def test_cli_montecarlo_writes_npz(tmp_path, capsys):
    require_or_skip(spice_available(), "ngspice")
    from neurochip.cli import main

    out = tmp_path / "mc.npz"
    rc = main(["circuit", "montecarlo", "lif_transistor", "-n", "2", "--workers", "0", "--seed", "4",
               "-o", str(out), "--json"])
    assert rc == 0
    import json

    summary = json.loads(capsys.readouterr().out)
    assert summary["n_ok"] + summary["n_failed"] == 2
    z = np.load(out)
    assert z["params"].shape == (summary["n_ok"], len(z["fields"]))
    assert int(z["seed"]) == 4
