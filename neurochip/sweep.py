"""Fan a function out over many inputs on Dask: a local cluster of processes, or a scheduler.

ngspice keeps one simulator instance per process, so circuit runs go to worker *processes*
(one thread each).  Failures are recorded with their message, never dropped.

Examples
--------
>>> from neurochip.sweep import fan_out
>>> out = fan_out(abs, [-1, 2], n_workers=0, progress=False)   # 0 workers: serial, in-process
>>> [o.value for o in out]
[1, 2]
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import InvalidParameterError

__all__ = ["Outcome", "fan_out"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one item: ``value`` or the ``error`` text (``ok`` tells which)."""

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
) -> list[Outcome]:
    """Apply ``func`` to every item, in parallel worker processes.

    Parameters
    ----------
    func : callable
        A picklable (module-level) function of one argument.
    items : sequence
        Its arguments.
    scheduler : str, optional
        Address of an existing Dask scheduler (``"tcp://host:8786"``); default: a local cluster.
    n_workers : int, optional
        Worker processes of the local cluster (default: the CPU count); 0 runs serially in this
        process (no Dask).
    progress : bool
        Show a progress bar.
    description : str
        Label of the progress bar.

    Returns
    -------
    list of Outcome
        One per item, in the order of ``items``; failed items carry their error message.
    """
    if n_workers is not None and n_workers < 0:
        raise InvalidParameterError(f"n_workers = {n_workers!r}: must be >= 0")
    items = list(items)
    if n_workers == 0 and scheduler is None:
        return _serial(func, items, progress, description)
    import dask.config
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    with dask.config.set({"distributed.logging.distributed": "error"}):
        if scheduler is None:
            import os

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
            client = Client(scheduler)
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


def _serial(func: Callable[..., Any], items: list[Any], progress: bool, description: str) -> list[Outcome]:
    out = []
    with _Bar(progress, description, len(items)) as bar:
        for k, item in enumerate(items):
            out.append(_guarded(func, item, k))
            bar.advance()
    return out


class _Bar:
    """A rich progress bar, or nothing."""

    def __init__(self, enabled: bool, description: str, total: int):
        self.enabled = enabled
        self.description = description
        self.total = total
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _Bar:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self._progress = Progress(
                "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
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
