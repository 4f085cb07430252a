# The router (included by _engine.pyx; docs/emulator.md, "Routing").
#
# One AER packet per (spike, destination core), XY dimension-order routing on the mesh, a FIFO of
# ``depth`` packets per outgoing link (link = core * 4 + direction: east, west, north (+y), south),
# serialisation 1/bandwidth per packet and link, then ``hop`` s to the next router.
# On a board (docs/multichip.md) the mesh is the board's: the chips' meshes side by side, and the
# on-chip links that cross a chip's edge are replaced (``lmap``) by inter-chip channels, link ids
# n4 + k (n4 = 4 * ncores), each with the inter-chip latency, serialisation, FIFO depth and flow
# control; a shared channel carries every crossing of one chip edge, each packet going on from
# the router at which it reached the edge.  A board of explicit adjacency (a graph) stacks its
# chips' meshes instead (core = chip * cores per chip + local core) and routes across chips by a
# table (``gtab``): XY on the chip to the port of the next chip on the route, the channel to that
# chip's port for the way back, and on from there.  A discrete-
# event simulation with its own heap, advanced window by window up to the window's end.  Its
# set-up from the routing tables, its results and the hand-over of the arrivals to the delivery
# are in _router_io.pxi.

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
    # inter-chip channels (a board): n4 = 4 * ncores on-chip link slots, lmap[slot] the link a
    # slot stands for (itself, or a channel id >= n4); NULL on one chip
    int64_t n4
    const int64_t *lmap
    const int64_t *cdir      # direction of each channel (as a slot's: 0 east, 1 west, 2 north, 3 south)
    const int64_t *cfeed_ptr  # per channel, the routers whose edge crossings it carries (CSR)
    const int64_t *cfeed
    # a graph board: chip of each core, the next link at each router towards each chip, each
    # channel's far router, and per router the channels arriving there (CSR); NULL otherwise
    int64_t nchips
    const int64_t *chipof
    const int64_t *gtab
    const int64_t *cfar
    const int64_t *cin_ptr
    const int64_t *cin
    double xhop
    double xser
    int64_t xdepth
    int xbp
    # step-quantised delivery (a time-stepped chip): a synaptic arrival is moved to the next
    # multiple of ``quantum`` (0: off), so inputs reach the exact neurons at step boundaries
    double quantum
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
    int64_t *deliv     # per sub-row: packets delivered (filled in at the end)
    # the synapses split by target core (sub-rows), and each neuron's core and routing entries
    const int64_t *sub_indptr
    const int32_t *sub_indices
    const float *sub_weights
    const int32_t *ncore
    const int64_t *rptr
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
    if r.hn == r.hcap:
        r.hp = <RtEv *> _grow(r.hp, &r.hcap, sizeof(RtEv), &r.err)
        if r.hn == r.hcap:
            return
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
    """A packet from the pool (grown by doubling when empty); -1 when out of memory."""
    cdef int64_t p, k, old = r.pcap, cap
    if r.pfree < 0:
        cap = old
        r.pt0 = <double *> _grow(r.pt0, &cap, sizeof(double), &r.err)
        cap = old
        r.pent = <int64_t *> _grow(r.pent, &cap, sizeof(int64_t), &r.err)
        cap = old
        r.pcur = <int32_t *> _grow(r.pcur, &cap, sizeof(int32_t), &r.err)
        cap = old
        r.pnext = <int64_t *> _grow(r.pnext, &cap, sizeof(int64_t), &r.err)
        if r.err:
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


cdef inline int64_t _rt_slot(Rt *r, int64_t at, int64_t dst) noexcept nogil:
    """The XY output slot (``at * 4 + direction``) at router ``at`` towards core ``dst``
    (-1: arrived)."""
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


cdef inline int64_t _rt_link(Rt *r, int64_t at, int64_t dst) noexcept nogil:
    """The output link at router ``at`` towards core ``dst`` (-1: arrived): the XY slot, or
    on a board the inter-chip channel that slot's edge crossing goes over (a graph board: the
    route table's link towards the destination's chip)."""
    cdef int64_t s
    if r.gtab != NULL and r.chipof[at] != r.chipof[dst]:
        return r.gtab[at * r.nchips + r.chipof[dst]]
    s = _rt_slot(r, at, dst)
    if r.lmap != NULL and s >= 0:
        return r.lmap[s]
    return s


cdef inline int64_t _rt_far(Rt *r, int64_t link, int64_t p) noexcept nogil:
    """The router at the far end of a link, for packet ``p`` at its near end (a channel's
    far router is the neighbour of the router the packet reached the edge at)."""
    cdef int64_t at, d
    if link < r.n4:
        at = link >> 2
        d = link & 3
    elif r.cfar != NULL:
        return r.cfar[link - r.n4]
    else:
        at = r.pcur[p]
        d = r.cdir[link - r.n4]
    if d == 0:
        return at + 1
    if d == 1:
        return at - 1
    if d == 2:
        return at + r.width
    return at - r.width


cdef inline double _rt_ser(Rt *r, int64_t link) noexcept nogil:
    return r.ser if link < r.n4 else r.xser


cdef inline int64_t _rt_depth(Rt *r, int64_t link) noexcept nogil:
    return r.depth if link < r.n4 else r.xdepth


cdef inline int _rt_bp(Rt *r, int64_t link) noexcept nogil:
    return r.bp if link < r.n4 else r.xbp


cdef inline void _rt_end_effects(Rt *r, int64_t link) noexcept nogil:
    """The head packet of ``link`` finishes its serialisation: it leaves the FIFO (it was sent
    on when the serialisation started; on its last hop it is freed now)."""
    cdef int64_t p = r.qhead[link]
    r.qlen[link] -= 1
    r.qhead[link] = r.pnext[p] if r.qlen[link] > 0 else -1
    r.busy[link] = 0
    r.busy_s[link] += _rt_ser(r, link)
    r.lc[L_PACKETS * r.nlinks + link] += 1
    if link >= r.n4:
        pass  # an inter-chip crossing: counted per channel only
    elif (link & 3) < 2:
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
        if _rt_bp(r, link):
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
    cdef double te, hop
    _rt_sync(r, link)
    if r.busy[link] or r.qlen[link] == 0:
        return
    p = r.qhead[link]
    r.blocked[link] = 0
    far = _rt_far(r, link, p)
    nxt = _rt_link(r, far, r.ent[r.pent[p]].dst)
    if nxt >= 0 and _rt_bp(r, nxt):
        _rt_sync(r, nxt)
        if r.occ[nxt] >= _rt_depth(r, nxt):
            r.blocked[link] = 1
            _rt_real(r, nxt)
            return
        r.occ[nxt] += 1
    # start: the end of the serialisation takes its place in the order now; the packet's
    # arrival at the next router is scheduled right after it (on the last hop, nothing can
    # change that arrival any more, so the packet is delivered now, without an event)
    if link < r.n4:
        te = t + r.ser
        hop = r.hop
    else:
        te = t + r.xser
        hop = r.xhop
    r.busy[link] = 1
    r.bend[link] = te
    r.eseq[link] = r.seq
    r.seq += 1
    r.lasthop[link] = nxt < 0
    if nxt < 0:
        if te + hop < r.t_end:
            r.rc[R_PK_IN * r.ncores + far] += 1
            _rt_deliver(r, p, te + hop)
        else:
            r.late += 1
    else:
        r.pcur[p] = <int32_t> far
        _rt_push(r, te + hop, p * 2 + EV_ARRIVE)
    # the end is real only if something already waits for it
    r.vend[link] = 1
    if r.qlen[link] > 1 or (_rt_bp(r, link) and r.occ[link] >= _rt_depth(r, link)):
        _rt_real(r, link)


cdef inline double _rt_step(Rt *r, double ta) noexcept nogil:
    """An arrival time moved up to the next step boundary (quantised delivery), never earlier
    than ``ta``: the window that made it has ended before ``ta``, so a later time stays exact.
    A time within 1e-9 steps above a boundary is taken as on it (float noise of t + d)."""
    cdef double k
    if r.quantum <= 0.0:
        return ta
    k = ceil(ta / r.quantum - 1e-9) * r.quantum
    return k if k >= ta else ta


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
            r.lat = <double *> _grow(r.lat, &r.lcap, sizeof(double), &r.err)
            if r.ln == r.lcap:
                return
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
        r.pd[r.dn].t = _rt_step(r, t + (r.delays[r.sub_cls[en.s]] if r.nclass > 1 else r.delays[0]))
        r.pd[r.dn].s = en.s
        r.dn += 1
        return
    for k in range(en.sub0, en.sub0 + en.nsub):
        s = r.rsub[k]
        r.pd[r.dn].t = _rt_step(r, t + (r.delays[r.sub_cls[s]] if r.nclass > 1 else r.delays[0]))
        r.pd[r.dn].s = s
        r.dn += 1


cdef void _rt_wake(Rt *r, int64_t link, double t) noexcept nogil:
    """A slot of ``link`` freed (backpressure): retry what waits for it at the router(s)
    feeding it (one router for an on-chip link; every router of the edge for a channel)."""
    cdef int64_t k
    if link < r.n4:
        _rt_wake_at(r, link >> 2, t)
        return
    for k in range(r.cfeed_ptr[link - r.n4], r.cfeed_ptr[link - r.n4 + 1]):
        _rt_wake_at(r, r.cfeed[k], t)


cdef void _rt_wake_at(Rt *r, int64_t at, double t) noexcept nogil:
    """Retry, in a fixed order, the injection queue of router ``at``'s core, then the links
    into ``at`` whose head waits for a slot."""
    cdef int64_t up, p, hl, w = r.width
    cdef int64_t ups[4]
    cdef int k
    # injection queue of this core: its head first (FIFO, head-of-line blocking)
    while r.ihead[at] >= 0:
        p = r.ihead[at]
        hl = _rt_link(r, at, r.ent[r.pent[p]].dst)
        _rt_sync(r, hl)
        if not _rt_bp(r, hl):
            # a lossy link (only behind a waiting packet): it goes now, or is dropped
            r.ihead[at] = r.pnext[p]
            if r.qlen[hl] >= _rt_depth(r, hl):
                r.lc[L_DROP_INJ * r.nlinks + hl] += 1
                r.rc[R_DROP_INJ * r.ncores + at] += 1
                _rt_free(r, p)
            else:
                _rt_enqueue(r, hl, p)
                _rt_try(r, hl, t)
            continue
        if r.occ[hl] >= _rt_depth(r, hl):
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
        if up >= 0 and r.lmap != NULL:
            up = r.lmap[up]
        if up >= 0 and r.blocked[up]:
            _rt_try(r, up, t)
    if r.cin_ptr != NULL:  # a graph board's channels arriving at this router
        for k in range(r.cin_ptr[at], r.cin_ptr[at + 1]):
            if r.blocked[r.cin[k]]:
                _rt_try(r, r.cin[k], t)


cdef void _rt_event(Rt *r, RtEv ev) noexcept nogil:
    cdef int64_t kind = ev.code & 1, id_ = ev.code >> 1, p, nxt
    cdef double t = ev.t
    r.now_t = t
    r.now_seq = ev.seq
    if kind == EV_END:
        _rt_end_effects(r, id_)
        _rt_try(r, id_, t)
        if _rt_bp(r, id_):
            r.occ[id_] -= 1
            _rt_wake(r, id_, t)
    else:
        p = id_
        # (never the destination: a packet on its last hop is delivered when it is sent)
        nxt = _rt_link(r, r.pcur[p], r.ent[r.pent[p]].dst)
        _rt_sync(r, nxt)
        if not _rt_bp(r, nxt) and r.qlen[nxt] >= _rt_depth(r, nxt):
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
    if not _rt_bp(r, link) and r.ihead[src_core] < 0 and r.qlen[link] >= _rt_depth(r, link):
        r.lc[L_DROP_INJ * r.nlinks + link] += 1
        r.rc[R_DROP_INJ * r.ncores + src_core] += 1
        return
    p = _rt_new(r)
    if p < 0:
        return
    r.pt0[p] = t
    r.pent[p] = e
    r.pcur[p] = <int32_t> src_core
    if _rt_bp(r, link) or r.ihead[src_core] >= 0:
        # (a lossy link waits only behind a packet already waiting at this core: FIFO order)
        if r.ihead[src_core] >= 0 or r.occ[link] >= _rt_depth(r, link):
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


cdef void _rt_spikes(Rt *r, const double *ts, const int32_t *ids, int64_t m, double w_end) noexcept nogil:
    """Inject the packets of m spikes (sorted by time), then advance the router to w_end.
    Router events at a spike's time go before its injection."""
    cdef int64_t k, e, i
    cdef double t
    for k in range(m):
        t = ts[k]
        i = ids[k]
        while r.hn > 0 and r.hp[0].t <= t and not r.err:
            _rt_event(r, _rt_pop(r))
        for e in range(r.rptr[i], r.rptr[i + 1]):
            _rt_inject(r, r.ncore[i], t, e)
    _rt_advance(r, w_end)
