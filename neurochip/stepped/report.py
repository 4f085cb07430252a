r"""The report of a time-stepped run: energy of the counted operations, time per step, real time.

Energy is priced as for every run (:func:`neurochip.energy.price`): every counted operation
times its energy, plus static power over the run's time on the chip.  What a time-stepped chip
adds is in the counts: every compartment is updated every step, as an active update
(``neuron_update_joule``) or an inactive one (``neuron_update_inactive_joule``), and the run
lasts as many steps as it has, each as long as :func:`~neurochip.stepped.timing.step_times`
says (or the pace it is run at, when it is slowed to a real-time step).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..energy import OperationCounts, price
from ..errors import InvalidParameterError
from ..mapping import packet_counts
from ..units import format_si
from .engine import SteppedRun
from .timing import STAGE_LATENCY, step_times

__all__ = ["ACTIVITY_RULES", "execution_note", "stepped_counts", "stepped_report", "format_stepped_report"]

#: What an update counts as active under each ``activity_rule`` of :class:`~neurochip.chip.ExecutionSpec`.
ACTIVITY_RULES: dict[str, str] = {
    "nonzero": "active when it receives input or holds a non-zero current, voltage or bias (Loihi)",
    "all": "every update active (TrueNorth)",
}


def execution_note(run: SteppedRun) -> str:
    """One sentence on what a time-stepped run counted and priced, for reports.

    Parameters
    ----------
    run : SteppedRun

    Returns
    -------
    str

    Examples
    --------
    >>> from neurochip.chip import load_chip
    >>> from neurochip.network import Network, Population
    >>> from neurochip.stepped.engine import run_stepped
    >>> run = run_stepped(Network(populations=(Population(name="A", size=2),)), load_chip("loihi"), steps=2, dt_s=1e-3)
    >>> execution_note(run)[:60]
    'time-stepped: every compartment updated every step, priced a'
    """
    ex = run.chip.execution
    rule = ACTIVITY_RULES.get(ex.activity_rule, ex.activity_rule)
    step = "a fixed step of " + format_si(ex.step_s, "s") if ex.step_s else "as fast as the barrier allows"
    return (f"time-stepped: every compartment updated every step, priced as active or inactive ({rule}); "
            f"a spike takes effect at the next step; a step lasts the slowest core + mesh + barrier ({step}). "
            "An asynchronous (event-driven) run of the same network counts one update per input and no "
            "inactive updates, so its energy and time differ.")


def stepped_counts(run: SteppedRun, duration_s: float) -> OperationCounts:
    """The priced operations of a run, per core, over ``duration_s`` of chip time.

    Parameters
    ----------
    run : SteppedRun
    duration_s : float
        Chip time the run took, s, > 0.

    Returns
    -------
    OperationCounts
        ``spikes``, ``synaptic_events``, ``neuron_updates`` (active), ``neuron_updates_inactive``,
        ``core_packets`` from the step counts; ``hops_ew`` and ``hops_ns`` from the spikes along
        the mapping's XY routes (a hop on the core whose outgoing link it crosses).
    """
    per_core = {k: run.per_step[k].sum(axis=0).astype(np.float64) for k in
                ("spikes", "synaptic_events", "neuron_updates", "neuron_updates_inactive")}
    own, links = packet_counts(run.mapping, run.spike_counts())
    per_core["core_packets"] = own
    per_core["hops_ew"] = links[:, 0] + links[:, 1]
    per_core["hops_ns"] = links[:, 2] + links[:, 3]
    return OperationCounts(duration_s=duration_s, per_core=per_core)


def stepped_report(
    run: SteppedRun,
    *,
    realtime_step_s: float | None = None,
    paced_step_s: float | None = None,
    powered: str = "used",
) -> dict[str, Any]:
    """Energy and time of a time-stepped run, as a JSON-ready dict with unit-suffixed keys.

    Parameters
    ----------
    run : SteppedRun
    realtime_step_s : float, optional
        The real-time step to check, s (default the chip's ``target_step_s``; None: not checked).
    paced_step_s : float, optional
        Run the chip at this step (s): a step lasts at least this long, so static power is paid
        over ``steps x max(step, pace)``.  None: as fast as the chip goes (or its fixed step).
    powered : str
        ``"used"`` (only cores holding neurons pay static power) or ``"all"``.

    Returns
    -------
    dict of str to object
        ``execution_model``, ``activity_rule``, ``execution_note`` (:func:`execution_note`), ``steps``, ``dt_s``; counts (``spikes``, ``synaptic_events``,
        ``packets``, ``neuron_updates_active``, ``neuron_updates_inactive``); time per step
        (``time_per_step_{mean,median,p99,min,max}_s``, ``critical_core``,
        ``critical_core_share``, the slowest step and its critical core's time by stage
        ``slowest_step_by_stage_s``, ``mesh_max_s``, ``barrier_s``); ``steps_per_s`` sustained;
        ``chip_time_s`` of the run; ``realtime_step_s``, ``realtime_met``,
        ``realtime_steps_missed``; ``energy`` (the priced report, J and W),
        ``energy_per_step_joule``, ``dynamic_energy_per_step_joule``; ``latency_sources``;
        ``quantisation``; ``wall_s`` of the emulation.

    Examples
    --------
    >>> from neurochip.chip import load_chip
    >>> from neurochip.network import Network, Population
    >>> from neurochip.stepped.engine import run_stepped
    >>> run = run_stepped(Network(populations=(Population(name="A", size=4),)), load_chip("loihi"),
    ...                   steps=10, dt_s=1e-3)
    >>> rep = stepped_report(run)
    >>> rep["neuron_updates_inactive"], rep["realtime_met"], round(rep["energy"]["by_operation_joule"]["neuron_updates_inactive"] * 1e12, 6)
    (40, True, 2080.0)
    """
    if powered not in ("used", "all"):
        raise InvalidParameterError.of("powered", powered, "must be 'used' or 'all'")
    chip = run.chip
    ex = chip.execution
    st = step_times(run)
    steps_s = st.step_s if paced_step_s is None else np.maximum(st.step_s, paced_step_s)
    chip_time = float(steps_s.sum())
    if not chip_time > 0:
        raise InvalidParameterError(
            f"chip time is 0: chip {chip.name!r} gives no latency, barrier or fixed step; pass paced_step_s"
        )
    counts = stepped_counts(run, chip_time)
    n_powered = run.mapping.cores_used if powered == "used" else chip.n_cores
    energy = price(counts, chip, cores_powered=n_powered)
    target = realtime_step_s if realtime_step_s is not None else ex.target_step_s
    work = st.step_s  # what the chip needs, before any pacing
    crit, share = np.unique(st.critical_core, return_counts=True)
    slow = int(np.argmax(work))
    slow_core = int(st.critical_core[slow])
    packets = counts.total("core_packets") + float(run.per_step["packets_out"].sum() - run.per_step["core_packets"].sum())
    return {
        "chip": chip.name,
        "execution_model": ex.model,
        "activity_rule": ex.activity_rule,
        "execution_note": execution_note(run),
        "steps": run.n_steps,
        "dt_s": run.dt_s,
        "neurons": int(run.simulated.sum()),
        "input_neurons": int((~run.simulated).sum()),
        "cores_used": run.mapping.cores_used,
        "spikes": int(run.spike_neurons.size),
        "synaptic_events": int(run.per_step["synaptic_events"].sum()),
        "packets": int(packets),
        "neuron_updates_active": int(run.per_step["neuron_updates"].sum()),
        "neuron_updates_inactive": int(run.per_step["neuron_updates_inactive"].sum()),
        "time_per_step_mean_s": float(work.mean()),
        "time_per_step_median_s": float(np.median(work)),
        "time_per_step_p99_s": float(np.percentile(work, 99)),
        "time_per_step_min_s": float(work.min()),
        "time_per_step_max_s": float(work.max()),
        "critical_core": int(crit[np.argmax(share)]),
        "critical_core_share": float(share.max() / run.n_steps),
        "slowest_step": slow,
        "slowest_step_critical_core": slow_core,
        "slowest_step_by_stage_s": {k: float(st.by_stage_s[k][slow, slow_core]) for k in STAGE_LATENCY},
        "mesh_max_s": float(st.mesh_s.max()),
        "barrier_s": st.barrier_s,
        "fixed_step_s": ex.step_s,
        "paced_step_s": paced_step_s,
        "steps_per_s": run.n_steps / chip_time,
        "chip_time_s": chip_time,
        "realtime_step_s": target,
        "realtime_met": None if target is None else bool(work.max() <= target),
        "realtime_steps_missed": None if target is None else int((work > target).sum()),
        "energy": energy.to_dict(),
        "energy_per_step_joule": energy.total_joule / run.n_steps,
        "dynamic_energy_per_step_joule": energy.dynamic_joule / run.n_steps,
        "latency_sources": {f: ex.source_of(f) for f in (*STAGE_LATENCY.values(), "barrier_s")},
        "quantisation": run.quantisation.to_dict(),
        "wall_s": run.wall_s,
        **({} if ex.step_s is not None else {"fixed_step_note": "no fixed step: a step lasts as long as its work"}),
        **({} if paced_step_s is not None else {"paced_step_note": "not paced: each step starts when the last ends"}),
        **({} if target is not None else {"realtime_note": "no real-time step given or set by the chip"}),
    }


def format_stepped_report(report: dict[str, Any]) -> str:
    """The report as a plain-text table for people.

    Parameters
    ----------
    report : dict
        From :func:`stepped_report`.

    Returns
    -------
    str
    """
    e = report["energy"]
    rt = report["realtime_step_s"]
    rows = [
        ("chip / execution", f"{report['chip']} / {report['execution_model']} ({report['activity_rule']} activity)"),
        ("what was counted", report.get("execution_note", "")),
        ("steps x dt", f"{report['steps']} x {format_si(report['dt_s'], 's')}"),
        ("neurons / cores used", f"{report['neurons']} (+{report['input_neurons']} input) / {report['cores_used']}"),
        ("spikes / synaptic events / packets", f"{report['spikes']} / {report['synaptic_events']} / {report['packets']}"),
        ("neuron updates active / inactive", f"{report['neuron_updates_active']} / {report['neuron_updates_inactive']}"),
        ("time per step mean / median / p99 / max", " / ".join(format_si(report[f"time_per_step_{k}_s"], "s") for k in ("mean", "median", "p99", "max"))),
        ("critical core (share of steps)", f"{report['critical_core']} ({100 * report['critical_core_share']:.1f} %)"),
        ("steps per second", f"{report['steps_per_s']:.4g}"),
        ("chip time of the run", format_si(report["chip_time_s"], "s")),
        ("real-time step", "not checked" if rt is None else
         f"{format_si(rt, 's')}: {'met' if report['realtime_met'] else 'MISSED'} ({report['realtime_steps_missed']} steps over)"),
        ("energy total / dynamic / static", " / ".join(format_si(e[k], "J") for k in ("total_joule", "dynamic_joule", "static_joule"))),
        ("energy per step", format_si(report["energy_per_step_joule"], "J")),
    ]
    rows += [(f"  {op}", format_si(j, "J")) for op, j in e["by_operation_joule"].items()]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)
