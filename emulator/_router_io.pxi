# The router's set-up from the routing tables, its results, and the hand-over of its arrivals
# to the delivery (included by _engine.pyx; the router itself is _router.pxi).

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


cdef int64_t _rt_due(Rt *r, double W) noexcept nogil:
    """Move the pending arrivals due before W to the front, sorted by (time, sub-row); their
    number.  Usually they are sorted already (one delay class: the router hands packets over
    in time order); otherwise the due ones are moved to the front and sorted."""
    cdef int64_t q, nd_now = 0
    # one delay class and no quantised delivery: in time order up to ties (else many arrivals
    # share a step boundary, and the general path sorts them)
    cdef bint ordered = r.nclass == 1 and r.quantum <= 0.0
    if ordered:
        _pend_isort(r.pd, r.dn)
    for q in range(r.dn if ordered else 1, r.dn):
        if r.pd[q - 1].t > r.pd[q].t or (r.pd[q - 1].t == r.pd[q].t and r.pd[q - 1].s > r.pd[q].s):
            nd_now = -1
            break
    if nd_now == 0:
        while nd_now < r.dn and r.pd[nd_now].t < W:
            nd_now += 1
        return nd_now
    nd_now = 0
    for q in range(r.dn):
        if r.pd[q].t < W:
            if q != nd_now:
                _pend_swap(r.pd, q, nd_now)
            nd_now += 1
    if nd_now > 1:
        qsort(r.pd, nd_now, sizeof(nc_pend), nc_pend_cmp)
    return nd_now


cdef inline void _rt_prefetch(Rt *r, int64_t q, int64_t nd_now) noexcept nogil:
    """A spike reaches each core as its own short row (~100 targets) stored apart from the
    others, so the start of every row would miss the cache: a prefetch pipeline over the
    coming arrivals (row pointers 16 places on, targets and weights 8 on)."""
    cdef int64_t s0, s1
    if q + 16 < nd_now:
        NC_PREFETCH(&r.sub_indptr[r.pd[q + 16].s])
    if q + 8 < nd_now:
        s0 = r.sub_indptr[r.pd[q + 8].s]
        s1 = r.sub_indptr[r.pd[q + 8].s + 1]
        while s0 < s1:
            NC_PREFETCH(&r.sub_indices[s0])
            NC_PREFETCH(&r.sub_weights[s0])
            s0 += 16


cdef inline void _rt_drop(Rt *r, int64_t nd_now) noexcept nogil:
    """Drop the nd_now delivered arrivals (the rest keep their order: sorted again when due)."""
    if nd_now > 0:
        memmove(r.pd, r.pd + nd_now, (r.dn - nd_now) * sizeof(nc_pend))
        r.dn -= nd_now


cdef void _rt_init(Rt *r, KernelInput inp):
    """Set the router up from the routing tables of ``inp`` (r.err when out of memory)."""
    cdef dict route = inp.route
    cdef int64_t k, nent = inp.route_cores.shape[0]
    cdef const int64_t *rsub_ptr = &inp.entry_sub_ptr[0]
    cdef const int64_t *rsub = &inp.entry_sub[0]
    cdef const int32_t *rcore = &inp.route_cores[0]
    cdef const int64_t[::1] lmap, cdir, cfeed_ptr, cfeed, chipof, gtab, cfar, cin_ptr, cin
    r.ncores = route["n_cores"]
    r.width = route["width"]
    r.n4 = 4 * r.ncores
    r.nlinks = r.n4
    r.hop = route["hop_latency_s"]
    r.ser = 1.0 / <double> route["link_bandwidth_hz"]
    r.depth = route["buffer_depth"]
    r.bp = 1 if route["backpressure"] else 0
    r.quantum = route.get("delivery_step_s", 0.0) or 0.0
    r.lmap = NULL
    r.cdir = NULL
    r.cfeed_ptr = NULL
    r.cfeed = NULL
    r.nchips = 0
    r.chipof = NULL
    r.gtab = NULL
    r.cfar = NULL
    r.cin_ptr = NULL
    r.cin = NULL
    r.xhop = r.hop
    r.xser = r.ser
    r.xdepth = r.depth
    r.xbp = r.bp
    if route.get("channel_dir") is not None:
        # a board: the inter-chip channels (their arrays stay alive in ``route``)
        cdir = route["channel_dir"]
        cfeed_ptr = route["channel_feed_ptr"]
        cfeed = route["channel_feed"]
        r.nlinks = r.n4 + cdir.shape[0]
        if cdir.shape[0] > 0:
            r.cdir = &cdir[0]
            r.cfeed = &cfeed[0]
        r.cfeed_ptr = &cfeed_ptr[0]
        if route.get("link_map") is not None:  # a mesh board
            lmap = route["link_map"]
            r.lmap = &lmap[0]
        else:  # a graph board
            chipof = route["core_chip"]
            gtab = route["graph_table"]
            cfar = route["channel_far"]
            cin_ptr = route["channel_in_ptr"]
            cin = route["channel_in"]
            r.nchips = route["n_chips"]
            r.chipof = &chipof[0]
            r.gtab = &gtab[0]
            r.cin_ptr = &cin_ptr[0]
            if cdir.shape[0] > 0:
                r.cfar = &cfar[0]
                r.cin = &cin[0]
        r.xhop = route["channel_latency_s"]
        r.xser = route["channel_serialisation_s"]
        r.xdepth = route["channel_buffer_depth"]
        r.xbp = 1 if route["channel_backpressure"] else 0
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
    r.sub_cls = &inp.sub_class[0]
    r.delays = &inp.delays[0]
    r.rc = &inp.core_counters[0]
    r.lc = &inp.link_counters[0]
    r.busy_s = &inp.link_busy_s[0]
    r.deliv = &inp.sub_delivered[0]
    r.sub_indptr = &inp.sub_indptr[0]
    r.sub_indices = &inp.sub_indices[0]
    r.sub_weights = &inp.sub_weights[0]
    r.ncore = &inp.neuron_core[0]
    r.rptr = &inp.route_indptr[0]
    r.err = 0
    r.t_end = inp.duration_s
    r.nclass = inp.delays.shape[0]
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


cdef void _rt_finish(Rt *r, dict route):
    """Copy the latency log and the end state (packets still in the network) to ``route``."""
    cdef int64_t *deliv = r.deliv
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
    """Free the router's state (every pointer is NULL or owned)."""
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
