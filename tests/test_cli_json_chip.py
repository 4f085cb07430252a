"""`neurochip chip show`: the [execution] table, in the tables and in --json."""

from __future__ import annotations

import json

import pytest

from neurochip.chip import LATENCY_FIELDS, load_chip
from neurochip.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _table(out: str, title: str) -> str:
    """The text of one printed table, from its title to the next title (or the end)."""
    start = out.index(f"\n{title}")
    nxt = [out.find(f"\n{t}", start + 1) for t in ("mesh", "core", "router", "energy", "execution")]
    ends = [i for i in nxt if i > start]
    return out[start : min(ends) if ends else len(out)]


def test_loihi_shows_its_execution_model_step_and_every_latency_with_its_source(capsys):
    spec = load_chip("loihi")
    out = _run(capsys, "chip", "show", "loihi")
    table = _table(out, "execution")
    assert "time_stepped" in table and "nonzero" in table
    # no fixed step: said, not a number
    assert "step_s" in table and "no fixed step" in table
    for name in LATENCY_FIELDS:
        assert name in table or name[:20] in table
    assert "465 ns" in table and "3.5 ns" in table
    # a word of each latency's source appears
    assert spec.execution.sources["barrier_s"].split()[0] in table


def test_truenorth_latencies_without_a_source_are_marked_assumed(capsys):
    table = _table(_run(capsys, "chip", "show", "truenorth"), "execution")
    assert "1 ms" in table
    assert table.count("assumed") == len(LATENCY_FIELDS)


def test_asynchronous_chip_has_no_step(capsys):
    table = _table(_run(capsys, "chip", "show", "generic"), "execution")
    assert "asynchronous" in table
    assert "barrier_s" not in table


@pytest.mark.parametrize("name", ["loihi", "truenorth", "generic", "dynapse2"])
def test_json_execution_has_the_step_and_a_source_per_latency(capsys, name):
    spec = load_chip(name)
    ex = json.loads(_run(capsys, "chip", "show", name, "--json"))["execution"]
    assert ex["model"] == spec.execution.model
    assert ex["step_s"] == spec.execution.step_s
    if spec.execution.step_s is None:
        assert ex["step_s_note"]
    for field in LATENCY_FIELDS:
        assert ex[field] == getattr(spec.execution, field)
        assert ex["sources"][field] == spec.execution.sources.get(field, "assumed")
