"""Energy: the priced sum of the counters, worked out by hand on a chain and a fan-out tree."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from neurochip.chip import CoreSpec, EnergySpec, load_chip
from neurochip.energy import OperationCounts, expected_counts, price
from neurochip.errors import InvalidParameterError
from neurochip.mapping import MappingOptions, map_synapses

# Powers of two so that every product below is exact in binary floating point.
E = EnergySpec(
    spike_joule=2.0**-30,
    synaptic_event_joule=2.0**-31,
    neuron_update_joule=2.0**-32,
    neuron_update_inactive_joule=2.0**-33,
    hop_ew_joule=2.0**-34,
    hop_ns_joule=2.0**-35,
    core_packet_joule=2.0**-36,
    static_power_per_core_watt=2.0**-10,
)


def tiny_chip(w, h, neurons_per_core):
    chip = load_chip("generic").with_mesh(w, h)
    return dataclasses.replace(chip, energy=E, core=CoreSpec(neurons=neurons_per_core, fan_in=1000, fan_out=1000))


def csr(pre, post, n):
    pre, post = np.asarray(pre), np.asarray(post)
    order = np.lexsort((post, pre))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(pre, minlength=n), out=indptr[1:])
    return indptr, post[order]


def test_chain_by_hand():
    # 0 -> 1 -> 2 -> 3, one neuron per core on a 4 x 1 mesh: each link is one east/west hop.
    indptr, indices = csr([0, 1, 2], [1, 2, 3], 4)
    chip = tiny_chip(4, 1, 1)
    m = map_synapses(indptr, indices, chip, options=MappingOptions(partitioner="block"))
    assert m.hops() == (1.0, 1)
    rates = np.array([8.0, 8.0, 8.0, 8.0])  # each fires 8 spikes in 1 s
    counts = expected_counts(m, indptr, indices, rates, 1.0)
    # by hand: 32 spikes; neurons 0,1,2 each send 8 packets one hop; 24 synaptic events and updates
    assert counts.total("spikes") == 32
    assert counts.total("synaptic_events") == 24
    assert counts.total("neuron_updates") == 24
    assert counts.total("hops_ew") == 24 and counts.total("hops_ns") == 0
    assert counts.total("core_packets") == 0
    r = price(counts, chip)
    dynamic = 32 * 2.0**-30 + 24 * 2.0**-31 + 24 * 2.0**-32 + 24 * 2.0**-34
    assert r.dynamic_joule == dynamic  # exact: powers of two
    assert r.static_joule == 4 * 2.0**-10 * 1.0
    assert r.total_joule == dynamic + 4 * 2.0**-10
    assert r.energy_per_synaptic_event_joule == r.total_joule / 24
    assert r.average_power_watt == r.total_joule


def test_fan_out_tree_by_hand():
    # root 0 -> 1..4 (one core each, on a 3 x 3 mesh with the root in the middle after placement
    # or not: hops are counted from the routes, so compare with the routes' own XY lengths).
    indptr, indices = csr([0, 0, 0, 0, 1, 1], [1, 2, 3, 4, 5, 6], 7)
    chip = tiny_chip(3, 3, 1)
    m = map_synapses(indptr, indices, chip)
    rates = np.zeros(7)
    rates[0], rates[1] = 4.0, 2.0  # root fires 4 spikes, neuron 1 fires 2
    counts = expected_counts(m, indptr, indices, rates, 1.0)
    # multicast at the source: the root sends 4 x 4 packets, neuron 1 sends 2 x 2
    w = chip.mesh.width
    core = m.neuron_core
    hops_root = sum(abs(core[0] % w - core[t] % w) + abs(core[0] // w - core[t] // w) for t in (1, 2, 3, 4))
    hops_n1 = sum(abs(core[1] % w - core[t] % w) + abs(core[1] // w - core[t] // w) for t in (5, 6))
    assert counts.total("hops_ew") + counts.total("hops_ns") == 4 * hops_root + 2 * hops_n1
    assert counts.total("synaptic_events") == 4 * 4 + 2 * 2
    assert counts.total("spikes") == 6
    r = price(counts, chip, cores_powered=7)
    expected = (
        6 * E.spike_joule
        + 20 * E.synaptic_event_joule
        + 20 * E.neuron_update_joule
        + counts.total("hops_ew") * E.hop_ew_joule
        + counts.total("hops_ns") * E.hop_ns_joule
    )
    assert r.dynamic_joule == expected
    assert r.static_joule == 7 * E.static_power_per_core_watt
    assert r.by_core.sum() == pytest.approx(r.dynamic_joule, rel=1e-15)


def test_counts_validation():
    with pytest.raises(InvalidParameterError, match="duration_s = 0: must be > 0"):
        OperationCounts(duration_s=0, per_core={})
    with pytest.raises(InvalidParameterError, match="unknown operation"):
        OperationCounts(duration_s=1, per_core={"flops": np.zeros(1)})
    counts = OperationCounts(duration_s=1, per_core={"spikes": np.ones(3)})
    with pytest.raises(InvalidParameterError, match=r"shape \(3,\), expected \(16,\)"):
        price(counts, load_chip("generic"))
