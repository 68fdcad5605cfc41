"""CohoSpace: each unit's firing in decoded phase space (after Gardner et al. 2022, Nature 602:123–128).

The decoded phases of every time bin are histogrammed on the torus square [0, 2π)² (first two circles) or on
the ring [0, 2π); a unit's map is its summed rate per phase bin divided by the number of time bins spent there
(occupancy), both smoothed on the periodic domain first (Gaussian, ``mode="wrap"``, normalised convolution).

Phase centre and concentration are computed on that map, so they do not depend on how long the animal spent at
each phase: with weights w (the map, NaN → 0, shifted up by its minimum when negative, e.g. z-scored rates),
per axis a the mean resultant vector Z_a = Σ w·exp(iθ_a) / Σ w gives the centre arg Z_a (rad, [0, 2π)) and the
per-axis concentration R_a = |Z_a| (0 = untuned along that axis, 1 = all firing at one phase). The unit's
concentration is the geometric mean of its per-axis lengths, (Π_a R_a)^(1/n_axes): equal to R on a ring, and
near 0 unless the unit is tuned along every axis (a localised bump on the torus).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy.ndimage import gaussian_filter

from core.angles import TWO_PI
from core.config import Config
from core.decoding import Decoding
from core.errors import ConfigError, RecordingError
from core.preprocess import RateMatrix


@dataclass(frozen=True)
class CohoSpaceConfig(Config):
    """Parameters of the phase-space maps.

    n_phase_bins: bins per circle over [0, 2π). smooth_sigma_rad: s.d. of the periodic Gaussian smoothing
    (rad); 0 disables it. min_occupancy: phase bins visited by fewer time bins are NaN.
    """

    n_phase_bins: int = field(
        default=30, metadata={"unit": "bins", "min": 4, "max": 360, "help": "phase bins per circle"}
    )
    smooth_sigma_rad: float = field(
        default=0.25, metadata={"unit": "rad", "min": 0.0, "max": 3.0, "help": "periodic Gaussian s.d."}
    )
    min_occupancy: int = field(
        default=1, metadata={"unit": "bins", "min": 1, "max": 1000, "help": "fewer visits than this: NaN"}
    )


@dataclass
class CohoSpace:
    """Units' rate maps over decoded phase.

    rate_maps: (n_units, nb) on a ring or (n_units, nb, nb) on the torus, indexed [unit, θ2 bin, θ1 bin]
    (rows = θ2, so an image with origin "lower" has θ1 along x), in ``rate_unit``; NaN where unvisited.
    occupancy: (nb,) or (nb, nb) time bins per phase bin. phase_edges: (nb + 1,) rad. centres: (n_units,
    n_axes) rad. axis_concentration: (n_units, n_axes) R_a. concentration: (n_units,) geometric mean of R_a.
    mean_rate: (n_units,) over all bins.
    """

    rate_maps: np.ndarray
    occupancy: np.ndarray
    phase_edges: np.ndarray
    centres: np.ndarray
    axis_concentration: np.ndarray
    concentration: np.ndarray
    mean_rate: np.ndarray
    unit_ids: list
    rate_unit: str
    config: CohoSpaceConfig

    @property
    def n_axes(self) -> int:
        return self.centres.shape[1]

    @property
    def n_units(self) -> int:
        return self.centres.shape[0]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every array of the result (for :func:`core.export.export_data`)."""
        return {
            "rate_maps": self.rate_maps,
            "occupancy_bins": self.occupancy,
            "phase_edges_rad": self.phase_edges,
            "centres_rad": self.centres,
            "axis_concentration": self.axis_concentration,
            "concentration": self.concentration,
            "mean_rate": self.mean_rate,
            "unit_ids": np.asarray([str(u) for u in self.unit_ids]),
        }

    def to_rows(self) -> list[dict]:
        """One row per unit: id, centre per axis (rad), R per axis, concentration, mean and peak rate."""
        rows = []
        peaks = nan_peak(self.rate_maps.reshape(self.n_units, -1))
        for j, uid in enumerate(self.unit_ids):
            row: dict = {"unit_id": uid}
            for a in range(self.n_axes):
                row[f"centre_theta{a + 1}_rad"] = float(self.centres[j, a])
            for a in range(self.n_axes):
                row[f"R_theta{a + 1}"] = float(self.axis_concentration[j, a])
            row["concentration"] = float(self.concentration[j])
            row[f"mean_rate_{self.rate_unit}"] = float(self.mean_rate[j])
            row[f"peak_rate_{self.rate_unit}"] = float(peaks[j])
            rows.append(row)
        return rows


def nan_peak(values: np.ndarray) -> np.ndarray:
    """Row-wise maximum ignoring NaN; NaN for all-NaN rows (no warning)."""
    finite = np.isfinite(values)
    peaks = np.where(finite, values, -np.inf).max(axis=1)
    return np.where(finite.any(axis=1), peaks, np.nan)


def phase_bin_index(theta: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin (0..n_bins−1) of phases ``theta`` (rad) on [0, 2π)."""
    idx = np.floor(np.mod(theta, TWO_PI) / TWO_PI * n_bins).astype(np.int64)
    return np.minimum(idx, n_bins - 1)


def summed_by_bin(flat: np.ndarray, values: np.ndarray, n_flat: int) -> np.ndarray:
    """(n_flat, n_cols) sums of the rows of ``values`` (T, n_cols) grouped by ``flat`` (T,)."""
    order = np.argsort(flat, kind="stable")
    sorted_flat = flat[order]
    starts = np.flatnonzero(np.r_[True, sorted_flat[1:] != sorted_flat[:-1]])
    out = np.zeros((n_flat, values.shape[1]))
    if starts.size:
        out[sorted_flat[starts]] = np.add.reduceat(values[order].astype(np.float64), starts, axis=0)
    return out


def _rates_of(rates: RateMatrix | np.ndarray) -> tuple[np.ndarray, str]:
    if isinstance(rates, RateMatrix):
        return rates.rates, "z" if rates.config.zscore else "Hz"
    return np.asarray(rates), "Hz"


def circular_centre(weights: np.ndarray, angles: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Weighted circular mean (rad, [0, 2π)) and mean resultant length along ``axis`` of ``weights``."""
    shape = [1] * weights.ndim
    shape[axis] = angles.size
    z = np.exp(1j * angles).reshape(shape)
    other = tuple(d for d in range(1, weights.ndim))
    total = weights.sum(axis=other)
    with np.errstate(invalid="ignore", divide="ignore"):
        resultant = (weights * z).sum(axis=other) / total
    return np.mod(np.angle(resultant), TWO_PI), np.abs(resultant)


def compute_cohospace(
    rates: RateMatrix | np.ndarray, decoding: Decoding, config: CohoSpaceConfig | None = None
) -> CohoSpace:
    """Each unit's occupancy-normalised rate over decoded phase, with its phase centre and concentration."""
    config = config or CohoSpaceConfig()
    config.validate()
    values, rate_unit = _rates_of(rates)
    theta = np.asarray(decoding.theta, dtype=np.float64)
    if values.shape[0] != theta.shape[0]:
        raise RecordingError(
            f"rate matrix has {values.shape[0]} time bins, the decoding {theta.shape[0]}; decode this matrix"
        )
    n_axes = min(theta.shape[1], 2)
    keep = np.all(np.isfinite(theta[:, :n_axes]), axis=1)
    theta, values = theta[keep, :n_axes], values[keep]
    nb = config.n_phase_bins
    idx = phase_bin_index(theta, nb)
    flat = idx[:, 0] if n_axes == 1 else idx[:, 1] * nb + idx[:, 0]
    grid = (nb,) * n_axes
    sums = summed_by_bin(flat, values, nb**n_axes).T.reshape(values.shape[1], *grid)
    occupancy = np.bincount(flat, minlength=nb**n_axes).reshape(grid).astype(np.float64)
    sigma = config.smooth_sigma_rad / (TWO_PI / nb)
    if sigma > 0:
        sums = gaussian_filter(sums, (0,) + (sigma,) * n_axes, mode="wrap")
        occ_s = gaussian_filter(occupancy, sigma, mode="wrap")
    else:
        occ_s = occupancy
    with np.errstate(invalid="ignore", divide="ignore"):
        maps = sums / occ_s
    maps[:, occupancy < config.min_occupancy] = np.nan
    centres_bins = (np.arange(nb) + 0.5) * TWO_PI / nb
    weights = np.nan_to_num(maps, nan=0.0)
    low = np.minimum(weights.reshape(len(weights), -1).min(axis=1), 0.0)
    weights = np.where(np.isnan(maps), 0.0, weights - low.reshape((-1,) + (1,) * n_axes))
    centres = np.empty((len(maps), n_axes))
    lengths = np.empty((len(maps), n_axes))
    for a in range(n_axes):  # map axis 1 + n_axes − 1 − a holds θ_{a+1}
        centres[:, a], lengths[:, a] = circular_centre(weights, centres_bins, n_axes - a)
    with np.errstate(invalid="ignore"):
        concentration = np.prod(lengths, axis=1) ** (1.0 / n_axes)
    return CohoSpace(
        rate_maps=maps,
        occupancy=occupancy,
        phase_edges=np.linspace(0.0, TWO_PI, nb + 1),
        centres=centres,
        axis_concentration=lengths,
        concentration=concentration,
        mean_rate=values.mean(axis=0).astype(np.float64),
        unit_ids=list(decoding.unit_ids)
        if len(decoding.unit_ids) == values.shape[1]
        else list(range(len(maps))),
        rate_unit=rate_unit,
        config=config,
    )


def _pi_ticks(ax, axes: str = "xy") -> None:
    ticks, labels = [0, np.pi, TWO_PI], ["0", "π", "2π"]
    if "x" in axes:
        ax.set_xticks(ticks, labels=labels)
    if "y" in axes:
        ax.set_yticks(ticks, labels=labels)


def _unit_panels(fig, result: CohoSpace, shown: np.ndarray) -> None:
    cols = int(np.ceil(np.sqrt(len(shown))))
    rows = int(np.ceil(len(shown) / cols))
    axes = fig.subplots(rows, cols, squeeze=False)
    mids = 0.5 * (result.phase_edges[:-1] + result.phase_edges[1:])
    for ax in axes.flat[len(shown) :]:
        ax.set_visible(False)
    for n, (ax, j) in enumerate(zip(axes.flat, shown, strict=False)):
        m = result.rate_maps[j]
        c = result.centres[j]
        if result.n_axes == 2:
            ax.imshow(
                m, origin="lower", extent=(0, TWO_PI, 0, TWO_PI), cmap="viridis", interpolation="nearest"
            )
            ax.set_facecolor("0.85")
            ax.plot(c[0], c[1], marker="+", color="white", ms=9, mew=2)
            ax.set_aspect("equal")
        else:
            ax.plot(mids, m, color="#4c72b0")
            ax.axvline(c[0], color="#dd8452", lw=1)
            ax.set_xlim(0, TWO_PI)
            ax.set_ylim(bottom=min(0.0, float(np.nanmin(m)) if np.isfinite(m).any() else 0.0))
        peak = float(nan_peak(m.reshape(1, -1))[0])
        ax.set_title(
            f"unit {result.unit_ids[j]}: {peak:.1f} {result.rate_unit}, c={result.concentration[j]:.2f}",
            fontsize=7,
        )
        ax.tick_params(labelsize=6)
        first_col, last_row = n % cols == 0, n // cols == rows - 1 or n + cols >= len(shown)
        _pi_ticks(ax, "xy" if result.n_axes == 2 else "x")
        if not last_row:
            ax.set_xticklabels([])
        if result.n_axes == 2 and not first_col:
            ax.set_yticklabels([])
        if last_row:
            ax.set_xlabel("θ1 (rad)", fontsize=7)
        if first_col:
            ax.set_ylabel("θ2 (rad)" if result.n_axes == 2 else f"rate ({result.rate_unit})", fontsize=7)


def _centres_panel(fig, result: CohoSpace) -> None:
    if result.n_axes == 2:
        ax = fig.subplots()
        sc = ax.scatter(
            result.centres[:, 0],
            result.centres[:, 1],
            c=result.concentration,
            cmap="magma_r",
            vmin=0,
            vmax=1,
            s=22,
            edgecolors="0.3",
            linewidths=0.4,
        )
        ax.set_xlim(0, TWO_PI)
        ax.set_ylim(0, TWO_PI)
        ax.set_aspect("equal")
        _pi_ticks(ax)
        ax.tick_params(labelsize=8)
        ax.set_xlabel("θ1 (rad)", fontsize=9)
        ax.set_ylabel("θ2 (rad)", fontsize=9)
    else:
        ax = fig.add_subplot(projection="polar")
        sc = ax.scatter(
            result.centres[:, 0],
            result.concentration,
            c=result.concentration,
            cmap="magma_r",
            vmin=0,
            vmax=1,
            s=22,
            edgecolors="0.3",
            linewidths=0.4,
        )
        ax.set_ylim(0, 1)
        ax.set_xticks(np.arange(4) * np.pi / 2, labels=["0", "π/2", "π", "3π/2"])
        ax.set_yticks([0.25, 0.5, 0.75, 1.0])
        ax.tick_params(labelsize=7)
        ax.set_rlabel_position(60)
        ax.set_xlabel("phase centre θ1 (rad); radius: concentration", fontsize=8)
    ax.set_title(f"phase centres of all {result.n_units} units", fontsize=9, pad=12)
    bar = fig.colorbar(sc, ax=ax, shrink=0.7, location="bottom")
    bar.set_label("concentration (0..1)", fontsize=8)
    bar.ax.tick_params(labelsize=7)


def cohospace_figure(
    result: CohoSpace, units: Sequence[int] | None = None, max_units: int = 16, title: str = ""
) -> Figure:
    """Grid of units' phase-space maps with centres marked (+), beside all units' centres on the torus square.

    ``units``: indices (into the result) of the units to show; by default up to ``max_units`` evenly spread.
    """
    if units is None:
        shown = np.unique(
            np.linspace(0, result.n_units - 1, min(max_units, result.n_units)).round().astype(int)
        )
    else:
        shown = np.asarray(list(units), dtype=int)
        if shown.size == 0 or shown.min() < 0 or shown.max() >= result.n_units:
            raise ConfigError(f"unit indices must lie in 0..{result.n_units - 1}")
    fig = Figure(figsize=(11.0, 6.0), layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subfigures(1, 2, width_ratios=[1.7, 1.0])
    _unit_panels(left, result, shown)
    _centres_panel(right, result)
    fig.suptitle(
        title or f"CohoSpace: firing over decoded phase ({result.rate_unit}, occupancy-normalised)",
        fontsize=10,
    )
    return fig


def compute_view(context) -> CohoSpace:
    """The registry's compute (settings group ``cohospace``)."""
    return compute_cohospace(context.rate_matrix, context.decoding, context.settings["cohospace"])


def export_view_files(view: CohoSpace, sources, folder, record: dict, units: list | None = None) -> list:
    """cohospace.* : the figure of ``units`` (indices; default the figure's choice), maps (NPZ), one row per
    unit (CSV)."""
    from core.export import export_view

    figure = cohospace_figure(view, units=units or None)
    return export_view("cohospace", figure, view.to_arrays(), view.to_rows(), folder, record)


def view_metrics(view: CohoSpace) -> dict:
    return {"median_concentration": float(np.nanmedian(view.concentration))}
