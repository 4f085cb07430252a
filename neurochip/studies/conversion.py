r"""ANN-to-SNN rate conversion through the LIF transfer function.

A ReLU network :math:`a^{(l)} = \max(0, W^{(l)} a^{(l-1)} + b^{(l)})` (NumPy weights, W of
shape (n_out, n_in)) becomes a network of LIF neurons with delta synapses whose rates stand for
the activations: :math:`r^{(l)} \approx \lambda_l a^{(l)}`.  A presynaptic train of rate r
through a synapse of weight w (a voltage jump) brings the charge :math:`C w` per spike, so a
neuron's mean input current is :math:`I_i = C \sum_j w_{ij} r_j + I^{bias}_i`, and its rate is
the LIF f-I curve :math:`f(I)` (:func:`neurochip.lif.firing_rate`).  Writing
:math:`I_i = I_0 + \kappa_l z_i` with :math:`z = W a + b` the ANN pre-activation gives

.. math::

    w_{ij} = \frac{\kappa_l W_{ij}}{C \lambda_{l-1}}, \qquad I^{bias}_i = I_0 + \kappa_l b_i ,

and the neuron's rate is :math:`f(I_0 + \kappa_l z_i)`.  The two conversions differ in how
they pick :math:`I_0` and :math:`\kappa_l`:

* **PIF-style** (the usual rate-based conversion, which ignores the leak and the refractory
  period): :math:`f(I) \approx I / (C (V_{th} - V_{reset}))`, so :math:`I_0 = 0` and
  :math:`\kappa_l = \lambda_l C (V_{th} - V_{reset})`.
* **LIF-aware**: :math:`I_0` and :math:`\kappa_l` are fitted so that
  :math:`f(I_0 + \kappa_l z) \approx \lambda_l \max(0, z)` in least squares over the layer's
  pre-activations on calibration data, with the true f-I curve (leak, rheobase and
  refractory saturation included).  :math:`I_0` near the rheobase puts the ReLU's knee where
  the neuron starts to fire.  Since each spike of a delta-synapse neuron is triggered by a
  jump that overshoots the threshold, and the excess is lost at the reset, the fit uses the
  f-I curve with the reset lowered by the mean overshoot (a few fixed-point rounds, see
  :func:`convert`).

Layer scales :math:`\lambda_l = r_{max} / \max a^{(l)}` (the largest activation of the
calibration data maps to ``max_rate_hz``): the data-based weight normalisation.  Inputs
:math:`x \in [0, 1]` are regular spike trains of rate :math:`\lambda_0 x` from relay neurons.
It checks the f-I closed forms :func:`neurochip.lif.firing_rate` and
:func:`neurochip.lif.pif_rate` as transfer functions: the mean-current prediction
(:meth:`Conversion.predicted_rates`) against the emulated network
(:func:`simulate_converted`).  See ``docs/lif-conversion.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InvalidParameterError
from ..lif import LIFParams, firing_rate, rheobase

__all__ = [
    "MLP",
    "train_mlp",
    "ConvertedLayer",
    "Conversion",
    "convert",
    "simulate_converted",
    "relative_error",
    "compare_conversions",
    "synthetic_task",
    "synthetic_study",
]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MLP:
    """A ReLU multilayer perceptron; every layer, the last included, applies ReLU.

    Parameters
    ----------
    weights : tuple of ndarray
        ``weights[l]`` of shape (n_out, n_in), dimensionless.
    biases : tuple of ndarray
        ``biases[l]`` of shape (n_out,).

    Examples
    --------
    >>> import numpy as np
    >>> mlp = MLP(weights=(np.array([[1.0, -1.0]]),), biases=(np.array([0.5]),))
    >>> mlp(np.array([[1.0, 0.0], [0.0, 1.0]]))
    array([[1.5],
           [0. ]])
    """

    weights: tuple[NDArray[np.float64], ...]
    biases: tuple[NDArray[np.float64], ...]

    def __post_init__(self) -> None:
        if len(self.weights) != len(self.biases) or not self.weights:
            raise InvalidParameterError("MLP: weights and biases must be non-empty and of equal length")
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            if w.ndim != 2 or b.shape != (w.shape[0],):
                raise InvalidParameterError(f"MLP layer {k}: weight {w.shape} and bias {b.shape} do not match")
            if k and w.shape[1] != self.weights[k - 1].shape[0]:
                raise InvalidParameterError(f"MLP layer {k}: {w.shape[1]} inputs, previous layer has {self.weights[k - 1].shape[0]}")

    def activations(self, x: ArrayLike) -> list[NDArray[np.float64]]:
        """[x, a1, ..., aL]: the inputs and every layer's activations.

        Parameters
        ----------
        x : array_like, shape (n_samples, n_in)

        Returns
        -------
        list of ndarray
            Arrays of shape (n_samples, width of the layer).
        """
        a = [np.asarray(x, dtype=np.float64)]
        for w, b in zip(self.weights, self.biases):
            a.append(np.maximum(0.0, a[-1] @ w.T + b))
        return a

    def __call__(self, x: ArrayLike) -> NDArray[np.float64]:
        return self.activations(x)[-1]


def train_mlp(
    x: ArrayLike, y: ArrayLike, hidden: tuple[int, ...] = (16, 16), *, steps: int = 300, lr: float = 0.05, seed: int = 0
) -> MLP:
    """Train a ReLU MLP on (x, y) by full-batch gradient descent on the mean squared error.

    Plain NumPy backpropagation, He initialisation; small and deterministic for a seed.

    Parameters
    ----------
    x : array_like, shape (n_samples, n_in)
    y : array_like, shape (n_samples, n_out)
        Non-negative targets (the last layer is a ReLU too).
    hidden : tuple of int
        Widths of the hidden layers.
    steps : int
        Gradient steps.
    lr : float
        Learning rate.
    seed : int
        Seed of the initial weights.

    Returns
    -------
    MLP

    Examples
    --------
    >>> x, y = synthetic_task(n=100)
    >>> mlp = train_mlp(x, y, (8,), steps=200)
    >>> [w.shape for w in mlp.weights]
    [(8, 4), (3, 8)]
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    rng = np.random.default_rng(seed)
    sizes = (x.shape[1], *hidden, y.shape[1])
    ws = [rng.normal(0, math.sqrt(2 / m), size=(n, m)) for m, n in zip(sizes[:-1], sizes[1:])]
    bs = [np.full(n, 0.01) for n in sizes[1:]]
    for _ in range(steps):
        acts = [x]
        pre = []
        for w, b in zip(ws, bs):
            z = acts[-1] @ w.T + b
            pre.append(z)
            acts.append(np.maximum(0.0, z))
        grad = 2 * (acts[-1] - y) / y.size
        for k in range(len(ws) - 1, -1, -1):
            grad = grad * (pre[k] > 0)
            gw = grad.T @ acts[k]
            gb = grad.sum(axis=0)
            grad = grad @ ws[k]
            ws[k] -= lr * gw
            bs[k] -= lr * gb
    return MLP(weights=tuple(ws), biases=tuple(bs))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ConvertedLayer:
    """One converted layer (made by :func:`convert`).

    Parameters
    ----------
    weight_volt : ndarray, shape (n_out, n_in)
        Synaptic weights (voltage jumps) in V.
    bias_amp : ndarray, shape (n_out,)
        Bias currents in A.
    rate_scale_hz : float
        The layer's rate scale lambda, in Hz per unit activation.
    offset_amp, gain_amp : float
        Offset I0 and gain kappa in A.
    overshoot_volt : float
        The overshoot delta in V that the LIF-aware fit assumed (0 for PIF-style).
    """

    weight_volt: NDArray[np.float64]
    bias_amp: NDArray[np.float64]
    rate_scale_hz: float
    offset_amp: float
    gain_amp: float
    overshoot_volt: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Conversion:
    """A converted network (made by :func:`convert`).

    Parameters
    ----------
    method : str
        ``"lif"`` or ``"pif"``.
    params : LIFParams
        The neuron of every unit.
    input_scale_hz : float
        Input rate per unit input, in Hz.
    layers : tuple of ConvertedLayer
    """

    method: str
    params: LIFParams
    input_scale_hz: float
    layers: tuple[ConvertedLayer, ...]

    def predicted_rates(self, x: ArrayLike) -> NDArray[np.float64]:
        """Output rates the mean-current model predicts, layer by layer through the f-I curve.

        Parameters
        ----------
        x : array_like, shape (n_samples, n_in)
            Inputs in [0, 1].

        Returns
        -------
        ndarray, shape (n_samples, n_out)
            Rates in Hz (:func:`neurochip.lif.firing_rate` of each layer's mean current).
        """
        r = np.asarray(x, dtype=np.float64) * self.input_scale_hz
        for layer in self.layers:
            current = self.params.c_m_farad * r @ layer.weight_volt.T + layer.bias_amp
            r = np.asarray(firing_rate(_with_overshoot(self.params, layer.overshoot_volt), current))
        return r

    def network(self, n_copies: int = 1) -> Any:
        """The network to emulate.

        Parameters
        ----------
        n_copies : int
            Independent copies side by side (one per input sample).

        Returns
        -------
        Network
            A relay population ``in`` and one population per layer (``l1``, ``l2``, ...),
            connected by block-diagonal :class:`~neurochip.network.Explicit` projections with
            a 1 ms delay.
        """
        from ..network import Explicit, Network, Population, Projection

        sizes = [self.layers[0].weight_volt.shape[1]] + [ly.weight_volt.shape[0] for ly in self.layers]
        relay = self.params.replace(t_ref_s=0.0)
        pops = [Population(name="in", size=sizes[0] * n_copies, params=relay)]
        projs = []
        for k, layer in enumerate(self.layers):
            n_out, n_in = layer.weight_volt.shape
            pops.append(
                Population(name=f"l{k + 1}", size=n_out * n_copies, params=self.params,
                           bias_current_amp=np.tile(layer.bias_amp, n_copies))  # fmt: skip
            )
            post, pre = np.meshgrid(np.arange(n_out), np.arange(n_in), indexing="ij")
            offs_pre = (np.arange(n_copies) * n_in)[:, None]
            offs_post = (np.arange(n_copies) * n_out)[:, None]
            rule = Explicit(
                pre=(pre.ravel()[None, :] + offs_pre).ravel(),
                post=(post.ravel()[None, :] + offs_post).ravel(),
                weight_volt=np.tile(layer.weight_volt.ravel(), n_copies),
            )
            src = "in" if k == 0 else f"l{k}"
            projs.append(Projection(pre=src, post=f"l{k + 1}", rule=rule, delay_s=1e-3))
        return Network(populations=tuple(pops), projections=tuple(projs))


def _with_overshoot(params: LIFParams, overshoot_volt: float) -> LIFParams:
    """The neuron as the rate model sees it when each spike wastes ``overshoot_volt`` above
    threshold: the same rheobase, a reset that far lower."""
    if overshoot_volt == 0.0:
        return params
    return params.replace(v_reset_volt=params.v_reset_volt - overshoot_volt)


def _mean_overshoot(weight_volt: NDArray[np.float64], pre_rates_hz: NDArray[np.float64]) -> float:
    """Mean overshoot above threshold when spikes are triggered by jumps: a jump w lands the
    membrane uniformly in [V_th, V_th + w), so on average w/2 above, and jump w triggers a
    share of spikes proportional to its rate times w: delta = sum r w^2 / (2 sum r w) over the
    excitatory synapses and the calibration samples."""
    w = np.maximum(weight_volt, 0.0)
    den = float((pre_rates_hz @ w.T).sum())
    return 0.0 if den == 0 else float((pre_rates_hz @ (w**2).T).sum()) / (2.0 * den)


def _fit_offset_gain(params: LIFParams, z: NDArray[np.float64], rate_scale: float) -> tuple[float, float]:
    """I0, kappa minimising sum (f(I0 + kappa z) - rate_scale max(0, z))^2 over the samples z."""
    from scipy.optimize import least_squares

    target = rate_scale * np.maximum(0.0, z)
    rh = rheobase(params)
    dv = params.v_th_volt - params.v_reset_volt
    k0 = rate_scale * params.c_m_farad * dv

    def resid(theta: NDArray[np.float64]) -> NDArray[np.float64]:
        i0, k = theta[0] * max(rh, k0), theta[1] * k0
        return (np.asarray(firing_rate(params, i0 + k * z)) - target) / rate_scale

    best = None
    for start in ((rh / max(rh, k0), 1.0), (rh / max(rh, k0), 2.0), (0.5 * rh / max(rh, k0), 1.5)):
        sol = least_squares(resid, np.asarray(start), method="trf", x_scale=1.0)
        if best is None or sol.cost < best.cost:
            best = sol
    assert best is not None
    return float(best.x[0] * max(rh, k0)), float(best.x[1] * k0)


def convert(
    mlp: MLP,
    params: LIFParams,
    x_calibration: ArrayLike,
    *,
    method: str = "lif",
    max_rate_hz: float | None = None,
    overshoot_iterations: int = 3,
) -> Conversion:
    """Convert a ReLU MLP into LIF neurons (``method`` ``"lif"`` or ``"pif"``; see the module docstring).

    Parameters
    ----------
    mlp : MLP
    params : LIFParams
        The neuron every unit becomes (leaky, non-adapting, noise-free).
    x_calibration : array_like
        Inputs in [0, 1] of shape (n_samples, n_in) for the weight normalisation and the fit.
    max_rate_hz : float, optional
        Rate of the largest calibration activation of every layer (default 0.4 / t_ref, or
        200 Hz without a refractory period).
    overshoot_iterations : int
        LIF-aware only: rounds of the overshoot correction.  With delta synapses a spike is
        triggered by a jump that lands above threshold, and the excess is lost at the reset;
        the fit then uses the f-I curve of a neuron whose reset is lower by the mean
        overshoot delta (:func:`_mean_overshoot`, from the converted weights and the
        calibration rates), which changes the weights, hence delta: a few fixed-point rounds.
        0 fits the plain f-I curve.

    Returns
    -------
    Conversion

    Examples
    --------
    >>> import numpy as np
    >>> from neurochip.lif import LIFParams
    >>> mlp = MLP(weights=(np.array([[1.0, -1.0]]),), biases=(np.array([0.5]),))
    >>> pif = LIFParams(g_leak_siemens=0.0, t_ref_s=0.0)  # f(I) = I / (C dV) exactly
    >>> conv = convert(mlp, pif, [[1.0, 0.0], [0.5, 0.5]], method="pif", max_rate_hz=100.0)
    >>> conv.predicted_rates([[1.0, 0.0], [0.0, 1.0]])  # 100 Hz for the largest activation
    array([[100.],
           [  0.]])
    """
    if method not in ("lif", "pif"):
        raise InvalidParameterError(f"method = {method!r}: must be 'lif' or 'pif'")
    if params.is_adapting or params.noise_sigma_volt > 0:
        raise InvalidParameterError("convert: the neuron must be non-adapting and noise-free")
    if max_rate_hz is None:
        max_rate_hz = 0.4 / params.t_ref_s if params.t_ref_s > 0 else 200.0
    acts = mlp.activations(x_calibration)
    x = acts[0]
    if x.min() < 0 or x.max() > 1:
        raise InvalidParameterError("x_calibration: inputs must be in [0, 1] (rates max_rate_hz * x)")
    scales = [float(max_rate_hz)]
    for a in acts[1:]:
        peak = float(a.max())
        if not peak > 0:
            raise InvalidParameterError("convert: a layer is silent on the calibration data (all activations 0)")
        scales.append(max_rate_hz / peak)
    dv = params.v_th_volt - params.v_reset_volt
    layers = []
    for k, (w, b) in enumerate(zip(mlp.weights, mlp.biases)):
        lam_in, lam = scales[k], scales[k + 1]
        delta = 0.0
        if method == "pif":
            i0, kappa = 0.0, lam * params.c_m_farad * dv
        else:
            z = (acts[k] @ w.T + b).ravel()
            i0, kappa = _fit_offset_gain(params, z, lam)
            for _ in range(overshoot_iterations):
                delta = _mean_overshoot(kappa * w / (params.c_m_farad * lam_in), acts[k] * lam_in)
                i0, kappa = _fit_offset_gain(_with_overshoot(params, delta), z, lam)
        layers.append(
            ConvertedLayer(
                weight_volt=kappa * w / (params.c_m_farad * lam_in),
                bias_amp=i0 + kappa * b,
                rate_scale_hz=lam,
                offset_amp=i0,
                gain_amp=kappa,
                overshoot_volt=delta,
            )
        )
    return Conversion(method=method, params=params, input_scale_hz=scales[0], layers=tuple(layers))


def simulate_converted(
    conv: Conversion, x: ArrayLike, *, duration_s: float = 1.0, warmup_s: float = 0.1, seed: int = 0
) -> NDArray[np.float64]:
    """Run the converted network in the emulator and count the output rates.

    Input k of sample s is a regular train of rate ``input_scale_hz * x[s, k]`` (first spike at
    a random phase, seeded) into a relay neuron that fires once per input spike.

    Parameters
    ----------
    conv : Conversion
    x : array_like, shape (n_samples, n_in)
        Inputs in [0, 1], not all 0.
    duration_s : float
        Emulated time in s.
    warmup_s : float
        Spikes before this time (s) are not counted.
    seed : int
        Seed of the input phases and of the run.

    Returns
    -------
    ndarray, shape (n_samples, n_out)
        Output-layer rates in Hz.
    """
    from ..emulator import run
    from ..network import SpikeTimesInput

    x = np.asarray(x, dtype=np.float64)
    n_samples, n_in = x.shape
    net = conv.network(n_samples)
    rng = np.random.default_rng(seed)
    times, neurons = [], []
    rates = (x * conv.input_scale_hz).ravel()
    for idx, r in enumerate(rates):
        if r <= 0:
            continue
        period = 1.0 / r
        t = rng.uniform(0, period) + np.arange(int(duration_s * r) + 1) * period
        t = t[t < duration_s]
        times.append(t)
        neurons.append(np.full(t.size, idx))
    if not times:
        raise InvalidParameterError("simulate_converted: every input is 0")
    kick = 2.0 * (conv.params.v_th_volt - conv.params.v_reset_volt) + abs(conv.params.v_reset_volt - conv.params.e_leak_volt)
    stim = SpikeTimesInput(population="in", times_s=np.concatenate(times), neurons=np.concatenate(neurons), weight_volt=kick)
    res = run(net, duration_s=duration_s, inputs=[stim], seed=seed)
    ev = res.events
    out_name = f"l{len(conv.layers)}"
    n_out = conv.layers[-1].weight_volt.shape[0]
    off = net.offset(out_name)
    sel = (ev["time_s"] >= warmup_s) & (ev["address"] >= off) & (ev["address"] < off + n_out * n_samples)
    counts = np.bincount(ev["address"][sel] - off, minlength=n_out * n_samples)
    return counts.reshape(n_samples, n_out) / (duration_s - warmup_s)


def relative_error(ann: ArrayLike, snn_rates_hz: ArrayLike, rate_scale_hz: float) -> float:
    """RMS of (rate / lambda - ANN output) over the RMS of the ANN output.

    Parameters
    ----------
    ann : array_like
        ANN outputs.
    snn_rates_hz : array_like
        SNN rates in Hz, same shape.
    rate_scale_hz : float
        lambda of the output layer, in Hz per unit activation.

    Returns
    -------
    float
        Dimensionless; 0 for a perfect conversion.

    Examples
    --------
    >>> round(relative_error([1.0, 2.0], [110.0, 190.0], 100.0), 4)
    0.0632
    """
    a = np.asarray(ann, dtype=np.float64)
    s = np.asarray(snn_rates_hz, dtype=np.float64) / rate_scale_hz
    return float(np.sqrt(np.mean((s - a) ** 2)) / np.sqrt(np.mean(a**2)))


def compare_conversions(
    mlp: MLP,
    params: LIFParams,
    x_calibration: ArrayLike,
    x_test: ArrayLike,
    *,
    duration_s: float = 1.0,
    seed: int = 0,
    max_rate_hz: float | None = None,
) -> dict[str, Any]:
    """Convert with both methods, run both in the emulator on ``x_test`` and report the errors.

    Parameters
    ----------
    mlp : MLP
    params : LIFParams
        The neuron of every unit.
    x_calibration : array_like, shape (n_samples, n_in)
        Inputs in [0, 1] for the normalisation and the fit (:func:`convert`).
    x_test : array_like, shape (n_test, n_in)
        Inputs in [0, 1] run in the emulator.
    duration_s : float
        Emulated time in s.
    seed : int
        Seed of the run.
    max_rate_hz : float, optional
        As in :func:`convert`.

    Returns
    -------
    dict
        ``ann_output`` and per method (``"pif"``, ``"lif"``): ``conversion``, ``snn_rate_hz``
        (emulated), ``predicted_rate_hz`` (mean-current model), ``rate_scale_hz`` and the
        relative errors against the ANN, ``error`` (emulated) and ``predicted_error``.
    """
    ann = mlp(x_test)
    out: dict[str, Any] = {"ann_output": ann}
    for method in ("pif", "lif"):
        conv = convert(mlp, params, x_calibration, method=method, max_rate_hz=max_rate_hz)
        lam = conv.layers[-1].rate_scale_hz
        snn = simulate_converted(conv, x_test, duration_s=duration_s, seed=seed)
        pred = conv.predicted_rates(x_test)
        out[method] = {
            "conversion": conv,
            "snn_rate_hz": snn,
            "predicted_rate_hz": pred,
            "rate_scale_hz": lam,
            "error": relative_error(ann, snn, lam),
            "predicted_error": relative_error(ann, pred, lam),
        }
    return out


def synthetic_task(seed: int = 0, n: int = 400) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The toy regression task of ``neurochip lif convert`` and ``docs/lif-conversion.md``.

    Parameters
    ----------
    seed : int
        Seed of the inputs.
    n : int
        Number of samples.

    Returns
    -------
    x : ndarray, shape (n, 4)
        Inputs, uniform in [0, 1].
    y : ndarray, shape (n, 3)
        Non-negative targets max(0, x0 + x1 - 0.5), max(0, x2 - x3 + 0.3), x0 x3 / 2.

    Examples
    --------
    >>> x, y = synthetic_task(n=5)
    >>> x.shape, y.shape, bool(y.min() >= 0)
    ((5, 4), (5, 3), True)
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, 4))
    y = np.stack([np.maximum(0, x[:, 0] + x[:, 1] - 0.5), np.maximum(0, x[:, 2] - x[:, 3] + 0.3),
                  0.5 * x[:, 0] * x[:, 3]], axis=1)  # fmt: skip
    return x, y


def synthetic_study(
    params: LIFParams,
    *,
    n_samples: int = 20,
    duration_s: float = 2.0,
    max_rate_hz: float | None = None,
    seed: int = 0,
) -> tuple[dict[str, Any], dict[str, Conversion]]:
    """Train a 4-16-16-3 ReLU MLP on :func:`synthetic_task`, convert it both ways and run both.

    Parameters
    ----------
    params : LIFParams
        The neuron every unit becomes (leaky or not, non-adapting, noise-free).
    n_samples : int
        Test inputs (uniform in [0, 1]^4, seed + 1) run in the emulator side by side.
    duration_s : float
        Emulated time in s.
    max_rate_hz : float, optional
        Rate of the largest calibration activation (default 0.2 / t_ref, or 200 Hz without a
        refractory period).
    seed : int
        Seed of the task, the training and the emulator runs.

    Returns
    -------
    report : dict
        ``params``, ``max_rate_hz``, ``ann_train_mse``, ``ann_output`` and per method
        (``"pif"``, ``"lif"``) the entries of :func:`compare_conversions` without the
        conversion, plus its layers' ``offset_amp``, ``gain_amp`` (A) and ``overshoot_volt`` (V).
    conversions : dict
        Method -> :class:`Conversion` (for example to export with NIR).
    """
    if max_rate_hz is None:
        max_rate_hz = 0.2 / params.t_ref_s if params.t_ref_s > 0 else 200.0
    x, y = synthetic_task(seed)
    mlp = train_mlp(x, y, (16, 16), steps=500, lr=0.05, seed=seed)
    x_test = np.random.default_rng(seed + 1).uniform(0, 1, (n_samples, 4))
    rep = compare_conversions(mlp, params, x, x_test, duration_s=duration_s, seed=seed, max_rate_hz=max_rate_hz)
    conversions = {m: rep[m].pop("conversion") for m in ("pif", "lif")}
    for m, conv in conversions.items():
        rep[m]["offset_amp"] = [ly.offset_amp for ly in conv.layers]
        rep[m]["gain_amp"] = [ly.gain_amp for ly in conv.layers]
        rep[m]["overshoot_volt"] = [ly.overshoot_volt for ly in conv.layers]
    report = {
        "params": params.to_dict(),
        "max_rate_hz": max_rate_hz,
        "ann_train_mse": float(np.mean((mlp(x) - y) ** 2)),
        "ann_output": rep["ann_output"],
        "pif": rep["pif"],
        "lif": rep["lif"],
    }
    return report, conversions
