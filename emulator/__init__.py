"""The neurochip emulator: exact event-driven LIF dynamics, compiled with Cython.

The compiled kernels live in ``neurochip.emulator._engine`` (networks) and
``neurochip.emulator._core`` (one neuron under DC); this module is the public wrapper that
validates inputs and turns kernel results into arrays in SI units.  ``backend="reference"``
runs the plain-Python definition of the same behaviour (``_reference.py``).  See
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

try:
    from . import _core, _engine
except ImportError as exc:  # pragma: no cover - depends on the build
    raise ImportError(
        "neurochip.emulator's compiled core (_core, _engine) is not built; run `make install` "
        "(or `pip install -e .`) in the repository to compile it"
    ) from exc

__all__ = ["dc_spike_times", "run", "EmulationResult", "EVENT_DTYPE", "BACKENDS"]

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


def _window(prep: Any, delays: NDArray[np.float64], duration_s: float) -> float:
    """Window length: just under the minimum delay (so a spike never arrives in the window it
    was emitted in, whatever the rounding), at most tau_min / 8 (the polynomial frame), at most
    the duration."""
    w = duration_s
    if delays.size and math.isfinite(delays[0]):
        w = min(w, float(delays[0]) * (1.0 - 2.0**-20))
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
) -> EmulationResult:
    """Emulate a network of LIF neurons, exactly and event by event.

    Parameters
    ----------
    network : Network
        Leaky (g_L > 0), non-adapting, noise-free LIF neurons; heterogeneous parameters and
        bias currents are fine.
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
    >>> int(res.spike_counts[0])    # ISI = 1 ms + ln 2 ms
    5
    """
    from ._prepare import prepare

    if not (isinstance(duration_s, (int, float)) and math.isfinite(duration_s) and duration_s > 0):
        raise InvalidParameterError(f"duration_s = {duration_s!r}: must be a finite number > 0")
    duration_s = float(duration_s)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise InvalidParameterError(f"seed = {seed!r}: must be an int in [0, 2**64)")
    if backend not in BACKENDS:
        raise InvalidParameterError(f"backend = {backend!r}: must be one of {BACKENDS}")
    prep = prepare(network, inputs, duration_s)
    csr = network.csr()
    if backend == "reference":
        from ._reference import run_reference

        t0 = time.perf_counter()
        times, ids, counts, counters = run_reference(prep, csr, duration_s, int(seed))
        wall = time.perf_counter() - t0
        window = math.nan
    else:
        window = _window(prep, csr.delays_s, duration_s)
        uniform = bool((prep.inv_tau == prep.inv_tau[0]).all())
        counts = np.zeros(prep.n, np.int64)
        cvec = np.zeros(len(_engine.counter_names()), np.int64)
        vinf = prep.vinf.copy()
        t0 = time.perf_counter()
        times, ids = _engine.run_lif(
            prep.inv_tau, vinf, prep.vth, prep.vreset, prep.tref, prep.v0,
            prep.rate, prep.pois_ptr, prep.pois_cum, prep.pois_w,
            prep.sin_ptr, prep.sin_t, prep.sin_w,
            prep.st_ptr, prep.st_t, prep.st_vinf,
            csr.indptr, csr.indices, csr.weights, csr.delays_s,
            int(seed), duration_s, window, int(uniform), 1,
            counts, cvec,
        )  # fmt: skip
        wall = time.perf_counter() - t0
        counters = {name: int(v) for name, v in zip(_engine.counter_names(), cvec)}
        counters["neuron_updates"] = (
            counters["rec_events"] - counters["rec_discarded"] + counters["ext_events"]
            - counters["ext_discarded"] + counters["spikes"] + counters["current_steps"]
        )  # fmt: skip
    rec_in = _received(csr, times, ids, duration_s)
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
        params={"n_neurons": prep.n, "n_synapses": csr.n_synapses, "delays_s": csr.delays_s.tolist()},
    )


def _received(csr: Any, times: NDArray[np.float64], ids: NDArray[np.int32], duration_s: float) -> NDArray[np.int64]:
    """Recurrent events per target: each spike whose arrival falls before the end counts once
    per synapse of its row (a weighted in-degree, computed from the log, not in the kernel)."""
    n = csr.n_neurons
    out = np.zeros(n, np.float64)
    if csr.n_synapses == 0 or times.size == 0:
        return out.astype(np.int64)
    for j, d in enumerate(csr.delays_s):
        delivered = np.bincount(ids[times + d < duration_s], minlength=n)
        rows = slice(j * n, (j + 1) * n)
        lengths = np.diff(csr.indptr[j * n : (j + 1) * n + 1])
        if not lengths.any():
            continue
        per_syn = np.repeat(delivered, lengths)
        out += np.bincount(csr.indices[csr.indptr[rows.start] : csr.indptr[rows.stop]], weights=per_syn, minlength=n)
    return np.rint(out).astype(np.int64)


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
    return _core.dc_spike_times(
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
