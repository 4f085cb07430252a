r"""Import and export of the Neuromorphic Intermediate Representation (NIR).

Trained spiking networks from snnTorch, Norse, Sinabs, Lava-DL or Rockpool reach neurochip as
NIR graphs (the ``nir`` package, HDF5 files).  :func:`from_nir` turns a graph into a
:class:`~neurochip.network.Network`; :func:`to_nir` writes what neurochip can express back.

The mapping (derived in docs/networks.md)
-----------------------------------------
NIR's LIF is :math:`\tau \dot v = (v_{leak} - v) + r I`; neurochip's is
:math:`C \dot V = -g_L (V - E_L) + I`.  Dividing the latter by :math:`g_L` gives

.. math::

    C = \tau / r, \qquad g_L = 1 / r, \qquad E_L = v_{leak}, \qquad
    V_{th} = v_{threshold}, \qquad V_{reset} = v_{reset},

with NIR's voltages read as volts, ``tau`` as seconds, ``r`` as ohms and ``I`` as amperes.
IF (:math:`\dot v = r I`) is the same with :math:`g_L = 0`, :math:`C = 1/r`.

Spikes.  A step-based simulator with step :math:`\Delta t` represents a spike as a signal
of height 1 during one step; through an Affine/Linear weight :math:`W` it is a current pulse
of charge :math:`q = W \Delta t`, and a charge :math:`q` delivered at once makes the
membrane jump by :math:`\Delta V = q / C = r q / \tau`.  So a synapse of NIR weight
:math:`W_{ij}` onto neuron :math:`i` becomes a delta synapse of

.. math:: w_{ij} = \frac{r_i \, W_{ij} \, \Delta t}{\tau_i} = \frac{W_{ij} \Delta t}{C_i}
          \quad \text{(V)},

(IF: :math:`r_i W_{ij} \Delta t`), and an Affine bias :math:`b_i` is a constant current,
``bias_current_amp = b_i`` (A), not scaled by :math:`\Delta t`.  ``dt_s`` is an import
option; without it (and without a profile or neurochip's metadata) the import follows NIR's own
convention, ``dt_s = 1`` (a spike is a unit-area Dirac pulse, so it carries the charge :math:`W`),
and says so in a :class:`NIRImportWarning`; snnTorch exports with :math:`\Delta t = 10^{-4}` s
(``profile="snntorch"``).

Assumptions NIR leaves open (each one an option; :class:`NIRImportWarning` says which were
assumed): the time step ``dt_s``; the reset (``reset="value"``: v <- v_reset; ``"subtract"``,
v <- v - (v_threshold - v_reset), for current-based nodes only, one value for every node or a
dict per node); the refractory
period ``t_ref_s`` (NIR has none: default 0); the synaptic delay ``delay_s`` of an edge that
has no Delay node (the emulator needs delays > 0: default one time step).

Nodes: Input, Output, LIF, IF, LI, CubaLIF, CubaLI, Affine, Linear, Scale, Delay, Flatten, I, Conv1d, Conv2d,
SumPool2d, AvgPool2d, Threshold (Flatten only reshapes: populations are flat; convolutions and pooling are expanded to
explicit synapses, see :mod:`._nir_conv`) and subgraphs (NIRGraph nodes, flattened to ``"sub.node"`` names).  Each
node type is one entry of the table ``neurochip.network._nir_nodes.NODES``, which says how to
read it and how to write it; import and export ask the table and nothing else, so a new node
type is one entry plus its functions; every other node type is refused with an error naming
it.  LI (a leaky integrator that never spikes) becomes a population whose threshold is
:data:`LI_THRESHOLD_VOLT`, so it receives and counts synaptic events but never fires; it may
only feed Output nodes.

Current-based nodes.  NIR's CubaLIF, :math:`\tau_{syn} \dot I = -I + w_{in} x`,
:math:`\tau_{mem} \dot v = (v_{leak} - v) + r I`, is a population of the exact current-based
model :class:`neurochip.models.cuba.Cuba` with the LIF mapping above (:math:`C = \tau_{mem}/r`,
:math:`g_L = 1/r`, :math:`E_L = v_{leak}`; the current is :math:`I = C J`) and
``tau_syn_exc_s = tau_syn_inh_s = tau_syn``.  A spike of area :math:`\Delta t` through weight
:math:`W` makes :math:`I` jump by :math:`w_{in} W \Delta t / \tau_{syn}`, the charge
:math:`w_{in} W \Delta t`, so its synapse gets ``weight_volt`` :math:`= w_{in} W \Delta t / C`
(the LIF rule times :math:`w_{in}`), and an Affine bias :math:`b` becomes the bias current
:math:`w_{in} b` (the steady state of the synaptic current; see docs/networks.md).  CubaLI is the
same model with ``spiking=False``; :func:`neurochip.network.readout.li_readout` computes its
membrane potential and current from a run.  The reset can be ``"subtract"`` (snnTorch's
Synaptic and RSynaptic layers) for these nodes only; it is kept in the node's metadata on export.

Threshold (:math:`z = 1` when the input :math:`x >` threshold, no state) becomes a population of
memoryless neurons: C = ``dt_s`` (a spike through W moves V by W), a leak of time constant
``dt_s / 64`` (nothing is left of a step's input by the next), V_th = threshold
:math:`(1 + 2^{-30})`; the engine sums the arrivals of one instant before its threshold test, so
the node fires where NIR's definition does.  A threshold <= 0, a bias above it (the node would
fire at every step without input) and an input port feeding it are refused.

The import keeps a copy of the graph (:attr:`NIRImport.source`): while the network is unchanged,
:meth:`NIRImport.to_nir` gives it back node for node.

Input nodes become populations of relay neurons (one per channel) that fire exactly when fed
with the :class:`SpikeTimesInput` that :meth:`NIRImport.spike_input` builds; with
``inputs="ports"`` they are not neurons, and an input spike is delivered straight to the
neurons its Affine/Linear/Scale/Delay chain reaches.

Examples
--------
>>> import numpy as np, nir
>>> from neurochip.network.nir_io import from_nir
>>> graph = nir.NIRGraph.from_list(
...     nir.Affine(weight=np.full((2, 3), 0.6), bias=np.zeros(2)),
...     nir.LIF(tau=np.full(2, 1e-3), r=np.full(2, 10.0), v_leak=np.zeros(2), v_threshold=np.ones(2)))
>>> imp = from_nir(graph, dt_s=1e-4, reset="value", t_ref_s=0.0, delay_s=1e-3)
>>> [(p.name, p.size) for p in imp.network.populations]
[('input', 3), ('lif', 2)]
>>> float(imp.network.csr().weights[0])        # r W dt / tau = 10 * 0.6 * 1e-4 / 1e-3 (float32)
0.6000000238418579
>>> stimuli = imp.spike_input("input", times_s=[0.001, 0.002], channels=[0, 2])
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ConfigError, InvalidParameterError
from ..lif import LIFParams
from ..models.cuba import Cuba
from ._nir_base import LI_THRESHOLD_VOLT, META, THRESHOLD_TAU_STEPS, kind, nir_module, node_meta
from ._nir_common import (
    _LIF_FIELDS,
    _RESETS,
    FAST_SYNAPSE_STEPS,
    NIR_DEFAULT_DT_S,
    READOUT_PARAMS,
    RELAY_PARAMS,
    RELAY_WEIGHT_VOLT,
    NIRExportWarning,
    NIRImportWarning,
)
from ._nir_graph import Importer, flatten
from ._nir_lava import loihi_cuba_lif, loihi_hold_steps, loihi_prepare
from ._nir_nodes import handler, neuron_arrays, neuron_kinds, node_gain, node_model, node_size
from ._nir_nodes import role as _role
from .model import Network
from .nir_export import to_nir, write_nir
from .nir_profiles import _euler_step, _exp_step_cuba_lif, _per_step_cuba_lif, _per_step_lif
from .nir_profiles import profile as _profile
from .nir_result import InputPort, NIRImport, network_digest
from .population import Population

__all__ = [
    "from_nir",
    "read_nir",
    "to_nir",
    "write_nir",
    "NIRImport",
    "InputPort",
    "NIRImportWarning",
    "NIRExportWarning",
    "NIR_DEFAULT_DT_S",
    "LI_THRESHOLD_VOLT",
    "RELAY_PARAMS",
    "RELAY_WEIGHT_VOLT",
    "READOUT_PARAMS",
]

# --------------------------------------------------------------------------------------------
# import


def _readouts(nodes: dict[str, Any], imp: Importer, passes: set[str], ports: set[str]) -> dict[str, Any]:
    """What reaches each sink that is not simply a set of populations: an Output node fed through
    weights, a bias, a delay or straight from an input port, and a chain node that feeds nothing
    (a dangling Affine after the last neuron layer).  Each becomes a readout population."""
    out = {}
    for k, v in nodes.items():
        if k in passes:
            continue
        if _role(v) == "output":
            e = imp.input_of(k)
        elif _role(v) == "chain" and not imp.outgoing[k]:
            e = imp.output_of(k)
        else:
            continue
        direct = all(t.matrix is None and t.delay == 0 and t.source not in ports for t in e.terms)
        if direct and not np.any(e.bias):
            continue
        out[k] = e
    return out


def _population(
    name: str, arrays: dict[str, NDArray[np.float64]], bias: NDArray, v_init: Any, model: Any = None
) -> Population:
    per_neuron = {k: v for k, v in arrays.items() if not (v == v[0]).all()}
    try:
        base = LIFParams(**{k: float(v[0]) for k, v in arrays.items()})
        return Population(
            name=name, size=int(bias.size), params=base, per_neuron=per_neuron, bias_current_amp=bias,
            v_init_volt=v_init, model=model,
        )  # fmt: skip
    except InvalidParameterError as exc:
        raise InvalidParameterError(f"NIR node {name!r}: {exc}") from None


def _snntorch_layout(node: Any) -> float | None:
    """The time step of a CubaLIF node laid out as snnTorch exports its Synaptic layers, r = tau_mem /
    dt and w_in = tau_syn / dt with one dt for every neuron and both fields; None for any other node."""
    if kind(node) != "CubaLIF":
        return None
    try:
        r, tm, ts, w = (np.asarray(getattr(node, a), dtype=np.float64) for a in ("r", "tau_mem", "tau_syn", "w_in"))
        dt = (tm / r).reshape(-1)
        same = np.allclose(dt, dt[0], rtol=1e-6, atol=0) and np.allclose((ts / w).reshape(-1), dt[0], rtol=1e-6, atol=0)
        return float(dt[0]) if same and dt[0] > 0 else None
    except (TypeError, ValueError, IndexError, ZeroDivisionError):
        return None


def read_nir(path: str | Path, **options: Any) -> NIRImport:
    """Read an NIR file (HDF5) and import it.

    Parameters
    ----------
    path : str or Path
        The NIR file, as written by ``nir.write`` (or :func:`write_nir`).
    **options
        The keyword options of :func:`from_nir`: ``dt_s`` (s), ``reset``, ``t_ref_s`` (s),
        ``delay_s`` (s), ``if_tau_s`` (s), ``inputs``, ``seed``, ``profile``.  A file that
        nir's type check refuses is read without it (a :class:`NIRImportWarning` says so); the
        import checks the shapes itself.

    Returns
    -------
    NIRImport
        The network (SI units throughout), its input ports and output populations, and the
        option values used.

    Raises
    ------
    ConfigError
        When the file cannot be read as NIR (names the file).
    InvalidParameterError
        As for :func:`from_nir`, with the file name in front of the message.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from neurochip.lif import LIFParams
    >>> from neurochip.network import Network, OneToOne, Population, Projection
    >>> from neurochip.network.nir_io import read_nir, write_nir
    >>> p = LIFParams(t_ref_s=0.0)
    >>> net = Network(populations=(Population(name="a", size=2, params=p), Population(name="b", size=2, params=p)),
    ...               projections=(Projection(pre="a", post="b", rule=OneToOne(), weight_volt=0.25, delay_s=1e-3),))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = write_nir(net, pathlib.Path(tmp) / "net.nir", dt_s=1e-4)
    ...     imp = read_nir(pathlib.Path(tmp) / "net.nir")
    >>> [(pop.name, pop.size) for pop in imp.network.populations], imp.dt_s
    ([('a', 2), ('b', 2)], 0.0001)
    >>> imp.network.csr().weights.tolist(), imp.network.csr().delays_s.tolist()
    ([0.25, 0.25], [0.001])
    """
    nir = nir_module()
    try:
        graph = nir.read(str(path))
    except Exception as exc:  # noqa: BLE001 - nir raises many kinds on a bad file
        try:  # nir's type check refuses some published graphs (the NIR paper's Rockpool file) that read fine
            graph = nir.read(str(path), type_check=False)
        except Exception:  # noqa: BLE001
            raise ConfigError(f"cannot read as an NIR graph: {type(exc).__name__}: {exc}", path=str(path)) from None
        warnings.warn(
            f"{path}: nir's type check failed ({type(exc).__name__}: {exc}); read without it, shapes are checked "
            "on import",
            NIRImportWarning,
            stacklevel=2,
        )
    try:
        return from_nir(graph, **options)
    except InvalidParameterError as exc:
        raise InvalidParameterError(f"{path}: {exc}") from None


def from_nir(
    graph: Any,
    *,
    dt_s: float | None = None,
    reset: str | Mapping[str, str] | None = None,
    t_ref_s: float | None = None,
    delay_s: float | None = None,
    if_tau_s: float | None = None,
    inputs: str = "populations",
    seed: int = 0,
    profile: str | None = None,
) -> NIRImport:
    """Import an NIR graph (a ``nir.NIRGraph``, or a path to an NIR file).

    Parameters
    ----------
    graph : nir.NIRGraph or path
        The graph.
    dt_s : float, optional
        Time step (s) the exporter used: a spike through weight W delivers the charge
        W * dt_s.  Default: the value neurochip stored in the graph's metadata, else
        :data:`NIR_DEFAULT_DT_S` (1 s, NIR's own convention: a spike is a unit-area pulse), with a
        warning; a profile's (snnTorch: 1e-4 s, Lava-DL: 1/4096 s) when one is given.
    reset : {"value", "subtract"} or dict of str to them, optional
        The reset the exporter used: ``"value"`` (v <- v_reset) or ``"subtract"`` (v <- v -
        (v_threshold - v_reset), snnTorch's default), for every neuron node or per node name
        (nodes a dict leaves out get ``"value"``).  Only current-based nodes (CubaLIF) can
        reset by subtraction; for a LIF node ``"subtract"`` raises.  Default: each node's
        reset from neurochip's metadata, else ``"value"`` with a warning (which names the
        CubaLIF nodes laid out as snnTorch exports them).
    t_ref_s : float, optional
        Refractory period (s) of every neuron (NIR has none).  Default: per neuron from
        neurochip metadata, else 0 with a warning.
    delay_s : float, optional
        Delay (s) of each synapse whose path has no Delay node (the emulator needs > 0).
        Default ``dt_s``, with a warning when used.
    if_tau_s : float, optional
        Import IF nodes as LIF neurons with this membrane time constant (s), g_L = C /
        if_tau_s, E_L = 0: an approximation (relative error of the integral about T / if_tau_s
        over a time T) that lets :func:`neurochip.emulator.run`, which needs a leak, run them.
        Default None: IF nodes get g_L = 0 exactly.
    inputs : {"populations", "ports"}
        What an Input node becomes.  ``"populations"`` (default): a population of relay
        neurons (:data:`RELAY_PARAMS`), one per channel, that fire exactly when fed by
        :meth:`NIRImport.spike_input`; their synapses to the graph are ordinary projections
        (so input fan-out is on-chip traffic, and a path without a Delay node gets
        ``delay_s``).  ``"ports"``: no neurons; an input spike is delivered straight to the
        neurons its chain reaches, at once (NIR's timing exactly).  Input nodes neurochip
        exported as ports stay ports.
    seed : int
        Seed stored in the returned Network (its synapses are explicit, so it only matters if
        you add random projections).
    profile : {"nir", "snntorch", "sinabs", "norse", "rockpool", "lava-dl"}, optional
        The exporter that wrote the graph (:mod:`neurochip.network.nir_profiles`): sets the
        default ``dt_s`` and ``reset`` to that tool's (explicit options win); where the tool's
        reset cannot be expressed (a subtraction on LIF / IF nodes, Sinabs' several spikes per
        step) the import warns which nodes are approximated.

    Returns
    -------
    NIRImport
        The network (populations named after the neuron nodes, weights in V, delays in s,
        bias currents in A), its input ports and output populations, and the option values
        used (``assumed`` lists those that were not given).

    Raises
    ------
    InvalidParameterError
        On an unsupported node (naming it and its type), a shape mismatch (naming both ends
        of the edge), ``reset="subtract"`` for a LIF node, or invalid parameters (naming the
        node and the field).

    Examples
    --------
    >>> import numpy as np, nir
    >>> from neurochip.network.nir_io import from_nir
    >>> graph = nir.NIRGraph.from_list(
    ...     nir.Affine(weight=np.array([[2.0, 0.0], [0.5, 1.0]]), bias=np.array([0.0, 0.01])),
    ...     nir.LIF(tau=np.full(2, 1e-3), r=np.full(2, 10.0), v_leak=np.zeros(2), v_threshold=np.ones(2)))
    >>> imp = from_nir(graph, dt_s=1e-4, reset="value", t_ref_s=0.0, delay_s=1e-3)
    >>> [(pop.name, pop.size) for pop in imp.network.populations], imp.outputs
    ([('input', 2), ('lif', 2)], {'output': ('lif',)})
    >>> lif = imp.network.population("lif")
    >>> float(lif.params.c_m_farad), float(lif.params.g_leak_siemens)     # tau / r, 1 / r
    (0.0001, 0.1)
    >>> lif.bias_current_amp.tolist()                                      # the Affine bias (A)
    [0.0, 0.01]
    >>> imp.network.csr().weights.tolist()                                 # r W dt / tau (V)
    [2.0, 0.5, 1.0]
    """
    if isinstance(graph, (str, Path)):
        return read_nir(
            graph, dt_s=dt_s, reset=reset, t_ref_s=t_ref_s, delay_s=delay_s, if_tau_s=if_tau_s, inputs=inputs, seed=seed,
            profile=profile,
        )  # fmt: skip
    prof = None if profile is None else _profile(profile)
    nir = nir_module()
    if not isinstance(graph, nir.NIRGraph):
        raise InvalidParameterError(f"graph = {type(graph).__name__}: must be a nir.NIRGraph or a path")
    gmeta = dict(graph.metadata or {}) if isinstance(graph.metadata, dict) else {}
    ours = dict(gmeta.get(META) or {})
    assumed = []
    if dt_s is None and prof is not None:
        dt_s = prof.dt_s
    if dt_s is None:
        if "dt_s" in ours:
            dt_s = float(ours["dt_s"])
        else:
            dt_s = NIR_DEFAULT_DT_S
            assumed.append(
                f"dt_s = {dt_s!r} s: NIR's own convention, a spike is a unit-area Dirac pulse (a spike through weight W "
                "carries the charge W); a step-based exporter's graph needs its profile or dt_s (snnTorch: 1e-4 s)"
            )
    if not (isinstance(dt_s, (int, float)) and math.isfinite(dt_s) and dt_s > 0):
        raise InvalidParameterError(f"dt_s = {dt_s!r}: must be a finite number > 0")
    if isinstance(reset, Mapping):
        for key, value in reset.items():
            if value not in _RESETS:
                raise InvalidParameterError(f"reset[{key!r}] = {value!r}: must be one of {_RESETS}")
    elif reset is not None and reset not in _RESETS:
        raise InvalidParameterError(f"reset = {reset!r}: must be one of {_RESETS} or a dict of node names to them")
    if t_ref_s is not None and not (isinstance(t_ref_s, (int, float)) and math.isfinite(t_ref_s) and t_ref_s >= 0):
        raise InvalidParameterError(f"t_ref_s = {t_ref_s!r}: must be a finite number >= 0")
    if if_tau_s is not None and not (isinstance(if_tau_s, (int, float)) and math.isfinite(if_tau_s) and if_tau_s > 0):
        raise InvalidParameterError(f"if_tau_s = {if_tau_s!r}: must be a finite number > 0")
    if inputs not in ("populations", "ports"):
        raise InvalidParameterError(f"inputs = {inputs!r}: must be 'populations' or 'ports'")
    if delay_s is not None and not (isinstance(delay_s, (int, float)) and math.isfinite(delay_s) and delay_s > 0):
        raise InvalidParameterError(f"delay_s = {delay_s!r}: must be a finite number > 0")

    nodes, edges = flatten(graph)
    # a subgraph's Input fed from outside and an Output feeding onwards just pass signals on
    passes = {a for a, _ in edges if _role(nodes[a]) == "output"}
    passes |= {b for _, b in edges if _role(nodes[b]) == "input" and "." in b}
    for name, node in nodes.items():
        handler(name, node)  # raises on an unsupported node, naming it and its type
    loihi_steps: dict[str, Any] = {}
    if prof is not None and prof.loihi:  # Lava-DL: one value per layer, checked and given to every neuron
        nodes, loihi_steps = loihi_prepare(nodes, edges, passes)
    imp = Importer(nodes, edges, passes)
    for name, node in nodes.items():
        if _role(node) == "input" and name not in passes and imp.incoming[name]:
            raise InvalidParameterError(f"NIR node {name!r} ({kind(node)}): has incoming edges {imp.incoming[name]}")

    neuron_names = [k for k, v in nodes.items() if _role(v) == "neuron"]
    port_names = {k for k, v in nodes.items() if _role(v) == "input" and k not in passes
                  and (inputs == "ports" or node_meta(v).get("port"))}  # fmt: skip
    readout_exprs = _readouts(nodes, imp, passes, port_names)
    fed = any(_role(v) == "output" and k not in passes and imp.input_of(k).terms for k, v in nodes.items())
    if not neuron_names and not readout_exprs and not fed:
        for k, v in nodes.items():  # a chain node feeding itself is the clearer error (an algebraic loop)
            if _role(v) == "chain" and k in imp.incoming[k]:
                imp.output_of(k)
        *most, last = neuron_kinds()
        first = next(iter(nodes), None)
        where = "" if first is None else f"; node {first!r} ({kind(nodes[first])}) would be dropped"
        raise InvalidParameterError(f"NIR graph: has no neuron node ({', '.join(most)} or {last}) and no Output{where}")
    # resets: the option (one for all, or per node), else the profile's, else neurochip's metadata,
    # else "value"
    fast_models: dict[str, Any] = {}
    step_factor: dict[str, NDArray[np.float64]] = {}  # bias factors of nodes read per step (snnTorch)
    step_gain: dict[str, NDArray[np.float64]] = {}  # the gain (w_in) of CubaLIF nodes read per step
    if reset is None and prof is not None:
        spiking = [k for k in neuron_names if handler(k, nodes[k]).spikes and not handler(k, nodes[k]).memoryless]
        reset = {k: prof.reset if k in spiking else "value" for k in neuron_names}
        if prof.reset == "subtract":
            # LIF / IF nodes of a subtracting tool: a current-based neuron whose synaptic current lasts
            # a thousandth of a step (a delta synapse in the limit) resets by subtraction, and the
            # charge still arriving after a crossing carries the overshoot on, spiking again when it
            # is worth a threshold (several spikes per step, as Sinabs' MultiSpike)
            fast = [k for k in spiking if handler(k, nodes[k]).model is None]
            for k in fast:
                fast_models[k] = Cuba(tau_syn_exc_s=float(dt_s) * FAST_SYNAPSE_STEPS, reset="subtract")
            if fast:
                assumed.append(
                    f"profile {prof.name!r}: {fast} reset by subtraction as {prof.name} does, through a synaptic "
                    f"current of tau_syn = {FAST_SYNAPSE_STEPS} dt_s (spikes come up to a few tau_syn after the step)"
                )
    if isinstance(reset, Mapping):
        unknown = sorted(set(reset) - set(neuron_names))
        if unknown:
            raise InvalidParameterError(f"reset: {unknown} are not neuron nodes of the graph ({neuron_names})")
    resets: dict[str, str] = {}
    models: dict[str, Any] = {}
    reset_missing = []
    for name in neuron_names:
        node = nodes[name]
        if isinstance(reset, str):
            resets[name] = reset
        elif isinstance(reset, Mapping):
            resets[name] = str(reset.get(name, "value"))
        elif isinstance(node_meta(node).get("model"), dict) and node_meta(node)["model"].get("reset") in _RESETS:
            resets[name] = str(node_meta(node)["model"]["reset"])
        elif ours.get("reset") in _RESETS:
            resets[name] = str(ours["reset"])
        else:
            resets[name] = "value"
            if not ours and handler(name, node).spikes:
                reset_missing.append(name)
        if name in fast_models:
            models[name] = fast_models[name]
            continue
        models[name] = node_model(name, node, resets[name])  # raises on 'subtract' for LIF
    if reset_missing:
        steps = {k: _snntorch_layout(nodes[k]) for k in reset_missing}
        hint = [k for k, v in steps.items() if v is not None]
        dts = sorted({steps[k] for k in hint})
        assumed.append(
            "reset = 'value' (v <- v_reset after a spike; NIR does not say)"
            + (f"; {hint} look like snnTorch's Synaptic/RSynaptic export (r = tau_mem / dt, w_in = tau_syn / "
               f"dt with dt = {', '.join(f'{v:g}' for v in dts)} s), which resets by subtraction: pass "
               "profile='snntorch' (or reset='subtract' and that dt_s)" if hint else "")
        )  # fmt: skip
    # parameters
    t_ref_missing = []
    arrays: dict[str, dict[str, NDArray[np.float64]]] = {}
    v_inits: dict[str, Any] = {}
    for name in neuron_names:
        node = nodes[name]
        meta = node_meta(node)
        n = node_size(name, node)
        if t_ref_s is not None:
            t_ref = np.full(n, float(t_ref_s))
        elif "t_ref_s" in meta:
            t_ref = np.asarray(meta["t_ref_s"], dtype=np.float64).reshape(-1)
        else:
            t_ref = np.zeros(n)
            t_ref_missing.append(name)
        notes: list[str] = []
        arrays[name] = neuron_arrays(name, node, t_ref, if_tau_s, notes)
        if handler(name, node).memoryless:  # C = dt_s: a spike through W moves V by W; tau = 1e-3 dt_s
            arrays[name]["c_m_farad"] = np.full(n, float(dt_s))
            arrays[name]["g_leak_siemens"] = np.full(n, 1.0 / THRESHOLD_TAU_STEPS)
        if prof is not None and prof.per_step_leak and name in fast_models and kind(node) == "LIF":
            step_factor[name] = _per_step_lif(name, node, arrays[name], float(dt_s))
        elif prof is not None and prof.per_step_leak and kind(node) == "CubaLIF":
            models[name], step_gain[name], step_factor[name] = _per_step_cuba_lif(
                name, node, arrays[name], models[name], float(dt_s))
        elif prof is not None and prof.euler and not handler(name, node).memoryless:
            _euler_step(name, node, arrays[name], float(dt_s))
        elif name in loihi_steps:
            models[name], step_gain[name], step_factor[name] = loihi_cuba_lif(
                name, node, arrays[name], float(dt_s), *loihi_steps[name], reset=resets[name])
        elif prof is not None and prof.exp_step and kind(node) == "CubaLIF":
            models[name], step_gain[name], step_factor[name] = _exp_step_cuba_lif(
                name, node, arrays[name], models[name], float(dt_s))
        elif prof is not None and prof.exp_step and not handler(name, node).memoryless:
            raise InvalidParameterError(
                f"NIR node {name!r} ({kind(node)}): profile 'rockpool' reads CubaLIF nodes (Rockpool's LIFTorch) per "
                f"step; Rockpool's {kind(node)} export is not read per step (pass dt_s and reset without the profile)"
            )
        for text in notes:
            warnings.warn(text, NIRImportWarning, stacklevel=2)
        if "v_init_volt" in meta:
            v_inits[name] = np.asarray(meta["v_init_volt"], dtype=np.float64).reshape(-1)
    if t_ref_missing:
        assumed.append(f"t_ref_s = 0 for {t_ref_missing} (NIR has no refractory period)")

    # synapses
    default_delay = float(dt_s if delay_s is None else delay_s)
    used_default: list[str] = []
    biases: dict[str, NDArray[np.float64]] = {}
    ports: dict[str, list] = {}
    for k, v in nodes.items():
        if _role(v) == "input" and k not in passes:
            marked = node_meta(v).get("port")
            if inputs == "ports" or marked:
                ports[k] = []
            else:  # a relay population
                n = node_size(k, v)
                arrays[k] = {f: np.full(n, float(getattr(RELAY_PARAMS, f))) for f in _LIF_FIELDS}
                # a relay's time constant is at most one time step: with dt_s = 1 (Sinabs, NIR's own
                # reading) a 1 ms relay next to a perfect integrator made the compiled engine emit
                # spurious relay spikes (windows of 1000 time constants); a relay fires only on input
                tau = RELAY_PARAMS.c_m_farad / RELAY_PARAMS.g_leak_siemens
                if float(dt_s) > tau:
                    arrays[k]["g_leak_siemens"] = np.full(n, RELAY_PARAMS.c_m_farad / float(dt_s))
                biases[k] = np.zeros(n)
    readouts: dict[str, str] = {}
    for k, e in readout_exprs.items():  # recorded output currents: non-spiking integrators
        n = e.dim
        arrays[k] = {f: np.full(n, float(getattr(READOUT_PARAMS, f))) for f in _LIF_FIELDS}
        models[k] = Cuba(tau_syn_exc_s=float(dt_s), spiking=False)
        readouts[k] = imp.incoming[k][0] if _role(nodes[k]) == "output" and len(imp.incoming[k]) == 1 else k
    c_m = {k: arrays[k]["c_m_farad"] for k in [*neuron_names, *readout_exprs]}
    gain = {k: step_gain[k] if k in step_gain else node_gain(k, nodes[k]) for k in neuron_names}
    gain.update({k: np.ones(e.dim) for k, e in readout_exprs.items()})
    projections = imp.synapses(
        c_m, ports, biases, gain=gain, dt_s=float(dt_s), delay_s=default_delay, used_default=used_default,
        exprs={k: e for k, e in readout_exprs.items() if _role(nodes[k]) != "output"},
        source_delay_s=None if delay_s is not None else {  # Lava-DL: a spike reaches the next layer at its step
            k: float(dt_s) * (loihi_hold_steps(float(a[0])) or 1.0) for k, (a, _) in loihi_steps.items()},
    )  # fmt: skip
    dropped = [k for k, v in nodes.items() if k not in imp.memo and k not in arrays and k not in ports
               and k not in passes and _role(v) != "output"]  # fmt: skip
    if dropped:
        k = dropped[0]
        raise InvalidParameterError(
            f"NIR node {k!r} ({kind(nodes[k])}): reaches no neuron node and no Output; neurochip would drop it"
        )
    if used_default and delay_s is None:
        assumed.append(
            f"delay_s = {default_delay!r} s for the edges without a Delay node ({sorted(set(used_default))}); "
            "the emulator needs delays > 0"
        )
    for k, factor in step_factor.items():
        biases[k] = biases[k] * factor
    for port, targets in ports.items():
        for target, *_ in targets:
            if handler(target, nodes[target]).memoryless:
                raise InvalidParameterError(
                    f"NIR node {target!r} ({kind(nodes[target])}): fed straight from the input port {port!r}, whose "
                    "spikes of one instant reach it one at a time (it must see their sum); import with "
                    "inputs='populations' (the default)"
                )
    for k in neuron_names:
        if handler(k, nodes[k]).memoryless:  # Threshold: V = b + the input of the instant, forgotten in the step
            thr = np.asarray(nodes[k].threshold, dtype=np.float64).reshape(-1)
            over = np.flatnonzero(biases[k] > thr)
            if over.size:
                j = int(over[0])
                raise InvalidParameterError(
                    f"NIR node {k!r} ({kind(nodes[k])}): its input's bias {float(biases[k][j])!r} at [{j}] exceeds the "
                    f"threshold {float(thr[j])!r}: it would fire at every time step without input, a clock that an "
                    "event-driven chip does not have"
                )
            biases[k] = biases[k] * arrays[k]["g_leak_siemens"]
    pops = tuple(_population(k, arrays[k], biases[k], v_inits.get(k), models.get(k)) for k in nodes if k in arrays)
    network = Network(populations=pops, projections=tuple(projections), seed=seed)
    ins = {k: InputPort(name=k, size=node_size(k, nodes[k]), targets=tuple(v)) for k, v in ports.items()}
    ins.update({k: InputPort(name=k, size=node_size(k, v), population=k) for k, v in nodes.items()
                if _role(v) == "input" and k in arrays})  # fmt: skip
    outputs = {}
    for k, v in nodes.items():
        if _role(v) == "output" and k not in passes:
            if k in readouts:
                outputs[k] = (k,)
            else:
                outputs[k] = tuple(sorted({t.source for t in imp.input_of(k).terms if t.source in arrays}))
    if assumed:
        warnings.warn(
            "NIR import assumed: " + "; ".join(assumed) + " (pass these as options to from_nir to choose)",
            NIRImportWarning,
            stacklevel=2,
        )
    became: dict[str, str] = {}
    for k, v in nodes.items():
        r = _role(v)
        if k in passes:
            became[k] = "pass"
        elif k in readouts:
            became[k] = "readout population"
        elif r == "neuron":
            became[k] = "population"
        elif r == "input":
            became[k] = "input port" if k in ports else "relay population"
        elif r == "output":
            became[k] = "output"
        else:  # a chain node: what reaches a population or an Output went through it (else: refused above)
            became[k] = "synapses"
    used_resets = set(resets.values())
    return NIRImport(
        network=network,
        inputs=ins,
        outputs=outputs,
        dt_s=float(dt_s),
        reset=reset if reset is not None else (used_resets.pop() if len(used_resets) == 1 else dict(resets)),
        resets=resets,
        t_ref_s=float(t_ref_s) if t_ref_s is not None else (0.0 if t_ref_missing else None),
        delay_s=default_delay,
        assumed=tuple(assumed),
        readouts=readouts,
        layers=dict(imp.layers),
        layer_links={k: tuple(v) for k, v in imp.links.items()},
        profile=None if prof is None else prof.name,
        nodes=became,
        source=copy.deepcopy(graph),
        source_digest=network_digest(network),
    )

