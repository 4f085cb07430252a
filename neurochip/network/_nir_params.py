"""The neuron-parameter readers of the NIR node table (:data:`._nir_nodes.NODES`): what a neuron
node's fields are as neurochip's LIFParams arrays (SI units), and the current-based model of the
CubaLIF and CubaLI nodes (part of :mod:`neurochip.network`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..models.cuba import Cuba
from ._nir_base import (
    LI_THRESHOLD_VOLT,
    THRESHOLD_MARGIN,
    THRESHOLD_TAU_STEPS,
    Arrays,
    node_array,
    node_error,
    node_meta,
)

# --------------------------------------------------------------------------------------------
# neuron parameters (see the mapping in nir_io's docstring): each returns the LIFParams arrays
# but t_ref_s, in the order c_m, g_leak, e_leak, v_th, v_reset


def _positive_r(name: str, node: Any) -> NDArray[np.float64]:
    r = node_array(name, node, "r")
    if not (r > 0).all():
        raise node_error(name, node, f"r[{int(np.flatnonzero(~(r > 0))[0])}] = {float(r[~(r > 0)][0])!r}: must be > 0")
    return r


def _leaky(name: str, node: Any) -> Arrays:
    """tau dv/dt = (v_leak - v) + r I:  C = tau / r, g_L = 1 / r, E_L = v_leak."""
    r = _positive_r(name, node)
    tau = node_array(name, node, "tau")
    if not (tau > 0).all():
        bad = int(np.flatnonzero(~(tau > 0))[0])
        raise node_error(name, node, f"tau[{bad}] = {float(tau[bad])!r}: must be > 0")
    return {"c_m_farad": tau / r, "g_leak_siemens": 1.0 / r, "e_leak_volt": node_array(name, node, "v_leak")}


def _with_threshold(name: str, node: Any, out: Arrays) -> Arrays:
    out["v_th_volt"] = node_array(name, node, "v_threshold")
    out["v_reset_volt"] = node_array(name, node, "v_reset")
    bad = np.flatnonzero(~(out["v_reset_volt"] < out["v_th_volt"]))
    if bad.size:
        k = int(bad[0])
        raise node_error(
            name, node,
            f"v_reset[{k}] = {float(out['v_reset_volt'][k])!r} must be < v_threshold[{k}] = {float(out['v_th_volt'][k])!r}",
        )  # fmt: skip
    return out


def lif_params(name: str, node: Any, if_tau_s: float | None) -> tuple[Arrays, tuple[str, ...] | None]:
    return _with_threshold(name, node, _leaky(name, node)), ("e_leak_volt",)


def li_params(name: str, node: Any, if_tau_s: float | None) -> tuple[Arrays, tuple[str, ...] | None]:
    out = _leaky(name, node)
    out["v_th_volt"] = np.full(out["g_leak_siemens"].size, LI_THRESHOLD_VOLT)  # never fires
    out["v_reset_volt"] = out["e_leak_volt"].copy()
    return out, ("e_leak_volt",)


def i_params(name: str, node: Any, if_tau_s: float | None) -> tuple[Arrays, tuple[str, ...] | None]:
    """NIR's integrator, dv/dt = r I: IF without threshold; C = 1 / r, g_L = 0, never fires."""
    r = _positive_r(name, node)
    out = {"c_m_farad": 1.0 / r, "g_leak_siemens": np.zeros_like(r), "e_leak_volt": np.zeros_like(r),
           "v_th_volt": np.full(r.size, LI_THRESHOLD_VOLT), "v_reset_volt": np.zeros_like(r)}  # fmt: skip
    return out, ()


def threshold_params(name: str, node: Any, if_tau_s: float | None) -> tuple[Arrays, tuple[str, ...] | None]:
    """NIR's Threshold, z = 1 when the input x > threshold (no state): a neuron that fires when the
    input of one instant exceeds the threshold and forgets it within the step.  V_th is the
    threshold times 1 + THRESHOLD_MARGIN, so that neurochip's V >= V_th is NIR's x > threshold
    (up to that margin, see there).  C and
    g_L depend on the time step: the importer sets C = dt_s (a spike through W moves V by W) and
    g_L = C / (THRESHOLD_TAU_STEPS dt_s); here C = 1 F and g_L = 1 / THRESHOLD_TAU_STEPS."""
    thr = node_array(name, node, "threshold")
    bad = np.flatnonzero(~(thr > 0))
    if bad.size:
        k = int(bad[0])
        raise node_error(
            name, node,
            f"threshold[{k}] = {float(thr[k])!r}: must be > 0; with no input (x = 0 > threshold) the node fires at "
            "every time step, a clock that an event-driven chip does not have",
        )  # fmt: skip
    out = {"c_m_farad": np.ones_like(thr), "g_leak_siemens": np.full(thr.size, 1.0 / THRESHOLD_TAU_STEPS),
           "e_leak_volt": np.zeros_like(thr), "v_th_volt": thr * (1 + THRESHOLD_MARGIN), "v_reset_volt": np.zeros_like(thr)}  # fmt: skip
    return out, None


def if_params(name: str, node: Any, if_tau_s: float | None) -> tuple[Arrays, tuple[str, ...] | None]:
    """dv/dt = r I: C = 1 / r, g_L = 0 (or C / if_tau_s, an approximation), E_L = 0.  neurochip's
    exact C, g_L and E_L (E_L is free when g_L = 0) apply unless if_tau_s changes g_L."""
    r = _positive_r(name, node)
    c = 1.0 / r
    out = {"c_m_farad": c, "g_leak_siemens": np.zeros_like(r) if if_tau_s is None else c / if_tau_s,
           "e_leak_volt": np.zeros_like(r)}  # fmt: skip
    return _with_threshold(name, node, out), (() if if_tau_s is None else None)


# current-based nodes: tau_syn dI/dt = -I + w_in x, tau_mem dv/dt = (v_leak - v) + r I.  With
# C = tau_mem / r, g_L = 1 / r, E_L = v_leak (as for LIF) and J = I / C this is neurochip's Cuba
# model, dV/dt = -(V - E_L)/tau_m + J, dJ/dt = -J/tau_syn, tau_m = C / g_L = tau_mem; a spike of
# area dt_s through weight W makes I jump by w_in W dt_s / tau_syn, i.e. J by (w_in W dt_s / C) /
# tau_syn: a Cuba input of weight_volt = w_in W dt_s / C.  The importer scales what flows into
# the node by ``gain`` (w_in) and then converts charge to volts as for LIF.

_CUBA_LIF_FIELDS = ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in")
_CUBA_LI_FIELDS = ("tau_syn", "tau_mem", "r", "v_leak", "w_in")


def _cuba_fields(node: Any) -> tuple[str, ...]:
    return _CUBA_LIF_FIELDS if hasattr(node, "v_threshold") else _CUBA_LI_FIELDS


def _cuba_checked(name: str, node: Any) -> dict[str, NDArray[np.float64]]:
    """The node's fields as flat float arrays, all of one shape, tau_syn, tau_mem and r > 0."""
    fields = {}
    for attr in _cuba_fields(node):
        value = getattr(node, attr)
        if value is None:
            raise node_error(name, node, f"{attr} is missing")
        fields[attr] = node_array(name, node, attr)
    shape = np.asarray(node.tau_mem).shape
    for attr in fields:
        if np.asarray(getattr(node, attr)).shape != shape:
            raise node_error(
                name, node,
                f"{attr} has shape {np.asarray(getattr(node, attr)).shape}, tau_mem {shape}: every parameter "
                "must have the node's shape",
            )  # fmt: skip
    for attr in ("tau_syn", "tau_mem", "r"):
        bad = np.flatnonzero(~(fields[attr] > 0))
        if bad.size:
            k = int(bad[0])
            raise node_error(name, node, f"{attr}[{k}] = {float(fields[attr][k])!r}: must be > 0")
    return fields


def cuba_size(name: str, node: Any) -> int:
    return int(np.asarray(node.tau_mem).size)


def _cuba_base(name: str, node: Any) -> Arrays:
    f = _cuba_checked(name, node)
    return {"c_m_farad": f["tau_mem"] / f["r"], "g_leak_siemens": 1.0 / f["r"], "e_leak_volt": f["v_leak"]}


def cuba_lif_params(name: str, node: Any, if_tau_s: float | None) -> tuple[Arrays, tuple[str, ...] | None]:
    return _with_threshold(name, node, _cuba_base(name, node)), ("e_leak_volt",)


def cuba_li_params(name: str, node: Any, if_tau_s: float | None) -> tuple[Arrays, tuple[str, ...] | None]:
    """As LI: a threshold never reached (the kernel ignores it for spiking=False); neurochip's own
    V_th and V_reset, kept in the metadata, when it wrote the node."""
    out = _cuba_base(name, node)
    meta = node_meta(node)
    n = out["g_leak_siemens"].size
    out["v_th_volt"] = np.full(n, LI_THRESHOLD_VOLT)
    out["v_reset_volt"] = out["e_leak_volt"].copy()
    for key in ("v_th_volt", "v_reset_volt"):
        if key in meta:
            value = np.asarray(meta[key], dtype=np.float64).reshape(-1)
            if value.shape == (n,) and np.isfinite(value).all():
                out[key] = value
    if not (out["v_reset_volt"] < out["v_th_volt"]).all():  # metadata that breaks the rule: not ours
        out["v_th_volt"] = np.full(n, LI_THRESHOLD_VOLT)
        out["v_reset_volt"] = out["e_leak_volt"].copy()
    return out, ("e_leak_volt",)


def _one_tau_syn(name: str, node: Any) -> float:
    tau = _cuba_checked(name, node)["tau_syn"]
    if not (tau == tau[0]).all():
        k = int(np.flatnonzero(tau != tau[0])[0])
        raise node_error(
            name, node,
            f"tau_syn[{k}] = {float(tau[k])!r} differs from tau_syn[0] = {float(tau[0])!r}: neurochip's current-based "
            "model has one tau_syn per population; split the node into nodes of equal tau_syn",
        )  # fmt: skip
    return float(tau[0])


def cuba_lif_model(name: str, node: Any, reset: str) -> Cuba:
    return Cuba(tau_syn_exc_s=_one_tau_syn(name, node), reset=reset, spiking=True)


def cuba_li_model(name: str, node: Any, reset: str) -> Cuba:
    return Cuba(tau_syn_exc_s=_one_tau_syn(name, node), reset=reset, spiking=False)


def cuba_gain(name: str, node: Any) -> NDArray[np.float64]:
    """w_in: the factor on everything that flows into the node (weights and bias alike)."""
    return _cuba_checked(name, node)["w_in"]
