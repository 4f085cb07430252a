"""Emulated inter-chip links: a board equals one chip with as many cores when its links have the
on-chip hop's figures; a packet's latency across chips by hand; the link saturating at the
bandwidth its spec gives, with drops or back-pressure; the compiled router against the plain
reference router, event for event."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from neurochip.board import board_report, run_on_board
from neurochip.board_links import board_routing, interchip_channels
from neurochip.board_mapping import BoardMappingOptions, map_board
from neurochip.chip import CoreSpec, MeshSpec, load_chip
from neurochip.emulator import run
from neurochip.lif import LIFParams
from neurochip.network import Explicit, Network, PoissonInput, Population, Projection, SpikeTimesInput
from neurochip.system import LinkSpec, SystemSpec, TopologySpec, load_system

P = LIFParams(c_m_farad=1e-12, g_leak_siemens=5e-11, e_leak_volt=0.0, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=2e-3)


def ring_network(n: int, k: int, seed: int = 0) -> tuple[Network, list[PoissonInput]]:
    """Neuron i excites i+1 .. i+k (mod n), 1 ms delay, each neuron Poisson-driven: local
    connectivity, so it maps onto chips whose neurons have few destination cores."""
    rng = np.random.default_rng(seed)
    pre = np.repeat(np.arange(n), k)
    post = (pre + np.tile(np.arange(1, k + 1), n)) % n
    pop = Population(name="E", size=n, params=P, v_init_volt=rng.uniform(0, 0.02, n))
    proj = Projection(pre="E", post="E", rule=Explicit(pre=pre, post=post), weight_volt=0.0015, delay_s=1e-3)
    return Network(populations=(pop,), projections=(proj,), seed=seed), [PoissonInput(population="E", rate_hz=3000.0, weight_volt=0.002)]


def as_on_chip(system: SystemSpec, *, shared: bool = False) -> SystemSpec:
    """The system with inter-chip links of the on-chip hop's latency, bandwidth, FIFO and flow
    control (1-bit packets at the on-chip packet rate, so serialisation is the same float)."""
    r = system.chip.router
    link = LinkSpec(latency_s=r.hop_latency_s, bit_rate_hz=r.link_bandwidth_hz, packet_bits=1, buffer_depth=r.buffer_depth,
                    backpressure=r.backpressure, energy_per_packet_joule=1e-10, shared=shared)  # fmt: skip
    return dataclasses.replace(system, link=link)


def test_board_with_on_chip_links_equals_one_chip_with_as_many_cores():
    system = as_on_chip(load_system("dynapse2-x4"))
    net, inputs = ring_network(2400, 30)
    assert net.n_neurons > system.chip.neuron_capacity  # larger than one chip of the preset
    bm = map_board(net, system)
    assert bm.chips_used >= 3
    board = run(net, duration_s=0.2, inputs=inputs, mapping=board_routing(bm, net))
    one = run(net, duration_s=0.2, inputs=inputs, mapping=board_routing(bm, net, channels=False))
    assert one.routing.chip.n_cores == system.n_cores and not one.routing.per_channel
    assert board.events.size > 1000
    assert np.array_equal(board.events, one.events)
    # the same packets went the same ways: every crossing is on a channel instead of a hop
    hops_one = one.routing.per_core["hops_ew"].sum() + one.routing.per_core["hops_ns"].sum()
    hops_board = board.routing.per_core["hops_ew"].sum() + board.routing.per_core["hops_ns"].sum()
    crossings = board.routing.per_channel["packets"].sum()
    assert crossings > 0 and hops_board + crossings == hops_one
    assert np.array_equal(board.routing.latency_s, one.routing.latency_s)
    # the run on the board reports its links and chips from the router's counts
    bm2, res = run_on_board(net, system, duration_s=0.05, inputs=inputs, board=bm, shared=False)
    rep = board_report(bm2, net, res)
    assert rep["links_model"] == "emulated" and rep["link_crossings"] == sum(r["packets"] for r in rep["links"])
    assert sum(c["spikes"] for c in rep["chips"]) == int(res.spike_counts.sum())


def two_chips(*, backpressure: bool, depth: int = 4, cores: int = 2) -> SystemSpec:
    chip = load_chip("generic").replace(mesh=MeshSpec(width=cores, height=1), core=CoreSpec(neurons=64, fan_in=4096, fan_out=4096))
    link = LinkSpec(latency_s=200e-9, bit_rate_hz=32e6, packet_bits=32, buffer_depth=depth, backpressure=backpressure,
                    energy_per_packet_joule=1e-10)  # 1 Mpacket/s: serialisation 1 us  # fmt: skip
    return SystemSpec(name="pair", chip=chip, n_chips=2, topology=TopologySpec(kind="mesh", width=2, height=1), link=link)


#: packing in population order, no refinement: A on chip 0, B on chip 1 (the refinement would
#: put each A neuron next to its one target and leave the link idle)
BLOCK = BoardMappingOptions(partitioner="block")


def feedforward(n: int) -> Network:
    """A (n neurons, chip 0) -> B (n neurons, chip 1), one to one, too weak to make B fire."""
    pops = (Population(name="A", size=n, params=P), Population(name="B", size=n, params=P))
    rule = Explicit(pre=np.arange(n), post=np.arange(n))
    return Network(populations=pops, projections=(Projection(pre="A", post="B", rule=rule, weight_volt=1e-4, delay_s=1e-3),))


def test_one_packet_latency_across_two_chips_by_hand():
    system = two_chips(backpressure=True, cores=2)
    net = feedforward(128)  # each population fills one chip of 2 cores x 64 neurons
    bm = map_board(net, system, options=BLOCK)
    assert set(bm.neuron_chip[:128].tolist()) == {0} and set(bm.neuron_chip[128:].tolist()) == {1}
    src, dst = 5, 128 + 5
    # the board's mesh is 4 x 1: chip 0 holds x = 0, 1 and chip 1 holds x = 2, 3; the one edge
    # crossing is x = 1 -> 2, every other step an on-chip hop
    x0, x1 = int(bm.neuron_core[src]), 2 + int(bm.neuron_core[dst])
    on_chip_hops = (x1 - x0) - 1
    drive = SpikeTimesInput(population="A", times_s=[1e-3], neurons=[src], weight_volt=0.05)
    res = run(net, duration_s=0.01, inputs=[drive], mapping=board_routing(bm, net))
    r = system.chip.router
    expected = on_chip_hops * (1 / r.link_bandwidth_hz + r.hop_latency_s) + (32 / 32e6 + 200e-9)
    assert res.routing.latency_s.tolist() == [pytest.approx(expected, rel=1e-12)]
    assert res.routing.per_channel["packets"].tolist() == [1, 0]  # east channel only
    assert int(res.routing.per_core["hops_ew"].sum()) == on_chip_hops


def fast_feedforward(rate_hz: float, system: SystemSpec, duration: float):
    """64 neurons on chip 0 (t_ref = 20 us: up to 50 kHz each), each driven by its own Poisson
    input strong enough to make it fire, one to one onto 64 neurons on chip 1."""
    fast = dataclasses.replace(P, t_ref_s=2e-5)
    net = feedforward(64)
    net = dataclasses.replace(net, populations=tuple(dataclasses.replace(p, params=fast) for p in net.populations))
    bm = map_board(net, system, options=BLOCK)
    drive = PoissonInput(population="A", rate_hz=rate_hz, weight_volt=0.05)
    res = run(net, duration_s=duration, inputs=[drive], mapping=board_routing(bm, net), seed=3)
    return board_report(bm, net, res)


@pytest.mark.parametrize("backpressure", [False, True])
def test_link_saturates_at_its_bandwidth(backpressure):
    system = two_chips(backpressure=backpressure, cores=1)
    cap = system.link.packet_rate_hz  # 1e6 packets/s: serialisation 1 us
    # light load: about 64 x 2 kHz = 128 kpackets/s, everything offered is carried
    rep = fast_feedforward(2_000.0, system, 0.02)
    east = rep["links"][0]
    assert (east["from"], east["to"]) == (0, 1)
    assert 0.05 * cap < east["rate_hz"] < 0.3 * cap
    assert east["drops"] == 0 and not east["saturated"]
    end = rep["end_state"]
    assert east["packets"] == east["offered_packets"] - end["packets_queued"] - end["packets_in_flight"]
    # overload: about 64 x 33 kHz = 2.1 Mpackets/s offered to a 1 Mpacket/s link
    rep = fast_feedforward(100_000.0, system, 0.01)
    east = rep["links"][0]
    assert east["offered_packets"] / 0.01 > 1.5 * cap
    # carried: at most the link's packet rate, and the link busy nearly all the run
    assert 0.97 * cap <= east["rate_hz"] <= cap * (1 + 1e-9)
    assert east["saturated"] and east["utilisation"] >= 0.97
    end = rep["end_state"]
    backlog = end["packets_queued"] + end["packets_in_flight"] + end["packets_waiting_at_source"]
    if backpressure:  # lossless: what is not carried waits at the source or in the FIFO
        assert east["drops"] == 0 and end["packets_waiting_at_source"] > 0
    else:  # lossy: the excess is dropped, counted
        assert east["drops"] > 0
    assert east["offered_packets"] == east["packets"] + east["drops"] + backlog


@pytest.mark.parametrize("backpressure", [False, True])
@pytest.mark.parametrize("shared", [True, False])
def test_compiled_router_equals_reference_on_a_saturated_board(backpressure, shared):
    system = dataclasses.replace(load_system("dynapse2-x4"), link=dataclasses.replace(
        load_system("dynapse2-x4").link, backpressure=backpressure, buffer_depth=2, shared=shared, bit_rate_hz=2.4e6))  # fmt: skip
    net, inputs = ring_network(1500, 20, seed=4)
    bm = map_board(net, system)
    out = []
    for backend in ("cython", "reference"):
        res = run(net, duration_s=0.02, inputs=inputs, mapping=board_routing(bm, net), backend=backend, seed=5)
        out.append(res)
    a, b = out
    assert a.events.size > 100 and np.array_equal(a.events, b.events)
    for k in a.routing.per_channel:
        assert np.array_equal(a.routing.per_channel[k], b.routing.per_channel[k]), k
    for k in a.routing.per_core:
        assert np.array_equal(a.routing.per_core[k], b.routing.per_core[k]), k
    assert a.routing.end_state == b.routing.end_state
    # the slow links did queue (and, lossy, drop): the case is not a trivial one
    assert a.routing.per_channel["peak_queue"].max() == 2
    if not backpressure:
        assert a.routing.drops > 0


def test_channels_of_a_two_by_two_board():
    system = load_system("dynapse2-x4")  # chips of 2 x 2 cores on a 2 x 2 board: a 4 x 4 mesh
    shared = interchip_channels(system)
    assert shared["channel_dir"].size == len(system.links()) == 8
    lanes = interchip_channels(system, shared=False)
    assert lanes["channel_dir"].size == 16  # two routers on each of the 8 directed edges
    # every crossing slot maps to a channel whose pair is the two chips it joins
    n4 = 4 * 16
    assert int(np.count_nonzero(shared["link_map"] >= n4)) == 16


def test_graph_board_emulates_its_links_on_request():
    """A graph board (auto: counted) routes through each chip's port cores when asked: compiled
    and reference routers agree on a line of 4 chips with slow, shallow links."""
    base = load_system("dynapse2-x4")
    link = dataclasses.replace(base.link, buffer_depth=2, bit_rate_hz=2.4e6)
    net, inputs = ring_network(1500, 20, seed=4)
    for bp in (True, False):
        system = dataclasses.replace(base, topology=TopologySpec(kind="graph", edges=[(0, 1), (1, 2), (2, 3)]),
                                     link=dataclasses.replace(link, backpressure=bp))  # fmt: skip
        bm, auto = run_on_board(net, system, duration_s=0.01, inputs=inputs)
        assert board_report(bm, net, auto)["links_model"] == "counted"
        bm, res = run_on_board(net, system, duration_s=0.02, inputs=inputs, board=bm, links="emulated", seed=5)
        ref = run(net, duration_s=0.02, inputs=inputs, mapping=res.routing.mapping, backend="reference", seed=5)
        assert res.events.size > 1000 and np.array_equal(res.events, ref.events)
        for k in res.routing.per_channel:
            assert np.array_equal(res.routing.per_channel[k], ref.routing.per_channel[k]), k
        assert res.routing.end_state == ref.routing.end_state
        assert res.routing.per_channel["peak_queue"].max() == 2
        assert (res.routing.drops > 0) == (not bp)
        rep = board_report(bm, net, res)
        assert rep["links_model"] == "emulated" and rep["link_crossings"] == int(res.routing.per_channel["packets"].sum())


def test_packet_across_a_line_of_three_chips_by_hand():
    """Chips of 2 x 1 cores on a line 0 - 1 - 2.  A chip's k-th neighbour (by index) is served by
    its core k * 2 // degree: chip 0's link to 1 and chip 2's link to 1 leave from core 0; chip 1
    reaches 0 from core 0 and 2 from core 1.  A packet from chip 0 to chip 2 goes XY to chip 0's
    port, over the link to chip 1's core 0, across chip 1 to its core 1, over the link to chip 2's
    core 0, then XY to its target."""
    chip = load_chip("generic").replace(mesh=MeshSpec(width=2, height=1), core=CoreSpec(neurons=64, fan_in=4096, fan_out=4096))
    link = LinkSpec(latency_s=300e-9, bit_rate_hz=32e6, packet_bits=32, buffer_depth=4, energy_per_packet_joule=1e-10)
    system = SystemSpec(name="line", chip=chip, n_chips=3, topology=TopologySpec(kind="graph", edges=[(0, 1), (1, 2)]),
                        link=link)  # fmt: skip
    pops = tuple(Population(name=n, size=128, params=P) for n in ("A", "M", "B"))  # one chip each
    proj = Projection(pre="A", post="B", rule=Explicit(pre=np.arange(128), post=np.arange(128)), weight_volt=1e-4)
    net = Network(populations=pops, projections=(proj,))
    bm = map_board(net, system, options=BLOCK)
    assert bm.neuron_chip.tolist() == [0] * 128 + [1] * 128 + [2] * 128
    src = 100
    dst = 256 + src
    hops = abs(int(bm.neuron_core[src]) - 0) + abs(0 - 1) + abs(0 - int(bm.neuron_core[dst]))
    drive = SpikeTimesInput(population="A", times_s=[1e-3], neurons=[src], weight_volt=0.6)
    _, res = run_on_board(net, system, duration_s=0.01, inputs=[drive], board=bm, links="emulated")
    r = chip.router
    expected = hops * (1 / r.link_bandwidth_hz + r.hop_latency_s) + 2 * (1e-6 + 300e-9)
    assert res.routing.latency_s.tolist() == [pytest.approx(expected, rel=1e-12)]
    pairs = [tuple(p) for p in res.routing.mapping.channel_pair]
    crossed = [pairs[k] for k in np.flatnonzero(res.routing.per_channel["packets"])]
    assert crossed == [(0, 1), (1, 2)]


def test_cli_map_and_run_take_a_system(tmp_path, capsys):
    import json

    from neurochip.cli import main
    from neurochip.network.files import save_network

    net, _ = ring_network(2400, 30)
    save_network(net, tmp_path / "ring.npz")
    ring = str(tmp_path / "ring.npz")
    assert main(["map", ring, "--system", "dynapse2-x4", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["system"] == "dynapse2-x4" and rep["chips_used"] == 3 and rep["n_synapses"] == 72_000
    out = tmp_path / "board.run"  # written exactly as named
    assert main(["run", ring, "--system", "dynapse2-x4", "--duration", "20 ms", "--poisson", "E:3kHz:2mV",
                 "-o", str(out), "--json"]) == 0  # fmt: skip
    rep = json.loads(capsys.readouterr().out)
    assert rep["links_model"] == "emulated" and rep["output"] == str(out) and out.exists()
    saved = np.load(out)
    header = json.loads(str(saved["header"]))
    assert header["format"] == "neurochip-board-run"
    assert int(saved["spike_counts"].sum()) == sum(c["spikes"] for c in rep["chips"]) == saved["event_time_s"].size
    assert header["report"]["link_crossings"] == rep["link_crossings"]
    # a board run is not a one-chip run file: report says what it is
    assert main(["report", "energy", str(out)]) == 1
    assert "a board run (neurochip run --system)" in capsys.readouterr().err
    # --chip and --system exclude each other; the input is never overwritten
    assert main(["run", ring, "--system", "dynapse2-x4", "--chip", "loihi", "-o", str(tmp_path / "x.npz")]) == 1
    assert "give one" in capsys.readouterr().err
    before = (tmp_path / "ring.npz").read_bytes()
    assert main(["run", ring, "--system", "dynapse2-x4", "-o", ring]) == 1
    assert "refusing to overwrite an input" in capsys.readouterr().err
    assert (tmp_path / "ring.npz").read_bytes() == before
    assert not (tmp_path / "x.npz").exists()
