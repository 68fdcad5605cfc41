"""How a decoded circle relates to the animal's behaviour: is it a compass (follows head direction), a loop
of places (the position explains it and it turns once around the arena at most), or one circle of a
spatially periodic (grid) code? Used by significance to refuse loops that are behaviour rather than an
attractor manifold (see :mod:`core.significance`).
"""

from __future__ import annotations

import numpy as np

from core.decoding import Decoding, fisher_lee_correlation
from core.preprocess import RateMatrix
from core.significance import HEAD_DIRECTION_FOLLOWED

SPATIAL_BINS = 10  # per side of the arena, for how a phase depends on position
# A decoded ring whose |circular correlation| with the recorded head direction is below this does not follow
# it. The same 0.5 at which significance calls a ring a compass (HEAD_DIRECTION_FOLLOWED), so the Decode page
# never warns about a ring that significance read as following head direction, nor the reverse. Measured:
# rings decoded from the synthetic head-direction ensembles of the tests (16–20 cells, 4–5 min) reach
# 0.86–0.96; an angle unrelated to head direction gives |ρ| near 0.
HEAD_DIRECTION_AGREEMENT = HEAD_DIRECTION_FOLLOWED


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


def head_direction_warning(decoding: Decoding | None) -> str:
    """A warning when a decoded ring does not follow the recorded head direction (|ρ| below
    :data:`HEAD_DIRECTION_AGREEMENT`); "" when it does, or when the agreement was not measured (no head
    direction, or a torus, whose circles are not expected to follow it)."""
    hd = (decoding.metrics.get("head_direction") if decoding is not None else None) or {}
    rho = hd.get("circular_correlation")
    if rho is None or rho >= HEAD_DIRECTION_AGREEMENT:
        return ""
    return (
        f"The decoded angle does not follow the recorded head direction (ρ = {rho:.2f}, median error "
        f"{hd.get('median_error_deg', float('nan')):.0f}°; a head-direction ring reaches ρ ≥ "
        f"{HEAD_DIRECTION_AGREEMENT:g}): the ring may not be the head-direction ring. It may follow another "
        "variable (position along a looping path, time), or head direction may be recorded poorly; compare "
        "them in the PathCompare view before reading the ring as a compass."
    )
