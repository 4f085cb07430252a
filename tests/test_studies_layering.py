"""lif.py is theory (layer 1) and the studies are composition (layer 3): imports point down only,
function-level imports included, and every docstring example runs."""

from __future__ import annotations

import ast
import doctest
import importlib
from pathlib import Path

import pytest

import neurochip

PACKAGE = Path(neurochip.__file__).parent
STUDIES = sorted(p.stem for p in (PACKAGE / "studies").glob("*.py") if p.stem != "__init__")
# what theory may import: plumbing (layer 0) of neurochip, numerical libraries, the standard library
LAYER_0 = {"neurochip._spec", "neurochip.errors", "neurochip.units", "neurochip._display"}
THIRD_PARTY_OK = {"numpy", "scipy"}


def imported_modules(path: Path, package: str) -> set[str]:
    """Every module a file imports, at any depth of the AST (relative imports resolved)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            out.add(node.module or "")
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            if node.module:
                out.add(f"{base}.{node.module}")
            else:  # ``from .. import lif`` imports modules, not names
                out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def test_imported_modules_sees_function_level_and_relative_imports(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("from .errors import X\n\ndef f():\n    from ..emulator import run\n    from .. import lif\n")
    assert imported_modules(src, "neurochip.studies") == {
        "neurochip.studies.errors", "neurochip.emulator", "neurochip.lif",
    }  # fmt: skip


def test_lif_imports_only_plumbing_and_numerics():
    stdlib = set(__import__("sys").stdlib_module_names) | {"__future__"}
    bad = []
    for name in imported_modules(PACKAGE / "lif.py", "neurochip"):
        top = name.split(".")[0]
        if name.startswith("neurochip"):
            if name not in LAYER_0:
                bad.append(name)
        elif top not in stdlib and top not in THIRD_PARTY_OK:
            bad.append(name)
    assert bad == [], f"neurochip/lif.py imports above layer 0: {sorted(bad)}"


@pytest.mark.parametrize("study", STUDIES)
def test_studies_do_not_import_the_cli(study):
    names = imported_modules(PACKAGE / "studies" / f"{study}.py", "neurochip.studies")
    assert not [n for n in names if n.startswith("neurochip.cli")]


@pytest.mark.parametrize("module", ["neurochip.lif"] + [f"neurochip.studies.{s}" for s in STUDIES])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{module} has no Examples"
    assert result.failed == 0
