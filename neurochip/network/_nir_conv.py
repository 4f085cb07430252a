r"""Convolution and pooling NIR nodes, expanded to explicit synapses (sparse matrices).

A population is flat, so a Conv1d, Conv2d, SumPool2d or AvgPool2d node becomes the sparse matrix
that maps its flattened input (C, H, W) to its flattened output (C', H', W') in C order, the
order of ``numpy.reshape`` and of PyTorch's ``flatten``:

.. math::

    y[c', i, j] = b[c'] + \sum_{c, k, l} w[c', c - g\,C_{in}/G, k, l]\;
                  x[c, i s_0 - p_0 + k d_0,\; j s_1 - p_1 + l d_1],

``c`` running over the input channels of ``c'``'s group (G groups), out-of-range inputs being the
zero padding.  A pooling node is the same with a kernel of ones (SumPool2d) or of
1/(k_0 k_1) (AvgPool2d, padding counted, as PyTorch's default) per channel.  The matrix joins
the chain between spiking nodes like an Affine node's; what the layer was (its shapes, its
shared weights) is kept in a :class:`LayerInfo` so that reports can show the memory both ways,
and so that export can write the layer back as its node while the synapses are still exactly
its expansion (:func:`conv_from_synapses`, :func:`pool_from_synapses`, which checks a pooling
as the depthwise convolution it was expanded to).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError
from ._nir_base import nir_module

#: Bytes of one expanded synapse (int32 target + float32 weight, as ``network info`` counts).
SYNAPSE_BYTES = 8
#: Bytes of one shared kernel weight (float32).
WEIGHT_BYTES = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerInfo:
    """What a convolution or pooling node was before its expansion to synapses.

    Attributes
    ----------
    kind : str
        The NIR node type (``"Conv2d"``, ``"SumPool2d"``, ...).
    input_shape, output_shape : tuple of int
        (C, H, W) or (C, L) of what flows in and out.
    shared_weights : int
        Distinct parameters of the layer (kernel entries; 0 for a sum pool, whose weights are
        all one): what a chip with weight sharing stores.
    expanded_synapses : int
        Nonzero entries of the expanded matrix: what a chip without weight sharing stores.
    kernel_shape : tuple of int
        A convolution's weight shape, (C_out, C_in / groups, K) or (C_out, C_in / groups, kH,
        kW); empty for pooling.  With ``stride``, ``padding`` (resolved to integers),
        ``dilation`` and ``groups`` it is the geometry export needs to write the layer back as a
        Conv node when the synapses still share a kernel (:func:`conv_from_synapses`).
    pool_kernel : tuple of int
        A pooling's (kH, kW), with its ``stride`` and ``padding``; empty for a convolution.  The
        geometry export needs to write the layer back as its pooling node
        (:func:`pool_from_synapses`).
    folded_into : str
        The node (``"'name' (Type)"``) whose matrix import composed with this layer's, a Conv or
        Linear node after a pooling, say (the synapses then are the product of the two and keep
        this layer's name); empty when the synapses are this layer's own expansion.
    """

    kind: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    shared_weights: int
    expanded_synapses: int
    kernel_shape: tuple[int, ...] = ()
    stride: tuple[int, ...] = ()
    padding: tuple[int, ...] = ()
    dilation: tuple[int, ...] = ()
    groups: int = 1
    pool_kernel: tuple[int, ...] = ()
    folded_into: str = ""

    @property
    def expanded_bytes(self) -> int:
        """Synapse memory without weight sharing (B): 8 bytes per expanded synapse."""
        return SYNAPSE_BYTES * self.expanded_synapses

    @property
    def shared_bytes(self) -> int:
        """Synapse memory with weight sharing (B): 4 bytes per kernel weight."""
        return WEIGHT_BYTES * self.shared_weights


def _err(name: str, node: Any, text: str) -> InvalidParameterError:
    return InvalidParameterError(f"NIR node {name!r} ({type(node).__name__}): {text}")


def _pair(name: str, node: Any, attr: str, value: Any, ndim: int) -> tuple[int, ...]:
    arr = np.atleast_1d(np.asarray(value)).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, ndim)
    if arr.size != ndim or not np.all(np.isfinite(arr.astype(np.float64))) or (arr != np.round(arr)).any():
        raise _err(name, node, f"{attr} = {np.asarray(value).tolist()!r}: expected {ndim} integer value(s)")
    return tuple(int(v) for v in arr)


def _expand(
    weight: NDArray[np.float64],
    in_shape: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    dilation: tuple[int, ...],
    groups: int,
) -> tuple[Any, tuple[int, ...]]:
    """The sparse (out, in) matrix of an N-d convolution (N = 1 or 2, written for 2: a 1-d one has
    a unit first spatial axis) and the output shape (C_out, *spatial)."""
    import scipy.sparse as sp

    rows, cols, entry, out = _positions(weight.shape, in_shape, stride, padding, dilation, groups)
    c_in, h, w = in_shape
    m = sp.csr_matrix((weight.reshape(-1)[entry], (rows, cols)), shape=(int(np.prod(out)), c_in * h * w))
    m.eliminate_zeros()  # duplicates add
    return m, out


def _positions(
    kernel_shape: tuple[int, ...],
    in_shape: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    dilation: tuple[int, ...],
    groups: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], tuple[int, ...]]:
    """Every (row, column) of a 2-d convolution's expanded matrix that a kernel entry reaches (zero
    padding left out), the entry's flat index in the kernel, and the output shape."""
    c_out, c_in_g = kernel_shape[:2]
    kh, kw = kernel_shape[2:]
    c_in, h, w = in_shape
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if ho < 1 or wo < 1:
        raise InvalidParameterError(f"the kernel does not fit the input {in_shape} (output {ho} x {wo})")
    co, ci, a, b, oi, oj = np.meshgrid(
        np.arange(c_out), np.arange(c_in_g), np.arange(kh), np.arange(kw), np.arange(ho), np.arange(wo), indexing="ij"
    )
    ii = oi * sh - ph + a * dh
    jj = oj * sw - pw + b * dw
    keep = (ii >= 0) & (ii < h) & (jj >= 0) & (jj < w)
    co, ci, a, b, oi, oj, ii, jj = (x[keep] for x in (co, ci, a, b, oi, oj, ii, jj))
    cin = (co // (c_out // groups)) * c_in_g + ci
    rows = (co * ho + oi) * wo + oj
    cols = (cin * h + ii) * w + jj
    entry = ((co * c_in_g + ci) * kh + a) * kw + b
    return rows.astype(np.int64), cols.astype(np.int64), entry.astype(np.int64), (c_out, ho, wo)


def conv_matrix(name: str, node: Any, in_shape: tuple[int, ...] | None) -> tuple[Any, NDArray, LayerInfo]:
    """(sparse matrix, bias per output value, layer info) of a Conv1d or Conv2d node, given the
    shape of what flows in (None: taken from the node's ``input_type``)."""
    nd = 1 if type(node).__name__ == "Conv1d" else 2
    weight = np.asarray(node.weight, dtype=np.float64)
    if weight.ndim != nd + 2:
        raise _err(name, node, f"weight has shape {weight.shape}: expected (C_out, C_in / groups, {'K' if nd == 1 else 'kH, kW'})")
    if not np.isfinite(weight).all():
        raise _err(name, node, "weight contains a non-finite value")
    groups = int(node.groups)
    if groups < 1 or weight.shape[0] % groups:
        raise _err(name, node, f"groups = {groups}: must be >= 1 and divide C_out = {weight.shape[0]}")
    c_in = weight.shape[1] * groups
    spatial = node.input_shape
    if spatial is None and in_shape is not None and len(in_shape) == nd + 1 and int(in_shape[0]) == c_in:
        spatial = tuple(int(v) for v in in_shape[1:])  # the shape of what flows in (Lava-DL writes no input_shape)
    if spatial is None:
        raise _err(name, node, "input_shape is None: the spatial input shape is needed to expand the convolution")
    spatial = _pair(name, node, "input_shape", spatial, nd)
    want = (c_in, *spatial)
    if in_shape is not None and int(np.prod(in_shape)) != int(np.prod(want)):
        raise _err(name, node, f"takes {want} = {int(np.prod(want))} values, gets {tuple(in_shape)}")
    stride = _pair(name, node, "stride", node.stride, nd)
    dilation = _pair(name, node, "dilation", node.dilation, nd)
    kernel = weight.shape[2:]
    if isinstance(node.padding, str):
        if node.padding == "valid":
            padding = (0,) * nd
        else:  # "same": as PyTorch, for stride 1 and an odd extent
            extent = [d * (k - 1) for d, k in zip(dilation, kernel)]
            if any(e % 2 for e in extent) or any(s != 1 for s in stride):
                raise _err(name, node, "padding = 'same' is supported for stride 1 and odd kernel extents only")
            padding = tuple(e // 2 for e in extent)
    else:
        padding = _pair(name, node, "padding", node.padding, nd)
    if nd == 1:
        w2, shape2 = weight[:, :, None, :], (c_in, 1, spatial[0])
        stride, padding, dilation = (1, stride[0]), (0, padding[0]), (1, dilation[0])
    else:
        w2, shape2 = weight, want
    try:
        m, out = _expand(w2, shape2, stride, padding, dilation, groups)
    except InvalidParameterError as exc:
        raise _err(name, node, str(exc)) from None
    out_shape = (out[0], out[2]) if nd == 1 else out
    bias = np.zeros(weight.shape[0]) if node.bias is None else np.asarray(node.bias, dtype=np.float64).reshape(-1)
    if bias.size == 1 and weight.shape[0] > 1:
        bias = np.full(weight.shape[0], float(bias[0]))
    if bias.size != weight.shape[0] or not np.isfinite(bias).all():
        raise _err(name, node, f"bias has {bias.size} values: expected C_out = {weight.shape[0]} finite values")
    per_out = np.repeat(bias, int(np.prod(out_shape[1:])))
    info = LayerInfo(kind=type(node).__name__, input_shape=want, output_shape=tuple(int(v) for v in out_shape),
                     shared_weights=int(weight.size), expanded_synapses=int(m.nnz), kernel_shape=weight.shape,
                     stride=stride if nd == 2 else stride[1:], padding=padding if nd == 2 else padding[1:],
                     dilation=dilation if nd == 2 else dilation[1:], groups=groups)  # fmt: skip
    return m, per_out, info


def pool_matrix(name: str, node: Any, in_shape: tuple[int, ...] | None) -> tuple[Any, LayerInfo]:
    """(sparse matrix, layer info) of a SumPool2d or AvgPool2d node on an input of shape (..., H, W):
    the pooling acts on the last two axes, each index of the leading ones (C, or C1 x C2 x ...) a
    channel of its own."""
    if in_shape is None or len(in_shape) < 3:
        raise _err(name, node, f"input shape {in_shape}: pooling needs a (C, H, W) input (from a Conv2d node, a "
                               "neuron node of that shape or an Input node)")  # fmt: skip
    kernel = _pair(name, node, "kernel_size", node.kernel_size, 2)
    stride = _pair(name, node, "stride", node.stride, 2)
    padding = _pair(name, node, "padding", node.padding, 2)
    if min(kernel) < 1 or min(stride) < 1 or min(padding) < 0:
        raise _err(name, node, f"kernel_size {kernel}, stride {stride}, padding {padding}: must be >= 1, >= 1, >= 0")
    c = int(np.prod(in_shape[:-2]))
    value = 1.0 if type(node).__name__ == "SumPool2d" else 1.0 / (kernel[0] * kernel[1])
    weight = np.zeros((c, 1, *kernel))
    weight[:] = value
    try:
        m, out = _expand(weight, (c, *in_shape[-2:]), stride, padding, (1, 1), groups=c)
    except InvalidParameterError as exc:
        raise _err(name, node, str(exc)) from None
    out_shape = (*(int(v) for v in in_shape[:-2]), *out[1:])
    info = LayerInfo(kind=type(node).__name__, input_shape=tuple(in_shape), output_shape=out_shape,
                     shared_weights=0 if value == 1.0 else 1, expanded_synapses=int(m.nnz), pool_kernel=kernel,
                     stride=stride, padding=padding)  # fmt: skip
    return m, info


def pool_value(info: LayerInfo) -> float:
    """The weight of every synapse of a pooling's expansion: 1 (SumPool2d), 1 / (kH kW) (AvgPool2d)."""
    return 1.0 if info.kind == "SumPool2d" else 1.0 / (info.pool_kernel[0] * info.pool_kernel[1])


def pool_from_synapses(
    info: LayerInfo, pre: NDArray[np.int64], post: NDArray[np.int64], weight: NDArray[np.float64]
) -> str:
    """Why these synapses (pre and post neuron indices, NIR weights) are not exactly the expansion
    the pooling ``info`` got at import; "" when they are.

    The pooling is checked as what import expanded it to, a depthwise convolution (one channel
    per index of the leading axes) by :func:`conv_from_synapses`, whose kernel must then be the
    pooling's value at every entry (:func:`pool_value`, to float32 precision).
    """
    if not info.pool_kernel:
        return f"a {info.kind} is not a pooling"
    c = int(np.prod(info.input_shape[:-2]))
    depthwise = LayerInfo(kind=info.kind, input_shape=(c, *info.input_shape[-2:]),
                          output_shape=(c, *info.output_shape[-2:]), shared_weights=0, expanded_synapses=0,
                          kernel_shape=(c, 1, *info.pool_kernel), stride=info.stride, padding=info.padding,
                          dilation=(1, 1), groups=c)  # fmt: skip
    kernel, _, why = conv_from_synapses(depthwise, pre, post, weight, None)
    if kernel is None:
        return why
    value = pool_value(info)
    off = np.abs(kernel - value) > 1e-6 * value
    if off.any():
        shape = f"{c} channels x {kernel.shape[2]} x {kernel.shape[3]}"
        return f"{int(off.sum())} of its {kernel.size} kernel weights ({shape}) are not the {info.kind}'s {value!r}"
    return ""


def write_pool(*, info: LayerInfo) -> Any:
    """The SumPool2d or AvgPool2d node of ``info``'s geometry, its input and output types the
    layer's shapes."""
    nir = nir_module()
    cls = nir.SumPool2d if info.kind == "SumPool2d" else nir.AvgPool2d
    geometry = {"kernel_size": info.pool_kernel, "stride": info.stride, "padding": info.padding}
    node = cls(**{k: np.array(v) for k, v in geometry.items()})
    node.input_type = {"input": np.array(info.input_shape)}
    node.output_type = {"output": np.array(info.output_shape)}
    return node


def conv_from_synapses(
    info: LayerInfo, pre: NDArray[np.int64], post: NDArray[np.int64], weight: NDArray[np.float64],
    bias: NDArray[np.float64] | None,
) -> tuple[NDArray[np.float64] | None, NDArray[np.float64] | None, str]:
    """The kernel (``info.kernel_shape``) and per-channel bias of a convolution whose expansion gives
    exactly these synapses (pre and post neuron indices, NIR weights), or (None, None, why not).

    The synapses are a convolution's when they lie on the positions its geometry reaches, every
    kernel entry reaches all of its positions or none, and the positions of one entry share one
    weight (to float32 precision: the network stores float32).  ``bias`` (a current per output
    value, or None) must be one value per output channel.
    """
    if not info.kernel_shape:
        return None, None, f"a {info.kind} is not a convolution"
    nd = len(info.kernel_shape) - 2
    in3 = info.input_shape if nd == 2 else (info.input_shape[0], 1, info.input_shape[1])
    geometry = [(first, *v) if nd == 1 else v for first, v in ((1, info.stride), (0, info.padding), (1, info.dilation))]
    kshape = info.kernel_shape if nd == 2 else (*info.kernel_shape[:2], 1, info.kernel_shape[2])
    rows, cols, entry, out = _positions(kshape, in3, *geometry, info.groups)
    n_in = int(np.prod(in3))
    have = np.asarray(post, np.int64) * n_in + np.asarray(pre, np.int64)
    reach = rows * n_in + cols
    if np.unique(have).size != have.size:
        return None, None, "repeated synapses between one pair of neurons"
    if (weight == 0).any():
        return None, None, "synapses of weight 0 (a convolution's expansion has none)"
    order = np.argsort(have)
    where = np.searchsorted(have[order], reach)
    found = (where < have.size) & (have[order][np.minimum(where, have.size - 1)] == reach)
    if int(found.sum()) != have.size:
        return None, None, f"{have.size - int(found.sum())} synapses lie outside the kernel's reach"
    value = np.where(found, weight[order][np.minimum(where, have.size - 1)], np.nan)
    n_entries = int(np.prod(kshape))
    present = np.bincount(entry, weights=found, minlength=n_entries)
    total = np.bincount(entry, minlength=n_entries)
    if ((present > 0) & (present < total)).any():
        return None, None, "a kernel weight reaches only part of its positions"
    first = np.full(n_entries, np.nan)
    first[entry[::-1]] = value[::-1]  # the value at each entry's first position
    ref = first[entry]
    spread = np.abs(value - ref)[found]
    if (spread > 1e-6 * np.abs(ref[found])).any():
        return None, None, "the weights of one kernel entry differ between positions (not shared)"
    kernel = np.nan_to_num(first, nan=0.0).reshape(info.kernel_shape)
    per_channel = None
    if bias is not None:
        b = np.asarray(bias, dtype=np.float64).reshape(out[0], -1)
        if (b != b[:, :1]).any():
            return None, None, "the bias differs within an output channel"
        per_channel = b[:, 0].copy()
    return kernel, per_channel, ""


def write_conv(*, info: LayerInfo, kernel: NDArray[np.float64], bias: NDArray[np.float64] | None) -> Any:
    """The Conv1d or Conv2d node of ``info``'s geometry with this kernel and per-channel bias."""
    nir = nir_module()
    bias = np.zeros(info.kernel_shape[0]) if bias is None else bias
    if len(info.kernel_shape) == 3:
        node = nir.Conv1d(input_shape=int(info.input_shape[1]), weight=kernel, stride=info.stride[0],
                          padding=info.padding[0], dilation=info.dilation[0], groups=info.groups, bias=bias)  # fmt: skip
    else:
        node = nir.Conv2d(input_shape=tuple(info.input_shape[1:]), weight=kernel, stride=info.stride,
                          padding=info.padding, dilation=info.dilation, groups=info.groups, bias=bias)  # fmt: skip
    # nir's input_type takes C_in from the weight's second axis, C_in / groups: the true one for NIR's type check
    node.input_type = {"input": np.array(info.input_shape)}
    return node
