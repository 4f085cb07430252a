# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The compiled emulator engine: exact, event-driven LIF networks, and single neurons in closed form.

No validation here: see neurochip.emulator, which checks the inputs and builds the one
KernelInput that ``run_lif`` reads.  docs/emulator.md explains the method; each include
below holds one idea:

* _rng.pxi            per-neuron random streams (wyrand, splitmix64 seeding, ziggurat Exp(1))
* _state.pxi          the run's state: neuron records, counters, window buffers, spike log
* _kernel_input.pxi   KernelInput: every array the kernel reads, by name
* _models.pxi         the neuron-model interface (hooks), dispatching to the models:
* _model_lif.pxi        the leaky LIF in the time-scaled frame
* _model_general.pxi    perfect integrator, adaptive LIF, white noise
* _plugins.pxi        (written by setup.py) every plug-in model, emulator/models/NAME.pxi:
*   models/cuba.pxi       current-based LIF (exponential synaptic currents)
* _own_inputs.pxi     a neuron's own inputs: Poisson, given spikes, current steps
* _delivery.pxi       the recurrent arrivals of one instant (hot paths: one fused source)
* _router.pxi         the AER router (mesh, links, FIFOs, its event heap)
* _router_io.pxi      the router's set-up, results and hand-over of arrivals
* _windows.pxi        the window loop: run_lif
* _single_neuron.pxi  one neuron under DC: exact LIF, adaptive LIF, noisy LIF
* _counts.pxi         recurrent events per target (after the run)
"""

from libc.math cimport ceil, exp, expm1, log, log1p, sqrt, cos, sin, fabs, nextafter, INFINITY, M_PI
from libc.stdlib cimport malloc, calloc, free, realloc, qsort
from libc.string cimport memmove
from libc.stdint cimport uint64_t, int64_t, int32_t, INT64_MAX

import numpy as np

include "_rng.pxi"
include "_state.pxi"
include "_kernel_input.pxi"
include "_model_lif.pxi"
include "_model_general.pxi"
include "_models.pxi"
include "_plugins.pxi"
include "_own_inputs.pxi"
include "_delivery.pxi"
include "_router.pxi"
include "_router_io.pxi"
include "_windows.pxi"
include "_single_neuron.pxi"
include "_counts.pxi"
