"""The commands' file arguments: checked before the work starts, outputs written atomically.

The rule every command follows (docs/cli.md, "Files"): an output is written exactly at the path
given, through a temporary file in the same folder renamed onto it, never over one of the
command's inputs.  A suffix is required only where it chooses the format: a ``--plot`` or
``sweep plot -o`` file needs an image suffix (``.png``, ``.pdf``, ``.svg`` ...), a sweep table
``.csv`` or ``.parquet``; a path without it is refused, never extended.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .._io import atomic_path, check_input_file, check_output_path
from ..errors import ConfigError, InvalidParameterError
from ..units import format_si, parse_quantity

# the formats matplotlib writes, chosen by the suffix
PLOT_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg", ".eps", ".ps", ".tif", ".tiff", ".webp")


def check_plot(path: str | None, *, inputs: Iterable[str | None] = (), flag: str = "--plot") -> None:
    """Check a figure's output path (image suffix, writable folder, not an input); None passes."""
    if path is not None:
        check_output_path(path, inputs=inputs, suffix=PLOT_SUFFIXES, flag=flag)


def write_plot(path: str, draw: Callable[[str], Any]) -> None:
    """``draw(tmp)`` into a temporary file beside ``path`` (same suffix), then rename it onto ``path``."""
    with atomic_path(path) as tmp:
        draw(tmp)


def chip_file(name: str) -> str | None:
    """The file a ``--chip NAME|FILE`` argument names (as load_chip decides, and any path with a
    folder in it), or None for a preset name."""
    from ..chip import list_presets

    if name in list_presets():
        return None
    p = Path(name)
    return name if p.suffix == ".toml" or p.exists() or "/" in name or os.sep in name else None


def check_chip(name: str, flag: str = "--chip") -> str | None:
    """Check a chip spec file (a readable UTF-8 file) before the work; returns its path or None."""
    path = chip_file(name)
    if path is not None:
        check_input_file(path, flag, text=True, what="a TOML chip spec")
    return path


def circuit_files(name: str) -> list[str]:
    """The netlist a ``NAME|FILE`` circuit argument names and its sidecar ``.toml``; [] for a shipped name."""
    from ..circuit import list_circuits

    if name in list_circuits():
        return []
    p = Path(name)
    if not (p.suffix or p.exists() or "/" in name):
        return []
    sidecar = p.with_suffix(".toml")
    return [name] + ([str(sidecar)] if sidecar != p and sidecar.exists() else [])


def check_circuit(name: str) -> list[str]:
    """Check a netlist file and its sidecar (readable UTF-8 text); returns the files."""
    files = circuit_files(name)
    for f in files:
        check_input_file(f, text=True, what="a SPICE netlist" if f == files[0] else "a TOML parameter declaration")
    return files


#: The largest magnitude any flag of a unit accepts: beyond it a value is absurd for a neuromorphic
#: circuit or chip (a typo, or a fuzzer's 1e300), and is refused before it reaches an engine that
#: would run for ever or overflow.  docs/cli.md lists them.
CEILING: dict[str, float] = {
    "s": 1e5, "V": 100.0, "A": 1.0, "F": 1.0, "Ohm": 1e15, "S": 1e3, "Hz": 1e9, "C": 1.0, "": 1e12,
}  # fmt: skip


def quantity(
    text: str,
    unit: str,
    flag: str,
    *,
    positive: bool = False,
    nonnegative: bool = False,
    high: float | None = None,
    why: str = "",
) -> float:
    """A quantity flag (``"20 ms"``) as a finite float in SI units; else a ConfigError naming the flag.

    ``positive`` asks for > 0, ``nonnegative`` for >= 0; the magnitude is at most ``high``
    (default :data:`CEILING` of the unit), and ``why`` says where that bound comes from.
    """
    try:
        value = parse_quantity(text, unit=unit, name=flag)
    except InvalidParameterError as exc:
        raise ConfigError(str(exc)) from None
    if not math.isfinite(value) or (positive and value <= 0):
        raise ConfigError(f"{flag} = {text!r}: must be a finite {'positive ' if positive else ''}quantity")
    if nonnegative and value < 0:
        raise ConfigError(f"{flag} = {text!r}: must be >= 0")
    limit = CEILING.get(unit, CEILING[""]) if high is None else high
    if abs(value) > limit:
        raise ConfigError(f"{flag} = {text!r}: must be at most {format_si(limit, unit)} in magnitude"
                          + (f" ({why})" if why else ""))
    return value


def quantity_list(text: str, unit: str, flag: str, **bounds: Any) -> list[float]:
    """A comma-separated list of quantities, each checked as :func:`quantity`; at least one."""
    parts = [t.strip() for t in text.split(",")]
    if not text.strip() or not all(parts):
        raise ConfigError(f"{flag} = {text!r}: expected one or more quantities separated by commas")
    return [quantity(t, unit, flag, **bounds) for t in parts]


def integer(low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer in ``low..high`` (a bad one is a usage error naming the flag)."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected an integer in {low}..{high}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value}: must be an integer in {low}..{high}")
        return value

    parse.__name__ = "integer"
    return parse


def real(low: float, high: float, *, open_low: bool = False) -> Callable[[str], float]:
    """An argparse ``type``: a finite number in ``[low, high]`` (``(low, high]`` when ``open_low``)."""
    left = "(" if open_low else "["

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected a number in {left}{low:g}, {high:g}]") from None
        if not (math.isfinite(value) and (low < value if open_low else low <= value) and value <= high):
            raise argparse.ArgumentTypeError(f"{text}: must be a number in {left}{low:g}, {high:g}]")
        return value

    parse.__name__ = "number"
    return parse


#: ``--seed``: any integer a numpy Generator accepts (and a C ``uint64`` holds)
SEED = integer(0, 2**63 - 1)
#: ``--workers``: worker processes (0: serial, no Dask)
WORKERS = integer(0, 1024)


def parse_inputs(network: Any, poisson: list[str], dc: list[str]) -> list[Any]:
    """The stimuli of --poisson POP:RATE:WEIGHT and --dc POP:CURRENT (run, board run)."""
    from ..network import CurrentStep, PoissonInput

    names = [p.name for p in network.populations]
    out: list[Any] = []
    for spec in poisson:
        parts = spec.split(":")
        if len(parts) != 3:
            raise ConfigError(f"--poisson {spec!r}: expected POP:RATE:WEIGHT, e.g. E:20kHz:0.1mV")
        pop, rate, weight = parts
        if pop not in names:
            raise ConfigError(f"--poisson {spec!r}: no population {pop!r}; the network has {names}")
        out.append(PoissonInput(population=pop, rate_hz=quantity(rate, "Hz", f"--poisson {pop} rate", nonnegative=True),
                                weight_volt=quantity(weight, "V", f"--poisson {pop} weight")))
    for spec in dc:
        parts = spec.split(":")
        if len(parts) != 2 or parts[0] not in names:
            raise ConfigError(f"--dc {spec!r}: expected POP:CURRENT with POP one of {names}")
        out.append(CurrentStep(population=parts[0], times_s=[0.0], amplitudes_amp=[quantity(parts[1], "A", "--dc current")]))
    return out
