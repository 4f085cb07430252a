# Neuron model: the general state (included by _engine.pyx) -- perfect integrators (g_L = 0),
# adaptive LIF (w += b at each spike, tau_w dw/dt = -w) and LIF with white input noise.
#
# V and the adaptation current w are kept at time gT; between events
#   LIF:  V(t) = V_inf + e^{-a dt} [(V - V_inf) - (w/C) expm1((a - b) dt) / (a - b)]
#   PIF:  V(t) = V + s dt - (w/C) (1 - e^{-b dt}) / b          (s = I / C, stored in vinf)
# with a = g_L / C, b = 1 / tau_w, w(t) = w e^{-b dt}.  V' changes sign at most once, so the
# first threshold crossing is bracketed by the extremum and refined by a bracketed Newton
# iteration to the smallest double at which V >= V_th.  The single adaptive neuron
# (_single_neuron.pxi) uses the same solution (struct Adapt).
# Hooks called through _models.pxi: init, emit, apply, step, catch_up, add, above, close.

cdef struct Adapt:
    double a       # g_L / C (0: perfect integrator)
    double b       # 1 / tau_w
    double cm
    double drv     # V_inf (leaky), or the slope I / C (perfect integrator)
    double vth
    double v       # V at the origin
    double w       # adaptation current at the origin


cdef inline double _phi(double d, double t) noexcept nogil:
    """expm1(d t) / d, continuous at d = 0 (= t)."""
    if fabs(d * t) < 1e-300:
        return t
    return expm1(d * t) / d


cdef inline double _log1p_over(double z, double d) noexcept nogil:
    """log1p(z d) / d, continuous at d = 0 (= z)."""
    if fabs(z * d) < 1e-300:
        return z
    return log1p(z * d) / d


cdef inline double _av(Adapt *p, double dt) noexcept nogil:
    """V at dt from the origin.  Without adaptation current the w term is left out (it is 0);
    when (a - b) dt is too large for expm1, e^{-a dt} phi(a - b, dt) is taken as the difference
    (e^{-b dt} - e^{-a dt}) / (a - b), which has no cancellation there."""
    cdef double q = p.w / p.cm, d
    if p.a == 0.0:
        if q == 0.0:
            return p.v + p.drv * dt
        return p.v + p.drv * dt - q * _phi(-p.b, dt)
    if q == 0.0:
        return p.drv + exp(-p.a * dt) * (p.v - p.drv)
    d = p.a - p.b
    if d * dt > 700.0:
        return p.drv + exp(-p.a * dt) * (p.v - p.drv) - q * ((exp(-p.b * dt) - exp(-p.a * dt)) / d)
    return p.drv + exp(-p.a * dt) * ((p.v - p.drv) - q * _phi(d, dt))


cdef inline double _adv(Adapt *p, double dt) noexcept nogil:
    """dV/dt at dt from the origin (the same two guards as _av)."""
    cdef double a = p.a, b = p.b, q = p.w / p.cm, ea
    if a == 0.0:
        return p.drv - q * exp(-b * dt)
    if q == 0.0:
        return -exp(-a * dt) * (a * (p.v - p.drv))
    if (a - b) * dt > 700.0:
        ea = exp(-a * dt)
        return -a * ea * (p.v - p.drv) + q * (a * (exp(-b * dt) - ea) / (a - b) - exp(-b * dt))
    return -exp(-a * dt) * (a * ((p.v - p.drv) - q * _phi(a - b, dt)) + q * exp((a - b) * dt))


cdef double _aext(Adapt *p) noexcept nogil:
    """Time (from the origin) of the extremum of V, or -1 if none."""
    cdef double a = p.a, b = p.b, r, z, d
    if p.w == 0.0:
        return -1.0
    if a == 0.0:
        if p.drv == 0.0:
            return -1.0
        r = p.w / (p.drv * p.cm)
        return log(r) / b if r > 0.0 else -1.0
    z = (p.v - p.drv) * p.cm / p.w
    d = a - b
    if 1.0 + d * z > 0.0:
        return _log1p_over(1.0 / b, d) + _log1p_over(z, d)
    return -1.0


cdef double _across(Adapt *p, double horizon) noexcept nogil:
    """First dt in [0, horizon] (from the origin) with V >= V_th, to the last ulp; INFINITY if
    none.  The root is bracketed by 0 and the extremum, or lies past it where V is monotone;
    Newton is kept inside the shrinking bracket (bisection when it leaves it)."""
    cdef double lo = 0.0, hi, te = _aext(p), f, df, t, step, vth = p.vth
    cdef int _it
    if p.v >= vth:
        return 0.0
    if te > 0.0 and te < horizon and _av(p, te) >= vth:
        hi = te
    else:
        lo = te if te > 0.0 else 0.0
        if lo >= horizon:
            return INFINITY
        hi = horizon
        if _av(p, hi) < vth:
            return INFINITY
    t = 0.5 * (lo + hi)
    for _it in range(200):
        f = _av(p, t) - vth
        if f >= 0.0:
            hi = t
        else:
            lo = t
        df = _adv(p, t)
        step = t - f / df if df > 0.0 else -1.0
        if not (step > lo and step < hi):
            step = 0.5 * (lo + hi)
        if fabs(step - t) <= 2e-16 * t or hi - lo <= 2e-16 * hi:
            t = step
            break
        t = step
    # to the last ulp: the smallest double with V(t) >= V_th
    for _it in range(64):
        if _av(p, t) >= vth:
            break
        t = nextafter(t, INFINITY)
    for _it in range(64):
        step = nextafter(t, -INFINITY)
        if step < 0.0 or _av(p, step) < vth:
            break
        t = step
    return t


cdef inline Adapt _gload(Ctx *c, int64_t i) noexcept nogil:
    """Neuron i's general state, from its time gT."""
    cdef Adapt p
    p.a = c.ga[i]
    p.b = c.gb[i]
    p.cm = c.gcm[i]
    p.drv = c.vinf[i]
    p.vth = c.vth[i]
    p.v = c.gV[i]
    p.w = c.gW[i]
    return p


cdef inline void _gen_init(Ctx *c, int64_t i, uint64_t seed) noexcept nogil:
    c.gV[i] = c.v0[i]
    c.gT[i] = 0.0
    c.gW[i] = 0.0
    c.gR[i] = _noise_stream(seed, i)


cdef inline void _gset(Ctx *c, int64_t i, double t) noexcept nogil:
    """Move neuron i's general state to time t (>= gT)."""
    cdef double dt = t - c.gT[i]
    cdef Adapt p
    if dt > 0.0:
        p = _gload(c, i)
        c.gV[i] = _av(&p, dt)
        c.gW[i] *= exp(-c.gb[i] * dt)
        c.gT[i] = t


cdef void _gen_emit(Ctx *c, int64_t i, double t) noexcept nogil:
    """Spike at t: w jumps, V held at V_reset until t + t_ref (state stored at the release)."""
    cdef double ref = t + c.tref[i]
    _record(c, i, t)
    c.nr[i].ref_until = ref
    c.gW[i] = (c.gW[i] * exp(-c.gb[i] * (t - c.gT[i])) + c.gbinc[i]) * exp(-c.gb[i] * c.tref[i])
    c.gV[i] = c.vreset[i]
    c.gT[i] = ref


cdef inline int _bridge_crossing(double v, double v1, double vth, double h, double var, uint64_t *rs,
                                 double *offset) noexcept nogil:
    """Whether the noise path from v to v1 over a step h (variance var) crossed the threshold,
    and where (offset from the step's start): a step ending above it at the linear
    interpolation; both ends below, at the midpoint with the Brownian-bridge probability
    exp(-2 (vth - v)(vth - v1) / var)."""
    if v1 >= vth:
        offset[0] = h * (vth - v) / (v1 - v)
        return 1
    if nc_uniform(rs) < exp(-2.0 * (vth - v) * (vth - v1) / var):
        offset[0] = 0.5 * h
        return 1
    return 0


cdef int _gnoise_to(Ctx *c, int64_t i, double t, int strict) noexcept nogil:
    """Move a noisy neuron from gT to t along its Ornstein-Uhlenbeck path (substeps <= gdt, the
    exact transition per substep), emitting its spikes (a substep ending above threshold: at
    the linear interpolation of the crossing; both ends below: at the midpoint with the
    Brownian-bridge crossing probability).  Returns 1 if refractory at t."""
    cdef double t0, h, a, sd, v, v1, z, ts, mu = c.vinf[i], vth = c.vth[i]
    cdef uint64_t *rs = &c.gR[i]
    while not c.err:
        if t < c.nr[i].ref_until:
            return 1
        t0 = c.gT[i]
        v = c.gV[i]
        if v >= vth:
            c.cnt[C_DRIFT] += 1
            _gen_emit(c, i, t0)
            continue
        if t0 >= t:
            return 0
        h = t - t0
        if h > c.gdt[i]:
            h = c.gdt[i]
        a = exp(-h * c.ga[i])
        sd = c.gsig[i] * sqrt(0.5 * (1.0 - a * a))
        z = sqrt(-2.0 * log(nc_uniform(rs))) * cos(2.0 * M_PI * nc_uniform(rs))
        v1 = mu + (v - mu) * a + sd * z
        ts = -1.0
        if _bridge_crossing(v, v1, vth, h, sd * sd, rs, &z):
            ts = t0 + z
        if ts >= 0.0 and not (strict and ts >= t):
            c.cnt[C_DRIFT] += 1
            _gen_emit(c, i, ts)
            continue
        c.gV[i] = v1
        c.gT[i] = t if h == t - t0 else t0 + h


cdef int _gdrift(Ctx *c, int64_t i, double te, int strict) noexcept nogil:
    """Emit the drift spikes at times <= te (< te if strict); 1 if refractory at te after."""
    cdef double dt, ts
    cdef Adapt p
    if c.gsig[i] > 0.0:
        return _gnoise_to(c, i, te, strict)
    while not c.err:
        if te < c.nr[i].ref_until:
            return 1
        p = _gload(c, i)
        dt = _across(&p, te - c.gT[i])
        if dt == INFINITY:
            return 0
        ts = c.gT[i] + dt
        if ts > te:
            ts = te
        if strict and ts >= te:
            return 0
        c.cnt[C_DRIFT] += 1
        _gen_emit(c, i, ts)
    return 1


cdef int _gen_apply(Ctx *c, int64_t i, double te, double w) noexcept nogil:
    """Own input of weight w at te; returns 0 if discarded (refractory)."""
    if te < c.nr[i].ref_until:
        return 0
    if _gdrift(c, i, te, 0):
        return 0
    _gset(c, i, te)
    c.gV[i] += w
    if c.gV[i] >= c.vth[i]:
        _gen_emit(c, i, te)
    return 1


cdef void _gen_step(Ctx *c, int64_t i, double te, double new_drive) noexcept nogil:
    """The current of neuron i changes at te (the drive jumps, V is continuous)."""
    if te >= c.nr[i].ref_until:
        _gdrift(c, i, te, 0)
    if te >= c.nr[i].ref_until:
        _gset(c, i, te)
    c.vinf[i] = new_drive


cdef inline int _gen_catch_up(Ctx *c, int64_t i, double ta) noexcept nogil:
    """Before the first recurrent input of instant ta: the drift spikes up to ta, then the
    state moved to ta; 1 if refractory at ta."""
    if _gdrift(c, i, ta, 0):
        return 1
    _gset(c, i, ta)
    return 0
