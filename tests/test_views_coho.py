"""CohoMap, CohoSpace, PathCompare and FR views on decodings whose answer is known.

The decodings are what a perfect decoder would return: for a synthetic grid module, θ = 2π·(u, v) where
p = u·a1 + v·a2 is the animal's position in the lattice basis of ``core.synthetic.grid_rates`` and each unit's
phase is 2π·metadata["phases"]; for head-direction cells, θ = head direction.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from core.decoding import Decoding
from core.errors import ConfigError, RecordingError
from core.preprocess import compute_rates
from core.synthetic import grid_module, head_direction_cells
from core.views.cohomap import CohoMapConfig, cohomap_figure, compute_cohomap
from core.views.cohospace import CohoSpaceConfig, cohospace_figure, compute_cohospace
from core.views.firing import FiringConfig, compute_firing, firing_figure
from core.views.pathcompare import PathCompareConfig, compute_pathcompare, pathcompare_figure

TWO_PI = 2 * np.pi


def lattice_basis(spacing_cm: float, orientation_rad: float) -> np.ndarray:
    """Columns a1, a2 (cm) as in core.synthetic.grid_rates."""
    o = orientation_rad
    return spacing_cm * np.array([[np.cos(o), np.cos(o + np.pi / 3)], [np.sin(o), np.sin(o + np.pi / 3)]])


def make_decoding(rm, theta, unit_phase, torus_angle_deg=None) -> Decoding:
    return Decoding(
        theta=theta,
        t=rm.t,
        x=rm.x,
        y=rm.y,
        hd=rm.hd,
        unit_ids=list(rm.unit_ids),
        unit_phase=unit_phase,
        unit_concentration=np.ones_like(unit_phase),
        sampled_bin_index=np.arange(0),
        sampled_theta=np.zeros((0, theta.shape[1])),
        torus_angle_deg=torus_angle_deg,
    )


@pytest.fixture(scope="module")
def grid():
    rec = grid_module(n_units=49, duration_s=300.0, seed=3)
    rm = compute_rates(rec)
    basis = lattice_basis(rec.metadata["spacing_cm"], rec.metadata["orientation_rad"])
    uv = np.linalg.solve(basis, np.stack([rm.x, rm.y]))
    theta = np.mod(TWO_PI * uv.T, TWO_PI)
    unit_phase = TWO_PI * np.asarray(rec.metadata["phases"])
    return rec, rm, make_decoding(rm, theta, unit_phase, torus_angle_deg=60.0)


@pytest.fixture(scope="module")
def hd():
    rec = head_direction_cells(n_units=16, duration_s=120.0, seed=1)
    rm = compute_rates(rec)
    preferred = np.asarray(rec.metadata["preferred_rad"])[:, None]
    return rec, rm, make_decoding(rm, rm.hd[:, None].copy(), preferred)


def circular_error(a, b):
    return np.abs(np.angle(np.exp(1j * (np.asarray(a) - np.asarray(b)))))


def renders(fig) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def no_object_arrays(arrays: dict) -> None:
    assert arrays
    for key, value in arrays.items():
        assert isinstance(value, np.ndarray), key
        assert value.dtype != object, key


# ---------------------------------------------------------------- CohoMap


def test_cohomap_recovers_grid_spacing_and_60_degrees(grid):
    rec, _, dec = grid
    cm = compute_cohomap(dec)
    assert cm.has_lattice
    assert cm.spacing_cm == pytest.approx(rec.metadata["spacing_cm"], rel=0.05)
    assert cm.lattice_angle_deg == pytest.approx(60.0, abs=3.0)
    assert np.all(cm.fit_quality > 0.9)
    # the decoded basis itself is the generator's lattice (perfect decoder): k_i · a_j = 2π δ_ij
    truth = lattice_basis(rec.metadata["spacing_cm"], rec.metadata["orientation_rad"]).T
    assert np.allclose(cm.lattice_vectors, truth, atol=0.05 * rec.metadata["spacing_cm"])
    assert np.allclose(cm.wave_vectors @ cm.lattice_vectors.T, TWO_PI * np.eye(2), atol=1e-6)


def test_cohomap_is_nan_exactly_where_unvisited(grid):
    _, _, dec = grid
    cm = compute_cohomap(dec, CohoMapConfig(bin_size_cm=3.0, smooth_sigma_cm=3.0))
    unvisited = cm.occupancy < 1
    assert unvisited.any() and (~unvisited).any()
    for maps in (cm.phase_maps, cm.cos_maps, cm.sin_maps):
        assert np.all(np.isnan(maps[:, unvisited]))
        assert np.all(np.isfinite(maps[:, ~unvisited]))
    assert np.nanmin(cm.phase_maps) >= 0 and np.nanmax(cm.phase_maps) < TWO_PI
    assert cm.occupancy.sum() == dec.theta.shape[0]
    assert np.allclose(np.diff(cm.x_edges), 3.0) and np.allclose(np.diff(cm.y_edges), 3.0)


def test_cohomap_phase_follows_the_decoded_phase(grid):
    """Without smoothing, each bin's phase is the circular mean of the phases decoded there."""
    _, _, dec = grid
    cm = compute_cohomap(dec, CohoMapConfig(bin_size_cm=5.0, smooth_sigma_cm=0.0))
    ix = np.clip(np.floor((dec.x - cm.x_edges[0]) / 5.0).astype(int), 0, cm.x_edges.size - 2)
    iy = np.clip(np.floor((dec.y - cm.y_edges[0]) / 5.0).astype(int), 0, cm.y_edges.size - 2)
    err = circular_error(cm.phase_maps[0, iy, ix], dec.theta[:, 0])
    assert np.median(err) < 0.3


def test_cohomap_of_a_ring_has_no_lattice_and_draws(hd):
    _, _, dec = hd
    cm = compute_cohomap(dec)
    assert cm.n_circles == 1 and not cm.has_lattice and np.isnan(cm.spacing_cm)
    for mode in ("phase", "cos", "sin"):
        renders(cohomap_figure(cm, mode=mode))
    with pytest.raises(ConfigError):
        cohomap_figure(cm, mode="hue")


def test_cohomap_needs_position(hd):
    _, _, dec = hd
    with pytest.raises(RecordingError):
        compute_cohomap(dataclasses.replace(dec, x=None, y=None))
    with pytest.raises(ConfigError):
        compute_cohomap(dec, CohoMapConfig(bin_size_cm=0.0))


def test_cohomap_arrays_and_figure(grid):
    _, _, dec = grid
    cm = compute_cohomap(dec)
    no_object_arrays(cm.to_arrays())
    rows = cm.to_rows()
    assert len(rows) == 2 and rows[0]["wavelength_cm"] > 0
    fig = cohomap_figure(cm)
    assert fig.axes[0].get_xlabel() == "x (cm)" and fig.axes[0].get_ylabel() == "y (cm)"
    assert "spacing" in fig.get_suptitle()
    renders(fig)


# ---------------------------------------------------------------- CohoSpace


def with_independent_unit(rm, dec, seed=0):
    """The rate matrix plus one unit whose rate ignores position (smoothed Poisson noise, ~5 Hz)."""
    rng = np.random.default_rng(seed)
    noise = gaussian_filter1d(rng.poisson(0.05, rm.n_bins) / 0.01, 5.0).astype(np.float32)
    rates = np.column_stack([rm.rates, noise])
    ids = list(rm.unit_ids) + ["independent"]
    phase = np.vstack([dec.unit_phase, np.full((1, dec.n_circles), np.nan)])
    rm2 = dataclasses.replace(rm, rates=rates, unit_ids=ids)
    dec2 = dataclasses.replace(dec, unit_ids=ids, unit_phase=phase, unit_concentration=np.ones_like(phase))
    return rm2, dec2


def test_cohospace_centres_match_true_phases(grid):
    _, rm, dec = grid
    cs = compute_cohospace(rm, dec)
    assert cs.n_axes == 2 and cs.rate_maps.shape == (rm.rates.shape[1], 30, 30)
    err = circular_error(cs.centres, dec.unit_phase)
    assert np.median(err) < 0.3
    assert np.all(cs.centres >= 0) and np.all(cs.centres < TWO_PI)


def test_cohospace_grid_unit_is_far_more_concentrated_than_an_independent_one(grid):
    _, rm, dec = grid
    rm2, dec2 = with_independent_unit(rm, dec)
    cs = compute_cohospace(rm2, dec2)
    grid_c, indep_c = cs.concentration[:-1], cs.concentration[-1]
    assert np.all((cs.concentration >= 0) & (cs.concentration <= 1))
    assert np.median(grid_c) > 0.4
    assert grid_c.min() > 5 * indep_c
    assert cs.unit_ids[-1] == "independent"


def test_cohospace_map_is_occupancy_normalised(grid):
    """A unit firing at a constant rate has a flat phase-space map, however uneven the occupancy."""
    _, rm, dec = grid
    rm2 = dataclasses.replace(rm, rates=np.full((rm.n_bins, 1), 7.0, np.float32), unit_ids=[0])
    cs = compute_cohospace(rm2, dataclasses.replace(dec, unit_ids=[0]))
    visited = cs.occupancy > 0
    assert np.allclose(cs.rate_maps[0][visited], 7.0)
    assert np.all(np.isnan(cs.rate_maps[0][~visited]))
    assert cs.concentration[0] < 0.01


def test_cohospace_on_a_ring(hd):
    rec, rm, dec = hd
    cs = compute_cohospace(rm, dec, CohoSpaceConfig(n_phase_bins=36))
    assert cs.n_axes == 1 and cs.rate_maps.shape == (16, 36)
    assert np.median(circular_error(cs.centres[:, 0], rec.metadata["preferred_rad"])) < 0.15
    assert np.all(cs.concentration > 0.3)
    renders(cohospace_figure(cs))


def test_cohospace_arrays_rows_and_figure(grid):
    _, rm, dec = grid
    cs = compute_cohospace(rm, dec)
    no_object_arrays(cs.to_arrays())
    rows = cs.to_rows()
    assert len(rows) == rm.rates.shape[1]
    assert {"unit_id", "centre_theta1_rad", "centre_theta2_rad", "concentration"} <= rows[0].keys()
    fig = cohospace_figure(cs, max_units=9)
    renders(fig)
    with pytest.raises(ConfigError):
        cohospace_figure(cs, units=[999])


def test_cohospace_rejects_a_mismatched_matrix(grid, hd):
    _, rm, _ = grid
    _, _, dec = hd
    with pytest.raises(RecordingError):
        compute_cohospace(rm, dec)


# ---------------------------------------------------------------- PathCompare


def steps_within_pi(values: np.ndarray) -> bool:
    values = values.reshape(len(values), -1)
    step = np.abs(np.diff(values, axis=0))
    drawn = np.all(np.isfinite(step), axis=1)
    return bool(np.all(step[drawn] <= np.pi))


def test_decoded_path_never_crosses_the_square(grid):
    _, _, dec = grid
    pc = compute_pathcompare(dec, PathCompareConfig(duration_s=120.0))
    # the raw window does wrap around, so breaks were needed
    assert np.isnan(pc.theta[:, 0]).sum() > 5
    assert steps_within_pi(pc.theta)
    n = pc.t.size
    assert pc.theta.shape == (n, 2) and pc.x.shape == (n,) and pc.index.shape == (n,)
    # inserted rows hold no decoding row; every real row is the decoding's own
    real = pc.index >= 0
    assert np.allclose(pc.theta[real], dec.theta[pc.index[real]])
    assert np.allclose(pc.x[real], dec.x[pc.index[real]])


def test_physical_path_breaks_only_at_time_gaps(grid):
    _, _, dec = grid
    pc = compute_pathcompare(dec, PathCompareConfig(duration_s=60.0, max_gap_s=0.5))
    t_real = pc.t[pc.index >= 0]
    gaps = np.sum(np.diff(t_real) > 0.5)
    assert np.isnan(pc.x).sum() == gaps
    assert np.isnan(pc.t).sum() == gaps


def test_time_gap_breaks_every_line(grid):
    _, _, dec = grid
    keep = np.ones(dec.t.size, bool)
    keep[(dec.t > 10.0) & (dec.t < 15.0)] = False  # a 5 s hole
    sub = dataclasses.replace(
        dec, theta=dec.theta[keep], t=dec.t[keep], x=dec.x[keep], y=dec.y[keep], hd=None
    )
    pc = compute_pathcompare(sub, PathCompareConfig(t0_s=0.0, duration_s=20.0))
    hole = np.flatnonzero(pc.index < 0)
    at_gap = [i for i in hole if pc.t[i - 1] < 10.0 + 1e-9 and pc.t[i + 1] >= 15.0]
    assert len(at_gap) == 1
    i = at_gap[0]
    assert np.isnan(pc.x[i]) and np.isnan(pc.y[i]) and np.all(np.isnan(pc.theta[i]))


def test_ring_is_aligned_to_head_direction(hd):
    _, _, dec = hd
    flipped = dataclasses.replace(dec, theta=np.mod(1.3 - dec.theta, TWO_PI))
    pc = compute_pathcompare(flipped, PathCompareConfig(duration_s=30.0))
    al = pc.hd_alignment
    assert al.sign == -1 and al.agreement > 0.999
    assert circular_error(al.offset_rad, 1.3) < 1e-6
    ok = np.isfinite(pc.theta_hd) & np.isfinite(pc.hd)
    assert np.max(circular_error(pc.theta_hd[ok], pc.hd[ok])) < 1e-6
    assert steps_within_pi(pc.theta) and steps_within_pi(pc.hd) and steps_within_pi(pc.theta_hd)
    renders(pathcompare_figure(pc))


def test_pathcompare_window_and_figure(grid):
    _, _, dec = grid
    with pytest.raises(ConfigError):
        compute_pathcompare(dec, PathCompareConfig(t0_s=1e6))
    pc = compute_pathcompare(dec, PathCompareConfig(t0_s=20.0, duration_s=10.0))
    assert pc.t0_s == 20.0 and pc.t1_s == 30.0
    assert np.nanmin(pc.t) >= 20.0 and np.nanmax(pc.t) < 30.0
    no_object_arrays(pc.to_arrays())
    fig = pathcompare_figure(pc)
    labels = [ax.get_xlabel() for ax in fig.axes]
    assert "x (cm)" in labels and "decoded θ1 (rad)" in labels and "" in labels  # "" is the colorbar
    renders(fig)
    renders(pathcompare_figure(compute_pathcompare(dataclasses.replace(dec, x=None, y=None))))


# ---------------------------------------------------------------- FR


def test_units_sorted_by_phase(grid):
    _, rm, dec = grid
    fm = compute_firing(rm, dec, FiringConfig(duration_s=20.0))
    assert np.all(np.diff(fm.sort_phase) >= 0)
    assert np.array_equal(fm.order, np.argsort(dec.unit_phase[:, 0], kind="stable"))
    assert np.allclose(fm.unit_phase, dec.unit_phase[fm.order])
    assert fm.unit_ids == [rm.unit_ids[j] for j in fm.order]
    # the heatmap rows are the sorted units' rates
    j = fm.order[5]
    col = np.flatnonzero(np.isfinite(fm.rates[5]))[0]
    row = np.argmin(np.abs(rm.t - fm.t[col]))
    assert fm.rates[5, col] == pytest.approx(rm.rates[row, j])
    fm2 = compute_firing(rm, dec, FiringConfig(duration_s=20.0, sort_circle=2))
    assert np.all(np.diff(fm2.sort_phase) >= 0)
    assert np.allclose(fm2.sort_phase, dec.unit_phase[fm2.order, 1])


def test_torus_sort_reads_the_square_band_by_band(grid):
    _, rm, dec = grid
    fm = compute_firing(rm, dec, FiringConfig(sort="torus"))
    bands = int(round(np.sqrt(len(fm.order))))
    band = np.floor(fm.unit_phase[:, 0] / TWO_PI * bands)
    assert np.all(np.diff(band) >= 0)
    for b in np.unique(band):
        assert np.all(np.diff(fm.unit_phase[band == b, 1]) >= 0)


def test_firing_zscore_gaps_and_no_decoding(grid):
    _, rm, dec = grid
    fm = compute_firing(rm, dec, FiringConfig(duration_s=60.0, zscore=True))
    assert fm.value_unit == "z"
    assert fm.t.size == 6000 and np.allclose(np.diff(fm.t), rm.config.dt_s)
    kept = np.sum((rm.t >= fm.t[0] - 0.005) & (rm.t < fm.t[-1] + 0.005))
    assert np.isfinite(fm.rates[0]).sum() == kept  # speed-filtered bins are NaN, never stretched
    plain = compute_firing(rm, None, FiringConfig(duration_s=5.0))
    assert plain.value_unit == "Hz" and np.array_equal(plain.order, np.arange(rm.rates.shape[1]))
    assert np.all(np.isnan(plain.sort_phase))
    renders(firing_figure(plain))
    with pytest.raises(ConfigError):
        compute_firing(rm, dec, FiringConfig(sort="alphabetical"))
    with pytest.raises(ConfigError):
        compute_firing(rm, dec, FiringConfig(sort_circle=3))


def test_firing_arrays_rows_and_figure(hd):
    _, rm, dec = hd
    fm = compute_firing(rm, dec, FiringConfig(duration_s=10.0))
    no_object_arrays(fm.to_arrays())
    rows = fm.to_rows()
    assert [r["unit_index"] for r in rows] == list(fm.order)
    fig = firing_figure(fm)
    heat = fig.axes[1]
    assert heat.get_xlabel() == "time (s)"
    assert any(ax.get_ylabel() == "rate (Hz)" for ax in fig.axes)
    renders(fig)


def test_every_view_exports_without_per_view_code(grid, tmp_path):
    from core.export import export_data

    _, rm, dec = grid
    results = {
        "cohomap": compute_cohomap(dec),
        "cohospace": compute_cohospace(rm, dec),
        "pathcompare": compute_pathcompare(dec),
        "firing": compute_firing(rm, dec),
    }
    for name, result in results.items():
        rows = result.to_rows() if hasattr(result, "to_rows") else None
        paths = export_data(tmp_path / name, result.to_arrays(), rows)
        with np.load(paths[0], allow_pickle=False) as loaded:
            assert set(loaded.files) == set(result.to_arrays())
