"""The graph-level work of NIR import and export (:mod:`neurochip.network.nir_io`).

Import (:func:`flatten`, :class:`Importer`): subgraphs are flattened (``"sub.node"`` names);
then, for every node, what reaches it is composed along the chains of non-spiking nodes back to
the spiking sources (terms of source, delay and matrix, and a bias current), and the chains into
each population become its synapses.  Export (:class:`Exporter`): a network's synapses become
chains of weight and delay nodes between the population nodes.  What each node type does is
asked of the table :data:`~neurochip.network._nir_nodes.NODES`; nothing here depends on a node
type.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError
from ._nir_base import META, Arrays, kind, nir_module, node_error, node_meta
from ._nir_conv import conv_from_synapses, pool_from_synapses
from ._nir_nodes import NODES, Expr, Term, is_sparse, node_size, role
from ._nir_nodes import write_node as _write_node
from .model import Network, Projection
from .rules import Explicit


def flatten(graph: Any, prefix: str = "") -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The nodes (by flattened name) and the edges of ``graph``, subgraphs inlined.

    An edge into a subgraph goes to its single Input node, an edge out of one leaves from its
    single Output node (an edge may name one as ``"sub.node"`` when there are several).
    """
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    _flatten(graph, prefix, nodes, edges)
    return nodes, edges


def _flatten(graph: Any, prefix: str, nodes: dict, edges: list) -> None:
    nir = nir_module()
    for name, node in graph.nodes.items():
        if isinstance(node, nir.NIRGraph):
            _flatten(node, f"{prefix}{name}.", nodes, edges)
        elif prefix + name in nodes:  # a dotted name that is also a subgraph's node
            raise InvalidParameterError(
                f"NIR node {prefix + name!r} ({type(node).__name__}): two nodes have this name once subgraphs are "
                f"flattened to 'sub.node' names (the other is a {type(nodes[prefix + name]).__name__}); rename one"
            )
        else:
            nodes[prefix + name] = node

    def port(end: str, want: str, side: str, edge: tuple) -> str:
        if end in graph.nodes and isinstance(graph.nodes[end], nir.NIRGraph):
            sub = graph.nodes[end]
            found = [k for k, v in sub.nodes.items() if role(v) == want]
            if len(found) != 1:
                raise InvalidParameterError(
                    f"NIR edge {edge[0]!r} -> {edge[1]!r}: subgraph {prefix + end!r} has {len(found)} "
                    f"{want.capitalize()} nodes ({found}); name one in the edge as '{end}.<node>'"
                )
            full = f"{prefix}{end}.{found[0]}"
        else:
            full = prefix + end
        if full not in nodes:
            raise InvalidParameterError(f"NIR edge {edge[0]!r} -> {edge[1]!r}: no node {full!r} ({side})")
        return full

    for a, b in graph.edges:
        edges.append((port(a, "output", "source", (a, b)), port(b, "input", "target", (a, b))))


def source_shape(node: Any, n: int) -> tuple[int, ...]:
    """The tensor shape of what a source node (neuron or Input) emits: its declared output or
    input type when that has n values (a Sinabs IF layer's (C, H, W)), else (n,)."""
    for attr, key in (("output_type", "output"), ("input_type", "input")):
        types = getattr(node, attr, None)
        shape = types.get(key) if isinstance(types, dict) else None
        if shape is not None:
            shape = tuple(int(v) for v in np.asarray(shape).reshape(-1))
            if shape and int(np.prod(shape)) == n:
                return shape
    return (n,)


class Importer:
    """What reaches each node of a flattened graph (every node's type must be in the table).

    ``passes`` are the Input and Output nodes that only pass signals on (a subgraph's Input fed
    from outside, an Output feeding onwards).
    """

    def __init__(self, nodes: dict[str, Any], edges: list[tuple[str, str]], passes: set[str]):
        self.nodes = nodes
        self.passes = passes
        self.incoming: dict[str, list[str]] = {k: [] for k in nodes}
        self.outgoing: dict[str, list[str]] = {k: [] for k in nodes}
        for a, b in edges:
            self.incoming[b].append(a)
            self.outgoing[a].append(b)
        self.memo: dict[str, Expr] = {}
        self.active: set[str] = set()
        self.layers: dict[str, Any] = {}  # convolution and pooling nodes: their LayerInfo
        self.links: dict[str, list[tuple[str, str]]] = {}  # such a node: the (pre, post) populations it joins

    def handler(self, name: str) -> Any:
        return NODES[kind(self.nodes[name])]

    def is_source(self, name: str) -> bool:
        """Whether the node's spikes start chains: a neuron, or an Input that is not a pass."""
        r = self.handler(name).role
        return r == "neuron" or (r == "input" and name not in self.passes)

    def input_of(self, name: str) -> Expr:
        """The sum of what the node's incoming edges carry (shapes checked)."""
        node = self.nodes[name]
        dim = self.handler(name).in_dim(name, node)
        total: Expr | None = None
        for pre in self.incoming[name]:
            e = self.output_of(pre)
            if dim is not None and e.dim != dim:
                raise InvalidParameterError(
                    f"NIR edge {pre!r} -> {name!r}: shape mismatch: {pre!r} ({kind(self.nodes[pre])}) "
                    f"outputs {e.dim} values, {name!r} ({kind(node)}) takes {dim}"
                )
            if total is None:
                total = Expr(e.dim, list(e.terms), e.bias.copy(), e.shape)
                dim = e.dim
            else:
                total.terms += e.terms
                total.bias = total.bias + e.bias
        if total is None:
            return Expr(dim or 0, [], np.zeros(dim or 0))
        return total

    def output_of(self, name: str) -> Expr:
        """What leaves the node: itself for a source, else its chain applied to its input."""
        if name in self.memo:
            return self.memo[name]
        node = self.nodes[name]
        h = self.handler(name)
        if self.is_source(name):
            if not h.spikes and any(role(self.nodes[d]) != "output" for d in self.outgoing[name]):
                raise node_error(
                    name, node,
                    "a non-spiking node (a leaky integrator or an integrator) outputs its membrane potential, "
                    "not spikes; it may only feed Output nodes",
                )  # fmt: skip
            n = h.size(name, node)
            e = Expr(n, [Term(name, 0.0, None)], np.zeros(n), source_shape(node, n))
            self.memo[name] = e
            return e
        if name in self.active:
            raise node_error(name, node, "lies on a loop with no neuron in it (an algebraic loop)")
        self.active.add(name)
        e = self.input_of(name)
        self.active.discard(name)
        out = h.chain(name, node, e, node_meta(node))
        self._folds(name, e, out)
        if out.info is not None:
            self.layers[name] = out.info
        self.memo[name] = out
        return out

    def _folds(self, name: str, e: Expr, out: Expr) -> None:
        """Mark the layers whose matrices this node composed with its own (a pooling before a Conv
        or Linear node, a convolution before an Affine one): their synapses, which keep the first
        layer's name, are then no longer that layer's expansion (``LayerInfo.folded_into``)."""
        before = {id(t.matrix) for t in e.terms if t.layer}
        for t in out.terms:
            info = self.layers.get(t.layer or "")
            if info is not None and id(t.matrix) not in before and not info.folded_into:
                into = f"{name!r} ({kind(self.nodes[name])})"
                self.layers[t.layer] = dataclasses.replace(info, folded_into=into)

    def synapses(
        self,
        c_m_farad: dict[str, NDArray[np.float64]],
        ports: dict[str, list],
        biases: dict[str, NDArray[np.float64]],
        *,
        gain: dict[str, NDArray[np.float64]],
        dt_s: float,
        delay_s: float,
        used_default: list[str],
        exprs: dict[str, Expr] | None = None,
        source_delay_s: dict[str, float] | None = None,
    ) -> list[Projection]:
        """The projections into the neuron nodes (keys of ``c_m_farad``, their capacitance in F).

        A weight W becomes a weight of g W dt_s / C (V: a jump for LIF, a charge / C for the
        current-based model), g the target's ``gain`` (NIR's ``w_in``).  Terms from an Input
        node in ``ports`` go to its list of (target, indptr, neurons, weight_volt, delay_s)
        instead; each neuron node's bias current (A, times g) goes to ``biases``; a path
        without a Delay node gets ``delay_s`` (s) and is named in ``used_default``.  ``exprs``
        gives what reaches a target other than its node's input (a readout of a dangling chain
        node reads that node's output); ``source_delay_s`` the delay (s) of such a path from the
        named sources instead of ``delay_s`` (a profile's convention, not an assumption).
        """
        groups: dict[tuple, list] = {}
        for target, c_m in c_m_farad.items():
            e = exprs[target] if exprs and target in exprs else self.input_of(target)
            g = gain[target]
            biases[target] = g * e.bias if e.bias.size else np.zeros(node_size(target, self.nodes[target]))
            charge_to_volt = g * dt_s / c_m
            for t in e.terms:
                if t.matrix is None:  # a direct edge: one to one, without building an identity matrix
                    post = pre = np.arange(e.dim)
                    wv = charge_to_volt.copy()
                elif is_sparse(t.matrix):  # an expanded convolution or pooling: its nonzeros
                    coo = t.matrix.tocsr()
                    coo.sum_duplicates()
                    coo.eliminate_zeros()
                    coo = coo.tocoo()
                    post, pre = coo.row.astype(np.int64), coo.col.astype(np.int64)
                    wv = coo.data * charge_to_volt[post]
                else:
                    post, pre = np.nonzero((t.matrix != 0) if t.mask is None else t.mask)
                    wv = t.matrix[post, pre] * charge_to_volt[post]
                if t.source in ports:
                    order = np.lexsort((post, pre))
                    indptr = np.zeros(node_size(t.source, self.nodes[t.source]) + 1, np.int64)
                    np.cumsum(np.bincount(pre, minlength=indptr.size - 1), out=indptr[1:])
                    ports[t.source].append((target, indptr, post[order].astype(np.int64), wv[order], t.delay))
                    continue
                if t.delay > 0:
                    d = np.full(pre.size, t.delay)
                elif source_delay_s and t.source in source_delay_s:
                    d = np.full(pre.size, source_delay_s[t.source])
                else:
                    d = np.full(pre.size, delay_s)
                    if pre.size:
                        used_default.append(f"{t.source}->{target}")
                key = (t.source, target, t.layer or f"direct:{len(groups)}")
                groups.setdefault(key, []).append((pre, post, wv, d))
        projections = []
        for src, dst, layer in groups:
            if layer in self.layers and (src, dst) not in self.links.get(layer, []):
                self.links.setdefault(layer, []).append((src, dst))
        for (src, dst, _), parts in groups.items():
            pre, post, w, d = (np.concatenate([p[i] for p in parts]) for i in range(4))
            if pre.size:
                rule = Explicit(pre=pre, post=post, weight_volt=w, delay_s=d)
                projections.append(Projection(pre=src, post=dst, rule=rule, delay_s=float(d.min())))
        return projections


# --------------------------------------------------------------------------------------------
# export


def _layers(pre: NDArray, post: NDArray) -> NDArray[np.int64]:
    """Rank of each synapse among the synapses of the same (pre, post) pair (0, 1, ...)."""
    if pre.size == 0:
        return np.zeros(0, np.int64)
    key = pre.astype(np.int64) * (int(post.max()) + 1) + post
    order = np.argsort(key, kind="stable")
    sk = key[order]
    first = np.r_[0, np.flatnonzero(np.diff(sk)) + 1]
    starts = np.repeat(first, np.diff(np.r_[first, sk.size]))
    rank = np.empty(pre.size, np.int64)
    rank[order] = np.arange(sk.size) - starts
    return rank


class Exporter:
    """The nodes and edges of the graph :func:`~neurochip.network.nir_io.to_nir` writes.

    ``nodes`` starts with one node per population; ``arrays`` holds each population's
    per-neuron arrays (SI units), in network order.  A population's bias current rides on the
    first weight node into it (an Affine one); ``bias_done`` tells which still wait for one.
    """

    def __init__(self, nodes: dict[str, Any], arrays: dict[str, Arrays], layers: dict[str, Any] | None = None):
        self.nodes = nodes
        self.arrays = arrays
        self.edges: list[tuple[str, str]] = []
        self.taken = set(arrays)
        self.bias_done = {n: not (a["bias_current_amp"] != 0).any() for n, a in arrays.items()}
        # (pre, post) -> (node name, LayerInfo) of the convolution their synapses came from
        self.convs: dict[tuple[str, str], tuple[str, Any]] = {}
        for name, (info, pre, post) in (layers or {}).items():
            self.convs.setdefault((pre, post), (name, info))
        self.notes: list[str] = []  # why a projection of a convolution is written as a dense matrix
        self.shapes: dict[str, tuple[int, ...]] = {}  # populations written with a tensor shape (a Conv's ends)
        self.flats: dict[str, str] = {}  # a shaped population's Flatten node, for the dense nodes it feeds

    def fresh(self, base: str) -> str:
        """An unused node name: ``base``, else ``base_1``, ``base_2``, ..."""
        name, k = base, 1
        while name in self.taken:
            name, k = f"{base}_{k}", k + 1
        self.taken.add(name)
        return name

    def weight_node(self, matrix: NDArray[np.float64], post: str, meta: dict) -> Any:
        if not self.bias_done[post]:
            self.bias_done[post] = True
            bias = self.arrays[post]["bias_current_amp"].copy()
            return _write_node("biased weights", weight=matrix, bias=bias, metadata=meta)
        return _write_node("weights", weight=matrix, metadata=meta)

    def synapses(self, network: Network, *, dt_s: float, max_dense_entries: int) -> tuple[set[str], set[str]]:
        """A weight node (W = w C / dt_s) and a Delay node per (pre, post, delay) group of
        synapses, and one more pair per extra layer of multapses; a group that is still the
        expansion of the convolution it came from (:attr:`convs`) a Conv node instead, its two
        populations then written with the layer's tensor shapes (:attr:`shapes`), which NIR's
        types need.  Returns the populations with incoming and with outgoing synapses."""
        names = list(self.arrays)
        csr = network.csr()
        pre_g, post_g, w_all, d_all = csr.to_coo()
        starts = {p.name: network.offset(p.name) for p in network.populations}
        bounds = np.array([starts[n] for n in names] + [network.n_neurons])
        pre_pop = np.searchsorted(bounds, pre_g, side="right") - 1
        post_pop = np.searchsorted(bounds, post_g, side="right") - 1
        has_in: set[str] = set()
        has_out: set[str] = set()
        if not pre_g.size:
            return has_in, has_out
        key = np.lexsort((d_all, post_pop, pre_pop))
        pre_g, post_g, w_all, d_all = pre_g[key], post_g[key], w_all[key], d_all[key]
        pre_pop, post_pop = pre_pop[key], post_pop[key]
        group_key = np.stack([pre_pop, post_pop, np.searchsorted(csr.delays_s, d_all)])
        cuts = np.r_[0, np.flatnonzero(np.any(np.diff(group_key, axis=1) != 0, axis=0)) + 1, pre_g.size]
        groups = []
        for s, e in zip(cuts[:-1], cuts[1:]):
            a_name, b_name = names[pre_pop[s]], names[post_pop[s]]
            i, j = pre_g[s:e] - starts[a_name], post_g[s:e] - starts[b_name]
            weight = w_all[s:e].astype(np.float64) * self.arrays[b_name]["c_m_farad"][j] / dt_s  # NIR's W
            groups.append((a_name, b_name, i, j, weight, float(d_all[s])))
            has_in.add(b_name)
            has_out.add(a_name)
        convs = self._convs(groups)
        for k, (a_name, b_name, i, j, weight, delay) in enumerate(groups):
            if k in convs:
                self._write_conv(a_name, b_name, *convs[k], delay)
                continue
            n_pre, n_post = self.arrays[a_name]["c_m_farad"].size, self.arrays[b_name]["c_m_farad"].size
            if n_pre * n_post > max_dense_entries:
                raise InvalidParameterError(
                    f"projection {a_name}->{b_name}: a dense NIR weight matrix of {n_post} x {n_pre} entries "
                    f"exceeds max_dense_entries = {max_dense_entries}"
                )
            rank = _layers(i, j)
            for layer in range(int(rank.max()) + 1):
                sel = rank == layer
                matrix = np.zeros((n_post, n_pre))
                matrix[j[sel], i[sel]] = weight[sel]
                meta: dict = {}
                if (weight[sel] == 0).any():
                    mask = np.zeros((n_post, n_pre), np.uint8)
                    mask[j[sel], i[sel]] = 1
                    meta = {META: {"mask": mask}}
                wn = self.fresh(f"{a_name}__{b_name}__w")
                dn = self.fresh(f"{a_name}__{b_name}__d")
                self.nodes[wn] = self.weight_node(matrix, b_name, meta)
                self.nodes[dn] = _write_node("delay", delay=np.full(n_post, delay))
                self.edges += [(self.flat(a_name), wn), (wn, dn), (dn, b_name)]
        return has_in, has_out

    def _convs(self, groups: list) -> dict[int, tuple]:
        """The groups written as Conv or pooling nodes: (node name, info, kernel, per-channel bias) by
        group.  A group qualifies when its synapses are the layer's expansion (:func:`conv_from_synapses`,
        :func:`pool_from_synapses`: a pooling's every weight its value as imported, no bias into it)
        and its two populations can take the layer's shapes: one shape each, and no dense group
        into either (a flat weight node cannot feed a shaped node; NIR has no reshape to it)."""
        found: dict[int, tuple] = {}
        for k, (a_name, b_name, i, j, weight, _) in enumerate(groups):
            if (a_name, b_name) not in self.convs:
                continue
            layer, info = self.convs[(a_name, b_name)]
            n_pre, n_post = self.arrays[a_name]["c_m_farad"].size, self.arrays[b_name]["c_m_farad"].size
            bias = self.arrays[b_name]["bias_current_amp"]
            n_in, n_out = int(np.prod(info.input_shape)), int(np.prod(info.output_shape))
            if info.folded_into:
                kernel, why = None, (f"it was composed at import with the node {info.folded_into} after it: the "
                                     "synapses are the product of the two, which is not split back into two nodes")
            elif (n_pre, n_post) != (n_in, n_out):
                kernel, why = None, f"{n_pre} -> {n_post} neurons, the layer {info.input_shape} -> {info.output_shape}"
            elif _layers(i, j).max() > 0:
                kernel, why = None, "repeated synapses between one pair of neurons"
            elif info.pool_kernel:  # a pooling: no weights or bias of its own to write
                why = pool_from_synapses(info, i, j, weight)
                if not why and (bias != 0).any():
                    why = f"population {b_name!r} has a bias current, which a {info.kind} node cannot carry"
                kernel, bias = (None, None) if why else (np.zeros(0), None)
            else:
                kernel, bias, why = conv_from_synapses(info, i, j, weight, bias if (bias != 0).any() else None)
            if kernel is None:
                self.notes.append(f"{a_name}->{b_name}: a dense Linear node, not {info.kind} {layer!r}: {why}")
            else:
                found[k] = (layer, info, kernel, bias)
        while True:  # populations' shapes: drop the convolutions whose ends cannot be shaped, until none
            want: dict[str, set] = {}
            for k, (_, info, _, _) in found.items():
                want.setdefault(groups[k][0], set()).add(tuple(info.input_shape))
                want.setdefault(groups[k][1], set()).add(tuple(info.output_shape))
            dense_in = {groups[k][1] for k in range(len(groups)) if k not in found}
            bad = {k: pop for k in found for pop in groups[k][:2] if len(want[pop]) > 1 or pop in dense_in}
            if not bad:
                break
            for k, pop in bad.items():
                layer, info = found.pop(k)[:2]
                why = "it has two shapes" if len(want[pop]) > 1 else "dense synapses reach it too"
                self.notes.append(f"{groups[k][0]}->{groups[k][1]}: a dense Linear node, not {info.kind} {layer!r}: "
                                  f"population {pop!r} cannot take the layer's shape ({why})")  # fmt: skip
        self.shapes = {pop: next(iter(v)) for pop, v in want.items()}
        return found

    def _write_conv(self, pre: str, post: str, layer: str, info: Any, kernel: NDArray, bias: Any, delay: float) -> None:
        """A Conv node (or a pooling node: ``info.pool_kernel``, no kernel or bias) and a Delay node
        of the layer's output shape between the two (shaped) populations; the population's bias
        rides on the first Conv node into it."""
        if self.bias_done[post]:
            bias = None
        self.bias_done[post] = True
        cn = self.fresh(layer)
        dn = self.fresh(f"{pre}__{post}__d")
        if info.pool_kernel:
            self.nodes[cn] = _write_node("pool", info=info)
        else:
            self.nodes[cn] = _write_node("conv", info=info, kernel=kernel, bias=bias)
        self.nodes[dn] = _write_node("delay", delay=np.full(info.output_shape, delay))
        self.edges += [(pre, cn), (cn, dn), (dn, post)]

    def flat(self, name: str) -> str:
        """The node a population's flat signal leaves from: itself, or a Flatten after it when it is
        written with a tensor shape."""
        if name not in self.shapes:
            return name
        if name not in self.flats:
            self.flats[name] = fn = self.fresh(f"{name}__flat")
            self.nodes[fn] = _write_node("flatten", shape=self.shapes[name])
            self.edges.append((name, fn))
        return self.flats[name]

    def input_port(self, name: str, size: int) -> None:
        """An Input node ``input_<name>`` into population ``name`` (through an identity Affine
        node when the population's bias still needs one)."""
        port = self.fresh(f"input_{name}")
        self.nodes[port] = _write_node("input", size=size, metadata={META: {"port": 1}}, shape=self.shapes.get(name))
        if not self.bias_done[name]:
            an = self.fresh(f"input_{name}__bias")
            self.nodes[an] = self.weight_node(np.eye(size), name, {})
            self.edges += [(port, an), (an, name)]
        else:
            self.edges.append((port, name))

    def output_port(self, name: str, size: int, node_name: str | None = None) -> None:
        """An Output node ``output_<name>`` (or ``node_name``) fed by population ``name``."""
        port = self.fresh(node_name or f"output_{name}")
        self.nodes[port] = _write_node("output", size=size, shape=self.shapes.get(name))
        self.edges.append((name, port))
