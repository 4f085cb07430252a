"""Write the chip-to-chip links of a SpiNN-5 board (48 SpiNNaker chips) into its system preset.

The layout is SpiNNaker's documented one (the SpiNNMachine package of the SpiNNaker software:
``spinn_machine/version/version_5.py`` lists the 48 chips, ``Machine.LINK_ADD_TABLE`` the six link
directions):

- chips sit at integer coordinates ``(x, y)`` with ``0 <= x, y <= 7``; the board is the hexagon
  ``-4 <= y - x <= 3`` of that square (4 + 5 + 6 + 7 + 8 + 7 + 6 + 5 = 48 chips; the 16 corner
  positions ``(0, 4)``-``(0, 7)``, ..., ``(7, 0)``-``(7, 2)`` are empty);
- each chip has six links, to ``(x+1, y)``, ``(x+1, y+1)``, ``(x, y+1)``, ``(x-1, y)``,
  ``(x-1, y-1)`` and ``(x, y-1)``: a triangular lattice.  On a single board the links that leave
  the hexagon go to the board's FPGAs (other boards), so they are not edges here.

Chip ``i`` of the preset is the ``i``-th chip in row order (``y`` first, then ``x``); the preset's
comment lists each chip's coordinates.  Between two chips of the board the shortest route has
``max(|dx|, |dy|)`` hops when ``dx`` and ``dy`` have the same sign and ``|dx| + |dy|`` otherwise
(the hexagon is convex in the lattice, so no route has to leave it).

Run ``python scripts/spinn5_edges.py`` to print the ``edges = [...]`` line, ``--write`` to replace
it (and the coordinate comment) in ``neurochip/systems/spinn5.toml``; ``tests/test_spinnaker.py``
checks that the preset holds what this script generates.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

PRESET = Path(__file__).resolve().parents[1] / "neurochip" / "systems" / "spinn5.toml"

#: The six link directions of a SpiNNaker chip, as (dx, dy): E, NE, N, W, SW, S.
DIRECTIONS: tuple[tuple[int, int], ...] = ((1, 0), (1, 1), (0, 1), (-1, 0), (-1, -1), (0, -1))


def on_board(x: int, y: int) -> bool:
    """Whether a SpiNN-5 board holds a chip at ``(x, y)``."""
    return 0 <= x <= 7 and 0 <= y <= 7 and -4 <= y - x <= 3


def chips() -> list[tuple[int, int]]:
    """The 48 chip coordinates, in the preset's order (row by row: ``y``, then ``x``)."""
    return [(x, y) for y in range(8) for x in range(8) if on_board(x, y)]


def edges() -> list[tuple[int, int]]:
    """Undirected links between chips of one board, as sorted pairs of preset chip indices."""
    index = {xy: i for i, xy in enumerate(chips())}
    out = set()
    for (x, y), i in index.items():
        for dx, dy in DIRECTIONS:
            j = index.get((x + dx, y + dy))
            if j is not None:
                out.add((min(i, j), max(i, j)))
    return sorted(out)


def hex_hops(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Hops between two chips of the triangular lattice (the closed form of the module doc)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    return max(abs(dx), abs(dy)) if dx * dy >= 0 else abs(dx) + abs(dy)


def edges_line() -> str:
    """The TOML line of the preset's edges."""
    return "edges = [" + ", ".join(f"[{a}, {b}]" for a, b in edges()) + "]"


def coordinates_comment() -> str:
    """Comment lines naming each chip's coordinates, eight chips a line."""
    items = [f"{i}=({x},{y})" for i, (x, y) in enumerate(chips())]
    return "\n".join("# chips: " + " ".join(items[k:k + 8]) for k in range(0, len(items), 8))


def write(path: Path = PRESET) -> None:
    """Replace the edges line and the coordinate comment of the preset at ``path``."""
    text = path.read_text()
    text, n = re.subn(r"^edges = \[.*\]$", edges_line(), text, flags=re.M)
    if n != 1:
        raise SystemExit(f"error: {path}: expected one 'edges = [...]' line, found {n}")
    text, n = re.subn(r"(?:^# chips: .*\n)+", coordinates_comment() + "\n", text, flags=re.M)
    if n != 1:
        raise SystemExit(f"error: {path}: expected one block of '# chips:' comment lines, found {n}")
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"update {PRESET.name} in place")
    args = parser.parse_args(argv)
    if args.write:
        write()
        print(f"{PRESET}: {len(chips())} chips, {len(edges())} links")
    else:
        print(coordinates_comment())
        print(edges_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
