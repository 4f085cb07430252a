# The CUBA model's window end (the `close` hook), included by emulator/models/cuba.pxi after the
# model's state, wheel and drift: every neuron that may cross before the window's end (the
# touched list, then the window's bucket of the timing wheel) is brought there, and the frame's
# origin moves forward when its factors would grow too large (docs/cuba.md, "When the search
# runs" and "The time-scaled frame").


cdef void _cb_rebase(Ctx *c, CbWheel *w, double W) noexcept nogil:
    """The frame's origin moves to W: every framed neuron's coefficients rescaled (a neuron whose
    hold ended by W is freed first, so that no factor is ever taken far before TF)."""
    cdef int64_t i
    cdef double *s
    cdef const double *p
    cdef CbFactors *f
    for i in range(c.n):
        s = _cb_s(c, i)
        if s[CB_FR] < 0.0:
            continue
        p = _cb_p(c, i)
        if s[CB_FR] == 0.0 and s[CB_REF] <= W:
            _cb_unhold(c, w, i, s, p)
        f = _cb_fx(w, 1, W, c.inv_tau[i], p[CB_KE], p[CB_KI])
        if s[CB_FR] > 0.0:
            s[CB_AL] *= f.ea
        s[CB_FE] *= f.ee
        s[CB_FI] *= f.ei
    w.tf = W


cdef void _cb_close(Ctx *c, double W) noexcept nogil:
    """Every neuron's crossings before W: the touched ones and those of this window's bucket;
    then the frame's origin moves to W if the factors would grow too large."""
    cdef CbWheel *w = <CbWheel *> c.mbuf
    cdef int32_t b = <int32_t> (c.kwin % CB_WHEEL)
    cdef int64_t k, i, n, m
    cdef int32_t *lst
    cdef double *s
    # the touched list (it may grow while it is walked: a spike touches its neuron), rows
    # prefetched a few ahead
    for k in range(w.bn[CB_WHEEL] if w.bn[CB_WHEEL] < CB_AHEAD else CB_AHEAD):
        CB_PREFETCH(_cb_s(c, w.bk[CB_WHEEL][k]) + 8)
    k = 0
    while k < w.bn[CB_WHEEL] and not c.err:
        if k + CB_AHEAD < w.bn[CB_WHEEL]:
            CB_PREFETCH(_cb_s(c, w.bk[CB_WHEEL][k + CB_AHEAD]) + 8)
        i = w.bk[CB_WHEEL][k]
        k += 1
        s = _cb_s(c, i)
        if s[CB_TL] == 0.0:
            continue   # left behind: filed since
        s[CB_TL] = 0.0
        if s[CB_SAFE] < W:   # (else _cb_drift would return at once)
            _cb_drift(c, i, W, 1)
        _cb_file(c, i, c.kwin + 1)
    w.bn[CB_WHEEL] = 0
    # this window's bucket (filing now goes to later buckets, so it does not grow here): first
    # the entries that still count, kept in place without a branch (about half are left behind:
    # a branch on each would be mispredicted), rows prefetched a few ahead; then those visited
    n = w.bn[b]
    lst = w.bk[b]
    for k in range(n if n < CB_AHEAD else CB_AHEAD):
        CB_PREFETCH(_cb_s(c, lst[k]) + 8)
    m = 0
    for k in range(n):
        if k + CB_AHEAD < n:
            CB_PREFETCH(_cb_s(c, lst[k + CB_AHEAD]) + 8)
        i = lst[k]
        lst[m] = <int32_t> i
        m += _cb_s(c, i)[CB_KB] == <double> c.kwin
    for k in range(m):
        if c.err:
            break
        i = lst[k]
        s = _cb_s(c, i)
        if s[CB_KB] != <double> c.kwin:
            continue   # an earlier entry of the same neuron was visited
        s[CB_KB] = -1.0
        if s[CB_SAFE] < W:   # (else _cb_drift would return at once)
            _cb_drift(c, i, W, 1)
        _cb_file(c, i, c.kwin + 1)
    w.bn[b] = 0
    if w.err:
        c.err = 1
    if w.frame and (W - w.tf + c.window) * w.kmax > CB_SPAN:
        _cb_rebase(c, w, W)
