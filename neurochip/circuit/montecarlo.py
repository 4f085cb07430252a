r"""Monte Carlo device mismatch: a distribution of LIF parameters for one neuron circuit.

Each sample draws

- with ``pdk_models = true`` in ``[mismatch]`` (a netlist that loads a PDK's models, see
  :mod:`neurochip.circuit.pdk`): a seed for ngspice, which loads the PDK's section with device
  mismatch on (``tt_mm``) and draws every transistor from the PDK's own mismatch models; the
  seed is recorded as the drawn value of ``pdk_seed``;
- a threshold shift for every transistor declared in the template's ``[mismatch.devices]``
  table, following Pelgrom's law :math:`\sigma(\Delta V_T) = A_{VT} / \sqrt{W L}` with
  ``a_vt_volt_meter`` from ``[mismatch]`` (the template applies it as a gate offset source);
- a relative error of each passive in ``[mismatch.relative]`` (normal, 1-sigma fraction);

then fits the sample's LIF parameters with :func:`neurochip.circuit.fit.fit_lif`.  Samples
run in worker processes through :func:`neurochip.parallel.fan_out`; they are seeded from one
integer, so a run is reproducible whatever the number of workers.  A sample whose fit fails is
reported with its error, not dropped.

The ``.npz`` written by :meth:`MonteCarloResult.save` holds:

==========================  ========================================================
key                         content
==========================  ========================================================
``fields``                  names of the LIFParams fields, shape (F,)
``params``                  fitted LIFParams of the good samples, shape (N_ok, F), SI
``mean``, ``std``           mean and standard deviation per field, shape (F,)
``corr``                    correlation matrix of the fields, shape (F, F) (nan for a
                            constant field)
``energy_per_spike_joule``  dynamic energy per spike of each good sample, (N_ok,)
``static_power_watt``       static power of each good sample, (N_ok,)
``max_isi_rel_error``       fit error of each good sample, (N_ok,)
``sample_index``            index of each good sample in the draw, (N_ok,)
``mismatch_names``          names of the drawn netlist parameters, (M,)
``mismatch_values``         drawn values of every sample, good or failed, (N, M)
``failed_index``            indices of failed samples, (N_fail,)
``failed_error``            their error messages, (N_fail,)
``circuit``, ``seed``       circuit name and seed (0-d arrays)
==========================  ========================================================

A network draws per-neuron parameters from ``params`` rows (or from a normal with ``mean``,
``std`` and ``corr``); see :meth:`MonteCarloResult.draw`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import lif
from .._io import atomic_write, load_npz
from ..errors import ConfigError, InvalidParameterError
from ..parallel import fan_out
from .fit import FitOptions, fit_lif
from .netlist import NetlistTemplate, load_circuit

__all__ = ["MonteCarloResult", "draw_mismatch", "run_montecarlo", "MC_FIT_OPTIONS"]

FIELDS = [f.name for f in dataclasses.fields(lif.LIFParams)]

#: Fit options for Monte Carlo samples: a shorter sweep than a full characterisation.
MC_FIT_OPTIONS = FitOptions(n_sweep=5, rheobase_steps=6, saturation_multiple=0.0, isis=3)


def draw_mismatch(template: NetlistTemplate, n: int, seed: int) -> tuple[list[str], NDArray[np.float64]]:
    r"""Draw ``n`` samples of the mismatch parameters declared by a template.

    Parameters
    ----------
    template : NetlistTemplate
        A template whose ``mismatch`` table has ``devices`` (parameter name -> [W, L] in m,
        with ``a_vt_volt_meter`` in V m) and/or ``relative`` (parameter name -> 1-sigma
        fraction), and/or ``pdk_models = true`` (the PDK's own mismatch, drawn by ngspice).
    n : int
        Number of samples, >= 0.
    seed : int
        Seed of :func:`numpy.random.default_rng`: the same seed gives the same draw.

    Returns
    -------
    names : list of str
        Netlist parameters varied: ``pdk_seed`` first (with ``pdk_models``), then the devices,
        then the passives, in declaration order.
    values : ndarray of float64, shape (n, len(names))
        Their values (ngspice seeds, integers in 1 .. 2**31 - 1; threshold shifts in V;
        passives in their SI unit).

    Raises
    ------
    ConfigError
        If the template declares no mismatch, or a device or passive is not a parameter.

    Notes
    -----
    Every value is normal around the parameter's default :math:`\mu`, independently, with

    .. math::

        \sigma_{device} = \frac{A_{VT}}{\sqrt{W L}}, \qquad
        \sigma_{passive} = r \, |\mu|

    (Pelgrom's law for threshold shifts; :math:`r` the relative tolerance).

    Examples
    --------
    >>> from neurochip.circuit.netlist import load_circuit
    >>> names, values = draw_mismatch(load_circuit("lif_transistor"), 1000, seed=0)
    >>> names[0], names[-4:], values.shape
    ('dvt_mpb', ['r_leak', 'c_m', 'c_ref', 'c_fb'], (1000, 24))
    >>> sigma = 4e-9 / np.sqrt(2e-6 * 1e-6)  # V: A_VT = 4 mV um, W x L = 2 um x 1 um
    >>> round(float(sigma) * 1e3, 2)  # mV
    2.83
    >>> bool(abs(values[:, 0].std() / sigma - 1) < 0.1)
    True
    """
    mm = template.mismatch
    devices = mm.get("devices", {})
    relative = mm.get("relative", {})
    pdk_models = mm.get("pdk_models", False)
    if not isinstance(pdk_models, bool):
        raise ConfigError(f"must be true or false, got {pdk_models!r}", path=template.source, key="mismatch.pdk_models")
    if pdk_models and not template.pdks:
        raise ConfigError("pdk_models = true needs a netlist that loads a PDK's models ('.lib pdk:NAME SECTION')",
                          path=template.source, key="mismatch.pdk_models")
    if not devices and not relative and not pdk_models:
        raise ConfigError(
            f"{template.name}: no [mismatch] table (devices with W, L, relative tolerances or pdk_models = true)",
            path=template.source,
        )
    a_vt = float(mm.get("a_vt_volt_meter", 0.0))
    names: list[str] = []
    sigmas: list[float] = []
    means: list[float] = []
    defaults = template.defaults
    for name, wl in devices.items():
        if name not in defaults:
            raise ConfigError(f"device {name!r} is not a declared parameter", path=template.source, key="mismatch.devices")
        w, length = (float(x) for x in wl)
        names.append(name)
        means.append(defaults[name])
        sigmas.append(a_vt / math.sqrt(w * length))
    for name, rel in relative.items():
        if name not in defaults:
            raise ConfigError(f"{name!r} is not a declared parameter", path=template.source, key="mismatch.relative")
        names.append(name)
        means.append(defaults[name])
        sigmas.append(float(rel) * abs(defaults[name]))
    rng = np.random.default_rng(seed)
    values = np.asarray(means) + rng.standard_normal((n, len(names))) * np.asarray(sigmas)
    if pdk_models:  # drawn after the others: a netlist's own draws stay what they were
        seeds = rng.integers(1, 2**31 - 1, size=(n, 1)).astype(np.float64)
        names, values = ["pdk_seed", *names], np.hstack([seeds, values.reshape(n, -1)])
    return names, values


@dataclass(frozen=True, slots=True, kw_only=True)
class MonteCarloResult:
    """Fitted LIF parameters of every Monte Carlo sample (see the module doc for the .npz keys).

    Made by :func:`run_montecarlo`; written and read with :meth:`save` and :meth:`load`.

    Attributes
    ----------
    circuit : str
        Circuit name.
    seed : int
        Seed of the mismatch draw.
    params : ndarray of float64, shape (n_ok, F)
        Fitted LIFParams of the good samples, columns in LIFParams field order, SI units.
    energy_per_spike_joule, static_power_watt, max_isi_rel_error : ndarray of float64, shape (n_ok,)
        Per good sample: dynamic energy per spike (J), static power (W), fit error
        (dimensionless).
    sample_index : ndarray of int64, shape (n_ok,)
        Index of each good sample in the draw.
    mismatch_names : list of str
        Netlist parameters drawn.
    mismatch_values : ndarray of float64, shape (n, len(mismatch_names))
        Drawn values of every sample, good or failed (V for threshold shifts, SI otherwise).
    failed : list of (int, str)
        Index and first error line of each sample whose fit failed.
    wall_time_s : float
        Wall time of the run, s (nan after :meth:`load`).
    corner : str
        Process corner of a PDK netlist ("" for the netlist's own section).

    Examples
    --------
    Three samples differing only in their membrane capacitance:

    >>> import dataclasses, os, tempfile
    >>> from neurochip.lif import LIFParams
    >>> rows = np.array([dataclasses.astuple(LIFParams(c_m_farad=c)) for c in (0.9e-12, 1.0e-12, 1.1e-12)])
    >>> mc = MonteCarloResult(circuit="demo", seed=0, params=rows, energy_per_spike_joule=np.full(3, 3e-13),
    ...                       static_power_watt=np.full(3, 1.8e-10), max_isi_rel_error=np.zeros(3),
    ...                       sample_index=np.arange(3), mismatch_names=["c_m"], mismatch_values=rows[:, :1],
    ...                       failed=[], wall_time_s=0.0)
    >>> mc.n_ok, round(float(mc.field("c_m_farad").mean()) * 1e12, 6), round(float(mc.std[0]) * 1e12, 6)
    (3, 1.0, 0.1)
    >>> {round(p.c_m_farad * 1e12, 1) for p in mc.draw(10, np.random.default_rng(0))} <= {0.9, 1.0, 1.1}
    True
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     mc.save(os.path.join(tmp, "mc.npz"))
    ...     MonteCarloResult.load(os.path.join(tmp, "mc.npz")).summary()["n_ok"]
    3
    """

    circuit: str
    seed: int
    params: NDArray[np.float64]
    energy_per_spike_joule: NDArray[np.float64]
    static_power_watt: NDArray[np.float64]
    max_isi_rel_error: NDArray[np.float64]
    sample_index: NDArray[np.int64]
    mismatch_names: list[str]
    mismatch_values: NDArray[np.float64]
    failed: list[tuple[int, str]]
    wall_time_s: float
    corner: str = ""

    @property
    def n_ok(self) -> int:
        """Number of samples fitted."""
        return len(self.sample_index)

    @property
    def mean(self) -> NDArray[np.float64]:
        """Mean of each LIFParams field over the good samples, shape (F,), SI units."""
        return self.params.mean(axis=0)

    @property
    def std(self) -> NDArray[np.float64]:
        """Standard deviation (ddof=1) of each field, shape (F,), SI units (nan for < 2 samples)."""
        return self.params.std(axis=0, ddof=1) if self.n_ok > 1 else np.full(len(FIELDS), np.nan)

    @property
    def corr(self) -> NDArray[np.float64]:
        """Correlation matrix of the fields, shape (F, F) (nan where a field is constant)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.corrcoef(self.params, rowvar=False) if self.n_ok > 1 else np.full((len(FIELDS),) * 2, np.nan)

    def field(self, name: str) -> NDArray[np.float64]:
        """All good samples of one LIFParams field.

        Parameters
        ----------
        name : str
            A LIFParams field name (``"c_m_farad"``, ``"v_th_volt"``, ...).

        Returns
        -------
        ndarray of float64, shape (n_ok,)
            The field's value in each good sample, in the field's SI unit.

        Raises
        ------
        ValueError
            If ``name`` is not a LIFParams field.
        """
        return self.params[:, FIELDS.index(name)]

    def lif_params(self) -> list[lif.LIFParams]:
        """The good samples as LIFParams.

        Returns
        -------
        list of LIFParams
            One per good sample, in sample order.
        """
        return [lif.LIFParams(**dict(zip(FIELDS, row))) for row in self.params]

    def draw(self, n: int, rng: np.random.Generator) -> list[lif.LIFParams]:
        """``n`` per-neuron parameter sets drawn (with replacement) from the fitted samples.

        Parameters
        ----------
        n : int
            Number of neurons, >= 0.
        rng : numpy.random.Generator
            Source of the draw.

        Returns
        -------
        list of LIFParams
            ``n`` fitted samples, each drawn uniformly among the good ones.
        """
        rows = rng.integers(0, self.n_ok, size=n)
        return [lif.LIFParams(**dict(zip(FIELDS, self.params[k]))) for k in rows]

    def summary(self) -> dict[str, Any]:
        """Mean and std of every field, energy and static power, failures.

        Returns
        -------
        dict of str to object
            ``circuit``, ``seed``, ``n_ok``, ``n_failed``; ``mean`` and ``std`` (field name to
            value, SI units); ``energy_per_spike_joule`` and ``static_power_watt`` (``mean``
            and ``std``, J and W); ``max_isi_rel_error`` (worst over the samples); ``failed``
            (index and error of each failed sample); ``wall_time_s``.
        """
        return {
            "circuit": self.circuit,
            "seed": self.seed,
            "corner": self.corner,
            "n_ok": self.n_ok,
            "n_failed": len(self.failed),
            "mean": dict(zip(FIELDS, self.mean)),
            "std": dict(zip(FIELDS, self.std)),
            "energy_per_spike_joule": {
                "mean": float(np.mean(self.energy_per_spike_joule)) if self.n_ok else math.nan,
                "std": float(np.std(self.energy_per_spike_joule, ddof=1)) if self.n_ok > 1 else math.nan,
            },
            "static_power_watt": {
                "mean": float(np.mean(self.static_power_watt)) if self.n_ok else math.nan,
                "std": float(np.std(self.static_power_watt, ddof=1)) if self.n_ok > 1 else math.nan,
            },
            "max_isi_rel_error": float(np.max(self.max_isi_rel_error)) if self.n_ok else math.nan,
            "failed": [{"index": i, "error": e} for i, e in self.failed],
            "wall_time_s": self.wall_time_s,
        }

    def save(self, path: str | Path) -> None:
        """Write the ``.npz`` file (keys in the module documentation).

        Parameters
        ----------
        path : str or Path
            Destination, written exactly as named (no suffix is added) through a temporary file
            renamed onto it, so a failure leaves nothing behind.

        Raises
        ------
        ConfigError
            If the file cannot be written.
        """
        def write(fh: Any) -> None:
            np.savez(
                fh,
                fields=np.asarray(FIELDS),
                params=self.params,
                mean=self.mean,
                std=self.std,
                corr=self.corr,
                energy_per_spike_joule=self.energy_per_spike_joule,
                static_power_watt=self.static_power_watt,
                max_isi_rel_error=self.max_isi_rel_error,
                sample_index=self.sample_index,
                mismatch_names=np.asarray(self.mismatch_names),
                mismatch_values=self.mismatch_values,
                failed_index=np.asarray([i for i, _ in self.failed], dtype=np.int64),
                failed_error=np.asarray([e for _, e in self.failed], dtype=str),
                circuit=np.asarray(self.circuit),
                seed=np.asarray(self.seed),
                corner=np.asarray(self.corner),
            )

        atomic_write(path, write)  # through a file object: written exactly as named, no suffix added

    @classmethod
    def load(cls, path: str | Path) -> MonteCarloResult:
        """Read a file written by :meth:`save`.

        Parameters
        ----------
        path : str or Path
            The ``.npz`` file.

        Returns
        -------
        MonteCarloResult
            With ``wall_time_s`` nan (it is not stored).

        Raises
        ------
        ConfigError
            If the file cannot be read or its fields differ from this LIFParams.
        """
        z = load_npz(path, "a neurochip Monte Carlo file")
        missing = sorted({"fields", "circuit", "seed", "params"} - set(z))
        if missing:
            raise ConfigError(f"not a Monte Carlo file: no {', '.join(missing)}", path=str(path))
        if list(z["fields"]) != FIELDS:
            raise ConfigError(f"fields {list(z['fields'])} differ from LIFParams {FIELDS}", path=str(path))
        return cls(
            circuit=str(z["circuit"]),
            seed=int(z["seed"]),
            params=z["params"],
            energy_per_spike_joule=z["energy_per_spike_joule"],
            static_power_watt=z["static_power_watt"],
            max_isi_rel_error=z["max_isi_rel_error"],
            sample_index=z["sample_index"],
            mismatch_names=[str(s) for s in z["mismatch_names"]],
            mismatch_values=z["mismatch_values"],
            failed=[(int(i), str(e)) for i, e in zip(z["failed_index"], z["failed_error"])],
            wall_time_s=math.nan,
            corner=str(z["corner"]) if "corner" in z else "",
        )


def _fit_sample(job: tuple[str, dict[str, float], FitOptions, str]) -> dict[str, Any]:
    """One Monte Carlo sample (runs in a worker process)."""
    circuit, overrides, options, corner = job
    overrides = dict(overrides)
    seed = overrides.pop("pdk_seed", None)
    template = load_circuit(circuit)
    if corner or seed is not None:
        template = dataclasses.replace(template, corner=corner, pdk_seed=None if seed is None else int(seed))
    res = fit_lif(template, params=overrides, options=options)
    return {
        "params": [getattr(res.params, f) for f in FIELDS],
        "energy": res.energy_per_spike_joule,
        "static": res.static_power_watt,
        "err": res.max_isi_rel_error,
    }


def run_montecarlo(
    circuit: str,
    n: int,
    *,
    seed: int = 0,
    options: FitOptions | None = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    progress: bool = True,
    corner: str = "",
) -> MonteCarloResult:
    r"""Fit ``n`` mismatch samples of a circuit, in parallel worker processes.

    Parameters
    ----------
    circuit : str
        Shipped circuit name or netlist path (with a ``[mismatch]`` declaration).
    n : int
        Number of samples, >= 1.
    seed : int
        Seed of the draw: the same seed gives the same samples.
    options : FitOptions, optional
        Fit options per sample (default :data:`MC_FIT_OPTIONS`).
    scheduler : str, optional
        Address of a Dask scheduler; default a local cluster of processes.
    n_workers : int, optional
        Local worker processes (default CPU count; 0 = serial in this process).
    progress : bool
        Show a progress bar.
    corner : str
        Process corner of a netlist that loads a PDK (``"ss"``); "" keeps the netlist's own.

    Returns
    -------
    MonteCarloResult
        Samples whose fit failed are listed in ``failed``, not dropped silently.

    Raises
    ------
    InvalidParameterError
        If ``n`` < 1.
    ConfigError
        If the circuit cannot be loaded or declares no mismatch, or for a corner its PDK does not
        have (or a netlist that loads no PDK).

    Examples
    --------
    A copy of the behavioural LIF whose membrane capacitance varies by 5 % (1 sigma); each
    sample's fit recovers the drawn capacitance (two samples, serial: about 3 s):

    >>> import os, shutil, tempfile
    >>> from importlib import resources
    >>> shipped = resources.files("neurochip.circuits")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     cir = shutil.copy(shipped / "lif_behavioral.cir", os.path.join(tmp, "lif_mc.cir"))
    ...     decl = (shipped / "lif_behavioral.toml").read_text() + "\n[mismatch.relative]\nc_m = 0.05\n"
    ...     _ = open(os.path.join(tmp, "lif_mc.toml"), "w").write(decl)
    ...     mc = run_montecarlo(cir, 2, seed=1, n_workers=0, progress=False)
    >>> mc.n_ok, mc.failed, mc.mismatch_names
    (2, [], ['c_m'])
    >>> np.round(mc.field("c_m_farad") / mc.mismatch_values[:, 0], 3).tolist()
    [1.0, 1.0]
    """
    if n < 1:
        raise InvalidParameterError(f"n = {n!r}: must be >= 1")
    template = load_circuit(circuit)
    if corner:
        template = dataclasses.replace(template, corner=corner)  # checks the corner before any sample runs
    names, values = draw_mismatch(template, n, seed)
    options = options or MC_FIT_OPTIONS
    circuit_ref = str(circuit)
    jobs = [(circuit_ref, dict(zip(names, (float(v) for v in row))), options, corner) for row in values]
    t0 = time.perf_counter()
    outcomes = fan_out(
        _fit_sample, jobs, scheduler=scheduler, n_workers=n_workers, progress=progress,
        description=f"Monte Carlo {template.name}" + (f" at {corner}" if corner else ""),
    )
    wall = time.perf_counter() - t0
    good = [o for o in outcomes if o.ok]
    failed = [(o.index, (o.error or "").splitlines()[0]) for o in outcomes if not o.ok]
    nf = len(FIELDS)
    return MonteCarloResult(
        circuit=template.name,
        seed=seed,
        params=np.asarray([o.value["params"] for o in good], dtype=np.float64).reshape(-1, nf),
        energy_per_spike_joule=np.asarray([o.value["energy"] for o in good], dtype=np.float64),
        static_power_watt=np.asarray([o.value["static"] for o in good], dtype=np.float64),
        max_isi_rel_error=np.asarray([o.value["err"] for o in good], dtype=np.float64),
        sample_index=np.asarray([o.index for o in good], dtype=np.int64),
        mismatch_names=names,
        mismatch_values=values,
        failed=failed,
        wall_time_s=wall,
        corner=corner,
    )
