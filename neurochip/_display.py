"""Terminal output shared by the CLI subcommands: rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import numpy as np


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if math.isfinite(value) else None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def print_json(data: dict[str, Any]) -> None:
    """Print a dict as JSON (numpy values converted; inf written as the string "inf")."""
    json.dump(_jsonable(data), sys.stdout, indent=2)
    sys.stdout.write("\n")


def print_table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    """Print a table with rich (columns right-aligned except the first)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def pyplot() -> Any:
    """matplotlib.pyplot on the non-interactive Agg backend (imported on first use)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str) -> None:
    """Write a figure to ``path`` and close it; an unwritable path is a ConfigError naming it."""
    from .errors import ConfigError

    plt = pyplot()
    try:
        fig.savefig(path)
    except OSError as exc:
        raise ConfigError(f"cannot write plot: {exc}", path=str(path)) from None
    finally:
        plt.close(fig)
