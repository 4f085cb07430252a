"""NeuroBench metrics against hand counts on a small network run in the emulator."""

from __future__ import annotations

import pytest

from neurochip.emulator import run
from neurochip.errors import InvalidParameterError
from neurochip.lif import LIFParams
from neurochip.network import Explicit, Network, Population, Projection, SpikeTimesInput
from neurochip.neurobench import neurobench_metrics


def test_metrics_equal_hand_counts_on_a_small_network():
    # a (3 relays) -> b (2 neurons): synapses a0->b0 (twice, at two delays), a1->b0, a2->b1; a 1 V jump
    # fires a relay once; each b neuron fires when 2 inputs of 0.6 V have arrived (threshold 1 V, slow leak)
    relay = LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-9, v_th_volt=0.5, t_ref_s=0.0)
    slow = LIFParams(c_m_farad=1.0, g_leak_siemens=1e-6, v_th_volt=1.0, t_ref_s=0.0)
    rule = Explicit(pre=[0, 0, 1, 2], post=[0, 0, 0, 1], weight_volt=[0.6] * 4, delay_s=[1e-3, 2e-3, 1e-3, 1e-3])
    net = Network(populations=(Population(name="a", size=3, params=relay), Population(name="b", size=2, params=slow)),
                  projections=(Projection(pre="a", post="b", rule=rule, delay_s=1e-3),))  # fmt: skip
    times = [1e-3, 3e-3, 5e-3, 2e-3, 4e-3]
    chans = [0, 0, 0, 1, 2]
    res = run(net, duration_s=0.01, inputs=[SpikeTimesInput(population="a", times_s=times, neurons=chans,
                                                             weight_volt=1.0)])  # fmt: skip
    counts = res.spike_counts
    assert counts[:3].tolist() == [3, 1, 1]
    m = neurobench_metrics(net, counts, duration_s=0.01, dt_s=1e-3)
    # by hand: relay 0 has 2 synapses, relays 1 and 2 one each
    assert m["SynapticOperations"]["Effective_ACs"] == 3 * 2 + 1 + 1
    assert m["SynapticOperations"]["Effective_MACs"] == 0.0
    assert m["SynapticOperations"]["Dense"] == 3 * 2 * 10  # one 3 x 2 layer, 10 steps
    assert m["ConnectionSparsity"] == 1 - 3 / 6  # pairs (0,0), (1,0), (2,1) of 6; the multapse counts once
    n_spikes = int(counts.sum())
    assert m["ActivationSparsity"] == pytest.approx(1 - n_spikes / (5 * 10), abs=1e-15)
    assert m["MembraneUpdates"]["time_stepped"] == 5 * 10
    # footprint: 4 synapses x 8 B + row pointers (relay 0: two delays, relays 1, 2: one each) x 8 B + 5 x 96 B
    assert m["Footprint_bytes"] == 4 * 8 + 4 * 8 + 5 * 96
    assert "modelled" in m["note"]
    # leaving b out (as a readout would be) changes the activation counts only
    m2 = neurobench_metrics(net, counts, duration_s=0.01, dt_s=1e-3, skip=["b"])
    assert m2["ActivationSparsity"] == pytest.approx(1 - 5 / 30, abs=1e-15)
    with pytest.raises(InvalidParameterError, match="spike_counts has 2 values"):
        neurobench_metrics(net, counts[:2], duration_s=0.01, dt_s=1e-3)
