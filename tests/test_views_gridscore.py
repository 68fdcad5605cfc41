"""Grid scores against ground truth: ideal and realistic lattices, non-grid maps, shuffles, modules."""

from pathlib import Path

import numpy as np
import pytest

from core.errors import Cancelled, ConfigError
from core.preprocess import compute_rates
from core.recording import Recording
from core.synthetic import grid_module, grid_rates, independent_units, poisson_spikes, random_walk_2d
from core.views.gridscore import (
    GridScoreConfig,
    autocorrelogram,
    autocorrelograms,
    compute_grid_scores,
    gridness,
    gridscore_figure,
    gridscore_summary_figure,
    lattice_peaks,
    spacing_orientation,
)
from core.views.ratemaps import compute_rate_maps

BIN = 2.5
CSV_COLUMNS = ["unit", "gridness", "spacing_cm", "orientation_deg", "field_size_cm", "threshold", "is_grid"]


def ideal_map(spacing_cm, orientation_rad, n=60, phase=(0.2, 0.4)):
    c = (np.arange(n) + 0.5) * BIN
    xx, yy = np.meshgrid(c, c)
    rates = grid_rates(xx.ravel(), yy.ravel(), np.array([phase]), spacing_cm, orientation_rad)
    return rates[:, 0].reshape(n, n)


def angle_diff_mod60(a_deg, b_deg):
    d = np.mod(a_deg - b_deg, 60.0)
    return min(d, 60.0 - d)


def compute_lattice(rate_map):
    from core.views.gridscore import gridness_of_maps

    res = gridness_of_maps(rate_map[None], BIN)
    pk = lattice_peaks(autocorrelogram(rate_map), BIN, res["inner_radius_cm"][0])
    return res["gridness"][0], *spacing_orientation(pk)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(("spacing", "orientation_deg"), [(40.0, 0.0), (50.0, 17.0), (70.0, 40.0)])
def test_ideal_hexagonal_map_scores_high_with_the_right_lattice(spacing, orientation_deg):
    g, s, o = compute_lattice(ideal_map(spacing, np.deg2rad(orientation_deg)))
    assert g > 0.8
    assert s == pytest.approx(spacing, rel=0.05)
    assert angle_diff_mod60(o, orientation_deg) < 3.0


def test_square_lattice_and_shuffled_bins_score_low():
    c = (np.arange(60) + 0.5) * BIN
    xx, yy = np.meshgrid(c, c)
    square = np.cos(2 * np.pi * xx / 40) + np.cos(2 * np.pi * yy / 40)
    assert gridness(square, BIN) < 0
    hexagonal = ideal_map(50.0, 0.3)
    rng = np.random.default_rng(0)
    for _ in range(3):
        shuffled = rng.permutation(hexagonal.ravel()).reshape(hexagonal.shape)
        assert gridness(shuffled, BIN) < 0.3


@pytest.mark.filterwarnings("error")
def test_autocorrelogram_is_pearson_over_overlapping_valid_bins():
    rng = np.random.default_rng(1)
    m = rng.normal(size=(12, 15))
    m[rng.random(m.shape) < 0.2] = np.nan
    ac = autocorrelogram(m, min_overlap_bins=20)
    assert ac.shape == (23, 29)
    assert ac[11, 14] == pytest.approx(1.0)
    for dy, dx in [(0, 1), (2, -3), (-4, 5), (7, 0)]:
        a = m[max(0, -dy) : 12 - max(0, dy), max(0, -dx) : 15 - max(0, dx)]
        b = m[max(0, dy) : 12 + min(0, dy), max(0, dx) : 15 + min(0, dx)]
        ok = np.isfinite(a) & np.isfinite(b)
        expected = np.corrcoef(a[ok], b[ok])[0, 1] if ok.sum() >= 20 else np.nan
        assert ac[11 + dy, 14 + dx] == pytest.approx(expected, abs=1e-9, nan_ok=True)
    assert np.isnan(ac[0, 0]) and np.isnan(ac[-1, -1])  # one overlapping bin at most
    assert np.allclose(ac, ac[::-1, ::-1], equal_nan=True)
    empty = autocorrelograms(np.full((2, 8, 8), np.nan))
    assert np.isnan(empty).all()
    single = autocorrelograms(m[None], max_lag_bins=4, single=True)[0]
    assert np.allclose(single, ac[11 - 4 : 11 + 5, 14 - 4 : 14 + 5], atol=1e-5, equal_nan=True)


@pytest.fixture(scope="module")
def two_modules_and_noise():
    """8 cells of a 40 cm module, 8 of a 70 cm module and 6 independent units on one 15-minute path."""
    duration = 900.0
    t, x, y = random_walk_2d(duration, 0.01, box_cm=150.0, seed=3)
    rng = np.random.default_rng(3)
    phases = rng.random((8, 2))
    small = grid_rates(x, y, phases, spacing_cm=40.0, orientation_rad=0.1)
    large = grid_rates(x, y, phases, spacing_cm=70.0, orientation_rad=0.5)
    noise = independent_units(6, duration, seed=0)
    trains = poisson_spikes(np.concatenate([small, large], axis=1), 0.01, 0.0, rng) + noise.spike_times
    rec = Recording(unit_ids=list(range(22)), spike_times=trains, t=t, x=x, y=y)
    rm = compute_rates(rec)
    maps = compute_rate_maps(rm)
    return rm, maps, compute_grid_scores(rm, maps, GridScoreConfig(n_shuffles=100, seed=1))


def test_realistic_module_recording_recovers_spacing_and_orientation():
    rec = grid_module(9, 900.0, spacing_cm=60.0, orientation_rad=0.2, seed=4)
    rm = compute_rates(rec)
    scores = compute_grid_scores(rm, None, GridScoreConfig(n_shuffles=20))
    assert (scores.gridness > 0.3).all()
    assert np.all(np.abs(scores.spacing_cm / 60.0 - 1) < 0.05)
    assert max(angle_diff_mod60(o, np.rad2deg(0.2)) for o in scores.orientation_deg) < 3.0
    assert scores.is_grid.all()
    assert np.all((scores.field_size_cm > 3) & (scores.field_size_cm < 20))


def test_shuffle_threshold_separates_grid_cells_from_independent_units(two_modules_and_noise):
    _, _, scores = two_modules_and_noise
    grid, noise = slice(0, 16), slice(16, 22)
    assert scores.is_grid[grid].all()
    # the null is exchangeable for independent units: each passes with p = 5 %, so allow one at most
    assert scores.is_grid[noise].sum() <= 1
    assert np.nanmax(scores.gridness[noise]) < np.min(scores.gridness[grid])
    assert scores.shuffled_gridness.shape == (22, 100)
    assert np.all((scores.threshold > 0) & (scores.threshold < 1.0))
    assert np.allclose(scores.threshold, np.percentile(scores.shuffled_gridness, 95, axis=1))


def test_modules_of_different_spacing_are_separated(two_modules_and_noise):
    _, _, scores = two_modules_and_noise
    small, large = set(scores.module[:8]), set(scores.module[8:16])
    assert len(small) == 1 and len(large) == 1
    assert 0 <= min(small) < min(large)  # labels follow spacing
    assert all(m == -1 for m, g in zip(scores.module, scores.is_grid, strict=True) if not g)
    assert np.all(np.abs(scores.spacing_cm[:8] / 40 - 1) < 0.05)
    assert np.all(np.abs(scores.spacing_cm[8:16] / 70 - 1) < 0.05)


def test_rows_have_the_csv_columns(two_modules_and_noise):
    _, _, scores = two_modules_and_noise
    rows = scores.to_rows()
    assert len(rows) == scores.n_units
    assert list(rows[0]) == [*CSV_COLUMNS, "module"]
    assert isinstance(rows[0]["is_grid"], bool) and isinstance(rows[0]["gridness"], float)


def test_shuffles_are_seeded_and_cancellable(two_modules_and_noise):
    rm, maps, scores = two_modules_and_noise
    sub = GridScoreConfig(n_shuffles=5, seed=1)
    seen = []
    a = compute_grid_scores(rm, maps, sub, progress=lambda f, m: seen.append(f))
    assert seen == sorted(seen) and seen[-1] == 1.0
    b = compute_grid_scores(rm, maps, GridScoreConfig(n_shuffles=5, seed=1, n_threads=1, batch_size=7))
    assert np.array_equal(a.shuffled_gridness, b.shuffled_gridness, equal_nan=True)
    assert np.allclose(a.shuffled_gridness, scores.shuffled_gridness[:, :5], atol=1e-9)
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled):
        compute_grid_scores(rm, maps, sub, cancel=cancel)


@pytest.mark.filterwarnings("error")
def test_silent_unit_gives_nan_not_a_crash():
    _, x, y = random_walk_2d(120.0, 0.01, box_cm=100.0, seed=5)
    t = np.arange(x.size) * 0.01
    rng = np.random.default_rng(5)
    rates = grid_rates(x, y, rng.random((1, 2)), spacing_cm=40.0)
    trains = poisson_spikes(rates, 0.01, 0.0, rng) + [np.array([])]
    rm = compute_rates(Recording(unit_ids=["a", "b"], spike_times=trains, t=t, x=x, y=y))
    scores = compute_grid_scores(rm, None, GridScoreConfig(n_shuffles=10))
    assert np.isnan(scores.gridness[1]) and np.isnan(scores.threshold[1])
    assert not scores.is_grid[1] and scores.module[1] == -1
    assert np.isnan(scores.spacing_cm[1]) and len(scores.peaks_cm[1]) == 0


def test_too_short_for_shuffles_is_a_config_error():
    _, x, y = random_walk_2d(30.0, 0.01, seed=6)
    t = np.arange(x.size) * 0.01
    rm = compute_rates(Recording(unit_ids=[0], spike_times=[np.sort(t[::37])], t=t, x=x, y=y))
    with pytest.raises(ConfigError, match="min_shift_s"):
        compute_grid_scores(rm, None, GridScoreConfig(n_shuffles=10))
    scores = compute_grid_scores(rm, None, GridScoreConfig(n_shuffles=0))
    assert np.isnan(scores.threshold).all() and not scores.is_grid.any()


def test_figures_save_png(two_modules_and_noise, tmp_path: Path):
    _, _, scores = two_modules_and_noise
    for fig in (gridscore_figure(scores, 0), gridscore_figure(scores, 20), gridscore_summary_figure(scores)):
        path = tmp_path / "fig.png"
        fig.savefig(path)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ConfigError):
        gridscore_figure(scores, "missing")
    src = Path(__file__).resolve().parents[1] / "core" / "views" / "gridscore.py"
    assert "pyplot" not in src.read_text()


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(("spacing", "n"), [(25.0, 40), (97.5, 60), (100.0, 60)])
def test_inner_hexagon_from_small_to_two_thirds_of_the_side(spacing, n):
    """The six inner peaks, never the second ring nor shoulder noise, up to 0.65 × the side (n bins)."""
    rng = np.random.default_rng(0)
    m = ideal_map(spacing, 0.25, n=n) + rng.normal(0, 0.3, (n, n))  # noisy: bumps on every flank
    from core.views.gridscore import gridness_of_maps

    res = gridness_of_maps(m[None], BIN)
    pk = lattice_peaks(autocorrelogram(m), BIN, res["inner_radius_cm"][0])
    s, o = spacing_orientation(pk)
    assert len(pk) == 6
    assert s == pytest.approx(spacing, rel=0.05)
    assert angle_diff_mod60(o, np.rad2deg(0.25)) < 3.0
    assert res["gridness"][0] > 0.5
