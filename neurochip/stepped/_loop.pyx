# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The time-stepped engine's step loop, compiled: the same integers and counts as the NumPy loop.

:func:`neurochip.stepped.engine.run_stepped` prepares every array (quantised neurons and
synapses, routes, the hop length of every route, the forced input spikes) and calls
:func:`run_loop` with one :class:`LoopInputs`-like set of arrays; the loop below holds no Python
object.  Each step, for every neuron (in id order): the step's accumulators are summed per
connection and shifted by its weight exponent (for the neurons hit in the step only, when few
synapses can have delivered into it), the neuron is counted active or inactive, and
Loihi's integer LIF is applied (``neurochip.stepped.loihi.loihi_lif_step``) -- the simulated
neurons run by run of consecutive ids, the others (input relays) only read for forced spikes,
the two ascending spike lists merged; then the step's
spikes (ascending ids) are counted, routed (one packet per destination core) and delivered into
the accumulators ``delay`` steps ahead.  ``tests/test_stepped_loop.py`` holds it bit-identical
to the NumPy loop (``backend="numpy"``).
"""

from libc.stdint cimport int64_t, uint8_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memset

import numpy as np

cdef enum:
    DECAY_BITS = 12
    UNITY = 4096
    ACT_SHIFT = 6
    VTH_SHIFT = 6
    # indices of STEP_COUNTS
    C_PACKETS_IN = 0
    C_SYN = 1
    C_ACTIVE = 2
    C_INACTIVE = 3
    C_SPIKES = 4
    C_PACKETS_OUT = 5
    C_CORE_PACKETS = 6
    # a slot's input is summed from its hit list when at most n / SPARSE_SHARE synapses can
    # have delivered into it, else by one pass over every neuron and connection
    SPARSE_SHARE = 4

cdef int64_t UV_MAX = 1 << 23

#: a step sums its input from the hit list when at most n // SPARSE_SHARE synapses can have
#: delivered into it (exported for the tests that drive both ways)
SPARSE_SHARE_OF_N = SPARSE_SHARE


cdef struct Kernel:
    # sizes
    int64_t n, m, steps, depth, g_count, n_rec, all_active, has_forced
    # neurons, shape (n,)
    int64_t* du
    int64_t* dv
    int64_t* bias
    int64_t* vth
    int64_t* core
    uint8_t* simulated
    uint8_t* forced          # (steps, n) or unused
    # synapses (CSR by pre-synaptic neuron)
    int64_t* s_indptr
    int64_t* s_indices
    int64_t* s_delay
    int64_t* s_group
    int64_t* s_mant
    int64_t* weight_exp      # (g_count,)
    # routes (CSR by source neuron)
    int64_t* r_indptr
    int64_t* r_cores
    int64_t* r_origin
    int64_t* r_hops
    int64_t* rec             # (n_rec,)
    # state, updated in place
    int64_t* u
    int64_t* v
    int64_t* acc             # (depth, g_count, n)
    uint8_t* hit             # (depth, n)
    # scratch of the loop (allocated by run_loop)
    int64_t* ain             # (n,): the step's input per neuron (zeros where a sparse step reads)
    int64_t* hlist           # (depth, n): the neurons hit in each slot, in order of first delivery
    int64_t* hcount          # (depth,): how many
    int64_t* load            # (depth,): synapses that may have delivered into each slot
    int64_t* runs            # (n_runs, 2): [start, end) of the runs of simulated neurons
    int64_t* fruns           # (n_fruns, 2): the same of the others (driven by forced spikes)
    int64_t n_runs, n_fruns
    int64_t* fu              # (n,): current decay factor 2^12 - (du + 1)
    int64_t* fv              # (n,): voltage decay factor 2^12 - dv
    int64_t* vth6            # (n,): threshold << 6
    # outputs
    int64_t* counts          # (7, steps, m)
    int64_t* max_hops        # (steps,)
    int64_t* trace_u         # (steps, n_rec)
    int64_t* trace_v
    # spikes: grown by the kernel
    int64_t* sp_step
    int64_t* sp_neuron
    int64_t sp_count, sp_cap


cdef inline int64_t _decay(int64_t x, int64_t factor) noexcept nogil:
    """x * factor / 2^12 truncated toward zero (sign times the shifted magnitude), without a
    branch: a negative product is biased by 2^12 - 1 before the (flooring) arithmetic shift."""
    cdef int64_t p = x * factor
    return (p + ((p >> 63) & (UNITY - 1))) >> DECAY_BITS


cdef inline int64_t _shift(int64_t x, int64_t e) noexcept nogil:
    """x << e for e > 0 (as a product: no shift of a negative value), else the flooring x >> -e."""
    if e > 0:
        return x * ((<int64_t>1) << e)
    return x >> (-e)


cdef int _grow(Kernel* k, int64_t need) noexcept nogil:
    cdef int64_t cap = k.sp_cap if k.sp_cap > 0 else 1024
    cdef int64_t* a
    cdef int64_t* b
    while cap < need:
        cap *= 2
    a = <int64_t*>realloc(k.sp_step, cap * sizeof(int64_t))
    if a == NULL:
        return -1
    k.sp_step = a
    b = <int64_t*>realloc(k.sp_neuron, cap * sizeof(int64_t))
    if b == NULL:
        return -1
    k.sp_neuron = b
    k.sp_cap = cap
    return 0


cdef inline void _deliver(Kernel* k, int64_t src, int64_t slot, int64_t* cnt_syn, int64_t limit,
                          bint push) noexcept nogil:
    """The synapses of one spike: counted on the target's core, their mantissas added into
    the accumulators ``delay`` steps ahead, the targets marked as hit; with ``push``, a target
    first hit in a slot to be summed sparsely is added to the slot's hit list."""
    cdef int64_t n = k.n, G = k.g_count, depth = k.depth
    cdef int64_t p, tgt, when
    for p in range(k.s_indptr[src], k.s_indptr[src + 1]):
        tgt = k.s_indices[p]
        cnt_syn[k.core[tgt]] += 1
        when = slot + k.s_delay[p]  # (t + delay) % depth without a division: delay < depth
        if when >= depth:
            when -= depth
        k.acc[(when * G + k.s_group[p]) * n + tgt] += k.s_mant[p]
        if push and k.load[when] <= limit and not k.hit[when * n + tgt]:
            k.hlist[when * n + k.hcount[when]] = tgt
            k.hcount[when] += 1
        k.hit[when * n + tgt] = 1


cdef int64_t _merge(int64_t* a, int64_t na, int64_t* b, int64_t nb, int64_t* out) noexcept nogil:
    """Two ascending lists of distinct ids merged into ``out``; returns its length."""
    cdef int64_t i = 0, j = 0, o = 0
    while i < na and j < nb:
        if a[i] < b[j]:
            out[o] = a[i]
            i += 1
        else:
            out[o] = b[j]
            j += 1
        o += 1
    while i < na:
        out[o] = a[i]
        i += 1
        o += 1
    while j < nb:
        out[o] = b[j]
        j += 1
        o += 1
    return o


cdef int64_t _runs_of(uint8_t* flag, uint8_t value, int64_t n, int64_t* out) noexcept nogil:
    """The runs [start, end) of the ids whose ``flag`` is ``value``, into ``out``; returns how many."""
    cdef int64_t i = 0, count = 0, start
    while i < n:
        if (flag[i] != 0) == (value != 0):
            start = i
            while i < n and (flag[i] != 0) == (value != 0):
                i += 1
            out[2 * count] = start
            out[2 * count + 1] = i
            count += 1
        else:
            i += 1
    return count


cdef int _run(Kernel* k, int64_t* fired, int64_t* extra, int64_t* merged, int64_t* tally) noexcept nogil:
    """All steps; ``fired``, ``extra`` and ``merged`` are scratch of n entries, ``tally`` (zeroed)
    of 2 m.
    Returns 0, or -1 when memory ran out.

    The step's input of a neuron is each connection's accumulator shifted by its exponent.
    When few synapses can have delivered into the step's slot (the fan-out of the spikes that
    may deliver there, at most n / SPARSE_SHARE), only the neurons on the slot's hit list are
    summed and cleared; the others' accumulators are all zero.  Else one pass sums every
    neuron and connection.  Both give the same integers; the first slots of the run take the
    full pass, whatever the state given.

    Every pointer and size is copied to a local first: the outputs are int64 stores, which the
    compiler must otherwise assume may change the struct's fields, and reload them each time.
    """
    cdef int64_t n = k.n, m = k.m, G = k.g_count, depth = k.depth, steps = k.steps, n_rec = k.n_rec
    cdef int64_t all_active = k.all_active != 0
    cdef bint has_forced = k.has_forced
    cdef int64_t* bias = k.bias
    cdef int64_t* core = k.core
    cdef uint8_t* forced = k.forced
    cdef int64_t* s_indptr = k.s_indptr
    cdef int64_t* weight_exp = k.weight_exp
    cdef int64_t* r_indptr = k.r_indptr
    cdef int64_t* r_cores = k.r_cores
    cdef int64_t* r_origin = k.r_origin
    cdef int64_t* r_hops = k.r_hops
    cdef int64_t* rec = k.rec
    cdef int64_t* u = k.u
    cdef int64_t* v = k.v
    cdef int64_t* acc = k.acc
    cdef uint8_t* hit = k.hit
    cdef int64_t* ain = k.ain
    cdef int64_t* hlist = k.hlist
    cdef int64_t* hcount = k.hcount
    cdef int64_t* load = k.load
    cdef int64_t* hl
    cdef int64_t nh, h, fan, limit = n // SPARSE_SHARE
    cdef bint sparse, pushing, dirty = False
    cdef int64_t* trace_u = k.trace_u
    cdef int64_t* trace_v = k.trace_v
    cdef int64_t* max_hops = k.max_hops
    cdef int64_t t, i, g, e, slot, a, du_dec, cu, nv, nf, j, p, src, when, d, o, hops, mx, c
    cdef int64_t* accrow
    cdef uint8_t* hitrow
    cdef int64_t* cnt_in
    cdef int64_t* cnt_syn
    cdef int64_t* cnt_act
    cdef int64_t* cnt_inact
    cdef int64_t* cnt_spk
    cdef int64_t* cnt_out
    cdef int64_t* cnt_own
    cdef int64_t act, r, ne
    cdef uint8_t* frow
    cdef int64_t* runs = k.runs
    cdef int64_t* fu = k.fu
    cdef int64_t* fv = k.fv
    cdef int64_t* vth6 = k.vth6
    cdef int64_t* fruns = k.fruns
    cdef int64_t n_runs = k.n_runs, n_fruns = k.n_fruns
    for t in range(steps):
        slot = t % depth
        cnt_in = k.counts + (C_PACKETS_IN * steps + t) * m
        cnt_syn = k.counts + (C_SYN * steps + t) * m
        cnt_act = k.counts + (C_ACTIVE * steps + t) * m
        cnt_inact = k.counts + (C_INACTIVE * steps + t) * m
        cnt_spk = k.counts + (C_SPIKES * steps + t) * m
        cnt_out = k.counts + (C_PACKETS_OUT * steps + t) * m
        cnt_own = k.counts + (C_CORE_PACKETS * steps + t) * m
        accrow = acc + slot * G * n
        hitrow = hit + slot * n
        hl = hlist + slot * n
        nh = hcount[slot]
        sparse = load[slot] <= limit
        if sparse and dirty:  # a full pass wrote every neuron's input: back to zeros
            memset(ain, 0, n * sizeof(int64_t))
            dirty = False
        if sparse:
            # the neurons hit in this step (slot 0's exponent is 0: the connections that share
            # it were shifted at delivery), their accumulators cleared for reuse
            for h in range(nh):
                i = hl[h]
                a = accrow[i]
                accrow[i] = 0
                for g in range(1, G):
                    a += _shift(accrow[g * n + i], weight_exp[g])
                    accrow[g * n + i] = 0
                ain[i] = a
        else:
            # every neuron: one contiguous pass per connection (vectorisable), then the slot
            # cleared for reuse
            e = weight_exp[0]
            for i in range(n):
                ain[i] = _shift(accrow[i], e)
            for g in range(1, G):
                e = weight_exp[g]
                for i in range(n):
                    ain[i] += _shift(accrow[g * n + i], e)
            memset(accrow, 0, G * n * sizeof(int64_t))
        # the simulated neurons, run by run (no test of which are simulated per neuron)
        nf = 0
        for r in range(n_runs):
            for i in range(runs[2 * r], runs[2 * r + 1]):
                a = ain[i]
                c = core[i]
                du_dec = _decay(u[i], fu[i])
                # counted without a branch: which way it goes is data-dependent
                act = all_active | hitrow[i] | (du_dec != 0) | (v[i] != 0) | (bias[i] != 0)
                tally[2 * c + act] += 1  # one increment per update: [inactive, active] by core
                cu = du_dec + a * ((<int64_t>1) << ACT_SHIFT)
                if cu > UV_MAX:
                    cu = cu - 2 * UV_MAX
                if cu <= -UV_MAX:
                    cu = cu + 2 * UV_MAX
                u[i] = cu
                nv = _decay(v[i], fv[i]) + cu + bias[i]
                nv = min(max(nv, -UV_MAX + 1), UV_MAX - 1)
                if nv > vth6[i]:
                    nv = 0
                    fired[nf] = i
                    nf += 1
                v[i] = nv
        # the others fire when forced; both lists ascending, merged into one
        if has_forced:
            ne = 0
            frow = forced + t * n
            for r in range(n_fruns):
                for i in range(fruns[2 * r], fruns[2 * r + 1]):
                    if frow[i]:
                        extra[ne] = i
                        ne += 1
            if ne > 0:
                nf = _merge(fired, nf, extra, ne, merged)
                fired, merged = merged, fired
        if sparse:
            for h in range(nh):
                i = hl[h]
                ain[i] = 0
                hitrow[i] = 0
        else:
            dirty = True
            memset(hitrow, 0, n)
        hcount[slot] = 0
        load[slot] = 0
        for c in range(m):
            cnt_act[c] = tally[2 * c + 1]
            cnt_inact[c] = tally[2 * c]
            tally[2 * c] = 0
            tally[2 * c + 1] = 0
        for j in range(n_rec):
            trace_u[t * n_rec + j] = u[rec[j]]
            trace_v[t * n_rec + j] = v[rec[j]]
        if nf == 0:
            continue
        if k.sp_count + nf > k.sp_cap:
            if _grow(k, k.sp_count + nf) != 0:
                return -1
        # the synapses these spikes may deliver into each later slot: their whole fan-out
        fan = 0
        for j in range(nf):
            fan += s_indptr[fired[j] + 1] - s_indptr[fired[j]]
        pushing = False  # does any later slot keep a hit list?
        for d in range(1, depth):
            when = slot + d
            if when >= depth:
                when -= depth
            load[when] += fan
            pushing = pushing | (load[when] <= limit)
        mx = 0
        for j in range(nf):
            src = fired[j]
            k.sp_step[k.sp_count + j] = t
            k.sp_neuron[k.sp_count + j] = src
            cnt_spk[core[src]] += 1
            for p in range(r_indptr[src], r_indptr[src + 1]):
                d = r_cores[p]
                o = r_origin[p]
                cnt_out[o] += 1
                cnt_in[d] += 1
                if d == o:
                    cnt_own[o] += 1
                hops = r_hops[p]
                if hops > mx:
                    mx = hops
            if pushing:  # the same loop twice, the check compiled out of the second
                _deliver(k, src, slot, cnt_syn, limit, True)
            else:
                _deliver(k, src, slot, cnt_syn, limit, False)
        k.sp_count += nf
        max_hops[t] = mx
    return 0


cdef int64_t* _p64(object a):
    cdef int64_t[::1] view = a
    return &view[0] if view.shape[0] else NULL


cdef uint8_t* _p8(object a):
    cdef uint8_t[::1] view = a
    return &view[0] if view.shape[0] else NULL


def run_loop(dict arrays, *, int64_t steps, int64_t depth, bint all_active):
    """Run every step in place; returns the spikes as ``(steps, neurons)`` int64 arrays.

    Parameters
    ----------
    arrays : dict of str to ndarray
        C-contiguous, flattened, int64 unless said: ``du dv bias vth core`` (n,),
        ``simulated`` (uint8, n), ``forced`` (uint8, steps * n, or empty; read for the neurons
        that are not simulated only, as the engine forces no other), ``s_indptr s_indices
        s_delay s_group s_mant weight_exp``, ``r_indptr r_cores r_origin r_hops``, ``rec``;
        state ``u v`` (n), ``acc`` (depth * n_groups * n, connection-major), ``hit`` (uint8, depth * n);
        outputs ``counts`` (7 * steps * m), ``max_hops`` (steps), ``trace_u trace_v``
        (steps * n_rec), all zero.
    steps, depth : int
    all_active : bool

    Raises
    ------
    MemoryError
        If the spike buffer cannot grow.
    """
    cdef Kernel k
    memset(&k, 0, sizeof(Kernel))
    k.n = arrays["u"].shape[0]
    k.m = arrays["counts"].shape[0] // (7 * steps)
    k.steps = steps
    k.depth = depth
    k.g_count = arrays["weight_exp"].shape[0]
    k.n_rec = arrays["rec"].shape[0]
    k.all_active = all_active
    k.has_forced = arrays["forced"].shape[0] > 0
    k.du = _p64(arrays["du"])
    k.dv = _p64(arrays["dv"])
    k.bias = _p64(arrays["bias"])
    k.vth = _p64(arrays["vth"])
    k.core = _p64(arrays["core"])
    k.simulated = _p8(arrays["simulated"])
    k.forced = _p8(arrays["forced"])
    k.s_indptr = _p64(arrays["s_indptr"])
    k.s_indices = _p64(arrays["s_indices"])
    k.s_delay = _p64(arrays["s_delay"])
    k.s_group = _p64(arrays["s_group"])
    k.s_mant = _p64(arrays["s_mant"])
    k.weight_exp = _p64(arrays["weight_exp"])
    k.r_indptr = _p64(arrays["r_indptr"])
    k.r_cores = _p64(arrays["r_cores"])
    k.r_origin = _p64(arrays["r_origin"])
    k.r_hops = _p64(arrays["r_hops"])
    k.rec = _p64(arrays["rec"])
    k.u = _p64(arrays["u"])
    k.v = _p64(arrays["v"])
    k.acc = _p64(arrays["acc"])
    k.hit = _p8(arrays["hit"])
    k.counts = _p64(arrays["counts"])
    k.max_hops = _p64(arrays["max_hops"])
    k.trace_u = _p64(arrays["trace_u"])
    k.trace_v = _p64(arrays["trace_v"])
    cdef int64_t* fired = <int64_t*>malloc((k.n if k.n > 0 else 1) * sizeof(int64_t))
    cdef int64_t* tally = <int64_t*>calloc(2 * k.m if k.m > 0 else 2, sizeof(int64_t))
    cdef int64_t* extra = <int64_t*>malloc((k.n if k.n > 0 else 1) * sizeof(int64_t))
    cdef int64_t* merged = <int64_t*>malloc((k.n if k.n > 0 else 1) * sizeof(int64_t))
    k.runs = <int64_t*>malloc((k.n + 2) * sizeof(int64_t))
    k.fruns = <int64_t*>malloc((k.n + 2) * sizeof(int64_t))
    k.fu = <int64_t*>malloc((k.n + 1) * sizeof(int64_t))
    k.fv = <int64_t*>malloc((k.n + 1) * sizeof(int64_t))
    k.vth6 = <int64_t*>malloc((k.n + 1) * sizeof(int64_t))
    k.ain = <int64_t*>calloc(k.n if k.n > 0 else 1, sizeof(int64_t))
    k.hlist = <int64_t*>malloc((depth * k.n if k.n > 0 else 1) * sizeof(int64_t))
    k.hcount = <int64_t*>calloc(depth, sizeof(int64_t))
    k.load = <int64_t*>malloc(depth * sizeof(int64_t))
    cdef int64_t slot, ni
    cdef int rc = 0
    if (fired == NULL or tally == NULL or k.ain == NULL or k.hlist == NULL or k.hcount == NULL
            or k.load == NULL or extra == NULL or merged == NULL or k.runs == NULL or k.fruns == NULL
            or k.fu == NULL or k.fv == NULL or k.vth6 == NULL):
        rc = -1
    else:
        for ni in range(k.n):  # per-neuron constants of the update, computed once
            k.fu[ni] = UNITY - (k.du[ni] + 1)
            k.fv[ni] = UNITY - k.dv[ni]
            k.vth6[ni] = k.vth[ni] * ((<int64_t>1) << VTH_SHIFT)
        k.n_runs = _runs_of(k.simulated, 1, k.n, k.runs)
        k.n_fruns = _runs_of(k.simulated, 0, k.n, k.fruns)
        for slot in range(depth):  # the state given may hold input: its slots take the full pass
            k.load[slot] = k.n + 1
        with nogil:
            rc = _run(&k, fired, extra, merged, tally)
    free(fired)
    free(extra)
    free(merged)
    free(k.runs)
    free(k.fu)
    free(k.fv)
    free(k.vth6)
    free(k.fruns)
    free(tally)
    free(k.ain)
    free(k.hlist)
    free(k.hcount)
    free(k.load)
    try:
        if rc != 0:
            raise MemoryError(
                f"stepped loop: out of memory (scratch arrays, or the spike buffer past {k.sp_count} spikes)")
        out_step = np.empty(k.sp_count, dtype=np.int64)
        out_neuron = np.empty(k.sp_count, dtype=np.int64)
        if k.sp_count:
            _copy(out_step, k.sp_step, k.sp_count)
            _copy(out_neuron, k.sp_neuron, k.sp_count)
    finally:
        free(k.sp_step)
        free(k.sp_neuron)
    return out_step, out_neuron


cdef void _copy(object dst, int64_t* src, int64_t count):
    cdef int64_t[::1] view = dst
    cdef int64_t i
    for i in range(count):
        view[i] = src[i]
