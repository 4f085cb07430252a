"""Exporter profiles: the conventions each NIR exporter writes with, each with its source.

NIR states the equations of its nodes in continuous time but not the time step the weights were
trained for, nor how a step-based simulator resets.  Each tool fixes these its own way; a
profile names that way so that :func:`~neurochip.network.nir_io.from_nir` does not guess:

========== ========= ======================== =========================================================
profile    dt_s (s)  reset the tool uses       source
========== ========= ======================== =========================================================
nir        1         v <- v_reset              NIR's node definitions (a spike is a unit-area Dirac
                                               pulse; LIF/IF reset to v_reset)
snntorch   1e-4      subtract (v - threshold)  snntorch/export_nir.py: ``dt = 1e-4``, Leaky ->
                                               LIF(tau = dt/(1-beta), r = tau/dt), Synaptic -> CubaLIF
                                               (w_in = tau_syn/dt); ``reset_mechanism="subtract"``
                                               is snnTorch's default
sinabs     1         subtract, several spikes  sinabs/nir.py: IAF -> IF(r = 1, v_threshold), LIF ->
                     per step                  LIF(tau_mem in steps, r = 1); Sinabs' layers default
                                               to ``MembraneSubtract`` and ``MultiSpike``; its import
                                               sets ``min_v_mem = -v_threshold``
norse      1e-3      v <- v_reset              norse/torch/utils/export_nir.py (``to_nir`` with
                                               ``time_scaling_factor = 1``): LIFBoxCell -> LIF(tau =
                                               1/tau_mem_inv, r = 1), IAFCell -> IF(r = 1); Norse's
                                               cells step with ``dt = 0.001`` (forward Euler,
                                               ``reset_value``); LIF and IF nodes only
rockpool   1e-3      subtract, several spikes  rockpool/nn/modules/torch/nir.py: LIFTorch -> CubaLIF(
                     per step                  r = tau_mem e^{-dt/tau_mem} / dt, w_in = 1); lif_torch.py
                                               LIFTorch.forward (dt = 1e-3, exponential decays,
                                               floor(v / threshold) spikes subtracted); CubaLIF only
lava-dl    1/4096    v <- 0 in the step        lava/lib/dl/netx/nir_lava.py read_node / read_neuron:
                                               CubaLIF(tau = 1 / iDecay, 1 / vDecay, r = 1, w_in =
                                               tau_syn), one value per layer; Loihi's CUBA step
                                               (lava/proc/lif/models.py PyLifModelBitAcc); CubaLIF only
========== ========= ======================== =========================================================

Every exporter the issue names is a profile (:data:`NOT_YET`, the list of those that cannot be
read faithfully, is empty).  A spike is a pulse of area
``dt_s`` in every profile (one step of height 1), and the node fields are read as the graph
writes them (snnTorch's r = tau/dt and Sinabs' r = 1 already carry their scaling), so a profile
sets ``dt_s`` and the reset, and for snnTorch reads its LIF and CubaLIF nodes per step
(``per_step_leak``: decays beta = 1 - dt/tau_mem and alpha = 1 - dt/tau_syn per step, as
snnTorch's Leaky and Synaptic do, and its subtraction one step late; see docs/networks.md), and
for Norse its LIF and IF nodes (``euler``: a decay of 1 - dt/tau per step, IF's input unscaled by
dt, as Norse's LIFBoxCell and IAFCell step; its CubaLIF and LI nodes are refused), and for
Rockpool its CubaLIF nodes (``exp_step``: LIFTorch's response at the steps, the dt that r
carries checked; its LI nodes are refused), and for Lava-DL its CubaLIF nodes (``loihi``: the
layout checked, one value per layer given to every neuron, Loihi's response at the steps, a reset
to 0 held half a step; see :mod:`._nir_lava`).

neurochip's LIF and IF neurons (delta synapses) reset to a value only: a profile whose tool
subtracts imports them with ``reset="value"`` and says so (an approximation whose error is the
overshoot above threshold at a step); current-based nodes (CubaLIF) take the subtraction, which
in continuous time equals the reset to a value at the crossing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError
from ..models.cuba import Cuba
from ._nir_base import kind
from ._nir_lava import LOIHI_DECAY_UNIT

__all__ = ["Profile", "PROFILES", "profile"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """The conventions of one NIR exporter.

    Attributes
    ----------
    name : str
        The profile's name (``--from`` on the command line).
    dt_s : float
        Time step (s) the exporter's weights are for: a spike through weight W carries W dt_s.
    reset : {"value", "subtract"}
        How the exporter's spiking neurons reset.
    multi_spike : bool
        Whether a neuron may emit several spikes in one step (Sinabs' ``MultiSpike``).
    per_step_leak : bool
        Whether the tool's neurons decay by beta = 1 - dt/tau per step (snnTorch's Leaky and
        Synaptic, exported with tau = dt / (1 - beta), and the synaptic current by alpha = 1 -
        dt/tau_syn) rather than by e^{-dt/tau}; its LIF and CubaLIF nodes are then read per step.
    euler : bool
        Whether the tool takes one forward-Euler step per time step and resets to v_reset in the
        same step (Norse's LIFBoxCell: v += dt/tau (v_leak - v + i), decay 1 - dt/tau per step;
        its IAFCell: v += i, the input unscaled by dt); its LIF and IF nodes are then read per
        step, and its other neuron nodes are refused (see :func:`_euler_step`).
    loihi : bool
        Whether the graph is Lava-DL's export of Loihi CUBA layers (CubaLIF with tau = 1 / decay,
        decays in units of 1/4096 per step, one value per layer): its CubaLIF nodes are then read
        as Loihi steps them, reset to 0, a spike reaching the next layer a step later (see
        :mod:`._nir_lava`), and its other neuron nodes refused.
    exp_step : bool
        Whether the tool steps a current-based neuron as Rockpool's LIFTorch does: I <- alpha (I + W x),
        v <- beta v + I, alpha = e^{-dt/tau_syn}, beta = e^{-dt/tau_mem}, and floor(v / threshold)
        spikes subtracted in the same step; its CubaLIF nodes are then read per step, its other
        neuron nodes refused (see :func:`_exp_step_cuba_lif`).
    source : str
        Where the numbers come from (the exporter's code or docs).
    """

    name: str
    dt_s: float
    reset: str
    multi_spike: bool = False
    per_step_leak: bool = False
    euler: bool = False
    exp_step: bool = False
    loihi: bool = False
    source: str

    def __post_init__(self) -> None:
        if not self.dt_s > 0:
            raise InvalidParameterError(f"Profile.dt_s = {self.dt_s!r}: must be > 0")
        if self.reset not in ("value", "subtract"):
            raise InvalidParameterError(f"Profile.reset = {self.reset!r}: must be 'value' or 'subtract'")


#: The profiles, by name.
PROFILES: dict[str, Profile] = {
    "nir": Profile(name="nir", dt_s=1.0, reset="value",
                   source="NIR's node definitions (the nir package's docstrings; the NIR paper, Pedersen et al., Nat. Commun. 2024)"),
    "snntorch": Profile(name="snntorch", dt_s=1e-4, reset="subtract", per_step_leak=True,
                        source="snntorch/export_nir.py (dt = 1e-4; tau = dt / (1 - beta), r = tau / dt, "
                               "w_in = tau_syn / dt); snntorch.Leaky reset_mechanism='subtract' by default"),
    "sinabs": Profile(name="sinabs", dt_s=1.0, reset="subtract", multi_spike=True,
                      source="sinabs/nir.py (IAF -> IF(r = 1), LIF -> LIF(r = 1, tau_mem in steps)); "
                             "sinabs.layers IAF/LIF default reset_fn=MembraneSubtract(), spike_fn=MultiSpike"),
    "norse": Profile(name="norse", dt_s=1e-3, reset="value", euler=True,
                     source="norse/torch/utils/export_nir.py, _norse_to_nir_mapping_dict with to_nir's default "
                            "time_scaling_factor = 1 (LIFBoxCell -> LIF(tau = 1 / tau_mem_inv, r = 1), IAFCell -> "
                            "IF(r = 1)); norse/torch/functional/lif_box.py lif_box_feed_forward_step (dt = 0.001, "
                            "forward Euler, reset_value) and iaf.py iaf_feed_forward_step (v += input)"),
    "rockpool": Profile(name="rockpool", dt_s=1e-3, reset="subtract", multi_spike=True, exp_step=True,
                        source="rockpool/nn/modules/torch/nir.py, _extract_rockpool_module (LIFTorch -> CubaLIF("
                               "tau_syn, tau_mem, r = tau_mem e^{-dt/tau_mem} / dt, v_leak = 0, w_in = 1)); "
                               "rockpool/nn/modules/torch/lif_torch.py LIFTorch.forward (dt = 1e-3: I += x, I *= "
                               "e^{-dt/tau_syn}, v *= e^{-dt/tau_mem}, v += I + bias, floor(v / threshold) spikes, "
                               "v -= spikes threshold)"),
    "lava-dl": Profile(name="lava-dl", dt_s=1.0 / LOIHI_DECAY_UNIT, reset="value", loihi=True,
                       source="lava/lib/dl/netx/nir_lava.py, read_node and read_neuron (dense/conv block -> Linear/"
                              "Affine/Conv2d with the HDF5 weights, CUBA neuron -> CubaLIF(tau_syn = 1 / iDecay, tau_mem "
                              "= 1 / vDecay, r = 1, v_leak = 0, v_threshold = vThMant, w_in = tau_syn), one value per "
                              "layer); slayer/neuron/cuba.py device_params (iDecay, vDecay in 1/4096 per step, p_scale "
                              "= 1 << 12; vThMant = threshold * 64); lava/proc/lif/models.py PyLifModelBitAcc (u = u "
                              "(4096 - iDecay) / 4096 + a_in, v = v (4096 - vDecay) / 4096 + u + bias, spike v > vth, "
                              "v = 0) with netx's du = iDecay - 1"),
}  # fmt: skip

#: Exporters named in the issue that are not profiles, and why (none today: Lava-DL became one).
NOT_YET: dict[str, str] = {}


def profile(name: str) -> Profile:
    """The profile called ``name``.

    Parameters
    ----------
    name : str
        One of :data:`PROFILES` (``"nir"``, ``"snntorch"``, ``"sinabs"``, ``"norse"``, ``"rockpool"``,
        ``"lava-dl"``).

    Returns
    -------
    Profile
        Its time step, reset and source.

    Raises
    ------
    InvalidParameterError
        For an unknown name, or one whose exporter cannot be read faithfully (:data:`NOT_YET`
        says why; none today), listing the profiles.

    Examples
    --------
    >>> profile("sinabs").dt_s, profile("sinabs").reset
    (1.0, 'subtract')
    """
    if name in PROFILES:
        return PROFILES[name]
    if name in NOT_YET:
        raise InvalidParameterError(
            f"profile = {name!r}: not available ({NOT_YET[name]}); pass dt_s and reset yourself, or use one of "
            f"{sorted(PROFILES)}"
        )
    raise InvalidParameterError(f"profile = {name!r}: must be one of {sorted(PROFILES)}")


# --------------------------------------------------------------------------------------------
# reading a step-based tool's nodes per step (profiles with per_step_leak)


def _per_step_lif(name: str, node: Any, a: dict[str, NDArray[np.float64]], dt: float) -> NDArray[np.float64]:
    r"""Read a LIF node as a step-based tool wrote it (snnTorch's Leaky): per step
    :math:`v \leftarrow \beta v + W x + b - \theta\,s_{t-1}` with :math:`\beta = 1 - \Delta t/\tau`
    (the export's tau = dt / (1 - beta)).  In place on the arrays: tau' = -dt / ln(beta), so that
    one step decays by exactly beta; C = dt, so that a spike through W makes v jump by W; the
    subtraction (V_th - V_reset) / beta, which one step later has decayed to the threshold that
    the tool subtracts a step after the spike.  Returns the factor that turns the bias current
    into one that adds b per step at rest (the bias acts continuously between steps: close, not
    exact)."""
    tau = a["c_m_farad"] / a["g_leak_siemens"]
    beta = 1.0 - dt / tau
    if not ((beta > 0) & (beta < 1)).all():
        k = int(np.flatnonzero(~((beta > 0) & (beta < 1)))[0])
        raise InvalidParameterError(
            f"NIR node {name!r} ({kind(node)}): tau[{k}] = {float(tau[k])!r} s gives beta = 1 - dt / tau = "
            f"{float(beta[k])!r}: a step-based LIF needs 0 < beta < 1"
        )
    tau_step = -dt / np.log(beta)
    amount = (a["v_th_volt"] - a["v_reset_volt"]) / beta
    a["c_m_farad"] = np.full(tau.shape, dt)
    a["g_leak_siemens"] = dt / tau_step
    a["v_reset_volt"] = a["v_th_volt"] - amount
    return dt / (tau_step * (1.0 - beta))  # I / g' (1 - beta) = b: the rise of one step from rest


def _per_step_cuba_lif(
    name: str, node: Any, a: dict[str, NDArray[np.float64]], model: Cuba, dt: float
) -> tuple[Cuba, NDArray[np.float64], NDArray[np.float64]]:
    r"""Read a CubaLIF node as snnTorch's Synaptic layer steps it:
    :math:`I \leftarrow \alpha I + W x + b`, :math:`v \leftarrow \beta v + I - \theta\,s_{t-1}`,
    with :math:`\alpha = 1 - \Delta t/\tau_{syn}`, :math:`\beta = 1 - \Delta t/\tau_{mem}` (the
    export's taus).  Its response to one input W is :math:`W(\beta^{n+1} - \alpha^{n+1})/(\beta - \alpha)`
    n steps later; the current-based model with :math:`\tau' = -\Delta t/\ln` of each factor gives
    the same shape one step later, :math:`J_0 (\beta^{n+1} - \alpha^{n+1})/(1/\tau_s' - 1/\tau_m')`, so
    the jump is scaled to :math:`J_0 = W (1/\tau_s' - 1/\tau_m')/(\beta - \alpha)`.  snnTorch subtracts
    :math:`\theta` at the sample after the one above threshold; here V crosses the threshold
    anywhere in the step before that sample, half a step before it on average, so the subtraction
    is :math:`\theta/\beta^{3/2}`, decayed to :math:`\theta` on average when snnTorch subtracts
    (:math:`\theta/\beta` gives 4 % and 10 % more spikes than snnTorch in the test's two layers,
    this 0.3 % and 0.3 %).  The bias is scaled so that the membrane rests at snnTorch's :math:`b/((1-\alpha)(1-\beta))`.  In place on the arrays; returns
    the model, the per-neuron gain (replacing w_in) and the bias factor.  Exact for the linear part
    (sampled at the steps); the threshold is crossed between steps here, at the steps in snnTorch."""
    tau_mem = a["c_m_farad"] / a["g_leak_siemens"]
    beta = 1.0 - dt / tau_mem
    alpha = 1.0 - dt / float(model.tau_syn_exc_s)
    ok = (beta > 0) & (beta < 1) & (0 < alpha < 1) & (np.abs(beta - alpha) > 1e-9)
    if not ok.all():
        k = int(np.flatnonzero(~ok)[0])
        raise InvalidParameterError(
            f"NIR node {name!r} ({kind(node)}): alpha = 1 - dt / tau_syn = {alpha!r}, beta[{k}] = 1 - dt / tau_mem = "
            f"{float(beta[k])!r}: snnTorch's Synaptic step needs 0 < alpha, beta < 1 and alpha != beta"
        )
    tau_s, tau_m = -dt / math.log(alpha), -dt / np.log(beta)
    c = a["c_m_farad"]
    amount = (a["v_th_volt"] - a["v_reset_volt"]) / beta**1.5
    a["g_leak_siemens"] = c / tau_m
    a["v_reset_volt"] = a["v_th_volt"] - amount
    # weight_volt = gain W dt / C must be the jump J0 tau_s' of the model's J (= I / C)
    gain = (1.0 - tau_s / tau_m) / (beta - alpha) * c / dt
    # the importer's bias current is gain b; the rest V = I / g_L' must be b / ((1 - alpha)(1 - beta))
    bias_factor = a["g_leak_siemens"] / ((1.0 - alpha) * (1.0 - beta) * gain)
    return Cuba(tau_syn_exc_s=tau_s, reset=model.reset), gain, bias_factor


def _euler_step(name: str, node: Any, a: dict[str, NDArray[np.float64]], dt: float) -> None:
    r"""Read a LIF or IF node as Norse steps it, in place on the arrays.

    LIF (Norse's LIFBoxCell): :math:`v \leftarrow v + \frac{\Delta t}{\tau}(v_{leak} - v + i)`, a
    spike where :math:`v > v_{th}`, then :math:`v \leftarrow v_{reset}`: the membrane decays towards
    :math:`v_{leak} + r i` by :math:`\beta = 1 - \Delta t/\tau` per step and an input spike
    through W moves it by :math:`W \Delta t / \tau` (r = 1), which the importer's jump
    :math:`r W \Delta t / \tau` already is.  Only the decay changes: :math:`\tau' = -\Delta t /
    \ln\beta` (g_L = C / tau'), so that a step decays by exactly beta.  IF (Norse's IAFCell):
    :math:`v \leftarrow v + i`, the input not scaled by the step, so C (and g_L with it) is
    multiplied by dt: a spike through W moves v by r W.  Exact at the steps when the membrane
    crosses the threshold only at input spikes (no bias above threshold)."""
    k = kind(node)
    if k == "IF":
        a["c_m_farad"] = a["c_m_farad"] * dt
        a["g_leak_siemens"] = a["g_leak_siemens"] * dt
        return
    if k != "LIF":
        raise InvalidParameterError(
            f"NIR node {name!r} ({k}): profile 'norse' reads LIF and IF nodes (Norse's LIFBoxCell and IAFCell) per "
            f"step; Norse's {k} export is not read per step (pass dt_s and reset without the profile)"
        )
    tau = a["c_m_farad"] / a["g_leak_siemens"]
    beta = 1.0 - dt / tau
    ok = (beta > 0) & (beta < 1)
    if not ok.all():
        j = int(np.flatnonzero(~ok)[0])
        raise InvalidParameterError(
            f"NIR node {name!r} ({k}): tau[{j}] = {float(tau[j])!r} s gives beta = 1 - dt / tau = {float(beta[j])!r} "
            f"with dt = {dt!r} s: Norse's Euler step needs 0 < beta < 1"
        )
    a["g_leak_siemens"] = a["c_m_farad"] * (-np.log(beta) / dt)


def _exp_step_cuba_lif(
    name: str, node: Any, a: dict[str, NDArray[np.float64]], model: Cuba, dt: float
) -> tuple[Cuba, NDArray[np.float64], NDArray[np.float64]]:
    r"""Read a CubaLIF node as Rockpool's LIFTorch steps it: :math:`I \leftarrow \alpha (I + W x + b)`,
    :math:`v \leftarrow \beta v + I`, :math:`\alpha = e^{-\Delta t/\tau_{syn}}`,
    :math:`\beta = e^{-\Delta t/\tau_{mem}}`, spikes :math:`\lfloor v/\theta \rfloor` subtracted in
    the step.  The decays are the continuous ones already; the export's r = tau_mem e^{-dt/tau_mem} / dt
    only carries dt, and is checked against the import's.  One input W gives
    :math:`W\alpha(\beta^{n+1} - \alpha^{n+1})/(\beta - \alpha)` n steps later; the current-based model
    gives :math:`J_0 (\beta^{n+1} - \alpha^{n+1})/(1/\tau_s - 1/\tau_m)` one step later, so the jump
    is :math:`J_0 = W\alpha(1/\tau_s - 1/\tau_m)/(\beta - \alpha)`.  V crosses the threshold somewhere
    in the step before Rockpool's sample, half a step early on average: the subtraction is
    :math:`\theta/\beta^{1/2}`, decayed to :math:`\theta` on average at the sample.  The bias is scaled
    so that the membrane rests at Rockpool's :math:`\alpha b/((1-\alpha)(1-\beta))`.  In place on the
    arrays; returns the model, the per-neuron gain (replacing w_in) and the bias factor.  Exact for
    the linear part (sampled at the steps); the threshold is crossed between steps here."""
    tau_m = a["c_m_farad"] / a["g_leak_siemens"]
    tau_s = float(model.tau_syn_exc_s)
    r = np.broadcast_to(np.asarray(node.r, dtype=np.float64).reshape(-1), tau_m.shape)
    expected = tau_m * np.exp(-dt / tau_m) / dt
    off = ~np.isclose(r, expected, rtol=1e-4, atol=0.0)
    if off.any():
        j = int(np.flatnonzero(off)[0])
        raise InvalidParameterError(
            f"NIR node {name!r} ({kind(node)}): r[{j}] = {float(r[j])!r}, but Rockpool's export writes r = tau_mem "
            f"e^(-dt/tau_mem) / dt = {float(expected[j])!r} for dt = {dt!r} s: pass the dt_s the model was trained with"
        )
    alpha, beta = math.exp(-dt / tau_s), np.exp(-dt / tau_m)
    if not (np.abs(beta - alpha) > 1e-9).all():
        raise InvalidParameterError(
            f"NIR node {name!r} ({kind(node)}): tau_syn = tau_mem = {tau_s!r} s: the per-step reading needs them to differ"
        )
    c = a["c_m_farad"]
    a["v_reset_volt"] = a["v_th_volt"] - (a["v_th_volt"] - a["v_reset_volt"]) / np.sqrt(beta)
    # weight_volt = gain W dt / C must be the jump J0 tau_s of the model's J (= I / C)
    gain = alpha * (1.0 - tau_s / tau_m) / (beta - alpha) * c / dt
    # the importer's bias current is gain b; the rest V = I / g_L must be alpha b / ((1 - alpha)(1 - beta))
    bias_factor = alpha * a["g_leak_siemens"] / ((1.0 - alpha) * (1.0 - beta) * gain)
    return Cuba(tau_syn_exc_s=tau_s, reset=model.reset), gain, bias_factor
