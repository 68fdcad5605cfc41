"""Validity benchmark: our pipeline's verdicts on realistic recordings with known answers (core.validation).

Every recording of the suite (16 families: head-direction ensembles with uneven rates, count-binned spikes,
sample-and-hold tracking, gaps in ``t``, sleep without behaviour, grid modules in offset arenas, mixed and
few-cell modules, place cells, circular-shift and rate-matched Poisson nulls) is built from a real rat
trajectory (RatInABox), analysed with ``run_analysis(recording, AnalysisConfig.from_preset("auto"))`` and
scored: confusion matrix, percentage correct, false positives on the null controls, tori claimed from fewer
than 20 cells, decoding agreement with the true angle for rings, and gridness ROC AUC for labelled grid
populations. Targets: ≥ 95 % correct, ≤ 5 % false positives on nulls, no torus from < 20 cells, decoding
circular correlation ≥ 0.8 and median error ≤ 25°.

``--reference`` also runs the ASA of the ``canns`` package (1.5.x, in its own environment, never the
project's) on the same recordings, one child process at a time (``_reference_runner.py --part tda``: canns'
defaults, maxdim 1). canns gives persistence diagrams, not a verdict; its verdict here is read from its H1
diagram with the same gap reading as ``asa_vs_canns.py`` (1 long bar: ring, 2: torus, otherwise none). A
recording canns fails on (no x/y, too few units, …) counts as a failure under its error class.

Usage (from the repository root)::

    .venv/bin/python benchmarks/validity.py [--quick] [--jobs N] [--n-per-case K] [--seed S]
        [--families hd_awake,grid_module] [--json OUT.json]
        [--reference] [--reference-python /work/bench-venv/bin/python] [--reference-timeout 900]

Create the reference environment once (outside the repository)::

    python3.11 -m venv /work/bench-venv && /work/bench-venv/bin/pip install "canns==1.5.*"
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from asa_vs_canns import (  # noqa: E402  (benchmarks is not a package)
    DEFAULT_REFERENCE_PYTHON,
    INSTALL_HINT,
    REFERENCE_RUNNER,
    h1_lifetimes,
    long_bars,
    reference_available,
    run_child,
)

from core.validation.suite import (  # noqa: E402
    TARGETS,
    VERDICTS,
    Case,
    build_suite,
    confusion_matrix,
    evaluate,
    summarise,
    target_checks,
)

QUICK_N_PER_CASE = 1
DEFAULT_N_PER_CASE = 8
CORNER = "truth \\ verdict"


# --------------------------------------------------------------------------------------------- our side


def _case_row(case: Case) -> dict:
    return {
        "name": case.name,
        "family": case.family,
        "truth": case.truth,
        "is_null": case.is_null,
        "seed": case.seed,
        "generator": case.generator,
        "kwargs": case.kwargs,
        "transforms": [list(t) for t in case.transforms],
    }


def analyse_case(case: Case) -> dict:
    """Build one case, run our pipeline ("auto" preset) on it and score it; never raises."""
    row = _case_row(case)
    try:
        from core.pipeline import AnalysisConfig, run_analysis

        began = time.perf_counter()
        recording = case.build()
        row["build_s"] = time.perf_counter() - began
        row["recording"] = recording.describe()
        began = time.perf_counter()
        result = run_analysis(recording, AnalysisConfig.from_preset("auto"))
        row["analysis_s"] = time.perf_counter() - began
        row.update(evaluate(recording, case.truth, result))
        row["preset"] = getattr(result.config, "preset", "?")
        row["significant"] = {k: int(v) for k, v in dict(result.significant).items()}
        row["evidence"] = str(getattr(result.significance, "evidence", ""))[:300]
        row["gap_p_values"] = [
            [g.dim, g.k, float(g.p_value)] for g in getattr(result.significance, "gaps", [])
        ]  # unadjusted, for the calibration on the null controls
        decoding = result.decoding
        row["decoding_metrics"] = _plain(getattr(decoding, "metrics", {})) if decoding is not None else None
    except Exception as exc:  # one failure must not stop the suite
        row.update(verdict="error", correct=False, error=f"{type(exc).__name__}: {exc}")
        row["traceback"] = traceback.format_exc()[-2000:]
        row.setdefault("n_units", None)
    return row


def _plain(value):
    """JSON-safe copy (numbers, strings, lists, dicts) of a metrics dict; arrays become lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    return value if isinstance(value, int | float | str | bool | type(None)) else repr(value)


def print_calibration(rows: list[dict]) -> None:
    """How often the gap test's unadjusted p-values fall below α on the null controls (calibrated: ≈ α)."""
    null_p = [p for r in rows if r.get("is_null") for (dim, _k, p) in r.get("gap_p_values", []) if dim == 1]
    if not null_p:
        return
    p = sorted(null_p)
    parts = [f"P(p < {a:g}) = {sum(v < a for v in p) / len(p):.3f}" for a in (0.01, 0.05, 0.1)]
    print(f"\n== Calibration: {len(p)} unadjusted H1 gap p-values on the null controls ==")
    print("   " + ", ".join(parts) + "   (a calibrated test gives ≈ α; below α is conservative)")


def run_ours(cases: list[Case], jobs: int) -> list[dict]:
    """Every case through our pipeline: in this process (``jobs`` = 1) or a pool of ``jobs`` processes."""
    rows: list[dict] = []
    if jobs <= 1:
        for k, case in enumerate(cases, 1):
            rows.append(analyse_case(case))
            _progress(k, len(cases), rows[-1])
        return rows
    # no max_tasks_per_child: on Python 3.11 the pool hangs when it replaces its workers
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(analyse_case, case) for case in cases]
        for k, fut in enumerate(as_completed(futures), 1):
            rows.append(fut.result())
            _progress(k, len(cases), rows[-1])
    order = {c.name: i for i, c in enumerate(cases)}
    return sorted(rows, key=lambda r: order[r["name"]])


def _progress(k: int, n: int, row: dict) -> None:
    mark = "ok " if row.get("correct") else "BAD"
    extra = f"  {row['error']}" if "error" in row else ""
    secs = row.get("analysis_s")
    took = f"{secs:6.1f} s" if secs is not None else "     — "
    print(
        f"[{k:3d}/{n}] {mark} {row['name']:24s} truth {row['truth']:5s} verdict {row['verdict']:5s} "
        f"{took}{extra}",
        flush=True,
    )


# --------------------------------------------------------------------------------------------- reference


def reference_verdict(record: dict) -> tuple[str, int]:
    """canns' verdict read from its H1 diagram: (ring | torus | none, number of long bars)."""
    n, _ = long_bars(h1_lifetimes(record))
    return {1: "ring", 2: "torus"}.get(n, "none"), n


def run_reference_case(case: Case, python: str, timeout_s: float, folder: Path) -> dict:
    """canns' ASA (defaults, maxdim 1, via ``_reference_runner.py --part tda``) on one case."""
    from core.io import save_recording_npz

    row = {"name": case.name, "family": case.family, "truth": case.truth, "is_null": case.is_null}
    recording = case.build()
    row["n_units"] = recording.n_units
    path = save_recording_npz(recording, folder / f"{case.name.replace('/', '_')}.npz")
    try:
        record = run_child(
            [python, str(REFERENCE_RUNNER), str(path), "1", "--part", "tda"], timeout_s, "canns"
        )
    finally:
        path.unlink(missing_ok=True)
    row["wall_s"] = record.get("wall_s")
    if record.get("ok"):
        row["verdict"], row["long_h1_bars"] = reference_verdict(record)
    else:
        error = str(record.get("error", "unknown"))
        row.update(verdict="error", error=error, error_class=error.split(":")[0].split()[0])
    row["correct"] = row["verdict"] == case.truth
    row["torus_from_few_cells"] = row["verdict"] == "torus" and recording.n_units < 20
    return row


def run_reference(cases: list[Case], python: str, timeout_s: float) -> list[dict] | str:
    """canns on every case, one child process at a time; a string when the reference cannot run."""
    why = reference_available(python)
    if why is not None:
        return f"reference skipped: {why}\ncreate it with: {INSTALL_HINT}"
    rows = []
    with tempfile.TemporaryDirectory(prefix="validity_ref_") as tmp:
        for k, case in enumerate(cases, 1):
            rows.append(run_reference_case(case, python, timeout_s, Path(tmp)))
            r = rows[-1]
            extra = f"  {r['error'][:120]}" if "error" in r else ""
            print(f"[canns {k:3d}/{len(cases)}] {case.name:24s} verdict {r['verdict']}{extra}", flush=True)
    return rows


# --------------------------------------------------------------------------------------------- report


def fmt(v, spec: str = ".2f", none: str = "—") -> str:
    return none if v is None else format(v, spec)


def confusion_lines(matrix: dict[str, dict[str, int]]) -> list[str]:
    cols = (*VERDICTS, "other")
    lines = [f"{CORNER:16s}" + "".join(f"{c:>7s}" for c in cols)]
    for truth in VERDICTS:
        lines.append(f"{truth:16s}" + "".join(f"{matrix[truth][c]:7d}" for c in cols))
    return lines


def print_report(rows: list[dict], summary: dict, ref_rows: list[dict] | str | None) -> None:
    print("\n== Per family ==")
    print(
        f"{'family':22s} {'truth':6s} {'n':>3s} {'correct':>8s}  verdicts (ring/torus/none/other)  analysis s"
    )
    for fam, pct in summary["percent_correct_by_family"].items():
        fr = [r for r in rows if r["family"] == fam]
        m = confusion_matrix(fr)[fr[0]["truth"]]
        secs = [r["analysis_s"] for r in fr if r.get("analysis_s") is not None]
        med = fmt(sorted(secs)[len(secs) // 2] if secs else None, ".1f")
        counts = "/".join(str(m[c]) for c in (*VERDICTS, "other"))
        print(f"{fam:22s} {fr[0]['truth']:6s} {len(fr):3d} {pct:7.0f} %  {counts:32s}  {med:>9s}")

    print("\n== Confusion matrix (ours) ==")
    ours = confusion_lines(summary["confusion"])
    if isinstance(ref_rows, list) and ref_rows:
        ref = confusion_lines(confusion_matrix(ref_rows))
        print(f"{'ours':56s}canns (reference)")
        for a, b in zip(ours, ref, strict=True):
            print(f"{a:56s}{b}")
    else:
        print("\n".join(ours))

    checks = target_checks(summary)

    def ok(key: str) -> str:
        return {True: "met", False: "MISSED", None: "n/a"}[checks[key]]

    cc, err = summary["median_circular_correlation"], summary["median_error_deg"]
    targets = [
        ("correct verdicts", f"{fmt(summary['percent_correct'], '.1f')} %", "≥ 95 %", "percent_correct"),
        (
            "false positives on nulls",
            f"{fmt(summary['null_false_positive_percent'], '.1f')} %",
            "≤ 5 %",
            "null_false_positive_percent",
        ),
        (
            "tori from < 20 cells",
            str(summary["tori_from_fewer_than_20_cells"]),
            "0",
            "tori_from_fewer_than_20_cells",
        ),
        ("decoding, median circ. corr.", fmt(cc), "≥ 0.8", "circular_correlation"),
        ("decoding, median error", f"{fmt(err, '.1f')}°", "≤ 25°", "median_error_deg"),
    ]
    print("\n== Targets ==")
    for label, value, target, key in targets:
        print(f"{label:30s} {value:>9s}  ({target})  {ok(key)}")

    print_calibration(rows)

    print("\n== Decoding against the true angle (ring cases) ==")
    print(
        f"{'family':22s} {'decoded':>8s} {'median cc':>10s} {'worst cc':>9s} {'median err°':>12s} "
        f"{'worst err°':>11s}"
    )
    for fam, d in summary["decoding_by_family"].items():
        print(
            f"{fam:22s} {d['n_decoded']:>3d}/{d['n']:<4d} {fmt(d['median_cc']):>10s} "
            f"{fmt(d['worst_cc']):>9s} {fmt(d['median_error_deg'], '.1f'):>12s} "
            f"{fmt(d['worst_error_deg'], '.1f'):>11s}"
        )

    print("\n== Gridness ROC AUC (labelled grid vs other units) ==")
    for r in rows:
        g = r.get("gridness")
        if g:
            print(
                f"{r['name']:24s} AUC {fmt(g['auc'])}  ({g['n_grid']} grid, {g['n_other']} other; "
                f"median gridness {fmt(g['median_gridness_grid'])} vs {fmt(g['median_gridness_other'])})"
            )
    a = summary["gridness_auc"]
    print(f"{'all':24s} median AUC {fmt(a['median'])}, worst {fmt(a['worst'])} over {a['n']} recordings")

    errors = [r for r in rows if r["verdict"] == "error"]
    if errors:
        print(f"\n{len(errors)} of our analyses failed:")
        for r in errors:
            print(f"  {r['name']}: {r['error'][:160]}")
    if isinstance(ref_rows, str):
        print("\n" + ref_rows)
    elif ref_rows:
        print_reference(ref_rows)


def print_reference(ref_rows: list[dict]) -> None:
    ref_sum = summarise(ref_rows)
    print("\n== Reference (canns, H1 gap reading) ==")
    print(f"correct verdicts: {fmt(ref_sum['percent_correct'], '.1f')} %")
    print(f"false positives on nulls: {fmt(ref_sum['null_false_positive_percent'], '.1f')} %")
    print(f"tori from < 20 cells: {ref_sum['tori_from_fewer_than_20_cells']}")
    by_class: dict[str, list[str]] = {}
    for r in ref_rows:
        if r["verdict"] == "error":
            by_class.setdefault(r["error_class"], []).append(r["name"])
    for cls, names in by_class.items():
        print(f"failures, {cls}: {len(names)} ({', '.join(names[:6])}{' …' if len(names) > 6 else ''})")
    walls = [r["wall_s"] for r in ref_rows if r.get("wall_s")]
    if walls:
        print(
            f"canns wall per recording: median {sorted(walls)[len(walls) // 2]:.1f} s, "
            f"total {sum(walls):.0f} s"
        )


# --------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Validity of ring/torus verdicts on realistic recordings")
    p.add_argument("--quick", action="store_true", help=f"{QUICK_N_PER_CASE} recording per family")
    p.add_argument(
        "--n-per-case", type=int, default=None, help=f"recordings per family ({DEFAULT_N_PER_CASE})"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=1, help="processes for our analyses")
    p.add_argument("--families", default="", help="comma-separated subset of families")
    p.add_argument("--json", default="", help="per-recording results (default: a file in the temp folder)")
    p.add_argument("--reference", action="store_true", help="also run canns' ASA on the same recordings")
    p.add_argument("--reference-python", default=DEFAULT_REFERENCE_PYTHON)
    p.add_argument("--reference-timeout", type=float, default=900.0, help="s per reference recording")
    args = p.parse_args(argv)

    n_per_case = args.n_per_case or (QUICK_N_PER_CASE if args.quick else DEFAULT_N_PER_CASE)
    families = [f for f in args.families.split(",") if f] or None
    cases = build_suite(n_per_case, args.seed, families)
    print(
        f"validation suite: {len(cases)} recordings ({n_per_case} per family), seed {args.seed}, preset auto"
    )
    began = time.perf_counter()
    rows = run_ours(cases, args.jobs)
    wall = time.perf_counter() - began
    summary = summarise(rows)
    ref_rows = run_reference(cases, args.reference_python, args.reference_timeout) if args.reference else None
    print_report(rows, summary, ref_rows)
    print(f"\nour side: {wall:.0f} s wall for {len(rows)} recordings with {args.jobs} process(es)")

    out = Path(args.json) if args.json else Path(tempfile.gettempdir()) / "validity_results.json"
    payload = {
        "n_per_case": n_per_case,
        "seed": args.seed,
        "jobs": args.jobs,
        "wall_s": wall,
        "targets": TARGETS,
        "summary": summary,
        "target_checks": target_checks(summary),
        "rows": rows,
        "reference": ref_rows if isinstance(ref_rows, list) else None,
        "reference_summary": summarise(ref_rows) if isinstance(ref_rows, list) and ref_rows else None,
        "reference_note": ref_rows if isinstance(ref_rows, str) else None,
    }
    out.write_text(json.dumps(payload, indent=1, default=str))
    print(f"per-recording results: {out}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.exit(main())
