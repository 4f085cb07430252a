"""The neurochip emulator: exact event-driven LIF dynamics, compiled with Cython.

The compiled kernels live in one extension, ``neurochip.emulator._engine`` (networks and
single neurons; its includes ``emulator/*.pxi`` hold one concern each); this module is the
public wrapper that validates inputs, builds the kernel's one input (``KernelInput``) and
turns kernel results into arrays in SI units.  ``backend="reference"`` runs the plain-Python
definition of the same behaviour (``_reference.py``), which needs no compiled code.  See
docs/emulator.md for the model, the exactness argument and the limits.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError
from ..lif import LIFParams
from ..network import Network
from ._routing import RoutingStats

__all__ = [
    "dc_spike_times",
    "adaptive_spike_times",
    "noisy_spike_times",
    "run",
    "EmulationResult",
    "EVENT_DTYPE",
    "BACKENDS",
    "RoutingStats",
]

#: dtype of the address-event log: spike time (s) and global neuron address.
EVENT_DTYPE = np.dtype([("time_s", np.float64), ("address", np.int32)])
BACKENDS = ("cython", "reference")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class EmulationResult:
    """What a run produced.

    Attributes
    ----------
    events : structured array of EVENT_DTYPE
        The address-event log, sorted by (time, address); empty when ``record=False``.
    spike_counts : int64 array of shape (n_neurons,)
        Spikes per neuron.
    rec_events_per_neuron : int64 array of shape (n_neurons,)
        Recurrent synaptic events received per neuron (including those discarded as refractory).
    counters : dict of str to int
        Totals of every priced operation: ``spikes``, ``rec_events``, ``rec_discarded``,
        ``ext_events``, ``ext_discarded``, ``neuron_updates``, ``current_steps``,
        ``drift_spikes`` (and ``windows`` for the compiled backend).
    duration_s : float
    wall_time_s : float
        Wall-clock time of the simulation proper (not the preparation of the arrays).
    backend : str
    seed : int
    window_s : float
        Length of the conservative windows (compiled backend; nan for the reference).
    """

    events: NDArray[Any]
    spike_counts: NDArray[np.int64]
    rec_events_per_neuron: NDArray[np.int64]
    counters: dict[str, int]
    duration_s: float
    wall_time_s: float
    backend: str
    seed: int
    window_s: float
    params: dict[str, Any] = field(default_factory=dict)
    routing: RoutingStats | None = None

    def operation_counts(self) -> Any:
        """The run's :class:`neurochip.energy.OperationCounts` (needs a routed run:
        ``run(..., chip=...)``); ``neurochip.energy.price(counts, chip)`` gives its energy."""
        if self.routing is None:
            raise InvalidParameterError("operation_counts: the run was not routed; pass chip= (and mapping=) to run()")
        return self.routing.operation_counts()

    @property
    def n_neurons(self) -> int:
        """Number of neurons."""
        return int(self.spike_counts.size)

    def mean_rate_hz(self, neurons: slice | NDArray[np.int64] | None = None) -> float:
        """Mean firing rate (Hz) over all neurons or the given ones."""
        counts = self.spike_counts if neurons is None else self.spike_counts[neurons]
        return float(counts.mean() / self.duration_s)

    def spike_times(self, address: int) -> NDArray[np.float64]:
        """Spike times (s) of one neuron (needs ``record=True``)."""
        return self.events["time_s"][self.events["address"] == address]

    def isi_cv(self, neurons: slice | NDArray[np.int64] | None = None, min_spikes: int = 3) -> float:
        """Mean over neurons (with at least ``min_spikes`` spikes) of the ISI coefficient of
        variation; nan if none qualifies."""
        ev = self.events
        order = np.lexsort((ev["time_s"], ev["address"]))
        addr = ev["address"][order]
        t = ev["time_s"][order]
        if neurons is not None:
            chosen = np.zeros(self.n_neurons, bool)
            chosen[neurons] = True
            keep = chosen[addr]
            addr, t = addr[keep], t[keep]
        if addr.size < 2:
            return math.nan
        same = addr[1:] == addr[:-1]
        isi = np.diff(t)[same]
        who = addr[1:][same]
        n_isi = np.bincount(who, minlength=self.n_neurons)
        s1 = np.bincount(who, weights=isi, minlength=self.n_neurons)
        s2 = np.bincount(who, weights=isi * isi, minlength=self.n_neurons)
        ok = n_isi >= max(min_spikes - 1, 2)
        if not ok.any():
            return math.nan
        mean = s1[ok] / n_isi[ok]
        var = s2[ok] / n_isi[ok] - mean**2
        return float(np.mean(np.sqrt(np.maximum(var, 0.0)) / mean))


def _compiled() -> Any:
    """The compiled engine; an ImportError saying how to build it when it is missing (the
    reference backend runs without it, the compiled one never falls back to it)."""
    try:
        from . import _engine as engine
    except ImportError as exc:
        raise ImportError(
            "neurochip.emulator's compiled engine (neurochip.emulator._engine) is not built; run "
            "`make install` (or `pip install -e .`) in the repository to compile it"
        ) from exc
    return engine


def _kernel_input(
    prep: Any, csr: Any, tables: dict[str, Any] | None, *, seed: int, duration_s: float, window_s: float,
    noise_dt_fraction: float,
) -> Any:
    """The kernel's one input: every array of ``_engine.KERNEL_ARRAYS`` (and ``ROUTER_ARRAYS``
    for a routed run) from the prepared network, its synapses and the routing tables, checked
    for dtype and length and made C-contiguous."""
    engine = _compiled()
    n = prep.n
    source: dict[str, Any] = {name: getattr(prep, name, None) for name, _, _ in engine.KERNEL_ARRAYS}
    source.update(
        indptr=csr.indptr, indices=csr.indices, weights=csr.weights, delays=csr.delays_s,
        noise_dt=noise_dt_fraction / np.where(prep.inv_tau > 0, prep.inv_tau, 1.0),
    )  # fmt: skip
    spec = list(engine.KERNEL_ARRAYS)
    if tables is not None:
        source.update({name: tables[name] for name, _, _ in engine.ROUTER_ARRAYS})
        spec += engine.ROUTER_ARRAYS
    rows = csr.delays_s.size * n + 1
    want = {"n": n, "n+1": n + 1, "rows+1": rows}
    arrays = {}
    for name, dtype, length in spec:
        a = source[name]
        if not isinstance(a, np.ndarray) or a.dtype != np.dtype(dtype) or a.ndim != 1:
            got = f"{a.dtype} {a.shape}" if isinstance(a, np.ndarray) else type(a).__name__
            raise InvalidParameterError(f"kernel input {name}: {got}: must be a 1-d {dtype} array")
        if length and a.size != want[length]:
            raise InvalidParameterError(f"kernel input {name}: {a.size} elements: must have {want[length]}")
        arrays[name] = np.ascontiguousarray(a)
    if tables is not None:  # outputs: written in place, so they must not be copies
        for name in ("sub_delivered", "core_counters", "link_counters", "link_busy_s"):
            if arrays[name] is not tables[name]:
                raise InvalidParameterError(f"kernel input {name}: must be C-contiguous (an output array)")
    model, params = 0, None
    if prep.model is not None:
        compiled = engine.plugin_models()
        if prep.model not in compiled:
            raise ImportError(f"neuron model {prep.model!r} is not compiled in (run `make install`); compiled: {sorted(compiled)}")
        model, ncol, _ = compiled[prep.model]
        if prep.model_params.shape != (n, ncol):
            raise InvalidParameterError(f"kernel input model_params: shape {prep.model_params.shape}: must be ({n}, {ncol})")
        params = prep.model_params.ravel()
    return engine.KernelInput(
        arrays, seed=seed, duration_s=duration_s, window_s=window_s, gen=bool(prep.gen), route=tables,
        model=model, model_params=params,
    )


def _window(prep: Any, delays: NDArray[np.float64], duration_s: float) -> float:
    """Window length: just under the minimum delay (so a spike never arrives in the window it
    was emitted in, whatever the rounding), at most tau_min / 8 (the polynomial frame), at most
    the duration."""
    w = duration_s
    if delays.size and math.isfinite(delays[0]):
        w = min(w, float(delays[0]) * (1.0 - 2.0**-20))
    if not prep.gen:  # the time-scaled frame: (t - T) / tau <= 1/8 inside a window
        w = min(w, 0.125 / float(prep.inv_tau.max()))
    return w


def run(
    network: Network,
    *,
    duration_s: float,
    inputs: Sequence[Any] = (),
    seed: int = 0,
    backend: str = "cython",
    record: bool = True,
    noise_dt_fraction: float = 1e-3,
    chip: Any = None,
    mapping: Any = None,
    delivery_step_s: float | None = None,
) -> EmulationResult:
    """Emulate a network of LIF neurons, exactly and event by event.

    Parameters
    ----------
    network : Network
        LIF neurons: leaky, perfect integrators (g_L = 0), adaptive
        (``adapt_increment_amp`` != 0) or leaky with white input noise (``noise_sigma_volt``);
        heterogeneous parameters and bias currents are fine.
    duration_s : float
        Simulated time (s), > 0; spikes and inputs in [0, duration_s).
    inputs : sequence of PoissonInput, SpikeTimesInput, CurrentStep
        Stimuli.
    seed : int
        Seed of the Poisson inputs (each neuron has its own stream derived from it).
    backend : {"cython", "reference"}
        The compiled engine (default) or the plain-Python reference.
    record : bool
        Keep the address-event log (otherwise ``events`` is empty; counts are always kept).
    noise_dt_fraction : float
        Substep of the noisy neurons' Ornstein-Uhlenbeck path, as a fraction of their tau_m
        (see :func:`noisy_spike_times` for the method and its error).
    chip : ChipSpec, optional
        Route every spike through this chip's network on chip (docs/emulator.md, "Routing"):
        one packet per destination core, XY routes, per-hop latency, link serialisation,
        finite FIFOs; synaptic arrivals are delayed by the network latency.  Without
        ``mapping`` the network is mapped first (:func:`neurochip.mapping.map_network`).
    mapping : Mapping, optional
        Where the neurons sit and the routing tables (its chip is used when ``chip`` is not
        given).  The result's ``routing`` holds the router's statistics, and
        ``result.operation_counts()`` the counts to price.
    delivery_step_s : float, optional
        Step-quantised delivery (routed runs): every synaptic arrival is moved up to the next
        multiple of this step, as a time-stepped chip delivers a step's spikes at the next step
        boundary, while the neurons keep their exact continuous-time dynamics.  None: arrivals
        at their exact times.

    Returns
    -------
    EmulationResult

    Raises
    ------
    InvalidParameterError
        On a bad argument, naming it.

    Examples
    --------
    >>> from neurochip.lif import LIFParams
    >>> from neurochip.network import Network, Population, CurrentStep
    >>> p = LIFParams()   # tau_m = 1 ms, V_th = 0.5 V, t_ref = 1 ms
    >>> net = Network(populations=(Population(name="n", size=1, params=p),))
    >>> res = run(net, duration_s=0.01, inputs=[CurrentStep(population="n", times_s=[0.0], amplitudes_amp=[1e-9])])
    >>> int(res.spike_counts[0])    # first at ln 2 ms, then every 1 ms + ln 2 ms
    6
    """
    from ._prepare import prepare

    if not (isinstance(duration_s, (int, float)) and math.isfinite(duration_s) and duration_s > 0):
        raise InvalidParameterError(f"duration_s = {duration_s!r}: must be a finite number > 0")
    duration_s = float(duration_s)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise InvalidParameterError(f"seed = {seed!r}: must be an int in [0, 2**64)")
    if backend not in BACKENDS:
        raise InvalidParameterError(f"backend = {backend!r}: must be one of {BACKENDS}")
    if backend == "cython":
        _compiled()  # a missing build says so before any work
    prep = prepare(network, inputs, duration_s)
    csr = network.csr()
    if not (isinstance(noise_dt_fraction, (int, float)) and 0 < noise_dt_fraction <= 0.1):
        raise InvalidParameterError(f"noise_dt_fraction = {noise_dt_fraction!r}: must be in (0, 0.1]")
    tables = None
    if chip is not None or mapping is not None:
        from ._routing import routing_tables

        if mapping is None:
            from ..mapping import map_network

            mapping = map_network(network, chip)
        elif chip is not None and mapping.chip != chip:
            raise InvalidParameterError("mapping: was made for another chip than chip=")
        tables = routing_tables(csr, mapping, keep_latency=record)
    if delivery_step_s is not None:
        if tables is None:
            raise InvalidParameterError(
                f"delivery_step_s = {delivery_step_s!r}: quantised delivery needs a routed run (pass chip= or mapping=)"
            )
        if not (isinstance(delivery_step_s, (int, float)) and math.isfinite(delivery_step_s) and delivery_step_s > 0):
            raise InvalidParameterError(f"delivery_step_s = {delivery_step_s!r}: must be a finite number > 0 (s)")
        tables["delivery_step_s"] = float(delivery_step_s)
    if backend == "reference":
        from ._reference import run_reference

        if (prep.sigma > 0).any():
            raise InvalidParameterError(
                "backend = 'reference': white-noise neurons (noise_sigma_volt > 0) run on the compiled backend only"
            )

        t0 = time.perf_counter()
        c0 = time.process_time()
        times, ids, counts, counters = run_reference(prep, csr, duration_s, int(seed), route=tables)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        window = math.nan
    else:
        window = _window(prep, csr.delays_s, duration_s)
        engine = _compiled()
        kin = _kernel_input(
            prep, csr, tables, seed=int(seed), duration_s=duration_s, window_s=window,
            noise_dt_fraction=noise_dt_fraction,
        )  # fmt: skip
        t0 = time.perf_counter()
        c0 = time.process_time()
        times, ids, counts, cvec = engine.run_lif(kin)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        counters = {name: int(v) for name, v in zip(engine.counter_names(), cvec)}
        if tables is not None:  # routed: counted per delivered sub-row, not in the kernel
            counters["rec_events"] = int(np.dot(tables["sub_delivered"], np.diff(tables["sub_indptr"])))
        counters["neuron_updates"] = (
            counters["rec_events"] - counters["rec_discarded"] + counters["ext_events"]
            - counters["ext_discarded"] + counters["spikes"] + counters["current_steps"]
        )  # fmt: skip
    routing = None
    if tables is None:
        rec_in = _received(csr, times, ids, duration_s)
    else:
        from ._routing import routing_stats

        rec_in = np.zeros(prep.n, np.int64)
        _compiled().received(tables["sub_indptr"], tables["sub_indices"], tables["sub_delivered"], prep.n, rec_in)
        routing = routing_stats(tables, mapping, ids, duration_s)
    events = np.empty(times.size if record else 0, dtype=EVENT_DTYPE)
    if record:
        events["time_s"] = times
        events["address"] = ids
    return EmulationResult(
        events=events,
        spike_counts=counts,
        rec_events_per_neuron=rec_in,
        counters=counters,
        duration_s=duration_s,
        wall_time_s=wall,
        backend=backend,
        seed=int(seed),
        window_s=window,
        params={
            "n_neurons": prep.n,
            "n_synapses": csr.n_synapses,
            "delays_s": csr.delays_s.tolist(),
            "cpu_time_s": cpu,  # process CPU time of the simulation proper (robust on a shared machine)
        },
        routing=routing,
    )


def _received(csr: Any, times: NDArray[np.float64], ids: NDArray[np.int32], duration_s: float) -> NDArray[np.int64]:
    """Recurrent events per target: each spike whose arrival falls before the end counts once
    per synapse of its row (a weighted in-degree, computed from the log, not in the kernel)."""
    n = csr.n_neurons
    out = np.zeros(n, np.int64)
    if csr.n_synapses == 0 or times.size == 0:
        return out
    delivered = np.concatenate(
        [np.bincount(ids[times + d < duration_s], minlength=n).astype(np.int64) for d in csr.delays_s]
    )
    _compiled().received(csr.indptr, csr.indices, delivered, n, out)
    return out


def dc_spike_times(
    params: LIFParams, current_amp: float, *, duration_s: float, v0_volt: float | None = None
) -> NDArray[np.float64]:
    """Exact spike times (s) of one neuron under a constant current, from the compiled core.

    Parameters
    ----------
    params : LIFParams
        A non-adapting, noise-free neuron.
    current_amp : float
        Constant input current in A.
    duration_s : float
        Simulated time in s, > 0.
    v0_volt : float, optional
        Initial membrane potential; defaults to ``params.v_reset_volt``.

    Returns
    -------
    ndarray of float64
        Spike times in [0, duration_s).
    """
    if not duration_s > 0:
        raise InvalidParameterError(f"duration_s = {duration_s!r}: must be > 0")
    if params.is_adapting or params.noise_sigma_volt > 0:
        raise InvalidParameterError("dc_spike_times: needs a non-adapting, noise-free neuron")
    v0 = params.v_reset_volt if v0_volt is None else float(v0_volt)
    return _compiled().dc_spike_times(
        params.c_m_farad,
        params.g_leak_siemens,
        params.e_leak_volt,
        params.v_th_volt,
        params.v_reset_volt,
        params.t_ref_s,
        float(current_amp),
        v0,
        float(duration_s),
    )


def _check_duration(duration_s: float) -> float:
    if not (isinstance(duration_s, (int, float)) and math.isfinite(duration_s) and duration_s > 0):
        raise InvalidParameterError(f"duration_s = {duration_s!r}: must be a finite number > 0")
    return float(duration_s)


def adaptive_spike_times(
    params: LIFParams,
    current_amp: float,
    *,
    duration_s: float,
    v0_volt: float | None = None,
    w0_amp: float = 0.0,
) -> NDArray[np.float64]:
    r"""Exact spike times (s) of an adaptive LIF neuron under a constant current.

    .. math::

        C \frac{dV}{dt} = -g_L (V - E_L) + I - w, \qquad \tau_w \frac{dw}{dt} = -w,

    with :math:`w \mathrel{+}= b` (``params.adapt_increment_amp``) at each spike, then reset
    and a refractory hold during which w keeps decaying.  Between spikes V is a constant plus
    two exponentials (closed form); the threshold time is found by a bracketed Newton
    iteration refined to the smallest double at which V >= V_th.

    Parameters
    ----------
    params : LIFParams
        Leaky (g_L > 0), noise-free.
    current_amp : float
        Constant input current (A).
    duration_s : float
        Simulated time (s), > 0.
    v0_volt : float, optional
        Initial V (default V_reset).
    w0_amp : float
        Initial adaptation current (A).

    Returns
    -------
    ndarray of float64
        Spike times in s, increasing, in ``[0, duration_s)``.

    Examples
    --------
    >>> from neurochip.lif import LIFParams
    >>> p = LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-9, v_th_volt=0.5, t_ref_s=1e-4,
    ...               adapt_increment_amp=1e-10, tau_adapt_s=1e-2)
    >>> t = adaptive_spike_times(p, 2e-9, duration_s=0.05)
    >>> bool(np.all(np.diff(np.diff(t)) >= -1e-12))  # adaptation: intervals lengthen
    True
    """
    duration_s = _check_duration(duration_s)
    if params.g_leak_siemens <= 0:
        raise InvalidParameterError("adaptive_spike_times: g_leak_siemens = 0.0: needs a leak (> 0)")
    if params.noise_sigma_volt > 0:
        raise InvalidParameterError("adaptive_spike_times: noise_sigma_volt must be 0 (use noisy_spike_times)")
    v0 = params.v_reset_volt if v0_volt is None else float(v0_volt)
    return _compiled().adaptive_spike_times(
        params.c_m_farad, params.g_leak_siemens, params.e_leak_volt, params.v_th_volt,
        params.v_reset_volt, params.t_ref_s, params.adapt_increment_amp, params.tau_adapt_s,
        float(current_amp), v0, float(w0_amp), duration_s,
    )  # fmt: skip


def noisy_spike_times(
    params: LIFParams,
    current_amp: float,
    *,
    duration_s: float,
    seed: int = 0,
    dt_s: float | None = None,
    v0_volt: float | None = None,
) -> NDArray[np.float64]:
    r"""Spike times (s) of an LIF neuron with white input noise (``params.noise_sigma_volt``).

    .. math:: \tau_m \frac{dV}{dt} = -(V - \mu) + \sigma \sqrt{\tau_m}\,\xi(t),
              \quad \mu = E_L + I / g_L

    (Brunel 2000).  Method: the exact Ornstein-Uhlenbeck transition over steps of ``dt_s``
    (default tau_m / 1000); a step ending above threshold spikes at the linear interpolation
    of the crossing, and a step whose ends (V0, V1) are both below threshold spikes at its
    midpoint with the Brownian-bridge crossing probability
    :math:`\exp(-2(\theta - V_0)(\theta - V_1) / (\sigma_{\mathrm{eff}}^2 \Delta t))`,
    :math:`\sigma_{\mathrm{eff}}^2 \Delta t = \tfrac{\sigma^2}{2}(1 - e^{-2\Delta t/\tau})` the
    step's variance.  Spike times are known to within dt/2; the rate error is O(dt/tau)
    (docs/emulator.md).

    Parameters
    ----------
    params : LIFParams
        Leaky, non-adapting, with noise_sigma_volt > 0.
    current_amp : float
        Mean input current (A).
    duration_s : float
        Simulated time (s), > 0.
    seed : int
        Seed of the noise.
    dt_s : float, optional
        Step (s), default tau_m / 1000.
    v0_volt : float, optional
        Initial V (default V_reset).

    Returns
    -------
    ndarray of float64
        Spike times in s, increasing, in ``[0, duration_s)``; deterministic for a given seed.
    """
    duration_s = _check_duration(duration_s)
    if params.g_leak_siemens <= 0:
        raise InvalidParameterError("noisy_spike_times: g_leak_siemens = 0.0: needs a leak (> 0)")
    if params.is_adapting:
        raise InvalidParameterError("noisy_spike_times: adapt_increment_amp must be 0")
    if not params.noise_sigma_volt > 0:
        raise InvalidParameterError("noisy_spike_times: noise_sigma_volt = 0.0: must be > 0")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise InvalidParameterError(f"seed = {seed!r}: must be an int in [0, 2**64)")
    tau = params.tau_m_s
    dt = tau / 1000.0 if dt_s is None else float(dt_s)
    if not (math.isfinite(dt) and 0 < dt <= 0.1 * tau):
        raise InvalidParameterError(f"dt_s = {dt_s!r}: must be in (0, tau_m / 10]")
    mu = params.e_leak_volt + float(current_amp) / params.g_leak_siemens
    v0 = params.v_reset_volt if v0_volt is None else float(v0_volt)
    times, _ = _compiled().noisy_spike_times(
        tau, mu, params.noise_sigma_volt, params.v_th_volt, params.v_reset_volt, params.t_ref_s,
        v0, duration_s, dt, int(seed),
    )  # fmt: skip
    return times
