"""``neurochip sweep``: design-space sweeps on Dask, and plots of their result tables.

``neurochip sweep SPEC.toml -o results.csv`` runs a sweep (resuming when the table exists);
``neurochip sweep plot results.csv --x COL --y COL -o plot.png`` draws one.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._files import WORKERS

KINDS = ("xy", "energy", "rate", "links", "pareto")


def add_parser(sub: Any) -> None:
    """Add the ``sweep`` subcommand.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The subparsers of the ``neurochip`` parser.
    """
    p = sub.add_parser(
        "sweep",
        help="run a design-space sweep on Dask, or plot one (`sweep plot TABLE`)",
        usage="neurochip sweep SPEC.toml -o TABLE.csv [--workers N | --scheduler ADDRESS] [--cache-dir DIR]\n"
        "       neurochip sweep plot TABLE.csv -o PLOT.png [--kind KIND] [--x COL] [--y COL] [--color COL]",
        description="`neurochip sweep SPEC.toml -o results.csv` runs every point of a sweep spec (format: "
        "docs/sweeps.md) and streams one row per point to the table; points already in it are skipped, so "
        "an interrupted sweep resumes. `neurochip sweep plot results.csv --x COL --y COL -o plot.png` "
        "draws a table.",
    )
    p.add_argument("target", nargs="+", metavar="SPEC.toml | plot TABLE",
                   help="a sweep spec to run, or `plot` and a result table")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="result table (.csv, or .parquet with pyarrow) or, for `plot`, the figure (.png, .pdf, .svg ...)"
                   " (required)")
    p.add_argument("--out", dest="output", help=argparse.SUPPRESS)  # the former spelling, kept working
    p.add_argument("--json", action="store_true",
                   help="print the summary as JSON (for `plot`: the figure, its rows and, for pareto, the front)")
    run = p.add_argument_group("running")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="address of an existing Dask scheduler (tcp://host:8786); must answer within 5 s")
    run.add_argument("--workers", type=WORKERS, metavar="N",
                     help="worker processes of the local cluster (default: the CPU count; 0: serial, no Dask)")
    run.add_argument("--cache-dir", metavar="DIR", help="circuit fit cache (default: the spec's, else .neurochip-cache)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar (as neurochip --quiet)")
    plot = p.add_argument_group("plotting")
    plot.add_argument("--kind", choices=KINDS, default="xy",
                      help="xy: --y against --x; energy: power (dynamic, static) and energy per synaptic event; "
                      "rate: firing rate with the 1/t_ref ceiling; links: peak link utilisation with the bandwidth "
                      "ceiling; pareto: the Pareto front of --x (energy) against --y (latency or throughput)")
    plot.add_argument("--x", metavar="COL", help="x column")
    plot.add_argument("--y", metavar="COL", help="y column (xy, pareto)")
    plot.add_argument("--color", metavar="COL", help="one line (or colour) per value of this column")
    plot.add_argument("--label", metavar="COL", action="append",
                      help="pareto: columns labelling the front (repeatable)")
    plot.add_argument("--logx", action="store_true", help="log x axis (xy)")
    plot.add_argument("--logy", action="store_true", help="log y axis (xy)")
    p.set_defaults(func=run_cmd, sweep_parser=p)


# the flags of each use; one of the other use is an error, not silently ignored
_RUN_ONLY = {"scheduler": "--scheduler", "workers": "--workers", "cache_dir": "--cache-dir", "no_progress": "--no-progress"}
_PLOT_ONLY = {"x": "--x", "y": "--y", "color": "--color", "label": "--label", "logx": "--logx", "logy": "--logy"}


def _refuse(args: argparse.Namespace, flags: dict[str, str], use: str) -> None:
    from ..errors import ConfigError

    for dest, flag in flags.items():
        value = getattr(args, dest)
        if value is not None and value is not False:  # `--workers 0` is given (and 0 == False)
            raise ConfigError(f"{flag}: not used by {use}")


def run_cmd(args: argparse.Namespace) -> int:
    """Run ``neurochip sweep``: a sweep spec, or ``plot`` and a result table.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of :func:`add_parser`.

    Returns
    -------
    int
        The exit status, 0; errors are raised as :class:`~neurochip.errors.NeurochipError` for
        the CLI's one handler to print.
    """
    from ..errors import ConfigError

    if args.output is None:
        args.sweep_parser.error("the following arguments are required: -o/--output")
    if args.target[0] == "plot":
        if len(args.target) != 2:
            raise ConfigError("usage: neurochip sweep plot TABLE --x COL --y COL [--color COL] -o PLOT.png")
        _refuse(args, _RUN_ONLY, "`sweep plot`")
        return _plot(args, args.target[1])
    if len(args.target) != 1:
        raise ConfigError(f"one sweep spec expected, got {len(args.target)}: {' '.join(args.target)}")
    _refuse(args, {**_PLOT_ONLY, "kind": "--kind"} if args.kind != "xy" else _PLOT_ONLY, "a sweep run (only by `sweep plot`)")
    return _run(args, args.target[0])


def _run(args: argparse.Namespace, spec_path: str) -> int:
    from .._display import print_json
    from .._io import check_input_file, check_output_path
    from ..errors import ConfigError, NeurochipError
    from ..sweep import load_sweep, run_sweep
    from ._progress import enabled

    check_input_file(spec_path, "SPEC", text=True, what="a TOML sweep spec")
    # the table is appended to (a rerun resumes it), so it may exist; it must not be the spec
    check_output_path(args.output, inputs=(spec_path,), suffix=(".csv", ".parquet"))
    if args.cache_dir and Path(args.cache_dir).exists() and not Path(args.cache_dir).is_dir():
        raise ConfigError(f"--cache-dir {args.cache_dir}: exists and is not a folder")
    spec = load_sweep(spec_path)
    summary = run_sweep(spec, args.output, scheduler=args.scheduler, n_workers=args.workers, cache_dir=args.cache_dir,
                        progress=not args.no_progress and enabled())
    if args.json:
        print_json({"table": summary.table, "points": summary.points, "skipped": summary.skipped, "ran": summary.ran,
                    "failed": [{"point_index": k, "error": e} for k, e in summary.failed], "circuit_fits": summary.fits,
                    "wall_time_s": summary.wall_time_s})
    else:
        print(f"sweep {spec.name}: {summary.points} points, {summary.skipped} already in {summary.table}, "
              f"{summary.ran} run ({summary.fits} circuit fits), {len(summary.failed)} failed, "
              f"{summary.wall_time_s:.1f} s")
        for k, err in summary.failed[:10]:
            print(f"  point {k}: {err}")
    if summary.ran and len(summary.failed) == summary.ran:
        # a sweep where nothing worked is a failed run, not a success with an empty table
        raise NeurochipError(f"sweep {spec.name}: all {summary.ran} points run failed (point {summary.failed[0][0]}: "
                             f"{summary.failed[0][1]})")
    return 0


def _plot(args: argparse.Namespace, table: str) -> int:
    from .._io import atomic_path, check_input_file
    from ..errors import ConfigError
    from ..sweep import plot_energy, plot_links, plot_pareto, plot_rate, plot_xy, read_table
    from ._files import check_plot, write_plot

    check_input_file(table, "TABLE", text=not table.lower().endswith(".parquet"), what="a sweep result table")
    check_plot(args.output, inputs=(table,), flag="-o")
    rows = read_table(table)
    ok = [r for r in rows if r.get("status") == "ok"]
    if not ok:
        raise ConfigError(f"{table}: no point succeeded ({len(rows)} rows, all failed): nothing to plot"
                          if rows else f"{table}: the table has no rows: nothing to plot")
    kind = args.kind
    # a flag that the chosen kind does not draw is an error, not silently ignored
    unused = {"xy": ("label",), "pareto": ("logx", "logy"), "energy": ("y", "label", "logx", "logy")}
    for dest in unused.get(kind, unused["energy"]):
        if getattr(args, dest) is not None and getattr(args, dest) is not False:
            raise ConfigError(f"{_PLOT_ONLY[dest]}: not used by `sweep plot --kind {kind}`")
    front: list[dict[str, Any]] | None = None
    if kind == "xy":
        if not (args.x and args.y):
            raise ConfigError("sweep plot: --x COL and --y COL are required (or choose a --kind)")
        write_plot(args.output, lambda tmp: plot_xy(rows, args.x, args.y, tmp, color=args.color, logx=args.logx,
                                                    logy=args.logy))
    elif kind == "pareto":
        with atomic_path(args.output) as tmp:
            front = plot_pareto(rows, tmp, x=args.x or "energy_per_synaptic_event_joule", y=args.y or "latency_mean_s",
                                color=args.color, label=args.label)
    else:
        draw = {"energy": plot_energy, "rate": plot_rate, "links": plot_links}[kind]
        write_plot(args.output, lambda tmp: draw(rows, tmp, x=args.x or "input_rate_hz", color=args.color))
    if args.json:
        from .._display import print_json

        print_json({"output": args.output, "kind": kind, "rows": len(rows), "rows_ok": len(ok),
                    **({"pareto_point_index": [int(r["point_index"]) for r in front]} if front is not None else {})})
        return 0
    if front is not None:
        print(f"Pareto front: {len(front)} of {len(rows)} points (point_index {', '.join(str(r['point_index']) for r in front)})")
    print(f"plot written to {args.output}")
    return 0
