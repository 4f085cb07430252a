"""Networks: the model (populations, projections, stimuli), its files, NIR and networkx views.

- :mod:`neurochip.network.model`: :class:`Network`, :class:`Population`, :class:`Projection`,
  the connection rules, :class:`SynapseCSR` and the stimulus specs;
- :mod:`neurochip.network.files`: one validated ``.npz`` per network;
- :mod:`neurochip.network.nir_io`: NIR import and export;
- :mod:`neurochip.network.graph`: networkx views and summaries.

The names of :mod:`neurochip.network.model` are re-exported here; the other modules load only when
imported (NIR and networkx stay out of ``import neurochip.network``).
"""

from .model import (
    NEURON_FIELDS,
    AllToAll,
    CurrentStep,
    Explicit,
    FixedInDegree,
    FixedProbability,
    Network,
    OneToOne,
    PoissonInput,
    Population,
    Projection,
    SpikeTimesInput,
    SynapseCSR,
)

__all__ = [
    "Population",
    "FixedInDegree",
    "FixedProbability",
    "AllToAll",
    "OneToOne",
    "Explicit",
    "Projection",
    "Network",
    "SynapseCSR",
    "PoissonInput",
    "SpikeTimesInput",
    "CurrentStep",
    "NEURON_FIELDS",
]
