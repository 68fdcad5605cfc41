"""Grid scores on realistic sessions with known answers: real rat paths (RatInABox), offset arenas, several
modules, noisy grid cells among place-like, irregular and untuned cells (see gridscore_sessions)."""

import contextlib
import io

import numpy as np
import pytest
from gridscore_sessions import Module, angle_error_mod60, auc, make_session

from core.views.gridscore import GridScoreConfig, compute_grid_scores, group_modules

pytest.importorskip("ratinabox")


def session(**kwargs):
    with contextlib.redirect_stdout(io.StringIO()):  # RatInABox prints its citation
        return make_session(**kwargs)


def scored(s, n_shuffles=40):
    return compute_grid_scores(s.rate_matrix, None, GridScoreConfig(n_shuffles=n_shuffles, seed=1))


@pytest.fixture(scope="module")
def three_modules():
    """25 grid cells of 100, 140 and 200 cm and 15 others in a 3.3 m box centred on 0 (−165…+165 cm)."""
    mods = [Module(100.0, 7.0, 9), Module(140.0, 22.0, 8), Module(200.0, 41.0, 8)]
    s = session(modules=mods, n_place=6, n_irregular=5, n_untuned=4, duration_s=3600.0, dt_s=0.05, seed=4)
    return s, scored(s)


def test_offset_arena_is_binned_from_its_own_extent(three_modules):
    s, sc = three_modules
    rm = sc.rate_maps
    assert rm.x_edges[0] < -160 and rm.x_edges[-1] > 160 and rm.y_edges[0] < -160
    assert rm.bin_size_cm == pytest.approx(330 / 40, abs=0.1)  # auto: the arena side / 40
    assert rm.config.smoothing_sigma_cm == pytest.approx(1.2 * rm.bin_size_cm)
    assert rm.valid.mean() > 0.9


def test_gridness_separates_grid_cells_from_the_others(three_modules):
    s, sc = three_modules
    assert auc(sc.gridness[s.is_grid], sc.gridness[~s.is_grid]) >= 0.9
    assert sc.is_grid[s.is_grid].mean() >= 0.8
    assert sc.is_grid[~s.is_grid].sum() <= 2


def test_spacing_and_orientation_come_from_the_inner_hexagon(three_modules):
    s, sc = three_modules
    g = s.is_grid
    err = np.abs(sc.spacing_cm[g] / s.spacing_cm[g] - 1)
    assert np.mean(err < 0.15) >= 0.9 and np.nanmedian(err) < 0.06
    ori = angle_error_mod60(sc.orientation_deg[g], s.orientation_deg[g])
    assert np.nanmedian(ori) < 3.0 and np.mean(ori < 6.0) >= 0.85
    for i in np.flatnonzero(g & np.isfinite(sc.spacing_cm)):
        d = np.hypot(*sc.peaks_cm[i].T)
        assert 3 <= d.size <= 6 and d.max() / d.min() < 1.7  # one ring, never the second one
    assert np.nanmedian(sc.field_size_cm[g] / s.spacing_cm[g]) == pytest.approx(0.24, abs=0.06)


def test_three_modules_are_found_in_the_order_of_their_spacing(three_modules):
    s, sc = three_modules
    found = sc.module[sc.is_grid & s.is_grid]
    truth = s.module[sc.is_grid & s.is_grid]
    assert len(set(found.tolist())) == 3
    assert np.mean(found == truth) >= 0.9


def test_one_module_of_ten_cells_is_one_module():
    s = session(modules=[Module(120.0, 13.0, 10)], n_place=3, n_irregular=3, n_untuned=2, dt_s=0.05, seed=2)
    sc = scored(s)
    assert auc(sc.gridness[s.is_grid], sc.gridness[~s.is_grid]) >= 0.9
    assert set(sc.module[sc.is_grid].tolist()) == {0}
    assert np.nanmedian(np.abs(sc.spacing_cm[s.is_grid] / 120.0 - 1)) < 0.06


def test_small_and_large_spacings_in_an_offset_1m_box():
    """25 cm and 65 cm (0.65 × the side) lattices in a 1 m box centred on (−40, 25) cm, 600 s."""
    mods = [Module(25.0, 10.0, 8), Module(65.0, 35.0, 8)]
    s = session(modules=mods, n_place=3, n_irregular=3, n_untuned=2, dataset="sargolini", box_cm=100.0,
                centre_cm=(-40.0, 25.0), dt_s=0.02, seed=3)  # fmt: skip
    sc = scored(s)
    assert sc.rate_maps.bin_size_cm == pytest.approx(2.5)
    assert sc.rate_maps.x_edges[0] == pytest.approx(-90.0, abs=1.0)
    assert auc(sc.gridness[s.is_grid], sc.gridness[~s.is_grid]) >= 0.9
    for m, spacing in enumerate((25.0, 65.0)):
        sel = s.module == m
        err = np.abs(sc.spacing_cm[sel] / spacing - 1)
        assert np.mean(err < 0.15) >= 0.75 and np.nanmedian(err) < 0.08


def test_spacing_of_two_thirds_of_the_box_side():
    """215 cm lattices in the 3.3 m box: the six inner peaks lie at 0.65 × the side."""
    s = session(modules=[Module(215.0, 28.0, 6)], n_place=2, n_irregular=2, n_untuned=2, dt_s=0.05, seed=5)
    sc = scored(s, n_shuffles=0)
    err = np.abs(sc.spacing_cm[s.is_grid] / 215.0 - 1)
    assert np.mean(err < 0.15) >= 0.8
    assert np.nanmedian(sc.gridness[s.is_grid]) > 0.5
    assert np.all(sc.outer_radius_cm[s.is_grid] > 0.6 * 330)


# --------------------------------------------------------------------------- the module rule


def spacings(groups, rng, noise=0.05):
    return np.concatenate([s * np.exp(rng.normal(0, noise, n)) for s, n in groups])


@pytest.mark.parametrize("seed", range(5))
def test_module_rule_three_of_25_and_one_of_10(seed):
    rng = np.random.default_rng(seed)
    cfg = GridScoreConfig()
    three = spacings([(100.0, 9), (140.0, 8), (200.0, 8)], rng)
    labels = group_modules(three, np.zeros(25), np.ones(25, bool), cfg)
    assert labels.tolist() == [0] * 9 + [1] * 8 + [2] * 8
    one = spacings([(120.0, 10)], rng)
    assert set(group_modules(one, np.zeros(10), np.ones(10, bool), cfg).tolist()) == {0}


def test_module_rule_stopping_limits():
    rng = np.random.default_rng(9)
    cfg = GridScoreConfig()
    close = spacings([(100.0, 10), (110.0, 10)], rng, noise=0.01)  # ratio 1.1 < module_min_ratio 1.2
    assert set(group_modules(close, np.zeros(20), np.ones(20, bool), cfg).tolist()) == {0}
    pair = np.array([100.0, 101.0, 99.0, 102.0, 98.0, 200.0, 201.0])  # 2 cells < module_min_cells 3
    assert set(group_modules(pair, np.zeros(7), np.ones(7, bool), cfg).tolist()) == {0}
    two = group_modules(pair, np.zeros(7), np.ones(7, bool), GridScoreConfig(module_min_cells=2))
    assert two.tolist() == [0, 0, 0, 0, 0, 1, 1]
    member = np.array([True, False, True, True, True, True, False])
    out = group_modules(np.r_[pair[:6], np.nan], np.zeros(7), member, cfg)
    assert out[1] == -1 and out[6] == -1
