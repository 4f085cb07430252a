r"""NeuroBench's model metrics, from a network and the counts of a run on a chip.

NeuroBench (Yik et al., "The neurobench framework for benchmarking neuromorphic computing
algorithms and systems", Nat. Commun. 2025) defines complexity metrics that do not depend on the
hardware; :func:`neurobench_metrics` computes them with NeuroBench's names from what neurochip
counts (the spike log and the synapses), for a time-stepped reading of the run with step
``dt_s`` (T = duration / dt_s steps):

``Footprint`` (B)
    Memory of the model's parameters and state: 8 B per synapse (int32 target, float32 weight),
    8 B per row pointer (one per neuron and distinct delay) and 8 B for each of the 12 values a
    neuron carries, as ``neurochip network info`` counts them.
``ConnectionSparsity``
    Zero weights over all weights of the dense layers: each connected (pre, post) pair of
    populations is a layer of n_pre x n_post weights, of which the synapses present are nonzero;
    multapses count once.
``ActivationSparsity``
    1 - spikes / (neurons x T) over the spiking populations (readouts never spike and are left
    out, Input relays are counted: their spikes are the model's input activations).
``SynapticOperations``
    ``Effective_ACs``: accumulates triggered by spikes, the synaptic events delivered (every
    input of a spiking model is binary, so every operation is an accumulate);
    ``Effective_MACs``: multiply-accumulates with non-binary inputs, 0 here (neurochip's inputs
    are spikes; a bias is a constant current, not an operation per step);
    ``Dense``: the operations of the dense layers over every step, sum of n_pre x n_post x T.
``MembraneUpdates``
    Neuron state updates of a time-stepped implementation, neurons x T; ``event_driven`` the
    updates neurochip's chip model counted (``neuron_updates`` of the run), for comparison.

These are the model's numbers; the chip's energy next to them is *modelled*, not measured
(NeuroBench's rule: a hardware figure says how it was obtained), and the dict says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InvalidParameterError

__all__ = ["neurobench_metrics"]

#: Bytes per synapse, per row pointer and per neuron (12 values of 8 B), as ``network info``.
SYNAPSE_BYTES, ROW_BYTES, NEURON_BYTES = 8, 8, 12 * 8


def neurobench_metrics(
    network: Any,
    spike_counts: Any,
    *,
    duration_s: float,
    dt_s: float,
    skip: tuple[str, ...] | list[str] = (),
    event_driven_updates: float | None = None,
) -> dict[str, Any]:
    """NeuroBench's complexity metrics of one run.

    Parameters
    ----------
    network : Network
        The network that ran.
    spike_counts : array of int, shape (n_neurons,)
        Spikes of each neuron over the run (``EmulationResult.spike_counts`` or
        ``RunRecord.spike_counts``).
    duration_s : float
        The run's length (s), > 0.
    dt_s : float
        The time step of the step-based reading (s), > 0: T = round(duration_s / dt_s) steps.
    skip : list of str
        Populations left out of the activation sparsity and the membrane updates (the readouts,
        which never spike).
    event_driven_updates : float, optional
        The neuron updates the chip model counted, reported next to the step-based count.

    Returns
    -------
    dict
        ``Footprint_bytes``, ``ConnectionSparsity``, ``ActivationSparsity``,
        ``SynapticOperations`` (``Effective_ACs``, ``Effective_MACs``, ``Dense``),
        ``MembraneUpdates`` (``time_stepped``, ``event_driven``), ``steps`` and ``note``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurochip.lif import LIFParams
    >>> from neurochip.network import Explicit, Network, Population, Projection
    >>> p = LIFParams(t_ref_s=0.0)
    >>> net = Network(populations=(Population(name="a", size=2, params=p), Population(name="b", size=2, params=p)),
    ...               projections=(Projection(pre="a", post="b", rule=Explicit(pre=[0, 1], post=[0, 0],
    ...                            weight_volt=[1e-3, 1e-3]), delay_s=1e-3),))
    >>> m = neurobench_metrics(net, np.array([3, 1, 0, 0]), duration_s=0.01, dt_s=1e-3)
    >>> m["SynapticOperations"]["Effective_ACs"], m["SynapticOperations"]["Dense"], m["ConnectionSparsity"]
    (4.0, 40.0, 0.5)
    """
    if not (duration_s > 0 and dt_s > 0):
        raise InvalidParameterError(f"duration_s = {duration_s!r}, dt_s = {dt_s!r}: must be > 0")
    counts = np.asarray(spike_counts, dtype=np.float64).reshape(-1)
    if counts.size != network.n_neurons:
        raise InvalidParameterError(f"spike_counts has {counts.size} values, the network {network.n_neurons} neurons")
    steps = max(1, int(round(duration_s / dt_s)))
    csr = network.csr()
    pre, post, _, delay = csr.to_coo()
    names = [p.name for p in network.populations]
    bounds = np.array([network.offset(n) for n in names] + [network.n_neurons])
    pre_pop = np.searchsorted(bounds, pre, side="right") - 1
    post_pop = np.searchsorted(bounds, post, side="right") - 1
    sizes = np.diff(bounds)
    # layers: connected population pairs; their distinct (pre, post) neuron pairs are the nonzeros
    dense = 0
    nonzero = 0
    for a, b in sorted(set(zip(pre_pop.tolist(), post_pop.tolist()))):
        sel = (pre_pop == a) & (post_pop == b)
        dense += int(sizes[a] * sizes[b])
        nonzero += np.unique(pre[sel].astype(np.int64) * network.n_neurons + post[sel]).size
    outdeg = np.bincount(pre, minlength=network.n_neurons).astype(np.float64)
    rows = sum(np.unique(delay[pre == i]).size for i in np.unique(pre)) if pre.size else 0
    footprint = SYNAPSE_BYTES * pre.size + ROW_BYTES * rows + NEURON_BYTES * network.n_neurons
    active = np.ones(network.n_neurons, bool)
    for n in skip:
        active[network.offset(n): network.offset(n) + network.population(n).size] = False
    n_active = int(active.sum())
    return {
        "Footprint_bytes": int(footprint),
        "ConnectionSparsity": 0.0 if dense == 0 else 1.0 - nonzero / dense,
        "ActivationSparsity": 1.0 if n_active == 0 else 1.0 - float(counts[active].sum()) / (n_active * steps),
        "SynapticOperations": {
            "Effective_ACs": float(counts @ outdeg),
            "Effective_MACs": 0.0,
            "Dense": float(dense * steps),
        },
        "MembraneUpdates": {"time_stepped": float(n_active * steps), "event_driven": event_driven_updates},
        "steps": steps,
        "note": "NeuroBench complexity metrics of the model; any energy or latency beside them is modelled "
        "by neurochip's chip model, not measured",
    }
