"""Chip energy from fitted circuits, and where every price comes from.

A chip whose neurons are the analog ``lif_transistor`` and whose synapses are the DPI prices a
run with the fitted energies: the test works the expected energy out term by term from the run's
counts (derived by hand from the network) and the fitted prices, and checks that each term's
source names the circuit and its bias, or the preset line it was read from.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import require_or_skip

from neurochip.chip import CoreSpec, load_chip
from neurochip.energy import OPERATIONS, STATIC, price_sources
from neurochip.errors import InvalidParameterError
from neurochip.mapping import MappingOptions
from neurochip.network import Explicit, Network, Population, Projection, SpikeTimesInput
from neurochip.onchip import fit_source, run_on_chip, with_neuron_circuit, with_synapse_circuit
from neurochip.report import energy_report

GENERIC_TEXT = load_chip("generic").sources["all"]


# --- sources of preset prices, and the two circuit substitutions (no ngspice) ---------------------


def test_preset_prices_name_their_preset_line():
    loihi = price_sources(load_chip("loihi"))
    assert set(loihi) == set(OPERATIONS) | {STATIC}
    assert loihi["neuron_updates"] == ("Davies et al. 2018 Table 2 (active) (chip 'loihi', "
                                       "[sources] 'energy.neuron_update_joule')")
    assert "Frady et al., NICE 2020" in loihi[STATIC]
    generic = price_sources(load_chip("generic"))
    for term, text in generic.items():
        assert text == f"{GENERIC_TEXT} (chip 'generic', [sources] 'all')", term
    # a table-wide entry covers its fields; a chip without sources says so
    assert "'energy'" in price_sources(load_chip("dynapse2").replace(sources={"energy": "x"}))["spikes"]
    bare = price_sources(load_chip("generic").replace(sources={}))
    assert bare["synaptic_events"].startswith("no source given (chip 'generic' has no [sources] entry for "
                                              "energy.synaptic_event_joule)")


def test_every_preset_energy_field_has_a_source():
    from neurochip.chip import list_presets

    for name in list_presets():
        for term, text in price_sources(load_chip(name)).items():
            assert not text.startswith("no source"), (name, term)


def test_analog_neuron_charges_no_digital_update_and_says_why():
    chip = load_chip("generic")
    e_spike, p_static = 2.0**-36, 2.0**-30
    analog = with_neuron_circuit(chip, energy_per_spike_joule=e_spike, static_power_watt=p_static, circuit="mine",
                                 analog=True, source="ngspice fit of mine at vdd=1.8")
    assert analog.energy.neuron_update_joule == 0.0 and analog.energy.neuron_update_inactive_joule == 0.0
    assert analog.energy.spike_joule == e_spike
    assert analog.energy.static_power_per_core_watt == chip.energy.static_power_per_core_watt + 256 * p_static
    src = price_sources(analog)
    assert src["neuron_updates"].startswith("0: the neurons are the analog circuit mine, which integrates in "
                                            "continuous time with no digital update")
    assert src["spikes"].startswith("ngspice fit of mine at vdd=1.8: energy_per_spike_joule = ")
    assert src["hops_ew"] == f"{GENERIC_TEXT} (chip 'generic', [sources] 'all')"
    # not analog: the preset's digital update stays, with the preset's source
    digital = with_neuron_circuit(chip, energy_per_spike_joule=e_spike, static_power_watt=p_static, circuit="mine")
    assert digital.energy.neuron_update_joule == chip.energy.neuron_update_joule > 0
    assert price_sources(digital)["neuron_updates"] == src["hops_ew"]


def test_synapse_circuit_prices_events_and_pays_static_per_slot():
    chip = load_chip("generic")
    e_event, p_static = 2.0**-38, 2.0**-40
    syn = with_synapse_circuit(chip, energy_per_event_joule=e_event, static_power_watt=p_static, circuit="dpi",
                               source="ngspice fit of dpi at v_tau=1.6")
    assert syn.energy.synaptic_event_joule == e_event
    assert syn.energy.static_power_per_core_watt == chip.energy.static_power_per_core_watt + 65536 * p_static
    assert syn.energy.neuron_update_joule == chip.energy.neuron_update_joule  # synapses leave the neurons alone
    shared = with_synapse_circuit(chip, energy_per_event_joule=e_event, static_power_watt=p_static,
                                  circuits_per_core=512)
    assert shared.energy.static_power_per_core_watt == chip.energy.static_power_per_core_watt + 512 * p_static
    assert price_sources(syn)["synaptic_events"].startswith("ngspice fit of dpi at v_tau=1.6: energy_per_event_joule")


def test_static_power_source_is_one_sum_of_preset_and_circuits():
    chip = with_neuron_circuit(load_chip("generic"), energy_per_spike_joule=1e-12, static_power_watt=1e-9,
                               circuit="n", analog=True, source="fit N")
    chip = with_synapse_circuit(chip, energy_per_event_joule=1e-12, static_power_watt=1e-15, circuits_per_core=100,
                                circuit="s", source="fit S")
    text = chip.sources["energy.static_power_per_core_watt"]
    # 50 µW + 256 x 1 nW + 100 x 1 fW = 50.2560001 µW
    assert text.startswith("50.26 µW per core = 50 µW from Hypothetical round values")
    assert "+ 256 neuron circuits x 1 nW (fit N: static_power_watt)" in text
    assert text.endswith("+ 100 synapse circuits x 1 fW (fit S: static_power_watt)")
    assert text.count(GENERIC_TEXT) == 1


def test_circuit_substitutions_reject_bad_input_naming_the_field():
    chip = load_chip("generic")
    with pytest.raises(InvalidParameterError, match=r"energy_per_event_joule = -1e-12: must be finite and >= 0"):
        with_synapse_circuit(chip, energy_per_event_joule=-1e-12, static_power_watt=0.0)
    with pytest.raises(InvalidParameterError, match=r"static_power_watt = nan: must be finite and >= 0"):
        with_synapse_circuit(chip, energy_per_event_joule=1e-12, static_power_watt=math.nan)
    with pytest.raises(InvalidParameterError, match=r"circuits_per_core = 0: must be an integer >= 1"):
        with_synapse_circuit(chip, energy_per_event_joule=1e-12, static_power_watt=0.0, circuits_per_core=0)
    with pytest.raises(InvalidParameterError, match=r"analog = 'yes': must be True or False"):
        with_neuron_circuit(chip, energy_per_spike_joule=1e-12, static_power_watt=0.0, analog="yes")
    with pytest.raises(InvalidParameterError, match=r"fit = 'int': must be a circuit fit"):
        fit_source(3)


# --- a small network on a chip of fitted circuits (real ngspice) -----------------------------------


@pytest.fixture(scope="module")
def fits():
    from neurochip.circuit import FitOptions, SynapseFitOptions, fit_lif, fit_synapse, spice_available

    require_or_skip(spice_available(), "ngspice")
    neuron = fit_lif("lif_transistor", options=FitOptions(n_sweep=3, saturation_multiple=0))
    synapse = fit_synapse("dpi_synapse", options=SynapseFitOptions(rates_per_tau=()))
    return neuron, synapse


def _tiny_generic():
    """The generic chip cut to 4 x 1 cores of one neuron and 10 synapse slots (before any circuit is
    put in: a circuit's static power is counted per slot of the core it is given)."""
    return load_chip("generic").with_mesh(4, 1).replace(core=CoreSpec(neurons=1, fan_in=10, fan_out=10))


def _chain_run(chip, params):
    """0 -> 1 -> 2 -> 3, one neuron per core on a 4 x 1 mesh, neuron 0 kicked 5 times in 0.1 s.

    Every kick runs down the chain, so by hand: 20 spikes, 15 synaptic events (each a neuron
    update), 15 packets of one east-west hop each, no packet within a core.
    """
    jump = 2.0 * (params.v_th_volt - min(params.e_leak_volt, params.v_reset_volt))  # one input fires a neuron
    net = Network(
        populations=(Population(name="c", size=4, params=params),),
        projections=(Projection(pre="c", post="c", rule=Explicit(pre=[0, 1, 2], post=[1, 2, 3]),
                                weight_volt=jump, delay_s=1e-3),),
    )
    kicks = SpikeTimesInput(population="c", times_s=[0.01, 0.02, 0.03, 0.04, 0.05], neurons=[0] * 5,
                            weight_volt=jump)
    assert (chip.mesh.width, chip.mesh.height, chip.core.neurons) == (4, 1, 1)
    record = run_on_chip(net, chip, duration_s=0.1, inputs=[kicks],
                         mapping_options=MappingOptions(partitioner="block"))
    assert record.spike_counts.tolist() == [5, 5, 5, 5]
    assert {op: record.counts.total(op) for op in OPERATIONS} == {
        "spikes": 20.0, "synaptic_events": 15.0, "neuron_updates": 15.0, "neuron_updates_inactive": 0.0,
        "hops_ew": 15.0, "hops_ns": 0.0, "core_packets": 0.0}
    return record


@pytest.mark.spice
def test_fitted_circuits_price_a_network_term_by_term(fits):
    neuron, synapse = fits
    preset = _tiny_generic()
    chip = with_neuron_circuit(preset, energy_per_spike_joule=neuron.energy_per_spike_joule,
                               static_power_watt=neuron.static_power_watt, circuit=neuron.circuit, analog=True,
                               source=fit_source(neuron))
    chip = with_synapse_circuit(chip, energy_per_event_joule=synapse.energy_per_event_joule,
                                static_power_watt=synapse.static_power_watt, circuit=synapse.circuit,
                                source=fit_source(synapse))
    report, data = energy_report(_chain_run(chip, neuron.params))

    # by hand: counts x fitted prices; hops keep the preset's price; static power of 4 cores x 0.1 s,
    # each core = preset + 1 neuron circuit + 10 synapse circuits (one per fan-in slot)
    expected = {
        "spikes": 20 * neuron.energy_per_spike_joule,
        "synaptic_events": 15 * synapse.energy_per_event_joule,
        "neuron_updates": 0.0,
        "neuron_updates_inactive": 0.0,
        "hops_ew": 15 * preset.energy.hop_ew_joule,
        "hops_ns": 0.0,
        "core_packets": 0.0,
    }
    for op, joule in expected.items():
        assert report.by_operation[op] == pytest.approx(joule, rel=1e-12, abs=0.0), op
    static = (preset.energy.static_power_per_core_watt + neuron.static_power_watt
              + 10 * synapse.static_power_watt) * 4 * 0.1
    assert report.static_joule == pytest.approx(static, rel=1e-12)
    assert report.total_joule == pytest.approx(sum(expected.values()) + static, rel=1e-12)

    # where each price comes from: the circuit, the fitted quantity and the bias; the preset line
    src = data["price_source"]
    assert set(src) == set(OPERATIONS) | {STATIC}
    assert src["spikes"].startswith("ngspice fit of lif_transistor at vdd=1.8, c_m=1p, ")
    assert "energy_per_spike_joule = " in src["spikes"]
    assert src["synaptic_events"].startswith(
        "ngspice fit of dpi_synapse at vdd=1.8, v_post=500m, v_w=450m, v_thr=1.65, v_tau=1.6, c_syn=500f: "
        "energy_per_event_joule = ")
    assert "analog circuit lif_transistor" in src["neuron_updates"]
    assert src["hops_ew"] == f"{GENERIC_TEXT} (chip 'generic', [sources] 'all')"
    assert "lif_transistor" in src[STATIC] and "dpi_synapse" in src[STATIC] and GENERIC_TEXT in src[STATIC]
    assert json.loads(json.dumps(data))["price_source"] == src


@pytest.mark.spice
def test_the_preset_charges_neuron_updates_the_analog_chip_does_not(fits):
    neuron, _ = fits
    preset = _tiny_generic()
    report, data = energy_report(_chain_run(preset, neuron.params))
    assert report.by_operation["neuron_updates"] == pytest.approx(15 * preset.energy.neuron_update_joule, rel=1e-12)
    assert report.by_operation["neuron_updates"] > 0
    assert report.by_operation["synaptic_events"] == pytest.approx(15 * preset.energy.synaptic_event_joule, rel=1e-12)
    assert data["price_source"]["neuron_updates"] == f"{GENERIC_TEXT} (chip 'generic', [sources] 'all')"
    analog = with_neuron_circuit(preset, energy_per_spike_joule=neuron.energy_per_spike_joule,
                                 static_power_watt=neuron.static_power_watt, circuit=neuron.circuit, analog=True)
    assert energy_report(_chain_run(analog, neuron.params))[0].by_operation["neuron_updates"] == 0.0


def test_price_table_survives_the_run_file(tmp_path):
    from neurochip.lif import LIFParams
    from neurochip.report import RunRecord

    p = LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-9, v_th_volt=0.5, v_reset_volt=0.0, t_ref_s=1e-3)
    chip = with_synapse_circuit(_tiny_generic(), energy_per_event_joule=4e-12, static_power_watt=0.0,
                                circuit="dpi", source="ngspice fit of dpi at v_tau=1.6")
    record = _chain_run(chip, p)
    record.save(tmp_path / "run.npz")
    again = energy_report(RunRecord.load(tmp_path / "run.npz"))[1]
    assert again["price_source"] == energy_report(record)[1]["price_source"]
    assert again["price_source"]["synaptic_events"].startswith("ngspice fit of dpi at v_tau=1.6")
    np.testing.assert_array_equal(again["by_core_joule"], energy_report(record)[1]["by_core_joule"])
