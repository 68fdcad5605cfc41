"""Spike trains → rate matrix whose every row has its own time, position and head direction.

Binning at ``dt_s``, Gaussian smoothing with ``sigma_s`` (both seconds), speed (cm/s) from smoothed position,
speed filter, optional z-score. Position and head direction are interpolated to the bin centres, so rows and
behaviour never drift apart whatever the tracking rate. Concatenated epochs (gaps in ``t``, see
:mod:`core.epochs`) are smoothed each on its own, and bins inside a gap are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d

from core.config import Config
from core.epochs import epoch_of_bins, find_epochs, segments
from core.errors import ConfigError, RecordingError
from core.progress import CancelCheck, ProgressCallback, Reporter
from core.recording import Recording


@dataclass(frozen=True)
class PreprocessConfig(Config):
    """Parameters of the rate matrix.

    dt_s: bin width (s). sigma_s: s.d. of the Gaussian smoothing kernel (s); 0 disables smoothing.
    speed_min_cm_s: keep only bins where the animal moves faster (cm/s); None disables the filter (it is
    always off when the recording has no position). speed_sigma_s: smoothing of position before speed (s).
    zscore: z-score each unit over the kept bins. max_gap_s: a jump in ``t`` longer than this (s) separates
    two epochs; None: max(0.1 s, 5 × the median sample interval).
    """

    dt_s: float = field(
        default=0.01,
        metadata={
            "unit": "s",
            "min": 1e-4,
            "max": 1.0,
            "help": "bin width",
            "ref": "Gardner et al. 2022, Nature 602:123",
        },
    )
    sigma_s: float = field(
        default=0.05,
        metadata={
            "unit": "s",
            "min": 0.0,
            "max": 5.0,
            "help": "Gaussian smoothing s.d.",
            "ref": "Gardner et al. 2022, Nature 602:123",
        },
    )
    speed_min_cm_s: float | None = field(
        default=2.5,
        metadata={
            "unit": "cm/s",
            "min": 0.0,
            "max": 100.0,
            "help": "keep bins above this speed",
            "ref": "Gardner et al. 2022, Nature 602:123",
        },
    )
    speed_sigma_s: float = field(
        default=0.2, metadata={"unit": "s", "min": 0.0, "max": 5.0, "help": "position smoothing for speed"}
    )
    zscore: bool = field(default=False, metadata={"help": "z-score each unit over kept bins"})
    max_gap_s: float | None = field(
        default=None,
        metadata={"unit": "s", "min": 0.001, "max": 3600.0, "help": "longest jump within an epoch"},
    )


@dataclass
class RateMatrix:
    """Rows are time bins kept by the speed filter, columns are units.

    rates: (n_bins, n_units) float32, Hz (spike input) or the source's units (dense input), z-scored if asked.
    t: bin centres (s). x, y: position at the bin centres (cm) or None. hd: head direction (rad) or None.
    speed_cm_s: speed at the bin centres or None. n_bins_total: bins before the speed filter (gaps
    excluded). n_epochs: gap-free stretches the recording was cut into.
    """

    rates: np.ndarray
    t: np.ndarray
    unit_ids: list
    x: np.ndarray | None
    y: np.ndarray | None
    hd: np.ndarray | None
    speed_cm_s: np.ndarray | None
    n_bins_total: int
    config: PreprocessConfig
    n_epochs: int = 1

    @property
    def n_bins(self) -> int:
        return self.rates.shape[0]

    @property
    def kept_fraction(self) -> float:
        return self.n_bins / max(self.n_bins_total, 1)


MAX_BINS = 20_000_000  # time bins of one rate matrix (≈ 5.5 h at 1 ms, 55 h at 10 ms)
MAX_RATE_VALUES = 1_000_000_000  # bins × units of one rate matrix (4 GB of float32)


def n_bins_of(t0_s: float, t1_s: float, dt_s: float) -> int:
    """The number of bins of width ``dt_s`` covering [t0_s, t1_s]; ConfigError, before anything is
    allocated, when it exceeds ``MAX_BINS``."""
    span = t1_s - t0_s
    n = span / dt_s + 1e-9
    if not np.isfinite(n) or n > MAX_BINS:
        raise ConfigError(
            f"preprocess.dt_s = {dt_s:g} s over a recording span of {span:,.1f} s makes {n:,.0f} time bins, "
            f"more than the limit of {MAX_BINS:,} (MAX_BINS); use dt_s ≥ {span / MAX_BINS:.2g} s or a "
            "shorter part of the recording"
        )
    return max(int(np.floor(n)), 1)


def bin_edges(t0_s: float, t1_s: float, dt_s: float) -> np.ndarray:
    """Edges (s) of consecutive bins of width ``dt_s`` covering [t0_s, t1_s] (at most ``MAX_BINS``)."""
    n = n_bins_of(t0_s, t1_s, dt_s)
    return t0_s + dt_s * np.arange(n + 1)


def spike_counts(spike_times: list[np.ndarray], edges: np.ndarray) -> np.ndarray:
    """(n_units, n_bins) float32 spike counts in the bins given by ``edges`` (s, uniform); unit-major."""
    n_bins = edges.size - 1
    dt = edges[1] - edges[0]
    counts = np.zeros((len(spike_times), n_bins), dtype=np.float32)
    for j, train in enumerate(spike_times):
        # + 1e-6 bins: spikes rebuilt from binned counts sit on bin starts, and rounding must not move them
        idx = np.floor((np.asarray(train) - edges[0]) / dt + 1e-6).astype(np.int64)
        idx = idx[(idx >= 0) & (idx < n_bins)]
        counts[j] = np.bincount(idx, minlength=n_bins)
    return counts


def resample_dense(values: np.ndarray, t: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Average a (len(t), N) matrix sampled at ``t`` (s) into the bins ``edges``; empty bins interpolated.

    Returns (N, n_bins) float32, unit-major like :func:`spike_counts`.
    """
    n_bins = edges.size - 1
    idx = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, n_bins - 1)
    counts = np.bincount(idx, minlength=n_bins).astype(np.float64)
    out = np.empty((values.shape[1], n_bins), dtype=np.float32)
    centres = 0.5 * (edges[:-1] + edges[1:])
    filled = counts > 0
    for j in range(values.shape[1]):
        sums = np.bincount(idx, weights=values[:, j], minlength=n_bins)
        col = np.divide(sums, counts, out=np.zeros(n_bins), where=filled)
        if not filled.all():
            col[~filled] = np.interp(centres[~filled], centres[filled], col[filled])
        out[j] = col
    return out


def interpolate_angle(t_new: np.ndarray, t: np.ndarray, angle_rad: np.ndarray) -> np.ndarray:
    """Angle (rad) at ``t_new``, interpolated along the unwrapped angle and wrapped to [0, 2π)."""
    return np.mod(np.interp(t_new, t, np.unwrap(angle_rad)), 2 * np.pi)


def compute_rates(
    recording: Recording,
    config: PreprocessConfig | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> RateMatrix:
    """Bin, smooth and speed-filter a recording into a :class:`RateMatrix`."""
    config = config or PreprocessConfig()
    config.validate()
    report = Reporter(progress, cancel)
    t = recording.t
    if recording.duration_s < config.dt_s:
        raise RecordingError(
            f"the recording lasts {recording.duration_s:.3f} s, shorter than one bin of {config.dt_s} s"
        )
    n_bins = n_bins_of(float(t[0]), float(t[-1]), config.dt_s)
    if n_bins * recording.n_units > MAX_RATE_VALUES:
        raise ConfigError(
            f"preprocess.dt_s = {config.dt_s:g} s gives {n_bins:,} time bins × {recording.n_units:,} units "
            f"= {n_bins * recording.n_units:,} rates, more than the limit of {MAX_RATE_VALUES:,} "
            f"(MAX_RATE_VALUES); use dt_s ≥ "
            f"{config.dt_s * n_bins * recording.n_units / MAX_RATE_VALUES:.2g} s or fewer units"
        )
    edges = bin_edges(float(t[0]), float(t[-1]), config.dt_s)
    centres = 0.5 * (edges[:-1] + edges[1:])
    epochs = find_epochs(t, config.max_gap_s)
    pieces = segments(epoch_of_bins(centres, epochs))
    report(0.05, "binning spikes")
    # unit-major (N, T) while smoothing: filtering along contiguous memory is ~2× faster
    if recording.rates is not None:
        by_unit = resample_dense(np.asarray(recording.rates, dtype=np.float64), t, edges)
    else:
        by_unit = spike_counts(recording.spike_times, edges)
        by_unit /= np.float32(config.dt_s)
    report(0.4, "smoothing")
    if config.sigma_s > 0:
        for piece in pieces:  # each epoch on its own: no blending across a gap
            block = by_unit[:, piece]
            gaussian_filter1d(block, config.sigma_s / config.dt_s, axis=1, output=block, mode="nearest")
            by_unit[:, piece] = block
    rates = by_unit.T

    x = y = speed = hd = None
    if recording.has_position:
        x = np.interp(centres, t, recording.x)
        y = np.interp(centres, t, recording.y)
        speed = np.zeros(centres.size)
        for piece in pieces:
            speed[piece] = _speed_cm_s(x[piece], y[piece], config.speed_sigma_s / config.dt_s, config.dt_s)
    if recording.hd is not None:
        hd = interpolate_angle(centres, t, recording.hd)
    report(0.7, "speed filter")

    valid = np.zeros(centres.size, dtype=bool)
    for piece in pieces:
        valid[piece] = True
    if speed is not None and config.speed_min_cm_s is not None:
        moving = valid & (speed > config.speed_min_cm_s)
        if not moving.any():
            raise RecordingError(
                f"no time bin has speed above {config.speed_min_cm_s} cm/s (max {speed.max():.2f} cm/s); "
                "check that positions are in cm or lower/disable the speed filter"
            )
        valid = moving
    keep = slice(None) if valid.all() else np.flatnonzero(valid)
    rates = rates[keep]
    if config.zscore:
        mean = rates.mean(axis=0)
        sd = rates.std(axis=0)
        sd[sd == 0] = 1.0
        rates = (rates - mean) / sd
    report(1.0, "rate matrix ready")
    return RateMatrix(
        rates=np.ascontiguousarray(rates, dtype=np.float32),
        t=centres[keep],
        unit_ids=list(recording.unit_ids),
        x=None if x is None else x[keep],
        y=None if y is None else y[keep],
        hd=None if hd is None else hd[keep],
        speed_cm_s=None if speed is None else speed[keep],
        n_bins_total=int(sum(p.stop - p.start for p in pieces)),
        config=config,
        n_epochs=len(pieces),
    )


def _speed_cm_s(x: np.ndarray, y: np.ndarray, sigma_bins: float, dt_s: float) -> np.ndarray:
    """Speed (cm/s) of one epoch's position (cm) sampled every ``dt_s``, smoothed over ``sigma_bins``."""
    if x.size < 2:
        return np.zeros(x.size)
    xs = gaussian_filter1d(x, sigma_bins, mode="nearest") if sigma_bins > 0 else x
    ys = gaussian_filter1d(y, sigma_bins, mode="nearest") if sigma_bins > 0 else y
    return np.hypot(np.gradient(xs), np.gradient(ys)) / dt_s
