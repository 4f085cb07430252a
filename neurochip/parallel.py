"""Apply a function to many inputs on Dask worker processes, with a progress bar and failures kept.

:func:`fan_out` is the one parallel map of the package: the circuit Monte Carlo
(:mod:`neurochip.circuit.montecarlo`) and the design-space sweeps (:mod:`neurochip.sweep`) both
call it.  It runs on a local cluster of worker processes by default, or on an existing scheduler.
ngspice keeps one simulator instance per process, so the workers are *processes* with one thread
each.  A failed item is recorded with its message in its :class:`Outcome`, never dropped.

This is plumbing (layer 0): it imports nothing of neurochip but the errors, and Dask,
distributed and rich only when a map runs, so ``import neurochip.parallel`` stays light.

Examples
--------
>>> from neurochip.parallel import fan_out
>>> out = fan_out(abs, [-1, 2], n_workers=0, progress=False)   # 0 workers: serial, in-process
>>> [o.value for o in out]
[1, 2]
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError, InvalidParameterError

__all__ = ["Outcome", "fan_out"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one item of :func:`fan_out`: its ``value``, or the ``error`` text.

    Attributes
    ----------
    index : int
        Position of the item in the sequence given to :func:`fan_out`.
    value : object
        What the function returned (None when it failed).
    error : str or None
        ``"ExceptionType: message"`` and a short traceback when the function raised, else None.

    Examples
    --------
    >>> Outcome(0, value=3).ok, Outcome(1, error="ValueError: no").ok
    (True, False)
    """

    index: int
    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the item succeeded."""
        return self.error is None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def fan_out(
    func: Callable[..., Any],
    items: Sequence[Any],
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    progress: bool = True,
    description: str = "running",
    on_result: Callable[[Outcome], None] | None = None,
    connect_timeout_s: float = 5.0,
) -> list[Outcome]:
    """Apply ``func`` to every item, in parallel worker processes.

    Parameters
    ----------
    func : callable
        A picklable (module-level) function of one argument.
    items : sequence
        Its arguments.
    scheduler : str, optional
        Address of an existing Dask scheduler (``"tcp://host:8786"``); default: a local cluster of
        ``n_workers`` processes, started and stopped by this call.
    n_workers : int, optional
        Worker processes of the local cluster, ≥ 0 (default: the CPU count, at most one per
        item); 0 runs serially in this process, without Dask.
    progress : bool
        Show a progress bar (rich) on stderr, when stderr is a terminal (never on stdout, which
        may carry JSON).
    description : str
        Label of the progress bar.
    on_result : callable, optional
        Called in this process with each :class:`Outcome` as soon as it completes (in
        completion order), e.g. to stream results to disk.
    connect_timeout_s : float
        How long to wait for ``scheduler`` to answer before giving up (s, default 5).

    Returns
    -------
    list of Outcome
        One per item, in the order of ``items``; a failed item (or one whose worker was lost)
        carries its error message instead of a value.

    Raises
    ------
    InvalidParameterError
        When ``n_workers`` is negative.
    ConfigError
        When ``scheduler`` does not answer within ``connect_timeout_s`` (nothing has run then).

    Examples
    --------
    >>> seen = []
    >>> out = fan_out(int, ["7", "x"], n_workers=0, progress=False, on_result=seen.append)
    >>> out[0].value, out[1].ok, out[1].error.splitlines()[0]
    (7, False, "ValueError: invalid literal for int() with base 10: 'x'")
    >>> [o.index for o in seen]
    [0, 1]
    """
    if n_workers is not None and n_workers < 0:
        raise InvalidParameterError(f"n_workers = {n_workers!r}: must be >= 0")
    items = list(items)
    if n_workers == 0 and scheduler is None:
        return _serial(func, items, progress, description, on_result)
    import dask.config
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    with dask.config.set({"distributed.logging.distributed": "error"}):
        if scheduler is None:
            workers = n_workers or os.cpu_count() or 1
            cluster = LocalCluster(
                n_workers=min(workers, max(len(items), 1)),
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=40,
            )
            client = Client(cluster)
        else:
            try:
                client = Client(scheduler, timeout=connect_timeout_s)
            except (OSError, TimeoutError, ValueError) as exc:
                raise ConfigError(f"cannot reach the Dask scheduler at {scheduler} within {connect_timeout_s:g} s "
                                  f"({type(exc).__name__}); is it running?") from None
        try:
            futures = client.map(_guarded, [func] * len(items), items, range(len(items)), pure=False)
            results: dict[int, Outcome] = {}
            with _Bar(progress, description, len(items)) as bar:
                for fut in as_completed(futures):
                    try:
                        out = fut.result()
                    except Exception as exc:  # noqa: BLE001 - a lost worker: record, go on
                        idx = futures.index(fut)
                        out = Outcome(idx, error=_describe(exc))
                    results[out.index] = out
                    if on_result is not None:
                        on_result(out)
                    bar.advance()
            return [results[k] for k in range(len(items))]
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def _guarded(func: Callable[..., Any], item: Any, index: int) -> Outcome:
    try:
        return Outcome(index, value=func(item))
    except Exception as exc:  # noqa: BLE001 - recorded, reported by the caller
        return Outcome(index, error=_describe(exc) + "\n" + traceback.format_exc(limit=3))


def _serial(
    func: Callable[..., Any], items: list[Any], progress: bool, description: str,
    on_result: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    out = []
    with _Bar(progress, description, len(items)) as bar:
        for k, item in enumerate(items):
            out.append(_guarded(func, item, k))
            if on_result is not None:
                on_result(out[-1])
            bar.advance()
    return out


class _Bar:
    """A rich progress bar on stderr when it is a terminal, or nothing."""

    def __init__(self, enabled: bool, description: str, total: int):
        import sys

        self.enabled = enabled and sys.stderr.isatty()
        self.description = description
        self.total = total
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _Bar:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self._progress = Progress(
                "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=self.total)
        return self

    def advance(self) -> None:
        if self._progress is not None:
            self._progress.advance(self._task)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
