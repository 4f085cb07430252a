r"""The NIR node types neurochip reads and writes: one table, :data:`NODES`.

Each entry maps a ``nir`` class name to a :class:`NodeHandler` that says what the node is to
neurochip (its role), how to read it and how to write it.  The importer and the exporter in
:mod:`neurochip.network.nir_io` (and the graph walk in :mod:`._nir_graph`) ask the table and
never branch on a node type themselves, so supporting one more node type is one entry here plus
its functions.  Roles:

``"neuron"``
    Becomes a population (``size``, ``params``, and ``model`` for a neuron model of
    :mod:`neurochip.models`, with ``gain`` scaling what flows in); a source of spikes (unless
    ``spikes`` is False: it may then only feed Output nodes).
``"input"``
    An Input node: a relay population or a port (``size``); inside a subgraph and fed from
    outside, a pass-through.
``"output"``
    An Output node: collects the populations that reach it; feeding onwards, a pass-through.
``"chain"``
    A node between spiking nodes; ``chain`` says what comes out given what goes in (an
    :class:`Expr`: terms of source, delay and matrix, plus a bias current).

For the exporter, ``writes`` names what a handler writes (a population, weights with or without
a bias, a convolution, a delay, an input or output port) and ``write`` builds the ``nir`` node;
``accepts`` picks among several handlers that write the same thing (LIF for leaky populations,
IF for non-leaky ones, CubaLIF and CubaLI for populations of the current-based model, Conv1d or
Conv2d by the kernel's dimensions).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError
from ..models.cuba import Cuba
from ._nir_base import LI_THRESHOLD_VOLT, META, Arrays, kind, nir_module, node_array, node_error, node_meta
from ._nir_conv import conv_matrix, pool_matrix, write_conv, write_pool
from ._nir_params import (
    cuba_gain,
    cuba_li_model,
    cuba_li_params,
    cuba_lif_model,
    cuba_lif_params,
    cuba_size,
    i_params,
    if_params,
    li_params,
    lif_params,
    threshold_params,
)

#: Node types refused with a reason of their own (every other type not in NODES gets the generic
#: one); an entry in NODES wins over one here.
REFUSED: dict[str, str] = {}

# --------------------------------------------------------------------------------------------
# chains: what flows along the edges between spiking nodes


@dataclass(slots=True)
class Term:
    source: str
    delay: float
    matrix: NDArray[np.float64] | None  # None: identity
    mask: NDArray[np.bool_] | None = None  # connected pairs, when not simply matrix != 0
    layer: str | None = None  # the first weight node on the path


@dataclass(slots=True)
class Expr:
    dim: int
    terms: list[Term]
    bias: NDArray[np.float64]
    shape: tuple[int, ...] | None = None  # the tensor shape of the dim values (C, H, W), when known
    info: Any = None  # what the node that made this Expr was (a _nir_conv.LayerInfo), for reports


def is_sparse(m: Any) -> bool:
    """Whether a chain matrix is a scipy sparse matrix (an expanded convolution or pooling)."""
    return m is not None and not isinstance(m, np.ndarray) and hasattr(m, "tocoo")


def _rows(m: Any, factor: NDArray[np.float64]) -> Any:
    """diag(factor) @ m, for a dense or a sparse m."""
    if is_sparse(m):
        import scipy.sparse as sp

        out = sp.csr_matrix(sp.diags(factor) @ m)
        out.eliminate_zeros()
        return out
    return factor[:, None] * m


def _pass(name: str, node: Any, e: Expr, meta: dict) -> Expr:
    return e


def _linear(name: str, node: Any, e: Expr, meta: dict) -> Expr:
    """I = W x: the matrices multiply, the bias goes through W."""
    w = np.asarray(node.weight, dtype=np.float64)
    if not np.isfinite(w).all():
        raise node_error(name, node, "weight contains a non-finite value")
    terms = []
    for t in e.terms:
        if t.matrix is None:
            mask = None
            if "mask" in meta:
                mask = np.asarray(meta["mask"]).astype(bool)
                if mask.shape != w.shape:
                    raise node_error(name, node, f"metadata mask has shape {mask.shape}, weight {w.shape}")
            terms.append(Term(t.source, t.delay, w.copy(), mask, name))
        else:
            terms.append(Term(t.source, t.delay, np.asarray(w @ t.matrix), None, t.layer))
    return Expr(w.shape[0], terms, w @ e.bias, (w.shape[0],))


def _affine(name: str, node: Any, e: Expr, meta: dict) -> Expr:
    """I = W x + b: the bias is a constant current."""
    out = _linear(name, node, e, meta)
    bias = node_array(name, node, "bias")
    if bias.shape != out.bias.shape:
        raise node_error(name, node, f"bias has {bias.size} values, weight {np.asarray(node.weight).shape} outputs "
                                     f"{out.bias.size}")  # fmt: skip
    out.bias = out.bias + bias
    return out


def _scale(name: str, node: Any, e: Expr, meta: dict) -> Expr:
    s = node_array(name, node, "scale")
    terms = [
        Term(t.source, t.delay, np.diag(s) if t.matrix is None else _rows(t.matrix, s), t.mask, t.layer)
        for t in e.terms
    ]
    return Expr(e.dim, terms, s * e.bias, e.shape)


def _delay(name: str, node: Any, e: Expr, meta: dict) -> Expr:
    """Each distinct delay value splits the path (rows of the matrix) so that a synapse's delay is
    the sum of the Delay nodes along it."""
    d = node_array(name, node, "delay")
    if (d < 0).any():
        raise node_error(name, node, f"delay = {float(d.min())!r}: must be >= 0")
    terms = []
    for t in e.terms:
        m = np.eye(e.dim) if t.matrix is None else t.matrix
        for value in np.unique(d):
            rows = d == value
            if rows.all():
                terms.append(Term(t.source, t.delay + float(value), m, t.mask, t.layer))
                continue
            if is_sparse(m):  # zeros of a sparse matrix are no synapses: no mask needed
                terms.append(Term(t.source, t.delay + float(value), _rows(m, rows.astype(np.float64)), None, t.layer))
                continue
            sub = np.where(rows[:, None], m, 0.0)
            mask = None if t.mask is None else t.mask & rows[:, None]
            if mask is None:
                mask = (m != 0) & rows[:, None]
            terms.append(Term(t.source, t.delay + float(value), sub, mask, t.layer))
    return Expr(e.dim, terms, e.bias, e.shape)


def _flatten_node(name: str, node: Any, e: Expr, meta: dict) -> Expr:
    """Populations are flat already: only the shape changes."""
    return Expr(e.dim, list(e.terms), e.bias, (e.dim,))


def _through(name: str, e: Expr, m: Any, bias: NDArray[np.float64], info: Any) -> Expr:
    """What comes out of a sparse layer matrix m (out, in) with a bias per output value."""
    terms = [Term(t.source, t.delay, m if t.matrix is None else m @ t.matrix, None, t.layer or name) for t in e.terms]
    for t in terms:
        if not is_sparse(t.matrix):
            t.matrix = np.asarray(t.matrix)
    return Expr(m.shape[0], terms, np.asarray(m @ e.bias).reshape(-1) + bias, info.output_shape, info)


def _conv(name: str, node: Any, e: Expr, meta: dict) -> Expr:
    m, bias, info = conv_matrix(name, node, e.shape)
    return _through(name, e, m, bias, info)


def _pool(name: str, node: Any, e: Expr, meta: dict) -> Expr:
    m, info = pool_matrix(name, node, e.shape)
    return _through(name, e, m, np.zeros(m.shape[0]), info)


def _conv_dim(name: str, node: Any) -> int | None:
    """C_in x the spatial input shape; C_in = the weight's second axis times groups (nir's own
    input_type leaves the groups out); None without an input_shape (the shape flowing in decides)."""
    spatial = getattr(node, "input_shape", None)
    weight = np.asarray(node.weight)
    if spatial is None or weight.ndim < 3:
        return None
    return int(weight.shape[1] * int(node.groups) * np.prod(np.asarray(spatial)))


# --------------------------------------------------------------------------------------------
# sizes: how many values a node takes in (None: any) and how many neurons or channels it has


def _no_dim(name: str, node: Any) -> int | None:
    return None


def _input_size(name: str, node: Any) -> int:
    return int(np.prod(np.asarray(node.input_type["input"])))


def _neuron_size(name: str, node: Any) -> int:
    return int(np.asarray(node.r).size)


def _output_dim(name: str, node: Any) -> int | None:
    shape = node.output_type.get("output") if isinstance(node.output_type, dict) else None
    return None if shape is None else int(np.prod(np.asarray(shape)))


def _weight_dim(name: str, node: Any) -> int:
    w = np.asarray(node.weight)
    if w.ndim != 2:
        raise node_error(name, node, f"weight has shape {w.shape}: only 2-d weights (out, in) are supported")
    return int(w.shape[1])


def _vector_dim(attr: str) -> Callable[[str, Any], int]:
    return lambda name, node: int(np.asarray(getattr(node, attr)).size)



def neuron_arrays(
    name: str, node: Any, t_ref: NDArray[np.float64], if_tau_s: float | None, notes: list[str]
) -> Arrays:
    """The LIFParams arrays of a neuron node, with neurochip's exact C, g_L and E_L from the
    node's metadata when they agree with the NIR fields (NIR's tau = C/g, r = 1/g round in the
    last bit); a disagreement is appended to ``notes`` (a warning)."""
    out, exact_equal = NODES[kind(node)].params(name, node, if_tau_s)
    out["t_ref_s"] = t_ref
    shape = out["g_leak_siemens"].shape  # that of r
    for key, arr in out.items():
        if arr.shape != shape:
            raise node_error(name, node, f"{key}: parameter arrays have shapes {arr.shape} and {shape}")
    meta = node_meta(node)
    exact = {k: np.asarray(meta[k], dtype=np.float64).reshape(-1) for k in ("c_m_farad", "g_leak_siemens",
             "e_leak_volt") if k in meta}  # fmt: skip
    if exact_equal is None or len(exact) != 3 or any(v.shape != shape for v in exact.values()):
        return out
    ok = all(np.allclose(exact[k], out[k], rtol=1e-12, atol=0) for k in ("c_m_farad", "g_leak_siemens"))
    ok = ok and all(np.array_equal(exact[k], out[k]) for k in exact_equal)
    if ok:
        out.update(exact)
    else:
        notes.append(f"NIR node {name!r}: neurochip metadata disagrees with the NIR parameters; using the NIR ones")
    return out


# --------------------------------------------------------------------------------------------
# writers (export)


def _never_fires(arrays: Arrays) -> bool:
    """An LI or I population as the importer makes it: a threshold never reached."""
    return bool((arrays["v_th_volt"] >= LI_THRESHOLD_VOLT).all())


def _is_leaky(*, arrays: Arrays, metadata: dict, model: Any = None) -> bool:
    return model is None and bool((arrays["g_leak_siemens"] > 0).all()) and not _never_fires(arrays)


def _is_perfect(*, arrays: Arrays, metadata: dict, model: Any = None) -> bool:
    return model is None and bool((arrays["g_leak_siemens"] == 0).all()) and not _never_fires(arrays)


def _is_li(*, arrays: Arrays, metadata: dict, model: Any = None) -> bool:
    return model is None and bool((arrays["g_leak_siemens"] > 0).all()) and _never_fires(arrays)


def _is_i(*, arrays: Arrays, metadata: dict, model: Any = None) -> bool:
    return model is None and bool((arrays["g_leak_siemens"] == 0).all()) and _never_fires(arrays)


def _write_li(*, arrays: Arrays, metadata: dict, model: Any = None) -> Any:
    a, g = arrays, arrays["g_leak_siemens"]
    return nir_module().LI(tau=a["c_m_farad"] / g, r=1.0 / g, v_leak=a["e_leak_volt"].copy(), metadata=metadata)


def _write_i(*, arrays: Arrays, metadata: dict, model: Any = None) -> Any:
    return nir_module().I(r=1.0 / arrays["c_m_farad"], metadata=metadata)


def _is_cuba(spiking: bool) -> Callable[..., bool]:
    return lambda *, arrays, metadata, model=None: isinstance(model, Cuba) and model.spiking is spiking


def _cuba_common(arrays: Arrays, model: Cuba) -> dict[str, NDArray[np.float64]]:
    """The fields CubaLIF and CubaLI share; w_in = 1 (weights carry the whole charge).  Raises on
    what NIR cannot express (the caller names the population)."""
    g = arrays["g_leak_siemens"]
    if model.tau_syn_inh_s != model.tau_syn_exc_s:
        raise InvalidParameterError(
            f"tau_syn_exc_s = {model.tau_syn_exc_s!r} != tau_syn_inh_s = {model.tau_syn_inh_s!r}: NIR's CubaLIF and "
            "CubaLI have one synaptic current (one tau_syn)"
        )
    if not (g > 0).all():
        k = int(np.flatnonzero(~(g > 0))[0])
        raise InvalidParameterError(
            f"neuron {k}: g_leak_siemens = {float(g[k])!r}: NIR's CubaLIF and CubaLI need a leak (tau_mem = C / g_L)"
        )
    return {"tau_syn": np.full(g.size, model.tau_syn_exc_s), "tau_mem": arrays["c_m_farad"] / g, "r": 1.0 / g,
            "v_leak": arrays["e_leak_volt"].copy(), "w_in": np.ones(g.size)}  # fmt: skip


def _write_cuba_lif(*, arrays: Arrays, metadata: dict, model: Cuba) -> Any:
    return nir_module().CubaLIF(
        **_cuba_common(arrays, model), v_threshold=arrays["v_th_volt"].copy(), v_reset=arrays["v_reset_volt"].copy(),
        metadata=metadata,
    )  # fmt: skip


def _write_cuba_li(*, arrays: Arrays, metadata: dict, model: Cuba) -> Any:
    """CubaLI has no threshold: neurochip's V_th and V_reset (unused by a leaky integrator) go to
    the metadata so that a round trip gives them back."""
    meta = {**metadata, META: {**metadata.get(META, {}), "v_th_volt": arrays["v_th_volt"].copy(),
                               "v_reset_volt": arrays["v_reset_volt"].copy()}}  # fmt: skip
    return nir_module().CubaLI(**_cuba_common(arrays, model), metadata=meta)


def _write_lif(*, arrays: Arrays, metadata: dict, model: Any = None) -> Any:
    a, g = arrays, arrays["g_leak_siemens"]
    return nir_module().LIF(
        tau=a["c_m_farad"] / g, r=1.0 / g, v_leak=a["e_leak_volt"].copy(),
        v_threshold=a["v_th_volt"].copy(), v_reset=a["v_reset_volt"].copy(), metadata=metadata,
    )  # fmt: skip


def _write_if(*, arrays: Arrays, metadata: dict, model: Any = None) -> Any:
    a = arrays
    return nir_module().IF(
        r=1.0 / a["c_m_farad"], v_threshold=a["v_th_volt"].copy(), v_reset=a["v_reset_volt"].copy(), metadata=metadata
    )


def _is_conv(nd: int) -> Callable[..., bool]:
    return lambda *, info, kernel, bias: len(info.kernel_shape) == nd + 2


def _is_pool(kind_: str) -> Callable[..., bool]:
    return lambda *, info: info.kind == kind_


def _write_affine(*, weight: NDArray, bias: NDArray, metadata: dict) -> Any:
    return nir_module().Affine(weight=weight, bias=bias, metadata=metadata)


def _write_linear(*, weight: NDArray, metadata: dict) -> Any:
    return nir_module().Linear(weight=weight, metadata=metadata)


def _write_flatten(*, shape: tuple[int, ...]) -> Any:
    """What flows in, of this shape, to a flat vector (behind a Conv node written back)."""
    return nir_module().Flatten(input_type={"input": np.array(shape)}, start_dim=0, end_dim=-1)


def _write_delay(*, delay: NDArray) -> Any:
    return nir_module().Delay(delay=delay)


def _write_input(*, size: int, metadata: dict, shape: tuple[int, ...] | None = None) -> Any:
    return nir_module().Input(input_type={"input": np.array(shape or [size])}, metadata=metadata)


def _write_output(*, size: int, metadata: dict | None = None, shape: tuple[int, ...] | None = None) -> Any:
    return nir_module().Output(output_type={"output": np.array(shape or [size])}, metadata=metadata or {})


# --------------------------------------------------------------------------------------------
# the table


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeHandler:
    """How neurochip reads and writes one NIR node type (an entry of :data:`NODES`).

    Attributes
    ----------
    role : {"neuron", "input", "output", "chain"}
        What the node is to neurochip (see the module docstring).
    in_dim : callable (name, node) -> int or None
        How many values the node takes in; None when it takes any number.
    size : callable (name, node) -> int, optional
        Neuron and Input nodes: number of neurons or channels.
    chain : callable (name, node, expr, metadata) -> expr
        Chain nodes: what comes out, given what goes in; a pass-through by default.
    params : callable (name, node, if_tau_s) -> (arrays, exact), optional
        Neuron nodes: the LIFParams arrays but ``t_ref_s`` (SI units), and which of them must
        equal neurochip's metadata, beyond C and g_L, for its exact values to be used (None:
        never use them).
    spikes : bool
        Neuron nodes: False when the node outputs a potential, not spikes.
    memoryless : bool
        Neuron nodes without state (Threshold): the importer scales C and g_L with the time step
        (C = dt_s, g_L = C / (THRESHOLD_TAU_STEPS dt_s)) and a bias b into them with g_L (so that
        V rests at b, added to each instant's input); they reset to a value under every profile.
    model : callable (name, node, reset) -> NeuronModel, optional
        Neuron nodes of a model of :mod:`neurochip.models` (None: the built-in LIF with delta
        synapses): the population's ``model=`` spec, given the reset (``"value"`` or
        ``"subtract"``) chosen for the node.  Only such nodes can reset by subtraction.
    gain : callable (name, node) -> array, optional
        Neuron nodes: a per-neuron factor on everything that flows in (weights and bias; NIR's
        ``w_in``); None: 1.
    writes : str, optional
        What :func:`~neurochip.network.nir_io.to_nir` writes with this node type:
        ``"population"``, ``"biased weights"``, ``"weights"``, ``"conv"`` (synapses that still
        share a convolution's kernel), ``"pool"`` (synapses that still are a pooling's expansion), ``"delay"``, ``"input"`` or ``"output"``.
    accepts : callable (**fields) -> bool, optional
        Among the handlers that write the same thing, whether this one can express ``fields``.
    write : callable (**fields) -> nir node, optional
        Builds the node.
    """

    role: str
    in_dim: Callable[[str, Any], int | None] = _no_dim
    size: Callable[[str, Any], int] | None = None
    chain: Callable[[str, Any, Expr, dict], Expr] = _pass
    params: Callable[[str, Any, float | None], tuple[Arrays, tuple[str, ...] | None]] | None = None
    spikes: bool = True
    memoryless: bool = False
    model: Callable[[str, Any, str], Any] | None = None
    gain: Callable[[str, Any], NDArray[np.float64]] | None = None
    writes: str | None = None
    accepts: Callable[..., bool] | None = None
    write: Callable[..., Any] | None = None


#: The supported NIR node types, in the order error messages list them (subgraphs, ``NIRGraph``
#: nodes, are flattened before the table is asked).
NODES: dict[str, NodeHandler] = {
    "Input": NodeHandler(role="input", size=_input_size, writes="input", write=_write_input),
    "Output": NodeHandler(role="output", in_dim=_output_dim, writes="output", write=_write_output),
    "LIF": NodeHandler(
        role="neuron", in_dim=_neuron_size, size=_neuron_size, params=lif_params,
        writes="population", accepts=_is_leaky, write=_write_lif,
    ),
    "IF": NodeHandler(
        role="neuron", in_dim=_neuron_size, size=_neuron_size, params=if_params,
        writes="population", accepts=_is_perfect, write=_write_if,
    ),
    "LI": NodeHandler(
        role="neuron", in_dim=_neuron_size, size=_neuron_size, params=li_params, spikes=False,
        writes="population", accepts=_is_li, write=_write_li,
    ),
    "CubaLIF": NodeHandler(
        role="neuron", in_dim=cuba_size, size=cuba_size, params=cuba_lif_params, model=cuba_lif_model,
        gain=cuba_gain, writes="population", accepts=_is_cuba(True), write=_write_cuba_lif,
    ),
    "CubaLI": NodeHandler(
        role="neuron", in_dim=cuba_size, size=cuba_size, params=cuba_li_params, model=cuba_li_model,
        gain=cuba_gain, spikes=False, writes="population", accepts=_is_cuba(False), write=_write_cuba_li,
    ),
    "Affine": NodeHandler(
        role="chain", in_dim=_weight_dim, chain=_affine, writes="biased weights", write=_write_affine
    ),
    "Linear": NodeHandler(role="chain", in_dim=_weight_dim, chain=_linear, writes="weights", write=_write_linear),
    "Scale": NodeHandler(role="chain", in_dim=_vector_dim("scale"), chain=_scale),
    "Delay": NodeHandler(role="chain", in_dim=_vector_dim("delay"), chain=_delay, writes="delay", write=_write_delay),
    "Flatten": NodeHandler(role="chain", chain=_flatten_node, writes="flatten", write=_write_flatten),  # a reshape
    "I": NodeHandler(
        role="neuron", in_dim=_neuron_size, size=_neuron_size, params=i_params, spikes=False,
        writes="population", accepts=_is_i, write=_write_i,
    ),
    "Conv1d": NodeHandler(role="chain", in_dim=_conv_dim, chain=_conv, writes="conv", accepts=_is_conv(1),
                          write=write_conv),
    "Conv2d": NodeHandler(role="chain", in_dim=_conv_dim, chain=_conv, writes="conv", accepts=_is_conv(2),
                          write=write_conv),
    "SumPool2d": NodeHandler(role="chain", chain=_pool, writes="pool", accepts=_is_pool("SumPool2d"), write=write_pool),
    "AvgPool2d": NodeHandler(role="chain", chain=_pool, writes="pool", accepts=_is_pool("AvgPool2d"), write=write_pool),
    "Threshold": NodeHandler(
        role="neuron", in_dim=_vector_dim("threshold"), size=_vector_dim("threshold"), params=threshold_params,
        memoryless=True,
    ),
}  # fmt: skip


def role(node: Any) -> str | None:
    """The node's role, None for a type that is not in :data:`NODES`."""
    handler = NODES.get(kind(node))
    return None if handler is None else handler.role


def handler(name: str, node: Any) -> NodeHandler:
    """The node's entry in :data:`NODES`; an unsupported type raises, naming the node and its type."""
    found = NODES.get(kind(node))
    if found is None:
        text = REFUSED.get(kind(node), f"unsupported node type; neurochip imports {', '.join(NODES)} and subgraphs")
        raise node_error(name, node, text)
    return found


def node_size(name: str, node: Any) -> int:
    """Number of neurons (a neuron node) or channels (an Input node)."""
    return NODES[kind(node)].size(name, node)


def neuron_kinds() -> list[str]:
    """The node types that become populations."""
    return [k for k, h in NODES.items() if h.role == "neuron"]


def write_node(writes: str, **fields: Any) -> Any:
    """The node written by the first handler that writes ``writes`` and accepts ``fields``; None
    when none does."""
    for h in NODES.values():
        if h.writes == writes and h.write is not None and (h.accepts is None or h.accepts(**fields)):
            return h.write(**fields)
    return None


def node_model(name: str, node: Any, reset: str) -> Any:
    """The population's ``model=`` spec for a neuron node (None: the built-in LIF).  A reset by
    subtraction on a node without a model raises, naming the node."""
    h = NODES[kind(node)]
    if h.model is None:
        if reset != "value":
            raise node_error(
                name, node,
                f"reset = {reset!r} is not supported: neurochip's LIF neurons with delta synapses reset to a value "
                "(v <- v_reset). Import this node with reset='value' to approximate it when the overshoot above "
                "threshold is small (pass reset as a dict of node names to choose per node)",
            )  # fmt: skip
        return None
    return h.model(name, node, reset)


def node_gain(name: str, node: Any) -> NDArray[np.float64]:
    """The factor on everything that flows into a neuron node (NIR's ``w_in``; 1 for LIF, IF, LI)."""
    h = NODES[kind(node)]
    return np.ones(node_size(name, node)) if h.gain is None else h.gain(name, node)
