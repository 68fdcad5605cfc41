"""Rate matrix → point cloud and its distance matrix, following Gardner et al. 2022 (Nature 602:123).

Steps (defaults = the paper's, the ``grid`` preset): keep every ``time_step``-th bin; keep the
``n_active_bins`` bins with the highest summed activity; optionally take square roots (``sqrt``: the
spike-count noise then has about the same size at every rate); z-score each unit; PCA to ``n_pca`` dimensions;
fuzzy downsampling to ``n_points`` points (greedy: repeatedly take the point of highest fuzzy density, a
k = ``n_neighbors_downsample`` UMAP membership sum, and lower its neighbours' density by ``omega`` × their
membership); distance between the kept points = −log of their fuzzy membership over ``n_neighbors_metric``
neighbours (``metric``), infinite (no edge) outside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from core.config import Config
from core.errors import RecordingError
from core.fuzzy import NeighbourGraph, fuzzy_simplicial_set, knn_graph
from core.preprocess import RateMatrix
from core.progress import CancelCheck, ProgressCallback, Reporter


@dataclass(frozen=True)
class PointCloudConfig(Config):
    """Parameters of the point cloud (defaults: Gardner et al. 2022)."""

    time_step: int = field(
        default=5,
        metadata={
            "min": 1,
            "max": 100_000,
            "help": "keep every n-th bin",
            "ref": "Gardner et al. 2022, Nature 602:123",
        },
    )
    n_active_bins: int = field(
        default=15000,
        metadata={
            "min": 100,
            "max": 200000,
            "help": "bins with the highest total activity",
            "ref": "Gardner et al. 2022, Nature 602:123",
        },
    )
    sqrt: bool = field(default=False, metadata={"help": "square root of the rates (Poisson noise)"})
    zscore: bool = field(
        default=True,
        metadata={"help": "z-score units before PCA", "ref": "Gardner et al. 2022, Nature 602:123"},
    )
    n_pca: int = field(
        default=6,
        metadata={
            "min": 2,
            "max": 50,
            "help": "PCA dimensions",
            "ref": "Gardner et al. 2022, Nature 602:123",
        },
    )
    n_neighbors_downsample: int = field(
        default=1000,
        metadata={
            "min": 5,
            "max": 5000,
            "help": "neighbours of the density estimate",
            "ref": "Gardner et al. 2022, Nature 602:123; fuzzy membership: McInnes et al. 2018 (UMAP)",
        },
    )
    n_points: int = field(
        default=1200,
        metadata={
            "min": 50,
            "max": 5000,
            "help": "points kept for homology",
            "ref": "Gardner et al. 2022, Nature 602:123",
        },
    )
    omega: float = field(
        default=1.0,
        metadata={
            "min": 0.0,
            "max": 10.0,
            "help": "density subtracted per pick",
            "ref": "Gardner et al. 2022, Nature 602:123",
        },
    )
    n_neighbors_metric: int = field(
        default=800,
        metadata={
            "min": 5,
            "max": 5000,
            "help": "neighbours of the −log membership metric",
            "ref": "Gardner et al. 2022, Nature 602:123; fuzzy membership: McInnes et al. 2018 (UMAP)",
        },
    )
    metric: str = field(
        default="cosine",
        metadata={
            "choices": ["cosine", "euclidean"],
            "help": "metric",
            "ref": "Gardner et al. 2022, Nature 602:123",
        },
    )


@dataclass
class PointCloud:
    """The sampled points and their distances.

    points: (n_points, n_pca) PCA coordinates. bin_index: row of the rate matrix of each point.
    distances: (n_points, n_points) float64, −log membership, ``inf`` where there is no edge, 0 diagonal.
    pca_components: (n_pca, n_units), with ``unit_mean``/``unit_scale`` the z-score used before PCA.
    density: fuzzy density of each kept point when it was picked.
    """

    points: np.ndarray
    bin_index: np.ndarray
    distances: np.ndarray
    pca_components: np.ndarray
    unit_mean: np.ndarray
    unit_scale: np.ndarray
    explained_variance_ratio: np.ndarray
    density: np.ndarray
    config: PointCloudConfig


def select_active_bins(rates: np.ndarray, time_step: int, n_active: int) -> np.ndarray:
    """Indices (sorted) of every ``time_step``-th bin, then the ``n_active`` with the largest summed rate."""
    candidates = np.arange(0, rates.shape[0], time_step)
    if candidates.size <= n_active:
        return candidates
    total = rates[candidates].sum(axis=1, dtype=np.float64)
    top = np.argpartition(-total, n_active - 1)[:n_active]
    return np.sort(candidates[top])


def pca(data: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Principal components of centred ``data`` via the covariance eigenproblem (n_units is small).

    Returns (scores (n, c), components (c, n_units), explained variance ratio (c,)).
    """
    cov = np.cov(data, rowvar=False, dtype=np.float64)
    cov = np.atleast_2d(cov)
    evals, evecs = np.linalg.eigh(cov)
    order = np.argsort(evals)[::-1][:n_components]
    comps = evecs[:, order].T
    comps *= np.sign(comps[np.arange(comps.shape[0]), np.abs(comps).argmax(axis=1)])[:, None]
    scores = (data - data.mean(axis=0)) @ comps.T
    ratio = evals[order] / max(evals.sum(), 1e-300)
    return scores.astype(np.float32), comps, ratio


def greedy_density_sample(
    graph: NeighbourGraph, n_sample: int, omega: float, check: Callable[[], None] = lambda: None
) -> tuple[np.ndarray, np.ndarray]:
    """Gardner et al.'s fuzzy downsampling: pick the densest point, lower its neighbours' density, repeat.

    Density = row sum of the symmetric fuzzy membership. Returns (indices, density at pick time).
    ``check()`` runs every 100 picks (it raises to cancel).
    """
    density = graph.density()
    n_sample = min(n_sample, density.size)
    picked = np.empty(n_sample, dtype=np.int64)
    picked_density = np.empty(n_sample)
    for j in range(n_sample):
        if j % 100 == 0:
            check()
        i = int(np.argmax(density))
        picked[j] = i
        picked_density[j] = density[i]
        density -= omega * graph.union_row(i)
        density[i] = -np.inf  # stays -inf: the rows subtracted later are finite
    return picked, picked_density


def membership_distances(points: np.ndarray, k: int, metric: str) -> np.ndarray:
    """Dense (n, n) float64 matrix of −log fuzzy membership; ``inf`` off the k-NN graph; 0 on the diagonal."""
    n = points.shape[0]
    w = fuzzy_simplicial_set(points, min(k, n), metric).tocoo()
    d = np.full((n, n), np.inf)
    with np.errstate(divide="ignore"):
        d[w.row, w.col] = -np.log(np.clip(w.data.astype(np.float64), 1e-300, 1.0))
    np.fill_diagonal(d, 0.0)
    return d


def build_point_cloud(
    rate_matrix: RateMatrix,
    config: PointCloudConfig | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> PointCloud:
    """Sample the population activity into a point cloud ready for persistent homology."""
    config = config or PointCloudConfig()
    config.validate()
    report = Reporter(progress, cancel)
    rates = rate_matrix.rates
    n_units = rates.shape[1]
    if n_units < 2:
        raise RecordingError(f"a point cloud needs at least 2 units, the rate matrix has {n_units}")
    rows = select_active_bins(rates, config.time_step, config.n_active_bins)
    n_min = max(3 * 2, min(config.n_points, 50))
    if rows.size < n_min:
        raise RecordingError(
            f"only {rows.size} time bins are left after the speed filter and time step; "
            f"need at least {n_min} "
            "(use a longer recording, a smaller time_step or a lower speed threshold)"
        )
    data = rates[rows].astype(np.float64)
    if config.sqrt:  # Anscombe-like: Poisson noise of equal size at every rate
        data = np.sqrt(np.clip(data, 0.0, None))
    mean = data.mean(axis=0)
    scale = data.std(axis=0) if config.zscore else np.ones(n_units)
    scale = np.where(scale > 0, scale, 1.0)
    data = (data - mean) / scale
    report(0.1, "PCA")
    n_pca = min(config.n_pca, n_units)
    scores, comps, ratio = pca(data, n_pca)
    report(0.15, "nearest neighbours")
    graph = knn_graph(scores, config.n_neighbors_downsample, "euclidean", progress=report.sub(0.15, 0.6))
    report(0.6, "fuzzy density and downsampling")
    picked, picked_density = greedy_density_sample(graph, config.n_points, config.omega, report.check)
    del graph
    points = scores[picked]
    report(0.8, "distance matrix")
    distances = membership_distances(points, config.n_neighbors_metric, config.metric)
    report(1.0, "point cloud ready")
    return PointCloud(
        points=points,
        bin_index=rows[picked],
        distances=distances,
        pca_components=comps,
        unit_mean=mean,
        unit_scale=scale,
        explained_variance_ratio=ratio,
        density=picked_density,
        config=config,
    )
