r"""The time-stepped engine: a network run step by step as a Loihi-like chip runs it.

Every step, on every core:

1. each compartment takes the synaptic input that the spikes of earlier steps put in its
   dendritic accumulators for this step (one per connection, summed then scaled by the
   connection's weight exponent), and is updated by Loihi's integer LIF
   (:func:`neurochip.stepped.loihi.loihi_lif_step`);
2. it counts as an **active** update when it receives a synaptic event for this step (even if
   the weights sum to 0), its voltage or bias is non-zero at the start of the step, or its current
   is non-zero after this step's decay (the chip's own rule,
   ``activity_rule = "nonzero"``; a delta synapse's current, cleared every step, is no state),
   otherwise as an **inactive** one (``"all"``: every update is active);
3. a neuron that spikes generates one spike and sends one packet per destination core of its
   routing table (:func:`neurochip.mapping.map_network` places the neurons); each packet is
   received by its core, where it reads the spike's synapses there (one synaptic operation each),
   adding their weights into the accumulators of the step ``delay`` later (one step for every
   delay of one dt): a spike takes effect at the next step.

Populations named in ``input_spikes`` are not simulated: their neurons fire when told, which
makes spikes, packets and synaptic operations as any neuron's do, but no neuron updates.

The counts are kept per step and per core (:class:`SteppedRun`); :mod:`neurochip.stepped.timing`
turns them into step durations and :mod:`neurochip.stepped.report` into energy and time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..chip import ChipSpec
from ..errors import InvalidParameterError
from ..mapping import Mapping, map_network
from ..mesh import xy_hops
from .loihi import _UNITY, LoihiNeurons, LoihiSynapses, Quantisation, _decay, loihi_lif_step, quantise_network

__all__ = ["STEP_COUNTS", "SteppedRun", "run_stepped"]

#: Counts kept per step and per core, in :attr:`SteppedRun.per_step`.
STEP_COUNTS: tuple[str, ...] = (
    "packets_in",
    "synaptic_events",
    "neuron_updates",
    "neuron_updates_inactive",
    "spikes",
    "packets_out",
    "core_packets",
)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SteppedRun:
    """What a time-stepped run did, step by step and core by core.

    Attributes
    ----------
    chip : ChipSpec
    mapping : Mapping
    n_steps : int
    dt_s : float
        Biological time of one step, s (what the network's time constants were converted for).
    spike_steps, spike_neurons : ndarray of int64, shape (n_spikes,)
        Step and global neuron id of every spike, in step order.
    per_step : dict of str to ndarray of int64, shape (n_steps, n_cores)
        :data:`STEP_COUNTS`: packets received, synaptic operations, active and inactive neuron
        updates, spikes generated, packets sent (own core included) and packets that stayed in
        their own core, per step and core.
    max_hops : ndarray of int64, shape (n_steps,)
        Longest XY route of a packet sent in each step (0: none left its core).
    neurons : LoihiNeurons
    synapses : LoihiSynapses
    quantisation : Quantisation
    record : ndarray of int64, shape (k,)
        Neurons whose state was traced.
    trace_u, trace_v : ndarray of int64, shape (n_steps, k)
        Their current and voltage after each step (after reset).
    simulated : ndarray of bool, shape (n_neurons,)
        Neurons that are compartments (not given input spikes).
    wall_s, cpu_s : float
        Wall and CPU time of the stepping loop, s: from the first step to the last, with the
        arrays prepared before (quantisation, routes, the compiled loop's flat arrays), as
        SANA-FE's ``sim()`` is timed apart from its ``load()``.
    """

    chip: ChipSpec
    mapping: Mapping
    n_steps: int
    dt_s: float
    spike_steps: NDArray[np.int64]
    spike_neurons: NDArray[np.int64]
    per_step: dict[str, NDArray[np.int64]]
    max_hops: NDArray[np.int64]
    neurons: LoihiNeurons
    synapses: LoihiSynapses
    quantisation: Quantisation
    record: NDArray[np.int64]
    trace_u: NDArray[np.int64]
    trace_v: NDArray[np.int64]
    simulated: NDArray[np.bool_]
    wall_s: float
    cpu_s: float = 0.0

    def spike_raster(self) -> NDArray[np.bool_]:
        """Spikes as a boolean array of shape (n_steps, n_neurons)."""
        out = np.zeros((self.n_steps, self.mapping.n_neurons), dtype=bool)
        out[self.spike_steps, self.spike_neurons] = True
        return out

    def spike_counts(self) -> NDArray[np.int64]:
        """Spikes of every neuron over the run, shape (n_neurons,)."""
        return np.bincount(self.spike_neurons, minlength=self.mapping.n_neurons)


def _gather(indptr: NDArray[np.int64], rows: NDArray[np.int64]) -> NDArray[np.int64]:
    """Positions of every entry of the given CSR rows, row after row."""
    starts = indptr[rows]
    lens = indptr[rows + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    return np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(total, dtype=np.int64)


def _shift(acc: NDArray[np.int64], exp: int) -> NDArray[np.int64]:
    return acc << exp if exp > 0 else acc >> -exp


def run_stepped(
    network: Any,
    chip: ChipSpec,
    *,
    steps: int,
    dt_s: float | None = None,
    mapping: Mapping | None = None,
    input_spikes: dict[str, ArrayLike] | None = None,
    record: ArrayLike | None = None,
    vth_units: int = 1 << 12,
    backend: str = "compiled",
) -> SteppedRun:
    """Run a network on a time-stepped chip with Loihi's integer neurons, counting every step.

    Parameters
    ----------
    network : neurochip.network.Network
        Populations (built-in LIF or ``Cuba``) and projections; converted by
        :func:`~neurochip.stepped.loihi.quantise_network`.
    chip : ChipSpec
        A chip whose ``execution.model`` is ``"time_stepped"``.
    steps : int
        Steps to run, >= 1.
    dt_s : float, optional
        Biological time of one step, s; default the chip's fixed step, else its real-time target.
    mapping : Mapping, optional
        Placement of the network on ``chip`` (default :func:`~neurochip.mapping.map_network`).
    input_spikes : dict of str to array_like of bool, shape (steps, size), optional
        Populations driven by given spikes: ``True`` at ``[s, i]`` makes neuron ``i`` fire at
        step ``s``.
    record : array_like of int, optional
        Global ids of neurons whose integer state is traced every step.
    vth_units : int
        See :func:`~neurochip.stepped.loihi.quantise_network`.
    backend : {"compiled", "numpy"}
        The step loop: the compiled one (``neurochip.stepped._loop``, the default) or the NumPy
        reference that defines the behaviour.  Both give the same integers, spikes and counts
        (``tests/test_stepped_loop.py``).

    Returns
    -------
    SteppedRun

    Raises
    ------
    InvalidParameterError
        If the chip is not time-stepped, ``steps`` < 1, no step length is known, an input
        array has the wrong shape, or ``backend`` is unknown.
    ImportError
        If ``backend="compiled"`` and the extension is not built.

    Examples
    --------
    >>> from neurochip.chip import load_chip
    >>> from neurochip.lif import LIFParams
    >>> from neurochip.network import Network, Population
    >>> p = LIFParams(c_m_farad=1e-10, g_leak_siemens=5e-9, v_th_volt=0.02, v_reset_volt=0.0,
    ...               e_leak_volt=0.0, t_ref_s=0.0)
    >>> net = Network(populations=(Population(name="A", size=4, params=p, bias_current_amp=2e-10),))
    >>> run = run_stepped(net, load_chip("loihi"), steps=100, dt_s=1e-3)
    >>> int(run.spike_counts().sum()) > 0, int(run.per_step["neuron_updates"].sum())
    (True, 400)
    """
    ex = chip.execution
    if not ex.time_stepped:
        raise InvalidParameterError(
            f"chip {chip.name!r} is {ex.model}: the stepped engine needs execution.model = 'time_stepped'"
        )
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise InvalidParameterError.of("steps", steps, "must be an integer >= 1")
    steps = int(steps)
    if backend not in ("compiled", "numpy"):
        raise InvalidParameterError.of("backend", backend, "must be 'compiled' or 'numpy'")
    dt = dt_s if dt_s is not None else (ex.step_s or ex.target_step_s)
    if dt is None:
        raise InvalidParameterError.of("dt_s", dt_s, f"must be given: chip {chip.name!r} has neither step_s nor target_step_s")
    inputs = dict(input_spikes or {})
    n = network.n_neurons
    forced = np.zeros((steps, n), dtype=bool)
    simulated = np.ones(n, dtype=bool)
    for name, arr in inputs.items():
        off, pop = network.offset(name), network.population(name)
        a = np.asarray(arr, dtype=bool)
        if a.shape != (steps, pop.size):
            raise InvalidParameterError.of(f"input_spikes[{name!r}]", a.shape, f"must have shape ({steps}, {pop.size})")
        forced[:, off:off + pop.size] = a
        simulated[off:off + pop.size] = False
    neurons, syn, quant = quantise_network(network, dt_s=float(dt), vth_units=vth_units, input_populations=tuple(inputs))
    if mapping is None:
        mapping = map_network(network, chip)
    rec = np.asarray([] if record is None else record, dtype=np.int64)

    m = chip.n_cores
    core = mapping.neuron_core.astype(np.int64)
    r_indptr = np.ascontiguousarray(mapping.route_indptr, dtype=np.int64)
    r_cores = mapping.route_cores.astype(np.int64)
    r_origin = core[np.repeat(np.arange(n), np.diff(r_indptr))]  # core of each route's source neuron
    r_hops = np.ascontiguousarray(xy_hops(r_origin, r_cores, chip.mesh.width), dtype=np.int64)  # 0: own core
    v0 = neurons.v0.copy()
    v0[~simulated] = 0
    loop = _loop_numpy if backend == "numpy" else _loop_compiled
    spike_steps, spike_neurons, per_step, max_hops, trace_u, trace_v, wall, cpu = loop(
        neurons=neurons, syn=syn, v0=v0, core=core, m=m, steps=steps, simulated=simulated, forced=forced,
        r_indptr=r_indptr, r_cores=r_cores, r_origin=r_origin, r_hops=r_hops, rec=rec,
        all_active=ex.activity_rule == "all",
    )
    return SteppedRun(
        chip=chip,
        mapping=mapping,
        n_steps=steps,
        dt_s=float(dt),
        spike_steps=spike_steps,
        spike_neurons=spike_neurons,
        per_step=per_step,
        max_hops=max_hops,
        neurons=neurons,
        synapses=syn,
        quantisation=quant,
        record=rec,
        trace_u=trace_u,
        trace_v=trace_v,
        simulated=simulated,
        wall_s=wall,
        cpu_s=cpu,
    )


#: spike steps, spike neurons, per-step counts, max hops, traces of u and v, wall and CPU time (s)
_Loop = tuple[NDArray[np.int64], NDArray[np.int64], dict[str, NDArray[np.int64]], NDArray[np.int64],
              NDArray[np.int64], NDArray[np.int64], float, float]


def _depth(syn: LoihiSynapses) -> int:
    """Slots of the accumulator ring: one more than the longest delay."""
    return int(syn.delay.max()) + 1 if syn.delay.size else 2


def _loop_numpy(*, neurons: LoihiNeurons, syn: LoihiSynapses, v0: NDArray[np.int64], core: NDArray[np.int64], m: int,
                steps: int, simulated: NDArray[np.bool_], forced: NDArray[np.bool_], r_indptr: NDArray[np.int64],
                r_cores: NDArray[np.int64], r_origin: NDArray[np.int64], r_hops: NDArray[np.int64],
                rec: NDArray[np.int64], all_active: bool) -> _Loop:
    """The reference step loop, in NumPy (one vectorised pass per step): defines the behaviour."""
    n = v0.size
    g_count = syn.weight_exp.size
    depth = _depth(syn)
    acc = np.zeros((depth, max(g_count, 1), n), dtype=np.int64)
    hit = np.zeros((depth, n), dtype=bool)  # received a synaptic event for that step (even if the sum is 0)
    u = np.zeros(n, dtype=np.int64)
    v = v0.copy()
    bias = neurons.bias
    per_step = {k: np.zeros((steps, m), dtype=np.int64) for k in STEP_COUNTS}
    max_hops = np.zeros(steps, dtype=np.int64)
    trace_u = np.zeros((steps, rec.size), dtype=np.int64)
    trace_v = np.zeros((steps, rec.size), dtype=np.int64)
    spike_steps: list[NDArray[np.int64]] = []
    spike_neurons: list[NDArray[np.int64]] = []
    sim_idx = np.flatnonzero(simulated)
    static_active = bias != 0
    t0, c0 = time.perf_counter(), time.process_time()
    for t in range(steps):
        slot = t % depth
        a_in = np.zeros(n, dtype=np.int64)
        for g in range(g_count):
            a_in += _shift(acc[slot, g], int(syn.weight_exp[g]))
        acc[slot] = 0
        got_input = hit[slot].copy()
        hit[slot] = False
        if all_active:
            active = simulated
        else:
            # the current counts as state only where it survives its decay (a delta synapse,
            # du = 4095, leaves nothing for the next step)
            carried = _decay(u, _UNITY - (neurons.du + 1)) != 0
            active = simulated & (got_input | carried | (v != 0) | static_active)
        per_step["neuron_updates"][t] = np.bincount(core[active], minlength=m)
        per_step["neuron_updates_inactive"][t] = np.bincount(core[simulated & ~active], minlength=m)
        spikes = np.zeros(n, dtype=bool)
        su, sv = u[sim_idx], v[sim_idx]
        spikes[sim_idx] = loihi_lif_step(
            su, sv, a_in[sim_idx], neurons.du[sim_idx], neurons.dv[sim_idx], bias[sim_idx], neurons.vth[sim_idx]
        )
        u[sim_idx], v[sim_idx] = su, sv
        spikes |= forced[t]
        if rec.size:
            trace_u[t], trace_v[t] = u[rec], v[rec]
        src = np.flatnonzero(spikes)
        if src.size == 0:
            continue
        spike_steps.append(np.full(src.size, t, dtype=np.int64))
        spike_neurons.append(src)
        per_step["spikes"][t] = np.bincount(core[src], minlength=m)
        # packets: one per destination core of each spike's routing table
        pos = _gather(r_indptr, src)
        dest, origin = r_cores[pos], r_origin[pos]
        per_step["packets_out"][t] = np.bincount(origin, minlength=m)
        per_step["packets_in"][t] = np.bincount(dest, minlength=m)
        per_step["core_packets"][t] = np.bincount(origin[dest == origin], minlength=m)
        if pos.size:
            max_hops[t] = int(r_hops[pos].max())
        # synapses: read on the target core, summed into the accumulators `delay` steps ahead
        sp = _gather(syn.indptr, src)
        if sp.size:
            tgt = syn.indices[sp]
            per_step["synaptic_events"][t] = np.bincount(core[tgt], minlength=m)
            when = (t + syn.delay[sp]) % depth
            np.add.at(acc, (when, syn.group[sp], tgt), syn.mant[sp])
            hit[when, tgt] = True
    empty = np.zeros(0, dtype=np.int64)
    return (np.concatenate(spike_steps) if spike_steps else empty,
            np.concatenate(spike_neurons) if spike_neurons else empty,
            per_step, max_hops, trace_u, trace_v, time.perf_counter() - t0, time.process_time() - c0)


def _loop_compiled(*, neurons: LoihiNeurons, syn: LoihiSynapses, v0: NDArray[np.int64], core: NDArray[np.int64],
                   m: int, steps: int, simulated: NDArray[np.bool_], forced: NDArray[np.bool_],
                   r_indptr: NDArray[np.int64], r_cores: NDArray[np.int64], r_origin: NDArray[np.int64],
                   r_hops: NDArray[np.int64], rec: NDArray[np.int64], all_active: bool) -> _Loop:
    """The compiled step loop (``neurochip.stepped._loop``): same results as :func:`_loop_numpy`."""
    try:
        from . import _loop
    except ImportError as exc:  # pragma: no cover - depends on the build
        raise ImportError(
            "neurochip.stepped._loop is not built; run `make install` (or pass backend='numpy')"
        ) from exc
    n = v0.size
    depth = _depth(syn)
    # Connections with a weight exponent >= 0 share one accumulator, their mantissas shifted at
    # delivery: (sum m) << e == sum (m << e) in integers.  A negative exponent floors the sum
    # of its connection, which does not distribute, so each such connection keeps its own.
    neg = np.flatnonzero(syn.weight_exp < 0)
    slot_of = np.zeros(syn.weight_exp.size, dtype=np.int64)
    slot_of[neg] = np.arange(1, neg.size + 1)
    weight_exp = np.concatenate([[0], syn.weight_exp[neg]]).astype(np.int64)
    g_count = weight_exp.size
    s_exp = syn.weight_exp[syn.group]
    s_mant = np.where(s_exp >= 0, syn.mant << np.maximum(s_exp, 0), syn.mant)

    def i64(a: Any) -> NDArray[np.int64]:
        return np.ascontiguousarray(a, dtype=np.int64).ravel()

    arrays = {
        "du": i64(neurons.du), "dv": i64(neurons.dv), "bias": i64(neurons.bias), "vth": i64(neurons.vth),
        "core": i64(core), "simulated": np.ascontiguousarray(simulated, dtype=np.uint8),
        "forced": np.ascontiguousarray(forced, dtype=np.uint8).ravel() if forced.any() else np.zeros(0, np.uint8),
        "s_indptr": i64(syn.indptr), "s_indices": i64(syn.indices), "s_delay": i64(syn.delay),
        "s_group": i64(slot_of[syn.group]), "s_mant": i64(s_mant), "weight_exp": weight_exp,
        "r_indptr": i64(r_indptr), "r_cores": i64(r_cores), "r_origin": i64(r_origin), "r_hops": i64(r_hops),
        "rec": i64(rec), "u": np.zeros(n, dtype=np.int64), "v": i64(v0).copy(),
        "acc": np.zeros(depth * n * g_count, dtype=np.int64), "hit": np.zeros(depth * n, dtype=np.uint8),
        "counts": np.zeros(len(STEP_COUNTS) * steps * m, dtype=np.int64), "max_hops": np.zeros(steps, dtype=np.int64),
        "trace_u": np.zeros(steps * rec.size, dtype=np.int64), "trace_v": np.zeros(steps * rec.size, dtype=np.int64),
    }  # fmt: skip
    t0, c0 = time.perf_counter(), time.process_time()
    spike_steps, spike_neurons = _loop.run_loop(arrays, steps=steps, depth=depth, all_active=all_active)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    counts = arrays["counts"].reshape(len(STEP_COUNTS), steps, m)
    per_step = {k: counts[i].copy() for i, k in enumerate(STEP_COUNTS)}
    return (spike_steps, spike_neurons, per_step, arrays["max_hops"],
            arrays["trace_u"].reshape(steps, rec.size), arrays["trace_v"].reshape(steps, rec.size), wall, cpu)
