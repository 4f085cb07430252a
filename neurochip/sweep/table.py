"""The result table of a sweep: its columns, streaming rows to it, resuming it, reading it back.

A table is a CSV file with one row per point: ``point_index``, ``point_id``, the point's inputs,
then :data:`neurochip.sweep.point.OUTPUT_COLUMNS` (and, for a sweep over boards,
:data:`neurochip.sweep.board.BOARD_COLUMNS`; SI units throughout).  Rows are appended as
points finish, so a sweep that is killed leaves a table that :func:`start_table` resumes (a last
row cut mid-write is dropped).  A ``.parquet`` output streams to ``<out>.csv`` beside it and is
written by :func:`finish_table` when the sweep ends (pyarrow needed).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._io import atomic_path, input_errors
from ..errors import ConfigError

__all__ = ["table_columns", "start_table", "append_rows", "finish_table", "read_table", "input_columns"]


def table_columns(input_names: Sequence[str]) -> list[str]:
    """The columns of a sweep's table, in order.

    Parameters
    ----------
    input_names : sequence of str
        The point's parameter names (:attr:`SweepSpec.input_names <neurochip.sweep.SweepSpec.input_names>`).

    Returns
    -------
    list of str
        ``point_index``, ``point_id``, the inputs, then the output columns of
        :mod:`neurochip.sweep.point` (``status``, ``error``, ... ``wall_time_s``) and, for a
        sweep over boards (an input named ``system``, ``system.*`` or ``board.*``), the board
        columns of :mod:`neurochip.sweep.board` (``n_chips``, ... ``multichip_overhead_fraction``).

    Examples
    --------
    >>> table_columns(["core.neurons"])[-1]
    'wall_time_s'
    >>> table_columns(["system", "system.n_chips"])[-1]
    'multichip_overhead_fraction'
    """
    from .board import BOARD_COLUMNS, is_board_name
    from .point import OUTPUT_COLUMNS

    board = BOARD_COLUMNS if any(is_board_name(n) for n in input_names) else ()
    return ["point_index", "point_id", *input_names, *OUTPUT_COLUMNS, *board]


def _csv_of(out: Path) -> Path:
    """The CSV the rows stream to: the output itself, or a sidecar of a Parquet file."""
    return out if out.suffix.lower() != ".parquet" else out.with_name(out.name + ".csv")


def _check_format(out: Path) -> None:
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ConfigError(f"unknown table format {suffix or '(none)'!r}: use .csv or .parquet", path=str(out))
    if suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ConfigError("writing Parquet needs pyarrow (pip install pyarrow); .csv works without it",
                              path=str(out)) from None


def _drop_partial_line(table: Path) -> None:
    """Cut a last row left half-written by a killed run (the file then ends without a newline)."""
    data = table.read_bytes()
    if data and not data.endswith(b"\n"):
        table.write_bytes(data[: data.rfind(b"\n") + 1])


def start_table(out: str | Path, columns: Sequence[str]) -> tuple[Path, set[str]]:
    """Prepare the CSV a sweep streams its rows to, and say which points it already holds.

    A missing (or empty) table is left to :func:`append_rows`, which writes the header with the
    first row; an existing one is resumed: a last row left half-written by a killed run is cut,
    and its header must equal ``columns``.

    Parameters
    ----------
    out : str or Path
        The sweep's output, ``.csv`` or ``.parquet``.
    columns : sequence of str
        The table's columns (:func:`table_columns`).

    Returns
    -------
    csv_path : Path
        Where rows go: ``out`` itself, or ``<out>.csv`` beside a Parquet output.
    done : set of str
        ``point_id`` of every row already in the table.

    Raises
    ------
    ConfigError
        When ``out`` has another format, Parquet is asked for without pyarrow, or the file holds
        a table with other columns (another sweep).
    """
    out = Path(out)
    _check_format(out)
    table = _csv_of(out)
    columns = list(columns)
    if table.is_file() and table.stat().st_size > 0:
        _drop_partial_line(table)
        with table.open(newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames != columns:
                raise ConfigError("holds a table with other columns (another sweep?): choose another output file",
                                  path=str(table))
            return table, {r["point_id"] for r in reader}
    # a new table is created with its first row (append_rows), not here: a sweep that fails
    # before any point is done (an unreachable scheduler) leaves no header-only file behind
    return table, set()


def _cell(v: Any) -> Any:
    return repr(v) if isinstance(v, float) else v


@contextmanager
def append_rows(csv_path: str | Path, columns: Sequence[str]) -> Iterator[Callable[[dict[str, Any]], None]]:
    """Open a table for appending; yields a function that writes one row and flushes it.

    Parameters
    ----------
    csv_path : str or Path
        The CSV (the first value returned by :func:`start_table`).
    columns : sequence of str
        Its columns; a row's missing columns are written empty, floats with all their digits.

    Yields
    ------
    callable
        ``write(row)`` with ``row`` a dict of column -> value; the row is on disk when it returns.
        The file is opened (and, when new or empty, given its header) at the first row only.
    """
    path = Path(csv_path)
    state: dict[str, Any] = {"fh": None, "writer": None}

    def write(row: dict[str, Any]) -> None:
        if state["fh"] is None:  # the file appears with its first row, header included
            new = not path.is_file() or path.stat().st_size == 0
            path.parent.mkdir(parents=True, exist_ok=True)
            state["fh"] = path.open("a", newline="")
            state["writer"] = csv.writer(state["fh"])
            if new:
                state["writer"].writerow(list(columns))
        state["writer"].writerow([_cell(row.get(c, "")) for c in columns])
        state["fh"].flush()

    try:
        yield write
    finally:
        if state["fh"] is not None:
            state["fh"].close()


def finish_table(out: str | Path) -> None:
    """Write a Parquet output from the CSV its rows streamed to; nothing to do for a CSV output.

    Parameters
    ----------
    out : str or Path
        The sweep's output, as given to :func:`start_table`.
    """
    out = Path(out)
    table = _csv_of(out)
    if out != table:
        import pyarrow as pa
        import pyarrow.parquet as pq

        with atomic_path(out) as tmp:  # the Parquet file appears whole or not at all
            pq.write_table(pa.Table.from_pylist(read_table(table)), tmp)


def _parse_cell(text: str) -> Any:
    if text == "":
        return ""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def read_table(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a sweep table (CSV or Parquet), numbers parsed, sorted by point index.

    Parameters
    ----------
    path : str or Path
        A ``.csv`` or ``.parquet`` table written by :func:`neurochip.sweep.run_sweep`.

    Returns
    -------
    list of dict
        One dict of column -> value per row (SI units; an empty cell is ``""``).

    Raises
    ------
    ConfigError
        When the file is missing or is not a sweep table.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError("file not found", path=str(p))
    if p.suffix.lower() == ".parquet":
        _check_format(p)
        import pyarrow.parquet as pq

        rows = pq.read_table(p).to_pylist()
    else:
        with input_errors(p, "a sweep table (CSV)"), p.open(newline="") as fh:
            rows = [{k: _parse_cell(v) for k, v in r.items()} for r in csv.DictReader(fh)]
    if rows and ("point_id" not in rows[0] or "status" not in rows[0]):
        raise ConfigError("not a sweep table (no point_id / status columns)", path=str(p))
    return sorted(rows, key=lambda r: r["point_index"])


def input_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The input columns of a table: those between ``point_id`` and ``status``.

    Parameters
    ----------
    rows : list of dict
        Rows as :func:`read_table` returns them.

    Returns
    -------
    list of str
        The point's parameter names, in the table's order (empty for no rows).

    Examples
    --------
    >>> input_columns([{"point_index": 0, "point_id": "60b47b10282d2d53", "core.neurons": 16,
    ...                 "stimulus.rate_hz": 1e4, "status": "ok", "error": ""}])
    ['core.neurons', 'stimulus.rate_hz']
    """
    if not rows:
        return []
    cols = list(rows[0])
    return cols[cols.index("point_id") + 1 : cols.index("status")]
