"""Design-space sweeps of the pipeline, fanned out on Dask by :func:`neurochip.parallel.fan_out`.

:func:`load_sweep` reads a sweep spec (TOML; the format is in ``docs/sweeps.md``),
:func:`run_sweep` runs its points through :func:`neurochip.sweep.point.run_point` and streams one
row per point to a CSV (or Parquet) table, so an interrupted sweep resumes where it stopped;
:func:`read_table` reads the table back and the ``plot_*`` functions draw it.

One module per concern, their public names re-exported here:

================  ==================================================================
module            holds
================  ==================================================================
``spec``          :class:`SweepSpec`, :func:`load_sweep`, :func:`sweep_from_dict`,
                  the points and :func:`point_id`
``table``         the result table: columns, appending rows, resuming,
                  :func:`read_table`, :func:`input_columns`
``run``           :func:`run_sweep` (circuit fits, then the points) and
                  :class:`SweepSummary`
``plots``         the ``plot_*`` functions and :func:`pareto_front`
``point``         one point through the pipeline: :func:`~neurochip.sweep.point.run_point`
``board``         the system axes of a point (``system``, ``system.*``, ``board.*``): the
                  board it runs on, its mapping options, the board's columns
================  ==================================================================
"""

from __future__ import annotations

from .plots import pareto_front, plot_energy, plot_links, plot_pareto, plot_rate, plot_xy
from .run import SweepSummary, run_sweep
from .spec import SweepSpec, load_sweep, point_id, sweep_from_dict
from .table import input_columns, read_table

__all__ = [
    "SweepSpec",
    "load_sweep",
    "sweep_from_dict",
    "point_id",
    "run_sweep",
    "SweepSummary",
    "read_table",
    "input_columns",
    "pareto_front",
    "plot_xy",
    "plot_energy",
    "plot_rate",
    "plot_links",
    "plot_pareto",
]
