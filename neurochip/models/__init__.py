"""Neuron models beyond the built-in delta-synapse LIF: one module per model.

A model module (``neurochip/models/NAME.py``) holds everything Python knows of the model:

* its **spec**, a frozen dataclass subclassing :class:`NeuronModel`, that a
  :class:`~neurochip.network.Population` takes as ``model=`` and that network files store by
  ``NAME`` and :meth:`NeuronModel.to_dict`;
* the **kernel parameters**: :meth:`NeuronModel.kernel_columns`, the per-neuron columns its
  compiled include (``emulator/models/NAME.pxi``) reads;
* its **reference rule**: :meth:`NeuronModel.reference`, the plain Python neuron that the
  reference backend (``neurochip.emulator._reference``) runs in its event queue.

Nothing else names a model: the registry below finds the modules of this package by name, and
the engine's build includes every ``emulator/models/*.pxi``.  Adding a model is the include,
this module, and its test (docs/architecture.md, "where to add X").
"""

from __future__ import annotations

import abc
import importlib
import pkgutil
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidParameterError

__all__ = ["NeuronModel", "model_class", "model_from_dict", "model_names"]


class NeuronModel(abc.ABC):
    """Base of the model specs (frozen dataclasses).

    Subclasses set ``name`` (the kernel include's registered name and the key in network files)
    and ``columns`` (names of the per-neuron kernel parameters, in the include's order), and
    implement :meth:`kernel_columns`, :meth:`reference` and, when some LIF features do not
    combine with the model, :meth:`check`.
    """

    name: ClassVar[str] = ""
    columns: ClassVar[tuple[str, ...]] = ()
    #: how a projection's ``weight_volt`` acts on this model, for docs and reports
    weight_meaning: ClassVar[str] = ""

    def check(self, population: str, arrays: dict[str, NDArray[np.float64]]) -> None:
        """Raise InvalidParameterError naming ``population`` if its LIF arrays cannot run (the
        default accepts every array: a model overrides it when some LIF feature does not apply)."""
        return None

    @abc.abstractmethod
    def kernel_columns(self, arrays: dict[str, NDArray[np.float64]]) -> NDArray[np.float64]:
        """Per-neuron kernel parameters, shape (size, len(columns)), float64."""

    @classmethod
    @abc.abstractmethod
    def delta_columns(cls, size: int) -> NDArray[np.float64]:
        """Kernel parameters of ``size`` built-in (delta-synapse) LIF neurons run by this model's
        kernel, when a network mixes them with this model's populations."""

    @classmethod
    @abc.abstractmethod
    def reference(cls, prep: Any, vinf: NDArray[np.float64]) -> Any:
        """The plain Python neurons of the reference backend (see emulator/_reference.py)."""

    def to_dict(self) -> dict[str, Any]:
        """The spec's fields plus ``"model": name`` (what network files store)."""
        from .._spec import spec_to_dict

        return {"model": self.name, **spec_to_dict(self)}


def _modules() -> dict[str, type[NeuronModel]]:
    found: dict[str, type[NeuronModel]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, NeuronModel) and obj is not NeuronModel and obj.name:
                found[obj.name] = obj
    return found


_REGISTRY: dict[str, type[NeuronModel]] = {}


def model_names() -> tuple[str, ...]:
    """Names of the neuron models this package holds (besides the built-in LIF).

    Returns
    -------
    tuple of str
        Sorted names, e.g. ``('cuba',)``.
    """
    if not _REGISTRY:
        _REGISTRY.update(_modules())
    return tuple(sorted(_REGISTRY))


def model_class(name: str) -> type[NeuronModel]:
    """The spec class of the model ``name``.

    Parameters
    ----------
    name : str
        A name of :func:`model_names`.

    Returns
    -------
    type
        The :class:`NeuronModel` subclass.

    Raises
    ------
    InvalidParameterError
        If no model has that name (the message lists the names there are).
    """
    names = model_names()
    if name not in _REGISTRY:
        raise InvalidParameterError(f"model = {name!r}: no such neuron model (known: {', '.join(names)})")
    return _REGISTRY[name]


def model_from_dict(data: dict[str, Any], *, source: str | None = None, prefix: str = "model") -> NeuronModel:
    """Rebuild a model spec from :meth:`NeuronModel.to_dict`'s dict.

    Parameters
    ----------
    data : dict
        ``{"model": name, field: value, ...}``.
    source : str, optional
        File the dict came from (named in errors).
    prefix : str
        Where the dict sits in that file (named in errors).

    Returns
    -------
    NeuronModel

    Raises
    ------
    ConfigError
        Naming the file and the field when a value is invalid.
    """
    from .._spec import spec_from_dict

    data = dict(data)
    cls = model_class(str(data.pop("model", "")))
    return spec_from_dict(cls, data, source=source, prefix=prefix)
