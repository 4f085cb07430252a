r"""Reading Lava-DL's NIR export per step (the ``lava-dl`` profile of :mod:`.nir_profiles`).

Lava-DL writes NIR from a netx HDF5 file (``lava/lib/dl/netx/nir_lava.py``, ``read_node`` and
``read_neuron``): each dense or conv block becomes a Linear / Affine / Conv2d node with the HDF5
weights as they are (slayer's ``pre_hook_fx(weight, descale=True)``: the integer weight
mantissas that Loihi uses), followed by

    CubaLIF(tau_syn = 1 / iDecay, tau_mem = 1 / vDecay, r = 1, v_leak = 0,
            v_threshold = vThMant, w_in = tau_syn)

with one value per layer (0-d fields), ``iDecay`` and ``vDecay`` being slayer's CUBA
``device_params`` (integers in units of 1/4096 of the state per step, ``p_scale = 1 << 12``),
``tau = inf`` for a decay of 0, and no Output node.  What those numbers mean is Loihi's CUBA
step as Lava runs it (``lava/proc/lif/models.py``, ``PyLifModelBitAcc``; netx's
``du = iDecay - 1`` plus Loihi's ``ds_offset = 1``), with states, weights and threshold all
scaled by 2^6:

.. math::

    u[t] = u[t-1]\,(1 - \text{iDecay}/4096) + \textstyle\sum W s[t], \qquad
    v[t] = v[t-1]\,(1 - \text{vDecay}/4096) + u[t] + b, \qquad
    v[t] > \text{vThMant} \Rightarrow \text{spike},\; v[t] \leftarrow 0,

and a spike reaches the next layer one step later.  So NIR's continuous reading of the node
(``dt/tau`` of the current added per unit input, ``r = 1`` scaling it into v over tau_mem) is not
what Loihi does; the profile reads it per step instead (see :func:`loihi_cuba_lif`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError
from ..models.cuba import Cuba
from ._nir_base import kind, nir_module, node_error
from ._nir_common import FAST_SYNAPSE_STEPS
from ._nir_graph import Importer
from ._nir_nodes import role

#: Loihi's decays are fractions of 4096 per step (12 bits): Lava-DL writes tau = 1 / iDecay.
LOIHI_DECAY_UNIT = 4096
_FIELDS = ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in")


def _decay(name: str, node: Any, attr: str, values: NDArray[np.float64]) -> NDArray[np.float64]:
    """The per-step factor 1 - decay / 4096 from tau = 1 / decay (tau = inf: decay 0)."""
    with np.errstate(divide="ignore"):
        decay = np.where(np.isinf(values), 0.0, 1.0 / values)
    ok = (values > 0) & (np.abs(decay - np.round(decay)) <= 1e-6 * np.maximum(decay, 1.0)) & (decay <= LOIHI_DECAY_UNIT)
    if not ok.all():
        k = int(np.flatnonzero(~ok)[0])
        raise node_error(
            name, node,
            f"{attr}[{k}] = {float(values[k])!r}: Lava-DL writes {attr} = 1 / decay with Loihi's integer decay in "
            f"1..{LOIHI_DECAY_UNIT} (or inf for a decay of 0); this is not its export",
        )  # fmt: skip
    return 1.0 - np.round(decay) / LOIHI_DECAY_UNIT


def _layout(name: str, node: Any) -> tuple[dict[str, NDArray[np.float64]], NDArray, NDArray]:
    """The node's fields as arrays of one shape, checked against Lava-DL's layout, and the per-step
    factors (alpha of the current, beta of the voltage)."""
    f = {}
    for attr in _FIELDS:
        value = getattr(node, attr, None)
        if value is None:
            raise node_error(name, node, f"{attr} is missing")
        f[attr] = np.asarray(value, dtype=np.float64)
    shape = f["tau_mem"].shape
    for attr, value in f.items():
        if value.shape != shape and value.size != 1:
            raise node_error(name, node, f"{attr} has shape {value.shape}, tau_mem {shape}: every parameter must "
                                         "have the node's shape")  # fmt: skip
        f[attr] = np.broadcast_to(value, shape).reshape(-1)
    for attr in ("r", "v_leak", "v_threshold", "v_reset"):
        if not np.isfinite(f[attr]).all():
            raise node_error(name, node, f"{attr} contains a non-finite value")
    for attr, want, what in (("r", 1.0, "r = 1"), ("v_leak", 0.0, "v_leak = 0"), ("v_reset", 0.0, "no v_reset (0)")):
        bad = np.flatnonzero(f[attr] != want)
        if bad.size:
            k = int(bad[0])
            raise node_error(name, node, f"{attr}[{k}] = {float(f[attr][k])!r}, but Lava-DL's export writes {what} "
                                         "(Loihi's CUBA neuron resets to 0 and has no leak potential)")  # fmt: skip
    off = ~((f["w_in"] == f["tau_syn"]) | np.isclose(f["w_in"], f["tau_syn"], rtol=1e-9, atol=0.0))
    if off.any():
        k = int(np.flatnonzero(off)[0])
        raise node_error(name, node, f"w_in[{k}] = {float(f['w_in'][k])!r}, but Lava-DL's export writes w_in = "
                                     f"tau_syn = {float(f['tau_syn'][k])!r}")  # fmt: skip
    alpha = _decay(name, node, "tau_syn", f["tau_syn"])
    beta = _decay(name, node, "tau_mem", f["tau_mem"])
    if (alpha == 1).any():
        k = int(np.flatnonzero(alpha == 1)[0])
        raise node_error(name, node, f"tau_syn[{k}] = inf (iDecay = 0): a synaptic current that never decays; the "
                                     "current-based model needs a finite tau_syn")  # fmt: skip
    if (beta == 0).any():
        k = int(np.flatnonzero(beta == 0)[0])
        raise node_error(name, node, f"tau_mem[{k}] = {float(f['tau_mem'][k])!r} (vDecay = 4096): a membrane that "
                                     "forgets all of v each step is not read per step")  # fmt: skip
    return f, alpha, beta


def loihi_prepare(
    nodes: dict[str, Any], edges: list[tuple[str, str]], passes: set[str]
) -> tuple[dict[str, Any], dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]]:
    """The graph's nodes with each CubaLIF checked against Lava-DL's layout and its one-per-layer
    (0-d) fields given to every neuron of the layer (the width and shape of what feeds it), and
    the per-step factors (alpha, beta) of each.  Other neuron nodes are refused: Lava-DL's
    exporter writes none."""
    nir = nir_module()
    out = dict(nodes)
    steps: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    pending = []
    for name, node in nodes.items():
        if role(node) != "neuron":
            continue
        if kind(node) != "CubaLIF":
            raise node_error(
                name, node,
                f"profile 'lava-dl' reads CubaLIF nodes (Lava-DL's CUBA layers, the only neuron its exporter writes); "
                f"a {kind(node)} is not its export (pass dt_s and reset without the profile)",
            )  # fmt: skip
        fields, alpha, beta = _layout(name, node)
        steps[name] = (alpha, beta)
        if np.asarray(node.tau_mem).ndim == 0:
            pending.append(name)
        else:
            out[name] = _with(nir, node, fields, np.asarray(node.tau_mem).shape)
    while pending:  # a layer's width is that of what feeds it, known once the layers before it are
        imp = Importer(out, edges, passes)
        for name in pending:
            try:
                feeds = [imp.output_of(pre) for pre in imp.incoming[name]]
            except InvalidParameterError:
                continue
            if not feeds:
                raise node_error(name, nodes[name], "has one value per layer (0-d fields) and no incoming edge: its "
                                                    "width is unknown")  # fmt: skip
            shape = feeds[0].shape or (feeds[0].dim,)
            out[name] = _with(nir, nodes[name], _layout(name, nodes[name])[0], shape)
            pending.remove(name)
            break
        else:  # no pending layer could be sized: let the first one's feeds raise their own error
            imp = Importer(out, edges, passes)
            for pre in imp.incoming[pending[0]]:
                imp.output_of(pre)
            raise node_error(pending[0], nodes[pending[0]], "its width cannot be told from the nodes that feed it")
    for name in steps:
        n = int(np.asarray(out[name].tau_mem).size)
        steps[name] = tuple(np.broadcast_to(s, (n,)).copy() if s.size == 1 else s for s in steps[name])  # type: ignore[assignment]
    return out, steps


def _with(nir: Any, node: Any, fields: dict[str, NDArray[np.float64]], shape: tuple[int, ...]) -> Any:
    """A CubaLIF of the given shape with the node's values; tau_mem = inf (no leak) becomes 1, a
    placeholder that :func:`loihi_cuba_lif` replaces (the per-step factors carry the decays)."""
    def full(attr: str) -> NDArray[np.float64]:
        v = fields[attr]
        v = np.where(np.isinf(v), 1.0, v) if attr in ("tau_mem", "tau_syn", "w_in") else v
        return np.broadcast_to(v if v.size != 1 else v[0], shape).astype(np.float64).copy()

    return nir.CubaLIF(tau_syn=full("tau_syn"), tau_mem=full("tau_mem"), r=full("r"), v_leak=full("v_leak"),
                       v_threshold=full("v_threshold"), v_reset=full("v_reset"), w_in=full("w_in"),
                       metadata=dict(node.metadata or {}))  # fmt: skip


def loihi_hold_steps(alpha: float) -> float:
    r"""The part h of a step that the membrane is held at 0 after a crossing (t_ref = h dt), and the
    delay (in steps) of the spike to the next layer: 1/2 for a current that outlasts its step
    (alpha > 0), 0 for one that does not (alpha = 0: v jumps at the sample, where it crosses).

    Loihi resets v at the step whose sample is above threshold and integrates again from that
    sample; the continuous membrane crosses somewhere in the step before it, at a phase x, and
    would integrate the rest of the step, 1 - x, that Loihi drops.  Within a step a decaying current
    adds to v along :math:`g(x) = (1 - \alpha^x)/(1 - \alpha)` of the step's total (the leak of v
    ignored), so with the threshold anywhere in a step's rise the crossing is at
    :math:`x = g^{-1}(U)`, U uniform in (0, 1), i.e. :math:`y = \alpha^x` uniform in
    :math:`(\alpha, 1)`.  The hold h is right on average when the membrane then integrates, on
    average, what Loihi integrates from its sample on: :math:`E[G(x + h)] = 1`, G the rise continued
    into the next step (:math:`G(z) = 1 + g(z - 1)` for z > 1).  With :math:`s = \sqrt\alpha` and
    h = 1/2 the two parts of the integral over y sum to :math:`(1 - 2s^2 + s^4)/(1 - \alpha)^2 = 1`
    for every alpha: half a step, whatever the current's decay.  The spike leaves the continuous
    neuron 1 - x before Loihi's sample, h on average: sent h dt later, it reaches the next layer at
    the step where Loihi delivers it."""
    return 0.0 if alpha <= 0.0 else 0.5


def loihi_cuba_lif(
    name: str, node: Any, a: dict[str, NDArray[np.float64]], dt: float, alpha: NDArray[np.float64],
    beta: NDArray[np.float64], *, reset: str = "value",
) -> tuple[Cuba, NDArray[np.float64], NDArray[np.float64]]:
    r"""Read a CubaLIF node of Lava-DL's export as Loihi steps it (module docstring), in place on the
    arrays; returns the model, the gain on what flows in (replacing w_in) and the bias factor.

    One input W gives Loihi's :math:`v[n] = W(\beta^{n+1} - \alpha^{n+1})/(\beta - \alpha)` n steps
    later; the current-based model with :math:`\tau_s' = -\Delta t/\ln\alpha`,
    :math:`\tau_m' = -\Delta t/\ln\beta` gives the same curve one step after its input when the
    current jumps by :math:`J_0 = W q/\Delta t`, :math:`q = (\ln\beta - \ln\alpha)/(\beta - \alpha)`
    (:math:`1/\alpha` when they are equal; no leak, g_L = 0, when vDecay = 0).  C = dt, so volts are
    Loihi's units (V_th = vThMant).  An Affine bias b is Loihi's bias, added to v each step: the
    bias current makes v rest at :math:`b/(1 - \beta)` (slope b per step without a leak), exact at
    the steps.  The reset is to 0 with a hold of h dt (:func:`loihi_hold_steps`), added to the
    import's t_ref_s (Loihi's refDelay = 1, which Lava-DL's export assumes, is none).  ``reset`` is
    the import's for the node (Loihi's, ``"value"``, unless an explicit option chose otherwise).  The current lasting
    one step (iDecay = 4096, alpha = 0) is a fast synapse (tau_syn = FAST_SYNAPSE_STEPS dt) of
    jump W, no hold."""
    if not ((alpha == alpha[0]).all()):
        raise node_error(name, node, "tau_syn differs between neurons: neurochip's current-based model has one "
                                     "tau_syn per population")  # fmt: skip
    al = float(alpha[0])
    c = np.full(beta.shape, dt)
    leak = beta < 1.0
    with np.errstate(divide="ignore"):
        g_l = np.where(leak, c * -np.log(np.where(leak, beta, 0.5)) / dt, 0.0)
    a["c_m_farad"] = c
    a["g_leak_siemens"] = g_l
    a["e_leak_volt"] = np.zeros_like(c)
    a["v_reset_volt"] = np.zeros_like(c)
    if al == 0.0:
        tau_s = FAST_SYNAPSE_STEPS * dt
        gain = c / dt  # weight_volt = gain W dt / C = W: the charge of a jump of W
        hold = 0.0
    else:
        tau_s = -dt / math.log(al)
        lb = np.log(beta)
        close = np.abs(beta - al) <= 1e-12
        q = np.where(close, 1.0 / al, (lb - math.log(al)) / np.where(close, 1.0, beta - al))
        gain = q * tau_s * c / dt**2  # weight_volt = gain W dt / C = J0 tau_s
        hold = loihi_hold_steps(al)
    a["t_ref_s"] = a["t_ref_s"] + hold * dt
    # the importer's bias current is gain b; Loihi's v rests at b / (1 - beta) (rises b per step unleaky)
    target = np.where(leak, g_l / np.where(leak, 1.0 - beta, 1.0), c / dt)
    return Cuba(tau_syn_exc_s=tau_s, reset=reset), gain, target / gain
