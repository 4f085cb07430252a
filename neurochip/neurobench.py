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


def _input_events(imp: Any, events: dict[str, Any] | None, rate_hz: float | None, steps: int, dt_s: float,
                  rng: np.random.Generator) -> list[Any]:  # fmt: skip
    """The stimuli of one inference: the events given (on the first Input node) or Bernoulli
    spikes at ``rate_hz`` per channel on every step of every Input node."""
    stimuli: list[Any] = []
    if events is not None:
        name = next(iter(imp.inputs))
        port = imp.inputs[name]
        t = np.asarray(events["t_s"], dtype=np.float64).reshape(-1)
        if "channel" in events:
            ch = np.asarray(events["channel"], dtype=np.int64).reshape(-1)
        else:  # x, y, polarity on a (polarity, y, x) input, C order
            shape = imp.network.population(port.population).size if port.population else port.size
            x, y, p = (np.asarray(events[k], dtype=np.int64).reshape(-1) for k in ("x", "y", "polarity"))
            width = int(x.max()) + 1 if "width" not in events else int(events["width"])
            height = int(y.max()) + 1 if "height" not in events else int(events["height"])
            ch = (p * height + y) * width + x
            if ch.size and ch.max() >= shape:
                raise InvalidParameterError(f"events: x/y/polarity address {int(ch.max())} >= the input's {shape} channels")
        if t.shape != ch.shape:
            raise InvalidParameterError("events: t_s and the channels must have one value per event")
        return imp.spike_input(name, t, ch)
    for name, port in imp.inputs.items():
        p = min(1.0, float(rate_hz) * dt_s)
        fire = rng.random((steps, port.size)) < p
        k, ch = np.nonzero(fire)
        stimuli += imp.spike_input(name, k * dt_s, ch)
    return stimuli


def estimate(
    model: Any,
    chip: Any,
    *,
    profile: str | None = None,
    steps: int = 100,
    rate_hz: float | None = None,
    events: dict[str, Any] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """What one inference of an NIR model costs on a chip: fit, energy, latency, saturation, metrics.

    One inference is ``steps`` time steps of the graph's ``dt_s`` (from the profile) fed with the
    given events or with Bernoulli spikes at ``rate_hz`` per input channel and step; the run
    lasts until the last layer has had its input (steps + layers + 1/2 steps).

    Parameters
    ----------
    model : str, path or nir.NIRGraph
        The NIR model.
    chip : str, path or ChipSpec
        A preset name (``"loihi"``) or a chip TOML file.
    profile : str, optional
        The exporter profile (:mod:`neurochip.network.nir_profiles`).
    steps : int
        Time steps of one inference, >= 1.
    rate_hz : float, optional
        Input rate per channel (Hz) when ``events`` is not given (default 100 Hz x dt: p = 0.1 per step).
    events : dict of arrays, optional
        ``t_s`` (s) and ``channel``, or ``t_s``, ``x``, ``y``, ``polarity`` (optional ``width``,
        ``height``), on the first Input node.
    seed : int
        Seed of the input spikes and of the emulator.

    Returns
    -------
    dict
        ``fits`` (and, when it does not, ``overflow``: the capacity, required, available and the
        message); ``energy_per_inference_joule`` (``total``, ``dynamic``, ``static``,
        ``by_operation``), ``latency_per_inference_s`` (first input to last spike of the output
        populations, or the arrival at a readout of the last spike that feeds it; None without
        such spikes), ``packet_latency_s``, ``saturation``,
        ``neurobench`` (:func:`neurobench_metrics`), ``layers`` (shapes and synapse memory of
        convolutions and pooling), ``model`` (profile, dt_s, steps, populations, synapses) and
        ``assumed`` (what the import assumed).
    """
    import warnings

    from .chip import ChipSpec, load_chip
    from .errors import MappingError
    from .mapping import map_network
    from .network.nir_io import NIRImportWarning, from_nir
    from .onchip import run_on_chip
    from .report import energy_report, saturation_report, throughput_report

    if not (isinstance(steps, int) and steps >= 1):
        raise InvalidParameterError(f"steps = {steps!r}: must be an integer >= 1")
    if rate_hz is not None and not rate_hz >= 0:
        raise InvalidParameterError(f"rate_hz = {rate_hz!r}: must be >= 0")
    spec = chip if isinstance(chip, ChipSpec) else load_chip(chip)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NIRImportWarning)
        imp = from_nir(model, profile=profile)
    assumed = [str(w.message) for w in caught if issubclass(w.category, NIRImportWarning)]
    net, dt = imp.network, imp.dt_s
    rng = np.random.default_rng(seed)
    stimuli = _input_events(imp, events, 0.1 / dt if rate_hz is None else rate_hz, steps, dt, rng)
    depth = len(net.populations)
    duration = (steps + depth + 0.5) * dt
    out: dict[str, Any] = {
        "chip": spec.name,
        "model": {"profile": imp.profile, "dt_s": dt, "steps": steps, "duration_s": duration,
                  "neurons": net.n_neurons, "synapses": int(net.csr().n_synapses),
                  "populations": {p.name: p.size for p in net.populations}, "readouts": dict(imp.readouts)},
        "assumed": assumed,
        "layers": {k: {"kind": v.kind, "input_shape": list(v.input_shape), "output_shape": list(v.output_shape),
                       "expanded_synapses": v.expanded_synapses, "expanded_bytes": v.expanded_bytes,
                       "shared_weights": v.shared_weights, "shared_bytes": v.shared_bytes}
                   for k, v in imp.layers.items()},
    }  # fmt: skip
    try:
        mapping = map_network(net, spec)
    except MappingError as exc:
        out["fits"] = False
        out["overflow"] = {"capacity": exc.capacity, "required": exc.required, "available": exc.available,
                           "message": str(exc)}  # fmt: skip
        return out
    out["fits"] = True
    record = run_on_chip(net, spec, duration_s=duration, inputs=stimuli, seed=seed, mapping=mapping)
    _, energy = energy_report(record)
    tp = throughput_report(record)
    sat = saturation_report(record)
    # the last event that changes an output: a spike of an output population, or the arrival at a
    # readout of the last spike of a population that feeds it
    ends: dict[str, float] = {}  # population -> delay after its spikes that still changes an output
    for pops in imp.outputs.values():
        for p in pops:
            if p in imp.readouts:
                for proj in net.projections:
                    if proj.post == p:
                        d = getattr(proj.rule, "delay_s", None)
                        d = proj.delay_s if d is None else float(np.max(d))
                        ends[proj.pre] = max(ends.get(proj.pre, 0.0), d)
            else:
                ends[p] = max(ends.get(p, 0.0), 0.0)
    times, addr = record.events["time_s"], record.events["address"]
    in_times = np.concatenate([s.times_s for s in stimuli]) if stimuli else np.zeros(0)
    last = [float(times[sel].max()) + d for p, d in ends.items()
            if (sel := (addr >= net.offset(p)) & (addr < net.offset(p) + net.population(p).size)).any()]  # fmt: skip
    latency = max(last) - float(in_times.min()) if last and in_times.size else None
    out["energy_per_inference_joule"] = {
        "total": energy["total_joule"], "dynamic": energy["dynamic_joule"], "static": energy["static_joule"],
        "by_operation": dict(energy["by_operation_joule"]), "modelled": True,
    }  # fmt: skip
    out["latency_per_inference_s"] = latency
    out["packet_latency_s"] = dict(record.latency_s)
    out["saturation"] = {
        "neurons_saturated": sat["neurons_saturated"], "max_rate_fraction_of_ceiling": sat["max_rate_fraction_of_ceiling"],
        "links_saturated": sat["links_saturated"], "link_utilisation_max": tp["link_utilisation_max"],
        "drops": sat["drops"],
    }  # fmt: skip
    out["neurobench"] = neurobench_metrics(net, record.spike_counts, duration_s=(steps + depth) * dt, dt_s=dt,
                                           skip=list(imp.readouts),
                                           event_driven_updates=record.counts.total("neuron_updates"))  # fmt: skip
    return out
