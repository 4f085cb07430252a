# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled event-driven LIF network engine (no validation here: see neurochip.emulator).

Exact, continuous-time, conservative windows of the minimum delay (docs/emulator.md):

* Spikes emitted in a window [T, W) arrive at or after W, so all arrivals of a window are known
  when it starts.  They are delivered in time order (a merge over the delay classes of the spike
  log, which is sorted by (time, neuron)).  Before an arrival reaches a neuron, the neuron is
  advanced through its own input events (Poisson, given spikes, current steps) up to and
  including the arrival time; at the window's end every neuron is advanced to W.
* The membrane is kept in a time-scaled frame u = (V - V_inf) exp((t - T)/tau): an input of
  weight w at t is ``u += w e(t)``, the threshold test is ``u >= (V_th - V_inf) e(t)``, with
  e(t) = exp((t - T)/tau) shared by all the targets of a spike when tau is uniform.  Every window
  rebases u (multiply by exp(-(W - T)/tau)).  e(t) over a window, 0 <= (t - T)/tau <= 1/8, is a
  degree-10 polynomial (Estrin), exact to ~1 ulp.
* Poisson inputs draw exponential intervals with a 256-layer ziggurat on a per-neuron wyrand
  stream (so a neuron's input train does not depend on the processing order).
"""

from libc.math cimport exp, expm1, log, log1p, sqrt, cos, fabs, nextafter, INFINITY, M_PI
from libc.stdlib cimport malloc, free, realloc, qsort
from libc.string cimport memmove
from libc.stdint cimport uint64_t, int64_t, int32_t, INT64_MAX

import numpy as np

cdef extern from *:
    """
    #include <stdint.h>
    #include <stdlib.h>
    #include <math.h>

    typedef struct {
        double u;          /* frame state (V - V_inf) e(t) */
        double thr;        /* V_th - V_inf */
        double ref_until;  /* end of the refractory period */
        double next_in;    /* time of the next own input event (min over streams) */
        double next_pois;  /* time of the next Poisson input */
        double inv_rate;   /* 1 / total Poisson rate */
        double w_pois;     /* Poisson weight (single source) */
        uint64_t rng;      /* wyrand state */
    } nc_neuron;

    typedef struct {       /* 32 bytes: the homogeneous fast path's whole neuron */
        double u;
        double ref_until;
        double next_in;
        uint64_t rng;
    } nc_hot;

    typedef struct { double t; int32_t id; } nc_spike;

    static int nc_spike_cmp(const void *a, const void *b) {
        const nc_spike *x = (const nc_spike *)a, *y = (const nc_spike *)b;
        if (x->t < y->t) return -1;
        if (x->t > y->t) return 1;
        return (x->id > y->id) - (x->id < y->id);
    }

    static inline uint64_t nc_wyrand(uint64_t *s) {
        *s += 0xa0761d6478bd642fULL;
        __uint128_t t = (__uint128_t)(*s) * (*s ^ 0xe7037ed1a0b428dbULL);
        return (uint64_t)(t >> 64) ^ (uint64_t)t;
    }

    static inline uint64_t nc_splitmix(uint64_t *s) {
        uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    static inline double nc_uniform(uint64_t *s) {      /* (0, 1) */
        return ((double)(nc_wyrand(s) >> 11) + 0.5) * 0x1.0p-53;
    }

    /* Marsaglia & Tsang (2000) exponential ziggurat, 256 layers, 53-bit abscissa from the top
       bits and the layer from the low 8 bits of one 64-bit draw. */
    static uint64_t nc_ke[256];
    static double nc_we[256], nc_fe[256];
    static int nc_zig_ready = 0;

    static void nc_zig_init(void) {
        const double m = 9007199254740992.0;  /* 2^53 */
        double de = 7.697117470131487, te = de, ve = 3.949659822581572e-3;
        double q = ve / exp(-de);
        int i;
        if (nc_zig_ready) return;
        nc_ke[0] = (uint64_t)((de / q) * m);
        nc_ke[1] = 0;
        nc_we[0] = q / m;
        nc_we[255] = de / m;
        nc_fe[0] = 1.0;
        nc_fe[255] = exp(-de);
        for (i = 254; i >= 1; i--) {
            de = -log(ve / de + exp(-de));
            nc_ke[i + 1] = (uint64_t)((de / te) * m);
            te = de;
            nc_fe[i] = exp(-de);
            nc_we[i] = de / m;
        }
        nc_zig_ready = 1;
    }

    static double nc_exp_slow(uint64_t *s, uint64_t jz, int iz) {
        for (;;) {
            double x;
            uint64_t r;
            if (iz == 0) return 7.697117470131487 - log(nc_uniform(s));
            x = (double)jz * nc_we[iz];
            if (nc_fe[iz] + nc_uniform(s) * (nc_fe[iz - 1] - nc_fe[iz]) < exp(-x)) return x;
            r = nc_wyrand(s);
            iz = (int)(r & 255);
            jz = r >> 11;
            if (jz < nc_ke[iz]) return (double)jz * nc_we[iz];
        }
    }

    static inline double nc_exp_rand(uint64_t *s) {   /* Exp(1) */
        uint64_t r = nc_wyrand(s);
        int iz = (int)(r & 255);
        uint64_t jz = r >> 11;
        if (__builtin_expect(jz < nc_ke[iz], 1)) return (double)jz * nc_we[iz];
        {   /* keep the caller's state promotable to a register: only a copy escapes */
            uint64_t tmp = *s;
            double x = nc_exp_slow(&tmp, jz, iz);
            *s = tmp;
            return x;
        }
    }

    /* exp(x) for 0 <= x <= 1/8 (Taylor to degree 10, Estrin): truncation < 2e-18 relative */
    static inline double nc_exp_small(double x) {
        double x2 = x * x, x4 = x2 * x2, x8 = x4 * x4;
        double q0 = (1.0 + x) + x2 * (0.5 + x * (1.0 / 6.0));
        double q1 = (1.0 / 24.0 + x * (1.0 / 120.0)) + x2 * (1.0 / 720.0 + x * (1.0 / 5040.0));
        double q2 = (1.0 / 40320.0 + x * (1.0 / 362880.0)) + x2 * (1.0 / 3628800.0);
        return q0 + x4 * q1 + x8 * q2;
    }

    static nc_neuron *nc_alloc_neurons(int64_t n) {
        size_t bytes = (size_t)(n > 0 ? n : 1) * sizeof(nc_neuron);
        bytes = (bytes + 63) & ~(size_t)63;
        return (nc_neuron *)aligned_alloc(64, bytes);
    }
    #define NC_PREFETCH(p) __builtin_prefetch((p), 1, 3)
    """
    ctypedef struct nc_neuron:
        double u
        double thr
        double ref_until
        double next_in
        double next_pois
        double inv_rate
        double w_pois
        uint64_t rng
    ctypedef struct nc_hot:
        double u
        double ref_until
        double next_in
        uint64_t rng
    ctypedef struct nc_spike:
        double t
        int32_t id
    int nc_spike_cmp(const void *a, const void *b) noexcept nogil
    uint64_t nc_wyrand(uint64_t *s) noexcept nogil
    uint64_t nc_splitmix(uint64_t *s) noexcept nogil
    double nc_uniform(uint64_t *s) noexcept nogil
    void nc_zig_init() noexcept nogil
    double nc_exp_rand(uint64_t *s) noexcept nogil
    double nc_exp_small(double x) noexcept nogil
    nc_neuron *nc_alloc_neurons(int64_t n) noexcept nogil
    void NC_PREFETCH(void *p) noexcept nogil


# counters (indices into the int64 array returned to Python)
cdef enum:
    C_REC = 0          # recurrent synaptic events delivered (incl. discarded)
    C_REC_DISC = 1     # ... of which arrived during the refractory period
    C_EXT = 2          # external input events (Poisson + given spikes, incl. discarded)
    C_EXT_DISC = 3     # ... of which arrived during the refractory period
    C_UPDATES = 4      # neuron state updates: filled in by the wrapper from the others
    C_SPIKES = 5
    C_STEPS = 6
    C_WINDOWS = 7
    C_DRIFT = 8        # spikes from a threshold crossing under a suprathreshold drive
    N_COUNTERS = 9


cdef struct Ctx:
    nc_neuron *nr
    int32_t *cand     # targets that reached threshold while an instant's inputs were added
    int64_t ccap
    double *touch     # instant at which a neuron was last drift-checked for recurrent input
    nc_hot *hot
    int32_t *due
    int64_t n
    double *inv_tau
    double *vinf
    double *vth
    double *vreset
    double *tref
    int64_t *pois_ptr
    double *pois_cum
    double *pois_w
    int64_t *sin_ptr
    double *sin_t
    double *sin_w
    int64_t *sin_pos
    int64_t *st_ptr
    double *st_t
    double *st_vinf
    int64_t *st_pos
    int has_extra
    int multi_pois
    int uniform_tau
    double inv_tau0
    int use_poly
    double T
    nc_spike *wbuf
    int64_t wn
    int64_t wcap
    int64_t *spike_count
    int64_t cnt[N_COUNTERS]
    int err
    int gen          # general state (PIF / adaptive neurons): V, w at time gT
    double *gV
    double *gT
    double *gW
    double *ga       # g_L / C (0: perfect integrator)
    double *gb       # 1 / tau_w
    double *gcm
    double *gbinc
    double *gsig     # white-noise sigma (V, Brunel's convention); > 0 for a noisy neuron
    double *gdt      # its substep (s)
    uint64_t *gR     # its noise stream


def counter_names():
    """Names of the kernel counters, in the order of the counters array."""
    return ("rec_events", "rec_discarded", "ext_events", "ext_discarded", "neuron_updates",
            "spikes", "current_steps", "windows", "drift_spikes")


# ---- the general state (perfect integrators, adaptive neurons) --------------------------------
# V and the adaptation current w are kept at time gT; between events
#   LIF:  V(t) = V_inf + e^{-a dt} [(V - V_inf) - (w/C) expm1((a - b) dt) / (a - b)]
#   PIF:  V(t) = V + s dt - (w/C) (1 - e^{-b dt}) / b          (s = I / C, stored in vinf)
# with a = g_L / C, b = 1 / tau_w, w(t) = w e^{-b dt}.  V' changes sign at most once, so the
# first threshold crossing is bracketed and refined as in _single.adaptive_spike_times.

include "_adaptive_math.pxi"


cdef inline double _gv(Ctx *c, int64_t i, double dt) noexcept nogil:
    cdef double a = c.ga[i], b = c.gb[i], q = c.gW[i] / c.gcm[i], drv = c.vinf[i]
    if a == 0.0:
        return c.gV[i] + drv * dt - q * _phi(-b, dt)
    return drv + exp(-a * dt) * ((c.gV[i] - drv) - q * _phi(a - b, dt))


cdef inline double _gdv(Ctx *c, int64_t i, double dt) noexcept nogil:
    cdef double a = c.ga[i], b = c.gb[i], q = c.gW[i] / c.gcm[i], drv = c.vinf[i]
    if a == 0.0:
        return drv - q * exp(-b * dt)
    return -exp(-a * dt) * (a * ((c.gV[i] - drv) - q * _phi(a - b, dt)) + q * exp((a - b) * dt))


cdef double _gext(Ctx *c, int64_t i) noexcept nogil:
    """Time (from gT) of the extremum of V, or -1 if none."""
    cdef double a = c.ga[i], b = c.gb[i], w = c.gW[i], drv = c.vinf[i], r, z, d
    if w == 0.0:
        return -1.0
    if a == 0.0:
        if drv == 0.0:
            return -1.0
        r = w / (drv * c.gcm[i])
        return log(r) / b if r > 0.0 else -1.0
    z = (c.gV[i] - drv) * c.gcm[i] / w
    d = a - b
    if 1.0 + d * z > 0.0:
        return _log1p_over(1.0 / b, d) + _log1p_over(z, d)
    return -1.0


cdef double _gcross(Ctx *c, int64_t i, double horizon) noexcept nogil:
    """First dt in [0, horizon] (from gT) with V >= V_th, to the last ulp; INFINITY if none."""
    cdef double lo = 0.0, hi, te = _gext(c, i), f, df, t, step, vth = c.vth[i]
    cdef int _it
    if c.gV[i] >= vth:
        return 0.0
    if te > 0.0 and te < horizon and _gv(c, i, te) >= vth:
        hi = te
    else:
        lo = te if te > 0.0 else 0.0
        if lo >= horizon:
            return INFINITY
        hi = horizon
        if _gv(c, i, hi) < vth:
            return INFINITY
    t = 0.5 * (lo + hi)
    for _it in range(200):
        f = _gv(c, i, t) - vth
        if f >= 0.0:
            hi = t
        else:
            lo = t
        df = _gdv(c, i, t)
        step = t - f / df if df > 0.0 else -1.0
        if not (step > lo and step < hi):
            step = 0.5 * (lo + hi)
        if fabs(step - t) <= 2e-16 * t or hi - lo <= 2e-16 * hi:
            t = step
            break
        t = step
    for _it in range(64):
        if _gv(c, i, t) >= vth:
            break
        t = nextafter(t, INFINITY)
    for _it in range(64):
        step = nextafter(t, -INFINITY)
        if step < 0.0 or _gv(c, i, step) < vth:
            break
        t = step
    return t


cdef inline void _gset(Ctx *c, int64_t i, double t) noexcept nogil:
    """Move neuron i's general state to time t (>= gT)."""
    cdef double dt = t - c.gT[i]
    if dt > 0.0:
        c.gV[i] = _gv(c, i, dt)
        c.gW[i] *= exp(-c.gb[i] * dt)
        c.gT[i] = t


cdef void _gemit(Ctx *c, int64_t i, double t) noexcept nogil:
    """Spike at t: w jumps, V held at V_reset until t + t_ref (state stored at the release)."""
    cdef double ref = t + c.tref[i]
    _record(c, i, t)
    c.nr[i].ref_until = ref
    c.gW[i] = (c.gW[i] * exp(-c.gb[i] * (t - c.gT[i])) + c.gbinc[i]) * exp(-c.gb[i] * c.tref[i])
    c.gV[i] = c.vreset[i]
    c.gT[i] = ref


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
            _gemit(c, i, t0)
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
        if v1 >= vth:
            ts = t0 + h * (vth - v) / (v1 - v)
        elif nc_uniform(rs) < exp(-2.0 * (vth - v) * (vth - v1) / (sd * sd)):
            ts = t0 + 0.5 * h
        if ts >= 0.0 and not (strict and ts >= t):
            c.cnt[C_DRIFT] += 1
            _gemit(c, i, ts)
            continue
        c.gV[i] = v1
        c.gT[i] = t if h == t - t0 else t0 + h


cdef int _gdrift(Ctx *c, int64_t i, double te, int strict) noexcept nogil:
    """Emit the drift spikes at times <= te (< te if strict); 1 if refractory at te after."""
    cdef double dt, ts
    if c.gsig[i] > 0.0:
        return _gnoise_to(c, i, te, strict)
    while not c.err:
        if te < c.nr[i].ref_until:
            return 1
        dt = _gcross(c, i, te - c.gT[i])
        if dt == INFINITY:
            return 0
        ts = c.gT[i] + dt
        if ts > te:
            ts = te
        if strict and ts >= te:
            return 0
        c.cnt[C_DRIFT] += 1
        _gemit(c, i, ts)
    return 1


cdef int _gapply(Ctx *c, int64_t i, double te, double w) noexcept nogil:
    if te < c.nr[i].ref_until:
        return 0
    if _gdrift(c, i, te, 0):
        return 0
    _gset(c, i, te)
    c.gV[i] += w
    if c.gV[i] >= c.vth[i]:
        _gemit(c, i, te)
    return 1


cdef void _gstep(Ctx *c, int64_t i, double te, double new_drive) noexcept nogil:
    if te >= c.nr[i].ref_until:
        _gdrift(c, i, te, 0)
    if te >= c.nr[i].ref_until:
        _gset(c, i, te)
    c.vinf[i] = new_drive


cdef inline double _frame(Ctx *c, int64_t i, double t) noexcept nogil:
    cdef double x
    if c.uniform_tau:
        x = (t - c.T) * c.inv_tau0
    else:
        x = (t - c.T) * c.inv_tau[i]
    if c.use_poly:
        return nc_exp_small(x)
    return exp(x)


cdef inline double _itau(Ctx *c, int64_t i) noexcept nogil:
    if c.uniform_tau:
        return c.inv_tau0
    return c.inv_tau[i]


cdef inline void _record(Ctx *c, int64_t i, double t) noexcept nogil:
    """Append a spike to the window buffer and count it."""
    cdef nc_spike *nb
    if c.wn == c.wcap:
        nb = <nc_spike *> realloc(c.wbuf, 2 * c.wcap * sizeof(nc_spike))
        if nb == NULL:
            c.err = 1
            return
        c.wbuf = nb
        c.wcap *= 2
    c.wbuf[c.wn].t = t
    c.wbuf[c.wn].id = <int32_t> i
    c.wn += 1
    c.spike_count[i] += 1
    c.cnt[C_SPIKES] += 1


cdef void _emit(Ctx *c, int64_t i, double t) noexcept nogil:
    """Spike of neuron i at t: record it, reset, hold for t_ref (u preset for the release)."""
    cdef nc_neuron *n = &c.nr[i]
    if c.gen:
        _gemit(c, i, t)
        return
    _record(c, i, t)
    n.ref_until = t + c.tref[i]
    n.u = (c.vreset[i] - c.vinf[i]) * exp((n.ref_until - c.T) * _itau(c, i))


cdef void _emit_h(Ctx *c, nc_hot *h, int64_t i, double t) noexcept nogil:
    """_emit for the homogeneous fast path."""
    _record(c, i, t)
    h.ref_until = t + c.tref[i]
    h.u = (c.vreset[i] - c.vinf[i]) * exp((h.ref_until - c.T) * c.inv_tau0)


cdef int _drift(Ctx *c, int64_t i, double te, double e) noexcept nogil:
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
        _emit(c, i, ts)
        if te < n.ref_until:
            return 1
        if n.u < n.thr * e:
            return 0


cdef void _drift_until(Ctx *c, int64_t i, double w) noexcept nogil:
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
        _emit(c, i, ts)
        if c.err:
            return


cdef inline int _apply(Ctx *c, nc_neuron *n, int64_t i, double te, double w, double e) noexcept nogil:
    """Input of weight w at te with frame factor e; returns 0 if discarded (refractory)."""
    cdef double thre
    if c.gen:
        return _gapply(c, i, te, w)
    if te < n.ref_until:
        return 0
    thre = n.thr * e
    if n.u >= thre:
        if _drift(c, i, te, e):
            return 0
    n.u += w * e
    if n.u >= thre:
        _emit(c, i, te)
    return 1


cdef inline double _next_in(Ctx *c, nc_neuron *n, int64_t i) noexcept nogil:
    cdef double t = n.next_pois
    cdef int64_t k = c.sin_pos[i]
    if k < c.sin_ptr[i + 1] and c.sin_t[k] < t:
        t = c.sin_t[k]
    k = c.st_pos[i]
    if k < c.st_ptr[i + 1] and c.st_t[k] < t:
        t = c.st_t[k]
    return t


cdef void _step(Ctx *c, nc_neuron *n, int64_t i, double te, double new_vinf) noexcept nogil:
    """The current of neuron i changes at te: V is continuous, V_inf jumps."""
    cdef double e
    c.cnt[C_STEPS] += 1
    if c.gen:
        _gstep(c, i, te, new_vinf)
        return
    if te >= n.ref_until:
        e = _frame(c, i, te)
        if n.u >= n.thr * e:
            _drift(c, i, te, e)
    if te < n.ref_until:
        c.vinf[i] = new_vinf
        n.thr = c.vth[i] - new_vinf
        n.u = (c.vreset[i] - new_vinf) * exp((n.ref_until - c.T) * _itau(c, i))
    else:
        n.u += (c.vinf[i] - new_vinf) * e
        c.vinf[i] = new_vinf
        n.thr = c.vth[i] - new_vinf


cdef int _extra(Ctx *c, nc_neuron *n, int64_t i, double te) noexcept nogil:
    """Process a current step or a given input spike at te, if one is due (steps first)."""
    cdef int64_t k = c.st_pos[i]
    cdef int r
    if k < c.st_ptr[i + 1] and c.st_t[k] == te:
        c.st_pos[i] = k + 1
        _step(c, n, i, te, c.st_vinf[k])
        n.next_in = _next_in(c, n, i)
        return 1
    k = c.sin_pos[i]
    if k < c.sin_ptr[i + 1] and c.sin_t[k] == te:
        c.sin_pos[i] = k + 1
        c.cnt[C_EXT] += 1
        r = _apply(c, n, i, te, c.sin_w[k], _frame(c, i, te))
        c.cnt[C_EXT_DISC] += 1 - r
        n.next_in = _next_in(c, n, i)
        return 1
    return 0


cdef inline void _advance(Ctx *c, nc_neuron *n, int64_t i, double tl) noexcept nogil:
    """Process neuron i's own input events with times <= tl, in time order."""
    cdef double te, w, u
    cdef int64_t k
    cdef int r
    while n.next_in <= tl:
        te = n.next_in
        if c.has_extra:
            if _extra(c, n, i, te):
                continue
        if c.multi_pois and c.pois_ptr[i + 1] - c.pois_ptr[i] > 1:
            u = nc_uniform(&n.rng)
            k = c.pois_ptr[i]
            while k < c.pois_ptr[i + 1] - 1 and c.pois_cum[k] <= u:
                k += 1
            w = c.pois_w[k]
        else:
            w = n.w_pois
        n.next_pois = te + nc_exp_rand(&n.rng) * n.inv_rate
        if c.has_extra:
            n.next_in = _next_in(c, n, i)
        else:
            n.next_in = n.next_pois
        c.cnt[C_EXT] += 1
        r = _apply(c, n, i, te, w, _frame(c, i, te))
        c.cnt[C_EXT_DISC] += 1 - r


cdef inline int64_t _adv_fast(Ctx *c, nc_neuron *n, int64_t i, double tl, double T, double it) noexcept nogil:
    """_advance for the common case (one Poisson source, no other input stream, uniform tau,
    no suprathreshold drive): state in registers, returns the number of refractory discards.
    The caller has checked n.next_in <= tl."""
    cdef double te = n.next_in, u = n.u, ref = n.ref_until, thr = n.thr
    cdef double w = n.w_pois, ir = n.inv_rate, e, tn
    cdef uint64_t rng = n.rng
    cdef int64_t k = 0, disc = 0
    while te <= tl:
        k += 1
        tn = te + nc_exp_rand(&rng) * ir
        if te >= ref:
            e = nc_exp_small((te - T) * it)
            u += w * e
            if u >= thr * e:
                n.u = u
                _emit(c, i, te)
                u = n.u
                ref = n.ref_until
        else:
            disc += 1
        te = tn
    n.u = u
    n.rng = rng
    n.next_in = te
    n.next_pois = te
    c.cnt[C_EXT] += k
    return disc


cdef void _deliver_fast(Ctx *c, const int64_t *indptr, const int32_t *indices, const float *weights,
                        const int64_t *rows, int64_t nrows, double ta, double T) noexcept nogil:
    """The spikes arriving at one instant ta, fast path (64-byte neurons), as _deliver_h."""
    cdef double it = c.inv_tau0
    cdef double e = nc_exp_small((ta - T) * it)
    cdef nc_neuron *nr = c.nr
    cdef nc_neuron *nd
    cdef int32_t *due = c.due
    cdef int64_t g, s, s0, s1, i, m, k, nc = 0, disc = 0, edisc = 0
    cdef double u
    for g in range(nrows):
        s0 = indptr[rows[g]]
        s1 = indptr[rows[g] + 1]
        m = 0
        for s in range(s0, s1):
            i = indices[s]
            if s + 16 < s1:
                NC_PREFETCH(&nr[indices[s + 16]])
            due[m] = <int32_t> i
            m += nr[i].next_in <= ta
        for k in range(m):
            i = due[k]
            nd = &nr[i]
            if nd.next_in <= ta:
                edisc += _adv_fast(c, nd, i, ta, T, it)
    for g in range(nrows):
        s1 = indptr[rows[g] + 1]
        for s in range(indptr[rows[g]], s1):
            i = indices[s]
            if s + 16 < s1:
                NC_PREFETCH(&nr[indices[s + 16]])
            nd = &nr[i]
            if ta >= nd.ref_until:
                u = nd.u + weights[s] * e
                nd.u = u
                if u >= nd.thr * e:
                    _candidate(c, &nc, i)
            else:
                disc += 1
    for k in range(nc):
        i = c.cand[k]
        nd = &nr[i]
        if nd.u >= nd.thr * e and ta >= nd.ref_until:
            _emit(c, i, ta)
    c.cnt[C_REC_DISC] += disc
    c.cnt[C_EXT_DISC] += edisc


cdef void _deliver_general(Ctx *c, const int64_t *indptr, const int32_t *indices, const float *weights,
                           const int64_t *rows, int64_t nrows, double ta) noexcept nogil:
    """The spikes arriving at one instant ta, frame path with any inputs, or general state:
    advance every target through its own inputs <= ta, then (first touch of a neuron at this
    instant: drift spikes up to ta) add every input, then test the threshold once."""
    cdef nc_neuron *nd
    cdef int64_t g, s, i, disc = 0
    cdef double e
    for g in range(nrows):
        for s in range(indptr[rows[g]], indptr[rows[g] + 1]):
            i = indices[s]
            nd = &c.nr[i]
            if nd.next_in <= ta:
                _advance(c, nd, i, ta)
    for g in range(nrows):
        for s in range(indptr[rows[g]], indptr[rows[g] + 1]):
            i = indices[s]
            nd = &c.nr[i]
            if ta < nd.ref_until:
                disc += 1
                continue
            if c.touch[i] != ta:
                c.touch[i] = ta
                if c.gen:
                    if _gdrift(c, i, ta, 0):
                        disc += 1
                        continue
                    _gset(c, i, ta)
                else:
                    e = _frame(c, i, ta)
                    if nd.u >= nd.thr * e:
                        if _drift(c, i, ta, e):
                            disc += 1
                            continue
            if c.gen:
                c.gV[i] += weights[s]
            else:
                nd.u += weights[s] * _frame(c, i, ta)
    for g in range(nrows):
        for s in range(indptr[rows[g]], indptr[rows[g] + 1]):
            i = indices[s]
            nd = &c.nr[i]
            if ta < nd.ref_until:
                continue
            if c.gen:
                if c.gV[i] >= c.vth[i]:
                    _gemit(c, i, ta)
            elif nd.u >= nd.thr * _frame(c, i, ta):
                _emit(c, i, ta)
    c.cnt[C_REC_DISC] += disc


cdef inline int64_t _adv_h(Ctx *c, nc_hot *h, int64_t i, double tl, double T, double it,
                           double thr, double w, double ir) noexcept nogil:
    """_adv_fast for the homogeneous fast path (threshold, Poisson rate and weight shared)."""
    cdef double te = h.next_in, u = h.u, ref = h.ref_until, e, tn
    cdef uint64_t rng = h.rng
    cdef int64_t k = 0, disc = 0
    while te <= tl:
        k += 1
        tn = te + nc_exp_rand(&rng) * ir
        if te >= ref:
            e = nc_exp_small((te - T) * it)
            u += w * e
            if u >= thr * e:
                h.u = u
                _emit_h(c, h, i, te)
                u = h.u
                ref = h.ref_until
        else:
            disc += 1
        te = tn
    h.u = u
    h.rng = rng
    h.next_in = te
    c.cnt[C_EXT] += k
    return disc


cdef inline void _candidate(Ctx *c, int64_t *nc, int64_t i) noexcept nogil:
    """Remember a target that reached threshold during an instant's additions (tested after)."""
    cdef void *tmp
    if nc[0] == c.ccap:
        tmp = realloc(c.cand, 2 * c.ccap * sizeof(int32_t))
        if tmp == NULL:
            c.err = 1
            return
        c.cand = <int32_t *> tmp
        c.ccap *= 2
    c.cand[nc[0]] = <int32_t> i
    nc[0] += 1


cdef void _deliver_h(Ctx *c, const int64_t *indptr, const int32_t *indices, const float *weights,
                     const int64_t *rows, int64_t nrows, double ta, double T, double thr, double w,
                     double ir) noexcept nogil:
    """The spikes arriving at one instant ta (rows), homogeneous fast path (32-byte neurons).

    1. per row, a branch-free collection of the targets with own inputs due at or before ta,
    then their advance; 2. every non-refractory target receives its inputs; 3. the threshold
    test, once all inputs of the instant are in (simultaneous inputs are summed)."""
    cdef double it = c.inv_tau0
    cdef double e = nc_exp_small((ta - T) * it)
    cdef double thre = thr * e
    cdef nc_hot *hs = c.hot
    cdef nc_hot *h
    cdef int32_t *due = c.due
    cdef int64_t g, s, s0, s1, i, m, k, nc = 0, disc = 0, edisc = 0
    cdef double u
    for g in range(nrows):
        s0 = indptr[rows[g]]
        s1 = indptr[rows[g] + 1]
        for s in range(s0, s0 + 16 if s0 + 16 < s1 else s1):  # the row's first targets
            NC_PREFETCH(&hs[indices[s]])
        m = 0
        for s in range(s0, s1):
            i = indices[s]
            if s + 16 < s1:
                NC_PREFETCH(&hs[indices[s + 16]])
            due[m] = <int32_t> i
            m += hs[i].next_in <= ta
        for k in range(m):
            i = due[k]
            h = &hs[i]
            if h.next_in <= ta:
                edisc += _adv_h(c, h, i, ta, T, it, thr, w, ir)
    for g in range(nrows):
        s1 = indptr[rows[g] + 1]
        for s in range(indptr[rows[g]], s1):
            i = indices[s]
            if s + 16 < s1:
                NC_PREFETCH(&hs[indices[s + 16]])
            h = &hs[i]
            if ta >= h.ref_until:
                u = h.u + weights[s] * e
                h.u = u
                if u >= thre:
                    _candidate(c, &nc, i)
            else:
                disc += 1
    for k in range(nc):
        i = c.cand[k]
        h = &hs[i]
        if h.u >= thre and ta >= h.ref_until:
            _emit_h(c, h, i, ta)
    c.cnt[C_REC_DISC] += disc
    c.cnt[C_EXT_DISC] += edisc


# ---- the router (docs/emulator.md, "Routing") ---------------------------------------------------
# One AER packet per (spike, destination core), XY dimension-order routing on the mesh, a FIFO of
# ``depth`` packets per outgoing link (link = core * 4 + direction: east, west, north (+y), south),
# serialisation 1/bandwidth per packet and link, then ``hop`` s to the next router.  A discrete-
# event simulation with its own heap, advanced window by window up to the window's end.

cdef extern from *:
    """
    typedef struct { double t; int64_t s; } nc_pend;
    typedef struct {      /* a routing-table entry, what a packet needs in one cache line */
        int64_t sub0;     /* its first sub-row in entry_sub */
        int64_t s;        /* its sub-row when it has exactly one (the usual case) */
        int64_t delivered;  /* packets delivered */
        int32_t nsub;
        int32_t dst;      /* destination core */
    } nc_entry;
    static int nc_pend_cmp(const void *a, const void *b) {
        const nc_pend *x = (const nc_pend *)a, *y = (const nc_pend *)b;
        if (x->t < y->t) return -1;
        if (x->t > y->t) return 1;
        return (x->s > y->s) - (x->s < y->s);
    }
    """
    ctypedef struct nc_pend:
        double t
        int64_t s
    ctypedef struct nc_entry:
        int64_t sub0
        int64_t s
        int64_t delivered
        int32_t nsub
        int32_t dst
    int nc_pend_cmp(const void *a, const void *b) noexcept nogil


cdef enum:
    EV_END = 0         # the head packet of a link finishes its serialisation
    EV_ARRIVE = 1      # a packet reaches a router (after a hop)
    R_PK_OUT = 0       # per-core counters (index * ncores + core)
    R_PK_IN = 1
    R_CORE_PK = 2
    R_HOPS_EW = 3
    R_HOPS_NS = 4
    R_DROP_INJ = 5
    N_RCORE = 6
    L_PACKETS = 0      # per-link counters (index * nlinks + link)
    L_PEAK = 1
    L_DROP_FULL = 2
    L_DROP_INJ = 3
    N_RLINK = 4


cdef struct RtEv:
    double t
    int64_t seq
    int64_t code      # id * 2 + kind


cdef struct Rt:
    int64_t ncores
    int64_t width
    int64_t *xcol       # x coordinate of each core (no division per hop)
    double t_end        # end of the run: packets arriving later stay in flight
    int64_t nclass      # number of delay values
    int64_t late        # packets on their last hop at the end
    int64_t nlinks
    double hop
    double ser
    int64_t depth
    int bp
    # packets (a pool with a free list)
    int64_t pcap
    int64_t pfree
    double *pt0
    int64_t *pent       # route entry (source neuron's destination)
    int32_t *pcur       # router the packet is at / heading to
    int64_t *pnext      # next packet in the same queue, or the free list
    # links
    int64_t *qhead
    int64_t *qtail
    int64_t *qlen
    int64_t *occ        # qlen + packets in flight to this link (credits, backpressure)
    char *busy
    char *blocked
    double *busy_s
    # the end of the current serialisation of each busy link: its time, its place in the event
    # order (sequence number), whether it is virtual (not in the heap: nothing waits for it, so
    # it is applied when the link is next looked at) and whether its packet is on its last hop
    double *bend
    int64_t *eseq
    char *vend
    char *lasthop
    # the event being processed (time, sequence): virtual ends before it have happened
    double now_t
    int64_t now_seq
    # injection queues (backpressure: packets waiting at their source core)
    int64_t *ihead
    int64_t *itail
    # heap
    RtEv *hp
    int64_t hn
    int64_t hcap
    int64_t seq
    # routing tables
    nc_entry *ent
    int64_t nent
    const int64_t *rsub
    const int32_t *sub_cls
    const double *delays
    int64_t *rc        # per-core counters
    int64_t *lc        # per-link counters
    # pending deliveries (time, subrow)
    nc_pend *pd
    int64_t dn
    int64_t dcap
    # latency log
    double *lat
    int64_t ln
    int64_t lcap
    int keep_lat
    double lat_sum
    double lat_max
    int64_t lat_n
    int err


cdef inline int _rt_less(RtEv *a, RtEv *b) noexcept nogil:
    return a.t < b.t or (a.t == b.t and a.seq < b.seq)


cdef inline void _rt_push(Rt *r, double t, int64_t code) noexcept nogil:
    _rt_push_key(r, t, r.seq, code)
    r.seq += 1


cdef void _rt_push_key(Rt *r, double t, int64_t seq, int64_t code) noexcept nogil:
    cdef int64_t k, p
    cdef RtEv ev
    cdef void *tmp
    if r.hn == r.hcap:
        tmp = realloc(r.hp, 2 * r.hcap * sizeof(RtEv))
        if tmp == NULL:
            r.err = 1
            return
        r.hp = <RtEv *> tmp
        r.hcap *= 2
    ev.t = t
    ev.seq = seq
    ev.code = code
    k = r.hn
    r.hn += 1
    while k > 0:
        p = (k - 1) >> 1
        if not _rt_less(&ev, &r.hp[p]):
            break
        r.hp[k] = r.hp[p]
        k = p
    r.hp[k] = ev


cdef RtEv _rt_pop(Rt *r) noexcept nogil:
    cdef RtEv top = r.hp[0], last
    cdef int64_t k = 0, ch
    r.hn -= 1
    last = r.hp[r.hn]
    while True:
        ch = 2 * k + 1
        if ch >= r.hn:
            break
        if ch + 1 < r.hn and _rt_less(&r.hp[ch + 1], &r.hp[ch]):
            ch += 1
        if not _rt_less(&r.hp[ch], &last):
            break
        r.hp[k] = r.hp[ch]
        k = ch
    if r.hn > 0:
        r.hp[k] = last
    return top


cdef int64_t _rt_new(Rt *r) noexcept nogil:
    cdef int64_t p, k, old
    cdef void *a
    cdef void *b
    cdef void *d
    cdef void *e
    if r.pfree < 0:
        old = r.pcap
        a = realloc(r.pt0, 2 * old * sizeof(double))
        if a != NULL:
            r.pt0 = <double *> a
        b = realloc(r.pent, 2 * old * sizeof(int64_t))
        if b != NULL:
            r.pent = <int64_t *> b
        d = realloc(r.pcur, 2 * old * sizeof(int32_t))
        if d != NULL:
            r.pcur = <int32_t *> d
        e = realloc(r.pnext, 2 * old * sizeof(int64_t))
        if e != NULL:
            r.pnext = <int64_t *> e
        if a == NULL or b == NULL or d == NULL or e == NULL:
            r.err = 1
            return -1
        r.pcap = 2 * old
        for k in range(old, r.pcap):
            r.pnext[k] = k + 1 if k + 1 < r.pcap else -1
        r.pfree = old
    p = r.pfree
    r.pfree = r.pnext[p]
    r.pnext[p] = -1
    return p


cdef inline void _rt_free(Rt *r, int64_t p) noexcept nogil:
    r.pnext[p] = r.pfree
    r.pfree = p


cdef inline int64_t _rt_link(Rt *r, int64_t at, int64_t dst) noexcept nogil:
    """The XY output link at router ``at`` towards core ``dst`` (-1: arrived)."""
    cdef int64_t x0 = r.xcol[at], x1 = r.xcol[dst]
    if x1 > x0:
        return at * 4
    if x1 < x0:
        return at * 4 + 1
    if dst > at:
        return at * 4 + 2
    if dst < at:
        return at * 4 + 3
    return -1


cdef inline int64_t _rt_far(Rt *r, int64_t link) noexcept nogil:
    """The router at the far end of a link."""
    cdef int64_t at = link >> 2, d = link & 3
    if d == 0:
        return at + 1
    if d == 1:
        return at - 1
    if d == 2:
        return at + r.width
    return at - r.width


cdef inline void _rt_end_effects(Rt *r, int64_t link) noexcept nogil:
    """The head packet of ``link`` finishes its serialisation: it leaves the FIFO (it was sent
    on when the serialisation started; on its last hop it is freed now)."""
    cdef int64_t p = r.qhead[link]
    r.qlen[link] -= 1
    r.qhead[link] = r.pnext[p] if r.qlen[link] > 0 else -1
    r.busy[link] = 0
    r.busy_s[link] += r.ser
    r.lc[L_PACKETS * r.nlinks + link] += 1
    if (link & 3) < 2:
        r.rc[R_HOPS_EW * r.ncores + (link >> 2)] += 1
    else:
        r.rc[R_HOPS_NS * r.ncores + (link >> 2)] += 1
    if r.lasthop[link]:
        _rt_free(r, p)


cdef inline void _rt_sync(Rt *r, int64_t link) noexcept nogil:
    """Apply the virtual end of ``link`` if it comes before the current event."""
    if r.vend[link] and (r.bend[link] < r.now_t
                         or (r.bend[link] == r.now_t and r.eseq[link] < r.now_seq)):
        r.vend[link] = 0
        _rt_end_effects(r, link)
        if r.bp:
            r.occ[link] -= 1


cdef inline void _rt_real(Rt *r, int64_t link) noexcept nogil:
    """Something now waits for the end of ``link``'s serialisation (a packet behind it, or a
    slot of its FIFO): put that end in the event list, in its place in the order."""
    if r.vend[link]:
        r.vend[link] = 0
        _rt_push_key(r, r.bend[link], r.eseq[link], link * 2 + EV_END)


cdef inline void _rt_enqueue(Rt *r, int64_t link, int64_t p) noexcept nogil:
    if r.vend[link]:
        _rt_real(r, link)
    r.pnext[p] = -1
    if r.qlen[link] == 0:
        r.qhead[link] = p
    else:
        r.pnext[r.qtail[link]] = p
    r.qtail[link] = p
    r.qlen[link] += 1
    if r.qlen[link] > r.lc[L_PEAK * r.nlinks + link]:
        r.lc[L_PEAK * r.nlinks + link] = r.qlen[link]


cdef void _rt_try(Rt *r, int64_t link, double t) noexcept nogil:
    """Start serialising the head packet of a link if the link is idle (and, with
    backpressure, the next buffer has room: its slot is reserved now)."""
    cdef int64_t p, nxt, far
    cdef double te
    _rt_sync(r, link)
    if r.busy[link] or r.qlen[link] == 0:
        return
    p = r.qhead[link]
    r.blocked[link] = 0
    far = _rt_far(r, link)
    nxt = _rt_link(r, far, r.ent[r.pent[p]].dst)
    if r.bp and nxt >= 0:
        _rt_sync(r, nxt)
        if r.occ[nxt] >= r.depth:
            r.blocked[link] = 1
            _rt_real(r, nxt)
            return
        r.occ[nxt] += 1
    # start: the end of the serialisation takes its place in the order now; the packet's
    # arrival at the next router is scheduled right after it (on the last hop, nothing can
    # change that arrival any more, so the packet is delivered now, without an event)
    te = t + r.ser
    r.busy[link] = 1
    r.bend[link] = te
    r.eseq[link] = r.seq
    r.seq += 1
    r.lasthop[link] = nxt < 0
    if nxt < 0:
        if te + r.hop < r.t_end:
            r.rc[R_PK_IN * r.ncores + far] += 1
            _rt_deliver(r, p, te + r.hop)
        else:
            r.late += 1
    else:
        r.pcur[p] = <int32_t> far
        _rt_push(r, te + r.hop, p * 2 + EV_ARRIVE)
    # the end is real only if something already waits for it
    r.vend[link] = 1
    if r.qlen[link] > 1 or (r.bp and r.occ[link] >= r.depth):
        _rt_real(r, link)


cdef void _rt_deliver(Rt *r, int64_t p, double t) noexcept nogil:
    """A packet reached its destination core at t: its synapses there become pending arrivals."""
    cdef int64_t e = r.pent[p], k, s
    cdef void *a
    cdef double lat = t - r.pt0[p]
    cdef nc_entry *en = &r.ent[e]
    r.lat_n += 1
    r.lat_sum += lat
    if lat > r.lat_max:
        r.lat_max = lat
    if r.keep_lat:
        if r.ln == r.lcap:
            a = realloc(r.lat, 2 * r.lcap * sizeof(double))
            if a == NULL:
                r.err = 1
                return
            r.lat = <double *> a
            r.lcap *= 2
        r.lat[r.ln] = lat
        r.ln += 1
    en.delivered += 1
    if r.dn + en.nsub > r.dcap:
        a = realloc(r.pd, 2 * (r.dcap + en.nsub) * sizeof(nc_pend))
        if a == NULL:
            r.err = 1
            return
        r.pd = <nc_pend *> a
        r.dcap = 2 * (r.dcap + en.nsub)
    if en.nsub == 1:
        r.pd[r.dn].t = t + (r.delays[r.sub_cls[en.s]] if r.nclass > 1 else r.delays[0])
        r.pd[r.dn].s = en.s
        r.dn += 1
        return
    for k in range(en.sub0, en.sub0 + en.nsub):
        s = r.rsub[k]
        r.pd[r.dn].t = t + (r.delays[r.sub_cls[s]] if r.nclass > 1 else r.delays[0])
        r.pd[r.dn].s = s
        r.dn += 1


cdef void _rt_wake(Rt *r, int64_t link, double t) noexcept nogil:
    """A slot of ``link`` freed (backpressure): retry, in a fixed order, the source core's
    injection queue, then the links into this router whose head waits for it."""
    cdef int64_t at = link >> 2, up, p, hl, w = r.width
    cdef int64_t ups[4]
    cdef int k
    # injection queue of this core: its head first (FIFO, head-of-line blocking)
    while r.ihead[at] >= 0:
        p = r.ihead[at]
        hl = _rt_link(r, at, r.ent[r.pent[p]].dst)
        _rt_sync(r, hl)
        if r.occ[hl] >= r.depth:
            _rt_real(r, hl)
            break
        r.ihead[at] = r.pnext[p]
        r.occ[hl] += 1
        _rt_enqueue(r, hl, p)
        _rt_try(r, hl, t)
    # links arriving here: west neighbour's east link, east neighbour's west link, ...
    ups[0] = (at - 1) * 4 if at % w > 0 else -1
    ups[1] = (at + 1) * 4 + 1 if at % w < w - 1 else -1
    ups[2] = (at - w) * 4 + 2 if at - w >= 0 else -1
    ups[3] = (at + w) * 4 + 3 if at + w < r.ncores else -1
    for k in range(4):
        up = ups[k]
        if up >= 0 and r.blocked[up]:
            _rt_try(r, up, t)


cdef void _rt_event(Rt *r, RtEv ev) noexcept nogil:
    cdef int64_t kind = ev.code & 1, id_ = ev.code >> 1, p, nxt
    cdef double t = ev.t
    r.now_t = t
    r.now_seq = ev.seq
    if kind == EV_END:
        _rt_end_effects(r, id_)
        _rt_try(r, id_, t)
        if r.bp:
            r.occ[id_] -= 1
            _rt_wake(r, id_, t)
    else:
        p = id_
        # (never the destination: a packet on its last hop is delivered when it is sent)
        nxt = _rt_link(r, r.pcur[p], r.ent[r.pent[p]].dst)
        _rt_sync(r, nxt)
        if not r.bp and r.qlen[nxt] >= r.depth:
            r.lc[L_DROP_FULL * r.nlinks + nxt] += 1
            _rt_free(r, p)
            return
        _rt_enqueue(r, nxt, p)
        _rt_try(r, nxt, t)


cdef void _rt_inject(Rt *r, int64_t src_core, double t, int64_t e) noexcept nogil:
    """Packet of route entry e (a spike at t) leaves its source core."""
    cdef int64_t dst = r.ent[e].dst, link, p
    r.rc[R_PK_OUT * r.ncores + src_core] += 1
    if dst == src_core:
        r.rc[R_CORE_PK * r.ncores + src_core] += 1
        r.rc[R_PK_IN * r.ncores + src_core] += 1
        p = _rt_new(r)
        if p < 0:
            return
        r.pt0[p] = t
        r.pent[p] = e
        _rt_deliver(r, p, t)
        _rt_free(r, p)
        return
    link = _rt_link(r, src_core, dst)
    r.now_t = t
    r.now_seq = INT64_MAX
    _rt_sync(r, link)
    if not r.bp and r.qlen[link] >= r.depth:
        r.lc[L_DROP_INJ * r.nlinks + link] += 1
        r.rc[R_DROP_INJ * r.ncores + src_core] += 1
        return
    p = _rt_new(r)
    if p < 0:
        return
    r.pt0[p] = t
    r.pent[p] = e
    r.pcur[p] = <int32_t> src_core
    if r.bp:
        if r.ihead[src_core] >= 0 or r.occ[link] >= r.depth:
            # wait at the source, behind any packet already waiting there
            if r.ihead[src_core] < 0:
                _rt_real(r, link)
            r.pnext[p] = -1
            if r.ihead[src_core] < 0:
                r.ihead[src_core] = p
            else:
                r.pnext[r.itail[src_core]] = p
            r.itail[src_core] = p
            return
        r.occ[link] += 1
    _rt_enqueue(r, link, p)
    _rt_try(r, link, t)


cdef void _rt_advance(Rt *r, double t_until) noexcept nogil:
    """Process every router event at a time < t_until."""
    while r.hn > 0 and r.hp[0].t < t_until and not r.err:
        _rt_event(r, _rt_pop(r))


cdef void _rt_spikes(Rt *r, const double *ts, const int32_t *ids, int64_t m, const int32_t *ncore,
                     const int64_t *rptr, double w_end) noexcept nogil:
    """Inject the packets of m spikes (sorted by time), then advance the router to w_end.
    Router events at a spike's time go before its injection."""
    cdef int64_t k, e, i
    cdef double t
    for k in range(m):
        t = ts[k]
        i = ids[k]
        while r.hn > 0 and r.hp[0].t <= t and not r.err:
            _rt_event(r, _rt_pop(r))
        for e in range(rptr[i], rptr[i + 1]):
            _rt_inject(r, ncore[i], t, e)
    _rt_advance(r, w_end)


cdef void _pend_isort(nc_pend *pd, int64_t m) noexcept nogil:
    """Insertion sort by (t, s): with one delay class the router hands packets over in time
    order, so only equal times can be out of (t, s) order and this costs O(m)."""
    cdef int64_t q, k
    cdef nc_pend x
    for q in range(1, m):
        x = pd[q]
        k = q
        while k > 0 and (pd[k - 1].t > x.t or (pd[k - 1].t == x.t and pd[k - 1].s > x.s)):
            pd[k] = pd[k - 1]
            k -= 1
        pd[k] = x


cdef inline void _pend_swap(nc_pend *pd, int64_t a, int64_t b) noexcept nogil:
    cdef nc_pend x = pd[a]
    pd[a] = pd[b]
    pd[b] = x


cdef void _rt_init(Rt *r, dict route, const int32_t *rcore, int64_t nent,
                   const int64_t *rsub_ptr, const int64_t *rsub, const int32_t *sub_cls, const double *delays,
                   int64_t *rc, int64_t *lc, double *busy_s):
    cdef int64_t k
    r.ncores = route["n_cores"]
    r.width = route["width"]
    r.nlinks = 4 * r.ncores
    r.hop = route["hop_latency_s"]
    r.ser = 1.0 / <double> route["link_bandwidth_hz"]
    r.depth = route["buffer_depth"]
    r.bp = 1 if route["backpressure"] else 0
    r.keep_lat = 1 if route["keep_latency"] else 0
    r.nent = nent
    r.ent = <nc_entry *> malloc((nent + 1) * sizeof(nc_entry))
    if r.ent != NULL:
        for k in range(nent):
            r.ent[k].sub0 = rsub_ptr[k]
            r.ent[k].nsub = <int32_t> (rsub_ptr[k + 1] - rsub_ptr[k])
            r.ent[k].s = rsub[rsub_ptr[k]] if rsub_ptr[k + 1] > rsub_ptr[k] else -1
            r.ent[k].dst = rcore[k]
            r.ent[k].delivered = 0
    r.rsub = rsub
    r.sub_cls = sub_cls
    r.delays = delays
    r.rc = rc
    r.lc = lc
    r.busy_s = busy_s
    r.err = 0
    r.t_end = INFINITY
    r.nclass = 2
    r.late = 0
    r.pcap = 1024
    r.pfree = 0
    r.pt0 = <double *> malloc(r.pcap * sizeof(double))
    r.pent = <int64_t *> malloc(r.pcap * sizeof(int64_t))
    r.pcur = <int32_t *> malloc(r.pcap * sizeof(int32_t))
    r.pnext = <int64_t *> malloc(r.pcap * sizeof(int64_t))
    r.qhead = <int64_t *> malloc(r.nlinks * sizeof(int64_t))
    r.qtail = <int64_t *> malloc(r.nlinks * sizeof(int64_t))
    r.qlen = <int64_t *> malloc(r.nlinks * sizeof(int64_t))
    r.occ = <int64_t *> malloc(r.nlinks * sizeof(int64_t))
    r.busy = <char *> malloc(r.nlinks)
    r.blocked = <char *> malloc(r.nlinks)
    r.bend = <double *> malloc(r.nlinks * sizeof(double))
    r.eseq = <int64_t *> malloc(r.nlinks * sizeof(int64_t))
    r.vend = <char *> malloc(r.nlinks)
    r.lasthop = <char *> malloc(r.nlinks)
    r.now_t = -INFINITY
    r.now_seq = 0
    r.ihead = <int64_t *> malloc(r.ncores * sizeof(int64_t))
    r.xcol = <int64_t *> malloc(r.ncores * sizeof(int64_t))
    r.itail = <int64_t *> malloc(r.ncores * sizeof(int64_t))
    r.hcap = 1024
    r.hn = 0
    r.seq = 0
    r.hp = <RtEv *> malloc(r.hcap * sizeof(RtEv))
    r.dcap = 1024
    r.dn = 0
    r.pd = <nc_pend *> malloc(r.dcap * sizeof(nc_pend))
    r.lcap = 1024
    r.ln = 0
    r.lat = <double *> malloc(r.lcap * sizeof(double))
    r.lat_sum = 0.0
    r.lat_max = 0.0
    r.lat_n = 0
    if (r.pt0 == NULL or r.pent == NULL or r.pcur == NULL or r.pnext == NULL or r.qhead == NULL
            or r.qtail == NULL or r.qlen == NULL or r.occ == NULL or r.busy == NULL
            or r.blocked == NULL or r.ihead == NULL or r.itail == NULL or r.hp == NULL or r.xcol == NULL
            or r.pd == NULL or r.lat == NULL or r.ent == NULL
            or r.bend == NULL or r.eseq == NULL or r.vend == NULL
            or r.lasthop == NULL):
        r.err = 1
        return
    for k in range(r.pcap):
        r.pnext[k] = k + 1 if k + 1 < r.pcap else -1
    for k in range(r.nlinks):
        r.qhead[k] = -1
        r.qtail[k] = -1
        r.qlen[k] = 0
        r.occ[k] = 0
        r.busy[k] = 0
        r.blocked[k] = 0
        r.vend[k] = 0
        r.lasthop[k] = 0
        r.bend[k] = 0.0
        r.eseq[k] = 0
    for k in range(r.ncores):
        r.ihead[k] = -1
        r.itail[k] = -1
        r.xcol[k] = k % r.width


cdef void _rt_finish(Rt *r, dict route, int64_t *deliv):
    """Copy the latency log and the end state (packets still in the network) to ``route``."""
    cdef int64_t k, p, waiting = 0, queued = 0, flying = 0
    lat = np.empty(r.ln, dtype=np.float64)
    cdef double[::1] lv = lat
    for k in range(r.ln):
        lv[k] = r.lat[k]
    for k in range(r.ncores):
        p = r.ihead[k]
        while p >= 0:
            waiting += 1
            p = r.pnext[p]
    # the ends of serialisation before the end of the run have happened (events at t < t_end)
    r.now_t = r.t_end
    r.now_seq = -1
    for k in range(r.nlinks):
        _rt_sync(r, k)
        queued += r.qlen[k]
    # on a hop: arrivals still scheduled (last hops: counted when sent), less the packets still
    # being serialised, whose arrival is already scheduled
    flying = r.late
    for k in range(r.hn):
        flying += r.hp[k].code & 1
    for k in range(r.nlinks):
        flying -= r.busy[k]
    route["latency"] = lat
    route["latency_sum_s"] = r.lat_sum
    route["latency_max_s"] = r.lat_max
    route["latency_count"] = r.lat_n
    route["packets_in_flight"] = flying
    route["packets_queued"] = queued
    route["packets_waiting_at_source"] = waiting
    route["pending_arrivals"] = r.dn
    # sub-rows delivered: every packet delivered to an entry's core fans out to each of its
    # sub-rows, less the arrivals still pending at the end
    for k in range(r.nent):
        for p in range(r.ent[k].sub0, r.ent[k].sub0 + r.ent[k].nsub):
            deliv[r.rsub[p]] += r.ent[k].delivered
    for k in range(r.dn):
        deliv[r.pd[k].s] -= 1


cdef void _rt_release(Rt *r) noexcept:
    free(r.pt0)
    free(r.pent)
    free(r.pcur)
    free(r.pnext)
    free(r.qhead)
    free(r.qtail)
    free(r.qlen)
    free(r.occ)
    free(r.busy)
    free(r.blocked)
    free(r.bend)
    free(r.eseq)
    free(r.vend)
    free(r.lasthop)
    free(r.ihead)
    free(r.itail)
    free(r.xcol)
    free(r.hp)
    free(r.pd)
    free(r.ent)
    free(r.lat)


def poisson_train(uint64_t seed, int64_t neuron, double rate, const double[::1] cum, double duration):
    """The Poisson train the engine gives one neuron: (times, source index), same stream.

    ``cum`` is the neuron's cumulative source shares (length = number of sources)."""
    cdef uint64_t sm = seed ^ (<uint64_t> neuron * 0xd1342543de82ef95ULL)
    cdef uint64_t rng = nc_splitmix(&sm)
    cdef double t, u, ir = 1.0 / rate
    cdef int64_t k, m = cum.shape[0]
    nc_zig_init()
    times = []
    src = []
    t = nc_exp_rand(&rng) * ir
    while t < duration:
        k = 0
        if m > 1:
            u = nc_uniform(&rng)
            while k < m - 1 and cum[k] <= u:
                k += 1
        times.append(t)
        src.append(k)
        t = t + nc_exp_rand(&rng) * ir
    return np.array(times, dtype=np.float64), np.array(src, dtype=np.int64)


def exp_samples(uint64_t seed, int64_t n):
    """n Exp(1) draws of the kernel's ziggurat on one wyrand stream (for tests)."""
    cdef uint64_t s = seed
    out = np.empty(n, dtype=np.float64)
    cdef double[::1] o = out
    cdef int64_t k
    nc_zig_init()
    for k in range(n):
        o[k] = nc_exp_rand(&s)
    return out


def exp_small(double x):
    """The kernel's polynomial exp(x), valid for 0 <= x <= 1/8 (for tests)."""
    return nc_exp_small(x)


def csr_count(const int32_t[::1] pre, const int64_t[::1] cls, int64_t cls0, int64_t n, int64_t pre_off,
              int64_t[::1] counts):
    """Count synapses per row (row = delay class * n + pre_off + pre); ``cls`` per synapse, or
    empty for one class ``cls0``."""
    cdef int64_t m = pre.shape[0], s
    cdef bint per = cls.shape[0] > 0
    with nogil:
        for s in range(m):
            counts[(cls[s] if per else cls0) * n + pre_off + pre[s]] += 1


def csr_fill(const int32_t[::1] pre, const int32_t[::1] post, const float[::1] w, float w0,
             const int64_t[::1] cls, int64_t cls0, int64_t n, int64_t pre_off, int32_t post_off,
             int64_t[::1] pos, int32_t[::1] indices, float[::1] weights):
    """Stable fill of the rows (pos: next free slot per row); ``w`` per synapse or empty for
    one weight ``w0``."""
    cdef int64_t m = pre.shape[0], s, r
    cdef bint per_cls = cls.shape[0] > 0, per_w = w.shape[0] > 0
    with nogil:
        for s in range(m):
            r = (cls[s] if per_cls else cls0) * n + pre_off + pre[s]
            indices[pos[r]] = post[s] + post_off
            weights[pos[r]] = w[s] if per_w else w0
            pos[r] += 1


def received(const int64_t[::1] indptr, const int32_t[::1] indices, const int64_t[::1] delivered,
             int64_t n, int64_t[::1] out):
    """out[target] += delivered[row] for every synapse of every row (rows = delay class * n + pre)."""
    cdef int64_t rows = indptr.shape[0] - 1, r, s, d
    with nogil:
        for r in range(rows):
            d = delivered[r]
            if d:
                for s in range(indptr[r], indptr[r + 1]):
                    out[indices[s]] += d


cdef void _free_state(Ctx *c, int64_t *grows, double *log_t, int32_t *log_id, int64_t *ptr) noexcept nogil:
    """Free the run's neuron state and buffers (every pointer is NULL or owned; free(NULL) is a no-op)."""
    free(c.nr)
    free(c.gV)
    free(grows)
    free(c.cand)
    free(c.touch)
    free(c.gR)
    free(c.gT)
    free(c.gW)
    free(c.hot)
    free(c.due)
    free(c.sin_pos)
    free(c.st_pos)
    free(c.wbuf)
    free(log_t)
    free(log_id)
    free(ptr)


def run_lif(
    const double[::1] inv_tau, double[::1] vinf, const double[::1] vth, const double[::1] vreset,
    const double[::1] tref, const double[::1] v0,
    const double[::1] rate, const int64_t[::1] pois_ptr, const double[::1] pois_cum,
    const double[::1] pois_w,
    const int64_t[::1] sin_ptr, const double[::1] sin_t, const double[::1] sin_w,
    const int64_t[::1] st_ptr, const double[::1] st_t, const double[::1] st_vinf,
    const int64_t[::1] indptr, const int32_t[::1] indices, const float[::1] weights,
    const double[::1] delays,
    uint64_t seed, double duration, double window, int uniform_tau, int use_poly,
    int64_t[::1] spike_count, int64_t[::1] counters,
    const double[::1] cm, const double[::1] binc, const double[::1] inv_tau_w, int gen,
    const double[::1] sigma, const double[::1] noise_dt, dict route=None,
):
    """Run the LIF network; returns (spike times float64, spike addresses int32), sorted by
    (time, address).  ``vinf`` is modified (current steps).  See the module docstring.

    ``route`` (optional) runs every spike through the router: a dict of the routing tables and
    router parameters (see neurochip.emulator._routing_tables); its output arrays are filled
    in and the latency log is stored under ``"latency"``."""
    cdef Ctx c
    cdef int64_t n = inv_tau.shape[0], K = delays.shape[0], i, j, k, best, p, row
    cdef int64_t log_n = 0, log_cap = 1024, nwin = 0
    cdef double T, W, wend, ta, best_ta, f
    cdef double *log_t
    cdef int32_t *log_id
    cdef int64_t *ptr
    cdef nc_neuron *nd
    cdef uint64_t sm = seed
    cdef int fast, hom
    cdef int64_t ng, gcap = 64
    cdef int64_t *grows
    cdef double tb
    cdef double hthr, hw, hir
    cdef void *tmp
    cdef double[::1] tv
    cdef int32_t[::1] iv
    # routing
    cdef Rt rt
    cdef int routed = route is not None
    cdef const int32_t[::1] r_ncore
    cdef const int64_t[::1] r_ptr
    cdef const int64_t[::1] s_indptr
    cdef const int32_t[::1] s_indices
    cdef const float[::1] s_weights
    cdef int64_t[::1] r_deliv
    cdef int64_t[::1] r_rc
    cdef int64_t[::1] r_lc
    cdef double[::1] r_busy
    cdef const int32_t[::1] r_rcore
    cdef const int64_t[::1] r_rsub_ptr
    cdef const int64_t[::1] r_rsub
    cdef const int32_t[::1] r_cls
    cdef const int64_t *xindptr = &indptr[0]
    cdef const int32_t *xindices = &indices[0]
    cdef const float *xweights = &weights[0]
    cdef int64_t q, nd_now, log0, s0, s1

    nc_zig_init()
    c.n = n
    c.nr = nc_alloc_neurons(n)
    c.hot = NULL
    c.ccap = 1024
    c.cand = <int32_t *> malloc(c.ccap * sizeof(int32_t))
    grows = <int64_t *> malloc(gcap * sizeof(int64_t))
    c.touch = <double *> malloc((n + 1) * sizeof(double))
    c.due = NULL
    c.inv_tau = <double *> &inv_tau[0]
    c.vinf = &vinf[0]
    c.vth = <double *> &vth[0]
    c.vreset = <double *> &vreset[0]
    c.tref = <double *> &tref[0]
    c.pois_ptr = <int64_t *> &pois_ptr[0]
    c.pois_cum = <double *> &pois_cum[0]
    c.pois_w = <double *> &pois_w[0]
    c.sin_ptr = <int64_t *> &sin_ptr[0]
    c.sin_t = <double *> &sin_t[0]
    c.sin_w = <double *> &sin_w[0]
    c.st_ptr = <int64_t *> &st_ptr[0]
    c.st_t = <double *> &st_t[0]
    c.st_vinf = <double *> &st_vinf[0]
    c.sin_pos = <int64_t *> malloc((n + 1) * sizeof(int64_t))
    c.st_pos = <int64_t *> malloc((n + 1) * sizeof(int64_t))
    c.has_extra = sin_ptr[n] > 0 or st_ptr[n] > 0
    c.multi_pois = 0
    c.uniform_tau = uniform_tau
    c.inv_tau0 = inv_tau[0]
    c.use_poly = use_poly
    c.gen = gen
    c.ga = <double *> &inv_tau[0]
    c.gb = <double *> &inv_tau_w[0]
    c.gcm = <double *> &cm[0]
    c.gbinc = <double *> &binc[0]
    c.gsig = <double *> &sigma[0]
    c.gdt = <double *> &noise_dt[0]
    c.gR = <uint64_t *> malloc((n + 1) * sizeof(uint64_t))
    c.gV = <double *> malloc((n + 1) * sizeof(double))
    c.gT = <double *> malloc((n + 1) * sizeof(double))
    c.gW = <double *> malloc((n + 1) * sizeof(double))
    c.T = 0.0
    c.wcap = 1024
    c.wn = 0
    c.wbuf = <nc_spike *> malloc(c.wcap * sizeof(nc_spike))
    c.spike_count = &spike_count[0]
    c.err = 0
    for k in range(N_COUNTERS):
        c.cnt[k] = 0
    log_t = <double *> malloc(log_cap * sizeof(double))
    log_id = <int32_t *> malloc(log_cap * sizeof(int32_t))
    ptr = <int64_t *> malloc((K + 1) * sizeof(int64_t))
    if (c.nr == NULL or c.cand == NULL or grows == NULL or c.touch == NULL or c.gR == NULL
            or c.gV == NULL or c.gT == NULL or c.gW == NULL or c.sin_pos == NULL
            or c.st_pos == NULL or c.wbuf == NULL or log_t == NULL or log_id == NULL or ptr == NULL):
        _free_state(&c, grows, log_t, log_id, ptr)
        raise MemoryError("emulator: out of memory allocating the neuron state")

    if routed:
        r_ncore = route["neuron_core"]
        r_ptr = route["route_indptr"]
        r_rcore = route["route_cores"]
        r_rsub_ptr = route["entry_sub_ptr"]
        r_rsub = route["entry_sub"]
        r_cls = route["sub_class"]
        s_indptr = route["sub_indptr"]
        s_indices = route["sub_indices"]
        s_weights = route["sub_weights"]
        r_deliv = route["sub_delivered"]
        r_rc = route["core_counters"]
        r_lc = route["link_counters"]
        r_busy = route["link_busy_s"]
        xindptr = &s_indptr[0]
        xindices = &s_indices[0]
        xweights = &s_weights[0]
        _rt_init(&rt, route, &r_rcore[0], r_rcore.shape[0], &r_rsub_ptr[0], &r_rsub[0], &r_cls[0], &delays[0],
                 &r_rc[0], &r_lc[0], &r_busy[0])
        rt.t_end = duration
        rt.nclass = K
        if rt.err:
            _rt_release(&rt)
            _free_state(&c, grows, log_t, log_id, ptr)
            raise MemoryError("emulator: out of memory allocating the router state")

    with nogil:
        for j in range(K):
            ptr[j] = 0
        for i in range(n):
            nd = &c.nr[i]
            if pois_ptr[i + 1] - pois_ptr[i] > 1:
                c.multi_pois = 1
            # per-neuron stream: splitmix64 of (seed, neuron)
            sm = seed ^ (<uint64_t> i * 0xd1342543de82ef95ULL)
            nd.rng = nc_splitmix(&sm)
            nd.u = v0[i] - vinf[i]
            nd.thr = vth[i] - vinf[i]
            nd.ref_until = -INFINITY
            nd.w_pois = pois_w[pois_ptr[i]] if pois_ptr[i + 1] > pois_ptr[i] else 0.0
            if rate[i] > 0.0:
                nd.inv_rate = 1.0 / rate[i]
                nd.next_pois = nc_exp_rand(&nd.rng) * nd.inv_rate
            else:
                nd.inv_rate = INFINITY
                nd.next_pois = INFINITY
            c.sin_pos[i] = sin_ptr[i]
            c.st_pos[i] = st_ptr[i]
            nd.next_in = _next_in(&c, nd, i)
            c.gV[i] = v0[i]
            c.gT[i] = 0.0
            c.gW[i] = 0.0
            c.touch[i] = -1.0
            sm = seed ^ (<uint64_t> i * 0x9e3779b97f4a7c15ULL) ^ 0x6a09e667f3bcc909ULL
            c.gR[i] = nc_splitmix(&sm)
            if v0[i] >= vth[i]:
                _emit(&c, i, 0.0)

        # the fast path: one Poisson source per neuron, no given spikes or steps, uniform tau,
        # the polynomial frame, no suprathreshold drive (thr >= 0 everywhere)
        fast = uniform_tau and use_poly and not c.has_extra and not c.multi_pois and not gen
        for i in range(n):
            if c.nr[i].thr < 0.0:
                fast = 0
        # homogeneous: threshold, Poisson rate and weight shared -> 32-byte neurons
        hom = fast
        hthr = c.nr[0].thr
        hw = c.nr[0].w_pois
        hir = c.nr[0].inv_rate
        for i in range(n):
            if c.nr[i].thr != hthr or c.nr[i].w_pois != hw or c.nr[i].inv_rate != hir:
                hom = 0
        if fast:
            k = 1
            for j in range(K * n):
                if indptr[j + 1] - indptr[j] > k:
                    k = indptr[j + 1] - indptr[j]
            c.due = <int32_t *> malloc(k * sizeof(int32_t))
            if c.due == NULL:
                fast = 0
                hom = 0
        if hom:
            c.hot = <nc_hot *> nc_alloc_neurons((n + 1) // 2)
            if c.hot == NULL:
                hom = 0
            else:
                for i in range(n):
                    c.hot[i].u = c.nr[i].u
                    c.hot[i].ref_until = c.nr[i].ref_until
                    c.hot[i].next_in = c.nr[i].next_in
                    c.hot[i].rng = c.nr[i].rng
        while not c.err:
            T = nwin * window
            if T >= duration:
                break
            W = (nwin + 1) * window
            if W > duration:
                W = duration
            c.T = T
            # 1r. routed: the pending arrivals of [T, W), sorted by (time, subrow), one instant
            #     at a time (the router delivered them at the end of an earlier window)
            if routed:
                # usually already sorted (one delay class: the router hands packets over in
                # time order); otherwise the due ones are moved to the front and sorted
                nd_now = 0
                if K == 1:
                    _pend_isort(rt.pd, rt.dn)
                for q in range(1 if K > 1 else rt.dn, rt.dn):
                    if rt.pd[q - 1].t > rt.pd[q].t or (rt.pd[q - 1].t == rt.pd[q].t
                                                       and rt.pd[q - 1].s > rt.pd[q].s):
                        nd_now = -1
                        break
                if nd_now == 0:
                    while nd_now < rt.dn and rt.pd[nd_now].t < W:
                        nd_now += 1
                else:
                    nd_now = 0
                    for q in range(rt.dn):
                        if rt.pd[q].t < W:
                            if q != nd_now:
                                _pend_swap(rt.pd, q, nd_now)
                            nd_now += 1
                    if nd_now > 1:
                        qsort(rt.pd, nd_now, sizeof(nc_pend), nc_pend_cmp)
                q = 0
                while q < nd_now and not c.err:
                    ta = rt.pd[q].t
                    ng = 0
                    while q < nd_now and rt.pd[q].t == ta:
                        row = rt.pd[q].s
                        q += 1
                        if ng == gcap:
                            gcap *= 2
                            tmp = realloc(grows, gcap * sizeof(int64_t))
                            if tmp == NULL:
                                c.err = 1
                                break
                            grows = <int64_t *> tmp
                        grows[ng] = row
                        ng += 1
                    if c.err:
                        break
                    # a spike reaches each core as its own short row (~100 targets) stored apart
                    # from the others, so the start of every row would miss the cache: a
                    # prefetch pipeline over the coming arrivals (row pointers 16 places on,
                    # targets and weights 8 on)
                    if q + 16 < nd_now:
                        NC_PREFETCH(<void *> &xindptr[rt.pd[q + 16].s])
                    if q + 8 < nd_now:
                        s0 = xindptr[rt.pd[q + 8].s]
                        s1 = xindptr[rt.pd[q + 8].s + 1]
                        while s0 < s1:
                            NC_PREFETCH(<void *> &xindices[s0])
                            NC_PREFETCH(<void *> &xweights[s0])
                            s0 += 16
                    if hom:
                        _deliver_h(&c, xindptr, xindices, xweights, grows, ng, ta, T, hthr, hw, hir)
                    elif fast:
                        _deliver_fast(&c, xindptr, xindices, xweights, grows, ng, ta, T)
                    else:
                        _deliver_general(&c, xindptr, xindices, xweights, grows, ng, ta)
                # drop the delivered ones (the rest keep their order: sorted again when due)
                if nd_now > 0:
                    memmove(rt.pd, rt.pd + nd_now, (rt.dn - nd_now) * sizeof(nc_pend))
                    rt.dn -= nd_now
            # 1. deliver the arrivals of [T, W) in time order, one instant at a time (a merge
            #    over the delay classes; equal times: lower delay class, then log order)
            best = -1
            best_ta = W
            for j in range(K if not routed else 0):
                if ptr[j] < log_n:
                    ta = log_t[ptr[j]] + delays[j]
                    if ta < best_ta:
                        best_ta = ta
                        best = j
            while best >= 0 and not c.err:
                ta = best_ta
                ng = 0
                while best >= 0 and best_ta == ta:
                    p = ptr[best]
                    ptr[best] = p + 1
                    row = best * n + log_id[p]
                    if ng == gcap:
                        gcap *= 2
                        tmp = realloc(grows, gcap * sizeof(int64_t))
                        if tmp == NULL:
                            c.err = 1
                            break
                        grows = <int64_t *> tmp
                    grows[ng] = row
                    ng += 1
                    c.cnt[C_REC] += indptr[row + 1] - indptr[row]
                    best = -1
                    best_ta = W
                    for j in range(K):
                        if ptr[j] < log_n:
                            tb = log_t[ptr[j]] + delays[j]
                            if tb < best_ta:
                                best_ta = tb
                                best = j
                if c.err:
                    break
                if hom:
                    _deliver_h(&c, &indptr[0], &indices[0], &weights[0], grows, ng, ta, T, hthr, hw, hir)
                elif fast:
                    _deliver_fast(&c, &indptr[0], &indices[0], &weights[0], grows, ng, ta, T)
                else:
                    _deliver_general(&c, &indptr[0], &indices[0], &weights[0], grows, ng, ta)
            # 2. every neuron to W (own inputs < W, drift spikes < W), then rebase the frame
            wend = nextafter(W, -INFINITY)
            f = exp(-(W - T) * c.inv_tau0)
            if hom:
                for i in range(n):
                    if c.hot[i].next_in <= wend:
                        c.cnt[C_EXT_DISC] += _adv_h(&c, &c.hot[i], i, wend, T, c.inv_tau0, hthr, hw, hir)
                    c.hot[i].u *= f
            for i in range(n if not hom else 0):
                nd = &c.nr[i]
                if nd.next_in <= wend:
                    if fast:
                        c.cnt[C_EXT_DISC] += _adv_fast(&c, nd, i, wend, T, c.inv_tau0)
                    else:
                        _advance(&c, nd, i, wend)
                if gen:
                    _gdrift(&c, i, W, 1)
                elif nd.thr < 0.0:
                    _drift_until(&c, i, W)
                if uniform_tau:
                    nd.u *= f
                else:
                    nd.u *= exp(-(W - T) * inv_tau[i])
            # 3. the window's spikes, sorted by (time, address), join the log
            log0 = log_n
            if c.wn > 0:
                qsort(c.wbuf, c.wn, sizeof(nc_spike), nc_spike_cmp)
                if log_n + c.wn > log_cap:
                    while log_n + c.wn > log_cap:
                        log_cap *= 2
                    tmp = realloc(log_t, log_cap * sizeof(double))
                    if tmp == NULL:
                        c.err = 1
                        break
                    log_t = <double *> tmp
                    tmp = realloc(log_id, log_cap * sizeof(int32_t))
                    if tmp == NULL:
                        c.err = 1
                        break
                    log_id = <int32_t *> tmp
                for k in range(c.wn):
                    log_t[log_n + k] = c.wbuf[k].t
                    log_id[log_n + k] = c.wbuf[k].id
                log_n += c.wn
                c.wn = 0
            # 4. routed: the window's spikes enter the router, which runs to W (arrivals at
            #    t < W are delivered at t + d >= T + D > W: in a later window)
            if routed:
                _rt_spikes(&rt, log_t + log0, log_id + log0, log_n - log0, &r_ncore[0], &r_ptr[0], W)
                if rt.err:
                    c.err = 1
            nwin += 1

    c.cnt[C_WINDOWS] = nwin
    for k in range(N_COUNTERS):
        counters[k] = c.cnt[k]
    times = np.empty(log_n, dtype=np.float64)
    ids = np.empty(log_n, dtype=np.int32)
    tv = times
    iv = ids
    for k in range(log_n):
        tv[k] = log_t[k]
        iv[k] = log_id[k]
    _free_state(&c, grows, log_t, log_id, ptr)
    if routed:
        _rt_finish(&rt, route, &r_deliv[0])
        _rt_release(&rt)
    if c.err:
        raise MemoryError("emulator: out of memory while growing the spike buffers")
    return times, ids
