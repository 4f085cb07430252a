"""The time-stepped engine: counts, energy and time worked out by hand on the loihi preset, and
Loihi's integer neuron against an independent implementation of Lava's documented update."""

from __future__ import annotations

import numpy as np
import pytest

from neurochip.chip import ExecutionSpec, load_chip
from neurochip.errors import InvalidParameterError
from neurochip.lif import LIFParams
from neurochip.models.cuba import Cuba
from neurochip.network import Explicit, FixedInDegree, Network, Population, Projection
from neurochip.stepped import quantise_network, run_stepped, step_times, stepped_report
from neurochip.stepped.report import format_stepped_report

PIF = LIFParams(c_m_farad=100e-12, g_leak_siemens=0.0, v_th_volt=0.02, v_reset_volt=0.0, e_leak_volt=0.0, t_ref_s=0.0)


def chain_network() -> Network:
    """N0 (biased perfect integrator, fires every 10th step) -> N1 -> N2, each spike passed on."""
    # bias chosen so that b = 26216 v units per step (3277 << 3): 10 b > 2^6 * 4096 > 9 b
    q = 0.02 / (64 * 4096)
    bias = 26216 * q * PIF.c_m_farad / 1e-3
    return Network(
        populations=(Population(name="N", size=3, params=PIF, bias_current_amp=[bias, 0.0, 0.0]),),
        projections=(Projection(pre="N", post="N", rule=Explicit(pre=[0, 1], post=[1, 2]), weight_volt=0.03, delay_s=1e-3),),
    )


def test_three_neuron_energy_and_time_by_hand():
    chip = load_chip("loihi")
    en, ex = chip.energy, chip.execution
    steps = 1000
    run = run_stepped(chain_network(), chip, steps=steps, dt_s=1e-3)
    assert int(run.neurons.bias[0]) == 26216 and int(run.neurons.vth[0]) == 4096
    # N0 is biased, so active every step, and fires at steps 9, 19, ..., 999 (100 spikes).
    # N1 gets each spike one step later (10, ..., 990: the last one falls after the run) and fires
    # at once: active in that step (input), inactive otherwise (its delta-synapse current is
    # cleared by the next decay and its voltage was reset to 0).  N2 the same one step later.
    spikes = 100 + 99 + 99
    active = 1000 + 99 + 99
    inactive = 3 * steps - active
    syn = 100 + 99  # N0's and N1's spikes each read one synapse; N2 has none
    packets = syn  # one core: every packet stays in it
    raster = run.spike_raster()
    assert np.flatnonzero(raster[:, 0]).tolist() == list(range(9, 1000, 10))
    assert np.flatnonzero(raster[:, 1]).tolist() == list(range(10, 1000, 10))
    assert np.flatnonzero(raster[:, 2]).tolist() == list(range(11, 1000, 10))

    rep = stepped_report(run)
    assert (rep["spikes"], rep["neuron_updates_active"], rep["neuron_updates_inactive"]) == (spikes, active, inactive)
    assert (rep["synaptic_events"], rep["packets"], rep["cores_used"]) == (syn, packets, 1)
    # time: one core; each step lasts the longer of its receiving side (packets in, synapses) and
    # its updating side (updates, spikes, packets out), plus the barrier.  Four kinds of step:
    recv = ex.message_in_s + ex.synaptic_op_s  # one packet, one synapse
    kinds = (  # (steps of this kind, receiving side, updating side)
        (100, recv, ex.neuron_update_s + 2 * ex.neuron_update_inactive_s + ex.spike_out_s + ex.message_out_s),  # N0 fires
        (99, recv, 2 * ex.neuron_update_s + ex.neuron_update_inactive_s + ex.spike_out_s + ex.message_out_s),  # N1 fires
        (99, 0.0, 2 * ex.neuron_update_s + ex.neuron_update_inactive_s + ex.spike_out_s),  # N2 fires, sends nothing
        (702, 0.0, ex.neuron_update_s + 2 * ex.neuron_update_inactive_s),  # only N0's bias
    )
    assert sum(k[0] for k in kinds) == steps
    chip_time = sum(k * (max(r, u) + ex.barrier_s) for k, r, u in kinds)
    assert rep["chip_time_s"] == pytest.approx(chip_time, rel=1e-12)
    assert rep["steps_per_s"] == pytest.approx(steps / chip_time, rel=1e-12)
    assert rep["time_per_step_max_s"] == pytest.approx(max(max(r, u) for _, r, u in kinds) + ex.barrier_s, rel=1e-12)
    assert rep["time_per_step_min_s"] == pytest.approx(kinds[3][2] + ex.barrier_s, rel=1e-12)
    assert rep["realtime_met"] is True and rep["realtime_steps_missed"] == 0
    # energy, term by term
    by_op = rep["energy"]["by_operation_joule"]
    assert by_op["spikes"] == pytest.approx(spikes * en.spike_joule, abs=0)
    assert by_op["synaptic_events"] == pytest.approx(syn * en.synaptic_event_joule, rel=1e-12)
    assert by_op["neuron_updates"] == pytest.approx(active * en.neuron_update_joule, rel=1e-12)
    assert by_op["neuron_updates_inactive"] == pytest.approx(inactive * en.neuron_update_inactive_joule, rel=1e-12)
    assert by_op["core_packets"] == pytest.approx(packets * en.core_packet_joule, rel=1e-12)
    assert by_op["hops_ew"] == 0 and by_op["hops_ns"] == 0
    static = en.static_power_per_core_watt * 1 * chip_time
    assert rep["energy"]["static_joule"] == pytest.approx(static, rel=1e-12)
    dynamic = (syn * en.synaptic_event_joule + active * en.neuron_update_joule
               + inactive * en.neuron_update_inactive_joule + packets * en.core_packet_joule)
    assert rep["energy"]["total_joule"] == pytest.approx(dynamic + static, rel=1e-12)
    assert rep["energy_per_step_joule"] == pytest.approx((dynamic + static) / steps, rel=1e-12)
    assert "neuron updates active / inactive" in format_stepped_report(rep)


def test_idle_core_of_1024_neurons_by_hand():
    chip = load_chip("loihi")
    en, ex = chip.energy, chip.execution
    net = Network(populations=(Population(name="idle", size=1024, params=PIF),))
    run = run_stepped(net, chip, steps=1000, dt_s=1e-3)
    rep = stepped_report(run)
    inactive = 1024 * 1000
    assert rep["neuron_updates_inactive"] == inactive and rep["neuron_updates_active"] == 0
    assert rep["spikes"] == rep["synaptic_events"] == rep["packets"] == 0
    step = 1024 * ex.neuron_update_inactive_s + ex.barrier_s  # 5.8922 us
    assert rep["time_per_step_max_s"] == pytest.approx(step, rel=1e-12)
    assert rep["chip_time_s"] == pytest.approx(1000 * step, rel=1e-12)
    by_op = rep["energy"]["by_operation_joule"]
    assert by_op["neuron_updates_inactive"] == pytest.approx(inactive * 52e-12, rel=1e-12)  # 53.248 uJ
    assert en.neuron_update_inactive_joule == 52e-12
    assert sum(v for k, v in by_op.items() if k != "neuron_updates_inactive") == 0
    assert rep["energy"]["static_joule"] == pytest.approx(0.82e-3 * 1000 * step, rel=1e-12)  # 4.8316 uJ
    assert rep["energy"]["total_joule"] == pytest.approx(inactive * 52e-12 + 0.82e-3 * 1000 * step, rel=1e-12)
    # paced at the 1 ms real-time step, static power is paid for the whole second
    paced = stepped_report(run, paced_step_s=1e-3)
    assert paced["chip_time_s"] == pytest.approx(1.0, rel=1e-12)
    assert paced["energy"]["static_joule"] == pytest.approx(0.82e-3, rel=1e-12)


def test_fixed_tick_and_realtime_check():
    tn = load_chip("truenorth")
    run = run_stepped(chain_network(), tn, steps=50)
    st = step_times(run)
    assert np.all(st.step_s == 1e-3) and run.dt_s == 1e-3
    # a chip whose steps are too slow for 1 ms misses it, and the report says how often
    slow = load_chip("loihi")
    slow = slow.replace(execution=ExecutionSpec(model="time_stepped", neuron_update_s=2e-3, target_step_s=1e-3))
    rep = stepped_report(run_stepped(chain_network(), slow, steps=20, dt_s=1e-3))
    assert rep["realtime_met"] is False and rep["realtime_steps_missed"] == 20
    assert rep["time_per_step_max_s"] == pytest.approx(2 * 2e-3)  # at most two active neurons in a step


def test_a_run_without_chip_time_cannot_be_priced():
    chip = load_chip("loihi").replace(execution=ExecutionSpec(model="time_stepped"))
    run = run_stepped(chain_network(), chip, steps=5, dt_s=1e-3)
    with pytest.raises(InvalidParameterError, match="chip time is 0"):
        stepped_report(run)
    assert stepped_report(run, paced_step_s=1e-3)["chip_time_s"] == pytest.approx(5e-3)


def test_asynchronous_chip_is_refused():
    with pytest.raises(InvalidParameterError, match="generic.*asynchronous.*time_stepped"):
        run_stepped(chain_network(), load_chip("generic"), steps=10, dt_s=1e-3)


def test_activity_rule_all_counts_every_update_active():
    chip = load_chip("loihi")
    chip = chip.replace(execution=ExecutionSpec(model="time_stepped", activity_rule="all", neuron_update_s=1e-9))
    rep = stepped_report(run_stepped(chain_network(), chip, steps=100, dt_s=1e-3))
    assert rep["neuron_updates_active"] == 300 and rep["neuron_updates_inactive"] == 0
    # the "nonzero" rule of the same run: N0 always, N1 and N2 only in the step their input arrives
    loihi = stepped_report(run_stepped(chain_network(), load_chip("loihi"), steps=100, dt_s=1e-3))
    assert loihi["neuron_updates_active"] == 100 + 9 + 9


# --------------------------------------------------------------------------------------------
# Loihi's integer LIF against Lava's documented update, written again here, one neuron at a time


def _trunc_decay(x: int, factor: int) -> int:
    p = x * factor
    return -((-p) >> 12) if p < 0 else p >> 12


def lava_reference(neurons, synapses, n, steps, forced=None):
    """Lava's bit-accurate LIF + dense connection, scalar Python ints (independent of the engine).

    Per connection (Dense process), the weights of the spikes received at step t are summed and
    scaled by the weight exponent; the LIF of step t + 1 receives that sum (the Dense output is
    buffered one step).  LIF: u = wrap24(trunc(u (4096 - du - 1) / 4096) + (a << 6));
    v = clip(trunc(v (4096 - dv) / 4096) + u + bias); spike where v > vth << 6, then v = 0.
    """
    u = [0] * n
    v = [int(x) for x in neurons.v0]
    groups = len(synapses.weight_exp)
    pending = [[0] * n for _ in range(groups)]  # the Dense buffers
    us, vs, spikes = [], [], []
    for t in range(steps):
        a_in = [0] * n
        for g in range(groups):
            e = int(synapses.weight_exp[g])
            for i in range(n):
                acc = pending[g][i]
                a_in[i] += acc << e if e > 0 else acc >> -e  # >> floors, as numpy's right_shift
        pending = [[0] * n for _ in range(groups)]
        fired = []
        for i in range(n):
            du, dv = int(neurons.du[i]), int(neurons.dv[i])
            cu = _trunc_decay(u[i], 4096 - (du + 1)) + (a_in[i] << 6)
            if cu > 2**23:
                cu -= 2**24
            elif cu <= -(2**23):
                cu += 2**24
            u[i] = cu
            nv = _trunc_decay(v[i], 4096 - dv) + u[i] + (int(neurons.bias_mant[i]) << int(neurons.bias_exp[i]))
            v[i] = max(-(2**23) + 1, min(2**23 - 1, nv))
            if v[i] > int(neurons.vth[i]) << 6:
                v[i] = 0
                fired.append(i)
        if forced is not None:
            fired = sorted(set(fired) | set(np.flatnonzero(forced[t]).tolist()))
        for i in fired:
            for s in range(int(synapses.indptr[i]), int(synapses.indptr[i + 1])):
                pending[int(synapses.group[s])][int(synapses.indices[s])] += int(synapses.mant[s])
        us.append(list(u))
        vs.append(list(v))
        spikes.append(fired)
    return np.array(us), np.array(vs), spikes


def random_network(rng: np.random.Generator, n_exc=12, n_inh=5, n_lif=6) -> Network:
    def params(size):
        return {"v_th_volt": rng.uniform(0.015, 0.025, size), "g_leak_siemens": rng.uniform(2e-9, 20e-9, size)}

    base = LIFParams(c_m_farad=200e-12, g_leak_siemens=10e-9, v_th_volt=0.02, v_reset_volt=0.0, e_leak_volt=0.0, t_ref_s=0.0)
    pops = (
        Population(name="E", size=n_exc, params=base, per_neuron=params(n_exc), model=Cuba(tau_syn_exc_s=5e-3),
                   bias_current_amp=rng.uniform(0.1e-9, 0.35e-9, n_exc), v_init_volt=rng.uniform(0, 0.015, n_exc)),
        Population(name="I", size=n_inh, params=base, per_neuron=params(n_inh), model=Cuba(tau_syn_exc_s=2e-3),
                   bias_current_amp=rng.uniform(0.1e-9, 0.3e-9, n_inh)),
        Population(name="D", size=n_lif, params=base, per_neuron=params(n_lif),
                   bias_current_amp=rng.uniform(0.0, 0.3e-9, n_lif)),
    )
    projs = (
        Projection(pre="E", post="E", rule=FixedInDegree(k=4), weight_volt=lambda r, k: r.uniform(0.5e-3, 4e-3, k), delay_s=1e-3),
        Projection(pre="E", post="I", rule=FixedInDegree(k=4), weight_volt=3e-3, delay_s=2e-3),
        Projection(pre="I", post="E", rule=FixedInDegree(k=3), weight_volt=lambda r, k: r.uniform(-8e-3, -2e-3, k), delay_s=1e-3),
        Projection(pre="E", post="D", rule=FixedInDegree(k=3), weight_volt=lambda r, k: r.uniform(-3e-3, 9e-3, k), delay_s=1e-3),
        Projection(pre="D", post="D", rule=FixedInDegree(k=2), weight_volt=lambda r, k: r.uniform(-5e-3, 5e-3, k), delay_s=1e-3),
    )
    return Network(populations=pops, projections=projs, seed=int(rng.integers(1 << 30)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_loihi_lif_matches_lava_update_step_by_step(seed):
    rng = np.random.default_rng(seed)
    net = random_network(rng)
    n, steps = net.n_neurons, 300
    run = run_stepped(net, load_chip("loihi"), steps=steps, dt_s=1e-3, record=np.arange(n))
    # the conversion used every feature: current decays, leaks, biases, mixed-sign weights,
    # negative exponents, two-step delays
    syn = run.synapses
    assert np.any(run.neurons.du < 4095) and np.any(run.neurons.du == 4095)
    assert np.any(syn.mant < 0) and np.any(syn.mant > 0) and np.any(syn.delay == 2)
    # a two-step delay is a one-step Dense followed by a one-step buffer: feed the reference a
    # copy of the synapses with delay handled by shifting the E->I spikes one step
    us, vs, spikes = lava_reference_with_delays(run.neurons, syn, n, steps)
    np.testing.assert_array_equal(run.trace_u, us)
    np.testing.assert_array_equal(run.trace_v, vs)
    raster = run.spike_raster()
    for t in range(steps):
        assert np.flatnonzero(raster[t]).tolist() == spikes[t], f"step {t}"
    assert 20 < raster.sum() < 0.5 * raster.size  # the network is active but not saturated


def lava_reference_with_delays(neurons, synapses, n, steps):
    """As :func:`lava_reference`, with synapses of delay d > 1 delivered d - 1 steps later (a
    chain of one-step buffers after the Dense process)."""
    u = [0] * n
    v = [int(x) for x in neurons.v0]
    groups = len(synapses.weight_exp)
    dmax = int(synapses.delay.max())
    # pending[k][g][i]: weight sums for the LIF update k + 1 steps from now
    pending = [[[0] * n for _ in range(groups)] for _ in range(dmax)]
    us, vs, spikes = [], [], []
    for _t in range(steps):
        now = pending.pop(0)
        pending.append([[0] * n for _ in range(groups)])
        a_in = [0] * n
        for g in range(groups):
            e = int(synapses.weight_exp[g])
            for i in range(n):
                acc = now[g][i]
                a_in[i] += acc << e if e > 0 else acc >> -e
        fired = []
        for i in range(n):
            cu = _trunc_decay(u[i], 4096 - (int(neurons.du[i]) + 1)) + (a_in[i] << 6)
            if cu > 2**23:
                cu -= 2**24
            elif cu <= -(2**23):
                cu += 2**24
            u[i] = cu
            nv = _trunc_decay(v[i], 4096 - int(neurons.dv[i])) + u[i] + (int(neurons.bias_mant[i]) << int(neurons.bias_exp[i]))
            v[i] = max(-(2**23) + 1, min(2**23 - 1, nv))
            if v[i] > int(neurons.vth[i]) << 6:
                v[i] = 0
                fired.append(i)
        for i in fired:
            for s in range(int(synapses.indptr[i]), int(synapses.indptr[i + 1])):
                d = int(synapses.delay[s])
                pending[d - 1][int(synapses.group[s])][int(synapses.indices[s])] += int(synapses.mant[s])
        us.append(list(u))
        vs.append(list(v))
        spikes.append(fired)
    return np.array(us), np.array(vs), spikes


def test_reference_agrees_with_itself_on_one_step_delays():
    """The two reference loops agree where they should (all delays one step)."""
    rng = np.random.default_rng(7)
    net = random_network(rng)
    neurons, syn, _ = quantise_network(net, dt_s=1e-3)
    one = type(syn)(indptr=syn.indptr, indices=syn.indices, mant=syn.mant, group=syn.group,
                    delay=np.ones_like(syn.delay), weight_exp=syn.weight_exp, group_names=syn.group_names)
    a = lava_reference(neurons, one, net.n_neurons, 60)
    b = lava_reference_with_delays(neurons, one, net.n_neurons, 60)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[2] == b[2]


def test_wraparound_and_saturation_are_the_registers():
    """Inputs beyond the 24-bit range wrap the current and saturate the voltage, as Lava's model."""
    from neurochip.stepped.loihi import loihi_lif_step

    u = np.array([0, 0], dtype=np.int64)
    v = np.array([0, -(2**23) + 10], dtype=np.int64)
    a = np.array([2**17 + 5, -(2**16)], dtype=np.int64)  # << 6: 2^23 + 320 (wraps) and -2^22
    full = np.full(2, 4095, dtype=np.int64)
    loihi_lif_step(u, v, a, full, np.zeros(2, np.int64), np.zeros(2, np.int64), np.full(2, 131071, np.int64))
    assert u.tolist() == [2**23 + 320 - 2**24, -(2**22)]
    assert v.tolist() == [2**23 + 320 - 2**24, -(2**23) + 1]


def test_quantisation_report_names_what_the_chip_cannot_hold():
    p = LIFParams(c_m_farad=250e-12, g_leak_siemens=12.5e-9, v_th_volt=0.02, v_reset_volt=0.01, e_leak_volt=0.0, t_ref_s=2e-3)
    net = Network(
        populations=(Population(name="E", size=10, params=p, model=Cuba(tau_syn_exc_s=5e-3, tau_syn_inh_s=10e-3)),),
        projections=(Projection(pre="E", post="E", rule=FixedInDegree(k=3), weight_volt=lambda r, k: r.uniform(-1e-3, 1e-3, k)),),
        seed=3,
    )
    _, syn, q = quantise_network(net, dt_s=1e-3)
    pop = q.populations["E"]
    assert pop["dv"] == round(4096 * (1 - np.exp(-0.05))) and pop["du"] == round(4096 * (1 - np.exp(-0.2))) - 1
    assert pop["reset_offset_volt"] == pytest.approx(0.01)
    assert any("t_ref_s" in x for x in pop["ignored"]) and any("tau_syn_inh_s" in x for x in pop["ignored"])
    assert pop["decay_v_error"] < 2**-13 and pop["vth_relative_error"] < 1e-12
    conn = q.connections["E->E"]
    assert conn["sign_mode"] == "mixed" and conn["max_relative_error"] <= 2 / 254 + 1e-12
    assert np.all(syn.mant % 2 == 0) and np.all(np.abs(syn.mant) <= 256)


# --------------------------------------------------------------------------------------------
# the execution model in the chip spec


def test_presets_name_their_execution_model_and_source_every_latency():
    from neurochip.chip import LATENCY_FIELDS

    assert load_chip("generic").execution.model == "asynchronous"
    assert load_chip("dynapse2").execution.model == "asynchronous"
    loihi, tn = load_chip("loihi").execution, load_chip("truenorth").execution
    assert loihi.time_stepped and loihi.step_s is None and loihi.target_step_s == 1e-3
    assert tn.time_stepped and tn.step_s == 1e-3 and tn.activity_rule == "all"
    for name in LATENCY_FIELDS:
        if getattr(loihi, name) > 0:
            assert loihi.source_of(name) != "assumed", name
    assert loihi.barrier_s == pytest.approx(465e-9) and loihi.neuron_update_inactive_s == pytest.approx(5.3e-9)


def test_execution_table_errors_name_file_and_key():
    from neurochip.chip import ChipSpec
    from neurochip.errors import ConfigError

    data = load_chip("loihi").to_dict()
    assert ChipSpec.from_dict(data).execution == load_chip("loihi").execution  # round trip
    data["execution"]["model"] = "clocked"
    with pytest.raises(ConfigError, match=r"chip.toml: execution.model = 'clocked': must be one of"):
        ChipSpec.from_dict(data, source="chip.toml")
    data = load_chip("loihi").to_dict()
    data["execution"]["barrier_s"] = "-1 ns"
    with pytest.raises(ConfigError, match=r"execution.barrier_s = -1e-09: must be >= 0"):
        ChipSpec.from_dict(data, source="chip.toml")
    data = load_chip("generic").to_dict()
    data.pop("execution", None)
    assert ChipSpec.from_dict(data).execution == ExecutionSpec()
