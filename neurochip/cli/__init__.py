"""The ``neurochip`` command: a thin driver over the public API.

Each subcommand lives in a module ``neurochip.cli.<name>`` with ``add_parser(subparsers)``
that registers its parser and sets ``func(args) -> int``.  This module only dispatches, and is
the one place that turns a :class:`~neurochip.errors.NeurochipError` into ``error: ...`` on
stderr with exit status 1 (usage errors exit 2).  A bad input file is turned into a
``ConfigError`` where it is read; what still slips through as ``OSError``, ``EOFError`` or
``UnicodeDecodeError`` is printed the same way, as one line.  ``--verbose`` adds the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from ..errors import NeurochipError

# name -> module holding ``add_parser``; a plain dict, in the order shown by --help.
SUBCOMMANDS: dict[str, str] = {
    "lif": "neurochip.cli.lif",
    "circuit": "neurochip.cli.circuit",
    "chip": "neurochip.cli.chip",
    "map, run, report": "neurochip.cli.run",
    "demo": "neurochip.cli.demo",
    "network": "neurochip.cli.network",
    "sweep": "neurochip.cli.sweep",
    "stepped": "neurochip.cli.stepped",
    "board": "neurochip.cli.board",
    "estimate": "neurochip.cli.estimate",
}


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line: ``error: ...`` and exit status 2.

    A value that starts with a minus sign and a digit (``--current -1nA``, ``--e-leak -70mV``) is
    a value, not an option: argparse alone takes only plain negative numbers (``-1``) for one.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-\.?\d")

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"error: {self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (used by :func:`main` and by the CLI reference in docs/)."""
    from .. import __version__

    parser = _Parser(
        prog="neurochip",
        description="Neuromorphic hardware co-design: silicon LIF neurons to whole-chip estimates.",
    )
    parser.add_argument("--version", action="version", version=f"neurochip {__version__}")
    parser.add_argument("--verbose", action="store_true", help="print the traceback of an error (for debugging)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress display on stderr (it is shown only when stderr is a terminal)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module_name in SUBCOMMANDS.values():
        importlib.import_module(module_name).add_parser(sub)
    _describe_all(parser)
    return parser


def _describe_all(parser: argparse.ArgumentParser) -> None:
    """Give every subcommand without a description its one-line help as the description, so that
    ``neurochip COMMAND --help`` always says what the command does."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, child in action.choices.items():
                if not child.description and helps.get(name):
                    text = str(helps[name])
                    child.description = text[0].upper() + text[1:] + "."
                _describe_all(child)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 error, 2 usage error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    empty = _empty_value(parser, args)
    if empty is not None:
        parser.error(f"argument {empty}: empty value")
    verbose = bool(getattr(args, "verbose", False))
    from ._progress import set_quiet

    set_quiet(bool(getattr(args, "quiet", False)))
    try:
        if getattr(args, "plot", None):
            from ._files import check_plot

            check_plot(args.plot)  # every --plot: an image suffix and a writable folder, before any work
        return int(args.func(args) or 0)
    except NeurochipError as exc:
        return _fail(str(exc), verbose)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        # a file problem that no loader turned into a ConfigError: still one line, not a traceback
        return _fail(_describe(exc), verbose)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def _empty_value(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """The flag given an empty string (``--plot ""``), which no option accepts; None if none was.

    An empty value would otherwise read as "not given" (``if args.plot``) and be silently ignored.
    """
    dests = {k for k, v in vars(args).items() if v == "" or (isinstance(v, list) and "" in v)}
    if not dests:
        return None
    stack = [parser]
    while stack:
        p = stack.pop()
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack.extend(action.choices.values())
            elif action.dest in dests:
                return action.option_strings[-1] if action.option_strings else action.metavar or action.dest
    return sorted(dests)[0]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"


def _fail(message: str, verbose: bool) -> int:
    if verbose:
        traceback.print_exc(file=sys.stderr)
    print(f"error: {message}", file=sys.stderr)
    return 1

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
