"""Chip-addressed routing entries (CoreSpec.route_entries = "chip", DYNAP-SE2): a neuron's targets
on any cores of one chip take one routing entry; core-addressed entries count one per core."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from neurochip.board_mapping import map_board
from neurochip.chip import CoreSpec, MeshSpec, load_chip
from neurochip.errors import InvalidParameterError, MappingError
from neurochip.lif import LIFParams
from neurochip.mapping import MappingOptions, map_network
from neurochip.network import Explicit, FixedInDegree, Network, Population, Projection
from neurochip.system import load_system

P = LIFParams()


def fan_net() -> Network:
    """Neuron 0 of A -> all 12 neurons of B; with 4 neurons per core B fills 3 cores."""
    pops = (Population(name="A", size=4, params=P), Population(name="B", size=12, params=P))
    rule = Explicit(pre=np.zeros(12, int), post=np.arange(12))
    return Network(populations=pops, projections=(Projection(pre="A", post="B", rule=rule, weight_volt=1e-3),))


@pytest.mark.parametrize("entries, expected", [("core", 3), ("chip", 1)])
def test_entries_of_one_neuron_on_one_chip(entries, expected):
    chip = load_chip("generic").replace(mesh=MeshSpec(width=4, height=1),
                                        core=CoreSpec(neurons=4, fan_in=64, fan_out=64, route_entries=entries))  # fmt: skip
    m = map_network(fan_net(), chip, options=MappingOptions(partitioner="block"))
    assert m.cores_used == 4
    # neuron A0's targets sit on the three cores of B: 3 entries, or 1 chip-addressed entry
    assert int(m.core_fan_out[m.neuron_core[0]]) == expected
    assert int(m.core_fan_out.sum()) == expected
    # the packets (one per destination core) are the same either way
    assert m.route_indptr[1] - m.route_indptr[0] == 3


def test_fan_out_per_neuron_counts_chips_when_chip_addressed():
    core = CoreSpec(neurons=4, fan_in=64, fan_out=64, fan_out_per_neuron=2, route_entries="core")
    chip = load_chip("generic").replace(mesh=MeshSpec(width=4, height=1), core=core)
    with pytest.raises(MappingError, match="fan_out_per_neuron of A\\[0\\] is 3 destination cores"):
        map_network(fan_net(), chip, options=MappingOptions(partitioner="block"))
    chip = chip.replace(core=dataclasses.replace(core, route_entries="chip"))
    assert map_network(fan_net(), chip, options=MappingOptions(partitioner="block")).cores_used == 4


def test_dynapse2_board_holds_clusters_that_core_addressing_refuses():
    """Four clusters of 1,024 neurons, 20 inputs each from their own cluster and 2 from the next:
    per neuron up to 4 destination cores on its chip and a few on the next chip.  Core-addressed,
    the routing tables overflow (docs/boards.md); DYNAP-SE2's entries name a chip and a core mask,
    so each neuron needs at most 2 and the board holds it."""
    system = load_system("dynapse2-x4")
    assert system.chip.core.route_entries == "chip"
    pops = tuple(Population(name=f"C{i}", size=1024, params=P) for i in range(4))
    proj = []
    for i in range(4):
        proj.append(Projection(pre=f"C{i}", post=f"C{i}", rule=FixedInDegree(k=20), weight_volt=1e-4))
        proj.append(Projection(pre=f"C{(i + 1) % 4}", post=f"C{i}", rule=FixedInDegree(k=2), weight_volt=1e-4))
    net = Network(populations=pops, projections=tuple(proj), seed=3)
    bm = map_board(net, system)
    assert bm.chips_used == 4
    assert int(bm.core_fan_out.max()) <= system.chip.core.fan_out
    # core-addressed, the same board overflows a routing table
    core = dataclasses.replace(system.chip.core, route_entries="core")
    core_addressed = dataclasses.replace(system, chip=system.chip.replace(core=core))
    with pytest.raises(MappingError, match="fan_out"):
        map_board(net, core_addressed)


def test_bad_route_entries_is_named():
    with pytest.raises(InvalidParameterError, match="route_entries = 'axon': must be 'core' or 'chip'"):
        CoreSpec(neurons=4, fan_in=64, fan_out=64, route_entries="axon")
