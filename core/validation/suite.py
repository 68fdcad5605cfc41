"""The validation suite: named cases with known answers, and how a pipeline result is scored against them.

``build_suite(n_per_case, seed)`` returns light, picklable :class:`Case` objects (a generator name, its
keyword arguments and the transforms to apply); ``case.build()`` makes the recording, so a process pool can
build each one where it is analysed. ``evaluate(recording, truth, result)`` scores one result: verdict
correct or not, decoding agreement with the true angle (rings), ROC AUC of gridness for labelled grid
populations. ``summarise(rows)`` turns the per-recording rows into the figures the benchmark reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter

from core.recording import Recording
from core.validation import recordings as gen
from core.validation.trajectories import arena_size_cm

VERDICTS = ("ring", "torus", "none")
TARGETS = {
    "percent_correct": 95.0,  # ≥
    "null_false_positive_percent": 5.0,  # ≤
    "tori_from_fewer_than_20_cells": 0,  # ==
    "circular_correlation": 0.8,  # ≥ (median per case)
    "median_error_deg": 25.0,  # ≤ (median per case)
}
FEW_CELLS = 20  # a torus claimed from fewer units than this is always wrong
MAX_UNITS = 120  # largest recording of the suite

GENERATORS: dict[str, Callable[..., tuple[Recording, str]]] = {
    "head_direction_ensemble": gen.head_direction_ensemble,
    "sleep_head_direction": gen.sleep_head_direction,
    "grid_population": gen.grid_population,
    "place_cell_population": gen.place_cell_population,
}
TRANSFORMS: dict[str, Callable[..., Recording]] = {
    "rebin_spikes": gen.rebin_spikes,
    "sample_and_hold": gen.sample_and_hold,
    "cut_gaps": gen.cut_gaps,
    "circular_shift_null": gen.circular_shift_null,
    "rate_matched_poisson": gen.rate_matched_poisson,
}


@dataclass(frozen=True)
class Case:
    """One recording of the suite, not yet generated: ``build()`` makes it (deterministic)."""

    name: str
    family: str
    truth: str
    seed: int
    generator: str
    kwargs: dict
    transforms: tuple = ()
    is_null: bool = False
    meta: dict = field(default_factory=dict)

    def build(self) -> Recording:
        """The recording, with ``metadata`` holding the case, generator, parameters, seed and truth."""
        recording, _ = GENERATORS[self.generator](**self.kwargs)
        for name, params in self.transforms:
            recording = TRANSFORMS[name](recording, **params)
        recording.metadata.update(case=self.name, family=self.family, truth=self.truth, case_seed=self.seed)
        return recording


# --------------------------------------------------------------------------------------------- families


def _duration(rng: np.random.Generator, arena: str, low_s: float = 300.0, high_s: float = 1200.0) -> float:
    """A session length (s) in [low, high], at most what the arena's dataset holds (box100: 590 s)."""
    cap = 590.0 if arena in ("box100", "centred330") else high_s
    return float(np.round(rng.uniform(low_s, min(high_s, cap)), -1))


def _hd_kwargs(
    rng: np.random.Generator, seed: int, low_s: float = 300.0, arenas: tuple[str, ...] = ("box100", "tanni")
) -> dict:
    arena = str(rng.choice(list(arenas)))
    return {
        "n_units": int(rng.integers(6, 31)),
        "duration_s": _duration(rng, arena, low_s, 900.0),
        "arena": arena,
        "weak_fraction": float(rng.uniform(0.1, 0.3)),
        "seed": seed,
    }


def _spacing(rng: np.random.Generator, arena: str) -> float:
    """A grid spacing (cm) from 40 cm to 0.6 × the arena's shorter side (beyond half the box)."""
    return float(np.round(rng.uniform(40.0, 0.6 * min(arena_size_cm(arena))), 1))


def _grid_kwargs(
    rng: np.random.Generator, seed: int, arenas: list[str], n_range: tuple[int, int], others: bool = True
) -> dict:
    arena = str(rng.choice(arenas))
    n = int(rng.integers(n_range[0], n_range[1] + 1))
    return {
        "modules": [(n, _spacing(rng, arena))],
        "n_other": int(rng.integers(0, min(n // 5, MAX_UNITS - n) + 1)) if others else 0,
        "duration_s": _duration(rng, arena, 400.0, 1200.0),
        "arena": arena,
        "model": str(rng.choice(["ratinabox", "three_cosine"])),
        "seed": seed,
    }


def _mixed_kwargs(rng: np.random.Generator, seed: int) -> dict:
    """One dominant module (40–100 units) and 1–2 small ones (6–15 units), spacings ×1.42 apart."""
    kw = _grid_kwargs(rng, seed, ["box100", "tanni", "tanni_centred"], (40, 100))
    n_main, spacing = kw["modules"][0]
    spacing = min(spacing, 0.35 * min(arena_size_cm(kw["arena"])))
    small = [
        (int(rng.integers(6, 16)), round(spacing * 1.42 ** (k + 1), 1)) for k in range(rng.integers(1, 3))
    ]
    kw["n_other"] = int(rng.integers(5, 21))
    n_main = min(n_main, MAX_UNITS - kw["n_other"] - sum(n for n, _ in small))
    kw["modules"] = [(n_main, spacing), *small]
    return kw


def _family_specs(family: str, rng: np.random.Generator, seed: int) -> tuple[str, dict, list]:
    """(generator, kwargs, transforms) of one recording of ``family``."""
    sub = int(rng.integers(0, 2**31 - 1))
    hold = ("sample_and_hold", {"rate_hz": float(rng.choice([39.0, 30.0]))})
    gaps = ("cut_gaps", {"n_gaps": int(rng.integers(80, 121)), "seed": sub})
    rebin = ("rebin_spikes", {"bin_s": 0.01, "max_per_bin": 3})
    tanni_hd = _hd_kwargs(rng, seed, 600.0, ("tanni",))  # room for ~100 gaps
    specs: dict[str, Callable[[], tuple[str, dict, list]]] = {
        "hd_awake": lambda: ("head_direction_ensemble", _hd_kwargs(rng, seed), []),
        "hd_binned": lambda: ("head_direction_ensemble", _hd_kwargs(rng, seed), [rebin]),
        "hd_held": lambda: ("head_direction_ensemble", _hd_kwargs(rng, seed), [hold]),
        "hd_gaps": lambda: ("head_direction_ensemble", tanni_hd, [gaps]),
        "hd_lab_export": lambda: ("head_direction_ensemble", tanni_hd, [rebin, hold, gaps]),
        "hd_sleep": lambda: ("sleep_head_direction", _sleep_kwargs(rng, seed), []),
        "grid_module": lambda: (
            "grid_population",
            _grid_kwargs(rng, seed, ["box100", "tanni"], (30, 120)),
            [],
        ),
        "grid_offset_arena": lambda: (
            "grid_population",
            _grid_kwargs(rng, seed, ["centred330", "tanni_centred"], (30, 120)),
            [],
        ),
        "grid_mixed_modules": lambda: ("grid_population", _mixed_kwargs(rng, seed), []),
        "grid_lab_export": lambda: (
            "grid_population",
            _grid_kwargs(rng, seed, ["tanni", "tanni_centred"], (40, 100)),
            [rebin, ("sample_and_hold", {"rate_hz": 30.0}), gaps],
        ),
        "grid_few": lambda: (
            "grid_population",
            _grid_kwargs(rng, seed, ["box100", "tanni"], (6, gen.FEW_MAX_CELLS), others=False),
            [],
        ),
        "place_cells": lambda: ("place_cell_population", _place_kwargs(rng, seed), []),
        "null_shift_hd": lambda: ("head_direction_ensemble", _hd_kwargs(rng, seed), [_shift(sub)]),
        "null_shift_grid": lambda: (
            "grid_population",
            _grid_kwargs(rng, seed, ["box100", "tanni_centred"], (30, 100)),
            [_shift(sub)],
        ),
        "null_poisson_hd": lambda: ("head_direction_ensemble", _hd_kwargs(rng, seed), [_poisson(sub, rng)]),
        "null_poisson_grid": lambda: (
            "grid_population",
            _grid_kwargs(rng, seed, ["box100", "tanni"], (30, 100)),
            [_poisson(sub, rng)],
        ),
    }
    return specs[family]()


def _sleep_kwargs(rng: np.random.Generator, seed: int) -> dict:
    return {
        "n_units": int(rng.integers(6, 31)),
        "duration_s": float(np.round(rng.uniform(300.0, 900.0), -1)),
        "angular_sd_rad_s": float(rng.uniform(2.0, 5.0)),
        "weak_fraction": float(rng.uniform(0.1, 0.3)),
        "seed": seed,
    }


def _place_kwargs(rng: np.random.Generator, seed: int) -> dict:
    arena = str(rng.choice(["box100", "tanni", "tanni_centred"]))
    return {
        "n_units": int(rng.integers(30, 101)),
        "duration_s": _duration(rng, arena, 400.0, 1200.0),
        "arena": arena,
        "seed": seed,
    }


def _shift(seed: int) -> tuple[str, dict]:
    return ("circular_shift_null", {"seed": seed, "min_shift_s": 20.0})


def _poisson(seed: int, rng: np.random.Generator) -> tuple[str, dict]:
    return ("rate_matched_poisson", {"seed": seed, "slow": bool(rng.random() < 0.5)})


FAMILIES: dict[str, str] = {  # family → truth
    "hd_awake": "ring",
    "hd_binned": "ring",
    "hd_held": "ring",
    "hd_gaps": "ring",
    "hd_lab_export": "ring",
    "hd_sleep": "ring",
    "grid_module": "torus",
    "grid_offset_arena": "torus",
    "grid_mixed_modules": "torus",
    "grid_lab_export": "torus",
    "grid_few": "none",
    "place_cells": "none",
    "null_shift_hd": "none",
    "null_shift_grid": "none",
    "null_poisson_hd": "none",
    "null_poisson_grid": "none",
}


def build_suite(n_per_case: int = 8, seed: int = 0, families: Iterable[str] | None = None) -> list[Case]:
    """``n_per_case`` recordings of every family (16 families: 128 at the default); deterministic.

    Nothing is generated here; call ``case.build()``.
    """
    cases = []
    names = list(FAMILIES)
    for family in families or names:
        rng = np.random.default_rng(
            [seed, names.index(family)]
        )  # a family's cases never depend on the others
        for i in range(n_per_case):
            case_seed = int(rng.integers(0, 2**31 - 1))
            generator, kwargs, transforms = _family_specs(family, rng, case_seed)
            cases.append(
                Case(
                    name=f"{family}/{i:02d}",
                    family=family,
                    truth=FAMILIES[family],
                    seed=case_seed,
                    generator=generator,
                    kwargs=kwargs,
                    transforms=tuple(transforms),
                    is_null=family.startswith("null_"),
                )
            )
    return cases


# --------------------------------------------------------------------------------------------- scoring


def angle_at(t_query: np.ndarray, t: np.ndarray, angle_rad: np.ndarray) -> np.ndarray:
    """An angle (rad) sampled at ``t`` (s) read at ``t_query`` (s): the nearest sample at or before."""
    k = np.clip(np.searchsorted(t, t_query, side="right") - 1, 0, t.size - 1)
    return np.asarray(angle_rad)[k]


def decoding_agreement(recording: Recording, decoding: Any) -> dict | None:
    """Agreement of the best decoded circle with the true angle: circular correlation (|Fisher–Lee|) and
    median error (deg) after the best rotation and reflection; None without a true angle or a decoding."""
    from core.decoding import head_direction_agreement

    truth = recording.metadata.get("true_angle_rad")
    theta = None if decoding is None else getattr(decoding, "theta", None)
    if truth is None or theta is None or np.size(theta) == 0:
        return None
    theta = np.asarray(theta).reshape(len(decoding.t), -1)
    true = angle_at(np.asarray(decoding.t), np.asarray(recording.t), truth)
    best = None
    for c in range(theta.shape[1]):
        agree = head_direction_agreement(theta[:, c], true)
        if best is None or agree["circular_correlation"] > best["circular_correlation"]:
            best = {**agree, "circle": c}
    return best


def rate_maps(recording: Recording, bin_cm: float | None = None) -> tuple[np.ndarray, float]:
    """(N, ny, nx) occupancy-normalised, Gaussian-smoothed rate maps (Hz) and their bin size (cm).

    The bin is 2.5 cm, or 1/40 of the shorter visited side when that is larger; σ = 1.2 bins. Bins whose
    smoothed occupancy is under 0.02 s are NaN. Gaps in ``t`` count no occupancy.
    """
    t, x, y = np.asarray(recording.t), np.asarray(recording.x), np.asarray(recording.y)
    if bin_cm is None:
        bin_cm = max(2.5, min(np.ptp(x), np.ptp(y)) / 40.0)
    xe = np.arange(x.min(), x.max() + bin_cm, bin_cm)
    ye = np.arange(y.min(), y.max() + bin_cm, bin_cm)
    dt = np.diff(t, append=t[-1])
    dt[dt > 1.5 * np.median(dt)] = 0.0
    occ = gaussian_filter(np.histogram2d(y, x, [ye, xe], weights=dt)[0], 1.2)
    maps = []
    for s in recording.spike_times:
        k = np.clip(np.searchsorted(t, s, side="right") - 1, 0, t.size - 1)
        counts = gaussian_filter(np.histogram2d(y[k], x[k], [ye, xe])[0], 1.2)
        with np.errstate(invalid="ignore", divide="ignore"):
            maps.append(np.where(occ >= 0.02, counts / occ, np.nan))
    return np.asarray(maps), float(bin_cm)


def roc_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(score of a positive > score of a negative), ties counting ½; NaN scores rank lowest."""
    pos = np.nan_to_num(np.asarray(positive, dtype=float), nan=-np.inf)
    neg = np.nan_to_num(np.asarray(negative, dtype=float), nan=-np.inf)
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (pos.size * neg.size))


def gridness_auc(recording: Recording) -> dict | None:
    """ROC AUC of gridness (``core.views.gridscore.gridness_of_maps``) separating the labelled grid units
    from the others; None without position or without both kinds of unit."""
    labels = recording.metadata.get("is_grid")
    if labels is None or not recording.has_position:
        return None
    labels = np.asarray(labels, dtype=bool)
    if labels.all() or not labels.any():
        return None
    from core.views.gridscore import gridness_of_maps

    maps, bin_cm = rate_maps(recording)
    score = np.asarray(gridness_of_maps(maps, bin_cm)["gridness"])
    return {
        "auc": roc_auc(score[labels], score[~labels]),
        "median_gridness_grid": float(np.nanmedian(score[labels])),
        "median_gridness_other": float(np.nanmedian(score[~labels])),
        "n_grid": int(labels.sum()),
        "n_other": int((~labels).sum()),
    }


def evaluate(recording: Recording, truth: str, result: Any, grid_auc: bool = True) -> dict:
    """One row of the report: truth, verdict, correct, units, decoding agreement, gridness AUC.

    ``result`` needs ``.verdict`` and optionally ``.decoding`` (``.theta`` n_bins × n_circles rad, ``.t`` s).
    """
    verdict = str(getattr(result, "verdict", "error"))
    row: dict[str, Any] = {
        "truth": truth,
        "verdict": verdict,
        "correct": verdict == truth,
        "n_units": recording.n_units,
        "duration_s": recording.duration_s,
        "torus_from_few_cells": verdict == "torus" and recording.n_units < FEW_CELLS,
    }
    if truth == "ring":
        row["decoding"] = decoding_agreement(recording, getattr(result, "decoding", None))
    if grid_auc:
        row["gridness"] = gridness_auc(recording)
    return row


# --------------------------------------------------------------------------------------------- summary


def confusion_matrix(rows: list[dict]) -> dict[str, dict[str, int]]:
    """{truth: {verdict: count}} over ring / torus / none (any other verdict counts as "other")."""
    out = {t: dict.fromkeys((*VERDICTS, "other"), 0) for t in VERDICTS}
    for r in rows:
        v = r["verdict"] if r["verdict"] in VERDICTS else "other"
        out[r["truth"]][v] += 1
    return out


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def decoding_by_family(rows: list[dict]) -> dict[str, dict]:
    """Per family: how many rings were decoded, median and worst circular correlation, median error (deg)."""
    out: dict[str, dict] = {}
    for r in rows:
        if r.get("truth") != "ring":
            continue
        d = out.setdefault(r["family"], {"n": 0, "n_decoded": 0, "cc": [], "err": []})
        d["n"] += 1
        if r.get("decoding"):
            d["n_decoded"] += 1
            d["cc"].append(r["decoding"]["circular_correlation"])
            d["err"].append(r["decoding"]["median_error_deg"])
    return {
        fam: {
            "n": d["n"],
            "n_decoded": d["n_decoded"],
            "median_cc": _median(d["cc"]),
            "worst_cc": float(min(d["cc"])) if d["cc"] else None,
            "median_error_deg": _median(d["err"]),
            "worst_error_deg": float(max(d["err"])) if d["err"] else None,
        }
        for fam, d in out.items()
    }


def summarise(rows: list[dict]) -> dict:
    """The benchmark's figures from per-recording rows (each with family, truth, verdict, is_null, …)."""
    nulls = [r for r in rows if r.get("is_null")]
    aucs = [r["gridness"]["auc"] for r in rows if r.get("gridness") and np.isfinite(r["gridness"]["auc"])]
    dec = [r["decoding"] for r in rows if r.get("decoding")]
    return {
        "n": len(rows),
        "confusion": confusion_matrix(rows),
        "percent_correct": 100.0 * sum(r["correct"] for r in rows) / len(rows) if rows else None,
        "null_false_positive_percent": (
            100.0 * sum(r["verdict"] != "none" for r in nulls) / len(nulls) if nulls else None
        ),
        "tori_from_fewer_than_20_cells": sum(bool(r.get("torus_from_few_cells")) for r in rows),
        "percent_correct_by_family": {
            fam: 100.0 * float(np.mean([r["correct"] for r in rows if r["family"] == fam]))
            for fam in dict.fromkeys(r["family"] for r in rows)
        },
        "decoding_by_family": decoding_by_family(rows),
        "median_circular_correlation": _median([d["circular_correlation"] for d in dec]),
        "median_error_deg": _median([d["median_error_deg"] for d in dec]),
        "gridness_auc": {"n": len(aucs), "median": _median(aucs), "worst": min(aucs) if aucs else None},
    }


def target_checks(summary: dict) -> dict[str, bool | None]:
    """Each target of TARGETS met (True), missed (False) or not measurable (None)."""

    def check(value: float | None, ok: Callable[[float], bool]) -> bool | None:
        return None if value is None else bool(ok(value))

    return {
        "percent_correct": check(summary["percent_correct"], lambda v: v >= TARGETS["percent_correct"]),
        "null_false_positive_percent": check(
            summary["null_false_positive_percent"], lambda v: v <= TARGETS["null_false_positive_percent"]
        ),
        "tori_from_fewer_than_20_cells": summary["tori_from_fewer_than_20_cells"] == 0,
        "circular_correlation": check(
            summary["median_circular_correlation"], lambda v: v >= TARGETS["circular_correlation"]
        ),
        "median_error_deg": check(summary["median_error_deg"], lambda v: v <= TARGETS["median_error_deg"]),
    }
