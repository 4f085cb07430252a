from typing import Any

import numpy as np
from numpy.typing import NDArray

def counter_names() -> tuple[str, ...]: ...
def exp_samples(seed: int, n: int) -> NDArray[np.float64]: ...
def exp_small(x: float) -> float: ...
def poisson_train(
    seed: int, neuron: int, rate: float, cum: NDArray[np.float64], duration: float
) -> tuple[NDArray[np.float64], NDArray[np.int64]]: ...
def csr_count(
    pre: NDArray[np.int32], cls: NDArray[np.int64], cls0: int, n: int, pre_off: int, counts: NDArray[np.int64]
) -> None: ...
def csr_fill(
    pre: NDArray[np.int32],
    post: NDArray[np.int32],
    w: NDArray[np.float32],
    w0: float,
    cls: NDArray[np.int64],
    cls0: int,
    n: int,
    pre_off: int,
    post_off: int,
    pos: NDArray[np.int64],
    indices: NDArray[np.int32],
    weights: NDArray[np.float32],
) -> None: ...
def received(
    indptr: NDArray[np.int64], indices: NDArray[np.int32], delivered: NDArray[np.int64], n: int, out: NDArray[np.int64]
) -> None: ...
def run_lif(
    inv_tau: NDArray[np.float64],
    vinf: NDArray[np.float64],
    vth: NDArray[np.float64],
    vreset: NDArray[np.float64],
    tref: NDArray[np.float64],
    v0: NDArray[np.float64],
    rate: NDArray[np.float64],
    pois_ptr: NDArray[np.int64],
    pois_cum: NDArray[np.float64],
    pois_w: NDArray[np.float64],
    sin_ptr: NDArray[np.int64],
    sin_t: NDArray[np.float64],
    sin_w: NDArray[np.float64],
    st_ptr: NDArray[np.int64],
    st_t: NDArray[np.float64],
    st_vinf: NDArray[np.float64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    weights: NDArray[np.float32],
    delays: NDArray[np.float64],
    seed: int,
    duration: float,
    window: float,
    uniform_tau: int,
    use_poly: int,
    spike_count: NDArray[np.int64],
    counters: NDArray[np.int64],
    cm: NDArray[np.float64],
    binc: NDArray[np.float64],
    inv_tau_w: NDArray[np.float64],
    gen: int,
    sigma: NDArray[np.float64],
    noise_dt: NDArray[np.float64],
    route: dict[str, Any] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.int32]]: ...
