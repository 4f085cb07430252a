# The window loop (included by _engine.pyx): conservative windows of the minimum delay.
#
# Spikes emitted in a window [T, W) arrive at or after W, so all arrivals of a window are known
# when it starts.  Each window: 1. deliver its arrivals in time order, one instant at a time
# (unrouted: a merge over the delay classes of the spike log; routed: the router's pending
# arrivals); 2. every neuron to W; 3. the window's spikes join the log (and, routed, enter the
# router, which runs to W).

cdef void _init_neurons(Ctx *c, uint64_t seed) noexcept nogil:
    """Every neuron's state at t = 0 (a neuron starting at or above threshold spikes at 0)."""
    cdef int64_t i
    cdef nc_neuron *nd
    for i in range(c.n):
        nd = &c.nr[i]
        _inputs_init(c, nd, i, seed)
        _m_init(c, nd, i, seed)
        c.touch[i] = -1.0
        if c.v0[i] >= c.vth[i]:
            _m_emit(c, i, 0.0)


cdef void _choose_path(Ctx *c, int64_t nrows) noexcept nogil:
    """PATH_FAST: one Poisson source per neuron, no given spikes or steps, uniform tau, the
    frame model, no suprathreshold drive (thr >= 0 everywhere); PATH_HOM when threshold,
    Poisson rate and weight are also shared (32-byte neurons); else PATH_GENERAL."""
    cdef int64_t i, j, longest = 1
    cdef int fast = c.uniform_tau and not c.has_extra and not c.multi_pois and not c.gen and not c.model
    cdef int hom
    for i in range(c.n):
        if c.nr[i].thr < 0.0:
            fast = 0
    hom = fast
    c.hthr = c.nr[0].thr
    c.hw = c.nr[0].w_pois
    c.hir = c.nr[0].inv_rate
    for i in range(c.n):
        if c.nr[i].thr != c.hthr or c.nr[i].w_pois != c.hw or c.nr[i].inv_rate != c.hir:
            hom = 0
    if fast:
        for j in range(nrows):
            if c.indptr[j + 1] - c.indptr[j] > longest:
                longest = c.indptr[j + 1] - c.indptr[j]
        c.due = <int32_t *> malloc(longest * sizeof(int32_t))
        if c.due == NULL:
            fast = 0
            hom = 0
    if hom:
        c.hot = <nc_hot *> nc_alloc_aligned(c.n * sizeof(nc_hot))
        if c.hot == NULL:
            hom = 0
        else:
            for i in range(c.n):
                c.hot[i].u = c.nr[i].u
                c.hot[i].ref_until = c.nr[i].ref_until
                c.hot[i].next_in = c.nr[i].next_in
                c.hot[i].rng = c.nr[i].rng
    c.path = PATH_HOM if hom else (PATH_FAST if fast else PATH_GENERAL)


cdef inline int64_t _log_next(Log *log, double W, double *ta) noexcept nogil:
    """The delay class of the earliest arrival before W still to deliver (-1 if none), its time
    in ta (equal times: the lower class)."""
    cdef int64_t j, best = -1
    cdef double tb
    ta[0] = W
    for j in range(log.K):
        if log.ptr[j] < log.n:
            tb = log.t[log.ptr[j]] + log.delays[j]
            if tb < ta[0]:
                ta[0] = tb
                best = j
    return best


cdef enum:
    PF_STATE_TARGETS = 12   # targets whose state rows _log_prefetch fetches ahead (pf_state)


cdef inline void _log_prefetch(Ctx *c, Log *log, int64_t base, int64_t p) noexcept nogil:
    """The rows of the coming arrivals of one delay class (base = its first row, p = the log
    entry just taken): on a large network a row's targets and weights are far apart in memory
    and the start of every row would miss the cache (half the delivery time of a 40,000-neuron
    CUBA network).  Row pointers 16 entries on, targets and weights 8 on, as _rt_prefetch (the
    first 128 of a longer row: the hardware's own prefetch follows a long row)."""
    cdef int64_t s0, s1, row
    cdef int pfw = c.pf_weights
    if p + 16 < log.n:
        NC_PREFETCH(&c.indptr[base + log.id[p + 16]])
    if p + 8 < log.n:
        row = base + log.id[p + 8]
        s0 = c.indptr[row]
        s1 = min(c.indptr[row + 1], s0 + 128)
        while s0 < s1:
            NC_PREFETCH(&c.indices[s0])
            if pfw:
                NC_PREFETCH(&c.weights[s0])
            s0 += 16
    if c.pf_state and p + 4 < log.n:
        # the first targets' state rows (first and last line) of the arrival 4 on, whose row
        # pointer and targets were prefetched above by now: the model's own delivery prefetches
        # a row's targets a few ahead, but the first ones of each row would miss the cache
        row = base + log.id[p + 4]
        if c.pf_row != NULL:
            NC_PREFETCH(&c.pf_row[row])
        s0 = c.indptr[row]
        s1 = min(c.indptr[row + 1], s0 + PF_STATE_TARGETS)
        while s0 < s1:
            NC_PREFETCH(c.ms + c.indices[s0] * c.msk)
            NC_PREFETCH(c.ms + c.indices[s0] * c.msk + c.msk - 1)
            s0 += 1


cdef void _deliver_logged(Ctx *c, Log *log, double W) noexcept nogil:
    """Deliver the arrivals of [T, W) from the spike log, one instant at a time (equal times:
    lower delay class, then log order)."""
    cdef double ta, best_ta
    cdef int64_t best = _log_next(log, W, &best_ta), p, row, ng
    while best >= 0 and not c.err:
        ta = best_ta
        ng = 0
        while best >= 0 and best_ta == ta:
            p = log.ptr[best]
            log.ptr[best] = p + 1
            row = best * c.n + log.id[p]
            if not _push_row(c, ng, row):
                return
            ng += 1
            c.cnt[C_REC] += c.indptr[row + 1] - c.indptr[row]
            _log_prefetch(c, log, best * c.n, p)
            best = _log_next(log, W, &best_ta)
        _deliver(c, c.indptr, c.indices, c.weights, ng, ta)


cdef void _deliver_routed(Ctx *c, Rt *r, double W) noexcept nogil:
    """Deliver the router's pending arrivals of [T, W), sorted by (time, sub-row), one instant
    at a time (the router handed them over at the end of an earlier window)."""
    cdef int64_t nd_now = _rt_due(r, W), q = 0, ng
    cdef double ta
    while q < nd_now and not c.err:
        ta = r.pd[q].t
        ng = 0
        while q < nd_now and r.pd[q].t == ta:
            if not _push_row(c, ng, r.pd[q].s):
                return
            q += 1
            ng += 1
        _rt_prefetch(r, q, nd_now)
        _deliver(c, r.sub_indptr, r.sub_indices, r.sub_weights, ng, ta)
    _rt_drop(r, nd_now)


def run_lif(KernelInput inp not None):
    """Run the network of ``inp``; returns (spike times float64, spike addresses int32,
    spikes per neuron int64, counters int64 in the order of counter_names()), the spikes
    sorted by (time, address).  A routed run (``inp.route``) also fills in the routing
    tables' output arrays and stores the latency log and end state in ``inp.route``."""
    cdef Ctx c
    cdef Log log
    cdef Rt rt
    cdef int routed = inp.route is not None
    cdef int64_t n = inp.n, nwin = 0, log0, k
    cdef double T, W, window = inp.window_s, duration = inp.duration_s
    cdef uint64_t seed = inp.seed
    spike_count = np.zeros(n, np.int64)
    counters = np.zeros(N_COUNTERS, np.int64)
    cdef int64_t[::1] sc = spike_count
    cdef int64_t[::1] cv = counters
    cdef double[::1] tv
    cdef int32_t[::1] iv

    nc_zig_init()
    c.model = inp.model
    c.msk = _HOOKS[inp.model].n_state if inp.model else 0
    if not _state_alloc(&c, &log, n, inp.delays.shape[0]):
        _state_free(&c, &log)
        raise MemoryError("emulator: out of memory allocating the neuron state")
    _ctx_bind(&c, inp)
    if c.model and not _HOOKS[c.model].alloc(&c):
        _HOOKS[c.model].release(&c)
        _state_free(&c, &log)
        raise MemoryError("emulator: out of memory allocating the neuron model's buffers")
    log.delays = &inp.delays[0]
    if routed:
        _rt_init(&rt, inp)
        if rt.err:
            _rt_release(&rt)
            if c.model:
                _HOOKS[c.model].release(&c)
            _state_free(&c, &log)
            raise MemoryError("emulator: out of memory allocating the router state")

    with nogil:
        _init_neurons(&c, seed)
        _choose_path(&c, (inp.indptr.shape[0] - 1))
        while not c.err:
            T = nwin * window
            if T >= duration:
                break
            W = (nwin + 1) * window
            if W > duration:
                W = duration
            c.T = T
            c.kwin = nwin
            if routed:
                _deliver_routed(&c, &rt, W)
            else:
                _deliver_logged(&c, &log, W)
            _close_window(&c, W)
            log0 = log.n
            if not _log_window(&c, &log):
                c.err = 1
                break
            if routed:  # arrivals of spikes at t < W come at t + d >= T + D > W: a later window
                _rt_spikes(&rt, log.t + log0, log.id + log0, log.n - log0, W)
                if rt.err:
                    c.err = 1
            nwin += 1

    c.cnt[C_WINDOWS] = nwin
    for k in range(N_COUNTERS):
        cv[k] = c.cnt[k]
    times = np.empty(log.n, dtype=np.float64)
    ids = np.empty(log.n, dtype=np.int32)
    tv = times
    iv = ids
    for k in range(log.n):
        tv[k] = log.t[k]
        iv[k] = log.id[k]
        sc[log.id[k]] += 1
    if c.model:
        _HOOKS[c.model].release(&c)
    _state_free(&c, &log)
    if routed:
        _rt_finish(&rt, inp.route)
        _rt_release(&rt)
    if c.err:
        raise MemoryError("emulator: out of memory while growing the spike buffers")
    return times, ids, spike_count, counters
