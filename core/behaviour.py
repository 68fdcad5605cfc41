"""How a decoded circle relates to the animal's behaviour: is it a compass (follows head direction), a loop
of places (the position explains it and it turns once around the arena at most), or one circle of a
spatially periodic (grid) code? Used by significance to refuse loops that are behaviour rather than an
attractor manifold (see :mod:`core.significance`).
"""

from __future__ import annotations

import numpy as np

from core.decoding import fisher_lee_correlation
from core.preprocess import RateMatrix

SPATIAL_BINS = 10  # per side of the arena, for how a phase depends on position


def spatial_phase_map(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(periods, explained) of a phase (rad) sampled at positions x, y (cm): the mean resultant length of the
    phase within 10 × 10 bins of the occupied arena, weighted by occupancy (1 when the phase is a function of
    position, ~0 when not), and how many times the binned phase turns across the arena (mean |wrapped
    difference| between neighbouring occupied bins × 10 / 2π)."""
    cells = [np.clip(((v - v.min()) / max(np.ptp(v), 1e-9) * SPATIAL_BINS).astype(int), 0, SPATIAL_BINS - 1)
             for v in (x, y)]  # fmt: skip
    z = np.zeros((SPATIAL_BINS, SPATIAL_BINS), complex)
    n = np.zeros((SPATIAL_BINS, SPATIAL_BINS))
    np.add.at(z, tuple(cells), np.exp(1j * theta))
    np.add.at(n, tuple(cells), 1.0)
    explained = float(np.abs(z).sum() / max(n.sum(), 1.0))
    phase, seen = np.angle(z), n > 0
    steps = [
        np.abs(np.angle(np.exp(1j * (a[m] - b[m]))))
        for a, b, m in (
            (phase[1:], phase[:-1], seen[1:] & seen[:-1]),
            (phase[:, 1:], phase[:, :-1], seen[:, 1:] & seen[:, :-1]),
        )
    ]
    steps = np.concatenate(steps)
    periods = float(steps.mean() * SPATIAL_BINS / (2 * np.pi)) if steps.size else 0.0
    return periods, explained


def behaviour_checks(
    theta: np.ndarray, rates: RateMatrix, rows: np.ndarray
) -> tuple[float | None, list[tuple[float, float]]]:
    """How the phases ``theta`` (n_points, c) at the bins ``rows`` of the rate matrix relate to behaviour:
    the first circle's |circular correlation| with head direction (None without it), and (periods,
    explained) of every circle (:func:`spatial_phase_map`); :mod:`core.significance` reads them."""
    x, y = rates.x[rows], rates.y[rows]
    hd = None if rates.hd is None else abs(fisher_lee_correlation(theta[:, 0], rates.hd[rows]))
    return hd, [spatial_phase_map(theta[:, c], x, y) for c in range(theta.shape[1])]
