"""Head-direction tuning curves: preferred directions and vector lengths of synthetic cells, figure."""

from pathlib import Path

import numpy as np
import pytest

from core.errors import ConfigError, RecordingError
from core.preprocess import PreprocessConfig, RateMatrix, compute_rates
from core.synthetic import head_direction_cells
from core.views.tuning import TuningConfig, compute_tuning_curves, tuning_figure


def circ_diff_deg(a_rad, b_rad):
    return np.rad2deg(np.abs(np.angle(np.exp(1j * (np.asarray(a_rad) - np.asarray(b_rad))))))


@pytest.fixture(scope="module")
def hd_recording():
    rec = head_direction_cells(n_units=12, duration_s=600.0, seed=2)
    rng = np.random.default_rng(9)
    n = rng.poisson(5.0 * rec.duration_s)  # a 5 Hz unit with no tuning
    rec.spike_times.append(np.sort(rng.uniform(rec.t[0], rec.t[-1], n)))
    rec.unit_ids.append("flat")
    return rec, compute_rates(rec)


@pytest.mark.filterwarnings("error")
def test_preferred_directions_and_vector_lengths(hd_recording):
    rec, rm = hd_recording
    tc = compute_tuning_curves(rm)
    assert tc.curves.shape == (13, 60)
    truth = np.asarray(rec.metadata["preferred_rad"])
    assert circ_diff_deg(tc.preferred_direction_rad[:12], truth).max() < 10.0
    assert (tc.mean_vector_length[:12] > 0.5).all()
    assert tc.mean_vector_length[12] < 0.1
    peak_bins = np.argmax(tc.curves[:12], axis=1)
    assert circ_diff_deg(tc.bin_centres_rad[peak_bins], truth).max() < 15.0
    assert (tc.peak_rate_hz[:12] > 10).all()
    assert tc.mean_rate_hz[12] == pytest.approx(5.0, rel=0.1)
    assert tc.occupancy_s.sum() == pytest.approx(rm.n_bins * rm.config.dt_s)
    assert np.allclose(tc.bin_centres_rad, (np.arange(60) + 0.5) * 2 * np.pi / 60)
    rows = tc.to_rows()
    assert rows[0]["unit"] == 0 and 0 <= rows[0]["preferred_direction_deg"] < 360


@pytest.mark.filterwarnings("error")
def test_constant_rate_is_flat_and_unvisited_directions_are_nan():
    n = 50_000
    hd = np.random.default_rng(0).uniform(0, np.pi, n)  # never faces the lower half-plane
    rates = np.column_stack([np.full(n, 4.0), np.zeros(n)]).astype(np.float32)
    rm = RateMatrix(rates, np.arange(n) * 0.01, ["c", "silent"], None, None, hd, None, n, PreprocessConfig())
    tc = compute_tuning_curves(rm, TuningConfig(n_bins=36, smoothing_sigma_deg=10.0))
    upper = tc.bin_centres_rad < np.pi
    assert np.isnan(tc.curves[:, ~upper]).all()
    assert np.allclose(tc.curves[0, upper], 4.0)
    assert (tc.curves[1, upper] == 0).all()
    assert np.isnan(tc.preferred_direction_rad[1]) and np.isnan(tc.mean_vector_length[1])
    assert tc.preferred_direction_rad[0] == pytest.approx(np.pi / 2, abs=0.05)


def test_missing_head_direction_is_a_recording_error(hd_recording):
    _, rm = hd_recording
    no_hd = RateMatrix(rm.rates, rm.t, rm.unit_ids, rm.x, rm.y, None, None, rm.n_bins_total, rm.config)
    with pytest.raises(RecordingError, match="head direction"):
        compute_tuning_curves(no_hd)
    with pytest.raises(ConfigError):
        compute_tuning_curves(rm, TuningConfig(n_bins=2))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("polar", [True, False])
def test_figure_saves_png(hd_recording, tmp_path: Path, polar):
    _, rm = hd_recording
    tc = compute_tuning_curves(rm)
    fig = tuning_figure(tc, units=[0, 3, "flat"], polar=polar)
    path = tmp_path / "tuning.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    src = Path(__file__).resolve().parents[1] / "core" / "views" / "tuning.py"
    assert "pyplot" not in src.read_text()
