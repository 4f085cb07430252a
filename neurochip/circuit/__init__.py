"""Silicon neuron circuits: netlist templates, ngspice simulation, LIF fit, Monte Carlo mismatch.

Everything that touches PySpice lives in this package, and PySpice is imported only when a
simulation runs.  See ``docs/circuits.md``.
"""

from __future__ import annotations

from .fit import Convergence, FitOptions, FitResult, check_convergence, fit_lif, measure_isi
from .netlist import NetlistTemplate, ParamDecl, circuit_kind, list_circuits, load_circuit, load_synapse
from .simulate import (
    SolverSettings,
    SpikeDetector,
    Stimulus,
    Trace,
    circuit_detector,
    detect_spikes,
    energy_per_spike,
    simulate,
    static_power,
)
from .synapse import (
    BiasSweepResult,
    SynapseFitOptions,
    SynapseFitResult,
    SynapseTrace,
    fit_synapse,
    simulate_synapse,
    sweep_bias,
    synaptic_current,
)

__all__ = [
    "BiasSweepResult",
    "Convergence",
    "SpikeDetector",
    "check_convergence",
    "circuit_detector",
    "FitOptions",
    "FitResult",
    "NetlistTemplate",
    "ParamDecl",
    "SolverSettings",
    "Stimulus",
    "SynapseFitOptions",
    "SynapseFitResult",
    "SynapseTrace",
    "Trace",
    "circuit_kind",
    "detect_spikes",
    "energy_per_spike",
    "fit_lif",
    "fit_synapse",
    "list_circuits",
    "load_circuit",
    "load_synapse",
    "measure_isi",
    "simulate",
    "simulate_synapse",
    "spice_available",
    "static_power",
    "sweep_bias",
    "synaptic_current",
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
