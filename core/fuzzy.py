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
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

_BLOCK_ELEMENTS = 6_000_000  # distances per block (float32, ~24 MB)


def _prepare(points: np.ndarray, metric: str) -> np.ndarray:
    x = np.asarray(points, dtype=np.float32)
    if metric == "cosine":
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return x / norms
    if metric != "euclidean":
        raise ValueError(f"unknown metric {metric!r}; use 'euclidean' or 'cosine'")
    return x


def _block_distances(x: np.ndarray, sq: np.ndarray, start: int, stop: int, metric: str) -> np.ndarray:
    """(stop − start, n) float32 distances from rows start..stop to all points (squared for euclidean)."""
    stop = min(stop, x.shape[0])
    gram = x[start:stop] @ x.T
    if metric == "cosine":
        d = np.subtract(1.0, gram, out=gram)
    else:
        d = gram
        d *= -2.0
        d += sq[start:stop, None]
        d += sq[None, :]
    np.maximum(d, 0.0, out=d)
    rows = np.arange(stop - start)
    d[rows, start + rows] = 0.0
    return d


def smallest_k(d: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Column indices (int64, unsorted) of the k smallest entries of each row of ``d``.

    A full argpartition of every row is slow; instead a per-row threshold is estimated from a random subset of
    columns, only the candidates below it are partitioned, and rows whose threshold was too tight fall back to
    the full argpartition.
    """
    rows, n = d.shape
    if k >= n:
        return np.tile(np.arange(n), (rows, 1))
    if n < 4 * k or n < 2000:
        return np.argpartition(d, k - 1, axis=1)[:, :k]
    rng = np.random.default_rng(seed)
    m = min(n, max(2000, 20 * n // k))
    sample = d[:, rng.choice(n, m, replace=False)]
    q = min(m - 1, int(np.ceil(1.3 * k * m / n)) + 10)
    thresh = np.partition(sample, q, axis=1)[:, q]
    mask = d <= thresh[:, None]
    counts = mask.sum(axis=1)
    out = np.empty((rows, k), dtype=np.int64)
    short = counts < k
    if short.any():
        out[short] = np.argpartition(d[short], k - 1, axis=1)[:, :k]
    good = np.flatnonzero(~short)
    if good.size:
        r, c = np.nonzero(mask[good])
        width = int(counts[good].max())
        starts = np.concatenate([[0], np.cumsum(counts[good])[:-1]])
        pos = np.arange(r.size) - starts[r]
        vals = np.full((good.size, width), np.inf, dtype=d.dtype)
        cols = np.zeros((good.size, width), dtype=np.int64)
        vals[r, pos] = d[good[r], c]
        cols[r, pos] = c
        sel = np.argpartition(vals, k - 1, axis=1)[:, :k]
        out[good] = np.take_along_axis(cols, sel, axis=1)
    return out


def smooth_knn_sigmas(
    distances: np.ndarray, self_mask: np.ndarray, n_iter: int = 50, tol: float = 1e-5
) -> tuple[np.ndarray, np.ndarray]:
    """UMAP's per-point ρ (nearest non-zero distance) and σ (bandwidth) for (n, k) neighbour distances.

    ``self_mask`` marks each row's own entry, excluded from the sum. Target: Σ_j exp(−δ_ij/σ_i) = log2(k).
    """
    d = np.where(self_mask, np.inf, distances).astype(np.float32)
    rho = np.where(d > 0, d, np.inf).min(axis=1)
    rho[~np.isfinite(rho)] = 0.0
    delta = np.maximum(d - rho[:, None], 0.0)
    delta[self_mask] = np.inf  # exp(−β·inf) = 0 for β > 0; β starts at a positive value below
    log_target = np.log(np.log2(distances.shape[1]))
    n_valid = (~self_mask).sum(axis=1)
    finite = np.where(self_mask, 0.0, delta)
    mean_delta = finite.sum(axis=1) / np.maximum(n_valid, 1)
    # start left of the root: at β0 = 1e-6 / mean δ the sum is ≈ n_valid > log2(k)
    beta = 1e-6 / np.maximum(mean_delta, 1e-12)
    active = np.arange(d.shape[0])
    for _ in range(n_iter):
        dl = delta[active]
        e = np.exp(-beta[active, None].astype(np.float32) * dl)
        s = e.sum(axis=1, dtype=np.float64)
        ok = s > 0
        g = np.log(np.where(ok, s, 1.0)) - log_target
        slope = -(np.where(np.isfinite(dl), dl, 0.0) * e).sum(axis=1, dtype=np.float64) / np.where(ok, s, 1.0)
        move = ok & (g > 0) & (slope < 0)
        beta[active[move]] -= g[move] / slope[move]
        active = active[move & (np.abs(g) > tol)]
        if active.size == 0:
            break
    sigma = 1.0 / beta
    mean_d = np.where(self_mask, 0.0, distances).sum(axis=1) / np.maximum(n_valid, 1)
    sigma = np.maximum(sigma, 1e-3 * mean_d)
    return rho.astype(np.float32), sigma.astype(np.float32)


def _block_memberships(
    x: np.ndarray, sq: np.ndarray, start: int, stop: int, k: int, metric: str
) -> tuple[np.ndarray, np.ndarray]:
    d = _block_distances(x, sq, start, stop, metric)
    idx = smallest_k(d, k, seed=start)
    dist = np.take_along_axis(d, idx, axis=1)
    del d
    if metric == "euclidean":
        np.sqrt(dist, out=dist)
    self_mask = idx == np.arange(start, stop)[:, None]
    rho, sigma = smooth_knn_sigmas(dist, self_mask)
    w = np.exp(-np.maximum(dist - rho[:, None], 0.0) / sigma[:, None]).astype(np.float32)
    w[self_mask] = 0.0
    return idx.astype(np.int32), w


def knn_memberships(
    points: np.ndarray, k: int, metric: str = "euclidean", n_threads: int | None = None
) -> sp.csr_matrix:
    """One-sided fuzzy memberships w_ij (CSR, float32, row i = i's k nearest neighbours, self excluded).

    ``k`` counts the point itself, as in UMAP. ``metric``: ``"euclidean"`` or ``"cosine"`` (1 − cos angle).
    """
    x = _prepare(points, metric)
    n = x.shape[0]
    k = min(k, n)
    sq = np.einsum("ij,ij->i", x, x)
    step = max(1, _BLOCK_ELEMENTS // n)
    starts = list(range(0, n, step))
    n_threads = n_threads or min(4, os.cpu_count() or 1)
    if n_threads > 1 and len(starts) > 1:
        with ThreadPoolExecutor(n_threads) as pool:
            parts = list(
                pool.map(lambda s: _block_memberships(x, sq, s, min(s + step, n), k, metric), starts)
            )
    else:
        parts = [_block_memberships(x, sq, s, min(s + step, n), k, metric) for s in starts]
    indices = np.concatenate([p[0] for p in parts])
    weights = np.concatenate([p[1] for p in parts])
    del parts
    m = sp.csr_matrix((weights.ravel(), indices.ravel(), np.arange(0, n * k + 1, k)), shape=(n, n))
    m.eliminate_zeros()
    return m


class FuzzyGraph:
    """The symmetric fuzzy union S = W + Wᵀ − W∘Wᵀ of one-sided memberships W, kept as its three parts.

    Building S explicitly costs two more sparse passes; row sums and single rows are all that density-based
    downsampling needs, so they are derived from W, Wᵀ and W∘Wᵀ directly.
    """

    def __init__(self, w: sp.csr_matrix) -> None:
        self.w = w
        self.wt = w.T.tocsr()
        self.both = w.multiply(self.wt).tocsr()

    def row_sums(self) -> np.ndarray:
        """Σ_j S_ij for every i (float64)."""
        return (
            np.asarray(self.w.sum(axis=1)).ravel()
            + np.asarray(self.wt.sum(axis=1)).ravel()
            - np.asarray(self.both.sum(axis=1)).ravel()
        ).astype(np.float64)

    def row(self, i: int) -> tuple[list[np.ndarray], list[np.ndarray], list[float]]:
        """Row i of S as (index arrays, value arrays, signs) of its three parts."""
        parts = (self.w, self.wt, self.both)
        idx = [m.indices[m.indptr[i] : m.indptr[i + 1]] for m in parts]
        val = [m.data[m.indptr[i] : m.indptr[i + 1]] for m in parts]
        return idx, val, [1.0, 1.0, -1.0]

    def to_csr(self) -> sp.csr_matrix:
        """S itself (CSR, float32)."""
        return (self.w + self.wt - self.both).tocsr()


def fuzzy_simplicial_set(points: np.ndarray, k: int, metric: str = "euclidean") -> sp.csr_matrix:
    """Symmetric fuzzy membership matrix S (sparse CSR, float32) of the exact k-NN graph of ``points``."""
    return FuzzyGraph(knn_memberships(points, k, metric)).to_csr()
