# The closed form of the current-based LIF and its exact threshold-crossing search: pure
# functions of doubles, included by emulator/models/cuba.pxi (the model, its state and its
# timing wheel); the method and why no crossing is missed are in docs/cuba.md, and
# neurochip/models/cuba.py mirrors these functions operation by operation.

cdef inline double _cb_phi(double d, double t) noexcept nogil:
    if fabs(d * t) < 1e-300:
        return t
    return expm1(d * t) / d


cdef inline double _cb_membrane(double a, double drive, double v, double je, double ji, double ke, double ki,
                                double dt) noexcept nogil:
    if a == 0.0:
        return v + drive * dt + je * _cb_phi(-ke, dt) + ji * _cb_phi(-ki, dt)
    if (a - ke) * dt > 700.0 or (a - ki) * dt > 700.0:
        return _cb_membrane_far(a, drive, v, je, ji, ke, ki, dt)
    return drive + exp(-a * dt) * ((v - drive) + je * _cb_phi(a - ke, dt) + ji * _cb_phi(a - ki, dt))


cdef double _cb_membrane_far(double a, double drive, double v, double je, double ji, double ke, double ki,
                             double dt) noexcept nogil:
    """V when (a - k) dt is too large for expm1: e^{-a dt} phi(a - k, dt) as the difference
    (e^{-k dt} - e^{-a dt}) / (a - k) (the product form would give inf x 0 for a zero current)."""
    cdef double ea = exp(-a * dt), out = drive + ea * (v - drive)
    if je != 0.0:
        out += je * ((exp(-ke * dt) - ea) / (a - ke) if (a - ke) * dt > 700.0 else ea * _cb_phi(a - ke, dt))
    if ji != 0.0:
        out += ji * ((exp(-ki * dt) - ea) / (a - ki) if (a - ki) * dt > 700.0 else ea * _cb_phi(a - ki, dt))
    return out


cdef extern from *:
    """
    #include <emmintrin.h>
    /* x if x > 0 else 0 (0 for NaN), without a branch: the sign of the net current is data */
    static inline double CB_POS(double x) {
        return _mm_cvtsd_f64(_mm_max_sd(_mm_set_sd(x), _mm_setzero_pd()));
    }
    """
    double CB_POS(double x) noexcept nogil


cdef inline double _cb_jplus(double je, double ji, double ke, double ki) noexcept nogil:
    """A bound on the synaptic current J(t) = J_e e^{-k_e t} + J_i e^{-k_i t} at every t >= 0
    (J_e >= 0 >= J_i): if k_e >= k_i, J(t) = e^{-k_i t} (J_e e^{-(k_e - k_i) t} + J_i) <=
    (J_e + J_i)^+ (inhibition that outlasts excitation); else J_e^+ + J_i^+."""
    if ke >= ki and je >= 0.0 and ji <= 0.0:
        return CB_POS(je + ji)
    return CB_POS(je) + CB_POS(ji)


cdef inline double _cb_q(double d, double je, double ji, double ke, double ki, double t) noexcept nogil:
    return d + je * exp(-ke * t) + ji * exp(-ki * t)


cdef double _cb_q_root(double d, double je, double ji, double ke, double ki, double lo, double hi,
                       double qlo) noexcept nogil:
    cdef double t = 0.5 * (lo + hi), q, dq, nt
    cdef int it
    for it in range(100):
        q = _cb_q(d, je, ji, ke, ki, t)
        if q == 0.0:
            return t
        if (q < 0.0) == (qlo < 0.0):
            lo = t
        else:
            hi = t
        dq = -ke * je * exp(-ke * t) - ki * ji * exp(-ki * t)
        nt = t - q / dq if dq != 0.0 else 0.5 * (lo + hi)
        if not (lo < nt < hi):
            nt = 0.5 * (lo + hi)
        if nt == t or hi - lo <= 4e-16 * hi:
            return nt
        t = nt
    return t


cdef inline double _cb_phi_decay(double d, double dt, double ea, double *decay) noexcept nogil:
    """phi(d, dt), and e^{-a dt} e^{d dt} into decay, from one expm1; ea = e^{-a dt}."""
    cdef double x = d * dt, m
    if fabs(x) < 1e-300:
        decay[0] = ea
        return dt
    m = expm1(x)
    decay[0] = ea * (m + 1.0)
    return m / d


cdef inline double _cb_vdecay(double a, double drive, double v, double je, double ji, double ke, double ki,
                              double dt, double *de, double *di) noexcept nogil:
    """V exactly as _cb_membrane computes it, and the decays e^{-k dt} from the same expm1 terms."""
    cdef double ea = exp(-a * dt), pe, pi_
    if a != 0.0 and ((a - ke) * dt > 700.0 or (a - ki) * dt > 700.0):
        de[0] = exp(-ke * dt)
        di[0] = exp(-ki * dt)
        return _cb_membrane_far(a, drive, v, je, ji, ke, ki, dt)
    pe = _cb_phi_decay(a - ke, dt, ea, de)
    pi_ = _cb_phi_decay(a - ki, dt, ea, di)
    if a == 0.0:
        return v + drive * dt + je * pe + ji * pi_
    return drive + ea * ((v - drive) + je * pe + ji * pi_)


cdef inline double _cb_slope(double a, double drive, double v, double je, double ji, double ke, double ki,
                             double t, double *vt, double *curv) noexcept nogil:
    """dV/dt at t (V at t into vt, d2V/dt2 into curv)."""
    cdef double de, di, s
    vt[0] = _cb_vdecay(a, drive, v, je, ji, ke, ki, t, &de, &di)
    if a == 0.0:
        s = drive + je * de + ji * di
        curv[0] = -ke * je * de - ki * ji * di
        return s
    s = -a * (vt[0] - drive) + je * de + ji * di
    curv[0] = -a * s - ke * je * de - ki * ji * di
    return s


cdef inline int _cb_gapped(double a, double ke, double ki) noexcept nogil:
    """a > 0 and well apart from k_e and k_i (CB_GAP, as for the frame): V as its three modes
    loses at most two bits to their cancellation."""
    return a > 0.0 and fabs(a - ke) >= CB_GAP * max(a, ke) and fabs(a - ki) >= CB_GAP * max(a, ki)


# Commensurate rates: when a, k_e and k_i are all n b for one base rate b and integers n <= CB_NPOW
# (tau_m = 20 ms, tau_e = 5 ms, tau_i = 10 ms: b = a, n = 1, 4, 2), the three exponentials at t are
# one exp(-b t) and its powers (docs/cuba.md): a few multiplications instead of an exp each.
cdef enum:
    CB_NPOW = 8


cdef struct CbPow:
    double b          # the base rate (0: the rates are not commensurate; three exp)
    int na, ne, ni    # a = na b, k_e = ne b, k_i = ni b


cdef inline int _cb_mult(double r, double b) noexcept nogil:
    """The n in 1..CB_NPOW with n b == r exactly (0 if none)."""
    cdef int n
    for n in range(1, CB_NPOW + 1):
        if <double> n * b == r:
            return n
    return 0


cdef void _cb_pow_of(double a, double ke, double ki, CbPow *p) noexcept nogil:
    """The rates' base and multiples if they are commensurate (p.b = 0 otherwise)."""
    cdef double b = min(a, min(ke, ki))
    p.b = 0.0
    p.na = p.ne = p.ni = 0
    if b > 0.0 and b < INFINITY:
        p.na = _cb_mult(a, b)
        p.ne = _cb_mult(ke, b)
        p.ni = _cb_mult(ki, b)
        if p.na and p.ne and p.ni:
            p.b = b


cdef inline double _cb_pw(double x, double x2, double x4, int n) noexcept nogil:
    """x^n (1 <= n <= 8) from x, x^2 and x^4: at most two more multiplications."""
    if n <= 4:
        return x if n == 1 else (x2 if n == 2 else (x2 * x if n == 3 else x4))
    if n == 8:
        return x4 * x4
    return x4 * x if n == 5 else (x4 * x2 if n == 6 else (x4 * x2) * x)


cdef inline void _cb_pows(const CbPow *p, double x, double *ea, double *ee, double *ei) noexcept nogil:
    """x^na, x^ne, x^ni into ea, ee, ei: for x = e^{-b t}, e^{-a t}, e^{-k_e t}, e^{-k_i t}."""
    cdef double x2 = x * x
    cdef double x4 = x2 * x2
    ea[0] = _cb_pw(x, x2, x4, p.na)
    ee[0] = _cb_pw(x, x2, x4, p.ne)
    ei[0] = _cb_pw(x, x2, x4, p.ni)


cdef inline void _cb_exps(const CbPow *p, double a, double ke, double ki, double t, double *ea, double *ee,
                          double *ei) noexcept nogil:
    """e^{-a t}, e^{-k_e t}, e^{-k_i t}: powers of one exp when the rates are commensurate."""
    if p.b > 0.0:
        _cb_pows(p, exp(-p.b * t), ea, ee, ei)
    else:
        ea[0] = exp(-a * t)
        ee[0] = exp(-ke * t)
        ei[0] = exp(-ki * t)


cdef inline double _cb_modes(double a, double ke, double ki, double am, double be, double bi, double t,
                             const CbPow *p, double *s, double *curv) noexcept nogil:
    """V - V_inf at t as its three modes am e^{-a t} + be e^{-k_e t} + bi e^{-k_i t} (three exp, or
    one with commensurate rates; no division), its slope into s and its second derivative into
    curv."""
    cdef double x, y, z
    _cb_exps(p, a, ke, ki, t, &x, &y, &z)
    x = am * x
    y = be * y
    z = bi * z
    s[0] = -(a * x) - ke * y - ki * z
    curv[0] = a * (a * x) + ke * (ke * y) + ki * (ki * z)
    return (x + y) + z


cdef inline void _cb_modes_of(double a, double drive, double v, double je, double ji, double ke, double ki,
                              double *md) noexcept nogil:
    """md = (1, am, be, bi), the state's three modes (be = J_e / (a - k_e), bi = J_i / (a - k_i),
    am = V - V_inf - be - bi), when a is well apart from k_e and k_i; md[0] = 0 otherwise."""
    md[0] = _cb_gapped(a, ke, ki)
    md[1] = md[2] = md[3] = 0.0
    if md[0] != 0.0:
        md[2] = je / (a - ke)
        md[3] = ji / (a - ki)
        md[1] = (v - drive) - md[2] - md[3]


cdef inline double _cb_v_at(double a, double drive, double v, double je, double ji, double ke, double ki,
                            double dt, const double *md, const CbPow *p) noexcept nogil:
    """V at dt: from the modes md if there are (_cb_modes_of), else the expm1 form (_cb_membrane)."""
    cdef double s, curv
    if md[0] != 0.0:
        return drive + _cb_modes(a, ke, ki, md[1], md[2], md[3], dt, p, &s, &curv)
    return _cb_membrane(a, drive, v, je, ji, ke, ki, dt)


cdef double _cb_v_root(double a, double drive, double vth, double v, double je, double ji, double ke,
                       double ki, double lo, double hi, double vlo, double vhi,
                       const double *md, const CbPow *p) noexcept nogil:
    """A time in (lo, hi] at which V >= V_th, V rising there (vlo = V(lo) < V_th <= V(hi) = vhi),
    less than 8 ulps of V_th / V' after the first double there (docs/cuba.md).  V is evaluated
    as _cb_v_at does (the search's V throughout); with the modes, "two ulps" are those of the
    largest of V_th and the modes (the evaluation's own noise)."""
    cdef int fr = md[0] != 0.0
    cdef double am = md[1], be = md[2], bi = md[3], m = fabs(vth), u
    cdef double t = lo + (hi - lo) * ((vth - vlo) / (vhi - vlo)), f, s, curv, vt, nt, den
    cdef int it
    if fr:
        m = max(m, max(fabs(am), max(fabs(be), fabs(bi))))
    u = nextafter(m, INFINITY) - nextafter(m, -INFINITY)  # two ulps of V_th (or of the largest mode)
    if not (lo < t < hi):
        t = 0.5 * (lo + hi)
        if not (lo < t < hi):
            return hi
    for it in range(100):
        if fr:
            vt = drive + _cb_modes(a, ke, ki, am, be, bi, t, p, &s, &curv)
        else:
            s = _cb_slope(a, drive, v, je, ji, ke, ki, t, &vt, &curv)
        f = vt - vth
        if f >= 0.0:
            hi = t
        else:
            lo = t
        if s > 0.0:
            if -u <= f <= u and hi - lo <= 4.0 * u / s:
                return hi
            if 0.0 <= f <= u:
                nt = t - (f + u) / s   # on the threshold: two ulps below it closes the bracket
            elif -u <= f < 0.0:
                nt = t + (u - f) / s   # just below: two ulps above it
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


cdef double _cb_crossing(double a, double drive, double vth, double v, double je, double ji, double ke,
                         double ki, double h, const CbPow *p, double *beyond) noexcept nogil:
    """First dt in (0, h] with V >= V_th (V(0) < V_th, no input); INFINITY if none, and then in
    beyond a lower bound on the time from h to the crossing (_cb_safe_dt from the state at h,
    when the search computed V(h); else 0).  p: the rates' powers (_cb_pow_of)."""
    cdef double d, jp, bound, x, t1 = INFINITY, r, q_lo, q_hi, lo, hi, vlo, vhi, g
    cdef double xa = -1.0, xe = -1.0, xi = -1.0   # e^{-a h}, e^{-k_e h}, e^{-k_i h} when taken
    cdef double md[4]
    cdef double ends[3]
    cdef double cuts[4]
    cdef int ne, nc = 1, k
    beyond[0] = 0.0
    if not h > 0.0:
        return INFINITY
    d = a * (drive - vth) if a != 0.0 else drive
    jp = _cb_jplus(je, ji, ke, ki)
    if h < INFINITY:
        if a == 0.0:
            bound = v + (drive if drive > 0.0 else 0.0) * h + jp * h
        else:
            x = v - drive
            bound = drive + (x if x > 0.0 else x * (1.0 - a * h)) + jp * h
        if bound < vth:
            return INFINITY
    cuts[0] = 0.0
    if h < INFINITY:
        # for Q(h), V(h) (with the modes) and the test of t1 below (e^{-a h} only with powers:
        # else when V(h) needs it)
        if p.b > 0.0:
            _cb_exps(p, a, ke, ki, h, &xa, &xe, &xi)
        else:
            xe = exp(-ke * h)
            xi = exp(-ki * h)
    if ke != ki and je != 0.0 and ji != 0.0:
        r = -(ki * ji) / (ke * je)
        if r > 0.0:
            if h < INFINITY:
                # t1 is in (0, h) only if r is between 1 and e^{(k_i - k_e) h} = xe / xi: the log
                # is taken only then (or near, by a margin far above rounding)
                g = xe / xi
            if (not (h < INFINITY and xi > 0.0)
                    or (min(1.0, g) * (1.0 - 1e-9) < r < max(1.0, g) * (1.0 + 1e-9))):
                t1 = log(r) / (ki - ke)
    ends[0] = 0.0
    if 0.0 < t1 < h:
        ends[1] = t1
        ends[2] = h
        ne = 3
    else:
        ends[1] = h
        ne = 2
    q_lo = (d + je) + ji   # Q(0), as _cb_q computes it (e^0 = 1)
    for k in range(ne - 1):
        lo = ends[k]
        hi = ends[k + 1]
        if hi == h and xe >= 0.0:
            q_hi = d + je * xe + ji * xi   # Q(h) from the exponentials taken above
        else:
            q_hi = _cb_q(d, je, ji, ke, ki, hi)
        if (q_lo < 0.0) != (q_hi < 0.0) and q_lo != 0.0 and q_hi != 0.0:
            if hi == INFINITY:  # Q monotone on [lo, inf): a finite end with Q's sign at infinity
                hi = lo + 1.0 / (ke if ke < ki else ki)
                while ((_cb_q(d, je, ji, ke, ki, hi) < 0.0) != (q_hi < 0.0)
                       or _cb_q(d, je, ji, ke, ki, hi) == 0.0):
                    hi = 2.0 * hi
            cuts[nc] = _cb_q_root(d, je, ji, ke, ki, lo, hi, q_lo)
            nc += 1
        q_lo = q_hi
    vlo = v
    _cb_modes_of(a, drive, v, je, ji, ke, ki, md)   # V from here on (pieces' ends and root)
    for k in range(1, nc):
        vhi = _cb_v_at(a, drive, v, je, ji, ke, ki, cuts[k], md, p)
        if vhi >= vth:
            return _cb_v_root(a, drive, vth, v, je, ji, ke, ki, cuts[k - 1], cuts[k], vlo, vhi, md, p)
        vlo = vhi
    lo = cuts[nc - 1]
    if h < INFINITY:
        hi = h
    else:
        # the last piece is unbounded: V tends to V_inf (or grows like the slope of a perfect
        # integrator); if it ends above threshold, double a finite end until V is there
        if a != 0.0:
            if not drive > vth:
                return INFINITY
        elif not (drive > 0.0 or (drive == 0.0 and v + je / ke + ji / ki > vth)):
            return INFINITY
        hi = lo + 1.0 / (a if a > ke else ke) + 1.0 / ki
        for k in range(2000):
            vhi = _cb_v_at(a, drive, v, je, ji, ke, ki, hi, md, p)
            if vhi >= vth:
                return _cb_v_root(a, drive, vth, v, je, ji, ke, ki, lo, hi, vlo, vhi, md, p)
            lo = hi
            vlo = vhi
            hi = 2.0 * hi
        return INFINITY
    if md[0] != 0.0:   # V(h) from the modes, with the exponentials Q(h) took
        if xa < 0.0:
            xa = exp(-a * h)
        vhi = drive + ((md[1] * xa + md[2] * xe) + md[3] * xi)
    else:
        vhi = _cb_membrane(a, drive, v, je, ji, ke, ki, h)
    if vhi >= vth:
        return _cb_v_root(a, drive, vth, v, je, ji, ke, ki, lo, hi, vlo, vhi, md, p)
    # no crossing up to h: none either before the cheap bound from the state there
    beyond[0] = _cb_safe_dt(a, drive, vth, vhi, je * xe, ji * xi, ke, ki)
    return INFINITY


def _cuba_crossing(double a, double drive, double vth, double v, double je, double ji, double ke,
                   double ki, double h, bint with_beyond=False):
    """The kernel's crossing search (for tests): see neurochip.models.cuba.crossing; with
    with_beyond, (dt, beyond): beyond is the lower bound on the time from h to the crossing
    that the engine adds to SAFE when there is none up to h."""
    cdef double beyond, dt
    cdef CbPow p
    _cb_pow_of(a, ke, ki, &p)
    dt = _cb_crossing(a, drive, vth, v, je, ji, ke, ki, h, &p, &beyond)
    if with_beyond:
        return (dt, beyond)
    return dt


cdef inline double _cb_pade_num(double n, double q) noexcept nogil:
    """The numerator of _cb_safe_dt's bound r = 3 n (n + 2 q) / (a (n^2 + 6 n q + 6 q^2))."""
    return 3.0 * n * (n + 2.0 * q)


cdef inline double _cb_pade_den(double a, double n, double q) noexcept nogil:
    """Its denominator (> 0 for n >= 0, q > 0)."""
    return a * (n * (n + 6.0 * q) + 6.0 * q * q)


cdef inline double _cb_safe_dt(double a, double drive, double vth, double v, double je,
                               double ji, double ke, double ki) noexcept nogil:
    """A lower bound on the time to the first crossing (V(0) < V_th, no input): V stays below
    W, W' = -a (W - V_inf) + J+ (J+ = _cb_jplus, what the synaptic current never exceeds),
    which crosses at ln(1 + d) / a, d = n / q, n = a (V_th - V0), q = a (V_inf - V_th) + J+.
    No log: ln(1 + d) >= 3 d (d + 2) / (d^2 + 6 d + 6) for d >= 0 (the difference is 0 at d = 0
    and has the derivative d^4 / ((1 + d)(d^2 + 6 d + 6)^2) >= 0), within 4 % of it up to
    d = 5; written in n and q it costs one division.  Shortened by 1e-12 relative so rounding
    never puts it past the exact crossing (W = V when there is no current)."""
    cdef double jp = _cb_jplus(je, ji, ke, ki), s, n, q, r
    if a == 0.0:
        s = drive + jp
        if s <= 0.0:
            return INFINITY
        return (vth - v) / s * (1.0 - 1e-12)
    q = a * (drive - vth) + jp
    if q <= 0.0:
        return INFINITY
    n = a * (vth - v)
    r = _cb_pade_num(n, q) / _cb_pade_den(a, n, q)
    if not r >= 0.0:  # overflow (inf / inf): no bound, the search decides
        return 0.0
    return r * (1.0 - 1e-12)


def _cuba_safe_dt(double a, double drive, double vth, double v, double je, double ji, double ke, double ki):
    """The kernel's cheap lower bound on the time to the first crossing (for tests)."""
    return _cb_safe_dt(a, drive, vth, v, je, ji, ke, ki)
