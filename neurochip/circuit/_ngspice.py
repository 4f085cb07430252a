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
processes, not threads.  Some netlist errors (a malformed ``{expression}``, for one) leave the
library in a state it "cannot recover" from, and it may crash the process when it exits.  So by
default the library does not run in the caller's process but in a helper process that this
module starts on first use and restarts after such an error: ngspice trouble never kills the
caller.  ``NEUROCHIP_NGSPICE_INPROCESS=1`` runs it in-process instead (that is what the helper
process itself does).  The helper is a plain subprocess, so it also starts inside Dask workers.
"""

from __future__ import annotations

import atexit
import ctypes.util
import glob
import itertools
import os
import re
import shutil
import tempfile
import threading
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import SimulationError

_LOCK = threading.Lock()
_INSTANCE: Any = None
_BROKEN: str | None = None  # set when the in-process library cannot recover
_SERVER: Any = None
_COUNTER = itertools.count(1)
# What ngspice prints, classified.  Loading: any of _FATAL that is not _BENIGN stops; the cause
# line reported is the first that matches _CAUSE (else the first problem line).  Running: _RUN_FATAL
# ends the run; _RECOVERED lines are ngspice trying harder (gmin or source stepping after a
# "singular matrix"), reported as warnings when the run still reaches its end; _ALTERED lines mean
# ngspice changed the circuit to make it run (a value set to a default), which is an error.
_RUN_FATAL = re.compile(
    r"aborted|too small|op failed|no convergence|^\s*error|cannot recover|simulation interrupted", re.IGNORECASE
)
_RECOVERED = re.compile(r"singular|gmin|source step|supplies reduced|transient op", re.IGNORECASE)
_ALTERED = re.compile(r"set to|using default|defaulted|no value|zero value|too low|to low", re.IGNORECASE)
# a parameter of a foundry's model card that BSIM4 clamps at load (sky130's ff corner: "A2 = 1.0885 is
# larger than 1. A2 is set to 1 and A1 is set to 0"): the PDK's model, not the netlist, changed; a warning
_MODEL_CLAMP = re.compile(r"\bA2 = \S+ is larger than 1\b", re.IGNORECASE)
_FATAL_STATE = re.compile(r"cannot recover|awaits to be detached", re.IGNORECASE)
_CAUSE = re.compile(
    r"can't find|cannot find|could not find|syntax error|expression err|unknown|undefined|not found|no such|"
    r"too few|unable|timestep too small|no convergence|aborted|op failed|singular",
    re.IGNORECASE,
)

# stderr/stdout lines that mean the netlist or the run failed
_FATAL = re.compile(
    r"error|can't find|cannot find|could not|unknown|aborted|too small|singular|"
    r"no such|not found|undefined|failed|unable|err:|cannot compute|please check",
    re.IGNORECASE,
)
_BENIGN = re.compile(
    r"^\s*(warning:|note:|checking parameters|using spice|circuit:|reference value|no\. of data|"
    r"doing analysis|initial transient|--|node|----)",
    re.IGNORECASE,
)


def cause_line(lines: list[str]) -> str:
    """The one line of an ngspice log that says why it failed.

    Parameters
    ----------
    lines : list of str
        ngspice's output lines, in order.

    Returns
    -------
    str
        The first line naming a cause (a missing model, a syntax error, a step too small...),
        else the first line that looks like an error, else the last non-empty line; stripped.

    Examples
    --------
    >>> cause_line(["Error on line 5 or its substitute:", "m1 vm vm 0 0 nfoo", "could not find a valid modelname"])
    'could not find a valid modelname'
    """
    text = [ln.strip() for ln in lines if ln.strip()]
    for pattern in (_CAUSE, _FATAL):
        for ln in text:
            if pattern.search(ln) and not re.match(r"(?i)error on line|please check|netlist line no", ln):
                return ln
    return text[-1] if text else "(ngspice printed nothing)"


def find_library() -> str:
    """Path of ngspice's shared library (``NGSPICE_LIBRARY_PATH`` first).

    The search order is the environment variable, then :func:`ctypes.util.find_library`, then
    the usual library folders of Linux and macOS (where Debian's ``libngspice.so.0`` lives
    without the unversioned link).

    Returns
    -------
    str
        A path, or a bare library name that the dynamic loader resolves
        (``"libngspice.so.0"``).  Not checked for loadability: see :func:`available`.

    Raises
    ------
    SimulationError
        If no library is found, saying which package provides it.

    Examples
    --------
    >>> "ngspice" in find_library()
    True
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
    """True when ngspice's shared library can be loaded through PySpice.

    By default this starts the helper process (if it is not running) and asks it to load the
    library; with ``NEUROCHIP_NGSPICE_INPROCESS=1`` it loads the library in this process.

    Returns
    -------
    bool
        False on any failure (no library, no PySpice, a helper that does not start).

    Examples
    --------
    >>> available()
    True
    """
    try:
        if _inprocess():
            _instance()
        else:
            _server().call(("ping",))
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False
    return True


def _inprocess() -> bool:
    return os.environ.get("NEUROCHIP_NGSPICE_INPROCESS") == "1"


class _Server:
    """The helper process that owns the ngspice library (see the module docstring).

    A plain subprocess (``python -m neurochip.circuit._ngspice``) speaking pickled messages over
    its stdin/stdout, so that starting it never re-imports the caller's main module.
    """

    def __init__(self) -> None:
        import subprocess
        import sys

        env = dict(os.environ, NEUROCHIP_NGSPICE_INPROCESS="1")
        # the helper runs in its own folder: make sure it imports this very neurochip
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        # ngspice writes files into its working folder (BSIM3's b3v33check.log): give it its own
        self.workdir = tempfile.mkdtemp(prefix="neurochip-ngspice-")
        atexit.register(shutil.rmtree, self.workdir, ignore_errors=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "neurochip.circuit._ngspice"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=self.workdir,
        )
        atexit.register(self.close)  # end the helper cleanly when the caller exits

    def alive(self) -> bool:
        return self.proc.poll() is None

    def call(self, job: tuple[Any, ...]) -> Any:
        try:
            _send(self.proc.stdin, job)
            status, payload = _recv(self.proc.stdout)
        except (EOFError, OSError):
            code = self.proc.wait(timeout=10)
            raise SimulationError(
                f"ngspice crashed (its process exited with code {code}); it is restarted for the next run"
            ) from None
        if status == "ok":
            return payload
        message, simulator_message, line, broken, log = payload
        if broken:  # the helper exits after an unrecoverable error; the next run starts a new one
            self.close()
        raise _error(message, simulator_message=simulator_message, line=line, log=log)

    def close(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except Exception:  # noqa: BLE001 - last resort below
            self.proc.kill()
            self.proc.wait(timeout=5)
        if self.proc.stdout:
            self.proc.stdout.close()


def _send(stream: Any, obj: Any) -> None:
    import pickle

    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(8, "little") + data)
    stream.flush()


def _recv(stream: Any) -> Any:
    import pickle

    head = stream.read(8)
    if len(head) < 8:
        raise EOFError
    n = int.from_bytes(head, "little")
    data = stream.read(n)
    if len(data) < n:
        raise EOFError
    return pickle.loads(data)


def _server() -> _Server:
    global _SERVER
    if _SERVER is None or not _SERVER.alive():
        _SERVER = _Server()
    return _SERVER


def _serve() -> None:
    """Main loop of the helper process: run jobs in-process, answer through stdout."""
    import sys

    os.environ["NEUROCHIP_NGSPICE_INPROCESS"] = "1"
    inp = sys.stdin.buffer
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything the library prints itself must not mix with the replies
    while True:
        try:
            job = _recv(inp)
        except (EOFError, OSError):
            break
        try:
            if job[0] == "ping":
                _instance()
                _send(out, ("ok", None))
            else:
                _send(out, ("ok", _run_inprocess(*job[1:])))
        except SimulationError as exc:
            _send(out, ("err", (exc.args[0].split("; ")[0], exc.simulator_message, exc.line, _BROKEN is not None,
                                getattr(exc, "log", []))))
        except Exception as exc:  # noqa: BLE001 - reported to the caller, the helper lives on
            msg = f"ngspice helper failed: {type(exc).__name__}: {exc}"
            _send(out, ("err", (msg, None, None, _BROKEN is not None, [])))
        if _BROKEN is not None:
            break
    out.flush()
    # the library may crash in its exit handlers after an unrecoverable error: skip them
    os._exit(0)


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


def _error(message: str, *, simulator_message: str | None = None, line: str | None = None,
           log: list[str] | None = None) -> SimulationError:
    """A SimulationError that also carries ngspice's full log (``.log``, list of str)."""
    exc = SimulationError(message, simulator_message=simulator_message, line=line)
    exc.log = list(log or [])  # type: ignore[attr-defined]
    return exc


def run(deck_body: str, analysis: list[str], vectors: list[str]) -> dict[str, NDArray[np.float64]]:
    """Load a netlist, run it and return the requested vectors of the new plot.

    Runs in the helper process (default) or in this process; see the module docstring.
    :func:`run_logged` also returns ngspice's log and the warnings it recovered from.

    Parameters
    ----------
    deck_body : str
        Netlist text without title, analysis and ``.end`` (SPICE units: numbers in SI base
        units with SPICE scale suffixes, see :func:`neurochip.units.spice_number`).
    analysis : list of str
        Control lines to append (``.options``, sources, ``.tran``, ``.op``, ``.save``).
    vectors : list of str
        ngspice vector names to return (``"time"``, ``"vm"``, ``"vdd#branch"``).

    Returns
    -------
    dict of str to ndarray of float64
        Each requested vector of the analysis' plot, in SI units (s, V, A); all of one length
        (the time points of a ``.tran``; 1 for ``.op``).  A voltage source's branch current is
        positive flowing into its + terminal, so a source that delivers power reads negative.

    Raises
    ------
    SimulationError
        With ngspice's first cause line and the offending netlist line when the netlist does
        not load or the run fails, or when the helper process crashed (it is restarted for the
        next run).  Its ``log`` attribute holds ngspice's full output.

    Examples
    --------
    A 2 V source across two 1 kOhm resistors:

    >>> v = run("V1 in 0 2\\nR1 in out 1k\\nR2 out 0 1k", [".op"], ["out", "v1#branch"])
    >>> round(float(v["out"][0]), 9), round(float(v["v1#branch"][0]), 12)
    (1.0, -0.001)
    """
    return run_logged(deck_body, analysis, vectors)[0]


def run_logged(
    deck_body: str, analysis: list[str], vectors: list[str]
) -> tuple[dict[str, NDArray[np.float64]], list[str], list[str]]:
    """:func:`run`, also returning ngspice's log and the warnings it recovered from.

    Parameters
    ----------
    deck_body, analysis, vectors
        As for :func:`run`.

    Returns
    -------
    vectors : dict of str to ndarray of float64
        As for :func:`run`.
    log : list of str
        Everything ngspice printed while loading and running, in order.
    warnings : list of str
        Lines of trouble ngspice recovered from (a singular matrix, gmin or source stepping),
        the run having reached its end.  Empty when the run was clean.

    Raises
    ------
    SimulationError
        As :func:`run`.

    Examples
    --------
    >>> v, log, warnings = run_logged("V1 in 0 2\\nR1 in 0 1k", [".op"], ["in"])
    >>> float(v["in"][0]), warnings
    (2.0, [])
    """
    if _inprocess():
        return _run_inprocess(deck_body, analysis, vectors)
    with _LOCK:
        return _server().call(("run", deck_body, analysis, vectors))


def _run_inprocess(
    deck_body: str, analysis: list[str], vectors: list[str]
) -> tuple[dict[str, NDArray[np.float64]], list[str], list[str]]:
    """Load a netlist, run it; the vectors of the new plot, the log and the recovered warnings.

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
        With ngspice's first cause line and the offending line when the netlist does not load,
        the run fails, or ngspice altered the circuit to run it (a value set to a default).
    """
    global _BROKEN
    from PySpice.Spice.NgSpice.Shared import ffi

    if _BROKEN is not None:
        raise SimulationError(f"ngspice cannot run any more in this process after: {_BROKEN}")
    with _LOCK:
        ng = _instance()
        title = f"neurochip-run-{os.getpid()}-{next(_COUNTER)}"
        lines = [title, *deck_body.splitlines(), *analysis, ".end", ""]
        keep = [ffi.new("char[]", ln.encode("utf8")) for ln in lines] + [ffi.NULL]
        ng.exec_command("destroy all")
        ng.clear_output()
        rc = ng._ngspice_shared.ngSpice_Circ(ffi.new("char *[]", keep))
        out, err = list(ng._stdout), list(ng._stderr)
        log = [*out, *err]
        bad = _problems(err) + _problems(out)
        loaded = any(title in ln for ln in out)
        if any(_FATAL_STATE.search(ln) for ln in err + out):
            _BROKEN = "\n".join(ln.strip() for ln in err if ln.strip())
        if rc or bad or not loaded or _BROKEN:
            said = err if bad else (bad or err or out[-5:])
            msg = "\n".join(ln.strip() for ln in said if ln.strip())
            raise _error(
                "ngspice could not load the netlist",
                simulator_message=cause_line(said),
                line=_offending_line(msg, lines),
                log=log,
            )
        ng.exec_command("run")
        out, err = list(ng._stdout), list(ng._stderr)
        log += [*out, *err]
        if any(_FATAL_STATE.search(ln) for ln in err + out):
            _BROKEN = "\n".join(ln.strip() for ln in err if ln.strip())
        said = [ln.strip() for ln in err + out if ln.strip()]
        bad = [ln for ln in said if _RUN_FATAL.search(ln)]
        altered = [ln for ln in said if _ALTERED.search(ln) and not _RECOVERED.search(ln) and not _MODEL_CLAMP.search(ln)]
        plot = ng.last_plot if ng.plot_names else ""
        try:
            if altered:
                raise _error(
                    "ngspice changed the circuit to run it (a missing or impossible value)",
                    simulator_message=altered[0],
                    line=_element_line(altered[0], lines),
                    log=log,
                )
            if bad or not plot.startswith(("tran", "op")):
                cause = cause_line(bad or [ln for ln in err if ln.strip()] or out[-5:])
                raise _error("ngspice run failed", simulator_message=cause, line=_offending_line(cause, lines),
                             log=log)
            warnings = [ln for ln in said if _RECOVERED.search(ln) and re.search(r"(?i)singular|fail", ln)]
            warnings += list(dict.fromkeys(ln for ln in said if _MODEL_CLAMP.search(ln)))
            return {name: _vector(ng, ffi, f"{plot}.{name}") for name in vectors}, log, warnings
        finally:
            ng.exec_command("destroy all")
            ng.exec_command("remcirc")


def _vector(ng: Any, ffi: Any, name: str) -> NDArray[np.float64]:
    info = ng._ngspice_shared.ngGet_Vec_Info(name.encode("utf8"))
    if info == ffi.NULL or info.v_realdata == ffi.NULL:
        raise SimulationError(f"ngspice produced no vector {name!r}")
    n = info.v_length
    return np.frombuffer(ffi.buffer(info.v_realdata, n * 8), dtype=np.float64).copy()


def _element_line(message: str, lines: list[str]) -> str | None:
    """The netlist line of the element an ngspice warning names (``"Warning: rl: ..."``)."""
    m = re.search(r"(?i)warning:\s*([A-Za-z][\w.]*)\s*:", message) or re.search(r"(?i)^\s*([A-Za-z][\w.]*)\s*:", message)
    if m:
        name = m.group(1).lower()
        for ln in lines:
            if ln.split() and ln.split()[0].lower() == name:
                return ln.strip()
    return _offending_line(message, lines)


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


if __name__ == "__main__":  # the helper process
    _serve()
