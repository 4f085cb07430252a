# Recurrent events per target (included by _engine.pyx), counted after the run from the
# delivered rows, so that the kernel's inner loop carries no per-event counter store.

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
