r"""How long each step takes on the chip: per-core work times latencies, the slowest core, the barrier.

A core has two sides that work concurrently, as the stages of SANA-FE's pipeline model do
(axon in and synapse receive; dendrite, soma and axon out update and send): the receiving side
takes each packet that arrives and reads its synapses, the updating side updates every
compartment and sends the spikes.  Each side works one operation at a time, so in step
:math:`t` core :math:`c` is busy for

.. math::

    T_c(t) = \max\left(N^{in}_c\,\ell_{in} + N^{syn}_c\,\ell_{syn},\;
             N^{act}_c\,\ell_{upd} + N^{inact}_c\,\ell_{idle} + N^{spk}_c\,\ell_{spk} + N^{out}_c\,\ell_{out}\right)

(packets received, synaptic operations; active and inactive neuron updates, spikes generated,
packets sent; each times its latency of :class:`~neurochip.chip.ExecutionSpec`).  The step lasts

.. math::

    T(t) = \max\left(\max_c T_c(t) + H(t)\,\ell_{hop} + \ell_{barrier},\; T_{fixed}\right)

with :math:`H(t)` the longest route (in hops) of a packet sent in the step and
:math:`T_{fixed}` the chip's fixed step (TrueNorth's 1 ms tick; 0 for Loihi, whose step ends as
soon as the barrier completes).  The mesh term is the latency of the farthest packet without
contention, a lower bound when links are congested.  SANA-FE 2.2.9's ``simple`` timing model
was found to compose its latencies this way (a receiving and an updating side per core, their
maximum, the slowest core, plus a fixed synchronisation), by probing it with latencies of
distinct orders of magnitude; docs/sanafe.md gives the probes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .engine import SteppedRun

__all__ = ["RECEIVE_SIDE", "UPDATE_SIDE", "STAGE_LATENCY", "StepTimes", "step_times"]

#: The counts of each side of a core (see the module docstring).
RECEIVE_SIDE: tuple[str, ...] = ("packets_in", "synaptic_events")
UPDATE_SIDE: tuple[str, ...] = ("neuron_updates", "neuron_updates_inactive", "spikes", "packets_out")

#: Count of :data:`~neurochip.stepped.engine.STEP_COUNTS` -> the latency field that times it.
STAGE_LATENCY: dict[str, str] = {
    "packets_in": "message_in_s",
    "synaptic_events": "synaptic_op_s",
    "neuron_updates": "neuron_update_s",
    "neuron_updates_inactive": "neuron_update_inactive_s",
    "spikes": "spike_out_s",
    "packets_out": "message_out_s",
}


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class StepTimes:
    """Durations of every step of a run.

    Attributes
    ----------
    core_s : ndarray of float64, shape (n_steps, n_cores)
        Busy time of every core in every step (the longer of its two sides), s.
    by_stage_s : dict of str to ndarray of float64, shape (n_steps, n_cores)
        The part of ``core_s`` each count of :data:`STAGE_LATENCY` contributes, s.
    critical_core : ndarray of int64, shape (n_steps,)
        The slowest core of each step (the lowest index on ties).
    mesh_s : ndarray of float64, shape (n_steps,)
        Latency of the farthest packet of each step, s.
    barrier_s : float
        Barrier latency added to every step, s.
    step_s : ndarray of float64, shape (n_steps,)
        Duration of each step, s (never below the chip's fixed step).
    """

    core_s: NDArray[np.float64]
    by_stage_s: dict[str, NDArray[np.float64]]
    critical_core: NDArray[np.int64]
    mesh_s: NDArray[np.float64]
    barrier_s: float
    step_s: NDArray[np.float64]


def step_times(run: SteppedRun) -> StepTimes:
    """The duration of every step of a run, from its counts and the chip's latencies.

    Parameters
    ----------
    run : SteppedRun

    Returns
    -------
    StepTimes

    Examples
    --------
    An idle Loihi core of 4 neurons: 4 inactive updates of 5.3 ns, then the 465 ns barrier.

    >>> from neurochip.chip import load_chip
    >>> from neurochip.network import Network, Population
    >>> from neurochip.stepped.engine import run_stepped
    >>> run = run_stepped(Network(populations=(Population(name="A", size=4),)), load_chip("loihi"),
    ...                   steps=3, dt_s=1e-3)
    >>> [round(float(x) * 1e9, 6) for x in step_times(run).step_s]
    [486.2, 486.2, 486.2]
    """
    ex = run.chip.execution
    stages = {k: run.per_step[k] * getattr(ex, f) for k, f in STAGE_LATENCY.items()}
    receive = sum((stages[k] for k in RECEIVE_SIDE), np.zeros(run.per_step["spikes"].shape))
    update = sum((stages[k] for k in UPDATE_SIDE), np.zeros(run.per_step["spikes"].shape))
    core_s = np.maximum(receive, update)
    mesh_s = run.max_hops * run.chip.router.hop_latency_s
    step = core_s.max(axis=1) + mesh_s + ex.barrier_s
    if ex.step_s is not None:
        step = np.maximum(step, ex.step_s)
    return StepTimes(
        core_s=core_s,
        by_stage_s=stages,
        critical_core=np.argmax(core_s, axis=1).astype(np.int64),
        mesh_s=mesh_s.astype(np.float64),
        barrier_s=ex.barrier_s,
        step_s=step,
    )
