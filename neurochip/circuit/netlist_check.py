"""Netlist checks before ngspice sees a netlist: the port convention of a body, and elements
whose values or nodes are missing (ngspice would default them and change the circuit).

Used by :mod:`neurochip.circuit.netlist` (a template's body) and :mod:`neurochip.circuit.simulate`
(the rendered netlist).
"""

from __future__ import annotations

import re

from ..errors import ConfigError

__all__ = ["check_elements", "logical_lines"]


_ANALYSIS = re.compile(r"^\s*\.(tran|op|ac|dc|noise|control|endc|end)\b", re.IGNORECASE)


def _check_netlist_body(text: str, where: str, kind: str = "neuron") -> None:
    lines = text.splitlines()
    body = lines[1:]  # the first line of a SPICE file is its title
    for k, line in enumerate(body, start=2):
        m = _ANALYSIS.match(line)
        if m and m.group(1).lower() != "end":
            raise ConfigError(
                f"line {k}: {line.strip()!r}: analysis and control lines are added by the simulator; "
                "remove them (see the port convention in docs/circuits.md)",
                path=where,
            )
    low = "\n".join(_strip_comment(ln) for ln in body if not ln.lstrip().startswith("*")).lower()
    if not re.search(r"^\s*vdd\s", low, re.MULTILINE):
        raise ConfigError("no supply source: the port convention needs a voltage source named VDD", path=where)
    if kind == "synapse":
        if not re.search(r"^\s*vpost\s+post\s", low, re.MULTILINE):
            raise ConfigError(
                "no source 'VPOST post ...': the synapse port convention holds node 'post' at a fixed "
                "voltage with a source named VPOST, through which the synaptic current is measured",
                path=where,
            )
        if not _has_node(low, "pre"):
            raise ConfigError("no node 'pre': the synapse port convention drives the AER pulse on it", path=where)
        return
    for node in ("in", "vm"):
        if not _has_node(low, node):
            raise ConfigError(f"no node {node!r}: the port convention needs nodes 'in' and 'vm'", path=where)


def _strip_comment(line: str) -> str:
    """A netlist line without its ngspice inline comment (``;`` or `` $ ``)."""
    line = line.split(";")[0]
    return re.split(r"\s\$\s|\s\$$", line)[0]


# element letter -> how many node tokens follow its name (X: all tokens but the last before
# the first NAME=VALUE; E/G: 2 with a VALUE= or VOL=/CUR= form, else 4)
_N_NODES = {"r": 2, "c": 2, "l": 2, "v": 2, "i": 2, "d": 2, "b": 2, "f": 2, "h": 2, "w": 2, "e": 4, "g": 4,
            "m": 4, "s": 4, "j": 3, "q": 3, "z": 3, "t": 4, "o": 4, "u": 3}
_NAMES = {"r": "resistor", "c": "capacitor", "l": "inductor"}


def logical_lines(text: str) -> list[tuple[int, str]]:
    """The netlist's statements: continuation lines (``+``) joined, comments dropped.

    Parameters
    ----------
    text : str
        Netlist text; its first line is the title.

    Returns
    -------
    list of (int, str)
        The 1-based number of each statement's first line and the statement.

    Examples
    --------
    >>> logical_lines("* t\\nR1 a b\\n+ 1k ; leak\\n* note\\nC1 a 0 1p")
    [(2, 'R1 a b 1k'), (5, 'C1 a 0 1p')]
    """
    out: list[tuple[int, str]] = []
    for k, raw in enumerate(text.splitlines()[1:], start=2):
        if raw.lstrip().startswith("*") or not raw.strip():
            continue
        line = _strip_comment(raw).strip()
        if line.startswith("+") and out:
            out[-1] = (out[-1][0], out[-1][1] + " " + line[1:].strip())
        elif line:
            out.append((k, line))
    return out


def check_elements(text: str, *, extra_nodes: tuple[str, ...] = ()) -> None:
    """Netlist problems ngspice runs through without a word, each raised with its line.

    ngspice silently gives a resistor without a value 1 mOhm, runs a ``PWL(`` that is never
    closed, and solves a node tied to a single terminal through gmin: each changes the circuit
    that was drawn.

    Parameters
    ----------
    text : str
        Rendered netlist (title first).
    extra_nodes : tuple of str
        Nodes the simulator connects (``"in"`` for the input source): one more terminal each.

    Raises
    ------
    SimulationError
        A resistor, capacitor or inductor without a value; a statement whose ``(`` or ``{``
        is not closed; a node with a single connection (it floats).

    Examples
    --------
    >>> check_elements("* t\\nVDD vdd 0 1.8\\nRL vdd")
    Traceback (most recent call last):
    ...
    neurochip.errors.SimulationError: resistor RL has no value (ngspice would make it 1 mOhm); at: RL vdd
    """
    from ..errors import SimulationError

    degree: dict[str, list[str]] = {n: ["(the simulator's source)"] for n in extra_nodes}
    depth = 0
    for _, line in logical_lines(text):
        tokens = line.split()
        head = tokens[0].lower()
        for open_, close in (("(", ")"), ("{", "}")):
            if line.count(open_) > line.count(close):
                raise SimulationError(f"unclosed '{open_}' (ngspice would read past it)", line=line)
        if head.startswith(".subckt"):
            depth += 1
            continue
        if head.startswith(".ends"):
            depth -= 1
            continue
        if head.startswith(".") or depth:
            continue
        letter = head[0]
        if letter in _NAMES and (len(tokens) < 4 or tokens[3].startswith(("=",))):
            raise SimulationError(
                f"{_NAMES[letter]} {tokens[0]} has no value (ngspice would make it "
                f"{'1 mOhm' if letter == 'r' else '0'})", line=line)
        if letter == "x":
            args = [t for t in tokens[1:] if "=" not in t]
            nodes = args[:-1]
        elif letter in ("e", "g") and re.search(r"(?i)\b(value|vol|cur)\s*=|\btable\b|\bpoly\b", line):
            nodes = tokens[1:3]
        elif letter in _N_NODES:
            nodes = tokens[1:1 + _N_NODES[letter]]
        else:
            continue
        for node in nodes:
            if "=" in node or "(" in node or "{" in node:
                break
            degree.setdefault(node.lower(), []).append(line)
        # a node sensed in an expression (a B-source's v(x)) is used, though it draws no current
        for m in re.finditer(r"(?i)\bv\(\s*([^,)\s]+)\s*(?:,\s*([^)\s]+)\s*)?\)", line):
            for node in m.groups():
                if node:
                    degree.setdefault(node.lower(), []).append(line)
    for node, where in degree.items():
        # a node held by a voltage source alone is defined (an unused supply), not floating
        held = where[0][:1].lower() in "veh" or re.match(r"(?i)^b\S*\s+\S+\s+\S+\s+v\s*=", where[0])
        if node not in ("0", "gnd") and len(where) == 1 and not held:
            raise SimulationError(f"node '{node}' has a single connection: it floats", line=where[0])


def _has_node(low: str, node: str) -> bool:
    return re.search(rf"(?<![\w.#]){node}(?![\w(#])", low) is not None
