"""Running a sweep: fit each distinct circuit once, then every point, streaming rows to the table.

Both stages go through :func:`neurochip.parallel.fan_out` (a local Dask cluster of processes,
an existing scheduler, or serially in this process); each point is one call of
:func:`neurochip.sweep.point.run_point`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..parallel import Outcome, fan_out
from .spec import SweepSpec, point_id
from .table import append_rows, finish_table, start_table, table_columns

__all__ = ["SweepSummary", "run_sweep"]


def _fit_job(job: tuple[str, dict[str, Any], dict[str, Any], str]) -> str:
    from .point import cached_fit

    circuit, overrides, options, cache_dir = job
    cached_fit(circuit, overrides, options, cache_dir)
    return "fitted"


def _point_job(job: tuple[dict[str, Any], str | None, str | None]) -> dict[str, Any]:
    from .point import run_point

    point, cache_dir, fit_error = job
    if fit_error is not None:
        raise RuntimeError(f"circuit fit failed: {fit_error}")
    return run_point(point, cache_dir=cache_dir)


@dataclass(frozen=True, slots=True)
class SweepSummary:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    table : str
        The output table.
    points : int
        Points in the spec.
    skipped : int
        Points already in the table, not run again.
    ran : int
        Points run by this call.
    failed : list of (int, str)
        ``(point_index, first line of the error)`` of each point that failed, sorted.
    fits : int
        Circuit fits run (those not found in the fit cache).
    wall_time_s : float
        Wall time of the call, s.
    """

    table: str
    points: int
    skipped: int
    ran: int
    failed: list[tuple[int, str]]
    fits: int
    wall_time_s: float


def _fit_stage(
    points: list[dict[str, Any]], todo: list[int], cache: str, fan: dict[str, Any]
) -> tuple[dict[int, str], dict[str, str], int]:
    """Fit each distinct circuit of the points to run once, into the cache.

    Returns each point's fit key, the first error line of each failed fit, and the fits run.
    """
    from .point import circuit_inputs, fit_key

    fits: dict[str, tuple[str, dict[str, Any], dict[str, Any], str]] = {}
    key_of: dict[int, str] = {}
    for k in todo:
        ci = circuit_inputs(points[k])
        if ci is not None:
            key = fit_key(*ci)
            key_of[k] = key
            if not (Path(cache) / f"fit-{key}.json").is_file():
                fits[key] = (ci[0], ci[1], ci[2], cache)
    fit_errors: dict[str, str] = {}
    if fits:
        keys = list(fits)
        outcomes = fan_out(_fit_job, [fits[k] for k in keys], description="circuit fits", **fan)
        fit_errors = {keys[o.index]: (o.error or "").splitlines()[0] for o in outcomes if not o.ok}
    return key_of, fit_errors, len(fits)


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> SweepSummary:
    """Run every point of a sweep not yet in the table ``out``, appending one row per point.

    Circuits are fitted first, once per distinct (circuit, parameters, fit options), into the
    fit cache; then the points run in parallel.  Each finished point is appended to the table at
    once (a failed point with ``status = "error"`` and its message), so an interrupted sweep
    resumes where it stopped: points whose ``point_id`` is already in the table are skipped.

    Parameters
    ----------
    spec : SweepSpec
        The sweep (:func:`neurochip.sweep.load_sweep`).
    out : str or Path
        ``.csv`` (always available) or ``.parquet`` (needs pyarrow; rows stream to a
        ``<out>.csv`` beside it, converted when the sweep ends).
    scheduler : str, optional
        Address of an existing Dask scheduler; default: a local cluster of processes.
    n_workers : int, optional
        Worker processes of the local cluster (default: the CPU count); 0 runs serially in this
        process, without Dask.
    cache_dir : str or Path, optional
        Folder of the circuit fit cache (default: the spec's ``cache_dir``, else
        ``.neurochip-cache`` in the current folder).
    progress : bool
        Show progress bars (one for the fits, one for the points).

    Returns
    -------
    SweepSummary
        Points in the spec, skipped, run and failed, circuit fits run, wall time (s).

    Raises
    ------
    ConfigError
        When ``out`` has another format, or holds a table with other columns.
    """
    t0 = time.perf_counter()
    columns = table_columns(spec.input_names)
    table, done = start_table(out, columns)
    cache = str(cache_dir or spec.cache_dir or ".neurochip-cache")
    points = spec.points()
    ids = [point_id(p) for p in points]
    todo = [k for k in range(len(points)) if ids[k] not in done]
    fan = {"scheduler": scheduler, "n_workers": n_workers, "progress": progress}

    # stage 1: fit each distinct circuit once (a chip sweep does not refit it)
    key_of, fit_errors, n_fits = _fit_stage(points, todo, cache, fan)

    # stage 2: the points, each row appended as soon as it is done
    failed: list[tuple[int, str]] = []
    with append_rows(table, columns) as write_row:

        def write(o: Outcome) -> None:
            k = todo[o.index]
            if o.ok:
                row = o.value
            else:
                row = {"status": "error", "error": (o.error or "").splitlines()[0]}
                failed.append((k, row["error"]))
            write_row({"point_index": k, "point_id": ids[k], **points[k], **row})

        jobs = [(points[k], cache, fit_errors.get(key_of.get(k, ""))) for k in todo]
        if jobs:
            fan_out(_point_job, jobs, description=f"sweep {spec.name}", on_result=write, **fan)
    finish_table(out)
    return SweepSummary(table=str(out), points=len(points), skipped=len(points) - len(todo), ran=len(todo),
                        failed=sorted(failed), fits=n_fits, wall_time_s=time.perf_counter() - t0)
