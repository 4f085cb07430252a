"""Every docstring example runs, and every public function documents its parameters and result.

The examples are collected from every module of the package (``>>>`` lines with their exact
output); the numpydoc check reads each public function of layers 0-3 (names in ``__all__``, or
without a leading underscore where a module has no ``__all__``): a function that takes arguments
has a ``Parameters`` section, one that returns a value a ``Returns`` section.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import neurochip


def _modules() -> list[str]:
    names = {"neurochip", "neurochip.emulator"}
    names |= {m.name for m in pkgutil.walk_packages(neurochip.__path__, "neurochip.")}
    return sorted(n for n in names if not n.endswith("__main__"))


MODULES = _modules()


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed (see above)"


def _public_functions(module):
    names = getattr(module, "__all__", None) or [k for k in vars(module) if not k.startswith("_")]
    for name in names:
        obj = getattr(module, name, None)
        if inspect.isfunction(obj) and obj.__module__ == module.__name__:
            yield name, obj


def _missing_sections(func) -> list[str]:
    doc = inspect.getdoc(func) or ""
    sig = inspect.signature(func)
    missing = []
    if sig.parameters and "Parameters\n----------" not in doc:
        missing.append("Parameters")
    if (sig.return_annotation not in (None, "None", inspect.Signature.empty) and "Returns\n-------" not in doc
            and "Yields\n------" not in doc):
        missing.append("Returns")
    return missing


def test_public_functions_have_numpydoc_sections():
    gaps = []
    for name in MODULES:
        if name.startswith("neurochip.cli") or any(part.startswith("_") for part in name.split(".")):
            continue  # the CLI's functions take parsed arguments and print (cli.md documents them); private modules
        module = importlib.import_module(name)
        for fname, func in _public_functions(module):
            missing = _missing_sections(func)
            if missing:
                gaps.append(f"{name}.{fname}: no {' / '.join(missing)}")
    assert gaps == []


def test_the_check_catches_a_bare_docstring():
    def bare(x: float) -> float:
        """Twice x."""
        return 2 * x

    assert _missing_sections(bare) == ["Parameters", "Returns"]
