"""Shared test fixtures: a seeded rng, and the rule that a required engine never skips."""

from __future__ import annotations

import os

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator: every stochastic test is reproducible."""
    return np.random.default_rng(20260101)


def require_or_skip(available: bool, what: str, env: str = "NEUROCHIP_REQUIRE_SPICE") -> None:
    """Skip when an engine is missing, but fail when ``env`` is set to 1 (as CI does)."""
    if available:
        return
    if os.environ.get(env) == "1":
        pytest.fail(f"{what} is required ({env}=1) but not available")
    pytest.skip(f"{what} not available")
