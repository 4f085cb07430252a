"""``neurochip stepped``, in process."""

from __future__ import annotations

import json

import pytest

from neurochip.cli import main
from neurochip.lif import LIFParams
from neurochip.network import FixedInDegree, Network, Population, Projection
from neurochip.network.files import save_network


@pytest.fixture
def net_file(tmp_path):
    p = LIFParams(c_m_farad=200e-12, g_leak_siemens=10e-9, v_th_volt=0.02, v_reset_volt=0.0, e_leak_volt=0.0, t_ref_s=0.0)
    net = Network(
        populations=(Population(name="in", size=20, params=p), Population(name="E", size=60, params=p)),
        projections=(Projection(pre="in", post="E", rule=FixedInDegree(k=5), weight_volt=8e-3),
                     Projection(pre="E", post="E", rule=FixedInDegree(k=5), weight_volt=2e-3)),
        seed=1,
    )
    path = tmp_path / "net.npz"
    save_network(net, path)
    return str(path)


def test_stepped_json(net_file, capsys):
    assert main(["stepped", net_file, "--steps", "200", "--input", "in:50Hz", "--seed", "3", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["execution_model"] == "time_stepped" and rep["steps"] == 200
    assert rep["input_neurons"] == 20 and rep["neurons"] == 60
    assert rep["spikes"] > 0 and rep["neuron_updates_active"] + rep["neuron_updates_inactive"] == 60 * 200
    assert rep["energy"]["by_operation_joule"]["neuron_updates_inactive"] > 0
    assert rep["realtime_met"] is True


def test_stepped_table_and_errors(net_file, capsys):
    assert main(["stepped", net_file, "--steps", "50", "--pace", "1 ms", "--realtime", "500 ns"]) == 0
    out = capsys.readouterr().out
    assert "time per step" in out and "MISSED" in out
    assert main(["stepped", net_file, "--chip", "generic", "--steps", "5", "--dt", "1 ms"]) == 1
    assert "asynchronous" in capsys.readouterr().err
    assert main(["stepped", net_file, "--input", "nope"]) == 1
    assert "POP:RATE" in capsys.readouterr().err
