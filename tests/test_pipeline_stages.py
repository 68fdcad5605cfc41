"""Stage plumbing: cache by inputs and config, progress, cancellation, presets."""

from dataclasses import replace

import pytest

from core import synthetic
from core.cache import StageCache
from core.errors import Cancelled, ConfigError
from core.pipeline import AnalysisConfig, resolve_preset, run_analysis


@pytest.fixture(scope="module")
def small_ring():
    return synthetic.head_direction_cells(n_units=16, duration_s=240.0, seed=4)


def test_repeating_an_analysis_hits_the_cache_and_a_changed_stage_recomputes_downstream(small_ring):
    cache = StageCache()
    config = AnalysisConfig.from_preset("hd")
    first = run_analysis(small_ring, config, cache=cache)
    assert len(cache) == 5  # rates, cloud, persistence, significance, decoding
    assert first.timings_s["point_cloud"] > 0 and first.timings_s["persistence"] > 0
    again = run_analysis(small_ring, config, cache=cache)
    assert again.persistence is first.persistence
    assert set(again.timings_s.values()) == {0.0}
    changed = replace(config, point_cloud=replace(config.point_cloud, n_points=400))
    third = run_analysis(small_ring, changed, cache=cache)
    assert third.timings_s["preprocess"] == 0.0  # upstream of the change: reused
    assert third.timings_s["point_cloud"] > 0 and third.timings_s["persistence"] > 0
    assert third.point_cloud.points.shape[0] == 400


def test_progress_rises_to_one_and_names_stages(small_ring):
    seen = []
    run_analysis(small_ring, AnalysisConfig.from_preset("hd"), progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    messages = " ".join(m for _, m in seen)
    assert "binning" in messages and "nearest neighbours" in messages and "verdict" in messages


def test_cancel_stops_a_running_analysis(small_ring):
    calls = {"n": 0}

    def cancel_after_a_few():
        calls["n"] += 1
        return calls["n"] > 5

    with pytest.raises(Cancelled):
        run_analysis(small_ring, AnalysisConfig.from_preset("hd"), cancel=cancel_after_a_few)


def test_presets():
    assert AnalysisConfig.from_preset("grid").point_cloud.n_points == 1200
    assert AnalysisConfig.from_preset("hd").preprocess.speed_min_cm_s is None
    with pytest.raises(ConfigError, match="unknown preset"):
        AnalysisConfig.from_preset("torus")


def test_auto_preset_resolves_from_the_recording(small_ring):
    auto = AnalysisConfig.from_preset("auto")
    ring = resolve_preset(auto, small_ring)
    assert ring.preset.startswith("auto (") and "head direction" in ring.preset
    assert ring.preprocess.speed_min_cm_s is None and ring.point_cloud.n_points == 600
    no_hd = resolve_preset(auto, replace(small_ring, hd=None))
    assert no_hd.preprocess.speed_min_cm_s == 2.5  # position without head direction: filter on
    asleep = resolve_preset(auto, replace(small_ring, hd=None, x=None, y=None))
    assert asleep.preprocess.speed_min_cm_s is None and "no behaviour" in asleep.preset
    assert resolve_preset(ring, small_ring) == ring  # resolving twice changes nothing
