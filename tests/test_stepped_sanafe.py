"""The neurochip side of ``benchmarks/sanafe_compare.py --stepped`` (SANA-FE is not in this env).

The comparison rests on one claim: with SANA-FE's potential unit set to 2^6 of Loihi's v units,
SANA-FE's float soma (V <- leak V, truncated to 1/64 of a unit, + the step's input, fire when
V > threshold, reset to 0) computes exactly Loihi's integers on the description the benchmark
hands it.  That recursion is written out here from the description alone and compared, spike for
spike and step for step, with the stepped engine.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "sanafe_compare.py"


@pytest.fixture(scope="module")
def sc():
    spec = importlib.util.spec_from_file_location("sanafe_compare_bench_stepped", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def sanafe_soma_recursion(desc: dict) -> set[tuple[int, str, int]]:
    """SANA-FE's LIF soma form, in floats, on the description: (1-based step, group, index)."""
    groups = {g["name"]: g for g in desc["groups"]}
    lif = [g for g in desc["groups"] if g["kind"] == "lif"]
    v = {g["name"]: np.zeros(g["size"]) for g in lif}
    inp = np.zeros((desc["timesteps"] + 2, groups["input"]["size"]), dtype=bool)
    for i, s in enumerate(groups["input"]["spike_steps"]):
        inp[np.asarray(s, dtype=np.int64), i] = True
    fired = {name: np.zeros(g["size"], dtype=bool) for name, g in groups.items()}
    spikes = set()
    for step in range(1, desc["timesteps"] + 1):
        current = {g["name"]: np.zeros(g["size"]) for g in lif}
        for con in desc["connections"]:  # spikes of the previous step arrive now
            pairs = np.asarray(con["pairs"], dtype=np.int64).reshape(-1, 2)
            w = np.asarray(con["weights"])
            sel = fired[con["pre"]][pairs[:, 0]]
            np.add.at(current[con["post"]], pairs[sel, 1], w[sel])
        new = {"input": inp[step]}
        for g in lif:
            x = v[g["name"]] * g["leak_decay"]
            x = np.trunc(x * 64) / 64  # SANA-FE truncates to 1/64 of its unit
            x = x + current[g["name"]]
            f = x > g["threshold"]
            x[f] = g["reset"]
            v[g["name"]] = x
            new[g["name"]] = f
            spikes |= {(step, g["name"], int(i)) for i in np.flatnonzero(f)}
        fired = new
    return spikes


@pytest.mark.parametrize("rate", [20.0, 80.0])
def test_sanafe_form_of_the_description_fires_as_the_engine(sc, rate):
    args = argparse.Namespace(n_input=40, n_exc=96, n_inh=24, seed=2, neurons_per_core=64, timesteps=200,
                              timing_model="simple", repeat=1, backend="compiled")
    nc, desc, spikes = sc.run_stepped_side(args, rate)
    assert desc["perf_trace"] and desc["charge_access"]
    for g in desc["groups"]:
        if g["kind"] == "lif":
            assert g["leak_decay"] * 4096 == round(g["leak_decay"] * 4096)  # exact in binary
    for con in desc["connections"]:
        assert all(float(w).is_integer() for w in con["weights"])
    assert sanafe_soma_recursion(desc) == spikes
    assert len(spikes) > 20
    # energies and latencies put into SANA-FE add up to the preset's: access + update = active
    e, lat = desc["energy"], desc["latency"]
    assert math.isclose(e["neuron_update_joule"] + e["neuron_update_inactive_joule"], 81e-12)
    assert math.isclose(lat["neuron_update_s"] + lat["access_s"], 8.4e-9)
    assert lat["sync_s"] == pytest.approx(465e-9)
    assert e["core_packet_joule"] == 0.0
