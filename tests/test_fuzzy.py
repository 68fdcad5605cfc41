"""Our blockwise fuzzy simplicial set agrees with umap-learn's, and the k-NN is exact."""

import numpy as np
import pytest

from core.fuzzy import fuzzy_simplicial_set, knn_graph, smallest_k


def test_smallest_k_is_exact_on_wide_rows():
    rng = np.random.default_rng(0)
    d = rng.random((50, 9000)).astype(np.float32)
    idx, values = smallest_k(d, 300)
    assert np.allclose(values, np.take_along_axis(d, idx, axis=1))
    want = np.sort(np.argsort(d, axis=1)[:, :300], axis=1)
    assert np.array_equal(np.sort(idx, axis=1), want)


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_memberships_match_umap(metric):
    umap_ = pytest.importorskip("umap.umap_")
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(1)
    x = rng.normal(size=(1500, 5)).astype(np.float32)
    ours = fuzzy_simplicial_set(x, 60, metric)
    nn = NearestNeighbors(n_neighbors=60, algorithm="brute", metric=metric).fit(x)
    dist, ind = nn.kneighbors(x)
    theirs, _, _ = umap_.fuzzy_simplicial_set(
        x, 60, 0, metric, knn_indices=ind, knn_dists=dist.astype(np.float32)
    )
    assert abs(ours - theirs).max() < 1e-4


def test_one_sided_memberships_exclude_self_and_stay_in_unit_interval():
    x = np.random.default_rng(2).normal(size=(300, 3))
    graph = knn_graph(x, 20)
    w = graph.memberships()
    assert w.shape == (300, 20)
    assert w.max() <= 1.0 + 1e-6 and w.min() >= 0.0
    assert (w[graph.indices == np.arange(300)[:, None]] == 0).all()


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_density_and_rows_equal_the_sparse_fuzzy_union(metric):
    x = np.random.default_rng(3).normal(size=(2500, 4))
    graph = knn_graph(x, 40, metric)
    union = graph.to_sparse()
    # pairs at exactly the k-th neighbour distance may differ in float32 rounding: ≤ 0.1 % of a density
    assert np.allclose(graph.density(), np.asarray(union.sum(axis=1)).ravel(), rtol=1e-3)
    for i in (0, 17, 2499):
        assert np.allclose(graph.union_row(i), union[i].toarray().ravel(), atol=1e-4)
