# Synapse rows (included by _engine.pyx): the two passes of the counting sort that builds the
# CSR arrays (neurochip.network), and the per-target count of delivered recurrent events.

def csr_count(const int32_t[::1] pre, const int64_t[::1] cls, int64_t cls0, int64_t n, int64_t pre_off,
              int64_t[::1] counts):
    """Count synapses per row (row = delay class * n + pre_off + pre); ``cls`` per synapse, or
    empty for one class ``cls0``."""
    cdef int64_t m = pre.shape[0], s
    cdef bint per = cls.shape[0] > 0
    with nogil:
        for s in range(m):
            counts[(cls[s] if per else cls0) * n + pre_off + pre[s]] += 1


def csr_fill(const int32_t[::1] pre, const int32_t[::1] post, const float[::1] w, float w0,
             const int64_t[::1] cls, int64_t cls0, int64_t n, int64_t pre_off, int32_t post_off,
             int64_t[::1] pos, int32_t[::1] indices, float[::1] weights):
    """Stable fill of the rows (pos: next free slot per row); ``w`` per synapse or empty for
    one weight ``w0``."""
    cdef int64_t m = pre.shape[0], s, r
    cdef bint per_cls = cls.shape[0] > 0, per_w = w.shape[0] > 0
    with nogil:
        for s in range(m):
            r = (cls[s] if per_cls else cls0) * n + pre_off + pre[s]
            indices[pos[r]] = post[s] + post_off
            weights[pos[r]] = w[s] if per_w else w0
            pos[r] += 1


def received(const int64_t[::1] indptr, const int32_t[::1] indices, const int64_t[::1] delivered,
             int64_t n, int64_t[::1] out):
    """out[target] += delivered[row] for every synapse of every row (rows = delay class * n + pre)."""
    cdef int64_t rows = indptr.shape[0] - 1, r, s, d
    with nogil:
        for r in range(rows):
            d = delivered[r]
            if d:
                for s in range(indptr[r], indptr[r + 1]):
                    out[indices[s]] += d
