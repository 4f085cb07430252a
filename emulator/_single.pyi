import numpy as np
from numpy.typing import NDArray

def adaptive_spike_times(
    c_m: float,
    g_l: float,
    e_l: float,
    v_th: float,
    v_reset: float,
    t_ref: float,
    b_inc: float,
    tau_w: float,
    current: float,
    v0: float,
    w0: float,
    t_stop: float,
) -> NDArray[np.float64]: ...
def noisy_spike_times(
    tau: float,
    mu: float,
    sigma: float,
    v_th: float,
    v_reset: float,
    t_ref: float,
    v0: float,
    t_stop: float,
    dt: float,
    seed: int,
) -> tuple[NDArray[np.float64], int]: ...
