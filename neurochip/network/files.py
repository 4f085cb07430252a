r"""Network files: a whole :class:`~neurochip.network.Network` in one ``.npz`` file, and
populations whose per-neuron parameters are drawn from a circuit Monte Carlo file.

A network file is a NumPy ``.npz`` archive (no pickles) holding

* ``header``: JSON text: format name and version, seed, every population (name, size, its
  LIFParams, which fields are per-neuron), every projection (pre, post, the rule it was built
  with, weight and delay as written) and totals;
* ``pop<i>.bias``, ``pop<i>.v_init`` and ``pop<i>.pn.<field>``: per-neuron arrays (SI);
* ``proj<k>.pre``, ``proj<k>.post`` (local indices), ``proj<k>.w`` (V, float32 values),
  ``proj<k>.d`` (s, one value when the whole projection shares it): the synapses each
  projection was built into;
* ``csr.indptr``, ``csr.indices``, ``csr.weights``, ``csr.delays_s``: the built
  :class:`~neurochip.network.SynapseCSR`.

Loading rebuilds the network from the stored synapses (each projection becomes an
:class:`~neurochip.network.Explicit` one, so a file does not depend on how random rules draw)
and checks that its synapse CSR equals the stored one array for array; every problem is a
:class:`~neurochip.errors.ConfigError` naming the file and the field.

Examples
--------
>>> import tempfile, os
>>> from neurochip.network import Network, Population, Projection, FixedInDegree
>>> net = Network(populations=(Population(name="E", size=10),),
...               projections=(Projection(pre="E", post="E", rule=FixedInDegree(k=3), weight_volt=0.1),))
>>> with tempfile.TemporaryDirectory() as tmp:
...     save_network(net, os.path.join(tmp, "net.npz"))
...     load_network(os.path.join(tmp, "net.npz")).csr().n_synapses
30
"""

from __future__ import annotations

import dataclasses
import json
import numbers
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._io import atomic_write, load_npz
from ..errors import ConfigError, InvalidParameterError
from ..lif import LIFParams
from .model import Network, Projection
from ..models import model_from_dict
from .population import Population
from .rules import AllToAll, Explicit, FixedInDegree, FixedProbability

__all__ = ["save_network", "load_network", "read_header", "population_from_montecarlo", "FORMAT", "VERSION"]

FORMAT = "neurochip-network"
VERSION = 1
_LIF_FIELDS = tuple(f.name for f in dataclasses.fields(LIFParams))
_MC_KEYS = ("fields", "params", "mean", "std", "corr")


def _rule_spec(rule: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": type(rule).__name__}
    if isinstance(rule, (FixedInDegree, FixedProbability, AllToAll)):
        spec.update({f.name: getattr(rule, f.name) for f in dataclasses.fields(rule)})
    return spec


def _weight_spec(pr: Projection) -> Any:
    if isinstance(pr.rule, Explicit) and pr.rule.weight_volt is not None:
        return "explicit"
    if callable(pr.weight_volt):
        return "drawn"
    return float(pr.weight_volt)


def _per_projection(net: Network) -> list[tuple[NDArray, NDArray, NDArray, NDArray]] | None:
    """The synapses of each projection, in the CSR's storage order, or None when they cannot be
    told apart (the seed is not an int, so the network cannot be rebuilt the same)."""
    csr = net.csr()
    seed = net.seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        return None
    tagged = []
    for k, pr in enumerate(net.projections):
        rule = pr.rule
        if isinstance(rule, Explicit):
            rule = Explicit(pre=rule.pre, post=rule.post, weight_volt=None, delay_s=rule.delay_s)
        tagged.append(Projection(pre=pr.pre, post=pr.post, rule=rule, weight_volt=float(k + 1), delay_s=pr.delay_s))
    # the same seed and rules with the projection's number as weight: the same synapses in the
    # same places (weights are drawn after the connections), each labelled with its projection
    twin = Network(populations=net.populations, projections=tuple(tagged), seed=seed).csr()
    if not (np.array_equal(twin.indptr, csr.indptr) and np.array_equal(twin.indices, csr.indices)):
        return None
    tag = twin.weights.astype(np.int64) - 1
    pre, post, w, d = csr.to_coo()
    out = []
    for k, pr in enumerate(net.projections):
        sel = tag == k
        out.append((pre[sel] - net.offset(pr.pre), post[sel] - net.offset(pr.post), w[sel], d[sel]))
    return out


def _by_pair(net: Network) -> tuple[list[dict], list[tuple[NDArray, NDArray, NDArray, NDArray]]]:
    """Fallback: the synapses grouped by (pre population, post population)."""
    csr = net.csr()
    pre, post, w, d = csr.to_coo()
    names = [p.name for p in net.populations]
    bounds = np.array([net.offset(n) for n in names] + [net.n_neurons])
    pp = np.searchsorted(bounds, pre, side="right") - 1
    qp = np.searchsorted(bounds, post, side="right") - 1
    specs, arrays = [], []
    for a in range(len(names)):
        for b in range(len(names)):
            sel = (pp == a) & (qp == b)
            merged = [_rule_spec(pr.rule) for pr in net.projections if (pr.pre, pr.post) == (names[a], names[b])]
            if not sel.any() and not merged:
                continue
            specs.append({"pre": names[a], "post": names[b], "rule": {"type": "Explicit", "merged_from": merged},
                          "weight": "explicit", "delay_s": float(d[sel].min()) if sel.any() else 1e-3})  # fmt: skip
            arrays.append((pre[sel] - bounds[a], post[sel] - bounds[b], w[sel], d[sel]))
    return specs, arrays


def save_network(network: Network, path: str | Path, *, compress: bool = False) -> None:
    """Write a network, its parameters and its built synapses to one ``.npz`` file.

    Parameters
    ----------
    network : Network
        The network; its synapses are built (``network.csr()``) if they are not yet.
    path : str or Path
        Written exactly as given (no suffix is added), through a temporary file renamed onto
        it: a failure leaves nothing behind.
    compress : bool
        Deflate the arrays (smaller, slower).

    Raises
    ------
    InvalidParameterError
        If ``network`` is not a :class:`~neurochip.network.Network`.
    ConfigError
        If the file cannot be written.

    Notes
    -----
    Projections are stored one by one when the synapses of each can be told apart: the
    network's seed is an integer and rebuilding it with each projection's number as its weight
    gives the same synapses.  Otherwise the synapses are stored grouped by (pre, post)
    population pair, the header listing the rules merged into each.

    Examples
    --------
    >>> import os, tempfile
    >>> from neurochip.network import AllToAll, Network, Population, Projection
    >>> net = Network(populations=(Population(name="A", size=3), Population(name="B", size=2)),
    ...               projections=(Projection(pre="A", post="B", rule=AllToAll(), weight_volt=0.05),))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_network(net, os.path.join(tmp, "ab.npz"), compress=True)
    ...     read_header(os.path.join(tmp, "ab.npz"))["n_synapses"]
    6
    """
    if not isinstance(network, Network):
        raise InvalidParameterError(f"network = {type(network).__name__}: must be a neurochip Network")
    arrays: dict[str, NDArray] = {}
    pops = []
    for i, p in enumerate(network.populations):
        pops.append({
            "name": p.name, "size": p.size, "params": p.params.to_dict(), "per_neuron": sorted(p.per_neuron),
            "v_init": p.v_init_volt is not None,
            **({"model": p.model.to_dict()} if p.model is not None else {}),
        })  # fmt: skip
        arrays[f"pop{i}.bias"] = np.asarray(p.bias_current_amp)
        if p.v_init_volt is not None:
            arrays[f"pop{i}.v_init"] = np.asarray(p.v_init_volt)
        for key, value in p.per_neuron.items():
            arrays[f"pop{i}.pn.{key}"] = np.asarray(value)
    per = _per_projection(network)
    if per is not None:
        projs = [
            {"pre": pr.pre, "post": pr.post, "rule": _rule_spec(pr.rule), "weight": _weight_spec(pr), "delay_s": pr.delay_s}
            for pr in network.projections
        ]
    else:
        projs, per = _by_pair(network)
    for k, (pre, post, w, d) in enumerate(per):
        arrays[f"proj{k}.pre"] = pre.astype(np.int32)
        arrays[f"proj{k}.post"] = post.astype(np.int32)
        arrays[f"proj{k}.w"] = w.astype(np.float32)
        # one delay for the whole projection (the usual case) is stored once
        arrays[f"proj{k}.d"] = d[:1].astype(np.float64) if d.size and (d == d[0]).all() else d.astype(np.float64)
    csr = network.csr()
    arrays.update({"csr.indptr": csr.indptr, "csr.indices": csr.indices, "csr.weights": csr.weights,
                   "csr.delays_s": csr.delays_s})  # fmt: skip
    seed = network.seed if isinstance(network.seed, numbers.Integral) and not isinstance(network.seed, bool) else None
    header = {
        "format": FORMAT, "version": VERSION, "seed": None if seed is None else int(seed),
        "n_neurons": network.n_neurons, "n_synapses": csr.n_synapses, "populations": pops, "projections": projs,
    }  # fmt: skip
    arrays["header"] = np.array(json.dumps(header, allow_nan=True))
    atomic_write(path, lambda fh: (np.savez_compressed if compress else np.savez)(fh, **arrays))


def _open(path: str | Path, keys: Any = None) -> dict[str, NDArray]:
    # the arrays (all, or ``keys``), read eagerly with pickles disabled; an unreadable file is a
    # ConfigError naming it
    return load_npz(path, "a neurochip network file (.npz)", keys=keys)


def _get(data: dict[str, NDArray], key: str, path: str) -> NDArray:
    if key not in data:
        raise ConfigError("missing from the file", path=path, key=key)
    return data[key]


def read_header(path: str | Path) -> dict[str, Any]:
    """The JSON header of a network file (validated format and version).

    Parameters
    ----------
    path : str or Path
        A file written by :func:`save_network`.

    Returns
    -------
    dict of str to object
        ``format``, ``version``, ``seed``, ``n_neurons``, ``n_synapses``, ``populations``
        (name, size, params in SI units, per-neuron fields, whether ``v_init`` is stored) and
        ``projections`` (pre, post, the rule as built, weight in V or ``"drawn"`` /
        ``"explicit"``, delay_s in s).

    Raises
    ------
    ConfigError
        If the file is missing, is not an ``.npz`` archive, or its header is not a network
        header of this version.

    Examples
    --------
    >>> import os, tempfile
    >>> from neurochip.network import FixedInDegree, Network, Population, Projection
    >>> net = Network(populations=(Population(name="E", size=10),),
    ...               projections=(Projection(pre="E", post="E", rule=FixedInDegree(k=3), weight_volt=0.1),))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_network(net, os.path.join(tmp, "net.npz"))
    ...     header = read_header(os.path.join(tmp, "net.npz"))
    >>> header["n_synapses"], header["projections"][0]["rule"]
    (30, {'type': 'FixedInDegree', 'k': 3, 'allow_autapses': True})
    """
    return _header(_open(path, keys=("header",)), str(path))


def _header(data: Any, path: str) -> dict[str, Any]:
    raw = _get(data, "header", path)
    try:
        header = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON: {exc}", path=path, key="header") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ConfigError(f"format = {header.get('format') if isinstance(header, dict) else None!r}: not a "
                          f"{FORMAT} file", path=path, key="header.format")  # fmt: skip
    if header.get("version") != VERSION:
        raise ConfigError(f"version = {header.get('version')!r}: this neurochip reads version {VERSION}",
                          path=path, key="header.version")  # fmt: skip
    for key, kind in (("populations", list), ("projections", list)):
        if not isinstance(header.get(key), kind):
            raise ConfigError(f"must be a {kind.__name__}", path=path, key=f"header.{key}")
    return header


def _field(entry: dict, key: str, where: str, path: str, kind: type | tuple) -> Any:
    if not isinstance(entry, dict) or key not in entry:
        raise ConfigError("missing", path=path, key=f"{where}.{key}")
    value = entry[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"= {value!r}: wrong type", path=path, key=f"{where}.{key}")
    return value


def _array(data: Any, key: str, path: str, shape: tuple, dtype: Any) -> NDArray:
    arr = _get(data, key, path)
    if arr.shape != shape:
        raise ConfigError(f"has shape {arr.shape}, expected {shape}", path=path, key=key)
    if arr.dtype != np.dtype(dtype):
        raise ConfigError(f"has dtype {arr.dtype}, expected {np.dtype(dtype)}", path=path, key=key)
    return arr


def load_network(path: str | Path) -> Network:
    """Read a network file written by :func:`save_network`.

    Parameters
    ----------
    path : str or Path
        The ``.npz`` network file.

    Returns
    -------
    Network
        Populations as saved; each projection an :class:`Explicit` one holding the synapses
        it was built into (the original rules stay in the header: :func:`read_header`).

    Raises
    ------
    ConfigError
        Naming the file and the field (``populations[1].params.v_th_volt``,
        ``proj2.pre``, ``csr``...) of the first problem found.

    Examples
    --------
    >>> import os, tempfile
    >>> from neurochip.network import FixedInDegree, Network, Population, Projection
    >>> net = Network(populations=(Population(name="E", size=10),),
    ...               projections=(Projection(pre="E", post="E", rule=FixedInDegree(k=3), weight_volt=0.1),))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_network(net, os.path.join(tmp, "net.npz"))
    ...     back = load_network(os.path.join(tmp, "net.npz"))
    >>> type(back.projections[0].rule).__name__, back.csr().n_synapses
    ('Explicit', 30)
    >>> load_network("no/such/net.npz")
    Traceback (most recent call last):
    ...
    neurochip.errors.ConfigError: no/such/net.npz: no such file; expected a neurochip network file (.npz)
    """
    path = str(path)
    data = _open(path)
    header = _header(data, path)
    pops = []
    for i, entry in enumerate(header["populations"]):
        where = f"populations[{i}]"
        name = _field(entry, "name", where, path, str)
        size = _field(entry, "size", where, path, int)
        if size < 1:
            raise ConfigError(f"size = {size}: must be >= 1", path=path, key=f"{where}.size")
        params = LIFParams.from_dict(_field(entry, "params", where, path, dict), source=path, prefix=f"{where}.params")
        per_neuron = {
            key: _array(data, f"pop{i}.pn.{key}", path, (size,), np.float64)
            for key in _field(entry, "per_neuron", where, path, list)
        }
        bias = _array(data, f"pop{i}.bias", path, (size,), np.float64)
        v_init = _array(data, f"pop{i}.v_init", path, (size,), np.float64) if entry.get("v_init") else None
        model = None
        if "model" in entry:
            try:
                model = model_from_dict(_field(entry, "model", where, path, dict), source=path, prefix=f"{where}.model")
            except InvalidParameterError as exc:
                raise ConfigError(str(exc), path=path, key=f"{where}.model") from None
        try:
            pops.append(Population(name=name, size=size, params=params, per_neuron=per_neuron,
                                   bias_current_amp=bias, v_init_volt=v_init, model=model))  # fmt: skip
        except InvalidParameterError as exc:
            raise ConfigError(str(exc), path=path, key=where) from None
    projs = []
    for k, entry in enumerate(header["projections"]):
        where = f"projections[{k}]"
        pre_name = _field(entry, "pre", where, path, str)
        post_name = _field(entry, "post", where, path, str)
        delay = _field(entry, "delay_s", where, path, (int, float))
        pre = _get(data, f"proj{k}.pre", path)
        n = pre.shape[0] if pre.ndim == 1 else -1
        if n < 0 or pre.dtype != np.int32:
            raise ConfigError(f"has shape {pre.shape} and dtype {pre.dtype}, expected 1-d int32", path=path,
                              key=f"proj{k}.pre")  # fmt: skip
        post = _array(data, f"proj{k}.post", path, (n,), np.int32)
        w = _array(data, f"proj{k}.w", path, (n,), np.float32)
        d = _get(data, f"proj{k}.d", path)
        if d.dtype != np.float64 or d.shape not in ((n,), (1,)):
            raise ConfigError(f"has shape {d.shape} and dtype {d.dtype}, expected float64 of shape ({n},) or (1,)",
                              path=path, key=f"proj{k}.d")  # fmt: skip
        d = np.broadcast_to(d, (n,)).copy()
        sizes = {p.name: p.size for p in pops}
        for end, name, idx in (("pre", pre_name, pre), ("post", post_name, post)):
            if name not in sizes:
                raise ConfigError(f"= {name!r}: no such population ({list(sizes)})", path=path, key=f"{where}.{end}")
            if idx.size and (idx.min() < 0 or idx.max() >= sizes[name]):
                bad = int(idx.min() if idx.min() < 0 else idx.max())
                raise ConfigError(f"neuron index {bad}: must be in [0, {sizes[name]}) (population {name!r})",
                                  path=path, key=f"proj{k}.{end}")  # fmt: skip
        if not (np.isfinite(w).all() and np.isfinite(d).all() and (d > 0).all()):
            raise ConfigError("weights and delays must be finite, delays > 0", path=path, key=f"proj{k}")
        try:
            rule = Explicit(pre=pre, post=post, weight_volt=w.astype(np.float64), delay_s=d)
            projs.append(Projection(pre=pre_name, post=post_name, rule=rule, delay_s=float(delay)))
        except InvalidParameterError as exc:
            raise ConfigError(str(exc), path=path, key=where) from None
    seed = header.get("seed")
    try:
        net = Network(populations=tuple(pops), projections=tuple(projs), seed=0 if seed is None else seed)
        csr = net.csr()
    except InvalidParameterError as exc:
        raise ConfigError(str(exc), path=path, key="projections") from None
    for key in ("indptr", "indices", "weights", "delays_s"):
        stored = _get(data, f"csr.{key}", path)
        built = getattr(csr, key)
        if stored.dtype != built.dtype or not np.array_equal(stored, built):
            raise ConfigError(
                f"the stored synapse arrays differ from those of the stored projections ({key}: "
                f"{stored.shape} {stored.dtype} vs {built.shape} {built.dtype}); the file is corrupt",
                path=path, key=f"csr.{key}",
            )  # fmt: skip
    return net


# --------------------------------------------------------------------------------------------
# Monte Carlo populations


def population_from_montecarlo(
    path: str | Path,
    *,
    name: str,
    size: int,
    seed: int | np.random.Generator | None,
    mode: str = "resample",
    params: LIFParams | None = None,
    bias_current_amp: ArrayLike = 0.0,
    v_init_volt: ArrayLike | None = None,
    max_rounds: int = 100,
) -> Population:
    r"""A population whose neurons carry parameters drawn from a circuit Monte Carlo file.

    The file is the ``.npz`` a circuit Monte Carlo run writes: ``fields`` (F,) LIFParams field
    names, ``params`` (N, F) the fitted LIF parameters of the N successful runs (SI), ``mean``
    and ``std`` (F,), ``corr`` (F, F) their correlation matrix (``circuit`` and ``seed`` are
    informative).

    Parameters
    ----------
    path : str or Path
        The Monte Carlo ``.npz`` file.
    name : str
        Population name.
    size : int
        Number of neurons, >= 1.
    seed : int or numpy.random.Generator or None
        Seed of the draw (the same seed gives the same population; None: fresh entropy).
    mode : {"resample", "normal"}
        ``"resample"``: each neuron is one of the N fitted circuits, drawn with replacement
        (keeps every joint feature of the Monte Carlo, and every drawn neuron is a fitted,
        valid one).  ``"normal"``: a multivariate normal of the file's mean, std and corr;
        draws that break a LIFParams rule (C <= 0, V_reset >= V_th, ...) are drawn again, at
        most ``max_rounds`` times.
    params : LIFParams, optional
        Values of the fields the file does not hold (default ``LIFParams()``).
    bias_current_amp : float or array_like of float, shape (size,)
        Constant input current, A (as for :class:`~neurochip.network.Population`).
    v_init_volt : float or array_like of float, shape (size,), optional
        Initial membrane potential, V (as for :class:`~neurochip.network.Population`).
    max_rounds : int
        Redraw rounds of ``mode="normal"``, >= 1.

    Returns
    -------
    Population
        With per-neuron arrays (SI units) for every field of the file.

    Raises
    ------
    ConfigError
        Naming the file and the key when the file is malformed.
    InvalidParameterError
        If ``mode`` or ``size`` is invalid, or ``mode="normal"`` still has invalid neurons
        after ``max_rounds`` rounds.

    Notes
    -----
    In ``"normal"`` mode, with :math:`\mu`, :math:`\sigma` and :math:`R = Q \Lambda Q^T` the
    file's mean, std and correlation, each neuron's parameter vector is

    .. math::

        p = \mu + \mathrm{diag}(\sigma) \, Q \Lambda^{1/2} z, \qquad z \sim \mathcal{N}(0, I)

    Examples
    --------
    >>> import os, tempfile
    >>> fitted = np.array([[1.0e-12, 0.50], [1.1e-12, 0.52], [0.9e-12, 0.48]])  # F, V
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     mc = os.path.join(tmp, "mc.npz")
    ...     np.savez(mc, fields=np.array(["c_m_farad", "v_th_volt"]), params=fitted,
    ...              mean=fitted.mean(axis=0), std=fitted.std(axis=0), corr=np.corrcoef(fitted.T))
    ...     pop = population_from_montecarlo(mc, name="E", size=100, seed=1)
    >>> sorted(pop.per_neuron), pop.size
    (['c_m_farad', 'v_th_volt'], 100)
    >>> set(pop.per_neuron["v_th_volt"]) <= {0.48, 0.50, 0.52}  # resampled fitted circuits
    True
    """
    if mode not in ("resample", "normal"):
        raise InvalidParameterError(f"mode = {mode!r}: must be 'resample' or 'normal'")
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise InvalidParameterError(f"size = {size!r}: must be an int >= 1")
    path = str(path)
    data = load_npz(path, "a circuit Monte Carlo file (neurochip circuit montecarlo -o)", keys=_MC_KEYS)
    raw = {key: _get(data, key, path) for key in _MC_KEYS}
    fields = raw["fields"]
    if fields.ndim != 1 or fields.dtype.kind not in "US":
        raise ConfigError(f"must be a 1-d array of strings, got {fields.dtype} {fields.shape}", path=path, key="fields")
    names = [str(f) for f in fields]
    for i, f in enumerate(names):
        if f not in _LIF_FIELDS:
            raise ConfigError(f"{f!r} is not a LIFParams field (expected one of {', '.join(_LIF_FIELDS)})",
                              path=path, key=f"fields[{i}]")  # fmt: skip
    if len(set(names)) != len(names):
        raise ConfigError("field names repeat", path=path, key="fields")
    n_f = len(names)
    shapes = {"params": None, "mean": (n_f,), "std": (n_f,), "corr": (n_f, n_f)}
    arr = {}
    for key, shape in shapes.items():
        a = raw[key]
        if a.dtype.kind not in "fiu":
            raise ConfigError(f"has dtype {a.dtype}, expected numbers", path=path, key=key)
        a = a.astype(np.float64)
        if shape is None and (a.ndim != 2 or a.shape[1] != n_f or a.shape[0] < 1):
            raise ConfigError(f"has shape {a.shape}, expected (N >= 1, {n_f})", path=path, key=key)
        if shape is not None and a.shape != shape:
            raise ConfigError(f"has shape {a.shape}, expected {shape}", path=path, key=key)
        if not np.isfinite(a).all():
            raise ConfigError("contains a non-finite value", path=path, key=key)
        arr[key] = a
    if (arr["std"] < 0).any():
        raise ConfigError("must be >= 0", path=path, key=f"std[{int(np.flatnonzero(arr['std'] < 0)[0])}]")
    base = params if params is not None else LIFParams()
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if mode == "resample":
        values = arr["params"][rng.integers(0, arr["params"].shape[0], size)]
    else:
        corr = arr["corr"]
        if not np.allclose(corr, corr.T, atol=1e-12) or not np.allclose(np.diag(corr), 1.0, atol=1e-9):
            raise ConfigError("must be symmetric with a unit diagonal", path=path, key="corr")
        # factor the correlation (well scaled: C ~ 1e-12 and V_th ~ 0.5 side by side), then scale by std
        evals, evecs = np.linalg.eigh(corr)
        if evals.min() < -1e-9:
            raise ConfigError("is not positive semi-definite", path=path, key="corr")
        factor = arr["std"][:, None] * (evecs * np.sqrt(np.clip(evals, 0, None)))
        values = np.empty((size, n_f))
        todo = np.arange(size)
        for _ in range(max_rounds):
            values[todo] = arr["mean"] + rng.standard_normal((todo.size, n_f)) @ factor.T
            todo = todo[~_valid(values[todo], names, base)]
            if todo.size == 0:
                break
        else:
            raise InvalidParameterError(
                f"{path}: mode='normal': {todo.size} of {size} neurons still break a LIFParams rule after "
                f"{max_rounds} rounds of redrawing; use mode='resample'"
            )
    try:
        return Population(
            name=name, size=int(size), params=base, per_neuron={f: values[:, j] for j, f in enumerate(names)},
            bias_current_amp=bias_current_amp, v_init_volt=v_init_volt,
        )  # fmt: skip
    except InvalidParameterError as exc:
        raise ConfigError(str(exc), path=path, key="params") from None


def _valid(values: NDArray[np.float64], names: list[str], base: LIFParams) -> NDArray[np.bool_]:
    col = {f: values[:, j] for j, f in enumerate(names)}

    def get(f: str) -> Any:
        return col.get(f, getattr(base, f))

    ok = (np.asarray(get("c_m_farad")) > 0) & (np.asarray(get("g_leak_siemens")) >= 0)
    ok &= np.asarray(get("v_reset_volt")) < np.asarray(get("v_th_volt"))
    ok &= (np.asarray(get("t_ref_s")) >= 0) & (np.asarray(get("tau_adapt_s")) > 0)
    ok &= np.asarray(get("noise_sigma_volt")) >= 0
    return np.broadcast_to(ok, (values.shape[0],)) & np.isfinite(values).all(axis=1)

