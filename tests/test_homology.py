"""Persistent homology wrapper: exact under the adaptive cut, landmarks, backends."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from core.errors import ConfigError
from core.homology import (
    PersistenceConfig,
    available_backends,
    compute_persistence,
    get_backend,
    greedy_landmarks,
)


def circle(n=120, noise=0.02, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 2 * np.pi, n)
    return np.c_[np.cos(a), np.sin(a)] + rng.normal(0, noise, (n, 2))


def test_a_circle_has_one_long_h1_bar_with_a_cocycle():
    d = squareform(pdist(circle()))
    pers = compute_persistence(d, PersistenceConfig(coeff=47))
    life = pers.lifetimes(1)  # the circle's bar may be alive at the cut: its lifetime is then a lower bound
    assert life[0] > 0.3 and life[1] < 0.1
    full = compute_persistence(d, PersistenceConfig(coeff=47, threshold_quantiles=(1.0,))).lifetimes(1)
    assert full[0] > 1.0 and full[0] >= life[0]
    assert len(pers.cocycles_h1) == len(pers.diagrams[1])
    assert pers.cocycles_h1[0].shape[1] == 3


def test_adaptive_cut_gives_the_full_diagram_except_the_two_longest_bars_lower_bounds():
    d = squareform(pdist(circle(150, seed=1)))
    cut = compute_persistence(d, PersistenceConfig(threshold_quantiles=(0.2, 0.9)))
    full = compute_persistence(d, PersistenceConfig(threshold_quantiles=(1.0,)))
    assert full.threshold == pytest.approx(d.max())  # uncut: the largest distance
    assert cut.n_alive(1) <= 2
    a, b = cut.diagrams[1], full.diagrams[1]
    finished = np.sort(a[np.isfinite(a[:, 1])], axis=0)
    assert np.allclose(finished, np.sort(b[np.argsort(b[:, 0] - b[:, 1])][cut.n_alive(1):], axis=0))
    assert np.all(cut.lifetimes(1)[: cut.n_alive(1)] <= full.lifetimes(1)[: cut.n_alive(1)] + 1e-12)


def test_bars_alive_at_the_last_cut_count_up_to_the_cut():
    d = squareform(pdist(circle(150, seed=2)))
    pers = compute_persistence(d, PersistenceConfig(threshold_quantiles=(0.3,)))
    assert np.isinf(pers.diagrams[1][:, 1]).any()
    assert np.isfinite(pers.lifetimes(1)).all()
    assert pers.lifetimes(1).max() <= pers.threshold


def test_sphere_h2_on_landmarks():
    rng = np.random.default_rng(3)
    p = rng.normal(size=(400, 3))
    p /= np.linalg.norm(p, axis=1, keepdims=True)
    pers = compute_persistence(squareform(pdist(p)), PersistenceConfig(maxdim=2, n_landmarks_h2=120))
    assert pers.landmarks_h2.size == 120
    h2 = pers.lifetimes(2)
    assert h2[0] > 0.5
    assert h2.size == 1 or h2[0] > 4 * h2[1]


def test_greedy_landmarks_spread_out_and_handle_missing_edges():
    d = squareform(pdist(circle(200)))
    d[0, 5] = d[5, 0] = np.inf
    idx = greedy_landmarks(d, 20)
    assert len(set(idx.tolist())) == 20
    assert d[np.ix_(idx, idx)][~np.eye(20, dtype=bool)].min() > 0.15


def test_unknown_or_missing_backends_are_named():
    if "ripser++" not in available_backends():
        with pytest.raises(ConfigError, match="not installed"):
            get_backend("ripser++")
    with pytest.raises(ConfigError, match="backend must be one of"):
        PersistenceConfig(backend="gudhi").validate()
    with pytest.raises(ConfigError, match="prime"):
        PersistenceConfig(coeff=4).validate()


def test_canns_lib_backend_agrees_with_ripser_py():
    pytest.importorskip("canns_lib")
    d = squareform(pdist(circle(100, seed=4)))
    ours = compute_persistence(d, PersistenceConfig(backend="ripser"))
    rust = compute_persistence(d, PersistenceConfig(backend="canns-lib"))
    assert rust.backend == "canns-lib"
    assert np.allclose(np.sort(ours.lifetimes(1)), np.sort(rust.lifetimes(1)), atol=1e-6)


def test_cancel_kills_a_running_engine_and_the_next_call_works():
    from core.errors import Cancelled

    d = squareform(pdist(circle(300, seed=5)))
    calls = {"n": 0}

    def cancel_soon():
        calls["n"] += 1
        return calls["n"] > 2  # the first checks pass, then the user presses Cancel

    with pytest.raises(Cancelled):
        compute_persistence(d, PersistenceConfig(threshold_quantiles=(1.0,)), cancel=cancel_soon)
    again = compute_persistence(d, PersistenceConfig(threshold_quantiles=(1.0,)), cancel=lambda: False)
    assert again.lifetimes(1)[0] > 1.0
