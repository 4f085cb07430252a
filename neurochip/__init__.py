"""neurochip: neuromorphic hardware co-design, from a silicon neuron netlist to a chip estimate.

The whole pipeline in a few names, loaded lazily (PEP 562) so that ``import neurochip`` stays
light: it loads numpy and the LIF model only, and PySpice, Dask and matplotlib are imported by the
stages that need them, when they are used.

=====================  ===================================================================
name                   what it is
=====================  ===================================================================
``LIFParams``          LIF neuron parameters in SI units (:mod:`neurochip.lif`: closed forms)
``fit_circuit``        simulate a neuron netlist in ngspice and fit LIFParams to it
``Network``,           a network: populations, projections (connection rules
``Population``,        ``FixedInDegree``, ``FixedProbability``, ``AllToAll``, ``OneToOne``,
``Projection``         ``Explicit``)
``PoissonInput``,      stimuli
``SpikeTimesInput``,
``CurrentStep``
``load_chip``          a chip preset (``"loihi"``, ``"truenorth"``, ``"dynapse2"``,
                       ``"generic"``) or a chip TOML file
``map_network``        place a network on a chip's cores under its capacities
``run``                emulate a network (exact, event-driven), optionally routed on a chip
``run_on_chip``        map, emulate with routed packets, count: the record every report reads
``energy_report``,     the reports of a run record
``throughput_report``,
``saturation_report``
=====================  ===================================================================

Examples
--------
>>> import neurochip as nc
>>> p = nc.LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-9, v_th_volt=0.5, t_ref_s=1e-3)
>>> round(nc.lif.rheobase(p) * 1e9, 6)  # nA: g_L (V_th - E_L)
0.5
"""

from __future__ import annotations

import importlib
from typing import Any

from . import lif
from .errors import ConfigError, InvalidParameterError, MappingError, NeurochipError, SimulationError
from .lif import LIFParams

__version__ = "0.1.0"

#: public name -> (module, attribute), imported on first use
_LAZY: dict[str, tuple[str, str]] = {
    "fit_circuit": ("neurochip.circuit", "fit_lif"),
    "load_chip": ("neurochip.chip", "load_chip"),
    "map_network": ("neurochip.mapping", "map_network"),
    "run": ("neurochip.emulator", "run"),
    "run_on_chip": ("neurochip.onchip", "run_on_chip"),
    "energy_report": ("neurochip.report", "energy_report"),
    "throughput_report": ("neurochip.report", "throughput_report"),
    "saturation_report": ("neurochip.report", "saturation_report"),
    "Cuba": ("neurochip.models.cuba", "Cuba"),
    **{
        name: ("neurochip.network", name)
        for name in (
            "Network", "Population", "Projection", "FixedInDegree", "FixedProbability", "AllToAll",
            "OneToOne", "Explicit", "PoissonInput", "SpikeTimesInput", "CurrentStep",
        )
    },
}  # fmt: skip

__all__ = [
    "LIFParams",
    "lif",
    "NeurochipError",
    "InvalidParameterError",
    "ConfigError",
    "SimulationError",
    "MappingError",
    "__version__",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'neurochip' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
