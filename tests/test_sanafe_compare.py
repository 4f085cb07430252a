"""The neurochip side of benchmarks/sanafe_compare.py (SANA-FE itself is not in this environment).

The comparison rests on one claim: on the dt = 2^-10 s grid with one-step delays, no refractory
period and E_L = 0, the exact event-driven emulator produces the spikes of the time-stepped
recursion V[s] = exp(-dt/tau) V[s-1] + input[s], fire when V > threshold, hard reset -- the form
SANA-FE's LIF soma computes.  The recursion is written out here in numpy, from the JSON
description the benchmark hands to SANA-FE, and compared spike for spike with the emulator.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from neurochip.emulator import run

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "sanafe_compare.py"


@pytest.fixture(scope="module")
def sc():
    spec = importlib.util.spec_from_file_location("sanafe_compare_bench", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_grid_times_are_exact(sc):
    # every spike at s dt arrives at (s + 1) dt exactly: the instants of both simulators coincide
    s = np.arange(0, 200_000, dtype=np.float64)
    assert np.array_equal(s * sc.DT_S + sc.DT_S, (s + 1) * sc.DT_S)


def test_tile_index_matches_sanafe_numbering(sc):
    # measured on SANA-FE 2.2.9 (2 x 2 mesh, a distinct energy per direction): tile 0 -> 1 is a
    # north hop and tile 0 -> 2 an east hop, so mesh (x=1, y=0) is tile 2 and (x=0, y=1) tile 1
    assert [sc.tile_index(c, 2, 2) for c in range(4)] == [0, 2, 1, 3]
    for width, height in ((3, 2), (2, 5), (1, 4), (4, 1)):
        tiles = [sc.tile_index(c, width, height) for c in range(width * height)]
        assert sorted(tiles) == list(range(width * height))


def test_threshold_is_the_double_below(sc):
    thr = sc.sanafe_threshold(sc.V_TH_VOLT)
    v_th_units = sc.V_TH_VOLT * sc.UNITS_PER_VOLT
    assert thr < v_th_units and not v_th_units > math.nextafter(thr, math.inf) > thr


def test_input_trains_are_seeded_and_bounded(sc):
    a = sc.input_spike_steps(50, 600, 40.0, seed=3)
    b = sc.input_spike_steps(50, 600, 40.0, seed=3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    flat = np.concatenate(a)
    assert flat.min() >= 1 and flat.max() <= 600 - sc.QUIET_STEPS
    n = 50 * (600 - sc.QUIET_STEPS)
    p = 40.0 * sc.DT_S
    assert abs(flat.size - n * p) < 5 * math.sqrt(n * p * (1 - p))
    with pytest.raises(ValueError, match="rate x dt"):
        sc.input_spike_steps(2, 10, 2000.0, seed=0)


def test_spike_set_rejects_off_grid_times(sc):
    net = sc.build_network(4, 4, 2, seed=0)
    with pytest.raises(ValueError, match="off the dt grid"):
        sc.spike_set(np.array([1.5 * sc.DT_S]), np.array([5], np.int32), net)
    got = sc.spike_set(np.array([3 * sc.DT_S, 3 * sc.DT_S]), np.array([0, 5], np.int32), net)
    assert got == {(3, "E", 1)}  # the relay neuron's spike is left out


def test_categories_add_up(sc):
    ops = {"spikes": 1.0, "synaptic_events": 2.0, "neuron_updates": 4.0, "neuron_updates_inactive": 8.0,
           "hops_ew": 16.0, "hops_ns": 32.0, "core_packets": 64.0}  # fmt: skip
    cat = sc.neurochip_by_category(ops)
    assert cat == {"synapse": 2.0, "dendrite": 0.0, "soma": 13.0, "network": 112.0}


def _time_stepped(desc: dict) -> set[tuple[int, str, int]]:
    """SANA-FE's LIF recursion written out from the description: leak, truncate to 1/64 of the
    unit, add the inputs of spikes from the step before, fire when V > threshold, hard reset."""
    groups = desc["groups"]
    offset, k = {}, 0
    for g in groups:
        offset[g["name"]] = k
        k += g["size"]
    n, steps_n = k, desc["timesteps"]
    w = np.zeros((n, n))
    for c in desc["connections"]:
        pairs = np.asarray(c["pairs"])
        np.add.at(w, (pairs[:, 0] + offset[c["pre"]], pairs[:, 1] + offset[c["post"]]),
                  np.float32(c["weights"]).astype(np.float64))  # fmt: skip
    lif = np.zeros(n, bool)
    thr, reset, decay = np.full(n, np.inf), np.zeros(n), np.ones(n)
    forced = np.zeros((steps_n + 1, n), bool)
    for g in groups:
        sl = slice(offset[g["name"]], offset[g["name"]] + g["size"])
        if g["kind"] == "lif":
            lif[sl], thr[sl], reset[sl], decay[sl] = True, g["threshold"], g["reset"], g["leak_decay"]
        else:
            for i, st in enumerate(g["spike_steps"]):
                forced[np.asarray(st, dtype=np.int64), offset[g["name"]] + i] = True
    names = [g["name"] for g in groups for _ in range(g["size"])]
    local = [i for g in groups for i in range(g["size"])]
    v = np.zeros(n)
    fired = np.zeros(n, bool)
    out = set()
    for s in range(1, steps_n + 1):
        inp = fired.astype(np.float64) @ w
        v = np.trunc(v * decay * 64.0) / 64.0 + inp
        fired = forced[s] | (lif & (v > thr))
        v[fired & lif] = reset[fired & lif]
        out.update((s, names[j], local[j]) for j in np.flatnonzero(fired & lif))
    return out


def test_emulator_equals_the_time_stepped_recursion(sc):
    timesteps = 300
    net = sc.build_network(40, 96, 24, seed=5)
    steps = sc.input_spike_steps(40, timesteps, 25.0, seed=5)
    res = run(net, duration_s=(timesteps + 0.5) * sc.DT_S, inputs=sc.neurochip_inputs(steps), seed=5)
    chip = sc.chip_for_comparison(net.n_neurons, 64)
    desc = sc.sanafe_description(net, np.zeros(net.n_neurons, np.int32), chip, steps, timesteps)
    emulated = sc.spike_set(res.events["time_s"], res.events["address"], net)
    reference = _time_stepped(desc)
    assert len(reference) > 100  # the network is active, so the comparison says something
    assert emulated == reference
    # every relay neuron fired exactly at its given steps
    relay = res.spike_counts[: net.population("input").size]
    assert np.array_equal(relay, [s.size for s in steps])
