"""Run records and reports: exact counts by hand, saturation, files, and the CLI."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from neurochip.chip import CoreSpec, EnergySpec, load_chip
from neurochip.cli import main
from neurochip.emulator import run
from neurochip.errors import ConfigError
from neurochip.lif import LIFParams
from neurochip.mapping import MappingOptions, map_network
from neurochip.network import (
    Explicit,
    FixedInDegree,
    Network,
    PoissonInput,
    Population,
    Projection,
    SpikeTimesInput,
)
from neurochip.network.files import save_network
from neurochip.report import RunRecord, energy_report, record_run, saturation_report, throughput_report

P = LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-9, v_th_volt=0.5, v_reset_volt=0.0, t_ref_s=1e-3)
E = EnergySpec(
    spike_joule=2.0**-30,
    synaptic_event_joule=2.0**-31,
    neuron_update_joule=2.0**-32,
    neuron_update_inactive_joule=0.0,
    hop_ew_joule=2.0**-34,
    hop_ns_joule=2.0**-35,
    core_packet_joule=2.0**-36,
    static_power_per_core_watt=2.0**-10,
)


def chain_network():
    # 0 -> 1 -> 2 -> 3, each synapse strong enough to make its target fire once per input
    pre, post = np.array([0, 1, 2]), np.array([1, 2, 3])
    return Network(
        populations=(Population(name="c", size=4, params=P),),
        projections=(Projection(pre="c", post="c", rule=Explicit(pre=pre, post=post), weight_volt=0.6, delay_s=1e-3),),
    )


def test_chain_counts_and_energy_by_hand():
    net = chain_network()
    chip = dataclasses.replace(load_chip("generic").with_mesh(4, 1), energy=E, core=CoreSpec(neurons=1, fan_in=10, fan_out=10))
    mapping = map_network(net, chip, options=MappingOptions(partitioner="block"))
    assert mapping.hops() == (1.0, 1)
    kicks = SpikeTimesInput(population="c", times_s=[0.01, 0.02, 0.03, 0.04, 0.05], neurons=[0] * 5, weight_volt=0.6)
    res = run(net, duration_s=0.1, inputs=[kicks])
    assert list(res.spike_counts) == [5, 5, 5, 5]  # every kick runs down the chain
    rec = record_run(res, mapping, t_ref_s=np.full(4, P.t_ref_s))
    c = rec.counts
    # by hand: 20 spikes; neurons 0-2 send 5 packets one hop each; 15 synaptic events and updates
    assert c.total("spikes") == 20
    assert c.total("synaptic_events") == 15 and c.total("neuron_updates") == 15
    assert c.total("hops_ew") + c.total("hops_ns") == 15
    assert c.total("core_packets") == 0
    rep, data = energy_report(rec)
    expected = 20 * 2.0**-30 + 15 * 2.0**-31 + 15 * 2.0**-32 + c.total("hops_ew") * 2.0**-34 + c.total("hops_ns") * 2.0**-35
    assert rep.dynamic_joule == expected
    assert rep.static_joule == 4 * 2.0**-10 * 0.1
    assert data["energy_per_synaptic_event_joule"] == rep.total_joule / 15


def test_saturation_and_throughput_reports(tmp_path):
    # a population driven far above rheobase fires near 1/t_ref; another sits silent
    net = Network(populations=(Population(name="hot", size=5, params=P, bias_current_amp=1e-6),
                               Population(name="cold", size=5, params=P)))
    chip = load_chip("generic")
    mapping = map_network(net, chip)
    res = run(net, duration_s=0.2)
    rec = record_run(res, mapping, t_ref_s=np.full(10, P.t_ref_s), population_names=["hot", "cold"],
                     population_offsets=np.array([0, 5]))
    sat = saturation_report(rec)
    assert sat["neurons_saturated"] == 5
    hot = sat["populations"][0]
    assert 0.9 * 1000 <= hot["mean_rate_hz"] <= 1000  # within 10 % of 1/t_ref, never above
    assert sat["populations"][1]["mean_rate_hz"] == 0
    thr = throughput_report(rec)
    assert thr["spikes_per_chip_s"] == pytest.approx(res.spike_counts.sum() / 0.2)
    path = tmp_path / "run.npz"
    rec.save(path)
    back = RunRecord.load(path)
    assert back.chip == rec.chip
    np.testing.assert_array_equal(back.spike_counts, rec.spike_counts)
    np.testing.assert_array_equal(back.events, rec.events)
    assert energy_report(back)[1] == energy_report(rec)[1]


def test_bad_run_file(tmp_path):
    bad = tmp_path / "x.npz"
    np.savez(bad, something=np.zeros(2))
    with pytest.raises(ConfigError, match=r"x\.npz: not a neurochip run file"):
        RunRecord.load(bad)
    with pytest.raises(ConfigError, match="file not found"):
        RunRecord.load(tmp_path / "missing.npz")


def test_cli_map_run_report(tmp_path, capsys):
    net = Network(
        populations=(Population(name="E", size=200, params=P), Population(name="I", size=50, params=P)),
        projections=(
            Projection(pre="E", post="E", rule=FixedInDegree(k=20), weight_volt=0.01, delay_s=1e-3),
            Projection(pre="I", post="E", rule=FixedInDegree(k=5), weight_volt=-0.05, delay_s=1e-3),
        ),
        seed=3,
    )
    path = tmp_path / "net.npz"
    save_network(net, path)
    assert main(["map", str(path), "--chip", "generic", "--rates", "20", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["n_neurons"] == 250 and rep["cores_used"] == 1  # 250 neurons fit one 256-neuron core
    out = tmp_path / "run.npz"
    assert main(["run", str(path), "--poisson", "E:5kHz:0.05V", "--duration", "100ms", "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["spikes"] > 0
    assert main(["report", "energy", str(out), "--json", "--plot", str(tmp_path / "e.png")]) == 0
    energy = json.loads(capsys.readouterr().out)
    assert energy["total_joule"] == pytest.approx(energy["dynamic_joule"] + energy["static_joule"])
    generic = load_chip("generic")
    line = f"{generic.sources['all']} (chip 'generic', [sources] 'all')"
    assert energy["price_source"] == {**{op: line for op in energy["by_operation_joule"]}, "static": line}
    assert energy["price_joule"]["neuron_updates"] == generic.energy.neuron_update_joule
    assert (tmp_path / "e.png").stat().st_size > 5000
    # the table names each term's source once, under it
    assert main(["report", "energy", str(out)]) == 0
    text = capsys.readouterr().out
    assert "price sources:" in text and f"  [1] {line}" in text and "[2]" not in text
    assert main(["report", "throughput", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["link_utilisation_max"] == 0.0  # one core: no links used
    assert main(["report", "saturation", str(out)]) == 0
    capsys.readouterr()
    # errors: one line, naming the flag
    assert main(["run", str(path), "--poisson", "X:5kHz:1mV", "-o", str(out)]) == 1
    assert "no population 'X'" in capsys.readouterr().err
    assert main(["report", "energy", str(tmp_path / "nope.npz")]) == 1
    assert "nope.npz: file not found" in capsys.readouterr().err


def test_mapping_error_names_population():
    net = Network(populations=(Population(name="big", size=5000, params=P),))
    with pytest.raises(Exception, match=r"neurons \(whole chip\) needs 5000, has 4096"):
        map_network(net, load_chip("generic"))
    # per-neuron fan-in names the neuron by population
    pre = np.arange(1, 70)
    net = Network(
        populations=(Population(name="A", size=70, params=P),),
        projections=(Projection(pre="A", post="A", rule=Explicit(pre=pre, post=np.zeros(69, int)), weight_volt=0.1),),
    )
    with pytest.raises(Exception, match=r"fan_in_per_neuron of A\[0\] is 69 synapses, a neuron holds 64"):
        map_network(net, load_chip("dynapse2"))


def test_poisson_input_reported_not_priced():
    net = Network(populations=(Population(name="E", size=10, params=P),))
    res = run(net, duration_s=0.05, inputs=[PoissonInput(population="E", rate_hz=1000.0, weight_volt=0.01)], seed=1)
    rec = record_run(res, map_network(net, load_chip("generic")), t_ref_s=np.full(10, P.t_ref_s))
    assert rec.external_events == res.counters["ext_events"] > 0
    assert rec.counts.total("synaptic_events") == 0


def test_energy_report_says_how_the_run_was_counted_against_how_the_chip_runs():
    """A time-stepped chip's report says the event-driven counts leave out inactive updates and
    the step time; an asynchronous chip's says it is counted as it runs."""
    from neurochip.chip import load_chip
    from neurochip.report import execution_note

    loihi, generic = load_chip("loihi"), load_chip("generic")
    assert loihi.execution.model == "time_stepped" and generic.execution.model == "asynchronous"
    stepped = execution_note(loihi)
    assert stepped["chip"] == "time_stepped" and "no inactive updates" in stepped["note"]
    assert "neurochip stepped" in stepped["note"]
    assert execution_note(generic)["chip"] == "asynchronous"
    assert "time-stepped" not in execution_note(generic)["note"]
