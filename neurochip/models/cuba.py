r"""Current-based LIF (CUBA): exponential synaptic currents, found exactly between events.

The model
---------
Each neuron carries an excitatory and an inhibitory synaptic current, kept as
:math:`J = I_{syn}/C` (V/s), each decaying with its own time constant:

.. math::

    \frac{dV}{dt} = -\frac{V - V_\infty}{\tau_m} + J_e + J_i, \qquad
    \frac{dJ_e}{dt} = -\frac{J_e}{\tau_e}, \qquad \frac{dJ_i}{dt} = -\frac{J_i}{\tau_i},

:math:`V_\infty = E_L + I_{bias}/g_L` (a perfect integrator, :math:`g_L = 0`, has the slope
:math:`I_{bias}/C` instead).  An input of weight ``w`` (``weight_volt``: V) makes the current of
its sign's channel jump by :math:`w/\tau_{syn}` (V/s): its charge is :math:`wC`, the charge of a
delta synapse of the same weight, which this model becomes as :math:`\tau_{syn} \to 0`.  The
synaptic current in amperes is :math:`C J`.

Between events, with :math:`a = 1/\tau_m`, :math:`k = 1/\tau_{syn}` and
:math:`\varphi(d, t) = (e^{dt} - 1)/d` (:math:`= t` at :math:`d = 0`, so that
:math:`\tau_{syn} = \tau_m` needs no special case),

.. math::

    V(t) = V_\infty + e^{-at}\left[(V_0 - V_\infty) + J_{e,0}\,\varphi(a - k_e, t)
           + J_{i,0}\,\varphi(a - k_i, t)\right].

Threshold crossings, never missed
---------------------------------
The crossing search looks for the first t in (0, h] with :math:`V(t) \ge V_{th}` and uses only
sign evaluations at points it can compute exactly (Rolle's theorem, twice):

1. :math:`e^{at}(V - V_{th})` has derivative :math:`e^{at} Q(t)` with
   :math:`Q(t) = D + J_{e,0} e^{-k_e t} + J_{i,0} e^{-k_i t}`, :math:`D = a(V_\infty - V_{th})`
   (the slope for a perfect integrator).  So V - V_th changes direction only where Q = 0.
2. :math:`Q'(t) = -k_e J_{e,0} e^{-k_e t} - k_i J_{i,0} e^{-k_i t}` vanishes at most once, at
   :math:`t_1 = \ln(-k_i J_{i,0} / (k_e J_{e,0})) / (k_i - k_e)` (closed form).  On each side of
   :math:`t_1` Q is monotone, so Q has at most one zero there, bracketed by a sign change at
   the ends and refined by a safeguarded Newton iteration: at most two zeros
   :math:`z_1 \le z_2` of Q in (0, h).
3. On each of the at most three intervals between 0, :math:`z_1`, :math:`z_2`, h,
   :math:`V - V_{th}` is monotone: it crosses zero there if and only if its sign at the
   interval's right end is non-negative (it is negative at the left end, else the search would
   have stopped earlier).  The first such interval holds the first crossing, which Halley
   steps kept inside the bracket narrow until V is within two ulps of V_th and the bracket is
   shorter than 8 ulps of V_th / V': the spike time is a double at which the computed V(t) >=
   V_th, less than that after one at which it is below (docs/cuba.md).

A crossing where V rises above V_th and falls back between two inputs has its maximum at a
zero of Q, an interval end, so step 3 sees it: no crossing is missed as long as the signs at
the interval ends are right, and they are computed to a few ulp of the terms (a peak more than
~1e-15 V above or below threshold is decided correctly).  V is evaluated as the closed form
above, or, when a is well apart from k_e and k_i (by a quarter of the larger), as its three modes
:math:`A e^{-at} + B_e e^{-k_e t} + B_i e^{-k_i t}` (three exponentials, no division), whose
terms are of the size of the potentials and of J / (a - k).  When a, k_e and k_i are small
integer multiples of one base rate b (20, 5 and 10 ms: b = 1/20 ms, 1, 4 and 2), the three
exponentials are one :math:`e^{-bt}` and its powers (:func:`_pow_of`, :func:`_exps`), to a few
units in the last place.  The search runs over the stretch of
time that the engine brings a neuron through (to its next input, or the end of a window), so
the exponentials stay in range.

Refractoriness and reset
------------------------
After a spike at t the membrane is held at its reset value until t + t_ref; the synaptic
currents keep decaying and inputs keep adding to them (inputs are not lost during the hold,
as in NEST's ``iaf_psc_exp``).  The reset is to V_reset (``reset="value"``) or by subtraction,
:math:`V \leftarrow V - (V_{th} - V_{reset})` (``reset="subtract"``, as snnTorch's
RSynaptic layers export to NIR).  ``spiking=False`` gives the leaky integrator (NIR's
``CubaLI``): no threshold, V and the currents only integrate.

Built-in LIF neurons (delta synapses) in a network that holds CUBA populations run in the same
kernel: their inputs make V jump, and inputs during their hold are discarded, as in the
built-in model.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError
from . import NeuronModel

__all__ = ["Cuba", "CubaNeurons", "crossing", "membrane"]

#: kernel column order (emulator/models/cuba.pxi reads them in this order)
COLUMNS = ("k_exc", "k_inh", "delta", "subtract")


@dataclass(frozen=True, slots=True, kw_only=True)
class Cuba(NeuronModel):
    """Current-based synapses on a LIF population: the spec a Population takes as ``model=``.

    Parameters
    ----------
    tau_syn_exc_s : float
        Time constant of the excitatory synaptic current (inputs of weight >= 0), s, > 0.
    tau_syn_inh_s : float, optional
        Time constant of the inhibitory synaptic current (inputs of weight < 0), s, > 0;
        defaults to ``tau_syn_exc_s`` (one current, as NIR's CubaLIF).
    reset : {"value", "subtract"}
        After a spike V becomes V_reset, or V - (V_th - V_reset).
    spiking : bool
        False: no threshold (a leaky integrator whose V and current are recorded, NIR's CubaLI).

    Raises
    ------
    InvalidParameterError
        Naming the field when a value is out of range.

    Examples
    --------
    >>> Cuba(tau_syn_exc_s=5e-3, tau_syn_inh_s=10e-3).tau_syn_inh_s
    0.01
    >>> Cuba(tau_syn_exc_s=5e-3).to_dict()
    {'model': 'cuba', 'tau_syn_exc_s': 0.005, 'tau_syn_inh_s': 0.005, 'reset': 'value', 'spiking': True}
    >>> Cuba(tau_syn_exc_s=0.0)
    Traceback (most recent call last):
    ...
    neurochip.errors.InvalidParameterError: Cuba.tau_syn_exc_s = 0.0: must be a finite number > 0
    """

    name: ClassVar[str] = "cuba"
    columns: ClassVar[tuple[str, ...]] = COLUMNS
    weight_meaning: ClassVar[str] = "charge / C_m (V): the current jumps by weight / tau_syn"

    tau_syn_exc_s: float
    tau_syn_inh_s: float | None = None
    reset: str = "value"
    spiking: bool = True

    def __post_init__(self) -> None:
        if self.tau_syn_inh_s is None:
            object.__setattr__(self, "tau_syn_inh_s", self.tau_syn_exc_s)
        for key in ("tau_syn_exc_s", "tau_syn_inh_s"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < value < math.inf):
                raise InvalidParameterError(f"Cuba.{key} = {value!r}: must be a finite number > 0")
            object.__setattr__(self, key, float(value))
        if self.reset not in ("value", "subtract"):
            raise InvalidParameterError(f"Cuba.reset = {self.reset!r}: must be 'value' or 'subtract'")
        if not isinstance(self.spiking, bool):
            raise InvalidParameterError(f"Cuba.spiking = {self.spiking!r}: must be True or False")

    def check(self, population: str, arrays: dict[str, NDArray[np.float64]]) -> None:
        """Adaptation and white noise do not combine with current synapses (yet): say so."""
        for key, what in (("adapt_increment_amp", "adaptation"), ("noise_sigma_volt", "white noise")):
            bad = np.flatnonzero(arrays[key] != 0)
            if bad.size:
                raise InvalidParameterError(
                    f"population {population!r}: neuron {int(bad[0])}: {key} = {float(arrays[key][bad[0]])!r}: "
                    f"{what} is not implemented with current-based synapses (model=Cuba); set it to 0 "
                    "or use delta synapses"
                )

    def kernel_columns(self, arrays: dict[str, NDArray[np.float64]]) -> NDArray[np.float64]:
        """Columns ``k_exc, k_inh`` (1/tau_syn, 1/s), ``delta`` (0) and ``subtract`` (0/1)."""
        size = arrays["c_m_farad"].shape[0]
        out = np.empty((size, len(COLUMNS)))
        out[:, 0] = 1.0 / self.tau_syn_exc_s
        out[:, 1] = 1.0 / float(self.tau_syn_inh_s)  # type: ignore[arg-type]
        out[:, 2] = 0.0
        out[:, 3] = 1.0 if self.reset == "subtract" else 0.0
        return out

    @classmethod
    def delta_columns(cls, size: int) -> NDArray[np.float64]:
        out = np.zeros((size, len(COLUMNS)))
        out[:, 0] = out[:, 1] = 1.0
        out[:, 2] = 1.0
        return out

    @classmethod
    def reference(cls, prep: Any, vinf: NDArray[np.float64]) -> CubaNeurons:
        return CubaNeurons(prep, vinf)


# --------------------------------------------------------------------------------------------
# the closed form and the crossing search (mirrored operation by operation in
# emulator/models/cuba.pxi, so that both backends compute the same doubles)


# a is kept apart from k_e and k_i by at least this share of the larger (the kernel's CB_GAP)
_GAP = 0.25
# commensurate rates: a, k_e, k_i all n b for one base b and integers n up to this (the kernel's CB_NPOW)
_NPOW = 8


def _phi(d: float, t: float) -> float:
    """expm1(d t) / d, continuous at d = 0 (= t)."""
    if abs(d * t) < 1e-300:
        return t
    return math.expm1(d * t) / d


def membrane(a: float, drive: float, v: float, je: float, ji: float, ke: float, ki: float, dt: float) -> float:
    """V after dt from (v, je, ji) with no input: leaky (a > 0, drive = V_inf) or perfect
    integrator (a = 0, drive = the slope I/C, V/s).

    Parameters
    ----------
    a : float
        1 / tau_m, 1/s (0: perfect integrator).
    drive : float
        V_inf (V), or the slope (V/s) when a = 0.
    v, je, ji : float
        V (V) and the currents / C (V/s) at the origin.
    ke, ki : float
        1 / tau_syn of the two currents, 1/s.
    dt : float
        Time from the origin, s, >= 0.

    Returns
    -------
    float
        V (V).

    Examples
    --------
    >>> round(membrane(1e3, 0.0, 0.0, 100.0, 0.0, 1e3, 1e3, 1e-3), 12)  # tau_syn = tau_m: J t e^{-t/tau}
    0.036787944117
    """
    if a == 0.0:
        return v + drive * dt + je * _phi(-ke, dt) + ji * _phi(-ki, dt)
    if (a - ke) * dt > 700.0 or (a - ki) * dt > 700.0:
        return _membrane_far(a, drive, v, je, ji, ke, ki, dt)
    return drive + math.exp(-a * dt) * ((v - drive) + je * _phi(a - ke, dt) + ji * _phi(a - ki, dt))


def _membrane_far(a: float, drive: float, v: float, je: float, ji: float, ke: float, ki: float, dt: float) -> float:
    """V when (a - k) dt is too large for expm1 (a neuron left alone for hundreds of tau_m):
    e^{-a dt} phi(a - k, dt) as (e^{-k dt} - e^{-a dt}) / (a - k), which has no cancellation
    there (the product form would give inf x 0 for a current that is 0)."""
    ea = math.exp(-a * dt)
    out = drive + ea * (v - drive)
    for j, k in ((je, ke), (ji, ki)):
        if j != 0.0:
            out += j * ((math.exp(-k * dt) - ea) / (a - k) if (a - k) * dt > 700.0 else ea * _phi(a - k, dt))
    return out


def _phi_decay(d: float, dt: float, ea: float) -> tuple[float, float]:
    """(phi(d, dt), e^{-a dt} e^{d dt}) from one expm1; ea = e^{-a dt}."""
    x = d * dt
    if abs(x) < 1e-300:
        return dt, ea
    m = math.expm1(x)
    return m / d, ea * (m + 1.0)


def _vdecay(a: float, drive: float, v: float, je: float, ji: float, ke: float, ki: float, dt: float) -> tuple:
    """(V, e^{-k_e dt}, e^{-k_i dt}) with three transcendentals: V exactly as :func:`membrane`
    computes it, the decays from the same expm1 terms (e^{-k dt} = e^{-a dt} (expm1((a - k) dt) + 1))."""
    ea = math.exp(-a * dt)
    if a != 0.0 and ((a - ke) * dt > 700.0 or (a - ki) * dt > 700.0):
        return _membrane_far(a, drive, v, je, ji, ke, ki, dt), math.exp(-ke * dt), math.exp(-ki * dt)
    pe, de = _phi_decay(a - ke, dt, ea)
    pi_, di = _phi_decay(a - ki, dt, ea)
    if a == 0.0:
        return v + drive * dt + je * pe + ji * pi_, de, di
    return drive + ea * ((v - drive) + je * pe + ji * pi_), de, di


def _jplus(je: float, ji: float, ke: float, ki: float) -> float:
    """A bound on the synaptic current J_e e^{-k_e t} + J_i e^{-k_i t} at every t >= 0 (J_e >= 0 >= J_i):
    (J_e + J_i)^+ if k_e >= k_i (inhibition outlasts excitation), else J_e^+ + J_i^+."""
    if ke >= ki and je >= 0.0 and ji <= 0.0:
        return je + ji if je + ji > 0.0 else 0.0
    return (je if je > 0.0 else 0.0) + (ji if ji > 0.0 else 0.0)


def _q(d: float, je: float, ji: float, ke: float, ki: float, t: float) -> float:
    """e^{-at} d/dt [e^{at} (V - V_th)]: its sign is the sign of the slope of e^{at}(V - V_th)."""
    return d + je * math.exp(-ke * t) + ji * math.exp(-ki * t)


def _dq(je: float, ji: float, ke: float, ki: float, t: float) -> float:
    return -ke * je * math.exp(-ke * t) - ki * ji * math.exp(-ki * t)


def _q_root(d: float, je: float, ji: float, ke: float, ki: float, lo: float, hi: float, qlo: float) -> float:
    """The zero of Q in (lo, hi), where Q is monotone and changes sign (qlo = Q(lo))."""
    t = 0.5 * (lo + hi)
    for _ in range(100):
        q = _q(d, je, ji, ke, ki, t)
        if q == 0.0:
            return t
        if (q < 0.0) == (qlo < 0.0):
            lo = t
        else:
            hi = t
        dq = _dq(je, ji, ke, ki, t)
        nt = t - q / dq if dq != 0.0 else 0.5 * (lo + hi)
        if not (lo < nt < hi):
            nt = 0.5 * (lo + hi)
        if nt == t or hi - lo <= 4e-16 * hi:
            return nt
        t = nt
    return t


def crossing(
    a: float, drive: float, vth: float, v: float, je: float, ji: float, ke: float, ki: float, h: float
) -> float:
    """First dt in (0, h] at which V >= V_th, given V(0) < V_th and no input; inf if none.

    The method and the argument that it misses no crossing are in this module's docstring.

    Parameters
    ----------
    a, drive, v, je, ji, ke, ki : float
        As for :func:`membrane`.
    vth : float
        Threshold (V).
    h : float
        Horizon, s, >= 0.

    Returns
    -------
    float
        dt (s) in (0, h] at which V >= vth as the search evaluates it (:func:`membrane`, or the
        three modes when a is well apart from k_e and k_i), less than 8 ulps of V_th / V' after
        a time at which V < V_th (or the next double); ``inf`` if V stays below V_th on (0, h].

    Examples
    --------
    A current that lifts V 1e-12 V above threshold, and one that stops 1e-12 V short of it:

    >>> a = ke = 1e3; peak = 0.036787944117144233  # max of J t e^{-t/tau} at t = tau for J = 100
    >>> crossing(a, 0.0, peak * (1 - 1e-12), 0.0, 100.0, 0.0, ke, ke, 5e-3) < 1e-3
    True
    >>> crossing(a, 0.0, peak * (1 + 1e-12), 0.0, 100.0, 0.0, ke, ke, 5e-3)
    inf
    """
    if not h > 0.0:
        return math.inf
    d = a * (drive - vth) if a != 0.0 else drive
    # cheap bound: V <= V_0-part + J+ h, with e^{-ah} >= 1 - ah
    jp = _jplus(je, ji, ke, ki)
    if h < math.inf:
        if a == 0.0:
            bound = v + (drive if drive > 0.0 else 0.0) * h + jp * h
        else:
            x = v - drive
            bound = drive + (x if x > 0.0 else x * (1.0 - a * h)) + jp * h
        if bound < vth:
            return math.inf
    # the zeros of Q in (0, h): split at the zero of Q' (closed form), one sign change per piece
    cuts = [0.0]
    t1 = math.inf
    pw = _pow_of(a, ke, ki)
    xa = xe = xi = -1.0  # e^{-a h}, e^{-k_e h}, e^{-k_i h} when taken
    if h < math.inf:  # for Q(h), V(h) (with the modes) and the test of t1 below
        if pw[0] > 0.0:
            xa, xe, xi = _exps(pw, a, ke, ki, h)
        else:  # (e^{-a h} when V(h) needs it)
            xe, xi = math.exp(-ke * h), math.exp(-ki * h)
    if ke != ki and je != 0.0 and ji != 0.0:
        r = -(ki * ji) / (ke * je)
        if r > 0.0:
            if h < math.inf:
                # t1 is in (0, h) only if r is between 1 and e^{(k_i - k_e) h} = xe / xi: the log is
                # taken only then (or near, by a margin far above rounding)
                g = xe / xi if xi > 0.0 else math.nan
            if not (h < math.inf and xi > 0.0) or min(1.0, g) * (1.0 - 1e-9) < r < max(1.0, g) * (1.0 + 1e-9):
                t1 = math.log(r) / (ki - ke)
    ends = [0.0, t1, h] if 0.0 < t1 < h else [0.0, h]
    q_lo = (d + je) + ji  # Q(0), as _q computes it (e^0 = 1)
    for k in range(len(ends) - 1):
        lo, hi = ends[k], ends[k + 1]
        q_hi = d + je * xe + ji * xi if hi == h and xe >= 0.0 else _q(d, je, ji, ke, ki, hi)
        if (q_lo < 0.0) != (q_hi < 0.0) and q_lo != 0.0 and q_hi != 0.0:
            if hi == math.inf:  # Q monotone on [lo, inf): a finite end with Q's sign at infinity
                hi = lo + 1.0 / (ke if ke < ki else ki)
                while (_q(d, je, ji, ke, ki, hi) < 0.0) != (q_hi < 0.0) or _q(d, je, ji, ke, ki, hi) == 0.0:
                    hi = 2.0 * hi
            cuts.append(_q_root(d, je, ji, ke, ki, lo, hi, q_lo))
        q_lo = q_hi
    vlo = v
    md = _modes_of(a, drive, v, je, ji, ke, ki)  # V from here on (pieces' ends and root)
    for k in range(1, len(cuts)):
        vhi = _v_at(a, drive, v, je, ji, ke, ki, cuts[k], md, pw)
        if vhi >= vth:
            return _v_root(a, drive, vth, v, je, ji, ke, ki, cuts[k - 1], cuts[k], vlo, vhi, md, pw)
        vlo = vhi
    lo = cuts[-1]
    if h < math.inf:
        hi = h
    else:
        # the last piece is unbounded: V tends to V_inf (or grows like the slope of a perfect
        # integrator); if it ends above threshold, double a finite end until V is there
        if a != 0.0:
            if not drive > vth:
                return math.inf
        elif not (drive > 0.0 or (drive == 0.0 and v + je / ke + ji / ki > vth)):
            return math.inf
        hi = lo + 1.0 / (a if a > ke else ke) + 1.0 / ki
        for _ in range(2000):
            vhi = _v_at(a, drive, v, je, ji, ke, ki, hi, md, pw)
            if vhi >= vth:
                return _v_root(a, drive, vth, v, je, ji, ke, ki, lo, hi, vlo, vhi, md, pw)
            lo, vlo, hi = hi, vhi, 2.0 * hi
        return math.inf
    if md[0] != 0.0:  # V(h) from the modes, with the exponentials Q(h) took
        if xa < 0.0:
            xa = math.exp(-a * h)
        vhi = drive + ((md[1] * xa + md[2] * xe) + md[3] * xi)
    else:
        vhi = membrane(a, drive, v, je, ji, ke, ki, h)
    if vhi >= vth:
        return _v_root(a, drive, vth, v, je, ji, ke, ki, lo, hi, vlo, vhi, md, pw)
    return math.inf


def _modes_of(a: float, drive: float, v: float, je: float, ji: float, ke: float, ki: float) -> tuple:
    """(1, am, be, bi), the state's three modes (be = J_e / (a - k_e), bi = J_i / (a - k_i),
    am = V - V_inf - be - bi), when a is well apart from k_e and k_i (:func:`_gapped`); else (0, 0, 0, 0)."""
    if not _gapped(a, ke, ki):
        return 0.0, 0.0, 0.0, 0.0
    be = je / (a - ke)
    bi = ji / (a - ki)
    return 1.0, (v - drive) - be - bi, be, bi


def _v_at(
    a: float, drive: float, v: float, je: float, ji: float, ke: float, ki: float, dt: float, md: tuple, pw: tuple
) -> float:
    """V at dt: from the modes ``md`` if there are (:func:`_modes_of`; exponentials as
    :func:`_exps` takes them with ``pw``), else :func:`membrane`."""
    if md[0] != 0.0:
        return drive + _modes(a, ke, ki, md[1], md[2], md[3], dt, pw)[0]
    return membrane(a, drive, v, je, ji, ke, ki, dt)


def _v_root(
    a: float, drive: float, vth: float, v: float, je: float, ji: float, ke: float, ki: float, lo: float, hi: float,
    vlo: float, vhi: float, md: tuple, pw: tuple,
) -> float:
    """A time in (lo, hi] at which V >= V_th, V rising there (``vlo`` = V(lo) < V_th <= V(hi) =
    ``vhi``), less than 8 ulps of V_th / V' after the first such double: from the secant's guess,
    Halley steps kept inside the bracket; a step that lands within two ulps of V_th is pushed two
    ulps across it, which closes the bracket from the other side.  V is evaluated as
    :func:`_v_at` does with ``md`` (the search's V throughout); with the modes, "two ulps" are
    those of the largest of V_th and the modes."""
    fr = md[0] != 0.0
    _, am, be, bi = md
    m = abs(vth)
    if fr:
        m = max(m, max(abs(am), max(abs(be), abs(bi))))
    u = math.nextafter(m, math.inf) - math.nextafter(m, -math.inf)  # two ulps of V_th (or of the largest mode)
    t = lo + (hi - lo) * ((vth - vlo) / (vhi - vlo))
    if not (lo < t < hi):
        t = 0.5 * (lo + hi)
        if not (lo < t < hi):
            return hi
    for _ in range(100):
        if fr:
            x, s, curv = _modes(a, ke, ki, am, be, bi, t, pw)
            vt = drive + x
        else:
            vt, s, curv = _slope(a, drive, v, je, ji, ke, ki, t)
        f = vt - vth
        if f >= 0.0:
            hi = t
        else:
            lo = t
        if s > 0.0:
            if -u <= f <= u and hi - lo <= 4.0 * u / s:
                return hi
            if 0.0 <= f <= u:
                nt = t - (f + u) / s  # on the threshold: two ulps below it closes the bracket
            elif -u <= f < 0.0:
                nt = t + (u - f) / s  # just below: two ulps above it
            else:
                den = 2.0 * s * s - f * curv  # Halley's step (Newton's if it would turn back)
                nt = t - 2.0 * f * s / den if den > 0.0 else t - f / s
        else:
            nt = 0.5 * (lo + hi)
        if not (lo < nt < hi):
            nt = 0.5 * (lo + hi)
            if not (lo < nt < hi):
                return hi
        t = nt
    return hi


def _gapped(a: float, ke: float, ki: float) -> bool:
    """a > 0 and well apart from k_e and k_i (``CB_GAP`` = 0.25 of the kernel, as for its frame):
    V as its three modes loses at most two bits to their cancellation."""
    return a > 0.0 and abs(a - ke) >= _GAP * max(a, ke) and abs(a - ki) >= _GAP * max(a, ki)


def _modes(a: float, ke: float, ki: float, am: float, be: float, bi: float, t: float, pw: tuple) -> tuple:
    """(V - V_inf, dV/dt, d2V/dt2) at t from the three modes am e^{-a t} + be e^{-k_e t} +
    bi e^{-k_i t} (three exp, or one with commensurate rates ``pw``; no division)."""
    x, y, z = _exps(pw, a, ke, ki, t)
    x, y, z = am * x, be * y, bi * z
    return (x + y) + z, -(a * x) - ke * y - ki * z, a * (a * x) + ke * (ke * y) + ki * (ki * z)


@functools.lru_cache(maxsize=64)  # (called by every search of the reference backend)
def _pow_of(a: float, ke: float, ki: float) -> tuple:
    """(b, na, ne, ni) when the rates are commensurate: a = na b, k_e = ne b, k_i = ni b exactly
    (doubles) for b = min(a, k_e, k_i) and integers n in 1.._NPOW; (0.0, 0, 0, 0) otherwise."""
    b = min(a, min(ke, ki))
    if b > 0.0 and b < math.inf:
        n = [next((m for m in range(1, _NPOW + 1) if float(m) * b == r), 0) for r in (a, ke, ki)]
        if all(n):
            return b, n[0], n[1], n[2]
    return 0.0, 0, 0, 0


def _pw(x: float, x2: float, x4: float, n: int) -> float:
    """x^n (1 <= n <= 8) from x, x^2 and x^4, multiplied in the kernel's order."""
    if n <= 4:
        return x if n == 1 else (x2 if n == 2 else (x2 * x if n == 3 else x4))
    if n == 8:
        return x4 * x4
    return x4 * x if n == 5 else (x4 * x2 if n == 6 else (x4 * x2) * x)


def _exps(pw: tuple, a: float, ke: float, ki: float, t: float) -> tuple:
    """(e^{-a t}, e^{-k_e t}, e^{-k_i t}): with commensurate rates (``pw`` from :func:`_pow_of`)
    the powers of one exp(-b t), else three exp."""
    if pw[0] > 0.0:
        x = math.exp(-pw[0] * t)
        x2 = x * x
        x4 = x2 * x2
        return _pw(x, x2, x4, pw[1]), _pw(x, x2, x4, pw[2]), _pw(x, x2, x4, pw[3])
    return math.exp(-a * t), math.exp(-ke * t), math.exp(-ki * t)


def _slope(a: float, drive: float, v: float, je: float, ji: float, ke: float, ki: float, t: float) -> tuple:
    """(V, dV/dt, d2V/dt2) at t."""
    vt, de, di = _vdecay(a, drive, v, je, ji, ke, ki, t)
    if a == 0.0:
        return vt, drive + je * de + ji * di, -ke * je * de - ki * ji * di
    s = -a * (vt - drive) + je * de + ji * di
    return vt, s, -a * s - ke * je * de - ki * ji * di


# --------------------------------------------------------------------------------------------
# the reference backend's neurons


class CubaNeurons:
    """The plain Python CUBA neurons of the reference backend (one instance per run).

    The interface the reference's event loop calls: ``start(i)`` (True: spikes at 0),
    ``crossing(i, horizon)`` (absolute time of the next threshold crossing with no further
    input, or None), ``spike(i, t)``, ``receive(i, t, w)`` (False: discarded), ``above(i, t)``
    and ``step(i, t, drive)``.
    """

    def __init__(self, prep: Any, vinf: NDArray[np.float64]) -> None:
        self.p = prep
        self.vinf = vinf
        mp = prep.model_params
        self.ke, self.ki, self.delta, self.sub = mp[:, 0], mp[:, 1], mp[:, 2] > 0, mp[:, 3] > 0
        n = prep.n
        self.v = prep.v0.copy()
        self.je = np.zeros(n)
        self.ji = np.zeros(n)
        self.t0 = np.zeros(n)
        self.ref_end = np.full(n, -math.inf)

    def start(self, i: int) -> bool:
        return bool(self.v[i] >= self.p.vth[i])

    def _move(self, i: int, t: float) -> None:
        """State to t (>= t0): the hold first (V fixed, currents decay), then the free part."""
        if self.t0[i] < self.ref_end[i]:
            s = min(t, self.ref_end[i])
            dt = s - self.t0[i]
            self.je[i] *= math.exp(-self.ke[i] * dt)
            self.ji[i] *= math.exp(-self.ki[i] * dt)
            self.t0[i] = s
        if t > self.t0[i]:
            dt = t - self.t0[i]
            self.v[i], de, di = _vdecay(
                self.p.inv_tau[i], self.vinf[i], self.v[i], self.je[i], self.ji[i], self.ke[i], self.ki[i], dt
            )
            self.je[i] *= de
            self.ji[i] *= di
            self.t0[i] = t

    def crossing(self, i: int, horizon: float) -> float | None:
        """Time of the next threshold crossing before ``horizon`` with no further input (the
        state is not changed: an input may still come before the hold ends)."""
        saved = (self.v[i], self.je[i], self.ji[i], self.t0[i])
        start = max(self.t0[i], self.ref_end[i])
        self._move(i, start)
        v, je, ji = self.v[i], self.je[i], self.ji[i]
        self.v[i], self.je[i], self.ji[i], self.t0[i] = saved
        if v >= self.p.vth[i]:
            return start
        dt = crossing(self.p.inv_tau[i], self.vinf[i], self.p.vth[i], v, je, ji, self.ke[i], self.ki[i], horizon - start)
        return start + dt if dt < math.inf else None

    def spike(self, i: int, t: float) -> None:
        self._move(i, t)
        if self.sub[i]:
            self.v[i] -= self.p.vth[i] - self.p.vreset[i]
        else:
            self.v[i] = self.p.vreset[i]
        self.ref_end[i] = t + self.p.tref[i]

    def receive(self, i: int, t: float, w: float) -> bool:
        if self.delta[i]:
            if t < self.ref_end[i]:
                return False
            self._move(i, t)
            self.v[i] += w
            return True
        self._move(i, t)
        if w >= 0.0:
            self.je[i] += w * self.ke[i]
        else:
            self.ji[i] += w * self.ki[i]
        return True

    def above(self, i: int, t: float) -> bool:
        return bool(self.delta[i] and t >= self.ref_end[i] and self.v[i] >= self.p.vth[i])

    def step(self, i: int, t: float, drive: float) -> None:
        self._move(i, t)
        self.vinf[i] = drive
