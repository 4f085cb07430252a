# Neuron model "cuba": current-based LIF, exponential synaptic currents (included through the
# generated _plugins.pxi).  The method, and why no threshold crossing is missed, are in
# neurochip/models/cuba.py, whose plain Python functions (membrane, crossing, CubaNeurons) this
# file mirrors operation by operation: both backends compute the same doubles in the crossing
# search; the state between searches is advanced as described below (same values to a few ulp).
#
# Parameters (KernelInput.model_params, one row per neuron): k_exc, k_inh (1/tau_syn, 1/s),
# delta (1: a built-in LIF neuron with delta synapses), subtract (1: reset by subtraction).
# State: per neuron one row of CB_NSTATE doubles: a snapshot V, J_e, J_i (current / C, V/s) at
# time T0, the end of the hold, SAFE (a time before which the neuron cannot cross threshold
# without a new input, -1: not known yet), and the time-scaled frame below.  SAFE is first a
# lower bound that costs one division (_cb_safe_dt); when a neuron is brought past it, the exact
# search over a look-ahead (_cb_crossing) gives the crossing, kept until an excitatory input or
# a spike changes the state, or moves SAFE past the look-ahead (by the bound from the state
# at its end).  So a neuron costs one comparison at a window's end until its bound is reached.
# The neuron's own ref_until stays -inf for current-based neurons: their inputs are never
# discarded, they add to the currents during the hold.
#
# The time-scaled frame (docs/cuba.md).  With a = 1/tau_m, k_e, k_i = 1/tau_syn and a frame
# origin TF shared by all neurons, a free neuron's state is three coefficients:
#     V(t) - V_inf = AL e^{-a (t-TF)} + CE FE e^{-k_e (t-TF)} + CI FI e^{-k_i (t-TF)}
#     J_e(t) = FE e^{-k_e (t-TF)},  J_i(t) = FI e^{-k_i (t-TF)},  CE = 1/(a-k_e), CI = 1/(a-k_i)
# An input dJ at t adds dJ e^{k (t-TF)} to FE (or FI) and -C dJ e^{a (t-TF)} to AL (V is
# continuous), and V at t is three multiply-adds: the six factors e^{-+x (t-TF)} depend only on
# t and (a, k_e, k_i), so they are computed once per arrival instant and shared by all the
# targets with those constants (a two-slot cache, CbFactors).  The snapshot the crossing search
# starts from is the frame evaluated at the last input.  During the hold V is fixed and AL is
# not kept (FR = 0); it is set from V_reset at the hold's end.  TF moves forward (every
# coefficient rescaled) before the factors can grow past e^{CB_SPAN}.  Neurons with a = 0
# (perfect integrators), a close to k_e or k_i (the t e^{-a t} mode, and cancellation), and
# delta neurons keep the closed-form moves (FR = -1).

cdef enum:
    CB_KE = 0
    CB_KI = 1
    CB_DELTA = 2
    CB_SUB = 3
    CB_NPARAM = 4
    # the state row: 16 doubles, two cache lines (c.ms is 64-byte aligned): the frame, the
    # snapshot and SAFE in the first; the hold, the marks and the copies an input reads in the
    # second (an input reads nothing else per neuron)
    CB_AL = 0      # the frame coefficients (above)
    CB_FE = 1
    CB_FI = 2
    CB_V = 3
    CB_JE = 4
    CB_JI = 5
    CB_T0 = 6
    CB_SAFE = 7
    CB_REF = 8
    CB_FR = 9      # 1: the frame holds the neuron; 0: held, AL set at the hold's end; -1: no frame
    CB_XS = 10     # 1: SAFE is the crossing the exact search found from the present state
    CB_KB = 11     # the window of the neuron's bucket (-1: in none)
    CB_TL = 12     # 1: in the touched list (its entry there counts)
    CB_TOUCH = 13  # the instant of the neuron's last recurrent input (_cb_deliver_uniform)
    CB_VINF = 14   # copies of c.vinf[i] and c.vth[i] for the uniform delivery
    CB_VTH = 15
    CB_NSTATE = 16

# the frame's exponents k (t - TF) stay below CB_SPAN (+ one window): TF moves before
cdef double CB_SPAN = 100.0
# a neuron is kept in the frame if |a - k| >= CB_GAP max(a, k) for both currents (at most two
# bits lost to the cancellation between the modes)
cdef double CB_GAP = 0.25


include "cuba/closed_form.pxi"


# The window-end work: only the neurons touched in the window (their SAFE unknown, or, from
# the uniform delivery loop, known but not yet filed) and those whose SAFE falls in it.  A
# timing wheel of CB_WHEEL windows holds every neuron with a finite SAFE in the bucket of its
# window (SAFE further ahead: the wheel's last bucket, looked at again then); the touched
# ones are in one more list.  The lists are append-only arrays: a neuron
# that moves leaves its old entry behind, and an entry counts only if the neuron's row still
# names that list (CB_KB = the bucket's window, CB_TL = 1), so filing costs no access to other
# neurons.  A bucket is emptied when its window closes (it holds no other window's entries: a
# neuron is filed at most CB_WHEEL - 1 windows ahead).
cdef enum:
    CB_WHEEL = 1024


cdef enum:
    CB_AHEAD = 12      # targets prefetched ahead of the one delivered

cdef extern from *:
    """
    /* a prefetch gcc keeps: it drops __builtin_prefetch from this file's delivery loop */
    #define CB_PREFETCH(p) __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)(p)))
    """
    void CB_PREFETCH(const void *p) noexcept nogil


cdef struct CbFactors:
    double t, a, ke, ki, tf   # the key: instant, constants, frame origin
    double ea, ee, ei         # e^{-a (t - TF)}, e^{-k_e (t - TF)}, e^{-k_i (t - TF)}
    double ra, re, ri         # their inverses


cdef struct CbWheel:
    int32_t **bk       # CB_WHEEL + 1 lists: the buckets, then the touched list (CB_WHEEL)
    int64_t *bn        # their lengths
    int64_t *bc        # their capacities
    int err            # 1: out of memory while growing a list
    double inv_window  # 1 / the window's length
    double tf          # the frame's origin TF
    double kmax        # the largest rate (a, k_e, k_i) of a neuron in the frame
    int frame          # 1: the frame is used (0: every neuron on the closed-form moves)
    int uniform        # 1: every neuron in the frame, with the same a, k_e, k_i (_cb_deliver_uniform)
    double ua, uke, uki, uce, uci   # those constants, and 1 / (a - k_e), 1 / (a - k_i)
    int ureset         # 1: uniform, and every neuron with the same V_th, V_reset, t_ref, reset rule
    double uvth, uvreset, utref, usub   # those values (_cb_emit reads no per-neuron array)
    CbPow pw           # uniform: the shared rates' powers (commensurate: pw.b > 0; _cb_fx, the search)
    CbPow npw          # otherwise those of the rates (npa, npke, npki) of the last neuron searched
    double npa, npke, npki
    double *cc         # per neuron 1 / (a - k_e), 1 / (a - k_i) (framed neurons)
    # per row of c.indptr its synapses' common weight, NaN if they differ (_cb_row_weights;
    # NULL unless the uniform delivery runs)
    float *roww
    int has_delta      # some neurons are built-in delta-synapse LIF neurons
    CbFactors fx[2]    # slot 0: arrival instants and moves; slot 1: hold ends and rebases


cdef int _cb_alloc(Ctx *c) noexcept nogil:
    cdef CbWheel *w = <CbWheel *> calloc(1, sizeof(CbWheel))
    cdef int64_t i
    cdef double a, ke, ki
    c.mbuf = w
    if w == NULL:
        return 0
    w.bk = <int32_t **> calloc(CB_WHEEL + 1, sizeof(int32_t *))
    w.bn = <int64_t *> calloc(CB_WHEEL + 1, sizeof(int64_t))
    w.bc = <int64_t *> calloc(CB_WHEEL + 1, sizeof(int64_t))
    if w.bk == NULL or w.bn == NULL or w.bc == NULL:
        return 0
    w.cc = <double *> malloc((2 * c.n + 2) * sizeof(double))
    if w.cc == NULL:
        return 0
    w.err = 0
    w.tf = 0.0
    w.kmax = 0.0
    w.inv_window = 1.0 / c.window
    w.npa = -1.0   # (no neuron searched yet)
    w.has_delta = 0
    for i in range(c.n):
        if c.mp[i * CB_NPARAM + CB_DELTA] != 0.0:
            w.has_delta = 1
        if _cb_framed(c, i):
            a = c.inv_tau[i]
            ke = c.mp[i * CB_NPARAM + CB_KE]
            ki = c.mp[i * CB_NPARAM + CB_KI]
            w.kmax = max(w.kmax, max(a, max(ke, ki)))
    # one window must fit in the frame's span with room to spare
    w.frame = w.kmax > 0.0 and w.kmax * c.window <= 0.5 * CB_SPAN
    w.uniform = w.frame and c.n > 0
    if w.uniform:
        w.ua = c.inv_tau[0]
        w.uke = c.mp[CB_KE]
        w.uki = c.mp[CB_KI]
        w.uce = 1.0 / (w.ua - w.uke)   # as _cb_init computes w.cc
        w.uci = 1.0 / (w.ua - w.uki)
        _cb_pow_of(w.ua, w.uke, w.uki, &w.pw)
    for i in range(c.n):
        if not w.uniform:
            break
        if (not _cb_framed(c, i) or c.inv_tau[i] != w.ua or c.mp[i * CB_NPARAM + CB_KE] != w.uke
                or c.mp[i * CB_NPARAM + CB_KI] != w.uki):
            w.uniform = 0
    if not w.uniform:
        w.pw.b = 0.0   # (_cb_fx's constants may differ per neuron)
    w.ureset = w.uniform
    if w.ureset:
        w.uvth = c.vth[0]
        w.uvreset = c.vreset[0]
        w.utref = c.tref[0]
        w.usub = c.mp[CB_SUB]
    for i in range(c.n):
        if not w.ureset:
            break
        if (c.vth[i] != w.uvth or c.vreset[i] != w.uvreset or c.tref[i] != w.utref
                or c.mp[i * CB_NPARAM + CB_SUB] != w.usub):
            w.ureset = 0
    for i in range(2):
        w.fx[i].t = -INFINITY
    if w.uniform and not w.has_delta and not c.own_inputs:
        # the uniform delivery will run: the rows' common weights (only it reads them)
        w.roww = <float *> malloc((c.nrows + 1) * sizeof(float))
        if w.roww == NULL:
            return 0
        if _cb_row_weights(c, w.roww):
            c.pf_weights = 0   # _cb_deliver_uniform reads no weight of the main table
        # coming arrivals' first targets prefetched when the state rows outgrow a typical L2 (1 MiB:
        # CUBA +6 to +13 % in most A/Bs at 40,000 neurons, -1 % at 4,000; docs/performance.md)
        c.pf_state = c.n * CB_NSTATE * sizeof(double) > (1 << 20)
        c.pf_row = w.roww
    return 1


cdef inline int _cb_framed(Ctx *c, int64_t i) noexcept nogil:
    """Neuron i can be kept in the frame: a CUBA neuron with a > 0 and a well apart from k_e, k_i."""
    cdef const double *p = c.mp + i * CB_NPARAM
    cdef double a = c.inv_tau[i], ke = p[CB_KE], ki = p[CB_KI]
    return (p[CB_DELTA] == 0.0 and a > 0.0 and fabs(a - ke) >= CB_GAP * max(a, ke)
            and fabs(a - ki) >= CB_GAP * max(a, ki))


cdef void _cb_release(Ctx *c) noexcept nogil:
    cdef CbWheel *w = <CbWheel *> c.mbuf
    cdef int k
    if w != NULL:
        if w.bk != NULL:
            for k in range(CB_WHEEL + 1):
                free(w.bk[k])
        free(w.bk)
        free(w.cc)
        free(w.roww)
        free(w.bn)
        free(w.bc)
        free(w)
    c.mbuf = NULL


cdef void _cb_grow(CbWheel *w, int32_t b) noexcept nogil:
    cdef int64_t cap = 2 * w.bc[b] if w.bc[b] > 0 else 256
    cdef int32_t *p = <int32_t *> realloc(w.bk[b], cap * sizeof(int32_t))
    if p == NULL:
        w.err = 1
        w.bn[b] = 0   # the list is lost; the run stops with MemoryError at the window's end
        return
    w.bk[b] = p
    w.bc[b] = cap


cdef inline void _cb_push(CbWheel *w, int32_t b, int64_t i) noexcept nogil:
    if w.bn[b] == w.bc[b]:
        _cb_grow(w, b)
        if w.err:
            return
    w.bk[b][w.bn[b]] = <int32_t> i
    w.bn[b] += 1


cdef inline double *_cb_s(Ctx *c, int64_t i) noexcept nogil:
    return c.ms + i * CB_NSTATE


cdef inline const double *_cb_p(Ctx *c, int64_t i) noexcept nogil:
    return c.mp + i * CB_NPARAM


cdef inline double _cb_ce(Ctx *c, int64_t i) noexcept nogil:
    return (<CbWheel *> c.mbuf).cc[2 * i]


cdef inline double _cb_ci(Ctx *c, int64_t i) noexcept nogil:
    return (<CbWheel *> c.mbuf).cc[2 * i + 1]


cdef inline void _cb_touch(Ctx *c, int64_t i) noexcept nogil:
    """The state of neuron i changed: its SAFE is unknown, it is looked at at the window's end."""
    cdef double *s = _cb_s(c, i)
    s[CB_SAFE] = -1.0
    s[CB_XS] = 0.0
    s[CB_KB] = -1.0
    if s[CB_TL] == 0.0:
        s[CB_TL] = 1.0
        _cb_push(<CbWheel *> c.mbuf, CB_WHEEL, i)


cdef inline void _cb_file(Ctx *c, int64_t i, int64_t kmin) noexcept nogil:
    """Neuron i (SAFE known) into the bucket of SAFE's window, or of window kmin if that is later:
    kmin = the current window while it is delivered (it is closed after), the next one after
    the close.  A SAFE within 1e-9 of a window's start goes one window earlier, so that
    rounding never files a neuron after the window that must look at it."""
    cdef CbWheel *w = <CbWheel *> c.mbuf
    cdef double *s = _cb_s(c, i)
    cdef double sv = s[CB_SAFE]
    s[CB_TL] = 0.0
    if sv == INFINITY:
        s[CB_KB] = -1.0
        return
    _cb_file_x(c, w, i, s, sv * w.inv_window, kmin)


cdef inline void _cb_file_x(Ctx *c, CbWheel *w, int64_t i, double *s, double x, int64_t kmin) noexcept nogil:
    """_cb_file's filing, from x = SAFE / window (SAFE finite)."""
    cdef int64_t k
    if x >= <double> (c.kwin + CB_WHEEL - 1):
        k = c.kwin + CB_WHEEL - 1
    else:
        k = <int64_t> x
        if x - <double> k < 1e-9:
            k -= 1
        if k < kmin:
            k = kmin
    if s[CB_KB] == <double> k:
        return   # its entry there still counts
    s[CB_KB] = <double> k
    _cb_push(w, <int32_t> (k % CB_WHEEL), i)


cdef inline CbFactors *_cb_fx(CbWheel *w, int slot, double t, double a, double ke, double ki) noexcept nogil:
    """The frame's factors at t for the constants (a, k_e, k_i), from the cache's slot (on a
    uniform network with commensurate rates: one exp, one division, and their powers)."""
    cdef CbFactors *f = &w.fx[slot]
    cdef double x, y
    if f.t != t or f.a != a or f.ke != ke or f.ki != ki or f.tf != w.tf:
        x = t - w.tf
        if w.pw.b > 0.0:
            y = exp(-w.pw.b * x)
            _cb_pows(&w.pw, y, &f.ea, &f.ee, &f.ei)
            _cb_pows(&w.pw, 1.0 / y, &f.ra, &f.re, &f.ri)
        else:
            f.ea = exp(-a * x)
            f.ee = exp(-ke * x)
            f.ei = exp(-ki * x)
            f.ra = 1.0 / f.ea
            f.re = 1.0 / f.ee
            f.ri = 1.0 / f.ei
        f.t = t
        f.a = a
        f.ke = ke
        f.ki = ki
        f.tf = w.tf
    return f


cdef inline void _cb_consts(Ctx *c, CbWheel *w, int64_t i, const double *p, double *a, double *ke, double *ki,
                            double *ce, double *ci) noexcept nogil:
    """A framed neuron's a, k_e, k_i, 1 / (a - k_e), 1 / (a - k_i): on a uniform network the shared
    ones (the same doubles, read from no per-neuron array: on large networks those miss the
    cache)."""
    if w.uniform:
        a[0] = w.ua
        ke[0] = w.uke
        ki[0] = w.uki
        ce[0] = w.uce
        ci[0] = w.uci
    else:
        a[0] = c.inv_tau[i]
        ke[0] = p[CB_KE]
        ki[0] = p[CB_KI]
        ce[0] = _cb_ce(c, i)
        ci[0] = _cb_ci(c, i)


cdef inline void _cb_unhold(Ctx *c, CbWheel *w, int64_t i, double *s, const double *p) noexcept nogil:
    """The frame's AL at the hold's end (V = the held value there): the neuron is free again."""
    cdef double a, ke, ki, ce, ci
    _cb_consts(c, w, i, p, &a, &ke, &ki, &ce, &ci)
    cdef CbFactors *f = _cb_fx(w, 1, s[CB_REF], a, ke, ki)
    s[CB_AL] = (s[CB_V] - s[CB_VINF] - ce * (s[CB_FE] * f.ee) - ci * (s[CB_FI] * f.ei)) * f.ra
    s[CB_FR] = 1.0


cdef inline CbFactors *_cb_frame_move(Ctx *c, CbWheel *w, int64_t i, double *s, const double *p,
                                      double t) noexcept nogil:
    """The snapshot of a framed neuron at t (> T0): the frame evaluated there (V only if free)."""
    cdef CbFactors *f
    cdef double je, ji, a, ke, ki, ce, ci
    cdef int held = t <= s[CB_REF]   # at the hold's end V is still the held value
    if t >= s[CB_REF] and s[CB_FR] == 0.0:
        _cb_unhold(c, w, i, s, p)
    _cb_consts(c, w, i, p, &a, &ke, &ki, &ce, &ci)
    f = _cb_fx(w, 0, t, a, ke, ki)
    je = s[CB_FE] * f.ee
    ji = s[CB_FI] * f.ei
    if not held:
        s[CB_V] = s[CB_VINF] + (s[CB_AL] * f.ea + ce * je + ci * ji)
    s[CB_JE] = je
    s[CB_JI] = ji
    s[CB_T0] = t
    return f


cdef void _cb_move(Ctx *c, int64_t i, double t) noexcept nogil:
    """State to t (>= T0): the hold first (V fixed, currents decay), then the free part."""
    cdef double *s = _cb_s(c, i)
    cdef const double *p = _cb_p(c, i)
    cdef double u, dt, de, di
    if not t > s[CB_T0]:
        return
    if s[CB_FR] >= 0.0:
        _cb_frame_move(c, <CbWheel *> c.mbuf, i, s, p, t)
        return
    if s[CB_T0] < s[CB_REF]:
        u = t if t < s[CB_REF] else s[CB_REF]
        dt = u - s[CB_T0]
        s[CB_JE] *= exp(-p[CB_KE] * dt)
        s[CB_JI] *= exp(-p[CB_KI] * dt)
        s[CB_T0] = u
    if t > s[CB_T0]:
        dt = t - s[CB_T0]
        s[CB_V] = _cb_vdecay(c.inv_tau[i], c.vinf[i], s[CB_V], s[CB_JE], s[CB_JI], p[CB_KE], p[CB_KI], dt,
                             &de, &di)
        s[CB_JE] *= de
        s[CB_JI] *= di
        s[CB_T0] = t


cdef inline void _cb_input(Ctx *c, int64_t i, double *s, const double *p, double w) noexcept nogil:
    """A synaptic input of weight w to a CUBA neuron whose snapshot is at the input's time T0:
    the current of its sign jumps (snapshot and frame).  An excitatory input makes SAFE unknown;
    an inhibitory one leaves it: it lowers V at every later time, so it cannot bring the
    crossing earlier, and SAFE (a lower bound, or a crossing that the search finds again from
    the new state when SAFE is reached) stays right."""
    cdef CbWheel *wb
    cdef CbFactors *f
    cdef double dj
    if s[CB_FR] >= 0.0:
        wb = <CbWheel *> c.mbuf
        f = _cb_fx(wb, 0, s[CB_T0], c.inv_tau[i], p[CB_KE], p[CB_KI])
        if w >= 0.0:
            dj = w * p[CB_KE]
            s[CB_JE] += dj
            s[CB_FE] += dj * f.re
            if s[CB_FR] > 0.0:
                s[CB_AL] -= _cb_ce(c, i) * dj * f.ra
        else:
            dj = w * p[CB_KI]
            s[CB_JI] += dj
            s[CB_FI] += dj * f.ri
            if s[CB_FR] > 0.0:
                s[CB_AL] -= _cb_ci(c, i) * dj * f.ra
    elif w >= 0.0:
        s[CB_JE] += w * p[CB_KE]
    else:
        s[CB_JI] += w * p[CB_KI]
    s[CB_XS] = 0.0
    if w >= 0.0:
        _cb_settle(c, i, s)


cdef inline void _cb_settle(Ctx *c, int64_t i, double *s) noexcept nogil:
    """After an excitatory input at T0 (the snapshot): SAFE from the new state right away (the
    positive currents at T0 bound those at the hold's end, if held), and the neuron filed in
    SAFE's bucket: the window's end need not look at it unless SAFE falls in the window."""
    cdef double start = s[CB_T0] if s[CB_T0] > s[CB_REF] else s[CB_REF]
    if s[CB_V] >= c.vth[i]:
        s[CB_SAFE] = start
    else:
        s[CB_SAFE] = start + _cb_safe_dt(c.inv_tau[i], c.vinf[i], c.vth[i], s[CB_V], s[CB_JE], s[CB_JI],
                                         _cb_p(c, i)[CB_KE], _cb_p(c, i)[CB_KI])
    # a bucket no later than SAFE's window stays right: the neuron is looked at there and filed
    # again then (a later input usually moves SAFE again before that)
    if s[CB_KB] >= 0.0 and s[CB_SAFE] * (<CbWheel *> c.mbuf).inv_window >= s[CB_KB] + 1e-6:
        return
    _cb_file(c, i, c.kwin)


cdef inline void _cb_refit(Ctx *c, int64_t i, double *s, const double *p) noexcept nogil:
    """A free framed neuron's AL from its snapshot at T0 (after V_inf changed)."""
    cdef CbFactors *f
    if s[CB_FR] > 0.0:
        f = _cb_fx(<CbWheel *> c.mbuf, 0, s[CB_T0], c.inv_tau[i], p[CB_KE], p[CB_KI])
        s[CB_AL] = (s[CB_V] - c.vinf[i] - _cb_ce(c, i) * s[CB_JE] - _cb_ci(c, i) * s[CB_JI]) * f.ra


cdef void _cb_emit(Ctx *c, int64_t i, double t) noexcept nogil:
    cdef double *s = _cb_s(c, i)
    cdef const double *p = _cb_p(c, i)
    cdef CbWheel *w = <CbWheel *> c.mbuf
    cdef int shared = w.ureset   # the shared values (the same doubles; no delta neuron then)
    cdef double sub = w.usub if shared else p[CB_SUB]
    cdef double vth = w.uvth if shared else c.vth[i]
    cdef double vreset = w.uvreset if shared else c.vreset[i]
    cdef double tref = w.utref if shared else c.tref[i]
    _cb_move(c, i, t)
    _record(c, i, t)
    if sub != 0.0:
        s[CB_V] -= vth - vreset
    else:
        s[CB_V] = vreset
    s[CB_REF] = t + tref
    if s[CB_FR] > 0.0:
        s[CB_FR] = 0.0
    _cb_touch(c, i)
    if not shared and p[CB_DELTA] != 0.0:
        c.nr[i].ref_until = s[CB_REF]


cdef void _cb_init(Ctx *c, int64_t i) noexcept nogil:
    cdef double *s = _cb_s(c, i)
    cdef const double *p = _cb_p(c, i)
    cdef CbWheel *w = <CbWheel *> c.mbuf
    cdef double a = c.inv_tau[i]
    s[CB_V] = c.v0[i]
    s[CB_JE] = 0.0
    s[CB_JI] = 0.0
    s[CB_T0] = 0.0
    s[CB_REF] = -INFINITY
    s[CB_FE] = 0.0
    s[CB_FI] = 0.0
    s[CB_KB] = -1.0
    s[CB_TL] = 0.0
    s[CB_TOUCH] = -1.0
    s[CB_VINF] = c.vinf[i]
    s[CB_VTH] = c.vth[i]
    if w.frame and _cb_framed(c, i):
        s[CB_FR] = 1.0
        w.cc[2 * i] = 1.0 / (a - p[CB_KE])
        w.cc[2 * i + 1] = 1.0 / (a - p[CB_KI])
        s[CB_AL] = s[CB_V] - c.vinf[i]  # TF = 0
    else:
        s[CB_FR] = -1.0
    _cb_touch(c, i)


cdef int _cb_drift(Ctx *c, int64_t i, double te, int strict) noexcept nogil:
    """Emit the threshold crossings at times <= te (< te if strict); 1 if a delta neuron is
    held at te afterwards."""
    cdef double *s = _cb_s(c, i)
    cdef const double *p = _cb_p(c, i)
    cdef CbWheel *w = <CbWheel *> c.mbuf
    cdef double start, dt, ts, h, a, ke, ki, beyond
    cdef double *safe = s + CB_SAFE
    cdef const CbPow *pw = &w.pw
    cdef int delta = 0
    # the constants from the uniform ones, V_th and V_inf from the row's copies: no other
    # per-neuron array is read (they miss the cache on large networks)
    if w.uniform:
        a = w.ua
        ke = w.uke
        ki = w.uki
    else:
        a = c.inv_tau[i]
        ke = p[CB_KE]
        ki = p[CB_KI]
        delta = p[CB_DELTA] != 0.0
    while not c.err:
        if safe[0] > te or (strict and safe[0] >= te):
            break
        start = s[CB_T0] if s[CB_T0] > s[CB_REF] else s[CB_REF]
        if start > te or (strict and start >= te):
            if safe[0] < 0.0:
                # held past te (after a spike): SAFE from the hold's end, as _cb_settle finds it,
                # so that the window's end does not look at the neuron again until then
                safe[0] = start if s[CB_V] >= s[CB_VTH] else start + _cb_safe_dt(
                    a, s[CB_VINF], s[CB_VTH], s[CB_V], s[CB_JE], s[CB_JI], ke, ki)
            break
        if s[CB_XS] != 0.0:
            # the crossing found before from this very state: no search again
            ts = safe[0]
            s[CB_XS] = 0.0
            c.cnt[C_DRIFT] += 1
            _cb_emit(c, i, ts)
            continue
        _cb_move(c, i, start)
        if s[CB_V] >= s[CB_VTH]:
            ts = start
        elif safe[0] < 0.0:
            # not known: the cheap bound first
            safe[0] = start + _cb_safe_dt(a, s[CB_VINF], s[CB_VTH], s[CB_V], s[CB_JE], s[CB_JI], ke, ki)
            continue
        else:
            # past the bound: the exact search over the stretch to te and a look-ahead of
            # about the neuron's fastest time constant (1 / (k_e + k_i + a): on the CUBA
            # benchmark shorter and longer look-aheads were slower); the crossing, if there is one
            # there, is kept until the state changes, else SAFE moves past the end of the stretch
            # (by the cheap bound from the state there)
            h = (te - start) + 1.0 / (ke + ki + a)
            if not w.uniform:
                if a != w.npa or ke != w.npke or ki != w.npki:
                    _cb_pow_of(a, ke, ki, &w.npw)
                    w.npa = a
                    w.npke = ke
                    w.npki = ki
                pw = &w.npw
            dt = _cb_crossing(a, s[CB_VINF], s[CB_VTH], s[CB_V], s[CB_JE], s[CB_JI], ke, ki, h, pw, &beyond)
            if dt == INFINITY:
                safe[0] = start + h + beyond
                continue
            ts = start + dt
            if ts > te or (strict and ts >= te):
                if ts > start:
                    safe[0] = ts
                    s[CB_XS] = 1.0
                else:
                    safe[0] = nextafter(start, INFINITY)
                break
        c.cnt[C_DRIFT] += 1
        _cb_emit(c, i, ts)
    return delta and te < s[CB_REF]


cdef int _cb_apply(Ctx *c, int64_t i, double te, double w) noexcept nogil:
    cdef double *s = _cb_s(c, i)
    cdef const double *p = _cb_p(c, i)
    if _cb_drift(c, i, te, 0):
        return 0
    _cb_move(c, i, te)
    if p[CB_DELTA] != 0.0:
        _cb_touch(c, i)
        s[CB_V] += w
        if s[CB_V] >= c.vth[i]:
            _cb_emit(c, i, te)
        return 1
    _cb_input(c, i, s, p, w)
    return 1


cdef void _cb_step(Ctx *c, int64_t i, double te, double drive) noexcept nogil:
    cdef double *s = _cb_s(c, i)
    _cb_drift(c, i, te, 0)
    _cb_move(c, i, te)
    c.vinf[i] = drive
    s[CB_VINF] = drive
    _cb_refit(c, i, s, _cb_p(c, i))
    _cb_touch(c, i)


cdef int _cb_catch_up(Ctx *c, int64_t i, double ta) noexcept nogil:
    if _cb_drift(c, i, ta, 0):
        return 1
    _cb_move(c, i, ta)
    return 0


cdef void _cb_add(Ctx *c, int64_t i, double ta, double w) noexcept nogil:
    cdef double *s = _cb_s(c, i)
    cdef const double *p = _cb_p(c, i)
    if p[CB_DELTA] != 0.0:
        _cb_touch(c, i)
        s[CB_V] += w
    else:
        _cb_input(c, i, s, p, w)


cdef int _cb_above(Ctx *c, int64_t i, double ta) noexcept nogil:
    cdef double *s = _cb_s(c, i)
    return c.mp[i * CB_NPARAM + CB_DELTA] != 0.0 and ta >= s[CB_REF] and s[CB_V] >= c.vth[i]


include "cuba/window_end.pxi"
include "cuba/delivery.pxi"


_register_model("cuba", ModelHooks(
    n_params=CB_NPARAM, n_state=CB_NSTATE, init=_cb_init, emit=_cb_emit, apply=_cb_apply, step=_cb_step,
    catch_up=_cb_catch_up, add=_cb_add, above=_cb_above, close=_cb_close, alloc=_cb_alloc,
    release=_cb_release, deliver=_cb_deliver))
