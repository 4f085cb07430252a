"""Constants and warnings shared by NIR import and export (part of :mod:`neurochip.network`;
:mod:`neurochip.network.nir_io` re-exports them)."""

from __future__ import annotations

import dataclasses

from ..lif import LIFParams
from ._nir_base import LI_THRESHOLD_VOLT

__all__ = [
    "NIR_DEFAULT_DT_S", "RELAY_PARAMS", "RELAY_WEIGHT_VOLT", "READOUT_PARAMS", "FAST_SYNAPSE_STEPS",
    "MAX_DENSE_ENTRIES", "NIRExportWarning", "NIRImportWarning",
]

#: Time step (s) of a graph read without a profile and without neurochip's metadata, and the one
#: :func:`~neurochip.network.nir_io.to_nir` writes by default: NIR's own convention, where a spike
#: is a unit-area Dirac pulse, so that a spike through weight W delivers the charge W.  Exporters
#: that step in time (snnTorch: 1e-4 s) set their own through a profile.
NIR_DEFAULT_DT_S = 1.0
#: Parameters of the relay neurons an Input node becomes with ``inputs="populations"``: an
#: input spike of :data:`RELAY_WEIGHT_VOLT` takes one from rest (0 V) or reset (0 V) over its
#: 0.5 V threshold at once, so it fires exactly at the input spike's time, once per spike.
RELAY_PARAMS = LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-9, e_leak_volt=0.0, v_th_volt=0.5, v_reset_volt=0.0,
                         t_ref_s=0.0)  # fmt: skip
RELAY_WEIGHT_VOLT = 1.0
#: Parameters of a readout population (with ``Cuba(tau_syn_exc_s=dt_s, spiking=False)``): C = 1 F
#: and no leak, so that V is the charge (C) the read-out node delivered; it never fires.
READOUT_PARAMS = LIFParams(c_m_farad=1.0, g_leak_siemens=0.0, e_leak_volt=0.0, v_th_volt=LI_THRESHOLD_VOLT,
                           v_reset_volt=0.0, t_ref_s=0.0)  # fmt: skip
#: Synaptic time constant, in time steps, of the current-based neurons that stand for the LIF / IF
#: nodes of a profile whose tool resets by subtraction (a delta synapse in the limit).
FAST_SYNAPSE_STEPS = 1e-3
#: Largest dense NIR weight matrix :func:`to_nir` writes (entries), unless told otherwise.
MAX_DENSE_ENTRIES = 1 << 25

_RESETS = ("value", "subtract")
_LIF_FIELDS = tuple(f.name for f in dataclasses.fields(LIFParams))


class NIRExportWarning(UserWarning):
    """An NIR export dropped something other tools will not see (a refractory period, which NIR
    has no field for, is kept in neurochip's metadata only)."""


class NIRImportWarning(UserWarning):
    """An NIR import had to assume something the graph does not say (time step, reset,
    refractory period, delay); the message lists each assumption and the option that sets it."""


