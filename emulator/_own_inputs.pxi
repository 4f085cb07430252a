# A neuron's own input streams (included by _engine.pyx): its Poisson train (several sources
# merged into one train of the summed rate whose events pick their source), its given input
# spikes and its current steps.  next_in is the earliest of the three; at equal times steps go
# first, then given spikes, then Poisson events, each applied and tested on its own.
# The hot paths' copy of _advance (one Poisson source, nothing else) is in _delivery.pxi.

cdef inline double _next_in(Ctx *c, nc_neuron *n, int64_t i) noexcept nogil:
    cdef double t = n.next_pois
    cdef int64_t k = c.sin_pos[i]
    if k < c.sin_ptr[i + 1] and c.sin_t[k] < t:
        t = c.sin_t[k]
    k = c.st_pos[i]
    if k < c.st_ptr[i + 1] and c.st_t[k] < t:
        t = c.st_t[k]
    return t


cdef inline void _inputs_init(Ctx *c, nc_neuron *n, int64_t i, uint64_t seed) noexcept nogil:
    """The streams at t = 0: the Poisson stream seeded, its first event drawn."""
    if c.pois_ptr[i + 1] - c.pois_ptr[i] > 1:
        c.multi_pois = 1
    n.rng = _poisson_stream(seed, i)
    n.ref_until = -INFINITY
    n.w_pois = c.pois_w[c.pois_ptr[i]] if c.pois_ptr[i + 1] > c.pois_ptr[i] else 0.0
    if c.rate[i] > 0.0:
        n.inv_rate = 1.0 / c.rate[i]
        n.next_pois = nc_exp_rand(&n.rng) * n.inv_rate
    else:
        n.inv_rate = INFINITY
        n.next_pois = INFINITY
    c.sin_pos[i] = c.sin_ptr[i]
    c.st_pos[i] = c.st_ptr[i]
    n.next_in = _next_in(c, n, i)


cdef int _extra(Ctx *c, nc_neuron *n, int64_t i, double te) noexcept nogil:
    """Process a current step or a given input spike at te, if one is due (steps first)."""
    cdef int64_t k = c.st_pos[i]
    cdef int r
    if k < c.st_ptr[i + 1] and c.st_t[k] == te:
        c.st_pos[i] = k + 1
        _m_step(c, n, i, te, c.st_vinf[k])
        n.next_in = _next_in(c, n, i)
        return 1
    k = c.sin_pos[i]
    if k < c.sin_ptr[i + 1] and c.sin_t[k] == te:
        c.sin_pos[i] = k + 1
        c.cnt[C_EXT] += 1
        r = _m_apply(c, n, i, te, c.sin_w[k])
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
        r = _m_apply(c, n, i, te, w)
        c.cnt[C_EXT_DISC] += 1 - r
