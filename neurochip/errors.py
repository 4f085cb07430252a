"""The neurochip error hierarchy.

Every error raised on bad input derives from :class:`NeurochipError` and also from the built-in
exception a caller would expect (``ValueError`` for a bad value, ``RuntimeError`` for a failed
simulation), so that ``except ValueError`` keeps working.  Messages say what, where, got and
expected: ``chip.toml: cores.neurons_per_core = 0: must be >= 1``.
"""

from __future__ import annotations

__all__ = [
    "NeurochipError",
    "InvalidParameterError",
    "ConfigError",
    "SimulationError",
    "MappingError",
]


class NeurochipError(Exception):
    """Base class of every error neurochip raises on purpose."""


class InvalidParameterError(NeurochipError, ValueError):
    """A parameter value is outside its valid range (names the field and the value).

    Parameters
    ----------
    message : str
        The full message (``"c_m_farad = 0.0: must be > 0"``).
    field, value, rule : optional
        The parts of that message, so that a config reader can prefix the field with its key
        path (``"cores.neurons = 0: must be >= 1"``).
    """

    def __init__(self, message: str, *, field: str | None = None, value: object = None, rule: str | None = None):
        self.field = field
        self.value = value
        self.rule = rule
        super().__init__(message)

    @classmethod
    def of(cls, field: str, value: object, rule: str) -> InvalidParameterError:
        """The error ``"<field> = <value!r>: <rule>"``."""
        return cls(f"{field} = {value!r}: {rule}", field=field, value=value, rule=rule)


class ConfigError(NeurochipError, ValueError):
    """A configuration file is malformed or holds an invalid value.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    path : str, optional
        The file the problem was found in.
    key : str, optional
        The dotted key path inside the file (``"lif.v_th_volt"``).
    """

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None):
        self.path = path
        self.key = key
        where = ": ".join(p for p in (str(path) if path else None, key) if p)
        super().__init__(f"{where}: {message}" if where else message)


class SimulationError(NeurochipError, RuntimeError):
    """A simulation failed; carries the simulator's own message and the offending line.

    Parameters
    ----------
    message : str
        What failed.
    simulator_message : str, optional
        The simulator's own text (for ngspice: its stderr lines).
    line : str, optional
        The netlist line or parameter the failure points at.
    """

    def __init__(
        self, message: str, *, simulator_message: str | None = None, line: str | None = None
    ):
        self.simulator_message = simulator_message
        self.line = line
        parts = [message]
        if line:
            parts.append(f"at: {line}")
        if simulator_message:
            parts.append(f"ngspice says: {simulator_message.strip()}")
        super().__init__("; ".join(parts))


class MappingError(NeurochipError, ValueError):
    """A network does not fit a chip: names the capacity, where, and the overflow.

    Parameters
    ----------
    message : str
        Human-readable description.
    capacity : str, optional
        The capacity that overflowed (``"neurons_per_core"``).
    required, available : float, optional
        What the network needs and what the chip offers.
    """

    def __init__(
        self,
        message: str,
        *,
        capacity: str | None = None,
        required: float | None = None,
        available: float | None = None,
    ):
        self.capacity = capacity
        self.required = required
        self.available = available
        super().__init__(message)
