"""``neurochip network info``, in process: tables, JSON, NIR files and errors."""

from __future__ import annotations

import json

import nir
import numpy as np
import pytest

from neurochip.cli import main
from neurochip.lif import LIFParams
from neurochip.network import FixedInDegree, Network, OneToOne, Population, Projection
from neurochip.network.files import save_network
from neurochip.network.nir_io import write_nir

P = LIFParams(c_m_farad=250e-12, g_leak_siemens=12.5e-9, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=0.0)


def _net() -> Network:
    return Network(
        populations=(Population(name="E", size=40, params=P), Population(name="I", size=10, params=P)),
        projections=(
            Projection(pre="E", post="E", rule=FixedInDegree(k=4), weight_volt=1e-4, delay_s=1.5e-3),
            Projection(pre="E", post="I", rule=FixedInDegree(k=8), weight_volt=2e-4, delay_s=1e-3),
            Projection(pre="I", post="E", rule=FixedInDegree(k=2), weight_volt=-5e-4, delay_s=1e-3),
        ),
        seed=2,
    )


def test_info_json_counts_and_traffic(tmp_path, capsys):
    net = _net()
    save_network(net, tmp_path / "net.npz")
    assert main(["network", "info", str(tmp_path / "net.npz"), "--rates", "E=5,I=20 Hz", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["format"] == "npz" and s["n_neurons"] == 50 and s["n_synapses"] == 40 * 4 + 10 * 8 + 40 * 2
    assert s["in_degree"]["min"] == 4 + 2 and s["in_degree"]["max"] == 8
    assert s["delays_s"] == [1e-3, 1.5e-3]
    # spikes/s = 40*5 + 10*20; events/s = sum of rate x out-degree = 5*(160+80) + 20*80
    assert s["traffic"]["spikes_per_s"] == pytest.approx(400.0)
    assert s["traffic"]["synaptic_events_per_s"] == pytest.approx(5 * 240 + 20 * 80)
    pairs = {(p["pre"], p["post"]): p["n_synapses"] for p in s["projections"]}
    assert pairs == {("E", "E"): 160, ("E", "I"): 80, ("I", "E"): 80}


def test_info_tables_and_an_nir_file(tmp_path, capsys):
    graph = nir.NIRGraph.from_list(
        nir.Affine(weight=np.ones((3, 2)), bias=np.zeros(3)),
        nir.LIF(tau=np.full(3, 1e-3), r=np.full(3, 10.0), v_leak=np.zeros(3), v_threshold=np.ones(3)),
    )
    nir.write(str(tmp_path / "g.nir"), graph)
    assert main(["network", "info", str(tmp_path / "g.nir"), "--rates", "10"]) == 0
    out, err = capsys.readouterr()
    assert "neurons" in out and "expected traffic" in out and "50 /s" in out  # 2 relay + 3 LIF neurons
    assert "warning: NIR import assumed: dt_s = 1.0 s: NIR's own convention" in err
    assert main(["network", "info", str(tmp_path / "g.nir"), "--from", "snntorch", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["n_neurons"] == 5 and "dt_s = " not in err  # the profile's dt: nothing assumed of it
    assert main(["network", "info", str(tmp_path / "g.nir"), "--from", "tf"]) == 1
    assert "--from 'tf': must be one of lava-dl, nir, norse, rockpool, sinabs, snntorch" in capsys.readouterr().err
    net = Network(
        populations=(Population(name="a", size=3, params=P), Population(name="b", size=3, params=P)),
        projections=(Projection(pre="a", post="b", rule=OneToOne(), weight_volt=1e-3),),
    )
    write_nir(net, tmp_path / "n.nir")
    assert main(["network", "info", str(tmp_path / "n.nir"), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["n_synapses"] == 3 and err == ""  # neurochip's own NIR: nothing assumed


def test_info_errors(tmp_path, capsys):
    assert main(["network", "info", str(tmp_path / "missing.npz")]) == 1
    assert "missing.npz: file not found" in capsys.readouterr().err
    save_network(_net(), tmp_path / "net.npz")
    assert main(["network", "info", str(tmp_path / "net.npz"), "--rates", "E=5,X=3"]) == 1
    assert "--rates: no population 'X'; the network's populations are E, I" in capsys.readouterr().err
    assert main(["network", "info", str(tmp_path / "net.npz"), "--rates", "E=5"]) == 1
    assert "--rates: no rate for 'I'" in capsys.readouterr().err
    refractory = Network(populations=(Population(name="E", size=4, params=P.replace(t_ref_s=2e-3)),), seed=1)
    save_network(refractory, tmp_path / "ref.npz")
    assert main(["network", "info", str(tmp_path / "ref.npz"), "--rates", "1MHz"]) == 1
    assert "--rates = 1 MHz: above the ceiling 1/t_ref = 500 Hz of population 'E'" in capsys.readouterr().err
    assert main(["network", "info", str(tmp_path / "net.npz"), "--dt", "1ms"]) == 1
    assert "--dt: applies to NIR graphs only" in capsys.readouterr().err
    assert main(["network", "info", str(tmp_path / "net.npz"), "--from", "nir"]) == 1
    assert "--from: applies to NIR graphs only" in capsys.readouterr().err
    assert main(["network", "info", str(tmp_path / "net.npz"), "--rates", "fast"]) == 1
    assert "--rates" in capsys.readouterr().err
