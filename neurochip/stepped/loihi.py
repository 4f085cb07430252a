r"""Loihi's integer neuron: the current-based LIF compartment, bit by bit, and the conversion to it.

The update
----------
One compartment holds a current ``u`` and a voltage ``v``, both signed 24-bit integers.  Each
step, with the 12-bit decays ``du``, ``dv`` (0-4095), the step's synaptic input ``a`` (an
integer: the weights of the spikes delivered this step, summed per connection and scaled by that
connection's weight exponent), the bias ``b = bias_mant * 2**bias_exp`` and the threshold
``vth`` (17 bits, in units of :math:`2^6`):

.. math::

    u &\leftarrow \operatorname{wrap}_{24}\!\left(\operatorname{tr}\!\left(u\,(4096 - du - 1) / 2^{12}\right) + 2^6 a\right) \\
    v &\leftarrow \operatorname{clip}_{\pm(2^{23}-1)}\!\left(\operatorname{tr}\!\left(v\,(4096 - dv) / 2^{12}\right) + u + b\right) \\
    s &= v > 2^6\,vth, \qquad v \leftarrow 0 \text{ where } s

``tr`` truncates toward zero (sign times the magnitude shifted right by 12 bits).  The current's
decay carries an offset of one (``du = 4095`` clears ``u`` every step: a delta synapse), the
voltage's none (``dv = 0`` is a perfect integrator).  ``wrap_24`` folds a current beyond
:math:`\pm 2^{23}` back by :math:`2^{24}`, as a 24-bit register does; ``v`` saturates instead.
This is the update Lava documents for its bit-accurate Loihi LIF (``lava.proc.lif``,
``PyLifModelBitAcc``, which leaves out the refractory period and axonal delays); the synaptic
input is what Lava's bit-accurate dense connection delivers: the 8-bit weights of the spiking
inputs summed, then shifted left by the weight exponent (right, flooring, when it is negative),
one step after the spikes.

Conversion
----------
:func:`quantise_network` turns a network's float parameters (LIFParams, and ``Cuba`` for a
current-based population) into these integers for a step of ``dt_s`` seconds.  Voltages are
measured from each neuron's ``E_L`` (the chip resets to 0, so ``V_reset`` must equal ``E_L``;
any difference is reported), in units of ``q`` volts chosen per post-synaptic population so that
the population's mean threshold is ``vth_units`` (default :math:`2^{12}`, which leaves the 24-bit
current :math:`2^5` thresholds of headroom).  Then

* ``dv = round(4096 (1 - exp(-dt / tau_m)))`` (0 for a perfect integrator),
* ``du = round(4096 (1 - exp(-dt / tau_syn))) - 1`` (4095 for delta synapses),
* ``vth = round((V_th - E_L) / (64 q))``,
* ``b = round((1 - f_v) I_bias / g_L / q)`` as mantissa and exponent (``f_v`` the quantised
  decay; a perfect integrator gets :math:`I_{bias}\,dt / C` per step),
* a weight ``w`` (V) is ``w / (64 q)`` input units for a delta synapse and
  ``w (1 - f_u) / (64 q)`` for a current-based one (the current then integrates to ``w``), as an
  8-bit mantissa times :math:`2^{e}`, ``e`` in [-8, 7] chosen per connection (pre population,
  post population) from its largest weight; mixed-sign connections have even mantissas in
  [-256, 254], single-sign ones [-255, 255].

:class:`Quantisation` reports every error this makes, relative to the float value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError

__all__ = [
    "DECAY_BITS",
    "UV_BITS",
    "loihi_lif_step",
    "LoihiNeurons",
    "LoihiSynapses",
    "Quantisation",
    "quantise_network",
    "split_bias",
]

#: Bits of the decay constants du, dv (their unit is 2^-12).
DECAY_BITS = 12
#: Bits of the state variables u and v.
UV_BITS = 24
_UNITY = 1 << DECAY_BITS
_UV_MAX = 1 << (UV_BITS - 1)
#: Left shift of the threshold and of the synaptic input (MSB alignment).
VTH_SHIFT = 6
ACT_SHIFT = 6


def _decay(x: NDArray[np.int64], factor: NDArray[np.int64]) -> NDArray[np.int64]:
    """x * factor / 2^12, truncated toward zero (sign times the shifted magnitude)."""
    prod = x * factor
    return np.sign(prod) * (np.abs(prod) >> DECAY_BITS)


def loihi_lif_step(
    u: NDArray[np.int64],
    v: NDArray[np.int64],
    a_in: NDArray[np.int64],
    du: NDArray[np.int64],
    dv: NDArray[np.int64],
    bias: NDArray[np.int64],
    vth: NDArray[np.int64],
) -> NDArray[np.bool_]:
    """One step of Loihi's integer LIF, in place on ``u`` and ``v``; returns who spiked.

    Parameters
    ----------
    u, v : ndarray of int64, shape (n,)
        Current and voltage (24-bit values), updated in place.
    a_in : ndarray of int64, shape (n,)
        The step's synaptic input (weight units, before the 2^6 alignment).
    du, dv : ndarray of int64, shape (n,)
        Decays, 0-4095.
    bias : ndarray of int64, shape (n,)
        ``bias_mant << bias_exp``.
    vth : ndarray of int64, shape (n,)
        Threshold in units of 2^6.

    Returns
    -------
    ndarray of bool, shape (n,)
        The neurons that spiked (their ``v`` is now 0).

    Examples
    --------
    A perfect integrator (dv = 0) with delta synapses (du = 4095) and threshold 1 (64 units),
    given one input unit (64 after alignment) per step: v = 64, then 128 > 64 spikes.

    >>> one = np.ones(1, dtype=np.int64)
    >>> u, v = np.zeros(1, np.int64), np.zeros(1, np.int64)
    >>> [bool(loihi_lif_step(u, v, one, 4095 * one, 0 * one, 0 * one, one)[0]) for _ in range(3)]
    [False, True, False]
    """
    cu = _decay(u, _UNITY - (du + 1)) + (a_in << ACT_SHIFT)
    cu = np.where(cu > _UV_MAX, cu - 2 * _UV_MAX, cu)
    cu = np.where(cu <= -_UV_MAX, cu + 2 * _UV_MAX, cu)
    u[:] = cu
    nv = _decay(v, _UNITY - dv) + u + bias
    v[:] = np.clip(nv, -_UV_MAX + 1, _UV_MAX - 1)
    spikes = v > (vth << VTH_SHIFT)
    v[spikes] = 0
    return spikes


def split_bias(bias_units: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """A bias in v units as a 13-bit signed mantissa and a 3-bit exponent (0-7), to nearest.

    Parameters
    ----------
    bias_units : ndarray of float64
        Bias per step, in v units.

    Returns
    -------
    mant, exp : ndarray of int64
        ``mant`` in [-4096, 4095], ``exp`` in [0, 7]; the value is ``mant << exp``.

    Raises
    ------
    InvalidParameterError
        If a bias exceeds 4095 * 2^7.

    Examples
    --------
    >>> m, e = split_bias(np.array([100.0, 10000.4, -3.0]))
    >>> (m << e).tolist(), e.tolist()
    ([100, 10000, -3], [0, 2, 0])
    """
    b = np.asarray(bias_units, dtype=np.float64)
    if np.any(np.abs(b) > 4095 * 2**7):
        raise InvalidParameterError.of("bias", float(np.max(np.abs(b))), "must fit a 13-bit mantissa << 7 (<= 524,160 v units)")
    exp = np.zeros(b.shape, dtype=np.int64)
    for e in range(8):
        need = np.abs(np.rint(b / 2**e)) > 4095
        exp[need] = e + 1
    mant = np.rint(b / 2.0**exp).astype(np.int64)
    mant = np.clip(mant, -4096, 4095)
    return mant, exp


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LoihiNeurons:
    """Integer parameters and initial state of every compartment (global neuron ids).

    Attributes
    ----------
    du, dv, vth, bias_mant, bias_exp, v0 : ndarray of int64, shape (n_neurons,)
        Decays (0-4095), threshold (units of 2^6), bias mantissa and exponent, initial voltage.
    q_volt : ndarray of float64, shape (n_neurons,)
        Volts per v unit of each neuron.
    """

    du: NDArray[np.int64]
    dv: NDArray[np.int64]
    vth: NDArray[np.int64]
    bias_mant: NDArray[np.int64]
    bias_exp: NDArray[np.int64]
    v0: NDArray[np.int64]
    q_volt: NDArray[np.float64]

    @property
    def bias(self) -> NDArray[np.int64]:
        """``bias_mant << bias_exp``, v units per step."""
        return self.bias_mant << self.bias_exp


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LoihiSynapses:
    """Integer synapses, pre -> post compressed rows, grouped in connections with one exponent each.

    Attributes
    ----------
    indptr : ndarray of int64, shape (n_neurons + 1,)
        Row pointers by pre-synaptic neuron.
    indices : ndarray of int64, shape (n_synapses,)
        Target neuron of each synapse.
    mant : ndarray of int64, shape (n_synapses,)
        8-bit weight mantissa.
    group : ndarray of int64, shape (n_synapses,)
        Connection of each synapse (index into ``weight_exp``).
    delay : ndarray of int64, shape (n_synapses,)
        Steps from the spike to the update that sees it, >= 1.
    weight_exp : ndarray of int64, shape (n_groups,)
        Weight exponent of each connection, in [-8, 7].
    group_names : list of str
        ``"pre->post"`` of each connection.
    """

    indptr: NDArray[np.int64]
    indices: NDArray[np.int64]
    mant: NDArray[np.int64]
    group: NDArray[np.int64]
    delay: NDArray[np.int64]
    weight_exp: NDArray[np.int64]
    group_names: list[str]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Quantisation:
    """What the conversion to Loihi's integers changed, per population and per connection.

    Attributes
    ----------
    dt_s : float
        Step the decays were computed for, s.
    populations : dict of str to dict
        Per population: ``du``, ``dv`` (first neuron's), ``decay_v_error`` and ``decay_u_error``
        (quantised minus exact decay factor per step, worst neuron), ``vth_relative_error``,
        ``bias_relative_error`` (worst neuron), ``reset_offset_volt`` (V_reset - E_L, which the
        chip cannot represent: it resets to E_L), ``ignored`` (features the chip model drops:
        refractory period, adaptation, noise, a separate inhibitory time constant).
    connections : dict of str to dict
        Per connection ``pre->post``: ``weight_exp``, ``sign_mode``, ``max_relative_error`` and
        ``rms_relative_error`` of the weights (relative to the largest weight of the
        connection), ``delay_steps`` (min, max).
    """

    dt_s: float
    populations: dict[str, dict[str, Any]] = field(default_factory=dict)
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return {"dt_s": self.dt_s, "populations": self.populations, "connections": self.connections}


def _weight_mantissas(units: NDArray[np.float64]) -> tuple[NDArray[np.int64], int, str]:
    """Mantissas and one exponent for weights in input units (the Loihi 8-bit synapse)."""
    if units.size == 0 or not np.any(units):
        return np.zeros(units.size, dtype=np.int64), 0, "null"
    lo, hi = float(units.min()), float(units.max())
    mixed = lo < 0 < hi
    mode = "mixed" if mixed else ("excitatory" if hi > 0 else "inhibitory")
    top = max(abs(lo), abs(hi))
    limit = 254 if mixed else 255
    exp = -8
    while exp < 7 and top / 2.0**exp > limit + 0.5:
        exp += 1
    if top / 2.0**exp > limit + 0.5:
        raise InvalidParameterError.of("weight", top, f"too large for an 8-bit mantissa << 7 (got {top:.4g} input units)")
    if mixed:  # even mantissas in [-256, 254]: Lava truncates the lowest bit of mixed-sign weights
        mant = 2 * np.rint(units / 2.0 ** (exp + 1)).astype(np.int64)
        mant = np.clip(mant, -256, 254)
    else:
        mant = np.clip(np.rint(units / 2.0**exp).astype(np.int64), -255, 255)
    return mant, exp, mode


def quantise_network(
    network: Any, *, dt_s: float, vth_units: int = 1 << 12, input_populations: tuple[str, ...] = ()
) -> tuple[LoihiNeurons, LoihiSynapses, Quantisation]:
    """Loihi integers for every neuron and synapse of a network, and the errors made.

    Parameters
    ----------
    network : neurochip.network.Network
        Populations (built-in LIF or ``model=Cuba(...)``) and projections.
    dt_s : float
        Biological time of one step, s, > 0 (decays, bias per step and delays in steps).
    vth_units : int
        Threshold, in units of 2^6, that a population's mean threshold maps to; 1-131071.
    input_populations : tuple of str
        Populations driven by given spikes (not simulated): their neurons get zero parameters.

    Returns
    -------
    neurons : LoihiNeurons
    synapses : LoihiSynapses
    quantisation : Quantisation

    Raises
    ------
    InvalidParameterError
        If ``dt_s`` or ``vth_units`` is out of range, or a weight or bias does not fit.

    Examples
    --------
    >>> from neurochip.network import Network, Population, Projection, OneToOne
    >>> from neurochip.lif import LIFParams
    >>> p = LIFParams(c_m_farad=200e-12, g_leak_siemens=10e-9, v_th_volt=0.02, v_reset_volt=0.0,
    ...               e_leak_volt=0.0, t_ref_s=0.0)
    >>> net = Network(populations=(Population(name="A", size=2, params=p),),
    ...               projections=(Projection(pre="A", post="A", rule=OneToOne(), weight_volt=0.005),))
    >>> neurons, syn, q = quantise_network(net, dt_s=1e-3)
    >>> int(neurons.dv[0]), int(neurons.du[0]), int(neurons.vth[0]), syn.mant.tolist(), syn.weight_exp.tolist()
    (200, 4095, 4096, [128, 128], [3])
    """
    if not (isinstance(dt_s, (int, float)) and math.isfinite(dt_s) and dt_s > 0):
        raise InvalidParameterError.of("dt_s", dt_s, "must be > 0 and finite")
    if not (isinstance(vth_units, int) and 1 <= vth_units <= 131071):
        raise InvalidParameterError.of("vth_units", vth_units, "must be an integer in [1, 131071]")
    from ..models.cuba import Cuba

    n = network.n_neurons
    arrays = network.neuron_arrays()
    du = np.full(n, _UNITY - 1, dtype=np.int64)
    dv = np.zeros(n, dtype=np.int64)
    vth = np.zeros(n, dtype=np.int64)
    bias_mant = np.zeros(n, dtype=np.int64)
    bias_exp = np.zeros(n, dtype=np.int64)
    v0 = np.zeros(n, dtype=np.int64)
    q = np.ones(n, dtype=np.float64)
    f_u = np.zeros(n)  # quantised current decay factor per step
    quant = Quantisation(dt_s=float(dt_s))
    start = 0
    for pop in network.populations:
        sl = slice(start, start + pop.size)
        start += pop.size
        if pop.name in input_populations:
            quant.populations[pop.name] = {"input": True}
            continue
        el = arrays["e_leak_volt"][sl]
        span = arrays["v_th_volt"][sl] - el
        qp = float(np.mean(span)) / (64 * vth_units)
        q[sl] = qp
        c_m = arrays["c_m_farad"][sl]
        g_l = arrays["g_leak_siemens"][sl]
        exact_fv = np.where(g_l > 0, np.exp(-dt_s * g_l / c_m), 1.0)
        dv[sl] = np.clip(np.rint(_UNITY * (1 - exact_fv)), 0, _UNITY - 1).astype(np.int64)
        fv = (_UNITY - dv[sl]) / _UNITY
        ignored = []
        model = pop.model
        if isinstance(model, Cuba):
            exact_fu = math.exp(-dt_s / model.tau_syn_exc_s)
            du_p = int(np.clip(round(_UNITY * (1 - exact_fu)) - 1, 0, _UNITY - 1))
            if model.tau_syn_inh_s is not None and model.tau_syn_inh_s != model.tau_syn_exc_s:
                ignored.append("tau_syn_inh_s (one current per compartment: tau_syn_exc_s is used)")
            if model.reset != "value":
                ignored.append(f"reset={model.reset!r} (the chip resets v to 0)")
            if not model.spiking:
                ignored.append("spiking=False (the chip compartment spikes)")
        elif model is None:
            exact_fu = 0.0
            du_p = _UNITY - 1
        else:
            raise InvalidParameterError.of(f"population {pop.name!r}: model", model, "has no Loihi conversion (built-in LIF or Cuba)")
        du[sl] = du_p
        f_u[sl] = (_UNITY - du_p - 1) / _UNITY
        vth_f = span / (64 * qp)
        vth[sl] = np.clip(np.rint(vth_f), 0, 131071).astype(np.int64)
        # bias: steady state of v = b / (1 - f_v) must be I/g_L; a perfect integrator: b = I dt / C
        ib = arrays["bias_current_amp"][sl]
        with np.errstate(divide="ignore", invalid="ignore"):
            b_f = np.where(dv[sl] > 0, (1 - fv) * ib / np.where(g_l > 0, g_l, 1.0), ib * dt_s / c_m) / qp
        bm, be = split_bias(b_f)
        bias_mant[sl], bias_exp[sl] = bm, be
        v0[sl] = np.rint((pop.initial_v() - el) / qp).astype(np.int64)
        if np.any(arrays["t_ref_s"][sl] > 0):
            ignored.append("t_ref_s (Lava's bit-accurate LIF has no refractory period)")
        if np.any(arrays["adapt_increment_amp"][sl] != 0):
            ignored.append("adapt_increment_amp (no adaptation)")
        if np.any(arrays["noise_sigma_volt"][sl] > 0):
            ignored.append("noise_sigma_volt (no noise)")
        b_q = (bm << be).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            b_err = np.where(b_f != 0, np.abs(b_q - b_f) / np.abs(b_f), 0.0)
        quant.populations[pop.name] = {
            "q_volt": qp,
            "du": int(du_p),
            "dv": int(dv[sl][0]),
            "decay_v_error": float(np.max(np.abs(fv - exact_fv))),
            "decay_u_error": float(abs(f_u[sl][0] - exact_fu)),
            "vth": int(vth[sl][0]),
            "vth_relative_error": float(np.max(np.abs(vth[sl] - vth_f) / vth_f)),
            "bias_relative_error": float(np.max(b_err)) if b_err.size else 0.0,
            "reset_offset_volt": float(np.max(np.abs(arrays["v_reset_volt"][sl] - el))),
            "ignored": ignored,
        }
    # synapses: one connection per (pre population, post population), one exponent each
    csr = network.csr()
    pre, post, w, delay_s = csr.to_coo()
    order = np.lexsort((post, pre))
    pre, post, w, delay_s = pre[order], post[order].astype(np.int64), w[order].astype(np.float64), delay_s[order]
    bounds = np.cumsum([0] + [p.size for p in network.populations])
    pre_pop = np.searchsorted(bounds, pre, side="right") - 1
    post_pop = np.searchsorted(bounds, post, side="right") - 1
    key = pre_pop * len(network.populations) + post_pop
    keys, group = np.unique(key, return_inverse=True)
    mant = np.zeros(w.size, dtype=np.int64)
    weight_exp = np.zeros(keys.size, dtype=np.int64)
    names = []
    units = w / (64 * q[post]) * np.where(du[post] == _UNITY - 1, 1.0, 1 - f_u[post])
    delay = np.maximum(1, np.rint(delay_s / dt_s)).astype(np.int64)
    for g, k in enumerate(keys):
        a, b = divmod(int(k), len(network.populations))
        name = f"{network.populations[a].name}->{network.populations[b].name}"
        names.append(name)
        sel = group == g
        m, e, mode = _weight_mantissas(units[sel])
        mant[sel], weight_exp[g] = m, e
        top = float(np.max(np.abs(units[sel]))) if sel.any() else 0.0
        err = (m * 2.0**e - units[sel]) / top if top > 0 else np.zeros(int(sel.sum()))
        quant.connections[name] = {
            "weight_exp": int(e),
            "sign_mode": mode,
            "max_relative_error": float(np.max(np.abs(err))) if err.size else 0.0,
            "rms_relative_error": float(np.sqrt(np.mean(err**2))) if err.size else 0.0,
            "delay_steps": [int(delay[sel].min()), int(delay[sel].max())] if sel.any() else [1, 1],
            "delay_relative_error": float(np.max(np.abs(delay[sel] * dt_s - delay_s[sel]) / delay_s[sel])) if sel.any() else 0.0,
        }
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(pre, minlength=n), out=indptr[1:])
    neurons = LoihiNeurons(du=du, dv=dv, vth=vth, bias_mant=bias_mant, bias_exp=bias_exp, v0=v0, q_volt=q)
    synapses = LoihiSynapses(
        indptr=indptr, indices=post, mant=mant, group=group.astype(np.int64), delay=delay,
        weight_exp=weight_exp, group_names=names,
    )
    return neurons, synapses, quant
