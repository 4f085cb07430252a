"""Stub of the compiled step loop (neurochip/stepped/_loop.pyx)."""

import numpy as np
from numpy.typing import NDArray

SPARSE_SHARE_OF_N: int

def run_loop(
    arrays: dict[str, NDArray[np.int64] | NDArray[np.uint8]], *, steps: int, depth: int, all_active: bool
) -> tuple[NDArray[np.int64], NDArray[np.int64]]: ...
