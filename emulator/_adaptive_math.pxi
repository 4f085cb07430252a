# Shared by the compiled emulator modules (``include``d, so each stays one extension):
# the two helpers of the exact adaptive-LIF solution, continuous at d = 0.

cdef inline double _phi(double d, double t) noexcept nogil:
    """expm1(d t) / d, continuous at d = 0 (= t)."""
    if fabs(d * t) < 1e-300:
        return t
    return expm1(d * t) / d


cdef inline double _log1p_over(double z, double d) noexcept nogil:
    """log1p(z d) / d, continuous at d = 0 (= z)."""
    if fabs(z * d) < 1e-300:
        return z
    return log1p(z * d) / d
