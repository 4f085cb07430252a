"""The system axes of a sweep point: which board of chips a point runs on, and how it is mapped.

A point that names a ``system`` runs on a board (:func:`neurochip.board.run_on_board`) instead of
one chip; the names below change the board, the point's chip names (``chip``, ``core.*``, ...)
change its chips.

=================================  ============================================================
name                               meaning
=================================  ============================================================
``system``                         system preset or TOML file (``nahuku``, ``spinn5``)
``system.n_chips``                 chips on the board: a mesh becomes the most square
                                   ``w x h = n`` (``w >= h``), a graph keeps the links among its
                                   first ``n`` chips (they must stay connected)
``system.topology.width``,         a ``width x height`` mesh of chips instead of the preset's
``system.topology.height``         topology (a missing one: the preset mesh's, else 1)
``system.link.<field>``            a :class:`~neurochip.system.LinkSpec` field
                                   (``system.link.bit_rate_hz``, ``system.link.energy_per_bit_joule``)
``board.partitioner``              ``"greedy"`` or ``"block"``: the board mapper's partitioner
``board.fill``                     fraction of each chip the board partitioner may fill, (0, 1]
``board.block_neurons``            neurons per partition block (default: one core's worth)
``board.max_moves``                improving moves the greedy refinement may take
=================================  ============================================================

``mapping.partitioner`` (``"metis"`` or ``"block"``) is then the partitioner of each chip's cores.
``run.route`` (default true) picks the link model: true, the inter-chip links are emulated on a
mesh board (counted on a ``graph`` board, which the router cannot lay out); false, counted from
an unrouted run (:func:`neurochip.board.run_on_board`, ``links=``).
A board point adds the :data:`BOARD_COLUMNS` to its row, and its link columns describe the
inter-chip links (see :func:`board_row`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._spec import unit_of
from ..errors import ConfigError, InvalidParameterError
from ..units import parse_quantity

__all__ = ["BOARD_COLUMNS", "SYSTEM_KEYS", "BOARD_KEYS", "is_board_name", "system_spec", "board_options", "board_row"]

#: The names of the ``system`` group other than ``system`` itself and ``system.link.<field>``.
SYSTEM_KEYS: tuple[str, ...] = ("n_chips", "topology.width", "topology.height")
#: :class:`~neurochip.board_mapping.BoardMappingOptions` fields a point may set as ``board.<field>``.
BOARD_KEYS: tuple[str, ...] = ("partitioner", "fill", "block_neurons", "max_moves")

#: Columns a board point adds after the chip columns (SI units).
BOARD_COLUMNS: tuple[str, ...] = (
    "n_chips", "chips_used", "inter_chip_packets", "link_crossings", "link_peak_utilisation_max",
    "energy_off_chip_joule", "energy_interface_static_joule",
    "multichip_overhead_joule", "multichip_overhead_fraction",
)  # fmt: skip


def is_board_name(name: str) -> bool:
    """Whether a parameter name belongs to the system axes (``system``, ``system.*``, ``board.*``).

    Parameters
    ----------
    name : str
        A point's parameter name.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_board_name("system.n_chips"), is_board_name("board.partitioner"), is_board_name("core.neurons")
    (True, True, False)
    """
    return name == "system" or name.startswith(("system.", "board."))


def _number(key: str, value: Any, unit: str | None = None) -> float:
    if isinstance(value, bool):
        raise InvalidParameterError(f"{key} = {value!r}: must be a number")
    try:
        return parse_quantity(value, unit=unit, name=key)
    except (InvalidParameterError, TypeError) as exc:
        raise InvalidParameterError(f"{key} = {value!r}: {exc}") from None


def _integer(key: str, value: Any, low: int) -> int:
    num = _number(key, value)
    if num != int(num) or num < low:
        raise InvalidParameterError(f"{key} = {value!r}: must be an integer >= {low}")
    return int(num)


def _square(n: int) -> tuple[int, int]:
    """The most square ``w x h = n`` with ``w >= h``."""
    h = max(d for d in range(1, math.isqrt(n) + 1) if n % d == 0)
    return n // h, h


def _topology(base: Any, values: Mapping[str, Any]) -> tuple[Any, int]:
    """The point's topology and chip count from the preset's and the point's values."""
    from ..system import TopologySpec

    topo = base.topology
    n = _integer("system.n_chips", values["n_chips"], 1) if "n_chips" in values else None
    if "topology.width" in values or "topology.height" in values:
        mesh = topo.kind == "mesh"
        w = _integer("system.topology.width", values.get("topology.width", topo.width if mesh else 1), 1)
        h = _integer("system.topology.height", values.get("topology.height", topo.height if mesh else 1), 1)
        if n is not None and n != w * h:
            raise InvalidParameterError(f"system.n_chips = {n}: a {w} x {h} mesh holds {w * h} chips")
        return TopologySpec(kind="mesh", width=w, height=h), w * h
    if n is None:
        return topo, base.n_chips
    if topo.kind == "mesh" or n == 1:
        w, h = _square(n)
        return TopologySpec(kind="mesh", width=w, height=h), n
    if n > base.n_chips:
        raise InvalidParameterError(f"system.n_chips = {n}: system {base.name!r} has {base.n_chips} chips (its "
                                    "graph cannot grow; give a system file or system.topology.width/height)")
    edges = [e for e in topo.edges if max(e) < n]
    if not edges:
        raise InvalidParameterError(f"system.n_chips = {n}: the first {n} chips of {base.name!r} share no link")
    return TopologySpec(kind="graph", edges=edges), n


def _link(base: Any, values: Mapping[str, Any]) -> Any:
    from ..system import LinkSpec

    fields = {f.name: f for f in dataclasses.fields(LinkSpec)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        name = key.removeprefix("link.")
        if name not in fields:
            raise InvalidParameterError(f"unknown parameter 'system.{key}': link fields are {', '.join(fields)}")
        where = f"system.{key}"
        if name == "backpressure":
            if not isinstance(value, bool):
                raise InvalidParameterError(f"{where} = {value!r}: must be true or false")
            changes[name] = value
        elif name in ("packet_bits", "buffer_depth"):
            changes[name] = _integer(where, value, 1)
        else:
            changes[name] = _number(where, value, unit_of(name))
    # one energy replaces the other: a swept energy per bit drops the preset's energy per packet
    for given, other in (("energy_per_bit_joule", "energy_per_packet_joule"),
                         ("energy_per_packet_joule", "energy_per_bit_joule")):  # fmt: skip
        if given in changes and other not in changes:
            changes[other] = None
    try:
        return dataclasses.replace(base.link, **changes)
    except InvalidParameterError as exc:
        raise InvalidParameterError(f"system.link.{exc}" if exc.field else str(exc)) from None


def system_spec(values: Mapping[str, Any], chip: Any = None) -> Any:
    """The board a point runs on.

    Parameters
    ----------
    values : mapping of str to value
        The point's ``system`` group: ``""`` (the preset or file) and the names of the module
        doc without their ``system.`` prefix (``"n_chips"``, ``"link.bit_rate_hz"``).
    chip : ChipSpec, optional
        The chip of every position (default: the preset's).

    Returns
    -------
    SystemSpec

    Raises
    ------
    InvalidParameterError
        Naming the first bad name or value (an unknown preset, a chip count the preset's graph
        cannot give, a disconnected board).

    Examples
    --------
    >>> board = system_spec({"": "nahuku", "n_chips": 8})
    >>> board.n_chips, board.topology.width, board.topology.height
    (8, 4, 2)
    >>> system_spec({"": "spinn5", "n_chips": 4}).route(0, 3)
    [0, 1, 2, 3]
    """
    from ..system import load_system

    if "" not in values:
        raise InvalidParameterError(f"system.{next(iter(values))} given but no 'system' to change")
    name = values[""]
    if not isinstance(name, str):
        raise InvalidParameterError(f"system = {name!r}: must be a system preset name or a system file")
    try:
        base = load_system(name)
    except ConfigError as exc:
        raise InvalidParameterError(f"system = {name!r}: {exc}") from None
    for key in values:
        if key and key not in SYSTEM_KEYS and not key.startswith("link."):
            raise InvalidParameterError(f"unknown parameter 'system.{key}': expected system.n_chips, "
                                        "system.topology.width|height or system.link.<field>")
    topology, n = _topology(base, values)
    link = _link(base, {k: v for k, v in values.items() if k.startswith("link.")})
    try:
        return dataclasses.replace(base, chip=chip if chip is not None else base.chip, n_chips=n,
                                   topology=topology, link=link)  # fmt: skip
    except InvalidParameterError as exc:
        if exc.field == "topology":  # a graph cut to its first n chips fell apart
            raise InvalidParameterError(f"system.n_chips = {n}: the first {n} chips of {base.name!r} are not all "
                                        f"linked ({exc.rule})") from None
        raise InvalidParameterError(f"system.{exc}" if exc.field else str(exc)) from None


def board_options(values: Mapping[str, Any], chip_partitioner: str | None = None) -> Any:
    """The board mapper's options from the point's ``board`` group (and ``mapping.partitioner``).

    Parameters
    ----------
    values : mapping of str to value
        ``board.<field>`` values by field name.
    chip_partitioner : str, optional
        The on-chip partitioner (``mapping.partitioner``).

    Returns
    -------
    BoardMappingOptions

    Raises
    ------
    InvalidParameterError
        Naming the bad name or value.

    Examples
    --------
    >>> board_options({"partitioner": "block", "fill": "0.9"}).fill
    0.9
    """
    from ..board_mapping import BoardMappingOptions
    from ..mapping import MappingOptions

    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in BOARD_KEYS:
            raise InvalidParameterError(f"unknown parameter 'board.{key}': expected board.{{{','.join(BOARD_KEYS)}}}")
        if key == "partitioner":
            kwargs[key] = value
        elif key == "fill":
            kwargs[key] = _number("board.fill", value)
        else:
            kwargs[key] = _integer(f"board.{key}", value, 0 if key == "max_moves" else 1)
    if chip_partitioner is not None:
        kwargs["chip_options"] = MappingOptions(partitioner=chip_partitioner)
    try:
        return BoardMappingOptions(**kwargs)
    except InvalidParameterError as exc:
        raise InvalidParameterError(f"board.{exc}" if exc.field else str(exc)) from None


def board_row(
    net: Any, drive: list[Any], system: Any, options: Any, run: Mapping[str, Any]
) -> tuple[dict[str, Any], NDArray[np.float64]]:
    """Map and run a network on a board; the result columns that depend on the board.

    Parameters
    ----------
    net : Network
    drive : list of stimuli
    system : SystemSpec
    options : BoardMappingOptions
    run : mapping
        The point's run values: ``duration_s``, ``seed``, ``cores_powered`` (``"all"`` or
        ``"used"``: here, which *chips* pay static power).

    Returns
    -------
    columns : dict
        ``n_cores``, ``cores_used`` (cores holding neurons, over the board), the energy and power
        columns (dynamic = on-chip dynamic + off-chip links; static = on-chip static + the link
        interfaces'), the inter-chip link columns (``link_bandwidth_hz``: packets/s of one link
        direction; ``link_utilisation_max|mean``: packets x serialisation / duration over the
        directed links; ``links_saturated``: links at >= 0.9 of that), ``mean_hops`` and
        ``latency_mean_s`` / ``latency_max_s`` (emulated links: the delivered packets' network
        latency, queueing included; counted: hops x link latency and nan), ``drops`` (nan when
        counted), ``routed`` (whether the links were emulated), the emulator's counts, and the
        :data:`BOARD_COLUMNS`.
    spike_counts : ndarray of float64, shape (n_neurons,)
        Spikes of every neuron.

    Notes
    -----
    The packets are those of :func:`neurochip.board.board_report`: emulated, one per (spike,
    destination core) on another chip; counted, one per (spike, other chip holding a target);
    either crosses every link of the board's route.
    """
    from ..board import board_report, run_on_board
    from ..report import LINK_SATURATION

    links = "auto" if run.get("route", True) else "counted"
    bm, result = run_on_board(net, system, duration_s=run["duration_s"], inputs=drive, seed=run["seed"], options=options,
                              links=links)  # fmt: skip
    rep = board_report(bm, net, result, chips_powered=run["cores_powered"])
    emulated = rep["links_model"] == "emulated"
    energy = rep["energy"]
    util = np.array([r["utilisation"] for r in rep["links"]], dtype=np.float64)
    peaks = [r["peak_utilisation"] for r in rep["links"] if r["peak_utilisation"] is not None]
    t = float(result.duration_s)
    dynamic = energy["on_chip_dynamic_joule"] + energy["off_chip_joule"]
    static = energy["on_chip_static_joule"] + energy["interface_static_joule"]
    chip_core = bm.neuron_chip.astype(np.int64) * system.chip.n_cores + bm.neuron_core
    syn = int(result.rec_events_per_neuron.sum())
    columns = {
        "n_cores": system.n_cores,
        "cores_used": int(np.unique(chip_core).size),
        "spikes": int(result.spike_counts.sum()),
        "synaptic_events": syn,
        "energy_total_joule": energy["total_joule"],
        "energy_dynamic_joule": dynamic,
        "energy_static_joule": static,
        "power_total_watt": energy["total_joule"] / t,
        "power_dynamic_watt": dynamic / t,
        "power_static_watt": static / t,
        "energy_per_synaptic_event_joule": energy["total_joule"] / syn if syn else math.inf,
        "link_bandwidth_hz": system.link.packet_rate_hz,
        "link_utilisation_max": float(util.max()) if util.size else 0.0,
        "link_utilisation_mean": float(util.mean()) if util.size else 0.0,
        "links_saturated": int(np.count_nonzero(util >= LINK_SATURATION)),
        "drops": rep["drops"] if emulated else math.nan,
        "mean_hops": rep["mean_inter_chip_hops"],
        "latency_mean_s": _or_nan(rep["packet_latency_mean_s"]) if emulated else rep["mean_inter_chip_latency_s"],
        "latency_max_s": _or_nan(rep["packet_latency_max_s"]) if emulated else math.nan,
        "routed": emulated,
        "synaptic_events_per_wall_s": syn / result.wall_time_s if result.wall_time_s > 0 else math.inf,
        "n_chips": system.n_chips,
        "chips_used": int(rep["chips_used"]),
        "inter_chip_packets": rep["inter_chip_packets"],
        "link_crossings": rep["link_crossings"],
        "link_peak_utilisation_max": max(peaks) if peaks else (0.0 if not rep["links"] else math.nan),
        "energy_off_chip_joule": energy["off_chip_joule"],
        "energy_interface_static_joule": energy["interface_static_joule"],
        "multichip_overhead_joule": energy["multichip_overhead_joule"],
        "multichip_overhead_fraction": energy["multichip_overhead_fraction"],
    }
    return columns, result.spike_counts.astype(np.float64)


def _or_nan(x: float | None) -> float:
    return math.nan if x is None else float(x)
