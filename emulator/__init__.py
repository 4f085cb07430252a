"""The neurochip emulator: exact event-driven LIF dynamics, compiled with Cython.

The compiled kernels live in ``neurochip.emulator._core``; this module is the public wrapper
that validates inputs and turns kernel results into arrays in SI units.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError
from ..lif import LIFParams

try:
    from . import _core
except ImportError as exc:  # pragma: no cover - depends on the build
    raise ImportError(
        "neurochip.emulator._core is not built; run `make install` (or `pip install -e .`) "
        "in the repository to compile it"
    ) from exc

__all__ = ["dc_spike_times"]


def dc_spike_times(
    params: LIFParams, current_amp: float, *, duration_s: float, v0_volt: float | None = None
) -> NDArray[np.float64]:
    """Exact spike times (s) of one neuron under a constant current, from the compiled core.

    Parameters
    ----------
    params : LIFParams
        A non-adapting, noise-free neuron.
    current_amp : float
        Constant input current in A.
    duration_s : float
        Simulated time in s, > 0.
    v0_volt : float, optional
        Initial membrane potential; defaults to ``params.v_reset_volt``.

    Returns
    -------
    ndarray of float64
        Spike times in [0, duration_s).
    """
    if not duration_s > 0:
        raise InvalidParameterError(f"duration_s = {duration_s!r}: must be > 0")
    if params.is_adapting or params.noise_sigma_volt > 0:
        raise InvalidParameterError("dc_spike_times: needs a non-adapting, noise-free neuron")
    v0 = params.v_reset_volt if v0_volt is None else float(v0_volt)
    return _core.dc_spike_times(
        params.c_m_farad,
        params.g_leak_siemens,
        params.e_leak_volt,
        params.v_th_volt,
        params.v_reset_volt,
        params.t_ref_s,
        float(current_amp),
        v0,
        float(duration_s),
    )
