# One neuron on its own under a constant current (included by _engine.pyx): the exact LIF,
# the exact adaptive LIF (the general model's solution, struct Adapt) and the LIF with white
# input noise.  No validation here: see neurochip.emulator.dc_spike_times and its siblings.

cdef inline double _time_to_threshold(double c_m, double g_l, double gap, double drive) noexcept nogil:
    """C (V_th - v) / drive * log1p(x) / x, x = g_L (V_th - v) / drive (the series near 0)."""
    cdef double x = g_l * gap / drive
    if x < 1e-8:
        return c_m * gap / drive * (1.0 - 0.5 * x)
    return c_m * gap / drive * log1p(x) / x


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


def adaptive_spike_times(double c_m, double g_l, double e_l, double v_th, double v_reset,
                         double t_ref, double b_inc, double tau_w, double current,
                         double v0, double w0, double t_stop):
    """Spike times of an adaptive LIF neuron under a constant current, in [0, t_stop).

    C dV/dt = -g_L (V - E_L) + I - w, tau_w dw/dt = -w, w += b_inc at each spike; V held at
    V_reset for t_ref after a spike (w keeps decaying).  g_L = 0 is not supported here."""
    cdef Adapt p
    cdef double t = 0.0, dt
    p.a = g_l / c_m
    p.b = 1.0 / tau_w
    p.cm = c_m
    p.drv = e_l + current / g_l
    p.vth = v_th
    p.v = v0
    p.w = w0
    out = []
    while t < t_stop:
        dt = _across(&p, t_stop - t)
        if dt == INFINITY or t + dt >= t_stop:
            break
        t += dt
        out.append(t)
        p.w = p.w * exp(-dt * p.b) + b_inc
        p.w = p.w * exp(-t_ref * p.b)
        t += t_ref
        p.v = v_reset
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
    cdef double t = 0.0, v = v0, v1, z, u1, u2, spare = 0.0, cap_t, offset
    cdef int have_spare = 0
    cdef long long steps = 0
    out = []
    while t < t_stop:
        if have_spare:
            z = spare
            have_spare = 0
        else:
            u1 = nc_uniform(&s)
            u2 = nc_uniform(&s)
            z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2)
            spare = sqrt(-2.0 * log(u1)) * sin(2.0 * M_PI * u2)
            have_spare = 1
        v1 = mu + (v - mu) * a + sd * z
        steps += 1
        cap_t = -1.0
        if _bridge_crossing(v, v1, v_th, dt, sd * sd, &s, &offset):
            cap_t = t + offset
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
