"""Ground truth: a grid module is a torus, head-direction cells a ring, independent units nothing."""

from dataclasses import replace

import numpy as np
import pytest

from core import synthetic
from core.pipeline import AnalysisConfig, run_analysis


def with_maxdim(config: AnalysisConfig, maxdim: int) -> AnalysisConfig:
    return replace(config, persistence=replace(config.persistence, maxdim=maxdim))


@pytest.fixture(scope="module")
def grid_recording():
    return synthetic.grid_module(n_units=100, duration_s=900.0, seed=1)


@pytest.fixture(scope="module")
def hd_recording():
    return synthetic.head_direction_cells(n_units=20, duration_s=600.0, seed=2)


@pytest.mark.slow
def test_grid_module_is_a_torus_with_one_h2_bar(grid_recording):
    result = run_analysis(grid_recording, with_maxdim(AnalysisConfig.from_preset("grid"), 2))
    assert result.significant == {"h1": 2, "h2": 1}
    assert result.verdict == "torus"
    h1 = result.persistence.lifetimes(1)
    assert h1[1] > 3 * h1[2], "the two torus circles stand far above the noise bars"


@pytest.mark.slow
def test_head_direction_cells_are_a_ring(hd_recording):
    result = run_analysis(hd_recording, AnalysisConfig.from_preset("hd"))
    assert result.significant == {"h1": 1}
    assert result.verdict == "ring"


@pytest.mark.slow
def test_auto_preset_picks_hd_for_a_small_head_direction_ensemble(hd_recording):
    result = run_analysis(hd_recording, AnalysisConfig.from_preset("auto"))
    assert result.config.preset.startswith("auto (20 units")
    assert result.config.preprocess.speed_min_cm_s is None  # head-direction cells fire at rest too
    assert result.config.point_cloud.n_points == 600
    assert result.verdict == "ring"


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["grid", "hd"])
def test_independent_units_have_no_structure(preset):
    recording = synthetic.independent_units(n_units=40 if preset == "grid" else 20, duration_s=600.0, seed=3)
    result = run_analysis(recording, AnalysisConfig.from_preset(preset))
    assert result.verdict == "none"
    assert result.significant["h1"] == 0


@pytest.mark.slow
def test_shuffle_test_is_seeded_and_says_when_it_has_too_few_shuffles(hd_recording):
    config = AnalysisConfig.from_preset("hd")
    config = replace(config, significance=replace(config.significance, n_shuffles=4, seed=7, n_jobs=2))
    first = run_analysis(hd_recording, config)
    assert first.significance.method == "shuffle test"
    assert len(first.significance.null_maxima["h1"]) == 4
    # 4 shuffles cannot give p < 0.05 / 3: the answer is no claim, with the reason
    assert first.verdict == "none"
    assert "at least 60 shuffles" in first.significance.evidence
    again = run_analysis(hd_recording, config)
    assert sorted(again.significance.null_maxima["h1"]) == pytest.approx(
        sorted(first.significance.null_maxima["h1"])
    )
    ring_gap = next(g for g in first.significance.gaps if g.k == 1).statistic
    assert ring_gap > 3 * max(first.significance.null_maxima["h1"])


def test_shuffled_recording_keeps_each_units_spike_count(hd_recording):
    from core.significance import shift_recording

    shuffled = shift_recording(hd_recording, np.random.default_rng(0), min_shift_s=20.0)
    assert [len(s) for s in shuffled.spike_times] == [len(s) for s in hd_recording.spike_times]
    t0, t1 = hd_recording.t[0], hd_recording.t[-1]
    assert all((s >= t0).all() and (s <= t1).all() for s in shuffled.spike_times)
    assert not np.allclose(shuffled.spike_times[0][:50], hd_recording.spike_times[0][:50])
