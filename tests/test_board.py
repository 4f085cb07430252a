"""Board mapping and the inter-chip report: hand-computed packets and energies on a 2 x 1 board,
capacity overflows naming the chip, and the partitioner's optimum on a known case."""

from __future__ import annotations

import numpy as np
import pytest

from neurochip.board import board_report, run_on_board
from neurochip.board_mapping import BoardMappingOptions, chip_packets, map_board
from neurochip.chip import CoreSpec, MeshSpec, load_chip
from neurochip.errors import MappingError
from neurochip.lif import LIFParams
from neurochip.network import AllToAll, Explicit, Network, Population, Projection, SpikeTimesInput
from neurochip.system import LinkSpec, SystemSpec, TopologySpec

P = LIFParams()  # tau_m = 1 ms, V_th = 0.5 V, t_ref = 1 ms


def board(neurons_per_core: int, *, cores: int = 1, fan_in: int = 64, fan_out: int = 64, n_chips: int = 2) -> SystemSpec:
    chip = load_chip("generic").replace(
        mesh=MeshSpec(width=cores, height=1), core=CoreSpec(neurons=neurons_per_core, fan_in=fan_in, fan_out=fan_out)
    )
    link = LinkSpec(latency_s=1e-7, bit_rate_hz=3.2e9, packet_bits=32, buffer_depth=8,
                    energy_per_packet_joule=100e-12, static_power_per_port_watt=1e-3)  # fmt: skip
    return SystemSpec(name="tiny", chip=chip, n_chips=n_chips,
                      topology=TopologySpec(kind="mesh", width=n_chips, height=1), link=link)  # fmt: skip


def feedforward() -> Network:
    """A (2 neurons) -> B (2 neurons), all to all, too weak to make B fire."""
    pops = (Population(name="A", size=2, params=P), Population(name="B", size=2, params=P))
    return Network(populations=pops, projections=(Projection(pre="A", post="B", rule=AllToAll(), weight_volt=0.01),))


@pytest.mark.parametrize("links", ["counted", "emulated"])
def test_two_chip_packets_and_energy_by_hand(links):
    system = board(2)
    net = feedforward()
    # A0 fires at 1, 3, 5 ms and A1 at 2, 4 ms: 0.6 V kicks over a 0.5 V threshold, 2 ms apart
    drive = SpikeTimesInput(population="A", times_s=[1e-3, 3e-3, 5e-3, 2e-3, 4e-3], neurons=[0, 0, 0, 1, 1], weight_volt=0.6)
    bm, result = run_on_board(net, system, duration_s=0.01, inputs=[drive], links=links)
    assert bm.neuron_chip.tolist() == [0, 0, 1, 1]
    assert result.spike_counts.tolist() == [3, 2, 0, 0]
    rep = board_report(bm, net, result)
    # 5 spikes of A, each one packet to chip 1 (both targets are there), over the one link 0 -> 1
    assert rep["inter_chip_packets"] == 5.0 and rep["link_crossings"] == 5.0
    east = next(r for r in rep["links"] if (r["from"], r["to"]) == (0, 1))
    west = next(r for r in rep["links"] if (r["from"], r["to"]) == (1, 0))
    assert east["packets"] == 5.0 and west["packets"] == 0.0
    assert east["utilisation"] == pytest.approx(5 * 10e-9 / 0.01)  # 32 bit / 3.2 Gbit/s = 10 ns each
    assert not rep["saturated_links"]
    e = system.chip.energy
    energy = rep["energy"]
    assert energy["off_chip_joule"] == pytest.approx(5 * 100e-12)
    assert energy["interface_static_joule"] == pytest.approx(2 * 1e-3 * 0.01)  # two ports of the one link
    # chip 0: 5 spikes; chip 1: 5 spikes x 2 targets = 10 synaptic events and 10 updates
    assert energy["on_chip_dynamic_joule"] == pytest.approx(5 * e.spike_joule + 10 * (e.synaptic_event_joule + e.neuron_update_joule))
    assert energy["on_chip_static_joule"] == pytest.approx(2 * e.static_power_per_core_watt * 0.01)
    parts = energy["on_chip_dynamic_joule"] + energy["on_chip_static_joule"] + energy["off_chip_joule"] + energy["interface_static_joule"]
    assert energy["total_joule"] == pytest.approx(parts)
    assert energy["multichip_overhead_joule"] == pytest.approx(5 * 100e-12 + 2e-5)
    chip0, chip1 = rep["chips"]
    assert (chip0["packets_out"], chip1["packets_in"], chip0["packets_through"]) == (5.0, 5.0, 0.0)
    assert rep["mean_inter_chip_latency_s"] == pytest.approx(1e-7)


def test_packets_cross_every_link_of_the_xy_route_once_per_destination_chip():
    system = board(1, n_chips=3)
    # neuron 0 on chip 0 targets neurons 1 (chip 1) and 2 (chip 2): two packets per spike,
    # link 0 -> 1 carries both, link 1 -> 2 one
    pops = tuple(Population(name=f"P{i}", size=1, params=P) for i in range(3))
    proj = (Projection(pre="P0", post="P1", rule=AllToAll(), weight_volt=0.0),
            Projection(pre="P0", post="P2", rule=AllToAll(), weight_volt=0.0))  # fmt: skip
    bm = map_board(Network(populations=pops, projections=proj), system, options=BoardMappingOptions(partitioner="block"))
    pairs, links = chip_packets(bm, [4, 0, 0])
    assert pairs[0].tolist() == [0.0, 4.0, 4.0]
    loads = dict(zip(system.links(), links.tolist()))
    assert loads[(0, 1)] == 8.0 and loads[(1, 2)] == 4.0 and loads[(1, 0)] == 0.0


def clusters(n: int = 10) -> Network:
    """Two dense clusters {A1, A2} and {B1, B2}, interleaved in index order, one synapse between."""
    pops = tuple(Population(name=name, size=n, params=P) for name in ("A1", "B1", "A2", "B2"))
    proj = [Projection(pre=a, post=b, rule=AllToAll(), weight_volt=0.0)
            for group in (("A1", "A2"), ("B1", "B2")) for a in group for b in group]  # fmt: skip
    proj.append(Projection(pre="A1", post="B1", rule=Explicit(pre=[0], post=[0]), weight_volt=0.0))
    return Network(populations=pops, projections=tuple(proj))


def test_partitioner_finds_the_two_clusters():
    system = board(10, cores=2, fan_in=400, fan_out=400)  # 20 neurons per chip: one cluster each
    net = clusters()
    packed = map_board(net, system, options=BoardMappingOptions(partitioner="block", block_neurons=10))
    best = map_board(net, system, options=BoardMappingOptions(block_neurons=10))
    chip_of = best.neuron_chip.reshape(4, 10)
    assert np.all(chip_of == chip_of[:, :1])  # no population split
    assert chip_of[0, 0] == chip_of[2, 0] and chip_of[1, 0] == chip_of[3, 0] and chip_of[0, 0] != chip_of[1, 0]
    # optimum: only A1[0] -> B1[0] crosses, one packet per spike round over one hop
    assert best.cost == 1.0
    assert packed.cost > best.cost and best.cost_packed == packed.cost
    assert best.n_synapses_crossing_chips == 1


def test_board_too_small_names_the_capacity():
    with pytest.raises(MappingError, match=r"neurons \(whole board of 2 chips\) needs 6, has 4"):
        map_board(Network(populations=(Population(name="A", size=6, params=P),)), board(2))


def test_remote_fan_in_is_balanced_by_the_chip_mapper():
    # chips of 2 cores x 3 neurons, 4 synapses per core. A (5 neurons) fills chip 0; B's two
    # neurons go to chip 1, each with 3 synapses from A: 6 on chip 1 fit the chip (8) only if
    # the on-chip mapper, which sees no local synapse, still puts them on two cores.
    pops = (Population(name="A", size=5, params=P), Population(name="B", size=2, params=P))
    rule = Explicit(pre=[0, 1, 2, 0, 1, 2], post=[0, 0, 0, 1, 1, 1])
    net = Network(populations=pops, projections=(Projection(pre="A", post="B", rule=rule, weight_volt=0.0),))
    bm = map_board(net, board(3, cores=2, fan_in=4), options=BoardMappingOptions(partitioner="block", block_neurons=5))
    assert bm.neuron_chip.tolist() == [0] * 5 + [1] * 2
    assert bm.core_fan_in[1].tolist() == [3, 3]
    assert bm.chip_mappings[1].n_synapses == 0 and bm.chip_mappings[1].route_indptr[-1] == 0


def test_remote_fan_out_overflow_names_chip_and_core():
    # A[0] on chip 0 targets B's three neurons, one per core on chip 1: three routing entries on
    # a core that holds two
    pops = (Population(name="A", size=2, params=P), Population(name="B", size=3, params=P))
    rule = Explicit(pre=[0, 0, 0], post=[0, 1, 2])
    net = Network(populations=pops, projections=(Projection(pre="A", post="B", rule=rule, weight_volt=0.0),))
    with pytest.raises(MappingError, match=r"fan_out of chip 0 core \d needs 3 \(with the synapses and routes to "
                                           r"and from other chips\), has 2") as info:  # fmt: skip
        map_board(net, board(1, cores=4, fan_out=2), options=BoardMappingOptions(partitioner="block", block_neurons=3))
    assert info.value.capacity == "fan_out"


def test_packing_overflow_names_the_block():
    # B's block (3 neurons, 9 synapses) exceeds a chip's fan-in (5) though the board's (10) holds it
    pops = (Population(name="A", size=3, params=P), Population(name="B", size=3, params=P))
    net = Network(populations=pops, projections=(Projection(pre="A", post="B", rule=AllToAll(), weight_volt=0.0),))
    with pytest.raises(MappingError, match=r"fan_in .*left B\[0\]..B\[2\] without a chip"):
        map_board(net, board(3, fan_in=5), options=BoardMappingOptions(partitioner="block"))


def test_per_chip_overflow_is_prefixed_with_the_chip():
    # a chip of two cores of 2 neurons and 2 fan-out entries; one neuron reaching 3 cores on chip 0
    pops = (Population(name="A", size=1, params=P), Population(name="B", size=3, params=P))
    net = Network(populations=pops, projections=(Projection(pre="A", post="B", rule=AllToAll(), weight_volt=0.0),))
    system = board(1, cores=4, fan_out=2)
    with pytest.raises(MappingError, match=r"fan_out"):
        map_board(net, system, options=BoardMappingOptions(partitioner="block"))


def test_plot_board_draws_the_link_loads(tmp_path):
    from neurochip.board_plots import plot_board

    system = board(2)
    net = feedforward()
    drive = SpikeTimesInput(population="A", times_s=[1e-3, 3e-3], neurons=[0, 1], weight_volt=0.6)
    bm, result = run_on_board(net, system, duration_s=0.01, inputs=[drive])
    rep = board_report(bm, net, result)
    drawn = plot_board(rep, system, str(tmp_path / "board.png"), quantity="packets")
    assert (tmp_path / "board.png").stat().st_size > 0
    assert drawn["link_values"] == {(0, 1): 2.0, (1, 0): 0.0}
    assert drawn["used_chips"] == [0, 1]
    assert drawn["energy_joule"]["off-chip links"] == pytest.approx(2 * 100e-12)


def test_cli_board_map_and_run(tmp_path, capsys):
    import json

    from neurochip.cli import main
    from neurochip.network.files import save_network

    pops = (Population(name="A", size=300, params=P), Population(name="B", size=300, params=P))
    net = Network(populations=pops, projections=(Projection(pre="A", post="B", rule=AllToAll(), weight_volt=1e-4),))
    save_network(net, tmp_path / "net.npz")
    toml = tmp_path / "two.toml"
    toml.write_text(
        'name = "two"\nchip = "generic"\nn_chips = 2\n[topology]\nkind = "graph"\nedges = [[0, 1]]\n'
        '[link]\nlatency_s = "100 ns"\nbit_rate_hz = 1e9\npacket_bits = 32\nbuffer_depth = 8\n'
        'energy_per_bit_joule = "10 pJ"\n'
    )
    # the generic chip holds 4,096 neurons but 16 x 65,536 synapses: 90,000 fit one chip
    assert main(["board", "map", str(tmp_path / "net.npz"), "--system", str(toml), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["n_synapses"] == 90000 and rep["chips_used"] == 1
    assert main(["board", "run", str(tmp_path / "net.npz"), "--system", str(toml), "--fill", "0.4",
                 "--dc", "A:1nA", "--duration", "20 ms", "--plot", str(tmp_path / "b.png")]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "multi-chip overhead" in out and "not emulated" in out
    assert (tmp_path / "b.png").exists()
    # the same two chips as a 2 x 1 mesh: links emulated (the default there), in JSON
    mesh = tmp_path / "mesh.toml"
    mesh.write_text(toml.read_text().replace('kind = "graph"\nedges = [[0, 1]]', 'kind = "mesh"\nwidth = 2\nheight = 1'))
    # fill 0.09: 368 neurons and 94k synapses per chip, so A (300) and B (300) take one chip each
    two_chip = ["--fill", "0.09", "--partitioner", "block", "--dc", "A:1nA", "--duration", "20 ms"]
    assert main(["board", "run", str(tmp_path / "net.npz"), "--system", str(mesh), *two_chip, "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["links_model"] == "emulated" and rep["drops"] == 0
    east = next(r for r in rep["links"] if (r["from"], r["to"]) == (0, 1))
    # each spike of A: one packet per core of B on chip 1 (B's 300 neurons on 2 cores of 256)
    spikes_a = sum(c["spikes"] for c in rep["chips"] if c["chip"] == 0)
    assert spikes_a > 0 and east["packets"] == east["offered_packets"] == 2 * spikes_a
    assert main(["board", "run", str(tmp_path / "net.npz"), "--system", str(mesh), *two_chip]) == 0
    assert "busiest inter-chip links (emulated)" in capsys.readouterr().out
    assert main(["board", "list", "--json"]) == 0
    assert "nahuku" in json.loads(capsys.readouterr().out)["presets"]
    assert main(["board", "map", str(tmp_path / "net.npz"), "--system", "nosuch"]) == 1
    assert "no system preset or file named 'nosuch'" in capsys.readouterr().err
