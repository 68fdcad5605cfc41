"""CohoMap: each decoded circle averaged over the arena, and the grid lattice read off its phase gradient.

For every spatial bin the circular mean of each decoded phase is taken (atan2 of the mean sin and cos), after
Gaussian smoothing of the sin/cos sums and of the occupancy (normalised convolution, so unvisited bins do not
pull the average towards zero). Unvisited bins are NaN. This is the "cohomology map" of Gardner et al. 2022
(Nature 602:123–128): on a grid module each circle's phase advances linearly across the arena.

Lattice: a torus phase is modelled as θ_i(p) = k_i · p + c_i (mod 2π). The wave vectors k_i (rad/cm) are the
median wrapped phase differences between neighbouring bins, refined by least squares on the wrapped residual.
The lattice vectors a_j (cm) solve k_i · a_j = 2π δ_ij, i.e. A = 2π K⁻¹: moving by a_j advances circle j by
one turn and leaves the other unchanged, so (a_1, a_2) span the fundamental parallelogram of the decoded
torus. Spacing and angle are reported on the Gauss-reduced basis (shortest lattice vectors; angle folded to
≤ 90°), 60° for a hexagonal grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from scipy.ndimage import gaussian_filter

from core.angles import TWO_PI, wrap_pi
from core.config import Config
from core.decoding import Decoding, gauss_reduce
from core.errors import ConfigError, RecordingError

MODES = ("phase", "cos", "sin")


@dataclass(frozen=True)
class CohoMapConfig(Config):
    """Parameters of the CohoMap.

    bin_size_cm: side of the square spatial bins (cm). smooth_sigma_cm: s.d. of the Gaussian smoothing of the
    sin/cos maps (cm); 0 disables it. min_occupancy: bins with fewer time bins than this are NaN (unvisited).
    """

    bin_size_cm: float = field(
        default=3.0, metadata={"unit": "cm", "min": 0.1, "max": 100.0, "help": "spatial bin size"}
    )
    smooth_sigma_cm: float = field(
        default=3.0, metadata={"unit": "cm", "min": 0.0, "max": 50.0, "help": "Gaussian smoothing s.d."}
    )
    min_occupancy: int = field(
        default=1, metadata={"unit": "bins", "min": 1, "max": 1000, "help": "fewer visits than this: NaN"}
    )


@dataclass
class CohoMap:
    """Decoded phases over the arena.

    phase_maps, cos_maps, sin_maps: (n_circles, ny, nx); phase in rad [0, 2π), cos/sin are the smoothed means
    of cos θ and sin θ (their length ≤ 1 says how consistent the phase is in the bin); NaN where unvisited.
    occupancy: (ny, nx) time bins per spatial bin. x_edges, y_edges: bin edges (cm).
    wave_vectors: (n_circles, 2) phase gradient k_i (rad/cm); intercepts: c_i (rad).
    fit_quality: (n_circles,) mean resultant length of the residual θ − k·p − c over visited bins
    (1 = perfectly linear phase). lattice_vectors: (2, 2) rows a_1, a_2 (cm) of the decoded basis, NaN unless
    two circles. lattice_origin_cm: a point where both phases are 0, nearest the arena centre.
    spacing_cm, lattice_angle_deg: of the Gauss-reduced basis (NaN if none).
    """

    phase_maps: np.ndarray
    cos_maps: np.ndarray
    sin_maps: np.ndarray
    occupancy: np.ndarray
    x_edges: np.ndarray
    y_edges: np.ndarray
    wave_vectors: np.ndarray
    intercepts: np.ndarray
    fit_quality: np.ndarray
    lattice_vectors: np.ndarray
    lattice_origin_cm: np.ndarray
    spacing_cm: float
    lattice_angle_deg: float
    is_torus: bool
    config: CohoMapConfig

    @property
    def n_circles(self) -> int:
        return self.phase_maps.shape[0]

    @property
    def has_lattice(self) -> bool:
        return bool(np.all(np.isfinite(self.lattice_vectors)))

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Every array of the result, scalars as 0-d arrays (for :func:`core.export.export_data`)."""
        return {
            "phase_maps_rad": self.phase_maps,
            "cos_maps": self.cos_maps,
            "sin_maps": self.sin_maps,
            "occupancy_bins": self.occupancy,
            "x_edges_cm": self.x_edges,
            "y_edges_cm": self.y_edges,
            "wave_vectors_rad_per_cm": self.wave_vectors,
            "intercepts_rad": self.intercepts,
            "fit_quality": self.fit_quality,
            "lattice_vectors_cm": self.lattice_vectors,
            "lattice_origin_cm": self.lattice_origin_cm,
            "spacing_cm": np.asarray(self.spacing_cm),
            "lattice_angle_deg": np.asarray(self.lattice_angle_deg),
        }

    def to_rows(self) -> list[dict]:
        """One row per circle: its wave vector, wavelength and fit quality."""
        rows = []
        for i in range(self.n_circles):
            k = self.wave_vectors[i]
            norm = float(np.hypot(*k))
            rows.append(
                {
                    "circle": i + 1,
                    "kx_rad_per_cm": float(k[0]),
                    "ky_rad_per_cm": float(k[1]),
                    "wavelength_cm": TWO_PI / norm if norm > 0 else float("nan"),
                    "direction_deg": float(np.degrees(np.arctan2(k[1], k[0]))),
                    "fit_quality": float(self.fit_quality[i]),
                    "spacing_cm": self.spacing_cm,
                    "lattice_angle_deg": self.lattice_angle_deg,
                }
            )
        return rows


def spatial_edges(values: np.ndarray, bin_size: float) -> np.ndarray:
    """Edges (same unit as ``values``) of bins of width ``bin_size`` covering the finite values."""
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    n = max(int(np.ceil((hi - lo) / bin_size - 1e-9)), 1)
    return lo + bin_size * np.arange(n + 1)


def _bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.clip(np.floor((values - edges[0]) / (edges[1] - edges[0])).astype(np.int64), 0, edges.size - 2)


def _smoothed_means(
    flat: np.ndarray, weights: np.ndarray, shape: tuple[int, int], sigma_bins: float, occ_s: np.ndarray
) -> np.ndarray:
    """Normalised convolution: smoothed sum of ``weights`` per bin over smoothed occupancy ``occ_s``."""
    sums = np.bincount(flat, weights=weights, minlength=shape[0] * shape[1]).reshape(shape)
    if sigma_bins > 0:
        sums = gaussian_filter(sums, sigma_bins, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / occ_s


def phase_maps(
    x: np.ndarray, y: np.ndarray, theta: np.ndarray, config: CohoMapConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(cos_maps, sin_maps, occupancy, x_edges, y_edges) of phases ``theta`` (T, C) rad at positions (cm)."""
    x_edges = spatial_edges(x, config.bin_size_cm)
    y_edges = spatial_edges(y, config.bin_size_cm)
    shape = (y_edges.size - 1, x_edges.size - 1)
    flat = _bin_index(y, y_edges) * shape[1] + _bin_index(x, x_edges)
    occupancy = np.bincount(flat, minlength=shape[0] * shape[1]).reshape(shape).astype(np.float64)
    sigma = config.smooth_sigma_cm / config.bin_size_cm
    occ_s = gaussian_filter(occupancy, sigma, mode="constant") if sigma > 0 else occupancy
    unvisited = occupancy < config.min_occupancy
    cos_maps = np.empty((theta.shape[1], *shape))
    sin_maps = np.empty_like(cos_maps)
    for i in range(theta.shape[1]):
        cos_maps[i] = _smoothed_means(flat, np.cos(theta[:, i]), shape, sigma, occ_s)
        sin_maps[i] = _smoothed_means(flat, np.sin(theta[:, i]), shape, sigma, occ_s)
    cos_maps[:, unvisited] = np.nan
    sin_maps[:, unvisited] = np.nan
    return cos_maps, sin_maps, occupancy, x_edges, y_edges


def fit_wave_vector(
    z: np.ndarray, weights: np.ndarray, px: np.ndarray, py: np.ndarray, bin_size: float, n_refine: int = 3
) -> tuple[np.ndarray, float, float]:
    """Fit θ(p) = k·p + c to a complex phase map ``z`` (NaN = unvisited) on bin centres ``px``, ``py`` (cm).

    Returns k (rad/cm), c (rad) and the mean resultant length of the residual (weights: occupancy × |z|).
    Start: median wrapped difference between neighbouring bins; then ``n_refine`` weighted least-squares steps
    on the residual wrapped around its circular mean.
    """
    dx = np.angle(z[:, 1:] * np.conj(z[:, :-1])) / bin_size
    dy = np.angle(z[1:, :] * np.conj(z[:-1, :])) / bin_size
    dx, dy = dx[np.isfinite(dx)], dy[np.isfinite(dy)]
    k = np.array([np.median(dx) if dx.size else 0.0, np.median(dy) if dy.size else 0.0])
    ok = np.isfinite(z)
    if ok.sum() < 3:
        return np.full(2, np.nan), float("nan"), float("nan")
    phase, w = np.angle(z[ok]), (weights * np.abs(z))[ok]
    pts = np.stack([px[ok], py[ok]], axis=1)
    design = np.column_stack([np.ones(len(pts)), pts])
    sw = np.sqrt(w)
    c = 0.0
    for _ in range(n_refine):
        resid = phase - pts @ k
        c = float(np.angle(np.sum(w * np.exp(1j * resid))))
        r = wrap_pi(resid - c)
        coef, *_ = np.linalg.lstsq(design * sw[:, None], r * sw, rcond=None)
        k = k + coef[1:]
        c += coef[0]
    resid = phase - pts @ k - c
    quality = float(np.abs(np.sum(w * np.exp(1j * resid))) / max(np.sum(w), 1e-12))
    return k, float(np.mod(c, TWO_PI)), quality


def lattice_from_wave_vectors(k: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Lattice vectors (2, 2), rows a_1, a_2 (cm), with k_i·a_j = 2π δ_ij; reduced spacing (cm), angle (°)."""
    if not np.all(np.isfinite(k)) or abs(np.linalg.det(k)) < 1e-12:
        return np.full((2, 2), np.nan), float("nan"), float("nan")
    basis = TWO_PI * np.linalg.inv(k)  # columns are a_1, a_2
    vectors = basis.T
    a, b = gauss_reduce(vectors @ vectors.T) @ vectors  # the two shortest independent lattice vectors
    na, nb = np.hypot(*a), np.hypot(*b)
    angle = float(np.degrees(np.arccos(np.clip(abs(a @ b) / (na * nb), 0.0, 1.0))))
    return basis.T.copy(), float(0.5 * (na + nb)), angle


def compute_cohomap(decoding: Decoding, config: CohoMapConfig | None = None) -> CohoMap:
    """Average every decoded circle over the arena and estimate the lattice (two circles)."""
    config = config or CohoMapConfig()
    config.validate()
    if decoding.x is None or decoding.y is None:
        raise RecordingError("the CohoMap needs the animal's position (x, y in cm); this recording has none")
    theta = np.asarray(decoding.theta, dtype=np.float64)
    x, y = np.asarray(decoding.x, np.float64), np.asarray(decoding.y, np.float64)
    keep = np.isfinite(x) & np.isfinite(y) & np.all(np.isfinite(theta), axis=1)
    if keep.sum() < 2:
        raise RecordingError("fewer than two time bins have a finite position and decoded phase")
    x, y, theta = x[keep], y[keep], theta[keep]
    cos_maps, sin_maps, occupancy, x_edges, y_edges = phase_maps(x, y, theta, config)
    phase = np.mod(np.arctan2(sin_maps, cos_maps), TWO_PI)
    px, py = np.meshgrid(0.5 * (x_edges[:-1] + x_edges[1:]), 0.5 * (y_edges[:-1] + y_edges[1:]))
    n = theta.shape[1]
    k = np.full((n, 2), np.nan)
    c = np.full(n, np.nan)
    quality = np.full(n, np.nan)
    for i in range(n):
        k[i], c[i], quality[i] = fit_wave_vector(
            cos_maps[i] + 1j * sin_maps[i], occupancy, px, py, config.bin_size_cm
        )
    lattice, spacing, angle = (np.full((2, 2), np.nan), float("nan"), float("nan"))
    origin = np.full(2, np.nan)
    if n == 2:
        lattice, spacing, angle = lattice_from_wave_vectors(k)
        if np.all(np.isfinite(lattice)):
            centre = np.array([x_edges.mean(), y_edges.mean()])
            origin = centre - np.linalg.solve(k, wrap_pi(k @ centre + c))
    return CohoMap(
        phase_maps=phase,
        cos_maps=cos_maps,
        sin_maps=sin_maps,
        occupancy=occupancy,
        x_edges=x_edges,
        y_edges=y_edges,
        wave_vectors=k,
        intercepts=c,
        fit_quality=quality,
        lattice_vectors=lattice,
        lattice_origin_cm=origin,
        spacing_cm=spacing,
        lattice_angle_deg=angle,
        is_torus=n == 2 or decoding.torus_angle_deg is not None,
        config=config,
    )


def _draw_parallelogram(ax, result: CohoMap) -> None:
    a1, a2 = result.lattice_vectors
    o = result.lattice_origin_cm
    corners = np.array([o, o + a1, o + a1 + a2, o + a2, o])
    ax.plot(corners[:, 0], corners[:, 1], color="white", lw=2.6)
    ax.plot(corners[:, 0], corners[:, 1], color="black", lw=1.2)
    for vec, name in ((a1, "a₁"), (a2, "a₂")):
        ax.annotate(
            "", o + vec, o, arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.2, "shrinkA": 0}
        )
        tip = o + 1.08 * vec
        ax.text(
            tip[0],
            tip[1],
            name,
            fontsize=9,
            ha="center",
            va="center",
            color="black",
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7},
        )


def cohomap_figure(result: CohoMap, mode: str = "phase", title: str = "") -> Figure:
    """One panel per circle over the arena (cm): ``mode`` "phase" (rad, cyclic colormap), "cos" or "sin".

    Unvisited bins are hatched (the cyclic colormap's ends are pale, so a grey fill would be ambiguous).

    On a torus the fundamental parallelogram (a_1, a_2) of the estimated lattice is drawn on every panel.
    """
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {MODES}, got {mode!r}")
    n = result.n_circles
    fig = Figure(figsize=(3.5 * n + 1.0, 4.0), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, n, squeeze=False)[0]
    extent = (result.x_edges[0], result.x_edges[-1], result.y_edges[0], result.y_edges[-1])
    if mode == "phase":
        maps, cmap, vmin, vmax = result.phase_maps, "twilight", 0.0, TWO_PI
    else:
        maps = result.cos_maps if mode == "cos" else result.sin_maps
        cmap, vmin, vmax = "RdBu_r", -1.0, 1.0
    image = None
    for i, ax in enumerate(axes):
        image = ax.imshow(
            maps[i], origin="lower", extent=extent, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest"
        )
        unvisited = Rectangle(
            (extent[0], extent[2]),
            extent[1] - extent[0],
            extent[3] - extent[2],
            facecolor="white",
            edgecolor="0.7",
            hatch="////",
            lw=0,
            zorder=-1,
        )
        ax.add_patch(unvisited)  # NaN bins are transparent: hatched = unvisited
        label = f"θ{i + 1}" if mode == "phase" else f"{mode} θ{i + 1}"
        k = result.wave_vectors[i]
        norm = np.hypot(*k)
        wl = f"period {TWO_PI / norm:.1f} cm" if np.isfinite(norm) and norm > 0 else "no gradient"
        ax.set_title(f"{label}  ({wl}, fit {result.fit_quality[i]:.2f})", fontsize=9)
        ax.set_xlabel("x (cm)")
        if i == 0:
            ax.set_ylabel("y (cm)")
        if result.has_lattice:
            _draw_parallelogram(ax, result)
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_aspect("equal")
    bar = fig.colorbar(image, ax=list(axes), shrink=0.85)
    if mode == "phase":
        bar.set_ticks([0, np.pi, TWO_PI], labels=["0", "π", "2π"])
        bar.set_label("decoded phase (rad)")
    else:
        bar.set_label(f"mean {mode} of decoded phase")
    head = title or "CohoMap"
    if result.has_lattice:
        head += f": spacing {result.spacing_cm:.1f} cm, angle {result.lattice_angle_deg:.1f}°"
    fig.suptitle(head, fontsize=10)
    return fig


def compute_view(context) -> CohoMap:
    """The registry's compute (settings group ``cohomap``)."""
    return compute_cohomap(context.decoding, context.settings["cohomap"])


def export_view_files(view: CohoMap, sources, folder, record: dict, mode: str = "phase") -> list:
    """cohomap.* : the figure (``mode`` "phase" or "cos"), the maps (NPZ), one row per spatial bin (CSV)."""
    from core.export import export_view

    figure = cohomap_figure(view, mode)
    return export_view("cohomap", figure, view.to_arrays(), view.to_rows(), folder, record)


def view_metrics(view: CohoMap) -> dict:
    return {"spacing_cm": view.spacing_cm, "lattice_angle_deg": view.lattice_angle_deg}
