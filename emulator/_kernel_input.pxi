# The kernel's one input (included by _engine.pyx): the prepared network, its synapses and,
# for a routed run, the routing tables, as typed memoryviews.  No validation here: the wrapper
# (neurochip.emulator._kernel_input) checks every array against KERNEL_ARRAYS and
# ROUTER_ARRAYS, the one list of what the kernel reads.

# (name, dtype, length): "n" one per neuron, "n+1" row pointers over the neurons, "rows+1"
# row pointers over (delay class, neuron), "" any length (an empty input stream holds one
# unused element; no synapses, no element: those pointers are never read then)
KERNEL_ARRAYS = (
    ("inv_tau", "float64", "n"),       # g_L / C (1/s; 0: perfect integrator)
    ("vinf", "float64", "n"),          # V_inf (V), or I / C (V/s) for a perfect integrator
    ("vth", "float64", "n"),
    ("vreset", "float64", "n"),
    ("tref", "float64", "n"),
    ("v0", "float64", "n"),
    ("cm", "float64", "n"),
    ("binc", "float64", "n"),          # adaptation jump (A)
    ("inv_tau_w", "float64", "n"),
    ("sigma", "float64", "n"),         # white-noise sigma (V)
    ("noise_dt", "float64", "n"),      # noise substep (s)
    ("rate", "float64", "n"),          # total Poisson rate (Hz)
    ("pois_ptr", "int64", "n+1"),
    ("pois_cum", "float64", ""),
    ("pois_w", "float64", ""),
    ("sin_ptr", "int64", "n+1"),
    ("sin_t", "float64", ""),
    ("sin_w", "float64", ""),
    ("st_ptr", "int64", "n+1"),
    ("st_t", "float64", ""),
    ("st_vinf", "float64", ""),
    ("indptr", "int64", "rows+1"),     # synapse rows: delay class * n + source neuron
    ("indices", "int32", ""),
    ("weights", "float32", ""),
    ("delays", "float64", ""),         # the delay classes (s), ascending
)
# the routing tables (neurochip.emulator._routing.routing_tables); the last four are outputs
ROUTER_ARRAYS = (
    ("neuron_core", "int32", "n"),
    ("route_indptr", "int64", "n+1"),
    ("route_cores", "int32", ""),
    ("entry_sub_ptr", "int64", ""),
    ("entry_sub", "int64", ""),
    ("sub_class", "int32", ""),
    ("sub_indptr", "int64", ""),
    ("sub_indices", "int32", ""),
    ("sub_weights", "float32", ""),
    ("sub_delivered", "int64", ""),
    ("core_counters", "int64", ""),
    ("link_counters", "int64", ""),
    ("link_busy_s", "float64", ""),
)


cdef class KernelInput:
    """Everything one run of the kernel reads: ``arrays`` maps every name of KERNEL_ARRAYS
    (and of ROUTER_ARRAYS when ``route`` is given) to a C-contiguous array of its dtype.
    ``route`` is the routing-table dict (its scalars are read here; the kernel writes its
    outputs into it)."""

    cdef readonly int64_t n
    cdef readonly uint64_t seed
    cdef readonly double duration_s
    cdef readonly double window_s
    cdef readonly bint gen
    cdef readonly int model
    cdef readonly object route
    cdef const double[::1] model_params
    cdef const double[::1] inv_tau, vinf, vth, vreset, tref, v0, cm, binc, inv_tau_w, sigma, noise_dt
    cdef const double[::1] rate, pois_cum, pois_w, sin_t, sin_w, st_t, st_vinf, delays
    cdef const int64_t[::1] pois_ptr, sin_ptr, st_ptr, indptr
    cdef const int32_t[::1] indices
    cdef const float[::1] weights
    # the router's
    cdef const int32_t[::1] neuron_core, route_cores, sub_class, sub_indices
    cdef const int64_t[::1] route_indptr, entry_sub_ptr, entry_sub, sub_indptr
    cdef const float[::1] sub_weights
    cdef int64_t[::1] sub_delivered, core_counters, link_counters
    cdef double[::1] link_busy_s

    def __init__(self, arrays, *, uint64_t seed, double duration_s, double window_s, bint gen, route=None,
                 int model=0, model_params=None):
        self.n = arrays["inv_tau"].shape[0]
        self.seed = seed
        self.duration_s = duration_s
        self.window_s = window_s
        self.gen = gen
        self.route = route
        self.model = model
        if model:
            if not 0 < model <= _n_models:
                raise ValueError(f"model = {model}: no such plug-in model ({plugin_models()})")
            if model_params is None or model_params.shape[0] != self.n * _HOOKS[model].n_params:
                raise ValueError(f"model_params: need {_HOOKS[model].n_params} values per neuron")
            self.model_params = model_params
        self.inv_tau = arrays["inv_tau"]
        self.vinf = arrays["vinf"]
        self.vth = arrays["vth"]
        self.vreset = arrays["vreset"]
        self.tref = arrays["tref"]
        self.v0 = arrays["v0"]
        self.cm = arrays["cm"]
        self.binc = arrays["binc"]
        self.inv_tau_w = arrays["inv_tau_w"]
        self.sigma = arrays["sigma"]
        self.noise_dt = arrays["noise_dt"]
        self.rate = arrays["rate"]
        self.pois_ptr = arrays["pois_ptr"]
        self.pois_cum = arrays["pois_cum"]
        self.pois_w = arrays["pois_w"]
        self.sin_ptr = arrays["sin_ptr"]
        self.sin_t = arrays["sin_t"]
        self.sin_w = arrays["sin_w"]
        self.st_ptr = arrays["st_ptr"]
        self.st_t = arrays["st_t"]
        self.st_vinf = arrays["st_vinf"]
        self.indptr = arrays["indptr"]
        self.indices = arrays["indices"]
        self.weights = arrays["weights"]
        self.delays = arrays["delays"]
        if route is None:
            return
        self.neuron_core = arrays["neuron_core"]
        self.route_indptr = arrays["route_indptr"]
        self.route_cores = arrays["route_cores"]
        self.entry_sub_ptr = arrays["entry_sub_ptr"]
        self.entry_sub = arrays["entry_sub"]
        self.sub_class = arrays["sub_class"]
        self.sub_indptr = arrays["sub_indptr"]
        self.sub_indices = arrays["sub_indices"]
        self.sub_weights = arrays["sub_weights"]
        self.sub_delivered = arrays["sub_delivered"]
        self.core_counters = arrays["core_counters"]
        self.link_counters = arrays["link_counters"]
        self.link_busy_s = arrays["link_busy_s"]


cdef void _ctx_bind(Ctx *c, KernelInput inp) noexcept:
    """Point the run's state at the input arrays (vinf is copied: current steps change it)."""
    cdef int64_t i
    c.inv_tau = <double *> &inp.inv_tau[0]
    c.vth = <double *> &inp.vth[0]
    c.vreset = <double *> &inp.vreset[0]
    c.tref = <double *> &inp.tref[0]
    c.v0 = <double *> &inp.v0[0]
    c.rate = <double *> &inp.rate[0]
    c.pois_ptr = <int64_t *> &inp.pois_ptr[0]
    c.pois_cum = <double *> &inp.pois_cum[0]
    c.pois_w = <double *> &inp.pois_w[0]
    c.sin_ptr = <int64_t *> &inp.sin_ptr[0]
    c.sin_t = <double *> &inp.sin_t[0]
    c.sin_w = <double *> &inp.sin_w[0]
    c.st_ptr = <int64_t *> &inp.st_ptr[0]
    c.st_t = <double *> &inp.st_t[0]
    c.st_vinf = <double *> &inp.st_vinf[0]
    c.indptr = &inp.indptr[0]
    c.nrows = inp.indptr.shape[0] - 1
    c.pf_weights = 1
    c.pf_state = 0
    c.pf_row = NULL
    c.indices = &inp.indices[0]
    c.weights = &inp.weights[0]
    c.ga = <double *> &inp.inv_tau[0]
    c.gb = <double *> &inp.inv_tau_w[0]
    c.gcm = <double *> &inp.cm[0]
    c.gbinc = <double *> &inp.binc[0]
    c.gsig = <double *> &inp.sigma[0]
    c.gdt = <double *> &inp.noise_dt[0]
    c.gen = inp.gen
    c.mp = &inp.model_params[0] if inp.model else NULL
    c.mpk = _HOOKS[inp.model].n_params if inp.model else 0
    c.has_extra = inp.sin_ptr[c.n] > 0 or inp.st_ptr[c.n] > 0
    c.own_inputs = c.has_extra or inp.pois_ptr[c.n] > 0
    c.window = inp.window_s
    c.kwin = 0
    c.mbuf = NULL
    c.multi_pois = 0
    c.inv_tau0 = inp.inv_tau[0]
    c.uniform_tau = 1
    for i in range(c.n):
        c.vinf[i] = inp.vinf[i]
        if inp.inv_tau[i] != c.inv_tau0:
            c.uniform_tau = 0
    c.T = 0.0
    c.err = 0
    for i in range(N_COUNTERS):
        c.cnt[i] = 0
