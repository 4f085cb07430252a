# The state of one run (included by _engine.pyx): the neuron records, the counters, the
# buffers of one window, the spike log, and their allocation and release in one place.

cdef extern from *:
    """
    #include <stdint.h>
    #include <stdlib.h>

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

    static void *nc_alloc_aligned(size_t bytes) {   /* cache-line aligned, never 0 bytes */
        bytes = (bytes + 63) & ~(size_t)63;
        return aligned_alloc(64, bytes > 0 ? bytes : 64);
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
    void *nc_alloc_aligned(size_t bytes) noexcept nogil
    void NC_PREFETCH(const void *p) noexcept nogil


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


# the delivery path, chosen once per run (_delivery.pxi)
cdef enum:
    PATH_GENERAL = 0   # any inputs, any neuron model
    PATH_FAST = 1      # one Poisson source, uniform tau, frame LIF, no suprathreshold drive
    PATH_HOM = 2       # PATH_FAST with threshold, Poisson rate and weight shared: 32-byte neurons


def counter_names():
    """Names of the kernel counters, in the order of the counters array."""
    return ("rec_events", "rec_discarded", "ext_events", "ext_discarded", "neuron_updates",
            "spikes", "current_steps", "windows", "drift_spikes")


cdef struct Ctx:
    int64_t n
    int path
    nc_neuron *nr
    nc_hot *hot       # PATH_HOM: the neurons' hot part
    double hthr       # PATH_HOM: the shared V_th - V_inf, Poisson weight and 1 / rate
    double hw
    double hir
    int32_t *due      # hot paths: targets with own inputs due before an arrival
    int32_t *cand     # targets that reached threshold while an instant's inputs were added
    int64_t ccap
    int64_t *rows     # the rows (or sub-rows) whose spikes arrive at one instant
    int64_t rcap
    double *touch     # instant at which a neuron was last drift-checked for recurrent input
    # the parameters (KernelInput), and vinf, the run's own copy (current steps change it)
    double *inv_tau
    double *vinf
    double *vth
    double *vreset
    double *tref
    double *v0
    double *rate
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
    const int64_t *indptr
    const int32_t *indices
    const float *weights
    int has_extra
    int multi_pois
    int uniform_tau
    double inv_tau0
    double T          # start of the current window (the frame's origin)
    nc_spike *wbuf    # the current window's spikes
    int64_t wn
    int64_t wcap
    int64_t cnt[N_COUNTERS]
    int err
    int gen           # general state (_model_general.pxi) instead of the frame
    double *gV
    double *gT
    double *gW
    double *ga        # g_L / C (0: perfect integrator)
    double *gb        # 1 / tau_w
    double *gcm
    double *gbinc
    double *gsig      # white-noise sigma (V, Brunel's convention); > 0 for a noisy neuron
    double *gdt       # its substep (s)
    uint64_t *gR      # its noise stream
    int model         # 0: the built-in models; k > 0: plug-in model k (_models.pxi)
    const double *mp  # the plug-in's parameter rows (n, mpk) and state rows (n, msk)
    int64_t mpk
    double *ms
    int64_t msk
    void *mbuf        # the plug-in's own buffers (its alloc / release hooks)
    double window     # the window length (s)
    int64_t kwin      # the current window's index
    int own_inputs    # any Poisson input, given spike or current step in the run
    int64_t nrows     # rows of indptr (delay classes x neurons)
    # 1: the logged delivery prefetches the coming rows' weights (0: a model that reads none,
    # as CUBA's uniform delivery on rows of one weight)
    int pf_weights
    # 1: the logged delivery also prefetches the state rows (ms) of the first targets of a coming
    # arrival, and its row's entry in pf_row (NULL: none): for a plug-in model whose own
    # delivery reads them (CUBA's uniform delivery: the row's common weight)
    int pf_state
    const float *pf_row


# the spike log, sorted by (time, address), and per delay class the next spike whose arrival
# is still to be delivered
cdef struct Log:
    double *t
    int32_t *id
    int64_t n
    int64_t cap
    int64_t K
    const double *delays
    int64_t *ptr


cdef void *_grow(void *buf, int64_t *cap, size_t item, int *err) noexcept nogil:
    """A full buffer of cap items, doubled (cap updated); when out of memory the same buffer,
    cap unchanged and err set.  The callers check for a full buffer first (a rare branch)."""
    cdef void *tmp = realloc(buf, 2 * cap[0] * item)
    if tmp == NULL:
        err[0] = 1
        return buf
    cap[0] *= 2
    return tmp


cdef inline void _record(Ctx *c, int64_t i, double t) noexcept nogil:
    """Append a spike to the window buffer and count it (the count per neuron is taken from the
    spike log after the run: an increment here missed the cache on large networks)."""
    if c.wn == c.wcap:
        c.wbuf = <nc_spike *> _grow(c.wbuf, &c.wcap, sizeof(nc_spike), &c.err)
        if c.wn == c.wcap:
            return
    c.wbuf[c.wn].t = t
    c.wbuf[c.wn].id = <int32_t> i
    c.wn += 1
    c.cnt[C_SPIKES] += 1


cdef inline void _candidate(Ctx *c, int64_t *nc, int64_t i) noexcept nogil:
    """Remember a target that reached threshold during an instant's additions (tested after)."""
    if nc[0] == c.ccap:
        c.cand = <int32_t *> _grow(c.cand, &c.ccap, sizeof(int32_t), &c.err)
        if nc[0] == c.ccap:
            return
    c.cand[nc[0]] = <int32_t> i
    nc[0] += 1


cdef inline int _push_row(Ctx *c, int64_t ng, int64_t row) noexcept nogil:
    """rows[ng] = row, growing the buffer; 0 (and c.err) when out of memory."""
    if ng == c.rcap:
        c.rows = <int64_t *> _grow(c.rows, &c.rcap, sizeof(int64_t), &c.err)
        if ng == c.rcap:
            return 0
    c.rows[ng] = row
    return 1


cdef int _log_window(Ctx *c, Log *log) noexcept nogil:
    """The window's spikes, sorted by (time, address), join the log; 0 when out of memory."""
    cdef void *tmp
    cdef int64_t k
    if c.wn == 0:
        return 1
    qsort(c.wbuf, c.wn, sizeof(nc_spike), nc_spike_cmp)
    if log.n + c.wn > log.cap:
        while log.n + c.wn > log.cap:
            log.cap *= 2
        tmp = realloc(log.t, log.cap * sizeof(double))
        if tmp == NULL:
            return 0
        log.t = <double *> tmp
        tmp = realloc(log.id, log.cap * sizeof(int32_t))
        if tmp == NULL:
            return 0
        log.id = <int32_t *> tmp
    for k in range(c.wn):
        log.t[log.n + k] = c.wbuf[k].t
        log.id[log.n + k] = c.wbuf[k].id
    log.n += c.wn
    c.wn = 0
    return 1


cdef int _state_alloc(Ctx *c, Log *log, int64_t n, int64_t K) noexcept nogil:
    """Allocate the run's buffers (the hot-path ones later, when the path is known); 0 when
    out of memory (whatever was allocated is freed by _state_free)."""
    cdef int64_t i
    c.n = n
    c.nr = <nc_neuron *> nc_alloc_aligned(n * sizeof(nc_neuron))
    c.hot = NULL
    c.due = NULL
    c.ccap = 1024
    c.cand = <int32_t *> malloc(c.ccap * sizeof(int32_t))
    c.rcap = 64
    c.rows = <int64_t *> malloc(c.rcap * sizeof(int64_t))
    c.touch = <double *> malloc((n + 1) * sizeof(double))
    c.vinf = <double *> malloc((n + 1) * sizeof(double))
    c.sin_pos = <int64_t *> malloc((n + 1) * sizeof(int64_t))
    c.st_pos = <int64_t *> malloc((n + 1) * sizeof(int64_t))
    c.gR = <uint64_t *> malloc((n + 1) * sizeof(uint64_t))
    c.gV = <double *> malloc((n + 1) * sizeof(double))
    c.gT = <double *> malloc((n + 1) * sizeof(double))
    c.gW = <double *> malloc((n + 1) * sizeof(double))
    c.ms = <double *> nc_alloc_aligned((n * c.msk + 1) * sizeof(double))  # rows may fill cache lines
    if c.ms != NULL:
        for i in range(n * c.msk + 1):
            c.ms[i] = 0.0
    c.wcap = 1024
    c.wn = 0
    c.wbuf = <nc_spike *> malloc(c.wcap * sizeof(nc_spike))
    log.n = 0
    log.cap = 1024
    log.K = K
    log.t = <double *> malloc(log.cap * sizeof(double))
    log.id = <int32_t *> malloc(log.cap * sizeof(int32_t))
    log.ptr = <int64_t *> calloc(K + 1, sizeof(int64_t))
    return not (c.nr == NULL or c.cand == NULL or c.rows == NULL or c.touch == NULL or c.vinf == NULL
                or c.sin_pos == NULL or c.st_pos == NULL or c.gR == NULL or c.gV == NULL
                or c.gT == NULL or c.gW == NULL or c.ms == NULL or c.wbuf == NULL or log.t == NULL
                or log.id == NULL or log.ptr == NULL)


cdef void _state_free(Ctx *c, Log *log) noexcept nogil:
    """Free the run's state (every pointer is NULL or owned; free(NULL) is a no-op)."""
    free(c.nr)
    free(c.hot)
    free(c.due)
    free(c.cand)
    free(c.rows)
    free(c.touch)
    free(c.vinf)
    free(c.sin_pos)
    free(c.st_pos)
    free(c.gR)
    free(c.gV)
    free(c.gT)
    free(c.gW)
    free(c.ms)
    free(c.wbuf)
    free(log.t)
    free(log.id)
    free(log.ptr)
