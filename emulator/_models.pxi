# The neuron-model interface (included by _engine.pyx): every place that touches a neuron's
# membrane goes through these hooks, each dispatching on the run's model: the built-in models
# (_model_lif.pxi, _model_general.pxi, model 0) or a plug-in model k > 0.  A plug-in model is
# one include, emulator/models/NAME.pxi, that defines the hooks below on its own parameter and
# state rows (c.mp, c.ms) and registers them under NAME with _register_model; the build
# includes every such file (setup.py writes _plugins.pxi).  Nothing here changes for it.
#
#   init      the state at t = 0 from v0
#   emit      a spike at t (record, reset, refractory hold)
#   apply     an own input (Poisson or given spike) of weight w at te, tested on its own
#   step      a current step at te (the drive jumps)
#   catch_up  drift spikes up to a recurrent arrival at ta (first touch of the instant)
#   add       add a recurrent weight at ta (tested after all of the instant are in: above)
#   close     end of the window at W (drift spikes before W, rebase); a plug-in's close
#             takes every neuron at once (_close_general calls it after the own inputs)
#   deliver   optional (NULL: none): the recurrent spikes arriving at one instant, all three
#             passes of _deliver_general at once; returns 0 to leave the instant to the
#             general path (the model's own fast path does not apply to this run)

ctypedef void (*mh_init_t)(Ctx *c, int64_t i) noexcept nogil
ctypedef void (*mh_emit_t)(Ctx *c, int64_t i, double t) noexcept nogil
ctypedef int (*mh_apply_t)(Ctx *c, int64_t i, double te, double w) noexcept nogil
ctypedef void (*mh_step_t)(Ctx *c, int64_t i, double te, double drive) noexcept nogil
ctypedef int (*mh_catch_up_t)(Ctx *c, int64_t i, double ta) noexcept nogil
ctypedef void (*mh_add_t)(Ctx *c, int64_t i, double ta, double w) noexcept nogil
ctypedef int (*mh_above_t)(Ctx *c, int64_t i, double ta) noexcept nogil
ctypedef void (*mh_close_t)(Ctx *c, double W) noexcept nogil
ctypedef int (*mh_deliver_t)(Ctx *c, const int64_t *indptr, const int32_t *indices, const float *weights,
                             const int64_t *rows, int64_t nrows, double ta) noexcept nogil
ctypedef int (*mh_alloc_t)(Ctx *c) noexcept nogil
ctypedef void (*mh_release_t)(Ctx *c) noexcept nogil


cdef struct ModelHooks:
    int n_params       # columns of the model's parameter rows (KernelInput.model_params)
    int n_state        # doubles of state per neuron (c.ms, zeroed before init)
    mh_init_t init
    mh_emit_t emit
    mh_apply_t apply
    mh_step_t step
    mh_catch_up_t catch_up
    mh_add_t add
    mh_above_t above
    mh_close_t close
    mh_alloc_t alloc       # the model's own buffers into c.mbuf (1: done, 0: out of memory)
    mh_release_t release   # ... freed (also after a failed alloc)
    mh_deliver_t deliver   # optional (NULL): the model's own delivery of one instant


cdef enum:
    MAX_MODELS = 16
cdef ModelHooks _HOOKS[MAX_MODELS]
cdef int _n_models = 0
_MODEL_IDS = {}


cdef int _register_model(str name, ModelHooks hooks) except -1:
    """Register a plug-in model's hooks under name (its id is 1, 2, ... in include order)."""
    global _n_models
    if name in _MODEL_IDS or _n_models + 1 >= MAX_MODELS:
        raise RuntimeError(f"plug-in model {name!r}: registered twice, or more than {MAX_MODELS - 1} models")
    _n_models += 1
    _HOOKS[_n_models] = hooks
    _MODEL_IDS[name] = _n_models
    return 0


def plugin_models():
    """The plug-in neuron models compiled in: name -> (id, parameter columns, state doubles)."""
    return {name: (k, _HOOKS[k].n_params, _HOOKS[k].n_state) for name, k in _MODEL_IDS.items()}


cdef inline void _m_init(Ctx *c, nc_neuron *n, int64_t i, uint64_t seed) noexcept nogil:
    # both records are set: the delivery path is chosen from the frame's thresholds after
    if c.model:
        _HOOKS[c.model].init(c, i)
        return
    _lif_init(c, n, i)
    _gen_init(c, i, seed)


cdef inline void _m_emit(Ctx *c, int64_t i, double t) noexcept nogil:
    if c.model:
        _HOOKS[c.model].emit(c, i, t)
    elif c.gen:
        _gen_emit(c, i, t)
    else:
        _lif_emit(c, i, t)


cdef inline int _m_apply(Ctx *c, nc_neuron *n, int64_t i, double te, double w) noexcept nogil:
    if c.model:
        return _HOOKS[c.model].apply(c, i, te, w)
    if c.gen:
        return _gen_apply(c, i, te, w)
    return _lif_apply(c, n, i, te, w, _frame(c, i, te))


cdef inline void _m_step(Ctx *c, nc_neuron *n, int64_t i, double te, double new_vinf) noexcept nogil:
    c.cnt[C_STEPS] += 1
    if c.model:
        _HOOKS[c.model].step(c, i, te, new_vinf)
    elif c.gen:
        _gen_step(c, i, te, new_vinf)
    else:
        _lif_step(c, n, i, te, new_vinf)


cdef inline int _m_catch_up(Ctx *c, nc_neuron *n, int64_t i, double ta) noexcept nogil:
    if c.model:
        return _HOOKS[c.model].catch_up(c, i, ta)
    if c.gen:
        return _gen_catch_up(c, i, ta)
    return _lif_catch_up(c, n, i, ta)


cdef inline void _m_add(Ctx *c, nc_neuron *n, int64_t i, double ta, double w) noexcept nogil:
    if c.model:
        _HOOKS[c.model].add(c, i, ta, w)
    elif c.gen:
        c.gV[i] += w
    else:
        _lif_add(c, n, i, ta, w)


cdef inline int _m_above(Ctx *c, nc_neuron *n, int64_t i, double ta) noexcept nogil:
    if c.model:
        return _HOOKS[c.model].above(c, i, ta)
    if c.gen:
        return c.gV[i] >= c.vth[i]
    return _lif_above(c, n, i, ta)


cdef inline void _m_close(Ctx *c, nc_neuron *n, int64_t i, double W, double f) noexcept nogil:
    if c.gen:
        _gdrift(c, i, W, 1)
    else:
        _lif_close(c, n, i, W, f)
