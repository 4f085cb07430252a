"""Silicon neuron circuits: netlist templates, ngspice simulation, LIF fit, Monte Carlo mismatch.

Everything that touches PySpice lives in this package, and PySpice is imported only when a
simulation runs.  See ``docs/circuits.md``.
"""

from __future__ import annotations

from .fit import FitOptions, FitResult, fit_lif, measure_isi
from .netlist import NetlistTemplate, ParamDecl, list_circuits, load_circuit
from .simulate import (
    SolverSettings,
    Stimulus,
    Trace,
    detect_spikes,
    energy_per_spike,
    simulate,
    static_power,
)

__all__ = [
    "FitOptions",
    "FitResult",
    "NetlistTemplate",
    "ParamDecl",
    "SolverSettings",
    "Stimulus",
    "Trace",
    "detect_spikes",
    "energy_per_spike",
    "fit_lif",
    "list_circuits",
    "load_circuit",
    "measure_isi",
    "simulate",
    "spice_available",
    "static_power",
]


def spice_available() -> bool:
    """True when ngspice's shared library can be loaded through PySpice.

    The library is loaded in neurochip's ngspice helper process (started here if it is not
    running), or in this process when ``NEUROCHIP_NGSPICE_INPROCESS=1``.  Tests and commands
    that need ngspice check this first.

    Returns
    -------
    bool
        False when the library or PySpice is missing or cannot be loaded.

    Examples
    --------
    >>> spice_available()
    True
    """
    from . import _ngspice

    return _ngspice.available()
