"""Packaging facts: a light import, a compiled core, nothing stray in site-packages."""

from __future__ import annotations

import importlib.resources
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from neurochip import emulator, lif


def test_import_does_not_load_heavy_stages():
    code = (
        "import sys\n"
        "for m in ('PySpice', 'dask', 'distributed', 'matplotlib'): sys.modules[m] = None\n"
        "import neurochip, neurochip.lif, neurochip.cli\n"
        "neurochip.lif.isi(neurochip.LIFParams(), 1e-9)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_emulator_engine_is_one_compiled_module_with_its_stub():
    import ast

    from neurochip.emulator import _engine

    path = Path(_engine.__file__)
    assert path.suffix in (".so", ".pyd")
    stub = path.parent / "_engine.pyi"
    declared = {
        node.targets[0].id if isinstance(node, ast.Assign) else getattr(node, "name", None) or node.target.id
        for node in ast.parse(stub.read_text()).body
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AnnAssign, ast.Assign))
    }
    public = {name for name in dir(_engine) if not name.startswith("_") and name != "np"}
    assert declared == public
    # one extension (the single-neuron kernels are in it too)
    assert [p.name.split(".")[0] for p in path.parent.glob(f"*{path.suffix}")] == ["_engine"]


def test_no_top_level_emulator_or_circuits_module():
    code = "import importlib.util as u; print(u.find_spec('emulator'), u.find_spec('circuits'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert out.stdout.strip() == "None None", out.stdout + out.stderr


def test_circuits_are_package_data():
    root = importlib.resources.files("neurochip.circuits")
    assert root.is_dir()


def test_compiled_dc_neuron_matches_closed_form():
    p = lif.LIFParams(c_m_farad=1e-12, g_leak_siemens=2e-9, e_leak_volt=0.1, v_th_volt=0.5, v_reset_volt=0.0)
    current = 3e-9
    spikes = emulator.dc_spike_times(p, current, duration_s=0.05, v0_volt=p.v_reset_volt)
    period = lif.isi(p, current)
    first = period - p.t_ref_s  # no refractory hold before the first spike
    expected = first + period * __import__("numpy").arange(spikes.size)
    assert spikes.size == int((0.05 - first) // period) + 1
    assert spikes == pytest.approx(expected, rel=1e-9)
