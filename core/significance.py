"""Which bars are real: a calibrated gap test (default), a circular-shift shuffle test, and the verdict.

**Gap test** (no shuffles). Under the null hypothesis that a bar is noise, the noise bars' lifetimes L have an
exponential upper tail: normalised as Bobrowski & Skraba (2023, Sci Rep 13:12274) prescribe, persistence
from random point clouds follows a left-skewed Gumbel law, whose exponentiated value — here the lifetime in
−log-membership units, the log of the death/birth ratio of the memberships — is exponentially distributed.
Sort the lifetimes L(1) ≥ L(2) ≥ …. By Rényi's (1953) representation, the spacings of the top order
statistics of an exponential sample are independent, with i·(L(i) − L(i+1)) ~ Exp(β) for the i-th largest.
So for each position k ≤ ``max_bars``, under H0_k "bar k is the largest noise bar" the statistic

    T_k = (L(k) − L(k+1)) / β̂_k,   β̂_k = mean over i = 1..K of (i + 1)·(L(k+i) − L(k+i+1))

follows an F(2, 2K) law, so p_k = (1 + T_k / K)^(−K) (K = ``window`` bars below, fewer when the diagram has
fewer). The gap is significant when p_k · ``max_bars`` < α (Bonferroni over the positions tested). The
number of real bars is the position of the most significant gap, when significant (a second, weaker gap
below a ring's bar, say, does not make it two circles); bar j's p-value is the smallest adjusted p_k over
k ≥ j. The calibration on this project's metric (false-positive rates on shuffled and independent
populations) is measured by ``benchmarks/validity.py`` and ``tests/test_significance_calibration.py``.

**Shuffle test** (``n_shuffles`` > 0): each unit's train is shifted circularly by its own random offset
(≥ ``min_shift_s``, along the gap-free time axis), which keeps every unit's rate and autocorrelation but
destroys their joint structure; each shuffle goes through the identical pipeline and gives its gap
statistics T_k. The p-value of gap k is (1 + #{shuffles with T_k ≥ observed}) / (1 + n), Bonferroni as above.
Comparing the normalised gap, not raw lifetimes, compares like with like: a structured cloud has many more
medium bars than any shuffle, which a raw-lifetime threshold would count as real.

**Verdict.** ``torus`` (2 H1 bars and, when H2 is computed, 1 H2 bar), ``ring`` (1 H1, 0 H2) or ``none``;
``none`` also, with the reason, when a tested bar never dies (undetermined), when the cloud falls apart
into several large pieces in the middle of the loop's life, where decoding reads it (fragmented), or when
the data are too thin for the structure (fewer than ``min_units_ring`` / ``min_units_torus`` units with
``min_spikes_per_unit`` spikes, or too few bars to estimate the noise), or when a loop is a loop of places:
a decoded phase that the position explains (resultant ≥ 0.8 within 10 × 10 bins of the arena) and that turns
fewer than 0.6 times across the arena, while head direction does not follow it (|ρ| < 0.5), is what place
cells give on a path that loops (along the walls, around an obstacle). A grid module's phases are explained
by position too but repeat across the arena (≥ 1 period on the validation suite, place loops ≤ 0.4), and an
attractor ring follows head direction; a ring whose phase the position explains but that repeats across the
arena is one circle of a grid torus whose other circle was not significant, and is refused as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.sparse.csgraph import connected_components

from core.config import Config
from core.epochs import collapse_times, expand_times, find_epochs
from core.recording import Recording

MIN_WINDOW = 5  # fewest noise bars below a gap that estimate the noise scale
POSITION_EXPLAINED = 0.8  # a phase the position explains this well (resultant in 10 × 10 arena bins) …
PLACE_LOOP_PERIODS = 0.6  # … that turns fewer times than this across the arena is a loop of places
HEAD_DIRECTION_FOLLOWED = 0.5  # |circular correlation| with head direction that makes a ring a compass


@dataclass(frozen=True)
class SignificanceConfig(Config):
    """n_shuffles: 0 = gap test (no shuffles). alpha: family-wise error rate of one dimension's bars.
    max_bars: positions tested per dimension (H2: 1). window: noise bars below a gap that estimate the
    noise scale. seed, min_shift_s (s), n_jobs: the shuffles. min_units_ring / min_units_torus: units (with
    at least min_spikes_per_unit spikes) a ring / torus needs. min_piece_fraction: a piece of the cloud this
    large (fraction of points) that is apart from the rest where the loop is born makes it fragmented."""

    n_shuffles: int = field(
        default=0,
        metadata={
            "min": 0,
            "max": 1000,
            "help": "shuffles (0: gap test)",
            "ref": "shuffle test: Gardner et al. 2022",
        },
    )
    alpha: float = field(
        default=0.05,
        metadata={
            "min": 1e-6,
            "max": 0.5,
            "help": "significance level α",
            "ref": "gap test: Bobrowski & Skraba 2023, Sci Rep 13:12274; Rényi 1953",
        },
    )
    max_bars: int = field(
        default=3,
        metadata={
            "min": 2,
            "max": 10,
            "help": "H1 bars tested",
            "ref": "gap test: Bobrowski & Skraba 2023, Sci Rep 13:12274; Rényi 1953",
        },
    )
    window: int = field(
        default=40,
        metadata={
            "min": MIN_WINDOW,
            "max": 200,
            "help": "noise bars per gap",
            "ref": "gap test: Bobrowski & Skraba 2023, Sci Rep 13:12274; Rényi 1953",
        },
    )
    seed: int = field(default=0, metadata={"min": 0, "max": 2**31 - 1, "help": "random seed of the shuffles"})
    min_shift_s: float = field(
        default=20.0, metadata={"unit": "s", "min": 0.0, "max": 3600.0, "help": "smallest shift"}
    )
    n_jobs: int = field(default=2, metadata={"min": 1, "max": 64, "help": "parallel processes"})
    min_units_ring: int = field(default=5, metadata={"min": 3, "max": 1000, "help": "units a ring needs"})
    min_units_torus: int = field(default=20, metadata={"min": 4, "max": 1000, "help": "units a torus needs"})
    min_spikes_per_unit: int = field(
        default=100, metadata={"min": 0, "max": 10**7, "help": "spikes that make a unit count"}
    )
    min_piece_fraction: float = field(
        default=0.05, metadata={"min": 0.001, "max": 0.5, "help": "smallest separate piece (fraction)"}
    )


@dataclass
class GapTest:
    """One tested gap: between the k-th and (k+1)-th longest bars of dimension ``dim``.

    statistic: T_k (no unit). p_value: before correction; p_adjusted: Bonferroni over the positions tested.
    window: noise bars that estimated the scale. lifetime_above / lifetime_below: L(k), L(k+1).
    """

    dim: int
    k: int
    statistic: float
    p_value: float
    p_adjusted: float
    window: int
    lifetime_above: float
    lifetime_below: float


@dataclass
class Significance:
    """significant: {"h1": n, "h2": n} (h2 absent when not computed). method: "gap test" or "shuffle test".
    test: one sentence naming the test, α and the correction. alpha: the level. gaps: every tested gap.
    bar_p_values: per dimension, the p-value of each of the longest bars (longest first; 1.0 past the
    tested ones). thresholds: per dimension, the lifetime above which a bar counts. null_maxima: per
    dimension, each shuffle's largest gap statistic. reasons: why a ring or torus was refused (empty when
    none was). verdict: "torus" | "ring" | "none". evidence: the sentence behind the verdict."""

    significant: dict[str, int]
    method: str
    thresholds: dict[str, float]
    null_maxima: dict[str, list[float]]
    verdict: str
    evidence: str
    test: str = ""
    alpha: float = 0.05
    gaps: list[GapTest] = field(default_factory=list)
    bar_p_values: dict[str, list[float]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)


def format_p(p: float) -> str:
    """A p-value in few characters: 0.03, 2.1e-05, <1e-15."""
    if p < 1e-15:
        return "<1e-15"
    return f"{p:.2g}" if p >= 0.001 else f"{p:.1e}"


def p_value_text(sig: Significance | None, dim: int) -> str:
    """ "p: 1.2e-04, 0.91, 1" for the tested bars of dimension ``dim`` (longest first); "" when untested."""
    values = (sig.bar_p_values.get(f"h{dim}") if sig is not None else None) or []
    return "p: " + ", ".join(format_p(p) for p in values) if values else ""


def sorted_lifetimes(lifetimes: np.ndarray) -> np.ndarray:
    """Positive lifetimes, longest first (zero-length bars carry no information and are dropped)."""
    life = np.asarray(lifetimes, dtype=np.float64)
    return np.sort(life[life > 0])[::-1]


def gap_statistics(
    lifetimes: np.ndarray, max_bars: int, window: int, n_alive: int = 0
) -> list[tuple[int, float, int]]:
    """(k, T_k, K) for each testable position k = 1..``max_bars`` (see module doc); T is inf for an
    infinite bar above a finite one. Left out: positions with fewer than 5 noise bars below, and positions
    whose lower bar k+1 is one of the ``n_alive`` longest bars that were still alive at the filtration's
    cut (their lifetimes are lower bounds: only a gap above a finished bar is exact or conservative)."""
    life = sorted_lifetimes(lifetimes)
    out = []
    for k in range(max(1, n_alive), max_bars + 1):
        n_window = min(window, life.size - k - 1)
        if n_window < MIN_WINDOW or not np.isfinite(life[k]):
            continue
        spacings = life[k : k + n_window] - life[k + 1 : k + n_window + 1]
        scale = float(np.mean((np.arange(1, n_window + 1) + 1) * spacings))
        gap = life[k - 1] - life[k]
        t = np.inf if not np.isfinite(gap) else (gap / scale if scale > 0 else (np.inf if gap > 0 else 0.0))
        out.append((k, float(t), n_window))
    return out


def f_tail(statistic: float, n_window: int) -> float:
    """P(F(2, 2K) > statistic) = (1 + statistic / K)^(−K)."""
    if not np.isfinite(statistic):
        return 0.0
    return float((1.0 + statistic / n_window) ** (-n_window))


def critical_statistic(alpha: float, n_window: int) -> float:
    """T above which (1 + T / K)^(−K) < alpha."""
    return float(n_window * (alpha ** (-1.0 / n_window) - 1.0))


def count_from_gaps(gaps: list[GapTest], alpha: float) -> int:
    """Number of real bars: the position of the most significant gap, when it is significant (else 0)."""
    best = min(gaps, key=lambda g: (g.p_value, -g.statistic), default=None)
    return best.k if best is not None and best.p_adjusted < alpha else 0


def bar_p_values(gaps: list[GapTest], n_bars: int) -> list[float]:
    """p-value of each of the ``n_bars`` longest bars: the smallest adjusted p of the gaps at or below it."""
    out = []
    for j in range(1, n_bars + 1):
        below = [g.p_adjusted for g in gaps if g.k >= j]
        out.append(min(below) if below else 1.0)
    return out


def threshold_from_gaps(lifetimes: np.ndarray, gaps: list[GapTest], count: int, alpha: float, tested: int):
    """Lifetime above which a bar counts: the middle of the significant gap, or, with none, what the longest
    bar would need (L(2) + critical T · scale) — NaN when untestable."""
    life = sorted_lifetimes(lifetimes)
    if count:
        g = next(g for g in gaps if g.k == count)
        return 0.5 * (g.lifetime_above + g.lifetime_below)
    first = next((g for g in gaps if g.k == 1), None)
    if first is None or first.statistic == 0 or not np.isfinite(first.statistic):
        return float("nan")
    scale = (first.lifetime_above - first.lifetime_below) / first.statistic
    return float(life[1] + critical_statistic(alpha / tested, first.window) * scale)


def tested_positions(dim: int, config: SignificanceConfig) -> int:
    """Gaps tested in dimension ``dim``: ``max_bars`` for H1, 1 for H2 (a torus has one)."""
    return 1 if dim == 2 else config.max_bars


def gap_tests(
    lifetimes: list[np.ndarray],
    config: SignificanceConfig,
    null_statistics: dict[str, list[list[float]]] | None = None,
    n_alive: dict[int, int] | None = None,
) -> dict[int, list[GapTest]]:
    """Tested gaps per dimension ≥ 1; p-values from the F law, or from ``null_statistics[f"h{d}"]`` (one
    list of T_1..T_m per shuffle) when given. ``n_alive[d]``: bars of H_d alive at the cut."""
    out = {}
    for dim in range(1, len(lifetimes)):
        tested = tested_positions(dim, config)
        life = sorted_lifetimes(lifetimes[dim])
        gaps = []
        alive = (n_alive or {}).get(dim, 0)
        for k, t, n_window in gap_statistics(life, tested, config.window, alive):
            if null_statistics is None:
                p = f_tail(t, n_window)
            else:
                null = [s[k - 1] for s in null_statistics.get(f"h{dim}", []) if len(s) >= k]
                p = (1 + sum(v >= t for v in null)) / (1 + len(null))
            gaps.append(
                GapTest(dim, k, t, p, min(1.0, p * tested), n_window, float(life[k - 1]), float(life[k]))
            )
        out[dim] = gaps
    return out


def significant_counts(
    lifetimes: list[np.ndarray],
    config: SignificanceConfig,
    null_statistics: dict[str, list[list[float]]] | None = None,
    n_alive: dict[int, int] | None = None,
) -> dict[str, int]:
    """{"h1": n, …}: real bars per dimension by the gap tests, before any refusal."""
    tests = gap_tests(lifetimes, config, null_statistics, n_alive)
    return {f"h{dim}": count_from_gaps(gaps, config.alpha) for dim, gaps in tests.items()}


def null_gap_statistics(
    lifetimes: list[np.ndarray], config: SignificanceConfig, n_alive: dict[int, int] | None = None
) -> dict[str, list[float]]:
    """T_1..T_m of one (shuffled) diagram per dimension ≥ 1, 0 where a position cannot be tested."""
    out = {}
    for dim in range(1, len(lifetimes)):
        tested = tested_positions(dim, config)
        alive = (n_alive or {}).get(dim, 0)
        stats = dict((k, t) for k, t, _ in gap_statistics(lifetimes[dim], tested, config.window, alive))
        out[f"h{dim}"] = [stats.get(k, 0.0) for k in range(1, tested + 1)]
    return out


def verdict(significant: dict[str, int]) -> tuple[str, str]:
    """("torus" | "ring" | "none", evidence sentence) from significant bar counts."""
    h1 = significant.get("h1", 0)
    h2 = significant.get("h2")
    counts = f"{h1} significant H1 bar{'s' if h1 != 1 else ''}"
    if h2 is not None:
        counts += f" and {h2} significant H2 bar{'s' if h2 != 1 else ''}"
    if h1 == 2 and h2 in (None, 1):
        return "torus", counts + ": the population activity lies on a torus"
    if h1 == 1 and h2 in (None, 0):
        return "ring", counts + ": the population activity lies on a ring"
    if h1 == 2:
        return "none", counts + ": two circles but no enclosed surface, not a torus (try more H2 landmarks)"
    return "none", counts + (
        ": neither a ring (one loop, no enclosed surface) nor a torus (two loops, one enclosed surface)"
    )


NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _loops(n: int, what: str = "loop") -> str:
    """'no significant loop', 'one significant loop', 'two significant loops'."""
    word = NUMBER_WORDS[n] if n < len(NUMBER_WORDS) else str(n)
    return f"{word} significant {what}{'s' if n > 1 else ''}"


def _deciding_p(sig: Significance, dim: int, count: int) -> float | None:
    """The adjusted p-value behind ``count`` bars of dimension ``dim``: the gap below the count-th bar when
    some are counted, else the clearest gap tested (None when no gap was tested)."""
    gaps = [g for g in sig.gaps if g.dim == dim]
    if count:
        gap = next((g for g in gaps if g.k == count), None)
    else:
        gap = min(gaps, key=lambda g: (g.p_adjusted, -g.statistic), default=None)
    return gap.p_adjusted if gap is not None else None


def verdict_words(sig: Significance) -> tuple[str, str]:
    """(headline, explanation) of a verdict in plain words, with the p-values behind it: ("Ring", "one
    significant loop (gap test p = 0.003): the population activity lies on a ring, a single circle").

    The words only read :class:`Significance` (counts, gaps, refusals): they never change what was decided.
    A loop is an H1 bar, an enclosed surface an H2 bar; p is Bonferroni-adjusted as in the test.
    """
    h1 = sig.significant.get("h1", 0)
    h2 = sig.significant.get("h2")
    p1, p2 = _deciding_p(sig, 1, h1), _deciding_p(sig, 2, h2 or 0) if h2 is not None else None
    test = sig.method or "gap test"
    if h1:
        loops = f"{_loops(h1)} ({test} p = {format_p(p1)})" if p1 is not None else _loops(h1)
    else:
        clearest = f"; the clearest gap has p = {format_p(p1)}" if p1 is not None else ""
        loops = f"{_loops(0)} ({test}, α = {sig.alpha:g}{clearest})"
    if h2 is not None:
        surface = _loops(h2, "enclosed surface")
        loops += f" and {surface}" + (f" (p = {format_p(p2)})" if h2 and p2 is not None else "")
    if sig.reasons:
        return "No claim", f"{loops}, but " + "; ".join(sig.reasons)
    if sig.verdict == "ring":
        return "Ring", f"{loops}: the population activity lies on a ring, a single circle"
    if sig.verdict == "torus":
        return "Torus", f"{loops}: the population activity lies on a torus, two independent circles"
    if h1 == 0:
        clearest = (
            f"{test}: the clearest gap has p = {format_p(p1)}, α = {sig.alpha:g}" if p1 is not None else test
        )
        surface = f"; {_loops(h2, 'enclosed surface')}" if h2 else ""
        return (
            "No ring or torus",
            f"no loop stands out from the noise ({clearest}{surface}) at these settings",
        )
    if h1 == 2 and h2 == 0:
        return "No torus", f"{loops}: a torus also encloses one surface (more H2 landmarks may find it)"
    return (
        "No ring or torus",
        f"{loops}: a ring has one loop and no enclosed surface, a torus two loops and one",
    )


def verdict_sentence(sig: Significance) -> str:
    """The verdict in one plain sentence with its p-values (:func:`verdict_words`), e.g. "Ring: one
    significant loop (gap test p = 0.003): the population activity lies on a ring, a single circle." """
    headline, explanation = verdict_words(sig)
    return f"{headline}: {explanation}."


@dataclass(frozen=True)
class DataSupport:
    """What the data can support: units with enough spikes, the cloud's large pieces where the loop lives,
    whether a tested bar never died, and how the counted circles relate to behaviour."""

    n_units_usable: int
    n_units: int
    pieces: list[int] = field(default_factory=list)  # sizes (points) of the large pieces where the loop lives
    alive_tested: bool = False  # a tested bar never died
    # |circular correlation| of the first counted circle with head direction; None when not measured
    head_direction_correlation: float | None = None
    # (periods across the arena, resultant explained by position) of each counted circle
    # (core.behaviour.spatial_phase_map); empty when position is not recorded
    circle_maps: list[tuple[float, float]] = field(default_factory=list)


def cloud_pieces(distances: np.ndarray, epsilon: float, min_fraction: float) -> list[int]:
    """Sizes (points) of the connected pieces of the Rips graph at ``epsilon`` holding ≥ ``min_fraction`` of
    the points, largest first."""
    n = distances.shape[0]
    _, labels = connected_components(distances < epsilon, directed=False)
    sizes = np.bincount(labels)
    return sorted((int(s) for s in sizes if s >= min_fraction * n), reverse=True)


def refusals(
    counts: dict[str, int], support: DataSupport, config: SignificanceConfig, enough_bars: bool
) -> list[str]:
    """Reasons that forbid claiming a ring or torus from these counts (empty: the counts stand)."""
    h1 = counts.get("h1", 0)
    reasons = []
    if support.alive_tested:
        reasons.append(
            "undetermined: a tested H1 bar never dies in the neighbour graph, so its length is unknown"
        )
    if not enough_bars:
        reasons.append(f"too few H1 bars to estimate the noise (a gap test needs ≥ {MIN_WINDOW + 2})")
    if h1 >= 1 and len(support.pieces) > 1:
        sizes = ", ".join(str(s) for s in support.pieces)
        reasons.append(
            "fragmented cloud: halfway through the loop's life the points still fall apart into "
            f"{len(support.pieces)} large pieces ({sizes} points), so the loop is not a property "
            "of the whole population"
        )
    hd = support.head_direction_correlation
    compass = hd is not None and hd >= HEAD_DIRECTION_FOLLOWED
    spatial = [m for m in support.circle_maps if m[1] >= POSITION_EXPLAINED]
    places = sorted(m for m in spatial if m[0] < PLACE_LOOP_PERIODS)
    if h1 >= 1 and places and not compass:
        periods, explained = places[0]
        reasons.append(
            f"the loop is a loop of places: where the animal is explains a decoded phase (resultant "
            f"{explained:.2f} within 10 × 10 bins of the arena) and it turns only {periods:.2f} times "
            "across the arena"
            + (f", while head direction does not follow it ({hd:.2f})" if hd is not None else "")
            + "; place cells on a path that loops give this, a grid module's phases repeat across the arena "
            "and an attractor ring follows head direction"
        )
    elif h1 == 1 and spatial and not compass:
        periods, explained = spatial[0]
        reasons.append(
            f"the ring's phase repeats across the arena ({periods:.1f} periods; position explains it, "
            f"resultant {explained:.2f}) while head direction does not follow it: one circle of a grid "
            "torus whose second circle did not reach significance, not a ring attractor"
        )
    usable = support.n_units_usable
    if h1 >= 2 and usable < config.min_units_torus:
        reasons.append(
            f"too few units for a torus: {usable} of {support.n_units} have ≥ {config.min_spikes_per_unit} "
            f"spikes, a torus needs ≥ {config.min_units_torus}"
        )
    elif h1 >= 1 and usable < config.min_units_ring:
        reasons.append(
            f"too few units for a ring: {usable} of {support.n_units} have ≥ {config.min_spikes_per_unit} "
            f"spikes, a ring needs ≥ {config.min_units_ring}"
        )
    return reasons


def decide(
    lifetimes: list[np.ndarray],
    support: DataSupport,
    config: SignificanceConfig,
    null_statistics: dict[str, list[list[float]]] | None = None,
    n_alive: dict[int, int] | None = None,
) -> Significance:
    """Gap tests (F law, or the shuffles' statistics when given), counts, refusals and the verdict."""
    tests = gap_tests(lifetimes, config, null_statistics, n_alive)
    significant, thresholds, bar_p = {}, {}, {}  # per dimension
    for dim, gaps in tests.items():
        tested = tested_positions(dim, config)
        n = count_from_gaps(gaps, config.alpha)
        significant[f"h{dim}"] = n
        thresholds[f"h{dim}"] = threshold_from_gaps(lifetimes[dim], gaps, n, config.alpha, tested)
        bar_p[f"h{dim}"] = bar_p_values(gaps, min(tested + 1, sorted_lifetimes(lifetimes[dim]).size))
    enough = bool(tests.get(1))
    reasons = refusals(significant, support, config, enough)
    shuffles = null_statistics is not None
    n_null = len(next(iter(null_statistics.values()), [])) if shuffles else 0
    needed = int(np.floor(config.max_bars / config.alpha + 1e-9))  # max_bars / (1 + n) < α
    if shuffles and n_null < needed and not significant.get("h1"):
        reasons.append(
            f"{n_null} shuffles cannot show significance at α = {config.alpha:g} over {config.max_bars} "
            f"positions: the smallest p-value they give is 1/{n_null + 1}; use at least {needed} shuffles"
        )
    v, evidence = verdict(significant)
    if reasons:
        v = "none"
        evidence = f"{evidence.split(':')[0]}, but no claim: " + "; ".join(reasons)
    method = "shuffle test" if shuffles else "gap test"
    test = (
        f"{method}: gaps between the longest bars"
        + (f" against {n_null} circular-shift shuffles" if shuffles else " (F law of exponential spacings)")
        + f", α = {config.alpha:g} per dimension, Bonferroni over {config.max_bars} H1 positions"
    )
    return Significance(
        significant=significant,
        method=method,
        thresholds=thresholds,
        null_maxima={k: [max(s, default=0.0) for s in v] for k, v in (null_statistics or {}).items()},
        verdict=v,
        evidence=f"{evidence} ({test})",
        test=test,
        alpha=config.alpha,
        gaps=[g for gaps in tests.values() for g in gaps],
        bar_p_values=bar_p,
        reasons=reasons,
    )


def shift_recording(recording: Recording, rng: np.random.Generator, min_shift_s: float) -> Recording:
    """A copy whose units are each shifted circularly in time by an independent random offset (s), along the
    gap-free time axis (spikes never land in a gap between concatenated epochs)."""
    epochs = find_epochs(recording.t)
    t0, t1 = float(recording.t[0]), float(recording.t[-1])
    span = float(np.sum(epochs[:, 1] - epochs[:, 0]))
    lo = min(min_shift_s, span / 2)
    offsets = rng.uniform(lo, span - lo, recording.n_units)
    if recording.rates is not None:
        steps = np.round(offsets / (t1 - t0) * recording.t.size).astype(int)
        rates = np.stack([np.roll(recording.rates[:, j], s) for j, s in enumerate(steps)], axis=1)
        trains = recording.spike_times
    else:
        rates = None
        trains = [
            np.sort(expand_times(np.mod(collapse_times(s, epochs) + off, span), epochs))
            for s, off in zip(recording.spike_times, offsets, strict=True)
        ]
    return Recording(
        unit_ids=recording.unit_ids,
        spike_times=trains,
        t=recording.t,
        x=recording.x,
        y=recording.y,
        hd=recording.hd,
        rates=rates,
        metadata={"shuffle_of": recording.sha256},
    )
