import numpy as np
from numpy.typing import NDArray

def count_rows(pre: NDArray[np.int32], cls: NDArray[np.int64], cls0: int, n: int, pre_off: int,
               counts: NDArray[np.int64]) -> None: ...
def fill_rows(pre: NDArray[np.int32], post: NDArray[np.int32], w: NDArray[np.float32], w0: float,
              cls: NDArray[np.int64], cls0: int, n: int, pre_off: int, post_off: int,
              pos: NDArray[np.int64], indices: NDArray[np.int32], weights: NDArray[np.float32]) -> None: ...
