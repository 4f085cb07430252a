"""neurochip: neuromorphic hardware co-design, from a silicon neuron netlist to a chip estimate.

``import neurochip`` is light: it loads numpy and the LIF model only.  PySpice, Dask and
matplotlib are imported by the stages that need them, when they are used.
"""

from .errors import ConfigError, InvalidParameterError, MappingError, NeurochipError, SimulationError
from .lif import LIFParams

__version__ = "0.1.0"

__all__ = [
    "LIFParams",
    "NeurochipError",
    "InvalidParameterError",
    "ConfigError",
    "SimulationError",
    "MappingError",
    "__version__",
]
