"""Grid scores: spatial autocorrelograms, gridness with a per-unit shuffle threshold, spacing, orientation,
field size, and grouping of grid cells into modules.

Gridness follows the expanding-annulus method: Sargolini et al. (2006), Science 312:758; Langston et al.
(2010), Science 328:1576; Brandon et al. (2011), Science 332:595. The autocorrelogram is rotated by 30, 60,
90, 120 and 150°, each rotation is correlated (Pearson) with the original inside an annulus that excludes
the central peak, and gridness = min(r60, r120) − max(r30, r90, r150), maximised over the outer radius.
The shuffle null circularly shifts each unit's rates in time against the path by ≥ ``min_shift_s``
(Langston et al. 2010 use ≥ 20 s); a unit is a grid cell when its gridness exceeds the 95th percentile of
its own shuffled scores.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle
from scipy import fft, sparse
from scipy.ndimage import gaussian_filter, maximum_filter

from core.config import Config
from core.errors import ConfigError
from core.preprocess import RateMatrix
from core.progress import CancelCheck, ProgressCallback, Reporter
from core.views.ratemaps import (
    RateMapConfig,
    RateMaps,
    SpatialBinning,
    compute_rate_maps,
    draw_map,
    maps_from_rates,
    require_position,
    spatial_binning,
    unit_index,
)

ANGLES_DEG = (30.0, 60.0, 90.0, 120.0, 150.0)
MIN_RING_PIXELS = 20


@dataclass(frozen=True)
class GridScoreConfig(Config):
    """Parameters of the grid scores.

    n_shuffles: time-shift shuffles per unit (0: no threshold, no unit is called a grid cell).
    min_shift_s: smallest circular shift of the rates against the path (s). percentile: of the shuffled
    gridness, used as each unit's threshold. seed: of the shifts. min_overlap_bins: autocorrelogram lags
    whose two copies of the map overlap in fewer valid bins are NaN. central_threshold: the central peak of
    the autocorrelogram ends at the first radius where its radial mean falls below this value or reaches a
    local minimum; that radius is the inner radius of the annulus. min_annulus_width_cm: narrowest annulus.
    max_radius_fraction: largest outer radius, as a fraction of the shorter arena side (the autocorrelogram
    spans ± the side; 0.75 keeps the six inner peaks in the annulus for spacings up to ~0.7 of the side,
    while larger lags, where the two copies of the map barely overlap, only add noise). peak_threshold: an
    autocorrelogram peak must exceed this correlation to count for spacing and orientation. The rate maps'
    bins and smoothing follow the arena (see :class:`RateMapConfig`); the peak search scales with the
    central peak, hence with the spacing (see :func:`peak_candidates`). module_min_ratio: smallest spacing
    ratio between adjacent modules; module_min_cells: fewest grid cells in a module; module_spacing_noise:
    floor (relative s.d.) of the spread of spacings within a module (see :func:`group_modules`).
    batch_size: maps per FFT batch (memory vs speed). n_threads: threads that compute the shuffles (0 = one
    per core, at most 8).
    """

    n_shuffles: int = field(
        default=100, metadata={"min": 0, "max": 10000, "help": "time-shift shuffles per unit (threshold)"}
    )
    min_shift_s: float = field(
        default=20.0, metadata={"unit": "s", "min": 0.0, "max": 3600.0, "help": "smallest shuffle shift"}
    )
    percentile: float = field(
        default=95.0,
        metadata={"unit": "%", "min": 50.0, "max": 100.0, "help": "shuffle percentile threshold"},
    )
    seed: int = field(default=0, metadata={"min": 0, "max": 2**31 - 1, "help": "random seed of the shifts"})
    min_overlap_bins: int = field(
        default=20, metadata={"min": 1, "max": 10000, "help": "fewest overlapping bins for a valid lag"}
    )
    central_threshold: float = field(
        default=0.1,
        metadata={"min": -1.0, "max": 1.0, "help": "correlation at which the central peak ends"},
    )
    min_annulus_width_cm: float = field(
        default=10.0, metadata={"unit": "cm", "min": 0.0, "max": 200.0, "help": "narrowest annulus"}
    )
    max_radius_fraction: float = field(
        default=0.75,
        metadata={"min": 0.1, "max": 1.0, "help": "largest outer radius / shorter arena side"},
    )
    peak_threshold: float = field(
        default=0.0, metadata={"min": -1.0, "max": 1.0, "help": "least correlation of a counted peak"}
    )
    module_min_ratio: float = field(
        default=1.2,
        metadata={"min": 1.01, "max": 3.0, "help": "smallest spacing ratio between adjacent modules"},
    )
    module_min_cells: int = field(
        default=3, metadata={"min": 1, "max": 1000, "help": "fewest grid cells in a module"}
    )
    module_spacing_noise: float = field(
        default=0.05,
        metadata={"min": 0.001, "max": 1.0, "help": "least relative s.d. of spacing within a module"},
    )
    batch_size: int = field(default=64, metadata={"min": 1, "max": 4096, "help": "maps per batch (memory)"})
    n_threads: int = field(
        default=0, metadata={"min": 0, "max": 256, "help": "threads for the shuffles (0 = cores, up to 8)"}
    )


@dataclass
class GridScores:
    """Grid scores of every unit (arrays of length n_units unless stated).

    gridness: expanding-annulus gridness (no unit), NaN for a silent or unmappable unit. spacing_cm: median
    distance from the autocorrelogram centre to the peaks of its inner hexagon (cm; ≥ 3 peaks, else NaN; see
    :func:`lattice_peaks`). orientation_deg: lattice orientation in [0, 60) deg, counter-clockwise from the
    x axis (circular mean of the hexagon peaks' angles mod 60°).
    field_size_cm: radius (cm) at which the radially averaged central autocorrelogram peak falls to half
    height (0.5). threshold: percentile of the unit's shuffled gridness. is_grid: gridness > threshold.
    module: module label (0 = smallest spacing) of each grid cell, −1 for the others.
    autocorrelograms: (n_units, 2ny−1, 2nx−1) Pearson correlation at each lag; lag_x_cm, lag_y_cm: lags (cm).
    inner_radius_cm / outer_radius_cm: annulus giving the gridness. peaks_cm: per unit, (k, 2) array of the
    (x, y) lags (cm) of the ≤ 6 inner-hexagon peaks used. shuffled_gridness: (n_units, n_shuffles).
    """

    unit_ids: list
    gridness: np.ndarray
    spacing_cm: np.ndarray
    orientation_deg: np.ndarray
    field_size_cm: np.ndarray
    threshold: np.ndarray
    is_grid: np.ndarray
    module: np.ndarray
    autocorrelograms: np.ndarray
    lag_x_cm: np.ndarray
    lag_y_cm: np.ndarray
    inner_radius_cm: np.ndarray
    outer_radius_cm: np.ndarray
    peaks_cm: list
    shuffled_gridness: np.ndarray
    rate_maps: RateMaps
    config: GridScoreConfig

    @property
    def n_units(self) -> int:
        return len(self.unit_ids)

    def to_rows(self) -> list[dict]:
        """One dict per unit with the CSV columns unit, gridness, spacing_cm, orientation_deg, field_size_cm,
        threshold, is_grid, module."""
        return [
            {
                "unit": u,
                "gridness": float(self.gridness[i]),
                "spacing_cm": float(self.spacing_cm[i]),
                "orientation_deg": float(self.orientation_deg[i]),
                "field_size_cm": float(self.field_size_cm[i]),
                "threshold": float(self.threshold[i]),
                "is_grid": bool(self.is_grid[i]),
                "module": int(self.module[i]),
            }
            for i, u in enumerate(self.unit_ids)
        ]


# --------------------------------------------------------------------------- autocorrelograms


def autocorrelograms(
    maps: np.ndarray,
    min_overlap_bins: int = 20,
    max_lag_bins: int | None = None,
    single: bool = False,
    workers: int = -1,
) -> np.ndarray:
    """NaN-aware spatial autocorrelograms of a (K, ny, nx) stack of maps → (K, 2ny−1, 2nx−1).

    Each lag holds the Pearson correlation between the map and its shifted copy over the bins valid in both
    (finite values), computed for all lags at once from FFT cross-correlations of the masked values, masks
    and squared values. Lags with fewer than ``min_overlap_bins`` overlapping bins, or no variance, are NaN.
    The centre (lag 0) is index (ny−1, nx−1). ``max_lag_bins`` keeps only lags up to that many bins along
    each axis (output (K, 2c+1, 2c+1) arrays centred on lag 0), which saves time when only they are needed.
    ``single`` runs the FFTs in float32 (about twice as fast; errors ~1e-6 at lags with a large overlap).
    ``workers``: FFT threads (scipy.fft; −1 = all cores).
    """
    maps = np.asarray(maps, dtype=np.float64)
    k, ny, nx = maps.shape
    cy, cx = ny - 1, nx - 1
    if max_lag_bins is not None:
        cy, cx = min(cy, int(max_lag_bins)), min(cx, int(max_lag_bins))
    mask = np.isfinite(maps)
    shared = bool((mask == mask[:1]).all()) if k else True
    n_valid = mask.sum(axis=(1, 2), keepdims=True)
    mean = np.where(mask, maps, 0.0).sum(axis=(1, 2), keepdims=True) / np.maximum(n_valid, 1)
    f = np.where(mask, maps - mean, 0.0)
    m = mask[:1] if shared else mask
    # circular correlation of length L is exact for lags |τ| ≤ c when L ≥ n + c (no wrap-around)
    shape = (fft.next_fast_len(ny + cy, real=True), fft.next_fast_len(nx + cx, real=True))
    real = np.float32 if single else np.float64
    fm, ff, ff2 = (fft.rfft2(a.astype(real), s=shape, workers=workers) for a in (m, f, f * f))
    lags = np.ix_(np.arange(-cy, cy + 1) % shape[0], np.arange(-cx, cx + 1) % shape[1])

    def corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:  # Σ_x a(x) b(x + lag)
        return fft.irfft2(np.conj(a) * b, s=shape, workers=workers)[(slice(None), *lags)]

    n = np.rint(corr(fm, fm))
    sff = corr(ff, ff)
    sf_m = corr(ff, fm)  # Σ f(x) m(x+τ)
    sf2_m = corr(ff2, fm)  # Σ f²(x) m(x+τ)
    sm_f = sf_m[:, ::-1, ::-1]  # Σ m(x) f(x+τ), the same at −τ
    sm_f2 = sf2_m[:, ::-1, ::-1]
    num = n * sff - sf_m * sm_f
    var1 = n * sf2_m - sf_m**2
    var2 = n * sm_f2 - sm_f**2
    scale = (n * (f * f).sum(axis=(1, 2), keepdims=True).astype(real)) * (1e-5 if single else 1e-9)
    ok = (n >= min_overlap_bins) & (var1 > scale) & (var2 > scale)
    out = np.full(num.shape, np.nan)
    np.divide(num, np.sqrt(np.where(ok, var1 * var2, 1.0)), out=out, where=ok)
    return np.clip(out, -1.0, 1.0, out=out).astype(np.float64, copy=False)


def autocorrelogram(rate_map: np.ndarray, min_overlap_bins: int = 20) -> np.ndarray:
    """NaN-aware autocorrelogram (2ny−1, 2nx−1) of one (ny, nx) map; see :func:`autocorrelograms`."""
    return autocorrelograms(np.asarray(rate_map)[None], min_overlap_bins)[0]


# --------------------------------------------------------------------------- annulus geometry


@dataclass(frozen=True)
class _Annulus:
    """Pixels of the autocorrelogram within the largest radius, their ring, and the rotation operators."""

    pixels: np.ndarray  # flat indices into the (H, W) autocorrelogram
    rings: sparse.csr_matrix  # (n_rings, P) one-hot: ring j holds pixels with r in ((j-1)b, jb]
    ring_radius_cm: np.ndarray  # mean radius of each ring
    rotations: sparse.csr_matrix  # (P * 5, H * W): row p*5+a = value at pixel p after rotation by angle a
    n_rings: int
    bin_cm: float


@lru_cache(maxsize=8)
def _annulus(cy: int, cx: int, bin_cm: float, max_radius_cm: float) -> _Annulus:
    """Geometry for (2cy+1, 2cx+1) autocorrelograms (lag 0 at the centre) of bins ``bin_cm`` (cm)."""
    h, w = 2 * cy + 1, 2 * cx + 1
    max_r = min(max_radius_cm / bin_cm, min(cy, cx) - 1.0)  # rotated sources stay inside the array
    v, u = np.mgrid[-cy : h - cy, -cx : w - cx].astype(np.float64)
    r = np.hypot(u, v)
    inside = r <= max_r
    pixels = np.flatnonzero(inside.ravel())
    pu, pv, pr = u.ravel()[pixels], v.ravel()[pixels], r.ravel()[pixels]
    ring = np.ceil(pr - 1e-9).astype(np.int64)
    n_rings = int(ring.max()) + 1
    p = pixels.size
    rings = sparse.csr_matrix((np.ones(p), (ring, np.arange(p))), shape=(n_rings, p))
    counts = np.bincount(ring, minlength=n_rings)
    ring_radius = np.bincount(ring, weights=pr, minlength=n_rings) / np.maximum(counts, 1) * bin_cm

    rows, cols, vals = [], [], []
    for a, deg in enumerate(ANGLES_DEG):
        th = np.deg2rad(deg)
        su = pu * np.cos(th) + pv * np.sin(th) + cx  # source of a counter-clockwise rotation by th
        sv = -pu * np.sin(th) + pv * np.cos(th) + cy
        u0, v0 = np.floor(su).astype(np.int64), np.floor(sv).astype(np.int64)
        fu, fv = su - u0, sv - v0
        for du, dv, wt in (
            (0, 0, (1 - fu) * (1 - fv)),
            (1, 0, fu * (1 - fv)),
            (0, 1, (1 - fu) * fv),
            (1, 1, fu * fv),
        ):
            rows.append(np.arange(p) * len(ANGLES_DEG) + a)
            cols.append(np.clip(v0 + dv, 0, h - 1) * w + np.clip(u0 + du, 0, w - 1))
            vals.append(wt)
    rot = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(p * len(ANGLES_DEG), h * w),
    )
    rot.eliminate_zeros()
    return _Annulus(pixels, rings, ring_radius, rot, n_rings, bin_cm)


def _first_true(cond: np.ndarray, default: int) -> np.ndarray:
    """Index of the first True along axis 0 of a (n, K) array, ``default`` where there is none."""
    has = cond.any(axis=0)
    return np.where(has, cond.argmax(axis=0), default)


def _central_field(profile: np.ndarray, ring_radius_cm: np.ndarray, threshold: float) -> tuple:
    """From (n_rings, K) radial profiles: ring where the central peak ends, half-height radius (cm).

    The peak ends at the first ring below ``threshold`` or at the first local minimum of the profile
    smoothed over 3 rings (so that ring-to-ring noise on the central peak's shoulder is not a minimum).
    """
    n_rings = profile.shape[0]
    p = np.where(np.isfinite(profile), profile, -np.inf)
    q = p.copy()
    q[1:-1] = (p[:-2] + p[1:-1] + p[2:]) / 3.0
    q[1:-1] = np.where(np.isfinite(q[1:-1]), q[1:-1], p[1:-1])
    below = p[1:] < threshold
    local_min = np.zeros_like(below)
    local_min[:-1] = q[2:] > q[1:-1]
    end_ring = 1 + _first_true(below | local_min, n_rings - 1)
    # half height: first ring below 0.5, interpolated with the ring before
    j = np.clip(1 + _first_true(p[1:] < 0.5, n_rings - 2), 1, n_rings - 1)
    cols = np.arange(p.shape[1])
    p0, p1 = profile[j - 1, cols], profile[j, cols]
    r0, r1 = ring_radius_cm[j - 1], ring_radius_cm[j]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.clip((p0 - 0.5) / (p0 - p1), 0.0, 1.0)
    half = r0 + frac * (r1 - r0)
    half = np.where(np.isfinite(profile[0]) & (p[1:] < 0.5).any(axis=0), half, np.nan)
    return end_ring, half


def _pearson(s: np.ndarray) -> np.ndarray:
    """Pearson r from stacked sums (n, Σx, Σy, Σx², Σy², Σxy) along axis 1; NaN when undefined."""
    n, sx, sy, sxx, syy, sxy = (s[:, i] for i in range(6))
    num = n * sxy - sx * sy
    den = (n * sxx - sx * sx) * (n * syy - sy * sy)
    ok = (n >= MIN_RING_PIXELS) & (den > 1e-12 * np.maximum(n, 1) ** 2)
    out = np.full(num.shape, np.nan)
    np.divide(num, np.sqrt(np.where(ok, den, 1.0)), out=out, where=ok)
    return out


def _ring_sums(geom: _Annulus, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(n_rings, 6, 5, K) ring sums (n, Σx, Σy, Σx², Σy², Σxy) of x (P, K) vs its rotations y (P, 5, K)."""
    p, n_ang, k = y.shape
    if np.isfinite(x).all() and np.isfinite(y).all():  # the usual case: no mask needed
        own = (geom.rings @ np.concatenate([x, x * x], axis=1)).reshape(-1, 2, 1, k)
        flat_y = y.reshape(p, -1)
        cross = np.stack(
            [
                geom.rings @ flat_y,
                geom.rings @ (flat_y * flat_y),
                geom.rings @ (x[:, None, :] * y).reshape(p, -1),
            ],
            axis=1,
        ).reshape(-1, 3, n_ang, k)
        count = np.asarray(geom.rings.sum(axis=1)).reshape(-1, 1, 1, 1)
        own = np.broadcast_to(own, (own.shape[0], 2, n_ang, k))
        count = np.broadcast_to(count, (own.shape[0], 1, n_ang, k))
        return np.concatenate([count, own[:, :1], cross[:, :1], own[:, 1:], cross[:, 1:]], axis=1)
    xb = np.broadcast_to(x[:, None, :], y.shape)
    m = np.isfinite(xb) & np.isfinite(y)
    xm, ym = np.where(m, xb, 0.0), np.where(m, y, 0.0)
    q = np.stack([m.astype(np.float64), xm, ym, xm * xm, ym * ym, xm * ym], axis=1)  # (P, 6, 5, K)
    return (geom.rings @ q.reshape(p, -1)).reshape(-1, 6, n_ang, k)


def _gridness_of_batch(acorrs: np.ndarray, geom: _Annulus, config: GridScoreConfig) -> dict:
    """Gridness of (K, H, W) autocorrelograms: gridness, inner/outer radius (cm), half-height radius (cm)."""
    k = acorrs.shape[0]
    flat = acorrs.reshape(k, -1)
    x = flat[:, geom.pixels].T  # (P, K)
    fin_x = np.isfinite(x)
    x0 = np.where(fin_x, x, 0.0)
    ring_n = geom.rings @ fin_x.astype(np.float64)
    profile = np.full(ring_n.shape, np.nan)
    np.divide(geom.rings @ x0, ring_n, out=profile, where=ring_n > 0)
    end_ring, half = _central_field(profile, geom.ring_radius_cm, config.central_threshold)

    y = np.asarray(geom.rotations @ flat.T).reshape(x.shape[0], len(ANGLES_DEG), k)  # (P, 5, K)
    cum = np.cumsum(_ring_sums(geom, x, y), axis=0)  # sums over rings 0..j
    cols = np.arange(k)
    inner = cum[end_ring - 1, :, :, cols]  # (K, 6, 5): sums over rings < end_ring
    annulus = cum - np.moveaxis(inner, 0, -1)[None]  # (n_rings, 6, 5, K): rings end_ring..j
    r = _pearson(annulus)  # (n_rings, 5, K)
    g = np.minimum(r[:, 1], r[:, 3]) - np.maximum(np.maximum(r[:, 0], r[:, 2]), r[:, 4])
    width = int(np.ceil(config.min_annulus_width_cm / geom.bin_cm - 1e-9))
    j = np.arange(geom.n_rings)[:, None]
    g = np.where((j >= end_ring[None] + max(width, 1) - 1) & np.isfinite(g), g, -np.inf)
    best = g.argmax(axis=0)
    score = g[best, cols]
    found = np.isfinite(score)
    return {
        "gridness": np.where(found, score, np.nan),
        "inner_radius_cm": np.where(np.isfinite(profile[0]), (end_ring - 1) * geom.bin_cm, np.nan),
        "outer_radius_cm": np.where(found, best * geom.bin_cm, np.nan),
        "half_radius_cm": half,
    }


def _lag_window(ny: int, nx: int, bin_cm: float, config: GridScoreConfig) -> tuple[int, int, float]:
    """Half-extent (bins) of the autocorrelogram lags the gridness needs, and the largest radius (cm)."""
    max_radius_cm = config.max_radius_fraction * min(ny, nx) * bin_cm
    c = int(np.ceil(max_radius_cm / bin_cm)) + 2
    return min(ny - 1, c), min(nx - 1, c), max_radius_cm


def _crop(acorrs: np.ndarray, cy: int, cx: int) -> np.ndarray:
    """Central (K, 2cy+1, 2cx+1) part of (K, H, W) autocorrelograms centred on lag 0."""
    h, w = acorrs.shape[1:]
    y0, x0 = (h - 1) // 2 - cy, (w - 1) // 2 - cx
    return acorrs[:, y0 : y0 + 2 * cy + 1, x0 : x0 + 2 * cx + 1]


def gridness_of_maps(
    maps: np.ndarray,
    bin_cm: float,
    config: GridScoreConfig | None = None,
    report: Reporter | None = None,
    acorrs: np.ndarray | None = None,
    fft_workers: int = -1,
) -> dict:
    """Gridness and annulus radii (cm) of a (K, ny, nx) stack of maps, in batches of ``config.batch_size``.

    ``acorrs``: their full autocorrelograms when already computed; ``fft_workers``: FFT threads. Returns a
    dict of (K,) arrays: gridness, inner_radius_cm, outer_radius_cm, half_radius_cm (the central peak's
    half-height radius, cm).
    """
    config = config or GridScoreConfig()
    maps = np.asarray(maps, dtype=np.float64)
    kk, ny, nx = maps.shape
    keys = ("gridness", "inner_radius_cm", "outer_radius_cm", "half_radius_cm")
    out = {key: np.full(kk, np.nan) for key in keys}
    if ny < 5 or nx < 5:
        return out
    cy, cx, max_radius_cm = _lag_window(ny, nx, bin_cm, config)
    geom = _annulus(cy, cx, float(bin_cm), max_radius_cm)
    for start in range(0, kk, config.batch_size):
        stop = min(start + config.batch_size, kk)
        if report is not None:
            report(start / max(kk, 1), "gridness")
        if acorrs is None:
            batch = autocorrelograms(
                maps[start:stop], config.min_overlap_bins, max(cy, cx), single=True, workers=fft_workers
            )
        else:
            batch = acorrs[start:stop]
        res = _gridness_of_batch(np.ascontiguousarray(_crop(batch, cy, cx)), geom, config)
        for key in keys:
            out[key][start:stop] = res[key]
    return out


def gridness(rate_map: np.ndarray, bin_cm: float, config: GridScoreConfig | None = None) -> float:
    """Expanding-annulus gridness of one (ny, nx) rate map with square bins of ``bin_cm`` (cm)."""
    return float(gridness_of_maps(np.asarray(rate_map)[None], bin_cm, config)["gridness"][0])


# --------------------------------------------------------------------------- peaks, spacing, orientation


def _refine(a: np.ndarray, iy: int, ix: int) -> tuple[float, float]:
    """Sub-bin offset (dy, dx) of a local maximum from a parabola through it and its 4 neighbours."""

    def vertex(lo: float, mid: float, hi: float) -> float:
        den = lo - 2 * mid + hi
        return 0.0 if not np.isfinite(den) or den >= 0 else float(np.clip(0.5 * (lo - hi) / den, -0.5, 0.5))

    h, w = a.shape
    dy = vertex(a[iy - 1, ix], a[iy, ix], a[iy + 1, ix]) if 0 < iy < h - 1 else 0.0
    dx = vertex(a[iy, ix - 1], a[iy, ix], a[iy, ix + 1]) if 0 < ix < w - 1 else 0.0
    return dy, dx


def _nan_smooth(a: np.ndarray, sigma_bins: float) -> np.ndarray:
    """Gaussian smoothing (s.d. in bins) that ignores NaN (normalised convolution); NaN stays NaN."""
    fin = np.isfinite(a)
    if sigma_bins <= 0 or not fin.any():
        return a
    num = gaussian_filter(np.where(fin, a, 0.0), sigma_bins, mode="constant")
    den = gaussian_filter(fin.astype(np.float64), sigma_bins, mode="constant")
    out = np.full(a.shape, np.nan)
    np.divide(num, den, out=out, where=fin & (den > 1e-9))
    return out


def _disc(radius_bins: float) -> np.ndarray:
    """Boolean disc footprint of the given radius (bins), at least 3 × 3."""
    r = max(int(np.floor(radius_bins)), 1)
    v, u = np.mgrid[-r : r + 1, -r : r + 1]
    return np.hypot(u, v) <= max(radius_bins, 1.0)


def peak_candidates(
    acorr: np.ndarray, bin_cm: float, inner_radius_cm: float, threshold: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local maxima of an autocorrelogram beyond the central peak: (row, col, value) arrays.

    The scale comes from the central peak (its end, ``inner_radius_cm`` ≈ half the spacing): the
    autocorrelogram is smoothed with s.d. 0.15 × that radius and a maximum must be the largest value within
    0.8 × that radius, so the noise bumps on a field's flank or on the central peak's shoulder are not peaks
    (two lattice peaks are one spacing ≥ 2 × the radius apart).
    """
    r_in = max(float(inner_radius_cm) / bin_cm, 1.0) if np.isfinite(inner_radius_cm) else 2.0
    sm = _nan_smooth(acorr, 0.15 * r_in)
    a = np.where(np.isfinite(sm), sm, -np.inf)
    h, w = a.shape
    cy, cx = (h - 1) // 2, (w - 1) // 2
    local = maximum_filter(a, footprint=_disc(max(0.8 * r_in, 2.0)), mode="constant", cval=-np.inf)
    iy, ix = np.nonzero((a == local) & (a > threshold) & np.isfinite(acorr))
    keep = np.hypot(iy - cy, ix - cx) > r_in
    return iy[keep], ix[keep], a[iy[keep], ix[keep]]


def ring_radius(acorr: np.ndarray, bin_cm: float, inner_radius_cm: float, max_radius_cm: float) -> float:
    """Radius (cm) of the inner ring of lattice peaks, from the radially averaged autocorrelogram.

    The profile (mean over 1-bin rings, smoothed over 3 rings) is searched beyond the central peak
    (``inner_radius_cm``) up to ``max_radius_cm``: the first local maximum reaching half the largest value
    there. Averaging over all directions keeps the noise of single lags and the few-overlap lags near the
    autocorrelogram's edges out; taking the first strong maximum skips the second ring (√3 and 2 spacings).
    NaN when the profile has no maximum there.
    """
    h, w = acorr.shape
    v, u = np.mgrid[:h, :w]
    r = np.hypot(v - (h - 1) // 2, u - (w - 1) // 2)
    ring = np.rint(r).astype(np.int64).ravel()
    fin = np.isfinite(acorr).ravel()
    n = np.bincount(ring[fin], minlength=ring.max() + 1)
    total = np.bincount(ring[fin], weights=acorr.ravel()[fin], minlength=ring.max() + 1)
    prof = np.where(n > 0, total / np.maximum(n, 1), np.nan)
    sm = _smooth_profile(prof)
    lo = int(np.floor(np.nan_to_num(inner_radius_cm, nan=0.0) / bin_cm)) + 1
    hi = min(int(np.floor(max_radius_cm / bin_cm)), sm.size - 2)
    if hi <= lo:
        return float("nan")
    j = np.arange(lo, hi + 1)
    seg = np.where(np.isfinite(sm[j]), sm[j], -np.inf)
    is_max = (seg >= np.where(np.isfinite(sm[j - 1]), sm[j - 1], -np.inf)) & (
        seg >= np.where(np.isfinite(sm[j + 1]), sm[j + 1], -np.inf)
    )
    top = seg.max()
    if not np.isfinite(top):
        return float("nan")
    strong = is_max & (seg >= top - 0.5 * (top - max(seg.min(), -1.0)))
    k = int(np.argmax(strong)) if strong.any() else int(np.argmax(seg))
    return float(j[k] * bin_cm)


def _smooth_profile(prof: np.ndarray) -> np.ndarray:
    """Mean of each value of a 1-D profile with its two neighbours, ignoring NaN (NaN where all are)."""
    fin = np.isfinite(prof)
    val = np.where(fin, prof, 0.0)
    kernel = np.ones(3)
    num = np.convolve(val, kernel, mode="same")
    den = np.convolve(fin.astype(np.float64), kernel, mode="same")
    out = np.full(prof.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def inner_hexagon(
    radius: np.ndarray, angle_rad: np.ndarray, value: np.ndarray, ring_radius: float
) -> np.ndarray:
    """Indices of the ≤ 6 candidate peaks that form the inner hexagon around a ring of radius
    ``ring_radius`` (same unit as ``radius``).

    Candidates within a factor 1.3 of the ring radius (lattices of ellipticity up to ~1.3; the second ring
    lies √3 ≈ 1.3² out) are kept, then the ≤ 6 strongest that are ≥ 30° apart in angle.
    """
    if not np.isfinite(ring_radius) or ring_radius <= 0:
        return np.zeros(0, dtype=np.int64)
    near = np.flatnonzero((radius >= ring_radius / 1.3) & (radius <= ring_radius * 1.3))
    return _distinct_angles(near, angle_rad, value)


def _distinct_angles(idx: np.ndarray, angle_rad: np.ndarray, value: np.ndarray) -> np.ndarray:
    """The ≤ 6 strongest of ``idx``, each ≥ 30° in angle from those already chosen (greedy by value)."""
    chosen: list[int] = []
    for i in idx[np.argsort(-value[idx], kind="stable")]:
        d = np.abs(np.angle(np.exp(1j * (angle_rad[chosen] - angle_rad[i])))) if chosen else np.array([])
        if (d >= np.deg2rad(30.0)).all():
            chosen.append(int(i))
            if len(chosen) == 6:
                break
    return np.asarray(chosen, dtype=np.int64)


def lattice_peaks(
    acorr: np.ndarray,
    bin_cm: float,
    inner_radius_cm: float,
    threshold: float = 0.0,
    max_radius_cm: float | None = None,
) -> np.ndarray:
    """(x, y) lags (cm) of the ≤ 6 autocorrelogram peaks of the inner hexagon, ordered by angle.

    The ring radius from :func:`ring_radius` (searched up to ``max_radius_cm``, default 0.9 × the shorter
    half-extent of the autocorrelogram, i.e. 0.9 × the arena side), candidates from
    :func:`peak_candidates`, the hexagon from :func:`inner_hexagon`; each peak is refined to sub-bin
    precision with parabolas through the raw autocorrelogram.
    """
    h, w = acorr.shape
    cy, cx = (h - 1) // 2, (w - 1) // 2
    if max_radius_cm is None:
        max_radius_cm = 0.9 * min(cy, cx) * bin_cm
    ring = ring_radius(acorr, bin_cm, inner_radius_cm, max_radius_cm)
    iy, ix, val = peak_candidates(acorr, bin_cm, inner_radius_cm, threshold)
    u, v = (ix - cx).astype(np.float64), (iy - cy).astype(np.float64)
    chosen = inner_hexagon(np.hypot(u, v) * bin_cm, np.arctan2(v, u), val, ring)
    peaks = []
    for i in chosen:
        dy, dx = _refine(acorr, int(iy[i]), int(ix[i]))
        peaks.append(((u[i] + dx) * bin_cm, (v[i] + dy) * bin_cm))
    out = np.asarray(peaks, dtype=np.float64).reshape(-1, 2)
    return out[np.argsort(np.mod(np.arctan2(out[:, 1], out[:, 0]), 2 * np.pi), kind="stable")]


def spacing_orientation(peaks_cm: np.ndarray) -> tuple[float, float]:
    """Spacing (cm, median peak distance) and orientation (deg in [0, 60): circular mean of 6θ, / 6).

    NaN for fewer than 3 peaks.
    """
    if len(peaks_cm) < 3:
        return float("nan"), float("nan")
    d = np.hypot(peaks_cm[:, 0], peaks_cm[:, 1])
    theta = np.arctan2(peaks_cm[:, 1], peaks_cm[:, 0])
    mean6 = np.angle(np.exp(6j * theta).mean())
    return float(np.median(d)), float(np.mod(np.rad2deg(mean6) / 6.0, 60.0))


# --------------------------------------------------------------------------- shuffles and modules


def shuffle_shifts(n_rows: int, dt_s: float, config: GridScoreConfig) -> np.ndarray:
    """``n_shuffles`` seeded circular shifts (rows), each ≥ ``min_shift_s`` from zero both ways round."""
    lo = int(np.ceil(config.min_shift_s / dt_s))
    hi = n_rows - lo
    if config.n_shuffles and hi <= lo:
        raise ConfigError(
            f"the speed-filtered recording lasts {n_rows * dt_s:.1f} s, too short for shuffles shifted by "
            f"≥ {config.min_shift_s} s both ways; lower min_shift_s or set n_shuffles to 0"
        )
    rng = np.random.default_rng(config.seed)
    return (
        rng.integers(lo, hi, size=config.n_shuffles, endpoint=True) if config.n_shuffles else np.zeros(0, int)
    )


def _segment_costs(v: np.ndarray) -> np.ndarray:
    """(n+1, n+1) within-segment sums of squares of sorted ``v``: cost[i, j] for v[i:j] (inf for j ≤ i)."""
    c1 = np.concatenate([[0.0], np.cumsum(v)])
    c2 = np.concatenate([[0.0], np.cumsum(v * v)])
    i, j = np.meshgrid(np.arange(v.size + 1), np.arange(v.size + 1), indexing="ij")
    n = np.maximum(j - i, 1)
    cost = (c2[j] - c2[i]) - (c1[j] - c1[i]) ** 2 / n
    return np.where(j > i, np.maximum(cost, 0.0), np.inf)


def optimal_partition(v: np.ndarray, k: int, min_size: int) -> list[int] | None:
    """Boundaries [0, b1, …, n] of the least-squares split of sorted ``v`` into ``k`` contiguous groups of
    ≥ ``min_size`` values (exact 1-D k-means by dynamic programming); None when impossible."""
    n = v.size
    if k * min_size > n:
        return None
    cost = _segment_costs(v)
    size_ok = (np.arange(n + 1)[None, :] - np.arange(n + 1)[:, None]) >= min_size
    cost = np.where(size_ok, cost, np.inf)
    best = cost[0].copy()  # best[j]: v[:j] in one group
    back = [np.zeros(n + 1, dtype=np.int64)]
    for _ in range(1, k):
        total = best[:, None] + cost  # (i, j): v[:i] in g groups, v[i:j] one more
        back.append(total.argmin(axis=0))
        best = total.min(axis=0)
    if not np.isfinite(best[n]):
        return None
    bounds, j = [n], n
    for g in range(k - 1, 0, -1):
        j = int(back[g][j])
        bounds.append(j)
    return [0, *bounds[::-1]]


def _bic(v: np.ndarray, bounds: list[int], noise_sd: float) -> float:
    """BIC of a hard-assigned 1-D Gaussian mixture with a shared variance (floored at ``noise_sd``²)."""
    n, k = v.size, len(bounds) - 1
    sizes = np.diff(bounds)
    sse = sum(
        float(((v[a:b] - v[a:b].mean()) ** 2).sum()) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    )
    var = max(sse / n, noise_sd**2)
    log_l = -0.5 * n * np.log(2 * np.pi * var) - sse / (2 * var) + float((sizes * np.log(sizes / n)).sum())
    return -2.0 * log_l + 2 * k * np.log(n)


def module_count_and_bounds(log_spacing: np.ndarray, config: GridScoreConfig) -> list[int]:
    """Boundaries of the chosen modules in sorted ln-spacings (see :func:`group_modules`)."""
    v = np.sort(log_spacing)
    noise = np.log1p(config.module_spacing_noise)
    best, best_bic = [0, v.size], _bic(v, [0, v.size], noise)
    k_max = min(v.size // max(config.module_min_cells, 1), 12)
    for k in range(2, k_max + 1):
        bounds = optimal_partition(v, k, config.module_min_cells)
        if bounds is None:
            break
        means = [v[a:b].mean() for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        if np.min(np.diff(means)) < np.log(config.module_min_ratio):
            continue
        bic = _bic(v, bounds, noise)
        if bic < best_bic:
            best, best_bic = bounds, bic
    return best


def group_modules(
    spacing_cm: np.ndarray, orientation_deg: np.ndarray, member: np.ndarray, config: GridScoreConfig
) -> np.ndarray:
    """Module label per unit (0 = smallest spacing), −1 outside ``member`` or without a lattice.

    The rule: grid modules are discrete in spacing (Stensola et al. 2012, Nature 492:72; adjacent modules
    differ by a ratio of ~1.4), so the grid cells' ln-spacings are split into k contiguous groups by exact
    1-D k-means, for every k from 1 up; a split counts only when every group has ≥ ``module_min_cells``
    cells and adjacent group means differ by a spacing ratio ≥ ``module_min_ratio``. Of the admissible k,
    the one with the lowest BIC (Schwarz 1978) of a Gaussian mixture with one shared variance, floored at
    the measurement noise ``module_spacing_noise`` (relative s.d.), is kept; k = 1 when no split beats
    one group. Orientation is not used: modules may share an orientation. ``orientation_deg`` is accepted
    for compatibility.
    """
    labels = np.full(len(spacing_cm), -1, dtype=np.int64)
    ok = member & np.isfinite(spacing_cm) & (spacing_cm > 0)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return labels
    log_s = np.log(spacing_cm[idx])
    bounds = module_count_and_bounds(log_s, config)
    v = np.sort(log_s)
    edges = [v[b - 1] for b in bounds[1:-1]]  # last value of each group but the last
    labels[idx] = np.searchsorted(np.asarray(edges), log_s, side="left")
    return labels


# --------------------------------------------------------------------------- the stage


def compute_grid_scores(
    rate_matrix: RateMatrix,
    rate_maps: RateMaps | None = None,
    config: GridScoreConfig | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> GridScores:
    """Gridness, threshold, spacing, orientation, field size and module of every unit.

    ``rate_maps`` are those of ``rate_matrix`` (computed with default :class:`RateMapConfig` when None); the
    shuffled maps use the same bins and smoothing. The same ``n_shuffles`` seeded shifts serve every unit;
    each unit's threshold comes from its own shuffled maps.
    """
    config = config or GridScoreConfig()
    config.validate()
    report = Reporter(progress, cancel)
    if rate_maps is None:
        rate_maps = compute_rate_maps(rate_matrix, RateMapConfig(), progress=None, cancel=cancel)
    x, y = require_position(rate_matrix)
    if rate_maps.n_units != rate_matrix.rates.shape[1]:
        raise ConfigError(
            f"the rate maps have {rate_maps.n_units} units but the rate matrix {rate_matrix.rates.shape[1]}; "
            "compute the maps from this rate matrix"
        )
    bin_cm = rate_maps.bin_size_cm
    max_radius_cm = config.max_radius_fraction * min(rate_maps.maps.shape[1:]) * bin_cm
    report(0.02, "autocorrelograms")
    acorrs = autocorrelograms(rate_maps.maps, config.min_overlap_bins)
    obs = gridness_of_maps(rate_maps.maps, bin_cm, config, report.sub(0.02, 0.1), acorrs=acorrs)
    peaks, spacing, orient = [], [], []
    for i in range(rate_maps.n_units):
        pk = lattice_peaks(
            acorrs[i], bin_cm, np.nan_to_num(obs["inner_radius_cm"][i]), config.peak_threshold, max_radius_cm
        )
        peaks.append(pk)
        s, o = spacing_orientation(pk)
        spacing.append(s)
        orient.append(o)

    n = rate_matrix.n_bins
    dt = rate_matrix.config.dt_s
    shifts = shuffle_shifts(n, dt, config)
    shuffled = np.full((rate_maps.n_units, shifts.size), np.nan)
    active = np.flatnonzero(np.isfinite(obs["gridness"]))
    if shifts.size and active.size:
        binning = rate_maps.binning or spatial_binning(
            x, y, dt, rate_maps.config, rate_maps.x_edges, rate_maps.y_edges
        )
        rates = np.ascontiguousarray(rate_matrix.rates[:, active], dtype=np.float32)
        shuffled[active] = _shuffled_gridness(rates, binning, shifts, bin_cm, config, report.sub(0.1, 0.97))

    report(0.98, "thresholds and modules")
    threshold = _percentile_rows(shuffled, config.percentile)
    with np.errstate(invalid="ignore"):
        is_grid = np.isfinite(threshold) & np.isfinite(obs["gridness"]) & (obs["gridness"] > threshold)
    spacing_a, orient_a = np.asarray(spacing, dtype=np.float64), np.asarray(orient, dtype=np.float64)
    module = group_modules(spacing_a, orient_a, is_grid, config)
    h, w = acorrs.shape[1:]
    report(1.0, "grid scores ready")
    return GridScores(
        unit_ids=list(rate_maps.unit_ids),
        gridness=obs["gridness"],
        spacing_cm=spacing_a,
        orientation_deg=orient_a,
        field_size_cm=obs["half_radius_cm"],
        threshold=threshold,
        is_grid=is_grid,
        module=module,
        autocorrelograms=acorrs,
        lag_x_cm=(np.arange(w) - (w - 1) // 2) * bin_cm,
        lag_y_cm=(np.arange(h) - (h - 1) // 2) * bin_cm,
        inner_radius_cm=obs["inner_radius_cm"],
        outer_radius_cm=obs["outer_radius_cm"],
        peaks_cm=peaks,
        shuffled_gridness=shuffled,
        rate_maps=rate_maps,
        config=config,
    )


def _shuffle_chunk(
    rates: np.ndarray, binning: SpatialBinning, shifts: np.ndarray, bin_cm: float, config: GridScoreConfig
) -> np.ndarray:
    """(n_units, len(shifts)) gridness of the maps of ``rates`` shifted by each of ``shifts`` (rows)."""
    maps = np.concatenate([maps_from_rates(rates, binning, int(s)) for s in shifts])
    g = gridness_of_maps(maps, bin_cm, config, fft_workers=1)["gridness"]
    return g.reshape(shifts.size, rates.shape[1]).T


def _shuffled_gridness(
    rates: np.ndarray,
    binning: SpatialBinning,
    shifts: np.ndarray,
    bin_cm: float,
    config: GridScoreConfig,
    report: Reporter,
) -> np.ndarray:
    """(n_units, n_shifts) gridness of the time-shifted maps, chunks of shifts spread over a thread pool
    (NumPy, scipy.fft and scipy.sparse release the GIL)."""
    per_chunk = max(1, config.batch_size // rates.shape[1])
    starts = range(0, shifts.size, per_chunk)
    out = np.full((rates.shape[1], shifts.size), np.nan)
    n_threads = config.n_threads or min(os.cpu_count() or 1, 8)
    with ThreadPoolExecutor(max_workers=max(1, n_threads)) as pool:
        futures = {
            pool.submit(_shuffle_chunk, rates, binning, shifts[s : s + per_chunk], bin_cm, config): s
            for s in starts
        }
        try:
            for done, future in enumerate(as_completed(futures)):
                s = futures[future]
                out[:, s : s + per_chunk] = future.result()
                report((done + 1) / len(futures), f"shuffles {min(s + per_chunk, shifts.size)}/{shifts.size}")
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return out


def _percentile_rows(values: np.ndarray, q: float) -> np.ndarray:
    """Per-row percentile of the finite values; NaN for a row with none (no warning)."""
    out = np.full(values.shape[0], np.nan)
    for i, row in enumerate(values):
        row = row[np.isfinite(row)]
        if row.size:
            out[i] = np.percentile(row, q)
    return out


# --------------------------------------------------------------------------- figures


def gridscore_figure(scores: GridScores, unit: object) -> Figure:
    """Rate map, autocorrelogram (annulus and lattice peaks marked) and shuffle distribution of one unit
    (``unit`` is a unit id)."""
    i = unit_index(scores.unit_ids, unit)
    rm = scores.rate_maps
    fig = Figure(figsize=(11.0, 3.4), layout="constrained")
    FigureCanvasAgg(fig)
    ax_map, ax_ac, ax_sh = fig.subplots(1, 3)
    draw_map(ax_map, fig, rm.maps[i], rm.x_edges, rm.y_edges, "Hz")
    ax_map.set_title(f"unit {scores.unit_ids[i]}: peak {rm.peak_rate_hz[i]:.1f} Hz", fontsize=9)
    ax_map.set_xlabel("x (cm)")
    ax_map.set_ylabel("y (cm)")

    half = rm.bin_size_cm / 2
    lx, ly = scores.lag_x_cm, scores.lag_y_cm
    im = ax_ac.imshow(
        np.ma.masked_invalid(scores.autocorrelograms[i]),
        origin="lower",
        extent=(lx[0] - half, lx[-1] + half, ly[0] - half, ly[-1] + half),
        cmap="RdBu_r",
        vmin=-1,
        vmax=1,
        interpolation="nearest",
    )
    fig.colorbar(im, ax=ax_ac, fraction=0.046, pad=0.03).set_label("r", fontsize=8)
    for radius in (scores.inner_radius_cm[i], scores.outer_radius_cm[i]):
        if np.isfinite(radius):
            ax_ac.add_patch(Circle((0, 0), radius, fill=False, ec="k", lw=1.0, ls="--"))
    pk = scores.peaks_cm[i]
    if len(pk):
        ax_ac.plot(pk[:, 0], pk[:, 1], "x", color="k", ms=7, mew=1.5)
    ax_ac.set_title(
        f"gridness {scores.gridness[i]:.2f}, spacing {scores.spacing_cm[i]:.1f} cm, "
        f"{scores.orientation_deg[i]:.1f}°",
        fontsize=9,
    )
    ax_ac.set_xlabel("lag x (cm)")
    ax_ac.set_ylabel("lag y (cm)")

    sh = scores.shuffled_gridness[i]
    sh = sh[np.isfinite(sh)]
    if sh.size:
        ax_sh.hist(sh, bins=min(30, max(5, sh.size // 4)), color="0.6")
    if np.isfinite(scores.threshold[i]):
        ax_sh.axvline(scores.threshold[i], color="k", ls="--", label=f"{scores.config.percentile:g}th pct")
    if np.isfinite(scores.gridness[i]):
        ax_sh.axvline(scores.gridness[i], color="#c44e52", lw=2, label="observed")
    ax_sh.set_xlabel("gridness")
    ax_sh.set_ylabel("shuffles")
    ax_sh.set_title("grid cell" if scores.is_grid[i] else "not a grid cell", fontsize=9)
    if ax_sh.get_legend_handles_labels()[0]:
        ax_sh.legend(fontsize=7)
    return fig


def gridscore_summary_figure(scores: GridScores) -> Figure:
    """Gridness histogram (grid cells vs others) and spacing (cm) vs orientation (deg) coloured by module."""
    fig = Figure(figsize=(9.0, 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax_h, ax_s = fig.subplots(1, 2)
    g = scores.gridness
    fin = np.isfinite(g)
    if fin.any():
        bins = np.linspace(np.min(g[fin]), np.max(g[fin]) + 1e-9, 25)
        ax_h.hist(
            [g[fin & ~scores.is_grid], g[fin & scores.is_grid]],
            bins=bins,
            stacked=True,
            color=["0.6", "#4c72b0"],
            label=["other", "grid cells"],
        )
        ax_h.legend(fontsize=7)
    ax_h.set_xlabel("gridness")
    ax_h.set_ylabel("units")
    ax_h.set_title(f"{int(scores.is_grid.sum())} of {scores.n_units} units are grid cells", fontsize=9)
    ok = np.isfinite(scores.spacing_cm) & np.isfinite(scores.orientation_deg)
    other = ok & (scores.module < 0)
    ax_s.scatter(scores.orientation_deg[other], scores.spacing_cm[other], c="0.75", s=12, label="not grid")
    for mod in np.unique(scores.module[scores.module >= 0]):
        sel = ok & (scores.module == mod)
        ax_s.scatter(scores.orientation_deg[sel], scores.spacing_cm[sel], s=18, label=f"module {mod}")
    ax_s.set_xlim(0, 60)
    ax_s.set_xlabel("orientation (deg)")
    ax_s.set_ylabel("spacing (cm)")
    if ax_s.get_legend_handles_labels()[0]:
        ax_s.legend(fontsize=7)
    return fig


def compute_view(context) -> GridScores:
    """The registry's compute: grid scores of FRM's rate maps (settings ``grid_scores``, ``rate_maps``)."""
    from core.views.ratemaps import compute_rate_maps

    frm = context.views.get("frm")
    maps = frm.maps if frm is not None and frm.maps is not None else None
    if maps is None:
        maps = compute_rate_maps(context.rate_matrix, context.settings["rate_maps"])
    config = context.settings["grid_scores"]
    return compute_grid_scores(context.rate_matrix, maps, config, context.report, context.report.check)


def export_view_files(
    scores: GridScores, sources, folder, record: dict, unit_index: int | None = None
) -> list:
    """gridscores.* (every unit: summary figure, one CSV row each) and, with ``unit_index``,
    gridscore_unit_<id>.* (that unit's rate map, autocorrelogram and shuffles)."""
    from core.export import arrays_of, export_view, safe_stem

    rows = scores.to_rows()
    summary = gridscore_summary_figure(scores)
    paths = export_view("gridscores", summary, arrays_of(scores), rows, folder, record)
    if unit_index is None:
        return paths
    rm = scores.rate_maps
    unit_arrays = {
        "rate_map_hz": rm.maps[unit_index],
        "x_edges_cm": rm.x_edges,
        "y_edges_cm": rm.y_edges,
        "autocorrelogram_r": scores.autocorrelograms[unit_index],
        "lag_x_cm": scores.lag_x_cm,
        "lag_y_cm": scores.lag_y_cm,
        "peaks_cm": scores.peaks_cm[unit_index],
        "shuffled_gridness": scores.shuffled_gridness[unit_index],
    }
    uid = scores.unit_ids[unit_index]
    stem = f"gridscore_unit_{safe_stem(uid)}"
    figure = gridscore_figure(scores, uid)
    return paths + export_view(stem, figure, unit_arrays, [rows[unit_index]], folder, record)


def view_metrics(scores: GridScores) -> dict:
    modules = {int(m) for m in scores.module if int(m) >= 0}
    return {
        "n_grid_cells": int(np.sum(scores.is_grid)),
        "n_units": scores.n_units,
        "median_gridness": float(np.nanmedian(scores.gridness)),
        "n_modules": len(modules),
    }
