"""Which bars are real: a fast lifetime-gap rule, a shuffle test on demand, and the topological verdict.

Gap rule: bars of one dimension sorted by lifetime l1 ≥ l2 ≥ …; the count n is the k ≤ ``max_bars`` with the
largest ratio l_k / l_(k+1), kept when that ratio is at least ``gap_ratio`` (else 0).

Shuffle test: each unit's spike train is shifted circularly in time by its own random offset (at least
``min_shift_s``), which keeps every unit's rate and autocorrelation but destroys their joint structure; the
shuffled recording goes through the identical rate → point cloud → homology pipeline; a real bar is
significant when its lifetime exceeds the ``percentile`` of the shuffles' longest bars (per dimension).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.errors import ConfigError
from core.recording import Recording


@dataclass(frozen=True)
class SignificanceConfig:
    """n_shuffles: 0 = gap rule only. percentile: of the shuffled maxima (e.g. 99). seed: of the offsets.
    min_shift_s: smallest circular shift (s). n_jobs: parallel processes for shuffles. gap_ratio, max_bars:
    the gap rule."""

    n_shuffles: int = field(default=0, metadata={"min": 0, "max": 1000, "help": "shuffles (0: gap rule)"})
    percentile: float = field(default=99.0, metadata={"min": 50.0, "max": 100.0, "help": "null percentile"})
    seed: int = field(default=0, metadata={"help": "random seed of the shuffles"})
    min_shift_s: float = field(default=20.0, metadata={"unit": "s", "min": 0.0, "help": "smallest shift"})
    n_jobs: int = field(default=2, metadata={"min": 1, "max": 64, "help": "parallel processes"})
    gap_ratio: float = field(default=2.0, metadata={"min": 1.0, "max": 100.0, "help": "gap rule ratio"})
    max_bars: int = field(default=3, metadata={"min": 1, "max": 10, "help": "most bars the gap rule counts"})

    def validate(self) -> None:
        if self.n_shuffles < 0:
            raise ConfigError("n_shuffles must be ≥ 0")
        if not 0 < self.percentile <= 100:
            raise ConfigError(f"percentile must be in (0, 100], got {self.percentile}")
        if self.gap_ratio < 1:
            raise ConfigError("gap_ratio must be ≥ 1")


@dataclass
class Significance:
    """significant: {"h1": n, "h2": n} (h2 absent when not computed). method: "gap" or "shuffle".
    thresholds: lifetime above which a bar counts, per dimension (shuffle) or the gap position (gap).
    null_maxima: per dimension, the longest bar of each shuffle."""

    significant: dict[str, int]
    method: str
    thresholds: dict[str, float]
    null_maxima: dict[str, list[float]]
    verdict: str
    evidence: str


def gap_count(lifetimes: np.ndarray, gap_ratio: float, max_bars: int) -> tuple[int, float]:
    """(count, lifetime threshold) by the largest-ratio gap among the longest ``max_bars`` + 1 bars."""
    life = np.sort(np.asarray(lifetimes, dtype=np.float64))[::-1]
    if life.size == 0:
        return 0, float("inf")
    tail = np.append(life[: max_bars + 1], 0.0)
    best_k, best_ratio = 0, 0.0
    # a gap needs a bar below it, unless there is a single bar
    for k in range(1, min(max_bars, max(life.size - 1, 1)) + 1):
        ratio = tail[k - 1] / tail[k] if tail[k] > 0 else np.inf
        if ratio > best_ratio:
            best_k, best_ratio = k, ratio
    if best_ratio < gap_ratio:
        return 0, float(life[0])
    return best_k, float(0.5 * (tail[best_k - 1] + tail[best_k]))


def verdict(significant: dict[str, int]) -> tuple[str, str]:
    """("torus" | "ring" | "none", evidence sentence) from significant bar counts."""
    h1 = significant.get("h1", 0)
    h2 = significant.get("h2")
    counts = f"{h1} significant H1 bar{'s' if h1 != 1 else ''}"
    if h2 is not None:
        counts += f" and {h2} significant H2 bar{'s' if h2 != 1 else ''}"
    if h1 == 2 and h2 in (None, 1):
        return "torus", counts + ": the population activity lies on a torus"
    if h1 == 1 and h2 in (None, 0):
        return "ring", counts + ": the population activity lies on a ring"
    if h1 == 2:
        return "none", counts + ": two circles but no enclosed surface, not a torus (try more H2 landmarks)"
    return "none", counts + ": neither a ring (1, 0) nor a torus (2, 1)"


def gap_significance(lifetimes: list[np.ndarray], config: SignificanceConfig) -> Significance:
    """Counts and verdict by the gap rule on H1 (and H2 when present); ``lifetimes[d]`` are H_d's bars."""
    significant, thresholds = {}, {}
    for dim in range(1, len(lifetimes)):
        n, thr = gap_count(lifetimes[dim], config.gap_ratio, 1 if dim == 2 else config.max_bars)
        significant[f"h{dim}"] = n
        thresholds[f"h{dim}"] = thr
    v, evidence = verdict(significant)
    return Significance(significant, "gap", thresholds, {}, v, evidence + " (lifetime-gap rule)")


def shift_recording(recording: Recording, rng: np.random.Generator, min_shift_s: float) -> Recording:
    """A copy whose units are each shifted circularly in time by an independent random offset (s)."""
    t0, t1 = float(recording.t[0]), float(recording.t[-1])
    span = t1 - t0
    lo = min(min_shift_s, span / 2)
    offsets = rng.uniform(lo, span - lo, recording.n_units)
    if recording.rates is not None:
        steps = np.round(offsets / span * recording.t.size).astype(int)
        rates = np.stack([np.roll(recording.rates[:, j], s) for j, s in enumerate(steps)], axis=1)
        trains = recording.spike_times
    else:
        rates = None
        trains = [
            np.sort(t0 + np.mod(s - t0 + off, span))
            for s, off in zip(recording.spike_times, offsets, strict=True)
        ]
    return Recording(
        unit_ids=recording.unit_ids,
        spike_times=trains,
        t=recording.t,
        x=recording.x,
        y=recording.y,
        hd=recording.hd,
        rates=rates,
        metadata={"shuffle_of": recording.sha256},
    )


def shuffle_significance(
    lifetimes: list[np.ndarray], null_maxima: dict[str, list[float]], config: SignificanceConfig
) -> Significance:
    """Counts and verdict from the shuffles' longest bars (see module doc)."""
    significant, thresholds = {}, {}
    for dim in range(1, len(lifetimes)):
        key = f"h{dim}"
        thr = float(np.percentile(null_maxima[key], config.percentile))
        life = np.asarray(lifetimes[dim])
        significant[key] = int((life > thr).sum())
        thresholds[key] = thr
    v, evidence = verdict(significant)
    n = len(next(iter(null_maxima.values()), []))
    return Significance(
        significant,
        "shuffle",
        thresholds,
        null_maxima,
        v,
        evidence + f" (above the {config.percentile:g}th percentile of {n} shuffles)",
    )
