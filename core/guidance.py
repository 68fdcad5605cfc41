"""What to try after a ``none`` or a doubtful verdict: next steps computed from the :class:`Significance`
(its refusal reasons, counts and p-values), the config that produced it and the recording's
:class:`~core.presets.DataProfile`.

Each :class:`Step` has a label, an explanation and the change it makes (another preset, or parameter values
by dotted path); a step without a change only says what the data lack (too few units, a cloud in pieces),
since no parameter fixes that. The rules:

- A refusal names its cause, and the step answers it: too few units → what is missing (no button); a
  fragmented cloud → a unit subset (Views → Units…, ``canns-asa --module``; no button, the subset is the
  user's choice); a tested bar that never dies → more metric neighbours; too few bars for the noise estimate
  → more points; too few shuffles → 100 shuffles; one circle of a grid torus → the grid preset; a loop of
  places → what it is (no button).
- ``none`` without a refusal (no loop, or a loop count that is neither shape): the other presets, the one
  that fits the data profile first (a small ensemble, ≤ 40 units: ``hd``; a larger population:
  ``grid``), since a preset chosen for the wrong kind of population smooths and samples the activity at the
  wrong scale; and the shuffle test, a second test with another null (circular-shift shuffles keep every
  unit's rate and autocorrelation) when the gap test was used. Two loops without their enclosed surface:
  more H2 landmarks.
- A ring or torus whose deciding gap has p within a factor :data:`DOUBTFUL_FACTOR` of α is doubtful (a p that
  close to α can cross it under a small change of parameters or seed): the shuffle test confirms it or not.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config, field_specs
from core.pipeline import PRESETS, AnalysisConfig
from core.presets import SMALL_POPULATION, DataProfile
from core.significance import Significance, format_p

SHUFFLES = 100  # shuffles a suggested shuffle test runs: p down to 1/101, below α = 0.05 over 3 positions
DOUBTFUL_FACTOR = 10.0  # a claim whose deciding p is above α / this is doubtful

# the openings of the refusal reasons of core.significance.refusals and decide (tests/test_guidance.py checks
# that every reason it can give is recognised here)
UNDETERMINED = "undetermined:"
FEW_BARS = "too few H1 bars"
FRAGMENTED = "fragmented cloud:"
PLACE_LOOP = "the loop is a loop of places"
GRID_CIRCLE = "the ring's phase repeats across the arena"
FEW_UNITS = "too few units for a"
FEW_SHUFFLES = " shuffles cannot show significance"

PRESET_WORDS = {
    "hd": "settings for ~20 head-direction cells: 0.1 s smoothing, no speed filter, 600 points",
    "grid": "Gardner et al. (2022)'s settings for a grid module of ~100 cells: 0.05 s smoothing, speed "
    "filter at 2.5 cm/s, 1,200 points",
    "auto": "settings chosen from this recording's units, rates, duration and behaviour",
}


@dataclass(frozen=True)
class Step:
    """One next step. label: what a button says. explanation: why, in a sentence or two. preset: a preset to
    apply (values the user typed are kept), or None. values: (dotted path, value) pairs to set, e.g.
    (("significance.n_shuffles", 100),). A step with neither only informs."""

    label: str
    explanation: str
    preset: str | None = None
    values: tuple[tuple[str, object], ...] = ()

    @property
    def actionable(self) -> bool:
        return self.preset is not None or bool(self.values)

    def cli_args(self) -> list[str]:
        """The same change as ``canns-asa run`` options (empty for a step that only informs)."""
        args = ["--preset", self.preset] if self.preset else []
        for path, value in self.values:
            args += ["--set", f"{path}={_text(value)}"]
        return args


def _text(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return "none" if value is None else str(value)


def preset_base(config: AnalysisConfig) -> str:
    """The preset a config came from: "auto (19 units, …)" → "auto"."""
    return config.preset.split(" (")[0]


def _field_max(config: Config, name: str) -> float:
    spec = next(s for s in field_specs(type(config)) if s.name == name)
    return dict(spec.meta).get("max", float("inf"))


def shuffle_step(config: AnalysisConfig, n: int = SHUFFLES, why: str = "") -> Step:
    return Step(
        f"Run the shuffle test ({n} shuffles)",
        (why + " " if why else "")
        + f"The shuffle test compares each gap with {n} copies of the recording whose units are shifted in "
        "time independently (each unit keeps its rate and rhythm, their joint structure is gone); it takes "
        f"about {n} times as long as one barcode, on {config.significance.n_jobs} processes.",
        values=(("significance.n_shuffles", n),),
    )


def preset_steps(config: AnalysisConfig, profile: DataProfile | None) -> list[Step]:
    """ "Try the <preset> preset" for each preset other than the current one; first the one that fits the
    data profile (a small ensemble: hd; a larger population: grid)."""
    current = preset_base(config)
    small = profile is not None and profile.n_units <= SMALL_POPULATION
    order = ("hd", "grid") if small else ("grid", "hd")
    steps = []
    for name in (*order, "auto"):
        if name == current or name not in PRESETS:
            continue
        fit = ""
        if profile is not None and name == "hd" and small:
            fit = f" This recording's {profile.n_units} units are the size of a head-direction ensemble."
        elif profile is not None and name == "grid" and not small:
            fit = f" This recording's {profile.n_units} units are the size of a grid module."
        steps.append(
            Step(f"Try the {name} preset", f"The {name} preset: {PRESET_WORDS[name]}.{fit}", preset=name)
        )
    return steps


def _reason_steps(
    reason: str, sig: Significance, config: AnalysisConfig, profile: DataProfile | None
) -> list:
    pc = config.point_cloud
    if reason.startswith(FEW_UNITS):
        return [
            Step(
                "Too few units",
                reason[:1].upper()
                + reason[1:]
                + ". No parameter makes up for missing units: record more cells, or a longer session so "
                "that more of them reach the spike count.",
            )
        ]
    if reason.startswith(FRAGMENTED):
        return [
            Step(
                "The cloud falls apart",
                "The points form separate pieces, so the units may come from more than one population (two "
                "grid modules, or cells of different kinds). Analyse a subset of the units (one module) on "
                "its own: Views → Units… in the app, or canns-asa run --module N (or --units, --query).",
            )
        ]
    if reason.startswith(PLACE_LOOP):
        return [
            Step(
                "A loop of places",
                "The loop follows where the animal is: place cells on a path that loops give it. It is "
                "behaviour, not an attractor manifold; no parameter changes that.",
            )
        ]
    if reason.startswith(UNDETERMINED):
        more = min(pc.n_points - 1, max(pc.n_neighbors_metric + 1, (5 * pc.n_points) // 6))
        if more <= pc.n_neighbors_metric:
            return []
        return [
            Step(
                f"Use {more} metric neighbours",
                f"A tested loop never fills in the neighbour graph of {pc.n_neighbors_metric} neighbours, so "
                f"its length is unknown; with {more} neighbours per point the graph is denser and the loop "
                "can close.",
                values=(("point_cloud.n_neighbors_metric", more),),
            )
        ]
    if reason.startswith(FEW_BARS):
        more = int(min(_field_max(pc, "n_points"), 2 * pc.n_points))
        if more <= pc.n_points:
            return []
        return [
            Step(
                f"Use {more} points",
                f"{pc.n_points} points gave too few small loops to estimate the noise level; {more} points "
                "give more of them (homology then takes about four times as long).",
                values=(("point_cloud.n_points", more),),
            )
        ]
    if FEW_SHUFFLES in reason:
        needed = int(reason.rsplit("at least ", 1)[-1].split()[0]) if "at least " in reason else SHUFFLES
        return [shuffle_step(config, max(SHUFFLES, needed), "Too few shuffles for α.")]
    if reason.startswith(GRID_CIRCLE):
        steps = []
        if preset_base(config) != "grid":
            steps.append(
                Step(
                    "Try the grid preset",
                    "The ring repeats across the arena, as one circle of a grid module's torus does; the "
                    f"grid preset ({PRESET_WORDS['grid']}) may find the second circle.",
                    preset="grid",
                )
            )
        if sig.method != "shuffle test":
            steps.append(shuffle_step(config, why="The second circle may be real but weaker."))
        return steps
    return []


def next_steps(sig: Significance, config: AnalysisConfig, profile: DataProfile | None = None) -> list[Step]:
    """What to try after ``sig`` (see the module doc): empty after a clear ring or torus."""
    steps: list[Step] = []
    for reason in sig.reasons:
        for step in _reason_steps(reason, sig, config, profile):
            if step.label not in {s.label for s in steps}:
                steps.append(step)
    if sig.reasons:
        return steps
    shuffled = sig.method == "shuffle test"
    h1, h2 = sig.significant.get("h1", 0), sig.significant.get("h2")
    if sig.verdict == "none":
        if h1 == 2 and h2 == 0:
            pers = config.persistence
            more = int(min(_field_max(pers, "n_landmarks_h2"), 2 * pers.n_landmarks_h2))
            if more > pers.n_landmarks_h2:
                steps.append(
                    Step(
                        f"Use {more} H2 landmarks",
                        f"Two loops but no enclosed surface among {pers.n_landmarks_h2} landmarks: the "
                        f"surface of a torus may only show with more points ({more}).",
                        values=(("persistence.n_landmarks_h2", more),),
                    )
                )
        steps += preset_steps(config, profile)
        if not shuffled:
            steps.append(shuffle_step(config, why="A second test, with another null hypothesis."))
        return steps
    gap = next((g for g in sig.gaps if g.dim == 1 and g.k == h1), None)
    if gap is not None and gap.p_adjusted * DOUBTFUL_FACTOR > sig.alpha and not shuffled:
        steps.append(
            shuffle_step(
                config,
                why=f"The {sig.verdict} is borderline: p = {format_p(gap.p_adjusted)} is close to "
                f"α = {sig.alpha:g}, so a small change of parameters could undo it.",
            )
        )
    return steps
