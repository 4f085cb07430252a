"""NIR export: a network to an NIR graph (part of :mod:`neurochip.network`;
:mod:`neurochip.network.nir_io` re-exports :func:`to_nir` and :func:`write_nir`)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ConfigError, InvalidParameterError
from ._nir_base import META, nir_module
from ._nir_common import MAX_DENSE_ENTRIES, NIR_DEFAULT_DT_S, NIRExportWarning
from ._nir_graph import Exporter
from ._nir_nodes import write_node as _write_node
from .model import Network

__all__ = ["to_nir", "write_nir"]


def to_nir(
    network: Network,
    *,
    dt_s: float = NIR_DEFAULT_DT_S,
    inputs: tuple[str, ...] | list[str] | None = None,
    outputs: tuple[str, ...] | list[str] | None = None,
    max_dense_entries: int = MAX_DENSE_ENTRIES,
    relays: tuple[str, ...] | list[str] = (),
    readouts: tuple[str, ...] | list[str] = (),
    output_names: Mapping[str, str] | None = None,
    layers: Mapping[str, tuple[Any, str, str]] | None = None,
) -> Any:
    """Express a network as an NIR graph.

    Each population becomes an LIF node (IF when g_L = 0) named after it; the synapses of
    each (pre, post, delay) become a Linear node (an Affine one carrying the post
    population's bias current on the first chain into it) followed by a Delay node.  Synapses
    repeated between the same pair (multapses) go to further Linear nodes, so none is summed
    away.  Parameters NIR has no field for (t_ref, the exact C and g_L, the initial V) and
    the sparsity of zero weights go to each node's ``metadata["neurochip"]``.

    Parameters
    ----------
    network : Network
        Non-adapting, noise-free neurons, each population all leaky or all non-leaky.
    dt_s : float
        Time step the weights are scaled for (see the module docstring): W = w C / dt_s.
    inputs : list of str, optional
        Populations that get an Input node ``"input_<name>"`` (a port for external spikes).
        Default: those with no incoming synapses, or all if every one has some.
    outputs : list of str, optional
        Populations that get an Output node ``"output_<name>"``.  Default: those with no
        outgoing synapses, or all if every one has some.
    max_dense_entries : int
        Refuse to write a dense weight matrix with more entries than this (NIR is dense).
    relays : list of str
        Populations written back as the Input nodes they were imported from (relay
        populations, :attr:`InputPort.population`): an Input node of their size, named after
        them, from which their synapses leave.
    readouts : list of str
        Populations written back as Output nodes (the readouts of :attr:`NIRImport.readouts`):
        the synapses into them become the weight (and Delay) nodes in front of an Output node
        named after them.  :meth:`NIRImport.to_nir` passes both.
    output_names : dict of str to str, optional
        The name of the Output node of a population in ``outputs`` (default ``output_<name>``).
    layers : dict of str to (LayerInfo, str, str), optional
        Convolutions and poolings the synapses came from: node name -> (its ``LayerInfo``, pre
        population, post population), as :attr:`NIRImport.layers` and
        :attr:`NIRImport.layer_links` hold them.  The synapses pre -> post are written as that
        Conv1d / Conv2d node (followed by a Flatten and a Delay node) while they still are its
        expansion: on the positions its geometry reaches, each kernel weight shared by all of its
        positions (to float32), the bias one value per output channel.  A SumPool2d / AvgPool2d
        node likewise (kernel_size, stride, padding), while its synapses lie on its positions with
        every weight the import's 1 (SumPool2d) or 1 / (kH kW) (AvgPool2d) and no bias current
        reaches the post population.  Otherwise (also a pooling folded at import into the layer
        after it) as a dense node, and a :class:`NIRExportWarning` says why.

    Returns
    -------
    nir.NIRGraph
        The graph, NIR's fields in SI units (``tau`` in s, ``r`` in Ω, voltages in V, Delay
        in s, Affine bias in A), neurochip's exact values in ``metadata["neurochip"]``.

    Raises
    ------
    InvalidParameterError
        On what NIR cannot express (adaptation, noise, a population that mixes leaky and
        non-leaky neurons, a bias with no chain to ride on, a matrix over
        ``max_dense_entries``), naming the population.

    Examples
    --------
    >>> from neurochip.lif import LIFParams
    >>> from neurochip.network import Network, OneToOne, Population, Projection
    >>> from neurochip.network.nir_io import to_nir
    >>> p = LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-9, t_ref_s=0.0)
    >>> net = Network(populations=(Population(name="a", size=2, params=p), Population(name="b", size=2, params=p)),
    ...               projections=(Projection(pre="a", post="b", rule=OneToOne(), weight_volt=0.25, delay_s=1e-3),))
    >>> graph = to_nir(net, dt_s=1e-4)
    >>> {name: type(node).__name__ for name, node in sorted(graph.nodes.items())}
    {'a': 'LIF', 'a__b__d': 'Delay', 'a__b__w': 'Linear', 'b': 'LIF', 'input_a': 'Input', 'output_b': 'Output'}
    >>> graph.nodes["a"].tau.tolist(), graph.nodes["a"].r.round(3).tolist()  # C / g_L (s), 1 / g_L (ohm)
    ([0.001, 0.001], [1000000000.0, 1000000000.0])
    >>> (graph.nodes["a__b__w"].weight * 1e-4 / 1e-12).round(12).tolist()    # W dt / C = w (V)
    [[0.25, 0.0], [0.0, 0.25]]
    >>> graph.nodes["a__b__d"].delay.tolist()                                 # (s)
    [0.001, 0.001]
    """
    nir = nir_module()
    from .. import __version__

    if not isinstance(network, Network):
        raise InvalidParameterError(f"network = {type(network).__name__}: must be a neurochip Network")
    if not (isinstance(dt_s, (int, float)) and math.isfinite(dt_s) and dt_s > 0):
        raise InvalidParameterError(f"dt_s = {dt_s!r}: must be a finite number > 0")
    names = [p.name for p in network.populations]
    for n in (*relays, *readouts):
        if n not in names:
            raise InvalidParameterError(f"population {n!r} (in relays/readouts): not in the network ({names})")
    arrays: dict[str, dict[str, NDArray[np.float64]]] = {}
    nodes: dict[str, Any] = {}
    fields: dict[str, dict] = {}  # each population node's metadata
    for p in network.populations:
        if "/" in p.name:
            raise InvalidParameterError(f"population {p.name!r}: a name with '/' cannot be an NIR node name")
        a = p.arrays()
        if p.name in relays or p.name in readouts:  # an Input or Output node again
            arrays[p.name] = a
            nodes[p.name] = _write_node("input" if p.name in relays else "output", size=p.size, metadata={})
            continue
        for key in ("adapt_increment_amp", "noise_sigma_volt"):
            if (a[key] != 0).any():
                raise InvalidParameterError(
                    f"population {p.name!r}: {key} != 0: NIR has no spike-frequency adaptation or noise; "
                    "export a non-adapting, noise-free network"
                )
        meta = {META: {
            "c_m_farad": a["c_m_farad"], "g_leak_siemens": a["g_leak_siemens"], "e_leak_volt": a["e_leak_volt"],
            "t_ref_s": a["t_ref_s"], "v_init_volt": p.initial_v(),
        }}  # fmt: skip
        if p.model is not None:
            meta[META]["model"] = p.model.to_dict()  # its reset, above all, which NIR has no field for
        fields[p.name] = meta
        try:  # LIF, or IF when g_L = 0; CubaLIF or CubaLI for the current-based model
            nodes[p.name] = _write_node("population", arrays=a, metadata=meta, model=p.model)
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"population {p.name!r}: {exc}") from None
        if nodes[p.name] is None and p.model is not None:
            raise InvalidParameterError(
                f"population {p.name!r}: NIR has no node for the neuron model {p.model.name!r} with {p.model!r}"
            )
        if nodes[p.name] is None:
            raise InvalidParameterError(
                f"population {p.name!r}: mixes leaky and non-leaky neurons; NIR's LIF and IF are separate nodes"
            )
        arrays[p.name] = a

    for k, (_, a, b) in (layers or {}).items():
        if a not in names or b not in names:
            raise InvalidParameterError(f"layers[{k!r}]: populations {a!r} -> {b!r}: not in the network ({names})")
    exp = Exporter(nodes, arrays, dict(layers or {}))
    has_in, has_out = exp.synapses(network, dt_s=float(dt_s), max_dense_entries=max_dense_entries)
    for n, shape in exp.shapes.items():  # a Conv node's ends: the same node with the layer's tensor shape
        pop = network.population(n)
        if n in relays or n in readouts:
            nodes[n] = _write_node("input" if n in relays else "output", size=pop.size, metadata={}, shape=shape)
        else:
            shaped = {k: v.reshape(shape) for k, v in arrays[n].items()}
            nodes[n] = _write_node("population", arrays=shaped, metadata=fields[n], model=pop.model)
    if exp.notes:
        warnings.warn(
            "synapses of a convolution or pooling layer written as dense nodes, since they are no longer its "
            "expansion: "
            + "; ".join(exp.notes),
            NIRExportWarning,
            stacklevel=2,
        )
    own = [n for n in names if n not in relays and n not in readouts]  # populations that stay populations
    ins = [n for n in own if n not in has_in] if inputs is None else list(inputs)
    outs = [n for n in own if n not in has_out] if outputs is None else list(outputs)
    if inputs is None and not ins and not relays:  # every population has input: all are inputs
        ins = own
    if outputs is None and not outs and not readouts:
        outs = own
    for n in ins + outs:
        if n not in names:
            raise InvalidParameterError(f"population {n!r} (in inputs/outputs): not in the network ({names})")
    for n in ins:
        exp.input_port(n, network.population(n).size)
    for n in names:
        if not exp.bias_done[n]:
            raise InvalidParameterError(
                f"population {n!r}: has a bias current but neither incoming synapses nor an input; "
                "list it in inputs= so that the bias can ride on its input's Affine node"
            )
    for n in outs:
        exp.output_port(n, network.population(n).size, (output_names or {}).get(n))
    t_ref = [n for n in names if (arrays[n]["t_ref_s"] > 0).any()]
    if t_ref:
        warnings.warn(
            f"NIR has no refractory period: t_ref_s of {t_ref} is kept in metadata['neurochip'] only "
            "(other tools ignore it)",
            NIRExportWarning,
            stacklevel=2,
        )
    # the graph's reset is that of the LIF nodes (always "value"); a current-based node's own reset
    # is in its metadata ("model"), which the importer reads first
    meta = {META: {"dt_s": float(dt_s), "reset": "value", "version": __version__}}
    return nir.NIRGraph(nodes=exp.nodes, edges=exp.edges, metadata=meta, type_check=True)


def write_nir(network: Network, path: str | Path, **options: Any) -> Any:
    """Write a network to an NIR file (HDF5).

    Parameters
    ----------
    network : Network
        As for :func:`to_nir`.
    path : str or Path
        The file to write (replaced if it exists).
    **options
        The keyword options of :func:`to_nir`: ``dt_s`` (s), ``inputs``, ``outputs``,
        ``max_dense_entries``.

    Returns
    -------
    nir.NIRGraph
        The graph written.

    Raises
    ------
    ConfigError
        When the file cannot be written (names the file).
    InvalidParameterError
        As for :func:`to_nir`.

    Examples
    --------
    >>> import pathlib, tempfile, nir
    >>> from neurochip.lif import LIFParams
    >>> from neurochip.network import Network, Population
    >>> from neurochip.network.nir_io import write_nir
    >>> net = Network(populations=(Population(name="a", size=3, params=LIFParams(t_ref_s=0.0)),))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     graph = write_nir(net, pathlib.Path(tmp) / "net.nir")
    ...     sorted(nir.read(str(pathlib.Path(tmp) / "net.nir")).nodes)
    ['a', 'input_a', 'output_a']
    """
    nir = nir_module()
    graph = to_nir(network, **options)
    try:
        nir.write(str(path), graph)
    except OSError as exc:
        raise ConfigError(f"cannot write NIR file: {exc}", path=str(path)) from None
    return graph


