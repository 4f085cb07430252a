"""The activity sweep on the loihi preset: energy per synaptic event falls, time per step rises."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from neurochip.chip import load_chip
from neurochip.errors import InvalidParameterError
from neurochip.network import Network, Population
from neurochip.stepped import activity_sweep, sweep_network

RATES = [2.0, 5.0, 20.0, 80.0]


@pytest.fixture(scope="module")
def chip():
    loihi = load_chip("loihi")
    return loihi.replace(core=dataclasses.replace(loihi.core, neurons=32))  # several cores: a busiest one


@pytest.mark.parametrize("pace", [None, 1e-3])
def test_energy_per_event_falls_and_step_time_rises(chip, pace):
    rows = activity_sweep(chip, RATES, network=sweep_network(40, 80, 20), steps=200, paced_step_s=pace)
    per_event = np.array([r["energy_per_synaptic_event_joule"] for r in rows])
    overhead = np.array([(r["inactive_joule"] + r["static_joule"]) / r["synaptic_events"] for r in rows])
    step = np.array([r["time_per_step_mean_s"] for r in rows])
    busiest = np.array([r["busiest_core_load_s"] for r in rows])
    events = np.array([r["synaptic_events"] for r in rows])
    assert np.all(np.diff(events) > 0)
    assert np.all(np.diff(per_event) < 0)  # amortised: strictly falling
    assert np.all(np.diff(overhead) < 0)  # inactive updates + static, per event
    # rising with the busiest core's load; "within noise": a step may not shrink by more than 1 %
    assert np.all(np.diff(busiest) > -0.01 * busiest[:-1]) and busiest[-1] > 1.5 * busiest[0]
    assert np.all(np.diff(step) > -0.01 * step[:-1]) and step[-1] > step[0]
    # the step is the busiest core's load plus what every step pays (barrier, mesh)
    assert np.all(step >= busiest)
    assert all(r["execution_model"] == "time_stepped" for r in rows)


def test_sweep_refuses_bad_input(chip):
    with pytest.raises(InvalidParameterError, match="rates_hz"):
        activity_sweep(chip, [-1.0], network=sweep_network(4, 8, 2), steps=5)
    with pytest.raises(InvalidParameterError, match="input"):
        activity_sweep(chip, [1.0], network=Network(populations=(Population(name="A", size=3),)), steps=5)
