"""Grid scores and modules against known answers, on realistic sessions (real rat paths from RatInABox).

Cases (each over several seeds):
  mec65      65 cells in a 3.3 m box centred on 0 (−165…+165 cm; Tanni et al. 2022 path, 7,323 s): 25
             grid cells in 3 modules (100, 140, 200 cm; 9 + 8 + 8 cells) and 40 non-grid cells (14
             place-like, 14 spatially irregular, 12 untuned).
  one_module 10 grid cells of one spacing (120 cm) and 15 non-grid cells in the same box.
  large      10 grid cells of spacing 215 cm (0.65 × the box side) and 10 non-grid cells in the same box.
  small_1m   a 1 m box centred on (−40, 25) cm (Sargolini et al. 2006 path, 600 s): 8 cells of 25 cm and 8 of
             65 cm (0.65 × the side), 12 non-grid cells.

Printed per case and seed: ROC AUC of gridness (grid vs non-grid cells), median gridness of both, grid cells
passing their shuffle threshold and non-grid cells passing, spacing errors (median and 90th percentile of
|measured / true − 1| over the true grid cells with a spacing), orientation errors (deg, mod 60), the
field-size ratio (measured / expected half-height radius of the autocorrelogram's central peak) and the
number of modules found (truth in brackets).

Run: ``.venv/bin/python benchmarks/gridscore_validity.py [--seeds 3] [--shuffles 100]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from gridscore_sessions import Module, Session, angle_error_mod60, auc, make_session  # noqa: E402

from core.views.gridscore import GridScoreConfig, compute_grid_scores  # noqa: E402

CASES = {
    "mec65": dict(
        modules=[Module(100.0, 7.0, 9), Module(140.0, 22.0, 8), Module(200.0, 41.0, 8)],
        n_place=14,
        n_irregular=14,
        n_untuned=12,
    ),
    "one_module": dict(modules=[Module(120.0, 13.0, 10)], n_place=5, n_irregular=5, n_untuned=5),
    "large": dict(modules=[Module(215.0, 28.0, 10)], n_place=4, n_irregular=3, n_untuned=3),
    "small_1m": dict(
        modules=[Module(25.0, 10.0, 8), Module(65.0, 35.0, 8)],
        n_place=4,
        n_irregular=4,
        n_untuned=4,
        dataset="sargolini",
        box_cm=100.0,
        centre_cm=(-40.0, 25.0),
        dt_s=0.02,
    ),
}


def session(case: str, seed: int) -> Session:
    """The case's session for ``seed`` (RatInABox's import messages silenced)."""
    kwargs = {"dt_s": 0.04, **CASES[case]}
    with contextlib.redirect_stdout(io.StringIO()):
        return make_session(seed=seed, **kwargs)


def expected_field_radius(spacing_cm: np.ndarray, smoothing_cm: float) -> np.ndarray:
    """Half-height radius (cm) of the autocorrelogram's central peak for Gaussian fields of s.d.
    0.13 × spacing smoothed by ``smoothing_cm``: the autocorrelation of a Gaussian of variance v has
    variance 2v, and its half height lies at √(2 ln 2) s.d."""
    var = (0.13 * spacing_cm) ** 2 + smoothing_cm**2
    return np.sqrt(2 * var) * np.sqrt(2 * np.log(2))


def evaluate(s: Session, n_shuffles: int, seed: int) -> dict:
    """Scores of one session against its truth."""
    t0 = time.perf_counter()
    sc = compute_grid_scores(s.rate_matrix, None, GridScoreConfig(n_shuffles=n_shuffles, seed=seed))
    wall = time.perf_counter() - t0
    g, grid = sc.gridness, s.is_grid
    err = np.abs(sc.spacing_cm[grid] / s.spacing_cm[grid] - 1)
    ori = angle_error_mod60(sc.orientation_deg[grid], s.orientation_deg[grid])
    fin = np.isfinite(err)
    field = sc.field_size_cm[grid] / expected_field_radius(
        s.spacing_cm[grid], sc.rate_maps.config.smoothing_sigma_cm
    )
    found = sc.module[sc.is_grid]
    return {
        "auc": auc(g[grid], g[~grid]),
        "med_grid": float(np.nanmedian(g[grid])),
        "med_other": float(np.nanmedian(g[~grid])),
        "hits": int(sc.is_grid[grid].sum()),
        "n_grid": int(grid.sum()),
        "false": int(sc.is_grid[~grid].sum()),
        "n_other": int((~grid).sum()),
        "sp_med": float(np.median(err[fin])) if fin.any() else np.nan,
        "sp_p90": float(np.percentile(err[fin], 90)) if fin.any() else np.nan,
        "sp_within15": float(np.mean(err < 0.15)),
        "or_med": float(np.median(ori[fin])) if fin.any() else np.nan,
        "or_p90": float(np.percentile(ori[fin], 90)) if fin.any() else np.nan,
        "field": float(np.nanmedian(field)),
        "modules": len(set(found[found >= 0].tolist())),
        "true_modules": len(set(s.module[grid].tolist())),
        "bin_cm": sc.rate_maps.bin_size_cm,
        "wall_s": wall,
    }


def line(case: str, seed: int, r: dict) -> str:
    return (
        f"{case:<10} seed {seed}  AUC {r['auc']:.3f}  gridness {r['med_grid']:.2f} vs {r['med_other']:.2f}  "
        f"grid {r['hits']}/{r['n_grid']}  false {r['false']}/{r['n_other']}  "
        f"spacing err {100 * r['sp_med']:.1f} % (p90 {100 * r['sp_p90']:.1f} %, ≤15 %: "
        f"{100 * r['sp_within15']:.0f} %)  orient err {r['or_med']:.1f}° (p90 {r['or_p90']:.1f}°)  "
        f"field {r['field']:.2f}  modules {r['modules']} [{r['true_modules']}]  "
        f"bin {r['bin_cm']:.1f} cm  {r['wall_s']:.1f} s"
    )


def main() -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--shuffles", type=int, default=100)
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args()
    for case in args.cases.split(","):
        rows = []
        for seed in range(args.seeds):
            r = evaluate(session(case, seed), args.shuffles, seed)
            rows.append(r)
            print(line(case, seed, r), flush=True)
        aucs = [r["auc"] for r in rows]
        mods = [r["modules"] for r in rows]
        print(
            f"{case:<10} all     AUC min {min(aucs):.3f} mean {np.mean(aucs):.3f}  "
            f"spacing err median {100 * np.median([r['sp_med'] for r in rows]):.1f} %  "
            f"modules {mods} (truth {rows[0]['true_modules']})\n",
            flush=True,
        )


if __name__ == "__main__":
    main()
