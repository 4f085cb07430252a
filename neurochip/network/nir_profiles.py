"""Exporter profiles: the conventions each NIR exporter writes with, each with its source.

NIR states the equations of its nodes in continuous time but not the time step the weights were
trained for, nor how a step-based simulator resets.  Each tool fixes these its own way; a
profile names that way so that :func:`~neurochip.network.nir_io.from_nir` does not guess:

========== ========= ======================== =========================================================
profile    dt_s (s)  reset the tool uses       source
========== ========= ======================== =========================================================
nir        1         v <- v_reset              NIR's node definitions (a spike is a unit-area Dirac
                                               pulse; LIF/IF reset to v_reset)
snntorch   1e-4      subtract (v - threshold)  snntorch/export_nir.py: ``dt = 1e-4``, Leaky ->
                                               LIF(tau = dt/(1-beta), r = tau/dt), Synaptic -> CubaLIF
                                               (w_in = tau_syn/dt); ``reset_mechanism="subtract"``
                                               is snnTorch's default
sinabs     1         subtract, several spikes  sinabs/nir.py: IAF -> IF(r = 1, v_threshold), LIF ->
                     per step                  LIF(tau_mem in steps, r = 1); Sinabs' layers default
                                               to ``MembraneSubtract`` and ``MultiSpike``; its import
                                               sets ``min_v_mem = -v_threshold``
========== ========= ======================== =========================================================

Norse, Rockpool and Lava-DL are not profiles yet (their exporters' conventions have not been
checked against their code).  A spike is a pulse of area ``dt_s`` in every profile (one step of
height 1), and the node fields are read as the graph writes them (snnTorch's r = tau/dt and
Sinabs' r = 1 already carry their scaling), so a profile sets ``dt_s`` and the reset, and for
snnTorch reads its LIF and CubaLIF nodes per step (``per_step_leak``: decays beta = 1 - dt/tau_mem
and alpha = 1 - dt/tau_syn per step, as snnTorch's Leaky and Synaptic do, and its subtraction one
step late; see docs/networks.md).

neurochip's LIF and IF neurons (delta synapses) reset to a value only: a profile whose tool
subtracts imports them with ``reset="value"`` and says so (an approximation whose error is the
overshoot above threshold at a step); current-based nodes (CubaLIF) take the subtraction, which
in continuous time equals the reset to a value at the crossing.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidParameterError

__all__ = ["Profile", "PROFILES", "profile"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """The conventions of one NIR exporter.

    Attributes
    ----------
    name : str
        The profile's name (``--from`` on the command line).
    dt_s : float
        Time step (s) the exporter's weights are for: a spike through weight W carries W dt_s.
    reset : {"value", "subtract"}
        How the exporter's spiking neurons reset.
    multi_spike : bool
        Whether a neuron may emit several spikes in one step (Sinabs' ``MultiSpike``).
    per_step_leak : bool
        Whether the tool's neurons decay by beta = 1 - dt/tau per step (snnTorch's Leaky and
        Synaptic, exported with tau = dt / (1 - beta), and the synaptic current by alpha = 1 -
        dt/tau_syn) rather than by e^{-dt/tau}; its LIF and CubaLIF nodes are then read per step.
    source : str
        Where the numbers come from (the exporter's code or docs).
    """

    name: str
    dt_s: float
    reset: str
    multi_spike: bool = False
    per_step_leak: bool = False
    source: str

    def __post_init__(self) -> None:
        if not self.dt_s > 0:
            raise InvalidParameterError(f"Profile.dt_s = {self.dt_s!r}: must be > 0")
        if self.reset not in ("value", "subtract"):
            raise InvalidParameterError(f"Profile.reset = {self.reset!r}: must be 'value' or 'subtract'")


#: The profiles, by name.
PROFILES: dict[str, Profile] = {
    "nir": Profile(name="nir", dt_s=1.0, reset="value",
                   source="NIR's node definitions (the nir package's docstrings; the NIR paper, Pedersen et al., Nat. Commun. 2024)"),
    "snntorch": Profile(name="snntorch", dt_s=1e-4, reset="subtract", per_step_leak=True,
                        source="snntorch/export_nir.py (dt = 1e-4; tau = dt / (1 - beta), r = tau / dt, "
                               "w_in = tau_syn / dt); snntorch.Leaky reset_mechanism='subtract' by default"),
    "sinabs": Profile(name="sinabs", dt_s=1.0, reset="subtract", multi_spike=True,
                      source="sinabs/nir.py (IAF -> IF(r = 1), LIF -> LIF(r = 1, tau_mem in steps)); "
                             "sinabs.layers IAF/LIF default reset_fn=MembraneSubtract(), spike_fn=MultiSpike"),
}  # fmt: skip

#: Exporters named in the issue that are not profiles yet.
NOT_YET = ("norse", "rockpool", "lava-dl")


def profile(name: str) -> Profile:
    """The profile called ``name``.

    Parameters
    ----------
    name : str
        One of :data:`PROFILES` (``"nir"``, ``"snntorch"``, ``"sinabs"``).

    Returns
    -------
    Profile
        Its time step, reset and source.

    Raises
    ------
    InvalidParameterError
        For an unknown name, or one not done yet (Norse, Rockpool, Lava-DL), listing the profiles.

    Examples
    --------
    >>> profile("sinabs").dt_s, profile("sinabs").reset
    (1.0, 'subtract')
    """
    if name in PROFILES:
        return PROFILES[name]
    if name in NOT_YET:
        raise InvalidParameterError(
            f"profile = {name!r}: not available yet (its exporter's conventions are unchecked); pass dt_s and "
            f"reset yourself, or use one of {sorted(PROFILES)}"
        )
    raise InvalidParameterError(f"profile = {name!r}: must be one of {sorted(PROFILES)}")
