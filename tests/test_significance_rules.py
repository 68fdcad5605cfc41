import numpy as np

from core.significance import SignificanceConfig, gap_count, gap_significance, shuffle_significance, verdict


def test_gap_rule_counts_the_bars_above_the_largest_gap():
    assert gap_count(np.array([17.5, 17.2, 2.7, 2.4, 2.0]), 2.0, 3)[0] == 2
    assert gap_count(np.array([40.0, 0.8, 0.6]), 2.0, 3)[0] == 1
    assert gap_count(np.array([1.6, 1.5, 1.4, 1.3]), 2.0, 3)[0] == 0
    assert gap_count(np.array([]), 2.0, 3)[0] == 0
    assert gap_count(np.array([np.inf, 0.5, 0.4]), 2.0, 3)[0] == 1


def test_verdict_table():
    assert verdict({"h1": 2})[0] == "torus"
    assert verdict({"h1": 2, "h2": 1})[0] == "torus"
    assert verdict({"h1": 2, "h2": 0})[0] == "none"
    assert verdict({"h1": 1})[0] == "ring"
    assert verdict({"h1": 1, "h2": 0})[0] == "ring"
    assert verdict({"h1": 0})[0] == "none"
    assert verdict({"h1": 3})[0] == "none"


def test_gap_significance_reads_h2_with_one_bar_at_most():
    lifetimes = [np.array([np.inf]), np.array([10.0, 9.0, 1.0]), np.array([8.0, 1.0])]
    sig = gap_significance(lifetimes, SignificanceConfig())
    assert sig.significant == {"h1": 2, "h2": 1}
    assert sig.verdict == "torus"


def test_shuffle_significance_uses_the_percentile_of_null_maxima():
    lifetimes = [np.array([np.inf]), np.array([5.0, 1.5, 0.5])]
    null = {"h1": [1.0, 1.2, 1.1, 0.9]}
    sig = shuffle_significance(lifetimes, null, SignificanceConfig(percentile=100))
    assert sig.significant == {"h1": 2}
    assert sig.thresholds["h1"] == 1.2
