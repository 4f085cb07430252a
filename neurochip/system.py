"""System specifications: a board of identical chips joined by inter-chip links.

A :class:`SystemSpec` names one chip (a preset or a chip file), how many of them sit on the
board, the board topology (a 2-D mesh of chips or an explicit adjacency list) and the inter-chip
links (:class:`LinkSpec`).  Presets ship in ``neurochip/systems/``; every published number
carries its source, every other number says "assumed" and why.

TOML layout (every float in SI units, SI strings accepted)::

    name = "nahuku"
    description = "..."
    chip = "loihi"              # a chip preset, or a chip TOML file (relative to this file)
    n_chips = 32

    [topology]
    kind = "mesh"               # "mesh": width x height chips, XY routes between chips
    width = 8
    height = 4
    # kind = "graph": edges = [[0, 1], [1, 2], ...] (undirected), shortest-path routes

    [link]
    latency_s = "100 ns"        # one chip-to-chip hop
    bit_rate_hz = 1.6e9         # bits per second on one direction of one link
    packet_bits = 32            # bits of one spike packet on the link
    buffer_depth = 16           # packets the receiving FIFO holds
    backpressure = true         # full buffer: the sender waits (false: the packet is dropped)
    shared = true               # one serial link per chip edge and direction (false: one per edge router)
    energy_per_bit_joule = "10 pJ"   # or energy_per_packet_joule (exactly one of the two)
    static_power_per_port_watt = "10 mW"  # one chip's interface to one neighbour

    [sources]
    "link.latency_s" = "assumed: ..."

Chip ``i`` of a mesh sits at ``(i % width, i // width)``, as cores do on a chip's mesh
(:mod:`neurochip.mesh`).
"""

from __future__ import annotations

import dataclasses
import importlib.resources
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._spec import load_toml, spec_from_dict, spec_to_dict
from .chip import ChipSpec, _check_float, _check_int, load_chip
from .errors import ConfigError, InvalidParameterError

__all__ = ["TopologySpec", "LinkSpec", "SystemSpec", "list_systems", "load_system", "TOPOLOGIES"]

#: Board topologies a system spec may name.
TOPOLOGIES: tuple[str, ...] = ("mesh", "graph")


@dataclass(frozen=True, slots=True, kw_only=True)
class TopologySpec:
    """How the chips of a board are wired.

    Parameters
    ----------
    kind : {"mesh", "graph"}
        ``"mesh"``: a ``width`` x ``height`` 2-D mesh of chips, dimension-order (XY) routes.
        ``"graph"``: the undirected ``edges`` given, shortest-path routes (ties: the lower chip
        index first).
    width, height : int, optional
        Chips along x and y of a mesh, each >= 1 (required for ``"mesh"``).
    edges : sequence of (int, int), optional
        Undirected chip-to-chip links of a graph (required for ``"graph"``), no self-loops.

    Raises
    ------
    InvalidParameterError
        On an unknown kind, a missing or bad size, or a bad edge.

    Examples
    --------
    >>> TopologySpec(kind="mesh", width=2, height=1).kind
    'mesh'
    >>> TopologySpec(kind="graph", edges=[[0, 0]])
    Traceback (most recent call last):
    ...
    neurochip.errors.InvalidParameterError: edges = [[0, 0]]: an edge joins two different chips
    """

    kind: str = "mesh"
    width: int | None = None
    height: int | None = None
    edges: tuple[tuple[int, int], ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in TOPOLOGIES:
            raise InvalidParameterError.of("kind", self.kind, f"must be one of {TOPOLOGIES}")
        if self.kind == "mesh":
            for name in ("width", "height"):
                if getattr(self, name) is None:
                    raise InvalidParameterError.of(name, None, "a mesh topology needs width and height")
                _check_int(name, getattr(self, name), 1)
            if self.edges is not None:
                raise InvalidParameterError.of("edges", self.edges, "a mesh topology takes no edges")
            return
        if self.edges is None or len(self.edges) == 0:
            raise InvalidParameterError.of("edges", self.edges, "a graph topology needs a list of [a, b] edges")
        raw = self.edges
        edges = []
        for e in raw:
            if not isinstance(e, (list, tuple)) or len(e) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in e):
                raise InvalidParameterError.of("edges", raw, "each edge is a pair of chip indices [a, b]")
            a, b = int(e[0]), int(e[1])
            if a < 0 or b < 0:
                raise InvalidParameterError.of("edges", raw, "chip indices are >= 0")
            if a == b:
                raise InvalidParameterError.of("edges", raw, "an edge joins two different chips")
            edges.append((min(a, b), max(a, b)))
        object.__setattr__(self, "edges", tuple(sorted(set(edges))))


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkSpec:
    """One inter-chip link (each direction alike).

    Parameters
    ----------
    latency_s : float
        Latency of one chip-to-chip hop in s, > 0 (it bounds the lookahead of a distributed
        emulation, docs/scale-out.md).
    bit_rate_hz : float
        Bits per second one direction of the link carries, > 0.
    packet_bits : int
        Bits of one spike packet on the link, >= 1.
    buffer_depth : int
        Packets the receiving FIFO holds, >= 1.
    backpressure : bool
        True: a packet meeting a full buffer waits; False: it is dropped.
    shared : bool
        True (default): one serial link per direction carries every crossing of a chip edge
        (the edge's routers merge into one port); False: every router on the edge has its own
        link (lanes).  Used by the emulated links (:mod:`neurochip.board_links`).
    energy_per_packet_joule, energy_per_bit_joule : float, optional
        J, >= 0: the energy of one packet crossing one link, given directly or per bit
        (times ``packet_bits``).  Exactly one is given.
    static_power_per_port_watt : float
        W, >= 0: static power of one chip's interface towards one neighbour (a link has two
        ports).

    Raises
    ------
    InvalidParameterError
        On a bad value, or when both or neither energy is given.

    Examples
    --------
    >>> link = LinkSpec(latency_s=1e-7, bit_rate_hz=1.6e9, packet_bits=32, buffer_depth=16,
    ...                 energy_per_bit_joule=1e-11, static_power_per_port_watt=0.01)
    >>> link.serialisation_s, round(link.packet_joule / 1e-12, 6)
    (2e-08, 320.0)
    """

    latency_s: float
    bit_rate_hz: float
    packet_bits: int
    buffer_depth: int
    backpressure: bool = True
    energy_per_packet_joule: float | None = None
    energy_per_bit_joule: float | None = None
    static_power_per_port_watt: float = 0.0
    shared: bool = True

    def __post_init__(self) -> None:
        _check_float(self, "latency_s", positive=True)
        _check_float(self, "bit_rate_hz", positive=True)
        _check_int("packet_bits", self.packet_bits, 1)
        _check_int("buffer_depth", self.buffer_depth, 1)
        if not isinstance(self.backpressure, bool):
            raise InvalidParameterError.of("backpressure", self.backpressure, "must be true or false")
        if not isinstance(self.shared, bool):
            raise InvalidParameterError.of("shared", self.shared, "must be true or false")
        given = [n for n in ("energy_per_packet_joule", "energy_per_bit_joule") if getattr(self, n) is not None]
        if len(given) != 1:
            raise InvalidParameterError.of(
                "energy_per_packet_joule", self.energy_per_packet_joule,
                "give exactly one of energy_per_packet_joule and energy_per_bit_joule",
            )  # fmt: skip
        _check_float(self, given[0])
        _check_float(self, "static_power_per_port_watt")

    @property
    def serialisation_s(self) -> float:
        """Time one packet occupies one direction of the link, s (``packet_bits / bit_rate_hz``)."""
        return self.packet_bits / self.bit_rate_hz

    @property
    def packet_rate_hz(self) -> float:
        """Packets per second one direction of the link carries at most."""
        return self.bit_rate_hz / self.packet_bits

    @property
    def packet_joule(self) -> float:
        """Energy of one packet crossing one link, J."""
        if self.energy_per_packet_joule is not None:
            return float(self.energy_per_packet_joule)
        return float(self.energy_per_bit_joule) * self.packet_bits  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemSpec:
    """A board of ``n_chips`` identical chips joined by inter-chip links.

    Parameters
    ----------
    name : str
        Short name (``"nahuku"``).
    chip : ChipSpec
        The chip every position of the board holds.
    n_chips : int
        Chips on the board, >= 1 (a mesh must have exactly ``width * height``).
    topology : TopologySpec
    link : LinkSpec
    description : str
    sources : dict of str to str
        Where each number comes from, keyed by dotted field path (``"link.latency_s"``).

    Raises
    ------
    InvalidParameterError
        On a bad nested spec, a mesh whose size is not ``n_chips``, an edge naming a chip that
        does not exist, or a board whose chips are not all connected.

    Examples
    --------
    >>> board = load_system("nahuku")
    >>> board.n_chips, board.chip.name, board.neuron_capacity
    (32, 'loihi', 4194304)
    >>> board.hops(0, 31)
    10
    """

    name: str
    chip: ChipSpec
    n_chips: int
    topology: TopologySpec
    link: LinkSpec
    description: str = ""
    sources: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidParameterError.of("name", self.name, "must be a non-empty string")
        for name, cls in (("chip", ChipSpec), ("topology", TopologySpec), ("link", LinkSpec)):
            if not isinstance(getattr(self, name), cls):
                raise InvalidParameterError.of(name, getattr(self, name), f"must be a {cls.__name__}")
        _check_int("n_chips", self.n_chips, 1)
        topo = self.topology
        if topo.kind == "mesh" and topo.width * topo.height != self.n_chips:  # type: ignore[operator]
            raise InvalidParameterError.of(
                "n_chips", self.n_chips, f"a {topo.width} x {topo.height} mesh holds {topo.width * topo.height} chips"  # type: ignore[operator]
            )
        if topo.kind == "graph":
            top = max(max(e) for e in topo.edges)  # type: ignore[union-attr]
            if top >= self.n_chips:
                raise InvalidParameterError.of("n_chips", self.n_chips, f"topology.edges names chip {top}")
        if not isinstance(self.sources, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.sources.items()
        ):
            raise InvalidParameterError.of("sources", self.sources, "must be a table of strings")
        hops = _hop_matrix(self)
        if np.any(hops < 0):
            lost = int(np.nonzero(hops[0] < 0)[0][0])
            edges = [list(e) for e in topo.edges]  # type: ignore[union-attr]
            raise InvalidParameterError.of("topology", edges, f"chip {lost} is not connected to chip 0")
        object.__setattr__(self, "_hops", hops)

    # the chip-to-chip hop counts, computed once by __post_init__
    _hops: Any = field(default=None, init=False, repr=False, compare=False)

    @property
    def neuron_capacity(self) -> int:
        """Neurons the whole board holds."""
        return self.n_chips * self.chip.neuron_capacity

    @property
    def n_cores(self) -> int:
        """Cores on the whole board."""
        return self.n_chips * self.chip.n_cores

    def hop_matrix(self) -> NDArray[np.int64]:
        """Chip-to-chip hop counts, shape (n_chips, n_chips) (a copy)."""
        return self._hops.copy()

    def hops(self, a: int, b: int) -> int:
        """Inter-chip links a packet from chip ``a`` to chip ``b`` crosses."""
        return int(self._hops[a, b])

    def links(self) -> list[tuple[int, int]]:
        """Directed inter-chip links ``(from, to)``, sorted; a physical link is two of them."""
        if self.topology.kind == "graph":
            und = list(self.topology.edges)  # type: ignore[arg-type]
        else:
            w, h = self.topology.width, self.topology.height
            und = [(y * w + x, y * w + x + 1) for y in range(h) for x in range(w - 1)]  # type: ignore[operator]
            und += [(y * w + x, (y + 1) * w + x) for y in range(h - 1) for x in range(w)]  # type: ignore[operator]
        return sorted([(a, b) for a, b in und] + [(b, a) for a, b in und])

    def route(self, a: int, b: int) -> list[int]:
        """Chips a packet from ``a`` to ``b`` visits, both ends included.

        Mesh: along x first, then along y (XY, as on chip).  Graph: a shortest path, the
        lower-indexed neighbour first on ties.

        Examples
        --------
        >>> load_system("nahuku").route(0, 9)
        [0, 1, 9]
        """
        if self.topology.kind == "mesh":
            w = self.topology.width
            (x0, y0), (x1, y1) = (a % w, a // w), (b % w, b // w)  # type: ignore[operator]
            path = [a]
            x, y = x0, y0
            while x != x1:
                x += 1 if x1 > x else -1
                path.append(y * w + x)  # type: ignore[operator]
            while y != y1:
                y += 1 if y1 > y else -1
                path.append(y * w + x)  # type: ignore[operator]
            return path
        hops = self._hops
        nbrs = _neighbours(self)
        path = [a]
        cur = a
        while cur != b:
            cur = min(n for n in nbrs[cur] if hops[n, b] == hops[cur, b] - 1)
            path.append(cur)
        return path

    def source_of(self, path: str) -> str:
        """The ``sources`` text of a field (its own key, else its table's), or ``"assumed"``."""
        for key in (path, path.partition(".")[0], "all"):
            if key in self.sources:
                return self.sources[key]
        return "assumed"

    def to_dict(self) -> dict[str, Any]:
        """Nested plain dict (the TOML layout; ``chip`` is the chip's name)."""
        out: dict[str, Any] = {"name": self.name, "description": self.description, "chip": self.chip.name,
                               "n_chips": self.n_chips}  # fmt: skip
        topo = spec_to_dict(self.topology)
        if "edges" in topo:
            topo["edges"] = [list(e) for e in topo["edges"]]
        out["topology"] = topo
        out["link"] = spec_to_dict(self.link)
        out["sources"] = dict(self.sources)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str | None = None) -> SystemSpec:
        """Build from the TOML layout; errors name the file and the key path.

        Parameters
        ----------
        data : dict of str to object
            The layout of the module docstring; ``chip`` a preset name or a chip file (a
            relative path is taken from the folder of ``source``).
        source : str, optional
            File name used in error messages and to resolve a relative chip file.

        Returns
        -------
        SystemSpec

        Raises
        ------
        ConfigError
            On a missing table or key, an unknown key, a bad value or a chip that cannot be
            loaded.

        Examples
        --------
        >>> data = load_system("nahuku").to_dict()
        >>> data["link"]["packet_bits"] = 0
        >>> SystemSpec.from_dict(data, source="board.toml")
        Traceback (most recent call last):
        ...
        neurochip.errors.ConfigError: board.toml: link.packet_bits = 0: must be >= 1
        """
        missing = [k for k in ("name", "chip", "n_chips", "topology", "link") if k not in data]
        if missing:
            raise ConfigError(f"missing table or key {missing[0]!r}", path=source)
        data = dict(data)
        chip_ref = data.pop("chip")
        if not isinstance(chip_ref, str):
            raise ConfigError("must be a chip preset name or a chip file", path=source, key=f"chip = {chip_ref!r}")
        chip = _resolve_chip(chip_ref, source)
        topo = data.get("topology")
        if isinstance(topo, dict) and isinstance(topo.get("edges"), list):
            topo = dict(topo)
            topo["edges"] = tuple(tuple(e) if isinstance(e, list) else e for e in topo["edges"])
            data["topology"] = topo
        data["chip"] = chip
        return _spec_with_chip(data, source)

    @classmethod
    def from_toml(cls, path: str | Path) -> SystemSpec:
        """Read a system spec from a TOML file (see :meth:`from_dict`)."""
        return cls.from_dict(load_toml(path), source=str(path))


def _spec_with_chip(data: dict[str, Any], source: str | None) -> SystemSpec:
    # spec_from_dict converts nested tables by their type; the chip is already a ChipSpec.
    chip = data.pop("chip")
    spec = spec_from_dict(_SystemFields, data, source=source)
    try:
        return SystemSpec(chip=chip, **{f.name: getattr(spec, f.name) for f in dataclasses.fields(_SystemFields)})
    except InvalidParameterError as exc:
        key = {"topology": "topology.edges", "n_chips": "n_chips", "name": "name", "sources": "sources"}.get(
            exc.field or "", f"topology.{exc.field}"
        )
        msg = f"{key} = {exc.value!r}: {exc.rule}" if exc.field else str(exc)
        if source is None:
            raise
        raise ConfigError(msg, path=source) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class _SystemFields:
    """The fields of a system file other than ``chip`` (read by the generic reader)."""

    name: str
    n_chips: int
    topology: TopologySpec
    link: LinkSpec
    description: str = ""
    sources: dict[str, str] = field(default_factory=dict)


def _resolve_chip(ref: str, source: str | None) -> ChipSpec:
    from .chip import list_presets

    if ref not in list_presets() and source is not None and not Path(ref).is_absolute():
        candidate = Path(source).parent / ref
        if candidate.exists():
            ref = str(candidate)
    try:
        return load_chip(ref)
    except ConfigError as exc:
        raise ConfigError(f"chip = {ref!r}: {exc}", path=source) from None


def _neighbours(spec: SystemSpec) -> list[list[int]]:
    nbrs: list[list[int]] = [[] for _ in range(spec.n_chips)]
    for a, b in spec.links():
        nbrs[a].append(b)
    return [sorted(n) for n in nbrs]


def _hop_matrix(spec: SystemSpec) -> NDArray[np.int64]:
    n = spec.n_chips
    if spec.topology.kind == "mesh":
        w = spec.topology.width
        idx = np.arange(n)
        x, y = idx % w, idx // w  # type: ignore[operator]
        return (np.abs(x[:, None] - x[None, :]) + np.abs(y[:, None] - y[None, :])).astype(np.int64)
    nbrs = _neighbours(spec)
    out = np.full((n, n), -1, dtype=np.int64)
    for s in range(n):
        out[s, s] = 0
        queue = deque([s])
        while queue:
            u = queue.popleft()
            for v in nbrs[u]:
                if out[s, v] < 0:
                    out[s, v] = out[s, u] + 1
                    queue.append(v)
    return out


def _system_dir() -> Any:
    return importlib.resources.files("neurochip") / "systems"


def list_systems() -> list[str]:
    """Names of the system presets shipped with neurochip.

    Returns
    -------
    list of str
        Sorted preset names, each loadable with :func:`load_system`.

    Examples
    --------
    >>> "nahuku" in list_systems()
    True
    """
    return sorted(p.name[:-5] for p in _system_dir().iterdir() if p.name.endswith(".toml"))


def load_system(name_or_path: str | Path) -> SystemSpec:
    """A system preset by name (``"nahuku"``) or a system spec from a TOML file.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A name from :func:`list_systems`, or a path to a TOML file.

    Returns
    -------
    SystemSpec

    Raises
    ------
    ConfigError
        If the name is neither a preset nor a file, or the file is invalid (naming the field).

    Examples
    --------
    >>> load_system("nosuch")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurochip.errors.ConfigError: no system preset or file named 'nosuch'; presets: ...
    """
    text = str(name_or_path)
    if text in list_systems():
        res = _system_dir() / f"{text}.toml"
        with importlib.resources.as_file(res) as path:
            return SystemSpec.from_toml(path)
    path = Path(text)
    if path.suffix == ".toml" or path.exists():
        return SystemSpec.from_toml(path)
    raise ConfigError(f"no system preset or file named {text!r}; presets: {', '.join(list_systems())}")
