import numpy as np
import pytest

from core.significance import (
    DataSupport,
    SignificanceConfig,
    critical_statistic,
    decide,
    f_tail,
    gap_statistics,
    verdict,
)

CONFIG = SignificanceConfig()
ENOUGH = DataSupport(n_units_usable=100, n_units=100)


def noise(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).exponential(0.3, n)


def test_verdict_table():
    assert verdict({"h1": 2})[0] == "torus"
    assert verdict({"h1": 2, "h2": 1})[0] == "torus"
    assert verdict({"h1": 2, "h2": 0})[0] == "none"
    assert verdict({"h1": 1})[0] == "ring"
    assert verdict({"h1": 1, "h2": 0})[0] == "ring"
    assert verdict({"h1": 0})[0] == "none"
    assert verdict({"h1": 3})[0] == "none"


def test_f_tail_and_its_critical_value_agree():
    for k in (5, 20, 100):
        t = critical_statistic(0.01, k)
        assert f_tail(t, k) == pytest.approx(0.01)
    assert f_tail(np.inf, 10) == 0.0


def test_the_gap_statistic_is_f_distributed_on_exponential_noise():
    """Under the null (all bars exponential noise) p_1 is uniform: the test's size is α."""
    p = []
    for seed in range(2000):
        (k, t, window), *_ = gap_statistics(noise(200, seed), 1, 20)
        p.append(f_tail(t, window))
    p = np.array(p)
    for alpha in (0.01, 0.05, 0.2):
        assert abs((p < alpha).mean() - alpha) < 3 * np.sqrt(alpha * (1 - alpha) / p.size) + 0.005


def test_false_positive_rate_of_the_verdict_on_noise_is_at_most_alpha():
    wrong = sum(decide([np.array([]), noise(300, s)], ENOUGH, CONFIG).verdict != "none" for s in range(400))
    assert wrong / 400 <= 0.05


def test_one_long_bar_is_a_ring_and_two_are_a_torus():
    ring = decide([np.array([]), np.append(noise(200, 1), 9.0)], ENOUGH, CONFIG)
    assert ring.verdict == "ring" and ring.significant == {"h1": 1}
    assert ring.bar_p_values["h1"][0] < 0.001 < ring.bar_p_values["h1"][1]
    assert "α = 0.05" in ring.test and "Bonferroni" in ring.test
    torus = decide([np.array([]), np.append(noise(200, 2), [9.0, 8.5]), np.append(noise(50, 3), 6.0)],
                   ENOUGH, CONFIG)
    assert torus.verdict == "torus" and torus.significant == {"h1": 2, "h2": 1}
    assert 2.0 < torus.thresholds["h1"] < 8.5


def test_a_weaker_second_gap_below_a_ring_does_not_make_a_torus():
    life = np.append(noise(200, 4), [12.0, 3.5])
    assert decide([np.array([]), life], ENOUGH, CONFIG).verdict == "ring"


def test_refusals_name_their_reason():
    life = [np.array([]), np.append(noise(200, 5), [9.0, 8.5])]
    few = decide(life, DataSupport(6, 6), CONFIG)
    assert few.verdict == "none" and "too few units for a torus" in few.evidence
    broken = decide(life, DataSupport(100, 100, pieces=[500, 300]), CONFIG)
    assert broken.verdict == "none" and "fragmented" in broken.reasons[0]
    alive = decide(life, DataSupport(100, 100, alive_tested=True), CONFIG)
    assert alive.verdict == "none" and "undetermined" in alive.reasons[0]
    thin = decide([np.array([]), np.array([4.4, 1.7])], ENOUGH, CONFIG)
    assert thin.verdict == "none" and "too few H1 bars" in thin.reasons[0]


def test_shuffle_statistics_give_permutation_p_values():
    life = [np.array([]), np.append(noise(200, 6), 9.0)]
    null = {"h1": [[1.0, 0.5, 0.2]] * 99}
    sig = decide(life, ENOUGH, CONFIG, null)
    assert sig.method == "shuffle test" and sig.verdict == "ring"
    first = next(g for g in sig.gaps if g.k == 1)
    assert first.p_value == pytest.approx(1 / 100)
    assert "99 circular-shift shuffles" in sig.test


def test_loops_that_are_behaviour_are_refused_and_compasses_and_grids_are_not():
    ring = [np.array([]), np.append(noise(200, 7), 9.0)]
    torus = [np.array([]), np.append(noise(200, 8), [9.0, 8.5])]
    places = decide(ring, DataSupport(100, 100, circle_maps=[(0.3, 0.95)]), CONFIG)
    assert places.verdict == "none" and "loop of places" in places.reasons[0]
    looping_compass = DataSupport(100, 100, head_direction_correlation=0.9, circle_maps=[(0.3, 0.95)])
    compass = decide(ring, looping_compass, CONFIG)
    assert compass.verdict == "ring"
    half_torus = decide(ring, DataSupport(100, 100, circle_maps=[(2.0, 0.9)]), CONFIG)
    assert half_torus.verdict == "none" and "one circle of a grid torus" in half_torus.reasons[0]
    grid = decide(torus, DataSupport(100, 100, circle_maps=[(2.0, 0.9), (2.4, 0.88)]), CONFIG)
    assert grid.verdict == "torus"
