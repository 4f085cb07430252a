"""Design-space sweeps: spec files, serial and Dask runs, resuming, the fit cache, plots, the CLI."""

from __future__ import annotations

import csv
import doctest
import importlib
import itertools
import math
import subprocess
import sys

import numpy as np
import pytest
from conftest import require_or_skip

from neurochip.circuit import spice_available
from neurochip.cli import main
from neurochip.errors import ConfigError
from neurochip.parallel import fan_out
from neurochip.sweep import load_sweep, pareto_front, plot_xy, read_table, run_sweep

SPEC = """
[sweep]
name = "small"

[fixed]
"network.n_exc" = 40
"network.n_inh" = 10
"network.k_exc" = 8
"network.k_inh" = 2
"core.neurons" = 16
"run.duration_s" = "20 ms"

[grid]
"stimulus.rate_hz" = {{ from = 1e4, to = 4e4, num = 3, scale = "log" }}
"router.link_bandwidth_hz" = [1e4, 1e8]

[zip]
"mesh.width" = [{w}, 4]
"mesh.height" = [1, 4]
"""


def _write(tmp_path, text, name="spec.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _strip_wall(rows):
    return [{k: v for k, v in r.items() if "wall" not in k} for r in rows]


def test_grid_zip_and_range_expand_to_their_product(tmp_path):
    spec = load_sweep(_write(tmp_path, SPEC.format(w=4)))
    points = spec.points()
    assert len(points) == 3 * 2 * 2
    rates = sorted({p["stimulus.rate_hz"] for p in points})
    assert rates == pytest.approx([1e4, 2e4, 4e4])  # geometric: 1e4 * 2**k
    assert {(p["mesh.width"], p["mesh.height"]) for p in points} == {(4, 1), (4, 4)}
    assert all(p["run.duration_s"] == pytest.approx(0.02) for p in points)  # "20 ms" parsed
    assert spec.input_names[:6] == ["network.n_exc", "network.n_inh", "network.k_exc", "network.k_inh",
                                    "core.neurons", "run.duration_s"]


def test_random_sample_is_seeded_and_inside_its_ranges(tmp_path):
    text = """
[sweep]
samples = 50
seed = 3
[random]
"stimulus.rate_hz" = { low = 1e3, high = 1e5, scale = "log" }
"core.neurons" = [16, 64]
"""
    a = load_sweep(_write(tmp_path, text)).points()
    b = load_sweep(_write(tmp_path, text)).points()
    assert a == b and len(a) == 50
    r = np.array([p["stimulus.rate_hz"] for p in a])
    assert r.min() >= 1e3 and r.max() <= 1e5
    assert {p["core.neurons"] for p in a} == {16, 64}
    c = load_sweep(_write(tmp_path, text.replace("seed = 3", "seed = 4"))).points()
    assert c != a


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[grid]\n"network.n_excitatory" = [1, 2]\n', r"spec.toml: grid.network.n_excitatory: unknown parameter"),
        ('[zip]\n"mesh.width" = [1, 2]\n"mesh.height" = [1]\n', r"spec.toml: zip.mesh.height: 1 values"),
        ('[grid]\n"core.neurons" = []\n', r"spec.toml: grid.core.neurons: empty list"),
        ('[sweep]\nsample = 3\n', r"spec.toml: sweep.sample: unknown key"),
        ('[fixed]\n"core.neurons" = 4\n[grid]\n"core.neurons" = [4, 8]\n', r"grid.core.neurons: also given in \[fixed\]"),
        ('[grid]\n"core.neurons" = [4]\n[random]\n"stimulus.rate_hz" = [1, 2]\n', r"random: a sweep is either a grid"),
        ('[grid]\n"stimulus.rate_hz" = { from = 0, to = 10, num = 3, scale = "log" }\n', r"log range needs"),
        ('[grids]\n', r"unknown table 'grids'"),
        ('[sweep]\nname = "x"\n', r"spec.toml: nothing to sweep: no \[grid\], \[zip\] or \[random\] table"),
        ('[sweep]\nname = "x"\n[fixed]\n"core.neurons" = 4\n', r"spec.toml: nothing to sweep"),
        ('[grid]\n"router.link_bandwidth_hz" = ["fast"]\n', r"grid.router.link_bandwidth_hz"),
    ],
)
def test_a_bad_spec_names_the_file_and_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_sweep(_write(tmp_path, text))


def test_fan_out_streams_each_outcome():
    seen = []
    out = fan_out(abs, [-1, 2, -3], n_workers=0, progress=False, on_result=seen.append)
    assert [o.index for o in seen] == [0, 1, 2] and [o.value for o in out] == [1, 2, 3]


def test_parallel_and_sweep_import_without_dask_rich_or_matplotlib():
    code = ("import sys, neurochip.parallel, neurochip.sweep\n"
            "print(sorted({'dask', 'distributed', 'rich', 'matplotlib'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert (out.returncode, out.stdout.strip()) == (0, "[]"), out.stderr


@pytest.mark.parametrize("module", ["neurochip.parallel", "neurochip.sweep.spec", "neurochip.sweep.table",
                                    "neurochip.sweep.plots"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.slow
def test_two_dask_workers_give_the_serial_table_and_a_failed_point_is_recorded(tmp_path):
    # width 1 x height 1 with 16-neuron cores cannot hold 50 neurons: those points fail
    spec = load_sweep(_write(tmp_path, SPEC.format(w=1)))
    serial = run_sweep(spec, tmp_path / "serial.csv", n_workers=0, progress=False, cache_dir=tmp_path / "cache")
    dask = run_sweep(spec, tmp_path / "dask.csv", n_workers=2, progress=False, cache_dir=tmp_path / "cache")
    assert serial.ran == dask.ran == 12
    assert [k for k, _ in serial.failed] == [k for k, _ in dask.failed] == [k for k in range(12) if k % 2 == 0]
    a, b = read_table(tmp_path / "serial.csv"), read_table(tmp_path / "dask.csv")
    assert list(a[0]) == list(b[0])
    assert _strip_wall(a) == _strip_wall(b)
    assert all("MappingError" in r["error"] for r in a if r["status"] == "error")
    ok = [r for r in a if r["status"] == "ok"]
    assert len(ok) == 6 and all(r["energy_total_joule"] > 0 for r in ok)


def test_an_interrupted_sweep_resumes_where_it_stopped(tmp_path):
    spec = load_sweep(_write(tmp_path, SPEC.format(w=4)))
    out = tmp_path / "r.csv"
    first = run_sweep(spec, out, n_workers=0, progress=False)
    full = read_table(out)
    # cut the table after 5 rows, as an interrupted run leaves it
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:6]) + lines[6][:25])  # and half of the 6th row, as a kill mid-write leaves it
    again = run_sweep(spec, out, n_workers=0, progress=False)
    assert (first.ran, again.skipped, again.ran) == (12, 5, 7)
    assert _strip_wall(read_table(out)) == _strip_wall(full)
    # nothing left to do
    assert run_sweep(spec, out, n_workers=0, progress=False).ran == 0
    # a table of another sweep is refused
    other = load_sweep(_write(tmp_path, '[grid]\n"core.neurons" = [16]\n', "other.toml"))
    with pytest.raises(ConfigError, match="other columns"):
        run_sweep(other, out, n_workers=0, progress=False)


def test_output_format_errors(tmp_path):
    spec = load_sweep(_write(tmp_path, SPEC.format(w=4)))
    with pytest.raises(ConfigError, match="use .csv or .parquet"):
        run_sweep(spec, tmp_path / "r.xlsx", n_workers=0, progress=False)
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="r.parquet: writing Parquet needs pyarrow"):
            run_sweep(spec, tmp_path / "r.parquet", n_workers=0, progress=False)
    else:
        run_sweep(spec, tmp_path / "r.parquet", n_workers=0, progress=False)
        run_sweep(spec, tmp_path / "r.csv", n_workers=0, progress=False)
        assert _strip_wall(read_table(tmp_path / "r.parquet")) == _strip_wall(read_table(tmp_path / "r.csv"))


@pytest.mark.spice
def test_a_chip_sweep_fits_the_circuit_once(tmp_path):
    require_or_skip(spice_available(), "ngspice")
    text = """
[fixed]
circuit = "lif_behavioral"
"fit.n_sweep" = 4
"fit.saturation_multiple" = 0
"network.n_exc" = 40
"network.n_inh" = 10
"network.k_exc" = 8
"network.k_inh" = 2
"core.neurons" = 16
"run.duration_s" = "5 ms"
"run.route" = false
[grid]
"router.link_bandwidth_hz" = [1e5, 1e6, 1e7]
"""
    spec = load_sweep(_write(tmp_path, text))
    s = run_sweep(spec, tmp_path / "a.csv", n_workers=0, progress=False, cache_dir=tmp_path / "cache")
    assert s.fits == 1 and not s.failed
    assert len(list((tmp_path / "cache").glob("fit-*.json"))) == 1
    rows = read_table(tmp_path / "a.csv")
    assert len({r["neuron_t_ref_s"] for r in rows}) == 1 and len({r["spikes"] for r in rows}) == 1
    # another output, same cache: no fit at all
    assert run_sweep(spec, tmp_path / "b.csv", n_workers=0, progress=False, cache_dir=tmp_path / "cache").fits == 0


def test_pareto_front_against_brute_force(rng):
    x, y = rng.random(60), rng.random(60)
    front = set(pareto_front(x, y))
    for i in range(60):
        dominated = any(x[j] <= x[i] and y[j] <= y[i] and (x[j] < x[i] or y[j] < y[i]) for j in range(60))
        assert (i in front) == (not dominated)
    # maximising y is minimising -y
    assert pareto_front(x, y, maximize_y=True) == pareto_front(x, -y)
    # the front is a staircase: sorted by x, y falls
    f = pareto_front(x, y)
    assert all(y[a] > y[b] for a, b in itertools.pairwise(f))


def test_a_plot_to_an_unwritable_path_names_it_and_leaves_no_figure_open(tmp_path):
    from neurochip._display import pyplot

    rows = [{"point_index": k, "point_id": str(k), "core.neurons": n, "status": "ok", "rate_mean_hz": 10.0 * k}
            for k, n in enumerate((16, 32))]
    before = pyplot().get_fignums()
    with pytest.raises(ConfigError, match=r"missing/p\.png: cannot write plot"):
        plot_xy(rows, "core.neurons", "rate_mean_hz", tmp_path / "missing" / "p.png")
    assert pyplot().get_fignums() == before
    plot_xy(rows, "core.neurons", "rate_mean_hz", tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pyplot().get_fignums() == before


def test_cli_runs_a_sweep_and_plots_it(tmp_path, capsys):
    spec = _write(tmp_path, SPEC.format(w=4))
    table = tmp_path / "r.csv"
    assert main(["sweep", str(spec), "-o", str(table), "--workers", "0", "--no-progress"]) == 0
    assert "12 points, 0 already" in capsys.readouterr().out
    with table.open() as fh:
        assert len(list(csv.DictReader(fh))) == 12
    for extra in (["--x", "input_rate_hz", "--y", "rate_mean_hz", "--color", "router.link_bandwidth_hz"],
                  ["--kind", "energy"], ["--kind", "rate"], ["--kind", "links", "--color", "router.link_bandwidth_hz"],
                  ["--kind", "pareto", "--x", "energy_total_joule", "--y", "latency_mean_s"]):
        png = tmp_path / "p.png"
        assert main(["sweep", "plot", str(table), "-o", str(png), *extra]) == 0
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        png.unlink()
    assert main(["sweep", "plot", str(table), "--x", "nope", "--y", "rate_mean_hz", "-o", str(tmp_path / "q.png")]) == 1
    assert "no column 'nope'" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "missing.toml"), "-o", str(table)]) == 1
    assert "missing.toml: file not found" in capsys.readouterr().err


def test_energy_per_event_falls_and_links_saturate_with_input(tmp_path):
    spec = load_sweep(_write(tmp_path, SPEC.format(w=4)))
    run_sweep(spec, tmp_path / "r.csv", n_workers=0, progress=False)
    rows = [r for r in read_table(tmp_path / "r.csv") if r["mesh.width"] == 4 and r["mesh.height"] == 4]
    low_bw = sorted((r for r in rows if r["router.link_bandwidth_hz"] == 1e4), key=lambda r: r["input_rate_hz"])
    e = [r["energy_per_synaptic_event_joule"] for r in low_bw]
    u = [r["link_utilisation_max"] for r in low_bw]
    assert all(a > b for a, b in itertools.pairwise(e)) and all(a < b for a, b in itertools.pairwise(u))
    # packets are timed through the routers: a link cannot be busier than always; at the
    # highest input it is (nearly) always busy and packets queue
    assert 0.9 < u[-1] <= 1.0
    lat = [r["latency_mean_s"] for r in low_bw]
    assert lat[-1] > 10 * lat[0]
    assert all(math.isfinite(v) for v in e)


@pytest.mark.slow
def test_a_killed_sweep_resumes_and_ends_with_the_full_table(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    text = SPEC.format(w=4).replace('num = 3', 'num = 6')  # 24 points
    spec_path = _write(tmp_path, text)
    out = tmp_path / "r.csv"
    cmd = [sys.executable, "-m", "neurochip", "sweep", str(spec_path), "-o", str(out), "--workers", "0", "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not out.exists() or out.read_text().count("\n") < 4):
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    rows_before = len(read_table(out))
    assert 3 <= rows_before < 24
    assert main(["sweep", str(spec_path), "-o", str(out), "--workers", "0", "--no-progress", "--json"]) == 0
    rows = read_table(out)
    assert [r["point_index"] for r in rows] == list(range(24))
    clean = tmp_path / "clean.csv"
    run_sweep(load_sweep(spec_path), clean, n_workers=0, progress=False)
    assert _strip_wall(rows) == _strip_wall(read_table(clean))


@pytest.mark.slow
def test_a_sweep_on_an_existing_scheduler(tmp_path):
    from dask.distributed import LocalCluster

    spec = load_sweep(_write(tmp_path, SPEC.format(w=4)))
    run_sweep(spec, tmp_path / "serial.csv", n_workers=0, progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        s = run_sweep(spec, tmp_path / "remote.csv", scheduler=cluster.scheduler_address, progress=False)
    assert s.ran == 12 and not s.failed
    assert _strip_wall(read_table(tmp_path / "remote.csv")) == _strip_wall(read_table(tmp_path / "serial.csv"))


# every point fails: 100 neurons cannot fit one core of 4 neurons
FAILING = """
[fixed]
"network.n_exc" = 80
"network.n_inh" = 20
"mesh.width" = 1
"mesh.height" = 1
"core.neurons" = 4
"run.duration_s" = "5 ms"
[grid]
"stimulus.rate_hz" = [1e4, 2e4]
"""


def test_a_sweep_where_every_point_failed_exits_1_and_its_table_cannot_be_plotted(tmp_path, capsys):
    spec = _write(tmp_path, FAILING)
    table = tmp_path / "t.csv"
    assert main(["sweep", str(spec), "--workers", "0", "-o", str(table)]) == 1
    out, err = capsys.readouterr()
    assert "2 run (0 circuit fits), 2 failed" in out
    assert err.startswith("error: sweep sweep: all 2 points run failed (point 0: ") and len(err.splitlines()) == 1
    assert [r["status"] for r in read_table(table)] == ["error", "error"]  # the failures are kept
    assert main(["sweep", "plot", str(table), "--kind", "rate", "-o", str(tmp_path / "p.png")]) == 1
    assert "no point succeeded (2 rows, all failed): nothing to plot" in capsys.readouterr().err
    assert not (tmp_path / "p.png").exists()


def test_an_unreachable_scheduler_fails_fast_naming_it_and_writes_no_table(tmp_path, capsys):
    import time

    spec = _write(tmp_path, SPEC.format(w=4))
    t0 = time.perf_counter()
    code = main(["sweep", str(spec), "--scheduler", "tcp://127.0.0.1:9", "-o", str(tmp_path / "t.csv")])
    assert time.perf_counter() - t0 < 20  # the connection gives up after 5 s, not dask's 30 s
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 5 s")
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "t.csv").exists()  # no header-only table


def test_a_swept_core_size_counts_the_fitted_circuits_static_power_per_neuron_slot():
    """core.neurons is applied before the circuit: its static power is per neuron slot of the
    swept core, not of the preset's."""
    from neurochip.chip import load_chip
    from neurochip.sweep.point import _chip

    fit = {"energy_per_spike_joule": 2e-12, "static_power_watt": 1e-9, "circuit": "c"}
    base = load_chip("generic")
    for neurons in (64, 512):
        chip = _chip({"chip": {"core.neurons": neurons}}, fit)
        assert chip.core.neurons == neurons
        assert chip.energy.static_power_per_core_watt == pytest.approx(
            base.energy.static_power_per_core_watt + neurons * 1e-9, rel=1e-12)
    # an explicit swept price wins over the circuit's
    chip = _chip({"chip": {"energy.spike_joule": 5e-12}}, fit)
    assert chip.energy.spike_joule == 5e-12
