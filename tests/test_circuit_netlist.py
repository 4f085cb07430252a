"""Netlist templates: declared parameters, strict rendering, port convention (no ngspice needed)."""

from __future__ import annotations

import re
import sys

import pytest

from neurochip.circuit.netlist import (
    NetlistTemplate,
    ParamDecl,
    SpiceTemplate,
    list_circuits,
    load_circuit,
    load_template,
    template_identifiers,
)
from neurochip.errors import ConfigError, InvalidParameterError
from neurochip.units import spice_number


def test_shipped_circuits_listed():
    assert {"lif_behavioral", "lif_transistor"} <= set(list_circuits())


@pytest.mark.parametrize("name", ["lif_behavioral", "lif_transistor"])
def test_placeholders_equal_declared_parameters(name):
    t = load_circuit(name)
    assert template_identifiers(t.text) == set(t.params)
    assert t.params  # a template without parameters would make the check vacuous


@pytest.mark.parametrize("name", ["lif_behavioral", "lif_transistor"])
def test_render_writes_spice_numbers_and_absolute_includes(name):
    t = load_circuit(name)
    text = t.render()
    assert "@@" not in text
    for line in text.splitlines():
        if line.lower().startswith(".include"):
            path = line.split(None, 1)[1]
            assert path.startswith("/")
    # every default value appears in SPICE notation (never 'M' for mega)
    assert spice_number(t.defaults["c_m"]) in text
    assert not re.search(r"\d+(\.\d+)?M\b", text)


def test_render_override_and_mega_suffix():
    t = load_circuit("lif_behavioral")
    text = t.render({"r_leak": "2 GOhm", "c_m": 2e-12})
    assert re.search(r"^RL vm el 2g$", text, re.MULTILINE)
    assert re.search(r"^CM vm 0 2p$", text, re.MULTILINE)
    text = t.render({"r_leak": 5e6})
    assert re.search(r"^RL vm el 5meg$", text, re.MULTILINE)


def test_unknown_parameter_rejected():
    t = load_circuit("lif_behavioral")
    with pytest.raises(InvalidParameterError, match="unknown parameter 'c_mem'"):
        t.render({"c_mem": 1e-12})
    with pytest.raises(InvalidParameterError, match="c_m"):
        t.render({"c_m": "1 pV"})


def test_substitute_is_strict():
    with pytest.raises(KeyError):
        SpiceTemplate("R1 a b @@r").substitute({})
    assert SpiceTemplate("B1 a 0 V={@@{g}*2} @@@@").substitute({"g": "1"}) == "B1 a 0 V={1*2} @@"


def _write(tmp_path, body, toml=None):
    cir = tmp_path / "mine.cir"
    cir.write_text(body)
    if toml is not None:
        (tmp_path / "mine.toml").write_text(toml)
    return cir


BODY = "* my neuron\nVDD vdd 0 DC 1.8\nVIN in vm DC 0\nCM vm 0 @@c\nRL vm 0 1g\n"


def test_undeclared_placeholder_named(tmp_path):
    cir = _write(tmp_path, BODY)
    with pytest.raises(ConfigError, match="placeholders @@c need a sidecar declaring them, and there is no mine.toml"):
        load_template(cir)
    cir.with_suffix(".toml").write_text('[params.x]\nunit = "V"\ndefault = 0\n')
    with pytest.raises(ConfigError, match="placeholders without a declaration: c"):
        load_template(cir)


def test_port_check_ignores_comments(tmp_path):
    cir = _write(tmp_path, "* my neuron\n* node vm is the membrane\nVDD vdd 0 DC 1.8\nVIN in mem DC 0\nCM mem 0 1p\n")
    with pytest.raises(ConfigError, match="no node 'vm'"):
        load_template(cir)


def test_declared_but_unused_named(tmp_path):
    toml = '[params.c]\nunit = "F"\ndefault = "1 pF"\n[params.x]\nunit = "V"\ndefault = 0\n'
    cir = _write(tmp_path, BODY, toml)
    with pytest.raises(ConfigError, match="declared but not used: x"):
        load_template(cir)


def test_user_netlist_loads(tmp_path):
    toml = '[params.c]\nunit = "F"\ndefault = "1 pF"\n'
    cir = _write(tmp_path, BODY + ".end\n", toml)
    t = load_circuit(str(cir))
    assert t.defaults == {"c": 1e-12}
    assert ".end" not in t.text


def test_port_convention_enforced(tmp_path):
    with pytest.raises(ConfigError, match="VDD"):
        NetlistTemplate(name="x", text="* t\nVIN in vm DC 0\nC1 vm 0 1p\n")
    with pytest.raises(ConfigError, match="'in'"):
        NetlistTemplate(name="x", text="* t\nVDD vdd 0 1.8\nC1 vm 0 1p\n")
    with pytest.raises(ConfigError, match=r"line 4: '.tran 1u 1m'"):
        NetlistTemplate(name="x", text="* t\nVDD vdd 0 1.8\nVIN in vm 0\n.tran 1u 1m\n")


def test_bad_delimiter_use_named():
    with pytest.raises(ConfigError, match="line 2"):
        template_identifiers("* t\nR1 a b @@ 1k\n")


def test_param_decl_validates():
    with pytest.raises(InvalidParameterError, match="identifier"):
        ParamDecl(name="1x", unit="V", default=0.0)


def test_unknown_circuit_lists_shipped():
    with pytest.raises(ConfigError, match="lif_behavioral"):
        load_circuit("nosuch")


def test_import_neurochip_does_not_import_engines():
    import subprocess

    code = (
        "import sys; sys.modules['PySpice'] = None; sys.modules['dask'] = None; "
        "sys.modules['matplotlib'] = None; import neurochip, neurochip.circuit, neurochip.sweep, "
        "neurochip.circuit.montecarlo; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr
