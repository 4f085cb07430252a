"""The one ngspice shared-library instance of this process, driven through PySpice.

PySpice's :class:`NgSpiceShared` loads the library and converts the vectors; this wrapper adds
what neurochip needs from it:

- the library is found on Debian-like systems, which ship only ``libngspice.so.0``
  (``NGSPICE_LIBRARY_PATH`` overrides the search);
- ngspice's stderr is collected, not judged line by line (BSIM3 prints "Checking parameters"
  on stderr, which PySpice 1.5 treats as a failure); neurochip decides what is an error and
  raises :class:`~neurochip.errors.SimulationError` with ngspice's own lines;
- ``set num_threads=1``: ngspice's OpenMP threads otherwise spin and slow runs by 10-100x on a
  busy machine;
- each run loads the netlist under a unique title and checks that ngspice really took it (a
  netlist that fails to parse leaves the previous circuit loaded, and ``run`` would silently
  simulate that one).

ngspice keeps one instance per process (global state in the library), so parallel runs need
processes, not threads.
"""

from __future__ import annotations

import ctypes.util
import glob
import itertools
import os
import re
import threading
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import SimulationError

_LOCK = threading.Lock()
_INSTANCE: Any = None
_COUNTER = itertools.count(1)

# stderr/stdout lines that mean the netlist or the run failed
_FATAL = re.compile(
    r"error|can't find|cannot find|could not|unknown|aborted|too small|singular|"
    r"no such|not found|undefined|failed|unable",
    re.IGNORECASE,
)
_BENIGN = re.compile(
    r"^\s*(warning:|note:|checking parameters|using spice|circuit:|reference value|no\. of data|"
    r"doing analysis|initial transient|--|node|----)",
    re.IGNORECASE,
)


def find_library() -> str:
    """Path of ngspice's shared library (``NGSPICE_LIBRARY_PATH`` first).

    Raises
    ------
    SimulationError
        If no library is found, saying which package provides it.
    """
    env = os.environ.get("NGSPICE_LIBRARY_PATH")
    if env:
        return env
    name = ctypes.util.find_library("ngspice")
    if name:
        return name
    patterns = [
        "/usr/lib/x86_64-linux-gnu/libngspice.so*",
        "/usr/lib/aarch64-linux-gnu/libngspice.so*",
        "/usr/lib/*/libngspice.so*",
        "/usr/lib/libngspice.so*",
        "/usr/lib64/libngspice.so*",
        "/usr/local/lib/libngspice.so*",
        "/opt/homebrew/lib/libngspice*.dylib",
        "/usr/local/lib/libngspice*.dylib",
    ]
    for pattern in patterns:
        hits = sorted(glob.glob(pattern))
        if hits:
            return hits[0]
    raise SimulationError(
        "ngspice shared library not found; install it (Debian/Ubuntu: apt-get install libngspice0) "
        "or set NGSPICE_LIBRARY_PATH to the library file"
    )


def available() -> bool:
    """True when ngspice's shared library and PySpice can be loaded in this process."""
    try:
        _instance()
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False
    return True


def _instance() -> Any:
    global _INSTANCE
    if _INSTANCE is not None:
        return _INSTANCE
    import logging

    try:
        from PySpice.Spice.NgSpice.Shared import NgSpiceShared
    except ImportError as exc:  # pragma: no cover - PySpice is a dependency
        raise SimulationError(f"PySpice is not installed: {exc}") from None
    # PySpice logs every ngspice stderr line as an error; the lines are reported through
    # SimulationError instead.
    logging.getLogger("PySpice").setLevel(logging.CRITICAL)

    class _Shared(NgSpiceShared):  # type: ignore[misc, valid-type]
        """NgSpiceShared whose commands never raise on ngspice's chatter."""

        def exec_command(self, command: str, join_lines: bool = True) -> Any:
            self.clear_output()
            rc = self._ngspice_shared.ngSpice_Command(command.encode("ascii"))
            if rc:
                raise SimulationError(f"ngspice refused the command {command!r} (code {rc})")
            return self.stdout if join_lines else list(self._stdout)

    _Shared.LIBRARY_PATH = find_library()
    try:
        ng = _Shared(ngspice_id=0, send_data=False)
    except OSError as exc:
        raise SimulationError(f"cannot load the ngspice library {_Shared.LIBRARY_PATH}: {exc}") from None
    ng.exec_command("set num_threads=1")
    _INSTANCE = ng
    return ng


def _problems(lines: list[str]) -> list[str]:
    return [ln.strip() for ln in lines if ln.strip() and _FATAL.search(ln) and not _BENIGN.match(ln)]


def run(deck_body: str, analysis: list[str], vectors: list[str]) -> dict[str, NDArray[np.float64]]:
    """Load a netlist, run it and return the requested vectors of the new plot.

    Parameters
    ----------
    deck_body : str
        Netlist text without title, analysis and ``.end``.
    analysis : list of str
        Control lines to append (``.options``, sources, ``.tran``, ``.save``).
    vectors : list of str
        ngspice vector names to return (``"time"``, ``"vm"``, ``"vdd#branch"``).

    Raises
    ------
    SimulationError
        With ngspice's own message and the offending line when the netlist does not load or
        the run fails.
    """
    from PySpice.Spice.NgSpice.Shared import ffi

    with _LOCK:
        ng = _instance()
        title = f"neurochip-run-{os.getpid()}-{next(_COUNTER)}"
        lines = [title, *deck_body.splitlines(), *analysis, ".end", ""]
        keep = [ffi.new("char[]", ln.encode("utf8")) for ln in lines] + [ffi.NULL]
        ng.exec_command("destroy all")
        ng.clear_output()
        rc = ng._ngspice_shared.ngSpice_Circ(ffi.new("char *[]", keep))
        out, err = list(ng._stdout), list(ng._stderr)
        bad = _problems(err) + _problems(out)
        loaded = any(title in ln for ln in out)
        if rc or bad or not loaded:
            msg = "\n".join(bad or err or out[-5:])
            raise SimulationError(
                "ngspice could not load the netlist",
                simulator_message=msg,
                line=_offending_line(msg, lines),
            )
        ng.exec_command("run")
        out, err = list(ng._stdout), list(ng._stderr)
        bad = _problems(err) + _problems(out)
        plot = ng.last_plot if ng.plot_names else ""
        try:
            if bad or not plot.startswith(("tran", "op")):
                raise SimulationError(
                    "ngspice run failed", simulator_message="\n".join(bad or err[-5:] or out[-5:])
                )
            return {name: _vector(ng, ffi, f"{plot}.{name}") for name in vectors}
        finally:
            ng.exec_command("destroy all")
            ng.exec_command("remcirc")


def _vector(ng: Any, ffi: Any, name: str) -> NDArray[np.float64]:
    info = ng._ngspice_shared.ngGet_Vec_Info(name.encode("utf8"))
    if info == ffi.NULL or info.v_realdata == ffi.NULL:
        raise SimulationError(f"ngspice produced no vector {name!r}")
    n = info.v_length
    return np.frombuffer(ffi.buffer(info.v_realdata, n * 8), dtype=np.float64).copy()


def _offending_line(message: str, lines: list[str]) -> str | None:
    """The netlist line an ngspice message quotes, if any."""
    low = [ln.strip().lower() for ln in lines]
    for msg_line in message.lower().splitlines():
        for candidate in low:
            if len(candidate) > 3 and not candidate.startswith("*") and candidate in msg_line:
                return lines[low.index(candidate)].strip()
    m = re.search(r"line\s+(?:no\.\s*)?(\d+)", message, re.IGNORECASE)
    if m and int(m.group(1)) - 1 < len(lines):
        return lines[int(m.group(1)) - 1].strip()
    return None
