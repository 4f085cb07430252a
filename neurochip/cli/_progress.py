"""Progress of the CLI's long steps: an indeterminate spinner on stderr with the elapsed time.

The engines behind ``run`` (the compiled emulator), ``circuit fit``/``simulate`` (ngspice) and
the studies have no progress callback, so a step shows what it is doing, the size of the work
(``10,000 neurons x 1 s``) and the time elapsed, refreshed from a background thread (both
engines release the GIL while they work).  The rule is the one of :mod:`neurochip.parallel`'s
progress bar for Monte Carlo and sweeps: progress goes to **stderr**, never into the tables or
JSON on stdout, and only when stderr is a terminal; ``neurochip --quiet`` turns it off.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: Set by ``neurochip --quiet`` (through :func:`set_quiet`) for the one process the CLI runs in.
_QUIET = {"on": False}


def set_quiet(quiet: bool) -> None:
    """Turn every progress display of this CLI call off (``--quiet``) or back on."""
    _QUIET["on"] = bool(quiet)


def enabled() -> bool:
    """True when a progress display should be drawn: stderr is a terminal and not ``--quiet``."""
    return not _QUIET["on"] and sys.stderr.isatty()


@contextmanager
def working(label: str, *, size: str = "") -> Iterator[None]:
    """A spinner on stderr labelled ``label`` (and ``size``, the expected work) with elapsed time.

    Nothing is drawn when :func:`enabled` is False; the display disappears when the step ends.

    Parameters
    ----------
    label : str
        What runs, e.g. ``"emulating"``.
    size : str
        The size of the work, e.g. ``"10,000 neurons x 1 s of chip time"``.
    """
    if not enabled():
        yield
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    text = f"{label} ({size})" if size else label
    progress: Any = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                             console=Console(stderr=True), transient=True, refresh_per_second=4)
    progress.add_task(text, total=None)
    with progress:
        yield
