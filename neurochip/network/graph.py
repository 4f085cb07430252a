"""networkx views of a network, and the figures ``neurochip network info`` prints.

Graphs are plain data (populations, projections, CSR arrays); these functions build networkx
views of them for analysis and drawing, never for storage:

* :func:`population_graph`: one node per population (size, mean and spread of every
  parameter), one edge per connected (pre, post) pair (synapse count, weight statistics,
  delays);
* :func:`neuron_graph`: one node per neuron, one edge per synapse (small networks only);
* :func:`network_summary`: neurons, synapses, in/out-degree statistics, delays, memory and,
  given firing rates, the expected traffic (spikes/s and synaptic events/s).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError
from .model import Network
from .population import NEURON_FIELDS

__all__ = ["population_graph", "neuron_graph", "network_summary", "population_of"]

#: Largest network :func:`neuron_graph` builds unless told otherwise.
MAX_NEURON_GRAPH = 20_000


def population_of(network: Network) -> NDArray[np.int64]:
    """Population index of every neuron (global id), shape (n_neurons,).

    Parameters
    ----------
    network : Network
        Its populations, in order, number the neurons.

    Returns
    -------
    ndarray of int64, shape (n_neurons,)
        Index into ``network.populations`` of each neuron.

    Examples
    --------
    >>> from neurochip.network import AllToAll, Network, Population, Projection
    >>> net = Network(populations=(Population(name="A", size=3), Population(name="B", size=2)),
    ...               projections=(Projection(pre="A", post="B", rule=AllToAll(), weight_volt=0.25),))
    >>> population_of(net).tolist()
    [0, 0, 0, 1, 1]
    """
    return np.repeat(np.arange(len(network.populations)), [p.size for p in network.populations])


def _pairs(network: Network) -> dict[tuple[int, int], dict[str, Any]]:
    csr = network.csr()
    pre, post, w, d = csr.to_coo()
    pop = population_of(network)
    n_pop = len(network.populations)
    key = pop[pre] * n_pop + pop[post]
    out = {}
    for k in np.unique(key):
        sel = key == k
        ws = w[sel].astype(np.float64)
        out[(int(k // n_pop), int(k % n_pop))] = {
            "n_synapses": int(sel.sum()),
            "weight_mean_volt": float(ws.mean()),
            "weight_std_volt": _std(ws),
            "weight_min_volt": float(ws.min()),
            "weight_max_volt": float(ws.max()),
            "delays_s": sorted(set(np.unique(d[sel]).tolist())),
        }
    return out


def population_graph(network: Network) -> Any:
    """The population graph as a ``networkx.DiGraph``.

    Nodes are population names with attributes ``size``, ``params`` (the population's
    LIFParams as a dict), ``mean`` and ``std`` (dicts over the per-neuron fields, bias
    included).  Edges are the connected (pre, post) pairs with ``n_synapses``,
    ``weight_mean_volt``, ``weight_std_volt``, ``weight_min_volt``, ``weight_max_volt``,
    ``delays_s`` and ``rules`` (the connection rules of the projections between the pair).

    Parameters
    ----------
    network : Network
        The network; its synapses are built (``network.csr()``) if they are not yet.

    Returns
    -------
    networkx.DiGraph
        Node and edge attributes in SI units (V, s, A, F, S).

    Examples
    --------
    >>> from neurochip.network import AllToAll, Network, Population, Projection
    >>> net = Network(populations=(Population(name="A", size=3), Population(name="B", size=2)),
    ...               projections=(Projection(pre="A", post="B", rule=AllToAll(), weight_volt=0.25),))
    >>> g = population_graph(net)
    >>> list(g.nodes), g.nodes["A"]["size"]
    (['A', 'B'], 3)
    >>> e = g.edges["A", "B"]
    >>> e["n_synapses"], e["weight_mean_volt"], e["delays_s"], e["rules"]
    (6, 0.25, [0.001], ['AllToAll'])
    """
    import networkx as nx

    g = nx.DiGraph()
    for p in network.populations:
        a = p.arrays()
        g.add_node(
            p.name,
            size=p.size,
            params=p.params.to_dict(),
            mean={k: float(a[k].mean()) for k in NEURON_FIELDS},
            std={k: _std(a[k]) for k in NEURON_FIELDS},
        )
    names = [p.name for p in network.populations]
    for (a, b), attrs in _pairs(network).items():
        rules = [type(pr.rule).__name__ for pr in network.projections if (pr.pre, pr.post) == (names[a], names[b])]
        g.add_edge(names[a], names[b], rules=rules, **attrs)
    return g


def neuron_graph(network: Network, *, max_neurons: int = MAX_NEURON_GRAPH) -> Any:
    """The neuron graph as a ``networkx.MultiDiGraph`` (small networks only).

    Nodes are global neuron ids with ``population`` and ``index`` (local); edges are synapses
    with ``weight_volt`` (V) and ``delay_s`` (s) (a multigraph: repeated synapses stay apart).

    Parameters
    ----------
    network : Network
        The network to draw.
    max_neurons : int
        Largest network built (default :data:`MAX_NEURON_GRAPH`): a guard against graphs of
        millions of Python objects.

    Returns
    -------
    networkx.MultiDiGraph
        ``n_neurons`` nodes and ``n_synapses`` edges.

    Raises
    ------
    InvalidParameterError
        When the network has more than ``max_neurons`` neurons.

    Examples
    --------
    >>> from neurochip.network import AllToAll, Network, Population, Projection
    >>> net = Network(populations=(Population(name="A", size=3), Population(name="B", size=2)),
    ...               projections=(Projection(pre="A", post="B", rule=AllToAll(), weight_volt=0.25),))
    >>> g = neuron_graph(net)
    >>> g.number_of_nodes(), g.number_of_edges(), g.nodes[3]
    (5, 6, {'population': 'B', 'index': 0})
    >>> g.edges[0, 3, 0]
    {'weight_volt': 0.25, 'delay_s': 0.001}
    """
    import networkx as nx

    if network.n_neurons > max_neurons:
        raise InvalidParameterError(
            f"neuron_graph: the network has {network.n_neurons} neurons, more than max_neurons = {max_neurons}; "
            "use population_graph, or raise max_neurons"
        )
    g = nx.MultiDiGraph()
    for p in network.populations:
        off = network.offset(p.name)
        g.add_nodes_from((off + i, {"population": p.name, "index": i}) for i in range(p.size))
    pre, post, w, d = network.csr().to_coo()
    g.add_edges_from(
        (int(a), int(b), {"weight_volt": float(x), "delay_s": float(y)}) for a, b, x, y in zip(pre, post, w, d)
    )
    return g


def _std(x: NDArray) -> float:
    """Standard deviation, exactly 0 for a constant array (numpy's may leave rounding)."""
    return 0.0 if x.size == 0 or (x == x.flat[0]).all() else float(x.std())


def _stats(x: NDArray) -> dict[str, float]:
    if x.size == 0:
        return {"min": 0.0, "mean": 0.0, "max": 0.0, "std": 0.0}
    const = bool((x == x.flat[0]).all())
    return {"min": float(x.min()), "mean": float(x.flat[0]) if const else float(x.mean()), "max": float(x.max()), "std": _std(x)}


def _rates(network: Network, rates_hz: float | Mapping[str, float] | None) -> NDArray[np.float64] | None:
    if rates_hz is None:
        return None
    names = [p.name for p in network.populations]
    if isinstance(rates_hz, Mapping):
        unknown = sorted(set(rates_hz) - set(names))
        if unknown:
            raise InvalidParameterError(f"rates_hz: population {unknown[0]!r} is not in the network ({names})")
        missing = [n for n in names if n not in rates_hz]
        if missing:
            raise InvalidParameterError(f"rates_hz: no rate for population(s) {missing}")
        per_pop = [rates_hz[n] for n in names]
    else:
        per_pop = [rates_hz] * len(names)
    for n, r in zip(names, per_pop):
        if isinstance(r, bool) or not isinstance(r, numbers.Real) or not (math.isfinite(r) and r >= 0):
            raise InvalidParameterError(f"rates_hz[{n!r}] = {r!r}: must be a finite number >= 0")
    return np.repeat(np.asarray(per_pop, np.float64), [p.size for p in network.populations])


def network_summary(network: Network, *, rates_hz: float | Mapping[str, float] | None = None) -> dict[str, Any]:
    """Size, connectivity, memory and (given rates) traffic of a network, as a dict.

    Parameters
    ----------
    network : Network
        The network to summarise.
    rates_hz : float or mapping of str to float, optional
        Mean firing rate (Hz, finite, >= 0) of every neuron, or one per population (every
        population named, no other name).

    Returns
    -------
    dict
        ``n_neurons``, ``n_synapses``, ``populations`` (name, size, mean/std of V_th, tau_m,
        t_ref, bias, ``model``: the neuron model's dict or None for delta synapses), ``projections`` (per connected pair: synapses, weights, delays),
        ``in_degree`` / ``out_degree`` (min, mean, max, std over neurons), ``delays_s``
        (distinct values), ``memory`` (bytes of the synapse arrays, per synapse, and of the
        per-neuron state at 8 bytes per value), and with rates ``traffic``: ``spikes_per_s``
        = sum of rates, ``synaptic_events_per_s`` = sum over neurons of rate x out-degree.

    Raises
    ------
    InvalidParameterError
        If a rate is negative or not finite, or the mapping of rates misses a population or
        names one that is not in the network.

    Notes
    -----
    With :math:`r_i` the rate and :math:`k^{out}_i` the out-degree of neuron :math:`i`:

    .. math::

        \\text{spikes/s} = \\sum_i r_i, \\qquad
        \\text{synaptic events/s} = \\sum_i r_i \\, k^{out}_i

    Examples
    --------
    >>> from neurochip.network import AllToAll, Network, Population, Projection
    >>> net = Network(populations=(Population(name="A", size=3), Population(name="B", size=2)),
    ...               projections=(Projection(pre="A", post="B", rule=AllToAll(), weight_volt=0.25),))
    >>> s = network_summary(net, rates_hz={"A": 10.0, "B": 0.0})
    >>> s["n_neurons"], s["n_synapses"], s["out_degree"]["max"]
    (5, 6, 2.0)
    >>> s["traffic"]["spikes_per_s"], s["traffic"]["synaptic_events_per_s"]
    (30.0, 60.0)
    """
    csr = network.csr()
    out_deg = csr.out_degree()
    in_deg = np.bincount(csr.indices, minlength=network.n_neurons)
    pops = []
    for p in network.populations:
        a = p.arrays()
        with np.errstate(divide="ignore"):
            tau = np.where(a["g_leak_siemens"] > 0, a["c_m_farad"] / np.maximum(a["g_leak_siemens"], 1e-300), np.inf)
        pops.append({
            "name": p.name, "size": p.size,
            "v_th_volt": _stats(a["v_th_volt"]), "tau_m_s": _stats(tau), "t_ref_s": _stats(a["t_ref_s"]),
            "bias_current_amp": _stats(a["bias_current_amp"]), "heterogeneous": sorted(p.per_neuron),
            "model": None if p.model is None else p.model.to_dict(),
        })  # fmt: skip
    names = [p.name for p in network.populations]
    projections = [{"pre": names[a], "post": names[b], **attrs} for (a, b), attrs in _pairs(network).items()]
    n_state = len(NEURON_FIELDS) + 2  # parameters, V and the last spike time
    summary: dict[str, Any] = {
        "n_neurons": network.n_neurons,
        "n_synapses": csr.n_synapses,
        "n_populations": len(network.populations),
        "populations": pops,
        "projections": projections,
        "in_degree": _stats(in_deg),
        "out_degree": _stats(out_deg),
        "delays_s": [float(x) for x in csr.delays_s if math.isfinite(x)],
        "memory": {
            "synapse_bytes": csr.nbytes,
            "bytes_per_synapse": csr.bytes_per_synapse,
            "neuron_state_bytes": int(8 * n_state * network.n_neurons),
        },
    }
    rates = _rates(network, rates_hz)
    if rates is not None:
        summary["traffic"] = {
            "rates_hz": {n: float(rates[network.offset(n)]) for n in names},
            "spikes_per_s": float(rates.sum()),
            "synaptic_events_per_s": float((rates * out_deg).sum()),
        }
    return summary
