"""Chip specs: presets load and validate, bad files name file, key, value and rule."""

from __future__ import annotations

import json

import pytest

from neurochip.chip import ChipSpec, CoreSpec, MeshSpec, list_presets, load_chip
from neurochip.cli import main
from neurochip.errors import ConfigError, InvalidParameterError

GOOD = """
name = "t"
[mesh]
width = 2
height = 3
[core]
neurons = 8
fan_in = 64
fan_out = 16
[router]
hop_latency_s = "5 ns"
link_bandwidth_hz = 1e6
buffer_depth = 4
backpressure = false
[energy]
spike_joule = "1 pJ"
synaptic_event_joule = 2e-12
neuron_update_joule = 3e-12
neuron_update_inactive_joule = 0
hop_ew_joule = "4 pJ"
hop_ns_joule = "5 pJ"
core_packet_joule = "6 pJ"
static_power_per_core_watt = "7 uW"
"""


def test_every_preset_loads_and_round_trips():
    names = list_presets()
    assert "generic" in names
    for name in names:
        spec = load_chip(name)
        assert spec.name == name
        assert ChipSpec.from_dict(spec.to_dict()) == spec


def test_file_with_si_strings(tmp_path):
    path = tmp_path / "chip.toml"
    path.write_text(GOOD)
    spec = load_chip(str(path))
    assert spec.n_cores == 6 and spec.neuron_capacity == 48
    assert spec.router.hop_latency_s == pytest.approx(5e-9)
    assert spec.router.backpressure is False
    assert spec.energy.static_power_per_core_watt == pytest.approx(7e-6)
    assert isinstance(spec.energy.neuron_update_inactive_joule, float)
    assert spec.with_mesh(5, 5).n_cores == 25


@pytest.mark.parametrize(
    "old,new,match",
    [
        ("neurons = 8", "neurons = 0", r"chip\.toml: core\.neurons = 0: must be >= 1"),
        ("width = 2", "width = 2.5", r"chip\.toml: mesh\.width = 2\.5: must be an integer"),
        ('hop_latency_s = "5 ns"', 'hop_latency_s = "5 nA"', r"chip\.toml: router\.hop_latency_s = '5 nA': unit 'A'"),
        ("link_bandwidth_hz = 1e6", "link_bandwidth_hz = 0", r"router\.link_bandwidth_hz = 0\.0: must be > 0"),
        ("spike_joule", "spike_jule", r"chip\.toml: energy\.spike_jule: unknown field"),
        ("backpressure = false", 'backpressure = "no"', r"router\.backpressure = 'no': must be true or false"),
        ("synaptic_event_joule = 2e-12", "synaptic_event_joule = -2e-12", r"energy\.synaptic_event_joule = -2e-12: must be >= 0"),
    ],
)
def test_bad_spec_names_file_key_value_and_rule(tmp_path, old, new, match):
    path = tmp_path / "chip.toml"
    assert old in GOOD
    path.write_text(GOOD.replace(old, new))
    with pytest.raises(ConfigError, match=match):
        load_chip(str(path))


def test_missing_table_and_unknown_name(tmp_path):
    path = tmp_path / "chip.toml"
    path.write_text('name = "x"\n[mesh]\nwidth = 1\nheight = 1\n')
    with pytest.raises(ConfigError, match="missing table or key 'core'"):
        load_chip(str(path))
    with pytest.raises(ConfigError, match="no chip preset or file named 'nope'"):
        load_chip("nope")


def test_direct_construction_validates():
    with pytest.raises(InvalidParameterError, match="fan_in = -1: must be >= 1"):
        CoreSpec(neurons=1, fan_in=-1, fan_out=1)
    assert MeshSpec(width=3, height=2).n_cores == 6


def test_cli_chip_list_and_show(capsys):
    assert main(["chip", "list", "--json"]) == 0
    presets = json.loads(capsys.readouterr().out)["presets"]
    assert "generic" in presets
    assert main(["chip", "show", "generic", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mesh"]["width"] * data["mesh"]["height"] == load_chip("generic").n_cores
    assert main(["chip", "show", "nope"]) == 1
    assert capsys.readouterr().err.startswith("error: no chip preset")
