"""Angles: the constants and wrapping every module shares (radians throughout)."""

from __future__ import annotations

import numpy as np

TWO_PI = 2.0 * np.pi


def wrap_pi(angle: np.ndarray | float) -> np.ndarray:
    """Angle(s) (rad) wrapped to [−π, π)."""
    return np.mod(np.asarray(angle) + np.pi, TWO_PI) - np.pi
