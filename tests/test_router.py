"""The emulator's router: routed delivery times, counters and energy worked out by hand, the
saturation of a link, and the routed run against the unrouted one and the reference backend."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurochip.chip import CoreSpec, EnergySpec, MeshSpec, RouterSpec, load_chip
from neurochip.emulator import run
from neurochip.energy import OPERATIONS, price
from neurochip.errors import InvalidParameterError, MappingError
from neurochip.lif import LIFParams
from neurochip.mapping import Mapping, map_network
from neurochip.network import Explicit, Network, PoissonInput, Population, Projection, SpikeTimesInput

HOP_S = 1e-4  # long hops and slow links make every term of a latency visible
BW_HZ = 1e4
SER_S = 1.0 / BW_HZ
DELAY_S = 1e-3
P = LIFParams()  # tau_m = 1 ms, V_th = 0.5 V, V_reset = 0, t_ref = 1 ms; a 1 V input always fires

# round, distinct energies so that a wrong count cannot hide behind a coincidence
ENERGY = EnergySpec(
    spike_joule=1e-12,
    synaptic_event_joule=2e-12,
    neuron_update_joule=4e-12,
    neuron_update_inactive_joule=8e-12,
    hop_ew_joule=16e-12,
    hop_ns_joule=32e-12,
    core_packet_joule=64e-12,
    static_power_per_core_watt=1e-6,
)


def _chip(width: int, height: int, *, bw: float = BW_HZ, hop: float = HOP_S, depth: int = 4, bp: bool = True):
    return load_chip("generic").replace(
        mesh=MeshSpec(width=width, height=height),
        router=RouterSpec(hop_latency_s=hop, link_bandwidth_hz=bw, buffer_depth=depth, backpressure=bp),
        energy=ENERGY,
    )


def _mapping(net: Network, chip, neuron_core) -> Mapping:
    """A mapping with the given placement; routing table = the cores holding each neuron's targets."""
    csr = net.csr()
    n = csr.n_neurons
    core = np.asarray(neuron_core, np.int32)
    pre = np.repeat(np.arange(csr.indptr.size - 1) % n, np.diff(csr.indptr))
    dests = [sorted(set(core[csr.indices[pre == i]].tolist())) for i in range(n)]
    rptr = np.r_[0, np.cumsum([len(d) for d in dests])].astype(np.int64)
    rc = np.array([c for d in dests for c in d], np.int32)
    m = chip.n_cores
    z = np.zeros(m, np.int64)
    return Mapping(
        chip=chip, neuron_core=core, route_indptr=rptr, route_cores=rc, core_neurons=z, core_fan_in=z,
        core_fan_out=z, core_axons_in=z, traffic=np.zeros((m, m)), link_load=np.zeros((m, 4)),
        rates_given=False, n_synapses=csr.n_synapses, n_synapses_crossing=0, wall_s=0.0,
    )  # fmt: skip


def _net(n: int, pre, post, weight: float = 1.0, delay: float = DELAY_S) -> Network:
    return Network(
        populations=(Population(name="n", size=n, params=P),),
        projections=(
            Projection(
                pre="n", post="n", rule=Explicit(pre=pre, post=post), weight_volt=weight, delay_s=delay
            ),
        ),
    )


def _hand_price(counts: dict[str, np.ndarray], chip) -> float:
    return sum(float(np.sum(counts.get(op, 0.0))) * getattr(chip.energy, f) for op, f in OPERATIONS.items())


# ---- by hand --------------------------------------------------------------------------------------


def test_chain_on_a_row_times_counts_and_energy():
    """0 -> 1 -> 2 -> 3, one neuron per core of a 4x1 mesh: each spike crosses one east link."""
    chip = _chip(4, 1)
    net = _net(4, [0, 1, 2], [1, 2, 3])
    drive = [0.001, 0.020, 0.040]
    res = run(
        net, duration_s=0.06, mapping=_mapping(net, chip, [0, 1, 2, 3]),
        inputs=[SpikeTimesInput(population="n", times_s=drive, neurons=[0, 0, 0], weight_volt=1.0)],
    )  # fmt: skip
    step = SER_S + HOP_S + DELAY_S  # serialisation + hop + synaptic delay per link of the chain
    for k in range(4):
        np.testing.assert_allclose(res.spike_times(k), np.array(drive) + k * step, rtol=0, atol=1e-15)
    n = len(drive)
    counts = res.operation_counts().per_core
    hand = {
        "spikes": [n, n, n, n],
        "synaptic_events": [0, n, n, n],
        "neuron_updates": [0, n, n, n],
        "hops_ew": [n, n, n, 0],
        "hops_ns": [0, 0, 0, 0],
        "core_packets": [0, 0, 0, 0],
    }
    for op, want in hand.items():
        np.testing.assert_array_equal(counts[op], want, err_msg=op)
    rs = res.routing
    np.testing.assert_array_equal(rs.per_link["packets"][:, 0], [n, n, n, 0])
    np.testing.assert_allclose(rs.per_link["busy_s"][:, 0], [n * SER_S, n * SER_S, n * SER_S, 0.0])
    np.testing.assert_allclose(rs.latency_s, SER_S + HOP_S)
    assert rs.drops == 0 and rs.per_link["peak_queue"].max() == 1
    # energy: 3 x (4 spikes + 3 synaptic events + 3 updates + 3 east-west hops)
    e_hand = n * (4 * 1e-12 + 3 * 2e-12 + 3 * 4e-12 + 3 * 16e-12)
    rep = price(res.operation_counts(), chip)
    assert rep.dynamic_joule == pytest.approx(e_hand, rel=1e-12)
    assert rep.dynamic_joule == pytest.approx(_hand_price(hand, chip), rel=1e-12)
    assert rep.static_joule == pytest.approx(4 * 1e-6 * 0.06, rel=1e-12)


def test_fan_out_tree_on_a_2x2_mesh():
    """Neuron 0 on core (0,0) projects to its own core, to (1,0), (0,1) and twice to (1,1):
    four packets per spike (one per destination core), XY routes, and the packet to (1,1)
    queues behind the one to (1,0) on the east link."""
    chip = _chip(2, 2)
    net = _net(6, [0, 0, 0, 0, 0], [1, 2, 3, 4, 5])
    drive = [0.002, 0.010]
    res = run(
        net, duration_s=0.02, mapping=_mapping(net, chip, [0, 0, 1, 2, 3, 3]),
        inputs=[SpikeTimesInput(population="n", times_s=drive, neurons=[0, 0], weight_volt=1.0)],
    )  # fmt: skip
    t = np.array(drive)
    arrival = {
        1: t + DELAY_S,  # own core: no hop
        2: t + SER_S + HOP_S + DELAY_S,  # east
        3: t + SER_S + HOP_S + DELAY_S,  # north (another link: no wait)
        4: t + 3 * SER_S + 2 * HOP_S + DELAY_S,  # east after the packet to (1,0), then north
        5: t + 3 * SER_S + 2 * HOP_S + DELAY_S,
    }
    for k, want in arrival.items():
        np.testing.assert_allclose(res.spike_times(k), want, rtol=0, atol=1e-15)
    n = len(drive)
    counts = res.operation_counts().per_core
    hand = {
        "spikes": [2 * n, n, n, 2 * n],  # neurons 0 and 1 share core 0
        "synaptic_events": [n, n, n, 2 * n],
        "neuron_updates": [n, n, n, 2 * n],
        "hops_ew": [2 * n, 0, 0, 0],
        "hops_ns": [n, n, 0, 0],
        "core_packets": [n, 0, 0, 0],
    }
    for op, want in hand.items():
        np.testing.assert_array_equal(counts[op], want, err_msg=op)
    rs = res.routing
    np.testing.assert_array_equal(rs.per_core["packets_out"], [4 * n, 0, 0, 0])
    np.testing.assert_array_equal(rs.per_core["packets_in"], [n, n, n, n])
    assert rs.per_link["peak_queue"][0, 0] == 2  # two packets in core 0's east FIFO at once
    assert sorted(rs.latency_s.tolist()) == pytest.approx(sorted(
        [0.0, SER_S + HOP_S, SER_S + HOP_S, 3 * SER_S + 2 * HOP_S] * n), abs=1e-15)  # fmt: skip
    assert price(res.operation_counts(), chip).dynamic_joule == pytest.approx(
        _hand_price(hand, chip), rel=1e-12
    )


@pytest.mark.parametrize("hops", [1, 2, 3])
def test_latency_over_h_hops(hops):
    chip = _chip(4, 1)
    net = _net(2, [0], [1])
    res = run(
        net, duration_s=0.01, mapping=_mapping(net, chip, [0, hops]),
        inputs=[SpikeTimesInput(population="n", times_s=[0.001], neurons=[0], weight_volt=1.0)],
    )  # fmt: skip
    assert res.spike_times(1)[0] == pytest.approx(0.001 + hops * (HOP_S + SER_S) + DELAY_S, abs=1e-15)
    assert res.operation_counts().total("hops_ew") == hops


def test_two_packets_on_one_link_the_second_waits_one_serialisation():
    chip = _chip(2, 1)
    net = _net(4, [0, 1], [2, 3])
    res = run(
        net, duration_s=0.01, mapping=_mapping(net, chip, [0, 0, 1, 1]),
        inputs=[SpikeTimesInput(population="n", times_s=[0.001, 0.001], neurons=[0, 1], weight_volt=1.0)],
    )  # fmt: skip
    assert res.spike_times(2)[0] == pytest.approx(0.001 + SER_S + HOP_S + DELAY_S, abs=1e-15)
    assert res.spike_times(3)[0] == pytest.approx(0.001 + 2 * SER_S + HOP_S + DELAY_S, abs=1e-15)
    assert res.routing.per_link["peak_queue"][0, 0] == 2


def test_full_buffer_drops_or_waits():
    """Three packets at once into a FIFO of depth 2: without backpressure the third is dropped
    at the source; with it the third waits and arrives one serialisation later."""
    net = _net(6, [0, 1, 2], [3, 4, 5])
    inputs = [SpikeTimesInput(population="n", times_s=[0.001] * 3, neurons=[0, 1, 2], weight_volt=1.0)]
    where = [0, 0, 0, 1, 1, 1]
    drop = run(
        net, duration_s=0.01, inputs=inputs, mapping=_mapping(net, _chip(2, 1, depth=2, bp=False), where)
    )
    assert drop.routing.drops == 1 and drop.routing.drops_by_cause == {"buffer_full": 0, "injection_full": 1}
    assert drop.routing.per_link["drops_injection"][0, 0] == 1
    assert drop.spike_times(5).size == 0 and drop.spike_counts[3:5].tolist() == [1, 1]
    wait = run(
        net, duration_s=0.01, inputs=inputs, mapping=_mapping(net, _chip(2, 1, depth=2, bp=True), where)
    )
    assert wait.routing.drops == 0
    assert wait.spike_times(5)[0] == pytest.approx(0.001 + 3 * SER_S + HOP_S + DELAY_S, abs=1e-15)
    assert wait.routing.per_link["peak_queue"][0, 0] == 2


# ---- exactness against the unrouted engine ---------------------------------------------------------


def _random_net(rng, n=60, k=8, variant="homogeneous"):
    """Random synapses with three delay values; ``variant`` picks the engine's delivery path:
    homogeneous (shared threshold), fast (per-neuron thresholds) or general (adaptive)."""
    pre = np.repeat(np.arange(n), k)
    post = rng.integers(0, n, n * k)
    w = rng.normal(0.05, 0.1, n * k)
    d = rng.choice([0.5e-3, 1e-3, 1.7e-3], n * k)
    p = LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-10, v_th_volt=0.5, t_ref_s=2e-3)
    per = {}
    if variant == "fast":
        per = {"v_th_volt": rng.uniform(0.4, 0.6, n)}
    elif variant == "general":
        p = LIFParams(
            c_m_farad=1e-12, g_leak_siemens=1e-10, v_th_volt=0.5, t_ref_s=2e-3, adapt_increment_amp=2e-12
        )
    return Network(
        populations=(Population(name="n", size=n, params=p, per_neuron=per),),
        projections=(
            Projection(pre="n", post="n", rule=Explicit(pre=pre, post=post, weight_volt=w, delay_s=d)),
        ),
    )


def test_all_on_one_core_equals_the_unrouted_run(rng):
    """Own-core packets have no latency: the routed run is the unrouted one, spike for spike."""
    net = _random_net(rng)
    inputs = [PoissonInput(population="n", rate_hz=800.0, weight_volt=0.12)]
    chip = load_chip("generic").replace(mesh=MeshSpec(width=1, height=1))
    plain = run(net, duration_s=0.5, inputs=inputs, seed=3)
    routed = run(net, duration_s=0.5, inputs=inputs, seed=3, mapping=_mapping(net, chip, np.zeros(60)))
    assert plain.events.size > 500
    np.testing.assert_array_equal(plain.events, routed.events)
    assert plain.counters == routed.counters
    np.testing.assert_array_equal(plain.rec_events_per_neuron, routed.rec_events_per_neuron)
    assert routed.routing.per_core["core_packets"][0] == routed.routing.per_core["packets_out"][0] > 0


def test_routed_counters_agree_with_the_spike_log(rng):
    """Every spike sends one packet per routing-table entry; without drops every packet is
    delivered (or still in the network at the end)."""
    net = _random_net(rng)
    chip = _chip(2, 2, bw=1e6, hop=1e-5)
    m = _mapping(net, chip, rng.integers(0, 4, 60))
    res = run(
        net,
        duration_s=0.3,
        inputs=[PoissonInput(population="n", rate_hz=800.0, weight_volt=0.12)],
        seed=5,
        mapping=m,
    )
    rs = res.routing
    fan = np.diff(m.route_indptr)
    assert rs.per_core["packets_out"].sum() == int(np.sum(fan[res.events["address"]]))
    in_net = sum(
        rs.end_state[k] for k in ("packets_in_flight", "packets_queued", "packets_waiting_at_source")
    )
    assert rs.per_core["packets_in"].sum() + in_net == rs.per_core["packets_out"].sum()
    assert rs.packets_delivered == rs.per_core["packets_in"].sum()
    assert (
        res.counters["rec_events"] == rs.per_core["synaptic_events"].sum() == res.rec_events_per_neuron.sum()
    )
    hops = rs.per_core["hops_ew"].sum() + rs.per_core["hops_ns"].sum()
    assert hops == rs.per_link["packets"].sum()


# ---- saturation --------------------------------------------------------------------------------------

N_SRC = 50
T_REF = 2e-3
SAT_BW = 5e3  # packets/s: N_SRC neurons saturate it at 100 Hz each


def _saturation(rate_in: float, bp: bool):
    """N_SRC neurons on core 0 of a 2x1 mesh, each projecting across the link to one neuron on
    core 1; every Poisson input spike fires its neuron unless refractory."""
    p = LIFParams(t_ref_s=T_REF)
    net = Network(
        populations=(Population(name="a", size=N_SRC, params=p), Population(name="b", size=1, params=p)),
        projections=(Projection(pre="a", post="b", rule=Explicit(pre=np.arange(N_SRC), post=np.zeros(N_SRC)),
                                weight_volt=1e-6, delay_s=DELAY_S),),
    )  # fmt: skip
    chip = _chip(2, 1, bw=SAT_BW, hop=1e-5, depth=8, bp=bp)
    m = _mapping(net, chip, [0] * N_SRC + [1])
    res = run(
        net,
        duration_s=1.0,
        inputs=[PoissonInput(population="a", rate_hz=rate_in, weight_volt=1.0)],
        seed=11,
        mapping=m,
    )
    return res


DRIVES = (20.0, 60.0, 150.0, 400.0, 2e4)  # offered packet load: ~0.2, 0.57, 1.15, 2.2, 4.8 x bandwidth


def test_saturation_with_backpressure():
    util, lat, rates = [], [], []
    for r in DRIVES:
        res = _saturation(r, bp=True)
        util.append(res.routing.per_link["utilisation"][0, 0])
        lat.append(res.routing.latency_mean_s)
        rates.append(res.mean_rate_hz(slice(0, N_SRC)))
        assert res.routing.drops == 0
    util = np.array(util)
    offered = np.array(rates) * N_SRC / SAT_BW
    assert np.all(util <= 1.0)
    # below saturation the link carries what is offered; above it, everything it can
    np.testing.assert_allclose(util[:2], offered[:2], rtol=0.02)
    assert util[-1] > 0.99 and util[-2] > 0.99
    assert np.all(np.diff(util) >= 0)
    assert np.all(np.diff(lat) > 0)  # queueing delay grows with the load
    assert lat[0] < 3 * (1 / SAT_BW + 1e-5) and lat[-1] > 100 * (1 / SAT_BW)
    # firing rates: dead-time Poisson r / (1 + r t_ref) below 1 / t_ref, flat near it at high drive
    rates = np.array(rates)
    assert np.all(rates <= 1 / T_REF)
    assert rates[-1] >= 0.9 / T_REF
    np.testing.assert_allclose(rates, np.array(DRIVES) / (1 + np.array(DRIVES) * T_REF), rtol=0.1)


def test_saturation_with_dropping_buffers():
    util, drops = [], []
    for r in DRIVES:
        res = _saturation(r, bp=False)
        util.append(res.routing.per_link["utilisation"][0, 0])
        drops.append(res.routing.drops)
        assert res.routing.latency_max_s <= 8 / SAT_BW + 1e-5 + 1e-12  # at most a full FIFO ahead
    assert np.all(np.array(util) <= 1.0) and util[-1] > 0.95
    assert drops[0] == drops[1] == 0  # below saturation (offered load 0.2, 0.55): nothing lost
    assert all(d > 0 for d in drops[2:])  # past saturation: drops, growing with the load
    assert np.all(np.diff(drops[2:]) > 0)


# ---- errors and helpers -------------------------------------------------------------------------------


def test_bad_mappings_are_refused():
    chip = _chip(2, 1)
    net = _net(2, [0], [1])
    m = _mapping(net, chip, [0, 0])
    broken = Mapping(
        **{
            **{f: getattr(m, f) for f in Mapping.__dataclass_fields__},
            "neuron_core": np.array([0, 1], np.int32),
        }
    )
    with pytest.raises(MappingError, match="no routing-table entry"):
        run(net, duration_s=0.01, mapping=broken)
    with pytest.raises(InvalidParameterError, match="another chip"):
        run(net, duration_s=0.01, mapping=m, chip=_chip(4, 1))
    res = run(net, duration_s=0.01)
    with pytest.raises(InvalidParameterError, match="not routed"):
        res.operation_counts()


def test_map_network_and_chip_argument():
    """run(chip=...) maps the network itself (map_network merges the delay classes)."""
    chip = load_chip("generic").replace(core=CoreSpec(neurons=8, fan_in=4096, fan_out=4096))
    rng = np.random.default_rng(1)
    net = _random_net(rng, n=30, k=4)
    m = map_network(net, chip)
    assert m.n_neurons == 30 and m.n_synapses == 120
    res = run(
        net, duration_s=0.2, inputs=[PoissonInput(population="n", rate_hz=800.0, weight_volt=0.12)], chip=chip
    )
    assert res.routing is not None and res.routing.per_core["packets_out"].sum() > 0
    assert math.isfinite(res.routing.latency_percentiles([50])[50.0])


# ---- parity with the reference backend ----------------------------------------------------------------


@pytest.mark.parametrize(
    "seed,bp,bw,variant,hop",
    [
        (1, True, 2e4, "homogeneous", 2e-5),
        (2, False, 2e4, "homogeneous", 2e-5),
        (3, True, 1e6, "homogeneous", 2e-5),
        (4, False, 5e3, "homogeneous", 2e-5),
        (5, True, 5e3, "homogeneous", 2e-5),
        (6, True, 2e4, "fast", 2e-5),
        (7, False, 5e3, "general", 2e-5),
        # serialisation = hop latency, and no hop latency: many simultaneous router events,
        # so the order of events at one instant is tested too
        (8, True, 5e4, "homogeneous", 2e-5),
        (9, False, 5e4, "fast", 2e-5),
        (10, True, 2e4, "homogeneous", 0.0),
        (11, False, 1e4, "homogeneous", 0.0),
    ],
)
def test_routed_parity_with_the_reference_backend(seed, bp, bw, variant, hop):
    """The plain-Python router (global event queue, every event in it) and the engine's
    (windows, ends of serialisation kept out of the event list while nothing waits for them)
    agree spike for spike and counter for counter, with queueing, backpressure and drops."""
    rng = np.random.default_rng(seed)
    net = _random_net(rng, n=40, k=10, variant=variant)
    chip = _chip(3, 2, bw=bw, hop=hop, depth=3, bp=bp)
    m = _mapping(net, chip, rng.integers(0, 6, 40))
    inputs = [PoissonInput(population="n", rate_hz=900.0, weight_volt=0.15)]
    fast = run(net, duration_s=0.25, inputs=inputs, seed=seed, mapping=m)
    ref = run(net, duration_s=0.25, inputs=inputs, seed=seed, mapping=m, backend="reference")
    assert fast.counters["spikes"] > 300
    np.testing.assert_array_equal(fast.events["address"], ref.events["address"])
    np.testing.assert_allclose(fast.events["time_s"], ref.events["time_s"], rtol=0, atol=1e-12)
    assert fast.counters == {**ref.counters, "windows": fast.counters["windows"]}
    np.testing.assert_array_equal(fast.rec_events_per_neuron, ref.rec_events_per_neuron)
    a, b = fast.routing, ref.routing
    for k in a.per_core:
        np.testing.assert_array_equal(a.per_core[k], b.per_core[k], err_msg=k)
    for k in a.per_link:
        np.testing.assert_allclose(a.per_link[k], b.per_link[k], rtol=1e-12, err_msg=k)
    np.testing.assert_allclose(np.sort(a.latency_s), np.sort(b.latency_s), rtol=0, atol=1e-15)
    assert a.end_state == b.end_state
    if bw <= 2e4:
        assert a.per_link["peak_queue"].max() >= 2  # the links did queue
    if not bp and bw <= 5e3:
        assert a.drops > 0
    if bp and bw <= 5e3:
        assert a.end_state["packets_waiting_at_source"] > 0  # the source stalled


def test_operation_counts_match_expected_counts_at_the_run_s_spike_counts(rng):
    """neurochip.energy.expected_counts (rates x structure, XY link loads by difference arrays)
    at the rates the run actually had gives the run's counts exactly, once every packet has
    arrived: an independent check of the router's hop and packet accounting on a 3x3 mesh."""
    from neurochip.energy import expected_counts

    net = _random_net(rng, n=45, k=6)
    chip = _chip(3, 3, bw=1e5, hop=1e-5)
    m = _mapping(net, chip, rng.integers(0, 9, 45))
    times = np.sort(rng.uniform(0.0, 0.05, 120))
    drive = [
        SpikeTimesInput(population="n", times_s=times, neurons=rng.integers(0, 45, 120), weight_volt=1.0)
    ]
    duration = 0.2  # activity stops long before the end: nothing left in the network
    res = run(net, duration_s=duration, inputs=drive, mapping=m)
    rs = res.routing
    assert res.counters["spikes"] > 100 and res.events["time_s"].max() < 0.15
    assert sum(rs.end_state.values()) == 0
    csr = net.csr()
    n = csr.n_neurons
    pre = np.repeat(np.arange(csr.indptr.size - 1) % n, np.diff(csr.indptr))
    order = np.argsort(pre, kind="stable")
    indptr = np.r_[0, np.cumsum(np.bincount(pre, minlength=n))]
    want = expected_counts(m, indptr, csr.indices[order], res.spike_counts / duration, duration).per_core
    got = res.operation_counts().per_core
    assert got["hops_ew"].sum() + got["hops_ns"].sum() > 100
    for op in ("spikes", "synaptic_events", "hops_ew", "hops_ns", "core_packets"):
        np.testing.assert_allclose(got[op], want[op], rtol=1e-12, atol=1e-9, err_msg=op)
    # the latency distribution: at least one hop's worth for remote packets, 0 for own-core ones
    lat = rs.latency_s
    assert lat.size == rs.packets_delivered and (lat == 0).sum() == got["core_packets"].sum()
    assert lat[lat > 0].min() >= 1e-5 + 1e-5 - 1e-15
    counts, edges = rs.latency_histogram(10)
    assert counts.sum() == lat.size and edges[-1] == pytest.approx(lat.max())
    assert rs.latency_percentiles([100])[100.0] == pytest.approx(rs.latency_max_s)
