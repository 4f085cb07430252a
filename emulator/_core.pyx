# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled kernels of the neurochip emulator (no validation here: see neurochip.emulator)."""

from libc.math cimport log1p

import numpy as np


def dc_spike_times(double c_m, double g_l, double e_l, double v_th, double v_reset,
                   double t_ref, double current, double v0, double t_stop):
    """Exact spike times of one LIF neuron under a constant current, in [0, t_stop).

    The membrane relaxes to v_inf = e_l + current / g_l between spikes; the threshold crossing
    time from v is tau * ln((v_inf - v) / (v_inf - v_th)), evaluated with log1p.
    """
    cdef double t = 0.0
    cdef double v = v0
    cdef double drive, dt
    cdef Py_ssize_t n = 0, cap = 64
    out = np.empty(cap, dtype=np.float64)
    cdef double[::1] buf = out
    while True:
        drive = current - g_l * (v_th - e_l)
        if v >= v_th:
            dt = 0.0
        elif drive <= 0.0:
            break
        else:
            # time from v to v_th: C*(v_th - v)/(I - g(v_th-e_l)) * log1p(x)/x, x = g(v_th-v)/drive
            dt = _time_to_threshold(c_m, g_l, v_th - v, drive)
        t += dt
        if t >= t_stop:
            break
        if n == cap:
            cap *= 2
            out = np.resize(out, cap)
            buf = out
        buf[n] = t
        n += 1
        t += t_ref
        v = v_reset
    return out[:n].copy()


cdef inline double _time_to_threshold(double c_m, double g_l, double gap, double drive) nogil:
    cdef double x = g_l * gap / drive
    if x < 1e-8:
        return c_m * gap / drive * (1.0 - 0.5 * x)
    return c_m * gap / drive * log1p(x) / x
