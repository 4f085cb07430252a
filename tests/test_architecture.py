"""The layers of docs/architecture.md, held by walking every module's syntax tree.

Every ``import`` and ``from ... import`` counts, at module level or inside a function, class or
``try``: a module may import its own layer or the layers below, never above, and the imports
among neurochip's modules form no cycle.  Every module must be placed in :data:`LAYERS`.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]

#: module-name prefix -> layer (longest prefix wins).  Integer part: the layer of
#: docs/architecture.md (0 plumbing, 1 models, 2 engines, 3 composition, 4 CLI); the decimals
#: order the modules inside a layer, so that "down" is defined there too.
LAYERS: dict[str, float] = {
    "neurochip.errors": 0.0,
    "neurochip.units": 0.1,
    "neurochip._spec": 0.2,
    "neurochip._display": 0.2,
    "neurochip._io": 0.2,
    "neurochip.parallel": 0.2,
    "neurochip.lif": 1.0,
    "neurochip.models": 1.0,
    "neurochip": 1.1,  # the package itself: static imports of layers 0-1 only; the rest is lazy
    "neurochip.chip": 2.0,
    "neurochip.mesh": 2.0,
    "neurochip.system": 2.0,
    "neurochip.network": 2.0,
    "neurochip.circuit": 2.0,
    "neurochip.mapping": 2.1,
    "neurochip.board_mapping": 2.15,
    "neurochip.energy": 2.2,
    "neurochip.emulator": 2.3,
    "neurochip.stepped": 2.4,
    "neurochip.run_record": 3.0,
    "neurochip.report": 3.02,
    "neurochip.onchip": 3.1,
    "neurochip.examples": 3.1,
    "neurochip.plots_circuit": 3.08,
    "neurochip.plots": 3.1,
    "neurochip.html_report": 3.15,
    "neurochip.board_links": 3.05,
    "neurochip.board": 3.1,
    "neurochip.board_plots": 3.1,
    "neurochip.neurobench": 3.1,
    "neurochip.studies": 3.2,
    "neurochip.sweep": 3.3,
    "neurochip.cli": 4.0,
    "neurochip.__main__": 4.1,
}


def source_modules() -> dict[str, str]:
    """Every Python module of the package, by dotted name: its source text."""
    out = {}
    for folder, package in ((ROOT / "neurochip", "neurochip"), (ROOT / "emulator", "neurochip.emulator")):
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join((package, *parts))] = path.read_text()
        for path in sorted(folder.rglob("*.pyx")):  # compiled modules: leaves that import nothing of ours
            parts = path.relative_to(folder).with_suffix("").parts
            out[".".join((package, *parts))] = ""
    return out


def _is_package(name: str, modules: dict[str, str]) -> bool:
    return any(other.startswith(name + ".") for other in modules)


def imports_of(name: str, source: str, modules: dict[str, str]) -> set[str]:
    """neurochip modules that ``name`` imports anywhere in its source (resolved to a module of
    ``modules`` where ``from package import module`` names one)."""
    package = name if _is_package(name, modules) or name == "neurochip" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            targets = [f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target
                       for alias in node.names]
        else:
            continue
        for target in targets:
            if target == "neurochip" or target.startswith("neurochip."):
                while target not in modules and "." in target:
                    target = target.rpartition(".")[0]
                if target != name:
                    found.add(target)
    return found


def layer_of(name: str) -> float:
    # "neurochip" places the package's own __init__ only, not everything below it
    best = max((p for p in LAYERS if name == p or (p != "neurochip" and name.startswith(p + "."))), key=len,
               default=None)
    if best is None:
        raise KeyError(name)
    return LAYERS[best]


def violations(modules: dict[str, str]) -> list[str]:
    """Upward imports, cycles and unplaced modules, one sentence each (empty: the layers hold)."""
    out = []
    graph = nx.DiGraph()
    for name, source in modules.items():
        try:
            mine = layer_of(name)
        except KeyError:
            out.append(f"{name}: not placed in a layer (add it to LAYERS and docs/architecture.md)")
            continue
        graph.add_node(name)
        for target in sorted(imports_of(name, source, modules)):
            graph.add_edge(name, target)
            try:
                theirs = layer_of(target)
            except KeyError:
                continue  # reported as unplaced on its own
            if theirs > mine:
                out.append(f"{name} (layer {mine}) imports {target} (layer {theirs}): upward")
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            out.append(f"import cycle among {sorted(component)}")
    return out


def test_every_import_points_down_and_no_cycle():
    modules = source_modules()
    assert len(modules) > 40  # the walk found the package (and the emulator's Python modules)
    assert violations(modules) == []


def test_function_level_upward_import_is_caught():
    modules = source_modules()
    modules["neurochip.energy"] += "\n\ndef _check():\n    from .report import RunRecord\n    return RunRecord\n"
    assert "neurochip.energy (layer 2.2) imports neurochip.report (layer 3.02): upward" in violations(modules)


def test_cycle_inside_a_layer_is_caught():
    modules = source_modules()
    modules["neurochip.network.graph"] += "\n\ndef _f():\n    from .files import load_network\n"
    modules["neurochip.network.files"] += "\n\ndef _g():\n    from . import graph\n"
    assert "import cycle among ['neurochip.network.files', 'neurochip.network.graph']" in violations(modules)


def test_unplaced_module_is_caught():
    modules = source_modules()
    modules["neurochip.utils2"] = "from . import lif\n"
    assert "neurochip.utils2: not placed in a layer (add it to LAYERS and docs/architecture.md)" in violations(modules)


@pytest.mark.parametrize("heavy", ["PySpice", "dask", "distributed", "matplotlib", "networkx", "nir", "scipy"])
def test_import_neurochip_is_light(heavy):
    import subprocess

    code = (
        "import sys, neurochip\n"
        "neurochip.LIFParams; dir(neurochip)\n"
        f"sys.exit(1 if any(m == {heavy!r} or m.startswith({heavy!r} + '.') for m in sys.modules) else 0)\n"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0, f"import neurochip loaded {heavy}"


def test_top_level_api_resolves_every_name():
    import neurochip

    for name in neurochip.__all__:
        assert getattr(neurochip, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        neurochip.nonexistent  # noqa: B018


def test_theory_needs_only_numerics():
    """The closed forms (layer 1) import numpy, SciPy and the standard library, nothing heavier."""
    allowed = set(sys.stdlib_module_names) | {"__future__", "numpy", "scipy", "neurochip"}
    modules = source_modules()
    found = set()
    for name, source in modules.items():
        if name == "neurochip.lif" or name.startswith("neurochip.lif."):
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Import):
                    found |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    found.add((node.module or "").split(".")[0])
    assert found and found <= allowed, sorted(found - allowed)


def test_a_neuron_model_must_implement_the_plug_in_interface():
    """A model that leaves out a hook the engine and the reference call cannot be made."""
    import dataclasses

    from neurochip.models import NeuronModel

    @dataclasses.dataclass(frozen=True)
    class Half(NeuronModel):
        name = "half"

        def kernel_columns(self, arrays):
            return arrays["c_m_farad"][:, None]

    with pytest.raises(TypeError, match="abstract"):
        Half()
