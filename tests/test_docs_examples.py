"""Every command shown in README.md and docs/cli.md runs and exits 0, and the output the docs
show is what the command prints.

The commands are read from the documents themselves: in README.md the fenced blocks' lines that
start with ``neurochip`` or ``$N`` (``N=.venv/bin/neurochip``; ``;`` separates two commands), in
docs/cli.md the ``$ `` lines of ``console`` blocks, whose following lines (``...`` elides) are
the output shown: each shown line must be a line of the real output (table rows compared cell
by cell).  They run in process, in order, in one scratch folder where ``neurochip demo`` has
written ``demo-output/`` first (the README's tour reads it, as it says ``make demo`` does).

Not run: README's ``make demo`` and ``make test`` (the set-up and the whole suite; this test runs
inside the latter).  Every other command runs as written (the README's Monte Carlo draws 8
samples, about 30 s on two CPUs).  A command that starts a local Dask cluster (Monte Carlo, a sweep without
``--workers 0``) runs as its own process, as a user runs it.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_or_skip

from neurochip.circuit import spice_available
from neurochip.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
NOT_RUN = {"make demo": "the set-up and the demo: this test runs the demo itself",
           "make test": "the whole test suite, which holds this test"}
SMALLER: dict[str, str] = {}  # every documented command runs as written


def _strip_comment(line: str) -> str:
    return re.split(r"\s+#\s", line, maxsplit=1)[0].strip()


def readme_blocks() -> list[list[tuple[str, list[str]]]]:
    """README's command blocks: each a list of (command, shown output) with no output shown."""
    blocks = []
    for body in re.findall(r"```\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S):
        commands = []
        for line in body.splitlines():
            line = _strip_comment(line)
            if line.startswith("make "):
                assert line in NOT_RUN, f"README.md: a make command this test does not know: {line}"
                continue
            if line.startswith(("neurochip ", "$N ")):
                commands += [(c.strip().replace("$N ", "neurochip ", 1), []) for c in line.split(";")]
        if commands:
            blocks.append(commands)
    return blocks


def cli_md_blocks() -> list[list[tuple[str, list[str]]]]:
    """docs/cli.md's console blocks: each a list of (command, output lines shown)."""
    blocks = []
    for body in re.findall(r"```console\n(.*?)```", (ROOT / "docs" / "cli.md").read_text(), flags=re.S):
        commands: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                commands.append((_strip_comment(line[2:]), []))
            elif line.strip() and line.strip() != "...":
                commands[-1][1].append(line)
        blocks.append(commands)
    return blocks


BLOCKS = [(f"README.md:{k}", b) for k, b in enumerate(readme_blocks())] + [
    (f"cli.md:{k}", b) for k, b in enumerate(cli_md_blocks())]


def test_the_documents_hold_the_examples_this_test_runs():
    commands = [c for _, block in BLOCKS for c, _ in block]
    assert set(SMALLER) <= set(commands)  # a size substitution that no longer applies is stale
    assert len(commands) >= 30
    shown = [c for _, block in BLOCKS for c, out in block if out]
    assert len(shown) >= 3  # commands whose output the docs show
    for sub in ("lif", "circuit", "chip", "network", "map", "run", "report", "demo", "sweep"):
        assert any(c.split()[1] == sub for c in commands), f"no example of `neurochip {sub}`"


def _cells(line: str) -> list[str]:
    """A line as its table cells (rich draws cells between │), or its words."""
    if "│" in line or "┃" in line:
        return [c.strip() for c in re.split(r"[│┃]", line) if c.strip()]
    return [" ".join(line.split())]


def _starts_a_cluster(argv: list[str]) -> bool:
    """Monte Carlo and sweeps without ``--workers 0`` start a local Dask cluster of processes."""
    parallel = argv[:2] == ["circuit", "montecarlo"] or (argv[0] == "sweep" and argv[1] != "plot")
    return parallel and "0" not in argv[argv.index("--workers") + 1:][:1] if "--workers" in argv else parallel


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    require_or_skip(spice_available(), "ngspice")
    d = tmp_path_factory.mktemp("docs")
    shutil.copytree(ROOT / "docs" / "examples", d / "docs" / "examples")
    with contextlib.chdir(d), contextlib.redirect_stdout(io.StringIO()):
        assert main(["demo"]) == 0  # what `make demo` runs after the set-up: writes demo-output/
    return d


@pytest.mark.parametrize(("where", "block"), BLOCKS, ids=[w for w, _ in BLOCKS])
def test_a_documented_command_runs_and_prints_what_the_docs_show(workspace, capsys, monkeypatch, where, block):
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("COLUMNS", "80")  # the width the docs' tables were printed at
    for command, shown in block:
        if command in SMALLER:
            build_parser().parse_args(shlex.split(command)[1:])  # the command as written parses
            command = SMALLER[command]
        argv = shlex.split(command)[1:]
        if _starts_a_cluster(argv):  # as a user runs it: Dask worker processes of a separate command
            done = subprocess.run([sys.executable, "-m", "neurochip", *argv], capture_output=True, text=True,
                                  timeout=900, cwd=workspace)
            code, out, err = done.returncode, done.stdout, done.stderr
        else:
            code = main(argv)
            out, err = capsys.readouterr()
        assert code == 0, f"{where}: `{command}` exited {code}: {err}"
        printed = [_cells(line) for line in out.splitlines()]
        for line in shown:
            assert _cells(line) in printed, f"{where}: `{command}` did not print the line shown:\n{line}\n---\n{out}"
