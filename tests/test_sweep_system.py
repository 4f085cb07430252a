"""Sweeps over boards of chips: chip count, board topology (mesh size, another system preset or
file) and partitioner as sweep axes, each point run by ``run_on_board``; the table's inter-chip
figures checked against closed forms and against a count made by hand from the spikes and the
mapping, and the documented example's table against a run of it."""

from __future__ import annotations

import dataclasses
import math
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest

from neurochip.board import run_on_board
from neurochip.board_mapping import BoardMappingOptions
from neurochip.chip import MeshSpec, load_chip
from neurochip.cli import main
from neurochip.errors import ConfigError
from neurochip.examples import ei_network
from neurochip.lif import LIFParams
from neurochip.mapping import network_csr
from neurochip.sweep import load_sweep, read_table, run_sweep, sweep_from_dict
from neurochip.sweep.board import BOARD_COLUMNS, system_spec
from neurochip.sweep.point import OUTPUT_COLUMNS, run_point

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "boards.toml"
# 256 neurons, 16 per core: the 16 cores of the split below are filled exactly
NET = {"network.n_exc": 192, "network.n_inh": 64, "network.k_exc": 20, "network.k_inh": 5, "core.neurons": 16}
SPLIT = {1: (4, 4), 2: (4, 2), 4: (2, 2), 8: (2, 1)}  # chips -> cores per chip (width, height)
DURATION = 0.02


def split_sweep(**extra) -> dict:
    return {"fixed": {"system": "spinn5", **NET, "run.duration_s": DURATION, **extra},
            "zip": {"system.n_chips": list(SPLIT), "mesh.width": [w for w, _ in SPLIT.values()],
                    "mesh.height": [h for _, h in SPLIT.values()]}}  # fmt: skip


@pytest.fixture(scope="module")
def split_rows(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "split.csv"
    summary = run_sweep(sweep_from_dict(split_sweep()), out, n_workers=0, progress=False)
    assert summary.failed == []
    return {int(r["system.n_chips"]): r for r in read_table(out)}


def hand_count(n_chips: int) -> tuple[int, int, np.ndarray]:
    """Inter-chip packets and link crossings of the split point on ``n_chips`` chips, by hand."""
    w, h = SPLIT[n_chips]
    preset = load_chip("spinnaker")
    chip = preset.replace(mesh=MeshSpec(width=w, height=h), core=dataclasses.replace(preset.core, neurons=16))
    system = system_spec({"": "spinn5", "n_chips": n_chips}, chip)
    # the network and the drive of the point (its defaults: neurochip.sweep.point)
    net, drive = ei_network(LIFParams(), n_exc=192, n_inh=64, k_exc=20, k_inh=5)
    bm, result = run_on_board(net, system, duration_s=DURATION, inputs=drive, seed=1, options=BoardMappingOptions())
    indptr, indices = network_csr(net)
    hops = system.hop_matrix()
    packets = crossings = 0
    for i, s in enumerate(result.spike_counts.tolist()):
        own = int(bm.neuron_chip[i])
        others = set(bm.neuron_chip[indices[indptr[i]:indptr[i + 1]]].tolist()) - {own}
        packets += s * len(others)
        crossings += s * sum(int(hops[own, d]) for d in others)
    return packets, crossings, result.spike_counts


def test_a_board_point_has_the_chip_columns_then_the_board_columns():
    row = run_point({"system": "spinn5", "system.n_chips": 2, **NET, "mesh.width": 4, "mesh.height": 2,
                     "run.duration_s": DURATION})  # fmt: skip
    assert list(row) == [*OUTPUT_COLUMNS, *BOARD_COLUMNS]
    assert row["status"] == "ok" and row["n_chips"] == 2 and row["n_cores"] == 16 and not row["routed"]
    parts = row["energy_dynamic_joule"] + row["energy_static_joule"]
    assert row["energy_total_joule"] == pytest.approx(parts, rel=1e-12)
    assert row["multichip_overhead_joule"] == pytest.approx(
        row["energy_off_chip_joule"] + row["energy_interface_static_joule"], rel=1e-12)


def test_chip_count_sweep_against_closed_forms(split_rows):
    assert sorted(split_rows) == [1, 2, 4, 8]
    for n, r in split_rows.items():
        assert r["status"] == "ok"
        # 256 neurons fill 16 cores of 16: every one of the n chips holds neurons
        assert (r["n_chips"], r["chips_used"], r["n_cores"], r["cores_used"]) == (n, n, 16, 16)
        # every chip powered, 16 cores x 22.5 mW whatever the split; spinn5's ports draw nothing
        assert r["energy_static_joule"] == pytest.approx(16 * 22.5e-3 * DURATION, rel=1e-12)
        assert r["energy_interface_static_joule"] == 0.0
        # each crossing is one 0.8 nJ router pass; a packet crosses at least one link
        assert r["energy_off_chip_joule"] == pytest.approx(r["link_crossings"] * 0.8e-9, rel=1e-12)
        assert r["link_crossings"] >= r["inter_chip_packets"]
    one = split_rows[1]
    # one chip: no inter-chip traffic, no link, no overhead
    assert one["inter_chip_packets"] == 0 and one["link_crossings"] == 0
    assert one["link_utilisation_max"] == 0.0 and one["multichip_overhead_joule"] == 0.0
    # two chips share one link: every packet crosses it once
    two = split_rows[2]
    assert two["inter_chip_packets"] > 0 and two["link_crossings"] == two["inter_chip_packets"]
    assert two["mean_hops"] == 1.0
    # utilisation of the busiest direction: its packets x 40 bit / 250 Mbit/s / duration, at most
    # all of the packets on one direction
    assert 0 < two["link_utilisation_max"] <= two["inter_chip_packets"] * 40 / 2.5e8 / DURATION + 1e-15


@pytest.mark.parametrize("n_chips", [2, 4])
def test_inter_chip_packets_equal_the_hand_count(split_rows, n_chips):
    packets, crossings, spikes = hand_count(n_chips)
    r = split_rows[n_chips]
    assert r["spikes"] == int(spikes.sum())
    assert r["inter_chip_packets"] == packets and r["link_crossings"] == crossings


def test_boards_with_the_same_hop_matrix_carry_the_same_traffic(tmp_path):
    # spinn5 cut to 2 chips, the same as a 2 x 1 mesh, and a system file of a 2 x 1 mesh: one link
    board = tmp_path / "pair.toml"
    board.write_text('name = "pair"\nchip = "spinnaker"\nn_chips = 2\n[topology]\nkind = "mesh"\nwidth = 2\nheight = 1\n'
                     '[link]\nlatency_s = "200 ns"\nbit_rate_hz = 2.5e8\npacket_bits = 40\nbuffer_depth = 16\n'
                     'energy_per_packet_joule = "0.8 nJ"\n')  # fmt: skip
    # the links counted on all three (a mesh board would emulate them; a graph cannot)
    base = {**NET, "mesh.width": 4, "mesh.height": 2, "run.duration_s": DURATION, "run.route": False}
    rows = [run_point({**base, "system": "spinn5", "system.n_chips": 2}),
            run_point({**base, "system": "spinn5", "system.topology.width": 2, "system.topology.height": 1}),
            run_point({**base, "system": str(board)})]  # fmt: skip
    for key in ("spikes", "inter_chip_packets", "link_crossings", "link_utilisation_max", "energy_off_chip_joule"):
        assert rows[0][key] == rows[1][key] == rows[2][key], key


def test_partitioner_and_link_axes_reach_the_board():
    base = {"system": "spinn5", "system.n_chips": 4, **NET, "mesh.width": 2, "mesh.height": 2, "run.duration_s": DURATION}
    greedy, block = run_point({**base, "board.partitioner": "greedy"}), run_point({**base, "board.partitioner": "block"})
    assert greedy["spikes"] == block["spikes"]  # the run does not depend on where the neurons sit
    # a link half as fast is busy twice as long with the same packets
    slow = run_point({**base, "board.partitioner": "greedy", "system.link.bit_rate_hz": 1.25e8})
    assert slow["inter_chip_packets"] == greedy["inter_chip_packets"]
    assert slow["link_utilisation_max"] == pytest.approx(2 * greedy["link_utilisation_max"], rel=1e-12)
    # an energy per bit replaces the preset's energy per packet: 40 bits x 10 pJ per crossing
    per_bit = run_point({**base, "system.link.energy_per_bit_joule": "10 pJ"})
    assert per_bit["energy_off_chip_joule"] == pytest.approx(per_bit["link_crossings"] * 400e-12, rel=1e-12)


@pytest.mark.parametrize(("table", "message"), [
    ({"grid": {"system": ["nosuch"]}}, r"s\.toml: grid\.system: system = 'nosuch': no system preset"),
    ({"fixed": {"system": "spinn5"}, "grid": {"system.n_chips": [2, 60]}},
     r"s\.toml: grid\.system\.n_chips: system\.n_chips = 60: system 'spinn5' has 48 chips"),
    ({"grid": {"system.n_chips": [2]}}, r"grid\.system\.n_chips: system\.n_chips given but no 'system'"),
    ({"fixed": {"system": "spinn5"}, "grid": {"board.partitioner": ["metis"]}},
     r"grid\.board\.partitioner: board\.partitioner = 'metis': must be one of"),
    ({"fixed": {"system": "nahuku"}, "zip": {"system.topology.width": [3], "system.n_chips": [4]}},
     r"zip\.system\.n_chips: system\.n_chips = 4: a 3 x 4 mesh holds 12 chips"),
    ({"fixed": {"system": "spinn5"}, "grid": {"system.link.bit_rate_hz": [-1]}},
     r"grid\.system\.link\.bit_rate_hz: system\.link\.bit_rate_hz = -1\.0: must be > 0"),
    ({"fixed": {"system": "spinn5", "run.route": "yes"}, "grid": {"system.n_chips": [2]}},
     r"fixed\.run\.route: run\.route = 'yes': must be true or false"),
])  # fmt: skip
def test_bad_system_axes_name_the_file_and_key(table, message):
    with pytest.raises(ConfigError, match=message):
        sweep_from_dict(table, source="s.toml")


def _documented_rows() -> list[list[str]]:
    """The rows of the board sweep's table in docs/sweeps.md."""
    text = (ROOT / "docs" / "sweeps.md").read_text()
    section = text[text.index("## Sweeps over boards"):]
    table = re.search(r"\n(\| partitioner .*?)\n\n", section, flags=re.S).group(1)
    return [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[2:]]


def _documented_commands() -> list[str]:
    """The ``neurochip`` commands of the board sweep's section of docs/sweeps.md."""
    text = (ROOT / "docs" / "sweeps.md").read_text()
    section = text[text.index("## Sweeps over boards"):]
    commands, fence = [], None  # fence: the language of the open block, None outside one
    for line in section.splitlines():
        if line.startswith("```"):
            fence = None if fence is not None else line[3:]
        elif fence == "" and line.startswith("neurochip "):
            commands.append(line)
    return commands


def test_the_documented_board_sweep_runs_as_shown(tmp_path, monkeypatch, capsys):
    assert len(load_sweep(EXAMPLE).points()) == 8
    shutil.copytree(ROOT / "docs" / "examples", tmp_path / "docs" / "examples")
    monkeypatch.chdir(tmp_path)
    commands = _documented_commands()
    assert commands[0] == "neurochip sweep docs/examples/boards.toml --workers 0 -o boards.csv"
    for command in commands:  # as written, in order, in one folder
        assert main(shlex.split(command)[1:]) == 0, command
    capsys.readouterr()
    assert (tmp_path / "overhead.png").stat().st_size > 0
    rows = {(r["board.partitioner"], int(r["system.n_chips"])): r for r in read_table(tmp_path / "boards.csv")}
    shown = _documented_rows()
    assert len(shown) == 8
    for part, chips, used, packets, crossings, hops, util, overhead, share in shown:
        r = rows[part, int(chips)]
        assert (r["chips_used"], r["inter_chip_packets"], r["link_crossings"]) == (int(used), int(packets.replace(",", "")),
                                                                                   int(crossings.replace(",", "")))
        assert f"{r['mean_hops']:.2f}" == hops and f"{r['link_utilisation_max']:.4f}" == util
        assert f"{r['multichip_overhead_joule'] * 1e6:.2f} uJ" == overhead
        assert f"{r['multichip_overhead_fraction'] * 100:.3f} %" == share


def test_run_route_picks_the_link_model_of_a_mesh_board():
    """On a mesh board run.route (default true) emulates the links: a 2 x 1 board's packets are
    then one per (spike, destination core) and timed; false counts one per destination chip."""
    # 16 cores of 16 neurons per chip: the 256 neurons fill exactly the 2 chips
    base = {**NET, "mesh.width": 4, "mesh.height": 4, "run.duration_s": DURATION, "system": "dynapse2-x4",
            "system.topology.width": 2, "system.topology.height": 1, "board.fill": 0.5}  # fmt: skip
    emulated, counted = run_point(base), run_point({**base, "run.route": False})
    assert emulated["status"] == counted["status"] == "ok"
    assert emulated["routed"] and not counted["routed"]
    assert emulated["drops"] == 0 and emulated["latency_max_s"] >= emulated["latency_mean_s"] > 0
    assert math.isnan(counted["drops"]) and math.isnan(counted["latency_max_s"])
    # a packet per destination core is at least one per destination chip
    assert emulated["inter_chip_packets"] >= counted["inter_chip_packets"] > 0
