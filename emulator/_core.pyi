import numpy as np
from numpy.typing import NDArray

def dc_spike_times(
    c_m: float,
    g_l: float,
    e_l: float,
    v_th: float,
    v_reset: float,
    t_ref: float,
    current: float,
    v0: float,
    t_stop: float,
) -> NDArray[np.float64]: ...
