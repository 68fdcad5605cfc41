"""Parameters chosen from the data (the ``auto`` preset): how many units, how fast they fire, for how long,
with which behaviour, across how many epochs.

- Smoothing: a population vector is only as good as the spikes behind it. ``sigma_s`` is set so that the
  Gaussian kernel holds a given number of spikes of the whole population (√(2π)·σ·Σ rates): 20 for large
  populations, which gives Gardner et al.'s (2022) 0.05 s for a 100-cell grid module; 50 for small
  ensembles (≤ 40 units), whose few, unevenly firing cells need more time per population vector (~0.15 s
  for 20 head-direction cells at a few Hz; measured on the validation suite); within [0.05, 0.3] s.
- Speed filter: on (2.5 cm/s) when position is recorded and the population is not a small head-direction
  ensemble (head-direction cells fire whether the animal runs or not); off without position (sleep).
- Point cloud: Gardner et al.'s 1,200 points for more than ``SMALL_POPULATION`` units; 600 points for small
  ensembles, whose manifold is a ring at most. The −log-membership metric uses 2/3 of the points as
  neighbours in both, so that a loop around the whole manifold can be filled (and its bar can die).
- Bins: every k-th bin, k chosen so that at most ``n_active_bins`` (15,000) candidates remain, so the
  "most active bins" step never drops bins for their activity. With a grid module's phases spread unevenly
  (as in real modules, unlike a lattice), the least active bins are whole regions of the torus, and dropping
  them punches holes into it that read as extra loops (measured: 4 equal H1 bars instead of 2).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from core.epochs import find_epochs, total_duration_s
from core.pointcloud import PointCloudConfig
from core.preprocess import PreprocessConfig
from core.recording import Recording

SPIKES_PER_KERNEL = 20.0
SPIKES_PER_KERNEL_SMALL = 50.0
SIGMA_RANGE_S = (0.05, 0.3)
SMALL_POPULATION = 40


@dataclass(frozen=True)
class DataProfile:
    """What ``auto`` looks at: units, their total rate (Hz), gap-free duration (s), epochs, behaviour."""

    n_units: int
    total_rate_hz: float
    duration_s: float
    n_epochs: int
    has_position: bool
    has_hd: bool

    def describe(self) -> str:
        behaviour = " and ".join(
            [w for w, ok in (("position", self.has_position), ("head direction", self.has_hd)) if ok]
        )
        return (
            f"{self.n_units} units, {self.total_rate_hz:.1f} Hz in total, {self.duration_s:.0f} s in "
            f"{self.n_epochs} epoch{'s' if self.n_epochs != 1 else ''}, "
            + (f"with {behaviour}" if behaviour else "no behaviour")
        )


def profile(recording: Recording) -> DataProfile:
    """The :class:`DataProfile` of a recording."""
    epochs = find_epochs(recording.t)
    duration = max(total_duration_s(epochs), 1e-9)
    if recording.rates is not None:
        total = float(np.clip(np.nanmean(recording.rates, axis=0), 0, None).sum())
    else:
        total = recording.n_spikes / duration
    return DataProfile(
        n_units=recording.n_units,
        total_rate_hz=total,
        duration_s=duration,
        n_epochs=len(epochs),
        has_position=recording.has_position,
        has_hd=recording.hd is not None,
    )


def smoothing_s(p: DataProfile) -> float:
    """Gaussian s.d. (s) holding ~20 population spikes (50 for small ensembles), within [0.05, 0.3] s."""
    if p.total_rate_hz <= 0:
        return SIGMA_RANGE_S[1]
    target = SPIKES_PER_KERNEL_SMALL if p.n_units <= SMALL_POPULATION else SPIKES_PER_KERNEL
    sigma = target / (np.sqrt(2 * np.pi) * p.total_rate_hz)
    return float(np.clip(sigma, *SIGMA_RANGE_S))


def auto_preprocess(p: DataProfile, base: PreprocessConfig) -> PreprocessConfig:
    """Smoothing and speed filter for this recording (bin width and the rest from ``base``)."""
    head_direction_ensemble = p.has_hd and p.n_units <= SMALL_POPULATION
    speed = base.speed_min_cm_s if p.has_position and not head_direction_ensemble else None
    return replace(base, sigma_s=smoothing_s(p), speed_min_cm_s=speed)


def auto_point_cloud(p: DataProfile, base: PointCloudConfig, dt_s: float) -> PointCloudConfig:
    """Cloud size, neighbours and time step for this recording."""
    n_points = 600 if p.n_units <= SMALL_POPULATION else 1200
    n_bins = p.duration_s / dt_s
    time_step = max(1, int(np.ceil(n_bins / base.n_active_bins)))
    return replace(
        base,
        time_step=time_step,
        n_points=n_points,
        n_neighbors_downsample=n_points // 2 if n_points < 1200 else 1000,
        n_neighbors_metric=(2 * n_points) // 3,
    )
