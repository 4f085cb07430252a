"""The compiled emulator engine (emulator/_engine.pyx and its includes)."""

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

# (name, dtype, length) of every array the kernel reads; length "n", "n+1", "rows+1" or ""
KERNEL_ARRAYS: tuple[tuple[str, str, str], ...]
ROUTER_ARRAYS: tuple[tuple[str, str, str], ...]

class KernelInput:
    n: int
    seed: int
    duration_s: float
    window_s: float
    gen: bool
    model: int
    route: dict[str, Any] | None
    def __init__(
        self,
        arrays: Mapping[str, NDArray[Any]],
        *,
        seed: int,
        duration_s: float,
        window_s: float,
        gen: bool,
        route: dict[str, Any] | None = None,
        model: int = 0,
        model_params: NDArray[np.float64] | None = None,
    ) -> None: ...

def run_lif(
    inp: KernelInput,
) -> tuple[NDArray[np.float64], NDArray[np.int32], NDArray[np.int64], NDArray[np.int64]]: ...
def counter_names() -> tuple[str, ...]: ...
# the plug-in neuron models compiled in (emulator/models/*.pxi): name -> (id, columns, state doubles)
def plugin_models() -> dict[str, tuple[int, int, int]]: ...
def exp_samples(seed: int, n: int) -> NDArray[np.float64]: ...
def exp_small(x: float) -> float: ...
def poisson_train(
    seed: int, neuron: int, rate: float, cum: NDArray[np.float64], duration: float
) -> tuple[NDArray[np.float64], NDArray[np.int64]]: ...
def received(
    indptr: NDArray[np.int64], indices: NDArray[np.int32], delivered: NDArray[np.int64], n: int, out: NDArray[np.int64]
) -> None: ...
# one neuron under a constant current (SI units; no validation: see neurochip.emulator)
def dc_spike_times(
    c_m: float, g_l: float, e_l: float, v_th: float, v_reset: float, t_ref: float, current: float, v0: float,
    t_stop: float,
) -> NDArray[np.float64]: ...
def adaptive_spike_times(
    c_m: float, g_l: float, e_l: float, v_th: float, v_reset: float, t_ref: float, b_inc: float, tau_w: float,
    current: float, v0: float, w0: float, t_stop: float,
) -> NDArray[np.float64]: ...
def noisy_spike_times(
    tau: float, mu: float, sigma: float, v_th: float, v_reset: float, t_ref: float, v0: float, t_stop: float,
    dt: float, seed: int,
) -> tuple[NDArray[np.float64], int]: ...
