"""2-D views of a point cloud for display: PCA (linear) or UMAP (non-linear; McInnes, Healy & Melville 2018,
"UMAP: Uniform Manifold Approximation and Projection", arXiv:1802.03426, via umap-learn).

Only a picture: homology is computed on the full-dimensional cloud, never on these coordinates. The first
UMAP fit in a process compiles umap-learn's numba code (up to ~1 minute); later fits take seconds.
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass

import numpy as np

from core.errors import ConfigError
from core.pointcloud import pca
from core.progress import CancelCheck, ProgressCallback, Reporter

METHODS = ("pca", "umap")
MAX_UMAP_POINTS = 1500
UMAP_COMPILE_NOTE = "UMAP: the first run in a session compiles for up to a minute"


@dataclass
class Embedding2D:
    """A 2-D embedding of (a subset of) a point cloud.

    coords: (n, 2) float32, in the units of the input for PCA, arbitrary units for UMAP. method: "pca" or
    "umap". index: (n,) rows of the input points that ``coords`` embeds (all rows for PCA; a seeded sample of
    at most ``max_points`` rows for UMAP). explained_variance_ratio: (2,) share of the input's total variance
    on each axis (PCA only, else None).
    """

    coords: np.ndarray
    method: str
    index: np.ndarray
    explained_variance_ratio: np.ndarray | None = None


def umap_available() -> bool:
    """True when umap-learn can be imported (a packaged app may be built without it)."""
    return importlib.util.find_spec("umap") is not None


def embed_2d(
    points: np.ndarray,
    method: str = "pca",
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    *,
    max_points: int = MAX_UMAP_POINTS,
    n_neighbors: int = 30,
    min_dist: float = 0.3,
    metric: str = "euclidean",
) -> Embedding2D:
    """Embed (n, d) ``points`` in 2-D with ``method`` "pca" or "umap".

    UMAP runs on at most ``max_points`` points (a seeded random sample without replacement), with
    ``n_neighbors`` neighbours (capped at n − 1), ``min_dist`` (embedding units) and ``metric`` ("euclidean"
    or "cosine"), seeded by ``seed`` (single-threaded, so reproducible). ``cancel`` is checked before and
    after the fit; the fit itself is not interrupted.
    """
    if method not in METHODS:
        raise ConfigError(f"method must be one of {METHODS}, got {method!r}")
    data = np.asarray(points, dtype=np.float64)
    if data.ndim != 2 or data.shape[0] < 3 or data.shape[1] < 1:
        raise ConfigError(f"points must be (n ≥ 3, d ≥ 1), got shape {data.shape}")
    report = Reporter(progress, cancel)
    if method == "pca":
        report(0.1, "PCA")
        scores, _, ratio = pca(data, min(2, data.shape[1]))
        coords = np.zeros((data.shape[0], 2), dtype=np.float32)
        coords[:, : scores.shape[1]] = scores
        full = np.zeros(2)
        full[: ratio.size] = ratio
        report(1.0, "PCA view ready")
        return Embedding2D(coords, "pca", np.arange(data.shape[0]), full)
    if max_points < 3:
        raise ConfigError(f"max_points must be ≥ 3, got {max_points}")
    index = np.arange(data.shape[0])
    if data.shape[0] > max_points:
        index = np.sort(np.random.default_rng(seed).choice(data.shape[0], max_points, replace=False))
    report(0.05, UMAP_COMPILE_NOTE)
    try:
        import umap  # slow first import (numba); only here so that PCA never pays for it
    except ImportError as exc:
        raise ConfigError("the UMAP view needs umap-learn, which this installation lacks; use PCA") from exc

    model = umap.UMAP(
        n_components=2,
        n_neighbors=int(min(n_neighbors, index.size - 1)),
        min_dist=min_dist,
        metric=metric,
        random_state=seed,
        n_jobs=1,
        init="spectral",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)  # sklearn/numba deprecations inside umap
        coords = model.fit_transform(data[index])
    report(1.0, "UMAP view ready")
    return Embedding2D(np.asarray(coords, dtype=np.float32), "umap", index, None)
