"""Time-stepped execution: a network run step by step as Loihi or TrueNorth run it.

Digital neuromorphic chips are time-stepped: every neuron is updated every step, a spike takes
effect at the next step, and a step ends at a barrier when the slowest core is done.  This
package runs a :class:`~neurochip.network.Network` that way with Loihi's integer neuron
(:mod:`~neurochip.stepped.loihi`), counts every operation per step and per core
(:mod:`~neurochip.stepped.engine`), times each step from the chip's per-operation latencies
(:mod:`~neurochip.stepped.timing`) and reports energy, time per step and real time
(:mod:`~neurochip.stepped.report`); :mod:`~neurochip.stepped.sweep` runs one network over a range of
activity.  See docs/chips.md, "Execution models".
"""

from .engine import STEP_COUNTS, SteppedRun, run_stepped
from .loihi import LoihiNeurons, LoihiSynapses, Quantisation, loihi_lif_step, quantise_network
from .report import format_stepped_report, stepped_counts, stepped_report
from .sweep import activity_sweep, sweep_network
from .timing import StepTimes, step_times

__all__ = [
    "STEP_COUNTS",
    "SteppedRun",
    "run_stepped",
    "LoihiNeurons",
    "LoihiSynapses",
    "Quantisation",
    "loihi_lif_step",
    "quantise_network",
    "StepTimes",
    "step_times",
    "stepped_counts",
    "stepped_report",
    "format_stepped_report",
    "activity_sweep",
    "sweep_network",
]
