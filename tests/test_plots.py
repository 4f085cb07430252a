"""The review figures of neurochip.plots: each runs on a small real run and writes a PNG, and
what it shows is checked against the data (the sample, the colours, the hatched cores, the bar
lengths, the threshold lines), not the pixels."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_or_skip

from neurochip._display import pyplot
from neurochip.chip import load_chip
from neurochip.lif import LIFParams
from neurochip.mapping import map_network
from neurochip.mesh import LINKS
from neurochip.network import FixedInDegree, Network, PoissonInput, Population, Projection
from neurochip.onchip import run_on_chip
from neurochip.plots import (
    draw_energy,
    draw_mesh,
    draw_raster,
    plot_energy,
    plot_fit,
    plot_mapping,
    plot_raster,
    plot_trace,
    plot_traffic,
    sample_neurons,
)
from neurochip.report import energy_report

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run():
    """A 600 + 150 + 4 neuron network (a readout population of 4) on the generic 4 x 4 chip:
    three of its 16 cores hold neurons, 13 are unused.  Real mapping, real routed emulator."""
    p = LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-9, v_th_volt=0.02, v_reset_volt=0.0, t_ref_s=2e-3)
    pops = (Population(name="E", size=600, params=p), Population(name="I", size=150, params=p),
            Population(name="R", size=4, params=p))
    proj = (Projection(pre="E", post="E", rule=FixedInDegree(k=10), weight_volt=1e-3, delay_s=1e-3),
            Projection(pre="E", post="I", rule=FixedInDegree(k=10), weight_volt=1e-3, delay_s=1e-3),
            Projection(pre="I", post="E", rule=FixedInDegree(k=5), weight_volt=-2e-3, delay_s=1e-3),
            Projection(pre="E", post="R", rule=FixedInDegree(k=20), weight_volt=1e-3, delay_s=1e-3))
    net = Network(populations=pops, projections=proj, seed=3)
    drive = [PoissonInput(population=name, rate_hz=25e3, weight_volt=1e-3) for name in ("E", "I", "R")]
    chip = load_chip("generic")
    mapping = map_network(net, chip)
    record = run_on_chip(net, chip, duration_s=0.02, inputs=drive, seed=2, mapping=mapping)
    return net, mapping, record


def _axes():
    fig, ax = pyplot().subplots()
    return fig, ax


def test_sample_neurons_covers_every_population_within_the_budget():
    bounds = [(0, 8000), (8000, 10000), (10000, 10003)]
    ids, pop = sample_neurons(bounds, max_neurons=300, min_per_population=25)
    assert ids.size <= 300 and set(pop.tolist()) == {0, 1, 2}
    assert np.bincount(pop).tolist()[2] == 3  # the readout is smaller than the minimum: all of it
    assert np.all(np.diff(ids) > 0)  # distinct, increasing
    for k, (lo, hi) in enumerate(bounds):
        assert np.all((ids[pop == k] >= lo) & (ids[pop == k] < hi))
    # the two large populations share the rest in proportion to their size (8000 : 2000)
    e, i = np.bincount(pop)[:2]
    assert abs(e / i - 4.0) < 0.2
    # a small network is shown whole
    ids, pop = sample_neurons([(0, 30), (30, 40)], max_neurons=500)
    assert ids.tolist() == list(range(40)) and np.bincount(pop).tolist() == [30, 10]
    # more populations than the budget has minima for: one each at least
    ids, pop = sample_neurons([(k * 10, k * 10 + 10) for k in range(8)], max_neurons=8, min_per_population=5)
    assert np.bincount(pop).tolist() == [1] * 8


def test_raster_shows_every_population_in_its_own_colour(run, tmp_path):
    _, _, record = run
    fig, ax = _axes()
    data = draw_raster(ax, record, max_neurons=100, min_per_population=10)
    names = [name for name, _, _ in data["populations"]]
    assert names == ["E", "I", "R"]
    ids, pop = data["neuron_ids"], data["population"]
    assert set(pop.tolist()) == {0, 1, 2} and ids.size <= 100 and np.count_nonzero(pop == 2) == 4
    in_sample = np.isin(record.events["address"], ids)
    drawn = 0
    for k, (name, lo, hi) in enumerate(data["populations"]):
        (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == f"raster-{k}"]
        assert line.get_color() == data["colors"][k]
        assert line.get_label().startswith(f"{name}:")
        shown = ids[np.asarray(line.get_ydata(), dtype=np.int64)]  # rows back to neuron ids
        assert np.all((shown >= lo) & (shown < hi))  # every spike of this colour is this population's
        expect = in_sample & (record.events["address"] >= lo) & (record.events["address"] < hi)
        assert len(shown) == np.count_nonzero(expect) > 0
        assert np.allclose(np.sort(line.get_xdata()), np.sort(record.events["time_s"][expect]) * 1e3)  # ms
        drawn += len(shown)
    assert drawn == data["events_shown"] == np.count_nonzero(in_sample)
    assert len(set(data["colors"])) == 3
    # the y ticks name real neuron ids: the first sampled neuron of each population
    assert [t.get_text() for t in ax.get_yticklabels()][:3] == ["0", "600", "750"]
    pyplot().close(fig)
    png = tmp_path / "raster.png"
    plot_raster(record, str(png))
    assert png.read_bytes()[:8] == PNG


def _cell_centres(ax, gid):
    (coll,) = [c for c in ax.collections if c.get_gid() == gid]
    return sorted((round(float(p.vertices[:4, 0].mean()), 6), round(float(p.vertices[:4, 1].mean()), 6))
                  for p in coll.get_paths())


def test_mesh_hatches_exactly_the_unused_cores_of_the_mapping(run, tmp_path):
    _, mapping, record = run
    chip = record.chip
    w = chip.mesh.width
    unused = sorted(set(range(chip.n_cores)) - set(np.unique(mapping.neuron_core).tolist()))
    assert len(unused) == chip.n_cores - mapping.cores_used > 0
    fig, ax = _axes()
    util = record.link_utilisation()
    data = draw_mesh(ax, chip, used_cores=np.unique(record.neuron_core), link_value=util, unit="1")
    assert data["unused_cores"] == unused
    # the hatched cells sit at the (x, y) of exactly those cores, the plain ones at the others
    assert _cell_centres(ax, "unused-cores") == sorted((float(c % w), float(c // w)) for c in unused)
    used = sorted(set(range(chip.n_cores)) - set(unused))
    assert _cell_centres(ax, "used-cores") == sorted((float(c % w), float(c // w)) for c in used)
    (hatched,) = [c for c in ax.collections if c.get_gid() == "unused-cores"]
    assert hatched.get_hatch()
    # integer core coordinates on the ticks
    assert list(ax.get_xticks()) == list(range(w)) and list(ax.get_yticks()) == list(range(chip.mesh.height))
    # every link inside the mesh is an arrow coloured by its utilisation: none is lost
    (arrows,) = [c for c in ax.collections if c.get_gid() == "links"]
    assert data["links_drawn"] == 2 * (w - 1) * chip.mesh.height + 2 * (chip.mesh.height - 1) * w
    assert np.isclose(arrows.get_array().sum(), util.sum()) and util.sum() > 0
    assert data["vmax"] == util.max()
    pyplot().close(fig)
    png = tmp_path / "traffic.png"
    assert plot_traffic(record, str(png))["unused_cores"] == unused
    assert png.read_bytes()[:8] == PNG
    png = tmp_path / "load.png"
    assert plot_mapping(mapping, str(png))["unused_cores"] == unused
    assert png.read_bytes()[:8] == PNG
    assert LINKS == ("east", "west", "north", "south")  # the order draw_mesh's arrows assume


def test_energy_bars_are_the_energy_report(run, tmp_path):
    _, _, record = run
    _, report = energy_report(record)
    fig, ax = _axes()
    bars = draw_energy(ax, report)
    expect = {**report["by_operation_joule"], "static": report["static_joule"]}
    assert bars == expect
    widths = [p.get_width() for p in ax.patches if p.get_gid() == "energy-bars"]
    assert widths == pytest.approx(list(expect.values()), rel=1e-12)
    assert ax.get_xscale() == "log"
    zero = [k for k, v in expect.items() if v == 0]
    assert zero == ["neuron_updates_inactive"]  # an asynchronous chip never updates an idle neuron
    assert sum(t.get_text() == "0 J" for t in ax.texts) == len(zero)  # listed as 0, not dropped
    assert len(ax.get_yticklabels()) == len(expect)
    pyplot().close(fig)
    png = tmp_path / "energy.png"
    drawn = plot_energy(record, str(png), powered="used")
    assert png.read_bytes()[:8] == PNG
    _, used = energy_report(record, cores_powered="used")
    assert drawn["bars"]["static"] == used["static_joule"] < report["static_joule"]
    assert drawn["mesh"]["vmax"] == max(used["by_core_joule"])
    assert drawn["mesh"]["unused_cores"] == sorted(set(range(record.chip.n_cores)) - set(record.neuron_core.tolist()))


def test_cli_writes_each_run_figure(run, tmp_path, capsys):
    from neurochip.cli import main
    from neurochip.network.files import save_network

    net, _, record = run
    record.save(tmp_path / "run.npz")
    save_network(net, tmp_path / "net.npz")
    for argv in (["map", str(tmp_path / "net.npz")], ["report", "energy", str(tmp_path / "run.npz")],
                 ["report", "throughput", str(tmp_path / "run.npz")], ["report", "saturation", str(tmp_path / "run.npz")]):
        png = tmp_path / f"{argv[1]}.png"
        assert main([*argv, "--plot", str(png)]) == 0
        assert png.read_bytes()[:8] == PNG, argv
    capsys.readouterr()


@pytest.mark.spice
def test_trace_and_fit_figures_draw_the_threshold_reset_and_spikes(tmp_path):
    from neurochip.circuit import FitOptions, detect_spikes, fit_lif, simulate, spice_available

    require_or_skip(spice_available(), "ngspice")
    trace = simulate("lif_behavioral", 12e-9, 0.6e-3)
    spikes = detect_spikes(trace.time_s, trace.v_mem_volt)
    png = tmp_path / "trace.png"
    data = plot_trace(trace, spikes, str(png))
    assert png.read_bytes()[:8] == PNG
    assert data["v_th_volt"] == trace.params["v_th"] and data["v_reset_volt"] == trace.params["v_reset"]
    assert np.array_equal(data["spike_times_s"], spikes) and spikes.size >= 2

    res = fit_lif("lif_behavioral", options=FitOptions(n_sweep=3))
    png = tmp_path / "fit.png"
    data = plot_fit(res, str(png))
    assert png.read_bytes()[:8] == PNG
    assert (data["v_th_volt"], data["v_reset_volt"]) == (res.params.v_th_volt, res.params.v_reset_volt)
    assert data["current_amp"] == res.sweep_current_amp[0]
    # about four ISIs at the lowest sweep current: the spikes drawn are SPICE's, at its ISI
    assert data["spike_times_s"].size >= 3
    assert np.diff(data["spike_times_s"])[-1] == pytest.approx(res.isi_spice_s[0], rel=0.02)
