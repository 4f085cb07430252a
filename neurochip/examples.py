r"""Example networks that the demo, sweeps, benchmarks and tests share.

- :func:`ei_network`: an inhibition-dominated excitatory/inhibitory network scaled to its neuron
  (weights are fractions of the threshold gap, the delay a fraction of :math:`\tau_m`), driven by
  Poisson input; ``neurochip demo`` runs it with the fitted transistor neuron.
- :func:`brunel_network`: Brunel's (2000) model A, the emulator's speed benchmark.
- :func:`cuba_network`: the CUBA network of Vogels and Abbott (2005), benchmark 2 of Brette et
  al. (2007): current-based synapses (:class:`~neurochip.models.Cuba`), no external drive.
- :func:`chain_network`: four neurons in a chain and five kicks of the first, small enough that
  every count of a run follows by hand (the examples of the run record and its reports);
  :func:`chain_record` is its run on four one-neuron cores, the record the reports' examples read.

Each network function returns the network and the list of its stimuli (empty for the CUBA
network).

Examples
--------
>>> from neurochip.lif import LIFParams
>>> net, drive = ei_network(LIFParams(), n_exc=80, n_inh=20, k_exc=8, k_inh=2)
>>> net.n_neurons, net.csr().n_synapses, len(drive)
(100, 1000, 2)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .errors import InvalidParameterError
from .lif import LIFParams
from .models.cuba import Cuba
from .network import (
    Explicit,
    FixedInDegree,
    FixedProbability,
    Network,
    PoissonInput,
    Population,
    Projection,
    SpikeTimesInput,
)

if TYPE_CHECKING:
    from .run_record import RunRecord

__all__ = [
    "ei_network", "brunel_network", "BRUNEL", "brunel_nu_thr_hz", "cuba_network", "CUBA", "cuba_weights_volt",
    "chain_network", "chain_record",
]


def ei_network(
    params: LIFParams,
    *,
    n_exc: int = 800,
    n_inh: int = 200,
    k_exc: int = 80,
    k_inh: int = 20,
    j_fraction: float = 0.02,
    g: float = 5.0,
    delay_fraction: float = 0.1,
    input_weight_fraction: float = 0.05,
    input_rate_hz: float | None = None,
    seed: int = 1,
) -> tuple[Network, list[PoissonInput]]:
    r"""An excitatory/inhibitory network of ``params`` neurons with Poisson drive.

    Parameters
    ----------
    params : LIFParams
        The neuron of both populations.
    n_exc, n_inh : int
        Population sizes; ``n_exc >= 1``, ``n_inh >= 0`` (0: no inhibitory population).
    k_exc, k_inh : int
        Excitatory and inhibitory in-degree of every neuron (fixed in-degree, clipped to the
        population size).
    j_fraction : float
        Excitatory weight as a fraction of the threshold gap :math:`V_{th} - E_L` (dimensionless).
    g : float
        Relative inhibition: inhibitory weight :math:`= -g \cdot` excitatory weight.
    delay_fraction : float
        Synaptic delay as a fraction of :math:`\tau_m` (at least 1 ns).
    input_weight_fraction : float
        Weight of each Poisson input event as a fraction of the threshold gap.
    input_rate_hz : float, optional
        Poisson rate into every neuron, Hz.  Default :math:`1.2 / (f_w \tau_m)`, which drives the
        mean input to 1.2 times the threshold gap.
    seed : int
        Connectivity seed.

    Returns
    -------
    network : Network
        Populations ``"E"`` (and ``"I"``), projections from each to each.
    inputs : list of PoissonInput
        One Poisson drive per population.
    """
    if n_exc < 1 or n_inh < 0:
        raise InvalidParameterError(f"ei_network: n_exc = {n_exc}, n_inh = {n_inh}: need n_exc >= 1, n_inh >= 0")
    gap = params.v_th_volt - params.e_leak_volt
    tau = params.tau_m_s
    j = j_fraction * gap
    delay = max(delay_fraction * tau, 1e-9)
    pops = [Population(name="E", size=n_exc, params=params)]
    if n_inh > 0:
        pops.append(Population(name="I", size=n_inh, params=params))
    names = [p.name for p in pops]
    sources = [("E", k_exc, n_exc, j)] + ([("I", k_inh, n_inh, -g * j)] if n_inh > 0 else [])
    projections = tuple(
        Projection(pre=pre, post=post, rule=FixedInDegree(k=min(k, n)), weight_volt=w, delay_s=delay)
        for pre, k, n, w in sources
        if k > 0
        for post in names
    )
    net = Network(populations=tuple(pops), projections=projections, seed=seed)
    j_ext = input_weight_fraction * gap
    rate = 1.2 / (input_weight_fraction * tau) if input_rate_hz is None else float(input_rate_hz)
    return net, [PoissonInput(population=name, rate_hz=rate, weight_volt=j_ext) for name in names]


#: Brunel (2000) model A: J. Comput. Neurosci. 8:183, section 2 and figure 8 (g = 5, eta = 2).
BRUNEL: dict[str, float] = {
    "n_exc": 10_000, "n_inh": 2_500, "c_e": 1000, "c_i": 250,
    "tau_m_s": 20e-3, "c_m_farad": 250e-12,  # any C works with delta synapses: only tau_m matters
    "v_th_volt": 20e-3, "v_reset_volt": 10e-3, "t_ref_s": 2e-3,
    "j_volt": 0.1e-3, "g": 5.0, "delay_s": 1.5e-3,
}  # fmt: skip


def brunel_nu_thr_hz() -> float:
    r"""Rate of the external drive that brings the mean input to threshold (Brunel 2000).

    Returns
    -------
    float
        :math:`\nu_{thr} = V_{th} / (J C_E \tau_m)`, Hz.

    Examples
    --------
    >>> brunel_nu_thr_hz()
    10.0
    """
    b = BRUNEL
    return b["v_th_volt"] / (b["j_volt"] * b["c_e"] * b["tau_m_s"])


def brunel_network(
    scale: float = 1.0, *, seed: int = 1, g: float = BRUNEL["g"], eta: float = 2.0
) -> tuple[Network, list[PoissonInput]]:
    r"""Brunel's (2000) model A.

    :math:`N_E` = 10,000 and :math:`N_I` = 2,500 LIF neurons (times ``scale``), fixed in-degree
    :math:`C_E` = 1,000 and :math:`C_I` = 250 (random sources, with replacement), J = 0.1 mV,
    delay 1.5 ms, :math:`\tau_m` = 20 ms, :math:`V_{th}` = 20 mV, :math:`V_{reset}` = 10 mV,
    :math:`E_L` = 0, :math:`t_{ref}` = 2 ms; every neuron gets its own Poisson drive of rate
    :math:`C_E \eta \nu_{thr}` with weight J; initial V uniform in :math:`[0, V_{th})`.

    Parameters
    ----------
    scale : float
        Size relative to the published 12,500 neurons (in-degrees are kept).
    seed : int
        Seed of the connectivity and of the initial potentials.
    g : float
        Relative strength of inhibition (5 in model A's figure 8).
    eta : float
        External drive in units of :math:`\nu_{thr}` (2 in figure 8; 4 with g = 6 gives the
        asynchronous irregular state B).

    Returns
    -------
    network : Network
    inputs : list of PoissonInput

    Examples
    --------
    >>> net, inputs = brunel_network(0.01)
    >>> net.n_neurons, float(inputs[0].rate_hz[0])
    (125, 20000.0)
    """
    b = BRUNEL
    n_e = max(1, round(b["n_exc"] * scale))
    n_i = max(1, round(b["n_inh"] * scale))
    params = LIFParams(
        c_m_farad=b["c_m_farad"],
        g_leak_siemens=b["c_m_farad"] / b["tau_m_s"],
        e_leak_volt=0.0,
        v_th_volt=b["v_th_volt"],
        v_reset_volt=b["v_reset_volt"],
        t_ref_s=b["t_ref_s"],
    )
    rng = np.random.default_rng(seed)
    exc = Population(name="E", size=n_e, params=params, v_init_volt=rng.uniform(0, b["v_th_volt"], n_e))
    inh = Population(name="I", size=n_i, params=params, v_init_volt=rng.uniform(0, b["v_th_volt"], n_i))
    projections = tuple(
        Projection(pre=pre, post=post, rule=FixedInDegree(k=int(k)), weight_volt=w, delay_s=b["delay_s"])
        for pre, k, w in (("E", b["c_e"], b["j_volt"]), ("I", b["c_i"], -g * b["j_volt"]))
        for post in ("E", "I")
    )
    net = Network(populations=(exc, inh), projections=projections, seed=seed)
    rate_ext = b["c_e"] * eta * brunel_nu_thr_hz()
    inputs = [PoissonInput(population=p, rate_hz=rate_ext, weight_volt=b["j_volt"]) for p in ("E", "I")]
    return net, inputs


#: CUBA network of Vogels and Abbott (2005) as benchmark 2 of Brette et al. (2007, J. Comput.
#: Neurosci. 23:349), in the numbers of Brian2's examples/CUBA.py.  ``we_brian_volt`` and
#: ``wi_brian_volt`` are the jumps of Brian's ``ge``/``gi`` (``ge += we`` with
#: ``dv/dt = (ge + gi - (v - El)) / taum``); :func:`cuba_weights_volt` turns them into
#: neurochip's charge weights.  The 0.1 ms delay is the one every simulator of
#: benchmarks/cuba.py uses (Brian2's example has none, which on its 0.1 ms grid acts as ~1 step;
#: NEST needs a delay of at least one step).
CUBA: dict[str, float] = {
    "n_exc": 3200, "n_inh": 800, "p": 0.02,
    "tau_m_s": 20e-3, "tau_e_s": 5e-3, "tau_i_s": 10e-3, "c_m_farad": 250e-12,
    "e_leak_volt": -49e-3, "v_th_volt": -50e-3, "v_reset_volt": -60e-3, "t_ref_s": 5e-3,
    "we_brian_volt": 0.27 * 60 / 10 * 1e-3, "wi_brian_volt": -20 * 4.5 / 10 * 1e-3, "delay_s": 0.1e-3,
}  # fmt: skip


def cuba_weights_volt() -> tuple[float, float]:
    r"""neurochip's excitatory and inhibitory ``weight_volt`` of the CUBA network.

    Brian's ``ge`` (V) enters as :math:`dV/dt = \ldots + g_e/\tau_m`, so neurochip's current
    :math:`J_e = g_e/\tau_m` (V/s) jumps by :math:`w_e^{Brian}/\tau_m` at each input.
    neurochip's current jumps by :math:`w/\tau_{syn}` (the charge :math:`wC_m`), hence
    :math:`w = w_e^{Brian}\,\tau_e/\tau_m`; the integral of one input's current,
    :math:`\int (w_e^{Brian}/\tau_m) e^{-t/\tau_e} dt = w_e^{Brian}\tau_e/\tau_m`, is the same.
    :func:`cuba_network` keeps these charges when its ``tau_i_s`` differs from the published 10 ms.

    Returns
    -------
    w_exc, w_inh : float
        V: 1.62 mV x 5/20 = 0.405 mV and -9 mV x 10/20 = -4.5 mV.

    Examples
    --------
    >>> [round(w * 1e3, 6) for w in cuba_weights_volt()]
    [0.405, -4.5]
    """
    c = CUBA
    return c["we_brian_volt"] * c["tau_e_s"] / c["tau_m_s"], c["wi_brian_volt"] * c["tau_i_s"] / c["tau_m_s"]


def cuba_network(
    scale: float = 1.0, *, seed: int = 1, tau_i_s: float = CUBA["tau_i_s"], delay_s: float = CUBA["delay_s"]
) -> tuple[Network, list[PoissonInput]]:
    r"""The CUBA network of Vogels and Abbott (2005), benchmark 2 of Brette et al. (2007).

    3,200 excitatory and 800 inhibitory current-based LIF neurons (times ``scale``), each
    ordered pair connected with probability :math:`p = 0.02/\text{scale}` (autapses allowed,
    as in Brian2's example), so that the mean in-degree stays 64 + 16 and the activity stays
    comparable when the network grows.  :math:`\tau_m` = 20 ms, :math:`E_L` = -49 mV (above
    :math:`V_{th}` = -50 mV: the neurons fire without input), :math:`V_{reset}` = -60 mV,
    :math:`t_{ref}` = 5 ms (V held, the currents keep integrating their inputs), exponential
    currents :math:`\tau_e` = 5 ms and :math:`\tau_i` = 10 ms with the charges of
    :func:`cuba_weights_volt`, delay 0.1 ms; initial V uniform in :math:`[V_{reset}, V_{th})`.
    No external input.

    Parameters
    ----------
    scale : float
        Size relative to the published 4,000 neurons (the mean in-degree is kept).
    seed : int
        Seed of the connectivity and of the initial potentials.
    tau_i_s : float
        Inhibitory time constant, s (default 10 ms; 5 ms gives the variant that NEST's
        ``iaf_psc_exp_ps_lossless``, which needs equal time constants, can run).  The
        inhibitory charge per input is kept.
    delay_s : float
        Synaptic delay, s (default 0.1 ms; the published benchmark leaves it open: Brian2's
        example has none, PyNN's VAbenchmarks.py uses 0.2 ms).

    Returns
    -------
    network : Network
        Populations ``"E"`` and ``"I"`` (both :class:`~neurochip.models.Cuba`), four projections.
    inputs : list of PoissonInput
        Empty.

    Examples
    --------
    >>> net, inputs = cuba_network(0.05)
    >>> net.n_neurons, [p.size for p in net.populations], inputs
    (200, [160, 40], [])
    """
    if not scale > 0:
        raise InvalidParameterError(f"cuba_network: scale = {scale!r}: must be > 0")
    c = CUBA
    n_e = max(1, round(c["n_exc"] * scale))
    n_i = max(1, round(c["n_inh"] * scale))
    p = min(1.0, c["p"] / scale)
    params = LIFParams(
        c_m_farad=c["c_m_farad"],
        g_leak_siemens=c["c_m_farad"] / c["tau_m_s"],
        e_leak_volt=c["e_leak_volt"],
        v_th_volt=c["v_th_volt"],
        v_reset_volt=c["v_reset_volt"],
        t_ref_s=c["t_ref_s"],
    )
    model = Cuba(tau_syn_exc_s=c["tau_e_s"], tau_syn_inh_s=tau_i_s)
    w_e, w_i = cuba_weights_volt()
    rng = np.random.default_rng(seed)
    lo, hi = c["v_reset_volt"], c["v_th_volt"]
    pops = tuple(
        Population(name=name, size=n, params=params, model=model, v_init_volt=rng.uniform(lo, hi, n))
        for name, n in (("E", n_e), ("I", n_i))
    )
    projections = tuple(
        Projection(pre=pre, post=post, rule=FixedProbability(p=p), weight_volt=w, delay_s=delay_s)
        for pre, w in (("E", w_e), ("I", w_i))
        for post in ("E", "I")
    )
    return Network(populations=pops, projections=projections, seed=seed), []


def chain_network() -> tuple[Network, list[SpikeTimesInput]]:
    """A chain 0 -> 1 -> 2 -> 3 of four neurons, and five kicks of neuron 0 that run down it.

    C_m = 1 pF, g_L = 1 nS (tau_m = 1 ms), E_L = 0, V_th = 0.5 V, V_reset = 0, t_ref = 1 ms (a
    1 kHz rate ceiling); each synapse weighs 0.6 V (above the threshold) with a 1 ms delay, and a
    kick of 0.6 V reaches neuron 0 at 10, 20, 30, 40 and 50 ms.  Every kick and every spike makes
    the next neuron fire at once, so a run of 0.1 s has 20 spikes (5 per neuron) and 15 synaptic
    events; placed one neuron per core on four cores in a row, each synaptic event is a one-hop
    packet.

    Returns
    -------
    network : Network
        One population ``"c"`` of four neurons, three synapses.
    inputs : list of SpikeTimesInput
        The five kicks of neuron 0.

    Examples
    --------
    >>> from neurochip.emulator import run
    >>> net, kicks = chain_network()
    >>> net.n_neurons, net.csr().n_synapses, run(net, duration_s=0.1, inputs=kicks).spike_counts.tolist()
    (4, 3, [5, 5, 5, 5])
    """
    params = LIFParams(c_m_farad=1e-12, g_leak_siemens=1e-9, v_th_volt=0.5, v_reset_volt=0.0, t_ref_s=1e-3)
    chain = Projection(pre="c", post="c", rule=Explicit(pre=[0, 1, 2], post=[1, 2, 3]), weight_volt=0.6, delay_s=1e-3)
    net = Network(populations=(Population(name="c", size=4, params=params),), projections=(chain,))
    kicks = SpikeTimesInput(
        population="c", times_s=[0.01, 0.02, 0.03, 0.04, 0.05], neurons=[0] * 5, weight_volt=0.6
    )
    return net, [kicks]


def chain_record() -> RunRecord:
    """:func:`chain_network` run for 0.1 s on four cores in a row, one neuron per core (the
    run record the report docstrings read: 20 spikes, 15 synaptic events, 15 one-hop packets).

    Returns
    -------
    RunRecord
        The record of ``run_on_chip`` on the ``generic`` chip's core prices, a 4 x 1 mesh of
        one-neuron cores, block placement.

    Examples
    --------
    >>> record = chain_record()
    >>> record.spike_counts.tolist(), record.routed
    ([5, 5, 5, 5], True)
    """
    from .chip import CoreSpec, load_chip
    from .mapping import MappingOptions
    from .onchip import run_on_chip

    net, kicks = chain_network()
    chip = load_chip("generic").with_mesh(4, 1).replace(core=CoreSpec(neurons=1, fan_in=10, fan_out=10))
    return run_on_chip(net, chip, duration_s=0.1, inputs=kicks, mapping_options=MappingOptions(partitioner="block"))
