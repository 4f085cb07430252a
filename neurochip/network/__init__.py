"""Networks: the model (populations, projections, stimuli), its files, NIR and networkx views.

- :mod:`neurochip.network.model`: :class:`Network`, :class:`Projection`, :class:`SynapseCSR`;
  :mod:`~neurochip.network.population` (:class:`Population`), :mod:`~neurochip.network.rules`
  (the connection rules), :mod:`~neurochip.network.stimulus` (the stimulus specs);
- :mod:`neurochip.network.files`: one validated ``.npz`` per network;
- :mod:`neurochip.network.nir_io`: NIR import and export;
- :mod:`neurochip.network.graph`: networkx views and summaries.

The names of these four modules are re-exported here; the other modules load only when
imported (NIR and networkx stay out of ``import neurochip.network``).
"""

from .model import Network, Projection, SynapseCSR
from .population import NEURON_FIELDS, Population
from .rules import AllToAll, Explicit, FixedInDegree, FixedProbability, OneToOne
from .stimulus import CurrentStep, PoissonInput, SpikeTimesInput

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
