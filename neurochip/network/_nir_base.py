"""What the NIR modules share: constants, ``nir`` on first use, and how a node is named in errors
and its fields read (part of :mod:`neurochip.network`; :mod:`._nir_nodes` holds the table of node
types, :mod:`._nir_params` the neuron-parameter readers)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError

#: Threshold (V) given to the neurons of an LI node: never reached.
LI_THRESHOLD_VOLT = 1e300
#: Key of neurochip's own entries in a node's or a graph's ``metadata``.
META = "neurochip"
#: Membrane time constant of a Threshold node's neurons, in time steps: what one step brings in
#: has decayed by e^{-64} (1.6e-28 of it) by the next, far below :data:`THRESHOLD_MARGIN`, so the
#: neuron keeps no state that could tip a later comparison (and the engine's windows, at most
#: tau / 8, stay 512 per step).
THRESHOLD_TAU_STEPS = 1.0 / 64
#: A Threshold node's V_th is threshold (1 + THRESHOLD_MARGIN): NIR's strict x > threshold with
#: room for the engine's rounding of V (a few ulp), so that an input summing exactly to the
#: threshold does not fire.  An input above the threshold by less than this (1e-9 relative, below
#: the float32 resolution of the weights, 6e-8) does not fire either.
THRESHOLD_MARGIN = 2.0**-30

Arrays = dict[str, NDArray[np.float64]]


def nir_module() -> Any:
    """The ``nir`` package, imported on first use (``import neurochip`` does not load it)."""
    try:
        import nir
    except ImportError as exc:  # pragma: no cover - nir is a dependency
        raise ImportError("NIR support needs the `nir` package: pip install nir") from exc
    return nir


def kind(node: Any) -> str:
    """The node's type name, the key of :data:`NODES`."""
    return type(node).__name__


def node_error(name: str, node: Any, text: str) -> InvalidParameterError:
    """``NIR node 'name' (Type): text``."""
    return InvalidParameterError(f"NIR node {name!r} ({kind(node)}): {text}")


def node_meta(node: Any) -> dict:
    """neurochip's entries in a node's metadata (empty when there are none)."""
    return dict(getattr(node, "metadata", None) or {}).get(META, {}) or {}


def node_array(name: str, node: Any, attr: str) -> NDArray[np.float64]:
    """A node field as a flat float array, every value finite (else an error naming node and field)."""
    arr = np.asarray(getattr(node, attr), dtype=np.float64).reshape(-1)
    if not np.isfinite(arr).all():
        raise node_error(name, node, f"{attr} contains a non-finite value")
    return arr
