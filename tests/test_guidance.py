"""The verdict in words, the next steps after a 'none' or a doubtful verdict, and the warning on a decoded
ring that does not follow head direction (core only, no GUI)."""

from dataclasses import replace

import numpy as np
import pytest

from core.behaviour import HEAD_DIRECTION_AGREEMENT, head_direction_warning
from core.cli import build_parser, config_from_args
from core.guidance import (
    FEW_BARS,
    FEW_SHUFFLES,
    FEW_UNITS,
    FRAGMENTED,
    GRID_CIRCLE,
    PLACE_LOOP,
    SHUFFLES,
    UNDETERMINED,
    next_steps,
)
from core.pipeline import AnalysisConfig
from core.presets import DataProfile
from core.significance import (
    DataSupport,
    SignificanceConfig,
    decide,
    refusals,
    verdict_sentence,
    verdict_words,
)

CONFIG = SignificanceConfig()
ENOUGH = DataSupport(n_units_usable=100, n_units=100)
AUTO = AnalysisConfig.from_preset("auto")
HD_PROFILE = DataProfile(19, 60.0, 600.0, 1, True, True)
GRID_PROFILE = DataProfile(120, 300.0, 1800.0, 1, True, False)


def noise(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).exponential(0.3, n)


def ring():
    return decide([np.array([]), np.append(noise(200, 1), 9.0)], ENOUGH, CONFIG)


def nothing():
    return decide([np.array([]), noise(300, 7)], ENOUGH, CONFIG)


def test_verdict_sentences_say_what_they_mean_with_the_p_values():
    sig = ring()
    text = verdict_sentence(sig)
    assert text.startswith("Ring: one significant loop (gap test p = ")
    assert "lies on a ring" in text and text.endswith(".")
    gap = next(g for g in sig.gaps if g.k == 1)
    from core.significance import format_p

    assert f"p = {format_p(gap.p_adjusted)}" in text
    torus = decide(
        [np.array([]), np.append(noise(200, 2), [9.0, 8.5]), np.append(noise(50, 3), 6.0)], ENOUGH, CONFIG
    )
    text = verdict_sentence(torus)
    assert text.startswith("Torus: two significant loops (gap test p = ")
    assert "and one significant enclosed surface (p = " in text and "torus" in text
    none = verdict_sentence(nothing())
    assert none.startswith(
        "No ring or torus: no loop stands out from the noise (gap test: the clearest gap has p = "
    )
    assert "(1, 0)" not in none and "(2, 1)" not in none  # the cryptic counts are gone
    few = decide([np.array([]), np.append(noise(200, 5), [9.0, 8.5])], DataSupport(6, 6), CONFIG)
    headline, words = verdict_words(few)
    assert headline == "No claim" and words.startswith("two significant loops (gap test p = ")
    assert "but too few units for a torus" in words


def test_the_words_never_change_the_decision():
    for sig in (ring(), nothing()):
        before = (sig.verdict, sig.significant, sig.evidence, sig.reasons)
        verdict_sentence(sig)
        assert (sig.verdict, sig.significant, sig.evidence, sig.reasons) == before
    assert "neither a ring (one loop, no enclosed surface) nor a torus" in nothing().evidence


def test_a_clear_ring_needs_no_next_step():
    assert next_steps(ring(), AUTO, HD_PROFILE) == []


def test_none_suggests_the_presets_that_fit_the_data_first_and_the_shuffle_test():
    steps = next_steps(nothing(), AUTO, HD_PROFILE)
    labels = [s.label for s in steps]
    assert labels == [
        "Try the hd preset",
        "Try the grid preset",
        f"Run the shuffle test ({SHUFFLES} shuffles)",
    ]
    assert steps[0].preset == "hd" and "19 units" in steps[0].explanation
    assert steps[2].values == (("significance.n_shuffles", SHUFFLES),)
    assert steps[2].cli_args() == ["--set", f"significance.n_shuffles={SHUFFLES}"]
    big = [s.label for s in next_steps(nothing(), AnalysisConfig.from_preset("hd"), GRID_PROFILE)]
    assert big[:2] == ["Try the grid preset", "Try the auto preset"]  # the current preset is not offered
    shuffled = replace(nothing(), method="shuffle test")
    assert not any("shuffle" in s.label for s in next_steps(shuffled, AUTO, HD_PROFILE))


def test_two_loops_without_their_surface_suggest_more_h2_landmarks():
    sig = decide([np.array([]), np.append(noise(200, 2), [9.0, 8.5]), noise(50, 3)], ENOUGH, CONFIG)
    assert sig.verdict == "none" and sig.significant == {"h1": 2, "h2": 0}
    assert verdict_words(sig)[0] == "No torus"
    step = next_steps(sig, AUTO, GRID_PROFILE)[0]
    assert step.values == (("persistence.n_landmarks_h2", 600),)


def test_a_borderline_ring_suggests_the_shuffle_test():
    sig = ring()
    gap = next(g for g in sig.gaps if g.k == 1)
    doubtful = replace(sig, gaps=[replace(gap, p_adjusted=0.02)] + [g for g in sig.gaps if g is not gap])
    steps = next_steps(doubtful, AUTO, HD_PROFILE)
    assert [s.label for s in steps] == [f"Run the shuffle test ({SHUFFLES} shuffles)"]
    assert "borderline" in steps[0].explanation and "p = 0.02" in steps[0].explanation


def test_each_refusal_gets_its_step():
    life = [np.array([]), np.append(noise(200, 5), [9.0, 8.5])]
    few = next_steps(decide(life, DataSupport(6, 6), CONFIG), AUTO, GRID_PROFILE)
    assert [s.label for s in few] == ["Too few units"] and not few[0].actionable
    assert "record more cells" in few[0].explanation
    broken = next_steps(decide(life, DataSupport(100, 100, pieces=[500, 300]), CONFIG), AUTO, GRID_PROFILE)
    assert broken[0].label == "The cloud falls apart" and "subset of the units" in broken[0].explanation
    assert not broken[0].actionable
    alive = next_steps(decide(life, DataSupport(100, 100, alive_tested=True), CONFIG), AUTO, GRID_PROFILE)
    assert alive[0].values == (("point_cloud.n_neighbors_metric", 1000),)  # 5/6 of the 1,200 points
    thin = next_steps(decide([np.array([]), np.array([4.4, 1.7])], ENOUGH, CONFIG), AUTO, GRID_PROFILE)
    assert thin[0].values == (("point_cloud.n_points", 2400),)
    null = {"h1": [[0.5, 0.2, 0.1]] * 10}
    short = decide([np.array([]), noise(300, 8)], ENOUGH, CONFIG, null_statistics=null)
    assert any(FEW_SHUFFLES in r for r in short.reasons)
    assert next_steps(short, AUTO, GRID_PROFILE)[0].values == (("significance.n_shuffles", SHUFFLES),)


def test_every_reason_the_significance_gives_is_recognised():
    """The step rules read the openings of the refusal reasons: each reason refusals() can give must match
    one of them (a rewording in core.significance breaks this test, not the suggestions)."""
    openings = (UNDETERMINED, FEW_BARS, FRAGMENTED, PLACE_LOOP, GRID_CIRCLE, FEW_UNITS)
    supports = [
        (DataSupport(100, 100, alive_tested=True), {"h1": 1}, True),
        (ENOUGH, {"h1": 0}, False),
        (DataSupport(100, 100, pieces=[500, 300]), {"h1": 1}, True),
        (DataSupport(100, 100, head_direction_correlation=0.1, circle_maps=[(0.3, 0.9)]), {"h1": 1}, True),
        (DataSupport(100, 100, circle_maps=[(0.3, 0.9)]), {"h1": 1}, True),
        (DataSupport(100, 100, head_direction_correlation=0.1, circle_maps=[(2.0, 0.9)]), {"h1": 1}, True),
        (DataSupport(6, 6), {"h1": 2}, True),
        (DataSupport(3, 3), {"h1": 1}, True),
    ]
    seen = set()
    for support, counts, enough in supports:
        reasons = refusals(counts, support, CONFIG, enough)
        assert reasons
        for reason in reasons:
            match = [o for o in openings if reason.startswith(o)]
            assert match, reason
            seen.update(match)
    assert seen == set(openings)


@pytest.mark.parametrize("rho, warned", [(0.12, True), (HEAD_DIRECTION_AGREEMENT - 0.01, True), (0.9, False)])
def test_a_ring_that_does_not_follow_head_direction_is_flagged(rho, warned):
    class Dec:
        metrics = {"head_direction": {"circular_correlation": rho, "median_error_deg": 80.0}}

    text = head_direction_warning(Dec())
    assert bool(text) == warned
    if warned:
        assert f"ρ = {rho:.2f}" in text and "may not be the head-direction ring" in text
    assert head_direction_warning(None) == ""


def test_cli_prints_the_sentence_and_the_steps(capsys):
    from core import synthetic
    from core.cli import print_verdict
    from core.pipeline import run_analysis

    rec = synthetic.independent_units(n_units=12, duration_s=120.0, seed=1)
    args = build_parser().parse_args(["run", "x.npz"])
    result = run_analysis(rec, config_from_args(args))
    print_verdict(result, rec)
    out = capsys.readouterr().out
    assert out.startswith("none: no loop stands out from the noise (gap test")
    first = out.split("  next: ")[1]
    assert first.startswith("Try the hd preset (--preset hd): ") and "12 units" in first  # fitted to the data
    assert f"--set significance.n_shuffles={SHUFFLES}" in out
