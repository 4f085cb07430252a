"""The JSON the commands print: one key, one unit, whatever the flags.

The mapping reports of the Python API (``Mapping.report()``, ``BoardMapping.report()``) give a
link load and an inter-chip cost in packets/s when rates were given and in packets per spike
round (every neuron firing once) otherwise, under one name.  A script reading ``--json`` must not
have to look at ``rates_given`` to know the unit, so the commands print each under a name that
carries it, the one that does not apply as null with ``load_note`` saying why.  Counts that the
API holds as floats (counted from spikes, so whole numbers) are printed as integers.
"""

from __future__ import annotations

from typing import Any

PER_ROUND = "per_spike_round"
_NOTE_RATES = (
    "with --rates: packets/s (_hz) and the fraction of the link bandwidth; the per-spike-round "
    "figures (packets when every neuron fires once) are given without --rates"
)
_NOTE_NO_RATES = (
    "without --rates: packets per spike round (every neuron firing once); the loads in packets/s "
    "(_hz) and the fractions of the link bandwidth need --rates"
)


def whole(value: Any) -> Any:
    """A float that is a whole number as an int (counts); anything else unchanged."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def with_whole_counts(rows: Any, keys: tuple[str, ...]) -> Any:
    """``rows`` (a dict or a list of dicts) with the values of ``keys`` made ints where whole."""
    if isinstance(rows, list):
        return [with_whole_counts(r, keys) for r in rows]
    return {k: whole(v) if k in keys else v for k, v in rows.items()}


def loads_by_unit(rep: dict[str, Any], names: tuple[str, ...], *, bandwidth_hz: float | None = None) -> dict[str, Any]:
    """``rep`` with each key of ``names`` split by unit: ``NAME_hz`` (packets/s, with rates) and
    ``NAME_per_spike_round`` (without), the other null; with ``bandwidth_hz``, also
    ``link_utilisation_{max,mean}_fraction`` (null without rates).  Adds ``load_note``."""
    rated = bool(rep.get("rates_given"))
    out = {k: v for k, v in rep.items() if k not in names and k != "link_utilisation_max"}
    for name in names:
        value = rep.get(name)
        out[f"{name}_hz"] = value if rated else None
        out[f"{name}_{PER_ROUND}"] = None if rated else value
    if bandwidth_hz is not None:
        for stat in ("max", "mean"):
            value = rep.get(f"link_load_{stat}")
            out[f"link_utilisation_{stat}_fraction"] = value / bandwidth_hz if rated and value is not None else None
    out["load_note"] = _NOTE_RATES if rated else _NOTE_NO_RATES
    return out
