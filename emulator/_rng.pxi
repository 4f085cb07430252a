# Random streams of the engine (included by _engine.pyx).
#
# Every neuron owns its streams, so what it draws does not depend on the order in which the
# engine visits neurons: a wyrand generator (one 64-bit add, one 128-bit multiply per draw)
# seeded by splitmix64 of (seed, neuron).  Exp(1) intervals come from a 256-layer ziggurat.
# emulator/_random.py is the same in plain Python (the reference backend's copy, bit for bit).

cdef extern from *:
    """
    #include <stdint.h>
    #include <math.h>

    static inline uint64_t nc_wyrand(uint64_t *s) {
        *s += 0xa0761d6478bd642fULL;
        __uint128_t t = (__uint128_t)(*s) * (*s ^ 0xe7037ed1a0b428dbULL);
        return (uint64_t)(t >> 64) ^ (uint64_t)t;
    }

    static inline uint64_t nc_splitmix(uint64_t *s) {
        uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    static inline double nc_uniform(uint64_t *s) {      /* (0, 1) */
        return ((double)(nc_wyrand(s) >> 11) + 0.5) * 0x1.0p-53;
    }

    /* Marsaglia & Tsang (2000) exponential ziggurat, 256 layers, 53-bit abscissa from the top
       bits and the layer from the low 8 bits of one 64-bit draw. */
    static uint64_t nc_ke[256];
    static double nc_we[256], nc_fe[256];
    static int nc_zig_ready = 0;

    static void nc_zig_init(void) {
        const double m = 9007199254740992.0;  /* 2^53 */
        double de = 7.697117470131487, te = de, ve = 3.949659822581572e-3;
        double q = ve / exp(-de);
        int i;
        if (nc_zig_ready) return;
        nc_ke[0] = (uint64_t)((de / q) * m);
        nc_ke[1] = 0;
        nc_we[0] = q / m;
        nc_we[255] = de / m;
        nc_fe[0] = 1.0;
        nc_fe[255] = exp(-de);
        for (i = 254; i >= 1; i--) {
            de = -log(ve / de + exp(-de));
            nc_ke[i + 1] = (uint64_t)((de / te) * m);
            te = de;
            nc_fe[i] = exp(-de);
            nc_we[i] = de / m;
        }
        nc_zig_ready = 1;
    }

    static double nc_exp_slow(uint64_t *s, uint64_t jz, int iz) {
        for (;;) {
            double x;
            uint64_t r;
            if (iz == 0) return 7.697117470131487 - log(nc_uniform(s));
            x = (double)jz * nc_we[iz];
            if (nc_fe[iz] + nc_uniform(s) * (nc_fe[iz - 1] - nc_fe[iz]) < exp(-x)) return x;
            r = nc_wyrand(s);
            iz = (int)(r & 255);
            jz = r >> 11;
            if (jz < nc_ke[iz]) return (double)jz * nc_we[iz];
        }
    }

    static inline double nc_exp_rand(uint64_t *s) {   /* Exp(1) */
        uint64_t r = nc_wyrand(s);
        int iz = (int)(r & 255);
        uint64_t jz = r >> 11;
        if (__builtin_expect(jz < nc_ke[iz], 1)) return (double)jz * nc_we[iz];
        {   /* keep the caller's state promotable to a register: only a copy escapes */
            uint64_t tmp = *s;
            double x = nc_exp_slow(&tmp, jz, iz);
            *s = tmp;
            return x;
        }
    }
    """
    uint64_t nc_wyrand(uint64_t *s) noexcept nogil
    uint64_t nc_splitmix(uint64_t *s) noexcept nogil
    double nc_uniform(uint64_t *s) noexcept nogil
    void nc_zig_init() noexcept nogil
    double nc_exp_rand(uint64_t *s) noexcept nogil


cdef inline uint64_t _poisson_stream(uint64_t seed, int64_t neuron) noexcept nogil:
    """Initial state of a neuron's Poisson stream: splitmix64 of (seed, neuron)."""
    cdef uint64_t sm = seed ^ (<uint64_t> neuron * 0xd1342543de82ef95ULL)
    return nc_splitmix(&sm)


cdef inline uint64_t _noise_stream(uint64_t seed, int64_t neuron) noexcept nogil:
    """Initial state of a noisy neuron's white-noise stream (independent of its Poisson one)."""
    cdef uint64_t sm = seed ^ (<uint64_t> neuron * 0x9e3779b97f4a7c15ULL) ^ 0x6a09e667f3bcc909ULL
    return nc_splitmix(&sm)


def poisson_train(uint64_t seed, int64_t neuron, double rate, const double[::1] cum, double duration):
    """The Poisson train the engine gives one neuron: (times, source index), same stream.

    ``cum`` is the neuron's cumulative source shares (length = number of sources)."""
    cdef uint64_t rng = _poisson_stream(seed, neuron)
    cdef double t, u, ir = 1.0 / rate
    cdef int64_t k, m = cum.shape[0]
    nc_zig_init()
    times = []
    src = []
    t = nc_exp_rand(&rng) * ir
    while t < duration:
        k = 0
        if m > 1:
            u = nc_uniform(&rng)
            while k < m - 1 and cum[k] <= u:
                k += 1
        times.append(t)
        src.append(k)
        t = t + nc_exp_rand(&rng) * ir
    return np.array(times, dtype=np.float64), np.array(src, dtype=np.int64)


def exp_samples(uint64_t seed, int64_t n):
    """n Exp(1) draws of the kernel's ziggurat on one wyrand stream (for tests)."""
    cdef uint64_t s = seed
    out = np.empty(n, dtype=np.float64)
    cdef double[::1] o = out
    cdef int64_t k
    nc_zig_init()
    for k in range(n):
        o[k] = nc_exp_rand(&s)
    return out
