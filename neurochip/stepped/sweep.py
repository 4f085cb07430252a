r"""Activity sweep of a time-stepped chip: what a synaptic event costs and how long a step takes.

On a time-stepped chip every compartment is updated every step and static power flows for the
whole run, so the energy of one synaptic event,

.. math::

    \frac{E}{N_{syn}} = E_{syn} + \frac{N_{act} E_{upd} + N_{inact} E_{idle} + N_{spk} E_{spk} + \dots
                        + P_{static} T}{N_{syn}},

falls as the activity rises: the inactive updates and the static energy are shared by more
events.  The time per step rises instead, with the load of the busiest core (its synaptic
operations and active updates, :mod:`neurochip.stepped.timing`).  :func:`activity_sweep` runs one
fixed network at several input rates and reports both.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..chip import ChipSpec
from ..errors import InvalidParameterError
from ..lif import LIFParams
from ..mapping import map_network
from ..network import FixedInDegree, Network, Population, Projection
from .engine import run_stepped
from .report import stepped_report
from .timing import step_times

__all__ = ["sweep_network", "activity_sweep"]


def sweep_network(n_input: int = 200, n_exc: int = 400, n_inh: int = 100, *, seed: int = 1) -> Network:
    """The network of the sweep: input relays driving a recurrent E/I population of LIF neurons.

    ``input`` (driven by given spikes), ``E`` and ``I`` (tau_m = 20 ms, V_th = 20 mV, reset to
    E_L = 0, delta synapses); input -> E, I: 20 synapses of +1.5 mV; E -> E, I: 24 of +0.5 mV;
    I -> E, I: 6 of -2 mV; every delay 1 ms.

    Parameters
    ----------
    n_input, n_exc, n_inh : int
        Population sizes, >= 1.
    seed : int
        Connectivity seed.

    Returns
    -------
    Network

    Examples
    --------
    >>> sweep_network(10, 20, 5).n_neurons
    35
    """
    lif = LIFParams(c_m_farad=250e-12, g_leak_siemens=250e-12 / 20e-3, e_leak_volt=0.0, v_th_volt=0.02,
                    v_reset_volt=0.0, t_ref_s=0.0)
    pops = (
        Population(name="input", size=n_input, params=lif),
        Population(name="E", size=n_exc, params=lif),
        Population(name="I", size=n_inh, params=lif),
    )
    spec = (("input", "E", 20, 1.5e-3), ("input", "I", 20, 1.5e-3), ("E", "E", 24, 0.5e-3), ("E", "I", 24, 0.5e-3),
            ("I", "E", 6, -2e-3), ("I", "I", 6, -2e-3))
    projs = tuple(Projection(pre=a, post=b, rule=FixedInDegree(k=k), weight_volt=w, delay_s=1e-3) for a, b, k, w in spec)
    return Network(populations=pops, projections=projs, seed=seed)


def activity_sweep(
    chip: ChipSpec,
    rates_hz: ArrayLike,
    *,
    network: Network | None = None,
    steps: int = 500,
    dt_s: float = 1e-3,
    paced_step_s: float | None = None,
    seed: int = 1,
) -> list[dict[str, Any]]:
    """Run one network at several input rates on a time-stepped chip; energy per event and step time.

    Parameters
    ----------
    chip : ChipSpec
        A time-stepped chip (e.g. ``load_chip("loihi")``).
    rates_hz : array_like of float
        Rate of every input relay, Hz, >= 0 (a seeded Bernoulli train, probability rate x dt).
    network : Network, optional
        Must have a population named ``input`` (default :func:`sweep_network`).
    steps : int
        Steps per run, >= 1.
    dt_s : float
        Step, s.
    paced_step_s : float, optional
        Run the chip at this step (e.g. 1 ms: real time), so that static power flows for
        ``steps x max(step, pace)`` (see :func:`~neurochip.stepped.report.stepped_report`); None:
        as fast as the chip goes.
    seed : int
        Seed of the input trains (the same seed at every rate).

    Returns
    -------
    list of dict
        Per rate: ``input_rate_hz``, ``synaptic_events``, ``energy_joule``, ``dynamic_joule``,
        ``static_joule``, ``inactive_joule`` (inactive updates), ``energy_per_synaptic_event_joule``
        (total / events; ``nan`` without events), ``dynamic_per_synaptic_event_joule``,
        ``time_per_step_mean_s``, ``time_per_step_max_s``, ``busiest_core_load_s`` (mean busy
        time of the busiest core per step), ``neuron_updates_inactive``, ``execution_model``.

    Raises
    ------
    InvalidParameterError
        If a rate is negative or the network has no ``input`` population.

    Examples
    --------
    >>> from neurochip.chip import load_chip
    >>> rows = activity_sweep(load_chip("loihi"), [5, 50], network=sweep_network(10, 20, 5), steps=100)
    >>> rows[0]["energy_per_synaptic_event_joule"] > rows[1]["energy_per_synaptic_event_joule"]
    True
    """
    rates = np.atleast_1d(np.asarray(rates_hz, dtype=np.float64))
    if np.any(~np.isfinite(rates)) or np.any(rates < 0):
        raise InvalidParameterError.of("rates_hz", rates.tolist(), "must be finite and >= 0")
    net = network if network is not None else sweep_network(seed=seed)
    if "input" not in [p.name for p in net.populations]:
        raise InvalidParameterError.of("network", [p.name for p in net.populations], "must have a population 'input'")
    n_in = net.population("input").size
    mapping = map_network(net, chip)
    rows = []
    for rate in rates:
        rng = np.random.default_rng(seed)
        forced = rng.random((steps, n_in)) < rate * dt_s
        run = run_stepped(net, chip, steps=steps, dt_s=dt_s, mapping=mapping, input_spikes={"input": forced})
        rep = stepped_report(run, paced_step_s=paced_step_s)
        st = step_times(run)
        e = rep["energy"]
        syn = rep["synaptic_events"]
        rows.append({
            "input_rate_hz": float(rate),
            "execution_model": rep["execution_model"],
            "paced_step_s": paced_step_s,
            "neuron_updates_active": rep["neuron_updates_active"],
            "synaptic_events": syn,
            "spikes": rep["spikes"],
            "neuron_updates_inactive": rep["neuron_updates_inactive"],
            "energy_joule": e["total_joule"],
            "dynamic_joule": e["dynamic_joule"],
            "static_joule": e["static_joule"],
            "inactive_joule": e["by_operation_joule"].get("neuron_updates_inactive", 0.0),
            "energy_per_synaptic_event_joule": e["total_joule"] / syn if syn else float("nan"),
            "dynamic_per_synaptic_event_joule": e["dynamic_joule"] / syn if syn else float("nan"),
            "time_per_step_mean_s": rep["time_per_step_mean_s"],
            "time_per_step_max_s": rep["time_per_step_max_s"],
            "busiest_core_load_s": float(st.core_s.mean(axis=0).max()),
        })  # fmt: skip
    return rows
