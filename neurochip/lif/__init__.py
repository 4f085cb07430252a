r"""The leaky integrate-and-fire (LIF) neuron: its parameters and its closed forms.

A silicon LIF neuron is a membrane capacitor :math:`C` charged by an input current :math:`I`,
discharged by a leak of conductance :math:`g_L` towards :math:`E_L`, a comparator at
:math:`V_{th}`, a reset to :math:`V_{reset}` and a refractory hold of :math:`t_{ref}`:

.. math::

    C \frac{dV}{dt} = -g_L (V - E_L) + I, \qquad
    V \ge V_{th} \Rightarrow V \leftarrow V_{reset} \text{ held for } t_{ref}.

Every float is in SI base units.  The functions here are vectorised over the input current and
are the references that tests, fits and reports lean on.  See ``docs/lif.md`` for derivations
and sources.
"""

from __future__ import annotations

from .closed_forms import (
    channel_noise_sigma,
    chronaxie,
    fi_curve,
    firing_rate,
    isi,
    min_pulse_amplitude,
    phase_response,
    pif_rate,
    rheobase,
    saturation_fraction,
    saturation_rate,
    siegert_cv,
    siegert_rate,
    summary,
    tau_m,
    v_inf,
)
from .params import LIFParams

__all__ = [
    "LIFParams",
    "tau_m",
    "v_inf",
    "rheobase",
    "isi",
    "firing_rate",
    "fi_curve",
    "saturation_rate",
    "saturation_fraction",
    "pif_rate",
    "siegert_rate",
    "siegert_cv",
    "phase_response",
    "min_pulse_amplitude",
    "chronaxie",
    "channel_noise_sigma",
    "summary",
]
