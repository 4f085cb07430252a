"""What an NIR import returns: :class:`NIRImport` and its :class:`InputPort` (part of
:mod:`neurochip.network`; :mod:`neurochip.network.nir_io` re-exports both)."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InvalidParameterError
from ..models.cuba import Cuba
from ._nir_common import RELAY_WEIGHT_VOLT, NIRExportWarning
from .model import Network
from .nir_export import to_nir
from .stimulus import SpikeTimesInput

__all__ = ["InputPort", "NIRImport", "network_digest"]


def network_digest(network: Network) -> str:
    """A SHA-256 of everything an export reads from a network: each population's name, size,
    parameter arrays, initial potentials and model, and every synapse (pre, post, weight, delay).
    Two networks with the same digest export to the same NIR graph.

    Parameters
    ----------
    network : Network
        The network.

    Returns
    -------
    str
        The digest, 64 hexadecimal digits.

    Examples
    --------
    >>> from neurochip.lif import LIFParams
    >>> from neurochip.network import Network, Population
    >>> a = Network(populations=(Population(name="a", size=2, params=LIFParams()),))
    >>> b = Network(populations=(Population(name="a", size=2, params=LIFParams(v_th_volt=0.6)),))
    >>> network_digest(a) == network_digest(a), network_digest(a) == network_digest(b)
    (True, False)
    """
    h = hashlib.sha256()
    for p in network.populations:
        h.update(repr((p.name, p.size, None if p.model is None else p.model.to_dict())).encode())
        for key, arr in sorted(p.arrays().items()):
            h.update(key.encode())
            h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
        h.update(np.ascontiguousarray(p.initial_v(), dtype=np.float64).tobytes())
    for arr in network.csr().to_coo():
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class InputPort:
    """Where the spikes of one NIR Input node go.

    Attributes
    ----------
    name : str
        The Input node's (flattened) name.
    size : int
        Number of input channels.
    targets : tuple of (population, indptr, neurons, weight_volt, delay_s)
        For each reached path: the population, the connections in compressed columns (the
        targets of channel ``c`` are ``neurons[indptr[c]:indptr[c + 1]]`` with the voltage
        jumps ``weight_volt[...]``) and the path delay (s, from Delay nodes; 0 when there is
        none: input is delivered at once).  Empty for a relay population.
    population : str or None
        The relay population the Input node became (``inputs="populations"``), else None.
    """

    name: str
    size: int
    targets: tuple[tuple[str, NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], float], ...] = ()
    population: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class NIRImport:
    """A network imported from NIR, and how to feed and read it.

    Attributes
    ----------
    network : Network
        Populations named after the NIR neuron nodes (``"sub.lif"`` inside a subgraph).
    inputs : dict of str to InputPort
        The graph's Input nodes.
    outputs : dict of str to tuple of str
        Each Output node and the populations whose spikes reach it.
    dt_s, reset, t_ref_s, delay_s
        The values used for the import options (``t_ref_s`` is None when taken per neuron
        from neurochip metadata; ``reset`` is the option as given, a str or a dict, or the
        value every neuron node got).
    resets : dict of str to str
        The reset each neuron node got (``"value"`` or ``"subtract"``), by population name.
    assumed : tuple of str
        The options that were assumed rather than given (also sent as a warning).
    readouts : dict of str to str
        Readout populations and the NIR node each reads: what reaches an Output node through
        weights, a bias or a delay after the last neuron layer (or a chain node that feeds
        nothing) becomes a non-spiking population of that width, named after the Output (or
        chain) node: ``Cuba(tau_syn_exc_s=dt_s, spiking=False)``, C = 1 F, g_L = 0, so that
        :func:`~neurochip.network.readout.li_readout` gives its current I(t) (A: the node's
        output, filtered over one time step) and V(t) (V = C: the charge it delivered,
        :math:`\\int I\\,dt`).
    profile : str or None
        The exporter profile the import used (:mod:`neurochip.network.nir_profiles`).
    layers : dict of str to LayerInfo
        Each Conv1d / Conv2d / SumPool2d / AvgPool2d node: its input and output shapes, shared
        weights and expanded synapses (:class:`neurochip.network._nir_conv.LayerInfo`).
    layer_links : dict of str to tuple of (str, str)
        Each node of :attr:`layers`: the (pre, post) population pairs whose synapses start with
        it; a changed network's export (:meth:`to_nir`) writes a convolution's or pooling's
        synapses back as its Conv / SumPool2d / AvgPool2d node while they still are its expansion.
    nodes : dict of str to str
        What every node of the graph became, by flattened name: ``"population"`` (a neuron
        node), ``"relay population"`` or ``"input port"`` (an Input node), ``"readout
        population"`` (an Output node, or a dangling chain node, read through weights),
        ``"output"`` (an Output node that reads populations), ``"synapses"`` (a chain node,
        folded into the synapses of the populations it reaches) or ``"pass"`` (a subgraph's
        Input or Output node that passes signals on).  Every node of the graph has an entry.
    source : nir.NIRGraph or None
        A copy of the graph as it was imported (None for a network that did not come from NIR).
    source_digest : str or None
        :func:`network_digest` of the imported network: :meth:`to_nir` gives ``source`` back
        while the network still has this digest.
    """

    network: Network
    inputs: dict[str, InputPort]
    outputs: dict[str, tuple[str, ...]]
    dt_s: float
    reset: Any
    t_ref_s: float | None
    delay_s: float
    assumed: tuple[str, ...] = ()
    resets: dict[str, str] = dataclasses.field(default_factory=dict)
    readouts: dict[str, str] = dataclasses.field(default_factory=dict)
    layers: dict[str, Any] = dataclasses.field(default_factory=dict)
    layer_links: dict[str, tuple[tuple[str, str], ...]] = dataclasses.field(default_factory=dict)
    profile: str | None = None
    nodes: dict[str, str] = dataclasses.field(default_factory=dict)
    source: Any = None
    source_digest: str | None = None

    def to_nir(self, **options: Any) -> Any:
        """Export the imported network back to NIR.

        While the network is the one imported (same :func:`network_digest`) and no option is
        given, the result is the imported graph node for node: every node's type, shapes,
        parameters (their dtypes too) and metadata, the subgraphs and the edges, as read.
        Otherwise (a changed network, or options) the network is exported from its populations
        and synapses by :func:`to_nir`: relay populations as their Input nodes, readouts as their
        Output nodes, LI and I populations as LI and I nodes, at the import's ``dt_s`` (the
        keyword options of :func:`to_nir` override these); a changed network is warned about
        (:class:`NIRExportWarning`), since that graph is not the original node for node.  A
        convolution's or pooling's synapses go back as its Conv / pooling node while they still
        are its expansion (:attr:`layer_links`; see :func:`to_nir`'s ``layers``), else as a
        dense node, warned (a pooling folded into the next layer at import stays dense).

        Returns
        -------
        nir.NIRGraph
            The graph; importing it again with the same options (time step, reset, refractory
            period, delay, inputs, profile) gives the same network.

        Examples
        --------
        >>> import numpy as np, nir
        >>> from neurochip.network.nir_io import from_nir
        >>> graph = nir.NIRGraph.from_list(nir.Input(input_type=np.array([2])), nir.Linear(weight=np.eye(2)),
        ...     nir.LI(tau=np.ones(2), r=np.ones(2), v_leak=np.zeros(2)), nir.Output(output_type=np.array([2])))
        >>> back = from_nir(graph, dt_s=1.0, t_ref_s=0.0, delay_s=1.0).to_nir()
        >>> {k: type(v).__name__ for k, v in back.nodes.items()} == {k: type(v).__name__ for k, v in graph.nodes.items()}
        True
        """
        if self.source is not None and self.source_digest is not None:
            if network_digest(self.network) == self.source_digest:
                if not options:
                    return copy.deepcopy(self.source)
            else:
                warnings.warn(
                    "the network differs from the one imported: exported from its populations and synapses, "
                    "not node for node as the original graph",
                    NIRExportWarning,
                    stacklevel=2,
                )
        relays = tuple(p.population for p in self.inputs.values() if p.population is not None)
        names = {pops[0]: k for k, pops in self.outputs.items() if len(pops) == 1 and pops[0] not in self.readouts}
        convs = {k: (self.layers[k], pre, post) for k, pairs in self.layer_links.items() if k in self.layers
                 for pre, post in pairs[:1]}  # fmt: skip
        defaults = {"dt_s": self.dt_s, "relays": relays, "readouts": tuple(self.readouts), "output_names": names,
                    "layers": convs}  # fmt: skip
        return to_nir(self.network, **{**defaults, **options})

    def bias_onset(self) -> list[SpikeTimesInput]:
        """Inputs at t = 0 that start the synaptic current of each biased current-based
        population at zero instead of at its steady state.

        An Affine bias b into a CubaLIF or CubaLI node imports as the bias current w_in b,
        which acts at once: NIR's equation with I(0) = w_in b.  A simulator that starts from
        I(0) = 0 (snnTorch does) sees the current rise as :math:`w_{in} b (1 - e^{-t/\tau_{syn}})`.
        One input at t = 0 of weight :math:`-I_{bias}\tau_{syn}/C` per neuron makes the
        synaptic current jump by :math:`-I_{bias}`, which gives exactly that: add these stimuli
        to the run's inputs (and to :func:`~neurochip.network.readout.li_readout`'s).  An import
        with the ``lava-dl`` profile gets none: Loihi adds its bias to v, not to the current.

        Returns
        -------
        list of SpikeTimesInput
            One per current-based population with a nonzero bias (times 0, weights in V).

        Examples
        --------
        >>> import numpy as np, nir
        >>> from neurochip.network.nir_io import from_nir
        >>> lif = nir.CubaLIF(tau_syn=np.full(2, 1e-3), tau_mem=np.full(2, 1e-3), r=np.ones(2),
        ...                   v_leak=np.zeros(2), v_threshold=np.ones(2))
        >>> imp = from_nir(nir.NIRGraph.from_list(nir.Affine(weight=np.eye(2), bias=np.array([0.0, 0.5])), lif),
        ...                dt_s=1e-4, reset="value", t_ref_s=0.0, delay_s=1e-4)
        >>> (onset,) = imp.bias_onset()
        >>> onset.population, onset.neurons.tolist(), onset.weight_volt.tolist()  # -I_bias tau_syn / C
        ('cubalif', [1], [-0.5])
        """
        out: list[SpikeTimesInput] = []
        if self.profile == "lava-dl":  # Loihi's bias is added to v each step: there is no current to start
            return out
        for pop in self.network.populations:
            if not isinstance(pop.model, Cuba):
                continue
            a = pop.arrays()
            bias = a["bias_current_amp"]
            which = np.flatnonzero(bias != 0)
            if not which.size:
                continue
            tau = np.where(bias[which] < 0, pop.model.tau_syn_exc_s, float(pop.model.tau_syn_inh_s))  # type: ignore[arg-type]
            out.append(SpikeTimesInput(population=pop.name, times_s=np.zeros(which.size), neurons=which,
                                       weight_volt=-bias[which] * tau / a["c_m_farad"][which]))  # fmt: skip
        return out

    def spike_input(self, name: str, times_s: ArrayLike, channels: ArrayLike) -> list[SpikeTimesInput]:
        """Stimuli for :func:`neurochip.emulator.run` from spikes on an Input node.

        Parameters
        ----------
        name : str
            The Input node.
        times_s : array of float
            Spike times (s), >= 0.
        channels : array of int
            Input channel of each spike, in [0, size).

        Returns
        -------
        list of SpikeTimesInput
            For a relay population: one, that makes relay neuron ``channel`` fire at each
            spike time (a jump of :data:`RELAY_WEIGHT_VOLT`, V).  For a port: one per reached
            population, where each input spike becomes, for every neuron its chain reaches, a
            jump of the mapped weight (V) at ``time + path delay`` (s).

        Raises
        ------
        InvalidParameterError
            When ``name`` is not an Input node of the graph, or a channel is out of range.

        Examples
        --------
        >>> import numpy as np, nir
        >>> from neurochip.network.nir_io import from_nir
        >>> graph = nir.NIRGraph.from_list(
        ...     nir.Linear(weight=np.array([[2.0, 0.0], [0.5, 1.0]])),
        ...     nir.LIF(tau=np.full(2, 1e-3), r=np.full(2, 10.0), v_leak=np.zeros(2), v_threshold=np.ones(2)))
        >>> imp = from_nir(graph, dt_s=1e-4, reset="value", t_ref_s=0.0, delay_s=1e-3, inputs="ports")
        >>> (stim,) = imp.spike_input("input", times_s=[0.001, 0.002], channels=[0, 1])
        >>> stim.population, stim.times_s.tolist(), stim.neurons.tolist()
        ('lif', [0.001, 0.001, 0.002], [0, 1, 1])
        >>> stim.weight_volt.tolist()          # r W dt / tau, with r dt / tau = 1
        [2.0, 0.5, 1.0]
        """
        if name not in self.inputs:
            raise InvalidParameterError(f"input node = {name!r}: not an Input of the graph ({sorted(self.inputs)})")
        port = self.inputs[name]
        t = np.atleast_1d(np.asarray(times_s, dtype=np.float64))
        c = np.atleast_1d(np.asarray(channels, dtype=np.int64))
        if t.shape != c.shape or t.ndim != 1:
            raise InvalidParameterError(f"spike_input({name!r}): times_s and channels must be 1-d of equal length")
        if c.size and (c.min() < 0 or c.max() >= port.size):
            raise InvalidParameterError(f"spike_input({name!r}): channels must be in [0, {port.size})")
        if port.population is not None:
            return [SpikeTimesInput(population=port.population, times_s=t, neurons=c, weight_volt=RELAY_WEIGHT_VOLT)]
        out = []
        for pop, indptr, neurons, w, delay in port.targets:
            counts = indptr[c + 1] - indptr[c]
            k = np.repeat(np.arange(c.size), counts)  # the input spike of each delivery
            syn = np.arange(k.size) - np.repeat(np.cumsum(counts) - counts, counts) + indptr[c][k]
            order = np.lexsort((neurons[syn], t[k]))
            k, syn = k[order], syn[order]
            out.append(SpikeTimesInput(population=pop, times_s=t[k] + delay, neurons=neurons[syn], weight_volt=w[syn]))
        return out
