# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled two-pass counting sort that builds a network's synapse rows (see Network.csr).

Rows are ``delay class * n + pre_off + pre``; the fill is stable, so synapses keep projection
order inside a row.  No validation here: :meth:`neurochip.network.Network.csr` checks the inputs.
"""

from libc.stdint cimport int32_t, int64_t


def count_rows(const int32_t[::1] pre, const int64_t[::1] cls, int64_t cls0, int64_t n, int64_t pre_off,
               int64_t[::1] counts):
    """Add the synapses of one projection to ``counts`` (one entry per row); ``cls`` holds a
    delay class per synapse, or is empty when every synapse has the class ``cls0``."""
    cdef int64_t m = pre.shape[0], s
    cdef bint per = cls.shape[0] > 0
    with nogil:
        for s in range(m):
            counts[(cls[s] if per else cls0) * n + pre_off + pre[s]] += 1


def fill_rows(const int32_t[::1] pre, const int32_t[::1] post, const float[::1] w, float w0,
              const int64_t[::1] cls, int64_t cls0, int64_t n, int64_t pre_off, int32_t post_off,
              int64_t[::1] pos, int32_t[::1] indices, float[::1] weights):
    """Write the synapses of one projection at ``pos`` (the next free slot of each row, advanced
    in place); ``w`` holds a weight per synapse, or is empty when every weight is ``w0``."""
    cdef int64_t m = pre.shape[0], s, r
    cdef bint per_cls = cls.shape[0] > 0, per_w = w.shape[0] > 0
    with nogil:
        for s in range(m):
            r = (cls[s] if per_cls else cls0) * n + pre_off + pre[s]
            indices[pos[r]] = post[s] + post_off
            weights[pos[r]] = w[s] if per_w else w0
            pos[r] += 1
