"""Firing-rate maps (FRM): occupancy-normalised, Gaussian-smoothed spatial rate maps of every unit.

Counts per spatial bin are Σ rate·dt over the rate-matrix rows whose position falls in the bin (rates in Hz,
``dt`` in s), occupancy is the number of rows · dt (s). Both are smoothed with the same Gaussian (s.d. in cm)
and divided, rate = smoothed count / smoothed occupancy (normalised convolution), so walls and unvisited bins
do not bias the rates. A bin is NaN where its SMOOTHED occupancy (s per bin, a Gaussian-weighted local mean)
is below ``min_occupancy_s``: bins far from any visited place are blank, while a bin skipped by the path
inside the visited area takes its rate from its neighbours, so short sessions give maps without holes.
Spatial information follows Skaggs et al. (1993), "An information-theoretic approach to deciphering the
hippocampal code", NIPS 5.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import sparse
from scipy.ndimage import gaussian_filter

from core.config import Config
from core.errors import ConfigError, RecordingError
from core.preprocess import RateMatrix
from core.progress import CancelCheck, ProgressCallback, Reporter

MAX_UNITS_IN_FIGURE = 16


AUTO_BINS_PER_SIDE = 40
AUTO_SIGMA_BINS = 1.2


@dataclass(frozen=True)
class RateMapConfig(Config):
    """Parameters of the rate maps.

    bin_size_cm: side of the square spatial bins (cm); None (auto) = the arena side / 40 (the larger extent
    of the positions, rounded to 0.1 cm: 2.5 cm in a 1 m box as in Sargolini et al. 2006, 8.2 cm in a 3.3 m
    box), so a map has ~40 bins per side whatever the arena. smoothing_sigma_cm: s.d. of the Gaussian applied
    to counts and occupancy (cm); None (auto) = 1.2 bins (3 cm for 2.5 cm bins); 0 disables smoothing.
    min_occupancy_s: bins whose smoothed occupancy (s per bin, Gaussian-weighted local mean of the time
    spent) is below this are NaN; with no smoothing that is the raw time in the bin.
    """

    bin_size_cm: float | None = field(
        default=None,
        metadata={
            "unit": "cm",
            "min": 0.1,
            "max": 200.0,
            "help": "side of the square spatial bins (off = arena/40)",
        },
    )
    smoothing_sigma_cm: float | None = field(
        default=None,
        metadata={
            "unit": "cm",
            "min": 0.0,
            "max": 250.0,
            "help": "Gaussian smoothing s.d. (0 = none, off = 1.2 bins)",
        },
    )
    min_occupancy_s: float = field(
        default=0.1,
        metadata={
            "unit": "s",
            "min": 0.0,
            "max": 60.0,
            "help": "bins whose smoothed occupancy is lower are left empty (NaN)",
        },
    )

    @property
    def resolved(self) -> bool:
        """True when bin size and smoothing are numbers (no auto value left)."""
        return self.bin_size_cm is not None and self.smoothing_sigma_cm is not None

    def resolve(self, arena_side_cm: float) -> RateMapConfig:
        """A copy with the auto values replaced by those of an arena of side ``arena_side_cm`` (cm)."""
        bin_cm = self.bin_size_cm
        if bin_cm is None:
            side = float(arena_side_cm) if np.isfinite(arena_side_cm) and arena_side_cm > 0 else 0.0
            bin_cm = max(round(side / AUTO_BINS_PER_SIDE, 1), 0.1)
        sigma = AUTO_SIGMA_BINS * bin_cm if self.smoothing_sigma_cm is None else self.smoothing_sigma_cm
        return replace(self, bin_size_cm=float(bin_cm), smoothing_sigma_cm=float(sigma))


def arena_side_cm(x_cm: np.ndarray, y_cm: np.ndarray) -> float:
    """The larger extent (cm) of the finite positions, 0 when there are none."""
    fin = np.isfinite(x_cm) & np.isfinite(y_cm)
    if not fin.any():
        return 0.0
    return float(max(np.ptp(np.asarray(x_cm)[fin]), np.ptp(np.asarray(y_cm)[fin])))


@dataclass
class SpatialBinning:
    """Where each rate-matrix row falls in space, and the occupancy it implies.

    bin_index: flat bin (row-major over (ny, nx)) of every row, −1 where the position is not finite.
    occupancy_s: raw time per bin (s). smoothed_occupancy_s: the same after Gaussian smoothing (s per bin).
    valid: bins with smoothed occupancy ≥ min_occupancy_s (and > 0). dt_s: duration of one row (s).
    config: with bin size and smoothing resolved (no auto value).
    """

    x_edges: np.ndarray
    y_edges: np.ndarray
    bin_index: np.ndarray
    occupancy_s: np.ndarray
    smoothed_occupancy_s: np.ndarray
    valid: np.ndarray
    dt_s: float
    config: RateMapConfig

    @property
    def shape(self) -> tuple[int, int]:
        return self.y_edges.size - 1, self.x_edges.size - 1

    @property
    def n_bins(self) -> int:
        ny, nx = self.shape
        return ny * nx

    def sum_matrix(self, shift: int = 0) -> sparse.csc_matrix:
        """Sparse (n_spatial_bins, n_rows) one-hot matrix; ``M @ rates`` sums the rows falling in each bin.

        ``shift`` (rows) pairs the rates with positions ``shift`` rows later, circularly: ``M(s) @ rates`` is
        ``M(0) @ np.roll(rates, s, axis=0)``, the circular time shift used by the shuffles.
        """
        idx = np.roll(self.bin_index, -shift) if shift else self.bin_index
        keep = idx >= 0
        data = keep.astype(np.float32)
        rows = np.where(keep, idx, 0)
        indptr = np.arange(idx.size + 1)
        return sparse.csc_matrix((data, rows, indptr), shape=(self.n_bins, idx.size))


@dataclass
class RateMaps:
    """Rate maps of every unit.

    maps: (n_units, ny, nx) Hz, NaN in bins whose smoothed occupancy is below ``min_occupancy_s``.
    occupancy_s: (ny, nx) raw time per bin (s), unsmoothed.
    x_edges, y_edges: bin edges (cm); maps[:, i, j] covers y_edges[i]..y_edges[i+1], x_edges[j]..x_edges[j+1].
    spatial_information_bits_per_spike / _bits_per_s: Skaggs et al. (1993) information, NaN when undefined
    (silent unit or negative rates). peak_rate_hz: map maximum. mean_rate_hz: occupancy-weighted map mean.
    """

    maps: np.ndarray
    occupancy_s: np.ndarray
    x_edges: np.ndarray
    y_edges: np.ndarray
    unit_ids: list
    spatial_information_bits_per_spike: np.ndarray
    spatial_information_bits_per_s: np.ndarray
    peak_rate_hz: np.ndarray
    mean_rate_hz: np.ndarray
    config: RateMapConfig
    binning: SpatialBinning | None = None

    @property
    def n_units(self) -> int:
        return self.maps.shape[0]

    @property
    def bin_size_cm(self) -> float:
        """Bin side (cm), from the bin edges when the config left it auto."""
        if self.config.bin_size_cm is not None:
            return float(self.config.bin_size_cm)
        return float(self.x_edges[1] - self.x_edges[0])

    @property
    def valid(self) -> np.ndarray:
        """(ny, nx) bool: bins with enough smoothed occupancy (the finite bins of the maps)."""
        if self.binning is not None:
            return self.binning.valid
        config = self.config.resolve(self.bin_size_cm * AUTO_BINS_PER_SIDE)
        occ = _smooth(self.occupancy_s, config.smoothing_sigma_cm / self.bin_size_cm)
        return (occ >= self.config.min_occupancy_s) & (occ > 0)


def require_position(rate_matrix: RateMatrix) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) in cm as float64 arrays, or a RecordingError when the recording has no position."""
    if rate_matrix.x is None or rate_matrix.y is None:
        raise RecordingError("rate maps need the animal's position (x, y in cm), and this recording has none")
    x = np.asarray(rate_matrix.x, dtype=np.float64)
    y = np.asarray(rate_matrix.y, dtype=np.float64)
    if not (np.isfinite(x) & np.isfinite(y)).any():
        raise RecordingError("rate maps need the animal's position, and every x, y sample is NaN")
    return x, y


def _edges(values: np.ndarray, bin_size: float) -> np.ndarray:
    """Edges (cm) of bins of ``bin_size`` starting at the minimum finite value and covering the maximum."""
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    n = max(int(np.floor((hi - lo) / bin_size)) + 1, 1)
    return lo + bin_size * np.arange(n + 1)


def _digitize(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index of each value for uniform ``edges``; −1 outside or non-finite."""
    n = edges.size - 1
    with np.errstate(invalid="ignore"):
        pos = np.floor((values - edges[0]) / (edges[1] - edges[0]))
    ok = np.isfinite(pos) & (pos >= 0) & (pos < n)
    return np.where(ok, pos, -1).astype(np.int64)


def _smooth(arrays: np.ndarray, sigma_bins: float) -> np.ndarray:
    """Gaussian smoothing of the last two axes (zero outside the arena); no-op when sigma is 0."""
    if sigma_bins <= 0:
        return arrays
    sigma = (0.0,) * (arrays.ndim - 2) + (sigma_bins, sigma_bins)
    return gaussian_filter(arrays, sigma, mode="constant", cval=0.0, truncate=4.0)


def spatial_binning(
    x_cm: np.ndarray,
    y_cm: np.ndarray,
    dt_s: float,
    config: RateMapConfig | None = None,
    x_edges: np.ndarray | None = None,
    y_edges: np.ndarray | None = None,
) -> SpatialBinning:
    """Bin positions (cm) of rows lasting ``dt_s`` (s) each; edges from the data unless given.

    Auto (None) bin size and smoothing are resolved from the arena (the extent of the positions, or of the
    given edges, whose spacing is then the bin size).
    """
    config = config or RateMapConfig()
    config.validate()
    if x_edges is not None and config.bin_size_cm is None:
        config = replace(config, bin_size_cm=float(np.diff(np.asarray(x_edges, dtype=np.float64)[:2])[0]))
    config = config.resolve(arena_side_cm(x_cm, y_cm))
    x_edges = _edges(x_cm, config.bin_size_cm) if x_edges is None else np.asarray(x_edges, dtype=np.float64)
    y_edges = _edges(y_cm, config.bin_size_cm) if y_edges is None else np.asarray(y_edges, dtype=np.float64)
    ix, iy = _digitize(x_cm, x_edges), _digitize(y_cm, y_edges)
    nx = x_edges.size - 1
    index = np.where((ix >= 0) & (iy >= 0), iy * nx + ix, -1)
    shape = (y_edges.size - 1, nx)
    occ = np.bincount(index[index >= 0], minlength=shape[0] * nx).reshape(shape) * float(dt_s)
    smoothed = _smooth(occ, config.smoothing_sigma_cm / config.bin_size_cm)
    valid = (smoothed >= config.min_occupancy_s) & (smoothed > 0)
    return SpatialBinning(x_edges, y_edges, index, occ, smoothed, valid, float(dt_s), config)


def maps_from_rates(rates: np.ndarray, binning: SpatialBinning, shift: int = 0) -> np.ndarray:
    """(n_units, ny, nx) rate maps (Hz) of a (n_rows, n_units) rate array (Hz) on ``binning``.

    ``shift`` circularly shifts the rates by that many rows against the positions (see
    :meth:`SpatialBinning.sum_matrix`). Bins outside ``binning.valid`` are NaN.
    """
    rates = np.asarray(rates)
    if rates.ndim == 1:
        rates = rates[:, None]
    counts = binning.sum_matrix(shift) @ rates.astype(np.float32, copy=False)  # (n_spatial, n_units)
    counts = np.asarray(counts, dtype=np.float64).T.reshape((rates.shape[1], *binning.shape)) * binning.dt_s
    return counts_to_maps(counts, binning)


def counts_to_maps(counts: np.ndarray, binning: SpatialBinning) -> np.ndarray:
    """Occupancy-normalised maps (Hz) from (..., ny, nx) counts (rate·s summed per bin): smooth and divide."""
    smoothed = _smooth(counts, binning.config.smoothing_sigma_cm / binning.config.bin_size_cm)
    occ = binning.smoothed_occupancy_s
    maps = np.full(smoothed.shape, np.nan)
    np.divide(smoothed, occ, out=maps, where=np.broadcast_to(binning.valid & (occ > 0), smoothed.shape))
    return maps


def spatial_information(maps: np.ndarray, occupancy_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Skaggs et al. (1993) information of (n_units, ny, nx) maps (Hz): (bits/spike, bits/s) per unit.

    I = Σ_i p_i (λ_i / λ) log2(λ_i / λ) bits/spike, with p_i the occupancy probability over valid bins and
    λ = Σ p_i λ_i; bits/s = λ · I. NaN for a unit whose mean rate is ≤ 0 or whose map has negative values.
    """
    valid = np.isfinite(maps)
    occ = np.where(valid, occupancy_s, 0.0)
    total = occ.sum(axis=(-2, -1), keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = occ / total
        lam = np.where(valid, maps, 0.0)
        mean = (p * lam).sum(axis=(-2, -1), keepdims=True)
        ratio = lam / mean
        terms = np.where((ratio > 0) & valid, p * ratio * np.log2(np.where(ratio > 0, ratio, 1.0)), 0.0)
        per_spike = terms.sum(axis=(-2, -1))
    mean = mean[..., 0, 0]
    bad = ~(mean > 0) | (np.where(valid, maps, 0.0) < 0).any(axis=(-2, -1)) | ~(total[..., 0, 0] > 0)
    per_spike = np.where(bad, np.nan, np.maximum(per_spike, 0.0))
    return per_spike, per_spike * np.where(bad, np.nan, mean)


def occupancy_mean(maps: np.ndarray, occupancy_s: np.ndarray) -> np.ndarray:
    """Occupancy-weighted mean (Hz) of (n_units, ny, nx) maps over their finite bins; NaN if none."""
    valid = np.isfinite(maps)
    occ = np.where(valid, occupancy_s, 0.0)
    total = occ.sum(axis=(-2, -1))
    weighted = (np.where(valid, maps, 0.0) * occ).sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, weighted / total, np.nan)


def nan_max(maps: np.ndarray) -> np.ndarray:
    """Maximum over the last two axes ignoring NaN; NaN for an all-NaN map, without a warning."""
    finite = np.isfinite(maps).any(axis=(-2, -1))
    peak = np.where(np.isfinite(maps), maps, -np.inf).max(axis=(-2, -1), initial=-np.inf)
    return np.where(finite, peak, np.nan)


def compute_rate_maps(
    rate_matrix: RateMatrix,
    config: RateMapConfig | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> RateMaps:
    """Rate maps (Hz) of every unit of ``rate_matrix`` over the arena covered by its positions (cm).

    The maps' ``config`` holds the bin size and smoothing actually used (auto values resolved).
    """
    config = config or RateMapConfig()
    config.validate()
    report = Reporter(progress, cancel)
    x, y = require_position(rate_matrix)
    report(0.05, "binning positions")
    binning = spatial_binning(x, y, rate_matrix.config.dt_s, config)
    config = binning.config  # auto values resolved
    report(0.3, "rate maps")
    maps = maps_from_rates(rate_matrix.rates, binning)
    report(0.8, "spatial information")
    per_spike, per_s = spatial_information(maps, binning.occupancy_s)
    report(1.0, "rate maps ready")
    return RateMaps(
        maps=maps,
        occupancy_s=binning.occupancy_s,
        x_edges=binning.x_edges,
        y_edges=binning.y_edges,
        unit_ids=list(rate_matrix.unit_ids),
        spatial_information_bits_per_spike=per_spike,
        spatial_information_bits_per_s=per_s,
        peak_rate_hz=nan_max(maps),
        mean_rate_hz=occupancy_mean(maps, binning.occupancy_s),
        config=config,
        binning=binning,
    )


def unit_index(unit_ids: list, unit: object) -> int:
    """Position of ``unit`` (a unit id as in ``unit_ids``) in the unit list; ConfigError when absent."""
    for i, u in enumerate(unit_ids):
        if u == unit or str(u) == str(unit):
            return i
    raise ConfigError(f"unit {unit!r} is not in this recording")


def draw_map(
    ax, fig: Figure, image: np.ndarray, x_edges: np.ndarray, y_edges: np.ndarray, label: str
) -> None:
    """One map on ``ax`` with its extent in cm, NaN bins blank, and a colorbar labelled ``label``."""
    masked = np.ma.masked_invalid(image)
    im = ax.imshow(
        masked,
        origin="lower",
        extent=(x_edges[0], x_edges[-1], y_edges[0], y_edges[-1]),
        cmap="viridis",
        interpolation="nearest",
    )
    cbar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    cbar.set_label(label, fontsize=7)
    cbar.ax.tick_params(labelsize=6)
    ax.set_aspect("equal")
    ax.tick_params(labelsize=6)


def rate_maps_figure(maps: RateMaps, units: list | None = None, title: str = "") -> Figure:
    """Grid of rate maps (Hz, axes in cm), at most 16: ``units`` are unit ids (default: the first 16).

    Each title gives the unit id, the peak rate (Hz) and the spatial information (bits/spike).
    """
    idx = (
        list(range(min(maps.n_units, MAX_UNITS_IN_FIGURE)))
        if units is None
        else [unit_index(maps.unit_ids, u) for u in units[:MAX_UNITS_IN_FIGURE]]
    )
    n = max(len(idx), 1)
    ncols = int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    fig = Figure(figsize=(2.6 * ncols, 2.4 * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, i in zip(axes, idx, strict=False):
        draw_map(ax, fig, maps.maps[i], maps.x_edges, maps.y_edges, "Hz")
        si = maps.spatial_information_bits_per_spike[i]
        ax.set_title(f"unit {maps.unit_ids[i]}: {maps.peak_rate_hz[i]:.1f} Hz, {si:.2f} bit/spk", fontsize=7)
        ax.set_xlabel("x (cm)", fontsize=7)
        ax.set_ylabel("y (cm)", fontsize=7)
    for ax in axes[len(idx) :]:
        ax.set_axis_off()
    if not idx:
        axes[0].text(0.5, 0.5, "no units", ha="center", va="center", transform=axes[0].transAxes)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
