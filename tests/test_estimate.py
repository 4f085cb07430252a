"""``neurochip estimate``, in process: fit, energy and latency per inference, saturation, metrics."""

from __future__ import annotations

import json

import nir
import numpy as np
import pytest

from neurochip.cli import main


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """Input(2, 8, 8) -> Conv2d(2->5, 3x3, pad 1) -> IF -> SumPool2d(2) -> Flatten -> Affine(80->5) -> IF
    -> Affine(5->2) -> Output: a small spiking CNN with a readout (its Affine's fan-in of 80 is more
    than a DYNAP-SE2 neuron takes)."""
    rng = np.random.default_rng(1)
    nodes = {
        "input": nir.Input(input_type=np.array([2, 8, 8])),
        "conv": nir.Conv2d(input_shape=(8, 8), weight=rng.integers(0, 4, (5, 2, 3, 3)) / 4.0, stride=1, padding=1,
                           dilation=1, groups=1, bias=np.zeros(5)),
        "if1": nir.IF(r=np.ones((5, 8, 8)), v_threshold=np.full((5, 8, 8), 1.125), v_reset=np.zeros((5, 8, 8))),
        "pool": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        "flat": nir.Flatten(input_type={"input": np.array([5, 4, 4])}, start_dim=0),
        "fc": nir.Affine(weight=rng.integers(0, 3, (5, 80)) / 8.0, bias=np.zeros(5)),
        "if2": nir.IF(r=np.ones(5), v_threshold=np.full(5, 1.125), v_reset=np.zeros(5)),
        "head": nir.Affine(weight=rng.normal(size=(2, 5)), bias=np.zeros(2)),
        "output": nir.Output(output_type=np.array([2])),
    }  # fmt: skip
    order = list(nodes)
    g = nir.NIRGraph(nodes=nodes, edges=list(zip(order[:-1], order[1:])), type_check=False)
    path = tmp_path_factory.mktemp("est") / "cnn.nir"
    nir.write(str(path), g)
    return str(path)


def test_estimate_json_fits_and_reports_energy_latency_saturation_and_metrics(model, capsys):
    assert main(["estimate", model, "--chip", "loihi", "--from", "nir", "--steps", "20", "--rate", "0.3 Hz",
                 "--json"]) == 0  # fmt: skip
    d = json.loads(capsys.readouterr().out)
    assert d["fits"] is True and d["model"]["readouts"] == {"output": "head"}
    e = d["energy_per_inference_joule"]
    assert e["total"] == pytest.approx(e["dynamic"] + e["static"], rel=1e-12) and e["dynamic"] > 0 and e["modelled"]
    assert e["dynamic"] == pytest.approx(sum(e["by_operation"].values()), rel=1e-12)
    assert d["latency_per_inference_s"] is not None and d["latency_per_inference_s"] > 0
    assert d["saturation"]["drops"] == 0
    nb = d["neurobench"]
    assert nb["SynapticOperations"]["Effective_ACs"] > 0 and 0 <= nb["ActivationSparsity"] <= 1
    assert d["layers"]["conv"]["shared_weights"] == 5 * 2 * 9 and d["layers"]["pool"]["output_shape"] == [5, 4, 4]


def test_estimate_tables_and_events_input(model, capsys, tmp_path):
    events = tmp_path / "ev.npz"
    np.savez(events, t_s=np.array([0.0, 1.0, 2.0, 3.0]), x=np.array([0, 1, 2, 7]), y=np.array([0, 1, 2, 7]),
             polarity=np.array([0, 1, 0, 1]), width=8, height=8)  # fmt: skip
    assert main(["estimate", model, "--chip", "loihi", "--from", "nir", "--steps", "6", "--input", str(events)]) == 0
    out = capsys.readouterr().out
    for text in ("fits", "energy per inference", "latency per inference", "NeuroBench metrics", "Effective_ACs"):
        assert text in out


def test_estimate_names_the_capacity_that_overflows(model, capsys):
    assert main(["estimate", model, "--chip", "dynapse2", "--from", "nir", "--steps", "3", "--json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["fits"] is False and d["overflow"]["capacity"] == "fan_in_per_neuron"
    assert d["overflow"]["required"] > d["overflow"]["available"] == 64
    assert "over by" in d["overflow"]["message"]


def test_estimate_checks_its_arguments_before_the_work(model, capsys, tmp_path):
    assert main(["estimate", str(tmp_path / "missing.nir"), "--chip", "loihi"]) == 1
    assert "error:" in capsys.readouterr().err
    bad = tmp_path / "bad.npz"
    np.savez(bad, t_s=np.zeros(1))
    assert main(["estimate", model, "--chip", "loihi", "--input", str(bad)]) == 1
    assert "needs t_s and channel" in capsys.readouterr().err
