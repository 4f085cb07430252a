# Neuron model: the leaky LIF in the time-scaled frame (included by _engine.pyx).
#
# The membrane is kept as u = (V - V_inf) e(t), e(t) = exp((t - T)/tau), T the window's start:
# an input of weight w at t is ``u += w e(t)``, the threshold test ``u >= (V_th - V_inf) e(t)``,
# and e(t) is shared by all the targets of a spike when tau is uniform.  Every window rebases u
# (multiply by exp(-(W - T)/tau)).  Over a window 0 <= (t - T)/tau <= 1/8 (the wrapper sizes
# the windows so), where e(t) is a degree-10 polynomial (Estrin), exact to ~1 ulp.
# Hooks called through _models.pxi: init, emit, apply, step, catch_up, add, above, close.

cdef extern from *:
    """
    /* exp(x) for 0 <= x <= 1/8 (Taylor to degree 10, Estrin): truncation < 2e-18 relative */
    static inline double nc_exp_small(double x) {
        double x2 = x * x, x4 = x2 * x2, x8 = x4 * x4;
        double q0 = (1.0 + x) + x2 * (0.5 + x * (1.0 / 6.0));
        double q1 = (1.0 / 24.0 + x * (1.0 / 120.0)) + x2 * (1.0 / 720.0 + x * (1.0 / 5040.0));
        double q2 = (1.0 / 40320.0 + x * (1.0 / 362880.0)) + x2 * (1.0 / 3628800.0);
        return q0 + x4 * q1 + x8 * q2;
    }
    """
    double nc_exp_small(double x) noexcept nogil


def exp_small(double x):
    """The kernel's polynomial exp(x), valid for 0 <= x <= 1/8 (for tests)."""
    return nc_exp_small(x)


cdef inline double _itau(Ctx *c, int64_t i) noexcept nogil:
    if c.uniform_tau:
        return c.inv_tau0
    return c.inv_tau[i]


cdef inline double _frame(Ctx *c, int64_t i, double t) noexcept nogil:
    """e(t) of neuron i."""
    return nc_exp_small((t - c.T) * _itau(c, i))


cdef inline void _lif_init(Ctx *c, nc_neuron *n, int64_t i) noexcept nogil:
    n.u = c.v0[i] - c.vinf[i]
    n.thr = c.vth[i] - c.vinf[i]


cdef void _lif_emit(Ctx *c, int64_t i, double t) noexcept nogil:
    """Spike of neuron i at t: record it, reset, hold for t_ref (u preset for the release)."""
    cdef nc_neuron *n = &c.nr[i]
    _record(c, i, t)
    n.ref_until = t + c.tref[i]
    n.u = (c.vreset[i] - c.vinf[i]) * exp((n.ref_until - c.T) * _itau(c, i))


cdef int _lif_drift(Ctx *c, int64_t i, double te, double e) noexcept nogil:
    """Threshold was reached by drift at some t* <= te (u >= thr e(te)): emit those spikes.

    Returns 1 if the neuron is refractory at te afterwards, else 0."""
    cdef nc_neuron *n = &c.nr[i]
    cdef double ts
    while True:
        if n.thr < 0.0 and n.u < 0.0:
            ts = c.T + log(n.u / n.thr) / _itau(c, i)
        else:
            ts = te
        if ts > te:
            ts = te
        if ts < n.ref_until:
            ts = n.ref_until
        if ts < c.T:
            ts = c.T
        c.cnt[C_DRIFT] += 1
        _lif_emit(c, i, ts)
        if te < n.ref_until:
            return 1
        if n.u < n.thr * e:
            return 0


cdef inline int _lif_apply(Ctx *c, nc_neuron *n, int64_t i, double te, double w, double e) noexcept nogil:
    """Own input of weight w at te with frame factor e; returns 0 if discarded (refractory)."""
    cdef double thre
    if te < n.ref_until:
        return 0
    thre = n.thr * e
    if n.u >= thre:
        if _lif_drift(c, i, te, e):
            return 0
    n.u += w * e
    if n.u >= thre:
        _lif_emit(c, i, te)
    return 1


cdef void _lif_step(Ctx *c, nc_neuron *n, int64_t i, double te, double new_vinf) noexcept nogil:
    """The current of neuron i changes at te: V is continuous, V_inf jumps."""
    cdef double e
    if te >= n.ref_until:
        e = _frame(c, i, te)
        if n.u >= n.thr * e:
            _lif_drift(c, i, te, e)
    if te < n.ref_until:
        c.vinf[i] = new_vinf
        n.thr = c.vth[i] - new_vinf
        n.u = (c.vreset[i] - new_vinf) * exp((n.ref_until - c.T) * _itau(c, i))
    else:
        n.u += (c.vinf[i] - new_vinf) * e
        c.vinf[i] = new_vinf
        n.thr = c.vth[i] - new_vinf


cdef inline int _lif_catch_up(Ctx *c, nc_neuron *n, int64_t i, double ta) noexcept nogil:
    """Before the first recurrent input of instant ta: the drift spikes up to ta; 1 if then
    refractory at ta."""
    cdef double e = _frame(c, i, ta)
    if n.u >= n.thr * e:
        return _lif_drift(c, i, ta, e)
    return 0


cdef inline void _lif_add(Ctx *c, nc_neuron *n, int64_t i, double ta, double w) noexcept nogil:
    n.u += w * _frame(c, i, ta)


cdef inline int _lif_above(Ctx *c, nc_neuron *n, int64_t i, double ta) noexcept nogil:
    return n.u >= n.thr * _frame(c, i, ta)


cdef void _lif_drift_until(Ctx *c, int64_t i, double w) noexcept nogil:
    """Emit the drift spikes of neuron i with times < w (suprathreshold V_inf only)."""
    cdef nc_neuron *n = &c.nr[i]
    cdef double ts
    while n.thr < 0.0 and n.ref_until < w:
        if n.u >= 0.0:
            ts = n.ref_until if n.ref_until > c.T else c.T
        else:
            ts = c.T + log(n.u / n.thr) / _itau(c, i)
            if ts < n.ref_until:
                ts = n.ref_until
        if ts >= w:
            return
        c.cnt[C_DRIFT] += 1
        _lif_emit(c, i, ts)
        if c.err:
            return


cdef inline void _lif_close(Ctx *c, nc_neuron *n, int64_t i, double W, double f) noexcept nogil:
    """End of the window [T, W): drift spikes before W, then the frame rebased to W (f is
    exp(-(W - T)/tau) for a uniform tau)."""
    if n.thr < 0.0:
        _lif_drift_until(c, i, W)
    if c.uniform_tau:
        n.u *= f
    else:
        n.u *= exp(-(W - c.T) * c.inv_tau[i])
