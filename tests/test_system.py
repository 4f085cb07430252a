"""System specs: presets load with their sources, files round-trip, errors name file and field."""

from __future__ import annotations

import pytest

from neurochip._spec import dump_toml
from neurochip.errors import ConfigError, InvalidParameterError
from neurochip.system import LinkSpec, SystemSpec, TopologySpec, list_systems, load_system


def test_presets_load_and_every_link_number_has_a_source():
    assert {"nahuku", "dynapse2-x4"} <= set(list_systems())
    for name in list_systems():
        spec = load_system(name)
        for key in ("n_chips", "topology.kind", "link.latency_s", "link.bit_rate_hz", "link.packet_bits",
                    "link.buffer_depth", "link.static_power_per_port_watt"):  # fmt: skip
            assert key in spec.sources or key.partition(".")[0] in spec.sources, f"{name}: {key} has no [sources] entry"


def test_nahuku_is_32_loihi_chips_on_a_mesh():
    spec = load_system("nahuku")
    assert spec.n_chips == 32 and spec.chip.name == "loihi"
    assert spec.neuron_capacity == 32 * 128 * 1024
    assert len(spec.links()) == 2 * (7 * 4 + 8 * 3)  # directed links of an 8 x 4 mesh
    assert spec.link.serialisation_s == pytest.approx(32 / 1.6e9)
    assert spec.link.packet_joule == pytest.approx(32 * 10e-12)


def test_mesh_routes_are_xy_and_graph_routes_shortest():
    spec = load_system("nahuku")
    assert spec.route(0, 10) == [0, 1, 2, 10]
    assert spec.route(10, 0) == [10, 9, 8, 0]
    ring = SystemSpec(name="ring", chip=spec.chip, n_chips=4, link=spec.link,
                      topology=TopologySpec(kind="graph", edges=[[0, 1], [1, 2], [2, 3], [3, 0]]))  # fmt: skip
    assert ring.hops(0, 2) == 2 and ring.route(0, 2) == [0, 1, 2]
    assert ring.route(0, 3) == [0, 3]
    assert len(ring.links()) == 8


def write(tmp_path, data, name="board.toml"):
    path = tmp_path / name
    path.write_text(dump_toml(data))
    return path


def nahuku_dict():
    data = load_system("nahuku").to_dict()
    data.pop("sources")
    return data


def test_round_trip_through_a_file(tmp_path):
    spec = load_system("nahuku")
    again = load_system(write(tmp_path, nahuku_dict()))
    assert again.link == spec.link and again.topology == spec.topology and again.chip == spec.chip


def test_a_chip_file_next_to_the_system_file(tmp_path):
    from neurochip.chip import load_chip

    (tmp_path / "mychip.toml").write_text(dump_toml({k: v for k, v in load_chip("generic").to_dict().items() if k != "execution"}))
    data = nahuku_dict()
    data["chip"] = "mychip.toml"
    assert load_system(write(tmp_path, data)).chip.name == "generic"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["link"].update(packet_bits=0), r"board.toml: link.packet_bits = 0: must be >= 1"),
        (lambda d: d["link"].update(latency_s="-1 ns"), r"board.toml: link.latency_s = .*must be > 0"),
        (lambda d: d["link"].update(bogus=1), r"board.toml: .*bogus"),
        (lambda d: d.update(n_chips=30), r"board.toml: n_chips = 30: a 8 x 4 mesh holds 32 chips"),
        (lambda d: d.update(chip="nochip"), r"board.toml: chip = 'nochip'"),
        (lambda d: d.pop("link"), r"board.toml: missing table or key 'link'"),
        (lambda d: d["link"].update(energy_per_packet_joule=1e-9), r"give exactly one of"),
        (lambda d: d["topology"].update(kind="torus"), r"board.toml: topology.kind = 'torus': must be one of"),
    ],
)
def test_errors_name_the_file_and_field(tmp_path, edit, message):
    data = nahuku_dict()
    edit(data)
    with pytest.raises(ConfigError, match=message):
        load_system(write(tmp_path, data))


def test_a_graph_must_be_connected():
    spec = load_system("nahuku")
    with pytest.raises(InvalidParameterError, match="chip 2 is not connected to chip 0"):
        SystemSpec(name="split", chip=spec.chip, n_chips=4, link=spec.link,
                   topology=TopologySpec(kind="graph", edges=[[0, 1], [2, 3]]))  # fmt: skip


def test_a_disconnected_graph_in_a_file_names_the_edges(tmp_path):
    data = nahuku_dict()
    data.update(n_chips=4, topology={"kind": "graph", "edges": [[0, 1], [2, 3]]})
    with pytest.raises(ConfigError, match=r"board.toml: topology.edges = \[\[0, 1\], \[2, 3\]\]: chip 2 is not connected"):
        load_system(write(tmp_path, data))


def test_link_energy_per_bit_or_per_packet():
    a = LinkSpec(latency_s=1e-7, bit_rate_hz=1e9, packet_bits=40, buffer_depth=4, energy_per_bit_joule=2e-12)
    b = LinkSpec(latency_s=1e-7, bit_rate_hz=1e9, packet_bits=40, buffer_depth=4, energy_per_packet_joule=80e-12)
    assert a.packet_joule == pytest.approx(b.packet_joule)
    assert a.packet_rate_hz == pytest.approx(25e6)
