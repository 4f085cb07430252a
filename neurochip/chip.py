"""Virtual chip specifications: a mesh of cores, their capacities, routers and energy table.

A :class:`ChipSpec` is plain, validated data.  It is read from TOML (presets ship with the
package in ``neurochip/chips/``; every published number there carries its source beside it) and
consumed by the mapping, the emulator's router and the energy reports.

TOML layout (every float in SI units, SI strings accepted)::

    name = "generic"
    description = "..."

    [mesh]
    width = 4
    height = 4

    [core]
    neurons = 256               # neurons per core
    fan_in = 65536              # synapses (fan-in slots) per core
    fan_out = 4096              # routing-table / fan-out entries per core
    # optional: axons_in (input axons per core), fan_in_per_neuron, fan_out_per_neuron

    [router]
    hop_latency_s = "10 ns"
    link_bandwidth_hz = 1e8     # packets per second per link
    buffer_depth = 16           # packets per link FIFO
    backpressure = true         # a full buffer makes the sender wait (false: the packet is dropped)

    [energy]
    spike_joule = ...           # a neuron emits a spike (packet generated)
    synaptic_event_joule = ...  # one synapse receives an event
    neuron_update_joule = ...   # one update of an active neuron
    neuron_update_inactive_joule = ...
    hop_ew_joule = ...          # a packet crosses one east-west link
    hop_ns_joule = ...          # a packet crosses one north-south link
    core_packet_joule = ...     # a packet delivered within its own core / tile
    static_power_per_core_watt = ...

    [sources]                   # free text: where each number comes from
    "energy.synaptic_event_joule" = "Davies et al. 2018, IEEE Micro 38(1), Table 2"

    [execution]                 # optional; absent: asynchronous (see ExecutionSpec)
    model = "time_stepped"      # or "asynchronous"
    step_s = "1 ms"             # optional fixed step (TrueNorth's tick); absent: as fast as the barrier allows
    synaptic_op_s = "3.5 ns"    # ... one latency per operation, see ExecutionSpec
    [execution.sources]         # where each latency comes from ("assumed" where it is a guess)
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._spec import load_toml, spec_from_dict, spec_to_dict
from .errors import ConfigError, InvalidParameterError

__all__ = [
    "MeshSpec",
    "CoreSpec",
    "RouterSpec",
    "EnergySpec",
    "ExecutionSpec",
    "EXECUTION_MODELS",
    "ChipSpec",
    "list_presets",
    "load_chip",
]


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterError.of(name, value, "must be an integer")
    if value < minimum:
        raise InvalidParameterError.of(name, value, f"must be >= {minimum}")


def _check_float(obj: Any, name: str, *, positive: bool = False) -> None:
    value = getattr(obj, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidParameterError.of(name, value, "must be a number")
    value = float(value)
    if not math.isfinite(value):
        raise InvalidParameterError.of(name, value, "must be finite")
    if positive and not value > 0:
        raise InvalidParameterError.of(name, value, "must be > 0")
    if not positive and value < 0:
        raise InvalidParameterError.of(name, value, "must be >= 0")
    object.__setattr__(obj, name, value)


#: The largest mesh a spec may describe.  Mapping keeps dense core-by-core tables (8 bytes per
#: pair of cores: 0.5 GB at this size), so a typo such as ``width = 100000`` must stop here with a
#: clear error, not in a MemoryError after the network is read.  TrueNorth, the largest preset,
#: has 4,096 cores.
MAX_CORES = 8192


@dataclass(frozen=True, slots=True, kw_only=True)
class MeshSpec:
    """A ``width`` x ``height`` 2-D mesh of cores (core ``(x, y)`` has index ``y * width + x``).

    Parameters
    ----------
    width : int
        Cores along x (east-west), >= 1.
    height : int
        Cores along y (north-south), >= 1; ``width * height`` at most :data:`MAX_CORES`.

    Raises
    ------
    InvalidParameterError
        If either is not an integer or is < 1, or the mesh has more than :data:`MAX_CORES` cores.

    Examples
    --------
    >>> MeshSpec(width=4, height=2).n_cores
    8
    >>> MeshSpec(width=0, height=1)
    Traceback (most recent call last):
    ...
    neurochip.errors.InvalidParameterError: width = 0: must be >= 1
    """

    width: int
    height: int

    def __post_init__(self) -> None:
        _check_int("width", self.width, 1)
        _check_int("height", self.height, 1)
        if self.width * self.height > MAX_CORES:
            raise InvalidParameterError.of("width", self.width, f"with height = {self.height}: {self.width * self.height:,} "
                                           f"cores, more than the {MAX_CORES:,} a mesh may have")

    @property
    def n_cores(self) -> int:
        """Number of cores, width x height."""
        return self.width * self.height


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreSpec:
    """Capacities of one core.

    Parameters
    ----------
    neurons : int
        Neurons per core, >= 1.
    fan_in : int
        Synapses (fan-in slots) per core: the synapses whose target neuron is on the core, >= 1.
    fan_out : int
        Routing-table (fan-out) entries per core: for each neuron on the core, one entry per
        destination core it sends to, >= 1.
    axons_in : int, optional
        Input axons per core: distinct source neurons whose spikes enter the core (Loihi's
        N_axin, TrueNorth's 256 axons).  None: unlimited.
    fan_in_per_neuron : int, optional
        Synapses one neuron can receive (a DYNAP-SE2 neuron has 64).  None: unlimited.
    fan_out_per_neuron : int, optional
        Routing entries one neuron can have (TrueNorth: 1 destination core, DYNAP-SE2: 4
        destination chips).  None: unlimited.
    route_entries : {"core", "chip"}
        What one routing entry addresses, and so what ``fan_out`` and ``fan_out_per_neuron``
        count: ``"core"`` (default; Loihi's output axons, TrueNorth) one destination core;
        ``"chip"`` one destination chip with a mask of its cores (DYNAP-SE2's SRAM entries), so a
        neuron's targets on any cores of one chip take one entry.

    Raises
    ------
    InvalidParameterError
        If a capacity is not an integer or is < 1, or ``route_entries`` is neither.

    Examples
    --------
    >>> core = CoreSpec(neurons=256, fan_in=65536, fan_out=4096, fan_out_per_neuron=4)
    >>> core.fan_in // core.neurons, core.axons_in
    (256, None)
    """

    neurons: int
    fan_in: int
    fan_out: int
    axons_in: int | None = None
    fan_in_per_neuron: int | None = None
    fan_out_per_neuron: int | None = None
    route_entries: str = "core"

    def __post_init__(self) -> None:
        if self.route_entries not in ("core", "chip"):
            raise InvalidParameterError.of("route_entries", self.route_entries, "must be 'core' or 'chip'")
        _check_int("neurons", self.neurons, 1)
        _check_int("fan_in", self.fan_in, 1)
        _check_int("fan_out", self.fan_out, 1)
        for name in ("axons_in", "fan_in_per_neuron", "fan_out_per_neuron"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class RouterSpec:
    """The network on chip: per-hop latency, link bandwidth and FIFO depth.

    Parameters
    ----------
    hop_latency_s : float
        Latency of one router hop in s, >= 0.
    link_bandwidth_hz : float
        Packets per second one link carries, > 0 (a packet occupies the link 1/bandwidth s).
    buffer_depth : int
        Packets a link's input FIFO holds, >= 1.
    backpressure : bool
        True: a packet meeting a full buffer waits (the sender stalls).  False: it is dropped
        (and counted).

    Raises
    ------
    InvalidParameterError
        If ``hop_latency_s`` is negative or not finite, ``link_bandwidth_hz`` is not > 0,
        ``buffer_depth`` < 1 or ``backpressure`` is not a bool.

    Examples
    --------
    >>> router = RouterSpec(hop_latency_s=10e-9, link_bandwidth_hz=1e8, buffer_depth=16)
    >>> 1 / router.link_bandwidth_hz  # s a packet occupies one link
    1e-08
    """

    hop_latency_s: float
    link_bandwidth_hz: float
    buffer_depth: int
    backpressure: bool = True

    def __post_init__(self) -> None:
        _check_float(self, "hop_latency_s")
        _check_float(self, "link_bandwidth_hz", positive=True)
        _check_int("buffer_depth", self.buffer_depth, 1)
        if not isinstance(self.backpressure, bool):
            raise InvalidParameterError.of("backpressure", self.backpressure, "must be true or false")


@dataclass(frozen=True, slots=True, kw_only=True)
class EnergySpec:
    """Energy per operation (J) and static power per core (W); every value >= 0.

    Parameters
    ----------
    spike_joule : float
        J, >= 0.  A neuron fires and its spike packet is generated.
    synaptic_event_joule : float
        J, >= 0.  One synapse receives one event (a synaptic operation).
    neuron_update_joule : float
        J, >= 0.  One update of a neuron that is integrating input (active).
    neuron_update_inactive_joule : float
        J, >= 0.  One update of an idle neuron (time-multiplexed chips update every neuron every
        tick).
    hop_ew_joule, hop_ns_joule : float
        J, >= 0.  A packet crossing one east-west / north-south link.
    core_packet_joule : float
        J, >= 0.  A packet delivered within its source core (or tile), without a mesh hop.
    static_power_per_core_watt : float
        W, >= 0.  Leakage and clocking of one core, paid whether it is active or not.

    Raises
    ------
    InvalidParameterError
        If a value is not a finite number >= 0.

    Notes
    -----
    :func:`neurochip.energy.price` turns event counts into energy with this table; it is linear
    in the counts, plus static power times cores times duration.

    Examples
    --------
    >>> e = load_chip("generic").energy
    >>> round(e.synaptic_event_joule / 1e-12, 6), round(e.static_power_per_core_watt / 1e-6, 6)
    (10.0, 50.0)
    """

    spike_joule: float
    synaptic_event_joule: float
    neuron_update_joule: float
    neuron_update_inactive_joule: float
    hop_ew_joule: float
    hop_ns_joule: float
    core_packet_joule: float
    static_power_per_core_watt: float

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _check_float(self, f.name)


#: Execution models a chip spec may name (see :class:`ExecutionSpec`).
EXECUTION_MODELS: tuple[str, ...] = ("asynchronous", "time_stepped")

#: Compartment activity rules of time-stepped chips: ``"nonzero"`` (Loihi: a compartment with
#: non-zero input, current or voltage is active) or ``"all"`` (every neuron is active every step).
ACTIVITY_RULES: tuple[str, ...] = ("nonzero", "all")

#: The per-operation latency fields of :class:`ExecutionSpec`, in pipeline order.
LATENCY_FIELDS: tuple[str, ...] = (
    "message_in_s",
    "synaptic_op_s",
    "neuron_update_s",
    "neuron_update_inactive_s",
    "spike_out_s",
    "message_out_s",
    "barrier_s",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionSpec:
    """How the chip advances time, and the latency of each operation that decides a step.

    Parameters
    ----------
    model : str
        ``"asynchronous"`` (default: event-driven; analog and asynchronous chips, a neuron is
        touched only by an input) or ``"time_stepped"`` (digital chips such as Loihi and
        TrueNorth: every neuron is updated every step, spikes take effect at the next step,
        a step ends at a barrier when the slowest core is done).
    step_s : float, optional
        Fixed duration of a step in s, > 0 (TrueNorth's 1 ms tick): a step never ends before it.
        None: a step lasts as long as its work (Loihi's algorithmic step).
    target_step_s : float, optional
        A real-time step the chip is usually asked to keep, s, > 0 (reports say whether it is met).
    activity_rule : str
        Which neurons count as active in a step: ``"nonzero"`` (non-zero input or state, Loihi)
        or ``"all"``.
    message_in_s, synaptic_op_s, neuron_update_s, neuron_update_inactive_s, spike_out_s, message_out_s : float
        Latency in s, >= 0, of one packet received by a core, one synaptic operation, one update
        of an active / inactive neuron, one spike generated, one packet sent.
    barrier_s : float
        Latency of the barrier that ends a step, s, >= 0.
    sources : dict of str to str
        Where each number comes from, keyed by field name; a latency without an entry is
        reported as assumed.

    Raises
    ------
    InvalidParameterError
        If ``model`` or ``activity_rule`` is unknown, a latency is negative or not finite, a
        step is not > 0, or ``sources`` is not a table of strings.

    Examples
    --------
    >>> ExecutionSpec().model
    'asynchronous'
    >>> spec = ExecutionSpec(model="time_stepped", step_s=1e-3, neuron_update_s=4e-9)
    >>> spec.time_stepped, spec.source_of("neuron_update_s")
    (True, 'assumed')
    >>> ExecutionSpec(model="clocked")
    Traceback (most recent call last):
    ...
    neurochip.errors.InvalidParameterError: model = 'clocked': must be one of ('asynchronous', 'time_stepped')
    """

    model: str = "asynchronous"
    step_s: float | None = None
    target_step_s: float | None = None
    activity_rule: str = "nonzero"
    message_in_s: float = 0.0
    synaptic_op_s: float = 0.0
    neuron_update_s: float = 0.0
    neuron_update_inactive_s: float = 0.0
    spike_out_s: float = 0.0
    message_out_s: float = 0.0
    barrier_s: float = 0.0
    sources: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.model not in EXECUTION_MODELS:
            raise InvalidParameterError.of("model", self.model, f"must be one of {EXECUTION_MODELS}")
        if self.activity_rule not in ACTIVITY_RULES:
            raise InvalidParameterError.of("activity_rule", self.activity_rule, f"must be one of {ACTIVITY_RULES}")
        for name in ("step_s", "target_step_s"):
            if getattr(self, name) is not None:
                _check_float(self, name, positive=True)
        for name in LATENCY_FIELDS:
            _check_float(self, name)
        if not isinstance(self.sources, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.sources.items()
        ):
            raise InvalidParameterError.of("sources", self.sources, "must be a table of strings")

    @property
    def time_stepped(self) -> bool:
        """True for ``model == "time_stepped"``."""
        return self.model == "time_stepped"

    def source_of(self, name: str) -> str:
        """Where field ``name`` comes from (``"assumed"`` when the spec gives no source).

        Parameters
        ----------
        name : str
            A field name (``"synaptic_op_s"``).

        Returns
        -------
        str
        """
        return self.sources.get(name, "assumed")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChipSpec:
    """A virtual neuromorphic chip: mesh, core capacities, routers, energy table.

    Parameters
    ----------
    name : str
        Short name (``"loihi"``).
    mesh : MeshSpec
    core : CoreSpec
    router : RouterSpec
    energy : EnergySpec
    description : str
        One line of what the spec models.
    sources : dict of str to str
        Where each number comes from, keyed by dotted field path (``"energy.hop_ew_joule"``).
    execution : ExecutionSpec
        The execution model and operation latencies (default: asynchronous, no latencies).

    Raises
    ------
    InvalidParameterError
        If ``name`` is empty, a nested spec has the wrong type or ``sources`` is not a table of
        strings.

    Examples
    --------
    >>> chip = load_chip("generic")
    >>> chip.n_cores, chip.neuron_capacity
    (16, 4096)
    >>> chip.with_mesh(8, 8).n_cores
    64
    """

    name: str
    mesh: MeshSpec
    core: CoreSpec
    router: RouterSpec
    energy: EnergySpec
    description: str = ""
    sources: dict[str, str] = field(default_factory=dict)
    execution: ExecutionSpec = field(default_factory=ExecutionSpec)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidParameterError.of("name", self.name, "must be a non-empty string")
        for name, cls in (("mesh", MeshSpec), ("core", CoreSpec), ("router", RouterSpec), ("energy", EnergySpec)):
            if not isinstance(getattr(self, name), cls):
                raise InvalidParameterError.of(name, getattr(self, name), f"must be a {cls.__name__}")
        if not isinstance(self.execution, ExecutionSpec):
            raise InvalidParameterError.of("execution", self.execution, "must be an ExecutionSpec")
        if not isinstance(self.sources, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.sources.items()
        ):
            raise InvalidParameterError.of("sources", self.sources, "must be a table of strings")

    @property
    def n_cores(self) -> int:
        """Number of cores on the mesh."""
        return self.mesh.n_cores

    @property
    def neuron_capacity(self) -> int:
        """Neurons the whole chip holds."""
        return self.n_cores * self.core.neurons

    def source_of(self, path: str) -> tuple[str, str] | None:
        """The ``sources`` entry that covers one field: its own key, else its table's, else ``"all"``.

        Parameters
        ----------
        path : str
            Dotted field path (``"energy.neuron_update_joule"``).

        Returns
        -------
        (key, text) or None
            The key of ``sources`` that matched and its text; None when no entry covers the field.

        Examples
        --------
        >>> load_chip("loihi").source_of("energy.neuron_update_joule")
        ('energy.neuron_update_joule', 'Davies et al. 2018 Table 2 (active)')
        >>> load_chip("generic").source_of("energy.hop_ew_joule")[0]
        'all'
        """
        table = path.partition(".")[0]
        for key in (path, table, "all"):
            if key in self.sources:
                return key, self.sources[key]
        return None

    def replace(self, **changes: Any) -> ChipSpec:
        """A copy with top-level fields changed (nested specs: pass a new spec).

        Parameters
        ----------
        **changes
            New values of top-level fields (``name``, ``mesh``, ``core``, ``router``,
            ``energy``, ``description``, ``sources``).

        Returns
        -------
        ChipSpec
            The validated copy.

        Examples
        --------
        >>> load_chip("generic").replace(name="mine").name
        'mine'
        """
        return dataclasses.replace(self, **changes)

    def with_mesh(self, width: int, height: int) -> ChipSpec:
        """The same chip on a ``width`` x ``height`` mesh.

        Parameters
        ----------
        width, height : int
            Cores along x and y, each >= 1.

        Returns
        -------
        ChipSpec
            A copy whose only change is the mesh.
        """
        return dataclasses.replace(self, mesh=MeshSpec(width=width, height=height))

    def to_dict(self) -> dict[str, Any]:
        """Nested plain dict (the TOML layout).

        Returns
        -------
        dict of str to object
            Tables ``mesh``, ``core``, ``router``, ``energy``, ``sources`` as nested dicts,
            floats in SI units; optional capacities that are None are left out.
        """
        return spec_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str | None = None) -> ChipSpec:
        """Build from the TOML layout; errors name the file and the key path.

        Parameters
        ----------
        data : dict of str to object
            The TOML layout of the module docstring; floats as numbers or SI strings.
        source : str, optional
            File name used in error messages.

        Returns
        -------
        ChipSpec

        Raises
        ------
        ConfigError
            If a required table or key is missing, a key is unknown or a value is invalid.

        Examples
        --------
        >>> data = load_chip("generic").to_dict()
        >>> data["mesh"] = {"width": 2, "height": 0}
        >>> ChipSpec.from_dict(data, source="chip.toml")
        Traceback (most recent call last):
        ...
        neurochip.errors.ConfigError: chip.toml: mesh.height = 0: must be >= 1
        """
        missing = [k for k in ("name", "mesh", "core", "router", "energy") if k not in data]
        if missing:
            raise ConfigError(f"missing table or key {missing[0]!r}", path=source)
        return spec_from_dict(cls, dict(data), source=source)

    @classmethod
    def from_toml(cls, path: str | Path) -> ChipSpec:
        """Read a chip spec from a TOML file.

        Parameters
        ----------
        path : str or pathlib.Path
            A file in the TOML layout of the module docstring.

        Returns
        -------
        ChipSpec

        Raises
        ------
        ConfigError
            If the file is missing, is not valid TOML or holds an invalid value.
        """
        return cls.from_dict(load_toml(path), source=str(path))


def _preset_dir() -> Any:
    return importlib.resources.files("neurochip") / "chips"


def list_presets() -> list[str]:
    """Names of the chip presets shipped with neurochip.

    Returns
    -------
    list of str
        Sorted preset names, each loadable with :func:`load_chip`.

    Examples
    --------
    >>> "generic" in list_presets() and "loihi" in list_presets()
    True
    """
    return sorted(p.name[:-5] for p in _preset_dir().iterdir() if p.name.endswith(".toml"))


def load_chip(name_or_path: str | Path) -> ChipSpec:
    """A preset by name (``"loihi"``) or a chip spec from a TOML file.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A name from :func:`list_presets`, or a path to a TOML file (a name ending in
        ``.toml`` is always read as a path).

    Returns
    -------
    ChipSpec

    Raises
    ------
    ConfigError
        If the name is neither a preset nor an existing file, or the file is invalid.

    Examples
    --------
    >>> chip = load_chip("generic")
    >>> chip.name, chip.mesh.width, chip.mesh.height, chip.core.neurons
    ('generic', 4, 4, 256)
    >>> load_chip("nosuch")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurochip.errors.ConfigError: no chip preset or file named 'nosuch'; presets: ...
    """
    text = str(name_or_path)
    if text in list_presets():
        res = _preset_dir() / f"{text}.toml"
        with importlib.resources.as_file(res) as path:
            return ChipSpec.from_toml(path)
    path = Path(text)
    if path.suffix == ".toml" or path.exists():
        return ChipSpec.from_toml(path)
    raise ConfigError(f"no chip preset or file named {text!r}; presets: {', '.join(list_presets())}")
