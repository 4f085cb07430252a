"""The README's Python script runs as written and its numbers check out by hand."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_or_skip

from neurochip.chip import load_chip
from neurochip.circuit import spice_available
from neurochip.energy import OPERATIONS
from neurochip.units import format_si

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_script() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    scripts = [b for b in blocks if "fit_circuit" in b]
    assert len(scripts) == 1, "README.md should hold one script that fits a circuit"
    return scripts[0]


def test_script_is_about_fifteen_lines():
    lines = [line for line in readme_script().splitlines() if line.strip()]
    assert len(lines) <= 20


@pytest.mark.spice
def test_readme_script_runs_and_prints_the_energy_report(tmp_path):
    require_or_skip(spice_available(), "ngspice")
    done = subprocess.run([sys.executable, "-c", readme_script()], capture_output=True, text=True, cwd=tmp_path,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    printed = {line.split()[0] for line in lines}
    assert set(OPERATIONS) <= printed
    # static energy by hand: every core of the preset pays its static power for the 50 ms run
    chip = load_chip("loihi")
    static = chip.n_cores * chip.energy.static_power_per_core_watt * 0.05
    last = lines[-1].replace(",", "").split()
    assert last[1:3] == format_si(static, "J").split()
    assert last[3] == "total" and last[5] == last[2] and float(last[4]) > float(last[1])
