# The CUBA model's own delivery of an arrival instant (the plug-in interface's optional
# `deliver` hook), included by emulator/models/cuba.pxi after the model's state, wheel and drift:
# one pass over the targets when no neuron has own inputs or delta synapses, and, when every
# neuron also shares tau_m, tau_e and tau_i, one loop with the frame's factors taken once per
# instant (docs/cuba.md, "The time-scaled frame").


cdef inline void _cb_prefetch(Ctx *c, CbWheel *w, int64_t i) noexcept nogil:
    """The lines an input to neuron i reads: its state row, its instant, constants, wheel links."""
    cdef double *s = _cb_s(c, i)
    CB_PREFETCH(s)
    CB_PREFETCH(s + CB_NSTATE - 1)
    CB_PREFETCH(&c.touch[i])
    CB_PREFETCH(&c.vinf[i])
    CB_PREFETCH(&c.vth[i])
    CB_PREFETCH(&c.inv_tau[i])
    CB_PREFETCH(c.mp + i * CB_NPARAM)


cdef inline int _cb_reserve(CbWheel *w, int64_t m) noexcept nogil:
    """Room for m more entries in the touched list; 0 when out of memory."""
    while w.bn[CB_WHEEL] + m > w.bc[CB_WHEEL] and not w.err:
        _cb_grow(w, CB_WHEEL)
    return not w.err


cdef extern from "<math.h>":
    const float NAN


cdef int _cb_row_weights(Ctx *c, float *roww) noexcept nogil:
    """Per row of the synapse table, the weight all its synapses share (NaN if they differ, or
    the row is empty): on such a row the uniform delivery reads no weight array (on networks
    like CUBA's every row has one weight; at 40,000 neurons the weights are 12.8 MB).  The weights
    are compared bit for bit (0.0 and -0.0 differ), so the row's weight is each synapse's own.
    1 if every row that has synapses has one weight."""
    cdef int64_t r, k
    cdef float x
    cdef int every = 1
    cdef const int32_t *bits = <const int32_t *> c.weights
    for r in range(c.nrows):
        x = NAN
        if c.indptr[r + 1] > c.indptr[r]:
            x = c.weights[c.indptr[r]]
            for k in range(c.indptr[r] + 1, c.indptr[r + 1]):
                if bits[k] != bits[c.indptr[r]]:
                    x = NAN
                    break
            if x != x:
                every = 0
        roww[r] = x
    return every


cdef inline int64_t _cb_settle_u(CbWheel *w, int64_t i, double *s, int32_t *tl, int64_t n) noexcept nogil:
    """_cb_settle with the uniform constants (the same operations, the same doubles), and no
    branch on the filing: a neuron whose new SAFE falls before the window of its bucket (about
    one input in nine, unpredictable: a mispredicted branch cost 15 % of the loop) is appended
    to the touched list without a branch (entry always written, length advanced by 0 or 1),
    and filed at the window's end (_cb_close), where the touched list is walked first.
    The filing decision does not wait for the bound's division: SAFE = start + r (1 - 1e-12),
    r = num / den (den > 0), is before the bucket's window (+ 1e-6 of a window) when
    num (1 - 1e-12) / window < (kb + 1e-6 - start / window) den, the same comparison up to
    rounding, well inside the margin of 1e-6 of a window.  The touched list's length (and so
    the next input's) then depends on a few multiplications, not on the division's latency.
    Returns the touched list's new length."""
    cdef double start = s[CB_T0] if s[CB_T0] > s[CB_REF] else s[CB_REF]
    cdef double kb = s[CB_KB], a = w.ua, jp, q, nn, num, den, r, x
    cdef int64_t fresh
    if not s[CB_V] >= s[CB_VTH]:
        # _cb_safe_dt (a > 0 for every framed neuron) written out, its ratio kept apart
        jp = _cb_jplus(s[CB_JE], s[CB_JI], w.uke, w.uki)
        q = a * (s[CB_VINF] - s[CB_VTH]) + jp
        if q > 0.0:
            nn = a * (s[CB_VTH] - s[CB_V])
            num = _cb_pade_num(nn, q)
            den = _cb_pade_den(a, nn, q)
            r = num / den
            if r >= 0.0:
                s[CB_SAFE] = start + r * (1.0 - 1e-12)
                # a bucket no later than SAFE's window stays right (as _cb_settle); else to
                # the touched list if not there already
                fresh = (((kb < 0.0) | (not (num * (1.0 - 1e-12) * w.inv_window
                                             >= (kb + 1e-6 - start * w.inv_window) * den)))
                         & (s[CB_TL] == 0.0))
                tl[n] = <int32_t> i
                s[CB_TL] += <double> fresh
                return n + fresh
            s[CB_SAFE] = start   # overflow (inf / inf): no bound, the search decides
        else:
            s[CB_SAFE] = INFINITY
    else:
        s[CB_SAFE] = start
    x = s[CB_SAFE] * w.inv_window
    fresh = ((kb < 0.0) | (x < kb + 1e-6)) & (s[CB_TL] == 0.0)
    tl[n] = <int32_t> i
    s[CB_TL] += <double> fresh
    return n + fresh


cdef void _cb_deliver_uniform(Ctx *c, CbWheel *w, const int64_t *indptr, const int32_t *indices,
                              const float *weights, const int64_t *rows, int64_t nrows,
                              double ta) noexcept nogil:
    """_cb_deliver when every neuron is in the frame with the same constants: the factors at ta
    once for the instant, and _cb_frame_move, _cb_input and _cb_settle written out on them
    (operation by operation as there: the same doubles)."""
    cdef CbFactors *f = _cb_fx(w, 0, ta, w.ua, w.uke, w.uki)
    cdef double ea = f.ea, ee = f.ee, ei = f.ei, ra = f.ra, re = f.re, ri = f.ri
    cdef double ke = w.uke, ki = w.uki, ce = w.uce, ci = w.uci, je, ji, dj, wt
    cdef int64_t g, k, k0, k1, i, n
    cdef double *s
    cdef int32_t *tl
    cdef float rw
    # the main table's rows have their common weight (routed sub-rows: none known)
    cdef int main = weights == c.weights
    for g in range(nrows):
        k0 = indptr[rows[g]]
        k1 = indptr[rows[g] + 1]
        rw = w.roww[rows[g]] if main else NAN
        # room in the touched list for one entry per target (each may be appended)
        if not _cb_reserve(w, k1 - k0):
            return
        tl = w.bk[CB_WHEEL]
        n = w.bn[CB_WHEEL]
        for k in range(k0, k0 + CB_AHEAD if k0 + CB_AHEAD < k1 else k1):
            _cb_prefetch_u(c, indices[k])
        for k in range(k0, k1):
            if k + CB_AHEAD < k1:
                _cb_prefetch_u(c, indices[k + CB_AHEAD])
            i = indices[k]
            s = _cb_s(c, i)
            if s[CB_TOUCH] != ta:
                s[CB_TOUCH] = ta
                if s[CB_SAFE] <= ta:
                    # a spike touches its neuron (appends to the touched list, may move it)
                    w.bn[CB_WHEEL] = n
                    _cb_drift(c, i, ta, 0)
                    if not _cb_reserve(w, k1 - k):
                        return
                    tl = w.bk[CB_WHEEL]
                    n = w.bn[CB_WHEEL]
                if ta > s[CB_T0]:
                    if ta >= s[CB_REF] and s[CB_FR] == 0.0:
                        _cb_unhold(c, w, i, s, _cb_p(c, i))
                    je = s[CB_FE] * ee
                    ji = s[CB_FI] * ei
                    if ta > s[CB_REF]:
                        s[CB_V] = s[CB_VINF] + (s[CB_AL] * ea + ce * je + ci * ji)
                    s[CB_JE] = je
                    s[CB_JI] = ji
                    s[CB_T0] = ta
            # the row's weight (a row of one weight reads no weight array)
            wt = rw if rw == rw else weights[k]
            s[CB_XS] = 0.0
            if wt >= 0.0:
                dj = wt * ke
                s[CB_JE] += dj
                s[CB_FE] += dj * re
                if s[CB_FR] > 0.0:
                    s[CB_AL] -= ce * dj * ra
                n = _cb_settle_u(w, i, s, tl, n)
            else:
                dj = wt * ki
                s[CB_JI] += dj
                s[CB_FI] += dj * ri
                if s[CB_FR] > 0.0:
                    s[CB_AL] -= ci * dj * ra
        w.bn[CB_WHEEL] = n


cdef inline void _cb_prefetch_u(Ctx *c, int64_t i) noexcept nogil:
    """The lines an input to neuron i reads on the uniform path: the two of its row (nothing else:
    the instant, V_inf and V_th are in the row's second line)."""
    cdef double *s = _cb_s(c, i)
    CB_PREFETCH(s)
    CB_PREFETCH(s + CB_NSTATE - 1)


cdef int _cb_deliver(Ctx *c, const int64_t *indptr, const int32_t *indices, const float *weights,
                     const int64_t *rows, int64_t nrows, double ta) noexcept nogil:
    """The spikes arriving at ta when no neuron has own inputs or delta synapses: the three passes
    of _deliver_general in one (no own inputs to advance first; no input is discarded, since a
    CUBA neuron's ref_until stays -inf; no threshold test after the instant, since an input
    only makes a current jump).  A neuron's crossings up to ta are emitted at its first input of
    the instant, as there.  0 (the general path) otherwise."""
    cdef CbWheel *w = <CbWheel *> c.mbuf
    cdef int64_t g, k, k0, k1, i
    cdef double *s
    if c.own_inputs or w.has_delta:
        return 0
    if w.uniform:
        _cb_deliver_uniform(c, w, indptr, indices, weights, rows, nrows, ta)
        return 1
    for g in range(nrows):
        k0 = indptr[rows[g]]
        k1 = indptr[rows[g] + 1]
        for k in range(k0, k0 + CB_AHEAD if k0 + CB_AHEAD < k1 else k1):
            _cb_prefetch(c, w, indices[k])
        for k in range(k0, k1):
            if k + CB_AHEAD < k1:
                _cb_prefetch(c, w, indices[k + CB_AHEAD])
            i = indices[k]
            s = _cb_s(c, i)
            if c.touch[i] != ta:
                c.touch[i] = ta
                if s[CB_SAFE] <= ta:
                    _cb_drift(c, i, ta, 0)
                if ta > s[CB_T0]:
                    if s[CB_FR] >= 0.0:
                        _cb_frame_move(c, w, i, s, _cb_p(c, i), ta)
                    else:
                        _cb_move(c, i, ta)
            _cb_input(c, i, s, _cb_p(c, i), weights[k])
    return 1
