# The neuron-model interface (included by _engine.pyx): every place that touches a neuron's
# membrane goes through these hooks, each dispatching on the run's model.  A new neuron model
# is one include with the same hooks (_model_lif.pxi, _model_general.pxi) and one branch here;
# the delivery, input and window code does not change.
#
#   init      the state at t = 0 from v0
#   emit      a spike at t (record, reset, refractory hold)
#   apply     an own input (Poisson or given spike) of weight w at te, tested on its own
#   step      a current step at te (the drive jumps)
#   catch_up  drift spikes up to a recurrent arrival at ta (first touch of the instant)
#   add       add a recurrent weight at ta (tested after all of the instant are in: above)
#   close     end of the window at W (drift spikes before W, rebase)

cdef inline void _m_init(Ctx *c, nc_neuron *n, int64_t i, uint64_t seed) noexcept nogil:
    # both records are set: the delivery path is chosen from the frame's thresholds after
    _lif_init(c, n, i)
    _gen_init(c, i, seed)


cdef inline void _m_emit(Ctx *c, int64_t i, double t) noexcept nogil:
    if c.gen:
        _gen_emit(c, i, t)
    else:
        _lif_emit(c, i, t)


cdef inline int _m_apply(Ctx *c, nc_neuron *n, int64_t i, double te, double w) noexcept nogil:
    if c.gen:
        return _gen_apply(c, i, te, w)
    return _lif_apply(c, n, i, te, w, _frame(c, i, te))


cdef inline void _m_step(Ctx *c, nc_neuron *n, int64_t i, double te, double new_vinf) noexcept nogil:
    c.cnt[C_STEPS] += 1
    if c.gen:
        _gen_step(c, i, te, new_vinf)
    else:
        _lif_step(c, n, i, te, new_vinf)


cdef inline int _m_catch_up(Ctx *c, nc_neuron *n, int64_t i, double ta) noexcept nogil:
    if c.gen:
        return _gen_catch_up(c, i, ta)
    return _lif_catch_up(c, n, i, ta)


cdef inline void _m_add(Ctx *c, nc_neuron *n, int64_t i, double ta, double w) noexcept nogil:
    if c.gen:
        c.gV[i] += w
    else:
        _lif_add(c, n, i, ta, w)


cdef inline int _m_above(Ctx *c, nc_neuron *n, int64_t i, double ta) noexcept nogil:
    if c.gen:
        return c.gV[i] >= c.vth[i]
    return _lif_above(c, n, i, ta)


cdef inline void _m_close(Ctx *c, nc_neuron *n, int64_t i, double W, double f) noexcept nogil:
    if c.gen:
        _gdrift(c, i, W, 1)
    else:
        _lif_close(c, n, i, W, f)
