"""The validation suite (core.validation): each generator makes what it claims, deterministically; the scoring
helpers on hand-made results. The pipeline's verdicts are not asserted here."""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("ratinabox")

from core.validation import recordings as gen  # noqa: E402
from core.validation.suite import (  # noqa: E402
    FAMILIES,
    build_suite,
    confusion_matrix,
    evaluate,
    roc_auc,
    summarise,
    target_checks,
)

TWO_PI = 2 * np.pi


@pytest.fixture(scope="module")
def hd():
    return gen.head_direction_ensemble(n_units=12, duration_s=120.0, arena="tanni", seed=3)


@pytest.fixture(scope="module")
def grid():
    return gen.grid_population([(30, 45.0)], n_other=6, duration_s=120.0, arena="box100", seed=4)


def test_head_direction_ensemble_is_a_ring_on_a_real_path(hd):
    rec, truth = hd
    assert truth == "ring" and rec.metadata["truth"] == "ring"
    assert rec.metadata["generator"] == "head_direction_ensemble" and rec.metadata["seed"] == 3
    assert rec.n_units == 12 and rec.has_position and rec.hd is not None
    assert np.all((rec.hd >= 0) & (rec.hd < TWO_PI))
    assert rec.metadata["true_angle_rad"].shape == rec.t.shape
    assert np.allclose(np.diff(rec.t), 0.01)
    rates = np.array([len(s) for s in rec.spike_times]) / rec.duration_s
    assert rates.max() / rates.min() > 5  # uneven rates
    assert all(s.min() >= rec.t[0] and s.max() <= rec.t[-1] for s in rec.spike_times if len(s))
    omega = np.angle(np.exp(1j * np.diff(rec.hd))) / 0.01
    assert 0.1 < np.median(np.abs(omega)) < 3.0  # realistic turning (rad/s)


def test_generators_are_deterministic(hd):
    again, _ = gen.head_direction_ensemble(n_units=12, duration_s=120.0, arena="tanni", seed=3)
    other, _ = gen.head_direction_ensemble(n_units=12, duration_s=120.0, arena="tanni", seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(hd[0].spike_times, again.spike_times, strict=True))
    assert np.array_equal(hd[0].hd, again.hd)
    assert not np.array_equal(hd[0].hd, other.hd)


def test_rebinned_spikes_sit_on_the_10ms_grid_at_most_3_per_bin(hd):
    rec = gen.rebin_spikes(hd[0], bin_s=0.01, max_per_bin=3)
    for s in rec.spike_times:
        k = (s - rec.t[0]) / 0.01
        assert np.allclose(k, np.round(k), atol=1e-6)
        _, counts = np.unique(np.round(k), return_counts=True)
        assert counts.max() <= 3
    assert rec.metadata["transforms"][-1]["name"] == "rebin_spikes"
    assert rec.n_spikes <= hd[0].n_spikes


@pytest.mark.parametrize("rate_hz", [39.0, 30.0])
def test_sample_and_hold_tracking_is_piecewise_constant(hd, rate_hz):
    rec = gen.sample_and_hold(hd[0], rate_hz)
    ticks = set(np.unique(gen.held_index(rec.t, rate_hz)).tolist())  # samples where the tracker updated
    for values in (rec.x, rec.y, rec.hd):
        changes = np.flatnonzero(np.diff(values) != 0) + 1
        assert set(changes.tolist()) <= ticks
        assert np.diff(changes).min() >= int(100 // rate_hz)
    assert abs(np.count_nonzero(np.diff(rec.hd)) / rec.duration_s - rate_hz) < 1.0
    assert len(ticks) == pytest.approx(rec.duration_s * rate_hz, abs=2)
    assert np.array_equal(rec.t, hd[0].t)
    assert np.array_equal(rec.metadata["true_angle_rad"], hd[0].metadata["true_angle_rad"])


def test_cut_gaps_makes_t_jump_with_no_spikes_inside(hd):
    rec = gen.cut_gaps(hd[0], n_gaps=20, seed=1, min_s=0.1, max_s=2.5)
    jumps = np.diff(rec.t)
    big = jumps > 0.015
    assert big.sum() == 20
    assert np.all(jumps[big] >= 0.1) and np.all(jumps[big] <= 2.52)
    assert rec.metadata["true_angle_rad"].shape == rec.t.shape == rec.hd.shape == rec.x.shape
    starts, stops = rec.t[:-1][big], rec.t[1:][big]
    for s in rec.spike_times:
        inside = (s[:, None] >= starts[None, :] + 0.0100001) & (s[:, None] < stops[None, :])
        assert not inside.any()


def test_sleep_has_no_behaviour_but_keeps_the_true_angle():
    rec, truth = gen.sleep_head_direction(n_units=8, duration_s=60.0, seed=2)
    assert truth == "ring" and rec.x is None and rec.y is None and rec.hd is None
    angle = rec.metadata["true_angle_rad"]
    assert angle.shape == rec.t.shape and np.all((angle >= 0) & (angle < TWO_PI))
    speed = np.abs(np.angle(np.exp(1j * np.diff(angle)))) / 0.01
    assert np.median(speed) > 1.0  # faster than awake turning


def test_grid_population_labels_units_and_truth(grid):
    rec, truth = grid
    assert truth == "torus" and rec.n_units == 36
    assert rec.metadata["is_grid"] == [True] * 30 + [False] * 6
    assert rec.metadata["module"][:30] == [0] * 30 and rec.metadata["module"][30:] == [-1] * 6
    assert gen.grid_truth([8]) == "none" and gen.grid_truth([30, 8]) == "torus"


def test_offset_arena_is_centred_on_zero():
    rec, truth = gen.grid_population([(8, 60.0)], duration_s=120.0, arena="centred330", model="three_cosine")
    assert truth == "none"  # 8 cells: far too few for a torus
    assert rec.x.min() < -100 and rec.x.max() > 100 and rec.y.min() < -100
    assert max(abs(rec.x.max() + rec.x.min()), abs(rec.y.max() + rec.y.min())) < 40
    assert rec.x.max() <= 165.0 + 1e-9 and rec.x.min() >= -165.0 - 1e-9


def test_place_cells_answer_none():
    rec, truth = gen.place_cell_population(n_units=10, duration_s=60.0, arena="tanni_centred", seed=1)
    assert truth == "none" and rec.metadata["truth"] == "none" and rec.n_units == 10
    assert rec.n_spikes > 0 and abs(rec.x.mean()) < 175


@pytest.mark.parametrize(
    "null",
    [lambda r: gen.circular_shift_null(r, seed=1), lambda r: gen.rate_matched_poisson(r, seed=1, slow=True)],
)
def test_nulls_keep_each_units_spike_count(hd, null):
    base = hd[0]
    rec = null(base)
    assert [len(s) for s in rec.spike_times] == [len(s) for s in base.spike_times]
    assert rec.metadata["truth"] == "none" and rec.metadata["base_truth"] == "ring"
    assert "true_angle_rad" not in rec.metadata and "true_angle_rad" in base.metadata
    assert all(
        np.all(np.diff(s) >= 0) and s.min() >= rec.t[0] and s.max() <= rec.t[-1] for s in rec.spike_times
    )
    assert not np.array_equal(rec.spike_times[0], base.spike_times[0])
    assert np.array_equal(rec.hd, base.hd)


def test_homogeneous_poisson_null_keeps_counts(grid):
    rec = gen.rate_matched_poisson(grid[0], seed=2, slow=False)
    assert [len(s) for s in rec.spike_times] == [len(s) for s in grid[0].spike_times]
    assert (
        "is_grid" not in rec.metadata
        and evaluate(rec, "none", SimpleNamespace(verdict="none"))["gridness"] is None
    )


def test_suite_has_over_100_recordings_in_every_family_deterministically():
    cases = build_suite()
    assert len(cases) >= 100
    assert {c.family for c in cases} == set(FAMILIES)
    assert len({c.name for c in cases}) == len(cases)
    again = build_suite()
    assert [(c.seed, c.kwargs, c.transforms) for c in cases] == [
        (c.seed, c.kwargs, c.transforms) for c in again
    ]
    assert build_suite(seed=1)[0].seed != cases[0].seed
    subset = build_suite(families=["hd_sleep"])
    assert [c.kwargs for c in subset] == [c.kwargs for c in cases if c.family == "hd_sleep"]
    for c in cases:
        assert c.truth == FAMILIES[c.family] and c.is_null == c.family.startswith("null_")
        n = sum(m[0] for m in c.kwargs.get("modules", [])) + c.kwargs.get("n_other", 0) or c.kwargs["n_units"]
        assert 6 <= n <= 120
        assert 300.0 <= c.kwargs["duration_s"] <= 1800.0
    pickle.loads(pickle.dumps(cases))  # a process pool can ship them


def test_a_suite_case_builds_the_same_recording_twice():
    case = build_suite(1, 0, families=["hd_lab_export"])[0]
    a, b = case.build(), case.build()
    assert a.metadata["case"] == "hd_lab_export/00" and a.metadata["truth"] == "ring"
    assert [t["name"] for t in a.metadata["transforms"]] == ["rebin_spikes", "sample_and_hold", "cut_gaps"]
    assert np.array_equal(a.t, b.t) and all(
        np.array_equal(x, y) for x, y in zip(a.spike_times, b.spike_times, strict=True)
    )


# --------------------------------------------------------------------------------------------- scoring


def _decoding(rec, transform):
    t = rec.t[::20]
    truth = rec.metadata["true_angle_rad"][::20]
    return SimpleNamespace(theta=np.mod(transform(truth), TWO_PI)[:, None], t=t)


def test_evaluate_a_ring_decoded_up_to_reflection_and_rotation(hd):
    rec = hd[0]
    result = SimpleNamespace(verdict="ring", decoding=_decoding(rec, lambda a: 2.0 - a))
    row = evaluate(rec, "ring", result)
    assert row["correct"] and not row["torus_from_few_cells"]
    assert row["decoding"]["circular_correlation"] > 0.999 and row["decoding"]["median_error_deg"] < 1.0
    noisy = SimpleNamespace(verdict="ring", decoding=_decoding(rec, lambda a: a + np.linspace(0, 20, a.size)))
    assert evaluate(rec, "ring", noisy)["decoding"]["circular_correlation"] < 0.5


def test_evaluate_flags_a_torus_from_few_cells(hd):
    row = evaluate(hd[0], "ring", SimpleNamespace(verdict="torus", decoding=None))
    assert not row["correct"] and row["torus_from_few_cells"] and row["decoding"] is None


def test_gridness_auc_on_labelled_units(grid):
    row = evaluate(grid[0], "torus", SimpleNamespace(verdict="torus"))
    g = row["gridness"]
    assert g["n_grid"] == 30 and g["n_other"] == 6 and 0.0 <= g["auc"] <= 1.0


def test_roc_auc():
    assert roc_auc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert roc_auc(np.array([1.0]), np.array([1.0])) == 0.5
    assert roc_auc(np.array([np.nan]), np.array([0.0])) == 0.0


def test_summary_figures_on_hand_made_rows():
    rows = [
        {"family": "hd_awake", "truth": "ring", "verdict": "ring", "correct": True, "is_null": False},
        {
            "family": "grid_few",
            "truth": "none",
            "verdict": "torus",
            "correct": False,
            "torus_from_few_cells": True,
        },
        {"family": "null_shift_hd", "truth": "none", "verdict": "ring", "correct": False, "is_null": True},
        {"family": "null_shift_hd", "truth": "none", "verdict": "none", "correct": True, "is_null": True},
        {"family": "grid_module", "truth": "torus", "verdict": "error", "correct": False},
    ]
    rows[0]["decoding"] = {"circular_correlation": 0.9, "median_error_deg": 10.0}
    s = summarise(rows)
    assert s["confusion"] == confusion_matrix(rows)
    assert s["confusion"]["none"] == {"ring": 1, "torus": 1, "none": 1, "other": 0}
    assert s["confusion"]["torus"]["other"] == 1
    assert s["percent_correct"] == 40.0 and s["null_false_positive_percent"] == 50.0
    assert s["tori_from_fewer_than_20_cells"] == 1
    assert s["decoding_by_family"]["hd_awake"]["median_cc"] == 0.9
    checks = target_checks(s)
    assert checks["percent_correct"] is False and checks["circular_correlation"] is True
    assert checks["tori_from_fewer_than_20_cells"] is False


def test_reference_verdict_reads_the_h1_gap():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "validity.py"
    spec = importlib.util.spec_from_file_location("validity_bench", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.reference_verdict({"h1_lifetimes": [1.0, 0.1, 0.09, 0.08, 0.07, 0.06]}) == ("ring", 1)
    assert mod.reference_verdict({"h1_lifetimes": [1.0, 0.9, 0.1, 0.09, 0.08, 0.07]}) == ("torus", 2)
    assert mod.reference_verdict({"h1_lifetimes": [0.2, 0.19, 0.18, 0.17, 0.16]})[0] == "none"
    bars = [[0.0, 1.0]] + [[0.1, 0.15 + 0.001 * k] for k in range(6)]
    assert mod.reference_verdict({"diagrams": {"h1": bars}})[0] == "ring"
