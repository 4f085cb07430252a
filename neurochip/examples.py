r"""Example networks that the demo, sweeps, benchmarks and tests share.

- :func:`ei_network`: an inhibition-dominated excitatory/inhibitory network scaled to its neuron
  (weights are fractions of the threshold gap, the delay a fraction of :math:`\tau_m`), driven by
  Poisson input; ``neurochip demo`` runs it with the fitted transistor neuron.
- :func:`brunel_network`: Brunel's (2000) model A, the emulator's speed benchmark.

Both return the network and the list of its stimuli.

Examples
--------
>>> from neurochip.lif import LIFParams
>>> net, drive = ei_network(LIFParams(), n_exc=80, n_inh=20, k_exc=8, k_inh=2)
>>> net.n_neurons, net.csr().n_synapses, len(drive)
(100, 1000, 2)
"""

from __future__ import annotations

import numpy as np

from .errors import InvalidParameterError
from .lif import LIFParams
from .network import FixedInDegree, Network, PoissonInput, Population, Projection

__all__ = ["ei_network", "brunel_network", "BRUNEL", "brunel_nu_thr_hz"]


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
