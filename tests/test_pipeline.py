"""One pipeline point from named parameters: stage wiring, closed forms, the circuit fit cache."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import require_or_skip

from neurochip import lif
from neurochip.chip import load_chip
from neurochip.circuit import load_circuit, spice_available
from neurochip.errors import InvalidParameterError, MappingError
from neurochip.sweep.point import OUTPUT_COLUMNS, check_point, fit_key, run_point

SMALL = {"network.n_exc": 40, "network.n_inh": 10, "network.k_exc": 8, "network.k_inh": 2, "run.duration_s": 0.02}


def test_row_has_every_column_and_the_energy_adds_up():
    row = run_point({**SMALL, "core.neurons": 16})
    assert list(row) == list(OUTPUT_COLUMNS)
    chip = load_chip("generic")
    # static power: every core of the preset pays its static power (cores_powered = "all")
    assert row["power_static_watt"] == pytest.approx(chip.n_cores * chip.energy.static_power_per_core_watt, rel=1e-12)
    assert row["energy_static_joule"] == pytest.approx(row["power_static_watt"] * 0.02, rel=1e-12)
    assert row["energy_total_joule"] == pytest.approx(row["energy_dynamic_joule"] + row["energy_static_joule"], rel=1e-12)
    assert row["energy_per_synaptic_event_joule"] == pytest.approx(row["energy_total_joule"] / row["synaptic_events"])
    assert row["throughput_synaptic_events_per_s"] == pytest.approx(row["synaptic_events"] / 0.02)
    assert row["n_neurons"] == 50 and row["n_synapses"] == 50 * 10
    assert row["cores_used"] >= math.ceil(50 / 16)
    assert row["rate_ceiling_hz"] == pytest.approx(1 / lif.LIFParams().t_ref_s)
    assert row["drops"] == 0


def test_powering_only_the_used_cores():
    row = run_point({**SMALL, "core.neurons": 16, "run.cores_powered": "used"})
    chip = load_chip("generic")
    assert row["power_static_watt"] == pytest.approx(row["cores_used"] * chip.energy.static_power_per_core_watt)


def test_chip_fields_by_dotted_path_change_only_what_they_name():
    # packets counted, not timed: the spikes cannot depend on the router's figures
    base = run_point({**SMALL, "core.neurons": 16, "run.route": False})
    half = run_point({**SMALL, "core.neurons": 16, "chip.router.link_bandwidth_hz": 5e7, "run.route": False})
    # identical counts; utilisation = packets / (bandwidth x duration) doubles when the bandwidth halves
    assert half["spikes"] == base["spikes"] and half["synaptic_events"] == base["synaptic_events"]
    assert half["link_utilisation_max"] == pytest.approx(2 * base["link_utilisation_max"], rel=1e-12)
    slow = run_point({**SMALL, "core.neurons": 16, "router.hop_latency_s": "20 ns", "run.route": False})
    assert slow["latency_mean_s"] == pytest.approx(2 * base["latency_mean_s"], rel=1e-12)
    assert slow["mean_hops"] == base["mean_hops"]
    assert not base["routed"]


def test_routed_point_times_packets():
    fast = run_point({**SMALL, "core.neurons": 16})
    slow = run_point({**SMALL, "core.neurons": 16, "router.hop_latency_s": "1 us"})
    assert fast["routed"] and slow["routed"]
    # remote packets cross at least one hop of 1 us instead of 10 ns (own-core packets: 0 s)
    assert slow["latency_mean_s"] > 20 * fast["latency_mean_s"]
    assert slow["link_utilisation_max"] <= 1.0


def test_firing_of_unconnected_neurons_matches_a_dead_time_poisson_process():
    # No recurrence and an input weight above the threshold gap: every input spike outside the
    # refractory hold fires the neuron, so its output is a Poisson process of rate nu with dead
    # time t_ref, whose rate is nu / (1 + nu t_ref).
    nu, t_ref, n, duration = 500.0, 1e-3, 200, 1.0
    row = run_point({"network.n_exc": n, "network.n_inh": 0, "network.k_exc": 0, "stimulus.rate_hz": nu,
                     "stimulus.weight_fraction": 1.5, "lif.t_ref_s": t_ref, "run.duration_s": duration})
    expected = nu / (1 + nu * t_ref)
    sd = math.sqrt(expected * duration * n) / (duration * n)  # Poisson count noise of the mean rate (an upper bound)
    assert abs(row["rate_mean_hz"] - expected) < 4 * sd
    assert row["synaptic_events"] == 0 and row["energy_per_synaptic_event_joule"] == math.inf
    assert row["input_drive"] == pytest.approx(nu * 1.5 * lif.LIFParams().tau_m_s)


def test_lif_fields_are_used_without_a_circuit():
    row = run_point({**SMALL, "lif.t_ref_s": "2 ms", "lif.c_m_farad": 2e-12})
    assert row["rate_ceiling_hz"] == pytest.approx(500.0)
    assert row["neuron_tau_m_s"] == pytest.approx(2e-12 / 1e-9)


def test_bad_names_and_values_are_named():
    with pytest.raises(InvalidParameterError, match="unknown parameter 'network.n_excitatory'"):
        check_point({"network.n_excitatory": 10})
    with pytest.raises(InvalidParameterError, match="router fields are"):
        check_point({"router.bandwidth": 1e6})
    with pytest.raises(InvalidParameterError, match="core.neurons"):
        check_point({"core.neurons": 2.5})
    with pytest.raises(InvalidParameterError, match="run.cores_powered"):
        check_point({"run.cores_powered": "some"})
    with pytest.raises(InvalidParameterError, match="no 'circuit'"):
        check_point({"circuit.c_m": "1 pF"})
    with pytest.raises(MappingError):
        run_point({**SMALL, "mesh.width": 1, "mesh.height": 1, "core.neurons": 16})


def test_fit_key_depends_on_values_not_spelling():
    a = fit_key("lif_behavioral", {"c_m": "1pF"}, {"n_sweep": 4})
    b = fit_key("lif_behavioral", {"c_m": 1e-12}, {"n_sweep": 4})
    c = fit_key("lif_behavioral", {"c_m": 2e-12}, {"n_sweep": 4})
    d = fit_key("lif_behavioral", {"c_m": 1e-12}, {"n_sweep": 5})
    assert a == b and len({a, c, d}) == 3
    # the defaults spelled out are the defaults
    assert fit_key("lif_behavioral", {}, {}) == fit_key("lif_behavioral", load_circuit("lif_behavioral").defaults, {})


@pytest.mark.spice
def test_a_circuit_point_prices_the_chip_with_the_fitted_circuit_and_caches_the_fit(tmp_path):
    require_or_skip(spice_available(), "ngspice")
    point = {**SMALL, "circuit": "lif_behavioral", "circuit.t_ref": "100 us", "fit.n_sweep": 4,
             "fit.saturation_multiple": 0}
    row = run_point(point, cache_dir=tmp_path)
    files = list(tmp_path.glob("fit-*.json"))
    assert len(files) == 1
    # the behavioural neuron's refractory one-shot sets t_ref; its output load sets the spike
    # energy c_out vdd^2; its bias sets the static power vdd i_bias per neuron slot
    t = load_circuit("lif_behavioral").defaults
    assert row["neuron_t_ref_s"] == pytest.approx(100e-6, rel=0.05)
    assert row["spike_energy_joule"] == pytest.approx(t["c_out"] * t["vdd"] ** 2, rel=0.05)
    chip = load_chip("generic")
    extra = row["static_power_per_core_watt"] - chip.energy.static_power_per_core_watt
    assert extra == pytest.approx(chip.core.neurons * t["vdd"] * t["i_bias"], rel=0.05)
    # a second point with another chip reads the cache: same neuron, no new fit file
    mtime = files[0].stat().st_mtime_ns
    row2 = run_point({**point, "router.link_bandwidth_hz": 1e6}, cache_dir=tmp_path)
    assert files[0].stat().st_mtime_ns == mtime and len(list(tmp_path.glob("fit-*.json"))) == 1
    assert row2["neuron_t_ref_s"] == row["neuron_t_ref_s"] and row2["spikes"] == row["spikes"]
    # lif.* overrides the fitted value
    row3 = run_point({**point, "lif.t_ref_s": 2e-4}, cache_dir=tmp_path)
    assert row3["rate_ceiling_hz"] == pytest.approx(5000.0)
    assert np.isfinite(row3["energy_total_joule"])
