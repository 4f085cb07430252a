"""The chip's 2D mesh: XY (dimension-order) routes, their hop counts and the load they put on
every link.

A core's index on a mesh of width ``W`` is ``y * W + x``; each core has four outgoing links, in
the order of :data:`LINKS` in every per-link array.  :mod:`neurochip.mapping` places cores and
routes packets with these; reports and plots read per-link arrays in this order.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["LINKS", "xy_hops", "link_loads"]

#: Directions of a core's outgoing links, in this order in every per-link array.
LINKS = ("east", "west", "north", "south")


def xy_hops(src: ArrayLike, dst: ArrayLike, width: int) -> NDArray[np.int64]:
    """Hop counts of XY routes between mesh indices (Manhattan distance).

    Parameters
    ----------
    src, dst : array_like of int
        Mesh indices ``y * width + x`` of the source and destination cores, broadcastable
        against each other, each in [0, width * height).
    width : int
        Mesh width (cores along x), >= 1.

    Returns
    -------
    ndarray of int64
        Links crossed by each route, of the broadcast shape of ``src`` and ``dst``.

    Notes
    -----
    With :math:`x = i \\bmod W` and :math:`y = \\lfloor i / W \\rfloor`:

    .. math::

        h(s, d) = |x_s - x_d| + |y_s - y_d|

    Examples
    --------
    >>> xy_hops([0, 0, 5], [3, 15, 10], 4).tolist()
    [3, 6, 2]
    """
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    return np.abs(src % width - dst % width) + np.abs(src // width - dst // width)


def link_loads(traffic: NDArray[np.float64], width: int, height: int) -> NDArray[np.float64]:
    """Load of every outgoing link under XY routing, for a core-to-core traffic matrix.

    A packet from ``(x0, y0)`` to ``(x1, y1)`` first travels along row ``y0`` to ``x1``, then
    along column ``x1`` to ``y1``.  Loads are accumulated with difference arrays, so the cost is
    linear in the number of communicating core pairs plus the mesh size.

    Parameters
    ----------
    traffic : ndarray of float64, shape (width * height, width * height)
        ``traffic[s, d]``: packets per second (Hz), or any per-packet weight, from core ``s`` to
        core ``d`` (mesh index ``y * width + x``); the diagonal should be zero (a packet to its
        own core crosses no link; the diagonal is ignored either way).
    width, height : int
        Mesh size in cores, each >= 1.

    Returns
    -------
    ndarray of float64, shape (width * height, 4)
        Load of the east, west, north (towards larger y) and south links leaving each core, in
        the unit of ``traffic``.

    Notes
    -----
    The load of link :math:`\\ell` is the traffic of every route that crosses it:

    .. math::

        L_\\ell = \\sum_{s \\ne d} T_{sd} \\, [\\ell \\in \\mathrm{XY}(s, d)], \\qquad
        \\sum_\\ell L_\\ell = \\sum_{s,d} T_{sd} \\, h(s, d)

    with :math:`h` the hop count of :func:`xy_hops`.

    Examples
    --------
    On a 2 x 2 mesh, 2 packets/s from core 0 = (0, 0) to core 3 = (1, 1) go east, then north
    from core 1; 1 packet/s back goes west from core 3, then south from core 2:

    >>> traffic = np.zeros((4, 4))
    >>> traffic[0, 3], traffic[3, 0] = 2.0, 1.0
    >>> link_loads(traffic, 2, 2).tolist()
    [[2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0]]
    """
    n = width * height
    src, dst = np.nonzero(traffic)
    w = traffic[src, dst]
    x0, y0, x1, y1 = src % width, src // width, dst % width, dst // width
    out = np.zeros((n, 4))
    # Horizontal legs in row y0: east over links x0..x1-1, west over links x0..x1+1 (leaving x).
    diff = np.zeros((height, width + 1))
    east = x1 > x0
    np.add.at(diff, (y0[east], x0[east]), w[east])
    np.add.at(diff, (y0[east], x1[east]), -w[east])
    out[:, 0] = np.cumsum(diff, axis=1)[:, :width].ravel()
    diff[:] = 0
    west = x1 < x0
    np.add.at(diff, (y0[west], x1[west] + 1), w[west])
    np.add.at(diff, (y0[west], x0[west] + 1), -w[west])
    out[:, 1] = np.cumsum(diff, axis=1)[:, :width].ravel()
    # Vertical legs in column x1.
    diff = np.zeros((width, height + 1))
    north = y1 > y0
    np.add.at(diff, (x1[north], y0[north]), w[north])
    np.add.at(diff, (x1[north], y1[north]), -w[north])
    out[:, 2] = np.cumsum(diff, axis=1)[:, :height].T.ravel()
    diff[:] = 0
    south = y1 < y0
    np.add.at(diff, (x1[south], y1[south] + 1), w[south])
    np.add.at(diff, (x1[south], y0[south] + 1), -w[south])
    out[:, 3] = np.cumsum(diff, axis=1)[:, :height].T.ravel()
    return out
