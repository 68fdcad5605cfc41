"""Rate maps: occupancy normalisation, NaN for unvisited bins, silent regions, spatial information, figure."""

from pathlib import Path

import numpy as np
import pytest

from core.errors import ConfigError, RecordingError
from core.preprocess import PreprocessConfig, RateMatrix
from core.synthetic import random_walk_2d
from core.views.ratemaps import (
    RateMapConfig,
    compute_rate_maps,
    maps_from_rates,
    rate_maps_figure,
    spatial_binning,
)

DT = 0.01


def rate_matrix(rates, x, y, hd=None):
    rates = np.asarray(rates, dtype=np.float32)
    if rates.ndim == 1:
        rates = rates[:, None]
    n = rates.shape[0]
    return RateMatrix(
        rates=rates,
        t=np.arange(n) * DT,
        unit_ids=[f"u{j}" for j in range(rates.shape[1])],
        x=x,
        y=y,
        hd=hd,
        speed_cm_s=None,
        n_bins_total=n,
        config=PreprocessConfig(dt_s=DT),
    )


@pytest.fixture(scope="module")
def walk():
    _, x, y = random_walk_2d(900.0, DT, box_cm=100.0, seed=1)
    return x, y


@pytest.mark.filterwarnings("error")
def test_constant_rate_gives_a_flat_map_at_that_rate(walk):
    x, y = walk
    rm = rate_matrix(np.full(x.size, 7.0), x, y)
    maps = compute_rate_maps(rm)
    m = maps.maps[0]
    assert m.shape == (maps.y_edges.size - 1, maps.x_edges.size - 1)
    assert np.isfinite(m).sum() > 0.5 * m.size
    assert np.allclose(m[np.isfinite(m)], 7.0, rtol=1e-5)
    assert maps.mean_rate_hz[0] == pytest.approx(7.0, rel=1e-5)
    assert maps.spatial_information_bits_per_spike[0] == pytest.approx(0.0, abs=1e-5)
    assert maps.occupancy_s.sum() == pytest.approx(x.size * DT)
    assert maps.x_edges[0] == pytest.approx(x.min()) and maps.x_edges[-1] >= x.max()
    assert np.allclose(np.diff(maps.x_edges), 2.5)


@pytest.mark.filterwarnings("error")
def test_unvisited_bins_are_nan_and_a_silent_region_is_zero():
    """Default kernel (σ = 3 cm): a 40 × 40 cm hole is blank ≥ 4σ from its edge, filled near it."""
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 100, (2, 200_000))
    hole = (np.abs(x - 50) < 20) & (np.abs(y - 50) < 20)
    x, y = x[~hole], y[~hole]
    right_only = np.where(x > 50, 10.0, 0.0)  # silent on the left half
    silent = np.zeros_like(x)
    maps = compute_rate_maps(rate_matrix(np.column_stack([right_only, silent]), x, y))
    xc = 0.5 * (maps.x_edges[:-1] + maps.x_edges[1:])
    yc = 0.5 * (maps.y_edges[:-1] + maps.y_edges[1:])
    depth = np.minimum(20 - np.abs(xc[None, :] - 50), 20 - np.abs(yc[:, None] - 50))  # cm inside the hole
    assert np.isnan(maps.maps[:, depth > 4 * 3.0]).all()
    assert np.isfinite(maps.maps[:, (depth > 0) & (depth < 1.0 * 3.0)]).all()  # smoothed occupancy reaches in
    assert np.array_equal(maps.valid, np.isfinite(maps.maps[0]))
    far_left = np.isfinite(maps.maps[0]) & (xc[None, :] < 30)
    assert far_left.sum() > 100 and (maps.maps[0][far_left] == 0).all()
    far_right = np.isfinite(maps.maps[0]) & (xc[None, :] > 70)
    assert np.allclose(maps.maps[0][far_right], 10.0)
    silent_map = maps.maps[1]
    assert np.isfinite(silent_map).sum() > 0.7 * silent_map.size
    assert (silent_map[np.isfinite(silent_map)] == 0).all()
    assert np.isnan(maps.spatial_information_bits_per_spike[1])
    assert maps.peak_rate_hz[1] == 0.0


@pytest.mark.filterwarnings("error")
def test_min_occupancy_applies_to_the_smoothed_occupancy():
    """A bin the path skipped inside the visited area is filled; far bins and sparse bins are NaN."""
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 50, (2, 30_000))  # 300 s over 20 × 20 bins of 2.5 cm: ~0.75 s per bin
    skipped = (np.floor(x / 2.5) == 10) & (np.floor(y / 2.5) == 7)
    x, y = x[~skipped], y[~skipped]
    x, y = np.append(x, [0.0, 100.0]), np.append(y, [0.0, 100.0])  # pin the arena to 0..100 cm
    maps = compute_rate_maps(rate_matrix(np.full(x.size, 7.0), x, y))
    assert maps.occupancy_s[7, 10] == 0.0
    assert maps.maps[0, 7, 10] == pytest.approx(7.0, rel=1e-5)
    assert np.allclose(maps.maps[0, :20, :20], 7.0, rtol=1e-5)  # the whole visited square, no holes
    assert np.isnan(maps.maps[0, 25:, :]).all() and np.isnan(maps.maps[0, :, 25:]).all()  # ≥ 4σ away
    strict = compute_rate_maps(rate_matrix(np.full(x.size, 7.0), x, y), RateMapConfig(min_occupancy_s=1.0))
    smoothed = strict.binning.smoothed_occupancy_s
    assert np.isnan(strict.maps[0][smoothed < 1.0]).all()
    assert np.allclose(strict.maps[0][smoothed >= 1.0], 7.0, rtol=1e-5)
    assert np.isfinite(strict.maps).sum() < np.isfinite(maps.maps).sum()
    raw = compute_rate_maps(
        rate_matrix(np.full(x.size, 7.0), x, y), RateMapConfig(smoothing_sigma_cm=0.0, min_occupancy_s=0.1)
    )
    assert np.isnan(raw.maps[0, 7, 10])  # without smoothing, occupancy is the raw time in the bin


def test_place_field_carries_spatial_information_and_uniform_unit_none(walk):
    x, y = walk
    place = 20.0 * np.exp(-((x - 30) ** 2 + (y - 60) ** 2) / (2 * 8.0**2))
    maps = compute_rate_maps(rate_matrix(np.column_stack([place, np.full(x.size, 3.0)]), x, y))
    si = maps.spatial_information_bits_per_spike
    assert si[0] > 1.5
    assert si[1] == pytest.approx(0.0, abs=1e-6)
    assert maps.spatial_information_bits_per_s[0] == pytest.approx(si[0] * maps.mean_rate_hz[0])
    iy, ix = np.unravel_index(np.nanargmax(maps.maps[0]), maps.maps[0].shape)
    assert abs(0.5 * (maps.x_edges[ix] + maps.x_edges[ix + 1]) - 30) < 5
    assert abs(0.5 * (maps.y_edges[iy] + maps.y_edges[iy + 1]) - 60) < 5
    assert maps.peak_rate_hz[0] == pytest.approx(np.nanmax(maps.maps[0]))


def test_rows_are_rate_times_dt_and_shift_is_a_circular_roll(walk):
    x, y = walk
    rng = np.random.default_rng(2)
    rates = rng.gamma(2.0, 2.0, (x.size, 3)).astype(np.float32)
    cfg = RateMapConfig(smoothing_sigma_cm=0.0, min_occupancy_s=0.0)
    binning = spatial_binning(x, y, DT, cfg)
    maps = maps_from_rates(rates, binning)
    ix = np.floor((x - binning.x_edges[0]) / 2.5).astype(int)
    iy = np.floor((y - binning.y_edges[0]) / 2.5).astype(int)
    sel = (ix == 10) & (iy == 12)
    assert maps[1, 12, 10] == pytest.approx(rates[sel, 1].mean(), rel=1e-5)
    shifted = maps_from_rates(rates, binning, shift=1234)
    rolled = maps_from_rates(np.roll(rates, 1234, axis=0), binning)
    assert np.allclose(shifted, rolled, equal_nan=True)


def test_no_position_is_a_recording_error():
    rm = rate_matrix(np.ones(100), None, None)
    with pytest.raises(RecordingError, match="position"):
        compute_rate_maps(rm)
    with pytest.raises(ConfigError):
        compute_rate_maps(rate_matrix(np.ones(100), np.ones(100), np.ones(100)), RateMapConfig(bin_size_cm=0))


def test_progress_and_cancel(walk):
    x, y = walk
    seen = []
    compute_rate_maps(rate_matrix(np.ones(x.size), x, y), progress=lambda f, m: seen.append(f))
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    from core.errors import Cancelled

    with pytest.raises(Cancelled):
        compute_rate_maps(rate_matrix(np.ones(x.size), x, y), cancel=lambda: True)


@pytest.mark.filterwarnings("error")
def test_figure_saves_png_without_pyplot(walk, tmp_path: Path):
    x, y = walk
    place = 20.0 * np.exp(-((x - 30) ** 2 + (y - 60) ** 2) / (2 * 8.0**2))
    maps = compute_rate_maps(rate_matrix(np.column_stack([place, np.zeros(x.size), np.ones(x.size)]), x, y))
    for fig in (rate_maps_figure(maps), rate_maps_figure(maps, units=["u1"])):
        path = tmp_path / "maps.png"
        fig.savefig(path)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ConfigError):
        rate_maps_figure(maps, units=["nope"])
    src = Path(__file__).resolve().parents[1] / "core" / "views" / "ratemaps.py"
    assert "pyplot" not in src.read_text()


def test_auto_bins_follow_the_arena_anywhere_and_explicit_values_are_kept():
    """Auto: bin = side / 40, σ = 1.2 bins, for an arena at negative coordinates; explicit values win."""
    rng = np.random.default_rng(4)
    x, y = rng.uniform(-165, 165, (2, 100_000))
    place = 12.0 * np.exp(-((x + 100) ** 2 + (y - 50) ** 2) / (2 * 20.0**2))
    rm = rate_matrix(place, x, y)
    maps = compute_rate_maps(rm)
    assert maps.bin_size_cm == pytest.approx(8.2) and maps.config.smoothing_sigma_cm == pytest.approx(9.84)
    assert maps.x_edges[0] == pytest.approx(x.min()) and maps.x_edges[-1] >= x.max()
    assert maps.maps.shape[1:] == (41, 41)
    iy, ix = np.unravel_index(np.nanargmax(maps.maps[0]), maps.maps[0].shape)
    assert abs(0.5 * (maps.x_edges[ix] + maps.x_edges[ix + 1]) + 100) < 8.2
    assert abs(0.5 * (maps.y_edges[iy] + maps.y_edges[iy + 1]) - 50) < 8.2
    fixed = compute_rate_maps(rm, RateMapConfig(bin_size_cm=5.0, smoothing_sigma_cm=0.0))
    assert fixed.bin_size_cm == 5.0 and fixed.config.smoothing_sigma_cm == 0.0
    assert np.allclose(np.diff(fixed.x_edges), 5.0)
    half = compute_rate_maps(rm, RateMapConfig(bin_size_cm=4.0))
    assert half.config.smoothing_sigma_cm == pytest.approx(4.8)
    small = RateMapConfig().resolve(99.6)
    assert small.bin_size_cm == 2.5 and small.smoothing_sigma_cm == pytest.approx(3.0)
    with pytest.raises(ConfigError):
        RateMapConfig(smoothing_sigma_cm=-1.0).validate()
