# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled single-neuron variants: the adaptive LIF (exact) and the noisy LIF (white noise).

No validation here: see neurochip.emulator.  Docs: docs/emulator.md.
"""

from libc.math cimport exp, expm1, log, log1p, sqrt, cos, sin, fabs, nextafter, INFINITY, M_PI
from libc.stdint cimport uint64_t

import numpy as np

cdef extern from *:
    """
    #include <stdint.h>
    static inline uint64_t ncs_wyrand(uint64_t *s) {
        *s += 0xa0761d6478bd642fULL;
        __uint128_t t = (__uint128_t)(*s) * (*s ^ 0xe7037ed1a0b428dbULL);
        return (uint64_t)(t >> 64) ^ (uint64_t)t;
    }
    static inline double ncs_uniform(uint64_t *s) {
        return ((double)(ncs_wyrand(s) >> 11) + 0.5) * 0x1.0p-53;
    }
    """
    uint64_t ncs_wyrand(uint64_t *s) noexcept nogil
    double ncs_uniform(uint64_t *s) noexcept nogil


cdef struct Adapt:
    double a      # 1 / tau_m
    double b      # 1 / tau_w
    double cm
    double vinf
    double vth


include "_adaptive_math.pxi"


cdef inline double _v(Adapt *p, double v0, double w0, double t) noexcept nogil:
    """V(t) of the adaptive LIF from (v0, w0) at 0 under a constant current (exact):
    V = V_inf + e^{-a t} [(v0 - V_inf) - (w0 / C) expm1((a - b) t) / (a - b)], stable for a ~ b."""
    return p.vinf + exp(-p.a * t) * ((v0 - p.vinf) - (w0 / p.cm) * _phi(p.a - p.b, t))


cdef inline double _dv(Adapt *p, double v0, double w0, double t) noexcept nogil:
    cdef double d = p.a - p.b
    return -exp(-p.a * t) * (p.a * ((v0 - p.vinf) - (w0 / p.cm) * _phi(d, t)) + (w0 / p.cm) * exp(d * t))


cdef double _first_crossing(Adapt *p, double v0, double w0, double horizon) noexcept nogil:
    """First t in [0, horizon] with V(t) = V_th, else INFINITY.

    V' = -e^{-a t} g(t) with g monotone, so V has at most one extremum, at
    t_e = [ln(a/b) + log1p((a - b) (v0 - V_inf) C / w0)] / (a - b): the first root is bracketed
    by 0 and t_e, or lies past t_e where V is monotone; a bracketed Newton iteration then
    refines it to the smallest double with V >= V_th."""
    cdef double lo = 0.0, hi, t_ext = -1.0, d = p.a - p.b, z, f, df, t, step
    cdef int _it
    if v0 >= p.vth:
        return 0.0
    if w0 != 0.0:
        z = (v0 - p.vinf) * p.cm / w0
        if 1.0 + d * z > 0.0:
            t_ext = _log1p_over(1.0 / p.b, d) + _log1p_over(z, d)
    if t_ext > 0.0 and t_ext < horizon and _v(p, v0, w0, t_ext) >= p.vth:
        hi = t_ext
    else:
        lo = t_ext if t_ext > 0.0 else 0.0
        if lo >= horizon:
            return INFINITY
        hi = horizon
        if _v(p, v0, w0, hi) < p.vth:
            return INFINITY
        # the root in [lo, hi] is unique (f monotone past the extremum)
    # Newton kept inside the shrinking bracket (bisection when it leaves it)
    t = 0.5 * (lo + hi)
    for _it in range(200):
        f = _v(p, v0, w0, t) - p.vth
        if f >= 0.0:
            hi = t
        else:
            lo = t
        df = _dv(p, v0, w0, t)
        step = t - f / df if df > 0.0 else -1.0
        if not (step > lo and step < hi):
            step = 0.5 * (lo + hi)
        if fabs(step - t) <= 2e-16 * t or hi - lo <= 2e-16 * hi:
            t = step
            break
        t = step
    # to the last ulp: the smallest double with V(t) >= V_th
    for _it in range(64):
        if _v(p, v0, w0, t) >= p.vth:
            break
        t = nextafter(t, INFINITY)
    for _it in range(64):
        step = nextafter(t, -INFINITY)
        if step < 0.0 or _v(p, v0, w0, step) < p.vth:
            break
        t = step
    return t


def adaptive_spike_times(double c_m, double g_l, double e_l, double v_th, double v_reset,
                         double t_ref, double b_inc, double tau_w, double current,
                         double v0, double w0, double t_stop):
    """Spike times of an adaptive LIF neuron under a constant current, in [0, t_stop).

    C dV/dt = -g_L (V - E_L) + I - w, tau_w dw/dt = -w, w += b_inc at each spike; V held at
    V_reset for t_ref after a spike (w keeps decaying).  g_L = 0 is not supported here."""
    cdef Adapt p
    cdef double t = 0.0, v = v0, w = w0, dt
    p.a = g_l / c_m
    p.b = 1.0 / tau_w
    p.cm = c_m
    p.vinf = e_l + current / g_l
    p.vth = v_th
    out = []
    while t < t_stop:
        dt = _first_crossing(&p, v, w, t_stop - t)
        if dt == INFINITY or t + dt >= t_stop:
            break
        t += dt
        out.append(t)
        w = w * exp(-dt * p.b) + b_inc
        w = w * exp(-t_ref * p.b)
        t += t_ref
        v = v_reset
    return np.array(out, dtype=np.float64)


def noisy_spike_times(double tau, double mu, double sigma, double v_th, double v_reset,
                      double t_ref, double v0, double t_stop, double dt, uint64_t seed):
    """Spike times of an LIF neuron with white-noise input, tau dV/dt = -(V - mu) +
    sigma sqrt(tau) xi, on a step dt: exact Ornstein-Uhlenbeck transition per step, and a
    Brownian-bridge test for a crossing inside a step whose ends are both below threshold.
    Returns (times, n_steps)."""
    cdef uint64_t s = seed ^ 0x5851f42d4c957f2dULL
    cdef double a = exp(-dt / tau)
    cdef double sd = sigma * sqrt(0.5 * (1.0 - a * a))
    cdef double var_step = sd * sd
    cdef double t = 0.0, v = v0, v1, z, u1, u2, spare = 0.0, p
    cdef int have_spare = 0
    cdef long long steps = 0
    cdef double cap_t
    out = []
    while t < t_stop:
        if have_spare:
            z = spare
            have_spare = 0
        else:
            u1 = ncs_uniform(&s)
            u2 = ncs_uniform(&s)
            z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2)
            spare = sqrt(-2.0 * log(u1)) * sin(2.0 * M_PI * u2)
            have_spare = 1
        v1 = mu + (v - mu) * a + sd * z
        steps += 1
        cap_t = -1.0
        if v1 >= v_th:
            cap_t = t + dt * (v_th - v) / (v1 - v)
        else:
            p = exp(-2.0 * (v_th - v) * (v_th - v1) / var_step)
            if ncs_uniform(&s) < p:
                cap_t = t + 0.5 * dt
        if cap_t >= 0.0:
            if cap_t >= t_stop:
                break
            out.append(cap_t)
            t = cap_t + t_ref
            v = v_reset
        else:
            t += dt
            v = v1
    return np.array(out, dtype=np.float64), steps
