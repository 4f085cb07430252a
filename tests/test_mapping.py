"""Mapping: capacities hold, routes are right, clusters stay together, overflows are named."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from neurochip.chip import CoreSpec, load_chip
from neurochip.errors import MappingError
from neurochip.mapping import MappingOptions, map_synapses
from neurochip.mesh import link_loads, xy_hops


def chip_with(neurons, fan_in, fan_out, w=4, h=4):
    chip = load_chip("generic")
    return dataclasses.replace(chip.with_mesh(w, h), core=CoreSpec(neurons=neurons, fan_in=fan_in, fan_out=fan_out))


def csr_from_pairs(pre, post, n):
    order = np.lexsort((post, pre))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(pre, minlength=n), out=indptr[1:])
    return indptr, np.asarray(post)[order]


def random_net(rng, n, p):
    adj = rng.random((n, n)) < p
    pre, post = np.nonzero(adj)
    return csr_from_pairs(pre, post, n)


def test_xy_link_loads_by_hand():
    w, h = 3, 3
    traffic = np.zeros((9, 9))
    traffic[0, 2 + 1 * w] = 5.0  # (0,0) -> (2,1): east over (0,0),(1,0); north over (2,0)
    traffic[8, 0] = 2.0  # (2,2) -> (0,0): west over (2,2),(1,2); south over (0,2),(0,1)
    loads = link_loads(traffic, w, h)
    expected = np.zeros((9, 4))
    expected[0, 0] = expected[1, 0] = 5.0
    expected[2, 2] = 5.0
    expected[8, 1] = expected[7, 1] = 2.0
    expected[6, 3] = expected[3, 3] = 2.0
    np.testing.assert_array_equal(loads, expected)
    assert list(xy_hops([0, 8], [5, 0], w)) == [3, 4]


def test_capacities_hold_and_routes_match_targets(rng):
    n = 300
    indptr, indices = random_net(rng, n, 0.05)
    chip = chip_with(neurons=40, fan_in=700, fan_out=400)
    m = map_synapses(indptr, indices, chip)
    assert np.all(m.core_neurons <= 40)
    assert np.all(m.core_fan_in <= 700)
    assert np.all(m.core_fan_out <= 400)
    assert m.core_neurons.sum() == n
    assert m.core_fan_in.sum() == indices.size
    # the routing table of each neuron is exactly the set of cores holding its targets
    for i in range(n):
        targets = indices[indptr[i] : indptr[i + 1]]
        expected = sorted({int(m.neuron_core[t]) for t in targets})
        assert list(m.route_cores[m.route_indptr[i] : m.route_indptr[i + 1]]) == expected
    crossing = sum(
        int(m.neuron_core[i] != m.neuron_core[t]) for i in range(n) for t in indices[indptr[i] : indptr[i + 1]]
    )
    assert m.n_synapses_crossing == crossing


def test_metis_recovers_planted_clusters(rng):
    n_clusters, size = 8, 64
    n = n_clusters * size
    cluster = np.repeat(np.arange(n_clusters), size)
    perm = rng.permutation(n)  # hide the clusters behind shuffled indices
    cl = cluster[perm]
    same = cl[:, None] == cl[None, :]
    adj = rng.random((n, n)) < np.where(same, 0.3, 0.005)
    np.fill_diagonal(adj, False)
    pre, post = np.nonzero(adj)
    indptr, indices = csr_from_pairs(pre, post, n)
    planted_crossing = np.count_nonzero(cl[pre] != cl[post]) / pre.size
    chip = chip_with(neurons=size, fan_in=10**6, fan_out=10**6)
    metis = map_synapses(indptr, indices, chip)
    block = map_synapses(indptr, indices, chip, options=MappingOptions(partitioner="block"))
    f_metis = metis.n_synapses_crossing / metis.n_synapses
    f_block = block.n_synapses_crossing / block.n_synapses
    assert f_metis <= planted_crossing * 1.05
    assert f_block > 0.5  # without the graph the clusters are scattered
    # placement keeps each chain of communicating cores close: mean hops below a random placement
    mean_hops, _ = metis.hops()
    assert mean_hops < 2.5


def test_placement_puts_a_chain_of_cores_side_by_side():
    # 4 groups of 10 neurons; group g feeds group g+1 only: a chain of cores.
    n = 40
    pre = np.concatenate([np.repeat(np.arange(g * 10, g * 10 + 10), 10) for g in range(3)])
    post = np.concatenate([np.tile(np.arange((g + 1) * 10, (g + 2) * 10), 10) for g in range(3)])
    indptr, indices = csr_from_pairs(pre, post, n)
    chip = chip_with(neurons=10, fan_in=1000, fan_out=1000, w=6, h=6)
    m = map_synapses(indptr, indices, chip, options=MappingOptions(partitioner="block"))
    mean_hops, max_hops = m.hops()
    assert mean_hops == 1.0 and max_hops == 1


def test_too_many_neurons_names_capacity_and_suggests_mesh(rng):
    indptr, indices = random_net(rng, 100, 0.01)
    chip = chip_with(neurons=10, fan_in=10**6, fan_out=10**6, w=3, h=3)
    with pytest.raises(MappingError, match=r"neurons \(whole chip\) needs 100, has 90 \(over by 10\).*4 x 3 = 12 cores") as exc:
        map_synapses(indptr, indices, chip)
    assert exc.value.capacity == "neurons" and exc.value.required == 100 and exc.value.available == 90


def test_fan_in_of_one_neuron_too_large():
    n = 20
    pre = np.arange(1, n)
    post = np.zeros(n - 1, dtype=int)
    indptr, indices = csr_from_pairs(pre, post, n)
    chip = chip_with(neurons=32, fan_in=10, fan_out=100)
    with pytest.raises(MappingError, match=r"fan_in of pop\[0\] is 19 synapses.*\(10; over by 9\)"):
        map_synapses(indptr, indices, chip, neuron_names=lambda i: f"pop[{i}]")


def test_fan_out_overflow_is_named():
    # one neuron projecting to every other neuron, on cores of 2 neurons: 10 destination cores
    n = 20
    pre = np.zeros(n - 1, dtype=int)
    post = np.arange(1, n)
    indptr, indices = csr_from_pairs(pre, post, n)
    chip = chip_with(neurons=2, fan_in=100, fan_out=5, w=5, h=2)
    with pytest.raises(MappingError, match=r"fan_out of core \d+ needs 10, has 5") as exc:
        map_synapses(indptr, indices, chip)
    assert exc.value.capacity == "fan_out"


def test_rates_give_link_loads_in_packets_per_second(rng):
    n = 64
    indptr, indices = random_net(rng, n, 0.2)
    chip = chip_with(neurons=16, fan_in=10**5, fan_out=10**5, w=2, h=2)
    rates = rng.uniform(1, 50, n)
    m = map_synapses(indptr, indices, chip, rates_hz=rates)
    # total packets/s leaving cores = sum over neurons of rate x number of destination cores
    per_neuron = np.diff(m.route_indptr)
    assert m.traffic.sum() == pytest.approx(np.sum(rates * per_neuron))
    report = m.report()
    assert report["link_utilisation_max"] == pytest.approx(m.link_load.max() / chip.router.link_bandwidth_hz)


def test_per_neuron_and_axon_capacities():
    n = 20
    pre = np.zeros(n - 1, dtype=int)
    post = np.arange(1, n)
    indptr, indices = csr_from_pairs(pre, post, n)
    base = load_chip("generic").with_mesh(5, 2)
    # neuron 0 reaches 10 cores of 2 neurons: one destination is allowed per neuron
    chip = dataclasses.replace(base, core=CoreSpec(neurons=2, fan_in=100, fan_out=100, fan_out_per_neuron=1))
    with pytest.raises(MappingError, match=r"fan_out_per_neuron of neuron 0 is \d+ destination cores.*relay") as exc:
        map_synapses(indptr, indices, chip)
    assert exc.value.capacity == "fan_out_per_neuron"
    # one neuron receiving 19 synapses on a chip whose neurons hold 8
    indptr2, indices2 = csr_from_pairs(post, pre, n)
    chip = dataclasses.replace(base, core=CoreSpec(neurons=4, fan_in=100, fan_out=100, fan_in_per_neuron=8))
    with pytest.raises(MappingError, match=r"fan_in_per_neuron of neuron 0 is 19 synapses, a neuron holds 8 \(over by 11\)"):
        map_synapses(indptr2, indices2, chip)
    # the same 19 sources converge on one core that accepts 8 input axons: no number of cores helps
    chip = dataclasses.replace(base, core=CoreSpec(neurons=4, fan_in=100, fan_out=100, axons_in=8))
    with pytest.raises(MappingError, match=r"axons_in of core \d+ needs \d+, has 8"):
        map_synapses(indptr2, indices2, chip)


def test_axons_in_counts_distinct_sources(rng):
    indptr, indices = random_net(rng, 120, 0.1)
    chip = chip_with(neurons=30, fan_in=10**5, fan_out=10**5, w=3, h=3)
    chip = dataclasses.replace(chip, core=dataclasses.replace(chip.core, axons_in=119))
    m = map_synapses(indptr, indices, chip)
    pre = np.repeat(np.arange(120), np.diff(indptr))
    for c in range(chip.n_cores):
        sources = set(pre[m.neuron_core[indices] == c].tolist())
        assert m.core_axons_in[c] == len(sources) <= 119
