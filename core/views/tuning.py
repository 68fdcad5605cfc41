"""Head-direction tuning curves: the firing-rate map of each unit over head direction.

Counts per angular bin are Σ rate·dt over the rate-matrix rows whose head direction falls in the bin (Hz, s);
occupancy is rows · dt (s). Both are smoothed with the same circular Gaussian and divided. The preferred
direction is the rate-weighted circular mean and the mean vector length the Rayleigh vector length of the
curve (e.g. Taube, Muller & Ranck 1990, J Neurosci 10:420; Zar, Biostatistical Analysis, ch. 26).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy import sparse
from scipy.ndimage import gaussian_filter1d

from core.config import Config
from core.errors import RecordingError
from core.preprocess import RateMatrix
from core.progress import CancelCheck, ProgressCallback, Reporter
from core.views.ratemaps import MAX_UNITS_IN_FIGURE, unit_index


@dataclass(frozen=True)
class TuningConfig(Config):
    """Parameters of the tuning curves.

    n_bins: angular bins over 360°. smoothing_sigma_deg: s.d. of the circular Gaussian (deg); 0 disables it.
    min_occupancy_s: bins where the head pointed less long (s) are NaN (empty bins always are).
    """

    n_bins: int = field(default=60, metadata={"min": 4, "max": 3600, "help": "angular bins over 360°"})
    smoothing_sigma_deg: float = field(
        default=6.0, metadata={"unit": "deg", "min": 0.0, "max": 90.0, "help": "circular Gaussian s.d."}
    )
    min_occupancy_s: float = field(
        default=0.0, metadata={"unit": "s", "min": 0.0, "max": 60.0, "help": "bins visited less are NaN"}
    )


@dataclass
class TuningCurves:
    """Head-direction tuning of every unit.

    curves: (n_units, n_bins) Hz, NaN in unvisited bins. bin_centres_rad: (n_bins,) in [0, 2π).
    occupancy_s: (n_bins,) s. preferred_direction_rad: rate-weighted circular mean in [0, 2π).
    mean_vector_length: Rayleigh vector length (0 = untuned, 1 = a single direction). peak_rate_hz,
    mean_rate_hz: curve maximum and occupancy-weighted mean (Hz). NaN where undefined (silent unit).
    """

    curves: np.ndarray
    bin_centres_rad: np.ndarray
    occupancy_s: np.ndarray
    unit_ids: list
    preferred_direction_rad: np.ndarray
    mean_vector_length: np.ndarray
    peak_rate_hz: np.ndarray
    mean_rate_hz: np.ndarray
    config: TuningConfig

    @property
    def n_units(self) -> int:
        return self.curves.shape[0]

    def to_rows(self) -> list[dict]:
        """Per unit: unit, preferred_direction_deg, mean_vector_length, peak_rate_hz, mean_rate_hz."""
        return [
            {
                "unit": u,
                "preferred_direction_deg": float(np.rad2deg(self.preferred_direction_rad[i])),
                "mean_vector_length": float(self.mean_vector_length[i]),
                "peak_rate_hz": float(self.peak_rate_hz[i]),
                "mean_rate_hz": float(self.mean_rate_hz[i]),
            }
            for i, u in enumerate(self.unit_ids)
        ]


def _hd_bins(hd_rad: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin of each head direction (rad, any range) in ``n_bins`` equal bins of [0, 2π); −1 for NaN."""
    with np.errstate(invalid="ignore"):
        idx = np.floor(np.mod(hd_rad, 2 * np.pi) / (2 * np.pi) * n_bins)
    ok = np.isfinite(idx)
    return np.where(ok, np.clip(np.where(ok, idx, 0), 0, n_bins - 1), -1).astype(np.int64)


def binned_sums(index: np.ndarray, n_bins: int, values: np.ndarray) -> np.ndarray:
    """(n_bins, n_cols) sums of the rows of ``values`` (n_rows, n_cols) per ``index`` (−1 = dropped)."""
    keep = index >= 0
    m = sparse.csc_matrix(
        (keep.astype(np.float64), np.where(keep, index, 0), np.arange(index.size + 1)),
        shape=(n_bins, index.size),
    )
    return np.asarray(m @ np.asarray(values, dtype=np.float64))


def circular_stats(curves: np.ndarray, angles_rad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Preferred direction (rad, [0, 2π)) and mean vector length of (n_units, n_bins) curves (Hz).

    R = Σ λ_i e^{iθ_i} / Σ λ_i over finite bins; NaN when Σ λ_i ≤ 0.
    """
    lam = np.where(np.isfinite(curves), curves, 0.0)
    total = lam.sum(axis=1)
    vec = lam @ np.exp(1j * angles_rad)
    ok = total > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mvl = np.where(ok, np.abs(vec) / np.where(ok, total, 1.0), np.nan)
    pref = np.where(ok, np.mod(np.angle(vec), 2 * np.pi), np.nan)
    return pref, mvl


def compute_tuning_curves(
    rate_matrix: RateMatrix,
    config: TuningConfig | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> TuningCurves:
    """Occupancy-normalised, circularly smoothed head-direction tuning curves (Hz) of every unit."""
    config = config or TuningConfig()
    config.validate()
    report = Reporter(progress, cancel)
    if rate_matrix.hd is None:
        raise RecordingError("tuning curves need the head direction (hd, rad), and this recording has none")
    hd = np.asarray(rate_matrix.hd, dtype=np.float64)
    if not np.isfinite(hd).any():
        raise RecordingError("tuning curves need the head direction, and every hd sample is NaN")
    dt = rate_matrix.config.dt_s
    n = config.n_bins
    report(0.1, "binning head direction")
    idx = _hd_bins(hd, n)
    occ = np.bincount(idx[idx >= 0], minlength=n) * dt
    counts = binned_sums(idx, n, rate_matrix.rates).T * dt  # (n_units, n_bins), Hz·s
    sigma_bins = config.smoothing_sigma_deg / (360.0 / n)
    if sigma_bins > 0:
        counts = gaussian_filter1d(counts, sigma_bins, axis=1, mode="wrap")
        occ_s = gaussian_filter1d(occ, sigma_bins, mode="wrap")
    else:
        occ_s = occ
    report(0.7, "tuning curves")
    valid = (occ > 0) & (occ >= config.min_occupancy_s) & (occ_s > 0)
    curves = np.full(counts.shape, np.nan)
    np.divide(counts, occ_s, out=curves, where=np.broadcast_to(valid, counts.shape))
    centres = (np.arange(n) + 0.5) * (2 * np.pi / n)
    pref, mvl = circular_stats(curves, centres)
    any_valid = bool(valid.any())
    peak = np.where(valid, curves, -np.inf).max(axis=1) if any_valid else np.full(len(curves), np.nan)
    w = np.where(valid, occ, 0.0)
    mean = (np.where(valid, curves, 0.0) @ w) / w.sum() if any_valid else np.full(len(curves), np.nan)
    report(1.0, "tuning curves ready")
    return TuningCurves(
        curves=curves,
        bin_centres_rad=centres,
        occupancy_s=occ,
        unit_ids=list(rate_matrix.unit_ids),
        preferred_direction_rad=pref,
        mean_vector_length=mvl,
        peak_rate_hz=peak,
        mean_rate_hz=mean,
        config=config,
    )


def tuning_figure(
    curves: TuningCurves, units: list | None = None, polar: bool = True, title: str = ""
) -> Figure:
    """Tuning curves (Hz) of up to 16 units (``units`` are unit ids; default the first 16), polar or linear
    (x in deg). Each title gives the unit id, the preferred direction (deg) and the mean vector length."""
    idx = (
        list(range(min(curves.n_units, MAX_UNITS_IN_FIGURE)))
        if units is None
        else [unit_index(curves.unit_ids, u) for u in units[:MAX_UNITS_IN_FIGURE]]
    )
    n = max(len(idx), 1)
    ncols = int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    fig = Figure(figsize=(2.5 * ncols, 2.5 * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, subplot_kw={"projection": "polar"} if polar else None)
    axes = axes.ravel()
    theta = np.append(curves.bin_centres_rad, curves.bin_centres_rad[0] + 2 * np.pi)
    for ax, i in zip(axes, idx, strict=False):
        r = np.append(curves.curves[i], curves.curves[i, 0])
        if polar:
            ax.plot(theta, r, color="#4c72b0")
            ax.fill(theta, np.nan_to_num(r), color="#4c72b0", alpha=0.2)
            if np.isfinite(curves.preferred_direction_rad[i]):
                ax.plot([curves.preferred_direction_rad[i]] * 2, [0, np.nanmax(r)], color="#c44e52")
            ax.set_xticks(np.deg2rad([0, 90, 180, 270]))
            ax.yaxis.set_major_locator(MaxNLocator(3))
            ax.set_rlabel_position(22.5)
            ax.tick_params(labelsize=6)
            ax.tick_params(axis="x", pad=-2)
        else:
            ax.plot(np.rad2deg(theta), r, color="#4c72b0")
            ax.set_xlim(0, 360)
            ax.set_xlabel("head direction (deg)", fontsize=7)
            ax.set_ylabel("rate (Hz)", fontsize=7)
            ax.tick_params(labelsize=6)
        pref = np.rad2deg(curves.preferred_direction_rad[i])
        ax.set_title(
            f"unit {curves.unit_ids[i]}: {pref:.0f}°, MVL {curves.mean_vector_length[i]:.2f}\n"
            f"peak {curves.peak_rate_hz[i]:.1f} Hz",
            fontsize=7,
            pad=10 if polar else 4,
        )
    for ax in axes[len(idx) :]:
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
