"""Rate matrix: counts, units, alignment of behaviour to bin centres, speed filter."""

import numpy as np
import pytest

from core.errors import RecordingError
from core.preprocess import PreprocessConfig, compute_rates
from core.recording import Recording


def make(spikes, t, x=None, y=None, hd=None):
    return Recording(unit_ids=list(range(len(spikes))), spike_times=spikes, t=t, x=x, y=y, hd=hd)


def test_unsmoothed_rates_are_counts_over_dt():
    t = np.linspace(0, 1, 101)
    rec = make([np.array([0.005, 0.006, 0.5])], t)
    rm = compute_rates(rec, PreprocessConfig(dt_s=0.01, sigma_s=0.0, speed_min_cm_s=None))
    assert rm.rates.dtype == np.float32
    assert rm.rates[0, 0] == pytest.approx(200.0)  # 2 spikes in 10 ms
    assert rm.rates[:, 0].sum() * 0.01 == pytest.approx(3.0)


def test_smoothing_keeps_the_spike_count():
    t = np.linspace(0, 10, 1001)
    rec = make([np.array([5.0])], t)
    rm = compute_rates(rec, PreprocessConfig(sigma_s=0.1, speed_min_cm_s=None))
    assert rm.rates[:, 0].sum() * 0.01 == pytest.approx(1.0, rel=1e-3)


def test_behaviour_is_interpolated_to_bin_centres_whatever_the_tracking_rate():
    t = np.arange(0, 20, 1 / 30)  # 30 Hz tracking, 10 ms bins
    x = 10.0 * t  # 10 cm/s
    hd = np.mod(0.5 * t, 2 * np.pi)
    rec = make([np.array([1.0, 2.0])], t, x=x, y=np.zeros_like(t), hd=hd)
    rm = compute_rates(rec, PreprocessConfig(speed_min_cm_s=None))
    assert np.allclose(rm.x, 10.0 * rm.t, atol=1e-6)
    assert np.allclose(rm.hd, np.mod(0.5 * rm.t, 2 * np.pi), atol=1e-6)
    assert np.median(rm.speed_cm_s) == pytest.approx(10.0, rel=1e-3)


def test_speed_filter_keeps_moving_bins_with_their_positions():
    t = np.arange(0, 20, 0.01)
    x = np.where(t < 10, 0.0, 5.0 * (t - 10))  # still, then 5 cm/s
    rec = make([np.array([1.0, 15.0])], t, x=x, y=np.zeros_like(t))
    rm = compute_rates(rec, PreprocessConfig(speed_min_cm_s=2.5))
    assert rm.t.min() > 9.5
    assert 0.4 < rm.kept_fraction < 0.6
    assert rm.x.shape == rm.t.shape == rm.speed_cm_s.shape


def test_speed_filter_that_removes_everything_says_why():
    t = np.arange(0, 5, 0.01)
    rec = make([np.array([1.0])], t, x=np.zeros_like(t), y=np.zeros_like(t))
    with pytest.raises(RecordingError, match="speed"):
        compute_rates(rec)


def test_one_hour_two_hundred_units_is_float32():
    t = np.array([0.0, 3600.0])
    rng = np.random.default_rng(0)
    spikes = [np.sort(rng.uniform(0, 3600, 200)) for _ in range(200)]
    rm = compute_rates(make(spikes, t), PreprocessConfig(speed_min_cm_s=None))
    assert rm.rates.shape == (360000, 200)
    assert rm.rates.nbytes < 300e6
