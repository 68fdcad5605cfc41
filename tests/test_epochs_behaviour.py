"""Concatenated epochs (gaps in t) and the behaviour checks behind the 'loop of places' refusal."""

import numpy as np

from core.behaviour import spatial_phase_map
from core.epochs import collapse_times, expand_times, find_epochs
from core.preprocess import PreprocessConfig, compute_rates
from core.recording import Recording
from core.significance import shift_recording


def two_epochs() -> Recording:
    """Unit 0 fires at 50 Hz in the first epoch, unit 1 in the second; 2 s of nothing in between."""
    t = np.concatenate([np.arange(0, 10, 0.01), np.arange(12, 22, 0.01)])
    return Recording(unit_ids=[0, 1], spike_times=[np.arange(0, 10, 0.02), np.arange(12, 22, 0.02)], t=t)


def test_epochs_are_found_and_times_map_back_and_forth():
    rec = two_epochs()
    epochs = find_epochs(rec.t)
    assert epochs.shape == (2, 2) and epochs[1, 0] == 12.0
    times = np.array([0.5, 9.0, 13.0, 21.5])
    assert np.allclose(expand_times(collapse_times(times, epochs), epochs), times)


def test_rates_drop_the_gap_and_are_not_smoothed_across_it():
    rec = two_epochs()
    rates = compute_rates(rec, PreprocessConfig(sigma_s=0.5, speed_min_cm_s=None))
    assert rates.n_epochs == 2
    assert not ((rates.t > 10.0) & (rates.t < 12.0)).any()
    late = rates.rates[rates.t > 12.0]
    assert late[:, 0].max() == 0.0  # unit 0's first-epoch rate does not leak past the gap


def test_shuffles_never_put_spikes_into_a_gap():
    shuffled = shift_recording(two_epochs(), np.random.default_rng(0), min_shift_s=1.0)
    for train in shuffled.spike_times:
        assert not ((train > 10.0 + 1e-9) & (train < 12.0 - 1e-9)).any()


def test_a_place_loop_turns_once_and_a_grid_phase_repeats():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 100, 5000), rng.uniform(0, 100, 5000)
    around = np.arctan2(y - 50, x - 50)  # a loop of places: the angle about the arena centre
    grid = 2 * np.pi * x / 30.0  # a 30 cm spatial period: ~3 turns across the arena
    heading = rng.uniform(0, 2 * np.pi, x.size)  # a compass: not a function of position
    periods_loop, explained_loop = spatial_phase_map(around, x, y)
    periods_grid, explained_grid = spatial_phase_map(grid, x, y)
    _, explained_hd = spatial_phase_map(heading, x, y)
    assert explained_loop > 0.8 and periods_loop < 0.6
    assert explained_grid > 0.8 and periods_grid > 1.0
    assert explained_hd < 0.3
