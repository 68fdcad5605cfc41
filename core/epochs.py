"""Recording epochs: the stretches of ``t`` without gaps, where concatenated sessions meet.

Real recordings are often several sessions (or sleep and wake epochs) joined end to end: ``t`` jumps at each
junction and nothing was recorded in between. A gap is an interval between consecutive samples of ``t``
longer than ``max_gap_s``; by default that is the larger of 0.1 s and 5 × the median sample interval, so
a few dropped tracking frames at 39 Hz are not a gap but a 0.2 s jump at 100 Hz is. Bins inside a gap hold
no data, and smoothing across one would blend unrelated states into false transitions (false loops in the
point cloud), so rates are computed per epoch and shuffles shift trains along the gap-free time axis.
"""

from __future__ import annotations

import numpy as np

MIN_GAP_S = 0.1
GAP_FACTOR = 5.0


def auto_max_gap_s(t: np.ndarray) -> float:
    """Longest sample interval (s) that is not a gap: max(0.1 s, 5 × the median interval of ``t``)."""
    steps = np.diff(np.asarray(t, dtype=np.float64))
    if steps.size == 0:
        return np.inf
    return float(max(MIN_GAP_S, GAP_FACTOR * np.median(steps)))


def find_epochs(t: np.ndarray, max_gap_s: float | None = None) -> np.ndarray:
    """(n_epochs, 2) start and end times (s) of the gap-free stretches of ``t``."""
    t = np.asarray(t, dtype=np.float64)
    limit = auto_max_gap_s(t) if max_gap_s is None else max_gap_s
    jumps = np.flatnonzero(np.diff(t) > limit)
    starts = np.concatenate([[t[0]], t[jumps + 1]])
    ends = np.concatenate([t[jumps], [t[-1]]])
    return np.stack([starts, ends], axis=1)


def epoch_of_bins(centres_s: np.ndarray, epochs: np.ndarray) -> np.ndarray:
    """Index of the epoch containing each bin centre (s), −1 for centres inside a gap."""
    idx = np.searchsorted(epochs[:, 0], centres_s, side="right") - 1
    inside = (idx >= 0) & (centres_s <= epochs[np.clip(idx, 0, None), 1])
    return np.where(inside, idx, -1)


def segments(labels: np.ndarray) -> list[slice]:
    """Slices of consecutive equal, non-negative labels (the bins of each epoch)."""
    change = np.flatnonzero(np.diff(labels)) + 1
    bounds = np.concatenate([[0], change, [labels.size]])
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if labels[a] >= 0]


def collapse_times(times_s: np.ndarray, epochs: np.ndarray) -> np.ndarray:
    """Times on the gap-free axis (s from the first epoch's start); times inside gaps go to the next epoch."""
    lengths = epochs[:, 1] - epochs[:, 0]
    offsets = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
    idx = np.clip(np.searchsorted(epochs[:, 0], times_s, side="right") - 1, 0, len(epochs) - 1)
    within = np.clip(times_s - epochs[idx, 0], 0.0, lengths[idx])
    return offsets[idx] + within


def expand_times(collapsed_s: np.ndarray, epochs: np.ndarray) -> np.ndarray:
    """Inverse of :func:`collapse_times`: gap-free times back onto the recording's clock (s)."""
    lengths = epochs[:, 1] - epochs[:, 0]
    offsets = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
    idx = np.clip(np.searchsorted(offsets, collapsed_s, side="right") - 1, 0, len(epochs) - 1)
    return epochs[idx, 0] + np.minimum(collapsed_s - offsets[idx], lengths[idx])


def total_duration_s(epochs: np.ndarray) -> float:
    """Time (s) covered by the epochs, gaps excluded."""
    return float(np.sum(epochs[:, 1] - epochs[:, 0]))
