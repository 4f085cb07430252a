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
    for step in ("1. LIF neuron", "2. Silicon neuron", "3. Silicon synapse", "4. Network", "5. Chip", "6. Emulate",
                 "7. Reports"):
        assert step in out
    for name in ("lif_fi.png", "circuit_fi.png", "synapse_fit.png", "energy.png", "traffic.png", "raster.png",
                 "network.npz", "network.nir", "run.npz"):
        assert (tmp_path / name).stat().st_size > 1000, name
    # the printed report lists the synapse fit as the source of the synaptic-event price
    assert "price sources:" in out
    assert "ngspice fit of dpi_synapse at vdd=1.8, v_post=500m, v_w=450m, v_thr=1.65, v_tau=1.6, c_syn=500f: " \
           "energy_per_event_joule" in out
    _check_run_prices(tmp_path / "run.npz")


def _check_run_prices(run_file):
    """The demo's run prices synaptic events with the DPI fit, and its neurons as analog."""
    from neurochip.circuit import fit_synapse
    from neurochip.report import RunRecord, energy_report

    _, data = energy_report(RunRecord.load(run_file))
    dpi = fit_synapse("dpi_synapse")  # the demo's fit, made again: ngspice is deterministic
    assert data["price_joule"]["synaptic_events"] == pytest.approx(dpi.energy_per_event_joule, rel=1e-9)
    assert data["by_operation_joule"]["synaptic_events"] == pytest.approx(
        data["counts"]["synaptic_events"] * dpi.energy_per_event_joule, rel=1e-9)
    assert data["price_source"]["synaptic_events"].startswith("ngspice fit of dpi_synapse at ")
    assert "energy_per_event_joule" in data["price_source"]["synaptic_events"]
    # the neurons are the analog lif_transistor: updates are counted but cost nothing, and it says why
    assert data["counts"]["neuron_updates"] > 0 and data["by_operation_joule"]["neuron_updates"] == 0.0
    assert "analog circuit lif_transistor" in data["price_source"]["neuron_updates"]
    assert "65536 synapse circuits" in data["price_source"]["static"]
