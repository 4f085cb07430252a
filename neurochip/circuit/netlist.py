"""Netlist templates: SPICE text with declared parameters, rendered strictly.

A template is a SPICE file (``NAME.cir``) whose parameter values are placeholders ``@@name``
(or ``@@{name}``), plus a declaration ``NAME.toml`` next to it that lists every parameter with
its unit and default.  Rendering substitutes SI floats written by
:func:`neurochip.units.spice_number`; a missing or undeclared parameter is an error.

``@@`` was chosen as the delimiter because SPICE already gives meaning to ``{expr}`` (parameter
expressions), ``$`` and ``;`` (ngspice inline comments) and a single ``@`` (device parameters
such as ``@m1[id]``).  A literal ``@@`` is written ``@@@@``.

Port convention (every template, and any netlist of your own):

- node ``in``: the input-current port.  The simulator adds ``IIN 0 in ...`` so a positive current
  flows *into* node ``in``.
- node ``vm``: the membrane; spikes are detected on ``v(vm)`` and the passive fit reads it.
- voltage source ``VDD``: the supply; energy is :math:`\\int V_{dd} I_{dd}\\,dt` of this source.
- no analysis lines (``.tran``, ``.op``, ``.control``) and no ``.end``: the simulator adds them.
- ``.include`` / ``.lib`` paths are relative to the netlist's own folder.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .._io import input_errors
from .._spec import load_toml
from ..errors import ConfigError, InvalidParameterError
from ..units import parse_quantity, spice_number
from .netlist_check import _check_netlist_body

__all__ = ["NetlistTemplate", "ParamDecl", "SpiceTemplate", "circuit_kind", "list_circuits", "load_circuit", "load_synapse"]

_PACKAGE = "neurochip.circuits"
#: what a netlist can be; its sidecar's ``kind`` says which (default neuron)
KINDS = ("neuron", "synapse")


class SpiceTemplate(string.Template):
    """:class:`string.Template` with the delimiter ``@@`` (no clash with SPICE syntax).

    Placeholders are ``@@name`` or ``@@{name}``; ``@@@@`` writes a literal ``@@``.  Use
    ``.substitute`` (raises ``KeyError`` on a missing name), never ``.safe_substitute``.

    Parameters
    ----------
    template : str
        SPICE text with placeholders.

    Examples
    --------
    >>> SpiceTemplate("C1 a 0 @@c\\nR1 a b @@{r}k").substitute(c="20f", r="10")
    'C1 a 0 20f\\nR1 a b 10k'
    """

    delimiter = "@@"


def template_identifiers(text: str) -> set[str]:
    """Placeholder names used in a template text (``@@name`` and ``@@{name}``).

    Parameters
    ----------
    text : str
        Template text.

    Returns
    -------
    set of str
        The distinct placeholder names (``@@@@`` escapes are not placeholders).

    Raises
    ------
    ConfigError
        If a ``@@`` is followed by something that is not a name.
    """
    names: set[str] = set()
    for m in SpiceTemplate.pattern.finditer(text):
        named = m.group("named") or m.group("braced")
        if named:
            names.add(named)
        elif m.group("invalid") is not None:
            line_no = text.count("\n", 0, m.start()) + 1
            line = text.splitlines()[line_no - 1]
            raise ConfigError(f"line {line_no}: '@@' not followed by a parameter name: {line.strip()!r}")
    return names


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamDecl:
    """One declared template parameter.

    Parameters
    ----------
    name : str
        Placeholder name in the template.
    unit : str
        SI unit symbol (``"F"``, ``"Ohm"``, ``"V"``, ``"s"``, ``"A"``, ``"m"``, ``""``).
    default : float
        Default value in SI base units.
    description : str
        What the parameter is.
    lif : str
        The LIFParams field this parameter sets by construction (behavioural circuit), or "".

    Raises
    ------
    InvalidParameterError
        If ``name`` is not an identifier or ``default`` is not finite.

    Examples
    --------
    >>> ParamDecl(name="c_m", unit="F", default=1e-12, lif="c_m_farad").default
    1e-12
    """

    name: str
    unit: str
    default: float
    description: str = ""
    lif: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.name):
            raise InvalidParameterError(f"parameter name {self.name!r}: must be an identifier")
        if not math.isfinite(self.default):
            raise InvalidParameterError(f"parameter {self.name}: default {self.default!r} must be finite")


@dataclass(frozen=True, slots=True, kw_only=True)
class NetlistTemplate:
    """A netlist template with its declared parameters.

    Parameters
    ----------
    name : str
        Circuit name (the file stem).
    text : str
        SPICE text with ``@@name`` placeholders (title line first, no analysis, no ``.end``).
    params : dict of str to ParamDecl
        Declared parameters, in declaration order.
    directory : Path
        Folder the netlist lives in; relative ``.include`` paths are resolved against it.
    description : str
        One-line description.
    fit_hints : dict
        Optional hints for the fitter (``probe_current_amp``, ``max_current_amp``), SI floats.
    mismatch : dict
        Optional Monte Carlo declaration (see :mod:`neurochip.circuit.montecarlo`).
    source : str
        Where the template came from (for messages).
    kind : {"neuron", "synapse"}
        What the circuit is, from its sidecar's ``kind`` (default ``"neuron"``); it decides the
        port convention checked: a neuron has nodes ``in`` and ``vm``, a synapse node ``pre``
        and a source ``VPOST`` holding node ``post`` (docs/synapses.md).
    detect : dict
        The sidecar's ``[detect]`` table (spike levels).
    corner : str
        Process corner of the PDK the netlist loads (``.lib pdk:NAME SECTION``), replacing the
        netlist's own section; "" keeps it.  See :mod:`neurochip.circuit.pdk`.
    pdk_seed : int or None
        With a seed (>= 1), the PDK's section with device mismatch on (``tt_mm``) is loaded and
        ngspice draws every device from this seed: one Monte Carlo sample.

    Raises
    ------
    ConfigError
        If placeholders and declarations differ, or the text breaks the port convention of its
        kind (an analysis or control line, no ``VDD`` source, a missing port).

    Examples
    --------
    >>> decls = {"vdd": ParamDecl(name="vdd", unit="V", default=1.8),
    ...          "c_m": ParamDecl(name="c_m", unit="F", default=1e-12),
    ...          "r_leak": ParamDecl(name="r_leak", unit="Ohm", default=1e9)}
    >>> rc = NetlistTemplate(name="rc", params=decls,
    ...                      text="* rc membrane\\nVDD vdd 0 DC @@vdd\\nVIN in vm DC 0\\nCM vm 0 @@c_m\\nRL vm 0 @@{r_leak}\\n")
    >>> print(rc.render({"c_m": "2 pF"}), end="")
    * rc membrane
    VDD vdd 0 DC 1.8
    VIN in vm DC 0
    CM vm 0 2p
    RL vm 0 1g
    """

    name: str
    text: str
    params: dict[str, ParamDecl] = field(default_factory=dict)
    directory: Path = Path(".")
    description: str = ""
    fit_hints: dict[str, float] = field(default_factory=dict)
    mismatch: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    kind: str = "neuron"
    detect: dict[str, Any] = field(default_factory=dict)
    corner: str = ""
    pdk_seed: int | None = None

    def __post_init__(self) -> None:
        used = template_identifiers(self.text)
        declared = set(self.params)
        if used != declared:
            missing = sorted(used - declared)
            unused = sorted(declared - used)
            parts = []
            if missing:
                parts.append(f"placeholders without a declaration: {', '.join(missing)}")
            if unused:
                parts.append(f"declared but not used: {', '.join(unused)}")
            raise ConfigError("; ".join(parts), path=self.source or self.name)
        if self.kind not in KINDS:
            raise ConfigError(f"kind = {self.kind!r}: must be one of {', '.join(KINDS)}", path=self.source or self.name,
                              key="kind")
        _check_netlist_body(self.text, self.source or self.name, self.kind)
        if self.corner or self.pdk_seed is not None:
            _check_corner(self)

    @property
    def pdks(self) -> list[str]:
        """Names of the PDKs whose models the netlist loads (``.lib pdk:NAME SECTION`` lines)."""
        return sorted({m.group("name") for m in _PDK_LIB.finditer(self.text)})

    @property
    def defaults(self) -> dict[str, float]:
        """Default value of every declared parameter (SI floats)."""
        return {k: p.default for k, p in self.params.items()}

    def resolve(self, overrides: Mapping[str, float | str] | None = None) -> dict[str, float]:
        """Defaults updated with ``overrides`` (SI floats or strings such as ``"1pF"``).

        Parameters
        ----------
        overrides : mapping of str to float or str, optional
            Values of declared parameters, SI floats or strings in the parameter's unit.

        Returns
        -------
        dict of str to float
            Every declared parameter's value in SI base units, in declaration order.

        Raises
        ------
        InvalidParameterError
            For an undeclared parameter name or a malformed value.

        Examples
        --------
        >>> decls = {"vdd": ParamDecl(name="vdd", unit="V", default=1.8),
        ...          "c_m": ParamDecl(name="c_m", unit="F", default=1e-12),
        ...          "r_leak": ParamDecl(name="r_leak", unit="Ohm", default=1e9)}
        >>> rc = NetlistTemplate(name="rc", params=decls,
        ...                      text="* rc membrane\\nVDD vdd 0 DC @@vdd\\nVIN in vm DC 0\\nCM vm 0 @@c_m\\nRL vm 0 @@{r_leak}\\n")
        >>> rc.resolve({"c_m": "2 pF"})["c_m"]
        2e-12
        >>> rc.resolve({"c_m": "2 V"})
        Traceback (most recent call last):
        ...
        neurochip.errors.InvalidParameterError: rc.c_m = '2 V': unit 'V' given, expected 'F'
        """
        values = self.defaults
        for key, value in (overrides or {}).items():
            if key not in self.params:
                known = ", ".join(self.params) or "(none)"
                raise InvalidParameterError(f"{self.name}: unknown parameter {key!r}; declared: {known}")
            values[key] = parse_quantity(value, unit=self.params[key].unit or None, name=f"{self.name}.{key}")
        return values

    def render(self, values: Mapping[str, float | str] | None = None) -> str:
        """SPICE text with every placeholder replaced and ``.include`` paths made absolute.

        Parameters
        ----------
        values : mapping of str to float or str, optional
            Parameter values overriding the defaults (SI floats, or strings such as ``"2 pF"``).

        Returns
        -------
        str
            SPICE text, numbers written by :func:`neurochip.units.spice_number` (``2p``,
            ``1meg``), ready for :func:`neurochip.circuit.simulate.simulate`.

        Raises
        ------
        InvalidParameterError
            Unknown parameter or malformed value.
        """
        resolved = self.resolve(values)
        try:
            text = SpiceTemplate(self.text).substitute({k: spice_number(v) for k, v in resolved.items()})
        except KeyError as exc:  # pragma: no cover - guarded by __post_init__
            raise InvalidParameterError(f"{self.name}: missing parameter {exc.args[0]!r}") from None
        return _absolute_includes(_expand_pdk(text, self), self.directory)


#: a netlist's request for a PDK's models: ``.lib pdk:NAME SECTION`` (see :mod:`neurochip.circuit.pdk`)
_PDK_LIB = re.compile(r"(?im)^\s*\.lib\s+pdk:(?P<name>\w+)\s+(?P<section>\w+)\s*$")


def _expand_pdk(text: str, template: NetlistTemplate) -> str:
    """Each ``.lib pdk:NAME SECTION`` line replaced by the lines of the PDK's section.

    The template's ``corner`` replaces the section; its ``pdk_seed`` selects the section with
    mismatch on (``corner + "_mm"``) and seeds ngspice's draw.
    """
    from .pdk import find_pdk, section_lines

    def expand(m: re.Match[str]) -> str:
        try:
            pdk = find_pdk(m.group("name"))
            section = template.corner or m.group("section")
            if template.pdk_seed is not None:
                section = section.removesuffix(pdk.mismatch_suffix) + pdk.mismatch_suffix
            lines = section_lines(pdk.name, section, seed=template.pdk_seed)
        except ConfigError as exc:  # name the netlist and its line, not only the PDK's file
            raise ConfigError(f"{m.group(0).strip()}: {exc}", path=template.source or template.name) from None
        return "\n".join([f"* {pdk.name} models, section {section}", *lines])

    return _PDK_LIB.sub(expand, text)


def _check_corner(template: NetlistTemplate) -> None:
    """A corner or a mismatch seed needs a netlist that loads a PDK, and a corner that PDK has."""
    from .pdk import find_pdk

    where = template.source or template.name
    if not template.pdks:
        raise ConfigError("a process corner or a PDK mismatch seed needs a netlist that loads a PDK's models "
                          "('.lib pdk:NAME SECTION', see docs/circuits.md)", path=where)
    for name in template.pdks:
        pdk = find_pdk(name)
        if template.corner and template.corner not in pdk.corners:
            raise ConfigError(f"corner {template.corner!r}: the {name} PDK's corners are {', '.join(pdk.corners)}",
                              path=where)
    if template.pdk_seed is not None and not (isinstance(template.pdk_seed, int) and template.pdk_seed >= 1):
        raise ConfigError(f"pdk_seed = {template.pdk_seed!r}: ngspice's random seed must be an integer >= 1", path=where)


def _absolute_includes(text: str, directory: Path) -> str:
    def fix(m: re.Match[str]) -> str:
        path = m.group("path").strip("'\"")
        p = Path(path)
        if not p.is_absolute():
            p = (directory / p).resolve()
        return f"{m.group('cmd')} {p}{m.group('rest')}"

    return re.sub(
        r"^(?P<cmd>\s*\.(?:include|inc|lib))\s+(?P<path>\S+)(?P<rest>.*)$",
        fix,
        text,
        flags=re.IGNORECASE | re.MULTILINE,
    )


def _strip_end(text: str) -> str:
    out = []
    for line in text.splitlines():
        if re.match(r"^\s*\.end\s*$", line, re.IGNORECASE):
            break
        out.append(line)
    return "\n".join(out) + "\n"


def _decls_from_toml(data: dict[str, Any], source: str) -> dict[str, ParamDecl]:
    params: dict[str, ParamDecl] = {}
    table = data.get("params", {})
    if not isinstance(table, dict):
        raise ConfigError("must be a table of parameters", path=source, key="params")
    for name, entry in table.items():
        key = f"params.{name}"
        if not isinstance(entry, dict) or "default" not in entry:
            raise ConfigError("expected a table with 'unit' and 'default'", path=source, key=key)
        unit = str(entry.get("unit", ""))
        try:
            default = parse_quantity(entry["default"], unit=unit or None, name=key)
            params[name] = ParamDecl(
                name=name,
                unit=unit,
                default=default,
                description=str(entry.get("description", "")),
                lif=str(entry.get("lif", "")),
            )
        except InvalidParameterError as exc:
            raise ConfigError(str(exc), path=source, key=key) from None
    return params


def _hints_from_toml(data: dict[str, Any], source: str) -> dict[str, float]:
    hints: dict[str, float] = {}
    for key, value in data.get("fit", {}).items():
        try:
            hints[key] = parse_quantity(value, name=f"fit.{key}")
        except InvalidParameterError as exc:
            raise ConfigError(str(exc), path=source, key=f"fit.{key}") from None
    return hints


def load_template(cir: Path, toml: Path | None = None) -> NetlistTemplate:
    """Read a netlist file and its parameter declaration (``same-stem.toml``, optional).

    Parameters
    ----------
    cir : Path
        The netlist (a trailing ``.end`` and anything after it are dropped).
    toml : Path, optional
        The declaration; default: the netlist's path with suffix ``.toml`` (no declaration
        when that file does not exist).

    Returns
    -------
    NetlistTemplate

    Raises
    ------
    ConfigError
        When a file cannot be read, the declaration is malformed, or placeholders and
        declarations differ.
    """
    cir = Path(cir)
    try:
        with input_errors(cir, "a SPICE netlist (text)"):
            text = _strip_end(cir.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read netlist: {exc.strerror}", path=str(cir)) from None
    toml = Path(toml) if toml is not None else cir.with_suffix(".toml")
    if not toml.exists() and template_identifiers(text):
        raise ConfigError(
            f"placeholders {', '.join('@@' + n for n in sorted(template_identifiers(text)))} need a sidecar "
            f"declaring them, and there is no {toml.name} next to the netlist",
            path=str(cir),
        )
    data: dict[str, Any] = load_toml(toml) if toml.exists() else {}
    return NetlistTemplate(
        name=cir.stem,
        text=text,
        params=_decls_from_toml(data, str(toml)),
        directory=cir.resolve().parent,
        description=str(data.get("description", "")),
        fit_hints=_hints_from_toml(data, str(toml)),
        mismatch=dict(data.get("mismatch", {})),
        source=str(cir),
        kind=_kind_from_toml(data, str(toml)),
        detect=_detect_from_toml(data, str(toml)),
    )


#: keys of a sidecar's ``[detect]`` table (spike detection, see :class:`~neurochip.circuit.SpikeDetector`)
DETECT_KEYS = ("threshold_volt", "reset_volt", "high_fraction", "low_fraction")


def _detect_from_toml(data: dict[str, Any], source: str) -> dict[str, Any]:
    table = data.get("detect", {})
    if not isinstance(table, dict):
        raise ConfigError("must be a table", path=source, key="detect")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key not in DETECT_KEYS:
            raise ConfigError(f"unknown key; expected one of {', '.join(DETECT_KEYS)}", path=source, key=f"detect.{key}")
        if key in ("threshold_volt", "reset_volt") and isinstance(value, str) and re.fullmatch(r"[A-Za-z_]\w*", value):
            out[key] = value  # a parameter name, resolved with the run's values
            continue
        try:
            out[key] = parse_quantity(value, unit="V" if key.endswith("volt") else None, name=f"detect.{key}")
        except InvalidParameterError as exc:
            raise ConfigError(str(exc), path=source, key=f"detect.{key}") from None
    return out


def _kind_from_toml(data: dict[str, Any], source: str) -> str:
    kind = data.get("kind", "neuron")
    if kind not in KINDS:
        raise ConfigError(f"kind = {kind!r}: must be one of {', '.join(KINDS)}", path=source, key="kind")
    return str(kind)


def list_circuits() -> list[str]:
    """Names of the netlist templates shipped with neurochip.

    Returns
    -------
    list of str
        Sorted names, each loadable with :func:`load_circuit`.

    Examples
    --------
    >>> list_circuits()
    ['axon_hillock', 'dpi_synapse', 'lif_behavioral', 'lif_behavioral_syn', 'lif_transistor', 'lif_transistor_dpi', 'sky130_lif', 'syn_behavioral']
    """
    root = resources.files(_PACKAGE)
    return sorted(p.name[:-4] for p in root.iterdir() if p.name.endswith(".cir"))


def load_circuit(name_or_path: str | Path) -> NetlistTemplate:
    """A shipped template by name (``"lif_behavioral"``) or a netlist file of your own.

    Parameters
    ----------
    name_or_path : str or Path
        A name from :func:`list_circuits`, or the path of a ``.cir`` file (read with the
        ``.toml`` declaration beside it, if any).

    Returns
    -------
    NetlistTemplate

    Raises
    ------
    ConfigError
        Unknown name / unreadable file, naming the shipped circuits.

    Examples
    --------
    >>> lif = load_circuit("lif_behavioral")
    >>> lif.params["c_m"].default, lif.params["c_m"].lif, lif.params["t_ref"].unit
    (1e-12, 'c_m_farad', 's')
    >>> load_circuit("nosuch")
    Traceback (most recent call last):
    ...
    neurochip.errors.ConfigError: unknown circuit 'nosuch'; shipped circuits: axon_hillock, dpi_synapse, lif_behavioral, lif_behavioral_syn, lif_transistor, lif_transistor_dpi, sky130_lif, syn_behavioral
    """
    text = str(name_or_path)
    if text in list_circuits():
        root = resources.files(_PACKAGE)
        with resources.as_file(root / f"{text}.cir") as cir:
            return load_template(Path(cir))
    path = Path(text)
    if path.suffix or path.exists() or "/" in text:
        if not path.exists():
            raise ConfigError("no such netlist file", path=text)
        return load_template(path)
    raise ConfigError(f"unknown circuit {text!r}; shipped circuits: {', '.join(list_circuits())}")


def circuit_kind(name_or_path: str | Path) -> str:
    """What a circuit is: the ``kind`` its sidecar declares.

    Parameters
    ----------
    name_or_path : str or Path
        A shipped circuit name or a netlist path.

    Returns
    -------
    str
        ``"neuron"`` (the default) or ``"synapse"``.

    Raises
    ------
    ConfigError
        Unknown circuit, a ``kind`` that is neither, or a netlist that breaks its kind's ports.

    Examples
    --------
    >>> circuit_kind("lif_transistor"), circuit_kind("dpi_synapse")
    ('neuron', 'synapse')
    """
    return load_circuit(name_or_path).kind


def load_synapse(name_or_path: str | Path) -> NetlistTemplate:
    """A synapse template: :func:`load_circuit`, refusing any other kind.

    Parameters
    ----------
    name_or_path : str or Path
        A shipped synapse name (``"dpi_synapse"``) or a synapse netlist path.

    Returns
    -------
    NetlistTemplate
        With ``kind == "synapse"``.

    Raises
    ------
    ConfigError
        Unknown circuit, a sidecar that does not declare ``kind = "synapse"``, or a netlist that
        breaks the synapse port convention.

    Examples
    --------
    >>> load_synapse("syn_behavioral").kind
    'synapse'
    """
    template = load_circuit(name_or_path)
    if template.kind != "synapse":
        raise ConfigError(
            f'{template.name} is not declared a synapse: its sidecar needs kind = "synapse"',
            path=str(Path(template.source).with_suffix(".toml")) if template.source else template.name, key="kind",
        )
    return template
