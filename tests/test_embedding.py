"""2-D views of a point cloud: PCA and UMAP both keep the circular order of a noisy ring in 20-D."""

import numpy as np
import pytest

from core.embedding import MAX_UMAP_POINTS, embed_2d
from core.errors import Cancelled, ConfigError


def noisy_ring(n: int, seed: int = 0, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """(n, 20) points on a unit circle in a random 2-D plane of R^20 plus isotropic noise; their angles."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0, 2 * np.pi, n)
    plane = np.linalg.qr(rng.normal(size=(20, 2)))[0]
    points = np.column_stack([np.cos(theta), np.sin(theta)]) @ plane.T + noise * rng.normal(size=(n, 20))
    return points, theta


def ring_order_agreement(coords: np.ndarray, theta: np.ndarray) -> float:
    """|mean e^{i(φ ∓ θ)}| for φ the angle of each embedded point about the centroid (1: same circular order,
    up to rotation and reflection; ~0: unrelated)."""
    c = coords - coords.mean(axis=0)
    phi = np.arctan2(c[:, 1], c[:, 0])
    return max(abs(np.exp(1j * (phi - theta)).mean()), abs(np.exp(1j * (phi + theta)).mean()))


def neighbour_ring_gap(coords: np.ndarray, theta: np.ndarray, k: int = 5) -> float:
    """Median angular distance (rad) on the ring between each point and its k nearest embedded neighbours."""
    d = np.linalg.norm(coords[:, None, :] - coords[None, :, :], axis=-1)
    np.fill_diagonal(d, np.inf)
    nearest = np.argsort(d, axis=1)[:, :k]
    gap = np.abs(np.angle(np.exp(1j * (theta[:, None] - theta[nearest]))))
    return float(np.median(gap))


def test_pca_view_keeps_the_ring_order_and_reports_variance():
    points, theta = noisy_ring(400)
    emb = embed_2d(points, "pca")
    assert emb.method == "pca" and emb.coords.shape == (400, 2) and emb.coords.dtype == np.float32
    assert np.array_equal(emb.index, np.arange(400))
    assert ring_order_agreement(emb.coords, theta) > 0.9
    assert neighbour_ring_gap(emb.coords, theta) < 0.2
    ratio = emb.explained_variance_ratio
    assert ratio.shape == (2,) and ratio[0] >= ratio[1] > 0.3 and ratio.sum() <= 1.0  # noise holds the rest


@pytest.mark.slow  # the first UMAP fit of a process compiles numba code (up to ~1 min)
def test_umap_view_keeps_the_ring_order_is_seeded_and_subsamples():
    points, theta = noisy_ring(300)
    seen = []
    emb = embed_2d(points, "umap", seed=0, progress=lambda f, m: seen.append((f, m)))
    assert emb.method == "umap" and emb.coords.shape == (300, 2) and emb.coords.dtype == np.float32
    assert emb.explained_variance_ratio is None
    assert ring_order_agreement(emb.coords, theta[emb.index]) > 0.9
    assert neighbour_ring_gap(emb.coords, theta[emb.index]) < 0.2
    assert any("compiles" in m for _, m in seen) and seen[-1][0] == 1.0
    again = embed_2d(points, "umap", seed=0)
    assert np.array_equal(again.coords, emb.coords)  # same seed, same picture
    sub = embed_2d(points, "umap", seed=1, max_points=120, metric="cosine")
    assert sub.coords.shape == (120, 2) and np.all(np.diff(sub.index) > 0) and sub.index.max() < 300
    assert ring_order_agreement(sub.coords, theta[sub.index]) > 0.9
    assert MAX_UMAP_POINTS <= 2000


def test_bad_input_and_cancel():
    points, _ = noisy_ring(50)
    with pytest.raises(ConfigError, match="method"):
        embed_2d(points, "tsne")
    with pytest.raises(ConfigError, match="shape"):
        embed_2d(points[:2], "pca")
    with pytest.raises(Cancelled):
        embed_2d(points, "umap", cancel=lambda: True)  # checked before umap is even imported


def test_umap_missing_is_a_plain_message(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_umap(name, *args, **kwargs):
        if name == "umap":
            raise ImportError("No module named 'umap'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_umap)
    with pytest.raises(ConfigError, match="umap-learn"):
        embed_2d(noisy_ring(50)[0], "umap")
    assert embed_2d(noisy_ring(50)[0], "pca").coords.shape == (50, 2)  # PCA never needs it
