"""The demo runs the whole pipeline end to end on defaults and writes its files."""

from __future__ import annotations

import pytest
from conftest import require_or_skip

from neurochip.cli import main


@pytest.mark.spice
@pytest.mark.slow
def test_demo_runs_every_stage(tmp_path, capsys):
    from neurochip.circuit import spice_available

    require_or_skip(spice_available(), "ngspice")
    assert main(["demo", "-o", str(tmp_path), "--duration", "0.01"]) == 0
    out = capsys.readouterr().out
    for step in ("1. LIF neuron", "2. Silicon neuron", "3. Network", "4. Chip", "5. Emulate", "6. Reports"):
        assert step in out
    for name in ("lif_fi.png", "circuit_fi.png", "energy.png", "traffic.png", "raster.png", "network.npz",
                 "network.nir", "run.npz"):
        assert (tmp_path / name).stat().st_size > 1000, name
