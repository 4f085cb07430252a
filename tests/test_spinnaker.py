"""The SpiNNaker chip preset and the SpiNN-5 board: every number validates and has a source, the
board's links are the documented layout's (scripts/spinn5_edges.py), routes have the hand-counted
hops of the triangular lattice, and a network larger than one chip maps and runs, its inter-chip
packets equal to the count made by hand from its spikes and its mapping."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from neurochip.board import board_report, run_on_board
from neurochip.chip import ChipSpec, load_chip
from neurochip.examples import ei_network
from neurochip.lif import LIFParams
from neurochip.mapping import network_csr
from neurochip.system import SystemSpec, load_system

ROOT = Path(__file__).resolve().parents[1]
ENERGY_FIELDS = ("spike_joule", "synaptic_event_joule", "neuron_update_joule", "neuron_update_inactive_joule",
                 "hop_ew_joule", "hop_ns_joule", "core_packet_joule", "static_power_per_core_watt")  # fmt: skip


def _script():
    spec = importlib.util.spec_from_file_location("spinn5_edges", ROOT / "scripts" / "spinn5_edges.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_chip_preset_validates_and_every_number_has_a_source():
    chip = load_chip("spinnaker")
    assert ChipSpec.from_dict(chip.to_dict()) == chip  # the numbers pass the spec's own checks
    assert (chip.n_cores, chip.core.neurons, chip.neuron_capacity) == (16, 255, 16 * 255)
    assert chip.execution.time_stepped and chip.execution.step_s == pytest.approx(1e-3)
    for key in [f"energy.{f}" for f in ENERGY_FIELDS] + ["core.neurons", "core.fan_in", "core.fan_out",
                                                          "router.hop_latency_s", "router.link_bandwidth_hz"]:
        assert key in chip.sources, f"spinnaker: {key} has no [sources] entry"
    # the idle chip (0.36 W) spread over the 16 application cores; a spike is one router pass
    assert chip.energy.static_power_per_core_watt * chip.n_cores == pytest.approx(0.36)
    assert chip.energy.hop_ew_joule == chip.energy.hop_ns_joule == chip.energy.core_packet_joule == 0.0


def test_board_preset_validates_and_every_link_number_has_a_source():
    board = load_system("spinn5")
    assert SystemSpec.from_dict(board.to_dict(), source="spinn5.toml") == board
    assert (board.n_chips, board.chip.name, board.topology.kind) == (48, "spinnaker", "graph")
    for key in ("n_chips", "topology.kind", "topology.edges", "link.latency_s", "link.bit_rate_hz", "link.packet_bits",
                "link.buffer_depth", "link.backpressure", "link.energy_per_packet_joule",
                "link.static_power_per_port_watt"):  # fmt: skip
        assert key in board.sources, f"spinn5: {key} has no [sources] entry"
    assert board.link.packet_bits == 40 and board.link.serialisation_s == pytest.approx(40 / 2.5e8)


def test_board_links_are_the_generated_layout():
    script = _script()
    board = load_system("spinn5")
    chips = script.chips()
    assert len(chips) == 48 and len(set(chips)) == 48
    # the hexagon: 4, 5, 6, 7, 8, 7, 6, 5 chips in the columns x = 0..7
    assert [sum(1 for x, _ in chips if x == c) for c in range(8)] == [4, 5, 6, 7, 8, 7, 6, 5]
    assert list(board.topology.edges) == script.edges()
    preset = (ROOT / "neurochip" / "systems" / "spinn5.toml").read_text()
    assert script.edges_line() in preset and script.coordinates_comment() in preset
    # every link joins two lattice neighbours; 120 links, every interior chip has all six
    degree = np.zeros(48, dtype=int)
    for a, b in board.topology.edges:
        (xa, ya), (xb, yb) = chips[a], chips[b]
        assert (xb - xa, yb - ya) in script.DIRECTIONS
        degree[[a, b]] += 1
    assert len(board.topology.edges) == 120
    assert np.bincount(degree).tolist() == [0, 0, 0, 6, 15, 0, 27]


def test_routes_have_the_hand_counted_hops():
    script = _script()
    board = load_system("spinn5")
    chips = script.chips()
    at = {xy: i for i, xy in enumerate(chips)}
    # by hand: (0,0) -> (7,7) is 7 north-east hops; (4,0) -> (3,6) goes 1 west and 6 north, and a
    # west step and a north step cannot share a diagonal link: 7 hops; (0,3) -> (4,0) likewise 4 + 3
    assert board.hops(at[0, 0], at[7, 7]) == 7
    assert board.route(at[0, 0], at[7, 7]) == [at[k, k] for k in range(8)]
    assert board.hops(at[4, 0], at[3, 6]) == 7
    assert board.hops(at[0, 3], at[4, 0]) == 7
    assert board.hops(at[3, 3], at[4, 4]) == 1 and board.hops(at[3, 3], at[4, 2]) == 2
    # every pair: the route's length is the lattice's closed form, and it steps between neighbours
    for a in range(48):
        for b in range(48):
            assert board.hops(a, b) == script.hex_hops(chips[a], chips[b])
    route = board.route(at[4, 0], at[3, 6])
    assert len(route) == 8
    for u, v in zip(route[:-1], route[1:]):
        assert (chips[v][0] - chips[u][0], chips[v][1] - chips[u][1]) in script.DIRECTIONS


def test_a_network_larger_than_one_chip_maps_and_runs_on_the_board():
    board = load_system("spinn5")
    net, drive = ei_network(LIFParams(), n_exc=4000, n_inh=1000, k_exc=40, k_inh=10)
    assert net.n_neurons > board.chip.neuron_capacity
    bm, result = run_on_board(net, board, duration_s=0.05, inputs=drive, seed=1)
    assert bm.chips_used >= 2
    assert result.spike_counts.sum() > 0
    rep = board_report(bm, net, result)
    # by hand: each spike of neuron i sends one packet to every other chip holding one of its
    # targets, and the packet crosses as many links as the lattice's closed form says
    script = _script()
    chips = script.chips()
    indptr, indices = network_csr(net)
    spikes = result.spike_counts.astype(np.int64)
    packets = crossings = 0
    for i in range(net.n_neurons):
        own = int(bm.neuron_chip[i])
        dest = set(bm.neuron_chip[indices[indptr[i]:indptr[i + 1]]].tolist()) - {own}
        packets += spikes[i] * len(dest)
        crossings += spikes[i] * sum(script.hex_hops(chips[own], chips[d]) for d in dest)
    assert packets > 0
    assert rep["inter_chip_packets"] == packets
    assert rep["link_crossings"] == crossings
    assert rep["energy"]["off_chip_joule"] == pytest.approx(crossings * 0.8e-9)
    assert rep["energy"]["interface_static_joule"] == 0.0
