"""The engine's random streams in plain Python: the specification of ``_rng.pxi``, bit for bit.

Every neuron's Poisson input is one wyrand stream seeded by splitmix64 of (seed, neuron);
its exponential intervals come from a 256-layer ziggurat (Marsaglia & Tsang 2000) built from
``math.exp`` and ``math.log``, the same C library functions the compiled engine calls.  The
64-bit arithmetic is Python integers masked to 64 bits (the wyrand product needs 128).
The reference backend draws its Poisson inputs here, so it runs without the compiled engine
and still sees exactly the engine's input trains.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

_MASK = (1 << 64) - 1
_R = 7.697117470131487  # start of the ziggurat's base strip
_V = 3.949659822581572e-3  # area of each layer


def splitmix64(state: int) -> tuple[int, int]:
    """One splitmix64 step: (new state, output)."""
    state = (state + 0x9E3779B97F4A7C15) & _MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return state, z ^ (z >> 31)


def _ziggurat() -> tuple[list[int], list[float], list[float]]:
    m = 9007199254740992.0  # 2^53
    ke, we, fe = [0] * 256, [0.0] * 256, [0.0] * 256
    de = te = _R
    q = _V / math.exp(-de)
    ke[0] = int((de / q) * m)
    we[0] = q / m
    we[255] = de / m
    fe[0] = 1.0
    fe[255] = math.exp(-de)
    for i in range(254, 0, -1):
        de = -math.log(_V / de + math.exp(-de))
        ke[i + 1] = int((de / te) * m)
        te = de
        fe[i] = math.exp(-de)
        we[i] = de / m
    return ke, we, fe


_KE, _WE, _FE = _ziggurat()


class Stream:
    """One wyrand stream (the engine's per-neuron generator)."""

    __slots__ = ("state",)

    def __init__(self, state: int) -> None:
        self.state = state & _MASK

    @classmethod
    def poisson(cls, seed: int, neuron: int) -> Stream:
        """A neuron's Poisson stream: splitmix64 of seed ^ (neuron * 0xd1342543de82ef95)."""
        _, first = splitmix64(seed ^ ((neuron * 0xD1342543DE82EF95) & _MASK))
        return cls(first)

    def next64(self) -> int:
        """The next 64-bit output."""
        s = (self.state + 0xA0761D6478BD642F) & _MASK
        self.state = s
        t = s * (s ^ 0xE7037ED1A0B428DB)
        return ((t >> 64) ^ t) & _MASK

    def uniform(self) -> float:
        """Uniform in (0, 1): the top 53 bits, centred in their interval."""
        return ((self.next64() >> 11) + 0.5) * 2.0**-53

    def exponential(self) -> float:
        """Exp(1) by the ziggurat: the layer from the low 8 bits, the abscissa from the top 53."""
        r = self.next64()
        iz, jz = r & 255, r >> 11
        if jz < _KE[iz]:
            return jz * _WE[iz]
        while True:
            if iz == 0:  # the tail beyond the base strip
                return _R - math.log(self.uniform())
            x = jz * _WE[iz]
            if _FE[iz] + self.uniform() * (_FE[iz - 1] - _FE[iz]) < math.exp(-x):
                return x
            r = self.next64()
            iz, jz = r & 255, r >> 11
            if jz < _KE[iz]:
                return jz * _WE[iz]


def poisson_train(
    seed: int, neuron: int, rate_hz: float, cum: NDArray[np.float64], duration_s: float
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The Poisson train the engine gives one neuron, in [0, duration_s): (times, source index).

    ``cum`` holds the neuron's cumulative source shares (one per source); an event picks its
    source with one uniform draw, before the next interval is drawn."""
    rng = Stream.poisson(seed, neuron)
    ir = 1.0 / rate_hz
    shares = [float(x) for x in cum]
    m = len(shares)
    times: list[float] = []
    src: list[int] = []
    t = rng.exponential() * ir
    while t < duration_s:
        k = 0
        if m > 1:
            u = rng.uniform()
            while k < m - 1 and shares[k] <= u:
                k += 1
        times.append(t)
        src.append(k)
        t = t + rng.exponential() * ir
    return np.array(times, dtype=np.float64), np.array(src, dtype=np.int64)


def exp_samples(seed: int, n: int) -> NDArray[np.float64]:
    """n Exp(1) draws on the wyrand stream whose state is ``seed`` (the engine's exp_samples)."""
    rng = Stream(seed)
    return np.array([rng.exponential() for _ in range(n)], dtype=np.float64)
