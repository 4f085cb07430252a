# Delivery of the recurrent spikes arriving at one instant (included by _engine.pyx).
#
# Every path does the same three passes over the targets of the rows arriving at ta:
#   1. advance every target through its own inputs up to and including ta;
#   2. every non-refractory target receives its inputs (refractory ones are counted);
#   3. the threshold test, once all inputs of the instant are in (simultaneous inputs summed).
# The general path calls the neuron-model hooks (_models.pxi).  The two hot paths (frame LIF,
# one Poisson source, uniform tau, no suprathreshold drive) are one source, specialised by
# Cython's fused type ``hot_t`` at compile time: nc_neuron (64 bytes, per-neuron threshold,
# rate and weight: PATH_FAST) or nc_hot (32 bytes, threshold, rate and weight shared and kept
# in the Ctx: PATH_HOM).  Their state stays in registers across a neuron's own inputs.

ctypedef fused hot_t:
    nc_neuron
    nc_hot


cdef void _hot_emit(Ctx *c, hot_t *h, int64_t i, double t) noexcept nogil:
    """Spike on a hot path (the frame LIF with a uniform tau: _lif_emit)."""
    _record(c, i, t)
    h.ref_until = t + c.tref[i]
    h.u = (c.vreset[i] - c.vinf[i]) * exp((h.ref_until - c.T) * c.inv_tau0)


cdef inline int64_t _hot_advance(Ctx *c, hot_t *h, int64_t i, double tl, double T, double it,
                                 double thr, double w, double ir) noexcept nogil:
    """_advance on a hot path: returns the number of refractory discards.  thr, w and ir are
    the shared V_th - V_inf, Poisson weight and 1 / rate (PATH_HOM; PATH_FAST reads its
    neuron's own).  The caller has checked h.next_in <= tl."""
    cdef double te = h.next_in, u = h.u, ref = h.ref_until, e, tn
    cdef uint64_t rng = h.rng
    cdef int64_t k = 0, disc = 0
    if hot_t is nc_neuron:
        thr = h.thr
        w = h.w_pois
        ir = h.inv_rate
    while te <= tl:
        k += 1
        tn = te + nc_exp_rand(&rng) * ir
        if te >= ref:
            e = nc_exp_small((te - T) * it)
            u += w * e
            if u >= thr * e:
                h.u = u
                _hot_emit(c, h, i, te)
                u = h.u
                ref = h.ref_until
        else:
            disc += 1
        te = tn
    h.u = u
    h.rng = rng
    h.next_in = te
    if hot_t is nc_neuron:
        h.next_pois = te
    c.cnt[C_EXT] += k
    return disc


cdef inline double _hot_thre(hot_t *h, double thre, double e) noexcept nogil:
    """The threshold in the frame at the instant: shared (PATH_HOM) or the neuron's."""
    if hot_t is nc_hot:
        return thre
    else:
        return h.thr * e


cdef void _deliver_hot(Ctx *c, hot_t *hs, const int64_t *indptr, const int32_t *indices,
                       const float *weights, const int64_t *rows, int64_t nrows, double ta) noexcept nogil:
    """The spikes arriving at one instant ta (rows), hot path.  Pass 1 collects, per row and
    branch-free, the targets with own inputs due at or before ta, then advances them."""
    cdef double T = c.T, it = c.inv_tau0
    cdef double e = nc_exp_small((ta - T) * it)
    cdef double thr = c.hthr, w = c.hw, ir = c.hir
    cdef double thre = thr * e
    cdef hot_t *h
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
                edisc += _hot_advance(c, h, i, ta, T, it, thr, w, ir)
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
                if u >= _hot_thre(h, thre, e):
                    _candidate(c, &nc, i)
            else:
                disc += 1
    for k in range(nc):
        i = c.cand[k]
        h = &hs[i]
        if h.u >= _hot_thre(h, thre, e) and ta >= h.ref_until:
            _hot_emit(c, h, i, ta)
    c.cnt[C_REC_DISC] += disc
    c.cnt[C_EXT_DISC] += edisc


cdef void _close_hot(Ctx *c, hot_t *hs, double wend, double f) noexcept nogil:
    """End of the window on a hot path: every neuron through its own inputs <= wend, then the
    frame rebased (f = exp(-(W - T)/tau))."""
    cdef int64_t i
    for i in range(c.n):
        if hs[i].next_in <= wend:
            c.cnt[C_EXT_DISC] += _hot_advance(c, &hs[i], i, wend, c.T, c.inv_tau0, c.hthr, c.hw, c.hir)
        hs[i].u *= f


cdef void _deliver_general(Ctx *c, const int64_t *indptr, const int32_t *indices, const float *weights,
                           const int64_t *rows, int64_t nrows, double ta) noexcept nogil:
    """The spikes arriving at one instant ta, any inputs and any neuron model: the first touch
    of a neuron at this instant emits its drift spikes up to ta."""
    cdef nc_neuron *nd
    cdef int64_t g, s, i, disc = 0
    if c.model and _HOOKS[c.model].deliver != NULL and _HOOKS[c.model].deliver(
            c, indptr, indices, weights, rows, nrows, ta):
        return
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
                if _m_catch_up(c, nd, i, ta):
                    disc += 1
                    continue
            _m_add(c, nd, i, ta, weights[s])
    for g in range(nrows):
        for s in range(indptr[rows[g]], indptr[rows[g] + 1]):
            i = indices[s]
            nd = &c.nr[i]
            if ta >= nd.ref_until and _m_above(c, nd, i, ta):
                _m_emit(c, i, ta)
    c.cnt[C_REC_DISC] += disc


cdef void _close_general(Ctx *c, double W, double wend, double f) noexcept nogil:
    """End of the window on the general path: own inputs <= wend, then the model's close."""
    cdef nc_neuron *nd
    cdef int64_t i
    if c.model:  # a plug-in closes all its neurons at once
        if c.own_inputs:
            for i in range(c.n):
                nd = &c.nr[i]
                if nd.next_in <= wend:
                    _advance(c, nd, i, wend)
        _HOOKS[c.model].close(c, W)
        return
    for i in range(c.n):
        nd = &c.nr[i]
        if nd.next_in <= wend:
            _advance(c, nd, i, wend)
        _m_close(c, nd, i, W, f)


cdef inline void _deliver(Ctx *c, const int64_t *indptr, const int32_t *indices, const float *weights,
                          int64_t nrows, double ta) noexcept nogil:
    """The rows c.rows[:nrows] arriving at ta, on the run's path."""
    if c.path == PATH_HOM:
        _deliver_hot(c, c.hot, indptr, indices, weights, c.rows, nrows, ta)
    elif c.path == PATH_FAST:
        _deliver_hot(c, c.nr, indptr, indices, weights, c.rows, nrows, ta)
    else:
        _deliver_general(c, indptr, indices, weights, c.rows, nrows, ta)


cdef void _close_window(Ctx *c, double W) noexcept nogil:
    """Every neuron to W (own inputs < W, drift spikes < W), then the frame rebased to W."""
    cdef double wend = nextafter(W, -INFINITY)
    cdef double f = exp(-(W - c.T) * c.inv_tau0)
    if c.path == PATH_HOM:
        _close_hot(c, c.hot, wend, f)
    elif c.path == PATH_FAST:
        _close_hot(c, c.nr, wend, f)
    else:
        _close_general(c, W, wend, f)
