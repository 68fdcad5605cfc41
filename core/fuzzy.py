"""Exact k-nearest neighbours and the UMAP fuzzy simplicial set, without dense n × n matrices.

Memberships follow McInnes, Healy & Melville 2018 (UMAP, arXiv:1802.03426): for point i with neighbour
distances d_ij, ρ_i is the distance to its nearest other point and σ_i solves Σ_j exp(−max(0, d_ij − ρ_i)/σ_i)
= log2(k); w_ij = exp(−max(0, d_ij − ρ_i)/σ_i), symmetrised by the fuzzy union w + wᵀ − w∘wᵀ.

σ_i is found by Newton's method on g(β) = log Σ_j exp(−β δ_ij) − log log2(k), β = 1/σ: g is convex and
decreasing, so Newton from β = 0 rises monotonically to the root in a few steps, for all rows at once.
Rows are processed in blocks (memory O(n·k)) on a small thread pool (numpy releases the GIL).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

_BLOCK_ELEMENTS = 6_000_000  # distances per block (float32, ~24 MB)
RADIUS_TOL = 1.0 + 1e-4


def _prepare(points: np.ndarray, metric: str) -> np.ndarray:
    x = np.asarray(points, dtype=np.float32)
    if metric == "cosine":
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return x / norms
    if metric != "euclidean":
        raise ValueError(f"unknown metric {metric!r}; use 'euclidean' or 'cosine'")
    return x


def _block_ranking(x: np.ndarray, sq: np.ndarray, start: int, stop: int, metric: str) -> tuple:
    """Scores that rank all points by distance from each of rows start..stop, and the per-row offset.

    distance = score + offset[:, None] (squared for euclidean: score = |x_j|² − 2 x_i·x_j, offset = |x_i|²;
    cosine: score = −x_i·x_j, offset = 1). Leaving the offset out saves a pass over the (rows, n) block. Each
    row's own point scores −inf, so it is always its own first neighbour, as in UMAP.
    """
    stop = min(stop, x.shape[0])
    if metric == "cosine":
        score = x[start:stop] @ (-x.T)
        offset = np.ones(stop - start, dtype=np.float32)
    else:
        score = (x[start:stop] * np.float32(-2.0)) @ x.T
        score += sq[None, :]
        offset = sq[start:stop]
    rows = np.arange(stop - start)
    score[rows, start + rows] = -np.inf
    return score, offset


def smallest_k(d: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices (int64, unsorted) of the k smallest entries of each row of ``d``, and those entries.

    A full argpartition of each row is slow; instead a per-row threshold is read off an evenly strided subset
    of ~1,000 columns (set a little loose), and only the candidates below it are partitioned. A row whose
    threshold turns out too tight falls back to the full argpartition, so the result is always exact.
    """
    rows, n = d.shape
    if k >= n:
        idx = np.tile(np.arange(n), (rows, 1))
    elif n < 4 * k or n < 2000:
        idx = np.argpartition(d, k - 1, axis=1)[:, :k]
    else:
        stride = max(1, n // max(1000, 10 * n // k))
        sample = d[:, ::stride]
        m = sample.shape[1]
        q = min(m - 1, int(np.ceil(1.3 * k * m / n)) + 10)
        thresh = np.partition(sample, q, axis=1)[:, q]
        idx = np.empty((rows, k), dtype=np.int64)
        values = np.empty((rows, k), dtype=d.dtype)
        for i in range(rows):
            row = d[i]
            candidates = np.flatnonzero(row <= thresh[i])
            if candidates.size < k:
                candidates = np.arange(n)
            near = row[candidates]
            pick = np.argpartition(near, k - 1)[:k]
            idx[i] = candidates[pick]
            values[i] = near[pick]
        return idx, values
    return idx, np.take_along_axis(d, idx, axis=1)


def smooth_knn_sigmas(
    distances: np.ndarray, self_mask: np.ndarray, n_iter: int = 50, tol: float = 1e-5
) -> tuple[np.ndarray, np.ndarray]:
    """UMAP's per-point ρ (nearest non-zero distance) and σ (bandwidth) for (n, k) neighbour distances.

    ``self_mask`` marks each row's own entry, excluded from the sum. Target: Σ_j exp(−δ_ij/σ_i) = log2(k).
    """
    d = np.where(self_mask, np.inf, distances).astype(np.float32)
    rho = np.where(d > 0, d, np.inf).min(axis=1)
    rho[~np.isfinite(rho)] = 0.0
    # self entries get δ = 0, so they add exactly exp(0) = 1 to each sum: subtracted below
    delta = np.where(self_mask, np.float32(0.0), np.maximum(d - rho[:, None], np.float32(0.0)))
    n_self = self_mask.sum(axis=1)
    n_valid = distances.shape[1] - n_self
    log_target = np.log(np.log2(distances.shape[1]))
    mean_delta = delta.sum(axis=1, dtype=np.float64) / np.maximum(n_valid, 1)
    # start left of the root: at β0 = 1e-6 / mean δ the sum is ≈ n_valid > log2(k)
    beta = 1e-6 / np.maximum(mean_delta, 1e-12)
    active = np.arange(d.shape[0])
    for _ in range(n_iter):
        dl = delta[active]
        # β is bounded: rows of (near-)duplicate points have δ ≈ 0 and Newton would run it past float32
        e = np.exp(dl * -np.minimum(beta[active, None], 1e30).astype(np.float32))
        s = e.sum(axis=1, dtype=np.float64) - n_self[active]
        ok = s > 0
        s_safe = np.where(ok, s, 1.0)
        g = np.log(s_safe) - log_target
        slope = -np.einsum("ij,ij->i", dl, e, dtype=np.float64) / s_safe
        move = ok & (g > 0) & (slope < 0)
        beta[active[move]] = np.minimum(beta[active[move]] - g[move] / slope[move], 1e30)
        active = active[move & (np.abs(g) > tol)]
        if active.size == 0:
            break
    sigma = 1.0 / beta
    mean_d = np.where(self_mask, 0.0, distances).sum(axis=1) / np.maximum(n_valid, 1)
    sigma = np.maximum(sigma, 1e-3 * mean_d)
    return rho.astype(np.float32), sigma.astype(np.float32)


@dataclass
class NeighbourGraph:
    """Exact k-NN of a point set with UMAP's per-point ρ, σ and neighbourhood radius.

    points: the prepared coordinates (float32; unit-normalised for cosine). indices, distances: (n, k), self
    included. radius: distance to the k-th neighbour, so j ∈ kNN(i) ⇔ d_ij ≤ radius_i.
    """

    points: np.ndarray
    metric: str
    indices: np.ndarray
    distances: np.ndarray
    rho: np.ndarray
    sigma: np.ndarray
    radius: np.ndarray

    @property
    def n(self) -> int:
        return self.points.shape[0]

    def memberships(self, rows: slice = slice(None)) -> np.ndarray:
        """One-sided w_ij for the stored pairs of ``rows`` (float32); 0 for the point itself."""
        idx, dist = self.indices[rows], self.distances[rows]
        own = np.arange(self.n, dtype=idx.dtype)[rows, None]
        w = np.exp(-np.maximum(dist - self.rho[rows, None], 0.0) / self.sigma[rows, None])
        w[idx == own] = 0.0
        return w

    def reverse_memberships(self, rows: slice = slice(None)) -> np.ndarray:
        """w_ji for the stored pairs (i, j) of ``rows``: j's membership of i, 0 when i ∉ kNN(j)."""
        j, dist = self.indices[rows], self.distances[rows]
        own = np.arange(self.n, dtype=j.dtype)[rows, None]
        w = np.exp(-np.maximum(dist - self.rho[j], 0.0) / self.sigma[j])
        w[(dist > self.radius[j] * RADIUS_TOL) | (j == own)] = 0.0
        return w

    def density(self, n_threads: int = 2) -> np.ndarray:
        """Σ_j S_ij, the row sums of the symmetric fuzzy union S = W + Wᵀ − W∘Wᵀ (float64, length n)."""
        step = max(1, _BLOCK_ELEMENTS // max(self.indices.shape[1], 1))

        def block(start: int) -> tuple[np.ndarray, np.ndarray]:
            rows = slice(start, min(start + step, self.n))
            w = self.memberships(rows)
            own = w.sum(axis=1, dtype=np.float64) - (w * self.reverse_memberships(rows)).sum(
                axis=1, dtype=np.float64
            )
            return own, np.bincount(self.indices[rows].ravel(), weights=w.ravel(), minlength=self.n)

        with ThreadPoolExecutor(n_threads) as pool:
            parts = list(pool.map(block, range(0, self.n, step)))
        return np.concatenate([p[0] for p in parts]) + np.sum([p[1] for p in parts], axis=0)

    def union_row(self, i: int) -> np.ndarray:
        """Row i of S for all n points (dense float64), recomputed from the coordinates in O(n)."""
        x = self.points
        if self.metric == "cosine":
            d = np.maximum(1.0 - x @ x[i], 0.0)
        else:
            diff = x - x[i]
            d = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        row = np.zeros(self.n)
        near = np.flatnonzero((d <= self.radius * RADIUS_TOL) | (d <= self.radius[i] * RADIUS_TOL))
        dn = d[near]
        mine = np.where(
            dn <= self.radius[i] * RADIUS_TOL, np.exp(-np.maximum(dn - self.rho[i], 0.0) / self.sigma[i]), 0
        )
        theirs = np.where(
            dn <= self.radius[near] * RADIUS_TOL,
            np.exp(-np.maximum(dn - self.rho[near], 0.0) / self.sigma[near]),
            0,
        )
        row[near] = mine + theirs - mine * theirs
        row[i] = 0.0
        return row

    def to_sparse(self) -> sp.csr_matrix:
        """S as a sparse CSR matrix (float32)."""
        n, k = self.indices.shape
        indices = self.indices.ravel().copy()  # eliminate_zeros compacts it in place
        w = sp.csr_matrix((self.memberships().ravel(), indices, np.arange(0, n * k + 1, k)), (n, n))
        w.eliminate_zeros()
        wt = w.T.tocsr()
        return (w + wt - w.multiply(wt)).tocsr()


def _block_neighbours(x: np.ndarray, sq: np.ndarray, start: int, stop: int, k: int, metric: str) -> tuple:
    score, offset = _block_ranking(x, sq, start, stop, metric)
    idx, dist = smallest_k(score, k)
    del score
    dist += offset[:, None]
    self_mask = idx == np.arange(start, start + idx.shape[0])[:, None]
    dist[self_mask] = 0.0
    np.maximum(dist, 0.0, out=dist)
    if metric == "euclidean":
        np.sqrt(dist, out=dist)
    rho, sigma = smooth_knn_sigmas(dist, self_mask)
    return idx.astype(np.int32), dist, rho, sigma, dist.max(axis=1)


def knn_graph(
    points: np.ndarray,
    k: int,
    metric: str = "euclidean",
    n_threads: int | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> NeighbourGraph:
    """The exact k-NN graph of ``points`` with UMAP bandwidths, in row blocks on a small thread pool.

    ``k`` counts the point itself, as in UMAP. ``metric``: ``"euclidean"`` or ``"cosine"`` (1 − cos angle).
    ``progress(fraction, message)`` is called before each block (from worker threads); an exception it raises
    (e.g. cancellation) stops the computation.
    """
    x = _prepare(points, metric)
    n = x.shape[0]
    k = min(k, n)
    sq = np.einsum("ij,ij->i", x, x)
    step = max(1, _BLOCK_ELEMENTS // n)
    starts = list(range(0, n, step))
    n_threads = n_threads or min(4, os.cpu_count() or 1)

    def block(start: int) -> tuple:
        if progress is not None:
            progress(start / n, f"nearest neighbours {start}/{n}")
        return _block_neighbours(x, sq, start, min(start + step, n), k, metric)

    if n_threads > 1 and len(starts) > 1:
        with ThreadPoolExecutor(n_threads) as pool:
            parts = list(pool.map(block, starts))
    else:
        parts = [block(s) for s in starts]
    return NeighbourGraph(x, metric, *(np.concatenate([p[f] for p in parts]) for f in range(5)))


def fuzzy_simplicial_set(points: np.ndarray, k: int, metric: str = "euclidean") -> sp.csr_matrix:
    """Symmetric fuzzy membership matrix S (sparse CSR, float32) of the exact k-NN graph of ``points``."""
    return knn_graph(points, k, metric).to_sparse()
